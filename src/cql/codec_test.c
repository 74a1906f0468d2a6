/* Tests of the wire codec: every request as the Python driver encodes it (tests/data/cql/
 * vectors.txt, v4 and v5) decodes to the right fields and re-encodes to the same bytes; v5
 * segments from the driver (two envelopes in one segment, a large envelope over three) decode,
 * and ours are byte-identical; every response round-trips; compression (v4 lz4/snappy, v5 lz4)
 * round-trips; malformed input is refused with the right status. */
#include <stdio.h>
#include <stdlib.h>

#include "cql/cql_int.h"
#include "test.h"

typedef struct {
    char name[64];
    int version;
    uint8_t *data;
    size_t len;
} vector_t;

static vector_t vectors[64];
static size_t nvectors;

static void load_vectors(void) {
    if (nvectors) return;
    char path[256];
    snprintf(path, sizeof path, "%s/cql/vectors.txt", test_data_dir());
    size_t len;
    char *text = test_read_file(path, &len);
    REQUIRE(text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        vector_t *v = &vectors[nvectors];
        char *hex = NULL;
        char name[64];
        int version;
        if (sscanf(line, "%63s %d", name, &version) != 2) continue;
        hex = strrchr(line, ' ') + 1;
        size_t n = strlen(hex) / 2;
        v->data = malloc(n);
        for (size_t i = 0; i < n; i++) {
            unsigned b;
            sscanf(hex + 2 * i, "%2x", &b);
            v->data[i] = (uint8_t)b;
        }
        v->len = n;
        v->version = version;
        snprintf(v->name, sizeof v->name, "%s", name);
        nvectors++;
        REQUIRE(nvectors < EDDY_ARRAY_LEN(vectors));
    }
    free(text);
}

static const vector_t *vector(const char *name, int version) {
    load_vectors();
    for (size_t i = 0; i < nvectors; i++)
        if (!strcmp(vectors[i].name, name) && vectors[i].version == version) return &vectors[i];
    return NULL;
}

/* Decodes one unframed request; the envelope's bytes must be the whole vector. */
static void decode_one(const vector_t *v, arena_t *a, cql_msg_t *m) {
    cql_codec_t *c = cql_codec_new(true, 0);
    REQUIRE(c);
    REQUIRE_OK(cql_codec_feed(c, v->data, v->len));
    cql_envelope_t env;
    char err[256];
    int rc = cql_codec_next(c, &env, err, sizeof err);
    if (rc != EDDY_OK) printf("# %s: %s\n", v->name, err);
    REQUIRE(rc == EDDY_OK);
    CHECK_EQ_INT(env.h.version, v->version);
    /* The views must outlive the codec: copy the body into the arena. */
    env.body.ptr = arena_memdup(a, env.body.ptr, env.body.len);
    cql_envelope_t none;
    CHECK_EQ_INT(cql_codec_next(c, &none, err, sizeof err), EDDY_ERR_NEED_MORE);
    cql_codec_free(c);
    rc = cql_msg_decode(&env, a, m, err, sizeof err);
    if (rc != EDDY_OK) printf("# %s: %s\n", v->name, err);
    REQUIRE(rc == EDDY_OK);
    /* Re-encoding gives the driver's bytes back. */
    wr_t w;
    wr_init(&w, 0);
    REQUIRE_OK(cql_msg_encode(&w, m));
    CHECK_EQ_MEM(w.buf, w.len, v->data, v->len);
    wr_free(&w);
}

static bool view_is(eddy_view_t v, const char *s) { return eddy_view_eq_str(v, s); }

