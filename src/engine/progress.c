/* Progress: each query's figures in the shape of Spark's StreamingQueryProgress (field names
 * and order as progress.scala writes them; metrics values as strings), batch jobs' share of the
 * ring done, the pipelines' list, progress lines in the log, and /metrics in Prometheus text. */
#include <stdio.h>

#include "engine/engine_rt.h"

static const char *state_name(int s) {
    switch (s) {
    case PIPE_STARTING: return "starting";
    case PIPE_RUNNING: return "running";
    case PIPE_STOPPED: return "stopped";
    case PIPE_FAILED: return "failed";
    case PIPE_FINISHED: return "finished";
    }
    return "?";
}

static void key(wr_t *w, const char *k) {
    json_write_string(w, k, strlen(k));
    wr_u8(w, ':');
}

static void kv_str(wr_t *w, const char *k, const char *v, bool comma) {
    key(w, k);
    json_write_string(w, v, strlen(v));
    if (comma) wr_u8(w, ',');
}

static void kv_i64(wr_t *w, const char *k, int64_t v, bool comma) {
    key(w, k);
    json_write_i64(w, v);
    if (comma) wr_u8(w, ',');
}

/* Rates are rounded to one decimal, as Spark prints them. */
static void kv_rate(wr_t *w, const char *k, double v, bool comma) {
    key(w, k);
    json_write_f64(w, (double)(int64_t)(v * 10 + 0.5) / 10);
    if (comma) wr_u8(w, ',');
}

static void offsets(wr_t *w, const char *topic, const int64_t *pos, int32_t n) {
    wr_u8(w, '{');
    json_write_string(w, topic, strlen(topic));
    wr_str(w, ":{");
    for (int32_t i = 0; i < n; i++) {
        if (i) wr_u8(w, ',');
        wr_fmt(w, "\"%d\":", (int)i);
        json_write_i64(w, pos ? pos[i] : 0);
    }
    wr_str(w, "}}");
}

