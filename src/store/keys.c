/* RocksDB keys of rows and partitions, and clustering slices.
 *
 * A row key is [table id u32][token u64, sign bit flipped][partition key, escaped][00 01]
 * [clustering components, okey-encoded, inverted for DESC]. Bytewise order is therefore token
 * order, then unsigned partition key bytes (Cassandra's DecoratedKey order), then clustering
 * order. A clustering range given in value order (store_crange_t) becomes a union of key
 * intervals [lo, hi) over the clustering part ("suffix"), where "" is the start of a partition
 * and "\xFF" its end: no component starts with 00 or FF. */
#include <stdlib.h>

#include "store/store_int.h"

void store_partition_key_serialize(const store_table_t *t, const eddy_view_t *pk, wr_t *w) {
    size_t n = t->info.npartition;
    if (n == 1) {
        wr_bytes(w, pk[0].ptr, pk[0].len);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        wr_u16(w, (uint16_t)pk[i].len);
        wr_bytes(w, pk[i].ptr, pk[i].len);
        wr_u8(w, 0);
    }
}

int64_t store_token(const store_table_t *t, const eddy_view_t *pk) {
    if (t->info.npartition == 1) return murmur3_token(pk[0].ptr, pk[0].len);
    wr_t w;
    uint8_t stack[512];
    size_t need = 0;
    for (size_t i = 0; i < t->info.npartition; i++) need += pk[i].len + 3;
    if (need <= sizeof stack) {
        size_t o = 0;
        for (size_t i = 0; i < t->info.npartition; i++) {
            store_u16(stack + o, (uint16_t)pk[i].len);
            if (pk[i].len) memcpy(stack + o + 2, pk[i].ptr, pk[i].len);
            stack[o + 2 + pk[i].len] = 0;
            o += pk[i].len + 3;
        }
        return murmur3_token(stack, o);
    }
    wr_init(&w, need);
    store_partition_key_serialize(t, pk, &w);
    int64_t tok = murmur3_token(w.buf, w.len);
    wr_free(&w);
    return tok;
}

void store_key_partition(const store_table_t *t, int64_t token, const uint8_t *pk, size_t pklen, wr_t *w) {
    uint8_t *p = wr_reserve(w, 12);
    if (!p) return;
    store_u32(p, t->info.id);
    store_token_bytes(token, p + 4);
    wr_advance(w, 12);
    store_esc_encode(pk, pklen, w);
}

/* Validates key values and builds the partition prefix (and, with nck > 0, the clustering
 * suffix) of a key into w; *pklen gets the prefix length. */
static int key_build(const store_table_t *t, const eddy_view_t *key, size_t nkey, wr_t *w, size_t *pklen,
                    int64_t *token, char *errstr, size_t errlen) {
    const store_table_info_t *in = &t->info;
    for (size_t i = 0; i < nkey; i++) {
        const store_column_t *c = &in->columns[i];
        if (!key[i].ptr)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid null value in condition for column %s", c->name);
        if (key[i].len > STORE_MAX_KEY_COMPONENT)
            return eddy_err(errstr, errlen, EDDY_ERR_TOO_LARGE, "Key length of %zu is longer than maximum of %d", key[i].len,
                            STORE_MAX_KEY_COMPONENT);
        if (i < in->npartition && key[i].len == 0 && in->npartition == 1)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Key may not be empty");
        int rc = store_value_validate(c->type, key[i].ptr, key[i].len, errstr, errlen);
        if (rc) return rc;
    }
    size_t start = w->len;
    if (in->npartition == 1) {
        /* the common case: hash and escape the value in place */
        *token = murmur3_token(key[0].ptr, key[0].len);
        store_key_partition(t, *token, key[0].ptr, key[0].len, w);
    } else {
        uint8_t stack[1024];
        size_t need = 0;
        for (size_t i = 0; i < in->npartition; i++) need += key[i].len + 3;
        uint8_t *buf = need <= sizeof stack ? stack : eddy_malloc(need);
        if (!buf) return EDDY_ERR_NOMEM;
        size_t o = 0;
        for (size_t i = 0; i < in->npartition; i++) {
            store_u16(buf + o, (uint16_t)key[i].len);
            if (key[i].len) memcpy(buf + o + 2, key[i].ptr, key[i].len);
            buf[o + 2 + key[i].len] = 0;
            o += key[i].len + 3;
        }
        *token = murmur3_token(buf, o);
        store_key_partition(t, *token, buf, o, w);
        if (buf != stack) eddy_free(buf);
    }
    *pklen = w->len - start;
    for (size_t i = in->npartition; i < nkey; i++) {
        const store_column_t *c = &in->columns[i];
        store_okey_encode(c->type, key[i].ptr, key[i].len, c->desc, w);
    }
    return wr_ok(w) ? EDDY_OK : w->err;
}

