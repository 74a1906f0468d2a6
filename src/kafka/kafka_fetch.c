/* kafka: Fetch (long-poll over the log's watches, stored batches sent as file ranges) and
 * ListOffsets.
 *
 * A Fetch reads each partition from its fetch offset (whole batches, never past the high
 * watermark = the last durable offset, never recompressed: the response's records are the
 * segment file's bytes, sent with sendfile). If fewer than min_bytes are there and max_wait_ms
 * allows, it waits: a watch per partition (fired from the log's sync thread, handed to the
 * connection's loop with net_conn_post) and a timer on the loop; whichever comes first reads
 * again. A connection that closes ends its waiting fetches (on_close). */
#include "kafka/kafka_int.h"

typedef struct {
    log_partition_t *p;
    uint64_t id;
} watch_t;

typedef struct kafka_fetch {
    struct kafka_fetch *next, *prev; /* in kc->waits, loop thread */
    kafka_req_t *r;
    kafka_conn_t *kc;
    net_conn_t *conn;
    int64_t deadline_ms;
    net_timer_t *timer;
    watch_t *watches;
    size_t nwatches;
    atomic_int refs;      /* one for the fetch, one per posted wake-up */
    atomic_bool woken;    /* a watch fired and a wake-up is posted */
    bool done;
} kafka_fetch_t;

/* The file pieces of one attempt, released unless handed to the reply. */
typedef struct {
    void **items;
    size_t n, cap;
} pieces_t;

static void pieces_release(pieces_t *ps) {
    for (size_t i = 0; i < ps->n; i++) {
        log_read_t *rd = ps->items[i];
        log_read_release(rd);
        eddy_free(rd);
    }
    eddy_free(ps->items);
    ps->items = NULL;
    ps->n = ps->cap = 0;
}

static log_read_t *pieces_new(pieces_t *ps) {
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        void **n = eddy_realloc(ps->items, cap * sizeof *n);
        if (!n) return NULL;
        ps->items = n;
        ps->cap = cap;
    }
    log_read_t *rd = eddy_calloc(1, sizeof *rd);
    if (rd) ps->items[ps->n++] = rd;
    return rd;
}

/* Reads every partition into resp (in r's arena). Returns the bytes of records found; *errors
 * says whether a partition has an error (which ends the wait at once, as in Kafka). */