TEST(requests_from_python_driver_decode_and_reencode) {
    arena_t a;
    arena_init(&a, 4096);
    for (int version = 4; version <= 5; version++) {
        cql_msg_t m;
        decode_one(vector("startup", version), &a, &m);
        CHECK_EQ_INT(m.opcode, CQL_OP_STARTUP);
        CHECK_EQ_INT(m.u.startup.count, 3);
        bool saw_cql_version = false;
        for (int i = 0; i < m.u.startup.count; i++)
            if (view_is(m.u.startup.items[i].key, "CQL_VERSION"))
                saw_cql_version = view_is(m.u.startup.items[i].value, "3.4.5");
        CHECK(saw_cql_version);

        decode_one(vector("options", version), &a, &m);
        CHECK_EQ_INT(m.opcode, CQL_OP_OPTIONS);

        decode_one(vector("register", version), &a, &m);
        CHECK_EQ_INT(m.u.register_events.count, 3);
        CHECK(view_is(m.u.register_events.items[2], "SCHEMA_CHANGE"));
        CHECK_EQ_INT(m.stream, 2);

        decode_one(vector("query_simple", version), &a, &m);
        CHECK(view_is(m.u.query.query, "SELECT * FROM system.local WHERE key='local'"));
        CHECK_EQ_INT(m.u.query.params.consistency, CQL_CL_ONE);

        decode_one(vector("query_full", version), &a, &m);
        const cql_query_params_t *p = &m.u.query.params;
        CHECK_EQ_INT(p->consistency, CQL_CL_LOCAL_ONE);
        CHECK_EQ_INT(p->page_size, 5000);
        CHECK_EQ_INT(p->paging_state.len, 3);
        CHECK_EQ_INT(p->serial_consistency, CQL_CL_LOCAL_SERIAL);
        CHECK_EQ_INT(p->timestamp, 1700000000123456LL);
        CHECK(p->flags & CQL_QF_TIMESTAMP);

        decode_one(vector("query_values", version), &a, &m);
        p = &m.u.query.params;
        CHECK_EQ_INT(p->values_count, 2);
        CHECK_EQ_INT(p->values[0].len, 4);
        CHECK_EQ_INT(p->values[1].len, CQL_VALUE_NULL);
        CHECK_EQ_INT(p->timestamp, 42);

        decode_one(vector("prepare", version), &a, &m);
        CHECK(view_is(m.u.prepare.query, "INSERT INTO demo.users (id, name) VALUES (?, ?)"));

        decode_one(vector("execute", version), &a, &m);
        CHECK_EQ_INT(m.u.execute.id.len, 16);
        CHECK_EQ_INT(m.u.execute.result_metadata_id.len, version >= 5 ? 16 : 0);
        CHECK_EQ_INT(m.u.execute.params.values_count, 3);
        CHECK_EQ_INT(m.u.execute.params.page_size, 100);
        CHECK_EQ_INT(m.u.execute.params.timestamp, 123);

        decode_one(vector("batch", version), &a, &m);
        const cql_batch_msg_t *b = &m.u.batch;
        CHECK_EQ_INT(b->type, CQL_BATCH_LOGGED);
        CHECK_EQ_INT(b->count, 2);
        CHECK_EQ_INT(b->items[0].kind, 0);
        CHECK_EQ_INT(b->items[1].kind, 1);
        CHECK_EQ_INT(b->items[1].values_count, 2);
        CHECK_EQ_INT(b->items[1].values[1].len, CQL_VALUE_NULL);
        CHECK_EQ_INT(b->serial_consistency, CQL_CL_SERIAL);
        CHECK_EQ_INT(b->timestamp, 99);

        decode_one(vector("auth_response", version), &a, &m);
        CHECK_EQ_INT(m.u.auth_token.len, 20);
    }
    cql_msg_t m;
    decode_one(vector("prepare_ks", 5), &a, &m);
    CHECK(m.u.prepare.flags & CQL_PF_KEYSPACE);
    CHECK(view_is(m.u.prepare.keyspace, "demo"));
    decode_one(vector("query_ks", 5), &a, &m);
    CHECK(view_is(m.u.query.params.keyspace, "demo"));
    arena_free(&a);
}

