/* PREPARE metadata: for every bind marker, the name and type Cassandra reports (the column it
 * feeds, "in(c)", "[ttl]", "partition key token" ...), inferred from where it stands; and the
 * partition key markers (pk_indexes) that drivers use for token-aware routing. */
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

typedef struct {
    cql_exec_t *x;
    const store_table_info_t *info;
    const store_table_t *table;
    const char *ks;
    cql_bindspec_t *binds;
    uint32_t nbinds;
} pctx_t;

static int fail_nomem(cql_exec_t *x) { return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory"); }

static char *name_fmt(cql_exec_t *x, const char *fmt, const char *a) {
    size_t n = strlen(fmt) + strlen(a) + 1;
    char *s = arena_alloc(x->arena, n);
    if (s) snprintf(s, n, fmt, a);
    return s;
}

static const store_column_t *find_col(const pctx_t *c, const sql_ident_t *id) {
    for (size_t i = 0; c->info && i < c->info->ncolumns; i++)
        if (!strcmp(c->info->columns[i].name, id->name)) return &c->info->columns[i];
    return NULL;
}

static int set_spec(pctx_t *c, uint32_t idx, const char *name, const store_type_t *t_ref) {
    if (idx >= c->nbinds || !t_ref) {
        store_type_release(t_ref);
        return t_ref ? EDDY_OK : fail_nomem(c->x);
    }
    cql_bindspec_t *b = &c->binds[idx];
    if (b->type) {
        store_type_release(t_ref);
        return EDDY_OK;
    }
    if (!b->name && name) name = arena_strndup(c->x->arena, name, strlen(name));
    /* Copies: a batch's tables are released before the answer is written. */
    b->keyspace = arena_strndup(c->x->arena, c->ks ? c->ks : "", strlen(c->ks ? c->ks : ""));
    b->table = arena_strndup(c->x->arena, c->info ? c->info->name : "", strlen(c->info ? c->info->name : ""));
    if (!b->keyspace || !b->table) return fail_nomem(c->x);
    if (!b->name) b->name = name;
    b->type = t_ref;
    return EDDY_OK;
}

/* A marker's type from its role and the table's columns. column, when given, is the column it
 * feeds (UPDATE's SET: the parser's bind.columns for those point at a parse-time copy). */
static int from_role(pctx_t *c, const sql_expr_t *e, const sql_ident_t *column) {
    cql_exec_t *x = c->x;
    uint32_t idx = e->bind.index;
    if (idx < c->nbinds && e->bind.name.name) c->binds[idx].name = e->bind.name.name;
    const sql_ident_t *first = column ? column : e->bind.ncolumns ? &e->bind.columns[0] : NULL;
    const store_column_t *col = first ? find_col(c, first) : NULL;
    const char *cn = col ? col->name : "?";
    if (first && !col && e->bind.role != SQL_BIND_TOKEN)
        return cql_exec_fail(x, CQL_ERR_INVALID, "Undefined column name %s", first->name);
    const store_type_t *t = col ? col->type : NULL;
    switch (e->bind.role) {
    case SQL_BIND_COLUMN: return set_spec(c, idx, cn, store_type_keep(t));
    case SQL_BIND_IN: return set_spec(c, idx, name_fmt(x, "in(%s)", cn), store_type_list(t, true));
    case SQL_BIND_ELEMENT_KEY:
        if (t->kind == STORE_T_MAP) return set_spec(c, idx, name_fmt(x, "key(%s)", cn), store_type_keep(t->sub[0]));
        return set_spec(c, idx, name_fmt(x, "idx(%s)", cn), store_type_native(STORE_T_INT));
    case SQL_BIND_ELEMENT_VALUE:
        if (t->kind == STORE_T_MAP) return set_spec(c, idx, name_fmt(x, "value(%s)", cn), store_type_keep(t->sub[1]));
        if (t->kind == STORE_T_LIST) return set_spec(c, idx, name_fmt(x, "value(%s)", cn), store_type_keep(t->sub[0]));
        return set_spec(c, idx, cn, store_type_keep(t));
    case SQL_BIND_FIELD_VALUE:
        for (uint16_t f = 0; t->kind == STORE_T_UDT && f < t->nsub; f++)
            if (!strcmp(t->field_names[f], e->bind.field.name)) return set_spec(c, idx, t->field_names[f], store_type_keep(t->sub[f]));
        return cql_exec_fail(x, CQL_ERR_INVALID, "Unknown field %s of %s", e->bind.field.name, cn);
    case SQL_BIND_CONTAINS:
        if (store_type_is_collection(t)) return set_spec(c, idx, cn, store_type_keep(t->kind == STORE_T_MAP ? t->sub[1] : t->sub[0]));
        return set_spec(c, idx, cn, store_type_keep(t));
    case SQL_BIND_CONTAINS_KEY:
        if (t->kind == STORE_T_MAP) return set_spec(c, idx, cn, store_type_keep(t->sub[0]));
        return set_spec(c, idx, cn, store_type_keep(t));
    case SQL_BIND_TUPLE:
    case SQL_BIND_TUPLE_IN: {
        const store_type_t *types[64];
        wr_t nm;
        wr_init(&nm, 32);
        wr_u8(&nm, '(');
        uint32_t n = EDDY_MIN(e->bind.ncolumns, 64u);
        for (uint32_t i = 0; i < n; i++) {
            const store_column_t *tc = find_col(c, &e->bind.columns[i]);
            if (!tc) {
                wr_free(&nm);
                return cql_exec_fail(x, CQL_ERR_INVALID, "Undefined column name %s", e->bind.columns[i].name);
            }
            types[i] = tc->type;
            wr_fmt(&nm, "%s%s", i ? "," : "", tc->name);
        }
        wr_u8(&nm, ')');
        wr_u8(&nm, 0);
        const store_type_t *tt = store_type_tuple(types, n);
        char *name = wr_ok(&nm) ? arena_strndup(x->arena, (const char *)nm.buf, nm.len - 1) : NULL;
        wr_free(&nm);
        if (e->bind.role == SQL_BIND_TUPLE) return set_spec(c, idx, name, tt);
        const store_type_t *lt = tt ? store_type_list(tt, true) : NULL;
        store_type_release(tt);
        return set_spec(c, idx, name_fmt(x, "in(%s)", name ? name : "?"), lt);
    }
    case SQL_BIND_TOKEN: return set_spec(c, idx, "partition key token", store_type_native(STORE_T_BIGINT));
    case SQL_BIND_TTL: return set_spec(c, idx, "[ttl]", store_type_native(STORE_T_INT));
    case SQL_BIND_TIMESTAMP: return set_spec(c, idx, "[timestamp]", store_type_native(STORE_T_BIGINT));
    case SQL_BIND_LIMIT: return set_spec(c, idx, "[limit]", store_type_native(STORE_T_INT));
    case SQL_BIND_PER_PARTITION_LIMIT: return set_spec(c, idx, "[per_partition_limit]", store_type_native(STORE_T_INT));
    case SQL_BIND_JSON: return set_spec(c, idx, "[json]", store_type_native(STORE_T_TEXT));
    case SQL_BIND_UNKNOWN: return EDDY_OK; /* inferred from the enclosing call, or blob */
    }
    return EDDY_OK;
}

/* Markers inside function calls take the function's argument type. */
static int walk_col(pctx_t *c, const sql_expr_t *e, const store_type_t *receiver, const sql_ident_t *column);
static int walk(pctx_t *c, const sql_expr_t *e, const store_type_t *receiver) { return walk_col(c, e, receiver, NULL); }

static int walk_call(pctx_t *c, const sql_expr_t *e, const store_type_t *receiver) {
    const char *f = e->call.name.name.name;
    for (uint32_t i = 0; i < e->call.nargs; i++) {
        const sql_expr_t *a = e->call.args[i];
        const store_type_t *t = NULL;
        bool owned = false;
        size_t n = strlen(f);
        if (!strcasecmp(f, "fromjson")) t = store_type_native(STORE_T_TEXT);
        else if (!strcasecmp(f, "token") && c->info && i < c->info->npartition) t = c->info->columns[i].type;
        else if (!strcasecmp(f, "mintimeuuid") || !strcasecmp(f, "maxtimeuuid")) t = store_type_native(STORE_T_TIMESTAMP);
        else if (!strcasecmp(f, "totimestamp") || !strcasecmp(f, "todate") || !strcasecmp(f, "tounixtimestamp"))
            t = store_type_native(STORE_T_TIMEUUID);
        else if (n > 6 && !strncasecmp(f, "blobas", 6)) t = store_type_native(STORE_T_BLOB);
        else if (n > 6 && !strcasecmp(f + n - 6, "asblob")) {
            char err[64];
            if (store_type_parse(NULL, NULL, f, n - 6, &t, err, sizeof err) == EDDY_OK) owned = true;
        }
        int rc = walk(c, a, t);
        if (owned) store_type_release(t);
        if (rc != EDDY_OK) return rc;
    }
    (void)receiver;
    return EDDY_OK;
}

static int walk_col(pctx_t *c, const sql_expr_t *e, const store_type_t *receiver, const sql_ident_t *column) {
    if (!e) return EDDY_OK;
    switch (e->kind) {
    case SQL_EXPR_BIND:
        if (e->bind.role != SQL_BIND_UNKNOWN) return from_role(c, e, column);
        if (e->bind.name.name && e->bind.index < c->nbinds) c->binds[e->bind.index].name = e->bind.name.name;
        return receiver ? set_spec(c, e->bind.index, "?", store_type_keep(receiver)) : EDDY_OK;
    case SQL_EXPR_CALL: return walk_call(c, e, receiver);
    case SQL_EXPR_CAST:
    case SQL_EXPR_HINT: return walk(c, e->cast.arg, NULL);
    case SQL_EXPR_UNARY: return walk(c, e->bin.left, receiver);
    case SQL_EXPR_LIST:
    case SQL_EXPR_SET:
    case SQL_EXPR_TUPLE:
    case SQL_EXPR_MAP:
    case SQL_EXPR_UDT:
        for (uint32_t i = 0; i < e->coll.nitems; i++) {
            int rc = walk(c, e->coll.items[i], NULL);
            if (rc == EDDY_OK && e->coll.values) rc = walk(c, e->coll.values[i], NULL);
            if (rc != EDDY_OK) return rc;
        }
        return EDDY_OK;
    default: return EDDY_OK;
    }
}

static int walk_relations(pctx_t *c, const sql_relation_t *rels, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        const sql_relation_t *r = &rels[i];
        int rc = walk(c, r->value, NULL);
        for (uint32_t k = 0; rc == EDDY_OK && k < r->nin; k++) rc = walk(c, r->in_values[k], NULL);
        if (rc == EDDY_OK) rc = walk(c, r->in_marker, NULL);
        if (rc == EDDY_OK) rc = walk(c, r->key, NULL);
        if (rc != EDDY_OK) return rc;
    }
    return EDDY_OK;
}

