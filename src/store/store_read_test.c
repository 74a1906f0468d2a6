/* More store tests: tombstones kept until gc grace then purged, counters that stay deleted,
 * INSERT JSON with DEFAULT UNSET, DISTINCT, filtering across pages, IN lists across pages,
 * reversed slices with PER PARTITION LIMIT, static column deletion, dropped columns. */
#include <time.h>

#include "store/store_test_util.h"

static int64_t count_rows(store_t *st, const store_query_t *q) {
    store_iter_t *it = store_iter_new(st);
    char err[256];
    int64_t n = 0;
    const store_row_t *row;
    if (store_iter_start(it, q, err, sizeof err) == 0)
        while (store_iter_next(it, &row, err, sizeof err) == 1) n++;
    store_iter_free(it);
    return n;
}

TEST(store_tombstones_kept_until_gc_grace) {
    fake_clock_t clk = {1700000000LL * 1000000};
    store_t *st = open_store(test_tmpdir(), &clk);
    REQUIRE(st);
    store_option_t opts[] = {{"gc_grace_seconds", "100", NULL}};
    const char *cols[] = {"k int pk", "v int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 2, opts, 1);
    REQUIRE(t);
    char err[256];
    CHECK_OK(put(st, t, 10, 0, STORE_ROW_INSERT, "k=1;v=1"));
    store_write_t *w = store_write_new(st);
    uint8_t kb[4];
    store_u32(kb, 1);
    eddy_view_t key = eddy_view(kb, 4);
    CHECK_OK(store_write_delete_row(w, t, &key, 20, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_SCAN(st, t, "");
    /* within gc grace, compaction keeps the tombstone: a late older write stays hidden */
    clk.now_us += 50LL * 1000000;
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_OK(put(st, t, 15, 0, STORE_ROW_INSERT, "k=1;v=2"));
    CHECK_SCAN(st, t, "");
    /* past gc grace the tombstone goes, and so does the key (nothing live is left) */
    clk.now_us += 200LL * 1000000;
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_OK(store_compact(st, err, sizeof err));
    wr_t k, v;
    wr_init(&k, 32);
    wr_init(&v, 32);
    size_t pkl;
    int64_t tok;
    CHECK_OK(store_key_build(t, &key, 1, &k, &pkl, &tok, err, sizeof err));
    CHECK_EQ_INT(store_db_get(st, CF_DATA, k.buf, k.len, &v, err, sizeof err), EDDY_ERR_NOT_FOUND);
    /* and a write older than the purged tombstone shows again, as in Cassandra */
    CHECK_OK(put(st, t, 15, 0, STORE_ROW_INSERT, "k=1;v=3"));
    CHECK_SCAN(st, t, "k=1 v=3|");
    wr_free(&k);
    wr_free(&v);
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

TEST(store_counter_deletion_is_final) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k text pk", "c counter regular", "d counter regular"};
    const store_table_t *t = mk_table(st, "t", cols, 3, NULL, 0);
    REQUIRE(t);
    store_write_t *w = store_write_new(st);
    char err[256];
    eddy_view_t key = eddy_view("a", 1);
    CHECK_OK(store_write_row(w, t, &key, 1, 1, STORE_TTL_DEFAULT, 0, err, sizeof err));
    CHECK_OK(store_write_counter_add(w, 1, 5, err, sizeof err));
    CHECK_OK(store_write_counter_add(w, 2, 7, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_OK(store_write_row(w, t, &key, 1, 2, STORE_TTL_DEFAULT, 0, err, sizeof err));
    CHECK_OK(store_write_set(w, 1, NULL, 0, err, sizeof err) == 0 ? EDDY_ERR_INVALID : EDDY_OK);
    store_write_reset(w);
    /* DELETE c: a counter tombstone wins over every increment, later ones included */
    CHECK_OK(store_write_delete_row(w, t, &key, 3, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_OK(store_write_row(w, t, &key, 1, 100, STORE_TTL_DEFAULT, 0, err, sizeof err));
    CHECK_OK(store_write_counter_add(w, 2, 1, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    /* the row deletion at 3 shadows increments at <= 3; the increment at 100 starts afresh */
    CHECK_SCAN(st, t, "k='a' d=1|");
    CHECK_EQ_INT(store_write_row(w, t, &key, 1, 5, 10, 0, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Cannot provide custom TTL for counter updates");
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

TEST(store_json_default_unset) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"id text pk", "a int regular", "b text regular", "l list<int> regular"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    REQUIRE(t);
    store_write_t *w = store_write_new(st);
    char err[256];
    const char *j1 = "{\"id\": \"x\", \"a\": 1, \"b\": \"one\", \"l\": [1, 2]}";
    CHECK_OK(store_write_json(w, t, j1, strlen(j1), false, 10, STORE_TTL_DEFAULT, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    /* DEFAULT UNSET keeps what is not named */
    const char *j2 = "{\"id\": \"x\", \"a\": 2}";
    CHECK_OK(store_write_json(w, t, j2, strlen(j2), true, 11, STORE_TTL_DEFAULT, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_SCAN(st, t, "id='x' a=2 b='one' l=[1, 2]|");
    /* DEFAULT NULL (the default) clears it, collections included */
    CHECK_OK(store_write_json(w, t, j2, strlen(j2), false, 12, STORE_TTL_DEFAULT, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_SCAN(st, t, "id='x' a=2|");
    const char *nokey = "{\"a\": 2}";
    CHECK_EQ_INT(store_write_json(w, t, nokey, strlen(nokey), false, 12, STORE_TTL_DEFAULT, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Invalid null value in condition for column id");
    /* quoted keys are case-sensitive names; unquoted ones are lowercased */
    const char *upper = "{\"ID\": \"y\", \"A\": 3}";
    CHECK_OK(store_write_json(w, t, upper, strlen(upper), true, 13, STORE_TTL_DEFAULT, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    const char *quoted = "{\"\\\"ID\\\"\": \"y\"}";
    CHECK_EQ_INT(store_write_json(w, t, quoted, strlen(quoted), true, 13, STORE_TTL_DEFAULT, err, sizeof err),
                 EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "JSON values map contains unrecognized column: \"ID\"");
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

static int keep_even(void *arg, const store_row_t *row) {
    (void)arg;
    int v = store_table_column(row->table, "v", 1);
    return row->cells[v].ptr && ld_i32(row->cells[v].ptr) % 2 == 0;
}

TEST(store_distinct_filter_in_and_reversed_paging) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "c int ck", "v int regular", "s int static"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    REQUIRE(t);
    for (int k = 0; k < 6; k++)
        for (int c = 0; c < 5; c++) {
            char a[64];
            snprintf(a, sizeof a, "k=%d;c=%d;v=%d", k, c, k * 10 + c);
            REQUIRE(put(st, t, 1, 0, STORE_ROW_INSERT, a) == 0);
        }
    CHECK_OK(put(st, t, 1, 0, 0, "k=3;s=33"));
    CHECK_OK(put(st, t, 1, 0, 0, "k=9;s=99")); /* statics only */
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    /* DISTINCT: one row per partition with its statics, the statics-only one included */
    q.distinct = true;
    CHECK_EQ_INT(count_rows(st, &q), 7);
    q.distinct = false;
    /* a static-only partition shows as one row only without clustering restrictions */
    CHECK_EQ_INT(count_rows(st, &q), 31);
    /* filtering: LIMIT and pages count kept rows */
    q.filter = keep_even;
    CHECK_EQ_INT(count_rows(st, &q), 18); /* v = 10k + c: c in {0, 2, 4} */
    q.limit = 7;
    q.page_size = 2;
    store_iter_t *it = store_iter_new(st);
    char err[256];
    wr_t state;
    wr_init(&state, 64);
    int64_t total = 0;
    int pages = 0;
    for (;;) {
        q.paging_state = state.len ? state.buf : NULL;
        q.paging_state_len = state.len;
        CHECK_OK(store_iter_start(it, &q, err, sizeof err));
        const store_row_t *row;
        int64_t inpage = 0;
        while (store_iter_next(it, &row, err, sizeof err) == 1) {
            CHECK(ld_i32(row->cells[store_table_column(t, "v", 1)].ptr) % 2 == 0);
            inpage++;
        }
        CHECK(inpage <= 2);
        total += inpage;
        pages++;
        if (!store_iter_has_more(it) || pages > 20) break;
        wr_reset(&state);
        store_iter_paging_state(it, &state);
    }
    CHECK_EQ_INT(total, 7);
    /* IN over partitions, reversed, two per partition, paged one row at a time */
    memset(&q, 0, sizeof q);
    q.table = t;
    wr_t b;
    wr_init(&b, 64);
    eddy_view_t keys[] = {lit(t, 0, "4", &b), lit(t, 0, "1", &b), lit(t, 0, "9", &b)};
    fix_views(keys, 3, &b);
    q.keys = keys;
    q.nkeys = 3;
    q.reversed = true;
    q.per_partition_limit = 2;
    q.page_size = 1;
    wr_t got;
    wr_init(&got, 256);
    wr_reset(&state);
    for (int guard = 0; guard < 20; guard++) {
        q.paging_state = state.len ? state.buf : NULL;
        q.paging_state_len = state.len;
        CHECK_OK(store_iter_start(it, &q, err, sizeof err));
        const store_row_t *row;
        while (store_iter_next(it, &row, err, sizeof err) == 1) row_text(row, &got);
        if (!store_iter_has_more(it)) break;
        wr_reset(&state);
        store_iter_paging_state(it, &state);
    }
    wr_u8(&got, 0);
    CHECK_EQ_STR((const char *)got.buf, "k=4 c=4 v=44|k=4 c=3 v=43|k=1 c=4 v=14|k=1 c=3 v=13|k=9 s=99|");
    /* deleting a static cell (a row with the partition key only) */
    store_write_t *w = store_write_new(st);
    CHECK_OK(store_write_row(w, t, &keys[2], 1, 5, 0, 0, err, sizeof err));
    CHECK_OK(store_write_set(w, store_table_column(t, "s", 1), NULL, 0, err, sizeof err));
    CHECK_EQ_INT(store_write_set(w, store_table_column(t, "v", 1), NULL, 0, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Missing mandatory PRIMARY KEY part c");
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    memset(&q, 0, sizeof q);
    q.table = t;
    q.distinct = true;
    CHECK_EQ_INT(count_rows(st, &q), 6);
    store_write_free(w);
    wr_free(&got);
    wr_free(&state);
    wr_free(&b);
    store_iter_free(it);
    store_table_release(t);
    store_close(st);
}

TEST(store_dropped_column_data_is_gone) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "v int regular", "w int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 3, NULL, 0);
    REQUIRE(t);
    CHECK_OK(put(st, t, 1, 0, STORE_ROW_INSERT, "k=1;v=1;w=2"));
    char err[256];
    store_column_spec_t drop[] = {{"w", NULL, 0, false}};
    CHECK_OK(store_table_alter(st, "ks", "t", STORE_ALTER_DROP, drop, 1, NULL, 0, 0, false, NULL, err, sizeof err));
    store_table_release(t);
    REQUIRE(store_table_lookup(st, "ks", "t", &t, err, sizeof err) == 0);
    CHECK_SCAN(st, t, "k=1 v=1|");
    /* re-added under the same name: the old values do not come back */
    store_column_spec_t add[] = {{"w", store_type_native(STORE_T_INT), STORE_COL_REGULAR, false}};
    CHECK_OK(store_table_alter(st, "ks", "t", STORE_ALTER_ADD, add, 1, NULL, 0, 0, false, NULL, err, sizeof err));
    store_table_release(t);
    REQUIRE(store_table_lookup(st, "ks", "t", &t, err, sizeof err) == 0);
    CHECK_SCAN(st, t, "k=1 v=1|");
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_SCAN(st, t, "k=1 v=1|");
    CHECK_OK(put(st, t, 2, 0, 0, "k=1;w=5"));
    CHECK_SCAN(st, t, "k=1 v=1 w=5|");
    store_table_release(t);
    store_close(st);
}

static void collect_rows(void *arg, const store_row_t *row) { row_text(row, arg); }

TEST(store_cas_static_condition_and_dropped_table_purge) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "c int ck", "v int regular", "s int static"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    REQUIRE(t);
    CHECK_OK(put(st, t, 1, 0, 0, "k=1;s=5"));
    store_write_t *w = store_write_new(st);
    char err[256];
    wr_t b, cur;
    wr_init(&b, 64);
    wr_init(&cur, 64);
    eddy_view_t v[] = {lit(t, 0, "1", &b), lit(t, 1, "7", &b), lit(t, 3, "5", &b), lit(t, 3, "6", &b)};
    fix_views(v, 4, &b);
    int cv = store_table_column(t, "v", 1), cs = store_table_column(t, "s", 1);
    /* the row (1, 7) does not exist, but IF s = 5 is judged on the static row */
    bool applied;
    CHECK_OK(store_write_row(w, t, v, 2, 2, 0, STORE_ROW_INSERT, err, sizeof err));
    CHECK_OK(store_write_set(w, cv, v[1].ptr, v[1].len, err, sizeof err));
    CHECK_OK(store_write_if(w, cs, NULL, NULL, STORE_OP_EQ, &v[2], 1, err, sizeof err));
    CHECK_OK(store_write_apply_cas(w, false, &applied, collect_rows, &cur, err, sizeof err));
    CHECK(applied);
    /* IF s = 6 fails and the current values come back */
    CHECK_OK(store_write_row(w, t, v, 2, 3, 0, 0, err, sizeof err));
    CHECK_OK(store_write_set(w, cv, v[3].ptr, v[3].len, err, sizeof err));
    CHECK_OK(store_write_if(w, cs, NULL, NULL, STORE_OP_EQ, &v[3], 1, err, sizeof err));
    CHECK_OK(store_write_apply_cas(w, false, &applied, collect_rows, &cur, err, sizeof err));
    CHECK(!applied);
    wr_u8(&cur, 0);
    CHECK_EQ_STR((const char *)cur.buf, "k=1 c=7 s=5 v=7|");
    /* a write that races a DROP lands under the dropped id; compaction removes it */
    CHECK_OK(store_table_drop(st, "ks", "t", false, NULL, err, sizeof err));
    CHECK_OK(store_write_row(w, t, v, 2, 4, 0, STORE_ROW_INSERT, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    uint8_t lo[4], hi[4];
    store_u32(lo, t->info.id);
    store_u32(hi, t->info.id + 1);
    /* merge operands become values in one compaction, values are filtered in the next */
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_OK(store_compact(st, err, sizeof err));
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(st->db, st->ropts, st->cf[CF_DATA]);
    rocksdb_iter_seek(it, (const char *)lo, 4);
    size_t kl = 0;
    bool left = rocksdb_iter_valid(it) && memcmp(rocksdb_iter_key(it, &kl), hi, 4) < 0;
    CHECK(!left);
    rocksdb_iter_destroy(it);
    wr_free(&b);
    wr_free(&cur);
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

/* Pages of one row: every row exactly once, whatever kind of row ends a page. */
static int64_t count_paged(store_t *st, store_query_t *q, int64_t page) {
    store_iter_t *it = store_iter_new(st);
    char err[256];
    wr_t state;
    wr_init(&state, 64);
    int64_t total = 0;
    q->page_size = page;
    for (int guard = 0; guard < 1000; guard++) {
        q->paging_state = state.len ? state.buf : NULL;
        q->paging_state_len = state.len;
        if (store_iter_start(it, q, err, sizeof err)) break;
        const store_row_t *row;
        while (store_iter_next(it, &row, err, sizeof err) == 1) total++;
        if (!store_iter_has_more(it)) break;
        wr_reset(&state);
        store_iter_paging_state(it, &state);
    }
    wr_free(&state);
    store_iter_free(it);
    return total;
}

TEST(store_paging_distinct_and_static_rows) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "c int ck", "v int regular", "s int static"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    REQUIRE(t);
    for (int k = 0; k < 8; k++) {
        char a[64];
        if (k % 3 == 0) {
            snprintf(a, sizeof a, "k=%d;s=%d", k, k); /* statics only */
            REQUIRE(put(st, t, 1, 0, 0, a) == 0);
            continue;
        }
        for (int c = 0; c < 3; c++) {
            snprintf(a, sizeof a, "k=%d;c=%d;v=1", k, c);
            REQUIRE(put(st, t, 1, 0, STORE_ROW_INSERT, a) == 0);
        }
    }
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    int64_t all = count_rows(st, &q);
    CHECK_EQ_INT(all, 3 + 5 * 3);
    for (int64_t p = 1; p <= 4; p++) CHECK_EQ_INT(count_paged(st, &q, p), all);
    memset(&q, 0, sizeof q);
    q.table = t;
    q.distinct = true;
    CHECK_EQ_INT(count_rows(st, &q), 8);
    for (int64_t p = 1; p <= 3; p++) CHECK_EQ_INT(count_paged(st, &q, p), 8);
    memset(&q, 0, sizeof q);
    q.table = t;
    q.per_partition_limit = 1;
    CHECK_EQ_INT(count_paged(st, &q, 1), 8);
    store_table_release(t);
    store_close(st);
}

typedef struct {
    int calls;
    int status;
} done_t;

static void on_done(void *arg, int status) {
    done_t *d = arg;
    d->status = status;
    __atomic_fetch_add(&d->calls, 1, __ATOMIC_RELEASE);
}

TEST(store_sync_modes_complete_every_write) {
    const char *modes[] = {"group", "interval:20", "none"};
    for (size_t m = 0; m < EDDY_ARRAY_LEN(modes); m++) {
        char dir[512], err[256];
        snprintf(dir, sizeof dir, "%s/%zu", test_tmpdir(), m);
        store_options_t o;
        memset(&o, 0, sizeof o);
        REQUIRE(store_options_parse_sync(&o, modes[m], err, sizeof err) == 0);
        store_t *st = NULL;
        REQUIRE(store_open(dir, &o, &st, err, sizeof err) == 0);
        store_write_t *w = store_write_new(st);
        done_t d[10] = {{0, 0}};
        for (int i = 0; i < 10; i++) {
            char k[16];
            int n = snprintf(k, sizeof k, "k%d", i);
            CHECK_OK(store_write_kv_put(w, k, (size_t)n, "v", 1));
            CHECK_OK(store_write_submit(w, on_done, &d[i], err, sizeof err));
        }
        /* completions run on the sync thread; close waits for the pending ones */
        int64_t until = time_mono_ms() + 10000;
        while (__atomic_load_n(&d[9].calls, __ATOMIC_ACQUIRE) == 0 && time_mono_ms() < until) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        store_write_free(w);
        store_stats_t stats;
        store_stats(st, &stats);
        CHECK_EQ_INT(stats.batches, 10);
        if (m == 0) CHECK(stats.syncs >= 1);
        store_close(st);
        for (int i = 0; i < 10; i++) {
            CHECK_EQ_INT(d[i].calls, 1);
            CHECK_EQ_INT(d[i].status, EDDY_OK);
        }
    }
    store_options_t o;
    memset(&o, 0, sizeof o);
    char err[256];
    CHECK_EQ_INT(store_options_parse_sync(&o, "sometimes", err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "unknown fsync mode 'sometimes' (group, interval:MS, none)");
}

TEST(store_projection_materializes_only_wanted_columns) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "a int regular", "l list<text> regular", "t text regular"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    REQUIRE(t);
    CHECK_OK(put(st, t, 1, 0, STORE_ROW_INSERT, "k=1;a=1;l=['x'];t='y'"));
    CHECK_OK(put(st, t, 1, 0, 0, "k=2;l=['only']")); /* lives through an unwanted column */
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    uint8_t want[4] = {0};
    want[store_table_column(t, "a", 1)] = 1;
    q.columns = want;
    char *got = query_text(st, &q);
    CHECK_EQ_STR(got, "k=1 a=1|k=2|");
    free(got);
    /* point reads too */
    wr_t b;
    wr_init(&b, 16);
    eddy_view_t key = lit(t, 0, "1", &b);
    fix_views(&key, 1, &b);
    q.keys = &key;
    q.nkeys = 1;
    got = query_text(st, &q);
    CHECK_EQ_STR(got, "k=1 a=1|");
    free(got);
    wr_free(&b);
    store_table_release(t);
    store_close(st);
}

/* RocksDB may start a compaction while the store opens, before the catalog is loaded: the purge
 * filter then has no schema and must keep everything (it used to dereference the missing one). */
TEST(store_compaction_without_catalog_keeps_rows) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "v int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 2, NULL, 0);
    REQUIRE(t);
    CHECK_OK(put(st, t, 10, 0, STORE_ROW_INSERT, "k=1;v=7"));
    CHECK_OK(put(st, t, 11, 0, STORE_ROW_INSERT, "k=2;v=8"));
    char err[256];
    store_schema_t *saved = st->cat.current;
    st->cat.current = NULL; /* as between RocksDB's open and the catalog's load */
    CHECK_OK(store_compact(st, err, sizeof err));
    st->cat.current = saved;
    CHECK_SCAN(st, t, "k=1 v=7|k=2 v=8|");
    store_table_release(t);
    store_close(st);
}
