/* The embedded sink: eddy's store, in process. A batch's row upserts and deletes, its state
 * writes and its source positions go into one store write batch (one RocksDB write batch), so a
 * crash applies all of a batch or none of it: the exactly-once effect. Writes carry strictly
 * increasing timestamps, so that a row deleted by one batch and written again by the next is
 * never hidden by Cassandra's tie-break (a delete wins a tie).
 *
 * Also: table descriptions from the catalog, CREATE KEYSPACE/TABLE from a pipeline file, and
 * token-range scans for batch jobs. Values cross between the engine's typed values and the
 * store's serialized cells in value_store.c. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_int.h"
#include "engine/engine_store.h"
#include "sql/sql.h"

typedef struct {
    char *ks, *name;
    const store_table_t *t;  /* kept */
    uint32_t version;
} table_ref_t;

typedef struct {
    store_t *st;
    pthread_mutex_t mu;      /* tables, the builder pool, the clock */
    uint64_t generation;     /* the schema generation the cached tables belong to */
    table_ref_t *tables;
    size_t ntables;
    store_write_t **pool;
    size_t npool;
    int64_t last_ts;
} ssink_t;

static void tables_drop(ssink_t *s) {
    for (size_t i = 0; i < s->ntables; i++) {
        store_table_release(s->tables[i].t);
        eddy_free(s->tables[i].ks);
        eddy_free(s->tables[i].name);
    }
    s->ntables = 0;
}

/* Forgets the cached tables when the schema changed (a table dropped, recreated or altered). */
static void tables_check(ssink_t *s) {
    store_schema_t *schema = store_schema_get(s->st);
    uint64_t gen = schema ? store_schema_generation(schema) : 0;
    if (schema) store_schema_release(schema);
    pthread_mutex_lock(&s->mu);
    if (gen != s->generation) {
        tables_drop(s);
        s->generation = gen;
    }
    pthread_mutex_unlock(&s->mu);
}

/* The store table for an engine table (looked up once per schema generation), kept for the
 * caller: release it with store_table_release (another thread may drop the cache meanwhile). */
static const store_table_t *table_for(ssink_t *s, const char *ks, const char *name, char *errstr, size_t errlen) {
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->ntables; i++)
        if (!strcmp(s->tables[i].ks, ks) && !strcmp(s->tables[i].name, name)) {
            const store_table_t *t = store_table_keep(s->tables[i].t);
            pthread_mutex_unlock(&s->mu);
            return t;
        }
    const store_table_t *t = NULL;
    if (store_table_lookup(s->st, ks, name, &t, errstr, errlen) == EDDY_OK) {
        table_ref_t *ts = eddy_realloc(s->tables, (s->ntables + 1) * sizeof *ts);
        if (ts) {
            s->tables = ts;
            ts[s->ntables++] = (table_ref_t){eddy_strdup(ks), eddy_strdup(name), store_table_keep(t),
                                             store_table_info(t)->version};
        }
    }
    pthread_mutex_unlock(&s->mu);
    return t; /* the lookup's own reference goes to the caller */
}

static int ss_table_get(void *ctx, const char *ks, const char *table, arena_t *arena, engine_table_t **out, char *errstr,
                        size_t errlen) {
    ssink_t *s = ctx;
    tables_check(s);
    const store_table_t *t = table_for(s, ks, table, errstr, errlen);
    if (!t) return EDDY_ERR_NOT_FOUND;
    const store_table_info_t *info = store_table_info(t);
    engine_table_t *et = arena_alloc(arena, sizeof *et);
    if (!et) {
        store_table_release(t);
        return EDDY_ERR_NOMEM;
    }
    memset(et, 0, sizeof *et);
    et->keyspace = arena_strndup(arena, ks, strlen(ks));
    et->name = arena_strndup(arena, table, strlen(table));
    et->ncols = (uint32_t)info->ncolumns;
    et->npartition = (uint32_t)info->npartition;
    et->npk = (uint32_t)(info->npartition + info->nclustering);
    et->cols = arena_alloc(arena, (et->ncols ? et->ncols : 1) * sizeof *et->cols);
    et->pk = arena_alloc(arena, (et->npk ? et->npk : 1) * sizeof *et->pk);
    int rc = et->keyspace && et->name && et->cols && et->pk ? EDDY_OK : EDDY_ERR_NOMEM;
    for (uint32_t i = 0; !rc && i < et->ncols; i++) {
        et->cols[i].name = arena_strndup(arena, info->columns[i].name, strlen(info->columns[i].name));
        et->cols[i].type = engine_store_type(info->columns[i].type);
        if (!et->cols[i].name) rc = EDDY_ERR_NOMEM;
    }
    if (rc) {
        store_table_release(t);
        return rc;
    }
    for (uint32_t i = 0; i < et->npk; i++) et->pk[i] = i; /* key columns come first, in key order */
    *out = et;
    store_table_release(t);
    return EDDY_OK;
}

