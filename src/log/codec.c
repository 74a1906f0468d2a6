/* The four compression codecs of Kafka record batches, through Debian's libraries: gzip (zlib),
 * snappy (libsnappy; raw as librdkafka writes it, or xerial-framed as the Java client writes it),
 * lz4 (liblz4's frame format) and zstd (libzstd). Decompression is bounded by a caller's maximum
 * so that a small hostile batch cannot inflate into gigabytes. */
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "log/log_int.h"

#define CHUNK (64 * 1024)

static int too_big(log_err_t *err, size_t max) {
    return log_fail(err, EDDY_ERR_TOO_LARGE, LOG_ERR_CORRUPT_MESSAGE,
                    "decompressed batch exceeds %zu bytes", max);
}

static int bad(log_err_t *err, const char *codec, const char *what) {
    return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_CORRUPT_MESSAGE, "%s payload is corrupt: %s",
                    codec, what ? what : "invalid data");
}

/* ---- gzip ---- */

static int gzip_compress(int level, const uint8_t *src, size_t len, wr_t *w, log_err_t *err) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "deflateInit2 failed");
    size_t bound = deflateBound(&zs, (uLong)len) + 32;
    uint8_t *out = wr_reserve(w, bound);
    if (!out) {
        deflateEnd(&zs);
        return log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
    }
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)bound;
    int zrc = deflate(&zs, Z_FINISH);
    size_t n = bound - zs.avail_out;
    deflateEnd(&zs);
    if (zrc != Z_STREAM_END) return log_fail(err, EDDY_ERR_IO, LOG_ERR_CORRUPT_MESSAGE, "deflate failed (%d)", zrc);
    wr_advance(w, n);
    return EDDY_OK;
}

