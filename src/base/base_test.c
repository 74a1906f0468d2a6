/* Unit tests for base: reader/writer, varints, CRC32C, Murmur3, time, histograms, flags. */
#include <stdlib.h>

#include "base/base.h"
#include "test.h"

TEST(reader_sticky_error) {
    uint8_t buf[] = {0x01, 0x02, 0x03};
    rd_t r = rd_init(buf, sizeof buf);
    CHECK_EQ_INT(rd_u16(&r), 0x0102);
    CHECK_EQ_INT(rd_u32(&r), 0); /* short read */
    CHECK_EQ_INT(r.err, EDDY_ERR_NEED_MORE);
    CHECK_EQ_INT(rd_u8(&r), 0); /* sticky: even though one byte is left */
    CHECK(!rd_ok(&r));
}

TEST(writer_roundtrip_and_patch) {
    wr_t w;
    wr_init(&w, 0);
    size_t len_at = wr_mark(&w, 4);
    wr_i16(&w, -2);
    wr_i64(&w, INT64_MIN);
    wr_f64(&w, 1.5);
    wr_str(&w, "abc");
    wr_patch_u32(&w, len_at, (uint32_t)(w.len - 4));
    REQUIRE(wr_ok(&w));
    rd_t r = rd_init(w.buf, w.len);
    CHECK_EQ_INT(rd_u32(&r), w.len - 4);
    CHECK_EQ_INT(rd_i16(&r), -2);
    CHECK(rd_i64(&r) == INT64_MIN);
    CHECK(rd_f64(&r) == 1.5);
    eddy_view_t v = rd_view(&r, 3);
    CHECK(eddy_view_eq_str(v, "abc"));
    CHECK(rd_ok(&r) && rd_remaining(&r) == 0);
    wr_free(&w);
}

TEST(writer_max_size) {
    wr_t w;
    wr_init(&w, 0);
    w.max = 10;
    wr_bytes(&w, "0123456789", 10);
    CHECK(wr_ok(&w));
    wr_u8(&w, 1);
    CHECK_EQ_INT(w.err, EDDY_ERR_TOO_LARGE);
    wr_free(&w);
}

