/* http: the HTTP/1.1 server core every eddy HTTP API stands on (Leaves API, REST proxy, schema
 * registry, pipelines, /health, /metrics).
 *
 * Requests are parsed by Debian's http-parser 2.9.4 on net's loops (docs/ARCHITECTURE.md says
 * why). Keep-alive and pipelining: each request reserves an ordered net slot, so answers go out
 * in request order however late and from whatever thread they come. Chunked request bodies,
 * limits on header bytes, header count and body size (431, 413), header and body timeouts
 * (408), and malformed requests (400) are answered with Confluent-style JSON errors
 * {"error_code": 400, "message": "..."} and the connection is closed after the answer.
 * Unknown paths get 404, known paths with another method 405 with Allow. CORS: every answer
 * carries Access-Control-Allow-Origin: * and preflight OPTIONS requests are answered (as the
 * workshop's Express API does with the cors middleware).
 *
 * Handlers run on a loop thread and must not block: a handler either answers at once or keeps
 * the request and answers later from ANY thread (the Leaves API answers once its event is
 * applied). Every request must be answered exactly once (http_respond*, or a stream ended with
 * http_stream_end); the request is freed by that call. */
#ifndef EDDY_HTTP_H
#define EDDY_HTTP_H

#include "base/base.h"
#include "metrics/metrics.h"

typedef struct http_server http_server_t;
typedef struct http_req http_req_t;

/* ---- servers ------------------------------------------------------------------------------- */

/* Settings; zero fields take the defaults in brackets. */
typedef struct {
    metrics_registry_t *metrics; /* request counts and latencies per route; /metrics renders it
                                  * (NULL: no /metrics) */
    int threads;                 /* loop threads [1] */
    int workers;                 /* threads for blocking routes [2], at most 16 */
    size_t max_conns;            /* [10000] */
    size_t max_header_bytes;     /* request line + headers [16 KiB] -> 431 (414 for the URL) */
    size_t max_headers;          /* header fields [100] -> 431 */
    size_t max_body_bytes;       /* decoded body [16 MiB] -> 413 */
    uint64_t header_timeout_ms;  /* a request's headers must arrive within [10000] -> 408 */
    uint64_t body_timeout_ms;    /* its body within [60000] after the headers -> 408 */
    uint64_t idle_timeout_ms;    /* keep-alive connections idle this long are closed [60000] */
    bool no_cors;                /* leave out the CORS headers and preflight answers */
    const char *name;            /* server name in logs and metrics ["http"] */
} http_server_opts_t;

/* Creates a server with the built-in routes GET /health and, with opts->metrics, GET /metrics.
 * Returns EDDY_OK or an error in errstr; free with http_server_free. */
int http_server_new(const http_server_opts_t *opts, http_server_t **out, char *errstr, size_t errlen);

/* Binds "HOST:PORT" (port 0 picks one); before start; repeatable. */
int http_server_listen(http_server_t *srv, const char *hostport, char *errstr, size_t errlen);
/* Starts serving; routes are frozen from now on. */
int http_server_start(http_server_t *srv, char *errstr, size_t errlen);
/* The bound listeners (as net_server_listener_addr). */
size_t http_server_listener_count(const http_server_t *srv);
int http_server_listener_addr(const http_server_t *srv, size_t i, char *out, size_t outlen);
/* Stops accepting, answers the requests in flight (up to drain_ms; handlers that keep requests
 * must still answer them), closes. Not on a loop thread. */
void http_server_stop(http_server_t *srv, uint64_t drain_ms);
void http_server_free(http_server_t *srv);

/* ---- routes -------------------------------------------------------------------------------- */

typedef void (*http_handler_fn)(http_req_t *req, void *arg);

/* Adds a route before http_server_start. method: "GET", "POST", ... or "*" for any (a GET route
 * also answers HEAD). pattern: segments separated by '/', each a literal, a parameter
 * "{name}", or literal text around one parameter ("leaves&rows={n}"); a last segment
 * "{name*}" takes the rest of the path (slashes included, may be empty). Parameters are
 * percent-decoded. A literal segment wins over a parameter when several routes match.
 * Returns EDDY_OK, EDDY_ERR_INVALID (bad pattern, started) or EDDY_ERR_EXISTS (same method and
 * pattern). */
