/* eddy's C client against eddy's CQL server in this process (a store in the test's directory,
 * the server on a port-0 listener): negotiation, many asynchronous requests in flight, prepared
 * statements and their metadata, paging, batches, error mapping, re-preparing after the server
 * restarted (its prepared cache is gone), and cql_client_call. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "cql/cql.h"
#include "net/net.h"
#include "store/store.h"
#include "test.h"

typedef struct {
    store_t *st;
    cql_server_t *srv;
    char addr[80];
} fixture_t;

/* Starts the CQL server on listen ("127.0.0.1:0" for a free port) over f->st. */
static void server_start(fixture_t *f, const char *listen) {
    char err[256] = "";
    cql_server_opts_t o = {0};
    o.store = f->st;
    REQUIRE_OK(cql_server_new(&o, &f->srv, err, sizeof err));
    net_server_t *ns = cql_server_net(f->srv);
    REQUIRE_OK(net_server_listen(ns, listen, err, sizeof err));
    REQUIRE_OK(net_server_start(ns, err, sizeof err));
    REQUIRE_OK(net_server_listener_addr(ns, 0, f->addr, sizeof f->addr));
    cql_server_ready(f->srv);
}

static void fixture_start(fixture_t *f) {
    char err[256] = "";
    memset(f, 0, sizeof *f);
    REQUIRE_OK(store_open(test_tmpdir(), NULL, &f->st, err, sizeof err));
    server_start(f, "127.0.0.1:0");
}

static void fixture_stop(fixture_t *f) {
    cql_server_stop(f->srv);
    store_close(f->st);
}

static cql_client_t *connect_to(const fixture_t *f, int max_version, bool no_compression) {
    const char *points[] = {f->addr};
    cql_client_opts_t o = {0};
    o.contact_points = points;
    o.ncontact_points = 1;
    o.max_protocol_version = max_version;
    o.no_compression = no_compression;
    o.connections_per_host = 2;
    char err[256] = "";
    cql_client_t *c = NULL;
    int rc = cql_client_connect(&o, &c, err, sizeof err);
    if (rc != EDDY_OK) test_fail(__FILE__, __LINE__, "connect: %s", err);
    REQUIRE(c);
    return c;
}

static void run(cql_client_t *c, const char *q) {
    cql_error_t err;
    int rc = cql_client_query(c, q, NULL, &err);
    if (rc != EDDY_OK) test_fail(__FILE__, __LINE__, "%s: %s", q, err.message);
}

static int32_t be32(cql_value_t v) {
    if (v.len != 4) return -1;
    return (int32_t)((uint32_t)v.ptr[0] << 24 | (uint32_t)v.ptr[1] << 16 | (uint32_t)v.ptr[2] << 8 | v.ptr[3]);
}

static void put32(uint8_t *p, int32_t x) {
    p[0] = (uint8_t)((uint32_t)x >> 24);
    p[1] = (uint8_t)((uint32_t)x >> 16);
    p[2] = (uint8_t)((uint32_t)x >> 8);
    p[3] = (uint8_t)x;
}

/* Completions of asynchronous requests. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, failed;
    char last_error[512];
} waiter_t;

static void on_done(void *arg, int status, cql_result_t *res, const cql_error_t *err) {
    waiter_t *w = arg;
    cql_result_free(res);
    pthread_mutex_lock(&w->lock);
    w->done++;
    if (status != EDDY_OK) {
        w->failed++;
        snprintf(w->last_error, sizeof w->last_error, "%s", err ? err->message : "?");
    }
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Fetches every page of stmt; returns the rows seen and the pages it took; checks that column 0
 * (an int) never decreases when ordered is set. */
static size_t read_all(cql_client_t *c, cql_stmt_t st, int *pages, bool ordered) {
    size_t rows = 0;
    int32_t last = INT32_MIN;
    uint8_t state[1024];
    *pages = 0;
    for (;;) {
        cql_result_t *r = NULL;
        cql_error_t err;
        int rc = cql_client_execute(c, &st, &r, &err);
        if (rc != EDDY_OK) {
            test_fail(__FILE__, __LINE__, "page %d: %s", *pages, err.message);
            return rows;
        }
        (*pages)++;
        for (size_t i = 0; i < cql_result_row_count(r); i++) {
            int32_t v = be32(cql_result_value(r, i, 0));
            if (ordered) CHECK(v >= last);
            last = v;
        }
        rows += cql_result_row_count(r);
        bool more = cql_result_has_more_pages(r);
        eddy_view_t ps = cql_result_paging_state(r);
        REQUIRE(ps.len <= sizeof state);
        if (ps.len) memcpy(state, ps.ptr, ps.len);
        st.paging_state = state;
        st.paging_state_len = ps.len;
        cql_result_free(r);
        if (!more) return rows;
        REQUIRE(*pages < 1000);
    }
}