static int64_t fetch_read(kafka_req_t *r, kafka_FetchResponse_t *resp, pieces_t *ps, bool *errors) {
    kafka_FetchRequest_t *req = r->req.body;
    int v = r->req.api_version;
    int64_t total = 0;
    int64_t budget = req->max_bytes > 0 ? req->max_bytes : INT32_MAX;
    /* The broker's own cap (Kafka's broker setting fetch.max.bytes): clients parse a whole
     * response before they ask for more, so answers of a few MiB keep them streaming. */
    if (r->b->opts.fetch_max_bytes > 0) budget = EDDY_MIN(budget, r->b->opts.fetch_max_bytes);
    *errors = false;
    kafka_struct_init(&kafka_schema_FetchResponse, v, resp);
    int32_t ntopics = EDDY_MAX(req->topics.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp->responses, ntopics);
    if (ntopics && !resp->responses.items) {
        resp->responses.count = 0;
        resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
        *errors = true;
        return 0;
    }
    for (int32_t t = 0; t < ntopics; t++) {
        const kafka_FetchTopic_t *ft = &req->topics.items[t];
        kafka_FetchableTopicResponse_t *tr = &resp->responses.items[t];
        kafka_struct_init(&kafka_schema_FetchableTopicResponse, v, tr);
        tr->topic = ft->topic;
        int32_t nparts = EDDY_MAX(ft->partitions.count, 0);
        KAFKA_ARRAY_ALLOC(&r->arena, tr->partitions, nparts);
        if (nparts && !tr->partitions.items) {
            tr->partitions.count = 0;
            continue;
        }
        const char *topic = kafka_req_cstr(r, ft->topic);
        for (int32_t i = 0; i < nparts; i++) {
            const kafka_FetchPartition_t *fp = &ft->partitions.items[i];
            kafka_PartitionData_t *pd = &tr->partitions.items[i];
            kafka_struct_init(&kafka_schema_PartitionData, v, pd);
            pd->partition_index = fp->partition;
            pd->aborted_transactions.count = -1;
            pd->high_watermark = -1;
            log_err_t err = {0};
            log_partition_t *p = NULL;
            int rc = log_partition_open(r->b->log, topic, fp->partition, 0, &p, &err);
            if (rc != EDDY_OK) {
                pd->error_code = kafka_error_from_log(rc, &err);
                *errors = true;
                continue;
            }
            size_t max = (size_t)EDDY_MIN((int64_t)EDDY_MAX(fp->partition_max_bytes, 0), budget);
            log_read_t *rd = NULL;
            if (max > 0 || total == 0) rd = pieces_new(ps);
            if (!rd) { /* no budget left: report positions only */
                log_partition_state_t st;
                if (log_partition_state(p, &st) == EDDY_OK) {
                    pd->high_watermark = pd->last_stable_offset = st.high_watermark;
                    pd->log_start_offset = st.log_start_offset;
                }
                log_partition_release(p);
                continue;
            }
            rc = log_read(p, fp->fetch_offset, max ? max : 1, rd, &err);
            log_partition_release(p);
            if (rc != EDDY_OK) {
                ps->n--; /* nothing to release: the read failed */
                eddy_free(rd);
                pd->error_code = kafka_error_from_log(rc, &err);
                log_partition_state_t st;
                if (log_partition_open(r->b->log, topic, fp->partition, 0, &p, NULL) == EDDY_OK) {
                    if (log_partition_state(p, &st) == EDDY_OK) {
                        pd->high_watermark = pd->last_stable_offset = st.high_watermark;
                        pd->log_start_offset = st.log_start_offset;
                    }
                    log_partition_release(p);
                }
                *errors = true;
                continue;
            }
            pd->high_watermark = rd->high_watermark;
            pd->last_stable_offset = rd->high_watermark; /* no transactions: LSO = HW */
            pd->log_start_offset = rd->log_start_offset;
            if (total > 0 && rd->len > max) {
                /* Only the first partition with data gets a batch larger than what is left
                 * (Kafka's minOneMessage); the others wait for a later Fetch. */
                log_read_release(rd);
                ps->n--;
                eddy_free(rd);
            } else if (rd->len > 0 && rd->len <= INT32_MAX) {
                pd->records = (kafka_records_t){NULL, (int32_t)rd->len, rd};
                total += (int64_t)rd->len;
                budget -= (int64_t)rd->len;
                if (budget < 0) budget = 0;
            }
        }
    }
    return total;
}

/* Answers with what is there now; the reply takes the file pieces that went into it. */
static void fetch_reply(kafka_req_t *r, kafka_FetchResponse_t *resp, pieces_t *ps) {
    /* kafka_req_reply hands every spliced piece to net (released once sent); pieces with no
     * bytes were not spliced and are released here. */
    for (size_t i = 0; i < ps->n; i++) {
        log_read_t *rd = ps->items[i];
        if (rd->len > 0 && rd->len <= INT32_MAX) ps->items[i] = NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < ps->n; i++)
        if (ps->items[i]) ps->items[k++] = ps->items[i];
    ps->n = k;
    pieces_release(ps);
    kafka_req_reply(r, resp);
}

static void fetch_unref(kafka_fetch_t *f) {
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
        eddy_free(f->watches);
        eddy_free(f);
    }
}

static void waits_unlink(kafka_fetch_t *f) {
    if (f->prev) f->prev->next = f->next;
    else if (f->kc && f->kc->waits == f) f->kc->waits = f->next;
    if (f->next) f->next->prev = f->prev;
    f->next = f->prev = NULL;
}

static void watches_cancel(kafka_fetch_t *f) {
    for (size_t i = 0; i < f->nwatches; i++) {
        if (f->watches[i].id) log_watch_cancel(f->watches[i].p, f->watches[i].id);
        log_partition_release(f->watches[i].p);
    }
    f->nwatches = 0;
}

