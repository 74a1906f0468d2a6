/* SELECT: the WHERE clause becomes a store query (partition keys from = and IN, a token range from
 * token() bounds, clustering ranges from = / IN prefixes and a slice) plus filters for the rest,
 * which Cassandra only runs with ALLOW FILTERING (and refuses with its exact message otherwise).
 * Rows stream from a store iterator (or from a virtual table's generated rows) through the
 * selection into the Rows result, with the store's self-contained paging state. */
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

#define MAX_KEYS 65536
#define MAX_RANGES 65536

static const char *const ALLOW_FILTERING_MSG =
    "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. "
    "If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING";

typedef struct {
    int col;
    sql_op_t op;
    const store_type_t *vtype;  /* what the values are (element type for CONTAINS) */
    cql_term_t *vals;
    size_t nvals;
    cql_term_t key;             /* m[key] = v */
    bool element;
} filter_t;

/* Restrictions on one key column. */
typedef struct {
    cql_term_t *eq;             /* = or IN candidates */
    size_t neq;
    bool has_eq;
    bool has_slice;
} keyrest_t;

typedef struct {
    cql_exec_t *x;
    const cql_run_t *r;
    const sql_select_t *q;
    const store_table_info_t *info;
    const char *ks;
    bool is_virtual;
    keyrest_t kr[64];
    /* slice on the clustering column after the = prefix (or a multi-column slice) */
    size_t slice_col;           /* first clustering index the slice bounds cover */
    eddy_view_t lo[64], hi[64];
    size_t nlo, nhi;
    bool lo_incl, hi_incl;
    /* multi-column = / IN on clustering columns: tuples of prefix values */
    eddy_view_t *tuple_eq;      /* ntuple_eq * tuple_len */
    size_t ntuple_eq, tuple_len;
    bool has_tuple_eq;
    /* token */
    store_query_t sq;
    filter_t *filters;
    size_t nfilters;
    bool need_filtering;
} plan_t;

/* ---- filters -------------------------------------------------------------------------------- */

static int cmp(const store_type_t *t, const store_cell_t *c, const cql_term_t *v) {
    return store_value_compare(t, c->ptr, c->len, v->ptr, v->len);
}

/* Whether a collection cell holds v (as an element, a map value, or with keys a map key). */
static bool contains(const store_type_t *t, const store_cell_t *c, const cql_term_t *v, bool keys) {
    eddy_view_t elems[256];
    long n = store_value_elements(t, c->ptr, c->len, NULL, 0);
    if (n <= 0) return false;
    eddy_view_t *el = (size_t)n <= EDDY_ARRAY_LEN(elems) ? elems : eddy_malloc((size_t)n * sizeof *el);
    if (!el) return false;
    store_value_elements(t, c->ptr, c->len, el, (size_t)n);
    bool map = t->kind == STORE_T_MAP;
    const store_type_t *et = map ? (keys ? t->sub[0] : t->sub[1]) : t->sub[0];
    bool found = false;
    for (long i = map ? (keys ? 0 : 1) : 0; i < n && !found; i += map ? 2 : 1)
        found = store_value_compare(et, el[i].ptr, el[i].len, v->ptr, v->len) == 0;
    if (el != elems) eddy_free(el);
    return found;
}

static bool filter_one(const filter_t *f, const store_table_info_t *info, const store_row_t *row) {
    const store_cell_t *c = &row->cells[f->col];
    if (!c->ptr) return false;
    const store_type_t *t = info->columns[f->col].type;
    if (f->element) {
        /* m[key] op v: find the entry */
        eddy_view_t elems[256];
        long n = store_value_elements(t, c->ptr, c->len, NULL, 0);
        if (n <= 0 || (size_t)n > EDDY_ARRAY_LEN(elems)) return false;
        store_value_elements(t, c->ptr, c->len, elems, (size_t)n);
        for (long i = 0; i + 1 < n; i += 2) {
            if (store_value_compare(t->sub[0], elems[i].ptr, elems[i].len, f->key.ptr, f->key.len)) continue;
            store_cell_t vc = {elems[i + 1].ptr, elems[i + 1].len, 0, 0};
            int d = cmp(t->sub[1], &vc, &f->vals[0]);
            switch (f->op) {
            case SQL_OP_EQ: return d == 0;
            case SQL_OP_LT: return d < 0;
            case SQL_OP_LE: return d <= 0;
            case SQL_OP_GT: return d > 0;
            case SQL_OP_GE: return d >= 0;
            default: return false;
            }
        }
        return false;
    }
    switch (f->op) {
    case SQL_OP_EQ: return cmp(t, c, &f->vals[0]) == 0;
    case SQL_OP_LT: return cmp(t, c, &f->vals[0]) < 0;
    case SQL_OP_LE: return cmp(t, c, &f->vals[0]) <= 0;
    case SQL_OP_GT: return cmp(t, c, &f->vals[0]) > 0;
    case SQL_OP_GE: return cmp(t, c, &f->vals[0]) >= 0;
    case SQL_OP_IN:
        for (size_t i = 0; i < f->nvals; i++)
            if (cmp(t, c, &f->vals[i]) == 0) return true;
        return false;
    case SQL_OP_CONTAINS: return contains(t, c, &f->vals[0], false);
    case SQL_OP_CONTAINS_KEY: return contains(t, c, &f->vals[0], true);
    default: return false;
    }
}

