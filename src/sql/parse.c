/* The parser's core: entry points, statement dispatch, error messages with their context, names,
 * and the scratch stack that lists are built on.
 *
 * Recursive descent over the token array that sql_lex produced. Every parse function returns NULL
 * or false after recording the first error; callers return at once. A few decisions need more than
 * one token of lookahead (a CQL type hint, JSON as a keyword or a column); the parser looks ahead
 * in the array rather than backtracking. */
#include <stdio.h>

#include "sql/sql_int.h"

static const sql_limits_t default_limits = {64u << 20, 1000000, 128, 65535};

/* ---- errors ---------------------------------------------------------------------------------- */

/* Characters (not bytes) from a to b. */
static uint32_t count_chars(const char *a, const char *b) {
    uint32_t n = 0;
    for (; a < b; a++)
        if (((unsigned char)*a & 0xC0) != 0x80) n++;
    return n;
}

static size_t line_start_of(const char *text, size_t off) {
    size_t i = off;
    while (i > 0 && text[i - 1] != '\n') i--;
    return i;
}

uint32_t sql_pos_column(const char *text, size_t len, sql_pos_t pos) {
    size_t off = pos.off <= len ? pos.off : len;
    return count_chars(text + line_start_of(text, off), text + off) + 1;
}

/* Appends s[0..n) with control characters as spaces. */
static void put_flat(char *out, size_t cap, size_t *at, const char *s, size_t n) {
    for (size_t i = 0; i < n && *at + 1 < cap; i++) {
        char c = s[i];
        out[(*at)++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    }
    out[*at] = 0;
}

/* Moves a cut point forward to a character boundary. */
static size_t char_boundary(const char *text, size_t len, size_t i) {
    while (i < len && ((unsigned char)text[i] & 0xC0) == 0x80) i++;
    return i;
}

/* "line L:C msg (before [token]...)", as Cassandra shows its syntax errors, with our message. */
static void format_at(char *out, size_t cap, const char *text, size_t len, size_t off, size_t toklen,
                      uint32_t line, const char *msg) {
    if (off > len) off = len;
    size_t ls = line_start_of(text, off);
    uint32_t col = count_chars(text + ls, text + off) + 1;
    int k = snprintf(out, cap, "line %u:%u %s", line, col, msg);
    size_t at = k < 0 ? 0 : EDDY_MIN((size_t)k, cap - 1);
    if (len == 0) return;
    size_t from = off - ls > 40 ? char_boundary(text, len, off - 40) : ls;
    size_t tl = EDDY_MIN(toklen, (size_t)40);
    if (off + tl > len) tl = len - off;
    tl = char_boundary(text, len, off + tl) - off;
    put_flat(out, cap, &at, " (", 2);
    put_flat(out, cap, &at, text + from, off - from);
    if (off < len) {
        put_flat(out, cap, &at, "[", 1);
        put_flat(out, cap, &at, text + off, tl);
        put_flat(out, cap, &at, "]", 1);
        if (off + tl < len) put_flat(out, cap, &at, "...", 3);
    } else {
        put_flat(out, cap, &at, "[end of input]", 14);
    }
    put_flat(out, cap, &at, ")", 1);
}

void sql_error_fill(sql_error_t *err, sql_error_kind_t kind, const char *text, size_t len, size_t off,
                    size_t toklen, uint32_t line, const char *msg) {
    if (!err) return;
    err->kind = kind;
    err->line = line;
    err->off = (uint32_t)(off <= len ? off : len);
    err->col = count_chars(text + line_start_of(text, err->off), text + err->off) + 1;
    format_at(err->msg, sizeof err->msg, text, len, err->off, toklen, line, msg);
}

size_t sql_format_error(char *out, size_t outlen, const char *text, size_t len, sql_pos_t pos,
                        const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!outlen) return 0;
    /* The token at pos: up to the next space or punctuation, for the [bracket]. */
    size_t off = pos.off <= len ? pos.off : len, e = off;
    while (e < len && e - off < 40 && text[e] != ' ' && text[e] != '\n' && text[e] != ',' &&
           text[e] != ')' && text[e] != ';')
        e++;
    format_at(out, outlen, text, len, off, e > off ? e - off : 1, pos.line ? pos.line : 1, msg);
    return strlen(out);
}