TEST(segments_from_python_driver) {
    const vector_t *two = vector("segment_two_envelopes", 5);
    REQUIRE(two);
    cql_codec_t *c = cql_codec_new(true, 0);
    cql_codec_set_version(c, 5);
    cql_codec_start_framing(c);
    /* Byte by byte: every prefix must be "need more", never an error. */
    cql_envelope_t env;
    char err[256];
    for (size_t i = 0; i + 1 < two->len; i++) {
        REQUIRE_OK(cql_codec_feed(c, two->data + i, 1));
        CHECK_EQ_INT(cql_codec_next(c, &env, err, sizeof err), EDDY_ERR_NEED_MORE);
    }
    REQUIRE_OK(cql_codec_feed(c, two->data + two->len - 1, 1));
    REQUIRE_OK(cql_codec_next(c, &env, err, sizeof err));
    CHECK_EQ_INT(env.h.opcode, CQL_OP_OPTIONS);
    REQUIRE_OK(cql_codec_next(c, &env, err, sizeof err));
    CHECK_EQ_INT(env.h.opcode, CQL_OP_QUERY);
    CHECK_EQ_INT(env.h.stream, 3);
    CHECK_EQ_INT(cql_codec_next(c, &env, err, sizeof err), EDDY_ERR_NEED_MORE);

    /* Our encoder makes the same bytes from the same envelopes. */
    wr_t out;
    wr_init(&out, 0);
    cql_codec_t *client = cql_codec_new(false, 0);
    cql_codec_set_version(client, 5);
    cql_codec_start_framing(client);
    size_t mark = cql_codec_out_begin(client, &out);
    wr_bytes(&out, vector("options", 5)->data, vector("options", 5)->len);
    wr_bytes(&out, vector("query_simple", 5)->data, vector("query_simple", 5)->len);
    REQUIRE_OK(cql_codec_out_end(client, &out, mark));
    CHECK_EQ_MEM(out.buf, out.len, two->data, two->len);

    const vector_t *large = vector("segment_large", 5);
    REQUIRE(large);
    REQUIRE_OK(cql_codec_feed(c, large->data, large->len));
    REQUIRE_OK(cql_codec_next(c, &env, err, sizeof err));
    CHECK_EQ_INT(env.h.opcode, CQL_OP_QUERY);
    CHECK_EQ_INT(env.h.stream, 12);
    CHECK_EQ_INT(env.body.len, 4 + 131100 + 14 + 6); /* [long string] + consistency + [int] flags */
    CHECK_EQ_INT(cql_codec_next(c, &env, err, sizeof err), EDDY_ERR_NEED_MORE);

    /* Re-segment the large envelope: the driver cut it the same way we do. */
    cql_msg_t m;
    arena_t a;
    arena_init(&a, 4096);
    REQUIRE_OK(cql_codec_feed(c, large->data, large->len));
    REQUIRE_OK(cql_codec_next(c, &env, err, sizeof err));
    REQUIRE_OK(cql_msg_decode(&env, &a, &m, err, sizeof err));
    wr_reset(&out);
    mark = cql_codec_out_begin(client, &out);
    REQUIRE_OK(cql_msg_encode(&out, &m));
    REQUIRE_OK(cql_codec_out_end(client, &out, mark));
    CHECK_EQ_MEM(out.buf, out.len, large->data, large->len);
    arena_free(&a);
    wr_free(&out);
    cql_codec_free(client);
    cql_codec_free(c);
}

/* Encodes msg with the client or server codec at version/compression/framing, decodes it with
 * the other side, and returns the decoded message (arena-owned). */
static void roundtrip(const cql_msg_t *msg, cql_compression_t comp, bool framed, arena_t *a, cql_msg_t *out) {
    bool response = cql_opcode_is_response(msg->opcode);
    cql_codec_t *tx = cql_codec_new(response, 0);
    cql_codec_t *rx = cql_codec_new(!response, 0);
    cql_codec_set_version(tx, msg->version);
    cql_codec_set_version(rx, msg->version);
    cql_codec_set_compression(tx, comp);
    cql_codec_set_compression(rx, comp);
    if (framed) {
        cql_codec_start_framing(tx);
        cql_codec_start_framing(rx);
    }
    wr_t w;
    wr_init(&w, 0);
    size_t mark = cql_codec_out_begin(tx, &w);
    REQUIRE_OK(cql_msg_encode(&w, msg));
    REQUIRE_OK(cql_codec_out_end(tx, &w, mark));
    REQUIRE_OK(cql_codec_feed(rx, w.buf, w.len));
    cql_envelope_t env;
    char err[256];
    int rc = cql_codec_next(rx, &env, err, sizeof err);
    if (rc) printf("# %s\n", err);
    REQUIRE_OK(rc);
    env.body.ptr = arena_memdup(a, env.body.ptr, env.body.len);
    rc = cql_msg_decode(&env, a, out, err, sizeof err);
    if (rc) printf("# %s\n", err);
    REQUIRE_OK(rc);
    CHECK_EQ_INT(out->stream, msg->stream);
    CHECK_EQ_INT(out->opcode, msg->opcode);
    /* And the same message encodes to the same body again. */
    wr_t w2;
    wr_init(&w2, 0);
    REQUIRE_OK(cql_msg_encode(&w2, out));
    wr_t w1;
    wr_init(&w1, 0);
    REQUIRE_OK(cql_msg_encode(&w1, msg));
    CHECK_EQ_MEM(w1.buf, w1.len, w2.buf, w2.len);
    wr_free(&w1);
    wr_free(&w2);
    wr_free(&w);
    cql_codec_free(tx);
    cql_codec_free(rx);
}

static cql_type_t t_int = {.id = CQL_TYPE_INT};
static cql_type_t t_text = {.id = CQL_TYPE_VARCHAR};

