/* The transport layer of the native protocol: v4 frames (9-byte header, optional lz4 or snappy
 * body) and v5 segments (a CRC24-protected 3-byte header, or 5 bytes with lz4, then a payload
 * of up to 128 KiB - 1 and its CRC32, seeded with the bytes FA 2D 55 CA as Cassandra's Crc.java
 * does; the spec does not say so). One codec object per connection turns received bytes into
 * envelopes and finished envelopes into wire bytes, in place. */
#include <lz4.h>
#include <snappy-c.h>
#include <stdio.h>
#include <zlib.h>

#include "cql/cql_int.h"

struct cql_codec {
    bool server;              /* decodes requests, encodes responses */
    uint8_t version;          /* fixed by set_version; 0 accepts any supported version */
    cql_compression_t compression;
    bool framed;
    size_t max_body;
    wr_t in;                  /* received bytes; in_pos is the first unconsumed one */
    size_t in_pos;
    wr_t payload;             /* v5: the current self-contained payload, decompressed */
    size_t payload_pos;
    wr_t large;               /* v5: an envelope gathered from non-self-contained segments */
    bool large_done;          /* large holds an envelope that was returned; reset next call */
    wr_t scratch;             /* decompression and re-framing */
};

/* ---- small pieces --------------------------------------------------------------------------- */

int cql_header_decode(const uint8_t *p, size_t n, cql_header_t *h) {
    if (n < CQL_HEADER_SIZE) return EDDY_ERR_NEED_MORE;
    h->response = (p[0] & 0x80) != 0;
    h->version = p[0] & 0x7f;
    h->flags = p[1];
    h->stream = (int16_t)load_u16(p + 2);
    h->opcode = p[4];
    h->length = load_u32(p + 5);
    return EDDY_OK;
}

size_t cql_env_begin(wr_t *w, uint8_t version, bool response, uint8_t flags, int16_t stream,
                     uint8_t opcode) {
    size_t start = w->len;
    wr_u8(w, (uint8_t)(version | (response ? 0x80 : 0)));
    wr_u8(w, flags);
    wr_u16(w, (uint16_t)stream);
    wr_u8(w, opcode);
    wr_u32(w, 0);
    return start;
}

void cql_env_end(wr_t *w, size_t start) {
    if (!wr_ok(w)) return;
    wr_patch_u32(w, start + 5, (uint32_t)(w->len - start - CQL_HEADER_SIZE));
}

uint32_t cql_crc24(uint64_t value, int bytes) {
    uint32_t crc = 0x875060;
    for (int i = 0; i < bytes; i++) {
        crc ^= (uint32_t)(value & 0xff) << 16;
        value >>= 8;
        for (int b = 0; b < 8; b++) {
            crc <<= 1;
            if (crc & 0x1000000) crc ^= 0x1974F0B;
        }
    }
    return crc & 0xffffff;
}

uint32_t cql_crc32(const void *p, size_t n) {
    static const uint8_t seed[4] = {0xFA, 0x2D, 0x55, 0xCA};
    uLong crc = crc32(0L, seed, sizeof seed);
    /* zlib takes a uInt length: feed large inputs in pieces. */
    const uint8_t *b = p;
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

/* Below this size compression costs more than it saves (lz4 resets a 16 KiB state per call):
 * such payloads go out raw, which both v4 (no compression flag) and v5 (uncompressed length 0)
 * allow. */
#define CQL_COMPRESS_MIN 512

static uint64_t load_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void store_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++, v >>= 8) p[i] = (uint8_t)v;
}

/* ---- codec object --------------------------------------------------------------------------- */

cql_codec_t *cql_codec_new(bool server, size_t max_body) {
    cql_codec_t *c = eddy_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->server = server;
    c->max_body = max_body ? max_body : CQL_MAX_BODY;
    wr_init(&c->in, 0);
    wr_init(&c->payload, 0);
    wr_init(&c->large, 0);
    wr_init(&c->scratch, 0);
    return c;
}

void cql_codec_free(cql_codec_t *c) {
    if (!c) return;
    wr_free(&c->in);
    wr_free(&c->payload);
    wr_free(&c->large);
    wr_free(&c->scratch);
    eddy_free(c);
}

