/* The row fragment: how a row (or a partition header: partition deletion, range tombstones and
 * static cells) is stored as a RocksDB value, and its merge. Every write is a RocksDB merge
 * operand holding a fragment; the merge operator reconciles fragments exactly as Cassandra
 * reconciles cells (Cells.reconcile, LivenessInfo.supersedes, DeletionTime), so writes are blind
 * (no read before write) and last-write-wins holds whatever order operands meet in.
 *
 * Layout (varints are base's LEB128, zz = zigzag, timestamps relative to base_ts):
 *   u8 flags (HAS_LIVENESS 1, HAS_DELETION 2, HAS_RANGES 4, MORTAL 8)   zz base_ts
 *   [liveness  zz ts, uv ttl, uv ldt if ttl]
 *   [deletion  zz ts, uv ldt]
 *   [ranges    uv n, n x (uv len lo, uv len hi, zz ts, uv ldt)]
 *   columns by increasing id:
 *     uv col_id, u8 cflags
 *     simple:   zz ts, [uv ttl, uv ldt if EXPIRING], [uv ldt if TOMB], [uv len, value unless TOMB]
 *     complex:  [zz ts, uv ldt if CDEL], uv byte length of the elements, then the elements by
 *               increasing path: uv path length, path, u8 eflags, then as a simple cell.
 * ldt is the local deletion time in seconds: when a tombstone was written or an expiring cell
 * expires. */
#include "store/store_int.h"

/* ---- decoding ---- */

static inline int64_t rd_zz_ts(rd_t *r, int64_t base) { return (int64_t)((uint64_t)base + (uint64_t)frd_zz64(r)); }

int store_frag_open(frag_t *f, const uint8_t *p, size_t n) {
    memset(f, 0, sizeof *f);
    f->live.ts = STORE_NO_TS;
    f->del.ts = STORE_NO_TS;
    rd_t r = rd_init(p, n);
    if (n == 0) {
        f->cols = r;
        return EDDY_OK;
    }
    f->flags = frd_u8(&r);
    f->base_ts = frd_zz64(&r);
    if (f->flags & FRAG_HAS_LIVENESS) {
        f->live.ts = rd_zz_ts(&r, f->base_ts);
        f->live.ttl = frd_uv32(&r);
        if (f->live.ttl) f->live.ldt = (int64_t)frd_uv64(&r);
    }
    if (f->flags & FRAG_HAS_DELETION) {
        f->del.ts = rd_zz_ts(&r, f->base_ts);
        f->del.ldt = (int64_t)frd_uv64(&r);
    }
    if (f->flags & FRAG_HAS_RANGES) {
        f->nranges = frd_uv32(&r);
        f->ranges = r;
        for (uint32_t i = 0; i < f->nranges && rd_ok(&r); i++) {
            frd_view(&r, frd_uv32(&r));
            frd_view(&r, frd_uv32(&r));
            frd_zz64(&r);
            frd_uv64(&r);
        }
    }
    if (!rd_ok(&r) || (f->flags & ~15u)) return EDDY_ERR_CORRUPT;
    f->cols = r;
    return EDDY_OK;
}

int store_frag_range_next(frag_t *f, frag_range_t *out) {
    if (f->nranges == 0) return 0;
    rd_t *r = &f->ranges;
    uint32_t l = frd_uv32(r);
    out->lo = frd_view(r, l);
    l = frd_uv32(r);
    out->hi = frd_view(r, l);
    out->del.ts = rd_zz_ts(r, f->base_ts);
    out->del.ldt = (int64_t)frd_uv64(r);
    f->nranges--;
    return rd_ok(r) ? 1 : EDDY_ERR_CORRUPT;
}

