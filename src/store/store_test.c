/* Store tests: catalog, upserts and reads, last-write-wins, TTL, tombstones, collections,
 * counters, conditional writes, scans in token order with paging, JSON, persistence. Rows are
 * compared as text ("k=1 c='a' v=2") so that expectations read like cqlsh output. */
#include "store/store_test_util.h"

/* ---- catalog ---- */

TEST(store_catalog_create_alter_drop) {
    const char *dir = test_tmpdir();
    store_t *st = open_store(dir, NULL);
    REQUIRE(st);
    char err[256];
    uint8_t v0[16], v1[16];
    store_schema_t *s = store_schema_get(st);
    store_schema_version(s, v0);
    store_schema_release(s);
    const char *cols[] = {"id text pk", "title text ck desc", "url text regular", "tags list<text> regular",
                          "n frozen<map<text,int>> regular"};
    const store_table_t *t = mk_table(st, "leaves", cols, 5, NULL, 0);
    REQUIRE(t);
    s = store_schema_get(st);
    store_schema_version(s, v1);
    CHECK(memcmp(v0, v1, 16) != 0);
    const store_table_t *t2 = store_schema_table(s, "ks", "leaves");
    REQUIRE(t2);
    const store_table_info_t *in = store_table_info(t2);
    CHECK_EQ_INT(in->ncolumns, 5);
    CHECK_EQ_STR(in->columns[0].name, "id");
    CHECK_EQ_STR(in->columns[1].name, "title");
    CHECK(in->columns[1].desc);
    /* regular columns by name: n, tags, url */
    CHECK_EQ_STR(in->columns[2].name, "n");
    CHECK_EQ_STR(in->columns[3].name, "tags");
    char tb[128];
    CHECK_EQ_STR(store_type_cstr(in->columns[2].type, tb, sizeof tb), "frozen<map<text, int>>");
    CHECK_EQ_STR(store_type_cstr(in->columns[3].type, tb, sizeof tb), "list<text>");
    CHECK_EQ_INT(in->options.gc_grace_seconds, 864000);
    store_schema_release(s);

    /* errors worded as Cassandra's */
    bool changed = true;
    store_strmap_t rep = {2, (const char *[]){"class", "replication_factor"}, (const char *[]){"SimpleStrategy", "1"}};
    CHECK_EQ_INT(store_keyspace_create(st, "ks", &rep, true, false, NULL, err, sizeof err), EDDY_ERR_EXISTS);
    CHECK_EQ_STR(err, "Cannot add existing keyspace \"ks\"");
    CHECK_OK(store_keyspace_create(st, "ks", &rep, true, true, &changed, err, sizeof err));
    CHECK(!changed);
    store_column_spec_t dup[] = {{"a", T("int"), STORE_COL_PARTITION_KEY, false},
                                 {"a", T("int"), STORE_COL_REGULAR, false}};
    CHECK_EQ_INT(store_table_create(st, "ks", "d", dup, 2, NULL, 0, false, NULL, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Multiple definition of identifier a");
    store_column_spec_t bad[] = {{"a", T("list<int>"), STORE_COL_PARTITION_KEY, false}};
    CHECK_EQ_INT(store_table_create(st, "ks", "d", bad, 1, NULL, 0, false, NULL, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Invalid non-frozen collection type list<int> for PRIMARY KEY component a");
    store_column_spec_t mix[] = {{"a", T("int"), STORE_COL_PARTITION_KEY, false}, {"c", T("counter"), STORE_COL_REGULAR, false},
                                 {"v", T("int"), STORE_COL_REGULAR, false}};
    CHECK_EQ_INT(store_table_create(st, "ks", "d", mix, 3, NULL, 0, false, NULL, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Cannot mix counter and non counter columns in the same table");
    CHECK_EQ_INT(store_table_create(st, "nope", "d", mix, 1, NULL, 0, false, NULL, err, sizeof err), EDDY_ERR_NOT_FOUND);
    const store_table_t *x;
    CHECK_EQ_INT(store_table_lookup(st, "ks", "zzz", &x, err, sizeof err), EDDY_ERR_NOT_FOUND);
    CHECK_EQ_STR(err, "unconfigured table zzz");

    /* alter: add, drop, rename key column, options */
    store_column_spec_t add[] = {{"extra", T("int"), STORE_COL_REGULAR, false}};
    CHECK_OK(store_table_alter(st, "ks", "leaves", STORE_ALTER_ADD, add, 1, NULL, 0, 0, false, &changed, err, sizeof err));
    CHECK(changed);
    CHECK_EQ_INT(store_table_alter(st, "ks", "leaves", STORE_ALTER_ADD, add, 1, NULL, 0, 0, false, NULL, err, sizeof err),
                 EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Column with name 'extra' already exists");
    store_column_spec_t drop[] = {{"url", NULL, 0, false}};
    CHECK_OK(store_table_alter(st, "ks", "leaves", STORE_ALTER_DROP, drop, 1, NULL, 0, 0, false, NULL, err, sizeof err));
    store_column_spec_t ren[] = {{"id", NULL, 0, false}, {"key", NULL, 0, false}};
    CHECK_OK(store_table_alter(st, "ks", "leaves", STORE_ALTER_RENAME, ren, 2, NULL, 0, 0, false, NULL, err, sizeof err));
    store_column_spec_t ren2[] = {{"tags", NULL, 0, false}, {"t2", NULL, 0, false}};
    CHECK_EQ_INT(store_table_alter(st, "ks", "leaves", STORE_ALTER_RENAME, ren2, 2, NULL, 0, 0, false, NULL, err, sizeof err),
                 EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Cannot rename non PRIMARY KEY column tags");
    store_option_t opt[] = {{"default_time_to_live", "3600", NULL}, {"comment", "hello", NULL}};
    CHECK_OK(store_table_alter(st, "ks", "leaves", STORE_ALTER_OPTIONS, NULL, 0, opt, 2, 0, false, NULL, err, sizeof err));
    store_option_t badopt[] = {{"bogus", "1", NULL}};
    CHECK_EQ_INT(store_table_alter(st, "ks", "leaves", STORE_ALTER_OPTIONS, NULL, 0, badopt, 1, 0, false, NULL, err, sizeof err),
                 EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Unknown property 'bogus'");
    s = store_schema_get(st);
    in = store_table_info(store_schema_table(s, "ks", "leaves"));
    CHECK_EQ_STR(in->columns[0].name, "key");
    CHECK_EQ_INT(in->options.default_time_to_live, 3600);
    CHECK_EQ_STR(in->options.comment, "hello");
    CHECK_EQ_INT(in->ndropped, 1);
    CHECK_EQ_STR(in->dropped[0].name, "url");
    CHECK(store_table_column(store_schema_table(s, "ks", "leaves"), "url", 3) < 0);
    store_schema_release(s);
    store_table_release(t);

    /* persisted: reopen and find the same */
    store_close(st);
    st = open_store(dir, NULL);
    REQUIRE(st);
    s = store_schema_get(st);
    uint8_t v2[16];
    store_schema_version(s, v2);
    in = store_table_info(store_schema_table(s, "ks", "leaves"));
    CHECK_EQ_STR(in->columns[0].name, "key");
    CHECK_EQ_INT(in->options.default_time_to_live, 3600);
    const store_keyspace_info_t *ki = store_schema_keyspace(s, "ks");
    REQUIRE(ki);
    CHECK_EQ_STR(ki->replication.keys[0], "class");
    CHECK_EQ_STR(ki->replication.values[0], "org.apache.cassandra.locator.SimpleStrategy");
    store_schema_release(s);
    CHECK_OK(store_table_drop(st, "ks", "leaves", false, &changed, err, sizeof err));
    CHECK_EQ_INT(store_table_drop(st, "ks", "leaves", false, NULL, err, sizeof err), EDDY_ERR_NOT_FOUND);
    CHECK_OK(store_table_drop(st, "ks", "leaves", true, &changed, err, sizeof err));
    CHECK(!changed);
    CHECK_OK(store_keyspace_drop(st, "ks", false, NULL, err, sizeof err));
    s = store_schema_get(st);
    CHECK_EQ_INT(store_schema_keyspace_count(s), 0);
    store_schema_release(s);
    for (int i = 0; i < 6; i++) {
        store_type_release(dup[i % 2].type);
    }
    store_type_release(bad[0].type);
    for (int i = 0; i < 3; i++) store_type_release(mix[i].type);
    store_type_release(add[0].type);
    store_close(st);
}

typedef struct {
    int n;
    char last[256];
} events_t;

static void on_event(void *arg, const store_schema_event_t *ev) {
    events_t *e = arg;
    e->n++;
    snprintf(e->last, sizeof e->last, "%d %d %s %s", ev->change, ev->target, ev->keyspace, ev->name ? ev->name : "-");
}

TEST(store_catalog_udt_and_events) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    events_t ev = {0};
    int id = store_schema_listen(st, on_event, &ev);
    char err[256];
    store_strmap_t rep = {2, (const char *[]){"class", "replication_factor"}, (const char *[]){"SimpleStrategy", "1"}};
    CHECK_OK(store_keyspace_create(st, "ks", &rep, true, false, NULL, err, sizeof err));
    CHECK_EQ_STR(ev.last, "0 0 ks -");
    const store_type_t *ft[] = {T("text"), T("int")};
    const char *fn[] = {"street", "number"};
    CHECK_OK(store_udt_create(st, "ks", "address", fn, ft, 2, false, NULL, err, sizeof err));
    CHECK_EQ_STR(ev.last, "0 2 ks address");
    store_schema_t *s = store_schema_get(st);
    const store_type_t *u = NULL;
    CHECK_OK(store_type_parse(s, "ks", "frozen<address>", 15, &u, err, sizeof err));
    store_schema_release(s);
    char tb[128];
    CHECK_EQ_STR(store_type_cstr(u, tb, sizeof tb), "frozen<address>");
    store_column_spec_t cols[] = {{"k", T("int"), STORE_COL_PARTITION_KEY, false}, {"a", u, STORE_COL_REGULAR, false}};
    CHECK_OK(store_table_create(st, "ks", "people", cols, 2, NULL, 0, false, NULL, err, sizeof err));
    CHECK_EQ_INT(store_udt_drop(st, "ks", "address", false, NULL, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Cannot drop user type ks.address as it is still used by table people");
    int before = ev.n;
    CHECK_OK(store_udt_alter_add(st, "ks", "address", "zip", ft[0], NULL, err, sizeof err));
    CHECK_EQ_INT(ev.n, before + 2); /* the type and the table using it */
    s = store_schema_get(st);
    const store_table_t *t = store_schema_table(s, "ks", "people");
    CHECK_EQ_INT(t->info.columns[1].type->nsub, 3);
    store_schema_release(s);
    store_schema_unlisten(st, id);
    store_type_release(u);
    store_type_release(cols[0].type);
    store_type_release(ft[0]);
    store_type_release(ft[1]);
    store_close(st);
}

/* ---- writes and reads ---- */

TEST(store_upsert_and_point_read) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"id text pk", "title text regular", "n int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 3, NULL, 0);
    REQUIRE(t);
    CHECK_OK(put(st, t, 10, 0, STORE_ROW_INSERT, "id='a';title='hello';n=1"));
    CHECK_OK(put(st, t, 11, 0, 0, "id='a';n=2"));
    CHECK_OK(put(st, t, 5, 0, 0, "id='a';title='older'")); /* older timestamp loses */
    CHECK_SCAN(st, t, "id='a' n=2 title='hello'|");
    /* the row's writetime and ttl per cell */
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    eddy_view_t key = eddy_view("a", 1);
    q.keys = &key;
    q.nkeys = 1;
    store_iter_t *it = store_iter_new(st);
    char err[256];
    CHECK_OK(store_iter_start(it, &q, err, sizeof err));
    const store_row_t *row;
    REQUIRE(store_iter_next(it, &row, err, sizeof err) == 1);
    int col_n = store_table_column(t, "n", 1), col_title = store_table_column(t, "title", 5);
    CHECK_EQ_INT(row->cells[col_n].writetime, 11);
    CHECK_EQ_INT(row->cells[col_title].writetime, 10);
    CHECK_EQ_INT(store_iter_next(it, &row, err, sizeof err), 0);
    key = eddy_view("zz", 2);
    CHECK_OK(store_iter_start(it, &q, err, sizeof err));
    CHECK_EQ_INT(store_iter_next(it, &row, err, sizeof err), 0);
    store_iter_free(it);
    /* bad input */
    store_write_t *w = store_write_new(st);
    eddy_view_t nk = {NULL, 0};
    CHECK_EQ_INT(store_write_row(w, t, &nk, 1, 1, 0, 0, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Invalid null value in condition for column id");
    CHECK_OK(store_write_row(w, t, &key, 1, 1, 0, 0, err, sizeof err));
    CHECK_EQ_INT(store_write_set(w, col_n, (const uint8_t *)"abc", 3, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Expected 4 or 0 byte int (3)");
    store_write_free(w);
    wr_t b;
    wr_init(&b, 16);
    CHECK_EQ_INT(store_value_from_constant(t->info.columns[col_n].type, STORE_CONST_STRING, "abc", 3, "n", &b, err, sizeof err),
                 EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Invalid STRING constant ('abc') for \"n\" of type int");
    CHECK_EQ_INT(store_value_from_constant(t->info.columns[col_n].type, STORE_CONST_INTEGER, "99999999999", 11, "n", &b, err,
                                           sizeof err),
                 EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Unable to make int from '99999999999'");
    wr_free(&b);
    store_table_release(t);
    store_close(st);
}

TEST(store_lww_ties) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "v text regular"};
    const store_table_t *t = mk_table(st, "t", cols, 2, NULL, 0);
    REQUIRE(t);
    /* equal timestamps: greater value bytes win, whatever the order */
    CHECK_OK(put(st, t, 7, 0, 0, "k=1;v='b'"));
    CHECK_OK(put(st, t, 7, 0, 0, "k=1;v='a'"));
    CHECK_OK(put(st, t, 7, 0, 0, "k=2;v='a'"));
    CHECK_OK(put(st, t, 7, 0, 0, "k=2;v='b'"));
    /* a tombstone beats a live cell of the same timestamp */
    CHECK_OK(put(st, t, 9, 0, 0, "k=3;v='x'"));
    CHECK_OK(put(st, t, 9, 0, 0, "k=3;v=null"));
    /* an expiring cell beats a live one of the same timestamp */
    CHECK_OK(put(st, t, 9, 0, 0, "k=4;v='zzz'"));
    CHECK_OK(put(st, t, 9, 1000, 0, "k=4;v='aaa'"));
    /* tokens: 1 -> -4069959284402364209, 2 -> -3248873570005575792, 4 -> -2729420104000364805,
       3 -> 9010454139840013625 */
    CHECK_SCAN(st, t, "k=1 v='b'|k=2 v='b'|k=4 v='aaa'|");
    store_table_release(t);
    store_close(st);
}

TEST(store_row_liveness_and_deletes) {
    fake_clock_t clk = {1700000000LL * 1000000};
    store_t *st = open_store(test_tmpdir(), &clk);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "c int ck", "v int regular", "s int static"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    REQUIRE(t);
    /* INSERT keeps a row with null cells; UPDATE-only rows vanish with their cells */
    CHECK_OK(put(st, t, 10, 0, STORE_ROW_INSERT, "k=1;c=1;v=null"));
    CHECK_OK(put(st, t, 10, 0, 0, "k=1;c=2;v=5"));
    CHECK_OK(put(st, t, 11, 0, 0, "k=1;c=2;v=null"));
    CHECK_SCAN(st, t, "k=1 c=1|");
    /* statics: shown with every row; a partition with only statics shows a static row */
    CHECK_OK(put(st, t, 12, 0, 0, "k=1;s=7"));
    CHECK_OK(put(st, t, 12, 0, 0, "k=2;s=8"));
    CHECK_SCAN(st, t, "k=1 c=1 s=7|k=2 s=8|");
    /* range deletion: c >= 1 in partition 1; newer writes survive */
    for (int c = 1; c <= 5; c++) {
        char a[64];
        snprintf(a, sizeof a, "k=1;c=%d;v=%d", c, c * 10);
        CHECK_OK(put(st, t, 20, 0, STORE_ROW_INSERT, a));
    }
    store_write_t *w = store_write_new(st);
    char err[256];
    wr_t b;
    wr_init(&b, 32);
    wr_i32(&b, 1);
    wr_i32(&b, 2);
    wr_i32(&b, 4);
    eddy_view_t pk = eddy_view(b.buf, 4), lo = eddy_view(b.buf + 4, 4), hi = eddy_view(b.buf + 8, 4);
    store_crange_t r = {{1, &lo, false}, {1, &hi, true}}; /* 2 < c <= 4 */
    CHECK_OK(store_write_delete_range(w, t, &pk, &r, 21, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_SCAN(st, t, "k=1 c=1 s=7 v=10|k=1 c=2 s=7 v=20|k=1 c=5 s=7 v=50|k=2 s=8|");
    CHECK_OK(put(st, t, 19, 0, STORE_ROW_INSERT, "k=1;c=3;v=33")); /* older than the deletion: hidden */
    CHECK_OK(put(st, t, 22, 0, STORE_ROW_INSERT, "k=1;c=4;v=44")); /* newer: visible */
    CHECK_SCAN(st, t, "k=1 c=1 s=7 v=10|k=1 c=2 s=7 v=20|k=1 c=4 s=7 v=44|k=1 c=5 s=7 v=50|k=2 s=8|");
    /* row deletion, partition deletion */
    eddy_view_t key[2] = {pk, eddy_view(b.buf + 4, 4)};
    CHECK_OK(store_write_delete_row(w, t, key, 30, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_SCAN(st, t, "k=1 c=1 s=7 v=10|k=1 c=4 s=7 v=44|k=1 c=5 s=7 v=50|k=2 s=8|");
    CHECK_OK(store_write_delete_partition(w, t, &pk, 40, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_SCAN(st, t, "k=2 s=8|");
    CHECK_OK(put(st, t, 41, 0, 0, "k=1;c=9;v=9"));
    CHECK_SCAN(st, t, "k=1 c=9 v=9|k=2 s=8|");
    /* truncate */
    CHECK_OK(store_table_truncate(st, "ks", "t", err, sizeof err));
    CHECK_SCAN(st, t, "");
    wr_free(&b);
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

TEST(store_ttl_expiry_and_purge) {
    fake_clock_t clk = {1700000000LL * 1000000};
    store_t *st = open_store(test_tmpdir(), &clk);
    REQUIRE(st);
    store_option_t opts[] = {{"gc_grace_seconds", "0", NULL}};
    const char *cols[] = {"k int pk", "v int regular", "w int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 3, opts, 1);
    REQUIRE(t);
    CHECK_OK(put(st, t, 10, 100, STORE_ROW_INSERT, "k=1;v=1"));
    CHECK_OK(put(st, t, 10, 0, STORE_ROW_INSERT, "k=2;v=2"));
    CHECK_OK(put(st, t, 11, 50, 0, "k=2;w=3"));
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    store_iter_t *it = store_iter_new(st);
    char err[256];
    CHECK_OK(store_iter_start(it, &q, err, sizeof err));
    const store_row_t *row;
    REQUIRE(store_iter_next(it, &row, err, sizeof err) == 1);
    CHECK_EQ_INT(row->cells[1].ttl, 100); /* k=1 sorts first */
    store_iter_free(it);
    clk.now_us += 60LL * 1000000;
    CHECK_SCAN(st, t, "k=1 v=1|k=2 v=2|");
    clk.now_us += 60LL * 1000000;
    CHECK_SCAN(st, t, "k=2 v=2|");
    /* purged by compaction once past gc grace */
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_OK(store_compact(st, err, sizeof err));
    uint8_t k1[4];
    store_u32(k1, 1);
    wr_t key, val;
    wr_init(&key, 64);
    wr_init(&val, 64);
    size_t pklen;
    int64_t tok;
    eddy_view_t kv = eddy_view(k1, 4);
    CHECK_OK(store_key_build(t, &kv, 1, &key, &pklen, &tok, err, sizeof err));
    CHECK_EQ_INT(store_db_get(st, CF_DATA, key.buf, key.len, &val, err, sizeof err), EDDY_ERR_NOT_FOUND);
    wr_free(&key);
    wr_free(&val);
    store_table_release(t);
    store_close(st);
}

TEST(store_collections) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "l list<text> regular", "s set<int> regular", "m map<text,int> regular"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    REQUIRE(t);
    CHECK_OK(put(st, t, 10, 0, STORE_ROW_INSERT, "k=1;l=['a','b'];s={3,1,2};m={'x':1,'y':2}"));
    CHECK_SCAN(st, t, "k=1 l=['a', 'b'] m={'x': 1, 'y': 2} s={1, 2, 3}|");
    /* overwrite drops older elements (deletion at ts - 1) */
    CHECK_OK(put(st, t, 11, 0, 0, "k=1;s={9}"));
    CHECK_SCAN(st, t, "k=1 l=['a', 'b'] m={'x': 1, 'y': 2} s={9}|");
    store_write_t *w = store_write_new(st);
    char err[256];
    wr_t b;
    wr_init(&b, 64);
    int col_l = store_table_column(t, "l", 1), col_s = store_table_column(t, "s", 1), col_m = store_table_column(t, "m", 1);
    eddy_view_t key = lit(t, 0, "1", &b);
    eddy_view_t app = lit(t, col_l, "['c']", &b), pre = lit(t, col_l, "['z']", &b), rm = lit(t, col_s, "{9}", &b);
    eddy_view_t add = lit(t, col_s, "{5,4}", &b), put2 = lit(t, col_m, "{'w':0}", &b);
    eddy_view_t vs[] = {key, app, pre, rm, add, put2};
    fix_views(vs, 6, &b);
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 12, 0, 0, err, sizeof err));
    CHECK_OK(store_write_list_append(w, col_l, vs[1].ptr, vs[1].len, err, sizeof err));
    CHECK_OK(store_write_list_prepend(w, col_l, vs[2].ptr, vs[2].len, err, sizeof err));
    CHECK_OK(store_write_set_remove(w, col_s, vs[3].ptr, vs[3].len, err, sizeof err));
    CHECK_OK(store_write_set_add(w, col_s, vs[4].ptr, vs[4].len, err, sizeof err));
    CHECK_OK(store_write_map_put(w, col_m, vs[5].ptr, vs[5].len, err, sizeof err));
    CHECK_OK(store_write_map_set_key(w, col_m, (const uint8_t *)"x", 1, NULL, 0, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_SCAN(st, t, "k=1 l=['z', 'a', 'b', 'c'] m={'w': 0, 'y': 2} s={4, 5}|");
    /* read-before-write list operations */
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 13, 0, 0, err, sizeof err));
    CHECK_OK(store_write_list_set_index(w, col_l, 1, (const uint8_t *)"A", 1, err, sizeof err));
    CHECK_EQ_INT(store_write_list_set_index(w, col_l, 9, (const uint8_t *)"A", 1, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "List index 9 out of bound, list has size 4");
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 14, 0, 0, err, sizeof err));
    CHECK_OK(store_write_list_delete_index(w, col_l, 0, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    wr_reset(&b);
    eddy_view_t rmv = lit(t, col_l, "['b']", &b);
    fix_views(&rmv, 1, &b);
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 15, 0, 0, err, sizeof err));
    CHECK_OK(store_write_list_remove(w, col_l, rmv.ptr, rmv.len, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_SCAN(st, t, "k=1 l=['A', 'c'] m={'w': 0, 'y': 2} s={4, 5}|");
    /* an emptied collection reads as null */
    CHECK_OK(put(st, t, 16, 0, 0, "k=1;s={}"));
    CHECK_SCAN(st, t, "k=1 l=['A', 'c'] m={'w': 0, 'y': 2}|");
    wr_free(&b);
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

TEST(store_counters) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k text pk", "c counter regular"};
    const store_table_t *t = mk_table(st, "t", cols, 2, NULL, 0);
    REQUIRE(t);
    store_write_t *w = store_write_new(st);
    char err[256];
    eddy_view_t key = eddy_view("a", 1);
    for (int i = 1; i <= 10; i++) {
        CHECK_OK(store_write_row(w, t, &key, 1, i, STORE_TTL_DEFAULT, 0, err, sizeof err));
        CHECK_OK(store_write_counter_add(w, 1, i, err, sizeof err));
        CHECK_OK(store_write_apply(w, false, err, sizeof err));
    }
    CHECK_SCAN(st, t, "k='a' c=55|");
    CHECK_OK(store_write_row(w, t, &key, 1, 100, STORE_TTL_DEFAULT, 0, err, sizeof err));
    CHECK_OK(store_write_counter_add(w, 1, -5, err, sizeof err));
    CHECK_EQ_INT(store_write_set(w, 1, (const uint8_t *)"12345678", 8, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    CHECK_OK(store_compact(st, err, sizeof err));
    CHECK_SCAN(st, t, "k='a' c=50|");
    /* a counter deletion wins over later increments */
    CHECK_OK(store_write_delete_row(w, t, &key, 1, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

static void collect_current(void *arg, const store_row_t *row) {
    wr_t *w = arg;
    row_text(row, w);
}

TEST(store_conditional_writes) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "v int regular", "m map<text,int> regular"};
    const store_table_t *t = mk_table(st, "t", cols, 3, NULL, 0);
    REQUIRE(t);
    store_write_t *w = store_write_new(st);
    char err[256];
    wr_t b, cur;
    wr_init(&b, 64);
    wr_init(&cur, 64);
    eddy_view_t key = lit(t, 0, "1", &b), one = lit(t, 2, "1", &b), two = lit(t, 2, "2", &b);
    eddy_view_t vs[] = {key, one, two};
    fix_views(vs, 3, &b);
    bool applied;
    /* IF NOT EXISTS: first applies, second does not and returns the row */
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 1, 0, STORE_ROW_INSERT, err, sizeof err));
    CHECK_OK(store_write_set(w, 2, vs[1].ptr, vs[1].len, err, sizeof err));
    CHECK_OK(store_write_if_not_exists(w, err, sizeof err));
    CHECK_OK(store_write_apply_cas(w, false, &applied, collect_current, &cur, err, sizeof err));
    CHECK(applied);
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 2, 0, STORE_ROW_INSERT, err, sizeof err));
    CHECK_OK(store_write_set(w, 2, vs[2].ptr, vs[2].len, err, sizeof err));
    CHECK_OK(store_write_if_not_exists(w, err, sizeof err));
    CHECK_OK(store_write_apply_cas(w, false, &applied, collect_current, &cur, err, sizeof err));
    CHECK(!applied);
    wr_u8(&cur, 0);
    CHECK_EQ_STR((const char *)cur.buf, "k=1 v=1|");
    /* IF v = 2 fails, IF v = 1 applies, IF v > 0 with IN */
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 3, 0, 0, err, sizeof err));
    CHECK_OK(store_write_set(w, 2, vs[2].ptr, vs[2].len, err, sizeof err));
    CHECK_OK(store_write_if(w, 2, NULL, NULL, STORE_OP_EQ, &vs[2], 1, err, sizeof err));
    CHECK_OK(store_write_apply_cas(w, false, &applied, NULL, NULL, err, sizeof err));
    CHECK(!applied);
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 4, 0, 0, err, sizeof err));
    CHECK_OK(store_write_set(w, 2, vs[2].ptr, vs[2].len, err, sizeof err));
    CHECK_OK(store_write_if(w, 2, NULL, NULL, STORE_OP_IN, &vs[1], 2, err, sizeof err));
    CHECK_OK(store_write_if(w, 2, NULL, NULL, STORE_OP_LT, &vs[2], 1, err, sizeof err));
    CHECK_OK(store_write_apply_cas(w, false, &applied, NULL, NULL, err, sizeof err));
    CHECK(applied);
    CHECK_SCAN(st, t, "k=1 v=2|");
    /* IF EXISTS on a missing row */
    eddy_view_t k2 = vs[2];
    CHECK_OK(store_write_row(w, t, &k2, 1, 5, 0, 0, err, sizeof err));
    CHECK_OK(store_write_set(w, 2, vs[1].ptr, vs[1].len, err, sizeof err));
    CHECK_OK(store_write_if_exists(w, err, sizeof err));
    CHECK_OK(store_write_apply_cas(w, false, &applied, NULL, NULL, err, sizeof err));
    CHECK(!applied);
    /* IF v = null holds on a null cell */
    eddy_view_t nul = {NULL, 0};
    CHECK_OK(store_write_row(w, t, &vs[0], 1, 6, 0, 0, err, sizeof err));
    CHECK_OK(store_write_set(w, 2, vs[1].ptr, vs[1].len, err, sizeof err));
    CHECK_OK(store_write_if(w, 1, NULL, NULL, STORE_OP_EQ, &nul, 1, err, sizeof err));
    CHECK_OK(store_write_apply_cas(w, false, &applied, NULL, NULL, err, sizeof err));
    CHECK(applied);
    CHECK_SCAN(st, t, "k=1 v=1|");
    wr_free(&b);
    wr_free(&cur);
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

/* ---- scans, order and paging ---- */

TEST(store_token_order_scan_and_paging) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "c int ck", "v int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 3, NULL, 0);
    REQUIRE(t);
    enum { NP = 50, NR = 7 };
    for (int k = 0; k < NP; k++)
        for (int c = 0; c < NR; c++) {
            char a[64];
            snprintf(a, sizeof a, "k=%d;c=%d;v=%d", k, c, k * 100 + c);
            REQUIRE(put(st, t, 1, 0, STORE_ROW_INSERT, a) == 0);
        }
    /* a full scan is in token order, rows in clustering order */
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    store_iter_t *it = store_iter_new(st);
    char err[256];
    CHECK_OK(store_iter_start(it, &q, err, sizeof err));
    const store_row_t *row;
    int64_t last_token = INT64_MIN;
    int last_c = -1, n = 0;
    while (store_iter_next(it, &row, err, sizeof err) == 1) {
        int c = ld_i32(row->cells[1].ptr);
        CHECK(row->token >= last_token);
        uint8_t kb[4];
        memcpy(kb, row->cells[0].ptr, 4);
        CHECK_EQ_INT(row->token, murmur3_token(kb, 4));
        if (row->token == last_token) CHECK(c == last_c + 1);
        else CHECK_EQ_INT(c, 0);
        last_token = row->token;
        last_c = c;
        n++;
    }
    CHECK_EQ_INT(n, NP * NR);
    /* paging with every page size gives the same rows, each once */
    char *all = scan_text(st, t);
    for (int ps = 1; ps <= 23; ps += 4) {
        wr_t got, state;
        wr_init(&got, 1024);
        wr_init(&state, 64);
        int pages = 0;
        for (;;) {
            q.page_size = ps;
            q.paging_state = state.len ? state.buf : NULL;
            q.paging_state_len = state.len;
            CHECK_OK(store_iter_start(it, &q, err, sizeof err));
            int inpage = 0;
            while (store_iter_next(it, &row, err, sizeof err) == 1) {
                row_text(row, &got);
                inpage++;
            }
            CHECK(inpage <= ps);
            pages++;
            if (!store_iter_has_more(it)) break;
            wr_reset(&state);
            store_iter_paging_state(it, &state);
            CHECK_OK(store_paging_state_check(state.buf, state.len, err, sizeof err));
        }
        wr_u8(&got, 0);
        CHECK_EQ_STR((const char *)got.buf, all);
        CHECK(pages >= NP * NR / ps);
        wr_free(&got);
        wr_free(&state);
    }
    free(all);
    /* LIMIT and PER PARTITION LIMIT, also across pages */
    memset(&q, 0, sizeof q);
    q.table = t;
    q.per_partition_limit = 2;
    q.limit = 9;
    q.page_size = 4;
    wr_t state;
    wr_init(&state, 64);
    n = 0;
    for (;;) {
        q.paging_state = state.len ? state.buf : NULL;
        q.paging_state_len = state.len;
        CHECK_OK(store_iter_start(it, &q, err, sizeof err));
        while (store_iter_next(it, &row, err, sizeof err) == 1) {
            CHECK(ld_i32(row->cells[1].ptr) < 2);
            n++;
        }
        if (!store_iter_has_more(it)) break;
        wr_reset(&state);
        store_iter_paging_state(it, &state);
    }
    CHECK_EQ_INT(n, 9);
    /* token range: (lo, hi] */
    memset(&q, 0, sizeof q);
    q.table = t;
    q.token_lo_set = q.token_hi_set = q.token_hi_inclusive = true;
    q.token_lo = -3000000000000000000LL;
    q.token_hi = 3000000000000000000LL;
    CHECK_OK(store_iter_start(it, &q, err, sizeof err));
    int in_range = 0;
    while (store_iter_next(it, &row, err, sizeof err) == 1) {
        CHECK(row->token > q.token_lo && row->token <= q.token_hi);
        in_range++;
    }
    int expect = 0;
    for (int k = 0; k < NP; k++) {
        uint8_t kb[4];
        store_u32(kb, (uint32_t)k);
        int64_t tk = murmur3_token(kb, 4);
        if (tk > q.token_lo && tk <= q.token_hi) expect += NR;
    }
    CHECK_EQ_INT(in_range, expect);
    /* garbage paging states are refused */
    uint8_t junk[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    q.paging_state = junk;
    q.paging_state_len = sizeof junk;
    CHECK_EQ_INT(store_iter_start(it, &q, err, sizeof err), EDDY_ERR_CORRUPT);
    wr_free(&state);
    store_iter_free(it);
    store_table_release(t);
    store_close(st);
}

TEST(store_slices_desc_reversed_in) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "a int ck", "b text ck desc", "v int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 4, NULL, 0);
    REQUIRE(t);
    const char *bs[] = {"x", "y", "z"};
    for (int a = 1; a <= 3; a++)
        for (int i = 0; i < 3; i++) {
            char s[64];
            snprintf(s, sizeof s, "k=0;a=%d;b='%s';v=%d", a, bs[i], a * 10 + i);
            REQUIRE(put(st, t, 1, 0, STORE_ROW_INSERT, s) == 0);
        }
    CHECK_SCAN(st, t,
               "k=0 a=1 b='z' v=12|k=0 a=1 b='y' v=11|k=0 a=1 b='x' v=10|k=0 a=2 b='z' v=22|k=0 a=2 b='y' v=21|"
               "k=0 a=2 b='x' v=20|k=0 a=3 b='z' v=32|k=0 a=3 b='y' v=31|k=0 a=3 b='x' v=30|");
    wr_t b;
    wr_init(&b, 64);
    eddy_view_t v[] = {lit(t, 0, "0", &b), lit(t, 1, "2", &b), lit(t, 2, "'y'", &b), lit(t, 1, "3", &b)};
    fix_views(v, 4, &b);
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    q.keys = &v[0];
    q.nkeys = 1;
    /* (a, b) > (2, 'y') AND a < 3: b is DESC, so (2,'z') comes first in key order */
    eddy_view_t lo[] = {v[1], v[2]};
    store_crange_t r = {{2, lo, false}, {1, &v[3], false}};
    q.ranges = &r;
    q.nranges = 1;
    char *got = query_text(st, &q);
    CHECK_EQ_STR(got, "k=0 a=2 b='z' v=22|");
    free(got);
    /* a = 2 AND b >= 'y', reversed */
    store_crange_t r2 = {{2, lo, true}, {1, &v[1], true}};
    q.ranges = &r2;
    q.reversed = true;
    got = query_text(st, &q);
    CHECK_EQ_STR(got, "k=0 a=2 b='y' v=21|k=0 a=2 b='z' v=22|");
    free(got);
    /* IN on a: two ranges, and a point read by full key */
    store_crange_t r3[] = {{{1, &v[3], true}, {1, &v[3], true}}, {{1, &v[1], true}, {1, &v[1], true}}};
    q.ranges = r3;
    q.nranges = 2;
    q.reversed = false;
    q.per_partition_limit = 4;
    got = query_text(st, &q);
    CHECK_EQ_STR(got, "k=0 a=2 b='z' v=22|k=0 a=2 b='y' v=21|k=0 a=2 b='x' v=20|k=0 a=3 b='z' v=32|");
    free(got);
    store_crange_t r4 = {{2, lo, true}, {2, lo, true}};
    q.ranges = &r4;
    q.nranges = 1;
    q.per_partition_limit = 0;
    got = query_text(st, &q);
    CHECK_EQ_STR(got, "k=0 a=2 b='y' v=21|");
    free(got);
    wr_free(&b);
    store_table_release(t);
    store_close(st);
}

TEST(store_json_insert_and_select) {
    store_t *st = open_store(test_tmpdir(), NULL);
    REQUIRE(st);
    const char *cols[] = {"id text pk", "is_archived int regular", "is_public boolean regular",
                          "created_at timestamp regular", "tags list<text> regular", "title text regular"};
    const store_table_t *t = mk_table(st, "leaves", cols, 6, NULL, 0);
    REQUIRE(t);
    store_write_t *w = store_write_new(st);
    char err[256];
    const char *doc = "{\"id\": \"abc\", \"is_archived\": \"1\", \"is_public\": \"False\", "
                      "\"created_at\": \"2014-01-01T00:00:00.000Z\", \"tags\": [\"a\", \"b\"], \"title\": null}";
    CHECK_OK(store_write_json(w, t, doc, strlen(doc), false, 5, 0, err, sizeof err));
    CHECK_OK(store_write_apply(w, false, err, sizeof err));
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    store_iter_t *it = store_iter_new(st);
    CHECK_OK(store_iter_start(it, &q, err, sizeof err));
    const store_row_t *row;
    REQUIRE(store_iter_next(it, &row, err, sizeof err) == 1);
    int all[] = {0, 1, 2, 3, 4, 5};
    wr_t out;
    wr_init(&out, 256);
    store_row_to_json(row, all, 6, &out);
    wr_u8(&out, 0);
    CHECK_EQ_STR((const char *)out.buf, "{\"id\": \"abc\", \"created_at\": \"2014-01-01 00:00:00.000Z\", \"is_archived\": 1, "
                                        "\"is_public\": false, \"tags\": [\"a\", \"b\"], \"title\": null}");
    store_iter_free(it);
    const char *bad = "{\"id\": \"x\", \"nope\": 1}";
    CHECK_EQ_INT(store_write_json(w, t, bad, strlen(bad), false, 5, 0, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "JSON values map contains unrecognized column: nope");
    const char *bad2 = "{\"id\": \"x\", \"is_archived\": 1.5}";
    CHECK_EQ_INT(store_write_json(w, t, bad2, strlen(bad2), false, 5, 0, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Error decoding JSON value for is_archived: Expected an int value, but got a Double: 1.5");
    const char *bad3 = "{\"id\": \"x\", \"title\": 12}";
    CHECK_EQ_INT(store_write_json(w, t, bad3, strlen(bad3), false, 5, 0, err, sizeof err), EDDY_ERR_INVALID);
    CHECK_EQ_STR(err, "Error decoding JSON value for title: Expected a UTF-8 string, but got a Integer: 12");
    wr_free(&out);
    store_write_free(w);
    store_table_release(t);
    store_close(st);
}

TEST(store_kv_and_batch_atomicity) {
    const char *dir = test_tmpdir();
    store_t *st = open_store(dir, NULL);
    REQUIRE(st);
    const char *cols[] = {"k int pk", "v int regular"};
    const store_table_t *t = mk_table(st, "t", cols, 2, NULL, 0);
    REQUIRE(t);
    store_write_t *w = store_write_new(st);
    char err[256];
    uint8_t kb[4];
    store_u32(kb, 1);
    eddy_view_t key = eddy_view(kb, 4);
    CHECK_OK(store_write_row(w, t, &key, 1, 1, 0, STORE_ROW_INSERT, err, sizeof err));
    CHECK_OK(store_write_kv_put(w, "pipe/x/pos", 10, "42", 2));
    CHECK_OK(store_write_apply(w, true, err, sizeof err));
    /* a failing operation in the middle of a batch adds nothing */
    CHECK_OK(store_write_row(w, t, &key, 1, 2, 0, 0, err, sizeof err));
    CHECK(store_write_set(w, 1, (const uint8_t *)"x", 1, err, sizeof err) != 0);
    store_write_reset(w);
    store_write_free(w);
    store_table_release(t);
    store_close(st);
    st = open_store(dir, NULL);
    REQUIRE(st);
    wr_t v;
    wr_init(&v, 16);
    CHECK_OK(store_kv_get(st, "pipe/x/pos", 10, &v, err, sizeof err));
    CHECK_EQ_MEM(v.buf, v.len, "42", 2);
    CHECK_EQ_INT(store_kv_get(st, "pipe/y", 6, &v, err, sizeof err), EDDY_ERR_NOT_FOUND);
    wr_free(&v);
    CHECK_OK(store_table_lookup(st, "ks", "t", &t, err, sizeof err));
    CHECK_SCAN(st, t, "k=1|");
    store_table_release(t);
    store_close(st);
}
