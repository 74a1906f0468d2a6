/* The batch transaction: records in, weighted rows through UNNEST/WHERE into groups or sink
 * accumulators, state through an overlay; commit resolves groups and sink reference counts and
 * hands one engine_commit_t to the sink. Records enter through txn_record.c; the state both share is
 * in engine_txn.h; see engine_int.h for the model. */
#include <assert.h>
#include <stdio.h>

#include "engine/engine_txn.h"

#define STATE_CACHE_MAX 50000 /* overlay entries kept across batches before it is dropped (memory) */

/* What a batch does to one sink key. delta sums the weights of the rows it derived with that
 * key: for a reference-counted sink, the change of the row's count of derivations. low is the
 * lowest partial sum (0 at the start): a retraction only takes back an earlier addition, so the
 * count before the batch was at least -low. */
typedef struct {
    engine_val_t **cols;       /* last values (table->ncols, NULL = unset) of any sign, for deletes */
    engine_val_t **plus_cols;  /* last values with weight +1 */
    int64_t delta;
    int64_t low;
    int last_sign;
    int32_t partition;
    int64_t offset;
} sink_acc_t;

typedef struct {
    engine_val_t *keys;          /* ngroup values */
    engine_agg_state_t *st;      /* nagg states */
    int64_t rows;             /* rows in the group */
    bool had_out;
    engine_val_t **old_cols;     /* the sink row the group produced before this batch */
    const uint8_t *key;
    uint32_t klen;
} group_t;

static int vec_push(engine_vec_t *v, void *p) {
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 64;
        void **items = eddy_realloc(v->items, cap * sizeof *items);
        if (!items) return EDDY_ERR_NOMEM;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = p;
    return EDDY_OK;
}

void engine_kv_prefix(wr_t *w, const char *query_id, int kind) {
    size_t n = strlen(query_id);
    wr_u8(w, 'e');
    wr_uvarint(w, n);
    wr_bytes(w, query_id, n);
    wr_u8(w, (uint8_t)kind);
}

engine_txn_t *engine_txn_new(engine_query_t *q, engine_sink_t sink) {
    engine_txn_t *t = eddy_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->q = q;
    t->sink = sink;
    arena_init(&t->arena, 1 << 16);
    arena_init(&t->spare, 1 << 16);
    arena_init(&t->cache_arena, 1 << 16);
    engine_map_init(&t->state, &t->cache_arena);
    engine_map_init(&t->sinkacc, &t->arena);
    engine_map_init(&t->groups, &t->arena);
    wr_init(&t->scratch, 256);
    wr_init(&t->pfkeys, 256);
    wr_init(&t->keybuf, 256);
    wr_init(&t->gkey, 64);
    json_doc_init(&t->doc);
    json_doc_init(&t->kdoc);
    t->slots = eddy_calloc(q->nslots ? q->nslots : 1, sizeof *t->slots);
    t->outvals = eddy_calloc(q->nout ? q->nout : 1, sizeof *t->outvals);
    if (!t->slots || !t->outvals) {
        engine_txn_free(t);
        return NULL;
    }
    engine_txn_reset(t, time_now_ms());
    return t;
}

static void state_cache_drop(engine_txn_t *t) {
    engine_map_clear(&t->state);
    arena_reset(&t->cache_arena);
}

void engine_txn_free(engine_txn_t *t) {
    if (!t) return;
    engine_map_free(&t->state);
    engine_map_free(&t->sinkacc);
    engine_map_free(&t->groups);
    eddy_free(t->dirty.items);
    eddy_free(t->sinkorder.items);
    eddy_free(t->grouporder.items);
    eddy_free(t->kvextra.items);
    arena_free(&t->arena);
    arena_free(&t->spare);
    arena_free(&t->cache_arena);
    wr_free(&t->scratch);
    wr_free(&t->pfkeys);
    wr_free(&t->keybuf);
    wr_free(&t->gkey);
    json_doc_free(&t->doc);
    json_doc_free(&t->kdoc);
    eddy_free(t->slots);
    eddy_free(t->outvals);
    eddy_free(t);
}

void engine_txn_pipeline(engine_txn_t *t, int (*barrier)(void *), void *arg) {
    t->pipelined = true;
    t->barrier = barrier;
    t->barrier_arg = arg;
}