static int store_filter(void *arg, const store_row_t *row) {
    const plan_t *p = arg;
    for (size_t i = 0; i < p->nfilters; i++)
        if (!filter_one(&p->filters[i], p->info, row)) return 0;
    return 1;
}

/* ---- restrictions --------------------------------------------------------------------------- */

static int fail_nomem(cql_exec_t *x) { return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory"); }

static int column_index(plan_t *p, const sql_ident_t *id) {
    for (size_t i = 0; i < p->info->ncolumns; i++)
        if (!strcmp(p->info->columns[i].name, id->name)) return (int)i;
    cql_exec_fail(p->x, CQL_ERR_INVALID, "Undefined column name %s in table %s.%s", id->name, p->ks, p->info->name);
    return -1;
}

static bool is_key(const plan_t *p, int col) { return (size_t)col < p->info->npartition + p->info->nclustering; }

/* The values of rel's right side as type t: one for comparisons, several for IN. */
static int rel_values(plan_t *p, const sql_relation_t *rel, const store_type_t *t, const char *name, cql_term_t **vals,
                      size_t *n) {
    cql_exec_t *x = p->x;
    if (rel->op == SQL_OP_IN && rel->in_marker) {
        const store_type_t *lt = store_type_list(t, true);
        if (!lt) return fail_nomem(x);
        cql_term_t lv;
        int rc = cql_term_eval(x, p->r, rel->in_marker, lt, name, &lv);
        if (rc == EDDY_OK && (lv.null || lv.unset)) rc = cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value for IN restriction");
        long cnt = rc == EDDY_OK ? store_value_elements(lt, lv.ptr, lv.len, NULL, 0) : 0;
        if (rc == EDDY_OK && cnt >= 0) {
            eddy_view_t *el = arena_alloc(x->arena, (size_t)(cnt ? cnt : 1) * sizeof *el);
            *vals = arena_alloc(x->arena, (size_t)(cnt ? cnt : 1) * sizeof **vals);
            if (!el || !*vals) rc = fail_nomem(x);
            else {
                store_value_elements(lt, lv.ptr, lv.len, el, (size_t)cnt);
                for (long k = 0; k < cnt; k++) (*vals)[k] = (cql_term_t){el[k].ptr, el[k].len, false, false};
                *n = (size_t)cnt;
            }
        }
        store_type_release(lt);
        return rc;
    }
    size_t cnt = rel->op == SQL_OP_IN ? rel->nin : 1;
    *vals = arena_alloc(x->arena, (cnt ? cnt : 1) * sizeof **vals);
    if (!*vals) return fail_nomem(x);
    for (size_t k = 0; k < cnt; k++) {
        const sql_expr_t *e = rel->op == SQL_OP_IN ? rel->in_values[k] : rel->value;
        if (cql_term_eval(x, p->r, e, t, name, &(*vals)[k]) != EDDY_OK) return EDDY_ERR_INVALID;
        if ((*vals)[k].unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid unset value for column %s", name);
        if ((*vals)[k].null) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value in condition for column %s", name);
    }
    *n = cnt;
    return EDDY_OK;
}

static int add_filter(plan_t *p, const sql_relation_t *rel, int col) {
    cql_exec_t *x = p->x;
    const store_column_t *c = &p->info->columns[col];
    filter_t *f = &p->filters[p->nfilters];
    memset(f, 0, sizeof *f);
    f->col = col;
    f->op = rel->op;
    f->vtype = c->type;
    switch (rel->op) {
    case SQL_OP_EQ: case SQL_OP_LT: case SQL_OP_LE: case SQL_OP_GT: case SQL_OP_GE: case SQL_OP_IN: break;
    case SQL_OP_CONTAINS:
        if (!store_type_is_collection(c->type))
            return cql_exec_fail(x, CQL_ERR_INVALID, "Cannot use CONTAINS on non-collection column %s", c->name);
        f->vtype = c->type->kind == STORE_T_MAP ? c->type->sub[1] : c->type->sub[0];
        break;
    case SQL_OP_CONTAINS_KEY:
        if (c->type->kind != STORE_T_MAP)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Cannot use CONTAINS KEY on non-map column %s", c->name);
        f->vtype = c->type->sub[0];
        break;
    case SQL_OP_NE: return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported \"!=\" relation: %s != ...", c->name);
    case SQL_OP_LIKE: return cql_exec_fail(x, CQL_ERR_INVALID, "LIKE restriction is only supported on properly indexed columns. %s LIKE ... is not valid.", c->name);
    case SQL_OP_IS_NOT_NULL: return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported restriction: %s IS NOT NULL", c->name);
    default: return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported restriction on %s", c->name);
    }
    if (rel->kind == SQL_REL_ELEMENT) {
        if (c->type->kind != STORE_T_MAP)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Column %s cannot be used as a map", c->name);
        f->element = true;
        if (cql_term_eval(x, p->r, rel->key, c->type->sub[0], c->name, &f->key) != EDDY_OK) return EDDY_ERR_INVALID;
        if (f->key.null || f->key.unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null map key for %s", c->name);
        f->vtype = c->type->sub[1];
    }
    if (rel_values(p, rel, f->vtype, c->name, &f->vals, &f->nvals) != EDDY_OK) return EDDY_ERR_INVALID;
    p->nfilters++;
    return EDDY_OK;
}

/* token(pk...) op value: the value is a bigint term or token(values...). */
static int token_rel(plan_t *p, const sql_relation_t *rel) {
    cql_exec_t *x = p->x;
    const store_table_info_t *info = p->info;
    if (rel->ncolumns != info->npartition)
        return cql_exec_fail(x, CQL_ERR_INVALID, "The token() function must be applied to all partition key components or none of them");
    for (uint32_t i = 0; i < rel->ncolumns; i++) {
        int col = column_index(p, &rel->columns[i]);
        if (col < 0) return EDDY_ERR_INVALID;
        if ((size_t)col != i)
            return cql_exec_fail(x, CQL_ERR_INVALID, "The token function arguments must be in the partition key order: %s",
                                 info->columns[0].name);
    }
    int64_t tok;
    const sql_expr_t *v = rel->value;
    if (v && v->kind == SQL_EXPR_CALL && !strcasecmp(v->call.name.name.name, "token")) {
        if (v->call.nargs != info->npartition)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid number of arguments in call to function system.token");
        eddy_view_t pk[64];
        for (uint32_t i = 0; i < v->call.nargs; i++) {
            cql_term_t t;
            if (cql_term_eval(x, p->r, v->call.args[i], info->columns[i].type, info->columns[i].name, &t) != EDDY_OK)
                return EDDY_ERR_INVALID;
            if (t.null || t.unset) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value for token()");
            pk[i] = eddy_view(t.ptr, t.len);
        }
        tok = store_token(p->sq.table, pk);
    } else {
        if (!v) return cql_exec_fail(x, CQL_ERR_INVALID, "IN is not supported on token()");
        cql_term_t t;
        if (cql_term_eval(x, p->r, v, store_type_native(STORE_T_BIGINT), "partition key token", &t) != EDDY_OK)
            return EDDY_ERR_INVALID;
        if (t.null || t.unset || t.len != 8) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value for partition key token");
        tok = (int64_t)load_u64(t.ptr);
    }
    store_query_t *q = &p->sq;
    switch (rel->op) {
    case SQL_OP_EQ:
        q->token_lo_set = q->token_hi_set = true;
        q->token_lo_inclusive = q->token_hi_inclusive = true;
        q->token_lo = q->token_hi = tok;
        break;
    case SQL_OP_GT:
    case SQL_OP_GE:
        q->token_lo_set = true;
        q->token_lo = tok;
        q->token_lo_inclusive = rel->op == SQL_OP_GE;
        break;
    case SQL_OP_LT:
    case SQL_OP_LE:
        q->token_hi_set = true;
        q->token_hi = tok;
        q->token_hi_inclusive = rel->op == SQL_OP_LE;
        break;
    default: return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported operator %s on token()", sql_op_name(rel->op));
    }
    return EDDY_OK;
}

/* (c1, c2) op (v1, v2): multi-column relations on clustering columns from the first. */
static int tuple_rel(plan_t *p, const sql_relation_t *rel) {
    cql_exec_t *x = p->x;
    const store_table_info_t *info = p->info;
    const store_type_t *types[64];
    for (uint32_t i = 0; i < rel->ncolumns; i++) {
        int col = column_index(p, &rel->columns[i]);
        if (col < 0) return EDDY_ERR_INVALID;
        if (info->columns[col].kind != STORE_COL_CLUSTERING)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Multi-column relations can only be applied to clustering columns but was applied to: %s",
                                 info->columns[col].name);
        if ((size_t)col != info->npartition + i)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Clustering columns must appear in the PRIMARY KEY order in multi-column relations");
        types[i] = info->columns[col].type;
    }
    const store_type_t *tt = store_type_tuple(types, rel->ncolumns);
    if (!tt) return fail_nomem(x);
    cql_term_t *vals;
    size_t n;
    int rc = rel_values(p, rel, tt, "tuple", &vals, &n);
    if (rc != EDDY_OK) {
        store_type_release(tt);
        return rc;
    }
    /* Each value is a tuple: split it into its fields. */
    eddy_view_t *fields = arena_alloc(x->arena, n * rel->ncolumns * sizeof *fields);
    for (size_t k = 0; fields && k < n; k++) {
        if (store_value_elements(tt, vals[k].ptr, vals[k].len, fields + k * rel->ncolumns, rel->ncolumns) != (long)rel->ncolumns)
            rc = cql_exec_fail(x, CQL_ERR_INVALID, "Invalid tuple value for (%s, ...)", info->columns[info->npartition].name);
        for (uint32_t i = 0; rc == EDDY_OK && i < rel->ncolumns; i++)
            if (!fields[k * rel->ncolumns + i].ptr) rc = cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value in multi-column relation");
    }
    store_type_release(tt);
    if (rc != EDDY_OK) return rc;
    if (!fields) return fail_nomem(x);
    if (rel->op == SQL_OP_EQ || rel->op == SQL_OP_IN) {
        if (p->has_tuple_eq) return cql_exec_fail(x, CQL_ERR_INVALID, "Clustering columns cannot be restricted by more than one multi-column relation with = or IN");
        p->has_tuple_eq = true;
        p->tuple_eq = fields;
        p->ntuple_eq = n;
        p->tuple_len = rel->ncolumns;
        return EDDY_OK;
    }
    bool lower = rel->op == SQL_OP_GT || rel->op == SQL_OP_GE;
    if (lower) {
        memcpy(p->lo, fields, rel->ncolumns * sizeof *fields);
        p->nlo = rel->ncolumns;
        p->lo_incl = rel->op == SQL_OP_GE;
    } else if (rel->op == SQL_OP_LT || rel->op == SQL_OP_LE) {
        memcpy(p->hi, fields, rel->ncolumns * sizeof *fields);
        p->nhi = rel->ncolumns;
        p->hi_incl = rel->op == SQL_OP_LE;
    } else {
        return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported operator %s in a multi-column relation", sql_op_name(rel->op));
    }
    p->slice_col = 0;
    return EDDY_OK;
}

static int analyze(plan_t *p) {
    cql_exec_t *x = p->x;
    const sql_select_t *q = p->q;
    const store_table_info_t *info = p->info;
    size_t nkey = info->npartition + info->nclustering;
    if (nkey > 64) return cql_exec_fail(x, CQL_ERR_INVALID, "Too many key columns");
    p->filters = arena_alloc(x->arena, (q->nwhere ? q->nwhere : 1) * sizeof *p->filters);
    if (!p->filters) return fail_nomem(x);
    p->slice_col = SIZE_MAX;
    for (uint32_t i = 0; i < q->nwhere; i++) {
        const sql_relation_t *rel = &q->where[i];
        if (rel->kind == SQL_REL_TOKEN) {
            if (p->is_virtual) return cql_exec_fail(x, CQL_ERR_INVALID, "token() restrictions are not supported on virtual tables");
            if (token_rel(p, rel) != EDDY_OK) return EDDY_ERR_INVALID;
            continue;
        }
        if (rel->kind == SQL_REL_TUPLE) {
            if (p->is_virtual) return cql_exec_fail(x, CQL_ERR_INVALID, "Multi-column relations are not supported on virtual tables");
            if (tuple_rel(p, rel) != EDDY_OK) return EDDY_ERR_INVALID;
            continue;
        }
        if (rel->kind == SQL_REL_FIELD)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Restrictions on UDT fields are not supported in SELECT");
        int col = column_index(p, &rel->columns[0]);
        if (col < 0) return EDDY_ERR_INVALID;
        const store_column_t *c = &info->columns[col];
        bool key = is_key(p, col) && rel->kind == SQL_REL_COLUMN && !p->is_virtual;
        if (key && (rel->op == SQL_OP_EQ || rel->op == SQL_OP_IN)) {
            keyrest_t *kr = &p->kr[col];
            if (kr->has_eq || kr->has_slice)
                return cql_exec_fail(x, CQL_ERR_INVALID, "%s cannot be restricted by more than one relation if it includes an Equal", c->name);
            if (rel_values(p, rel, c->type, c->name, &kr->eq, &kr->neq) != EDDY_OK) return EDDY_ERR_INVALID;
            kr->has_eq = true;
            continue;
        }
        if (key && c->kind == STORE_COL_CLUSTERING &&
            (rel->op == SQL_OP_LT || rel->op == SQL_OP_LE || rel->op == SQL_OP_GT || rel->op == SQL_OP_GE)) {
            if (p->kr[col].has_eq)
                return cql_exec_fail(x, CQL_ERR_INVALID, "%s cannot be restricted by both an equality and an inequality relation", c->name);
            /* Bounds are gathered below, once the clustering prefix is known. */
            p->kr[col].has_slice = true;
            continue;
        }
        if (key && c->kind == STORE_COL_PARTITION_KEY && rel->op != SQL_OP_CONTAINS && rel->op != SQL_OP_CONTAINS_KEY &&
            !q->allow_filtering)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Only EQ and IN relation are supported on the partition key (unless you use the token() function or ALLOW FILTERING)");
        if (add_filter(p, rel, col) != EDDY_OK) return EDDY_ERR_INVALID;
        if (!p->is_virtual) p->need_filtering = true;
    }
    if (p->is_virtual) return EDDY_OK;
    /* Partition key: all of it with = / IN gives keys; some of it is filtering. */
    size_t npk_eq = 0;
    for (size_t i = 0; i < info->npartition; i++)
        if (p->kr[i].has_eq) npk_eq++;
    bool full_pk = npk_eq == info->npartition;
    if (!full_pk && npk_eq > 0) {
        p->need_filtering = true;
        for (size_t i = 0; i < info->npartition; i++) {
            if (!p->kr[i].has_eq) continue;
            filter_t *f = &p->filters[p->nfilters++];
            *f = (filter_t){(int)i, p->kr[i].neq > 1 ? SQL_OP_IN : SQL_OP_EQ, info->columns[i].type, p->kr[i].eq, p->kr[i].neq,
                            {0}, false};
        }
    }
    /* Clustering: an = / IN prefix, then at most one sliced column; the rest filters. */
    size_t prefix = 0;
    for (size_t i = info->npartition; i < nkey && p->kr[i].has_eq; i++) prefix++;
    if (p->has_tuple_eq) {
        if (prefix) return cql_exec_fail(x, CQL_ERR_INVALID, "Mixing single column relations and multi column relations on clustering columns is not allowed");
        prefix = p->tuple_len;
    }
    size_t next = info->npartition + prefix;
    if (p->nlo || p->nhi) { /* a multi-column slice */
        if (prefix) return cql_exec_fail(x, CQL_ERR_INVALID, "Mixing single column relations and multi column relations on clustering columns is not allowed");
        p->slice_col = info->npartition;
    } else if (next < nkey && p->kr[next].has_slice) {
        p->slice_col = next;
        const store_column_t *c = &info->columns[next];
        for (uint32_t i = 0; i < q->nwhere; i++) {
            const sql_relation_t *r2 = &q->where[i];
            if (r2->kind != SQL_REL_COLUMN || strcmp(r2->columns[0].name, c->name) || r2->op == SQL_OP_EQ || r2->op == SQL_OP_IN)
                continue;
            cql_term_t *v;
            size_t n;
            if (rel_values(p, r2, c->type, c->name, &v, &n) != EDDY_OK) return EDDY_ERR_INVALID;
            if (r2->op == SQL_OP_GT || r2->op == SQL_OP_GE) {
                p->lo[0] = eddy_view(v[0].ptr, v[0].len);
                p->nlo = 1;
                p->lo_incl = r2->op == SQL_OP_GE;
            } else {
                p->hi[0] = eddy_view(v[0].ptr, v[0].len);
                p->nhi = 1;
                p->hi_incl = r2->op == SQL_OP_LE;
            }
        }
    }
    /* Restricted clustering columns after the prefix and slice are filtering. */
    size_t covered = next + (p->slice_col == next ? 1 : 0);
    for (size_t i = covered; i < nkey; i++) {
        if (!p->kr[i].has_eq && !p->kr[i].has_slice) continue;
        if (!q->allow_filtering)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Clustering column \"%s\" cannot be restricted (preceding column \"%s\" is restricted by a non-EQ relation)",
                                 info->columns[i].name, info->columns[covered - (covered > next ? 1 : 0)].name);
        p->need_filtering = true;
        for (uint32_t k = 0; k < q->nwhere; k++) {
            const sql_relation_t *r2 = &q->where[k];
            if (r2->kind == SQL_REL_COLUMN && !strcmp(r2->columns[0].name, info->columns[i].name) &&
                add_filter(p, r2, (int)i) != EDDY_OK)
                return EDDY_ERR_INVALID;
        }
    }
    if ((prefix || p->nlo || p->nhi) && !full_pk) p->need_filtering = true;
    if (p->need_filtering && !q->allow_filtering) return cql_exec_fail(x, CQL_ERR_INVALID, "%s", ALLOW_FILTERING_MSG);
    if (full_pk && (p->sq.token_lo_set || p->sq.token_hi_set))
        return cql_exec_fail(x, CQL_ERR_INVALID, "Columns %s cannot be restricted by both a normal relation and a token relation",
                             info->columns[0].name);
    /* Keys: the cartesian product of the partition key's candidates. */
    if (full_pk) {
        size_t combos = 1;
        for (size_t i = 0; i < info->npartition; i++) {
            combos *= p->kr[i].neq;
            if (combos > MAX_KEYS) return cql_exec_fail(x, CQL_ERR_INVALID, "Too many partition keys in IN (more than %d)", MAX_KEYS);
        }
        eddy_view_t *keys = arena_alloc(x->arena, (combos ? combos : 1) * info->npartition * sizeof *keys);
        if (!keys) return fail_nomem(x);
        for (size_t k = 0; k < combos; k++) {
            size_t rest = k;
            for (size_t i = info->npartition; i-- > 0;) {
                size_t idx = rest % p->kr[i].neq;
                rest /= p->kr[i].neq;
                keys[k * info->npartition + i] = eddy_view(p->kr[i].eq[idx].ptr, p->kr[i].eq[idx].len);
            }
        }
        p->sq.keys = keys;
        p->sq.nkeys = combos;
    }
    /* Ranges: each prefix combination, extended by the slice bounds. */
    size_t nprefix = 1;
    if (p->has_tuple_eq) nprefix = p->ntuple_eq;
    else for (size_t i = 0; i < prefix; i++) nprefix *= p->kr[info->npartition + i].neq;
    if (nprefix > MAX_RANGES) return cql_exec_fail(x, CQL_ERR_INVALID, "Too many clustering key combinations");
    if (prefix || p->nlo || p->nhi) {
        store_crange_t *ranges = arena_alloc(x->arena, nprefix * sizeof *ranges);
        eddy_view_t *vals = arena_alloc(x->arena, nprefix * 2 * (prefix + 64) * sizeof *vals);
        if (!ranges || !vals) return fail_nomem(x);
        for (size_t k = 0; k < nprefix; k++) {
            eddy_view_t *lo = vals + k * 2 * (prefix + 64), *hi = lo + prefix + 64;
            size_t rest = k;
            for (size_t i = prefix; i-- > 0;) {
                eddy_view_t v;
                if (p->has_tuple_eq) v = p->tuple_eq[k * p->tuple_len + i];
                else {
                    keyrest_t *kr = &p->kr[info->npartition + i];
                    size_t idx = rest % kr->neq;
                    rest /= kr->neq;
                    v = eddy_view(kr->eq[idx].ptr, kr->eq[idx].len);
                }
                lo[i] = hi[i] = v;
            }
            memcpy(lo + prefix, p->lo, p->nlo * sizeof *lo);
            memcpy(hi + prefix, p->hi, p->nhi * sizeof *hi);
            ranges[k].lo = (store_cbound_t){prefix + p->nlo, lo, p->nlo ? p->lo_incl : true};
            ranges[k].hi = (store_cbound_t){prefix + p->nhi, hi, p->nhi ? p->hi_incl : true};
        }
        p->sq.ranges = ranges;
        p->sq.nranges = nprefix;
    }
    return EDDY_OK;
}

