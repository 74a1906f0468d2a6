/* Avro values: Avro's JSON encoding to binary (the REST proxy's vnd.kafka.avro.v2+json records)
 * and binary back to the JSON encoding (its consumer responses), plus the Confluent wire format
 * header. Decoding reads untrusted bytes: every count is checked against what is left and a
 * total, recursion is bounded, and strings must be UTF-8. */
#include <math.h>
#include <stdio.h>

#include "api/api_int.h"

#define AVRO_CODEC_MAX_DEPTH 64
#define AVRO_CODEC_MAX_ITEMS (1u << 20) /* array and map items in one value */

/* ---- JSON -> binary ---------------------------------------------------------------------------- */

typedef struct {
    wr_t *w;
    char *errstr;
    size_t errlen;
    char path[256];
    size_t pathlen;
    int depth;
} avro_enc_t;

static int avro_enc_fail(avro_enc_t *e, const char *what, const api_avro_node_t *n) {
    if (e->errstr && e->errlen)
        snprintf(e->errstr, e->errlen, "%s: expected %s%s%s", e->pathlen ? e->path : "/", what,
                 n && n->fullname ? " " : "", n && n->fullname ? n->fullname : "");
    return EDDY_ERR_INVALID;
}

static size_t avro_path_push(avro_enc_t *e, const char *seg, size_t n) {
    size_t old = e->pathlen;
    if (e->pathlen + n + 2 < sizeof e->path) {
        e->path[e->pathlen++] = '/';
        memcpy(e->path + e->pathlen, seg, n);
        e->pathlen += n;
        e->path[e->pathlen] = 0;
    }
    return old;
}

static void avro_path_pop(avro_enc_t *e, size_t old) {
    e->pathlen = old;
    e->path[old] = 0;
}

/* Decodes a JSON string into a fresh buffer (caller frees); NULL on a bad escape. */
static char *avro_unescape(const json_node_t *n, size_t *len) {
    char *s = eddy_malloc(n->len + 1);
    if (!s) return NULL;
    long k = json_string_unescape(n, s);
    if (k < 0) {
        eddy_free(s);
        return NULL;
    }
    s[k] = 0;
    *len = (size_t)k;
    return s;
}

/* bytes and fixed in the JSON encoding: each code point 0..255 is one byte. Writes the bytes to
 * out (at most len bytes); returns the count or -1. */
static long avro_latin1(const char *s, size_t len, uint8_t *out) {
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            out[n++] = c;
            i++;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < len && ((unsigned char)s[i + 1] & 0xc0) == 0x80) {
            out[n++] = (uint8_t)(((c & 0x1f) << 6) | ((unsigned char)s[i + 1] & 0x3f));
            i += 2;
        } else {
            return -1;
        }
    }
    return (long)n;
}

static int avro_enc(avro_enc_t *e, const api_avro_node_t *n, const json_doc_t *d, uint32_t i);

static int avro_enc_default(avro_enc_t *e, const api_avro_field_t *f) {
    json_doc_t dd;
    json_doc_init(&dd);
    int rc = json_parse(&dd, f->default_json, strlen(f->default_json));
    if (rc == EDDY_OK) rc = avro_enc(e, f->type, &dd, 0);
    json_doc_free(&dd);
    return rc;
}

static const char *avro_branch_name(const api_avro_node_t *b) {
    return b->fullname ? b->fullname : api_avro_type_name(b->type);
}

