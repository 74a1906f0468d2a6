/* A running pipeline: one thread applying its streaming queries continuously (a record is
 * applied as soon as it is durable: the thread sleeps on source watches, never polls), after
 * running its batch queries, and a commit thread that writes each batch while the pipeline
 * thread applies the next one (two cores at work under load; one commit in flight, so a batch
 * never overtakes another). Positions are published after each commit for read-your-writes.
 *
 * Exactly once with a commit in flight: the next batch reads state through the transaction's
 * cache, which holds everything the batch in flight wrote; the one read that may depend on the
 * store itself (a sink row's reference count) first waits for the commit (the barrier). When a
 * commit fails, the batch prepared after it is dropped too, and both queries go back to their
 * last applied positions with an empty cache. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "engine/engine_rt.h"

#define STEP_MAX_RECORDS 8192 /* records per batch under load: bounds latency and memory */
#define BULK_RECORDS 1024     /* a batch this large means catching up: the store sizes for it */
#define BULK_IDLE_MS 5000     /* ... until the pipeline has been idle this long */

/* Tells the store whether this pipeline is catching up (larger memtables while it is). */
static void bulk_set(pipeline_t *p, bool on) {
    engine_sink_t sink = p->eng->be.sink;
    if (on == p->bulk || !sink.ops->bulk) return;
    p->bulk = on;
    sink.ops->bulk(sink.ctx, on);
}

static void kick(void *arg) {
    pipeline_t *p = arg;
    pthread_mutex_lock(&p->mu);
    p->kicked = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void set_state(pipeline_t *p, int state, const char *error) {
    pthread_mutex_lock(&p->mu);
    p->state = state;
    if (error) snprintf(p->error, sizeof p->error, "%s", error);
    pthread_mutex_unlock(&p->mu);
}

/* Sleeps until kicked, stopped, or ms passed. */
static void pipe_sleep(pipeline_t *p, int64_t ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_mutex_lock(&p->mu);
    while (!p->kicked && !atomic_load(&p->stop))
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) == ETIMEDOUT) break;
    p->kicked = false;
    pthread_mutex_unlock(&p->mu);
}

/* Publishes a query's applied positions and, with n records, its batch's counters. hwm: the
 * source's high watermarks (the pipeline thread's); NULL (the commit thread): each is raised to
 * at least its applied position, so the lag never reads negative. */
static void publish(pipeline_t *p, pquery_t *pq, const int64_t *applied, const int64_t *hwm, const engine_counters_t *c,
                    uint32_t n, uint64_t ns) {
    pthread_mutex_lock(&p->mu);
    memcpy(pq->applied, applied, (size_t)pq->nparts * sizeof *pq->applied);
    if (hwm) memcpy(pq->hwm, hwm, (size_t)pq->nparts * sizeof *pq->hwm);
    else
        for (int32_t i = 0; i < pq->nparts; i++) pq->hwm[i] = EDDY_MAX(pq->hwm[i], applied[i]);
    if (n) {
        qstats_t *s = &pq->st;
        s->batches++;
        s->input_rows += c->input_rows;
        s->output_rows += c->output_rows;
        s->rows_deleted += c->rows_deleted;
        s->retractions += c->retractions;
        s->bad_records += c->bad_records;
        s->rows_skipped += c->rows_skipped;
        s->state_updated += c->state_rows_updated;
        s->state_removed += c->state_rows_removed;
        s->state_total += (int64_t)c->state_rows_total;
        s->busy_ns += ns;
        s->last_batch_ms = time_now_ms();
        s->last_batch_ns = ns;
        s->last_batch_rows = n;
    }
    pthread_mutex_unlock(&p->mu);
}

/* ---- the commit thread ----------------------------------------------------------------------- */

