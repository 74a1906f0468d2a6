/* The bounds-checked byte reader and the growable writer shared by every codec. */
#include <stdio.h>

#include "base/base.h"

void rd_fail(rd_t *r, int err) {
    if (r->err == EDDY_OK) r->err = err;
}

/* Returns a pointer to the next n bytes and advances, or NULL after marking a short read. */
static inline const uint8_t *rd_take(rd_t *r, size_t n) {
    if (r->err) return NULL;
    if (r->len - r->pos < n) {
        r->err = EDDY_ERR_NEED_MORE;
        return NULL;
    }
    const uint8_t *p = r->ptr + r->pos;
    r->pos += n;
    return p;
}

uint8_t rd_u8(rd_t *r) {
    const uint8_t *p = rd_take(r, 1);
    return p ? p[0] : 0;
}
int8_t rd_i8(rd_t *r) { return (int8_t)rd_u8(r); }
uint16_t rd_u16(rd_t *r) {
    const uint8_t *p = rd_take(r, 2);
    return p ? load_u16(p) : 0;
}
int16_t rd_i16(rd_t *r) { return (int16_t)rd_u16(r); }
uint32_t rd_u32(rd_t *r) {
    const uint8_t *p = rd_take(r, 4);
    return p ? load_u32(p) : 0;
}
int32_t rd_i32(rd_t *r) { return (int32_t)rd_u32(r); }
uint64_t rd_u64(rd_t *r) {
    const uint8_t *p = rd_take(r, 8);
    return p ? load_u64(p) : 0;
}
int64_t rd_i64(rd_t *r) { return (int64_t)rd_u64(r); }

uint32_t rd_u32_le(rd_t *r) {
    const uint8_t *p = rd_take(r, 4);
    if (!p) return 0;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
uint64_t rd_u64_le(rd_t *r) {
    uint64_t lo = rd_u32_le(r);
    uint64_t hi = rd_u32_le(r);
    return lo | hi << 32;
}

double rd_f64(rd_t *r) {
    uint64_t u = rd_u64(r);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
float rd_f32(rd_t *r) {
    uint32_t u = rd_u32(r);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint64_t rd_uvarint64(rd_t *r) {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        const uint8_t *p = rd_take(r, 1);
        if (!p) return 0;
        v |= (uint64_t)(p[0] & 0x7f) << shift;
        if (!(p[0] & 0x80)) return v;
    }
    rd_fail(r, EDDY_ERR_CORRUPT); /* more than 10 bytes */
    return 0;
}

uint32_t rd_uvarint32(rd_t *r) {
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        const uint8_t *p = rd_take(r, 1);
        if (!p) return 0;
        if (shift == 28 && (p[0] & 0xf0)) break; /* would overflow 32 bits */
        v |= (uint32_t)(p[0] & 0x7f) << shift;
        if (!(p[0] & 0x80)) return v;
    }
    rd_fail(r, EDDY_ERR_CORRUPT);
    return 0;
}

int32_t rd_varint32(rd_t *r) {
    uint32_t u = rd_uvarint32(r);
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

int64_t rd_varint64(rd_t *r) {
    uint64_t u = rd_uvarint64(r);
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

const uint8_t *rd_bytes(rd_t *r, size_t n) { return rd_take(r, n); }

eddy_view_t rd_view(rd_t *r, size_t n) {
    const uint8_t *p = rd_take(r, n);
    return eddy_view(p, p ? n : 0);
}

void rd_skip(rd_t *r, size_t n) { (void)rd_take(r, n); }

int32_t rd_count_check(rd_t *r, int64_t n, int64_t max) {
    if (r->err) return 0;
    if (n < 0 || n > max) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return 0;
    }
    return (int32_t)n;
}

/* ---- writer ---- */

void wr_init(wr_t *w, size_t initial_cap) {
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
    w->max = 0;
    w->err = EDDY_OK;
    if (initial_cap) {
        w->buf = eddy_malloc(initial_cap);
        if (w->buf) w->cap = initial_cap;
        else w->err = EDDY_ERR_NOMEM;
    }
}

void wr_free(wr_t *w) {
    eddy_free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    w->err = EDDY_OK;
}

void wr_reset(wr_t *w) {
    w->len = 0;
    w->err = EDDY_OK;
}

uint8_t *wr_steal(wr_t *w, size_t *len) {
    uint8_t *b = w->buf;
    if (len) *len = w->len;
    w->buf = NULL;
    w->len = w->cap = 0;
    return b;
}

uint8_t *wr_reserve(wr_t *w, size_t n) {
    if (w->err) return NULL;
    if (w->cap - w->len >= n) return w->buf + w->len;
    if (w->max && w->len + n > w->max) {
        w->err = EDDY_ERR_TOO_LARGE;
        return NULL;
    }
    size_t cap = w->cap ? w->cap : 64;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->err = EDDY_ERR_TOO_LARGE;
            return NULL;
        }
        cap *= 2;
    }
    if (w->max && cap > w->max) cap = w->max;
    uint8_t *b = eddy_realloc(w->buf, cap);
    if (!b) {
        w->err = EDDY_ERR_NOMEM;
        return NULL;
    }
    w->buf = b;
    w->cap = cap;
    return w->buf + w->len;
}