static const char *tok_names[TK__COUNT] = {
    [TK_EOF] = "end of input", [TK_IDENT] = "a name", [TK_QIDENT] = "a quoted name",
    [TK_STRING] = "a string", [TK_DSTRING] = "a string", [TK_INTEGER] = "an integer",
    [TK_FLOAT] = "a float", [TK_HEX] = "a blob", [TK_UUID] = "a uuid", [TK_DURATION] = "a duration",
    [TK_QMARK] = "'?'", [TK_LPAREN] = "'('", [TK_RPAREN] = "')'", [TK_LBRACKET] = "'['",
    [TK_RBRACKET] = "']'", [TK_LBRACE] = "'{'", [TK_RBRACE] = "'}'", [TK_COMMA] = "','",
    [TK_SEMI] = "';'", [TK_DOT] = "'.'", [TK_COLON] = "':'", [TK_RANGE] = "'..'", [TK_EQ] = "'='",
    [TK_NE] = "'!='", [TK_LTGT] = "'<>'", [TK_LT] = "'<'", [TK_LE] = "'<='", [TK_GT] = "'>'",
    [TK_GE] = "'>='", [TK_PLUS] = "'+'", [TK_MINUS] = "'-'", [TK_STAR] = "'*'", [TK_SLASH] = "'/'",
    [TK_PERCENT] = "'%'", [TK_PLUSEQ] = "'+='", [TK_MINUSEQ] = "'-='", [TK_CONCAT] = "'||'",
    [TK_ARROW] = "'->'", [TK_ARROW2] = "'->>'",
};

const char *sql_tok_type_name(sql_tok_type_t t) { return t < TK__COUNT && tok_names[t] ? tok_names[t] : "?"; }

bool sql_fail_at(parser_t *p, const sql_token_t *t, sql_error_kind_t kind, const char *fmt, ...) {
    if (p->failed) return false;
    p->failed = true;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sql_error_fill(p->err, kind, p->text, p->len, t->off, t->type == TK_EOF ? 0 : t->len, t->line, msg);
    return false;
}

/* "'word'" for a token, or "end of input". */
static void describe_tok(const parser_t *p, const sql_token_t *t, char *out, size_t cap) {
    if (t->type == TK_EOF) {
        snprintf(out, cap, "end of input");
        return;
    }
    int n = (int)EDDY_MIN(t->len, 40u);
    snprintf(out, cap, "'%.*s%s'", n, p->text + t->off, t->len > 40 ? "..." : "");
}

bool sql_fail_expected(parser_t *p, const char *what) {
    char found[64];
    describe_tok(p, peek(p), found, sizeof found);
    return sql_fail_at(p, peek(p), SQL_ERR_SYNTAX, "expected %s, found %s", what, found);
}

bool sql_fail_nomem(parser_t *p) { return sql_fail_at(p, peek(p), SQL_ERR_NOMEM, "out of memory"); }

bool sql_accept(parser_t *p, sql_tok_type_t t) {
    if (!at(p, t)) return false;
    advance(p);
    return true;
}

bool sql_accept_kw(parser_t *p, sql_kw_t kw) {
    if (!at_kw(p, kw)) return false;
    advance(p);
    return true;
}

bool sql_expect(parser_t *p, sql_tok_type_t t) {
    if (sql_accept(p, t)) return true;
    return sql_fail_expected(p, sql_tok_type_name(t));
}

bool sql_expect_kw(parser_t *p, sql_kw_t kw) {
    if (sql_accept_kw(p, kw)) return true;
    char what[32];
    const char *s = sql_kw_text(kw);
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof what; i++) what[i] = (char)(s[i] - 32 * (s[i] >= 'a' && s[i] <= 'z'));
    what[i] = 0;
    return sql_fail_expected(p, what);
}

bool sql_depth_enter(parser_t *p) {
    if (++p->depth > p->limits.max_depth) {
        p->depth--;
        return sql_fail_at(p, peek(p), SQL_ERR_LIMIT, "nested too deeply (the limit is %u levels)",
                       p->limits.max_depth);
    }
    return true;
}

/* ---- memory ---------------------------------------------------------------------------------- */

