/* Fuzz target: the sql lexer and parser, CQL (one statement, and as a script) and pipeline SQL,
 * and the shells' statement splitter.
 * Whatever parses must print, and the printed text must parse again and print the same: the
 * printer and the parser agree on every AST the parser can produce. */
#include <stdio.h>
#include <stdlib.h>

#include "sql/sql.h"

static void print_script(const sql_script_t *s, wr_t *w) {
    for (uint32_t i = 0; i < s->nstmts; i++) {
        if (i) wr_str(w, "; ");
        sql_print_stmt(w, s->stmts[i]);
    }
}

static void check_round_trip(sql_parser_t *p, arena_t *a, sql_dialect_t d, const sql_script_t *s) {
    wr_t first, second;
    wr_init(&first, 0);
    wr_init(&second, 0);
    print_script(s, &first);
    sql_script_t *again;
    sql_error_t err;
    if (sql_parse_script(p, a, d, (const char *)first.buf, first.len, &again, &err) != EDDY_OK) {
        fprintf(stderr, "printed text does not parse: %s\n%.*s\n", err.msg, (int)first.len, first.buf);
        abort();
    }
    print_script(again, &second);
    if (first.len != second.len || (first.len && memcmp(first.buf, second.buf, first.len) != 0)) {
        fprintf(stderr, "round trip differs:\n%.*s\n%.*s\n", (int)first.len, first.buf, (int)second.len,
                second.buf);
        abort();
    }
    wr_free(&first);
    wr_free(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sql_limits_t limits = {1 << 20, 100000, 64, 1000};
    sql_parser_t *p = sql_parser_new(&limits);
    if (!p) return 0;
    arena_t a;
    arena_init(&a, 0);
    const char *text = (const char *)data;
    size_t end = sql_statement_end(text, size);
    if (end > size || (end && text[end - 1] != ';')) abort();
    sql_error_t err;
    sql_stmt_t *st;
    if (sql_parse_cql(p, &a, text, size, &st, &err) == EDDY_OK) {
        sql_script_t one = {&st, 1};
        check_round_trip(p, &a, SQL_DIALECT_CQL, &one);
    }
    arena_reset(&a);
    sql_script_t *s;
    if (sql_parse_script(p, &a, SQL_DIALECT_CQL, text, size, &s, &err) == EDDY_OK)
        check_round_trip(p, &a, SQL_DIALECT_CQL, s);
    arena_reset(&a);
    if (sql_parse_pipeline(p, &a, text, size, &s, &err) == EDDY_OK) check_round_trip(p, &a, SQL_DIALECT_PIPELINE, s);
    arena_free(&a);
    sql_parser_free(p);
    return 0;
}
