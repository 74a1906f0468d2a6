/* Unit tests for the pipeline dialect: streams, the workshop's two jobs, the expression grammar in
 * full (boolean logic, CASE, BETWEEN, IN, LIKE, JSON access, casts, intervals), FROM with UNNEST,
 * LATERAL VIEW and joins, alias resolution, and pipeline-specific errors. */
#include "sql/sql_test_util.h"

static const char *leaves_by_tag =
    "-- the workshop's streaming job\n"
    "CREATE STREAM leaf_changes (id text KEY, title text, url text, tags list<text>)\n"
    "  WITH (topic = 'leaves', format = 'json', changelog = true);\n"
    "CREATE KEYSPACE IF NOT EXISTS demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n"
    "CREATE TABLE IF NOT EXISTS demo.leaves_by_tag\n"
    "  (tag text, title text, url text, tags list<text>, PRIMARY KEY ((tag), title));\n"
    "INSERT INTO demo.leaves_by_tag\n"
    "  SELECT tag, title, url, tags FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag);\n";

TEST(leaves_by_tag_job) {
    CHECK_EQ_STR(pipeline(leaves_by_tag),
                 "CREATE STREAM leaf_changes (id text KEY, title text, url text, tags list<text>) WITH (topic = "
                 "'leaves', format = 'json', changelog = true); CREATE KEYSPACE IF NOT EXISTS demo WITH replication "
                 "= {'class': 'SimpleStrategy', 'replication_factor': 1}; CREATE TABLE IF NOT EXISTS "
                 "demo.leaves_by_tag (tag text, title text, url text, tags list<text>, PRIMARY KEY (tag, title)); "
                 "INSERT INTO demo.leaves_by_tag SELECT tag, title, url, tags FROM leaf_changes CROSS JOIN "
                 "UNNEST(tags) AS t(tag)");
    arena_t a;
    arena_init(&a, 0);
    sql_script_t *s = pipeline_script(&a, leaves_by_tag);
    REQUIRE(s->nstmts == 4);
    const sql_create_stream_t *cs = &s->stmts[0]->create_stream;
    CHECK_EQ_INT(s->stmts[0]->kind, SQL_STMT_CREATE_STREAM);
    CHECK_EQ_STR(cs->name.name.name, "leaf_changes");
    REQUIRE(cs->ncolumns == 4);
    CHECK(cs->columns[0].is_key && !cs->columns[1].is_key);
    CHECK_EQ_INT(cs->columns[3].type->kind, SQL_TYPE_LIST);
    REQUIRE(cs->noptions == 3);
    CHECK_EQ_STR(cs->options[0].name.name, "topic");
    CHECK_EQ_STR(cs->options[0].value->lit.text, "leaves");
    CHECK(cs->options[2].value->lit.kind == SQL_LIT_BOOLEAN && cs->options[2].value->lit.v.b);
    CHECK_EQ_INT(s->stmts[1]->kind, SQL_STMT_CREATE_KEYSPACE);
    CHECK_EQ_INT(s->stmts[2]->create_table.npartition_key, 1);
    const sql_insert_t *in = &s->stmts[3]->insert;
    CHECK_EQ_STR(in->table.ks.name, "demo");
    REQUIRE(in->select != NULL);
    const sql_select_t *sel = in->select;
    REQUIRE(sel->nfrom == 2 && sel->nitems == 4);
    CHECK_EQ_INT(sel->from[0].kind, SQL_FROM_NAMED);
    CHECK_EQ_STR(sel->from[0].name.name.name, "leaf_changes");
    CHECK_EQ_INT(sel->from[1].kind, SQL_FROM_UNNEST);
    CHECK_EQ_INT(sel->from[1].join, SQL_JOIN_CROSS);
    CHECK_EQ_STR(sel->from[1].alias.name, "t");
    REQUIRE(sel->from[1].ncolumns == 1 && sel->from[1].nargs == 1);
    CHECK_EQ_STR(sel->from[1].columns[0].name, "tag");
    CHECK_EQ_STR(sel->from[1].args[0]->column.name.name, "tags");
    /* Statement positions point into the file for error messages. */
    CHECK_EQ_INT(s->stmts[3]->pos.line, 7);
    CHECK_EQ_INT(s->stmts[0]->pos.line, 2);
    arena_free(&a);
}

