/* Inside http: requests, connections, routes and the server, shared by server.c (the net
 * protocol, parsing with http-parser, limits and timeouts), router.c (routes, parameters,
 * query strings) and response.c (answers and streams). No other part includes this file. */
#ifndef EDDY_HTTP_INT_H
#define EDDY_HTTP_INT_H

#include <http_parser.h>
#include <pthread.h>

#include "http/http.h"
#include "net/net.h"

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_SEGS 16
#define HTTP_MAX_ROUTE_HEALTH 16
#define HTTP_MAX_WORKERS 16
/* Recycled request arenas; none under AddressSanitizer, so that a request used after its
 * answer is caught rather than hidden by reuse. */
#if defined(__SANITIZE_ADDRESS__)
#define HTTP_REQ_CACHE 0
#else
#define HTTP_REQ_CACHE 256
#endif

typedef struct {
    const char *name;
    const char *value;
} http_kv_t;

/* One pattern segment: literal text, or pre{param}post, or {param*} (the rest of the path). */
typedef struct {
    char *pre;
    char *param; /* NULL for a literal */
    char *post;
    bool rest;
} http_seg_t;

typedef struct http_route {
    char method[16]; /* "*" for any */
    char *pattern;
    http_seg_t segs[HTTP_MAX_SEGS];
    size_t nsegs;
    http_handler_fn fn;
    void *arg;
    bool blocking;      /* runs on a worker thread */
    http_serves_fn serves; /* a mount: matches the paths it accepts (no segments) */
    metrics_counter_t *by_class[6]; /* answers by status class: [2]=2xx .. [5]=5xx */
    metrics_histogram_t *latency;
} http_route_t;

struct http_req {
    http_server_t *srv;
    net_slot_t *slot;   /* NULL when driven without sockets (tests, fuzz): see srv->sink */
    net_conn_t *conn;   /* for a close requested while streaming to an HTTP/1.0 client */
    arena_t arena;      /* this request lives in its own arena */
    int method;         /* enum http_method */
    const char *method_str;
    char *target;       /* the request target as sent */
    const char *path;
    const char *query;
    http_kv_t *headers;
    size_t nheaders, cap_headers;
    http_kv_t params[HTTP_MAX_PARAMS];
    size_t nparams;
    wr_t body;
    wr_t resp_headers;  /* extra "Name: value\r\n" lines */
    const http_route_t *route;
    int64_t start_ns;
    struct http_req *job_next; /* the worker queue */
    uint8_t http_minor;
    bool keep_alive;
    bool head;
    bool streaming;
};

/* A connection's parser state. */
typedef struct {
    http_server_t *srv;
    net_conn_t *conn;   /* NULL without sockets */
    http_parser parser;
    http_req_t *req;    /* the request being parsed */
    wr_t url, field, value;
    bool in_value;
    bool in_message;
    bool headers_done;
    bool ready;         /* on_message_complete ran: req is complete */
    bool dead;          /* an error was answered: ignore the rest */
    size_t header_bytes;
    int err_status;     /* a limit set this before failing the parser */
    char err_msg[160];
    int64_t begin_ms, headers_ms;
    net_timer_t *timer;
} http_conn_t;

typedef struct {
    char name[48];
    http_health_fn fn;
    void *arg;
} http_health_t;

struct http_server {
    http_server_opts_t opts;
    net_server_t *net;
    http_route_t *routes;
    size_t nroutes, cap_routes;
    http_route_t unmatched;   /* metrics of 404/405/errors */
    http_health_t health[HTTP_MAX_ROUTE_HEALTH];
    size_t nhealth;
    bool started;
    int64_t start_ms;
    /* workers for blocking handlers */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    pthread_t pool[HTTP_MAX_WORKERS];
    int npool;
    bool pool_stop;
    http_req_t *jobs, *jobs_tail;
    /* recycled request arenas (see req_new) */
    pthread_mutex_t cache_mu;
    http_req_t *req_cache;
    size_t ncache, cache_max;
    /* Without sockets, answers are appended here (tests and the fuzz target). */
    pthread_mutex_t sink_mu;
    wr_t *sink;
};

/* server.c */
extern const http_parser_settings http_parser_callbacks;
void http_conn_init(http_conn_t *hc, http_server_t *srv, net_conn_t *conn);
void http_conn_free(http_conn_t *hc);
/* Parses data as a connection does; complete requests are routed and their handlers run;
 * limits and malformed input are answered. Returns the bytes consumed (all of them, or up to
 * the end of one request). */
size_t http_conn_feed(http_conn_t *hc, const uint8_t *data, size_t len);

/* router.c */
int http_route_parse(http_route_t *r, const char *pattern);
void http_route_free(http_route_t *r);
/* Routes req: runs its handler, or answers 404/405/OPTIONS itself. */
void http_dispatch(http_server_t *srv, http_req_t *req);
/* Percent-decodes src[0..n) into the arena ('+' as space when plus). NULL on no memory. */
char *http_decode(arena_t *a, const char *src, size_t n, bool plus);

/* worker.c: threads for blocking handlers (started with the server when any route needs
 * them; stopped after the loops so that queued requests are still answered). */
int http_pool_start(http_server_t *srv);
void http_pool_submit(http_server_t *srv, http_req_t *req);
void http_pool_stop(http_server_t *srv);

/* response.c */
void http_req_free(http_req_t *req);
void http_answer_error_now(http_req_t *req, int status, const char *msg);

#endif
