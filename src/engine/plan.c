/* The planner: a pipeline file's statements become declarations (streams, tables to create)
 * and queries (engine_query_t). Everything is checked before anything runs: unknown streams,
 * tables and columns, type mismatches and unsupported constructs are errors that point at the
 * line and column where they are written. */
#include <stdio.h>

#include "engine/engine_plan.h"

void engine_plan_free(engine_plan_t *plan) {
    if (!plan) return;
    arena_free(&plan->arena);
    eddy_free(plan);
}

static char *adup(planner_t *p, const char *s) { return arena_strndup(p->a, s, strlen(s)); }

/* ---- declarations --------------------------------------------------------------------------- */

static engine_stream_t *find_stream(planner_t *p, const char *name) {
    for (uint32_t i = 0; i < p->plan->nstreams; i++)
        if (!strcmp(p->plan->streams[i]->name, name)) return p->plan->streams[i];
    return NULL;
}

static engine_table_t *find_file_table(planner_t *p, const char *ks, const char *name) {
    for (uint32_t i = 0; i < p->plan->ntables; i++)
        if (!strcmp(p->plan->tables[i]->keyspace, ks) && !strcmp(p->plan->tables[i]->name, name)) return p->plan->tables[i];
    return NULL;
}

static bool option_is(const sql_option_t *o, const char *name) { return !strcmp(o->name.name, name); }

static int option_text(planner_t *p, const sql_option_t *o, const char **out) {
    const sql_expr_t *v = o->value;
    if (v->kind != SQL_EXPR_LITERAL || (v->lit.kind != SQL_LIT_STRING && v->lit.kind != SQL_LIT_BOOLEAN))
        return plan_fail(p, o->name.pos, "option %s needs a string", o->name.name);
    *out = v->lit.kind == SQL_LIT_BOOLEAN ? (v->lit.v.b ? "true" : "false") : v->lit.text;
    return EDDY_OK;
}

static int create_stream(planner_t *p, const sql_stmt_t *st) {
    const sql_create_stream_t *cs = &st->create_stream;
    if (cs->name.ks.name) return plan_fail(p, cs->name.ks.pos, "a stream name has no keyspace");
    if (find_stream(p, cs->name.name.name)) {
        if (cs->if_not_exists) return EDDY_OK;
        return plan_fail(p, cs->name.name.pos, "stream %s is declared twice", cs->name.name.name);
    }
    if (cs->watermark) return plan_fail(p, cs->name.name.pos, "watermarks come with Pipelines II");
    engine_stream_t *s = arena_alloc(p->a, sizeof *s);
    if (!s) return EDDY_ERR_NOMEM;
    memset(s, 0, sizeof *s);
    s->name = adup(p, cs->name.name.name);
    s->format = ENGINE_FORMAT_JSON;
    s->start = ENGINE_START_EARLIEST;
    s->schemaless = cs->ncolumns == 0;
    for (uint32_t i = 0; i < cs->noptions; i++) {
        const sql_option_t *o = &cs->options[i];
        const char *v = NULL;
        int rc = option_text(p, o, &v);
        if (rc) return rc;
        if (option_is(o, "topic")) s->topic = adup(p, v);
        else if (option_is(o, "format") || option_is(o, "value_format")) {
            if (!strcmp(v, "json")) s->format = ENGINE_FORMAT_JSON;
            else if (!strcmp(v, "text") || !strcmp(v, "kafka")) s->format = ENGINE_FORMAT_TEXT;
            else return plan_fail(p, o->value->pos, "format '%s' is not supported (json, text; avro comes with Pipelines II)", v);
        } else if (option_is(o, "changelog")) {
            if (strcmp(v, "true") && strcmp(v, "false")) return plan_fail(p, o->value->pos, "changelog is true or false");
            s->changelog = !strcmp(v, "true");
        } else if (option_is(o, "start") || option_is(o, "startingoffsets") || option_is(o, "startingOffsets")) {
            if (!strcmp(v, "earliest")) s->start = ENGINE_START_EARLIEST;
            else if (!strcmp(v, "latest")) s->start = ENGINE_START_LATEST;
            else return plan_fail(p, o->value->pos, "start is 'earliest' or 'latest'");
        } else {
            return plan_fail(p, o->name.pos, "unknown stream option %s (topic, format, changelog, start)", o->name.name);
        }
    }
    if (!s->topic) return plan_fail(p, cs->name.name.pos, "stream %s needs WITH (topic = '...')", s->name);
    s->ncols = cs->ncolumns;
    s->cols = arena_alloc(p->a, (cs->ncolumns ? cs->ncolumns : 1) * sizeof *s->cols);
    if (!s->cols || !s->name || !s->topic) return EDDY_ERR_NOMEM;
    int nkeys = 0;
    for (uint32_t i = 0; i < cs->ncolumns; i++) {
        const sql_column_def_t *c = &cs->columns[i];
        s->cols[i].name = adup(p, c->name.name);
        s->cols[i].is_key = c->is_key;
        nkeys += c->is_key;
        if (nkeys > 1) return plan_fail(p, c->name.pos, "only one column can be the record KEY");
        int rc = plan_type(p, c->type, &s->cols[i].type);
        if (rc) return rc;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(s->cols[j].name, s->cols[i].name)) return plan_fail(p, c->name.pos, "column %s is declared twice", c->name.name);
    }
    engine_stream_t **ss = arena_alloc(p->a, (p->plan->nstreams + 1) * sizeof *ss);
    if (!ss) return EDDY_ERR_NOMEM;
    if (p->plan->nstreams) memcpy(ss, p->plan->streams, p->plan->nstreams * sizeof *ss);
    ss[p->plan->nstreams++] = s;
    p->plan->streams = ss;
    return EDDY_OK;
}

