/* Unit tests for the CQL dialect: every statement form, the AST the CQL front reads, case and
 * quoting rules, literals of every type, bind markers and their roles. Each cql("...") also checks
 * that the printed text parses back to the same statement. */
#include <math.h>

#include "sql/sql_test_util.h"

TEST(select_forms) {
    CHECK_EQ_STR(cql("SELECT * FROM t"), "SELECT * FROM t");
    CHECK_EQ_STR(cql("select a, b AS c FROM ks.t;"), "SELECT a, b AS c FROM ks.t");
    CHECK_EQ_STR(cql("SELECT JSON * FROM t"), "SELECT JSON * FROM t");
    CHECK_EQ_STR(cql("SELECT JSON a, b FROM t"), "SELECT JSON a, b FROM t");
    CHECK_EQ_STR(cql("SELECT DISTINCT k FROM t"), "SELECT DISTINCT k FROM t");
    CHECK_EQ_STR(cql("SELECT JSON DISTINCT k FROM t"), "SELECT JSON DISTINCT k FROM t");
    /* json and distinct are also column names */
    CHECK_EQ_STR(cql("SELECT json FROM t"), "SELECT json FROM t");
    CHECK_EQ_STR(cql("SELECT json, distinct FROM t"), "SELECT json, distinct FROM t");
    CHECK_EQ_STR(cql("SELECT json AS j FROM t"), "SELECT json AS j FROM t");
    CHECK_EQ_STR(cql("SELECT count(*), count(1), COUNT(*) AS n, min(a), max(a), sum(a), avg(a) FROM t"),
                 "SELECT count(*), count(1), count(*) AS n, min(a), max(a), sum(a), avg(a) FROM t");
    CHECK_EQ_STR(cql("SELECT writetime(v), ttl(v), WRITETIME(m[1]), token(k1, k2) FROM t"),
                 "SELECT writetime(v), ttl(v), writetime(m[1]), token(k1, k2) FROM t");
    CHECK_EQ_STR(cql("SELECT CAST(a AS text), toJson(m), fromJson('{}'), now(), uuid(), currentTimestamp(), "
                     "currentDate(), currentTime(), currentTimeUUID(), toTimestamp(now()), ks.myfn(a) FROM t"),
                 "SELECT CAST(a AS text), tojson(m), fromjson('{}'), now(), uuid(), currenttimestamp(), "
                 "currentdate(), currenttime(), currenttimeuuid(), totimestamp(now()), ks.myfn(a) FROM t");
    CHECK_EQ_STR(cql("SELECT m['k'], l[0], s[1..3], s[..'c'], s['a'..], u.street, u.addr.zip FROM t"),
                 "SELECT m['k'], l[0], s[1..3], s[..'c'], s['a'..], u.street, u.addr.zip FROM t");
    CHECK_EQ_STR(cql("SELECT a + 1, a - b * 2, -a, (a + b) / 2, a % 3, 'lit', 42, ? FROM t"),
                 "SELECT a + 1, a - b * 2, -a, (a + b) / 2, a % 3, 'lit', 42, ? FROM t");
    CHECK_EQ_STR(cql("SELECT (int) ?, (text) 'x', (list<int>) [1] FROM t"),
                 "SELECT (int) ?, (text) 'x', (list<int>) [1] FROM t");
    CHECK_EQ_STR(cql("SELECT [a, b], {a, b}, {'k': a}, (a, b), {street: a} FROM t"),
                 "SELECT [a, b], {a, b}, {'k': a}, (a, b), {street: a} FROM t");
    CHECK_EQ_STR(cql("SELECT a FROM t WHERE k = 1 GROUP BY a, b ORDER BY c DESC, d ASC PER PARTITION LIMIT 2 "
                     "LIMIT 10 ALLOW FILTERING"),
                 "SELECT a FROM t WHERE k = 1 GROUP BY a, b ORDER BY c DESC, d ASC PER PARTITION LIMIT 2 LIMIT 10 "
                 "ALLOW FILTERING");
    CHECK_EQ_STR(cql("SELECT a FROM t ORDER BY c"), "SELECT a FROM t ORDER BY c ASC");
    CHECK_EQ_STR(cql("SELECT a FROM t LIMIT ? "), "SELECT a FROM t LIMIT ?");
}

TEST(where_relations) {
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE a = 1 AND b != 2 AND c < 3 AND d <= 4 AND e > 5 AND f >= 6"),
                 "SELECT * FROM t WHERE a = 1 AND b != 2 AND c < 3 AND d <= 4 AND e > 5 AND f >= 6");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE k IN (1, 2, 3) AND c IN ? AND d IN () AND e IN :vals"),
                 "SELECT * FROM t WHERE k IN (1, 2, 3) AND c IN ? AND d IN () AND e IN :vals");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE l CONTAINS 1 AND m CONTAINS KEY 'k' AND m['k'] = 'v'"),
                 "SELECT * FROM t WHERE l CONTAINS 1 AND m CONTAINS KEY 'k' AND m['k'] = 'v'");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE (a, b) > (1, 2) AND (a, b) <= ? AND (c) = (3)"),
                 "SELECT * FROM t WHERE (a, b) > (1, 2) AND (a, b) <= ? AND (c) = (3)");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4)) AND (c, d) IN (?, ?) AND (e, f) IN ?"),
                 "SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4)) AND (c, d) IN (?, ?) AND (e, f) IN ?");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE token(a, b) > token(1, 2) AND token(a, b) <= ? AND token(k) > -100"),
                 "SELECT * FROM t WHERE token(a, b) > token(1, 2) AND token(a, b) <= ? AND token(k) > -100");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE name LIKE 'ab%' AND x IS NOT NULL"),
                 "SELECT * FROM t WHERE name LIKE 'ab%' AND x IS NOT NULL");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE (k = 1) AND ((c > 2))"), "SELECT * FROM t WHERE k = 1 AND c > 2");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE k = now() AND d = toDate(?) AND v = -1.5 AND w = (int) ?"),
                 "SELECT * FROM t WHERE k = now() AND d = todate(?) AND v = -1.5 AND w = (int) ?");

    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "SELECT * FROM ks.t WHERE k = ? AND (c1, c2) > (?, 3) AND token(k) > ? AND "
                                  "m[?] = ? AND s CONTAINS ? AND k2 IN ? AND x IN (?, 1)");
    const sql_select_t *s = &st->select;
    REQUIRE(s->nwhere == 7);
    CHECK_EQ_STR(s->from[0].name.ks.name, "ks");
    CHECK_EQ_STR(s->from[0].name.name.name, "t");
    CHECK_EQ_INT(s->where[0].kind, SQL_REL_COLUMN);
    CHECK_EQ_INT(s->where[0].op, SQL_OP_EQ);
    CHECK_EQ_STR(s->where[0].columns[0].name, "k");
    CHECK_EQ_INT(s->where[1].kind, SQL_REL_TUPLE);
    CHECK_EQ_INT(s->where[1].ncolumns, 2);
    CHECK_EQ_INT(s->where[1].value->kind, SQL_EXPR_TUPLE);
    CHECK_EQ_INT(s->where[2].kind, SQL_REL_TOKEN);
    CHECK_EQ_INT(s->where[3].kind, SQL_REL_ELEMENT);
    CHECK_EQ_INT(s->where[4].op, SQL_OP_CONTAINS);
    CHECK_EQ_INT(s->where[5].op, SQL_OP_IN);
    CHECK(s->where[5].in_marker != NULL && s->where[5].value == NULL);
    CHECK_EQ_INT(s->where[6].nin, 2);
    /* Bind markers: numbered in order, with what each binds to. */
    REQUIRE(st->nbinds == 8);
    for (uint32_t i = 0; i < st->nbinds; i++) CHECK_EQ_INT(st->binds[i]->bind.index, i);
    static const sql_bind_role_t roles[] = {SQL_BIND_COLUMN, SQL_BIND_COLUMN, SQL_BIND_TOKEN,
                                            SQL_BIND_ELEMENT_KEY, SQL_BIND_ELEMENT_VALUE, SQL_BIND_CONTAINS,
                                            SQL_BIND_IN, SQL_BIND_COLUMN};
    for (uint32_t i = 0; i < 8; i++) CHECK_EQ_INT(st->binds[i]->bind.role, roles[i]);
    CHECK_EQ_STR(st->binds[1]->bind.columns[0].name, "c1"); /* (c1, c2) > (?, 3) */
    CHECK_EQ_STR(st->binds[3]->bind.columns[0].name, "m");
    CHECK_EQ_STR(st->binds[6]->bind.columns[0].name, "k2");
    CHECK_EQ_STR(st->binds[7]->bind.columns[0].name, "x");
    arena_free(&a);
}

