/* Batch jobs: a query over a table, split into token ranges processed in parallel.
 *
 * Each range is scanned by one worker into its own transaction. Without GROUP BY, the range's
 * sink rows are committed together with a "range done" mark. With GROUP BY, the range's partial
 * aggregates are committed with the mark instead; when every range is done, the partials are
 * merged and the result rows written in one commit that also clears the marks. A job that stops
 * part way (crash, stop) resumes with the ranges not yet done: the marks and partials are in the
 * same atomic commits as the rows. */
#include <stdio.h>
#include <stdatomic.h>

#include "engine/engine_int.h"

typedef struct {
    engine_batch_job_t *job;
    int status;
    char err[256];
} worker_t;

static void range_key(wr_t *w, const char *id, int kind, uint32_t nranges, uint32_t i) {
    engine_kv_prefix(w, id, kind);
    wr_u32(w, nranges);
    wr_u32(w, i);
}

/* The query's part of the ring, (scan_lo, scan_hi], cut into n equal ranges; when it starts at
 * the ring's start, range 0 also holds the minimum token. */
static void range_bounds(const engine_query_t *q, uint32_t n, uint32_t i, int64_t *start, int64_t *end) {
    __int128 lo = (__int128)q->scan_lo, span = (__int128)q->scan_hi - lo;
    *start = (int64_t)(lo + span * i / n);
    *end = i + 1 == n ? q->scan_hi : (int64_t)(lo + span * (i + 1) / n);
}

static int row_cb(void *arg, const engine_val_t *cols) {
    engine_txn_t *t = arg;
    return engine_txn_row(t, cols);
}

