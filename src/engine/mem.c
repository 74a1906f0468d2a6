/* The in-memory backend: topics, tables and the key/value area held in hash maps, behind the
 * same source and sink interfaces as the embedded log and store. The engine's unit tests run
 * pipelines on it (including "crashes" at commit boundaries: a clone taken before a failed
 * commit is what a restart would find), and a dry run can check a pipeline without a server. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_int.h"

typedef struct {
    char *key, *value; /* NULL = null */
    int64_t timestamp;
} mem_rec_t;

typedef struct {
    mem_rec_t *recs;
    size_t n, cap;
} mem_part_t;

typedef struct {
    char *name;
    int32_t nparts;
    mem_part_t *parts;
} mem_topic_t;

typedef struct {
    uint8_t *bytes; /* NULL: deleted */
    size_t len;
} mem_blob_t;

typedef struct {
    char *ks;
    engine_table_t *t;
    arena_t arena;
    engine_map_t rows;  /* encoded pk -> mem_blob_t * (encoded row: one value per column) */
    engine_map_t refs;  /* encoded pk -> mem_blob_t * (reference counts: n x (u32 slot, u64 count)) */
} mem_table_t;

typedef struct mem_watch {
    struct mem_watch *next;
    char *topic;
    int32_t partition;
    int64_t offset;
    void (*fn)(void *);
    void *arg;
} mem_watch_t;

struct engine_mem {
    arena_t arena;
    pthread_mutex_t tlock; /* topics and watches (the pipeline thread reads while tests append) */
    mem_watch_t *watches;
    mem_topic_t *topics;
    size_t ntopics;
    mem_table_t **tables;
    size_t ntables;
    engine_map_t kv;    /* key -> mem_blob_t * */
    uint64_t kv_single, kv_batched; /* state reads: one key at a time, and keys read in batches */
    int fail_after;
    pthread_mutex_t lock;
};

engine_mem_t *engine_mem_new(void) {
    engine_mem_t *m = eddy_calloc(1, sizeof *m);
    if (!m) return NULL;
    arena_init(&m->arena, 1 << 14);
    engine_map_init(&m->kv, &m->arena);
    m->fail_after = -1;
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->tlock, NULL);
    return m;
}

static void blob_free_all(engine_map_t *map) {
    for (uint32_t i = 0; i < map->cap; i++)
        if (map->slots[i].key && map->slots[i].val) {
            mem_blob_t *b = map->slots[i].val;
            eddy_free(b->bytes);
            eddy_free(b);
        }
    engine_map_free(map);
}

void engine_mem_free(engine_mem_t *m) {
    if (!m) return;
    for (size_t i = 0; i < m->ntopics; i++) {
        for (int32_t p = 0; p < m->topics[i].nparts; p++) {
            mem_part_t *mp = &m->topics[i].parts[p];
            for (size_t r = 0; r < mp->n; r++) {
                eddy_free(mp->recs[r].key);
                eddy_free(mp->recs[r].value);
            }
            eddy_free(mp->recs);
        }
        eddy_free(m->topics[i].parts);
        eddy_free(m->topics[i].name);
    }
    eddy_free(m->topics);
    for (size_t i = 0; i < m->ntables; i++) {
        blob_free_all(&m->tables[i]->rows);
        blob_free_all(&m->tables[i]->refs);
        arena_free(&m->tables[i]->arena);
        eddy_free(m->tables[i]);
    }
    eddy_free(m->tables);
    blob_free_all(&m->kv);
    arena_free(&m->arena);
    while (m->watches) {
        mem_watch_t *w = m->watches;
        m->watches = w->next;
        eddy_free(w->topic);
        eddy_free(w);
    }
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->tlock);
    eddy_free(m);
}

static mem_topic_t *topic_find(engine_mem_t *m, const char *name) {
    for (size_t i = 0; i < m->ntopics; i++)
        if (!strcmp(m->topics[i].name, name)) return &m->topics[i];
    return NULL;
}