/* ORDER BY: clustering columns in declared order, all ascending or all reversed. */
static int order_by(plan_t *p) {
    const sql_select_t *q = p->q;
    if (!q->norder_by) return EDDY_OK;
    cql_exec_t *x = p->x;
    const store_table_info_t *info = p->info;
    if (p->is_virtual) return cql_exec_fail(x, CQL_ERR_INVALID, "ORDER BY is not supported on virtual tables");
    if (!p->sq.keys)
        return cql_exec_fail(x, CQL_ERR_INVALID, "ORDER BY is only supported when the partition key is restricted by an EQ or an IN.");
    int reversed = -1;
    for (uint32_t i = 0; i < q->norder_by; i++) {
        const sql_expr_t *e = q->order_by[i].expr;
        if (e->kind != SQL_EXPR_COLUMN) return cql_exec_fail(x, CQL_ERR_INVALID, "Order by is only supported on columns");
        int col = column_index(p, &e->column.name);
        if (col < 0) return EDDY_ERR_INVALID;
        if (info->columns[col].kind != STORE_COL_CLUSTERING)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Order by is currently only supported on the clustered columns of the PRIMARY KEY, got %s",
                                 info->columns[col].name);
        if ((size_t)col != info->npartition + i)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY");
        int rev = q->order_by[i].desc != info->columns[col].desc;
        if (reversed >= 0 && rev != reversed) return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported order by relation");
        reversed = rev;
    }
    p->sq.reversed = reversed == 1;
    return EDDY_OK;
}

