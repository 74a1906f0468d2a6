/* The AST printer: canonical text for statements, expressions, types and names.
 *
 * Keywords come out upper case, names bare when they can be and "quoted" otherwise, literals in a
 * form the lexer reads back to the same value, and parentheses where the source had them or where
 * precedence needs them. sql_parse(sql_print(ast)) gives the same AST again, which the unit tests
 * check for every statement form; DESCRIBE output and error messages build on the same pieces. */
#include <stdio.h>

#include "sql/sql_int.h"

typedef struct {
    wr_t *w;
    unsigned reserved; /* keyword flags that force quoting: KWF_CQL and/or KWF_PIPE */
} pr_t;

static void put(pr_t *pr, const char *s) { wr_str(pr->w, s); }

/* ---- names and literals ---------------------------------------------------------------------- */

static bool bare_ok(const char *s, size_t n, unsigned reserved) {
    if (n == 0 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    /* "p1d" is fine: only upper-case P starts a duration. */
    return !(sql_kw_flags(sql_kw_lookup(s, n)) & reserved);
}

static void print_name(pr_t *pr, const char *s, size_t n) {
    if (bare_ok(s, n, pr->reserved)) {
        wr_bytes(pr->w, s, n);
        return;
    }
    wr_u8(pr->w, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') wr_u8(pr->w, '"');
        wr_u8(pr->w, (uint8_t)s[i]);
    }
    wr_u8(pr->w, '"');
}

static void print_ident(pr_t *pr, const sql_ident_t *id) { print_name(pr, id->name ? id->name : "", id->len); }

void sql_print_ident(wr_t *w, const char *name, size_t len) {
    pr_t pr = {w, KWF_CQL};
    print_name(&pr, name, len);
}

void sql_print_string(wr_t *w, const char *s, size_t len) {
    wr_u8(w, '\'');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'') wr_u8(w, '\'');
        wr_u8(w, (uint8_t)s[i]);
    }
    wr_u8(w, '\'');
}

static void print_qname(pr_t *pr, const sql_qname_t *q) {
    if (q->ks.name) {
        print_ident(pr, &q->ks);
        wr_u8(pr->w, '.');
    }
    print_ident(pr, &q->name);
}

void sql_print_qname(wr_t *w, const sql_qname_t *q) {
    pr_t pr = {w, KWF_CQL};
    print_qname(&pr, q);
}

static void print_literal(pr_t *pr, const sql_literal_t *l) {
    switch (l->kind) {
    case SQL_LIT_NULL: put(pr, "NULL"); return;
    case SQL_LIT_STRING: sql_print_string(pr->w, l->text, l->len); return;
    case SQL_LIT_BLOB: {
        static const char hex[] = "0123456789abcdef";
        put(pr, "0x");
        for (uint32_t i = 0; i < l->len; i++) {
            uint8_t b = (uint8_t)l->text[i];
            wr_u8(pr->w, (uint8_t)hex[b >> 4]);
            wr_u8(pr->w, (uint8_t)hex[b & 15]);
        }
        return;
    }
    default: wr_bytes(pr->w, l->text, l->len); return;
    }
}

/* ---- types ----------------------------------------------------------------------------------- */

/* Every frozen collection, tuple or user type says so, as Cassandra writes types in its schema
 * tables: frozen<map<text, frozen<list<int>>>>. */
static void print_type(pr_t *pr, const sql_type_t *t) {
    bool open_frozen = t->frozen && t->kind >= SQL_TYPE_LIST && t->kind <= SQL_TYPE_UDT;
    if (open_frozen) put(pr, "frozen<");
    switch (t->kind) {
    case SQL_TYPE_UDT: print_qname(pr, &t->udt); break;
    case SQL_TYPE_CUSTOM: sql_print_string(pr->w, t->custom, strlen(t->custom)); break;
    case SQL_TYPE_LIST:
    case SQL_TYPE_SET:
    case SQL_TYPE_MAP:
    case SQL_TYPE_TUPLE:
        put(pr, sql_type_kind_name(t->kind));
        wr_u8(pr->w, '<');
        for (uint32_t i = 0; i < t->nparams; i++) {
            if (i) put(pr, ", ");
            print_type(pr, t->params[i]);
        }
        wr_u8(pr->w, '>');
        break;
    default: put(pr, sql_type_kind_name(t->kind)); break;
    }
    if (open_frozen) wr_u8(pr->w, '>');
}

void sql_print_type(wr_t *w, const sql_type_t *t) {
    pr_t pr = {w, KWF_CQL};
    print_type(&pr, t);
}

