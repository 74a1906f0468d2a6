/* RocksDB under the store: opening the column families, the merge operator (row fragment
 * reconciliation), the compaction filter (tombstone and TTL purging after gc grace, dropped
 * columns), the sync thread (group commit: writes go to the WAL without fsync; one thread
 * fsyncs for everyone and then runs the completions), and small helpers.
 *
 * Column families: "data" (rows), "part" (partition headers: partition deletions, range
 * tombstones, static rows), "kv" (the pipelines' positions and state), "schema" (catalog).
 * Memory stays small: one LRU block cache shared by all (a cap of 32 MiB by default, eddy up's
 * 512 MiB; it holds only what was read, so an idle store uses little), 8 MiB memtables, 32 MiB for rows and key/value
 * entries while bulk writes are on (store_bulk_writes). Flushes write L0 files uncompressed
 * (they live until the next compaction; compressing them cost the pipelines a core's fifth);
 * compactions compress with LZ4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "store/store_int.h"

static const char *const cf_names[CF_COUNT] = {"default", "data", "part", "kv", "schema"};

int64_t store_now_us(store_t *st) { return st->opts.clock_us ? st->opts.clock_us(st->opts.clock_arg) : time_now_us(); }
int64_t store_now_s(store_t *st) { return store_now_us(st) / 1000000; }

int store_options_parse_sync(store_options_t *opts, const char *s, char *errstr, size_t errlen) {
    if (!s || !strcmp(s, "group")) {
        opts->sync_mode = STORE_SYNC_GROUP;
    } else if (!strcmp(s, "none")) {
        opts->sync_mode = STORE_SYNC_NONE;
    } else if (!strncmp(s, "interval:", 9)) {
        char *end;
        long ms = strtol(s + 9, &end, 10);
        if (*end || ms <= 0 || ms > 3600000)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "bad fsync interval '%s' (interval:MS, 1..3600000)", s);
        opts->sync_mode = STORE_SYNC_INTERVAL;
        opts->interval_ms = (int)ms;
    } else {
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "unknown fsync mode '%s' (group, interval:MS, none)", s);
    }
    return EDDY_OK;
}

/* ---- merge operator ---- */

static char *merge_fold(const char *base, size_t base_len, const char *const *ops, const size_t *lens, int n,
                        unsigned char *success, size_t *out_len) {
    wr_t a, b;
    wr_init(&a, 256);
    wr_init(&b, 256);
    const uint8_t *cur = (const uint8_t *)base;
    size_t cur_len = base ? base_len : 0;
    int i = 0;
    if (!base && n > 0) {
        cur = (const uint8_t *)ops[0];
        cur_len = lens[0];
        i = 1;
    }
    wr_t *dst = &a;
    for (; i < n; i++) {
        wr_reset(dst);
        if (store_frag_merge(cur, cur_len, (const uint8_t *)ops[i], lens[i], dst) != EDDY_OK) {
            /* never lose data: keep the newer operand as is */
            wr_reset(dst);
            wr_bytes(dst, ops[i], lens[i]);
        }
        cur = dst->buf;
        cur_len = dst->len;
        dst = dst == &a ? &b : &a;
    }
    char *out = eddy_malloc(cur_len ? cur_len : 1);
    if (out && cur_len) memcpy(out, cur, cur_len);
    wr_free(&a);
    wr_free(&b);
    *success = out != NULL;
    *out_len = cur_len;
    return out;
}

static char *merge_full(void *state, const char *key, size_t klen, const char *existing, size_t elen,
                        const char *const *ops, const size_t *lens, int n, unsigned char *success, size_t *out_len) {
    (void)state, (void)key, (void)klen;
    return merge_fold(existing, elen, ops, lens, n, success, out_len);
}

static char *merge_partial(void *state, const char *key, size_t klen, const char *const *ops, const size_t *lens,
                           int n, unsigned char *success, size_t *out_len) {
    (void)state, (void)key, (void)klen;
    return merge_fold(NULL, 0, ops, lens, n, success, out_len);
}

