/* RecordBatch v2: header parsing, validation of batches producers send, the encoder for records
 * eddy builds itself, and the record parser the decoder uses. Layout: apache/kafka
 * docs/implementation.html (record batch, record, header). */
#include <stdarg.h>
#include <stdio.h>

#include "log/log_int.h"

int log_fail(log_err_t *err, int status, log_reason_t reason, const char *fmt, ...) {
    if (err) {
        err->reason = reason;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *log_reason_name(log_reason_t reason) {
    static const char *const names[] = {
        [LOG_ERR_NONE] = "NONE",
        [LOG_ERR_CORRUPT_MESSAGE] = "CORRUPT_MESSAGE",
        [LOG_ERR_CRC] = "CORRUPT_MESSAGE_CRC",
        [LOG_ERR_MAGIC] = "UNSUPPORTED_FOR_MESSAGE_FORMAT",
        [LOG_ERR_MESSAGE_TOO_LARGE] = "MESSAGE_TOO_LARGE",
        [LOG_ERR_RECORD_LIST_TOO_LARGE] = "RECORD_LIST_TOO_LARGE",
        [LOG_ERR_INVALID_RECORD] = "INVALID_RECORD",
        [LOG_ERR_UNSUPPORTED_COMPRESSION] = "UNSUPPORTED_COMPRESSION_TYPE",
        [LOG_ERR_TRANSACTIONAL] = "TRANSACTIONAL_UNSUPPORTED",
        [LOG_ERR_OUT_OF_ORDER_SEQUENCE] = "OUT_OF_ORDER_SEQUENCE_NUMBER",
        [LOG_ERR_INVALID_PRODUCER_EPOCH] = "INVALID_PRODUCER_EPOCH",
        [LOG_ERR_UNKNOWN_PRODUCER_ID] = "UNKNOWN_PRODUCER_ID",
        [LOG_ERR_UNKNOWN_TOPIC] = "UNKNOWN_TOPIC_OR_PARTITION",
        [LOG_ERR_UNKNOWN_PARTITION] = "UNKNOWN_TOPIC_OR_PARTITION",
        [LOG_ERR_TOPIC_EXISTS] = "TOPIC_ALREADY_EXISTS",
        [LOG_ERR_INVALID_TOPIC] = "INVALID_TOPIC_EXCEPTION",
        [LOG_ERR_INVALID_PARTITIONS] = "INVALID_PARTITIONS",
        [LOG_ERR_INVALID_CONFIG] = "INVALID_CONFIG",
        [LOG_ERR_OFFSET_OUT_OF_RANGE] = "OFFSET_OUT_OF_RANGE",
        [LOG_ERR_GROUP_NOT_FOUND] = "GROUP_ID_NOT_FOUND",
        [LOG_ERR_INVALID_GROUP] = "INVALID_GROUP_ID",
        [LOG_ERR_METADATA_TOO_LARGE] = "OFFSET_METADATA_TOO_LARGE",
        [LOG_ERR_STORAGE] = "KAFKA_STORAGE_ERROR",
        [LOG_ERR_CLOSED] = "CLOSED",
        [LOG_ERR_NOMEM] = "OUT_OF_MEMORY",
        [LOG_ERR_INVALID_ARG] = "INVALID_ARGUMENT",
    };
    if ((unsigned)reason < EDDY_ARRAY_LEN(names) && names[reason]) return names[reason];
    return "UNKNOWN";
}

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

int log_codec_parse(const char *name, log_codec_t *out) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(codec_names); i++) {
        if (!strcmp(name, codec_names[i])) {
            *out = (log_codec_t)i;
            return EDDY_OK;
        }
    }
    return EDDY_ERR_INVALID;
}

const char *log_codec_name(log_codec_t codec) {
    return (unsigned)codec < EDDY_ARRAY_LEN(codec_names) ? codec_names[codec] : "unknown";
}

/* ---- header ---- */

