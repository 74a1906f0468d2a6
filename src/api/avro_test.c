/* Unit tests for Avro schemas, values and compatibility. */
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"
#include "test.h"

static api_avro_schema_t *parse_ok(const char *text) {
    api_avro_schema_t *s = NULL;
    char err[256] = "";
    int rc = api_avro_schema_parse(text, strlen(text), &s, err, sizeof err);
    if (rc != EDDY_OK) test_fail(__FILE__, __LINE__, "schema %s: %s", text, err);
    return s;
}

TEST(avro_schema_parses_and_normalizes) {
    const char *cases[][2] = {
        {"\"int\"", "\"int\""},
        {" { \"type\" : \"string\" } ", "\"string\""},
        {"{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}", "{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}"},
        {"[\"null\",{\"type\":\"array\",\"items\":\"string\"}]", "[\"null\",{\"type\":\"array\",\"items\":\"string\"}]"},
        /* attribute order does not matter; namespace and references are written once */
        {"{\"fields\":[{\"type\":\"int\",\"name\":\"a\",\"default\":1},{\"name\":\"next\",\"type\":[\"null\",\"L\"]}],"
         "\"namespace\":\"x.y\",\"name\":\"L\",\"type\":\"record\"}",
         "{\"type\":\"record\",\"name\":\"L\",\"namespace\":\"x.y\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":1},"
         "{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}"},
        {"{\"type\":\"enum\",\"name\":\"Suit\",\"symbols\":[\"SPADES\",\"HEARTS\"],\"default\":\"SPADES\"}",
         "{\"type\":\"enum\",\"name\":\"Suit\",\"symbols\":[\"SPADES\",\"HEARTS\"],\"default\":\"SPADES\"}"},
        {"{\"type\":\"fixed\",\"name\":\"md5\",\"size\":16,\"aliases\":[\"hash\"]}",
         "{\"type\":\"fixed\",\"name\":\"md5\",\"size\":16,\"aliases\":[\"hash\"]}"},
        {"{\"type\":\"map\",\"values\":{\"type\":\"record\",\"name\":\"a.b.R\",\"fields\":[]}}",
         "{\"type\":\"map\",\"values\":{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\",\"fields\":[]}}"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(cases); i++) {
        api_avro_schema_t *s = parse_ok(cases[i][0]);
        if (!s) continue;
        CHECK_EQ_STR(s->text, cases[i][1]);
        /* The normalized text parses back to itself. */
        api_avro_schema_t *again = parse_ok(s->text);
        if (again) CHECK_EQ_STR(again->text, s->text);
        api_avro_schema_free(again);
        api_avro_schema_free(s);
    }
}

TEST(avro_schema_rejects_what_the_spec_forbids) {
    const char *bad[][2] = {
        {"{", "not valid JSON"},
        {"\"integer\"", "undefined name: integer"},
        {"{\"type\":\"record\",\"fields\":[]}", "needs a string \"name\""},
        {"{\"type\":\"record\",\"name\":\"1x\",\"fields\":[]}", "invalid name"},
        {"{\"type\":\"record\",\"name\":\"R\"}", "needs a \"fields\" array"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"a\",\"type\":\"int\"}]}", "duplicate field a"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":\"x\"}]}", "invalid default for field a"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":[\"string\",\"null\"],\"default\":null}]}", "invalid default"},
        {"[\"int\",[\"null\"]]", "may not immediately contain other unions"},
        {"[\"int\",\"int\"]", "duplicate in union: int"},
        {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}", "duplicate enum symbol A"},
        {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"B\"}", "not one of its symbols"},
        {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}", "non-negative integer"},
        {"{\"type\":\"array\"}", "needs \"items\""},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}}]}", "can't redefine: R"},
        {"{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}", "can't redefine: int"},
        {"42", "must be a type name"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(bad); i++) {
        api_avro_schema_t *s = NULL;
        char err[256] = "";
        int rc = api_avro_schema_parse(bad[i][0], strlen(bad[i][0]), &s, err, sizeof err);
        CHECK(rc == EDDY_ERR_INVALID);
        CHECK(s == NULL);
        if (!strstr(err, bad[i][1])) test_fail(__FILE__, __LINE__, "%s: '%s' lacks '%s'", bad[i][0], err, bad[i][1]);
    }
    /* Deep nesting is refused, not recursed into. */
    wr_t w;
    wr_init(&w, 0);
    for (int i = 0; i < 200; i++) wr_str(&w, "{\"type\":\"array\",\"items\":");
    wr_str(&w, "\"int\"");
    for (int i = 0; i < 200; i++) wr_u8(&w, '}');
    api_avro_schema_t *s = NULL;
    char err[128];
    CHECK(api_avro_schema_parse((char *)w.buf, w.len, &s, err, sizeof err) == EDDY_ERR_INVALID);
    wr_free(&w);
}

