/* Fuzz target: arbitrary bytes through an HTTP connection's request handling, without sockets:
 * http-parser, the limits, header joining, routing with parameters, query decoding, JSON
 * bodies, CORS/OPTIONS, error answers and streamed answers. The first byte picks how the input
 * is split into reads (every split must give the same answers as a single read). Answers must
 * each start with a status line. */
#include <stdlib.h>

#include "http/http_int.h"

static void echo(http_req_t *req, void *arg) {
    wr_t w;
    wr_init(&w, 64);
    const char *names[] = {"id", "v", "rest"};
    for (size_t i = 0; i < 3; i++) {
        const char *p = http_req_param(req, names[i]);
        if (p) wr_str(&w, p);
    }
    const char *q = http_req_query(req, "limit");
    if (q) wr_str(&w, q);
    const char *h = http_req_header(req, "content-type");
    if (h) wr_str(&w, h);
    eddy_view_t b = http_req_body(req);
    wr_bytes(&w, b.ptr, b.len);
    http_respond(req, 200, "text/plain", w.buf, w.len);
    wr_free(&w);
}

static void json(http_req_t *req, void *arg) {
    json_doc_t doc;
    json_doc_init(&doc);
    if (http_req_json(req, &doc) == EDDY_OK) {
        wr_t w;
        wr_init(&w, 64);
        json_write_node(&w, &doc, 0);
        http_respond_json(req, 200, &w);
        wr_free(&w);
    }
    json_doc_free(&doc);
}

static void stream(http_req_t *req, void *arg) {
    http_stream_begin(req, 200, "text/plain");
    http_stream_write(req, "a", 1);
    http_stream_end(req);
}

static bool serves(void *arg, const char *path) { return !strncmp(path, "/m/", 3); }

static http_server_t *server(void) {
    static http_server_t *srv;
    static metrics_registry_t *reg;
    if (srv) return srv;
    reg = metrics_registry_new();
    http_server_opts_t o = {.metrics = reg, .max_header_bytes = 2048, .max_headers = 20, .max_body_bytes = 4096};
    char err[128];
    if (http_server_new(&o, &srv, err, sizeof err) != EDDY_OK) abort();
    http_server_route(srv, "GET", "/a/{id}/b", echo, NULL);
    http_server_route(srv, "*", "/r/{rest*}", echo, NULL);
    http_server_route(srv, "POST", "/x/v{v}.json", echo, NULL);
    http_server_route(srv, "POST", "/json", json, NULL);
    http_server_route(srv, "GET", "/s", stream, NULL);
    http_server_mount(srv, "m", serves, echo, NULL);
    return srv;
}

static void feed(http_server_t *srv, const uint8_t *data, size_t size, size_t step, wr_t *sink) {
    srv->sink = sink;
    http_conn_t hc;
    http_conn_init(&hc, srv, NULL);
    size_t off = 0;
    while (off < size) {
        size_t avail = step ? EDDY_MIN(size - off, step) : size - off;
        size_t n = http_conn_feed(&hc, data + off, avail);
        if (n == 0 || n > avail) abort();
        off += n;
    }
    http_conn_free(&hc);
    srv->sink = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    http_server_t *srv = server();
    size_t step = data[0] % 16;
    data++;
    size--;
    wr_t whole, split;
    wr_init(&whole, 256);
    wr_init(&split, 256);
    feed(srv, data, size, 0, &whole);
    feed(srv, data, size, step, &split);
    /* /health's uptime and /metrics' counts differ between the two runs; nothing else may. */
    bool varies = memmem(data, size, "/health", 7) || memmem(data, size, "/metrics", 8);
    if (!varies && (whole.len != split.len || (whole.len && memcmp(whole.buf, split.buf, whole.len)))) abort();
    if (whole.len && (whole.len < 9 || memcmp(whole.buf, "HTTP/1.1 ", 9))) abort();
    wr_free(&whole);
    wr_free(&split);
    return 0;
}
