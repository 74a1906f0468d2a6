/* Unit tests of the log under concurrency and in its corners: many appenders and readers at
 * once (with watches), reads that outlive the segment they hold, LogAppendTime, rolls by age,
 * topics not created on first use, and the dump tool's output. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log/log_test_util.h"

/* ---- many appenders, readers and watchers ---- */

#define APPENDERS 4
#define PER_APPENDER 300

typedef struct {
    log_partition_t *p;
    int id;
} appender_arg_t;

static void *appender(void *arg) {
    appender_arg_t *a = arg;
    for (int i = 0; i < PER_APPENDER; i++) {
        char v[32];
        snprintf(v, sizeof v, "a%d.%d", a->id, i);
        log_record_t r = {-1, NULL, -1, v, (int32_t)strlen(v), NULL, 0};
        if (log_append_records_wait(a->p, &r, 1, (log_codec_t)(i % 3), NULL, NULL) != EDDY_OK) return (void *)1;
    }
    return NULL;
}

typedef struct {
    log_partition_t *p;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t hw_seen;
    int fired;
    int64_t records;
    int errors;
} reader_arg_t;

static void reader_wake(void *arg, int status, int64_t hw) {
    reader_arg_t *r = arg;
    pthread_mutex_lock(&r->mu);
    if (status == EDDY_OK && hw > r->hw_seen) r->hw_seen = hw;
    r->fired++;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Reads everything as it becomes durable, sleeping on watches between reads, until it has
 * seen every record; checks that each appender's records come in order, each once. */
static void *reader(void *arg) {
    reader_arg_t *r = arg;
    int next[APPENDERS] = {0};
    int64_t offset = 0;
    log_iter_t *it = log_iter_new(0);
    while (r->records < APPENDERS * PER_APPENDER) {
        wr_t w;
        wr_init(&w, 0);
        log_read_t info;
        if (log_read_into(r->p, offset, 4096, &w, &info, NULL) != EDDY_OK) {
            r->errors++;
            wr_free(&w);
            break;
        }
        if (w.len == 0) {
            wr_free(&w);
            uint64_t id;
            pthread_mutex_lock(&r->mu);
            int64_t seen = r->hw_seen;
            pthread_mutex_unlock(&r->mu);
            if (log_watch_add(r->p, offset, reader_wake, r, &id) != EDDY_OK) {
                r->errors++;
                break;
            }
            if (id) {
                pthread_mutex_lock(&r->mu);
                while (r->hw_seen == seen) pthread_cond_wait(&r->cv, &r->mu);
                pthread_mutex_unlock(&r->mu);
            }
            continue;
        }
        log_iter_reset(it, w.buf, w.len, true);
        log_batch_header_t h;
        log_record_view_t rec;
        while (log_iter_next_batch(it, &h, NULL) == 1) {
            while (log_iter_next_record(it, &rec, NULL) == 1) {
                if (rec.offset < offset) continue;
                int a, i;
                char buf[32];
                snprintf(buf, sizeof buf, "%.*s", rec.value_len, (const char *)rec.value);
                if (sscanf(buf, "a%d.%d", &a, &i) != 2 || a < 0 || a >= APPENDERS || i != next[a]) r->errors++;
                else next[a]++;
                r->records++;
                offset = rec.offset + 1;
            }
        }
        wr_free(&w);
    }
    log_iter_free(it);
    return NULL;
}

TEST(many_appenders_and_readers) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_config_entry_t cfg[] = {{"segment.bytes", "8000"}};
    REQUIRE_OK(log_topic_create(log, "busy", 1, cfg, 1, false, NULL));
    log_partition_t *p;
    REQUIRE_OK(log_partition_open(log, "busy", 0, 0, &p, NULL));
    reader_arg_t readers[2];
    pthread_t rt[2], at[APPENDERS];
    appender_arg_t aa[APPENDERS];
    for (int i = 0; i < 2; i++) {
        memset(&readers[i], 0, sizeof readers[i]);
        readers[i].p = p;
        pthread_mutex_init(&readers[i].mu, NULL);
        pthread_cond_init(&readers[i].cv, NULL);
        pthread_create(&rt[i], NULL, reader, &readers[i]);
    }
    for (int i = 0; i < APPENDERS; i++) {
        aa[i] = (appender_arg_t){p, i};
        pthread_create(&at[i], NULL, appender, &aa[i]);
    }
    for (int i = 0; i < APPENDERS; i++) {
        void *rv;
        pthread_join(at[i], &rv);
        CHECK(rv == NULL);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(rt[i], NULL);
        CHECK_EQ_INT(readers[i].records, APPENDERS * PER_APPENDER);
        CHECK_EQ_INT(readers[i].errors, 0);
        pthread_mutex_destroy(&readers[i].mu);
        pthread_cond_destroy(&readers[i].cv);
    }
    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK_EQ_INT(st.high_watermark, APPENDERS * PER_APPENDER);
    CHECK(st.segments > 3);
    log_partition_release(p);
    log_close(log);
}

