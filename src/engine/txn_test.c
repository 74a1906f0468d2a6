/* Unit tests: changelog retractions through UNNEST and GROUP BY, reference-counted sink rows,
 * and the exactly-once effect across failed commits, on the in-memory backend with plans built
 * by hand (the planner's own tests go through SQL). */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_int.h"
#include "engine/engine_test_util.h"
#include "test.h"

typedef struct {
    arena_t a;
    engine_stream_t stream;
    engine_table_t table;
    engine_query_t q;
} fixture_t;

static engine_expr_t *slot(fixture_t *f, uint32_t i, engine_type_t t) {
    engine_expr_t *e = arena_alloc(&f->a, sizeof *e);
    memset(e, 0, sizeof *e);
    e->op = EX_SLOT;
    e->slot = (int)i;
    e->type = t;
    return e;
}

static engine_col_t *cols(fixture_t *f, const char *const *names, const char *const *types, uint32_t n) {
    engine_col_t *c = arena_alloc(&f->a, n * sizeof *c);
    for (uint32_t i = 0; i < n; i++) {
        c[i].name = (char *)names[i];
        engine_type_parse(types[i], strlen(types[i]), &c[i].type);
        c[i].is_key = false;
    }
    return c;
}

static const engine_type_t T_TEXT = {ENGINE_TEXT, ENGINE_ANY, ENGINE_ANY, 0};
static const engine_type_t T_LIST = {ENGINE_LIST, ENGINE_TEXT, ENGINE_ANY, 0};

/* A changelog stream over topic "leaves" (title, url, tags) feeding either
 *   leaves_by_tag: SELECT tag, title, url, tags ... CROSS JOIN UNNEST(tags) AS t(tag)
 *   tags:          SELECT tag, count(*) ... CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY tag */
static void fixture_init(fixture_t *f, bool grouped, bool changelog) {
    memset(f, 0, sizeof *f);
    arena_init(&f->a, 4096);
    static const char *const snames[] = {"title", "url", "tags"};
    static const char *const stypes[] = {"text", "text", "list<text>"};
    f->stream = (engine_stream_t){"leaf_changes", "leaves", ENGINE_FORMAT_JSON, changelog, ENGINE_START_EARLIEST, false,
                               3, cols(f, snames, stypes, 3)};
    engine_query_t *q = &f->q;
    q->id = grouped ? "test/tags" : "test/by_tag";
    q->stream = &f->stream;
    q->nbase = 3;
    q->nslots = 4;
    q->inputs = arena_alloc(&f->a, 3 * sizeof *q->inputs);
    for (uint32_t i = 0; i < 3; i++)
        q->inputs[i] = (engine_input_t){IN_FIELD, f->stream.cols[i].type, f->stream.cols[i].name, 0};
    q->nunnest = 1;
    q->unnest = arena_alloc(&f->a, sizeof *q->unnest);
    q->unnest[0] = (engine_unnest_t){slot(f, 2, T_LIST), 3, -1, false};
    q->retracting = changelog;
    if (!grouped) {
        static const char *const tnames[] = {"tag", "title", "tags", "url"};
        static const char *const ttypes[] = {"text", "text", "list<text>", "text"};
        f->table = (engine_table_t){"demo", "leaves_by_tag", 4, cols(f, tnames, ttypes, 4), 2, 1, NULL};
        f->table.pk = arena_alloc(&f->a, 2 * sizeof(uint32_t));
        f->table.pk[0] = 0;
        f->table.pk[1] = 1;
        q->nout = 4;
        q->out = arena_alloc(&f->a, 4 * sizeof *q->out);
        q->sink_cols = arena_alloc(&f->a, 4 * sizeof *q->sink_cols);
        uint32_t slots[] = {3, 0, 2, 1};
        for (uint32_t i = 0; i < 4; i++) {
            q->out[i] = slot(f, slots[i], f->table.cols[i].type);
            q->sink_cols[i] = i;
        }
        q->need_refcount = changelog;
    } else {
        static const char *const tnames[] = {"tag", "count"};
        static const char *const ttypes[] = {"text", "int"};
        f->table = (engine_table_t){"demo", "tags", 2, cols(f, tnames, ttypes, 2), 1, 1, NULL};
        f->table.pk = arena_alloc(&f->a, sizeof(uint32_t));
        f->table.pk[0] = 0;
        q->grouped = true;
        q->ngroup = 1;
        q->group = arena_alloc(&f->a, sizeof *q->group);
        q->group[0] = slot(f, 3, T_TEXT);
        q->nagg = 1;
        q->aggs = arena_alloc(&f->a, sizeof *q->aggs);
        q->aggs[0] = (engine_agg_t){AGG_COUNT_STAR, NULL, engine_type(ENGINE_INT)};
        q->nout = 2;
        q->out = arena_alloc(&f->a, 2 * sizeof *q->out);
        q->sink_cols = arena_alloc(&f->a, 2 * sizeof *q->sink_cols);
        q->out[0] = slot(f, 0, T_TEXT);
        q->out[1] = slot(f, 1, engine_type(ENGINE_INT));
        q->sink_cols[0] = 0;
        q->sink_cols[1] = 1;
    }
    q->sink = &f->table;
}