static int add_ddl(planner_t *p, const sql_stmt_t *st, engine_table_t *t) {
    engine_plan_t *pl = p->plan;
    const sql_stmt_t **d = arena_alloc(p->a, (pl->nddl + 1) * sizeof *d);
    engine_table_t **dt = arena_alloc(p->a, (pl->nddl + 1) * sizeof *dt);
    if (!d || !dt) return EDDY_ERR_NOMEM;
    if (pl->nddl) {
        memcpy(d, pl->ddl, pl->nddl * sizeof *d);
        memcpy(dt, pl->ddl_tables, pl->nddl * sizeof *dt);
    }
    d[pl->nddl] = st;
    dt[pl->nddl] = t;
    pl->ddl = d;
    pl->ddl_tables = dt;
    pl->nddl++;
    return EDDY_OK;
}

/* CREATE TABLE: the table as the catalog will describe it (columns in Cassandra's order:
 * partition key, clustering, then the others by name), so that a query against it is checked
 * the same way whether the table exists yet or not. */
static int create_table(planner_t *p, const sql_stmt_t *st) {
    const sql_create_table_t *ct = &st->create_table;
    if (!ct->name.ks.name)
        return plan_fail(p, ct->name.name.pos, "name the keyspace of table %s (keyspace.table)", ct->name.name.name);
    if (find_file_table(p, ct->name.ks.name, ct->name.name.name))
        return plan_fail(p, ct->name.name.pos, "table %s.%s is created twice", ct->name.ks.name, ct->name.name.name);
    engine_table_t *t = arena_alloc(p->a, sizeof *t);
    if (!t) return EDDY_ERR_NOMEM;
    memset(t, 0, sizeof *t);
    t->keyspace = adup(p, ct->name.ks.name);
    t->name = adup(p, ct->name.name.name);
    t->ncols = ct->ncolumns;
    t->cols = arena_alloc(p->a, ct->ncolumns * sizeof *t->cols);
    t->npk = ct->npartition_key + ct->nclustering;
    t->npartition = ct->npartition_key;
    t->pk = arena_alloc(p->a, (t->npk ? t->npk : 1) * sizeof *t->pk);
    if (!t->cols || !t->pk) return EDDY_ERR_NOMEM;
    /* Order: key columns in key order, then the rest sorted by name. */
    uint32_t k = 0;
    bool *used = arena_alloc(p->a, ct->ncolumns * sizeof *used);
    if (!used) return EDDY_ERR_NOMEM;
    memset(used, 0, ct->ncolumns * sizeof *used);
    for (uint32_t i = 0; i < t->npk; i++) {
        const sql_ident_t *id = i < ct->npartition_key ? &ct->partition_key[i] : &ct->clustering[i - ct->npartition_key];
        for (uint32_t j = 0; j < ct->ncolumns; j++)
            if (!used[j] && !strcmp(ct->columns[j].name.name, id->name)) {
                used[j] = true;
                t->cols[k].name = adup(p, id->name);
                int rc = plan_type(p, ct->columns[j].type, &t->cols[k].type);
                if (rc) return rc;
                t->pk[i] = k++;
                break;
            }
    }
    if (k != t->npk) return plan_fail(p, ct->name.name.pos, "a PRIMARY KEY column of %s is not declared", t->name);
    while (k < ct->ncolumns) {
        int best = -1;
        for (uint32_t j = 0; j < ct->ncolumns; j++)
            if (!used[j] && (best < 0 || strcmp(ct->columns[j].name.name, ct->columns[best].name.name) < 0)) best = (int)j;
        used[best] = true;
        t->cols[k].name = adup(p, ct->columns[best].name.name);
        int rc = plan_type(p, ct->columns[best].type, &t->cols[k].type);
        if (rc) return rc;
        k++;
    }
    engine_table_t **ts = arena_alloc(p->a, (p->plan->ntables + 1) * sizeof *ts);
    if (!ts) return EDDY_ERR_NOMEM;
    if (p->plan->ntables) memcpy(ts, p->plan->tables, p->plan->ntables * sizeof *ts);
    ts[p->plan->ntables++] = t;
    p->plan->tables = ts;
    return add_ddl(p, st, t);
}

