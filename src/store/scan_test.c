/* Tests of token-range scans over many partitions: a scan enters each partition on its first
 * key without a seek when the first clustering range starts there, so clustering ranges that
 * start later, several ranges, static-only partitions, deleted rows and ranges, PER PARTITION
 * LIMIT, filters, token sub-ranges, paging and bulk scans (no block cache, read-ahead) must all
 * return what a row-by-row filter of the full scan returns. */
#include "store/store_test_util.h"

/* Rows of a query, paged by page_size (0: one page), as text. */
static char *paged(store_t *st, store_query_t q, int64_t page_size) {
    wr_t out, ps;
    wr_init(&out, 1024);
    wr_init(&ps, 64);
    store_iter_t *it = store_iter_new(st);
    char err[256];
    q.page_size = page_size;
    for (;;) {
        q.paging_state = ps.len ? ps.buf : NULL;
        q.paging_state_len = ps.len;
        if (store_iter_start(it, &q, err, sizeof err)) {
            wr_str(&out, "ERROR");
            break;
        }
        const store_row_t *row;
        int rc;
        while ((rc = store_iter_next(it, &row, err, sizeof err)) == 1) row_text(row, &out);
        if (rc < 0 || !store_iter_has_more(it)) break;
        wr_reset(&ps);
        store_iter_paging_state(it, &ps);
    }
    wr_u8(&out, 0);
    store_iter_free(it);
    wr_free(&ps);
    size_t n;
    return (char *)wr_steal(&out, &n);
}

/* Table t (k pk, c ck, s static, v) with partitions k = 0..39: static s = k, rows c = k % first
 * .. 6 with v = k * vmul + c (none when empty and k % empty == 0: static only), compacted. */
static const store_table_t *fill_table(store_t *st, int first, int empty, int vmul) {
    const char *cols[] = {"k int pk", "c int ck", "s int static", "v int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    char s[96], err[256];
    if (!t) return NULL;
    for (int k = 0; k < 40; k++) {
        snprintf(s, sizeof s, "k=%d;s=%d", k, k);
        if (put(st, t, 1, 0, 0, s)) goto err;
        for (int c = k % first; c <= 6 && (!empty || k % empty); c++) {
            snprintf(s, sizeof s, "k=%d;c=%d;v=%d", k, c, k * vmul + c);
            if (put(st, t, 1, 0, STORE_ROW_INSERT, s)) goto err;
        }
    }
    if (store_compact(st, err, sizeof err) == EDDY_OK) return t;
err:
    store_table_release(t);
    return NULL;
}

TEST(store_scan_partitions_with_ranges_and_paging) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const store_table_t *t = fill_table(st, 5, 7, 10);
    REQUIRE(t);
    char err[256];
    wr_t b;
    wr_init(&b, 64);
    eddy_view_t v[] = {lit(t, 1, "2", &b), lit(t, 1, "4", &b), lit(t, 1, "6", &b)};
    fix_views(v, 3, &b);
    /* c >= 2 AND c < 4, and c = 6: two ranges; the first starts after some partitions' first row. */
    store_crange_t r[] = {{{1, &v[0], true}, {1, &v[1], false}}, {{1, &v[2], true}, {1, &v[2], true}}};
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    q.ranges = r;
    q.nranges = 2;
    /* The expectation, from the full scan filtered here. */
    wr_t want;
    wr_init(&want, 1024);
    store_query_t all;
    memset(&all, 0, sizeof all);
    all.table = t;
    all.no_static_only = true;
    store_iter_t *it = store_iter_new(st);
    REQUIRE_OK(store_iter_start(it, &all, err, sizeof err));
    const store_row_t *row;
    int nrows = 0;
    while (store_iter_next(it, &row, err, sizeof err) == 1) {
        int32_t c = (int32_t)load_u32(row->cells[1].ptr);
        if ((c >= 2 && c < 4) || c == 6) row_text(row, &want), nrows++;
    }
    store_iter_free(it);
    wr_u8(&want, 0);
    CHECK(nrows > 40);
    for (int bulk = 0; bulk < 2; bulk++) {
        q.bulk = bulk;
        for (int64_t page = 0; page <= 7; page += 7) {
            char *got = paged(st, q, page);
            CHECK_EQ_STR(got, (char *)want.buf);
            free(got);
        }
    }
    /* Without ranges: every row, and static-only partitions as rows of their own. */
    store_query_t full;
    memset(&full, 0, sizeof full);
    full.table = t;
    char *a = paged(st, full, 0);
    full.bulk = true;
    char *bb = paged(st, full, 3);
    CHECK_EQ_STR(bb, a);
    CHECK(strstr(a, "k=7 s=7|") != NULL); /* k % 7 == 0: no rows, its static row alone */
    free(a);
    free(bb);
    wr_free(&want);
    wr_free(&b);
    store_table_release(t);
    store_close(st);
}


