/* metrics: counters, gauges and histograms with labels, rendered in the Prometheus text format
 * (version 0.0.4) for /metrics.
 *
 * A registry is a context object (no globals): `eddy up` makes one and hands it to every part,
 * which registers its metrics at start and keeps the returned handles. Registering takes the
 * registry's lock; updating a handle never does (relaxed atomics), so handles are safe on hot
 * paths from any thread. Handles stay valid until metrics_registry_free. Every update function
 * accepts NULL (a metric that could not be registered costs nothing and breaks nothing).
 *
 * Labels are given as a NULL-terminated array of name/value pairs:
 *     metrics_counter(reg, "eddy_kafka_requests_total", "Kafka requests by API.",
 *                     (const char *[]){"api", "Produce", NULL});
 * Registering the same name and labels again returns the same handle (get-or-create). Parts
 * that already render their own text (the engine's pipelines) add a collector instead. */
#ifndef EDDY_METRICS_H
#define EDDY_METRICS_H

#include "base/base.h"

typedef struct metrics_registry metrics_registry_t;
typedef struct metrics_counter metrics_counter_t;
typedef struct metrics_gauge metrics_gauge_t;
typedef struct metrics_histogram metrics_histogram_t;

/* NULL on allocation failure. Free with metrics_registry_free (after every user stopped). */
metrics_registry_t *metrics_registry_new(void);
void metrics_registry_free(metrics_registry_t *reg);

/* True when name is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, for labels, a valid
 * label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"). */
bool metrics_name_valid(const char *name);
bool metrics_label_name_valid(const char *name);

/* Get-or-create. Return NULL (and log why) for an invalid name or label, a name already
 * registered with another type, or no memory. help is copied; label values are escaped as the
 * format requires. */
metrics_counter_t *metrics_counter(metrics_registry_t *reg, const char *name, const char *help,
                                   const char *const *labels);
metrics_gauge_t *metrics_gauge(metrics_registry_t *reg, const char *name, const char *help,
                               const char *const *labels);
/* bounds: the buckets' upper bounds in increasing order, in the unit rendered (seconds for
 * latencies, by Prometheus convention); NULL takes the latency buckets 100 µs .. 10 s. +Inf is
 * implicit. At most 32 bounds. */
metrics_histogram_t *metrics_histogram(metrics_registry_t *reg, const char *name, const char *help,
                                       const char *const *labels, const double *bounds, size_t nbounds);

/* A gauge whose value is computed when /metrics is rendered (sizes, queue depths): fn(arg) runs
 * under the registry's lock on the rendering thread; it must be quick and thread-safe. Returns
 * EDDY_OK, EDDY_ERR_INVALID or EDDY_ERR_NOMEM. */
typedef double (*metrics_value_fn)(void *arg);
int metrics_gauge_fn(metrics_registry_t *reg, const char *name, const char *help, const char *const *labels,
                     metrics_value_fn fn, void *arg);

/* The same for a counter whose value another part keeps (a total it counts anyway). */
int metrics_counter_fn(metrics_registry_t *reg, const char *name, const char *help, const char *const *labels,
                       metrics_value_fn fn, void *arg);

/* A collector appends its own Prometheus text (with its HELP and TYPE lines) to every render,
 * after the registered families. Same rules as metrics_value_fn. */
typedef void (*metrics_collect_fn)(void *arg, wr_t *w);
int metrics_collector_add(metrics_registry_t *reg, metrics_collect_fn fn, void *arg);

/* Updates: any thread, lock-free. */
void metrics_counter_add(metrics_counter_t *c, uint64_t n);
static inline void metrics_counter_inc(metrics_counter_t *c) { metrics_counter_add(c, 1); }
void metrics_gauge_set(metrics_gauge_t *g, int64_t v);
void metrics_gauge_add(metrics_gauge_t *g, int64_t delta);
void metrics_histogram_observe(metrics_histogram_t *h, double v);
/* A duration in nanoseconds, recorded in seconds. */
void metrics_histogram_observe_ns(metrics_histogram_t *h, int64_t ns);

/* Current values (tests, JSON status pages). */
uint64_t metrics_counter_value(const metrics_counter_t *c);
int64_t metrics_gauge_value(const metrics_gauge_t *g);
uint64_t metrics_histogram_count(const metrics_histogram_t *h);

/* Appends every family in registration order (HELP, TYPE, one line per labelled child;
 * histograms as cumulative _bucket{le=...}, _sum and _count), then the collectors' text. */
void metrics_render(metrics_registry_t *reg, wr_t *w);

/* The content type of the rendered text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
