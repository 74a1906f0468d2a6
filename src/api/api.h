/* api: eddy's HTTP side above the log, the store and the pipelines: the Leaves REST API (commands
 * become events on topic `leaves`, queries read demo.leaves), the Confluent-compatible Kafka REST
 * proxy v2 and schema registry, and the leaf generator behind `eddy gen leaves`.
 *
 * This header is the part's whole public surface. */
#ifndef EDDY_API_H
#define EDDY_API_H

#include "base/base.h"

/* ---- the api in eddy up -------------------------------------------------------------------------- */

struct log;
struct store;
struct engine;

typedef struct api api_t;

typedef struct {
    struct log *log;            /* required: topics leaves and _schemas, the REST proxy */
    struct store *store;        /* demo.leaves (NULL: the Leaves API answers 503) */
    struct engine *engine;      /* the projection of topic leaves (NULL: no read-your-writes) */
    bool enrich;                /* fetch a created leaf's page to fill it in (default on) */
    int64_t enrich_timeout_ms;  /* one fetch, connect included (0: 10000) */
    int64_t command_timeout_ms; /* wait for a command's own event to be applied (0: 5000) */
    int64_t consumer_timeout_ms;/* idle REST proxy consumer instances expire (0: 300000) */
    int workers;                /* worker threads (0: 2) */
} api_config_t;

/* Starts the api over the log (and the store and engine when given): the registry replays
 * _schemas; topic leaves, keyspace demo and table demo.leaves are created when missing, and the
 * projection of leaves into demo.leaves is started. Returns EDDY_OK with *out, or an error with
 * errstr. */
int api_new(const api_config_t *cfg, api_t **out, char *errstr, size_t errlen);
/* Before the HTTP server stops: requests the api keeps waiting (long-polled REST proxy reads)
 * are answered now, and new reads no longer wait; commands in flight still finish. */
void api_quiesce(api_t *api);
/* Waits for the operations in flight (commands waiting for their event, appends, commits),
 * stops the workers, frees everything. Call after the HTTP server stopped and before the engine,
 * store and log close. */
void api_free(api_t *api);

/* ---- requests ---------------------------------------------------------------------------------- */

typedef enum { API_GET, API_HEAD, API_POST, API_PUT, API_PATCH, API_DELETE, API_OPTIONS, API_OTHER } api_method_t;

/* One HTTP request as the server hands it over; every view is valid until the responder is
 * called (the api part copies what it keeps longer). */
typedef struct {
    api_method_t method;
    const char *path;          /* raw (percent-encoded), without the query */
    size_t path_len;
    const char *query;         /* after '?', raw; may be NULL */
    size_t query_len;
    const char *content_type;  /* header values, or NULL */
    size_t content_type_len;
    const char *accept;
    size_t accept_len;
    const char *host;          /* the Host header (for the REST proxy's base_uri) */
    size_t host_len;
    const char *body;
    size_t body_len;
} api_request_t;

/* Where an answer goes: send(ctx, status, content_type, body, len) is called exactly once per
 * request, from any thread; it copies body before returning. status 204 has no body. */
typedef struct {
    void (*send)(void *ctx, int status, const char *content_type, const char *body, size_t len);
    void *ctx;
} api_responder_t;

/* Whether the api serves this path (the HTTP server routes it here): /api/leaves..., /topics...,
 * /consumers..., /brokers, /subjects..., /schemas..., /config..., /compatibility..., /mode. */
bool api_serves(const char *path, size_t len);
/* Answers one request (now, or later from another thread). */
void api_handle(api_t *api, const api_request_t *req, const api_responder_t *reply);

/* Appends the api's metrics in Prometheus text format (requests and latencies per API,
 * records produced and consumed through the REST proxy, Leaves commands, enrichment). */
void api_metrics_write(api_t *api, wr_t *w);

/* ---- the leaf generator ---------------------------------------------------------------------- */

/* Realistic leaves for demos, tests and benchmarks (DECISIONS.md, "Data the project carries"):
 * id = md5 hex of a unique url (30-120 chars), title 20-120 chars, about 3 tags of 3-20 chars
 * drawn from a Zipf-like vocabulary (so that the top tags mean something), content null, about
 * 1 KB in all (small), or 10-100 KB (full). The same seed gives the same leaves. */
typedef enum { API_LEAFGEN_NONE, API_LEAFGEN_SMALL, API_LEAFGEN_FULL } api_leafgen_content_t;

/* Output shapes: the leaf event (exactly the columns of demo.leaves, as on topic `leaves`), or
 * the workshop's record (the Avro schema's fields: _links, numeric http_status). */
typedef enum { API_LEAFGEN_EVENT, API_LEAFGEN_RECORD } api_leafgen_format_t;

typedef struct api_leafgen api_leafgen_t;

/* Returns a generator (free with api_leafgen_free) or NULL when out of memory. */
api_leafgen_t *api_leafgen_new(uint64_t seed, api_leafgen_content_t content);
void api_leafgen_free(api_leafgen_t *gen);
/* Appends the next leaf to w as one JSON object (no newline). If id is not NULL, the leaf's id
 * (32 hex digits and a NUL) is copied there. */
void api_leafgen_next(api_leafgen_t *gen, wr_t *w, api_leafgen_format_t format, char id[33]);

/* `eddy gen leaves [--count N] [--seed S] [--content none|small|full] [--format event|record]`:
 * JSON lines on stdout. Returns the process exit code. */
int api_main_gen(int argc, char **argv);

#endif
