/* Values and types, as both dialects write them: literals decoded from their tokens, bind
 * markers, CQL types (native, collections, tuples, frozen, user types) and WITH options.
 * The expression grammar that combines them is in parse_expr.c. */
#include <stdio.h>
#include <stdlib.h>

#include "sql/sql_int.h"

/* ---- literals -------------------------------------------------------------------------------- */

static unsigned hexval(char c) { return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 32) - 'a' + 10); }

/* Copies text with an optional leading '-' into the arena. */
const char *sql_lit_text(parser_t *p, const char *s, size_t n, bool negative, uint32_t *len) {
    char *d = arena_alloc(p->arena, n + 2);
    if (!d) return NULL;
    size_t k = 0;
    if (negative) d[k++] = '-';
    memcpy(d + k, s, n);
    d[k + n] = 0;
    *len = (uint32_t)(k + n);
    return d;
}

/* A literal node for token t (STRING, INTEGER, ..., TRUE, NULL, NAN, INFINITY); negative when a
 * '-' came before it. */
sql_expr_t *sql_literal_from_tok(parser_t *p, const sql_token_t *t, bool negative) {
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_LITERAL, t);
    if (!e) return NULL;
    sql_literal_t *l = &e->lit;
    const char *s = p->text + t->off;
    size_t n = t->len;
    switch (t->type) {
    case TK_STRING:
    case TK_DSTRING: {
        l->kind = SQL_LIT_STRING;
        char *d = arena_alloc(p->arena, n + 1);
        if (!d) goto nomem;
        uint32_t k = 0;
        if (t->type == TK_DSTRING) {
            memcpy(d, s + 2, n - 4);
            k = (uint32_t)(n - 4);
        } else if (!memchr(s + 1, '\'', n - 2)) { /* no '' inside: the common case */
            memcpy(d, s + 1, n - 2);
            k = (uint32_t)(n - 2);
        } else {
            for (size_t i = 1; i + 1 < n; i++) {
                d[k++] = s[i];
                if (s[i] == '\'') i++;
            }
        }
        d[k] = 0;
        l->text = d;
        l->len = k;
        return e;
    }
    case TK_INTEGER: {
        l->kind = SQL_LIT_INTEGER;
        if (!(l->text = sql_lit_text(p, s, n, negative, &l->len))) goto nomem;
        /* Accumulate negatively so that INT64_MIN fits. */
        int64_t v = 0;
        bool fits = true;
        for (size_t i = 0; i < n; i++) {
            int d = s[i] - '0';
            if (v < (INT64_MIN + d) / 10) {
                fits = false;
                break;
            }
            v = v * 10 - d;
        }
        if (fits && !negative) fits = v != INT64_MIN;
        l->fits_i64 = fits;
        l->v.i = fits ? (negative ? v : -v) : 0;
        return e;
    }
    case TK_FLOAT:
        l->kind = SQL_LIT_FLOAT;
        if (!(l->text = sql_lit_text(p, s, n, negative, &l->len))) goto nomem;
        l->v.f = strtod(l->text, NULL);
        return e;
    case TK_HEX: {
        l->kind = SQL_LIT_BLOB;
        size_t digits = n - 2;
        if (digits % 2)
            return sql_fail_at(p, t, SQL_ERR_INVALID, "a blob constant must have an even number of hex digits"),
                   NULL;
        uint8_t *d = arena_alloc(p->arena, digits / 2 + 1);
        if (!d) goto nomem;
        for (size_t i = 0; i < digits / 2; i++) d[i] = (uint8_t)(hexval(s[2 + 2 * i]) << 4 | hexval(s[3 + 2 * i]));
        d[digits / 2] = 0;
        l->text = (const char *)d;
        l->len = (uint32_t)(digits / 2);
        return e;
    }
    case TK_UUID: {
        l->kind = SQL_LIT_UUID;
        sql_uuid_parse(s, n, l->v.uuid);
        char *d = arena_alloc(p->arena, 37);
        if (!d) goto nomem;
        for (int i = 0; i < 36; i++) d[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
        d[36] = 0;
        l->text = d;
        l->len = 36;
        return e;
    }
    case TK_DURATION:
        l->kind = SQL_LIT_DURATION;
        if (!(l->text = sql_lit_text(p, s, n, negative, &l->len))) goto nomem;
        if (!sql_duration_parse(l->text, l->len, &l->v.duration))
            return sql_fail_at(p, t, SQL_ERR_INVALID, "duration out of range"), NULL;
        return e;
    case TK_IDENT:
        switch (t->kw) {
        case KW_TRUE:
        case KW_FALSE:
            l->kind = SQL_LIT_BOOLEAN;
            l->v.b = t->kw == KW_TRUE;
            l->text = l->v.b ? "true" : "false";
            l->len = (uint32_t)strlen(l->text);
            return e;
        case KW_NULL:
            l->kind = SQL_LIT_NULL;
            l->text = "null";
            l->len = 4;
            return e;
        case KW_NAN:
            l->kind = SQL_LIT_FLOAT;
            l->text = negative ? "-NaN" : "NaN";
            l->len = (uint32_t)strlen(l->text);
            l->v.f = negative ? -__builtin_nan("") : __builtin_nan("");
            return e;
        case KW_INFINITY:
            l->kind = SQL_LIT_FLOAT;
            l->text = negative ? "-Infinity" : "Infinity";
            l->len = (uint32_t)strlen(l->text);
            l->v.f = negative ? -__builtin_inf() : __builtin_inf();
            return e;
        default: break;
        }
        break;
    default: break;
    }
    sql_fail_expected(p, "a literal");
    return NULL;
nomem:
    sql_fail_nomem(p);
    return NULL;
}

