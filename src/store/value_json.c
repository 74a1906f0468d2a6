/* Values and JSON, with Cassandra's rules (fromJSONObject / toJSONString of each type):
 * INSERT JSON and fromJson() accept numbers as strings ("1"), booleans as case-insensitive
 * strings, timestamps as ms or date strings, collections as arrays/objects or JSON-encoded
 * strings; SELECT JSON and toJson() print timestamps as "yyyy-MM-dd HH:mm:ss.SSSZ", blobs as
 * "0x..", sets as arrays and maps as objects, with ", " and ": " separators. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"

/* Jackson's class name for a parsed JSON node (the messages name it). */
static const char *json_class(const json_node_t *n) {
    switch (n->type) {
    case JSON_STRING: return "String";
    case JSON_TRUE:
    case JSON_FALSE: return "Boolean";
    case JSON_ARRAY: return "ArrayList";
    case JSON_OBJECT: return "LinkedHashMap";
    case JSON_NUMBER: {
        if (!n->is_integer) return "Double";
        int64_t v;
        if (json_number_i64(n, &v) != EDDY_OK) return "BigInteger";
        return v >= INT32_MIN && v <= INT32_MAX ? "Integer" : "Long";
    }
    default: return "Object";
    }
}

/* How Java would print the parsed node in a message. */
static void json_show(const json_doc_t *doc, uint32_t i, wr_t *w) {
    const json_node_t *n = json_node(doc, i);
    if (n->type == JSON_STRING) {
        char *buf = eddy_malloc(n->len + 1);
        long len = buf ? json_string_unescape(n, buf) : -1;
        if (len >= 0) wr_bytes(w, buf, (size_t)len);
        eddy_free(buf);
    } else if (n->type == JSON_NUMBER && !n->is_integer) {
        double d;
        if (json_number_f64(n, &d) == EDDY_OK) store_fmt_double(d, w);
    } else {
        json_write_node(w, doc, i);
    }
}

static int json_type_err(const json_doc_t *doc, uint32_t i, const char *expected, char *errstr, size_t errlen) {
    wr_t w;
    wr_init(&w, 64);
    json_show(doc, i, &w);
    int rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected %s, but got a %s: %.*s", expected,
                      json_class(json_node(doc, i)), (int)w.len, w.buf ? (const char *)w.buf : "");
    wr_free(&w);
    return rc;
}

/* Decodes a string node into a malloc'd buffer. */
static char *string_dup(const json_node_t *n, size_t *len) {
    char *buf = eddy_malloc(n->len + 1);
    if (!buf) return NULL;
    long l = json_string_unescape(n, buf);
    if (l < 0) {
        eddy_free(buf);
        return NULL;
    }
    buf[l] = 0;
    *len = (size_t)l;
    return buf;
}

static int from_json(const store_type_t *t, const json_doc_t *doc, uint32_t i, wr_t *out, bool *is_null, char *errstr,
                     size_t errlen, int depth);

/* A collection, tuple or UDT given as a JSON-encoded string: parse it and convert. */
static int from_json_string_doc(const store_type_t *t, const char *s, size_t n, wr_t *out, bool *is_null, char *errstr,
                                size_t errlen, int depth) {
    json_doc_t d;
    json_doc_init(&d);
    int rc = json_parse(&d, s, n);
    if (rc) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Could not decode JSON string '%.*s': %s", (int)n, s, d.errmsg);
    } else {
        rc = from_json(t, &d, 0, out, is_null, errstr, errlen, depth + 1);
    }
    json_doc_free(&d);
    return rc;
}

