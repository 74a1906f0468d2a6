/* Store benchmark: upserts/s and cached point reads/s through the store's C API for the
 * workshop's `leaves` and `leaves_by_tag` shapes, against raw RocksDB puts and gets of the same
 * key and value bytes in the same run.
 *
 *   build/bench/store DIR [LEAVES] [THREADS]
 *
 * Upserts: THREADS writers, each its share of the rows in batches of 64 rows (one RocksDB write
 * batch each, WAL on, no fsync per batch: the CPU path; durability is group commit on top).
 * The raw peer writes the exact keys and values the store wrote (captured from the store's own
 * write batches before timing) with rocksdb Put into a database with the same options (table
 * format: uncompressed L0, LZ4 below, full filters and indexes outside the cache, 4 KiB blocks
 * with a restart point every 4 keys; memtable blooms; cache).
 * Point reads: THREADS readers, random full primary keys, after both databases were compacted
 * (steady state, data in the block cache), the store through a reused iterator (decoding the
 * row into cells) and the peer with rocksdb_get_pinned of the same key. Best of ROUNDS. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"

#define BATCH 64
#define ROUNDS_DEFAULT 3

typedef struct {
    uint8_t *buf;
    size_t len;
} blob_t;

/* One row to write: key values and cell values (serialized), by column index. */
typedef struct {
    eddy_view_t key[2];
    eddy_view_t vals[32];
    int cols[32];
    int nvals;
} row_t;

typedef struct {
    const char *name;
    const store_table_t *t;
    row_t *rows;
    size_t nrows;
    size_t nkey;
    /* captured (key, value) pairs per batch, for the raw peer */
    uint8_t **pairs;      /* per batch: the batch's WriteBatch representation */
    size_t *pairs_len;
    size_t nbatches;
    wr_t keys;            /* every row's RocksDB key, for the raw gets */
    size_t *key_off;
} shape_t;