int http_server_route(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn, void *arg);

/* The same for a handler that may block (disk, RocksDB, fsync, compiling a pipeline): it runs
 * on one of the server's worker threads instead of a loop thread. */
int http_server_route_blocking(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn,
                               void *arg);

/* Mounts a handler for the paths that serves(arg, path) accepts and no route matched: a part
 * that routes by itself (the api's api_handle). The handler checks methods itself; CORS
 * preflight requests to those paths are answered here. name labels its metrics (route=name).
 * Mounts are tried in the order added. */
typedef bool (*http_serves_fn)(void *arg, const char *path);
int http_server_mount(http_server_t *srv, const char *name, http_serves_fn serves, http_handler_fn fn, void *arg);

/* /health answers {"status":"ok","uptime_ms":N,"checks":{...}}; a check appends one JSON value
 * for its name (e.g. {"status":"ok","topics":3}) and returns false when unhealthy, which turns
 * the answer into 503 {"status":"error",...}. Called on a loop thread: keep it quick. */
typedef bool (*http_health_fn)(void *arg, wr_t *w);
int http_server_health_add(http_server_t *srv, const char *name, http_health_fn fn, void *arg);

/* ---- requests (valid until answered; accessors from whichever thread holds the request) ---- */

const char *http_req_method(const http_req_t *req);      /* "GET" */
const char *http_req_path(const http_req_t *req);        /* as sent, without the query */
const char *http_req_query_string(const http_req_t *req);/* after '?', "" when none */
/* A route parameter, percent-decoded; NULL when the route has none by that name. */
const char *http_req_param(const http_req_t *req, const char *name);
/* The first query parameter named name, percent-decoded ('+' as space); NULL when absent, ""
 * for "?name" or "?name=". */
const char *http_req_query(http_req_t *req, const char *name);
/* A request header (name compared case-insensitively); NULL when absent. Repeated headers are
 * joined with ", " as RFC 9110 allows. */
const char *http_req_header(const http_req_t *req, const char *name);
/* The body (dechunked); empty for none. */
eddy_view_t http_req_body(const http_req_t *req);
/* Memory freed with the request (the handler's scratch space). */
arena_t *http_req_arena(http_req_t *req);
/* Parses the body as JSON into doc (which must be json_doc_init'ed by the caller, freed by the
 * caller). On a malformed body answers 400 with the parser's message and returns
 * EDDY_ERR_CORRUPT: the request is gone, the handler just returns. */
int http_req_json(http_req_t *req, json_doc_t *doc);

/* ---- responses (any thread; each ends the request) ---------------------------------------- */

/* Adds a response header (before the answer). Returns EDDY_OK or EDDY_ERR_NOMEM. */
int http_resp_header(http_req_t *req, const char *name, const char *value);
/* Answers with a body (copied); content_type NULL for none. */
void http_respond(http_req_t *req, int status, const char *content_type, const void *body, size_t len);
/* Answers with the writer's bytes as application/json (the writer is emptied; a writer with an
 * error gives 500). */
void http_respond_json(http_req_t *req, int status, wr_t *body);
/* Answers {"error_code": status, "message": "..."} (Confluent REST proxy style). */
void http_respond_error(http_req_t *req, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Streams a long answer with chunked transfer encoding (HTTP/1.0 clients: a body ended by
 * closing). http_stream_write returns EDDY_OK, or EDDY_ERR_CLOSED when the client is gone (stop
 * producing, still end the stream). http_stream_end finishes and frees the request. */
void http_stream_begin(http_req_t *req, int status, const char *content_type);
int http_stream_write(http_req_t *req, const void *p, size_t n);
void http_stream_end(http_req_t *req);

/* The reason phrase of a status ("Not Found"). */
const char *http_status_text(int status);

#endif
