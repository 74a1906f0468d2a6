/* DDL: CREATE/ALTER/DROP of keyspaces, tables and types, and TRUNCATE, with Cassandra's checks
 * and messages. Each change edits the catalog records, builds the new snapshot (so nothing is
 * persisted that does not load), writes the records, a new schema version and any data range
 * deletions in one fsynced RocksDB batch, swaps the snapshot in and tells the listeners. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"


typedef struct {
    char key[600];
    char *json; /* owned; NULL deletes the record */
} chg_t;

#define MAX_EVENTS 64

typedef struct {
    chg_t chg[64];
    size_t nchg;
    uint32_t wipe[1024];   /* table ids whose data goes */
    size_t nwipe;
    store_schema_event_t ev[MAX_EVENTS];
    char evnames[MAX_EVENTS][2][256];
    size_t nev;
} ddl_t;

static void ddl_free(ddl_t *d) {
    for (size_t i = 0; i < d->nchg; i++) eddy_free(d->chg[i].json);
    d->nchg = 0;
}

static int ddl_put(ddl_t *d, const char *key, wr_t *json) {
    if (d->nchg == EDDY_ARRAY_LEN(d->chg) || !wr_ok(json)) {
        wr_free(json);
        return EDDY_ERR_NOMEM;
    }
    chg_t *c = &d->chg[d->nchg++];
    snprintf(c->key, sizeof c->key, "%s", key);
    wr_u8(json, 0);
    size_t len;
    c->json = (char *)wr_steal(json, &len);
    return c->json ? EDDY_OK : EDDY_ERR_NOMEM;
}

static int ddl_del(ddl_t *d, const char *key) {
    if (d->nchg == EDDY_ARRAY_LEN(d->chg)) return EDDY_ERR_NOMEM;
    chg_t *c = &d->chg[d->nchg++];
    snprintf(c->key, sizeof c->key, "%s", key);
    c->json = NULL;
    return EDDY_OK;
}

static void ddl_event(ddl_t *d, store_change_t change, store_target_t target, const char *ks, const char *name) {
    if (d->nev == MAX_EVENTS) return;
    size_t i = d->nev++;
    snprintf(d->evnames[i][0], sizeof d->evnames[i][0], "%s", ks);
    snprintf(d->evnames[i][1], sizeof d->evnames[i][1], "%s", name ? name : "");
    d->ev[i].change = change;
    d->ev[i].target = target;
    d->ev[i].keyspace = d->evnames[i][0];
    d->ev[i].name = name ? d->evnames[i][1] : NULL;
}