static int avro_enc_union(avro_enc_t *e, const api_avro_node_t *n, const json_doc_t *d, uint32_t i) {
    const json_node_t *v = json_node(d, i);
    /* Tagged: null, or {"branch": value}. */
    if (v->type == JSON_NULL) {
        for (uint32_t b = 0; b < n->nbranches; b++)
            if (n->branches[b]->type == API_AVRO_NULL) {
                wr_varint(e->w, b);
                return EDDY_OK;
            }
        return avro_enc_fail(e, "a non-null value for a union without null", NULL);
    }
    if (v->type == JSON_OBJECT && v->count == 1) {
        uint32_t key = json_first_child(i);
        for (uint32_t b = 0; b < n->nbranches; b++) {
            const char *name = avro_branch_name(n->branches[b]);
            /* A named branch may also be tagged by its short name. */
            if (json_string_eq(json_node(d, key), name, strlen(name)) ||
                (n->branches[b]->fullname && json_string_eq(json_node(d, key), n->branches[b]->name, strlen(n->branches[b]->name)))) {
                wr_varint(e->w, b);
                return avro_enc(e, n->branches[b], d, json_next(d, key));
            }
        }
    }
    /* Untagged: the first branch the value fits. */
    size_t mark = e->w->len, path = e->pathlen;
    for (uint32_t b = 0; b < n->nbranches; b++) {
        if (n->branches[b]->type == API_AVRO_NULL) continue;
        wr_varint(e->w, b);
        int rc = avro_enc(e, n->branches[b], d, i);
        if (rc == EDDY_OK) return EDDY_OK;
        if (rc == EDDY_ERR_NOMEM) return rc;
        e->w->len = mark;
        avro_path_pop(e, path);
    }
    wr_t names;
    wr_init(&names, 64);
    wr_str(&names, "one of the union's branches [");
    for (uint32_t b = 0; b < n->nbranches; b++) wr_fmt(&names, "%s%s", b ? ", " : "", avro_branch_name(n->branches[b]));
    wr_str(&names, "], e.g. {\"string\": ...}");
    wr_u8(&names, 0);
    int rc = avro_enc_fail(e, wr_ok(&names) ? (char *)names.buf : "a union branch", NULL);
    wr_free(&names);
    return rc;
}