/* ---- running -------------------------------------------------------------------------------- */

typedef struct {
    cql_selection_t *sel;
    wr_t *rows;
    size_t ngroup;              /* GROUP BY columns (a primary key prefix) */
    bool grouping;
    store_cell_t *group_key;    /* the current group's key cells (copied) */
    wr_t group_buf;
    store_row_t first;          /* the group's first row (copied) */
    store_cell_t *first_cells;
    wr_t first_buf;
    bool open;
    int64_t limit;              /* groups to emit, 0 = all */
} agg_t;

static void agg_emit(agg_t *a) {
    if (!a->limit || (int64_t)a->sel->rows < a->limit) cql_selection_emit_group(a->sel, &a->first, a->rows);
}

static void copy_row(const store_row_t *row, store_cell_t *cells, wr_t *buf, store_row_t *out) {
    wr_reset(buf);
    size_t offs[512];
    size_t n = EDDY_MIN(row->ncells, EDDY_ARRAY_LEN(offs));
    for (size_t i = 0; i < n; i++) {
        offs[i] = buf->len;
        if (row->cells[i].ptr) wr_bytes(buf, row->cells[i].ptr, row->cells[i].len);
    }
    for (size_t i = 0; i < n; i++) {
        cells[i] = row->cells[i];
        if (row->cells[i].ptr) cells[i].ptr = buf->buf + offs[i];
    }
    *out = *row;
    out->cells = cells;
    out->ncells = n;
}