void engine_txn_reset(engine_txn_t *t, int64_t now_ms) {
    /* Dirty entries of a batch that was not prepared are not in the store: forget them all (the
     * pipeline lets a commit in flight finish before it abandons a batch). The cache is also
     * dropped when large, but never under a commit in flight (its state views point into it). */
    assert(!t->dirty.n || !t->inflight);
    if (t->dirty.n) state_cache_drop(t);
    if (t->state.count > STATE_CACHE_MAX && !t->inflight) state_cache_drop(t);
    t->dirty.n = 0;
    engine_map_clear(&t->sinkacc);
    t->sinkorder.n = 0;
    engine_map_clear(&t->groups);
    t->grouporder.n = 0;
    t->kvextra.n = 0;
    if (t->pipelined) {
        /* The batch before the last one is applied (one commit in flight at most): its arena is
         * free; the last batch's stays with its commit. */
        arena_t a = t->spare;
        t->spare = t->arena;
        t->arena = a;
    }
    arena_reset(&t->arena);
    t->barrier_done = false;
    memset(&t->counters, 0, sizeof t->counters);
    t->now_ms = now_ms;
    t->state_delta = 0;
}

const engine_counters_t *engine_txn_counters(const engine_txn_t *t) { return &t->counters; }

bool engine_txn_empty(const engine_txn_t *t) {
    return !t->dirty.n && !t->sinkorder.n && !t->grouporder.n && !t->kvextra.n;
}

/* ---- state overlay -------------------------------------------------------------------------- */

/* A new overlay entry for map entry e: the stored value (found) or none. */
int engine_txn_state_fill(engine_txn_t *t, engine_map_entry_t *e, bool found, const uint8_t *val, size_t len,
                       engine_state_entry_t **out) {
    engine_state_entry_t *s = arena_alloc(&t->cache_arena, sizeof *s);
    if (!s) return EDDY_ERR_NOMEM;
    memset(s, 0, sizeof *s);
    s->key = e->key;
    s->klen = e->klen;
    e->val = s;
    if (found) {
        s->present = s->existed = true;
        s->len = (uint32_t)len;
        s->val = arena_memdup(&t->cache_arena, len ? val : (const uint8_t *)"", len);
        if (!s->val && len) return EDDY_ERR_NOMEM;
    }
    *out = s;
    return EDDY_OK;
}

int engine_txn_state_get(engine_txn_t *t, const uint8_t *key, size_t klen, engine_state_entry_t **out) {
    bool created;
    engine_map_entry_t *e = engine_map_upsert(&t->state, key, klen, &created);
    if (!e) return EDDY_ERR_NOMEM;
    if (!created) {
        *out = e->val;
        return EDDY_OK;
    }
    wr_reset(&t->scratch);
    bool found = false;
    int rc = t->sink.ops->kv_get(t->sink.ctx, eddy_view(key, klen), &t->scratch, &found);
    if (rc) {
        state_cache_drop(t); /* the half-made entry must not stay */
        return rc;
    }
    return engine_txn_state_fill(t, e, found, t->scratch.buf, t->scratch.len, out);
}

int engine_txn_state_put(engine_txn_t *t, engine_state_entry_t *s, const uint8_t *val, size_t len) {
    if (!s->dirty) {
        s->existed = s->present;
        int rc = vec_push(&t->dirty, s);
        if (rc) return rc;
    }
    if (!s->present) t->state_delta++;
    s->dirty = true;
    s->present = val != NULL;
    if (!val) {
        t->state_delta--;
        s->len = 0;
        s->val = NULL;
        t->counters.state_rows_removed++;
        return EDDY_OK;
    }
    s->val = arena_memdup(&t->cache_arena, len ? val : (const uint8_t *)"", len ? len : 1);
    if (!s->val) return EDDY_ERR_NOMEM;
    s->len = (uint32_t)len;
    t->counters.state_rows_updated++;
    return EDDY_OK;
}

/* ---- sink accumulation ---------------------------------------------------------------------- */

static void log_skip(engine_txn_t *t, const char *why) {
    t->counters.rows_skipped++;
    elog_warn("engine", "%s: row skipped at partition %d offset %lld: %s", t->q->id, (int)t->cur_partition,
              (long long)t->cur_offset, why);
}