static void merge_delete(void *state, const char *value, size_t len) {
    (void)state, (void)len;
    eddy_free((void *)value);
}

static const char *merge_name(void *state) {
    (void)state;
    return "eddy.store.fragment.v1";
}

static void nop_destructor(void *state) { (void)state; }

/* ---- compaction filter ---- */

typedef struct {
    store_t *st;
    store_schema_t *schema;
    int64_t now_s;
    wr_t buf;
    const store_table_t *table; /* of the key being filtered */
} cfilter_t;

static bool cfilter_keep_col(void *arg, uint32_t col_id, int64_t ts) {
    const store_table_t *t = arg;
    (void)ts;
    return col_id >= STORE_REFS_COL_BASE || (col_id < t->nids && t->index_of_id[col_id] >= 0);
}

static unsigned char cfilter_filter(void *state, int level, const char *key, size_t klen, const char *val, size_t vlen,
                                    char **new_value, size_t *new_len, unsigned char *changed) {
    cfilter_t *cf = state;
    (void)level;
    *changed = 0;
    /* A compaction that RocksDB starts while the store opens runs before the catalog is loaded:
     * without a schema, nothing is purged (a later compaction will). */
    if (klen < 4 || !cf->schema) return 0;
    uint32_t id = load_u32((const uint8_t *)key);
    const store_table_t *t = store_schema_table_by_id(cf->schema, id);
    /* ids are never reused: a known id without a table is a dropped table's (a write that raced
     * the drop's range deletion); an id from the future is kept */
    if (!t) return id < cf->schema->next_table_id ? 1 : 0;
    wr_reset(&cf->buf);
    bool empty, ch;
    /* dropped columns are checked only in tables that have some */
    if (store_frag_purge((const uint8_t *)val, vlen, cf->now_s, t->info.options.gc_grace_seconds,
                   t->info.ndropped ? cfilter_keep_col : NULL, (void *)t, &cf->buf, &empty, &ch) != EDDY_OK)
        return 0;
    if (empty) return 1;
    if (ch && wr_ok(&cf->buf)) {
        /* RocksDB copies the new value before the next call; the buffer is reused */
        *new_value = (char *)cf->buf.buf;
        *new_len = cf->buf.len;
        *changed = 1;
    }
    return 0;
}

static void cfilter_destroy(void *state) {
    cfilter_t *cf = state;
    store_schema_release(cf->schema);
    wr_free(&cf->buf);
    eddy_free(cf);
}

static const char *cfilter_name(void *state) {
    (void)state;
    return "eddy.store.purge";
}

static rocksdb_compactionfilter_t *cff_create(void *state, rocksdb_compactionfiltercontext_t *ctx) {
    store_t *st = state;
    (void)ctx;
    cfilter_t *cf = eddy_calloc(1, sizeof *cf);
    if (!cf) return NULL;
    cf->st = st;
    cf->schema = store_schema_get(st);
    cf->now_s = store_now_s(st);
    wr_init(&cf->buf, 256);
    return rocksdb_compactionfilter_create(cf, cfilter_destroy, cfilter_filter, cfilter_name);
}

static const char *cff_name(void *state) {
    (void)state;
    return "eddy.store.purge.factory";
}

/* ---- sync thread ---- */

static void run_waiters(store_sync_waiter_t *w, int status) {
    while (w) {
        store_sync_waiter_t *next = w->next;
        w->done(w->arg, status);
        eddy_free(w);
        w = next;
    }
}

static int flush_wal(store_t *st) {
    char *err = NULL;
    rocksdb_flush_wal(st->db, 1, &err);
    __atomic_fetch_add(&st->n_syncs, 1, __ATOMIC_RELAXED);
    if (err) {
        elog_error("store", "WAL fsync failed: %s", err);
        rocksdb_free(err);
        return EDDY_ERR_IO;
    }
    return EDDY_OK;
}

