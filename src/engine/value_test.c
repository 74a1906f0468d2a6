/* Unit tests: typed values (order, encoding, JSON, casts), expressions, scalar functions and
 * aggregates with retraction. */
#include <math.h>
#include <stdio.h>

#include "engine/engine_expr.h"
#include "test.h"

static arena_t A;

static engine_val_t json_val(const char *text, json_doc_t *doc) {
    engine_val_t v = engine_null();
    if (json_parse(doc, text, strlen(text)) == EDDY_OK) engine_val_from_json(&A, doc, 0, &v);
    return v;
}

static char *to_json(const engine_val_t *v) {
    static char buf[4][512];
    static int k;
    wr_t w;
    wr_init(&w, 64);
    engine_val_to_json(&w, v);
    char *out = buf[k++ % 4];
    snprintf(out, 512, "%.*s", (int)w.len, w.buf ? (const char *)w.buf : "");
    wr_free(&w);
    return out;
}

TEST(engine_value_order_and_encoding) {
    arena_init(&A, 4096);
    engine_val_t vals[] = {engine_null(), engine_bool(false), engine_bool(true), engine_int(-5), engine_float(-4.5), engine_int(3),
                        engine_float(3.0), engine_float(3.5), engine_text("a", 1), engine_text("ab", 2), engine_text("b", 1),
                        engine_ts(0), engine_ts(1000)};
    size_t n = EDDY_ARRAY_LEN(vals);
    for (size_t i = 0; i + 1 < n; i++) CHECK(engine_val_cmp(&vals[i], &vals[i + 1]) < 0);
    /* Round trip through the binary form; equal values give equal bytes. */
    for (size_t i = 0; i < n; i++) {
        wr_t w;
        wr_init(&w, 16);
        engine_val_encode(&w, &vals[i]);
        rd_t r = rd_init(w.buf, w.len);
        engine_val_t back;
        REQUIRE_OK(engine_val_decode(&r, &A, &back));
        CHECK(engine_val_eq(&back, &vals[i]));
        CHECK_EQ_INT(rd_remaining(&r), 0);
        wr_free(&w);
    }
    /* Sets come out sorted without duplicates; a corrupt (unsorted) set is refused. */
    engine_val_t items[] = {engine_text("b", 1), engine_text("a", 1), engine_text("b", 1)};
    engine_val_t set;
    REQUIRE_OK(engine_val_make_coll(&A, ENGINE_SET, items, 3, &set));
    CHECK_EQ_INT(set.len, 2);
    CHECK_EQ_STR(to_json(&set), "[\"a\",\"b\"]");
    const uint8_t bad[] = {ENGINE_SET, 2, ENGINE_TEXT, 1, 'b', ENGINE_TEXT, 1, 'a'};
    rd_t r = rd_init(bad, sizeof bad);
    engine_val_t v;
    CHECK_EQ_INT(engine_val_decode(&r, &A, &v), EDDY_ERR_CORRUPT);
    const uint8_t huge[] = {ENGINE_LIST, 0xff, 0xff, 0xff, 0x7f};
    r = rd_init(huge, sizeof huge);
    CHECK_EQ_INT(engine_val_decode(&r, &A, &v), EDDY_ERR_CORRUPT);
    arena_free(&A);
}

