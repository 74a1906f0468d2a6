/* The api part's metrics: requests and latencies per API (Leaves, REST proxy, registry) and
 * status class, and counters of what flowed through, in Prometheus text format. Counters are
 * relaxed atomics; the latency histograms are guarded by one mutex (one record per request). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "api/api_int.h"

static const char *const group_names[API_GROUP_COUNT] = {"leaves", "proxy", "registry"};

static const struct {
    const char *name, *help;
} counter_meta[API_METRIC_COUNT] = {
    [API_METRIC_PROXY_RECORDS] = {"eddy_api_proxy_records_produced_total", "records produced through the REST proxy"},
    [API_METRIC_PROXY_CONSUMED] = {"eddy_api_proxy_records_consumed_total", "records returned to REST proxy consumers"},
    [API_METRIC_LEAF_COMMANDS] = {"eddy_api_leaf_commands_total", "Leaves API commands appended to topic leaves"},
    [API_METRIC_ENRICH_OK] = {"eddy_api_enrich_fetched_total", "leaf pages fetched and parsed"},
    [API_METRIC_ENRICH_FAILED] = {"eddy_api_enrich_failed_total", "leaf page fetches that failed"},
};

struct api_metrics {
    _Atomic uint64_t counters[API_METRIC_COUNT];
    _Atomic uint64_t requests[API_GROUP_COUNT][6]; /* by status class 1xx..5xx, [0] unused */
    pthread_mutex_t mu;
    hist_t latency[API_GROUP_COUNT];               /* ns */
};

api_metrics_t *api_metrics_new(void) {
    api_metrics_t *m = eddy_calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    for (int g = 0; g < API_GROUP_COUNT; g++) hist_init(&m->latency[g]);
    return m;
}

void api_metrics_free(api_metrics_t *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    eddy_free(m);
}

void api_metrics_count(api_t *api, api_metric_t which, uint64_t n) {
    if (api && api->metrics) atomic_fetch_add_explicit(&api->metrics->counters[which], n, memory_order_relaxed);
}

void api_metrics_request(api_metrics_t *m, int group, int status, int64_t ns) {
    int cls = status / 100;
    if (cls < 1 || cls > 5) cls = 5;
    atomic_fetch_add_explicit(&m->requests[group][cls], 1, memory_order_relaxed);
    pthread_mutex_lock(&m->mu);
    hist_record(&m->latency[group], ns > 0 ? (uint64_t)ns : 0);
    pthread_mutex_unlock(&m->mu);
}

void api_metrics_write(api_t *api, wr_t *w) {
    api_metrics_t *m = api->metrics;
    wr_str(w, "# HELP eddy_api_requests_total HTTP requests answered by the api part, by API and status class\n"
              "# TYPE eddy_api_requests_total counter\n");
    for (int g = 0; g < API_GROUP_COUNT; g++)
        for (int c = 1; c <= 5; c++)
            wr_fmt(w, "eddy_api_requests_total{api=\"%s\",code=\"%dxx\"} %llu\n", group_names[g], c,
                   (unsigned long long)atomic_load_explicit(&m->requests[g][c], memory_order_relaxed));
    wr_str(w, "# HELP eddy_api_request_seconds request latency (received to answered), by API\n"
              "# TYPE eddy_api_request_seconds summary\n");
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    pthread_mutex_lock(&m->mu);
    for (int g = 0; g < API_GROUP_COUNT; g++) {
        const hist_t *h = &m->latency[g];
        for (size_t i = 0; i < EDDY_ARRAY_LEN(qs); i++)
            wr_fmt(w, "eddy_api_request_seconds{api=\"%s\",quantile=\"%g\"} %.9f\n", group_names[g], qs[i],
                   (double)hist_quantile(h, qs[i]) / 1e9);
        wr_fmt(w, "eddy_api_request_seconds_sum{api=\"%s\"} %.9f\n", group_names[g], h->sum / 1e9);
        wr_fmt(w, "eddy_api_request_seconds_count{api=\"%s\"} %llu\n", group_names[g], (unsigned long long)h->total);
    }
    pthread_mutex_unlock(&m->mu);
    for (int i = 0; i < API_METRIC_COUNT; i++)
        wr_fmt(w, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", counter_meta[i].name, counter_meta[i].help,
               counter_meta[i].name, counter_meta[i].name,
               (unsigned long long)atomic_load_explicit(&m->counters[i], memory_order_relaxed));
}