bool sql_tok_is_literal(const sql_token_t *t) {
    switch (t->type) {
    case TK_STRING: case TK_DSTRING: case TK_INTEGER: case TK_FLOAT: case TK_HEX: case TK_UUID:
    case TK_DURATION:
        return true;
    case TK_IDENT:
        return t->kw == KW_TRUE || t->kw == KW_FALSE || t->kw == KW_NULL || t->kw == KW_NAN ||
               t->kw == KW_INFINITY;
    default: return false;
    }
}


/* ---- bind markers ---------------------------------------------------------------------------- */

sql_expr_t *sql_parse_bind(parser_t *p) {
    const sql_token_t *t = advance(p);
    if (!is_cql(p)) return sql_fail_at(p, t, SQL_ERR_SYNTAX, "bind markers are only allowed in CQL"), NULL;
    if (p->nbinds >= p->limits.max_binds)
        return sql_fail_at(p, t, SQL_ERR_LIMIT, "too many bind markers (the limit is %u)", p->limits.max_binds),
               NULL;
    sql_expr_t *e = sql_new_expr(p, SQL_EXPR_BIND, t);
    if (!e) return NULL;
    if (t->type == TK_COLON && !sql_parse_ident(p, &e->bind.name, "a bind marker name")) return NULL;
    if (p->nbinds == p->bind_cap) {
        uint32_t cap = p->bind_cap ? p->bind_cap * 2 : 16;
        sql_expr_t **v = eddy_realloc(p->binds, cap * sizeof *v);
        if (!v) return sql_fail_nomem(p), NULL;
        p->binds = v;
        p->bind_cap = cap;
    }
    e->bind.index = p->nbinds;
    p->binds[p->nbinds++] = e;
    return e;
}

/* ---- types ----------------------------------------------------------------------------------- */

