/* The expression grammar both dialects share.
 *
 * Precedence, loosest first: OR; AND; NOT; comparisons (= != <> < <= > >= IS [NOT] NULL,
 * [NOT] BETWEEN, [NOT] IN, [NOT] LIKE, CONTAINS [KEY]); ||; + -; * / %; unary -; postfix
 * (e[k], e[a..b], e.f, e->k, e->>k); primaries. CQL uses the grammar from + - down: a CQL term
 * (a value in INSERT, SET, WHERE) is an expression that names no column, and a CQL selector is one
 * that may. Pipelines use all of it. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "sql/sql_int.h"

sql_expr_t *sql_new_expr(parser_t *p, sql_expr_kind_t kind, const sql_token_t *at) {
    sql_expr_t *e = PNEW(p, sql_expr_t);
    if (!e) return NULL;
    e->kind = kind;
    e->pos = tok_pos(at);
    return e;
}

static bool tok_is_signed_number(const sql_token_t *t) {
    return t->type == TK_INTEGER || t->type == TK_FLOAT || t->type == TK_DURATION ||
           tok_is_kw(t, KW_NAN) || tok_is_kw(t, KW_INFINITY);
}

/* ---- primaries ------------------------------------------------------------------------------- */

static sql_expr_t *parse_args(parser_t *p, sql_expr_t *call);

/* [a, b] */
static sql_expr_t *parse_list_literal(parser_t *p) {
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_LIST, advance(p));
    if (!e) return NULL;
    size_t mark = stack_mark(p);
    if (!at(p, TK_RBRACKET)) {
        do {
            sql_expr_t *item = sql_parse_selector(p);
            if (!item || !sql_stack_push(p, &item, sizeof item)) return NULL;
        } while (sql_accept(p, TK_COMMA));
    }
    if (!sql_expect(p, TK_RBRACKET) || !STACK_FINISH(p, mark, e->coll.items, e->coll.nitems)) return NULL;
    return e;
}

/* {}, {a, b}, {k: v}, {field: v} */
static sql_expr_t *parse_brace_literal(parser_t *p) {
    const sql_token_t *open = advance(p);
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_SET, open);
    if (!e) return NULL;
    if (sql_accept(p, TK_RBRACE)) return e;
    size_t keys = stack_mark(p);
    /* A name followed by ':' is a field: {name: 'x'} is a user-type (or struct) literal. */
    if (sql_tok_is_name(p, peek(p)) && peek_at(p, 1)->type == TK_COLON) {
        e->kind = SQL_EXPR_UDT;
        do {
            sql_ident_t f;
            if (!sql_parse_ident(p, &f, "a field name") || !sql_stack_push(p, &f, sizeof f)) return NULL;
            if (!sql_expect(p, TK_COLON)) return NULL;
            sql_expr_t *v = sql_parse_selector(p);
            if (!v || !sql_stack_push(p, &v, sizeof v)) return NULL;
        } while (sql_accept(p, TK_COMMA));
        if (!sql_expect(p, TK_RBRACE)) return NULL;
        /* The stack holds (ident, expr*) pairs: split them. */
        if (!STACK_FINISH_PAIRS(p, keys, e->coll.fields, e->coll.values, e->coll.nitems)) return NULL;
        return e;
    }
    sql_expr_t *first = sql_parse_selector(p);
    if (!first) return NULL;
    if (at(p, TK_COLON)) {
        e->kind = SQL_EXPR_MAP;
        sql_expr_t *k = first;
        size_t pairs = stack_mark(p);
        for (;;) {
            if (!sql_expect(p, TK_COLON)) return NULL;
            sql_expr_t *v = sql_parse_selector(p);
            if (!v || !sql_stack_push(p, &k, sizeof k) || !sql_stack_push(p, &v, sizeof v)) return NULL;
            if (!sql_accept(p, TK_COMMA)) break;
            if (!(k = sql_parse_selector(p))) return NULL;
        }
        if (!sql_expect(p, TK_RBRACE)) return NULL;
        if (!STACK_FINISH_PAIRS(p, pairs, e->coll.items, e->coll.values, e->coll.nitems)) return NULL;
        return e;
    }
    if (!sql_stack_push(p, &first, sizeof first)) return NULL;
    while (sql_accept(p, TK_COMMA)) {
        sql_expr_t *item = sql_parse_selector(p);
        if (!item || !sql_stack_push(p, &item, sizeof item)) return NULL;
    }
    if (!sql_expect(p, TK_RBRACE) || !STACK_FINISH(p, keys, e->coll.items, e->coll.nitems)) return NULL;
    return e;
}