static void *sync_main(void *arg) {
    store_t *st = arg;
    int64_t last_sync = time_mono_ms();
    uint64_t synced_batches = 0; /* interval mode: batches written since the last fsync */
    pthread_mutex_lock(&st->sync_lock);
    for (;;) {
        if (!st->sync_head && !st->sync_stop) {
            if (st->opts.sync_mode == STORE_SYNC_INTERVAL) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                int64_t ns = ts.tv_nsec + (int64_t)st->opts.interval_ms * 1000000;
                ts.tv_sec += ns / 1000000000;
                ts.tv_nsec = ns % 1000000000;
                pthread_cond_timedwait(&st->sync_cond, &st->sync_lock, &ts);
            } else {
                pthread_cond_wait(&st->sync_cond, &st->sync_lock);
            }
        }
        store_sync_waiter_t *list = st->sync_head;
        st->sync_head = NULL;
        st->sync_tail = &st->sync_head;
        bool stop = st->sync_stop;
        pthread_mutex_unlock(&st->sync_lock);
        int status = EDDY_OK;
        if (st->opts.sync_mode == STORE_SYNC_GROUP && list) {
            status = flush_wal(st);
        } else if (st->opts.sync_mode == STORE_SYNC_INTERVAL && time_mono_ms() - last_sync >= st->opts.interval_ms) {
            /* every write counts, not only those waiting for a completion */
            uint64_t batches = __atomic_load_n(&st->n_batches, __ATOMIC_RELAXED);
            if (batches != synced_batches) flush_wal(st);
            synced_batches = batches;
            last_sync = time_mono_ms();
        }
        run_waiters(list, status);
        pthread_mutex_lock(&st->sync_lock);
        if (stop && !st->sync_head) break;
    }
    pthread_mutex_unlock(&st->sync_lock);
    return NULL;
}

void store_sync_after(store_t *st, store_done_fn done, void *arg) {
    store_sync_waiter_t *w = eddy_malloc(sizeof *w);
    if (!w) {
        /* no memory for the queue: make it durable here and report */
        done(arg, flush_wal(st));
        return;
    }
    w->done = done;
    w->arg = arg;
    w->next = NULL;
    pthread_mutex_lock(&st->sync_lock);
    *st->sync_tail = w;
    st->sync_tail = &w->next;
    pthread_cond_signal(&st->sync_cond);
    pthread_mutex_unlock(&st->sync_lock);
}

/* ---- open / close ---- */

