/* Evaluation of compiled expressions: SQL's three-valued logic, comparisons across numeric
 * kinds, arithmetic with overflow to NULL, CASE, CAST, subscripts into lists, maps and JSON,
 * IN, BETWEEN and LIKE. */
#include <math.h>

#include "engine/engine_expr.h"

int engine_val_sql_cmp(const engine_val_t *a, const engine_val_t *b, bool *comparable) {
    *comparable = true;
    bool an = a->kind == ENGINE_INT || a->kind == ENGINE_FLOAT, bn = b->kind == ENGINE_INT || b->kind == ENGINE_FLOAT;
    if (an && bn) {
        if (a->kind == ENGINE_INT && b->kind == ENGINE_INT) return a->i < b->i ? -1 : a->i > b->i;
        double x = a->kind == ENGINE_INT ? (double)a->i : a->f, y = b->kind == ENGINE_INT ? (double)b->i : b->f;
        if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
        return x < y ? -1 : x > y;
    }
    /* A timestamp compares with a date as the date's midnight. */
    if ((a->kind == ENGINE_TIMESTAMP && b->kind == ENGINE_DATE) || (a->kind == ENGINE_DATE && b->kind == ENGINE_TIMESTAMP)) {
        /* Compared as milliseconds; dates beyond the representable range saturate. */
        int64_t x = a->i, y = b->i;
        if (a->kind == ENGINE_DATE && __builtin_mul_overflow(a->i, 86400000, &x)) x = a->i < 0 ? INT64_MIN : INT64_MAX;
        if (b->kind == ENGINE_DATE && __builtin_mul_overflow(b->i, 86400000, &y)) y = b->i < 0 ? INT64_MIN : INT64_MAX;
        return x < y ? -1 : x > y;
    }
    if (a->kind != b->kind) {
        *comparable = false;
        return 0;
    }
    return engine_val_cmp(a, b);
}

static int arith_int(int op, int64_t x, int64_t y, engine_val_t *out) {
    int64_t r;
    bool ovf = false;
    switch (op) {
    case AR_ADD: ovf = __builtin_add_overflow(x, y, &r); break;
    case AR_SUB: ovf = __builtin_sub_overflow(x, y, &r); break;
    case AR_MUL: ovf = __builtin_mul_overflow(x, y, &r); break;
    case AR_DIV:
        if (y == 0 || (x == INT64_MIN && y == -1)) { *out = engine_null(); return EDDY_OK; }
        r = x / y;
        break;
    case AR_MOD:
        if (y == 0 || (x == INT64_MIN && y == -1)) { *out = engine_null(); return EDDY_OK; }
        r = x % y;
        break;
    default: r = 0;
    }
    *out = ovf ? engine_null() : engine_int(r);
    return EDDY_OK;
}

static int arith(int op, const engine_val_t *a, const engine_val_t *b, engine_val_t *out) {
    *out = engine_null();
    if (a->kind == ENGINE_INT && b->kind == ENGINE_INT) return arith_int(op, a->i, b->i, out);
    /* timestamp +/- milliseconds, timestamp - timestamp = milliseconds, date +/- days */
    if ((a->kind == ENGINE_TIMESTAMP || a->kind == ENGINE_DATE) && b->kind == ENGINE_INT && (op == AR_ADD || op == AR_SUB)) {
        int rc = arith_int(op, a->i, b->i, out);
        if (out->kind == ENGINE_INT) out->kind = a->kind;
        return rc;
    }
    if (a->kind == ENGINE_TIMESTAMP && b->kind == ENGINE_TIMESTAMP && op == AR_SUB) return arith_int(op, a->i, b->i, out);
    if (a->kind == ENGINE_DATE && b->kind == ENGINE_DATE && op == AR_SUB) return arith_int(op, a->i, b->i, out);
    bool an = a->kind == ENGINE_INT || a->kind == ENGINE_FLOAT, bn = b->kind == ENGINE_INT || b->kind == ENGINE_FLOAT;
    if (!an || !bn) return EDDY_OK;
    double x = a->kind == ENGINE_INT ? (double)a->i : a->f;
    double y = b->kind == ENGINE_INT ? (double)b->i : b->f;
    double r;
    switch (op) {
    case AR_ADD: r = x + y; break;
    case AR_SUB: r = x - y; break;
    case AR_MUL: r = x * y; break;
    case AR_DIV:
        if (y == 0) return EDDY_OK;
        r = x / y;
        break;
    case AR_MOD:
        if (y == 0) return EDDY_OK;
        r = fmod(x, y);
        break;
    default: return EDDY_OK;
    }
    *out = engine_float(r);
    return EDDY_OK;
}