static engine_mem_t *mem_with_table(fixture_t *f) {
    engine_mem_t *m = engine_mem_new();
    engine_mem_create_topic(m, "leaves", 2);
    engine_mem_define_table(m, "demo", &f->table);
    return m;
}

static char *leaf(const char *title, const char *url, const char *tags) {
    static char buf[8][256];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 256, "{\"id\":\"x\",\"title\":\"%s\",\"url\":\"%s\",\"tags\":%s,\"content\":\"...\"}", title, url, tags);
    return b;
}

/* Runs everything appended so far, in batches of at most batch records. */
static void drain(engine_mem_t *m, engine_query_t *q, uint32_t batch) {
    engine_stream_run_t r;
    char err[256];
    REQUIRE_OK(engine_stream_open(&r, q, engine_mem_source(m), engine_mem_sink(m), err, sizeof err));
    uint32_t n;
    do {
        REQUIRE_OK(engine_stream_step(&r, batch, 1000, &n, err, sizeof err));
    } while (n > 0);
    engine_stream_close(&r);
}

static int count_fn(void *arg, eddy_view_t k, eddy_view_t v) {
    (void)k; (void)v;
    (*(size_t *)arg)++;
    return 0;
}

TEST(engine_changelog_retracts_through_unnest) {
    fixture_t f;
    fixture_init(&f, false, true);
    engine_mem_t *m = mem_with_table(&f);
    engine_mem_append(m, "leaves", 0, "A", leaf("T", "u1", "[\"a\",\"b\"]"));
    drain(m, &f.q, 100);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"),
                 "tag=\"a\"|title=\"T\"|tags=[\"a\",\"b\"]|url=\"u1\"\n"
                 "tag=\"b\"|title=\"T\"|tags=[\"a\",\"b\"]|url=\"u1\"\n");
    /* The leaf loses tag a and gains c: its row under a goes away. */
    engine_mem_append(m, "leaves", 0, "A", leaf("T", "u2", "[\"b\",\"c\"]"));
    drain(m, &f.q, 100);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"),
                 "tag=\"b\"|title=\"T\"|tags=[\"b\",\"c\"]|url=\"u2\"\n"
                 "tag=\"c\"|title=\"T\"|tags=[\"b\",\"c\"]|url=\"u2\"\n");
    /* A second leaf with the same title and tag b produces the same sink row (refcount 2). */
    engine_mem_append(m, "leaves", 1, "B", leaf("T", "u3", "[\"b\"]"));
    drain(m, &f.q, 100);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"),
                 "tag=\"b\"|title=\"T\"|tags=[\"b\"]|url=\"u3\"\n"
                 "tag=\"c\"|title=\"T\"|tags=[\"b\",\"c\"]|url=\"u2\"\n");
    /* Deleting A keeps (b, T): B still produces it. */
    engine_mem_append(m, "leaves", 0, "A", NULL);
    drain(m, &f.q, 100);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"), "tag=\"b\"|title=\"T\"|tags=[\"b\"]|url=\"u3\"\n");
    /* A title change is a key change: delete plus insert. */
    engine_mem_append(m, "leaves", 1, "B", leaf("T2", "u3", "[\"b\"]"));
    drain(m, &f.q, 100);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"), "tag=\"b\"|title=\"T2\"|tags=[\"b\"]|url=\"u3\"\n");
    engine_mem_append(m, "leaves", 1, "B", NULL);
    drain(m, &f.q, 100);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"), "");
    /* Nothing is left in state either: no keys, no refcounts. */
    wr_t p;
    wr_init(&p, 32);
    engine_kv_prefix(&p, f.q.id, KV_INPUT);
    size_t nstate = 0;
    engine_mem_sink(m).ops->kv_scan(m, eddy_view(p.buf, p.len), count_fn, &nstate);
    CHECK_EQ_INT(nstate, 0);
    wr_free(&p);
    engine_mem_free(m);
    arena_free(&f.a);
}

