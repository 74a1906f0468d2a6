/* Materializing rows: from a key and the merged fragments of a row and of its partition header
 * to the cells a reader sees, applying deletions (row, range, partition, complex), TTL expiry,
 * and assembling non-frozen collections and UDTs back into their serialized form. */
#include <stdlib.h>

#include "store/store_int.h"

/* ---- partition context ---- */

void store_part_clear(store_part_t *p) {
    wr_reset(&p->value);
    p->present = false;
    p->pdel.ts = STORE_NO_TS;
    p->pdel.ldt = 0;
    p->nranges = 0;
}

void store_part_free(store_part_t *p) {
    wr_free(&p->value);
    eddy_free(p->ranges);
    memset(p, 0, sizeof *p);
}

int store_part_load(store_part_t *p, const uint8_t *v, size_t n) {
    store_part_clear(p);
    wr_bytes(&p->value, v, n);
    if (!wr_ok(&p->value)) return p->value.err;
    p->present = true;
    frag_t f;
    if (store_frag_open(&f, p->value.buf, p->value.len)) return EDDY_ERR_CORRUPT;
    p->pdel = f.del;
    if (f.nranges > p->rcap) {
        frag_range_t *r = eddy_realloc(p->ranges, f.nranges * sizeof *r);
        if (!r) return EDDY_ERR_NOMEM;
        p->ranges = r;
        p->rcap = f.nranges;
    }
    frag_range_t r;
    int rc;
    while ((rc = store_frag_range_next(&f, &r)) == 1) p->ranges[p->nranges++] = r;
    return rc < 0 ? rc : EDDY_OK;
}

frag_deletion_t store_part_row_deletion(const store_part_t *p, const uint8_t *k, size_t n) {
    frag_deletion_t d = p->pdel;
    for (size_t i = 0; i < p->nranges; i++) {
        const frag_range_t *r = &p->ranges[i];
        if (store_bytes_cmp(r->lo.ptr, r->lo.len, k, n) <= 0 && store_bytes_cmp(k, n, r->hi.ptr, r->hi.len) < 0 &&
            (d.ts == STORE_NO_TS || frag_del_supersedes(&r->del, &d)))
            d = r->del;
    }
    return d;
}

/* ---- rows ---- */

void store_rowmat_init(store_rowmat_t *m) { memset(m, 0, sizeof *m); }

void store_rowmat_free(store_rowmat_t *m) {
    wr_free(&m->buf);
    eddy_free(m->off);
    eddy_free(m->cells);
    eddy_free(m->set);
    memset(m, 0, sizeof *m);
}

int store_rowmat_reset(store_rowmat_t *m, size_t ncols) {
    if (ncols > m->cap) {
        size_t *o = eddy_realloc(m->off, ncols * sizeof *o);
        if (o) m->off = o;
        store_cell_t *c = eddy_realloc(m->cells, ncols * sizeof *c);
        if (c) m->cells = c;
        uint8_t *s = eddy_realloc(m->set, ncols * sizeof *s);
        if (s) m->set = s;
        if (!o || !c || !s) return EDDY_ERR_NOMEM;
        m->cap = ncols;
    }
    m->ncols = ncols;
    wr_reset(&m->buf);
    for (size_t i = 0; i < ncols; i++) {
        m->cells[i].ptr = NULL;
        m->cells[i].len = 0;
        m->cells[i].writetime = INT64_MIN;
        m->cells[i].ttl = 0;
        m->set[i] = 0;
    }
    return EDDY_OK;
}

int store_rowmat_keys(store_rowmat_t *m, const store_table_t *t, const uint8_t *k, size_t klen, int64_t *token) {
    size_t offs[64], lens[64], n;
    size_t nk = t->info.npartition + t->info.nclustering;
    if (nk > 64) return EDDY_ERR_UNSUPPORTED;
    int rc = store_key_decode(t, k, klen, token, &m->buf, offs, lens, &n);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        m->off[i] = offs[i];
        m->cells[i].len = lens[i];
        m->set[i] = 1;
    }
    return EDDY_OK;
}