TEST(varints) {
    int64_t values[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    wr_t w;
    wr_init(&w, 0);
    for (size_t i = 0; i < EDDY_ARRAY_LEN(values); i++) {
        size_t before = w.len;
        wr_varint(&w, values[i]);
        CHECK_EQ_INT(w.len - before, varint_size_signed(values[i]));
    }
    rd_t r = rd_init(w.buf, w.len);
    for (size_t i = 0; i < EDDY_ARRAY_LEN(values); i++) CHECK(rd_varint64(&r) == values[i]);
    CHECK(rd_ok(&r));
    /* Kafka's zigzag: -1 -> 0x01, 1 -> 0x02 */
    wr_reset(&w);
    wr_varint(&w, -1);
    wr_varint(&w, 1);
    CHECK(w.buf[0] == 1 && w.buf[1] == 2);
    /* A varint32 over 5 bytes is corrupt */
    uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    r = rd_init(bad, sizeof bad);
    rd_uvarint32(&r);
    CHECK_EQ_INT(r.err, EDDY_ERR_CORRUPT);
    wr_free(&w);
}

TEST(crc32c_vectors) {
    CHECK_EQ_INT(crc32c("123456789", 9), 0xE3069283u);
    CHECK_EQ_INT(crc32c("", 0), 0);
    /* extend in pieces equals one pass */
    const char *s = "The quick brown fox jumps over the lazy dog, many times over.";
    uint32_t whole = crc32c(s, strlen(s));
    uint32_t part = crc32c_extend(crc32c(s, 7), s + 7, strlen(s) - 7);
    CHECK_EQ_INT(whole, part);
}

TEST(murmur3_matches_cassandra) {
    /* Vectors from the DataStax Python driver's cassandra.murmur3 (see docs/ARCHITECTURE.md). */
    CHECK(murmur3_token("k1", 2) == -8074529310846540294LL);
    CHECK(murmur3_token("hello", 5) == -3758069500696749310LL);
    CHECK(murmur3_token("0123456789abcdef", 16) == 5467490433528156583LL);
    CHECK(murmur3_token("caf\xc3\xa9", 5) == -5777272221172978824LL);
    CHECK(murmur3_token("\xc3\x86r\xc3\xb8", 5) == -888750257854831191LL);
    uint8_t composite[] = {0x00, 0x07, 't', 'e', 'n', 'a', 'n', 't', '1', 0x00,
                           0x00, 0x04, 0x00, 0x00, 0x00, 0x07, 0x00};
    CHECK(murmur3_token(composite, sizeof composite) == -4890400282233975015LL);
    CHECK(murmur3_token("", 0) == INT64_MIN);
}

TEST(time_iso8601) {
    char buf[40];
    time_format_iso8601(0, buf, sizeof buf);
    CHECK_EQ_STR(buf, "1970-01-01T00:00:00.000Z");
    time_format_iso8601(1704164645678LL, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2024-01-02T03:04:05.678Z");
    time_format_iso8601(-1, buf, sizeof buf);
    CHECK_EQ_STR(buf, "1969-12-31T23:59:59.999Z");
    time_format_iso8601(INT64_MIN, buf, sizeof buf); /* no overflow at the extremes (UBSan) */
    CHECK_EQ_STR(buf, "-292275055-05-16T16:47:04.192Z");
    time_format_iso8601(INT64_MAX, buf, sizeof buf);
    CHECK_EQ_STR(buf, "292278994-08-17T07:12:55.807Z");
    int64_t ms;
    CHECK_OK(time_parse_iso8601("2024-01-02T03:04:05.678Z", 24, &ms));
    CHECK(ms == 1704164645678LL);
    CHECK_OK(time_parse_iso8601("2024-01-02", 10, &ms));
    CHECK(ms == 1704153600000LL);
    CHECK_OK(time_parse_iso8601("2024-01-02 03:04", 16, &ms));
    CHECK(ms == 1704164640000LL);
    CHECK_OK(time_parse_iso8601("2024-01-02T04:04:05+0100", 24, &ms));
    CHECK(ms == 1704164645000LL);
    CHECK_OK(time_parse_iso8601("2024-01-02T04:04:05+01:00", 25, &ms));
    CHECK(ms == 1704164645000LL);
    CHECK(time_parse_iso8601("2024-13-02", 10, &ms) == EDDY_ERR_INVALID);
    CHECK(time_parse_iso8601("yesterday", 9, &ms) == EDDY_ERR_INVALID);
    CHECK(time_parse_iso8601("2024-01-02T03:04:05Zjunk", 24, &ms) == EDDY_ERR_INVALID);
}

TEST(histogram_quantiles) {
    hist_t *h = malloc(sizeof *h);
    hist_init(h);
    for (uint64_t v = 1; v <= 100000; v++) hist_record(h, v);
    uint64_t p50 = hist_quantile(h, 0.5), p99 = hist_quantile(h, 0.99);
    CHECK(p50 >= 48500 && p50 <= 51500);
    CHECK(p99 >= 96000 && p99 <= 100000);
    CHECK_EQ_INT(hist_quantile(h, 1.0), 100000);
    CHECK_EQ_INT(hist_quantile(h, 0.0), 1);
    hist_record(h, UINT64_MAX); /* the largest value lands in the last bucket, no overflow */
    CHECK(hist_quantile(h, 1.0) == UINT64_MAX);
    free(h);
}

TEST(flags_parse_and_errors) {
    const char *data = NULL;
    int64_t n = 0;
    bool verbose = false;
    flag_list_t listen = {0};
    flag_t flags[] = {
        {"data", 'd', FLAG_STRING, &data, "DIR", "data directory"},
        {"count", 0, FLAG_INT, &n, "N", "a count"},
        {"verbose", 'v', FLAG_BOOL, &verbose, NULL, "talk more"},
        {"listen", 0, FLAG_STRING_LIST, &listen, "HOST:PORT", "listen"},
    };
    char *argv[] = {"eddy", "--data", "/tmp/x", "--count=5", "-v", "--listen", "a:1", "--listen=b:2", "rest"};
    int i = 1;
    char err[128];
    CHECK_OK(flags_parse(flags, 4, 9, argv, &i, err, sizeof err));
    CHECK_EQ_STR(data, "/tmp/x");
    CHECK_EQ_INT(n, 5);
    CHECK(verbose);
    CHECK_EQ_INT(listen.count, 2);
    CHECK_EQ_STR(listen.items[1], "b:2");
    CHECK_EQ_INT(i, 8);
    char *bad[] = {"eddy", "--nope"};
    i = 1;
    CHECK(flags_parse(flags, 4, 2, bad, &i, err, sizeof err) == EDDY_ERR_INVALID);
    CHECK(strstr(err, "--nope") != NULL);
    char *missing[] = {"eddy", "--count"};
    i = 1;
    CHECK(flags_parse(flags, 4, 2, missing, &i, err, sizeof err) == EDDY_ERR_INVALID);
    flag_list_free(&listen);
}

TEST(hostport) {
    char host[64];
    int port;
    CHECK_OK(base_parse_hostport("127.0.0.1:9092", host, sizeof host, &port));
    CHECK_EQ_STR(host, "127.0.0.1");
    CHECK_EQ_INT(port, 9092);
    CHECK_OK(base_parse_hostport("[::1]:0", host, sizeof host, &port));
    CHECK_EQ_STR(host, "::1");
    CHECK_EQ_INT(port, 0);
    CHECK(base_parse_hostport("::1:9092", host, sizeof host, &port) == EDDY_ERR_INVALID);
    CHECK(base_parse_hostport("localhost", host, sizeof host, &port) == EDDY_ERR_INVALID);
    CHECK(base_parse_hostport("h:70000", host, sizeof host, &port) == EDDY_ERR_INVALID);
}

TEST(alloc_failure_injection) {
    eddy_alloc_fail_after(1);
    void *a = eddy_malloc(8);
    void *b = eddy_malloc(8);
    eddy_alloc_fail_after(-1);
    CHECK(a != NULL);
    CHECK(b == NULL);
    eddy_free(a);
}

TEST(arena_allocations) {
    arena_t a;
    arena_init(&a, 128);
    char *s = arena_strndup(&a, "hello", 5);
    CHECK_EQ_STR(s, "hello");
    void *big = arena_alloc(&a, 1000); /* larger than a chunk */
    CHECK(big != NULL && ((uintptr_t)big & 15) == 0);
    arena_reset(&a);
    CHECK_EQ_INT(a.total, 0);
    CHECK(arena_alloc(&a, 16) != NULL);
    arena_free(&a);
}
