/* Unit tests: the embedded store as the sink (and batch source): the workshop's jobs end to end
 * on a real log and a real store, retractions visible in CQL rows, a restart that resumes from
 * the positions committed with the rows, and rows the store refuses skipped and counted. */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine_rt.h"
#include "log/log.h"
#include "store/store.h"
#include "engine/engine_test_util.h"
#include "test.h"

typedef struct {
    log_t *log;
    store_t *st;
    engine_t *eng;
} env_t;

/* Opens the log and the store DIR/store_dir of this test's directory (and an engine). */
static void env_open_at(env_t *e, const char *store_dir, bool with_engine) {
    char dir[512], err[256];
    log_options_t o;
    log_options_init(&o);
    o.background = false;
    log_err_t lerr;
    snprintf(dir, sizeof dir, "%s/log", test_tmpdir());
    REQUIRE_OK(log_open(dir, &o, &e->log, &lerr));
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), store_dir);
    REQUIRE_OK(store_open(dir, NULL, &e->st, err, sizeof err));
    e->eng = NULL;
    if (with_engine) {
        engine_config_t cfg = {e->log, e->st, 2, -1};
        REQUIRE_OK(engine_new(&cfg, &e->eng, err, sizeof err));
    }
}

static void env_open(env_t *e) { env_open_at(e, "store", true); }

static void env_close(env_t *e) {
    engine_free(e->eng);
    store_close(e->st);
    log_close(e->log);
}

static void append(env_t *e, const char *key, const char *value) {
    log_partition_t *p;
    log_err_t err;
    log_topic_info_t info;
    if (log_topic_info(e->log, "leaves", &info) != EDDY_OK) {
        static const log_config_entry_t forever[] = {{"retention.ms", "-1"}};
        log_topic_create(e->log, "leaves", 1, forever, 1, false, &err);
    }
    REQUIRE_OK(log_partition_open(e->log, "leaves", 0, 0, &p, &err));
    log_record_t r = {-1, key, (int32_t)strlen(key), value, value ? (int32_t)strlen(value) : -1, NULL, 0};
    REQUIRE_OK(log_append_records_wait(p, &r, 1, LOG_CODEC_NONE, NULL, &err));
    log_partition_release(p);
}

static int wait_for(env_t *e, const char *pipe, int64_t offset) {
    return wait_applied_sync(e->eng, pipe, "leaves", offset, 20000);
}

/* The rows of ks.table as SELECT JSON lines, in the store's order. */
static char *rows(env_t *e, const char *table) {
    static char buf[8192];
    const store_table_t *t;
    char err[256];
    buf[0] = 0;
    if (store_table_lookup(e->st, "demo", table, &t, err, sizeof err)) return buf;
    store_iter_t *it = store_iter_new(e->st);
    store_query_t q = {0};
    q.table = t;
    wr_t w;
    wr_init(&w, 1024);
    if (store_iter_start(it, &q, err, sizeof err) == EDDY_OK) {
        const store_row_t *row;
        const store_table_info_t *info = store_table_info(t);
        int cols[64];
        for (size_t i = 0; i < info->ncolumns && i < 64; i++) cols[i] = (int)i;
        while (store_iter_next(it, &row, err, sizeof err) == 1) {
            store_row_to_json(row, cols, info->ncolumns, &w);
            wr_u8(&w, '\n');
        }
    }
    snprintf(buf, sizeof buf, "%.*s", (int)w.len, w.buf ? (char *)w.buf : "");
    wr_free(&w);
    store_iter_free(it);
    store_table_release(t);
    return buf;
}

static void submit_file(env_t *e, const char *path, const char *name) {
    size_t len;
    char *text = test_read_file(path, &len);
    REQUIRE(text);
    char err[512] = "";
    int rc = engine_submit(e->eng, name, text, len, NULL, err, sizeof err);
    if (rc) printf("# %s\n", err);
    REQUIRE(rc == EDDY_OK);
    free(text);
}

static void wait_finished(env_t *e, const char *name) {
    for (int i = 0; i < 20000; i++) {
        wr_t w;
        wr_init(&w, 1024);
        engine_pipeline_json(e->eng, name, &w);
        wr_u8(&w, 0);
        bool done = strstr((char *)w.buf, "\"state\":\"finished\"") || strstr((char *)w.buf, "\"state\":\"failed\"");
        wr_free(&w);
        if (done) return;
        usleep(1000);
    }
}