/* Caller holds p->mu. */
static void stream_progress(pipeline_t *p, pquery_t *pq, wr_t *w, int64_t now_ms) {
    const engine_query_t *q = pq->q;
    const qstats_t *s = &pq->st, *o = &pq->prev;
    double secs = (double)(now_ms - pq->prev_ms) / 1e3;
    uint64_t rows = s->input_rows - o->input_rows, batches = s->batches - o->batches;
    double busy = (double)(s->busy_ns - o->busy_ns) / 1e9;
    char ts[40];
    time_format_iso8601(now_ms, ts, sizeof ts);
    wr_u8(w, '{');
    kv_str(w, "id", q->id, true);
    kv_str(w, "runId", p->run_id, true);
    kv_str(w, "name", q->id, true);
    kv_str(w, "timestamp", ts, true);
    kv_i64(w, "batchId", (int64_t)s->batches, true);
    kv_i64(w, "batchDuration", batches ? (int64_t)((s->busy_ns - o->busy_ns) / batches / 1000000) : 0, true);
    kv_i64(w, "numInputRows", (int64_t)rows, true);
    kv_rate(w, "inputRowsPerSecond", secs > 0 ? (double)rows / secs : 0, true);
    kv_rate(w, "processedRowsPerSecond", busy > 0 ? (double)rows / busy : 0, true);
    key(w, "durationMs");
    wr_u8(w, '{');
    kv_i64(w, "addBatch", batches ? (int64_t)((s->busy_ns - o->busy_ns) / batches / 1000000) : 0, true);
    kv_i64(w, "triggerExecution", (int64_t)(s->last_batch_ns / 1000000), false);
    wr_str(w, "},");
    key(w, "stateOperators");
    wr_u8(w, '[');
    if (q->retracting || q->grouped || q->need_refcount) {
        wr_u8(w, '{');
        kv_str(w, "operatorName", q->grouped ? "aggregate" : q->retracting ? "changelog" : "sinkRefcount", true);
        kv_i64(w, "numRowsTotal", s->state_total, true);
        kv_i64(w, "numRowsUpdated", (int64_t)(s->state_updated - o->state_updated), true);
        kv_i64(w, "numRowsRemoved", (int64_t)(s->state_removed - o->state_removed), true);
        key(w, "customMetrics");
        wr_fmt(w, "{\"numRetractions\":%llu}", (unsigned long long)(s->retractions - o->retractions));
        wr_u8(w, '}');
    }
    wr_str(w, "],");
    key(w, "sources");
    wr_str(w, "[{");
    char desc[300];
    snprintf(desc, sizeof desc, "EddyLog[%s%s]", q->stream->topic, q->stream->changelog ? ", changelog" : "");
    kv_str(w, "description", desc, true);
    key(w, "startOffset");
    offsets(w, q->stream->topic, pq->start_pos, pq->nparts);
    wr_u8(w, ',');
    key(w, "endOffset");
    offsets(w, q->stream->topic, pq->applied, pq->nparts);
    wr_u8(w, ',');
    key(w, "latestOffset");
    offsets(w, q->stream->topic, pq->hwm, pq->nparts);
    wr_u8(w, ',');
    kv_i64(w, "numInputRows", (int64_t)rows, true);
    kv_rate(w, "inputRowsPerSecond", secs > 0 ? (double)rows / secs : 0, true);
    kv_rate(w, "processedRowsPerSecond", busy > 0 ? (double)rows / busy : 0, true);
    int64_t lmin = INT64_MAX, lmax = 0, lsum = 0;
    for (int32_t i = 0; i < pq->nparts; i++) {
        int64_t lag = pq->hwm[i] - pq->applied[i];
        if (lag < 0) lag = 0;
        lmin = EDDY_MIN(lmin, lag);
        lmax = EDDY_MAX(lmax, lag);
        lsum += lag;
    }
    if (!pq->nparts) lmin = 0;
    wr_fmt(w, "\"metrics\":{\"avgOffsetsBehindLatest\":\"%.1f\",\"maxOffsetsBehindLatest\":\"%lld\","
              "\"minOffsetsBehindLatest\":\"%lld\"}}],",
           pq->nparts ? (double)lsum / pq->nparts : 0.0, (long long)lmax, (long long)lmin);
    key(w, "sink");
    wr_u8(w, '{');
    snprintf(desc, sizeof desc, "EddyStore[%s.%s]", q->sink->keyspace, q->sink->name);
    kv_str(w, "description", desc, true);
    kv_i64(w, "numOutputRows", (int64_t)(s->output_rows - o->output_rows), true);
    wr_fmt(w, "\"metrics\":{\"numBadRecords\":\"%llu\",\"numRowsDeleted\":\"%llu\",\"numRowsSkipped\":\"%llu\"}}}",
           (unsigned long long)(s->bad_records - o->bad_records), (unsigned long long)(s->rows_deleted - o->rows_deleted),
           (unsigned long long)(s->rows_skipped - o->rows_skipped));
}