static int avro_enc(avro_enc_t *e, const api_avro_node_t *n, const json_doc_t *d, uint32_t i) {
    if (e->depth >= AVRO_CODEC_MAX_DEPTH) return avro_enc_fail(e, "a value nested less deeply", NULL);
    const json_node_t *v = json_node(d, i);
    wr_t *w = e->w;
    int rc = EDDY_OK;
    e->depth++;
    switch (n->type) {
    case API_AVRO_NULL:
        if (v->type != JSON_NULL) rc = avro_enc_fail(e, "null", NULL);
        break;
    case API_AVRO_BOOLEAN:
        if (v->type != JSON_TRUE && v->type != JSON_FALSE) rc = avro_enc_fail(e, "a boolean", NULL);
        else wr_u8(w, v->type == JSON_TRUE);
        break;
    case API_AVRO_INT:
    case API_AVRO_LONG: {
        int64_t x;
        bool is_int = n->type == API_AVRO_INT;
        if (v->type != JSON_NUMBER || json_number_i64(v, &x) != EDDY_OK || (is_int && (x < INT32_MIN || x > INT32_MAX)))
            rc = avro_enc_fail(e, is_int ? "an int (32-bit integer)" : "a long (64-bit integer)", NULL);
        else wr_varint(w, x);
        break;
    }
    case API_AVRO_FLOAT:
    case API_AVRO_DOUBLE: {
        double x = 0;
        bool ok = v->type == JSON_NUMBER && json_number_f64(v, &x) == EDDY_OK;
        /* Java's JSON encoding spells the non-finite values as strings. */
        if (v->type == JSON_STRING && (json_string_eq(v, "NaN", 3) || json_string_eq(v, "Infinity", 8) ||
                                       json_string_eq(v, "-Infinity", 9))) {
            x = v->len == 3 ? NAN : v->text[0] == '-' ? -INFINITY : INFINITY;
            ok = true;
        }
        if (!ok) {
            rc = avro_enc_fail(e, n->type == API_AVRO_FLOAT ? "a float" : "a double", NULL);
        } else if (n->type == API_AVRO_FLOAT) {
            float f = (float)x;
            uint32_t u;
            memcpy(&u, &f, 4);
            wr_u32_le(w, u);
        } else {
            uint64_t u;
            memcpy(&u, &x, 8);
            wr_u64_le(w, u);
        }
        break;
    }
    case API_AVRO_STRING:
    case API_AVRO_BYTES:
    case API_AVRO_FIXED:
    case API_AVRO_ENUM: {
        if (v->type != JSON_STRING) {
            rc = avro_enc_fail(e, n->type == API_AVRO_ENUM ? "an enum symbol (a string) of" : "a string", n);
            break;
        }
        size_t len;
        char *s = avro_unescape(v, &len);
        if (!s) {
            rc = EDDY_ERR_NOMEM;
            break;
        }
        if (n->type == API_AVRO_STRING) {
            wr_varint(w, (int64_t)len);
            wr_bytes(w, s, len);
        } else if (n->type == API_AVRO_ENUM) {
            uint32_t k = 0;
            while (k < n->nsymbols && strcmp(n->symbols[k], s)) k++;
            if (k == n->nsymbols || strlen(s) != len) rc = avro_enc_fail(e, "a symbol of enum", n);
            else wr_varint(w, k);
        } else {
            long bl = avro_latin1(s, len, (uint8_t *)s); /* in place: never longer */
            if (bl < 0) rc = avro_enc_fail(e, "bytes as a string of code points 0-255", NULL);
            else if (n->type == API_AVRO_FIXED && bl != n->size) rc = avro_enc_fail(e, "a string of the size of fixed", n);
            else {
                if (n->type == API_AVRO_BYTES) wr_varint(w, bl);
                wr_bytes(w, s, (size_t)bl);
            }
        }
        eddy_free(s);
        break;
    }
    case API_AVRO_RECORD: {
        if (v->type != JSON_OBJECT) {
            rc = avro_enc_fail(e, "an object for record", n);
            break;
        }
        for (uint32_t k = 0; k < n->nfields && rc == EDDY_OK; k++) {
            const api_avro_field_t *f = &n->fields[k];
            size_t old = avro_path_push(e, f->name, strlen(f->name));
            int64_t fv = json_object_get(d, i, f->name, strlen(f->name));
            if (fv >= 0) rc = avro_enc(e, f->type, d, (uint32_t)fv);
            else if (f->default_json) rc = avro_enc_default(e, f);
            else rc = avro_enc_fail(e, "a value (the field is missing and has no default)", NULL);
            if (rc == EDDY_OK) avro_path_pop(e, old);
        }
        break;
    }
    case API_AVRO_ARRAY:
    case API_AVRO_MAP: {
        bool array = n->type == API_AVRO_ARRAY;
        if (v->type != (array ? JSON_ARRAY : JSON_OBJECT)) {
            rc = avro_enc_fail(e, array ? "an array" : "an object (a map)", NULL);
            break;
        }
        if (v->count) wr_varint(w, v->count);
        uint32_t c = json_first_child(i);
        for (uint32_t k = 0; k < v->count && rc == EDDY_OK; k++) {
            char seg[24];
            size_t old;
            if (array) {
                old = avro_path_push(e, seg, (size_t)snprintf(seg, sizeof seg, "%u", k));
            } else {
                size_t klen;
                char *key = avro_unescape(json_node(d, c), &klen);
                if (!key) {
                    rc = EDDY_ERR_NOMEM;
                    break;
                }
                old = avro_path_push(e, key, klen);
                wr_varint(w, (int64_t)klen);
                wr_bytes(w, key, klen);
                eddy_free(key);
                c = json_next(d, c);
            }
            rc = avro_enc(e, n->items, d, c);
            if (rc == EDDY_OK) avro_path_pop(e, old);
            c = json_next(d, c);
        }
        wr_u8(w, 0);
        break;
    }
    case API_AVRO_UNION: rc = avro_enc_union(e, n, d, i); break;
    }
    e->depth--;
    if (rc == EDDY_OK && !wr_ok(w)) rc = w->err;
    return rc;
}