static bool same_group(const agg_t *a, const store_row_t *row, const store_table_info_t *info) {
    for (size_t i = 0; i < a->ngroup; i++) {
        const store_cell_t *c = &row->cells[i], *g = &a->group_key[i];
        if (!c->ptr != !g->ptr) return false;
        if (c->ptr && store_value_compare(info->columns[i].type, c->ptr, c->len, g->ptr, g->len)) return false;
    }
    return true;
}

static void agg_row(agg_t *a, const store_row_t *row, const store_table_info_t *info) {
    if (a->grouping && a->open && !same_group(a, row, info)) {
        agg_emit(a);
        cql_selection_reset(a->sel);
        a->open = false;
    }
    if (!a->open) {
        copy_row(row, a->first_cells, &a->first_buf, &a->first);
        if (a->grouping) {
            store_row_t g;
            copy_row(row, a->group_key, &a->group_buf, &g);
        }
        a->open = true;
    }
    cql_selection_accumulate(a->sel, row);
}

static int group_by(plan_t *p, agg_t *a) {
    const sql_select_t *q = p->q;
    if (!q->ngroup_by) return EDDY_OK;
    cql_exec_t *x = p->x;
    for (uint32_t i = 0; i < q->ngroup_by; i++) {
        const sql_expr_t *e = q->group_by[i];
        if (e->kind != SQL_EXPR_COLUMN) return cql_exec_fail(x, CQL_ERR_INVALID, "Only columns are supported in GROUP BY");
        int col = column_index(p, &e->column.name);
        if (col < 0) return EDDY_ERR_INVALID;
        if ((size_t)col != i || !is_key(p, col))
            return cql_exec_fail(x, CQL_ERR_INVALID, "Group by currently only support groups of columns following their declared order in the PRIMARY KEY");
    }
    a->grouping = true;
    a->ngroup = q->ngroup_by;
    return EDDY_OK;
}