static const struct {
    sql_kw_t kw;
    sql_type_kind_t kind;
} native_types[] = {
    {KW_ASCII, SQL_TYPE_ASCII}, {KW_BIGINT, SQL_TYPE_BIGINT}, {KW_BLOB, SQL_TYPE_BLOB},
    {KW_BOOLEAN, SQL_TYPE_BOOLEAN}, {KW_COUNTER, SQL_TYPE_COUNTER}, {KW_DATE, SQL_TYPE_DATE},
    {KW_DECIMAL, SQL_TYPE_DECIMAL}, {KW_DOUBLE, SQL_TYPE_DOUBLE}, {KW_DURATION, SQL_TYPE_DURATION},
    {KW_FLOAT, SQL_TYPE_FLOAT}, {KW_INET, SQL_TYPE_INET}, {KW_INT, SQL_TYPE_INT},
    {KW_SMALLINT, SQL_TYPE_SMALLINT}, {KW_TEXT, SQL_TYPE_TEXT}, {KW_VARCHAR, SQL_TYPE_TEXT},
    {KW_TIME, SQL_TYPE_TIME}, {KW_TIMESTAMP, SQL_TYPE_TIMESTAMP}, {KW_TIMEUUID, SQL_TYPE_TIMEUUID},
    {KW_TINYINT, SQL_TYPE_TINYINT}, {KW_UUID, SQL_TYPE_UUID}, {KW_VARINT, SQL_TYPE_VARINT},
};

static const char *type_names[] = {
    [SQL_TYPE_ASCII] = "ascii", [SQL_TYPE_BIGINT] = "bigint", [SQL_TYPE_BLOB] = "blob",
    [SQL_TYPE_BOOLEAN] = "boolean", [SQL_TYPE_COUNTER] = "counter", [SQL_TYPE_DATE] = "date",
    [SQL_TYPE_DECIMAL] = "decimal", [SQL_TYPE_DOUBLE] = "double", [SQL_TYPE_DURATION] = "duration",
    [SQL_TYPE_FLOAT] = "float", [SQL_TYPE_INET] = "inet", [SQL_TYPE_INT] = "int",
    [SQL_TYPE_SMALLINT] = "smallint", [SQL_TYPE_TEXT] = "text", [SQL_TYPE_TIME] = "time",
    [SQL_TYPE_TIMESTAMP] = "timestamp", [SQL_TYPE_TIMEUUID] = "timeuuid", [SQL_TYPE_TINYINT] = "tinyint",
    [SQL_TYPE_UUID] = "uuid", [SQL_TYPE_VARINT] = "varint", [SQL_TYPE_LIST] = "list",
    [SQL_TYPE_SET] = "set", [SQL_TYPE_MAP] = "map", [SQL_TYPE_TUPLE] = "tuple",
    [SQL_TYPE_UDT] = "udt", [SQL_TYPE_CUSTOM] = "custom",
};

const char *sql_type_kind_name(sql_type_kind_t kind) {
    return (unsigned)kind < EDDY_ARRAY_LEN(type_names) && type_names[kind] ? type_names[kind] : "?";
}

static int native_type_of(const sql_token_t *t) {
    if (t->type != TK_IDENT || !(sql_kw_flags(t->kw) & KWF_TYPE)) return -1;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(native_types); i++)
        if (native_types[i].kw == t->kw) return (int)native_types[i].kind;
    return -1;
}

bool sql_tok_starts_type(const parser_t *p) {
    const sql_token_t *t = peek(p);
    if (native_type_of(t) >= 0 || t->type == TK_STRING) return true;
    if (tok_is_kw(t, KW_FROZEN) || tok_is_kw(t, KW_MAP) || tok_is_kw(t, KW_LIST) || tok_is_kw(t, KW_SET) ||
        tok_is_kw(t, KW_TUPLE))
        return peek_at(p, 1)->type == TK_LT;
    return sql_tok_is_name(p, t);
}

static void freeze(sql_type_t *t) {
    t->frozen = true;
    for (uint32_t i = 0; i < t->nparams; i++) freeze(t->params[i]);
}

