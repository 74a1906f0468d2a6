/* `eddy dump keys KEYSPACE.TABLE --data DIR`: the table's RocksDB entries decoded, in key order
 * (rows and partition headers interleaved as they sort): token, partition key, clustering key,
 * liveness, deletions, range tombstones and every cell with its timestamp, TTL and value. */
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"

static void print_value(const store_type_t *t, const uint8_t *p, size_t n) {
    wr_t w;
    wr_init(&w, 64);
    store_value_format_cql(t, p, n, &w);
    printf("%.*s", (int)w.len, w.buf ? (const char *)w.buf : "");
    wr_free(&w);
}

static void print_cell(const frag_cell_t *c) {
    printf("ts=%lld", (long long)c->ts);
    if (c->flags & FRAG_CELL_EXPIRING) printf(" ttl=%u expires=%lld", c->ttl, (long long)c->ldt);
    if (c->flags & FRAG_CELL_TOMB) printf(" tombstone ldt=%lld", (long long)c->ldt);
}

static void dump_entry(const store_table_t *t, bool header, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
    const store_table_info_t *in = &t->info;
    store_rowmat_t m;
    store_rowmat_init(&m);
    int64_t token = 0;
    if (store_rowmat_reset(&m, in->ncolumns) || store_rowmat_keys(&m, t, k, kl, &token)) {
        printf("?? undecodable key (%zu bytes)\n", kl);
        store_rowmat_free(&m);
        return;
    }
    store_rowmat_finish(&m);
    printf("%s token=%lld (", header ? "partition" : "row", (long long)token);
    for (size_t i = 0; i < in->npartition; i++) {
        printf("%s%s=", i ? ", " : "", in->columns[i].name);
        print_value(in->columns[i].type, m.cells[i].ptr, m.cells[i].len);
    }
    printf(")");
    if (!header && in->nclustering) {
        printf(" (");
        for (size_t i = in->npartition; i < in->npartition + in->nclustering; i++) {
            printf("%s%s=", i > in->npartition ? ", " : "", in->columns[i].name);
            print_value(in->columns[i].type, m.cells[i].ptr, m.cells[i].len);
        }
        printf(")");
    }
    printf("\n");
    store_rowmat_free(&m);
    frag_t f;
    if (store_frag_open(&f, v, vl)) {
        printf("  ?? corrupt value (%zu bytes)\n", vl);
        return;
    }
    if (f.live.ts != STORE_NO_TS) {
        printf("  liveness ts=%lld", (long long)f.live.ts);
        if (f.live.ttl) printf(" ttl=%u expires=%lld", f.live.ttl, (long long)f.live.ldt);
        printf("\n");
    }
    if (f.del.ts != STORE_NO_TS)
        printf("  %s deletion ts=%lld ldt=%lld\n", header ? "partition" : "row", (long long)f.del.ts, (long long)f.del.ldt);
    frag_range_t r;
    while (store_frag_range_next(&f, &r) == 1) {
        wr_t lo, hi;
        wr_init(&lo, 32);
        wr_init(&hi, 32);
        store_fmt_hex(r.lo.ptr, r.lo.len, &lo);
        store_fmt_hex(r.hi.ptr, r.hi.len, &hi);
        printf("  range tombstone [%.*s, %.*s) ts=%lld ldt=%lld\n", (int)lo.len, lo.buf, (int)hi.len, hi.buf,
               (long long)r.del.ts, (long long)r.del.ldt);
        wr_free(&lo);
        wr_free(&hi);
    }
    frag_col_t c;
    while (store_frag_col_next(&f, &c) == 1) {
        int idx = c.col_id < t->nids ? t->index_of_id[c.col_id] : -1;
        const store_column_t *col = idx >= 0 ? &in->columns[idx] : NULL;
        if (col) printf("  %s: ", col->name);
        else if (c.col_id >= STORE_REFS_COL_BASE) printf("  (reference count, slot %u): ", c.col_id - STORE_REFS_COL_BASE);
        else printf("  (dropped column #%u): ", c.col_id);
        if (!(c.flags & FRAG_CELL_COMPLEX)) {
            print_cell(&c.cell);
            if (!(c.cell.flags & FRAG_CELL_TOMB)) {
                printf(" value=");
                if ((col || c.col_id >= STORE_REFS_COL_BASE) && (c.cell.flags & FRAG_CELL_COUNTER) && c.cell.value.len == 8)
                    printf("%lld (counter)", (long long)ld_i64(c.cell.value.ptr));
                else if (col) print_value(col->type, c.cell.value.ptr, c.cell.value.len);
                else printf("%zu bytes", c.cell.value.len);
            }
            printf("\n");
            continue;
        }
        if (c.cdel.ts != STORE_NO_TS) printf("deletion ts=%lld ldt=%lld", (long long)c.cdel.ts, (long long)c.cdel.ldt);
        printf("\n");
        frag_cell_t e;
        while (store_frag_elem_next(&f, &c, &e) == 1) {
            wr_t p;
            wr_init(&p, 32);
            store_fmt_hex(e.path.ptr, e.path.len, &p);
            printf("    [%.*s] ", (int)p.len, p.buf);
            wr_free(&p);
            print_cell(&e);
            if (!(e.flags & FRAG_CELL_TOMB) && col) {
                const store_type_t *vt = col->type->kind == STORE_T_LIST   ? col->type->sub[0]
                                         : col->type->kind == STORE_T_MAP  ? col->type->sub[1]
                                         : col->type->kind == STORE_T_UDT && e.path.len == 2 &&
                                                 load_u16(e.path.ptr) < col->type->nsub
                                             ? col->type->sub[load_u16(e.path.ptr)]
                                             : NULL;
                if (vt) {
                    printf(" value=");
                    print_value(vt, e.value.ptr, e.value.len);
                }
            }
            printf("\n");
        }
    }
}