/* Key values with sets or maps inside are normalized first (Cassandra hashes and orders the
 * sorted form); others are used as given. */
int store_key_build(const store_table_t *t, const eddy_view_t *key, size_t nkey, wr_t *w, size_t *pklen,
                    int64_t *token, char *errstr, size_t errlen) {
    const store_table_info_t *in = &t->info;
    bool norm = false;
    for (size_t i = 0; i < nkey && !norm; i++) norm = store_type_has_setmap(in->columns[i].type) && key[i].ptr;
    if (!norm) return key_build(t, key, nkey, w, pklen, token, errstr, errlen);
    eddy_view_t nk[64];
    wr_t buf;
    wr_init(&buf, 256);
    size_t offs[64];
    int rc = nkey <= 64 ? EDDY_OK : EDDY_ERR_INVALID;
    for (size_t i = 0; rc == EDDY_OK && i < nkey; i++) {
        nk[i] = key[i];
        offs[i] = buf.len;
        if (!key[i].ptr || !store_type_has_setmap(in->columns[i].type)) continue;
        if ((rc = store_value_validate(in->columns[i].type, key[i].ptr, key[i].len, errstr, errlen))) break;
        rc = store_value_normalize(in->columns[i].type, key[i].ptr, key[i].len, &buf, 0);
        nk[i].len = buf.len - offs[i];
    }
    for (size_t i = 0; rc == EDDY_OK && i < nkey; i++)
        if (key[i].ptr && store_type_has_setmap(in->columns[i].type)) nk[i].ptr = buf.buf + offs[i];
    if (rc == EDDY_OK) rc = key_build(t, nk, nkey, w, pklen, token, errstr, errlen);
    wr_free(&buf);
    return rc;
}

/* Decodes a data or header key: token, partition key values and clustering values appended to
 * out as consecutive values, with views into out filled in vals (npartition + nclustering).
 * Clustering values are absent for header keys (*nvals says how many were decoded). */
int store_key_decode(const store_table_t *t, const uint8_t *k, size_t klen, int64_t *token, wr_t *out,
                     size_t *offs, size_t *lens, size_t *nvals) {
    const store_table_info_t *in = &t->info;
    if (klen < 12) return EDDY_ERR_CORRUPT;
    *token = store_token_from_bytes(k + 4);
    rd_t r = rd_init(k + 12, klen - 12);
    size_t pkstart = out->len;
    if (store_esc_decode(&r, out)) return EDDY_ERR_CORRUPT;
    size_t pkend = out->len;
    *nvals = 0;
    if (in->npartition == 1) {
        offs[0] = pkstart;
        lens[0] = pkend - pkstart;
        *nvals = 1;
    } else {
        rd_t p = rd_init(out->buf + pkstart, pkend - pkstart);
        for (size_t i = 0; i < in->npartition; i++) {
            uint16_t l = rd_u16(&p);
            size_t at = pkstart + p.pos;
            rd_skip(&p, l);
            rd_u8(&p);
            if (!rd_ok(&p)) return EDDY_ERR_CORRUPT;
            offs[i] = at;
            lens[i] = l;
        }
        *nvals = in->npartition;
    }
    for (size_t i = in->npartition; i < in->npartition + in->nclustering && rd_remaining(&r); i++) {
        const store_column_t *c = &in->columns[i];
        size_t at = out->len;
        bool is_null;
        if (store_okey_decode(c->type, &r, c->desc, out, &is_null) || is_null) return EDDY_ERR_CORRUPT;
        offs[i] = at;
        lens[i] = out->len - at;
        (*nvals)++;
    }
    if (rd_remaining(&r) || !wr_ok(out)) return EDDY_ERR_CORRUPT;
    return EDDY_OK;
}

