/* Unit tests of the api's routes through api_handle, on a real log: the registry, the REST
 * proxy (produce, consumers) and the Leaves API's commands over an in-memory projection. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api/api_int.h"
#include "test.h"

typedef struct {
    int status;
    char ctype[128];
    char *body;
    size_t len;
} reply_t;

static void capture(void *ctx, int status, const char *ctype, const char *body, size_t len) {
    reply_t *r = ctx;
    r->body = malloc(len + 1);
    memcpy(r->body, body, len);
    r->body[len] = 0;
    r->len = len;
    snprintf(r->ctype, sizeof r->ctype, "%s", ctype);
    __atomic_store_n(&r->status, status, __ATOMIC_RELEASE);
}

/* Sends one request and waits for its answer (which may come from another thread). */
static reply_t call_accept(api_t *api, api_method_t m, const char *path, const char *ctype, const char *body,
                           const char *accept) {
    reply_t r = {0};
    const char *q = strchr(path, '?');
    api_request_t req = {
        .method = m, .path = path, .path_len = q ? (size_t)(q - path) : strlen(path),
        .query = q ? q + 1 : NULL, .query_len = q ? strlen(q + 1) : 0,
        .content_type = ctype, .content_type_len = ctype ? strlen(ctype) : 0,
        .host = "127.0.0.1:8000", .host_len = 14, .accept = accept, .accept_len = accept ? strlen(accept) : 0,
        .body = body, .body_len = body ? strlen(body) : 0,
    };
    api_responder_t responder = {capture, &r};
    api_handle(api, &req, &responder);
    for (int i = 0; i < 10000 && __atomic_load_n(&r.status, __ATOMIC_ACQUIRE) == 0; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return r;
}

static reply_t call(api_t *api, api_method_t m, const char *path, const char *ctype, const char *body) {
    return call_accept(api, m, path, ctype, body, NULL);
}

#define EXPECT(expr, st, substr)                                                                  \
    do {                                                                                          \
        reply_t r_ = (expr);                                                                      \
        if (r_.status != (st) || !r_.body || !strstr(r_.body, (substr)))                          \
            test_fail(__FILE__, __LINE__, "got %d %s, wanted %d with %s", r_.status,              \
                      r_.body ? r_.body : "(none)", (st), (substr));                              \
        free(r_.body);                                                                            \
    } while (0)

typedef struct {
    log_t *log;
    api_t *api;
} env_t;

static void env_start(env_t *e) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/log", test_tmpdir());
    log_options_t o;
    log_options_init(&o);
    o.background = false;
    o.auto_create_topics = true;
    log_err_t err;
    REQUIRE_OK(log_open(dir, &o, &e->log, &err));
    api_config_t cfg = {.log = e->log, .enrich = false, .command_timeout_ms = 2000, .consumer_timeout_ms = 60000};
    char msg[256];
    REQUIRE_OK(api_new(&cfg, &e->api, msg, sizeof msg));
}

static void env_stop(env_t *e) {
    api_free(e->api);
    log_close(e->log);
}

#define JSON_CT "application/vnd.kafka.json.v2+json"
#define AVRO_CT "application/vnd.kafka.avro.v2+json"
#define BIN_CT "application/vnd.kafka.binary.v2+json"
#define V2_CT "application/vnd.kafka.v2+json"
#define SR_CT "application/vnd.schemaregistry.v1+json"