TEST(insert_forms) {
    CHECK_EQ_STR(cql("INSERT INTO ks.t (a, b) VALUES (1, 'x')"), "INSERT INTO ks.t (a, b) VALUES (1, 'x')");
    CHECK_EQ_STR(cql("insert into t (a, b) values (?, :b) if not exists using ttl 86400 and timestamp 123"),
                 "INSERT INTO t (a, b) VALUES (?, :b) IF NOT EXISTS USING TTL 86400 AND TIMESTAMP 123");
    CHECK_EQ_STR(cql("INSERT INTO t (a) VALUES (1) USING TIMESTAMP ? AND TTL ? IF NOT EXISTS"),
                 "INSERT INTO t (a) VALUES (1) IF NOT EXISTS USING TTL ? AND TIMESTAMP ?");
    CHECK_EQ_STR(cql("INSERT INTO t JSON '{\"id\": \"x\", \"tags\": [\"a\"]}'"),
                 "INSERT INTO t JSON '{\"id\": \"x\", \"tags\": [\"a\"]}'");
    CHECK_EQ_STR(cql("INSERT INTO t JSON ? DEFAULT UNSET"), "INSERT INTO t JSON ? DEFAULT UNSET");
    CHECK_EQ_STR(cql("INSERT INTO t JSON :doc DEFAULT NULL IF NOT EXISTS USING TTL 5"),
                 "INSERT INTO t JSON :doc IF NOT EXISTS USING TTL 5");
    CHECK_EQ_STR(cql("INSERT INTO t JSON $${\"a\": 'q'}$$"), "INSERT INTO t JSON '{\"a\": ''q''}'");
    CHECK_EQ_STR(cql("INSERT INTO t (l, s, m, tu, u, f) VALUES ([1, 2], {'a', 'b'}, {'k': 1, 'j': 2}, (1, 'x'), "
                     "{street: 'main', \"Zip\": 1}, fromJson('[1]'))"),
                 "INSERT INTO t (l, s, m, tu, u, f) VALUES ([1, 2], {'a', 'b'}, {'k': 1, 'j': 2}, (1, 'x'), "
                 "{street: 'main', \"Zip\": 1}, fromjson('[1]'))");
    CHECK_EQ_STR(cql("INSERT INTO t (a, b) VALUES (1 + 2, -3 * ?)"), "INSERT INTO t (a, b) VALUES (1 + 2, -3 * ?)");

    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "INSERT INTO t (a, b, c) VALUES (?, :bee, [?]) USING TTL ? AND TIMESTAMP :ts");
    const sql_insert_t *in = &st->insert;
    REQUIRE(in->nvalues == 3 && in->ncolumns == 3);
    REQUIRE(st->nbinds == 5);
    CHECK_EQ_INT(st->binds[0]->bind.role, SQL_BIND_COLUMN);
    CHECK_EQ_STR(st->binds[0]->bind.columns[0].name, "a");
    CHECK(st->binds[0]->bind.name.name == NULL);
    CHECK_EQ_STR(st->binds[1]->bind.name.name, "bee");
    CHECK_EQ_STR(st->binds[1]->bind.columns[0].name, "b");
    CHECK_EQ_INT(st->binds[2]->bind.role, SQL_BIND_UNKNOWN); /* inside a list literal */
    CHECK_EQ_INT(st->binds[3]->bind.role, SQL_BIND_TTL);
    CHECK_EQ_INT(st->binds[4]->bind.role, SQL_BIND_TIMESTAMP);
    CHECK(in->using_.ttl == st->binds[3]);
    st = cql_stmt(&a, "INSERT INTO t JSON ?");
    CHECK_EQ_INT(st->binds[0]->bind.role, SQL_BIND_JSON);
    CHECK(st->insert.json == st->binds[0]);
    arena_free(&a);
}

TEST(update_forms) {
    CHECK_EQ_STR(cql("UPDATE t SET a = 1, b = 'x' WHERE k = 1"), "UPDATE t SET a = 1, b = 'x' WHERE k = 1");
    CHECK_EQ_STR(cql("UPDATE ks.t USING TTL 10 AND TIMESTAMP 5 SET l = l + [1, 2], l = [0] + l, s = s - {'a'}, "
                     "m = m + {'k': 'v'}, l[2] = 7, m['k'] = ?, c = c + 1, d = d - 3, u.f = 'x', e += 2, g -= {1} "
                     "WHERE k = ? AND c1 > 2 IF EXISTS"),
                 "UPDATE ks.t USING TTL 10 AND TIMESTAMP 5 SET l = l + [1, 2], l = [0] + l, s = s - {'a'}, "
                 "m = m + {'k': 'v'}, l[2] = 7, m['k'] = ?, c = c + 1, d = d - 3, u.f = 'x', e = e + 2, g = g - {1} "
                 "WHERE k = ? AND c1 > 2 IF EXISTS");
    CHECK_EQ_STR(cql("UPDATE t SET v = 2 WHERE k = 1 IF v = 1 AND m['k'] = 'v' AND l[0] IN (1, 2) AND u.f > 3 "
                     "AND w != null"),
                 "UPDATE t SET v = 2 WHERE k = 1 IF v = 1 AND m['k'] = 'v' AND l[0] IN (1, 2) AND u.f > 3 "
                 "AND w != NULL");
    CHECK_EQ_STR(cql("UPDATE t SET c = c -1 WHERE k = 1"), "UPDATE t SET c = c - 1 WHERE k = 1");
    CHECK_EQ_STR(cql("UPDATE t SET c = c + -1 WHERE k = 1"), "UPDATE t SET c = c + -1 WHERE k = 1");

    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "UPDATE t SET l = l + ?, l = ? + l, m[?] = ?, c = c - 1, x = ?, u.f = ? "
                                  "WHERE k = ? IF x = ?");
    const sql_update_t *u = &st->update;
    REQUIRE(u->nsets == 6);
    CHECK_EQ_INT(u->sets[0].kind, SQL_SET_ADD);
    CHECK_EQ_INT(u->sets[1].kind, SQL_SET_PREPEND);
    CHECK_EQ_INT(u->sets[2].kind, SQL_SET_ELEMENT);
    CHECK_EQ_INT(u->sets[3].kind, SQL_SET_SUB);
    CHECK_EQ_INT(u->sets[4].kind, SQL_SET_ASSIGN);
    CHECK_EQ_INT(u->sets[5].kind, SQL_SET_FIELD);
    CHECK_EQ_STR(u->sets[5].field.name, "f");
    REQUIRE(st->nbinds == 8);
    CHECK_EQ_INT(st->binds[2]->bind.role, SQL_BIND_ELEMENT_KEY);
    CHECK_EQ_INT(st->binds[3]->bind.role, SQL_BIND_ELEMENT_VALUE);
    CHECK_EQ_INT(st->binds[5]->bind.role, SQL_BIND_FIELD_VALUE);
    CHECK_EQ_STR(st->binds[5]->bind.field.name, "f");
    CHECK_EQ_INT(st->binds[7]->bind.role, SQL_BIND_COLUMN);
    CHECK_EQ_INT(u->nconditions, 1);
    CHECK(!u->if_exists);
    arena_free(&a);

    sql_error_t e = cql_error("UPDATE t SET a = b + 1 WHERE k = 1");
    CHECK_EQ_INT(e.kind, SQL_ERR_INVALID);
    CHECK(strstr(e.msg, "only expressions of the form X = X + <value> are supported") != NULL);
    e = cql_error("UPDATE t SET a = [1] + b WHERE k = 1");
    CHECK(strstr(e.msg, "X = <value> + X") != NULL);
    e = cql_error("UPDATE t SET a = 1");
    CHECK(strstr(e.msg, "expected WHERE, found end of input") != NULL);
}

