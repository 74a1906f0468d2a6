/* Type tests against vectors made by the DataStax Python driver (scripts/gen_store_vectors.py):
 * every value's serialized bytes, its CQL literal, Cassandra's order (comparator and the
 * order-preserving key encoding, ASC and DESC), key decoding, text and JSON round trips; and
 * Murmur3 tokens of thousands of simple and composite keys. Plus type strings and options. */
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"
#include "test.h"

typedef struct {
    char type[128];
    int rank;
    uint8_t *bytes;
    size_t len;
    char literal[512];
} vec_t;

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static size_t unhex(const char *s, size_t n, uint8_t *out) {
    for (size_t i = 0; i + 1 < n; i += 2) out[i / 2] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
    return n / 2;
}

static vec_t *load_vectors(size_t *count) {
    char path[512];
    snprintf(path, sizeof path, "%s/store_types.tsv", test_data_dir());
    size_t len;
    char *text = test_read_file(path, &len);
    if (!text) return NULL;
    size_t cap = 1024, n = 0;
    vec_t *v = calloc(cap, sizeof *v);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *f[4];
        int k = 0;
        for (char *p = line; k < 4;) {
            f[k++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = 0;
            p = tab + 1;
        }
        if (k < 4) continue;
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        snprintf(v[n].type, sizeof v[n].type, "%s", f[0]);
        v[n].rank = atoi(f[1]);
        v[n].bytes = malloc(strlen(f[2]) / 2 + 1);
        v[n].len = unhex(f[2], strlen(f[2]), v[n].bytes);
        snprintf(v[n].literal, sizeof v[n].literal, "%s", f[3]);
        n++;
    }
    free(text);
    *count = n;
    return v;
}

static int sgn(long x) { return x < 0 ? -1 : x > 0; }