TEST(engine_store_workshop_jobs_end_to_end) {
    env_t e;
    env_open(&e);
    submit_file(&e, "examples/leaves.sql", "leaves");
    submit_file(&e, "examples/leaves_by_tag.sql", "leaves_by_tag");
    append(&e, "L1", "{\"id\":\"L1\",\"title\":\"Kafka 101\",\"url\":\"https://a\",\"tags\":[\"kafka\",\"streaming\"],"
                     "\"is_public\":true,\"created_at\":\"2021-03-04T10:11:12Z\",\"reading_time\":3}");
    append(&e, "L2", "{\"id\":\"L2\",\"title\":\"Cassandra\",\"url\":\"https://b\",\"tags\":[\"cassandra\",\"streaming\"]}");
    CHECK_EQ_INT(wait_for(&e, "leaves_by_tag", 1), EDDY_OK);
    CHECK_EQ_INT(wait_for(&e, "leaves", 1), EDDY_OK);
    CHECK(strstr(rows(&e, "leaves"), "\"reading_time\": 3") != NULL);
    CHECK_EQ_STR(rows(&e, "leaves_by_tag"),
                 "{\"tag\": \"streaming\", \"title\": \"Cassandra\", \"tags\": [\"cassandra\", \"streaming\"], \"url\": \"https://b\"}\n"
                 "{\"tag\": \"streaming\", \"title\": \"Kafka 101\", \"tags\": [\"kafka\", \"streaming\"], \"url\": \"https://a\"}\n"
                 "{\"tag\": \"cassandra\", \"title\": \"Cassandra\", \"tags\": [\"cassandra\", \"streaming\"], \"url\": \"https://b\"}\n"
                 "{\"tag\": \"kafka\", \"title\": \"Kafka 101\", \"tags\": [\"kafka\", \"streaming\"], \"url\": \"https://a\"}\n");
    /* L1 loses "streaming"; L2 is deleted. */
    append(&e, "L1", "{\"id\":\"L1\",\"title\":\"Kafka 101\",\"url\":\"https://a\",\"tags\":[\"kafka\"]}");
    append(&e, "L2", NULL);
    CHECK_EQ_INT(wait_for(&e, "leaves_by_tag", 3), EDDY_OK);
    CHECK_EQ_INT(wait_for(&e, "leaves", 3), EDDY_OK);
    CHECK_EQ_STR(rows(&e, "leaves_by_tag"),
                 "{\"tag\": \"kafka\", \"title\": \"Kafka 101\", \"tags\": [\"kafka\"], \"url\": \"https://a\"}\n");
    /* The batch job over the projection. */
    append(&e, "L3", "{\"id\":\"L3\",\"title\":\"Streams\",\"url\":\"https://c\",\"tags\":[\"kafka\",\"flink\"]}");
    CHECK_EQ_INT(wait_for(&e, "leaves", 4), EDDY_OK);
    submit_file(&e, "examples/tags.sql", "tags");
    wait_finished(&e, "tags");
    CHECK_EQ_STR(rows(&e, "tags"), "{\"tag\": \"flink\", \"count\": 1}\n{\"tag\": \"kafka\", \"count\": 2}\n");
    /* Restart: the engine resumes from the committed positions; the tables stay equal. */
    engine_free(e.eng);
    char err[256];
    engine_config_t cfg = {e.log, e.st, 2, -1};
    REQUIRE_OK(engine_new(&cfg, &e.eng, err, sizeof err));
    append(&e, "L3", NULL);
    submit_file(&e, "examples/leaves_by_tag.sql", "leaves_by_tag");
    CHECK_EQ_INT(wait_for(&e, "leaves_by_tag", 5), EDDY_OK);
    CHECK_EQ_STR(rows(&e, "leaves_by_tag"),
                 "{\"tag\": \"kafka\", \"title\": \"Kafka 101\", \"tags\": [\"kafka\"], \"url\": \"https://a\"}\n");
    env_close(&e);
}

/* Two leaves with one tag and title share a row: it holds the latest value, stays while either
 * produces it and goes with the last (the count of derivations travels in the row). */