TEST(delete_forms) {
    CHECK_EQ_STR(cql("DELETE FROM t WHERE k = 1"), "DELETE FROM t WHERE k = 1");
    CHECK_EQ_STR(cql("DELETE a, m['k'], l[?], u.f FROM ks.t USING TIMESTAMP 99 WHERE k = 1 AND c >= 2 AND c < 5 "
                     "IF a = 3"),
                 "DELETE a, m['k'], l[?], u.f FROM ks.t USING TIMESTAMP 99 WHERE k = 1 AND c >= 2 AND c < 5 IF a = 3");
    CHECK_EQ_STR(cql("DELETE FROM t WHERE k IN (1, 2) IF EXISTS"), "DELETE FROM t WHERE k IN (1, 2) IF EXISTS");
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "DELETE m[?], x FROM t WHERE k = ?");
    REQUIRE(st->delete_.ntargets == 2);
    CHECK(st->delete_.targets[0].key != NULL);
    CHECK_EQ_INT(st->binds[0]->bind.role, SQL_BIND_ELEMENT_KEY);
    CHECK(st->delete_.targets[1].key == NULL && st->delete_.targets[1].field.name == NULL);
    arena_free(&a);
    sql_error_t e = cql_error("DELETE FROM t USING TTL 5 WHERE k = 1");
    CHECK(strstr(e.msg, "expected TIMESTAMP, found 'TTL'") != NULL);
}

TEST(batch_forms) {
    CHECK_EQ_STR(cql("BEGIN BATCH INSERT INTO t (a) VALUES (1) UPDATE t SET b = 2 WHERE a = 1; DELETE FROM t "
                     "WHERE a = 3; APPLY BATCH"),
                 "BEGIN BATCH INSERT INTO t (a) VALUES (1); UPDATE t SET b = 2 WHERE a = 1; DELETE FROM t WHERE "
                 "a = 3; APPLY BATCH");
    CHECK_EQ_STR(cql("BEGIN UNLOGGED BATCH USING TIMESTAMP 10 INSERT INTO t (a) VALUES (?); APPLY BATCH;"),
                 "BEGIN UNLOGGED BATCH USING TIMESTAMP 10 INSERT INTO t (a) VALUES (?); APPLY BATCH");
    CHECK_EQ_STR(cql("begin counter batch update c set n = n + 1 where k = 1; apply batch"),
                 "BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH");
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "BEGIN BATCH INSERT INTO t (a) VALUES (?); UPDATE t SET b = ? WHERE a = ? APPLY BATCH");
    CHECK_EQ_INT(st->batch.kind, SQL_BATCH_LOGGED);
    REQUIRE(st->batch.nstmts == 2);
    CHECK_EQ_INT(st->batch.stmts[1]->kind, SQL_STMT_UPDATE);
    CHECK_EQ_INT(st->nbinds, 3); /* markers are numbered across the batch */
    CHECK_EQ_INT(st->binds[2]->bind.index, 2);
    arena_free(&a);
    sql_error_t e = cql_error("BEGIN BATCH SELECT * FROM t APPLY BATCH");
    CHECK(strstr(e.msg, "expected INSERT, UPDATE, DELETE or APPLY BATCH, found 'SELECT'") != NULL);
}

TEST(keyspace_statements) {
    CHECK_EQ_STR(cql("CREATE KEYSPACE demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"),
                 "CREATE KEYSPACE demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    CHECK_EQ_STR(cql("CREATE KEYSPACE IF NOT EXISTS \"Demo\" WITH REPLICATION = {'class' : 'NetworkTopologyStrategy', "
                     "'dc1' : 3} AND DURABLE_WRITES = false"),
                 "CREATE KEYSPACE IF NOT EXISTS \"Demo\" WITH replication = {'class': 'NetworkTopologyStrategy', "
                 "'dc1': 3} AND durable_writes = false");
    CHECK_EQ_STR(cql("CREATE SCHEMA s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'}"),
                 "CREATE KEYSPACE s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'}");
    CHECK_EQ_STR(cql("ALTER KEYSPACE demo WITH durable_writes = true"), "ALTER KEYSPACE demo WITH durable_writes = true");
    CHECK_EQ_STR(cql("DROP KEYSPACE IF EXISTS demo"), "DROP KEYSPACE IF EXISTS demo");
    CHECK_EQ_STR(cql("USE demo"), "USE demo");
    CHECK_EQ_STR(cql("USE \"Demo\""), "USE \"Demo\"");
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', "
                                  "'replication_factor': 1} AND durable_writes = true");
    REQUIRE(st->keyspace.noptions == 2);
    CHECK_EQ_STR(st->keyspace.options[0].name.name, "replication");
    const sql_expr_t *m = st->keyspace.options[0].value;
    REQUIRE(m->kind == SQL_EXPR_MAP && m->coll.nitems == 2);
    CHECK_EQ_STR(m->coll.items[0]->lit.text, "class");
    CHECK_EQ_STR(m->coll.values[0]->lit.text, "SimpleStrategy");
    CHECK(m->coll.values[1]->lit.fits_i64 && m->coll.values[1]->lit.v.i == 1);
    CHECK(st->keyspace.options[1].value->lit.v.b);
    arena_free(&a);
    sql_error_t e = cql_error("CREATE KEYSPACE k WITH durable_writes = true AND durable_writes = false");
    CHECK(strstr(e.msg, "multiple definition for property durable_writes") != NULL);
    e = cql_error("CREATE KEYSPACE k WITH replication = ?");
    CHECK(strstr(e.msg, "bind variables are not supported in DDL queries") != NULL);
    e = cql_error("CREATE KEYSPACE ? WITH replication = {}");
    CHECK(strstr(e.msg, "bind markers cannot be used for a keyspace name") != NULL);
}