/* ---- a read outlives its segment ---- */

TEST(read_survives_retention_of_its_segment) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_config_entry_t cfg[] = {{"segment.bytes", "200"}, {"retention.bytes", "0"}};
    REQUIRE_OK(log_topic_create(log, "gone", 1, cfg, 2, false, NULL));
    log_partition_t *p;
    REQUIRE_OK(log_partition_open(log, "gone", 0, 0, &p, NULL));
    for (int i = 0; i < 6; i++) {
        log_record_t r = {-1, NULL, -1, "0123456789012345678901234567890123456789", 40, NULL, 0};
        REQUIRE_OK(log_append_records_wait(p, &r, 1, LOG_CODEC_NONE, NULL, NULL));
    }
    log_read_t rd;
    REQUIRE_OK(log_read(p, 0, 1 << 20, &rd, NULL));
    REQUIRE(rd.len > 0);
    CHECK(log_maintain(log, time_now_ms()) > 0); /* deletes the segment rd holds */
    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK(st.log_start_offset > 0);
    uint8_t *buf = malloc(rd.len);
    REQUIRE_OK(log_read_copy(&rd, buf));
    log_batch_header_t h;
    CHECK_OK(log_batch_validate(buf, rd.len, &h, NULL));
    CHECK_EQ_INT(h.base_offset, 0);
    free(buf);
    log_read_release(&rd);
    log_partition_release(p);
    log_close(log);
}

/* ---- LogAppendTime, rolls by age, auto-create off ---- */

TEST(log_append_time_topic_rewrites_timestamps) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_config_entry_t cfg[] = {{"message.timestamp.type", "LogAppendTime"}};
    REQUIRE_OK(log_topic_create(log, "lat", 1, cfg, 1, false, NULL));
    log_partition_t *p;
    REQUIRE_OK(log_partition_open(log, "lat", 0, 0, &p, NULL));
    log_record_t recs[2] = {{5, NULL, -1, "a", 1, NULL, 0}, {6, NULL, -1, "b", 1, NULL, 0}};
    int64_t before = time_now_ms();
    log_append_result_t res;
    REQUIRE_OK(log_append_records_wait(p, recs, 2, LOG_CODEC_GZIP, &res, NULL));
    CHECK(res.log_append_time >= before);
    wr_t w;
    wr_init(&w, 0);
    REQUIRE_OK(log_read_into(p, 0, 1 << 20, &w, NULL, NULL));
    log_batch_header_t h;
    REQUIRE_OK(log_batch_validate(w.buf, w.len, &h, NULL)); /* the new CRC is right */
    CHECK(h.attributes & LOG_ATTR_LOG_APPEND_TIME);
    CHECK_EQ_INT(h.max_timestamp, res.log_append_time);
    log_iter_t *it = log_iter_new(0);
    log_iter_reset(it, w.buf, w.len, true);
    log_record_view_t r;
    REQUIRE(log_iter_next_batch(it, &h, NULL) == 1);
    REQUIRE(log_iter_next_record(it, &r, NULL) == 1);
    CHECK_EQ_INT(r.timestamp, res.log_append_time);
    log_iter_free(it);
    wr_free(&w);
    log_partition_release(p);
    log_close(log);
}

TEST(segment_ms_rolls_and_auto_create_off) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, false);
    log_partition_t *p;
    log_err_t e;
    CHECK_EQ_INT(log_partition_open(log, "nope", 0, LOG_OPEN_AUTO_CREATE, &p, &e), EDDY_ERR_NOT_FOUND);
    CHECK_EQ_INT(e.reason, LOG_ERR_UNKNOWN_TOPIC);
    log_config_entry_t cfg[] = {{"segment.ms", "1"}};
    REQUIRE_OK(log_topic_create(log, "aged", 1, cfg, 1, false, NULL));
    REQUIRE_OK(log_partition_open(log, "aged", 0, 0, &p, NULL));
    log_record_t r = {-1, NULL, -1, "x", 1, NULL, 0};
    for (int i = 0; i < 3; i++) {
        REQUIRE_OK(log_append_records_wait(p, &r, 1, LOG_CODEC_NONE, NULL, NULL));
        usleep(5000);
    }
    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK_EQ_INT(st.segments, 3);
    log_partition_release(p);
    log_close(log);
}

/* ---- eddy dump segment ---- */

