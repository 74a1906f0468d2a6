/* The client's request API: statements (QUERY or EXECUTE) and batches turned into envelopes with
 * the session's defaults and a client timestamp, routed by the token of their partition key;
 * the prepared-statement cache (per session, keyed by keyspace and text) with re-preparation when
 * a node answers Unprepared; and the synchronous wrappers. */
#include <stdio.h>

#include "cql/cql_client_int.h"

/* Client timestamps: µs, strictly increasing within the session (as the drivers do). */
static int64_t next_timestamp(cql_client_t *c) {
    int64_t now = time_now_us();
    int64_t last = atomic_load(&c->last_ts);
    for (;;) {
        int64_t ts = now > last ? now : last + 1;
        if (atomic_compare_exchange_weak(&c->last_ts, &last, ts)) return ts;
    }
}

/* ---- prepared statements -------------------------------------------------------------------- */

static uint64_t prepared_hash(const char *ks, const char *query) {
    uint64_t h = hash64(query, strlen(query));
    return h ^ (hash64(ks, strlen(ks)) * 0x9E3779B97F4A7C15ull);
}

static cql_prepared_t *cache_find(cql_client_t *c, const char *ks, const char *query, uint64_t h) {
    for (cql_prepared_t *p = c->prepared[h % CQL_PREPARED_BUCKETS]; p; p = p->next)
        if (p->hash == h && !strcmp(p->query, query) && !strcmp(p->keyspace, ks)) return p;
    return NULL;
}

static size_t bind_count_of(const cql_prepared_t *p);

static void prepared_free(cql_prepared_t *p) {
    if (p->res && p->bind_names)
        for (size_t i = 0; i < bind_count_of(p); i++) eddy_free(p->bind_names[i]);
    cql_result_free(p->res);
    eddy_free(p->bind_names);
    eddy_free(p->query);
    eddy_free(p->keyspace);
    eddy_free(p);
}

void cql_client_prepared_free_all(cql_client_t *c) {
    for (size_t i = 0; i < CQL_PREPARED_BUCKETS; i++) {
        while (c->prepared[i]) {
            cql_prepared_t *p = c->prepared[i];
            c->prepared[i] = p->next;
            prepared_free(p);
        }
    }
}


static const cql_prepared_meta_t *bind_meta(const cql_prepared_t *p) {
    return &cql_result_msg(p->res)->u.result.bind;
}

static size_t bind_count_of(const cql_prepared_t *p) { return (size_t)bind_meta(p)->columns_count; }
size_t cql_prepared_bind_count(const cql_prepared_t *p) { return bind_count_of(p); }
const char *cql_prepared_bind_name(const cql_prepared_t *p, size_t i) {
    return i < cql_prepared_bind_count(p) ? p->bind_names[i] : "";
}
const cql_type_t *cql_prepared_bind_type(const cql_prepared_t *p, size_t i) {
    return i < cql_prepared_bind_count(p) ? bind_meta(p)->columns[i].type : NULL;
}
size_t cql_prepared_pk_count(const cql_prepared_t *p) { return (size_t)bind_meta(p)->pk_count; }
int cql_prepared_pk_index(const cql_prepared_t *p, size_t i) {
    return i < cql_prepared_pk_count(p) ? bind_meta(p)->pk_indexes[i] : -1;
}
const char *cql_prepared_query(const cql_prepared_t *p) { return p->query; }