TEST(create_table_forms) {
    CHECK_EQ_STR(cql("CREATE TABLE t (k int PRIMARY KEY, v text)"), "CREATE TABLE t (k int, v text, PRIMARY KEY (k))");
    CHECK_EQ_STR(cql("CREATE TABLE IF NOT EXISTS demo.leaves_by_tag (tag text, title text, url text, tags list<text>, "
                     "PRIMARY KEY ((tag), title))"),
                 "CREATE TABLE IF NOT EXISTS demo.leaves_by_tag (tag text, title text, url text, tags list<text>, "
                 "PRIMARY KEY (tag, title))");
    CHECK_EQ_STR(cql("CREATE COLUMNFAMILY t (a int, b int, c int, d int, s text static, PRIMARY KEY ((a, b), c, d)) "
                     "WITH CLUSTERING ORDER BY (c DESC, d ASC) AND comment = 'x' AND compaction = {'class': "
                     "'LeveledCompactionStrategy'} AND gc_grace_seconds = 0 AND caching = keys_only"),
                 "CREATE TABLE t (a int, b int, c int, d int, s text STATIC, PRIMARY KEY ((a, b), c, d)) WITH "
                 "CLUSTERING ORDER BY (c DESC, d ASC) AND comment = 'x' AND compaction = {'class': "
                 "'LeveledCompactionStrategy'} AND gc_grace_seconds = 0 AND caching = 'keys_only'");
    CHECK_EQ_STR(cql("CREATE TABLE t (a ascii, b bigint, c blob, d boolean, e counter, f date, g decimal, h double, "
                     "i duration, j float, k inet, l int, m smallint, n text, o time, p timestamp, q timeuuid, "
                     "r tinyint, s uuid, u varchar, v varint, PRIMARY KEY (a))"),
                 "CREATE TABLE t (a ascii, b bigint, c blob, d boolean, e counter, f date, g decimal, h double, "
                 "i duration, j float, k inet, l int, m smallint, n text, o time, p timestamp, q timeuuid, "
                 "r tinyint, s uuid, u text, v varint, PRIMARY KEY (a))");
    CHECK_EQ_STR(cql("CREATE TABLE t (k int PRIMARY KEY, a list<text>, b set<int>, c map<text, int>, "
                     "d frozen<list<int>>, e map<text, frozen<set<int>>>, f tuple<int, text>, g frozen<addr>, "
                     "h ks.addr, i frozen<map<text, list<int>>>, j 'org.example.Custom',)"),
                 "CREATE TABLE t (k int, a list<text>, b set<int>, c map<text, int>, d frozen<list<int>>, "
                 "e map<text, frozen<set<int>>>, f tuple<int, text>, g frozen<addr>, h ks.addr, "
                 "i frozen<map<text, frozen<list<int>>>>, j 'org.example.Custom', PRIMARY KEY (k))");
    /* Unreserved keywords are fine as column names. */
    CHECK_EQ_STR(cql("CREATE TABLE t (key text PRIMARY KEY, type int, ttl int, count int, timestamp timestamp, "
                     "json text, values int, \"select\" int, \"MixedCase\" int)"),
                 "CREATE TABLE t (key text, type int, ttl int, count int, timestamp timestamp, json text, "
                 "values int, \"select\" int, \"MixedCase\" int, PRIMARY KEY (key))");

    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "CREATE TABLE ks.t (a int, b text, c timeuuid, d frozen<map<text, int>> static, "
                                  "PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC)");
    const sql_create_table_t *ct = &st->create_table;
    CHECK_EQ_STR(ct->name.ks.name, "ks");
    REQUIRE(ct->ncolumns == 4 && ct->npartition_key == 2 && ct->nclustering == 1);
    CHECK_EQ_STR(ct->partition_key[1].name, "b");
    CHECK_EQ_STR(ct->clustering[0].name, "c");
    CHECK(ct->columns[3].is_static);
    CHECK_EQ_INT(ct->columns[3].type->kind, SQL_TYPE_MAP);
    CHECK(ct->columns[3].type->frozen && ct->columns[3].type->params[1]->frozen);
    CHECK_EQ_INT(ct->columns[3].type->params[1]->kind, SQL_TYPE_INT);
    REQUIRE(ct->norder == 1);
    CHECK(ct->order[0].desc);
    st = cql_stmt(&a, "CREATE TABLE t (k int PRIMARY KEY, v int)");
    CHECK_EQ_INT(st->create_table.npartition_key, 1);
    CHECK_EQ_STR(st->create_table.partition_key[0].name, "k");
    CHECK(st->create_table.columns[0].primary_key);
    arena_free(&a);

    sql_error_t e = cql_error("CREATE TABLE t (a int, b int, PRIMARY KEY (a)) WITH COMPACT STORAGE");
    CHECK_EQ_INT(e.kind, SQL_ERR_SYNTAX);
    CHECK(strstr(e.msg, "COMPACT STORAGE tables are not allowed starting with version 4.0") != NULL);
    e = cql_error("CREATE TABLE t (a int, b int)");
    CHECK_EQ_INT(e.kind, SQL_ERR_INVALID);
    CHECK(strstr(e.msg, "no PRIMARY KEY specified for table t") != NULL);
    e = cql_error("CREATE TABLE t (a int PRIMARY KEY, b int, PRIMARY KEY (b))");
    CHECK(strstr(e.msg, "multiple PRIMARY KEYs specified") != NULL);
    e = cql_error("CREATE TABLE t (a int, PRIMARY KEY (a, z))");
    CHECK(strstr(e.msg, "unknown definition z referenced in PRIMARY KEY") != NULL);
    e = cql_error("CREATE TABLE t (a int PRIMARY KEY, a text)");
    CHECK(strstr(e.msg, "multiple definition of identifier a") != NULL);
    e = cql_error("CREATE TABLE t (a int, b int, c int, PRIMARY KEY (a, b, c)) WITH CLUSTERING ORDER BY (c DESC, b ASC)");
    CHECK(strstr(e.msg, "must match that of the clustering columns") != NULL);
    e = cql_error("CREATE TABLE t (a int, b int, PRIMARY KEY (a, b)) WITH CLUSTERING ORDER BY (a DESC)");
    CHECK(strstr(e.msg, "only clustering key columns") != NULL);
    e = cql_error("CREATE TABLE t (a map<int>, PRIMARY KEY (a))");
    CHECK(strstr(e.msg, "map takes 2 type parameters, found 1") != NULL);
    e = cql_error("CREATE TABLE t (a frozen<byte>, PRIMARY KEY (a))");
    CHECK(strstr(e.msg, "invalid (reserved) user type name byte") != NULL);
    e = cql_error("CREATE TABLE t (\"\" int PRIMARY KEY)");
    CHECK(strstr(e.msg, "a column name cannot be empty") != NULL);
    e = cql_error("CREATE TABLE t (from int PRIMARY KEY)");
    CHECK(strstr(e.msg, "expected a column name, found reserved word 'from'") != NULL);
}

