/* The HTTP server: a net protocol that feeds each connection's bytes through http-parser,
 * enforces the limits before buffering (header bytes, header count, body size), arms one
 * timer per connection only while a request is incomplete (a request that arrives whole never
 * touches a timer), and hands complete requests to the router in order. */
#include <stdio.h>
#include <strings.h>

#include "http/http_int.h"

/* ---- requests ------------------------------------------------------------------------------ */

/* Requests come from a small per-server cache of arenas (each keeps its first 4 KiB chunk), so
 * a steady stream of requests allocates nothing and glibc never trims and regrows its heap
 * between bursts. Any thread may free a request (answers come from anywhere): a mutex guards
 * the cache. */
static http_req_t *req_new(http_server_t *srv) {
    arena_t a;
    pthread_mutex_lock(&srv->cache_mu);
    http_req_t *cached = srv->req_cache;
    if (cached) {
        srv->req_cache = cached->job_next;
        srv->ncache--;
    }
    pthread_mutex_unlock(&srv->cache_mu);
    if (cached) a = cached->arena; /* reset when cached: its one chunk is empty */
    else arena_init(&a, 4096);
    http_req_t *req = arena_alloc(&a, sizeof *req);
    if (!req) {
        arena_free(&a);
        return NULL;
    }
    memset(req, 0, sizeof *req);
    req->arena = a;
    req->srv = srv;
    req->path = req->query = "";
    req->start_ns = time_mono_ns();
    wr_init(&req->body, 0);
    wr_init(&req->resp_headers, 0);
    return req;
}

void http_req_free(http_req_t *req) {
    if (!req) return;
    http_server_t *srv = req->srv;
    wr_free(&req->body);
    wr_free(&req->resp_headers);
    arena_t a = req->arena;
    arena_reset(&a);
    http_req_t *shell = a.head ? arena_alloc(&a, sizeof *shell) : NULL;
    pthread_mutex_lock(&srv->cache_mu);
    bool keep = shell && srv->ncache < srv->cache_max;
    if (keep) {
        arena_reset(&a); /* the shell lives at the chunk's start; req_new allocates it again */
        shell->arena = a;
        shell->job_next = srv->req_cache;
        srv->req_cache = shell;
        srv->ncache++;
    }
    pthread_mutex_unlock(&srv->cache_mu);
    if (!keep) arena_free(&a);
}

static void req_cache_free(http_server_t *srv) {
    while (srv->req_cache) {
        http_req_t *r = srv->req_cache;
        srv->req_cache = r->job_next;
        arena_t a = r->arena;
        arena_free(&a);
    }
    srv->ncache = 0;
}

/* ---- parser callbacks ---------------------------------------------------------------------- */

static int fail(http_conn_t *hc, int status, const char *msg) {
    hc->err_status = status;
    snprintf(hc->err_msg, sizeof hc->err_msg, "%s", msg);
    return -1;
}

/* Counts request-line and header bytes against the limit before they are buffered. */
static int count_header_bytes(http_conn_t *hc, size_t n, int status) {
    hc->header_bytes += n;
    if (hc->header_bytes > hc->srv->opts.max_header_bytes)
        return fail(hc, status, status == 414 ? "request URI too long" : "request header fields too large");
    return 0;
}

static int on_message_begin(http_parser *p) {
    http_conn_t *hc = p->data;
    hc->req = req_new(hc->srv);
    if (!hc->req) return fail(hc, 503, "out of memory");
    hc->in_message = true;
    hc->headers_done = false;
    hc->header_bytes = 0;
    hc->in_value = false;
    wr_reset(&hc->url);
    wr_reset(&hc->field);
    wr_reset(&hc->value);
    hc->begin_ms = hc->req->start_ns / 1000000;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
    http_conn_t *hc = p->data;
    if (count_header_bytes(hc, n, 414)) return -1;
    wr_bytes(&hc->url, at, n);
    return 0;
}

