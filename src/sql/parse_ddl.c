/* Statements about schema and sessions: CREATE/ALTER/DROP of keyspaces, tables, types (CQL and
 * pipelines) and streams (pipelines), USE, TRUNCATE, DESCRIBE, LIST ROLES. Statements CQL has but
 * eddy does not implement (indexes, views, functions, triggers, roles) are recognised and refused
 * with SQL_ERR_UNSUPPORTED, so that the server can say so plainly. */
#include <stdio.h>

#include "sql/sql_int.h"

static bool parse_if_not_exists(parser_t *p, bool *flag) {
    if (!at_kw(p, KW_IF)) return true;
    advance(p);
    *flag = true;
    return sql_expect_kw(p, KW_NOT) && sql_expect_kw(p, KW_EXISTS);
}

static bool parse_if_exists(parser_t *p, bool *flag) {
    if (!at_kw(p, KW_IF)) return true;
    advance(p);
    *flag = true;
    return sql_expect_kw(p, KW_EXISTS);
}

/* A name for something a DDL statement creates: "" is refused, as Cassandra does. */
static bool parse_new_name(parser_t *p, sql_ident_t *out, const char *what) {
    const sql_token_t *t = peek(p);
    if (!sql_parse_ident(p, out, what)) return false;
    if (out->len == 0) return sql_fail_at(p, t, SQL_ERR_INVALID, "%s cannot be empty", what);
    return true;
}

static bool parse_new_qname(parser_t *p, sql_qname_t *out, const char *what) {
    memset(out, 0, sizeof *out);
    if (!parse_new_name(p, &out->name, what)) return false;
    if (!sql_accept(p, TK_DOT)) return true;
    out->ks = out->name;
    return parse_new_name(p, &out->name, what);
}

static sql_stmt_t *refuse(parser_t *p, const sql_token_t *t, const char *what) {
    sql_fail_at(p, t, SQL_ERR_UNSUPPORTED, "%s not supported by eddy", what);
    return NULL;
}

/* KEYSPACE or its old name SCHEMA; TABLE or COLUMNFAMILY. */
static bool accept_keyspace(parser_t *p) { return sql_accept_kw(p, KW_KEYSPACE) || sql_accept_kw(p, KW_SCHEMA); }
static bool accept_table(parser_t *p) { return sql_accept_kw(p, KW_TABLE) || sql_accept_kw(p, KW_COLUMNFAMILY); }

/* ---- column definitions ---------------------------------------------------------------------- */

static const sql_column_def_t *find_column(const sql_column_def_t *cols, uint32_t n, const sql_ident_t *id) {
    for (uint32_t i = 0; i < n; i++)
        if (sql_ident_eq(&cols[i].name, id)) return &cols[i];
    return NULL;
}

/* PRIMARY KEY ( pk | (pk, ...) [, clustering ...] ) */
static bool parse_primary_key_clause(parser_t *p, sql_create_table_t *ct) {
    if (!sql_expect(p, TK_LPAREN)) return false;
    size_t mark = stack_mark(p);
    sql_ident_t id;
    if (sql_accept(p, TK_LPAREN)) {
        do {
            if (!sql_parse_ident(p, &id, "a column name") || !sql_stack_push(p, &id, sizeof id)) return false;
        } while (sql_accept(p, TK_COMMA));
        if (!sql_expect(p, TK_RPAREN)) return false;
    } else if (!sql_parse_ident(p, &id, "a column name") || !sql_stack_push(p, &id, sizeof id)) {
        return false;
    }
    if (!STACK_FINISH(p, mark, ct->partition_key, ct->npartition_key)) return false;
    while (sql_accept(p, TK_COMMA)) {
        if (!sql_parse_ident(p, &id, "a column name") || !sql_stack_push(p, &id, sizeof id)) return false;
    }
    return STACK_FINISH(p, mark, ct->clustering, ct->nclustering) && sql_expect(p, TK_RPAREN);
}

/* ( name type [STATIC] [PRIMARY KEY] | PRIMARY KEY (...) | name type [KEY] | WATERMARK FOR c AS e, ... )
 * for a table (ct) or a stream (cs). */
