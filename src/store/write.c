/* The write builder: rows, cell operations, deletions and key/value entries collected into one
 * RocksDB write batch. Each row becomes one merge operand (a row fragment, frag.c) on its data
 * key and, when it touches static columns or deletes a partition or a range, one on its
 * partition header key. Cell operations of the current row are buffered, sorted by column id
 * (and element path) and encoded when the row ends, so any order of calls is fine. */
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"

/* ---- buffers ---- */

static size_t keep_bytes(store_write_t *w, const void *p, size_t n) {
    size_t off = w->data.len;
    wr_bytes(&w->data, p, n);
    return off;
}

int store_write_add_cell(store_write_t *w, pcell_t *c) {
    c->skey = (uint64_t)c->is_static << 63 | (uint64_t)c->col_id << 8 | c->kind;
    if (w->ncells == w->cellcap) {
        size_t cap = w->cellcap ? w->cellcap * 2 : 32;
        pcell_t *a = eddy_realloc(w->cells, cap * sizeof *a);
        if (!a) return EDDY_ERR_NOMEM;
        w->cells = a;
        w->cellcap = cap;
    }
    w->cells[w->ncells++] = *c;
    return wr_ok(&w->data) ? EDDY_OK : w->data.err;
}

store_write_t *store_write_new(store_t *st) {
    store_write_t *w = eddy_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->st = st;
    w->batch = rocksdb_writebatch_create();
    wr_init(&w->key, 256);
    wr_init(&w->data, 1024);
    wr_init(&w->frag, 1024);
    wr_init(&w->scratch, 256);
    wr_init(&w->conds_data, 0);
    return w;
}

static void row_clear(store_write_t *w) {
    w->row_open = false;
    w->ncells = 0;
    wr_reset(&w->data);
    w->row_del = false;
}

void store_write_reset(store_write_t *w) {
    rocksdb_writebatch_clear(w->batch);
    row_clear(w);
    w->count = 0;
    w->nconds = 0;
    w->cas_rows = 0;
    wr_reset(&w->conds_data);
    wr_reset(&w->key);
}

void store_write_free(store_write_t *w) {
    if (!w) return;
    rocksdb_writebatch_destroy(w->batch);
    wr_free(&w->key);
    wr_free(&w->data);
    wr_free(&w->frag);
    wr_free(&w->scratch);
    wr_free(&w->conds_data);
    eddy_free(w->cells);
    eddy_free(w->conds);
    eddy_free(w);
}

size_t store_write_count(const store_write_t *w) { return w->count + (w->row_open ? 1 : 0); }
size_t store_write_bytes(const store_write_t *w) {
    size_t n;
    rocksdb_writebatch_data(w->batch, &n);
    return n;
}

/* ---- encoding a row ---- */