TEST(engine_value_json_typed) {
    arena_init(&A, 4096);
    json_doc_t doc;
    json_doc_init(&doc);
    const char *text = "{\"n\":\"42\",\"b\":\"False\",\"ts\":\"2021-03-04T10:11:12Z\",\"ms\":1614852672000,"
                       "\"tags\":[\"x\",\"y\"],\"big\":3000000000,\"m\":{\"k\":1}}";
    REQUIRE_OK(json_parse(&doc, text, strlen(text)));
    engine_val_t v;
    char err[128];
    engine_type_t t_int;
    REQUIRE_OK(engine_type_parse("int", 3, &t_int));
    REQUIRE_OK(engine_val_from_json_typed(&A, &doc, (uint32_t)json_object_get(&doc, 0, "n", 1), t_int, &v, err, sizeof err));
    CHECK(v.kind == ENGINE_INT && v.i == 42);
    CHECK_EQ_INT(engine_val_from_json_typed(&A, &doc, (uint32_t)json_object_get(&doc, 0, "big", 3), t_int, &v, err,
                                         sizeof err), EDDY_ERR_INVALID);
    REQUIRE_OK(engine_val_from_json_typed(&A, &doc, (uint32_t)json_object_get(&doc, 0, "b", 1), engine_type(ENGINE_BOOL), &v,
                                       err, sizeof err));
    CHECK(v.kind == ENGINE_BOOL && !v.b);
    engine_val_t ts1, ts2;
    REQUIRE_OK(engine_val_from_json_typed(&A, &doc, (uint32_t)json_object_get(&doc, 0, "ts", 2), engine_type(ENGINE_TIMESTAMP),
                                       &ts1, err, sizeof err));
    REQUIRE_OK(engine_val_from_json_typed(&A, &doc, (uint32_t)json_object_get(&doc, 0, "ms", 2), engine_type(ENGINE_TIMESTAMP),
                                       &ts2, err, sizeof err));
    CHECK(engine_val_eq(&ts1, &ts2));
    CHECK_EQ_STR(to_json(&ts1), "\"2021-03-04T10:11:12.000Z\"");
    engine_type_t lt;
    REQUIRE_OK(engine_type_parse("frozen<list<text>>", 18, &lt));
    CHECK(lt.kind == ENGINE_LIST && lt.elem == ENGINE_TEXT);
    REQUIRE_OK(engine_val_from_json_typed(&A, &doc, (uint32_t)json_object_get(&doc, 0, "tags", 4), lt, &v, err, sizeof err));
    CHECK_EQ_STR(to_json(&v), "[\"x\",\"y\"]");
    engine_type_t mt;
    REQUIRE_OK(engine_type_parse("map<text, int>", 14, &mt));
    CHECK(mt.kind == ENGINE_MAP && mt.key == ENGINE_TEXT && mt.elem == ENGINE_INT);
    REQUIRE_OK(engine_val_from_json_typed(&A, &doc, (uint32_t)json_object_get(&doc, 0, "m", 1), mt, &v, err, sizeof err));
    CHECK_EQ_STR(to_json(&v), "{\"k\":1}");
    CHECK_EQ_INT(engine_type_parse("lsit<text>", 10, &lt), EDDY_ERR_INVALID);
    json_doc_free(&doc);
    arena_free(&A);
}

TEST(engine_value_casts) {
    arena_init(&A, 4096);
    engine_val_t v, out;
    v = engine_text(" 12 ", 4);
    REQUIRE_OK(engine_val_cast(&A, &v, engine_type(ENGINE_INT), &out));
    CHECK_EQ_INT(out.i, 12);
    v = engine_text("x", 1);
    CHECK_EQ_INT(engine_val_cast(&A, &v, engine_type(ENGINE_INT), &out), EDDY_ERR_INVALID);
    v = engine_float(2.9);
    REQUIRE_OK(engine_val_cast(&A, &v, engine_type(ENGINE_INT), &out));
    CHECK_EQ_INT(out.i, 2);
    v = engine_int(300);
    engine_type_t tiny;
    REQUIRE_OK(engine_type_parse("tinyint", 7, &tiny));
    CHECK_EQ_INT(engine_val_cast(&A, &v, tiny, &out), EDDY_ERR_INVALID);
    v = engine_text("2024-01-02", 10);
    REQUIRE_OK(engine_val_cast(&A, &v, engine_type(ENGINE_DATE), &out));
    CHECK_EQ_STR(to_json(&out), "\"2024-01-02\"");
    v = engine_text("[\"a\",\"b\",\"a\"]", 13);
    engine_type_t st;
    REQUIRE_OK(engine_type_parse("set<text>", 9, &st));
    REQUIRE_OK(engine_val_cast(&A, &v, st, &out));
    CHECK_EQ_STR(to_json(&out), "[\"a\",\"b\"]");
    v = engine_float(1.5);
    REQUIRE_OK(engine_val_cast(&A, &v, engine_type(ENGINE_TEXT), &out));
    CHECK(out.kind == ENGINE_TEXT && out.len == 3 && !memcmp(out.s, "1.5", 3));
    v = engine_text("123e4567-e89b-12d3-a456-426614174000", 36);
    REQUIRE_OK(engine_val_cast(&A, &v, engine_type(ENGINE_UUID), &out));
    CHECK_EQ_STR(to_json(&out), "\"123e4567-e89b-12d3-a456-426614174000\"");
    arena_free(&A);
}