/* Names Cassandra keeps back for future types. */
static bool reserved_type_name(const sql_ident_t *id) {
    static const char *names[] = {"byte", "complex", "enum", "date", "interval", "macaddr", "bitstring"};
    if (id->quoted) return false;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(names); i++)
        if (strcmp(id->name, names[i]) == 0) return true;
    return false;
}

static sql_type_t *parse_type_inner(parser_t *p) {
    const sql_token_t *t = peek(p);
    sql_type_t *ty = PNEW(p, sql_type_t);
    if (!ty) return NULL;
    ty->pos = tok_pos(t);
    int native = native_type_of(t);
    if (native >= 0) {
        advance(p);
        ty->kind = (sql_type_kind_t)native;
        return ty;
    }
    if (t->type == TK_STRING) {
        sql_expr_t *s = sql_literal_from_tok(p, advance(p), false);
        if (!s) return NULL;
        ty->kind = SQL_TYPE_CUSTOM;
        ty->custom = s->lit.text;
        return ty;
    }
    int nparams = 0; /* fixed count, or -1 for a tuple's any count */
    if (tok_is_kw(t, KW_FROZEN) && peek_at(p, 1)->type == TK_LT) {
        advance(p);
        advance(p);
        sql_type_t *inner = sql_parse_type(p);
        if (!inner || !sql_expect(p, TK_GT)) return NULL;
        freeze(inner);
        return inner;
    } else if (tok_is_kw(t, KW_MAP) && peek_at(p, 1)->type == TK_LT) {
        ty->kind = SQL_TYPE_MAP, nparams = 2;
    } else if (tok_is_kw(t, KW_LIST) && peek_at(p, 1)->type == TK_LT) {
        ty->kind = SQL_TYPE_LIST, nparams = 1;
    } else if (tok_is_kw(t, KW_SET) && peek_at(p, 1)->type == TK_LT) {
        ty->kind = SQL_TYPE_SET, nparams = 1;
    } else if (tok_is_kw(t, KW_TUPLE) && peek_at(p, 1)->type == TK_LT) {
        ty->kind = SQL_TYPE_TUPLE, nparams = -1;
    } else if (sql_tok_is_name(p, t)) {
        ty->kind = SQL_TYPE_UDT;
        if (!sql_parse_qname(p, &ty->udt, "a type")) return NULL;
        if (reserved_type_name(&ty->udt.name))
            return sql_fail_at(p, t, SQL_ERR_SYNTAX, "invalid (reserved) user type name %s", ty->udt.name.name),
                   NULL;
        return ty;
    } else {
        sql_fail_expected(p, "a type");
        return NULL;
    }
    advance(p);
    advance(p);
    size_t mark = stack_mark(p);
    do {
        sql_type_t *param = sql_parse_type(p);
        if (!param || !sql_stack_push(p, &param, sizeof param)) return NULL;
    } while (sql_accept(p, TK_COMMA));
    if (!sql_expect(p, TK_GT) || !STACK_FINISH(p, mark, ty->params, ty->nparams)) return NULL;
    if (nparams > 0 && ty->nparams != (uint32_t)nparams)
        return sql_fail_at(p, t, SQL_ERR_SYNTAX, "%s takes %d type parameter%s, found %u", sql_type_kind_name(ty->kind),
                       nparams, nparams > 1 ? "s" : "", ty->nparams),
               NULL;
    return ty;
}

sql_type_t *sql_parse_type(parser_t *p) {
    if (!sql_depth_enter(p)) return NULL;
    sql_type_t *t = parse_type_inner(p);
    depth_leave(p);
    return t;
}

/* ---- options --------------------------------------------------------------------------------- */