/* Moves the header being accumulated into the request. Repeated names are joined with ", ". */
static int header_flush(http_conn_t *hc) {
    http_req_t *req = hc->req;
    if (!hc->field.len) return 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strlen(req->headers[i].name) == hc->field.len &&
            !strncasecmp(req->headers[i].name, (const char *)hc->field.buf, hc->field.len)) {
            size_t old = strlen(req->headers[i].value);
            char *v = arena_alloc(&req->arena, old + 2 + hc->value.len + 1);
            if (!v) return fail(hc, 503, "out of memory");
            memcpy(v, req->headers[i].value, old);
            memcpy(v + old, ", ", 2);
            memcpy(v + old + 2, hc->value.buf ? (const char *)hc->value.buf : "", hc->value.len);
            v[old + 2 + hc->value.len] = 0;
            req->headers[i].value = v;
            goto done;
        }
    }
    if (req->nheaders >= hc->srv->opts.max_headers) return fail(hc, 431, "too many request header fields");
    if (req->nheaders == req->cap_headers) {
        size_t cap = req->cap_headers ? req->cap_headers * 2 : 16;
        http_kv_t *h = arena_alloc(&req->arena, cap * sizeof *h);
        if (!h) return fail(hc, 503, "out of memory");
        if (req->nheaders) memcpy(h, req->headers, req->nheaders * sizeof *h);
        req->headers = h;
        req->cap_headers = cap;
    }
    req->headers[req->nheaders].name = arena_strndup(&req->arena, (const char *)hc->field.buf, hc->field.len);
    req->headers[req->nheaders].value =
        arena_strndup(&req->arena, hc->value.buf ? (const char *)hc->value.buf : "", hc->value.len);
    if (!req->headers[req->nheaders].name || !req->headers[req->nheaders].value)
        return fail(hc, 503, "out of memory");
    req->nheaders++;
done:
    wr_reset(&hc->field);
    wr_reset(&hc->value);
    hc->in_value = false;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
    http_conn_t *hc = p->data;
    if (count_header_bytes(hc, n + 4, 431)) return -1; /* ": " and CRLF count too */
    if (hc->in_value && header_flush(hc)) return -1;
    wr_bytes(&hc->field, at, n);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
    http_conn_t *hc = p->data;
    if (count_header_bytes(hc, n, 431)) return -1;
    hc->in_value = true;
    wr_bytes(&hc->value, at, n);
    return 0;
}

static void answer_continue(http_conn_t *hc);

static int on_headers_complete(http_parser *p) {
    http_conn_t *hc = p->data;
    http_req_t *req = hc->req;
    if (header_flush(hc)) return -1;
    if (!wr_ok(&hc->url) || !wr_ok(&hc->field) || !wr_ok(&hc->value)) return fail(hc, 503, "out of memory");
    req->target = arena_strndup(&req->arena, hc->url.buf ? (const char *)hc->url.buf : "", hc->url.len);
    if (!req->target) return fail(hc, 503, "out of memory");
    char *q = strchr(req->target, '?');
    char *frag = strchr(req->target, '#');
    if (frag) *frag = 0;
    if (q) {
        *q = 0;
        req->query = q + 1;
    }
    req->path = req->target;
    /* Origin form only ("/path?query"); "OPTIONS *" is the one exception HTTP allows here. */
    if (req->path[0] != '/' && !(p->method == HTTP_OPTIONS && !strcmp(req->path, "*")))
        return fail(hc, 400, "the request target must be an absolute path");
    req->method = p->method;
    req->method_str = http_method_str(p->method);
    req->head = p->method == HTTP_HEAD;
    req->http_minor = (uint8_t)(p->http_major == 1 ? p->http_minor : 0);
    hc->headers_done = true;
    hc->headers_ms = time_mono_ms();
    /* The announced body must fit before a byte of it is buffered. */
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > hc->srv->opts.max_body_bytes)
        return fail(hc, 413, "request body too large");
    if (p->http_major == 1 && p->http_minor >= 1) {
        const char *expect = http_req_header(req, "Expect");
        if (expect && !strcasecmp(expect, "100-continue") &&
            ((p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length > 0)))
            answer_continue(hc);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
    http_conn_t *hc = p->data;
    http_req_t *req = hc->req;
    if (req->body.len + n > hc->srv->opts.max_body_bytes) return fail(hc, 413, "request body too large");
    wr_bytes(&req->body, at, n);
    if (!wr_ok(&req->body)) return fail(hc, 503, "out of memory");
    return 0;
}