/* LIKE with % and _ (and \ escaping the next character), on bytes. Iterative, with one
 * backtrack point for the last %, so it runs in O(n*m) at worst without recursion. */
static bool like_match(const char *s, size_t n, const char *p, size_t m) {
    size_t i = 0, j = 0, star_j = (size_t)-1, star_i = 0;
    while (i < n) {
        if (j < m && p[j] == '%') {
            star_j = ++j;
            star_i = i;
            continue;
        }
        if (j < m) {
            char pc = p[j];
            size_t adv = 1;
            if (pc == '\\' && j + 1 < m) {
                pc = p[j + 1];
                adv = 2;
                if (s[i] == pc) { i++; j += adv; continue; }
            } else if (pc == '_' || s[i] == pc) {
                i++;
                j += adv;
                continue;
            }
        }
        if (star_j == (size_t)-1) return false;
        j = star_j;
        i = ++star_i;
    }
    while (j < m && p[j] == '%') j++;
    return j == m;
}

static int eval_index(const engine_val_t *base, const engine_val_t *key, engine_row_t *row, engine_val_t *out) {
    *out = engine_null();
    if (base->kind == ENGINE_NULL || key->kind == ENGINE_NULL) return EDDY_OK;
    if (base->kind == ENGINE_LIST || base->kind == ENGINE_SET) {
        if (key->kind != ENGINE_INT) return EDDY_OK;
        int64_t i = key->i;
        if (i < 0) i += base->len; /* negative positions count from the end */
        if (i >= 0 && i < (int64_t)base->len) *out = base->items[i];
        return EDDY_OK;
    }
    if (base->kind == ENGINE_MAP) {
        /* Binary search: map keys are sorted. */
        uint32_t lo = 0, hi = base->len;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            int c = engine_val_cmp(&base->items[2 * mid], key);
            if (c == 0) { *out = base->items[2 * mid + 1]; return EDDY_OK; }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        return EDDY_OK;
    }
    if (base->kind == ENGINE_JSON && key->kind == ENGINE_TEXT) {
        int64_t i = json_object_get(base->json->doc, base->json->node, key->s, key->len);
        if (i >= 0) return engine_val_from_json(row->arena, base->json->doc, (uint32_t)i, out);
    }
    return EDDY_OK;
}

static int eval_case(const engine_expr_t *e, engine_row_t *row, engine_val_t *out) {
    uint32_t i = 0;
    engine_val_t operand = engine_null(), v;
    int rc;
    if (e->has_operand) {
        if ((rc = engine_expr_eval(e->args[0], row, &operand))) return rc;
        i = 1;
    }
    uint32_t pairs_end = e->has_else ? e->nargs - 1 : e->nargs;
    for (; i + 2 <= pairs_end; i += 2) {
        if ((rc = engine_expr_eval(e->args[i], row, &v))) return rc;
        bool hit;
        if (e->has_operand) {
            bool comparable;
            hit = operand.kind != ENGINE_NULL && v.kind != ENGINE_NULL && engine_val_sql_cmp(&operand, &v, &comparable) == 0 &&
                  comparable;
        } else {
            hit = engine_val_true(&v);
        }
        if (hit) return engine_expr_eval(e->args[i + 1], row, out);
    }
    if (e->has_else) return engine_expr_eval(e->args[e->nargs - 1], row, out);
    *out = engine_null();
    return EDDY_OK;
}