/* Whether '(' at the current token opens a CQL type hint "(type) term": the parenthesis holds a
 * type and a term follows it. */
static bool looks_like_hint(parser_t *p) {
    uint32_t i = 1;
    const sql_token_t *t = peek_at(p, i);
    /* Skip over a type: names, '<', '>', ',', '.' up to the closing ')'. */
    int angle = 0;
    bool any = false;
    for (;; t = peek_at(p, ++i)) {
        if (t->type == TK_LT) angle++;
        else if (t->type == TK_GT) angle--;
        else if (t->type == TK_RPAREN && angle == 0) break;
        else if (!(t->type == TK_IDENT || t->type == TK_QIDENT || t->type == TK_DOT ||
                   (t->type == TK_COMMA && angle > 0)))
            return false;
        if (angle < 0 || i > 64) return false;
        any = true;
    }
    if (!any) return false;
    const sql_token_t *first = peek_at(p, 1);
    if (first->type == TK_IDENT && first->kw != KW_NONE && !(sql_kw_flags(first->kw) & KWF_TYPE) &&
        !tok_is_kw(first, KW_FROZEN) && !tok_is_kw(first, KW_MAP) && !tok_is_kw(first, KW_LIST) &&
        !tok_is_kw(first, KW_SET) && !tok_is_kw(first, KW_TUPLE) && !sql_tok_is_name(p, first))
        return false;
    const sql_token_t *next = peek_at(p, i + 1);
    if (sql_tok_is_literal(next)) return true;
    switch (next->type) {
    case TK_QMARK: case TK_COLON: case TK_LPAREN: case TK_LBRACKET: case TK_LBRACE: case TK_MINUS:
        return true;
    case TK_IDENT: case TK_QIDENT: /* a function call */
        return peek_at(p, i + 2)->type == TK_LPAREN || peek_at(p, i + 2)->type == TK_DOT;
    default: return false;
    }
}

/* ( ... ): a type hint (CQL), a tuple, or an expression in parentheses. */
static sql_expr_t *parse_paren(parser_t *p) {
    const sql_token_t *open = peek(p);
    if (is_cql(p) && looks_like_hint(p)) {
        advance(p);
        sql_expr_t *e = sql_new_expr(p, SQL_EXPR_HINT, open);
        if (!e || !(e->cast.type = sql_parse_type(p)) || !sql_expect(p, TK_RPAREN)) return NULL;
        if (!(e->cast.arg = sql_parse_expr_prec(p, PREC_UNARY))) return NULL;
        return e;
    }
    advance(p);
    if (at_kw(p, KW_SELECT)) return sql_fail_at(p, peek(p), SQL_ERR_UNSUPPORTED, "subqueries are not supported"), NULL;
    sql_expr_t *first = sql_parse_selector(p);
    if (!first) return NULL;
    if (sql_accept(p, TK_RPAREN)) {
        first->parens = true;
        return first;
    }
    if (!at(p, TK_COMMA)) return sql_fail_expected(p, "')' or ','"), NULL;
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_TUPLE, open);
    if (!e) return NULL;
    size_t mark = stack_mark(p);
    if (!sql_stack_push(p, &first, sizeof first)) return NULL;
    while (sql_accept(p, TK_COMMA)) {
        sql_expr_t *item = sql_parse_selector(p);
        if (!item || !sql_stack_push(p, &item, sizeof item)) return NULL;
    }
    if (!sql_expect(p, TK_RPAREN) || !STACK_FINISH(p, mark, e->coll.items, e->coll.nitems)) return NULL;
    return e;
}