int engine_mem_create_topic(engine_mem_t *m, const char *topic, int32_t partitions) {
    if (topic_find(m, topic)) return EDDY_ERR_EXISTS;
    mem_topic_t *t = eddy_realloc(m->topics, (m->ntopics + 1) * sizeof *t);
    if (!t) return EDDY_ERR_NOMEM;
    m->topics = t;
    t = &m->topics[m->ntopics];
    t->name = eddy_strdup(topic);
    t->nparts = partitions;
    t->parts = eddy_calloc((size_t)partitions, sizeof *t->parts);
    if (!t->name || !t->parts) return EDDY_ERR_NOMEM;
    m->ntopics++;
    return EDDY_OK;
}

static int64_t append_locked(engine_mem_t *m, const char *topic, int32_t partition, const char *key, const char *value);

int64_t engine_mem_append(engine_mem_t *m, const char *topic, int32_t partition, const char *key, const char *value) {
    pthread_mutex_lock(&m->tlock);
    int64_t o = append_locked(m, topic, partition, key, value);
    /* Fire the watches this record satisfies (outside nothing: fn only signals). */
    mem_watch_t **pw = &m->watches;
    while (o >= 0 && *pw) {
        mem_watch_t *w = *pw;
        if (w->partition == partition && !strcmp(w->topic, topic) && w->offset <= o) {
            *pw = w->next;
            w->fn(w->arg);
            eddy_free(w->topic);
            eddy_free(w);
        } else {
            pw = &w->next;
        }
    }
    pthread_mutex_unlock(&m->tlock);
    return o;
}

static int64_t append_locked(engine_mem_t *m, const char *topic, int32_t partition, const char *key, const char *value) {
    mem_topic_t *t = topic_find(m, topic);
    if (!t && engine_mem_create_topic(m, topic, 1) == EDDY_OK) t = topic_find(m, topic);
    if (!t || partition < 0 || partition >= t->nparts) return -1;
    mem_part_t *p = &t->parts[partition];
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        mem_rec_t *r = eddy_realloc(p->recs, cap * sizeof *r);
        if (!r) return -1;
        p->recs = r;
        p->cap = cap;
    }
    mem_rec_t *r = &p->recs[p->n];
    r->key = key ? eddy_strdup(key) : NULL;
    r->value = value ? eddy_strdup(value) : NULL;
    r->timestamp = 1700000000000 + (int64_t)p->n;
    return (int64_t)p->n++;
}

/* ---- source --------------------------------------------------------------------------------- */

static int src_partitions(void *ctx, const char *topic, int32_t *count, char *errstr, size_t errlen) {
    engine_mem_t *m = ctx;
    pthread_mutex_lock(&m->tlock);
    mem_topic_t *t = topic_find(m, topic);
    if (t) *count = t->nparts;
    pthread_mutex_unlock(&m->tlock);
    if (!t) return eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "unknown topic '%s'", topic);
    return EDDY_OK;
}

static int src_bounds(void *ctx, const char *topic, int32_t partition, int64_t *start, int64_t *hwm) {
    engine_mem_t *m = ctx;
    pthread_mutex_lock(&m->tlock);
    mem_topic_t *t = topic_find(m, topic);
    bool ok = t && partition < t->nparts;
    if (ok) {
        *start = 0;
        *hwm = (int64_t)t->parts[partition].n;
    }
    pthread_mutex_unlock(&m->tlock);
    return ok ? EDDY_OK : EDDY_ERR_NOT_FOUND;
}