static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void) {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static wr_t arena_buf; /* all generated values, never moved: sized up front */

static eddy_view_t keep(const void *p, size_t n) {
    uint8_t *d = arena_buf.buf + arena_buf.len;
    if (arena_buf.len + n > arena_buf.cap) {
        fprintf(stderr, "value arena full\n");
        exit(1);
    }
    memcpy(d, p, n);
    arena_buf.len += n;
    return eddy_view(d, n);
}

static eddy_view_t rand_text(size_t lo, size_t hi) {
    char b[2048];
    size_t n = lo + rnd() % (hi - lo + 1);
    for (size_t i = 0; i < n; i++) b[i] = "abcdefghijklmnopqrstuvwxyz -"[rnd() % 28];
    return keep(b, n);
}

static eddy_view_t ser_list(const eddy_view_t *e, size_t n) {
    uint8_t b[4096];
    size_t o = 0;
    store_u32(b, (uint32_t)n);
    o = 4;
    for (size_t i = 0; i < n; i++) {
        store_u32(b + o, (uint32_t)e[i].len);
        memcpy(b + o + 4, e[i].ptr, e[i].len);
        o += 4 + e[i].len;
    }
    return keep(b, o);
}

static const store_table_t *create(store_t *st, const char *name, const char *const *cols, size_t n) {
    char err[256];
    store_strmap_t rep = {2, (const char *[]){"class", "replication_factor"}, (const char *[]){"SimpleStrategy", "1"}};
    store_keyspace_create(st, "demo", &rep, true, true, NULL, err, sizeof err);
    store_column_spec_t specs[32];
    char names[32][64], types[32][64], kinds[32][16];
    for (size_t i = 0; i < n; i++) {
        sscanf(cols[i], "%63s %63s %15s", names[i], types[i], kinds[i]);
        specs[i].name = names[i];
        store_type_parse(NULL, NULL, types[i], strlen(types[i]), &specs[i].type, NULL, 0);
        specs[i].kind = !strcmp(kinds[i], "pk") ? STORE_COL_PARTITION_KEY : !strcmp(kinds[i], "ck") ? STORE_COL_CLUSTERING
                                                                                                      : STORE_COL_REGULAR;
        specs[i].desc = false;
    }
    if (store_table_create(st, "demo", name, specs, n, NULL, 0, true, NULL, err, sizeof err)) {
        fprintf(stderr, "create %s: %s\n", name, err);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) store_type_release(specs[i].type);
    const store_table_t *t;
    store_table_lookup(st, "demo", name, &t, err, sizeof err);
    return t;
}

static const char *const leaves_cols[] = {
    "id text pk", "is_archived int r", "all list<text> r", "is_starred int r", "user_name text r",
    "user_email text r", "user_id int r", "tags list<text> r", "slugs list<text> r", "is_public boolean r",
    "title text r", "url text r", "content_text text r", "created_at timestamp r", "updated_at timestamp r",
    "mimetype text r", "language text r", "reading_time int r", "domain_name text r", "preview_picture text r",
    "http_status text r", "links list<text> r", "content text r",
};
static const char *const by_tag_cols[] = {"tag text pk", "title text ck", "tags list<text> r", "url text r"};

static void set_col(row_t *r, const store_table_t *t, const char *name, eddy_view_t v) {
    int c = store_table_column(t, name, strlen(name));
    r->cols[r->nvals] = c;
    r->vals[r->nvals++] = v;
}

static void gen(shape_t *leaves, shape_t *bytag, size_t n) {
    leaves->rows = calloc(n, sizeof(row_t));
    bytag->rows = calloc(n * 3, sizeof(row_t));
    for (size_t i = 0; i < n; i++) {
        char id[33];
        for (int k = 0; k < 32; k++) id[k] = "0123456789abcdef"[rnd() % 16];
        eddy_view_t title = rand_text(20, 120), url = rand_text(30, 120);
        eddy_view_t tags[3];
        for (int k = 0; k < 3; k++) tags[k] = rand_text(3, 20);
        eddy_view_t taglist = ser_list(tags, 3);
        uint8_t i4[4], ts[8], one[4], b1 = 1;
        store_u32(i4, (uint32_t)(rnd() % 30));
        store_u64(ts, 1700000000000ULL + rnd() % 100000000);
        store_u32(one, 1);
        row_t *r = &leaves->rows[i];
        r->key[0] = keep(id, 32);
        const store_table_t *t = leaves->t;
        set_col(r, t, "is_archived", keep(one, 4));
        set_col(r, t, "is_starred", keep(i4, 4));
        set_col(r, t, "user_name", rand_text(5, 12));
        set_col(r, t, "user_email", rand_text(10, 24));
        set_col(r, t, "user_id", keep(one, 4));
        set_col(r, t, "tags", taglist);
        set_col(r, t, "slugs", taglist);
        set_col(r, t, "all", taglist);
        set_col(r, t, "is_public", keep(&b1, 1));
        set_col(r, t, "title", title);
        set_col(r, t, "url", url);
        set_col(r, t, "content_text", rand_text(300, 500));
        set_col(r, t, "created_at", keep(ts, 8));
        set_col(r, t, "updated_at", keep(ts, 8));
        set_col(r, t, "mimetype", keep("text/html", 9));
        set_col(r, t, "language", keep("en", 2));
        set_col(r, t, "reading_time", keep(i4, 4));
        set_col(r, t, "domain_name", keep("https://example.com", 19));
        set_col(r, t, "http_status", keep("200", 3));
        set_col(r, t, "links", ser_list(&url, 1));
        set_col(r, t, "content", rand_text(200, 300));
        for (int k = 0; k < 3; k++) {
            row_t *b = &bytag->rows[i * 3 + k];
            b->key[0] = tags[k];
            b->key[1] = title;
            set_col(b, bytag->t, "tags", taglist);
            set_col(b, bytag->t, "url", url);
        }
    }
    leaves->nrows = n;
    leaves->nkey = 1;
    bytag->nrows = n * 3;
    bytag->nkey = 2;
}

/* ---- upserts ---- */

typedef struct {
    store_t *st;
    rocksdb_t *raw;
    rocksdb_column_family_handle_t *raw_cf;
    rocksdb_writeoptions_t *wo;
    shape_t *s;
    size_t from, to;     /* batch range */
    bool use_raw;
} job_t;

static void build_batch(store_write_t *w, shape_t *s, size_t b) {
    char err[256];
    size_t first = b * BATCH, last = EDDY_MIN(first + BATCH, s->nrows);
    for (size_t i = first; i < last; i++) {
        row_t *r = &s->rows[i];
        if (store_write_row(w, s->t, r->key, s->nkey, 1000 + (int64_t)i, 0, STORE_ROW_INSERT, err, sizeof err)) {
            fprintf(stderr, "row: %s\n", err);
            exit(1);
        }
        for (int c = 0; c < r->nvals; c++)
            if (store_write_set(w, r->cols[c], r->vals[c].ptr, r->vals[c].len, err, sizeof err)) {
                fprintf(stderr, "set: %s\n", err);
                exit(1);
            }
    }
}

static void *upsert_main(void *arg) {
    job_t *j = arg;
    char err[256];
    if (j->use_raw) {
        rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
        for (size_t b = j->from; b < j->to; b++) {
            /* the store's batch representation, replayed as puts of the same keys and values */
            rd_t r = rd_init(j->s->pairs[b] + 12, j->s->pairs_len[b] - 12);
            rocksdb_writebatch_clear(wb);
            while (rd_remaining(&r)) {
                uint8_t tag = rd_u8(&r);
                if (tag == 0x6) rd_uvarint32(&r); /* column family id */
                uint32_t kl = rd_uvarint32(&r);
                const uint8_t *k = rd_bytes(&r, kl);
                uint32_t vl = rd_uvarint32(&r);
                const uint8_t *v = rd_bytes(&r, vl);
                if (!rd_ok(&r)) break;
                rocksdb_writebatch_put(wb, (const char *)k, kl, (const char *)v, vl);
            }
            char *e = NULL;
            rocksdb_write(j->raw, j->wo, wb, &e);
            if (e) {
                fprintf(stderr, "raw write: %s\n", e);
                exit(1);
            }
        }
        rocksdb_writebatch_destroy(wb);
    } else {
        store_write_t *w = store_write_new(j->st);
        for (size_t b = j->from; b < j->to; b++) {
            build_batch(w, j->s, b);
            if (store_write_apply(w, false, err, sizeof err)) {
                fprintf(stderr, "apply: %s\n", err);
                exit(1);
            }
        }
        store_write_free(w);
    }
    return NULL;
}

static double run_jobs(job_t *jobs, int threads, void *(*fn)(void *)) {
    pthread_t th[16];
    int64_t t0 = time_mono_ns();
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, fn, &jobs[i]);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    return (double)(time_mono_ns() - t0) / 1e9;
}