TEST(api_registry_routes) {
    env_t e;
    env_start(&e);
    api_t *api = e.api;
    reply_t r = call(api, API_POST, "/subjects/leaves-value/versions", SR_CT,
                     "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"L\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"string\\\"}]}\"}");
    CHECK_EQ_STR(r.ctype, SR_CT);
    EXPECT(r, 200, "{\"id\":1}");
    EXPECT(call(api, API_GET, "/subjects", NULL, NULL), 200, "[\"leaves-value\"]");
    EXPECT(call(api, API_GET, "/subjects/leaves-value/versions", NULL, NULL), 200, "[1]");
    EXPECT(call(api, API_GET, "/subjects/leaves-value/versions/latest", NULL, NULL), 200, "\"subject\":\"leaves-value\",\"version\":1,\"id\":1");
    EXPECT(call(api, API_GET, "/subjects/leaves-value/versions/1/schema", NULL, NULL), 200, "{\"type\":\"record\"");
    EXPECT(call(api, API_GET, "/schemas/ids/1", NULL, NULL), 200, "{\"schema\":\"{\\\"type\\\"");
    EXPECT(call(api, API_GET, "/schemas/ids/1/versions", NULL, NULL), 200, "[{\"subject\":\"leaves-value\",\"version\":1}]");
    EXPECT(call(api, API_GET, "/schemas/ids/abc", NULL, NULL), 404, "40403");
    EXPECT(call(api, API_GET, "/schemas/types", NULL, NULL), 200, "[\"AVRO\"]");
    EXPECT(call(api, API_GET, "/config", NULL, NULL), 200, "{\"compatibilityLevel\":\"BACKWARD\"}");
    EXPECT(call(api, API_PUT, "/config", SR_CT, "{\"compatibility\":\"full\"}"), 200, "{\"compatibility\":\"FULL\"}");
    EXPECT(call(api, API_PUT, "/config", SR_CT, "{\"compatibility\":\"SIDEWAYS\"}"), 422, "42203");
    EXPECT(call(api, API_GET, "/config/leaves-value?defaultToGlobal=true", NULL, NULL), 200, "FULL");
    EXPECT(call(api, API_POST, "/subjects/leaves-value", SR_CT,
                "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"L\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"string\\\"}]}\"}"),
           200, "\"version\":1,\"id\":1");
    EXPECT(call(api, API_POST, "/compatibility/subjects/leaves-value/versions/latest", SR_CT, "{\"schema\":\"\\\"string\\\"\"}"),
           200, "{\"is_compatible\":false}");
    /* Bad requests of every kind. */
    EXPECT(call(api, API_POST, "/subjects/x/versions", SR_CT, "{\"schema\":"), 400, "\"error_code\":400");
    EXPECT(call(api, API_POST, "/subjects/x/versions", SR_CT, "{}"), 422, "Empty schema");
    EXPECT(call(api, API_POST, "/subjects/x/versions", SR_CT, "{\"schema\":\"{\\\"type\\\":\\\"what\\\"}\"}"), 422, "42201");
    EXPECT(call(api, API_POST, "/subjects/x/versions", SR_CT, "{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"PROTOBUF\"}"), 422, "42201");
    EXPECT(call(api, API_GET, "/subjects/missing/versions/1", NULL, NULL), 404, "40401");
    EXPECT(call(api, API_GET, "/subjects/leaves-value/versions/9", NULL, NULL), 404, "40402");
    EXPECT(call(api, API_GET, "/subjects/leaves-value/versions/zero", NULL, NULL), 422, "42202");
    EXPECT(call(api, API_PATCH, "/subjects", NULL, NULL), 405, "\"error_code\":405");
    EXPECT(call(api, API_GET, "/subjects/a/b/c/d", NULL, NULL), 404, "\"error_code\":404");
    /* Percent-encoded subjects. */
    EXPECT(call(api, API_POST, "/subjects/a%2Fb%20c/versions", SR_CT, "{\"schema\":\"\\\"long\\\"\"}"), 200, "{\"id\":2}");
    EXPECT(call(api, API_GET, "/subjects", NULL, NULL), 200, "[\"a/b c\",\"leaves-value\"]");
    EXPECT(call(api, API_DELETE, "/subjects/a%2Fb%20c", NULL, NULL), 200, "[1]");
    EXPECT(call(api, API_DELETE, "/subjects/a%2Fb%20c?permanent=true", NULL, NULL), 200, "[1]");
    env_stop(&e);
}

