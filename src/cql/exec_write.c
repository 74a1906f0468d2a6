/* INSERT, UPDATE, DELETE and BATCH on the store. Every statement of a request becomes operations
 * in one store write builder, applied as one RocksDB batch: atomically, and acknowledged once
 * durable (the answer is deferred to the store's sync thread). Conditional statements (IF NOT
 * EXISTS, IF EXISTS, IF col = v) go through the store's compare-and-set and answer with the
 * [applied] row Cassandra sends. */
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

#define MAX_KEY_COMBOS 65536

typedef struct {
    const cql_run_t *r;
    const sql_stmt_t *stmt;
    const store_table_t *table;
    const store_table_info_t *info;
    const char *ks;
    const sql_using_t *using_;
    /* conditions */
    bool cas;
    const sql_relation_t *conds;
    uint32_t nconds;
} wstmt_t;

static char *cstr(cql_exec_t *x, const char *fmt, const char *a) {
    size_t n = strlen(fmt) + strlen(a) + 1;
    char *s = arena_alloc(x->arena, n);
    if (s) snprintf(s, n, fmt, a);
    return s;
}

int cql_resolve_table(cql_exec_t *x, const cql_run_t *r, const sql_qname_t *q, const store_table_t **out,
                      const char **ks_out) {
    *out = NULL;
    const char *ks = q->ks.name ? q->ks.name : r->keyspace;
    if (!ks)
        return cql_exec_fail(x, CQL_ERR_INVALID,
                             "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename");
    if (ks_out) *ks_out = ks;
    char err[512];
    int rc = store_table_lookup(cql_server_store(x->srv), ks, q->name.name, out, err, sizeof err);
    if (rc != EDDY_OK) return cql_exec_fail_status(x, rc, err);
    return EDDY_OK;
}

static int column_of(cql_exec_t *x, const wstmt_t *ws, const sql_ident_t *id) {
    int col = store_table_column(ws->table, id->name, id->len);
    if (col < 0) cql_exec_fail(x, CQL_ERR_INVALID, "Undefined column name %s in table %s.%s", id->name, ws->ks, ws->info->name);
    return col;
}

/* ---- keys from WHERE ------------------------------------------------------------------------ */

typedef struct {
    size_t nkey;               /* key columns restricted by = or IN, from the first */
    cql_term_t *vals[64];      /* per key column: its candidate values */
    size_t nvals[64];
    size_t combos;
    /* a range on the next clustering column (DELETE only) */
    bool has_range;
    int range_col;
    cql_term_t lo, hi;
    bool lo_set, hi_set, lo_incl, hi_incl;
} keyset_t;

