/* The executor's entry: QUERY (parse, run), PREPARE (parse, describe the markers and the result,
 * cache under Cassandra's MD5 id), EXECUTE (look the statement up, run it with the values) and
 * BATCH. It places named values, checks the marker count, picks the keyspace and the write
 * timestamp, and hands each statement to its kind's module. */
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

cql_tools_t *cql_sconn_tools(cql_sconn_t *sc) { return &sc->tools; }

static sql_parser_t *parser_of(cql_exec_t *x) {
    cql_tools_t *t = cql_sconn_tools(x->sc);
    if (!t->parser) t->parser = sql_parser_new(NULL);
    return t->parser;
}

/* Parses query text; on failure records Cassandra's Syntax error (or Invalid). */
static int parse(cql_exec_t *x, arena_t *arena, eddy_view_t text, sql_stmt_t **out) {
    sql_parser_t *p = parser_of(x);
    if (!p) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
    sql_error_t err;
    int rc = sql_parse_cql(p, arena, (const char *)text.ptr, text.len, out, &err);
    if (rc == EDDY_OK) return EDDY_OK;
    if (rc == EDDY_ERR_NOMEM) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
    int32_t code = err.kind == SQL_ERR_SYNTAX || err.kind == SQL_ERR_LIMIT ? CQL_ERR_SYNTAX : CQL_ERR_INVALID;
    return cql_exec_fail(x, code, "%s", err.msg);
}

/* Puts the values in marker order: as given, or by name (flag 0x40). */
static int place_values(cql_exec_t *x, const sql_stmt_t *stmt, const cql_query_params_t *p, cql_run_t *r) {
    uint16_t n = (p->flags & CQL_QF_VALUES) ? p->values_count : 0;
    if (n != stmt->nbinds)
        return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid amount of bind variables: expected %u, got %u",
                             stmt->nbinds, n);
    r->nvalues = n;
    r->values = p->values;
    if (!(p->flags & CQL_QF_NAMES) || n == 0) return EDDY_OK;
    cql_value_t *placed = arena_alloc(x->arena, n * sizeof *placed);
    if (!placed) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
    for (uint32_t i = 0; i < stmt->nbinds; i++) {
        const sql_expr_t *b = stmt->binds[i];
        const char *name = b->bind.name.name;
        bool found = false;
        for (uint16_t j = 0; name && j < n && !found; j++) {
            if (p->names[j].len == strlen(name) && !memcmp(p->names[j].ptr, name, p->names[j].len)) {
                placed[i] = p->values[j];
                found = true;
            }
        }
        if (!found) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid unset value for column %s", name ? name : "?");
    }
    r->values = placed;
    return EDDY_OK;
}

static void run_init(cql_exec_t *x, cql_run_t *r, const sql_stmt_t *stmt, eddy_view_t text,
                     const cql_query_params_t *p) {
    memset(r, 0, sizeof *r);
    r->stmt = stmt;
    r->text = (const char *)text.ptr;
    r->text_len = text.len;
    r->consistency = p->consistency;
    r->page_size = (p->flags & CQL_QF_PAGE_SIZE) ? p->page_size : 0;
    if (p->flags & CQL_QF_PAGING_STATE) r->paging_state = p->paging_state;
    else r->paging_state = cql_value_null();
    r->skip_metadata = (p->flags & CQL_QF_SKIP_METADATA) != 0;
    r->timestamp = (p->flags & CQL_QF_TIMESTAMP) ? p->timestamp : store_now_us(cql_server_store(x->srv));
    if ((p->flags & CQL_QF_KEYSPACE) && p->keyspace.len > 0) {
        r->keyspace = arena_strndup(x->arena, (const char *)p->keyspace.ptr, p->keyspace.len);
    } else {
        r->keyspace = x->sc->keyspace[0] ? x->sc->keyspace : NULL;
    }
}

/* USE ks: the session's keyspace, checked to exist. */
static int exec_use(cql_exec_t *x, const cql_run_t *r) {
    const char *ks = r->stmt->named.name.name.name;
    if (!cql_system_keyspace(ks)) {
        store_schema_t *s = store_schema_get(cql_server_store(x->srv));
        bool exists = store_schema_keyspace(s, ks) != NULL;
        store_schema_release(s);
        if (!exists) return cql_exec_fail(x, CQL_ERR_INVALID, "Keyspace '%s' does not exist", ks);
    }
    if (strlen(ks) >= CQL_KEYSPACE_MAX) return cql_exec_fail(x, CQL_ERR_INVALID, "Keyspace name too long");
    snprintf(x->sc->keyspace, sizeof x->sc->keyspace, "%s", ks);
    wr_i32(x->out, CQL_RESULT_SET_KEYSPACE);
    cql_wr_cstring(x->out, ks);
    return EDDY_OK;
}