/* DISTINCT: partition key columns (all of them) and static columns only. */
static int check_distinct(plan_t *p, const cql_selection_t *s) {
    if (!p->q->distinct) return EDDY_OK;
    const store_table_info_t *info = p->info;
    bool have[64] = {false};
    for (size_t i = 0; i < s->nsels; i++) {
        const cql_sel_t *sel = &s->sels[i];
        if (sel->kind != CQL_SEL_COLUMN) continue;
        const store_column_t *c = &info->columns[sel->col];
        if (c->kind != STORE_COL_PARTITION_KEY && c->kind != STORE_COL_STATIC)
            return cql_exec_fail(p->x, CQL_ERR_INVALID, "SELECT DISTINCT queries must only request partition key columns and/or static columns (not %s)", c->name);
        if ((size_t)sel->col < 64) have[sel->col] = true;
    }
    for (size_t i = 0; i < info->npartition; i++)
        if (!have[i])
            return cql_exec_fail(p->x, CQL_ERR_INVALID, "SELECT DISTINCT queries must request all the partition key columns (missing %s)",
                                 info->columns[i].name);
    p->sq.distinct = true;
    return EDDY_OK;
}

static int resolve_source(cql_exec_t *x, const cql_run_t *r, const sql_select_t *q, const store_table_t **table,
                          const store_table_info_t **info, const char **ks) {
    const sql_qname_t *name = &q->from[0].name;
    *ks = name->ks.name ? name->ks.name : r ? r->keyspace : NULL;
    *table = NULL;
    if (*ks && cql_system_keyspace(*ks)) {
        *info = cql_system_table(*ks, name->name.name);
        if (!*info) return cql_exec_fail(x, CQL_ERR_INVALID, "table %s does not exist", name->name.name);
        return EDDY_OK;
    }
    cql_run_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.keyspace = *ks;
    if (cql_resolve_table(x, r ? r : &tmp, name, table, ks) != EDDY_OK) return EDDY_ERR_INVALID;
    *info = store_table_info(*table);
    return EDDY_OK;
}