bool sql_parse_column_defs(parser_t *p, sql_create_table_t *ct, sql_create_stream_t *cs) {
    const sql_token_t *open = peek(p);
    if (!sql_expect(p, TK_LPAREN)) return false;
    size_t mark = stack_mark(p);
    int pk_clauses = 0, pk_inline = 0;
    const sql_token_t *second_pk = NULL;
    do {
        if (at(p, TK_RPAREN) && stack_mark(p) > mark) break; /* a trailing comma, as Cassandra allows */
        const sql_token_t *t = peek(p);
        if (ct && tok_is_kw(t, KW_PRIMARY)) {
            advance(p);
            if (!sql_expect_kw(p, KW_KEY)) return false;
            if (pk_clauses + pk_inline > 0 && !second_pk) second_pk = t;
            pk_clauses++;
            if (!parse_primary_key_clause(p, ct)) return false;
            continue;
        }
        if (cs && tok_is_kw(t, KW_WATERMARK) && tok_is_kw(peek_at(p, 1), KW_FOR)) {
            advance(p);
            advance(p);
            if (cs->watermark) return sql_fail_at(p, t, SQL_ERR_SYNTAX, "only one WATERMARK may be declared");
            if (!(cs->watermark = PNEW(p, sql_watermark_t)) ||
                !sql_parse_ident(p, &cs->watermark->column, "a column name") || !sql_expect_kw(p, KW_AS) ||
                !(cs->watermark->expr = sql_parse_expr(p)))
                return false;
            continue;
        }
        sql_column_def_t c = {0};
        if (!parse_new_name(p, &c.name, "a column name") || !(c.type = sql_parse_type(p))) return false;
        if (ct && sql_accept_kw(p, KW_STATIC)) c.is_static = true;
        if (ct && at_kw(p, KW_PRIMARY)) {
            advance(p);
            if (!sql_expect_kw(p, KW_KEY)) return false;
            if (pk_clauses + pk_inline > 0 && !second_pk) second_pk = t;
            pk_inline++;
            c.primary_key = true;
        }
        if (cs && sql_accept_kw(p, KW_KEY)) c.is_key = true;
        for (size_t off = mark; off < p->stack_len; off += sizeof c) {
            sql_column_def_t prev;
            memcpy(&prev, p->stack + off, sizeof prev);
            if (sql_ident_eq(&prev.name, &c.name))
                return sql_fail_at(p, t, SQL_ERR_INVALID, "multiple definition of identifier %s", c.name.name);
        }
        if (!sql_stack_push(p, &c, sizeof c)) return false;
    } while (sql_accept(p, TK_COMMA));
    if (!sql_expect(p, TK_RPAREN)) return false;
    sql_column_def_t *cols;
    uint32_t ncols;
    if (!STACK_FINISH(p, mark, cols, ncols)) return false;
    if (cs) {
        cs->columns = cols;
        cs->ncolumns = ncols;
        if (cs->watermark && !find_column(cols, ncols, &cs->watermark->column))
            return sql_fail_at(p, open, SQL_ERR_INVALID, "unknown column %s in WATERMARK", cs->watermark->column.name);
        return true;
    }
    ct->columns = cols;
    ct->ncolumns = ncols;
    if (second_pk) return sql_fail_at(p, second_pk, SQL_ERR_INVALID, "multiple PRIMARY KEYs specified (exactly one required)");
    if (pk_clauses + pk_inline == 0)
        return sql_fail_at(p, open, SQL_ERR_INVALID, "no PRIMARY KEY specified for table %s (exactly one required)",
                       ct->name.name.name);
    if (pk_inline) {
        for (uint32_t i = 0; i < ncols; i++) {
            if (!cols[i].primary_key) continue;
            ct->partition_key = &cols[i].name;
            ct->npartition_key = 1;
        }
    }
    for (uint32_t i = 0; i < ct->npartition_key + ct->nclustering; i++) {
        const sql_ident_t *id = i < ct->npartition_key ? &ct->partition_key[i] : &ct->clustering[i - ct->npartition_key];
        if (!find_column(cols, ncols, id))
            return sql_fail_at(p, open, SQL_ERR_INVALID, "unknown definition %s referenced in PRIMARY KEY", id->name);
        for (uint32_t j = 0; j < i; j++) {
            const sql_ident_t *o = j < ct->npartition_key ? &ct->partition_key[j] : &ct->clustering[j - ct->npartition_key];
            if (sql_ident_eq(o, id))
                return sql_fail_at(p, open, SQL_ERR_INVALID, "column %s appears twice in PRIMARY KEY", id->name);
        }
    }
    return true;
}

