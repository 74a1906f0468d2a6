/* Unit tests of the Kafka codec: every served API at every served version round-trips through
 * encode/decode/encode byte for byte; truncations fail cleanly; byte-exact checks of the header
 * forms, tagged fields, ApiVersions' special cases and Fetch v11's preferred_read_replica. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "kafka/kafka_int.h"
#include "test.h"

/* A small deterministic generator (xorshift). */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char text[] = "the-quick-brown-fox-jumps-over-the-lazy-dog-0123456789";

static void fill_struct(const kafka_schema_t *s, int v, bool flex, arena_t *a, void *msg, int depth);

static void fill_field(const kafka_field_t *f, int v, bool flex, arena_t *a, void *msg, int depth) {
    char *p = (char *)msg + f->offset;
    bool can_null = f->nullable && v >= f->null_lo;
    switch (f->type) {
    case KT_BOOL: *(bool *)p = rng() & 1; break;
    case KT_INT8: *(int8_t *)p = (int8_t)rng(); break;
    case KT_INT16: *(int16_t *)p = (int16_t)rng(); break;
    case KT_INT32: *(int32_t *)p = (int32_t)rng(); break;
    case KT_INT64: *(int64_t *)p = (int64_t)rng(); break;
    case KT_UUID:
        for (int i = 0; i < 16; i++) ((uint8_t *)p)[i] = (uint8_t)rng();
        break;
    case KT_STRING: {
        kafka_str_t *s = (kafka_str_t *)p;
        if (can_null && rng() % 4 == 0) *s = (kafka_str_t){NULL, -1};
        else *s = kafka_str_n(text, rng() % 20);
        break;
    }
    case KT_BYTES: {
        kafka_bytes_t *b = (kafka_bytes_t *)p;
        *b = (kafka_bytes_t){(const uint8_t *)text, (int32_t)(rng() % 30)};
        break;
    }
    case KT_RECORDS: {
        kafka_records_t *r = (kafka_records_t *)p;
        if (can_null && rng() % 4 == 0) *r = (kafka_records_t){NULL, -1, NULL};
        else *r = (kafka_records_t){(const uint8_t *)text, (int32_t)(rng() % 40), NULL};
        break;
    }
    case KT_STRUCT: fill_struct(f->sub, v, flex, a, p, depth + 1); break;
    default: {
        KAFKA_ARRAY_OF(char) *arr = (void *)p;
        if (can_null && rng() % 4 == 0) {
            arr->count = -1;
            arr->items = NULL;
            break;
        }
        int32_t n = depth > 3 ? 0 : (int32_t)(rng() % 4);
        size_t size = f->type == KT_ARRAY_INT32 ? 4 : f->type == KT_ARRAY_INT64 ? 8
                    : f->type == KT_ARRAY_STRING ? sizeof(kafka_str_t) : f->sub->size;
        arr->count = n;
        arr->items = kafka_array_alloc(a, (size_t)n, size);
        for (int32_t i = 0; i < n; i++) {
            char *e = arr->items + (size_t)i * size;
            if (f->type == KT_ARRAY_INT32) *(int32_t *)e = (int32_t)rng();
            else if (f->type == KT_ARRAY_INT64) *(int64_t *)e = (int64_t)rng();
            else if (f->type == KT_ARRAY_STRING) *(kafka_str_t *)e = kafka_str_n(text, rng() % 10);
            else fill_struct(f->sub, v, flex, a, e, depth + 1);
        }
        break;
    }
    }
}

static void fill_struct(const kafka_schema_t *s, int v, bool flex, arena_t *a, void *msg, int depth) {
    kafka_struct_init(s, v, msg);
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kafka_field_t *f = &s->fields[i];
        if (v < f->lo || v > f->hi) continue;
        if (f->tagged && !flex) continue;
        if (f->tagged && rng() % 2) continue; /* tagged fields: sometimes left at the default */
        fill_field(f, v, flex, a, msg, depth);
    }
}