static int src_read(void *ctx, const char *topic, int32_t partition, int64_t offset, uint32_t max_records,
                    engine_record_fn fn, void *arg, int64_t *next, char *errstr, size_t errlen) {
    engine_mem_t *m = ctx;
    pthread_mutex_lock(&m->tlock);
    mem_topic_t *t = topic_find(m, topic);
    if (!t || partition >= t->nparts) {
        pthread_mutex_unlock(&m->tlock);
        return eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "unknown topic '%s'", topic);
    }
    mem_part_t *p = &t->parts[partition];
    int64_t end = (int64_t)p->n;
    pthread_mutex_unlock(&m->tlock);
    *next = offset;
    for (int64_t o = offset; o < end && (uint32_t)(o - offset) < max_records; o++) {
        /* Records never move once appended, but the array may be reallocated: copy the entry. */
        pthread_mutex_lock(&m->tlock);
        mem_rec_t copy = p->recs[o];
        pthread_mutex_unlock(&m->tlock);
        mem_rec_t *r = &copy;
        engine_record_t rec = {0};
        rec.key = eddy_view_str(r->key);
        rec.key_null = r->key == NULL;
        rec.value = eddy_view_str(r->value);
        rec.value_null = r->value == NULL;
        rec.topic = eddy_view_str(topic);
        rec.partition = partition;
        rec.offset = o;
        rec.timestamp = r->timestamp;
        int rc = fn(arg, &rec);
        *next = o + 1;
        if (rc) return rc;
    }
    return EDDY_OK;
}

static int src_watch(void *ctx, const char *topic, int32_t partition, int64_t offset, void (*fn)(void *), void *arg,
                     void **handle) {
    engine_mem_t *m = ctx;
    *handle = NULL;
    pthread_mutex_lock(&m->tlock);
    mem_topic_t *t = topic_find(m, topic);
    int rc = EDDY_OK;
    if (t && partition < t->nparts && offset >= (int64_t)t->parts[partition].n) {
        mem_watch_t *w = eddy_calloc(1, sizeof *w);
        if (w && (w->topic = eddy_strdup(topic))) {
            *w = (mem_watch_t){m->watches, w->topic, partition, offset, fn, arg};
            m->watches = w;
            *handle = w;
        } else {
            eddy_free(w);
            rc = EDDY_ERR_NOMEM;
        }
    }
    pthread_mutex_unlock(&m->tlock);
    return rc;
}

static void src_unwatch(void *ctx, void *handle) {
    engine_mem_t *m = ctx;
    pthread_mutex_lock(&m->tlock);
    for (mem_watch_t **pw = &m->watches; *pw; pw = &(*pw)->next)
        if (*pw == handle) {
            mem_watch_t *w = *pw;
            *pw = w->next;
            eddy_free(w->topic);
            eddy_free(w);
            break;
        }
    pthread_mutex_unlock(&m->tlock);
}

static const engine_source_ops_t mem_source_ops = {src_partitions, src_bounds, src_read, src_watch, src_unwatch};

engine_source_t engine_mem_source(engine_mem_t *m) { return (engine_source_t){&mem_source_ops, m}; }

/* ---- tables --------------------------------------------------------------------------------- */

static mem_table_t *table_find(engine_mem_t *m, const char *ks, const char *name) {
    for (size_t i = 0; i < m->ntables; i++)
        if (!strcmp(m->tables[i]->ks, ks) && !strcmp(m->tables[i]->t->name, name)) return m->tables[i];
    return NULL;
}

static engine_table_t *table_copy(arena_t *a, const engine_table_t *src) {
    engine_table_t *t = arena_alloc(a, sizeof *t);
    if (!t) return NULL;
    *t = *src;
    t->keyspace = arena_strndup(a, src->keyspace, strlen(src->keyspace));
    t->name = arena_strndup(a, src->name, strlen(src->name));
    t->cols = arena_alloc(a, (src->ncols ? src->ncols : 1) * sizeof *t->cols);
    t->pk = arena_alloc(a, (src->npk ? src->npk : 1) * sizeof *t->pk);
    if (!t->keyspace || !t->name || !t->cols || !t->pk) return NULL;
    for (uint32_t i = 0; i < src->ncols; i++) {
        t->cols[i] = src->cols[i];
        if (!(t->cols[i].name = arena_strndup(a, src->cols[i].name, strlen(src->cols[i].name)))) return NULL;
    }
    if (src->npk) memcpy(t->pk, src->pk, src->npk * sizeof *t->pk);
    return t;
}

