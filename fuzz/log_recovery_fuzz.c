/* Fuzz target: crash recovery over arbitrary file bytes. The input becomes a partition's files,
 * then the log is opened (recovery: CRC checks, truncation, index rebuilds, producer-state
 * replay), read end to end, appended to, and closed. Nothing may crash, and whatever recovery
 * keeps must read back as valid batches.
 * Input: [u8 flags][u16 index length][index bytes][segment bytes]; flags bit 0: a clean-shutdown
 * marker (recovery trusts index files and checks only the tail), bit 1: the index bytes are the
 * .index file, bit 2: they are the .timeindex file, bit 3: a second, empty segment follows. */
#include "log_fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    uint8_t flags = data[0];
    size_t ilen = load_u16(data + 1);
    if (ilen > size - 3) ilen = size - 3;
    const uint8_t *index = data + 3, *seg = data + 3 + ilen;
    size_t slen = size - 3 - ilen;

    char dir[256], path[512];
    log_fuzz_fresh_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/topics/t/topic", dir);
    static const char topic[] = "id=0123456789abcdef0123456789abcdef\npartitions=1\nconfig.index.interval.bytes=64\n";
    log_fuzz_put_file(path, (const uint8_t *)topic, sizeof topic - 1);
    snprintf(path, sizeof path, "%s/topics/t/0/00000000000000000000.log", dir);
    log_fuzz_put_file(path, seg, slen);
    if (flags & 2) {
        snprintf(path, sizeof path, "%s/topics/t/0/00000000000000000000.index", dir);
        log_fuzz_put_file(path, index, ilen);
    }
    if (flags & 4) {
        snprintf(path, sizeof path, "%s/topics/t/0/00000000000000000000.timeindex", dir);
        log_fuzz_put_file(path, index, ilen);
    }
    if (flags & 8) {
        snprintf(path, sizeof path, "%s/topics/t/0/00000000000000001000.log", dir);
        log_fuzz_put_file(path, NULL, 0);
    }
    if (flags & 1) {
        snprintf(path, sizeof path, "%s/clean-shutdown", dir);
        log_fuzz_put_file(path, NULL, 0);
    }

    log_t *log = log_fuzz_open(dir);
    if (!log) return 0;
    log_partition_t *p;
    if (log_partition_open(log, "t", 0, 0, &p, NULL) == EDDY_OK) {
        log_partition_state_t st;
        log_partition_state(p, &st);
        /* Everything kept must read back as whole, valid batches. */
        log_iter_t *it = log_iter_new(1 << 20);
        int64_t next = st.log_start_offset;
        for (int guard = 0; guard < 10000 && next < st.high_watermark; guard++) {
            wr_t w;
            wr_init(&w, 0);
            log_read_t info;
            if (log_read_into(p, next, 4096, &w, &info, NULL) != EDDY_OK || w.len == 0) {
                wr_free(&w);
                break;
            }
            log_batch_header_t h;
            for (size_t pos = 0; pos < w.len; pos += log_batch_size(&h))
                if (log_batch_validate(w.buf + pos, w.len - pos, &h, NULL) != EDDY_OK) abort();
            log_iter_reset(it, w.buf, w.len, true);
            log_record_view_t r;
            while (log_iter_next_batch(it, &h, NULL) == 1)
                while (log_iter_next_record(it, &r, NULL) == 1) {}
            if (info.next_offset <= next) abort();
            next = info.next_offset;
            wr_free(&w);
        }
        log_iter_free(it);
        int64_t off, ts;
        log_offset_for_timestamp(p, 0, &off, &ts, NULL);
        log_record_t rec = {-1, "k", 1, "v", 1, NULL, 0};
        log_append_records_wait(p, &rec, 1, LOG_CODEC_NONE, NULL, NULL);
        log_partition_release(p);
    }
    log_close(log);
    return 0;
}
