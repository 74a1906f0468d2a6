/* Typed values to and from JSON and text, and CAST between types. JSON input is read as
 * leniently as Cassandra's INSERT JSON reads it: numbers and booleans may arrive as strings,
 * timestamps as ISO-8601 strings or epoch milliseconds. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_val.h"

/* ---- small parsers -------------------------------------------------------------------------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses an integer in s[0..n) (surrounding spaces allowed). */
static int parse_i64(const char *s, size_t n, int64_t *out) {
    char buf[32];
    while (n && *s == ' ') s++, n--;
    while (n && s[n - 1] == ' ') n--;
    if (n == 0 || n >= sizeof buf) return EDDY_ERR_INVALID;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end) return EDDY_ERR_INVALID;
    *out = v;
    return EDDY_OK;
}

static int parse_f64(const char *s, size_t n, double *out) {
    char buf[64];
    while (n && *s == ' ') s++, n--;
    while (n && s[n - 1] == ' ') n--;
    if (n == 0 || n >= sizeof buf) return EDDY_ERR_INVALID;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end) return EDDY_ERR_INVALID;
    *out = v;
    return EDDY_OK;
}

static bool ieq(const char *s, size_t n, const char *lit) {
    if (strlen(lit) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return false;
    }
    return true;
}

static int parse_bool(const char *s, size_t n, bool *out) {
    if (ieq(s, n, "true")) { *out = true; return EDDY_OK; }
    if (ieq(s, n, "false")) { *out = false; return EDDY_OK; }
    return EDDY_ERR_INVALID;
}

static int parse_uuid(arena_t *a, const char *s, size_t n, engine_val_t *out) {
    if (n != 36) return EDDY_ERR_INVALID;
    uint8_t *u = arena_alloc(a, 16);
    if (!u) return EDDY_ERR_NOMEM;
    size_t j = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return EDDY_ERR_INVALID;
            continue;
        }
        int h = hexval(s[i]), l = i + 1 < 36 ? hexval(s[i + 1]) : -1;
        if (h < 0 || l < 0) return EDDY_ERR_INVALID;
        u[j++] = (uint8_t)(h << 4 | l);
        i++;
    }
    *out = (engine_val_t){.kind = ENGINE_UUID, .len = 16, .s = (const char *)u};
    return EDDY_OK;
}

static int parse_blob(arena_t *a, const char *s, size_t n, engine_val_t *out) {
    if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || n % 2) return EDDY_ERR_INVALID;
    size_t m = (n - 2) / 2;
    uint8_t *b = arena_alloc(a, m ? m : 1);
    if (!b) return EDDY_ERR_NOMEM;
    for (size_t i = 0; i < m; i++) {
        int h = hexval(s[2 + 2 * i]), l = hexval(s[3 + 2 * i]);
        if (h < 0 || l < 0) return EDDY_ERR_INVALID;
        b[i] = (uint8_t)(h << 4 | l);
    }
    *out = (engine_val_t){.kind = ENGINE_BLOB, .len = (uint32_t)m, .s = (const char *)b};
    return EDDY_OK;
}

static int parse_date(const char *s, size_t n, int64_t *days) {
    int64_t ms;
    if (time_parse_iso8601(s, n, &ms) != EDDY_OK) return EDDY_ERR_INVALID;
    *days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    return EDDY_OK;
}

static bool int_fits(int64_t v, uint8_t bits) {
    if (bits == 8) return v >= INT8_MIN && v <= INT8_MAX;
    if (bits == 16) return v >= INT16_MIN && v <= INT16_MAX;
    if (bits == 32) return v >= INT32_MIN && v <= INT32_MAX;
    return true;
}

/* A JSON string node's text: a view into the document, or unescaped into the arena. */
static int json_text(arena_t *a, const json_node_t *n, const char **s, size_t *len) {
    if (!n->has_escape) {
        *s = n->text;
        *len = n->len;
        return EDDY_OK;
    }
    char *buf = arena_alloc(a, n->len + 1);
    if (!buf) return EDDY_ERR_NOMEM;
    long m = json_string_unescape(n, buf);
    if (m < 0) return EDDY_ERR_INVALID;
    *s = buf;
    *len = (size_t)m;
    return EDDY_OK;
}