int engine_mem_define_table(engine_mem_t *m, const char *ks, const engine_table_t *t) {
    if (table_find(m, ks, t->name)) return EDDY_OK;
    mem_table_t *mt = eddy_calloc(1, sizeof *mt);
    if (!mt) return EDDY_ERR_NOMEM;
    arena_init(&mt->arena, 4096);
    engine_map_init(&mt->rows, &mt->arena);
    engine_map_init(&mt->refs, &mt->arena);
    mt->t = table_copy(&mt->arena, t);
    mt->ks = mt->t ? mt->t->keyspace : NULL;
    mem_table_t **tables = eddy_realloc(m->tables, (m->ntables + 1) * sizeof *tables);
    if (!mt->t || !tables) {
        arena_free(&mt->arena);
        eddy_free(mt);
        return EDDY_ERR_NOMEM;
    }
    m->tables = tables;
    m->tables[m->ntables++] = mt;
    return EDDY_OK;
}

static int sink_table_get(void *ctx, const char *ks, const char *table, arena_t *arena, engine_table_t **out,
                          char *errstr, size_t errlen) {
    engine_mem_t *m = ctx;
    mem_table_t *mt = table_find(m, ks, table);
    if (!mt) return eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "unknown table %s.%s", ks, table);
    *out = table_copy(arena, mt->t);
    return *out ? EDDY_OK : EDDY_ERR_NOMEM;
}

/* The memory backend cannot run CQL: its tables come from engine_mem_define_table (the planner
 * defines the tables a pipeline file creates, through the same path). */
static int sink_ddl(void *ctx, const struct sql_stmt *stmt, const engine_table_t *table, char *errstr, size_t errlen) {
    (void)stmt; (void)errstr; (void)errlen;
    return table ? engine_mem_define_table(ctx, table->keyspace, table) : EDDY_OK;
}

static int sink_kv_get(void *ctx, eddy_view_t key, wr_t *out, bool *found) {
    engine_mem_t *m = ctx;
    pthread_mutex_lock(&m->lock);
    m->kv_single++;
    mem_blob_t *b = engine_map_get(&m->kv, key.ptr, key.len);
    *found = b && b->bytes;
    if (*found) wr_bytes(out, b->bytes, b->len);
    pthread_mutex_unlock(&m->lock);
    return wr_ok(out) ? EDDY_OK : EDDY_ERR_NOMEM;
}

static int sink_kv_get_many(void *ctx, const eddy_view_t *keys, uint32_t n, wr_t *out, size_t *offs, size_t *lens,
                            bool *found) {
    engine_mem_t *m = ctx;
    pthread_mutex_lock(&m->lock);
    m->kv_batched += n;
    for (uint32_t i = 0; i < n; i++) {
        mem_blob_t *b = engine_map_get(&m->kv, keys[i].ptr, keys[i].len);
        found[i] = b && b->bytes;
        offs[i] = out->len;
        lens[i] = found[i] ? b->len : 0;
        if (found[i]) wr_bytes(out, b->bytes, b->len);
    }
    pthread_mutex_unlock(&m->lock);
    return wr_ok(out) ? EDDY_OK : EDDY_ERR_NOMEM;
}

void engine_mem_kv_reads(engine_mem_t *m, uint64_t *single, uint64_t *batched) {
    pthread_mutex_lock(&m->lock);
    *single = m->kv_single;
    *batched = m->kv_batched;
    pthread_mutex_unlock(&m->lock);
}

typedef struct {
    const uint8_t *k;
    uint32_t kl;
    mem_blob_t *b;
} kv_item_t;

static int kv_item_cmp(const void *x, const void *y) {
    const kv_item_t *a = x, *b = y;
    int c = memcmp(a->k, b->k, EDDY_MIN(a->kl, b->kl));
    return c ? c : (a->kl > b->kl) - (a->kl < b->kl);
}

