/* Values in the native protocol's serialized form: validation (Cassandra's MarshalException
 * texts), comparators (Cassandra's AbstractType.compare for each type), building collections,
 * tuples and UDTs from elements, and iterating their elements. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"

void store_wr_value(wr_t *w, const uint8_t *p, size_t n) {
    if (!p) {
        wr_i32(w, -1);
        return;
    }
    wr_i32(w, (int32_t)n);
    wr_bytes(w, p, n);
}

/* ---- collection framing ---- */

int store_coll_open(store_coll_rd_t *c, const uint8_t *p, size_t n, int per) {
    c->r = rd_init(p, n);
    c->i = 0;
    c->count = rd_i32(&c->r);
    if (!rd_ok(&c->r) || c->count < 0) return EDDY_ERR_CORRUPT;
    c->total = (int64_t)c->count * per;
    /* Every value needs at least its 4-byte length. */
    if ((uint64_t)c->total * 4 > rd_remaining(&c->r)) return EDDY_ERR_CORRUPT;
    return EDDY_OK;
}

int store_coll_next(store_coll_rd_t *c, eddy_view_t *e) {
    if (c->i >= c->total) return 0;
    int32_t len = rd_i32(&c->r);
    if (!rd_ok(&c->r)) return EDDY_ERR_CORRUPT;
    c->i++;
    if (len < 0) {
        e->ptr = NULL;
        e->len = 0;
        return 1;
    }
    const uint8_t *p = rd_bytes(&c->r, (size_t)len);
    if (!p) return EDDY_ERR_CORRUPT;
    *e = eddy_view(p, (size_t)len);
    return 1;
}

/* ---- validation ---- */

