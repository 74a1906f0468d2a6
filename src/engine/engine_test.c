/* Unit tests: the running engine on the in-memory backend: pipeline threads woken by watches,
 * read-your-writes waits (applied, timeout, unknown topic), stop and start, progress JSON and
 * metrics, and files that start nothing when they have an error. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/engine_rt.h"
#include "engine/engine_test_util.h"
#include "test.h"

static int mem_open(void *env, engine_source_t *out) {
    *out = engine_mem_source(env);
    return EDDY_OK;
}

static void mem_close(void *env, engine_source_t src) { (void)env; (void)src; }

static engine_t *engine_on(engine_mem_t *m) {
    engine_backend_t be = {m, mem_open, mem_close, engine_mem_sink(m), 1, -1, NULL};
    engine_t *eng = NULL;
    char err[256];
    REQUIRE_OK(engine_engine_new(&be, &eng, err, sizeof err));
    return eng;
}

static int wait_for(engine_t *eng, const char *pipe, const char *topic, int64_t offset, int64_t timeout_ms) {
    return wait_applied_sync(eng, pipe, topic, offset, timeout_ms);
}

static const char *FILE1 =
    "CREATE STREAM leaf_changes (id text KEY, title text, url text, tags list<text>)\n"
    "  WITH (topic = 'leaves', changelog = true);\n"
    "CREATE TABLE IF NOT EXISTS demo.leaves_by_tag (tag text, title text, url text, tags list<text>,\n"
    "  PRIMARY KEY ((tag), title));\n"
    "INSERT INTO demo.leaves_by_tag SELECT tag, title, url, tags FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag);\n";

TEST(engine_runtime_read_your_writes) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "leaves", 1);
    engine_t *eng = engine_on(m);
    char err[512];
    engine_submit_result_t res;
    REQUIRE_OK(engine_submit(eng, "by_tag", FILE1, strlen(FILE1), &res, err, sizeof err));
    CHECK_EQ_INT(res.nstreaming, 1);
    /* The same file again is a no-op; another file under the running name is refused. */
    CHECK_OK(engine_submit(eng, "by_tag", FILE1, strlen(FILE1), &res, err, sizeof err));
    CHECK_EQ_INT(engine_submit(eng, "by_tag", "x", 1, &res, err, sizeof err), EDDY_ERR_EXISTS);
    for (int i = 0; i < 50; i++) {
        char v[128];
        snprintf(v, sizeof v, "{\"title\":\"t%d\",\"url\":\"u\",\"tags\":[\"a\",\"b\"]}", i);
        engine_mem_append(m, "leaves", 0, i % 2 ? "k1" : "k2", v);
    }
    /* Each wait completes once its offset is applied: the table then shows the event. */
    CHECK_EQ_INT(wait_for(eng, "by_tag", "leaves", 49, 10000), EDDY_OK);
    CHECK_EQ_INT(engine_mem_table_rows(m, "demo", "leaves_by_tag"), 4);
    int64_t next = -1;
    CHECK_OK(engine_applied_offset(eng, NULL, "leaves", 0, &next));
    CHECK_EQ_INT(next, 50);
    CHECK_EQ_INT(wait_for(eng, NULL, "leaves", 10, 1000), EDDY_OK); /* already applied */
    CHECK_EQ_INT(wait_for(eng, "by_tag", "leaves", 1000, 50), EDDY_ERR_TIMEOUT);
    CHECK_EQ_INT(engine_wait_applied(eng, NULL, "other", 0, 1, 10, on_wait, NULL), EDDY_ERR_NOT_FOUND);
    /* A record appended after the wait began. */
    waitres_t r = WAITRES_INIT;
    REQUIRE_OK(engine_wait_applied(eng, "by_tag", "leaves", 0, 50, 10000, on_wait, &r));
    engine_mem_append(m, "leaves", 0, "k3", "{\"title\":\"z\",\"url\":\"u\",\"tags\":[\"c\"]}");
    CHECK_EQ_INT(waitres_get(&r), EDDY_OK);
    CHECK_EQ_INT(engine_mem_table_rows(m, "demo", "leaves_by_tag"), 5);
    /* Progress and metrics. */
    wr_t w;
    wr_init(&w, 1024);
    REQUIRE_OK(engine_pipeline_json(eng, "by_tag", &w));
    wr_u8(&w, 0);
    CHECK(strstr((char *)w.buf, "\"state\":\"running\"") != NULL);
    CHECK(strstr((char *)w.buf, "\"sources\":[{\"description\":\"EddyLog[leaves, changelog]\"") != NULL);
    CHECK(strstr((char *)w.buf, "\"endOffset\":{\"leaves\":{\"0\":51}}") != NULL);
    CHECK(strstr((char *)w.buf, "\"numInputRows\":51") != NULL);
    wr_reset(&w);
    engine_metrics_write(eng, &w);
    wr_u8(&w, 0);
    CHECK(strstr((char *)w.buf, "eddy_pipeline_input_rows_total{pipeline=\"by_tag\",query=\"by_tag/1\"} 51") != NULL);
    CHECK(strstr((char *)w.buf, "eddy_pipeline_lag_records{pipeline=\"by_tag\",query=\"by_tag/1\",topic=\"leaves\",partition=\"0\"} 0") != NULL);
    wr_free(&w);
    /* Stop: waits fail as closed; start resumes from the committed position. */
    waitres_t r2 = WAITRES_INIT;
    REQUIRE_OK(engine_wait_applied(eng, "by_tag", "leaves", 0, 60, 10000, on_wait, &r2));
    REQUIRE_OK(engine_pipeline_stop(eng, "by_tag", err, sizeof err));
    CHECK_EQ_INT(waitres_get(&r2), EDDY_ERR_CLOSED);
    engine_mem_append(m, "leaves", 0, "k3", NULL);
    REQUIRE_OK(engine_pipeline_start(eng, "by_tag", err, sizeof err));
    CHECK_EQ_INT(wait_for(eng, "by_tag", "leaves", 51, 10000), EDDY_OK);
    CHECK_EQ_INT(engine_mem_table_rows(m, "demo", "leaves_by_tag"), 4);
    engine_free(eng);
    engine_mem_free(m);
}

