/* Pipeline SQL: the FROM clause of a pipeline SELECT (sources, CROSS JOIN UNNEST, Spark's
 * LATERAL VIEW, joins with ON) and the resolution of alias.column references.
 * CREATE STREAM lives with the other CREATE statements in parse_ddl.c. */
#include "sql/sql_int.h"

/* [AS] alias [(col, ...)] after a FROM item. Bare aliases are names that are not reserved, so
 * WHERE, JOIN, ON ... end the item. */
static bool parse_alias(parser_t *p, sql_from_t *f, bool columns) {
    if (sql_accept_kw(p, KW_AS)) {
        if (!sql_parse_ident(p, &f->alias, "an alias")) return false;
    } else if (sql_tok_is_name(p, peek(p))) {
        if (!sql_parse_ident(p, &f->alias, "an alias")) return false;
    } else {
        return true;
    }
    if (columns && at(p, TK_LPAREN)) {
        advance(p);
        size_t mark = stack_mark(p);
        do {
            sql_ident_t id;
            if (!sql_parse_ident(p, &id, "a column alias") || !sql_stack_push(p, &id, sizeof id)) return false;
        } while (sql_accept(p, TK_COMMA));
        if (!sql_expect(p, TK_RPAREN) || !STACK_FINISH(p, mark, f->columns, f->ncolumns)) return false;
    }
    return true;
}

static bool parse_call_args(parser_t *p, sql_from_t *f) {
    if (!sql_expect(p, TK_LPAREN)) return false;
    size_t mark = stack_mark(p);
    if (!at(p, TK_RPAREN)) {
        do {
            sql_expr_t *e = sql_parse_expr(p);
            if (!e || !sql_stack_push(p, &e, sizeof e)) return false;
        } while (sql_accept(p, TK_COMMA));
    }
    return sql_expect(p, TK_RPAREN) && STACK_FINISH(p, mark, f->args, f->nargs);
}

/* A source (stream or ks.table) or UNNEST(...). */
static bool parse_from_item(parser_t *p, sql_from_t *f) {
    const sql_token_t *t = peek(p);
    f->pos = tok_pos(t);
    if (tok_is_kw(t, KW_UNNEST) && peek_at(p, 1)->type == TK_LPAREN) {
        advance(p);
        f->kind = SQL_FROM_UNNEST;
        if (!parse_call_args(p, f)) return false;
        if (!f->nargs) return sql_fail_at(p, t, SQL_ERR_SYNTAX, "UNNEST needs an argument");
        if (at_kw(p, KW_WITH) && tok_is_kw(peek_at(p, 1), KW_ORDINALITY)) {
            advance(p);
            advance(p);
            f->ordinality = true;
        }
        return parse_alias(p, f, true);
    }
    if (t->type == TK_LPAREN) return sql_fail_at(p, t, SQL_ERR_UNSUPPORTED, "subqueries in FROM are not supported");
    f->kind = SQL_FROM_NAMED;
    return sql_parse_qname(p, &f->name, "a stream or table name") && parse_alias(p, f, false);
}

/* LATERAL VIEW [OUTER] fn(args) [alias] [AS col, ...] */
static bool parse_lateral_view(parser_t *p, sql_from_t *f) {
    f->kind = SQL_FROM_LATERAL_VIEW;
    f->join = SQL_JOIN_CROSS;
    f->pos = tok_pos(peek(p));
    if (!sql_expect_kw(p, KW_LATERAL) || !sql_expect_kw(p, KW_VIEW)) return false;
    f->outer = sql_accept_kw(p, KW_OUTER);
    if (!sql_parse_qname(p, &f->name, "a generator function (explode, posexplode, ...)") || !parse_call_args(p, f))
        return false;
    if (sql_tok_is_name(p, peek(p)) && !sql_parse_ident(p, &f->alias, "an alias")) return false;
    if (sql_accept_kw(p, KW_AS)) {
        size_t mark = stack_mark(p);
        do {
            sql_ident_t id;
            if (!sql_parse_ident(p, &id, "a column alias") || !sql_stack_push(p, &id, sizeof id)) return false;
        } while (sql_accept(p, TK_COMMA));
        if (!STACK_FINISH(p, mark, f->columns, f->ncolumns)) return false;
    }
    return true;
}

/* The join keyword(s) before the next FROM item, if any. */
static bool parse_join_kind(parser_t *p, sql_join_t *join, bool *more) {
    *more = true;
    if (sql_accept(p, TK_COMMA)) {
        *join = SQL_JOIN_CROSS;
        return true;
    }
    if (sql_accept_kw(p, KW_CROSS)) {
        *join = SQL_JOIN_CROSS;
        return sql_expect_kw(p, KW_JOIN);
    }
    if (sql_accept_kw(p, KW_JOIN)) {
        *join = SQL_JOIN_INNER;
        return true;
    }
    if (sql_accept_kw(p, KW_INNER)) {
        *join = SQL_JOIN_INNER;
        return sql_expect_kw(p, KW_JOIN);
    }
    sql_join_t kinds[] = {SQL_JOIN_LEFT, SQL_JOIN_RIGHT, SQL_JOIN_FULL};
    sql_kw_t kws[] = {KW_LEFT, KW_RIGHT, KW_FULL};
    for (int i = 0; i < 3; i++) {
        if (sql_accept_kw(p, kws[i])) {
            *join = kinds[i];
            sql_accept_kw(p, KW_OUTER);
            return sql_expect_kw(p, KW_JOIN);
        }
    }
    *more = false;
    return true;
}

/* ---- alias.column resolution ----------------------------------------------------------------- */