static int lookup_table(planner_t *p, const sql_qname_t *qn, engine_table_t **out) {
    if (!qn->ks.name) return plan_fail(p, qn->name.pos, "name the keyspace of table %s (keyspace.table)", qn->name.name);
    engine_table_t *t = find_file_table(p, qn->ks.name, qn->name.name);
    if (t) {
        *out = t;
        return EDDY_OK;
    }
    char err[200];
    int rc = p->sink.ops->table_get(p->sink.ctx, qn->ks.name, qn->name.name, p->a, out, err, sizeof err);
    if (rc == EDDY_ERR_NOT_FOUND)
        return plan_fail(p, qn->name.pos, "unknown table %s.%s (create it in the file with CREATE TABLE IF NOT EXISTS)",
                         qn->ks.name, qn->name.name);
    if (rc) return plan_fail(p, qn->name.pos, "%s", err);
    return EDDY_OK;
}

/* ---- queries -------------------------------------------------------------------------------- */

static int add_col(planner_t *p, const char *qual, const char *name, bool base, engine_input_t in, engine_type_t type,
                   int *index) {
    if (p->ncols == p->capcols) {
        uint32_t cap = p->capcols * 2 + 16;
        plan_col_t *c = arena_alloc(p->a, cap * sizeof *c);
        if (!c) return EDDY_ERR_NOMEM;
        if (p->ncols) memcpy(c, p->cols, p->ncols * sizeof *c);
        p->cols = c;
        p->capcols = cap;
    }
    p->cols[p->ncols] = (plan_col_t){qual, name, -1, base, false, in, type};
    if (index) *index = (int)p->ncols;
    p->ncols++;
    return EDDY_OK;
}

static int source_columns(planner_t *p, const sql_from_t *f) {
    engine_query_t *q = p->q;
    const char *qual = f->alias.name ? f->alias.name : f->name.name.name;
    p->src_qual = qual;
    int rc;
    if (q->stream) {
        engine_stream_t *s = q->stream;
        p->schemaless = s->schemaless;
        for (uint32_t i = 0; i < s->ncols; i++) {
            engine_input_t in = {s->cols[i].is_key ? IN_KEY : IN_FIELD, s->cols[i].type, s->cols[i].name, 0};
            if ((rc = add_col(p, qual, s->cols[i].name, true, in, s->cols[i].type, NULL))) return rc;
        }
        static const struct {
            const char *name;
            uint8_t kind, type;
        } sys[] = {{"rowkey", IN_KEY, ENGINE_TEXT},          {"rowvalue", IN_VALUE, ENGINE_ANY},
                   {"rowtopic", IN_TOPIC, ENGINE_TEXT},      {"rowpartition", IN_PARTITION, ENGINE_INT},
                   {"rowoffset", IN_OFFSET, ENGINE_INT},     {"rowtime", IN_TIMESTAMP, ENGINE_TIMESTAMP},
                   {"rowheaders", IN_HEADERS, ENGINE_MAP}};
        for (size_t i = 0; i < EDDY_ARRAY_LEN(sys); i++) {
            engine_type_t t = engine_type(sys[i].type);
            if (sys[i].kind == IN_HEADERS) t = (engine_type_t){ENGINE_MAP, ENGINE_TEXT, ENGINE_TEXT, 0};
            if (sys[i].kind == IN_VALUE && s->format == ENGINE_FORMAT_TEXT) t = engine_type(ENGINE_TEXT);
            engine_input_t in = {sys[i].kind, t, NULL, 0};
            bool shadowed = false; /* a declared column of the same name wins */
            for (uint32_t c = 0; c < s->ncols; c++) shadowed |= !strcmp(s->cols[c].name, sys[i].name);
            int idx;
            if (shadowed) continue;
            if ((rc = add_col(p, qual, sys[i].name, true, in, t, &idx))) return rc;
            p->cols[idx].sys = true;
        }
        return EDDY_OK;
    }
    engine_table_t *t = q->scan;
    for (uint32_t i = 0; i < t->ncols; i++) {
        engine_input_t in = {IN_TABLE_COL, t->cols[i].type, t->cols[i].name, i};
        if ((rc = add_col(p, qual, t->cols[i].name, true, in, t->cols[i].type, NULL))) return rc;
    }
    return EDDY_OK;
}

