/* Unit tests for the leaf model and the generator. */
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"
#include "test.h"

static char *api_leaf_json(const api_leaf_t *leaf) {
    wr_t w;
    wr_init(&w, 256);
    api_leaf_write_json(&w, leaf);
    wr_u8(&w, 0);
    size_t n;
    return (char *)wr_steal(&w, &n);
}

TEST(leaf_id_is_md5_of_url) {
    char id[33];
    const char *url = "https://github.com/Anant/cassandra.api"; /* the workshop's testRecord4 */
    api_leaf_id_from_url(url, strlen(url), id);
    CHECK_EQ_STR(id, "2e1df12395d97d261efbe1d152fec7ac");
}

TEST(leaf_domain_is_scheme_and_host) {
    char d[128];
    const char *cases[][2] = {
        {"https://github.com/Anant/cassandra.api", "https://github.com"},
        {"http://example.org", "http://example.org"},
        {"https://a.b.c:8080?q=1", "https://a.b.c:8080"},
        {"https://host#frag", "https://host"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(cases); i++) {
        REQUIRE(api_leaf_domain_from_url(cases[i][0], strlen(cases[i][0]), d, sizeof d) > 0);
        CHECK_EQ_STR(d, cases[i][1]);
    }
    const char *bad[] = {"ftp://x.org/", "github.com/x", "https:///path", "", "https://"};
    for (size_t i = 0; i < EDDY_ARRAY_LEN(bad); i++) CHECK(api_leaf_domain_from_url(bad[i], strlen(bad[i]), d, sizeof d) < 0);
}

TEST(leaf_tags_replace_spaces_with_dots) {
    char t[] = "let make sure\tthis works";
    CHECK_EQ_STR(api_leaf_tag_normalize(t, strlen(t)), "let.make.sure.this.works");
}

TEST(leaf_row_json_follows_insert_json_rules) {
    const char *row = "{\"id\":\"d33a\",\"is_archived\":\"1\",\"is_public\":\"False\",\"user_id\":\"1\","
                      "\"created_at\":\"2019-06-19T12:43:13.000Z\",\"updated_at\":1589904967009,"
                      "\"tags\":[\"saas\",\"block chain\"],\"slugs\":[],\"http_status\":\"200\",\"title\":null}";
    api_leaf_t *leaf = NULL;
    char err[256];
    REQUIRE_OK(api_leaf_parse(row, strlen(row), LEAF_JSON_ROW, &leaf, err, sizeof err));
    CHECK_EQ_INT(leaf->v[LEAF_IS_ARCHIVED].u.i, 1);
    CHECK(leaf->v[LEAF_IS_PUBLIC].set && !leaf->v[LEAF_IS_PUBLIC].u.b);
    CHECK_EQ_INT(leaf->v[LEAF_CREATED_AT].u.i, 1560948193000LL);
    CHECK_EQ_INT(leaf->v[LEAF_UPDATED_AT].u.i, 1589904967009LL);
    CHECK(!leaf->v[LEAF_SLUGS].set); /* an empty list is null, as in Cassandra */
    char *out = api_leaf_json(leaf);
    CHECK_EQ_STR(out, "{\"id\":\"d33a\",\"all\":null,\"content\":null,\"content_text\":null,"
                      "\"created_at\":\"2019-06-19T12:43:13.000Z\",\"domain_name\":null,\"http_status\":\"200\","
                      "\"is_archived\":1,\"is_public\":false,\"is_starred\":null,\"language\":null,\"links\":null,"
                      "\"mimetype\":null,\"preview_picture\":null,\"reading_time\":null,\"slugs\":null,"
                      "\"tags\":[\"saas\",\"block chain\"],\"title\":null,\"updated_at\":\"2020-05-19T16:16:07.009Z\","
                      "\"url\":null,\"user_email\":null,\"user_id\":1,\"user_name\":null}");
    eddy_free(out);
    api_leaf_free(leaf);

    /* As strict as Cassandra: unknown columns and numbers for text columns are errors. */
    const char *bad[][2] = {
        {"{\"id\":\"x\",\"nope\":1}", "unknown field 'nope'"},
        {"{\"id\":12}", "field 'id' must be a string"},
        {"{\"http_status\":200}", "field 'http_status' must be a string"},
        {"{\"is_archived\":\"yes\"}", "field 'is_archived' must be an integer"},
        {"{\"user_id\":4294967296}", "field 'user_id' must be an integer"},
        {"{\"is_public\":1}", "field 'is_public' must be a boolean"},
        {"{\"created_at\":\"yesterday\"}", "field 'created_at' must be a timestamp"},
        {"{\"tags\":[1]}", "field 'tags' must be an array of strings"},
        {"{\"tags\":\"a\"}", "field 'tags' must be an array of strings"},
        {"[1]", "a leaf must be a JSON object"},
        {"{\"id\":", "malformed JSON"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(bad); i++) {
        leaf = NULL;
        err[0] = 0;
        CHECK(api_leaf_parse(bad[i][0], strlen(bad[i][0]), LEAF_JSON_ROW, &leaf, err, sizeof err) == EDDY_ERR_INVALID);
        if (!strstr(err, bad[i][1])) test_fail(__FILE__, __LINE__, "%s: error '%s' lacks '%s'", bad[i][0], err, bad[i][1]);
        CHECK(leaf == NULL);
    }
}

TEST(leaf_patch_allows_the_workshop_fields_only) {
    api_leaf_t *leaf = NULL;
    char err[256];
    const char *ok = "{\"title\":\"t\",\"tags\":[\"a\"],\"is_archived\":0,\"is_starred\":1,\"content\":\"c\","
                     "\"language\":\"en\",\"preview_picture\":null,\"is_public\":true,\"url\":\"https://x.org/\"}";
    REQUIRE_OK(api_leaf_parse(ok, strlen(ok), LEAF_JSON_PATCH, &leaf, err, sizeof err));
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_TITLE), "t");
    api_leaf_free(leaf);
    const char *bad = "{\"id\":\"other\"}";
    leaf = NULL;
    CHECK(api_leaf_parse(bad, strlen(bad), LEAF_JSON_PATCH, &leaf, err, sizeof err) == EDDY_ERR_INVALID);
    CHECK(strstr(err, "cannot be updated") != NULL);
}