static rocksdb_options_t *cf_options(store_t *st, int cf) {
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_write_buffer_size(o, st->opts.write_buffer_bytes);
    rocksdb_options_set_max_write_buffer_number(o, 3);
    rocksdb_options_set_compression(o, rocksdb_lz4_compression);
    int levels[7] = {rocksdb_no_compression,  rocksdb_lz4_compression, rocksdb_lz4_compression, rocksdb_lz4_compression,
                     rocksdb_lz4_compression, rocksdb_lz4_compression, rocksdb_lz4_compression};
    rocksdb_options_set_compression_per_level(o, levels, 7);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(o, 1);
    rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(t, st->cache);
    /* the table options own their filter policy */
    rocksdb_block_based_options_set_filter_policy(t, rocksdb_filterpolicy_create_bloom_full(10));
    /* Full filters and a binary index, held by the table readers outside the block cache (as
     * Cassandra keeps its bloom filters and index summaries in memory). Every point read probes
     * each sorted run (rows are merge operands, so a get never stops at the first one it
     * finds): a full filter answers in one lookup where a partitioned one costs an index seek
     * and a second cache lookup per run (16% fewer instructions per cached point read under
     * callgrind), and keeping filters and indexes out of the cache saves a cache lookup for
     * each (16% fewer again; 15% less server CPU per CQL point read). Their memory is bounded
     * by the open files (max_open_files): about 1.2 MB of filter and 1 MB of index per million
     * rows. 4 KiB blocks (RocksDB's default): a point read that misses the cache decompresses
     * 4 KiB, not 16, and searches a smaller block (3% fewer instructions per cached read).
     * A restart point every 4 keys instead of 16: a point read's linear scan after the binary
     * search is shorter (4-5% fewer instructions per point read, the same file sizes: keys share
     * little more than their table id and the token's first bytes). */
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(t, 0);
    rocksdb_block_based_options_set_block_size(t, 4096);
    rocksdb_block_based_options_set_block_restart_interval(t, 4);
    rocksdb_block_based_options_set_format_version(t, 5);
    rocksdb_options_set_block_based_table_factory(o, t);
    st->bbto[cf] = t;
    if (cf == CF_DATA || cf == CF_PART) {
        /* the options own these (one each per column family) */
        rocksdb_options_set_merge_operator(
            o, rocksdb_mergeoperator_create(st, nop_destructor, merge_full, merge_partial, merge_delete, merge_name));
        rocksdb_options_set_compaction_filter_factory(
            o, rocksdb_compactionfilterfactory_create(st, nop_destructor, cff_create, cff_name));
    }
    if (cf == CF_DATA || cf == CF_PART || cf == CF_KV) {
        /* A point read looks into every memtable (rows are merge operands) and most of them do
         * not hold the key; most header lookups find nothing, and the pipelines' state reads of
         * new keys neither: a memtable bloom answers without a skip-list search (9% fewer
         * instructions per point read of rows still in memtables and L0). */
        rocksdb_options_set_memtable_prefix_bloom_size_ratio(o, 0.02);
        rocksdb_options_set_memtable_whole_key_filtering(o, 1);
    }
    return o;
}