static int exec_stmt(cql_exec_t *x, const cql_run_t *r) {
    switch (r->stmt->kind) {
    case SQL_STMT_SELECT: return cql_exec_select(x, r);
    case SQL_STMT_INSERT:
    case SQL_STMT_UPDATE:
    case SQL_STMT_DELETE:
    case SQL_STMT_BATCH: return cql_exec_modify(x, r, 1, 0, false);
    case SQL_STMT_USE: return exec_use(x, r);
    case SQL_STMT_DESCRIBE: return cql_exec_describe(x, r);
    case SQL_STMT_LIST_ROLES:
        return cql_exec_fail(x, CQL_ERR_UNAUTHORIZED, "You have to be logged in and not anonymous to perform this request");
    case SQL_STMT_CREATE_STREAM:
    case SQL_STMT_CREATE_PIPELINE:
        return cql_exec_fail(x, CQL_ERR_INVALID, "Streams are pipeline statements: submit them with eddy submit, not over CQL");
    default:
        if (x->on_schema_thread) return cql_exec_ddl(x, r);
        x->offload = true;
        x->offload_text = (eddy_view_t){(const uint8_t *)r->text, r->text_len};
        x->offload_keyspace = r->keyspace;
        return EDDY_OK;
    }
}

void cql_exec_run_schema(cql_exec_t *x, eddy_view_t text) {
    sql_stmt_t *stmt;
    if (parse(x, x->arena, text, &stmt) != EDDY_OK) return;
    cql_query_params_t none;
    memset(&none, 0, sizeof none);
    cql_run_t r;
    run_init(x, &r, stmt, text, &none);
    if (stmt->nbinds) {
        cql_exec_fail(x, CQL_ERR_INVALID, "Schema statements take no bind markers");
        return;
    }
    exec_stmt(x, &r);
}

static void exec_query(cql_exec_t *x) {
    const cql_query_msg_t *q = &x->msg->u.query;
    sql_stmt_t *stmt;
    if (parse(x, x->arena, q->query, &stmt) != EDDY_OK) return;
    cql_run_t r;
    run_init(x, &r, stmt, q->query, &q->params);
    if (place_values(x, stmt, &q->params, &r) != EDDY_OK) return;
    exec_stmt(x, &r);
}

/* ---- PREPARE -------------------------------------------------------------------------------- */

static void write_colspecs(wr_t *w, const char *ks, const char *table, const cql_colmeta_t *cols, size_t n,
                           bool global) {
    if (global && n > 0) {
        cql_wr_cstring(w, ks);
        cql_wr_cstring(w, table);
    }
    for (size_t i = 0; i < n; i++) {
        if (!global) {
            cql_wr_cstring(w, cols[i].keyspace);
            cql_wr_cstring(w, cols[i].table);
        }
        cql_wr_cstring(w, cols[i].name);
        store_type_write_option(cols[i].type, w);
    }
}

/* Whether every column names the same table (the Global_tables_spec flag). */
static bool same_table(const cql_colmeta_t *cols, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (strcmp(cols[i].keyspace, cols[0].keyspace) || strcmp(cols[i].table, cols[0].table)) return false;
    return true;
}

void cql_write_rows_metadata(wr_t *w, uint8_t version, const cql_colmeta_t *cols, size_t n, uint32_t flags,
                             cql_value_t paging_state, const uint8_t *new_id) {
    bool global = n > 0 && same_table(cols, n);
    if (global) flags |= CQL_RF_GLOBAL_TABLES_SPEC;
    if (new_id && version >= 5) flags |= CQL_RF_METADATA_CHANGED;
    wr_u32(w, flags);
    wr_i32(w, (int32_t)n);
    if (flags & CQL_RF_HAS_MORE_PAGES) cql_wr_value(w, paging_state);
    if (flags & CQL_RF_NO_METADATA) return;
    if (flags & CQL_RF_METADATA_CHANGED) cql_wr_short_bytes(w, new_id, 16);
    write_colspecs(w, global ? cols[0].keyspace : NULL, global ? cols[0].table : NULL, cols, n, global);
}

/* The v5 result metadata id: MD5 over the result columns' names and types. */
void cql_result_metadata_id(const cql_colmeta_t *cols, size_t n, uint8_t out[16]) {
    wr_t w;
    wr_init(&w, 256);
    for (size_t i = 0; i < n; i++) {
        cql_wr_cstring(&w, cols[i].keyspace);
        cql_wr_cstring(&w, cols[i].table);
        cql_wr_cstring(&w, cols[i].name);
        store_type_write_option(cols[i].type, &w);
    }
    cql_md5(w.buf, w.len, out);
    wr_free(&w);
}

