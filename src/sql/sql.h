/* sql: the one lexer and parser for CQL and for eddy's pipeline SQL.
 *
 * Text goes in, an AST comes out, allocated in the caller's arena. Two dialects share the lexer,
 * the expression grammar and the DDL grammar:
 *   - SQL_DIALECT_CQL: CQL 3 as Cassandra 4 implements it (what the native protocol serves);
 *   - SQL_DIALECT_PIPELINE: streaming and batch pipelines (CREATE STREAM, INSERT INTO ... SELECT
 *     with general expressions, UNNEST / LATERAL VIEW, GROUP BY, HAVING), plus CREATE KEYSPACE,
 *     CREATE TABLE and CREATE TYPE with the CQL grammar.
 * The AST does not point into the input text: every name and literal is decoded into the arena,
 * so the text may be freed once parsing returns. Positions (sql_pos_t) are offsets into it.
 *
 * The parser checks syntax and the rules Cassandra checks while parsing (one PRIMARY KEY,
 * X = X + v forms, ...); names, types and values are checked by the consumers (cql, engine).
 * sql_print_* turns an AST back into canonical text (keywords upper case, names quoted only when
 * needed), which parses again to the same AST. */
#ifndef EDDY_SQL_H
#define EDDY_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

typedef enum { SQL_DIALECT_CQL, SQL_DIALECT_PIPELINE } sql_dialect_t;

/* ---- positions, names ------------------------------------------------------------------------ */

/* Where something starts in the parsed text: byte offset, 1-based line, 1-based column counted in
 * bytes from the start of the line (equal to characters for ASCII; sql_pos_column gives the
 * character column for messages). */
typedef struct {
    uint32_t off;
    uint32_t line;
    uint32_t col;
} sql_pos_t;

/* An identifier: unquoted names are folded to lower case, "quoted" names are kept as written
 * (with "" decoded to "). name is NUL-terminated; name == NULL means absent (e.g. no keyspace). */
typedef struct {
    const char *name;
    uint32_t len;
    bool quoted;
    sql_pos_t pos;
} sql_ident_t;

/* [keyspace.]name: ks.name is NULL when not given (CQL: the session's keyspace applies). */
typedef struct {
    sql_ident_t ks;
    sql_ident_t name;
} sql_qname_t;

/* ---- types ----------------------------------------------------------------------------------- */

typedef enum {
    SQL_TYPE_ASCII, SQL_TYPE_BIGINT, SQL_TYPE_BLOB, SQL_TYPE_BOOLEAN, SQL_TYPE_COUNTER,
    SQL_TYPE_DATE, SQL_TYPE_DECIMAL, SQL_TYPE_DOUBLE, SQL_TYPE_DURATION, SQL_TYPE_FLOAT,
    SQL_TYPE_INET, SQL_TYPE_INT, SQL_TYPE_SMALLINT, SQL_TYPE_TEXT /* and varchar */,
    SQL_TYPE_TIME, SQL_TYPE_TIMESTAMP, SQL_TYPE_TIMEUUID, SQL_TYPE_TINYINT, SQL_TYPE_UUID,
    SQL_TYPE_VARINT,
    SQL_TYPE_LIST,   /* params[0] */
    SQL_TYPE_SET,    /* params[0] */
    SQL_TYPE_MAP,    /* params[0] key, params[1] value */
    SQL_TYPE_TUPLE,  /* params[0..nparams) */
    SQL_TYPE_UDT,    /* udt names a user-defined type */
    SQL_TYPE_CUSTOM, /* 'java.class.Name' (a string): parsed, for consumers to reject */
} sql_type_kind_t;

typedef struct sql_type sql_type_t;
struct sql_type {
    sql_type_kind_t kind;
    bool frozen;          /* written inside frozen<...> (or nested in a frozen type) */
    uint32_t nparams;
    sql_type_t **params;
    sql_qname_t udt;      /* SQL_TYPE_UDT */
    const char *custom;   /* SQL_TYPE_CUSTOM: the class name */
    sql_pos_t pos;
};

/* The CQL name of a native type kind ("text", "bigint", ...; "list" etc. for collections). */
const char *sql_type_kind_name(sql_type_kind_t kind);

/* ---- expressions ----------------------------------------------------------------------------- */