static int walk_stmt(pctx_t *c, const sql_stmt_t *s) {
    int rc = EDDY_OK;
    switch (s->kind) {
    case SQL_STMT_SELECT: {
        const sql_select_t *q = &s->select;
        rc = walk_relations(c, q->where, q->nwhere);
        if (rc == EDDY_OK) rc = walk(c, q->limit, NULL);
        if (rc == EDDY_OK) rc = walk(c, q->per_partition_limit, NULL);
        return rc;
    }
    case SQL_STMT_INSERT: {
        const sql_insert_t *q = &s->insert;
        for (uint32_t i = 0; rc == EDDY_OK && i < q->nvalues; i++) rc = walk(c, q->values[i], NULL);
        if (rc == EDDY_OK) rc = walk(c, q->json, NULL);
        if (rc == EDDY_OK) rc = walk(c, q->using_.ttl, NULL);
        if (rc == EDDY_OK) rc = walk(c, q->using_.timestamp, NULL);
        return rc;
    }
    case SQL_STMT_UPDATE: {
        const sql_update_t *q = &s->update;
        if (rc == EDDY_OK) rc = walk(c, q->using_.ttl, NULL);
        if (rc == EDDY_OK) rc = walk(c, q->using_.timestamp, NULL);
        for (uint32_t i = 0; rc == EDDY_OK && i < q->nsets; i++) {
            rc = walk_col(c, q->sets[i].key, NULL, &q->sets[i].column);
            if (rc == EDDY_OK) rc = walk_col(c, q->sets[i].value, NULL, &q->sets[i].column);
        }
        if (rc == EDDY_OK) rc = walk_relations(c, q->where, q->nwhere);
        if (rc == EDDY_OK) rc = walk_relations(c, q->conditions, q->nconditions);
        return rc;
    }
    case SQL_STMT_DELETE: {
        const sql_delete_t *q = &s->delete_;
        for (uint32_t i = 0; rc == EDDY_OK && i < q->ntargets; i++) rc = walk(c, q->targets[i].key, NULL);
        if (rc == EDDY_OK) rc = walk(c, q->using_.timestamp, NULL);
        if (rc == EDDY_OK) rc = walk_relations(c, q->where, q->nwhere);
        if (rc == EDDY_OK) rc = walk_relations(c, q->conditions, q->nconditions);
        return rc;
    }
    default: return EDDY_OK;
    }
}