/* One option value: a constant, an unquoted word (as a string), or a map of them. */
static sql_expr_t *parse_option_value(parser_t *p) {
    const sql_token_t *t = peek(p);
    if (t->type == TK_IDENT && t->kw != KW_TRUE && t->kw != KW_FALSE && t->kw != KW_NULL && t->kw != KW_NAN &&
        t->kw != KW_INFINITY && peek_at(p, 1)->type != TK_LPAREN) {
        if (!sql_tok_is_name(p, t)) return sql_fail_expected(p, "an option value"), NULL;
        advance(p);
        sql_expr_t *e = sql_new_expr(p, SQL_EXPR_LITERAL, t);
        if (!e) return NULL;
        e->lit.kind = SQL_LIT_STRING;
        uint32_t n;
        if (!(e->lit.text = sql_lit_text(p, p->text + t->off, t->len, false, &n))) return sql_fail_nomem(p), NULL;
        e->lit.len = n;
        return e;
    }
    bool saved = p->in_cql_term;
    p->in_cql_term = true;
    sql_expr_t *e = sql_parse_expr_prec(p, PREC_UNARY);
    p->in_cql_term = saved;
    if (!e) return NULL;
    bool ok = e->kind == SQL_EXPR_LITERAL || e->kind == SQL_EXPR_MAP ||
              (e->kind == SQL_EXPR_SET && e->coll.nitems == 0);
    if (e->kind == SQL_EXPR_MAP)
        for (uint32_t i = 0; i < e->coll.nitems; i++)
            ok = ok && e->coll.items[i]->kind == SQL_EXPR_LITERAL && e->coll.values[i]->kind == SQL_EXPR_LITERAL;
    if (!ok) {
        if (e->kind == SQL_EXPR_BIND)
            return sql_fail_at(p, t, SQL_ERR_SYNTAX, "bind variables are not supported in DDL queries"), NULL;
        return sql_fail_at(p, t, SQL_ERR_SYNTAX, "invalid option value: expected a constant or a map of constants"),
               NULL;
    }
    return e;
}

bool sql_parse_option(parser_t *p, bool stream_style, size_t mark) {
    sql_option_t o = {0};
    const sql_token_t *t = peek(p);
    if (stream_style && t->type == TK_STRING) {
        /* 'key.name': kept whole. */
        sql_expr_t *s = sql_literal_from_tok(p, advance(p), false);
        if (!s) return false;
        o.name = (sql_ident_t){s->lit.text, s->lit.len, true, tok_pos(t)};
    } else {
        if (!sql_parse_ident(p, &o.name, "an option name")) return false;
        while (stream_style && at(p, TK_DOT)) { /* key.name: kept whole */
            advance(p);
            sql_ident_t part;
            if (!sql_parse_ident(p, &part, "an option name")) return false;
            char *joined = arena_alloc(p->arena, o.name.len + part.len + 2);
            if (!joined) return sql_fail_nomem(p);
            memcpy(joined, o.name.name, o.name.len);
            joined[o.name.len] = '.';
            memcpy(joined + o.name.len + 1, part.name, part.len + 1);
            o.name.name = joined;
            o.name.len += part.len + 1;
        }
    }
    if (!sql_expect(p, TK_EQ) || !(o.value = parse_option_value(p))) return false;
    /* Cassandra: "Multiple definition for property x". */
    for (size_t off = mark; off < p->stack_len; off += sizeof o) {
        sql_option_t prev;
        memcpy(&prev, p->stack + off, sizeof prev);
        if (sql_ident_eq(&prev.name, &o.name))
            return sql_fail_at(p, t, SQL_ERR_SYNTAX, "multiple definition for property %s", o.name.name);
    }
    return sql_stack_push(p, &o, sizeof o);
}

bool sql_parse_option_list(parser_t *p, bool parens, sql_option_t **out, uint32_t *n) {
    size_t mark = stack_mark(p);
    if (parens && !sql_expect(p, TK_LPAREN)) return false;
    do {
        if (!sql_parse_option(p, parens, mark)) return false;
    } while (parens ? sql_accept(p, TK_COMMA) : sql_accept_kw(p, KW_AND));
    if (parens && !sql_expect(p, TK_RPAREN)) return false;
    return sql_stack_finish(p, mark, sizeof(sql_option_t), (void **)out, n);
}