/* The timer thread sleeps until the earliest deadline and is woken only by an earlier one: a
 * short wait registered after long ones still times out on its own deadline (were it not woken,
 * the test would sleep for the long ones' hour); a later one registered after it, too. The long
 * ones complete when their record is applied, matched by the waiter's own copies of the names
 * (the caller's were overwritten: copies gone wrong would end them as closed). */
TEST(engine_runtime_wait_deadlines) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "leaves", 1);
    engine_t *eng = engine_on(m);
    char err[512], name[16], topic[16];
    REQUIRE_OK(engine_submit(eng, "by_tag", FILE1, strlen(FILE1), NULL, err, sizeof err));
    snprintf(name, sizeof name, "by_tag");
    snprintf(topic, sizeof topic, "leaves");
    waitres_t named = WAITRES_INIT, any = WAITRES_INIT, later = WAITRES_INIT;
    REQUIRE_OK(engine_wait_applied(eng, name, topic, 0, 0, 3600000, on_wait, &named));
    REQUIRE_OK(engine_wait_applied(eng, NULL, topic, 0, 0, 3600000, on_wait, &any));
    memset(name, 'x', sizeof name - 1);
    memset(topic, 'x', sizeof topic - 1);
    CHECK_EQ_INT(wait_for(eng, "by_tag", "leaves", 1000, 20), EDDY_ERR_TIMEOUT);
    REQUIRE_OK(engine_wait_applied(eng, "by_tag", "leaves", 0, 1000, 40, on_wait, &later));
    CHECK_EQ_INT(wait_for(eng, NULL, "leaves", 1000, 10), EDDY_ERR_TIMEOUT);
    CHECK_EQ_INT(waitres_get(&later), EDDY_ERR_TIMEOUT);
    engine_mem_append(m, "leaves", 0, "k1", "{\"title\":\"t\",\"url\":\"u\",\"tags\":[\"a\"]}");
    CHECK_EQ_INT(waitres_get(&named), EDDY_OK);
    CHECK_EQ_INT(waitres_get(&any), EDDY_OK);
    engine_free(eng);
    engine_mem_free(m);
}

/* The pipeline thread applies a batch while the commit thread writes the one before: when a
 * commit fails, both batches are dropped and the pipeline goes back to its applied positions;
 * the tables end as a run without failures would leave them. */