TEST(alter_drop_truncate_type) {
    CHECK_EQ_STR(cql("ALTER TABLE t ADD x int"), "ALTER TABLE t ADD x int");
    CHECK_EQ_STR(cql("ALTER TABLE ks.t ADD IF NOT EXISTS (x int, y list<text> static)"),
                 "ALTER TABLE ks.t ADD IF NOT EXISTS (x int, y list<text> STATIC)");
    CHECK_EQ_STR(cql("ALTER TABLE t DROP x"), "ALTER TABLE t DROP x");
    CHECK_EQ_STR(cql("ALTER TABLE t DROP IF EXISTS (x, y) USING TIMESTAMP 1000"),
                 "ALTER TABLE t DROP IF EXISTS (x, y) USING TIMESTAMP 1000");
    CHECK_EQ_STR(cql("ALTER TABLE t RENAME a TO b AND c TO d"), "ALTER TABLE t RENAME a TO b AND c TO d");
    CHECK_EQ_STR(cql("ALTER TABLE t ALTER a TYPE blob"), "ALTER TABLE t ALTER a TYPE blob");
    CHECK_EQ_STR(cql("ALTER TABLE t WITH comment = 'hi' AND default_time_to_live = 3600"),
                 "ALTER TABLE t WITH comment = 'hi' AND default_time_to_live = 3600");
    CHECK_EQ_STR(cql("ALTER TABLE t DROP COMPACT STORAGE"), "ALTER TABLE t DROP COMPACT STORAGE");
    CHECK_EQ_STR(cql("ALTER COLUMNFAMILY IF EXISTS t ADD compact int"), "ALTER TABLE IF EXISTS t ADD compact int");
    CHECK_EQ_STR(cql("DROP TABLE t"), "DROP TABLE t");
    CHECK_EQ_STR(cql("DROP COLUMNFAMILY IF EXISTS ks.t"), "DROP TABLE IF EXISTS ks.t");
    CHECK_EQ_STR(cql("TRUNCATE t"), "TRUNCATE TABLE t");
    CHECK_EQ_STR(cql("TRUNCATE TABLE ks.t"), "TRUNCATE TABLE ks.t");
    CHECK_EQ_STR(cql("CREATE TYPE addr (street text, zip int, tags frozen<set<text>>)"),
                 "CREATE TYPE addr (street text, zip int, tags frozen<set<text>>)");
    CHECK_EQ_STR(cql("CREATE TYPE IF NOT EXISTS ks.\"Addr\" (\"Street\" text)"),
                 "CREATE TYPE IF NOT EXISTS ks.\"Addr\" (\"Street\" text)");
    CHECK_EQ_STR(cql("ALTER TYPE addr ADD country text"), "ALTER TYPE addr ADD country text");
    CHECK_EQ_STR(cql("ALTER TYPE ks.addr RENAME zip TO postcode AND street TO road"),
                 "ALTER TYPE ks.addr RENAME zip TO postcode AND street TO road");
    CHECK_EQ_STR(cql("ALTER TYPE addr ALTER zip TYPE text"), "ALTER TYPE addr ALTER zip TYPE text");
    CHECK_EQ_STR(cql("DROP TYPE IF EXISTS ks.addr"), "DROP TYPE IF EXISTS ks.addr");
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "ALTER TABLE t RENAME a TO b AND c TO d");
    CHECK_EQ_INT(st->alter.kind, SQL_ALTER_RENAME);
    REQUIRE(st->alter.nnames == 2);
    CHECK_EQ_STR(st->alter.names[1].name, "c");
    CHECK_EQ_STR(st->alter.to[1].name, "d");
    arena_free(&a);
    sql_error_t e = cql_error("CREATE TYPE t (a int, a text)");
    CHECK(strstr(e.msg, "duplicate field name a") != NULL);
}

TEST(describe_and_listing) {
    CHECK_EQ_STR(cql("DESCRIBE KEYSPACES"), "DESCRIBE KEYSPACES");
    CHECK_EQ_STR(cql("DESC KEYSPACE demo"), "DESCRIBE KEYSPACE demo");
    CHECK_EQ_STR(cql("DESCRIBE KEYSPACE"), "DESCRIBE KEYSPACE");
    CHECK_EQ_STR(cql("DESCRIBE ONLY KEYSPACE \"Demo\""), "DESCRIBE ONLY KEYSPACE \"Demo\"");
    CHECK_EQ_STR(cql("describe full schema"), "DESCRIBE FULL SCHEMA");
    CHECK_EQ_STR(cql("DESCRIBE SCHEMA WITH INTERNALS"), "DESCRIBE SCHEMA WITH INTERNALS");
    CHECK_EQ_STR(cql("DESCRIBE CLUSTER"), "DESCRIBE CLUSTER");
    CHECK_EQ_STR(cql("DESCRIBE TABLES"), "DESCRIBE TABLES");
    CHECK_EQ_STR(cql("DESCRIBE TABLE demo.leaves"), "DESCRIBE TABLE demo.leaves");
    CHECK_EQ_STR(cql("DESC COLUMNFAMILY leaves"), "DESCRIBE TABLE leaves");
    CHECK_EQ_STR(cql("DESCRIBE TYPES"), "DESCRIBE TYPES");
    CHECK_EQ_STR(cql("DESCRIBE TYPE ks.addr"), "DESCRIBE TYPE ks.addr");
    CHECK_EQ_STR(cql("DESCRIBE FUNCTIONS"), "DESCRIBE FUNCTIONS");
    CHECK_EQ_STR(cql("DESCRIBE FUNCTION ks.f"), "DESCRIBE FUNCTION ks.f");
    CHECK_EQ_STR(cql("DESCRIBE AGGREGATES"), "DESCRIBE AGGREGATES");
    CHECK_EQ_STR(cql("DESCRIBE AGGREGATE ks.a"), "DESCRIBE AGGREGATE ks.a");
    CHECK_EQ_STR(cql("DESCRIBE INDEX ks.i"), "DESCRIBE INDEX ks.i");
    CHECK_EQ_STR(cql("DESCRIBE MATERIALIZED VIEW ks.v"), "DESCRIBE MATERIALIZED VIEW ks.v");
    CHECK_EQ_STR(cql("DESCRIBE demo.leaves"), "DESCRIBE demo.leaves");
    CHECK_EQ_STR(cql("DESCRIBE leaves"), "DESCRIBE leaves");
    CHECK_EQ_STR(cql("DESCRIBE type"), "DESCRIBE type"); /* a thing named "type" */
    CHECK_EQ_STR(cql("LIST ROLES"), "LIST ROLES");
    CHECK_EQ_STR(cql("LIST USERS"), "LIST USERS");
    CHECK_EQ_STR(cql("LIST ROLES OF alice NORECURSIVE"), "LIST ROLES");
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "DESCRIBE KEYSPACE demo");
    CHECK_EQ_INT(st->describe.kind, SQL_DESCRIBE_KEYSPACE);
    CHECK_EQ_STR(st->describe.name.name.name, "demo");
    st = cql_stmt(&a, "DESCRIBE demo.leaves");
    CHECK_EQ_INT(st->describe.kind, SQL_DESCRIBE_GENERIC);
    CHECK_EQ_STR(st->describe.name.ks.name, "demo");
    st = cql_stmt(&a, "LIST USERS");
    CHECK(st->kind == SQL_STMT_LIST_ROLES && st->list_users);
    arena_free(&a);
}