/* ---- expressions ----------------------------------------------------------------------------- */

static const char *op_names[] = {
    [SQL_OP_NONE] = "", [SQL_OP_ADD] = "+", [SQL_OP_SUB] = "-", [SQL_OP_MUL] = "*", [SQL_OP_DIV] = "/",
    [SQL_OP_MOD] = "%", [SQL_OP_CONCAT] = "||", [SQL_OP_EQ] = "=", [SQL_OP_NE] = "!=", [SQL_OP_LT] = "<",
    [SQL_OP_LE] = "<=", [SQL_OP_GT] = ">", [SQL_OP_GE] = ">=", [SQL_OP_IN] = "IN",
    [SQL_OP_NOT_IN] = "NOT IN", [SQL_OP_CONTAINS] = "CONTAINS", [SQL_OP_CONTAINS_KEY] = "CONTAINS KEY",
    [SQL_OP_NOT_CONTAINS] = "NOT CONTAINS", [SQL_OP_NOT_CONTAINS_KEY] = "NOT CONTAINS KEY", [SQL_OP_LIKE] = "LIKE",
    [SQL_OP_NOT_LIKE] = "NOT LIKE", [SQL_OP_IS_NOT_NULL] = "IS NOT NULL", [SQL_OP_BETWEEN] = "BETWEEN",
    [SQL_OP_AND] = "AND", [SQL_OP_OR] = "OR", [SQL_OP_NOT] = "NOT",
    [SQL_OP_NEG] = "-", [SQL_OP_JSON_GET] = "->", [SQL_OP_JSON_GET_TEXT] = "->>",
};

const char *sql_op_name(sql_op_t op) {
    return (unsigned)op < EDDY_ARRAY_LEN(op_names) && op_names[op] ? op_names[op] : "?";
}

enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_CONCAT, P_ADD, P_MUL, P_UNARY, P_POSTFIX, P_PRIMARY };

static int expr_prec(const sql_expr_t *e) {
    switch (e->kind) {
    case SQL_EXPR_BINARY:
        switch (e->op) {
        case SQL_OP_OR: return P_OR;
        case SQL_OP_AND: return P_AND;
        case SQL_OP_CONCAT: return P_CONCAT;
        case SQL_OP_ADD: case SQL_OP_SUB: return P_ADD;
        case SQL_OP_MUL: case SQL_OP_DIV: case SQL_OP_MOD: return P_MUL;
        case SQL_OP_JSON_GET: case SQL_OP_JSON_GET_TEXT: return P_POSTFIX;
        default: return P_CMP;
        }
    case SQL_EXPR_UNARY: return e->op == SQL_OP_NOT ? P_NOT : P_UNARY;
    case SQL_EXPR_IS_NULL: case SQL_EXPR_BETWEEN: case SQL_EXPR_IN: return P_CMP;
    case SQL_EXPR_HINT: return P_UNARY;
    case SQL_EXPR_SUBSCRIPT: case SQL_EXPR_SLICE: case SQL_EXPR_FIELD: return P_POSTFIX;
    case SQL_EXPR_LITERAL: return e->lit.text && e->lit.text[0] == '-' ? P_UNARY : P_PRIMARY;
    default: return P_PRIMARY;
    }
}

static void print_expr(pr_t *pr, const sql_expr_t *e, int min);

static void print_list(pr_t *pr, sql_expr_t *const *v, uint32_t n, int min) {
    for (uint32_t i = 0; i < n; i++) {
        if (i) put(pr, ", ");
        print_expr(pr, v[i], min);
    }
}