typedef enum {
    SQL_LIT_NULL,
    SQL_LIT_STRING,   /* text/len: the decoded string (may hold any byte) */
    SQL_LIT_INTEGER,  /* text: digits with an optional '-'; v.i set when fits_i64 */
    SQL_LIT_FLOAT,    /* text as written ("1.5e3", "NaN", "-Infinity"); v.f its value */
    SQL_LIT_BOOLEAN,  /* v.b */
    SQL_LIT_UUID,     /* v.uuid: the 16 bytes; text: canonical lower-case form */
    SQL_LIT_BLOB,     /* text/len: the decoded bytes of 0x... */
    SQL_LIT_DURATION, /* v.duration; text as written ("1h30m", "P1D", "-2w") */
} sql_lit_kind_t;

typedef struct {
    int32_t months;
    int32_t days;
    int64_t nanos;
} sql_duration_t;

typedef struct {
    sql_lit_kind_t kind;
    bool fits_i64;       /* SQL_LIT_INTEGER: v.i holds the value */
    const char *text;    /* NUL-terminated (strings and blobs may contain NUL: use len) */
    uint32_t len;
    union {
        int64_t i;
        double f;
        bool b;
        uint8_t uuid[16];
        sql_duration_t duration;
    } v;
} sql_literal_t;

typedef enum {
    SQL_EXPR_LITERAL,
    SQL_EXPR_BIND,      /* ? or :name (the bind member; sql_bind_role_t) */
    SQL_EXPR_COLUMN,    /* a column (pipelines: qualifier.name once resolved, see below) */
    SQL_EXPR_STAR,      /* * in a select list (qualifier set for t.*) */
    SQL_EXPR_CALL,      /* f(args), ks.f(args), count(*), count(DISTINCT x) */
    SQL_EXPR_CAST,      /* CAST(e AS type); pipelines: also DATE '...', TIMESTAMP '...' */
    SQL_EXPR_HINT,      /* CQL type hint: (type) term */
    SQL_EXPR_WRITETIME, /* writetime(col) (CQL selectors; bin.left is the column) */
    SQL_EXPR_TTL,       /* ttl(col) */
    SQL_EXPR_UNARY,     /* op: SQL_OP_NEG, SQL_OP_NOT */
    SQL_EXPR_BINARY,    /* op: arithmetic, comparison, AND, OR, LIKE, CONTAINS, ->, ->>, || */
    SQL_EXPR_IS_NULL,   /* e IS [NOT] NULL (negated = IS NOT NULL) */
    SQL_EXPR_BETWEEN,   /* e [NOT] BETWEEN lo AND hi */
    SQL_EXPR_IN,        /* e [NOT] IN (list...) */
    SQL_EXPR_CASE,      /* CASE [operand] WHEN .. THEN .. [ELSE ..] END */
    SQL_EXPR_LIST,      /* [a, b] */
    SQL_EXPR_SET,       /* {a, b}; {} is an empty set (CQL: may also mean an empty map) */
    SQL_EXPR_MAP,       /* {k: v, ...} */
    SQL_EXPR_TUPLE,     /* (a, b) */
    SQL_EXPR_UDT,       /* {field: v, ...}: a user-type value (CQL) or a struct (pipelines). In a
                         * CQL selector Cassandra reads {c: v} as a map when c is a column; the
                         * CQL front may do the same from the receiver's type */
    SQL_EXPR_SUBSCRIPT, /* e[key]: collection element, JSON member or array item */
    SQL_EXPR_SLICE,     /* e[from..to] (either may be NULL) */
    SQL_EXPR_FIELD,     /* e.field: UDT field or JSON member */
} sql_expr_kind_t;

typedef enum {
    SQL_OP_NONE,
    /* arithmetic and strings */
    SQL_OP_ADD, SQL_OP_SUB, SQL_OP_MUL, SQL_OP_DIV, SQL_OP_MOD, SQL_OP_CONCAT /* || */,
    /* comparisons (also the operators of CQL relations) */
    SQL_OP_EQ, SQL_OP_NE /* != and <> */, SQL_OP_LT, SQL_OP_LE, SQL_OP_GT, SQL_OP_GE,
    SQL_OP_IN /* relations only: SQL_EXPR_IN is its own node */,
    SQL_OP_NOT_IN /* not produced: SQL_EXPR_IN with negated */,
    SQL_OP_CONTAINS, SQL_OP_CONTAINS_KEY,
    SQL_OP_NOT_CONTAINS, SQL_OP_NOT_CONTAINS_KEY /* pipelines: e NOT CONTAINS [KEY] v */,
    SQL_OP_LIKE, SQL_OP_NOT_LIKE, SQL_OP_IS_NOT_NULL /* relations only */,
    SQL_OP_BETWEEN /* not produced: SQL_EXPR_BETWEEN */,
    /* logic */
    SQL_OP_AND, SQL_OP_OR, SQL_OP_NOT, SQL_OP_NEG,
    /* JSON access (pipelines): e->k gives JSON, e->>k gives text */
    SQL_OP_JSON_GET, SQL_OP_JSON_GET_TEXT,
} sql_op_t;