/* UNNEST(x) [AS] t(col) / LATERAL VIEW explode(x) t AS col: one more slot (two for maps). */
static int add_unnest(planner_t *p, const sql_from_t *f) {
    engine_query_t *q = p->q;
    bool outer = false;
    if (f->kind == SQL_FROM_LATERAL_VIEW) {
        const char *fn = f->name.name.name;
        if (!strcmp(fn, "explode_outer")) outer = true;
        else if (strcmp(fn, "explode"))
            return plan_fail(p, f->pos, "LATERAL VIEW %s is not supported (explode, explode_outer)", fn);
        outer |= f->outer;
    } else if (f->ordinality) {
        return plan_fail(p, f->pos, "WITH ORDINALITY is not supported yet");
    }
    if (f->join != SQL_JOIN_CROSS) return plan_fail(p, f->pos, "joins come with Pipelines II");
    if (f->nargs != 1) return plan_fail(p, f->pos, "UNNEST takes one collection here");
    engine_expr_t *e;
    int rc = plan_expr(p, f->args[0], &e);
    if (rc) return rc;
    engine_type_t t = e->type;
    bool is_map = t.kind == ENGINE_MAP;
    if (t.kind != ENGINE_LIST && t.kind != ENGINE_SET && !is_map && t.kind != ENGINE_ANY && t.kind != ENGINE_JSON) {
        char tn[48];
        return plan_fail(p, f->args[0]->pos, "UNNEST needs a list, set or map, not %s", engine_type_str(t, tn, sizeof tn));
    }
    if (p->volatile_seen && q->retracting) return plan_fail(p, f->pos, "now() cannot feed UNNEST in a changelog query");
    const char *qual = f->alias.name;
    const char *c1 = f->ncolumns > 0 ? f->columns[0].name : (f->kind == SQL_FROM_UNNEST && qual ? qual : is_map ? "key" : "col");
    const char *c2 = f->ncolumns > 1 ? f->columns[1].name : "value";
    if (f->ncolumns > 2 || (f->ncolumns == 2 && !is_map && t.kind != ENGINE_ANY && t.kind != ENGINE_JSON))
        return plan_fail(p, f->pos, "too many column names for UNNEST");
    int i1, i2 = -1;
    engine_type_t et = engine_type(is_map ? t.key : (t.kind == ENGINE_LIST || t.kind == ENGINE_SET) ? t.elem : ENGINE_ANY);
    if (t.kind == ENGINE_JSON) et = engine_type(ENGINE_TEXT);
    if ((rc = add_col(p, qual, c1, false, (engine_input_t){0}, et, &i1))) return rc;
    bool two = is_map || t.kind == ENGINE_JSON || f->ncolumns == 2;
    if (two && (rc = add_col(p, qual, c2, false, (engine_input_t){0}, engine_type(is_map ? t.elem : ENGINE_ANY), &i2))) return rc;
    engine_unnest_t *u = arena_alloc(p->a, (q->nunnest + 1) * sizeof *u);
    if (!u) return EDDY_ERR_NOMEM;
    if (q->nunnest) memcpy(u, q->unnest, q->nunnest * sizeof *u);
    /* Unnest slots are allocated now (temporary ids, renumbered after the base slots). */
    int s1 = plan_col_tmp(p, i1), s2 = two ? plan_col_tmp(p, i2) : -1;
    if (s1 < 0 || (two && s2 < 0)) return EDDY_ERR_NOMEM;
    u[q->nunnest] = (engine_unnest_t){e, (uint32_t)s1, s2, outer};
    q->unnest = u;
    q->nunnest++;
    return EDDY_OK;
}


/* ---- finishing a query ------------------------------------------------------------------------ */

static void remap(engine_expr_t *e, const int *map) {
    if (!e) return;
    if (e->op == EX_SLOT && e->sub == 1) {
        e->slot = map[e->slot];
        e->sub = 0;
    }
    for (uint32_t i = 0; i < e->nargs; i++) remap(e->args[i], map);
}

/* Base slots first (only the columns used, in first-use order), then UNNEST slots. */
static int renumber(planner_t *p) {
    engine_query_t *q = p->q;
    int *map = arena_alloc(p->a, (p->ntmp ? p->ntmp : 1) * sizeof *map);
    if (!map) return EDDY_ERR_NOMEM;
    uint32_t nbase = 0;
    for (uint32_t t = 0; t < p->ntmp; t++)
        if (p->tmp_base[t] >= 0) nbase++;
    q->inputs = arena_alloc(p->a, (nbase ? nbase : 1) * sizeof *q->inputs);
    if (!q->inputs) return EDDY_ERR_NOMEM;
    uint32_t b = 0, o = nbase;
    for (uint32_t t = 0; t < p->ntmp; t++) {
        if (p->tmp_base[t] >= 0) {
            q->inputs[b] = p->cols[p->tmp_base[t]].input;
            map[t] = (int)b++;
        } else {
            map[t] = (int)o++;
        }
    }
    q->nbase = nbase;
    q->nslots = p->ntmp;
    remap(q->where, map);
    for (uint32_t i = 0; i < q->nunnest; i++) {
        remap(q->unnest[i].expr, map);
        q->unnest[i].slot = (uint32_t)map[q->unnest[i].slot];
        if (q->unnest[i].value_slot >= 0) q->unnest[i].value_slot = map[q->unnest[i].value_slot];
    }
    for (uint32_t i = 0; i < q->ngroup; i++) remap(q->group[i], map);
    for (uint32_t i = 0; i < q->nagg; i++) remap(q->aggs[i].arg, map);
    if (!q->grouped)
        for (uint32_t i = 0; i < q->nout; i++) remap(q->out[i], map);
    return EDDY_OK;
}

static bool is_pk(const engine_table_t *t, uint32_t col) {
    for (uint32_t i = 0; i < t->npk; i++)
        if (t->pk[i] == col) return true;
    return false;
}