static void print_expr_inner(pr_t *pr, const sql_expr_t *e) {
    wr_t *w = pr->w;
    int prec = expr_prec(e);
    switch (e->kind) {
    case SQL_EXPR_LITERAL: print_literal(pr, &e->lit); return;
    case SQL_EXPR_BIND:
        if (e->bind.name.name) {
            wr_u8(w, ':');
            print_ident(pr, &e->bind.name);
        } else {
            wr_u8(w, '?');
        }
        return;
    case SQL_EXPR_COLUMN:
        if (e->column.qualifier.name) {
            print_ident(pr, &e->column.qualifier);
            wr_u8(w, '.');
        }
        print_ident(pr, &e->column.name);
        return;
    case SQL_EXPR_STAR:
        if (e->column.qualifier.name) {
            print_ident(pr, &e->column.qualifier);
            wr_u8(w, '.');
        }
        wr_u8(w, '*');
        return;
    case SQL_EXPR_CALL: {
        /* Function names print as written: token, left and right are reserved words, but they
         * are read as names before '('. */
        const sql_qname_t *q = &e->call.name;
        if (q->ks.name) {
            print_ident(pr, &q->ks);
            wr_u8(w, '.');
        }
        const sql_ident_t *n = &q->name;
        sql_kw_t kw = sql_kw_lookup(n->name, n->len);
        if (!n->quoted && (kw == KW_TOKEN || kw == KW_LEFT || kw == KW_RIGHT || kw == KW_REPLACE))
            wr_bytes(w, n->name, n->len);
        else
            print_ident(pr, n);
        wr_u8(w, '(');
        if (e->call.star) wr_u8(w, '*');
        if (e->call.distinct) put(pr, "DISTINCT ");
        print_list(pr, e->call.args, e->call.nargs, P_OR);
        wr_u8(w, ')');
        return;
    }
    case SQL_EXPR_CAST:
        put(pr, "CAST(");
        print_expr(pr, e->cast.arg, P_OR);
        put(pr, " AS ");
        print_type(pr, e->cast.type);
        wr_u8(w, ')');
        return;
    case SQL_EXPR_HINT:
        wr_u8(w, '(');
        print_type(pr, e->cast.type);
        put(pr, ") ");
        print_expr(pr, e->cast.arg, P_UNARY);
        return;
    case SQL_EXPR_WRITETIME:
    case SQL_EXPR_TTL:
        put(pr, e->kind == SQL_EXPR_TTL ? "ttl(" : "writetime(");
        print_expr(pr, e->bin.left, P_OR);
        wr_u8(w, ')');
        return;
    case SQL_EXPR_UNARY:
        if (e->op == SQL_OP_NOT) {
            put(pr, "NOT ");
            print_expr(pr, e->bin.left, P_NOT);
        } else {
            /* "- " keeps "--" (a comment) from appearing before a negative operand. */
            const sql_expr_t *a = e->bin.left;
            bool minus_first = !a->parens && ((a->kind == SQL_EXPR_LITERAL && a->lit.text && a->lit.text[0] == '-') ||
                                              (a->kind == SQL_EXPR_UNARY && a->op == SQL_OP_NEG));
            put(pr, minus_first ? "- " : "-");
            print_expr(pr, a, P_UNARY);
        }
        return;
    case SQL_EXPR_BINARY:
        if (prec == P_POSTFIX) { /* -> ->> */
            print_expr(pr, e->bin.left, P_POSTFIX);
            put(pr, sql_op_name(e->op));
            print_expr(pr, e->bin.right, P_PRIMARY);
            return;
        }
        print_expr(pr, e->bin.left, prec == P_CMP ? P_CONCAT : prec);
        wr_u8(w, ' ');
        put(pr, sql_op_name(e->op));
        wr_u8(w, ' ');
        print_expr(pr, e->bin.right, prec + 1);
        return;
    case SQL_EXPR_IS_NULL:
        print_expr(pr, e->bin.left, P_CONCAT);
        put(pr, e->negated ? " IS NOT NULL" : " IS NULL");
        return;
    case SQL_EXPR_BETWEEN:
        print_expr(pr, e->between.arg, P_CONCAT);
        put(pr, e->negated ? " NOT BETWEEN " : " BETWEEN ");
        print_expr(pr, e->between.low, P_CONCAT);
        put(pr, " AND ");
        print_expr(pr, e->between.high, P_CONCAT);
        return;
    case SQL_EXPR_IN:
        print_expr(pr, e->in.arg, P_CONCAT);
        put(pr, e->negated ? " NOT IN (" : " IN (");
        print_list(pr, e->in.items, e->in.nitems, P_CONCAT);
        wr_u8(w, ')');
        return;
    case SQL_EXPR_CASE:
        put(pr, "CASE");
        if (e->case_.operand) {
            wr_u8(w, ' ');
            print_expr(pr, e->case_.operand, P_OR);
        }
        for (uint32_t i = 0; i < e->case_.nwhens; i++) {
            put(pr, " WHEN ");
            print_expr(pr, e->case_.whens[i], P_OR);
            put(pr, " THEN ");
            print_expr(pr, e->case_.thens[i], P_OR);
        }
        if (e->case_.otherwise) {
            put(pr, " ELSE ");
            print_expr(pr, e->case_.otherwise, P_OR);
        }
        put(pr, " END");
        return;
    case SQL_EXPR_LIST:
        wr_u8(w, '[');
        print_list(pr, e->coll.items, e->coll.nitems, P_OR);
        wr_u8(w, ']');
        return;
    case SQL_EXPR_SET:
        wr_u8(w, '{');
        print_list(pr, e->coll.items, e->coll.nitems, P_OR);
        wr_u8(w, '}');
        return;
    case SQL_EXPR_TUPLE:
        wr_u8(w, '(');
        print_list(pr, e->coll.items, e->coll.nitems, P_OR);
        wr_u8(w, ')');
        return;
    case SQL_EXPR_MAP:
    case SQL_EXPR_UDT:
        wr_u8(w, '{');
        for (uint32_t i = 0; i < e->coll.nitems; i++) {
            if (i) put(pr, ", ");
            if (e->kind == SQL_EXPR_UDT) print_ident(pr, &e->coll.fields[i]);
            else print_expr(pr, e->coll.items[i], P_OR);
            put(pr, ": ");
            print_expr(pr, e->coll.values[i], P_OR);
        }
        wr_u8(w, '}');
        return;
    case SQL_EXPR_SUBSCRIPT:
    case SQL_EXPR_SLICE:
        print_expr(pr, e->sub.arg, P_POSTFIX);
        wr_u8(w, '[');
        if (e->sub.key) print_expr(pr, e->sub.key, P_OR);
        if (e->kind == SQL_EXPR_SLICE) {
            put(pr, "..");
            if (e->sub.to) print_expr(pr, e->sub.to, P_OR);
        }
        wr_u8(w, ']');
        return;
    case SQL_EXPR_FIELD:
        print_expr(pr, e->field.arg, P_POSTFIX);
        wr_u8(w, '.');
        print_ident(pr, &e->field.field);
        return;
    }
}

