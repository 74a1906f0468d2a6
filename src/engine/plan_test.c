/* Unit tests: pipeline files through the planner, run on the in-memory backend: the workshop's
 * two jobs, retractions, schemaless streams, grouping, batch restarts, and errors that point at
 * line and column. */
#include <stdio.h>

#include "engine/engine_int.h"
#include "engine/engine_test_util.h"
#include "test.h"

static const char *LEAVES_BY_TAG =
    "CREATE STREAM leaf_changes (id text KEY, title text, url text, tags list<text>)\n"
    "  WITH (topic = 'leaves', format = 'json', changelog = true);\n"
    "CREATE KEYSPACE IF NOT EXISTS demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n"
    "CREATE TABLE IF NOT EXISTS demo.leaves_by_tag\n"
    "  (tag text, title text, url text, tags list<text>, PRIMARY KEY ((tag), title));\n"
    "INSERT INTO demo.leaves_by_tag\n"
    "  SELECT tag, title, url, tags FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag);\n";

static engine_plan_t *plan_ok(engine_mem_t *m, const char *text) {
    engine_plan_t *p = NULL;
    char err[512] = "";
    int rc = engine_plan_build("t", text, strlen(text), engine_mem_sink(m), &p, err, sizeof err);
    if (rc) printf("# plan error: %s\n", err);
    REQUIRE(rc == EDDY_OK);
    REQUIRE_OK(engine_plan_run_ddl(p, engine_mem_sink(m), err, sizeof err));
    return p;
}

static const char *plan_err(engine_mem_t *m, const char *text) {
    static char err[512];
    engine_plan_t *p = NULL;
    err[0] = 0;
    int rc = engine_plan_build("t", text, strlen(text), engine_mem_sink(m), &p, err, sizeof err);
    engine_plan_free(p);
    return rc == EDDY_ERR_INVALID ? err : "(no error)";
}

static void drain(engine_mem_t *m, engine_query_t *q) {
    engine_stream_run_t r;
    char err[256];
    REQUIRE_OK(engine_stream_open(&r, q, engine_mem_source(m), engine_mem_sink(m), err, sizeof err));
    uint32_t n;
    do REQUIRE_OK(engine_stream_step(&r, 1000, 1000, &n, err, sizeof err));
    while (n > 0);
    engine_stream_close(&r);
}

TEST(engine_plan_leaves_by_tag_sql) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "leaves", 1);
    engine_plan_t *p = plan_ok(m, LEAVES_BY_TAG);
    REQUIRE(p->nqueries == 1);
    engine_query_t *q = p->queries[0];
    CHECK(q->retracting);
    CHECK(q->need_refcount);
    CHECK_EQ_INT(q->nbase, 3); /* title, url, tags: the key column is not used */
    engine_mem_append(m, "leaves", 0, "L1", "{\"id\":\"L1\",\"title\":\"T\",\"url\":\"u\",\"tags\":[\"a\",\"b\"],\"content\":\"x\"}");
    engine_mem_append(m, "leaves", 0, "L1", "{\"id\":\"L1\",\"title\":\"T\",\"url\":\"u\",\"tags\":[\"b\"]}");
    drain(m, q);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"), "tag=\"b\"|title=\"T\"|tags=[\"b\"]|url=\"u\"\n");
    engine_plan_free(p);
    engine_mem_free(m);
}

TEST(engine_plan_schemaless_and_expressions) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "events", 1);
    engine_plan_t *p = plan_ok(m,
        "CREATE STREAM ev WITH (topic = 'events');\n"
        "CREATE TABLE IF NOT EXISTS demo.ev_out (k text PRIMARY KEY, n int, kind text, who text, part int, first text);\n"
        "INSERT INTO demo.ev_out\n"
        "  SELECT rowkey AS k, CAST(payload['n'] AS int) * 2 AS n,\n"
        "         CASE WHEN payload['n'] > 10 THEN 'big' ELSE 'small' END AS kind,\n"
        "         lower(user.name) AS who, rowpartition AS part, items[0] AS first\n"
        "  FROM ev WHERE payload['n'] IS NOT NULL AND kind_of <> 'skip';\n");
    engine_mem_append(m, "events", 0, "a", "{\"payload\":{\"n\":5},\"user\":{\"name\":\"ANN\"},\"items\":[\"x\",\"y\"],\"kind_of\":\"ok\"}");
    engine_mem_append(m, "events", 0, "b", "{\"payload\":{\"n\":50},\"user\":{\"name\":\"Bo\"},\"kind_of\":\"ok\"}");
    engine_mem_append(m, "events", 0, "c", "{\"payload\":{\"n\":7},\"kind_of\":\"skip\"}");
    engine_mem_append(m, "events", 0, "d", "{\"payload\":{}}");
    drain(m, p->queries[0]);
    CHECK_EQ_STR(dump(m, "ev_out"),
                 "k=\"a\"|first=\"x\"|kind=\"small\"|n=10|part=0|who=\"ann\"\n"
                 "k=\"b\"|first=null|kind=\"big\"|n=100|part=0|who=\"bo\"\n");
    engine_plan_free(p);
    engine_mem_free(m);
}