/* WITH prop = v AND CLUSTERING ORDER BY (c ASC, ...) AND ... for CREATE TABLE. */
static bool parse_table_props(parser_t *p, sql_create_table_t *ct) {
    size_t mark = stack_mark(p);
    do {
        const sql_token_t *t = peek(p);
        if (tok_is_kw(t, KW_COMPACT) && tok_is_kw(peek_at(p, 1), KW_STORAGE))
            return sql_fail_at(p, t, SQL_ERR_SYNTAX, "COMPACT STORAGE tables are not allowed starting with version 4.0");
        if (tok_is_kw(t, KW_CLUSTERING) && tok_is_kw(peek_at(p, 1), KW_ORDER)) {
            advance(p);
            advance(p);
            if (ct->order) return sql_fail_at(p, t, SQL_ERR_SYNTAX, "CLUSTERING ORDER given twice");
            if (!sql_expect_kw(p, KW_BY) || !sql_expect(p, TK_LPAREN)) return false;
            size_t omark = stack_mark(p);
            do {
                sql_clustering_order_t o = {0};
                if (!sql_parse_ident(p, &o.column, "a clustering column")) return false;
                if (sql_accept_kw(p, KW_DESC)) o.desc = true;
                else if (!sql_accept_kw(p, KW_ASC)) return sql_fail_expected(p, "ASC or DESC"), false;
                if (!sql_stack_push(p, &o, sizeof o)) return false;
            } while (sql_accept(p, TK_COMMA));
            if (!sql_expect(p, TK_RPAREN) || !STACK_FINISH(p, omark, ct->order, ct->norder)) return false;
            /* Cassandra's rules: clustering columns only, in their order. */
            for (uint32_t i = 0; i < ct->norder; i++) {
                if (i >= ct->nclustering || !sql_ident_eq(&ct->order[i].column, &ct->clustering[i])) {
                    bool is_ck = false;
                    for (uint32_t j = 0; j < ct->nclustering; j++) is_ck |= sql_ident_eq(&ct->order[i].column, &ct->clustering[j]);
                    return sql_fail_at(p, t, SQL_ERR_INVALID, is_ck
                                   ? "the order of columns in the CLUSTERING ORDER directive must match that of the clustering columns"
                                   : "only clustering key columns can be defined in CLUSTERING ORDER directive (%s is not one)",
                                   ct->order[i].column.name);
                }
            }
            continue;
        }
        if (!sql_parse_option(p, false, mark)) return false;
    } while (sql_accept_kw(p, KW_AND));
    return STACK_FINISH(p, mark, ct->options, ct->noptions);
}

/* ---- CREATE ---------------------------------------------------------------------------------- */

static sql_stmt_t *create_keyspace(parser_t *p, sql_stmt_t *st) {
    sql_keyspace_t *k = &st->keyspace;
    if (!parse_if_not_exists(p, &k->if_not_exists) || !parse_new_name(p, &k->name, "a keyspace name") ||
        !sql_expect_kw(p, KW_WITH) || !sql_parse_option_list(p, false, &k->options, &k->noptions))
        return NULL;
    return st;
}

static sql_stmt_t *create_table(parser_t *p, sql_stmt_t *st) {
    sql_create_table_t *ct = &st->create_table;
    if (!parse_if_not_exists(p, &ct->if_not_exists) || !parse_new_qname(p, &ct->name, "a table name")) return NULL;
    if (at_kw(p, KW_LIKE)) return refuse(p, peek(p), "CREATE TABLE ... LIKE is");
    if (!sql_parse_column_defs(p, ct, NULL)) return NULL;
    if (sql_accept_kw(p, KW_WITH) && !parse_table_props(p, ct)) return NULL;
    return st;
}