TEST(tags_batch_job) {
    CHECK_EQ_STR(pipeline("CREATE TABLE IF NOT EXISTS demo.tags (tag text PRIMARY KEY, count int);\n"
                          "INSERT INTO demo.tags SELECT tag, count(*) AS count FROM demo.leaves\n"
                          "  CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY tag"),
                 "CREATE TABLE IF NOT EXISTS demo.tags (tag text, count int, PRIMARY KEY (tag)); INSERT INTO "
                 "demo.tags SELECT tag, count(*) AS count FROM demo.leaves CROSS JOIN UNNEST(tags) AS t(tag) "
                 "GROUP BY tag");
    /* Spark's form of the same job. */
    CHECK_EQ_STR(pipeline("INSERT INTO demo.tags SELECT tag, count(*) AS count FROM demo.leaves "
                          "LATERAL VIEW explode(tags) t AS tag GROUP BY tag"),
                 "INSERT INTO demo.tags SELECT tag, count(*) AS count FROM demo.leaves LATERAL VIEW explode(tags) t "
                 "AS tag GROUP BY tag");
    CHECK_EQ_STR(pipeline("INSERT OVERWRITE TABLE demo.tags (tag, count) SELECT tag, count(*) FROM demo.leaves "
                          "LATERAL VIEW OUTER explode(tags) AS tag WHERE token(id) > -100 AND token(id) <= 100 "
                          "GROUP BY tag HAVING count(*) > 1 ORDER BY tag LIMIT 5"),
                 "INSERT OVERWRITE demo.tags (tag, count) SELECT tag, count(*) FROM demo.leaves LATERAL VIEW OUTER "
                 "explode(tags) AS tag WHERE token(id) > -100 AND token(id) <= 100 GROUP BY tag HAVING count(*) > "
                 "1 ORDER BY tag ASC LIMIT 5");
    arena_t a;
    arena_init(&a, 0);
    sql_script_t *s = pipeline_script(&a, "INSERT INTO demo.tags SELECT tag, count(*) FROM demo.leaves "
                                          "LATERAL VIEW explode(tags) t AS tag GROUP BY tag");
    const sql_select_t *sel = s->stmts[0]->insert.select;
    REQUIRE(sel->nfrom == 2);
    CHECK_EQ_STR(sel->from[0].name.ks.name, "demo");
    CHECK_EQ_INT(sel->from[1].kind, SQL_FROM_LATERAL_VIEW);
    CHECK_EQ_STR(sel->from[1].name.name.name, "explode");
    CHECK_EQ_STR(sel->from[1].alias.name, "t");
    CHECK_EQ_STR(sel->from[1].columns[0].name, "tag");
    CHECK(sel->items[1].expr->call.star);
    REQUIRE(sel->ngroup_by == 1);
    arena_free(&a);
}