/* ---- expressions ---------------------------------------------------------------------------- */

static engine_expr_t *mk(uint8_t op, uint8_t sub, uint32_t nargs, ...) {
    engine_expr_t *e = arena_alloc(&A, sizeof *e);
    memset(e, 0, sizeof *e);
    e->op = op;
    e->sub = sub;
    e->nargs = nargs;
    e->args = arena_alloc(&A, (nargs ? nargs : 1) * sizeof *e->args);
    va_list ap;
    va_start(ap, nargs);
    for (uint32_t i = 0; i < nargs; i++) e->args[i] = va_arg(ap, engine_expr_t *);
    va_end(ap);
    return e;
}

static engine_expr_t *k_(engine_val_t v) {
    engine_expr_t *e = mk(EX_CONST, 0, 0);
    e->k = v;
    return e;
}

static engine_expr_t *ks(const char *s) { return k_(engine_text(s, strlen(s))); }
static engine_expr_t *ki(int64_t i) { return k_(engine_int(i)); }

static engine_expr_t *call(const char *name, uint32_t nargs, ...) {
    engine_expr_t *e = mk(EX_CALL, 0, 0);
    e->fn = engine_func_find(name, strlen(name));
    e->nargs = nargs;
    e->args = arena_alloc(&A, (nargs ? nargs : 1) * sizeof *e->args);
    va_list ap;
    va_start(ap, nargs);
    for (uint32_t i = 0; i < nargs; i++) e->args[i] = va_arg(ap, engine_expr_t *);
    va_end(ap);
    return e;
}

static const char *eval_json(engine_expr_t *e) {
    engine_val_t slots[4] = {engine_null(), engine_int(7), engine_text("Hello World", 11), engine_null()};
    engine_row_t row = {slots, &A, 1614852672123};
    engine_val_t v;
    if (engine_expr_eval(e, &row, &v) != EDDY_OK) return "<error>";
    return to_json(&v);
}

