/* Reads: the iterator behind every query. Partitions come from a key list (IN) or a token range
 * scan in token order; rows inside a partition from clustering slices, forward or reversed.
 * Point reads (full primary key, or a partition key of a table without clustering columns) use
 * RocksDB gets; everything else iterators. LIMIT, PER PARTITION LIMIT, DISTINCT, filtering and
 * paging happen here so that a page holds page_size kept rows and the paging state points
 * after the last row examined.
 *
 * Paging state (self-contained, checked on input):
 *   u8 version (1), u8 flags (1 partition done, 2 rows seen in the partition, 4 keys mode),
 *   uv key index, uv remaining limit + 1 (0 = none), uv rows returned in the partition,
 *   uv key length, key (data or partition key without the table id), u32 crc32c of the above. */
#include <stdlib.h>

#include "store/store_int.h"

#define PS_VERSION 1
#define PS_PART_DONE 1
#define PS_ROWS_SEEN 2
#define PS_KEYS 4

struct store_iter {
    store_t *st;
    store_query_t q;
    const store_table_t *t;
    int64_t now_s;
    bool started, done, has_more, point;
    rocksdb_readoptions_t *ropts;
    rocksdb_iterator_t *dit, *pit;
    bool bulk;                  /* the read options are set for a bulk scan */
    wr_t upper, lower;          /* scan bounds (the upper one is RocksDB's iterate bound) */
    store_slices_t slices;
    /* current partition */
    bool in_part, part_over, static_checked;
    size_t key_index;           /* keys mode: the partition being read */
    wr_t pkey;                  /* partition prefix key */
    store_part_t part;
    size_t slice;               /* slice being read (counts down when reversed) */
    bool slice_positioned;
    bool part_fresh;            /* scan: the data iterator is on the partition's first key */
    bool rows_seen;             /* a live row was examined in this partition */
    int64_t part_count;         /* rows returned from this partition */
    /* resume point inside the first partition entered (from a paging state) */
    wr_t resume;
    bool has_resume;
    /* counts */
    int64_t remaining;          /* limit left, -1 = none */
    int64_t page_count;
    /* last examined position: a row key or a finished partition, without the table id */
    wr_t last;
    bool last_part_done;
    uint64_t nreads;            /* rows returned, added to the store's count now and then */
    rocksdb_pinnableslice_t *pinned; /* point reads: the value the row's cells point into */
    /* output */
    store_rowmat_t m;
    store_row_t row;
    wr_t tmp;
};

store_iter_t *store_iter_new(store_t *st) {
    store_iter_t *it = eddy_calloc(1, sizeof *it);
    if (!it) return NULL;
    it->st = st;
    it->ropts = rocksdb_readoptions_create();
    store_rowmat_init(&it->m);
    return it;
}

static void iter_close_rocks(store_iter_t *it) {
    if (it->nreads) {
        __atomic_fetch_add(&it->st->n_reads, it->nreads, __ATOMIC_RELAXED);
        it->nreads = 0;
    }
    if (it->pinned) rocksdb_pinnableslice_destroy(it->pinned);
    it->pinned = NULL;
    if (it->dit) rocksdb_iter_destroy(it->dit);
    if (it->pit) rocksdb_iter_destroy(it->pit);
    it->dit = it->pit = NULL;
}

void store_iter_free(store_iter_t *it) {
    if (!it) return;
    iter_close_rocks(it);
    rocksdb_readoptions_destroy(it->ropts);
    wr_free(&it->upper);
    wr_free(&it->lower);
    wr_free(&it->pkey);
    wr_free(&it->resume);
    wr_free(&it->last);
    wr_free(&it->tmp);
    store_slices_free(&it->slices);
    store_part_free(&it->part);
    store_rowmat_free(&it->m);
    if (it->t) store_table_release(it->t);
    eddy_free(it);
}

/* ---- paging state ---- */

typedef struct {
    uint8_t flags;
    uint64_t key_index;
    uint64_t remaining; /* + 1; 0 = no limit */
    uint64_t part_count;
    eddy_view_t key;
} pstate_t;

