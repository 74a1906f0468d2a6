/* The structured responses: RESULT of every kind (with rows and prepared metadata), ERROR with
 * each code's exact extra body (clients decode those strictly: a short Already_exists body
 * makes the Python driver drop the connection), and EVENT. */
#include "cql/cql_int.h"

/* ---- metadata ------------------------------------------------------------------------------- */

static cql_colspec_t *rd_colspecs(rd_t *r, arena_t *a, int32_t count, bool global) {
    if (count < 0 || (uint64_t)count * 4 > rd_remaining(r)) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return NULL;
    }
    eddy_view_t gks = {0}, gtable = {0};
    if (global) {
        gks = cql_rd_string(r);
        gtable = cql_rd_string(r);
    }
    if (count == 0 || !rd_ok(r)) return NULL;
    cql_colspec_t *cols = arena_alloc(a, (size_t)count * sizeof *cols);
    if (!cols) {
        rd_fail(r, EDDY_ERR_NOMEM);
        return NULL;
    }
    for (int32_t i = 0; i < count && rd_ok(r); i++) {
        if (global) {
            cols[i].keyspace = gks;
            cols[i].table = gtable;
        } else {
            cols[i].keyspace = cql_rd_string(r);
            cols[i].table = cql_rd_string(r);
        }
        cols[i].name = cql_rd_string(r);
        cols[i].type = cql_rd_type(r, a);
    }
    return cols;
}

static void wr_colspecs(wr_t *w, const cql_colspec_t *cols, int32_t count, bool global) {
    if (global && count > 0) {
        cql_wr_vstring(w, cols[0].keyspace);
        cql_wr_vstring(w, cols[0].table);
    }
    for (int32_t i = 0; i < count; i++) {
        if (!global) {
            cql_wr_vstring(w, cols[i].keyspace);
            cql_wr_vstring(w, cols[i].table);
        }
        cql_wr_vstring(w, cols[i].name);
        cql_wr_type(w, cols[i].type);
    }
}

void cql_rd_rows_meta(rd_t *r, uint8_t version, arena_t *a, cql_rows_meta_t *m) {
    memset(m, 0, sizeof *m);
    m->flags = rd_u32(r);
    m->columns_count = rd_i32(r);
    if (m->columns_count < 0) rd_fail(r, EDDY_ERR_CORRUPT);
    if (m->flags & CQL_RF_HAS_MORE_PAGES) m->paging_state = cql_rd_bytes(r);
    if (m->flags & CQL_RF_NO_METADATA) return;
    if (version >= 5 && (m->flags & CQL_RF_METADATA_CHANGED)) m->new_metadata_id = cql_rd_short_bytes(r);
    if (!rd_ok(r)) return;
    m->columns = rd_colspecs(r, a, m->columns_count, (m->flags & CQL_RF_GLOBAL_TABLES_SPEC) != 0);
}

void cql_wr_rows_meta(wr_t *w, uint8_t version, const cql_rows_meta_t *m) {
    uint32_t flags = m->flags;
    if (version < 5) flags &= ~(uint32_t)CQL_RF_METADATA_CHANGED;
    if (m->columns_count == 0) flags &= ~(uint32_t)CQL_RF_GLOBAL_TABLES_SPEC;
    wr_u32(w, flags);
    wr_i32(w, m->columns_count);
    if (flags & CQL_RF_HAS_MORE_PAGES) cql_wr_value(w, m->paging_state);
    if (flags & CQL_RF_NO_METADATA) return;
    if (flags & CQL_RF_METADATA_CHANGED) cql_wr_short_bytes(w, m->new_metadata_id.ptr, m->new_metadata_id.len);
    wr_colspecs(w, m->columns, m->columns_count, (flags & CQL_RF_GLOBAL_TABLES_SPEC) != 0);
}

static void rd_prepared_meta(rd_t *r, uint8_t version, arena_t *a, cql_prepared_meta_t *m) {
    memset(m, 0, sizeof *m);
    m->flags = rd_u32(r);
    m->columns_count = rd_i32(r);
    if (version >= 4) {
        m->pk_count = rd_i32(r);
        if (m->pk_count < 0 || (uint64_t)m->pk_count * 2 > rd_remaining(r)) {
            rd_fail(r, EDDY_ERR_CORRUPT);
            return;
        }
        if (m->pk_count > 0) {
            m->pk_indexes = arena_alloc(a, (size_t)m->pk_count * sizeof *m->pk_indexes);
            if (!m->pk_indexes) {
                rd_fail(r, EDDY_ERR_NOMEM);
                return;
            }
        }
        for (int32_t i = 0; i < m->pk_count; i++) m->pk_indexes[i] = rd_u16(r);
    }
    if (!rd_ok(r)) return;
    m->columns = rd_colspecs(r, a, m->columns_count, (m->flags & CQL_RF_GLOBAL_TABLES_SPEC) != 0);
}

