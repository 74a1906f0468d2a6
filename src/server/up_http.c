/* `eddy up`'s metrics registry and HTTP server. The component "metrics" starts early: it makes
 * the registry and the HTTP server object, so every later component can register metrics and
 * add routes (srv->metrics, srv->http). The component "http" starts last: it adds the routes of
 * the parts that serve HTTP without knowing the server (the engine's /pipelines, the api's
 * paths), binds --http-listen and prints `eddy: http listening on HOST:PORT`. Stopping runs in
 * reverse: HTTP first (answers in flight are drained while the parts still run). */
#include <stdio.h>

#include "api/api.h"
#include "engine/engine.h"
#include "http/http.h"
#include "server/server_int.h"

void server_print_listening(const char *name, const char *addr) {
    fprintf(stderr, "eddy: %s listening on %s\n", name, addr);
    fflush(stderr);
}

int server_metrics_start(server_t *srv, char *errstr, size_t errlen) {
    srv->metrics = metrics_registry_new();
    if (!srv->metrics) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    http_server_opts_t o = {.metrics = srv->metrics, .threads = (int)srv->cfg.io_threads};
    return http_server_new(&o, &srv->http, errstr, errlen);
}

void server_metrics_stop(server_t *srv) {
    http_server_free(srv->http);
    srv->http = NULL;
    metrics_registry_free(srv->metrics);
    srv->metrics = NULL;
}

/* ---- the engine's pipeline endpoints -------------------------------------------------------- */

/* engine_http_handle compiles and starts pipelines (store DDL included): a blocking route. */
static void pipelines_route(http_req_t *req, void *arg) {
    server_t *srv = arg;
    wr_t out;
    wr_init(&out, 256);
    eddy_view_t body = http_req_body(req);
    int status = engine_http_handle(srv->engine, http_req_method(req), http_req_path(req), http_req_query_string(req),
                                    (const char *)body.ptr, body.len, &out);
    http_respond_json(req, status, &out);
    wr_free(&out);
}

static void engine_collect(void *arg, wr_t *w) { engine_metrics_write(arg, w); }

/* ---- the api (Leaves API, REST proxy, schema registry) --------------------------------------- */

static bool api_paths(void *arg, const char *path) { return api_serves(path, strlen(path)); }

static void api_send(void *ctx, int status, const char *content_type, const char *body, size_t len) {
    http_respond(ctx, status, content_type, body, len);
}

static api_method_t api_method(const char *m) {
    static const struct {
        const char *name;
        api_method_t method;
    } map[] = {{"GET", API_GET},     {"HEAD", API_HEAD},     {"POST", API_POST},      {"PUT", API_PUT},
               {"PATCH", API_PATCH}, {"DELETE", API_DELETE}, {"OPTIONS", API_OPTIONS}};
    for (size_t i = 0; i < EDDY_ARRAY_LEN(map); i++)
        if (!strcmp(map[i].name, m)) return map[i].method;
    return API_OTHER;
}

static void api_route(http_req_t *req, void *arg) {
    server_t *srv = arg;
    const char *ctype = http_req_header(req, "Content-Type"), *accept = http_req_header(req, "Accept"),
               *host = http_req_header(req, "Host"), *query = http_req_query_string(req);
    eddy_view_t body = http_req_body(req);
    api_request_t r = {
        .method = api_method(http_req_method(req)),
        .path = http_req_path(req),
        .path_len = strlen(http_req_path(req)),
        .query = query,
        .query_len = strlen(query),
        .content_type = ctype,
        .content_type_len = ctype ? strlen(ctype) : 0,
        .accept = accept,
        .accept_len = accept ? strlen(accept) : 0,
        .host = host,
        .host_len = host ? strlen(host) : 0,
        .body = (const char *)body.ptr,
        .body_len = body.len,
    };
    api_responder_t reply = {api_send, req};
    api_handle(srv->api, &r, &reply);
}

static void api_collect(void *arg, wr_t *w) { api_metrics_write(arg, w); }

/* ---- listening ------------------------------------------------------------------------------- */

int server_http_start(server_t *srv, char *errstr, size_t errlen) {
    int rc;
    if (srv->engine) {
        if ((rc = http_server_route_blocking(srv->http, "*", "/pipelines", pipelines_route, srv)) ||
            (rc = http_server_route_blocking(srv->http, "*", "/pipelines/{name*}", pipelines_route, srv)))
            return eddy_err(errstr, errlen, rc, "cannot add the pipeline routes");
        metrics_collector_add(srv->metrics, engine_collect, srv->engine);
    }
    if (srv->api) {
        if ((rc = http_server_mount(srv->http, "api", api_paths, api_route, srv)))
            return eddy_err(errstr, errlen, rc, "cannot mount the api");
        metrics_collector_add(srv->metrics, api_collect, srv->api);
    }
    for (int i = 0; i < srv->cfg.http_listen.count; i++)
        if ((rc = http_server_listen(srv->http, srv->cfg.http_listen.items[i], errstr, errlen))) return rc;
    if ((rc = http_server_start(srv->http, errstr, errlen))) return rc;
    for (size_t i = 0; i < http_server_listener_count(srv->http); i++) {
        char addr[80];
        http_server_listener_addr(srv->http, i, addr, sizeof addr);
        server_print_listening("http", addr);
    }
    return EDDY_OK;
}

void server_http_stop(server_t *srv) {
    /* The api first answers what it keeps waiting (long-polled REST proxy reads): the HTTP
     * server's stop waits for every request in flight to be answered. */
    if (srv->api) api_quiesce(srv->api);
    http_server_stop(srv->http, 5000);
}