TEST(store_types_driver_vectors) {
    size_t n;
    vec_t *v = load_vectors(&n);
    REQUIRE(v && n > 500);
    char err[256];
    size_t literal_checked = 0, pairs = 0;
    for (size_t i = 0; i < n; i++) {
        const store_type_t *t = NULL;
        if (store_type_parse(NULL, NULL, v[i].type, strlen(v[i].type), &t, err, sizeof err)) {
            test_fail(__FILE__, __LINE__, "type %s: %s", v[i].type, err);
            continue;
        }
        /* the printed type is what was parsed */
        char tb[256];
        CHECK_EQ_STR(store_type_cstr(t, tb, sizeof tb), v[i].type);
        if (store_value_validate(t, v[i].bytes, v[i].len, err, sizeof err))
            test_fail(__FILE__, __LINE__, "%s %s does not validate: %s", v[i].type, v[i].literal, err);
        /* the literal parses to exactly the driver's bytes */
        if (strcmp(v[i].literal, "-")) {
            wr_t w;
            wr_init(&w, 64);
            bool is_null;
            if (store_value_parse_cql(t, v[i].literal, strlen(v[i].literal), &w, &is_null, err, sizeof err))
                test_fail(__FILE__, __LINE__, "%s literal %s: %s", v[i].type, v[i].literal, err);
            else if (w.len != v[i].len || (w.len && memcmp(w.buf, v[i].bytes, w.len)))
                test_fail(__FILE__, __LINE__, "%s literal %s parses to different bytes", v[i].type, v[i].literal);
            literal_checked++;
            wr_free(&w);
        }
        /* printing and JSON read back as the same value */
        wr_t txt, back, js;
        wr_init(&txt, 64);
        wr_init(&back, 64);
        wr_init(&js, 64);
        store_value_format_cql(t, v[i].bytes, v[i].len, &txt);
        bool is_null = false;
        if (store_value_parse_cql(t, (const char *)txt.buf, txt.len, &back, &is_null, err, sizeof err) ||
            store_value_compare(t, back.buf, back.len, v[i].bytes, v[i].len) != 0)
            test_fail(__FILE__, __LINE__, "%s %s: printed as %.*s, does not read back (%s)", v[i].type, v[i].literal,
                      (int)txt.len, txt.buf, err);
        store_value_to_json(t, v[i].bytes, v[i].len, &js);
        wr_reset(&back);
        bool nan = strstr(v[i].literal, "NaN") || strstr(v[i].literal, "Infinity");
        if (!nan && (store_value_from_json_text(t, (const char *)js.buf, js.len, &back, &is_null, err, sizeof err) ||
                     store_value_compare(t, back.buf, back.len, v[i].bytes, v[i].len) != 0))
            test_fail(__FILE__, __LINE__, "%s %s: JSON %.*s does not read back (%s)", v[i].type, v[i].literal, (int)js.len,
                      js.buf, err);
        wr_free(&txt);
        wr_free(&back);
        wr_free(&js);
        /* order: comparator and key encodings agree with Cassandra's ranks */
        if (v[i].rank >= 0) {
            wr_t ki, kid;
            wr_init(&ki, 64);
            wr_init(&kid, 64);
            store_okey_encode(t, v[i].bytes, v[i].len, false, &ki);
            store_okey_encode(t, v[i].bytes, v[i].len, true, &kid);
            /* the key decodes to an equal value */
            rd_t r = rd_init(ki.buf, ki.len);
            wr_t dec;
            wr_init(&dec, 64);
            if (store_okey_decode(t, &r, false, &dec, &is_null) || rd_remaining(&r) ||
                store_value_compare(t, dec.buf, dec.len, v[i].bytes, v[i].len) != 0)
                test_fail(__FILE__, __LINE__, "%s %s: key does not decode back", v[i].type, v[i].literal);
            wr_reset(&dec);
            r = rd_init(kid.buf, kid.len);
            if (store_okey_decode(t, &r, true, &dec, &is_null) || rd_remaining(&r) ||
                store_value_compare(t, dec.buf, dec.len, v[i].bytes, v[i].len) != 0)
                test_fail(__FILE__, __LINE__, "%s %s: DESC key does not decode back", v[i].type, v[i].literal);
            wr_free(&dec);
            for (size_t j = 0; j < n; j++) {
                if (j == i || strcmp(v[j].type, v[i].type) || v[j].rank < 0) continue;
                int want = sgn(v[i].rank - v[j].rank);
                int got = sgn(store_value_compare(t, v[i].bytes, v[i].len, v[j].bytes, v[j].len));
                if (got != want)
                    test_fail(__FILE__, __LINE__, "%s compare(%s, %s) = %d, Cassandra %d", v[i].type, v[i].literal,
                              v[j].literal, got, want);
                wr_t kj, kjd;
                wr_init(&kj, 64);
                wr_init(&kjd, 64);
                store_okey_encode(t, v[j].bytes, v[j].len, false, &kj);
                store_okey_encode(t, v[j].bytes, v[j].len, true, &kjd);
                if (sgn(store_bytes_cmp(ki.buf, ki.len, kj.buf, kj.len)) != want)
                    test_fail(__FILE__, __LINE__, "%s key order (%s, %s) wrong", v[i].type, v[i].literal, v[j].literal);
                if (sgn(store_bytes_cmp(kid.buf, kid.len, kjd.buf, kjd.len)) != -want)
                    test_fail(__FILE__, __LINE__, "%s DESC key order (%s, %s) wrong", v[i].type, v[i].literal, v[j].literal);
                wr_free(&kj);
                wr_free(&kjd);
                pairs++;
            }
            wr_free(&ki);
            wr_free(&kid);
        }
        store_type_release(t);
    }
    CHECK(literal_checked > 400);
    CHECK(pairs > 10000);
    for (size_t i = 0; i < n; i++) free(v[i].bytes);
    free(v);
}