/* f(args) after the name: count(*), count(DISTINCT x), or arguments. */
static sql_expr_t *parse_args(parser_t *p, sql_expr_t *call) {
    if (!sql_expect(p, TK_LPAREN)) return NULL;
    if (at(p, TK_STAR) && peek_at(p, 1)->type == TK_RPAREN) {
        advance(p);
        advance(p);
        call->call.star = true;
        return call;
    }
    if (!is_cql(p) && sql_accept_kw(p, KW_DISTINCT)) call->call.distinct = true;
    size_t mark = stack_mark(p);
    if (!at(p, TK_RPAREN) || call->call.distinct) {
        do {
            sql_expr_t *a = sql_parse_selector(p);
            if (!a || !sql_stack_push(p, &a, sizeof a)) return NULL;
        } while (sql_accept(p, TK_COMMA));
    }
    if (!sql_expect(p, TK_RPAREN) || !STACK_FINISH(p, mark, call->call.args, call->call.nargs)) return NULL;
    return call;
}

/* Words that may name a function although they are reserved (token(), left(), right()). */
static bool tok_is_function_name(const parser_t *p, const sql_token_t *t) {
    return sql_tok_is_name(p, t) || tok_is_kw(t, KW_TOKEN) || tok_is_kw(t, KW_LEFT) || tok_is_kw(t, KW_RIGHT) ||
           tok_is_kw(t, KW_REPLACE);
}

/* INTERVAL '10' MINUTE, INTERVAL 10 MINUTES, INTERVAL '10 minutes', INTERVAL '1h' (pipelines):
 * a duration literal written in the compact form. */
static sql_expr_t *parse_interval(parser_t *p) {
    const sql_token_t *kw = advance(p);
    const sql_token_t *v = peek(p);
    char num[32];
    size_t nlen = 0;
    const char *unit = NULL;
    size_t ulen = 0;
    sql_expr_t *val = NULL;
    if (v->type == TK_INTEGER) {
        advance(p);
        nlen = EDDY_MIN(v->len, sizeof num - 1);
        memcpy(num, p->text + v->off, nlen);
    } else if (v->type == TK_STRING) {
        if (!(val = sql_literal_from_tok(p, advance(p), false))) return NULL;
        const char *s = val->lit.text;
        size_t i = 0;
        while (i < val->lit.len && s[i] == ' ') i++;
        while (i < val->lit.len && s[i] >= '0' && s[i] <= '9' && nlen < sizeof num - 1) num[nlen++] = s[i++];
        if (nlen && i < val->lit.len && s[i] == ' ') {
            while (i < val->lit.len && s[i] == ' ') i++;
            unit = s + i, ulen = val->lit.len - i;
        } else if (i < val->lit.len) {
            /* A duration in Cassandra's own form: '1h30m'. */
            sql_expr_t *e = sql_new_expr(p, SQL_EXPR_LITERAL, kw);
            if (!e) return NULL;
            e->lit.kind = SQL_LIT_DURATION;
            e->lit.text = val->lit.text;
            e->lit.len = val->lit.len;
            if (!sql_duration_parse(e->lit.text, e->lit.len, &e->lit.v.duration))
                return sql_fail_at(p, v, SQL_ERR_SYNTAX, "invalid interval '%s'", val->lit.text), NULL;
            return e;
        }
    } else {
        return sql_fail_expected(p, "an interval value"), NULL;
    }
    num[nlen] = 0;
    const sql_token_t *u = peek(p);
    if (!unit) {
        if (u->type != TK_IDENT) return sql_fail_expected(p, "an interval unit (SECOND, MINUTE, HOUR, DAY, ...)"), NULL;
        advance(p);
        unit = p->text + u->off, ulen = u->len;
    }
    static const struct {
        const char *name;
        const char *suffix;
    } units[] = {{"year", "y"}, {"month", "mo"}, {"week", "w"}, {"day", "d"}, {"hour", "h"},
                 {"minute", "m"}, {"second", "s"}, {"millisecond", "ms"}, {"microsecond", "us"},
                 {"nanosecond", "ns"}};
    const char *suffix = NULL;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(units) && !suffix; i++) {
        size_t l = strlen(units[i].name);
        if ((ulen == l || (ulen == l + 1 && (unit[l] | 32) == 's')) && strncasecmp(unit, units[i].name, l) == 0)
            suffix = units[i].suffix;
    }
    if (!suffix || !nlen) return sql_fail_at(p, u, SQL_ERR_SYNTAX, "invalid interval unit '%.*s'", (int)EDDY_MIN(ulen, 30), unit), NULL;
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_LITERAL, kw);
    if (!e) return NULL;
    char *text = arena_alloc(p->arena, nlen + 4);
    if (!text) return sql_fail_nomem(p), NULL;
    snprintf(text, nlen + 4, "%s%s", num, suffix);
    e->lit.kind = SQL_LIT_DURATION;
    e->lit.text = text;
    e->lit.len = (uint32_t)strlen(text);
    if (!sql_duration_parse(text, e->lit.len, &e->lit.v.duration))
        return sql_fail_at(p, v, SQL_ERR_SYNTAX, "interval out of range"), NULL;
    return e;
}