void cql_codec_set_version(cql_codec_t *c, uint8_t version) { c->version = version; }
uint8_t cql_codec_version(const cql_codec_t *c) { return c->version; }
void cql_codec_set_compression(cql_codec_t *c, cql_compression_t comp) { c->compression = comp; }
cql_compression_t cql_codec_compression(const cql_codec_t *c) { return c->compression; }
void cql_codec_start_framing(cql_codec_t *c) { c->framed = true; }
bool cql_codec_framed(const cql_codec_t *c) { return c->framed; }

size_t cql_codec_pending(const cql_codec_t *c) {
    return c->in.len - c->in_pos + (c->payload.len - c->payload_pos) + c->large.len;
}

int cql_codec_feed(cql_codec_t *c, const void *p, size_t n) {
    if (c->in_pos > 0) { /* compact: drop what was consumed */
        memmove(c->in.buf, c->in.buf + c->in_pos, c->in.len - c->in_pos);
        c->in.len -= c->in_pos;
        c->in_pos = 0;
    }
    wr_bytes(&c->in, p, n);
    return wr_ok(&c->in) ? EDDY_OK : EDDY_ERR_NOMEM;
}

/* ---- compression ---------------------------------------------------------------------------- */

/* Decompresses a v4 frame body into c->scratch. */
static int v4_decompress(cql_codec_t *c, const uint8_t *p, size_t n, eddy_view_t *out, char *errstr,
                         size_t errlen) {
    wr_reset(&c->scratch);
    if (c->compression == CQL_COMPRESSION_LZ4) {
        if (n < 4) return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "lz4 frame body shorter than its length prefix");
        uint32_t ulen = load_u32(p);
        if (ulen > c->max_body)
            return eddy_err(errstr, errlen, EDDY_ERR_TOO_LARGE, "lz4 frame body of %u bytes is over the limit", ulen);
        uint8_t *dst = wr_reserve(&c->scratch, ulen ? ulen : 1);
        if (!dst) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory decompressing a frame");
        if (n - 4 > INT32_MAX) return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "lz4 frame too large");
        int got = ulen == 0 ? 0 : LZ4_decompress_safe((const char *)p + 4, (char *)dst, (int)(n - 4), (int)ulen);
        if (got < 0 || (uint32_t)got != ulen)
            return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "lz4 frame body does not decompress to its %u bytes", ulen);
        wr_advance(&c->scratch, ulen);
    } else if (c->compression == CQL_COMPRESSION_SNAPPY) {
        size_t ulen;
        if (snappy_uncompressed_length((const char *)p, n, &ulen) != SNAPPY_OK)
            return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "snappy frame body has no valid length");
        if (ulen > c->max_body)
            return eddy_err(errstr, errlen, EDDY_ERR_TOO_LARGE, "snappy frame body of %zu bytes is over the limit", ulen);
        uint8_t *dst = wr_reserve(&c->scratch, ulen ? ulen : 1);
        if (!dst) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory decompressing a frame");
        size_t got = ulen;
        if (snappy_uncompress((const char *)p, n, (char *)dst, &got) != SNAPPY_OK || got != ulen)
            return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "snappy frame body does not decompress");
        wr_advance(&c->scratch, ulen);
    } else {
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "compressed frame but no compression was agreed in STARTUP");
    }
    *out = eddy_view(c->scratch.buf, c->scratch.len);
    return EDDY_OK;
}

/* Compresses src into w (appending); returns the compressed length or -1. v4 lz4 bodies start
 * with the uncompressed length, big-endian; v5 segments carry it in their header instead. */