TEST(responses_roundtrip_every_version_and_transport) {
    static cql_type_t *list_sub[] = {&t_text};
    static cql_type_t t_list = {.id = CQL_TYPE_LIST, .count = 1, .sub = list_sub};
    static cql_type_t *map_sub[] = {&t_text, &t_list};
    static cql_type_t t_map = {.id = CQL_TYPE_MAP, .count = 2, .sub = map_sub};
    static eddy_view_t udt_fields[2];
    static cql_type_t *udt_sub[] = {&t_int, &t_map};
    udt_fields[0] = eddy_view_str("a");
    udt_fields[1] = eddy_view_str("b");
    cql_type_t t_udt = {.id = CQL_TYPE_UDT, .count = 2, .sub = udt_sub, .fields = udt_fields,
                        .keyspace = eddy_view_str("demo"), .name = eddy_view_str("pt")};
    cql_type_t *tuple_sub[] = {&t_int, &t_udt};
    cql_type_t t_tuple = {.id = CQL_TYPE_TUPLE, .count = 2, .sub = tuple_sub};
    cql_colspec_t cols[3] = {
        {eddy_view_str("demo"), eddy_view_str("users"), eddy_view_str("id"), &t_text},
        {eddy_view_str("demo"), eddy_view_str("users"), eddy_view_str("n"), &t_int},
        {eddy_view_str("demo"), eddy_view_str("users"), eddy_view_str("x"), &t_tuple},
    };
    wr_t rows;
    wr_init(&rows, 0);
    for (int i = 0; i < 3; i++) {
        cql_wr_bytes(&rows, "k", 1);
        cql_wr_bytes(&rows, "\0\0\0\1", 4);
        cql_wr_bytes(&rows, NULL, -1);
    }
    struct { cql_compression_t comp; bool framed; uint8_t version; } modes[] = {
        {CQL_COMPRESSION_NONE, false, 3}, {CQL_COMPRESSION_NONE, false, 4}, {CQL_COMPRESSION_LZ4, false, 4},
        {CQL_COMPRESSION_SNAPPY, false, 4}, {CQL_COMPRESSION_NONE, true, 5}, {CQL_COMPRESSION_LZ4, true, 5},
    };
    arena_t a;
    arena_init(&a, 4096);
    for (size_t mi = 0; mi < EDDY_ARRAY_LEN(modes); mi++) {
        uint8_t v = modes[mi].version;
        cql_msg_t m, d;
        /* Rows with paging state, global spec, warnings and a tracing id. */
        memset(&m, 0, sizeof m);
        m.version = v;
        m.stream = 77;
        m.opcode = CQL_OP_RESULT;
        m.flags = CQL_FLAG_TRACING | (v >= 4 ? CQL_FLAG_WARNING : 0);
        memset(m.tracing_id, 0xAB, 16);
        eddy_view_t warn = eddy_view_str("Aggregation query used without partition key");
        m.warnings.count = 1;
        m.warnings.items = &warn;
        m.u.result.kind = CQL_RESULT_ROWS;
        m.u.result.meta.flags = CQL_RF_GLOBAL_TABLES_SPEC | CQL_RF_HAS_MORE_PAGES;
        m.u.result.meta.columns_count = 3;
        m.u.result.meta.columns = cols;
        m.u.result.meta.paging_state = cql_value("\x01\x02", 2);
        m.u.result.rows_count = 3;
        m.u.result.rows_content = eddy_view(rows.buf, rows.len);
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        CHECK(d.has_tracing_id && d.tracing_id[15] == 0xAB);
        CHECK_EQ_INT(d.u.result.rows_count, 3);
        CHECK_EQ_INT(d.u.result.meta.paging_state.len, 2);
        CHECK(cql_type_equal(d.u.result.meta.columns[2].type, &t_tuple));
        CHECK(view_is(d.u.result.meta.columns[1].table, "users"));
        cql_rows_cursor_t cur;
        cql_rows_cursor_init(&cur, d.u.result.rows_content);
        int nulls = 0;
        for (int i = 0; i < 9; i++) {
            cql_value_t val;
            CHECK(cql_rows_next_value(&cur, &val));
            if (val.len == CQL_VALUE_NULL) nulls++;
        }
        CHECK_EQ_INT(nulls, 3);

        /* Prepared with pk indexes (v4+) and result metadata id (v5). */
        memset(&m, 0, sizeof m);
        m.version = v;
        m.stream = 5;
        m.opcode = CQL_OP_RESULT;
        uint16_t pk[1] = {0};
        m.u.result.kind = CQL_RESULT_PREPARED;
        m.u.result.prepared_id = eddy_view_str("0123456789abcdef");
        m.u.result.result_metadata_id = eddy_view_str("fedcba9876543210");
        m.u.result.bind.flags = CQL_RF_GLOBAL_TABLES_SPEC;
        m.u.result.bind.columns_count = 2;
        m.u.result.bind.pk_count = 1;
        m.u.result.bind.pk_indexes = pk;
        m.u.result.bind.columns = cols;
        m.u.result.result_meta.flags = CQL_RF_NO_METADATA;
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        CHECK_EQ_INT(d.u.result.bind.columns_count, 2);
        CHECK_EQ_INT(d.u.result.bind.pk_count, v >= 4 ? 1 : 0);
        CHECK_EQ_INT(d.u.result.result_metadata_id.len, v >= 5 ? 16 : 0);

        /* Schema change, set keyspace, void. */
        memset(&m, 0, sizeof m);
        m.version = v;
        m.opcode = CQL_OP_RESULT;
        m.u.result.kind = CQL_RESULT_SCHEMA_CHANGE;
        m.u.result.change.change_type = eddy_view_str("CREATED");
        m.u.result.change.target = eddy_view_str("TABLE");
        m.u.result.change.keyspace = eddy_view_str("demo");
        m.u.result.change.name = eddy_view_str("users");
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        CHECK(view_is(d.u.result.change.name, "users"));
        m.u.result.kind = CQL_RESULT_SET_KEYSPACE;
        m.u.result.keyspace = eddy_view_str("demo");
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        CHECK(view_is(d.u.result.keyspace, "demo"));
        m.u.result.kind = CQL_RESULT_VOID;
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);

        /* Events on stream -1. */
        memset(&m, 0, sizeof m);
        m.version = v;
        m.stream = -1;
        m.opcode = CQL_OP_EVENT;
        m.u.event.type = eddy_view_str("SCHEMA_CHANGE");
        m.u.event.schema.change_type = eddy_view_str("DROPPED");
        m.u.event.schema.target = eddy_view_str("KEYSPACE");
        m.u.event.schema.keyspace = eddy_view_str("demo");
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        CHECK_EQ_INT(d.stream, -1);
        CHECK(view_is(d.u.event.schema.keyspace, "demo"));
        m.u.event.type = eddy_view_str("STATUS_CHANGE");
        m.u.event.change = eddy_view_str("UP");
        m.u.event.address = (cql_inet_t){.len = 4, .addr = {127, 0, 0, 1}, .port = 9042};
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        CHECK_EQ_INT(d.u.event.address.port, 9042);

        /* SUPPORTED, AUTHENTICATE, AUTH_SUCCESS, READY. */
        memset(&m, 0, sizeof m);
        m.version = v;
        m.opcode = CQL_OP_SUPPORTED;
        eddy_view_t comps[2] = {eddy_view_str("lz4"), eddy_view_str("snappy")};
        cql_multimap_entry_t entries[1] = {{eddy_view_str("COMPRESSION"), {2, comps}}};
        m.u.supported.count = 1;
        m.u.supported.items = entries;
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        CHECK_EQ_INT(d.u.supported.items[0].values.count, 2);
        m.opcode = CQL_OP_AUTHENTICATE;
        m.u.authenticator = eddy_view_str("org.apache.cassandra.auth.PasswordAuthenticator");
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        m.opcode = CQL_OP_AUTH_SUCCESS;
        m.u.auth_token = cql_value_null();
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
        CHECK_EQ_INT(d.u.auth_token.len, CQL_VALUE_NULL);
        m.opcode = CQL_OP_READY;
        roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
    }
    wr_free(&rows);
    arena_free(&a);
}