TEST(leaf_record_import_maps_the_workshop_shapes) {
    /* The upstream service's shape (as example-leaf.json): tag objects, _links object, numeric
     * id, string http_status, fields with no column. */
    const char *rec = "{\"is_archived\":1,\"tags\":[{\"id\":11,\"label\":\"database\",\"slug\":\"database\"},"
                      "{\"id\":12,\"label\":\"data.modeling\",\"slug\":\"data-modeling\"}],\"is_public\":false,"
                      "\"id\":14833,\"uid\":null,\"title\":\"DataGrip\",\"created_at\":\"2020-04-03T15:20:10+0000\","
                      "\"published_at\":\"2019-08-28T09:00:00+0000\",\"published_by\":[\"\"],\"starred_at\":null,"
                      "\"annotations\":[],\"http_status\":\"200\",\"headers\":null,\"origin_url\":null,"
                      "\"_links\":{\"self\":{\"href\":\"/api/entries/14833\"}}}";
    api_leaf_t *leaf = NULL;
    char err[256];
    REQUIRE_OK(api_leaf_parse(rec, strlen(rec), LEAF_JSON_RECORD, &leaf, err, sizeof err));
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_ID), "14833");
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_HTTP_STATUS), "200");
    REQUIRE(leaf->v[LEAF_TAGS].u.l.count == 2);
    CHECK_EQ_STR(leaf->v[LEAF_TAGS].u.l.items[1], "data.modeling");
    REQUIRE(leaf->v[LEAF_SLUGS].u.l.count == 2);
    CHECK_EQ_STR(leaf->v[LEAF_SLUGS].u.l.items[1], "data-modeling");
    REQUIRE(leaf->v[LEAF_LINKS].u.l.count == 1);
    CHECK_EQ_STR(leaf->v[LEAF_LINKS].u.l.items[0], "/api/entries/14833");
    CHECK_EQ_INT(leaf->v[LEAF_CREATED_AT].u.i, 1585927210000LL);
    api_leaf_free(leaf);

    /* leaves-sample.json's shape: numeric http_status, _links array, string tags and slugs. */
    const char *sample = "{\"id\":\"14012\",\"http_status\":200,\"_links\":[\"/api/entries/14012\"],"
                         "\"tags\":[\"sales.and.marketing\"],\"slugs\":[\"sales-and-marketing\"]}";
    leaf = NULL;
    REQUIRE_OK(api_leaf_parse(sample, strlen(sample), LEAF_JSON_RECORD, &leaf, err, sizeof err));
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_HTTP_STATUS), "200");
    CHECK_EQ_STR(leaf->v[LEAF_SLUGS].u.l.items[0], "sales-and-marketing");
    api_leaf_free(leaf);

    /* Unknown fields are still errors. */
    const char *bad = "{\"id\":\"1\",\"colour\":\"red\"}";
    leaf = NULL;
    CHECK(api_leaf_parse(bad, strlen(bad), LEAF_JSON_RECORD, &leaf, err, sizeof err) == EDDY_ERR_INVALID);
}

