/* Statements that read and write rows: SELECT, INSERT, UPDATE, DELETE and BATCH, with CQL's WHERE
 * relations, IF conditions and USING clauses. SELECT and INSERT serve both dialects: the pipeline
 * forms (FROM with joins, general WHERE, INSERT INTO ... SELECT) continue in parse_pipeline.c. */
#include "sql/sql_int.h"

/* ---- bind markers' roles --------------------------------------------------------------------- */

static void set_role(sql_expr_t *e, sql_bind_role_t role, const sql_ident_t *cols, uint32_t n) {
    if (!e || e->kind != SQL_EXPR_BIND) return;
    e->bind.role = role;
    e->bind.columns = cols;
    e->bind.ncolumns = n;
}

/* (a, b) = (?, ?): each element binds to its column. */
static void set_tuple_roles(sql_expr_t *e, const sql_ident_t *cols, uint32_t n) {
    if (!e) return;
    if (e->kind == SQL_EXPR_BIND) {
        set_role(e, SQL_BIND_TUPLE, cols, n);
    } else if (e->kind == SQL_EXPR_TUPLE && e->coll.nitems == n) {
        for (uint32_t i = 0; i < n; i++) set_role(e->coll.items[i], SQL_BIND_COLUMN, &cols[i], 1);
    }
}

/* ---- small pieces ---------------------------------------------------------------------------- */

/* An integer (optionally negative) or a bind marker: TTL, TIMESTAMP, LIMIT values. */
static sql_expr_t *parse_int_value(parser_t *p, sql_bind_role_t role) {
    const sql_token_t *t = peek(p);
    if (t->type == TK_QMARK || t->type == TK_COLON) {
        sql_expr_t *e = sql_parse_bind(p);
        set_role(e, role, NULL, 0);
        return e;
    }
    if (t->type == TK_MINUS && peek_at(p, 1)->type == TK_INTEGER) {
        advance(p);
        return sql_literal_from_tok(p, advance(p), true);
    }
    if (t->type == TK_INTEGER) return sql_literal_from_tok(p, advance(p), false);
    return sql_fail_expected(p, is_cql(p) ? "an integer or a bind marker" : "an integer"), NULL;
}

bool sql_parse_using(parser_t *p, sql_using_t *u, bool timestamp_only) {
    if (!sql_accept_kw(p, KW_USING)) return true;
    do {
        const sql_token_t *t = peek(p);
        if (sql_accept_kw(p, KW_TIMESTAMP)) {
            if (u->timestamp) return sql_fail_at(p, t, SQL_ERR_SYNTAX, "TIMESTAMP given twice");
            if (!(u->timestamp = parse_int_value(p, SQL_BIND_TIMESTAMP))) return false;
        } else if (!timestamp_only && sql_accept_kw(p, KW_TTL)) {
            if (u->ttl) return sql_fail_at(p, t, SQL_ERR_SYNTAX, "TTL given twice");
            if (!(u->ttl = parse_int_value(p, SQL_BIND_TTL))) return false;
        } else {
            return sql_fail_expected(p, timestamp_only ? "TIMESTAMP" : "TTL or TIMESTAMP");
        }
    } while (sql_accept_kw(p, KW_AND));
    return true;
}

/* ---- relations ------------------------------------------------------------------------------- */

static bool tok_is_relation_op(const sql_token_t *t) {
    switch (t->type) {
    case TK_EQ: case TK_NE: case TK_LT: case TK_LE: case TK_GT: case TK_GE: return true;
    case TK_IDENT: return t->kw == KW_IN || t->kw == KW_CONTAINS || t->kw == KW_LIKE || t->kw == KW_IS;
    default: return false;
    }
}

static sql_op_t relation_type(parser_t *p) {
    switch (peek(p)->type) {
    case TK_EQ: advance(p); return SQL_OP_EQ;
    case TK_NE: advance(p); return SQL_OP_NE;
    case TK_LT: advance(p); return SQL_OP_LT;
    case TK_LE: advance(p); return SQL_OP_LE;
    case TK_GT: advance(p); return SQL_OP_GT;
    case TK_GE: advance(p); return SQL_OP_GE;
    default: return SQL_OP_NONE;
    }
}

