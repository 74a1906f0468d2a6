/* One step of a streaming query: read what is durable beyond the committed positions, apply it
 * in one transaction, commit rows + state + positions together. The pipeline thread calls it in
 * a loop; tests call it directly to cut batches where they like. */
#include <stdio.h>

#include "engine/engine_int.h"

int engine_positions_load(engine_sink_t sink, const char *query_id, const char *topic, int32_t partition, int64_t *next) {
    wr_t k, v;
    wr_init(&k, 64);
    wr_init(&v, 16);
    engine_kv_prefix(&k, query_id, KV_POS);
    wr_str(&k, topic);
    wr_u8(&k, 0);
    wr_u32(&k, (uint32_t)partition);
    bool found = false;
    int rc = wr_ok(&k) ? sink.ops->kv_get(sink.ctx, eddy_view(k.buf, k.len), &v, &found) : EDDY_ERR_NOMEM;
    *next = -1;
    if (!rc && found) {
        rd_t r = rd_init(v.buf, v.len);
        int64_t o = rd_varint64(&r);
        if (rd_ok(&r) && !rd_remaining(&r) && o >= 0) *next = o;
        else rc = EDDY_ERR_CORRUPT;
    }
    wr_free(&k);
    wr_free(&v);
    return rc;
}

/* Records are applied PENDING_MAX at a time, after one batched read of their keys' state: a
 * record's bytes stay valid until the source's next read (its headers array is copied). */
#define PENDING_MAX 512

typedef struct {
    engine_txn_t *txn;
    int rc;
    engine_record_t *pending;
    uint32_t npending;
} apply_ctx_t;

static int apply_pending(apply_ctx_t *a) {
    uint32_t n = a->npending;
    a->npending = 0;
    if (!a->rc) a->rc = engine_txn_prefetch(a->txn, a->pending, n);
    for (uint32_t i = 0; i < n && !a->rc; i++) a->rc = engine_txn_record(a->txn, &a->pending[i]);
    return a->rc;
}

static int apply_record(void *arg, const engine_record_t *rec) {
    apply_ctx_t *a = arg;
    engine_record_t *r = &a->pending[a->npending++];
    *r = *rec;
    if (rec->nheaders) {
        eddy_view_t *h = engine_txn_alloc(a->txn, 2 * rec->nheaders * sizeof *h);
        if (!h) return a->rc = EDDY_ERR_NOMEM;
        memcpy(h, rec->headers, 2 * rec->nheaders * sizeof *h);
        r->headers = h;
    }
    return a->npending == PENDING_MAX ? apply_pending(a) : EDDY_OK;
}

int engine_stream_open(engine_stream_run_t *r, engine_query_t *q, engine_source_t src, engine_sink_t sink, char *errstr,
                    size_t errlen) {
    memset(r, 0, sizeof *r);
    r->q = q;
    r->src = src;
    r->sink = sink;
    int rc = src.ops->partitions(src.ctx, q->stream->topic, &r->nparts, errstr, errlen);
    if (rc) return rc;
    if (r->nparts <= 0 || r->nparts > 65536)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "topic %s has %d partitions", q->stream->topic, r->nparts);
    r->next = eddy_calloc((size_t)r->nparts, sizeof *r->next);
    r->committed = eddy_calloc((size_t)r->nparts, sizeof *r->committed);
    r->hwm = eddy_calloc((size_t)r->nparts, sizeof *r->hwm);
    r->txn = engine_txn_new(q, sink);
    if (!r->next || !r->committed || !r->hwm || !r->txn) {
        engine_stream_close(r);
        return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    }
    for (int32_t p = 0; p < r->nparts; p++) {
        if ((rc = engine_positions_load(sink, q->id, q->stream->topic, p, &r->next[p]))) {
            engine_stream_close(r);
            return eddy_err(errstr, errlen, rc, "%s: cannot read the position of partition %d: %s", q->id, (int)p,
                            eddy_strerror(rc));
        }
        int64_t start = 0, hwm = 0;
        src.ops->bounds(src.ctx, q->stream->topic, p, &start, &hwm);
        /* A query that has never run starts at the earliest (or latest) offset; one whose
         * position fell behind retention goes on from the log's start. */
        if (r->next[p] < 0) r->next[p] = q->stream->start == ENGINE_START_LATEST ? hwm : start;
        else if (r->next[p] < start) {
            elog_warn("engine", "%s: partition %d: offsets %lld..%lld were deleted by retention before they were "
                      "applied", q->id, (int)p, (long long)r->next[p], (long long)start - 1);
            r->next[p] = start;
        }
        r->hwm[p] = hwm;
        r->committed[p] = r->next[p];
    }
    return EDDY_OK;
}