static void fetch_end(kafka_fetch_t *f) {
    watches_cancel(f);
    if (f->timer) net_timer_stop(f->timer);
    f->timer = NULL;
    waits_unlink(f);
    f->done = true;
    atomic_fetch_sub(&f->kc->b->inflight_fetches, 1);
}

static void fetch_attempt(kafka_fetch_t *f);

static void on_wake(net_conn_t *conn, void *arg) {
    (void)conn;
    kafka_fetch_t *f = arg;
    if (!f->done) {
        watches_cancel(f);
        atomic_store(&f->woken, false);
        fetch_attempt(f);
    }
    fetch_unref(f);
}

static void on_watch(void *arg, int status, int64_t hw) {
    (void)status;
    (void)hw;
    kafka_fetch_t *f = arg;
    if (atomic_exchange(&f->woken, true)) return; /* a wake-up is already on its way */
    atomic_fetch_add(&f->refs, 1);
    /* The request's slot holds a reference to the connection, so posting is allowed. */
    if (net_conn_post(f->conn, on_wake, f) != EDDY_OK) {
        atomic_store(&f->woken, false);
        fetch_unref(f);
    }
}

static void on_timer(net_conn_t *conn, void *arg) {
    (void)conn;
    kafka_fetch_t *f = arg;
    f->timer = NULL;
    if (f->done) return;
    watches_cancel(f);
    f->deadline_ms = 0; /* final attempt */
    fetch_attempt(f);
}

/* Reads; answers when there is enough, the time is up or something failed; else (re)arms the
 * watches. Loop thread. */
static void fetch_attempt(kafka_fetch_t *f) {
    kafka_req_t *r = f->r;
    kafka_FetchRequest_t *req = r->req.body;
    for (int tries = 0; tries < 3; tries++) {
        kafka_FetchResponse_t *resp = arena_alloc(&r->arena, sizeof *resp);
        pieces_t ps = {0};
        bool errors = false;
        int64_t total = resp ? fetch_read(r, resp, &ps, &errors) : 0;
        int64_t now = time_mono_ms();
        if (!resp || errors || total >= EDDY_MAX(req->min_bytes, 1) || now >= f->deadline_ms) {
            fetch_end(f);
            metrics_counter_add(r->b->m_fetch_bytes, (uint64_t)total);
            if (resp) fetch_reply(r, resp, &ps);
            else kafka_req_drop(r, true);
            fetch_unref(f);
            return;
        }
        pieces_release(&ps);
        /* Not enough yet: watch every partition from its fetch offset. */
        size_t n = 0;
        for (int32_t t = 0; t < req->topics.count; t++) n += (size_t)EDDY_MAX(req->topics.items[t].partitions.count, 0);
        if (!f->watches) f->watches = eddy_calloc(n ? n : 1, sizeof *f->watches);
        bool ready = false;
        for (int32_t t = 0; f->watches && t < req->topics.count && !ready; t++) {
            const kafka_FetchTopic_t *ft = &req->topics.items[t];
            const char *topic = kafka_req_cstr(r, ft->topic);
            for (int32_t i = 0; i < ft->partitions.count && !ready; i++) {
                log_partition_t *p;
                if (log_partition_open(r->b->log, topic, ft->partitions.items[i].partition, 0, &p, NULL) != EDDY_OK)
                    continue;
                uint64_t id = 0;
                if (log_watch_add(p, ft->partitions.items[i].fetch_offset, on_watch, f, &id) != EDDY_OK || id == 0) {
                    log_partition_release(p);
                    ready = id == 0; /* data arrived meanwhile: read again */
                    continue;
                }
                f->watches[f->nwatches++] = (watch_t){p, id};
            }
        }
        if (ready) {
            watches_cancel(f);
            atomic_store(&f->woken, false);
            continue;
        }
        if (!f->timer) f->timer = net_timer_start(f->conn, (uint64_t)(f->deadline_ms - now), on_timer, f);
        if (!f->watches || !f->timer) f->deadline_ms = 0; /* no memory: answer at once next time */
        if (!f->next && !f->prev && f->kc->waits != f) {
            f->next = f->kc->waits;
            if (f->next) f->next->prev = f;
            f->kc->waits = f;
        }
        if (f->deadline_ms == 0) continue;
        return;
    }
    /* Data keeps arriving between read and watch: answer with what is there. */
    f->deadline_ms = 0;
    fetch_attempt(f);
}

