/* Message bodies of the native protocol, both directions: the body prefix (tracing id, warnings,
 * custom payload), the requests (STARTUP, AUTH_RESPONSE, OPTIONS, QUERY, PREPARE, EXECUTE, BATCH,
 * REGISTER) and the small responses. RESULT, ERROR and EVENT live in msg_result.c. The opcode
 * table below is the one place that says which opcode goes which way and who codes it. */
#include <stdio.h>

#include "cql/cql_int.h"

/* ---- query parameters ----------------------------------------------------------------------- */

void cql_rd_query_params(rd_t *r, uint8_t version, arena_t *a, cql_query_params_t *p) {
    memset(p, 0, sizeof *p);
    p->consistency = rd_u16(r);
    p->flags = version >= 5 ? rd_u32(r) : rd_u8(r);
    if (p->flags & CQL_QF_VALUES)
        cql_rd_values(r, a, (p->flags & CQL_QF_NAMES) != 0, &p->values_count, &p->values, &p->names);
    if (p->flags & CQL_QF_PAGE_SIZE) p->page_size = rd_i32(r);
    if (p->flags & CQL_QF_PAGING_STATE) p->paging_state = cql_rd_bytes(r);
    if (p->flags & CQL_QF_SERIAL_CONSISTENCY) p->serial_consistency = rd_u16(r);
    if (p->flags & CQL_QF_TIMESTAMP) p->timestamp = rd_i64(r);
    if (version >= 5) {
        if (p->flags & CQL_QF_KEYSPACE) p->keyspace = cql_rd_string(r);
        if (p->flags & CQL_QF_NOW_IN_SECONDS) p->now_in_seconds = rd_i32(r);
    }
}

void cql_wr_query_params(wr_t *w, uint8_t version, const cql_query_params_t *p) {
    uint32_t flags = p->flags;
    if (version < 5) flags &= 0x7f;
    wr_u16(w, p->consistency);
    if (version >= 5) wr_u32(w, flags);
    else wr_u8(w, (uint8_t)flags);
    if (flags & CQL_QF_VALUES) {
        wr_u16(w, p->values_count);
        for (uint16_t i = 0; i < p->values_count; i++) {
            if (flags & CQL_QF_NAMES) cql_wr_vstring(w, p->names[i]);
            cql_wr_value(w, p->values[i]);
        }
    }
    if (flags & CQL_QF_PAGE_SIZE) wr_i32(w, p->page_size);
    if (flags & CQL_QF_PAGING_STATE) cql_wr_value(w, p->paging_state);
    if (flags & CQL_QF_SERIAL_CONSISTENCY) wr_u16(w, p->serial_consistency);
    if (flags & CQL_QF_TIMESTAMP) wr_i64(w, p->timestamp);
    if (flags & CQL_QF_KEYSPACE) cql_wr_vstring(w, p->keyspace);
    if (flags & CQL_QF_NOW_IN_SECONDS) wr_i32(w, p->now_in_seconds);
}

/* ---- requests ------------------------------------------------------------------------------- */

static void rd_startup(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) { cql_rd_strmap(r, a, &m->u.startup); }
static void wr_startup(wr_t *w, uint8_t v, const cql_msg_t *m) { cql_wr_strmap(w, &m->u.startup); }

static void rd_token(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) { m->u.auth_token = cql_rd_bytes(r); }
static void wr_token(wr_t *w, uint8_t v, const cql_msg_t *m) { cql_wr_value(w, m->u.auth_token); }

static void rd_empty(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) {}
static void wr_empty(wr_t *w, uint8_t v, const cql_msg_t *m) {}

static void rd_query(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) {
    m->u.query.query = cql_rd_long_string(r);
    cql_rd_query_params(r, v, a, &m->u.query.params);
}
static void wr_query(wr_t *w, uint8_t v, const cql_msg_t *m) {
    cql_wr_long_string(w, m->u.query.query.ptr, m->u.query.query.len);
    cql_wr_query_params(w, v, &m->u.query.params);
}

static void rd_prepare(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) {
    cql_prepare_msg_t *p = &m->u.prepare;
    p->query = cql_rd_long_string(r);
    if (v >= 5) {
        p->flags = rd_u32(r);
        if (p->flags & CQL_PF_KEYSPACE) p->keyspace = cql_rd_string(r);
    }
}
static void wr_prepare(wr_t *w, uint8_t v, const cql_msg_t *m) {
    const cql_prepare_msg_t *p = &m->u.prepare;
    cql_wr_long_string(w, p->query.ptr, p->query.len);
    if (v >= 5) {
        wr_u32(w, p->flags);
        if (p->flags & CQL_PF_KEYSPACE) cql_wr_vstring(w, p->keyspace);
    }
}

