/* Order-preserving, self-delimiting encodings of values ("okey"): memcmp on encodings orders as
 * Cassandra's comparator orders the values. Clustering keys and the paths of set elements and map
 * keys use them, so RocksDB's bytewise order is Cassandra's row order and the merge operator
 * needs no type information. DESC columns invert every byte of their component.
 *
 * A component starts with a marker: 01 null (tuple/UDT fields only), 02 empty value, 03 value,
 * then the type's body:
 *   tinyint..bigint, timestamp, counter  big-endian with the sign bit flipped
 *   boolean                              00 / 01
 *   float, double                        IEEE bits, negatives inverted, positives sign-flipped
 *   date, time                           their 4 / 8 bytes (already unsigned-ordered)
 *   uuid                                 version byte, then (v1) time-reordered msb or msb, lsb
 *   timeuuid                             time-reordered msb, lsb bytes xor 80 (signed bytes)
 *   varint                               81 | 7F, byte length (u32, inverted when negative),
 *                                        minimal two's complement bytes
 *   decimal                              01 neg | 02 zero | 03 pos, then exponent (i64 flipped)
 *                                        and digits as nibbles d+1 ending with nibble 0
 *                                        (inverted when negative): 1.0 and 1.00 encode alike
 *   text, ascii, blob, inet, duration    escaped bytes (00 -> 00 FF) ending with 00 01
 *   list, set, map (frozen)              elements (map: key, value) then 00
 *   tuple, UDT                           fields (trailing nulls dropped) then 00 */
#include "store/store_int.h"

#define MK_NULL 0x01
#define MK_EMPTY 0x02
#define MK_VALUE 0x03

/* ---- escaped bytes ---- */

void store_esc_encode(const uint8_t *p, size_t n, wr_t *w) {
    size_t i = 0;
    while (i < n) {
        const uint8_t *z = memchr(p + i, 0, n - i);
        size_t run = z ? (size_t)(z - (p + i)) : n - i;
        wr_bytes(w, p + i, run);
        i += run;
        if (z) {
            wr_u8(w, 0x00);
            wr_u8(w, 0xFF);
            i++;
        }
    }
    wr_u8(w, 0x00);
    wr_u8(w, 0x01);
}

/* A reader that undoes the DESC inversion on the fly. */
typedef struct {
    rd_t *r;
    uint8_t mask;
} kr_t;

static inline uint8_t kr_u8(kr_t *k) { return rd_u8(k->r) ^ k->mask; }

/* Escaped bytes back: runs between escapes are found with memchr and copied in bulk (inverted
 * for DESC, where the escape byte reads as FF). */
static int esc_decode(kr_t *k, wr_t *out) {
    rd_t *r = k->r;
    uint8_t zero = k->mask; /* an encoded 00 as stored */
    for (;;) {
        if (r->err || r->pos >= r->len) return EDDY_ERR_CORRUPT;
        const uint8_t *p = r->ptr + r->pos;
        size_t n = r->len - r->pos;
        const uint8_t *z = memchr(p, zero, n);
        if (!z || (size_t)(z - p) + 1 >= n) return EDDY_ERR_CORRUPT;
        size_t run = (size_t)(z - p);
        if (out && run) {
            uint8_t *o = wr_room(out, run);
            if (!o) return out->err;
            if (!k->mask) memcpy(o, p, run);
            else
                for (size_t i = 0; i < run; i++) o[i] = (uint8_t)~p[i];
            wr_advance(out, run);
        }
        uint8_t e = z[1] ^ k->mask;
        r->pos += run + 2;
        if (e == 0x01) return EDDY_OK;
        if (e != 0xFF) return EDDY_ERR_CORRUPT;
        if (out) wr_u8(out, 0x00);
    }
}

int store_esc_decode(rd_t *r, wr_t *out) {
    kr_t k = {r, 0};
    return esc_decode(&k, out);
}

/* ---- helpers ---- */