/* '(' term, ... ')' as a TUPLE (even with one element), or a bind marker. */
static sql_expr_t *parse_tuple_value(parser_t *p) {
    const sql_token_t *t = peek(p);
    if (t->type == TK_QMARK || t->type == TK_COLON) return sql_parse_bind(p);
    if (t->type != TK_LPAREN) return sql_fail_expected(p, "a tuple or a bind marker"), NULL;
    advance(p);
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_TUPLE, t);
    if (!e) return NULL;
    size_t mark = stack_mark(p);
    do {
        sql_expr_t *item = sql_parse_term(p);
        if (!item || !sql_stack_push(p, &item, sizeof item)) return NULL;
    } while (sql_accept(p, TK_COMMA));
    if (!sql_expect(p, TK_RPAREN) || !STACK_FINISH(p, mark, e->coll.items, e->coll.nitems)) return NULL;
    return e;
}

/* IN ? | IN (v, ...) where each v is a term, or a tuple for multi-column relations. */
static bool parse_in_values(parser_t *p, sql_relation_t *r, bool tuples) {
    const sql_token_t *t = peek(p);
    if (t->type == TK_QMARK || t->type == TK_COLON) {
        r->in_marker = sql_parse_bind(p);
        set_role(r->in_marker, tuples ? SQL_BIND_TUPLE_IN : SQL_BIND_IN, r->columns, r->ncolumns);
        return r->in_marker != NULL;
    }
    if (!sql_expect(p, TK_LPAREN)) return false;
    size_t mark = stack_mark(p);
    if (!at(p, TK_RPAREN)) {
        do {
            sql_expr_t *v = tuples ? parse_tuple_value(p) : sql_parse_term(p);
            if (!v || !sql_stack_push(p, &v, sizeof v)) return false;
            if (tuples) set_tuple_roles(v, r->columns, r->ncolumns);
            else set_role(v, SQL_BIND_COLUMN, r->columns, 1);
        } while (sql_accept(p, TK_COMMA));
    }
    return sql_expect(p, TK_RPAREN) && STACK_FINISH(p, mark, r->in_values, r->nin);
}

/* (a, b, ...) in a relation. */
static bool parse_name_tuple(parser_t *p, sql_relation_t *r) {
    if (!sql_expect(p, TK_LPAREN)) return false;
    size_t mark = stack_mark(p);
    do {
        sql_ident_t id;
        if (!sql_parse_ident(p, &id, "a column name") || !sql_stack_push(p, &id, sizeof id)) return false;
    } while (sql_accept(p, TK_COMMA));
    return sql_expect(p, TK_RPAREN) && STACK_FINISH(p, mark, r->columns, r->ncolumns);
}

static bool parse_relation(parser_t *p, sql_relation_t *r, bool condition);

