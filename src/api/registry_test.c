/* Unit tests for the schema registry's state machine, with an in-memory record store. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api/api_int.h"
#include "test.h"

typedef struct {
    wr_t keys[64], values[64];
    bool null[64];
    int n;
    bool fail;
} mem_store_t;

static int mem_append(void *ctx, const api_registry_record_t *recs, size_t n, void (*done)(void *, int), void *arg) {
    mem_store_t *m = ctx;
    if (m->fail) return EDDY_ERR_IO;
    for (size_t i = 0; i < n && m->n < 64; i++, m->n++) {
        wr_init(&m->keys[m->n], 0);
        wr_init(&m->values[m->n], 0);
        wr_bytes(&m->keys[m->n], recs[i].key, recs[i].key_len);
        if (recs[i].value) wr_bytes(&m->values[m->n], recs[i].value, recs[i].value_len);
        m->null[m->n] = recs[i].value == NULL;
    }
    done(arg, EDDY_OK); /* durable at once */
    return EDDY_OK;
}

static void mem_free(mem_store_t *m) {
    for (int i = 0; i < m->n; i++) {
        wr_free(&m->keys[i]);
        wr_free(&m->values[i]);
    }
}

typedef struct {
    int status;
    char body[4096];
} answer_t;

static void capture(void *ctx, int status, const char *ctype, const char *body, size_t len) {
    answer_t *a = ctx;
    snprintf(a->body, sizeof a->body, "%.*s", (int)len, body);
    __atomic_store_n(&a->status, status, __ATOMIC_RELEASE); /* may run on the log's sync thread */
}

static answer_t reg_register(api_registry_t *reg, const char *subject, const char *schema) {
    answer_t a = {0, ""};
    api_responder_t r = {capture, &a};
    api_registry_register(reg, subject, schema, strlen(schema), NULL, &r);
    return a;
}

static const char *body_of(int (*fn)(wr_t *, void *), void *arg, int *status) {
    static char out[4096];
    wr_t w;
    wr_init(&w, 0);
    *status = fn(&w, arg);
    snprintf(out, sizeof out, "%.*s", (int)w.len, (char *)w.buf);
    wr_free(&w);
    return out;
}

#define V1 "{\"type\":\"record\",\"name\":\"Leaf\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"}]}"
#define V2 "{\"type\":\"record\",\"name\":\"Leaf\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"int\",\"default\":0}]}"
#define BAD "{\"type\":\"record\",\"name\":\"Leaf\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"t\",\"type\":\"string\"}]}"

typedef struct {
    api_registry_t *reg;
    const char *subject, *version, *schema;
    uint32_t id;
} q_t;

static int q_versions(wr_t *w, void *a) { q_t *q = a; return api_registry_list_versions(q->reg, q->subject, false, w); }
static int q_version(wr_t *w, void *a) { q_t *q = a; return api_registry_get_version(q->reg, q->subject, q->version, false, false, w); }
static int q_schema(wr_t *w, void *a) { q_t *q = a; return api_registry_get_schema(q->reg, q->id, false, w); }
static int q_subjects(wr_t *w, void *a) { q_t *q = a; return api_registry_list_subjects(q->reg, false, w); }
static int q_lookup(wr_t *w, void *a) { q_t *q = a; return api_registry_lookup(q->reg, q->subject, q->schema, strlen(q->schema), false, w); }
static int q_config(wr_t *w, void *a) { q_t *q = a; return api_registry_get_config(q->reg, q->subject, false, w); }

