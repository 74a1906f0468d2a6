/* Fuzz target: RecordBatch v2 validation and the record decoder, decompression included (gzip,
 * snappy raw and xerial, lz4 frame, zstd), over arbitrary bytes: a Produce record set or a Fetch
 * response's records. The CRC is not enforced on the decode walk, so that mutated payloads reach
 * the decompressors and the record parser. */
#include "log/log_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    log_batch_header_t h;
    log_err_t e;
    /* Validation of each batch, as log_append does before taking any lock. */
    for (size_t pos = 0; pos < size;) {
        if (log_batch_validate(data + pos, size - pos, &h, &e) != EDDY_OK) break;
        pos += log_batch_size(&h);
    }
    log_iter_t *it = log_iter_new(1 << 20);
    if (!it) return 0;
    for (int crc = 0; crc <= 1; crc++) {
        log_iter_reset(it, data, size, crc);
        while (log_iter_next_batch(it, &h, &e) == 1) {
            log_record_view_t r;
            while (log_iter_next_record(it, &r, &e) == 1) {
                volatile uint8_t sink = 0;
                if (r.key_len > 0) sink ^= r.key[r.key_len - 1];
                if (r.value_len > 0) sink ^= r.value[r.value_len - 1];
                eddy_view_t cur = r.headers;
                log_header_t hd;
                while (log_record_header_next(&cur, &hd) == 1)
                    if (hd.value_len > 0) sink ^= ((const uint8_t *)hd.value)[hd.value_len - 1];
                (void)sink;
            }
        }
    }
    log_iter_free(it);
    return 0;
}