TEST(unsupported_statements_are_refused_clearly) {
    static const char *stmts[] = {
        "CREATE INDEX ON t (a)", "CREATE CUSTOM INDEX i ON t (a) USING 'x'", "DROP INDEX i",
        "CREATE MATERIALIZED VIEW v AS SELECT * FROM t WHERE k IS NOT NULL PRIMARY KEY (k)",
        "DROP MATERIALIZED VIEW v", "ALTER MATERIALIZED VIEW v WITH comment = 'x'",
        "CREATE FUNCTION f (a int) RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS 'return a;'",
        "CREATE OR REPLACE FUNCTION f (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return a;'",
        "DROP FUNCTION f", "CREATE AGGREGATE a (int) SFUNC f STYPE int", "DROP AGGREGATE a",
        "CREATE TRIGGER tr ON t USING 'x'", "DROP TRIGGER tr ON t", "CREATE ROLE r", "ALTER ROLE r WITH LOGIN = true",
        "DROP ROLE r", "CREATE USER u WITH PASSWORD 'p'", "DROP USER u", "GRANT SELECT ON t TO r",
        "REVOKE SELECT ON t FROM r", "LIST ALL PERMISSIONS", "CREATE TABLE t2 LIKE t",
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(stmts); i++) {
        sql_error_t e = cql_error(stmts[i]);
        if (e.kind != SQL_ERR_UNSUPPORTED || !strstr(e.msg, "not supported by eddy"))
            test_fail(__FILE__, __LINE__, "%s: kind %d: %s", stmts[i], e.kind, e.msg);
    }
}

TEST(case_and_quoting_rules) {
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "SeLeCt MyCol, \"MyCol\", \"a\"\"b\", \"\" FROM MyKs.\"MyTable\"");
    const sql_select_t *s = &st->select;
    REQUIRE(s->nitems == 4);
    CHECK_EQ_STR(s->items[0].expr->column.name.name, "mycol");
    CHECK(!s->items[0].expr->column.name.quoted);
    CHECK_EQ_STR(s->items[1].expr->column.name.name, "MyCol");
    CHECK(s->items[1].expr->column.name.quoted);
    CHECK_EQ_STR(s->items[2].expr->column.name.name, "a\"b");
    CHECK_EQ_INT(s->items[3].expr->column.name.len, 0);
    CHECK_EQ_STR(s->from[0].name.ks.name, "myks");
    CHECK_EQ_STR(s->from[0].name.name.name, "MyTable");
    arena_free(&a);
    /* Printing quotes what needs it: upper case, reserved words, odd characters. */
    CHECK_EQ_STR(cql("SELECT \"lower\", \"Upper\", \"from\", \"a b\", \"1st\", \"a\"\"b\", \"key\" FROM \"t\""),
                 "SELECT lower, \"Upper\", \"from\", \"a b\", \"1st\", \"a\"\"b\", key FROM t");
    wr_t w;
    wr_init(&w, 0);
    sql_print_ident(&w, "select", 6);
    wr_u8(&w, ' ');
    sql_print_ident(&w, "ok_name1", 8);
    wr_u8(&w, ' ');
    sql_print_ident(&w, "it's", 4);
    wr_u8(&w, ' ');
    sql_print_string(&w, "it's", 4);
    wr_u8(&w, 0);
    CHECK_EQ_STR((char *)w.buf, "\"select\" ok_name1 \"it's\" 'it''s'");
    wr_free(&w);
    /* Reserved words need quotes in CQL; unreserved keywords do not. */
    sql_error_t e = cql_error("SELECT select FROM t");
    CHECK(strstr(e.msg, "reserved word 'select'") != NULL);
    CHECK_EQ_STR(cql("SELECT key, ttl, writetime, count, type, cast, filtering, values, group, having FROM t"),
                 "SELECT key, ttl, writetime, count, type, cast, filtering, values, group, having FROM t");
}

TEST(literals_of_every_type) {
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "INSERT INTO t (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q) VALUES ("
                                  "'str', 42, -7, 9223372036854775807, -9223372036854775808, 99999999999999999999, "
                                  "1.5, -2.5e3, NaN, -Infinity, true, FALSE, null, 0xCAFE00, "
                                  "550E8400-e29b-41d4-a716-446655440000, 1h30m, -P2W)");
    const sql_insert_t *in = &st->insert;
    REQUIRE(in->nvalues == 17);
    const sql_literal_t *l[17];
    for (int i = 0; i < 17; i++) {
        REQUIRE(in->values[i]->kind == SQL_EXPR_LITERAL);
        l[i] = &in->values[i]->lit;
    }
    CHECK(l[0]->kind == SQL_LIT_STRING && l[0]->len == 3 && strcmp(l[0]->text, "str") == 0);
    CHECK(l[1]->kind == SQL_LIT_INTEGER && l[1]->fits_i64 && l[1]->v.i == 42);
    CHECK(l[2]->fits_i64 && l[2]->v.i == -7 && strcmp(l[2]->text, "-7") == 0);
    CHECK(l[3]->fits_i64 && l[3]->v.i == INT64_MAX);
    CHECK(l[4]->fits_i64 && l[4]->v.i == INT64_MIN);
    CHECK(!l[5]->fits_i64 && strcmp(l[5]->text, "99999999999999999999") == 0); /* a varint */
    CHECK(l[6]->kind == SQL_LIT_FLOAT && l[6]->v.f == 1.5);
    CHECK(l[7]->v.f == -2500.0 && strcmp(l[7]->text, "-2.5e3") == 0);
    CHECK(l[8]->kind == SQL_LIT_FLOAT && isnan(l[8]->v.f));
    CHECK(isinf(l[9]->v.f) && l[9]->v.f < 0 && strcmp(l[9]->text, "-Infinity") == 0);
    CHECK(l[10]->kind == SQL_LIT_BOOLEAN && l[10]->v.b);
    CHECK(l[11]->kind == SQL_LIT_BOOLEAN && !l[11]->v.b);
    CHECK(l[12]->kind == SQL_LIT_NULL);
    CHECK(l[13]->kind == SQL_LIT_BLOB && l[13]->len == 3 && memcmp(l[13]->text, "\xca\xfe\x00", 3) == 0);
    CHECK(l[14]->kind == SQL_LIT_UUID && l[14]->v.uuid[0] == 0x55 && strcmp(l[14]->text, "550e8400-e29b-41d4-a716-446655440000") == 0);
    CHECK(l[15]->kind == SQL_LIT_DURATION && l[15]->v.duration.nanos == 5400000000000LL);
    CHECK(l[16]->kind == SQL_LIT_DURATION && l[16]->v.duration.days == -14);
    arena_free(&a);
    CHECK_EQ_STR(cql("INSERT INTO t (a, b, c, d, e) VALUES (0x, -NaN, Infinity, 'it''s', $$x$$)"),
                 "INSERT INTO t (a, b, c, d, e) VALUES (0x, -NaN, Infinity, 'it''s', 'x')");
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE d = P0001-02-03T04:05:06 AND e = PT1H AND f = 3mo2w"),
                 "SELECT * FROM t WHERE d = P0001-02-03T04:05:06 AND e = PT1H AND f = 3mo2w");
    sql_error_t e = cql_error("INSERT INTO t (a) VALUES (0xabc)");
    CHECK_EQ_INT(e.kind, SQL_ERR_INVALID);
    CHECK(strstr(e.msg, "even number of hex digits") != NULL);
}