static void capture(store_t *st, shape_t *s) {
    s->nbatches = (s->nrows + BATCH - 1) / BATCH;
    s->pairs = calloc(s->nbatches, sizeof *s->pairs);
    s->pairs_len = calloc(s->nbatches, sizeof *s->pairs_len);
    store_write_t *w = store_write_new(st);
    for (size_t b = 0; b < s->nbatches; b++) {
        build_batch(w, s, b);
        store_write_flush_row(w);
        size_t n;
        const char *d = rocksdb_writebatch_data(w->batch, &n);
        s->pairs[b] = malloc(n);
        memcpy(s->pairs[b], d, n);
        s->pairs_len[b] = n;
        store_write_reset(w);
    }
    store_write_free(w);
    wr_init(&s->keys, s->nrows * 64);
    s->key_off = malloc((s->nrows + 1) * sizeof *s->key_off);
    char err[256];
    for (size_t i = 0; i < s->nrows; i++) {
        size_t pkl;
        int64_t tok;
        s->key_off[i] = s->keys.len;
        store_key_build(s->t, s->rows[i].key, s->nkey, &s->keys, &pkl, &tok, err, sizeof err);
    }
    s->key_off[s->nrows] = s->keys.len;
}

/* ---- reads ---- */

typedef struct {
    store_t *st;
    rocksdb_t *raw;
    rocksdb_column_family_handle_t *raw_cf;
    shape_t *s;
    size_t n;
    bool use_raw;
    uint64_t seed;
    size_t found;
} rjob_t;