/* Encodes the primary key of cols into keybuf; false (and the row is skipped) when a key
 * column is NULL. */
static bool sink_key(engine_txn_t *t, engine_val_t *const *cols) {
    const engine_table_t *tb = t->q->sink;
    wr_reset(&t->keybuf);
    for (uint32_t i = 0; i < tb->npk; i++) {
        const engine_val_t *v = cols[tb->pk[i]];
        if (!v || v->kind == ENGINE_NULL) {
            char why[160];
            snprintf(why, sizeof why, "primary key column %s of %s.%s is null", tb->cols[tb->pk[i]].name,
                     tb->keyspace, tb->name);
            log_skip(t, why);
            return false;
        }
        engine_val_encode(&t->keybuf, v);
    }
    return wr_ok(&t->keybuf);
}

int engine_txn_emit_cols(engine_txn_t *t, engine_val_t **cols, int weight) {
    if (!sink_key(t, cols)) return EDDY_OK;
    bool created;
    engine_map_entry_t *e = engine_map_upsert(&t->sinkacc, t->keybuf.buf, t->keybuf.len, &created);
    if (!e) return EDDY_ERR_NOMEM;
    sink_acc_t *acc = e->val;
    if (created) {
        acc = arena_alloc(&t->arena, sizeof *acc);
        if (!acc) return EDDY_ERR_NOMEM;
        memset(acc, 0, sizeof *acc);
        e->val = acc;
        if (vec_push(&t->sinkorder, acc)) return EDDY_ERR_NOMEM;
    }
    acc->delta += weight;
    if (acc->delta < acc->low) acc->low = acc->delta;
    acc->last_sign = weight > 0 ? 1 : -1;
    acc->partition = t->cur_partition;
    acc->offset = t->cur_offset;
    acc->cols = cols;
    if (weight > 0) acc->plus_cols = cols;
    else t->counters.retractions++;
    return EDDY_OK;
}

/* Evaluates the output expressions on the current slots into a fresh column array (values
 * copied into the batch arena so they outlive the record). NULL *out when the row is skipped. */
int engine_txn_project(engine_txn_t *t, engine_row_t *row, engine_val_t ***out) {
    const engine_query_t *q = t->q;
    const engine_table_t *tb = q->sink;
    *out = NULL;
    engine_val_t **cols = arena_alloc(&t->arena, tb->ncols * sizeof *cols);
    if (!cols) return EDDY_ERR_NOMEM;
    memset(cols, 0, tb->ncols * sizeof *cols);
    for (uint32_t i = 0; i < q->nout; i++) {
        engine_val_t v, *c;
        int rc = engine_expr_eval(q->out[i], row, &v);
        if (rc) return rc;
        const engine_col_t *col = &tb->cols[q->sink_cols[i]];
        /* Values of dynamic type are converted to the column's type here; one that does not
         * convert makes the row unwritable. */
        if (v.kind != ENGINE_NULL && col->type.kind != ENGINE_ANY && v.kind != col->type.kind) {
            engine_val_t conv;
            rc = engine_val_cast(&t->arena, &v, col->type, &conv);
            if (rc == EDDY_ERR_NOMEM) return rc;
            if (rc) {
                char why[200], tn[48];
                snprintf(why, sizeof why, "a %s value does not fit column %s (%s)", engine_kind_name(v.kind), col->name,
                         engine_type_str(col->type, tn, sizeof tn));
                log_skip(t, why);
                return EDDY_OK;
            }
            v = conv;
        }
        if (!(c = arena_alloc(&t->arena, sizeof *c))) return EDDY_ERR_NOMEM;
        if ((rc = engine_val_copy(&t->arena, &v, c))) return rc;
        cols[q->sink_cols[i]] = c;
    }
    *out = cols;
    return EDDY_OK;
}

/* ---- groups --------------------------------------------------------------------------------- */

