/* http unit tests. Most feed raw request bytes through a connection's parser without sockets
 * (answers collected in the server's sink) and compare the exact answer bytes; the last ones
 * run a real server: answers completed by other threads in pipelined order, and the 408 of a
 * request that never finishes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http_int.h"
#include "test.h"

static void echo(http_req_t *req, void *arg) {
    wr_t w;
    wr_init(&w, 64);
    wr_fmt(&w, "%s %s", http_req_method(req), http_req_path(req));
    const char *names[] = {"id", "subject", "version", "n", "rest"};
    for (size_t i = 0; i < EDDY_ARRAY_LEN(names); i++) {
        const char *v = http_req_param(req, names[i]);
        if (v) wr_fmt(&w, " %s=%s", names[i], v);
    }
    const char *limit = http_req_query(req, "limit"), *name = http_req_query(req, "name");
    if (limit) wr_fmt(&w, " limit=%s", limit);
    if (name) wr_fmt(&w, " name=%s", name);
    eddy_view_t body = http_req_body(req);
    if (body.len) wr_fmt(&w, " body=%.*s", (int)body.len, body.ptr);
    http_respond(req, 200, "text/plain", w.buf, w.len);
    wr_free(&w);
}

static void literal(http_req_t *req, void *arg) { http_respond(req, 200, "text/plain", "literal", 7); }

static void json_in(http_req_t *req, void *arg) {
    json_doc_t doc;
    json_doc_init(&doc);
    if (http_req_json(req, &doc) == EDDY_OK) {
        wr_t w;
        wr_init(&w, 64);
        json_write_node(&w, &doc, 0);
        http_respond_json(req, 201, &w);
        wr_free(&w);
    }
    json_doc_free(&doc);
}

static void stream(http_req_t *req, void *arg) {
    http_stream_begin(req, 200, "text/plain");
    http_stream_write(req, "hello ", 6);
    http_stream_write(req, "world", 5);
    http_stream_end(req);
}

static http_server_t *make_server(const http_server_opts_t *in, metrics_registry_t *reg) {
    http_server_opts_t o = in ? *in : (http_server_opts_t){0};
    o.metrics = reg;
    http_server_t *srv = NULL;
    char err[256];
    if (http_server_new(&o, &srv, err, sizeof err) != EDDY_OK) return NULL;
    http_server_route(srv, "*", "/echo/{rest*}", echo, NULL);
    http_server_route(srv, "GET", "/api/leaves/{id}/tags", echo, NULL);
    http_server_route(srv, "POST", "/api/leaves/{id}/tags", echo, NULL);
    http_server_route(srv, "DELETE", "/api/leaves/{id}/tags", echo, NULL);
    http_server_route(srv, "GET", "/api/leaves/special/tags", literal, NULL);
    http_server_route(srv, "GET", "/subjects/{subject}/versions/{version}", echo, NULL);
    http_server_route(srv, "GET", "/api/leaves&rows={n}", echo, NULL);
    http_server_route(srv, "POST", "/json", json_in, NULL);
    http_server_route(srv, "GET", "/stream", stream, NULL);
    return srv;
}

/* Feeds input as one connection would receive it, in pieces of `step` bytes (0: at once), and
 * returns every answer byte. */
static char *run_step(http_server_t *srv, const char *input, size_t step) {
    wr_t sink;
    wr_init(&sink, 256);
    srv->sink = &sink;
    http_conn_t hc;
    http_conn_init(&hc, srv, NULL);
    size_t len = strlen(input), off = 0, avail = step ? EDDY_MIN(step, len) : len;
    while (off < len) {
        size_t n = http_conn_feed(&hc, (const uint8_t *)input + off, avail - off);
        off += n;
        if (off == avail) avail = step ? EDDY_MIN(avail + step, len) : len;
        if (!n && off < avail) break;
    }
    http_conn_free(&hc);
    srv->sink = NULL;
    wr_u8(&sink, 0);
    return (char *)wr_steal(&sink, NULL);
}

static char *run(http_server_t *srv, const char *input) { return run_step(srv, input, 0); }

#define CORS "Access-Control-Allow-Origin: *\r\n"