/* The source text of an operator ("+", "<=", "CONTAINS KEY", "->>"). */
const char *sql_op_name(sql_op_t op);

/* What a bind marker's value is for, known from where it stands (CQL); the CQL front turns it
 * into PREPARE metadata with the table's schema. columns points into the statement's AST. */
typedef enum {
    SQL_BIND_UNKNOWN,       /* inside a function call, collection literal, arithmetic... */
    SQL_BIND_COLUMN,        /* a value of columns[0]: INSERT VALUES, SET c = ?, WHERE c op ? */
    SQL_BIND_IN,            /* c IN ?: a list of columns[0]'s values */
    SQL_BIND_ELEMENT_KEY,   /* c[?] (map key or list index) in SET, DELETE, IF, WHERE */
    SQL_BIND_ELEMENT_VALUE, /* c[k] = ?: a map value or list element of columns[0] */
    SQL_BIND_FIELD_VALUE,   /* c.f = ?: field f (bind.field) of UDT column columns[0] */
    SQL_BIND_CONTAINS,      /* c CONTAINS ?: an element of columns[0] */
    SQL_BIND_CONTAINS_KEY,  /* c CONTAINS KEY ?: a key of map columns[0] */
    SQL_BIND_TUPLE,         /* (a, b) op ?: a tuple of columns[0..ncolumns) */
    SQL_BIND_TUPLE_IN,      /* (a, b) IN ?: a list of such tuples */
    SQL_BIND_TOKEN,         /* token(pk...) op ?: a bigint token of columns */
    SQL_BIND_TTL,           /* USING TTL ? ("[ttl]") */
    SQL_BIND_TIMESTAMP,     /* USING TIMESTAMP ? ("[timestamp]") */
    SQL_BIND_LIMIT,         /* LIMIT ? ("[limit]") */
    SQL_BIND_PER_PARTITION_LIMIT, /* PER PARTITION LIMIT ? ("[per_partition_limit]") */
    SQL_BIND_JSON,          /* INSERT JSON ? ("[json]") */
} sql_bind_role_t;

typedef struct sql_expr sql_expr_t;
typedef struct sql_select sql_select_t;

struct sql_expr {
    sql_expr_kind_t kind;
    sql_op_t op;          /* UNARY, BINARY */
    bool negated;         /* IS_NULL: IS NOT NULL; BETWEEN: NOT BETWEEN; IN: NOT IN */
    bool parens;          /* written in parentheses (printing keeps them) */
    sql_pos_t pos;
    union {
        sql_literal_t lit; /* LITERAL */
        struct {
            uint32_t index;          /* 0-based, in order of appearance in the statement */
            sql_ident_t name;        /* :name (name.name NULL for ?) */
            sql_bind_role_t role;
            const sql_ident_t *columns; /* what it binds to, see sql_bind_role_t */
            uint32_t ncolumns;
            sql_ident_t field;       /* SQL_BIND_FIELD_VALUE */
        } bind;
        struct {
            sql_ident_t qualifier;   /* table, stream or alias (name NULL when absent) */
            sql_ident_t name;
        } column;                    /* COLUMN; STAR uses qualifier only */
        struct {
            sql_qname_t name;        /* function name, lower case unless quoted */
            sql_expr_t **args;
            uint32_t nargs;
            bool star;               /* count(*) (nargs == 0) */
            bool distinct;           /* count(DISTINCT x) */
        } call;
        struct {
            sql_expr_t *arg;
            sql_type_t *type;
        } cast;                      /* CAST, HINT */
        struct {
            sql_expr_t *left;        /* UNARY: left only */
            sql_expr_t *right;
        } bin;                       /* UNARY, BINARY, IS_NULL, WRITETIME (left), TTL (left) */
        struct {
            sql_expr_t *arg;
            sql_expr_t *low;
            sql_expr_t *high;
        } between;
        struct {
            sql_expr_t *arg;
            sql_expr_t **items;      /* IN (a, b, ...) */
            uint32_t nitems;
            bool marker;             /* always false: IN ? exists only in CQL relations */
        } in;
        struct {
            sql_expr_t *operand;     /* NULL for searched CASE */
            sql_expr_t **whens;
            sql_expr_t **thens;
            uint32_t nwhens;
            sql_expr_t *otherwise;   /* ELSE, or NULL */
        } case_;
        struct {
            sql_expr_t **items;      /* LIST, SET, TUPLE; MAP: keys */
            sql_expr_t **values;     /* MAP: values; UDT: values */
            sql_ident_t *fields;     /* UDT: field names */
            uint32_t nitems;
        } coll;
        struct {
            sql_expr_t *arg;
            sql_expr_t *key;         /* SUBSCRIPT: key; SLICE: from */
            sql_expr_t *to;          /* SLICE */
        } sub;
        struct {
            sql_expr_t *arg;
            sql_ident_t field;
        } field;
    };
};