static bool parse_relation_inner(parser_t *p, sql_relation_t *r, bool condition) {
    const sql_token_t *t = peek(p);
    r->pos = tok_pos(t);
    if (!condition && t->type == TK_LPAREN) {
        const sql_token_t *n1 = peek_at(p, 1), *n2 = peek_at(p, 2);
        bool tuple = sql_tok_is_name(p, n1) && (n2->type == TK_COMMA ||
                                            (n2->type == TK_RPAREN && tok_is_relation_op(peek_at(p, 3))));
        if (!tuple) { /* ( relation ) */
            advance(p);
            return parse_relation(p, r, condition) && sql_expect(p, TK_RPAREN);
        }
        r->kind = SQL_REL_TUPLE;
        if (!parse_name_tuple(p, r)) return false;
        if (sql_accept_kw(p, KW_IN)) {
            r->op = SQL_OP_IN;
            return parse_in_values(p, r, true);
        }
        if ((r->op = relation_type(p)) == SQL_OP_NONE) return sql_fail_expected(p, "a comparison or IN");
        if (!(r->value = parse_tuple_value(p))) return false;
        set_tuple_roles(r->value, r->columns, r->ncolumns);
        return true;
    }
    if (!condition && tok_is_kw(t, KW_TOKEN) && peek_at(p, 1)->type == TK_LPAREN) {
        advance(p);
        r->kind = SQL_REL_TOKEN;
        if (!parse_name_tuple(p, r)) return false;
        if ((r->op = relation_type(p)) == SQL_OP_NONE) return sql_fail_expected(p, "a comparison (=, <, <=, >, >=)");
        if (!(r->value = sql_parse_term(p))) return false;
        set_role(r->value, SQL_BIND_TOKEN, r->columns, r->ncolumns);
        return true;
    }
    sql_ident_t *col = PNEW(p, sql_ident_t);
    if (!col || !sql_parse_ident(p, col, condition ? "a column name" : "a column name, token( or (")) return false;
    r->kind = SQL_REL_COLUMN;
    r->columns = col;
    r->ncolumns = 1;
    sql_bind_role_t value_role = SQL_BIND_COLUMN;
    if (sql_accept(p, TK_LBRACKET)) {
        r->kind = SQL_REL_ELEMENT;
        if (!(r->key = sql_parse_term(p)) || !sql_expect(p, TK_RBRACKET)) return false;
        set_role(r->key, SQL_BIND_ELEMENT_KEY, col, 1);
        value_role = SQL_BIND_ELEMENT_VALUE;
    } else if (condition && sql_accept(p, TK_DOT)) {
        r->kind = SQL_REL_FIELD;
        if (!sql_parse_ident(p, &r->field, "a field name")) return false;
        value_role = SQL_BIND_FIELD_VALUE;
    }
    if ((r->op = relation_type(p)) != SQL_OP_NONE) {
        if (!(r->value = sql_parse_term(p))) return false;
        set_role(r->value, value_role, col, 1);
        if (value_role == SQL_BIND_FIELD_VALUE) r->value->bind.field = r->field;
        return true;
    }
    if (sql_accept_kw(p, KW_IN)) {
        r->op = SQL_OP_IN;
        if (!parse_in_values(p, r, false)) return false;
        if (r->kind != SQL_REL_COLUMN) { /* c[k] IN (...): the values are elements */
            for (uint32_t i = 0; i < r->nin; i++) set_role(r->in_values[i], value_role, col, 1);
            if (r->in_marker) set_role(r->in_marker, SQL_BIND_UNKNOWN, col, 1);
        }
        return true;
    }
    if (r->kind == SQL_REL_COLUMN && sql_accept_kw(p, KW_CONTAINS)) {
        bool key = sql_accept_kw(p, KW_KEY);
        r->op = key ? SQL_OP_CONTAINS_KEY : SQL_OP_CONTAINS;
        if (!(r->value = sql_parse_term(p))) return false;
        set_role(r->value, key ? SQL_BIND_CONTAINS_KEY : SQL_BIND_CONTAINS, col, 1);
        return true;
    }
    if (r->kind == SQL_REL_COLUMN && !condition && sql_accept_kw(p, KW_LIKE)) {
        r->op = SQL_OP_LIKE;
        if (!(r->value = sql_parse_term(p))) return false;
        set_role(r->value, SQL_BIND_COLUMN, col, 1);
        return true;
    }
    if (r->kind == SQL_REL_COLUMN && !condition && sql_accept_kw(p, KW_IS)) {
        r->op = SQL_OP_IS_NOT_NULL;
        return sql_expect_kw(p, KW_NOT) && sql_expect_kw(p, KW_NULL);
    }
    return sql_fail_expected(p, condition ? "a comparison or IN" : "a relation operator (=, <, >, IN, CONTAINS, ...)");
}

static bool parse_relation(parser_t *p, sql_relation_t *r, bool condition) {
    if (!sql_depth_enter(p)) return false;
    bool ok = parse_relation_inner(p, r, condition);
    depth_leave(p);
    return ok;
}