static const char *rec_get(store_t *st, const char *key) {
    store_catalog_t *c = &st->cat;
    size_t lo = 0, hi = c->nrecs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = strcmp(c->recs[mid].key, key);
        if (r == 0) return c->recs[mid].json;
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int rec_cmp(const void *a, const void *b) {
    return strcmp(((const store_rec_t *)a)->key, ((const store_rec_t *)b)->key);
}

/* Applies d under the DDL lock: new records, new snapshot, one fsynced batch, swap. */
static int ddl_commit(store_t *st, ddl_t *d, bool schema_change, char *errstr, size_t errlen) {
    store_catalog_t *c = &st->cat;
    int rc = EDDY_OK;
    size_t cap = c->nrecs + d->nchg + 1;
    store_rec_t *recs = eddy_calloc(cap, sizeof *recs);
    size_t n = 0;
    store_schema_t *snap = NULL;
    rocksdb_writebatch_t *b = NULL;
    if (!recs) return EDDY_ERR_NOMEM;
    /* copy, skipping changed keys and meta, then add the changes */
    for (size_t i = 0; i < c->nrecs; i++) {
        bool changed = !strcmp(c->recs[i].key, "meta");
        for (size_t j = 0; j < d->nchg; j++)
            if (!strcmp(d->chg[j].key, c->recs[i].key)) changed = true;
        if (changed) continue;
        recs[n].key = eddy_strdup(c->recs[i].key);
        recs[n].json = eddy_strdup(c->recs[i].json);
        if (!recs[n].key || !recs[n].json) {
            n++;
            rc = EDDY_ERR_NOMEM;
            goto out;
        }
        n++;
    }
    for (size_t j = 0; j < d->nchg; j++) {
        if (!d->chg[j].json) continue;
        recs[n].key = eddy_strdup(d->chg[j].key);
        recs[n].json = eddy_strdup(d->chg[j].json);
        n++;
        if (!recs[n - 1].key || !recs[n - 1].json) {
            rc = EDDY_ERR_NOMEM;
            goto out;
        }
    }
    uint8_t version[16];
    uint64_t generation = c->current->generation;
    memcpy(version, c->current->version, 16);
    if (schema_change) {
        store_uuid_random(version);
        generation++;
    }
    wr_t mw;
    wr_init(&mw, 128);
    wr_str(&mw, "{\"version\":\"");
    store_fmt_uuid(version, &mw);
    wr_fmt(&mw, "\",\"generation\":%llu,\"next_table_id\":%u}", (unsigned long long)generation, c->next_table_id);
    wr_u8(&mw, 0);
    size_t ml;
    recs[n].key = eddy_strdup("meta");
    recs[n].json = (char *)wr_steal(&mw, &ml);
    n++;
    if (!recs[n - 1].key || !recs[n - 1].json) {
        rc = EDDY_ERR_NOMEM;
        goto out;
    }
    qsort(recs, n, sizeof *recs, rec_cmp);
    if ((rc = store_schema_build(recs, n, c->current, &snap, errstr, errlen))) goto out;
    memcpy(snap->version, version, 16);
    snap->generation = generation;

    b = rocksdb_writebatch_create();
    for (size_t j = 0; j < d->nchg; j++) {
        if (d->chg[j].json)
            rocksdb_writebatch_put_cf(b, st->cf[CF_SCHEMA], d->chg[j].key, strlen(d->chg[j].key), d->chg[j].json,
                                      strlen(d->chg[j].json));
        else
            rocksdb_writebatch_delete_cf(b, st->cf[CF_SCHEMA], d->chg[j].key, strlen(d->chg[j].key));
    }
    const char *meta = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(recs[i].key, "meta")) meta = recs[i].json;
    rocksdb_writebatch_put_cf(b, st->cf[CF_SCHEMA], "meta", 4, meta, strlen(meta));
    for (size_t i = 0; i < d->nwipe; i++) {
        uint8_t lo[4], hi[4];
        store_u32(lo, d->wipe[i]);
        store_u32(hi, d->wipe[i] + 1);
        rocksdb_writebatch_delete_range_cf(b, st->cf[CF_DATA], (const char *)lo, 4, (const char *)hi, 4);
        rocksdb_writebatch_delete_range_cf(b, st->cf[CF_PART], (const char *)lo, 4, (const char *)hi, 4);
    }
    if ((rc = store_db_write(st, b, STORE_DUR_SYNC, errstr, errlen))) goto out;

    pthread_mutex_lock(&c->snap_lock);
    store_schema_t *old = c->current;
    c->current = snap;
    pthread_mutex_unlock(&c->snap_lock);
    snap = NULL;
    store_schema_release(old);
    store_recs_free(c->recs, c->nrecs);
    c->recs = recs;
    c->nrecs = n;
    recs = NULL;
out:
    if (b) rocksdb_writebatch_destroy(b);
    if (snap) store_schema_release(snap);
    if (recs) store_recs_free(recs, n);
    return rc;
}

/* Unlocks and reports the events. */
static void ddl_finish(store_t *st, ddl_t *d, int rc, bool *changed) {
    store_catalog_t *c = &st->cat;
    store_listener_t ls[EDDY_ARRAY_LEN(c->listeners)];
    int nl = c->nlisteners;
    memcpy(ls, c->listeners, sizeof ls);
    pthread_mutex_unlock(&c->ddl_lock);
    if (changed) *changed = rc == EDDY_OK && d->nev > 0;
    if (rc == EDDY_OK)
        for (size_t i = 0; i < d->nev; i++)
            for (int j = 0; j < nl; j++) ls[j].fn(ls[j].arg, &d->ev[i]);
    ddl_free(d);
    eddy_free(d);
}

static ddl_t *ddl_begin(store_t *st) {
    ddl_t *d = eddy_calloc(1, sizeof *d);
    if (d) pthread_mutex_lock(&st->cat.ddl_lock);
    return d;
}

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 48) return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return false;
    return true;
}

static bool reserved_keyspace(const char *s) {
    static const char *const names[] = {"system", "system_schema", "system_auth", "system_distributed",
                                        "system_traces", "system_views", "system_virtual_schema"};
    for (size_t i = 0; i < EDDY_ARRAY_LEN(names); i++)
        if (!strcasecmp(s, names[i])) return true;
    return false;
}

/* ---- keyspaces ---- */

static int build_replication(const store_strmap_t *in, store_smap_t *out, char *errstr, size_t errlen) {
    const char *cls = NULL;
    for (size_t i = 0; in && i < in->n; i++)
        if (!strcmp(in->keys[i], "class")) cls = in->values[i];
    if (!cls) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Missing mandatory option 'class'");
    char full[256];
    if (!strchr(cls, '.')) snprintf(full, sizeof full, "org.apache.cassandra.locator.%s", cls);
    else snprintf(full, sizeof full, "%s", cls);
    bool simple = !strcmp(full, "org.apache.cassandra.locator.SimpleStrategy");
    bool nts = !strcmp(full, "org.apache.cassandra.locator.NetworkTopologyStrategy");
    bool local = !strcmp(full, "org.apache.cassandra.locator.LocalStrategy");
    if (!simple && !nts && !local)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unable to find replication strategy class '%s'", full);
    if (store_smap_set(out, "class", full)) return EDDY_ERR_NOMEM;
    bool rf = false;
    for (size_t i = 0; i < in->n; i++) {
        if (!strcmp(in->keys[i], "class")) continue;
        const char *v = in->values[i];
        char *end;
        long x = strtol(v, &end, 10);
        if (simple && strcmp(in->keys[i], "replication_factor"))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unrecognized strategy option {%s} passed to SimpleStrategy for keyspace",
                            in->keys[i]);
        if (*end || end == v || x < 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                            "Replication factor must be non-negative integer; found %s", v);
        if (!strcmp(in->keys[i], "replication_factor")) rf = true;
        if (store_smap_set(out, in->keys[i], v)) return EDDY_ERR_NOMEM;
    }
    if (simple && !rf)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "SimpleStrategy requires a replication_factor strategy option.");
    return EDDY_OK;
}