/* ---- CQL pieces: relations, options, assignments --------------------------------------------- */

/* One condition of a CQL WHERE clause (they are joined by AND) or of an IF clause.
 *   COLUMN:  c op v             op: = != < <= > >= IN CONTAINS [KEY] LIKE, IS NOT NULL (no v)
 *   ELEMENT: c[key] op v        (WHERE on map entries; IF on collection elements)
 *   FIELD:   c.field op v       (IF on UDT fields)
 *   TUPLE:   (a, b) op v        multi-column: v is a TUPLE, a BIND, or for IN a list of them
 *   TOKEN:   token(a, b) op v   v a term (literal, bind, token(...) call, function)
 * For IN, value is NULL and in_values/nin hold the list, or in_marker is the bind (IN ?).
 * BETWEEN (Cassandra 5) is not accepted. */
typedef enum {
    SQL_REL_COLUMN, SQL_REL_ELEMENT, SQL_REL_FIELD, SQL_REL_TUPLE, SQL_REL_TOKEN
} sql_rel_kind_t;

typedef struct {
    sql_rel_kind_t kind;
    sql_op_t op;
    sql_ident_t *columns;   /* COLUMN/ELEMENT/FIELD: 1; TUPLE/TOKEN: ncolumns */
    uint32_t ncolumns;
    sql_expr_t *key;        /* ELEMENT */
    sql_ident_t field;      /* FIELD */
    sql_expr_t *value;      /* the right-hand side (NULL for IN lists and IS NOT NULL) */
    sql_expr_t **in_values;
    uint32_t nin;
    sql_expr_t *in_marker;
    sql_pos_t pos;
} sql_relation_t;

/* A property: WITH name = value [AND ...] in CQL DDL, WITH (name = value, ...) for streams.
 * value is a LITERAL or a MAP of literals (replication = {'class': ...}); an unquoted word
 * (caching = keys_only) arrives as a STRING literal. */
typedef struct {
    sql_ident_t name;       /* stream options may be 'quoted.keys' or dotted.names: kept whole */
    sql_expr_t *value;
} sql_option_t;

/* USING TTL / TIMESTAMP: each an INTEGER literal or a BIND, NULL when absent. */
typedef struct {
    sql_expr_t *ttl;
    sql_expr_t *timestamp;
} sql_using_t;

/* SET clause of UPDATE. */
typedef enum {
    SQL_SET_ASSIGN,   /* c = v */
    SQL_SET_ADD,      /* c = c + v, c += v (counters, append to list, add to set/map) */
    SQL_SET_SUB,      /* c = c - v, c -= v */
    SQL_SET_PREPEND,  /* c = v + c (lists) */
    SQL_SET_ELEMENT,  /* c[key] = v */
    SQL_SET_FIELD,    /* c.field = v */
} sql_set_kind_t;

typedef struct {
    sql_set_kind_t kind;
    sql_ident_t column;
    sql_expr_t *key;        /* ELEMENT */
    sql_ident_t field;      /* FIELD */
    sql_expr_t *value;
} sql_assignment_t;

/* DELETE's selection: c, c[key], c.field. */
typedef struct {
    sql_ident_t column;
    sql_expr_t *key;        /* c[key], or NULL */
    sql_ident_t field;      /* c.field (name NULL if absent) */
} sql_delete_target_t;

/* ---- statements ------------------------------------------------------------------------------ */

typedef struct {
    sql_expr_t *expr;
    sql_ident_t alias;      /* AS alias (name NULL if none) */
} sql_select_item_t;

typedef struct {
    sql_expr_t *expr;       /* CQL: a COLUMN */
    bool desc;
} sql_order_t;