TEST(named_pipelines) {
    CHECK_EQ_STR(pipeline("CREATE PIPELINE leaves_by_tag AS INSERT INTO demo.leaves_by_tag SELECT tag, title "
                          "FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag)"),
                 "CREATE PIPELINE leaves_by_tag AS INSERT INTO demo.leaves_by_tag SELECT tag, title FROM "
                 "leaf_changes CROSS JOIN UNNEST(tags) AS t(tag)");
    CHECK_EQ_STR(pipeline("CREATE PIPELINE IF NOT EXISTS tags WITH (parallelism = 2) AS INSERT OVERWRITE demo.tags "
                          "SELECT tag, count(*) FROM demo.leaves CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY tag"),
                 "CREATE PIPELINE IF NOT EXISTS tags WITH (parallelism = 2) AS INSERT OVERWRITE demo.tags SELECT tag, "
                 "count(*) FROM demo.leaves CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY tag");
    arena_t a;
    arena_init(&a, 0);
    const char *text = "CREATE PIPELINE p AS INSERT INTO ks.t SELECT a FROM s";
    sql_script_t *s = pipeline_script(&a, text);
    const sql_create_pipeline_t *cp = &s->stmts[0]->create_pipeline;
    CHECK_EQ_STR(cp->name.name.name, "p");
    REQUIRE(cp->insert && cp->insert->kind == SQL_STMT_INSERT && cp->insert->insert.select);
    CHECK_EQ_MEM(text + cp->insert->text_off, cp->insert->text_len, "INSERT INTO ks.t SELECT a FROM s", 32);
    arena_free(&a);
    sql_error_t err;
    arena_init(&a, 0);
    text = "CREATE PIPELINE p AS SELECT a FROM s";
    CHECK_EQ_INT(sql_parse_pipeline(NULL, &a, text, strlen(text), &s, &err), EDDY_ERR_INVALID);
    CHECK(strstr(err.msg, "expected INSERT INTO ... SELECT, found 'SELECT'") != NULL);
    arena_free(&a);
}

TEST(stream_declarations) {
    CHECK_EQ_STR(pipeline("CREATE STREAM raw WITH (topic = 'leaves', format = 'json')"),
                 "CREATE STREAM raw WITH (topic = 'leaves', format = 'json')");
    CHECK_EQ_STR(pipeline("CREATE STREAM IF NOT EXISTS s (id text KEY, ts timestamp, v int, "
                          "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('value.format' = 'avro', "
                          "key.format = 'kafka', partitions = 3, changelog = false)"),
                 "CREATE STREAM IF NOT EXISTS s (id text KEY, ts timestamp, v int, WATERMARK FOR ts AS ts - 5s) "
                 "WITH ('value.format' = 'avro', 'key.format' = 'kafka', partitions = 3, changelog = false)");
    arena_t a;
    arena_init(&a, 0);
    sql_script_t *s = pipeline_script(&a, "CREATE STREAM s (ts timestamp, WATERMARK FOR ts AS ts - INTERVAL '10' "
                                          "MINUTES) WITH (topic = 't')");
    const sql_create_stream_t *cs = &s->stmts[0]->create_stream;
    REQUIRE(cs->watermark != NULL);
    CHECK_EQ_STR(cs->watermark->column.name, "ts");
    const sql_expr_t *w = cs->watermark->expr;
    REQUIRE(w->kind == SQL_EXPR_BINARY && w->op == SQL_OP_SUB);
    CHECK_EQ_INT(w->bin.right->lit.kind, SQL_LIT_DURATION);
    CHECK(w->bin.right->lit.v.duration.nanos == 600000000000LL);
    arena_free(&a);
    sql_error_t err;
    arena_init(&a, 0);
    sql_script_t *out;
    const char *bad = "CREATE STREAM s (a int, WATERMARK FOR b AS b) WITH (topic = 't')";
    CHECK_EQ_INT(sql_parse_pipeline(NULL, &a, bad, strlen(bad), &out, &err), EDDY_ERR_INVALID);
    CHECK(strstr(err.msg, "unknown column b in WATERMARK") != NULL);
    arena_free(&a);
}