static void put_flipped(wr_t *w, const uint8_t *p, size_t n) {
    uint8_t *o = wr_reserve(w, n);
    if (!o) return;
    memcpy(o, p, n);
    o[0] ^= 0x80;
    wr_advance(w, n);
}

static uint64_t fbits64(uint64_t u) { return (u & 0x8000000000000000ULL) ? ~u : u ^ 0x8000000000000000ULL; }
static uint64_t fbits64_inv(uint64_t u) { return (u & 0x8000000000000000ULL) ? u ^ 0x8000000000000000ULL : ~u; }
static uint32_t fbits32(uint32_t u) { return (u & 0x80000000u) ? ~u : u ^ 0x80000000u; }
static uint32_t fbits32_inv(uint32_t u) { return (u & 0x80000000u) ? u ^ 0x80000000u : ~u; }

static uint64_t uuid_reorder(uint64_t msb) {
    return (msb << 48) | ((msb << 16) & 0xFFFF00000000ULL) | (msb >> 32);
}
static uint64_t uuid_unreorder(uint64_t r) { return (r << 32) | ((r >> 16) & 0xFFFF0000ULL) | (r >> 48); }

/* Decimal: sign class, exponent, digit nibbles. */
static void enc_decimal(const uint8_t *p, size_t n, wr_t *w) {
    int32_t scale = ld_i32(p);
    wr_t digits;
    wr_init(&digits, 32);
    bool neg;
    store_num_varint_to_digits(p + 4, n - 4, &neg, &digits);
    const char *d = (const char *)digits.buf;
    size_t nd = digits.len;
    if (nd == 1 && d[0] == '0') {
        wr_u8(w, 0x02);
        wr_free(&digits);
        return;
    }
    int64_t exp = (int64_t)nd - scale;
    while (nd > 1 && d[nd - 1] == '0') nd--;
    size_t start = w->len;
    wr_u8(w, neg ? 0x01 : 0x03);
    uint8_t eb[8];
    store_u64(eb, (uint64_t)exp ^ 0x8000000000000000ULL);
    wr_bytes(w, eb, 8);
    for (size_t i = 0; i < nd + 1; i += 2) {
        uint8_t hi = i < nd ? (uint8_t)(d[i] - '0' + 1) : 0;
        uint8_t lo = i + 1 < nd ? (uint8_t)(d[i + 1] - '0' + 1) : 0;
        wr_u8(w, (uint8_t)(hi << 4 | lo));
    }
    if (neg && wr_ok(w))
        for (size_t i = start + 1; i < w->len; i++) w->buf[i] = (uint8_t)~w->buf[i];
    wr_free(&digits);
}

static int dec_decimal(kr_t *k, wr_t *out) {
    uint8_t cls = kr_u8(k);
    if (cls == 0x02) {
        /* zero: scale 0, unscaled 0 */
        static const uint8_t zero[5] = {0, 0, 0, 0, 0};
        wr_bytes(out, zero, 5);
        return rd_ok(k->r) ? EDDY_OK : EDDY_ERR_CORRUPT;
    }
    if (cls != 0x01 && cls != 0x03) return EDDY_ERR_CORRUPT;
    uint8_t inv = cls == 0x01 ? 0xFF : 0x00;
    uint8_t eb[8];
    for (int i = 0; i < 8; i++) eb[i] = kr_u8(k) ^ inv;
    int64_t exp = (int64_t)(load_u64(eb) ^ 0x8000000000000000ULL);
    /* a 32-bit scale and a bounded digit count keep real exponents far from the extremes */
    if (exp < -(INT64_C(1) << 40) || exp > (INT64_C(1) << 40)) return EDDY_ERR_CORRUPT;
    wr_t digits;
    wr_init(&digits, 32);
    bool done = false;
    while (!done) {
        if (!rd_remaining(k->r)) {
            wr_free(&digits);
            return EDDY_ERR_CORRUPT;
        }
        uint8_t b = kr_u8(k) ^ inv;
        uint8_t nib[2] = {(uint8_t)(b >> 4), (uint8_t)(b & 0xF)};
        for (int i = 0; i < 2 && !done; i++) {
            if (nib[i] == 0) done = true;
            else if (nib[i] > 10) {
                wr_free(&digits);
                return EDDY_ERR_CORRUPT;
            } else wr_u8(&digits, (uint8_t)('0' + nib[i] - 1));
        }
    }
    int64_t scale = (int64_t)digits.len - exp;
    /* trailing zeros were dropped: put some back when the scale would not fit 32 bits */
    while (scale < INT32_MIN && digits.len < (1u << 20) && wr_ok(&digits)) {
        wr_u8(&digits, '0');
        scale++;
    }
    if (digits.len == 0 || scale < INT32_MIN || scale > INT32_MAX) {
        wr_free(&digits);
        return EDDY_ERR_CORRUPT;
    }
    wr_i32(out, (int32_t)scale);
    int rc = store_num_digits_to_varint((const char *)digits.buf, digits.len, inv != 0, out);
    wr_free(&digits);
    return rc;
}