/* Keeps rows whose v is odd (a filter examined by the store, not counted when it says no). */
static int odd_v(void *arg, const store_row_t *row) {
    (void)arg;
    const store_cell_t *v = &row->cells[3];
    return v->ptr && (load_u32(v->ptr) & 1);
}

TEST(store_scan_deletions_limits_and_filters) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const store_table_t *t = fill_table(st, 3, 0, 1); /* every partition has rows */
    REQUIRE(t);
    char err[256];
    /* Deletions newer than the rows, left in the memtable over the compacted file: the rows are
     * still there as keys, so a scan entering a partition lands on dead ones first. */
    wr_t b;
    wr_init(&b, 256);
    eddy_view_t two = lit(t, 1, "2", &b), three = lit(t, 1, "3", &b);
    eddy_view_t keys[40];
    for (int k = 0; k < 40; k++) {
        char n[16];
        snprintf(n, sizeof n, "%d", k);
        keys[k] = lit(t, 0, n, &b);
    }
    fix_views(&two, 1, &b);
    fix_views(&three, 1, &b);
    fix_views(keys, 40, &b);
    store_write_t *w = store_write_new(st);
    for (int k = 0; k < 40; k += 4) {
        /* rows 0..2 of k: the partition's first rows */
        store_crange_t first = {{0, NULL, true}, {1, &two, true}};
        CHECK_OK(store_write_delete_range(w, t, &keys[k], &first, 5, err, sizeof err));
    }
    CHECK_OK(store_write_delete_partition(w, t, &keys[9], 5, err, sizeof err));
    eddy_view_t row13[] = {keys[13], two};
    CHECK_OK(store_write_delete_row(w, t, row13, 5, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    store_write_free(w);

    /* Expectations from the full scan: rows with c in [2, 3], then the first of them per
     * partition, then those of odd v. */
    wr_t in_range, first, odd;
    wr_init(&in_range, 1024);
    wr_init(&first, 1024);
    wr_init(&odd, 1024);
    store_query_t all;
    memset(&all, 0, sizeof all);
    all.table = t;
    all.no_static_only = true;
    store_iter_t *it = store_iter_new(st);
    REQUIRE_OK(store_iter_start(it, &all, err, sizeof err));
    const store_row_t *row;
    int32_t last_k = -1;
    int nfirst = 0;
    while (store_iter_next(it, &row, err, sizeof err) == 1) {
        int32_t k = (int32_t)load_u32(row->cells[0].ptr), c = (int32_t)load_u32(row->cells[1].ptr);
        CHECK(k != 9);
        if (c < 2 || c > 3) continue;
        row_text(row, &in_range);
        if (k != last_k) row_text(row, &first), nfirst++;
        last_k = k;
        if (load_u32(row->cells[3].ptr) & 1) row_text(row, &odd);
    }
    store_iter_free(it);
    wr_u8(&in_range, 0);
    wr_u8(&first, 0);
    wr_u8(&odd, 0);
    CHECK_EQ_INT(nfirst, 39); /* k = 9 deleted; k = 0 mod 4 and k = 13 start at c = 3 */
    CHECK(strstr((char *)first.buf, "k=0 c=3 ") != NULL);
    CHECK(strstr((char *)first.buf, "k=13 c=3 ") != NULL);

    store_crange_t r = {{1, &two, true}, {1, &three, true}};
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    q.ranges = &r;
    q.nranges = 1;
    for (int bulk = 0; bulk < 2; bulk++) {
        q.bulk = bulk;
        for (int64_t page = 0; page <= 5; page += 5) {
            q.per_partition_limit = 0;
            q.filter = NULL;
            char *got = paged(st, q, page);
            CHECK_EQ_STR(got, (char *)in_range.buf);
            free(got);
            q.per_partition_limit = 1;
            got = paged(st, q, page);
            CHECK_EQ_STR(got, (char *)first.buf);
            free(got);
            q.per_partition_limit = 0;
            q.filter = odd_v;
            got = paged(st, q, page);
            CHECK_EQ_STR(got, (char *)odd.buf);
            free(got);
        }
    }
    wr_free(&in_range);
    wr_free(&first);
    wr_free(&odd);
    wr_free(&b);
    store_table_release(t);
    store_close(st);
}

/* Single-row partitions (the batch jobs' tables): each partition is entered on its only key.
 * Token sub-ranges, deleted rows (in the memtable over a compacted file) and both read modes
 * give the rows of the full scan whose tokens are in range. */
TEST(store_scan_single_row_partitions_token_ranges) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "v text regular"};
    const store_table_t *t = mk_table(st, "t", cols, 2, NULL, 0);
    REQUIRE(t);
    char s[96], err[256];
    for (int k = 0; k < 300; k++) {
        snprintf(s, sizeof s, "k=%d;v='leaf %d'", k, k);
        REQUIRE(put(st, t, 1, 0, STORE_ROW_INSERT, s) == 0);
    }
    CHECK_OK(store_compact(st, err, sizeof err));
    wr_t b;
    wr_init(&b, 64);
    store_write_t *w = store_write_new(st);
    for (int k = 0; k < 300; k += 7) {
        wr_reset(&b);
        snprintf(s, sizeof s, "%d", k);
        eddy_view_t key = lit(t, 0, s, &b);
        fix_views(&key, 1, &b);
        CHECK_OK(store_write_delete_row(w, t, &key, 5, err, sizeof err));
        CHECK_OK(store_write_apply(w, false, err, sizeof err));
    }
    store_write_free(w);
    for (int k = 300; k < 330; k++) { /* newer rows in the memtable, between the file's */
        snprintf(s, sizeof s, "k=%d;v='leaf %d'", k, k);
        REQUIRE(put(st, t, 1, 0, STORE_ROW_INSERT, s) == 0);
    }
    /* Tokens of the full scan, to cut ranges at rows 40 and 250. */
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    store_iter_t *it = store_iter_new(st);
    REQUIRE_OK(store_iter_start(it, &q, err, sizeof err));
    const store_row_t *row;
    int64_t tokens[400];
    int n = 0;
    while (n < 400 && store_iter_next(it, &row, err, sizeof err) == 1) tokens[n++] = row->token;
    store_iter_free(it);
    CHECK_EQ_INT(n, 330 - 43);
    REQUIRE(n > 250);
    int64_t lo = tokens[40], hi = tokens[250];
    wr_t want;
    wr_init(&want, 4096);
    memset(&q, 0, sizeof q);
    q.table = t;
    it = store_iter_new(st);
    REQUIRE_OK(store_iter_start(it, &q, err, sizeof err));
    while (store_iter_next(it, &row, err, sizeof err) == 1)
        if (row->token > lo && row->token <= hi) row_text(row, &want);
    store_iter_free(it);
    wr_u8(&want, 0);
    q.token_lo_set = q.token_hi_set = true;
    q.token_lo = lo;
    q.token_hi = hi;
    q.token_hi_inclusive = true;
    for (int bulk = 0; bulk < 2; bulk++) {
        q.bulk = bulk;
        for (int64_t page = 0; page <= 9; page += 9) {
            char *got = paged(st, q, page);
            CHECK_EQ_STR(got, (char *)want.buf);
            free(got);
        }
    }
    /* the same iterator switching between bulk and ordinary scans */
    it = store_iter_new(st);
    for (int i = 0; i < 4; i++) {
        q.bulk = i & 1;
        REQUIRE_OK(store_iter_start(it, &q, err, sizeof err));
        int m = 0;
        while (store_iter_next(it, &row, err, sizeof err) == 1) m++;
        CHECK_EQ_INT(m, 210);
    }
    store_iter_free(it);
    wr_free(&want);
    wr_free(&b);
    store_table_release(t);
    store_close(st);
}
