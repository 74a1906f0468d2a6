/* sql internals: tokens, keywords, the parser's state and the functions the parser's files share.
 * Nothing outside src/sql includes this header. */
#ifndef EDDY_SQL_INT_H
#define EDDY_SQL_INT_H

#include "sql/sql.h"

/* ---- tokens ------------------------------------------------------------------------------------ */

typedef enum {
    TK_EOF,
    TK_IDENT,     /* unquoted word; kw says whether it is a keyword */
    TK_QIDENT,    /* "quoted name" */
    TK_STRING,    /* 'text' */
    TK_DSTRING,   /* $$text$$ */
    TK_INTEGER,
    TK_FLOAT,
    TK_HEX,       /* 0x... */
    TK_UUID,
    TK_DURATION,
    TK_QMARK,     /* ? */
    TK_LPAREN, TK_RPAREN, TK_LBRACKET, TK_RBRACKET, TK_LBRACE, TK_RBRACE,
    TK_COMMA, TK_SEMI, TK_DOT, TK_COLON, TK_RANGE /* .. */,
    TK_EQ, TK_NE /* != */, TK_LTGT /* <> */, TK_LT, TK_LE, TK_GT, TK_GE,
    TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT,
    TK_PLUSEQ, TK_MINUSEQ, TK_CONCAT /* || */, TK_ARROW /* -> */, TK_ARROW2 /* ->> */,
    TK__COUNT
} sql_tok_type_t;

/* A token: where it is and what it is; its value is decoded from the text by the parser only
 * when an AST node needs it, so lexing stays a tight loop over the bytes. */
typedef struct {
    uint16_t type;   /* sql_tok_type_t */
    uint16_t kw;     /* TK_IDENT: the keyword (KW_NONE if not one) */
    uint32_t off;    /* byte offset of the first character */
    uint32_t len;    /* bytes in the text, quotes included */
    uint32_t line;   /* 1-based */
    uint32_t col;    /* 1-based byte column */
} sql_token_t;

/* Keywords. Every keyword is a word of the lexer; whether it may also serve as a name depends on
 * the dialect (kw_flags). X(ID, "text", flags) */
