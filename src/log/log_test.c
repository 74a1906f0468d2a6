/* Unit tests of the log: append and read, recovery of torn and corrupt tails, validation
 * errors, segment rolls and index lookups, retention, offsets for timestamps, watches. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_test_util.h"

/* ---- helpers ---- */

static log_partition_t *part(log_t *log, const char *topic, int32_t p) {
    log_partition_t *h = NULL;
    log_err_t e;
    int rc = log_partition_open(log, topic, p, LOG_OPEN_AUTO_CREATE, &h, &e);
    if (rc != EDDY_OK) printf("# open %s-%d: %s\n", topic, p, e.msg);
    REQUIRE(rc == EDDY_OK);
    return h;
}

/* Appends n records "v<first+i>" with key "k<i>" in one batch; returns the base offset. */
static int64_t append_n(log_partition_t *p, int first, int n, log_codec_t codec, int64_t ts) {
    log_record_t recs[64];
    char keys[64][16], vals[64][32];
    REQUIRE(n <= 64);
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", first + i);
        snprintf(vals[i], sizeof vals[i], "v%d", first + i);
        recs[i] = (log_record_t){ts, keys[i], (int32_t)strlen(keys[i]), vals[i], (int32_t)strlen(vals[i]), NULL, 0};
    }
    log_append_result_t res;
    log_err_t e;
    int rc = log_append_records_wait(p, recs, (size_t)n, codec, &res, &e);
    if (rc != EDDY_OK) printf("# append: %s\n", e.msg);
    REQUIRE(rc == EDDY_OK);
    return res.base_offset;
}

/* Reads every record from offset to the high watermark and checks values v<offset>. Returns the
 * number of records seen. */
static int64_t check_values(log_partition_t *p, int64_t from, size_t max_bytes) {
    log_iter_t *it = log_iter_new(0);
    int64_t next = from, seen = 0;
    for (;;) {
        wr_t w;
        wr_init(&w, 0);
        log_read_t info;
        log_err_t e;
        int rc = log_read_into(p, next, max_bytes, &w, &info, &e);
        CHECK_OK(rc);
        if (rc != EDDY_OK || w.len == 0) {
            wr_free(&w);
            break;
        }
        log_iter_reset(it, w.buf, w.len, true);
        log_batch_header_t h;
        log_record_view_t r;
        while (log_iter_next_batch(it, &h, &e) == 1) {
            while (log_iter_next_record(it, &r, &e) == 1) {
                if (r.offset < next) continue;
                char want[32];
                snprintf(want, sizeof want, "v%lld", (long long)r.offset);
                CHECK_EQ_INT(r.offset, next);
                CHECK_EQ_MEM(r.value, (size_t)r.value_len, want, strlen(want));
                next = r.offset + 1;
                seen++;
            }
        }
        CHECK_EQ_INT(info.next_offset, next);
        wr_free(&w);
        if (next == info.next_offset && next >= info.high_watermark) break;
    }
    log_iter_free(it);
    return seen;
}

static char *seg_path(const char *dir, const char *topic, int p, int64_t base, const char *ext) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/topics/%s/%d/%020lld%s", dir, topic, p, (long long)base, ext);
    return path;
}

static int64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* ---- codec ---- */