int store_open(const char *dir, const store_options_t *opts, store_t **out, char *errstr, size_t errlen) {
    *out = NULL;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    store_t *st = eddy_calloc(1, sizeof *st);
    if (!st) return EDDY_ERR_NOMEM;
    if (opts) st->opts = *opts;
    if (!st->opts.block_cache_bytes) st->opts.block_cache_bytes = 32u << 20;
    if (!st->opts.write_buffer_bytes) st->opts.write_buffer_bytes = 8u << 20;
    if (!st->opts.max_background_jobs) st->opts.max_background_jobs = 2;
    if (!st->opts.interval_ms) st->opts.interval_ms = 100;
    if (!st->opts.max_value_bytes) st->opts.max_value_bytes = 64u << 20;
    if (!st->opts.max_mutation_bytes) st->opts.max_mutation_bytes = 128u << 20;
    st->dir = eddy_strdup(dir);
    pthread_mutex_init(&st->sync_lock, NULL);
    pthread_mutex_init(&st->bulk_lock, NULL);
    pthread_cond_init(&st->sync_cond, NULL);
    /* before RocksDB opens: a compaction it starts at once takes a (still empty) snapshot */
    pthread_mutex_init(&st->cat.snap_lock, NULL);
    st->sync_tail = &st->sync_head;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(st->cas_locks); i++) pthread_mutex_init(&st->cas_locks[i], NULL);

    /* few shards: RocksDB would cut a small cache into 64 shards too small for large blocks */
    rocksdb_lru_cache_options_t *lo = rocksdb_lru_cache_options_create();
    rocksdb_lru_cache_options_set_capacity(lo, st->opts.block_cache_bytes);
    rocksdb_lru_cache_options_set_num_shard_bits(lo, st->opts.block_cache_bytes >= (256u << 20) ? 4 : 2);
    st->cache = rocksdb_cache_create_lru_opts(lo);
    rocksdb_lru_cache_options_destroy(lo);

    st->dbopts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(st->dbopts, 1);
    rocksdb_options_set_create_missing_column_families(st->dbopts, 1);
    rocksdb_options_set_max_background_jobs(st->dbopts, st->opts.max_background_jobs);
    rocksdb_options_set_max_open_files(st->dbopts, 256);
    /* open files on this thread: RocksDB's default starts 16 threads per column family at open */
    rocksdb_options_set_max_file_opening_threads(st->dbopts, 1);
    rocksdb_options_set_skip_stats_update_on_db_open(st->dbopts, 1);
    rocksdb_options_set_info_log_level(st->dbopts, 2 /* WARN */);
    rocksdb_options_set_keep_log_file_num(st->dbopts, 2);
    rocksdb_options_set_max_total_wal_size(st->dbopts, 64u << 20);
    /* A cap over all memtables (each column family flushes at its own size first): room for the
     * bulk size in the row and key/value families. */
    rocksdb_options_set_db_write_buffer_size(st->dbopts, EDDY_MAX(st->opts.write_buffer_bytes * 4, (size_t)128 << 20));
    rocksdb_options_set_wal_recovery_mode(st->dbopts, 2 /* point in time: a torn tail is dropped */);
    rocksdb_options_set_atomic_flush(st->dbopts, 1);
    /* Compactions (RocksDB's low-priority pool) run at nice 19: on 2 shared cores they took up
     * to 0.8 of a core from a pipeline's threads and delayed its batches by tens of ms (no
     * RocksDB write stall was ever counted; the delay was CPU). They get the idle time; if they
     * fall behind, RocksDB's own L0 slowdown throttles writers and gives them the CPU back.
     * Flushes (the high-priority pool) keep the normal priority: memtables must not wait. */
    st->env = rocksdb_create_default_env();
    rocksdb_env_lower_thread_pool_cpu_priority(st->env);
    rocksdb_options_set_env(st->dbopts, st->env);
    st->wal_buffered = st->opts.sync_mode == STORE_SYNC_GROUP;
    rocksdb_options_set_manual_wal_flush(st->dbopts, st->wal_buffered);
    for (int i = 0; i < CF_COUNT; i++) st->cfopts[i] = cf_options(st, i);

    char *err = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    st->db = rocksdb_open_column_families(st->dbopts, path, CF_COUNT, cf_names,
                                          (const rocksdb_options_t *const *)st->cfopts, st->cf, &err);
    int rc = EDDY_OK;
    if (err) {
        rc = eddy_err(errstr, errlen, strstr(err, "lock") ? EDDY_ERR_BUSY : EDDY_ERR_IO, "cannot open store %s: %s", dir, err);
        rocksdb_free(err);
        st->db = NULL;
        goto fail;
    }
    st->wopts_nosync = rocksdb_writeoptions_create();
    st->wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st->wopts_sync, 1);
    st->ropts = rocksdb_readoptions_create();
    if ((rc = store_catalog_load(st, errstr, errlen))) goto fail;
    /* which tables have partition headers: one seek per such table */
    {
        rocksdb_iterator_t *pi = rocksdb_create_iterator_cf(st->db, st->ropts, st->cf[CF_PART]);
        for (rocksdb_iter_seek_to_first(pi); rocksdb_iter_valid(pi);) {
            size_t kl;
            const uint8_t *k = (const uint8_t *)rocksdb_iter_key(pi, &kl);
            if (kl < 4) break;
            uint32_t id = load_u32(k);
            store_headers_note(st, id);
            if (id == UINT32_MAX) break;
            uint8_t next[4];
            store_u32(next, id + 1);
            rocksdb_iter_seek(pi, (const char *)next, 4);
        }
        rocksdb_iter_destroy(pi);
    }
    st->list_seq = (uint64_t)store_now_us(st) << 8;
    if (pthread_create(&st->sync_thread, NULL, sync_main, st) != 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot start the store's sync thread");
        goto fail;
    }
    st->sync_started = true;
    *out = st;
    return EDDY_OK;
fail:
    store_close(st);
    return rc;
}

