/* Conditional writes (lightweight transactions). Conditions attach to rows of a builder; at
 * apply time the partition's lock is taken (so conditional writes to one partition are
 * serialized), the conditioned rows are read and materialized, every condition is evaluated
 * with the column type's comparator, and the batch is written only when all hold. Rows as they
 * were are handed to the caller for Cassandra's [applied] = false result. */
#include <stdlib.h>

#include "store/store_int.h"

static int add_cond(store_write_t *w, store_cond_t *c, char *errstr, size_t errlen) {
    if (!w->row_open) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "no row started (store_write_row)");
    if (w->nconds == w->condcap) {
        size_t cap = w->condcap ? w->condcap * 2 : 8;
        store_cond_t *a = eddy_realloc(w->conds, cap * sizeof *a);
        if (!a) return EDDY_ERR_NOMEM;
        w->conds = a;
        w->condcap = cap;
    }
    c->t = w->t;
    c->key_off = w->conds_data.len;
    c->key_len = w->row_key_len;
    c->pk_len = w->row_pk_len;
    wr_bytes(&w->conds_data, w->key.buf + w->row_key_off, w->row_key_len);
    if (!wr_ok(&w->conds_data)) return w->conds_data.err;
    w->conds[w->nconds++] = *c;
    return EDDY_OK;
}

int store_write_if_exists(store_write_t *w, char *errstr, size_t errlen) {
    store_cond_t c = {.kind = 0};
    return add_cond(w, &c, errstr, errlen);
}

int store_write_if_not_exists(store_write_t *w, char *errstr, size_t errlen) {
    store_cond_t c = {.kind = 1};
    return add_cond(w, &c, errstr, errlen);
}

int store_write_if(store_write_t *w, int col, const eddy_view_t *elem, const char *field, store_op_t op,
                   const eddy_view_t *values, size_t nvalues, char *errstr, size_t errlen) {
    if (!w->row_open) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "no row started (store_write_row)");
    const store_table_info_t *in = &w->t->info;
    if (col < 0 || (size_t)col >= in->ncolumns) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "column index %d out of range", col);
    const store_column_t *cd = &in->columns[col];
    if (cd->kind <= STORE_COL_CLUSTERING)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "PRIMARY KEY column '%s' cannot have IF conditions", cd->name);
    if (op == STORE_OP_IN ? nvalues == 0 : nvalues != 1)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "wrong number of values for the condition on %s", cd->name);
    store_cond_t c = {.kind = 2, .col = col, .op = op, .field = -1};
    if (field) {
        if (cd->type->kind != STORE_T_UDT)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid field selection: %s of type %s is not a user type",
                            cd->name, store_kind_cql_name(cd->type->kind));
        for (int i = 0; i < cd->type->nsub; i++)
            if (!strcmp(cd->type->field_names[i], field)) c.field = i;
        if (c.field < 0) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unknown field %s in %s", field, cd->name);
    }
    size_t mark = w->conds_data.len;
    if (elem) {
        if (cd->type->kind != STORE_T_LIST && cd->type->kind != STORE_T_MAP)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid element access on %s", cd->name);
        c.has_elem = true;
        c.elem_off = w->conds_data.len;
        c.elem_len = elem->len;
        wr_bytes(&w->conds_data, elem->ptr, elem->len);
    }
    c.vals_off = w->conds_data.len;
    c.nvals = nvalues;
    for (size_t i = 0; i < nvalues; i++) store_wr_value(&w->conds_data, values[i].ptr, values[i].len);
    int rc = add_cond(w, &c, errstr, errlen);
    if (rc) w->conds_data.len = mark;
    return rc;
}