TEST(client_against_server) {
    fixture_t f;
    fixture_start(&f);
    cql_client_t *c = connect_to(&f, 0, false);
    CHECK_EQ_INT(cql_client_protocol_version(c), 5);
    CHECK_EQ_STR(cql_client_compression(c), "lz4");
    CHECK_EQ_INT(cql_client_host_count(c), 1);
    CHECK_EQ_INT(cql_client_hosts_up(c), 1);
    CHECK_EQ_STR(cql_client_cluster_name(c), "eddy");
    CHECK(strncmp(cql_client_release_version(c), "4.0.", 4) == 0);

    run(c, "CREATE KEYSPACE ck WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    run(c, "CREATE TABLE ck.t (k int, c int, v text, PRIMARY KEY (k, c))");

    const cql_prepared_t *ins = NULL;
    cql_error_t err;
    REQUIRE_OK(cql_client_prepare(c, "INSERT INTO ck.t (k, c, v) VALUES (?, ?, ?)", &ins, &err));
    CHECK_EQ_INT(cql_prepared_bind_count(ins), 3);
    CHECK_EQ_STR(cql_prepared_bind_name(ins, 1), "c");
    CHECK_EQ_INT(cql_prepared_bind_type(ins, 2)->id, 0x000D);
    CHECK_EQ_INT(cql_prepared_pk_count(ins), 1);
    CHECK_EQ_INT(cql_prepared_pk_index(ins, 0), 0);
    const cql_prepared_t *again = NULL;
    REQUIRE_OK(cql_client_prepare(c, "INSERT INTO ck.t (k, c, v) VALUES (?, ?, ?)", &again, &err));
    CHECK(again == ins);

    /* 2,000 writes in flight at once over two connections */
    enum { N = 2000, PARTS = 10 };
    static uint8_t keys[N][8];
    static cql_value_t vals[N][3];
    waiter_t w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < N; i++) {
        put32(keys[i], i % PARTS);
        put32(keys[i] + 4, i);
        vals[i][0] = cql_value(keys[i], 4);
        vals[i][1] = cql_value(keys[i] + 4, 4);
        vals[i][2] = cql_value("value", 5);
        cql_stmt_t st = {.prepared = ins, .values = vals[i], .nvalues = 3, .idempotent = true};
        REQUIRE_OK(cql_client_execute_async(c, &st, on_done, &w));
    }
    pthread_mutex_lock(&w.lock);
    while (w.done < N) pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    CHECK_EQ_INT(w.failed, 0);
    if (w.failed) test_fail(__FILE__, __LINE__, "last error: %s", w.last_error);

    /* one partition in pages of 50, clustering order kept across pages */
    const cql_prepared_t *sel = NULL;
    REQUIRE_OK(cql_client_prepare(c, "SELECT c, v FROM ck.t WHERE k = ?", &sel, &err));
    CHECK_EQ_INT(cql_prepared_pk_index(sel, 0), 0);
    uint8_t three[4];
    put32(three, 3);
    cql_value_t kv = cql_value(three, 4);
    int pages = 0;
    cql_stmt_t st = {.prepared = sel, .values = &kv, .nvalues = 1, .page_size = 50};
    CHECK_EQ_INT(read_all(c, st, &pages, true), N / PARTS);
    CHECK(pages >= N / PARTS / 50);
    /* skip_metadata: the same rows, without column names and types */
    for (int skip = 0; skip < 2; skip++) {
        cql_stmt_t one = {.prepared = sel, .values = &kv, .nvalues = 1, .page_size = -1, .skip_metadata = skip};
        cql_result_t *sr = NULL;
        REQUIRE_OK(cql_client_execute(c, &one, &sr, &err));
        CHECK_EQ_INT(cql_result_row_count(sr), N / PARTS);
        CHECK_EQ_INT(cql_result_column_count(sr), 2);
        CHECK_EQ_INT(cql_result_value(sr, 0, 1).len > 0, 1);
        CHECK_EQ_INT(cql_result_column_type(sr, 1) == NULL, skip);
        CHECK_EQ_STR(cql_result_column_name(sr, 1), skip ? "" : "v");
        cql_result_free(sr);
    }
    /* the whole table, unprepared, in pages of 300 */
    cql_stmt_t scan = {.query = "SELECT c FROM ck.t", .page_size = 300};
    CHECK_EQ_INT(read_all(c, scan, &pages, false), N);
    CHECK(pages >= N / 300);

    /* a logged batch of a prepared and a text statement, applied together */
    uint8_t b[8];
    put32(b, 99);
    put32(b + 4, 1);
    cql_value_t bv[3] = {cql_value(b, 4), cql_value(b + 4, 4), cql_value("batched", 7)};
    cql_batch_entry_t entries[2] = {
        {.prepared = ins, .values = bv, .nvalues = 3},
        {.query = "INSERT INTO ck.t (k, c, v) VALUES (99, 2, 'text')"},
    };
    CHECK_OK(cql_client_batch(c, CQL_BATCH_TYPE_LOGGED, entries, 2, NULL, NULL, &err));
    cql_result_t *r = NULL;
    REQUIRE_OK(cql_client_query(c, "SELECT count(*) FROM ck.t WHERE k = 99", &r, &err));
    cql_value_t cnt = cql_result_value(r, 0, 0);
    CHECK_EQ_INT(cnt.len, 8);
    CHECK_EQ_INT(cnt.len == 8 ? cnt.ptr[7] : 0, 2);
    cql_result_free(r);

    /* the server's errors keep their codes and map to statuses */
    CHECK_EQ_INT(cql_client_query(c, "SELEC * FROM ck.t", NULL, &err), EDDY_ERR_INVALID);
    CHECK_EQ_INT(err.code, 0x2000);
    CHECK_EQ_INT(cql_client_query(c, "CREATE TABLE ck.t (k int PRIMARY KEY)", NULL, &err), EDDY_ERR_EXISTS);
    CHECK_EQ_INT(err.code, 0x2400);
    CHECK_EQ_INT(cql_client_query(c, "SELECT * FROM ck.t WHERE v = 'x'", NULL, &err), EDDY_ERR_INVALID);
    CHECK_EQ_INT(err.code, 0x2200);
    CHECK(strstr(err.message, "ALLOW FILTERING") != NULL);

    /* USE on one connection holds for the session: every connection then resolves t in ck */
    run(c, "USE ck");
    for (int i = 0; i < 20; i++) {
        cql_result_t *cr = NULL;
        CHECK_OK(cql_client_query(c, "SELECT count(*) FROM t WHERE k = 99", &cr, &err));
        cql_result_free(cr);
    }
    const cql_prepared_t *unqualified = NULL;
    CHECK_OK(cql_client_prepare(c, "SELECT v FROM t WHERE k = ?", &unqualified, &err));

    cql_client_close(c);
    fixture_stop(&f);
}