void store_close(store_t *st) {
    if (!st) return;
    if (st->sync_started) {
        pthread_mutex_lock(&st->sync_lock);
        st->sync_stop = true;
        pthread_cond_signal(&st->sync_cond);
        pthread_mutex_unlock(&st->sync_lock);
        pthread_join(st->sync_thread, NULL);
    }
    if (st->db) {
        flush_wal(st);
        rocksdb_cancel_all_background_work(st->db, 1);
    }
    if (st->cat.recs || st->cat.current) store_catalog_close(st);
    for (int i = 0; i < CF_COUNT; i++)
        if (st->cf[i]) rocksdb_column_family_handle_destroy(st->cf[i]);
    if (st->db) rocksdb_close(st->db);
    for (int i = 0; i < CF_COUNT; i++) {
        if (st->cfopts[i]) rocksdb_options_destroy(st->cfopts[i]);
        if (st->bbto[i]) rocksdb_block_based_options_destroy(st->bbto[i]);
    }
    if (st->dbopts) rocksdb_options_destroy(st->dbopts);
    if (st->wopts_nosync) rocksdb_writeoptions_destroy(st->wopts_nosync);
    if (st->wopts_sync) rocksdb_writeoptions_destroy(st->wopts_sync);
    if (st->ropts) rocksdb_readoptions_destroy(st->ropts);
    if (st->cache) rocksdb_cache_destroy(st->cache);
    if (st->env) rocksdb_env_destroy(st->env);
    pthread_mutex_destroy(&st->sync_lock);
    pthread_mutex_destroy(&st->bulk_lock);
    pthread_cond_destroy(&st->sync_cond);
    pthread_mutex_destroy(&st->cat.snap_lock);
    for (size_t i = 0; i < EDDY_ARRAY_LEN(st->cas_locks); i++) pthread_mutex_destroy(&st->cas_locks[i]);
    eddy_free(st->dir);
    eddy_free(st);
}

/* ---- bulk writes ---- */

static void set_write_buffer(store_t *st, size_t bytes) {
    char v[32];
    snprintf(v, sizeof v, "%zu", bytes);
    const char *keys[] = {"write_buffer_size"}, *vals[] = {v};
    static const int cfs[] = {CF_DATA, CF_KV};
    for (size_t i = 0; i < EDDY_ARRAY_LEN(cfs); i++) {
        char *err = NULL;
        rocksdb_set_options_cf(st->db, st->cf[cfs[i]], 1, keys, vals, &err);
        if (err) {
            elog_warn("store", "cannot set write_buffer_size to %s: %s", v, err);
            rocksdb_free(err);
        }
    }
}

void store_bulk_writes(store_t *st, bool on) {
    pthread_mutex_lock(&st->bulk_lock);
    if (on && st->bulk++ == 0) {
        set_write_buffer(st, EDDY_MAX(st->opts.write_buffer_bytes, STORE_BULK_WRITE_BUFFER));
    } else if (!on && st->bulk > 0 && --st->bulk == 0) {
        set_write_buffer(st, st->opts.write_buffer_bytes);
        /* The large memtables go to disk now rather than whenever they would have filled: an
         * idle store gives their memory back. */
        rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
        rocksdb_flushoptions_set_wait(fo, 0);
        char *err = NULL;
        rocksdb_flush_cf(st->db, fo, st->cf[CF_DATA], &err);
        if (err) rocksdb_free(err);
        rocksdb_flushoptions_destroy(fo);
    }
    pthread_mutex_unlock(&st->bulk_lock);
}

/* ---- helpers ---- */

int store_db_get(store_t *st, int cf, const uint8_t *key, size_t klen, wr_t *out, char *errstr, size_t errlen) {
    char *err = NULL;
    rocksdb_pinnableslice_t *v = rocksdb_get_pinned_cf(st->db, st->ropts, st->cf[cf], (const char *)key, klen, &err);
    if (err) {
        int rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "store read failed: %s", err);
        rocksdb_free(err);
        return rc;
    }
    if (!v) return EDDY_ERR_NOT_FOUND;
    size_t vl;
    const char *p = rocksdb_pinnableslice_value(v, &vl);
    wr_bytes(out, p, vl);
    rocksdb_pinnableslice_destroy(v);
    return wr_ok(out) ? EDDY_OK : out->err;
}