static sql_stmt_t *create_type(parser_t *p, sql_stmt_t *st) {
    sql_create_type_t *ty = &st->create_type;
    if (!parse_if_not_exists(p, &ty->if_not_exists) || !parse_new_qname(p, &ty->name, "a type name") ||
        !sql_expect(p, TK_LPAREN))
        return NULL;
    size_t mark = stack_mark(p);
    do {
        if (at(p, TK_RPAREN) && stack_mark(p) > mark) break;
        sql_column_def_t f = {0};
        const sql_token_t *t = peek(p);
        if (!parse_new_name(p, &f.name, "a field name") || !(f.type = sql_parse_type(p))) return NULL;
        for (size_t off = mark; off < p->stack_len; off += sizeof f) {
            sql_column_def_t prev;
            memcpy(&prev, p->stack + off, sizeof prev);
            if (sql_ident_eq(&prev.name, &f.name))
                return sql_fail_at(p, t, SQL_ERR_INVALID, "duplicate field name %s in type %s", f.name.name,
                               ty->name.name.name), NULL;
        }
        if (!sql_stack_push(p, &f, sizeof f)) return NULL;
    } while (sql_accept(p, TK_COMMA));
    if (!sql_expect(p, TK_RPAREN) || !STACK_FINISH(p, mark, ty->fields, ty->nfields)) return NULL;
    return st;
}

static sql_stmt_t *create_stream(parser_t *p, sql_stmt_t *st) {
    sql_create_stream_t *cs = &st->create_stream;
    if (!parse_if_not_exists(p, &cs->if_not_exists) || !parse_new_qname(p, &cs->name, "a stream name")) return NULL;
    if (at(p, TK_LPAREN) && !sql_parse_column_defs(p, NULL, cs)) return NULL;
    if (sql_accept_kw(p, KW_WITH) && !sql_parse_option_list(p, true, &cs->options, &cs->noptions)) return NULL;
    return st;
}

static sql_stmt_t *create_pipeline(parser_t *p, sql_stmt_t *st) {
    sql_create_pipeline_t *cp = &st->create_pipeline;
    if (!parse_if_not_exists(p, &cp->if_not_exists) || !sql_parse_qname(p, &cp->name, "a pipeline name")) return NULL;
    if (sql_accept_kw(p, KW_WITH) && !sql_parse_option_list(p, true, &cp->options, &cp->noptions)) return NULL;
    if (!sql_expect_kw(p, KW_AS)) return NULL;
    if (!at_kw(p, KW_INSERT)) return sql_fail_expected(p, "INSERT INTO ... SELECT"), NULL;
    const sql_token_t *t = peek(p);
    if (!(cp->insert = sql_parse_insert(p))) return NULL;
    const sql_token_t *last = &p->toks.v[p->pos - 1];
    cp->insert->text_off = t->off;
    cp->insert->text_len = last->off + last->len - t->off;
    return st;
}