/* CASE [operand] WHEN a THEN b ... [ELSE c] END (pipelines). */
static sql_expr_t *parse_case(parser_t *p) {
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_CASE, advance(p));
    if (!e) return NULL;
    if (!at_kw(p, KW_WHEN) && !(e->case_.operand = sql_parse_expr(p))) return NULL;
    size_t mark = stack_mark(p);
    if (!at_kw(p, KW_WHEN)) return sql_fail_expected(p, "WHEN"), NULL;
    while (sql_accept_kw(p, KW_WHEN)) {
        sql_expr_t *w = sql_parse_expr(p);
        if (!w || !sql_expect_kw(p, KW_THEN)) return NULL;
        sql_expr_t *t = sql_parse_expr(p);
        if (!t || !sql_stack_push(p, &w, sizeof w) || !sql_stack_push(p, &t, sizeof t)) return NULL;
    }
    if (sql_accept_kw(p, KW_ELSE) && !(e->case_.otherwise = sql_parse_expr(p))) return NULL;
    if (!sql_expect_kw(p, KW_END)) return NULL;
    if (!STACK_FINISH_PAIRS(p, mark, e->case_.whens, e->case_.thens, e->case_.nwhens)) return NULL;
    return e;
}

static sql_expr_t *parse_primary(parser_t *p) {
    const sql_token_t *t = peek(p);
    if (sql_tok_is_literal(t)) return sql_literal_from_tok(p, advance(p), false);
    switch (t->type) {
    case TK_QMARK:
    case TK_COLON: return sql_parse_bind(p);
    case TK_LPAREN: return parse_paren(p);
    case TK_LBRACKET: return parse_list_literal(p);
    case TK_LBRACE: return parse_brace_literal(p);
    default: break;
    }
    const sql_token_t *next = peek_at(p, 1);
    if (t->type == TK_IDENT && next->type == TK_LPAREN) {
        switch (t->kw) {
        case KW_CAST: {
            sql_expr_t *e = sql_new_expr(p, SQL_EXPR_CAST, t);
            advance(p);
            advance(p);
            if (!e || !(e->cast.arg = sql_parse_selector(p)) || !sql_expect_kw(p, KW_AS) || !(e->cast.type = sql_parse_type(p)) ||
                !sql_expect(p, TK_RPAREN))
                return NULL;
            return e;
        }
        case KW_WRITETIME:
        case KW_TTL: {
            sql_expr_t *e = sql_new_expr(p, t->kw == KW_TTL ? SQL_EXPR_TTL : SQL_EXPR_WRITETIME, t);
            if (!e) return NULL;
            advance(p);
            advance(p);
            bool saved = p->in_cql_term;
            p->in_cql_term = false;
            e->bin.left = sql_parse_expr_prec(p, PREC_UNARY);
            p->in_cql_term = saved;
            if (!e->bin.left || !sql_expect(p, TK_RPAREN)) return NULL;
            return e;
        }
        default: break;
        }
    }
    if (!is_cql(p) && t->type == TK_IDENT) {
        if (t->kw == KW_CASE) return parse_case(p);
        if (t->kw == KW_INTERVAL && (next->type == TK_STRING || next->type == TK_INTEGER)) return parse_interval(p);
        if ((t->kw == KW_DATE || t->kw == KW_TIMESTAMP || t->kw == KW_TIME) && next->type == TK_STRING) {
            sql_expr_t *e = sql_new_expr(p, SQL_EXPR_CAST, t);
            if (!e || !(e->cast.type = sql_parse_type(p)) || !(e->cast.arg = sql_literal_from_tok(p, advance(p), false)))
                return NULL;
            return e;
        }
    }
    if (tok_is_function_name(p, t)) {
        /* name(, or ks.name( */
        bool call = next->type == TK_LPAREN ||
                    (next->type == TK_DOT && sql_tok_is_name(p, peek_at(p, 2)) && peek_at(p, 3)->type == TK_LPAREN);
        if (call) {
            sql_expr_t *e = sql_new_expr(p, SQL_EXPR_CALL, t);
            if (!e) return NULL;
            if (next->type == TK_DOT) {
                if (!sql_parse_qname(p, &e->call.name, "a function name")) return NULL;
            } else if (!sql_ident_from_tok(p, advance(p), &e->call.name.name)) {
                return NULL;
            }
            return parse_args(p, e);
        }
    }
    if (sql_tok_is_name(p, t)) {
        if (p->in_cql_term) {
            char found[64];
            snprintf(found, sizeof found, "'%.*s'", (int)EDDY_MIN(t->len, 40u), p->text + t->off);
            return sql_fail_at(p, t, SQL_ERR_SYNTAX, "expected a value (a literal, a bind marker or a function call), "
                           "found %s", found), NULL;
        }
        sql_expr_t *e = sql_new_expr(p, SQL_EXPR_COLUMN, t);
        if (!e || !sql_ident_from_tok(p, advance(p), &e->column.name)) return NULL;
        return e;
    }
    if (t->type == TK_IDENT && t->kw != KW_NONE) {
        char found[64];
        snprintf(found, sizeof found, "'%.*s'", (int)EDDY_MIN(t->len, 40u), p->text + t->off);
        return sql_fail_at(p, t, SQL_ERR_SYNTAX, "expected %s, found reserved word %s",
                       p->in_cql_term ? "a value" : "an expression", found), NULL;
    }
    return sql_fail_expected(p, p->in_cql_term ? "a value (a literal, a bind marker or a function call)"
                                           : "an expression"), NULL;
}