TEST(engine_plan_group_by_having_retracts) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "orders", 1);
    engine_plan_t *p = plan_ok(m,
        "CREATE STREAM orders (id text KEY, customer text, amount double, item text)\n"
        "  WITH (topic = 'orders', changelog = true);\n"
        "CREATE TABLE demo.by_customer (customer text PRIMARY KEY, n bigint, total double, lo double, hi double,\n"
        "  mean double, items bigint);\n"
        "INSERT INTO demo.by_customer\n"
        "  SELECT customer, count(*) AS n, sum(amount) AS total, min(amount) AS lo, max(amount) AS hi,\n"
        "         avg(amount) AS mean, count(DISTINCT item) AS items\n"
        "  FROM orders GROUP BY customer HAVING count(*) >= 2;\n");
    engine_query_t *q = p->queries[0];
    CHECK(q->grouped);
    CHECK(!q->need_refcount); /* the sink key is the group key */
    engine_mem_append(m, "orders", 0, "o1", "{\"customer\":\"ann\",\"amount\":10,\"item\":\"x\"}");
    engine_mem_append(m, "orders", 0, "o2", "{\"customer\":\"ann\",\"amount\":30,\"item\":\"x\"}");
    engine_mem_append(m, "orders", 0, "o3", "{\"customer\":\"bo\",\"amount\":5,\"item\":\"y\"}");
    drain(m, q);
    CHECK_EQ_STR(dump(m, "by_customer"), "customer=\"ann\"|hi=30|items=1|lo=10|mean=20|n=2|total=40\n");
    /* o2 changes hands: ann falls below HAVING (row deleted), bo reaches it. */
    engine_mem_append(m, "orders", 0, "o2", "{\"customer\":\"bo\",\"amount\":30,\"item\":\"z\"}");
    drain(m, q);
    CHECK_EQ_STR(dump(m, "by_customer"), "customer=\"bo\"|hi=30|items=2|lo=5|mean=17.5|n=2|total=35\n");
    engine_mem_append(m, "orders", 0, "o3", NULL);
    drain(m, q);
    CHECK_EQ_STR(dump(m, "by_customer"), "");
    engine_plan_free(p);
    engine_mem_free(m);
}

static void define_leaves(engine_mem_t *m) {
    engine_plan_t *p = plan_ok(m,
        "CREATE TABLE IF NOT EXISTS demo.leaves (id text PRIMARY KEY, title text, url text, tags list<text>);\n"
        "CREATE STREAM s WITH (topic = 'unused');\n"
        "INSERT INTO demo.leaves SELECT rowkey AS id FROM s;\n");
    engine_plan_free(p);
}

static const char *TAGS =
    "CREATE TABLE IF NOT EXISTS demo.tags (tag text PRIMARY KEY, count int);\n"
    "INSERT INTO demo.tags SELECT tag, count(*) AS count FROM demo.leaves CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY tag;\n";