static const sql_qname_t *stmt_table(const sql_stmt_t *s) {
    switch (s->kind) {
    case SQL_STMT_SELECT: return &s->select.from[0].name;
    case SQL_STMT_INSERT: return &s->insert.table;
    case SQL_STMT_UPDATE: return &s->update.table;
    case SQL_STMT_DELETE: return &s->delete_.table;
    default: return NULL;
    }
}

/* Resolves the statement's table into c (virtual tables too); c->info NULL when none. */
static int bind_table(pctx_t *c, const sql_stmt_t *s, const char *keyspace) {
    const sql_qname_t *q = stmt_table(s);
    c->info = NULL;
    c->table = NULL;
    if (!q) return EDDY_OK;
    const char *ks = q->ks.name ? q->ks.name : keyspace;
    c->ks = ks;
    if (ks && cql_system_keyspace(ks)) {
        c->info = cql_system_table(ks, q->name.name);
        if (!c->info) return cql_exec_fail(c->x, CQL_ERR_INVALID, "table %s does not exist", q->name.name);
        return EDDY_OK;
    }
    cql_run_t r;
    memset(&r, 0, sizeof r);
    r.keyspace = keyspace;
    if (cql_resolve_table(c->x, &r, q, &c->table, &c->ks) != EDDY_OK) return EDDY_ERR_INVALID;
    c->info = store_table_info(c->table);
    return EDDY_OK;
}