static void *read_main(void *arg) {
    rjob_t *j = arg;
    uint64_t x = j->seed;
    char err[256];
    if (j->use_raw) {
        rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
        for (size_t i = 0; i < j->n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t r = x % j->s->nrows;
            const char *k = (const char *)j->s->keys.buf + j->s->key_off[r];
            size_t kl = j->s->key_off[r + 1] - j->s->key_off[r];
            char *e = NULL;
            rocksdb_pinnableslice_t *v = rocksdb_get_pinned(j->raw, ro, k, kl, &e);
            if (v) {
                j->found++;
                rocksdb_pinnableslice_destroy(v);
            }
        }
        rocksdb_readoptions_destroy(ro);
    } else if (getenv("STORE_RAWGET")) {
        /* diagnostic: plain gets of the same keys on the store's data column family */
        for (size_t i = 0; i < j->n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t r = x % j->s->nrows;
            const char *k = (const char *)j->s->keys.buf + j->s->key_off[r];
            size_t kl = j->s->key_off[r + 1] - j->s->key_off[r];
            char *e = NULL;
            rocksdb_pinnableslice_t *v = rocksdb_get_pinned_cf(j->st->db, j->st->ropts, j->st->cf[CF_DATA], k, kl, &e);
            if (v) {
                j->found++;
                rocksdb_pinnableslice_destroy(v);
            }
        }
    } else {
        store_iter_t *it = store_iter_new(j->st);
        store_query_t q;
        memset(&q, 0, sizeof q);
        q.table = j->s->t;
        q.nkeys = 1;
        store_crange_t range;
        for (size_t i = 0; i < j->n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            row_t *r = &j->s->rows[x % j->s->nrows];
            q.keys = &r->key[0];
            if (j->s->nkey == 2) {
                range.lo = (store_cbound_t){1, &r->key[1], true};
                range.hi = range.lo;
                q.ranges = &range;
                q.nranges = 1;
            }
            const store_row_t *row;
            if (store_iter_start(it, &q, err, sizeof err) == 0 && store_iter_next(it, &row, err, sizeof err) == 1) j->found++;
        }
        store_iter_free(it);
    }
    return NULL;
}

static double run_reads(rjob_t *jobs, int threads) {
    pthread_t th[16];
    int64_t t0 = time_mono_ns();
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, read_main, &jobs[i]);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    return (double)(time_mono_ns() - t0) / 1e9;
}

/* ---- peers ---- */

static rocksdb_t *raw_open(const char *dir, rocksdb_cache_t *cache, rocksdb_column_family_handle_t **cf,
                           rocksdb_options_t **optsp) {
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_options_set_write_buffer_size(o, 8u << 20);
    rocksdb_options_set_max_write_buffer_number(o, 3);
    rocksdb_options_set_max_background_jobs(o, 2);
    rocksdb_options_set_compression(o, rocksdb_lz4_compression);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(o, 1);
    int levels[7] = {rocksdb_no_compression,  rocksdb_lz4_compression, rocksdb_lz4_compression, rocksdb_lz4_compression,
                     rocksdb_lz4_compression, rocksdb_lz4_compression, rocksdb_lz4_compression};
    rocksdb_options_set_compression_per_level(o, levels, 7);
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(o, 0.02);
    rocksdb_options_set_memtable_whole_key_filtering(o, 1);
    rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(t, cache);
    rocksdb_block_based_options_set_filter_policy(t, rocksdb_filterpolicy_create_bloom_full(10));
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(t, 0);
    rocksdb_options_set_max_open_files(o, 256);
    rocksdb_block_based_options_set_block_size(t, 4096);
    rocksdb_block_based_options_set_block_restart_interval(t, 4);
    rocksdb_block_based_options_set_format_version(t, 5);
    rocksdb_options_set_block_based_table_factory(o, t);
    rocksdb_block_based_options_destroy(t);
    char *e = NULL;
    rocksdb_t *db = rocksdb_open(o, dir, &e);
    if (e) {
        fprintf(stderr, "raw open: %s\n", e);
        exit(1);
    }
    *cf = NULL; /* the default column family */
    *optsp = o;
    return db;
}