/* Cells sort by static-ness, column id, kind (deletions first), element path, call order. */
static inline int pcell_cmp_ctx(const store_write_t *w, const pcell_t *a, const pcell_t *b) {
    if (a->skey != b->skey) return a->skey < b->skey ? -1 : 1;
    if (a->kind == PC_ELEM) {
        int c = store_bytes_cmp(w->data.buf + a->poff, a->plen, w->data.buf + b->poff, b->plen);
        if (c) return c;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void sort_cells(store_write_t *w) {
    /* insertion sort: rows have few cells; stable on seq */
    for (size_t i = 1; i < w->ncells; i++) {
        pcell_t x = w->cells[i];
        size_t j = i;
        while (j > 0 && pcell_cmp_ctx(w, &w->cells[j - 1], &x) > 0) {
            w->cells[j] = w->cells[j - 1];
            j--;
        }
        w->cells[j] = x;
    }
}

static frag_cell_t cell_of(store_write_t *w, const pcell_t *p) {
    frag_cell_t c;
    c.flags = p->flags;
    c.ts = p->ts;
    c.ttl = p->ttl;
    c.ldt = p->ldt;
    c.path = eddy_view(w->data.buf + p->poff, p->plen);
    c.value = (p->flags & FRAG_CELL_TOMB) ? eddy_view(NULL, 0) : eddy_view(w->data.buf + p->voff, p->vlen);
    return c;
}

/* Encodes cells [from, to) (all of one static-ness) after the header already started in enc. */
static void encode_cells(store_write_t *w, store_frag_enc_t *enc, size_t from, size_t to) {
    size_t i = from;
    while (i < to) {
        uint32_t id = w->cells[i].col_id;
        size_t j = i;
        while (j < to && w->cells[j].col_id == id) j++;
        if (w->cells[i].kind == PC_SIMPLE) {
            /* several assignments of one column in a row: the last one stands */
            frag_cell_t c = cell_of(w, &w->cells[j - 1]);
            store_frag_enc_cell(enc, id, &c);
        } else {
            frag_deletion_t cdel = {STORE_NO_TS, 0};
            size_t k = i;
            for (; k < j && w->cells[k].kind == PC_CDEL; k++) {
                frag_deletion_t d = {w->cells[k].ts, w->cells[k].ldt};
                if (cdel.ts == STORE_NO_TS || frag_del_supersedes(&d, &cdel)) cdel = d;
            }
            store_frag_enc_complex_begin(enc, id, &cdel);
            while (k < j) {
                /* equal paths: reconcile */
                frag_cell_t best = cell_of(w, &w->cells[k]);
                size_t m = k + 1;
                while (m < j && w->cells[m].plen == w->cells[k].plen &&
                       !memcmp(w->data.buf + w->cells[m].poff, w->data.buf + w->cells[k].poff, w->cells[k].plen)) {
                    frag_cell_t c = cell_of(w, &w->cells[m]);
                    if (!store_frag_cell_wins(&best, &c)) best = c;
                    m++;
                }
                if (!(cdel.ts != STORE_NO_TS && best.ts <= cdel.ts)) store_frag_enc_elem(enc, &best);
                k = m;
            }
            store_frag_enc_complex_end(enc);
        }
        i = j;
    }
}

/* Ends the current row: encodes its fragments into the batch. */
int store_write_flush_row(store_write_t *w) {
    if (!w->row_open) return EDDY_OK;
    store_t *st = w->st;
    sort_cells(w);
    size_t nstatic_from = w->ncells;
    for (size_t i = 0; i < w->ncells; i++)
        if (w->cells[i].is_static) {
            nstatic_from = i;
            break;
        }
    const uint8_t *key = w->key.buf + w->row_key_off;
    /* data row: liveness, row deletion, regular cells */
    bool data = w->row_liveness || w->row_del || nstatic_from > 0;
    if (data) {
        wr_reset(&w->frag);
        store_frag_enc_t enc;
        store_frag_enc_start(&enc, &w->frag, w->ts);
        if (w->row_liveness) store_frag_enc_liveness(&enc, &w->live);
        if (w->row_del) store_frag_enc_deletion(&enc, &w->del);
        encode_cells(w, &enc, 0, nstatic_from);
        if (!wr_ok(&w->frag)) return w->frag.err;
        rocksdb_writebatch_merge_cf(w->batch, st->cf[CF_DATA], (const char *)key, w->row_key_len,
                                    (const char *)w->frag.buf, w->frag.len);
    }
    if (nstatic_from < w->ncells) {
        store_headers_note(st, w->t->info.id); /* before the batch is visible */
        wr_reset(&w->frag);
        store_frag_enc_t enc;
        store_frag_enc_start(&enc, &w->frag, w->ts);
        encode_cells(w, &enc, nstatic_from, w->ncells);
        if (!wr_ok(&w->frag)) return w->frag.err;
        rocksdb_writebatch_merge_cf(w->batch, st->cf[CF_PART], (const char *)key, w->row_pk_len,
                                    (const char *)w->frag.buf, w->frag.len);
    }
    w->count++;
    row_clear(w);
    return EDDY_OK;
}

/* ---- rows ---- */

int store_write_row(store_write_t *w, const store_table_t *t, const eddy_view_t *key, size_t nkey,
                    int64_t timestamp_us, int32_t ttl, unsigned flags, char *errstr, size_t errlen) {
    int rc = store_write_flush_row(w);
    if (rc) return rc;
    const store_table_info_t *in = &t->info;
    size_t full = in->npartition + in->nclustering;
    if (nkey != full && !(nkey == in->npartition && in->nclustering > 0)) {
        if (nkey < in->npartition)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Missing mandatory PRIMARY KEY part %s",
                            in->columns[nkey].name);
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Missing mandatory PRIMARY KEY part %s",
                        in->columns[nkey < full ? nkey : full - 1].name);
    }
    if (ttl == STORE_TTL_DEFAULT) ttl = in->options.default_time_to_live;
    if (ttl < 0) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "A TTL must be greater or equal to 0, but was %d", ttl);
    if (ttl > STORE_MAX_TTL)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "ttl is too large. requested (%d) maximum (%d)", ttl, STORE_MAX_TTL);
    if (in->counter && ttl && ttl != in->options.default_time_to_live)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Cannot provide custom TTL for counter updates");
    size_t mark = w->key.len;
    size_t pklen;
    int64_t token;
    rc = store_key_build(t, key, nkey, &w->key, &pklen, &token, errstr, errlen);
    if (rc) {
        w->key.len = mark;
        return rc;
    }
    w->t = t;
    w->row_open = true;
    w->row_key_off = mark;
    w->row_key_len = w->key.len - mark;
    w->row_pk_len = pklen;
    w->row_static_only = nkey < full;
    w->ts = timestamp_us;
    w->ttl = (uint32_t)ttl;
    w->now_s = store_now_s(w->st);
    w->token = token;
    w->row_liveness = false;
    if ((flags & STORE_ROW_INSERT) && !w->row_static_only && !in->counter) {
        w->row_liveness = true;
        w->live.ts = timestamp_us;
        w->live.ttl = (uint32_t)ttl;
        w->live.ldt = ttl ? w->now_s + ttl : 0;
    }
    return EDDY_OK;
}