/* ---- encode ---- */

static void enc_body(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w);

static void enc_component(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w) {
    if (!p) {
        wr_u8(w, MK_NULL);
        return;
    }
    if (n == 0) {
        wr_u8(w, MK_EMPTY);
        return;
    }
    wr_u8(w, MK_VALUE);
    enc_body(t, p, n, w);
}

static void enc_body(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w) {
    switch (t->kind) {
    case STORE_T_TINYINT:
    case STORE_T_SMALLINT:
    case STORE_T_INT:
    case STORE_T_BIGINT:
    case STORE_T_COUNTER:
    case STORE_T_TIMESTAMP: put_flipped(w, p, n); break;
    case STORE_T_BOOLEAN: wr_u8(w, p[0] != 0); break;
    case STORE_T_FLOAT: {
        uint32_t u = load_u32(p);
        if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu)) u = 0x7FC00000u; /* one NaN */
        wr_u32(w, fbits32(u));
        break;
    }
    case STORE_T_DOUBLE: {
        uint64_t u = load_u64(p);
        if ((u & 0x7FF0000000000000ULL) == 0x7FF0000000000000ULL && (u & 0x000FFFFFFFFFFFFFULL))
            u = 0x7FF8000000000000ULL;
        wr_u64(w, fbits64(u));
        break;
    }
    case STORE_T_DATE:
    case STORE_T_TIME: wr_bytes(w, p, n); break;
    case STORE_T_UUID: {
        uint64_t msb = load_u64(p);
        uint8_t version = (uint8_t)((msb >> 12) & 0xF);
        wr_u8(w, version);
        wr_u64(w, version == 1 ? uuid_reorder(msb) : msb);
        wr_bytes(w, p + 8, 8);
        break;
    }
    case STORE_T_TIMEUUID: {
        wr_u64(w, uuid_reorder(load_u64(p)));
        for (int i = 8; i < 16; i++) wr_u8(w, p[i] ^ 0x80);
        break;
    }
    case STORE_T_VARINT: {
        const uint8_t *q = p;
        size_t m = n;
        store_num_varint_trim(&q, &m);
        bool neg = q[0] & 0x80;
        wr_u8(w, neg ? 0x7F : 0x81);
        wr_u32(w, neg ? ~(uint32_t)m : (uint32_t)m);
        wr_bytes(w, q, m);
        break;
    }
    case STORE_T_DECIMAL: enc_decimal(p, n, w); break;
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP: {
        store_coll_rd_t c;
        int per = t->kind == STORE_T_MAP ? 2 : 1;
        if (store_coll_open(&c, p, n, per) == EDDY_OK) {
            eddy_view_t e;
            for (size_t i = 0; store_coll_next(&c, &e) == 1; i++) enc_component(t->sub[i % per], e.ptr ? e.ptr : (const uint8_t *)"", e.len, w);
        }
        wr_u8(w, 0x00);
        break;
    }
    case STORE_T_TUPLE:
    case STORE_T_UDT: {
        eddy_view_t f[256];
        long nf = store_value_elements(t, p, n, f, EDDY_ARRAY_LEN(f));
        if (nf > (long)EDDY_ARRAY_LEN(f)) nf = (long)EDDY_ARRAY_LEN(f);
        while (nf > 0 && !f[nf - 1].ptr) nf--;
        for (long i = 0; i < nf && i < t->nsub; i++) enc_component(t->sub[i], f[i].ptr, f[i].len, w);
        wr_u8(w, 0x00);
        break;
    }
    default: store_esc_encode(p, n, w); break;
    }
}

