/* The exact statements the DataStax Python driver 3.25 (Debian python3-cassandra), the Node.js
 * cassandra-driver 4.10 and cqlsh 4.x send when they connect, build schema metadata, agree on
 * schema and switch keyspaces (the Python strings are copied from the
 * installed package's cluster.py, metadata.py and connection.py). Every one must parse. */
#include "sql/sql_test_util.h"

static const char *driver_statements[] = {
    /* Python: control connection, peers, agreement */
    "SELECT * FROM system.local WHERE key='local'",
    "SELECT * FROM system.peers",
    "SELECT * FROM system.peers_v2",
    "SELECT host_id, cluster_name, data_center, rack, partitioner, release_version, schema_version FROM "
    "system.local WHERE key='local'",
    "SELECT host_id, peer, data_center, rack, rpc_address, native_transport_address, release_version, "
    "schema_version FROM system.peers",
    "SELECT host_id, peer, peer_port, data_center, rack, native_address, native_port, release_version, "
    "schema_version FROM system.peers_v2",
    "SELECT host_id, peer, peer_port, native_address, native_port, schema_version FROM system.peers_v2",
    "SELECT peer, host_id, rpc_address, schema_version FROM system.peers",
    "SELECT rpc_address FROM system.local WHERE key='local'",
    "SELECT schema_version FROM system.local WHERE key='local'",
    /* Python: schema metadata (V3/V4 parsers) */
    "SELECT * FROM system_schema.keyspaces",
    "SELECT * FROM system_schema.tables",
    "SELECT * FROM system_schema.columns",
    "SELECT * FROM system_schema.types",
    "SELECT * FROM system_schema.functions",
    "SELECT * FROM system_schema.aggregates",
    "SELECT * FROM system_schema.triggers",
    "SELECT * FROM system_schema.indexes",
    "SELECT * FROM system_schema.views",
    "SELECT * from system_virtual_schema.keyspaces",
    "SELECT * from system_virtual_schema.tables",
    "SELECT * from system_virtual_schema.columns",
    "SELECT * FROM system_schema.keyspaces WHERE keyspace_name = 'demo'",
    "SELECT * FROM system_schema.tables WHERE keyspace_name = 'demo' AND table_name = 'users'",
    "SELECT * FROM system_schema.columns WHERE keyspace_name = 'demo' AND table_name = 'users'",
    "SELECT * FROM system_schema.indexes WHERE keyspace_name = 'demo' AND table_name = 'users'",
    "SELECT * FROM system_schema.triggers WHERE keyspace_name = 'demo' AND table_name = 'users'",
    "SELECT * FROM system_schema.views WHERE keyspace_name = 'demo' AND view_name = 'users'",
    "SELECT * FROM system_schema.types WHERE keyspace_name = 'demo' AND type_name = 'address'",
    "SELECT * FROM system_schema.functions WHERE keyspace_name = 'demo' AND function_name = 'f' AND "
    "argument_types = ['int']",
    "SELECT * FROM system_schema.aggregates WHERE keyspace_name = 'demo' AND aggregate_name = 'a' AND "
    "argument_types = ['int', 'text']",
    /* Python: set_keyspace on pool connections, and Session.set_keyspace */
    "USE \"demo\"",
    "USE demo",
    /* Node.js */
    "SELECT * FROM system_schema.keyspaces where keyspace_name = 'demo'",
    "SELECT * FROM system_schema.tables WHERE keyspace_name='demo' AND table_name='users'",
    "SELECT * FROM system_schema.columns WHERE keyspace_name='demo' AND table_name='users'",
    "SELECT * FROM system_schema.indexes WHERE keyspace_name='demo' AND table_name='users'",
    "SELECT * FROM system_schema.views WHERE keyspace_name='demo' AND view_name='users'",
    "SELECT schema_version FROM system.local",
    "SELECT schema_version FROM system.peers",
    "SELECT * FROM system_virtual_schema.keyspaces",
    /* cqlsh 4.x */
    "select * from system.local where key = 'local'",
    "DESCRIBE KEYSPACES",
    "DESCRIBE KEYSPACE demo",
    "DESCRIBE ONLY KEYSPACE demo",
    "DESCRIBE TABLES",
    "DESCRIBE TABLE demo.users",
    "DESCRIBE TYPES",
    "DESCRIBE FUNCTIONS",
    "DESCRIBE AGGREGATES",
    "DESCRIBE CLUSTER",
    "DESCRIBE SCHEMA",
    "DESCRIBE FULL SCHEMA",
    "DESC demo.users",
    "DESCRIBE demo",
    /* Spark Cassandra Connector's sizing and splits */
    "SELECT range_start, range_end, partitions_count, mean_partition_size FROM system.size_estimates WHERE "
    "keyspace_name = ? AND table_name = ?",
    "SELECT \"id\", \"tags\" FROM \"demo\".\"leaves\" WHERE token(\"id\") > ? AND token(\"id\") <= ?",
    /* The workshop's statements */
    "CREATE KEYSPACE IF NOT EXISTS demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "CREATE TABLE IF NOT EXISTS demo.leaves (id text PRIMARY KEY, all list<text>, is_archived int, is_starred int, "
    "user_name text, user_email text, user_id int, tags list<text>, slugs list<text>, is_public boolean, "
    "title text, url text, content_text text, created_at timestamp, updated_at timestamp, mimetype text, "
    "language text, reading_time int, domain_name text, preview_picture text, http_status text, "
    "links list<text>, content text)",
    "CREATE TABLE IF NOT EXISTS demo.leaves_by_tag (tag text, title text, tags list<text>, url text, "
    "PRIMARY KEY ((tag), title))",
    "CREATE TABLE IF NOT EXISTS demo.tags (tag text PRIMARY KEY, count int)",
    "INSERT INTO demo.leaves JSON '{\"id\": \"a1\", \"tags\": [\"cassandra\"], \"is_public\": \"False\"}'",
    "SELECT * FROM demo.leaves WHERE id = ?",
    "SELECT tag, count FROM demo.tags",
};

TEST(every_driver_statement_parses) {
    sql_parser_t *p = sql_parser_new(NULL);
    REQUIRE(p);
    arena_t a;
    arena_init(&a, 0);
    for (size_t i = 0; i < EDDY_ARRAY_LEN(driver_statements); i++) {
        const char *text = driver_statements[i];
        sql_stmt_t *st;
        sql_error_t err;
        if (sql_parse_cql(p, &a, text, strlen(text), &st, &err) != EDDY_OK)
            test_fail(__FILE__, __LINE__, "%s\n#     %s", text, err.msg);
        arena_reset(&a);
        (void)cql(text); /* and round-trips */
    }
    arena_free(&a);
    sql_parser_free(p);
}

TEST(system_local_query_shape) {
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st = cql_stmt(&a, "select * from system.local where key = 'local'");
    REQUIRE(st->kind == SQL_STMT_SELECT);
    const sql_select_t *s = &st->select;
    CHECK(s->star && s->nitems == 0);
    CHECK_EQ_STR(s->from[0].name.ks.name, "system");
    CHECK_EQ_STR(s->from[0].name.name.name, "local");
    REQUIRE(s->nwhere == 1);
    CHECK_EQ_STR(s->where[0].columns[0].name, "key");
    CHECK_EQ_INT(s->where[0].op, SQL_OP_EQ);
    CHECK_EQ_STR(s->where[0].value->lit.text, "local");
    st = cql_stmt(&a, "USE \"demo\"");
    CHECK_EQ_INT(st->kind, SQL_STMT_USE);
    CHECK_EQ_STR(st->named.name.name.name, "demo");
    st = cql_stmt(&a, "SELECT host_id, peer, peer_port FROM system.peers_v2");
    REQUIRE(st->select.nitems == 3);
    CHECK_EQ_STR(st->select.items[2].expr->column.name.name, "peer_port");
    arena_free(&a);
}

TEST(parser_reuse_allocates_nothing_when_warm) {
    sql_parser_t *p = sql_parser_new(NULL);
    REQUIRE(p);
    arena_t a;
    arena_init(&a, 1 << 16);
    const char *q = "INSERT INTO demo.leaves (id, title, tags) VALUES (?, ?, ?) USING TTL 10";
    sql_stmt_t *st;
    sql_error_t err;
    REQUIRE_OK(sql_parse_cql(p, &a, q, strlen(q), &st, &err));
    arena_reset(&a);
    /* With the parser's buffers and the arena's first chunk warm, a parse makes no allocation: a
     * failing allocator does not disturb it. */
    eddy_alloc_fail_after(0);
    int rc = sql_parse_cql(p, &a, q, strlen(q), &st, &err);
    eddy_alloc_fail_after(-1);
    CHECK_EQ_INT(rc, EDDY_OK);
    CHECK_EQ_INT(st->nbinds, 3);
    arena_free(&a);
    sql_parser_free(p);
}

TEST(allocation_failures_are_reported) {
    const char *q = "SELECT a, b, c FROM ks.t WHERE k IN (1, 2, 3) AND c > ? LIMIT 10";
    int failures = 0;
    for (long n = 0; n < 40; n++) {
        arena_t a;
        arena_init(&a, 64);
        sql_stmt_t *st;
        sql_error_t err;
        eddy_alloc_fail_after(n);
        int rc = sql_parse_cql(NULL, &a, q, strlen(q), &st, &err);
        eddy_alloc_fail_after(-1);
        if (rc == EDDY_ERR_NOMEM) failures++;
        else CHECK_EQ_INT(rc, EDDY_OK);
        arena_free(&a);
    }
    CHECK(failures > 5);
}
