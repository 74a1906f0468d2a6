/* `eddy bench cql`: a cassandra-stress-like load generator on eddy's C client. It writes or reads
 * cassandra-stress's standard1 table (a 10-byte blob key, five 34-byte blob columns) with prepared
 * statements, keeping --concurrency requests in flight (each completion issues the next one on
 * the client's I/O thread), or paced at --rate operations per second, and prints throughput and
 * latency percentiles (measured from each operation's scheduled start when paced, so a stalled
 * server cannot hide its queueing). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "cql/cql_int.h"

#define KEY_SIZE 10
#define NCOLS 5

typedef struct {
    cql_client_t *client;
    const cql_prepared_t *stmt;
    bool write;
    int64_t keys;               /* key population */
    size_t value_size;
    int64_t total;              /* operations to run (0: until the deadline) */
    int64_t deadline_ns;
    double rate;                /* ops/s, 0 = as fast as possible */
    int concurrency;
    int64_t start_ns;
    /* state, shared with the I/O thread */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int64_t issued;
    int64_t done;
    int64_t errors;
    int inflight;
    bool stop;
    hist_t hist;
    char last_error[600];
    uint64_t seed;
} bench_t;

typedef struct {
    bench_t *b;
    int64_t sched_ns;
    uint8_t key[KEY_SIZE];
    uint8_t values[NCOLS][64];
    cql_value_t bound[1 + NCOLS];
} op_t;

static uint64_t next_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void make_key(int64_t i, uint8_t key[KEY_SIZE]) {
    /* cassandra-stress keys are printable; ours are the index, hex, zero-padded */
    static const char hex[] = "0123456789abcdef";
    uint64_t v = (uint64_t)i;
    for (int k = KEY_SIZE - 1; k >= 0; k--, v >>= 4) key[k] = (uint8_t)hex[v & 15];
}

static void issue(bench_t *b, op_t *op);

static void on_done(void *arg, int status, cql_result_t *res, const cql_error_t *err) {
    op_t *op = arg;
    bench_t *b = op->b;
    int64_t now = time_mono_ns();
    cql_result_free(res);
    pthread_mutex_lock(&b->lock);
    b->done++;
    if (status != EDDY_OK) {
        b->errors++;
        snprintf(b->last_error, sizeof b->last_error, "%s", err ? err->message : eddy_strerror(status));
    } else {
        hist_record(&b->hist, (uint64_t)(now - op->sched_ns));
    }
    bool more = !b->stop && b->rate == 0 && (b->total ? b->issued < b->total : now < b->deadline_ns);
    if (more) b->issued++;
    else b->inflight--;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    if (more) {
        op->sched_ns = now;
        issue(b, op);
    } else {
        eddy_free(op);
    }
}

static void issue(bench_t *b, op_t *op) {
    pthread_mutex_lock(&b->lock);
    uint64_t r = next_rand(&b->seed);
    pthread_mutex_unlock(&b->lock);
    make_key((int64_t)(r % (uint64_t)b->keys), op->key);
    op->bound[0] = cql_value(op->key, KEY_SIZE);
    size_t n = 1;
    if (b->write) {
        for (int c = 0; c < NCOLS; c++) {
            for (size_t i = 0; i < b->value_size; i++) op->values[c][i] = (uint8_t)(r >> (i % 56));
            op->bound[n++] = cql_value(op->values[c], b->value_size);
        }
    }
    cql_stmt_t st = {0};
    st.prepared = b->stmt;
    st.values = op->bound;
    st.nvalues = n;
    st.consistency = CQL_CL_ONE;
    st.page_size = -1;
    st.idempotent = true;
    st.skip_metadata = true; /* as cassandra-stress's Java driver does for prepared statements */
    if (cql_client_execute_async(b->client, &st, on_done, op) != EDDY_OK) {
        cql_error_t e;
        cql_error_set(&e, -1, "the client refused the request");
        on_done(op, EDDY_ERR_CLOSED, NULL, &e);
    }
}