static sql_expr_t *parse_postfix(parser_t *p) {
    sql_expr_t *e = parse_primary(p);
    while (e) {
        const sql_token_t *t = peek(p);
        if (t->type == TK_LBRACKET) {
            advance(p);
            sql_expr_t *s = sql_new_expr(p, SQL_EXPR_SUBSCRIPT, t);
            if (!s) return NULL;
            s->sub.arg = e;
            bool saved = p->in_cql_term;
            p->in_cql_term = is_cql(p);
            if (!at(p, TK_RANGE) && !(s->sub.key = sql_parse_selector(p))) return NULL;
            if (sql_accept(p, TK_RANGE)) {
                s->kind = SQL_EXPR_SLICE;
                if (!at(p, TK_RBRACKET) && !(s->sub.to = sql_parse_selector(p))) return NULL;
            }
            p->in_cql_term = saved;
            if (!sql_expect(p, TK_RBRACKET)) return NULL;
            e = s;
        } else if (t->type == TK_DOT && (e->kind == SQL_EXPR_COLUMN || e->kind == SQL_EXPR_FIELD ||
                                         e->kind == SQL_EXPR_SUBSCRIPT || e->kind == SQL_EXPR_CALL ||
                                         e->kind == SQL_EXPR_WRITETIME)) {
            if (peek_at(p, 1)->type == TK_STAR) break; /* t.* : the select list's business */
            advance(p);
            sql_expr_t *f = sql_new_expr(p, SQL_EXPR_FIELD, t);
            if (!f || !sql_parse_ident(p, &f->field.field, "a field name")) return NULL;
            f->field.arg = e;
            e = f;
        } else if (!is_cql(p) && (t->type == TK_ARROW || t->type == TK_ARROW2)) {
            advance(p);
            sql_expr_t *j = sql_new_expr(p, SQL_EXPR_BINARY, t);
            if (!j) return NULL;
            j->op = t->type == TK_ARROW ? SQL_OP_JSON_GET : SQL_OP_JSON_GET_TEXT;
            j->bin.left = e;
            if (!(j->bin.right = parse_primary(p))) return NULL;
            e = j;
        } else {
            break;
        }
    }
    return e;
}