static int check_col(store_write_t *w, int col, const store_column_t **out, char *errstr, size_t errlen) {
    if (!w->row_open) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "no row started (store_write_row)");
    const store_table_info_t *in = &w->t->info;
    if (col < 0 || (size_t)col >= in->ncolumns) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "column index %d out of range", col);
    const store_column_t *c = &in->columns[col];
    if (c->kind <= STORE_COL_CLUSTERING)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "PRIMARY KEY part %s found in SET part", c->name);
    if (w->row_static_only && c->kind != STORE_COL_STATIC)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Missing mandatory PRIMARY KEY part %s",
                        in->columns[in->npartition].name);
    *out = c;
    return EDDY_OK;
}

static pcell_t base_cell(store_write_t *w, const store_column_t *c, uint8_t kind) {
    pcell_t p;
    memset(&p, 0, sizeof p);
    p.col_id = c->id;
    p.is_static = c->kind == STORE_COL_STATIC;
    p.kind = kind;
    p.ts = w->ts;
    p.seq = w->ncells;
    if (w->ttl) {
        p.flags = FRAG_CELL_EXPIRING;
        p.ttl = w->ttl;
        p.ldt = w->now_s + w->ttl;
    }
    return p;
}

static int add_tomb(store_write_t *w, const store_column_t *c, uint8_t kind, int64_t ts, const uint8_t *path,
                    size_t plen) {
    pcell_t p = base_cell(w, c, kind);
    p.flags = FRAG_CELL_TOMB;
    p.ttl = 0;
    p.ts = ts;
    p.ldt = w->now_s;
    if (path) {
        p.poff = keep_bytes(w, path, plen);
        p.plen = plen;
    }
    return store_write_add_cell(w, &p);
}

static int add_value(store_write_t *w, const store_column_t *c, uint8_t kind, const uint8_t *path, size_t plen,
                     const uint8_t *v, size_t vlen) {
    pcell_t p = base_cell(w, c, kind);
    if (path) {
        p.poff = keep_bytes(w, path, plen);
        p.plen = plen;
    }
    p.voff = keep_bytes(w, v, vlen);
    p.vlen = vlen;
    return store_write_add_cell(w, &p);
}

static int check_size(store_write_t *w, size_t n, const store_column_t *c, char *errstr, size_t errlen) {
    if (n > w->st->opts.max_value_bytes)
        return eddy_err(errstr, errlen, EDDY_ERR_TOO_LARGE, "Value for column %s is %zu bytes, over the limit of %zu bytes",
                        c->name, n, w->st->opts.max_value_bytes);
    return EDDY_OK;
}