static void release_cols(cql_colmeta_t *cols, size_t n) {
    for (size_t i = 0; i < n; i++) store_type_release(cols[i].type);
}

static void exec_prepare(cql_exec_t *x) {
    const cql_prepare_msg_t *pm = &x->msg->u.prepare;
    const char *ks = x->sc->keyspace[0] ? x->sc->keyspace : NULL;
    if ((pm->flags & CQL_PF_KEYSPACE) && pm->keyspace.len > 0)
        ks = arena_strndup(x->arena, (const char *)pm->keyspace.ptr, pm->keyspace.len);
    uint8_t id[16];
    cql_prepared_id(ks, (const char *)pm->query.ptr, pm->query.len, id);
    cql_pcache_t *pc = cql_server_pcache(x->srv);
    cql_pstmt_t *ps = cql_pcache_get(pc, id, 16);
    if (!ps) {
        arena_t a;
        arena_init(&a, 4096);
        sql_stmt_t *stmt;
        if (parse(x, &a, pm->query, &stmt) != EDDY_OK) {
            arena_free(&a);
            return;
        }
        if (stmt->kind == SQL_STMT_BATCH && stmt->batch.nstmts == 0) {
            arena_free(&a);
            return;
        }
        ps = cql_pcache_put(pc, id, ks, (const char *)pm->query.ptr, pm->query.len, &a, stmt);
        arena_free(&a);
        if (!ps) {
            cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
            return;
        }
    }
    /* Metadata is computed from the current schema each time, so a re-PREPARE after an ALTER
     * describes the new columns. */
    cql_bindspec_t *binds = NULL;
    size_t nbinds = 0, npk = 0, ncols = 0;
    uint16_t *pk = NULL;
    cql_colmeta_t *cols = NULL;
    if (cql_prepare_binds(x, ps->stmt, ps->keyspace, &binds, &nbinds, &pk, &npk) != EDDY_OK) goto out;
    if (ps->stmt->kind == SQL_STMT_SELECT &&
        cql_select_columns(x, ps->stmt, ps->keyspace, &cols, &ncols) != EDDY_OK)
        goto out;
    wr_t *w = x->out;
    wr_i32(w, CQL_RESULT_PREPARED);
    cql_wr_short_bytes(w, ps->id, 16);
    uint8_t rid[16];
    cql_result_metadata_id(cols, ncols, rid);
    if (x->version >= 5) cql_wr_short_bytes(w, rid, 16);
    /* bind metadata */
    cql_colmeta_t *bcols = nbinds ? arena_alloc(x->arena, nbinds * sizeof *bcols) : NULL;
    for (size_t i = 0; i < nbinds && bcols; i++)
        bcols[i] = (cql_colmeta_t){binds[i].keyspace, binds[i].table, binds[i].name, binds[i].type};
    bool global = nbinds > 0 && bcols && same_table(bcols, nbinds);
    wr_u32(w, global ? CQL_RF_GLOBAL_TABLES_SPEC : 0);
    wr_i32(w, (int32_t)nbinds);
    if (x->version >= 4) {
        wr_i32(w, (int32_t)npk);
        for (size_t i = 0; i < npk; i++) wr_u16(w, pk[i]);
    }
    if (bcols) write_colspecs(w, global ? bcols[0].keyspace : NULL, global ? bcols[0].table : NULL, bcols, nbinds, global);
    /* result metadata: No_metadata for anything that is not a SELECT */
    if (ps->stmt->kind == SQL_STMT_SELECT)
        cql_write_rows_metadata(w, x->version, cols, ncols, 0, cql_value_null(), NULL);
    else
        cql_write_rows_metadata(w, x->version, NULL, 0, CQL_RF_NO_METADATA, cql_value_null(), NULL);
out:
    for (size_t i = 0; i < nbinds; i++) store_type_release(binds[i].type);
    release_cols(cols, ncols);
    cql_pstmt_release(ps);
}

/* ---- EXECUTE and BATCH ---------------------------------------------------------------------- */