TEST(registry_registers_checks_and_replays) {
    mem_store_t m = {0};
    api_registry_store_t store = {mem_append, &m};
    api_registry_t *reg = api_registry_new(&store);
    REQUIRE(reg);
    answer_t a = reg_register(reg, "leaves-value", V1);
    CHECK_EQ_INT(a.status, 200);
    CHECK_EQ_STR(a.body, "{\"id\":1}");
    CHECK_EQ_INT(m.n, 1);
    /* The record is Confluent's. */
    char key0[256];
    snprintf(key0, sizeof key0, "%.*s", (int)m.keys[0].len, (char *)m.keys[0].buf);
    CHECK_EQ_STR(key0, "{\"keytype\":\"SCHEMA\",\"subject\":\"leaves-value\",\"version\":1,\"magic\":1}");
    /* Again (whitespace differs): same id, nothing written. */
    a = reg_register(reg, "leaves-value", " {\"name\":\"Leaf\", \"type\":\"record\",\"fields\":[{\"type\":\"string\",\"name\":\"id\"}]}");
    CHECK_EQ_STR(a.body, "{\"id\":1}");
    CHECK_EQ_INT(m.n, 1);
    /* The same schema under another subject keeps its id. */
    a = reg_register(reg, "other-value", V1);
    CHECK_EQ_STR(a.body, "{\"id\":1}");
    /* BACKWARD: a new field without a default is refused with 409. */
    a = reg_register(reg, "leaves-value", BAD);
    CHECK_EQ_INT(a.status, 409);
    CHECK(strstr(a.body, "\"error_code\":409") && strstr(a.body, "READER_FIELD_MISSING_DEFAULT_VALUE"));
    a = reg_register(reg, "leaves-value", V2);
    CHECK_EQ_STR(a.body, "{\"id\":2}");
    a = reg_register(reg, "leaves-value", "{\"type\":\"nope\"}");
    CHECK_EQ_INT(a.status, 422);
    CHECK(strstr(a.body, "\"error_code\":42201") != NULL);

    q_t q = {reg, "leaves-value", "latest", V1, 2};
    int st;
    CHECK_EQ_STR(body_of(q_versions, &q, &st), "[1,2]");
    const char *b = body_of(q_version, &q, &st);
    CHECK(strstr(b, "\"version\":2,\"id\":2,\"schema\":") != NULL);
    CHECK(strstr(body_of(q_schema, &q, &st), "{\"schema\":\"{\\\"type\\\":\\\"record\\\"") != NULL);
    CHECK_EQ_STR(body_of(q_subjects, &q, &st), "[\"leaves-value\",\"other-value\"]");
    CHECK(strstr(body_of(q_lookup, &q, &st), "\"version\":1,\"id\":1") != NULL);
    q.subject = "missing";
    CHECK_EQ_STR(body_of(q_versions, &q, &st), "{\"error_code\":40401,\"message\":\"Subject 'missing' not found.\"}");
    CHECK_EQ_INT(st, 404);
    q.subject = "leaves-value";
    q.version = "7";
    body_of(q_version, &q, &st);
    CHECK_EQ_INT(st, 404);
    q.version = "x";
    CHECK(strstr(body_of(q_version, &q, &st), "42202") != NULL);
    CHECK_EQ_INT(st, 422);
    q.id = 99;
    CHECK_EQ_STR(body_of(q_schema, &q, &st), "{\"error_code\":40403,\"message\":\"Schema 99 not found\"}");
    CHECK(strstr(body_of(q_config, &q, &st), "40408") != NULL);

    /* Config: NONE lets the incompatible schema in. */
    answer_t c = {0, ""};
    api_responder_t cr = {capture, &c};
    api_registry_set_config(reg, "leaves-value", API_COMPAT_NONE, &cr);
    CHECK_EQ_STR(c.body, "{\"compatibility\":\"NONE\"}");
    CHECK_EQ_STR(body_of(q_config, &q, &st), "{\"compatibilityLevel\":\"NONE\"}");
    a = reg_register(reg, "leaves-value", BAD);
    CHECK_EQ_STR(a.body, "{\"id\":3}");

    /* Deletes: soft then permanent, with Confluent's errors in between. */
    api_registry_delete_version(reg, "leaves-value", "1", true, &cr);
    CHECK(strstr(c.body, "40407") != NULL);
    api_registry_delete_version(reg, "leaves-value", "1", false, &cr);
    CHECK_EQ_STR(c.body, "1");
    api_registry_delete_version(reg, "leaves-value", "1", false, &cr);
    CHECK(strstr(c.body, "40406") != NULL);
    api_registry_delete_version(reg, "leaves-value", "1", true, &cr);
    CHECK_EQ_STR(c.body, "1");
    q.subject = "leaves-value";
    CHECK_EQ_STR(body_of(q_versions, &q, &st), "[2,3]");
    api_registry_delete_subject(reg, "other-value", true, &cr);
    CHECK(strstr(c.body, "40405") != NULL);
    api_registry_delete_subject(reg, "other-value", false, &cr);
    CHECK_EQ_STR(c.body, "[1]");
    q.id = 1; /* still served: other-value's version is only soft-deleted */
    body_of(q_schema, &q, &st);
    CHECK_EQ_INT(st, 200);
    int nrec = m.n;

    /* Replay into a new registry: the same answers, and the next id follows. */
    mem_store_t m2 = {0};
    api_registry_store_t store2 = {mem_append, &m2};
    api_registry_t *again = api_registry_new(&store2);
    for (int i = 0; i < nrec; i++) {
        char err[128];
        CHECK_OK(api_registry_apply_record(again, m.keys[i].buf, m.keys[i].len, m.values[i].buf, m.values[i].len, m.null[i],
                                           err, sizeof err));
    }
    q_t q2 = {again, "leaves-value", "latest", V1, 2};
    CHECK_EQ_STR(body_of(q_versions, &q2, &st), "[2,3]");
    CHECK_EQ_STR(body_of(q_config, &q2, &st), "{\"compatibilityLevel\":\"NONE\"}");
    CHECK_EQ_STR(body_of(q_subjects, &q2, &st), "[\"leaves-value\"]");
    a = reg_register(again, "new-value", "\"string\"");
    CHECK_EQ_STR(a.body, "{\"id\":4}");
    api_registry_free(again);
    mem_free(&m2);

    /* A store failure answers 500 50001 and changes nothing. */
    m.fail = true;
    a = reg_register(reg, "failing", "\"long\"");
    CHECK_EQ_INT(a.status, 500);
    CHECK(strstr(a.body, "50001") != NULL);
    q.subject = "failing";
    body_of(q_versions, &q, &st);
    CHECK_EQ_INT(st, 404);
    api_registry_free(reg);
    mem_free(&m);
}

