/* The client's result object: a copy of a RESULT body, decoded once, with the value of every
 * (row, column) located up front so that reading a cell is an array lookup. Also the mapping
 * from ERROR bodies to the client's cql_error_t and eddy statuses. */
#include <stdarg.h>
#include <stdio.h>

#include "cql/cql_client_int.h"

struct cql_result {
    arena_t arena;
    uint8_t *body;
    cql_msg_t msg;
    char **names;               /* column i's name, keyspace and table, NUL-terminated */
    char **keyspaces;
    char **tables;
    cql_value_t *values;        /* rows * columns */
    char *text;
    char *warnings;
};

int cql_error_status(int32_t code) {
    switch (code) {
    case CQL_ERR_ALREADY_EXISTS: return EDDY_ERR_EXISTS;
    case CQL_ERR_UNAVAILABLE:
    case CQL_ERR_OVERLOADED:
    case CQL_ERR_IS_BOOTSTRAPPING:
    case CQL_ERR_TRUNCATE: return EDDY_ERR_BUSY;
    case CQL_ERR_WRITE_TIMEOUT:
    case CQL_ERR_READ_TIMEOUT: return EDDY_ERR_TIMEOUT;
    case CQL_ERR_UNPREPARED: return EDDY_ERR_NOT_FOUND;
    case CQL_ERR_SERVER:
    case CQL_ERR_READ_FAILURE:
    case CQL_ERR_WRITE_FAILURE:
    case CQL_ERR_CDC_WRITE_FAILURE:
    case CQL_ERR_CAS_WRITE_UNKNOWN: return EDDY_ERR_IO;
    default: return EDDY_ERR_INVALID;
    }
}