int store_db_write(store_t *st, rocksdb_writebatch_t *b, store_dur_t dur, char *errstr, size_t errlen) {
    char *err = NULL;
    rocksdb_write(st->db, dur == STORE_DUR_SYNC ? st->wopts_sync : st->wopts_nosync, b, &err);
    if (!err && dur == STORE_DUR_OS && st->wal_buffered) rocksdb_flush_wal(st->db, 0, &err);
    if (err) {
        int rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "store write failed: %s", err);
        rocksdb_free(err);
        return rc;
    }
    __atomic_fetch_add(&st->n_batches, 1, __ATOMIC_RELAXED);
    return EDDY_OK;
}

uint64_t store_list_path_next(store_t *st, uint32_t n) {
    /* time-based so that appends after a restart still sort after earlier ones; lock-free */
    uint64_t now = (uint64_t)store_now_us(st) << 8;
    uint64_t cur = __atomic_load_n(&st->list_seq, __ATOMIC_RELAXED);
    for (;;) {
        uint64_t base = cur > now ? cur : now;
        if (__atomic_compare_exchange_n(&st->list_seq, &cur, base + n, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return base;
    }
}

int store_compact(store_t *st, char *errstr, size_t errlen) {
    rocksdb_compactoptions_t *co = rocksdb_compactoptions_create();
    rocksdb_compactoptions_set_bottommost_level_compaction(co, 2 /* force */);
    rocksdb_compactoptions_set_exclusive_manual_compaction(co, 1);
    /* two passes: the first merges operands into values, the second runs the filter on them */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 1; i < CF_COUNT; i++) rocksdb_compact_range_cf_opt(st->db, st->cf[i], co, NULL, 0, NULL, 0);
    rocksdb_compactoptions_destroy(co);
    (void)errstr, (void)errlen;
    return EDDY_OK;
}

void store_stats(store_t *st, store_stats_t *out) {
    memset(out, 0, sizeof *out);
    for (int i = 1; i < CF_COUNT; i++) {
        uint64_t v = 0;
        if (rocksdb_property_int_cf(st->db, st->cf[i], "rocksdb.total-sst-files-size", &v) == 0) out->disk_bytes += v;
        if (rocksdb_property_int_cf(st->db, st->cf[i], "rocksdb.cur-size-all-mem-tables", &v) == 0)
            out->memtable_bytes += v;
    }
    out->block_cache_bytes = rocksdb_cache_get_usage(st->cache);
    out->writes = __atomic_load_n(&st->n_writes, __ATOMIC_RELAXED);
    out->batches = __atomic_load_n(&st->n_batches, __ATOMIC_RELAXED);
    out->syncs = __atomic_load_n(&st->n_syncs, __ATOMIC_RELAXED);
    out->reads = __atomic_load_n(&st->n_reads, __ATOMIC_RELAXED);
}

/* ---- key/value area ---- */

int store_kv_get(store_t *st, const void *key, size_t klen, wr_t *out, char *errstr, size_t errlen) {
    return store_db_get(st, CF_KV, key, klen, out, errstr, errlen);
}

int store_kv_scan(store_t *st, const void *prefix, size_t plen, store_kv_fn fn, void *arg, char *errstr,
                  size_t errlen) {
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(st->db, st->ropts, st->cf[CF_KV]);
    int rc = 0;
    for (rocksdb_iter_seek(it, prefix, plen); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
        if (kl < plen || memcmp(k, prefix, plen)) break;
        if ((rc = fn(arg, eddy_view(k, kl), eddy_view(v, vl)))) break;
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    if (err) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "store scan failed: %s", err);
        rocksdb_free(err);
    }
    rocksdb_iter_destroy(it);
    return rc;
}
