/* The planner's expressions: the SQL parser's trees become engine_expr_t trees with columns
 * resolved to slots, functions looked up, aggregates turned into slots of the group row, and
 * static types checked (a type mismatch is an error at the expression's line and column). */
#include <stdio.h>

#include "engine/engine_plan.h"

int plan_fail(planner_t *p, sql_pos_t pos, const char *fmt, ...) {
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->errstr && p->errlen) sql_format_error(p->errstr, p->errlen, p->text, p->len, pos, "%s", msg);
    return EDDY_ERR_INVALID;
}

engine_expr_t *plan_node(planner_t *p, uint8_t op, uint32_t nargs) {
    engine_expr_t *e = arena_alloc(p->a, sizeof *e);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->op = op;
    e->type = engine_type(ENGINE_ANY);
    e->nargs = nargs;
    if (nargs) {
        e->args = arena_alloc(p->a, nargs * sizeof *e->args);
        if (!e->args) return NULL;
        memset(e->args, 0, nargs * sizeof *e->args);
    }
    return e;
}

char *plan_expr_text(planner_t *p, const sql_expr_t *e) {
    wr_t w;
    wr_init(&w, 64);
    sql_print_expr(&w, e);
    char *s = wr_ok(&w) ? arena_strndup(p->a, w.buf ? (const char *)w.buf : "", w.len) : NULL;
    wr_free(&w);
    return s;
}

int plan_type(planner_t *p, const sql_type_t *t, engine_type_t *out) {
    engine_type_t r = {ENGINE_ANY, ENGINE_ANY, ENGINE_ANY, 64};
    switch (t->kind) {
    case SQL_TYPE_ASCII:
    case SQL_TYPE_TEXT:
    case SQL_TYPE_INET: r.kind = ENGINE_TEXT; break;
    case SQL_TYPE_BIGINT:
    case SQL_TYPE_VARINT:
    case SQL_TYPE_COUNTER: r.kind = ENGINE_INT; break;
    case SQL_TYPE_INT: r.kind = ENGINE_INT, r.bits = 32; break;
    case SQL_TYPE_SMALLINT: r.kind = ENGINE_INT, r.bits = 16; break;
    case SQL_TYPE_TINYINT: r.kind = ENGINE_INT, r.bits = 8; break;
    case SQL_TYPE_BLOB: r.kind = ENGINE_BLOB; break;
    case SQL_TYPE_BOOLEAN: r.kind = ENGINE_BOOL; break;
    case SQL_TYPE_DATE: r.kind = ENGINE_DATE; break;
    case SQL_TYPE_DECIMAL: r.kind = ENGINE_FLOAT, r.bits = 0; break;
    case SQL_TYPE_DOUBLE: r.kind = ENGINE_FLOAT; break;
    case SQL_TYPE_FLOAT: r.kind = ENGINE_FLOAT, r.bits = 32; break;
    case SQL_TYPE_TIMESTAMP: r.kind = ENGINE_TIMESTAMP; break;
    case SQL_TYPE_UUID:
    case SQL_TYPE_TIMEUUID: r.kind = ENGINE_UUID; break;
    case SQL_TYPE_LIST:
    case SQL_TYPE_SET:
    case SQL_TYPE_MAP: {
        r.kind = t->kind == SQL_TYPE_LIST ? ENGINE_LIST : t->kind == SQL_TYPE_SET ? ENGINE_SET : ENGINE_MAP;
        engine_type_t sub[2] = {engine_type(ENGINE_ANY), engine_type(ENGINE_ANY)};
        for (uint32_t i = 0; i < t->nparams && i < 2; i++) {
            /* Nested collections are carried as dynamic values. */
            if (t->params[i]->kind == SQL_TYPE_LIST || t->params[i]->kind == SQL_TYPE_SET ||
                t->params[i]->kind == SQL_TYPE_MAP || t->params[i]->kind == SQL_TYPE_TUPLE ||
                t->params[i]->kind == SQL_TYPE_UDT)
                continue;
            int rc = plan_type(p, t->params[i], &sub[i]);
            if (rc) return rc;
        }
        if (r.kind == ENGINE_MAP) r.key = sub[0].kind, r.elem = sub[1].kind;
        else r.elem = sub[0].kind;
        break;
    }
    case SQL_TYPE_TUPLE:
    case SQL_TYPE_UDT: r.kind = ENGINE_ANY; break;
    default: return plan_fail(p, t->pos, "type %s is not supported in pipelines", sql_type_kind_name(t->kind));
    }
    *out = r;
    return EDDY_OK;
}

