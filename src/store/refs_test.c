/* Tests of the hidden reference counts (refs.c): counts add up blind, stay invisible to reads
 * and to row liveness, are reset by row and partition deletions (also when a deletion and a
 * later count meet inside one merged operand), and survive compactions, dropped columns and a
 * reopen. */
#include "store/store_test_util.h"

static int64_t refs(store_t *st, const store_table_t *t, const char *tag, const char *title, uint32_t slot) {
    eddy_view_t key[2] = {eddy_view_str(tag), eddy_view_str(title)};
    int64_t n = -1;
    char err[256];
    int rc = store_refs_get(st, t, key, slot, &n, err, sizeof err);
    if (rc) fprintf(stderr, "store_refs_get: %s\n", err);
    return rc ? -1000 : n;
}

/* Adds delta to slot of row (tag, title) at ts; with url != NULL the row is written too. */
static int add(store_t *st, const store_table_t *t, const char *tag, const char *title, int64_t ts, const char *url,
               uint32_t slot, int64_t delta) {
    eddy_view_t key[2] = {eddy_view_str(tag), eddy_view_str(title)};
    store_write_t *w = store_write_new(st);
    char err[256];
    int rc = store_write_row(w, t, key, 2, ts, 0, url ? STORE_ROW_INSERT : 0, err, sizeof err);
    if (!rc && url) rc = store_write_set(w, 3, (const uint8_t *)url, strlen(url), err, sizeof err);
    if (!rc) rc = store_write_refs(w, slot, delta, err, sizeof err);
    if (!rc) rc = store_write_apply(w, false, err, sizeof err);
    if (rc) fprintf(stderr, "add: %s\n", err);
    store_write_free(w);
    return rc;
}

static int del_row(store_t *st, const store_table_t *t, const char *tag, const char *title, int64_t ts) {
    eddy_view_t key[2] = {eddy_view_str(tag), eddy_view_str(title)};
    store_write_t *w = store_write_new(st);
    char err[256];
    int rc = store_write_delete_row(w, t, key, ts, err, sizeof err);
    if (!rc) rc = store_write_apply(w, false, err, sizeof err);
    store_write_free(w);
    return rc;
}

TEST(store_refs_hidden_counts) {
    const char *dir = test_tmpdir();
    fake_clock_t clock = {1700000000000000};
    store_t *st = open_store(dir, &clock);
    REQUIRE(st);
    const char *cols[] = {"tag text pk", "title text ck", "extra int regular", "url text regular"};
    const store_table_t *t = mk_table(st, "by_tag", cols, 4, NULL, 0);
    REQUIRE(t);
    char err[256];

    /* Counts add up with the row and without it; reads never show them. */
    CHECK_OK(add(st, t, "a", "t1", 10, "u1", 5, 1));
    CHECK_OK(add(st, t, "a", "t1", 11, NULL, 5, 1));
    CHECK_OK(add(st, t, "a", "t1", 12, NULL, 6, 7));
    CHECK_EQ_INT(refs(st, t, "a", "t1", 5), 2);
    CHECK_EQ_INT(refs(st, t, "a", "t1", 6), 7);
    CHECK_EQ_INT(refs(st, t, "a", "t1", 7), 0);
    CHECK_EQ_INT(refs(st, t, "a", "zz", 5), 0);
    /* A count alone does not make a row. */
    CHECK_OK(add(st, t, "b", "t2", 13, NULL, 5, 3));
    CHECK_EQ_INT(refs(st, t, "b", "t2", 5), 3);
    CHECK_SCAN(st, t, "tag='a' title='t1' url='u1'|");
    CHECK_OK(add(st, t, "a", "t1", 14, NULL, 5, -1));
    CHECK_EQ_INT(refs(st, t, "a", "t1", 5), 1);

    /* A deletion resets every count; what comes after it counts from zero. */
    CHECK_OK(del_row(st, t, "a", "t1", 20));
    CHECK_EQ_INT(refs(st, t, "a", "t1", 5), 0);
    CHECK_EQ_INT(refs(st, t, "a", "t1", 6), 0);
    CHECK_OK(add(st, t, "a", "t1", 21, "u2", 5, 1));
    CHECK_EQ_INT(refs(st, t, "a", "t1", 5), 1);
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_EQ_INT(refs(st, t, "a", "t1", 5), 1);
    CHECK_SCAN(st, t, "tag='a' title='t1' url='u2'|");

    /* An older count in an SST, then a deletion and a new count merged together first (as a
     * memtable flush merges them): the older count must not come back. */
    CHECK_OK(add(st, t, "c", "t3", 30, "u3", 5, 2));
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_OK(del_row(st, t, "c", "t3", 31));
    CHECK_OK(add(st, t, "c", "t3", 32, "u4", 5, 1));
    CHECK_EQ_INT(refs(st, t, "c", "t3", 5), 1);
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_EQ_INT(refs(st, t, "c", "t3", 5), 1);

    /* A partition deletion resets the counts of its rows. */
    eddy_view_t pk = eddy_view_str("c");
    store_write_t *w = store_write_new(st);
    CHECK_OK(store_write_delete_partition(w, t, &pk, 40, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    store_write_free(w);
    CHECK_EQ_INT(refs(st, t, "c", "t3", 5), 0);

    /* Counts survive a dropped column's purge and a reopen. */
    store_column_spec_t drop = {"extra", NULL, STORE_COL_REGULAR, false};
    CHECK_OK(store_table_alter(st, "ks", "by_tag", STORE_ALTER_DROP, &drop, 1, NULL, 0, 0, false, NULL, err, sizeof err));
    store_table_release(t);
    REQUIRE_OK(store_table_lookup(st, "ks", "by_tag", &t, err, sizeof err));
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_EQ_INT(refs(st, t, "a", "t1", 5), 1);
    CHECK_EQ_INT(refs(st, t, "b", "t2", 5), 3);
    store_table_release(t);
    store_close(st);
    st = open_store(dir, &clock);
    REQUIRE(st);
    REQUIRE_OK(store_table_lookup(st, "ks", "by_tag", &t, err, sizeof err));
    CHECK_EQ_INT(refs(st, t, "a", "t1", 5), 1);
    CHECK_SCAN(st, t, "tag='a' title='t1' url='u2'|");

    /* Misuse is refused. */
    w = store_write_new(st);
    CHECK_EQ_INT(store_write_refs(w, 1, 1, err, sizeof err), EDDY_ERR_INVALID);
    store_write_free(w);
    int64_t n;
    eddy_view_t key[2] = {eddy_view_str("a"), eddy_view_str("t1")};
    CHECK_EQ_INT(store_refs_get(st, t, key, STORE_REFS_SLOT_MAX + 1u, &n, err, sizeof err), EDDY_ERR_INVALID);
    store_table_release(t);
    store_close(st);
}