int store_keyspace_create(store_t *st, const char *name, const store_strmap_t *replication, bool durable_writes,
                          bool if_not_exists, bool *changed, char *errstr, size_t errlen) {
    if (!valid_name(name))
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                        "Keyspace name must not be empty, more than 48 characters long, or contain "
                        "non-alphanumeric-underscore characters (got \"%s\")", name);
    if (reserved_keyspace(name)) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Keyspace name %s is reserved", name);
    store_kdef_t kd = {0};
    int rc = build_replication(replication, &kd.replication, errstr, errlen);
    if (rc) {
        store_kdef_free(&kd);
        return rc;
    }
    ddl_t *d = ddl_begin(st);
    if (!d) {
        store_kdef_free(&kd);
        return EDDY_ERR_NOMEM;
    }
    char key[600];
    snprintf(key, sizeof key, "k/%s", name);
    if (rec_get(st, key)) {
        rc = if_not_exists ? EDDY_OK : eddy_err(errstr, errlen, EDDY_ERR_EXISTS, "Cannot add existing keyspace \"%s\"", name);
    } else {
        kd.name = eddy_strdup(name);
        kd.durable_writes = durable_writes;
        wr_t w;
        wr_init(&w, 256);
        store_kdef_write(&kd, &w);
        rc = kd.name ? ddl_put(d, key, &w) : EDDY_ERR_NOMEM;
        if (rc == EDDY_OK) {
            ddl_event(d, STORE_CHANGE_CREATED, STORE_TARGET_KEYSPACE, name, NULL);
            rc = ddl_commit(st, d, true, errstr, errlen);
        }
    }
    store_kdef_free(&kd);
    ddl_finish(st, d, rc, changed);
    return rc;
}

int store_keyspace_alter(store_t *st, const char *name, const store_strmap_t *replication, int durable_writes,
                         bool *changed, char *errstr, size_t errlen) {
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    char key[600];
    snprintf(key, sizeof key, "k/%s", name);
    const char *json = rec_get(st, key);
    store_kdef_t kd = {0};
    int rc;
    if (!json) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Keyspace '%s' doesn't exist", name);
    } else if ((rc = store_kdef_parse(json, &kd)) == EDDY_OK) {
        if (replication) {
            store_smap_free(&kd.replication);
            rc = build_replication(replication, &kd.replication, errstr, errlen);
        }
        if (durable_writes >= 0) kd.durable_writes = durable_writes != 0;
        if (rc == EDDY_OK) {
            wr_t w;
            wr_init(&w, 256);
            store_kdef_write(&kd, &w);
            rc = ddl_put(d, key, &w);
        }
        if (rc == EDDY_OK) {
            ddl_event(d, STORE_CHANGE_UPDATED, STORE_TARGET_KEYSPACE, name, NULL);
            rc = ddl_commit(st, d, true, errstr, errlen);
        }
    }
    store_kdef_free(&kd);
    ddl_finish(st, d, rc, changed);
    return rc;
}

/* Collects the records of a keyspace's tables and types for deletion. */
static int drop_children(store_t *st, ddl_t *d, const char *ks, const char *prefix_kind) {
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s/%s/", prefix_kind, ks);
    for (size_t i = 0; i < st->cat.nrecs; i++) {
        if (strncmp(st->cat.recs[i].key, prefix, strlen(prefix))) continue;
        if (ddl_del(d, st->cat.recs[i].key)) return EDDY_ERR_NOMEM;
        if (prefix_kind[0] == 't') {
            store_tdef_t td;
            if (store_tdef_parse(st->cat.recs[i].json, &td) == EDDY_OK) {
                if (d->nwipe < EDDY_ARRAY_LEN(d->wipe)) d->wipe[d->nwipe++] = td.id;
                store_tdef_free(&td);
            }
        }
    }
    return EDDY_OK;
}