static void rd_execute(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) {
    cql_execute_msg_t *e = &m->u.execute;
    e->id = cql_rd_short_bytes(r);
    if (v >= 5) e->result_metadata_id = cql_rd_short_bytes(r);
    cql_rd_query_params(r, v, a, &e->params);
}
static void wr_execute(wr_t *w, uint8_t v, const cql_msg_t *m) {
    const cql_execute_msg_t *e = &m->u.execute;
    cql_wr_short_bytes(w, e->id.ptr, e->id.len);
    if (v >= 5) cql_wr_short_bytes(w, e->result_metadata_id.ptr, e->result_metadata_id.len);
    cql_wr_query_params(w, v, &e->params);
}

/* BATCH names (flag 0x40) come after the items they would name, so no server can read them
 * (CASSANDRA-10246): items are read without names and the flag is refused afterwards. */
static void rd_batch(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) {
    cql_batch_msg_t *b = &m->u.batch;
    b->type = rd_u8(r);
    b->count = rd_u16(r);
    if (!rd_ok(r)) return;
    if ((uint64_t)b->count * 7 > rd_remaining(r)) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return;
    }
    if (b->count) {
        b->items = arena_alloc(a, b->count * sizeof *b->items);
        if (!b->items) {
            rd_fail(r, EDDY_ERR_NOMEM);
            return;
        }
    }
    for (uint16_t i = 0; i < b->count && rd_ok(r); i++) {
        cql_batch_item_t *it = &b->items[i];
        it->kind = rd_u8(r);
        if (it->kind == 0) it->query_or_id = cql_rd_long_string(r);
        else if (it->kind == 1) it->query_or_id = cql_rd_short_bytes(r);
        else rd_fail(r, EDDY_ERR_CORRUPT);
        cql_rd_values(r, a, false, &it->values_count, &it->values, &it->names);
    }
    b->consistency = rd_u16(r);
    b->flags = v >= 5 ? rd_u32(r) : rd_u8(r);
    if (b->flags & CQL_QF_SERIAL_CONSISTENCY) b->serial_consistency = rd_u16(r);
    if (b->flags & CQL_QF_TIMESTAMP) b->timestamp = rd_i64(r);
    if (v >= 5) {
        if (b->flags & CQL_QF_KEYSPACE) b->keyspace = cql_rd_string(r);
        if (b->flags & CQL_QF_NOW_IN_SECONDS) b->now_in_seconds = rd_i32(r);
    }
}
static void wr_batch(wr_t *w, uint8_t v, const cql_msg_t *m) {
    const cql_batch_msg_t *b = &m->u.batch;
    uint32_t flags = b->flags & ~(uint32_t)CQL_QF_NAMES;
    if (v < 5) flags &= 0x7f;
    wr_u8(w, b->type);
    wr_u16(w, b->count);
    for (uint16_t i = 0; i < b->count; i++) {
        const cql_batch_item_t *it = &b->items[i];
        wr_u8(w, it->kind);
        if (it->kind == 0) cql_wr_long_string(w, it->query_or_id.ptr, it->query_or_id.len);
        else cql_wr_short_bytes(w, it->query_or_id.ptr, it->query_or_id.len);
        wr_u16(w, it->values_count);
        for (uint16_t j = 0; j < it->values_count; j++) cql_wr_value(w, it->values[j]);
    }
    wr_u16(w, b->consistency);
    if (v >= 5) wr_u32(w, flags);
    else wr_u8(w, (uint8_t)flags);
    if (flags & CQL_QF_SERIAL_CONSISTENCY) wr_u16(w, b->serial_consistency);
    if (flags & CQL_QF_TIMESTAMP) wr_i64(w, b->timestamp);
    if (flags & CQL_QF_KEYSPACE) cql_wr_vstring(w, b->keyspace);
    if (flags & CQL_QF_NOW_IN_SECONDS) wr_i32(w, b->now_in_seconds);
}

static void rd_register(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) { cql_rd_strlist(r, a, &m->u.register_events); }
static void wr_register(wr_t *w, uint8_t v, const cql_msg_t *m) { cql_wr_strlist(w, &m->u.register_events); }

/* ---- small responses ------------------------------------------------------------------------ */

static void rd_authenticate(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) { m->u.authenticator = cql_rd_string(r); }
static void wr_authenticate(wr_t *w, uint8_t v, const cql_msg_t *m) { cql_wr_vstring(w, m->u.authenticator); }

static void rd_supported(rd_t *r, uint8_t v, arena_t *a, cql_msg_t *m) { cql_rd_multimap(r, a, &m->u.supported); }
static void wr_supported(wr_t *w, uint8_t v, const cql_msg_t *m) { cql_wr_multimap(w, &m->u.supported); }

/* ---- the opcode table ----------------------------------------------------------------------- */