TEST(engine_expr_logic_and_arith) {
    arena_init(&A, 4096);
    engine_expr_t *null = k_(engine_null()), *t = k_(engine_bool(true)), *f = k_(engine_bool(false));
    CHECK_EQ_STR(eval_json(mk(EX_AND, 0, 2, null, f)), "false");
    CHECK_EQ_STR(eval_json(mk(EX_AND, 0, 2, null, t)), "null");
    CHECK_EQ_STR(eval_json(mk(EX_OR, 0, 2, null, t)), "true");
    CHECK_EQ_STR(eval_json(mk(EX_NOT, 0, 1, null)), "null");
    CHECK_EQ_STR(eval_json(mk(EX_CMP, CMP_EQ, 2, ki(1), k_(engine_float(1.0)))), "true");
    CHECK_EQ_STR(eval_json(mk(EX_CMP, CMP_LT, 2, ks("a"), ks("b"))), "true");
    CHECK_EQ_STR(eval_json(mk(EX_CMP, CMP_EQ, 2, ks("1"), ki(1))), "false");
    CHECK_EQ_STR(eval_json(mk(EX_CMP, CMP_EQ, 2, null, ki(1))), "null");
    CHECK_EQ_STR(eval_json(mk(EX_ARITH, AR_ADD, 2, ki(1), ki(2))), "3");
    CHECK_EQ_STR(eval_json(mk(EX_ARITH, AR_DIV, 2, ki(7), ki(2))), "3");
    CHECK_EQ_STR(eval_json(mk(EX_ARITH, AR_DIV, 2, ki(7), k_(engine_float(2)))), "3.5");
    CHECK_EQ_STR(eval_json(mk(EX_ARITH, AR_DIV, 2, ki(7), ki(0))), "null");
    CHECK_EQ_STR(eval_json(mk(EX_ARITH, AR_MUL, 2, ki(INT64_MAX), ki(2))), "null");
    CHECK_EQ_STR(eval_json(mk(EX_ARITH, AR_MOD, 2, ki(7), ki(3))), "1");
    CHECK_EQ_STR(eval_json(mk(EX_NEG, 0, 1, ki(5))), "-5");
    CHECK_EQ_STR(eval_json(mk(EX_CONCAT, 0, 2, ks("a"), ki(1))), "\"a1\"");
    /* CASE WHEN false THEN 1 WHEN true THEN 2 ELSE 3 END; CASE 7 WHEN 7 THEN 'x' END */
    engine_expr_t *c = mk(EX_CASE, 0, 5, f, ki(1), t, ki(2), ki(3));
    c->has_else = 1;
    CHECK_EQ_STR(eval_json(c), "2");
    engine_expr_t *slot1 = mk(EX_SLOT, 0, 0);
    slot1->slot = 1;
    engine_expr_t *c2 = mk(EX_CASE, 0, 3, slot1, ki(7), ks("x"));
    c2->has_operand = 1;
    CHECK_EQ_STR(eval_json(c2), "\"x\"");
    engine_expr_t *c3 = mk(EX_CASE, 0, 3, slot1, ki(8), ks("x"));
    c3->has_operand = 1;
    CHECK_EQ_STR(eval_json(c3), "null");
    engine_expr_t *cast = mk(EX_CAST, 0, 1, ks("12"));
    cast->cast_to = engine_type(ENGINE_INT);
    CHECK_EQ_STR(eval_json(cast), "12");
    engine_expr_t *badcast = mk(EX_CAST, 0, 1, ks("zz"));
    badcast->cast_to = engine_type(ENGINE_INT);
    CHECK_EQ_STR(eval_json(badcast), "null");
    CHECK_EQ_STR(eval_json(mk(EX_IS_NULL, 0, 1, null)), "true");
    CHECK_EQ_STR(eval_json(mk(EX_IS_NULL, 1, 1, null)), "false");
    CHECK_EQ_STR(eval_json(mk(EX_IN, 0, 4, ki(2), ki(1), ki(2), null)), "true");
    CHECK_EQ_STR(eval_json(mk(EX_IN, 0, 3, ki(5), ki(1), null)), "null");
    CHECK_EQ_STR(eval_json(mk(EX_IN, 1, 3, ki(5), ki(1), ki(2))), "true");
    CHECK_EQ_STR(eval_json(mk(EX_BETWEEN, 0, 3, ki(5), ki(1), ki(5))), "true");
    CHECK_EQ_STR(eval_json(mk(EX_LIKE, 0, 2, ks("cassandra.link"), ks("cass%.l_nk"))), "true");
    CHECK_EQ_STR(eval_json(mk(EX_LIKE, 0, 2, ks("abc"), ks("a%d"))), "false");
    CHECK_EQ_STR(eval_json(mk(EX_LIKE, 0, 2, ks("50%"), ks("50\\%"))), "true");
    arena_free(&A);
}