TEST(engine_store_shared_rows_are_counted) {
    env_t e;
    env_open(&e);
    submit_file(&e, "examples/leaves_by_tag.sql", "leaves_by_tag");
    append(&e, "L1", "{\"title\":\"Same\",\"url\":\"https://a\",\"tags\":[\"x\",\"y\"]}");
    append(&e, "L2", "{\"title\":\"Same\",\"url\":\"https://b\",\"tags\":[\"x\"]}");
    CHECK_EQ_INT(wait_for(&e, "leaves_by_tag", 1), EDDY_OK);
    CHECK_EQ_STR(rows(&e, "leaves_by_tag"),
                 "{\"tag\": \"y\", \"title\": \"Same\", \"tags\": [\"x\", \"y\"], \"url\": \"https://a\"}\n"
                 "{\"tag\": \"x\", \"title\": \"Same\", \"tags\": [\"x\"], \"url\": \"https://b\"}\n");
    /* L1 leaves x (and y): x stays for L2, with L2's value. */
    append(&e, "L1", "{\"title\":\"Same\",\"url\":\"https://a\",\"tags\":[]}");
    CHECK_EQ_INT(wait_for(&e, "leaves_by_tag", 2), EDDY_OK);
    CHECK_EQ_STR(rows(&e, "leaves_by_tag"),
                 "{\"tag\": \"x\", \"title\": \"Same\", \"tags\": [\"x\"], \"url\": \"https://b\"}\n");
    /* L1 comes back and L2 goes, then L1 goes too; a leaf whose tag is listed twice counts twice. */
    append(&e, "L1", "{\"title\":\"Same\",\"url\":\"https://c\",\"tags\":[\"x\",\"x\"]}");
    append(&e, "L2", NULL);
    CHECK_EQ_INT(wait_for(&e, "leaves_by_tag", 4), EDDY_OK);
    CHECK_EQ_STR(rows(&e, "leaves_by_tag"),
                 "{\"tag\": \"x\", \"title\": \"Same\", \"tags\": [\"x\", \"x\"], \"url\": \"https://c\"}\n");
    append(&e, "L1", NULL);
    CHECK_EQ_INT(wait_for(&e, "leaves_by_tag", 5), EDDY_OK);
    CHECK_EQ_STR(rows(&e, "leaves_by_tag"), "");
    /* Added and retracted within one batch, or in two: either way nothing is left. */
    append(&e, "L3", "{\"title\":\"T\",\"url\":\"u\",\"tags\":[\"z\"]}");
    append(&e, "L3", "{\"title\":\"T\",\"url\":\"u\",\"tags\":[]}");
    CHECK_EQ_INT(wait_for(&e, "leaves_by_tag", 7), EDDY_OK);
    CHECK_EQ_STR(rows(&e, "leaves_by_tag"), "");
    env_close(&e);
}

TEST(engine_store_unwritable_rows_are_skipped) {
    env_t e;
    env_open(&e);
    const char *file = "CREATE KEYSPACE IF NOT EXISTS demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n"
                       "CREATE TABLE IF NOT EXISTS demo.small (k text PRIMARY KEY, n smallint);\n"
                       "CREATE STREAM s (k text KEY, n bigint) WITH (topic = 'leaves', changelog = true);\n"
                       "INSERT INTO demo.small SELECT k, n FROM s;\n";
    char err[512];
    REQUIRE_OK(engine_submit(e.eng, "small", file, strlen(file), NULL, err, sizeof err));
    append(&e, "a", "{\"n\": 7}");
    append(&e, "b", "{\"n\": 100000}"); /* does not fit a smallint */
    append(&e, "c", "{\"n\": 8}");
    CHECK_EQ_INT(wait_for(&e, "small", 2), EDDY_OK);
    CHECK_EQ_STR(rows(&e, "small"), "{\"k\": \"a\", \"n\": 7}\n{\"k\": \"c\", \"n\": 8}\n");
    wr_t w;
    wr_init(&w, 1024);
    engine_metrics_write(e.eng, &w);
    wr_u8(&w, 0);
    CHECK(strstr((char *)w.buf, "eddy_pipeline_rows_skipped_total{pipeline=\"small\",query=\"small/1\"} 1") != NULL);
    wr_free(&w);
    env_close(&e);
}

/* ---- kill -9 ---------------------------------------------------------------------------------- */

static const char *CRASH_FILE =
    "CREATE KEYSPACE IF NOT EXISTS demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n"
    "CREATE STREAM leaf_changes (id text KEY, title text, url text, tags list<text>)\n"
    "  WITH (topic = 'leaves', changelog = true);\n"
    "CREATE TABLE IF NOT EXISTS demo.leaves_by_tag (tag text, title text, url text, tags list<text>,\n"
    "  PRIMARY KEY ((tag), title));\n"
    "CREATE TABLE IF NOT EXISTS demo.tag_counts (tag text PRIMARY KEY, n bigint, longest int);\n"
    "INSERT INTO demo.leaves_by_tag SELECT tag, title, url, tags FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag);\n"
    "INSERT INTO demo.tag_counts SELECT tag, count(*) AS n, max(length(title)) AS longest\n"
    "  FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY tag;\n";

static void crash_env(env_t *e, const char *store_dir, bool with_engine) {
    char err[256];
    env_open_at(e, store_dir, with_engine);
    if (with_engine) REQUIRE_OK(engine_submit(e->eng, "crash", CRASH_FILE, strlen(CRASH_FILE), NULL, err, sizeof err));
}