int engine_func_call(const engine_func_t *fn, engine_row_t *row, const engine_val_t *args, int n, engine_val_t *out) {
    if (fn->null_in_null_out)
        for (int i = 0; i < n; i++)
            if (args[i].kind == ENGINE_NULL) {
                *out = engine_null();
                return EDDY_OK;
            }
    *out = engine_null();
    return fn->eval(row, args, n, out);
}

#define EVAL_MAX_ARGS 64

int engine_expr_eval(const engine_expr_t *e, engine_row_t *row, engine_val_t *out) {
    engine_val_t a, b, c;
    int rc;
    switch (e->op) {
    case EX_CONST: *out = e->k; return EDDY_OK;
    case EX_SLOT: *out = row->slots[e->slot]; return EDDY_OK;
    case EX_CALL: {
        engine_val_t argv[EVAL_MAX_ARGS];
        uint32_t n = EDDY_MIN(e->nargs, EVAL_MAX_ARGS);
        for (uint32_t i = 0; i < n; i++)
            if ((rc = engine_expr_eval(e->args[i], row, &argv[i]))) return rc;
        return engine_func_call(e->fn, row, argv, (int)n, out);
    }
    case EX_AND:
    case EX_OR: {
        /* FALSE AND NULL is FALSE; TRUE OR NULL is TRUE; otherwise NULL wins. */
        bool is_and = e->op == EX_AND, saw_null = false;
        for (uint32_t i = 0; i < e->nargs; i++) {
            if ((rc = engine_expr_eval(e->args[i], row, &a))) return rc;
            if (a.kind != ENGINE_BOOL) { saw_null = true; continue; }
            if (a.b != is_and) { *out = engine_bool(!is_and); return EDDY_OK; }
        }
        *out = saw_null ? engine_null() : engine_bool(is_and);
        return EDDY_OK;
    }
    case EX_NOT:
        if ((rc = engine_expr_eval(e->args[0], row, &a))) return rc;
        *out = a.kind == ENGINE_BOOL ? engine_bool(!a.b) : engine_null();
        return EDDY_OK;
    case EX_CMP: {
        if ((rc = engine_expr_eval(e->args[0], row, &a)) || (rc = engine_expr_eval(e->args[1], row, &b))) return rc;
        *out = engine_null();
        if (a.kind == ENGINE_NULL || b.kind == ENGINE_NULL) return EDDY_OK;
        bool comparable;
        int cmp = engine_val_sql_cmp(&a, &b, &comparable);
        if (!comparable) {
            /* Different kinds are never equal; ordering them has no answer. */
            if (e->sub == CMP_EQ || e->sub == CMP_NE) *out = engine_bool(e->sub == CMP_NE);
            return EDDY_OK;
        }
        bool r = false;
        switch (e->sub) {
        case CMP_EQ: r = cmp == 0; break;
        case CMP_NE: r = cmp != 0; break;
        case CMP_LT: r = cmp < 0; break;
        case CMP_LE: r = cmp <= 0; break;
        case CMP_GT: r = cmp > 0; break;
        case CMP_GE: r = cmp >= 0; break;
        }
        *out = engine_bool(r);
        return EDDY_OK;
    }
    case EX_ARITH:
        if ((rc = engine_expr_eval(e->args[0], row, &a)) || (rc = engine_expr_eval(e->args[1], row, &b))) return rc;
        return arith(e->sub, &a, &b, out);
    case EX_NEG:
        if ((rc = engine_expr_eval(e->args[0], row, &a))) return rc;
        if (a.kind == ENGINE_INT) *out = a.i == INT64_MIN ? engine_null() : engine_int(-a.i);
        else if (a.kind == ENGINE_FLOAT) *out = engine_float(-a.f);
        else *out = engine_null();
        return EDDY_OK;
    case EX_CONCAT: {
        if ((rc = engine_expr_eval(e->args[0], row, &a)) || (rc = engine_expr_eval(e->args[1], row, &b))) return rc;
        if (a.kind == ENGINE_NULL || b.kind == ENGINE_NULL) { *out = engine_null(); return EDDY_OK; }
        wr_t w;
        wr_init(&w, a.len + b.len + 16);
        engine_val_to_text(&w, &a);
        engine_val_to_text(&w, &b);
        char *s = w.len ? arena_memdup(row->arena, w.buf, w.len) : (char *)"";
        size_t n = w.len;
        bool ok = wr_ok(&w);
        wr_free(&w);
        if (!ok || !s) return EDDY_ERR_NOMEM;
        *out = engine_text(s, n);
        return EDDY_OK;
    }
    case EX_CASE: return eval_case(e, row, out);
    case EX_CAST:
        if ((rc = engine_expr_eval(e->args[0], row, &a))) return rc;
        rc = engine_val_cast(row->arena, &a, e->cast_to, out);
        if (rc == EDDY_ERR_NOMEM) return rc;
        if (rc) *out = engine_null();
        return EDDY_OK;
    case EX_INDEX:
        if ((rc = engine_expr_eval(e->args[0], row, &a)) || (rc = engine_expr_eval(e->args[1], row, &b))) return rc;
        return eval_index(&a, &b, row, out);
    case EX_IS_NULL:
        if ((rc = engine_expr_eval(e->args[0], row, &a))) return rc;
        *out = engine_bool((a.kind == ENGINE_NULL) != (e->sub == 1));
        return EDDY_OK;
    case EX_IN: {
        if ((rc = engine_expr_eval(e->args[0], row, &a))) return rc;
        *out = engine_null();
        if (a.kind == ENGINE_NULL) return EDDY_OK;
        bool saw_null = false;
        for (uint32_t i = 1; i < e->nargs; i++) {
            if ((rc = engine_expr_eval(e->args[i], row, &b))) return rc;
            if (b.kind == ENGINE_NULL) { saw_null = true; continue; }
            bool comparable;
            if (engine_val_sql_cmp(&a, &b, &comparable) == 0 && comparable) {
                *out = engine_bool(e->sub != 1);
                return EDDY_OK;
            }
        }
        if (!saw_null) *out = engine_bool(e->sub == 1);
        return EDDY_OK;
    }
    case EX_BETWEEN: {
        if ((rc = engine_expr_eval(e->args[0], row, &a)) || (rc = engine_expr_eval(e->args[1], row, &b)) ||
            (rc = engine_expr_eval(e->args[2], row, &c)))
            return rc;
        *out = engine_null();
        if (a.kind == ENGINE_NULL || b.kind == ENGINE_NULL || c.kind == ENGINE_NULL) return EDDY_OK;
        bool c1, c2;
        int lo = engine_val_sql_cmp(&a, &b, &c1), hi = engine_val_sql_cmp(&a, &c, &c2);
        if (!c1 || !c2) return EDDY_OK;
        *out = engine_bool((lo >= 0 && hi <= 0) != (e->sub == 1));
        return EDDY_OK;
    }
    case EX_COLL: {
        engine_val_t *items = arena_alloc(row->arena, (e->nargs ? e->nargs : 1) * sizeof *items);
        if (!items) return EDDY_ERR_NOMEM;
        for (uint32_t i = 0; i < e->nargs; i++)
            if ((rc = engine_expr_eval(e->args[i], row, &items[i]))) return rc;
        return engine_val_make_coll(row->arena, e->sub, items, e->sub == ENGINE_MAP ? e->nargs / 2 : e->nargs, out);
    }
    case EX_LIKE:
        if ((rc = engine_expr_eval(e->args[0], row, &a)) || (rc = engine_expr_eval(e->args[1], row, &b))) return rc;
        *out = engine_null();
        if (a.kind != ENGINE_TEXT || b.kind != ENGINE_TEXT) return EDDY_OK;
        *out = engine_bool(like_match(a.s, a.len, b.s, b.len) != (e->sub == 1));
        return EDDY_OK;
    }
    *out = engine_null();
    return EDDY_OK;
}

int engine_expr_test(const engine_expr_t *e, engine_row_t *row, bool *out) {
    engine_val_t v;
    int rc = engine_expr_eval(e, row, &v);
    *out = rc == EDDY_OK && engine_val_true(&v);
    return rc;
}