#define KWF_CQL 1  /* reserved in CQL (Cassandra 4's reserved_keywords.txt, plus true/false) */
#define KWF_PIPE 2 /* reserved in pipeline SQL */
#define KWF_BOTH 3
#define KWF_TYPE 4 /* a native type name */
#define SQL_KEYWORDS(X)                                                                      \
    X(ADD, "add", KWF_BOTH) X(AGGREGATE, "aggregate", 0) X(AGGREGATES, "aggregates", 0)     \
    X(ALL, "all", 0) X(ALLOW, "allow", KWF_BOTH) X(ALTER, "alter", KWF_BOTH)                \
    X(AND, "and", KWF_BOTH) X(APPLY, "apply", KWF_BOTH) X(AS, "as", KWF_PIPE)               \
    X(ASC, "asc", KWF_BOTH) X(ASCII, "ascii", KWF_TYPE) X(AUTHORIZE, "authorize", KWF_BOTH) \
    X(BATCH, "batch", KWF_BOTH) X(BEGIN, "begin", KWF_BOTH) X(BETWEEN, "between", KWF_PIPE) \
    X(BIGINT, "bigint", KWF_TYPE) X(BLOB, "blob", KWF_TYPE) X(BOOLEAN, "boolean", KWF_TYPE) \
    X(BY, "by", KWF_BOTH) X(CALLED, "called", 0) X(CASE, "case", KWF_PIPE)                  \
    X(CAST, "cast", 0) X(CLUSTER, "cluster", 0) X(CLUSTERING, "clustering", 0)              \
    X(COLUMNFAMILY, "columnfamily", KWF_BOTH) X(COMPACT, "compact", 0)                      \
    X(CONTAINS, "contains", 0) X(COUNT, "count", 0) X(COUNTER, "counter", KWF_TYPE)         \
    X(CREATE, "create", KWF_BOTH) X(CROSS, "cross", KWF_PIPE) X(CUSTOM, "custom", 0)        \
    X(DATE, "date", KWF_TYPE) X(DECIMAL, "decimal", KWF_TYPE) X(DEFAULT, "default", 0)      \
    X(DELETE, "delete", KWF_BOTH) X(DESC, "desc", KWF_BOTH)                                 \
    X(DESCRIBE, "describe", KWF_BOTH) X(DISTINCT, "distinct", KWF_PIPE)                     \
    X(DOUBLE, "double", KWF_TYPE) X(DROP, "drop", KWF_BOTH)                                 \
    X(DURATION, "duration", KWF_TYPE) X(ELSE, "else", KWF_PIPE) X(END, "end", KWF_PIPE)     \
    X(ENTRIES, "entries", KWF_BOTH) X(EXECUTE, "execute", KWF_BOTH)                         \
    X(EXISTS, "exists", 0) X(FALSE, "false", KWF_BOTH) X(FILTERING, "filtering", 0)         \
    X(FLOAT, "float", KWF_TYPE) X(FOR, "for", 0) X(FROM, "from", KWF_BOTH)                  \
    X(FROZEN, "frozen", 0) X(FULL, "full", KWF_BOTH) X(FUNCTION, "function", 0)             \
    X(FUNCTIONS, "functions", 0) X(GRANT, "grant", KWF_BOTH) X(GROUP, "group", KWF_PIPE)    \
    X(HAVING, "having", KWF_PIPE) X(HOP, "hop", 0) X(IF, "if", KWF_BOTH)                    \
    X(IN, "in", KWF_BOTH) X(INDEX, "index", KWF_BOTH) X(INET, "inet", KWF_TYPE)             \
    X(INFINITY, "infinity", KWF_BOTH) X(INNER, "inner", KWF_PIPE)                           \
    X(INSERT, "insert", KWF_BOTH) X(INT, "int", KWF_TYPE) X(INTERNALS, "internals", 0)      \
    X(INTERVAL, "interval", 0) X(INTO, "into", KWF_BOTH) X(IS, "is", KWF_BOTH)              \
    X(JOIN, "join", KWF_PIPE) X(JSON, "json", 0) X(KEY, "key", 0) X(KEYS, "keys", 0)        \
    X(KEYSPACE, "keyspace", KWF_BOTH) X(KEYSPACES, "keyspaces", 0)                          \
    X(LANGUAGE, "language", 0) X(LATERAL, "lateral", KWF_PIPE) X(LEFT, "left", KWF_PIPE)    \
    X(LIKE, "like", KWF_PIPE) X(LIMIT, "limit", KWF_BOTH) X(LIST, "list", 0)                \
    X(LOGIN, "login", 0) X(MAP, "map", 0) X(MATERIALIZED, "materialized", KWF_BOTH)         \
    X(MAXWRITETIME, "maxwritetime", 0) X(MODIFY, "modify", KWF_BOTH) X(NAN, "nan", KWF_BOTH) \
    X(NORECURSIVE, "norecursive", KWF_BOTH) X(NOT, "not", KWF_BOTH)                         \
    X(NULL, "null", KWF_BOTH) X(OF, "of", KWF_BOTH) X(ON, "on", KWF_BOTH)                   \
    X(ONLY, "only", 0) X(OR, "or", KWF_BOTH) X(ORDER, "order", KWF_BOTH)                    \
    X(ORDINALITY, "ordinality", 0) X(OUTER, "outer", KWF_PIPE)                              \
    X(OVERWRITE, "overwrite", 0) X(PARTITION, "partition", 0) X(PASSWORD, "password", 0)    \
    X(PER, "per", 0) X(PERMISSION, "permission", 0) X(PERMISSIONS, "permissions", 0)        \
    X(PIPELINE, "pipeline", 0)                                                               \
    X(PRIMARY, "primary", KWF_BOTH) X(RENAME, "rename", KWF_BOTH)                           \
    X(REPLACE, "replace", 0) X(REVOKE, "revoke", KWF_BOTH) X(RIGHT, "right", KWF_PIPE)      \
    X(ROLE, "role", 0) X(ROLES, "roles", 0) X(SCHEMA, "schema", KWF_BOTH)                   \
    X(SELECT, "select", KWF_BOTH) X(SESSION, "session", 0) X(SET, "set", KWF_BOTH)          \
    X(SMALLINT, "smallint", KWF_TYPE) X(STATIC, "static", 0) X(STORAGE, "storage", 0)       \
    X(STREAM, "stream", 0) X(SUPERUSER, "superuser", 0) X(TABLE, "table", KWF_BOTH)         \
    X(TABLES, "tables", 0) X(TEXT, "text", KWF_TYPE) X(THEN, "then", KWF_PIPE)              \
    X(TIME, "time", KWF_TYPE) X(TIMESTAMP, "timestamp", KWF_TYPE)                           \
    X(TIMEUUID, "timeuuid", KWF_TYPE) X(TINYINT, "tinyint", KWF_TYPE) X(TO, "to", KWF_BOTH) \
    X(TOKEN, "token", KWF_BOTH) X(TRIGGER, "trigger", 0) X(TRUE, "true", KWF_BOTH)          \
    X(TRUNCATE, "truncate", KWF_BOTH) X(TTL, "ttl", 0) X(TUMBLE, "tumble", 0)               \
    X(TUPLE, "tuple", 0) X(TYPE, "type", 0) X(TYPES, "types", 0) X(UNION, "union", KWF_PIPE) \
    X(UNLOGGED, "unlogged", KWF_BOTH) X(UNNEST, "unnest", 0) X(UNSET, "unset", 0)           \
    X(UPDATE, "update", KWF_BOTH) X(USE, "use", KWF_BOTH) X(USER, "user", 0)                \
    X(USERS, "users", 0) X(USING, "using", KWF_BOTH) X(UUID, "uuid", KWF_TYPE)              \
    X(VALUES, "values", 0) X(VARCHAR, "varchar", KWF_TYPE) X(VARINT, "varint", KWF_TYPE)    \
    X(VIEW, "view", KWF_BOTH) X(WATERMARK, "watermark", 0) X(WHEN, "when", KWF_PIPE)        \
    X(WHERE, "where", KWF_BOTH) X(WINDOW, "window", KWF_PIPE) X(WITH, "with", KWF_BOTH)     \
    X(WRITETIME, "writetime", 0)