bool sql_parse_where_relations(parser_t *p, sql_relation_t **out, uint32_t *n, bool conditions) {
    size_t mark = stack_mark(p);
    do {
        sql_relation_t r = {0};
        if (!parse_relation(p, &r, conditions) || !sql_stack_push(p, &r, sizeof r)) return false;
    } while (sql_accept_kw(p, KW_AND));
    if (at_kw(p, KW_OR))
        return sql_fail_at(p, peek(p), SQL_ERR_SYNTAX, "CQL joins %s with AND only: OR is not supported",
                       conditions ? "conditions" : "relations");
    return sql_stack_finish(p, mark, sizeof(sql_relation_t), (void **)out, n);
}

/* IF EXISTS | IF cond AND ... (UPDATE, DELETE). */
static bool parse_if(parser_t *p, bool *if_exists, sql_relation_t **conds, uint32_t *n) {
    if (!sql_accept_kw(p, KW_IF)) return true;
    if (sql_accept_kw(p, KW_EXISTS)) {
        *if_exists = true;
        return true;
    }
    return sql_parse_where_relations(p, conds, n, true);
}

/* ---- SELECT ---------------------------------------------------------------------------------- */

/* After SELECT: is JSON (or DISTINCT) a modifier, or a column of that name? Cassandra decides by
 * whether a select list follows; the next token tells. */
static bool is_modifier(parser_t *p) {
    const sql_token_t *n = peek_at(p, 1);
    switch (n->type) {
    case TK_STAR: return tok_is_kw(peek_at(p, 2), KW_FROM);
    case TK_COMMA: case TK_DOT: case TK_LBRACKET: case TK_PLUS: case TK_MINUS: case TK_SLASH:
    case TK_PERCENT: case TK_LPAREN: case TK_EOF: return false;
    case TK_IDENT: return n->kw != KW_FROM && n->kw != KW_AS;
    default: return true;
    }
}

static bool parse_select_items(parser_t *p, sql_select_t *s) {
    if (at(p, TK_STAR)) {
        advance(p);
        s->star = true;
        return true;
    }
    size_t mark = stack_mark(p);
    do {
        sql_select_item_t item = {0};
        const sql_token_t *t = peek(p);
        if (!is_cql(p) && sql_tok_is_name(p, t) && peek_at(p, 1)->type == TK_DOT && peek_at(p, 2)->type == TK_STAR) {
            /* alias.* */
            if (!(item.expr = sql_new_expr(p, SQL_EXPR_STAR, t)) || !sql_ident_from_tok(p, advance(p), &item.expr->column.qualifier))
                return false;
            advance(p);
            advance(p);
        } else {
            if (!(item.expr = sql_parse_selector(p))) return false;
            if (sql_accept_kw(p, KW_AS)) {
                if (!sql_parse_ident(p, &item.alias, "an alias")) return false;
            } else if (!is_cql(p) && sql_tok_is_name(p, peek(p))) {
                if (!sql_parse_ident(p, &item.alias, "an alias")) return false;
            }
        }
        if (!sql_stack_push(p, &item, sizeof item)) return false;
    } while (sql_accept(p, TK_COMMA));
    return STACK_FINISH(p, mark, s->items, s->nitems);
}

static bool parse_order_by(parser_t *p, sql_select_t *s) {
    size_t mark = stack_mark(p);
    do {
        sql_order_t o = {0};
        if (is_cql(p)) {
            const sql_token_t *t = peek(p);
            if (!(o.expr = sql_new_expr(p, SQL_EXPR_COLUMN, t)) || !sql_parse_ident(p, &o.expr->column.name, "a column name"))
                return false;
        } else if (!(o.expr = sql_parse_expr(p))) {
            return false;
        }
        if (sql_accept_kw(p, KW_DESC)) o.desc = true;
        else sql_accept_kw(p, KW_ASC);
        if (!sql_stack_push(p, &o, sizeof o)) return false;
    } while (sql_accept(p, TK_COMMA));
    return STACK_FINISH(p, mark, s->order_by, s->norder_by);
}