TEST(engine_expr_subscripts_and_json) {
    arena_init(&A, 4096);
    json_doc_t doc;
    json_doc_init(&doc);
    engine_val_t obj = json_val("{\"a\":{\"b\":[10,20,30]},\"s\":\"x\"}", &doc);
    CHECK(obj.kind == ENGINE_JSON);
    engine_expr_t *e = mk(EX_INDEX, 0, 2, mk(EX_INDEX, 0, 2, mk(EX_INDEX, 0, 2, k_(obj), ks("a")), ks("b")), ki(1));
    CHECK_EQ_STR(eval_json(e), "20");
    CHECK_EQ_STR(eval_json(mk(EX_INDEX, 0, 2, k_(obj), ks("missing"))), "null");
    CHECK_EQ_STR(eval_json(call("element_at", 2, mk(EX_INDEX, 0, 2, k_(obj), ks("a")), ks("b"))), "[10,20,30]");
    CHECK_EQ_STR(eval_json(call("size", 1, mk(EX_INDEX, 0, 2, mk(EX_INDEX, 0, 2, k_(obj), ks("a")), ks("b")))), "3");
    CHECK_EQ_STR(eval_json(call("to_json", 1, k_(obj))), "\"{\\\"a\\\":{\\\"b\\\":[10,20,30]},\\\"s\\\":\\\"x\\\"}\"");
    CHECK_EQ_STR(eval_json(mk(EX_INDEX, 0, 2, call("parse_json", 1, ks("{\"k\":[1,{\"z\":true}]}")), ks("k"))),
                 "[1,{\"z\":true}]");
    json_doc_free(&doc);
    arena_free(&A);
}