TEST(batch_roundtrip_every_codec) {
    for (int c = LOG_CODEC_NONE; c <= LOG_CODEC_ZSTD; c++) {
        log_header_t hdrs[2] = {{"h1", 2, "x", 1}, {"h2", 2, NULL, -1}};
        log_record_t recs[3] = {
            {1000, "a", 1, "alpha", 5, hdrs, 2},
            {1005, NULL, -1, "beta", 4, NULL, 0},
            {999, "c", 1, NULL, -1, NULL, 0},
        };
        log_batch_opts_t o;
        log_batch_opts_init(&o);
        o.codec = (log_codec_t)c;
        o.base_offset = 42;
        wr_t w;
        wr_init(&w, 0);
        REQUIRE_OK(log_batch_encode(&w, recs, 3, &o, NULL));
        log_batch_header_t h;
        log_err_t e;
        REQUIRE_OK(log_batch_validate(w.buf, w.len, &h, &e));
        CHECK_EQ_INT(log_batch_codec(&h), c);
        CHECK_EQ_INT(h.record_count, 3);
        CHECK_EQ_INT(h.base_timestamp, 1000);
        CHECK_EQ_INT(h.max_timestamp, 1005);
        log_iter_t *it = log_iter_new(0);
        log_iter_reset(it, w.buf, w.len, true);
        REQUIRE(log_iter_next_batch(it, &h, &e) == 1);
        log_record_view_t r;
        REQUIRE(log_iter_next_record(it, &r, &e) == 1);
        CHECK_EQ_INT(r.offset, 42);
        CHECK_EQ_INT(r.timestamp, 1000);
        CHECK_EQ_MEM(r.key, (size_t)r.key_len, "a", 1);
        CHECK_EQ_MEM(r.value, (size_t)r.value_len, "alpha", 5);
        CHECK_EQ_INT(r.header_count, 2);
        eddy_view_t cur = r.headers;
        log_header_t hd;
        REQUIRE(log_record_header_next(&cur, &hd) == 1);
        CHECK_EQ_MEM(hd.key, hd.key_len, "h1", 2);
        CHECK_EQ_MEM(hd.value, (size_t)hd.value_len, "x", 1);
        REQUIRE(log_record_header_next(&cur, &hd) == 1);
        CHECK(hd.value == NULL && hd.value_len == -1);
        CHECK_EQ_INT(log_record_header_next(&cur, &hd), 0);
        REQUIRE(log_iter_next_record(it, &r, &e) == 1);
        CHECK(r.key == NULL && r.key_len == -1);
        CHECK_EQ_INT(r.offset, 43);
        REQUIRE(log_iter_next_record(it, &r, &e) == 1);
        CHECK(r.value == NULL && r.value_len == -1);
        CHECK_EQ_INT(r.timestamp, 999);
        CHECK_EQ_INT(log_iter_next_record(it, &r, &e), 0);
        CHECK_EQ_INT(log_iter_next_batch(it, &h, &e), 0);
        log_iter_free(it);
        wr_free(&w);
    }
}

/* ---- append and read ---- */

TEST(append_read_reopen) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_partition_t *p = part(log, "events", 0);
    CHECK_EQ_INT(append_n(p, 0, 10, LOG_CODEC_NONE, -1), 0);
    CHECK_EQ_INT(append_n(p, 10, 5, LOG_CODEC_GZIP, -1), 10);
    CHECK_EQ_INT(append_n(p, 15, 5, LOG_CODEC_ZSTD, -1), 15);
    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK_EQ_INT(st.high_watermark, 20);
    CHECK_EQ_INT(st.log_end_offset, 20);
    CHECK_EQ_INT(st.log_start_offset, 0);
    CHECK_EQ_INT(check_values(p, 0, 1 << 20), 20);
    CHECK_EQ_INT(check_values(p, 12, 1), 8); /* one batch at a time, from inside a batch */
    log_read_t r;
    log_err_t e;
    CHECK_EQ_INT(log_read(p, 21, 100, &r, &e), EDDY_ERR_RANGE);
    CHECK_EQ_INT(e.reason, LOG_ERR_OFFSET_OUT_OF_RANGE);
    REQUIRE_OK(log_read(p, 20, 100, &r, &e));
    CHECK_EQ_INT(r.len, 0);
    log_read_release(&r);
    log_partition_release(p);
    log_close(log);

    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    p = part(log, "events", 0);
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK_EQ_INT(st.high_watermark, 20);
    CHECK_EQ_INT(append_n(p, 20, 3, LOG_CODEC_LZ4, -1), 20);
    CHECK_EQ_INT(append_n(p, 23, 3, LOG_CODEC_SNAPPY, -1), 23);
    CHECK_EQ_INT(check_values(p, 0, 1 << 20), 26);
    log_partition_release(p);
    log_close(log);
}

TEST(weak_fsync_modes_ack_at_once) {
    for (int m = LOG_FSYNC_INTERVAL; m <= LOG_FSYNC_NONE; m++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/m%d", test_tmpdir(), m);
        log_t *log = test_log_open(dir, (log_fsync_mode_t)m, true);
        log_partition_t *p = part(log, "t", 0);
        CHECK_EQ_INT(append_n(p, 0, 4, LOG_CODEC_NONE, -1), 0);
        CHECK_EQ_INT(check_values(p, 0, 1 << 20), 4);
        REQUIRE_OK(log_flush(log));
        log_partition_release(p);
        log_close(log);
        log = test_log_open(dir, (log_fsync_mode_t)m, true);
        p = part(log, "t", 0);
        CHECK_EQ_INT(check_values(p, 0, 1 << 20), 4);
        log_partition_release(p);
        log_close(log);
    }
}

/* ---- validation ---- */

static size_t one_batch(wr_t *w, int n) {
    log_record_t recs[8];
    for (int i = 0; i < n; i++) recs[i] = (log_record_t){5, "k", 1, "value", 5, NULL, 0};
    log_batch_opts_t o;
    log_batch_opts_init(&o);
    wr_reset(w);
    log_batch_encode(w, recs, (size_t)n, &o, NULL);
    return w->len;
}

