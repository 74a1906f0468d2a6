/* Avro schema compatibility: whether a reader schema can decode everything a writer schema
 * produces, by the resolution rules of the Avro specification as Java's SchemaCompatibility
 * applies them (the check Confluent's registry runs for BACKWARD, FORWARD and FULL). */
#include <stdio.h>

#include "api/api_int.h"

#define COMPAT_MAX_DEPTH 128

typedef struct {
    const api_avro_node_t *reader, *writer;
} compat_pair_t;

typedef struct {
    char *msg;
    size_t msglen;
    char path[512];
    size_t pathlen;
    compat_pair_t stack[COMPAT_MAX_DEPTH]; /* pairs being checked: a repeat is a recursion */
    int depth;
} compat_t;

static bool compat_fail(compat_t *c, const char *type, const char *fmt, const char *a, const char *b) {
    if (c->msg && c->msglen) {
        char detail[384];
        snprintf(detail, sizeof detail, fmt, a ? a : "", b ? b : "");
        snprintf(c->msg, c->msglen, "%s at %s: %s", type, c->pathlen ? c->path : "/", detail);
    }
    return false;
}

static size_t compat_push(compat_t *c, const char *seg) {
    size_t old = c->pathlen, n = strlen(seg);
    if (old + n + 2 < sizeof c->path) {
        c->path[c->pathlen++] = '/';
        memcpy(c->path + c->pathlen, seg, n + 1);
        c->pathlen += n;
    }
    return old;
}

static void compat_pop(compat_t *c, size_t old) {
    c->pathlen = old;
    c->path[old] = 0;
}

/* Java's schemaNameEquals: same unqualified name, or a reader alias naming the writer. */
static bool compat_names_match(const api_avro_node_t *r, const api_avro_node_t *w) {
    if (!strcmp(r->name, w->name)) return true;
    for (uint32_t i = 0; i < r->naliases; i++)
        if (!strcmp(r->aliases[i], w->fullname)) return true;
    return false;
}

static bool compat_check(compat_t *c, const api_avro_node_t *r, const api_avro_node_t *w);

static const api_avro_field_t *compat_writer_field(const api_avro_node_t *w, const api_avro_field_t *rf) {
    for (uint32_t i = 0; i < w->nfields; i++)
        if (!strcmp(w->fields[i].name, rf->name)) return &w->fields[i];
    for (uint32_t a = 0; a < rf->naliases; a++)
        for (uint32_t i = 0; i < w->nfields; i++)
            if (!strcmp(w->fields[i].name, rf->aliases[a])) return &w->fields[i];
    return NULL;
}

static bool compat_same_type(compat_t *c, const api_avro_node_t *r, const api_avro_node_t *w) {
    char seg[32];
    size_t old;
    switch (r->type) {
    case API_AVRO_NULL:
    case API_AVRO_BOOLEAN:
    case API_AVRO_INT:
    case API_AVRO_LONG:
    case API_AVRO_FLOAT:
    case API_AVRO_DOUBLE:
    case API_AVRO_BYTES:
    case API_AVRO_STRING: return true;
    case API_AVRO_ARRAY:
    case API_AVRO_MAP: {
        old = compat_push(c, r->type == API_AVRO_ARRAY ? "items" : "values");
        bool ok = compat_check(c, r->items, w->items);
        if (ok) compat_pop(c, old);
        return ok;
    }
    case API_AVRO_FIXED:
        if (!compat_names_match(r, w)) return compat_fail(c, "NAME_MISMATCH", "expected: %s, found: %s", w->fullname, r->fullname);
        if (r->size != w->size) {
            char a[24], b[24];
            snprintf(a, sizeof a, "%lld", (long long)w->size);
            snprintf(b, sizeof b, "%lld", (long long)r->size);
            return compat_fail(c, "FIXED_SIZE_MISMATCH", "expected: %s, found: %s", a, b);
        }
        return true;
    case API_AVRO_ENUM:
        if (!compat_names_match(r, w)) return compat_fail(c, "NAME_MISMATCH", "expected: %s, found: %s", w->fullname, r->fullname);
        if (r->enum_default) return true; /* unknown symbols read as the default */
        for (uint32_t i = 0; i < w->nsymbols; i++) {
            bool found = false;
            for (uint32_t j = 0; j < r->nsymbols && !found; j++) found = !strcmp(r->symbols[j], w->symbols[i]);
            if (!found) {
                old = compat_push(c, "symbols");
                return compat_fail(c, "MISSING_ENUM_SYMBOLS", "the reader's enum %s lacks the symbol %s", r->fullname, w->symbols[i]);
            }
        }
        return true;
    case API_AVRO_RECORD:
        if (!compat_names_match(r, w)) return compat_fail(c, "NAME_MISMATCH", "expected: %s, found: %s", w->fullname, r->fullname);
        for (uint32_t i = 0; i < r->nfields; i++) {
            const api_avro_field_t *rf = &r->fields[i];
            snprintf(seg, sizeof seg, "fields/%u", i);
            old = compat_push(c, seg);
            const api_avro_field_t *wf = compat_writer_field(w, rf);
            if (!wf) {
                if (!rf->default_json)
                    return compat_fail(c, "READER_FIELD_MISSING_DEFAULT_VALUE",
                                       "field '%s' has no default value and is missing in the writer's schema%s", rf->name, NULL);
            } else {
                compat_push(c, "type");
                if (!compat_check(c, rf->type, wf->type)) return false;
            }
            compat_pop(c, old);
        }
        return true;
    case API_AVRO_UNION:
        /* Every branch the writer may use must be readable. */
        for (uint32_t i = 0; i < w->nbranches; i++) {
            snprintf(seg, sizeof seg, "%u", i);
            old = compat_push(c, seg);
            if (!compat_check(c, r, w->branches[i])) return false;
            compat_pop(c, old);
        }
        return true;
    }
    return false;
}