static int from_json_coll(const store_type_t *t, const json_doc_t *doc, uint32_t i, wr_t *out, char *errstr,
                          size_t errlen, int depth) {
    const json_node_t *n = json_node(doc, i);
    bool map = t->kind == STORE_T_MAP, udt = t->kind == STORE_T_UDT;
    if ((map || udt) ? n->type != JSON_OBJECT : n->type != JSON_ARRAY) {
        const char *what = t->kind == STORE_T_LIST ? "a list" : t->kind == STORE_T_SET ? "a list (representing a set)"
                           : t->kind == STORE_T_TUPLE ? "a list representation of a tuple"
                           : map                      ? "a map"
                                                      : "a map (representing a user type)";
        return json_type_err(doc, i, what, errstr, errlen);
    }
    size_t count = udt ? t->nsub : (map ? 2 * (size_t)n->count : (size_t)n->count);
    if (t->kind == STORE_T_TUPLE && n->count != t->nsub)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Tuple %s items (expected %u, got %u)",
                        n->count > t->nsub ? "contains extra" : "is missing", t->nsub, n->count);
    wr_t scratch;
    wr_init(&scratch, 64);
    size_t *offs = eddy_malloc((count ? count : 1) * 2 * sizeof *offs);
    eddy_view_t *ev = eddy_malloc((count ? count : 1) * sizeof *ev);
    int rc = EDDY_OK;
    if (!offs || !ev) {
        rc = EDDY_ERR_NOMEM;
        goto out;
    }
    for (size_t k = 0; k < count; k++) offs[2 * k] = SIZE_MAX;
    uint32_t c = json_first_child(i);
    for (uint32_t k = 0; k < n->count; k++) {
        if (map || udt) {
            const json_node_t *kn = json_node(doc, c);
            uint32_t vi = c + 1;
            size_t klen;
            char *key = string_dup(kn, &klen);
            if (!key) {
                rc = EDDY_ERR_NOMEM;
                goto out;
            }
            if (udt) {
                /* field names are identifiers: lowercase unless quoted */
                char name[512];
                size_t nn = 0;
                if (klen >= 2 && key[0] == '"' && key[klen - 1] == '"') {
                    for (size_t q = 1; q + 1 < klen && nn + 1 < sizeof name; q++) name[nn++] = key[q];
                } else {
                    for (size_t q = 0; q < klen && nn + 1 < sizeof name; q++)
                        name[nn++] = (char)((key[q] >= 'A' && key[q] <= 'Z') ? key[q] + 32 : key[q]);
                }
                name[nn] = 0;
                int f = -1;
                for (size_t q = 0; q < t->nsub; q++)
                    if (!strcmp(t->field_names[q], name)) f = (int)q;
                if (f < 0) {
                    rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unknown field '%s' in value of user defined type %s",
                                  name, t->name);
                    eddy_free(key);
                    goto out;
                }
                bool nul;
                size_t st = scratch.len;
                rc = from_json(t->sub[f], doc, vi, &scratch, &nul, errstr, errlen, depth + 1);
                if (rc == EDDY_OK && !nul) {
                    offs[2 * f] = st;
                    offs[2 * f + 1] = scratch.len - st;
                }
            } else {
                /* map keys are JSON strings: converted as a string of the key type */
                bool nul;
                size_t st = scratch.len;
                if (store_type_is_collection(t->sub[0]) || t->sub[0]->kind == STORE_T_TUPLE ||
                    t->sub[0]->kind == STORE_T_UDT)
                    rc = from_json_string_doc(t->sub[0], key, klen, &scratch, &nul, errstr, errlen, depth);
                else
                    rc = store_scalar_from_string(t->sub[0], key, klen, time_now_ms(), &scratch, errstr, errlen);
                offs[4 * k] = st;
                offs[4 * k + 1] = scratch.len - st;
                if (rc == EDDY_OK) {
                    if (json_node(doc, vi)->type == JSON_NULL) {
                        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid null value in map");
                    } else {
                        st = scratch.len;
                        rc = from_json(t->sub[1], doc, vi, &scratch, &nul, errstr, errlen, depth + 1);
                        offs[4 * k + 2] = st;
                        offs[4 * k + 3] = scratch.len - st;
                    }
                }
            }
            eddy_free(key);
            if (rc) goto out;
            c = json_next(doc, vi);
        } else {
            const store_type_t *et = t->kind == STORE_T_TUPLE ? t->sub[k] : t->sub[0];
            bool nul;
            size_t st = scratch.len;
            if (json_node(doc, c)->type == JSON_NULL && t->kind != STORE_T_TUPLE) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid null element in %s",
                              t->kind == STORE_T_SET ? "set" : "list");
                goto out;
            }
            if ((rc = from_json(et, doc, c, &scratch, &nul, errstr, errlen, depth + 1))) goto out;
            if (!nul) {
                offs[2 * k] = st;
                offs[2 * k + 1] = scratch.len - st;
            }
            c = json_next(doc, c);
        }
    }
    for (size_t k = 0; k < count; k++)
        ev[k] = offs[2 * k] == SIZE_MAX ? eddy_view(NULL, 0) : eddy_view(scratch.buf + offs[2 * k], offs[2 * k + 1]);
    rc = store_value_build(t, ev, count, out, errstr, errlen);