static int pstate_decode(const uint8_t *p, size_t n, pstate_t *ps, char *errstr, size_t errlen) {
    if (n < 10) return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "Invalid paging state: too short");
    uint32_t crc = load_u32(p + n - 4);
    if (crc32c(p, n - 4) != crc) return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "Invalid paging state: bad checksum");
    rd_t r = rd_init(p, n - 4);
    if (rd_u8(&r) != PS_VERSION) return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "Invalid paging state: unknown version");
    ps->flags = rd_u8(&r);
    ps->key_index = rd_uvarint64(&r);
    ps->remaining = rd_uvarint64(&r);
    ps->part_count = rd_uvarint64(&r);
    uint64_t kl = rd_uvarint64(&r);
    if (!rd_ok(&r) || kl > rd_remaining(&r) || (ps->flags & ~7u))
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "Invalid paging state: malformed");
    ps->key = rd_view(&r, (size_t)kl);
    if (rd_remaining(&r) || ps->key.len < 10 || ps->remaining > (uint64_t)INT64_MAX ||
        ps->part_count > (uint64_t)INT64_MAX || ps->key_index > (uint64_t)INT32_MAX)
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "Invalid paging state: malformed");
    /* the key must hold a whole partition prefix: [token 8][escaped key][00 01] */
    uint8_t buf[4] = {0};
    wr_t k;
    wr_init(&k, ps->key.len + 4);
    wr_bytes(&k, buf, 4);
    wr_bytes(&k, ps->key.ptr, ps->key.len);
    size_t pl = wr_ok(&k) ? store_key_partition_len(k.buf, k.len) : 0;
    wr_free(&k);
    if (pl == 0) return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "Invalid paging state: bad key");
    return EDDY_OK;
}

int store_paging_state_check(const uint8_t *p, size_t n, char *errstr, size_t errlen) {
    pstate_t ps;
    return pstate_decode(p, n, &ps, errstr, errlen);
}

bool store_iter_has_more(const store_iter_t *it) { return it->has_more; }

void store_iter_paging_state(const store_iter_t *it, wr_t *w) {
    size_t start = w->len;
    /* a partition that can give no more rows (DISTINCT, a static-only row, PER PARTITION LIMIT,
     * a point read) resumes at the next one */
    bool over = it->in_part && it->part_over;
    bool done = it->last_part_done || over;
    uint8_t flags = it->q.keys ? PS_KEYS : 0;
    if (done) flags |= PS_PART_DONE;
    else if (it->rows_seen) flags |= PS_ROWS_SEEN;
    wr_u8(w, PS_VERSION);
    wr_u8(w, flags);
    wr_uvarint(w, it->key_index);
    wr_uvarint(w, it->remaining < 0 ? 0 : (uint64_t)it->remaining + 1);
    wr_uvarint(w, done ? 0 : (uint64_t)it->part_count);
    const uint8_t *k = over ? it->pkey.buf + 4 : it->last.buf;
    size_t kl = over ? it->pkey.len - 4 : it->last.len;
    wr_uvarint(w, kl);
    wr_bytes(w, k, kl);
    if (wr_ok(w)) wr_u32(w, crc32c(w->buf + start, w->len - start));
}

/* ---- setup ---- */

/* Whether the query reads full primary keys only (one get per key). */
static bool is_point(const store_query_t *q) {
    const store_table_info_t *in = &q->table->info;
    if (!q->keys || q->distinct) return false;
    if (in->nclustering == 0) return true;
    if (q->nranges != 1) return false;
    const store_crange_t *r = &q->ranges[0];
    if (r->lo.n != in->nclustering || r->hi.n != in->nclustering || !r->lo.inclusive || !r->hi.inclusive) return false;
    for (size_t i = 0; i < in->nclustering; i++)
        if (!r->lo.values[i].ptr || !eddy_view_eq(r->lo.values[i], r->hi.values[i])) return false;
    return true;
}

static void key_head(const store_table_t *t, wr_t *w, uint32_t id_delta) {
    uint8_t h[4];
    store_u32(h, t->info.id + id_delta);
    wr_bytes(w, h, 4);
}