static void *commit_main(void *arg) {
    pipeline_t *p = arg;
    char tname[16];
    snprintf(tname, sizeof tname, "pcom:%.10s", p->name);
    pthread_setname_np(pthread_self(), tname);
    pthread_mutex_lock(&p->cmu);
    for (;;) {
        while (!p->cstop && (!p->cjob || p->cjob_done)) pthread_cond_wait(&p->ccv, &p->cmu);
        if (p->cstop) break;
        engine_prepared_t *job = p->cjob;
        pquery_t *pq = p->cjob_q;
        uint32_t n = p->cjob_n;
        int64_t t0 = p->cjob_t0;
        pthread_mutex_unlock(&p->cmu);
        char err[512] = "";
        int rc = engine_prepared_commit(p->eng->be.sink, job, err, sizeof err);
        if (!rc) {
            /* The batch's rows are visible: its positions and counters are published and its
             * waits complete now, not when the pipeline thread is done preparing the next batch
             * (that took a batch's time again under load). */
            publish(p, pq, job->reached, NULL, &job->counters, n, (uint64_t)(time_mono_ns() - t0));
            engine_waiters_check(p->eng);
        }
        pthread_mutex_lock(&p->cmu);
        p->cstatus = rc;
        snprintf(p->cerr, sizeof p->cerr, "%s", err);
        p->cjob_done = true;
        pthread_cond_broadcast(&p->ccv);
    }
    pthread_mutex_unlock(&p->cmu);
    return NULL;
}

/* Waits for the commit in flight, if any: applied (the commit thread published it), the run
 * moves on to its positions; failed, its error is returned (the caller rewinds). */
static int inflight_wait(pipeline_t *p) {
    pthread_mutex_lock(&p->cmu);
    while (p->cjob && !p->cjob_done) pthread_cond_wait(&p->ccv, &p->cmu);
    engine_prepared_t *job = p->cjob;
    pquery_t *pq = p->cjob_q;
    int rc = p->cstatus;
    p->cjob = NULL;
    pthread_mutex_unlock(&p->cmu);
    if (!job) return EDDY_OK;
    if (rc) {
        pthread_mutex_lock(&p->mu);
        snprintf(p->error, sizeof p->error, "%s", p->cerr);
        pthread_mutex_unlock(&p->mu);
        elog_error("engine", "%s: batch failed, retrying: %s", pq->q->id, p->cerr);
        return rc;
    }
    engine_stream_applied(&pq->run, job);
    pthread_mutex_lock(&p->mu);
    memcpy(pq->hwm, pq->run.hwm, (size_t)pq->nparts * sizeof *pq->hwm);
    pthread_mutex_unlock(&p->mu);
    if (ELOG_ENABLED(ELOG_LEVEL_DEBUG))
        for (int32_t part = 0; part < pq->nparts; part++)
            elog_debug("engine", "%s: applied %s/%d up to offset %lld", pq->q->id, pq->q->stream->topic, (int)part,
                       (long long)pq->run.committed[part] - 1);
    return EDDY_OK;
}

static int barrier(void *arg) { return inflight_wait(arg); }

static void inflight_start(pipeline_t *p, pquery_t *pq, engine_prepared_t *job, uint32_t n, int64_t t0) {
    pthread_mutex_lock(&p->cmu);
    p->cjob = job;
    p->cjob_q = pq;
    p->cjob_n = n;
    p->cjob_t0 = t0;
    p->cjob_done = false;
    p->cstatus = EDDY_OK;
    pthread_cond_broadcast(&p->ccv);
    pthread_mutex_unlock(&p->cmu);
}

static int commit_thread_start(pipeline_t *p) {
    p->cstop = false;
    p->cjob = NULL;
    if (pthread_create(&p->cthread, NULL, commit_main, p) != 0) return EDDY_ERR_IO;
    p->cthread_live = true;
    return EDDY_OK;
}

static void commit_thread_stop(pipeline_t *p) {
    if (!p->cthread_live) return;
    pthread_mutex_lock(&p->cmu);
    p->cstop = true;
    pthread_cond_broadcast(&p->ccv);
    pthread_mutex_unlock(&p->cmu);
    pthread_join(p->cthread, NULL);
    p->cthread_live = false;
}

static int count_fn(void *arg, eddy_view_t k, eddy_view_t v) {
    (void)k; (void)v;
    (*(int64_t *)arg)++;
    return 0;
}

/* Rows of state a query holds (per-key rows and groups; the sink rows' reference counts live in
 * the rows), counted once at start. */