static int group_row(engine_txn_t *t, group_t *g, engine_row_t *grow) {
    const engine_query_t *q = t->q;
    engine_val_t *gslots = arena_alloc(&t->arena, (q->ngroup + q->nagg + 1) * sizeof *gslots);
    if (!gslots) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < q->ngroup; i++) gslots[i] = g->keys[i];
    for (uint32_t i = 0; i < q->nagg; i++) engine_agg_result(&q->aggs[i], &g->st[i], &gslots[q->ngroup + i]);
    *grow = (engine_row_t){gslots, &t->arena, t->now_ms};
    return EDDY_OK;
}

/* The sink row a group produces now, or NULL when it produces none (empty, or HAVING false). */
static int group_output(engine_txn_t *t, group_t *g, engine_val_t ***out) {
    *out = NULL;
    if (g->rows <= 0) return EDDY_OK;
    engine_row_t grow;
    int rc = group_row(t, g, &grow);
    if (rc) return rc;
    if (t->q->having) {
        bool keep;
        if ((rc = engine_expr_test(t->q->having, &grow, &keep))) return rc;
        if (!keep) return EDDY_OK;
    }
    return engine_txn_project(t, &grow, out);
}

static int group_load(engine_txn_t *t, const uint8_t *gkey, size_t gklen, const engine_val_t *keys, group_t **out) {
    const engine_query_t *q = t->q;
    bool created;
    engine_map_entry_t *e = engine_map_upsert(&t->groups, gkey, gklen, &created);
    if (!e) return EDDY_ERR_NOMEM;
    if (!created) {
        *out = e->val;
        return EDDY_OK;
    }
    group_t *g = arena_alloc(&t->arena, sizeof *g);
    if (!g) return EDDY_ERR_NOMEM;
    memset(g, 0, sizeof *g);
    g->key = e->key;
    g->klen = e->klen;
    e->val = g;
    g->keys = arena_alloc(&t->arena, (q->ngroup ? q->ngroup : 1) * sizeof *g->keys);
    g->st = arena_alloc(&t->arena, (q->nagg ? q->nagg : 1) * sizeof *g->st);
    if (!g->keys || !g->st) return EDDY_ERR_NOMEM;
    memset(g->st, 0, (q->nagg ? q->nagg : 1) * sizeof *g->st);
    for (uint32_t i = 0; i < q->ngroup; i++)
        if (engine_val_copy(&t->arena, &keys[i], &g->keys[i])) return EDDY_ERR_NOMEM;
    /* The group's stored state, unless this is a batch job (its groups live only in memory). */
    if (q->stream) {
        wr_reset(&t->scratch);
        engine_kv_prefix(&t->scratch, q->id, KV_GROUP);
        wr_bytes(&t->scratch, gkey, gklen);
        engine_state_entry_t *s;
        int rc = engine_txn_state_get(t, t->scratch.buf, t->scratch.len, &s);
        if (rc) return rc;
        if (s->present) {
            rd_t r = rd_init(s->val, s->len);
            g->rows = rd_varint64(&r);
            for (uint32_t i = 0; i < q->nagg && rd_ok(&r); i++)
                if ((rc = engine_agg_decode(&r, &q->aggs[i], &g->st[i], &t->arena)) == EDDY_ERR_NOMEM) return rc;
            if (!rd_ok(&r) || rd_remaining(&r) || g->rows < 0) {
                elog_error("engine", "%s: corrupt group state (%u bytes); the group starts over", q->id, s->len);
                g->rows = 0;
                memset(g->st, 0, q->nagg * sizeof *g->st);
            }
        }
        if ((rc = group_output(t, g, &g->old_cols))) return rc;
        g->had_out = g->old_cols != NULL;
    }
    if (vec_push(&t->grouporder, g)) return EDDY_ERR_NOMEM;
    *out = g;
    return EDDY_OK;
}

static int group_update(engine_txn_t *t, engine_row_t *row, int weight) {
    const engine_query_t *q = t->q;
    engine_val_t keys[64];
    wr_t *gk = &t->gkey;
    wr_reset(gk);
    int rc = EDDY_OK;
    for (uint32_t i = 0; i < q->ngroup && !rc; i++) {
        rc = engine_expr_eval(q->group[i], row, &keys[i]);
        engine_val_encode(gk, &keys[i]);
    }
    if (!rc && !wr_ok(gk)) rc = EDDY_ERR_NOMEM;
    group_t *g = NULL;
    if (!rc) rc = group_load(t, gk->buf ? gk->buf : (const uint8_t *)"", gk->len, keys, &g);
    if (rc) return rc;
    g->rows += weight;
    if (weight < 0) t->counters.retractions++;
    for (uint32_t i = 0; i < q->nagg; i++) {
        engine_val_t v = engine_null();
        if (q->aggs[i].arg && (rc = engine_expr_eval(q->aggs[i].arg, row, &v))) return rc;
        if ((rc = engine_agg_update(&q->aggs[i], &g->st[i], &t->arena, &v, weight))) return rc;
    }
    return EDDY_OK;
}