static sql_expr_t *parse_unary(parser_t *p) {
    const sql_token_t *t = peek(p);
    if (t->type == TK_MINUS || t->type == TK_PLUS) {
        const sql_token_t *next = peek_at(p, 1);
        if (t->type == TK_MINUS && tok_is_signed_number(next)) {
            advance(p);
            return sql_literal_from_tok(p, advance(p), true);
        }
        advance(p);
        if (!sql_depth_enter(p)) return NULL;
        sql_expr_t *arg = parse_unary(p);
        depth_leave(p);
        if (!arg) return NULL;
        if (t->type == TK_PLUS) return arg;
        sql_expr_t *e = sql_new_expr(p, SQL_EXPR_UNARY, t);
        if (!e) return NULL;
        e->op = SQL_OP_NEG;
        e->bin.left = arg;
        return e;
    }
    return parse_postfix(p);
}

/* ---- binary operators ------------------------------------------------------------------------ */

static sql_expr_t *binary(parser_t *p, const sql_token_t *t, sql_op_t op, sql_expr_t *l, sql_expr_t *r) {
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_BINARY, t);
    if (!e) return NULL;
    e->op = op;
    e->bin.left = l;
    e->bin.right = r;
    e->pos = l->pos;
    return e;
}

/* In a CQL term, "v + c" where c is a bare name ends the term: it is UPDATE's "c = v + c". */
static bool stops_cql_term(const parser_t *p) {
    if (!p->in_cql_term) return false;
    const sql_token_t *n = peek_at(p, 1), *n2 = peek_at(p, 2);
    return sql_tok_is_name(p, n) && n2->type != TK_LPAREN && n2->type != TK_DOT;
}

static sql_expr_t *parse_left_assoc(parser_t *p, sql_prec_t prec);