static long compress_into(cql_compression_t comp, const uint8_t *src, size_t n, wr_t *w, bool v4_prefix) {
    size_t start = w->len;
    if (comp == CQL_COMPRESSION_LZ4) {
        if (n > (size_t)LZ4_MAX_INPUT_SIZE) return -1;
        if (v4_prefix) wr_u32(w, (uint32_t)n);
        int bound = LZ4_compressBound((int)n);
        uint8_t *dst = wr_reserve(w, (size_t)bound);
        if (!dst) return -1;
        int got = LZ4_compress_default((const char *)src, (char *)dst, (int)n, bound);
        if (got <= 0) return -1;
        wr_advance(w, (size_t)got);
    } else if (comp == CQL_COMPRESSION_SNAPPY) {
        size_t bound = snappy_max_compressed_length(n);
        uint8_t *dst = wr_reserve(w, bound);
        if (!dst) return -1;
        size_t got = bound;
        if (snappy_compress((const char *)src, n, (char *)dst, &got) != SNAPPY_OK) return -1;
        wr_advance(w, got);
    } else {
        return -1;
    }
    return (long)(w->len - start);
}

/* ---- input ---------------------------------------------------------------------------------- */

static int check_header(cql_codec_t *c, const cql_header_t *h, char *errstr, size_t errlen) {
    bool version_ok = c->version ? h->version == c->version
                                 : h->version >= CQL_VERSION_MIN && h->version <= CQL_VERSION_MAX;
    if (!version_ok) {
        if (c->version)
            return eddy_err(errstr, errlen, EDDY_ERR_UNSUPPORTED,
                            "Invalid message version. Got %u but previous messages on this connection had version %u",
                            h->version, c->version);
        return eddy_err(errstr, errlen, EDDY_ERR_UNSUPPORTED,
                        "Invalid or unsupported protocol version (%u); supported versions are (3/v3, 4/v4, 5/v5)",
                        h->version);
    }
    if (h->response == c->server)
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "%s frame where a %s was expected",
                        h->response ? "response" : "request", c->server ? "request" : "response");
    if (h->length > c->max_body)
        return eddy_err(errstr, errlen, EDDY_ERR_TOO_LARGE, "Request is too big: length %u exceeds maximum allowed length %zu",
                        h->length, c->max_body);
    return EDDY_OK;
}

/* v4 (and unframed v5 handshake) input: one frame straight from the received bytes. */
static int next_frame(cql_codec_t *c, cql_envelope_t *env, char *errstr, size_t errlen) {
    const uint8_t *p = c->in.buf + c->in_pos;
    size_t n = c->in.len - c->in_pos;
    if (cql_header_decode(p, n, &env->h) != EDDY_OK) return EDDY_ERR_NEED_MORE;
    int rc = check_header(c, &env->h, errstr, errlen);
    if (rc != EDDY_OK) return rc;
    if (n - CQL_HEADER_SIZE < env->h.length) return EDDY_ERR_NEED_MORE;
    const uint8_t *body = p + CQL_HEADER_SIZE;
    c->in_pos += CQL_HEADER_SIZE + env->h.length;
    env->body = eddy_view(body, env->h.length);
    /* The compression flag means nothing in v5 (the segments compress); a v4 STARTUP is never
     * compressed, whatever its flag says. */
    if ((env->h.flags & CQL_FLAG_COMPRESSION) && env->h.version < 5 && env->h.length > 0 &&
        env->h.opcode != CQL_OP_STARTUP) {
        rc = v4_decompress(c, body, env->h.length, &env->body, errstr, errlen);
        if (rc != EDDY_OK) return rc;
    }
    env->h.flags &= (uint8_t)~CQL_FLAG_COMPRESSION;
    return EDDY_OK;
}

/* Reads one v5 segment from the received bytes; its (decompressed) payload is appended to dst.
 * Returns EDDY_OK with *self_contained set, EDDY_ERR_NEED_MORE, or an error. */