TEST(engine_functions_strings_numbers) {
    arena_init(&A, 4096);
    engine_expr_t *hw = ks("Hello World");
    CHECK_EQ_STR(eval_json(call("lower", 1, hw)), "\"hello world\"");
    CHECK_EQ_STR(eval_json(call("upper", 1, hw)), "\"HELLO WORLD\"");
    CHECK_EQ_STR(eval_json(call("length", 1, ks("café"))), "4");
    CHECK_EQ_STR(eval_json(call("trim", 1, ks("  x  "))), "\"x\"");
    CHECK_EQ_STR(eval_json(call("ltrim", 1, ks("  x  "))), "\"x  \"");
    CHECK_EQ_STR(eval_json(call("substring", 3, hw, ki(7), ki(3))), "\"Wor\"");
    CHECK_EQ_STR(eval_json(call("substring", 2, hw, ki(7))), "\"World\"");
    CHECK_EQ_STR(eval_json(call("substring", 3, hw, ki(0), ki(2))), "\"H\"");
    CHECK_EQ_STR(eval_json(call("left", 2, hw, ki(5))), "\"Hello\"");
    CHECK_EQ_STR(eval_json(call("right", 2, hw, ki(5))), "\"World\"");
    CHECK_EQ_STR(eval_json(call("concat", 3, ks("a"), k_(engine_null()), ki(3))), "\"a3\"");
    CHECK_EQ_STR(eval_json(call("concat_ws", 3, ks("-"), ks("a"), ks("b"))), "\"a-b\"");
    CHECK_EQ_STR(eval_json(call("replace", 3, ks("a b c"), ks(" "), ks("."))), "\"a.b.c\"");
    CHECK_EQ_STR(eval_json(call("split", 2, ks("a,b,,c"), ks(","))), "[\"a\",\"b\",\"\",\"c\"]");
    CHECK_EQ_STR(eval_json(call("starts_with", 2, hw, ks("Hell"))), "true");
    CHECK_EQ_STR(eval_json(call("ends_with", 2, hw, ks("x"))), "false");
    CHECK_EQ_STR(eval_json(call("strpos", 2, hw, ks("World"))), "7");
    CHECK_EQ_STR(eval_json(call("lpad", 3, ks("7"), ki(3), ks("0"))), "\"007\"");
    CHECK_EQ_STR(eval_json(call("rpad", 2, ks("ab"), ki(4))), "\"ab  \"");
    CHECK_EQ_STR(eval_json(call("reverse", 1, ks("abc"))), "\"cba\"");
    CHECK_EQ_STR(eval_json(call("regexp_like", 2, ks("leaf-42"), ks("^leaf-[0-9]+$"))), "true");
    CHECK_EQ_STR(eval_json(call("regexp_replace", 3, ks("a1b22"), ks("[0-9]+"), ks("#"))), "\"a#b#\"");
    CHECK_EQ_STR(eval_json(call("coalesce", 3, k_(engine_null()), ki(2), ki(3))), "2");
    CHECK_EQ_STR(eval_json(call("nullif", 2, ki(2), ki(2))), "null");
    CHECK_EQ_STR(eval_json(call("greatest", 3, ki(2), k_(engine_float(2.5)), ki(1))), "2.5");
    CHECK_EQ_STR(eval_json(call("least", 2, ks("b"), ks("a"))), "\"a\"");
    CHECK_EQ_STR(eval_json(call("abs", 1, ki(-3))), "3");
    CHECK_EQ_STR(eval_json(call("round", 2, k_(engine_float(2.345)), ki(2))), "2.35");
    CHECK_EQ_STR(eval_json(call("floor", 1, k_(engine_float(-1.5)))), "-2");
    CHECK_EQ_STR(eval_json(call("ceil", 1, k_(engine_float(1.2)))), "2");
    CHECK_EQ_STR(eval_json(call("sqrt", 1, ki(16))), "4");
    CHECK_EQ_STR(eval_json(call("power", 2, ki(2), ki(10))), "1024");
    CHECK_EQ_STR(eval_json(call("sign", 1, ki(-9))), "-1");
    CHECK_EQ_STR(eval_json(call("lower", 1, k_(engine_null()))), "null");
    engine_expr_t *list = call("split", 2, ks("b,a,b"), ks(","));
    CHECK_EQ_STR(eval_json(call("size", 1, list)), "3");
    CHECK_EQ_STR(eval_json(call("array_contains", 2, list, ks("a"))), "true");
    CHECK_EQ_STR(eval_json(call("element_at", 2, list, ki(-1))), "\"b\"");
    CHECK_EQ_STR(eval_json(call("array_join", 2, list, ks("+"))), "\"b+a+b\"");
    CHECK_EQ_STR(eval_json(call("array_sort", 1, list)), "[\"a\",\"b\",\"b\"]");
    CHECK_EQ_STR(eval_json(call("array_distinct", 1, list)), "[\"b\",\"a\"]");
    engine_expr_t *m = call("parse_json", 1, ks("{\"x\":1,\"y\":2}"));
    CHECK_EQ_STR(eval_json(call("map_keys", 1, m)), "[\"x\",\"y\"]");
    CHECK_EQ_STR(eval_json(call("map_values", 1, m)), "[1,2]");
    arena_free(&A);
}