out:
    eddy_free(offs);
    eddy_free(ev);
    wr_free(&scratch);
    return rc;
}

static int from_json(const store_type_t *t, const json_doc_t *doc, uint32_t i, wr_t *out, bool *is_null, char *errstr,
                     size_t errlen, int depth) {
    const json_node_t *n = json_node(doc, i);
    *is_null = false;
    if (n->type == JSON_NULL) {
        *is_null = true;
        return EDDY_OK;
    }
    if (depth > 64) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "JSON value nested too deeply");
    if (n->type == JSON_STRING) {
        size_t len;
        char *s = string_dup(n, &len);
        if (!s) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid escape in JSON string");
        int rc;
        if (store_type_is_collection(t) || t->kind == STORE_T_TUPLE || t->kind == STORE_T_UDT) {
            rc = from_json_string_doc(t, s, len, out, is_null, errstr, errlen, depth);
        } else if (t->kind == STORE_T_BLOB) {
            if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
                rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "String representation of blob is missing 0x prefix: %s", s);
            else
                rc = store_scalar_from_string(t, s + 2, len - 2, time_now_ms(), out, errstr, errlen);
        } else {
            const store_type_t *pt = t->kind == STORE_T_COUNTER ? store_type_native(STORE_T_BIGINT) : t;
            rc = store_scalar_from_string(pt, s, len, time_now_ms(), out, errstr, errlen);
        }
        eddy_free(s);
        return rc;
    }
    switch (t->kind) {
    case STORE_T_ASCII: return json_type_err(doc, i, "an ascii string", errstr, errlen);
    case STORE_T_TEXT: return json_type_err(doc, i, "a UTF-8 string", errstr, errlen);
    case STORE_T_BLOB: return json_type_err(doc, i, "a string representation of a blob", errstr, errlen);
    case STORE_T_BOOLEAN:
        if (n->type != JSON_TRUE && n->type != JSON_FALSE) return json_type_err(doc, i, "a boolean value", errstr, errlen);
        wr_u8(out, n->type == JSON_TRUE);
        return EDDY_OK;
    case STORE_T_TINYINT:
    case STORE_T_SMALLINT:
    case STORE_T_INT:
    case STORE_T_BIGINT:
    case STORE_T_COUNTER:
    case STORE_T_VARINT: {
        if (n->type != JSON_NUMBER) {
            const char *what = t->kind == STORE_T_INT ? "an int value" : t->kind == STORE_T_VARINT ? "an integer value"
                               : t->kind == STORE_T_TINYINT ? "a byte value" : t->kind == STORE_T_SMALLINT ? "a short value"
                                                                                                            : "a bigint value";
            return json_type_err(doc, i, what, errstr, errlen);
        }
        const char *cls = json_class(n);
        if (t->kind == STORE_T_INT && strcmp(cls, "Integer")) return json_type_err(doc, i, "an int value", errstr, errlen);
        if ((t->kind == STORE_T_BIGINT || t->kind == STORE_T_COUNTER) && strcmp(cls, "Integer") && strcmp(cls, "Long"))
            return json_type_err(doc, i, "a bigint value", errstr, errlen);
        if (t->kind == STORE_T_VARINT && !n->is_integer) return json_type_err(doc, i, "an integer value", errstr, errlen);
        /* tinyint/smallint/varint go through their string form, as Cassandra does */
        const store_type_t *pt = t->kind == STORE_T_COUNTER ? store_type_native(STORE_T_BIGINT) : t;
        return store_scalar_from_string(pt, n->text, n->len, 0, out, errstr, errlen);
    }
    case STORE_T_FLOAT:
    case STORE_T_DOUBLE: {
        double d;
        if (n->type != JSON_NUMBER || json_number_f64(n, &d))
            return json_type_err(doc, i, t->kind == STORE_T_FLOAT ? "a float value" : "a double value", errstr, errlen);
        store_wr_fp(out, d, t->kind == STORE_T_FLOAT);
        return EDDY_OK;
    }
    case STORE_T_DECIMAL:
        if (n->type != JSON_NUMBER) return json_type_err(doc, i, "a decimal value", errstr, errlen);
        return store_scalar_from_string(t, n->text, n->len, 0, out, errstr, errlen);
    case STORE_T_TIMESTAMP: {
        int64_t ms;
        if (n->type != JSON_NUMBER || !n->is_integer || json_number_i64(n, &ms))
            return json_type_err(doc, i, "a long or a datestring representation of a timestamp value", errstr, errlen);
        wr_u64(out, (uint64_t)ms);
        return EDDY_OK;
    }
    case STORE_T_DATE:
    case STORE_T_TIME:
        if (n->type == JSON_NUMBER && n->is_integer) return store_scalar_from_string(t, n->text, n->len, 0, out, errstr, errlen);
        return json_type_err(doc, i, t->kind == STORE_T_DATE ? "a string representation of a date value"
                                                             : "a string representation of a time value",
                             errstr, errlen);
    case STORE_T_UUID:
    case STORE_T_TIMEUUID: return json_type_err(doc, i, "a string representation of a uuid", errstr, errlen);
    case STORE_T_INET: return json_type_err(doc, i, "a string representation of an inet value", errstr, errlen);
    case STORE_T_DURATION: return json_type_err(doc, i, "a string representation of a duration", errstr, errlen);
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP:
    case STORE_T_TUPLE:
    case STORE_T_UDT: return from_json_coll(t, doc, i, out, errstr, errlen, depth);
    default: return eddy_err(errstr, errlen, EDDY_ERR_UNSUPPORTED, "unsupported type for JSON");
    }
}