/* Records applied in batches read their keys' state ahead in one batched read per source read:
 * the tables and the state equal those of one record per batch (each key read alone), with new
 * keys, updates and deletes of keys seen in an earlier run, a key twice in one batch and a key
 * sent as a JSON string ("K8" is K8). */
TEST(engine_changelog_state_read_ahead) {
    fixture_t f;
    fixture_init(&f, false, true);
    engine_mem_t *m = mem_with_table(&f), *one = mem_with_table(&f);
    const char *tags[] = {"[\"a\",\"b\"]", "[\"b\"]", "[\"c\",\"a\"]", "[]"};
    char key[16], title[16];
    uint64_t single0, batched0, single1, batched1;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 24; i++) {
            int k = round ? (i * 7) % 30 : i; /* round 2: keys of round 1 and new ones */
            snprintf(key, sizeof key, k == 8 && round ? "\"K%d\"" : "K%d", k);
            snprintf(title, sizeof title, "T%d", (k + round) % 9);
            const char *v = round && k % 5 == 0 ? NULL : leaf(title, "u", tags[(k + round) % 4]);
            for (int j = 0; j < 2; j++) engine_mem_append(j ? one : m, "leaves", k % 2, key, v);
            if (i == 3) /* the same key again in this batch */
                for (int j = 0; j < 2; j++) engine_mem_append(j ? one : m, "leaves", k % 2, key, leaf("T1", "u9", tags[1]));
        }
        engine_mem_kv_reads(m, &single0, &batched0);
        drain(m, &f.q, 1000);
        engine_mem_kv_reads(m, &single1, &batched1);
        drain(one, &f.q, 1);
        /* m: the 2 partitions' positions read alone, every key's state in batched reads */
        CHECK_EQ_INT(single1 - single0, 2);
        CHECK(batched1 - batched0 >= 24);
        char want[4096];
        snprintf(want, sizeof want, "%s", dump(one, "leaves_by_tag"));
        CHECK(strlen(want) > 100);
        CHECK_EQ_STR(dump(m, "leaves_by_tag"), want);
        wr_t p;
        wr_init(&p, 32);
        engine_kv_prefix(&p, f.q.id, KV_INPUT);
        size_t nm = 0, none = 0;
        engine_mem_sink(m).ops->kv_scan(m, eddy_view(p.buf, p.len), count_fn, &nm);
        engine_mem_sink(one).ops->kv_scan(one, eddy_view(p.buf, p.len), count_fn, &none);
        CHECK_EQ_INT(nm, none);
        CHECK(nm >= 20);
        wr_free(&p);
    }
    engine_mem_free(m);
    engine_mem_free(one);
    arena_free(&f.a);
}

TEST(engine_changelog_retracts_through_group_by) {
    fixture_t f;
    fixture_init(&f, true, true);
    engine_mem_t *m = mem_with_table(&f);
    engine_mem_append(m, "leaves", 0, "A", leaf("T", "u", "[\"a\",\"b\"]"));
    engine_mem_append(m, "leaves", 1, "B", leaf("U", "u", "[\"b\"]"));
    drain(m, &f.q, 100);
    CHECK_EQ_STR(dump(m, "tags"), "tag=\"a\"|count=1\ntag=\"b\"|count=2\n");
    /* A loses a and b, gains c: a's count drops to 0 and its row is deleted; b goes down. */
    engine_mem_append(m, "leaves", 0, "A", leaf("T", "u", "[\"c\"]"));
    drain(m, &f.q, 100);
    CHECK_EQ_STR(dump(m, "tags"), "tag=\"b\"|count=1\ntag=\"c\"|count=1\n");
    engine_mem_append(m, "leaves", 1, "B", NULL);
    engine_mem_append(m, "leaves", 0, "A", NULL);
    drain(m, &f.q, 1);
    CHECK_EQ_STR(dump(m, "tags"), "");
    engine_mem_free(m);
    arena_free(&f.a);
}