static int setup_scan(store_iter_t *it, const uint8_t *resume_seek, size_t resume_len) {
    const store_query_t *q = &it->q;
    wr_reset(&it->lower);
    wr_reset(&it->upper);
    key_head(q->table, &it->lower, 0);
    if (q->token_lo_set) {
        int64_t lo = q->token_lo;
        if (!q->token_lo_inclusive) {
            if (lo == INT64_MAX) it->done = true;
            else lo++;
        }
        uint8_t tb[8];
        store_token_bytes(lo, tb);
        wr_bytes(&it->lower, tb, 8);
    }
    bool to_end = !q->token_hi_set || (q->token_hi_inclusive && q->token_hi == INT64_MAX);
    if (to_end) {
        key_head(q->table, &it->upper, 1);
    } else {
        int64_t hi = q->token_hi;
        if (!q->token_hi_inclusive) {
            if (hi == INT64_MIN) it->done = true;
            else hi--;
        }
        uint8_t tb[8];
        store_token_bytes(hi, tb);
        uint64_t u = load_u64(tb) + 1; /* the first key above every key of token hi */
        if (u == 0) {
            key_head(q->table, &it->upper, 1);
        } else {
            key_head(q->table, &it->upper, 0);
            store_u64(tb, u);
            wr_bytes(&it->upper, tb, 8);
        }
    }
    if (!wr_ok(&it->lower) || !wr_ok(&it->upper)) return EDDY_ERR_NOMEM;
    rocksdb_readoptions_set_iterate_upper_bound(it->ropts, (const char *)it->upper.buf, it->upper.len);
    it->dit = rocksdb_create_iterator_cf(it->st->db, it->ropts, it->st->cf[CF_DATA]);
    it->pit = rocksdb_create_iterator_cf(it->st->db, it->ropts, it->st->cf[CF_PART]);
    const uint8_t *seek = it->lower.buf;
    size_t seeklen = it->lower.len;
    if (resume_seek && store_bytes_cmp(resume_seek, resume_len, seek, seeklen) > 0) {
        seek = resume_seek;
        seeklen = resume_len;
    }
    rocksdb_iter_seek(it->dit, (const char *)seek, seeklen);
    rocksdb_iter_seek(it->pit, (const char *)seek, seeklen);
    return EDDY_OK;
}

int store_iter_start(store_iter_t *it, const store_query_t *q, char *errstr, size_t errlen) {
    iter_close_rocks(it);
    rocksdb_readoptions_set_iterate_upper_bound(it->ropts, NULL, 0);
    if (q->bulk != it->bulk) {
        /* A bulk scan reads most of a table once: its blocks would only push hot ones out of
         * the cache (and cost an insert each); reading ahead saves a system call per block. */
        rocksdb_readoptions_set_fill_cache(it->ropts, !q->bulk);
        rocksdb_readoptions_set_readahead_size(it->ropts, q->bulk ? (size_t)2 << 20 : 0);
        it->bulk = q->bulk;
    }
    if (it->t != q->table) {
        if (it->t) store_table_release(it->t);
        it->t = store_table_keep(q->table);
    }
    it->q = *q;
    it->m.want = q->columns;
    it->now_s = store_now_s(it->st);
    it->started = true;
    it->done = it->has_more = it->in_part = it->has_resume = false;
    it->key_index = 0;
    it->remaining = q->limit > 0 ? q->limit : -1;
    it->page_count = it->part_count = 0;
    it->rows_seen = false;
    it->last_part_done = false;
    wr_reset(&it->last);
    wr_reset(&it->resume);
    store_part_clear(&it->part);
    it->point = is_point(q);
    if (q->keys && q->nkeys == 0) it->done = true;
    int rc = EDDY_OK;
    if (!it->point) {
        /* point reads go straight to their keys; others iterate slices */
        if ((rc = store_slices_build(q->table, q->ranges, q->nranges, &it->slices, errstr, errlen))) return rc;
        if (it->slices.n == 0) it->done = true; /* contradictory restrictions: nothing matches */
    }
    const uint8_t *seek = NULL;
    size_t seeklen = 0;
    if (q->paging_state && q->paging_state_len) {
        pstate_t ps;
        if ((rc = pstate_decode(q->paging_state, q->paging_state_len, &ps, errstr, errlen))) return rc;
        if (((ps.flags & PS_KEYS) != 0) != (q->keys != NULL) || (q->keys && ps.key_index >= q->nkeys))
            return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "Invalid paging state for this query");
        it->remaining = ps.remaining ? (int64_t)ps.remaining - 1 : -1;
        it->key_index = (size_t)ps.key_index;
        key_head(q->table, &it->resume, 0);
        wr_bytes(&it->resume, ps.key.ptr, ps.key.len);
        wr_bytes(&it->last, ps.key.ptr, ps.key.len);
        if (!wr_ok(&it->resume) || !wr_ok(&it->last)) return EDDY_ERR_NOMEM;
        size_t pl = store_key_partition_len(it->resume.buf, it->resume.len);
        if (ps.flags & PS_PART_DONE) {
            it->last_part_done = true;
            if (q->keys) it->key_index++;
            it->resume.len = pl;
            wr_u8(&it->resume, 0xFF);
            seeklen = it->resume.len;
        } else {
            it->has_resume = true;
            it->part_count = (int64_t)ps.part_count;
            it->rows_seen = ps.flags & PS_ROWS_SEEN;
            seeklen = pl;
        }
        seek = it->resume.buf;
        if (it->remaining == 0) it->done = true;
    }
    if (!q->keys && !it->done) return setup_scan(it, seek, seeklen);
    return EDDY_OK;
}