/* The operator at the current token that binds at level prec, or SQL_OP_NONE. */
static sql_op_t binop_at(const parser_t *p, sql_prec_t prec) {
    const sql_token_t *t = peek(p);
    switch (prec) {
    case PREC_OR: return tok_is_kw(t, KW_OR) ? SQL_OP_OR : SQL_OP_NONE;
    case PREC_AND: return tok_is_kw(t, KW_AND) ? SQL_OP_AND : SQL_OP_NONE;
    case PREC_CONCAT: return t->type == TK_CONCAT ? SQL_OP_CONCAT : SQL_OP_NONE;
    case PREC_ADD:
        if (stops_cql_term(p)) return SQL_OP_NONE;
        return t->type == TK_PLUS ? SQL_OP_ADD : t->type == TK_MINUS ? SQL_OP_SUB : SQL_OP_NONE;
    case PREC_MUL:
        return t->type == TK_STAR ? SQL_OP_MUL : t->type == TK_SLASH ? SQL_OP_DIV
             : t->type == TK_PERCENT ? SQL_OP_MOD : SQL_OP_NONE;
    default: return SQL_OP_NONE;
    }
}

static sql_expr_t *parse_not(parser_t *p);

/* An operand of level prec: the next tighter level. */
static sql_expr_t *parse_operand(parser_t *p, sql_prec_t prec) {
    switch (prec) {
    case PREC_OR: return parse_left_assoc(p, PREC_AND);
    case PREC_AND: return parse_not(p);
    case PREC_CONCAT: return parse_left_assoc(p, PREC_ADD);
    case PREC_ADD: return parse_left_assoc(p, PREC_MUL);
    default: return parse_unary(p);
    }
}

/* a op b op c ..., left-associative, for OR, AND, ||, + -, * / %. */
static sql_expr_t *parse_left_assoc(parser_t *p, sql_prec_t prec) {
    sql_expr_t *l = parse_operand(p, prec);
    sql_op_t op;
    while (l && (op = binop_at(p, prec)) != SQL_OP_NONE) {
        const sql_token_t *t = advance(p);
        sql_expr_t *r = parse_operand(p, prec);
        if (!r) return NULL;
        l = binary(p, t, op, l, r);
    }
    return l;
}

static sql_expr_t *parse_concat(parser_t *p) { return parse_left_assoc(p, PREC_CONCAT); }

/* e [NOT] IN (a, b, ...) */
static sql_expr_t *parse_in_list(parser_t *p, const sql_token_t *t, sql_expr_t *arg, bool negated) {
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_IN, t);
    if (!e) return NULL;
    e->pos = arg->pos;
    e->negated = negated;
    e->in.arg = arg;
    if (!sql_expect(p, TK_LPAREN)) return NULL;
    if (at_kw(p, KW_SELECT)) return sql_fail_at(p, peek(p), SQL_ERR_UNSUPPORTED, "subqueries are not supported"), NULL;
    size_t mark = stack_mark(p);
    if (!at(p, TK_RPAREN)) {
        do {
            sql_expr_t *item = parse_concat(p);
            if (!item || !sql_stack_push(p, &item, sizeof item)) return NULL;
        } while (sql_accept(p, TK_COMMA));
    }
    if (!sql_expect(p, TK_RPAREN) || !STACK_FINISH(p, mark, e->in.items, e->in.nitems)) return NULL;
    return e;
}