/* Whether two source keys (or two groups) can produce the same sink key: then sink rows are
 * reference-counted. They cannot when the sink key contains every group key, or the record
 * key of a changelog. */
static bool needs_refcount(const engine_query_t *q) {
    if (q->scan) return false;
    if (!q->retracting && !q->grouped) return false;
    if (q->grouped) {
        for (uint32_t g = 0; g < q->ngroup; g++) {
            bool out = false;
            for (uint32_t i = 0; i < q->nout && !out; i++)
                out = q->out[i]->op == EX_SLOT && q->out[i]->slot == (int)g && is_pk(q->sink, q->sink_cols[i]);
            if (!out) return true;
        }
        return false;
    }
    for (uint32_t i = 0; i < q->nout; i++)
        if (q->out[i]->op == EX_SLOT && q->out[i]->slot < (int)q->nbase && q->inputs[q->out[i]->slot].kind == IN_KEY &&
            is_pk(q->sink, q->sink_cols[i]))
            return false;
    return true;
}

typedef struct {
    engine_expr_t *e;
    const char *name;
    sql_pos_t pos;
} out_item_t;

static int select_items(planner_t *p, const sql_select_t *sel, out_item_t **items, uint32_t *n) {
    engine_query_t *q = p->q;
    int rc;
    if (sel->star) {
        if (q->grouped) return plan_fail(p, sel->from[0].pos, "SELECT * cannot be grouped");
        out_item_t *it = arena_alloc(p->a, (p->ncols ? p->ncols : 1) * sizeof *it);
        if (!it) return EDDY_ERR_NOMEM;
        uint32_t k = 0;
        for (uint32_t i = 0; i < p->ncols; i++) {
            if (p->cols[i].sys) continue; /* record metadata is asked for by name */
            int t = plan_col_tmp(p, (int)i);
            engine_expr_t *e = plan_node(p, EX_SLOT, 0);
            if (t < 0 || !e) return EDDY_ERR_NOMEM;
            e->slot = t;
            e->sub = 1;
            e->type = p->cols[i].type;
            it[k++] = (out_item_t){e, p->cols[i].name, sel->from[0].pos};
        }
        *items = it;
        *n = k;
        return EDDY_OK;
    }
    out_item_t *it = arena_alloc(p->a, (sel->nitems ? sel->nitems : 1) * sizeof *it);
    if (!it) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < sel->nitems; i++) {
        const sql_select_item_t *s = &sel->items[i];
        p->volatile_seen = false;
        if ((rc = plan_expr(p, s->expr, &it[i].e))) return rc;
        it[i].pos = s->expr->pos;
        it[i].name = s->alias.name ? s->alias.name
                     : s->expr->kind == SQL_EXPR_COLUMN ? s->expr->column.name.name
                     : s->expr->kind == SQL_EXPR_FIELD  ? s->expr->field.field.name
                                                        : NULL;
        if (p->volatile_seen && q->retracting) it[i].pos.off |= 0x80000000u; /* marked: checked against the key below */
    }
    *items = it;
    *n = sel->nitems;
    return EDDY_OK;
}

/* A batch query's token restriction: token(pk columns) compared with an integer, as Spark's
 * Cassandra connector writes its splits. Returns 1 when e is one (and narrows the range), 0 when
 * it is not, or an error. */
static int token_bound(planner_t *p, const sql_expr_t *e) {
    engine_query_t *q = p->q;
    if (e->kind != SQL_EXPR_BINARY) return 0;
    const sql_expr_t *call = e->bin.left, *lit = e->bin.right;
    if (call->kind != SQL_EXPR_CALL || call->call.name.ks.name || strcmp(call->call.name.name.name, "token")) return 0;
    if (lit->kind != SQL_EXPR_LITERAL || lit->lit.kind != SQL_LIT_INTEGER || !lit->lit.fits_i64)
        return plan_fail(p, e->pos, "token(...) is compared with an integer");
    const engine_table_t *t = q->scan;
    bool ok = call->call.nargs == t->npartition;
    for (uint32_t i = 0; ok && i < call->call.nargs; i++)
        ok = call->call.args[i]->kind == SQL_EXPR_COLUMN && !strcmp(call->call.args[i]->column.name.name, t->cols[t->pk[i]].name);
    if (!ok) return plan_fail(p, call->pos, "token() takes the partition key of %s.%s, in order", t->keyspace, t->name);
    int64_t v = lit->lit.v.i;
    switch (e->op) {
    case SQL_OP_GT: q->scan_lo = EDDY_MAX(q->scan_lo, v); break;
    case SQL_OP_GE: q->scan_lo = EDDY_MAX(q->scan_lo, v == INT64_MIN ? v : v - 1); break;
    case SQL_OP_LE: q->scan_hi = EDDY_MIN(q->scan_hi, v); break;
    case SQL_OP_LT: q->scan_hi = EDDY_MIN(q->scan_hi, v == INT64_MIN ? v : v - 1); break;
    case SQL_OP_EQ:
        q->scan_lo = EDDY_MAX(q->scan_lo, v == INT64_MIN ? v : v - 1);
        q->scan_hi = EDDY_MIN(q->scan_hi, v);
        break;
    default: return plan_fail(p, e->pos, "token(...) takes =, <, <=, > or >=");
    }
    return 1;
}