TEST(expressions_in_full) {
    CHECK_EQ_STR(pipeline("SELECT a + b * c - d / e % f, (a + b) * c, -a, NOT a, a || b || c FROM s"),
                 "SELECT a + b * c - d / e % f, (a + b) * c, -a, NOT a, a || b || c FROM s");
    CHECK_EQ_STR(pipeline("SELECT * FROM s WHERE a = 1 AND b <> 2 OR c >= 3 AND NOT d < 4"),
                 "SELECT * FROM s WHERE a = 1 AND b != 2 OR c >= 3 AND NOT d < 4");
    CHECK_EQ_STR(pipeline("SELECT * FROM s WHERE (a OR b) AND c"), "SELECT * FROM s WHERE (a OR b) AND c");
    CHECK_EQ_STR(pipeline("SELECT * FROM s WHERE a IS NULL AND b IS NOT NULL AND c BETWEEN 1 AND 10 AND d NOT "
                          "BETWEEN 'a' AND 'b' AND e IN (1, 2) AND f NOT IN ('x') AND g LIKE 'a%' AND h NOT LIKE '_'"),
                 "SELECT * FROM s WHERE a IS NULL AND b IS NOT NULL AND c BETWEEN 1 AND 10 AND d NOT BETWEEN 'a' "
                 "AND 'b' AND e IN (1, 2) AND f NOT IN ('x') AND g LIKE 'a%' AND h NOT LIKE '_'");
    CHECK_EQ_STR(pipeline("SELECT * FROM s WHERE tags CONTAINS 'a' AND tags NOT CONTAINS 'b' AND m CONTAINS KEY 'k' "
                          "AND m NOT CONTAINS KEY 'j'"),
                 "SELECT * FROM s WHERE tags CONTAINS 'a' AND tags NOT CONTAINS 'b' AND m CONTAINS KEY 'k' AND m NOT "
                 "CONTAINS KEY 'j'");
    CHECK_EQ_STR(pipeline("SELECT CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'none' END AS size, "
                          "CASE a WHEN 1 THEN 'one' END FROM s"),
                 "SELECT CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'none' END AS size, "
                 "CASE a WHEN 1 THEN 'one' END FROM s");
    CHECK_EQ_STR(pipeline("SELECT CAST(a AS bigint), CAST(value->>'n' AS int), DATE '2024-01-02', "
                          "TIMESTAMP '2024-01-02T03:04:05Z', TIME '10:00:00' FROM s"),
                 "SELECT CAST(a AS bigint), CAST(value->>'n' AS int), CAST('2024-01-02' AS date), "
                 "CAST('2024-01-02T03:04:05Z' AS timestamp), CAST('10:00:00' AS time) FROM s");
    CHECK_EQ_STR(pipeline("SELECT lower(title), upper(url), length(title), substr(url, 1, 5), "
                          "concat(a, '-', b), coalesce(a, b), date_trunc('hour', ts), to_timestamp(x), "
                          "left(a, 2), right(a, 2), replace(a, 'x', 'y') FROM s"),
                 "SELECT lower(title), upper(url), length(title), substr(url, 1, 5), concat(a, '-', b), "
                 "coalesce(a, b), date_trunc('hour', ts), to_timestamp(x), left(a, 2), right(a, 2), "
                 "replace(a, 'x', 'y') FROM s");
    CHECK_EQ_STR(pipeline("SELECT INTERVAL '10' MINUTE, INTERVAL 2 HOURS, INTERVAL '3 days', INTERVAL '1h30m', "
                          "INTERVAL '500' MILLISECONDS FROM s"),
                 "SELECT 10m, 2h, 3d, 1h30m, 500ms FROM s");
    CHECK_EQ_STR(pipeline("SELECT count(DISTINCT tag), sum(n), min(n), max(n), avg(n), count(*) FROM s"),
                 "SELECT count(DISTINCT tag), sum(n), min(n), max(n), avg(n), count(*) FROM s");
    CHECK_EQ_STR(pipeline("SELECT [1, 2], {'a': 1}, {1, 2}, (1, 'x'), {name: 'n'} FROM s"),
                 "SELECT [1, 2], {'a': 1}, {1, 2}, (1, 'x'), {name: 'n'} FROM s");
    CHECK_EQ_STR(pipeline("SELECT -(-a), - -1, a - -1, 2 * -3 FROM s"),
                 "SELECT -(-a), - -1, a - -1, 2 * -3 FROM s");
    /* Implicit aliases, as SQL allows. */
    CHECK_EQ_STR(pipeline("SELECT a x, b AS y FROM s"), "SELECT a AS x, b AS y FROM s");
}