static int64_t count_state(engine_sink_t sink, const char *id) {
    int64_t n = 0;
    for (int kind = KV_INPUT; kind <= KV_GROUP; kind++) {
        wr_t w;
        wr_init(&w, 64);
        engine_kv_prefix(&w, id, kind);
        sink.ops->kv_scan(sink.ctx, eddy_view(w.buf, w.len), count_fn, &n);
        wr_free(&w);
    }
    return n;
}

static int open_queries(pipeline_t *p, char *err, size_t errlen) {
    engine_t *eng = p->eng;
    for (uint32_t i = 0; i < p->nq; i++) {
        pquery_t *pq = &p->qs[i];
        if (!pq->streaming) continue;
        int rc = engine_stream_open(&pq->run, pq->q, p->src, eng->be.sink, err, errlen);
        if (rc) return rc;
        pq->opened = true;
        engine_txn_pipeline(pq->run.txn, barrier, p);
        pq->nparts = pq->run.nparts;
        pq->applied = eddy_calloc((size_t)pq->nparts, sizeof *pq->applied);
        pq->hwm = eddy_calloc((size_t)pq->nparts, sizeof *pq->hwm);
        pq->start_pos = eddy_calloc((size_t)pq->nparts, sizeof *pq->start_pos);
        if (!pq->applied || !pq->hwm || !pq->start_pos) return eddy_err(err, errlen, EDDY_ERR_NOMEM, "out of memory");
        memcpy(pq->start_pos, pq->run.next, (size_t)pq->nparts * sizeof *pq->start_pos);
        int64_t total = count_state(eng->be.sink, pq->q->id);
        pthread_mutex_lock(&p->mu);
        pq->st.state_total = total;
        pthread_mutex_unlock(&p->mu);
        publish(p, pq, pq->run.committed, pq->run.hwm, NULL, 0, 0);
    }
    return EDDY_OK;
}

static void run_batches(pipeline_t *p) {
    engine_t *eng = p->eng;
    char err[512];
    for (uint32_t i = 0; i < p->nq && !atomic_load(&p->stop); i++) {
        pquery_t *pq = &p->qs[i];
        if (pq->streaming) continue;
        pq->job_started_ms = time_now_ms();
        int rc = engine_batch_run(&pq->job, eng->be.batch_threads, err, sizeof err);
        pthread_mutex_lock(&p->mu);
        pq->job_finished_ms = time_now_ms();
        pthread_mutex_unlock(&p->mu);
        if (rc == EDDY_ERR_CLOSED) return;
        if (rc) {
            elog_error("engine", "%s: batch job failed: %s", pq->q->id, err);
            set_state(p, PIPE_FAILED, err);
            return;
        }
        elog_info("engine", "%s: batch job done: %llu rows in %.3f s, %llu rows written", pq->q->id,
                  (unsigned long long)atomic_load(&pq->job.rows), (double)(pq->job_finished_ms - pq->job_started_ms) / 1e3,
                  (unsigned long long)atomic_load(&pq->job.output_rows));
    }
}