/* ---- rows through UNNEST and WHERE ----------------------------------------------------------- */

static int row_done(engine_txn_t *t, engine_row_t *row, int weight) {
    const engine_query_t *q = t->q;
    int rc;
    if (q->where) {
        bool keep;
        if ((rc = engine_expr_test(q->where, row, &keep)) || !keep) return rc;
    }
    if (q->grouped) return group_update(t, row, weight);
    engine_val_t **cols;
    if ((rc = engine_txn_project(t, row, &cols)) || !cols) return rc;
    return engine_txn_emit_cols(t, cols, weight);
}

static int run_unnest(engine_txn_t *t, engine_row_t *row, uint32_t level, int weight) {
    const engine_query_t *q = t->q;
    if (level == q->nunnest) return row_done(t, row, weight);
    const engine_unnest_t *u = &q->unnest[level];
    engine_val_t c;
    int rc = engine_expr_eval(u->expr, row, &c);
    if (rc) return rc;
    if (c.kind == ENGINE_LIST || c.kind == ENGINE_SET) {
        for (uint32_t i = 0; i < c.len; i++) {
            row->slots[u->slot] = c.items[i];
            if ((rc = run_unnest(t, row, level + 1, weight))) return rc;
        }
        if (c.len) return EDDY_OK;
    } else if (c.kind == ENGINE_MAP) {
        for (uint32_t i = 0; i < c.len; i++) {
            row->slots[u->slot] = c.items[2 * i];
            if (u->value_slot >= 0) row->slots[u->value_slot] = c.items[2 * i + 1];
            if ((rc = run_unnest(t, row, level + 1, weight))) return rc;
        }
        if (c.len) return EDDY_OK;
    } else if (c.kind == ENGINE_JSON) {
        const json_doc_t *d = c.json->doc;
        const json_node_t *o = json_node(d, c.json->node);
        uint32_t i = c.json->node + 1;
        for (uint32_t k = 0; k < o->count; k++) {
            if ((rc = engine_val_from_json(&t->arena, d, i, &row->slots[u->slot]))) return rc;
            if (u->value_slot >= 0 && (rc = engine_val_from_json(&t->arena, d, i + 1, &row->slots[u->value_slot])))
                return rc;
            if ((rc = run_unnest(t, row, level + 1, weight))) return rc;
            i = json_next(d, i + 1);
        }
        if (o->count) return EDDY_OK;
    }
    if (!u->outer) return EDDY_OK;
    row->slots[u->slot] = engine_null();
    if (u->value_slot >= 0) row->slots[u->value_slot] = engine_null();
    return run_unnest(t, row, level + 1, weight);
}

int engine_txn_run_base(engine_txn_t *t, int weight) {
    engine_row_t row = {t->slots, &t->arena, t->now_ms};
    for (uint32_t i = t->q->nbase; i < t->q->nslots; i++) t->slots[i] = engine_null();
    return run_unnest(t, &row, 0, weight);
}

/* ---- commit --------------------------------------------------------------------------------- */

static int kv_extra(engine_txn_t *t, const void *k, size_t kl, const void *v, size_t vl, bool del) {
    engine_kv_write_t *w = arena_alloc(&t->arena, sizeof *w);
    uint8_t *kc = arena_memdup(&t->arena, k, kl);
    uint8_t *vc = vl ? arena_memdup(&t->arena, v, vl) : NULL;
    if (!w || !kc || (vl && !vc)) return EDDY_ERR_NOMEM;
    *w = (engine_kv_write_t){eddy_view(kc, kl), eddy_view(vc, vl), del};
    return vec_push(&t->kvextra, w);
}