void engine_stream_close(engine_stream_run_t *r) {
    engine_txn_free(r->txn);
    eddy_free(r->next);
    eddy_free(r->committed);
    eddy_free(r->hwm);
    memset(r, 0, sizeof *r);
}

int engine_stream_prepare(engine_stream_run_t *r, uint32_t max_records, int64_t now_ms, uint32_t *nread,
                       engine_prepared_t **out, char *errstr, size_t errlen) {
    engine_query_t *q = r->q;
    *nread = 0;
    *out = NULL;
    engine_txn_reset(r->txn, now_ms);
    int64_t *reached = eddy_malloc((size_t)r->nparts * sizeof *reached);
    if (!reached) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    engine_record_t *pending = eddy_malloc(PENDING_MAX * sizeof *pending);
    if (!pending) {
        eddy_free(reached);
        return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    }
    int rc = EDDY_OK;
    uint32_t budget = max_records;
    for (int32_t p = 0; p < r->nparts; p++) reached[p] = r->next[p];
    /* Everything durable up to the budget: a read returns a few MB at most, so a partition is
     * read again while it has more (under load a batch takes all that is there). */
    for (bool more = true; more && budget && !rc;) {
        more = false;
        for (int32_t p = 0; p < r->nparts && budget && !rc; p++) {
            int64_t start, hwm;
            if (r->src.ops->bounds(r->src.ctx, q->stream->topic, p, &start, &hwm) != EDDY_OK) continue;
            r->hwm[p] = hwm;
            if (reached[p] >= hwm) continue;
            apply_ctx_t a = {r->txn, EDDY_OK, pending, 0};
            int64_t next = reached[p];
            rc = r->src.ops->read(r->src.ctx, q->stream->topic, p, reached[p], budget, apply_record, &a, &next, errstr,
                                  errlen);
            if (!rc && a.npending) apply_pending(&a); /* before the next read reuses the source's buffer */
            if (a.rc) rc = eddy_err(errstr, errlen, a.rc, "%s: applying partition %d: %s", q->id, (int)p, eddy_strerror(a.rc));
            if (rc || next <= reached[p]) continue;
            uint64_t n = (uint64_t)(next - reached[p]);
            *nread += (uint32_t)EDDY_MIN(n, budget);
            budget = n >= budget ? 0 : budget - (uint32_t)n;
            reached[p] = next;
            more = true;
        }
    }
    for (int32_t p = 0; p < r->nparts && !rc && *nread; p++)
        if (reached[p] != r->next[p]) rc = engine_txn_position(r->txn, q->stream->topic, p, reached[p]);
    engine_prepared_t *prep = NULL;
    if (!rc && *nread) rc = engine_txn_prepare(r->txn, &prep, errstr, errlen);
    if (!rc && prep) {
        /* The positions travel with the batch (its arena lives as long as the commit). */
        prep->reached = engine_txn_alloc(r->txn, (size_t)r->nparts * sizeof *reached);
        if (!prep->reached) {
            engine_txn_done(r->txn, NULL);
            rc = eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
        } else {
            memcpy(prep->reached, reached, (size_t)r->nparts * sizeof *reached);
            memcpy(r->next, reached, (size_t)r->nparts * sizeof *reached);
            *out = prep;
        }
    }
    eddy_free(reached);
    eddy_free(pending);
    return rc;
}

void engine_stream_applied(engine_stream_run_t *r, const engine_prepared_t *p) {
    memcpy(r->committed, p->reached, (size_t)r->nparts * sizeof *r->committed);
    engine_txn_done(r->txn, p);
}

void engine_stream_rewind(engine_stream_run_t *r) {
    memcpy(r->next, r->committed, (size_t)r->nparts * sizeof *r->next);
    engine_txn_done(r->txn, NULL);
}

int engine_stream_step(engine_stream_run_t *r, uint32_t max_records, int64_t now_ms, uint32_t *nread, char *errstr,
                    size_t errlen) {
    engine_prepared_t *p;
    int rc = engine_stream_prepare(r, max_records, now_ms, nread, &p, errstr, errlen);
    if (!rc && p) rc = engine_prepared_commit(r->sink, p, errstr, errlen);
    if (rc) {
        engine_stream_rewind(r);
        return rc;
    }
    if (p) engine_stream_applied(r, p);
    return EDDY_OK;
}