/* ---- partitions ---- */

static bool has_prefix(const uint8_t *k, size_t kl, const uint8_t *p, size_t pl) {
    return kl >= pl && !memcmp(k, p, pl);
}

/* Enters the next partition: 1 entered, 0 none left, <0 error. */
static int enter_partition(store_iter_t *it, char *errstr, size_t errlen) {
    const store_query_t *q = &it->q;
    const store_table_info_t *in = &it->t->info;
    wr_reset(&it->pkey);
    store_part_clear(&it->part);
    if (q->keys) {
        if (it->key_index >= q->nkeys) return 0;
        size_t pklen;
        int64_t token;
        int rc = store_key_build(it->t, q->keys + it->key_index * in->npartition, in->npartition, &it->pkey, &pklen,
                                 &token, errstr, errlen);
        if (rc) return rc;
        if (in->nclustering && store_headers_maybe(it->st, in->id)) {
            wr_reset(&it->tmp);
            rc = store_db_get(it->st, CF_PART, it->pkey.buf, it->pkey.len, &it->tmp, errstr, errlen);
            if (rc == EDDY_OK) rc = store_part_load(&it->part, it->tmp.buf, it->tmp.len);
            else if (rc == EDDY_ERR_NOT_FOUND) rc = EDDY_OK;
            if (rc) return rc;
        }
    } else {
        size_t dkl = 0, pkl = 0, dpl = 0;
        const uint8_t *dk = NULL, *pk = NULL;
        if (rocksdb_iter_valid(it->dit)) {
            dk = (const uint8_t *)rocksdb_iter_key(it->dit, &dkl);
            dpl = store_key_partition_len(dk, dkl);
            if (!dpl) return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "corrupt row key in table %s", in->name);
        }
        if (rocksdb_iter_valid(it->pit)) pk = (const uint8_t *)rocksdb_iter_key(it->pit, &pkl);
        if (!dk && !pk) return 0;
        bool use_p = pk && (!dk || store_bytes_cmp(pk, pkl, dk, dpl) <= 0);
        wr_bytes(&it->pkey, use_p ? pk : dk, use_p ? pkl : dpl);
        if (pk && pkl == it->pkey.len && !memcmp(pk, it->pkey.buf, pkl)) {
            size_t vl;
            const char *v = rocksdb_iter_value(it->pit, &vl);
            int rc = store_part_load(&it->part, (const uint8_t *)v, vl);
            if (rc) return rc;
        }
    }
    if (!wr_ok(&it->pkey)) return EDDY_ERR_NOMEM;
    it->in_part = true;
    it->part_over = false;
    it->static_checked = false;
    it->slice = it->q.reversed ? it->slices.n - 1 : 0;
    it->slice_positioned = false;
    it->part_fresh = !q->keys && !q->reversed;
    if (it->has_resume && !has_prefix(it->resume.buf, it->resume.len, it->pkey.buf, it->pkey.len)) it->has_resume = false;
    if (!it->has_resume) {
        it->part_count = 0;
        it->rows_seen = false;
    }
    return 1;
}