static int sink_kv_scan(void *ctx, eddy_view_t prefix, int (*fn)(void *, eddy_view_t, eddy_view_t), void *arg) {
    engine_mem_t *m = ctx;
    kv_item_t *items = eddy_malloc((m->kv.count + 1) * sizeof *items);
    if (!items) return EDDY_ERR_NOMEM;
    size_t n = 0;
    for (uint32_t i = 0; i < m->kv.cap; i++) {
        engine_map_entry_t *e = &m->kv.slots[i];
        mem_blob_t *b = e->key ? e->val : NULL;
        if (!b || !b->bytes || e->klen < prefix.len || memcmp(e->key, prefix.ptr, prefix.len)) continue;
        items[n++] = (kv_item_t){e->key, e->klen, b};
    }
    qsort(items, n, sizeof *items, kv_item_cmp);
    int rc = EDDY_OK;
    for (size_t i = 0; i < n && !rc; i++) rc = fn(arg, eddy_view(items[i].k, items[i].kl), eddy_view(items[i].b->bytes, items[i].b->len));
    eddy_free(items);
    return rc > 0 ? EDDY_OK : rc;
}

static int blob_set(engine_map_t *map, eddy_view_t key, const void *val, size_t len, bool del) {
    bool created;
    engine_map_entry_t *e = engine_map_upsert(map, key.ptr, key.len, &created);
    if (!e) return EDDY_ERR_NOMEM;
    mem_blob_t *b = e->val;
    if (!b) {
        if (!(b = eddy_calloc(1, sizeof *b))) return EDDY_ERR_NOMEM;
        e->val = b;
    }
    eddy_free(b->bytes);
    b->bytes = NULL;
    b->len = 0;
    if (del) return EDDY_OK;
    if (!(b->bytes = eddy_memdup(len ? val : "", len ? len : 1))) return EDDY_ERR_NOMEM;
    b->len = len;
    return EDDY_OK;
}

/* Checks that a value can be stored in a column the way the store would (kind and integer
 * width); returns a reason or NULL. */
static const char *value_unfit(const engine_col_t *c, const engine_val_t *v) {
    if (v->kind == ENGINE_NULL || c->type.kind == ENGINE_ANY) return NULL;
    if (v->kind != c->type.kind) return "wrong type";
    if (v->kind == ENGINE_INT) {
        uint8_t b = c->type.bits;
        if ((b == 32 && (v->i < INT32_MIN || v->i > INT32_MAX)) || (b == 16 && (v->i < INT16_MIN || v->i > INT16_MAX)) ||
            (b == 8 && (v->i < INT8_MIN || v->i > INT8_MAX)))
            return "integer out of range";
    }
    return NULL;
}

/* The reference count of a row in slot (0 when none). */
static int64_t refs_of(mem_table_t *mt, eddy_view_t key, uint32_t slot) {
    mem_blob_t *b = engine_map_get(&mt->refs, key.ptr, key.len);
    for (size_t o = 0; b && b->bytes && o + 12 <= b->len; o += 12)
        if (load_u32(b->bytes + o) == slot) return (int64_t)load_u64(b->bytes + o + 4);
    return 0;
}

static int refs_add(mem_table_t *mt, eddy_view_t key, uint32_t slot, int64_t delta) {
    mem_blob_t *b = engine_map_get(&mt->refs, key.ptr, key.len);
    wr_t w;
    wr_init(&w, 64);
    bool found = false;
    for (size_t o = 0; b && b->bytes && o + 12 <= b->len; o += 12) {
        uint32_t sl = load_u32(b->bytes + o);
        int64_t n = (int64_t)load_u64(b->bytes + o + 4);
        if (sl == slot) n += delta, found = true;
        wr_u32(&w, sl);
        wr_u64(&w, (uint64_t)n);
    }
    if (!found) {
        wr_u32(&w, slot);
        wr_u64(&w, (uint64_t)delta);
    }
    int rc = wr_ok(&w) ? blob_set(&mt->refs, key, w.buf, w.len, false) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}