/* Takes the token restrictions out of a batch query's WHERE (its top-level AND terms): *rest
 * is what remains to evaluate per row (NULL when nothing). */
static int token_range(planner_t *p, const sql_expr_t *e, const sql_expr_t **rest) {
    if (e->kind == SQL_EXPR_BINARY && e->op == SQL_OP_AND) {
        const sql_expr_t *l, *r;
        int rc;
        if ((rc = token_range(p, e->bin.left, &l)) || (rc = token_range(p, e->bin.right, &r))) return rc;
        if (l && r && (l != e->bin.left || r != e->bin.right)) {
            sql_expr_t *and = arena_alloc(p->a, sizeof *and);
            if (!and) return EDDY_ERR_NOMEM;
            *and = *e;
            and->bin.left = (sql_expr_t *)l;
            and->bin.right = (sql_expr_t *)r;
            *rest = and;
        } else {
            *rest = l && r ? e : l ? l : r;
        }
        return EDDY_OK;
    }
    int t = token_bound(p, e);
    if (t < 0) return t;
    *rest = t ? NULL : e;
    return EDDY_OK;
}

static int insert_query(planner_t *p, const sql_stmt_t *st, uint32_t index, const char *qname) {
    const sql_insert_t *ins = &st->insert;
    int rc;
    if (!ins->select) return plan_fail(p, st->pos, "a pipeline writes with INSERT INTO keyspace.table SELECT ...");
    if (ins->overwrite) return plan_fail(p, st->pos, "INSERT OVERWRITE is not supported yet");
    const sql_select_t *sel = ins->select;
    engine_query_t *q = arena_alloc(p->a, sizeof *q);
    if (!q) return EDDY_ERR_NOMEM;
    memset(q, 0, sizeof *q);
    char id[300];
    if (qname) snprintf(id, sizeof id, "%s/%s", p->plan->name, qname);
    else snprintf(id, sizeof id, "%s/%u", p->plan->name, index);
    q->id = adup(p, id);
    q->line = (int)st->pos.line;
    q->col = (int)sql_pos_column(p->text, p->len, st->pos);
    p->q = q;
    p->ncols = p->ntmp = p->capagg = 0;
    p->cols = NULL;
    p->capcols = 0;
    p->schemaless = false;
    p->group_ctx = false;
    p->aggs_allowed = false;
    p->ngroup = 0;
    if ((rc = lookup_table(p, &ins->table, &q->sink))) return rc;
    if (sel->nfrom == 0) return plan_fail(p, st->pos, "the SELECT needs a FROM");
    const sql_from_t *f0 = &sel->from[0];
    if (f0->kind != SQL_FROM_NAMED) return plan_fail(p, f0->pos, "FROM starts with a stream or a table");
    if (!f0->name.ks.name && (q->stream = find_stream(p, f0->name.name.name))) {
        q->retracting = q->stream->changelog;
    } else if (f0->name.ks.name) {
        if ((rc = lookup_table(p, &f0->name, &q->scan))) return rc;
    } else {
        return plan_fail(p, f0->name.name.pos,
                         "unknown stream %s (declare it with CREATE STREAM, or name a table as keyspace.table)",
                         f0->name.name.name);
    }
    if ((rc = source_columns(p, f0))) return rc;
    for (uint32_t i = 1; i < sel->nfrom; i++) {
        if (sel->from[i].kind == SQL_FROM_NAMED) return plan_fail(p, sel->from[i].pos, "joins come with Pipelines II");
        if ((rc = add_unnest(p, &sel->from[i]))) return rc;
    }
    const sql_expr_t *filter = sel->filter;
    q->scan_lo = INT64_MIN;
    q->scan_hi = INT64_MAX;
    if (filter && q->scan && (rc = token_range(p, filter, &filter))) return rc;
    if (filter) {
        p->volatile_seen = false;
        if ((rc = plan_expr(p, filter, &q->where))) return rc;
        if (q->where->type.kind != ENGINE_BOOL && q->where->type.kind != ENGINE_ANY)
            return plan_fail(p, filter->pos, "WHERE needs a boolean condition");
        if (p->volatile_seen && q->retracting)
            return plan_fail(p, filter->pos, "now() cannot be used in the WHERE of a changelog query (a retraction would not match)");
    }
    if (sel->norder_by || sel->limit || sel->distinct)
        return plan_fail(p, st->pos, "ORDER BY, LIMIT and DISTINCT are not supported in pipelines");
    bool grouped = sel->ngroup_by > 0 || sel->having;
    for (uint32_t i = 0; i < sel->nitems && !grouped; i++) grouped = plan_has_agg(sel->items[i].expr);
    if (grouped) {
        q->grouped = true;
        q->ngroup = sel->ngroup_by;
        if (q->ngroup > 64) return plan_fail(p, st->pos, "at most 64 GROUP BY expressions");
        q->group = arena_alloc(p->a, (q->ngroup ? q->ngroup : 1) * sizeof *q->group);
        p->group_text = arena_alloc(p->a, (q->ngroup ? q->ngroup : 1) * sizeof *p->group_text);
        if (!q->group || !p->group_text) return EDDY_ERR_NOMEM;
        for (uint32_t i = 0; i < q->ngroup; i++) {
            const sql_expr_t *g = sel->group_by[i];
            /* GROUP BY 2: the second select item. */
            if (g->kind == SQL_EXPR_LITERAL && g->lit.kind == SQL_LIT_INTEGER) {
                if (g->lit.v.i < 1 || (uint64_t)g->lit.v.i > sel->nitems)
                    return plan_fail(p, g->pos, "GROUP BY position %s is not in the select list", g->lit.text);
                g = sel->items[g->lit.v.i - 1].expr;
            }
            p->volatile_seen = false;
            if ((rc = plan_expr(p, g, &q->group[i]))) return rc;
            if (p->volatile_seen && q->retracting) return plan_fail(p, g->pos, "now() cannot be a group key of a changelog query");
            if (!(p->group_text[i] = plan_expr_text(p, g))) return EDDY_ERR_NOMEM;
        }
        p->ngroup = q->ngroup;
        p->group_ctx = true;
        p->aggs_allowed = true;
    }
    out_item_t *items = NULL;
    uint32_t nitems = 0;
    if ((rc = select_items(p, sel, &items, &nitems))) return rc;
    if (sel->having) {
        if ((rc = plan_expr(p, sel->having, &q->having))) return rc;
        if (q->having->type.kind != ENGINE_BOOL && q->having->type.kind != ENGINE_ANY)
            return plan_fail(p, sel->having->pos, "HAVING needs a boolean condition");
    }
    p->group_ctx = false;
    p->aggs_allowed = false;
    /* Outputs to sink columns: by the INSERT's column list, else by name. */
    if (ins->ncolumns && ins->ncolumns != nitems)
        return plan_fail(p, st->pos, "INSERT names %u columns but the SELECT gives %u", ins->ncolumns, nitems);
    q->nout = nitems;
    q->out = arena_alloc(p->a, (nitems ? nitems : 1) * sizeof *q->out);
    q->sink_cols = arena_alloc(p->a, (nitems ? nitems : 1) * sizeof *q->sink_cols);
    if (!q->out || !q->sink_cols) return EDDY_ERR_NOMEM;
    const engine_table_t *t = q->sink;
    for (uint32_t i = 0; i < nitems; i++) {
        sql_pos_t pos = items[i].pos;
        bool vol = pos.off & 0x80000000u;
        pos.off &= 0x7fffffffu;
        const char *name = ins->ncolumns ? ins->columns[i].name : items[i].name;
        if (ins->ncolumns) pos = ins->columns[i].pos;
        if (!name) return plan_fail(p, pos, "name this expression after a column of %s.%s (expr AS column)", t->keyspace, t->name);
        int col = -1;
        for (uint32_t c = 0; c < t->ncols; c++)
            if (!strcmp(t->cols[c].name, name)) col = (int)c;
        if (col < 0) return plan_fail(p, pos, "table %s.%s has no column %s", t->keyspace, t->name, name);
        for (uint32_t j = 0; j < i; j++)
            if (q->sink_cols[j] == (uint32_t)col) return plan_fail(p, pos, "column %s is written twice", name);
        if (!plan_type_fits(items[i].e->type, t->cols[col].type)) {
            char a[48], b[48];
            return plan_fail(p, pos, "type mismatch: column %s of %s.%s is %s, the expression is %s", name, t->keyspace,
                             t->name, engine_type_str(t->cols[col].type, a, sizeof a), engine_type_str(items[i].e->type, b, sizeof b));
        }
        if (vol && is_pk(t, (uint32_t)col))
            return plan_fail(p, pos, "now() cannot feed a primary key column in a changelog query");
        q->out[i] = items[i].e;
        q->sink_cols[i] = (uint32_t)col;
    }
    for (uint32_t k = 0; k < t->npk; k++) {
        bool produced = false;
        for (uint32_t i = 0; i < nitems; i++) produced |= q->sink_cols[i] == t->pk[k];
        if (!produced)
            return plan_fail(p, ins->table.name.pos, "primary key column %s of %s.%s is not produced by the SELECT",
                             t->cols[t->pk[k]].name, t->keyspace, t->name);
    }
    if ((rc = renumber(p))) return rc;
    q->need_refcount = needs_refcount(q);
    if (q->retracting && !q->grouped && q->nunnest == 0 && t->npk == 1)
        for (uint32_t i = 0; i < q->nout; i++)
            if (q->sink_cols[i] == t->pk[0] && q->out[i]->op == EX_SLOT && q->out[i]->slot < (int)q->nbase &&
                q->inputs[q->out[i]->slot].kind == IN_KEY)
                q->keyed = true;
    /* The fingerprint names what the state depends on: the statement and its source. */
    wr_t w;
    wr_init(&w, 256);
    sql_print_stmt(&w, st);
    if (q->stream) wr_fmt(&w, "|%s|%s|%d|%d", q->stream->name, q->stream->topic, q->stream->changelog, q->stream->format);
    for (uint32_t i = 0; i < q->nbase; i++) wr_fmt(&w, "|%d:%s", q->inputs[i].kind, q->inputs[i].field ? q->inputs[i].field : "");
    /* The layout of the state is part of it (2: counts moved from (sink key, producer) pairs into
     * the sink rows; 3: JSON-string keys are decoded), so queries from before start over. */
    wr_str(&w, "|state 3");
    q->fingerprint = wr_ok(&w) ? hash64(w.buf, w.len) : 0;
    wr_reset(&w);
    wr_fmt(&w, "%s|%016llx", q->id, (unsigned long long)q->fingerprint);
    q->ref_slot = (uint32_t)(wr_ok(&w) ? hash64(w.buf, w.len) : q->fingerprint) & ENGINE_REF_SLOT_MASK;
    wr_free(&w);
    engine_query_t **qs = arena_alloc(p->a, (p->plan->nqueries + 1) * sizeof *qs);
    if (!qs) return EDDY_ERR_NOMEM;
    if (p->plan->nqueries) memcpy(qs, p->plan->queries, p->plan->nqueries * sizeof *qs);
    qs[p->plan->nqueries++] = q;
    p->plan->queries = qs;
    return EDDY_OK;
}