static void print_expr(pr_t *pr, const sql_expr_t *e, int min) {
    bool parens = e->parens || expr_prec(e) < min;
    if (parens) wr_u8(pr->w, '(');
    print_expr_inner(pr, e);
    if (parens) wr_u8(pr->w, ')');
}

void sql_print_expr(wr_t *w, const sql_expr_t *e) {
    pr_t pr = {w, KWF_CQL | KWF_PIPE};
    print_expr(&pr, e, P_OR);
}

/* ---- statement pieces ------------------------------------------------------------------------ */

static void print_names(pr_t *pr, const sql_ident_t *v, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (i) put(pr, ", ");
        print_ident(pr, &v[i]);
    }
}

static void print_options(pr_t *pr, const sql_option_t *o, uint32_t n, bool stream) {
    if (stream) put(pr, "(");
    for (uint32_t i = 0; i < n; i++) {
        if (i) put(pr, stream ? ", " : " AND ");
        if (stream && !bare_ok(o[i].name.name, o[i].name.len, pr->reserved))
            sql_print_string(pr->w, o[i].name.name, o[i].name.len);
        else
            print_ident(pr, &o[i].name);
        put(pr, " = ");
        print_expr(pr, o[i].value, P_OR);
    }
    if (stream) put(pr, ")");
}

static void print_using(pr_t *pr, const sql_using_t *u) {
    if (!u->ttl && !u->timestamp) return;
    put(pr, " USING ");
    if (u->ttl) {
        put(pr, "TTL ");
        print_expr(pr, u->ttl, P_OR);
    }
    if (u->ttl && u->timestamp) put(pr, " AND ");
    if (u->timestamp) {
        put(pr, "TIMESTAMP ");
        print_expr(pr, u->timestamp, P_OR);
    }
}

static void print_relation(pr_t *pr, const sql_relation_t *r) {
    switch (r->kind) {
    case SQL_REL_TUPLE:
        wr_u8(pr->w, '(');
        print_names(pr, r->columns, r->ncolumns);
        wr_u8(pr->w, ')');
        break;
    case SQL_REL_TOKEN:
        put(pr, "token(");
        print_names(pr, r->columns, r->ncolumns);
        wr_u8(pr->w, ')');
        break;
    default:
        print_ident(pr, &r->columns[0]);
        if (r->kind == SQL_REL_ELEMENT) {
            wr_u8(pr->w, '[');
            print_expr(pr, r->key, P_OR);
            wr_u8(pr->w, ']');
        } else if (r->kind == SQL_REL_FIELD) {
            wr_u8(pr->w, '.');
            print_ident(pr, &r->field);
        }
        break;
    }
    wr_u8(pr->w, ' ');
    put(pr, sql_op_name(r->op));
    if (r->op == SQL_OP_IS_NOT_NULL) return;
    wr_u8(pr->w, ' ');
    if (r->op == SQL_OP_IN && !r->value) {
        if (r->in_marker) {
            print_expr(pr, r->in_marker, P_OR);
        } else {
            wr_u8(pr->w, '(');
            print_list(pr, r->in_values, r->nin, P_OR);
            wr_u8(pr->w, ')');
        }
        return;
    }
    print_expr(pr, r->value, P_OR);
}