/* ---- DDL from a pipeline file ----------------------------------------------------------------- */

static const char *lit_text(const sql_expr_t *e, char *buf, size_t n) {
    if (e->kind != SQL_EXPR_LITERAL) return NULL;
    if (e->lit.kind == SQL_LIT_BOOLEAN) return e->lit.v.b ? "true" : "false";
    snprintf(buf, n, "%s", e->lit.text ? e->lit.text : "");
    return buf;
}

/* A {k: v} option literal as a string map, in the arena. */
static int option_map(arena_t *a, const sql_expr_t *e, store_strmap_t *out) {
    if (e->kind != SQL_EXPR_MAP) return EDDY_ERR_INVALID;
    const char **keys = arena_alloc(a, (e->coll.nitems + 1) * sizeof *keys);
    const char **vals = arena_alloc(a, (e->coll.nitems + 1) * sizeof *vals);
    if (!keys || !vals) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < e->coll.nitems; i++) {
        char kb[256], vb[256];
        const char *k = lit_text(e->coll.items[i], kb, sizeof kb), *v = lit_text(e->coll.values[i], vb, sizeof vb);
        if (!k || !v) return EDDY_ERR_INVALID;
        keys[i] = arena_strndup(a, k, strlen(k));
        vals[i] = arena_strndup(a, v, strlen(v));
    }
    *out = (store_strmap_t){e->coll.nitems, keys, vals};
    return EDDY_OK;
}

static int ddl_keyspace(ssink_t *s, const sql_stmt_t *st, arena_t *a, char *errstr, size_t errlen) {
    const sql_keyspace_t *k = &st->keyspace;
    static const char *const dk[] = {"class", "replication_factor"}, *const dv[] = {"SimpleStrategy", "1"};
    store_strmap_t repl = {2, dk, dv};
    bool durable = true;
    for (uint32_t i = 0; i < k->noptions; i++) {
        const sql_option_t *o = &k->options[i];
        if (!strcmp(o->name.name, "replication")) {
            if (option_map(a, o->value, &repl)) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "bad replication map");
        } else if (!strcmp(o->name.name, "durable_writes")) {
            char b[16];
            const char *v = lit_text(o->value, b, sizeof b);
            durable = !v || strcmp(v, "false");
        }
    }
    return store_keyspace_create(s->st, k->name.name, &repl, durable, true, NULL, errstr, errlen);
}