/* encode(fill) -> decode -> encode must give the same bytes, consuming every byte; every
 * truncation must fail. */
static void roundtrip(const kafka_schema_t *s, int v, bool flex) {
    arena_t a;
    arena_init(&a, 4096);
    for (int round = 0; round < 6; round++) {
        void *msg = arena_alloc(&a, s->size);
        fill_struct(s, v, flex, &a, msg, 0);
        kafka_out_t o1, o2;
        kafka_out_init(&o1, 256);
        kafka_out_init(&o2, 256);
        kafka_encode(s, v, flex, msg, &o1);
        REQUIRE(wr_ok(&o1.w));
        void *back = arena_alloc(&a, s->size);
        rd_t r = rd_init(o1.w.buf, o1.w.len);
        int rc = kafka_decode(s, v, flex, &r, &a, back);
        if (rc != EDDY_OK || r.pos != o1.w.len)
            test_fail(__FILE__, __LINE__, "%s v%d%s: decode rc %d at %zu of %zu", s->name, v,
                      flex ? " flexible" : "", rc, r.pos, o1.w.len);
        kafka_encode(s, v, flex, back, &o2);
        if (o1.w.len != o2.w.len || memcmp(o1.w.buf, o2.w.buf, o1.w.len) != 0)
            test_fail(__FILE__, __LINE__, "%s v%d: re-encoding differs", s->name, v);
        size_t step = o1.w.len > 300 ? o1.w.len / 150 : 1;
        for (size_t cut = 0; cut < o1.w.len; cut += step) {
            uint8_t *copy = eddy_memdup(o1.w.buf, cut ? cut : 1);
            rd_t tr = rd_init(copy, cut);
            void *tmp = arena_alloc(&a, s->size);
            if (kafka_decode(s, v, flex, &tr, &a, tmp) == EDDY_OK)
                test_fail(__FILE__, __LINE__, "%s v%d: truncated to %zu of %zu decoded", s->name, v, cut, o1.w.len);
            eddy_free(copy);
        }
        kafka_out_free(&o1);
        kafka_out_free(&o2);
    }
    arena_free(&a);
}

TEST(kafka_codec_roundtrip_every_api_and_version) {
    size_t n;
    const kafka_api_t *const *apis = kafka_api_list(&n);
    CHECK(n >= 21);
    for (size_t i = 0; i < n; i++) {
        for (int v = apis[i]->min; v <= apis[i]->max; v++) {
            bool flex = kafka_api_flexible(apis[i], v);
            roundtrip(apis[i]->request, v, flex);
            roundtrip(apis[i]->response, v, flex);
        }
    }
}

TEST(kafka_codec_table_matches_research) {
    /* Versions the clients negotiate (research §1); a change here needs a client check. */
    const struct { int16_t key, min, max, flex; } want[] = {
        {0, 3, 7, 9}, {1, 4, 11, 12}, {2, 0, 5, 6}, {3, 0, 7, 9}, {8, 0, 7, 8}, {9, 1, 7, 6},
        {10, 0, 2, 3}, {11, 0, 5, 6}, {12, 0, 3, 4}, {13, 0, 3, 4}, {14, 0, 3, 4}, {18, 0, 3, 3},
        {19, 0, 4, 5}, {20, 0, 3, 4}, {22, 0, 4, 2}, {32, 0, 3, 4},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(want); i++) {
        const kafka_api_t *api = kafka_api_find(want[i].key);
        REQUIRE(api);
        CHECK_EQ_INT(api->min, want[i].min);
        CHECK_EQ_INT(api->max, want[i].max);
        CHECK_EQ_INT(api->flex_from, want[i].flex);
    }
    CHECK(kafka_api_find(17) == NULL); /* SaslHandshake: not served */
    CHECK(kafka_api_find(-1) == NULL);
    CHECK(kafka_api_find(1000) == NULL);
}

/* ApiVersions v3 as librdkafka 2.0.2 sends it (header v2: client id "rdkafka", no tags; body:
 * compact "librdkafka" / "2.0.2", no tags). */
