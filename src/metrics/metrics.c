/* The metrics registry: families (name, help, type) holding labelled children, a mutex for
 * registration and rendering only, relaxed atomics for every update. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics/metrics.h"

#define METRICS_MAX_BOUNDS 32

typedef enum { FAM_COUNTER, FAM_GAUGE, FAM_HISTOGRAM } fam_type_t;

static const char *const fam_type_names[] = {"counter", "gauge", "histogram"};

/* One labelled series. The update fields come first and are what the public handles point at
 * (metrics_counter_t and friends are this struct seen through a typed pointer). */
typedef struct child {
    atomic_uint_fast64_t count; /* counter value; histogram count */
    atomic_int_fast64_t gauge;
    atomic_uint_fast64_t sum_bits; /* histogram: the sum as double bits (CAS-updated) */
    atomic_uint_fast64_t *buckets; /* histogram: nbounds + 1 non-cumulative counts */
    metrics_value_fn fn;           /* gauge computed at render */
    void *fn_arg;
    struct family *fam;
    char *labels; /* rendered `name="value",...` without braces, "" for none */
    struct child *next;
} child_t;

typedef struct family {
    char *name;
    char *help;
    fam_type_t type;
    double bounds[METRICS_MAX_BOUNDS];
    size_t nbounds;
    child_t *children, *last;
    struct family *next;
} family_t;

typedef struct collector {
    metrics_collect_fn fn;
    void *arg;
    struct collector *next;
} collector_t;

struct metrics_registry {
    pthread_mutex_t mu;
    family_t *families, *last;
    collector_t *collectors, *last_collector;
};

static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

metrics_registry_t *metrics_registry_new(void) {
    metrics_registry_t *reg = eddy_calloc(1, sizeof *reg);
    if (reg) pthread_mutex_init(&reg->mu, NULL);
    return reg;
}

void metrics_registry_free(metrics_registry_t *reg) {
    if (!reg) return;
    for (family_t *f = reg->families, *fn; f; f = fn) {
        fn = f->next;
        for (child_t *c = f->children, *cn; c; c = cn) {
            cn = c->next;
            eddy_free(c->buckets);
            eddy_free(c->labels);
            eddy_free(c);
        }
        eddy_free(f->name);
        eddy_free(f->help);
        eddy_free(f);
    }
    for (collector_t *c = reg->collectors, *cn; c; c = cn) {
        cn = c->next;
        eddy_free(c);
    }
    pthread_mutex_destroy(&reg->mu);
    eddy_free(reg);
}

static bool name_char(char ch, bool first, bool colon) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') return true;
    if (colon && ch == ':') return true;
    return !first && ch >= '0' && ch <= '9';
}

bool metrics_name_valid(const char *name) {
    if (!name || !*name) return false;
    for (const char *p = name; *p; p++)
        if (!name_char(*p, p == name, true)) return false;
    return true;
}

bool metrics_label_name_valid(const char *name) {
    if (!name || !*name || (name[0] == '_' && name[1] == '_')) return false;
    for (const char *p = name; *p; p++)
        if (!name_char(*p, p == name, false)) return false;
    return true;
}

/* Renders labels as `a="x",b="y"` with values escaped (backslash, quote, newline). */
static char *labels_render(const char *const *labels) {
    wr_t w;
    wr_init(&w, 64);
    for (size_t i = 0; labels && labels[i]; i += 2) {
        if (!labels[i + 1] || !metrics_label_name_valid(labels[i]) || !strcmp(labels[i], "le")) {
            wr_free(&w);
            return NULL;
        }
        if (i) wr_u8(&w, ',');
        wr_str(&w, labels[i]);
        wr_str(&w, "=\"");
        for (const char *v = labels[i + 1]; *v; v++) {
            if (*v == '\\') wr_str(&w, "\\\\");
            else if (*v == '"') wr_str(&w, "\\\"");
            else if (*v == '\n') wr_str(&w, "\\n");
            else wr_u8(&w, (uint8_t)*v);
        }
        wr_u8(&w, '"');
    }
    wr_u8(&w, 0);
    if (!wr_ok(&w)) {
        wr_free(&w);
        return NULL;
    }
    return (char *)wr_steal(&w, NULL);
}