TEST(engine_functions_time) {
    arena_init(&A, 4096);
    engine_expr_t *ts = ks("2021-03-04T10:11:12.345Z");
    CHECK_EQ_STR(eval_json(call("to_timestamp", 1, ts)), "\"2021-03-04T10:11:12.345Z\"");
    CHECK_EQ_STR(eval_json(call("to_date", 1, ts)), "\"2021-03-04\"");
    CHECK_EQ_STR(eval_json(call("year", 1, ts)), "2021");
    CHECK_EQ_STR(eval_json(call("month", 1, ts)), "3");
    CHECK_EQ_STR(eval_json(call("day", 1, ts)), "4");
    CHECK_EQ_STR(eval_json(call("hour", 1, ts)), "10");
    CHECK_EQ_STR(eval_json(call("minute", 1, ts)), "11");
    CHECK_EQ_STR(eval_json(call("second", 1, ts)), "12");
    CHECK_EQ_STR(eval_json(call("dayofweek", 1, ts)), "5"); /* a Thursday */
    CHECK_EQ_STR(eval_json(call("quarter", 1, ts)), "1");
    CHECK_EQ_STR(eval_json(call("date_trunc", 2, ks("month"), ts)), "\"2021-03-01T00:00:00.000Z\"");
    CHECK_EQ_STR(eval_json(call("date_trunc", 2, ks("week"), ts)), "\"2021-03-01T00:00:00.000Z\"");
    CHECK_EQ_STR(eval_json(call("date_trunc", 2, ks("hour"), ts)), "\"2021-03-04T10:00:00.000Z\"");
    CHECK_EQ_STR(eval_json(call("date_format", 2, ts, ks("%Y/%m/%d %H:%M:%S.%L"))), "\"2021/03/04 10:11:12.345\"");
    CHECK_EQ_STR(eval_json(call("unix_timestamp", 1, ts)), "1614852672");
    CHECK_EQ_STR(eval_json(call("to_unix_millis", 1, ts)), "1614852672345");
    CHECK_EQ_STR(eval_json(call("from_unixtime", 1, ki(0))), "\"1970-01-01T00:00:00.000Z\"");
    CHECK_EQ_STR(eval_json(call("date_add", 2, ts, ki(30))), "\"2021-04-03\"");
    CHECK_EQ_STR(eval_json(call("datediff", 2, ks("2021-03-04"), ks("2021-01-01"))), "62");
    CHECK_EQ_STR(eval_json(call("now", 0)), "\"2021-03-04T10:11:12.123Z\"");
    CHECK_EQ_STR(eval_json(call("current_date", 0)), "\"2021-03-04\"");
    CHECK_EQ_STR(eval_json(call("year", 1, ks("not a date"))), "null");
    CHECK_EQ_STR(eval_json(mk(EX_ARITH, AR_SUB, 2, call("to_timestamp", 1, ks("2021-01-01T00:00:01Z")),
                              call("to_timestamp", 1, ks("2021-01-01T00:00:00Z")))), "1000");
    arena_free(&A);
}

TEST(engine_function_check_signatures) {
    char err[160];
    engine_type_t r, args[2] = {engine_type(ENGINE_INT), engine_type(ENGINE_TEXT)};
    const engine_func_t *lower = engine_func_find("LOWER", 5);
    REQUIRE(lower);
    CHECK_EQ_INT(engine_func_check(lower, args, 1, &r, err, sizeof err), EDDY_ERR_INVALID);
    CHECK(strstr(err, "lower: argument 1 is bigint, expected text") != NULL);
    CHECK_OK(engine_func_check(lower, args + 1, 1, &r, err, sizeof err));
    CHECK_EQ_INT(r.kind, ENGINE_TEXT);
    CHECK_EQ_INT(engine_func_check(lower, args, 2, &r, err, sizeof err), EDDY_ERR_INVALID);
    CHECK(strstr(err, "lower takes 1 argument, not 2") != NULL);
    CHECK(engine_func_find("no_such_fn", 10) == NULL);
}