int api_avro_encode_json(const api_avro_schema_t *s, const json_doc_t *d, uint32_t i, wr_t *w, char *errstr, size_t errlen) {
    avro_enc_t e = {.w = w, .errstr = errstr, .errlen = errlen};
    return avro_enc(&e, s->root, d, i);
}

/* ---- binary -> JSON ---------------------------------------------------------------------------- */

typedef struct {
    rd_t *r;
    wr_t *w;
    char *errstr;
    size_t errlen;
    uint32_t items;
    int depth;
} avro_dec_t;

static int avro_dec_fail(avro_dec_t *x, const char *what) {
    if (x->errstr && x->errlen) snprintf(x->errstr, x->errlen, "invalid Avro data at byte %zu: %s", x->r->pos, what);
    return EDDY_ERR_CORRUPT;
}

static bool avro_utf8_valid(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            k = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= k) return false;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static void avro_write_latin1(wr_t *w, const uint8_t *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    wr_u8(w, '"');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            wr_u8(w, c);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            wr_bytes(w, esc, 6);
        }
    }
    wr_u8(w, '"');
}

static void avro_write_double(wr_t *w, double f) {
    if (isnan(f)) wr_str(w, "\"NaN\"");
    else if (isinf(f)) wr_str(w, f < 0 ? "\"-Infinity\"" : "\"Infinity\"");
    else json_write_f64(w, f);
}

/* A length-prefixed byte run: checks the length against what is left. */
static const uint8_t *avro_dec_bytes(avro_dec_t *x, size_t *len) {
    int64_t n = rd_varint64(x->r);
    if (!rd_ok(x->r) || n < 0 || (uint64_t)n > rd_remaining(x->r)) return NULL;
    *len = (size_t)n;
    return rd_bytes(x->r, (size_t)n);
}