TEST(engine_plan_tags_batch_parallel_and_restart) {
    engine_mem_t *m = engine_mem_new();
    define_leaves(m);
    static const char *const tagset[] = {"cassandra", "kafka", "spark", "data.modeling", "streaming"};
    char json[256];
    for (int i = 0; i < 300; i++) {
        snprintf(json, sizeof json, "{\"id\":\"l%d\",\"title\":\"t\",\"tags\":[\"%s\",\"%s\"]}", i, tagset[i % 5],
                 tagset[(i / 5) % 5]);
        REQUIRE_OK(engine_mem_insert_json(m, "demo", "leaves", json));
    }
    REQUIRE_OK(engine_mem_insert_json(m, "demo", "leaves", "{\"id\":\"none\",\"title\":\"t\"}"));
    engine_plan_t *p = plan_ok(m, TAGS);
    CHECK(p->is_batch);
    engine_mem_t *m2 = engine_mem_clone(m);
    char err[256];
    engine_batch_job_t job;
    REQUIRE_OK(engine_batch_init(&job, p->queries[0], engine_mem_sink(m), 16, 1000));
    REQUIRE_OK(engine_batch_run(&job, 2, err, sizeof err));
    CHECK_EQ_INT(atomic_load(&job.rows), 301);
    CHECK_EQ_INT(atomic_load(&job.ranges_done), 16);
    engine_batch_destroy(&job);
    const char *expect = "tag=\"cassandra\"|count=120\ntag=\"data.modeling\"|count=120\ntag=\"kafka\"|count=120\n"
                         "tag=\"spark\"|count=120\ntag=\"streaming\"|count=120\n";
    CHECK_EQ_STR(dump(m, "tags"), expect);
    /* A run that fails after 5 commits resumes with the remaining ranges and ends the same. */
    engine_mem_fail_commit_after(m2, 5);
    REQUIRE_OK(engine_batch_init(&job, p->queries[0], engine_mem_sink(m2), 16, 1000));
    CHECK(engine_batch_run(&job, 1, err, sizeof err) != EDDY_OK);
    engine_batch_destroy(&job);
    engine_mem_fail_commit_after(m2, -1);
    CHECK_EQ_STR(dump(m2, "tags"), "");
    REQUIRE_OK(engine_batch_init(&job, p->queries[0], engine_mem_sink(m2), 16, 1000));
    REQUIRE_OK(engine_batch_run(&job, 2, err, sizeof err));
    CHECK(atomic_load(&job.rows) < 301); /* the first five ranges were not scanned again */
    engine_batch_destroy(&job);
    CHECK_EQ_STR(dump(m2, "tags"), expect);
    engine_plan_free(p);
    engine_mem_free(m2);
    engine_mem_free(m);
}

TEST(engine_plan_errors_point_at_line_and_column) {
    engine_mem_t *m = engine_mem_new();
    define_leaves(m);
    CHECK(strstr(plan_err(m, "CREATE STREAM s WITH (topic = 'x');\nINSERT INTO demo.leaves SELEC id FROM s;"), "line 2:") != NULL);
    const char *e = plan_err(m,
        "CREATE STREAM s (id text KEY, title text) WITH (topic = 'x');\n"
        "INSERT INTO demo.leaves\n"
        "  SELECT id, titel AS title FROM s;\n");
    CHECK(strstr(e, "line 3:14") != NULL);
    CHECK(strstr(e, "unknown column titel") != NULL);
    e = plan_err(m, "CREATE STREAM s (id text KEY, n int) WITH (topic = 'x');\n"
                    "INSERT INTO demo.leaves SELECT id, n AS title FROM s;\n");
    CHECK(strstr(e, "line 2:36") != NULL);
    CHECK(strstr(e, "type mismatch: column title of demo.leaves is text, the expression is int") != NULL);
    e = plan_err(m, "CREATE STREAM s (id text KEY, n int) WITH (topic = 'x');\n"
                    "INSERT INTO demo.leaves SELECT id FROM s WHERE n + 'a' > 1;\n");
    CHECK(strstr(e, "type mismatch: int + text") != NULL);
    e = plan_err(m, "CREATE STREAM s (id text KEY) WITH (topic = 'x');\nINSERT INTO demo.nope SELECT id FROM s;");
    CHECK(strstr(e, "line 2:18 unknown table demo.nope") != NULL);
    e = plan_err(m, "INSERT INTO demo.leaves SELECT id FROM nostream;");
    CHECK(strstr(e, "unknown stream nostream") != NULL);
    e = plan_err(m, "CREATE STREAM s (title text) WITH (topic = 'x');\nINSERT INTO demo.leaves SELECT title FROM s;");
    CHECK(strstr(e, "primary key column id of demo.leaves is not produced") != NULL);
    e = plan_err(m, "CREATE STREAM s (id text KEY, n int) WITH (topic = 'x');\n"
                    "INSERT INTO demo.leaves SELECT id FROM s WHERE count(*) > 1;");
    CHECK(strstr(e, "aggregates are not allowed here") != NULL);
    e = plan_err(m, "CREATE STREAM s (id text KEY, n int) WITH (topic = 'x');\n"
                    "INSERT INTO demo.leaves SELECT id, lower(n) AS title FROM s;");
    CHECK(strstr(e, "lower: argument 1 is int, expected text") != NULL);
    e = plan_err(m, "CREATE STREAM s (id text KEY, n int) WITH (topic = 'x', colour = 'blue');\n"
                    "INSERT INTO demo.leaves SELECT id FROM s;");
    CHECK(strstr(e, "line 1:57 unknown stream option colour") != NULL);
    e = plan_err(m, "CREATE STREAM s (id text KEY, n int) WITH (topic = 'x');\n"
                    "INSERT INTO demo.leaves SELECT id, n AS title FROM s GROUP BY id;");
    CHECK(strstr(e, "column n must appear in GROUP BY") != NULL);
    e = plan_err(m, "CREATE STREAM s (id text KEY, n int) WITH (topic = 'x');\n"
                    "INSERT INTO demo.leaves SELECT id FROM s CROSS JOIN UNNEST(n) AS t(x);");
    CHECK(strstr(e, "UNNEST needs a list, set or map, not int") != NULL);
    engine_mem_free(m);
}