/* Length of the partition prefix of a key (up to and including the 00 01 terminator), or 0. */
size_t store_key_partition_len(const uint8_t *k, size_t klen) {
    if (klen < 14) return 0;
    const uint8_t *p = k + 12, *end = k + klen;
    while (p + 1 < end) {
        const uint8_t *z = memchr(p, 0, (size_t)(end - p));
        if (!z || z + 1 >= end) return 0;
        if (z[1] == 0x01) return (size_t)(z + 2 - k);
        p = z + 2;
    }
    return 0;
}

/* ---- slices ---- */

/* Intervals as (lo, hi) pairs of byte strings kept in one writer. */
typedef struct {
    size_t lo, lol, hi, hil;
} iv_t;

typedef struct {
    wr_t b;
    iv_t *iv;
    size_t n, cap;
} ivset_t;

static int ivset_add(ivset_t *s, const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil) {
    if (store_bytes_cmp(lo, lol, hi, hil) >= 0) return EDDY_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        iv_t *a = eddy_realloc(s->iv, cap * sizeof *a);
        if (!a) return EDDY_ERR_NOMEM;
        s->iv = a;
        s->cap = cap;
    }
    iv_t *v = &s->iv[s->n++];
    v->lo = s->b.len;
    v->lol = lol;
    wr_bytes(&s->b, lo, lol);
    v->hi = s->b.len;
    v->hil = hil;
    wr_bytes(&s->b, hi, hil);
    return wr_ok(&s->b) ? EDDY_OK : s->b.err;
}

static const uint8_t FF = 0xFF;

/* Intervals of {c : c >= L} (lower) or {c : c <= U} (upper), in suffix key space. */
static int bound_intervals(const store_table_t *t, const store_cbound_t *b, bool lower, ivset_t *out, char *errstr,
                           size_t errlen) {
    const store_table_info_t *in = &t->info;
    if (b->n == 0) return ivset_add(out, (const uint8_t *)"", 0, &FF, 1);
    if (b->n > in->nclustering)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Too many clustering values (%zu) for the table", b->n);
    wr_t p;
    wr_init(&p, 64);
    int rc = EDDY_OK;
    for (size_t i = 0; i < b->n && rc == EDDY_OK; i++) {
        const store_column_t *c = &in->columns[in->npartition + i];
        if (!b->values[i].ptr) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid null value in condition for column %s", c->name);
            break;
        }
        if ((rc = store_value_validate(c->type, b->values[i].ptr, b->values[i].len, errstr, errlen))) break;
        size_t plen = p.len;
        store_okey_encode(c->type, b->values[i].ptr, b->values[i].len, c->desc, &p);
        /* p[0..plen) = prefix P, p[plen..) = enc(v_i) */
        wr_t lo, hi;
        wr_init(&lo, p.len + 2);
        wr_init(&hi, p.len + 2);
        bool greater = lower; /* lower: c_i > v_i; upper: c_i < v_i */
        bool toward_end = greater != c->desc; /* in key order: after enc(v_i) */
        if (toward_end) {
            wr_bytes(&lo, p.buf, p.len);
            wr_u8(&lo, 0xFF);
            wr_bytes(&hi, p.buf, plen);
            wr_u8(&hi, 0xFF);
        } else {
            wr_bytes(&lo, p.buf, plen);
            wr_bytes(&hi, p.buf, p.len);
        }
        rc = wr_ok(&lo) && wr_ok(&hi) ? ivset_add(out, lo.buf, lo.len, hi.buf, hi.len) : EDDY_ERR_NOMEM;
        wr_free(&lo);
        wr_free(&hi);
    }
    if (rc == EDDY_OK && b->inclusive) {
        wr_t hi;
        wr_init(&hi, p.len + 1);
        wr_bytes(&hi, p.buf, p.len);
        wr_u8(&hi, 0xFF);
        rc = wr_ok(&hi) ? ivset_add(out, p.buf ? p.buf : (const uint8_t *)"", p.len, hi.buf, hi.len) : EDDY_ERR_NOMEM;
        wr_free(&hi);
    }
    wr_free(&p);
    return rc;
}