/* As store_compact does it (every file rewritten at the bottom level), so that both sides read
 * files in the same state (no flushed files left with their L0-pinned filters). */
static void compact_raw(rocksdb_t *db) {
    rocksdb_compactoptions_t *co = rocksdb_compactoptions_create();
    rocksdb_compactoptions_set_bottommost_level_compaction(co, 2 /* force */);
    rocksdb_compactoptions_set_exclusive_manual_compaction(co, 1);
    rocksdb_compact_range_opt(db, co, NULL, 0, NULL, 0);
    rocksdb_compactoptions_destroy(co);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [LEAVES] [THREADS]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    size_t nleaves = argc > 2 ? (size_t)atol(argv[2]) : 100000;
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    wr_init(&arena_buf, nleaves * 2200 + (1 << 20));
    char path[1024], err[256];
    double best[2][2][2] = {{{0}}}; /* shape, store/raw, upsert/read */
    int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : ROUNDS_DEFAULT;
    size_t reads = getenv("READS") ? (size_t)atol(getenv("READS")) : 1000000;
    for (int round = 0; round < rounds; round++) {
        snprintf(path, sizeof path, "rm -rf %s/round && mkdir -p %s/round", dir, dir);
        if (system(path)) return 1;
        store_options_t o;
        memset(&o, 0, sizeof o);
        o.block_cache_bytes = 512u << 20;
        o.sync_mode = STORE_SYNC_NONE;
        store_t *st;
        snprintf(path, sizeof path, "%s/round/store", dir);
        if (store_open(path, &o, &st, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        rocksdb_lru_cache_options_t *lo = rocksdb_lru_cache_options_create(); /* as the store's */
        rocksdb_lru_cache_options_set_capacity(lo, 512u << 20);
        rocksdb_lru_cache_options_set_num_shard_bits(lo, 4);
        rocksdb_cache_t *cache = rocksdb_cache_create_lru_opts(lo);
        rocksdb_lru_cache_options_destroy(lo);
        rocksdb_column_family_handle_t *rawcf;
        rocksdb_options_t *ropts;
        snprintf(path, sizeof path, "%s/round/raw", dir);
        rocksdb_t *raw = raw_open(path, cache, &rawcf, &ropts);
        rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
        shape_t shapes[2] = {{.name = "leaves"}, {.name = "leaves_by_tag"}};
        shapes[0].t = create(st, "leaves", leaves_cols, EDDY_ARRAY_LEN(leaves_cols));
        shapes[1].t = create(st, "leaves_by_tag", by_tag_cols, EDDY_ARRAY_LEN(by_tag_cols));
        arena_buf.len = 0;
        rnd_state = 88172645463325252ULL;
        gen(&shapes[0], &shapes[1], nleaves);
        for (int s = 0; s < 2; s++) {
            capture(st, &shapes[s]);
            /* store and raw alternate in chunks of batches, so that load changes hit both */
            size_t nb = shapes[s].nbatches, chunk = EDDY_MAX((size_t)threads, nb / 20);
            double secs[2] = {0, 0};
            for (size_t c0 = 0; c0 < nb; c0 += chunk) {
                size_t c1 = EDDY_MIN(c0 + chunk, nb);
                for (int order = 0; order < 2; order++) {
                    bool use_raw = (order == 0) == ((c0 / chunk + (size_t)round) % 2 == 0);
                    job_t jobs[16];
                    size_t per = (c1 - c0 + (size_t)threads - 1) / (size_t)threads;
                    for (int i = 0; i < threads; i++)
                        jobs[i] = (job_t){st, raw, rawcf, wo, &shapes[s], EDDY_MIN(c0 + (size_t)i * per, c1),
                                          EDDY_MIN(c0 + (size_t)(i + 1) * per, c1), use_raw};
                    secs[use_raw] += run_jobs(jobs, threads, upsert_main);
                }
            }
            for (int r = 0; r < 2; r++) {
                double rate = (double)shapes[s].nrows / secs[r];
                if (rate > best[s][r][0]) best[s][r][0] = rate;
            }
        }
        /* steady state: everything merged and in the block cache */
        store_compact(st, err, sizeof err);
        compact_raw(raw);
        for (int s = 0; s < 2; s++) {
            double secs[2] = {0, 0};
            size_t chunks = 20, per_chunk = reads / chunks / (size_t)threads;
            for (size_t c = 0; c <= chunks; c++) {
                for (int order = 0; order < 2; order++) {
                    bool use_raw = (order == 0) == ((c + (size_t)round) % 2 == 0);
                    const char *only = getenv("ONLY"); /* diagnostics: instruction counts of one side */
                    if (only && strcmp(only, use_raw ? "raw" : "store")) continue;
                    rjob_t rj[16];
                    for (int i = 0; i < threads; i++)
                        rj[i] = (rjob_t){st, raw, rawcf, &shapes[s], per_chunk, use_raw, 12345 + c * 31 + (uint64_t)i, 0};
                    double t = run_reads(rj, threads);
                    size_t found = 0;
                    for (int i = 0; i < threads; i++) found += rj[i].found;
                    if (found != per_chunk * (size_t)threads) {
                        fprintf(stderr, "%s %s: found %zu of %zu\n", shapes[s].name, use_raw ? "raw" : "store", found,
                                per_chunk * (size_t)threads);
                        return 1;
                    }
                    if (c > 0) secs[use_raw] += t; /* chunk 0 warms the cache */
                }
            }
            for (int r = 0; r < 2; r++) {
                double rate = (double)(per_chunk * (size_t)threads * chunks) / secs[r];
                if (rate > best[s][r][1]) best[s][r][1] = rate;
            }
        }
        for (int s = 0; s < 2; s++) {
            for (size_t b = 0; b < shapes[s].nbatches; b++) free(shapes[s].pairs[b]);
            free(shapes[s].pairs);
            free(shapes[s].pairs_len);
            free(shapes[s].rows);
            free(shapes[s].key_off);
            wr_free(&shapes[s].keys);
            store_table_release(shapes[s].t);
        }
        rocksdb_writeoptions_destroy(wo);
        rocksdb_close(raw);
        rocksdb_options_destroy(ropts);
        rocksdb_cache_destroy(cache);
        store_close(st);
        fprintf(stderr, "round %d done\n", round + 1);
    }
    snprintf(path, sizeof path, "rm -rf %s/round", dir);
    if (system(path)) return 1;
    printf("%zu leaves (%zu leaves_by_tag rows), %d threads, best of %d rounds\n\n", nleaves, nleaves * 3, threads, rounds);
    printf("| shape | store upserts/s | raw RocksDB puts/s | ratio | store point reads/s | raw gets/s | ratio |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    const char *names[2] = {"leaves", "leaves_by_tag"};
    for (int s = 0; s < 2; s++)
        printf("| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", names[s], best[s][0][0], best[s][1][0],
               best[s][0][0] / best[s][1][0], best[s][0][1], best[s][1][1], best[s][0][1] / best[s][1][1]);
    wr_free(&arena_buf);
    return 0;
}