TEST(engine_plan_named_pipelines) {
    engine_mem_t *m = engine_mem_new();
    define_leaves(m);
    engine_plan_t *p = plan_ok(m, "CREATE STREAM s (id text KEY, title text) WITH (topic = 'x', changelog = true);\n"
                               "CREATE PIPELINE copy AS INSERT INTO demo.leaves SELECT id, title FROM s;\n");
    CHECK_EQ_STR(p->queries[0]->id, "t/copy");
    engine_plan_free(p);
    engine_mem_free(m);
}

TEST(engine_plan_batch_token_range) {
    engine_mem_t *m = engine_mem_new();
    define_leaves(m);
    char json[128];
    for (int i = 0; i < 200; i++) {
        snprintf(json, sizeof json, "{\"id\":\"l%d\",\"title\":\"t\",\"tags\":[\"a\"]}", i);
        REQUIRE_OK(engine_mem_insert_json(m, "demo", "leaves", json));
    }
    /* Two halves of the ring through WHERE token(id) restrictions add up to the whole. */
    const char *lo = "CREATE TABLE IF NOT EXISTS demo.tags (tag text PRIMARY KEY, count int);\n"
                     "INSERT INTO demo.tags SELECT tag, count(*) AS count FROM demo.leaves CROSS JOIN UNNEST(tags) AS t(tag)\n"
                     "  WHERE token(id) <= 0 AND title = 't' GROUP BY tag;\n";
    const char *hi = "CREATE TABLE IF NOT EXISTS demo.tags2 (tag text PRIMARY KEY, count int);\n"
                     "INSERT INTO demo.tags2 SELECT tag, count(*) AS count FROM demo.leaves CROSS JOIN UNNEST(tags) AS t(tag)\n"
                     "  WHERE token(id) > 0 GROUP BY tag;\n";
    engine_plan_t *p1 = plan_ok(m, lo), *p2 = plan_ok(m, hi);
    CHECK(p1->queries[0]->scan_hi == 0 && p1->queries[0]->scan_lo == INT64_MIN && p1->queries[0]->where != NULL);
    CHECK(p2->queries[0]->scan_lo == 0 && p2->queries[0]->where == NULL);
    char err[256];
    engine_batch_job_t j1, j2;
    REQUIRE_OK(engine_batch_init(&j1, p1->queries[0], engine_mem_sink(m), 8, 1000));
    REQUIRE_OK(engine_batch_run(&j1, 1, err, sizeof err));
    REQUIRE_OK(engine_batch_init(&j2, p2->queries[0], engine_mem_sink(m), 8, 1000));
    REQUIRE_OK(engine_batch_run(&j2, 1, err, sizeof err));
    uint64_t a = atomic_load(&j1.rows), b = atomic_load(&j2.rows);
    CHECK(a > 0 && b > 0);
    CHECK_EQ_INT(a + b, 200);
    engine_batch_destroy(&j1);
    engine_batch_destroy(&j2);
    CHECK(strstr(plan_err(m, "INSERT INTO demo.tags SELECT title AS tag FROM demo.leaves WHERE token(title) > 5;"),
                 "token() takes the partition key of demo.leaves") != NULL);
    engine_plan_free(p1);
    engine_plan_free(p2);
    engine_mem_free(m);
}