sql_stmt_t *sql_parse_create(parser_t *p) {
    const sql_token_t *first = advance(p);
    const sql_token_t *t = peek(p);
    sql_stmt_t *st;
    if (accept_keyspace(p)) {
        if (!(st = sql_new_stmt(p, SQL_STMT_CREATE_KEYSPACE, first))) return NULL;
        return create_keyspace(p, st);
    }
    if (accept_table(p)) {
        if (!(st = sql_new_stmt(p, SQL_STMT_CREATE_TABLE, first))) return NULL;
        return create_table(p, st);
    }
    if (sql_accept_kw(p, KW_TYPE)) {
        if (!(st = sql_new_stmt(p, SQL_STMT_CREATE_TYPE, first))) return NULL;
        return create_type(p, st);
    }
    if (!is_cql(p)) {
        if (sql_accept_kw(p, KW_STREAM)) {
            if (!(st = sql_new_stmt(p, SQL_STMT_CREATE_STREAM, first))) return NULL;
            return create_stream(p, st);
        }
        if (sql_accept_kw(p, KW_PIPELINE)) {
            if (!(st = sql_new_stmt(p, SQL_STMT_CREATE_PIPELINE, first))) return NULL;
            return create_pipeline(p, st);
        }
        return sql_fail_expected(p, "STREAM, PIPELINE, KEYSPACE, TABLE or TYPE"), NULL;
    }
    if (tok_is_kw(t, KW_INDEX) || tok_is_kw(t, KW_CUSTOM)) return refuse(p, t, "secondary indexes are");
    if (tok_is_kw(t, KW_MATERIALIZED)) return refuse(p, t, "materialized views are");
    if (tok_is_kw(t, KW_FUNCTION) || tok_is_kw(t, KW_AGGREGATE) || tok_is_kw(t, KW_OR))
        return refuse(p, t, "user-defined functions and aggregates are");
    if (tok_is_kw(t, KW_TRIGGER)) return refuse(p, t, "triggers are");
    if (tok_is_kw(t, KW_ROLE) || tok_is_kw(t, KW_USER)) return refuse(p, t, "roles and users are");
    return sql_fail_expected(p, "KEYSPACE, TABLE or TYPE"), NULL;
}

/* ---- ALTER ----------------------------------------------------------------------------------- */

static bool parse_alter_add(parser_t *p, sql_alter_t *a, bool table) {
    if (!parse_if_not_exists(p, &a->if_column_exists)) return false;
    size_t mark = stack_mark(p);
    bool parens = table && sql_accept(p, TK_LPAREN);
    do {
        sql_column_def_t c = {0};
        if (!parse_new_name(p, &c.name, table ? "a column name" : "a field name") || !(c.type = sql_parse_type(p)))
            return false;
        if (table && sql_accept_kw(p, KW_STATIC)) c.is_static = true;
        if (!sql_stack_push(p, &c, sizeof c)) return false;
    } while (parens && sql_accept(p, TK_COMMA));
    if (parens && !sql_expect(p, TK_RPAREN)) return false;
    return STACK_FINISH(p, mark, a->columns, a->ncolumns);
}

static bool parse_alter_rename(parser_t *p, sql_alter_t *a) {
    if (!parse_if_exists(p, &a->if_column_exists)) return false;
    size_t mark = stack_mark(p);
    do {
        sql_ident_t from, to;
        if (!sql_parse_ident(p, &from, "a name") || !sql_expect_kw(p, KW_TO) || !parse_new_name(p, &to, "a name") ||
            !sql_stack_push(p, &from, sizeof from) || !sql_stack_push(p, &to, sizeof to))
            return false;
    } while (sql_accept_kw(p, KW_AND));
    return STACK_FINISH_PAIRS(p, mark, a->names, a->to, a->nnames);
}

static bool parse_alter_type_change(parser_t *p, sql_alter_t *a) {
    a->kind = SQL_ALTER_TYPE;
    a->columns = PNEW(p, sql_column_def_t);
    if (!a->columns) return false;
    a->ncolumns = 1;
    return sql_parse_ident(p, &a->columns->name, "a name") && sql_expect_kw(p, KW_TYPE) &&
           (a->columns->type = sql_parse_type(p)) != NULL;
}

