/* CQL literals of any type: a small parser for whole literals ('text', 42, 0x0a, [1, 2],
 * {'k': 1}, (1, 'x'), {field: 1}, NULL, nested) typed by their receiver, and the printer of
 * values as CQL literals. Scalars go through the constant rules of value_text.c. */
#include <ctype.h>
#include <stdio.h>

#include "store/store_int.h"

typedef struct {
    const char *p, *end;
    char *errstr;
    size_t errlen;
    int depth;
} lp_t;

static void lp_ws(lp_t *lp) {
    while (lp->p < lp->end) {
        if (isspace((unsigned char)*lp->p)) lp->p++;
        else if (lp->end - lp->p >= 2 && lp->p[0] == '-' && lp->p[1] == '-') {
            while (lp->p < lp->end && *lp->p != '\n') lp->p++;
        } else break;
    }
}

static bool lp_is(lp_t *lp, char c) {
    lp_ws(lp);
    return lp->p < lp->end && *lp->p == c;
}

static bool lp_eat(lp_t *lp, char c) {
    if (!lp_is(lp, c)) return false;
    lp->p++;
    return true;
}

static int lp_fail(lp_t *lp, const char *what) {
    return eddy_err(lp->errstr, lp->errlen, EDDY_ERR_INVALID, "Invalid literal: %s at '%.*s'", what,
                    (int)EDDY_MIN(lp->end - lp->p, 20), lp->p);
}

static bool word_char(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == '+' || (unsigned char)c >= 0x80;
}

static bool is_uuid_text(const char *s, size_t n) {
    uint8_t u[16];
    return store_parse_uuid(s, n, u) == EDDY_OK;
}