/* Sorts by lo and merges overlapping or touching intervals into out (appended). */
static int normalize(ivset_t *s, store_slices_t *out) {
    /* insertion sort: interval counts are small */
    for (size_t i = 1; i < s->n; i++) {
        iv_t x = s->iv[i];
        size_t j = i;
        while (j > 0 && store_bytes_cmp(s->b.buf + s->iv[j - 1].lo, s->iv[j - 1].lol, s->b.buf + x.lo, x.lol) > 0) {
            s->iv[j] = s->iv[j - 1];
            j--;
        }
        s->iv[j] = x;
    }
    for (size_t i = 0; i < s->n;) {
        iv_t cur = s->iv[i++];
        while (i < s->n && store_bytes_cmp(s->b.buf + s->iv[i].lo, s->iv[i].lol, s->b.buf + cur.hi, cur.hil) <= 0) {
            if (store_bytes_cmp(s->b.buf + s->iv[i].hi, s->iv[i].hil, s->b.buf + cur.hi, cur.hil) > 0) {
                cur.hi = s->iv[i].hi;
                cur.hil = s->iv[i].hil;
            }
            i++;
        }
        int rc = store_slices_add(out, s->b.buf + cur.lo, cur.lol, s->b.buf + cur.hi, cur.hil);
        if (rc) return rc;
    }
    return EDDY_OK;
}

int store_slices_add(store_slices_t *s, const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        store_slice_t *a = eddy_realloc(s->v, cap * sizeof *a);
        if (!a) return EDDY_ERR_NOMEM;
        s->v = a;
        s->cap = cap;
    }
    store_slice_t *v = &s->v[s->n++];
    v->lo = s->bytes.len;
    v->lol = lol;
    wr_bytes(&s->bytes, lo, lol);
    v->hi = s->bytes.len;
    v->hil = hil;
    wr_bytes(&s->bytes, hi, hil);
    return wr_ok(&s->bytes) ? EDDY_OK : s->bytes.err;
}

void store_slices_reset(store_slices_t *s) {
    s->n = 0;
    wr_reset(&s->bytes);
}

void store_slices_free(store_slices_t *s) {
    eddy_free(s->v);
    wr_free(&s->bytes);
    memset(s, 0, sizeof *s);
}

int store_slices_build(const store_table_t *t, const store_crange_t *ranges, size_t nranges, store_slices_t *out,
                       char *errstr, size_t errlen) {
    store_slices_reset(out);
    ivset_t all = {0};
    wr_init(&all.b, 128);
    int rc = EDDY_OK;
    if (nranges == 0) rc = ivset_add(&all, (const uint8_t *)"", 0, &FF, 1);
    for (size_t r = 0; r < nranges && rc == EDDY_OK; r++) {
        ivset_t lo = {0}, hi = {0};
        wr_init(&lo.b, 64);
        wr_init(&hi.b, 64);
        rc = bound_intervals(t, &ranges[r].lo, true, &lo, errstr, errlen);
        if (rc == EDDY_OK) rc = bound_intervals(t, &ranges[r].hi, false, &hi, errstr, errlen);
        for (size_t i = 0; rc == EDDY_OK && i < lo.n; i++)
            for (size_t j = 0; rc == EDDY_OK && j < hi.n; j++) {
                const uint8_t *a1 = lo.b.buf + lo.iv[i].lo, *b1 = lo.b.buf + lo.iv[i].hi;
                const uint8_t *a2 = hi.b.buf + hi.iv[j].lo, *b2 = hi.b.buf + hi.iv[j].hi;
                size_t a1l = lo.iv[i].lol, b1l = lo.iv[i].hil, a2l = hi.iv[j].lol, b2l = hi.iv[j].hil;
                bool first = store_bytes_cmp(a1, a1l, a2, a2l) >= 0;
                bool second = store_bytes_cmp(b1, b1l, b2, b2l) <= 0;
                rc = ivset_add(&all, first ? a1 : a2, first ? a1l : a2l, second ? b1 : b2, second ? b1l : b2l);
            }
        eddy_free(lo.iv);
        eddy_free(hi.iv);
        wr_free(&lo.b);
        wr_free(&hi.b);
    }
    if (rc == EDDY_OK) rc = normalize(&all, out);
    eddy_free(all.iv);
    wr_free(&all.b);
    return rc;
}