int store_value_from_json(const store_type_t *t, const json_doc_t *doc, uint32_t node, wr_t *out, bool *is_null,
                          char *errstr, size_t errlen) {
    bool nul;
    size_t start = out->len;
    int rc = from_json(t, doc, node, out, &nul, errstr, errlen, 0);
    if (rc) {
        out->len = start;
        return rc;
    }
    if (is_null) *is_null = nul;
    return wr_ok(out) ? EDDY_OK : out->err;
}

int store_value_from_json_text(const store_type_t *t, const char *json, size_t len, wr_t *out, bool *is_null,
                               char *errstr, size_t errlen) {
    json_doc_t d;
    json_doc_init(&d);
    int rc = json_parse(&d, json, len);
    if (rc) rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Could not decode JSON string '%.*s': %s", (int)len, json, d.errmsg);
    else rc = store_value_from_json(t, &d, 0, out, is_null, errstr, errlen);
    json_doc_free(&d);
    return rc;
}

/* ---- output ---- */

/* A name as SELECT JSON keys it: quoted (inside the JSON string) when not all lowercase. */
void store_json_write_name(wr_t *w, const char *name) {
    size_t n = strlen(name);
    bool lower = true;
    for (size_t i = 0; i < n; i++)
        if (name[i] >= 'A' && name[i] <= 'Z') lower = false;
    if (lower) {
        json_write_string(w, name, n);
        return;
    }
    wr_t tmp;
    wr_init(&tmp, n + 2);
    wr_u8(&tmp, '"');
    wr_bytes(&tmp, name, n);
    wr_u8(&tmp, '"');
    json_write_string(w, (const char *)tmp.buf, tmp.len);
    wr_free(&tmp);
}