TEST(bind_marker_positions) {
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "SELECT * FROM t WHERE a = :A AND b = :\"Bee\" AND c = ? LIMIT ?");
    REQUIRE(st->nbinds == 4);
    CHECK_EQ_STR(st->binds[0]->bind.name.name, "a");
    CHECK_EQ_STR(st->binds[1]->bind.name.name, "Bee");
    CHECK(st->binds[2]->bind.name.name == NULL);
    CHECK_EQ_INT(st->binds[3]->bind.role, SQL_BIND_LIMIT);
    CHECK_EQ_INT(st->binds[2]->pos.col, 53);
    st = cql_stmt(&a, "SELECT * FROM t WHERE k = ? PER PARTITION LIMIT ?");
    CHECK_EQ_INT(st->binds[1]->bind.role, SQL_BIND_PER_PARTITION_LIMIT);
    st = cql_stmt(&a, "SELECT * FROM t WHERE (a, b) IN ((?, ?), ?) AND (c, d) = ?");
    REQUIRE(st->nbinds == 4);
    CHECK_EQ_INT(st->binds[0]->bind.role, SQL_BIND_COLUMN);
    CHECK_EQ_STR(st->binds[1]->bind.columns[0].name, "b");
    CHECK_EQ_INT(st->binds[2]->bind.role, SQL_BIND_TUPLE);
    CHECK_EQ_INT(st->binds[2]->bind.ncolumns, 2);
    CHECK_EQ_INT(st->binds[3]->bind.role, SQL_BIND_TUPLE);
    st = cql_stmt(&a, "SELECT * FROM t WHERE (a, b) IN ? AND m CONTAINS KEY ?");
    CHECK_EQ_INT(st->binds[0]->bind.role, SQL_BIND_TUPLE_IN);
    CHECK_EQ_INT(st->binds[1]->bind.role, SQL_BIND_CONTAINS_KEY);
    /* UPDATE's markers name their column through the statement, not a parse-time copy. */
    st = cql_stmt(&a, "UPDATE t SET a = ?, m[?] = ?, l = l + ? WHERE k = ?");
    REQUIRE(st->nbinds == 5);
    CHECK(st->binds[0]->bind.columns == &st->update.sets[0].column);
    CHECK_EQ_STR(st->binds[0]->bind.columns[0].name, "a");
    CHECK_EQ_INT(st->binds[1]->bind.role, SQL_BIND_ELEMENT_KEY);
    CHECK(st->binds[2]->bind.columns == &st->update.sets[1].column);
    CHECK_EQ_STR(st->binds[3]->bind.columns[0].name, "l");
    CHECK_EQ_STR(st->binds[4]->bind.columns[0].name, "k");
    arena_free(&a);
}

TEST(statement_spans_and_scripts) {
    arena_t a;
    arena_init(&a, 0);
    const char *text = "  USE demo ;\n;SELECT * FROM t -- c\n;  INSERT INTO t (a) VALUES (?);";
    sql_script_t *s;
    sql_error_t err;
    REQUIRE_OK(sql_parse_script(NULL, &a, SQL_DIALECT_CQL, text, strlen(text), &s, &err));
    REQUIRE(s->nstmts == 3);
    CHECK_EQ_INT(s->stmts[0]->text_off, 2);
    CHECK_EQ_INT(s->stmts[0]->text_len, 8);
    CHECK_EQ_MEM(text + s->stmts[1]->text_off, s->stmts[1]->text_len, "SELECT * FROM t", 15);
    CHECK_EQ_INT(s->stmts[2]->pos.line, 3);
    CHECK_EQ_INT(s->stmts[2]->nbinds, 1);
    sql_stmt_t *st;
    CHECK_EQ_INT(sql_parse_cql(NULL, &a, "SELECT * FROM t;;", 17, &st, &err), EDDY_OK);
    CHECK_EQ_INT(sql_parse_cql(NULL, &a, "SELECT * FROM t; SELECT * FROM u", 32, &st, &err), EDDY_ERR_INVALID);
    CHECK(strstr(err.msg, "expected end of statement, found 'SELECT'") != NULL);
    CHECK_EQ_INT(sql_parse_cql(NULL, &a, "", 0, &st, &err), EDDY_ERR_INVALID);
    CHECK(strstr(err.msg, "expected a statement") != NULL);
    arena_free(&a);
}

TEST(limits_against_hostile_input) {
    /* Nesting: parentheses, collections and types all count. */
    char deep[4000];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "SELECT * FROM t WHERE k = ");
    for (int i = 0; i < 300; i++) deep[n++] = '[';
    deep[n] = 0;
    sql_error_t e = cql_error(deep);
    CHECK_EQ_INT(e.kind, SQL_ERR_LIMIT);
    CHECK(strstr(e.msg, "nested too deeply") != NULL);
    n = (size_t)snprintf(deep, sizeof deep, "CREATE TABLE t (k ");
    for (int i = 0; i < 200; i++) n += (size_t)snprintf(deep + n, sizeof deep - n, "list<");
    e = cql_error(deep);
    CHECK_EQ_INT(e.kind, SQL_ERR_LIMIT);
    n = (size_t)snprintf(deep, sizeof deep, "SELECT * FROM t WHERE k = ");
    for (int i = 0; i < 300; i++) deep[n++] = '-', deep[n++] = ' '; /* "--" would be a comment */
    deep[n++] = '1';
    deep[n] = 0;
    e = cql_error(deep);
    CHECK_EQ_INT(e.kind, SQL_ERR_LIMIT);

    sql_limits_t lim = {100, 20, 8, 2};
    sql_parser_t *p = sql_parser_new(&lim);
    REQUIRE(p);
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st;
    const char *q = "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?";
    CHECK_EQ_INT(sql_parse_cql(p, &a, q, strlen(q), &st, &e), EDDY_ERR_INVALID);
    CHECK_EQ_INT(e.kind, SQL_ERR_LIMIT);
    CHECK(strstr(e.msg, "too many bind markers") != NULL);
    q = "SELECT a, b, c, d, e, f, g, h, i, j, k FROM t";
    CHECK_EQ_INT(sql_parse_cql(p, &a, q, strlen(q), &st, &e), EDDY_ERR_INVALID);
    CHECK(strstr(e.msg, "too many tokens") != NULL);
    char longq[200];
    memset(longq, ' ', sizeof longq);
    memcpy(longq, "SELECT * FROM t", 15);
    CHECK_EQ_INT(sql_parse_cql(p, &a, longq, sizeof longq, &st, &e), EDDY_ERR_INVALID);
    CHECK_EQ_INT(e.kind, SQL_ERR_LIMIT);
    CHECK(strstr(e.msg, "statement too long: 200 bytes (the limit is 100)") != NULL);
    /* Within the limits, the same parser still works. */
    q = "SELECT a FROM t WHERE k = ((1))";
    CHECK_EQ_INT(sql_parse_cql(p, &a, q, strlen(q), &st, &e), EDDY_OK);
    arena_free(&a);
    sql_parser_free(p);
}

