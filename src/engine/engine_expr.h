/* Inside the engine: compiled expressions and the scalar and aggregate function tables.
 *
 * The planner turns the SQL parser's expression trees into engine_expr_t trees whose column
 * references are resolved to slots of a row (an array of values), whose types are checked, and
 * whose functions are looked up once. Evaluation walks the tree with SQL's three-valued logic:
 * NULL in, NULL out, and WHERE keeps a row only when its condition is TRUE. A value that cannot
 * be computed (a failed cast, division by zero) is NULL, as in Spark's default mode, so that one
 * odd record never stops a pipeline. */
#ifndef EDDY_ENGINE_EXPR_H
#define EDDY_ENGINE_EXPR_H

#include "engine/engine_val.h"

typedef enum {
    EX_CONST,
    EX_SLOT,      /* a column of the current row */
    EX_CALL,      /* a scalar function */
    EX_AND,
    EX_OR,
    EX_NOT,
    EX_CMP,       /* sub: engine_cmp_t */
    EX_ARITH,     /* sub: engine_arith_t */
    EX_NEG,
    EX_CONCAT,    /* a || b */
    EX_CASE,      /* args: [operand,] when, then, ..., [else]; has_operand, has_else flags */
    EX_CAST,
    EX_INDEX,     /* args[0][args[1]]: list position (0-based), map key, JSON member or element */
    EX_IS_NULL,   /* sub 1: IS NOT NULL */
    EX_IN,        /* args[0] IN (args[1..]); sub 1: NOT IN */
    EX_BETWEEN,   /* sub 1: NOT BETWEEN */
    EX_LIKE,      /* sub 1: NOT LIKE */
    EX_COLL,      /* a collection literal: sub is ENGINE_LIST, ENGINE_SET or ENGINE_MAP (args key, value, ...) */
} engine_expr_op_t;

typedef enum { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE } engine_cmp_t;
typedef enum { AR_ADD, AR_SUB, AR_MUL, AR_DIV, AR_MOD } engine_arith_t;

/* What evaluation needs besides the row: the arena for values it creates and the time of the
 * batch (now() is the same for every row of a batch, so a replay of the batch agrees). */
typedef struct {
    engine_val_t *slots;
    arena_t *arena;
    int64_t now_ms;
} engine_row_t;

struct engine_func;

typedef struct engine_expr {
    uint8_t op;       /* engine_expr_op_t */
    uint8_t sub;
    uint8_t has_operand, has_else;
    engine_type_t type;  /* result type (ENGINE_ANY when only known at run time) */
    int slot;         /* EX_SLOT */
    engine_val_t k;      /* EX_CONST (memory owned by the plan's arena) */
    engine_type_t cast_to;
    const struct engine_func *fn;
    uint32_t nargs;
    struct engine_expr **args;
    int line, col;    /* where it was written, for error messages */
} engine_expr_t;

/* Scalar functions. check validates argument types at plan time and gives the result type
 * (ENGINE_ANY when it depends on values); it returns EDDY_OK or EDDY_ERR_INVALID with a message.
 * eval computes one value; it returns EDDY_OK (out may be NULL) or EDDY_ERR_NOMEM. */
typedef struct engine_func {
    const char *name;
    int min_args, max_args; /* max -1: any number */
    const char *sig;        /* argument kinds, one letter each (func.c explains the letters) */
    int (*check)(const engine_type_t *args, int n, engine_type_t *result, char *errstr, size_t errlen);
    int (*eval)(engine_row_t *row, const engine_val_t *args, int n, engine_val_t *out);
    bool null_in_null_out;  /* any NULL argument gives NULL without calling eval */
    bool volatile_;         /* depends on the time (now()): results are not replayable exactly */
} engine_func_t;

/* Looks a scalar function up by name, case-insensitively; NULL when there is none. */
const engine_func_t *engine_func_find(const char *name, size_t len);
/* Checks argument types against fn's signature, then gives the result type. Returns EDDY_OK or
 * EDDY_ERR_INVALID with a message naming the function and the argument. */