/* Elements of a serialized collection/UDT value as cells of a multi-cell column. */
int store_write_elements(store_write_t *w, const store_column_t *c, const uint8_t *p, size_t n, int list_mode) {
    const store_type_t *t = c->type;
    if (t->kind == STORE_T_UDT) {
        eddy_view_t f[1024];
        long nf = store_value_elements(t, p, n, f, EDDY_ARRAY_LEN(f));
        if (nf < 0 || nf > (long)EDDY_ARRAY_LEN(f)) return EDDY_ERR_INVALID;
        for (long i = 0; i < nf && i < t->nsub; i++) {
            uint8_t path[2];
            store_u16(path, (uint16_t)i);
            int rc = f[i].ptr ? add_value(w, c, PC_ELEM, path, 2, f[i].ptr, f[i].len)
                              : add_tomb(w, c, PC_ELEM, w->ts, path, 2);
            if (rc) return rc;
        }
        return EDDY_OK;
    }
    store_coll_rd_t cr;
    int per = t->kind == STORE_T_MAP ? 2 : 1;
    if (store_coll_open(&cr, p, n, per)) return EDDY_ERR_INVALID;
    uint64_t seq = 0;
    if (t->kind == STORE_T_LIST) {
        if (list_mode < 0) {
            /* prepend: a block below every existing element, in the given order */
            uint64_t base = store_list_path_next(w->st, (uint32_t)cr.count + 1);
            seq = 0x8000000000000000ULL - base - (uint64_t)cr.count - 1;
        } else {
            seq = 0x8000000000000000ULL + store_list_path_next(w->st, (uint32_t)cr.count + 1);
        }
    }
    eddy_view_t e, v;
    int r;
    while ((r = store_coll_next(&cr, &e)) == 1) {
        int rc;
        if (t->kind == STORE_T_LIST) {
            uint8_t path[8];
            store_u64(path, seq++);
            rc = add_value(w, c, PC_ELEM, path, 8, e.ptr, e.len);
        } else {
            wr_reset(&w->scratch);
            store_okey_encode(t->sub[0], e.ptr, e.len, false, &w->scratch);
            if (!wr_ok(&w->scratch)) return w->scratch.err;
            if (t->kind == STORE_T_MAP) {
                if (store_coll_next(&cr, &v) != 1) return EDDY_ERR_INVALID;
            } else {
                v = eddy_view((const uint8_t *)"", 0);
            }
            rc = add_value(w, c, PC_ELEM, w->scratch.buf, w->scratch.len, v.ptr, v.len);
        }
        if (rc) return rc;
    }
    return r < 0 ? EDDY_ERR_INVALID : EDDY_OK;
}

int store_write_set(store_write_t *w, int col, const uint8_t *p, size_t n, char *errstr, size_t errlen) {
    const store_column_t *c;
    int rc = check_col(w, col, &c, errstr, errlen);
    if (rc) return rc;
    if (c->type->kind == STORE_T_COUNTER)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                        "Cannot set the value of counter column %s (counters can only be incremented/decremented, not set)",
                        c->name);
    if (p) {
        if ((rc = check_size(w, n, c, errstr, errlen))) return rc;
        if ((rc = store_value_validate(c->type, p, n, errstr, errlen))) return rc;
    }
    wr_t norm = {0};
    if (p && store_type_has_setmap(c->type)) {
        /* sets and maps are stored sorted and de-duplicated, as Cassandra binds them */
        if ((rc = store_value_normalize(c->type, p, n, &norm, 0))) {
            wr_free(&norm);
            return rc;
        }
        p = norm.buf ? norm.buf : (const uint8_t *)"";
        n = norm.len;
    }
    size_t ncells = w->ncells, dlen = w->data.len;
    if (!store_type_is_multicell(c->type)) {
        rc = p ? add_value(w, c, PC_SIMPLE, NULL, 0, p, n) : add_tomb(w, c, PC_SIMPLE, w->ts, NULL, 0);
    } else {
        /* an overwrite: everything older goes (at ts - 1, so that the new cells survive) */
        rc = add_tomb(w, c, PC_CDEL, p ? w->ts - 1 : w->ts, NULL, 0);
        if (rc == EDDY_OK && p) rc = store_write_elements(w, c, p, n, 0);
    }
    wr_free(&norm);
    if (rc) {
        w->ncells = ncells;
        w->data.len = dlen;
        if (rc == EDDY_ERR_INVALID) rc = eddy_err(errstr, errlen, rc, "Invalid value for column %s", c->name);
    }
    return rc;
}

