/* Unit tests for the JSON parser and writer. */
#include <stdlib.h>

#include "base/base.h"
#include "test.h"

static int parse(json_doc_t *d, const char *s) { return json_parse(d, s, strlen(s)); }

TEST(json_parses_nested_documents) {
    json_doc_t d;
    json_doc_init(&d);
    const char *text = " {\"id\": \"abc\", \"n\": -12, \"f\": 1.5e3, \"tags\": [\"a\", \"b\\\"c\"],"
                       " \"o\": {\"x\": null, \"t\": true, \"f\": false}, \"e\": [], \"eo\": {}} ";
    REQUIRE_OK(parse(&d, text));
    CHECK_EQ_INT(d.nodes[0].type, JSON_OBJECT);
    CHECK_EQ_INT(d.nodes[0].count, 7);
    CHECK_EQ_INT(d.nodes[0].end, d.count);
    int64_t id = json_object_get(&d, 0, "id", 2);
    REQUIRE(id > 0);
    CHECK(json_string_eq(&d.nodes[id], "abc", 3));
    int64_t n = json_object_get(&d, 0, "n", 1), v;
    CHECK_OK(json_number_i64(&d.nodes[n], &v));
    CHECK_EQ_INT(v, -12);
    double f;
    int64_t fi = json_object_get(&d, 0, "f", 1);
    CHECK(json_number_i64(&d.nodes[fi], &v) == EDDY_ERR_INVALID);
    CHECK_OK(json_number_f64(&d.nodes[fi], &f));
    CHECK(f == 1500.0);
    int64_t tags = json_object_get(&d, 0, "tags", 4);
    CHECK_EQ_INT(d.nodes[tags].count, 2);
    uint32_t second = json_next(&d, json_first_child((uint32_t)tags));
    CHECK(json_string_eq(&d.nodes[second], "b\"c", 3));
    int64_t o = json_object_get(&d, 0, "o", 1);
    CHECK_EQ_INT(d.nodes[json_object_get(&d, (uint32_t)o, "t", 1)].type, JSON_TRUE);
    CHECK(json_object_get(&d, 0, "missing", 7) < 0);
    wr_t w;
    wr_init(&w, 0);
    json_write_node(&w, &d, 0);
    wr_u8(&w, 0);
    CHECK_EQ_STR((char *)w.buf, "{\"id\":\"abc\",\"n\":-12,\"f\":1.5e3,\"tags\":[\"a\",\"b\\\"c\"],"
                                "\"o\":{\"x\":null,\"t\":true,\"f\":false},\"e\":[],\"eo\":{}}");
    wr_free(&w);
    json_doc_free(&d);
}

TEST(json_rejects_malformed_input) {
    const char *bad[] = {"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", "-", "tru", "\"abc",
                         "\"a\x01\"", "[1] 2", "{1:2}", "nul", "[\"\\x\"]"};
    json_doc_t d;
    json_doc_init(&d);
    for (size_t i = 0; i < EDDY_ARRAY_LEN(bad); i++) {
        int rc = parse(&d, bad[i]);
        /* "[\"\\x\"]" parses (escapes are checked on decode); everything else fails */
        if (i == EDDY_ARRAY_LEN(bad) - 1) {
            CHECK_OK(rc);
            char out[8];
            CHECK(json_string_unescape(&d.nodes[1], out) < 0);
        } else if (rc != EDDY_ERR_CORRUPT) {
            test_fail(__FILE__, __LINE__, "accepted malformed JSON: %s", bad[i]);
        }
    }
    json_doc_free(&d);
}

TEST(json_depth_limit) {
    char deep[2000];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    json_doc_t d;
    json_doc_init(&d);
    CHECK(json_parse(&d, deep, sizeof deep) == EDDY_ERR_CORRUPT);
    CHECK(strstr(d.errmsg, "deep") != NULL);
    json_doc_free(&d);
}

TEST(json_unescape_unicode) {
    json_doc_t d;
    json_doc_init(&d);
    REQUIRE_OK(parse(&d, "\"caf\\u00e9 \\ud83d\\ude00 \\n\""));
    char out[64];
    long n = json_string_unescape(&d.nodes[0], out);
    CHECK_EQ_MEM(out, (size_t)n, "caf\xc3\xa9 \xf0\x9f\x98\x80 \n", 12);
    REQUIRE_OK(parse(&d, "\"\\udc00\""));
    CHECK(json_string_unescape(&d.nodes[0], out) < 0); /* lone low surrogate */
    json_doc_free(&d);
}

TEST(json_integer_range) {
    json_doc_t d;
    json_doc_init(&d);
    int64_t v;
    REQUIRE_OK(parse(&d, "9223372036854775807"));
    CHECK_OK(json_number_i64(&d.nodes[0], &v));
    CHECK(v == INT64_MAX);
    REQUIRE_OK(parse(&d, "-9223372036854775808"));
    CHECK_OK(json_number_i64(&d.nodes[0], &v));
    CHECK(v == INT64_MIN);
    REQUIRE_OK(parse(&d, "9223372036854775808"));
    CHECK(json_number_i64(&d.nodes[0], &v) == EDDY_ERR_RANGE);
    json_doc_free(&d);
}

TEST(json_write_escapes_and_doubles) {
    wr_t w;
    wr_init(&w, 0);
    json_write_string(&w, "a\"b\\c\n\x01", 7);
    wr_u8(&w, ' ');
    json_write_f64(&w, 0.1);
    wr_u8(&w, ' ');
    json_write_f64(&w, 1.0 / 3.0);
    wr_u8(&w, ' ');
    json_write_i64(&w, INT64_MIN);
    wr_u8(&w, 0);
    CHECK_EQ_STR((char *)w.buf, "\"a\\\"b\\\\c\\n\\u0001\" 0.1 0.33333333333333331 -9223372036854775808");
    wr_free(&w);
}

TEST(json_parses_sample_leaves) {
    size_t len;
    char *text = test_read_file("tests/data/leaves-small.json", &len);
    REQUIRE(text != NULL);
    json_doc_t d;
    json_doc_init(&d);
    REQUIRE_OK(json_parse(&d, text, len));
    CHECK(d.count > 100);
    CHECK_EQ_INT(d.nodes[0].count, 3);
    json_doc_free(&d);
    free(text);
}