static void usage(void) {
    printf("usage: eddy dump keys KEYSPACE.TABLE --data DIR\n\n"
           "Prints the table's stored entries in key order: rows and partition headers with their\n"
           "liveness, deletions, range tombstones, cells, timestamps and TTLs. The store must not be\n"
           "open in a running eddy up.\n");
}

int store_main_dump_keys(int argc, char **argv) {
    const char *data = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        }
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strncmp(argv[i], "--data=", 7)) data = argv[i] + 7;
        else if (!name && argv[i][0] != '-') name = argv[i];
        else {
            fprintf(stderr, "eddy dump keys: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!data) data = getenv("EDDY_DATA");
    const char *dot = name ? strchr(name, '.') : NULL;
    if (!name || !dot || !data) {
        usage();
        return 2;
    }
    char ks[256], tn[256], dir[4096], err[512];
    snprintf(ks, sizeof ks, "%.*s", (int)(dot - name), name);
    snprintf(tn, sizeof tn, "%s", dot + 1);
    snprintf(dir, sizeof dir, "%s/store", data);
    store_t *st;
    if (store_open(dir, NULL, &st, err, sizeof err) != EDDY_OK) {
        fprintf(stderr, "eddy dump keys: %s\n", err);
        return 1;
    }
    const store_table_t *t;
    if (store_table_lookup(st, ks, tn, &t, err, sizeof err) != EDDY_OK) {
        fprintf(stderr, "eddy dump keys: %s\n", err);
        store_close(st);
        return 1;
    }
    uint8_t lo[4], hi[4];
    store_u32(lo, t->info.id);
    store_u32(hi, t->info.id + 1);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)hi, 4);
    rocksdb_iterator_t *d = rocksdb_create_iterator_cf(st->db, ro, st->cf[CF_DATA]);
    rocksdb_iterator_t *p = rocksdb_create_iterator_cf(st->db, ro, st->cf[CF_PART]);
    rocksdb_iter_seek(d, (const char *)lo, 4);
    rocksdb_iter_seek(p, (const char *)lo, 4);
    size_t n = 0;
    while (rocksdb_iter_valid(d) || rocksdb_iter_valid(p)) {
        size_t dkl = 0, pkl = 0, vl;
        const uint8_t *dk = rocksdb_iter_valid(d) ? (const uint8_t *)rocksdb_iter_key(d, &dkl) : NULL;
        const uint8_t *pk = rocksdb_iter_valid(p) ? (const uint8_t *)rocksdb_iter_key(p, &pkl) : NULL;
        bool header = pk && (!dk || store_bytes_cmp(pk, pkl, dk, dkl) <= 0);
        rocksdb_iterator_t *it = header ? p : d;
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);
        dump_entry(t, header, header ? pk : dk, header ? pkl : dkl, v, vl);
        rocksdb_iter_next(it);
        n++;
    }
    printf("%zu entries\n", n);
    rocksdb_iter_destroy(d);
    rocksdb_iter_destroy(p);
    rocksdb_readoptions_destroy(ro);
    store_table_release(t);
    store_close(st);
    return 0;
}
