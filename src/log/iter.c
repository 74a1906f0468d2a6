/* The record decoder: walks the batches of a buffer and the records of each batch, inflating
 * compressed payloads into a buffer the iterator owns. The pipelines, the REST proxy, the dump
 * tool and the tests read records through it. */
#include "log/log_int.h"

struct log_iter {
    const uint8_t *buf;
    size_t len;
    size_t pos;             /* next batch */
    bool check_crc;
    size_t max_decompressed;
    log_batch_header_t h;   /* current batch */
    bool have_batch;
    const uint8_t *payload; /* current batch's records (compressed or not) */
    size_t payload_len;
    bool inflated;          /* records decompressed into plain */
    rd_t records;           /* reader over the uncompressed records */
    int32_t left;           /* records not yet returned */
    wr_t plain;             /* decompressed records */
};

log_iter_t *log_iter_new(size_t max_decompressed) {
    log_iter_t *it = eddy_calloc(1, sizeof *it);
    if (!it) return NULL;
    it->max_decompressed = max_decompressed ? max_decompressed : (size_t)64 << 20;
    wr_init(&it->plain, 0);
    return it;
}

void log_iter_free(log_iter_t *it) {
    if (!it) return;
    wr_free(&it->plain);
    eddy_free(it);
}

void log_iter_reset(log_iter_t *it, const uint8_t *buf, size_t len, bool check_crc) {
    it->buf = buf;
    it->len = len;
    it->pos = 0;
    it->check_crc = check_crc;
    it->have_batch = false;
    it->left = 0;
}

int log_iter_next_batch(log_iter_t *it, log_batch_header_t *h, log_err_t *err) {
    it->have_batch = false;
    if (it->pos >= it->len) return 0;
    const uint8_t *p = it->buf + it->pos;
    size_t avail = it->len - it->pos;
    int rc = log_batch_header_parse(p, avail, &it->h, err);
    if (rc == EDDY_ERR_NEED_MORE) {
        it->pos = it->len; /* a partial trailing batch ends the walk */
        return 0;
    }
    if (rc != EDDY_OK) return rc;
    size_t size = log_batch_size(&it->h);
    if (it->check_crc) {
        uint32_t crc = crc32c(p + 21, size - 21);
        if (crc != it->h.crc)
            return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_CRC,
                            "batch at offset %lld: CRC mismatch", (long long)it->h.base_offset);
    }
    it->pos += size;
    it->payload = p + LOG_BATCH_HEADER_SIZE;
    it->payload_len = size - LOG_BATCH_HEADER_SIZE;
    it->inflated = false;
    it->left = it->h.record_count < 0 ? 0 : it->h.record_count;
    it->have_batch = true;
    if (it->h.attributes & LOG_ATTR_CONTROL) it->left = 0; /* control records are not data */
    *h = it->h;
    return 1;
}

int log_iter_next_record(log_iter_t *it, log_record_view_t *rec, log_err_t *err) {
    if (!it->have_batch || it->left <= 0) return 0;
    if (!it->inflated) {
        log_codec_t codec = log_batch_codec(&it->h);
        if (codec == LOG_CODEC_NONE) {
            it->records = rd_init(it->payload, it->payload_len);
        } else {
            wr_reset(&it->plain);
            int rc = log_codec_decompress(codec, it->payload, it->payload_len, &it->plain,
                                          it->max_decompressed, err);
            if (rc != EDDY_OK) {
                it->left = 0;
                return rc;
            }
            it->records = rd_init(it->plain.buf, it->plain.len);
        }
        it->inflated = true;
    }
    if (log_record_parse(&it->records, &it->h, rec) != EDDY_OK) {
        it->left = 0;
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_INVALID_RECORD,
                        "batch at offset %lld: record %d is malformed", (long long)it->h.base_offset,
                        it->h.record_count - it->left);
    }
    it->left--;
    return 1;
}