/* ---- from JSON ------------------------------------------------------------------------------ */

int engine_val_from_json(arena_t *a, const json_doc_t *doc, uint32_t node, engine_val_t *out) {
    const json_node_t *n = json_node(doc, node);
    switch (n->type) {
    case JSON_NULL: *out = engine_null(); return EDDY_OK;
    case JSON_TRUE: *out = engine_bool(true); return EDDY_OK;
    case JSON_FALSE: *out = engine_bool(false); return EDDY_OK;
    case JSON_NUMBER: {
        int64_t i;
        if (n->is_integer && json_number_i64(n, &i) == EDDY_OK) { *out = engine_int(i); return EDDY_OK; }
        double f;
        if (json_number_f64(n, &f) != EDDY_OK) return EDDY_ERR_INVALID;
        *out = engine_float(f);
        return EDDY_OK;
    }
    case JSON_STRING: {
        const char *s;
        size_t len;
        int rc = json_text(a, n, &s, &len);
        if (rc) return rc;
        *out = engine_text(s, len);
        return EDDY_OK;
    }
    case JSON_ARRAY: {
        engine_val_t *items = n->count ? arena_alloc(a, n->count * sizeof *items) : NULL;
        if (n->count && !items) return EDDY_ERR_NOMEM;
        uint32_t i = node + 1;
        for (uint32_t k = 0; k < n->count; k++) {
            int rc = engine_val_from_json(a, doc, i, &items[k]);
            if (rc) return rc;
            i = json_next(doc, i);
        }
        *out = (engine_val_t){.kind = ENGINE_LIST, .len = n->count, .items = items};
        return EDDY_OK;
    }
    case JSON_OBJECT: {
        json_ref_t *ref = arena_alloc(a, sizeof *ref);
        if (!ref) return EDDY_ERR_NOMEM;
        ref->doc = doc;
        ref->node = node;
        *out = (engine_val_t){.kind = ENGINE_JSON, .json = ref};
        return EDDY_OK;
    }
    }
    return EDDY_ERR_INVALID;
}

static int from_json_scalar(arena_t *a, const json_doc_t *doc, uint32_t node, uint8_t kind, uint8_t bits,
                            engine_val_t *out) {
    const json_node_t *n = json_node(doc, node);
    if (n->type == JSON_NULL) { *out = engine_null(); return EDDY_OK; }
    if (kind == ENGINE_ANY) return engine_val_from_json(a, doc, node, out);
    const char *s = NULL;
    size_t len = 0;
    if (n->type == JSON_STRING) {
        int rc = json_text(a, n, &s, &len);
        if (rc) return rc;
    }
    switch (kind) {
    case ENGINE_BOOL:
        if (n->type == JSON_TRUE || n->type == JSON_FALSE) { *out = engine_bool(n->type == JSON_TRUE); return EDDY_OK; }
        if (s) {
            bool b;
            if (parse_bool(s, len, &b) == EDDY_OK) { *out = engine_bool(b); return EDDY_OK; }
        }
        return EDDY_ERR_INVALID;
    case ENGINE_INT: {
        int64_t i;
        if (n->type == JSON_NUMBER) {
            if (!n->is_integer || json_number_i64(n, &i) != EDDY_OK) return EDDY_ERR_INVALID;
        } else if (!s || parse_i64(s, len, &i) != EDDY_OK) {
            return EDDY_ERR_INVALID;
        }
        if (!int_fits(i, bits)) return EDDY_ERR_RANGE;
        *out = engine_int(i);
        return EDDY_OK;
    }
    case ENGINE_FLOAT: {
        double f;
        if (n->type == JSON_NUMBER) {
            if (json_number_f64(n, &f) != EDDY_OK) return EDDY_ERR_INVALID;
        } else if (!s || parse_f64(s, len, &f) != EDDY_OK) {
            return EDDY_ERR_INVALID;
        }
        *out = engine_float(f);
        return EDDY_OK;
    }
    case ENGINE_TEXT:
        if (s) { *out = engine_text(s, len); return EDDY_OK; }
        /* Numbers and booleans read as their JSON text (a numeric http_status, say). */
        if (n->type == JSON_NUMBER) { *out = engine_text(n->text, n->len); return EDDY_OK; }
        if (n->type == JSON_TRUE) { *out = engine_text("true", 4); return EDDY_OK; }
        if (n->type == JSON_FALSE) { *out = engine_text("false", 5); return EDDY_OK; }
        return EDDY_ERR_INVALID;
    case ENGINE_TIMESTAMP: {
        int64_t ms;
        if (n->type == JSON_NUMBER) {
            if (!n->is_integer || json_number_i64(n, &ms) != EDDY_OK) return EDDY_ERR_INVALID;
        } else if (!s || (parse_i64(s, len, &ms) != EDDY_OK && time_parse_iso8601(s, len, &ms) != EDDY_OK)) {
            return EDDY_ERR_INVALID;
        }
        *out = engine_ts(ms);
        return EDDY_OK;
    }
    case ENGINE_DATE: {
        int64_t d;
        if (n->type == JSON_NUMBER) {
            if (!n->is_integer || json_number_i64(n, &d) != EDDY_OK) return EDDY_ERR_INVALID;
        } else if (!s || parse_date(s, len, &d) != EDDY_OK) {
            return EDDY_ERR_INVALID;
        }
        *out = (engine_val_t){.kind = ENGINE_DATE, .i = d};
        return EDDY_OK;
    }
    case ENGINE_UUID: return s ? parse_uuid(a, s, len, out) : EDDY_ERR_INVALID;
    case ENGINE_BLOB: return s ? parse_blob(a, s, len, out) : EDDY_ERR_INVALID;
    case ENGINE_JSON:
        if (n->type == JSON_OBJECT) return engine_val_from_json(a, doc, node, out);
        return engine_val_from_json(a, doc, node, out);
    default: return EDDY_ERR_INVALID;
    }
}