static bool parse_group_by(parser_t *p, sql_select_t *s) {
    size_t mark = stack_mark(p);
    do {
        sql_expr_t *e = sql_parse_selector(p);
        if (!e || !sql_stack_push(p, &e, sizeof e)) return false;
    } while (sql_accept(p, TK_COMMA));
    return STACK_FINISH(p, mark, s->group_by, s->ngroup_by);
}

/* The clauses after FROM, in their order; CQL and pipelines take different subsets. */
static bool parse_select_tail(parser_t *p, sql_select_t *s) {
    if (sql_accept_kw(p, KW_WHERE)) {
        if (is_cql(p)) {
            if (!sql_parse_where_relations(p, &s->where, &s->nwhere, false)) return false;
        } else if (!(s->filter = sql_parse_expr(p))) {
            return false;
        }
    }
    if (at_kw(p, KW_GROUP)) {
        advance(p);
        if (!sql_expect_kw(p, KW_BY) || !parse_group_by(p, s)) return false;
    }
    if (!is_cql(p) && sql_accept_kw(p, KW_HAVING) && !(s->having = sql_parse_expr(p))) return false;
    if (at_kw(p, KW_ORDER)) {
        advance(p);
        if (!sql_expect_kw(p, KW_BY) || !parse_order_by(p, s)) return false;
    }
    if (is_cql(p) && at_kw(p, KW_PER)) {
        advance(p);
        if (!sql_expect_kw(p, KW_PARTITION) || !sql_expect_kw(p, KW_LIMIT) ||
            !(s->per_partition_limit = parse_int_value(p, SQL_BIND_PER_PARTITION_LIMIT)))
            return false;
    }
    if (sql_accept_kw(p, KW_LIMIT) && !(s->limit = parse_int_value(p, SQL_BIND_LIMIT))) return false;
    if (is_cql(p) && sql_accept_kw(p, KW_ALLOW)) {
        if (!sql_expect_kw(p, KW_FILTERING)) return false;
        s->allow_filtering = true;
    }
    return true;
}

/* The SELECT body after the keyword; st is the statement being filled. */
static bool parse_select_into(parser_t *p, sql_select_t *s) {
    if (is_cql(p) && at_kw(p, KW_JSON) && is_modifier(p)) {
        advance(p);
        s->json = true;
    }
    if (at_kw(p, KW_DISTINCT) && (!is_cql(p) || is_modifier(p))) {
        advance(p);
        s->distinct = true;
    }
    if (!parse_select_items(p, s) || !sql_expect_kw(p, KW_FROM)) return false;
    if (is_cql(p)) {
        s->from = PNEW(p, sql_from_t);
        if (!s->from) return false;
        s->nfrom = 1;
        s->from->pos = tok_pos(peek(p));
        if (!sql_parse_qname(p, &s->from->name, "a table name")) return false;
    } else if (!sql_parse_pipeline_select_body(p, s)) {
        return false;
    }
    if (!parse_select_tail(p, s)) return false;
    return is_cql(p) || sql_select_resolve(p, s);
}

sql_stmt_t *sql_parse_select(parser_t *p) {
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_SELECT, advance(p));
    if (!st || !parse_select_into(p, &st->select)) return NULL;
    return st;
}

/* A nested SELECT (INSERT INTO ... SELECT): its own node. */
static sql_select_t *parse_subselect(parser_t *p) {
    if (!sql_expect_kw(p, KW_SELECT)) return NULL;
    sql_select_t *s = PNEW(p, sql_select_t);
    if (!s || !parse_select_into(p, s)) return NULL;
    return s;
}

/* ---- INSERT ---------------------------------------------------------------------------------- */