static void end_partition(store_iter_t *it) {
    it->in_part = false;
    it->has_resume = false;
    wr_reset(&it->last);
    wr_bytes(&it->last, it->pkey.buf + 4, it->pkey.len - 4);
    it->last_part_done = true;
    if (it->q.keys) {
        it->key_index++;
        return;
    }
    /* move both scan iterators past the partition */
    wr_reset(&it->tmp);
    wr_bytes(&it->tmp, it->pkey.buf, it->pkey.len);
    wr_u8(&it->tmp, 0xFF);
    size_t kl;
    bool seek = true;
    if (rocksdb_iter_valid(it->dit)) {
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it->dit, &kl);
        seek = store_bytes_cmp(k, kl, it->tmp.buf, it->tmp.len) < 0;
    } else {
        seek = it->q.reversed || it->slices.n != 1 || it->q.per_partition_limit || it->q.distinct;
    }
    if (seek) rocksdb_iter_seek(it->dit, (const char *)it->tmp.buf, it->tmp.len);
    if (rocksdb_iter_valid(it->pit)) {
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it->pit, &kl);
        if (store_bytes_cmp(k, kl, it->tmp.buf, it->tmp.len) < 0)
            rocksdb_iter_seek(it->pit, (const char *)it->tmp.buf, it->tmp.len);
    }
}

/* ---- rows ---- */

/* Points it->row at the materialized cells. */
static int row_finish(store_iter_t *it, int64_t token, bool static_only) {
    store_rowmat_finish(&it->m);
    it->row.table = it->t;
    it->row.cells = it->m.cells;
    it->row.ncells = it->m.ncols;
    it->row.token = token;
    it->row.static_only = static_only;
    return EDDY_OK;
}

/* Materializes the row at key k (value v) into it->row; *live when it exists. keyvals, when
 * given, are the key's values (point reads: the query's own, no decoding needed). */
static int make_row_keys(store_iter_t *it, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, bool *live,
                         const eddy_view_t *pkvals, const eddy_view_t *ckvals) {
    const store_table_t *t = it->t;
    int rc = store_rowmat_reset(&it->m, t->info.ncolumns);
    if (rc) return rc;
    int64_t token;
    if (pkvals) {
        for (size_t i = 0; i < t->info.npartition; i++) {
            it->m.cells[i].ptr = pkvals[i].ptr;
            it->m.cells[i].len = pkvals[i].len;
            it->m.set[i] = 2;
        }
        for (size_t i = 0; i < t->info.nclustering; i++) {
            it->m.cells[t->info.npartition + i].ptr = ckvals[i].ptr;
            it->m.cells[t->info.npartition + i].len = ckvals[i].len;
            it->m.set[t->info.npartition + i] = 2;
        }
        token = store_token_from_bytes(k + 4);
    } else if ((rc = store_rowmat_keys(&it->m, t, k, kl, &token))) {
        return rc;
    }
    frag_deletion_t del = store_part_row_deletion(&it->part, k + it->pkey.len, kl - it->pkey.len);
    if ((rc = store_rowmat_frag(&it->m, t, v, vl, &del, it->now_s, live))) return rc;
    if (*live && it->part.present && t->info.nstatic) {
        frag_deletion_t none = {STORE_NO_TS, 0};
        bool slive;
        if ((rc = store_rowmat_frag(&it->m, t, it->part.value.buf, it->part.value.len, &none, it->now_s, &slive))) return rc;
    }
    return row_finish(it, token, false);
}

static int make_row(store_iter_t *it, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, bool *live) {
    return make_row_keys(it, k, kl, v, vl, live, NULL, NULL);
}

/* The partition's static row (partition key and static cells): *live when a static cell lives. */
static int make_static_row(store_iter_t *it, bool *live) {
    const store_table_t *t = it->t;
    *live = false;
    int rc = store_rowmat_reset(&it->m, t->info.ncolumns);
    if (rc) return rc;
    int64_t token;
    if ((rc = store_rowmat_keys(&it->m, t, it->pkey.buf, it->pkey.len, &token))) return rc;
    if (it->part.present) {
        frag_deletion_t none = {STORE_NO_TS, 0};
        if ((rc = store_rowmat_frag(&it->m, t, it->part.value.buf, it->part.value.len, &none, it->now_s, live))) return rc;
    }
    return row_finish(it, token, true);
}

