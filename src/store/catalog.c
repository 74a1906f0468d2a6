/* The catalog: persisted records (one JSON definition per keyspace, table and type in the
 * schema column family), immutable snapshots built from them, lookups, and schema-change
 * listeners. DDL (catalog_ddl.c) edits records and swaps in a new snapshot; readers take a
 * reference to a snapshot and never see a half-applied change. */
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"

/* ---- snapshots ---- */

store_schema_t *store_schema_keep(store_schema_t *s) {
    if (s) __atomic_fetch_add(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

static void schema_free(store_schema_t *s) {
    for (size_t i = 0; i < s->nks; i++) {
        store_ks_t *k = s->ks[i];
        for (size_t j = 0; j < k->ntables; j++) store_table_release(k->tables[j]);
        for (size_t j = 0; j < k->ntypes; j++) store_type_release(k->types[j].type);
        eddy_free(k->tables);
        eddy_free(k->types);
        eddy_free(k->def_json);
    }
    eddy_free(s->ks);
    eddy_free(s->by_id);
    arena_free(&s->arena);
    eddy_free(s);
}

void store_schema_release(store_schema_t *s) {
    if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) schema_free(s);
}

store_schema_t *store_schema_get(store_t *st) {
    pthread_mutex_lock(&st->cat.snap_lock);
    store_schema_t *s = store_schema_keep(st->cat.current);
    pthread_mutex_unlock(&st->cat.snap_lock);
    return s;
}

void store_schema_version(const store_schema_t *s, uint8_t uuid[16]) { memcpy(uuid, s->version, 16); }
uint64_t store_schema_generation(const store_schema_t *s) { return s->generation; }

size_t store_schema_keyspace_count(const store_schema_t *s) { return s->nks; }

const store_keyspace_info_t *store_schema_keyspace_at(const store_schema_t *s, size_t i) {
    return i < s->nks ? &s->ks[i]->info : NULL;
}

static store_ks_t *find_ks(const store_schema_t *s, const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < s->nks; i++)
        if (!strcmp(s->ks[i]->info.name, name)) return s->ks[i];
    return NULL;
}

const store_keyspace_info_t *store_schema_keyspace(const store_schema_t *s, const char *name) {
    store_ks_t *k = find_ks(s, name);
    return k ? &k->info : NULL;
}

const store_table_t *store_schema_table_at(const store_schema_t *s, const char *keyspace, size_t i) {
    store_ks_t *k = find_ks(s, keyspace);
    return k && i < k->ntables ? k->tables[i] : NULL;
}

