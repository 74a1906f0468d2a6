/* Tests of the key/value area's batched reads (store_kv_get_many: keys in any order, repeated,
 * missing, in the memtable and in files, give what one read of each gives) and of the per-thread
 * bulk mode (store_thread_bulk: RocksDB's perf counters stop counting on that thread). */
#include "store/store_test_util.h"

static int kv_put(store_t *st, const char *k, const char *v) {
    store_write_t *w = store_write_new(st);
    char err[256];
    int rc = store_write_kv_put(w, k, strlen(k), v, strlen(v));
    if (!rc) rc = store_write_apply(w, false, err, sizeof err);
    store_write_free(w);
    return rc;
}

TEST(store_kv_get_many_matches_single_reads) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    char k[32], v[64], err[256];
    /* pipe/x/k000..k199 with values; half compacted into files, then overwrites and deletes of
     * some in the memtable */
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "pipe/x/k%03d", i);
        snprintf(v, sizeof v, "value %d", i);
        REQUIRE_OK(kv_put(st, k, v));
        if (i == 99) CHECK_OK(store_compact(st, err, sizeof err));
    }
    store_write_t *w = store_write_new(st);
    for (int i = 0; i < 200; i += 9) {
        snprintf(k, sizeof k, "pipe/x/k%03d", i);
        CHECK_OK(store_write_kv_delete(w, k, strlen(k)));
    }
    CHECK_OK(store_write_kv_put(w, "pipe/x/k010", 11, "", 0)); /* an empty value exists */
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    store_write_free(w);
    /* 300 keys, in scrambled order: present, deleted, never written, repeated */
    enum { N = 300 };
    char names[N][32];
    eddy_view_t keys[N];
    for (int i = 0; i < N; i++) {
        int x = (i * 37) % 260; /* 200..259 were never written; some x repeat */
        snprintf(names[i], sizeof names[i], "pipe/x/k%03d", x);
        keys[i] = eddy_view(names[i], strlen(names[i]));
    }
    wr_t out;
    wr_init(&out, 64);
    wr_u8(&out, '#'); /* values are appended after what is there */
    size_t offs[N], lens[N];
    bool found[N];
    REQUIRE_OK(store_kv_get_many(st, keys, N, &out, offs, lens, found, err, sizeof err));
    int nfound = 0, nempty = 0;
    for (int i = 0; i < N; i++) {
        wr_t one;
        wr_init(&one, 64);
        int rc = store_kv_get(st, keys[i].ptr, keys[i].len, &one, err, sizeof err);
        CHECK(rc == EDDY_OK || rc == EDDY_ERR_NOT_FOUND);
        CHECK_EQ_INT(found[i], rc == EDDY_OK);
        if (found[i] && rc == EDDY_OK) {
            CHECK_EQ_MEM(out.buf + offs[i], lens[i], one.buf, one.len);
            nfound++;
            nempty += lens[i] == 0;
        }
        wr_free(&one);
    }
    CHECK(nfound > 150 && nfound < N - 40);
    CHECK(nempty >= 1);
    CHECK_EQ_INT(out.buf[0], '#');
    /* no keys: nothing read, nothing appended */
    size_t before = out.len;
    CHECK_OK(store_kv_get_many(st, keys, 0, &out, offs, lens, found, err, sizeof err));
    CHECK_EQ_INT(out.len, before);
    wr_free(&out);
    store_close(st);
}

TEST(store_thread_bulk_turns_perf_counters_off) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    char k[32], err[256];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "pipe/y/%02d", i);
        REQUIRE_OK(kv_put(st, k, "v"));
    }
    rocksdb_perfcontext_t *pc = rocksdb_perfcontext_create();
    wr_t v;
    wr_init(&v, 16);
    /* RocksDB's default on this thread: reads count key comparisons */
    rocksdb_set_perf_level(rocksdb_enable_count);
    rocksdb_perfcontext_reset(pc);
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "pipe/y/%02d", i);
        wr_reset(&v);
        CHECK_OK(store_kv_get(st, k, strlen(k), &v, err, sizeof err));
    }
    CHECK(rocksdb_perfcontext_metric(pc, rocksdb_user_key_comparison_count) > 0);
    store_thread_bulk();
    rocksdb_perfcontext_reset(pc);
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "pipe/y/%02d", i);
        wr_reset(&v);
        CHECK_OK(store_kv_get(st, k, strlen(k), &v, err, sizeof err));
        CHECK_EQ_MEM(v.buf, v.len, "v", 1);
    }
    CHECK_EQ_INT(rocksdb_perfcontext_metric(pc, rocksdb_user_key_comparison_count), 0);
    rocksdb_set_perf_level(rocksdb_enable_count); /* the test thread runs other tests after */
    rocksdb_perfcontext_destroy(pc);
    wr_free(&v);
    store_close(st);
}
