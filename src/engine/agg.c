/* Aggregates with retraction: count, sum, avg keep running counts and sums; min, max and
 * count(DISTINCT) keep a sorted multiset (value -> multiplicity), so that a retracted minimum
 * is replaced by the next one, as Materialize and Flink's retracting aggregates do. */
#include <math.h>

#include "engine/engine_expr.h"

static const struct {
    const char *name;
    int kind, distinct_kind;
} agg_names[] = {
    {"count", AGG_COUNT, AGG_COUNT_DISTINCT}, {"sum", AGG_SUM, -1}, {"min", AGG_MIN, AGG_MIN},
    {"max", AGG_MAX, AGG_MAX},                {"avg", AGG_AVG, -1},
};

int engine_agg_lookup(const char *name, size_t len, bool distinct, bool star) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(agg_names); i++) {
        const char *n = agg_names[i].name;
        if (strlen(n) != len) continue;
        bool eq = true;
        for (size_t j = 0; j < len && eq; j++) {
            char c = name[j];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            eq = c == n[j];
        }
        if (!eq) continue;
        if (star) return agg_names[i].kind == AGG_COUNT && !distinct ? AGG_COUNT_STAR : -1;
        return distinct ? agg_names[i].distinct_kind : agg_names[i].kind;
    }
    return -1;
}

int engine_agg_check(int kind, engine_type_t arg, engine_type_t *result, char *errstr, size_t errlen) {
    char tn[48];
    switch (kind) {
    case AGG_COUNT_STAR:
    case AGG_COUNT:
    case AGG_COUNT_DISTINCT: *result = engine_type(ENGINE_INT); return EDDY_OK;
    case AGG_SUM:
    case AGG_AVG:
        if (arg.kind != ENGINE_INT && arg.kind != ENGINE_FLOAT && arg.kind != ENGINE_ANY && arg.kind != ENGINE_NULL)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s needs a number, not %s",
                            kind == AGG_SUM ? "sum" : "avg", engine_type_str(arg, tn, sizeof tn));
        *result = kind == AGG_AVG ? engine_type(ENGINE_FLOAT) : arg.kind == ENGINE_INT ? engine_type(ENGINE_INT)
                  : arg.kind == ENGINE_FLOAT                                  ? engine_type(ENGINE_FLOAT)
                                                                           : engine_type(ENGINE_ANY);
        return EDDY_OK;
    case AGG_MIN:
    case AGG_MAX: *result = arg; return EDDY_OK;
    }
    return EDDY_ERR_INVALID;
}

static bool uses_multiset(int kind) { return kind == AGG_MIN || kind == AGG_MAX || kind == AGG_COUNT_DISTINCT; }