static int read_segment(cql_codec_t *c, wr_t *dst, bool *self_contained, char *errstr, size_t errlen) {
    const uint8_t *p = c->in.buf + c->in_pos;
    size_t n = c->in.len - c->in_pos;
    bool lz4 = c->compression == CQL_COMPRESSION_LZ4;
    int hlen = lz4 ? 5 : 3;
    if (n < (size_t)hlen + 3) return EDDY_ERR_NEED_MORE;
    uint64_t hv = load_le(p, hlen);
    uint32_t crc = (uint32_t)load_le(p + hlen, 3);
    if (cql_crc24(hv, hlen) != crc)
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "segment header CRC24 mismatch (header %llx)", (unsigned long long)hv);
    uint32_t plen = (uint32_t)(hv & CQL_SEGMENT_MAX_PAYLOAD);
    uint32_t ulen = 0;
    if (lz4) ulen = (uint32_t)(hv >> 17 & CQL_SEGMENT_MAX_PAYLOAD);
    *self_contained = (hv >> (lz4 ? 34 : 17) & 1) != 0;
    size_t total = (size_t)hlen + 3 + plen + 4;
    if (n < total) return EDDY_ERR_NEED_MORE;
    const uint8_t *payload = p + hlen + 3;
    uint32_t want = (uint32_t)load_le(payload + plen, 4);
    if (cql_crc32(payload, plen) != want)
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "segment payload CRC32 mismatch (%u bytes)", plen);
    if (dst->len + (ulen ? ulen : plen) > c->max_body + CQL_HEADER_SIZE)
        return eddy_err(errstr, errlen, EDDY_ERR_TOO_LARGE, "envelope over the size limit of %zu bytes", c->max_body);
    if (lz4 && ulen > 0) {
        uint8_t *out = wr_reserve(dst, ulen);
        if (!out) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory reading a segment");
        int got = LZ4_decompress_safe((const char *)payload, (char *)out, (int)plen, (int)ulen);
        if (got < 0 || (uint32_t)got != ulen)
            return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "lz4 segment does not decompress to its %u bytes", ulen);
        wr_advance(dst, ulen);
    } else {
        wr_bytes(dst, payload, plen);
        if (!wr_ok(dst)) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory reading a segment");
    }
    c->in_pos += total;
    return EDDY_OK;
}

/* Takes one envelope from buf at *pos; a self-contained payload must hold whole envelopes. */
static int envelope_at(cql_codec_t *c, const wr_t *buf, size_t *pos, bool must_be_whole,
                       cql_envelope_t *env, char *errstr, size_t errlen) {
    const uint8_t *p = buf->buf + *pos;
    size_t n = buf->len - *pos;
    if (cql_header_decode(p, n, &env->h) != EDDY_OK) {
        if (must_be_whole)
            return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "self-contained segment ends inside an envelope header");
        return EDDY_ERR_NEED_MORE;
    }
    int rc = check_header(c, &env->h, errstr, errlen);
    if (rc != EDDY_OK) return rc == EDDY_ERR_UNSUPPORTED ? EDDY_ERR_CORRUPT : rc;
    if (n - CQL_HEADER_SIZE < env->h.length) {
        if (must_be_whole)
            return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "self-contained segment ends inside an envelope body");
        return EDDY_ERR_NEED_MORE;
    }
    env->body = eddy_view(p + CQL_HEADER_SIZE, env->h.length);
    env->h.flags &= (uint8_t)~CQL_FLAG_COMPRESSION;
    *pos += CQL_HEADER_SIZE + env->h.length;
    return EDDY_OK;
}

static int next_framed(cql_codec_t *c, cql_envelope_t *env, char *errstr, size_t errlen) {
    if (c->large_done) {
        wr_reset(&c->large);
        c->large_done = false;
    }
    for (;;) {
        if (c->payload_pos < c->payload.len)
            return envelope_at(c, &c->payload, &c->payload_pos, true, env, errstr, errlen);
        wr_reset(&c->payload);
        c->payload_pos = 0;
        bool self_contained;
        if (c->large.len == 0) {
            int rc = read_segment(c, &c->payload, &self_contained, errstr, errlen);
            if (rc != EDDY_OK) return rc;
            if (self_contained) continue;
            /* The first part of a large envelope: move it over. */
            wr_bytes(&c->large, c->payload.buf, c->payload.len);
            wr_reset(&c->payload);
        } else {
            int rc = read_segment(c, &c->large, &self_contained, errstr, errlen);
            if (rc != EDDY_OK) return rc;
            if (self_contained)
                return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "self-contained segment inside a large envelope");
        }
        if (!wr_ok(&c->large)) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory reading a segment");
        size_t pos = 0;
        int rc = envelope_at(c, &c->large, &pos, false, env, errstr, errlen);
        if (rc == EDDY_ERR_NEED_MORE) continue;
        if (rc != EDDY_OK) return rc;
        if (pos != c->large.len)
            return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "large envelope followed by extra bytes in its last segment");
        c->large_done = true;
        return EDDY_OK;
    }
}