static sql_stmt_t *alter_table(parser_t *p, sql_stmt_t *st) {
    sql_alter_t *a = &st->alter;
    if (!parse_if_exists(p, &a->if_exists) || !sql_parse_qname(p, &a->name, "a table name")) return NULL;
    const sql_token_t *t = peek(p);
    if (sql_accept_kw(p, KW_ALTER)) {
        if (!parse_alter_type_change(p, a)) return NULL;
    } else if (sql_accept_kw(p, KW_ADD)) {
        a->kind = SQL_ALTER_ADD;
        if (!parse_alter_add(p, a, true)) return NULL;
    } else if (sql_accept_kw(p, KW_DROP)) {
        if (at_kw(p, KW_COMPACT) && tok_is_kw(peek_at(p, 1), KW_STORAGE)) {
            advance(p);
            advance(p);
            a->kind = SQL_ALTER_DROP_COMPACT_STORAGE;
            return st;
        }
        a->kind = SQL_ALTER_DROP;
        if (!parse_if_exists(p, &a->if_column_exists)) return NULL;
        size_t mark = stack_mark(p);
        bool parens = sql_accept(p, TK_LPAREN);
        do {
            sql_ident_t id;
            if (!sql_parse_ident(p, &id, "a column name") || !sql_stack_push(p, &id, sizeof id)) return NULL;
        } while (parens && sql_accept(p, TK_COMMA));
        if (parens && !sql_expect(p, TK_RPAREN)) return NULL;
        if (!STACK_FINISH(p, mark, a->names, a->nnames)) return NULL;
        if (sql_accept_kw(p, KW_USING)) {
            if (!sql_expect_kw(p, KW_TIMESTAMP)) return NULL;
            const sql_token_t *v = peek(p);
            bool neg = v->type == TK_MINUS && peek_at(p, 1)->type == TK_INTEGER;
            if (neg) advance(p);
            if (!at(p, TK_INTEGER)) return sql_fail_expected(p, "an integer"), NULL;
            if (!(a->timestamp = sql_literal_from_tok(p, advance(p), neg))) return NULL;
        }
    } else if (sql_accept_kw(p, KW_RENAME)) {
        a->kind = SQL_ALTER_RENAME;
        if (!parse_alter_rename(p, a)) return NULL;
    } else if (sql_accept_kw(p, KW_WITH)) {
        a->kind = SQL_ALTER_OPTIONS;
        if (at_kw(p, KW_COMPACT) || at_kw(p, KW_CLUSTERING))
            return sql_fail_at(p, peek(p), SQL_ERR_SYNTAX, "%s cannot be changed by ALTER TABLE",
                           at_kw(p, KW_COMPACT) ? "COMPACT STORAGE" : "CLUSTERING ORDER"), NULL;
        if (!sql_parse_option_list(p, false, &a->options, &a->noptions)) return NULL;
    } else {
        (void)t;
        return sql_fail_expected(p, "ALTER, ADD, DROP, RENAME or WITH"), NULL;
    }
    return st;
}

static sql_stmt_t *alter_type(parser_t *p, sql_stmt_t *st) {
    sql_alter_t *a = &st->alter;
    if (!parse_if_exists(p, &a->if_exists) || !sql_parse_qname(p, &a->name, "a type name")) return NULL;
    if (sql_accept_kw(p, KW_ALTER)) {
        if (!parse_alter_type_change(p, a)) return NULL;
    } else if (sql_accept_kw(p, KW_ADD)) {
        a->kind = SQL_ALTER_ADD;
        if (!parse_alter_add(p, a, false)) return NULL;
    } else if (sql_accept_kw(p, KW_RENAME)) {
        a->kind = SQL_ALTER_RENAME;
        if (!parse_alter_rename(p, a)) return NULL;
    } else {
        return sql_fail_expected(p, "ALTER, ADD or RENAME"), NULL;
    }
    return st;
}

sql_stmt_t *sql_parse_alter(parser_t *p) {
    const sql_token_t *first = advance(p);
    const sql_token_t *t = peek(p);
    sql_stmt_t *st;
    if (accept_keyspace(p)) {
        if (!(st = sql_new_stmt(p, SQL_STMT_ALTER_KEYSPACE, first))) return NULL;
        sql_keyspace_t *k = &st->keyspace;
        if (!parse_if_exists(p, &k->if_not_exists) || !sql_parse_ident(p, &k->name, "a keyspace name") ||
            !sql_expect_kw(p, KW_WITH) || !sql_parse_option_list(p, false, &k->options, &k->noptions))
            return NULL;
        return st;
    }
    if (accept_table(p)) {
        if (!(st = sql_new_stmt(p, SQL_STMT_ALTER_TABLE, first))) return NULL;
        return alter_table(p, st);
    }
    if (sql_accept_kw(p, KW_TYPE)) {
        if (!(st = sql_new_stmt(p, SQL_STMT_ALTER_TYPE, first))) return NULL;
        return alter_type(p, st);
    }
    if (tok_is_kw(t, KW_MATERIALIZED)) return refuse(p, t, "materialized views are");
    if (tok_is_kw(t, KW_ROLE) || tok_is_kw(t, KW_USER)) return refuse(p, t, "roles and users are");
    return sql_fail_expected(p, "KEYSPACE, TABLE or TYPE"), NULL;
}