/* Index of v in the sorted multiset, or where it would go (found says which). */
static uint32_t ms_find(const engine_agg_state_t *st, const engine_val_t *v, bool *found) {
    uint32_t lo = 0, hi = st->nvals;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        int c = engine_val_cmp(&st->vals[mid], v);
        if (c == 0) { *found = true; return mid; }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

static int ms_grow(engine_agg_state_t *st, arena_t *a) {
    uint32_t cap = st->capvals ? st->capvals * 2 : 4;
    engine_val_t *vals = arena_alloc(a, cap * sizeof *vals);
    int64_t *mults = arena_alloc(a, cap * sizeof *mults);
    if (!vals || !mults) return EDDY_ERR_NOMEM;
    if (st->nvals) {
        memcpy(vals, st->vals, st->nvals * sizeof *vals);
        memcpy(mults, st->mults, st->nvals * sizeof *mults);
    }
    st->vals = vals;
    st->mults = mults;
    st->capvals = cap;
    return EDDY_OK;
}

static int ms_add(engine_agg_state_t *st, arena_t *a, const engine_val_t *v, int64_t weight) {
    bool found;
    uint32_t i = ms_find(st, v, &found);
    if (found) {
        if (__builtin_add_overflow(st->mults[i], weight, &st->mults[i])) st->mults[i] = weight > 0 ? INT64_MAX : 0;
        if (st->mults[i] <= 0) { /* gone: close the gap */
            memmove(&st->vals[i], &st->vals[i + 1], (st->nvals - i - 1) * sizeof *st->vals);
            memmove(&st->mults[i], &st->mults[i + 1], (st->nvals - i - 1) * sizeof *st->mults);
            st->nvals--;
        }
        return EDDY_OK;
    }
    if (weight <= 0) return EDDY_OK; /* retracting a value never added: nothing to do */
    if (st->nvals == st->capvals) {
        int rc = ms_grow(st, a);
        if (rc) return rc;
    }
    engine_val_t copy;
    int rc = engine_val_copy(a, v, &copy);
    if (rc) return rc;
    memmove(&st->vals[i + 1], &st->vals[i], (st->nvals - i) * sizeof *st->vals);
    memmove(&st->mults[i + 1], &st->mults[i], (st->nvals - i) * sizeof *st->mults);
    st->vals[i] = copy;
    st->mults[i] = weight;
    st->nvals++;
    return EDDY_OK;
}

/* Counts saturate instead of wrapping (only a corrupt or absurd state gets near the limits). */
static void count_add(int64_t *c, int weight) {
    if (__builtin_add_overflow(*c, (int64_t)weight, c)) *c = weight > 0 ? INT64_MAX : INT64_MIN;
}

int engine_agg_update(const engine_agg_t *agg, engine_agg_state_t *st, arena_t *a, const engine_val_t *v, int weight) {
    if (agg->kind == AGG_COUNT_STAR) {
        count_add(&st->count, weight);
        return EDDY_OK;
    }
    if (v->kind == ENGINE_NULL) return EDDY_OK; /* aggregates skip NULLs */
    count_add(&st->count, weight);
    if (uses_multiset(agg->kind)) return ms_add(st, a, v, weight);
    if (agg->kind == AGG_SUM || agg->kind == AGG_AVG) {
        if (v->kind == ENGINE_INT) {
            int64_t d = weight > 0 ? v->i : -v->i;
            if (v->i == INT64_MIN || __builtin_add_overflow(st->isum, d, &st->isum)) st->overflow = true;
            st->fsum += weight > 0 ? (double)v->i : -(double)v->i;
        } else if (v->kind == ENGINE_FLOAT) {
            st->is_float = true;
            st->fsum += weight > 0 ? v->f : -v->f;
        }
    }
    return EDDY_OK;
}

int engine_agg_result(const engine_agg_t *agg, const engine_agg_state_t *st, engine_val_t *out) {
    *out = engine_null();
    switch (agg->kind) {
    case AGG_COUNT_STAR:
    case AGG_COUNT: *out = engine_int(st->count); break;
    case AGG_COUNT_DISTINCT: *out = engine_int(st->nvals); break;
    case AGG_SUM:
        if (st->count <= 0) break;
        if (st->is_float) *out = engine_float(st->fsum);
        else if (!st->overflow) *out = engine_int(st->isum);
        break;
    case AGG_AVG:
        if (st->count > 0) *out = engine_float((st->is_float ? st->fsum : (double)st->isum) / (double)st->count);
        if (st->count > 0 && !st->is_float && st->overflow) *out = engine_float(st->fsum / (double)st->count);
        break;
    case AGG_MIN:
        if (st->nvals) *out = st->vals[0];
        break;
    case AGG_MAX:
        if (st->nvals) *out = st->vals[st->nvals - 1];
        break;
    }
    return EDDY_OK;
}

/* State layout: varint count, varint isum, f64 fsum, u8 flags, uvarint n, n x (value, varint
 * multiplicity). */
void engine_agg_encode(wr_t *w, const engine_agg_t *agg, const engine_agg_state_t *st) {
    wr_varint(w, st->count);
    if (agg->kind == AGG_SUM || agg->kind == AGG_AVG) {
        wr_varint(w, st->isum);
        wr_f64(w, st->fsum);
        wr_u8(w, (uint8_t)(st->is_float | st->overflow << 1));
    }
    if (uses_multiset(agg->kind)) {
        wr_uvarint(w, st->nvals);
        for (uint32_t i = 0; i < st->nvals; i++) {
            engine_val_encode(w, &st->vals[i]);
            wr_varint(w, st->mults[i]);
        }
    }
}

int engine_agg_decode(rd_t *r, const engine_agg_t *agg, engine_agg_state_t *st, arena_t *a) {
    memset(st, 0, sizeof *st);
    st->count = rd_varint64(r);
    if (st->count < 0) return EDDY_ERR_CORRUPT; /* a stored count is never negative */
    if (agg->kind == AGG_SUM || agg->kind == AGG_AVG) {
        st->isum = rd_varint64(r);
        st->fsum = rd_f64(r);
        uint8_t flags = rd_u8(r);
        if (flags > 3) return EDDY_ERR_CORRUPT;
        st->is_float = flags & 1;
        st->overflow = flags >> 1 & 1;
    }
    if (uses_multiset(agg->kind)) {
        uint64_t n = rd_uvarint64(r);
        /* every entry takes at least two bytes */
        if (!rd_ok(r) || n > rd_remaining(r) / 2) return EDDY_ERR_CORRUPT;
        if (n) {
            st->capvals = (uint32_t)n;
            st->vals = arena_alloc(a, n * sizeof *st->vals);
            st->mults = arena_alloc(a, n * sizeof *st->mults);
            if (!st->vals || !st->mults) return EDDY_ERR_NOMEM;
        }
        for (uint64_t i = 0; i < n; i++) {
            int rc = engine_val_decode(r, a, &st->vals[i]);
            if (rc) return rc;
            st->mults[i] = rd_varint64(r);
            if (!rd_ok(r) || st->mults[i] <= 0) return EDDY_ERR_CORRUPT;
            if (i && engine_val_cmp(&st->vals[i - 1], &st->vals[i]) >= 0) return EDDY_ERR_CORRUPT;
            st->nvals++;
        }
    }
    return rd_ok(r) ? EDDY_OK : EDDY_ERR_CORRUPT;
}

int engine_agg_merge(const engine_agg_t *agg, engine_agg_state_t *dst, const engine_agg_state_t *src, arena_t *a) {
    if (__builtin_add_overflow(dst->count, src->count, &dst->count)) dst->count = INT64_MAX;
    if (agg->kind == AGG_SUM || agg->kind == AGG_AVG) {
        if (__builtin_add_overflow(dst->isum, src->isum, &dst->isum)) dst->overflow = true;
        dst->overflow |= src->overflow;
        dst->fsum += src->fsum;
        dst->is_float |= src->is_float;
    }
    if (uses_multiset(agg->kind))
        for (uint32_t i = 0; i < src->nvals; i++) {
            int rc = ms_add(dst, a, &src->vals[i], src->mults[i]);
            if (rc) return rc;
        }
    return EDDY_OK;
}