static int apply_mutation(engine_mem_t *m, const engine_mutation_t *mu, void (*bad)(void *, const engine_mutation_t *, const char *),
                          void *arg) {
    const engine_table_t *t = mu->table;
    mem_table_t *mt = table_find(m, t->keyspace, t->name);
    if (!mt) {
        bad(arg, mu, "no such table");
        return EDDY_OK;
    }
    wr_t key, row;
    wr_init(&key, 64);
    wr_init(&row, 256);
    for (uint32_t i = 0; i < t->npk; i++) engine_val_encode(&key, mu->cols[t->pk[i]]);
    eddy_view_t kv = eddy_view(key.buf, key.len);
    int rc = EDDY_OK;
    /* The count follows what was derived, also when the values cannot be written. */
    if (!mu->is_delete && mu->refs && (rc = refs_add(mt, kv, mu->ref_slot, mu->refs))) goto out;
    if (mu->refs_only) goto out;
    for (uint32_t i = 0; i < t->ncols; i++) {
        const char *why = mu->cols[i] ? value_unfit(&t->cols[i], mu->cols[i]) : NULL;
        if (why && !bad) {
            rc = EDDY_ERR_INVALID;
            goto out;
        }
        if (why) {
            char msg[160];
            snprintf(msg, sizeof msg, "column %s: %s", t->cols[i].name, why);
            bad(arg, mu, msg);
            goto out;
        }
    }
    if (mu->is_delete) {
        rc = blob_set(&mt->rows, kv, NULL, 0, true);
        if (!rc) rc = blob_set(&mt->refs, kv, NULL, 0, true);
        goto out;
    }
    /* Upsert: columns not written keep their old values. */
    mem_blob_t *old = engine_map_get(&mt->rows, key.buf, key.len);
    arena_t a;
    arena_init(&a, 1024);
    engine_val_t *prev = eddy_calloc(t->ncols, sizeof *prev);
    if (!prev) rc = EDDY_ERR_NOMEM;
    if (!rc && old && old->bytes) {
        rd_t r = rd_init(old->bytes, old->len);
        for (uint32_t i = 0; i < t->ncols && !rc; i++) rc = engine_val_decode(&r, &a, &prev[i]);
    }
    for (uint32_t i = 0; i < t->ncols && !rc; i++) engine_val_encode(&row, mu->cols[i] ? mu->cols[i] : &prev[i]);
    if (!rc) rc = blob_set(&mt->rows, eddy_view(key.buf, key.len), row.buf, row.len, false);
    eddy_free(prev);
    arena_free(&a);
out:
    wr_free(&key);
    wr_free(&row);
    return rc;
}

static int sink_commit(void *ctx, const engine_commit_t *c, void (*bad)(void *, const engine_mutation_t *, const char *),
                       void *arg, char *errstr, size_t errlen) {
    engine_mem_t *m = ctx;
    pthread_mutex_lock(&m->lock);
    int rc = EDDY_OK;
    if (m->fail_after == 0) {
        pthread_mutex_unlock(&m->lock);
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "injected commit failure");
    }
    if (m->fail_after > 0) m->fail_after--;
    for (uint32_t i = 0; i < c->nmut && !rc; i++) rc = apply_mutation(m, &c->mut[i], bad, arg);
    for (uint32_t i = 0; i < c->nkv && !rc; i++)
        rc = blob_set(&m->kv, c->kv[i].key, c->kv[i].value.ptr, c->kv[i].value.len, c->kv[i].is_delete);
    pthread_mutex_unlock(&m->lock);
    return rc ? eddy_err(errstr, errlen, rc, "commit failed: %s", eddy_strerror(rc)) : EDDY_OK;
}