int store_write_counter_add(store_write_t *w, int col, int64_t delta, char *errstr, size_t errlen) {
    const store_column_t *c;
    int rc = check_col(w, col, &c, errstr, errlen);
    if (rc) return rc;
    if (c->type->kind != STORE_T_COUNTER)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid operation (%s = %s + ?) for non counter column %s",
                        c->name, c->name, c->name);
    uint8_t v[8];
    store_u64(v, (uint64_t)delta);
    pcell_t p = base_cell(w, c, PC_SIMPLE);
    p.flags = FRAG_CELL_COUNTER;
    p.ttl = 0;
    p.ldt = 0;
    p.voff = keep_bytes(w, v, 8);
    p.vlen = 8;
    return store_write_add_cell(w, &p);
}

static int check_coll(store_write_t *w, int col, uint16_t kind, const store_column_t **c, char *errstr, size_t errlen) {
    int rc = check_col(w, col, c, errstr, errlen);
    if (rc) return rc;
    const store_type_t *t = (*c)->type;
    if (t->kind != kind || t->frozen) {
        char tb[128];
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid operation for column %s of type %s", (*c)->name,
                        store_type_cstr(t, tb, sizeof tb));
    }
    return EDDY_OK;
}

static int coll_op(store_write_t *w, int col, uint16_t kind, const uint8_t *p, size_t n, int mode, char *errstr,
                   size_t errlen) {
    const store_column_t *c;
    int rc = check_coll(w, col, kind, &c, errstr, errlen);
    if (rc) return rc;
    if ((rc = store_value_validate(c->type, p, n, errstr, errlen))) return rc;
    wr_t norm = {0};
    if (store_type_has_setmap(c->type->sub[kind == STORE_T_MAP ? 1 : 0]) ||
        (kind == STORE_T_MAP && store_type_has_setmap(c->type->sub[0]))) {
        if ((rc = store_value_normalize(c->type, p, n, &norm, 0))) {
            wr_free(&norm);
            return rc;
        }
        p = norm.buf;
        n = norm.len;
    }
    size_t ncells = w->ncells, dlen = w->data.len;
    rc = store_write_elements(w, c, p, n, mode);
    wr_free(&norm);
    if (rc) {
        w->ncells = ncells;
        w->data.len = dlen;
    }
    return rc;
}

int store_write_list_append(store_write_t *w, int col, const uint8_t *list, size_t n, char *errstr, size_t errlen) {
    return coll_op(w, col, STORE_T_LIST, list, n, 1, errstr, errlen);
}
int store_write_list_prepend(store_write_t *w, int col, const uint8_t *list, size_t n, char *errstr, size_t errlen) {
    return coll_op(w, col, STORE_T_LIST, list, n, -1, errstr, errlen);
}
int store_write_set_add(store_write_t *w, int col, const uint8_t *set, size_t n, char *errstr, size_t errlen) {
    return coll_op(w, col, STORE_T_SET, set, n, 0, errstr, errlen);
}
int store_write_map_put(store_write_t *w, int col, const uint8_t *map, size_t n, char *errstr, size_t errlen) {
    return coll_op(w, col, STORE_T_MAP, map, n, 0, errstr, errlen);
}

/* Tombstones for the elements (set) or keys (map) of a serialized set. */
static int remove_keys(store_write_t *w, int col, uint16_t kind, const uint8_t *p, size_t n, char *errstr,
                       size_t errlen) {
    const store_column_t *c;
    int rc = check_coll(w, col, kind, &c, errstr, errlen);
    if (rc) return rc;
    const store_type_t *et = c->type->sub[0];
    store_coll_rd_t cr;
    if (store_coll_open(&cr, p, n, 1)) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid set of keys for %s", c->name);
    eddy_view_t e;
    int r;
    size_t ncells = w->ncells, dlen = w->data.len;
    while ((r = store_coll_next(&cr, &e)) == 1) {
        if (!e.ptr || store_value_validate(et, e.ptr, e.len, errstr, errlen)) {
            r = -1;
            break;
        }
        wr_reset(&w->scratch);
        store_okey_encode(et, e.ptr, e.len, false, &w->scratch);
        if ((rc = add_tomb(w, c, PC_ELEM, w->ts, w->scratch.buf, w->scratch.len))) break;
    }
    if (r < 0 || rc) {
        w->ncells = ncells;
        w->data.len = dlen;
        return rc ? rc : eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid set of keys for column %s", c->name);
    }
    return EDDY_OK;
}