TEST(client_negotiates_down) {
    fixture_t f;
    fixture_start(&f);
    for (int v = 4; v >= 3; v--) {
        cql_client_t *c = connect_to(&f, v, true);
        CHECK_EQ_INT(cql_client_protocol_version(c), v);
        CHECK_EQ_STR(cql_client_compression(c), "none");
        cql_result_t *r = NULL;
        cql_error_t err;
        CHECK_OK(cql_client_query(c, "SELECT cluster_name FROM system.local", &r, &err));
        CHECK_EQ_INT(cql_result_row_count(r), 1);
        cql_value_t name = cql_result_value(r, 0, 0);
        CHECK_EQ_MEM(name.ptr, (size_t)name.len, "eddy", 4);
        cql_result_free(r);
        cql_client_close(c);
    }
    fixture_stop(&f);
}

/* The server restarts on the same port with an empty prepared cache: the client reconnects,
 * gets Unprepared for its statement, prepares it again and the write goes through. */
TEST(client_reprepares_after_restart) {
    fixture_t f;
    fixture_start(&f);
    cql_client_t *c = connect_to(&f, 0, false);
    run(c, "CREATE KEYSPACE rk WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    run(c, "CREATE TABLE rk.t (k int PRIMARY KEY, v int)");
    const cql_prepared_t *ins = NULL;
    cql_error_t err;
    REQUIRE_OK(cql_client_prepare(c, "INSERT INTO rk.t (k, v) VALUES (?, ?)", &ins, &err));
    uint8_t b[8];
    put32(b, 1);
    put32(b + 4, 10);
    cql_value_t v[2] = {cql_value(b, 4), cql_value(b + 4, 4)};
    cql_stmt_t st = {.prepared = ins, .values = v, .nvalues = 2, .idempotent = true};
    CHECK_OK(cql_client_execute(c, &st, NULL, &err));

    char listen[80];
    snprintf(listen, sizeof listen, "%s", f.addr);
    cql_server_stop(f.srv);
    server_start(&f, listen);

    put32(b + 4, 20);
    int rc = -1;
    for (int i = 0; i < 400 && rc != EDDY_OK; i++) { /* until the pool reconnected (backoff) */
        rc = cql_client_execute(c, &st, NULL, &err);
        if (rc != EDDY_OK) usleep(25000);
    }
    if (rc != EDDY_OK) test_fail(__FILE__, __LINE__, "after restart: %s", err.message);
    cql_result_t *r = NULL;
    REQUIRE_OK(cql_client_query(c, "SELECT v FROM rk.t WHERE k = 1", &r, &err));
    CHECK_EQ_INT(be32(cql_result_value(r, 0, 0)), 20);
    cql_result_free(r);
    cql_client_close(c);
    fixture_stop(&f);
}

typedef struct {
    _Atomic int ran;
} call_t;

static void on_call(void *arg) {
    call_t *k = arg;
    atomic_fetch_add(&k->ran, 1);
}

TEST(client_call_runs_on_io_thread) {
    fixture_t f;
    fixture_start(&f);
    cql_client_t *c = connect_to(&f, 0, false);
    call_t k = {0};
    for (int i = 0; i < 3; i++) REQUIRE_OK(cql_client_call(c, on_call, &k));
    for (int i = 0; i < 2000 && atomic_load(&k.ran) < 3; i++) usleep(1000);
    CHECK_EQ_INT(atomic_load(&k.ran), 3);
    cql_client_close(c);
    fixture_stop(&f);
}