/* ---- the file ---------------------------------------------------------------------------------- */

int engine_plan_build(const char *name, const char *text, size_t len, engine_sink_t sink, engine_plan_t **out, char *errstr,
                   size_t errlen) {
    *out = NULL;
    engine_plan_t *plan = eddy_calloc(1, sizeof *plan);
    if (!plan) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    arena_init(&plan->arena, 16384);
    planner_t p = {.plan = plan, .a = &plan->arena, .len = len, .errstr = errstr, .errlen = errlen, .sink = sink};
    int rc = EDDY_ERR_NOMEM;
    plan->name = arena_strndup(&plan->arena, name, strlen(name));
    plan->text = arena_strndup(&plan->arena, text, len);
    plan->text_len = len;
    if (!plan->name || !plan->text) goto fail;
    p.text = plan->text;
    sql_script_t *script;
    sql_error_t err;
    rc = sql_parse_pipeline(NULL, &plan->arena, plan->text, len, &script, &err);
    if (rc == EDDY_ERR_NOMEM) goto fail;
    if (rc) {
        eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s", err.msg);
        goto fail;
    }
    uint32_t ninsert = 0;
    for (uint32_t i = 0; i < script->nstmts && !rc; i++) {
        const sql_stmt_t *st = script->stmts[i];
        switch (st->kind) {
        case SQL_STMT_CREATE_STREAM: rc = create_stream(&p, st); break;
        case SQL_STMT_CREATE_KEYSPACE: rc = add_ddl(&p, st, NULL); break;
        case SQL_STMT_CREATE_TABLE: rc = create_table(&p, st); break;
        case SQL_STMT_INSERT: rc = insert_query(&p, st, ++ninsert, NULL); break;
        case SQL_STMT_CREATE_PIPELINE:
            /* CREATE PIPELINE name AS INSERT ...: the query takes the name. */
            for (uint32_t k = 0; k < plan->nqueries && !rc; k++)
                if (!strcmp(strchr(plan->queries[k]->id, '/') + 1, st->create_pipeline.name.name.name))
                    rc = plan_fail(&p, st->create_pipeline.name.name.pos, "two pipelines are named %s",
                                   st->create_pipeline.name.name.name);
            if (!rc && st->create_pipeline.noptions)
                rc = plan_fail(&p, st->create_pipeline.options[0].name.pos, "pipeline options are not supported yet");
            if (!rc) rc = insert_query(&p, st->create_pipeline.insert, ++ninsert, st->create_pipeline.name.name.name);
            break;
        default: rc = plan_fail(&p, st->pos, "this statement is not allowed in a pipeline file (CREATE STREAM, "
                                "CREATE KEYSPACE, CREATE TABLE, INSERT INTO ... SELECT)");
        }
    }
    if (!rc && plan->nqueries == 0)
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "line 1:1 the file has no INSERT INTO ... SELECT");
    if (rc) goto fail;
    plan->is_batch = true;
    for (uint32_t i = 0; i < plan->nqueries; i++) plan->is_batch &= plan->queries[i]->scan != NULL;
    *out = plan;
    return EDDY_OK;
fail:
    if (rc == EDDY_ERR_NOMEM) eddy_err(errstr, errlen, rc, "out of memory");
    engine_plan_free(plan);
    return rc;
}

int engine_plan_run_ddl(const engine_plan_t *plan, engine_sink_t sink, char *errstr, size_t errlen) {
    for (uint32_t i = 0; i < plan->nddl; i++) {
        int rc = sink.ops->ddl(sink.ctx, plan->ddl[i], plan->ddl_tables[i], errstr, errlen);
        if (rc) return rc;
    }
    return EDDY_OK;
}