int cql_select_columns(cql_exec_t *x, const sql_stmt_t *stmt, const char *keyspace, cql_colmeta_t **cols, size_t *ncols) {
    *cols = NULL;
    *ncols = 0;
    cql_run_t r;
    memset(&r, 0, sizeof r);
    r.keyspace = keyspace;
    const store_table_t *table;
    const store_table_info_t *info;
    const char *ks;
    if (resolve_source(x, &r, &stmt->select, &table, &info, &ks) != EDDY_OK) return EDDY_ERR_INVALID;
    cql_selsrc_t src = {info, ks};
    cql_selection_t s;
    int rc = cql_selection_build(x, NULL, &stmt->select, &src, &s);
    if (rc == EDDY_OK) {
        *cols = arena_alloc(x->arena, (s.ncols ? s.ncols : 1) * sizeof **cols);
        if (*cols) {
            for (size_t i = 0; i < s.ncols; i++) {
                (*cols)[i] = s.cols[i];
                store_type_keep((*cols)[i].type);
            }
            *ncols = s.ncols;
        } else {
            rc = fail_nomem(x);
        }
    }
    cql_selection_free(&s);
    store_table_release(table);
    return rc;
}

static int run_virtual(plan_t *p, cql_selection_t *s, agg_t *a, wr_t *rows, int64_t limit) {
    store_cell_t **vrows;
    size_t nv;
    if (cql_system_rows(p->x, p->info, &vrows, &nv) != EDDY_OK) return EDDY_ERR_INVALID;
    for (size_t i = 0; i < nv; i++) {
        store_row_t row = {NULL, vrows[i], p->info->ncolumns, 0, false};
        if (!store_filter(p, &row)) continue;
        if (s->aggregate) agg_row(a, &row, p->info);
        else {
            if (limit && (int64_t)s->rows >= limit) break;
            cql_selection_emit(s, &row, rows);
        }
    }
    return EDDY_OK;
}