TEST(leaf_project_samples_import) {
    size_t len;
    char *text = test_read_file("examples/data/leaves.json", &len);
    REQUIRE(text);
    json_doc_t doc;
    json_doc_init(&doc);
    REQUIRE_OK(json_parse(&doc, text, len));
    REQUIRE(doc.nodes[0].type == JSON_ARRAY);
    CHECK(doc.nodes[0].count >= 20);
    uint32_t c = 1;
    for (uint32_t k = 0; k < doc.nodes[0].count; k++, c = json_next(&doc, c)) {
        api_leaf_t *leaf = api_leaf_new();
        char err[256];
        if (api_leaf_from_json(leaf, &doc, c, LEAF_JSON_RECORD, err, sizeof err) != EDDY_OK)
            test_fail(__FILE__, __LINE__, "sample %u: %s", k, err);
        CHECK(api_leaf_text(leaf, LEAF_ID) != NULL);
        CHECK(leaf->v[LEAF_TAGS].set);
        CHECK(leaf->v[LEAF_LINKS].set);
        api_leaf_free(leaf);
    }
    json_doc_free(&doc);
    free(text);
}

TEST(leaf_init_from_url_has_the_workshop_defaults) {
    api_leaf_t *leaf = api_leaf_new();
    char err[128];
    const char *url = "https://github.com/Anant/cassandra.api";
    REQUIRE_OK(api_leaf_init_from_url(leaf, url, strlen(url), 1589904967009LL, err, sizeof err));
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_ID), "2e1df12395d97d261efbe1d152fec7ac");
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_DOMAIN_NAME), "https://github.com");
    CHECK_EQ_INT(leaf->v[LEAF_IS_ARCHIVED].u.i, 1);
    CHECK_EQ_INT(leaf->v[LEAF_IS_STARRED].u.i, 0);
    CHECK(!leaf->v[LEAF_TITLE].set);
    CHECK(!leaf->v[LEAF_TAGS].set);
    CHECK_EQ_STR(leaf->v[LEAF_LINKS].u.l.items[0], "api/entries/2e1df12395d97d261efbe1d152fec7ac");
    CHECK_EQ_STR(leaf->v[LEAF_ALL].u.l.items[0], url);
    CHECK_EQ_STR(leaf->v[LEAF_ALL].u.l.items[9], "1589904967009");
    REQUIRE_OK(api_leaf_list_append(leaf, LEAF_TAGS, "x.y", 3));
    REQUIRE_OK(api_leaf_all_add_tag(leaf, "x.y", 3));
    REQUIRE_OK(api_leaf_all_add_tag(leaf, "x.y", 3)); /* once only */
    uint32_t n = leaf->v[LEAF_ALL].u.l.count;
    CHECK_EQ_INT(n, 14);
    REQUIRE_OK(api_leaf_all_remove_tags(leaf));
    CHECK_EQ_INT(leaf->v[LEAF_ALL].u.l.count, 12);
    api_leaf_t *copy = api_leaf_clone(leaf);
    char *a = api_leaf_json(leaf), *b = api_leaf_json(copy);
    CHECK_EQ_STR(a, b);
    eddy_free(a);
    eddy_free(b);
    api_leaf_free(copy);
    api_leaf_free(leaf);
    leaf = api_leaf_new();
    CHECK(api_leaf_init_from_url(leaf, "github.com", 10, 0, err, sizeof err) == EDDY_ERR_INVALID);
    api_leaf_free(leaf);
}