static const uint8_t apiversions_v3[] = {
    0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 'r', 'd', 'k', 'a', 'f', 'k', 'a',
    0x00, 0x0b, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a', 0x06, '2', '.', '0', '.', '2', 0x00,
};

TEST(kafka_codec_request_header_v2_and_compact_strings) {
    arena_t a;
    arena_init(&a, 1024);
    kafka_request_t req;
    REQUIRE(kafka_request_parse(apiversions_v3, sizeof apiversions_v3, &a, &req) == KAFKA_PARSE_OK);
    CHECK_EQ_INT(req.api_key, 18);
    CHECK_EQ_INT(req.api_version, 3);
    CHECK_EQ_INT(req.correlation_id, 1);
    CHECK(req.flexible);
    CHECK(kafka_str_is(req.client_id, "rdkafka"));
    kafka_ApiVersionsRequest_t *body = req.body;
    CHECK(kafka_str_is(body->client_software_name, "librdkafka"));
    CHECK(kafka_str_is(body->client_software_version, "2.0.2"));
    for (size_t cut = 0; cut < sizeof apiversions_v3; cut++) {
        uint8_t *copy = eddy_memdup(apiversions_v3, cut ? cut : 1);
        CHECK(kafka_request_parse(copy, cut, &a, &req) != KAFKA_PARSE_OK);
        eddy_free(copy);
    }
    arena_free(&a);
}

TEST(kafka_codec_api_versions_response_header_v0) {
    arena_t a;
    arena_init(&a, 1024);
    kafka_request_t req;
    REQUIRE(kafka_request_parse(apiversions_v3, sizeof apiversions_v3, &a, &req) == KAFKA_PARSE_OK);
    kafka_ApiVersionsResponse_t resp;
    kafka_api_versions_fill(&a, false, &resp);
    kafka_out_t o;
    kafka_out_init(&o, 256);
    kafka_response_encode(&o, &req, &resp);
    REQUIRE(wr_ok(&o.w));
    rd_t r = rd_init(o.w.buf, o.w.len);
    CHECK_EQ_INT(rd_i32(&r), (int32_t)o.w.len - 4);
    CHECK_EQ_INT(rd_i32(&r), 1);   /* correlation id, and no header tags (v0) */
    CHECK_EQ_INT(rd_i16(&r), 0);   /* error */
    size_t n;
    kafka_api_list(&n);
    CHECK_EQ_INT(rd_uvarint32(&r), n + 1); /* compact array */
    bool saw_fetch = false;
    for (size_t i = 0; i < n; i++) {
        int16_t key = rd_i16(&r), lo = rd_i16(&r), hi = rd_i16(&r);
        CHECK_EQ_INT(rd_u8(&r), 0); /* tags */
        if (key == 1) {
            saw_fetch = true;
            CHECK_EQ_INT(lo, 4);
            CHECK_EQ_INT(hi, 11);
        }
    }
    CHECK(saw_fetch);
    CHECK_EQ_INT(rd_i32(&r), 0); /* throttle */
    CHECK_EQ_INT(rd_u8(&r), 0);  /* tags */
    CHECK(rd_ok(&r) && rd_remaining(&r) == 0);
    kafka_out_free(&o);
    arena_free(&a);
}

TEST(kafka_codec_api_versions_unsupported_version_answers_v0_error_35) {
    /* ApiVersions v7 (unknown to us): header read as v2, body ignored. */
    uint8_t req_bytes[] = {0x00, 0x12, 0x00, 0x07, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x01, 'x', 0x00,
                           0x05, 0x01, 0x02, 0x03};
    arena_t a;
    arena_init(&a, 1024);
    kafka_request_t req;
    CHECK_EQ_INT(kafka_request_parse(req_bytes, sizeof req_bytes, &a, &req), KAFKA_PARSE_UNSUPPORTED);
    CHECK_EQ_INT(req.correlation_id, 42);
    REQUIRE(req.api != NULL);
    kafka_ApiVersionsResponse_t resp;
    kafka_api_versions_fill(&a, true, &resp);
    kafka_out_t o;
    kafka_out_init(&o, 64);
    kafka_response_encode(&o, &req, &resp);
    const uint8_t want[] = {0, 0, 0, 16, 0, 0, 0, 42, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3};
    CHECK_EQ_MEM(o.w.buf, o.w.len, want, sizeof want);
    kafka_out_free(&o);
    arena_free(&a);
}