const store_table_t *store_schema_table(const store_schema_t *s, const char *keyspace, const char *name) {
    store_ks_t *k = find_ks(s, keyspace);
    if (!k || !name) return NULL;
    size_t lo = 0, hi = k->ntables;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(k->tables[mid]->info.name, name);
        if (c == 0) return k->tables[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const store_udt_info_t *store_schema_type_at(const store_schema_t *s, const char *keyspace, size_t i) {
    store_ks_t *k = find_ks(s, keyspace);
    return k && i < k->ntypes ? &k->types[i] : NULL;
}

const store_udt_info_t *store_schema_type(const store_schema_t *s, const char *keyspace, const char *name) {
    store_ks_t *k = find_ks(s, keyspace);
    if (!k || !name) return NULL;
    for (size_t i = 0; i < k->ntypes; i++)
        if (!strcmp(k->types[i].name, name)) return &k->types[i];
    return NULL;
}

const store_table_t *store_schema_table_by_id(const store_schema_t *s, uint32_t id) {
    size_t lo = 0, hi = s->nby_id;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->by_id[mid]->info.id == id) return s->by_id[mid];
        if (s->by_id[mid]->info.id < id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* ---- tables ---- */

const store_table_t *store_table_keep(const store_table_t *t) {
    if (t) __atomic_fetch_add(&((store_table_t *)t)->refs, 1, __ATOMIC_RELAXED);
    return t;
}

void store_table_release(const store_table_t *t) {
    store_table_t *m = (store_table_t *)t;
    if (m && __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0) store_table_free_(m);
}

const store_table_info_t *store_table_info(const store_table_t *t) { return &t->info; }

int store_table_column(const store_table_t *t, const char *name, size_t len) {
    for (size_t i = 0; i < t->info.ncolumns; i++)
        if (strlen(t->info.columns[i].name) == len && !memcmp(t->info.columns[i].name, name, len)) return (int)i;
    return -1;
}

int store_table_lookup(store_t *st, const char *keyspace, const char *name, const store_table_t **out, char *errstr,
                       size_t errlen) {
    store_schema_t *s = store_schema_get(st);
    int rc = EDDY_OK;
    if (!find_ks(s, keyspace)) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Keyspace %s does not exist", keyspace ? keyspace : "");
    } else {
        const store_table_t *t = store_schema_table(s, keyspace, name);
        if (!t) rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "unconfigured table %s", name ? name : "");
        else *out = store_table_keep(t);
    }
    store_schema_release(s);
    return rc;
}

/* ---- building a snapshot from records ---- */

static int ks_cmp(const void *a, const void *b) {
    return strcmp((*(store_ks_t *const *)a)->info.name, (*(store_ks_t *const *)b)->info.name);
}
static int table_cmp(const void *a, const void *b) {
    return strcmp((*(store_table_t *const *)a)->info.name, (*(store_table_t *const *)b)->info.name);
}
static int table_id_cmp(const void *a, const void *b) {
    uint32_t x = (*(store_table_t *const *)a)->info.id, y = (*(store_table_t *const *)b)->info.id;
    return x < y ? -1 : x > y;
}
static int udt_cmp(const void *a, const void *b) {
    return strcmp(((const store_udt_info_t *)a)->name, ((const store_udt_info_t *)b)->name);
}

static bool has_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static int build_types(store_schema_t *s, store_ks_t *k, store_rec_t *recs, size_t n, char *errstr, size_t errlen) {
    size_t total = 0;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "y/%s/", k->info.name);
    for (size_t i = 0; i < n; i++)
        if (has_prefix(recs[i].key, prefix)) total++;
    k->types = eddy_calloc(total ? total : 1, sizeof *k->types);
    if (!k->types) return EDDY_ERR_NOMEM;
    bool *done = eddy_calloc(n ? n : 1, sizeof *done);
    if (!done) return EDDY_ERR_NOMEM;
    uint64_t h = 0;
    int rc = EDDY_OK;
    /* UDTs may use each other: build those whose field types resolve, until none is left */
    for (bool progress = true; progress && k->ntypes < total;) {
        progress = false;
        for (size_t i = 0; i < n && rc == EDDY_OK; i++) {
            if (done[i] || !has_prefix(recs[i].key, prefix)) continue;
            store_udef_t d;
            if (store_udef_parse(recs[i].json, &d)) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt type definition %s", recs[i].key);
                break;
            }
            const store_type_t **ft = eddy_calloc(d.n ? d.n : 1, sizeof *ft);
            bool ok = ft != NULL;
            for (size_t f = 0; ok && f < d.n; f++)
                ok = store_type_parse(s, d.keyspace, d.types[f], strlen(d.types[f]), &ft[f], NULL, 0) == EDDY_OK;
            if (ok) {
                const store_type_t *u =
                    store_type_udt(d.keyspace, d.name, (const char *const *)d.fields, ft, d.n, false);
                if (!u) rc = EDDY_ERR_NOMEM;
                else {
                    store_udt_info_t *ui = &k->types[k->ntypes++];
                    ui->keyspace = u->keyspace;
                    ui->name = u->name;
                    ui->type = u;
                    done[i] = true;
                    progress = true;
                    h = hash64(recs[i].json, strlen(recs[i].json)) ^ (h * 31);
                }
            }
            for (size_t f = 0; ft && f < d.n; f++) store_type_release(ft[f]);
            eddy_free(ft);
            store_udef_free(&d);
        }
        if (rc) break;
    }
    eddy_free(done);
    if (rc == EDDY_OK && k->ntypes < total)
        rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "unresolvable user types in keyspace %s", k->info.name);
    qsort(k->types, k->ntypes, sizeof *k->types, udt_cmp);
    k->types_hash = h;
    return rc;
}

/* Builds a snapshot from sorted records. Tables whose definition and keyspace types did not
 * change are shared with old (so their handles stay the same). */