int engine_txn_kv(engine_txn_t *t, eddy_view_t key, eddy_view_t value, bool is_delete) {
    return kv_extra(t, key.ptr, key.len, value.ptr, value.len, is_delete);
}

int engine_txn_position(engine_txn_t *t, const char *topic, int32_t partition, int64_t next_offset) {
    wr_t k, v;
    wr_init(&k, 64);
    wr_init(&v, 16);
    engine_kv_prefix(&k, t->q->id, KV_POS);
    wr_str(&k, topic);
    wr_u8(&k, 0);
    wr_u32(&k, (uint32_t)partition);
    wr_varint(&v, next_offset);
    int rc = wr_ok(&k) && wr_ok(&v) ? kv_extra(t, k.buf, k.len, v.buf, v.len, false) : EDDY_ERR_NOMEM;
    wr_free(&k);
    wr_free(&v);
    return rc;
}

/* Groups: each changed group retracts the row it produced and emits its new one; its state is
 * written back (or deleted when empty). */
static int resolve_groups(engine_txn_t *t) {
    const engine_query_t *q = t->q;
    int rc;
    for (uint32_t gi = 0; gi < t->grouporder.n; gi++) {
        group_t *g = t->grouporder.items[gi];
        engine_val_t **now;
        if ((rc = group_output(t, g, &now))) return rc;
        if (g->had_out) {
            /* Unchanged output (same key and values) needs no write. */
            bool same = now != NULL;
            for (uint32_t c = 0; same && c < q->sink->ncols; c++) {
                const engine_val_t *a = g->old_cols[c], *b = now[c];
                same = (!a && !b) || (a && b && engine_val_eq(a, b));
            }
            if (same) goto state;
            if ((rc = engine_txn_emit_cols(t, g->old_cols, -1))) return rc;
        }
        if (now && (rc = engine_txn_emit_cols(t, now, +1))) return rc;
    state:
        if (!q->stream) continue;
        wr_reset(&t->scratch);
        engine_kv_prefix(&t->scratch, q->id, KV_GROUP);
        wr_bytes(&t->scratch, g->key, g->klen);
        engine_state_entry_t *s;
        if ((rc = engine_txn_state_get(t, t->scratch.buf, t->scratch.len, &s))) return rc;
        if (g->rows <= 0) {
            if (s->present && (rc = engine_txn_state_put(t, s, NULL, 0))) return rc;
            continue;
        }
        wr_t w;
        wr_init(&w, 64);
        wr_varint(&w, g->rows);
        for (uint32_t i = 0; i < q->nagg; i++) engine_agg_encode(&w, &q->aggs[i], &g->st[i]);
        rc = wr_ok(&w) ? engine_txn_state_put(t, s, w.buf, w.len) : EDDY_ERR_NOMEM;
        wr_free(&w);
        if (rc) return rc;
    }
    return EDDY_OK;
}

typedef struct {
    engine_mutation_t *items;
    uint32_t n, cap;
} mutvec_t;

static int mut_push(engine_txn_t *t, mutvec_t *mv, engine_val_t **cols, bool del, const sink_acc_t *acc, bool refs_only,
                    int64_t refs) {
    if (mv->n == mv->cap) {
        uint32_t cap = mv->cap ? mv->cap * 2 : 256;
        engine_mutation_t *items = arena_alloc(&t->arena, cap * sizeof *items);
        if (!items) return EDDY_ERR_NOMEM;
        if (mv->n) memcpy(items, mv->items, mv->n * sizeof *items);
        mv->items = items;
        mv->cap = cap;
    }
    mv->items[mv->n++] = (engine_mutation_t){t->q->sink, del, (const engine_val_t *const *)cols, acc->partition, acc->offset,
                                          refs_only, refs, t->q->ref_slot};
    return EDDY_OK;
}

/* Sink rows: with reference counts, a row lives while its count of derivations is positive and
 * holds the last value produced; without (each sink key has one producer), the last operation
 * decides. The count travels with the row (the sink keeps it), so inserts are blind: only a
 * batch that lowers a row's count reads it, to tell whether another derivation still holds
 * the row. */
