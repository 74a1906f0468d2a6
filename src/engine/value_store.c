/* Engine values to and from the store's serialized cells (native protocol encodings: big-endian
 * integers, IEEE floats, dates as days + 2^31, collections as counted [len][bytes] elements).
 * Rare types (decimal, varint, inet, time, duration) go through the store's constant parser. */
#include <math.h>
#include <stdio.h>

#include "engine/engine_store.h"

static uint8_t kind_of(uint16_t k, uint8_t *bits) {
    *bits = 64;
    switch (k) {
    case STORE_T_BOOLEAN: return ENGINE_BOOL;
    case STORE_T_TINYINT: *bits = 8; return ENGINE_INT;
    case STORE_T_SMALLINT: *bits = 16; return ENGINE_INT;
    case STORE_T_INT: *bits = 32; return ENGINE_INT;
    case STORE_T_BIGINT:
    case STORE_T_COUNTER:
    case STORE_T_VARINT: return ENGINE_INT;
    case STORE_T_FLOAT: *bits = 32; return ENGINE_FLOAT;
    case STORE_T_DOUBLE: return ENGINE_FLOAT;
    case STORE_T_DECIMAL: *bits = 0; return ENGINE_FLOAT;
    case STORE_T_ASCII:
    case STORE_T_TEXT:
    case STORE_T_INET: return ENGINE_TEXT;
    case STORE_T_BLOB: return ENGINE_BLOB;
    case STORE_T_TIMESTAMP: return ENGINE_TIMESTAMP;
    case STORE_T_DATE: return ENGINE_DATE;
    case STORE_T_UUID:
    case STORE_T_TIMEUUID: return ENGINE_UUID;
    case STORE_T_LIST: return ENGINE_LIST;
    case STORE_T_SET: return ENGINE_SET;
    case STORE_T_MAP: return ENGINE_MAP;
    default: return ENGINE_ANY;
    }
}

engine_type_t engine_store_type(const store_type_t *t) {
    engine_type_t r = {ENGINE_ANY, ENGINE_ANY, ENGINE_ANY, 64};
    r.kind = kind_of(t->kind, &r.bits);
    uint8_t b;
    if (t->kind == STORE_T_LIST || t->kind == STORE_T_SET) r.elem = kind_of(t->sub[0]->kind, &b);
    if (t->kind == STORE_T_MAP) {
        r.key = kind_of(t->sub[0]->kind, &b);
        r.elem = kind_of(t->sub[1]->kind, &b);
    }
    /* Nested collections travel as dynamic values. */
    if ((r.kind == ENGINE_LIST || r.kind == ENGINE_SET || r.kind == ENGINE_MAP) &&
        (r.elem == ENGINE_LIST || r.elem == ENGINE_SET || r.elem == ENGINE_MAP))
        r.elem = ENGINE_ANY;
    return r;
}

static void be(wr_t *w, uint64_t v, int bytes) {
    uint8_t buf[8];
    for (int i = bytes - 1; i >= 0; i--) {
        buf[i] = (uint8_t)v;
        v >>= 8;
    }
    wr_bytes(w, buf, (size_t)bytes);
}

/* Through the store's own literal parser: numbers and strings as their text. */
static int via_constant(const store_type_t *t, const engine_val_t *v, wr_t *w, char *errstr, size_t errlen) {
    wr_t txt;
    wr_init(&txt, 32);
    engine_val_to_text(&txt, v);
    store_const_kind_t k = v->kind == ENGINE_INT ? STORE_CONST_INTEGER : v->kind == ENGINE_FLOAT ? STORE_CONST_FLOAT
                           : t->kind == STORE_T_DURATION                                   ? STORE_CONST_DURATION
                                                                                           : STORE_CONST_STRING;
    int rc = wr_ok(&txt) ? store_value_from_constant(t, k, txt.buf ? (const char *)txt.buf : "", txt.len, "value", w,
                                                     errstr, errlen)
                         : EDDY_ERR_NOMEM;
    wr_free(&txt);
    return rc;
}

static int mismatch(const store_type_t *t, const engine_val_t *v, char *errstr, size_t errlen) {
    char tn[64];
    return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "a %s value does not fit %s", engine_kind_name(v->kind),
                    store_type_cstr(t, tn, sizeof tn));
}