static char *hexstr(const uint8_t *p, size_t n) {
    static char buf[1024];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < sizeof buf; i++) k += (size_t)snprintf(buf + k, sizeof buf - k, "%02x", p[i]);
    buf[k] = 0;
    return buf;
}

/* Encodes json with schema, checks the bytes, decodes them back and checks the JSON. */
static void roundtrip(const char *schema, const char *json, const char *hex, const char *back) {
    api_avro_schema_t *s = parse_ok(schema);
    REQUIRE(s);
    json_doc_t d;
    json_doc_init(&d);
    REQUIRE_OK(json_parse(&d, json, strlen(json)));
    wr_t w, out;
    wr_init(&w, 0);
    wr_init(&out, 0);
    char err[256] = "";
    int rc = api_avro_encode_json(s, &d, 0, &w, err, sizeof err);
    if (rc) test_fail(__FILE__, __LINE__, "encode %s: %s", json, err);
    CHECK_EQ_STR(hexstr(w.buf, w.len), hex);
    rd_t r = rd_init(w.buf, w.len);
    rc = api_avro_decode_json(s, &r, &out, err, sizeof err);
    if (rc) test_fail(__FILE__, __LINE__, "decode %s: %s", hex, err);
    CHECK_EQ_INT(r.pos, w.len);
    wr_u8(&out, 0);
    CHECK_EQ_STR((char *)out.buf, back);
    wr_free(&w);
    wr_free(&out);
    json_doc_free(&d);
    api_avro_schema_free(s);
}