int engine_val_from_json_typed(arena_t *a, const json_doc_t *doc, uint32_t node, engine_type_t t,
                            engine_val_t *out, char *errstr, size_t errlen) {
    const json_node_t *n = json_node(doc, node);
    char tn[48];
    if (n->type == JSON_NULL) { *out = engine_null(); return EDDY_OK; }
    if (t.kind == ENGINE_LIST || t.kind == ENGINE_SET || t.kind == ENGINE_MAP) {
        bool is_map = t.kind == ENGINE_MAP;
        if (n->type != (is_map ? JSON_OBJECT : JSON_ARRAY))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "expected a JSON %s for %s",
                            is_map ? "object" : "array", engine_type_str(t, tn, sizeof tn));
        uint32_t width = is_map ? 2 : 1;
        engine_val_t *items = n->count ? arena_alloc(a, width * n->count * sizeof *items) : NULL;
        if (n->count && !items) return EDDY_ERR_NOMEM;
        uint32_t i = node + 1;
        for (uint32_t k = 0; k < n->count; k++) {
            int rc;
            if (is_map) {
                /* Keys are JSON strings; their text is read as the key type. */
                json_node_t keynode = *json_node(doc, i);
                const char *ks;
                size_t kl;
                if ((rc = json_text(a, &keynode, &ks, &kl))) return rc;
                engine_val_t key = engine_text(ks, kl);
                if (t.key != ENGINE_TEXT && t.key != ENGINE_ANY) {
                    if (engine_val_cast(a, &key, engine_type(t.key), &key) != EDDY_OK)
                        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "map key '%.*s' is not a %s",
                                        (int)kl, ks, engine_kind_name(t.key));
                }
                items[2 * k] = key;
                i++;
            }
            rc = from_json_scalar(a, doc, i, t.elem, 64, &items[width * k + width - 1]);
            if (rc == EDDY_ERR_NOMEM) return rc;
            if (rc) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "element %u is not a %s", k,
                                    engine_kind_name(t.elem));
            i = json_next(doc, i);
        }
        return engine_val_make_coll(a, t.kind, items, n->count, out);
    }
    int rc = from_json_scalar(a, doc, node, t.kind, t.bits, out);
    if (rc == EDDY_ERR_NOMEM) return rc;
    if (rc == EDDY_ERR_RANGE)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%.*s is out of range for %s", (int)EDDY_MIN(n->len, 40),
                        n->text, engine_type_str(t, tn, sizeof tn));
    if (rc)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "a JSON %s is not a %s",
                        n->type == JSON_STRING ? "string" : n->type == JSON_NUMBER ? "number"
                        : n->type == JSON_ARRAY ? "array" : n->type == JSON_OBJECT ? "object" : "boolean",
                        engine_type_str(t, tn, sizeof tn));
    return EDDY_OK;
}