/* On the I/O thread: every paced operation that is due now. */
static void issue_due(void *arg) {
    bench_t *b = arg;
    int64_t interval = (int64_t)(1e9 / b->rate);
    for (;;) {
        int64_t now = time_mono_ns();
        pthread_mutex_lock(&b->lock);
        int64_t due = b->start_ns + b->issued * interval;
        bool go = !b->stop && now >= due && b->inflight < b->concurrency &&
                  (b->total ? b->issued < b->total : due < b->deadline_ns);
        if (go) {
            b->issued++;
            b->inflight++;
        }
        pthread_mutex_unlock(&b->lock);
        if (!go) return;
        op_t *op = eddy_calloc(1, sizeof *op);
        if (!op) return;
        op->b = b;
        op->sched_ns = due;
        issue(b, op);
    }
}

static int run(bench_t *b) {
    b->start_ns = time_mono_ns();
    if (b->rate == 0) {
        /* Closed loop: start concurrency operations; each completion issues the next one. */
        pthread_mutex_lock(&b->lock);
        int n = b->concurrency;
        if (b->total && b->total < n) n = (int)b->total;
        b->issued = n;
        b->inflight = n;
        pthread_mutex_unlock(&b->lock);
        for (int i = 0; i < n; i++) {
            op_t *op = eddy_calloc(1, sizeof *op);
            if (!op) return EDDY_ERR_NOMEM;
            op->b = b;
            op->sched_ns = time_mono_ns();
            issue(b, op);
        }
    } else {
        /* Paced: operation i is due at start + i * interval (at most concurrency in flight). This
         * thread only ticks; the due operations are issued on the client's I/O thread. */
        for (;;) {
            pthread_mutex_lock(&b->lock);
            bool finished = b->total ? b->issued >= b->total : time_mono_ns() >= b->deadline_ns;
            pthread_mutex_unlock(&b->lock);
            if (finished) break;
            if (cql_client_call(b->client, issue_due, b) != EDDY_OK) break;
            usleep(500);
        }
        pthread_mutex_lock(&b->lock);
        b->stop = true;
        pthread_mutex_unlock(&b->lock);
    }
    pthread_mutex_lock(&b->lock);
    while (b->inflight > 0) pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
    return EDDY_OK;
}

static int setup(cql_client_t *c, const char *ks, bool create, cql_error_t *err) {
    char q[512];
    if (create) {
        snprintf(q, sizeof q, "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", ks);
        int rc = cql_client_query(c, q, NULL, err);
        if (rc != EDDY_OK) return rc;
        snprintf(q, sizeof q, "CREATE TABLE IF NOT EXISTS %s.standard1 (key blob PRIMARY KEY, \"C0\" blob, \"C1\" blob, "
                              "\"C2\" blob, \"C3\" blob, \"C4\" blob)", ks);
        return cql_client_query(c, q, NULL, err);
    }
    return EDDY_OK;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: eddy bench cql [HOST[:PORT]] [--mode write|read] [--ops N | --duration SECONDS]\n"
            "                      [--concurrency N] [--connections N] [--rate OPS_PER_S] [--keys N]\n"
            "                      [--value-size BYTES] [--protocol-version N] [--keyspace KS]\n\n"
            "Writes or reads cassandra-stress's standard1 table (key blob, C0..C4 blob) with prepared\n"
            "statements and prints operations/s and latency percentiles. Defaults: write, 10 s,\n"
            "256 in flight on 2 connections, 1,000,000 keys, 34-byte values.\n");
}