static bool utf8_valid(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        /* ASCII runs 8 bytes at a time: most text is ASCII */
        while (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if (x & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static int validate_inner(const store_type_t *t, const uint8_t *p, size_t n, char *errstr, size_t errlen,
                          int depth) {
    if (depth > 64) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "value nested too deeply");
    switch (t->kind) {
    case STORE_T_ASCII:
        for (size_t i = 0; i < n; i++)
            if (p[i] > 127) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid byte for ascii: %d", (int8_t)p[i]);
        return EDDY_OK;
    case STORE_T_TEXT:
        if (!utf8_valid(p, n)) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "String didn't validate.");
        return EDDY_OK;
    case STORE_T_BLOB:
    case STORE_T_VARINT: return EDDY_OK;
    case STORE_T_BOOLEAN:
        if (n > 1) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 1 or 0 byte value (%zu)", n);
        return EDDY_OK;
    case STORE_T_TINYINT:
        if (n != 1 && n != 0) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 1 byte for a tinyint (%zu)", n);
        return EDDY_OK;
    case STORE_T_SMALLINT:
        if (n != 2 && n != 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 2 bytes for a smallint (%zu)", n);
        return EDDY_OK;
    case STORE_T_INT:
        if (n != 4 && n != 0) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 4 or 0 byte int (%zu)", n);
        return EDDY_OK;
    case STORE_T_BIGINT:
    case STORE_T_COUNTER:
        if (n != 8 && n != 0) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 8 or 0 byte long (%zu)", n);
        return EDDY_OK;
    case STORE_T_TIMESTAMP:
        if (n != 8 && n != 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 8 or 0 byte long for date (%zu)", n);
        return EDDY_OK;
    case STORE_T_FLOAT:
        if (n != 4 && n != 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 4 or 0 byte value for a float (%zu)", n);
        return EDDY_OK;
    case STORE_T_DOUBLE:
        if (n != 8 && n != 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 8 or 0 byte value for a double (%zu)", n);
        return EDDY_OK;
    case STORE_T_DECIMAL:
        if (n > 0 && n < 4) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 0 or at least 4 bytes (%zu)", n);
        return EDDY_OK;
    case STORE_T_UUID:
        if (n != 16 && n != 0) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "UUIDs must be exactly 16 bytes");
        return EDDY_OK;
    case STORE_T_TIMEUUID:
        if (n != 16 && n != 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "TimeUUID should be 16 or 0 bytes (%zu)", n);
        if (n && (p[6] & 0xF0) != 0x10)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid version for TimeUUID type.");
        return EDDY_OK;
    case STORE_T_INET:
        if (n != 4 && n != 16 && n != 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 4 or 16 byte inetaddress; got %zu bytes", n);
        return EDDY_OK;
    case STORE_T_DATE:
        if (n != 4 && n != 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 4 byte long for date (%zu)", n);
        return EDDY_OK;
    case STORE_T_TIME:
        if (n == 0) return EDDY_OK;
        if (n != 8) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected 8 byte long for time (%zu)", n);
        if (ld_i64(p) < 0 || ld_i64(p) > 86399999999999LL)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                            "Time value must be between 00:00:00.000000000 and 23:59:59.999999999");
        return EDDY_OK;
    case STORE_T_DURATION: {
        if (n == 0) return EDDY_OK;
        if (n < 3) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Expected at least 3 bytes for a duration (%zu)", n);
        rd_t r = rd_init(p, n);
        int64_t months, days, nanos;
        if (store_vint_read(&r, &months) || store_vint_read(&r, &days) || store_vint_read(&r, &nanos) ||
            rd_remaining(&r) != 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid duration value");
        if (months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid duration value");
        if ((months < 0 || days < 0 || nanos < 0) && (months > 0 || days > 0 || nanos > 0))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                            "The duration months, days and nanoseconds must be all of the same sign (%lld, %lld, %lld)",
                            (long long)months, (long long)days, (long long)nanos);
        return EDDY_OK;
    }
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP: {
        store_coll_rd_t c;
        int per = t->kind == STORE_T_MAP ? 2 : 1;
        if (store_coll_open(&c, p, n, per))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Not enough bytes to read a %s",
                            store_kind_cql_name(t->kind));
        eddy_view_t e;
        int rc;
        size_t i = 0;
        while ((rc = store_coll_next(&c, &e)) == 1) {
            const store_type_t *et = t->sub[i++ % per];
            if (!e.ptr) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "null is not supported inside collections");
            int vrc = validate_inner(et, e.ptr, e.len, errstr, errlen, depth + 1);
            if (vrc) return vrc;
        }
        if (rc < 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Not enough bytes to read a %s",
                            store_kind_cql_name(t->kind));
        if (rd_remaining(&c.r))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unexpected extraneous bytes after %s value",
                            store_kind_cql_name(t->kind));
        return EDDY_OK;
    }
    case STORE_T_TUPLE:
    case STORE_T_UDT: {
        rd_t r = rd_init(p, n);
        for (uint16_t i = 0; i < t->nsub && rd_remaining(&r); i++) {
            int32_t len = rd_i32(&r);
            if (!rd_ok(&r)) break;
            if (len < 0) continue;
            const uint8_t *f = rd_bytes(&r, (size_t)len);
            if (!f)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Not enough bytes to read %dth field %s", (int)i,
                                t->kind == STORE_T_UDT ? t->field_names[i] : "");
            int vrc = validate_inner(t->sub[i], f, (size_t)len, errstr, errlen, depth + 1);
            if (vrc) return vrc;
        }
        if (!rd_ok(&r)) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Not enough bytes to read a field size");
        if (rd_remaining(&r))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid remaining data after end of %s value",
                            t->kind == STORE_T_UDT ? "UDT" : "tuple");
        return EDDY_OK;
    }
    default: return eddy_err(errstr, errlen, EDDY_ERR_UNSUPPORTED, "unsupported type");
    }
}

int store_value_validate(const store_type_t *t, const uint8_t *p, size_t n, char *errstr, size_t errlen) {
    return validate_inner(t, p, n, errstr, errlen, 0);
}

/* ---- comparators ---- */

static int cmp_i64(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

/* Java's Float.compare / Double.compare: -0.0 < 0.0, NaN equal to itself and above everything. */
static int cmp_double(double a, double b) {
    if (a < b) return -1;
    if (a > b) return 1;
    bool an = isnan(a), bn = isnan(b);
    if (an || bn) return an == bn ? 0 : an ? 1 : -1;
    bool as = signbit(a), bs = signbit(b);
    return as == bs ? 0 : as ? -1 : 1;
}

static double ld_f64(const uint8_t *p) {
    uint64_t u = load_u64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}
static float ld_f32(const uint8_t *p) {
    uint32_t u = load_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int cmp_varint(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    bool aneg = an && (a[0] & 0x80), bneg = bn && (b[0] & 0x80);
    if (aneg != bneg) return aneg ? -1 : 1;
    /* strip redundant sign-extension bytes */
    uint8_t ext = aneg ? 0xFF : 0x00;
    while (an > 1 && a[0] == ext && ((a[1] & 0x80) == (ext & 0x80))) a++, an--;
    while (bn > 1 && b[0] == ext && ((b[1] & 0x80) == (ext & 0x80))) b++, bn--;
    if (an != bn) return (an < bn) != aneg ? -1 : 1;
    int c = memcmp(a, b, an);
    return c < 0 ? -1 : c > 0;
}

/* UUIDType: version, then (version 1) the timestamp, then unsigned bytes. */
static uint64_t uuid_reorder_msb(uint64_t msb) {
    return (msb << 48) | ((msb << 16) & 0xFFFF00000000ULL) | (msb >> 32);
}

static int cmp_uuid(const uint8_t *a, const uint8_t *b) {
    uint64_t am = load_u64(a), bm = load_u64(b);
    int av = (int)((am >> 12) & 0xF), bv = (int)((bm >> 12) & 0xF);
    if (av != bv) return av < bv ? -1 : 1;
    if (av == 1) {
        uint64_t ar = uuid_reorder_msb(am), br = uuid_reorder_msb(bm);
        if (ar != br) return ar < br ? -1 : 1;
    } else if (am != bm) {
        return am < bm ? -1 : 1;
    }
    uint64_t al = load_u64(a + 8), bl = load_u64(b + 8);
    return al < bl ? -1 : al > bl;
}

/* TimeUUIDType: the timestamp, then the last 8 bytes compared as signed bytes. */
static int cmp_timeuuid(const uint8_t *a, const uint8_t *b) {
    uint64_t ar = uuid_reorder_msb(load_u64(a)), br = uuid_reorder_msb(load_u64(b));
    if (ar != br) return (int64_t)ar < (int64_t)br ? -1 : 1;
    int64_t al = (int64_t)(load_u64(a + 8) ^ 0x0080808080808080ULL);
    int64_t bl = (int64_t)(load_u64(b + 8) ^ 0x0080808080808080ULL);
    return cmp_i64(al, bl);
}

static int cmp_decimal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    /* Order-preserving encodings compare as the numbers do (okey.c normalizes 1.0 and 1.00). */
    const store_type_t *dec = store_type_native(STORE_T_DECIMAL);
    wr_t wa, wb;
    wr_init(&wa, 32);
    wr_init(&wb, 32);
    store_okey_encode(dec, a, an, false, &wa);
    store_okey_encode(dec, b, bn, false, &wb);
    int c = store_bytes_cmp(wa.buf, wa.len, wb.buf, wb.len);
    wr_free(&wa);
    wr_free(&wb);
    return c < 0 ? -1 : c > 0;
}

static int cmp_inner(const store_type_t *t, const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

static int cmp_coll(const store_type_t *t, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    store_coll_rd_t ca, cb;
    int per = t->kind == STORE_T_MAP ? 2 : 1;
    if (store_coll_open(&ca, a, an, per) || store_coll_open(&cb, b, bn, per)) return store_bytes_cmp(a, an, b, bn);
    for (size_t i = 0;; i++) {
        eddy_view_t ea, eb;
        int ra = store_coll_next(&ca, &ea), rb = store_coll_next(&cb, &eb);
        if (ra != 1 || rb != 1) return ra == 1 ? 1 : rb == 1 ? -1 : 0;
        int c = cmp_inner(t->sub[i % per], ea.ptr, ea.len, eb.ptr, eb.len);
        if (c) return c;
    }
}

static int cmp_tuple(const store_type_t *t, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    rd_t ra = rd_init(a, an), rb = rd_init(b, bn);
    uint16_t i = 0;
    for (; i < t->nsub && rd_remaining(&ra) && rd_remaining(&rb); i++) {
        int32_t la = rd_i32(&ra), lb = rd_i32(&rb);
        if (la < 0) {
            if (lb < 0) continue;
            return -1;
        }
        if (lb < 0) return 1;
        const uint8_t *pa = rd_bytes(&ra, (size_t)la), *pb = rd_bytes(&rb, (size_t)lb);
        if (!pa || !pb) return store_bytes_cmp(a, an, b, bn);
        int c = cmp_inner(t->sub[i], pa, (size_t)la, pb, (size_t)lb);
        if (c) return c;
    }
    /* trailing fields: missing equals null; a non-null one is greater */
    while (rd_remaining(&ra)) {
        int32_t l = rd_i32(&ra);
        if (l >= 0) return 1;
    }
    while (rd_remaining(&rb)) {
        int32_t l = rd_i32(&rb);
        if (l >= 0) return -1;
    }
    return 0;
}

static int cmp_inner(const store_type_t *t, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    if (an == 0 || bn == 0) return an == 0 ? (bn == 0 ? 0 : -1) : 1;
    switch (t->kind) {
    case STORE_T_TINYINT: return cmp_i64((int8_t)a[0], (int8_t)b[0]);
    case STORE_T_SMALLINT: return cmp_i64((int16_t)load_u16(a), (int16_t)load_u16(b));
    case STORE_T_INT: return cmp_i64(ld_i32(a), ld_i32(b));
    case STORE_T_BIGINT:
    case STORE_T_COUNTER:
    case STORE_T_TIMESTAMP: return cmp_i64(ld_i64(a), ld_i64(b));
    case STORE_T_BOOLEAN: return cmp_i64(a[0] != 0, b[0] != 0);
    case STORE_T_FLOAT: return cmp_double(ld_f32(a), ld_f32(b));
    case STORE_T_DOUBLE: return cmp_double(ld_f64(a), ld_f64(b));
    case STORE_T_VARINT: return cmp_varint(a, an, b, bn);
    case STORE_T_DECIMAL: return cmp_decimal(a, an, b, bn);
    case STORE_T_UUID:
        if (an != 16 || bn != 16) return store_bytes_cmp(a, an, b, bn);
        return cmp_uuid(a, b);
    case STORE_T_TIMEUUID:
        if (an != 16 || bn != 16) return store_bytes_cmp(a, an, b, bn);
        return cmp_timeuuid(a, b);
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP: return cmp_coll(t, a, an, b, bn);
    case STORE_T_TUPLE:
    case STORE_T_UDT: return cmp_tuple(t, a, an, b, bn);
    default: {
        /* ascii, text, blob, inet, date, time, duration: unsigned bytes */
        int c = store_bytes_cmp(a, an, b, bn);
        return c < 0 ? -1 : c > 0;
    }
    }
}

int store_value_compare(const store_type_t *t, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    return cmp_inner(t, a, alen, b, blen);
}

/* ---- building and iterating ---- */

typedef struct {
    const store_type_t *t;
    eddy_view_t k, v;
    size_t order;
} entry_t;

static int entry_cmp(const void *pa, const void *pb) {
    const entry_t *a = pa, *b = pb;
    int c = store_value_compare(a->t, a->k.ptr, a->k.len, b->k.ptr, b->k.len);
    if (c) return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

int store_value_build(const store_type_t *t, const eddy_view_t *elems, size_t n, wr_t *out, char *errstr,
                      size_t errlen) {
    switch (t->kind) {
    case STORE_T_LIST:
        for (size_t i = 0; i < n; i++)
            if (!elems[i].ptr)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "null is not supported inside collections");
        wr_i32(out, (int32_t)n);
        for (size_t i = 0; i < n; i++) store_wr_value(out, elems[i].ptr, elems[i].len);
        return wr_ok(out) ? EDDY_OK : out->err;
    case STORE_T_SET:
    case STORE_T_MAP: {
        bool map = t->kind == STORE_T_MAP;
        size_t ne = map ? n / 2 : n;
        if (map && n % 2) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "map needs key/value pairs");
        entry_t *es = eddy_malloc((ne ? ne : 1) * sizeof *es);
        if (!es) return EDDY_ERR_NOMEM;
        for (size_t i = 0; i < ne; i++) {
            es[i].t = t->sub[0];
            es[i].k = map ? elems[2 * i] : elems[i];
            es[i].v = map ? elems[2 * i + 1] : eddy_view(NULL, 0);
            es[i].order = i;
            if (!es[i].k.ptr || (map && !es[i].v.ptr)) {
                eddy_free(es);
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "null is not supported inside collections");
            }
        }
        qsort(es, ne, sizeof *es, entry_cmp);
        /* keep the last of each run of equal keys (a later duplicate wins) */
        size_t m = 0;
        for (size_t i = 0; i < ne; i++) {
            if (i + 1 < ne && store_value_compare(t->sub[0], es[i].k.ptr, es[i].k.len, es[i + 1].k.ptr, es[i + 1].k.len) == 0)
                continue;
            es[m++] = es[i];
        }
        wr_i32(out, (int32_t)m);
        for (size_t i = 0; i < m; i++) {
            store_wr_value(out, es[i].k.ptr, es[i].k.len);
            if (map) store_wr_value(out, es[i].v.ptr, es[i].v.len);
        }
        eddy_free(es);
        return wr_ok(out) ? EDDY_OK : out->err;
    }
    case STORE_T_TUPLE:
    case STORE_T_UDT:
        if (n > t->nsub)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid %s literal: too many elements (expected %u, got %zu)",
                            t->kind == STORE_T_UDT ? "user type" : "tuple", t->nsub, n);
        for (size_t i = 0; i < n; i++) store_wr_value(out, elems[i].ptr, elems[i].len);
        for (size_t i = n; i < t->nsub; i++) wr_i32(out, -1);
        return wr_ok(out) ? EDDY_OK : out->err;
    default: return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "not a collection, tuple or user type");
    }
}