int engine_func_check(const engine_func_t *fn, const engine_type_t *args, int n, engine_type_t *result, char *errstr,
                   size_t errlen);

/* Evaluates e on row into out. Returns EDDY_OK or EDDY_ERR_NOMEM. */
int engine_expr_eval(const engine_expr_t *e, engine_row_t *row, engine_val_t *out);
/* Evaluates a condition: true only when e is TRUE (NULL and FALSE are false). */
int engine_expr_test(const engine_expr_t *e, engine_row_t *row, bool *out);
/* Calls fn on values, applying its NULL rule. */
int engine_func_call(const engine_func_t *fn, engine_row_t *row, const engine_val_t *args, int n, engine_val_t *out);

/* SQL comparison of two non-NULL values: numbers by value across int and float, timestamps
 * with dates, text by bytes. Returns false in *comparable when the kinds cannot be compared. */
int engine_val_sql_cmp(const engine_val_t *a, const engine_val_t *b, bool *comparable);
/* The truth of a value for WHERE/HAVING/CASE (TRUE only for boolean true). */
static inline bool engine_val_true(const engine_val_t *v) { return v->kind == ENGINE_BOOL && v->b; }

/* ---- aggregates ----------------------------------------------------------------------------- */

typedef enum { AGG_COUNT_STAR, AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG, AGG_COUNT_DISTINCT } engine_agg_kind_t;

/* One aggregate of a GROUP BY: its kind and argument. Its state supports retraction: count, sum
 * and avg keep sums and counts; min, max and count distinct keep a multiset of values (value ->
 * multiplicity) so that removing the current minimum finds the next one. */
typedef struct {
    uint8_t kind;          /* engine_agg_kind_t */
    engine_expr_t *arg;       /* NULL for count(*) */
    engine_type_t type;       /* result type */
} engine_agg_t;

/* Looks an aggregate up by name ("count", "sum", ...); returns -1 when name is not one. */
int engine_agg_lookup(const char *name, size_t len, bool distinct, bool star);
/* Result type of an aggregate over an argument type; EDDY_ERR_INVALID when not allowed. */
int engine_agg_check(int kind, engine_type_t arg, engine_type_t *result, char *errstr, size_t errlen);

/* The running state of one aggregate in one group. */
typedef struct {
    int64_t count;    /* rows counted (non-NULL arguments; all rows for count(*)) */
    int64_t isum;     /* integer sum */
    double fsum;      /* float sum */
    bool is_float;    /* the sum has seen a float */
    bool overflow;    /* the integer sum overflowed (its result becomes NULL) */
    uint32_t nvals;   /* multiset entries, sorted by value */
    uint32_t capvals;
    engine_val_t *vals;  /* owned by the group's arena */
    int64_t *mults;
} engine_agg_state_t;

/* Adds (weight +1) or removes (weight -1) one value. Values kept in the multiset are copied
 * into a. Returns EDDY_OK or EDDY_ERR_NOMEM. */
int engine_agg_update(const engine_agg_t *agg, engine_agg_state_t *st, arena_t *a, const engine_val_t *v, int weight);
/* The aggregate's current result (NULL when no rows). */
int engine_agg_result(const engine_agg_t *agg, const engine_agg_state_t *st, engine_val_t *out);
/* Encodes and decodes the state (decode validates: bytes from disk). */
void engine_agg_encode(wr_t *w, const engine_agg_t *agg, const engine_agg_state_t *st);
int engine_agg_decode(rd_t *r, const engine_agg_t *agg, engine_agg_state_t *st, arena_t *a);
/* Merges src into dst (batch jobs combine per-range partial states). */
int engine_agg_merge(const engine_agg_t *agg, engine_agg_state_t *dst, const engine_agg_state_t *src, arena_t *a);

#endif