int store_keyspace_drop(store_t *st, const char *name, bool if_exists, bool *changed, char *errstr, size_t errlen) {
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    char key[600];
    snprintf(key, sizeof key, "k/%s", name);
    int rc;
    if (!rec_get(st, key)) {
        rc = if_exists ? EDDY_OK : eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Keyspace '%s' doesn't exist", name);
    } else {
        rc = ddl_del(d, key);
        if (rc == EDDY_OK) rc = drop_children(st, d, name, "t");
        if (rc == EDDY_OK) rc = drop_children(st, d, name, "y");
        if (rc == EDDY_OK) {
            ddl_event(d, STORE_CHANGE_DROPPED, STORE_TARGET_KEYSPACE, name, NULL);
            rc = ddl_commit(st, d, true, errstr, errlen);
        }
    }
    ddl_finish(st, d, rc, changed);
    return rc;
}

/* ---- tables ---- */

static int check_key_type(const store_type_t *t, const char *col, char *errstr, size_t errlen) {
    char tb[256];
    if (t->kind == STORE_T_COUNTER)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "counter type is not supported for PRIMARY KEY column '%s'", col);
    if (store_type_is_multicell(t))
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid non-frozen %s type %s for PRIMARY KEY component %s",
                        t->kind == STORE_T_UDT ? "user-defined" : "collection", store_type_cstr(t, tb, sizeof tb), col);
    if (store_type_references_duration(t))
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "duration type is not supported for PRIMARY KEY column '%s'", col);
    return EDDY_OK;
}

static char *type_text(const store_type_t *t) {
    wr_t w;
    wr_init(&w, 64);
    store_type_format(t, &w);
    wr_u8(&w, 0);
    size_t n;
    return wr_ok(&w) ? (char *)wr_steal(&w, &n) : (wr_free(&w), NULL);
}

static int table_key(char *buf, size_t n, const char *ks, const char *name) {
    snprintf(buf, n, "t/%s/%s", ks, name);
    return EDDY_OK;
}

int store_table_create(store_t *st, const char *keyspace, const char *name, const store_column_spec_t *columns,
                       size_t ncolumns, const store_option_t *options, size_t noptions, bool if_not_exists,
                       bool *changed, char *errstr, size_t errlen) {
    if (!valid_name(name))
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                        "Table name must not be empty, more than 48 characters long, or contain "
                        "non-alphanumeric-underscore characters (got \"%s\")", name);
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    store_tdef_t td;
    store_tdef_defaults(&td);
    int rc = EDDY_OK;
    char kkey[600], key[600];
    snprintf(kkey, sizeof kkey, "k/%s", keyspace);
    table_key(key, sizeof key, keyspace, name);
    if (!rec_get(st, kkey)) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Keyspace '%s' doesn't exist", keyspace);
        goto out;
    }
    if (rec_get(st, key)) {
        if (!if_not_exists)
            rc = eddy_err(errstr, errlen, EDDY_ERR_EXISTS, "Cannot add already existing table \"%s\" to keyspace \"%s\"",
                          name, keyspace);
        goto out;
    }
    size_t npk = 0, nck = 0, nstatic = 0, ncounter = 0;
    for (size_t i = 0; i < ncolumns; i++) {
        const store_column_spec_t *c = &columns[i];
        for (size_t j = 0; j < i; j++)
            if (!strcmp(columns[j].name, c->name)) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Multiple definition of identifier %s", c->name);
                goto out;
            }
        if (c->kind <= STORE_COL_CLUSTERING && (rc = check_key_type(c->type, c->name, errstr, errlen))) goto out;
        if (c->kind == STORE_COL_PARTITION_KEY) npk++;
        if (c->kind == STORE_COL_CLUSTERING) nck++;
        if (c->kind == STORE_COL_STATIC) nstatic++;
        if (c->type->kind == STORE_T_COUNTER) ncounter++;
    }
    if (npk == 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "No PRIMARY KEY specifed for table '%s' (exactly one required)", name);
        goto out;
    }
    if (ncounter && ncounter != ncolumns - npk - nck) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot mix counter and non counter columns in the same table");
        goto out;
    }
    if (nstatic && nck == 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                      "Static columns are only useful (and thus allowed) if the table has at least one clustering column");
        goto out;
    }
    if (ncolumns > STORE_MAX_COLUMNS) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "A table has at most %d columns", STORE_MAX_COLUMNS);
        goto out;
    }
    if ((rc = store_tdef_apply_options(&td, options, noptions, errstr, errlen))) goto out;
    if (ncounter && td.default_ttl) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot set default_time_to_live on a table with counters");
        goto out;
    }
    td.keyspace = eddy_strdup(keyspace);
    td.name = eddy_strdup(name);
    bool uuid_given = false;
    for (int i = 0; i < 16; i++)
        if (td.uuid[i]) uuid_given = true;
    if (!uuid_given) store_uuid_time(td.uuid);
    td.id = st->cat.next_table_id++;
    td.version = 1;
    td.cols = eddy_calloc(ncolumns ? ncolumns : 1, sizeof *td.cols);
    if (!td.keyspace || !td.name || !td.cols) {
        rc = EDDY_ERR_NOMEM;
        goto out;
    }
    int16_t pkpos = 0, ckpos = 0;
    for (size_t i = 0; i < ncolumns; i++) {
        store_cdef_t *cd = &td.cols[td.ncols++];
        cd->name = eddy_strdup(columns[i].name);
        cd->type = type_text(columns[i].type);
        cd->kind = columns[i].kind;
        cd->desc = columns[i].kind == STORE_COL_CLUSTERING && columns[i].desc;
        cd->position = cd->kind == STORE_COL_PARTITION_KEY ? pkpos++ : cd->kind == STORE_COL_CLUSTERING ? ckpos++ : -1;
        cd->id = (uint32_t)i;
        if (!cd->name || !cd->type) {
            rc = EDDY_ERR_NOMEM;
            goto out;
        }
    }
    td.next_col_id = (uint32_t)ncolumns;
    wr_t w;
    wr_init(&w, 1024);
    store_tdef_write(&td, &w);
    if ((rc = ddl_put(d, key, &w))) goto out;
    ddl_event(d, STORE_CHANGE_CREATED, STORE_TARGET_TABLE, keyspace, name);
    rc = ddl_commit(st, d, true, errstr, errlen);