void store_okey_encode(const store_type_t *t, const uint8_t *p, size_t n, bool desc, wr_t *w) {
    size_t start = w->len;
    enc_component(t, p, n, w);
    if (desc && wr_ok(w))
        for (size_t i = start; i < w->len; i++) w->buf[i] = (uint8_t)~w->buf[i];
}

/* ---- decode ---- */

static int dec_body(const store_type_t *t, kr_t *k, wr_t *out);

static int dec_component(const store_type_t *t, kr_t *k, wr_t *out, bool *is_null) {
    *is_null = false;
    uint8_t m = kr_u8(k);
    if (!rd_ok(k->r)) return EDDY_ERR_CORRUPT;
    if (m == MK_NULL) {
        *is_null = true;
        return EDDY_OK;
    }
    if (m == MK_EMPTY) return EDDY_OK;
    if (m != MK_VALUE) return EDDY_ERR_CORRUPT;
    return dec_body(t, k, out);
}

static int fixed(kr_t *k, wr_t *out, size_t n, bool flip) {
    uint8_t b[16];
    for (size_t i = 0; i < n; i++) b[i] = kr_u8(k);
    if (!rd_ok(k->r)) return EDDY_ERR_CORRUPT;
    if (flip) b[0] ^= 0x80;
    wr_bytes(out, b, n);
    return EDDY_OK;
}

/* Serialized elements are collected into a scratch writer with their framing. */
static int dec_elements(const store_type_t *t, kr_t *k, wr_t *out, bool tuple) {
    size_t count_at = out->len;
    if (!tuple) wr_u32(out, 0);
    uint32_t count = 0;
    for (;;) {
        if (!rd_remaining(k->r)) return EDDY_ERR_CORRUPT;
        uint8_t peek = k->r->ptr[k->r->pos] ^ k->mask;
        if (peek == 0x00) {
            rd_skip(k->r, 1);
            break;
        }
        const store_type_t *et;
        if (tuple) {
            if (count >= t->nsub) return EDDY_ERR_CORRUPT;
            et = t->sub[count];
        } else {
            et = t->kind == STORE_T_MAP ? t->sub[count % 2] : t->sub[0];
        }
        size_t len_at = out->len;
        wr_u32(out, 0);
        bool is_null;
        int rc = dec_component(et, k, out, &is_null);
        if (rc) return rc;
        if (is_null) {
            if (!tuple) return EDDY_ERR_CORRUPT;
            wr_patch_u32(out, len_at, 0xFFFFFFFFu);
        } else {
            wr_patch_u32(out, len_at, (uint32_t)(out->len - len_at - 4));
        }
        count++;
    }
    if (tuple) {
        for (uint32_t i = count; i < t->nsub; i++) wr_i32(out, -1);
    } else {
        if (t->kind == STORE_T_MAP && count % 2) return EDDY_ERR_CORRUPT;
        wr_patch_u32(out, count_at, t->kind == STORE_T_MAP ? count / 2 : count);
    }
    return wr_ok(out) ? EDDY_OK : out->err;
}