/* Counts a row that passed every test; returns 1 (emit) after applying the filter, 0 to skip. */
static int accept_row(store_iter_t *it, char *errstr, size_t errlen) {
    if (it->q.filter) {
        int f = it->q.filter(it->q.filter_arg, &it->row);
        if (f < 0) return eddy_err(errstr, errlen, f, "filter failed");
        if (f == 0) return 0;
    }
    it->part_count++;
    it->page_count++;
    if (it->remaining > 0) it->remaining--;
    if (it->q.per_partition_limit && it->part_count >= it->q.per_partition_limit) it->part_over = true;
    if (++it->nreads >= 1024) {
        __atomic_fetch_add(&it->st->n_reads, it->nreads, __ATOMIC_RELAXED);
        it->nreads = 0;
    }
    return 1;
}

static void note_last_row(store_iter_t *it, const uint8_t *k, size_t kl) {
    wr_reset(&it->last);
    wr_bytes(&it->last, k + 4, kl - 4);
    it->last_part_done = false;
}

static int point_read(store_iter_t *it, char *errstr, size_t errlen) {
    const store_table_info_t *in = &it->t->info;
    it->part_over = true;
    wr_reset(&it->tmp);
    wr_bytes(&it->tmp, it->pkey.buf, it->pkey.len);
    for (size_t i = 0; i < in->nclustering; i++) {
        const store_column_t *c = &in->columns[in->npartition + i];
        const eddy_view_t *v = &it->q.ranges[0].lo.values[i];
        int rc = store_value_validate(c->type, v->ptr, v->len, errstr, errlen);
        if (rc) return rc;
        store_okey_encode(c->type, v->ptr, v->len, c->desc, &it->tmp);
    }
    if (!wr_ok(&it->tmp)) return it->tmp.err;
    if (it->has_resume) return 0; /* the row of this partition was already returned */
    char *err = NULL;
    rocksdb_pinnableslice_t *ps =
        rocksdb_get_pinned_cf(it->st->db, it->ropts, it->st->cf[CF_DATA], (const char *)it->tmp.buf, it->tmp.len, &err);
    if (err) {
        int rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "store read failed: %s", err);
        rocksdb_free(err);
        return rc;
    }
    if (!ps) return 0;
    size_t vl;
    const char *v = rocksdb_pinnableslice_value(ps, &vl);
    bool live;
    /* cells may point into the pinned value: it lives until the next call */
    if (it->pinned) rocksdb_pinnableslice_destroy(it->pinned);
    it->pinned = ps;
    it->m.zero_copy = true;
    const eddy_view_t *pk = it->q.keys + it->key_index * in->npartition;
    int rc = make_row_keys(it, it->tmp.buf, it->tmp.len, (const uint8_t *)v, vl, &live, pk,
                           in->nclustering ? it->q.ranges[0].lo.values : NULL);
    it->m.zero_copy = false;
    if (rc) return rc;
    note_last_row(it, it->tmp.buf, it->tmp.len);
    if (!live) return 0;
    it->rows_seen = true;
    return accept_row(it, errstr, errlen);
}

/* Positions the data iterator on the current slice (respecting the resume point). */
static void position_slice(store_iter_t *it) {
    const store_slice_t *s = &it->slices.v[it->slice];
    wr_reset(&it->tmp);
    wr_bytes(&it->tmp, it->pkey.buf, it->pkey.len);
    if (!it->q.reversed) {
        wr_bytes(&it->tmp, it->slices.bytes.buf + s->lo, s->lol);
        /* A scan that just entered the partition has its iterator on the partition's first key:
         * when that key is already in the first slice, a seek would land on it again (one seek
         * per partition saved: most of a full scan's cost when partitions are single rows). */
        bool fresh = it->part_fresh;
        it->part_fresh = false;
        if (fresh && it->slice == 0 && !it->has_resume && rocksdb_iter_valid(it->dit)) {
            size_t kl;
            const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it->dit, &kl);
            if (kl >= it->pkey.len && !memcmp(k, it->pkey.buf, it->pkey.len) &&
                store_bytes_cmp(k, kl, it->tmp.buf, it->tmp.len) >= 0) {
                it->slice_positioned = true;
                return;
            }
        }
        if (it->has_resume && store_bytes_cmp(it->resume.buf, it->resume.len, it->tmp.buf, it->tmp.len) >= 0) {
            wr_reset(&it->tmp);
            wr_bytes(&it->tmp, it->resume.buf, it->resume.len);
            wr_u8(&it->tmp, 0x00); /* the first key after resume */
        }
        rocksdb_iter_seek(it->dit, (const char *)it->tmp.buf, it->tmp.len);
    } else {
        wr_bytes(&it->tmp, it->slices.bytes.buf + s->hi, s->hil);
        if (it->has_resume && store_bytes_cmp(it->resume.buf, it->resume.len, it->tmp.buf, it->tmp.len) < 0) {
            wr_reset(&it->tmp);
            wr_bytes(&it->tmp, it->resume.buf, it->resume.len);
        }
        /* the last key strictly below tmp */
        rocksdb_iter_seek_for_prev(it->dit, (const char *)it->tmp.buf, it->tmp.len);
        size_t kl;
        if (rocksdb_iter_valid(it->dit)) {
            const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it->dit, &kl);
            if (kl == it->tmp.len && !memcmp(k, it->tmp.buf, kl)) rocksdb_iter_prev(it->dit);
        }
    }
    it->slice_positioned = true;
}

