/* Reference counts carried by rows: hidden counter cells under reserved column ids
 * (STORE_REFS_COL_BASE + slot), written blind with a row and summed by the merge operator like
 * Cassandra's counters. No read returns them and they never make a row live (readers skip
 * column ids beyond the table's); a deletion of the row, its range or its partition resets them,
 * because the merge drops every cell a deletion shadows before it sums what is left.
 *
 * The pipelines keep here, per sink row, how many derivations produce it: the count travels in
 * the row's own RocksDB entry, so a sink row costs one entry whatever its producers, and only a
 * retraction reads it (to tell whether another producer still yields the row). */
#include "store/store_int.h"

int store_write_refs(store_write_t *w, uint32_t slot, int64_t delta, char *errstr, size_t errlen) {
    if (!w->row_open || w->row_static_only)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "reference counts need a row (store_write_row)");
    if (slot > STORE_REFS_SLOT_MAX) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "reference count slot %u out of range", slot);
    uint8_t v[8];
    store_u64(v, (uint64_t)delta);
    pcell_t p;
    memset(&p, 0, sizeof p);
    p.col_id = STORE_REFS_COL_BASE + slot;
    p.kind = PC_SIMPLE;
    p.flags = FRAG_CELL_COUNTER;
    p.ts = w->ts;
    p.seq = w->ncells;
    p.voff = w->data.len;
    p.vlen = 8;
    wr_bytes(&w->data, v, 8);
    return store_write_add_cell(w, &p);
}

int store_refs_get(store_t *st, const store_table_t *t, const eddy_view_t *key, uint32_t slot, int64_t *count,
                   char *errstr, size_t errlen) {
    *count = 0;
    if (slot > STORE_REFS_SLOT_MAX) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "reference count slot %u out of range", slot);
    const store_table_info_t *in = &t->info;
    wr_t k, data, part;
    wr_init(&k, 128);
    wr_init(&data, 256);
    wr_init(&part, 0);
    size_t pklen;
    int64_t token;
    store_part_t pc = {0};
    int rc = store_key_build(t, key, in->npartition + in->nclustering, &k, &pklen, &token, errstr, errlen);
    if (rc == EDDY_OK) rc = store_read_raw_row(st, t, k.buf, k.len, pklen, &data, &part, errstr, errlen);
    if (rc == EDDY_OK && part.len) rc = store_part_load(&pc, part.buf, part.len);
    if (rc == EDDY_OK && data.len) {
        /* The deletion that applies: the partition's or a range's, or the row's own. */
        frag_deletion_t del = pc.present ? store_part_row_deletion(&pc, k.buf + pklen, k.len - pklen)
                                         : (frag_deletion_t){STORE_NO_TS, 0};
        frag_t f;
        frag_col_t c;
        int r = 0;
        if (store_frag_open(&f, data.buf, data.len)) rc = EDDY_ERR_CORRUPT;
        if (rc == EDDY_OK && f.del.ts != STORE_NO_TS && (del.ts == STORE_NO_TS || frag_del_supersedes(&f.del, &del)))
            del = f.del;
        while (rc == EDDY_OK && (r = store_frag_col_next(&f, &c)) == 1) {
            if (c.col_id != STORE_REFS_COL_BASE + slot) continue;
            const frag_cell_t *cell = &c.cell;
            if (!(c.flags & FRAG_CELL_COMPLEX) && (cell->flags & FRAG_CELL_COUNTER) && !(cell->flags & FRAG_CELL_TOMB) &&
                cell->value.len == 8 && (del.ts == STORE_NO_TS || cell->ts > del.ts))
                *count = ld_i64(cell->value.ptr);
            break;
        }
        if (rc == EDDY_OK && r < 0) rc = EDDY_ERR_CORRUPT;
        if (rc == EDDY_ERR_CORRUPT) rc = eddy_err(errstr, errlen, rc, "corrupt row in table %s", in->name);
    }
    store_part_free(&pc);
    wr_free(&k);
    wr_free(&data);
    wr_free(&part);
    return rc;
}