static void print_relations(pr_t *pr, const char *intro, const sql_relation_t *r, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        put(pr, i ? " AND " : intro);
        print_relation(pr, &r[i]);
    }
}

static void print_if(pr_t *pr, bool if_exists, const sql_relation_t *c, uint32_t n) {
    if (if_exists) put(pr, " IF EXISTS");
    print_relations(pr, " IF ", c, n);
}

static void print_from(pr_t *pr, const sql_from_t *f, bool first) {
    if (!first && f->kind != SQL_FROM_LATERAL_VIEW) {
        static const char *joins[] = {" CROSS JOIN ", " JOIN ", " LEFT JOIN ", " RIGHT JOIN ", " FULL JOIN "};
        put(pr, joins[f->join]);
    }
    switch (f->kind) {
    case SQL_FROM_NAMED:
        print_qname(pr, &f->name);
        break;
    case SQL_FROM_UNNEST:
        put(pr, "UNNEST(");
        print_list(pr, f->args, f->nargs, P_OR);
        put(pr, ")");
        if (f->ordinality) put(pr, " WITH ORDINALITY");
        break;
    case SQL_FROM_LATERAL_VIEW:
        put(pr, f->outer ? " LATERAL VIEW OUTER " : " LATERAL VIEW ");
        print_qname(pr, &f->name);
        wr_u8(pr->w, '(');
        print_list(pr, f->args, f->nargs, P_OR);
        wr_u8(pr->w, ')');
        if (f->alias.name) {
            wr_u8(pr->w, ' ');
            print_ident(pr, &f->alias);
        }
        if (f->ncolumns) {
            put(pr, " AS ");
            print_names(pr, f->columns, f->ncolumns);
        }
        return;
    }
    if (f->alias.name) {
        put(pr, " AS ");
        print_ident(pr, &f->alias);
        if (f->ncolumns) {
            wr_u8(pr->w, '(');
            print_names(pr, f->columns, f->ncolumns);
            wr_u8(pr->w, ')');
        }
    }
    if (f->on) {
        put(pr, " ON ");
        print_expr(pr, f->on, P_OR);
    }
}

static void print_select(pr_t *pr, const sql_select_t *s, bool cql) {
    put(pr, "SELECT ");
    if (s->json) put(pr, "JSON ");
    if (s->distinct) put(pr, "DISTINCT ");
    if (s->star) wr_u8(pr->w, '*');
    for (uint32_t i = 0; i < s->nitems; i++) {
        if (i) put(pr, ", ");
        print_expr(pr, s->items[i].expr, cql ? P_ADD : P_OR);
        if (s->items[i].alias.name) {
            put(pr, " AS ");
            print_ident(pr, &s->items[i].alias);
        }
    }
    put(pr, " FROM ");
    for (uint32_t i = 0; i < s->nfrom; i++) print_from(pr, &s->from[i], i == 0);
    print_relations(pr, " WHERE ", s->where, s->nwhere);
    if (s->filter) {
        put(pr, " WHERE ");
        print_expr(pr, s->filter, P_OR);
    }
    if (s->ngroup_by) {
        put(pr, " GROUP BY ");
        print_list(pr, s->group_by, s->ngroup_by, cql ? P_ADD : P_OR);
    }
    if (s->having) {
        put(pr, " HAVING ");
        print_expr(pr, s->having, P_OR);
    }
    for (uint32_t i = 0; i < s->norder_by; i++) {
        put(pr, i ? ", " : " ORDER BY ");
        print_expr(pr, s->order_by[i].expr, P_OR);
        put(pr, s->order_by[i].desc ? " DESC" : " ASC");
    }
    if (s->per_partition_limit) {
        put(pr, " PER PARTITION LIMIT ");
        print_expr(pr, s->per_partition_limit, P_OR);
    }
    if (s->limit) {
        put(pr, " LIMIT ");
        print_expr(pr, s->limit, P_OR);
    }
    if (s->allow_filtering) put(pr, " ALLOW FILTERING");
}

static void print_column_def(pr_t *pr, const sql_column_def_t *c) {
    print_ident(pr, &c->name);
    wr_u8(pr->w, ' ');
    print_type(pr, c->type);
    if (c->is_static) put(pr, " STATIC");
    if (c->is_key) put(pr, " KEY");
}

static void print_if_not_exists(pr_t *pr, bool b) {
    if (b) put(pr, "IF NOT EXISTS ");
}