int log_batch_header_parse(const uint8_t *p, size_t len, log_batch_header_t *h, log_err_t *err) {
    if (len < LOG_BATCH_OVERHEAD + 5) return EDDY_ERR_NEED_MORE; /* through magic */
    h->base_offset = (int64_t)load_u64(p);
    h->batch_length = (int32_t)load_u32(p + 8);
    h->leader_epoch = (int32_t)load_u32(p + 12);
    h->magic = (int8_t)p[16];
    if (h->magic != 2)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_MAGIC,
                        "record batch magic %d is not supported (only 2)", h->magic);
    if (h->batch_length < LOG_BATCH_HEADER_SIZE - LOG_BATCH_OVERHEAD)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_CORRUPT_MESSAGE,
                        "record batch length %d is below the header size", h->batch_length);
    if (len < LOG_BATCH_HEADER_SIZE) return EDDY_ERR_NEED_MORE;
    h->crc = load_u32(p + 17);
    h->attributes = (int16_t)load_u16(p + 21);
    h->last_offset_delta = (int32_t)load_u32(p + 23);
    h->base_timestamp = (int64_t)load_u64(p + 27);
    h->max_timestamp = (int64_t)load_u64(p + 35);
    h->producer_id = (int64_t)load_u64(p + 43);
    h->producer_epoch = (int16_t)load_u16(p + 51);
    h->base_sequence = (int32_t)load_u32(p + 53);
    h->record_count = (int32_t)load_u32(p + 57);
    if (len < log_batch_size(h)) return EDDY_ERR_NEED_MORE;
    return EDDY_OK;
}

/* Walks the records of an uncompressed batch by their length prefixes only: framing, not
 * contents (the CRC already covers the bytes). */
static int check_record_framing(const uint8_t *p, size_t len, int32_t count, log_err_t *err) {
    rd_t r = rd_init(p, len);
    for (int32_t i = 0; i < count; i++) {
        int32_t n = rd_varint32(&r);
        if (!rd_ok(&r) || n < 0 || (size_t)n > rd_remaining(&r))
            return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_INVALID_RECORD,
                            "record %d of %d has a bad length", i, count);
        rd_skip(&r, (size_t)n);
    }
    if (rd_remaining(&r) != 0)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_INVALID_RECORD,
                        "%zu bytes after the last of %d records", rd_remaining(&r), count);
    return EDDY_OK;
}

int log_batch_validate(const uint8_t *p, size_t len, log_batch_header_t *h, log_err_t *err) {
    int rc = log_batch_header_parse(p, len, h, err);
    if (rc == EDDY_ERR_NEED_MORE)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_CORRUPT_MESSAGE,
                        "record batch truncated: %zu bytes of %s", len,
                        len >= LOG_BATCH_OVERHEAD ? "a longer batch" : "a header");
    if (rc != EDDY_OK) return rc;
    size_t size = log_batch_size(h);
    uint32_t crc = crc32c(p + 21, size - 21);
    if (crc != h->crc)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_CRC,
                        "record batch CRC mismatch (stored %08x, computed %08x)", h->crc, crc);
    if (h->record_count <= 0 || h->last_offset_delta < 0 ||
        (int64_t)h->last_offset_delta + 1 != h->record_count)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_INVALID_RECORD,
                        "record count %d does not match last offset delta %d", h->record_count,
                        h->last_offset_delta);
    log_codec_t codec = log_batch_codec(h);
    if (codec > LOG_CODEC_ZSTD)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_UNSUPPORTED_COMPRESSION,
                        "unknown compression codec %d", (int)codec);
    if (codec == LOG_CODEC_NONE)
        return check_record_framing(p + LOG_BATCH_HEADER_SIZE, size - LOG_BATCH_HEADER_SIZE,
                                    h->record_count, err);
    /* A compressed payload holds at least the codec's framing. */
    if (size == LOG_BATCH_HEADER_SIZE)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_INVALID_RECORD,
                        "compressed batch without payload");
    return EDDY_OK;
}

/* ---- records ---- */