out:
    store_tdef_free(&td);
    ddl_finish(st, d, rc, changed);
    return rc;
}

static int find_col(const store_tdef_t *td, const char *name) {
    for (size_t i = 0; i < td->ncols; i++)
        if (!strcmp(td->cols[i].name, name)) return (int)i;
    return -1;
}

static int alter_add(store_t *st, store_tdef_t *td, const store_column_spec_t *specs, size_t n, char *errstr,
                     size_t errlen) {
    bool counter = false;
    size_t nck = 0;
    for (size_t i = 0; i < td->ncols; i++) {
        if (td->cols[i].kind == STORE_COL_CLUSTERING) nck++;
        if (strstr(td->cols[i].type, "counter") && td->cols[i].kind >= STORE_COL_STATIC) counter = true;
    }
    for (size_t i = 0; i < n; i++) {
        const store_column_spec_t *s = &specs[i];
        if (find_col(td, s->name) >= 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Column with name '%s' already exists", s->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(specs[j].name, s->name))
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Column with name '%s' already exists", s->name);
        bool is_counter = s->type->kind == STORE_T_COUNTER;
        if (is_counter && !counter)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot add a counter column (%s) in a non counter column family",
                            s->name);
        if (!is_counter && counter)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot add a non counter column (%s) in a counter column family",
                            s->name);
        if (s->kind == STORE_COL_STATIC && nck == 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                            "Static columns are only useful (and thus allowed) if the table has at least one clustering column");
        char *tt = type_text(s->type);
        if (!tt) return EDDY_ERR_NOMEM;
        for (size_t j = 0; j < td->ndropped; j++) {
            if (strcmp(td->dropped[j].name, s->name)) continue;
            const store_type_t *prev = NULL;
            store_schema_t *sc = store_schema_get(st);
            bool ok = store_type_parse(sc, td->keyspace, td->dropped[j].type, strlen(td->dropped[j].type), &prev, NULL, 0) ==
                          EDDY_OK &&
                      store_type_value_compatible(s->type, prev);
            store_type_release(prev);
            store_schema_release(sc);
            if (!ok) {
                int rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                                  "Cannot re-add previously dropped column '%s' of type %s, incompatible with previous type %s",
                                  s->name, tt, td->dropped[j].type);
                eddy_free(tt);
                return rc;
            }
        }
        if (td->ncols >= STORE_MAX_COLUMNS || td->next_col_id >= STORE_MAX_COLUMN_ID) {
            eddy_free(tt);
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Table %s.%s has had too many columns to add %s",
                            td->keyspace, td->name, s->name);
        }
        store_cdef_t *nc = eddy_realloc(td->cols, (td->ncols + 1) * sizeof *nc);
        if (!nc) {
            eddy_free(tt);
            return EDDY_ERR_NOMEM;
        }
        td->cols = nc;
        store_cdef_t *cd = &td->cols[td->ncols++];
        memset(cd, 0, sizeof *cd);
        cd->name = eddy_strdup(s->name);
        cd->type = tt;
        cd->kind = s->kind == STORE_COL_STATIC ? STORE_COL_STATIC : STORE_COL_REGULAR;
        cd->position = -1;
        cd->id = td->next_col_id++;
        if (!cd->name) return EDDY_ERR_NOMEM;
    }
    return EDDY_OK;
}