int cql_codec_next(cql_codec_t *c, cql_envelope_t *env, char *errstr, size_t errlen) {
    memset(env, 0, sizeof *env);
    if (!c->framed) return next_frame(c, env, errstr, errlen);
    return next_framed(c, env, errstr, errlen);
}

/* ---- output --------------------------------------------------------------------------------- */

/* The output side needs only these three facts and a scratch buffer, so that answers can be
 * framed on whichever thread finishes them. */
cql_outfmt_t cql_codec_outfmt(const cql_codec_t *c) {
    cql_outfmt_t f = {c->version, c->compression, c->framed};
    return f;
}

static int segment_header_size(const cql_outfmt_t *f) {
    return (f->compression == CQL_COMPRESSION_LZ4 ? 5 : 3) + 3;
}

size_t cql_out_begin(const cql_outfmt_t *f, wr_t *out) {
    size_t mark = out->len;
    if (f->framed) wr_mark(out, (size_t)segment_header_size(f));
    return mark;
}

/* Appends one segment holding payload[0..n) to w. */
static void write_segment(const cql_outfmt_t *f, wr_t *w, const uint8_t *payload, size_t n, bool self_contained) {
    bool lz4 = f->compression == CQL_COMPRESSION_LZ4;
    int hlen = lz4 ? 5 : 3;
    size_t hdr = wr_mark(w, (size_t)hlen + 3);
    size_t body = w->len;
    uint64_t ulen = 0;
    if (lz4 && n >= CQL_COMPRESS_MIN) {
        long got = compress_into(CQL_COMPRESSION_LZ4, payload, n, w, false);
        if (got >= 0 && (size_t)got < n) {
            ulen = n;
        } else { /* not smaller: send it raw, uncompressed length 0 */
            w->len = body;
            if (w->err == EDDY_OK) wr_bytes(w, payload, n);
        }
    } else {
        wr_bytes(w, payload, n);
    }
    if (!wr_ok(w)) return;
    size_t plen = w->len - body;
    uint64_t hv = plen | ulen << 17 | (uint64_t)(self_contained ? 1 : 0) << (lz4 ? 34 : 17);
    store_le(w->buf + hdr, hv, hlen);
    store_le(w->buf + hdr + hlen, cql_crc24(hv, hlen), 3);
    uint8_t crc[4];
    store_le(crc, cql_crc32(w->buf + body, plen), 4);
    wr_bytes(w, crc, 4);
}

/* v4 with compression: compress each envelope's body between start and the end of out. */
static int v4_compress_range(const cql_outfmt_t *f, wr_t *out, size_t start, wr_t *scratch) {
    wr_reset(scratch);
    size_t pos = start;
    while (pos < out->len) {
        cql_header_t h;
        cql_header_decode(out->buf + pos, out->len - pos, &h);
        const uint8_t *body = out->buf + pos + CQL_HEADER_SIZE;
        size_t hpos = scratch->len;
        wr_bytes(scratch, out->buf + pos, CQL_HEADER_SIZE);
        if (h.length >= CQL_COMPRESS_MIN && h.opcode != CQL_OP_STARTUP) {
            long got = compress_into(f->compression, body, h.length, scratch, true);
            if (got < 0) return EDDY_ERR_NOMEM;
            scratch->buf[hpos + 1] |= CQL_FLAG_COMPRESSION;
            store_u32(scratch->buf + hpos + 5, (uint32_t)got);
        } else {
            wr_bytes(scratch, body, h.length);
        }
        pos += CQL_HEADER_SIZE + h.length;
    }
    if (!wr_ok(scratch)) return EDDY_ERR_NOMEM;
    out->len = start;
    wr_bytes(out, scratch->buf, scratch->len);
    return wr_ok(out) ? EDDY_OK : EDDY_ERR_NOMEM;
}