void cql_wr_prepared_meta(wr_t *w, uint8_t version, const cql_prepared_meta_t *m) {
    uint32_t flags = m->flags;
    if (m->columns_count == 0) flags &= ~(uint32_t)CQL_RF_GLOBAL_TABLES_SPEC;
    wr_u32(w, flags);
    wr_i32(w, m->columns_count);
    if (version >= 4) {
        wr_i32(w, m->pk_count);
        for (int32_t i = 0; i < m->pk_count; i++) wr_u16(w, m->pk_indexes[i]);
    }
    wr_colspecs(w, m->columns, m->columns_count, (flags & CQL_RF_GLOBAL_TABLES_SPEC) != 0);
}

/* ---- schema changes ------------------------------------------------------------------------- */

static void rd_schema_change(rd_t *r, arena_t *a, cql_schema_change_t *c) {
    memset(c, 0, sizeof *c);
    c->change_type = cql_rd_string(r);
    c->target = cql_rd_string(r);
    c->keyspace = cql_rd_string(r);
    if (!rd_ok(r) || eddy_view_eq_str(c->target, "KEYSPACE")) return;
    c->name = cql_rd_string(r);
    if (eddy_view_eq_str(c->target, "FUNCTION") || eddy_view_eq_str(c->target, "AGGREGATE"))
        cql_rd_strlist(r, a, &c->arg_types);
}

void cql_wr_schema_change(wr_t *w, const cql_schema_change_t *c) {
    cql_wr_vstring(w, c->change_type);
    cql_wr_vstring(w, c->target);
    cql_wr_vstring(w, c->keyspace);
    if (eddy_view_eq_str(c->target, "KEYSPACE")) return;
    cql_wr_vstring(w, c->name);
    if (eddy_view_eq_str(c->target, "FUNCTION") || eddy_view_eq_str(c->target, "AGGREGATE"))
        cql_wr_strlist(w, &c->arg_types);
}

/* ---- RESULT --------------------------------------------------------------------------------- */

/* Walks rows_count rows of columns_count [bytes] to find where the content ends. */
static eddy_view_t rd_rows_content(rd_t *r, int32_t rows, int32_t cols) {
    size_t start = r->pos;
    if (rows < 0 || (cols > 0 && (uint64_t)rows * (uint64_t)cols * 4 > rd_remaining(r))) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return eddy_view(NULL, 0);
    }
    uint64_t values = (uint64_t)rows * (uint64_t)cols;
    for (uint64_t i = 0; i < values && rd_ok(r); i++) cql_rd_bytes(r);
    return eddy_view(r->ptr + start, rd_ok(r) ? r->pos - start : 0);
}

void cql_rd_result(rd_t *r, uint8_t version, arena_t *a, cql_msg_t *m) {
    cql_result_msg_t *res = &m->u.result;
    res->kind = rd_i32(r);
    switch (res->kind) {
    case CQL_RESULT_VOID: return;
    case CQL_RESULT_ROWS:
        cql_rd_rows_meta(r, version, a, &res->meta);
        res->rows_count = rd_i32(r);
        if (rd_ok(r)) res->rows_content = rd_rows_content(r, res->rows_count, res->meta.columns_count);
        return;
    case CQL_RESULT_SET_KEYSPACE: res->keyspace = cql_rd_string(r); return;
    case CQL_RESULT_PREPARED:
        res->prepared_id = cql_rd_short_bytes(r);
        if (version >= 5) res->result_metadata_id = cql_rd_short_bytes(r);
        rd_prepared_meta(r, version, a, &res->bind);
        if (rd_ok(r)) cql_rd_rows_meta(r, version, a, &res->result_meta);
        return;
    case CQL_RESULT_SCHEMA_CHANGE: rd_schema_change(r, a, &res->change); return;
    default: rd_fail(r, EDDY_ERR_CORRUPT); return;
    }
}