static void print_create_table(pr_t *pr, const sql_create_table_t *ct) {
    put(pr, "CREATE TABLE ");
    print_if_not_exists(pr, ct->if_not_exists);
    print_qname(pr, &ct->name);
    put(pr, " (");
    for (uint32_t i = 0; i < ct->ncolumns; i++) {
        print_column_def(pr, &ct->columns[i]);
        put(pr, ", ");
    }
    put(pr, "PRIMARY KEY (");
    bool composite = ct->npartition_key > 1;
    if (composite) wr_u8(pr->w, '(');
    print_names(pr, ct->partition_key, ct->npartition_key);
    if (composite) wr_u8(pr->w, ')');
    for (uint32_t i = 0; i < ct->nclustering; i++) {
        put(pr, ", ");
        print_ident(pr, &ct->clustering[i]);
    }
    put(pr, "))");
    if (ct->norder || ct->noptions) put(pr, " WITH ");
    if (ct->norder) {
        put(pr, "CLUSTERING ORDER BY (");
        for (uint32_t i = 0; i < ct->norder; i++) {
            if (i) put(pr, ", ");
            print_ident(pr, &ct->order[i].column);
            put(pr, ct->order[i].desc ? " DESC" : " ASC");
        }
        put(pr, ")");
        if (ct->noptions) put(pr, " AND ");
    }
    print_options(pr, ct->options, ct->noptions, false);
}

static void print_alter(pr_t *pr, const sql_alter_t *a, bool table) {
    put(pr, table ? "ALTER TABLE " : "ALTER TYPE ");
    if (a->if_exists) put(pr, "IF EXISTS ");
    print_qname(pr, &a->name);
    switch (a->kind) {
    case SQL_ALTER_ADD:
        put(pr, " ADD ");
        print_if_not_exists(pr, a->if_column_exists);
        if (a->ncolumns > 1) wr_u8(pr->w, '(');
        for (uint32_t i = 0; i < a->ncolumns; i++) {
            if (i) put(pr, ", ");
            print_column_def(pr, &a->columns[i]);
        }
        if (a->ncolumns > 1) wr_u8(pr->w, ')');
        return;
    case SQL_ALTER_DROP:
        put(pr, a->if_column_exists ? " DROP IF EXISTS " : " DROP ");
        if (a->nnames > 1) wr_u8(pr->w, '(');
        print_names(pr, a->names, a->nnames);
        if (a->nnames > 1) wr_u8(pr->w, ')');
        if (a->timestamp) {
            put(pr, " USING TIMESTAMP ");
            print_expr(pr, a->timestamp, P_OR);
        }
        return;
    case SQL_ALTER_RENAME:
        put(pr, a->if_column_exists ? " RENAME IF EXISTS " : " RENAME ");
        for (uint32_t i = 0; i < a->nnames; i++) {
            if (i) put(pr, " AND ");
            print_ident(pr, &a->names[i]);
            put(pr, " TO ");
            print_ident(pr, &a->to[i]);
        }
        return;
    case SQL_ALTER_TYPE:
        put(pr, " ALTER ");
        print_ident(pr, &a->columns[0].name);
        put(pr, " TYPE ");
        print_type(pr, a->columns[0].type);
        return;
    case SQL_ALTER_OPTIONS:
        put(pr, " WITH ");
        print_options(pr, a->options, a->noptions, false);
        return;
    case SQL_ALTER_DROP_COMPACT_STORAGE: put(pr, " DROP COMPACT STORAGE"); return;
    }
}

static void print_describe(pr_t *pr, const sql_describe_t *d) {
    static const char *words[] = {
        [SQL_DESCRIBE_CLUSTER] = "CLUSTER", [SQL_DESCRIBE_SCHEMA] = "SCHEMA",
        [SQL_DESCRIBE_KEYSPACES] = "KEYSPACES", [SQL_DESCRIBE_KEYSPACE] = "KEYSPACE",
        [SQL_DESCRIBE_TABLES] = "TABLES", [SQL_DESCRIBE_TABLE] = "TABLE", [SQL_DESCRIBE_INDEX] = "INDEX",
        [SQL_DESCRIBE_VIEW] = "MATERIALIZED VIEW", [SQL_DESCRIBE_TYPES] = "TYPES", [SQL_DESCRIBE_TYPE] = "TYPE",
        [SQL_DESCRIBE_FUNCTIONS] = "FUNCTIONS", [SQL_DESCRIBE_FUNCTION] = "FUNCTION",
        [SQL_DESCRIBE_AGGREGATES] = "AGGREGATES", [SQL_DESCRIBE_AGGREGATE] = "AGGREGATE",
        [SQL_DESCRIBE_GENERIC] = "",
    };
    put(pr, "DESCRIBE ");
    if (d->full) put(pr, "FULL ");
    if (d->only) put(pr, "ONLY ");
    put(pr, words[d->kind]);
    if (d->name.name.name) {
        if (d->kind != SQL_DESCRIBE_GENERIC) wr_u8(pr->w, ' ');
        print_qname(pr, &d->name);
    }
    if (d->with_internals) put(pr, " WITH INTERNALS");
}