TEST(every_error_body_roundtrips) {
    static const int32_t codes[] = {
        CQL_ERR_SERVER, CQL_ERR_PROTOCOL, CQL_ERR_BAD_CREDENTIALS, CQL_ERR_UNAVAILABLE, CQL_ERR_OVERLOADED,
        CQL_ERR_IS_BOOTSTRAPPING, CQL_ERR_TRUNCATE, CQL_ERR_WRITE_TIMEOUT, CQL_ERR_READ_TIMEOUT,
        CQL_ERR_READ_FAILURE, CQL_ERR_FUNCTION_FAILURE, CQL_ERR_WRITE_FAILURE, CQL_ERR_CAS_WRITE_UNKNOWN,
        CQL_ERR_SYNTAX, CQL_ERR_UNAUTHORIZED, CQL_ERR_INVALID, CQL_ERR_CONFIG, CQL_ERR_ALREADY_EXISTS,
        CQL_ERR_UNPREPARED,
    };
    /* Body sizes after [int]code [string]"m": what each code adds, per the spec. */
    static const struct { int32_t code; size_t v4, v5; } extra[] = {
        {CQL_ERR_UNAVAILABLE, 10, 10},   {CQL_ERR_WRITE_TIMEOUT, 10 + 5, 10 + 5 + 2},
        {CQL_ERR_READ_TIMEOUT, 11, 11},  {CQL_ERR_READ_FAILURE, 15, 4 + 10 + 7 + 1},
        {CQL_ERR_FUNCTION_FAILURE, 4 + 4 + 2 + 5, 4 + 4 + 2 + 5}, {CQL_ERR_WRITE_FAILURE, 14 + 5, 10 + 4 + 7 + 5},
        {CQL_ERR_CAS_WRITE_UNKNOWN, 10, 10}, {CQL_ERR_ALREADY_EXISTS, 4 + 2, 4 + 2},
        {CQL_ERR_UNPREPARED, 2 + 16, 2 + 16},
    };
    arena_t a;
    arena_init(&a, 4096);
    for (uint8_t v = 4; v <= 5; v++) {
        for (size_t i = 0; i < EDDY_ARRAY_LEN(codes); i++) {
            cql_msg_t m, d;
            memset(&m, 0, sizeof m);
            m.version = v;
            m.stream = 9;
            m.opcode = CQL_OP_ERROR;
            cql_error_msg_t *e = &m.u.error;
            e->code = codes[i];
            e->message = eddy_view_str("m");
            e->consistency = CQL_CL_QUORUM;
            e->required = 3;
            e->alive = 1;
            e->received = 1;
            e->blockfor = 2;
            e->data_present = 1;
            e->write_type = eddy_view_str("CAS");
            e->contentions = 4;
            e->numfailures = 1;
            cql_reason_t reason = {{.len = 4, .addr = {127, 0, 0, 1}}, 0x0001};
            e->reasons = &reason;
            e->reasons_count = 1;
            e->keyspace = eddy_view_str("ks");
            e->table = eddy_view_str(codes[i] == CQL_ERR_ALREADY_EXISTS ? "" : "fn");
            eddy_view_t arg = eddy_view_str("int");
            e->arg_types.count = 1;
            e->arg_types.items = &arg;
            e->unprepared_id = eddy_view_str("0123456789abcdef");
            wr_t w;
            wr_init(&w, 0);
            REQUIRE_OK(cql_msg_encode(&w, &m));
            size_t want = CQL_HEADER_SIZE + 4 + 3;
            for (size_t j = 0; j < EDDY_ARRAY_LEN(extra); j++)
                if (extra[j].code == codes[i]) want += v >= 5 ? extra[j].v5 : extra[j].v4;
            if (w.len != want) printf("# code 0x%04x v%u: %zu bytes, want %zu\n", codes[i], v, w.len, want);
            CHECK_EQ_INT(w.len, want);
            wr_free(&w);
            roundtrip(&m, CQL_COMPRESSION_NONE, v >= 5, &a, &d);
            CHECK_EQ_INT(d.u.error.code, codes[i]);
            if (codes[i] == CQL_ERR_UNPREPARED) CHECK_EQ_INT(d.u.error.unprepared_id.len, 16);
            if (codes[i] == CQL_ERR_ALREADY_EXISTS) CHECK(view_is(d.u.error.keyspace, "ks"));
            if (codes[i] == CQL_ERR_WRITE_FAILURE && v >= 5) CHECK_EQ_INT(d.u.error.reasons_count, 1);
        }
    }
    arena_free(&a);
}