static bool is_num(uint8_t k) { return k == ENGINE_INT || k == ENGINE_FLOAT; }
static bool dyn(uint8_t k) { return k == ENGINE_ANY || k == ENGINE_NULL; }

bool plan_type_fits(engine_type_t from, engine_type_t to) {
    if (dyn(from.kind) || to.kind == ENGINE_ANY) return true;
    if (from.kind == to.kind) {
        if (from.kind == ENGINE_LIST || from.kind == ENGINE_SET)
            return dyn(from.elem) || to.elem == ENGINE_ANY || from.elem == to.elem || (is_num(from.elem) && to.elem == ENGINE_FLOAT);
        if (from.kind == ENGINE_MAP)
            return (dyn(from.key) || to.key == ENGINE_ANY || from.key == to.key) &&
                   (dyn(from.elem) || to.elem == ENGINE_ANY || from.elem == to.elem);
        return true;
    }
    if (from.kind == ENGINE_INT && to.kind == ENGINE_FLOAT) return true;
    if (from.kind == ENGINE_LIST && to.kind == ENGINE_SET) return true; /* a list becomes a set */
    if (from.kind == ENGINE_JSON && to.kind == ENGINE_MAP) return true;
    if (from.kind == ENGINE_DATE && to.kind == ENGINE_TIMESTAMP) return true;
    return false;
}

/* ---- columns ------------------------------------------------------------------------------- */

static int tmp_new(planner_t *p, int base_col) {
    if (p->ntmp == p->captmp) {
        uint32_t cap = p->captmp ? p->captmp * 2 : 32;
        int *t = arena_alloc(p->a, cap * sizeof *t);
        if (!t) return -1;
        if (p->ntmp) memcpy(t, p->tmp_base, p->ntmp * sizeof *t);
        p->tmp_base = t;
        p->captmp = cap;
    }
    p->tmp_base[p->ntmp] = base_col;
    return (int)p->ntmp++;
}

static engine_expr_t *slot_ref(planner_t *p, plan_col_t *c, int index) {
    if (c->tmp < 0 && (c->tmp = tmp_new(p, c->base ? index : -1)) < 0) return NULL;
    engine_expr_t *e = plan_node(p, EX_SLOT, 0);
    if (!e) return NULL;
    e->slot = c->tmp;
    e->sub = 1; /* a row slot: renumbered when the plan is finished */
    e->type = c->type;
    return e;
}

int plan_col_tmp(planner_t *p, int col) {
    plan_col_t *c = &p->cols[col];
    if (c->tmp < 0) c->tmp = tmp_new(p, c->base ? col : -1);
    return c->tmp;
}

static bool ident_eq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

int plan_column(planner_t *p, const sql_ident_t *qual, const sql_ident_t *name, sql_pos_t pos, engine_expr_t **out) {
    if (p->group_ctx)
        return plan_fail(p, pos, "column %s must appear in GROUP BY or be used in an aggregate", name->name);
    int found = -1;
    for (uint32_t i = 0; i < p->ncols; i++) {
        plan_col_t *c = &p->cols[i];
        if (!ident_eq(c->name, name->name)) continue;
        if (qual && qual->name && !ident_eq(c->qual, qual->name)) continue;
        if (found >= 0 && (!qual || !qual->name))
            return plan_fail(p, pos, "column %s is ambiguous: qualify it (%s.%s or %s.%s)", name->name,
                             p->cols[found].qual ? p->cols[found].qual : "?", name->name, c->qual ? c->qual : "?",
                             name->name);
        if (found < 0) found = (int)i;
    }
    if (found < 0 && p->schemaless && (!qual || !qual->name || ident_eq(qual->name, p->src_qual))) {
        /* A schemaless stream: the name is a member of the JSON value, of dynamic type. */
        if (p->ncols == p->capcols) {
            uint32_t cap = p->capcols * 2 + 8;
            plan_col_t *c = arena_alloc(p->a, cap * sizeof *c);
            if (!c) return EDDY_ERR_NOMEM;
            memcpy(c, p->cols, p->ncols * sizeof *c);
            p->cols = c;
            p->capcols = cap;
        }
        plan_col_t *c = &p->cols[p->ncols];
        *c = (plan_col_t){p->src_qual, name->name, -1, true, false, {IN_FIELD, engine_type(ENGINE_ANY), (char *)name->name, 0},
                          engine_type(ENGINE_ANY)};
        found = (int)p->ncols++;
    }
    if (found < 0) {
        char avail[200] = "";
        for (uint32_t i = 0; i < p->ncols && strlen(avail) < 150; i++)
            if (!p->cols[i].sys)
                snprintf(avail + strlen(avail), sizeof avail - strlen(avail), "%s%s", avail[0] ? ", " : "", p->cols[i].name);
        if (qual && qual->name)
            return plan_fail(p, pos, "unknown column %s.%s (columns: %s)", qual->name, name->name, avail);
        return plan_fail(p, pos, "unknown column %s (columns: %s)", name->name, avail);
    }
    return (*out = slot_ref(p, &p->cols[found], found)) ? EDDY_OK : EDDY_ERR_NOMEM;
}