/* The value a condition looks at in a materialized row (ptr NULL for null). */
static eddy_view_t cond_subject(const store_write_t *w, const store_cond_t *c, const store_row_t *row,
                                const store_type_t **type) {
    const store_column_t *cd = &c->t->info.columns[c->col];
    eddy_view_t v = eddy_view(row ? row->cells[c->col].ptr : NULL, row ? row->cells[c->col].len : 0);
    *type = cd->type;
    if (!v.ptr) return v;
    if (c->field >= 0) {
        eddy_view_t f[256];
        long n = store_value_elements(cd->type, v.ptr, v.len, f, EDDY_ARRAY_LEN(f));
        *type = cd->type->sub[c->field];
        return c->field < n && c->field < (long)EDDY_ARRAY_LEN(f) ? f[c->field] : eddy_view(NULL, 0);
    }
    if (c->has_elem) {
        const uint8_t *e = w->conds_data.buf + c->elem_off;
        store_coll_rd_t cr;
        if (cd->type->kind == STORE_T_LIST) {
            *type = cd->type->sub[0];
            if (c->elem_len != 4) return eddy_view(NULL, 0);
            int32_t idx = ld_i32(e);
            if (store_coll_open(&cr, v.ptr, v.len, 1)) return eddy_view(NULL, 0);
            eddy_view_t x;
            for (int32_t i = 0; store_coll_next(&cr, &x) == 1; i++)
                if (i == idx) return x;
            return eddy_view(NULL, 0);
        }
        *type = cd->type->sub[1];
        if (store_coll_open(&cr, v.ptr, v.len, 2)) return eddy_view(NULL, 0);
        eddy_view_t k, x;
        while (store_coll_next(&cr, &k) == 1 && store_coll_next(&cr, &x) == 1)
            if (store_value_compare(cd->type->sub[0], k.ptr, k.len, e, c->elem_len) == 0) return x;
        return eddy_view(NULL, 0);
    }
    return v;
}

/* row: the materialized row (static cells included even when the row itself does not exist);
 * exists: whether it does. */
static bool cond_holds(const store_write_t *w, const store_cond_t *c, const store_row_t *row, bool exists) {
    if (c->kind == 0) return exists;
    if (c->kind == 1) return !exists;
    /* a static column is judged on the partition's static row, a regular one on the row */
    if (!exists && c->t->info.columns[c->col].kind != STORE_COL_STATIC) row = NULL;
    const store_type_t *type;
    eddy_view_t cur = cond_subject(w, c, row, &type);
    rd_t r = rd_init(w->conds_data.buf + c->vals_off, w->conds_data.len - c->vals_off);
    for (size_t i = 0; i < c->nvals; i++) {
        int32_t len = rd_i32(&r);
        eddy_view_t v = len < 0 ? eddy_view(NULL, 0) : rd_view(&r, (size_t)len);
        switch (c->op) {
        case STORE_OP_EQ:
        case STORE_OP_IN:
            if (!v.ptr || !cur.ptr) {
                if (!v.ptr && !cur.ptr) return true;
            } else if (store_value_compare(type, cur.ptr, cur.len, v.ptr, v.len) == 0) {
                return true;
            }
            if (c->op == STORE_OP_EQ) return false;
            break;
        case STORE_OP_NE:
            if (!v.ptr || !cur.ptr) return (v.ptr == NULL) != (cur.ptr == NULL);
            return store_value_compare(type, cur.ptr, cur.len, v.ptr, v.len) != 0;
        case STORE_OP_LT:
        case STORE_OP_LE:
        case STORE_OP_GT:
        case STORE_OP_GE: {
            if (!v.ptr || !cur.ptr) return false;
            int cmp = store_value_compare(type, cur.ptr, cur.len, v.ptr, v.len);
            return c->op == STORE_OP_LT ? cmp < 0 : c->op == STORE_OP_LE ? cmp <= 0 : c->op == STORE_OP_GT ? cmp > 0 : cmp >= 0;
        }
        case STORE_OP_CONTAINS:
        case STORE_OP_CONTAINS_KEY: {
            if (!v.ptr || !cur.ptr || !store_type_is_collection(type)) return false;
            bool map = type->kind == STORE_T_MAP;
            store_coll_rd_t cr;
            if (store_coll_open(&cr, cur.ptr, cur.len, map ? 2 : 1)) return false;
            eddy_view_t x;
            for (size_t k = 0; store_coll_next(&cr, &x) == 1; k++) {
                bool is_key = !map || k % 2 == 0;
                const store_type_t *et = map ? type->sub[k % 2] : type->sub[0];
                if (c->op == STORE_OP_CONTAINS_KEY ? (map && is_key) : (!map || !is_key))
                    if (store_value_compare(et, x.ptr, x.len, v.ptr, v.len) == 0) return true;
            }
            return false;
        }
        }
    }
    return false;
}