static int dec_body(const store_type_t *t, kr_t *k, wr_t *out) {
    switch (t->kind) {
    case STORE_T_TINYINT: return fixed(k, out, 1, true);
    case STORE_T_SMALLINT: return fixed(k, out, 2, true);
    case STORE_T_INT: return fixed(k, out, 4, true);
    case STORE_T_BIGINT:
    case STORE_T_COUNTER:
    case STORE_T_TIMESTAMP: return fixed(k, out, 8, true);
    case STORE_T_BOOLEAN: return fixed(k, out, 1, false);
    case STORE_T_DATE: return fixed(k, out, 4, false);
    case STORE_T_TIME: return fixed(k, out, 8, false);
    case STORE_T_FLOAT: {
        uint8_t b[4];
        for (int i = 0; i < 4; i++) b[i] = kr_u8(k);
        wr_u32(out, fbits32_inv(load_u32(b)));
        return rd_ok(k->r) ? EDDY_OK : EDDY_ERR_CORRUPT;
    }
    case STORE_T_DOUBLE: {
        uint8_t b[8];
        for (int i = 0; i < 8; i++) b[i] = kr_u8(k);
        wr_u64(out, fbits64_inv(load_u64(b)));
        return rd_ok(k->r) ? EDDY_OK : EDDY_ERR_CORRUPT;
    }
    case STORE_T_UUID: {
        uint8_t b[17];
        for (int i = 0; i < 17; i++) b[i] = kr_u8(k);
        if (!rd_ok(k->r)) return EDDY_ERR_CORRUPT;
        uint64_t m = load_u64(b + 1);
        wr_u64(out, b[0] == 1 ? uuid_unreorder(m) : m);
        wr_bytes(out, b + 9, 8);
        return EDDY_OK;
    }
    case STORE_T_TIMEUUID: {
        uint8_t b[16];
        for (int i = 0; i < 16; i++) b[i] = kr_u8(k);
        if (!rd_ok(k->r)) return EDDY_ERR_CORRUPT;
        wr_u64(out, uuid_unreorder(load_u64(b)));
        for (int i = 8; i < 16; i++) wr_u8(out, b[i] ^ 0x80);
        return EDDY_OK;
    }
    case STORE_T_VARINT: {
        uint8_t sign = kr_u8(k);
        uint8_t lb[4];
        for (int i = 0; i < 4; i++) lb[i] = kr_u8(k);
        uint32_t len = load_u32(lb);
        if (sign == 0x7F) len = ~len;
        else if (sign != 0x81) return EDDY_ERR_CORRUPT;
        if (!rd_ok(k->r) || len == 0 || len > rd_remaining(k->r)) return EDDY_ERR_CORRUPT;
        uint8_t *o = wr_reserve(out, len);
        if (!o) return out->err;
        for (uint32_t i = 0; i < len; i++) o[i] = kr_u8(k);
        wr_advance(out, len);
        return rd_ok(k->r) ? EDDY_OK : EDDY_ERR_CORRUPT;
    }
    case STORE_T_DECIMAL: return dec_decimal(k, out);
    case STORE_T_LIST:
    case STORE_T_SET:
    case STORE_T_MAP: return dec_elements(t, k, out, false);
    case STORE_T_TUPLE:
    case STORE_T_UDT: return dec_elements(t, k, out, true);
    default: return esc_decode(k, out);
    }
}

int store_okey_decode(const store_type_t *t, rd_t *r, bool desc, wr_t *out, bool *is_null) {
    kr_t k = {r, desc ? 0xFF : 0x00};
    int rc = dec_component(t, &k, out, is_null);
    if (rc == EDDY_OK && !wr_ok(out)) rc = out->err;
    return rc;
}

int store_okey_skip(const store_type_t *t, rd_t *r, bool desc) {
    wr_t scratch;
    wr_init(&scratch, 32);
    bool is_null;
    int rc = store_okey_decode(t, r, desc, &scratch, &is_null);
    wr_free(&scratch);
    return rc;
}