static bool is_integer_text(const char *s, size_t n) {
    size_t i = (n && s[0] == '-') ? 1 : 0;
    if (i == n) return false;
    for (; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return true;
}

static bool is_float_text(const char *s, size_t n) {
    if ((n == 3 && !memcmp(s, "NaN", 3)) || (n == 8 && !memcmp(s, "Infinity", 8)) ||
        (n == 9 && !memcmp(s, "-Infinity", 9)))
        return true;
    size_t i = (n && s[0] == '-') ? 1 : 0;
    bool digits = false, dot = false, exp = false;
    for (; i < n; i++) {
        if (isdigit((unsigned char)s[i])) digits = true;
        else if (s[i] == '.' && !dot && !exp) dot = true;
        else if ((s[i] == 'e' || s[i] == 'E') && digits && !exp) {
            exp = true;
            if (i + 1 < n && (s[i + 1] == '+' || s[i + 1] == '-')) i++;
        } else return false;
    }
    return digits && (dot || exp);
}

static int parse_value(lp_t *lp, const store_type_t *t, wr_t *out, bool *is_null);

static int parse_string(lp_t *lp, wr_t *s) {
    if (lp->end - lp->p >= 2 && lp->p[0] == '$' && lp->p[1] == '$') {
        lp->p += 2;
        while (lp->p + 1 < lp->end && !(lp->p[0] == '$' && lp->p[1] == '$')) wr_u8(s, (uint8_t)*lp->p++);
        if (lp->p + 1 >= lp->end) return lp_fail(lp, "unterminated string");
        lp->p += 2;
        return EDDY_OK;
    }
    lp->p++; /* opening quote */
    for (;;) {
        if (lp->p >= lp->end) return lp_fail(lp, "unterminated string");
        if (*lp->p == '\'') {
            if (lp->p + 1 < lp->end && lp->p[1] == '\'') {
                wr_u8(s, '\'');
                lp->p += 2;
                continue;
            }
            lp->p++;
            return EDDY_OK;
        }
        wr_u8(s, (uint8_t)*lp->p++);
    }
}

static int parse_scalar(lp_t *lp, const store_type_t *t, wr_t *out) {
    lp_ws(lp);
    if (lp->p >= lp->end) return lp_fail(lp, "missing value");
    store_const_kind_t kind;
    wr_t text;
    wr_init(&text, 32);
    int rc;
    if (*lp->p == '\'' || (lp->end - lp->p >= 2 && lp->p[0] == '$' && lp->p[1] == '$')) {
        kind = STORE_CONST_STRING;
        if ((rc = parse_string(lp, &text))) goto out;
    } else {
        const char *st = lp->p;
        while (lp->p < lp->end && word_char(*lp->p)) lp->p++;
        size_t n = (size_t)(lp->p - st);
        if (n == 0) {
            rc = lp_fail(lp, "unexpected character");
            goto out;
        }
        wr_bytes(&text, st, n);
        if (n >= 2 && st[0] == '0' && (st[1] == 'x' || st[1] == 'X')) kind = STORE_CONST_HEX;
        else if ((n == 4 && !strncasecmp(st, "true", 4)) || (n == 5 && !strncasecmp(st, "false", 5))) kind = STORE_CONST_BOOLEAN;
        else if (is_uuid_text(st, n)) kind = STORE_CONST_UUID;
        else if (is_integer_text(st, n)) kind = STORE_CONST_INTEGER;
        else if (is_float_text(st, n)) kind = STORE_CONST_FLOAT;
        else kind = STORE_CONST_DURATION;
    }
    if (kind == STORE_CONST_BOOLEAN) {
        /* the constant's text is case-insensitive */
        for (size_t i = 0; i < text.len; i++) text.buf[i] = (uint8_t)tolower(text.buf[i]);
    }
    rc = store_value_from_constant(t, kind, text.buf ? (const char *)text.buf : "", text.len, "literal", out,
                                   lp->errstr, lp->errlen);
out:
    wr_free(&text);
    return rc;
}

/* Elements are parsed into a scratch writer, remembered as offsets, then built. */
static int parse_elements(lp_t *lp, const store_type_t *t, char close, bool map, wr_t *out) {
    wr_t scratch;
    wr_init(&scratch, 64);
    size_t cap = 16, n = 0;
    size_t *off = eddy_malloc(cap * sizeof *off * 2);
    int rc = EDDY_OK;
    if (!off) return EDDY_ERR_NOMEM;
    bool tuple = t->kind == STORE_T_TUPLE;
    if (!lp_eat(lp, close)) {
        for (;;) {
            const store_type_t *et = tuple ? (n < t->nsub ? t->sub[n] : NULL) : map ? t->sub[n % 2] : t->sub[0];
            if (!et) {
                rc = lp_fail(lp, "too many tuple elements");
                goto out;
            }
            if (n + 2 > cap) {
                cap *= 2;
                size_t *o2 = eddy_realloc(off, cap * sizeof *off * 2);
                if (!o2) {
                    rc = EDDY_ERR_NOMEM;
                    goto out;
                }
                off = o2;
            }
            bool is_null;
            size_t start = scratch.len;
            if ((rc = parse_value(lp, et, &scratch, &is_null))) goto out;
            off[2 * n] = is_null ? SIZE_MAX : start;
            off[2 * n + 1] = scratch.len - start;
            n++;
            if (map && n % 2 == 1) {
                if (!lp_eat(lp, ':')) {
                    rc = lp_fail(lp, "expected ':'");
                    goto out;
                }
                continue;
            }
            if (lp_eat(lp, ',')) continue;
            if (lp_eat(lp, close)) break;
            rc = lp_fail(lp, "expected ',' or closing bracket");
            goto out;
        }
    }
    {
        eddy_view_t *ev = eddy_malloc((n ? n : 1) * sizeof *ev);
        if (!ev) {
            rc = EDDY_ERR_NOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            ev[i] = off[2 * i] == SIZE_MAX ? eddy_view(NULL, 0) : eddy_view(scratch.buf + off[2 * i], off[2 * i + 1]);
        rc = store_value_build(t, ev, n, out, lp->errstr, lp->errlen);
        eddy_free(ev);
    }
out:
    eddy_free(off);
    wr_free(&scratch);
    return rc;
}

static int parse_udt(lp_t *lp, const store_type_t *t, wr_t *out) {
    eddy_view_t *vals = eddy_calloc(t->nsub ? t->nsub : 1, sizeof *vals);
    size_t *offs = eddy_malloc((t->nsub ? t->nsub : 1) * 2 * sizeof *offs);
    wr_t scratch;
    wr_init(&scratch, 64);
    int rc = EDDY_OK;
    if (!vals || !offs) {
        rc = EDDY_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < t->nsub; i++) offs[2 * i] = SIZE_MAX;
    if (!lp_eat(lp, '}')) {
        for (;;) {
            lp_ws(lp);
            char name[256];
            size_t nn = 0;
            if (lp->p < lp->end && *lp->p == '"') {
                lp->p++;
                while (lp->p < lp->end && *lp->p != '"' && nn + 1 < sizeof name) name[nn++] = *lp->p++;
                if (lp->p >= lp->end) {
                    rc = lp_fail(lp, "unterminated field name");
                    goto out;
                }
                lp->p++;
            } else {
                while (lp->p < lp->end && (isalnum((unsigned char)*lp->p) || *lp->p == '_') && nn + 1 < sizeof name)
                    name[nn++] = (char)tolower((unsigned char)*lp->p++);
            }
            name[nn] = 0;
            int f = -1;
            for (size_t i = 0; i < t->nsub; i++)
                if (!strcmp(t->field_names[i], name)) f = (int)i;
            if (f < 0) {
                rc = eddy_err(lp->errstr, lp->errlen, EDDY_ERR_INVALID, "Unknown field '%s' in value of user defined type %s",
                              name, t->name);
                goto out;
            }
            if (!lp_eat(lp, ':')) {
                rc = lp_fail(lp, "expected ':'");
                goto out;
            }
            bool is_null;
            size_t start = scratch.len;
            if ((rc = parse_value(lp, t->sub[f], &scratch, &is_null))) goto out;
            offs[2 * f] = is_null ? SIZE_MAX : start;
            offs[2 * f + 1] = scratch.len - start;
            if (lp_eat(lp, ',')) continue;
            if (lp_eat(lp, '}')) break;
            rc = lp_fail(lp, "expected ',' or '}'");
            goto out;
        }
    }
    for (size_t i = 0; i < t->nsub; i++)
        vals[i] = offs[2 * i] == SIZE_MAX ? eddy_view(NULL, 0) : eddy_view(scratch.buf + offs[2 * i], offs[2 * i + 1]);
    rc = store_value_build(t, vals, t->nsub, out, lp->errstr, lp->errlen);
out:
    eddy_free(vals);
    eddy_free(offs);
    wr_free(&scratch);
    return rc;
}

static int parse_value(lp_t *lp, const store_type_t *t, wr_t *out, bool *is_null) {
    *is_null = false;
    lp_ws(lp);
    if (lp->end - lp->p >= 4 && !strncasecmp(lp->p, "null", 4) && (lp->end - lp->p == 4 || !word_char(lp->p[4]))) {
        lp->p += 4;
        *is_null = true;
        return EDDY_OK;
    }
    if (++lp->depth > 64) return lp_fail(lp, "nested too deeply");
    int rc;
    switch (t->kind) {
    case STORE_T_LIST:
        rc = lp_eat(lp, '[') ? parse_elements(lp, t, ']', false, out) : lp_fail(lp, "expected '['");
        break;
    case STORE_T_SET:
        rc = lp_eat(lp, '{') ? parse_elements(lp, t, '}', false, out) : lp_fail(lp, "expected '{'");
        break;
    case STORE_T_MAP:
        rc = lp_eat(lp, '{') ? parse_elements(lp, t, '}', true, out) : lp_fail(lp, "expected '{'");
        break;
    case STORE_T_TUPLE:
        rc = lp_eat(lp, '(') ? parse_elements(lp, t, ')', false, out) : lp_fail(lp, "expected '('");
        break;
    case STORE_T_UDT: rc = lp_eat(lp, '{') ? parse_udt(lp, t, out) : lp_fail(lp, "expected '{'"); break;
    default: rc = parse_scalar(lp, t, out); break;
    }
    lp->depth--;
    return rc;
}

int store_value_parse_cql(const store_type_t *t, const char *text, size_t len, wr_t *out, bool *is_null,
                          char *errstr, size_t errlen) {
    lp_t lp = {text, text + len, errstr, errlen, 0};
    bool nul;
    size_t start = out->len;
    int rc = parse_value(&lp, t, out, &nul);
    if (rc == EDDY_OK) {
        lp_ws(&lp);
        if (lp.p != lp.end) rc = lp_fail(&lp, "unexpected text after the value");
    }
    if (rc) {
        out->len = start;
        return rc;
    }
    if (is_null) *is_null = nul;
    return wr_ok(out) ? EDDY_OK : out->err;
}

/* ---- printing ---- */

static void quote_cql(const uint8_t *p, size_t n, wr_t *w) {
    wr_u8(w, '\'');
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\'') wr_u8(w, '\'');
        wr_u8(w, p[i]);
    }
    wr_u8(w, '\'');
}

