/* The engine: its pipelines by name, submitting and stopping them, read-your-writes waits and
 * the timer thread that fires their timeouts. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "engine/engine_rt.h"

static void *timer_main(void *arg);

int engine_engine_new(const engine_backend_t *be, engine_t **out, char *errstr, size_t errlen) {
    engine_t *eng = eddy_calloc(1, sizeof *eng);
    if (!eng) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    eng->be = *be;
    if (eng->be.batch_threads <= 0) eng->be.batch_threads = 2;
    pthread_mutex_init(&eng->mu, NULL);
    pthread_mutex_init(&eng->ctl, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&eng->timer_cv, &ca);
    pthread_condattr_destroy(&ca);
    eng->timer_next = INT64_MIN;
    if (pthread_create(&eng->timer, NULL, timer_main, eng) != 0) {
        pthread_mutex_destroy(&eng->mu);
        pthread_cond_destroy(&eng->timer_cv);
        eddy_free(eng);
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot start the engine's timer thread");
    }
    eng->timer_live = true;
    *out = eng;
    return EDDY_OK;
}

static void waiter_free(waiter_t *w) { eddy_free(w); }

void engine_free(engine_t *eng) {
    if (!eng) return;
    pthread_mutex_lock(&eng->ctl);
    pthread_mutex_unlock(&eng->ctl);
    pthread_mutex_lock(&eng->mu);
    eng->closing = true;
    pipeline_t *pipes = eng->pipes;
    eng->pipes = NULL;
    waiter_t *ws = eng->waiters;
    eng->waiters = NULL;
    pthread_cond_signal(&eng->timer_cv);
    pthread_mutex_unlock(&eng->mu);
    while (ws) {
        waiter_t *w = ws;
        ws = w->next;
        w->fn(w->arg, EDDY_ERR_CLOSED);
        waiter_free(w);
    }
    while (pipes) {
        pipeline_t *p = pipes;
        pipes = p->next;
        pipe_free(p);
    }
    if (eng->timer_live) pthread_join(eng->timer, NULL);
    pthread_mutex_destroy(&eng->mu);
    pthread_mutex_destroy(&eng->ctl);
    pthread_cond_destroy(&eng->timer_cv);
    if (eng->be.close) eng->be.close(eng->be.env, eng->be.sink);
    eddy_free(eng);
}

static pipeline_t *find_pipe(engine_t *eng, const char *name) {
    for (pipeline_t *p = eng->pipes; p; p = p->next)
        if (!strcmp(p->name, name)) return p;
    return NULL;
}

static void unlink_pipe(engine_t *eng, pipeline_t *victim) {
    for (pipeline_t **pp = &eng->pipes; *pp; pp = &(*pp)->next)
        if (*pp == victim) {
            *pp = victim->next;
            return;
        }
}

/* A query's state was made by a different version of its statement: it cannot be reused. The
 * state and positions are cleared (the query replays its source from the start); rows the old
 * version wrote stay in the table. */
typedef struct {
    engine_txn_t *t;
    int rc;
} reset_ctx_t;

static int reset_fn(void *arg, eddy_view_t k, eddy_view_t v) {
    reset_ctx_t *r = arg;
    (void)v;
    r->rc = engine_txn_kv(r->t, k, eddy_view(NULL, 0), true);
    return r->rc;
}

static int check_fingerprint(engine_t *eng, engine_query_t *q, char *errstr, size_t errlen) {
    engine_sink_t sink = eng->be.sink;
    wr_t k, v;
    wr_init(&k, 64);
    wr_init(&v, 16);
    engine_kv_prefix(&k, q->id, KV_META);
    bool found = false;
    int rc = sink.ops->kv_get(sink.ctx, eddy_view(k.buf, k.len), &v, &found);
    uint64_t stored = found && v.len == 8 ? load_u64(v.buf) : 0;
    if (!rc && (!found || stored != q->fingerprint)) {
        engine_txn_t *t = engine_txn_new(q, sink);
        if (!t) rc = EDDY_ERR_NOMEM;
        if (!rc && found) {
            elog_warn("engine", "%s: the statement changed since it last ran: its state is reset and it starts over "
                      "(rows the old version wrote stay)", q->id);
            wr_t prefix;
            wr_init(&prefix, 64);
            wr_u8(&prefix, 'e');
            wr_uvarint(&prefix, strlen(q->id));
            wr_str(&prefix, q->id);
            reset_ctx_t r = {t, EDDY_OK};
            rc = sink.ops->kv_scan(sink.ctx, eddy_view(prefix.buf, prefix.len), reset_fn, &r);
            if (!rc) rc = r.rc;
            wr_free(&prefix);
        }
        uint8_t fp[8];
        store_u64(fp, q->fingerprint);
        if (!rc) rc = engine_txn_kv(t, eddy_view(k.buf, k.len), eddy_view(fp, 8), false);
        if (!rc) rc = engine_txn_commit(t, errstr, errlen);
        engine_txn_free(t);
    }
    wr_free(&k);
    wr_free(&v);
    return rc && !errstr[0] ? eddy_err(errstr, errlen, rc, "%s: cannot prepare its state", q->id) : rc;
}