TEST(avro_values_encode_and_decode) {
    /* The specification's example: a record of a long 27 and the string "foo". */
    roundtrip("{\"type\":\"record\",\"name\":\"test\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"},{\"name\":\"b\",\"type\":\"string\"}]}",
              "{\"a\":27,\"b\":\"foo\"}", "3606666f6f", "{\"a\":27,\"b\":\"foo\"}");
    roundtrip("[\"null\",\"string\"]", "{\"string\":\"a\"}", "020261", "{\"string\":\"a\"}");
    roundtrip("[\"null\",\"string\"]", "\"a\"", "020261", "{\"string\":\"a\"}"); /* untagged */
    roundtrip("[\"null\",\"string\"]", "null", "00", "null");
    roundtrip("{\"type\":\"array\",\"items\":\"int\"}", "[3,27]", "04063600", "[3,27]");
    roundtrip("{\"type\":\"array\",\"items\":\"int\"}", "[]", "00", "[]");
    roundtrip("{\"type\":\"map\",\"values\":\"boolean\"}", "{\"k\":true}", "02026b0100", "{\"k\":true}");
    roundtrip("\"bytes\"", "\"\\u00ff\\u0000A\"", "06ff0041", "\"\\u00ff\\u0000A\"");
    roundtrip("{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}", "\"ab\"", "6162", "\"ab\"");
    roundtrip("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}", "\"B\"", "02", "\"B\"");
    roundtrip("\"double\"", "1.5", "000000000000f83f", "1.5");
    roundtrip("\"float\"", "-2", "000000c0", "-2");
    roundtrip("\"long\"", "-1", "01", "-1");
    roundtrip("\"string\"", "\"caf\\u00e9\"", "0a636166c3a9", "\"caf\xc3\xa9\"");
    /* A missing field takes its default; a union default is its first branch. */
    roundtrip("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":[\"null\",\"int\"],\"default\":null},"
              "{\"name\":\"b\",\"type\":\"int\",\"default\":7}]}",
              "{}", "000e", "{\"a\":null,\"b\":7}");
    /* Recursive: a linked list. */
    roundtrip("{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}",
              "{\"v\":1,\"next\":{\"L\":{\"v\":2,\"next\":null}}}", "02020400", "{\"v\":1,\"next\":{\"L\":{\"v\":2,\"next\":null}}}");
}

TEST(avro_encoding_errors_name_the_path) {
    const char *schema = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
                         "{\"name\":\"n\",\"type\":\"int\"}]}";
    api_avro_schema_t *s = parse_ok(schema);
    REQUIRE(s);
    const char *bad[][2] = {
        {"{\"tags\":[\"a\",3],\"n\":1}", "/tags/1: expected a string"},
        {"{\"tags\":[],\"n\":4294967296}", "/n: expected an int"},
        {"{\"tags\":[]}", "/n: expected a value (the field is missing"},
        {"[]", "/: expected an object for record R"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(bad); i++) {
        json_doc_t d;
        json_doc_init(&d);
        REQUIRE_OK(json_parse(&d, bad[i][0], strlen(bad[i][0])));
        wr_t w;
        wr_init(&w, 0);
        char err[256] = "";
        CHECK(api_avro_encode_json(s, &d, 0, &w, err, sizeof err) == EDDY_ERR_INVALID);
        if (!strstr(err, bad[i][1])) test_fail(__FILE__, __LINE__, "%s: '%s' lacks '%s'", bad[i][0], err, bad[i][1]);
        wr_free(&w);
        json_doc_free(&d);
    }
    api_avro_schema_free(s);
}

TEST(avro_decoding_refuses_bad_bytes) {
    api_avro_schema_t *arr = parse_ok("{\"type\":\"array\",\"items\":\"null\"}");
    api_avro_schema_t *str = parse_ok("\"string\"");
    api_avro_schema_t *uni = parse_ok("[\"null\",\"int\"]");
    REQUIRE(arr && str && uni);
    struct {
        api_avro_schema_t *s;
        const char *bytes;
        size_t n;
    } bad[] = {
        {arr, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10}, /* 2^62 nulls */
        {str, "\x0a" "ab", 3},                                  /* 5 bytes announced, 2 there */
        {str, "\x04\xc3\x28", 3},                               /* not UTF-8 */
        {str, "\x01", 1},                                       /* negative length */
        {uni, "\x04", 1},                                       /* branch 2 of 2 */
        {uni, "\x02", 1},                                       /* truncated int */
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(bad); i++) {
        rd_t r = rd_init(bad[i].bytes, bad[i].n);
        wr_t w;
        wr_init(&w, 0);
        char err[128];
        if (api_avro_decode_json(bad[i].s, &r, &w, err, sizeof err) != EDDY_ERR_CORRUPT)
            test_fail(__FILE__, __LINE__, "case %zu decoded", i);
        wr_free(&w);
    }
    uint8_t wire[] = {0, 0, 0, 1, 44, 2};
    rd_t r = rd_init(wire, sizeof wire);
    uint32_t id;
    CHECK_OK(api_avro_wire_parse(&r, &id));
    CHECK_EQ_INT(id, 300);
    wire[0] = 1;
    r = rd_init(wire, sizeof wire);
    CHECK(api_avro_wire_parse(&r, &id) == EDDY_ERR_CORRUPT);
    api_avro_schema_free(arr);
    api_avro_schema_free(str);
    api_avro_schema_free(uni);
}

static bool compat(const char *reader, const char *writer, char *msg, size_t n) {
    api_avro_schema_t *r = parse_ok(reader), *w = parse_ok(writer);
    bool ok = r && w && api_avro_compatible(r->root, w->root, msg, n);
    api_avro_schema_free(r);
    api_avro_schema_free(w);
    return ok;
}

TEST(avro_compatibility_follows_the_resolution_rules) {
#define REC(fields) "{\"type\":\"record\",\"name\":\"Leaf\",\"namespace\":\"org.anant\",\"fields\":[" fields "]}"
    const char *v1 = REC("{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"int\"}");
    const char *added_default = REC("{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"int\"},"
                                    "{\"name\":\"tags\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"string\"}],\"default\":null}");
    const char *added_required = REC("{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"int\"},{\"name\":\"title\",\"type\":\"string\"}");
    const char *promoted = REC("{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"long\"}");
    const char *renamed_alias = REC("{\"name\":\"key\",\"aliases\":[\"id\"],\"type\":\"string\"},{\"name\":\"n\",\"type\":\"int\"}");
    char msg[512];
    struct {
        const char *reader, *writer;
        bool ok;
        const char *why;
    } cases[] = {
        {added_default, v1, true, NULL},     /* new field with a default: backward */
        {v1, added_default, true, NULL},     /* and forward (the old reader ignores it) */
        {added_required, v1, false, "READER_FIELD_MISSING_DEFAULT_VALUE at /fields/2"},
        {v1, added_required, true, NULL},
        {promoted, v1, true, NULL},          /* int -> long */
        {v1, promoted, false, "TYPE_MISMATCH at /fields/1/type"},
        {renamed_alias, v1, true, NULL},
        {"\"bytes\"", "\"string\"", true, NULL},
        {"\"double\"", "\"int\"", true, NULL},
        {"\"int\"", "\"float\"", false, "TYPE_MISMATCH"},
        {"[\"null\",\"string\"]", "\"string\"", true, NULL},
        {"\"string\"", "[\"null\",\"string\"]", false, "TYPE_MISMATCH at /0"},
        {"[\"null\",\"long\"]", "[\"null\",\"int\"]", true, NULL},
        {"[\"null\",\"int\"]", "\"string\"", false, "MISSING_UNION_BRANCH"},
        {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", true, NULL},
        {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}", false, "MISSING_ENUM_SYMBOLS"},
        {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"A\"}", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}", true, NULL},
        {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":8}", false, "FIXED_SIZE_MISMATCH"},
        {"{\"type\":\"record\",\"name\":\"A\",\"fields\":[]}", "{\"type\":\"record\",\"name\":\"B\",\"fields\":[]}", false, "NAME_MISMATCH"},
        {"{\"type\":\"record\",\"name\":\"x.A\",\"fields\":[]}", "{\"type\":\"record\",\"name\":\"y.A\",\"fields\":[]}", true, NULL},
        {"{\"type\":\"array\",\"items\":\"long\"}", "{\"type\":\"array\",\"items\":\"int\"}", true, NULL},
        {"{\"type\":\"map\",\"values\":\"int\"}", "{\"type\":\"map\",\"values\":\"long\"}", false, "at /values"},
        /* Recursive schemas terminate. */
        {"{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"next\",\"type\":[\"null\",\"L\"]},{\"name\":\"v\",\"type\":\"long\",\"default\":0}]}",
         "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}", true, NULL},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(cases); i++) {
        msg[0] = 0;
        bool ok = compat(cases[i].reader, cases[i].writer, msg, sizeof msg);
        if (ok != cases[i].ok) test_fail(__FILE__, __LINE__, "case %zu: got %d (%s)", i, ok, msg);
        if (!ok && cases[i].why && !strstr(msg, cases[i].why))
            test_fail(__FILE__, __LINE__, "case %zu: '%s' lacks '%s'", i, msg, cases[i].why);
    }
#undef REC
}

TEST(avro_project_leaf_schema_round_trips_a_leaf) {
    size_t len;
    char *text = test_read_file("examples/data/leaves-record.avsc", &len);
    REQUIRE(text);
    api_avro_schema_t *s = NULL;
    char err[256];
    REQUIRE_OK(api_avro_schema_parse(text, len, &s, err, sizeof err));
    CHECK(strstr(s->text, "\"logicalType\":\"timestamp-millis\"") != NULL);
    /* As the workshop's REST-proxy importer sends it: unions tagged, timestamps as epoch ms. */
    const char *leaf =
        "{\"is_archived\":1,\"all\":[\"1\",\"kafka\"],\"is_starred\":0,\"user_name\":\"admin\",\"user_email\":\"e@example.org\","
        "\"user_id\":1,\"tags\":{\"array\":[\"kafka\"]},\"slugs\":{\"array\":[\"kafka\"]},\"is_public\":false,\"id\":\"21001\","
        "\"title\":\"T\",\"url\":\"https://x.org/a\",\"content_text\":{\"string\":\"text\"},\"created_at\":1564782312000,"
        "\"updated_at\":1564782318000,\"mimetype\":{\"string\":\"text/html\"},\"language\":null,\"reading_time\":17,"
        "\"domain_name\":\"x.org\",\"preview_picture\":null,\"http_status\":{\"int\":200},\"_links\":[\"/api/entries/21001\"],"
        "\"published_by\":null,\"published_at\":null,\"content\":{\"string\":\"<p>text</p>\"}}";
    json_doc_t d;
    json_doc_init(&d);
    REQUIRE_OK(json_parse(&d, leaf, strlen(leaf)));
    wr_t bin, back;
    wr_init(&bin, 0);
    wr_init(&back, 0);
    api_avro_wire_header(&bin, 7);
    if (api_avro_encode_json(s, &d, 0, &bin, err, sizeof err) != EDDY_OK) test_fail(__FILE__, __LINE__, "%s", err);
    rd_t r = rd_init(bin.buf, bin.len);
    uint32_t id;
    REQUIRE_OK(api_avro_wire_parse(&r, &id));
    CHECK_EQ_INT(id, 7);
    REQUIRE_OK(api_avro_decode_json(s, &r, &back, err, sizeof err));
    wr_u8(&back, 0);
    CHECK_EQ_STR((char *)back.buf, leaf);
    json_doc_free(&d);
    free(text);
    wr_free(&bin);
    wr_free(&back);
    api_avro_schema_free(s);
}