int cql_main_bench(int argc, char **argv) {
    const char *host = "127.0.0.1:9042", *mode = "write", *ks = "eddy_bench";
    int64_t ops = 0, keys = 1000000;
    double duration = 10, rate = 0;
    int concurrency = 256, connections = 2, version = 0;
    size_t value_size = 34;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (a[0] != '-') host = a;
        else if (!v) {
            fprintf(stderr, "eddy bench cql: %s needs a value\n", a);
            return 2;
        } else if (!strcmp(a, "--mode")) mode = argv[++i];
        else if (!strcmp(a, "--ops")) ops = atoll(argv[++i]);
        else if (!strcmp(a, "--duration")) duration = atof(argv[++i]);
        else if (!strcmp(a, "--concurrency")) concurrency = atoi(argv[++i]);
        else if (!strcmp(a, "--connections")) connections = atoi(argv[++i]);
        else if (!strcmp(a, "--rate")) rate = atof(argv[++i]);
        else if (!strcmp(a, "--keys")) keys = atoll(argv[++i]);
        else if (!strcmp(a, "--value-size")) value_size = (size_t)atoi(argv[++i]);
        else if (!strcmp(a, "--protocol-version")) version = atoi(argv[++i]);
        else if (!strcmp(a, "--keyspace")) ks = argv[++i];
        else {
            fprintf(stderr, "eddy bench cql: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    bool write = !strcmp(mode, "write");
    if ((!write && strcmp(mode, "read")) || concurrency < 1 || keys < 1 || value_size > 64 || connections < 1) {
        usage(stderr);
        return 2;
    }
    char point[300];
    snprintf(point, sizeof point, "%s%s", host, strchr(host, ':') ? "" : ":9042");
    const char *points[] = {point};
    cql_client_opts_t o = {0};
    o.contact_points = points;
    o.ncontact_points = 1;
    o.connections_per_host = connections;
    o.max_protocol_version = version;
    o.max_requests_per_conn = (uint32_t)EDDY_MAX(2048, concurrency);
    char errstr[600];
    cql_client_t *c;
    if (cql_client_connect(&o, &c, errstr, sizeof errstr) != EDDY_OK) {
        fprintf(stderr, "eddy bench cql: cannot connect to %s: %s\n", point, errstr);
        return 2;
    }
    cql_error_t err;
    char q[512];
    const cql_prepared_t *stmt = NULL;
    int rc = setup(c, ks, write, &err);
    if (rc == EDDY_OK) {
        if (write)
            snprintf(q, sizeof q, "INSERT INTO %s.standard1 (key, \"C0\", \"C1\", \"C2\", \"C3\", \"C4\") VALUES (?, ?, ?, ?, ?, ?)", ks);
        else snprintf(q, sizeof q, "SELECT * FROM %s.standard1 WHERE key = ?", ks);
        rc = cql_client_prepare(c, q, &stmt, &err);
    }
    if (rc != EDDY_OK) {
        fprintf(stderr, "eddy bench cql: %s\n", err.message);
        cql_client_close(c);
        return 2;
    }
    bench_t *b = eddy_calloc(1, sizeof *b);
    if (!b) {
        cql_client_close(c);
        return 2;
    }
    b->client = c;
    b->stmt = stmt;
    b->write = write;
    b->keys = keys;
    b->value_size = value_size;
    b->total = ops;
    b->rate = rate;
    b->concurrency = concurrency;
    b->seed = 0x9E3779B97F4A7C15ull ^ (uint64_t)time_now_us();
    b->deadline_ns = time_mono_ns() + (int64_t)(duration * 1e9);
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    hist_init(&b->hist);
    run(b);
    double secs = (double)(time_mono_ns() - b->start_ns) / 1e9;
    printf("mode %s  protocol v%d  compression %s  connections %d  concurrency %d%s\n", mode,
           cql_client_protocol_version(c), cql_client_compression(c), connections, concurrency,
           rate > 0 ? "  (paced)" : "");
    printf("ops %lld  errors %lld  seconds %.2f  ops/s %.0f%s%s\n", (long long)b->done, (long long)b->errors, secs,
           (double)(b->done - b->errors) / secs, b->errors ? "  last error: " : "", b->errors ? b->last_error : "");
    if (rate > 0) printf("target ops/s %.0f\n", rate);
    printf("latency ms  mean %.3f  p50 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
           b->hist.total ? b->hist.sum / (double)b->hist.total / 1e6 : 0.0, (double)hist_quantile(&b->hist, 0.5) / 1e6,
           (double)hist_quantile(&b->hist, 0.95) / 1e6, (double)hist_quantile(&b->hist, 0.99) / 1e6,
           (double)hist_quantile(&b->hist, 0.999) / 1e6, (double)b->hist.max / 1e6);
    int code = b->errors ? 1 : 0;
    cql_client_close(c);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->cond);
    eddy_free(b);
    return code;
}