static int on_message_complete(http_parser *p) {
    http_conn_t *hc = p->data;
    hc->req->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    hc->ready = true;
    hc->in_message = false;
    /* One request per call: net dispatches the next one only while under its bounds. */
    http_parser_pause(p, 1);
    return 0;
}

const http_parser_settings http_parser_callbacks = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- connections ------------------------------------------------------------------------- */

void http_conn_init(http_conn_t *hc, http_server_t *srv, net_conn_t *conn) {
    memset(hc, 0, sizeof *hc);
    hc->srv = srv;
    hc->conn = conn;
    http_parser_init(&hc->parser, HTTP_REQUEST);
    hc->parser.data = hc;
    wr_init(&hc->url, 0);
    wr_init(&hc->field, 0);
    wr_init(&hc->value, 0);
}

void http_conn_free(http_conn_t *hc) {
    http_req_free(hc->req);
    hc->req = NULL;
    wr_free(&hc->url);
    wr_free(&hc->field);
    wr_free(&hc->value);
}

/* A request object to carry an answer that no complete request asked for (errors, 100). */
static http_req_t *conn_answer_req(http_conn_t *hc) {
    http_req_t *req = req_new(hc->srv);
    if (!req) return NULL;
    req->method_str = "?";
    req->http_minor = 1;
    if (hc->conn) {
        req->slot = net_slot_reserve(hc->conn, NET_SLOT_ORDERED);
        req->conn = hc->conn;
        if (!req->slot) {
            http_req_free(req);
            return NULL;
        }
    }
    return req;
}

static void answer_continue(http_conn_t *hc) {
    http_req_t *req = conn_answer_req(hc);
    if (!req) return;
    req->keep_alive = true;
    http_respond(req, 100, NULL, NULL, 0);
}

/* Answers an error for the connection (in order after earlier answers), then closes it. */
static void conn_fail(http_conn_t *hc, int status, const char *msg) {
    hc->dead = true;
    if (hc->conn) elog_debug("http", "%s: %d %s", net_conn_peer(hc->conn), status, msg);
    http_req_t *req = conn_answer_req(hc);
    if (req) {
        req->keep_alive = false;
        if (hc->req) req->head = hc->req->head;
        http_answer_error_now(req, status, msg);
    }
    if (hc->conn) net_conn_close_after_flush(hc->conn);
}

static void timer_fire(net_conn_t *conn, void *arg);

/* One timer per connection, armed only while a request is incomplete. */
static void timer_arm(http_conn_t *hc) {
    if (!hc->conn || hc->timer || hc->dead || !hc->in_message) return;
    const http_server_opts_t *o = &hc->srv->opts;
    int64_t now = time_mono_ms();
    int64_t deadline = hc->headers_done ? hc->headers_ms + (int64_t)o->body_timeout_ms
                                        : hc->begin_ms + (int64_t)o->header_timeout_ms;
    hc->timer = net_timer_start(hc->conn, (uint64_t)EDDY_MAX(deadline - now, 1), timer_fire, hc);
}

static void timer_fire(net_conn_t *conn, void *arg) {
    http_conn_t *hc = arg;
    hc->timer = NULL;
    if (hc->dead || !hc->in_message) return;
    const http_server_opts_t *o = &hc->srv->opts;
    int64_t now = time_mono_ms();
    bool expired = hc->headers_done ? now - hc->headers_ms >= (int64_t)o->body_timeout_ms
                                    : now - hc->begin_ms >= (int64_t)o->header_timeout_ms;
    if (expired) conn_fail(hc, 408, hc->headers_done ? "timed out reading the request body"
                                                     : "timed out reading the request headers");
    else timer_arm(hc);
}

static int parser_error_status(enum http_errno e) {
    return e == HPE_HEADER_OVERFLOW ? 431 : 400;
}