void cql_error_set(cql_error_t *err, int32_t code, const char *fmt, ...) {
    if (!err) return;
    err->code = code;
    err->unprepared_id_len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void cql_result_free(cql_result_t *r) {
    if (!r) return;
    arena_free(&r->arena);
    eddy_free(r->body);
    eddy_free(r);
}

static char *arena_cstr(arena_t *a, eddy_view_t v) { return arena_strndup(a, (const char *)v.ptr, v.len); }

/* Locates every value and makes NUL-terminated names. */
static int result_index(cql_result_t *r) {
    cql_result_msg_t *res = &r->msg.u.result;
    if (res->kind == CQL_RESULT_SET_KEYSPACE) {
        r->text = arena_cstr(&r->arena, res->keyspace);
        return r->text ? EDDY_OK : EDDY_ERR_NOMEM;
    }
    if (res->kind == CQL_RESULT_SCHEMA_CHANGE) {
        const cql_schema_change_t *c = &res->change;
        size_t n = c->change_type.len + c->target.len + c->keyspace.len + c->name.len + 8;
        r->text = arena_alloc(&r->arena, n);
        if (!r->text) return EDDY_ERR_NOMEM;
        snprintf(r->text, n, "%.*s %.*s %.*s%s%.*s", (int)c->change_type.len, (const char *)c->change_type.ptr,
                 (int)c->target.len, (const char *)c->target.ptr, (int)c->keyspace.len,
                 (const char *)c->keyspace.ptr, c->name.len ? "." : "", (int)c->name.len, (const char *)c->name.ptr);
        return EDDY_OK;
    }
    if (res->kind != CQL_RESULT_ROWS) return EDDY_OK;
    size_t ncols = (size_t)res->meta.columns_count;
    size_t nrows = (size_t)res->rows_count;
    if (ncols > 0 && res->meta.columns) {
        r->names = arena_alloc(&r->arena, ncols * sizeof(char *) * 3);
        if (!r->names) return EDDY_ERR_NOMEM;
        r->keyspaces = r->names + ncols;
        r->tables = r->names + 2 * ncols;
        for (size_t i = 0; i < ncols; i++) {
            r->names[i] = arena_cstr(&r->arena, res->meta.columns[i].name);
            r->keyspaces[i] = arena_cstr(&r->arena, res->meta.columns[i].keyspace);
            r->tables[i] = arena_cstr(&r->arena, res->meta.columns[i].table);
            if (!r->names[i] || !r->keyspaces[i] || !r->tables[i]) return EDDY_ERR_NOMEM;
        }
    }
    if (nrows * ncols == 0) return EDDY_OK;
    /* The decoder checked that rows * columns values fit in the content. */
    r->values = arena_alloc(&r->arena, nrows * ncols * sizeof *r->values);
    if (!r->values) return EDDY_ERR_NOMEM;
    cql_rows_cursor_t cur;
    cql_rows_cursor_init(&cur, res->rows_content);
    for (size_t i = 0; i < nrows * ncols; i++)
        if (!cql_rows_next_value(&cur, &r->values[i])) return EDDY_ERR_CORRUPT;
    return EDDY_OK;
}

int cql_result_from_envelope(const cql_envelope_t *env, cql_result_t **out, cql_error_t *err) {
    *out = NULL;
    cql_result_t *r = eddy_calloc(1, sizeof *r);
    if (!r) {
        cql_error_set(err, -1, "out of memory");
        return EDDY_ERR_NOMEM;
    }
    arena_init(&r->arena, 1024);
    r->body = eddy_memdup(env->body.ptr, env->body.len ? env->body.len : 1);
    if (!r->body) {
        cql_result_free(r);
        cql_error_set(err, -1, "out of memory");
        return EDDY_ERR_NOMEM;
    }
    cql_envelope_t copy = *env;
    copy.body.ptr = r->body;
    char msg[256];
    int rc = cql_msg_decode(&copy, &r->arena, &r->msg, msg, sizeof msg);
    if (rc != EDDY_OK) {
        cql_error_set(err, -1, "bad response from server: %s", msg);
        cql_result_free(r);
        return EDDY_ERR_CORRUPT;
    }
    if (r->msg.opcode == CQL_OP_ERROR) {
        const cql_error_msg_t *e = &r->msg.u.error;
        cql_error_set(err, e->code, "%.*s", (int)e->message.len, (const char *)e->message.ptr);
        if (err && e->code == CQL_ERR_UNPREPARED && e->unprepared_id.len <= sizeof err->unprepared_id) {
            memcpy(err->unprepared_id, e->unprepared_id.ptr, e->unprepared_id.len);
            err->unprepared_id_len = (uint16_t)e->unprepared_id.len;
        }
        rc = cql_error_status(e->code);
        cql_result_free(r);
        return rc;
    }
    if (r->msg.opcode != CQL_OP_RESULT) {
        /* READY, AUTHENTICATE, SUPPORTED, AUTH_*: handshake answers, handed over as they are. */
        *out = r;
        return EDDY_OK;
    }
    rc = result_index(r);
    if (rc == EDDY_OK && r->msg.warnings.count > 0) {
        wr_t w;
        wr_init(&w, 0);
        for (uint16_t i = 0; i < r->msg.warnings.count; i++) {
            if (i) wr_u8(&w, '\n');
            wr_bytes(&w, r->msg.warnings.items[i].ptr, r->msg.warnings.items[i].len);
        }
        wr_u8(&w, 0);
        r->warnings = wr_ok(&w) ? arena_strndup(&r->arena, (const char *)w.buf, w.len) : NULL;
        wr_free(&w);
    }
    if (rc != EDDY_OK) {
        cql_error_set(err, -1, rc == EDDY_ERR_NOMEM ? "out of memory" : "malformed rows in a result");
        cql_result_free(r);
        return rc;
    }
    *out = r;
    return EDDY_OK;
}

const cql_msg_t *cql_result_msg(const cql_result_t *r) { return &r->msg; }

cql_result_kind_t cql_result_kind(const cql_result_t *r) {
    return r->msg.opcode == CQL_OP_RESULT ? (cql_result_kind_t)r->msg.u.result.kind : (cql_result_kind_t)0;
}

static bool is_rows(const cql_result_t *r) {
    return r->msg.opcode == CQL_OP_RESULT && r->msg.u.result.kind == CQL_RESULT_ROWS;
}

size_t cql_result_row_count(const cql_result_t *r) { return is_rows(r) ? (size_t)r->msg.u.result.rows_count : 0; }

size_t cql_result_column_count(const cql_result_t *r) {
    return is_rows(r) ? (size_t)r->msg.u.result.meta.columns_count : 0;
}

const char *cql_result_column_name(const cql_result_t *r, size_t i) {
    return r->names && i < cql_result_column_count(r) ? r->names[i] : "";
}
const char *cql_result_column_keyspace(const cql_result_t *r, size_t i) {
    return r->keyspaces && i < cql_result_column_count(r) ? r->keyspaces[i] : "";
}
const char *cql_result_column_table(const cql_result_t *r, size_t i) {
    return r->tables && i < cql_result_column_count(r) ? r->tables[i] : "";
}
const cql_type_t *cql_result_column_type(const cql_result_t *r, size_t i) {
    if (!is_rows(r) || !r->msg.u.result.meta.columns || i >= cql_result_column_count(r)) return NULL;
    return r->msg.u.result.meta.columns[i].type;
}

cql_value_t cql_result_value(const cql_result_t *r, size_t row, size_t col) {
    size_t ncols = cql_result_column_count(r);
    if (!r->values || row >= cql_result_row_count(r) || col >= ncols) return cql_value_null();
    return r->values[row * ncols + col];
}

bool cql_result_has_more_pages(const cql_result_t *r) {
    return is_rows(r) && (r->msg.u.result.meta.flags & CQL_RF_HAS_MORE_PAGES) &&
           r->msg.u.result.meta.paging_state.len >= 0;
}

eddy_view_t cql_result_paging_state(const cql_result_t *r) {
    if (!cql_result_has_more_pages(r)) return eddy_view(NULL, 0);
    cql_value_t ps = r->msg.u.result.meta.paging_state;
    return eddy_view(ps.ptr, (size_t)ps.len);
}

const char *cql_result_text(const cql_result_t *r) { return r->text ? r->text : ""; }
const char *cql_result_warnings(const cql_result_t *r) { return r->warnings ? r->warnings : ""; }