/* Reads and materializes one row (NULL when it does not exist). */
static int load_row(store_t *st, const store_cond_t *c, const uint8_t *key, store_rowmat_t *m, store_row_t *row,
                    bool *exists, char *errstr, size_t errlen) {
    wr_t data, part;
    wr_init(&data, 256);
    wr_init(&part, 0);
    store_part_t pc = {0};
    *exists = false;
    int rc = store_read_raw_row(st, c->t, key, c->key_len, c->pk_len, &data, &part, errstr, errlen);
    if (rc == EDDY_OK && part.len) rc = store_part_load(&pc, part.buf, part.len);
    if (rc == EDDY_OK) rc = store_rowmat_reset(m, c->t->info.ncolumns);
    int64_t token;
    if (rc == EDDY_OK) rc = store_rowmat_keys(m, c->t, key, c->key_len, &token);
    int64_t now = store_now_s(st);
    bool static_row = c->t->info.nclustering > 0 && c->key_len == c->pk_len;
    if (rc == EDDY_OK && data.len && !static_row) {
        frag_deletion_t del = pc.present ? store_part_row_deletion(&pc, key + c->pk_len, c->key_len - c->pk_len)
                                         : (frag_deletion_t){STORE_NO_TS, 0};
        rc = store_rowmat_frag(m, c->t, data.buf, data.len, &del, now, exists);
    }
    if (rc == EDDY_OK && pc.present) {
        frag_deletion_t none = {STORE_NO_TS, 0};
        bool slive;
        rc = store_rowmat_frag(m, c->t, pc.value.buf, pc.value.len, &none, now, &slive);
        if (static_row) *exists = slive;
    }
    if (rc == EDDY_OK) {
        store_rowmat_finish(m);
        row->table = c->t;
        row->cells = m->cells;
        row->ncells = m->ncols;
        row->token = token;
        row->static_only = static_row;
    }
    store_part_free(&pc);
    wr_free(&data);
    wr_free(&part);
    return rc;
}

int store_write_apply_cas(store_write_t *w, bool durable, bool *applied, store_row_fn current, void *arg, char *errstr,
                          size_t errlen) {
    *applied = false;
    int rc = store_write_flush_row(w);
    if (rc || w->nconds == 0) {
        if (rc == EDDY_OK) {
            rc = store_write_commit(w, durable ? STORE_DUR_SYNC : STORE_DUR_OS, errstr, errlen);
            *applied = rc == EDDY_OK;
        }
        store_write_reset(w);
        return rc;
    }
    /* one partition only */
    const store_cond_t *c0 = &w->conds[0];
    const uint8_t *p0 = w->conds_data.buf + c0->key_off;
    for (size_t i = 1; i < w->nconds; i++) {
        const store_cond_t *c = &w->conds[i];
        if (c->pk_len != c0->pk_len || memcmp(w->conds_data.buf + c->key_off, p0, c0->pk_len)) {
            store_write_reset(w);
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Batch with conditions cannot span multiple partitions");
        }
    }
    pthread_mutex_t *lock = &w->st->cas_locks[hash64(p0, c0->pk_len) % EDDY_ARRAY_LEN(w->st->cas_locks)];
    pthread_mutex_lock(lock);
    store_rowmat_t m;
    store_rowmat_init(&m);
    bool ok = true;
    /* every condition, rows loaded once per distinct key (a row's conditions are adjacent) */
    for (int pass = 0; pass < 2 && rc == EDDY_OK; pass++) {
        if (pass == 1 && (ok || !current)) break;
        for (size_t i = 0; i < w->nconds && rc == EDDY_OK;) {
            const store_cond_t *c = &w->conds[i];
            const uint8_t *key = w->conds_data.buf + c->key_off;
            size_t j = i;
            while (j < w->nconds && w->conds[j].key_len == c->key_len &&
                   !memcmp(w->conds_data.buf + w->conds[j].key_off, key, c->key_len))
                j++;
            store_row_t row;
            bool exists;
            rc = load_row(w->st, c, key, &m, &row, &exists, errstr, errlen);
            if (rc == EDDY_OK && pass == 0) {
                for (size_t k = i; k < j; k++)
                    if (!cond_holds(w, &w->conds[k], &row, exists)) ok = false;
            } else if (rc == EDDY_OK) {
                /* not applied: the rows as they are (a missing row still shows its statics) */
                bool statics = false;
                for (size_t k = c->t->info.npartition + c->t->info.nclustering; k < row.ncells && !statics; k++)
                    statics = c->t->info.columns[k].kind == STORE_COL_STATIC && row.cells[k].ptr;
                if (exists || statics) current(arg, &row);
            }
            i = j;
        }
        if (pass == 0 && rc == EDDY_OK && ok) {
            rc = store_write_commit(w, durable ? STORE_DUR_SYNC : STORE_DUR_OS, errstr, errlen);
            *applied = rc == EDDY_OK;
        }
    }
    pthread_mutex_unlock(lock);
    store_rowmat_free(&m);
    store_write_reset(w);
    return rc;
}
