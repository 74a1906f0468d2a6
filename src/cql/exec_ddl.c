/* Schema statements on the store's catalog: CREATE/ALTER/DROP KEYSPACE, TABLE and TYPE, and
 * TRUNCATE. Each answers Schema_change (the store's listener pushes the SCHEMA_CHANGE event to
 * registered connections and the schema version changes), Void when IF [NOT] EXISTS made it a
 * no-op, or Cassandra's error (Already_exists with its keyspace and table). */
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

static int fail_nomem(cql_exec_t *x) { return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory"); }

static void schema_change(cql_exec_t *x, const char *change, const char *target, const char *ks, const char *name) {
    wr_t *w = x->out;
    wr_i32(w, CQL_RESULT_SCHEMA_CHANGE);
    cql_wr_cstring(w, change);
    cql_wr_cstring(w, target);
    cql_wr_cstring(w, ks);
    if (strcmp(target, "KEYSPACE")) cql_wr_cstring(w, name);
}

static int ddl_result(cql_exec_t *x, int rc, bool changed, const char *err, const char *change, const char *target,
                      const char *ks, const char *name) {
    if (rc == EDDY_ERR_EXISTS) {
        snprintf(x->err_ks, sizeof x->err_ks, "%s", ks);
        snprintf(x->err_table, sizeof x->err_table, "%s", name && strcmp(target, "KEYSPACE") ? name : "");
    }
    if (rc != EDDY_OK) return cql_exec_fail_status(x, rc, err);
    if (changed) schema_change(x, change, target, ks, name);
    else wr_i32(x->out, CQL_RESULT_VOID);
    return EDDY_OK;
}

static const char *keyspace_of(cql_exec_t *x, const cql_run_t *r, const sql_qname_t *q) {
    const char *ks = q->ks.name ? q->ks.name : r->keyspace;
    if (!ks)
        cql_exec_fail(x, CQL_ERR_INVALID, "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename");
    else if (cql_system_keyspace(ks))
        cql_exec_fail(x, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.", ks);
    return x->err_code ? NULL : ks;
}

/* ---- options -------------------------------------------------------------------------------- */

static const char *literal_text(cql_exec_t *x, const sql_expr_t *e) {
    if (e->kind == SQL_EXPR_UNARY && e->op == SQL_OP_NEG && e->bin.left->kind == SQL_EXPR_LITERAL) {
        const char *t = literal_text(x, e->bin.left);
        if (!t) return NULL;
        size_t n = strlen(t) + 2;
        char *s = arena_alloc(x->arena, n);
        if (s) snprintf(s, n, "-%s", t);
        return s;
    }
    if (e->kind != SQL_EXPR_LITERAL) return NULL;
    switch (e->lit.kind) {
    case SQL_LIT_BOOLEAN: return e->lit.v.b ? "true" : "false";
    case SQL_LIT_NULL: return NULL;
    default: return arena_strndup(x->arena, e->lit.text, e->lit.len);
    }
}

static int option_map(cql_exec_t *x, const sql_option_t *o, store_strmap_t *m) {
    const sql_expr_t *v = o->value;
    memset(m, 0, sizeof *m);
    if (v->kind == SQL_EXPR_SET && v->coll.nitems == 0) return EDDY_OK;
    if (v->kind != SQL_EXPR_MAP) return cql_exec_fail(x, CQL_ERR_SYNTAX, "Invalid value for property '%s': expected a map", o->name.name);
    const char **keys = arena_alloc(x->arena, (v->coll.nitems + 1) * sizeof *keys);
    const char **vals = arena_alloc(x->arena, (v->coll.nitems + 1) * sizeof *vals);
    if (!keys || !vals) return fail_nomem(x);
    for (uint32_t i = 0; i < v->coll.nitems; i++) {
        keys[i] = literal_text(x, v->coll.items[i]);
        vals[i] = literal_text(x, v->coll.values[i]);
        if (!keys[i] || !vals[i])
            return cql_exec_fail(x, CQL_ERR_SYNTAX, "Invalid value for property '%s': map entries must be constants", o->name.name);
    }
    m->n = v->coll.nitems;
    m->keys = keys;
    m->values = vals;
    return EDDY_OK;
}

/* WITH options of CREATE/ALTER TABLE as the store takes them. */
static int table_options(cql_exec_t *x, const sql_option_t *opts, uint32_t n, store_option_t **out, size_t *nout) {
    *out = arena_alloc(x->arena, (n ? n : 1) * sizeof **out);
    if (!*out) return fail_nomem(x);
    *nout = 0;
    for (uint32_t i = 0; i < n; i++) {
        const sql_option_t *o = &opts[i];
        store_option_t *so = &(*out)[(*nout)++];
        memset(so, 0, sizeof *so);
        so->name = o->name.name;
        if (o->value->kind == SQL_EXPR_MAP || o->value->kind == SQL_EXPR_SET) {
            store_strmap_t *m = arena_alloc(x->arena, sizeof *m);
            if (!m) return fail_nomem(x);
            if (option_map(x, o, m) != EDDY_OK) return EDDY_ERR_INVALID;
            so->map = m;
        } else {
            so->text = literal_text(x, o->value);
            if (!so->text) return cql_exec_fail(x, CQL_ERR_SYNTAX, "Invalid value for property '%s'", o->name.name);
        }
    }
    return EDDY_OK;
}

/* A CQL type from the AST, resolved in keyspace ks (a reference: release it). */
static int parse_type(cql_exec_t *x, const store_schema_t *schema, const char *ks, const sql_type_t *t,
                      const store_type_t **out) {
    wr_t w;
    wr_init(&w, 32);
    sql_print_type(&w, t);
    char err[512];
    int rc = wr_ok(&w) ? store_type_parse(schema, ks, (const char *)w.buf, w.len, out, err, sizeof err) : EDDY_ERR_NOMEM;
    wr_free(&w);
    if (rc != EDDY_OK) return cql_exec_fail_status(x, rc, rc == EDDY_ERR_NOMEM ? "out of memory" : err);
    return EDDY_OK;
}

/* ---- keyspaces ------------------------------------------------------------------------------ */

static int keyspace_options(cql_exec_t *x, const sql_keyspace_t *k, store_strmap_t *repl, bool *have_repl, int *durable) {
    *have_repl = false;
    *durable = -1;
    for (uint32_t i = 0; i < k->noptions; i++) {
        const sql_option_t *o = &k->options[i];
        if (!strcasecmp(o->name.name, "replication")) {
            if (option_map(x, o, repl) != EDDY_OK) return EDDY_ERR_INVALID;
            *have_repl = true;
        } else if (!strcasecmp(o->name.name, "durable_writes")) {
            const char *t = literal_text(x, o->value);
            if (!t || (strcasecmp(t, "true") && strcasecmp(t, "false")))
                return cql_exec_fail(x, CQL_ERR_SYNTAX, "Invalid boolean value for durable_writes");
            *durable = !strcasecmp(t, "true");
        } else {
            return cql_exec_fail(x, CQL_ERR_SYNTAX, "Unknown property '%s'", o->name.name);
        }
    }
    return EDDY_OK;
}

static int create_keyspace(cql_exec_t *x, const cql_run_t *r) {
    const sql_keyspace_t *k = &r->stmt->keyspace;
    if (cql_system_keyspace(k->name.name))
        return cql_exec_fail(x, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.", k->name.name);
    store_strmap_t repl;
    bool have;
    int durable;
    if (keyspace_options(x, k, &repl, &have, &durable) != EDDY_OK) return EDDY_ERR_INVALID;
    if (!have) return cql_exec_fail(x, CQL_ERR_CONFIG, "Missing mandatory option 'replication'");
    bool changed = false;
    char err[512];
    int rc = store_keyspace_create(cql_server_store(x->srv), k->name.name, &repl, durable != 0, k->if_not_exists, &changed,
                                   err, sizeof err);
    return ddl_result(x, rc, changed, err, "CREATED", "KEYSPACE", k->name.name, NULL);
}

static int alter_keyspace(cql_exec_t *x, const cql_run_t *r) {
    const sql_keyspace_t *k = &r->stmt->keyspace;
    if (cql_system_keyspace(k->name.name))
        return cql_exec_fail(x, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.", k->name.name);
    store_strmap_t repl;
    bool have;
    int durable;
    if (keyspace_options(x, k, &repl, &have, &durable) != EDDY_OK) return EDDY_ERR_INVALID;
    bool changed = false;
    char err[512];
    int rc = store_keyspace_alter(cql_server_store(x->srv), k->name.name, have ? &repl : NULL, durable, &changed, err,
                                  sizeof err);
    if (rc == EDDY_ERR_NOT_FOUND && k->if_not_exists) { /* ALTER KEYSPACE IF EXISTS */
        wr_i32(x->out, CQL_RESULT_VOID);
        return EDDY_OK;
    }
    return ddl_result(x, rc, changed, err, "UPDATED", "KEYSPACE", k->name.name, NULL);
}

/* ---- tables --------------------------------------------------------------------------------- */

static int create_table(cql_exec_t *x, const cql_run_t *r) {
    const sql_create_table_t *ct = &r->stmt->create_table;
    const char *ks = keyspace_of(x, r, &ct->name);
    if (!ks) return EDDY_ERR_INVALID;
    store_t *st = cql_server_store(x->srv);
    store_schema_t *schema = store_schema_get(st);
    size_t n = ct->ncolumns;
    store_column_spec_t *specs = arena_alloc(x->arena, (n ? n : 1) * sizeof *specs);
    if (!specs) {
        store_schema_release(schema);
        return fail_nomem(x);
    }
    size_t nspecs = 0;
    int rc = EDDY_OK;
    /* Key columns first, in key order, then the others in the order written. */
    for (int pass = 0; pass < 3 && rc == EDDY_OK; pass++) {
        const sql_ident_t *names = pass == 0 ? ct->partition_key : pass == 1 ? ct->clustering : NULL;
        uint32_t nnames = pass == 0 ? ct->npartition_key : pass == 1 ? ct->nclustering : (uint32_t)n;
        for (uint32_t i = 0; i < nnames && rc == EDDY_OK; i++) {
            const sql_column_def_t *def = NULL;
            if (pass < 2) {
                for (size_t k = 0; k < n && !def; k++)
                    if (!strcmp(ct->columns[k].name.name, names[i].name)) def = &ct->columns[k];
                if (!def) {
                    rc = cql_exec_fail(x, CQL_ERR_INVALID, "Unknown definition %s referenced in PRIMARY KEY", names[i].name);
                    break;
                }
            } else {
                def = &ct->columns[i];
                bool is_key = false;
                for (uint32_t k = 0; k < ct->npartition_key; k++) is_key |= !strcmp(ct->partition_key[k].name, def->name.name);
                for (uint32_t k = 0; k < ct->nclustering; k++) is_key |= !strcmp(ct->clustering[k].name, def->name.name);
                if (is_key) continue;
            }
            store_column_spec_t *s = &specs[nspecs];
            memset(s, 0, sizeof *s);
            s->name = def->name.name;
            if (parse_type(x, schema, ks, def->type, &s->type) != EDDY_OK) {
                rc = EDDY_ERR_INVALID;
                break;
            }
            nspecs++;
            s->kind = pass == 0 ? STORE_COL_PARTITION_KEY : pass == 1 ? STORE_COL_CLUSTERING
                    : def->is_static ? STORE_COL_STATIC : STORE_COL_REGULAR;
            if (pass == 1) {
                for (uint32_t k = 0; k < ct->norder; k++)
                    if (!strcmp(ct->order[k].column.name, def->name.name)) s->desc = ct->order[k].desc;
            }
        }
    }
    for (uint32_t k = 0; rc == EDDY_OK && k < ct->norder; k++) {
        if (k >= ct->nclustering || strcmp(ct->order[k].column.name, ct->clustering[k].name))
            rc = cql_exec_fail(x, CQL_ERR_INVALID, "Columns in the CLUSTERING ORDER directive must be in same order as the clustering primary key");
    }
    store_option_t *opts = NULL;
    size_t nopts = 0;
    if (rc == EDDY_OK) rc = table_options(x, ct->options, ct->noptions, &opts, &nopts);
    bool changed = false;
    char err[512];
    if (rc == EDDY_OK) {
        rc = store_table_create(st, ks, ct->name.name.name, specs, nspecs, opts, nopts, ct->if_not_exists, &changed, err,
                                sizeof err);
        rc = ddl_result(x, rc, changed, err, "CREATED", "TABLE", ks, ct->name.name.name);
    }
    for (size_t i = 0; i < nspecs; i++) store_type_release(specs[i].type);
    store_schema_release(schema);
    return rc;
}

static int alter_table(cql_exec_t *x, const cql_run_t *r) {
    const sql_alter_t *al = &r->stmt->alter;
    const char *ks = keyspace_of(x, r, &al->name);
    if (!ks) return EDDY_ERR_INVALID;
    store_t *st = cql_server_store(x->srv);
    const char *name = al->name.name.name;
    store_alter_op_t op;
    size_t n = 0;
    store_column_spec_t *specs = NULL;
    store_option_t *opts = NULL;
    size_t nopts = 0;
    int64_t dropped_time = 0;
    int rc = EDDY_OK;
    store_schema_t *schema = store_schema_get(st);
    switch (al->kind) {
    case SQL_ALTER_ADD:
        op = STORE_ALTER_ADD;
        specs = arena_alloc(x->arena, (al->ncolumns ? al->ncolumns : 1) * sizeof *specs);
        if (!specs) rc = fail_nomem(x);
        for (uint32_t i = 0; rc == EDDY_OK && i < al->ncolumns; i++) {
            memset(&specs[i], 0, sizeof specs[i]);
            specs[i].name = al->columns[i].name.name;
            specs[i].kind = al->columns[i].is_static ? STORE_COL_STATIC : STORE_COL_REGULAR;
            if (parse_type(x, schema, ks, al->columns[i].type, &specs[i].type) != EDDY_OK) rc = EDDY_ERR_INVALID;
            else n++;
        }
        break;
    case SQL_ALTER_DROP: {
        op = STORE_ALTER_DROP;
        specs = arena_alloc(x->arena, (al->nnames ? al->nnames : 1) * sizeof *specs);
        if (!specs) rc = fail_nomem(x);
        for (uint32_t i = 0; rc == EDDY_OK && i < al->nnames; i++) {
            memset(&specs[i], 0, sizeof specs[i]);
            specs[i].name = al->names[i].name;
        }
        bool present;
        if (rc == EDDY_OK) rc = cql_term_int(x, r, al->timestamp, "[timestamp]", &present, &dropped_time);
        if (specs && rc == EDDY_OK) n = al->nnames;
        break;
    }
    case SQL_ALTER_RENAME:
        op = STORE_ALTER_RENAME;
        specs = arena_alloc(x->arena, (al->nnames ? 2 * (size_t)al->nnames : 1) * sizeof *specs);
        if (!specs) rc = fail_nomem(x);
        for (uint32_t i = 0; rc == EDDY_OK && i < al->nnames; i++) {
            memset(&specs[2 * i], 0, 2 * sizeof *specs);
            specs[2 * i].name = al->names[i].name;
            specs[2 * i + 1].name = al->to[i].name;
        }
        if (specs) n = 2 * (size_t)al->nnames;
        break;
    case SQL_ALTER_OPTIONS:
        op = STORE_ALTER_OPTIONS;
        rc = table_options(x, al->options, al->noptions, &opts, &nopts);
        break;
    case SQL_ALTER_TYPE:
        rc = cql_exec_fail(x, CQL_ERR_INVALID, "Altering column types is no longer supported");
        op = STORE_ALTER_OPTIONS;
        break;
    default:
        rc = cql_exec_fail(x, CQL_ERR_INVALID, "DROP COMPACT STORAGE is not supported: eddy has no compact tables");
        op = STORE_ALTER_OPTIONS;
        break;
    }
    bool changed = false;
    char err[512];
    if (rc == EDDY_OK) {
        rc = store_table_alter(st, ks, name, op, specs, n, opts, nopts, dropped_time, al->if_exists, &changed, err, sizeof err);
        rc = ddl_result(x, rc, changed, err, "UPDATED", "TABLE", ks, name);
    }
    if (al->kind == SQL_ALTER_ADD)
        for (size_t i = 0; i < n; i++) store_type_release(specs[i].type);
    store_schema_release(schema);
    return rc;
}

/* ---- types ---------------------------------------------------------------------------------- */

static int create_type(cql_exec_t *x, const cql_run_t *r) {
    const sql_create_type_t *ct = &r->stmt->create_type;
    const char *ks = keyspace_of(x, r, &ct->name);
    if (!ks) return EDDY_ERR_INVALID;
    store_t *st = cql_server_store(x->srv);
    store_schema_t *schema = store_schema_get(st);
    size_t n = ct->nfields;
    const char **names = arena_alloc(x->arena, (n ? n : 1) * sizeof *names);
    const store_type_t **types = arena_alloc(x->arena, (n ? n : 1) * sizeof *types);
    int rc = names && types ? EDDY_OK : fail_nomem(x);
    size_t parsed = 0;
    for (size_t i = 0; rc == EDDY_OK && i < n; i++) {
        names[i] = ct->fields[i].name.name;
        if (parse_type(x, schema, ks, ct->fields[i].type, &types[i]) != EDDY_OK) rc = EDDY_ERR_INVALID;
        else parsed++;
    }
    bool changed = false;
    char err[512];
    if (rc == EDDY_OK) {
        rc = store_udt_create(st, ks, ct->name.name.name, names, types, n, ct->if_not_exists, &changed, err, sizeof err);
        rc = ddl_result(x, rc, changed, err, "CREATED", "TYPE", ks, ct->name.name.name);
    }
    for (size_t i = 0; i < parsed; i++) store_type_release(types[i]);
    store_schema_release(schema);
    return rc;
}

static int alter_type(cql_exec_t *x, const cql_run_t *r) {
    const sql_alter_t *al = &r->stmt->alter;
    const char *ks = keyspace_of(x, r, &al->name);
    if (!ks) return EDDY_ERR_INVALID;
    store_t *st = cql_server_store(x->srv);
    const char *name = al->name.name.name;
    bool changed = false;
    char err[512];
    int rc;
    if (al->kind == SQL_ALTER_ADD && al->ncolumns == 1) {
        store_schema_t *schema = store_schema_get(st);
        const store_type_t *t;
        rc = parse_type(x, schema, ks, al->columns[0].type, &t);
        store_schema_release(schema);
        if (rc != EDDY_OK) return rc;
        rc = store_udt_alter_add(st, ks, name, al->columns[0].name.name, t, &changed, err, sizeof err);
        store_type_release(t);
    } else if (al->kind == SQL_ALTER_RENAME) {
        const char **names = arena_alloc(x->arena, (al->nnames ? 2 * (size_t)al->nnames : 1) * sizeof *names);
        if (!names) return fail_nomem(x);
        for (uint32_t i = 0; i < al->nnames; i++) {
            names[2 * i] = al->names[i].name;
            names[2 * i + 1] = al->to[i].name;
        }
        rc = store_udt_alter_rename(st, ks, name, names, al->nnames, &changed, err, sizeof err);
    } else {
        return cql_exec_fail(x, CQL_ERR_INVALID, "ALTER TYPE supports ADD field and RENAME fields");
    }
    return ddl_result(x, rc, changed, err, "UPDATED", "TYPE", ks, name);
}

/* ---- the entry ------------------------------------------------------------------------------ */

int cql_exec_ddl(cql_exec_t *x, const cql_run_t *r) {
    const sql_stmt_t *s = r->stmt;
    store_t *st = cql_server_store(x->srv);
    bool changed = false;
    char err[512];
    int rc;
    switch (s->kind) {
    case SQL_STMT_CREATE_KEYSPACE: return create_keyspace(x, r);
    case SQL_STMT_ALTER_KEYSPACE: return alter_keyspace(x, r);
    case SQL_STMT_DROP_KEYSPACE: {
        const char *ks = s->named.name.name.name;
        if (cql_system_keyspace(ks)) return cql_exec_fail(x, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.", ks);
        rc = store_keyspace_drop(st, ks, s->named.if_exists, &changed, err, sizeof err);
        if (rc == EDDY_OK && changed && !strcmp(x->sc->keyspace, ks)) x->sc->keyspace[0] = 0;
        return ddl_result(x, rc, changed, err, "DROPPED", "KEYSPACE", ks, NULL);
    }
    case SQL_STMT_CREATE_TABLE: return create_table(x, r);
    case SQL_STMT_ALTER_TABLE: return alter_table(x, r);
    case SQL_STMT_DROP_TABLE: {
        const char *ks = keyspace_of(x, r, &s->named.name);
        if (!ks) return EDDY_ERR_INVALID;
        rc = store_table_drop(st, ks, s->named.name.name.name, s->named.if_exists, &changed, err, sizeof err);
        return ddl_result(x, rc, changed, err, "DROPPED", "TABLE", ks, s->named.name.name.name);
    }
    case SQL_STMT_TRUNCATE: {
        const char *ks = keyspace_of(x, r, &s->named.name);
        if (!ks) return EDDY_ERR_INVALID;
        rc = store_table_truncate(st, ks, s->named.name.name.name, err, sizeof err);
        if (rc != EDDY_OK) return cql_exec_fail_status(x, rc, err);
        wr_i32(x->out, CQL_RESULT_VOID);
        return EDDY_OK;
    }
    case SQL_STMT_CREATE_TYPE: return create_type(x, r);
    case SQL_STMT_ALTER_TYPE: return alter_type(x, r);
    case SQL_STMT_DROP_TYPE: {
        const char *ks = keyspace_of(x, r, &s->named.name);
        if (!ks) return EDDY_ERR_INVALID;
        rc = store_udt_drop(st, ks, s->named.name.name.name, s->named.if_exists, &changed, err, sizeof err);
        return ddl_result(x, rc, changed, err, "DROPPED", "TYPE", ks, s->named.name.name.name);
    }
    default: return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported statement");
    }
}