/* Next row of the current partition: 1 emitted, 0 partition done, <0 error. */
static int next_in_partition(store_iter_t *it, char *errstr, size_t errlen) {
    const store_query_t *q = &it->q;
    const store_table_info_t *in = &it->t->info;
    if (it->part_over) return 0;
    if (q->per_partition_limit && it->part_count >= q->per_partition_limit) return 0; /* resumed at the limit */
    if (it->point) {
        int rc = point_read(it, errstr, errlen);
        return rc;
    }
    if (!it->dit) it->dit = rocksdb_create_iterator_cf(it->st->db, it->ropts, it->st->cf[CF_DATA]);
    while (it->slice < it->slices.n) {
        if (!it->slice_positioned) position_slice(it);
        const store_slice_t *s = &it->slices.v[it->slice];
        size_t kl, vl;
        const uint8_t *k = rocksdb_iter_valid(it->dit) ? (const uint8_t *)rocksdb_iter_key(it->dit, &kl) : NULL;
        bool inside = k && has_prefix(k, kl, it->pkey.buf, it->pkey.len);
        if (inside) {
            const uint8_t *suf = k + it->pkey.len;
            size_t sl = kl - it->pkey.len;
            inside = store_bytes_cmp(suf, sl, it->slices.bytes.buf + s->lo, s->lol) >= 0 &&
                     store_bytes_cmp(suf, sl, it->slices.bytes.buf + s->hi, s->hil) < 0;
        }
        if (!inside) {
            it->slice_positioned = false;
            if (q->reversed) {
                if (it->slice == 0) break;
                it->slice--;
            } else {
                it->slice++;
            }
            continue;
        }
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it->dit, &vl);
        bool live;
        int rc = make_row(it, k, kl, v, vl, &live);
        if (rc) return rc;
        note_last_row(it, k, kl);
        if (q->reversed) rocksdb_iter_prev(it->dit);
        else rocksdb_iter_next(it->dit);
        if (!live) continue;
        it->rows_seen = true;
        if (q->distinct) {
            /* one row per partition: the key and the static columns */
            bool slive;
            if ((rc = make_static_row(it, &slive))) return rc;
            it->row.static_only = false;
            it->part_over = true;
            return accept_row(it, errstr, errlen);
        }
        rc = accept_row(it, errstr, errlen);
        if (rc) return rc;
    }
    /* slices done: a partition with only static content still shows up */
    if (!it->static_checked && !it->rows_seen && in->nstatic && it->part.present && !q->no_static_only &&
        (q->nranges == 0 || q->distinct)) {
        it->static_checked = true;
        bool live;
        int rc = make_static_row(it, &live);
        if (rc) return rc;
        it->part_over = true;
        if (live) return accept_row(it, errstr, errlen);
    }
    return 0;
}

int store_iter_next(store_iter_t *it, const store_row_t **row, char *errstr, size_t errlen) {
    if (!it->started || it->done) return 0;
    for (;;) {
        if (it->remaining == 0) {
            it->done = true;
            it->has_more = false;
            return 0;
        }
        if (it->q.page_size > 0 && it->page_count >= it->q.page_size) {
            it->has_more = true;
            it->done = true;
            return 0;
        }
        if (!it->in_part) {
            int rc = enter_partition(it, errstr, errlen);
            if (rc <= 0) {
                it->done = true;
                it->has_more = false;
                return rc;
            }
        }
        int rc = next_in_partition(it, errstr, errlen);
        if (rc < 0) {
            it->done = true;
            return rc;
        }
        if (rc == 1) {
            *row = &it->row;
            return 1;
        }
        end_partition(it);
    }
}