static void noop_cb(void *arg, int status, const log_append_result_t *res) {
    (void)arg;
    (void)status;
    (void)res;
}

TEST(append_rejects_bad_batches_and_keeps_data) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_config_entry_t cfg[] = {{"max.message.bytes", "120"}};
    REQUIRE_OK(log_topic_create(log, "v", 1, cfg, 1, false, NULL));
    log_partition_t *p = part(log, "v", 0);
    CHECK_EQ_INT(append_n(p, 0, 2, LOG_CODEC_NONE, -1), 0);
    wr_t w;
    wr_init(&w, 0);
    log_err_t e;

    one_batch(&w, 2);
    w.buf[30] ^= 1; /* inside the CRC's range */
    CHECK_EQ_INT(log_append(p, w.buf, w.len, noop_cb, NULL, &e), EDDY_ERR_CORRUPT);
    CHECK_EQ_INT(e.reason, LOG_ERR_CRC);

    one_batch(&w, 2);
    w.buf[16] = 1; /* magic */
    CHECK_EQ_INT(log_append(p, w.buf, w.len, noop_cb, NULL, &e), EDDY_ERR_CORRUPT);
    CHECK_EQ_INT(e.reason, LOG_ERR_MAGIC);

    one_batch(&w, 2);
    store_u32(w.buf + 8, 0x7fffffff); /* batch length beyond the data */
    CHECK_EQ_INT(log_append(p, w.buf, w.len, noop_cb, NULL, &e), EDDY_ERR_CORRUPT);
    CHECK_EQ_INT(e.reason, LOG_ERR_CORRUPT_MESSAGE);

    one_batch(&w, 2);
    store_u32(w.buf + 8, (uint32_t)-5); /* negative length */
    CHECK_EQ_INT(log_append(p, w.buf, w.len, noop_cb, NULL, &e), EDDY_ERR_CORRUPT);

    one_batch(&w, 2);
    CHECK_EQ_INT(log_append(p, w.buf, w.len - 1, noop_cb, NULL, &e), EDDY_ERR_CORRUPT);

    one_batch(&w, 2);
    store_u32(w.buf + 57, 3); /* record count disagrees with last offset delta */
    store_u32(w.buf + 17, crc32c(w.buf + 21, w.len - 21));
    CHECK_EQ_INT(log_append(p, w.buf, w.len, noop_cb, NULL, &e), EDDY_ERR_CORRUPT);
    CHECK_EQ_INT(e.reason, LOG_ERR_INVALID_RECORD);

    one_batch(&w, 8); /* 8 records: over max.message.bytes=120 */
    CHECK(w.len > 120);
    CHECK_EQ_INT(log_append(p, w.buf, w.len, noop_cb, NULL, &e), EDDY_ERR_TOO_LARGE);
    CHECK_EQ_INT(e.reason, LOG_ERR_MESSAGE_TOO_LARGE);

    /* A good batch followed by a bad one: nothing of the set is stored. */
    size_t n = one_batch(&w, 1);
    wr_bytes(&w, w.buf, n);
    w.buf[n + 40] ^= 0xff;
    CHECK_EQ_INT(log_append(p, w.buf, w.len, noop_cb, NULL, &e), EDDY_ERR_CORRUPT);

    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK_EQ_INT(st.log_end_offset, 2);
    CHECK_EQ_INT(check_values(p, 0, 1 << 20), 2);
    /* Two good batches in one record set. */
    n = one_batch(&w, 1);
    wr_bytes(&w, w.buf, n);
    log_append_result_t res;
    REQUIRE_OK(log_append_wait(p, w.buf, w.len, &res, &e));
    CHECK_EQ_INT(res.base_offset, 2);
    CHECK_EQ_INT(res.last_offset, 3);
    wr_free(&w);
    log_partition_release(p);
    log_close(log);
}

/* ---- recovery ---- */