/* ---- aggregates ------------------------------------------------------------------------------ */

static bool is_agg_call(const sql_expr_t *e) {
    return e->kind == SQL_EXPR_CALL && !e->call.name.ks.name &&
           engine_agg_lookup(e->call.name.name.name, e->call.name.name.len, e->call.distinct, e->call.star) >= 0;
}

bool plan_has_agg(const sql_expr_t *e) {
    if (!e) return false;
    switch (e->kind) {
    case SQL_EXPR_CALL:
        if (is_agg_call(e)) return true;
        for (uint32_t i = 0; i < e->call.nargs; i++)
            if (plan_has_agg(e->call.args[i])) return true;
        return false;
    case SQL_EXPR_CAST:
    case SQL_EXPR_HINT: return plan_has_agg(e->cast.arg);
    case SQL_EXPR_UNARY:
    case SQL_EXPR_BINARY:
    case SQL_EXPR_IS_NULL: return plan_has_agg(e->bin.left) || plan_has_agg(e->bin.right);
    case SQL_EXPR_BETWEEN: return plan_has_agg(e->between.arg) || plan_has_agg(e->between.low) || plan_has_agg(e->between.high);
    case SQL_EXPR_IN:
        if (plan_has_agg(e->in.arg)) return true;
        for (uint32_t i = 0; i < e->in.nitems; i++)
            if (plan_has_agg(e->in.items[i])) return true;
        return false;
    case SQL_EXPR_CASE:
        if (plan_has_agg(e->case_.operand) || plan_has_agg(e->case_.otherwise)) return true;
        for (uint32_t i = 0; i < e->case_.nwhens; i++)
            if (plan_has_agg(e->case_.whens[i]) || plan_has_agg(e->case_.thens[i])) return true;
        return false;
    case SQL_EXPR_SUBSCRIPT: return plan_has_agg(e->sub.arg) || plan_has_agg(e->sub.key);
    case SQL_EXPR_FIELD: return plan_has_agg(e->field.arg);
    default: return false;
    }
}

static int plan_agg(planner_t *p, const sql_expr_t *e, engine_expr_t **out) {
    if (!p->aggs_allowed) return plan_fail(p, e->pos, "aggregates are not allowed here");
    engine_query_t *q = p->q;
    const char *name = e->call.name.name.name;
    int kind = engine_agg_lookup(name, e->call.name.name.len, e->call.distinct, e->call.star);
    if (kind != AGG_COUNT_STAR && e->call.nargs != 1)
        return plan_fail(p, e->pos, "%s takes one argument", name);
    engine_agg_t agg = {(uint8_t)kind, NULL, engine_type(ENGINE_INT)};
    engine_type_t argt = engine_type(ENGINE_ANY);
    if (kind != AGG_COUNT_STAR) {
        /* The argument is computed on input rows, outside the group context. */
        bool saved = p->group_ctx, saved_aggs = p->aggs_allowed;
        p->group_ctx = false;
        p->aggs_allowed = false;
        int rc = plan_expr(p, e->call.args[0], &agg.arg);
        p->group_ctx = saved;
        p->aggs_allowed = saved_aggs;
        if (rc) return rc;
        argt = agg.arg->type;
    }
    char err[160];
    if (engine_agg_check(kind, argt, &agg.type, err, sizeof err)) return plan_fail(p, e->pos, "%s", err);
    if (q->nagg == p->capagg) {
        uint32_t cap = p->capagg ? p->capagg * 2 : 8;
        engine_agg_t *aggs = arena_alloc(p->a, cap * sizeof *aggs);
        if (!aggs) return EDDY_ERR_NOMEM;
        if (q->nagg) memcpy(aggs, q->aggs, q->nagg * sizeof *aggs);
        q->aggs = aggs;
        p->capagg = cap;
    }
    q->aggs[q->nagg] = agg;
    engine_expr_t *s = plan_node(p, EX_SLOT, 0);
    if (!s) return EDDY_ERR_NOMEM;
    s->slot = (int)(q->ngroup + q->nagg++); /* the group row: keys, then aggregates */
    s->type = agg.type;
    *out = s;
    return EDDY_OK;
}