static int alter_drop(store_tdef_t *td, const store_column_spec_t *specs, size_t n, int64_t time_us, char *errstr,
                      size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        int c = find_col(td, specs[i].name);
        if (c < 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Column %s was not found in table %s", specs[i].name, td->name);
        if (td->cols[c].kind <= STORE_COL_CLUSTERING)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot drop PRIMARY KEY column %s", specs[i].name);
        size_t regular = 0;
        for (size_t j = 0; j < td->ncols; j++)
            if (td->cols[j].kind >= STORE_COL_STATIC) regular++;
        store_ddef_t *nd = eddy_realloc(td->dropped, (td->ndropped + 1) * sizeof *nd);
        if (!nd) return EDDY_ERR_NOMEM;
        td->dropped = nd;
        /* a later drop of the same name replaces the earlier record */
        size_t slot = td->ndropped;
        for (size_t j = 0; j < td->ndropped; j++)
            if (!strcmp(td->dropped[j].name, specs[i].name)) {
                eddy_free(td->dropped[j].name);
                eddy_free(td->dropped[j].type);
                slot = j;
            }
        if (slot == td->ndropped) td->ndropped++;
        td->dropped[slot].name = td->cols[c].name;
        td->dropped[slot].type = td->cols[c].type;
        td->dropped[slot].kind = td->cols[c].kind;
        td->dropped[slot].time_us = time_us;
        memmove(&td->cols[c], &td->cols[c + 1], (td->ncols - (size_t)c - 1) * sizeof *td->cols);
        td->ncols--;
        (void)regular;
    }
    return EDDY_OK;
}

static int alter_rename(store_tdef_t *td, const store_column_spec_t *specs, size_t n, char *errstr, size_t errlen) {
    if (n % 2) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "RENAME needs pairs of names");
    for (size_t i = 0; i < n; i += 2) {
        const char *from = specs[i].name, *to = specs[i + 1].name;
        int c = find_col(td, from);
        if (c < 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Column %s was not found in table %s", from, td->name);
        if (td->cols[c].kind > STORE_COL_CLUSTERING)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot rename non PRIMARY KEY column %s", from);
        if (find_col(td, to) >= 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                            "Cannot rename column %s to %s in table %s; another column of that name already exist", from, to,
                            td->name);
        char *nn = eddy_strdup(to);
        if (!nn) return EDDY_ERR_NOMEM;
        eddy_free(td->cols[c].name);
        td->cols[c].name = nn;
    }
    return EDDY_OK;
}

int store_table_alter(store_t *st, const char *keyspace, const char *name, store_alter_op_t op,
                      const store_column_spec_t *specs, size_t nspecs, const store_option_t *options, size_t noptions,
                      int64_t dropped_time_us, bool if_exists, bool *changed, char *errstr, size_t errlen) {
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    char key[600];
    table_key(key, sizeof key, keyspace, name);
    const char *json = rec_get(st, key);
    store_tdef_t td;
    memset(&td, 0, sizeof td);
    int rc = EDDY_OK;
    if (!json) {
        if (!if_exists) rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Table '%s.%s' doesn't exist", keyspace, name);
        goto out;
    }
    if ((rc = store_tdef_parse(json, &td))) goto out;
    switch (op) {
    case STORE_ALTER_ADD: rc = alter_add(st, &td, specs, nspecs, errstr, errlen); break;
    case STORE_ALTER_DROP:
        rc = alter_drop(&td, specs, nspecs, dropped_time_us ? dropped_time_us : store_now_us(st), errstr, errlen);
        break;
    case STORE_ALTER_RENAME: rc = alter_rename(&td, specs, nspecs, errstr, errlen); break;
    case STORE_ALTER_OPTIONS: rc = store_tdef_apply_options(&td, options, noptions, errstr, errlen); break;
    }
    if (rc) goto out;
    td.version++;
    wr_t w;
    wr_init(&w, 1024);
    store_tdef_write(&td, &w);
    if ((rc = ddl_put(d, key, &w))) goto out;
    ddl_event(d, STORE_CHANGE_UPDATED, STORE_TARGET_TABLE, keyspace, name);
    rc = ddl_commit(st, d, true, errstr, errlen);
out:
    store_tdef_free(&td);
    ddl_finish(st, d, rc, changed);
    return rc;
}

int store_table_drop(store_t *st, const char *keyspace, const char *name, bool if_exists, bool *changed, char *errstr,
                     size_t errlen) {
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    char key[600];
    table_key(key, sizeof key, keyspace, name);
    const char *json = rec_get(st, key);
    int rc = EDDY_OK;
    store_tdef_t td;
    if (!json) {
        if (!if_exists) rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Table '%s.%s' doesn't exist", keyspace, name);
    } else if ((rc = store_tdef_parse(json, &td)) == EDDY_OK) {
        d->wipe[d->nwipe++] = td.id;
        store_tdef_free(&td);
        rc = ddl_del(d, key);
        if (rc == EDDY_OK) {
            ddl_event(d, STORE_CHANGE_DROPPED, STORE_TARGET_TABLE, keyspace, name);
            rc = ddl_commit(st, d, true, errstr, errlen);
        }
    }
    ddl_finish(st, d, rc, changed);
    return rc;
}