typedef enum {
    KW_NONE,
#define SQL_KW_ENUM(id, text, flags) KW_##id,
    SQL_KEYWORDS(SQL_KW_ENUM)
#undef SQL_KW_ENUM
    KW__COUNT
} sql_kw_t;

/* The keyword for a word (any case), KW_NONE if it is not one. */
sql_kw_t sql_kw_lookup(const char *s, size_t len);
/* The same through a hash table that sql_kw_table_init fills (each parser keeps one). */
#define SQL_KW_TAB 512
void sql_kw_table_init(uint16_t tab[SQL_KW_TAB]);
sql_kw_t sql_kw_lookup_fast(const uint16_t tab[SQL_KW_TAB], const char *s, size_t len);
/* Lower-case text and flags of a keyword. */
const char *sql_kw_text(sql_kw_t kw);
unsigned sql_kw_flags(sql_kw_t kw);

/* The lexer: appends the tokens of text[0..len) to toks (the last one TK_EOF); kwtab (may be NULL)
 * speeds up keyword lookup. Returns EDDY_OK, or an error (err filled, kind SYNTAX for a bad token,
 * LIMIT, NOMEM). */
typedef struct {
    sql_token_t *v;
    uint32_t n;
    uint32_t cap;
} sql_toks_t;
int sql_lex(const char *text, size_t len, sql_toks_t *toks, uint32_t max_tokens, const uint16_t *kwtab,
            sql_error_t *err);

/* ---- literal decoding (lex.c) ---------------------------------------------------------------- */

/* Decodes a duration token's text ("1h30m", "P1DT2H", "P0001-02-03T04:05:06", optionally with a
 * leading '-') the way Cassandra's Duration.from does. Returns false if malformed or overflowing. */
bool sql_duration_parse(const char *s, size_t len, sql_duration_t *out);
/* Parses a canonical 36-character uuid. */
bool sql_uuid_parse(const char *s, size_t len, uint8_t out[16]);

/* ---- the parser ---------------------------------------------------------------------------- */