static void batch_progress(pipeline_t *p, pquery_t *pq, wr_t *w, int64_t now_ms) {
    (void)p;
    const engine_query_t *q = pq->q;
    uint64_t rows = pq->job_ready ? atomic_load(&pq->job.rows) : 0;
    uint32_t done = pq->job_ready ? atomic_load(&pq->job.ranges_done) : 0, total = pq->job_ready ? pq->job.nranges : 0;
    int64_t end = pq->job_finished_ms ? pq->job_finished_ms : now_ms;
    double secs = pq->job_started_ms ? (double)(end - pq->job_started_ms) / 1e3 : 0;
    char src[300];
    wr_u8(w, '{');
    kv_str(w, "id", q->id, true);
    kv_str(w, "kind", "batch", true);
    snprintf(src, sizeof src, "%s.%s", q->scan->keyspace, q->scan->name);
    kv_str(w, "source", src, true);
    snprintf(src, sizeof src, "%s.%s", q->sink->keyspace, q->sink->name);
    kv_str(w, "sink", src, true);
    kv_i64(w, "numInputRows", (int64_t)rows, true);
    kv_rate(w, "inputRowsPerSecond", secs > 0 ? (double)rows / secs : 0, true);
    kv_i64(w, "rangesDone", done, true);
    kv_i64(w, "rangesTotal", total, true);
    kv_rate(w, "fractionDone", total ? (double)done / total : 0, true);
    kv_i64(w, "numOutputRows", pq->job_ready ? (int64_t)atomic_load(&pq->job.output_rows) : 0, true);
    kv_i64(w, "numRowsSkipped", pq->job_ready ? (int64_t)atomic_load(&pq->job.rows_skipped) : 0, true);
    kv_i64(w, "durationMs", (int64_t)(secs * 1000), true);
    key(w, "finished");
    wr_str(w, pq->job_finished_ms ? "true" : "false");
    wr_u8(w, '}');
}

void pipe_progress_update(pipeline_t *p, pquery_t *pq, int64_t now_ms, bool log_it) {
    pthread_mutex_lock(&p->mu);
    wr_t w = {(uint8_t *)pq->progress, 0, sizeof pq->progress, sizeof pq->progress, EDDY_OK};
    stream_progress(p, pq, &w, now_ms);
    if (wr_ok(&w) && w.len < sizeof pq->progress) pq->progress[w.len] = 0;
    else pq->progress[0] = 0;
    uint64_t rows = pq->st.input_rows - pq->prev.input_rows;
    double secs = (double)(now_ms - pq->prev_ms) / 1e3;
    int64_t lag = 0;
    for (int32_t i = 0; i < pq->nparts; i++) lag += EDDY_MAX(pq->hwm[i] - pq->applied[i], 0);
    if (log_it && (rows || lag))
        elog_info("engine", "%s: %llu rows in %.1f s (%.1f rows/s), %llu rows written, lag %lld, state %lld rows, "
                  "batch %.2f ms", pq->q->id, (unsigned long long)rows, secs, secs > 0 ? (double)rows / secs : 0.0,
                  (unsigned long long)(pq->st.output_rows - pq->prev.output_rows), (long long)lag,
                  (long long)pq->st.state_total, (double)pq->st.last_batch_ns / 1e6);
    pq->prev = pq->st;
    pq->prev_ms = now_ms;
    pthread_mutex_unlock(&p->mu);
}

/* Caller holds p->mu. */
static void query_json(pipeline_t *p, pquery_t *pq, wr_t *w, bool detail) {
    int64_t now = time_now_ms();
    if (!pq->streaming) {
        batch_progress(p, pq, w, now);
        return;
    }
    if (!detail) {
        wr_u8(w, '{');
        kv_str(w, "id", pq->q->id, true);
        kv_str(w, "kind", "streaming", true);
        kv_str(w, "source", pq->q->stream->topic, true);
        char sink[300];
        snprintf(sink, sizeof sink, "%s.%s", pq->q->sink->keyspace, pq->q->sink->name);
        kv_str(w, "sink", sink, true);
        kv_i64(w, "numInputRows", (int64_t)pq->st.input_rows, true);
        kv_i64(w, "numOutputRows", (int64_t)pq->st.output_rows, true);
        kv_i64(w, "numRowsSkipped", (int64_t)pq->st.rows_skipped, true);
        kv_i64(w, "numBadRecords", (int64_t)pq->st.bad_records, false);
        wr_u8(w, '}');
        return;
    }
    /* The live window since the last report (reports happen every progress interval). */
    stream_progress(p, pq, w, now);
}