static void read_cell_body(rd_t *r, int64_t base, frag_cell_t *c) {
    c->ts = rd_zz_ts(r, base);
    c->ttl = 0;
    c->ldt = 0;
    if (c->flags & FRAG_CELL_EXPIRING) {
        c->ttl = frd_uv32(r);
        c->ldt = (int64_t)frd_uv64(r);
    }
    if (c->flags & FRAG_CELL_TOMB) {
        c->ldt = (int64_t)frd_uv64(r);
        c->value = eddy_view(NULL, 0);
    } else {
        uint32_t vl = frd_uv32(r);
        c->value = frd_view(r, vl);
    }
}

int store_frag_elem_next(frag_t *f, frag_col_t *c, frag_cell_t *e) {
    rd_t *r = &c->elems;
    if (r->err) return EDDY_ERR_CORRUPT;
    if (r->pos >= r->len) return 0;
    uint32_t pl = frd_uv32(r);
    e->path = frd_view(r, pl);
    e->flags = frd_u8(r);
    read_cell_body(r, f->base_ts, e);
    return r->err ? EDDY_ERR_CORRUPT : 1;
}

/* Unchecked varint: only where at least 10 bytes are known to remain. */
static inline uint64_t uv_unchecked(const uint8_t **pp) {
    const uint8_t *p = *pp;
    uint64_t v = p[0] & 0x7F;
    if (p[0] < 0x80) {
        *pp = p + 1;
        return v;
    }
    int shift = 7, i = 1;
    for (; i < 10; i++, shift += 7) {
        v |= (uint64_t)(p[i] & 0x7F) << shift;
        if (p[i] < 0x80) break;
    }
    *pp = p + (i < 10 ? i + 1 : 10);
    return v;
}

/* The common simple cell (no TTL, not a tombstone) when its header surely fits: three varints
 * and a flag byte read without per-byte bounds checks. Returns false to take the checked way. */
static inline bool col_fast(frag_t *f, frag_col_t *c) {
    rd_t *r = &f->cols;
    if (r->len - r->pos < 32) return false;
    const uint8_t *p = r->ptr + r->pos;
    uint64_t id = uv_unchecked(&p);
    uint8_t flags = *p++;
    if (id > UINT32_MAX || (flags & ~(uint8_t)FRAG_CELL_COUNTER)) return false; /* complex, TTL, tombstone */
    uint64_t zz = uv_unchecked(&p);
    uint64_t vl = uv_unchecked(&p);
    size_t used = (size_t)(p - (r->ptr + r->pos));
    if (vl > r->len - r->pos - used) return false;
    c->col_id = (uint32_t)id;
    c->flags = flags;
    c->cdel.ts = STORE_NO_TS;
    c->cdel.ldt = 0;
    c->cell.flags = flags;
    c->cell.path = eddy_view(NULL, 0);
    c->cell.ts = (int64_t)((uint64_t)f->base_ts + (uint64_t)((int64_t)(zz >> 1) ^ -(int64_t)(zz & 1)));
    c->cell.ttl = 0;
    c->cell.ldt = 0;
    c->cell.value = eddy_view(p, (size_t)vl);
    r->pos += used + (size_t)vl;
    return true;
}

int store_frag_col_next(frag_t *f, frag_col_t *c) {
    rd_t *r = &f->cols;
    if (!rd_ok(r)) return EDDY_ERR_CORRUPT;
    if (rd_remaining(r) == 0) return 0;
    if (col_fast(f, c)) return 1;
    c->col_id = frd_uv32(r);
    c->flags = frd_u8(r);
    c->cdel.ts = STORE_NO_TS;
    c->cdel.ldt = 0;
    if (c->flags & FRAG_CELL_COMPLEX) {
        if (c->flags & FRAG_CELL_CDEL) {
            c->cdel.ts = rd_zz_ts(r, f->base_ts);
            c->cdel.ldt = (int64_t)frd_uv64(r);
        }
        /* the elements' block: a reader of its own, skipped here in one step */
        uint32_t bl = frd_uv32(r);
        eddy_view_t block = frd_view(r, bl);
        c->elems = rd_init(block.ptr, block.len);
        if (r->err) c->elems.err = EDDY_ERR_CORRUPT;
    } else {
        c->cell.flags = c->flags;
        c->cell.path = eddy_view(NULL, 0);
        read_cell_body(r, f->base_ts, &c->cell);
    }
    return rd_ok(r) ? 1 : EDDY_ERR_CORRUPT;
}