static void *pipe_main(void *arg) {
    pipeline_t *p = arg;
    engine_t *eng = p->eng;
    char err[512];
    /* Named for top -H, perf and the benchmarks' per-thread CPU figures (15 bytes at most). */
    char tname[16];
    snprintf(tname, sizeof tname, "pipe:%.10s", p->name);
    pthread_setname_np(pthread_self(), tname);
    int64_t interval = eng->be.progress_interval_ms ? eng->be.progress_interval_ms : 10000;
    if (open_queries(p, err, sizeof err)) {
        elog_error("engine", "pipeline %s cannot start: %s", p->name, err);
        set_state(p, PIPE_FAILED, err);
        engine_waiters_check(eng);
        return NULL;
    }
    set_state(p, PIPE_RUNNING, NULL);
    engine_waiters_check(eng);
    run_batches(p);
    bool any_stream = false;
    for (uint32_t i = 0; i < p->nq; i++) any_stream |= p->qs[i].streaming;
    if (!any_stream) {
        pthread_mutex_lock(&p->mu);
        if (p->state == PIPE_RUNNING) p->state = atomic_load(&p->stop) ? PIPE_STOPPED : PIPE_FINISHED;
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    int64_t next_report = time_mono_ms() + (interval > 0 ? interval : 3600000);
    int64_t backoff = 0, busy_ms = 0;
    void **handles = NULL;
    size_t nhandles = 0;
    if (commit_thread_start(p)) {
        set_state(p, PIPE_FAILED, "cannot start the commit thread");
        engine_waiters_check(eng);
        return NULL;
    }
    while (!atomic_load(&p->stop)) {
        uint32_t total = 0;
        bool failed = false;
        for (uint32_t i = 0; i < p->nq && !atomic_load(&p->stop) && !failed; i++) {
            pquery_t *pq = &p->qs[i];
            if (!pq->streaming) continue;
            uint32_t n = 0;
            int64_t t0 = time_mono_ns();
            engine_prepared_t *job = NULL;
            /* This batch is applied while the previous one is written; then it is written. */
            int rc = engine_stream_prepare(&pq->run, STEP_MAX_RECORDS, time_now_ms(), &n, &job, err, sizeof err);
            /* Encoding for the store happens here too: the commit thread only writes. */
            if (!rc && job) rc = engine_prepared_build(eng->be.sink, job, err, sizeof err);
            if (rc) {
                elog_error("engine", "%s: batch failed, retrying: %s", pq->q->id, err);
                pthread_mutex_lock(&p->mu);
                snprintf(p->error, sizeof p->error, "%s", err);
                pthread_mutex_unlock(&p->mu);
            }
            int wrc = inflight_wait(p);
            if (rc || wrc) {
                engine_prepared_discard(eng->be.sink, job);
                failed = true;
                break;
            }
            if (job) inflight_start(p, pq, job, n, t0);
            if (n >= BULK_RECORDS) bulk_set(p, true);
            total += n;
        }
        if (failed) {
            /* Nothing of the failed batch (nor of one prepared after it) was applied: every query
             * goes back to its applied positions and tries again. */
            inflight_wait(p);
            for (uint32_t i = 0; i < p->nq; i++)
                if (p->qs[i].streaming && p->qs[i].opened) engine_stream_rewind(&p->qs[i].run);
            backoff = backoff ? EDDY_MIN(backoff * 2, 5000) : 100;
            pipe_sleep(p, backoff);
            continue;
        }
        backoff = 0;
        int64_t now = time_mono_ms();
        if (total) busy_ms = now;
        else if (p->bulk && now - busy_ms >= BULK_IDLE_MS) bulk_set(p, false);
        if (now >= next_report) {
            for (uint32_t i = 0; i < p->nq; i++)
                if (p->qs[i].streaming) pipe_progress_update(p, &p->qs[i], time_now_ms(), interval > 0);
            next_report = now + (interval > 0 ? interval : 3600000);
        }
        if (total) continue;
        /* Idle: sleep until a partition has a record beyond its position. */
        size_t need = 0;
        for (uint32_t i = 0; i < p->nq; i++) need += p->qs[i].streaming ? (size_t)p->qs[i].nparts : 0;
        if (need > nhandles) {
            void **h = eddy_realloc(handles, need * sizeof *h);
            if (h) handles = h, nhandles = need;
        }
        size_t k = 0;
        bool ready = false;
        for (uint32_t i = 0; i < p->nq && !ready && k < nhandles; i++) {
            pquery_t *pq = &p->qs[i];
            if (!pq->streaming) continue;
            for (int32_t part = 0; part < pq->nparts && !ready && k < nhandles; part++) {
                void *h = NULL;
                if (p->src.ops->watch(p->src.ctx, pq->q->stream->topic, part, pq->run.next[part], kick, p, &h) != EDDY_OK)
                    continue;
                if (!h) ready = true;
                else handles[k++] = h;
            }
        }
        if (!ready) pipe_sleep(p, EDDY_MIN(next_report - time_mono_ms() + 1, 1000));
        for (size_t j = 0; j < k; j++) p->src.ops->unwatch(p->src.ctx, handles[j]);
    }
    /* A batch in flight is finished (it is being written; its positions go with it). */
    if (inflight_wait(p))
        for (uint32_t i = 0; i < p->nq; i++)
            if (p->qs[i].streaming && p->qs[i].opened) engine_stream_rewind(&p->qs[i].run);
    commit_thread_stop(p);
    bulk_set(p, false);
    eddy_free(handles);
    set_state(p, PIPE_STOPPED, NULL);
    engine_waiters_check(eng);
    return NULL;
}

int pipe_start(pipeline_t *p, char *errstr, size_t errlen) {
    engine_t *eng = p->eng;
    if (!p->src_open) {
        int rc = eng->be.source_open(eng->be.env, &p->src);
        if (rc) return eddy_err(errstr, errlen, rc, "pipeline %s: cannot open its source", p->name);
        p->src_open = true;
    }
    for (uint32_t i = 0; i < p->nq; i++) {
        pquery_t *pq = &p->qs[i];
        if (pq->opened) engine_stream_close(&pq->run);
        pq->opened = false;
        eddy_free(pq->applied);
        eddy_free(pq->hwm);
        eddy_free(pq->start_pos);
        pq->applied = pq->hwm = pq->start_pos = NULL;
        pq->nparts = 0;
        if (pq->job_ready) engine_batch_destroy(&pq->job);
        pq->job_ready = false;
        if (!pq->streaming) {
            if (engine_batch_init(&pq->job, pq->q, eng->be.sink, 64, time_now_ms())) return EDDY_ERR_NOMEM;
            pq->job_ready = true;
        }
        memset(&pq->st, 0, sizeof pq->st);
        memset(&pq->prev, 0, sizeof pq->prev);
        pq->prev_ms = time_now_ms();
        pq->progress[0] = 0;
    }
    uint64_t r = hash64(&p, sizeof p) ^ (uint64_t)time_now_us();
    uint64_t r2 = hash64(&r, sizeof r);
    snprintf(p->run_id, sizeof p->run_id, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned)(r >> 32), (unsigned)(r >> 16) & 0xffff,
             (unsigned)r & 0xfff, (unsigned)(r2 >> 52) & 0xfff, (unsigned long long)(r2 & 0xffffffffffffull));
    atomic_store(&p->stop, false);
    p->state = PIPE_STARTING;
    p->error[0] = 0;
    p->started_ms = time_now_ms();
    if (pthread_create(&p->thread, NULL, pipe_main, p) != 0)
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "pipeline %s: cannot start its thread", p->name);
    p->thread_live = true;
    return EDDY_OK;
}