TEST(engine_plan_unnest_maps_sets_and_lateral_view) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "scores", 1);
    engine_plan_t *p = plan_ok(m,
        "CREATE STREAM s (id text KEY, scores map<text, int>, labels set<text>) WITH (topic = 'scores', changelog = true);\n"
        "CREATE TABLE demo.per_game (id text, game text, score int, PRIMARY KEY ((id), game));\n"
        "CREATE TABLE demo.per_label (label text, n bigint, best int, PRIMARY KEY (label));\n"
        "INSERT INTO demo.per_game SELECT id, game, score FROM s CROSS JOIN UNNEST(scores) AS t(game, score)\n"
        "  WHERE score > 0;\n"
        "INSERT INTO demo.per_label SELECT label, count(*) AS n, max(score) AS best\n"
        "  FROM s LATERAL VIEW explode(labels) l AS label LATERAL VIEW explode(scores) g AS game, score GROUP BY label;\n");
    engine_mem_append(m, "scores", 0, "a", "{\"scores\":{\"chess\":3,\"go\":0},\"labels\":[\"x\",\"y\",\"x\"]}");
    engine_mem_append(m, "scores", 0, "b", "{\"scores\":{\"go\":7},\"labels\":[\"y\"]}");
    drain(m, p->queries[0]);
    drain(m, p->queries[1]);
    CHECK_EQ_STR(dump(m, "per_game"), "id=\"a\"|game=\"chess\"|score=3\nid=\"b\"|game=\"go\"|score=7\n");
    /* labels is a set: x once. a: 2 games x {x, y}; b: 1 game x {y}. */
    CHECK_EQ_STR(dump(m, "per_label"), "label=\"x\"|best=3|n=2\nlabel=\"y\"|best=7|n=3\n");
    engine_mem_append(m, "scores", 0, "a", NULL);
    drain(m, p->queries[0]);
    drain(m, p->queries[1]);
    CHECK_EQ_STR(dump(m, "per_game"), "id=\"b\"|game=\"go\"|score=7\n");
    CHECK_EQ_STR(dump(m, "per_label"), "label=\"y\"|best=7|n=1\n");
    engine_plan_free(p);
    engine_mem_free(m);
}

/* Keys sent as JSON text (the REST proxy's json format: "\"L1\"", quotes included) are the
 * string they hold, for rowkey, the KEY column and the changelog's identity of the key; other
 * keys are taken as they are; a text-format stream keeps its keys' bytes. */
TEST(engine_plan_json_string_keys) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "leaves", 1);
    engine_mem_create_topic(m, "raw", 1);
    engine_plan_t *p = plan_ok(m,
                            "CREATE STREAM s (id text KEY, title text) WITH (topic = 'leaves', changelog = true);\n"
                            "CREATE STREAM r (id text KEY) WITH (topic = 'raw', format = 'text');\n"
                            "CREATE TABLE IF NOT EXISTS demo.byid (id text PRIMARY KEY, k text, title text);\n"
                            "CREATE TABLE IF NOT EXISTS demo.bytitle (title text PRIMARY KEY, id text);\n"
                            "CREATE TABLE IF NOT EXISTS demo.rawkeys (id text PRIMARY KEY, v text);\n"
                            "INSERT INTO demo.byid SELECT id, rowkey AS k, title FROM s;\n"
                            "INSERT INTO demo.bytitle SELECT title, id FROM s;\n"
                            "INSERT INTO demo.rawkeys SELECT id, rowvalue AS v FROM r;\n");
    REQUIRE(p->nqueries == 3);
    engine_mem_append(m, "leaves", 0, "\"L1\"", "{\"title\":\"one\"}");
    engine_mem_append(m, "leaves", 0, "\"L\\u0032\"", "{\"title\":\"two\"}");
    engine_mem_append(m, "leaves", 0, "L1", "{\"title\":\"uno\"}");   /* the same leaf, as plain bytes */
    engine_mem_append(m, "leaves", 0, "\"L3", "{\"title\":\"three\"}"); /* not JSON: taken as it is */
    engine_mem_append(m, "raw", 0, "\"K\"", "v");
    for (uint32_t i = 0; i < 3; i++) drain(m, p->queries[i]);
    CHECK_EQ_STR(dump(m, "byid"), "id=\"L1\"|k=\"L1\"|title=\"uno\"\n"
                                  "id=\"L2\"|k=\"L2\"|title=\"two\"\n"
                                  "id=\"\\\"L3\"|k=\"\\\"L3\"|title=\"three\"\n");
    /* L1's change of title retracted its first row. */
    CHECK_EQ_STR(dump(m, "bytitle"), "title=\"three\"|id=\"\\\"L3\"\ntitle=\"two\"|id=\"L2\"\ntitle=\"uno\"|id=\"L1\"\n");
    CHECK_EQ_STR(dump(m, "rawkeys"), "id=\"\\\"K\\\"\"|v=\"v\"\n");
    engine_plan_free(p);
    engine_mem_free(m);
}