int store_table_truncate(store_t *st, const char *keyspace, const char *name, char *errstr, size_t errlen) {
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    char key[600];
    table_key(key, sizeof key, keyspace, name);
    const char *json = rec_get(st, key);
    char kkey[600];
    snprintf(kkey, sizeof kkey, "k/%s", keyspace);
    int rc = EDDY_OK;
    store_tdef_t td;
    if (!rec_get(st, kkey)) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Keyspace %s does not exist", keyspace);
    } else if (!json) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "unconfigured table %s", name);
    } else if ((rc = store_tdef_parse(json, &td)) == EDDY_OK) {
        d->wipe[d->nwipe++] = td.id;
        store_tdef_free(&td);
        rc = ddl_commit(st, d, false, errstr, errlen);
    }
    ddl_finish(st, d, rc, NULL);
    return rc;
}

/* ---- user-defined types ---- */

static void type_key(char *buf, size_t n, const char *ks, const char *name) { snprintf(buf, n, "y/%s/%s", ks, name); }

/* Adds UPDATED TABLE events for the tables of ks that use type name. */
static void events_for_users(store_t *st, ddl_t *d, const char *ks, const char *name) {
    store_schema_t *s = store_schema_get(st);
    for (size_t i = 0;; i++) {
        const store_table_t *t = store_schema_table_at(s, ks, i);
        if (!t) break;
        for (size_t c = 0; c < t->info.ncolumns; c++)
            if (store_type_references_udt(t->info.columns[c].type, ks, name)) {
                ddl_event(d, STORE_CHANGE_UPDATED, STORE_TARGET_TABLE, ks, t->info.name);
                break;
            }
    }
    store_schema_release(s);
}

int store_udt_create(store_t *st, const char *keyspace, const char *name, const char *const *field_names,
                     const store_type_t *const *field_types, size_t nfields, bool if_not_exists, bool *changed,
                     char *errstr, size_t errlen) {
    if (!valid_name(name))
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Type name must not be empty, more than 48 characters long, or "
                        "contain non-alphanumeric-underscore characters (got \"%s\")", name);
    const store_type_t *native = NULL;
    if (store_type_parse(NULL, NULL, name, strlen(name), &native, NULL, 0) == EDDY_OK) {
        store_type_release(native);
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "User defined type name %s is reserved", name);
    }
    for (size_t i = 0; i < nfields; i++) {
        for (size_t j = 0; j < i; j++)
            if (!strcmp(field_names[i], field_names[j]))
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Duplicate field name %s in type %s", field_names[i], name);
        if (field_types[i]->kind == STORE_T_COUNTER)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "A user type cannot contain counters");
    }
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    char key[600], kkey[600];
    type_key(key, sizeof key, keyspace, name);
    snprintf(kkey, sizeof kkey, "k/%s", keyspace);
    int rc = EDDY_OK;
    store_udef_t ud = {0};
    if (!rec_get(st, kkey)) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Keyspace '%s' doesn't exist", keyspace);
    } else if (rec_get(st, key)) {
        if (!if_not_exists)
            rc = eddy_err(errstr, errlen, EDDY_ERR_EXISTS, "A user type with name '%s' already exists", name);
    } else {
        ud.keyspace = eddy_strdup(keyspace);
        ud.name = eddy_strdup(name);
        ud.fields = eddy_calloc(nfields ? nfields : 1, sizeof(char *));
        ud.types = eddy_calloc(nfields ? nfields : 1, sizeof(char *));
        rc = ud.keyspace && ud.name && ud.fields && ud.types ? EDDY_OK : EDDY_ERR_NOMEM;
        for (size_t i = 0; i < nfields && rc == EDDY_OK; i++) {
            const store_type_t *ft = store_type_frozen(field_types[i]);
            ud.fields[i] = eddy_strdup(field_names[i]);
            ud.types[i] = ft ? type_text(ft) : NULL;
            store_type_release(ft);
            ud.n++;
            if (!ud.fields[i] || !ud.types[i]) rc = EDDY_ERR_NOMEM;
        }
        if (rc == EDDY_OK) {
            wr_t w;
            wr_init(&w, 256);
            store_udef_write(&ud, &w);
            rc = ddl_put(d, key, &w);
        }
        if (rc == EDDY_OK) {
            ddl_event(d, STORE_CHANGE_CREATED, STORE_TARGET_TYPE, keyspace, name);
            rc = ddl_commit(st, d, true, errstr, errlen);
        }
    }
    store_udef_free(&ud);
    ddl_finish(st, d, rc, changed);
    return rc;
}