TEST(compressed_v4_frames_and_lz4_segments) {
    /* A compressible query large enough for several segments, and an incompressible one. */
    char *big = malloc(300000);
    for (size_t i = 0; i < 300000; i++) big[i] = "SELECT abc "[i % 11];
    uint8_t noise[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof noise; i++) {
        x = x * 1103515245 + 12345;
        noise[i] = (uint8_t)(x >> 16);
    }
    arena_t a;
    arena_init(&a, 4096);
    struct { cql_compression_t comp; bool framed; uint8_t v; } modes[] = {
        {CQL_COMPRESSION_LZ4, false, 4}, {CQL_COMPRESSION_SNAPPY, false, 4},
        {CQL_COMPRESSION_LZ4, true, 5}, {CQL_COMPRESSION_NONE, true, 5},
    };
    for (size_t mi = 0; mi < EDDY_ARRAY_LEN(modes); mi++) {
        for (int which = 0; which < 2; which++) {
            cql_msg_t m, d;
            memset(&m, 0, sizeof m);
            m.version = modes[mi].v;
            m.stream = 3;
            m.opcode = CQL_OP_QUERY;
            m.u.query.query = which ? eddy_view(noise, sizeof noise) : eddy_view(big, 300000);
            m.u.query.params.consistency = CQL_CL_ONE;
            roundtrip(&m, modes[mi].comp, modes[mi].framed, &a, &d);
            CHECK(eddy_view_eq(d.u.query.query, m.u.query.query));
        }
    }
    free(big);
    arena_free(&a);
}