/* ---- raw reads for read-before-write and conditions ---- */

int store_read_raw_row(store_t *st, const store_table_t *t, const uint8_t *rowkey, size_t rowklen, size_t partklen,
                       wr_t *data, wr_t *part, char *errstr, size_t errlen) {
    int rc = store_db_get(st, CF_DATA, rowkey, rowklen, data, errstr, errlen);
    if (rc && rc != EDDY_ERR_NOT_FOUND) return rc;
    if (part && t->info.nclustering && store_headers_maybe(st, t->info.id)) {
        rc = store_db_get(st, CF_PART, rowkey, partklen, part, errstr, errlen);
        if (rc && rc != EDDY_ERR_NOT_FOUND) return rc;
    }
    return EDDY_OK;
}

/* ---- per thread ---- */

void store_thread_bulk(void) { rocksdb_set_perf_level(rocksdb_disable); }

/* ---- batched key/value reads ---- */

typedef struct {
    eddy_view_t key;
    size_t idx;
} kv_ref_t;

static int kv_ref_cmp(const void *a, const void *b) {
    const kv_ref_t *x = a, *y = b;
    int c = store_bytes_cmp(x->key.ptr, x->key.len, y->key.ptr, y->key.len);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

int store_kv_get_many(store_t *st, const eddy_view_t *keys, size_t n, wr_t *out, size_t *offs, size_t *lens,
                      bool *found, char *errstr, size_t errlen) {
    if (!n) return EDDY_OK;
    /* MultiGet wants distinct keys in order: sort references, read each distinct key once. */
    kv_ref_t *refs = eddy_malloc(n * sizeof *refs);
    const char **kp = eddy_malloc(n * sizeof *kp);
    size_t *kl = eddy_malloc(n * sizeof *kl);
    rocksdb_pinnableslice_t **vals = eddy_calloc(n, sizeof *vals);
    char **errs = eddy_calloc(n, sizeof *errs);
    int rc = refs && kp && kl && vals && errs ? EDDY_OK : EDDY_ERR_NOMEM;
    size_t nu = 0;
    if (!rc) {
        for (size_t i = 0; i < n; i++) refs[i] = (kv_ref_t){keys[i], i};
        qsort(refs, n, sizeof *refs, kv_ref_cmp);
        for (size_t i = 0; i < n; i++) {
            if (nu && eddy_view_eq(refs[i].key, eddy_view(kp[nu - 1], kl[nu - 1]))) continue;
            kp[nu] = (const char *)refs[i].key.ptr;
            kl[nu++] = refs[i].key.len;
        }
        rocksdb_batched_multi_get_cf(st->db, st->ropts, st->cf[CF_KV], nu, kp, kl, vals, errs, true);
    }
    /* Each reference takes the result of its distinct key (u), in the same order. */
    for (size_t i = 0, u = 0; !rc && i < n; i++) {
        if (i && !eddy_view_eq(refs[i].key, refs[i - 1].key)) u++;
        size_t j = refs[i].idx;
        found[j] = false;
        if (errs[u]) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "store read failed: %s", errs[u]);
        } else if (vals[u]) {
            size_t vl;
            const char *v = rocksdb_pinnableslice_value(vals[u], &vl);
            offs[j] = out->len;
            lens[j] = vl;
            wr_bytes(out, v, vl);
            found[j] = true;
        }
    }
    if (!rc && !wr_ok(out)) rc = out->err;
    for (size_t u = 0; vals && errs && u < nu; u++) {
        if (vals[u]) rocksdb_pinnableslice_destroy(vals[u]);
        if (errs[u]) rocksdb_free(errs[u]);
    }
    if (rc == EDDY_ERR_NOMEM) rc = eddy_err(errstr, errlen, rc, "out of memory");
    __atomic_fetch_add(&st->n_reads, (uint64_t)n, __ATOMIC_RELAXED);
    eddy_free(refs);
    eddy_free(kp);
    eddy_free(kl);
    eddy_free(vals);
    eddy_free(errs);
    return rc;
}