TEST(json_and_record_access) {
    CHECK_EQ_STR(pipeline("SELECT value->'a'->0, value->>'title', value['a'][0], value.author.name, key, "
                          "timestamp, headers['h'], partition, offset FROM raw"),
                 "SELECT value->'a'->0, value->>'title', value['a'][0], value.author.name, key, timestamp, "
                 "headers['h'], partition, offset FROM raw");
    CHECK_EQ_STR(pipeline("SELECT * FROM raw WHERE value->>'kind' = 'leaf' AND value->'n' > 3"),
                 "SELECT * FROM raw WHERE value->>'kind' = 'leaf' AND value->'n' > 3");
    arena_t a;
    arena_init(&a, 0);
    sql_script_t *s = pipeline_script(&a, "SELECT value->'tags'->0 FROM raw");
    const sql_expr_t *e = s->stmts[0]->select.items[0].expr;
    REQUIRE(e->kind == SQL_EXPR_BINARY && e->op == SQL_OP_JSON_GET);
    CHECK_EQ_INT(e->bin.right->lit.kind, SQL_LIT_INTEGER);
    REQUIRE(e->bin.left->kind == SQL_EXPR_BINARY);
    CHECK_EQ_STR(e->bin.left->bin.right->lit.text, "tags");
    CHECK_EQ_STR(e->bin.left->bin.left->column.name.name, "value");
    arena_free(&a);
}

TEST(from_joins_and_aliases) {
    CHECK_EQ_STR(pipeline("SELECT l.title, t.tag, t.n FROM leaves AS l, UNNEST(l.tags) WITH ORDINALITY AS t(tag, n)"),
                 "SELECT l.title, t.tag, t.n FROM leaves AS l CROSS JOIN UNNEST(l.tags) WITH ORDINALITY AS t(tag, n)");
    CHECK_EQ_STR(pipeline("SELECT o.id, c.name FROM orders o JOIN customers c ON o.cid = c.id "
                          "LEFT OUTER JOIN demo.regions r ON c.rid = r.id INNER JOIN x ON true RIGHT JOIN y ON 1 = 1 "
                          "FULL JOIN z ON false"),
                 "SELECT o.id, c.name FROM orders AS o JOIN customers AS c ON o.cid = c.id LEFT JOIN demo.regions "
                 "AS r ON c.rid = r.id JOIN x ON true RIGHT JOIN y ON 1 = 1 FULL JOIN z ON false");
    CHECK_EQ_STR(pipeline("SELECT l.* FROM leaves l"), "SELECT l.* FROM leaves AS l");
    arena_t a;
    arena_init(&a, 0);
    sql_script_t *s = pipeline_script(&a, "SELECT l.title, leaves.url, t.tag, x.y, l.author.name FROM leaves l "
                                          "CROSS JOIN UNNEST(l.tags) AS t(tag) WHERE l.id = 'a' GROUP BY t.tag");
    const sql_select_t *sel = &s->stmts[0]->select;
    /* alias.col resolves to a qualified column; x.y (x not a FROM item) stays a field access. */
    CHECK_EQ_INT(sel->items[0].expr->kind, SQL_EXPR_COLUMN);
    CHECK_EQ_STR(sel->items[0].expr->column.qualifier.name, "l");
    CHECK_EQ_STR(sel->items[0].expr->column.name.name, "title");
    CHECK_EQ_INT(sel->items[1].expr->kind, SQL_EXPR_FIELD); /* leaves is known as l here */
    CHECK_EQ_STR(sel->items[2].expr->column.qualifier.name, "t");
    CHECK_EQ_INT(sel->items[3].expr->kind, SQL_EXPR_FIELD);
    const sql_expr_t *f = sel->items[4].expr; /* l.author.name: field name of column l.author */
    REQUIRE(f->kind == SQL_EXPR_FIELD);
    CHECK_EQ_STR(f->field.arg->column.qualifier.name, "l");
    CHECK_EQ_STR(f->field.arg->column.name.name, "author");
    CHECK_EQ_STR(sel->from[1].args[0]->column.qualifier.name, "l");
    CHECK_EQ_STR(sel->filter->bin.left->column.qualifier.name, "l");
    CHECK_EQ_STR(sel->group_by[0]->column.qualifier.name, "t");
    s = pipeline_script(&a, "SELECT leaves.url FROM leaves");
    CHECK_EQ_STR(s->stmts[0]->select.items[0].expr->column.qualifier.name, "leaves");
    arena_free(&a);
}