/* ---- encoding ---- */

static inline void wr_zz_ts(wr_t *w, int64_t ts, int64_t base) { wr_varint(w, (int64_t)((uint64_t)ts - (uint64_t)base)); }

void store_frag_enc_start(store_frag_enc_t *e, wr_t *w, int64_t base_ts) {
    e->w = w;
    e->start = w->len;
    e->base_ts = base_ts;
    e->flags = 0;
    e->flags_at = w->len;
    wr_u8(w, 0);
    wr_varint(w, base_ts);
}

static void set_flag(store_frag_enc_t *e, uint8_t f) {
    e->flags |= f;
    if (wr_ok(e->w)) e->w->buf[e->flags_at] = e->flags;
}

void store_frag_enc_liveness(store_frag_enc_t *e, const frag_liveness_t *l) {
    set_flag(e, (uint8_t)(FRAG_HAS_LIVENESS | (l->ttl ? FRAG_MORTAL : 0)));
    wr_zz_ts(e->w, l->ts, e->base_ts);
    wr_uvarint(e->w, l->ttl);
    if (l->ttl) wr_uvarint(e->w, (uint64_t)l->ldt);
}

void store_frag_enc_deletion(store_frag_enc_t *e, const frag_deletion_t *d) {
    set_flag(e, FRAG_HAS_DELETION | FRAG_MORTAL);
    wr_zz_ts(e->w, d->ts, e->base_ts);
    wr_uvarint(e->w, (uint64_t)d->ldt);
}

void store_frag_enc_ranges(store_frag_enc_t *e, const frag_range_t *r, size_t n) {
    if (n == 0) return;
    set_flag(e, FRAG_HAS_RANGES | FRAG_MORTAL);
    wr_uvarint(e->w, n);
    for (size_t i = 0; i < n; i++) {
        wr_uvarint(e->w, r[i].lo.len);
        wr_bytes(e->w, r[i].lo.ptr, r[i].lo.len);
        wr_uvarint(e->w, r[i].hi.len);
        wr_bytes(e->w, r[i].hi.ptr, r[i].hi.len);
        wr_zz_ts(e->w, r[i].del.ts, e->base_ts);
        wr_uvarint(e->w, (uint64_t)r[i].del.ldt);
    }
}