/* ---- expressions ----------------------------------------------------------------------------- */

static int literal(planner_t *p, const sql_expr_t *e, engine_expr_t **out) {
    const sql_literal_t *l = &e->lit;
    engine_expr_t *k = plan_node(p, EX_CONST, 0);
    if (!k) return EDDY_ERR_NOMEM;
    switch (l->kind) {
    case SQL_LIT_NULL: k->k = engine_null(); k->type = engine_type(ENGINE_NULL); break;
    case SQL_LIT_STRING: {
        char *s = arena_memdup(p->a, l->len ? l->text : "", l->len ? l->len : 1);
        if (!s) return EDDY_ERR_NOMEM;
        k->k = engine_text(s, l->len);
        k->type = engine_type(ENGINE_TEXT);
        break;
    }
    case SQL_LIT_INTEGER:
        if (!l->fits_i64) return plan_fail(p, e->pos, "integer %s does not fit in 64 bits", l->text);
        k->k = engine_int(l->v.i);
        k->type = engine_type(ENGINE_INT);
        break;
    case SQL_LIT_FLOAT: k->k = engine_float(l->v.f); k->type = engine_type(ENGINE_FLOAT); break;
    case SQL_LIT_BOOLEAN: k->k = engine_bool(l->v.b); k->type = engine_type(ENGINE_BOOL); break;
    case SQL_LIT_UUID: {
        char *u = arena_memdup(p->a, l->v.uuid, 16);
        if (!u) return EDDY_ERR_NOMEM;
        k->k = (engine_val_t){.kind = ENGINE_UUID, .len = 16, .s = u};
        k->type = engine_type(ENGINE_UUID);
        break;
    }
    case SQL_LIT_BLOB: {
        char *b = arena_memdup(p->a, l->len ? l->text : "", l->len ? l->len : 1);
        if (!b) return EDDY_ERR_NOMEM;
        k->k = (engine_val_t){.kind = ENGINE_BLOB, .len = l->len, .s = b};
        k->type = engine_type(ENGINE_BLOB);
        break;
    }
    default: return plan_fail(p, e->pos, "durations are not supported in pipelines");
    }
    *out = k;
    return EDDY_OK;
}

static int args_n(planner_t *p, sql_expr_t *const *src, uint32_t n, engine_expr_t *e, uint32_t at) {
    for (uint32_t i = 0; i < n; i++) {
        int rc = plan_expr(p, src[i], &e->args[at + i]);
        if (rc) return rc;
    }
    return EDDY_OK;
}

static int need_bool(planner_t *p, const sql_expr_t *src, const engine_expr_t *e, const char *what) {
    if (e->type.kind == ENGINE_BOOL || dyn(e->type.kind)) return EDDY_OK;
    char tn[48];
    return plan_fail(p, src->pos, "%s needs a boolean, not %s", what, engine_type_str(e->type, tn, sizeof tn));
}

static bool comparable(engine_type_t a, engine_type_t b) {
    if (dyn(a.kind) || dyn(b.kind) || a.kind == b.kind) return true;
    if (is_num(a.kind) && is_num(b.kind)) return true;
    if ((a.kind == ENGINE_DATE || a.kind == ENGINE_TIMESTAMP) && (b.kind == ENGINE_DATE || b.kind == ENGINE_TIMESTAMP)) return true;
    /* Text compares with dates and timestamps written as literals ('2021-01-01'). */
    if ((a.kind == ENGINE_TEXT && (b.kind == ENGINE_DATE || b.kind == ENGINE_TIMESTAMP)) ||
        (b.kind == ENGINE_TEXT && (a.kind == ENGINE_DATE || a.kind == ENGINE_TIMESTAMP)))
        return true;
    return false;
}