static const store_table_t *blob_table(store_t *st, const char *name, size_t npk) {
    char err[256];
    store_strmap_t rep = {2, (const char *[]){"class", "replication_factor"}, (const char *[]){"SimpleStrategy", "1"}};
    store_keyspace_create(st, "ks", &rep, true, true, NULL, err, sizeof err);
    store_column_spec_t cols[3];
    const char *names[] = {"a", "b", "c"};
    for (size_t i = 0; i < npk; i++) {
        cols[i].name = names[i];
        cols[i].type = store_type_native(STORE_T_BLOB);
        cols[i].kind = STORE_COL_PARTITION_KEY;
        cols[i].desc = false;
    }
    if (store_table_create(st, "ks", name, cols, npk, NULL, 0, false, NULL, err, sizeof err)) return NULL;
    const store_table_t *t = NULL;
    store_table_lookup(st, "ks", name, &t, err, sizeof err);
    return t;
}

TEST(store_murmur3_driver_vectors) {
    char path[512];
    snprintf(path, sizeof path, "%s/store_murmur3.tsv", test_data_dir());
    size_t len;
    char *text = test_read_file(path, &len);
    REQUIRE(text);
    store_t *st = NULL;
    char err[256];
    REQUIRE(store_open(test_tmpdir(), NULL, &st, err, sizeof err) == 0);
    const store_table_t *t1 = blob_table(st, "one", 1), *t2 = blob_table(st, "two", 2), *t3 = blob_table(st, "three", 3);
    REQUIRE(t1 && t2 && t3);
    size_t simple = 0, composite = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *a = strchr(line, '\t');
        char *b = a ? strchr(a + 1, '\t') : NULL;
        if (!a || !b) continue;
        *a = *b = 0;
        long long want = strtoll(b + 1, NULL, 10);
        uint8_t buf[512];
        if (line[0] == 'S') {
            size_t n = unhex(a + 1, strlen(a + 1), buf);
            CHECK_EQ_INT(murmur3_token(buf, n), want);
            eddy_view_t v = eddy_view(buf, n);
            CHECK_EQ_INT(store_token(t1, &v), want);
            simple++;
        } else {
            eddy_view_t comps[3];
            size_t nc = 0, off = 0;
            for (char *c = a + 1; c && nc < 3; nc++) {
                char *comma = strchr(c, ',');
                size_t hl = comma ? (size_t)(comma - c) : strlen(c);
                size_t n = unhex(c, hl, buf + off);
                comps[nc] = eddy_view(buf + off, n);
                off += n;
                c = comma ? comma + 1 : NULL;
            }
            CHECK_EQ_INT(store_token(nc == 2 ? t2 : t3, comps), want);
            /* and the row key of that partition carries the same token */
            wr_t k;
            wr_init(&k, 64);
            size_t pkl;
            int64_t tok;
            CHECK_OK(store_key_build(nc == 2 ? t2 : t3, comps, nc, &k, &pkl, &tok, err, sizeof err));
            CHECK_EQ_INT(tok, want);
            CHECK_EQ_INT(store_token_from_bytes(k.buf + 4), want);
            wr_free(&k);
            composite++;
        }
    }
    CHECK(simple >= 3000);
    CHECK(composite >= 1000);
    free(text);
    store_table_release(t1);
    store_table_release(t2);
    store_table_release(t3);
    store_close(st);
}