/* The marker fed to partition key column i by `pk = ?` (or INSERT's VALUES), or -1. */
static int pk_marker(const pctx_t *c, const sql_stmt_t *s, size_t i) {
    const char *name = c->info->columns[i].name;
    if (s->kind == SQL_STMT_INSERT) {
        const sql_insert_t *q = &s->insert;
        for (uint32_t k = 0; k < q->ncolumns && k < q->nvalues; k++)
            if (!strcmp(q->columns[k].name, name) && q->values[k]->kind == SQL_EXPR_BIND) return (int)q->values[k]->bind.index;
        return -1;
    }
    const sql_relation_t *rels = s->kind == SQL_STMT_SELECT ? s->select.where
                               : s->kind == SQL_STMT_UPDATE ? s->update.where : s->delete_.where;
    uint32_t n = s->kind == SQL_STMT_SELECT ? s->select.nwhere : s->kind == SQL_STMT_UPDATE ? s->update.nwhere
                                                                                            : s->delete_.nwhere;
    for (uint32_t k = 0; k < n; k++) {
        const sql_relation_t *r = &rels[k];
        if (r->kind == SQL_REL_COLUMN && r->op == SQL_OP_EQ && !strcmp(r->columns[0].name, name) && r->value &&
            r->value->kind == SQL_EXPR_BIND)
            return (int)r->value->bind.index;
    }
    return -1;
}

int cql_prepare_binds(cql_exec_t *x, const sql_stmt_t *stmt, const char *keyspace, cql_bindspec_t **binds,
                      size_t *nbinds, uint16_t **pk, size_t *npk) {
    *binds = NULL;
    *nbinds = 0;
    *pk = NULL;
    *npk = 0;
    pctx_t c;
    memset(&c, 0, sizeof c);
    c.x = x;
    c.nbinds = stmt->nbinds;
    c.binds = arena_alloc(x->arena, (c.nbinds ? c.nbinds : 1) * sizeof *c.binds);
    if (!c.binds) return fail_nomem(x);
    memset(c.binds, 0, (c.nbinds ? c.nbinds : 1) * sizeof *c.binds);
    int rc = EDDY_OK;
    if (stmt->kind == SQL_STMT_BATCH) {
        /* The statements of a batch share one numbering of markers. */
        for (uint32_t i = 0; rc == EDDY_OK && i < stmt->batch.nstmts; i++) {
            const sql_stmt_t *sub = stmt->batch.stmts[i];
            rc = bind_table(&c, sub, keyspace);
            if (rc == EDDY_OK) rc = walk_stmt(&c, sub);
            if (rc == EDDY_OK && i == 0) rc = walk(&c, stmt->batch.using_.timestamp, NULL);
            store_table_release(c.table);
            c.table = NULL;
        }
    } else {
        rc = bind_table(&c, stmt, keyspace);
        if (rc == EDDY_OK) rc = walk_stmt(&c, stmt);
        /* pk_indexes: every partition key column fed by a marker, or none. */
        if (rc == EDDY_OK && c.info) {
            size_t n = c.info->npartition;
            uint16_t *idx = arena_alloc(x->arena, (n ? n : 1) * sizeof *idx);
            bool all = idx != NULL && n > 0;
            for (size_t i = 0; all && i < n; i++) {
                int m = pk_marker(&c, stmt, i);
                if (m < 0) all = false;
                else idx[i] = (uint16_t)m;
            }
            if (all) {
                *pk = idx;
                *npk = n;
            }
        }
        store_table_release(c.table);
    }
    /* Markers nothing could type (inside collection literals and the like) are blobs. */
    for (uint32_t i = 0; rc == EDDY_OK && i < c.nbinds; i++) {
        if (c.binds[i].type) continue;
        c.binds[i].keyspace = "";
        c.binds[i].table = "";
        if (!c.binds[i].name) c.binds[i].name = "?";
        c.binds[i].type = store_type_native(STORE_T_BLOB);
    }
    if (rc != EDDY_OK) {
        for (uint32_t i = 0; i < c.nbinds; i++) store_type_release(c.binds[i].type);
        return rc;
    }
    *binds = c.binds;
    *nbinds = c.nbinds;
    return EDDY_OK;
}