int store_write_set_remove(store_write_t *w, int col, const uint8_t *set, size_t n, char *errstr, size_t errlen) {
    return remove_keys(w, col, STORE_T_SET, set, n, errstr, errlen);
}
int store_write_map_remove(store_write_t *w, int col, const uint8_t *keys, size_t n, char *errstr, size_t errlen) {
    return remove_keys(w, col, STORE_T_MAP, keys, n, errstr, errlen);
}

int store_write_map_set_key(store_write_t *w, int col, const uint8_t *key, size_t klen, const uint8_t *p, size_t n,
                            char *errstr, size_t errlen) {
    const store_column_t *c;
    int rc = check_coll(w, col, STORE_T_MAP, &c, errstr, errlen);
    if (rc) return rc;
    if (!key) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid null map key");
    if ((rc = store_value_validate(c->type->sub[0], key, klen, errstr, errlen))) return rc;
    if (p && (rc = store_value_validate(c->type->sub[1], p, n, errstr, errlen))) return rc;
    wr_reset(&w->scratch);
    store_okey_encode(c->type->sub[0], key, klen, false, &w->scratch);
    if (!wr_ok(&w->scratch)) return w->scratch.err;
    /* the path lives in scratch, which add_* copy before reusing it */
    return p ? add_value(w, c, PC_ELEM, w->scratch.buf, w->scratch.len, p, n)
             : add_tomb(w, c, PC_ELEM, w->ts, w->scratch.buf, w->scratch.len);
}

int store_write_udt_set_field(store_write_t *w, int col, int field, const uint8_t *p, size_t n, char *errstr,
                              size_t errlen) {
    const store_column_t *c;
    int rc = check_coll(w, col, STORE_T_UDT, &c, errstr, errlen);
    if (rc) return rc;
    if (field < 0 || field >= c->type->nsub) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unknown field %d", field);
    if (p && (rc = store_value_validate(c->type->sub[field], p, n, errstr, errlen))) return rc;
    uint8_t path[2];
    store_u16(path, (uint16_t)field);
    return p ? add_value(w, c, PC_ELEM, path, 2, p, n) : add_tomb(w, c, PC_ELEM, w->ts, path, 2);
}

/* ---- deletions ---- */

int store_write_delete_row(store_write_t *w, const store_table_t *t, const eddy_view_t *key, int64_t timestamp_us,
                           char *errstr, size_t errlen) {
    size_t nkey = t->info.npartition + t->info.nclustering;
    int rc = store_write_row(w, t, key, nkey, timestamp_us, 0, 0, errstr, errlen);
    if (rc) return rc;
    w->row_del = true;
    w->del.ts = timestamp_us;
    w->del.ldt = w->now_s;
    return EDDY_OK;
}

static int header_fragment(store_write_t *w, const store_table_t *t, const eddy_view_t *pk, const frag_deletion_t *pdel,
                           const frag_range_t *ranges, size_t nranges, char *errstr, size_t errlen) {
    int rc = store_write_flush_row(w);
    if (rc) return rc;
    size_t mark = w->key.len, pklen;
    int64_t token;
    if ((rc = store_key_build(t, pk, t->info.npartition, &w->key, &pklen, &token, errstr, errlen))) {
        w->key.len = mark;
        return rc;
    }
    wr_reset(&w->frag);
    store_frag_enc_t enc;
    store_frag_enc_start(&enc, &w->frag, pdel ? pdel->ts : ranges[0].del.ts);
    if (pdel) store_frag_enc_deletion(&enc, pdel);
    store_frag_enc_ranges(&enc, ranges, nranges);
    if (!wr_ok(&w->frag)) return w->frag.err;
    store_headers_note(w->st, t->info.id);
    rocksdb_writebatch_merge_cf(w->batch, w->st->cf[CF_PART], (const char *)w->key.buf + mark, pklen,
                                (const char *)w->frag.buf, w->frag.len);
    w->count++;
    return EDDY_OK;
}