/* ---- to JSON and text ----------------------------------------------------------------------- */

static void write_uuid(wr_t *w, const uint8_t *u) {
    static const char hex[] = "0123456789abcdef";
    uint8_t *p = wr_reserve(w, 36);
    if (!p) return;
    size_t j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) p[j++] = '-';
        p[j++] = (uint8_t)hex[u[i] >> 4];
        p[j++] = (uint8_t)hex[u[i] & 15];
    }
    wr_advance(w, 36);
}

static void write_date(wr_t *w, int64_t days) {
    int64_t y;
    unsigned m, d;
    time_civil_from_days(days, &y, &m, &d);
    wr_fmt(w, "%04lld-%02u-%02u", (long long)y, m, d);
}

/* Timestamps and dates beyond year +-9999 have no ISO-8601 form here: they print as numbers. */
#define TS_LIMIT_MS 253402300799999LL
#define DATE_LIMIT_DAYS 2932896LL

static void write_plain(wr_t *w, const engine_val_t *v, bool quoted) {
    char buf[40];
    if ((v->kind == ENGINE_TIMESTAMP && (v->i > TS_LIMIT_MS || v->i < -TS_LIMIT_MS)) ||
        (v->kind == ENGINE_DATE && (v->i > DATE_LIMIT_DAYS || v->i < -DATE_LIMIT_DAYS))) {
        json_write_i64(w, v->i);
        return;
    }
    switch (v->kind) {
    case ENGINE_TIMESTAMP: {
        size_t n = time_format_iso8601(v->i, buf, sizeof buf);
        if (quoted) wr_u8(w, '"');
        wr_bytes(w, buf, n);
        if (quoted) wr_u8(w, '"');
        return;
    }
    case ENGINE_DATE:
        if (quoted) wr_u8(w, '"');
        write_date(w, v->i);
        if (quoted) wr_u8(w, '"');
        return;
    case ENGINE_UUID:
        if (quoted) wr_u8(w, '"');
        write_uuid(w, (const uint8_t *)v->s);
        if (quoted) wr_u8(w, '"');
        return;
    case ENGINE_BLOB: {
        static const char hex[] = "0123456789abcdef";
        if (quoted) wr_u8(w, '"');
        wr_bytes(w, "0x", 2);
        for (uint32_t i = 0; i < v->len; i++) {
            uint8_t b = (uint8_t)v->s[i];
            char h[2] = {hex[b >> 4], hex[b & 15]};
            wr_bytes(w, h, 2);
        }
        if (quoted) wr_u8(w, '"');
        return;
    }
    default: return;
    }
}

void engine_val_to_json(wr_t *w, const engine_val_t *v) {
    switch (v->kind) {
    case ENGINE_NULL: wr_bytes(w, "null", 4); return;
    case ENGINE_BOOL: wr_str(w, v->b ? "true" : "false"); return;
    case ENGINE_INT: json_write_i64(w, v->i); return;
    case ENGINE_FLOAT:
        if (isfinite(v->f)) json_write_f64(w, v->f);
        else wr_str(w, isnan(v->f) ? "\"NaN\"" : v->f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    case ENGINE_TEXT: json_write_string(w, v->s, v->len); return;
    case ENGINE_LIST:
    case ENGINE_SET:
        wr_u8(w, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i) wr_u8(w, ',');
            engine_val_to_json(w, &v->items[i]);
        }
        wr_u8(w, ']');
        return;
    case ENGINE_MAP:
        wr_u8(w, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i) wr_u8(w, ',');
            const engine_val_t *k = &v->items[2 * i];
            if (k->kind == ENGINE_TEXT) {
                json_write_string(w, k->s, k->len);
            } else {
                wr_t tmp;
                wr_init(&tmp, 32);
                engine_val_to_text(&tmp, k);
                json_write_string(w, (const char *)tmp.buf, tmp.len);
                wr_free(&tmp);
            }
            wr_u8(w, ':');
            engine_val_to_json(w, &v->items[2 * i + 1]);
        }
        wr_u8(w, '}');
        return;
    case ENGINE_JSON: json_write_node(w, v->json->doc, v->json->node); return;
    default: write_plain(w, v, true); return;
    }
}