int engine_store_value(const store_type_t *t, const engine_val_t *v, wr_t *w, char *errstr, size_t errlen) {
    switch (t->kind) {
    case STORE_T_BOOLEAN:
        if (v->kind != ENGINE_BOOL) return mismatch(t, v, errstr, errlen);
        wr_u8(w, v->b);
        return EDDY_OK;
    case STORE_T_TINYINT:
    case STORE_T_SMALLINT:
    case STORE_T_INT:
    case STORE_T_BIGINT:
    case STORE_T_COUNTER: {
        if (v->kind != ENGINE_INT) return mismatch(t, v, errstr, errlen);
        int bytes = t->kind == STORE_T_TINYINT ? 1 : t->kind == STORE_T_SMALLINT ? 2 : t->kind == STORE_T_INT ? 4 : 8;
        int64_t lim = bytes == 8 ? INT64_MAX : ((int64_t)1 << (bytes * 8 - 1)) - 1;
        if (v->i > lim || v->i < -lim - 1)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%lld is out of range for %d-byte integers", (long long)v->i, bytes);
        be(w, (uint64_t)v->i, bytes);
        return EDDY_OK;
    }
    case STORE_T_FLOAT:
    case STORE_T_DOUBLE: {
        if (v->kind != ENGINE_INT && v->kind != ENGINE_FLOAT) return mismatch(t, v, errstr, errlen);
        double d = v->kind == ENGINE_INT ? (double)v->i : v->f;
        if (t->kind == STORE_T_FLOAT) {
            float f = (float)d;
            uint32_t u;
            memcpy(&u, &f, 4);
            be(w, u, 4);
        } else {
            uint64_t u;
            memcpy(&u, &d, 8);
            be(w, u, 8);
        }
        return EDDY_OK;
    }
    case STORE_T_ASCII:
    case STORE_T_TEXT:
    case STORE_T_BLOB:
        if (v->kind != ENGINE_TEXT && v->kind != ENGINE_BLOB) return mismatch(t, v, errstr, errlen);
        wr_bytes(w, v->s, v->len);
        return EDDY_OK;
    case STORE_T_TIMESTAMP:
        if (v->kind != ENGINE_TIMESTAMP && v->kind != ENGINE_INT) return mismatch(t, v, errstr, errlen);
        be(w, (uint64_t)v->i, 8);
        return EDDY_OK;
    case STORE_T_DATE:
        if (v->kind != ENGINE_DATE) return mismatch(t, v, errstr, errlen);
        if (v->i < -(int64_t)2147483648LL || v->i > 2147483647LL)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "date out of range");
        be(w, (uint64_t)(v->i + 2147483648LL), 4);
        return EDDY_OK;
    case STORE_T_UUID:
    case STORE_T_TIMEUUID:
        if (v->kind != ENGINE_UUID) return mismatch(t, v, errstr, errlen);
        wr_bytes(w, v->s, 16);
        return EDDY_OK;
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP: {
        const engine_val_t *items = v->items;
        uint32_t n = v->len;
        engine_val_t copy;
        arena_t a;
        arena_init(&a, 1024);
        int rc = EDDY_OK;
        if (v->kind == ENGINE_JSON) {
            if ((rc = engine_val_copy(&a, v, &copy))) goto out;
            items = copy.items;
            n = copy.len;
        } else if (!((v->kind == ENGINE_LIST || v->kind == ENGINE_SET) && t->kind != STORE_T_MAP) &&
                   !(v->kind == ENGINE_MAP && t->kind == STORE_T_MAP)) {
            rc = mismatch(t, v, errstr, errlen);
            goto out;
        }
        uint32_t width = t->kind == STORE_T_MAP ? 2 : 1;
        eddy_view_t *elems = eddy_malloc(((size_t)n * width + 1) * sizeof *elems);
        size_t *offs = eddy_malloc(((size_t)n * width + 1) * sizeof *offs);
        wr_t tmp;
        wr_init(&tmp, 256);
        if (!elems || !offs) rc = EDDY_ERR_NOMEM;
        for (uint32_t i = 0; !rc && i < n * width; i++) {
            const store_type_t *sub = t->sub[width == 2 ? i % 2 : 0];
            if (items[i].kind == ENGINE_NULL) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "null is not supported inside collections");
                break;
            }
            offs[i] = tmp.len;
            rc = engine_store_value(sub, &items[i], &tmp, errstr, errlen);
        }
        if (!rc && !wr_ok(&tmp)) rc = EDDY_ERR_NOMEM;
        for (uint32_t i = 0; !rc && i < n * width; i++)
            elems[i] = eddy_view(tmp.buf + offs[i], (i + 1 < n * width ? offs[i + 1] : tmp.len) - offs[i]);
        if (!rc) rc = store_value_build(t, elems, (size_t)n * width, w, errstr, errlen);
        wr_free(&tmp);
        eddy_free(elems);
        eddy_free(offs);
    out:
        arena_free(&a);
        return rc;
    }
    default:
        if (v->kind == ENGINE_LIST || v->kind == ENGINE_SET || v->kind == ENGINE_MAP || v->kind == ENGINE_JSON)
            return mismatch(t, v, errstr, errlen);
        return via_constant(t, v, w, errstr, errlen);
    }
}

static int64_t rd_be(const uint8_t *p, size_t n) {
    uint64_t v = p[0] & 0x80 ? UINT64_MAX : 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return (int64_t)v;
}