void pipe_stop(pipeline_t *p) {
    if (!p->thread_live) return;
    atomic_store(&p->stop, true);
    for (uint32_t i = 0; i < p->nq; i++)
        if (p->qs[i].job_ready) atomic_store(&p->qs[i].job.stop, true);
    kick(p);
    pthread_join(p->thread, NULL);
    p->thread_live = false;
    pthread_mutex_lock(&p->mu);
    if (p->state == PIPE_RUNNING || p->state == PIPE_STARTING) p->state = PIPE_STOPPED;
    pthread_mutex_unlock(&p->mu);
}

void pipe_free(pipeline_t *p) {
    if (!p) return;
    pipe_stop(p);
    for (uint32_t i = 0; i < p->nq; i++) {
        pquery_t *pq = &p->qs[i];
        if (pq->opened) engine_stream_close(&pq->run);
        if (pq->job_ready) engine_batch_destroy(&pq->job);
        eddy_free(pq->applied);
        eddy_free(pq->hwm);
        eddy_free(pq->start_pos);
    }
    if (p->src_open) p->eng->be.source_close(p->eng->be.env, p->src);
    eddy_free(p->qs);
    engine_plan_free(p->plan);
    eddy_free(p->name);
    eddy_free(p->text);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->cmu);
    pthread_cond_destroy(&p->ccv);
    eddy_free(p);
}

bool pipe_applied(pipeline_t *p, const char *topic, int32_t partition, int64_t offset, bool *reads) {
    bool applied = true;
    *reads = false;
    pthread_mutex_lock(&p->mu);
    bool live = p->state == PIPE_RUNNING;
    for (uint32_t i = 0; i < p->nq; i++) {
        pquery_t *pq = &p->qs[i];
        if (!pq->streaming || strcmp(pq->q->stream->topic, topic)) continue;
        *reads = true;
        if (!live || !pq->applied || partition < 0 || partition >= pq->nparts || pq->applied[partition] <= offset)
            applied = false;
    }
    pthread_mutex_unlock(&p->mu);
    return *reads && applied;
}