/* A text constant compared with a timestamp or date is read as one at plan time. */
static void coerce_text_const(planner_t *p, engine_expr_t *k, engine_type_t want) {
    if (k->op != EX_CONST || k->k.kind != ENGINE_TEXT || (want.kind != ENGINE_TIMESTAMP && want.kind != ENGINE_DATE)) return;
    engine_val_t v;
    if (engine_val_cast(p->a, &k->k, want, &v) == EDDY_OK) {
        k->k = v;
        k->type = want;
    }
}

static int binary(planner_t *p, const sql_expr_t *e, engine_expr_t **out) {
    engine_expr_t *l, *r;
    int rc;
    if ((rc = plan_expr(p, e->bin.left, &l)) || (rc = plan_expr(p, e->bin.right, &r))) return rc;
    char lt[48], rt[48];
    engine_expr_t *n = NULL;
    switch (e->op) {
    case SQL_OP_ADD:
    case SQL_OP_SUB:
    case SQL_OP_MUL:
    case SQL_OP_DIV:
    case SQL_OP_MOD: {
        static const uint8_t ops[] = {[SQL_OP_ADD] = AR_ADD, [SQL_OP_SUB] = AR_SUB, [SQL_OP_MUL] = AR_MUL,
                                      [SQL_OP_DIV] = AR_DIV, [SQL_OP_MOD] = AR_MOD};
        uint8_t a = l->type.kind, b = r->type.kind;
        engine_type_t t = engine_type(ENGINE_ANY);
        bool time_l = a == ENGINE_TIMESTAMP || a == ENGINE_DATE;
        if (dyn(a) || dyn(b)) t = engine_type(ENGINE_ANY);
        else if (a == ENGINE_INT && b == ENGINE_INT) t = engine_type(ENGINE_INT);
        else if (is_num(a) && is_num(b)) t = engine_type(ENGINE_FLOAT);
        else if (time_l && b == ENGINE_INT && (e->op == SQL_OP_ADD || e->op == SQL_OP_SUB)) t = engine_type(a);
        else if (time_l && a == b && e->op == SQL_OP_SUB) t = engine_type(ENGINE_INT);
        else
            return plan_fail(p, e->pos, "type mismatch: %s %s %s", engine_type_str(l->type, lt, sizeof lt),
                             sql_op_name(e->op), engine_type_str(r->type, rt, sizeof rt));
        if (!(n = plan_node(p, EX_ARITH, 2))) return EDDY_ERR_NOMEM;
        n->sub = ops[e->op];
        n->type = t;
        break;
    }
    case SQL_OP_CONCAT:
        if (!(n = plan_node(p, EX_CONCAT, 2))) return EDDY_ERR_NOMEM;
        n->type = engine_type(ENGINE_TEXT);
        break;
    case SQL_OP_EQ:
    case SQL_OP_NE:
    case SQL_OP_LT:
    case SQL_OP_LE:
    case SQL_OP_GT:
    case SQL_OP_GE: {
        static const uint8_t ops[] = {[SQL_OP_EQ] = CMP_EQ, [SQL_OP_NE] = CMP_NE, [SQL_OP_LT] = CMP_LT,
                                      [SQL_OP_LE] = CMP_LE, [SQL_OP_GT] = CMP_GT, [SQL_OP_GE] = CMP_GE};
        if (!comparable(l->type, r->type))
            return plan_fail(p, e->pos, "type mismatch: cannot compare %s with %s", engine_type_str(l->type, lt, sizeof lt),
                             engine_type_str(r->type, rt, sizeof rt));
        coerce_text_const(p, r, l->type);
        coerce_text_const(p, l, r->type);
        if (!(n = plan_node(p, EX_CMP, 2))) return EDDY_ERR_NOMEM;
        n->sub = ops[e->op];
        n->type = engine_type(ENGINE_BOOL);
        break;
    }
    case SQL_OP_AND:
    case SQL_OP_OR:
        if ((rc = need_bool(p, e->bin.left, l, sql_op_name(e->op))) || (rc = need_bool(p, e->bin.right, r, sql_op_name(e->op))))
            return rc;
        if (!(n = plan_node(p, e->op == SQL_OP_AND ? EX_AND : EX_OR, 2))) return EDDY_ERR_NOMEM;
        n->type = engine_type(ENGINE_BOOL);
        break;
    case SQL_OP_LIKE:
    case SQL_OP_NOT_LIKE:
        if (!(n = plan_node(p, EX_LIKE, 2))) return EDDY_ERR_NOMEM;
        n->sub = e->op == SQL_OP_NOT_LIKE;
        n->type = engine_type(ENGINE_BOOL);
        break;
    case SQL_OP_CONTAINS:
    case SQL_OP_NOT_CONTAINS: {
        /* c CONTAINS v (CQL's collection test) is array_contains(c, v). */
        if (!(n = plan_node(p, EX_CALL, 2))) return EDDY_ERR_NOMEM;
        n->fn = engine_func_find("array_contains", 14);
        n->type = engine_type(ENGINE_BOOL);
        n->args[0] = l;
        n->args[1] = r;
        if (e->op == SQL_OP_NOT_CONTAINS) {
            engine_expr_t *nn = plan_node(p, EX_NOT, 1);
            if (!nn) return EDDY_ERR_NOMEM;
            nn->args[0] = n;
            nn->type = n->type;
            n = nn;
        }
        *out = n;
        return EDDY_OK;
    }
    case SQL_OP_JSON_GET:
    case SQL_OP_JSON_GET_TEXT: {
        if (!(n = plan_node(p, EX_INDEX, 2))) return EDDY_ERR_NOMEM;
        n->args[0] = l;
        n->args[1] = r;
        if (e->op == SQL_OP_JSON_GET) {
            *out = n;
            return EDDY_OK;
        }
        engine_expr_t *c = plan_node(p, EX_CAST, 1);
        if (!c) return EDDY_ERR_NOMEM;
        c->args[0] = n;
        c->cast_to = c->type = engine_type(ENGINE_TEXT);
        *out = c;
        return EDDY_OK;
    }
    default: return plan_fail(p, e->pos, "operator %s is not supported in pipelines", sql_op_name(e->op));
    }
    n->args[0] = l;
    n->args[1] = r;
    *out = n;
    return EDDY_OK;
}