static bool parse_names(parser_t *p, sql_ident_t **out, uint32_t *n, const char *what) {
    if (!sql_expect(p, TK_LPAREN)) return false;
    size_t mark = stack_mark(p);
    do {
        sql_ident_t id;
        if (!sql_parse_ident(p, &id, what) || !sql_stack_push(p, &id, sizeof id)) return false;
    } while (sql_accept(p, TK_COMMA));
    return sql_expect(p, TK_RPAREN) && sql_stack_finish(p, mark, sizeof(sql_ident_t), (void **)out, n);
}

sql_stmt_t *sql_parse_insert(parser_t *p) {
    const sql_token_t *first = advance(p);
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_INSERT, first);
    if (!st) return NULL;
    sql_insert_t *in = &st->insert;
    if (!is_cql(p)) {
        if (sql_accept_kw(p, KW_OVERWRITE)) {
            in->overwrite = true;
            sql_accept_kw(p, KW_TABLE);
        } else if (!sql_expect_kw(p, KW_INTO)) {
            return NULL;
        }
        if (!sql_parse_qname(p, &in->table, "a table name")) return NULL;
        if (at(p, TK_LPAREN) && !parse_names(p, &in->columns, &in->ncolumns, "a column name")) return NULL;
        if (at_kw(p, KW_VALUES))
            return sql_fail_at(p, peek(p), SQL_ERR_SYNTAX, "a pipeline inserts the rows of a SELECT, not VALUES"), NULL;
        if (!(in->select = parse_subselect(p))) return NULL;
        return st;
    }
    if (!sql_expect_kw(p, KW_INTO) || !sql_parse_qname(p, &in->table, "a table name")) return NULL;
    const sql_token_t *t = peek(p);
    if (sql_accept_kw(p, KW_JSON)) {
        const sql_token_t *v = peek(p);
        if (v->type == TK_STRING || v->type == TK_DSTRING) {
            in->json = sql_literal_from_tok(p, advance(p), false);
        } else if (v->type == TK_QMARK || v->type == TK_COLON) {
            in->json = sql_parse_bind(p);
            set_role(in->json, SQL_BIND_JSON, NULL, 0);
        } else {
            return sql_fail_expected(p, "a JSON string or a bind marker"), NULL;
        }
        if (!in->json) return NULL;
        if (sql_accept_kw(p, KW_DEFAULT)) {
            if (sql_accept_kw(p, KW_UNSET)) in->default_unset = true;
            else if (!sql_expect_kw(p, KW_NULL)) return NULL;
        }
    } else if (t->type == TK_LPAREN) {
        if (!parse_names(p, &in->columns, &in->ncolumns, "a column name") || !sql_expect_kw(p, KW_VALUES) ||
            !sql_expect(p, TK_LPAREN))
            return NULL;
        size_t mark = stack_mark(p);
        do {
            sql_expr_t *v = sql_parse_term(p);
            if (!v || !sql_stack_push(p, &v, sizeof v)) return NULL;
        } while (sql_accept(p, TK_COMMA));
        if (!sql_expect(p, TK_RPAREN) || !STACK_FINISH(p, mark, in->values, in->nvalues)) return NULL;
        if (in->nvalues != in->ncolumns)
            return sql_fail_at(p, t, SQL_ERR_INVALID, "unmatched column names/values: %u names, %u values",
                           in->ncolumns, in->nvalues), NULL;
        for (uint32_t i = 0; i < in->nvalues; i++) set_role(in->values[i], SQL_BIND_COLUMN, &in->columns[i], 1);
    } else {
        return sql_fail_expected(p, "'(' or JSON"), NULL;
    }
    /* Cassandra takes IF NOT EXISTS before USING; either order is accepted here. */
    for (int i = 0; i < 2; i++) {
        if (at_kw(p, KW_IF) && !in->if_not_exists) {
            advance(p);
            if (!sql_expect_kw(p, KW_NOT) || !sql_expect_kw(p, KW_EXISTS)) return NULL;
            in->if_not_exists = true;
        }
        if (at_kw(p, KW_USING) && !in->using_.ttl && !in->using_.timestamp && !sql_parse_using(p, &in->using_, false))
            return NULL;
    }
    return st;
}

/* ---- UPDATE ---------------------------------------------------------------------------------- */