struct sql_parser {
    sql_limits_t limits;
    uint16_t kwtab[SQL_KW_TAB];
    sql_toks_t toks;
    /* A byte stack for lists under construction: an item list is pushed while parsed, then
     * copied to the arena at its exact size (nested lists finish first, so it stays a stack). */
    uint8_t *stack;
    size_t stack_len, stack_cap;
    /* Bind markers of the current statement, in order. */
    sql_expr_t **binds;
    uint32_t nbinds, bind_cap;

    /* Per parse: */
    arena_t *arena;
    const char *text;
    size_t len;
    sql_dialect_t dialect;
    uint32_t pos;          /* index of the current token */
    uint32_t depth;
    bool failed;
    sql_error_t *err;
    sql_error_t local_err; /* used when the caller passed no err */
    /* Where the statement being parsed started, for context. */
    uint32_t stmt_start;
    /* Pipelines: column references may be qualified; CQL terms may not name columns. */
    bool in_cql_term;
};

typedef struct sql_parser parser_t;

/* Token access. */
static inline const sql_token_t *peek(const parser_t *p) { return &p->toks.v[p->pos]; }
static inline const sql_token_t *peek_at(const parser_t *p, uint32_t k) {
    uint32_t i = p->pos + k;
    return &p->toks.v[i < p->toks.n ? i : p->toks.n - 1];
}
static inline bool at(const parser_t *p, sql_tok_type_t t) { return peek(p)->type == t; }
static inline bool at_kw(const parser_t *p, sql_kw_t kw) {
    const sql_token_t *t = peek(p);
    return t->type == TK_IDENT && t->kw == kw;
}
static inline bool tok_is_kw(const sql_token_t *t, sql_kw_t kw) { return t->type == TK_IDENT && t->kw == kw; }
static inline const sql_token_t *advance(parser_t *p) {
    const sql_token_t *t = &p->toks.v[p->pos];
    if (t->type != TK_EOF) p->pos++;
    return t;
}
static inline sql_pos_t tok_pos(const sql_token_t *t) { return (sql_pos_t){t->off, t->line, t->col}; }
static inline bool is_cql(const parser_t *p) { return p->dialect == SQL_DIALECT_CQL; }

bool sql_accept(parser_t *p, sql_tok_type_t t);
bool sql_accept_kw(parser_t *p, sql_kw_t kw);
/* Consume a token or fail with "expected <what>, found '...'". */
bool sql_expect(parser_t *p, sql_tok_type_t t);
bool sql_expect_kw(parser_t *p, sql_kw_t kw);