int store_write_delete_partition(store_write_t *w, const store_table_t *t, const eddy_view_t *pk, int64_t timestamp_us,
                                 char *errstr, size_t errlen) {
    if (t->info.nclustering == 0) return store_write_delete_row(w, t, pk, timestamp_us, errstr, errlen);
    frag_deletion_t d = {timestamp_us, store_now_s(w->st)};
    return header_fragment(w, t, pk, &d, NULL, 0, errstr, errlen);
}

int store_write_delete_range(store_write_t *w, const store_table_t *t, const eddy_view_t *pk, const store_crange_t *range,
                             int64_t timestamp_us, char *errstr, size_t errlen) {
    if (t->info.nclustering == 0)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Range deletions need clustering columns");
    store_slices_t sl = {0};
    int rc = store_slices_build(t, range, 1, &sl, errstr, errlen);
    if (rc == EDDY_OK && sl.n > 0) {
        frag_range_t *rs = eddy_malloc(sl.n * sizeof *rs);
        if (!rs) rc = EDDY_ERR_NOMEM;
        for (size_t i = 0; rs && i < sl.n; i++) {
            rs[i].lo = eddy_view(sl.bytes.buf + sl.v[i].lo, sl.v[i].lol);
            rs[i].hi = eddy_view(sl.bytes.buf + sl.v[i].hi, sl.v[i].hil);
            rs[i].del.ts = timestamp_us;
            rs[i].del.ldt = store_now_s(w->st);
        }
        if (rs) rc = header_fragment(w, t, pk, NULL, rs, sl.n, errstr, errlen);
        eddy_free(rs);
    }
    store_slices_free(&sl);
    return rc;
}

/* ---- key/value ---- */

int store_write_kv_put(store_write_t *w, const void *key, size_t klen, const void *val, size_t vlen) {
    int rc = store_write_flush_row(w);
    if (rc) return rc;
    rocksdb_writebatch_put_cf(w->batch, w->st->cf[CF_KV], key, klen, val, vlen);
    w->count++;
    return EDDY_OK;
}

int store_write_kv_delete(store_write_t *w, const void *key, size_t klen) {
    int rc = store_write_flush_row(w);
    if (rc) return rc;
    rocksdb_writebatch_delete_cf(w->batch, w->st->cf[CF_KV], key, klen);
    w->count++;
    return EDDY_OK;
}

/* ---- applying ---- */

int store_write_commit(store_write_t *w, store_dur_t dur, char *errstr, size_t errlen) {
    int rc = store_write_flush_row(w);
    if (rc == EDDY_OK) {
        size_t n;
        rocksdb_writebatch_data(w->batch, &n);
        if (n > w->st->opts.max_mutation_bytes)
            rc = eddy_err(errstr, errlen, EDDY_ERR_TOO_LARGE, "Mutation of %zu bytes is too large for the maximum size of %zu",
                          n, w->st->opts.max_mutation_bytes);
    }
    if (rc == EDDY_OK && w->count) {
        rc = store_db_write(w->st, w->batch, dur, errstr, errlen);
        if (rc == EDDY_OK) __atomic_fetch_add(&w->st->n_writes, w->count, __ATOMIC_RELAXED);
    }
    return rc;
}

static int apply(store_write_t *w, store_dur_t dur, char *errstr, size_t errlen) {
    int rc = w->nconds ? eddy_err(errstr, errlen, EDDY_ERR_INVALID, "conditions need store_write_apply_cas")
                       : store_write_commit(w, dur, errstr, errlen);
    store_write_reset(w);
    return rc;
}

int store_write_apply(store_write_t *w, bool durable, char *errstr, size_t errlen) {
    return apply(w, durable ? STORE_DUR_SYNC : STORE_DUR_OS, errstr, errlen);
}

int store_write_submit(store_write_t *w, store_done_fn done, void *arg, char *errstr, size_t errlen) {
    /* the completion's fsync writes the WAL buffer out: no write(2) here */
    int rc = apply(w, STORE_DUR_LATER, errstr, errlen);
    if (rc == EDDY_OK) store_sync_after(w->st, done, arg);
    return rc;
}