/* Pipelines: one item of FROM. from[0] is the driving source; every later item is joined to
 * what comes before it, in order:
 *   NAMED:        a stream or a table (ks.table: a batch job) [AS alias]
 *   UNNEST:       [CROSS JOIN | ,] UNNEST(args) [WITH ORDINALITY] [AS] alias[(col, ...)]
 *   LATERAL_VIEW: LATERAL VIEW [OUTER] fn(args) [alias] AS col[, col]  (Spark; fn is kept as
 *                 written: explode, explode_outer, posexplode, ...)
 * join says how: CROSS (CROSS JOIN, a comma, or LATERAL VIEW), INNER / LEFT / RIGHT / FULL with
 * on (stream-table and stream-stream joins: Pipelines II). */
typedef enum { SQL_FROM_NAMED, SQL_FROM_UNNEST, SQL_FROM_LATERAL_VIEW } sql_from_kind_t;
typedef enum { SQL_JOIN_CROSS, SQL_JOIN_INNER, SQL_JOIN_LEFT, SQL_JOIN_RIGHT, SQL_JOIN_FULL } sql_join_t;

typedef struct {
    sql_from_kind_t kind;
    sql_join_t join;
    sql_expr_t *on;          /* join condition, or NULL */
    sql_qname_t name;        /* NAMED: the source; LATERAL_VIEW: the generator function */
    sql_expr_t **args;       /* UNNEST, LATERAL_VIEW */
    uint32_t nargs;
    bool ordinality;         /* UNNEST ... WITH ORDINALITY */
    bool outer;              /* LATERAL VIEW OUTER */
    sql_ident_t alias;
    sql_ident_t *columns;    /* column aliases */
    uint32_t ncolumns;
    sql_pos_t pos;
} sql_from_t;

/* SELECT, both dialects.
 * CQL: from[0] is the table (nfrom == 1); where holds relations (nwhere), order items are
 * COLUMNs; json/distinct/per_partition_limit/allow_filtering apply.
 * Pipelines: from[] as above; filter is the WHERE expression (NULL if none), having likewise;
 * group_by and order_by are general expressions. alias.col (or name.col for a source written
 * without alias and keyspace) is resolved to COLUMN{qualifier, name}; other x.y stay FIELDs. A
 * batch over part of a table says so in its WHERE: token(pk) > a AND token(pk) <= b (CALLs named
 * token), as the Spark connector's splits do. */
struct sql_select {
    bool json;
    bool distinct;
    bool star;                   /* SELECT * (nitems == 0) */
    sql_select_item_t *items;
    uint32_t nitems;
    sql_from_t *from;
    uint32_t nfrom;
    sql_relation_t *where;       /* CQL */
    uint32_t nwhere;
    sql_expr_t *filter;          /* pipelines */
    sql_expr_t **group_by;
    uint32_t ngroup_by;
    sql_expr_t *having;          /* pipelines */
    sql_order_t *order_by;
    uint32_t norder_by;
    sql_expr_t *per_partition_limit; /* INTEGER literal or BIND */
    sql_expr_t *limit;
    bool allow_filtering;
};

typedef struct {
    sql_qname_t table;
    sql_ident_t *columns;        /* VALUES form; pipelines: optional column list */
    uint32_t ncolumns;
    sql_expr_t **values;         /* VALUES (...) */
    uint32_t nvalues;
    sql_expr_t *json;            /* INSERT ... JSON 'doc' | ? : a STRING literal or BIND */
    bool default_unset;          /* JSON ... DEFAULT UNSET (DEFAULT NULL is the default) */
    bool if_not_exists;
    sql_using_t using_;
    sql_select_t *select;        /* pipelines: INSERT INTO ks.t SELECT ... */
    bool overwrite;              /* pipelines: INSERT OVERWRITE (batch: replace the table) */
} sql_insert_t;

typedef struct {
    sql_qname_t table;
    sql_using_t using_;
    sql_assignment_t *sets;
    uint32_t nsets;
    sql_relation_t *where;
    uint32_t nwhere;
    bool if_exists;
    sql_relation_t *conditions;  /* IF c = v AND ... */
    uint32_t nconditions;
} sql_update_t;

typedef struct {
    sql_delete_target_t *targets; /* empty: the whole row(s) */
    uint32_t ntargets;
    sql_qname_t table;
    sql_using_t using_;          /* TIMESTAMP only */
    sql_relation_t *where;
    uint32_t nwhere;
    bool if_exists;
    sql_relation_t *conditions;
    uint32_t nconditions;
} sql_delete_t;