static int gzip_decompress(const uint8_t *src, size_t len, wr_t *w, size_t max, log_err_t *err) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "inflateInit2 failed");
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)len;
    size_t produced = 0;
    int rc = EDDY_OK;
    for (;;) {
        uint8_t *out = wr_reserve(w, CHUNK);
        if (!out) {
            rc = log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
            break;
        }
        zs.next_out = out;
        zs.avail_out = CHUNK;
        int zrc = inflate(&zs, Z_NO_FLUSH);
        size_t n = CHUNK - zs.avail_out;
        wr_advance(w, n);
        produced += n;
        if (produced > max) {
            rc = too_big(err, max);
            break;
        }
        if (zrc == Z_STREAM_END) {
            if (zs.avail_in == 0) break;
            /* Concatenated gzip members. */
            if (inflateReset(&zs) != Z_OK) {
                rc = bad(err, "gzip", "reset failed");
                break;
            }
            continue;
        }
        if (zrc != Z_OK) {
            rc = bad(err, "gzip", zs.msg);
            break;
        }
        if (zs.avail_in == 0 && zs.avail_out != 0) {
            rc = bad(err, "gzip", "truncated stream");
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

/* ---- snappy ---- */

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

static int snappy_raw(const uint8_t *src, size_t len, wr_t *w, size_t max, size_t *produced,
                      log_err_t *err) {
    size_t out_len;
    if (snappy_uncompressed_length((const char *)src, len, &out_len) != SNAPPY_OK)
        return bad(err, "snappy", "bad length header");
    if (out_len > max || *produced + out_len > max) return too_big(err, max);
    uint8_t *out = wr_reserve(w, out_len);
    if (!out) return log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
    size_t got = out_len;
    if (snappy_uncompress((const char *)src, len, (char *)out, &got) != SNAPPY_OK || got != out_len)
        return bad(err, "snappy", NULL);
    wr_advance(w, got);
    *produced += got;
    return EDDY_OK;
}

static int snappy_decompress(const uint8_t *src, size_t len, wr_t *w, size_t max, log_err_t *err) {
    size_t produced = 0;
    if (len < 16 || memcmp(src, xerial_magic, sizeof xerial_magic) != 0)
        return snappy_raw(src, len, w, max, &produced, err);
    /* xerial: magic, version, compatible version, then [u32 length][raw snappy block]... */
    rd_t r = rd_init(src + 16, len - 16);
    while (rd_remaining(&r) > 0) {
        uint32_t n = rd_u32(&r);
        const uint8_t *block = rd_bytes(&r, n);
        if (!rd_ok(&r)) return bad(err, "snappy", "truncated xerial block");
        int rc = snappy_raw(block, n, w, max, &produced, err);
        if (rc != EDDY_OK) return rc;
    }
    return EDDY_OK;
}

static int snappy_compress_raw(const uint8_t *src, size_t len, wr_t *w, log_err_t *err) {
    size_t bound = snappy_max_compressed_length(len);
    uint8_t *out = wr_reserve(w, bound);
    if (!out) return log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
    size_t n = bound;
    if (snappy_compress((const char *)src, len, (char *)out, &n) != SNAPPY_OK)
        return log_fail(err, EDDY_ERR_IO, LOG_ERR_CORRUPT_MESSAGE, "snappy_compress failed");
    wr_advance(w, n);
    return EDDY_OK;
}

/* ---- lz4 (frame format) ---- */

static int lz4_compress(int level, const uint8_t *src, size_t len, wr_t *w, log_err_t *err) {
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.compressionLevel = level;
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    uint8_t *out = wr_reserve(w, bound);
    if (!out) return log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
    size_t n = LZ4F_compressFrame(out, bound, src, len, &prefs);
    if (LZ4F_isError(n))
        return log_fail(err, EDDY_ERR_IO, LOG_ERR_CORRUPT_MESSAGE, "lz4: %s", LZ4F_getErrorName(n));
    wr_advance(w, n);
    return EDDY_OK;
}

static int lz4_decompress(const uint8_t *src, size_t len, wr_t *w, size_t max, log_err_t *err) {
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "lz4 context");
    size_t produced = 0, pos = 0;
    int rc = EDDY_OK;
    size_t hint = 1;
    while (pos < len) {
        uint8_t *out = wr_reserve(w, CHUNK);
        if (!out) {
            rc = log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
            break;
        }
        size_t out_n = CHUNK, in_n = len - pos;
        hint = LZ4F_decompress(dctx, out, &out_n, src + pos, &in_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = bad(err, "lz4", LZ4F_getErrorName(hint));
            break;
        }
        pos += in_n;
        wr_advance(w, out_n);
        produced += out_n;
        if (produced > max) {
            rc = too_big(err, max);
            break;
        }
        if (in_n == 0 && out_n == 0) {
            rc = bad(err, "lz4", "no progress");
            break;
        }
    }
    /* Drain output still buffered in the context after the input is consumed. */
    while (rc == EDDY_OK && hint != 0) {
        uint8_t *out = wr_reserve(w, CHUNK);
        if (!out) {
            rc = log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
            break;
        }
        size_t out_n = CHUNK, in_n = 0;
        hint = LZ4F_decompress(dctx, out, &out_n, NULL, &in_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = bad(err, "lz4", LZ4F_getErrorName(hint));
            break;
        }
        wr_advance(w, out_n);
        produced += out_n;
        if (produced > max) rc = too_big(err, max);
        else if (out_n == 0 && hint != 0) rc = bad(err, "lz4", "truncated frame");
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

/* ---- zstd ---- */

static int zstd_compress(int level, const uint8_t *src, size_t len, wr_t *w, log_err_t *err) {
    size_t bound = ZSTD_compressBound(len);
    uint8_t *out = wr_reserve(w, bound);
    if (!out) return log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
    size_t n = ZSTD_compress(out, bound, src, len, level ? level : ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n))
        return log_fail(err, EDDY_ERR_IO, LOG_ERR_CORRUPT_MESSAGE, "zstd: %s", ZSTD_getErrorName(n));
    wr_advance(w, n);
    return EDDY_OK;
}

static int zstd_decompress(const uint8_t *src, size_t len, wr_t *w, size_t max, log_err_t *err) {
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds) return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "zstd context");
    ZSTD_initDStream(ds);
    ZSTD_inBuffer in = {src, len, 0};
    size_t produced = 0, last = 1;
    int rc = EDDY_OK;
    while (in.pos < in.size || last != 0) {
        uint8_t *out = wr_reserve(w, CHUNK);
        if (!out) {
            rc = log_fail(err, w->err, LOG_ERR_NOMEM, "cannot grow output");
            break;
        }
        ZSTD_outBuffer ob = {out, CHUNK, 0};
        size_t before = in.pos;
        last = ZSTD_decompressStream(ds, &ob, &in);
        if (ZSTD_isError(last)) {
            rc = bad(err, "zstd", ZSTD_getErrorName(last));
            break;
        }
        wr_advance(w, ob.pos);
        produced += ob.pos;
        if (produced > max) {
            rc = too_big(err, max);
            break;
        }
        if (in.pos == before && ob.pos == 0) {
            rc = bad(err, "zstd", "truncated frame");
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return rc;
}

/* ---- dispatch ---- */

int log_codec_compress(log_codec_t codec, int level, const uint8_t *src, size_t len, wr_t *w,
                       log_err_t *err) {
    switch (codec) {
    case LOG_CODEC_NONE: wr_bytes(w, src, len); return wr_ok(w) ? EDDY_OK : w->err;
    case LOG_CODEC_GZIP: return gzip_compress(level, src, len, w, err);
    case LOG_CODEC_SNAPPY: return snappy_compress_raw(src, len, w, err);
    case LOG_CODEC_LZ4: return lz4_compress(level, src, len, w, err);
    case LOG_CODEC_ZSTD: return zstd_compress(level, src, len, w, err);
    }
    return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_UNSUPPORTED_COMPRESSION, "unknown codec %d", (int)codec);
}

int log_codec_decompress(log_codec_t codec, const uint8_t *src, size_t len, wr_t *w, size_t max,
                         log_err_t *err) {
    switch (codec) {
    case LOG_CODEC_NONE:
        if (len > max) return too_big(err, max);
        wr_bytes(w, src, len);
        return wr_ok(w) ? EDDY_OK : w->err;
    case LOG_CODEC_GZIP: return gzip_decompress(src, len, w, max, err);
    case LOG_CODEC_SNAPPY: return snappy_decompress(src, len, w, max, err);
    case LOG_CODEC_LZ4: return lz4_decompress(src, len, w, max, err);
    case LOG_CODEC_ZSTD: return zstd_decompress(src, len, w, max, err);
    }
    return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_UNSUPPORTED_COMPRESSION, "unknown codec %d", (int)codec);
}