/* A prepared statement from a Prepared result (which it takes). NULL when out of memory. */
static cql_prepared_t *prepared_new(const char *ks, const char *query, cql_result_t *res) {
    const cql_result_msg_t *r = &cql_result_msg(res)->u.result;
    cql_prepared_t *p = eddy_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->res = res;
    p->keyspace = eddy_strdup(ks);
    p->query = eddy_strdup(query);
    size_t n = (size_t)r->bind.columns_count;
    p->bind_names = eddy_calloc(n ? n : 1, sizeof *p->bind_names);
    if (!p->keyspace || !p->query || !p->bind_names || r->prepared_id.len > sizeof p->id ||
        r->result_metadata_id.len > sizeof p->result_id) {
        p->res = NULL;
        prepared_free(p);
        return NULL;
    }
    memcpy(p->id, r->prepared_id.ptr, r->prepared_id.len);
    p->id_len = (uint16_t)r->prepared_id.len;
    memcpy(p->result_id, r->result_metadata_id.ptr, r->result_metadata_id.len);
    p->result_id_len = (uint16_t)r->result_metadata_id.len;
    /* The names are views into the result: C strings of them (freed by prepared_free). */
    for (size_t i = 0; i < n; i++) {
        eddy_view_t v = r->bind.columns[i].name;
        char *s = eddy_malloc(v.len + 1);
        if (!s) continue;
        memcpy(s, v.ptr, v.len);
        s[v.len] = 0;
        p->bind_names[i] = s;
    }
    return p;
}

typedef struct {
    cql_prepare_fn done;
    void *arg;
    char *keyspace;
    char *query;
    cql_req_t *waiting;        /* a re-prepare: the request to send again */
} prepare_ctx_t;

static void prepare_ctx_free(prepare_ctx_t *ctx) {
    eddy_free(ctx->keyspace);
    eddy_free(ctx->query);
    eddy_free(ctx);
}

/* Inserts p unless the same statement got there first; returns the one in the cache. */
static cql_prepared_t *cache_insert(cql_client_t *c, cql_prepared_t *p) {
    p->hash = prepared_hash(p->keyspace, p->query);
    pthread_mutex_lock(&c->lock);
    cql_prepared_t *have = cache_find(c, p->keyspace, p->query, p->hash);
    if (have) {
        /* A re-prepare may bring a new id: keep the newest. */
        if (have->id_len == p->id_len) memcpy(have->id, p->id, p->id_len);
        pthread_mutex_unlock(&c->lock);
        prepared_free(p);
        return have;
    }
    size_t b = p->hash % CQL_PREPARED_BUCKETS;
    p->next = c->prepared[b];
    c->prepared[b] = p;
    pthread_mutex_unlock(&c->lock);
    return p;
}

static void on_prepared(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_client_t *c = req->client;
    prepare_ctx_t *ctx = req->internal_arg;
    cql_prepared_t *p = NULL;
    cql_error_t e2;
    if (status == EDDY_OK) {
        if (cql_result_kind(res) != CQL_KIND_PREPARED) {
            cql_result_free(res);
            cql_error_set(&e2, -1, "PREPARE was not answered with a Prepared result");
            status = EDDY_ERR_CORRUPT;
            err = &e2;
        } else {
            p = prepared_new(ctx->keyspace, ctx->query, res);
            if (!p) {
                cql_result_free(res);
                cql_error_set(&e2, -1, "out of memory");
                status = EDDY_ERR_NOMEM;
                err = &e2;
            } else {
                p = cache_insert(c, p);
            }
        }
    }
    if (ctx->waiting) {
        cql_req_t *again = ctx->waiting;
        if (status == EDDY_OK) {
            /* The frame of an EXECUTE starts with the [short bytes] id. */
            if (again->opcode == CQL_OP_EXECUTE && load_u16(again->frame.buf + CQL_HEADER_SIZE) == p->id_len)
                memcpy(again->frame.buf + CQL_HEADER_SIZE + 2, p->id, p->id_len);
            again->answered_by = NULL;
            cql_client_dispatch(c, again);
        } else {
            cql_req_finish(again, status, NULL, err);
        }
    } else if (ctx->done) {
        ctx->done(ctx->arg, status, p, status == EDDY_OK ? NULL : err);
    }
    prepare_ctx_free(ctx);
}

static cql_req_t *prepare_req(cql_client_t *c, const char *ks, const char *query, prepare_ctx_t **out) {
    prepare_ctx_t *ctx = eddy_calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->keyspace = eddy_strdup(ks);
    ctx->query = eddy_strdup(query);
    cql_msg_t m = {0};
    m.opcode = CQL_OP_PREPARE;
    m.version = c->version;
    m.u.prepare.query = eddy_view_str(query);
    cql_req_t *req = ctx->keyspace && ctx->query ? cql_req_internal(c, &m, on_prepared, ctx) : NULL;
    if (!req) {
        prepare_ctx_free(ctx);
        return NULL;
    }
    *out = ctx;
    return req;
}