size_t http_conn_feed(http_conn_t *hc, const uint8_t *data, size_t len) {
    if (hc->dead) return len;
    size_t n = http_parser_execute(&hc->parser, &http_parser_callbacks, (const char *)data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&hc->parser);
    if (e == HPE_PAUSED) {
        http_parser_pause(&hc->parser, 0);
        e = HPE_OK;
    }
    if (e != HPE_OK) {
        int status = hc->err_status ? hc->err_status : parser_error_status(e);
        char msg[200];
        if (hc->err_status) snprintf(msg, sizeof msg, "%s", hc->err_msg);
        else snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(e));
        conn_fail(hc, status, msg);
        return len;
    }
    if (hc->ready) {
        hc->ready = false;
        http_req_t *req = hc->req;
        hc->req = NULL;
        if (hc->timer) {
            net_timer_stop(hc->timer);
            hc->timer = NULL;
        }
        if (hc->conn) {
            req->conn = hc->conn;
            req->slot = net_slot_reserve(hc->conn, NET_SLOT_ORDERED);
            if (!req->slot) {
                http_req_free(req);
                return len;
            }
            if (!req->keep_alive) {
                hc->dead = true;
                net_conn_close_after_flush(hc->conn);
            }
        }
        http_dispatch(hc->srv, req);
        /* The parser stopped right after this request: the rest is the next one. */
        return n;
    }
    timer_arm(hc);
    return len;
}

/* ---- the net protocol ---------------------------------------------------------------------- */

static int proto_open(net_conn_t *conn) {
    http_conn_t *hc = eddy_malloc(sizeof *hc);
    if (!hc) return EDDY_ERR_NOMEM;
    http_conn_init(hc, net_conn_ctx(conn), conn);
    net_conn_set_data(conn, hc);
    return EDDY_OK;
}

static ssize_t proto_data(net_conn_t *conn, const uint8_t *data, size_t len) {
    return (ssize_t)http_conn_feed(net_conn_data(conn), data, len);
}

static void proto_close(net_conn_t *conn) {
    http_conn_t *hc = net_conn_data(conn);
    if (!hc) return;
    http_conn_free(hc);
    eddy_free(hc);
    net_conn_set_data(conn, NULL);
}

static const net_proto_t http_proto = {proto_open, proto_data, proto_close};

/* ---- built-in routes ----------------------------------------------------------------------- */

static void handle_health(http_req_t *req, void *arg) {
    http_server_t *srv = arg;
    wr_t w;
    wr_init(&w, 128);
    bool ok = true;
    wr_t checks;
    wr_init(&checks, 64);
    for (size_t i = 0; i < srv->nhealth; i++) {
        if (i) wr_u8(&checks, ',');
        json_write_string(&checks, srv->health[i].name, strlen(srv->health[i].name));
        wr_u8(&checks, ':');
        size_t before = checks.len;
        if (!srv->health[i].fn(srv->health[i].arg, &checks)) ok = false;
        if (checks.len == before) wr_str(&checks, "null");
    }
    wr_fmt(&w, "{\"status\":\"%s\",\"uptime_ms\":%lld,\"checks\":{", ok ? "ok" : "error",
           (long long)(time_mono_ms() - srv->start_ms));
    wr_bytes(&w, checks.buf, checks.len);
    wr_str(&w, "}}");
    wr_free(&checks);
    http_respond_json(req, ok ? 200 : 503, &w);
    wr_free(&w);
}

static void handle_metrics(http_req_t *req, void *arg) {
    http_server_t *srv = arg;
    wr_t w;
    wr_init(&w, 16384);
    metrics_render(srv->opts.metrics, &w);
    if (!wr_ok(&w)) http_respond_error(req, 500, "out of memory rendering metrics");
    else http_respond(req, 200, METRICS_CONTENT_TYPE, w.buf, w.len);
    wr_free(&w);
}

int http_server_health_add(http_server_t *srv, const char *name, http_health_fn fn, void *arg) {
    if (srv->started || srv->nhealth == HTTP_MAX_ROUTE_HEALTH) return EDDY_ERR_INVALID;
    http_health_t *h = &srv->health[srv->nhealth++];
    snprintf(h->name, sizeof h->name, "%s", name);
    h->fn = fn;
    h->arg = arg;
    return EDDY_OK;
}

/* ---- servers ------------------------------------------------------------------------------- */