static int call(planner_t *p, const sql_expr_t *e, engine_expr_t **out) {
    if (is_agg_call(e)) return plan_agg(p, e, out);
    const sql_ident_t *name = &e->call.name.name;
    if (e->call.name.ks.name) return plan_fail(p, e->pos, "unknown function %s.%s", e->call.name.ks.name, name->name);
    const engine_func_t *fn = engine_func_find(name->name, name->len);
    if (!fn) return plan_fail(p, e->pos, "unknown function %s", name->name);
    if (e->call.distinct || e->call.star) return plan_fail(p, e->pos, "%s is not an aggregate", name->name);
    if (e->call.nargs > 64) return plan_fail(p, e->pos, "too many arguments to %s", name->name);
    engine_expr_t *n = plan_node(p, EX_CALL, e->call.nargs);
    if (!n) return EDDY_ERR_NOMEM;
    n->fn = fn;
    int rc = args_n(p, e->call.args, e->call.nargs, n, 0);
    if (rc) return rc;
    engine_type_t types[64];
    for (uint32_t i = 0; i < e->call.nargs; i++) types[i] = n->args[i]->type;
    char err[200];
    if (engine_func_check(fn, types, (int)e->call.nargs, &n->type, err, sizeof err)) return plan_fail(p, e->pos, "%s", err);
    if (fn->volatile_) p->volatile_seen = true;
    *out = n;
    return EDDY_OK;
}

static int group_key_slot(planner_t *p, const sql_expr_t *e, engine_expr_t **out) {
    char *text = plan_expr_text(p, e);
    if (!text) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < p->ngroup; i++) {
        if (strcmp(text, p->group_text[i]) != 0) continue;
        engine_expr_t *s = plan_node(p, EX_SLOT, 0);
        if (!s) return EDDY_ERR_NOMEM;
        s->slot = (int)i;
        s->type = p->q->group[i]->type;
        *out = s;
        return 1;
    }
    return 0;
}