static void print_stmt(pr_t *pr, const sql_stmt_t *s) {
    bool cql = s->dialect == SQL_DIALECT_CQL;
    switch (s->kind) {
    case SQL_STMT_SELECT: print_select(pr, &s->select, cql); return;
    case SQL_STMT_INSERT: {
        const sql_insert_t *in = &s->insert;
        put(pr, in->overwrite ? "INSERT OVERWRITE " : "INSERT INTO ");
        print_qname(pr, &in->table);
        if (in->json) {
            put(pr, " JSON ");
            print_expr(pr, in->json, P_OR);
            if (in->default_unset) put(pr, " DEFAULT UNSET");
        }
        if (in->ncolumns) {
            put(pr, " (");
            print_names(pr, in->columns, in->ncolumns);
            put(pr, ")");
        }
        if (in->select) {
            wr_u8(pr->w, ' ');
            print_select(pr, in->select, cql);
            return;
        }
        if (in->nvalues) {
            put(pr, " VALUES (");
            print_list(pr, in->values, in->nvalues, P_ADD);
            put(pr, ")");
        }
        if (in->if_not_exists) put(pr, " IF NOT EXISTS");
        print_using(pr, &in->using_);
        return;
    }
    case SQL_STMT_UPDATE: {
        const sql_update_t *u = &s->update;
        put(pr, "UPDATE ");
        print_qname(pr, &u->table);
        print_using(pr, &u->using_);
        for (uint32_t i = 0; i < u->nsets; i++) {
            const sql_assignment_t *a = &u->sets[i];
            put(pr, i ? ", " : " SET ");
            print_ident(pr, &a->column);
            switch (a->kind) {
            case SQL_SET_ASSIGN: put(pr, " = "); break;
            case SQL_SET_ADD: put(pr, " = "); print_ident(pr, &a->column); put(pr, " + "); break;
            case SQL_SET_SUB: put(pr, " = "); print_ident(pr, &a->column); put(pr, " - "); break;
            case SQL_SET_PREPEND: put(pr, " = "); break;
            case SQL_SET_ELEMENT:
                wr_u8(pr->w, '[');
                print_expr(pr, a->key, P_OR);
                put(pr, "] = ");
                break;
            case SQL_SET_FIELD:
                wr_u8(pr->w, '.');
                print_ident(pr, &a->field);
                put(pr, " = ");
                break;
            }
            /* After "c = c +", the value binds tighter than an addition would. */
            print_expr(pr, a->value, a->kind == SQL_SET_ADD || a->kind == SQL_SET_SUB ? P_MUL : P_ADD);
            if (a->kind == SQL_SET_PREPEND) {
                put(pr, " + ");
                print_ident(pr, &a->column);
            }
        }
        print_relations(pr, " WHERE ", u->where, u->nwhere);
        print_if(pr, u->if_exists, u->conditions, u->nconditions);
        return;
    }
    case SQL_STMT_DELETE: {
        const sql_delete_t *d = &s->delete_;
        put(pr, "DELETE ");
        for (uint32_t i = 0; i < d->ntargets; i++) {
            const sql_delete_target_t *t = &d->targets[i];
            if (i) put(pr, ", ");
            print_ident(pr, &t->column);
            if (t->key) {
                wr_u8(pr->w, '[');
                print_expr(pr, t->key, P_OR);
                wr_u8(pr->w, ']');
            } else if (t->field.name) {
                wr_u8(pr->w, '.');
                print_ident(pr, &t->field);
            }
        }
        put(pr, d->ntargets ? " FROM " : "FROM ");
        print_qname(pr, &d->table);
        print_using(pr, &d->using_);
        print_relations(pr, " WHERE ", d->where, d->nwhere);
        print_if(pr, d->if_exists, d->conditions, d->nconditions);
        return;
    }
    case SQL_STMT_BATCH: {
        const sql_batch_t *b = &s->batch;
        static const char *kinds[] = {"BEGIN BATCH", "BEGIN UNLOGGED BATCH", "BEGIN COUNTER BATCH"};
        put(pr, kinds[b->kind]);
        print_using(pr, &b->using_);
        for (uint32_t i = 0; i < b->nstmts; i++) {
            wr_u8(pr->w, ' ');
            print_stmt(pr, b->stmts[i]);
            wr_u8(pr->w, ';');
        }
        put(pr, " APPLY BATCH");
        return;
    }
    case SQL_STMT_USE:
        put(pr, "USE ");
        print_ident(pr, &s->named.name.name);
        return;
    case SQL_STMT_TRUNCATE:
        put(pr, "TRUNCATE TABLE ");
        print_qname(pr, &s->named.name);
        return;
    case SQL_STMT_CREATE_KEYSPACE:
    case SQL_STMT_ALTER_KEYSPACE:
        put(pr, s->kind == SQL_STMT_CREATE_KEYSPACE ? "CREATE KEYSPACE " : "ALTER KEYSPACE ");
        if (s->keyspace.if_not_exists) put(pr, s->kind == SQL_STMT_CREATE_KEYSPACE ? "IF NOT EXISTS " : "IF EXISTS ");
        print_ident(pr, &s->keyspace.name);
        put(pr, " WITH ");
        print_options(pr, s->keyspace.options, s->keyspace.noptions, false);
        return;
    case SQL_STMT_DROP_KEYSPACE:
    case SQL_STMT_DROP_TABLE:
    case SQL_STMT_DROP_TYPE: {
        static const char *what[] = {"KEYSPACE ", "TABLE ", "TYPE "};
        int i = s->kind == SQL_STMT_DROP_KEYSPACE ? 0 : s->kind == SQL_STMT_DROP_TABLE ? 1 : 2;
        put(pr, "DROP ");
        put(pr, what[i]);
        if (s->named.if_exists) put(pr, "IF EXISTS ");
        print_qname(pr, &s->named.name);
        return;
    }
    case SQL_STMT_CREATE_TABLE: print_create_table(pr, &s->create_table); return;
    case SQL_STMT_ALTER_TABLE: print_alter(pr, &s->alter, true); return;
    case SQL_STMT_ALTER_TYPE: print_alter(pr, &s->alter, false); return;
    case SQL_STMT_CREATE_TYPE: {
        const sql_create_type_t *t = &s->create_type;
        put(pr, "CREATE TYPE ");
        print_if_not_exists(pr, t->if_not_exists);
        print_qname(pr, &t->name);
        put(pr, " (");
        for (uint32_t i = 0; i < t->nfields; i++) {
            if (i) put(pr, ", ");
            print_column_def(pr, &t->fields[i]);
        }
        put(pr, ")");
        return;
    }
    case SQL_STMT_DESCRIBE: print_describe(pr, &s->describe); return;
    case SQL_STMT_LIST_ROLES: put(pr, s->list_users ? "LIST USERS" : "LIST ROLES"); return;
    case SQL_STMT_CREATE_PIPELINE: {
        const sql_create_pipeline_t *cp = &s->create_pipeline;
        put(pr, "CREATE PIPELINE ");
        print_if_not_exists(pr, cp->if_not_exists);
        print_qname(pr, &cp->name);
        if (cp->noptions) {
            put(pr, " WITH ");
            print_options(pr, cp->options, cp->noptions, true);
        }
        put(pr, " AS ");
        print_stmt(pr, cp->insert);
        return;
    }
    case SQL_STMT_CREATE_STREAM: {
        const sql_create_stream_t *cs = &s->create_stream;
        put(pr, "CREATE STREAM ");
        print_if_not_exists(pr, cs->if_not_exists);
        print_qname(pr, &cs->name);
        if (cs->ncolumns || cs->watermark) {
            put(pr, " (");
            for (uint32_t i = 0; i < cs->ncolumns; i++) {
                if (i) put(pr, ", ");
                print_column_def(pr, &cs->columns[i]);
            }
            if (cs->watermark) {
                put(pr, cs->ncolumns ? ", WATERMARK FOR " : "WATERMARK FOR ");
                print_ident(pr, &cs->watermark->column);
                put(pr, " AS ");
                print_expr(pr, cs->watermark->expr, P_OR);
            }
            put(pr, ")");
        }
        if (cs->noptions) {
            put(pr, " WITH ");
            print_options(pr, cs->options, cs->noptions, true);
        }
        return;
    }
    }
}

void sql_print_stmt(wr_t *w, const sql_stmt_t *stmt) {
    pr_t pr = {w, stmt->dialect == SQL_DIALECT_CQL ? KWF_CQL : KWF_PIPE};
    print_stmt(&pr, stmt);
}