TEST(api_proxy_produce_and_consume) {
    env_t e;
    env_start(&e);
    api_t *api = e.api;
    EXPECT(call(api, API_POST, "/topics/events", JSON_CT, "{\"records\":[{\"value\":{\"a\":1}},{\"key\":\"k\",\"value\":[1,2]}]}"),
           200, "{\"offsets\":[{\"partition\":0,\"offset\":0,\"error_code\":null,\"error\":null},{\"partition\":0,\"offset\":1");
    EXPECT(call(api, API_GET, "/topics", NULL, NULL), 200, "\"events\"");
    EXPECT(call(api, API_GET, "/topics/events", NULL, NULL), 200, "\"name\":\"events\"");
    EXPECT(call(api, API_GET, "/topics/events/partitions", NULL, NULL), 200, "[{\"partition\":0,\"leader\":0");
    EXPECT(call(api, API_GET, "/topics/nope", NULL, NULL), 404, "{\"error_code\":40401,\"message\":\"Topic not found.\"}");
    EXPECT(call(api, API_GET, "/topics/events/partitions/0/offsets", NULL, NULL), 200, "{\"beginning_offset\":0,\"end_offset\":2}");
    EXPECT(call(api, API_POST, "/topics/events", "application/json", "{\"records\":[{\"value\":1}]}"), 415, "415");
    EXPECT(call(api, API_POST, "/topics/events", JSON_CT, "{\"records\":[]}"), 422, "records may not be empty");
    EXPECT(call(api, API_POST, "/topics/events", JSON_CT, "{\"records\":[{\"value\":1,\"partition\":5}]}"), 404, "40402");
    EXPECT(call(api, API_POST, "/topics/events", JSON_CT, "[1"), 400, "\"error_code\":400");
    EXPECT(call(api, API_POST, "/topics/events", BIN_CT, "{\"records\":[{\"value\":\"aGVsbG8=\"}]}"), 200, "\"offset\":2");
    EXPECT(call(api, API_POST, "/topics/events", BIN_CT, "{\"records\":[{\"value\":\"not base64!\"}]}"), 422, "invalid base64");

    /* A json consumer reads from the beginning and commits. */
    EXPECT(call(api, API_POST, "/consumers/g1", V2_CT, "{\"name\":\"c1\",\"format\":\"json\",\"auto.offset.reset\":\"earliest\",\"auto.commit.enable\":\"false\"}"),
           200, "{\"instance_id\":\"c1\",\"base_uri\":\"http://127.0.0.1:8000/consumers/g1/instances/c1\"}");
    EXPECT(call(api, API_POST, "/consumers/g1", V2_CT, "{\"name\":\"c1\"}"), 409, "40902");
    EXPECT(call(api, API_POST, "/consumers/g1", V2_CT, "{\"format\":\"xml\"}"), 422, "42204");
    reply_t r = call(api, API_POST, "/consumers/g1/instances/c1/subscription", V2_CT, "{\"topics\":[\"events\"]}");
    CHECK_EQ_INT(r.status, 204);
    free(r.body);
    EXPECT(call(api, API_GET, "/consumers/g1/instances/c1/subscription", NULL, NULL), 200, "{\"topics\":[\"events\"]}");
    r = call(api, API_GET, "/consumers/g1/instances/c1/records", NULL, NULL);
    CHECK_EQ_STR(r.ctype, JSON_CT);
    EXPECT(r, 200, "[{\"topic\":\"events\",\"key\":null,\"value\":{\"a\":1},\"partition\":0,\"offset\":0},"
                   "{\"topic\":\"events\",\"key\":\"k\",\"value\":[1,2],\"partition\":0,\"offset\":1},"
                   "{\"topic\":\"events\",\"key\":null,\"value\":\"hello\""); /* not JSON: a string */
    EXPECT(call(api, API_GET, "/consumers/g1/instances/c1/records?timeout=50", NULL, NULL), 200, "[]");
    EXPECT(call(api, API_POST, "/consumers/g1/instances/c1/offsets", V2_CT, "{\"offsets\":[{\"topic\":\"events\",\"partition\":0,\"offset\":1}]}"),
           200, "");
    EXPECT(call(api, API_GET, "/consumers/g1/instances/c1/offsets", V2_CT, "{\"partitions\":[{\"topic\":\"events\",\"partition\":0}]}"),
           200, "{\"offsets\":[{\"topic\":\"events\",\"partition\":0,\"offset\":2,\"metadata\":\"\"}]}");
    /* A second instance of the group starts at the committed offset. */
    EXPECT(call(api, API_DELETE, "/consumers/g1/instances/c1", NULL, NULL), 204, "");
    EXPECT(call(api, API_GET, "/consumers/g1/instances/c1/records", NULL, NULL), 404, "40403");
    EXPECT(call(api, API_POST, "/consumers/g1", V2_CT, "{\"name\":\"c2\",\"format\":\"binary\"}"), 200, "c2");
    r = call(api, API_POST, "/consumers/g1/instances/c2/subscription", V2_CT, "{\"topics\":[\"events\"]}");
    free(r.body);
    EXPECT(call_accept(api, API_GET, "/consumers/g1/instances/c2/records", NULL, NULL, JSON_CT), 406, "40601");
    EXPECT(call_accept(api, API_GET, "/consumers/g1/instances/c2/records", NULL, NULL, BIN_CT), 200, "[{\"topic\":\"events\",\"key\":null,\"value\":\"aGVsbG8=\",\"partition\":0,\"offset\":2}]");

    /* A long-polled read is woken by a produce. */
    reply_t waiting = {0};
    const char *path = "/consumers/g1/instances/c2/records";
    api_request_t req = {.method = API_GET, .path = path, .path_len = strlen(path),
                         .query = "timeout=5000", .query_len = 12};
    api_responder_t responder = {capture, &waiting};
    api_handle(api, &req, &responder);
    EXPECT(call(api, API_POST, "/topics/events", BIN_CT, "{\"records\":[{\"value\":\"d29rZW4=\"}]}"), 200, "\"offset\":3");
    for (int i = 0; i < 5000 && __atomic_load_n(&waiting.status, __ATOMIC_ACQUIRE) == 0; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    EXPECT(waiting, 200, "\"value\":\"d29rZW4=\",\"partition\":0,\"offset\":3");
    env_stop(&e);
}

TEST(api_proxy_avro_through_the_registry) {
    env_t e;
    env_start(&e);
    api_t *api = e.api;
    const char *body =
        "{\"value_schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Leaves\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"string\\\"},"
        "{\\\"name\\\":\\\"tags\\\",\\\"type\\\":[\\\"null\\\",{\\\"type\\\":\\\"array\\\",\\\"items\\\":\\\"string\\\"}]}]}\","
        "\"records\":[{\"value\":{\"id\":\"1\",\"tags\":{\"array\":[\"kafka\"]}}},{\"value\":{\"id\":\"2\",\"tags\":null}}]}";
    EXPECT(call(api, API_POST, "/topics/record-cassandra-leaves-avro", AVRO_CT, body), 200, "\"key_schema_id\":null,\"value_schema_id\":1}");
    EXPECT(call(api, API_GET, "/subjects/record-cassandra-leaves-avro-value/versions", NULL, NULL), 200, "[1]");
    EXPECT(call(api, API_POST, "/topics/record-cassandra-leaves-avro", AVRO_CT,
                "{\"value_schema_id\":1,\"records\":[{\"value\":{\"id\":\"3\",\"tags\":{\"array\":[]}}}]}"),
           200, "\"offset\":2");
    EXPECT(call(api, API_POST, "/topics/record-cassandra-leaves-avro", AVRO_CT, "{\"value_schema_id\":1,\"records\":[{\"value\":{\"id\":3}}]}"),
           422, "\"error_code\":42203,\"message\":\"Conversion of JSON to Avro failed: /id: expected a string");
    EXPECT(call(api, API_POST, "/topics/record-cassandra-leaves-avro", AVRO_CT, "{\"records\":[{\"value\":{\"id\":\"3\"}}]}"), 422, "42202");
    EXPECT(call(api, API_POST, "/topics/record-cassandra-leaves-avro", AVRO_CT, "{\"value_schema_id\":77,\"records\":[{\"value\":1}]}"), 404, "40403");
    EXPECT(call(api, API_POST, "/topics/x", AVRO_CT, "{\"value_schema\":\"{\\\"type\\\":\\\"nope\\\"}\",\"records\":[{\"value\":1}]}"), 422, "42205");
    EXPECT(call(api, API_POST, "/consumers/ga", V2_CT, "{\"name\":\"a\",\"format\":\"avro\",\"auto.offset.reset\":\"earliest\"}"), 200, "\"a\"");
    reply_t r = call(api, API_POST, "/consumers/ga/instances/a/subscription", V2_CT, "{\"topics\":[\"record-cassandra-leaves-avro\"]}");
    free(r.body);
    EXPECT(call(api, API_GET, "/consumers/ga/instances/a/records", AVRO_CT, NULL), 200,
           "\"value\":{\"id\":\"1\",\"tags\":{\"array\":[\"kafka\"]}},\"partition\":0,\"offset\":0}");
    env_stop(&e);
}

/* ---- the Leaves API over an in-memory projection ---------------------------------------------- */

/* The test's projection: rows as JSON text by id; wait() reads the event at the offset from
 * topic leaves and applies it, as the engine's pipeline would. */
typedef struct {
    log_t *log;
    pthread_mutex_t mu;
    char *ids[256], *rows[256];
    int n;
    bool lag; /* wait() times out instead of applying */
} mem_table_t;

static int mem_find(mem_table_t *t, const char *id) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->ids[i], id)) return i;
    return -1;
}