static int run_range(engine_batch_job_t *job, engine_txn_t *t, uint32_t i, char *errstr, size_t errlen) {
    const engine_query_t *q = job->q;
    int64_t start, end;
    range_bounds(q, job->nranges, i, &start, &end);
    engine_txn_reset(t, job->now_ms);
    uint64_t before = engine_txn_counters(t)->input_rows;
    bool needed[1024] = {0};
    for (uint32_t c = 0; c < q->nbase; c++)
        if (q->inputs[c].col < 1024) needed[q->inputs[c].col] = true;
    int rc = job->sink.ops->scan(job->sink.ctx, q->scan, start, end, q->scan->ncols <= 1024 ? needed : NULL, row_cb, t,
                                 errstr, errlen);
    if (rc) return rc;
    atomic_fetch_add(&job->rows, engine_txn_counters(t)->input_rows - before);
    wr_t k, v;
    wr_init(&k, 64);
    wr_init(&v, 256);
    range_key(&k, q->id, KV_RANGE, job->nranges, i);
    if (q->grouped) {
        /* The partial aggregates travel in the state; the rows come at the end. */
        wr_t pk;
        wr_init(&pk, 64);
        range_key(&pk, q->id, KV_PARTIAL, job->nranges, i);
        rc = engine_txn_export_groups(t, &v);
        engine_txn_drop_groups(t);
        if (!rc) rc = engine_txn_kv(t, eddy_view(pk.buf, pk.len), eddy_view(v.buf, v.len), false);
        wr_free(&pk);
    }
    uint8_t one = 1;
    if (!rc) rc = engine_txn_kv(t, eddy_view(k.buf, k.len), eddy_view(&one, 1), false);
    wr_free(&k);
    wr_free(&v);
    if (rc) return eddy_err(errstr, errlen, rc, "range %u: %s", i, eddy_strerror(rc));
    rc = engine_txn_commit(t, errstr, errlen);
    if (!rc) {
        const engine_counters_t *c = engine_txn_counters(t);
        atomic_fetch_add(&job->output_rows, c->output_rows);
        atomic_fetch_add(&job->rows_skipped, c->rows_skipped);
        atomic_fetch_add(&job->ranges_done, 1);
    }
    return rc;
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    engine_batch_job_t *job = w->job;
    engine_txn_t *t = engine_txn_new(job->q, job->sink);
    if (!t) {
        w->status = eddy_err(w->err, sizeof w->err, EDDY_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (;;) {
        if (atomic_load(&job->stop)) break;
        uint32_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->nranges) break;
        if (job->done[i]) continue;
        int rc = run_range(job, t, i, w->err, sizeof w->err);
        if (rc) {
            w->status = rc;
            atomic_store(&job->stop, true);
            break;
        }
    }
    engine_txn_free(t);
    return NULL;
}

static void *worker_thread(void *arg) {
    pthread_setname_np(pthread_self(), "batch-worker");
    return worker_main(arg);
}

typedef struct {
    bool import;
    engine_txn_t *t;
    wr_t *keys;
    int rc;
} finish_ctx_t;

static int finish_scan(void *arg, eddy_view_t k, eddy_view_t v) {
    finish_ctx_t *f = arg;
    if (f->import) {
        f->rc = engine_txn_import_groups(f->t, v.ptr, v.len);
        if (f->rc) return f->rc;
    }
    wr_uvarint(f->keys, k.len);
    wr_bytes(f->keys, k.ptr, k.len);
    return 0;
}

/* Merges the partials, writes the result rows and clears the job's marks in one commit. */
static int finish(engine_batch_job_t *job, char *errstr, size_t errlen) {
    const engine_query_t *q = job->q;
    engine_txn_t *t = engine_txn_new((engine_query_t *)q, job->sink);
    if (!t) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    engine_txn_reset(t, job->now_ms);
    wr_t prefix, keys;
    wr_init(&prefix, 64);
    wr_init(&keys, 1024);
    finish_ctx_t f = {false, t, &keys, EDDY_OK};
    int rc = EDDY_OK;
    for (int kind = KV_PARTIAL; kind >= KV_RANGE && !rc; kind--) {
        wr_reset(&prefix);
        engine_kv_prefix(&prefix, q->id, kind);
        wr_u32(&prefix, job->nranges);
        f.rc = EDDY_OK;
        f.import = kind == KV_PARTIAL && q->grouped;
        rc = job->sink.ops->kv_scan(job->sink.ctx, eddy_view(prefix.buf, prefix.len), finish_scan, &f);
        if (!rc) rc = f.rc;
    }
    rd_t r = rd_init(keys.buf, keys.len);
    while (!rc && rd_remaining(&r)) {
        uint64_t n = rd_uvarint64(&r);
        const uint8_t *kp = rd_bytes(&r, (size_t)n);
        if (!kp) rc = EDDY_ERR_CORRUPT;
        else rc = engine_txn_kv(t, eddy_view(kp, (size_t)n), eddy_view(NULL, 0), true);
    }
    if (rc) rc = eddy_err(errstr, errlen, rc, "%s: cannot merge the partial results: %s", q->id, eddy_strerror(rc));
    else rc = engine_txn_commit(t, errstr, errlen);
    if (!rc) {
        atomic_fetch_add(&job->output_rows, engine_txn_counters(t)->output_rows);
        atomic_fetch_add(&job->rows_skipped, engine_txn_counters(t)->rows_skipped);
    }
    wr_free(&prefix);
    wr_free(&keys);
    engine_txn_free(t);
    return rc;
}

typedef struct {
    uint8_t *done;
    uint32_t nranges;
    uint32_t count;
    size_t prefix_len;
} done_ctx_t;

static int mark_done(void *arg, eddy_view_t k, eddy_view_t v) {
    done_ctx_t *d = arg;
    (void)v;
    if (k.len != d->prefix_len + 4) return 0;
    uint32_t i = load_u32(k.ptr + d->prefix_len);
    if (i < d->nranges && !d->done[i]) {
        d->done[i] = 1;
        d->count++;
    }
    return 0;
}

int engine_batch_init(engine_batch_job_t *job, engine_query_t *q, engine_sink_t sink, uint32_t nranges, int64_t now_ms) {
    memset(job, 0, sizeof *job);
    job->q = q;
    job->sink = sink;
    job->nranges = nranges ? nranges : 64;
    if (q->scan_hi <= q->scan_lo) job->nranges = 0; /* an empty token range: nothing to scan */
    else if ((uint64_t)((__int128)q->scan_hi - q->scan_lo) < job->nranges) job->nranges = 1;
    job->now_ms = now_ms;
    job->done = eddy_calloc(job->nranges + 1, 1);
    return job->done ? EDDY_OK : EDDY_ERR_NOMEM;
}

void engine_batch_destroy(engine_batch_job_t *job) {
    eddy_free(job->done);
    job->done = NULL;
}

int engine_batch_run(engine_batch_job_t *job, int threads, char *errstr, size_t errlen) {
    const engine_query_t *q = job->q;
    /* Ranges finished by an earlier run of the same job are skipped. */
    wr_t prefix;
    wr_init(&prefix, 64);
    engine_kv_prefix(&prefix, q->id, KV_RANGE);
    wr_u32(&prefix, job->nranges);
    done_ctx_t d = {job->done, job->nranges, 0, prefix.len};
    int rc = job->sink.ops->kv_scan(job->sink.ctx, eddy_view(prefix.buf, prefix.len), mark_done, &d);
    wr_free(&prefix);
    if (rc) return eddy_err(errstr, errlen, rc, "%s: cannot read the job's progress", q->id);
    if (d.count) elog_info("engine", "%s: resuming: %u of %u token ranges already done", q->id, d.count, job->nranges);
    atomic_store(&job->ranges_done, d.count);
    atomic_store(&job->next, 0);
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    pthread_t tids[64];
    worker_t workers[64];
    int started = 0;
    for (int i = 0; i < threads; i++) {
        workers[i] = (worker_t){job, EDDY_OK, ""};
        if (threads == 1) {
            worker_main(&workers[0]);
            started = 1;
            break;
        }
        if (pthread_create(&tids[i], NULL, worker_thread, &workers[i]) != 0) break;
        started++;
    }
    if (threads > 1)
        for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    for (int i = 0; i < started; i++)
        if (workers[i].status) return eddy_err(errstr, errlen, workers[i].status, "%s", workers[i].err);
    if (started == 0) return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot start batch threads");
    if (atomic_load(&job->stop)) return eddy_err(errstr, errlen, EDDY_ERR_CLOSED, "%s: stopped", q->id);
    return finish(job, errstr, errlen);
}
