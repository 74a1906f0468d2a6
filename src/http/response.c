/* Answers: the status line and headers, bodies (copied or handed over), JSON errors, chunked
 * streams; each goes into the request's ordered net slot from whichever thread answers. */
#include <stdarg.h>
#include <stdio.h>

#include "http/http_int.h"

const char *http_status_text(int status) { return http_status_str((enum http_status)status); }

int http_resp_header(http_req_t *req, const char *name, const char *value) {
    wr_fmt(&req->resp_headers, "%s: %s\r\n", name, value);
    return wr_ok(&req->resp_headers) ? EDDY_OK : EDDY_ERR_NOMEM;
}

/* Decimal digits without printf (the head of every answer is on the hot path). */
static void write_dec(wr_t *w, uint64_t v) {
    char buf[24];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    wr_bytes(w, buf + i, sizeof buf - i);
}

static bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

/* content_length < 0: none (chunked, or a body ended by closing). */
static void head_write(http_req_t *req, wr_t *w, int status, const char *ctype, int64_t content_length,
                       bool chunked) {
    wr_str(w, "HTTP/1.1 ");
    write_dec(w, (uint64_t)status);
    wr_u8(w, ' ');
    wr_str(w, http_status_text(status));
    wr_str(w, "\r\n");
    if (status < 200) {
        wr_str(w, "\r\n");
        return;
    }
    if (ctype && status_has_body(status)) {
        wr_str(w, "Content-Type: ");
        wr_str(w, ctype);
        wr_str(w, "\r\n");
    }
    if (status_has_body(status) && content_length >= 0) {
        wr_str(w, "Content-Length: ");
        write_dec(w, (uint64_t)content_length);
        wr_str(w, "\r\n");
    }
    if (chunked) wr_str(w, "Transfer-Encoding: chunked\r\n");
    if (!req->keep_alive) wr_str(w, "Connection: close\r\n");
    else if (req->http_minor == 0) wr_str(w, "Connection: keep-alive\r\n");
    if (!req->srv->opts.no_cors) wr_str(w, "Access-Control-Allow-Origin: *\r\n");
    wr_bytes(w, req->resp_headers.buf, req->resp_headers.len);
    wr_str(w, "\r\n");
}

static void record(http_req_t *req, int status) {
    const http_route_t *r = req->route ? req->route : &req->srv->unmatched;
    int cls = status / 100;
    if (cls >= 2 && cls <= 5) metrics_counter_inc(r->by_class[cls]);
    metrics_histogram_observe_ns(r->latency, time_mono_ns() - req->start_ns);
}

/* Without sockets the bytes go to the server's sink (tests, fuzzing). */
static void sink_append(http_req_t *req, const void *p, size_t n) {
    http_server_t *srv = req->srv;
    pthread_mutex_lock(&srv->sink_mu);
    if (srv->sink) wr_bytes(srv->sink, p, n);
    pthread_mutex_unlock(&srv->sink_mu);
}

/* Sends head and body as (part of) the answer; final completes the slot and frees req. body is
 * taken when owned (eddy_malloc'd), else copied. */
static void deliver(http_req_t *req, wr_t *head, const void *body, size_t len, bool owned, bool final) {
    if (req->head && body) { /* HEAD: the headers of the GET answer, no body */
        if (owned) eddy_free((void *)body);
        body = NULL;
        len = 0;
    }
    if (!req->slot) {
        sink_append(req, head->buf, head->len);
        if (body) sink_append(req, body, len);
        if (owned) eddy_free((void *)body);
    } else {
        net_reply_t *reply = net_reply_new();
        if (reply) {
            net_reply_add_wr(reply, head);
            if (body && len) {
                if (owned) net_reply_add_owned(reply, (void *)body, len);
                else net_reply_add_copy(reply, body, len);
            } else if (owned) {
                eddy_free((void *)body);
            }
        } else if (owned) {
            eddy_free((void *)body);
        }
        if (final) net_slot_complete(req->slot, reply);
        else if (reply) net_slot_append(req->slot, reply);
    }
    wr_free(head);
    if (final) http_req_free(req);
}