static cql_pstmt_t *lookup(cql_exec_t *x, eddy_view_t id) {
    cql_pstmt_t *ps = cql_pcache_get(cql_server_pcache(x->srv), id.ptr, id.len);
    if (!ps) {
        x->err_id_len = (uint16_t)EDDY_MIN(id.len, sizeof x->err_id);
        memcpy(x->err_id, id.ptr, x->err_id_len);
        wr_t hex;
        wr_init(&hex, 40);
        for (size_t i = 0; i < id.len && i < 32; i++) wr_fmt(&hex, "%02x", id.ptr[i]);
        wr_u8(&hex, 0);
        cql_exec_fail(x, CQL_ERR_UNPREPARED, "Prepared query with ID %s not found (either the query was not prepared on this host (maybe the host has been restarted?) or you have prepared too many queries and it has been evicted from the internal cache)",
                      wr_ok(&hex) ? (const char *)hex.buf : "?");
        wr_free(&hex);
    }
    return ps;
}

static void exec_execute(cql_exec_t *x) {
    const cql_execute_msg_t *e = &x->msg->u.execute;
    cql_pstmt_t *ps = lookup(x, e->id);
    if (!ps) return;
    cql_run_t r;
    run_init(x, &r, ps->stmt, eddy_view(ps->query, ps->query_len), &e->params);
    r.prepared = ps;
    r.result_id = e->result_metadata_id.ptr;
    r.result_id_len = e->result_metadata_id.len;
    /* A statement prepared under a keyspace keeps it, whatever the session's is now. */
    if (ps->keyspace && !(e->params.flags & CQL_QF_KEYSPACE)) r.keyspace = ps->keyspace;
    if (place_values(x, ps->stmt, &e->params, &r) == EDDY_OK) exec_stmt(x, &r);
    cql_pstmt_release(ps);
}

static void exec_batch(cql_exec_t *x) {
    const cql_batch_msg_t *b = &x->msg->u.batch;
    if (b->type > CQL_BATCH_COUNTER) {
        cql_exec_fail(x, CQL_ERR_PROTOCOL, "Invalid BATCH message type %u", b->type);
        return;
    }
    if (b->count == 0) {
        cql_exec_fail(x, CQL_ERR_INVALID, "Empty batch");
        return;
    }
    cql_run_t *runs = arena_alloc(x->arena, b->count * sizeof *runs);
    cql_pstmt_t **held = arena_alloc(x->arena, b->count * sizeof *held);
    if (!runs || !held) {
        cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
        return;
    }
    memset(held, 0, b->count * sizeof *held);
    cql_query_params_t p;
    memset(&p, 0, sizeof p);
    p.consistency = b->consistency;
    p.flags = b->flags & (CQL_QF_TIMESTAMP | CQL_QF_KEYSPACE);
    p.timestamp = b->timestamp;
    p.keyspace = b->keyspace;
    uint16_t i = 0;
    for (; i < b->count; i++) {
        const cql_batch_item_t *it = &b->items[i];
        const sql_stmt_t *stmt;
        eddy_view_t text;
        const char *pks = NULL;
        if (it->kind == 1) {
            held[i] = lookup(x, it->query_or_id);
            if (!held[i]) break;
            stmt = held[i]->stmt;
            text = eddy_view(held[i]->query, held[i]->query_len);
            pks = held[i]->keyspace;
        } else {
            sql_stmt_t *parsed;
            if (parse(x, x->arena, it->query_or_id, &parsed) != EDDY_OK) break;
            stmt = parsed;
            text = it->query_or_id;
        }
        if (stmt->kind != SQL_STMT_INSERT && stmt->kind != SQL_STMT_UPDATE && stmt->kind != SQL_STMT_DELETE) {
            cql_exec_fail(x, CQL_ERR_INVALID, "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.");
            break;
        }
        run_init(x, &runs[i], stmt, text, &p);
        if (pks && !(b->flags & CQL_QF_KEYSPACE)) runs[i].keyspace = pks;
        cql_query_params_t vp = p;
        vp.flags |= it->values_count ? CQL_QF_VALUES : 0;
        vp.values_count = it->values_count;
        vp.values = it->values;
        if (place_values(x, stmt, &vp, &runs[i]) != EDDY_OK) break;
    }
    if (i == b->count) cql_exec_modify(x, runs, b->count, b->type, true);
    for (uint16_t k = 0; k < b->count; k++) cql_pstmt_release(held[k]);
}

void cql_exec_run(cql_exec_t *x) {
    switch (x->msg->opcode) {
    case CQL_OP_QUERY: exec_query(x); break;
    case CQL_OP_PREPARE: exec_prepare(x); break;
    case CQL_OP_EXECUTE: exec_execute(x); break;
    case CQL_OP_BATCH: exec_batch(x); break;
    default: cql_exec_fail(x, CQL_ERR_PROTOCOL, "Unexpected message %s", cql_opcode_name(x->msg->opcode)); break;
    }
}