void engine_val_to_text(wr_t *w, const engine_val_t *v) {
    switch (v->kind) {
    case ENGINE_NULL: return;
    case ENGINE_TEXT: wr_bytes(w, v->s, v->len); return;
    case ENGINE_TIMESTAMP:
    case ENGINE_DATE:
    case ENGINE_UUID:
    case ENGINE_BLOB: write_plain(w, v, false); return;
    default: engine_val_to_json(w, v); return;
    }
}

/* ---- casts ---------------------------------------------------------------------------------- */

static int cast_coll(arena_t *a, const engine_val_t *v, engine_type_t t, engine_val_t *out) {
    if (v->kind == ENGINE_TEXT) {
        /* '["a","b"]'::list<text>: the text is read as JSON. */
        json_doc_t doc;
        json_doc_init(&doc);
        int rc = json_parse(&doc, v->s, v->len);
        if (rc == EDDY_OK) rc = engine_val_from_json_typed(a, &doc, 0, t, out, NULL, 0);
        if (rc == EDDY_OK) {
            engine_val_t copy;
            rc = engine_val_copy(a, out, &copy); /* the document goes away below */
            *out = copy;
        }
        json_doc_free(&doc);
        return rc ? EDDY_ERR_INVALID : EDDY_OK;
    }
    if (v->kind == ENGINE_JSON) {
        if (t.kind != ENGINE_MAP) return EDDY_ERR_INVALID;
        return engine_val_from_json_typed(a, v->json->doc, v->json->node, t, out, NULL, 0) ? EDDY_ERR_INVALID
                                                                                          : EDDY_OK;
    }
    if (v->kind != ENGINE_LIST && v->kind != ENGINE_SET && v->kind != ENGINE_MAP) return EDDY_ERR_INVALID;
    if ((v->kind == ENGINE_MAP) != (t.kind == ENGINE_MAP)) return EDDY_ERR_INVALID;
    uint32_t width = t.kind == ENGINE_MAP ? 2 : 1;
    engine_val_t *items = v->len ? arena_alloc(a, width * v->len * sizeof *items) : NULL;
    if (v->len && !items) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < v->len * width; i++) {
        uint8_t k = width == 2 && i % 2 == 0 ? t.key : t.elem;
        if (engine_val_cast(a, &v->items[i], engine_type(k), &items[i]) != EDDY_OK) return EDDY_ERR_INVALID;
    }
    return engine_val_make_coll(a, t.kind, items, v->len, out);
}