void pipe_json(pipeline_t *p, wr_t *w, bool detail) {
    pthread_mutex_lock(&p->mu);
    wr_u8(w, '{');
    kv_str(w, "name", p->name, true);
    kv_str(w, "state", state_name(p->state), true);
    kv_str(w, "runId", p->run_id, true);
    char ts[40];
    time_format_iso8601(p->started_ms, ts, sizeof ts);
    kv_str(w, "startedAt", ts, true);
    if (p->error[0]) kv_str(w, "error", p->error, true);
    if (detail) {
        key(w, "text");
        json_write_string(w, p->text, p->text_len);
        wr_u8(w, ',');
    }
    key(w, "queries");
    wr_u8(w, '[');
    for (uint32_t i = 0; i < p->nq; i++) {
        if (i) wr_u8(w, ',');
        query_json(p, &p->qs[i], w, detail);
    }
    wr_str(w, "]}");
    pthread_mutex_unlock(&p->mu);
}

void engine_pipelines_json(engine_t *eng, wr_t *w) {
    pthread_mutex_lock(&eng->mu);
    wr_u8(w, '[');
    for (pipeline_t *p = eng->pipes; p; p = p->next) {
        pipe_json(p, w, false);
        if (p->next) wr_u8(w, ',');
    }
    wr_u8(w, ']');
    pthread_mutex_unlock(&eng->mu);
}

int engine_pipeline_json(engine_t *eng, const char *name, wr_t *w) {
    pthread_mutex_lock(&eng->mu);
    pipeline_t *p;
    for (p = eng->pipes; p && strcmp(p->name, name); p = p->next) {}
    if (p) pipe_json(p, w, true);
    pthread_mutex_unlock(&eng->mu);
    return p ? EDDY_OK : EDDY_ERR_NOT_FOUND;
}

/* ---- Prometheus ------------------------------------------------------------------------------ */

typedef struct {
    const char *name, *type, *help;
    size_t off; /* offset into qstats_t of a uint64_t counter, or (size_t)-1 */
} family_t;

static const family_t families[] = {
    {"eddy_pipeline_input_rows_total", "counter", "Records read by a streaming query.", offsetof(qstats_t, input_rows)},
    {"eddy_pipeline_output_rows_total", "counter", "Rows written (upserts and deletes) by a query.", offsetof(qstats_t, output_rows)},
    {"eddy_pipeline_rows_deleted_total", "counter", "Sink rows deleted by retractions.", offsetof(qstats_t, rows_deleted)},
    {"eddy_pipeline_retractions_total", "counter", "Rows retracted upstream of the sink.", offsetof(qstats_t, retractions)},
    {"eddy_pipeline_bad_records_total", "counter", "Records skipped because their value could not be read.", offsetof(qstats_t, bad_records)},
    {"eddy_pipeline_rows_skipped_total", "counter", "Rows the sink could not write (skipped and logged).", offsetof(qstats_t, rows_skipped)},
    {"eddy_pipeline_batches_total", "counter", "Batches committed.", offsetof(qstats_t, batches)},
    {"eddy_pipeline_busy_seconds_total", "counter", "Time spent applying batches.", offsetof(qstats_t, busy_ns)},
};

static void labels(wr_t *w, const pipeline_t *p, const pquery_t *pq) {
    wr_str(w, "{pipeline=");
    json_write_string(w, p->name, strlen(p->name));
    wr_str(w, ",query=");
    json_write_string(w, pq->q->id, strlen(pq->q->id));
}