static sql_expr_t *parse_cmp(parser_t *p) {
    sql_expr_t *l = parse_concat(p);
    if (!l) return NULL;
    const sql_token_t *t = peek(p);
    sql_op_t op = SQL_OP_NONE;
    switch (t->type) {
    case TK_EQ: op = SQL_OP_EQ; break;
    case TK_NE:
    case TK_LTGT: op = SQL_OP_NE; break;
    case TK_LT: op = SQL_OP_LT; break;
    case TK_LE: op = SQL_OP_LE; break;
    case TK_GT: op = SQL_OP_GT; break;
    case TK_GE: op = SQL_OP_GE; break;
    default: break;
    }
    if (op != SQL_OP_NONE) {
        advance(p);
        sql_expr_t *r = parse_concat(p);
        return r ? binary(p, t, op, l, r) : NULL;
    }
    if (t->type != TK_IDENT) return l;
    if (t->kw == KW_IS) {
        advance(p);
        sql_expr_t *e = sql_new_expr(p, SQL_EXPR_IS_NULL, t);
        if (!e) return NULL;
        e->pos = l->pos;
        e->negated = sql_accept_kw(p, KW_NOT);
        if (!sql_expect_kw(p, KW_NULL)) return NULL;
        e->bin.left = l;
        return e;
    }
    if (t->kw == KW_CONTAINS) {
        advance(p);
        op = sql_accept_kw(p, KW_KEY) ? SQL_OP_CONTAINS_KEY : SQL_OP_CONTAINS;
        sql_expr_t *r = parse_concat(p);
        return r ? binary(p, t, op, l, r) : NULL;
    }
    bool negated = false;
    if (t->kw == KW_NOT) {
        const sql_token_t *n = peek_at(p, 1);
        if (tok_is_kw(n, KW_CONTAINS)) {
            advance(p);
            advance(p);
            op = sql_accept_kw(p, KW_KEY) ? SQL_OP_NOT_CONTAINS_KEY : SQL_OP_NOT_CONTAINS;
            sql_expr_t *r = parse_concat(p);
            return r ? binary(p, t, op, l, r) : NULL;
        }
        if (!tok_is_kw(n, KW_IN) && !tok_is_kw(n, KW_LIKE) && !tok_is_kw(n, KW_BETWEEN)) return l;
        advance(p);
        negated = true;
        t = peek(p);
    }
    switch (t->kw) {
    case KW_IN: advance(p); return parse_in_list(p, t, l, negated);
    case KW_LIKE: {
        advance(p);
        sql_expr_t *r = parse_concat(p);
        return r ? binary(p, t, negated ? SQL_OP_NOT_LIKE : SQL_OP_LIKE, l, r) : NULL;
    }
    case KW_BETWEEN: {
        advance(p);
        sql_expr_t *e = sql_new_expr(p, SQL_EXPR_BETWEEN, t);
        if (!e) return NULL;
        e->pos = l->pos;
        e->negated = negated;
        e->between.arg = l;
        if (!(e->between.low = parse_concat(p)) || !sql_expect_kw(p, KW_AND) || !(e->between.high = parse_concat(p)))
            return NULL;
        return e;
    }
    default: return l;
    }
}

static sql_expr_t *parse_not(parser_t *p) {
    if (at_kw(p, KW_NOT)) {
        const sql_token_t *t = advance(p);
        if (!sql_depth_enter(p)) return NULL;
        sql_expr_t *arg = parse_not(p);
        depth_leave(p);
        if (!arg) return NULL;
        sql_expr_t *e = sql_new_expr(p, SQL_EXPR_UNARY, t);
        if (!e) return NULL;
        e->op = SQL_OP_NOT;
        e->bin.left = arg;
        return e;
    }
    return parse_cmp(p);
}

sql_expr_t *sql_parse_expr_prec(parser_t *p, sql_prec_t min) {
    if (!sql_depth_enter(p)) return NULL;
    sql_expr_t *e;
    switch (min) {
    case PREC_NOT: e = parse_not(p); break;
    case PREC_CMP: e = parse_cmp(p); break;
    case PREC_UNARY: e = parse_unary(p); break;
    default: e = parse_left_assoc(p, min); break;
    }
    depth_leave(p);
    return e;
}

sql_expr_t *sql_parse_expr(parser_t *p) { return sql_parse_expr_prec(p, PREC_OR); }

sql_expr_t *sql_parse_term(parser_t *p) {
    if (!is_cql(p)) return sql_parse_expr(p);
    bool saved = p->in_cql_term;
    p->in_cql_term = true;
    sql_expr_t *e = sql_parse_expr_prec(p, PREC_ADD);
    p->in_cql_term = saved;
    return e;
}

sql_expr_t *sql_parse_selector(parser_t *p) {
    return sql_parse_expr_prec(p, is_cql(p) ? PREC_ADD : PREC_OR);
}

