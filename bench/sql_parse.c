/* Parser micro-benchmark: statements parsed per second for the statements the CQL front parses
 * most (INSERT, point SELECT, UPDATE, the drivers' system.local query) and for a pipeline file,
 * side by side with SQLite's sqlite3_prepare_v2 of the equivalent SQL in the same run.
 *
 * SQLite's prepare does more than parse (it resolves names against the schema and generates
 * bytecode), so the ratio says how far eddy's parse is from the cost of the cheapest mainstream
 * SQL front end, not that one parser is better written. eddy's parser is warm (sql_parser_t kept,
 * arena reset per statement), as the CQL server uses it.
 * Each figure is the best of 5 rounds (the machine is shared: the best round is the one least
 * disturbed by others), rounds of eddy and SQLite interleaved.
 *   build/bench/sql_parse [SECONDS_PER_CASE]   (default 1) */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "sql/sql.h"

typedef struct {
    const char *name;
    const char *cql;      /* eddy's text */
    sql_dialect_t dialect;
    const char *sqlite;   /* the SQLite equivalent, or NULL */
} bench_case_t;

static const bench_case_t cases[] = {
    {"insert, bind markers",
     "INSERT INTO demo.leaves (id, title, url, tags, created_at) VALUES (?, ?, ?, ?, ?) USING TTL 86400",
     SQL_DIALECT_CQL, "INSERT INTO leaves (id, title, url, tags, created_at) VALUES (?, ?, ?, ?, ?)"},
    {"insert, literals",
     "INSERT INTO demo.leaves (id, title, url, tags, reading_time) VALUES ('0123456789abcdef0123456789abcdef', "
     "'Data modeling in Apache Cassandra', 'https://cassandra.link/post/data-modeling', "
     "['cassandra', 'data-modeling', 'nosql'], 7)",
     SQL_DIALECT_CQL,
     "INSERT INTO leaves (id, title, url, tags, reading_time) VALUES ('0123456789abcdef0123456789abcdef', "
     "'Data modeling in Apache Cassandra', 'https://cassandra.link/post/data-modeling', "
     "'[\"cassandra\", \"data-modeling\", \"nosql\"]', 7)"},
    {"select by key", "SELECT id, title, url, tags FROM demo.leaves WHERE id = ?", SQL_DIALECT_CQL,
     "SELECT id, title, url, tags FROM leaves WHERE id = ?"},
    {"update", "UPDATE demo.leaves SET title = ?, reading_time = ? WHERE id = ?", SQL_DIALECT_CQL,
     "UPDATE leaves SET title = ?, reading_time = ? WHERE id = ?"},
    {"system.local", "SELECT * FROM system.local WHERE key='local'", SQL_DIALECT_CQL, NULL},
    {"create table",
     "CREATE TABLE IF NOT EXISTS demo.leaves_by_tag (tag text, title text, url text, tags list<text>, "
     "PRIMARY KEY ((tag), title)) WITH CLUSTERING ORDER BY (title ASC)",
     SQL_DIALECT_CQL,
     "CREATE TABLE IF NOT EXISTS leaves_by_tag (tag text, title text, url text, tags text, "
     "PRIMARY KEY (tag, title))"},
    {"pipeline file (3 statements)",
     "CREATE STREAM leaf_changes (id text KEY, title text, url text, tags list<text>) WITH (topic = 'leaves', "
     "format = 'json', changelog = true); CREATE TABLE IF NOT EXISTS demo.leaves_by_tag (tag text, title text, "
     "url text, tags list<text>, PRIMARY KEY ((tag), title)); INSERT INTO demo.leaves_by_tag SELECT tag, title, "
     "url, tags FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag)",
     SQL_DIALECT_PIPELINE, NULL},
};

static const char *sqlite_schema =
    "CREATE TABLE leaves (id text PRIMARY KEY, title text, url text, tags text, created_at integer, "
    "reading_time integer);";

/* Runs fn until `seconds` have passed (checking the clock every 1024 calls); returns calls/s. */
static double eddy_rate(const bench_case_t *c, double seconds) {
    sql_parser_t *p = sql_parser_new(NULL);
    arena_t a;
    arena_init(&a, 1 << 16);
    size_t len = strlen(c->cql);
    uint64_t n = 0;
    int64_t start = time_mono_ns(), end = start + (int64_t)(seconds * 1e9), now;
    do {
        for (int i = 0; i < 1024; i++) {
            sql_script_t *s;
            sql_stmt_t *st;
            sql_error_t err;
            int rc = c->dialect == SQL_DIALECT_CQL ? sql_parse_cql(p, &a, c->cql, len, &st, &err)
                                                    : sql_parse_script(p, &a, c->dialect, c->cql, len, &s, &err);
            if (rc != EDDY_OK) {
                fprintf(stderr, "sql_parse: %s: %s\n", c->name, err.msg);
                exit(1);
            }
            arena_reset(&a);
        }
        n += 1024;
    } while ((now = time_mono_ns()) < end);
    arena_free(&a);
    sql_parser_free(p);
    return (double)n * 1e9 / (double)(now - start);
}

static double sqlite_rate(sqlite3 *db, const char *sql, double seconds) {
    uint64_t n = 0;
    int64_t start = time_mono_ns(), end = start + (int64_t)(seconds * 1e9), now;
    do {
        for (int i = 0; i < 256; i++) {
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
                fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
                exit(1);
            }
            sqlite3_finalize(st);
        }
        n += 256;
    } while ((now = time_mono_ns()) < end);
    return (double)n * 1e9 / (double)(now - start);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || sqlite3_exec(db, sqlite_schema, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: cannot set up\n");
        return 1;
    }
    printf("%-30s %14s %10s %14s %10s %8s\n", "statement", "eddy stmts/s", "ns/stmt", "sqlite prep/s", "ns/stmt",
           "ratio");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bench_case_t *c = &cases[i];
        double e = 0, s = 0;
        for (int round = 0; round < 5; round++) {
            e = EDDY_MAX(e, eddy_rate(c, seconds / 5));
            if (c->sqlite) s = EDDY_MAX(s, sqlite_rate(db, c->sqlite, seconds / 5));
        }
        if (c->sqlite) {
            printf("%-30s %14.0f %10.0f %14.0f %10.0f %7.1fx\n", c->name, e, 1e9 / e, s, 1e9 / s, e / s);
        } else {
            printf("%-30s %14.0f %10.0f %14s %10s %8s\n", c->name, e, 1e9 / e, "-", "-", "-");
        }
    }
    printf("sqlite %s\n", sqlite3_libversion());
    sqlite3_close(db);
    return 0;
}
