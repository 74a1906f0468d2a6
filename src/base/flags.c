/* Command-line flags: declared once as a table, parsed and printed from it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"

int flag_list_add(flag_list_t *list, const char *value) {
    if (list->count == list->cap) {
        int cap = list->cap ? list->cap * 2 : 4;
        const char **items = eddy_realloc(list->items, (size_t)cap * sizeof *items);
        if (!items) return EDDY_ERR_NOMEM;
        list->items = items;
        list->cap = cap;
    }
    list->items[list->count++] = value;
    return EDDY_OK;
}

void flag_list_free(flag_list_t *list) {
    eddy_free(list->items);
    memset(list, 0, sizeof *list);
}

static const flag_t *flag_find(const flag_t *flags, size_t n, const char *name, size_t len,
                               char short_name) {
    for (size_t i = 0; i < n; i++) {
        if (short_name ? flags[i].short_name == short_name
                       : strlen(flags[i].name) == len && memcmp(flags[i].name, name, len) == 0)
            return &flags[i];
    }
    return NULL;
}

static int flag_set(const flag_t *f, const char *value, char *errstr, size_t errlen) {
    switch (f->kind) {
    case FLAG_BOOL: {
        bool *b = f->target;
        if (!value || strcmp(value, "true") == 0 || strcmp(value, "1") == 0) *b = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) *b = false;
        else return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "--%s takes true or false, not '%s'", f->name, value);
        return EDDY_OK;
    }
    case FLAG_STRING: *(const char **)f->target = value; return EDDY_OK;
    case FLAG_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "--%s needs a whole number, not '%s'", f->name, value);
        *(int64_t *)f->target = v;
        return EDDY_OK;
    }
    case FLAG_STRING_LIST:
        if (flag_list_add(f->target, value) != EDDY_OK)
            return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
        return EDDY_OK;
    }
    return EDDY_ERR_INVALID;
}

int flags_parse(const flag_t *flags, size_t nflags, int argc, char **argv, int *index,
                char *errstr, size_t errlen) {
    while (*index < argc) {
        const char *arg = argv[*index];
        if (arg[0] != '-' || arg[1] == 0) break;
        if (strcmp(arg, "--") == 0) {
            (*index)++;
            break;
        }
        const flag_t *f;
        const char *value = NULL;
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            f = flag_find(flags, nflags, name, len, 0);
            if (!f) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "unknown flag '--%.*s'", (int)len, name);
            if (eq) value = eq + 1;
        } else {
            if (arg[2] != 0) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "unknown flag '%s'", arg);
            f = flag_find(flags, nflags, NULL, 0, arg[1]);
            if (!f) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "unknown flag '%s'", arg);
        }
        (*index)++;
        if (!value && f->kind != FLAG_BOOL) {
            if (*index >= argc)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "flag '--%s' needs a value (%s)", f->name,
                                f->value_name ? f->value_name : "VALUE");
            value = argv[(*index)++];
        }
        int rc = flag_set(f, value, errstr, errlen);
        if (rc != EDDY_OK) return rc;
    }
    return EDDY_OK;
}

void flags_print_help(const flag_t *flags, size_t nflags, void *stream) {
    FILE *out = stream;
    for (size_t i = 0; i < nflags; i++) {
        char left[64];
        const flag_t *f = &flags[i];
        if (f->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", f->short_name, f->name, f->value_name ? " " : "",
                     f->value_name ? f->value_name : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", f->name, f->value_name ? " " : "",
                     f->value_name ? f->value_name : "");
        fprintf(out, "  %-30s %s\n", left, f->help);
    }
}

int base_parse_hostport(const char *s, char *host, size_t hostlen, int *port) {
    const char *colon;
    const char *h = s;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return EDDY_ERR_INVALID;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return EDDY_ERR_INVALID;
        hl = (size_t)(colon - s);
        if (memchr(s, ':', hl)) return EDDY_ERR_INVALID; /* bare IPv6 needs brackets */
    }
    if (hl == 0 || hl >= hostlen) return EDDY_ERR_INVALID;
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p < 0 || p > 65535) return EDDY_ERR_INVALID;
    memcpy(host, h, hl);
    host[hl] = 0;
    *port = (int)p;
    return EDDY_OK;
}