int http_server_new(const http_server_opts_t *opts, http_server_t **out, char *errstr, size_t errlen) {
    *out = NULL;
    http_server_t *srv = eddy_calloc(1, sizeof *srv);
    if (!srv) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    srv->opts = *opts;
    http_server_opts_t *o = &srv->opts;
    if (!o->name) o->name = "http";
    if (!o->max_header_bytes) o->max_header_bytes = 16 * 1024;
    if (!o->max_headers) o->max_headers = 100;
    if (!o->max_body_bytes) o->max_body_bytes = 16u << 20;
    if (!o->header_timeout_ms) o->header_timeout_ms = 10000;
    if (!o->body_timeout_ms) o->body_timeout_ms = 60000;
    if (!o->idle_timeout_ms) o->idle_timeout_ms = 60000;
    if (o->workers <= 0) o->workers = 2;
    if (o->workers > HTTP_MAX_WORKERS) o->workers = HTTP_MAX_WORKERS;
    pthread_mutex_init(&srv->sink_mu, NULL);
    pthread_mutex_init(&srv->pool_mu, NULL);
    pthread_mutex_init(&srv->cache_mu, NULL);
    srv->cache_max = HTTP_REQ_CACHE;
    pthread_cond_init(&srv->pool_cv, NULL);
    srv->start_ms = time_mono_ms();
    http_route_parse(&srv->unmatched, "/");
    if (o->metrics) {
        for (int c = 2; c <= 5; c++) {
            char cls[4] = {(char)('0' + c), 'x', 'x', 0};
            srv->unmatched.by_class[c] =
                metrics_counter(o->metrics, "eddy_http_requests_total", "HTTP requests answered, by route and status class.",
                                (const char *[]){"route", "unmatched", "method", "*", "code", cls, NULL});
        }
        srv->unmatched.latency =
            metrics_histogram(o->metrics, "eddy_http_request_duration_seconds",
                              "Time from a request's first byte to its answer, by route.",
                              (const char *[]){"route", "unmatched", "method", "*", NULL}, NULL, 0);
    }
    net_server_opts_t no = {
        .name = o->name,
        .proto = &http_proto,
        .ctx = srv,
        .threads = o->threads,
        .max_conns = o->max_conns,
        /* http-parser consumes every byte into the request, so net buffers almost nothing. */
        .max_input = 64 * 1024,
        .idle_timeout_ms = o->idle_timeout_ms,
    };
    int rc = net_server_new(&no, &srv->net, errstr, errlen);
    if (rc != EDDY_OK) goto err;
    if ((rc = http_server_route(srv, "GET", "/health", handle_health, srv)) != EDDY_OK) goto err;
    if (o->metrics) {
        if ((rc = http_server_route(srv, "GET", "/metrics", handle_metrics, srv)) != EDDY_OK) goto err;
        net_server_metrics(srv->net, o->metrics);
    }
    *out = srv;
    return EDDY_OK;
err:
    http_server_free(srv);
    if (rc == EDDY_ERR_NOMEM) eddy_err(errstr, errlen, rc, "out of memory");
    return rc;
}

int http_server_listen(http_server_t *srv, const char *hostport, char *errstr, size_t errlen) {
    return net_server_listen(srv->net, hostport, errstr, errlen);
}

int http_server_start(http_server_t *srv, char *errstr, size_t errlen) {
    srv->started = true;
    bool blocking = false;
    for (size_t i = 0; i < srv->nroutes; i++) blocking |= srv->routes[i].blocking;
    if (blocking && http_pool_start(srv) != EDDY_OK)
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "%s: cannot start worker threads", srv->opts.name);
    return net_server_start(srv->net, errstr, errlen);
}

size_t http_server_listener_count(const http_server_t *srv) { return net_server_listener_count(srv->net); }

int http_server_listener_addr(const http_server_t *srv, size_t i, char *out, size_t outlen) {
    return net_server_listener_addr(srv->net, i, out, outlen);
}

void http_server_stop(http_server_t *srv, uint64_t drain_ms) {
    if (!srv) return;
    if (srv->net) net_server_stop(srv->net, drain_ms);
    http_pool_stop(srv);
}

void http_server_free(http_server_t *srv) {
    if (!srv) return;
    http_server_stop(srv, 5000);
    net_server_free(srv->net);
    for (size_t i = 0; i < srv->nroutes; i++) http_route_free(&srv->routes[i]);
    http_route_free(&srv->unmatched);
    eddy_free(srv->routes);
    pthread_mutex_destroy(&srv->sink_mu);
    req_cache_free(srv);
    pthread_mutex_destroy(&srv->cache_mu);
    pthread_mutex_destroy(&srv->pool_mu);
    pthread_cond_destroy(&srv->pool_cv);
    eddy_free(srv);
}