int cql_exec_select(cql_exec_t *x, const cql_run_t *r) {
    const sql_select_t *q = &r->stmt->select;
    plan_t *p = arena_alloc(x->arena, sizeof *p);
    if (!p) return fail_nomem(x);
    memset(p, 0, sizeof *p);
    p->x = x;
    p->r = r;
    p->q = q;
    const store_table_t *table = NULL;
    if (resolve_source(x, r, q, &table, &p->info, &p->ks) != EDDY_OK) return EDDY_ERR_INVALID;
    p->is_virtual = table == NULL;
    p->sq.table = table;
    cql_selsrc_t src = {p->info, p->ks};
    cql_selection_t s;
    agg_t a;
    memset(&a, 0, sizeof a);
    int rc = cql_selection_build(x, r, q, &src, &s);
    if (rc == EDDY_OK) rc = analyze(p);
    if (rc == EDDY_OK) rc = order_by(p);
    if (rc == EDDY_OK) rc = check_distinct(p, &s);
    if (rc == EDDY_OK) rc = group_by(p, &a);
    if (rc == EDDY_OK && a.grouping && !s.aggregate) s.aggregate = true;
    bool present;
    int64_t limit = 0, pplimit = 0;
    if (rc == EDDY_OK) rc = cql_term_int(x, r, q->limit, "[limit]", &present, &limit);
    if (rc == EDDY_OK && present && limit <= 0) rc = cql_exec_fail(x, CQL_ERR_INVALID, "LIMIT must be strictly positive");
    if (rc == EDDY_OK) rc = cql_term_int(x, r, q->per_partition_limit, "[per_partition_limit]", &present, &pplimit);
    if (rc == EDDY_OK && present && pplimit <= 0)
        rc = cql_exec_fail(x, CQL_ERR_INVALID, "PER PARTITION LIMIT must be strictly positive");
    cql_tools_t *tools = cql_sconn_tools(x->sc);
    wr_t *rows = &tools->rows;
    wr_reset(rows);
    bool has_more = false;
    size_t ncells = p->info->ncolumns;
    a.sel = &s;
    a.rows = rows;
    a.limit = limit;
    if (rc == EDDY_OK && s.aggregate) {
        a.first_cells = arena_alloc(x->arena, (ncells ? ncells : 1) * sizeof *a.first_cells);
        a.group_key = arena_alloc(x->arena, (ncells ? ncells : 1) * sizeof *a.group_key);
        if (!a.first_cells || !a.group_key) rc = fail_nomem(x);
        cql_selection_reset(&s);
    }
    if (rc == EDDY_OK && p->is_virtual) {
        rc = run_virtual(p, &s, &a, rows, limit);
    } else if (rc == EDDY_OK) {
        store_query_t *sq = &p->sq;
        if (p->nfilters) {
            sq->filter = store_filter;
            sq->filter_arg = p;
        }
        if (!s.aggregate) {
            sq->limit = limit;
            sq->page_size = r->page_size > 0 ? r->page_size : 0;
            if (r->paging_state.len > 0) {
                sq->paging_state = r->paging_state.ptr;
                sq->paging_state_len = (size_t)r->paging_state.len;
            }
        }
        sq->per_partition_limit = pplimit;
        if (!tools->iter && !(tools->iter = store_iter_new(cql_server_store(x->srv)))) rc = fail_nomem(x);
        char err[512];
        if (rc == EDDY_OK && (rc = store_iter_start(tools->iter, sq, err, sizeof err)) != EDDY_OK)
            rc = cql_exec_fail_status(x, rc, err);
        const store_row_t *row;
        int got;
        while (rc == EDDY_OK && (got = store_iter_next(tools->iter, &row, err, sizeof err)) > 0) {
            if (s.aggregate) agg_row(&a, row, p->info);
            else cql_selection_emit(&s, row, rows);
            if (!wr_ok(rows)) rc = cql_exec_fail(x, CQL_ERR_SERVER, "The result is too large");
        }
        if (rc == EDDY_OK && got < 0) rc = cql_exec_fail_status(x, got, err);
        if (rc == EDDY_OK && !s.aggregate && store_iter_has_more(tools->iter)) has_more = true;
    }
    if (rc == EDDY_OK && s.aggregate) {
        if (a.open) agg_emit(&a);
        else if (!a.grouping) cql_selection_emit_group(&s, NULL, rows); /* count(*) of nothing is one row */
    }
    if (rc == EDDY_OK) {
        wr_t *w = x->out;
        wr_i32(w, CQL_RESULT_ROWS);
        cql_value_t ps = cql_value_null();
        wr_t *tmp = &tools->tmp;
        wr_reset(tmp);
        uint32_t flags = 0;
        if (has_more) {
            store_iter_paging_state(tools->iter, tmp);
            ps = cql_value(tmp->buf, tmp->len);
            flags |= CQL_RF_HAS_MORE_PAGES;
        }
        uint8_t new_id[16];
        const uint8_t *changed = NULL;
        if (r->prepared && x->version >= 5 && r->result_id_len == 16) {
            cql_pstmt_t *pst = (cql_pstmt_t *)r->prepared;
            uint64_t key = table ? (uint64_t)p->info->id << 32 | p->info->version | 1ull << 63 : 1;
            if (!cql_pstmt_result_id(pst, key, new_id)) {
                cql_result_metadata_id(s.cols, s.ncols, new_id);
                cql_pstmt_set_result_id(pst, key, new_id);
            }
            if (memcmp(new_id, r->result_id, 16)) changed = new_id;
        }
        if (r->skip_metadata && !changed) flags |= CQL_RF_NO_METADATA;
        cql_write_rows_metadata(w, x->version, s.cols, s.ncols, flags, ps, changed);
        wr_i32(w, (int32_t)s.rows);
        wr_bytes(w, rows->buf, rows->len);
    }
    cql_selection_free(&s);
    wr_free(&a.first_buf);
    wr_free(&a.group_buf);
    if (rows->cap > (4u << 20)) { /* a big page: do not keep its buffer */
        wr_free(rows);
        wr_init(rows, 0);
    }
    store_table_release(table);
    return rc;
}