static int sink_scan(void *ctx, const engine_table_t *table, int64_t start, int64_t end, const bool *needed,
                     engine_row_fn fn, void *arg, char *errstr, size_t errlen) {
    (void)needed;
    engine_mem_t *m = ctx;
    mem_table_t *mt = table_find(m, table->keyspace, table->name);
    if (!mt) return eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "unknown table %s.%s", table->keyspace, table->name);
    arena_t a;
    arena_init(&a, 4096);
    engine_val_t *cols = eddy_calloc(mt->t->ncols ? mt->t->ncols : 1, sizeof *cols);
    int rc = cols ? EDDY_OK : EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < mt->rows.cap && !rc; i++) {
        engine_map_entry_t *e = &mt->rows.slots[i];
        mem_blob_t *b = e->key ? e->val : NULL;
        if (!b || !b->bytes) continue;
        /* The token of the partition key: Murmur3 of its encoded bytes (a stand-in for the
         * store's serialization; only the split matters here). */
        int64_t tok = murmur3_token(e->key, e->klen);
        if (!(tok > start && tok <= end) && !(start == INT64_MIN && tok == INT64_MIN)) continue;
        rd_t r = rd_init(b->bytes, b->len);
        for (uint32_t c = 0; c < mt->t->ncols && !rc; c++) rc = engine_val_decode(&r, &a, &cols[c]);
        if (!rc) rc = fn(arg, cols);
        arena_reset(&a);
    }
    eddy_free(cols);
    arena_free(&a);
    return rc ? eddy_err(errstr, errlen, rc, "scan failed: %s", eddy_strerror(rc)) : EDDY_OK;
}

static int sink_refs_get(void *ctx, const engine_table_t *table, const engine_val_t *const *cols, uint32_t slot,
                         int64_t *count) {
    engine_mem_t *m = ctx;
    *count = 0;
    wr_t key;
    wr_init(&key, 64);
    for (uint32_t i = 0; i < table->npk; i++) engine_val_encode(&key, cols[table->pk[i]]);
    int rc = wr_ok(&key) ? EDDY_OK : EDDY_ERR_NOMEM;
    pthread_mutex_lock(&m->lock);
    mem_table_t *mt = table_find(m, table->keyspace, table->name);
    if (!rc && mt) *count = refs_of(mt, eddy_view(key.buf, key.len), slot);
    pthread_mutex_unlock(&m->lock);
    wr_free(&key);
    return rc;
}

static const engine_sink_ops_t mem_sink_ops = {sink_table_get, sink_ddl, sink_kv_get, sink_kv_scan,  sink_commit, NULL,
                                            NULL,           NULL,     NULL,        sink_refs_get, sink_scan,
                                            sink_kv_get_many};

engine_sink_t engine_mem_sink(engine_mem_t *m) { return (engine_sink_t){&mem_sink_ops, m}; }

void engine_mem_fail_commit_after(engine_mem_t *m, int n) { m->fail_after = n; }

/* ---- inspection ----------------------------------------------------------------------------- */

static int str_cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

void engine_mem_dump_table(engine_mem_t *m, const char *ks, const char *table, wr_t *w) {
    mem_table_t *mt = table_find(m, ks, table);
    if (!mt) return;
    char **lines = eddy_calloc(mt->rows.count + 1, sizeof *lines);
    size_t n = 0;
    arena_t a;
    arena_init(&a, 1024);
    for (uint32_t i = 0; lines && i < mt->rows.cap; i++) {
        engine_map_entry_t *e = &mt->rows.slots[i];
        mem_blob_t *b = e->key ? e->val : NULL;
        if (!b || !b->bytes) continue;
        wr_t line;
        wr_init(&line, 128);
        rd_t r = rd_init(b->bytes, b->len);
        for (uint32_t c = 0; c < mt->t->ncols; c++) {
            engine_val_t v;
            if (engine_val_decode(&r, &a, &v)) break;
            if (c) wr_u8(&line, '|');
            wr_str(&line, mt->t->cols[c].name);
            wr_u8(&line, '=');
            engine_val_to_json(&line, &v);
        }
        wr_u8(&line, 0);
        lines[n++] = (char *)wr_steal(&line, NULL);
        arena_reset(&a);
    }
    if (lines) qsort(lines, n, sizeof *lines, str_cmp);
    for (size_t i = 0; i < n; i++) {
        wr_str(w, lines[i]);
        wr_u8(w, '\n');
        eddy_free(lines[i]);
    }
    eddy_free(lines);
    arena_free(&a);
}