void cql_wr_result(wr_t *w, uint8_t version, const cql_msg_t *m) {
    const cql_result_msg_t *res = &m->u.result;
    wr_i32(w, res->kind);
    switch (res->kind) {
    case CQL_RESULT_ROWS:
        cql_wr_rows_meta(w, version, &res->meta);
        wr_i32(w, res->rows_count);
        wr_bytes(w, res->rows_content.ptr, res->rows_content.len);
        return;
    case CQL_RESULT_SET_KEYSPACE: cql_wr_vstring(w, res->keyspace); return;
    case CQL_RESULT_PREPARED:
        cql_wr_short_bytes(w, res->prepared_id.ptr, res->prepared_id.len);
        if (version >= 5) cql_wr_short_bytes(w, res->result_metadata_id.ptr, res->result_metadata_id.len);
        cql_wr_prepared_meta(w, version, &res->bind);
        cql_wr_rows_meta(w, version, &res->result_meta);
        return;
    case CQL_RESULT_SCHEMA_CHANGE: cql_wr_schema_change(w, &res->change); return;
    default: return;
    }
}

/* ---- ERROR ---------------------------------------------------------------------------------- */

static void rd_failures(rd_t *r, uint8_t version, arena_t *a, cql_error_msg_t *e) {
    if (version < 5) {
        e->numfailures = rd_i32(r);
        return;
    }
    int32_t n = rd_i32(r);
    if (n < 0 || (uint64_t)n * 7 > rd_remaining(r)) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return;
    }
    if (n > 0) {
        e->reasons = arena_alloc(a, (size_t)n * sizeof *e->reasons);
        if (!e->reasons) {
            rd_fail(r, EDDY_ERR_NOMEM);
            return;
        }
    }
    for (int32_t i = 0; i < n && rd_ok(r); i++) {
        cql_reason_t *re = &e->reasons[i];
        memset(re, 0, sizeof *re);
        re->endpoint.len = rd_u8(r);
        if (re->endpoint.len != 4 && re->endpoint.len != 16) {
            rd_fail(r, EDDY_ERR_CORRUPT);
            return;
        }
        const uint8_t *p = rd_bytes(r, re->endpoint.len);
        if (p) memcpy(re->endpoint.addr, p, re->endpoint.len);
        re->failure_code = rd_u16(r);
    }
    e->reasons_count = (uint32_t)n;
    e->numfailures = n;
}

static void wr_failures(wr_t *w, uint8_t version, const cql_error_msg_t *e) {
    if (version < 5) {
        wr_i32(w, e->numfailures);
        return;
    }
    wr_i32(w, (int32_t)e->reasons_count);
    for (uint32_t i = 0; i < e->reasons_count; i++) {
        wr_u8(w, e->reasons[i].endpoint.len);
        wr_bytes(w, e->reasons[i].endpoint.addr, e->reasons[i].endpoint.len);
        wr_u16(w, e->reasons[i].failure_code);
    }
}

void cql_rd_error(rd_t *r, uint8_t version, arena_t *a, cql_msg_t *m) {
    cql_error_msg_t *e = &m->u.error;
    e->code = rd_i32(r);
    e->message = cql_rd_string(r);
    switch (e->code) {
    case CQL_ERR_UNAVAILABLE:
        e->consistency = rd_u16(r);
        e->required = rd_i32(r);
        e->alive = rd_i32(r);
        break;
    case CQL_ERR_WRITE_TIMEOUT:
        e->consistency = rd_u16(r);
        e->received = rd_i32(r);
        e->blockfor = rd_i32(r);
        e->write_type = cql_rd_string(r);
        if (version >= 5 && eddy_view_eq_str(e->write_type, "CAS")) e->contentions = rd_u16(r);
        break;
    case CQL_ERR_READ_TIMEOUT:
        e->consistency = rd_u16(r);
        e->received = rd_i32(r);
        e->blockfor = rd_i32(r);
        e->data_present = rd_u8(r);
        break;
    case CQL_ERR_READ_FAILURE:
        e->consistency = rd_u16(r);
        e->received = rd_i32(r);
        e->blockfor = rd_i32(r);
        rd_failures(r, version, a, e);
        e->data_present = rd_u8(r);
        break;
    case CQL_ERR_WRITE_FAILURE:
        e->consistency = rd_u16(r);
        e->received = rd_i32(r);
        e->blockfor = rd_i32(r);
        rd_failures(r, version, a, e);
        e->write_type = cql_rd_string(r);
        break;
    case CQL_ERR_CAS_WRITE_UNKNOWN:
        e->consistency = rd_u16(r);
        e->received = rd_i32(r);
        e->blockfor = rd_i32(r);
        break;
    case CQL_ERR_FUNCTION_FAILURE:
        e->keyspace = cql_rd_string(r);
        e->table = cql_rd_string(r);
        cql_rd_strlist(r, a, &e->arg_types);
        break;
    case CQL_ERR_ALREADY_EXISTS:
        e->keyspace = cql_rd_string(r);
        e->table = cql_rd_string(r);
        break;
    case CQL_ERR_UNPREPARED: e->unprepared_id = cql_rd_short_bytes(r); break;
    default: break;
    }
}