typedef struct {
    bool known;
    bool response;       /* sent by the server */
    bool payload;        /* may carry a custom payload (requests: QUERY, PREPARE, EXECUTE, BATCH) */
    cql_msg_rd_fn rd;
    cql_msg_wr_fn wr;
} opcode_entry_t;

static const opcode_entry_t opcodes[] = {
    [CQL_OP_ERROR] = {true, true, false, cql_rd_error, cql_wr_error},
    [CQL_OP_STARTUP] = {true, false, false, rd_startup, wr_startup},
    [CQL_OP_READY] = {true, true, false, rd_empty, wr_empty},
    [CQL_OP_AUTHENTICATE] = {true, true, false, rd_authenticate, wr_authenticate},
    [CQL_OP_OPTIONS] = {true, false, false, rd_empty, wr_empty},
    [CQL_OP_SUPPORTED] = {true, true, false, rd_supported, wr_supported},
    [CQL_OP_QUERY] = {true, false, true, rd_query, wr_query},
    [CQL_OP_RESULT] = {true, true, true, cql_rd_result, cql_wr_result},
    [CQL_OP_PREPARE] = {true, false, true, rd_prepare, wr_prepare},
    [CQL_OP_EXECUTE] = {true, false, true, rd_execute, wr_execute},
    [CQL_OP_REGISTER] = {true, false, false, rd_register, wr_register},
    [CQL_OP_EVENT] = {true, true, false, cql_rd_event, cql_wr_event},
    [CQL_OP_BATCH] = {true, false, true, rd_batch, wr_batch},
    [CQL_OP_AUTH_CHALLENGE] = {true, true, false, rd_token, wr_token},
    [CQL_OP_AUTH_RESPONSE] = {true, false, false, rd_token, wr_token},
    [CQL_OP_AUTH_SUCCESS] = {true, true, false, rd_token, wr_token},
};

static const opcode_entry_t *opcode_find(uint8_t op) {
    return op < EDDY_ARRAY_LEN(opcodes) && opcodes[op].known ? &opcodes[op] : NULL;
}

bool cql_opcode_is_response(uint8_t op) {
    const opcode_entry_t *e = opcode_find(op);
    return e && e->response;
}

int cql_msg_decode(const cql_envelope_t *env, arena_t *arena, cql_msg_t *msg, char *errstr,
                   size_t errlen) {
    memset(msg, 0, sizeof *msg);
    msg->opcode = env->h.opcode;
    msg->version = env->h.version;
    msg->stream = env->h.stream;
    msg->flags = env->h.flags;
    const opcode_entry_t *e = opcode_find(env->h.opcode);
    if (!e) return eddy_err(errstr, errlen, EDDY_ERR_UNSUPPORTED, "Unknown opcode %u", env->h.opcode);
    rd_t r = rd_init(env->body.ptr, env->body.len);
    if (env->h.response) {
        if (env->h.flags & CQL_FLAG_TRACING) {
            const uint8_t *id = rd_bytes(&r, 16);
            if (id) {
                memcpy(msg->tracing_id, id, 16);
                msg->has_tracing_id = true;
            }
        }
        if (env->h.flags & CQL_FLAG_WARNING) cql_rd_strlist(&r, arena, &msg->warnings);
    }
    if (env->h.flags & CQL_FLAG_CUSTOM_PAYLOAD) cql_rd_bytesmap(&r, arena, &msg->custom_payload);
    e->rd(&r, env->h.version, arena, msg);
    if (r.err == EDDY_ERR_NOMEM)
        return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory decoding %s", cql_opcode_name(msg->opcode));
    if (!rd_ok(&r))
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "malformed %s message body (%zu bytes, error at byte %zu)",
                        cql_opcode_name(msg->opcode), env->body.len, r.pos);
    if (msg->opcode == CQL_OP_BATCH && (msg->u.batch.flags & CQL_QF_NAMES))
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT,
                        "Names for values in BATCH are not supported (CASSANDRA-10246)");
    /* Extra bytes after a message are allowed: the spec reserves them for extensions. */
    return EDDY_OK;
}

int cql_msg_encode(wr_t *w, const cql_msg_t *msg) {
    const opcode_entry_t *e = opcode_find(msg->opcode);
    if (!e) return EDDY_ERR_INVALID;
    size_t start = cql_env_begin(w, msg->version, e->response, msg->flags, msg->stream, msg->opcode);
    if (e->response) {
        if (msg->flags & CQL_FLAG_TRACING) wr_bytes(w, msg->tracing_id, 16);
        if (msg->flags & CQL_FLAG_WARNING) cql_wr_strlist(w, &msg->warnings);
    }
    if (msg->flags & CQL_FLAG_CUSTOM_PAYLOAD) cql_wr_bytesmap(w, &msg->custom_payload);
    e->wr(w, msg->version, msg);
    cql_env_end(w, start);
    return w->err;
}