static char *both_tables(env_t *e) {
    static char out[16384];
    snprintf(out, sizeof out, "%s", rows(e, "leaves_by_tag"));
    snprintf(out + strlen(out), sizeof out - strlen(out), "--\n%s", rows(e, "tag_counts"));
    return out;
}

static void wait_all(env_t *e, int64_t last) {
    waitres_t r = WAITRES_INIT;
    REQUIRE_OK(engine_wait_applied(e->eng, "crash", "leaves", 0, last, 60000, on_wait, &r));
    CHECK_EQ_INT(waitres_get(&r), EDDY_OK);
}

TEST(engine_store_kill9_equals_replay) {
    /* A changelog with updates, tag changes and deletes, durable in the log before anything runs. */
    env_t e;
    crash_env(&e, "store", false);
    srand(11);
    static const char *const tagset[] = {"kafka", "spark", "cassandra", "flink", "sql", "rocksdb"};
    const int N = 60000;
    log_partition_t *part;
    log_err_t lerr;
    static const log_config_entry_t forever[] = {{"retention.ms", "-1"}};
    log_topic_create(e.log, "leaves", 1, forever, 1, false, &lerr);
    REQUIRE_OK(log_partition_open(e.log, "leaves", 0, 0, &part, &lerr));
    static char keys[200][16], vals[200][256];
    log_record_t recs[200];
    for (int i = 0; i < N;) {
        int k = 0;
        for (; k < 200; k++, i++) {
            char tags[128] = "[";
            snprintf(keys[k], sizeof keys[k], "leaf%d", rand() % 1000);
            int nt = rand() % 4;
            for (int t = 0; t < nt; t++)
                snprintf(tags + strlen(tags), sizeof tags - strlen(tags), "%s\"%s\"", t ? "," : "", tagset[rand() % 6]);
            strcat(tags, "]");
            snprintf(vals[k], sizeof vals[k], "{\"title\":\"title %d\",\"url\":\"https://x/%d\",\"tags\":%s}", rand() % 50, i,
                     tags);
            bool del = rand() % 12 == 0;
            recs[k] = (log_record_t){-1, keys[k], (int32_t)strlen(keys[k]), del ? NULL : vals[k],
                                     del ? -1 : (int32_t)strlen(vals[k]), NULL, 0};
        }
        REQUIRE_OK(log_append_records_wait(part, recs, (size_t)k, LOG_CODEC_NONE, NULL, &lerr));
    }
    log_partition_release(part);
    store_close(e.st);
    log_close(e.log);
    /* Runs killed with SIGKILL at random moments, each resuming where the last one committed. */
    for (int round = 0; round < 6; round++) {
        fflush(NULL);
        int ready[2];
        REQUIRE(pipe(ready) == 0);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            /* Says when it has applied a 25th more of the log, and goes on until killed (a
             * batch may hold 8192 records and another be in flight: the last round stops well
             * short of the end, so that the survivor has work left). */
            env_t c;
            crash_env(&c, "store", true);
            int64_t next = 0;
            while (engine_applied_offset(c.eng, "crash", "leaves", 0, &next) != EDDY_OK || next < (round + 1) * N / 25)
                usleep(500);
            if (write(ready[1], "r", 1) != 1) _exit(1);
            for (;;) pause();
        }
        /* Killed a moment after that: in the middle of a later batch, or between two. */
        char b;
        CHECK(read(ready[0], &b, 1) == 1);
        close(ready[0]);
        close(ready[1]);
        usleep((useconds_t)(rand() % 3000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    /* The killed runs committed part of the work (their positions say how far they got). */
    crash_env(&e, "store", false);
    engine_sink_t sink;
    REQUIRE_OK(engine_store_sink(e.st, &sink));
    int64_t pos = -1;
    REQUIRE_OK(engine_positions_load(sink, "crash/1", "leaves", 0, &pos));
    printf("# after the kills: crash/1 at offset %lld of %d\n", (long long)pos, N);
    CHECK(pos > 0 && pos < N); /* some work done, some left for the survivor */
    engine_store_sink_free(sink);
    store_close(e.st);
    log_close(e.log);
    /* The survivor finishes the work; its tables must equal a run from scratch on a new store. */
    crash_env(&e, "store", true);
    wait_all(&e, N - 1);
    char *after = strdup(both_tables(&e));
    env_close(&e);
    crash_env(&e, "fresh", true);
    wait_all(&e, N - 1);
    char *fresh = both_tables(&e);
    CHECK(strlen(fresh) > 100);
    CHECK_EQ_STR(after, fresh);
    free(after);
    env_close(&e);
}