static char *run_dump(int argc, char **argv, const char *out_path, int *rc) {
    fflush(stdout);
    int saved = dup(1);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    close(fd);
    *rc = log_dump_main(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    return test_read_file(out_path, NULL);
}

TEST(dump_prints_batches_records_and_indexes) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_config_entry_t cfg[] = {{"segment.bytes", "300"}, {"index.interval.bytes", "10"}};
    REQUIRE_OK(log_topic_create(log, "d", 1, cfg, 2, false, NULL));
    log_partition_t *p;
    REQUIRE_OK(log_partition_open(log, "d", 0, 0, &p, NULL));
    for (int i = 0; i < 8; i++) {
        log_header_t hd = {"h", 1, "hv", 2};
        log_record_t r = {1000 + i, "key", 3, "hello \"world\"", 13, &hd, 1};
        REQUIRE_OK(log_append_records_wait(p, &r, 1, (log_codec_t)(i % 5), NULL, NULL));
    }
    log_partition_release(p);
    log_group_offset_t go = {"d", 0, 5, 2, "m", 0};
    REQUIRE_OK(log_group_commit_offsets(log, "readers", &go, 1, NULL, NULL, NULL));
    log_close(log);
    char seg[600], out[600];
    snprintf(seg, sizeof seg, "%s/topics/d/0/00000000000000000000.log", dir);
    snprintf(out, sizeof out, "%s/dump.txt", dir);
    int rc;
    char *argv1[] = {"segment", seg, NULL};
    char *text = run_dump(2, argv1, out, &rc);
    REQUIRE(text);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(text, "baseOffset: 0 lastOffset: 0 count: 1") != NULL);
    CHECK(strstr(text, "compresscodec: none") != NULL);
    CHECK(strstr(text, "isvalid: true") != NULL);
    CHECK(strstr(text, "key: \"key\" payload: \"hello \\\"world\\\"\"") != NULL);
    free(text);
    snprintf(seg, sizeof seg, "%s/topics/d/0/00000000000000000000.index", dir);
    char *argv2[] = {"segment", seg, NULL};
    text = run_dump(2, argv2, out, &rc);
    REQUIRE(text);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(text, "offset: 1 position: ") != NULL);
    free(text);
    snprintf(seg, sizeof seg, "%s/groups.log", dir);
    char *argv4[] = {"segment", seg, NULL};
    text = run_dump(2, argv4, out, &rc);
    REQUIRE(text);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(text, "group: \"readers\" OFFSET d-0 offset: 5 leaderEpoch: 2 metadata: \"m\"") != NULL);
    free(text);
    char *argv3[] = {"segment", "--bogus", NULL};
    text = run_dump(2, argv3, out, &rc);
    CHECK_EQ_INT(rc, 2);
    free(text);
}

/* ---- watch cancellation racing the firing ---- */

typedef struct {
    atomic_int fired;    /* set by the callback */
    atomic_int finished; /* set when the callback returns */
} race_watch_t;

static void on_race_watch(void *arg, int status, int64_t hw) {
    (void)status;
    (void)hw;
    race_watch_t *w = arg;
    atomic_store(&w->fired, 1);
    usleep(50); /* widen the window in which a cancel finds the callback running */
    atomic_store(&w->finished, 1);
}

typedef struct {
    log_partition_t *p;
    atomic_int stop;
} race_appender_t;

static void *race_appender(void *arg) {
    race_appender_t *a = arg;
    log_record_t r = {-1, NULL, -1, "x", 1, NULL, 0};
    while (!atomic_load(&a->stop)) log_append_records_wait(a->p, &r, 1, LOG_CODEC_NONE, NULL, NULL);
    return NULL;
}

TEST(watch_cancel_races_firing) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_partition_t *p;
    REQUIRE_OK(log_partition_open(log, "race", 0, LOG_OPEN_AUTO_CREATE, &p, NULL));
    race_appender_t a = {p, 0};
    pthread_t th;
    pthread_create(&th, NULL, race_appender, &a);
    enum { N = 2000 };
    race_watch_t *ws = calloc(N, sizeof *ws);
    bool *cancelled = calloc(N, sizeof *cancelled);
    int bad = 0, fired_after_cancel = 0;
    for (int i = 0; i < N; i++) {
        log_partition_state_t st;
        log_partition_state(p, &st);
        uint64_t id;
        REQUIRE_OK(log_watch_add(p, st.high_watermark, on_race_watch, &ws[i], &id));
        if (!id) continue;
        if (i % 3) usleep((useconds_t)(i % 7) * 100);
        cancelled[i] = log_watch_cancel(p, id);
        /* false: the callback ran to its end before cancel returned; true: it never starts. */
        if (!cancelled[i] && !atomic_load(&ws[i].finished)) bad++;
        if (cancelled[i] && atomic_load(&ws[i].fired)) bad++;
    }
    atomic_store(&a.stop, 1);
    pthread_join(th, NULL);
    log_flush(log);
    for (int i = 0; i < N; i++)
        if (cancelled[i] && atomic_load(&ws[i].fired)) fired_after_cancel++;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(fired_after_cancel, 0);
    free(ws);
    free(cancelled);
    log_partition_release(p);
    log_close(log);
}