static int engine_submit_locked(engine_t *eng, const char *name, const char *text, size_t len, engine_submit_result_t *res,
                  char *errstr, size_t errlen) {
    char auto_name[32];
    if (errstr && errlen) errstr[0] = 0;
    if (!name || !*name) {
        pthread_mutex_lock(&eng->mu);
        snprintf(auto_name, sizeof auto_name, "pipeline-%d", ++eng->next_id);
        pthread_mutex_unlock(&eng->mu);
        name = auto_name;
    }
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == '-' || *c == '.'))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "pipeline name '%s': use letters, digits, '_', '-', '.'", name);
    if (strlen(name) > 100) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "pipeline name is too long");
    pthread_mutex_lock(&eng->mu);
    pipeline_t *old = find_pipe(eng, name);
    bool same = old && old->text_len == len && !memcmp(old->text, text, len);
    int old_state = old ? old->state : -1;
    pthread_mutex_unlock(&eng->mu);
    if (old && (old_state == PIPE_RUNNING || old_state == PIPE_STARTING)) {
        if (!same)
            return eddy_err(errstr, errlen, EDDY_ERR_EXISTS, "pipeline %s is running with another file: stop it first",
                            name);
        if (res) {
            memset(res, 0, sizeof *res);
            snprintf(res->name, sizeof res->name, "%s", name);
            for (uint32_t i = 0; i < old->nq; i++) *(old->qs[i].streaming ? &res->nstreaming : &res->nbatch) += 1;
        }
        return EDDY_OK;
    }
    engine_plan_t *plan;
    int rc = engine_plan_build(name, text, len, eng->be.sink, &plan, errstr, errlen);
    if (rc) return rc;
    if ((rc = engine_plan_run_ddl(plan, eng->be.sink, errstr, errlen))) goto fail;
    for (uint32_t i = 0; i < plan->nqueries; i++)
        if ((rc = check_fingerprint(eng, plan->queries[i], errstr, errlen))) goto fail;
    pipeline_t *p = eddy_calloc(1, sizeof *p);
    if (!p) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
        goto fail;
    }
    p->eng = eng;
    p->name = eddy_strdup(name);
    p->text = eddy_memdup(text, len ? len : 1);
    p->text_len = len;
    p->plan = plan;
    p->nq = plan->nqueries;
    p->qs = eddy_calloc(p->nq, sizeof *p->qs);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->cmu, NULL);
    pthread_cond_init(&p->ccv, NULL);
    if (!p->name || !p->text || !p->qs) {
        pipe_free(p);
        return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < p->nq; i++) {
        p->qs[i].q = plan->queries[i];
        p->qs[i].streaming = plan->queries[i]->stream != NULL;
    }
    if ((rc = pipe_start(p, errstr, errlen))) {
        pipe_free(p);
        return rc;
    }
    pthread_mutex_lock(&eng->mu);
    old = find_pipe(eng, name);
    if (old) unlink_pipe(eng, old);
    p->next = eng->pipes;
    eng->pipes = p;
    pthread_mutex_unlock(&eng->mu);
    pipe_free(old);
    if (res) {
        memset(res, 0, sizeof *res);
        snprintf(res->name, sizeof res->name, "%s", name);
        for (uint32_t i = 0; i < p->nq; i++) *(p->qs[i].streaming ? &res->nstreaming : &res->nbatch) += 1;
    }
    elog_info("engine", "pipeline %s started: %u quer%s", name, p->nq, p->nq == 1 ? "y" : "ies");
    return EDDY_OK;
fail:
    engine_plan_free(plan);
    return rc;
}