static bool parse_assignment(parser_t *p, sql_assignment_t *a) {
    if (!sql_parse_ident(p, &a->column, "a column name")) return false;
    const sql_token_t *t = peek(p);
    if (sql_accept(p, TK_LBRACKET)) {
        a->kind = SQL_SET_ELEMENT;
        if (!(a->key = sql_parse_term(p)) || !sql_expect(p, TK_RBRACKET) || !sql_expect(p, TK_EQ)) return false;
        set_role(a->key, SQL_BIND_ELEMENT_KEY, &a->column, 1);
        if (!(a->value = sql_parse_term(p))) return false;
        set_role(a->value, SQL_BIND_ELEMENT_VALUE, &a->column, 1);
        return true;
    }
    if (sql_accept(p, TK_DOT)) {
        a->kind = SQL_SET_FIELD;
        if (!sql_parse_ident(p, &a->field, "a field name") || !sql_expect(p, TK_EQ) || !(a->value = sql_parse_term(p)))
            return false;
        set_role(a->value, SQL_BIND_FIELD_VALUE, &a->column, 1);
        if (a->value->kind == SQL_EXPR_BIND) a->value->bind.field = a->field;
        return true;
    }
    if (t->type == TK_PLUSEQ || t->type == TK_MINUSEQ) {
        advance(p);
        a->kind = t->type == TK_PLUSEQ ? SQL_SET_ADD : SQL_SET_SUB;
        if (!(a->value = sql_parse_term(p))) return false;
        set_role(a->value, SQL_BIND_COLUMN, &a->column, 1);
        return true;
    }
    if (!sql_expect(p, TK_EQ)) return false;
    const sql_token_t *v = peek(p), *op = peek_at(p, 1);
    if (sql_tok_is_name(p, v) && (op->type == TK_PLUS || op->type == TK_MINUS)) {
        /* c = c + v, c = c - v */
        sql_ident_t same;
        if (!sql_parse_ident(p, &same, "a column name")) return false;
        if (!sql_ident_eq(&same, &a->column))
            return sql_fail_at(p, v, SQL_ERR_INVALID, "only expressions of the form X = X %c <value> are supported",
                           op->type == TK_PLUS ? '+' : '-');
        advance(p);
        a->kind = op->type == TK_PLUS ? SQL_SET_ADD : SQL_SET_SUB;
        if (!(a->value = sql_parse_term(p))) return false;
        set_role(a->value, SQL_BIND_COLUMN, &a->column, 1);
        return true;
    }
    a->kind = SQL_SET_ASSIGN;
    if (!(a->value = sql_parse_term(p))) return false;
    set_role(a->value, SQL_BIND_COLUMN, &a->column, 1);
    if (at(p, TK_PLUS) && sql_tok_is_name(p, peek_at(p, 1))) {
        /* c = v + c */
        advance(p);
        const sql_token_t *n = peek(p);
        sql_ident_t same;
        if (!sql_parse_ident(p, &same, "a column name")) return false;
        if (!sql_ident_eq(&same, &a->column))
            return sql_fail_at(p, n, SQL_ERR_INVALID, "only expressions of the form X = <value> + X are supported");
        a->kind = SQL_SET_PREPEND;
    }
    return true;
}

sql_stmt_t *sql_parse_update(parser_t *p) {
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_UPDATE, advance(p));
    if (!st) return NULL;
    sql_update_t *u = &st->update;
    if (!sql_parse_qname(p, &u->table, "a table name") || !sql_parse_using(p, &u->using_, false) || !sql_expect_kw(p, KW_SET))
        return NULL;
    size_t mark = stack_mark(p);
    do {
        sql_assignment_t a = {0};
        if (!parse_assignment(p, &a) || !sql_stack_push(p, &a, sizeof a)) return NULL;
    } while (sql_accept(p, TK_COMMA));
    if (!STACK_FINISH(p, mark, u->sets, u->nsets)) return NULL;
    /* The markers' roles were set while each assignment lived on the C stack: point them at the
     * assignment's final copy. */
    for (uint32_t i = 0; i < u->nsets; i++) {
        sql_assignment_t *a = &u->sets[i];
        if (a->key && a->key->kind == SQL_EXPR_BIND) a->key->bind.columns = &a->column;
        if (a->value && a->value->kind == SQL_EXPR_BIND) a->value->bind.columns = &a->column;
    }
    if (!sql_expect_kw(p, KW_WHERE) || !sql_parse_where_relations(p, &u->where, &u->nwhere, false) ||
        !parse_if(p, &u->if_exists, &u->conditions, &u->nconditions))
        return NULL;
    return st;
}