static void append_garbage(const char *path, const void *bytes, size_t n, int64_t at) {
    int fd = open(path, O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(pwrite(fd, bytes, n, at < 0 ? file_size(path) : at) == (ssize_t)n);
    close(fd);
}

TEST(recovery_truncates_torn_and_corrupt_tails) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_partition_t *p = part(log, "r", 0);
    for (int i = 0; i < 10; i++) append_n(p, i * 3, 3, LOG_CODEC_NONE, -1);
    log_partition_release(p);
    log_close(log);
    char marker[600];
    snprintf(marker, sizeof marker, "%s/clean-shutdown", dir);
    const char *seg = seg_path(dir, "r", 0, 0, ".log");
    int64_t good = file_size(seg);

    /* 1. A torn batch (half written) after an unclean stop. */
    wr_t w;
    wr_init(&w, 0);
    one_batch(&w, 3);
    unlink(marker);
    append_garbage(seg, w.buf, w.len / 2, -1);
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    CHECK_EQ_INT(file_size(seg), good);
    p = part(log, "r", 0);
    CHECK_EQ_INT(check_values(p, 0, 1 << 20), 30);
    log_partition_release(p);
    log_close(log);

    /* 2. A complete batch whose bytes are corrupt. */
    unlink(marker);
    one_batch(&w, 3);
    store_u64(w.buf, 30);
    w.buf[w.len - 2] ^= 0x55;
    append_garbage(seg, w.buf, w.len, -1);
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    CHECK_EQ_INT(file_size(seg), good);
    log_close(log);

    /* 3. Corruption in the middle: everything from the bad batch on is cut. */
    unlink(marker);
    uint8_t x = 0xee;
    append_garbage(seg, &x, 1, good / 2);
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    CHECK(file_size(seg) < good);
    p = part(log, "r", 0);
    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK(st.log_end_offset < 30 && st.log_end_offset > 0);
    CHECK_EQ_INT(check_values(p, 0, 1 << 20), st.log_end_offset);
    /* Appends continue from the recovered end. */
    CHECK_EQ_INT(append_n(p, (int)st.log_end_offset, 2, LOG_CODEC_NONE, -1), st.log_end_offset);
    log_partition_release(p);
    log_close(log);

    /* 4. Garbage after a clean shutdown is found by the tail check too. */
    append_garbage(seg, "garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage", 70, -1);
    int64_t before = file_size(seg) - 70;
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    CHECK_EQ_INT(file_size(seg), before);
    log_close(log);
    wr_free(&w);
}

/* ---- rolls, indexes, reads across segments ---- */

TEST(segments_roll_and_index_lookups) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_config_entry_t cfg[] = {{"segment.bytes", "1500"}, {"index.interval.bytes", "200"}};
    REQUIRE_OK(log_topic_create(log, "s", 1, cfg, 2, false, NULL));
    log_partition_t *p = part(log, "s", 0);
    for (int i = 0; i < 100; i++) append_n(p, i * 4, 4, LOG_CODEC_NONE, 1000 + i);
    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK(st.segments > 5);
    CHECK_EQ_INT(st.log_end_offset, 400);
    /* Every offset reads back its own record, in small and large reads. */
    for (int64_t off = 0; off < 400; off += 7) CHECK_EQ_INT(check_values(p, off, 1), 400 - off);
    CHECK_EQ_INT(check_values(p, 0, 1 << 20), 400);
    int64_t offset, ts;
    REQUIRE_OK(log_offset_for_timestamp(p, 1050, &offset, &ts, NULL));
    CHECK_EQ_INT(offset, 200);
    CHECK_EQ_INT(ts, 1050);
    REQUIRE_OK(log_offset_for_timestamp(p, 0, &offset, &ts, NULL));
    CHECK_EQ_INT(offset, 0);
    REQUIRE_OK(log_offset_for_timestamp(p, 5000, &offset, &ts, NULL));
    CHECK_EQ_INT(offset, -1);
    REQUIRE_OK(log_offset_for_timestamp(p, LOG_TIMESTAMP_LATEST, &offset, NULL, NULL));
    CHECK_EQ_INT(offset, 400);
    REQUIRE_OK(log_offset_for_timestamp(p, LOG_TIMESTAMP_MAX, &offset, &ts, NULL));
    CHECK_EQ_INT(offset, 396);
    CHECK_EQ_INT(ts, 1099);
    log_partition_release(p);
    log_close(log);
    /* Sealed segments got their index files; everything reads the same after reopening. */
    CHECK(file_size(seg_path(dir, "s", 0, 0, ".index")) > 0);
    CHECK(file_size(seg_path(dir, "s", 0, 0, ".timeindex")) > 0);
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    p = part(log, "s", 0);
    for (int64_t off = 0; off < 400; off += 13) CHECK_EQ_INT(check_values(p, off, 300), 400 - off);
    REQUIRE_OK(log_offset_for_timestamp(p, 1077, &offset, &ts, NULL));
    CHECK_EQ_INT(offset, 308);
    log_partition_release(p);
    log_close(log);
    /* Lost index files are rebuilt. */
    unlink(seg_path(dir, "s", 0, 0, ".index"));
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    p = part(log, "s", 0);
    CHECK_EQ_INT(check_values(p, 3, 1 << 20), 397);
    log_partition_release(p);
    log_close(log);
}

