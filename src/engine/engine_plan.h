/* Inside the engine: the planner's state, shared by plan.c (statements, FROM, outputs) and
 * plan_expr.c (expressions). */
#ifndef EDDY_ENGINE_PLAN_H
#define EDDY_ENGINE_PLAN_H

#include "engine/engine_int.h"
#include "sql/sql.h"

/* A column visible to expressions: a source column (base slot, allocated on first use so that
 * the state of a changelog key holds only what the query reads) or an UNNEST column. */
typedef struct {
    const char *qual;       /* the FROM item's alias or name; NULL for none */
    const char *name;
    int tmp;                /* temporary slot id, -1 until first used */
    bool base;
    bool sys;               /* record metadata (rowkey, rowtime, ...) */
    engine_input_t input;      /* base columns: what fills the slot */
    engine_type_t type;
} plan_col_t;

typedef struct {
    engine_plan_t *plan;
    arena_t *a;
    const char *text;
    size_t len;
    char *errstr;
    size_t errlen;
    engine_sink_t sink;
    /* the query being planned */
    engine_query_t *q;
    plan_col_t *cols;
    uint32_t ncols, capcols;
    bool schemaless;        /* unknown names are members of the source's JSON value */
    const char *src_qual;   /* the source's alias (or name) */
    uint32_t ntmp;
    int *tmp_base;          /* per temporary slot: its plan_col_t index when it is a base column */
    uint32_t captmp;
    /* grouping */
    bool group_ctx;         /* compiling SELECT/HAVING of a grouped query */
    bool aggs_allowed;
    sql_expr_t **group_by;
    uint32_t ngroup;
    char **group_text;      /* canonical text of each GROUP BY expression */
    uint32_t capagg;
    bool volatile_seen;
} planner_t;

/* Formats an error at pos into the planner's errstr; returns EDDY_ERR_INVALID. */
int plan_fail(planner_t *p, sql_pos_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Compiles e in the current context into *out. Returns EDDY_OK, EDDY_ERR_INVALID (message in
 * errstr) or EDDY_ERR_NOMEM. */
int plan_expr(planner_t *p, const sql_expr_t *e, engine_expr_t **out);
/* Resolves a column reference; allocates its slot on first use. */
int plan_column(planner_t *p, const sql_ident_t *qual, const sql_ident_t *name, sql_pos_t pos, engine_expr_t **out);
/* The temporary slot of column col (allocated on first use); -1 when out of memory. */
int plan_col_tmp(planner_t *p, int col);
/* Whether e contains an aggregate call (outside nested aggregates). */
bool plan_has_agg(const sql_expr_t *e);
/* eng type of a sql type; EDDY_ERR_INVALID for types pipelines do not carry. */
int plan_type(planner_t *p, const sql_type_t *t, engine_type_t *out);
/* Whether a value of static type from may be written to a column of type to. */
bool plan_type_fits(engine_type_t from, engine_type_t to);
/* A new expression node in the plan arena. */
engine_expr_t *plan_node(planner_t *p, uint8_t op, uint32_t nargs);
/* Canonical text of e (arena copy) for matching GROUP BY expressions. */
char *plan_expr_text(planner_t *p, const sql_expr_t *e);

#endif