/* v5: the envelopes in out[start..) become segments. Small runs of envelopes share one
 * self-contained segment; an envelope over the payload limit is cut into a run of
 * non-self-contained ones. */
static int v5_segment_range(const cql_outfmt_t *f, wr_t *out, size_t mark, wr_t *scratch) {
    size_t hs = (size_t)segment_header_size(f);
    size_t start = mark + hs;
    size_t n = out->len - start;
    if (n == 0) {
        out->len = mark;
        return EDDY_OK;
    }
    /* Fast path: one uncompressed self-contained segment, built in place (with lz4, a payload too
     * small to compress keeps the 5-byte header with an uncompressed length of 0). */
    bool lz4 = f->compression == CQL_COMPRESSION_LZ4;
    if ((!lz4 || n < CQL_COMPRESS_MIN) && n <= CQL_SEGMENT_MAX_PAYLOAD) {
        int hlen = lz4 ? 5 : 3;
        uint64_t hv = n | (uint64_t)1 << (lz4 ? 34 : 17);
        store_le(out->buf + mark, hv, hlen);
        store_le(out->buf + mark + hlen, cql_crc24(hv, hlen), 3);
        uint8_t crc[4];
        store_le(crc, cql_crc32(out->buf + start, n), 4);
        wr_bytes(out, crc, 4);
        return wr_ok(out) ? EDDY_OK : EDDY_ERR_NOMEM;
    }
    wr_reset(scratch);
    size_t pos = start, run = start;
    while (pos < out->len) {
        cql_header_t h;
        cql_header_decode(out->buf + pos, out->len - pos, &h);
        size_t elen = CQL_HEADER_SIZE + (size_t)h.length;
        if (elen > CQL_SEGMENT_MAX_PAYLOAD) {
            if (pos > run) write_segment(f, scratch, out->buf + run, pos - run, true);
            for (size_t off = 0; off < elen; off += CQL_SEGMENT_MAX_PAYLOAD) {
                size_t part = EDDY_MIN(CQL_SEGMENT_MAX_PAYLOAD, elen - off);
                write_segment(f, scratch, out->buf + pos + off, part, false);
            }
            pos += elen;
            run = pos;
            continue;
        }
        if (pos + elen - run > CQL_SEGMENT_MAX_PAYLOAD) {
            write_segment(f, scratch, out->buf + run, pos - run, true);
            run = pos;
        }
        pos += elen;
    }
    if (pos > run) write_segment(f, scratch, out->buf + run, pos - run, true);
    if (!wr_ok(scratch)) return EDDY_ERR_NOMEM;
    out->len = mark;
    wr_bytes(out, scratch->buf, scratch->len);
    return wr_ok(out) ? EDDY_OK : EDDY_ERR_NOMEM;
}

int cql_out_end(const cql_outfmt_t *f, wr_t *out, size_t mark, wr_t *scratch) {
    if (!wr_ok(out)) {
        int err = out->err;
        out->len = mark;
        return err;
    }
    int rc = EDDY_OK;
    if (f->framed) rc = v5_segment_range(f, out, mark, scratch);
    else if (f->compression != CQL_COMPRESSION_NONE && f->version && f->version < 5)
        rc = v4_compress_range(f, out, mark, scratch);
    if (rc != EDDY_OK) out->len = mark;
    return rc;
}

size_t cql_codec_out_begin(cql_codec_t *c, wr_t *out) {
    cql_outfmt_t f = cql_codec_outfmt(c);
    return cql_out_begin(&f, out);
}

int cql_codec_out_end(cql_codec_t *c, wr_t *out, size_t mark) {
    cql_outfmt_t f = cql_codec_outfmt(c);
    int rc = cql_out_end(&f, out, mark, &c->scratch);
    if (c->scratch.cap > (1u << 20)) { /* don't keep a huge buffer for one big answer */
        wr_free(&c->scratch);
        wr_init(&c->scratch, 0);
    }
    return rc;
}