static bool cell_live(const frag_cell_t *c, const frag_deletion_t *del, int64_t now_s) {
    if (c->flags & FRAG_CELL_TOMB) return false;
    if (del->ts != STORE_NO_TS && c->ts <= del->ts) return false;
    if ((c->flags & FRAG_CELL_EXPIRING) && c->ldt <= now_s) return false;
    return true;
}

/* Assembles the live elements of a multi-cell column into its serialized value. */
static int assemble(store_rowmat_t *m, const store_type_t *t, frag_t *f, frag_col_t *c, const frag_deletion_t *del,
                    int64_t now_s, bool *any) {
    frag_deletion_t eff = *del;
    if (c->cdel.ts != STORE_NO_TS && (eff.ts == STORE_NO_TS || c->cdel.ts > eff.ts)) eff = c->cdel;
    size_t start = m->buf.len;
    *any = false;
    frag_cell_t e;
    int rc;
    if (t->kind == STORE_T_UDT) {
        /* fields by index; absent ones are null */
        int16_t next = 0;
        while ((rc = store_frag_elem_next(f, c, &e)) == 1) {
            if (!cell_live(&e, &eff, now_s) || e.path.len != 2) continue;
            int16_t idx = (int16_t)load_u16(e.path.ptr);
            if (idx >= (int16_t)t->nsub) continue;
            for (; next < idx; next++) wr_i32(&m->buf, -1);
            store_wr_value(&m->buf, e.value.ptr ? e.value.ptr : (const uint8_t *)"", e.value.len);
            next = (int16_t)(idx + 1);
            *any = true;
        }
        for (; *any && next < (int16_t)t->nsub; next++) wr_i32(&m->buf, -1);
        if (rc < 0) return rc;
        if (!*any) m->buf.len = start;
        return wr_ok(&m->buf) ? EDDY_OK : m->buf.err;
    }
    size_t count_at = m->buf.len;
    /* room for the usual case up front: elements rarely grow when assembled */
    if (!wr_room(&m->buf, 4 + c->elems.len + 64)) return m->buf.err;
    wr_u32(&m->buf, 0);
    uint32_t count = 0;
    while ((rc = store_frag_elem_next(f, c, &e)) == 1) {
        if (!cell_live(&e, &eff, now_s)) continue;
        if (t->kind == STORE_T_LIST) {
            uint8_t *o = wr_room(&m->buf, 4 + e.value.len);
            if (!o) return m->buf.err;
            store_u32(o, (uint32_t)e.value.len);
            if (e.value.len) memcpy(o + 4, e.value.ptr, e.value.len);
            wr_advance(&m->buf, 4 + e.value.len);
        } else {
            size_t len_at = m->buf.len;
            wr_u32(&m->buf, 0);
            rd_t r = rd_init(e.path.ptr, e.path.len);
            bool is_null;
            if (store_okey_decode(t->sub[0], &r, false, &m->buf, &is_null)) return EDDY_ERR_CORRUPT;
            wr_patch_u32(&m->buf, len_at, (uint32_t)(m->buf.len - len_at - 4));
            if (t->kind == STORE_T_MAP) store_wr_value(&m->buf, e.value.ptr ? e.value.ptr : (const uint8_t *)"", e.value.len);
        }
        count++;
    }
    if (rc < 0) return rc;
    if (count == 0) {
        /* an empty collection reads as null */
        m->buf.len = start;
        return EDDY_OK;
    }
    wr_patch_u32(&m->buf, count_at, count);
    *any = true;
    return wr_ok(&m->buf) ? EDDY_OK : m->buf.err;
}