TEST(engine_aggregates_retract) {
    arena_init(&A, 4096);
    engine_agg_t mn = {AGG_MIN, NULL, engine_type(ENGINE_INT)}, mx = {AGG_MAX, NULL, engine_type(ENGINE_INT)};
    engine_agg_t sum = {AGG_SUM, NULL, engine_type(ENGINE_INT)}, avg = {AGG_AVG, NULL, engine_type(ENGINE_FLOAT)};
    engine_agg_t cd = {AGG_COUNT_DISTINCT, NULL, engine_type(ENGINE_INT)}, cnt = {AGG_COUNT, NULL, engine_type(ENGINE_INT)};
    engine_agg_t *all[] = {&mn, &mx, &sum, &avg, &cd, &cnt};
    engine_agg_state_t st[6];
    memset(st, 0, sizeof st);
    int64_t in[] = {5, 3, 9, 3};
    for (size_t i = 0; i < 4; i++)
        for (size_t a = 0; a < 6; a++) {
            engine_val_t v = engine_int(in[i]);
            REQUIRE_OK(engine_agg_update(all[a], &st[a], &A, &v, +1));
        }
    engine_val_t nul = engine_null();
    for (size_t a = 0; a < 6; a++) REQUIRE_OK(engine_agg_update(all[a], &st[a], &A, &nul, +1));
    engine_val_t r;
    engine_agg_result(&mn, &st[0], &r);
    CHECK_EQ_INT(r.i, 3);
    engine_agg_result(&mx, &st[1], &r);
    CHECK_EQ_INT(r.i, 9);
    engine_agg_result(&sum, &st[2], &r);
    CHECK_EQ_INT(r.i, 20);
    engine_agg_result(&avg, &st[3], &r);
    CHECK(r.kind == ENGINE_FLOAT && r.f == 5.0);
    engine_agg_result(&cd, &st[4], &r);
    CHECK_EQ_INT(r.i, 3);
    engine_agg_result(&cnt, &st[5], &r);
    CHECK_EQ_INT(r.i, 4);
    /* Retract 9 and one 3: max falls back to 5, min stays 3, distinct count 2. */
    int64_t out[] = {9, 3};
    for (size_t i = 0; i < 2; i++)
        for (size_t a = 0; a < 6; a++) {
            engine_val_t v = engine_int(out[i]);
            REQUIRE_OK(engine_agg_update(all[a], &st[a], &A, &v, -1));
        }
    engine_agg_result(&mn, &st[0], &r);
    CHECK_EQ_INT(r.i, 3);
    engine_agg_result(&mx, &st[1], &r);
    CHECK_EQ_INT(r.i, 5);
    engine_agg_result(&sum, &st[2], &r);
    CHECK_EQ_INT(r.i, 8);
    engine_agg_result(&cd, &st[4], &r);
    CHECK_EQ_INT(r.i, 2);
    /* The state survives encoding; a corrupt multiplicity is refused. */
    for (size_t a = 0; a < 6; a++) {
        wr_t w;
        wr_init(&w, 64);
        engine_agg_encode(&w, all[a], &st[a]);
        rd_t rd = rd_init(w.buf, w.len);
        engine_agg_state_t back;
        REQUIRE_OK(engine_agg_decode(&rd, all[a], &back, &A));
        engine_val_t x, y;
        engine_agg_result(all[a], &st[a], &x);
        engine_agg_result(all[a], &back, &y);
        CHECK(engine_val_eq(&x, &y));
        wr_free(&w);
    }
    const uint8_t bad[] = {2, 1, ENGINE_INT, 6, 0};
    rd_t rd = rd_init(bad, sizeof bad);
    engine_agg_state_t back;
    CHECK_EQ_INT(engine_agg_decode(&rd, &mn, &back, &A), EDDY_ERR_CORRUPT);
    /* Merging partial states (batch jobs) adds them. */
    engine_agg_state_t m2 = {0};
    REQUIRE_OK(engine_agg_merge(&sum, &m2, &st[2], &A));
    REQUIRE_OK(engine_agg_merge(&sum, &m2, &st[2], &A));
    engine_agg_result(&sum, &m2, &r);
    CHECK_EQ_INT(r.i, 16);
    CHECK_EQ_INT(engine_agg_lookup("COUNT", 5, true, false), AGG_COUNT_DISTINCT);
    CHECK_EQ_INT(engine_agg_lookup("count", 5, false, true), AGG_COUNT_STAR);
    CHECK_EQ_INT(engine_agg_lookup("lower", 5, false, false), -1);
    arena_free(&A);
}
