/* Helpers for the sql unit tests (included by the sql unit tests only).
 *
 * rt(dialect, text) parses text, prints every statement (joined by "; "), and checks the round
 * trip: the printed text parses again and prints identically. It returns the printed text, or
 * "ERROR <kind>: <message>" when parsing fails, in one of a few rotating static buffers, so that
 * a test reads as CHECK_EQ_STR(cql("select ..."), "SELECT ..."). */
#ifndef EDDY_SQL_TEST_UTIL_H
#define EDDY_SQL_TEST_UTIL_H

#include <stdio.h>

#include "sql/sql.h"
#include "test.h"

static inline char *test_sql_buf(void) {
    static char bufs[8][16384];
    static int next;
    char *b = bufs[next];
    next = (next + 1) % 8;
    b[0] = 0;
    return b;
}

/* Prints a script into out; false if the writer failed. */
static inline bool test_sql_print(const sql_script_t *s, char *out, size_t cap) {
    wr_t w;
    wr_init(&w, 0);
    for (uint32_t i = 0; i < s->nstmts; i++) {
        if (i) wr_str(&w, "; ");
        sql_print_stmt(&w, s->stmts[i]);
    }
    bool ok = wr_ok(&w) && w.len < cap;
    if (ok) {
        memcpy(out, w.buf, w.len);
        out[w.len] = 0;
    }
    wr_free(&w);
    return ok;
}

static inline const char *test_sql_rt(const char *file, int line, sql_dialect_t d, const char *text) {
    char *out = test_sql_buf();
    arena_t a;
    arena_init(&a, 0);
    sql_error_t err;
    sql_script_t *s;
    int rc = sql_parse_script(NULL, &a, d, text, strlen(text), &s, &err);
    if (rc != EDDY_OK) {
        snprintf(out, 16384, "ERROR %d: %s", (int)err.kind, err.msg);
        arena_free(&a);
        return out;
    }
    if (!test_sql_print(s, out, 16384)) test_fail(file, line, "printing failed");
    /* Round trip: the printed text parses again to something that prints the same. */
    sql_script_t *again;
    rc = sql_parse_script(NULL, &a, d, out, strlen(out), &again, &err);
    if (rc != EDDY_OK) {
        test_fail(file, line, "printed text does not parse: %s\n#     printed: %s", err.msg, out);
    } else {
        char *second = test_sql_buf();
        if (!test_sql_print(again, second, 16384) || strcmp(second, out) != 0)
            test_fail(file, line, "round trip differs:\n#     first:  %s\n#     second: %s", out, second);
    }
    arena_free(&a);
    return out;
}

#define cql(text) test_sql_rt(__FILE__, __LINE__, SQL_DIALECT_CQL, (text))
#define pipeline(text) test_sql_rt(__FILE__, __LINE__, SQL_DIALECT_PIPELINE, (text))

/* Parses one CQL statement into arena a (REQUIREs success). */
static inline sql_stmt_t *test_cql_stmt(const char *file, int line, arena_t *a, const char *text) {
    sql_stmt_t *st = NULL;
    sql_error_t err;
    if (sql_parse_cql(NULL, a, text, strlen(text), &st, &err) != EDDY_OK) {
        test_fail(file, line, "parse failed: %s", err.msg);
        test_abort();
    }
    return st;
}
#define cql_stmt(a, text) test_cql_stmt(__FILE__, __LINE__, (a), (text))

static inline sql_script_t *test_pipeline_script(const char *file, int line, arena_t *a, const char *text) {
    sql_script_t *s = NULL;
    sql_error_t err;
    if (sql_parse_pipeline(NULL, a, text, strlen(text), &s, &err) != EDDY_OK) {
        test_fail(file, line, "parse failed: %s", err.msg);
        test_abort();
    }
    return s;
}
#define pipeline_script(a, text) test_pipeline_script(__FILE__, __LINE__, (a), (text))

/* The error of a CQL parse that must fail. */
static inline sql_error_t test_cql_error(const char *file, int line, const char *text) {
    arena_t a;
    arena_init(&a, 0);
    sql_stmt_t *st;
    sql_error_t err;
    memset(&err, 0, sizeof err);
    if (sql_parse_cql(NULL, &a, text, strlen(text), &st, &err) == EDDY_OK)
        test_fail(file, line, "expected an error for: %s", text);
    arena_free(&a);
    return err;
}
#define cql_error(text) test_cql_error(__FILE__, __LINE__, (text))

#endif