int log_record_parse(rd_t *r, const log_batch_header_t *h, log_record_view_t *rec) {
    int32_t len = rd_varint32(r);
    if (!rd_ok(r)) return EDDY_ERR_CORRUPT;
    if (len < 0 || (size_t)len > rd_remaining(r)) return EDDY_ERR_CORRUPT;
    rd_t b = rd_init(rd_cur(r), (size_t)len);
    rd_skip(r, (size_t)len);
    (void)rd_i8(&b); /* attributes: unused */
    int64_t ts_delta = rd_varint64(&b);
    int32_t off_delta = rd_varint32(&b);
    int32_t klen = rd_varint32(&b);
    if (!rd_ok(&b) || klen < -1 || (klen > 0 && (size_t)klen > rd_remaining(&b)))
        return EDDY_ERR_CORRUPT;
    rec->key = klen >= 0 ? rd_bytes(&b, (size_t)klen) : NULL;
    rec->key_len = klen;
    if (klen == 0) rec->key = rd_cur(&b);
    int32_t vlen = rd_varint32(&b);
    if (!rd_ok(&b) || vlen < -1 || (vlen > 0 && (size_t)vlen > rd_remaining(&b)))
        return EDDY_ERR_CORRUPT;
    rec->value = vlen >= 0 ? rd_bytes(&b, (size_t)vlen) : NULL;
    rec->value_len = vlen;
    if (vlen == 0) rec->value = rd_cur(&b);
    int32_t hcount = rd_varint32(&b);
    if (!rd_ok(&b) || hcount < 0 || (size_t)hcount > rd_remaining(&b)) return EDDY_ERR_CORRUPT;
    rec->header_count = hcount;
    rec->headers = eddy_view(rd_cur(&b), rd_remaining(&b));
    /* Validate the headers now so that readers can walk them without surprises. */
    eddy_view_t cur = rec->headers;
    log_header_t hd;
    for (int32_t i = 0; i < hcount; i++)
        if (log_record_header_next(&cur, &hd) != 1) return EDDY_ERR_CORRUPT;
    if (cur.len != 0) return EDDY_ERR_CORRUPT;
    rec->headers.len -= cur.len;
    if (off_delta < 0) return EDDY_ERR_CORRUPT;
    rec->offset = h->base_offset + off_delta;
    if (h->attributes & LOG_ATTR_LOG_APPEND_TIME)
        rec->timestamp = h->max_timestamp;
    else
        rec->timestamp = (int64_t)((uint64_t)h->base_timestamp + (uint64_t)ts_delta);
    return EDDY_OK;
}

int log_record_header_next(eddy_view_t *cursor, log_header_t *h) {
    if (cursor->len == 0) return 0;
    rd_t r = rd_init(cursor->ptr, cursor->len);
    int32_t klen = rd_varint32(&r);
    if (!rd_ok(&r) || klen < 0 || (size_t)klen > rd_remaining(&r)) return EDDY_ERR_CORRUPT;
    h->key = rd_bytes(&r, (size_t)klen);
    h->key_len = (size_t)klen;
    int32_t vlen = rd_varint32(&r);
    if (!rd_ok(&r) || vlen < -1 || (vlen > 0 && (size_t)vlen > rd_remaining(&r)))
        return EDDY_ERR_CORRUPT;
    h->value = vlen >= 0 ? rd_bytes(&r, (size_t)vlen) : NULL;
    h->value_len = vlen;
    if (!rd_ok(&r)) return EDDY_ERR_CORRUPT;
    cursor->ptr += r.pos;
    cursor->len -= r.pos;
    return 1;
}

/* ---- encoder ---- */

void log_batch_opts_init(log_batch_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->producer_id = -1;
    o->producer_epoch = -1;
    o->base_sequence = -1;
}

static int32_t view_len(const void *p, int64_t len) {
    return (!p && len <= 0) || len < 0 ? -1 : (int32_t)len;
}