typedef enum { SQL_BATCH_LOGGED, SQL_BATCH_UNLOGGED, SQL_BATCH_COUNTER } sql_batch_kind_t;
typedef struct sql_stmt sql_stmt_t;
typedef struct {
    sql_batch_kind_t kind;
    sql_using_t using_;
    sql_stmt_t **stmts;          /* INSERT, UPDATE and DELETE statements */
    uint32_t nstmts;
} sql_batch_t;

typedef struct {
    sql_ident_t name;
    sql_type_t *type;
    bool is_static;              /* CQL: STATIC */
    bool primary_key;            /* CQL: written "c type PRIMARY KEY" */
    bool is_key;                 /* streams: written "c type KEY" (the record key) */
} sql_column_def_t;

typedef struct {
    sql_ident_t column;
    bool desc;
} sql_clustering_order_t;

/* CREATE TABLE. The primary key is resolved whichever way it was written: partition_key holds
 * at least one column, clustering the clustering columns in order. */
typedef struct {
    sql_qname_t name;
    bool if_not_exists;
    sql_column_def_t *columns;
    uint32_t ncolumns;
    sql_ident_t *partition_key;
    uint32_t npartition_key;
    sql_ident_t *clustering;
    uint32_t nclustering;
    sql_clustering_order_t *order; /* WITH CLUSTERING ORDER BY (...) */
    uint32_t norder;
    sql_option_t *options;
    uint32_t noptions;
} sql_create_table_t;

typedef enum {
    SQL_ALTER_ADD,        /* ADD [IF NOT EXISTS] col type [STATIC], or ( ... ) */
    SQL_ALTER_DROP,       /* DROP [IF EXISTS] col, or ( ... ) [USING TIMESTAMP n] */
    SQL_ALTER_RENAME,     /* RENAME [IF EXISTS] a TO b [AND c TO d] */
    SQL_ALTER_TYPE,       /* ALTER col TYPE t (Cassandra 4 refuses it at execution) */
    SQL_ALTER_OPTIONS,    /* WITH ... */
    SQL_ALTER_DROP_COMPACT_STORAGE,
} sql_alter_kind_t;

/* ALTER TABLE and ALTER TYPE. ADD: columns (ncolumns); DROP: names; RENAME: names[i] -> to[i];
 * TYPE: columns[0] with its new type; OPTIONS: options. */
typedef struct {
    sql_qname_t name;
    bool if_exists;              /* ALTER TABLE IF EXISTS */
    sql_alter_kind_t kind;
    bool if_column_exists;       /* ADD IF NOT EXISTS, DROP IF EXISTS, RENAME IF EXISTS */
    sql_column_def_t *columns;
    uint32_t ncolumns;
    sql_ident_t *names;
    sql_ident_t *to;
    uint32_t nnames;
    sql_expr_t *timestamp;       /* DROP ... USING TIMESTAMP */
    sql_option_t *options;
    uint32_t noptions;
} sql_alter_t;

typedef struct {
    sql_ident_t name;
    bool if_not_exists;          /* CREATE; if_exists for ALTER */
    sql_option_t *options;       /* replication = {...}, durable_writes = ... */
    uint32_t noptions;
} sql_keyspace_t;

typedef struct {
    sql_qname_t name;
    bool if_not_exists;
    sql_column_def_t *fields;    /* name and type only */
    uint32_t nfields;
} sql_create_type_t;

/* DROP KEYSPACE/TABLE/TYPE, TRUNCATE, USE: one name. */
typedef struct {
    sql_qname_t name;            /* DROP KEYSPACE and USE: name.name is the keyspace */
    bool if_exists;
} sql_named_t;

typedef enum {
    SQL_DESCRIBE_CLUSTER, SQL_DESCRIBE_SCHEMA, SQL_DESCRIBE_KEYSPACES, SQL_DESCRIBE_KEYSPACE,
    SQL_DESCRIBE_TABLES, SQL_DESCRIBE_TABLE, SQL_DESCRIBE_INDEX, SQL_DESCRIBE_VIEW,
    SQL_DESCRIBE_TYPES, SQL_DESCRIBE_TYPE, SQL_DESCRIBE_FUNCTIONS, SQL_DESCRIBE_FUNCTION,
    SQL_DESCRIBE_AGGREGATES, SQL_DESCRIBE_AGGREGATE,
    SQL_DESCRIBE_GENERIC,        /* DESCRIBE name / ks.name: keyspace, table, view, index... */
} sql_describe_kind_t;