int cql_client_prepare_async(cql_client_t *c, const char *query, cql_prepare_fn done, void *arg) {
    if (!query) return EDDY_ERR_INVALID;
    if (atomic_load(&c->closing)) return EDDY_ERR_CLOSED;
    char ks[CQL_KEYSPACE_MAX];
    cql_client_keyspace_copy(c, ks, sizeof ks);
    uint64_t h = prepared_hash(ks, query);
    pthread_mutex_lock(&c->lock);
    cql_prepared_t *p = cache_find(c, ks, query, h);
    pthread_mutex_unlock(&c->lock);
    if (p) {
        done(arg, EDDY_OK, p, NULL);
        return EDDY_OK;
    }
    prepare_ctx_t *ctx;
    cql_req_t *req = prepare_req(c, ks, query, &ctx);
    if (!req) return EDDY_ERR_NOMEM;
    ctx->done = done;
    ctx->arg = arg;
    req->idempotent = true;
    req->attempts_left = c->opts.retries;
    cql_client_submit(c, req);
    return EDDY_OK;
}

bool cql_client_reprepare(cql_client_t *c, cql_req_t *req, const cql_error_t *err) {
    if (req->reprepared || req->internal) return false;
    cql_prepared_t *found = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t b = 0; b < CQL_PREPARED_BUCKETS && !found; b++)
        for (cql_prepared_t *p = c->prepared[b]; p; p = p->next)
            if (p->id_len == err->unprepared_id_len && !memcmp(p->id, err->unprepared_id, p->id_len)) {
                found = p;
                break;
            }
    pthread_mutex_unlock(&c->lock);
    if (!found) return false;
    prepare_ctx_t *ctx;
    cql_req_t *prep = prepare_req(c, found->keyspace, found->query, &ctx);
    if (!prep) return false;
    req->reprepared = true;
    ctx->waiting = req;
    /* Prepare where it was missing; the request then goes out again with the same timestamp. */
    if (req->answered_by && req->answered_by->state == CQL_CONN_READY) prep->pin = req->answered_by;
    prep->deadline_ms = req->deadline_ms;
    cql_client_dispatch(c, prep);
    return true;
}

/* ---- statements ----------------------------------------------------------------------------- */

/* Cassandra's routing key: the partition key's bytes, composite keys as [u16 len][bytes][0]. */
static bool routing_token(const cql_prepared_t *p, const cql_value_t *values, size_t n, int64_t *token) {
    size_t pk = cql_prepared_pk_count(p);
    if (pk == 0) return false;
    if (pk == 1) {
        int i = cql_prepared_pk_index(p, 0);
        if (i < 0 || (size_t)i >= n || values[i].len < 0) return false;
        *token = murmur3_token(values[i].ptr, (size_t)values[i].len);
        return true;
    }
    uint8_t stack[512];
    wr_t w;
    wr_init(&w, 0);
    for (size_t k = 0; k < pk; k++) {
        int i = cql_prepared_pk_index(p, k);
        if (i < 0 || (size_t)i >= n || values[i].len < 0 || values[i].len > 65535) {
            wr_free(&w);
            return false;
        }
        wr_u16(&w, (uint16_t)values[i].len);
        wr_bytes(&w, values[i].ptr, (size_t)values[i].len);
        wr_u8(&w, 0);
    }
    bool ok = wr_ok(&w);
    if (ok) *token = murmur3_token(w.buf, w.len);
    (void)stack;
    wr_free(&w);
    return ok;
}