int store_rowmat_frag(store_rowmat_t *m, const store_table_t *t, const uint8_t *v, size_t n, const frag_deletion_t *del,
                      int64_t now_s, bool *live) {
    frag_t f;
    *live = false;
    if (store_frag_open(&f, v, n)) return EDDY_ERR_CORRUPT;
    frag_deletion_t eff = *del;
    if (f.del.ts != STORE_NO_TS && (eff.ts == STORE_NO_TS || frag_del_supersedes(&f.del, &eff))) eff = f.del;
    if (f.live.ts != STORE_NO_TS && (eff.ts == STORE_NO_TS || f.live.ts > eff.ts) && (!f.live.ttl || f.live.ldt > now_s))
        *live = true;
    frag_col_t c;
    int rc;
    while ((rc = store_frag_col_next(&f, &c)) == 1) {
        if (c.col_id >= t->nids) continue;
        int idx = t->index_of_id[c.col_id];
        if (idx < 0) continue; /* a dropped column */
        const store_column_t *col = &t->info.columns[idx];
        store_cell_t *cell = &m->cells[idx];
        if (m->want && !m->want[idx]) {
            /* not wanted: it still decides whether the row lives */
            if (!*live) {
                if (c.flags & FRAG_CELL_COMPLEX) {
                    frag_deletion_t ce = eff;
                    if (c.cdel.ts != STORE_NO_TS && (ce.ts == STORE_NO_TS || c.cdel.ts > ce.ts)) ce = c.cdel;
                    frag_cell_t e;
                    while (!*live && store_frag_elem_next(&f, &c, &e) == 1) *live = cell_live(&e, &ce, now_s);
                } else {
                    *live = cell_live(&c.cell, &eff, now_s);
                }
            }
            continue;
        }
        if (c.flags & FRAG_CELL_COMPLEX) {
            if (!store_type_is_multicell(col->type)) continue;
            size_t at = m->buf.len;
            bool any;
            if ((rc = assemble(m, col->type, &f, &c, &eff, now_s, &any))) return rc;
            if (any) {
                m->off[idx] = at;
                cell->len = m->buf.len - at;
                cell->writetime = INT64_MIN;
                m->set[idx] = 1;
                *live = true;
            }
            continue;
        }
        if (!cell_live(&c.cell, &eff, now_s)) continue;
        if (m->zero_copy) {
            cell->ptr = c.cell.value.ptr ? c.cell.value.ptr : (const uint8_t *)"";
            m->set[idx] = 2;
        } else {
            m->off[idx] = m->buf.len;
            wr_bytes(&m->buf, c.cell.value.ptr, c.cell.value.len);
            m->set[idx] = 1;
        }
        cell->len = c.cell.value.len;
        cell->writetime = c.cell.ts;
        cell->ttl = (c.cell.flags & FRAG_CELL_EXPIRING) ? (int32_t)(c.cell.ldt - now_s) : 0;
        *live = true;
    }
    if (rc < 0) return rc;
    return wr_ok(&m->buf) ? EDDY_OK : m->buf.err;
}

void store_rowmat_finish(store_rowmat_t *m) {
    for (size_t i = 0; i < m->ncols; i++) {
        if (m->set[i] == 1) m->cells[i].ptr = m->buf.buf ? m->buf.buf + m->off[i] : (const uint8_t *)"";
        else if (m->set[i] == 0) {
            m->cells[i].ptr = NULL;
            m->cells[i].len = 0;
            m->cells[i].writetime = INT64_MIN;
            m->cells[i].ttl = 0;
        }
    }
}

/* ---- JSON rows ---- */

void store_row_to_json(const store_row_t *row, const int *cols, size_t ncols, wr_t *w) {
    const store_table_info_t *in = &row->table->info;
    wr_u8(w, '{');
    for (size_t i = 0; i < ncols; i++) {
        int c = cols[i];
        if (c < 0 || (size_t)c >= in->ncolumns) continue;
        if (i) wr_str(w, ", ");
        store_json_write_name(w, in->columns[c].name);
        wr_str(w, ": ");
        store_value_to_json(in->columns[c].type, row->cells[c].ptr, row->cells[c].len, w);
    }
    wr_u8(w, '}');
}