void engine_metrics_write(engine_t *eng, wr_t *w) {
    pthread_mutex_lock(&eng->mu);
    for (size_t f = 0; f < EDDY_ARRAY_LEN(families); f++) {
        wr_fmt(w, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help, families[f].name, families[f].type);
        for (pipeline_t *p = eng->pipes; p; p = p->next) {
            pthread_mutex_lock(&p->mu);
            for (uint32_t i = 0; i < p->nq; i++) {
                pquery_t *pq = &p->qs[i];
                uint64_t v = *(const uint64_t *)((const char *)&pq->st + families[f].off);
                if (!pq->streaming) {
                    if (families[f].off == offsetof(qstats_t, output_rows) && pq->job_ready) v = atomic_load(&pq->job.output_rows);
                    else if (families[f].off == offsetof(qstats_t, rows_skipped) && pq->job_ready) v = atomic_load(&pq->job.rows_skipped);
                    else if (families[f].off == offsetof(qstats_t, input_rows) && pq->job_ready) v = atomic_load(&pq->job.rows);
                }
                wr_str(w, families[f].name);
                labels(w, p, pq);
                if (families[f].off == offsetof(qstats_t, busy_ns)) wr_fmt(w, "} %.6f\n", (double)v / 1e9);
                else wr_fmt(w, "} %llu\n", (unsigned long long)v);
            }
            pthread_mutex_unlock(&p->mu);
        }
    }
    wr_str(w, "# HELP eddy_pipeline_state_rows Rows of state held by a query (keys, groups, reference counts).\n"
              "# TYPE eddy_pipeline_state_rows gauge\n");
    for (pipeline_t *p = eng->pipes; p; p = p->next) {
        pthread_mutex_lock(&p->mu);
        for (uint32_t i = 0; i < p->nq; i++)
            if (p->qs[i].streaming) {
                wr_str(w, "eddy_pipeline_state_rows");
                labels(w, p, &p->qs[i]);
                wr_fmt(w, "} %lld\n", (long long)p->qs[i].st.state_total);
            }
        pthread_mutex_unlock(&p->mu);
    }
    wr_str(w, "# HELP eddy_pipeline_lag_records Records durable in a partition and not yet applied.\n"
              "# TYPE eddy_pipeline_lag_records gauge\n");
    for (pipeline_t *p = eng->pipes; p; p = p->next) {
        pthread_mutex_lock(&p->mu);
        for (uint32_t i = 0; i < p->nq; i++) {
            pquery_t *pq = &p->qs[i];
            if (!pq->streaming || !pq->applied) continue;
            for (int32_t part = 0; part < pq->nparts; part++) {
                wr_str(w, "eddy_pipeline_lag_records");
                labels(w, p, pq);
                wr_str(w, ",topic=");
                json_write_string(w, pq->q->stream->topic, strlen(pq->q->stream->topic));
                wr_fmt(w, ",partition=\"%d\"} %lld\n", (int)part, (long long)EDDY_MAX(pq->hwm[part] - pq->applied[part], 0));
            }
        }
        pthread_mutex_unlock(&p->mu);
    }
    wr_str(w, "# HELP eddy_pipeline_batch_fraction_done Share of the token ring a batch job has done.\n"
              "# TYPE eddy_pipeline_batch_fraction_done gauge\n");
    for (pipeline_t *p = eng->pipes; p; p = p->next) {
        pthread_mutex_lock(&p->mu);
        for (uint32_t i = 0; i < p->nq; i++) {
            pquery_t *pq = &p->qs[i];
            if (pq->streaming || !pq->job_ready) continue;
            wr_str(w, "eddy_pipeline_batch_fraction_done");
            labels(w, p, pq);
            wr_fmt(w, "} %.4f\n", (double)atomic_load(&pq->job.ranges_done) / pq->job.nranges);
        }
        pthread_mutex_unlock(&p->mu);
    }
    wr_str(w, "# HELP eddy_pipeline_up Whether a pipeline is running (1) or not (0).\n# TYPE eddy_pipeline_up gauge\n");
    for (pipeline_t *p = eng->pipes; p; p = p->next) {
        wr_str(w, "eddy_pipeline_up{pipeline=");
        json_write_string(w, p->name, strlen(p->name));
        wr_fmt(w, "} %d\n", p->state == PIPE_RUNNING);
    }
    pthread_mutex_unlock(&eng->mu);
}