long store_value_elements(const store_type_t *t, const uint8_t *p, size_t n, eddy_view_t *elems, size_t max) {
    long count = 0;
    if (t->kind == STORE_T_TUPLE || t->kind == STORE_T_UDT) {
        rd_t r = rd_init(p, n);
        while (rd_remaining(&r)) {
            int32_t len = rd_i32(&r);
            eddy_view_t e = {NULL, 0};
            if (len >= 0) {
                const uint8_t *f = rd_bytes(&r, (size_t)len);
                if (!f) return EDDY_ERR_CORRUPT;
                e = eddy_view(f, (size_t)len);
            }
            if (!rd_ok(&r)) return EDDY_ERR_CORRUPT;
            if (elems && (size_t)count < max) elems[count] = e;
            count++;
        }
        return count;
    }
    if (!store_type_is_collection(t)) return EDDY_ERR_INVALID;
    store_coll_rd_t c;
    int per = t->kind == STORE_T_MAP ? 2 : 1;
    if (store_coll_open(&c, p, n, per)) return EDDY_ERR_CORRUPT;
    for (int32_t i = 0; i < c.count; i++) {
        for (int k = 0; k < per; k++) {
            int32_t len = rd_i32(&c.r);
            if (!rd_ok(&c.r) || len < 0) return EDDY_ERR_CORRUPT;
            const uint8_t *e = rd_bytes(&c.r, (size_t)len);
            if (!e) return EDDY_ERR_CORRUPT;
            if (elems && (size_t)count < max) elems[count] = eddy_view(e, (size_t)len);
            count++;
        }
    }
    return count;
}