/* ---- DROP, USE, TRUNCATE --------------------------------------------------------------------- */

sql_stmt_t *sql_parse_drop(parser_t *p) {
    const sql_token_t *first = advance(p);
    const sql_token_t *t = peek(p);
    sql_stmt_kind_t kind;
    if (accept_keyspace(p)) kind = SQL_STMT_DROP_KEYSPACE;
    else if (accept_table(p)) kind = SQL_STMT_DROP_TABLE;
    else if (sql_accept_kw(p, KW_TYPE)) kind = SQL_STMT_DROP_TYPE;
    else if (tok_is_kw(t, KW_INDEX)) return refuse(p, t, "secondary indexes are");
    else if (tok_is_kw(t, KW_MATERIALIZED)) return refuse(p, t, "materialized views are");
    else if (tok_is_kw(t, KW_FUNCTION) || tok_is_kw(t, KW_AGGREGATE))
        return refuse(p, t, "user-defined functions and aggregates are");
    else if (tok_is_kw(t, KW_TRIGGER)) return refuse(p, t, "triggers are");
    else if (tok_is_kw(t, KW_ROLE) || tok_is_kw(t, KW_USER)) return refuse(p, t, "roles and users are");
    else return sql_fail_expected(p, "KEYSPACE, TABLE or TYPE"), NULL;
    sql_stmt_t *st = sql_new_stmt(p, kind, first);
    if (!st || !parse_if_exists(p, &st->named.if_exists)) return NULL;
    bool ok = kind == SQL_STMT_DROP_KEYSPACE ? sql_parse_ident(p, &st->named.name.name, "a keyspace name")
                                             : sql_parse_qname(p, &st->named.name, kind == SQL_STMT_DROP_TYPE ? "a type name" : "a table name");
    return ok ? st : NULL;
}

sql_stmt_t *sql_parse_use(parser_t *p) {
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_USE, advance(p));
    if (!st || !sql_parse_ident(p, &st->named.name.name, "a keyspace name")) return NULL;
    return st;
}

sql_stmt_t *sql_parse_truncate(parser_t *p) {
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_TRUNCATE, advance(p));
    if (!st) return NULL;
    accept_table(p);
    if (!sql_parse_qname(p, &st->named.name, "a table name")) return NULL;
    return st;
}

/* ---- DESCRIBE, LIST -------------------------------------------------------------------------- */

/* The word after DESCRIBE names a listing (KEYSPACES, TABLES, ...) unless a name follows it as
 * part of a generic "DESCRIBE ks.name". */
static bool word_alone(parser_t *p, sql_kw_t kw) {
    if (!at_kw(p, kw)) return false;
    const sql_token_t *n = peek_at(p, 1);
    return n->type == TK_EOF || n->type == TK_SEMI || tok_is_kw(n, KW_WITH);
}