TEST(window_functions_parse_as_calls) {
    CHECK_EQ_STR(pipeline("SELECT tag, TUMBLE_START(ts, INTERVAL '1' MINUTE), count(*) FROM s "
                          "CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), tag"),
                 "SELECT tag, tumble_start(ts, 1m), count(*) FROM s CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY "
                 "tumble(ts, 1m), tag");
    CHECK_EQ_STR(pipeline("SELECT hop(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE), session(ts, INTERVAL '30' "
                          "SECOND) FROM s"),
                 "SELECT hop(ts, 1m, 5m), session(ts, 30s) FROM s");
}

TEST(pipeline_errors) {
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"SELECT * FROM s WHERE a = ?", "line 1:27 bind markers are only allowed in CQL"},
        {"INSERT INTO t (a) VALUES (1)", "a pipeline inserts the rows of a SELECT, not VALUES"},
        {"UPDATE t SET a = 1 WHERE k = 1", "line 1:1 expected a statement (CREATE STREAM"},
        {"CREATE STREAM s (a int) WITH (topic = 't',)", "expected an option name, found ')'"},
        {"SELECT a FROM s CROSS JOIN", "expected a stream or table name, found end of input"},
        {"SELECT a FROM s JOIN t", "expected ON, found end of input"},
        {"SELECT CASE WHEN a THEN b FROM s", "expected END, found 'FROM'"},
        {"SELECT a FROM (SELECT b FROM s)", "subqueries in FROM are not supported"},
        {"SELECT a FROM s WHERE b IN (SELECT c FROM t)", "subqueries are not supported"},
        {"CREATE STREAM s\n  (id text KEY, title txt)\n  WITH (topic = 'x');\nINSERT INTO t SELECT FROM s",
         "line 4:22 expected an expression, found reserved word 'FROM'"},
        {"SELECT INTERVAL '5' FORTNIGHT FROM s", "invalid interval unit 'FORTNIGHT'"},
        {"CREATE INDEX i ON t (a)", "expected STREAM, PIPELINE, KEYSPACE, TABLE or TYPE, found 'INDEX'"},
        {"SELECT a FROM s; garbage", "line 1:18 expected a statement"},
        {"SELECT a b c FROM s", "line 1:12 expected FROM, found 'c'"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(cases); i++) {
        arena_t a;
        arena_init(&a, 0);
        sql_script_t *s;
        sql_error_t err;
        int rc = sql_parse_pipeline(NULL, &a, cases[i].text, strlen(cases[i].text), &s, &err);
        if (rc == EDDY_OK || !strstr(err.msg, cases[i].msg))
            test_fail(__FILE__, __LINE__, "%s\n#     got: %s\n#     want: %s", cases[i].text, rc ? err.msg : "ok",
                      cases[i].msg);
        arena_free(&a);
    }
    /* A type the lexer cannot know about is a user type to the parser; the planner rejects it. */
    CHECK_EQ_STR(pipeline("CREATE STREAM s (a txt) WITH (topic = 'x')"), "CREATE STREAM s (a txt) WITH (topic = 'x')");
}