int store_schema_build(store_rec_t *recs, size_t n, const store_schema_t *old, store_schema_t **out, char *errstr,
                       size_t errlen) {
    store_schema_t *s = eddy_calloc(1, sizeof *s);
    if (!s) return EDDY_ERR_NOMEM;
    s->refs = 1;
    arena_init(&s->arena, 1024);
    int rc = EDDY_OK;
    size_t nk = 0, nt = 0;
    for (size_t i = 0; i < n; i++) {
        if (has_prefix(recs[i].key, "k/")) nk++;
        if (has_prefix(recs[i].key, "t/")) nt++;
    }
    s->ks = eddy_calloc(nk ? nk : 1, sizeof *s->ks);
    s->by_id = eddy_calloc(nt ? nt : 1, sizeof *s->by_id);
    if (!s->ks || !s->by_id) {
        rc = EDDY_ERR_NOMEM;
        goto err;
    }
    for (size_t i = 0; i < n; i++) {
        if (has_prefix(recs[i].key, "meta")) {
            json_doc_t d;
            json_doc_init(&d);
            if (json_parse(&d, recs[i].json, strlen(recs[i].json)) == EDDY_OK) {
                int64_t v = json_object_get(&d, 0, "version", 7), g = json_object_get(&d, 0, "generation", 10);
                if (v >= 0) {
                    const json_node_t *vn = json_node(&d, (uint32_t)v);
                    store_parse_uuid(vn->text, vn->len, s->version);
                }
                int64_t gv;
                if (g >= 0 && json_number_i64(json_node(&d, (uint32_t)g), &gv) == EDDY_OK) s->generation = (uint64_t)gv;
                int64_t ni = json_object_get(&d, 0, "next_table_id", 13);
                if (ni >= 0 && json_number_i64(json_node(&d, (uint32_t)ni), &gv) == EDDY_OK) s->next_table_id = (uint32_t)gv;
            }
            json_doc_free(&d);
            continue;
        }
        if (!has_prefix(recs[i].key, "k/")) continue;
        store_kdef_t kd;
        if (store_kdef_parse(recs[i].json, &kd)) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt keyspace definition %s", recs[i].key);
            goto err;
        }
        /* the name is the record's key: another would give two keyspaces the same tables */
        if (strcmp(recs[i].key + 2, kd.name) || find_ks(s, kd.name)) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "keyspace definition %s names keyspace %s", recs[i].key,
                          kd.name);
            store_kdef_free(&kd);
            goto err;
        }
        store_ks_t *k = arena_alloc(&s->arena, sizeof *k);
        if (!k) {
            store_kdef_free(&kd);
            rc = EDDY_ERR_NOMEM;
            goto err;
        }
        memset(k, 0, sizeof *k);
        s->ks[s->nks++] = k;
        k->info.name = arena_strndup(&s->arena, kd.name, strlen(kd.name));
        k->info.durable_writes = kd.durable_writes;
        const char **rk = arena_alloc(&s->arena, (kd.replication.n + 1) * sizeof *rk);
        const char **rv = arena_alloc(&s->arena, (kd.replication.n + 1) * sizeof *rv);
        if (!k->info.name || !rk || !rv) {
            store_kdef_free(&kd);
            rc = EDDY_ERR_NOMEM;
            goto err;
        }
        /* "class" first, as drivers print it */
        size_t m = 0;
        const char *cls = store_smap_get(&kd.replication, "class");
        if (cls) {
            rk[m] = "class";
            rv[m++] = arena_strndup(&s->arena, cls, strlen(cls));
        }
        for (size_t j = 0; j < kd.replication.n; j++) {
            if (!strcmp(kd.replication.k[j], "class")) continue;
            rk[m] = arena_strndup(&s->arena, kd.replication.k[j], strlen(kd.replication.k[j]));
            rv[m++] = arena_strndup(&s->arena, kd.replication.v[j], strlen(kd.replication.v[j]));
        }
        k->info.replication.n = m;
        k->info.replication.keys = rk;
        k->info.replication.values = rv;
        store_kdef_free(&kd);
    }
    qsort(s->ks, s->nks, sizeof *s->ks, ks_cmp);
    for (size_t i = 0; i < s->nks; i++)
        if ((rc = build_types(s, s->ks[i], recs, n, errstr, errlen))) goto err;
    for (size_t i = 0; i < s->nks; i++) {
        store_ks_t *k = s->ks[i];
        char prefix[300];
        snprintf(prefix, sizeof prefix, "t/%s/", k->info.name);
        size_t cnt = 0;
        for (size_t j = 0; j < n; j++)
            if (has_prefix(recs[j].key, prefix)) cnt++;
        k->tables = eddy_calloc(cnt ? cnt : 1, sizeof *k->tables);
        if (!k->tables) {
            rc = EDDY_ERR_NOMEM;
            goto err;
        }
        store_ks_t *ok = old ? find_ks(old, k->info.name) : NULL;
        for (size_t j = 0; j < n; j++) {
            if (!has_prefix(recs[j].key, prefix)) continue;
            store_table_t *t = NULL;
            if (ok && ok->types_hash == k->types_hash) {
                for (size_t q = 0; q < ok->ntables; q++)
                    if (!strcmp(ok->tables[q]->def_json, recs[j].json)) t = (store_table_t *)store_table_keep(ok->tables[q]);
            }
            if (!t && (rc = store_table_build(s, recs[j].json, &t, errstr, errlen))) goto err;
            const store_table_info_t *ti = store_table_info(t);
            if (strcmp(ti->keyspace, k->info.name) || strcmp(ti->name, recs[j].key + strlen(prefix))) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "table definition %s names table %s.%s", recs[j].key,
                              ti->keyspace, ti->name);
                store_table_release(t);
                goto err;
            }
            k->tables[k->ntables++] = t;
            s->by_id[s->nby_id++] = t;
        }
        qsort(k->tables, k->ntables, sizeof *k->tables, table_cmp);
    }
    qsort(s->by_id, s->nby_id, sizeof *s->by_id, table_id_cmp);
    *out = s;
    return EDDY_OK;
