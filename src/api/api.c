/* The api part in `eddy up`: its lifecycle (registry replay, topic leaves, the Leaves API's
 * table and projection), and the front door every request goes through (which API serves a
 * path, and the metrics around each answer). */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "api/api_int.h"

/* ---- the front door -------------------------------------------------------------------------- */

static bool prefix_is(const char *path, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    return len >= n && !memcmp(path, prefix, n) && (len == n || path[n] == '/' || path[n] == '?');
}

static int api_group_of(const char *path, size_t len) {
    if (prefix_is(path, len, "/api/leaves") || (len >= 11 && !memcmp(path, "/api/leaves", 11))) return API_GROUP_LEAVES;
    if (prefix_is(path, len, "/topics") || prefix_is(path, len, "/consumers") || prefix_is(path, len, "/brokers"))
        return API_GROUP_PROXY;
    if (prefix_is(path, len, "/subjects") || prefix_is(path, len, "/schemas") || prefix_is(path, len, "/config") ||
        prefix_is(path, len, "/compatibility") || prefix_is(path, len, "/mode"))
        return API_GROUP_REGISTRY;
    return -1;
}

bool api_serves(const char *path, size_t len) { return api_group_of(path, len) >= 0; }

/* Every answer passes here: the request's latency and status go to the metrics. */
typedef struct {
    api_responder_t inner;
    api_metrics_t *metrics;
    int group;
    int64_t start_ns;
} timed_reply_t;

static void timed_send(void *ctx, int status, const char *ctype, const char *body, size_t len) {
    timed_reply_t *t = ctx;
    api_metrics_request(t->metrics, t->group, status, time_mono_ns() - t->start_ns);
    t->inner.send(t->inner.ctx, status, ctype, body, len);
    eddy_free(t);
}

void api_handle(api_t *api, const api_request_t *req, const api_responder_t *reply) {
    int group = api_group_of(req->path, req->path_len);
    timed_reply_t *t = eddy_malloc(sizeof *t);
    api_responder_t timed = *reply;
    if (t) {
        *t = (timed_reply_t){*reply, api->metrics, group < 0 ? API_GROUP_LEAVES : group, time_mono_ns()};
        timed = (api_responder_t){timed_send, t};
    }
    switch (group) {
    case API_GROUP_LEAVES: api_leaves_http(api, req, &timed); break;
    case API_GROUP_PROXY: api_proxy_http(api, req, &timed); break;
    case API_GROUP_REGISTRY: api_registry_http(api, req, &timed); break;
    default: api_send_error(&timed, 404, 404, API_CTYPE_JSON, "HTTP 404 Not Found");
    }
}

void api_hold(api_t *api) { atomic_fetch_add(&api->inflight, 1); }
void api_unhold(api_t *api) { atomic_fetch_sub(&api->inflight, 1); }

/* ---- lifecycle --------------------------------------------------------------------------------- */

/* Topic leaves is the system of record: kept forever. */
static int api_leaves_topic(api_t *api, char *errstr, size_t errlen) {
    log_topic_info_t info;
    if (log_topic_info(api->log, API_LEAVES_TOPIC, &info) == EDDY_OK) return EDDY_OK;
    log_config_entry_t cfg[] = {{"retention.ms", "-1"}};
    log_err_t err;
    int rc = log_topic_create(api->log, API_LEAVES_TOPIC, 1, cfg, EDDY_ARRAY_LEN(cfg), false, &err);
    if (rc != EDDY_OK && rc != EDDY_ERR_EXISTS)
        return eddy_err(errstr, errlen, rc, "cannot create topic %s: %s", API_LEAVES_TOPIC, err.msg);
    return EDDY_OK;
}

int api_new(const api_config_t *cfg, api_t **out, char *errstr, size_t errlen) {
    api_t *api = eddy_calloc(1, sizeof *api);
    if (!api) return EDDY_ERR_NOMEM;
    api->cfg = *cfg;
    if (api->cfg.enrich_timeout_ms <= 0) api->cfg.enrich_timeout_ms = 10000;
    if (api->cfg.command_timeout_ms <= 0) api->cfg.command_timeout_ms = 5000;
    if (api->cfg.consumer_timeout_ms <= 0) api->cfg.consumer_timeout_ms = 300000;
    if (api->cfg.workers <= 0) api->cfg.workers = 2;
    api->log = cfg->log;
    int rc;
    if (!api->log) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "the api needs the log");
        goto err;
    }
    if (!(api->metrics = api_metrics_new())) {
        rc = EDDY_ERR_NOMEM;
        goto err;
    }
    if ((rc = api_work_new(api->cfg.workers, &api->work, errstr, errlen))) goto err;
    if ((rc = api_registry_open(api->log, &api->reg, &api->schemas_part, errstr, errlen))) goto err;
    if ((rc = api_proxy_new(&api->proxy))) goto err;
    if ((rc = api_leaves_topic(api, errstr, errlen))) goto err;
    if ((rc = api_leaves_new(api, &api->leaves, errstr, errlen))) goto err;
    *out = api;
    return EDDY_OK;
err:
    api_free(api);
    return rc;
}

void api_quiesce(api_t *api) {
    if (api && api->proxy) api_proxy_stop(api);
}

void api_free(api_t *api) {
    if (!api) return;
    /* Nothing new starts; long-polled reads answer now; then every operation still waiting on
     * the log or the engine (which close after the api) finishes while the workers run. */
    api_leaves_stop(api->leaves);
    if (api->proxy) api_proxy_stop(api);
    int64_t deadline = time_mono_ms() + 2 * api->cfg.command_timeout_ms + 5000;
    while (atomic_load(&api->inflight) > 0 && time_mono_ms() < deadline) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&api->inflight) > 0) elog_warn("api", "stopping with %d operations unfinished", atomic_load(&api->inflight));
    if (api->reg) api_registry_drain(api->reg, 5000);
    api_work_free(api->work);
    api_leaves_free(api->leaves);
    api_proxy_free(api->proxy);
    api_registry_free(api->reg);
    if (api->schemas_part) log_partition_release(api->schemas_part);
    api_metrics_free(api->metrics);
    eddy_free(api);
}