TEST(registry_replay_skips_corrupt_records) {
    api_registry_t *reg = api_registry_new(NULL);
    char err[128];
    const char *bad[][2] = {
        {"not json", "{}"},
        {"{\"keytype\":\"SCHEMA\"}", "{}"},
        {"{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":1,\"magic\":1}", "{\"id\":1}"},
        {"{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":1,\"magic\":1}", "{\"id\":1,\"schema\":\"{bad\"}"},
        {"{\"keytype\":\"CONFIG\",\"subject\":null,\"magic\":0}", "{\"compatibilityLevel\":\"SIDEWAYS\"}"},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(bad); i++)
        CHECK(api_registry_apply_record(reg, bad[i][0], strlen(bad[i][0]), bad[i][1], strlen(bad[i][1]), false, err,
                                        sizeof err) == EDDY_ERR_CORRUPT);
    /* Unknown key types (NOOP, MODE) are ignored. */
    const char *noop = "{\"keytype\":\"NOOP\",\"magic\":0}";
    CHECK_OK(api_registry_apply_record(reg, noop, strlen(noop), NULL, 0, true, err, sizeof err));
    /* Without a store, a registration answers 50001. */
    answer_t a = reg_register(reg, "s", "\"int\"");
    CHECK_EQ_INT(a.status, 500);
    api_registry_free(reg);
}

static void wait_answer(answer_t *a) {
    for (int i = 0; i < 5000 && __atomic_load_n(&a->status, __ATOMIC_ACQUIRE) == 0; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

TEST(registry_on_the_log_keeps_ids_across_restarts) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/log", test_tmpdir());
    for (int round = 0; round < 2; round++) {
        log_options_t o;
        log_options_init(&o);
        o.background = false;
        log_t *log = NULL;
        log_err_t e;
        REQUIRE_OK(log_open(dir, &o, &log, &e));
        api_registry_t *reg = NULL;
        log_partition_t *p = NULL;
        char err[256];
        REQUIRE_OK(api_registry_open(log, &reg, &p, err, sizeof err));
        answer_t a = {0, ""};
        api_responder_t r = {capture, &a};
        /* Round 0 registers two schemas; round 1 finds them again (same ids, no new record). */
        api_registry_register(reg, "record-cassandra-leaves-avro-value", V1, strlen(V1), NULL, &r);
        wait_answer(&a);
        CHECK_EQ_STR(a.body, "{\"id\":1}");
        a.status = 0;
        api_registry_register(reg, "record-cassandra-leaves-avro-value", V2, strlen(V2), NULL, &r);
        wait_answer(&a);
        CHECK_EQ_STR(a.body, "{\"id\":2}");
        log_partition_state_t st;
        REQUIRE_OK(log_partition_state(p, &st));
        CHECK_EQ_INT(st.high_watermark, 2);
        api_registry_free(reg);
        log_partition_release(p);
        log_close(log);
    }
}