static int resolve_sink(engine_txn_t *t, mutvec_t *mv) {
    const engine_query_t *q = t->q;
    int rc;
    for (uint32_t i = 0; i < t->sinkorder.n; i++) {
        sink_acc_t *acc = t->sinkorder.items[i];
        bool keep, write_plus;
        int64_t refs = 0;
        if (q->need_refcount) {
            /* The count after the batch is at least -low + delta: when that is positive (a new row,
             * or a producer that retracted and re-derived it) the row lives without a read. */
            int64_t count = -acc->low;
            if (count + acc->delta <= 0) {
                /* The count must include the commit in flight. */
                if (t->barrier && !t->barrier_done) {
                    if ((rc = t->barrier(t->barrier_arg))) return rc;
                    t->barrier_done = true;
                }
                rc = t->sink.ops->refs_get(t->sink.ctx, q->sink, (const engine_val_t *const *)acc->cols, q->ref_slot,
                                           &count);
                if (rc) return rc;
            }
            keep = count + acc->delta > 0;
            write_plus = keep && acc->plus_cols;
            refs = acc->delta;
        } else {
            keep = acc->last_sign > 0;
            write_plus = keep;
        }
        if (write_plus) rc = mut_push(t, mv, acc->plus_cols, false, acc, false, refs);
        else if (!keep) rc = mut_push(t, mv, acc->cols, true, acc, false, 0);
        else if (refs) rc = mut_push(t, mv, acc->cols, false, acc, true, refs); /* still produced elsewhere */
        else rc = EDDY_OK;
        if (rc) return rc;
        if (!keep) t->counters.rows_deleted++;
        if (write_plus || !keep) t->counters.output_rows++;
    }
    return EDDY_OK;
}

static void commit_bad(void *arg, const engine_mutation_t *m, const char *why) {
    engine_prepared_t *p = arg;
    p->counters.rows_skipped++;
    p->counters.output_rows--;
    elog_warn("engine", "%s: row skipped at partition %d offset %lld: %s", p->query_id, (int)m->partition,
              (long long)m->offset, why);
}

int engine_txn_prepare(engine_txn_t *t, engine_prepared_t **out, char *errstr, size_t errlen) {
    mutvec_t mv = {0};
    int rc;
    *out = NULL;
    if ((rc = resolve_groups(t)) || (rc = resolve_sink(t, &mv)))
        return eddy_err(errstr, errlen, rc, "%s: cannot resolve the batch: %s", t->q->id, eddy_strerror(rc));
    uint32_t nkv = 0, cap = t->dirty.n + t->kvextra.n;
    engine_kv_write_t *kv = arena_alloc(&t->arena, (cap ? cap : 1) * sizeof *kv);
    engine_prepared_t *p = arena_alloc(&t->arena, sizeof *p);
    if (!kv || !p) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < t->dirty.n; i++) {
        const engine_state_entry_t *s = t->dirty.items[i];
        kv[nkv++] = (engine_kv_write_t){eddy_view(s->key, s->klen), eddy_view(s->val, s->present ? s->len : 0),
                                     !s->present};
    }
    for (uint32_t i = 0; i < t->kvextra.n; i++) kv[nkv++] = *(engine_kv_write_t *)t->kvextra.items[i];
    /* The state written is this batch's from now on: the next batch tracks its own writes (the
     * values stay in the cache's arena, which is not dropped while the commit is in flight). */
    for (uint32_t i = 0; i < t->dirty.n; i++) ((engine_state_entry_t *)t->dirty.items[i])->dirty = false;
    t->dirty.n = 0;
    t->counters.state_rows_total = (uint64_t)t->state_delta;
    *p = (engine_prepared_t){{mv.n, mv.items, nkv, kv}, t->counters, t->q->id, NULL, NULL};
    t->inflight = true;
    *out = p;
    return EDDY_OK;
}

int engine_prepared_build(engine_sink_t sink, engine_prepared_t *p, char *errstr, size_t errlen) {
    if (!sink.ops->build || p->built) return EDDY_OK;
    return sink.ops->build(sink.ctx, &p->c, commit_bad, p, &p->built, errstr, errlen);
}