/* Get-or-create under the lock. NULL for bad names, a type clash or no memory. */
static child_t *child_get(metrics_registry_t *reg, fam_type_t type, const char *name, const char *help,
                          const char *const *labels, const double *bounds, size_t nbounds) {
    if (!reg) return NULL;
    if (!metrics_name_valid(name)) {
        elog_error("metrics", "invalid metric name '%s'", name ? name : "(null)");
        return NULL;
    }
    char *lab = labels_render(labels);
    if (!lab) {
        elog_error("metrics", "%s: invalid labels", name);
        return NULL;
    }
    child_t *found = NULL;
    pthread_mutex_lock(&reg->mu);
    family_t *f = reg->families;
    while (f && strcmp(f->name, name)) f = f->next;
    if (f && f->type != type) {
        elog_error("metrics", "%s is registered as a %s", name, fam_type_names[f->type]);
        goto out;
    }
    if (!f) {
        f = eddy_calloc(1, sizeof *f);
        if (!f || !(f->name = eddy_strdup(name)) || !(f->help = eddy_strdup(help ? help : ""))) {
            if (f) eddy_free(f->name);
            eddy_free(f);
            goto out;
        }
        f->type = type;
        if (type == FAM_HISTOGRAM) {
            if (!bounds) {
                bounds = latency_bounds;
                nbounds = EDDY_ARRAY_LEN(latency_bounds);
            }
            f->nbounds = EDDY_MIN(nbounds, (size_t)METRICS_MAX_BOUNDS);
            memcpy(f->bounds, bounds, f->nbounds * sizeof *bounds);
        }
        if (reg->last) reg->last->next = f;
        else reg->families = f;
        reg->last = f;
    }
    for (child_t *c = f->children; c; c = c->next)
        if (!strcmp(c->labels, lab)) {
            found = c;
            goto out;
        }
    child_t *c = eddy_calloc(1, sizeof *c);
    if (!c) goto out;
    if (type == FAM_HISTOGRAM && !(c->buckets = eddy_calloc(f->nbounds + 1, sizeof *c->buckets))) {
        eddy_free(c);
        goto out;
    }
    c->fam = f;
    c->labels = lab;
    lab = NULL;
    if (f->last) f->last->next = c;
    else f->children = c;
    f->last = c;
    found = c;
out:
    pthread_mutex_unlock(&reg->mu);
    eddy_free(lab);
    return found;
}

metrics_counter_t *metrics_counter(metrics_registry_t *reg, const char *name, const char *help,
                                   const char *const *labels) {
    return (metrics_counter_t *)child_get(reg, FAM_COUNTER, name, help, labels, NULL, 0);
}

metrics_gauge_t *metrics_gauge(metrics_registry_t *reg, const char *name, const char *help,
                               const char *const *labels) {
    return (metrics_gauge_t *)child_get(reg, FAM_GAUGE, name, help, labels, NULL, 0);
}

metrics_histogram_t *metrics_histogram(metrics_registry_t *reg, const char *name, const char *help,
                                       const char *const *labels, const double *bounds, size_t nbounds) {
    for (size_t i = 1; bounds && i < nbounds; i++)
        if (!(bounds[i] > bounds[i - 1])) return NULL;
    return (metrics_histogram_t *)child_get(reg, FAM_HISTOGRAM, name, help, labels, bounds, nbounds);
}

static int value_fn(metrics_registry_t *reg, fam_type_t type, const char *name, const char *help,
                    const char *const *labels, metrics_value_fn fn, void *arg) {
    child_t *c = child_get(reg, type, name, help, labels, NULL, 0);
    if (!c) return EDDY_ERR_INVALID;
    pthread_mutex_lock(&reg->mu);
    c->fn = fn;
    c->fn_arg = arg;
    pthread_mutex_unlock(&reg->mu);
    return EDDY_OK;
}

int metrics_gauge_fn(metrics_registry_t *reg, const char *name, const char *help, const char *const *labels,
                     metrics_value_fn fn, void *arg) {
    return value_fn(reg, FAM_GAUGE, name, help, labels, fn, arg);
}

int metrics_counter_fn(metrics_registry_t *reg, const char *name, const char *help, const char *const *labels,
                       metrics_value_fn fn, void *arg) {
    return value_fn(reg, FAM_COUNTER, name, help, labels, fn, arg);
}

int metrics_collector_add(metrics_registry_t *reg, metrics_collect_fn fn, void *arg) {
    collector_t *c = eddy_calloc(1, sizeof *c);
    if (!c) return EDDY_ERR_NOMEM;
    c->fn = fn;
    c->arg = arg;
    pthread_mutex_lock(&reg->mu);
    if (reg->last_collector) reg->last_collector->next = c;
    else reg->collectors = c;
    reg->last_collector = c;
    pthread_mutex_unlock(&reg->mu);
    return EDDY_OK;
}

/* ---- updates ------------------------------------------------------------------------------- */

void metrics_counter_add(metrics_counter_t *h, uint64_t n) {
    child_t *c = (child_t *)h;
    if (c) atomic_fetch_add_explicit(&c->count, n, memory_order_relaxed);
}

void metrics_gauge_set(metrics_gauge_t *h, int64_t v) {
    child_t *c = (child_t *)h;
    if (c) atomic_store_explicit(&c->gauge, v, memory_order_relaxed);
}

void metrics_gauge_add(metrics_gauge_t *h, int64_t delta) {
    child_t *c = (child_t *)h;
    if (c) atomic_fetch_add_explicit(&c->gauge, delta, memory_order_relaxed);
}