TEST(unsupported_versions_are_reported_with_their_stream) {
    /* The DSE_V2 OPTIONS that both drivers open with. */
    static const uint8_t dse[] = {0x42, 0x00, 0x00, 0x07, 0x05, 0x00, 0x00, 0x00, 0x00};
    cql_codec_t *c = cql_codec_new(true, 0);
    REQUIRE_OK(cql_codec_feed(c, dse, sizeof dse));
    cql_envelope_t env;
    char err[256];
    CHECK_EQ_INT(cql_codec_next(c, &env, err, sizeof err), EDDY_ERR_UNSUPPORTED);
    CHECK_EQ_INT(env.h.stream, 7);
    CHECK_EQ_INT(env.h.version, 0x42);
    CHECK_EQ_STR(err, "Invalid or unsupported protocol version (66); supported versions are (3/v3, 4/v4, 5/v5)");
    cql_codec_free(c);

    /* A fixed connection version refuses another one. */
    c = cql_codec_new(true, 0);
    cql_codec_set_version(c, 4);
    const vector_t *q5 = vector("query_simple", 5);
    REQUIRE_OK(cql_codec_feed(c, q5->data, q5->len));
    CHECK_EQ_INT(cql_codec_next(c, &env, err, sizeof err), EDDY_ERR_UNSUPPORTED);
    cql_codec_free(c);

    /* A response where a request belongs. */
    c = cql_codec_new(true, 0);
    static const uint8_t resp[] = {0x84, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00};
    REQUIRE_OK(cql_codec_feed(c, resp, sizeof resp));
    CHECK_EQ_INT(cql_codec_next(c, &env, err, sizeof err), EDDY_ERR_CORRUPT);
    cql_codec_free(c);

    /* A body over the limit is refused from its header alone. */
    c = cql_codec_new(true, 1000);
    static const uint8_t huge[] = {0x04, 0x00, 0x00, 0x01, 0x07, 0x10, 0x00, 0x00, 0x00};
    REQUIRE_OK(cql_codec_feed(c, huge, sizeof huge));
    CHECK_EQ_INT(cql_codec_next(c, &env, err, sizeof err), EDDY_ERR_TOO_LARGE);
    cql_codec_free(c);
}