static int ddl_table(ssink_t *s, const sql_stmt_t *st, arena_t *a, char *errstr, size_t errlen) {
    const sql_create_table_t *ct = &st->create_table;
    const char *ks = ct->name.ks.name;
    store_column_spec_t *specs = arena_alloc(a, ct->ncolumns * sizeof *specs);
    store_option_t *opts = arena_alloc(a, (ct->noptions + 1) * sizeof *opts);
    if (!specs || !opts) return EDDY_ERR_NOMEM;
    store_schema_t *schema = store_schema_get(s->st);
    int rc = EDDY_OK;
    size_t n = 0;
    for (uint32_t i = 0; i < ct->ncolumns && !rc; i++) {
        const sql_column_def_t *c = &ct->columns[i];
        wr_t w;
        wr_init(&w, 64);
        sql_print_type(&w, c->type);
        const store_type_t *t = NULL;
        rc = wr_ok(&w) ? store_type_parse(schema, ks, (const char *)w.buf, w.len, &t, errstr, errlen) : EDDY_ERR_NOMEM;
        wr_free(&w);
        if (rc) break;
        uint8_t kind = c->is_static ? STORE_COL_STATIC : STORE_COL_REGULAR;
        bool desc = false;
        for (uint32_t k = 0; k < ct->npartition_key; k++)
            if (!strcmp(ct->partition_key[k].name, c->name.name)) kind = STORE_COL_PARTITION_KEY;
        for (uint32_t k = 0; k < ct->nclustering; k++)
            if (!strcmp(ct->clustering[k].name, c->name.name)) kind = STORE_COL_CLUSTERING;
        for (uint32_t k = 0; k < ct->norder; k++)
            if (!strcmp(ct->order[k].column.name, c->name.name)) desc = ct->order[k].desc;
        specs[n++] = (store_column_spec_t){c->name.name, t, kind, desc};
    }
    /* Key columns go in key order. */
    store_column_spec_t *ordered = arena_alloc(a, (n ? n : 1) * sizeof *ordered);
    size_t m = 0;
    for (uint32_t k = 0; ordered && k < ct->npartition_key; k++)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(specs[i].name, ct->partition_key[k].name)) ordered[m++] = specs[i];
    for (uint32_t k = 0; ordered && k < ct->nclustering; k++)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(specs[i].name, ct->clustering[k].name)) ordered[m++] = specs[i];
    for (size_t i = 0; ordered && i < n; i++)
        if (specs[i].kind == STORE_COL_STATIC || specs[i].kind == STORE_COL_REGULAR) ordered[m++] = specs[i];
    size_t nopts = 0;
    for (uint32_t i = 0; !rc && ordered && i < ct->noptions; i++) {
        const sql_option_t *o = &ct->options[i];
        char b[256];
        const char *v = lit_text(o->value, b, sizeof b);
        store_strmap_t *map = NULL;
        if (!v) {
            map = arena_alloc(a, sizeof *map);
            if (!map || option_map(a, o->value, map)) continue;
        }
        opts[nopts++] = (store_option_t){o->name.name, v ? arena_strndup(a, v, strlen(v)) : NULL, map};
    }
    if (!rc && !ordered) rc = EDDY_ERR_NOMEM;
    if (!rc) rc = store_table_create(s->st, ks, ct->name.name.name, ordered, m, opts, nopts, true, NULL, errstr, errlen);
    for (size_t i = 0; i < n; i++) store_type_release(specs[i].type);
    store_schema_release(schema);
    return rc;
}

static int ss_ddl(void *ctx, const struct sql_stmt *stmt, const engine_table_t *table, char *errstr, size_t errlen) {
    (void)table;
    arena_t a;
    arena_init(&a, 4096);
    int rc = EDDY_OK;
    if (stmt->kind == SQL_STMT_CREATE_KEYSPACE) rc = ddl_keyspace(ctx, stmt, &a, errstr, errlen);
    else if (stmt->kind == SQL_STMT_CREATE_TABLE) rc = ddl_table(ctx, stmt, &a, errstr, errlen);
    arena_free(&a);
    return rc;
}

/* ---- state ---------------------------------------------------------------------------------- */

static int ss_kv_get(void *ctx, eddy_view_t key, wr_t *out, bool *found) {
    ssink_t *s = ctx;
    char err[200];
    int rc = store_kv_get(s->st, key.ptr, key.len, out, err, sizeof err);
    *found = rc == EDDY_OK;
    return rc == EDDY_ERR_NOT_FOUND ? EDDY_OK : rc;
}

static int ss_kv_get_many(void *ctx, const eddy_view_t *keys, uint32_t n, wr_t *out, size_t *offs, size_t *lens,
                          bool *found) {
    ssink_t *s = ctx;
    char err[200];
    return store_kv_get_many(s->st, keys, n, out, offs, lens, found, err, sizeof err);
}

static int ss_kv_scan(void *ctx, eddy_view_t prefix, int (*fn)(void *, eddy_view_t, eddy_view_t), void *arg) {
    ssink_t *s = ctx;
    char err[200];
    int rc = store_kv_scan(s->st, prefix.ptr, prefix.len, fn, arg, err, sizeof err);
    return rc > 0 ? EDDY_OK : rc;
}

/* ---- commit --------------------------------------------------------------------------------- */

static store_write_t *builder_get(ssink_t *s) {
    pthread_mutex_lock(&s->mu);
    store_write_t *w = s->npool ? s->pool[--s->npool] : NULL;
    pthread_mutex_unlock(&s->mu);
    return w ? w : store_write_new(s->st);
}