void *sql_palloc(parser_t *p, size_t size) {
    void *m = arena_alloc(p->arena, size);
    if (!m) {
        sql_fail_nomem(p);
        return NULL;
    }
    memset(m, 0, size);
    return m;
}

bool sql_stack_push(parser_t *p, const void *item, size_t size) {
    if (p->stack_len + size > p->stack_cap) {
        size_t cap = p->stack_cap ? p->stack_cap * 2 : 1024;
        while (cap < p->stack_len + size) cap *= 2;
        uint8_t *s = eddy_realloc(p->stack, cap);
        if (!s) return sql_fail_nomem(p);
        p->stack = s;
        p->stack_cap = cap;
    }
    memcpy(p->stack + p->stack_len, item, size);
    p->stack_len += size;
    return true;
}

bool sql_stack_finish(parser_t *p, size_t mark, size_t size, void **out, uint32_t *n) {
    size_t bytes = p->stack_len - mark;
    *n = (uint32_t)(bytes / size);
    *out = NULL;
    if (bytes) {
        *out = arena_memdup(p->arena, p->stack + mark, bytes);
        if (!*out) return sql_fail_nomem(p);
    }
    p->stack_len = mark;
    return true;
}

bool sql_stack_finish_pairs(parser_t *p, size_t mark, size_t asize, size_t bsize, void **a, void **b, uint32_t *n) {
    size_t pair = asize + bsize;
    uint32_t count = (uint32_t)((p->stack_len - mark) / pair);
    uint8_t *va = NULL, *vb = NULL;
    if (count && (!(va = arena_alloc(p->arena, count * asize)) || !(vb = arena_alloc(p->arena, count * bsize))))
        return sql_fail_nomem(p);
    for (uint32_t i = 0; i < count; i++) {
        memcpy(va + i * asize, p->stack + mark + i * pair, asize);
        memcpy(vb + i * bsize, p->stack + mark + i * pair + asize, bsize);
    }
    *a = va;
    *b = vb;
    *n = count;
    p->stack_len = mark;
    return true;
}

/* ---- names ----------------------------------------------------------------------------------- */

bool sql_tok_is_name(const parser_t *p, const sql_token_t *t) {
    if (t->type == TK_QIDENT) return true;
    if (t->type != TK_IDENT) return false;
    unsigned reserved = is_cql(p) ? KWF_CQL : KWF_PIPE;
    return t->kw == KW_NONE || !(sql_kw_flags(t->kw) & reserved);
}