static int mem_get(void *ctx, const char *id, api_leaf_t *leaf, char *err, size_t errlen) {
    mem_table_t *t = ctx;
    pthread_mutex_lock(&t->mu);
    int i = mem_find(t, id), rc = EDDY_ERR_NOT_FOUND;
    if (i >= 0) {
        json_doc_t d;
        json_doc_init(&d);
        rc = json_parse(&d, t->rows[i], strlen(t->rows[i]));
        if (rc == EDDY_OK) rc = api_leaf_from_json(leaf, &d, 0, LEAF_JSON_ROW, err, errlen);
        json_doc_free(&d);
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static int mem_scan(void *ctx, int64_t limit, wr_t *out, size_t *count, char *err, size_t errlen) {
    mem_table_t *t = ctx;
    pthread_mutex_lock(&t->mu);
    *count = 0;
    for (int i = 0; i < t->n && (limit == 0 || (int64_t)*count < limit); i++) {
        if (*count) wr_u8(out, ',');
        wr_str(out, t->rows[i]);
        (*count)++;
    }
    pthread_mutex_unlock(&t->mu);
    return EDDY_OK;
}

static int mem_wait(void *ctx, int64_t offset, int64_t timeout_ms, void (*cb)(void *, int), void *arg) {
    mem_table_t *t = ctx;
    if (t->lag) {
        cb(arg, EDDY_ERR_TIMEOUT);
        return EDDY_OK;
    }
    log_partition_t *p = NULL;
    log_err_t err;
    REQUIRE_OK(log_partition_open(t->log, "leaves", 0, 0, &p, &err));
    wr_t buf;
    wr_init(&buf, 0);
    REQUIRE_OK(log_read_into(p, offset, 1 << 20, &buf, NULL, &err));
    log_iter_t *it = log_iter_new(0);
    log_iter_reset(it, buf.buf, buf.len, true);
    log_batch_header_t h;
    while (log_iter_next_batch(it, &h, &err) == 1) {
        log_record_view_t rec;
        while (log_iter_next_record(it, &rec, &err) == 1) {
            if (rec.offset != offset) continue;
            char id[600];
            snprintf(id, sizeof id, "%.*s", (int)rec.key_len, rec.key);
            pthread_mutex_lock(&t->mu);
            int i = mem_find(t, id);
            if (!rec.value && i >= 0) { /* a delete */
                free(t->ids[i]);
                free(t->rows[i]);
                t->ids[i] = t->ids[t->n - 1];
                t->rows[i] = t->rows[--t->n];
            } else if (rec.value) {
                if (i < 0) {
                    i = t->n++;
                    t->ids[i] = strdup(id);
                } else {
                    free(t->rows[i]);
                }
                t->rows[i] = strndup((const char *)rec.value, (size_t)rec.value_len);
            }
            pthread_mutex_unlock(&t->mu);
        }
    }
    log_iter_free(it);
    wr_free(&buf);
    log_partition_release(p);
    cb(arg, EDDY_OK);
    return EDDY_OK;
}

/* A row written "through CQL": straight into the table, no event. */
static void mem_put(mem_table_t *t, const char *id, const char *row) {
    pthread_mutex_lock(&t->mu);
    int i = t->n++;
    t->ids[i] = strdup(id);
    t->rows[i] = strdup(row);
    pthread_mutex_unlock(&t->mu);
}

TEST(api_leaves_commands_follow_the_workshop_contract) {
    env_t e;
    env_start(&e);
    api_t *api = e.api;
    mem_table_t t = {.log = e.log};
    pthread_mutex_init(&t.mu, NULL);
    *api_leaves_backend(api->leaves) = (api_leaves_backend_t){.get = mem_get, .scan = mem_scan, .wait = mem_wait, .ctx = &t};

    /* POST: the workshop's testRecord4 url gives its id and domain. */
    reply_t r = call(api, API_POST, "/api/leaves", "application/json", "{\"url\":\"https://github.com/Anant/cassandra.api\"}");
    CHECK_EQ_INT(r.status, 201);
    CHECK(strstr(r.body, "\"id\":\"2e1df12395d97d261efbe1d152fec7ac\"") != NULL);
    CHECK(strstr(r.body, "\"domain_name\":\"https://github.com\"") != NULL);
    CHECK(strstr(r.body, "\"is_archived\":1,\"is_public\":false,\"is_starred\":0") != NULL);
    CHECK(strstr(r.body, "\"links\":[\"api/entries/2e1df12395d97d261efbe1d152fec7ac\"]") != NULL);
    CHECK(strstr(r.body, "\"tags\":null,\"title\":null") != NULL);
    free(r.body);
    /* Read-your-writes: the GET right after sees it. */
    EXPECT(call(api, API_GET, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", NULL, NULL), 200, "\"url\":\"https://github.com/Anant/cassandra.api\"");
    /* PATCH (the workshop's fifth test). */
    EXPECT(call(api, API_PATCH, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", "application/json",
                "{\"tags\":[\"did.this.update.correctly\"],\"title\":\"I am the title now\",\"is_starred\":1}"),
           201, "\"is_starred\":1");
    r = call(api, API_GET, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", NULL, NULL);
    CHECK(strstr(r.body, "\"tags\":[\"did.this.update.correctly\"],\"title\":\"I am the title now\"") != NULL);
    CHECK(strstr(r.body, "\"slugs\":[\"did.this.update.correctly\"]") != NULL);
    free(r.body);
    /* Tags: appended with spaces as dots, slugs follow; then deleted. */
    EXPECT(call(api, API_POST, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac/tags", "application/json",
                "{\"tags\":[\"additional tag\",\"test tag\",\"did.this.update.correctly\"]}"),
           201, "\"slugs\":[\"did.this.update.correctly\",\"additional.tag\",\"test.tag\"],\"tags\":[\"did.this.update.correctly\",\"additional.tag\",\"test.tag\"]");
    EXPECT(call(api, API_GET, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac/tags", NULL, NULL), 200,
           "[\"did.this.update.correctly\",\"additional.tag\",\"test.tag\"]");
    EXPECT(call(api, API_DELETE, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac/tags", NULL, NULL), 200, "\"slugs\":null,\"tags\":null");
    EXPECT(call(api, API_DELETE, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac/tags", NULL, NULL), 400, "No tags available to be deleted");
    EXPECT(call(api, API_GET, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac/tags", NULL, NULL), 200, "null");

    /* A row written straight into the table (as through CQL) is served and commandable. */
    mem_put(&t, "d33a0bd8361d9bc440e0cae95aa39b8d",
            "{\"id\":\"d33a0bd8361d9bc440e0cae95aa39b8d\",\"title\":\"Chef Tutorial\",\"tags\":[\"saas\"],\"slugs\":[\"saas\"],"
            "\"all\":[\"saas\",\"saas\"],\"url\":\"https://www.tutorialspoint.com/chef/index.htm\"}");
    EXPECT(call(api, API_GET, "/api/leaves", NULL, NULL), 200, "\"title\":\"Chef Tutorial\"");
    EXPECT(call(api, API_GET, "/api/leaves?limit=1", NULL, NULL), 200, "[{\"id\":\"2e1df12395d97d261efbe1d152fec7ac\"");
    r = call(api, API_GET, "/api/leaves&rows=1", NULL, NULL);
    CHECK(r.status == 200 && strstr(r.body, "Chef") == NULL);
    free(r.body);
    EXPECT(call(api, API_POST, "/api/leaves/d33a0bd8361d9bc440e0cae95aa39b8d/tags", "application/json", "{\"tags\":[\"chef\"]}"),
           201, "\"tags\":[\"saas\",\"chef\"]");
    EXPECT(call(api, API_DELETE, "/api/leaves/d33a0bd8361d9bc440e0cae95aa39b8d", NULL, NULL), 200, "{\"message\":\"deleted\"}");
    EXPECT(call(api, API_GET, "/api/leaves/d33a0bd8361d9bc440e0cae95aa39b8d", NULL, NULL), 404, "{\"message\":\"Not Found\"}");
    EXPECT(call(api, API_DELETE, "/api/leaves/d33a0bd8361d9bc440e0cae95aa39b8d", NULL, NULL), 404, "This item does not exist");

    /* Bad requests. */
    EXPECT(call(api, API_POST, "/api/leaves", "application/json", "{\"url\":"), 400, "malformed JSON");
    EXPECT(call(api, API_POST, "/api/leaves", "application/json", "{\"url\":42}"), 400, "the body needs {\\\"url\\\"");
    EXPECT(call(api, API_POST, "/api/leaves", "application/json", "{\"url\":\"ftp://x\"}"), 400, "url must start with http");
    EXPECT(call(api, API_POST, "/api/leaves", "application/json", ""), 400, "needs a JSON body");
    EXPECT(call(api, API_PATCH, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", "application/json", "{\"is_starred\":\"yes\"}"), 400,
           "field 'is_starred' must be an integer");
    EXPECT(call(api, API_PATCH, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", "application/json", "{\"id\":\"x\"}"), 400, "cannot be updated");
    EXPECT(call(api, API_PATCH, "/api/leaves/nope", "application/json", "{\"title\":\"x\"}"), 404, "Not Found");
    EXPECT(call(api, API_POST, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac/tags", "application/json", "{\"tags\":\"x\"}"), 400, "array of strings");
    EXPECT(call(api, API_PUT, "/api/leaves", NULL, NULL), 405, "method PUT is not allowed");
    EXPECT(call(api, API_GET, "/api/leavesx", NULL, NULL), 404, "");
    EXPECT(call(api, API_GET, "/api/leaves?limit=-1", NULL, NULL), 400, "limit");
    EXPECT(call(api, API_GET, "/api/leaves&rows=abc", NULL, NULL), 400, "rows");

    /* When the projection lags, the command says so, and the next one on the id waits. */
    t.lag = true;
    EXPECT(call(api, API_PATCH, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", "application/json", "{\"title\":\"late\"}"), 504,
           "was not applied to demo.leaves");
    t.lag = false;
    EXPECT(call(api, API_PATCH, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", "application/json", "{\"language\":\"fr\"}"), 201,
           "\"language\":\"fr\"");
    env_stop(&e);
    for (int i = 0; i < t.n; i++) {
        free(t.ids[i]);
        free(t.rows[i]);
    }
    pthread_mutex_destroy(&t.mu);
}

#include "engine/engine.h"
#include "store/store.h"

/* The store without the engine: demo.leaves is created, rows written straight into it are
 * served at once; commands are answered once their event is durable. */
/* A log and a store in the test's directory. */
static void open_log_store(log_t **log, store_t **st) {
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/log", test_tmpdir());
    log_options_t o;
    log_options_init(&o);
    o.background = false;
    log_err_t lerr;
    REQUIRE_OK(log_open(dir, &o, log, &lerr));
    snprintf(dir, sizeof dir, "%s/store", test_tmpdir());
    REQUIRE_OK(store_open(dir, NULL, st, err, sizeof err));
}

TEST(api_leaves_reads_the_store) {
    log_t *log = NULL;
    store_t *st = NULL;
    char err[512];
    open_log_store(&log, &st);
    api_config_t cfg = {.log = log, .store = st, .command_timeout_ms = 5000};
    api_t *api = NULL;
    if (api_new(&cfg, &api, err, sizeof err) != EDDY_OK) test_fail(__FILE__, __LINE__, "%s", err);
    REQUIRE(api);
    EXPECT(call(api, API_GET, "/api/leaves", NULL, NULL), 200, "[]");
    /* A row written straight into the table (as CQL's INSERT JSON does) shows at once. */
    const store_table_t *t = NULL;
    REQUIRE_OK(store_table_lookup(st, "demo", "leaves", &t, err, sizeof err));
    store_write_t *w = store_write_new(st);
    const char *rows[] = {
        "{\"id\":\"d33a\",\"title\":\"Chef Tutorial\",\"is_public\":\"False\",\"created_at\":\"2019-06-19T12:43:13.000Z\","
        "\"tags\":[\"saas\",\"blockchain\"],\"user_id\":\"1\",\"is_archived\":1}",
        "{\"id\":\"80f6\",\"title\":\"Metal.js\"}",
        "{\"id\":\"4d50\",\"title\":\"Databox\"}",
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(rows); i++)
        REQUIRE_OK(store_write_json(w, t, rows[i], strlen(rows[i]), false, store_now_us(st), STORE_TTL_DEFAULT, err, sizeof err));
    REQUIRE_OK(store_write_apply(w, true, err, sizeof err));
    store_write_free(w);
    EXPECT(call(api, API_GET, "/api/leaves/d33a", NULL, NULL), 200,
           "{\"id\":\"d33a\",\"all\":null,\"content\":null,\"content_text\":null,\"created_at\":\"2019-06-19T12:43:13.000Z\","
           "\"domain_name\":null,\"http_status\":null,\"is_archived\":1,\"is_public\":false");
    EXPECT(call(api, API_GET, "/api/leaves/d33a/tags", NULL, NULL), 200, "[\"saas\",\"blockchain\"]");
    /* The list comes in token order, as Cassandra returns it. */
    const char *ids[] = {"d33a", "80f6", "4d50"};
    int64_t tokens[3];
    for (int i = 0; i < 3; i++) tokens[i] = murmur3_token(ids[i], 4);
    reply_t r = call(api, API_GET, "/api/leaves", NULL, NULL);
    CHECK_EQ_INT(r.status, 200);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            char a[32], b[32];
            snprintf(a, sizeof a, "\"id\":\"%s\"", ids[i]);
            snprintf(b, sizeof b, "\"id\":\"%s\"", ids[j]);
            const char *pa = strstr(r.body, a), *pb = strstr(r.body, b);
            CHECK(pa && pb);
            if (pa && pb && tokens[i] < tokens[j]) CHECK(pa < pb);
        }
    free(r.body);
    EXPECT(call(api, API_GET, "/api/leaves?limit=2", NULL, NULL), 200, "");
    EXPECT(call(api, API_GET, "/api/leaves/nope", NULL, NULL), 404, "Not Found");
    /* Without a projection, a command is answered once its event is durable. */
    EXPECT(call(api, API_POST, "/api/leaves", "application/json", "{\"url\":\"https://github.com/Anant/cassandra.api\"}"), 201,
           "\"id\":\"2e1df12395d97d261efbe1d152fec7ac\"");
    store_table_release(t);
    api_free(api);
    store_close(st);
    log_close(log);
}

/* The whole read-your-writes path: the engine's projection keeps demo.leaves, commands answer
 * once their event is applied, and rows written straight into the table show at once. */
TEST(api_leaves_with_the_engine_projection) {
    log_t *log = NULL;
    store_t *st = NULL;
    char err[512];
    open_log_store(&log, &st);
    engine_t *eng = NULL;
    engine_config_t ecfg = {.log = log, .store = st, .progress_interval_ms = -1};
    REQUIRE_OK(engine_new(&ecfg, &eng, err, sizeof err));
    api_config_t cfg = {.log = log, .store = st, .engine = eng, .command_timeout_ms = 10000};
    api_t *api = NULL;
    if (api_new(&cfg, &api, err, sizeof err) != EDDY_OK) test_fail(__FILE__, __LINE__, "%s", err);
    REQUIRE(api);
    EXPECT(call(api, API_POST, "/api/leaves", "application/json", "{\"url\":\"https://github.com/Anant/cassandra.api\"}"), 201,
           "\"id\":\"2e1df12395d97d261efbe1d152fec7ac\"");
    EXPECT(call(api, API_GET, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", NULL, NULL), 200, "\"domain_name\":\"https://github.com\"");
    EXPECT(call(api, API_POST, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac/tags", "application/json", "{\"tags\":[\"a b\",\"c\"]}"),
           201, "\"tags\":[\"a.b\",\"c\"]");
    EXPECT(call(api, API_GET, "/api/leaves", NULL, NULL), 200, "\"slugs\":[\"a.b\",\"c\"],\"tags\":[\"a.b\",\"c\"]");
    EXPECT(call(api, API_PATCH, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", "application/json", "{\"title\":\"T\",\"tags\":[\"x\"]}"),
           201, "\"tags\":[\"x\"],\"title\":\"T\"");
    EXPECT(call(api, API_GET, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", NULL, NULL), 200, "\"tags\":[\"x\"],\"title\":\"T\"");
    EXPECT(call(api, API_DELETE, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", NULL, NULL), 200, "deleted");
    EXPECT(call(api, API_GET, "/api/leaves/2e1df12395d97d261efbe1d152fec7ac", NULL, NULL), 404, "Not Found");
    /* Many commands on one leaf, concurrently submitted: each sees the previous one's state. */
    EXPECT(call(api, API_POST, "/api/leaves", "application/json", "{\"url\":\"https://example.org/x\"}"), 201, "");
    char id[33];
    api_leaf_id_from_url("https://example.org/x", 21, id);
    reply_t replies[20];
    memset(replies, 0, sizeof replies);
    for (int i = 0; i < 20; i++) {
        char path[128], body[64];
        snprintf(path, sizeof path, "/api/leaves/%s/tags", id);
        snprintf(body, sizeof body, "{\"tags\":[\"t%d\"]}", i);
        api_request_t req = {.method = API_POST, .path = strdup(path), .path_len = strlen(path),
                             .body = strdup(body), .body_len = strlen(body)};
        api_responder_t resp = {capture, &replies[i]};
        api_handle(api, &req, &resp);
        free((void *)req.path);
        free((void *)req.body);
    }
    for (int i = 0; i < 20; i++) {
        for (int k = 0; k < 10000 && __atomic_load_n(&replies[i].status, __ATOMIC_ACQUIRE) == 0; k++) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        CHECK_EQ_INT(replies[i].status, 201);
        free(replies[i].body);
    }
    reply_t r = call(api, API_GET, "/api/leaves", NULL, NULL);
    for (int i = 0; i < 20; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "\"t%d\"", i);
        CHECK(strstr(r.body, tag) != NULL); /* no lost update */
    }
    free(r.body);
    api_free(api);
    engine_free(eng);
    store_close(st);
    log_close(log);
}
