/* The selection of a SELECT: what each result column is (a column, writetime(), ttl(), token(),
 * CAST, toJson(), a conversion function, or an aggregate: count, min, max, sum, avg), the column
 * names and types Cassandra reports for them, and their values for each row, or for each group
 * once aggregated. SELECT JSON wraps the selection into one "[json]" text column. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

static int fail_nomem(cql_exec_t *x) { return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory"); }

static bool is_integer_kind(uint16_t k) {
    return k == STORE_T_TINYINT || k == STORE_T_SMALLINT || k == STORE_T_INT || k == STORE_T_BIGINT || k == STORE_T_COUNTER;
}
static bool is_float_kind(uint16_t k) { return k == STORE_T_FLOAT || k == STORE_T_DOUBLE; }

/* ---- building ------------------------------------------------------------------------------- */

static char *fmt_name(cql_exec_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *fmt_name(cql_exec_t *x, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return arena_strndup(x->arena, buf, strlen(buf));
}

static int build(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const cql_selsrc_t *src, cql_sel_t *out);

static int column_ref(cql_exec_t *x, const sql_expr_t *e, const cql_selsrc_t *src, int *col) {
    if (e->kind != SQL_EXPR_COLUMN) return cql_exec_fail(x, CQL_ERR_INVALID, "Expected a column name");
    const sql_ident_t *id = &e->column.name;
    for (size_t i = 0; i < src->info->ncolumns; i++) {
        if (!strcmp(src->info->columns[i].name, id->name)) {
            *col = (int)i;
            return EDDY_OK;
        }
    }
    return cql_exec_fail(x, CQL_ERR_INVALID, "Undefined column name %s in table %s.%s", id->name, src->keyspace, src->info->name);
}

static const char *agg_names[] = {"count", "min", "max", "sum", "avg"};

static int build_call(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const cql_selsrc_t *src, cql_sel_t *out) {
    const char *f = e->call.name.name.name;
    uint32_t nargs = e->call.nargs;
    if (!strcasecmp(f, "count") && e->call.star) {
        out->kind = CQL_SEL_COUNT;
        out->star = true;
        out->type = store_type_native(STORE_T_BIGINT);
        out->name = "count";
        out->aggregate = true;
        return EDDY_OK;
    }
    if (!strcasecmp(f, "token")) {
        if (nargs != src->info->npartition)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid number of arguments in call to function system.token: %zu required but %u provided",
                                 src->info->npartition, nargs);
        wr_t names;
        wr_init(&names, 64);
        for (uint32_t i = 0; i < nargs; i++) {
            int col;
            if (column_ref(x, e->call.args[i], src, &col) != EDDY_OK || (size_t)col != i) {
                wr_free(&names);
                if (!x->err_code)
                    cql_exec_fail(x, CQL_ERR_INVALID, "Type error: %s cannot be passed as argument %u of function system.token of type %s",
                                  src->info->columns[col].name, i, store_type_cstr(src->info->columns[i].type, (char[64]){0}, 64));
                return EDDY_ERR_INVALID;
            }
            wr_fmt(&names, "%s%s", i ? ", " : "", src->info->columns[i].name);
        }
        wr_u8(&names, 0);
        out->kind = CQL_SEL_TOKEN;
        out->type = store_type_native(STORE_T_BIGINT);
        out->name = fmt_name(x, "system.token(%s)", (const char *)names.buf);
        wr_free(&names);
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    for (int k = 0; k < 5; k++) {
        if (strcasecmp(f, agg_names[k])) continue;
        if (nargs != 1) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid number of arguments in call to function system.%s: 1 required but %u provided", agg_names[k], nargs);
        out->args = arena_alloc(x->arena, sizeof *out->args);
        if (!out->args) return fail_nomem(x);
        memset(out->args, 0, sizeof *out->args);
        out->nargs = 1;
        if (build(x, r, e->call.args[0], src, out->args) != EDDY_OK) return EDDY_ERR_INVALID;
        const store_type_t *at = out->args->type;
        out->aggregate = true;
        out->kind = (cql_sel_kind_t)(CQL_SEL_COUNT + k);
        if (out->kind == CQL_SEL_COUNT) out->type = store_type_native(STORE_T_BIGINT);
        else if ((out->kind == CQL_SEL_SUM || out->kind == CQL_SEL_AVG) && !is_integer_kind(at->kind) &&
                 !is_float_kind(at->kind) && at->kind != STORE_T_DECIMAL && at->kind != STORE_T_VARINT)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid call to function %s, none of its type signatures match (type %s)",
                                 agg_names[k], store_type_cstr(at, (char[64]){0}, 64));
        else out->type = at->kind == STORE_T_COUNTER ? store_type_native(STORE_T_BIGINT) : at;
        out->name = fmt_name(x, "system.%s(%s)", agg_names[k], out->args->name);
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    if (!strcasecmp(f, "tojson")) {
        if (nargs != 1) return cql_exec_fail(x, CQL_ERR_INVALID, "toJson() takes one argument");
        out->args = arena_alloc(x->arena, sizeof *out->args);
        if (!out->args) return fail_nomem(x);
        memset(out->args, 0, sizeof *out->args);
        out->nargs = 1;
        if (build(x, r, e->call.args[0], src, out->args) != EDDY_OK) return EDDY_ERR_INVALID;
        out->kind = CQL_SEL_TOJSON;
        out->type = store_type_native(STORE_T_TEXT);
        out->aggregate = out->args->aggregate;
        out->name = fmt_name(x, "system.tojson(%s)", out->args->name);
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    /* Conversions of one column or value: toTimestamp(t), toDate(t), toUnixTimestamp(t),
     * dateOf(t), unixTimestampOf(t), blobAsX(b), xAsBlob(v). */
    static const struct { const char *name; uint16_t result; } convs[] = {
        {"totimestamp", STORE_T_TIMESTAMP}, {"todate", STORE_T_DATE}, {"tounixtimestamp", STORE_T_BIGINT},
        {"dateof", STORE_T_TIMESTAMP},      {"unixtimestampof", STORE_T_BIGINT},
    };
    for (size_t k = 0; k < EDDY_ARRAY_LEN(convs); k++) {
        if (strcasecmp(f, convs[k].name)) continue;
        if (nargs != 1) return cql_exec_fail(x, CQL_ERR_INVALID, "%s() takes one argument", f);
        out->args = arena_alloc(x->arena, sizeof *out->args);
        if (!out->args) return fail_nomem(x);
        memset(out->args, 0, sizeof *out->args);
        out->nargs = 1;
        if (build(x, r, e->call.args[0], src, out->args) != EDDY_OK) return EDDY_ERR_INVALID;
        uint16_t ak = out->args->type->kind;
        if (ak != STORE_T_TIMEUUID && ak != STORE_T_TIMESTAMP && ak != STORE_T_DATE)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Type error: %s cannot be passed as argument 0 of function system.%s",
                                 out->args->name, convs[k].name);
        out->kind = CQL_SEL_FUNC;
        out->func = convs[k].name;
        out->type = store_type_native(convs[k].result);
        out->aggregate = out->args->aggregate;
        out->name = fmt_name(x, "system.%s(%s)", convs[k].name, out->args->name);
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    size_t n = strlen(f);
    if ((n > 6 && !strncasecmp(f, "blobas", 6)) || (n > 6 && !strcasecmp(f + n - 6, "asblob"))) {
        bool to_blob = !strcasecmp(f + n - 6, "asblob");
        const store_type_t *t = NULL;
        char err[256];
        if (store_type_parse(NULL, NULL, to_blob ? f : f + 6, n - 6, &t, err, sizeof err) != EDDY_OK)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Unknown function '%s'", f);
        if (nargs != 1) {
            store_type_release(t);
            return cql_exec_fail(x, CQL_ERR_INVALID, "%s() takes one argument", f);
        }
        out->args = arena_alloc(x->arena, sizeof *out->args);
        if (!out->args) {
            store_type_release(t);
            return fail_nomem(x);
        }
        memset(out->args, 0, sizeof *out->args);
        out->nargs = 1;
        if (build(x, r, e->call.args[0], src, out->args) != EDDY_OK) {
            store_type_release(t);
            return EDDY_ERR_INVALID;
        }
        out->kind = CQL_SEL_FUNC;
        out->func = to_blob ? "asblob" : "blobas";
        out->type = to_blob ? store_type_native(STORE_T_BLOB) : t;
        out->owned_type = to_blob ? NULL : t;
        if (to_blob) store_type_release(t);
        out->aggregate = out->args->aggregate;
        char lower[128];
        snprintf(lower, sizeof lower, "%s", f);
        for (char *p = lower; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        out->name = fmt_name(x, "system.%s(%s)", lower, out->args->name);
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    /* A term without columns (now(), uuid(), literals): one value for every row. */
    cql_term_t t;
    const store_type_t *nt = NULL;
    if (!strcasecmp(f, "now") || !strcasecmp(f, "currenttimeuuid")) nt = store_type_native(STORE_T_TIMEUUID);
    else if (!strcasecmp(f, "uuid")) nt = store_type_native(STORE_T_UUID);
    else if (!strcasecmp(f, "currenttimestamp")) nt = store_type_native(STORE_T_TIMESTAMP);
    else if (!strcasecmp(f, "currentdate")) nt = store_type_native(STORE_T_DATE);
    else if (!strcasecmp(f, "currenttime")) nt = store_type_native(STORE_T_TIME);
    if (!nt) return cql_exec_fail(x, CQL_ERR_INVALID, "Unknown function '%s'", f);
    out->kind = CQL_SEL_TERM;
    out->type = nt;
    out->name = fmt_name(x, "system.%s()", f);
    if (r && cql_term_eval(x, r, e, nt, out->name, &t) != EDDY_OK) return EDDY_ERR_INVALID;
    if (r) out->term = t;
    return out->name ? EDDY_OK : fail_nomem(x);
}

static int build(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const cql_selsrc_t *src, cql_sel_t *out) {
    memset(out, 0, sizeof *out);
    switch (e->kind) {
    case SQL_EXPR_COLUMN:
        out->kind = CQL_SEL_COLUMN;
        if (column_ref(x, e, src, &out->col) != EDDY_OK) return EDDY_ERR_INVALID;
        out->type = src->info->columns[out->col].type;
        out->name = (char *)src->info->columns[out->col].name;
        return EDDY_OK;
    case SQL_EXPR_WRITETIME:
    case SQL_EXPR_TTL: {
        bool wt = e->kind == SQL_EXPR_WRITETIME;
        if (column_ref(x, e->bin.left, src, &out->col) != EDDY_OK) return EDDY_ERR_INVALID;
        const store_column_t *c = &src->info->columns[out->col];
        if (c->kind == STORE_COL_PARTITION_KEY || c->kind == STORE_COL_CLUSTERING)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Cannot use selection function %s on PRIMARY KEY part %s",
                                 wt ? "writeTime" : "ttl", c->name);
        if (store_type_is_multicell(c->type))
            return cql_exec_fail(x, CQL_ERR_INVALID, "Cannot use selection function %s on non-frozen %s %s",
                                 wt ? "writeTime" : "ttl", c->type->kind == STORE_T_UDT ? "UDT" : "collection", c->name);
        out->kind = wt ? CQL_SEL_WRITETIME : CQL_SEL_TTL;
        out->type = store_type_native(wt ? STORE_T_BIGINT : STORE_T_INT);
        out->name = fmt_name(x, "%s(%s)", wt ? "writetime" : "ttl", c->name);
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    case SQL_EXPR_CALL: return build_call(x, r, e, src, out);
    case SQL_EXPR_CAST: {
        out->args = arena_alloc(x->arena, sizeof *out->args);
        if (!out->args) return fail_nomem(x);
        memset(out->args, 0, sizeof *out->args);
        out->nargs = 1;
        if (build(x, r, e->cast.arg, src, out->args) != EDDY_OK) return EDDY_ERR_INVALID;
        wr_t w;
        wr_init(&w, 32);
        sql_print_type(&w, e->cast.type);
        char err[256];
        const store_type_t *t = NULL;
        int rc = store_type_parse(NULL, src->keyspace, (const char *)w.buf, w.len, &t, err, sizeof err);
        wr_u8(&w, 0);
        if (rc != EDDY_OK) {
            wr_free(&w);
            return cql_exec_fail_status(x, rc, err);
        }
        out->kind = CQL_SEL_CAST;
        out->type = t;
        out->owned_type = t;
        out->aggregate = out->args->aggregate;
        char *tn = (char *)w.buf;
        for (char *p = tn; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        out->name = fmt_name(x, "cast(%s as %s)", out->args->name, tn);
        wr_free(&w);
        uint16_t from = out->args->type->kind, to = t->kind;
        bool numeric_from = is_integer_kind(from) || is_float_kind(from) || from == STORE_T_DECIMAL || from == STORE_T_VARINT;
        bool numeric_to = is_integer_kind(to) || is_float_kind(to) || to == STORE_T_DECIMAL || to == STORE_T_VARINT;
        bool ok = to == STORE_T_TEXT || to == STORE_T_ASCII || from == to || (numeric_from && numeric_to) ||
                  ((from == STORE_T_TIMESTAMP || from == STORE_T_TIMEUUID || from == STORE_T_DATE) &&
                   (to == STORE_T_TIMESTAMP || to == STORE_T_DATE));
        if (!ok)
            return cql_exec_fail(x, CQL_ERR_INVALID, "%s cannot be cast to %s", store_type_cstr(out->args->type, (char[64]){0}, 64),
                                 store_type_cstr(t, (char[64]){0}, 64));
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    case SQL_EXPR_FIELD: {
        /* udt.field */
        out->args = arena_alloc(x->arena, sizeof *out->args);
        if (!out->args) return fail_nomem(x);
        memset(out->args, 0, sizeof *out->args);
        out->nargs = 1;
        if (build(x, r, e->field.arg, src, out->args) != EDDY_OK) return EDDY_ERR_INVALID;
        const store_type_t *ut = out->args->type;
        out->field = -1;
        for (uint16_t f = 0; ut->kind == STORE_T_UDT && f < ut->nsub; f++)
            if (!strcmp(ut->field_names[f], e->field.field.name)) out->field = f;
        if (out->field < 0)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid field selection: %s of type %s has no field %s", out->args->name,
                                 store_type_cstr(ut, (char[64]){0}, 64), e->field.field.name);
        out->kind = CQL_SEL_FIELD;
        out->type = ut->sub[out->field];
        out->aggregate = out->args->aggregate;
        out->name = fmt_name(x, "%s.%s", out->args->name, e->field.field.name);
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    case SQL_EXPR_SUBSCRIPT: {
        /* map[key] and set[element] */
        out->args = arena_alloc(x->arena, sizeof *out->args);
        if (!out->args) return fail_nomem(x);
        memset(out->args, 0, sizeof *out->args);
        out->nargs = 1;
        if (build(x, r, e->sub.arg, src, out->args) != EDDY_OK) return EDDY_ERR_INVALID;
        const store_type_t *ct = out->args->type;
        if (ct->kind != STORE_T_MAP && ct->kind != STORE_T_SET)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Element selection is only allowed on sets and maps, but %s is a %s",
                                 out->args->name, store_type_cstr(ct, (char[64]){0}, 64));
        out->kind = CQL_SEL_ELEMENT;
        out->type = ct->kind == STORE_T_MAP ? ct->sub[1] : ct->sub[0];
        out->aggregate = out->args->aggregate;
        if (r && cql_term_eval(x, r, e->sub.key, ct->sub[0], out->args->name, &out->term) != EDDY_OK) return EDDY_ERR_INVALID;
        wr_t key;
        wr_init(&key, 32);
        sql_print_expr(&key, e->sub.key);
        wr_u8(&key, 0);
        out->name = wr_ok(&key) ? fmt_name(x, "%s[%s]", out->args->name, (const char *)key.buf) : NULL;
        wr_free(&key);
        return out->name ? EDDY_OK : fail_nomem(x);
    }
    case SQL_EXPR_LITERAL:
        return cql_exec_fail(x, CQL_ERR_INVALID, "Literals are not supported in the selection clause of a SELECT statement");
    default: return cql_exec_fail(x, CQL_ERR_INVALID, "Unsupported selector in the SELECT clause");
    }
}

void cql_selection_free(cql_selection_t *s) {
    for (size_t i = 0; i < s->nsels; i++) cql_sel_free(&s->sels[i]);
    for (size_t i = 0; i < s->ncols; i++) store_type_release(s->cols[i].type);
    for (size_t i = 0; i < CQL_SEL_DEPTH; i++) wr_free(&s->tmp[i]);
}

void cql_sel_free(cql_sel_t *sel) {
    for (size_t i = 0; i < sel->nargs; i++) cql_sel_free(&sel->args[i]);
    store_type_release(sel->owned_type);
    wr_free(&sel->best);
}

int cql_selection_build(cql_exec_t *x, const cql_run_t *r, const sql_select_t *q, const cql_selsrc_t *src,
                        cql_selection_t *s) {
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < CQL_SEL_DEPTH; i++) wr_init(&s->tmp[i], 0);
    s->json = q->json;
    if (q->star) {
        s->nsels = src->info->ncolumns;
        s->sels = arena_alloc(x->arena, (s->nsels ? s->nsels : 1) * sizeof *s->sels);
        if (!s->sels) return fail_nomem(x);
        for (size_t i = 0; i < s->nsels; i++) {
            memset(&s->sels[i], 0, sizeof s->sels[i]);
            s->sels[i].kind = CQL_SEL_COLUMN;
            s->sels[i].col = (int)i;
            s->sels[i].type = src->info->columns[i].type;
            s->sels[i].name = (char *)src->info->columns[i].name;
        }
    } else {
        s->nsels = q->nitems;
        s->sels = arena_alloc(x->arena, (s->nsels ? s->nsels : 1) * sizeof *s->sels);
        if (!s->sels) return fail_nomem(x);
        memset(s->sels, 0, s->nsels * sizeof *s->sels);
        for (size_t i = 0; i < s->nsels; i++) {
            if (build(x, r, q->items[i].expr, src, &s->sels[i]) != EDDY_OK) return EDDY_ERR_INVALID;
            if (q->items[i].alias.name) s->sels[i].name = (char *)q->items[i].alias.name;
            if (s->sels[i].aggregate) s->aggregate = true;
        }
    }
    /* Metadata: the selectors, or one "[json]" text column. */
    s->ncols = s->json ? 1 : s->nsels;
    s->cols = arena_alloc(x->arena, s->ncols * sizeof *s->cols);
    if (!s->cols) return fail_nomem(x);
    if (s->json) {
        s->cols[0] = (cql_colmeta_t){src->keyspace, src->info->name, "[json]", store_type_native(STORE_T_TEXT)};
    } else {
        for (size_t i = 0; i < s->nsels; i++)
            s->cols[i] = (cql_colmeta_t){src->keyspace, src->info->name, s->sels[i].name, store_type_keep(s->sels[i].type)};
    }
    return EDDY_OK;
}

/* ---- values --------------------------------------------------------------------------------- */

static bool number_of(uint16_t kind, const uint8_t *p, size_t n, int64_t *iv, double *dv, bool *is_float) {
    *is_float = false;
    switch (kind) {
    case STORE_T_TINYINT: if (n != 1) return false; *iv = (int8_t)p[0]; break;
    case STORE_T_SMALLINT: if (n != 2) return false; *iv = (int16_t)load_u16(p); break;
    case STORE_T_INT: if (n != 4) return false; *iv = (int32_t)load_u32(p); break;
    case STORE_T_BIGINT:
    case STORE_T_COUNTER: if (n != 8) return false; *iv = (int64_t)load_u64(p); break;
    case STORE_T_FLOAT: {
        if (n != 4) return false;
        uint32_t u = load_u32(p);
        float f;
        memcpy(&f, &u, 4);
        *dv = f;
        *is_float = true;
        return true;
    }
    case STORE_T_DOUBLE: {
        if (n != 8) return false;
        uint64_t u = load_u64(p);
        memcpy(dv, &u, 8);
        *is_float = true;
        return true;
    }
    case STORE_T_VARINT: {
        if (n == 0 || n > 8) return false;
        int64_t v = (int8_t)p[0];
        for (size_t i = 1; i < n; i++) v = (int64_t)((uint64_t)v << 8) | p[i];
        *iv = v;
        break;
    }
    default: return false;
    }
    *dv = (double)*iv;
    return true;
}

static void write_number(uint16_t kind, int64_t iv, double dv, bool from_float, wr_t *w) {
    if (from_float && !is_float_kind(kind)) iv = (int64_t)dv;
    switch (kind) {
    case STORE_T_TINYINT: wr_u8(w, (uint8_t)iv); break;
    case STORE_T_SMALLINT: wr_u16(w, (uint16_t)iv); break;
    case STORE_T_INT: wr_u32(w, (uint32_t)iv); break;
    case STORE_T_BIGINT:
    case STORE_T_COUNTER: wr_u64(w, (uint64_t)iv); break;
    case STORE_T_FLOAT: wr_f32(w, (float)(from_float ? dv : (double)iv)); break;
    case STORE_T_DOUBLE: wr_f64(w, from_float ? dv : (double)iv); break;
    case STORE_T_VARINT: {
        uint8_t b[8];
        store_u64(b, (uint64_t)iv);
        size_t i = 0;
        while (i < 7 && ((b[i] == 0 && !(b[i + 1] & 0x80)) || (b[i] == 0xff && (b[i + 1] & 0x80)))) i++;
        wr_bytes(w, b + i, 8 - i);
        break;
    }
    case STORE_T_DECIMAL: {
        /* scale then unscaled varint: integers exactly, doubles with their shortest digits */
        if (!from_float) {
            wr_u32(w, 0);
            write_number(STORE_T_VARINT, iv, 0, false, w);
        } else {
            char buf[64];
            snprintf(buf, sizeof buf, "%.17g", dv);
            wr_t tmp;
            wr_init(&tmp, 16);
            char err[64];
            if (store_value_from_constant(store_type_native(STORE_T_DECIMAL), STORE_CONST_FLOAT, buf, strlen(buf), "cast",
                                          &tmp, err, sizeof err) == EDDY_OK)
                wr_bytes(w, tmp.buf, tmp.len);
            wr_free(&tmp);
        }
        break;
    }
    default: break;
    }
}

static int64_t time_ms_of(uint16_t kind, const uint8_t *p, size_t n) {
    if (kind == STORE_T_TIMESTAMP && n == 8) return (int64_t)load_u64(p);
    if (kind == STORE_T_DATE && n == 4) return ((int64_t)load_u32(p) - (1ll << 31)) * 86400000;
    if (kind == STORE_T_TIMEUUID && n == 16) {
        uint64_t ticks = (uint64_t)load_u32(p) | (uint64_t)load_u16(p + 4) << 32 | (uint64_t)(load_u16(p + 6) & 0x0fff) << 48;
        return (int64_t)(ticks - 0x01B21DD213814000ull) / 10000;
    }
    return 0;
}

static void write_time(uint16_t kind, int64_t ms, wr_t *w) {
    if (kind == STORE_T_DATE) {
        int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
        wr_u32(w, (uint32_t)(days + (1ll << 31)));
    } else {
        wr_u64(w, (uint64_t)ms);
    }
}

/* Appends sel's value for row to w; returns false for null. depth picks a scratch buffer. */
static bool eval(cql_selection_t *s, cql_sel_t *sel, const store_row_t *row, wr_t *w, int depth) {
    switch (sel->kind) {
    case CQL_SEL_COLUMN: {
        const store_cell_t *c = &row->cells[sel->col];
        if (!c->ptr) return false;
        wr_bytes(w, c->ptr, c->len);
        return true;
    }
    case CQL_SEL_WRITETIME: {
        const store_cell_t *c = &row->cells[sel->col];
        if (!c->ptr || c->writetime == INT64_MIN) return false;
        wr_u64(w, (uint64_t)c->writetime);
        return true;
    }
    case CQL_SEL_TTL: {
        const store_cell_t *c = &row->cells[sel->col];
        if (!c->ptr || c->ttl <= 0) return false;
        wr_u32(w, (uint32_t)c->ttl);
        return true;
    }
    case CQL_SEL_TOKEN: wr_u64(w, (uint64_t)row->token); return true;
    case CQL_SEL_TERM:
        if (sel->term.null || sel->term.unset) return false;
        wr_bytes(w, sel->term.ptr, sel->term.len);
        return true;
    default: break;
    }
    if (sel->aggregate && sel->kind >= CQL_SEL_COUNT && sel->kind <= CQL_SEL_AVG) return cql_sel_agg_result(sel, w);
    /* One-argument transformations of an inner value. */
    if (depth + 1 >= CQL_SEL_DEPTH) return false;
    wr_t *tmp = &s->tmp[depth + 1];
    wr_reset(tmp);
    bool present = eval(s, &sel->args[0], row, tmp, depth + 1);
    const store_type_t *at = sel->args[0].type;
    if (sel->kind == CQL_SEL_TOJSON) {
        if (!present) wr_str(w, "null");
        else store_value_to_json(at, tmp->buf, tmp->len, w);
        return true;
    }
    if (!present) return false;
    if (sel->kind == CQL_SEL_CAST) {
        uint16_t to = sel->type->kind, from = at->kind;
        if (from == to) {
            wr_bytes(w, tmp->buf, tmp->len);
        } else if (to == STORE_T_TEXT || to == STORE_T_ASCII) {
            store_value_format_text(at, tmp->buf, tmp->len, w);
        } else if (from == STORE_T_TIMESTAMP || from == STORE_T_TIMEUUID || from == STORE_T_DATE) {
            write_time(to, time_ms_of(from, tmp->buf, tmp->len), w);
        } else {
            int64_t iv = 0;
            double dv = 0;
            bool f = false;
            if (from == STORE_T_DECIMAL) {
                wr_t txt;
                wr_init(&txt, 32);
                store_value_format_text(at, tmp->buf, tmp->len, &txt);
                wr_u8(&txt, 0);
                dv = strtod((const char *)txt.buf, NULL);
                f = true;
                wr_free(&txt);
            } else if (!number_of(from, tmp->buf, tmp->len, &iv, &dv, &f)) {
                return false;
            }
            write_number(to, iv, dv, f, w);
        }
        return true;
    }
    if (sel->kind == CQL_SEL_FIELD || sel->kind == CQL_SEL_ELEMENT) {
        eddy_view_t el[256];
        long n = store_value_elements(at, tmp->buf, tmp->len, NULL, 0);
        if (n <= 0 || (size_t)n > EDDY_ARRAY_LEN(el)) return false;
        store_value_elements(at, tmp->buf, tmp->len, el, (size_t)n);
        if (sel->kind == CQL_SEL_FIELD) {
            if (sel->field >= n || !el[sel->field].ptr) return false;
            wr_bytes(w, el[sel->field].ptr, el[sel->field].len);
            return true;
        }
        if (sel->term.null || sel->term.unset) return false;
        bool map = at->kind == STORE_T_MAP;
        for (long i = 0; i < n; i += map ? 2 : 1) {
            if (store_value_compare(at->sub[0], el[i].ptr, el[i].len, sel->term.ptr, sel->term.len)) continue;
            const eddy_view_t *v = map ? &el[i + 1] : &el[i];
            wr_bytes(w, v->ptr, v->len);
            return true;
        }
        return false;
    }
    if (sel->kind == CQL_SEL_FUNC) {
        const char *f = sel->func;
        if (!strcmp(f, "asblob") || !strcmp(f, "blobas")) {
            wr_bytes(w, tmp->buf, tmp->len);
            return true;
        }
        int64_t ms = time_ms_of(at->kind, tmp->buf, tmp->len);
        write_time(sel->type->kind, ms, w);
        return true;
    }
    return false;
}

/* Appends the value of column i of the current row as a [bytes]. */
static void write_value(cql_selection_t *s, cql_sel_t *sel, const store_row_t *row, wr_t *out) {
    size_t at = wr_mark(out, 4);
    size_t start = out->len;
    if (eval(s, sel, row, out, 0)) wr_patch_u32(out, at, (uint32_t)(out->len - start));
    else wr_patch_u32(out, at, (uint32_t)-1);
}

/* SELECT JSON: {"name": value, ...} as one text value. grouped: aggregates from their state. */
static void write_json(cql_selection_t *s, const store_row_t *row, bool grouped, wr_t *out) {
    size_t at = wr_mark(out, 4);
    size_t start = out->len;
    wr_u8(out, '{');
    wr_t *tmp = &s->tmp[0];
    for (size_t i = 0; i < s->nsels; i++) {
        cql_sel_t *sel = &s->sels[i];
        if (i) wr_str(out, ", ");
        /* Case-sensitive names keep their quotes inside the key, as Cassandra prints them. */
        wr_t key;
        wr_init(&key, 32);
        sql_print_ident(&key, sel->name, strlen(sel->name));
        json_write_string(out, (const char *)key.buf, key.len);
        wr_free(&key);
        wr_str(out, ": ");
        wr_reset(tmp);
        bool agg = grouped && sel->aggregate && sel->kind >= CQL_SEL_COUNT && sel->kind <= CQL_SEL_AVG;
        if (sel->kind == CQL_SEL_TOJSON && row) {
            eval(s, sel, row, out, 0);
            continue;
        }
        bool present = agg ? cql_sel_agg_result(sel, tmp) : row && eval(s, sel, row, tmp, 0);
        if (present) store_value_to_json(sel->type, tmp->buf, tmp->len, out);
        else wr_str(out, "null");
    }
    wr_u8(out, '}');
    wr_patch_u32(out, at, (uint32_t)(out->len - start));
}

void cql_selection_emit(cql_selection_t *s, const store_row_t *row, wr_t *out) {
    if (s->json) {
        write_json(s, row, false, out);
    } else {
        for (size_t i = 0; i < s->nsels; i++) write_value(s, &s->sels[i], row, out);
    }
    s->rows++;
}

/* ---- aggregates ----------------------------------------------------------------------------- */

static void agg_reset(cql_sel_t *sel) {
    sel->count = 0;
    sel->isum = 0;
    sel->dsum = 0;
    sel->have = false;
    wr_reset(&sel->best);
    for (size_t i = 0; i < sel->nargs; i++) agg_reset(&sel->args[i]);
}

void cql_selection_reset(cql_selection_t *s) {
    for (size_t i = 0; i < s->nsels; i++) agg_reset(&s->sels[i]);
    s->first_valid = false;
}

static void agg_add(cql_selection_t *s, cql_sel_t *sel, const store_row_t *row) {
    if (!sel->aggregate) return;
    if (sel->kind < CQL_SEL_COUNT || sel->kind > CQL_SEL_AVG) {
        for (size_t i = 0; i < sel->nargs; i++) agg_add(s, &sel->args[i], row);
        return;
    }
    if (sel->star) {
        sel->count++;
        return;
    }
    wr_t *tmp = &s->tmp[CQL_SEL_DEPTH - 1];
    wr_reset(tmp);
    if (!eval(s, &sel->args[0], row, tmp, 1)) return;
    const store_type_t *t = sel->args[0].type;
    sel->count++;
    switch (sel->kind) {
    case CQL_SEL_MIN:
    case CQL_SEL_MAX: {
        int c = sel->have ? store_value_compare(t, tmp->buf, tmp->len, sel->best.buf, sel->best.len) : 0;
        if (!sel->have || (sel->kind == CQL_SEL_MIN ? c < 0 : c > 0)) {
            wr_reset(&sel->best);
            wr_bytes(&sel->best, tmp->buf, tmp->len);
            sel->have = true;
        }
        break;
    }
    case CQL_SEL_SUM:
    case CQL_SEL_AVG: {
        int64_t iv;
        double dv;
        bool f;
        if (t->kind == STORE_T_DECIMAL) {
            wr_t txt;
            wr_init(&txt, 32);
            store_value_format_text(t, tmp->buf, tmp->len, &txt);
            wr_u8(&txt, 0);
            sel->dsum += strtod((const char *)txt.buf, NULL);
            wr_free(&txt);
        } else if (number_of(t->kind, tmp->buf, tmp->len, &iv, &dv, &f)) {
            if (f) sel->dsum += dv;
            else sel->isum = (int64_t)((uint64_t)sel->isum + (uint64_t)iv); /* wraps as Java does */
        }
        sel->have = true;
        break;
    }
    default: break;
    }
}

void cql_selection_accumulate(cql_selection_t *s, const store_row_t *row) {
    for (size_t i = 0; i < s->nsels; i++) agg_add(s, &s->sels[i], row);
}

bool cql_sel_agg_result(cql_sel_t *sel, wr_t *w) {
    const store_type_t *t = sel->type;
    switch (sel->kind) {
    case CQL_SEL_COUNT: wr_u64(w, (uint64_t)sel->count); return true;
    case CQL_SEL_MIN:
    case CQL_SEL_MAX:
        if (!sel->have) return false;
        wr_bytes(w, sel->best.buf, sel->best.len);
        return true;
    case CQL_SEL_SUM:
    case CQL_SEL_AVG: {
        /* sum and avg of no rows are 0, as in Cassandra */
        bool avg = sel->kind == CQL_SEL_AVG;
        if (is_float_kind(t->kind) || t->kind == STORE_T_DECIMAL) {
            double v = avg ? (sel->count ? sel->dsum / (double)sel->count : 0) : sel->dsum;
            write_number(t->kind, 0, v, true, w);
        } else {
            int64_t v = avg ? (sel->count ? sel->isum / sel->count : 0) : sel->isum;
            write_number(t->kind, v, 0, false, w);
        }
        return true;
    }
    default: return false;
    }
}

/* An aggregated row: aggregates from their state, plain selectors from the group's first row. */
void cql_selection_emit_group(cql_selection_t *s, const store_row_t *first, wr_t *out) {
    if (s->json) {
        write_json(s, first, true, out);
        s->rows++;
        return;
    }
    for (size_t i = 0; i < s->nsels; i++) {
        cql_sel_t *sel = &s->sels[i];
        size_t at = wr_mark(out, 4);
        size_t start = out->len;
        bool present;
        if (sel->aggregate) {
            if (sel->kind >= CQL_SEL_COUNT && sel->kind <= CQL_SEL_AVG) present = cql_sel_agg_result(sel, out);
            else present = first && eval(s, sel, first, out, 0);
        } else {
            present = first && eval(s, sel, first, out, 0);
        }
        wr_patch_u32(out, at, present ? (uint32_t)(out->len - start) : (uint32_t)-1);
    }
    s->rows++;
}