TEST(http_routes_params_and_queries) {
    http_server_t *srv = make_server(NULL, NULL);
    REQUIRE(srv);
    char *out = run(srv, "GET /api/leaves/abc%20d/tags?limit=10&name=a%2Bb+c HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_STR(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 57\r\n" CORS "\r\n"
                      "GET /api/leaves/abc%20d/tags id=abc d limit=10 name=a+b c");
    eddy_free(out);
    /* A literal segment wins over a parameter; a rest parameter takes slashes. */
    out = run(srv, "GET /api/leaves/special/tags HTTP/1.1\r\n\r\nGET /echo/a/b%2Fc HTTP/1.1\r\n\r\n"
                   "GET /subjects/s1/versions/latest/ HTTP/1.1\r\n\r\nGET /api/leaves&rows=5 HTTP/1.1\r\n\r\n");
    CHECK(strstr(out, "\r\n\r\nliteral") != NULL);
    CHECK(strstr(out, "GET /echo/a/b%2Fc rest=a/b/c") != NULL);
    CHECK(strstr(out, "subject=s1 version=latest") != NULL);
    CHECK(strstr(out, "GET /api/leaves&rows=5 n=5") != NULL);
    eddy_free(out);
    CHECK_EQ_INT(http_server_route(srv, "GET", "/api/leaves/{id}/tags", echo, NULL), EDDY_ERR_EXISTS);
    CHECK_EQ_INT(http_server_route(srv, "GET", "no-slash", echo, NULL), EDDY_ERR_INVALID);
    CHECK_EQ_INT(http_server_route(srv, "GET", "/a/{x", echo, NULL), EDDY_ERR_INVALID);
    CHECK_EQ_INT(http_server_route(srv, "GET", "/a/{x*}/b", echo, NULL), EDDY_ERR_INVALID);
    http_server_free(srv);
}