/* Inline encoding into reserved space: one reserve per cell instead of one call per byte. */
static inline uint8_t *put_uv(uint8_t *o, uint64_t v) {
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}
static inline uint8_t *put_zz_ts(uint8_t *o, int64_t ts, int64_t base) {
    int64_t d = (int64_t)((uint64_t)ts - (uint64_t)base);
    return put_uv(o, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
}

/* Writes [head bytes][cell body]: head is the column id and flags, or the path and flags. */
static void write_cell(store_frag_enc_t *e, uint64_t id_or_pathlen, const eddy_view_t *path, uint8_t flags,
                       const frag_cell_t *c) {
    if (c->flags & (FRAG_CELL_TOMB | FRAG_CELL_EXPIRING)) set_flag(e, FRAG_MORTAL);
    size_t vlen = (c->flags & FRAG_CELL_TOMB) ? 0 : c->value.len;
    size_t plen = path ? path->len : 0;
    uint8_t *start = wr_reserve(e->w, 10 + plen + 1 + 10 + 20 + 10 + vlen);
    if (!start) return;
    uint8_t *o = put_uv(start, id_or_pathlen);
    if (plen) {
        memcpy(o, path->ptr, plen);
        o += plen;
    }
    *o++ = flags;
    o = put_zz_ts(o, c->ts, e->base_ts);
    if (c->flags & FRAG_CELL_EXPIRING) {
        o = put_uv(o, c->ttl);
        o = put_uv(o, (uint64_t)c->ldt);
    }
    if (c->flags & FRAG_CELL_TOMB) {
        o = put_uv(o, (uint64_t)c->ldt);
    } else {
        o = put_uv(o, vlen);
        if (vlen) memcpy(o, c->value.ptr, vlen);
        o += vlen;
    }
    wr_advance(e->w, (size_t)(o - start));
}

void store_frag_enc_cell(store_frag_enc_t *e, uint32_t col_id, const frag_cell_t *c) {
    write_cell(e, col_id, NULL, c->flags & (FRAG_CELL_TOMB | FRAG_CELL_EXPIRING | FRAG_CELL_COUNTER), c);
}

void store_frag_enc_complex_begin(store_frag_enc_t *e, uint32_t col_id, const frag_deletion_t *cdel) {
    wr_uvarint(e->w, col_id);
    bool has = cdel && cdel->ts != STORE_NO_TS;
    wr_u8(e->w, (uint8_t)(FRAG_CELL_COMPLEX | (has ? FRAG_CELL_CDEL : 0)));
    if (has) {
        set_flag(e, FRAG_MORTAL);
        wr_zz_ts(e->w, cdel->ts, e->base_ts);
        wr_uvarint(e->w, (uint64_t)cdel->ldt);
    }
    e->nelems_at = e->w->len; /* the block's length goes here once known */
}

void store_frag_enc_elem(store_frag_enc_t *e, const frag_cell_t *c) {
    write_cell(e, c->path.len, &c->path, c->flags & (FRAG_CELL_TOMB | FRAG_CELL_EXPIRING | FRAG_CELL_COUNTER), c);
}

void store_frag_enc_complex_end(store_frag_enc_t *e) {
    wr_t *w = e->w;
    if (!wr_ok(w)) return;
    size_t len = w->len - e->nelems_at;
    size_t vs = varint_size_unsigned(len);
    if (!wr_reserve(w, vs)) return;
    memmove(w->buf + e->nelems_at + vs, w->buf + e->nelems_at, len);
    size_t end = w->len + vs;
    w->len = e->nelems_at;
    wr_uvarint(w, len);
    w->len = end;
}

/* ---- reconciliation ---- */

int store_frag_cell_wins(const frag_cell_t *a, const frag_cell_t *b) {
    if (a->ts != b->ts) return a->ts > b->ts;
    bool a_del = a->flags & (FRAG_CELL_TOMB | FRAG_CELL_EXPIRING), b_del = b->flags & (FRAG_CELL_TOMB | FRAG_CELL_EXPIRING);
    if (a_del || b_del) {
        /* tombstones and expiring cells beat live cells of the same timestamp (CASSANDRA-14592) */
        if (a_del != b_del) return a_del;
        bool a_tomb = !(a->flags & FRAG_CELL_EXPIRING), b_tomb = !(b->flags & FRAG_CELL_EXPIRING);
        if (a_tomb != b_tomb) return a_tomb;
        if (a->ldt != b->ldt) return a->ldt > b->ldt;
    }
    return store_bytes_cmp(a->value.ptr, a->value.len, b->value.ptr, b->value.len) >= 0;
}

bool store_frag_liveness_supersedes(const frag_liveness_t *a, const frag_liveness_t *b) {
    if (a->ts != b->ts) return a->ts > b->ts;
    bool ae = a->ttl != 0, be = b->ttl != 0;
    if (ae == be) return ae ? a->ldt > b->ldt : false;
    return ae;
}

/* Counter cells: a tombstone always wins; live ones add up. */
static void counter_merge(const frag_cell_t *a, const frag_cell_t *b, frag_cell_t *out, uint8_t sum[8]) {
    bool at = a->flags & FRAG_CELL_TOMB, bt = b->flags & FRAG_CELL_TOMB;
    if (at || bt) {
        *out = at && bt ? (store_frag_cell_wins(a, b) ? *a : *b) : at ? *a : *b;
        return;
    }
    if (a->value.len != 8 || b->value.len != 8) {
        *out = a->value.len == 8 ? *a : *b;
        return;
    }
    store_u64(sum, (uint64_t)ld_i64(a->value.ptr) + (uint64_t)ld_i64(b->value.ptr));
    *out = *a;
    out->ts = a->ts > b->ts ? a->ts : b->ts;
    out->value = eddy_view(sum, 8);
}

static void resolve(const frag_cell_t *a, const frag_cell_t *b, frag_cell_t *out, uint8_t sum[8]) {
    if ((a->flags | b->flags) & FRAG_CELL_COUNTER) counter_merge(a, b, out, sum);
    else *out = store_frag_cell_wins(a, b) ? *a : *b;
}

/* Range tombstones of both sides, de-duplicated (same bounds keep the superseding deletion). */
static int merge_ranges(frag_t *fa, frag_t *fb, frag_range_t **out, size_t *n) {
    size_t total = fa->nranges + fb->nranges;
    *n = 0;
    *out = NULL;
    if (total == 0) return EDDY_OK;
    frag_range_t *r = eddy_malloc(total * sizeof *r);
    if (!r) return EDDY_ERR_NOMEM;
    frag_t *fs[2] = {fa, fb};
    for (int s = 0; s < 2; s++) {
        frag_range_t x;
        int rc;
        while ((rc = store_frag_range_next(fs[s], &x)) == 1) {
            size_t i;
            for (i = 0; i < *n; i++)
                if (eddy_view_eq(r[i].lo, x.lo) && eddy_view_eq(r[i].hi, x.hi)) break;
            if (i < *n) {
                if (frag_del_supersedes(&x.del, &r[i].del)) r[i].del = x.del;
            } else {
                r[(*n)++] = x;
            }
        }
        if (rc < 0) {
            eddy_free(r);
            return rc;
        }
    }
    *out = r;
    return EDDY_OK;
}

static bool deleted_by(int64_t ts, const frag_deletion_t *d) { return d->ts != STORE_NO_TS && ts <= d->ts; }

static int merge_complex(store_frag_enc_t *enc, frag_t *fa, frag_col_t *ca, frag_t *fb, frag_col_t *cb,
                         const frag_deletion_t *rowdel) {
    frag_deletion_t cdel = ca->cdel;
    if (frag_del_supersedes(&cb->cdel, &cdel)) cdel = cb->cdel;
    if (deleted_by(cdel.ts, rowdel)) cdel.ts = STORE_NO_TS;
    store_frag_enc_complex_begin(enc, ca->col_id, &cdel);
    frag_cell_t ea, eb;
    int ra = store_frag_elem_next(fa, ca, &ea), rb = store_frag_elem_next(fb, cb, &eb);
    uint8_t sum[8];
    while (ra == 1 || rb == 1) {
        int c = ra != 1 ? 1 : rb != 1 ? -1 : store_bytes_cmp(ea.path.ptr, ea.path.len, eb.path.ptr, eb.path.len);
        frag_cell_t out;
        if (c < 0) out = ea;
        else if (c > 0) out = eb;
        else resolve(&ea, &eb, &out, sum);
        if (!deleted_by(out.ts, rowdel) && !deleted_by(out.ts, &cdel)) store_frag_enc_elem(enc, &out);
        if (c <= 0) ra = store_frag_elem_next(fa, ca, &ea);
        if (c >= 0) rb = store_frag_elem_next(fb, cb, &eb);
    }
    if (ra < 0 || rb < 0) return EDDY_ERR_CORRUPT;
    store_frag_enc_complex_end(enc);
    return EDDY_OK;
}

/* Writes one side's complex column alone (filtered by the row deletion). */
static int copy_complex(store_frag_enc_t *enc, frag_t *f, frag_col_t *c, const frag_deletion_t *rowdel) {
    frag_col_t none = {.col_id = c->col_id, .cdel = {STORE_NO_TS, 0}};
    none.elems = rd_init(NULL, 0);
    frag_t nf = {0};
    return merge_complex(enc, f, c, &nf, &none, rowdel);
}

int store_frag_merge(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, wr_t *out) {
    frag_t fa, fb;
    if (store_frag_open(&fa, a, alen) || store_frag_open(&fb, b, blen)) return EDDY_ERR_CORRUPT;
    frag_liveness_t live = fa.live;
    if (fb.live.ts != STORE_NO_TS && (live.ts == STORE_NO_TS || store_frag_liveness_supersedes(&fb.live, &live))) live = fb.live;
    frag_deletion_t del = fa.del;
    if (fb.del.ts != STORE_NO_TS && (del.ts == STORE_NO_TS || frag_del_supersedes(&fb.del, &del))) del = fb.del;
    if (deleted_by(live.ts, &del)) live.ts = STORE_NO_TS;
    frag_range_t *ranges;
    size_t nranges;
    int rc = merge_ranges(&fa, &fb, &ranges, &nranges);
    if (rc) return rc;
    store_frag_enc_t enc;
    store_frag_enc_start(&enc, out, alen ? fa.base_ts : fb.base_ts);
    if (live.ts != STORE_NO_TS) store_frag_enc_liveness(&enc, &live);
    if (del.ts != STORE_NO_TS) store_frag_enc_deletion(&enc, &del);
    store_frag_enc_ranges(&enc, ranges, nranges);
    eddy_free(ranges);
    frag_col_t ca, cb;
    int ra = store_frag_col_next(&fa, &ca), rb = store_frag_col_next(&fb, &cb);
    uint8_t sum[8];
    while ((ra == 1 || rb == 1) && rc == EDDY_OK) {
        int c = ra != 1 ? 1 : rb != 1 ? -1 : (ca.col_id < cb.col_id ? -1 : ca.col_id > cb.col_id);
        bool ac = ra == 1 && (ca.flags & FRAG_CELL_COMPLEX), bc = rb == 1 && (cb.flags & FRAG_CELL_COMPLEX);
        if (c == 0 && ac && bc) {
            rc = merge_complex(&enc, &fa, &ca, &fb, &cb, &del);
        } else if (c == 0 && !ac && !bc) {
            frag_cell_t o;
            bool da = deleted_by(ca.cell.ts, &del), db = deleted_by(cb.cell.ts, &del);
            if (((ca.cell.flags | cb.cell.flags) & FRAG_CELL_COUNTER) && da != db) {
                /* A counter sums only what the deletion leaves: a deletion that came with the
                 * newer side (delete, then count again) must not let the older sum through. */
                o = da ? cb.cell : ca.cell;
            } else {
                resolve(&ca.cell, &cb.cell, &o, sum);
            }
            if (!deleted_by(o.ts, &del)) store_frag_enc_cell(&enc, ca.col_id, &o);
        } else {
            /* one side only (or a simple/complex mismatch: the later side wins) */
            frag_t *f = c < 0 ? &fa : &fb;
            frag_col_t *col = c < 0 ? &ca : &cb;
            if (col->flags & FRAG_CELL_COMPLEX) rc = copy_complex(&enc, f, col, &del);
            else if (!deleted_by(col->cell.ts, &del)) store_frag_enc_cell(&enc, col->col_id, &col->cell);
        }
        if (c <= 0) ra = store_frag_col_next(&fa, &ca);
        if (c >= 0) rb = store_frag_col_next(&fb, &cb);
    }
    if (rc == EDDY_OK && (ra < 0 || rb < 0)) rc = EDDY_ERR_CORRUPT;
    if (rc == EDDY_OK && !wr_ok(out)) rc = out->err;
    return rc;
}

/* ---- purging (compaction filter) ---- */

/* A cell after gc: 0 keep as is, 1 drop, 2 keep converted to a tombstone (*c updated). */
static int purge_cell(frag_cell_t *c, int64_t now_s, int64_t gc_before) {
    if (c->flags & FRAG_CELL_TOMB) return c->ldt < gc_before ? 1 : 0;
    if ((c->flags & FRAG_CELL_EXPIRING) && c->ldt <= now_s) {
        if (c->ldt < gc_before) return 1;
        c->flags = FRAG_CELL_TOMB;
        c->ldt = c->ldt - c->ttl;
        c->ttl = 0;
        c->value = eddy_view(NULL, 0);
        return 2;
    }
    return 0;
}

int store_frag_purge(const uint8_t *p, size_t n, int64_t now_s, int64_t gc_grace_s,
               bool (*keep)(void *, uint32_t, int64_t), void *keep_arg, wr_t *out, bool *empty, bool *changed) {
    frag_t f;
    *empty = false;
    *changed = false;
    if (store_frag_open(&f, p, n)) return EDDY_ERR_CORRUPT;
    if (!(f.flags & FRAG_MORTAL) && !keep) return EDDY_OK; /* nothing can expire or be purged */
    int64_t gc_before = now_s - gc_grace_s;
    bool any = false;
    store_frag_enc_t enc;
    store_frag_enc_start(&enc, out, f.base_ts);
    frag_liveness_t live = f.live;
    if (live.ts != STORE_NO_TS && live.ttl && live.ldt <= now_s && live.ldt < gc_before) {
        live.ts = STORE_NO_TS;
        *changed = true;
    }
    if (live.ts != STORE_NO_TS) {
        store_frag_enc_liveness(&enc, &live);
        any = true;
    }
    if (f.del.ts != STORE_NO_TS) {
        if (f.del.ldt < gc_before) *changed = true;
        else {
            store_frag_enc_deletion(&enc, &f.del);
            any = true;
        }
    }
    if (f.nranges) {
        frag_range_t *rs = eddy_malloc(f.nranges * sizeof *rs);
        if (!rs) return EDDY_ERR_NOMEM;
        size_t m = 0;
        frag_range_t r;
        int rc;
        while ((rc = store_frag_range_next(&f, &r)) == 1) {
            if (r.del.ldt < gc_before) *changed = true;
            else rs[m++] = r;
        }
        store_frag_enc_ranges(&enc, rs, m);
        eddy_free(rs);
        if (rc < 0) return rc;
        if (m) any = true;
    }
    frag_col_t c;
    int rc;
    while ((rc = store_frag_col_next(&f, &c)) == 1) {
        int64_t ts = (c.flags & FRAG_CELL_COMPLEX) ? c.cdel.ts : c.cell.ts;
        if (keep && !keep(keep_arg, c.col_id, ts)) {
            *changed = true;
            continue;
        }
        if (c.flags & FRAG_CELL_COMPLEX) {
            frag_deletion_t cdel = c.cdel;
            if (cdel.ts != STORE_NO_TS && cdel.ldt < gc_before) {
                cdel.ts = STORE_NO_TS;
                *changed = true;
            }
            size_t mark = out->len;
            store_frag_enc_complex_begin(&enc, c.col_id, &cdel);
            bool elems = false;
            frag_cell_t e;
            int er;
            while ((er = store_frag_elem_next(&f, &c, &e)) == 1) {
                int pr = purge_cell(&e, now_s, gc_before);
                if (pr) *changed = true;
                if (pr == 1) continue;
                store_frag_enc_elem(&enc, &e);
                elems = true;
            }
            if (er < 0) return er;
            store_frag_enc_complex_end(&enc);
            if (!elems && cdel.ts == STORE_NO_TS) out->len = mark; /* nothing left of the column */
            else any = true;
        } else {
            frag_cell_t cell = c.cell;
            int pr = purge_cell(&cell, now_s, gc_before);
            if (pr) *changed = true;
            if (pr == 1) continue;
            store_frag_enc_cell(&enc, c.col_id, &cell);
            any = true;
        }
    }
    if (rc < 0) return rc;
    *empty = !any;
    return wr_ok(out) ? EDDY_OK : out->err;
}