int engine_val_cast(arena_t *a, const engine_val_t *v, engine_type_t t, engine_val_t *out) {
    engine_val_t in = *v;
    *out = engine_null();
    if (in.kind == ENGINE_NULL || t.kind == ENGINE_ANY) { *out = in; return EDDY_OK; }
    if (in.kind == t.kind && t.kind != ENGINE_INT && t.kind != ENGINE_LIST && t.kind != ENGINE_SET &&
        t.kind != ENGINE_MAP) {
        *out = in;
        return EDDY_OK;
    }
    switch (t.kind) {
    case ENGINE_TEXT: {
        wr_t w;
        wr_init(&w, 32);
        engine_val_to_text(&w, &in);
        if (!wr_ok(&w)) { wr_free(&w); return EDDY_ERR_NOMEM; }
        char *s = arena_memdup(a, w.buf ? (const char *)w.buf : "", w.len);
        size_t n = w.len;
        wr_free(&w);
        if (!s && n) return EDDY_ERR_NOMEM;
        *out = engine_text(s ? s : "", n);
        return EDDY_OK;
    }
    case ENGINE_INT: {
        int64_t i;
        if (in.kind == ENGINE_INT || in.kind == ENGINE_TIMESTAMP || in.kind == ENGINE_DATE) i = in.i;
        else if (in.kind == ENGINE_BOOL) i = in.b;
        else if (in.kind == ENGINE_FLOAT) {
            if (!isfinite(in.f) || in.f >= 9.2233720368547758e18 || in.f < -9.2233720368547758e18)
                return EDDY_ERR_INVALID;
            i = (int64_t)in.f;
        } else if (in.kind == ENGINE_TEXT) {
            if (parse_i64(in.s, in.len, &i) != EDDY_OK) {
                double f;
                if (parse_f64(in.s, in.len, &f) != EDDY_OK || !isfinite(f) || fabs(f) >= 9.2e18)
                    return EDDY_ERR_INVALID;
                i = (int64_t)f;
            }
        } else {
            return EDDY_ERR_INVALID;
        }
        if (!int_fits(i, t.bits)) return EDDY_ERR_INVALID;
        *out = engine_int(i);
        return EDDY_OK;
    }
    case ENGINE_FLOAT: {
        double f;
        if (in.kind == ENGINE_INT) f = (double)in.i;
        else if (in.kind == ENGINE_BOOL) f = in.b;
        else if (in.kind == ENGINE_TEXT) {
            if (parse_f64(in.s, in.len, &f) != EDDY_OK) return EDDY_ERR_INVALID;
        } else {
            return EDDY_ERR_INVALID;
        }
        if (t.bits == 32) f = (float)f;
        *out = engine_float(f);
        return EDDY_OK;
    }
    case ENGINE_BOOL:
        if (in.kind == ENGINE_INT) { *out = engine_bool(in.i != 0); return EDDY_OK; }
        if (in.kind == ENGINE_TEXT) {
            bool b;
            if (parse_bool(in.s, in.len, &b) == EDDY_OK) { *out = engine_bool(b); return EDDY_OK; }
            if (in.len == 1 && (in.s[0] == '0' || in.s[0] == '1')) { *out = engine_bool(in.s[0] == '1'); return EDDY_OK; }
        }
        return EDDY_ERR_INVALID;
    case ENGINE_TIMESTAMP: {
        int64_t ms;
        if (in.kind == ENGINE_INT) ms = in.i;
        else if (in.kind == ENGINE_DATE) {
            if (__builtin_mul_overflow(in.i, 86400000, &ms)) return EDDY_ERR_INVALID;
        }
        else if (in.kind == ENGINE_TEXT) {
            if (parse_i64(in.s, in.len, &ms) != EDDY_OK && time_parse_iso8601(in.s, in.len, &ms) != EDDY_OK)
                return EDDY_ERR_INVALID;
        } else {
            return EDDY_ERR_INVALID;
        }
        *out = engine_ts(ms);
        return EDDY_OK;
    }
    case ENGINE_DATE: {
        int64_t d;
        if (in.kind == ENGINE_INT) d = in.i;
        else if (in.kind == ENGINE_TIMESTAMP) d = in.i >= 0 ? in.i / 86400000 : -((-in.i + 86399999) / 86400000);
        else if (in.kind == ENGINE_TEXT) {
            if (parse_date(in.s, in.len, &d) != EDDY_OK) return EDDY_ERR_INVALID;
        } else {
            return EDDY_ERR_INVALID;
        }
        *out = (engine_val_t){.kind = ENGINE_DATE, .i = d};
        return EDDY_OK;
    }
    case ENGINE_UUID: return in.kind == ENGINE_TEXT ? parse_uuid(a, in.s, in.len, out) : EDDY_ERR_INVALID;
    case ENGINE_BLOB:
        if (in.kind == ENGINE_TEXT) { *out = (engine_val_t){.kind = ENGINE_BLOB, .len = in.len, .s = in.s}; return EDDY_OK; }
        return EDDY_ERR_INVALID;
    case ENGINE_LIST:
    case ENGINE_SET:
    case ENGINE_MAP: return cast_coll(a, &in, t, out);
    case ENGINE_JSON: return in.kind == ENGINE_MAP || in.kind == ENGINE_JSON ? (*out = in, EDDY_OK) : EDDY_ERR_INVALID;
    default: return EDDY_ERR_INVALID;
    }
}