static void encode_record(wr_t *w, const log_record_t *rec, int64_t ts, int64_t base_ts,
                          int32_t delta) {
    int32_t klen = view_len(rec->key, rec->key_len);
    int32_t vlen = view_len(rec->value, rec->value_len);
    size_t body = 1 + varint_size_signed(ts - base_ts) + varint_size_signed(delta) +
                  varint_size_signed(klen) + (klen > 0 ? (size_t)klen : 0) +
                  varint_size_signed(vlen) + (vlen > 0 ? (size_t)vlen : 0) +
                  varint_size_signed((int64_t)rec->header_count);
    for (size_t i = 0; i < rec->header_count; i++) {
        const log_header_t *hd = &rec->headers[i];
        int32_t hv = view_len(hd->value, hd->value_len);
        body += varint_size_signed((int64_t)hd->key_len) + hd->key_len + varint_size_signed(hv) +
                (hv > 0 ? (size_t)hv : 0);
    }
    wr_varint(w, (int64_t)body);
    wr_u8(w, 0);
    wr_varint(w, ts - base_ts);
    wr_varint(w, delta);
    wr_varint(w, klen);
    if (klen > 0) wr_bytes(w, rec->key, (size_t)klen);
    wr_varint(w, vlen);
    if (vlen > 0) wr_bytes(w, rec->value, (size_t)vlen);
    wr_varint(w, (int64_t)rec->header_count);
    for (size_t i = 0; i < rec->header_count; i++) {
        const log_header_t *hd = &rec->headers[i];
        int32_t hv = view_len(hd->value, hd->value_len);
        wr_varint(w, (int64_t)hd->key_len);
        wr_bytes(w, hd->key, hd->key_len);
        wr_varint(w, hv);
        if (hv > 0) wr_bytes(w, hd->value, (size_t)hv);
    }
}

int log_batch_encode(wr_t *w, const log_record_t *records, size_t n, const log_batch_opts_t *o,
                     log_err_t *err) {
    if (n == 0 || n > INT32_MAX)
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_ARG, "a batch needs 1 to 2^31-1 records");
    if ((unsigned)o->codec > LOG_CODEC_ZSTD)
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_UNSUPPORTED_COMPRESSION, "unknown codec %d", (int)o->codec);
    int64_t now = -1, base_ts = 0, max_ts = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        int64_t ts = records[i].timestamp;
        if (ts < 0) ts = now >= 0 ? now : (now = time_now_ms());
        if (i == 0) base_ts = ts;
        if (ts > max_ts) max_ts = ts;
    }
    size_t start = w->len;
    wr_u64(w, (uint64_t)o->base_offset);
    size_t len_at = wr_mark(w, 4);
    wr_i32(w, -1); /* partition leader epoch */
    wr_u8(w, 2);
    size_t crc_at = wr_mark(w, 4);
    wr_u16(w, (uint16_t)o->codec);
    wr_i32(w, (int32_t)(n - 1));
    wr_i64(w, base_ts);
    wr_i64(w, max_ts);
    wr_i64(w, o->producer_id);
    wr_i16(w, o->producer_epoch);
    wr_i32(w, o->base_sequence);
    wr_i32(w, (int32_t)n);
    wr_t plain, *rw = w;
    if (o->codec != LOG_CODEC_NONE) {
        wr_init(&plain, 256 * n);
        rw = &plain;
    }
    now = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t ts = records[i].timestamp;
        if (ts < 0) ts = now >= 0 ? now : (now = time_now_ms());
        encode_record(rw, &records[i], ts, base_ts, (int32_t)i);
    }
    int rc = EDDY_OK;
    if (o->codec != LOG_CODEC_NONE) {
        if (!wr_ok(&plain)) rc = log_fail(err, plain.err, LOG_ERR_NOMEM, "cannot encode records");
        else rc = log_codec_compress(o->codec, o->compression_level, plain.buf, plain.len, w, err);
        wr_free(&plain);
        if (rc != EDDY_OK) {
            w->len = start;
            return rc;
        }
    }
    if (!wr_ok(w)) return log_fail(err, w->err, LOG_ERR_NOMEM, "cannot encode batch");
    size_t size = w->len - start;
    if (size - LOG_BATCH_OVERHEAD > INT32_MAX) {
        w->len = start;
        return log_fail(err, EDDY_ERR_TOO_LARGE, LOG_ERR_MESSAGE_TOO_LARGE, "batch over 2 GiB");
    }
    wr_patch_u32(w, len_at, (uint32_t)(size - LOG_BATCH_OVERHEAD));
    wr_patch_u32(w, crc_at, crc32c(w->buf + start + 21, size - 21));
    return EDDY_OK;
}