static void fill_params(cql_client_t *c, const cql_stmt_t *st, cql_query_params_t *p) {
    memset(p, 0, sizeof *p);
    p->consistency = st->consistency == CQL_CONSISTENCY_DEFAULT || (st->consistency == 0 && !st->query && !st->prepared)
                         ? c->opts.consistency : st->consistency;
    if (st->nvalues) {
        p->flags |= CQL_QF_VALUES;
        p->values_count = (uint16_t)st->nvalues;
        p->values = (cql_value_t *)st->values;
    }
    int32_t page = st->page_size == 0 ? c->opts.page_size : st->page_size;
    if (page > 0) {
        p->flags |= CQL_QF_PAGE_SIZE;
        p->page_size = page;
    }
    if (st->paging_state) {
        p->flags |= CQL_QF_PAGING_STATE;
        p->paging_state = cql_value(st->paging_state, st->paging_state_len);
    }
    if (st->serial_consistency) {
        p->flags |= CQL_QF_SERIAL_CONSISTENCY;
        p->serial_consistency = st->serial_consistency;
    }
    p->flags |= CQL_QF_TIMESTAMP;
    p->timestamp = st->timestamp ? st->timestamp : next_timestamp(c);
    if (st->skip_metadata && st->prepared) p->flags |= CQL_QF_SKIP_METADATA;
}

int cql_client_execute_async(cql_client_t *c, const cql_stmt_t *st, cql_done_fn done, void *arg) {
    if ((!st->query) == (!st->prepared) || st->nvalues > UINT16_MAX) return EDDY_ERR_INVALID;
    if (atomic_load(&c->closing)) return EDDY_ERR_CLOSED;
    cql_req_t *req = cql_req_new(c);
    if (!req) return EDDY_ERR_NOMEM;
    cql_msg_t m = {0};
    m.version = c->version;
    if (st->prepared) {
        m.opcode = CQL_OP_EXECUTE;
        m.u.execute.id = eddy_view(st->prepared->id, st->prepared->id_len);
        pthread_mutex_lock(&c->lock);
        uint8_t rid[64];
        uint16_t rlen = st->prepared->result_id_len;
        memcpy(rid, st->prepared->result_id, rlen);
        pthread_mutex_unlock(&c->lock);
        m.u.execute.result_metadata_id = eddy_view(rid, rlen);
        fill_params(c, st, &m.u.execute.params);
        req->has_token = routing_token(st->prepared, st->values, st->nvalues, &req->token);
        req->prepared = st->prepared;
        if (cql_msg_encode(&req->frame, &m) != EDDY_OK) goto err;
    } else {
        m.opcode = CQL_OP_QUERY;
        m.u.query.query = eddy_view_str(st->query);
        fill_params(c, st, &m.u.query.params);
        if (cql_msg_encode(&req->frame, &m) != EDDY_OK) goto err;
    }
    req->opcode = m.opcode;
    req->idempotent = st->idempotent;
    req->timeout_ms = st->timeout_ms;
    req->done = done;
    req->arg = arg;
    cql_client_submit(c, req);
    return EDDY_OK;
err:
    cql_req_free(req);
    return EDDY_ERR_TOO_LARGE;
}

int cql_client_batch_async(cql_client_t *c, cql_batch_type_t type, const cql_batch_entry_t *entries, size_t n,
                           const cql_stmt_t *options, cql_done_fn done, void *arg) {
    if (n == 0 || n > UINT16_MAX) return EDDY_ERR_INVALID;
    if (atomic_load(&c->closing)) return EDDY_ERR_CLOSED;
    cql_stmt_t defaults = {.consistency = CQL_CONSISTENCY_DEFAULT};
    const cql_stmt_t *st = options ? options : &defaults;
    cql_batch_item_t *items = eddy_calloc(n, sizeof *items);
    cql_req_t *req = cql_req_new(c);
    if (!items || !req) {
        eddy_free(items);
        cql_req_free(req);
        return EDDY_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const cql_batch_entry_t *e = &entries[i];
        if ((!e->query) == (!e->prepared) || e->nvalues > UINT16_MAX) {
            eddy_free(items);
            cql_req_free(req);
            return EDDY_ERR_INVALID;
        }
        items[i].kind = e->prepared ? 1 : 0;
        items[i].query_or_id = e->prepared ? eddy_view(e->prepared->id, e->prepared->id_len) : eddy_view_str(e->query);
        items[i].values_count = (uint16_t)e->nvalues;
        items[i].values = (cql_value_t *)e->values;
        if (!req->has_token && e->prepared)
            req->has_token = routing_token(e->prepared, e->values, e->nvalues, &req->token);
    }
    cql_msg_t m = {0};
    m.version = c->version;
    m.opcode = CQL_OP_BATCH;
    cql_batch_msg_t *b = &m.u.batch;
    b->type = (uint8_t)type;
    b->count = (uint16_t)n;
    b->items = items;
    b->consistency = st->consistency == CQL_CONSISTENCY_DEFAULT ? c->opts.consistency : st->consistency;
    b->flags = CQL_QF_TIMESTAMP;
    b->timestamp = st->timestamp ? st->timestamp : next_timestamp(c);
    if (st->serial_consistency) {
        b->flags |= CQL_QF_SERIAL_CONSISTENCY;
        b->serial_consistency = st->serial_consistency;
    }
    int rc = cql_msg_encode(&req->frame, &m);
    eddy_free(items);
    if (rc != EDDY_OK) {
        cql_req_free(req);
        return EDDY_ERR_TOO_LARGE;
    }
    req->opcode = CQL_OP_BATCH;
    req->idempotent = st->idempotent;
    req->timeout_ms = st->timeout_ms;
    req->done = done;
    req->arg = arg;
    cql_client_submit(c, req);
    return EDDY_OK;
}