TEST(kafka_codec_unknown_api_and_bad_versions) {
    arena_t a;
    arena_init(&a, 1024);
    kafka_request_t req;
    uint8_t unknown[] = {0x00, 0x2f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff};
    CHECK_EQ_INT(kafka_request_parse(unknown, sizeof unknown, &a, &req), KAFKA_PARSE_UNKNOWN_API);
    uint8_t produce_v2[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ_INT(kafka_request_parse(produce_v2, sizeof produce_v2, &a, &req), KAFKA_PARSE_UNSUPPORTED);
    uint8_t neg_key[] = {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
    CHECK_EQ_INT(kafka_request_parse(neg_key, sizeof neg_key, &a, &req), KAFKA_PARSE_UNKNOWN_API);
    CHECK_EQ_INT(kafka_request_parse(neg_key, 3, &a, &req), KAFKA_PARSE_MALFORMED);
    /* Metadata v1 whose topic count claims more entries than bytes: refused before allocating. */
    uint8_t huge[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff};
    CHECK_EQ_INT(kafka_request_parse(huge, sizeof huge, &a, &req), KAFKA_PARSE_MALFORMED);
    arena_free(&a);
}

TEST(kafka_codec_metadata_v1_null_topics_means_all) {
    uint8_t v1_null[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff};
    uint8_t v0_empty[] = {0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    uint8_t v0_null[] = {0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff};
    arena_t a;
    arena_init(&a, 1024);
    kafka_request_t req;
    REQUIRE(kafka_request_parse(v1_null, sizeof v1_null, &a, &req) == KAFKA_PARSE_OK);
    CHECK_EQ_INT(((kafka_MetadataRequest_t *)req.body)->topics.count, -1);
    CHECK(((kafka_MetadataRequest_t *)req.body)->allow_auto_topic_creation); /* default true */
    REQUIRE(kafka_request_parse(v0_empty, sizeof v0_empty, &a, &req) == KAFKA_PARSE_OK);
    CHECK_EQ_INT(((kafka_MetadataRequest_t *)req.body)->topics.count, 0);
    CHECK_EQ_INT(kafka_request_parse(v0_null, sizeof v0_null, &a, &req), KAFKA_PARSE_MALFORMED);
    arena_free(&a);
}

TEST(kafka_codec_fetch_v11_response_layout_and_file_splice) {
    kafka_FetchResponse_t resp;
    kafka_struct_init(&kafka_schema_FetchResponse, 11, &resp);
    kafka_FetchableTopicResponse_t topic;
    kafka_struct_init(&kafka_schema_FetchableTopicResponse, 11, &topic);
    kafka_PartitionData_t part;
    kafka_struct_init(&kafka_schema_PartitionData, 11, &part);
    CHECK_EQ_INT(part.preferred_read_replica, -1); /* the default Kafka declares */
    topic.topic = kafka_str("t");
    topic.partitions.count = 1;
    topic.partitions.items = &part;
    resp.responses.count = 1;
    resp.responses.items = &topic;
    part.high_watermark = 5;
    part.aborted_transactions.count = -1;
    static const int piece = 7;
    part.records = (kafka_records_t){NULL, 100, &piece};
    kafka_request_t req = {.api_key = 1, .api_version = 11, .correlation_id = 3,
                           .api = kafka_api_find(1)};
    kafka_out_t o;
    kafka_out_init(&o, 64);
    kafka_response_encode(&o, &req, &resp);
    REQUIRE(wr_ok(&o.w));
    const uint8_t want[] = {
        0, 0, 0, 0,                          /* size, checked below */
        0, 0, 0, 3,                          /* correlation id */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0,        /* throttle, error, session id */
        0, 0, 0, 1, 0, 1, 't',               /* one topic "t" */
        0, 0, 0, 1, 0, 0, 0, 0, 0, 0,        /* one partition: index 0, error 0 */
        0, 0, 0, 0, 0, 0, 0, 5,              /* high watermark */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* last stable offset -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log start offset -1 */
        0xff, 0xff, 0xff, 0xff,              /* aborted transactions: null */
        0xff, 0xff, 0xff, 0xff,              /* preferred read replica -1 */
        0, 0, 0, 100,                        /* records length; the bytes are the splice */
    };
    REQUIRE(o.w.len == sizeof want);
    CHECK_EQ_INT(load_u32(o.w.buf), sizeof want - 4 + 100);
    CHECK(memcmp(o.w.buf + 4, want + 4, sizeof want - 4) == 0);
    REQUIRE(o.nsplices == 1);
    CHECK_EQ_INT(o.splices[0].at, sizeof want);
    CHECK(o.splices[0].ext == &piece);
    CHECK_EQ_INT(kafka_out_size(&o), sizeof want + 100);
    kafka_out_free(&o);
}

TEST(kafka_codec_tagged_fields_decode_known_and_skip_unknown) {
    /* ApiVersionsResponse v3 with tags: unknown tag 7 (3 bytes), then tag 1 (epoch = 9). */
    const uint8_t body[] = {0, 0, 1, 0, 0, 0, 0, 2, 7, 3, 1, 2, 3, 1, 8, 0, 0, 0, 0, 0, 0, 0, 9};
    arena_t a;
    arena_init(&a, 256);
    kafka_ApiVersionsResponse_t resp;
    rd_t r = rd_init(body, sizeof body);
    REQUIRE_OK(kafka_decode(&kafka_schema_ApiVersionsResponse, 3, true, &r, &a, &resp));
    CHECK_EQ_INT(resp.finalized_features_epoch, 9);
    CHECK_EQ_INT(rd_remaining(&r), 0);
    /* Encoding writes the non-default tagged field back (and only it). */
    kafka_out_t o;
    kafka_out_init(&o, 64);
    kafka_encode(&kafka_schema_ApiVersionsResponse, 3, true, &resp, &o);
    const uint8_t want[] = {0, 0, 1, 0, 0, 0, 0, 1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 9};
    CHECK_EQ_MEM(o.w.buf, o.w.len, want, sizeof want);
    kafka_out_free(&o);
    arena_free(&a);
}

/* Every request captured from the real clients (scripts/kafka_capture.py) parses, and encodes
 * back to the same bytes. */
TEST(kafka_codec_captured_client_requests_parse_and_reencode) {
    const char *dir = "fuzz/corpus/kafka_request_fuzz";
    DIR *d = opendir(dir);
    REQUIRE(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strncmp(e->d_name, "seed-", 5)) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *buf = test_read_file(path, &len);
        REQUIRE(buf);
        arena_t a;
        arena_init(&a, 4096);
        kafka_request_t req;
        kafka_parse_t rc = kafka_request_parse((const uint8_t *)buf, len, &a, &req);
        if (rc != KAFKA_PARSE_OK) {
            test_fail(__FILE__, __LINE__, "%s: parse %d", e->d_name, rc);
        } else {
            /* Header bytes, then the body re-encoded: the whole request again. */
            kafka_out_t o;
            kafka_out_init(&o, 256);
            kafka_encode(req.api->request, req.api_version, req.flexible, req.body, &o);
            size_t body_at = len - o.w.len;
            if (o.w.len > len || memcmp(buf + body_at, o.w.buf, o.w.len) != 0)
                test_fail(__FILE__, __LINE__, "%s: re-encoded body differs", e->d_name);
            kafka_out_free(&o);
        }
        arena_free(&a);
        free(buf);
        files++;
    }
    closedir(d);
    CHECK(files >= 60);
}