TEST(retention_by_size_and_time) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_config_entry_t cfg[] = {{"segment.bytes", "1000"}, {"retention.bytes", "3000"}};
    REQUIRE_OK(log_topic_create(log, "ret", 1, cfg, 2, false, NULL));
    log_partition_t *p = part(log, "ret", 0);
    int64_t now = time_now_ms();
    for (int i = 0; i < 60; i++) append_n(p, i * 2, 2, LOG_CODEC_NONE, now - 100000 + i);
    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    int32_t before = st.segments;
    CHECK(log_maintain(log, now) > 0);
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK(st.segments < before);
    CHECK(st.size_bytes <= 3000 + 1000);
    CHECK(st.log_start_offset > 0);
    CHECK_EQ_INT(check_values(p, st.log_start_offset, 1 << 20), 120 - st.log_start_offset);
    log_read_t r;
    CHECK_EQ_INT(log_read(p, 0, 100, &r, NULL), EDDY_ERR_RANGE);
    /* By time: everything is older than 50 s, so even the active segment goes (rolled first). */
    log_config_entry_t t[] = {{"retention.ms", "50000"}};
    REQUIRE_OK(log_topic_alter_config(log, "ret", t, 1, LOG_ALTER_INCREMENTAL, false, NULL));
    CHECK(log_maintain(log, now) > 0);
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK_EQ_INT(st.log_start_offset, 120);
    CHECK_EQ_INT(st.log_end_offset, 120);
    CHECK_EQ_INT(append_n(p, 120, 1, LOG_CODEC_NONE, -1), 120);
    log_partition_release(p);
    log_close(log);
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    p = part(log, "ret", 0);
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK_EQ_INT(st.log_start_offset, 120);
    CHECK_EQ_INT(check_values(p, 120, 100), 1);
    log_partition_release(p);
    log_close(log);
}

/* ---- watches ---- */

typedef struct {
    int calls;
    int status;
    int64_t hw;
} watch_seen_t;

static void on_watch(void *arg, int status, int64_t hw) {
    watch_seen_t *s = arg;
    s->calls++;
    s->status = status;
    s->hw = hw;
}

TEST(watches_fire_once_and_cancel) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_partition_t *p = part(log, "w", 0);
    watch_seen_t a = {0}, b = {0}, c = {0};
    uint64_t ida, idb, idc;
    REQUIRE_OK(log_watch_add(p, 0, on_watch, &a, &ida));
    REQUIRE_OK(log_watch_add(p, 3, on_watch, &b, &idb));
    REQUIRE_OK(log_watch_add(p, 0, on_watch, &c, &idc));
    CHECK(ida && idb && idc);
    CHECK(log_watch_cancel(p, idc));
    append_n(p, 0, 2, LOG_CODEC_NONE, -1); /* hw 2: fires a, not b */
    log_flush(log);                        /* watches fire after the completions */
    CHECK_EQ_INT(a.calls, 1);
    CHECK_EQ_INT(a.status, EDDY_OK);
    CHECK_EQ_INT(a.hw, 2);
    CHECK_EQ_INT(b.calls, 0);
    CHECK_EQ_INT(c.calls, 0);
    CHECK(!log_watch_cancel(p, ida));
    uint64_t id;
    REQUIRE_OK(log_watch_add(p, 1, on_watch, &c, &id));
    CHECK_EQ_INT(id, 0); /* already readable */
    append_n(p, 2, 2, LOG_CODEC_NONE, -1);
    log_flush(log);
    CHECK_EQ_INT(b.calls, 1);
    CHECK_EQ_INT(b.hw, 4);
    /* A pending watch fires with CLOSED when its topic is deleted. */
    watch_seen_t d = {0};
    REQUIRE_OK(log_watch_add(p, 10, on_watch, &d, &id));
    REQUIRE_OK(log_topic_delete(log, "w", NULL));
    CHECK_EQ_INT(d.calls, 1);
    CHECK_EQ_INT(d.status, EDDY_ERR_CLOSED);
    log_err_t e;
    CHECK_EQ_INT(log_append_records_wait(p, NULL, 0, LOG_CODEC_NONE, NULL, &e), EDDY_ERR_INVALID);
    log_record_t one = {-1, NULL, -1, "x", 1, NULL, 0};
    CHECK_EQ_INT(log_append_records_wait(p, &one, 1, LOG_CODEC_NONE, NULL, &e), EDDY_ERR_CLOSED);
    log_partition_release(p);
    log_close(log);
}