TEST(engine_bad_records_and_rows_are_skipped) {
    fixture_t f;
    fixture_init(&f, false, true);
    engine_mem_t *m = mem_with_table(&f);
    engine_mem_append(m, "leaves", 0, "A", "not json");
    engine_mem_append(m, "leaves", 0, "B", "{\"title\":\"T\",\"tags\":\"not a list\"}");
    engine_mem_append(m, "leaves", 0, NULL, leaf("T", "u", "[\"a\"]"));                /* no key */
    engine_mem_append(m, "leaves", 0, "C", "{\"title\":null,\"tags\":[\"a\"]}");         /* null key col */
    engine_mem_append(m, "leaves", 0, "D", leaf("ok", "u", "[\"a\", null]"));          /* null tag */
    engine_stream_run_t r;
    char err[256];
    REQUIRE_OK(engine_stream_open(&r, &f.q, engine_mem_source(m), engine_mem_sink(m), err, sizeof err));
    uint32_t n;
    REQUIRE_OK(engine_stream_step(&r, 100, 1000, &n, err, sizeof err));
    CHECK_EQ_INT(n, 5);
    const engine_counters_t *c = engine_txn_counters(r.txn);
    CHECK_EQ_INT(c->bad_records, 3);
    CHECK_EQ_INT(c->rows_skipped, 2);
    CHECK_EQ_INT(c->output_rows, 1);
    CHECK_EQ_INT(r.next[0], 5);
    engine_stream_close(&r);
    CHECK_EQ_STR(dump(m, "leaves_by_tag"), "tag=\"a\"|title=\"ok\"|tags=[\"a\",null]|url=\"u\"\n");
    engine_mem_free(m);
    arena_free(&f.a);
}

/* Exactly once: a pipeline that fails commits at random points and restarts from what was
 * committed ends with the same tables as one run from scratch, whatever the batch sizes. */
TEST(engine_exactly_once_across_failed_commits) {
    for (int grouped = 0; grouped < 2; grouped++) {
        fixture_t f;
        fixture_init(&f, grouped, true);
        const char *table = grouped ? "tags" : "leaves_by_tag";
        engine_mem_t *m = mem_with_table(&f);
        srand(7 + grouped);
        static const char *const tagset[] = {"a", "b", "c", "d", "e"};
        for (int i = 0; i < 400; i++) {
            char key[8], tags[64] = "[", title[16];
            snprintf(key, sizeof key, "k%d", rand() % 40);
            snprintf(title, sizeof title, "t%d", rand() % 5);
            int nt = rand() % 4;
            for (int t = 0; t < nt; t++)
                snprintf(tags + strlen(tags), sizeof tags - strlen(tags), "%s\"%s\"", t ? "," : "", tagset[rand() % 5]);
            strcat(tags, "]");
            if (rand() % 10 == 0) engine_mem_append(m, "leaves", rand() % 2, key, NULL);
            else engine_mem_append(m, "leaves", rand() % 2, key, leaf(title, "u", tags));
        }
        engine_mem_t *fresh = engine_mem_clone(m);
        drain(fresh, &f.q, 1000000);
        char expect[4096];
        snprintf(expect, sizeof expect, "%s", dump(fresh, table));
        CHECK(strlen(expect) > 0);
        /* The crashing run: small random batches, a commit failing now and then; after each
         * failure the "process" restarts from a fresh run state on what was committed. */
        int failures = 0;
        for (int round = 0; round < 200; round++) {
            engine_mem_fail_commit_after(m, rand() % 6);
            engine_stream_run_t r;
            char err[256];
            REQUIRE_OK(engine_stream_open(&r, &f.q, engine_mem_source(m), engine_mem_sink(m), err, sizeof err));
            uint32_t n = 1;
            int rc = EDDY_OK;
            while (rc == EDDY_OK && n > 0) rc = engine_stream_step(&r, 1 + (uint32_t)(rand() % 37), 1000, &n, err, sizeof err);
            engine_stream_close(&r);
            if (rc == EDDY_OK) break;
            failures++;
        }
        engine_mem_fail_commit_after(m, -1);
        drain(m, &f.q, 1000);
        CHECK(failures > 0);
        CHECK_EQ_STR(dump(m, table), expect);
        engine_mem_free(fresh);
        engine_mem_free(m);
        arena_free(&f.a);
    }
}

TEST(engine_append_stream_no_refcounts) {
    fixture_t f;
    fixture_init(&f, false, false);
    engine_mem_t *m = mem_with_table(&f);
    engine_mem_append(m, "leaves", 0, "A", leaf("T", "u1", "[\"a\",\"b\"]"));
    engine_mem_append(m, "leaves", 0, "A", leaf("T", "u2", "[\"b\"]"));
    engine_mem_append(m, "leaves", 0, "A", NULL);
    drain(m, &f.q, 100);
    /* An append-only stream, as Spark's append mode: nothing is retracted. */
    CHECK_EQ_STR(dump(m, "leaves_by_tag"),
                 "tag=\"a\"|title=\"T\"|tags=[\"a\",\"b\"]|url=\"u1\"\n"
                 "tag=\"b\"|title=\"T\"|tags=[\"b\"]|url=\"u2\"\n");
    engine_mem_free(m);
    arena_free(&f.a);
}