TEST(store_type_strings_and_options) {
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"int", "int"},
        {"VARCHAR", "text"},
        {"list<text>", "list<text>"},
        {"frozen<map<text, int>>", "frozen<map<text, int>>"},
        {"map<text,frozen<list<int>>>", "map<text, frozen<list<int>>>"},
        {"frozen<list<list<int>>>", "frozen<list<frozen<list<int>>>>"},
        {"tuple<int, text>", "frozen<tuple<int, text>>"},
        {"frozen<tuple<int,tuple<int>>>", "frozen<tuple<int, frozen<tuple<int>>>>"},
        {"set<timeuuid>", "set<timeuuid>"},
    };
    char err[256], tb[256];
    for (size_t i = 0; i < EDDY_ARRAY_LEN(cases); i++) {
        const store_type_t *t = NULL;
        CHECK_OK(store_type_parse(NULL, NULL, cases[i].in, strlen(cases[i].in), &t, err, sizeof err));
        if (!t) continue;
        CHECK_EQ_STR(store_type_cstr(t, tb, sizeof tb), cases[i].out);
        /* the [option] round trip */
        wr_t w;
        wr_init(&w, 64);
        store_type_write_option(t, &w);
        rd_t r = rd_init(w.buf, w.len);
        const store_type_t *u = NULL;
        CHECK_OK(store_type_read_option(&r, &u, err, sizeof err));
        CHECK(u && u->kind == t->kind && u->nsub == t->nsub);
        store_type_release(u);
        wr_free(&w);
        store_type_release(t);
    }
    static const struct {
        const char *in, *err;
    } bad[] = {
        {"list<list<int>>", "Non-frozen collections are not allowed inside collections: list<list<int>>"},
        {"set<duration>", "Durations are not allowed inside sets: set<duration>"},
        {"map<duration, int>", "Durations are not allowed as map keys: map<duration, int>"},
        {"list<counter>", "Counters are not allowed inside collections: list<counter>"},
        {"frozen<int>", "frozen<> is only allowed on collections, tuples, and user-defined types"},
        {"address", "Unknown type address"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(bad); i++) {
        const store_type_t *t = NULL;
        CHECK_EQ_INT(store_type_parse(NULL, NULL, bad[i].in, strlen(bad[i].in), &t, err, sizeof err), EDDY_ERR_INVALID);
        CHECK_EQ_STR(err, bad[i].err);
    }
    /* the [option] of a list<int> is 0x0020 0x0009 */
    const store_type_t *t = NULL;
    CHECK_OK(store_type_parse(NULL, NULL, "list<int>", 9, &t, err, sizeof err));
    wr_t w;
    wr_init(&w, 16);
    store_type_write_option(t, &w);
    CHECK_EQ_MEM(w.buf, w.len, "\x00\x20\x00\x09", 4);
    wr_free(&w);
    store_type_release(t);
}

