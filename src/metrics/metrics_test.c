/* metrics unit tests: registration rules, exact Prometheus text, histograms, concurrent
 * updates from several threads. */
#include <pthread.h>
#include <stdio.h>

#include "metrics/metrics.h"
#include "test.h"

static char *render(metrics_registry_t *reg) {
    wr_t w;
    wr_init(&w, 256);
    metrics_render(reg, &w);
    wr_u8(&w, 0);
    return (char *)wr_steal(&w, NULL);
}

TEST(metrics_names) {
    CHECK(metrics_name_valid("eddy_http_requests_total"));
    CHECK(metrics_name_valid("a:b_c9"));
    CHECK(!metrics_name_valid("9abc"));
    CHECK(!metrics_name_valid("a-b"));
    CHECK(!metrics_name_valid(""));
    CHECK(metrics_label_name_valid("topic"));
    CHECK(!metrics_label_name_valid("__name"));
    CHECK(!metrics_label_name_valid("a:b"));
}

TEST(metrics_render_counters_and_gauges) {
    metrics_registry_t *reg = metrics_registry_new();
    REQUIRE(reg);
    metrics_counter_t *get = metrics_counter(reg, "eddy_requests_total", "Requests served.\nBy method.",
                                             (const char *[]){"method", "GET", NULL});
    metrics_counter_t *post = metrics_counter(reg, "eddy_requests_total", "ignored",
                                              (const char *[]){"method", "POST", NULL});
    REQUIRE(get && post && get != post);
    CHECK(metrics_counter(reg, "eddy_requests_total", "", (const char *[]){"method", "GET", NULL}) == get);
    metrics_counter_add(get, 3);
    metrics_counter_inc(post);
    metrics_gauge_t *g = metrics_gauge(reg, "eddy_open", "Open things.", (const char *[]){"v", "a\"b\\c\nd", NULL});
    metrics_gauge_set(g, 10);
    metrics_gauge_add(g, -3);
    CHECK_EQ_INT(metrics_gauge_value(g), 7);
    /* Type clash, bad names and labels are refused; updates through NULL are no-ops. */
    CHECK(metrics_gauge(reg, "eddy_requests_total", "", NULL) == NULL);
    CHECK(metrics_counter(reg, "bad-name", "", NULL) == NULL);
    CHECK(metrics_counter(reg, "eddy_x", "", (const char *[]){"le", "1", NULL}) == NULL);
    CHECK(metrics_counter(reg, "eddy_x", "", (const char *[]){"k", NULL}) == NULL);
    metrics_counter_add(NULL, 1);
    metrics_gauge_set(NULL, 1);
    metrics_histogram_observe(NULL, 1);
    char *text = render(reg);
    CHECK_EQ_STR(text, "# HELP eddy_requests_total Requests served.\\nBy method.\n"
                       "# TYPE eddy_requests_total counter\n"
                       "eddy_requests_total{method=\"GET\"} 3\n"
                       "eddy_requests_total{method=\"POST\"} 1\n"
                       "# HELP eddy_open Open things.\n"
                       "# TYPE eddy_open gauge\n"
                       "eddy_open{v=\"a\\\"b\\\\c\\nd\"} 7\n");
    eddy_free(text);
    metrics_registry_free(reg);
}

static double half(void *arg) { return *(double *)arg / 2; }

static void collect(void *arg, wr_t *w) { wr_str(w, (const char *)arg); }

TEST(metrics_histograms_function_gauges_and_collectors) {
    metrics_registry_t *reg = metrics_registry_new();
    REQUIRE(reg);
    metrics_histogram_t *h =
        metrics_histogram(reg, "eddy_size_bytes", "Sizes.", NULL, (const double[]){10, 100, 1000}, 3);
    REQUIRE(h);
    metrics_histogram_observe(h, 5);
    metrics_histogram_observe(h, 10);
    metrics_histogram_observe(h, 50);
    metrics_histogram_observe(h, 5000);
    CHECK_EQ_INT(metrics_histogram_count(h), 4);
    CHECK(metrics_histogram(reg, "eddy_bad", "", NULL, (const double[]){2, 1}, 2) == NULL);
    double v = 3;
    CHECK_OK(metrics_gauge_fn(reg, "eddy_half", "Half of v.", NULL, half, &v));
    CHECK_OK(metrics_collector_add(reg, collect, "# TYPE eddy_other gauge\neddy_other 1\n"));
    char *text = render(reg);
    CHECK_EQ_STR(text, "# HELP eddy_size_bytes Sizes.\n"
                       "# TYPE eddy_size_bytes histogram\n"
                       "eddy_size_bytes_bucket{le=\"10\"} 2\n"
                       "eddy_size_bytes_bucket{le=\"100\"} 3\n"
                       "eddy_size_bytes_bucket{le=\"1000\"} 3\n"
                       "eddy_size_bytes_bucket{le=\"+Inf\"} 4\n"
                       "eddy_size_bytes_sum 5065\n"
                       "eddy_size_bytes_count 4\n"
                       "# HELP eddy_half Half of v.\n"
                       "# TYPE eddy_half gauge\n"
                       "eddy_half 1.5\n"
                       "# TYPE eddy_other gauge\neddy_other 1\n");
    eddy_free(text);
    /* Latency histograms in seconds with the default buckets. */
    metrics_histogram_t *lat = metrics_histogram(reg, "eddy_latency_seconds", "Latency.",
                                                 (const char *[]){"route", "/x", NULL}, NULL, 0);
    metrics_histogram_observe_ns(lat, 300000); /* 0.3 ms */
    text = render(reg);
    CHECK(strstr(text, "eddy_latency_seconds_bucket{route=\"/x\",le=\"0.00025\"} 0\n") != NULL);
    CHECK(strstr(text, "eddy_latency_seconds_bucket{route=\"/x\",le=\"0.0005\"} 1\n") != NULL);
    CHECK(strstr(text, "eddy_latency_seconds_sum{route=\"/x\"} 0.0003\n") != NULL);
    eddy_free(text);
    metrics_registry_free(reg);
}

typedef struct {
    metrics_counter_t *c;
    metrics_histogram_t *h;
} hammer_t;

static void *hammer(void *arg) {
    hammer_t *t = arg;
    for (int i = 0; i < 100000; i++) {
        metrics_counter_inc(t->c);
        metrics_histogram_observe(t->h, 1);
    }
    return NULL;
}

TEST(metrics_concurrent_updates) {
    metrics_registry_t *reg = metrics_registry_new();
    REQUIRE(reg);
    hammer_t t = {metrics_counter(reg, "eddy_hits_total", "Hits.", NULL),
                  metrics_histogram(reg, "eddy_h", "H.", NULL, (const double[]){0.5, 2}, 2)};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, hammer, &t);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    CHECK_EQ_INT(metrics_counter_value(t.c), 400000);
    CHECK_EQ_INT(metrics_histogram_count(t.h), 400000);
    char *text = render(reg);
    CHECK(strstr(text, "eddy_h_sum 400000\n") != NULL);
    CHECK(strstr(text, "eddy_h_bucket{le=\"2\"} 400000\n") != NULL);
    eddy_free(text);
    metrics_registry_free(reg);
}