int engine_submit(engine_t *eng, const char *name, const char *text, size_t len, engine_submit_result_t *res,
                  char *errstr, size_t errlen) {
    pthread_mutex_lock(&eng->ctl);
    int rc = engine_submit_locked(eng, name, text, len, res, errstr, errlen);
    pthread_mutex_unlock(&eng->ctl);
    return rc;
}


static int engine_pipeline_stop_locked(engine_t *eng, const char *name, char *errstr, size_t errlen) {
    pthread_mutex_lock(&eng->mu);
    pipeline_t *p = find_pipe(eng, name);
    pthread_mutex_unlock(&eng->mu);
    if (!p) return eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "no pipeline %s", name);
    /* The list never frees a pipeline while this thread uses it: drop and submit are the only
     * paths that free, and they wait for stop through the same join. */
    pipe_stop(p);
    engine_waiters_check(eng);
    elog_info("engine", "pipeline %s stopped", name);
    return EDDY_OK;
}

int engine_pipeline_stop(engine_t *eng, const char *name, char *errstr, size_t errlen) {
    pthread_mutex_lock(&eng->ctl);
    int rc = engine_pipeline_stop_locked(eng, name, errstr, errlen);
    pthread_mutex_unlock(&eng->ctl);
    return rc;
}


static int engine_pipeline_start_locked(engine_t *eng, const char *name, char *errstr, size_t errlen) {
    pthread_mutex_lock(&eng->mu);
    pipeline_t *p = find_pipe(eng, name);
    pthread_mutex_unlock(&eng->mu);
    if (!p) return eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "no pipeline %s", name);
    if (p->thread_live && (p->state == PIPE_RUNNING || p->state == PIPE_STARTING)) return EDDY_OK;
    pipe_stop(p); /* joins a thread that finished or failed */
    return pipe_start(p, errstr, errlen);
}

int engine_pipeline_start(engine_t *eng, const char *name, char *errstr, size_t errlen) {
    pthread_mutex_lock(&eng->ctl);
    int rc = engine_pipeline_start_locked(eng, name, errstr, errlen);
    pthread_mutex_unlock(&eng->ctl);
    return rc;
}


static int engine_pipeline_drop_locked(engine_t *eng, const char *name, char *errstr, size_t errlen) {
    pthread_mutex_lock(&eng->mu);
    pipeline_t *p = find_pipe(eng, name);
    if (p) unlink_pipe(eng, p);
    pthread_mutex_unlock(&eng->mu);
    if (!p) return eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "no pipeline %s", name);
    pipe_free(p);
    engine_waiters_check(eng);
    return EDDY_OK;
}

int engine_pipeline_drop(engine_t *eng, const char *name, char *errstr, size_t errlen) {
    pthread_mutex_lock(&eng->ctl);
    int rc = engine_pipeline_drop_locked(eng, name, errstr, errlen);
    pthread_mutex_unlock(&eng->ctl);
    return rc;
}


/* ---- read-your-writes ------------------------------------------------------------------------ */

/* 1: applied; 0: not yet; -1: nothing alive reads it (or the named pipeline is gone). Caller
 * holds eng->mu. */
static int applied_state(engine_t *eng, const char *pipeline, const char *topic, int32_t partition, int64_t offset) {
    bool any = false, all = true;
    for (pipeline_t *p = eng->pipes; p; p = p->next) {
        if (pipeline && strcmp(p->name, pipeline)) continue;
        pthread_mutex_lock(&p->mu);
        bool alive = p->state == PIPE_RUNNING || p->state == PIPE_STARTING;
        pthread_mutex_unlock(&p->mu);
        if (!alive) continue;
        bool reads;
        bool ok = pipe_applied(p, topic, partition, offset, &reads);
        if (!reads) continue;
        any = true;
        all &= ok;
    }
    return !any ? -1 : all ? 1 : 0;
}

int engine_applied_offset(engine_t *eng, const char *pipeline, const char *topic, int32_t partition, int64_t *next) {
    int64_t best = INT64_MAX;
    pthread_mutex_lock(&eng->mu);
    for (pipeline_t *p = eng->pipes; p; p = p->next) {
        if (pipeline && strcmp(p->name, pipeline)) continue;
        pthread_mutex_lock(&p->mu);
        if (p->state == PIPE_RUNNING)
            for (uint32_t i = 0; i < p->nq; i++) {
                pquery_t *pq = &p->qs[i];
                if (!pq->streaming || !pq->applied || strcmp(pq->q->stream->topic, topic)) continue;
                if (partition >= 0 && partition < pq->nparts) best = EDDY_MIN(best, pq->applied[partition]);
            }
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&eng->mu);
    if (best == INT64_MAX) return EDDY_ERR_NOT_FOUND;
    *next = best;
    return EDDY_OK;
}