static void builder_put(ssink_t *s, store_write_t *w) {
    pthread_mutex_lock(&s->mu);
    store_write_t **pool = s->npool < 16 ? eddy_realloc(s->pool, (s->npool + 1) * sizeof *pool) : NULL;
    if (pool) {
        s->pool = pool;
        s->pool[s->npool++] = w;
        w = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (w) store_write_free(w);
}

static int64_t next_ts(ssink_t *s) {
    int64_t now = store_now_us(s->st);
    pthread_mutex_lock(&s->mu);
    if (now <= s->last_ts) now = s->last_ts + 1;
    s->last_ts = now;
    pthread_mutex_unlock(&s->mu);
    return now;
}

static int add_row(ssink_t *s, store_write_t *w, const store_table_t *t, const engine_mutation_t *m, int64_t ts,
                   wr_t *vals, void (*bad)(void *, const engine_mutation_t *, const char *), void *arg);

/* The store table of the mutations being added (looked up when the table changes). */
typedef struct {
    const engine_table_t *et;
    const store_table_t *t;
    char err[256];
} table_cache_t;

static int add_mutation(ssink_t *s, store_write_t *w, const engine_mutation_t *m, int64_t ts, wr_t *vals,
                        void (*bad)(void *, const engine_mutation_t *, const char *), void *arg, table_cache_t *tc) {
    const engine_table_t *et = m->table;
    if (et != tc->et) {
        if (tc->t) store_table_release(tc->t);
        tc->et = et;
        tc->t = table_for(s, et->keyspace, et->name, tc->err, sizeof tc->err);
    }
    if (!tc->t) {
        bad(arg, m, tc->err);
        return EDDY_OK;
    }
    return add_row(s, w, tc->t, m, ts, vals, bad, arg);
}

/* Writes only the key and the count change of a row (its values stay): the row's derivations
 * changed without a value to write, or its values could not be written (the count must still
 * follow what was derived). */
static int add_refs_only(store_write_t *w, const store_table_t *t, const engine_mutation_t *m, int64_t ts, wr_t *vals) {
    char err[256];
    const engine_table_t *et = m->table;
    const store_table_info_t *info = store_table_info(t);
    eddy_view_t key[64];
    uint32_t nkey = et->npk;
    if (nkey > 64 || info->ncolumns != et->ncols) return EDDY_OK;
    wr_reset(vals);
    size_t offs[64];
    for (uint32_t k = 0; k < nkey; k++) {
        offs[k] = vals->len;
        const engine_val_t *v = m->cols[et->pk[k]];
        if (!v || v->kind == ENGINE_NULL || engine_store_value(info->columns[et->pk[k]].type, v, vals, err, sizeof err))
            return EDDY_OK; /* a key the store refuses: the row was never written either */
    }
    if (!wr_ok(vals)) return EDDY_ERR_NOMEM;
    for (uint32_t k = 0; k < nkey; k++)
        key[k] = eddy_view(vals->buf + offs[k], (k + 1 < nkey ? offs[k + 1] : vals->len) - offs[k]);
    int rc = store_write_row(w, t, key, nkey, ts, STORE_TTL_DEFAULT, 0, err, sizeof err);
    if (!rc) rc = store_write_refs(w, m->ref_slot, m->refs, err, sizeof err);
    return rc == EDDY_ERR_NOMEM ? rc : EDDY_OK;
}

static int add_row(ssink_t *s, store_write_t *w, const store_table_t *t, const engine_mutation_t *m, int64_t ts,
                   wr_t *vals, void (*bad)(void *, const engine_mutation_t *, const char *), void *arg) {
    (void)s;
    char err[256];
    const engine_table_t *et = m->table;
    const store_table_info_t *info = store_table_info(t);
    if (info->ncolumns != et->ncols) {
        bad(arg, m, "the table changed shape since the pipeline started");
        return EDDY_OK;
    }
    if (m->refs_only) return add_refs_only(w, t, m, ts, vals);
    /* Every value is serialized first, so a value that does not fit skips the row whole. */
    wr_reset(vals);
    size_t offs[512], lens[512];
    bool present[512], isnull[512];
    if (et->ncols > 512) {
        bad(arg, m, "more than 512 columns");
        return EDDY_OK;
    }
    for (uint32_t c = 0; c < et->ncols; c++) {
        present[c] = m->cols[c] != NULL;
        isnull[c] = !present[c] || m->cols[c]->kind == ENGINE_NULL;
        offs[c] = vals->len;
        lens[c] = 0;
        if (isnull[c]) continue;
        int rc = engine_store_value(info->columns[c].type, m->cols[c], vals, err, sizeof err);
        if (rc == EDDY_ERR_NOMEM) return rc;
        if (rc) {
            char why[400];
            snprintf(why, sizeof why, "column %s: %s", info->columns[c].name, err);
            bad(arg, m, why);
            return m->refs ? add_refs_only(w, t, m, ts, vals) : EDDY_OK;
        }
        lens[c] = vals->len - offs[c];
    }
    if (!wr_ok(vals)) return EDDY_ERR_NOMEM;
    eddy_view_t key[64];
    uint32_t nkey = et->npk;
    if (nkey > 64) nkey = 64;
    for (uint32_t k = 0; k < nkey; k++) key[k] = eddy_view(isnull[k] ? NULL : vals->buf + offs[k], lens[k]);
    int rc2;
    if (m->is_delete) {
        rc2 = store_write_delete_row(w, t, key, ts, err, sizeof err);
    } else {
        rc2 = store_write_row(w, t, key, nkey, ts, STORE_TTL_DEFAULT, STORE_ROW_INSERT, err, sizeof err);
        for (uint32_t c = nkey; !rc2 && c < et->ncols; c++) {
            if (!present[c]) continue;
            rc2 = store_write_set(w, (int)c, isnull[c] ? NULL : vals->buf + offs[c], lens[c], err, sizeof err);
        }
        if (!rc2 && m->refs) rc2 = store_write_refs(w, m->ref_slot, m->refs, err, sizeof err);
    }
    if (rc2 == EDDY_ERR_NOMEM) return rc2;
    if (rc2) {
        bad(arg, m, err);
        if (m->refs && !m->is_delete) return add_refs_only(w, t, m, ts, vals);
    }
    return EDDY_OK;
}

/* The order in which a commit's writes enter RocksDB: rows by token (a commit's rows are of one
 * table), state by key. In key order, each memtable insert starts its skip-list search from
 * where the last one ended (RocksDB keeps that "splice") instead of from the top: a batch of
 * thousands of random keys costs a fraction of the comparisons and cache misses. Writes to one
 * key keep their order (a delete and a put of one state key). */

/* The token of a mutation's partition key, as an unsigned key in the store's order (0 when the
 * key cannot be serialized: the write will report it). */
static uint64_t mutation_order(const store_table_t *t, const engine_mutation_t *m, wr_t *vals) {
    const engine_table_t *et = m->table;
    const store_table_info_t *info = store_table_info(t);
    eddy_view_t pk[64];
    size_t offs[64];
    char err[64];
    if (et->npartition > 64 || info->ncolumns != et->ncols) return 0;
    wr_reset(vals);
    for (uint32_t k = 0; k < et->npartition; k++) {
        const engine_val_t *v = m->cols[et->pk[k]];
        offs[k] = vals->len;
        if (!v || v->kind == ENGINE_NULL || engine_store_value(info->columns[et->pk[k]].type, v, vals, err, sizeof err)) return 0;
    }
    if (!wr_ok(vals)) return 0;
    for (uint32_t k = 0; k < et->npartition; k++)
        pk[k] = eddy_view(vals->buf + offs[k], (k + 1 < et->npartition ? offs[k + 1] : vals->len) - offs[k]);
    return (uint64_t)store_token(t, pk) ^ 0x8000000000000000ull;
}

/* Orders rows in ord (true when it could: one table). */
static bool order_rows(ssink_t *s, const engine_commit_t *c, engine_sortkey_t *ord, engine_sortkey_t *tmp, wr_t *vals) {
    if (!c->nmut) return true;
    const engine_table_t *et = c->mut[0].table;
    for (uint32_t i = 1; i < c->nmut; i++)
        if (c->mut[i].table != et) return false;
    char err[256];
    const store_table_t *t = table_for(s, et->keyspace, et->name, err, sizeof err);
    if (!t) return false;
    for (uint32_t i = 0; i < c->nmut; i++) ord[i] = (engine_sortkey_t){mutation_order(t, &c->mut[i], vals), i};
    store_table_release(t);
    engine_sort_keys(ord, tmp, c->nmut);
    return true;
}

static int kv_cmp(const eddy_view_t *a, const eddy_view_t *b) {
    size_t n = EDDY_MIN(a->len, b->len);
    int r = n ? memcmp(a->ptr, b->ptr, n) : 0;
    return r ? r : (a->len > b->len) - (a->len < b->len);
}

/* Orders state writes in ord: by the 8 bytes after the prefix all keys share, then (rarely
 * needed) by the whole key; equal keys keep their order. */
static void order_kv(const engine_commit_t *c, engine_sortkey_t *ord, engine_sortkey_t *tmp) {
    uint32_t n = c->nkv;
    if (!n) return;
    size_t common = c->kv[0].key.len;
    for (uint32_t i = 1; i < n && common; i++) {
        const eddy_view_t *k = &c->kv[i].key;
        size_t j = 0, m = EDDY_MIN(common, k->len);
        while (j < m && k->ptr[j] == c->kv[0].key.ptr[j]) j++;
        common = j;
    }
    for (uint32_t i = 0; i < n; i++) {
        const eddy_view_t *k = &c->kv[i].key;
        uint64_t v = 0;
        for (size_t j = 0; j < 8; j++) v = v << 8 | (common + j < k->len ? k->ptr[common + j] : 0);
        ord[i] = (engine_sortkey_t){v, i};
    }
    engine_sort_keys(ord, tmp, n);
    /* Runs of equal 8-byte keys: insertion sort by the whole key, stable. */
    for (uint32_t i = 1; i < n; i++) {
        engine_sortkey_t x = ord[i];
        uint32_t j = i;
        while (j > 0 && ord[j - 1].key == x.key && kv_cmp(&c->kv[ord[j - 1].idx].key, &c->kv[x.idx].key) > 0) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = x;
    }
}

/* Rows in token order visit the batch's mutations, their column arrays and their values at
 * random, megabytes apart: each first load would miss the cache and stall the thread. Loads are
 * started ahead instead, one level of the chain at a time (a level can only be fetched once the
 * one before it has arrived). */
static void prefetch_rows(const engine_commit_t *c, const engine_sortkey_t *ord, uint32_t i) {
    enum { MUT = 8, COLS = 6, VALS = 4, DATA = 2 };
    if (i + MUT < c->nmut) __builtin_prefetch(&c->mut[ord[i + MUT].idx]);
    if (i + COLS < c->nmut) __builtin_prefetch(c->mut[ord[i + COLS].idx].cols);
    if (i + VALS < c->nmut) {
        const engine_mutation_t *m = &c->mut[ord[i + VALS].idx];
        for (uint32_t k = 0; k < m->table->ncols; k++)
            if (m->cols[k]) __builtin_prefetch(m->cols[k]);
    }
    if (i + DATA < c->nmut) {
        const engine_mutation_t *m = &c->mut[ord[i + DATA].idx];
        for (uint32_t k = 0; k < m->table->ncols; k++) {
            const engine_val_t *v = m->cols[k];
            if (v && v->kind >= ENGINE_TEXT && v->kind <= ENGINE_MAP && v->kind != ENGINE_TIMESTAMP && v->kind != ENGINE_DATE)
                __builtin_prefetch(v->s);
        }
    }
}

static int ss_build(void *ctx, const engine_commit_t *c, void (*bad)(void *, const engine_mutation_t *, const char *),
                    void *arg, void **out, char *errstr, size_t errlen) {
    ssink_t *s = ctx;
    store_thread_bulk(); /* the pipeline thread: this batch's state reads, the next batch's */
    if (c->nmut) tables_check(s);
    store_write_t *w = builder_get(s);
    engine_sortkey_t *ord = eddy_malloc((2 * (size_t)EDDY_MAX(c->nmut, c->nkv) + 2) * sizeof *ord);
    if (!w || !ord) {
        if (w) builder_put(s, w);
        eddy_free(ord);
        return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    }
    int64_t ts = next_ts(s);
    wr_t vals;
    wr_init(&vals, 1024);
    int rc = EDDY_OK;
    engine_sortkey_t *tmp = ord + EDDY_MAX(c->nmut, c->nkv) + 1;
    bool sorted = order_rows(s, c, ord, tmp, &vals);
    table_cache_t tc = {NULL, NULL, ""};
    for (uint32_t i = 0; i < c->nmut && !rc; i++) {
        if (sorted) prefetch_rows(c, ord, i);
        rc = add_mutation(s, w, &c->mut[sorted ? ord[i].idx : i], ts, &vals, bad, arg, &tc);
    }
    if (tc.t) store_table_release(tc.t);
    order_kv(c, ord, tmp);
    for (uint32_t j = 0; j < c->nkv && !rc; j++) {
        const engine_kv_write_t *kv = &c->kv[ord[j].idx];
        rc = kv->is_delete ? store_write_kv_delete(w, kv->key.ptr, kv->key.len)
                           : store_write_kv_put(w, kv->key.ptr, kv->key.len, kv->value.ptr, kv->value.len);
    }
    eddy_free(ord);
    wr_free(&vals);
    if (rc) {
        store_write_reset(w);
        builder_put(s, w);
        return eddy_err(errstr, errlen, rc, "building the batch: %s", eddy_strerror(rc));
    }
    *out = w;
    return EDDY_OK;
}

static int ss_apply(void *ctx, void *built, char *errstr, size_t errlen) {
    ssink_t *s = ctx;
    store_write_t *w = built;
    store_thread_bulk(); /* the commit thread: memtable inserts */
    /* Applied at once, not waiting for the WAL's fsync: a crash may lose the last batches, but
     * then loses their positions with them, and they are applied again from the log. */
    int rc = store_write_apply(w, false, errstr, errlen);
    builder_put(s, w);
    return rc;
}

static void ss_discard(void *ctx, void *built) {
    store_write_reset(built);
    builder_put(ctx, built);
}

static int ss_commit(void *ctx, const engine_commit_t *c, void (*bad)(void *, const engine_mutation_t *, const char *),
                     void *arg, char *errstr, size_t errlen) {
    void *w;
    int rc = ss_build(ctx, c, bad, arg, &w, errstr, errlen);
    return rc ? rc : ss_apply(ctx, w, errstr, errlen);
}

/* ---- reference counts ----------------------------------------------------------------------- */

static int ss_refs_get(void *ctx, const engine_table_t *table, const engine_val_t *const *cols, uint32_t slot, int64_t *count) {
    ssink_t *s = ctx;
    char err[256];
    *count = 0;
    const store_table_t *t = table_for(s, table->keyspace, table->name, err, sizeof err);
    if (!t) return EDDY_OK; /* no table: no row */
    const store_table_info_t *info = store_table_info(t);
    eddy_view_t key[64];
    size_t offs[64];
    wr_t vals;
    wr_init(&vals, 256);
    int rc = table->npk <= 64 && info->ncolumns == table->ncols ? EDDY_OK : EDDY_ERR_INVALID;
    for (uint32_t k = 0; !rc && k < table->npk; k++) {
        offs[k] = vals.len;
        const engine_val_t *v = cols[table->pk[k]];
        if (!v || v->kind == ENGINE_NULL) rc = EDDY_ERR_INVALID;
        else rc = engine_store_value(info->columns[table->pk[k]].type, v, &vals, err, sizeof err);
    }
    if (!rc && !wr_ok(&vals)) rc = EDDY_ERR_NOMEM;
    for (uint32_t k = 0; !rc && k < table->npk; k++)
        key[k] = eddy_view(vals.buf + offs[k], (k + 1 < table->npk ? offs[k + 1] : vals.len) - offs[k]);
    if (!rc) rc = store_refs_get(s->st, t, key, slot, count, err, sizeof err);
    else if (rc != EDDY_ERR_NOMEM) rc = EDDY_OK; /* a key the store cannot hold has no row */
    if (rc) elog_error("engine", "reading a reference count of %s.%s: %s", table->keyspace, table->name, err);
    wr_free(&vals);
    store_table_release(t);
    return rc;
}

/* ---- scans ---------------------------------------------------------------------------------- */

static int ss_scan(void *ctx, const engine_table_t *table, int64_t start, int64_t end, const bool *needed, engine_row_fn fn,
                   void *arg, char *errstr, size_t errlen) {
    ssink_t *s = ctx;
    const store_table_t *t = table_for(s, table->keyspace, table->name, errstr, errlen);
    if (!t) return EDDY_ERR_NOT_FOUND;
    const store_table_info_t *info = store_table_info(t);
    if (info->ncolumns != table->ncols) {
        store_table_release(t);
        return eddy_err(errstr, errlen, EDDY_ERR_CONFLICT, "table %s.%s changed shape", table->keyspace, table->name);
    }
    store_iter_t *it = store_iter_new(s->st);
    engine_val_t *cols = eddy_calloc(table->ncols ? table->ncols : 1, sizeof *cols);
    /* Only the columns the query reads are decoded (a leaf's 1 KB content is skipped). */
    uint8_t *want = needed ? eddy_calloc(table->ncols ? table->ncols : 1, 1) : NULL;
    for (uint32_t c = 0; want && c < table->ncols; c++) want[c] = needed[c];
    arena_t a;
    arena_init(&a, 1 << 14);
    int rc = it && cols ? EDDY_OK : EDDY_ERR_NOMEM;
    store_query_t q = {0};
    q.table = t;
    q.token_lo_set = true;
    q.token_lo = start;
    q.token_lo_inclusive = start == INT64_MIN; /* the first range holds the minimum token */
    q.token_hi_set = true;
    q.token_hi = end;
    q.token_hi_inclusive = true;
    q.no_static_only = true;
    q.columns = want;
    q.bulk = true;
    if (!rc && needed && !want) rc = EDDY_ERR_NOMEM;
    if (!rc) rc = store_iter_start(it, &q, errstr, errlen);
    const store_row_t *row;
    int r = 0;
    while (!rc && (r = store_iter_next(it, &row, errstr, errlen)) == 1) {
        for (uint32_t c = 0; c < table->ncols && !rc; c++) {
            cols[c] = engine_null();
            if (needed && !needed[c]) continue;
            const store_cell_t *cell = &row->cells[c];
            if (!cell->ptr) continue;
            rc = engine_store_read(info->columns[c].type, cell->ptr, cell->len, &a, &cols[c]);
            if (rc == EDDY_ERR_CORRUPT) {
                cols[c] = engine_null(); /* a value the engine cannot read counts as absent */
                rc = EDDY_OK;
            }
        }
        if (!rc) rc = fn(arg, cols);
        arena_reset(&a);
    }
    if (!rc && r < 0) rc = r;
    arena_free(&a);
    eddy_free(cols);
    eddy_free(want);
    store_iter_free(it);
    store_table_release(t);
    return rc;
}

static void ss_bulk(void *ctx, bool on) {
    ssink_t *s = ctx;
    store_bulk_writes(s->st, on);
}

static const engine_sink_ops_t store_sink_ops = {ss_table_get, ss_ddl,     ss_kv_get, ss_kv_scan,  ss_commit, ss_build,
                                              ss_apply,     ss_discard, ss_bulk,   ss_refs_get, ss_scan,
                                              ss_kv_get_many};

int engine_store_sink(void *store, engine_sink_t *out) {
    ssink_t *s = eddy_calloc(1, sizeof *s);
    if (!s) return EDDY_ERR_NOMEM;
    s->st = store;
    pthread_mutex_init(&s->mu, NULL);
    *out = (engine_sink_t){&store_sink_ops, s};
    return EDDY_OK;
}

void engine_store_sink_free(engine_sink_t sink) {
    ssink_t *s = sink.ctx;
    if (!s) return;
    tables_drop(s);
    for (size_t i = 0; i < s->npool; i++) store_write_free(s->pool[i]);
    eddy_free(s->pool);
    eddy_free(s->tables);
    pthread_mutex_destroy(&s->mu);
    eddy_free(s);
}

/* ---- the embedded engine -------------------------------------------------------------------- */

static void embedded_close(void *env, engine_sink_t sink) {
    (void)env;
    engine_store_sink_free(sink);
}

int engine_new(const engine_config_t *cfg, engine_t **out, char *errstr, size_t errlen) {
    engine_backend_t be = {0};
    be.env = cfg->log;
    be.source_open = engine_logsrc_open;
    be.source_close = engine_logsrc_close;
    be.batch_threads = cfg->batch_threads;
    be.progress_interval_ms = cfg->progress_interval_ms;
    be.close = embedded_close;
    if (engine_store_sink(cfg->store, &be.sink) != EDDY_OK) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    int rc = engine_engine_new(&be, out, errstr, errlen);
    if (rc) engine_store_sink_free(be.sink);
    return rc;
}