/* ---- normalization ---- */

bool store_type_has_setmap(const store_type_t *t) {
    if (t->kind == STORE_T_SET || t->kind == STORE_T_MAP) return true;
    for (uint16_t i = 0; i < t->nsub; i++)
        if (store_type_has_setmap(t->sub[i])) return true;
    return false;
}

int store_value_normalize(const store_type_t *t, const uint8_t *p, size_t n, wr_t *out, int depth) {
    if (!store_type_has_setmap(t) || n == 0 || depth > 64) {
        wr_bytes(out, p, n);
        return wr_ok(out) ? EDDY_OK : out->err;
    }
    long ne = store_value_elements(t, p, n, NULL, 0);
    if (ne < 0) return EDDY_ERR_INVALID;
    eddy_view_t *el = eddy_malloc((size_t)(ne ? ne : 1) * sizeof *el);
    size_t *off = eddy_malloc((size_t)(ne ? ne : 1) * 2 * sizeof *off);
    wr_t scratch;
    wr_init(&scratch, n);
    int rc = el && off ? EDDY_OK : EDDY_ERR_NOMEM;
    if (rc == EDDY_OK) store_value_elements(t, p, n, el, (size_t)ne);
    for (long i = 0; rc == EDDY_OK && i < ne; i++) {
        const store_type_t *et = t->kind == STORE_T_MAP ? t->sub[i % 2]
                                 : (t->kind == STORE_T_TUPLE || t->kind == STORE_T_UDT) ? t->sub[i < t->nsub ? i : 0]
                                                                                        : t->sub[0];
        off[2 * i] = scratch.len;
        if (el[i].ptr) rc = store_value_normalize(et, el[i].ptr, el[i].len, &scratch, depth + 1);
        off[2 * i + 1] = scratch.len - off[2 * i];
    }
    for (long i = 0; rc == EDDY_OK && i < ne; i++)
        if (el[i].ptr) el[i] = eddy_view(scratch.buf ? scratch.buf + off[2 * i] : (const uint8_t *)"", off[2 * i + 1]);
    if (rc == EDDY_OK) rc = store_value_build(t, el, (size_t)ne, out, NULL, 0);
    eddy_free(el);
    eddy_free(off);
    wr_free(&scratch);
    return rc;
}