static int avro_dec(avro_dec_t *x, const api_avro_node_t *n) {
    if (x->depth >= AVRO_CODEC_MAX_DEPTH) return avro_dec_fail(x, "nested too deeply");
    rd_t *r = x->r;
    wr_t *w = x->w;
    int rc = EDDY_OK;
    x->depth++;
    switch (n->type) {
    case API_AVRO_NULL: wr_str(w, "null"); break;
    case API_AVRO_BOOLEAN: {
        uint8_t b = rd_u8(r);
        if (rd_ok(r) && b > 1) rc = avro_dec_fail(x, "a boolean is 0 or 1");
        else wr_str(w, b ? "true" : "false");
        break;
    }
    case API_AVRO_INT: {
        int64_t v = rd_varint64(r);
        if (rd_ok(r) && (v < INT32_MIN || v > INT32_MAX)) rc = avro_dec_fail(x, "int out of range");
        else json_write_i64(w, v);
        break;
    }
    case API_AVRO_LONG: json_write_i64(w, rd_varint64(r)); break;
    case API_AVRO_FLOAT: {
        uint32_t u = rd_u32_le(r);
        float f;
        memcpy(&f, &u, 4);
        avro_write_double(w, (double)f);
        break;
    }
    case API_AVRO_DOUBLE: {
        uint64_t u = rd_u64_le(r);
        double f;
        memcpy(&f, &u, 8);
        avro_write_double(w, f);
        break;
    }
    case API_AVRO_STRING:
    case API_AVRO_BYTES: {
        size_t len;
        const uint8_t *p = avro_dec_bytes(x, &len);
        if (!p) rc = avro_dec_fail(x, "bad length");
        else if (n->type == API_AVRO_BYTES) avro_write_latin1(w, p, len);
        else if (!avro_utf8_valid(p, len)) rc = avro_dec_fail(x, "a string is not UTF-8");
        else json_write_string(w, (const char *)p, len);
        break;
    }
    case API_AVRO_FIXED: {
        const uint8_t *p = rd_bytes(r, (size_t)n->size);
        if (p) avro_write_latin1(w, p, (size_t)n->size);
        break;
    }
    case API_AVRO_ENUM: {
        int64_t k = rd_varint64(r);
        if (rd_ok(r) && (k < 0 || k >= n->nsymbols)) rc = avro_dec_fail(x, "enum index out of range");
        else if (rd_ok(r)) json_write_string(w, n->symbols[k], strlen(n->symbols[k]));
        break;
    }
    case API_AVRO_RECORD:
        wr_u8(w, '{');
        for (uint32_t k = 0; k < n->nfields && rc == EDDY_OK && rd_ok(r); k++) {
            if (k) wr_u8(w, ',');
            json_write_string(w, n->fields[k].name, strlen(n->fields[k].name));
            wr_u8(w, ':');
            rc = avro_dec(x, n->fields[k].type);
        }
        wr_u8(w, '}');
        break;
    case API_AVRO_ARRAY:
    case API_AVRO_MAP: {
        bool array = n->type == API_AVRO_ARRAY;
        wr_u8(w, array ? '[' : '{');
        bool first = true;
        while (rc == EDDY_OK && rd_ok(r)) {
            int64_t count = rd_varint64(r);
            if (!rd_ok(r) || count == 0) break;
            if (count < 0) { /* a negative count is followed by the block's size in bytes */
                count = count == INT64_MIN ? INT64_MAX : -count;
                (void)rd_varint64(r);
            }
            if ((uint64_t)count > AVRO_CODEC_MAX_ITEMS - x->items) {
                rc = avro_dec_fail(x, "too many items");
                break;
            }
            x->items += (uint32_t)count;
            for (int64_t k = 0; k < count && rc == EDDY_OK && rd_ok(r); k++) {
                if (!first) wr_u8(w, ',');
                first = false;
                if (!array) {
                    size_t len;
                    const uint8_t *key = avro_dec_bytes(x, &len);
                    if (!key || !avro_utf8_valid(key, len)) {
                        rc = avro_dec_fail(x, "bad map key");
                        break;
                    }
                    json_write_string(w, (const char *)key, len);
                    wr_u8(w, ':');
                }
                rc = avro_dec(x, n->items);
            }
        }
        wr_u8(w, array ? ']' : '}');
        break;
    }
    case API_AVRO_UNION: {
        int64_t b = rd_varint64(r);
        if (!rd_ok(r)) break;
        if (b < 0 || b >= n->nbranches) {
            rc = avro_dec_fail(x, "union branch out of range");
            break;
        }
        const api_avro_node_t *br = n->branches[b];
        if (br->type == API_AVRO_NULL) {
            wr_str(w, "null");
            break;
        }
        wr_u8(w, '{');
        const char *name = avro_branch_name(br);
        json_write_string(w, name, strlen(name));
        wr_u8(w, ':');
        rc = avro_dec(x, br);
        wr_u8(w, '}');
        break;
    }
    }
    x->depth--;
    if (rc == EDDY_OK && !rd_ok(r)) rc = avro_dec_fail(x, "truncated");
    if (rc == EDDY_OK && !wr_ok(w)) rc = w->err;
    return rc;
}

int api_avro_decode_json(const api_avro_schema_t *s, rd_t *r, wr_t *w, char *errstr, size_t errlen) {
    avro_dec_t x = {.r = r, .w = w, .errstr = errstr, .errlen = errlen};
    return avro_dec(&x, s->root);
}

/* ---- the Confluent wire format ---------------------------------------------------------------- */

void api_avro_wire_header(wr_t *w, uint32_t schema_id) {
    wr_u8(w, 0);
    wr_u32(w, schema_id);
}

int api_avro_wire_parse(rd_t *r, uint32_t *schema_id) {
    uint8_t magic = rd_u8(r);
    uint32_t id = rd_u32(r);
    if (!rd_ok(r) || magic != 0) return EDDY_ERR_CORRUPT;
    *schema_id = id;
    return EDDY_OK;
}