/* A body up to this size that the caller keeps is copied once, behind the head in the head's
 * buffer, and the reply is one piece (a GET of a leaf: one allocation and one copy instead of
 * three and two). */
#define INLINE_BODY_MAX (64 * 1024)

static void respond_finish(http_req_t *req, int status, const char *ctype, const void *body, size_t len, bool owned) {
    if (!status_has_body(status)) len = 0;
    bool inline_body = len && !owned && !req->head && len <= INLINE_BODY_MAX;
    wr_t head;
    wr_init(&head, 256 + (inline_body ? len : 0));
    head_write(req, &head, status, ctype, (int64_t)len, false);
    if (inline_body) wr_bytes(&head, body, len);
    if (status >= 200) record(req, status);
    if (inline_body) deliver(req, &head, NULL, 0, false, true);
    else deliver(req, &head, len ? body : NULL, len, owned && len, true);
    if (owned && !len) eddy_free((void *)body);
}

void http_respond(http_req_t *req, int status, const char *content_type, const void *body, size_t len) {
    respond_finish(req, status, content_type, body, len, false);
}

void http_respond_json(http_req_t *req, int status, wr_t *body) {
    if (!wr_ok(body)) {
        wr_reset(body);
        http_answer_error_now(req, 500, "out of memory building the answer");
        return;
    }
    size_t len;
    if (body->len < 4096) { /* small: copied into the reply's own piece */
        respond_finish(req, status, "application/json", body->buf, body->len, false);
        wr_reset(body);
        return;
    }
    uint8_t *buf = wr_steal(body, &len);
    respond_finish(req, status, "application/json", buf, len, true);
}

void http_answer_error_now(http_req_t *req, int status, const char *msg) {
    wr_t w;
    wr_init(&w, 128);
    wr_fmt(&w, "{\"error_code\":%d,\"message\":", status);
    json_write_string(&w, msg, strlen(msg));
    wr_u8(&w, '}');
    respond_finish(req, status, "application/json", w.buf, w.len, false);
    wr_free(&w);
}

void http_respond_error(http_req_t *req, int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_answer_error_now(req, status, msg);
}

/* ---- streams ------------------------------------------------------------------------------- */

static void close_after_flush(net_conn_t *conn, void *arg) {
    if (!net_conn_closed(conn)) net_conn_close_after_flush(conn);
}

void http_stream_begin(http_req_t *req, int status, const char *content_type) {
    req->streaming = true;
    bool chunked = req->http_minor >= 1;
    if (!chunked && req->keep_alive) {
        /* HTTP/1.0 has no chunks: the body ends when the connection does. */
        req->keep_alive = false;
        if (req->conn) net_conn_post(req->conn, close_after_flush, NULL);
    }
    wr_t head;
    wr_init(&head, 256);
    head_write(req, &head, status, content_type, -1, chunked);
    record(req, status);
    deliver(req, &head, NULL, 0, false, false);
}

int http_stream_write(http_req_t *req, const void *p, size_t n) {
    if (!n || req->head) return EDDY_OK;
    if (req->slot && net_conn_closed(net_slot_conn(req->slot))) return EDDY_ERR_CLOSED;
    wr_t w;
    wr_init(&w, n + 16);
    if (req->http_minor >= 1) wr_fmt(&w, "%zx\r\n", n);
    wr_bytes(&w, p, n);
    if (req->http_minor >= 1) wr_str(&w, "\r\n");
    if (!wr_ok(&w)) {
        wr_free(&w);
        return EDDY_ERR_NOMEM;
    }
    deliver(req, &w, NULL, 0, false, false);
    return EDDY_OK;
}

void http_stream_end(http_req_t *req) {
    wr_t w;
    wr_init(&w, 8);
    if (req->http_minor >= 1 && !req->head) wr_str(&w, "0\r\n\r\n");
    deliver(req, &w, NULL, 0, false, true);
}