TEST(store_value_text_forms) {
    static const struct {
        const char *type, *literal, *json, *text;
    } cases[] = {
        {"timestamp", "'2014-01-01 00:00:00+0000'", "\"2014-01-01 00:00:00.000Z\"", "2014-01-01T00:00:00.000Z"},
        {"timestamp", "1388534400000", "\"2014-01-01 00:00:00.000Z\"", "2014-01-01T00:00:00.000Z"},
        {"date", "'2024-02-29'", "\"2024-02-29\"", "2024-02-29"},
        {"time", "'13:30:54.234'", "\"13:30:54.234000000\"", "13:30:54.234000000"},
        {"double", "1.0", "1.0", "1.0"},
        {"double", "1e10", "1.0E10", "1.0E10"},
        {"double", "0.001", "0.001", "0.001"},
        {"double", "0.0001", "1.0E-4", "1.0E-4"},
        {"float", "0.1", "0.1", "0.1"},
        {"decimal", "1.50", "1.50", "1.50"},
        {"decimal", "0.0000001", "1E-7", "1E-7"},
        {"decimal", "-12E+3", "-1.2E+4", "-1.2E+4"},
        {"varint", "-123456789012345678901234567890", "-123456789012345678901234567890", "-123456789012345678901234567890"},
        {"blob", "0xCAFE", "\"0xcafe\"", "cafe"},
        {"boolean", "TRUE", "true", "true"},
        {"inet", "'::1'", "\"::1\"", "::1"},
        {"duration", "1h30m", "\"1h30m\"", "1h30m"},
        {"duration", "P1Y2M3DT4H5M6S", "\"1y2mo3d4h5m6s\"", "1y2mo3d4h5m6s"},
        {"text", "'it''s \"x\"'", "\"it's \\\"x\\\"\"", "it's \"x\""},
        {"map<int, text>", "{2: 'b', 1: 'a'}", "{\"1\": \"a\", \"2\": \"b\"}", "{1: 'a', 2: 'b'}"},
        {"set<text>", "{'b', 'a', 'b'}", "[\"a\", \"b\"]", "{'a', 'b'}"},
        {"frozen<tuple<int, text>>", "(1, null)", "[1, null]", "(1, null)"},
    };
    char err[256];
    for (size_t i = 0; i < EDDY_ARRAY_LEN(cases); i++) {
        const store_type_t *t = NULL;
        REQUIRE(store_type_parse(NULL, NULL, cases[i].type, strlen(cases[i].type), &t, err, sizeof err) == 0);
        wr_t v, js, tx;
        wr_init(&v, 32);
        wr_init(&js, 32);
        wr_init(&tx, 32);
        bool is_null;
        if (store_value_parse_cql(t, cases[i].literal, strlen(cases[i].literal), &v, &is_null, err, sizeof err)) {
            test_fail(__FILE__, __LINE__, "%s %s: %s", cases[i].type, cases[i].literal, err);
        } else {
            store_value_to_json(t, v.buf, v.len, &js);
            wr_u8(&js, 0);
            CHECK_EQ_STR((const char *)js.buf, cases[i].json);
            store_value_format_text(t, v.buf, v.len, &tx);
            wr_u8(&tx, 0);
            CHECK_EQ_STR((const char *)tx.buf, cases[i].text);
        }
        wr_free(&v);
        wr_free(&js);
        wr_free(&tx);
        store_type_release(t);
    }
    /* INSERT JSON's lenient forms */
    static const struct {
        const char *type, *json, *literal;
    } lenient[] = {
        {"int", "\"1\"", "1"},
        {"int", "1", "1"},
        {"boolean", "\"False\"", "false"},
        {"boolean", "\"\"", "false"},
        {"timestamp", "1388534400000", "1388534400000"},
        {"timestamp", "\"2014-01-01\"", "1388534400000"},
        {"bigint", "\"-5\"", "-5"},
        {"double", "\"1.5\"", "1.5"},
        {"decimal", "1.25", "1.25"},
        {"list<int>", "\"[1, 2]\"", "[1, 2]"},
        {"map<int, boolean>", "{\"1\": true}", "{1: true}"},
        {"blob", "\"0x00ff\"", "0x00ff"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(lenient); i++) {
        const store_type_t *t = NULL;
        REQUIRE(store_type_parse(NULL, NULL, lenient[i].type, strlen(lenient[i].type), &t, err, sizeof err) == 0);
        wr_t a, b;
        wr_init(&a, 32);
        wr_init(&b, 32);
        bool is_null;
        if (store_value_from_json_text(t, lenient[i].json, strlen(lenient[i].json), &a, &is_null, err, sizeof err))
            test_fail(__FILE__, __LINE__, "%s from JSON %s: %s", lenient[i].type, lenient[i].json, err);
        CHECK_OK(store_value_parse_cql(t, lenient[i].literal, strlen(lenient[i].literal), &b, &is_null, err, sizeof err));
        CHECK_EQ_MEM(a.buf, a.len, b.buf, b.len);
        wr_free(&a);
        wr_free(&b);
        store_type_release(t);
    }
    const store_type_t *ts = store_type_native(STORE_T_TIMESTAMP);
    wr_t x;
    wr_init(&x, 16);
    bool is_null;
    CHECK_EQ_INT(store_value_from_json_text(ts, "1.5", 3, &x, &is_null, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Expected a long or a datestring representation of a timestamp value, but got a Double: 1.5");
    CHECK_EQ_INT(store_value_from_json_text(store_type_native(STORE_T_TEXT), "12", 2, &x, &is_null, err, sizeof err),
                 EDDY_ERR_INVALID);
    CHECK_EQ_INT(store_value_from_json_text(ts, "null", 4, &x, &is_null, err, sizeof err), EDDY_OK);
    CHECK(is_null);
    wr_free(&x);
}