/* Promotions the specification allows: int -> long, float, double; long -> float, double;
 * float -> double; string <-> bytes. */
static bool compat_promotes(api_avro_type_t reader, api_avro_type_t writer) {
    switch (reader) {
    case API_AVRO_LONG: return writer == API_AVRO_INT;
    case API_AVRO_FLOAT: return writer == API_AVRO_INT || writer == API_AVRO_LONG;
    case API_AVRO_DOUBLE: return writer == API_AVRO_INT || writer == API_AVRO_LONG || writer == API_AVRO_FLOAT;
    case API_AVRO_BYTES: return writer == API_AVRO_STRING;
    case API_AVRO_STRING: return writer == API_AVRO_BYTES;
    default: return false;
    }
}

static bool compat_check(compat_t *c, const api_avro_node_t *r, const api_avro_node_t *w) {
    for (int i = 0; i < c->depth; i++)
        if (c->stack[i].reader == r && c->stack[i].writer == w) return true; /* recursion: assumed */
    if (c->depth == COMPAT_MAX_DEPTH) return compat_fail(c, "TYPE_MISMATCH", "schemas nested too deeply%s%s", NULL, NULL);
    c->stack[c->depth++] = (compat_pair_t){r, w};
    bool ok;
    if (r->type == w->type) {
        ok = compat_same_type(c, r, w);
    } else if (w->type == API_AVRO_UNION) {
        ok = true;
        for (uint32_t i = 0; i < w->nbranches && ok; i++) {
            char seg[16];
            snprintf(seg, sizeof seg, "%u", i);
            size_t old = compat_push(c, seg);
            ok = compat_check(c, r, w->branches[i]);
            if (ok) compat_pop(c, old);
        }
    } else if (r->type == API_AVRO_UNION) {
        ok = false;
        char saved[sizeof c->path];
        memcpy(saved, c->path, c->pathlen + 1);
        size_t saved_len = c->pathlen;
        for (uint32_t i = 0; i < r->nbranches && !ok; i++) {
            ok = compat_check(c, r->branches[i], w);
            memcpy(c->path, saved, saved_len + 1);
            c->pathlen = saved_len;
        }
        if (!ok)
            compat_fail(c, "MISSING_UNION_BRANCH", "the reader's union has no branch that reads the writer's %s%s",
                        w->fullname ? w->fullname : api_avro_type_name(w->type), NULL);
    } else if (compat_promotes(r->type, w->type)) {
        ok = true;
    } else {
        ok = compat_fail(c, "TYPE_MISMATCH", "the reader's %s cannot read the writer's %s",
                         r->fullname ? r->fullname : api_avro_type_name(r->type),
                         w->fullname ? w->fullname : api_avro_type_name(w->type));
    }
    c->depth--;
    return ok;
}

bool api_avro_compatible(const api_avro_node_t *reader, const api_avro_node_t *writer, char *msg, size_t msglen) {
    compat_t *c = eddy_calloc(1, sizeof *c);
    if (!c) {
        if (msg && msglen) snprintf(msg, msglen, "out of memory");
        return false;
    }
    c->msg = msg;
    c->msglen = msglen;
    bool ok = compat_check(c, reader, writer);
    eddy_free(c);
    return ok;
}