void store_value_to_json(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w) {
    if (!p) {
        wr_str(w, "null");
        return;
    }
    if (n == 0 && t->kind != STORE_T_TEXT && t->kind != STORE_T_ASCII && t->kind != STORE_T_BLOB) {
        wr_str(w, "\"\"");
        return;
    }
    switch (t->kind) {
    case STORE_T_ASCII:
    case STORE_T_TEXT: json_write_string(w, (const char *)p, n); return;
    case STORE_T_BOOLEAN:
    case STORE_T_TINYINT:
    case STORE_T_SMALLINT:
    case STORE_T_INT:
    case STORE_T_BIGINT:
    case STORE_T_COUNTER:
    case STORE_T_VARINT:
    case STORE_T_DECIMAL: store_value_format_text(t, p, n, w); return;
    case STORE_T_FLOAT:
    case STORE_T_DOUBLE: {
        double d;
        if (t->kind == STORE_T_FLOAT) {
            uint32_t u = load_u32(p);
            float f;
            memcpy(&f, &u, 4);
            d = f;
        } else {
            uint64_t u = load_u64(p);
            memcpy(&d, &u, 8);
        }
        if (isnan(d) || isinf(d)) wr_str(w, "null");
        else store_value_format_text(t, p, n, w);
        return;
    }
    case STORE_T_TIMESTAMP:
        wr_u8(w, '"');
        store_fmt_timestamp(ld_i64(p), true, w);
        wr_u8(w, '"');
        return;
    case STORE_T_BLOB:
        wr_u8(w, '"');
        store_fmt_hex(p, n, w);
        wr_u8(w, '"');
        return;
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP: {
        bool map = t->kind == STORE_T_MAP;
        wr_u8(w, map ? '{' : '[');
        store_coll_rd_t c;
        if (store_coll_open(&c, p, n, map ? 2 : 1) == EDDY_OK) {
            eddy_view_t e;
            for (size_t i = 0; store_coll_next(&c, &e) == 1; i++) {
                if (i) wr_str(w, map && i % 2 ? ": " : ", ");
                if (map && i % 2 == 0) {
                    wr_t k;
                    wr_init(&k, 32);
                    store_value_to_json(t->sub[0], e.ptr, e.len, &k);
                    if (k.len && k.buf[0] == '"') wr_bytes(w, k.buf, k.len);
                    else json_write_string(w, k.buf ? (const char *)k.buf : "", k.len);
                    wr_free(&k);
                } else {
                    store_value_to_json(map ? t->sub[1] : t->sub[0], e.ptr, e.len, w);
                }
            }
        }
        wr_u8(w, map ? '}' : ']');
        return;
    }
    case STORE_T_TUPLE:
    case STORE_T_UDT: {
        eddy_view_t f[256];
        long nf = store_value_elements(t, p, n, f, EDDY_ARRAY_LEN(f));
        bool udt = t->kind == STORE_T_UDT;
        wr_u8(w, udt ? '{' : '[');
        for (long i = 0; i < t->nsub && i < (long)EDDY_ARRAY_LEN(f); i++) {
            if (i) wr_str(w, ", ");
            if (udt) {
                store_json_write_name(w, t->field_names[i]);
                wr_str(w, ": ");
            }
            if (i < nf) store_value_to_json(t->sub[i], f[i].ptr, f[i].len, w);
            else wr_str(w, "null");
        }
        wr_u8(w, udt ? '}' : ']');
        return;
    }
    default: {
        /* date, time, uuid, timeuuid, inet, duration: their text, quoted */
        wr_t tmp;
        wr_init(&tmp, 48);
        store_value_format_text(t, p, n, &tmp);
        json_write_string(w, tmp.buf ? (const char *)tmp.buf : "", tmp.len);
        wr_free(&tmp);
        return;
    }
    }
}