int engine_prepared_commit(engine_sink_t sink, engine_prepared_t *p, char *errstr, size_t errlen) {
    if (!p->built) return sink.ops->commit(sink.ctx, &p->c, commit_bad, p, errstr, errlen);
    void *b = p->built;
    p->built = NULL;
    return sink.ops->apply(sink.ctx, b, errstr, errlen);
}

void engine_prepared_discard(engine_sink_t sink, engine_prepared_t *p) {
    if (p && p->built) sink.ops->discard(sink.ctx, p->built);
    if (p) p->built = NULL;
}

void engine_txn_done(engine_txn_t *t, const engine_prepared_t *applied) {
    t->inflight = false;
    if (applied && !t->pipelined) t->counters = applied->counters; /* (pipelined: the next batch's are there) */
    else state_cache_drop(t); /* it holds what the batch (and any after it) wrote */
}

void *engine_txn_alloc(engine_txn_t *t, size_t n) { return arena_alloc(&t->arena, n ? n : 1); }

int engine_txn_commit(engine_txn_t *t, char *errstr, size_t errlen) {
    engine_prepared_t *p;
    int rc = engine_txn_prepare(t, &p, errstr, errlen);
    if (!rc) rc = engine_prepared_commit(t->sink, p, errstr, errlen);
    engine_txn_done(t, rc ? NULL : p);
    return rc;
}

/* ---- partial aggregates (batch jobs) -------------------------------------------------------- */

/* Layout: uvarint count, then per group: uvarint key length, key bytes (the encoded group key
 * values), varint rows, the aggregate states. */
int engine_txn_export_groups(engine_txn_t *t, wr_t *w) {
    const engine_query_t *q = t->q;
    wr_uvarint(w, t->grouporder.n);
    for (uint32_t i = 0; i < t->grouporder.n; i++) {
        const group_t *g = t->grouporder.items[i];
        wr_uvarint(w, g->klen);
        wr_bytes(w, g->key, g->klen);
        wr_varint(w, g->rows);
        for (uint32_t a = 0; a < q->nagg; a++) engine_agg_encode(w, &q->aggs[a], &g->st[a]);
    }
    return wr_ok(w) ? EDDY_OK : EDDY_ERR_NOMEM;
}

int engine_txn_import_groups(engine_txn_t *t, const uint8_t *p, size_t n) {
    const engine_query_t *q = t->q;
    rd_t r = rd_init(p, n);
    uint64_t count = rd_uvarint64(&r);
    if (!rd_ok(&r) || count > n) return EDDY_ERR_CORRUPT;
    engine_val_t *keys = arena_alloc(&t->arena, (q->ngroup ? q->ngroup : 1) * sizeof *keys);
    engine_agg_state_t *st = arena_alloc(&t->arena, (q->nagg ? q->nagg : 1) * sizeof *st);
    if (!keys || !st) return EDDY_ERR_NOMEM;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t kl = rd_uvarint64(&r);
        if (!rd_ok(&r) || kl > rd_remaining(&r)) return EDDY_ERR_CORRUPT;
        const uint8_t *kp = rd_bytes(&r, (size_t)kl);
        rd_t kr = rd_init(kp, (size_t)kl);
        for (uint32_t k = 0; k < q->ngroup; k++) {
            int rc = engine_val_decode(&kr, &t->arena, &keys[k]);
            if (rc) return rc;
        }
        if (rd_remaining(&kr)) return EDDY_ERR_CORRUPT;
        int64_t rows = rd_varint64(&r);
        for (uint32_t a = 0; a < q->nagg; a++) {
            int rc = engine_agg_decode(&r, &q->aggs[a], &st[a], &t->arena);
            if (rc) return rc;
        }
        if (!rd_ok(&r) || rows < 0) return EDDY_ERR_CORRUPT;
        group_t *g;
        int rc = group_load(t, kp, (size_t)kl, keys, &g);
        if (rc) return rc;
        g->rows += rows;
        for (uint32_t a = 0; a < q->nagg; a++)
            if ((rc = engine_agg_merge(&q->aggs[a], &g->st[a], &st[a], &t->arena))) return rc;
    }
    return rd_remaining(&r) ? EDDY_ERR_CORRUPT : EDDY_OK;
}

void engine_txn_drop_groups(engine_txn_t *t) {
    engine_map_clear(&t->groups);
    t->grouporder.n = 0;
}