void cql_wr_error_body(wr_t *w, uint8_t version, const cql_error_msg_t *e) {
    wr_i32(w, e->code);
    /* A message longer than a [string] is cut rather than failing the whole answer. */
    cql_wr_string(w, e->message.ptr, EDDY_MIN(e->message.len, (size_t)UINT16_MAX));
    switch (e->code) {
    case CQL_ERR_UNAVAILABLE:
        wr_u16(w, e->consistency);
        wr_i32(w, e->required);
        wr_i32(w, e->alive);
        break;
    case CQL_ERR_WRITE_TIMEOUT:
        wr_u16(w, e->consistency);
        wr_i32(w, e->received);
        wr_i32(w, e->blockfor);
        cql_wr_vstring(w, e->write_type);
        if (version >= 5 && eddy_view_eq_str(e->write_type, "CAS")) wr_u16(w, e->contentions);
        break;
    case CQL_ERR_READ_TIMEOUT:
        wr_u16(w, e->consistency);
        wr_i32(w, e->received);
        wr_i32(w, e->blockfor);
        wr_u8(w, e->data_present);
        break;
    case CQL_ERR_READ_FAILURE:
        wr_u16(w, e->consistency);
        wr_i32(w, e->received);
        wr_i32(w, e->blockfor);
        wr_failures(w, version, e);
        wr_u8(w, e->data_present);
        break;
    case CQL_ERR_WRITE_FAILURE:
        wr_u16(w, e->consistency);
        wr_i32(w, e->received);
        wr_i32(w, e->blockfor);
        wr_failures(w, version, e);
        cql_wr_vstring(w, e->write_type);
        break;
    case CQL_ERR_CAS_WRITE_UNKNOWN:
        wr_u16(w, e->consistency);
        wr_i32(w, e->received);
        wr_i32(w, e->blockfor);
        break;
    case CQL_ERR_FUNCTION_FAILURE:
        cql_wr_vstring(w, e->keyspace);
        cql_wr_vstring(w, e->table);
        cql_wr_strlist(w, &e->arg_types);
        break;
    case CQL_ERR_ALREADY_EXISTS:
        cql_wr_vstring(w, e->keyspace);
        cql_wr_vstring(w, e->table);
        break;
    case CQL_ERR_UNPREPARED: cql_wr_short_bytes(w, e->unprepared_id.ptr, e->unprepared_id.len); break;
    default: break;
    }
}

void cql_wr_error(wr_t *w, uint8_t version, const cql_msg_t *m) { cql_wr_error_body(w, version, &m->u.error); }

/* ---- EVENT ---------------------------------------------------------------------------------- */

void cql_rd_event(rd_t *r, uint8_t version, arena_t *a, cql_msg_t *m) {
    cql_event_msg_t *ev = &m->u.event;
    ev->type = cql_rd_string(r);
    if (eddy_view_eq_str(ev->type, "SCHEMA_CHANGE")) {
        rd_schema_change(r, a, &ev->schema);
    } else if (eddy_view_eq_str(ev->type, "TOPOLOGY_CHANGE") || eddy_view_eq_str(ev->type, "STATUS_CHANGE")) {
        ev->change = cql_rd_string(r);
        cql_rd_inet(r, &ev->address);
    } else {
        rd_fail(r, EDDY_ERR_CORRUPT);
    }
}

void cql_wr_event(wr_t *w, uint8_t version, const cql_msg_t *m) {
    const cql_event_msg_t *ev = &m->u.event;
    cql_wr_vstring(w, ev->type);
    if (eddy_view_eq_str(ev->type, "SCHEMA_CHANGE")) {
        cql_wr_schema_change(w, &ev->schema);
    } else {
        cql_wr_vstring(w, ev->change);
        cql_wr_inet(w, &ev->address);
    }
}