sql_stmt_t *sql_parse_describe(parser_t *p) {
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_DESCRIBE, advance(p));
    if (!st) return NULL;
    sql_describe_t *d = &st->describe;
    static const struct {
        sql_kw_t kw;
        sql_describe_kind_t kind;
    } listings[] = {{KW_CLUSTER, SQL_DESCRIBE_CLUSTER}, {KW_KEYSPACES, SQL_DESCRIBE_KEYSPACES},
                    {KW_TABLES, SQL_DESCRIBE_TABLES}, {KW_TYPES, SQL_DESCRIBE_TYPES},
                    {KW_FUNCTIONS, SQL_DESCRIBE_FUNCTIONS}, {KW_AGGREGATES, SQL_DESCRIBE_AGGREGATES}};
    static const struct {
        sql_kw_t kw;
        sql_describe_kind_t kind;
    } elements[] = {{KW_TABLE, SQL_DESCRIBE_TABLE}, {KW_COLUMNFAMILY, SQL_DESCRIBE_TABLE},
                    {KW_INDEX, SQL_DESCRIBE_INDEX}, {KW_TYPE, SQL_DESCRIBE_TYPE},
                    {KW_FUNCTION, SQL_DESCRIBE_FUNCTION}, {KW_AGGREGATE, SQL_DESCRIBE_AGGREGATE}};
    bool done = false;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(listings) && !done; i++) {
        if (word_alone(p, listings[i].kw)) {
            advance(p);
            d->kind = listings[i].kind;
            done = true;
        }
    }
    if (!done && (at_kw(p, KW_SCHEMA) || (at_kw(p, KW_FULL) && tok_is_kw(peek_at(p, 1), KW_SCHEMA)))) {
        d->full = sql_accept_kw(p, KW_FULL);
        advance(p);
        d->kind = SQL_DESCRIBE_SCHEMA;
        done = true;
    }
    if (!done && (at_kw(p, KW_KEYSPACE) || (at_kw(p, KW_ONLY) && tok_is_kw(peek_at(p, 1), KW_KEYSPACE)))) {
        d->only = sql_accept_kw(p, KW_ONLY);
        advance(p);
        d->kind = SQL_DESCRIBE_KEYSPACE;
        if (sql_tok_is_name(p, peek(p)) && !(at_kw(p, KW_WITH)) && !sql_parse_ident(p, &d->name.name, "a keyspace name"))
            return NULL;
        done = true;
    }
    if (!done && at_kw(p, KW_MATERIALIZED)) {
        advance(p);
        if (!sql_expect_kw(p, KW_VIEW) || !sql_parse_qname(p, &d->name, "a view name")) return NULL;
        d->kind = SQL_DESCRIBE_VIEW;
        done = true;
    }
    for (size_t i = 0; i < EDDY_ARRAY_LEN(elements) && !done; i++) {
        const sql_token_t *n = peek_at(p, 1);
        if (at_kw(p, elements[i].kw) && (sql_tok_is_name(p, n) || !sql_tok_is_name(p, peek(p)))) {
            advance(p);
            if (!sql_parse_qname(p, &d->name, "a name")) return NULL;
            d->kind = elements[i].kind;
            done = true;
        }
    }
    if (!done) {
        if (!sql_tok_is_name(p, peek(p)))
            return sql_fail_expected(p, "what to describe (KEYSPACES, KEYSPACE, TABLES, TABLE, TYPES, TYPE, "
                                    "FUNCTIONS, AGGREGATES, CLUSTER, SCHEMA or a name)"), NULL;
        if (!sql_parse_qname(p, &d->name, "a name")) return NULL;
        d->kind = SQL_DESCRIBE_GENERIC;
    }
    if (sql_accept_kw(p, KW_WITH)) {
        if (!sql_expect_kw(p, KW_INTERNALS)) return NULL;
        d->with_internals = true;
    }
    return st;
}

sql_stmt_t *sql_parse_list(parser_t *p) {
    const sql_token_t *first = advance(p);
    const sql_token_t *t = peek(p);
    if (!sql_accept_kw(p, KW_ROLES) && !sql_accept_kw(p, KW_USERS)) {
        return refuse(p, t, "permissions are");
    }
    sql_stmt_t *st = sql_new_stmt(p, SQL_STMT_LIST_ROLES, first);
    if (!st) return NULL;
    st->list_users = tok_is_kw(t, KW_USERS);
    if (!st->list_users) {
        sql_ident_t role;
        if (sql_accept_kw(p, KW_OF)) {
            if (at(p, TK_STRING)) advance(p);
            else if (!sql_parse_ident(p, &role, "a role name")) return NULL;
        }
        sql_accept_kw(p, KW_NORECURSIVE);
    }
    return st;
}