bool sql_ident_from_tok(parser_t *p, const sql_token_t *t, sql_ident_t *out) {
    const char *s = p->text + t->off;
    char *d;
    uint32_t n = 0;
    if (t->type == TK_QIDENT) {
        d = arena_alloc(p->arena, t->len);
        if (!d) return sql_fail_nomem(p);
        for (uint32_t i = 1; i + 1 < t->len; i++) {
            d[n++] = s[i];
            if (s[i] == '"') i++;
        }
    } else {
        d = arena_alloc(p->arena, t->len + 1);
        if (!d) return sql_fail_nomem(p);
        for (uint32_t i = 0; i < t->len; i++) {
            char c = s[i];
            d[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    d[n] = 0;
    *out = (sql_ident_t){d, n, t->type == TK_QIDENT, tok_pos(t)};
    return true;
}

bool sql_parse_ident(parser_t *p, sql_ident_t *out, const char *what) {
    const sql_token_t *t = peek(p);
    if (!sql_tok_is_name(p, t)) {
        if (t->type == TK_IDENT && t->kw != KW_NONE) {
            char found[64];
            describe_tok(p, t, found, sizeof found);
            return sql_fail_at(p, t, SQL_ERR_SYNTAX, "expected %s, found reserved word %s (write it \"quoted\" "
                           "to use it as a name)", what, found);
        }
        if (t->type == TK_QMARK || t->type == TK_COLON)
            return sql_fail_at(p, t, SQL_ERR_SYNTAX, "bind markers cannot be used for %s", what);
        return sql_fail_expected(p, what);
    }
    advance(p);
    return sql_ident_from_tok(p, t, out);
}

bool sql_parse_qname(parser_t *p, sql_qname_t *out, const char *what) {
    memset(out, 0, sizeof *out);
    if (!sql_parse_ident(p, &out->name, what)) return false;
    if (at(p, TK_DOT)) {
        advance(p);
        out->ks = out->name;
        if (!sql_parse_ident(p, &out->name, what)) return false;
    }
    return true;
}

bool sql_ident_eq(const sql_ident_t *a, const sql_ident_t *b) {
    return a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
}

sql_stmt_t *sql_new_stmt(parser_t *p, sql_stmt_kind_t kind, const sql_token_t *first) {
    sql_stmt_t *s = PNEW(p, sql_stmt_t);
    if (!s) return NULL;
    s->kind = kind;
    s->dialect = (uint8_t)p->dialect;
    s->pos = tok_pos(first);
    return s;
}

/* ---- statements ------------------------------------------------------------------------------ */

static const char *cql_statements =
    "a statement (SELECT, INSERT, UPDATE, DELETE, BEGIN BATCH, USE, TRUNCATE, CREATE, ALTER, DROP, "
    "DESCRIBE)";
static const char *pipeline_statements = "a statement (CREATE STREAM, CREATE PIPELINE, CREATE KEYSPACE, CREATE TABLE, "
                                         "CREATE TYPE, INSERT INTO ... SELECT, SELECT)";

static sql_stmt_t *unsupported(parser_t *p, const char *what) {
    sql_fail_at(p, peek(p), SQL_ERR_UNSUPPORTED, "%s %s not supported by eddy", what,
            strchr(what, ',') || strstr(what, "statements") ? "are" : "is");
    return NULL;
}

sql_stmt_t *sql_parse_statement(parser_t *p) {
    const sql_token_t *t = peek(p);
    if (t->type != TK_IDENT) {
        sql_fail_expected(p, is_cql(p) ? cql_statements : pipeline_statements);
        return NULL;
    }
    if (!is_cql(p)) {
        switch (t->kw) {
        case KW_SELECT: return sql_parse_select(p);
        case KW_INSERT: return sql_parse_insert(p);
        case KW_CREATE: return sql_parse_create(p);
        default: sql_fail_expected(p, pipeline_statements); return NULL;
        }
    }
    switch (t->kw) {
    case KW_SELECT: return sql_parse_select(p);
    case KW_INSERT: return sql_parse_insert(p);
    case KW_UPDATE: return sql_parse_update(p);
    case KW_DELETE: return sql_parse_delete(p);
    case KW_BEGIN: return sql_parse_batch(p);
    case KW_USE: return sql_parse_use(p);
    case KW_TRUNCATE: return sql_parse_truncate(p);
    case KW_CREATE: return sql_parse_create(p);
    case KW_ALTER: return sql_parse_alter(p);
    case KW_DROP: return sql_parse_drop(p);
    case KW_DESCRIBE:
    case KW_DESC: return sql_parse_describe(p);
    case KW_LIST: return sql_parse_list(p);
    case KW_GRANT:
    case KW_REVOKE: return unsupported(p, "GRANT and REVOKE statements");
    default: sql_fail_expected(p, cql_statements); return NULL;
    }
}

/* Parses one statement at the current token and finishes it: its span and its bind markers. */
static sql_stmt_t *statement(parser_t *p) {
    p->nbinds = 0;
    p->depth = 0;
    p->stack_len = 0;
    p->in_cql_term = false;
    const sql_token_t *first = peek(p);
    p->stmt_start = first->off;
    sql_stmt_t *s = sql_parse_statement(p);
    if (!s) return NULL;
    const sql_token_t *last = &p->toks.v[p->pos - 1];
    s->text_off = first->off;
    s->text_len = last->off + last->len - first->off;
    s->nbinds = p->nbinds;
    if (p->nbinds) {
        s->binds = arena_memdup(p->arena, p->binds, p->nbinds * sizeof *p->binds);
        if (!s->binds) {
            sql_fail_nomem(p);
            return NULL;
        }
    }
    return s;
}

sql_parser_t *sql_parser_new(const sql_limits_t *limits) {
    sql_parser_t *p = eddy_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->limits = default_limits;
    sql_kw_table_init(p->kwtab);
    if (limits) {
        if (limits->max_length) p->limits.max_length = limits->max_length;
        if (limits->max_tokens) p->limits.max_tokens = limits->max_tokens;
        if (limits->max_depth) p->limits.max_depth = limits->max_depth;
        if (limits->max_binds) p->limits.max_binds = limits->max_binds;
    }
    return p;
}

void sql_parser_free(sql_parser_t *p) {
    if (!p) return;
    eddy_free(p->toks.v);
    eddy_free(p->stack);
    eddy_free(p->binds);
    eddy_free(p);
}

/* Lexes text and readies p for one parse. */
static int begin(parser_t *p, arena_t *arena, sql_dialect_t dialect, const char *text, size_t len,
                 sql_error_t *err) {
    p->arena = arena;
    p->text = text;
    p->len = len;
    p->dialect = dialect;
    p->pos = 0;
    p->failed = false;
    p->err = err ? err : &p->local_err;
    p->err->kind = SQL_ERR_NONE;
    p->err->msg[0] = 0;
    p->toks.n = 0;
    if (len > p->limits.max_length) {
        sql_error_fill(p->err, SQL_ERR_LIMIT, text, len, 0, 0, 1, "statement too long");
        snprintf(p->err->msg, sizeof p->err->msg, "statement too long: %zu bytes (the limit is %u)", len,
                 p->limits.max_length);
        return EDDY_ERR_INVALID;
    }
    return sql_lex(text, len, &p->toks, p->limits.max_tokens, p->kwtab, p->err);
}

static int finish(parser_t *p) {
    if (!p->failed) return EDDY_OK;
    return p->err->kind == SQL_ERR_NOMEM ? EDDY_ERR_NOMEM : EDDY_ERR_INVALID;
}

int sql_parse_cql(sql_parser_t *p, arena_t *arena, const char *text, size_t len, sql_stmt_t **out,
                  sql_error_t *err) {
    *out = NULL;
    sql_parser_t *own = NULL;
    if (!p && !(p = own = sql_parser_new(NULL))) return EDDY_ERR_NOMEM;
    int rc = begin(p, arena, SQL_DIALECT_CQL, text, len, err);
    if (rc == EDDY_OK) {
        sql_stmt_t *s = statement(p);
        while (s && sql_accept(p, TK_SEMI)) {
        }
        if (s && !at(p, TK_EOF)) sql_fail_expected(p, "end of statement");
        rc = finish(p);
        if (rc == EDDY_OK) *out = s;
    }
    sql_parser_free(own);
    return rc;
}

int sql_parse_script(sql_parser_t *p, arena_t *arena, sql_dialect_t dialect, const char *text, size_t len,
                     sql_script_t **out, sql_error_t *err) {
    *out = NULL;
    sql_parser_t *own = NULL;
    if (!p && !(p = own = sql_parser_new(NULL))) return EDDY_ERR_NOMEM;
    int rc = begin(p, arena, dialect, text, len, err);
    if (rc == EDDY_OK) {
        sql_script_t *script = PNEW(p, sql_script_t);
        /* Statements are collected on a heap array: the scratch stack is reset per statement. */
        sql_stmt_t **v = NULL;
        uint32_t n = 0, cap = 0;
        while (script && !p->failed) {
            while (sql_accept(p, TK_SEMI)) {
            }
            if (at(p, TK_EOF)) break;
            sql_stmt_t *s = statement(p);
            if (!s) break;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                sql_stmt_t **nv = eddy_realloc(v, cap * sizeof *v);
                if (!nv) {
                    sql_fail_nomem(p);
                    break;
                }
                v = nv;
            }
            v[n++] = s;
            if (!at(p, TK_EOF) && !at(p, TK_SEMI)) sql_fail_expected(p, "';' or end of input");
        }
        if (!p->failed && script) {
            script->nstmts = n;
            if (n && !(script->stmts = arena_memdup(arena, v, n * sizeof *v))) sql_fail_nomem(p);
        }
        eddy_free(v);
        rc = finish(p);
        if (rc == EDDY_OK) *out = script;
    }
    sql_parser_free(own);
    return rc;
}

int sql_parse_pipeline(sql_parser_t *p, arena_t *arena, const char *text, size_t len, sql_script_t **out,
                       sql_error_t *err) {
    return sql_parse_script(p, arena, SQL_DIALECT_PIPELINE, text, len, out, err);
}