TEST(engine_runtime_failed_commits_while_pipelined) {
    engine_mem_t *m = engine_mem_new(), *fresh = engine_mem_new();
    engine_mem_create_topic(m, "leaves", 1);
    engine_mem_create_topic(fresh, "leaves", 1);
    engine_t *eng = engine_on(m);
    char err[512];
    REQUIRE_OK(engine_submit(eng, "by_tag", FILE1, strlen(FILE1), NULL, err, sizeof err));
    srand(5);
    char recs[400][128], keys[400][8];
    for (int i = 0; i < 400; i++) {
        static const char *const tagsets[] = {"[]", "[\"a\"]", "[\"a\",\"b\"]", "[\"b\",\"c\",\"b\"]"};
        snprintf(keys[i], sizeof keys[i], "k%d", rand() % 20);
        snprintf(recs[i], sizeof recs[i], "{\"title\":\"t%d\",\"url\":\"u%d\",\"tags\":%s}", rand() % 4, i,
                 tagsets[rand() % 4]);
    }
    for (int i = 0; i < 400; i++) {
        if (i == 100) engine_mem_fail_commit_after(m, 2);
        if (i == 300) engine_mem_fail_commit_after(m, -1);
        bool del = i % 17 == 0;
        engine_mem_append(m, "leaves", 0, keys[i], del ? NULL : recs[i]);
        engine_mem_append(fresh, "leaves", 0, keys[i], del ? NULL : recs[i]);
        if (i % 10 == 0) usleep(2000);
    }
    CHECK_EQ_INT(wait_for(eng, "by_tag", "leaves", 399, 20000), EDDY_OK);
    engine_t *eng2 = engine_on(fresh);
    REQUIRE_OK(engine_submit(eng2, "by_tag", FILE1, strlen(FILE1), NULL, err, sizeof err));
    CHECK_EQ_INT(wait_for(eng2, "by_tag", "leaves", 399, 20000), EDDY_OK);
    CHECK(strlen(dump(m, "leaves_by_tag")) > 20);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"), dump(fresh, "leaves_by_tag"));
    engine_free(eng);
    engine_free(eng2);
    engine_mem_free(m);
    engine_mem_free(fresh);
}

TEST(engine_runtime_bad_file_starts_nothing) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "leaves", 1);
    engine_t *eng = engine_on(m);
    char err[512];
    const char *bad = "CREATE TABLE IF NOT EXISTS demo.x (k text PRIMARY KEY);\n"
                      "CREATE STREAM s WITH (topic = 'leaves');\n"
                      "INSERT INTO demo.x SELECT k FROM s;\n"
                      "INSERT INTO demo.x SELECT nope AS k FROM demo.missing;\n";
    CHECK_EQ_INT(engine_submit(eng, "bad", bad, strlen(bad), NULL, err, sizeof err), EDDY_ERR_INVALID);
    CHECK(strstr(err, "line 4:") != NULL);
    /* Nothing ran: not even the DDL of the first statement. */
    CHECK_EQ_INT(engine_mem_table_rows(m, "demo", "x"), 0);
    wr_t w;
    wr_init(&w, 64);
    engine_pipelines_json(eng, &w);
    CHECK_EQ_MEM(w.buf, w.len, "[]", 2);
    wr_free(&w);
    engine_free(eng);
    engine_mem_free(m);
}

TEST(engine_http_endpoints) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "leaves", 1);
    engine_t *eng = engine_on(m);
    wr_t out;
    wr_init(&out, 1024);
    CHECK_EQ_INT(engine_http_handle(eng, "POST", "/pipelines", "name=by_tag", FILE1, strlen(FILE1), &out), 201);
    wr_u8(&out, 0);
    CHECK_EQ_STR((char *)out.buf, "{\"name\":\"by_tag\",\"streaming\":1,\"batch\":0}");
    wr_reset(&out);
    const char *bad = "CREATE STREAM s WITH (topic = 'x');\nINSERT INTO demo.nope SELECT a FROM s;";
    CHECK_EQ_INT(engine_http_handle(eng, "POST", "/pipelines", NULL, bad, strlen(bad), &out), 400);
    wr_u8(&out, 0);
    CHECK(strstr((char *)out.buf, "line 2:18 unknown table demo.nope") != NULL);
    wr_reset(&out);
    CHECK_EQ_INT(engine_http_handle(eng, "GET", "/pipelines", NULL, NULL, 0, &out), 200);
    wr_u8(&out, 0);
    CHECK(strstr((char *)out.buf, "\"name\":\"by_tag\"") != NULL);
    wr_reset(&out);
    CHECK_EQ_INT(engine_http_handle(eng, "POST", "/pipelines/by_tag/stop", NULL, NULL, 0, &out), 200);
    wr_u8(&out, 0);
    CHECK(strstr((char *)out.buf, "\"state\":\"stopped\"") != NULL);
    wr_reset(&out);
    CHECK_EQ_INT(engine_http_handle(eng, "POST", "/pipelines/by_tag/start", NULL, NULL, 0, &out), 200);
    wr_reset(&out);
    CHECK_EQ_INT(engine_http_handle(eng, "GET", "/pipelines/nope", NULL, NULL, 0, &out), 404);
    wr_reset(&out);
    CHECK_EQ_INT(engine_http_handle(eng, "PUT", "/pipelines/by_tag", NULL, NULL, 0, &out), 405);
    wr_reset(&out);
    CHECK_EQ_INT(engine_http_handle(eng, "DELETE", "/pipelines/by_tag", NULL, NULL, 0, &out), 200);
    wr_reset(&out);
    CHECK_EQ_INT(engine_http_handle(eng, "GET", "/pipelines", NULL, NULL, 0, &out), 200);
    CHECK_EQ_MEM(out.buf, out.len, "[]", 2);
    wr_free(&out);
    engine_free(eng);
    engine_mem_free(m);
}