TEST(http_errors_are_json) {
    http_server_t *srv = make_server(NULL, NULL);
    REQUIRE(srv);
    char *out = run(srv, "GET /nope HTTP/1.1\r\n\r\n");
    CHECK_EQ_STR(out, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 53\r\n" CORS
                      "\r\n{\"error_code\":404,\"message\":\"no route for GET /nope\"}");
    eddy_free(out);
    out = run(srv, "PUT /api/leaves/x/tags HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    CHECK(strncmp(out, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
    CHECK(strstr(out, "Allow: GET,HEAD,POST,DELETE,OPTIONS\r\n") != NULL);
    CHECK(strstr(out, "\"error_code\":405") != NULL);
    eddy_free(out);
    /* Malformed: 400 JSON, then the connection closes (nothing after it is answered). */
    out = run(srv, "GET /health HTTP/1.1\r\nBad Header\r\n\r\nGET /health HTTP/1.1\r\n\r\n");
    CHECK(strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    CHECK(strstr(out, "Connection: close\r\n") != NULL);
    CHECK(strstr(out, "{\"error_code\":400,\"message\":\"malformed HTTP request: ") != NULL);
    CHECK(strstr(out + 10, "HTTP/1.1") == NULL);
    eddy_free(out);
    out = run(srv, "POST /json HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"a\": [1,");
    CHECK(strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    CHECK(strstr(out, "\"message\":\"malformed JSON at byte") != NULL);
    eddy_free(out);
    out = run(srv, "POST /json HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"a\": [1, 2]}");
    CHECK(strstr(out, "HTTP/1.1 201 Created\r\n") == out);
    CHECK(strstr(out, "\r\n\r\n{\"a\":[1,2]}") != NULL);
    eddy_free(out);
    http_server_free(srv);
}

TEST(http_limits) {
    http_server_opts_t o = {.max_header_bytes = 256, .max_headers = 4, .max_body_bytes = 10};
    http_server_t *srv = make_server(&o, NULL);
    REQUIRE(srv);
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char req[1024];
    snprintf(req, sizeof req, "GET /health HTTP/1.1\r\nX-Big: %s\r\n\r\n", big);
    char *out = run(srv, req);
    CHECK(strncmp(out, "HTTP/1.1 431 Request Header Fields Too Large\r\n", 46) == 0);
    CHECK(strstr(out, "\"error_code\":431") != NULL);
    eddy_free(out);
    snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\n\r\n", big);
    out = run(srv, req);
    CHECK(strncmp(out, "HTTP/1.1 414 URI Too Long\r\n", 27) == 0);
    eddy_free(out);
    out = run(srv, "GET /health HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n");
    CHECK(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
    CHECK(strstr(out, "too many request header fields") != NULL);
    eddy_free(out);
    /* A declared length over the limit is refused before any body byte is buffered. */
    out = run(srv, "POST /echo/x HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
    CHECK(strncmp(out, "HTTP/1.1 413 Payload Too Large\r\n", 32) == 0);
    CHECK(strstr(out, "\"error_code\":413,\"message\":\"request body too large\"") != NULL);
    eddy_free(out);
    out = run(srv, "POST /echo/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
    CHECK(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
    eddy_free(out);
    http_server_free(srv);
}

TEST(http_pipelining_chunked_bodies_and_partial_reads) {
    http_server_t *srv = make_server(NULL, NULL);
    REQUIRE(srv);
    const char *in = "POST /echo/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                     "GET /echo/2 HTTP/1.1\r\n\r\n"
                     "POST /echo/3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    char *whole = run(srv, in);
    CHECK(strstr(whole, "POST /echo/1 rest=1 body=hello world") != NULL);
    char *p2 = strstr(whole, "GET /echo/2"), *p3 = strstr(whole, "POST /echo/3 rest=3 body=abc");
    CHECK(p2 && p3 && p2 < p3);
    /* Every split point gives the same answers. */
    for (size_t step = 1; step < 40; step += 7) {
        char *split = run_step(srv, in, step);
        CHECK_EQ_STR(split, whole);
        eddy_free(split);
    }
    eddy_free(whole);
    http_server_free(srv);
}

TEST(http_keepalive_head_options_continue_stream) {
    http_server_t *srv = make_server(NULL, NULL);
    REQUIRE(srv);
    char *out = run(srv, "GET /echo/a HTTP/1.0\r\n\r\n");
    CHECK(strstr(out, "Connection: close\r\n") != NULL);
    eddy_free(out);
    out = run(srv, "GET /echo/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(strstr(out, "Connection: keep-alive\r\n") != NULL);
    eddy_free(out);
    out = run(srv, "HEAD /echo/abc HTTP/1.1\r\n\r\n");
    CHECK_EQ_STR(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n" CORS "\r\n");
    eddy_free(out);
    out = run(srv, "OPTIONS /api/leaves/1/tags HTTP/1.1\r\nOrigin: http://x\r\nAccess-Control-Request-Method: POST\r\n"
                   "Access-Control-Request-Headers: content-type\r\n\r\n");
    CHECK(strncmp(out, "HTTP/1.1 204 No Content\r\n", 25) == 0);
    CHECK(strstr(out, "Access-Control-Allow-Methods: GET,HEAD,POST,DELETE,OPTIONS\r\n") != NULL);
    CHECK(strstr(out, "Access-Control-Allow-Headers: content-type\r\n") != NULL);
    CHECK(strstr(out, CORS) != NULL);
    eddy_free(out);
    out = run(srv, "OPTIONS /nothing HTTP/1.1\r\n\r\n");
    CHECK(strncmp(out, "HTTP/1.1 404 ", 13) == 0);
    eddy_free(out);
    out = run(srv, "POST /echo/c HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
    CHECK(strncmp(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 42) == 0);
    eddy_free(out);
    out = run(srv, "GET /stream HTTP/1.1\r\n\r\n");
    CHECK_EQ_STR(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n" CORS
                      "\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
    eddy_free(out);
    http_server_free(srv);
}

TEST(http_health_and_metrics) {
    metrics_registry_t *reg = metrics_registry_new();
    http_server_t *srv = make_server(NULL, reg);
    REQUIRE(srv);
    char *out = run(srv, "GET /health HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n");
    CHECK(strstr(out, "{\"status\":\"ok\",\"uptime_ms\":") != NULL);
    CHECK(strstr(out, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != NULL);
    CHECK(strstr(out, "# TYPE eddy_http_requests_total counter\n") != NULL);
    CHECK(strstr(out, "eddy_http_requests_total{route=\"/health\",method=\"GET\",code=\"2xx\"} 1\n") != NULL);
    CHECK(strstr(out, "eddy_http_requests_total{route=\"unmatched\",method=\"*\",code=\"4xx\"} 1\n") != NULL);
    CHECK(strstr(out, "eddy_http_request_duration_seconds_count{route=\"/health\",method=\"GET\"} 1\n") != NULL);
    eddy_free(out);
    http_server_free(srv);
    metrics_registry_free(reg);
}

/* ---- with sockets ---------------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    http_req_t *held[16];
    int n;
} holder_t;

static void hold(http_req_t *req, void *arg) {
    holder_t *h = arg;
    pthread_mutex_lock(&h->mu);
    h->held[h->n++] = req;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static int connect_to(http_server_t *srv) {
    char addr[80];
    http_server_listener_addr(srv, 0, addr, sizeof addr);
    char *colon = strrchr(addr, ':');
    *colon = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, addr, &a.sin_addr);
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the peer closes or `want` occurrences of "HTTP/1.1 " arrived. */
static char *read_answers(int fd, int want) {
    wr_t w;
    wr_init(&w, 1024);
    wr_u8(&w, 0);
    w.len--;
    char buf[4096];
    for (;;) {
        int seen = 0;
        for (const char *p = w.buf ? (const char *)w.buf : ""; (p = strstr(p, "HTTP/1.1 ")); p++) seen++;
        if (want && seen >= want) {
            /* the last answer's body: wait for its end */
            const char *last = (const char *)w.buf;
            for (const char *p = last; (p = strstr(p, "HTTP/1.1 ")); p++) last = p;
            const char *cl = strstr(last, "Content-Length: "), *end = strstr(last, "\r\n\r\n");
            if (cl && end && (size_t)(end + 4 - (const char *)w.buf) + (size_t)atoi(cl + 16) <= w.len) break;
        }
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n <= 0) break;
        wr_bytes(&w, buf, (size_t)n);
        wr_u8(&w, 0);
        w.len--;
    }
    wr_u8(&w, 0);
    return (char *)wr_steal(&w, NULL);
}

TEST(http_async_answers_in_order_over_sockets) {
    holder_t h = {.n = 0};
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    http_server_t *srv = NULL;
    char err[256];
    http_server_opts_t o = {0};
    REQUIRE_OK(http_server_new(&o, &srv, err, sizeof err));
    REQUIRE_OK(http_server_route(srv, "GET", "/hold/{id}", hold, &h));
    REQUIRE_OK(http_server_listen(srv, "127.0.0.1:0", err, sizeof err));
    REQUIRE_OK(http_server_start(srv, err, sizeof err));
    int fd = connect_to(srv);
    REQUIRE(fd >= 0);
    const char *reqs = "GET /hold/0 HTTP/1.1\r\n\r\nGET /hold/1 HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n"
                       "GET /hold/3 HTTP/1.1\r\n\r\n";
    REQUIRE(send(fd, reqs, strlen(reqs), 0) == (ssize_t)strlen(reqs));
    pthread_mutex_lock(&h.mu);
    while (h.n < 3) pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    /* Answered backwards, from this (non-loop) thread. */
    for (int i = 2; i >= 0; i--) {
        char body[16];
        snprintf(body, sizeof body, "id %s", http_req_param(h.held[i], "id"));
        http_respond(h.held[i], 200, "text/plain", body, strlen(body));
    }
    char *out = read_answers(fd, 4);
    const char *a0 = strstr(out, "id 0"), *a1 = strstr(out, "id 1"), *a2 = strstr(out, "\"status\":\"ok\""),
               *a3 = strstr(out, "id 3");
    CHECK(a0 && a1 && a2 && a3 && a0 < a1 && a1 < a2 && a2 < a3);
    eddy_free(out);
    close(fd);
    http_server_free(srv);
    pthread_mutex_destroy(&h.mu);
    pthread_cond_destroy(&h.cv);
}

TEST(http_header_timeout_answers_408) {
    http_server_t *srv = NULL;
    char err[256];
    http_server_opts_t o = {.header_timeout_ms = 50};
    REQUIRE_OK(http_server_new(&o, &srv, err, sizeof err));
    REQUIRE_OK(http_server_listen(srv, "127.0.0.1:0", err, sizeof err));
    REQUIRE_OK(http_server_start(srv, err, sizeof err));
    int fd = connect_to(srv);
    REQUIRE(fd >= 0);
    const char *part = "GET /health HTTP/1.1\r\nHost: x\r\n";
    REQUIRE(send(fd, part, strlen(part), 0) == (ssize_t)strlen(part));
    char *out = read_answers(fd, 0); /* until the server closes */
    CHECK(strncmp(out, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0);
    CHECK(strstr(out, "{\"error_code\":408,\"message\":\"timed out reading the request headers\"}") != NULL);
    eddy_free(out);
    close(fd);
    http_server_free(srv);
}