/* ---- waiting -------------------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int status;
    cql_result_t *res;
    const cql_prepared_t *prepared;
    cql_error_t err;
} waiter_t;

static void waiter_init(waiter_t *w) {
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
}

static int waiter_wait(waiter_t *w, cql_error_t *err) {
    pthread_mutex_lock(&w->lock);
    while (!w->done) pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    if (err) *err = w->err;
    return w->status;
}

static void waiter_signal(waiter_t *w, int status, const cql_error_t *err) {
    pthread_mutex_lock(&w->lock);
    w->status = status;
    if (err) w->err = *err;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void on_sync_done(void *arg, int status, cql_result_t *res, const cql_error_t *err) {
    waiter_t *w = arg;
    w->res = res;
    waiter_signal(w, status, err);
}

static void on_sync_prepared(void *arg, int status, const cql_prepared_t *p, const cql_error_t *err) {
    waiter_t *w = arg;
    w->prepared = p;
    waiter_signal(w, status, err);
}

static int sync_result(waiter_t *w, int rc, cql_result_t **out, cql_error_t *err) {
    if (rc != EDDY_OK) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        cql_error_set(err, -1, "%s", rc == EDDY_ERR_CLOSED ? "the client is closed" : eddy_strerror(rc));
        return rc;
    }
    rc = waiter_wait(w, err);
    if (out) *out = w->res;
    else cql_result_free(w->res);
    return rc;
}

int cql_client_execute(cql_client_t *c, const cql_stmt_t *st, cql_result_t **out, cql_error_t *err) {
    if (out) *out = NULL;
    waiter_t w;
    waiter_init(&w);
    return sync_result(&w, cql_client_execute_async(c, st, on_sync_done, &w), out, err);
}

int cql_client_query(cql_client_t *c, const char *query, cql_result_t **out, cql_error_t *err) {
    cql_stmt_t st = {.query = query, .consistency = CQL_CONSISTENCY_DEFAULT};
    return cql_client_execute(c, &st, out, err);
}

int cql_client_batch(cql_client_t *c, cql_batch_type_t type, const cql_batch_entry_t *entries, size_t n,
                     const cql_stmt_t *options, cql_result_t **out, cql_error_t *err) {
    if (out) *out = NULL;
    waiter_t w;
    waiter_init(&w);
    return sync_result(&w, cql_client_batch_async(c, type, entries, n, options, on_sync_done, &w), out, err);
}

int cql_client_prepare(cql_client_t *c, const char *query, const cql_prepared_t **out, cql_error_t *err) {
    *out = NULL;
    waiter_t w;
    waiter_init(&w);
    int rc = cql_client_prepare_async(c, query, on_sync_prepared, &w);
    if (rc != EDDY_OK) {
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.cond);
        cql_error_set(err, -1, "%s", eddy_strerror(rc));
        return rc;
    }
    rc = waiter_wait(&w, err);
    *out = w.prepared;
    return rc;
}