void store_value_format_cql(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w) {
    if (!p) {
        wr_str(w, "null");
        return;
    }
    switch (t->kind) {
    case STORE_T_ASCII:
    case STORE_T_TEXT: quote_cql(p, n, w); return;
    case STORE_T_BLOB: store_fmt_hex(p, n, w); return;
    case STORE_T_TIMESTAMP:
    case STORE_T_DATE:
    case STORE_T_TIME:
    case STORE_T_INET: {
        if (n == 0) {
            wr_str(w, "''");
            return;
        }
        wr_t tmp;
        wr_init(&tmp, 40);
        if (t->kind == STORE_T_TIMESTAMP) store_fmt_timestamp(ld_i64(p), true, &tmp);
        else store_value_format_text(t, p, n, &tmp);
        quote_cql(tmp.buf, tmp.len, w);
        wr_free(&tmp);
        return;
    }
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP: {
        bool map = t->kind == STORE_T_MAP;
        wr_u8(w, t->kind == STORE_T_LIST ? '[' : '{');
        store_coll_rd_t c;
        if (store_coll_open(&c, p, n, map ? 2 : 1) == EDDY_OK) {
            eddy_view_t e;
            for (size_t i = 0; store_coll_next(&c, &e) == 1; i++) {
                if (i) wr_str(w, map && i % 2 ? ": " : ", ");
                store_value_format_cql(map ? t->sub[i % 2] : t->sub[0], e.ptr, e.len, w);
            }
        }
        wr_u8(w, t->kind == STORE_T_LIST ? ']' : '}');
        return;
    }
    case STORE_T_TUPLE:
    case STORE_T_UDT: {
        eddy_view_t f[256];
        long nf = store_value_elements(t, p, n, f, EDDY_ARRAY_LEN(f));
        wr_u8(w, t->kind == STORE_T_TUPLE ? '(' : '{');
        for (long i = 0; i < nf && i < t->nsub && i < (long)EDDY_ARRAY_LEN(f); i++) {
            if (i) wr_str(w, ", ");
            if (t->kind == STORE_T_UDT) {
                store_ident_write(w, t->field_names[i], strlen(t->field_names[i]));
                wr_str(w, ": ");
            }
            store_value_format_cql(t->sub[i], f[i].ptr, f[i].len, w);
        }
        wr_u8(w, t->kind == STORE_T_TUPLE ? ')' : '}');
        return;
    }
    default:
        if (n == 0) {
            wr_str(w, "''");
            return;
        }
        store_value_format_text(t, p, n, w);
        return;
    }
}