static int keyset_build(cql_exec_t *x, const wstmt_t *ws, const sql_relation_t *where, uint32_t nwhere,
                        bool allow_range, keyset_t *ks) {
    memset(ks, 0, sizeof *ks);
    const store_table_info_t *info = ws->info;
    size_t nkeycols = info->npartition + info->nclustering;
    if (nkeycols > 64) return cql_exec_fail(x, CQL_ERR_INVALID, "Too many key columns");
    for (uint32_t i = 0; i < nwhere; i++) {
        const sql_relation_t *rel = &where[i];
        if (rel->kind != SQL_REL_COLUMN)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Only column relations are supported in the WHERE clause of an UPDATE or DELETE statement");
        int col = column_of(x, ws, &rel->columns[0]);
        if (col < 0) return EDDY_ERR_INVALID;
        const store_column_t *c = &info->columns[col];
        if ((size_t)col >= nkeycols)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Non PRIMARY KEY columns found in where clause: %s", c->name);
        if (rel->op == SQL_OP_EQ || rel->op == SQL_OP_IN) {
            if (ks->nvals[col])
                return cql_exec_fail(x, CQL_ERR_INVALID, "%s cannot be restricted by more than one relation if it includes an Equal", c->name);
            size_t n = rel->op == SQL_OP_EQ ? 1 : rel->in_marker ? 0 : rel->nin;
            cql_term_t *vals = NULL;
            if (rel->op == SQL_OP_IN && rel->in_marker) {
                /* IN ?: a list of the column's values. */
                const store_type_t *lt = store_type_list(c->type, true);
                cql_term_t lv;
                int rc = lt ? cql_term_eval(x, ws->r, rel->in_marker, lt, cstr(x, "in(%s)", c->name), &lv) : EDDY_ERR_NOMEM;
                if (rc == EDDY_OK && !lv.null && !lv.unset) {
                    long cnt = store_value_elements(lt, lv.ptr, lv.len, NULL, 0);
                    eddy_view_t *el = cnt > 0 ? arena_alloc(x->arena, (size_t)cnt * sizeof *el) : NULL;
                    vals = cnt > 0 ? arena_alloc(x->arena, (size_t)cnt * sizeof *vals) : NULL;
                    if (cnt > 0 && el && vals) {
                        store_value_elements(lt, lv.ptr, lv.len, el, (size_t)cnt);
                        for (long k = 0; k < cnt; k++) vals[k] = (cql_term_t){el[k].ptr, el[k].len, false, false};
                        n = (size_t)cnt;
                    }
                }
                store_type_release(lt);
                if (rc != EDDY_OK) return rc == EDDY_ERR_NOMEM ? cql_exec_fail(x, CQL_ERR_SERVER, "out of memory") : rc;
            } else {
                vals = arena_alloc(x->arena, (n ? n : 1) * sizeof *vals);
                if (!vals) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
                for (size_t k = 0; k < n; k++) {
                    const sql_expr_t *e = rel->op == SQL_OP_EQ ? rel->value : rel->in_values[k];
                    if (cql_term_eval(x, ws->r, e, c->type, c->name, &vals[k]) != EDDY_OK) return EDDY_ERR_INVALID;
                    if (vals[k].unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid unset value for column %s", c->name);
                    if (vals[k].null) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value in condition for column %s", c->name);
                }
            }
            if (n == 0) return cql_exec_fail(x, CQL_ERR_INVALID, "IN restriction on %s has no values", c->name);
            ks->vals[col] = vals;
            ks->nvals[col] = n;
        } else if (allow_range && (rel->op == SQL_OP_LT || rel->op == SQL_OP_LE || rel->op == SQL_OP_GT || rel->op == SQL_OP_GE) &&
                   c->kind == STORE_COL_CLUSTERING) {
            if (ks->has_range && ks->range_col != col)
                return cql_exec_fail(x, CQL_ERR_INVALID, "Only one clustering column can be restricted by a range in a DELETE");
            ks->has_range = true;
            ks->range_col = col;
            bool lower = rel->op == SQL_OP_GT || rel->op == SQL_OP_GE;
            cql_term_t *b = lower ? &ks->lo : &ks->hi;
            if (cql_term_eval(x, ws->r, rel->value, c->type, c->name, b) != EDDY_OK) return EDDY_ERR_INVALID;
            if (b->null || b->unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value in condition for column %s", c->name);
            if (lower) {
                ks->lo_set = true;
                ks->lo_incl = rel->op == SQL_OP_GE;
            } else {
                ks->hi_set = true;
                ks->hi_incl = rel->op == SQL_OP_LE;
            }
        } else {
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid operator %s for PRIMARY KEY part %s", sql_op_name(rel->op), c->name);
        }
    }
    /* The partition key must be complete; clustering columns form a prefix. */
    wr_t missing;
    wr_init(&missing, 64);
    for (size_t i = 0; i < info->npartition; i++)
        if (!ks->nvals[i]) wr_fmt(&missing, "%s%s", missing.len ? ", " : "", info->columns[i].name);
    if (missing.len) {
        wr_u8(&missing, 0);
        cql_exec_fail(x, CQL_ERR_INVALID, "Some partition key parts are missing: %s", (const char *)missing.buf);
        wr_free(&missing);
        return EDDY_ERR_INVALID;
    }
    wr_free(&missing);
    ks->nkey = info->npartition;
    while (ks->nkey < nkeycols && ks->nvals[ks->nkey]) ks->nkey++;
    for (size_t i = ks->nkey; i < nkeycols; i++)
        if (ks->nvals[i])
            return cql_exec_fail(x, CQL_ERR_INVALID, "PRIMARY KEY column \"%s\" cannot be restricted as preceding column \"%s\" is not restricted",
                                 info->columns[i].name, info->columns[ks->nkey].name);
    if (ks->has_range && (size_t)ks->range_col != ks->nkey)
        return cql_exec_fail(x, CQL_ERR_INVALID, "PRIMARY KEY column \"%s\" cannot be restricted as preceding column \"%s\" is not restricted",
                             info->columns[ks->range_col].name, info->columns[ks->nkey].name);
    ks->combos = 1;
    for (size_t i = 0; i < ks->nkey; i++) {
        ks->combos *= ks->nvals[i];
        if (ks->combos > MAX_KEY_COMBOS)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Too many combinations of IN values (more than %d)", MAX_KEY_COMBOS);
    }
    return EDDY_OK;
}

/* The k-th combination of key values (an odometer over the IN lists). */
static void keyset_combo(const keyset_t *ks, size_t k, eddy_view_t *key) {
    for (size_t i = ks->nkey; i-- > 0;) {
        size_t idx = k % ks->nvals[i];
        k /= ks->nvals[i];
        key[i] = eddy_view(ks->vals[i][idx].ptr, ks->vals[i][idx].len);
    }
}

/* ---- statements ----------------------------------------------------------------------------- */

static int using_attrs(cql_exec_t *x, const wstmt_t *ws, int64_t *ts, int32_t *ttl) {
    bool present;
    int64_t v;
    *ts = ws->r->timestamp;
    *ttl = STORE_TTL_DEFAULT;
    if (cql_term_int(x, ws->r, ws->using_->timestamp, "[timestamp]", &present, &v) != EDDY_OK) return EDDY_ERR_INVALID;
    if (present) {
        if (v == INT64_MIN) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid timestamp value: %lld", (long long)v);
        *ts = v;
    }
    if (cql_term_int(x, ws->r, ws->using_->ttl, "[ttl]", &present, &v) != EDDY_OK) return EDDY_ERR_INVALID;
    if (present) {
        if (v < 0) return cql_exec_fail(x, CQL_ERR_INVALID, "A TTL must be greater or equal to 0, but was %lld", (long long)v);
        if (v > STORE_MAX_TTL)
            return cql_exec_fail(x, CQL_ERR_INVALID, "ttl is too large. requested (%lld) maximum (%d)", (long long)v, STORE_MAX_TTL);
        *ttl = (int32_t)v;
    }
    return EDDY_OK;
}

static int store_fail(cql_exec_t *x, int rc, const char *err) { return cql_exec_fail_status(x, rc, err); }

static int do_insert(cql_exec_t *x, store_write_t *w, const wstmt_t *ws) {
    const sql_insert_t *ins = &ws->stmt->insert;
    const store_table_info_t *info = ws->info;
    char err[512];
    int64_t ts;
    int32_t ttl;
    if (using_attrs(x, ws, &ts, &ttl) != EDDY_OK) return EDDY_ERR_INVALID;
    if (info->counter)
        return cql_exec_fail(x, CQL_ERR_INVALID, "INSERT statements are not allowed on counter tables, use UPDATE instead");
    if (ins->json) {
        cql_term_t js;
        if (cql_term_eval(x, ws->r, ins->json, store_type_native(STORE_T_TEXT), "[json]", &js) != EDDY_OK)
            return EDDY_ERR_INVALID;
        if (js.null || js.unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Got null for INSERT JSON values");
        int rc = store_write_json(w, ws->table, (const char *)js.ptr, js.len, ins->default_unset, ts, ttl, err, sizeof err);
        if (rc != EDDY_OK) return store_fail(x, rc, err);
        if (ins->if_not_exists && (rc = store_write_if_not_exists(w, err, sizeof err)) != EDDY_OK) return store_fail(x, rc, err);
        return EDDY_OK;
    }
    if (ins->ncolumns != ins->nvalues) return cql_exec_fail(x, CQL_ERR_INVALID, "Unmatched column names/values");
    size_t nkey = info->npartition + info->nclustering;
    eddy_view_t key[64];
    bool have[64] = {false};
    int cols[256];
    cql_term_t vals[256];
    if (ins->ncolumns > 256 || nkey > 64) return cql_exec_fail(x, CQL_ERR_INVALID, "Too many columns");
    for (uint32_t i = 0; i < ins->ncolumns; i++) {
        int col = column_of(x, ws, &ins->columns[i]);
        if (col < 0) return EDDY_ERR_INVALID;
        for (uint32_t j = 0; j < i; j++)
            if (cols[j] == col) return cql_exec_fail(x, CQL_ERR_INVALID, "Multiple definitions found for column %s", info->columns[col].name);
        cols[i] = col;
        const store_column_t *c = &info->columns[col];
        if (cql_term_eval(x, ws->r, ins->values[i], c->type, c->name, &vals[i]) != EDDY_OK) return EDDY_ERR_INVALID;
        if ((size_t)col < nkey) {
            if (vals[i].unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid unset value for column %s", c->name);
            if (vals[i].null) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value in condition for column %s", c->name);
            key[col] = eddy_view(vals[i].ptr, vals[i].len);
            have[col] = true;
        }
    }
    wr_t missing;
    wr_init(&missing, 64);
    for (size_t i = 0; i < info->npartition; i++)
        if (!have[i]) wr_fmt(&missing, "%s%s", missing.len ? ", " : "", info->columns[i].name);
    bool pk_missing = missing.len > 0;
    for (size_t i = info->npartition; !pk_missing && i < nkey; i++)
        if (!have[i]) wr_fmt(&missing, "%s%s", missing.len ? ", " : "", info->columns[i].name);
    if (missing.len) {
        wr_u8(&missing, 0);
        cql_exec_fail(x, CQL_ERR_INVALID, "Some %s are missing: %s", pk_missing ? "partition key parts" : "clustering keys",
                      (const char *)missing.buf);
        wr_free(&missing);
        return EDDY_ERR_INVALID;
    }
    wr_free(&missing);
    int rc = store_write_row(w, ws->table, key, nkey, ts, ttl, STORE_ROW_INSERT, err, sizeof err);
    if (rc != EDDY_OK) return store_fail(x, rc, err);
    for (uint32_t i = 0; i < ins->ncolumns; i++) {
        if ((size_t)cols[i] < nkey || vals[i].unset) continue;
        rc = store_write_set(w, cols[i], vals[i].null ? NULL : vals[i].ptr, vals[i].len, err, sizeof err);
        if (rc != EDDY_OK) return store_fail(x, rc, err);
    }
    if (ins->if_not_exists && (rc = store_write_if_not_exists(w, err, sizeof err)) != EDDY_OK) return store_fail(x, rc, err);
    return EDDY_OK;
}

/* IF conditions of UPDATE and DELETE, attached to the current row. */
static int add_conditions(cql_exec_t *x, store_write_t *w, const wstmt_t *ws, bool if_exists) {
    char err[512];
    int rc;
    if (if_exists && (rc = store_write_if_exists(w, err, sizeof err)) != EDDY_OK) return store_fail(x, rc, err);
    for (uint32_t i = 0; i < ws->nconds; i++) {
        const sql_relation_t *cond = &ws->conds[i];
        int col = column_of(x, ws, &cond->columns[0]);
        if (col < 0) return EDDY_ERR_INVALID;
        const store_column_t *c = &ws->info->columns[col];
        if (c->kind == STORE_COL_PARTITION_KEY || c->kind == STORE_COL_CLUSTERING)
            return cql_exec_fail(x, CQL_ERR_INVALID, "PRIMARY KEY column '%s' cannot have IF conditions", c->name);
        store_op_t op;
        switch (cond->op) {
        case SQL_OP_EQ: op = STORE_OP_EQ; break;
        case SQL_OP_NE: op = STORE_OP_NE; break;
        case SQL_OP_LT: op = STORE_OP_LT; break;
        case SQL_OP_LE: op = STORE_OP_LE; break;
        case SQL_OP_GT: op = STORE_OP_GT; break;
        case SQL_OP_GE: op = STORE_OP_GE; break;
        case SQL_OP_IN: op = STORE_OP_IN; break;
        case SQL_OP_CONTAINS: op = STORE_OP_CONTAINS; break;
        case SQL_OP_CONTAINS_KEY: op = STORE_OP_CONTAINS_KEY; break;
        default: return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported operator %s in IF condition", sql_op_name(cond->op));
        }
        const store_type_t *vt = c->type;
        eddy_view_t elem_view, *elem = NULL;
        const char *field = NULL;
        if (cond->kind == SQL_REL_ELEMENT) {
            const store_type_t *kt = c->type->kind == STORE_T_MAP ? c->type->sub[0] : store_type_native(STORE_T_INT);
            cql_term_t k;
            if (cql_term_eval(x, ws->r, cond->key, kt, c->name, &k) != EDDY_OK) return EDDY_ERR_INVALID;
            elem_view = eddy_view(k.ptr, k.len);
            elem = &elem_view;
            vt = c->type->kind == STORE_T_MAP ? c->type->sub[1] : c->type->sub[0];
        } else if (cond->kind == SQL_REL_FIELD) {
            field = cond->field.name;
            vt = NULL;
            for (uint16_t f = 0; c->type->kind == STORE_T_UDT && f < c->type->nsub; f++)
                if (!strcmp(c->type->field_names[f], field)) vt = c->type->sub[f];
            if (!vt) return cql_exec_fail(x, CQL_ERR_INVALID, "Unknown field %s for column %s", field, c->name);
        }
        if (op == STORE_OP_CONTAINS) vt = c->type->kind == STORE_T_MAP ? c->type->sub[1] : c->type->sub[0];
        if (op == STORE_OP_CONTAINS_KEY) vt = c->type->sub[0];
        size_t nv = op == STORE_OP_IN ? cond->nin : 1;
        eddy_view_t *vals = arena_alloc(x->arena, (nv ? nv : 1) * sizeof *vals);
        if (!vals) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
        for (size_t k = 0; k < nv; k++) {
            cql_term_t t;
            const sql_expr_t *e = op == STORE_OP_IN ? cond->in_values[k] : cond->value;
            if (cql_term_eval(x, ws->r, e, vt, c->name, &t) != EDDY_OK) return EDDY_ERR_INVALID;
            vals[k] = t.null || t.unset ? eddy_view(NULL, 0) : eddy_view(t.ptr, t.len);
        }
        rc = store_write_if(w, col, elem, field, op, vals, nv, err, sizeof err);
        if (rc != EDDY_OK) return store_fail(x, rc, err);
    }
    return EDDY_OK;
}

static int assign(cql_exec_t *x, store_write_t *w, const wstmt_t *ws, const sql_assignment_t *a) {
    char err[512];
    int col = column_of(x, ws, &a->column);
    if (col < 0) return EDDY_ERR_INVALID;
    const store_column_t *c = &ws->info->columns[col];
    if (c->kind == STORE_COL_PARTITION_KEY || c->kind == STORE_COL_CLUSTERING)
        return cql_exec_fail(x, CQL_ERR_INVALID, "PRIMARY KEY part %s found in SET part", c->name);
    const store_type_t *t = c->type;
    bool counter = t->kind == STORE_T_COUNTER;
    cql_term_t v;
    int rc = EDDY_OK;
    switch (a->kind) {
    case SQL_SET_ASSIGN:
        if (counter)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Cannot set the value of counter column %s (counters can only be incremented/decremented, not set)", c->name);
        if (cql_term_eval(x, ws->r, a->value, t, c->name, &v) != EDDY_OK) return EDDY_ERR_INVALID;
        if (v.unset) return EDDY_OK;
        rc = store_write_set(w, col, v.null ? NULL : v.ptr, v.len, err, sizeof err);
        break;
    case SQL_SET_ADD:
    case SQL_SET_SUB: {
        bool add = a->kind == SQL_SET_ADD;
        if (counter) {
            if (cql_term_eval(x, ws->r, a->value, store_type_native(STORE_T_BIGINT), c->name, &v) != EDDY_OK)
                return EDDY_ERR_INVALID;
            if (v.unset) return EDDY_OK;
            if (v.null) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value for counter increment");
            int64_t d = (int64_t)load_u64(v.ptr);
            rc = store_write_counter_add(w, col, add ? d : -d, err, sizeof err);
            break;
        }
        if (!store_type_is_collection(t) || t->frozen)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid operation (%s = %s %s ?) for non counter column %s", c->name, c->name,
                                 add ? "+" : "-", c->name);
        const store_type_t *vt = t;
        const store_type_t *keys = NULL;
        if (!add && t->kind == STORE_T_MAP) vt = keys = store_type_set(t->sub[0], true);
        if (!vt) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
        rc = cql_term_eval(x, ws->r, a->value, vt, c->name, &v);
        store_type_release(keys);
        if (rc != EDDY_OK) return EDDY_ERR_INVALID;
        if (v.unset) return EDDY_OK;
        if (v.null) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value for collection operation on %s", c->name);
        if (t->kind == STORE_T_LIST)
            rc = add ? store_write_list_append(w, col, v.ptr, v.len, err, sizeof err)
                     : store_write_list_remove(w, col, v.ptr, v.len, err, sizeof err);
        else if (t->kind == STORE_T_SET)
            rc = add ? store_write_set_add(w, col, v.ptr, v.len, err, sizeof err)
                     : store_write_set_remove(w, col, v.ptr, v.len, err, sizeof err);
        else
            rc = add ? store_write_map_put(w, col, v.ptr, v.len, err, sizeof err)
                     : store_write_map_remove(w, col, v.ptr, v.len, err, sizeof err);
        break;
    }
    case SQL_SET_PREPEND:
        if (t->kind != STORE_T_LIST || t->frozen)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid operation (%s = ? + %s) for non list column %s", c->name, c->name, c->name);
        if (cql_term_eval(x, ws->r, a->value, t, c->name, &v) != EDDY_OK) return EDDY_ERR_INVALID;
        if (v.unset) return EDDY_OK;
        if (v.null) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value for list prepend");
        rc = store_write_list_prepend(w, col, v.ptr, v.len, err, sizeof err);
        break;
    case SQL_SET_ELEMENT: {
        if ((t->kind != STORE_T_LIST && t->kind != STORE_T_MAP) || t->frozen)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid operation (%s[?] = ?) for non list or map column %s", c->name, c->name);
        cql_term_t k;
        const store_type_t *kt = t->kind == STORE_T_MAP ? t->sub[0] : store_type_native(STORE_T_INT);
        if (cql_term_eval(x, ws->r, a->key, kt, c->name, &k) != EDDY_OK) return EDDY_ERR_INVALID;
        if (k.null || k.unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value for %s", t->kind == STORE_T_MAP ? "map key" : "list index");
        const store_type_t *et = t->kind == STORE_T_MAP ? t->sub[1] : t->sub[0];
        if (cql_term_eval(x, ws->r, a->value, et, c->name, &v) != EDDY_OK) return EDDY_ERR_INVALID;
        if (v.unset) return EDDY_OK;
        if (t->kind == STORE_T_MAP)
            rc = store_write_map_set_key(w, col, k.ptr, k.len, v.null ? NULL : v.ptr, v.len, err, sizeof err);
        else if (v.null)
            rc = store_write_list_delete_index(w, col, (int32_t)load_u32(k.ptr), err, sizeof err);
        else
            rc = store_write_list_set_index(w, col, (int32_t)load_u32(k.ptr), v.ptr, v.len, err, sizeof err);
        break;
    }
    case SQL_SET_FIELD: {
        if (t->kind != STORE_T_UDT)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid operation (%s.%s = ?) for non-UDT column %s", c->name, a->field.name, c->name);
        int f = -1;
        for (uint16_t k = 0; k < t->nsub; k++)
            if (!strcmp(t->field_names[k], a->field.name)) f = k;
        if (f < 0) return cql_exec_fail(x, CQL_ERR_INVALID, "UDT column %s does not have a field named %s", c->name, a->field.name);
        if (t->frozen) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid operation (%s.%s = ?) for frozen UDT column %s", c->name, a->field.name, c->name);
        if (cql_term_eval(x, ws->r, a->value, t->sub[f], c->name, &v) != EDDY_OK) return EDDY_ERR_INVALID;
        if (v.unset) return EDDY_OK;
        rc = store_write_udt_set_field(w, col, f, v.null ? NULL : v.ptr, v.len, err, sizeof err);
        break;
    }
    }
    return rc == EDDY_OK ? EDDY_OK : store_fail(x, rc, err);
}

static int do_update(cql_exec_t *x, store_write_t *w, const wstmt_t *ws) {
    const sql_update_t *u = &ws->stmt->update;
    const store_table_info_t *info = ws->info;
    char err[512];
    int64_t ts;
    int32_t ttl;
    if (using_attrs(x, ws, &ts, &ttl) != EDDY_OK) return EDDY_ERR_INVALID;
    if (info->counter && u->using_.ttl) return cql_exec_fail(x, CQL_ERR_INVALID, "Cannot provide custom TTL for counter updates");
    keyset_t ks;
    if (keyset_build(x, ws, u->where, u->nwhere, false, &ks) != EDDY_OK) return EDDY_ERR_INVALID;
    /* Only static columns may be set without the clustering key. */
    bool only_static = true;
    for (uint32_t i = 0; i < u->nsets; i++) {
        int col = store_table_column(ws->table, u->sets[i].column.name, u->sets[i].column.len);
        if (col >= 0 && info->columns[col].kind != STORE_COL_STATIC) only_static = false;
    }
    size_t nkey = info->npartition + info->nclustering;
    if (ks.nkey < nkey && !(only_static && ks.nkey == info->npartition && info->nstatic > 0))
        return cql_exec_fail(x, CQL_ERR_INVALID, "Some clustering keys are missing: %s", info->columns[ks.nkey].name);
    if (ws->cas && ks.combos > 1)
        return cql_exec_fail(x, CQL_ERR_INVALID, "IN on the %s key is not supported with conditional updates",
                             ks.nvals[0] > 1 ? "partition" : "clustering");
    eddy_view_t key[64];
    for (size_t k = 0; k < ks.combos; k++) {
        keyset_combo(&ks, k, key);
        int rc = store_write_row(w, ws->table, key, ks.nkey, ts, ttl, 0, err, sizeof err);
        if (rc != EDDY_OK) return store_fail(x, rc, err);
        for (uint32_t i = 0; i < u->nsets; i++)
            if (assign(x, w, ws, &u->sets[i]) != EDDY_OK) return EDDY_ERR_INVALID;
        if (ws->cas && add_conditions(x, w, ws, u->if_exists) != EDDY_OK) return EDDY_ERR_INVALID;
    }
    return EDDY_OK;
}

static int do_delete(cql_exec_t *x, store_write_t *w, const wstmt_t *ws) {
    const sql_delete_t *d = &ws->stmt->delete_;
    const store_table_info_t *info = ws->info;
    char err[512];
    int64_t ts;
    int32_t ttl;
    if (using_attrs(x, ws, &ts, &ttl) != EDDY_OK) return EDDY_ERR_INVALID;
    keyset_t ks;
    if (keyset_build(x, ws, d->where, d->nwhere, d->ntargets == 0, &ks) != EDDY_OK) return EDDY_ERR_INVALID;
    size_t nkey = info->npartition + info->nclustering;
    if (ws->cas && (ks.combos > 1 || ks.has_range || (ks.nkey < nkey && d->ntargets == 0 && info->nclustering)))
        return cql_exec_fail(x, CQL_ERR_INVALID, "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use IF conditions");
    eddy_view_t key[64];
    for (size_t k = 0; k < ks.combos; k++) {
        keyset_combo(&ks, k, key);
        int rc = EDDY_OK;
        if (d->ntargets == 0) {
            if (ks.nkey == nkey && !ks.has_range) {
                rc = store_write_delete_row(w, ws->table, key, ts, err, sizeof err);
            } else if (ks.nkey == info->npartition && !ks.has_range) {
                rc = store_write_delete_partition(w, ws->table, key, ts, err, sizeof err);
            } else {
                /* A range tombstone: the restricted prefix, bounded by the range if any. */
                size_t np = ks.nkey - info->npartition;
                eddy_view_t lo[64], hi[64];
                memcpy(lo, key + info->npartition, np * sizeof *lo);
                memcpy(hi, key + info->npartition, np * sizeof *hi);
                store_crange_t range = {{np, lo, true}, {np, hi, true}};
                if (ks.lo_set) {
                    lo[np] = eddy_view(ks.lo.ptr, ks.lo.len);
                    range.lo = (store_cbound_t){np + 1, lo, ks.lo_incl};
                }
                if (ks.hi_set) {
                    hi[np] = eddy_view(ks.hi.ptr, ks.hi.len);
                    range.hi = (store_cbound_t){np + 1, hi, ks.hi_incl};
                }
                rc = store_write_delete_range(w, ws->table, key, &range, ts, err, sizeof err);
            }
            if (rc != EDDY_OK) return store_fail(x, rc, err);
            if (ws->cas) {
                /* Conditions need a row to attach to: the deleted row itself. */
                rc = store_write_row(w, ws->table, key, ks.nkey, ts, 0, 0, err, sizeof err);
                if (rc != EDDY_OK) return store_fail(x, rc, err);
                if (add_conditions(x, w, ws, d->if_exists) != EDDY_OK) return EDDY_ERR_INVALID;
            }
            continue;
        }
        bool only_static = true;
        for (uint32_t i = 0; i < d->ntargets; i++) {
            int col = store_table_column(ws->table, d->targets[i].column.name, d->targets[i].column.len);
            if (col >= 0 && info->columns[col].kind != STORE_COL_STATIC) only_static = false;
        }
        if (ks.nkey < nkey && !(only_static && ks.nkey == info->npartition))
            return cql_exec_fail(x, CQL_ERR_INVALID, "Some clustering keys are missing: %s", info->columns[ks.nkey].name);
        rc = store_write_row(w, ws->table, key, ks.nkey, ts, 0, 0, err, sizeof err);
        if (rc != EDDY_OK) return store_fail(x, rc, err);
        for (uint32_t i = 0; i < d->ntargets; i++) {
            const sql_delete_target_t *tg = &d->targets[i];
            int col = column_of(x, ws, &tg->column);
            if (col < 0) return EDDY_ERR_INVALID;
            const store_column_t *c = &info->columns[col];
            if ((size_t)col < nkey) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid identifier %s for deletion (should not be a PRIMARY KEY part)", c->name);
            if (tg->key) {
                if ((c->type->kind != STORE_T_MAP && c->type->kind != STORE_T_LIST && c->type->kind != STORE_T_SET) || c->type->frozen)
                    return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid operation (DELETE %s[?]) for non collection column %s", c->name, c->name);
                const store_type_t *kt = c->type->kind == STORE_T_LIST ? store_type_native(STORE_T_INT) : c->type->sub[0];
                cql_term_t kv;
                if (cql_term_eval(x, ws->r, tg->key, kt, c->name, &kv) != EDDY_OK) return EDDY_ERR_INVALID;
                if (kv.null || kv.unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value for %s element", c->name);
                if (c->type->kind == STORE_T_MAP) rc = store_write_map_set_key(w, col, kv.ptr, kv.len, NULL, 0, err, sizeof err);
                else if (c->type->kind == STORE_T_LIST) rc = store_write_list_delete_index(w, col, (int32_t)load_u32(kv.ptr), err, sizeof err);
                else {
                    eddy_view_t el = eddy_view(kv.ptr, kv.len);
                    wr_t sw;
                    wr_init(&sw, 32);
                    rc = store_value_build(c->type, &el, 1, &sw, err, sizeof err);
                    if (rc == EDDY_OK) rc = store_write_set_remove(w, col, sw.buf, sw.len, err, sizeof err);
                    wr_free(&sw);
                }
            } else if (tg->field.name) {
                int f = -1;
                for (uint16_t fi = 0; c->type->kind == STORE_T_UDT && fi < c->type->nsub; fi++)
                    if (!strcmp(c->type->field_names[fi], tg->field.name)) f = fi;
                if (f < 0) return cql_exec_fail(x, CQL_ERR_INVALID, "UDT column %s does not have a field named %s", c->name, tg->field.name);
                rc = store_write_udt_set_field(w, col, f, NULL, 0, err, sizeof err);
            } else {
                rc = store_write_set(w, col, NULL, 0, err, sizeof err);
            }
            if (rc != EDDY_OK) return store_fail(x, rc, err);
        }
        if (ws->cas && add_conditions(x, w, ws, d->if_exists) != EDDY_OK) return EDDY_ERR_INVALID;
    }
    return EDDY_OK;
}

/* ---- conditional answers -------------------------------------------------------------------- */

typedef struct {
    cql_exec_t *x;
    const store_table_info_t *info;
    wr_t *rows;
    size_t nrows;
    size_t ncols;              /* columns written per row after [applied] */
    bool first;
} cas_ctx_t;

/* A row that made the condition fail: [applied] false, then its columns. */
static void cas_current(void *arg, const store_row_t *row) {
    cas_ctx_t *cc = arg;
    cql_wr_bytes(cc->rows, "\0", 1);
    for (size_t i = 0; i < cc->ncols; i++) {
        const store_cell_t *cell = i < row->ncells ? &row->cells[i] : NULL;
        if (!cell || !cell->ptr) cql_wr_bytes(cc->rows, NULL, -1);
        else cql_wr_bytes(cc->rows, cell->ptr, (int32_t)cell->len);
    }
    cc->nrows++;
}

static int apply_cas(cql_exec_t *x, store_write_t *w, const wstmt_t *ws) {
    cql_tools_t *tools = cql_sconn_tools(x->sc);
    wr_reset(&tools->rows);
    cas_ctx_t cc = {x, ws->info, &tools->rows, 0, ws->info->ncolumns, true};
    bool applied = false;
    char err[512];
    int rc = store_write_apply_cas(w, false, &applied, cas_current, &cc, err, sizeof err);
    if (rc != EDDY_OK) return store_fail(x, rc, err);
    /* Columns: [applied], then (when not applied and a row exists) every column of the table. */
    size_t ncols = applied || cc.nrows == 0 ? 1 : 1 + ws->info->ncolumns;
    cql_colmeta_t *cols = arena_alloc(x->arena, ncols * sizeof *cols);
    if (!cols) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
    cols[0] = (cql_colmeta_t){ws->ks, ws->info->name, "[applied]", store_type_native(STORE_T_BOOLEAN)};
    for (size_t i = 1; i < ncols; i++)
        cols[i] = (cql_colmeta_t){ws->ks, ws->info->name, ws->info->columns[i - 1].name, ws->info->columns[i - 1].type};
    wr_i32(x->out, CQL_RESULT_ROWS);
    cql_write_rows_metadata(x->out, x->version, cols, ncols, 0, cql_value_null(), NULL);
    if (applied || cc.nrows == 0) {
        wr_i32(x->out, 1);
        cql_wr_bytes(x->out, applied ? "\1" : "\0", 1);
    } else {
        wr_i32(x->out, (int32_t)cc.nrows);
        wr_bytes(x->out, tools->rows.buf, tools->rows.len);
    }
    if (applied) {
        cql_deferred_t *d = cql_exec_defer(x);
        if (!d) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
        store_sync_after(cql_server_store(x->srv), cql_deferred_store_done, d);
    }
    return EDDY_OK;
}

/* ---- the entry ------------------------------------------------------------------------------ */

static int prepare_stmt(cql_exec_t *x, const cql_run_t *r, const sql_stmt_t *stmt, const sql_using_t *batch_using,
                        wstmt_t *ws) {
    memset(ws, 0, sizeof *ws);
    ws->r = r;
    ws->stmt = stmt;
    const sql_qname_t *q;
    switch (stmt->kind) {
    case SQL_STMT_INSERT:
        q = &stmt->insert.table;
        ws->using_ = &stmt->insert.using_;
        ws->cas = stmt->insert.if_not_exists;
        break;
    case SQL_STMT_UPDATE:
        q = &stmt->update.table;
        ws->using_ = &stmt->update.using_;
        ws->cas = stmt->update.if_exists || stmt->update.nconditions > 0;
        ws->conds = stmt->update.conditions;
        ws->nconds = stmt->update.nconditions;
        break;
    case SQL_STMT_DELETE:
        q = &stmt->delete_.table;
        ws->using_ = &stmt->delete_.using_;
        ws->cas = stmt->delete_.if_exists || stmt->delete_.nconditions > 0;
        ws->conds = stmt->delete_.conditions;
        ws->nconds = stmt->delete_.nconditions;
        break;
    default: return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.");
    }
    /* A BATCH's USING TIMESTAMP applies to statements that have none. */
    if (batch_using && batch_using->timestamp && !ws->using_->timestamp) {
        sql_using_t *m = arena_alloc(x->arena, sizeof *m);
        if (!m) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
        *m = *ws->using_;
        m->timestamp = batch_using->timestamp;
        ws->using_ = m;
    }
    const char *ks = q->ks.name ? q->ks.name : r->keyspace;
    if (ks && cql_system_keyspace(ks)) return cql_exec_fail(x, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.", ks);
    if (cql_resolve_table(x, r, q, &ws->table, &ws->ks) != EDDY_OK) return EDDY_ERR_INVALID;
    ws->info = store_table_info(ws->table);
    return EDDY_OK;
}

int cql_exec_modify(cql_exec_t *x, const cql_run_t *runs, size_t n, uint8_t batch_type, bool is_batch) {
    /* A BATCH statement in CQL text: its statements share the values and the USING clause. */
    const sql_using_t *batch_using = NULL;
    cql_run_t *expanded = NULL;
    if (n == 1 && runs[0].stmt->kind == SQL_STMT_BATCH) {
        const sql_batch_t *b = &runs[0].stmt->batch;
        batch_type = (uint8_t)b->kind;
        batch_using = &b->using_;
        is_batch = true;
        n = b->nstmts;
        expanded = arena_alloc(x->arena, (n ? n : 1) * sizeof *expanded);
        if (!expanded) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
        for (size_t i = 0; i < n; i++) {
            expanded[i] = runs[0];
            expanded[i].stmt = b->stmts[i];
        }
        runs = expanded;
        if (n == 0) {
            wr_i32(x->out, CQL_RESULT_VOID);
            return EDDY_OK;
        }
    }
    wstmt_t *ws = arena_alloc(x->arena, n * sizeof *ws);
    if (!ws) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
    size_t prepared = 0;
    bool cas = false, counters = false, non_counters = false;
    int rc = EDDY_OK;
    for (; prepared < n; prepared++) {
        if ((rc = prepare_stmt(x, &runs[prepared], runs[prepared].stmt, batch_using, &ws[prepared])) != EDDY_OK) break;
        cas |= ws[prepared].cas;
        if (ws[prepared].info->counter) counters = true;
        else non_counters = true;
    }
    if (rc == EDDY_OK && is_batch) {
        if (counters && non_counters) rc = cql_exec_fail(x, CQL_ERR_INVALID, "Counter and non-counter mutations cannot exist in the same batch");
        else if (batch_type == CQL_BATCH_COUNTER && non_counters) rc = cql_exec_fail(x, CQL_ERR_INVALID, "Cannot include non-counter statement in a counter batch");
        else if (batch_type == CQL_BATCH_LOGGED && counters) rc = cql_exec_fail(x, CQL_ERR_INVALID, "Cannot include a counter statement in a logged batch");
        else if (cas && batch_type == CQL_BATCH_COUNTER) rc = cql_exec_fail(x, CQL_ERR_INVALID, "Cannot include a counter statement in a conditional batch");
        for (size_t i = 0; rc == EDDY_OK && cas && i < n; i++)
            if (ws[i].table != ws[0].table)
                rc = cql_exec_fail(x, CQL_ERR_INVALID, "Batch with conditions cannot span multiple tables");
    }
    cql_tools_t *tools = cql_sconn_tools(x->sc);
    if (rc == EDDY_OK && !tools->writer && !(tools->writer = store_write_new(cql_server_store(x->srv))))
        rc = cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
    store_write_t *w = tools->writer;
    for (size_t i = 0; rc == EDDY_OK && i < n; i++) {
        switch (ws[i].stmt->kind) {
        case SQL_STMT_INSERT: rc = do_insert(x, w, &ws[i]); break;
        case SQL_STMT_UPDATE: rc = do_update(x, w, &ws[i]); break;
        default: rc = do_delete(x, w, &ws[i]); break;
        }
    }
    if (rc == EDDY_OK && cas) {
        rc = apply_cas(x, w, &ws[0]);
    } else if (rc == EDDY_OK) {
        cql_deferred_t *d = cql_exec_defer(x);
        char err[512];
        if (!d) {
            rc = cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
        } else if ((rc = store_write_submit(w, cql_deferred_store_done, d, err, sizeof err)) != EDDY_OK) {
            cql_deferred_done(d, EDDY_OK, NULL); /* nothing was written: the ERROR answers now */
            store_fail(x, rc, err);
        } else {
            wr_i32(x->out, CQL_RESULT_VOID);
        }
    }
    if (w) store_write_reset(w);
    for (size_t i = 0; i < prepared; i++) store_table_release(ws[i].table);
    return rc;
}