int engine_wait_applied(engine_t *eng, const char *pipeline, const char *topic, int32_t partition, int64_t offset,
                        int64_t timeout_ms, engine_wait_fn fn, void *arg) {
    pthread_mutex_lock(&eng->mu);
    if (eng->closing) {
        pthread_mutex_unlock(&eng->mu);
        return EDDY_ERR_NOT_FOUND;
    }
    int st = applied_state(eng, pipeline, topic, partition, offset);
    if (st != 0) {
        pthread_mutex_unlock(&eng->mu);
        if (st < 0) return EDDY_ERR_NOT_FOUND;
        fn(arg, EDDY_OK);
        return EDDY_OK;
    }
    /* The names are copied (the caller's may not outlive the call, and a dropped pipeline's
     * name is freed while waits may still name it), into the waiter's own allocation. */
    size_t tlen = strlen(topic) + 1, plen = pipeline ? strlen(pipeline) + 1 : 0;
    waiter_t *w = eddy_malloc(sizeof *w + tlen + plen);
    if (!w) {
        pthread_mutex_unlock(&eng->mu);
        fn(arg, EDDY_ERR_NOMEM);
        return EDDY_OK;
    }
    memcpy(w->names, topic, tlen);
    w->topic = w->names;
    w->pipeline = pipeline ? memcpy(w->names + tlen, pipeline, plen) : NULL;
    w->partition = partition;
    w->offset = offset;
    w->deadline_ms = time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    w->fn = fn;
    w->arg = arg;
    w->next = eng->waiters;
    eng->waiters = w;
    /* Most waits end long before their deadline: the timer thread is woken only when this one
     * is due before the deadline it sleeps until (thousands of waits a second under load). */
    if (w->deadline_ms < eng->timer_next) {
        eng->timer_next = w->deadline_ms;
        pthread_cond_signal(&eng->timer_cv);
    }
    pthread_mutex_unlock(&eng->mu);
    return EDDY_OK;
}

void engine_waiters_check(engine_t *eng) {
    waiter_t *done = NULL;
    pthread_mutex_lock(&eng->mu);
    if (!eng->waiters) {
        pthread_mutex_unlock(&eng->mu);
        return;
    }
    for (waiter_t **pw = &eng->waiters; *pw;) {
        waiter_t *w = *pw;
        int st = applied_state(eng, w->pipeline, w->topic, w->partition, w->offset);
        if (st == 0) {
            pw = &w->next;
            continue;
        }
        *pw = w->next;
        w->partition = st > 0 ? EDDY_OK : EDDY_ERR_CLOSED; /* the status, reused */
        w->next = done;
        done = w;
    }
    pthread_mutex_unlock(&eng->mu);
    while (done) {
        waiter_t *w = done;
        done = w->next;
        w->fn(w->arg, w->partition);
        waiter_free(w);
    }
}

static void *timer_main(void *arg) {
    engine_t *eng = arg;
    pthread_mutex_lock(&eng->mu);
    while (!eng->closing) {
        eng->timer_next = INT64_MIN;
        int64_t now = time_mono_ms(), next = INT64_MAX;
        waiter_t *expired = NULL;
        for (waiter_t **pw = &eng->waiters; *pw;) {
            waiter_t *w = *pw;
            if (w->deadline_ms <= now) {
                *pw = w->next;
                w->next = expired;
                expired = w;
            } else {
                next = EDDY_MIN(next, w->deadline_ms);
                pw = &w->next;
            }
        }
        if (expired) {
            pthread_mutex_unlock(&eng->mu);
            while (expired) {
                waiter_t *w = expired;
                expired = w->next;
                w->fn(w->arg, EDDY_ERR_TIMEOUT);
                waiter_free(w);
            }
            pthread_mutex_lock(&eng->mu);
            continue;
        }
        eng->timer_next = next;
        if (next == INT64_MAX) {
            pthread_cond_wait(&eng->timer_cv, &eng->mu);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t wait = next - now;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
            pthread_cond_timedwait(&eng->timer_cv, &eng->mu, &ts);
        }
    }
    pthread_mutex_unlock(&eng->mu);
    return NULL;
}