/* ---- DELETE ---------------------------------------------------------------------------------- */

sql_stmt_t *sql_parse_delete(parser_t *p) {
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_DELETE, advance(p));
    if (!st) return NULL;
    sql_delete_t *d = &st->delete_;
    if (!at_kw(p, KW_FROM)) {
        size_t mark = stack_mark(p);
        do {
            sql_delete_target_t t = {0};
            if (!sql_parse_ident(p, &t.column, "a column name or FROM")) return NULL;
            if (sql_accept(p, TK_LBRACKET)) {
                if (!(t.key = sql_parse_term(p)) || !sql_expect(p, TK_RBRACKET)) return NULL;
            } else if (sql_accept(p, TK_DOT) && !sql_parse_ident(p, &t.field, "a field name")) {
                return NULL;
            }
            if (!sql_stack_push(p, &t, sizeof t)) return NULL;
        } while (sql_accept(p, TK_COMMA));
        if (!STACK_FINISH(p, mark, d->targets, d->ntargets)) return NULL;
        for (uint32_t i = 0; i < d->ntargets; i++) set_role(d->targets[i].key, SQL_BIND_ELEMENT_KEY, &d->targets[i].column, 1);
    }
    if (!sql_expect_kw(p, KW_FROM) || !sql_parse_qname(p, &d->table, "a table name") || !sql_parse_using(p, &d->using_, true) ||
        !sql_expect_kw(p, KW_WHERE) || !sql_parse_where_relations(p, &d->where, &d->nwhere, false) ||
        !parse_if(p, &d->if_exists, &d->conditions, &d->nconditions))
        return NULL;
    return st;
}

/* ---- BATCH ----------------------------------------------------------------------------------- */

sql_stmt_t *sql_parse_batch(parser_t *p) {
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_BATCH, advance(p));
    if (!st) return NULL;
    sql_batch_t *b = &st->batch;
    if (sql_accept_kw(p, KW_UNLOGGED)) b->kind = SQL_BATCH_UNLOGGED;
    else if (sql_accept_kw(p, KW_COUNTER)) b->kind = SQL_BATCH_COUNTER;
    if (!sql_expect_kw(p, KW_BATCH) || !sql_parse_using(p, &b->using_, false)) return NULL;
    size_t mark = stack_mark(p);
    while (!at_kw(p, KW_APPLY)) {
        const sql_token_t *t = peek(p);
        sql_stmt_t *s;
        if (t->type == TK_IDENT && t->kw == KW_INSERT) s = sql_parse_insert(p);
        else if (t->type == TK_IDENT && t->kw == KW_UPDATE) s = sql_parse_update(p);
        else if (t->type == TK_IDENT && t->kw == KW_DELETE) s = sql_parse_delete(p);
        else return sql_fail_expected(p, "INSERT, UPDATE, DELETE or APPLY BATCH"), NULL;
        if (!s) return NULL;
        const sql_token_t *last = &p->toks.v[p->pos - 1];
        s->text_off = t->off;
        s->text_len = last->off + last->len - t->off;
        if (!sql_stack_push(p, &s, sizeof s)) return NULL;
        while (sql_accept(p, TK_SEMI)) {
        }
    }
    advance(p);
    if (!sql_expect_kw(p, KW_BATCH) || !STACK_FINISH(p, mark, b->stmts, b->nstmts)) return NULL;
    return st;
}