void wr_advance(wr_t *w, size_t n) {
    if (!w->err) w->len += n;
}

void wr_bytes(wr_t *w, const void *p, size_t n) {
    uint8_t *d = wr_reserve(w, n);
    if (!d) return;
    if (n) memcpy(d, p, n);
    w->len += n;
}

void wr_str(wr_t *w, const char *s) { wr_bytes(w, s, strlen(s)); }

void wr_fmt(wr_t *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (!w->err) w->err = EDDY_ERR_INVALID;
        return;
    }
    if ((size_t)n < sizeof small) {
        wr_bytes(w, small, (size_t)n);
        return;
    }
    uint8_t *d = wr_reserve(w, (size_t)n + 1);
    if (!d) return;
    va_start(ap, fmt);
    vsnprintf((char *)d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->len += (size_t)n;
}

void wr_u8(wr_t *w, uint8_t v) {
    uint8_t *d = wr_reserve(w, 1);
    if (d) {
        d[0] = v;
        w->len += 1;
    }
}
void wr_u16(wr_t *w, uint16_t v) {
    uint8_t *d = wr_reserve(w, 2);
    if (d) {
        store_u16(d, v);
        w->len += 2;
    }
}
void wr_u32(wr_t *w, uint32_t v) {
    uint8_t *d = wr_reserve(w, 4);
    if (d) {
        store_u32(d, v);
        w->len += 4;
    }
}
void wr_u64(wr_t *w, uint64_t v) {
    uint8_t *d = wr_reserve(w, 8);
    if (d) {
        store_u64(d, v);
        w->len += 8;
    }
}
void wr_u32_le(wr_t *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wr_bytes(w, b, 4);
}
void wr_u64_le(wr_t *w, uint64_t v) {
    wr_u32_le(w, (uint32_t)v);
    wr_u32_le(w, (uint32_t)(v >> 32));
}
void wr_f64(wr_t *w, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    wr_u64(w, u);
}
void wr_f32(wr_t *w, float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    wr_u32(w, u);
}

void wr_uvarint(wr_t *w, uint64_t v) {
    uint8_t *d = wr_reserve(w, 10);
    if (!d) return;
    size_t n = 0;
    while (v >= 0x80) {
        d[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    d[n++] = (uint8_t)v;
    w->len += n;
}

void wr_varint(wr_t *w, int64_t v) { wr_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

size_t varint_size_unsigned(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t varint_size_signed(int64_t v) {
    return varint_size_unsigned(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

size_t wr_mark(wr_t *w, size_t n) {
    size_t off = w->len;
    uint8_t *d = wr_reserve(w, n);
    if (d) {
        memset(d, 0, n);
        w->len += n;
    }
    return off;
}

void wr_patch_u16(wr_t *w, size_t off, uint16_t v) {
    if (!w->err && off + 2 <= w->len) store_u16(w->buf + off, v);
}
void wr_patch_u32(wr_t *w, size_t off, uint32_t v) {
    if (!w->err && off + 4 <= w->len) store_u32(w->buf + off, v);
}
void wr_patch_u64(wr_t *w, size_t off, uint64_t v) {
    if (!w->err && off + 8 <= w->len) store_u64(w->buf + off, v);
}