typedef struct {
    const sql_ident_t **names;
    uint32_t n;
} scope_t;

static void resolve_expr(const scope_t *sc, sql_expr_t *e);

static void resolve_all(const scope_t *sc, sql_expr_t **v, uint32_t n) {
    for (uint32_t i = 0; v && i < n; i++) resolve_expr(sc, v[i]);
}

/* x.y where x names a FROM item and is not itself qualified becomes the column y of x. */
static void resolve_expr(const scope_t *sc, sql_expr_t *e) {
    if (!e) return;
    switch (e->kind) {
    case SQL_EXPR_FIELD: {
        sql_expr_t *a = e->field.arg;
        if (a->kind == SQL_EXPR_COLUMN && !a->column.qualifier.name && !a->parens) {
            for (uint32_t i = 0; i < sc->n; i++) {
                if (!sql_ident_eq(sc->names[i], &a->column.name)) continue;
                sql_ident_t q = a->column.name, name = e->field.field;
                e->kind = SQL_EXPR_COLUMN;
                e->column.qualifier = q;
                e->column.name = name;
                return;
            }
        }
        resolve_expr(sc, a);
        return;
    }
    case SQL_EXPR_CALL: resolve_all(sc, e->call.args, e->call.nargs); return;
    case SQL_EXPR_CAST:
    case SQL_EXPR_HINT: resolve_expr(sc, e->cast.arg); return;
    case SQL_EXPR_WRITETIME:
    case SQL_EXPR_TTL:
    case SQL_EXPR_UNARY:
    case SQL_EXPR_BINARY:
    case SQL_EXPR_IS_NULL:
        resolve_expr(sc, e->bin.left);
        resolve_expr(sc, e->bin.right);
        return;
    case SQL_EXPR_BETWEEN:
        resolve_expr(sc, e->between.arg);
        resolve_expr(sc, e->between.low);
        resolve_expr(sc, e->between.high);
        return;
    case SQL_EXPR_IN:
        resolve_expr(sc, e->in.arg);
        resolve_all(sc, e->in.items, e->in.nitems);
        return;
    case SQL_EXPR_CASE:
        resolve_expr(sc, e->case_.operand);
        resolve_all(sc, e->case_.whens, e->case_.nwhens);
        resolve_all(sc, e->case_.thens, e->case_.nwhens);
        resolve_expr(sc, e->case_.otherwise);
        return;
    case SQL_EXPR_LIST:
    case SQL_EXPR_SET:
    case SQL_EXPR_TUPLE: resolve_all(sc, e->coll.items, e->coll.nitems); return;
    case SQL_EXPR_MAP:
        resolve_all(sc, e->coll.items, e->coll.nitems);
        resolve_all(sc, e->coll.values, e->coll.nitems);
        return;
    case SQL_EXPR_UDT: resolve_all(sc, e->coll.values, e->coll.nitems); return;
    case SQL_EXPR_SUBSCRIPT:
    case SQL_EXPR_SLICE:
        resolve_expr(sc, e->sub.arg);
        resolve_expr(sc, e->sub.key);
        resolve_expr(sc, e->sub.to);
        return;
    default: return;
    }
}

/* Resolves every expression of a pipeline SELECT once its clauses are parsed. */
static bool resolve_select(parser_t *p, sql_select_t *s) {
    const sql_ident_t **names = sql_palloc(p, (s->nfrom + 1) * sizeof *names);
    if (!names) return false;
    scope_t sc = {names, 0};
    for (uint32_t i = 0; i < s->nfrom; i++) {
        const sql_from_t *f = &s->from[i];
        if (f->alias.name) names[sc.n++] = &f->alias;
        else if (f->kind == SQL_FROM_NAMED && !f->name.ks.name) names[sc.n++] = &f->name.name;
    }
    for (uint32_t i = 0; i < s->nitems; i++) resolve_expr(&sc, s->items[i].expr);
    for (uint32_t i = 0; i < s->nfrom; i++) {
        resolve_all(&sc, s->from[i].args, s->from[i].nargs);
        resolve_expr(&sc, s->from[i].on);
    }
    resolve_expr(&sc, s->filter);
    resolve_all(&sc, s->group_by, s->ngroup_by);
    resolve_expr(&sc, s->having);
    for (uint32_t i = 0; i < s->norder_by; i++) resolve_expr(&sc, s->order_by[i].expr);
    return true;
}

/* FROM items and joins; the rest of the SELECT (WHERE ...) follows in parse_dml.c, and the
 * resolution runs from there too: see sql_select_resolve below. */
bool sql_parse_pipeline_select_body(parser_t *p, sql_select_t *s) {
    size_t mark = stack_mark(p);
    sql_from_t first = {0};
    if (!parse_from_item(p, &first) || !sql_stack_push(p, &first, sizeof first)) return false;
    for (;;) {
        sql_from_t f = {0};
        if (at_kw(p, KW_LATERAL)) {
            if (!parse_lateral_view(p, &f) || !sql_stack_push(p, &f, sizeof f)) return false;
            continue;
        }
        bool more;
        if (!parse_join_kind(p, &f.join, &more)) return false;
        if (!more) break;
        if (!parse_from_item(p, &f)) return false;
        if (f.join != SQL_JOIN_CROSS) {
            if (!sql_expect_kw(p, KW_ON) || !(f.on = sql_parse_expr(p))) return false;
        }
        if (!sql_stack_push(p, &f, sizeof f)) return false;
    }
    return STACK_FINISH(p, mark, s->from, s->nfrom);
}

bool sql_select_resolve(parser_t *p, sql_select_t *s) { return resolve_select(p, s); }
