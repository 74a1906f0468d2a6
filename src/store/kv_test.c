/* Tests of the per-thread bulk mode (store_thread_bulk: RocksDB's perf counters stop counting
 * on that thread). */
#include "store/store_test_util.h"

static int kv_put(store_t *st, const char *k, const char *v) {
    store_write_t *w = store_write_new(st);
    char err[256];
    int rc = store_write_kv_put(w, k, strlen(k), v, strlen(v));
    if (!rc) rc = store_write_apply(w, false, err, sizeof err);
    store_write_free(w);
    return rc;
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