static uint64_t dbits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bitsd(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

void metrics_histogram_observe(metrics_histogram_t *h, double v) {
    child_t *c = (child_t *)h;
    if (!c) return;
    const family_t *f = c->fam;
    size_t i = 0;
    while (i < f->nbounds && v > f->bounds[i]) i++;
    atomic_fetch_add_explicit(&c->buckets[i], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&c->sum_bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&c->sum_bits, &old, dbits(bitsd(old) + v), memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
    atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
}

void metrics_histogram_observe_ns(metrics_histogram_t *h, int64_t ns) {
    metrics_histogram_observe(h, (double)(ns < 0 ? 0 : ns) / 1e9);
}

uint64_t metrics_counter_value(const metrics_counter_t *h) {
    child_t *c = (child_t *)h;
    return c ? atomic_load_explicit(&c->count, memory_order_relaxed) : 0;
}

int64_t metrics_gauge_value(const metrics_gauge_t *h) {
    child_t *c = (child_t *)h;
    if (!c) return 0;
    if (c->fn) return (int64_t)c->fn(c->fn_arg);
    return atomic_load_explicit(&c->gauge, memory_order_relaxed);
}

uint64_t metrics_histogram_count(const metrics_histogram_t *h) { return metrics_counter_value((const void *)h); }

/* ---- rendering ----------------------------------------------------------------------------- */

/* The shortest text that reads back as the same double; Prometheus spells infinities +Inf. */
static void format_double(char *buf, size_t n, double v) {
    if (isnan(v)) snprintf(buf, n, "NaN");
    else if (isinf(v)) snprintf(buf, n, "%s", v > 0 ? "+Inf" : "-Inf");
    else
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) break;
        }
}

static void write_double(wr_t *w, double v) {
    char buf[40];
    format_double(buf, sizeof buf, v);
    wr_str(w, buf);
}

static void write_help(wr_t *w, const family_t *f) {
    wr_fmt(w, "# HELP %s ", f->name);
    for (const char *p = f->help; *p; p++) {
        if (*p == '\\') wr_str(w, "\\\\");
        else if (*p == '\n') wr_str(w, "\\n");
        else wr_u8(w, (uint8_t)*p);
    }
    wr_fmt(w, "\n# TYPE %s %s\n", f->name, fam_type_names[f->type]);
}

/* name{labels[,extra]} */
static void write_series(wr_t *w, const char *name, const char *suffix, const char *labels, const char *extra) {
    wr_str(w, name);
    wr_str(w, suffix);
    if (*labels || extra) {
        wr_u8(w, '{');
        wr_str(w, labels);
        if (extra) {
            if (*labels) wr_u8(w, ',');
            wr_str(w, extra);
        }
        wr_u8(w, '}');
    }
    wr_u8(w, ' ');
}

static void render_histogram(wr_t *w, const family_t *f, const child_t *c) {
    uint64_t cum = 0;
    char le[64];
    for (size_t i = 0; i <= f->nbounds; i++) {
        cum += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
        char num[40];
        format_double(num, sizeof num, i < f->nbounds ? f->bounds[i] : INFINITY);
        snprintf(le, sizeof le, "le=\"%s\"", num);
        write_series(w, f->name, "_bucket", c->labels, le);
        wr_fmt(w, "%llu\n", (unsigned long long)cum);
    }
    write_series(w, f->name, "_sum", c->labels, NULL);
    write_double(w, bitsd(atomic_load_explicit(&c->sum_bits, memory_order_relaxed)));
    wr_u8(w, '\n');
    /* _count equals the +Inf bucket, as the format requires, even while updates race. */
    write_series(w, f->name, "_count", c->labels, NULL);
    wr_fmt(w, "%llu\n", (unsigned long long)cum);
}

void metrics_render(metrics_registry_t *reg, wr_t *w) {
    pthread_mutex_lock(&reg->mu);
    for (const family_t *f = reg->families; f; f = f->next) {
        write_help(w, f);
        for (const child_t *c = f->children; c; c = c->next) {
            switch (f->type) {
            case FAM_COUNTER:
                write_series(w, f->name, "", c->labels, NULL);
                if (c->fn) write_double(w, c->fn(c->fn_arg));
                else wr_fmt(w, "%llu", (unsigned long long)atomic_load_explicit(&c->count, memory_order_relaxed));
                wr_u8(w, '\n');
                break;
            case FAM_GAUGE:
                write_series(w, f->name, "", c->labels, NULL);
                if (c->fn) write_double(w, c->fn(c->fn_arg));
                else wr_fmt(w, "%lld", (long long)atomic_load_explicit(&c->gauge, memory_order_relaxed));
                wr_u8(w, '\n');
                break;
            case FAM_HISTOGRAM: render_histogram(w, f, c); break;
            }
        }
    }
    for (const collector_t *c = reg->collectors; c; c = c->next) c->fn(c->arg, w);
    pthread_mutex_unlock(&reg->mu);
}