int plan_expr(planner_t *p, const sql_expr_t *e, engine_expr_t **out) {
    int rc;
    engine_expr_t *n;
    if (p->group_ctx && e->kind != SQL_EXPR_LITERAL) {
        if ((rc = group_key_slot(p, e, out)) != 0) return rc < 0 ? rc : EDDY_OK;
    }
    switch (e->kind) {
    case SQL_EXPR_LITERAL: return literal(p, e, out);
    case SQL_EXPR_BIND: return plan_fail(p, e->pos, "bind markers are not allowed in pipelines");
    case SQL_EXPR_COLUMN: {
        const sql_ident_t *q = e->column.qualifier.name ? &e->column.qualifier : NULL;
        return plan_column(p, q, &e->column.name, e->pos, out);
    }
    case SQL_EXPR_STAR: return plan_fail(p, e->pos, "* is only allowed as a whole select item");
    case SQL_EXPR_CALL: return call(p, e, out);
    case SQL_EXPR_CAST:
    case SQL_EXPR_HINT: {
        engine_type_t t;
        if ((rc = plan_type(p, e->cast.type, &t))) return rc;
        if (!(n = plan_node(p, EX_CAST, 1))) return EDDY_ERR_NOMEM;
        if ((rc = plan_expr(p, e->cast.arg, &n->args[0]))) return rc;
        n->cast_to = n->type = t;
        /* A cast of a constant is done now: DATE '2021-01-01' needs no work per row. */
        if (n->args[0]->op == EX_CONST) {
            engine_val_t v;
            if (engine_val_cast(p->a, &n->args[0]->k, t, &v) != EDDY_OK) {
                char tn[48];
                return plan_fail(p, e->pos, "cannot cast this constant to %s", engine_type_str(t, tn, sizeof tn));
            }
            n->op = EX_CONST;
            n->k = v;
        }
        *out = n;
        return EDDY_OK;
    }
    case SQL_EXPR_UNARY:
        if (!(n = plan_node(p, e->op == SQL_OP_NOT ? EX_NOT : EX_NEG, 1))) return EDDY_ERR_NOMEM;
        if ((rc = plan_expr(p, e->bin.left, &n->args[0]))) return rc;
        if (e->op == SQL_OP_NOT) {
            if ((rc = need_bool(p, e->bin.left, n->args[0], "NOT"))) return rc;
            n->type = engine_type(ENGINE_BOOL);
        } else {
            if (!dyn(n->args[0]->type.kind) && !is_num(n->args[0]->type.kind)) {
                char tn[48];
                return plan_fail(p, e->pos, "type mismatch: cannot negate %s", engine_type_str(n->args[0]->type, tn, sizeof tn));
            }
            n->type = n->args[0]->type;
        }
        *out = n;
        return EDDY_OK;
    case SQL_EXPR_BINARY: return binary(p, e, out);
    case SQL_EXPR_IS_NULL:
        if (!(n = plan_node(p, EX_IS_NULL, 1))) return EDDY_ERR_NOMEM;
        n->sub = e->negated;
        n->type = engine_type(ENGINE_BOOL);
        if ((rc = plan_expr(p, e->bin.left, &n->args[0]))) return rc;
        *out = n;
        return EDDY_OK;
    case SQL_EXPR_BETWEEN:
        if (!(n = plan_node(p, EX_BETWEEN, 3))) return EDDY_ERR_NOMEM;
        n->sub = e->negated;
        n->type = engine_type(ENGINE_BOOL);
        if ((rc = plan_expr(p, e->between.arg, &n->args[0])) || (rc = plan_expr(p, e->between.low, &n->args[1])) ||
            (rc = plan_expr(p, e->between.high, &n->args[2])))
            return rc;
        coerce_text_const(p, n->args[1], n->args[0]->type);
        coerce_text_const(p, n->args[2], n->args[0]->type);
        *out = n;
        return EDDY_OK;
    case SQL_EXPR_IN:
        if (e->in.marker) return plan_fail(p, e->pos, "bind markers are not allowed in pipelines");
        if (!(n = plan_node(p, EX_IN, e->in.nitems + 1))) return EDDY_ERR_NOMEM;
        n->sub = e->negated;
        n->type = engine_type(ENGINE_BOOL);
        if ((rc = plan_expr(p, e->in.arg, &n->args[0])) || (rc = args_n(p, e->in.items, e->in.nitems, n, 1))) return rc;
        for (uint32_t i = 1; i < n->nargs; i++) coerce_text_const(p, n->args[i], n->args[0]->type);
        *out = n;
        return EDDY_OK;
    case SQL_EXPR_CASE: {
        uint32_t nargs = (e->case_.operand ? 1 : 0) + 2 * e->case_.nwhens + (e->case_.otherwise ? 1 : 0), k = 0;
        if (!(n = plan_node(p, EX_CASE, nargs))) return EDDY_ERR_NOMEM;
        n->has_operand = e->case_.operand != NULL;
        n->has_else = e->case_.otherwise != NULL;
        if (e->case_.operand && (rc = plan_expr(p, e->case_.operand, &n->args[k++]))) return rc;
        n->type = engine_type(ENGINE_NULL);
        for (uint32_t i = 0; i < e->case_.nwhens; i++) {
            if ((rc = plan_expr(p, e->case_.whens[i], &n->args[k]))) return rc;
            if (!e->case_.operand && (rc = need_bool(p, e->case_.whens[i], n->args[k], "WHEN"))) return rc;
            if ((rc = plan_expr(p, e->case_.thens[i], &n->args[k + 1]))) return rc;
            engine_type_t t = n->args[k + 1]->type;
            if (n->type.kind == ENGINE_NULL) n->type = t;
            else if (!dyn(t.kind) && t.kind != n->type.kind) n->type = is_num(t.kind) && is_num(n->type.kind) ? engine_type(ENGINE_FLOAT) : engine_type(ENGINE_ANY);
            k += 2;
        }
        if (e->case_.otherwise && (rc = plan_expr(p, e->case_.otherwise, &n->args[k]))) return rc;
        if (n->type.kind == ENGINE_NULL) n->type = engine_type(ENGINE_ANY);
        *out = n;
        return EDDY_OK;
    }
    case SQL_EXPR_LIST:
    case SQL_EXPR_SET:
    case SQL_EXPR_MAP: {
        bool is_map = e->kind == SQL_EXPR_MAP;
        uint32_t nargs = e->coll.nitems * (is_map ? 2 : 1);
        if (!(n = plan_node(p, EX_COLL, nargs))) return EDDY_ERR_NOMEM;
        n->sub = e->kind == SQL_EXPR_LIST ? ENGINE_LIST : e->kind == SQL_EXPR_SET ? ENGINE_SET : ENGINE_MAP;
        n->type = (engine_type_t){n->sub, ENGINE_ANY, ENGINE_ANY, 0};
        for (uint32_t i = 0; i < e->coll.nitems; i++) {
            if ((rc = plan_expr(p, e->coll.items[i], &n->args[is_map ? 2 * i : i]))) return rc;
            if (is_map && (rc = plan_expr(p, e->coll.values[i], &n->args[2 * i + 1]))) return rc;
        }
        if (nargs) {
            if (is_map) n->type.key = n->args[0]->type.kind, n->type.elem = n->args[1]->type.kind;
            else n->type.elem = n->args[0]->type.kind;
        }
        *out = n;
        return EDDY_OK;
    }
    case SQL_EXPR_SUBSCRIPT:
    case SQL_EXPR_FIELD: {
        if (!(n = plan_node(p, EX_INDEX, 2))) return EDDY_ERR_NOMEM;
        const sql_expr_t *base = e->kind == SQL_EXPR_SUBSCRIPT ? e->sub.arg : e->field.arg;
        if ((rc = plan_expr(p, base, &n->args[0]))) return rc;
        if (e->kind == SQL_EXPR_SUBSCRIPT) {
            if ((rc = plan_expr(p, e->sub.key, &n->args[1]))) return rc;
        } else {
            engine_expr_t *k = plan_node(p, EX_CONST, 0);
            if (!k) return EDDY_ERR_NOMEM;
            k->k = engine_text(e->field.field.name, e->field.field.len);
            k->type = engine_type(ENGINE_TEXT);
            n->args[1] = k;
        }
        engine_type_t bt = n->args[0]->type;
        if (bt.kind == ENGINE_LIST || bt.kind == ENGINE_SET || bt.kind == ENGINE_MAP) n->type = engine_type(bt.elem);
        else if (!dyn(bt.kind) && bt.kind != ENGINE_JSON) {
            char tn[48];
            return plan_fail(p, e->pos, "type mismatch: %s has no elements or members", engine_type_str(bt, tn, sizeof tn));
        }
        *out = n;
        return EDDY_OK;
    }
    default: return plan_fail(p, e->pos, "this expression is not supported in pipelines");
    }
}