err:
    schema_free(s);
    return rc;
}

/* ---- records ---- */

static int rec_cmp(const void *a, const void *b) {
    return strcmp(((const store_rec_t *)a)->key, ((const store_rec_t *)b)->key);
}

void store_recs_free(store_rec_t *recs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        eddy_free(recs[i].key);
        eddy_free(recs[i].json);
    }
    eddy_free(recs);
}

int store_catalog_load(store_t *st, char *errstr, size_t errlen) {
    store_catalog_t *c = &st->cat;
    pthread_mutex_init(&c->ddl_lock, NULL);
    c->next_table_id = 1;
    size_t cap = 16;
    c->recs = eddy_malloc(cap * sizeof *c->recs);
    if (!c->recs) return EDDY_ERR_NOMEM;
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(st->db, st->ropts, st->cf[CF_SCHEMA]);
    int rc = EDDY_OK;
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
        if (c->nrecs == cap) {
            cap *= 2;
            store_rec_t *r = eddy_realloc(c->recs, cap * sizeof *r);
            if (!r) {
                rc = EDDY_ERR_NOMEM;
                break;
            }
            c->recs = r;
        }
        store_rec_t *r = &c->recs[c->nrecs];
        r->key = eddy_strndup(k, kl);
        r->json = eddy_strndup(v, vl);
        if (!r->key || !r->json) {
            eddy_free(r->key);
            eddy_free(r->json);
            rc = EDDY_ERR_NOMEM;
            break;
        }
        c->nrecs++;
        if (!strcmp(r->key, "meta")) {
            json_doc_t d;
            json_doc_init(&d);
            if (json_parse(&d, r->json, strlen(r->json)) == EDDY_OK) {
                int64_t i = json_object_get(&d, 0, "next_table_id", 13), v2;
                if (i >= 0 && json_number_i64(json_node(&d, (uint32_t)i), &v2) == EDDY_OK) c->next_table_id = (uint32_t)v2;
            }
            json_doc_free(&d);
        }
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (err) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "reading the catalog: %s", err);
        rocksdb_free(err);
    }
    if (rc) return rc;
    qsort(c->recs, c->nrecs, sizeof *c->recs, rec_cmp);
    rc = store_schema_build(c->recs, c->nrecs, NULL, &c->current, errstr, errlen);
    if (rc) return rc;
    bool zero = true;
    for (int i = 0; i < 16; i++)
        if (c->current->version[i]) zero = false;
    if (zero) store_uuid_random(c->current->version);
    return EDDY_OK;
}

void store_catalog_close(store_t *st) {
    store_catalog_t *c = &st->cat;
    store_schema_release(c->current);
    c->current = NULL;
    store_recs_free(c->recs, c->nrecs);
    c->recs = NULL;
    c->nrecs = 0;
    pthread_mutex_destroy(&c->ddl_lock);
}

/* ---- listeners ---- */

int store_schema_listen(store_t *st, store_schema_listener_fn fn, void *arg) {
    store_catalog_t *c = &st->cat;
    pthread_mutex_lock(&c->ddl_lock);
    int id = -1;
    if (c->nlisteners < (int)EDDY_ARRAY_LEN(c->listeners)) {
        id = ++c->next_listener_id;
        c->listeners[c->nlisteners].fn = fn;
        c->listeners[c->nlisteners].arg = arg;
        c->listeners[c->nlisteners].id = id;
        c->nlisteners++;
    }
    pthread_mutex_unlock(&c->ddl_lock);
    return id;
}

void store_schema_unlisten(store_t *st, int id) {
    store_catalog_t *c = &st->cat;
    pthread_mutex_lock(&c->ddl_lock);
    for (int i = 0; i < c->nlisteners; i++)
        if (c->listeners[i].id == id) {
            memmove(&c->listeners[i], &c->listeners[i + 1], (size_t)(c->nlisteners - i - 1) * sizeof c->listeners[0]);
            c->nlisteners--;
            break;
        }
    pthread_mutex_unlock(&c->ddl_lock);
}
