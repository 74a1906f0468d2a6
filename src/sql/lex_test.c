/* Unit tests for the sql lexer: tokens of every kind, positions, comments, keywords, literal
 * decoding (durations, uuids) and lexical errors. */
#include "sql/sql_int.h"
#include "sql/sql_test_util.h"

/* Lexes text and returns the token types as a string of type codes for compact checks. */
static int lex(const char *text, sql_toks_t *t, sql_error_t *err) {
    t->n = 0;
    uint16_t tab[SQL_KW_TAB];
    sql_kw_table_init(tab);
    return sql_lex(text, strlen(text), t, 1000, tab, err);
}

TEST(keyword_table_sorted_and_found) {
    for (int k = 2; k < KW__COUNT; k++) CHECK(strcmp(sql_kw_text((sql_kw_t)(k - 1)), sql_kw_text((sql_kw_t)k)) < 0);
    for (int k = 1; k < KW__COUNT; k++) {
        const char *s = sql_kw_text((sql_kw_t)k);
        CHECK_EQ_INT(sql_kw_lookup(s, strlen(s)), k);
        char up[32];
        size_t n = strlen(s);
        for (size_t i = 0; i <= n; i++) up[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
        CHECK_EQ_INT(sql_kw_lookup(up, n), k);
    }
    uint16_t tab[SQL_KW_TAB];
    sql_kw_table_init(tab);
    for (int k = 1; k < KW__COUNT; k++) {
        const char *s = sql_kw_text((sql_kw_t)k);
        CHECK_EQ_INT(sql_kw_lookup_fast(tab, s, strlen(s)), k);
    }
    CHECK_EQ_INT(sql_kw_lookup_fast(tab, "FrOm", 4), KW_FROM);
    CHECK_EQ_INT(sql_kw_lookup_fast(tab, "fro", 3), KW_NONE);
    CHECK_EQ_INT(sql_kw_lookup_fast(tab, "fromx", 5), KW_NONE);
    CHECK_EQ_INT(sql_kw_lookup_fast(tab, "leaves", 6), KW_NONE);
    CHECK_EQ_INT(sql_kw_lookup("SeLeCt", 6), KW_SELECT);
    CHECK_EQ_INT(sql_kw_lookup("selects", 7), KW_NONE);
    CHECK_EQ_INT(sql_kw_lookup("x", 1), KW_NONE);
    CHECK_EQ_INT(sql_kw_lookup("averyveryverylongword", 21), KW_NONE);
    CHECK(sql_is_reserved("FROM", 4));
    CHECK(sql_is_reserved("token", 5));
    CHECK(!sql_is_reserved("key", 3));
    CHECK(!sql_is_reserved("timestamp", 9));
    CHECK(!sql_is_reserved("group", 5)); /* reserved in pipelines only */
}

TEST(tokens_of_every_kind) {
    sql_toks_t t = {0};
    sql_error_t err;
    const char *text = "SELECT \"Quoted\"\"x\" 'it''s' $$a'b$$ 42 1.5 1e10 2.5E-3 1. 0xCAFE "
                       "550e8400-e29b-41d4-a716-446655440000 a50e8400-e29b-41d4-a716-446655440000 "
                       "1h30m P1DT2H ? :name ( ) [ ] { } , ; . .. = != <> < <= > >= + - * / % += -= || -> ->>";
    REQUIRE_OK(lex(text, &t, &err));
    static const sql_tok_type_t want[] = {
        TK_IDENT, TK_QIDENT, TK_STRING, TK_DSTRING, TK_INTEGER, TK_FLOAT, TK_FLOAT, TK_FLOAT, TK_FLOAT, TK_HEX,
        TK_UUID, TK_UUID, TK_DURATION, TK_DURATION, TK_QMARK, TK_COLON, TK_IDENT, TK_LPAREN, TK_RPAREN,
        TK_LBRACKET, TK_RBRACKET, TK_LBRACE, TK_RBRACE, TK_COMMA, TK_SEMI, TK_DOT, TK_RANGE, TK_EQ, TK_NE,
        TK_LTGT, TK_LT, TK_LE, TK_GT, TK_GE, TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT, TK_PLUSEQ,
        TK_MINUSEQ, TK_CONCAT, TK_ARROW, TK_ARROW2, TK_EOF};
    REQUIRE(t.n == EDDY_ARRAY_LEN(want));
    for (size_t i = 0; i < t.n; i++) {
        if (t.v[i].type != want[i]) test_fail(__FILE__, __LINE__, "token %zu: type %d, want %d", i, t.v[i].type, want[i]);
    }
    CHECK_EQ_INT(t.v[0].kw, KW_SELECT);
    CHECK_EQ_INT(t.v[1].len, 11);
    CHECK_EQ_INT(t.v[16].kw, KW_NONE);
    eddy_free(t.v);
}

TEST(positions_lines_and_columns) {
    sql_toks_t t = {0};
    sql_error_t err;
    REQUIRE_OK(lex("SELECT a,\n  b -- comment\n/* multi\nline */ FROM // x\n\t t", &t, &err));
    REQUIRE(t.n == 7);
    CHECK_EQ_INT(t.v[0].line, 1);
    CHECK_EQ_INT(t.v[0].col, 1);
    CHECK_EQ_INT(t.v[1].col, 8);
    CHECK_EQ_INT(t.v[3].line, 2); /* b */
    CHECK_EQ_INT(t.v[3].col, 3);
    CHECK_EQ_INT(t.v[4].line, 4); /* FROM */
    CHECK_EQ_INT(t.v[4].col, 9);
    CHECK_EQ_INT(t.v[5].line, 5); /* t after a tab */
    CHECK_EQ_INT(t.v[5].col, 3);
    /* Newlines inside strings count too. */
    REQUIRE_OK(lex("'a\nb' x", &t, &err));
    CHECK_EQ_INT(t.v[1].line, 2);
    CHECK_EQ_INT(t.v[1].col, 4);
    eddy_free(t.v);
}

TEST(comments_everywhere) {
    CHECK_EQ_STR(cql("-- leading\nSELECT /* inline */ a // trailing\nFROM t -- end"), "SELECT a FROM t");
    CHECK_EQ_STR(cql("SELECT a FROM t /* ; */ WHERE k = '--not a comment'"),
                 "SELECT a FROM t WHERE k = '--not a comment'");
    CHECK_EQ_STR(cql("SELECT a-1 FROM t"), "SELECT a - 1 FROM t");
}

TEST(numbers_and_ranges) {
    sql_toks_t t = {0};
    sql_error_t err;
    REQUIRE_OK(lex("1..2", &t, &err));
    REQUIRE(t.n == 4);
    CHECK_EQ_INT(t.v[0].type, TK_INTEGER);
    CHECK_EQ_INT(t.v[1].type, TK_RANGE);
    CHECK_EQ_INT(t.v[2].type, TK_INTEGER);
    REQUIRE_OK(lex("0x", &t, &err));
    CHECK_EQ_INT(t.v[0].type, TK_HEX);
    REQUIRE_OK(lex("-5", &t, &err)); /* the minus is its own token */
    CHECK_EQ_INT(t.v[0].type, TK_MINUS);
    CHECK_EQ_INT(t.v[1].type, TK_INTEGER);
    eddy_free(t.v);
}

TEST(durations_decode_like_cassandra) {
    sql_duration_t d;
    REQUIRE(sql_duration_parse("1h30m", 5, &d));
    CHECK(d.months == 0 && d.days == 0 && d.nanos == 5400000000000LL);
    REQUIRE(sql_duration_parse("1y2mo3w4d5h6m7s8ms9us10ns", 25, &d));
    CHECK_EQ_INT(d.months, 14);
    CHECK_EQ_INT(d.days, 25);
    CHECK(d.nanos == 5 * 3600000000000LL + 6 * 60000000000LL + 7000000000LL + 8000000LL + 9000LL + 10);
    REQUIRE(sql_duration_parse("2MO", 3, &d));
    CHECK_EQ_INT(d.months, 2);
    REQUIRE(sql_duration_parse("1\xc2\xb5s", 4, &d)); /* µs */
    CHECK(d.nanos == 1000);
    REQUIRE(sql_duration_parse("-1d", 3, &d));
    CHECK_EQ_INT(d.days, -1);
    REQUIRE(sql_duration_parse("P1Y2M3DT4H5M6S", 14, &d));
    CHECK(d.months == 14 && d.days == 3 && d.nanos == 4 * 3600000000000LL + 5 * 60000000000LL + 6000000000LL);
    REQUIRE(sql_duration_parse("PT5M", 4, &d));
    CHECK(d.nanos == 5 * 60000000000LL && d.months == 0);
    REQUIRE(sql_duration_parse("P2W", 3, &d));
    CHECK_EQ_INT(d.days, 14);
    REQUIRE(sql_duration_parse("P0001-02-03T04:05:06", 20, &d));
    CHECK(d.months == 14 && d.days == 3 && d.nanos == 4 * 3600000000000LL + 5 * 60000000000LL + 6000000000LL);
    CHECK(!sql_duration_parse("1m1h", 4, &d));  /* wrong order */
    CHECK(!sql_duration_parse("1h1h", 4, &d));  /* twice */
    CHECK(!sql_duration_parse("1x", 2, &d));
    CHECK(!sql_duration_parse("P", 1, &d));
    CHECK(!sql_duration_parse("PT", 2, &d));
    CHECK(!sql_duration_parse("P1W2D", 5, &d));
    CHECK(!sql_duration_parse("99999999999y", 12, &d)); /* overflow */
    CHECK(!sql_duration_parse("99999999999999999999h", 21, &d));
}

TEST(uuid_bytes) {
    uint8_t b[16];
    REQUIRE(sql_uuid_parse("550E8400-e29b-41d4-a716-446655440000", 36, b));
    CHECK(b[0] == 0x55 && b[1] == 0x0e && b[6] == 0x41 && b[15] == 0x00 && b[14] == 0x00 && b[10] == 0x44);
    CHECK(!sql_uuid_parse("550e8400-e29b-41d4-a716-44665544000", 35, b));
    CHECK(!sql_uuid_parse("550e8400xe29b-41d4-a716-446655440000", 36, b));
}

TEST(lexical_errors_point_at_the_token) {
    sql_error_t e = cql_error("SELECT 'abc");
    CHECK_EQ_INT(e.kind, SQL_ERR_SYNTAX);
    CHECK_EQ_INT(e.col, 8);
    CHECK(strstr(e.msg, "unterminated string literal") != NULL);
    e = cql_error("SELECT \"abc");
    CHECK(strstr(e.msg, "unterminated quoted name") != NULL);
    e = cql_error("SELECT a /* never closed");
    CHECK(strstr(e.msg, "unterminated comment") != NULL);
    CHECK_EQ_INT(e.col, 10);
    e = cql_error("SELECT $$abc");
    CHECK(strstr(e.msg, "unterminated $$ string literal") != NULL);
    e = cql_error("SELECT 12abc FROM t");
    CHECK(strstr(e.msg, "invalid number or duration '12abc'") != NULL);
    e = cql_error("SELECT 1.5h FROM t");
    CHECK(strstr(e.msg, "invalid number") != NULL);
    e = cql_error("SELECT a FROM t WHERE b = @");
    CHECK_EQ_STR(e.msg, "line 1:27 unexpected character '@' (SELECT a FROM t WHERE b = [@])");
    e = cql_error("SELECT a\nFROM t WHERE b = \x01");
    CHECK_EQ_INT(e.line, 2);
    CHECK(strstr(e.msg, "unexpected byte 0x01") != NULL);
    e = cql_error("SELECT 'é' , é FROM t");
    CHECK_EQ_INT(e.col, 14); /* characters, not bytes */
    CHECK(strstr(e.msg, "line 1:14 unexpected character 'é'") != NULL);
}

TEST(token_limit) {
    sql_toks_t t = {0};
    sql_error_t err;
    CHECK_EQ_INT(sql_lex("a b c d", 7, &t, 3, NULL, &err), EDDY_ERR_INVALID);
    CHECK_EQ_INT(err.kind, SQL_ERR_LIMIT);
    CHECK(strstr(err.msg, "too many tokens") != NULL);
    eddy_free(t.v);
}