TEST(leaf_generator_is_reproducible_and_realistic) {
    api_leafgen_t *a = api_leafgen_new(42, API_LEAFGEN_SMALL), *b = api_leafgen_new(42, API_LEAFGEN_SMALL);
    REQUIRE(a && b);
    wr_t wa, wb;
    wr_init(&wa, 0);
    wr_init(&wb, 0);
    int tag_total = 0, cassandra = 0;
    for (int i = 0; i < 500; i++) {
        wr_reset(&wa);
        wr_reset(&wb);
        char id[33];
        api_leafgen_next(a, &wa, API_LEAFGEN_EVENT, id);
        api_leafgen_next(b, &wb, API_LEAFGEN_EVENT, NULL);
        REQUIRE(wr_ok(&wa));
        CHECK_EQ_MEM(wa.buf, wa.len, wb.buf, wb.len);
        CHECK_EQ_INT(strlen(id), 32);
        api_leaf_t *leaf = NULL;
        char err[128];
        REQUIRE_OK(api_leaf_parse((char *)wa.buf, wa.len, LEAF_JSON_ROW, &leaf, err, sizeof err));
        size_t tl = strlen(api_leaf_text(leaf, LEAF_TITLE)), ul = strlen(api_leaf_text(leaf, LEAF_URL));
        CHECK(tl >= 20 && tl <= 120);
        CHECK(ul >= 30 && ul <= 120);
        char md5[33];
        api_leaf_id_from_url(api_leaf_text(leaf, LEAF_URL), ul, md5);
        CHECK_EQ_STR(api_leaf_text(leaf, LEAF_ID), md5);
        for (uint32_t k = 0; k < leaf->v[LEAF_TAGS].u.l.count; k++) {
            size_t n = strlen(leaf->v[LEAF_TAGS].u.l.items[k]);
            CHECK(n >= 3 && n <= 20);
            cassandra += !strcmp(leaf->v[LEAF_TAGS].u.l.items[k], "cassandra");
            tag_total++;
        }
        api_leaf_free(leaf);
    }
    CHECK(tag_total > 1300 && tag_total < 1700); /* about 3 a leaf */
    CHECK(cassandra > 100);                      /* the head of the Zipf curve dominates */
    /* The record shape reads back through the importer. */
    wr_reset(&wa);
    api_leafgen_next(a, &wa, API_LEAFGEN_RECORD, NULL);
    api_leaf_t *leaf = NULL;
    char err[128];
    CHECK_OK(api_leaf_parse((char *)wa.buf, wa.len, LEAF_JSON_RECORD, &leaf, err, sizeof err));
    api_leaf_free(leaf);
    wr_free(&wa);
    wr_free(&wb);
    api_leafgen_free(a);
    api_leafgen_free(b);
}

TEST(leaf_html_extraction_reads_a_page) {
    const char *page =
        "<!doctype html><html lang=\"en-GB\"><head><title> Data modeling   in Cassandra </title>"
        "<meta property=\"og:image\" content=\"/img/cover.png\"><style>p{}</style></head>"
        "<body><nav><p>menu</p></nav><article><h1>Start from the queries</h1><p>Every table answers one query &amp; "
        "one only.</p><script>var x = '<p>no</p>';</script><p>Duplicate <b>data</b> freely.</p></article>"
        "<footer><p>footer</p></footer></body></html>";
    api_leaf_t *leaf = api_leaf_new();
    REQUIRE_OK(api_html_extract(page, strlen(page), "https://notes.example.org/a/b.html", leaf));
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_TITLE), "Data modeling in Cassandra");
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_LANGUAGE), "en-GB");
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_PREVIEW_PICTURE), "https://notes.example.org/img/cover.png");
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_CONTENT),
                 "<h2>Start from the queries</h2><p>Every table answers one query &amp; one only.</p><p>Duplicate data freely.</p>");
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_CONTENT_TEXT),
                 "Start from the queries Every table answers one query & one only. Duplicate data freely.");
    CHECK_EQ_INT(leaf->v[LEAF_READING_TIME].u.i, 0);
    api_leaf_free(leaf);
    /* Garbage is not a crash. */
    leaf = api_leaf_new();
    const char *junk = "<<<>>><p><p><p></div></td>\x01\x02<img src=x>";
    CHECK_OK(api_html_extract(junk, strlen(junk), "http://h", leaf));
    CHECK_EQ_STR(api_leaf_text(leaf, LEAF_PREVIEW_PICTURE), "http://h/x");
    api_leaf_free(leaf);
}