void kafka_handle_Fetch(kafka_req_t *r) {
    kafka_FetchRequest_t *req = r->req.body;
    kafka_fetch_t *f = eddy_calloc(1, sizeof *f);
    if (!f) {
        kafka_req_drop(r, true);
        return;
    }
    f->r = r;
    f->kc = r->kc;
    f->conn = r->conn;
    atomic_init(&f->refs, 1);
    atomic_init(&f->woken, false);
    f->deadline_ms = time_mono_ms() + EDDY_MAX(req->max_wait_ms, 0);
    atomic_fetch_add(&r->b->inflight_fetches, 1);
    fetch_attempt(f);
}

void kafka_fetch_conn_closed(kafka_conn_t *kc) {
    while (kc->waits) {
        kafka_fetch_t *f = kc->waits;
        kafka_req_t *r = f->r;
        f->timer = NULL; /* net stopped the connection's timers before on_close */
        fetch_end(f);
        kafka_req_drop(r, false);
        fetch_unref(f);
    }
}

/* ---- ListOffsets -------------------------------------------------------------------------------- */

void kafka_handle_ListOffsets(kafka_req_t *r) {
    kafka_ListOffsetsRequest_t *req = r->req.body;
    int v = r->req.api_version;
    kafka_ListOffsetsResponse_t resp;
    kafka_struct_init(&kafka_schema_ListOffsetsResponse, v, &resp);
    int32_t ntopics = EDDY_MAX(req->topics.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.topics, ntopics);
    if (ntopics && !resp.topics.items) resp.topics.count = ntopics = 0;
    for (int32_t t = 0; t < ntopics; t++) {
        const kafka_ListOffsetsTopic_t *lt = &req->topics.items[t];
        kafka_ListOffsetsTopicResponse_t *tr = &resp.topics.items[t];
        tr->name = lt->name;
        int32_t nparts = EDDY_MAX(lt->partitions.count, 0);
        KAFKA_ARRAY_ALLOC(&r->arena, tr->partitions, nparts);
        if (nparts && !tr->partitions.items) tr->partitions.count = nparts = 0;
        const char *topic = kafka_req_cstr(r, lt->name);
        for (int32_t i = 0; i < nparts; i++) {
            const kafka_ListOffsetsPartition_t *lp = &lt->partitions.items[i];
            kafka_ListOffsetsPartitionResponse_t *pr = &tr->partitions.items[i];
            kafka_struct_init(&kafka_schema_ListOffsetsPartitionResponse, v, pr);
            pr->partition_index = lp->partition_index;
            log_err_t err = {0};
            log_partition_t *p;
            int rc = log_partition_open(r->b->log, topic, lp->partition_index, 0, &p, &err);
            int64_t offset = -1, ts = -1;
            if (rc == EDDY_OK) {
                rc = log_offset_for_timestamp(p, lp->timestamp, &offset, &ts, &err);
                log_partition_release(p);
            }
            if (rc != EDDY_OK) {
                pr->error_code = kafka_error_from_log(rc, &err);
                continue;
            }
            if (lp->timestamp < 0) ts = -1;
            pr->offset = offset;
            pr->timestamp = ts;
            pr->leader_epoch = offset >= 0 ? 0 : -1;
            if (v == 0 && offset >= 0 && lp->max_num_offsets > 0) {
                KAFKA_ARRAY_ALLOC(&r->arena, pr->old_style_offsets, 1);
                if (pr->old_style_offsets.items) pr->old_style_offsets.items[0] = offset;
                else pr->old_style_offsets.count = 0;
            }
        }
    }
    kafka_req_reply(r, &resp);
}