int engine_store_read(const store_type_t *t, const uint8_t *p, size_t n, arena_t *a, engine_val_t *out) {
    *out = engine_null();
    switch (t->kind) {
    case STORE_T_BOOLEAN:
        if (n != 1) return EDDY_ERR_CORRUPT;
        *out = engine_bool(p[0] != 0);
        return EDDY_OK;
    case STORE_T_TINYINT:
    case STORE_T_SMALLINT:
    case STORE_T_INT:
    case STORE_T_BIGINT:
    case STORE_T_COUNTER: {
        size_t want = t->kind == STORE_T_TINYINT ? 1 : t->kind == STORE_T_SMALLINT ? 2 : t->kind == STORE_T_INT ? 4 : 8;
        if (n == 0) return EDDY_OK; /* an empty value reads as null */
        if (n != want) return EDDY_ERR_CORRUPT;
        *out = engine_int(rd_be(p, n));
        return EDDY_OK;
    }
    case STORE_T_VARINT:
        if (n == 0 || n > 8) return EDDY_ERR_CORRUPT;
        *out = engine_int(rd_be(p, n));
        return EDDY_OK;
    case STORE_T_FLOAT: {
        if (n != 4) return n ? EDDY_ERR_CORRUPT : EDDY_OK;
        uint32_t u = (uint32_t)rd_be(p, 4);
        float f;
        memcpy(&f, &u, 4);
        *out = engine_float(f);
        return EDDY_OK;
    }
    case STORE_T_DOUBLE: {
        if (n != 8) return n ? EDDY_ERR_CORRUPT : EDDY_OK;
        uint64_t u = (uint64_t)rd_be(p, 8);
        double d;
        memcpy(&d, &u, 8);
        *out = engine_float(d);
        return EDDY_OK;
    }
    case STORE_T_ASCII:
    case STORE_T_TEXT: *out = engine_text((const char *)p, n); return EDDY_OK;
    case STORE_T_BLOB: *out = (engine_val_t){.kind = ENGINE_BLOB, .len = (uint32_t)n, .s = (const char *)p}; return EDDY_OK;
    case STORE_T_TIMESTAMP:
        if (n != 8) return n ? EDDY_ERR_CORRUPT : EDDY_OK;
        *out = engine_ts(rd_be(p, 8));
        return EDDY_OK;
    case STORE_T_DATE:
        if (n != 4) return n ? EDDY_ERR_CORRUPT : EDDY_OK;
        *out = (engine_val_t){.kind = ENGINE_DATE, .i = (int64_t)(uint32_t)rd_be(p, 4) - 2147483648LL};
        return EDDY_OK;
    case STORE_T_UUID:
    case STORE_T_TIMEUUID:
        if (n != 16) return n ? EDDY_ERR_CORRUPT : EDDY_OK;
        *out = (engine_val_t){.kind = ENGINE_UUID, .len = 16, .s = (const char *)p};
        return EDDY_OK;
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP: {
        long count = store_value_elements(t, p, n, NULL, 0);
        if (count < 0 || (size_t)count > n) return EDDY_ERR_CORRUPT;
        eddy_view_t *elems = count ? eddy_malloc((size_t)count * sizeof *elems) : NULL;
        engine_val_t *items = count ? arena_alloc(a, (size_t)count * sizeof *items) : NULL;
        if (count && (!elems || !items)) {
            eddy_free(elems);
            return EDDY_ERR_NOMEM;
        }
        if (count) store_value_elements(t, p, n, elems, (size_t)count);
        uint32_t width = t->kind == STORE_T_MAP ? 2 : 1;
        int rc = EDDY_OK;
        for (long i = 0; i < count && !rc; i++) {
            const store_type_t *sub = t->sub[width == 2 ? i % 2 : 0];
            if (!elems[i].ptr) items[i] = engine_null();
            else rc = engine_store_read(sub, elems[i].ptr, elems[i].len, a, &items[i]);
        }
        eddy_free(elems);
        if (rc) return rc;
        /* Sets and maps come sorted by Cassandra's order; the engine's own order may differ
         * (for example for numbers of different widths), so they are sorted again. */
        if (t->kind == STORE_T_LIST) {
            *out = (engine_val_t){.kind = ENGINE_LIST, .len = (uint32_t)count, .items = items};
            return EDDY_OK;
        }
        return engine_val_make_coll(a, t->kind == STORE_T_SET ? ENGINE_SET : ENGINE_MAP, items, (uint32_t)(count / width), out);
    }
    default: {
        /* Everything else reads as its text. */
        wr_t w;
        wr_init(&w, 32);
        store_value_format_text(t, p, n, &w);
        char *s = wr_ok(&w) ? arena_memdup(a, w.buf ? (const char *)w.buf : "", w.len ? w.len : 1) : NULL;
        size_t len = w.len;
        wr_free(&w);
        if (!s) return EDDY_ERR_NOMEM;
        *out = engine_text(s, len);
        if (t->kind == STORE_T_DECIMAL) {
            double d;
            char buf[64];
            snprintf(buf, sizeof buf, "%.*s", (int)EDDY_MIN(len, 63), s);
            if (sscanf(buf, "%lf", &d) == 1) *out = engine_float(d);
        }
        return EDDY_OK;
    }
    }
}