/* DESCRIBE / DESC, as cqlsh 4.x sends it to the server. name may be absent (DESCRIBE KEYSPACE
 * alone describes the session's keyspace). */
typedef struct {
    sql_describe_kind_t kind;
    sql_qname_t name;
    bool full;                   /* DESCRIBE FULL SCHEMA */
    bool only;                   /* DESCRIBE ONLY KEYSPACE */
    bool with_internals;         /* ... WITH INTERNALS */
} sql_describe_t;

/* A watermark declaration (Pipelines II): WATERMARK FOR column AS expr. */
typedef struct {
    sql_ident_t column;
    sql_expr_t *expr;
} sql_watermark_t;

/* CREATE PIPELINE [IF NOT EXISTS] name [WITH (k = v, ...)] AS INSERT INTO ks.t SELECT ...:
 * a name (for the HTTP endpoints that list, start and stop pipelines) and options for the INSERT
 * it runs. A bare INSERT INTO ... SELECT in a file is an unnamed pipeline. */
typedef struct {
    sql_qname_t name;
    bool if_not_exists;
    sql_option_t *options;
    uint32_t noptions;
    sql_stmt_t *insert;          /* SQL_STMT_INSERT with a select */
} sql_create_pipeline_t;

/* CREATE STREAM name [(col type [KEY], ..., [WATERMARK FOR c AS e])] WITH (k = v, ...).
 * No column list: a schemaless stream (the value is JSON). */
typedef struct {
    sql_qname_t name;
    bool if_not_exists;
    sql_column_def_t *columns;
    uint32_t ncolumns;
    sql_watermark_t *watermark;  /* NULL if none */
    sql_option_t *options;
    uint32_t noptions;
} sql_create_stream_t;

typedef enum {
    SQL_STMT_SELECT, SQL_STMT_INSERT, SQL_STMT_UPDATE, SQL_STMT_DELETE, SQL_STMT_BATCH,
    SQL_STMT_USE, SQL_STMT_TRUNCATE,
    SQL_STMT_CREATE_KEYSPACE, SQL_STMT_ALTER_KEYSPACE, SQL_STMT_DROP_KEYSPACE,
    SQL_STMT_CREATE_TABLE, SQL_STMT_ALTER_TABLE, SQL_STMT_DROP_TABLE,
    SQL_STMT_CREATE_TYPE, SQL_STMT_ALTER_TYPE, SQL_STMT_DROP_TYPE,
    SQL_STMT_DESCRIBE,
    SQL_STMT_LIST_ROLES,         /* LIST ROLES / LIST USERS (users = true): parsed so that the
                                  * server can answer or refuse them clearly */
    SQL_STMT_CREATE_STREAM, SQL_STMT_CREATE_PIPELINE,
} sql_stmt_kind_t;

struct sql_stmt {
    sql_stmt_kind_t kind;
    uint8_t dialect;             /* sql_dialect_t it was parsed in (printing quotes accordingly) */
    sql_pos_t pos;
    uint32_t text_off;           /* the statement's span in the text (without the ';') */
    uint32_t text_len;
    sql_expr_t **binds;          /* BIND expressions, binds[i]->bind.index == i (a BATCH holds the
                                  * markers of its statements; those have none of their own) */
    uint32_t nbinds;
    union {
        sql_select_t select;
        sql_insert_t insert;
        sql_update_t update;
        sql_delete_t delete_;
        sql_batch_t batch;
        sql_named_t named;       /* USE, TRUNCATE, DROP ... */
        sql_keyspace_t keyspace; /* CREATE / ALTER KEYSPACE */
        sql_create_table_t create_table;
        sql_alter_t alter;       /* ALTER TABLE, ALTER TYPE */
        sql_create_type_t create_type;
        sql_describe_t describe;
        sql_create_stream_t create_stream;
        sql_create_pipeline_t create_pipeline;
        bool list_users;         /* LIST_ROLES: LIST USERS */
    };
};

/* A file of statements separated by ';'. */
typedef struct {
    sql_stmt_t **stmts;
    uint32_t nstmts;
} sql_script_t;

/* ---- parsing --------------------------------------------------------------------------------- */

/* What went wrong. The CQL front answers SYNTAX as Syntax error (0x2000) and the others as
 * Invalid (0x2200); LIMIT means the text is over a limit below. */