size_t engine_mem_table_rows(engine_mem_t *m, const char *ks, const char *table) {
    mem_table_t *mt = table_find(m, ks, table);
    size_t n = 0;
    for (uint32_t i = 0; mt && i < mt->rows.cap; i++) {
        mem_blob_t *b = mt->rows.slots[i].key ? mt->rows.slots[i].val : NULL;
        n += b && b->bytes;
    }
    return n;
}

static int blobs_copy(engine_map_t *dst, const engine_map_t *src) {
    for (uint32_t i = 0; i < src->cap; i++) {
        const engine_map_entry_t *e = &src->slots[i];
        mem_blob_t *b = e->key ? e->val : NULL;
        if (!b || !b->bytes) continue;
        int rc = blob_set(dst, eddy_view(e->key, e->klen), b->bytes, b->len, false);
        if (rc) return rc;
    }
    return EDDY_OK;
}

engine_mem_t *engine_mem_clone(engine_mem_t *m) {
    engine_mem_t *c = engine_mem_new();
    if (!c) return NULL;
    int rc = EDDY_OK;
    for (size_t i = 0; i < m->ntopics && !rc; i++) {
        const mem_topic_t *t = &m->topics[i];
        rc = engine_mem_create_topic(c, t->name, t->nparts);
        for (int32_t p = 0; p < t->nparts && !rc; p++)
            for (size_t r = 0; r < t->parts[p].n && !rc; r++)
                if (engine_mem_append(c, t->name, p, t->parts[p].recs[r].key, t->parts[p].recs[r].value) < 0)
                    rc = EDDY_ERR_NOMEM;
    }
    for (size_t i = 0; i < m->ntables && !rc; i++) {
        rc = engine_mem_define_table(c, m->tables[i]->ks, m->tables[i]->t);
        if (!rc) rc = blobs_copy(&c->tables[c->ntables - 1]->rows, &m->tables[i]->rows);
        if (!rc) rc = blobs_copy(&c->tables[c->ntables - 1]->refs, &m->tables[i]->refs);
    }
    if (!rc) rc = blobs_copy(&c->kv, &m->kv);
    if (rc) {
        engine_mem_free(c);
        return NULL;
    }
    return c;
}

int engine_mem_insert_json(engine_mem_t *m, const char *ks, const char *table, const char *json) {
    mem_table_t *mt = table_find(m, ks, table);
    if (!mt) return EDDY_ERR_NOT_FOUND;
    json_doc_t doc;
    json_doc_init(&doc);
    arena_t a;
    arena_init(&a, 1024);
    const engine_table_t *t = mt->t;
    const engine_val_t **cols = eddy_calloc(t->ncols, sizeof *cols);
    engine_val_t *vals = eddy_calloc(t->ncols, sizeof *vals);
    int rc = cols && vals ? json_parse(&doc, json, strlen(json)) : EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < t->ncols && !rc; i++) {
        int64_t node = json_object_get(&doc, 0, t->cols[i].name, strlen(t->cols[i].name));
        if (node < 0) continue;
        rc = engine_val_from_json_typed(&a, &doc, (uint32_t)node, t->cols[i].type, &vals[i], NULL, 0);
        cols[i] = &vals[i];
    }
    if (!rc) {
        engine_mutation_t mu = {t, false, cols, 0, 0, false, 0, 0};
        rc = apply_mutation(m, &mu, NULL, NULL);
    }
    eddy_free(cols);
    eddy_free(vals);
    arena_free(&a);
    json_doc_free(&doc);
    return rc;
}