TEST(malformed_bodies_and_segments_are_refused) {
    arena_t a;
    arena_init(&a, 4096);
    char err[256];
    /* Every truncation of every request body fails cleanly (or decodes a shorter valid one). */
    load_vectors();
    for (size_t i = 0; i < nvectors; i++) {
        const vector_t *v = &vectors[i];
        if (!strncmp(v->name, "segment", 7)) continue;
        for (size_t cut = CQL_HEADER_SIZE; cut < v->len; cut++) {
            cql_envelope_t env;
            cql_header_decode(v->data, v->len, &env.h);
            env.body = eddy_view(v->data + CQL_HEADER_SIZE, cut - CQL_HEADER_SIZE);
            cql_msg_t m;
            int rc = cql_msg_decode(&env, &a, &m, err, sizeof err);
            /* OPTIONS and friends have empty bodies; everything else needs its bytes. */
            if (env.h.opcode != CQL_OP_OPTIONS && rc == EDDY_OK && env.h.opcode != CQL_OP_QUERY &&
                env.h.opcode != CQL_OP_EXECUTE)
                printf("# %s decoded from %zu of %zu bytes\n", v->name, cut, v->len);
            CHECK(rc == EDDY_OK || rc == EDDY_ERR_CORRUPT);
            arena_reset(&a);
        }
    }
    /* A count far beyond the body. */
    static const uint8_t startup[] = {0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff};
    cql_envelope_t env;
    cql_header_decode(startup, sizeof startup, &env.h);
    env.body = eddy_view(startup + 9, 2);
    cql_msg_t m;
    CHECK_EQ_INT(cql_msg_decode(&env, &a, &m, err, sizeof err), EDDY_ERR_CORRUPT);
    /* An unknown opcode. */
    static const uint8_t op[] = {0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00};
    cql_header_decode(op, sizeof op, &env.h);
    env.body = eddy_view(op, 0);
    CHECK_EQ_INT(cql_msg_decode(&env, &a, &m, err, sizeof err), EDDY_ERR_UNSUPPORTED);
    /* Type nesting deeper than the limit. */
    uint8_t deep[9 + 4 + 8 + 2 * 64];
    size_t n = 0;
    memcpy(deep, "\x84\x00\x00\x00\x08\x00\x00\x00\x00", 9);
    n = 9;
    store_u32(deep + n, CQL_RESULT_ROWS);
    n += 4;
    store_u32(deep + n, 0);
    store_u32(deep + n + 4, 1);
    n += 8;
    deep[n++] = 0;
    deep[n++] = 1; /* "" keyspace, then a column name below */
    for (int i = 0; i < 60 && n + 2 <= sizeof deep; i++) {
        deep[n++] = 0x00;
        deep[n++] = 0x20; /* list<list<...>> */
    }
    cql_header_decode(deep, n, &env.h);
    env.body = eddy_view(deep + 9, n - 9);
    CHECK_EQ_INT(cql_msg_decode(&env, &a, &m, err, sizeof err), EDDY_ERR_CORRUPT);

    /* A flipped bit in a segment's header or payload fails its CRC. */
    const vector_t *seg = vector("segment_two_envelopes", 5);
    for (size_t flip = 0; flip < seg->len; flip += 7) {
        uint8_t *copy = malloc(seg->len);
        memcpy(copy, seg->data, seg->len);
        copy[flip] ^= 0x10;
        cql_codec_t *c = cql_codec_new(true, 0);
        cql_codec_set_version(c, 5);
        cql_codec_start_framing(c);
        cql_codec_feed(c, copy, seg->len);
        int rc = cql_codec_next(c, &env, err, sizeof err);
        /* A flip in the length bits may just ask for more bytes. */
        CHECK(rc == EDDY_ERR_CORRUPT || rc == EDDY_ERR_NEED_MORE);
        cql_codec_free(c);
        free(copy);
    }
    /* A v4 lz4 frame whose stated length lies. */
    cql_codec_t *c = cql_codec_new(true, 0);
    cql_codec_set_version(c, 4);
    cql_codec_set_compression(c, CQL_COMPRESSION_LZ4);
    static const uint8_t lz[] = {0x04, 0x01, 0x00, 0x01, 0x07, 0x00, 0x00, 0x00, 0x06,
                                 0x00, 0x00, 0x10, 0x00, 0x10, 0x41};
    cql_codec_feed(c, lz, sizeof lz);
    CHECK_EQ_INT(cql_codec_next(c, &env, err, sizeof err), EDDY_ERR_CORRUPT);
    cql_codec_free(c);
    arena_free(&a);
}

TEST(crc24_and_seeded_crc32) {
    /* The driver's first segment header: 3 little-endian bytes, then their CRC24. */
    const vector_t *seg = vector("segment_two_envelopes", 5);
    uint64_t hv = seg->data[0] | (uint64_t)seg->data[1] << 8 | (uint64_t)seg->data[2] << 16;
    uint32_t crc = seg->data[3] | (uint32_t)seg->data[4] << 8 | (uint32_t)seg->data[5] << 16;
    CHECK_EQ_INT(cql_crc24(hv, 3), crc);
    /* The driver's CRC32_INITIAL is zlib.crc32(b"\xfa\x2d\x55\xca") = 0x44777ed3, and
     * zlib.crc32(b"abc", CRC32_INITIAL) = 0xc5367a08. */
    CHECK_EQ_INT(cql_crc32("", 0), 0x44777ed3);
    CHECK_EQ_INT(cql_crc32("abc", 3), 0xc5367a08);
}

TEST(type_names_format_as_cql) {
    cql_type_t *ls[] = {&t_int};
    cql_type_t inner = {.id = CQL_TYPE_LIST, .count = 1, .sub = ls};
    cql_type_t *ms[] = {&t_text, &inner};
    cql_type_t map = {.id = CQL_TYPE_MAP, .count = 2, .sub = ms};
    wr_t w;
    wr_init(&w, 0);
    cql_type_format(&w, &map, false);
    wr_u8(&w, 0);
    CHECK_EQ_STR((char *)w.buf, "map<text, frozen<list<int>>>");
    wr_free(&w);
    uint16_t cl;
    CHECK_OK(cql_consistency_parse("local_quorum", &cl));
    CHECK_EQ_INT(cl, CQL_CL_LOCAL_QUORUM);
    CHECK_EQ_STR(cql_consistency_name(CQL_CL_LOCAL_ONE), "LOCAL_ONE");
}