static int udt_edit(store_t *st, const char *keyspace, const char *name, const char *field_name,
                    const store_type_t *field_type, const char *const *names, size_t npairs, bool *changed, char *errstr,
                    size_t errlen) {
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    char key[600];
    type_key(key, sizeof key, keyspace, name);
    const char *json = rec_get(st, key);
    store_udef_t ud = {0};
    int rc = EDDY_OK;
    if (!json) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Unknown user type %s.%s", keyspace, name);
        goto out;
    }
    if ((rc = store_udef_parse(json, &ud))) goto out;
    if (field_name) {
        for (size_t i = 0; i < ud.n; i++)
            if (!strcmp(ud.fields[i], field_name)) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                              "Cannot add new field %s to type %s.%s: a field of the same name already exists", field_name,
                              keyspace, name);
                goto out;
            }
        if (store_type_references_udt(field_type, keyspace, name)) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot add new field %s of type %s to user type %s as this would create a cycle",
                          field_name, name, name);
            goto out;
        }
        char **nf = eddy_realloc(ud.fields, (ud.n + 1) * sizeof *nf);
        if (nf) ud.fields = nf;
        char **nt = eddy_realloc(ud.types, (ud.n + 1) * sizeof *nt);
        if (nt) ud.types = nt;
        if (!nf || !nt) {
            rc = EDDY_ERR_NOMEM;
            goto out;
        }
        const store_type_t *ft = store_type_frozen(field_type);
        ud.fields[ud.n] = eddy_strdup(field_name);
        ud.types[ud.n] = ft ? type_text(ft) : NULL;
        store_type_release(ft);
        ud.n++;
        if (!ud.fields[ud.n - 1] || !ud.types[ud.n - 1]) {
            rc = EDDY_ERR_NOMEM;
            goto out;
        }
    } else {
        for (size_t p = 0; p < npairs; p++) {
            const char *from = names[2 * p], *to = names[2 * p + 1];
            int f = -1;
            for (size_t i = 0; i < ud.n; i++) {
                if (!strcmp(ud.fields[i], from)) f = (int)i;
                if (!strcmp(ud.fields[i], to)) {
                    rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Duplicate field name %s in type %s", to, name);
                    goto out;
                }
            }
            if (f < 0) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unkown field %s in user type %s", from, name);
                goto out;
            }
            char *nn = eddy_strdup(to);
            if (!nn) {
                rc = EDDY_ERR_NOMEM;
                goto out;
            }
            eddy_free(ud.fields[f]);
            ud.fields[f] = nn;
        }
    }
    wr_t w;
    wr_init(&w, 256);
    store_udef_write(&ud, &w);
    if ((rc = ddl_put(d, key, &w))) goto out;
    ddl_event(d, STORE_CHANGE_UPDATED, STORE_TARGET_TYPE, keyspace, name);
    events_for_users(st, d, keyspace, name);
    rc = ddl_commit(st, d, true, errstr, errlen);
out:
    store_udef_free(&ud);
    ddl_finish(st, d, rc, changed);
    return rc;
}

int store_udt_alter_add(store_t *st, const char *keyspace, const char *name, const char *field_name,
                        const store_type_t *field_type, bool *changed, char *errstr, size_t errlen) {
    return udt_edit(st, keyspace, name, field_name, field_type, NULL, 0, changed, errstr, errlen);
}

int store_udt_alter_rename(store_t *st, const char *keyspace, const char *name, const char *const *names, size_t npairs,
                           bool *changed, char *errstr, size_t errlen) {
    return udt_edit(st, keyspace, name, NULL, NULL, names, npairs, changed, errstr, errlen);
}

int store_udt_drop(store_t *st, const char *keyspace, const char *name, bool if_exists, bool *changed, char *errstr,
                   size_t errlen) {
    ddl_t *d = ddl_begin(st);
    if (!d) return EDDY_ERR_NOMEM;
    char key[600];
    type_key(key, sizeof key, keyspace, name);
    int rc = EDDY_OK;
    if (!rec_get(st, key)) {
        if (!if_exists) rc = eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "Type '%s.%s' doesn't exist", keyspace, name);
        goto out;
    }
    store_schema_t *s = store_schema_get(st);
    for (size_t i = 0; rc == EDDY_OK; i++) {
        const store_table_t *t = store_schema_table_at(s, keyspace, i);
        if (!t) break;
        for (size_t c = 0; c < t->info.ncolumns; c++)
            if (store_type_references_udt(t->info.columns[c].type, keyspace, name)) {
                rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot drop user type %s.%s as it is still used by table %s",
                              keyspace, name, t->info.name);
                break;
            }
    }
    for (size_t i = 0; rc == EDDY_OK; i++) {
        const store_udt_info_t *u = store_schema_type_at(s, keyspace, i);
        if (!u) break;
        if (strcmp(u->name, name) && store_type_references_udt(u->type, keyspace, name))
            rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot drop user type %s.%s as it is still used by user type %s",
                          keyspace, name, u->name);
    }
    store_schema_release(s);
    if (rc) goto out;
    if ((rc = ddl_del(d, key))) goto out;
    ddl_event(d, STORE_CHANGE_DROPPED, STORE_TARGET_TYPE, keyspace, name);
    rc = ddl_commit(st, d, true, errstr, errlen);
out:
    ddl_finish(st, d, rc, changed);
    return rc;
}