TEST(error_messages_and_positions) {
    sql_error_t e = cql_error("SELECT * FORM t");
    CHECK_EQ_STR(e.msg, "line 1:10 expected FROM, found 'FORM' (SELECT * [FORM]...)");
    CHECK_EQ_INT(e.line, 1);
    CHECK_EQ_INT(e.col, 10);
    CHECK_EQ_INT(e.off, 9);
    CHECK_EQ_INT(e.kind, SQL_ERR_SYNTAX);
    e = cql_error("SELECT a\n  FROM t\n  WHERE k = 1 AND");
    CHECK_EQ_STR(e.msg, "line 3:18 expected a column name, token( or (, found end of input (  WHERE k = 1 AND[end of input])");
    e = cql_error("INSERT INTO t (a, b) VALUES (1)");
    CHECK_EQ_INT(e.kind, SQL_ERR_INVALID);
    CHECK(strstr(e.msg, "unmatched column names/values: 2 names, 1 values") != NULL);
    e = cql_error("SELECT a FROM t WHERE a = b");
    CHECK(strstr(e.msg, "expected a value (a literal, a bind marker or a function call), found 'b'") != NULL);
    e = cql_error("SELECT a FROM t WHERE a = 1 OR b = 2");
    CHECK_EQ_STR(e.msg, "line 1:29 CQL joins relations with AND only: OR is not supported (SELECT a FROM t WHERE "
                        "a = 1 [OR]...)");
    e = cql_error("SELCT a FROM t");
    CHECK(strstr(e.msg, "line 1:1 expected a statement (SELECT, INSERT") != NULL);
    e = cql_error("SELECT a FROM t WHERE k == 1");
    CHECK(strstr(e.msg, "line 1:26 expected a value") != NULL);
    e = cql_error("SELECT a FROM t LIMIT 'x'");
    CHECK(strstr(e.msg, "expected an integer or a bind marker, found ''x''") != NULL);
    /* Long lines: the context shows the 40 characters before the token. */
    e = cql_error("SELECT aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee FORM t");
    CHECK_EQ_STR(e.msg, "line 1:67 expected FROM, found 'FORM' (bbb, cccccccccc, dddddddddd, eeeeeeeeee [FORM]...)");
    char buf[200];
    sql_pos_t pos = {7, 1, 8};
    sql_format_error(buf, sizeof buf, "SELECT nope FROM t", 18, pos, "unknown column %s", "nope");
    CHECK_EQ_STR(buf, "line 1:8 unknown column nope (SELECT [nope]...)");
    CHECK_EQ_INT(sql_pos_column("é é x", 7, (sql_pos_t){6, 1, 7}), 5);
}

TEST(statement_end_for_shells) {
#define END(t) sql_statement_end((t), strlen(t))
    CHECK_EQ_INT(END("SELECT * FROM t;"), 16);
    CHECK_EQ_INT(END("SELECT * FROM t"), 0);
    CHECK_EQ_INT(END("SELECT * FROM t; SELECT 1"), 16);
    CHECK_EQ_INT(END("SELECT ';' FROM t"), 0);
    CHECK_EQ_INT(END("SELECT 'it''s;' FROM t;"), 23);
    CHECK_EQ_INT(END("SELECT \"a;\"\"b\" FROM t;x"), 22);
    CHECK_EQ_INT(END("SELECT $$;$$ FROM t"), 0);
    CHECK_EQ_INT(END("SELECT $$;"), 0);
    CHECK_EQ_INT(END("SELECT 'open;"), 0);
    CHECK_EQ_INT(END("SELECT a -- no; not yet\nFROM t;"), 31);
    CHECK_EQ_INT(END("SELECT a // ;\n;"), 15);
    CHECK_EQ_INT(END("SELECT /* ; */ a;"), 17);
    CHECK_EQ_INT(END("SELECT /* ; a;"), 0);
    const char *b = "BEGIN BATCH INSERT INTO t (a) VALUES (1); UPDATE t SET b = 2 WHERE a = 1; APPLY BATCH;";
    CHECK_EQ_INT(END(b), strlen(b));
    CHECK_EQ_INT(END("begin unlogged batch insert into t (a) values (1); apply"), 0);
    CHECK_EQ_INT(END("BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH ; SELECT"), 69);
    CHECK_EQ_INT(END("SELECT batch FROM t;"), 20); /* a column named batch */
    CHECK_EQ_INT(END("SELECT # FROM t;"), 16);       /* the server reports the '#' */
#undef END
}

/* What Cassandra 4's DESCRIBE prints, which users paste back into cqlsh. */
TEST(cassandra_describe_output_parses) {
    const char *ddl =
        "CREATE KEYSPACE demo WITH replication = {'class': 'org.apache.cassandra.locator.SimpleStrategy', "
        "'replication_factor': '1'}  AND durable_writes = true;\n\n"
        "CREATE TYPE demo.address (\n    street text,\n    city text\n);\n\n"
        "CREATE TABLE demo.leaves_by_tag (\n"
        "    tag text,\n    title text,\n    tags list<text>,\n    url text,\n    a frozen<address>,\n"
        "    PRIMARY KEY (tag, title)\n"
        ") WITH CLUSTERING ORDER BY (title ASC)\n"
        "    AND additional_write_policy = '99p'\n"
        "    AND bloom_filter_fp_chance = 0.01\n"
        "    AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}\n"
        "    AND cdc = false\n"
        "    AND comment = ''\n"
        "    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', "
        "'max_threshold': '32', 'min_threshold': '4'}\n"
        "    AND compression = {'chunk_length_in_kb': '16', 'class': "
        "'org.apache.cassandra.io.compress.LZ4Compressor'}\n"
        "    AND crc_check_chance = 1.0\n"
        "    AND default_time_to_live = 0\n"
        "    AND extensions = {}\n"
        "    AND gc_grace_seconds = 864000\n"
        "    AND max_index_interval = 2048\n"
        "    AND memtable_flush_period_in_ms = 0\n"
        "    AND min_index_interval = 128\n"
        "    AND read_repair = 'BLOCKING'\n"
        "    AND speculative_retry = '99p';\n";
    arena_t a;
    arena_init(&a, 0);
    sql_script_t *s;
    sql_error_t err;
    int rc = sql_parse_script(NULL, &a, SQL_DIALECT_CQL, ddl, strlen(ddl), &s, &err);
    if (rc) test_fail(__FILE__, __LINE__, "%s", err.msg);
    REQUIRE(rc == EDDY_OK && s->nstmts == 3);
    const sql_create_table_t *ct = &s->stmts[2]->create_table;
    CHECK_EQ_INT(ct->noptions, 16);
    CHECK_EQ_INT(ct->norder, 1);
    CHECK_EQ_STR(ct->options[11].name.name, "max_index_interval");
    CHECK_EQ_INT(ct->options[9].value->kind, SQL_EXPR_SET); /* extensions = {} */
    CHECK_EQ_INT(ct->columns[4].type->kind, SQL_TYPE_UDT);
    CHECK(ct->columns[4].type->frozen);
    arena_free(&a);
    (void)cql(ddl);
}

TEST(more_cql_terms) {
    CHECK_EQ_STR(cql("SELECT * FROM t WHERE token(k) >= token('a') AND token(k) < token('b') LIMIT 10"),
                 "SELECT * FROM t WHERE token(k) >= token('a') AND token(k) < token('b') LIMIT 10");
    CHECK_EQ_STR(cql("UPDATE t SET v = null, u = {street: 'x', city: {name: 'y', \"Zip\": 0x01}} WHERE k = 1"),
                 "UPDATE t SET v = NULL, u = {street: 'x', city: {name: 'y', \"Zip\": 0x01}} WHERE k = 1");
    CHECK_EQ_STR(cql("INSERT INTO t (k, m) VALUES (1, {now(): [1, -2], uuid(): []})"),
                 "INSERT INTO t (k, m) VALUES (1, {now(): [1, -2], uuid(): []})");
    CHECK_EQ_STR(cql("SELECT \"MixedCase\" AS \"Alias\", ks.f(a, b) AS x FROM \"Ks\".\"T\""),
                 "SELECT \"MixedCase\" AS \"Alias\", ks.f(a, b) AS x FROM \"Ks\".\"T\"");
    CHECK_EQ_STR(cql("UPDATE t SET m = m + {'k': ?}, l = l - ?, s = s + ? WHERE k = 0x00"),
                 "UPDATE t SET m = m + {'k': ?}, l = l - ?, s = s + ? WHERE k = 0x00");
}