typedef enum {
    SQL_ERR_NONE,
    SQL_ERR_SYNTAX,      /* not valid text in the dialect */
    SQL_ERR_INVALID,     /* valid syntax that Cassandra refuses while parsing (two PRIMARY KEYs) */
    SQL_ERR_UNSUPPORTED, /* valid CQL that eddy does not implement (CREATE INDEX, GRANT, ...) */
    SQL_ERR_LIMIT,       /* too long, too deep, too many tokens */
    SQL_ERR_NOMEM,
} sql_error_kind_t;

/* A parse error: where, and a message that already names the place, e.g.
 *   line 1:10 expected FROM, found 'FORM' (SELECT * [FORM]...)
 * line and col are 1-based; col counts characters. */
typedef struct {
    sql_error_kind_t kind;
    uint32_t line;
    uint32_t col;
    uint32_t off;
    char msg[384];
} sql_error_t;

/* Limits against hostile input; zero fields take the defaults (in brackets). */
typedef struct {
    uint32_t max_length;   /* bytes of text [64 MiB] */
    uint32_t max_tokens;   /* tokens in one parse [1,000,000] */
    uint32_t max_depth;    /* nesting of expressions, types and parentheses [128] */
    uint32_t max_binds;    /* bind markers in one statement [65,535: the protocol's limit] */
} sql_limits_t;

/* A reusable parser: it keeps its token and scratch buffers between parses, so a server that
 * parses every QUERY allocates nothing per parse once warm (the AST goes into the arena). Not
 * thread-safe: one per thread. sql_parser_new returns NULL when out of memory; limits may be
 * NULL. */
typedef struct sql_parser sql_parser_t;
sql_parser_t *sql_parser_new(const sql_limits_t *limits);
void sql_parser_free(sql_parser_t *p);

/* Parses one CQL statement (trailing ';' allowed) into *out, allocated in arena. p may be NULL
 * (a temporary parser is used). Returns EDDY_OK, or EDDY_ERR_INVALID with *err filled (err may
 * be NULL), or EDDY_ERR_NOMEM. On error, what was allocated in arena stays there until the
 * arena is reset. */
int sql_parse_cql(sql_parser_t *p, arena_t *arena, const char *text, size_t len, sql_stmt_t **out,
                  sql_error_t *err);

/* Parses statements separated by ';' (empty statements skipped) in a dialect: a pipeline file,
 * or a CQL script (eddy cql -f). Same returns as sql_parse_cql; on error nothing is returned and
 * err points at the first error. */
int sql_parse_script(sql_parser_t *p, arena_t *arena, sql_dialect_t dialect, const char *text,
                     size_t len, sql_script_t **out, sql_error_t *err);

/* Shorthand: sql_parse_script(p, arena, SQL_DIALECT_PIPELINE, ...). */
int sql_parse_pipeline(sql_parser_t *p, arena_t *arena, const char *text, size_t len,
                       sql_script_t **out, sql_error_t *err);

/* For shells that read a line at a time (eddy cql): the length of the first complete statement
 * in text, up to and including its ';', or 0 when more text is needed (no ';' yet, or one inside a
 * string, a comment or BEGIN BATCH ... APPLY BATCH). Does not parse: the server reports errors.
 * Text after the returned length is the start of the next statement. */
size_t sql_statement_end(const char *text, size_t len);

/* The 1-based character column of pos in text (for messages about AST nodes). */
uint32_t sql_pos_column(const char *text, size_t len, sql_pos_t pos);

/* Formats "line L:C message (context [token]...)" for a position in text into out (NUL-terminated,
 * truncated to outlen). Consumers use it for their own errors about AST nodes, so that every
 * message about a statement reads the same way. Returns the length written. */
size_t sql_format_error(char *out, size_t outlen, const char *text, size_t len, sql_pos_t pos,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- printing -------------------------------------------------------------------------------- */

/* Canonical text of a statement (no trailing ';'), expression, type or name, appended to w. What
 * sql_print_stmt writes parses again (in the same dialect) to an equal AST. */
void sql_print_stmt(wr_t *w, const sql_stmt_t *stmt);
void sql_print_expr(wr_t *w, const sql_expr_t *e);
void sql_print_type(wr_t *w, const sql_type_t *t);
/* A name as CQL needs it: bare if it is lower case [a-z][a-z0-9_]* and not a reserved word,
 * else "quoted" with " doubled. */
void sql_print_ident(wr_t *w, const char *name, size_t len);
/* A string literal: 'text' with ' doubled. */
void sql_print_string(wr_t *w, const char *s, size_t len);

/* True when name (any case) is a reserved word of CQL, so it must be quoted as an identifier. */
bool sql_is_reserved(const char *name, size_t len);

#endif
