/* Unit tests: the embedded log as a pipeline source: records appended through the log's own
 * API are applied as they become durable (the pipeline sleeps on log watches), tombstones and
 * headers arrive, and positions resume after a restart. */
#include <stdio.h>
#include <unistd.h>

#include "engine/engine_rt.h"
#include "log/log.h"
#include "engine/engine_test_util.h"
#include "test.h"

static void append(log_t *log, const char *key, const char *value) {
    log_partition_t *p;
    log_err_t err;
    REQUIRE_OK(log_partition_open(log, "leaves", 0, 0, &p, &err));
    log_header_t h = {"origin", 6, "test", 4};
    log_record_t r = {-1, key, (int32_t)strlen(key), value, value ? (int32_t)strlen(value) : -1, &h, 1};
    REQUIRE_OK(log_append_records_wait(p, &r, 1, LOG_CODEC_NONE, NULL, &err));
    log_partition_release(p);
}

static int wait_for(engine_t *eng, int64_t offset) { return wait_applied_sync(eng, "p", "leaves", offset, 20000); }

static engine_t *engine_on(log_t *log, engine_mem_t *m) {
    engine_backend_t be = {log, engine_logsrc_open, engine_logsrc_close, engine_mem_sink(m), 1, -1, NULL};
    engine_t *eng = NULL;
    char err[256];
    REQUIRE_OK(engine_engine_new(&be, &eng, err, sizeof err));
    return eng;
}

static const char *FILE1 =
    "CREATE STREAM leaf_changes (id text KEY, title text, tags list<text>) WITH (topic = 'leaves', changelog = true);\n"
    "CREATE TABLE IF NOT EXISTS demo.by_tag (tag text, id text, title text, origin text, PRIMARY KEY ((tag), id));\n"
    "INSERT INTO demo.by_tag SELECT tag, id, title, rowheaders['origin'] AS origin\n"
    "  FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag);\n";

TEST(engine_log_source_applies_durable_records) {
    log_options_t o;
    log_options_init(&o);
    o.background = false;
    log_t *log;
    log_err_t lerr;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/log", test_tmpdir());
    REQUIRE_OK(log_open(dir, &o, &log, &lerr));
    engine_mem_t *m = engine_mem_new();
    engine_t *eng = engine_on(log, m);
    char err[512];
    /* The topic does not exist yet: the pipeline creates it. */
    REQUIRE_OK(engine_submit(eng, "p", FILE1, strlen(FILE1), NULL, err, sizeof err));
    log_topic_info_t info;
    for (int i = 0; i < 2000 && log_topic_info(log, "leaves", &info) != EDDY_OK; i++) usleep(1000);
    append(log, "L1", "{\"title\":\"A\",\"tags\":[\"x\",\"y\"]}");
    CHECK_EQ_INT(wait_for(eng, 0), EDDY_OK);
    wr_t w;
    wr_init(&w, 256);
    engine_mem_dump_table(m, "demo", "by_tag", &w);
    wr_u8(&w, 0);
    CHECK_EQ_STR((char *)w.buf, "tag=\"x\"|id=\"L1\"|origin=\"test\"|title=\"A\"\n"
                                "tag=\"y\"|id=\"L1\"|origin=\"test\"|title=\"A\"\n");
    append(log, "L1", NULL); /* a tombstone retracts both rows */
    CHECK_EQ_INT(wait_for(eng, 1), EDDY_OK);
    CHECK_EQ_INT(engine_mem_table_rows(m, "demo", "by_tag"), 0);
    /* After a restart the engine resumes at the committed position. */
    engine_free(eng);
    append(log, "L2", "{\"title\":\"B\",\"tags\":[\"z\"]}");
    eng = engine_on(log, m);
    REQUIRE_OK(engine_submit(eng, "p", FILE1, strlen(FILE1), NULL, err, sizeof err));
    CHECK_EQ_INT(wait_for(eng, 2), EDDY_OK);
    CHECK_EQ_INT(engine_mem_table_rows(m, "demo", "by_tag"), 1);
    int64_t next;
    CHECK_OK(engine_applied_offset(eng, "p", "leaves", 0, &next));
    CHECK_EQ_INT(next, 3);
    wr_free(&w);
    engine_free(eng);
    engine_mem_free(m);
    log_close(log);
}