/* Errors: the first one wins; all return false / NULL so that callers can "return fail(...)". */
bool sql_fail_at(parser_t *p, const sql_token_t *t, sql_error_kind_t kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool sql_fail_expected(parser_t *p, const char *what);
bool sql_fail_nomem(parser_t *p);
const char *sql_tok_type_name(sql_tok_type_t t);

/* Nesting guard: returns false (with an error) when too deep. */
bool sql_depth_enter(parser_t *p);
static inline void depth_leave(parser_t *p) { p->depth--; }

/* Arena helpers (fail with NOMEM). */
void *sql_palloc(parser_t *p, size_t size);
#define PNEW(p, type) ((type *)sql_palloc((p), sizeof(type)))

/* The scratch stack. */
static inline size_t stack_mark(const parser_t *p) { return p->stack_len; }
bool sql_stack_push(parser_t *p, const void *item, size_t size);
/* Copies the items pushed since mark to the arena, pops them; *n gets their count. An empty list
 * gives NULL (and true). */
bool sql_stack_finish(parser_t *p, size_t mark, size_t size, void **out, uint32_t *n);
#define STACK_FINISH(p, mark, arr, n) sql_stack_finish((p), (mark), sizeof(*(arr)), (void **)&(arr), &(n))
/* The same for items pushed as (a, b) pairs: they go to two arrays of n elements each. */
bool sql_stack_finish_pairs(parser_t *p, size_t mark, size_t asize, size_t bsize, void **a, void **b, uint32_t *n);
#define STACK_FINISH_PAIRS(p, mark, a, b, n) \
    sql_stack_finish_pairs((p), (mark), sizeof(*(a)), sizeof(*(b)), (void **)&(a), (void **)&(b), &(n))

/* Names. */
bool sql_tok_is_name(const parser_t *p, const sql_token_t *t); /* may serve as an identifier */
bool sql_parse_ident(parser_t *p, sql_ident_t *out, const char *what);
bool sql_parse_qname(parser_t *p, sql_qname_t *out, const char *what);
/* Decodes a name token (folding or unquoting) into the arena. */
bool sql_ident_from_tok(parser_t *p, const sql_token_t *t, sql_ident_t *out);
bool sql_ident_eq(const sql_ident_t *a, const sql_ident_t *b);

/* Expressions and types (parse_expr.c). */
typedef enum {
    PREC_OR = 1, PREC_AND, PREC_NOT, PREC_CMP, PREC_CONCAT, PREC_ADD, PREC_MUL, PREC_UNARY
} sql_prec_t;
sql_expr_t *sql_parse_expr(parser_t *p);                        /* the whole grammar */
sql_expr_t *sql_parse_expr_prec(parser_t *p, sql_prec_t min);   /* from a precedence level */
sql_expr_t *sql_parse_term(parser_t *p);   /* CQL term (no columns in CQL), or a pipeline value */
sql_expr_t *sql_parse_selector(parser_t *p); /* CQL selector / pipeline expression */
sql_type_t *sql_parse_type(parser_t *p);
bool sql_tok_starts_type(const parser_t *p);
sql_expr_t *sql_new_expr(parser_t *p, sql_expr_kind_t kind, const sql_token_t *at);
sql_expr_t *sql_parse_bind(parser_t *p); /* at ? or : */
/* WITH options: "a = 1 AND b = {...}" (CQL) or "(a = 1, 'b.c' = 'x')" (streams, parens). */
bool sql_parse_option_list(parser_t *p, bool parens, sql_option_t **out, uint32_t *n);
/* One option, pushed on the stack; duplicates of those pushed since mark are refused. */
bool sql_parse_option(parser_t *p, bool stream_style, size_t mark);
sql_expr_t *sql_literal_from_tok(parser_t *p, const sql_token_t *t, bool negative);
bool sql_tok_is_literal(const sql_token_t *t); /* a literal's first token: 'x', 1, true, NULL, NaN ... */
/* Copies s[0..n) into the arena with a '-' before it when negative; NULL when out of memory. */
const char *sql_lit_text(parser_t *p, const char *s, size_t n, bool negative, uint32_t *len);

/* Statements. */
sql_stmt_t *sql_parse_statement(parser_t *p);                  /* dispatch on the first word */
sql_stmt_t *sql_parse_select(parser_t *p);
sql_stmt_t *sql_parse_insert(parser_t *p);
sql_stmt_t *sql_parse_update(parser_t *p);
sql_stmt_t *sql_parse_delete(parser_t *p);
sql_stmt_t *sql_parse_batch(parser_t *p);
sql_stmt_t *sql_parse_create(parser_t *p);
sql_stmt_t *sql_parse_alter(parser_t *p);
sql_stmt_t *sql_parse_drop(parser_t *p);
sql_stmt_t *sql_parse_describe(parser_t *p);
sql_stmt_t *sql_parse_use(parser_t *p);
sql_stmt_t *sql_parse_truncate(parser_t *p);
sql_stmt_t *sql_parse_list(parser_t *p);
bool sql_parse_where_relations(parser_t *p, sql_relation_t **out, uint32_t *n, bool conditions);
bool sql_parse_using(parser_t *p, sql_using_t *u, bool timestamp_only);
bool sql_parse_pipeline_select_body(parser_t *p, sql_select_t *s);
/* Turns alias.col references (parsed as FIELD of COLUMN) into qualified COLUMNs. */
bool sql_select_resolve(parser_t *p, sql_select_t *s);
sql_stmt_t *sql_new_stmt(parser_t *p, sql_stmt_kind_t kind, const sql_token_t *first);
bool sql_parse_column_defs(parser_t *p, sql_create_table_t *ct, sql_create_stream_t *cs);

/* Printing helpers shared by print.c and the error formatter. */
void sql_print_qname(wr_t *w, const sql_qname_t *q);

#endif
