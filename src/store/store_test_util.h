/* Test fixtures of the store's unit tests (included by the store's *_test.c files only): a store with a
 * fake clock, tables from "name type kind [desc]" lines, CQL literals as values, and rows as
 * text ("k=1 c='a' v=2|") so that expectations read like cqlsh output. */
#ifndef EDDY_STORE_TEST_UTIL_H
#define EDDY_STORE_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"
#include "test.h"

#define TEST_UTIL_FN __attribute__((unused)) static


typedef struct {
    int64_t now_us;
} fake_clock_t;

TEST_UTIL_FN int64_t fake_now(void *arg) { return ((fake_clock_t *)arg)->now_us; }

TEST_UTIL_FN store_t *open_store(const char *dir, fake_clock_t *clock) {
    store_options_t o;
    memset(&o, 0, sizeof o);
    if (clock) {
        o.clock_us = fake_now;
        o.clock_arg = clock;
    }
    store_t *st = NULL;
    char err[256];
    int rc = store_open(dir, &o, &st, err, sizeof err);
    if (rc) fprintf(stderr, "store_open: %s\n", err);
    return st;
}

TEST_UTIL_FN const store_type_t *T(const char *s) {
    const store_type_t *t = NULL;
    store_type_parse(NULL, NULL, s, strlen(s), &t, NULL, 0);
    return t;
}

/* Creates keyspace ks (if needed) and a table from "name type kind[ desc]" column lines. */
TEST_UTIL_FN const store_table_t *mk_table(store_t *st, const char *table, const char *const *cols, size_t n,
                                      const store_option_t *opts, size_t nopts) {
    store_strmap_t rep = {2, (const char *[]){"class", "replication_factor"}, (const char *[]){"SimpleStrategy", "1"}};
    char err[256];
    store_keyspace_create(st, "ks", &rep, true, true, NULL, err, sizeof err);
    store_column_spec_t specs[32];
    char names[32][64], types[32][128], kinds[32][32], order[32][8];
    for (size_t i = 0; i < n; i++) {
        order[i][0] = 0;
        sscanf(cols[i], "%63s %127s %31s %7s", names[i], types[i], kinds[i], order[i]);
        specs[i].name = names[i];
        specs[i].type = T(types[i]);
        specs[i].kind = !strcmp(kinds[i], "pk") ? STORE_COL_PARTITION_KEY : !strcmp(kinds[i], "ck") ? STORE_COL_CLUSTERING
                        : !strcmp(kinds[i], "static")                     ? STORE_COL_STATIC
                                                                          : STORE_COL_REGULAR;
        specs[i].desc = !strcmp(order[i], "desc");
    }
    int rc = store_table_create(st, "ks", table, specs, n, opts, nopts, false, NULL, err, sizeof err);
    for (size_t i = 0; i < n; i++) store_type_release(specs[i].type);
    if (rc) {
        fprintf(stderr, "create table: %s\n", err);
        return NULL;
    }
    const store_table_t *t = NULL;
    store_table_lookup(st, "ks", table, &t, err, sizeof err);
    return t;
}

/* Parses a CQL literal of column col's type into buf (appended); the view is returned. */
TEST_UTIL_FN eddy_view_t lit(const store_table_t *t, int col, const char *text, wr_t *buf) {
    size_t start = buf->len;
    bool is_null = false;
    char err[256];
    int rc = store_value_parse_cql(t->info.columns[col].type, text, strlen(text), buf, &is_null, err, sizeof err);
    if (rc) fprintf(stderr, "literal %s: %s\n", text, err);
    if (is_null) return eddy_view(NULL, 0);
    return eddy_view((const uint8_t *)(uintptr_t)start, buf->len - start); /* fixed up by fix_views */
}

TEST_UTIL_FN void fix_views(eddy_view_t *v, size_t n, wr_t *buf) {
    for (size_t i = 0; i < n; i++)
        if (v[i].ptr || v[i].len) v[i].ptr = buf->buf + (uintptr_t)v[i].ptr;
}

/* "col=literal" pairs; key columns first by name. Writes one row. */
TEST_UTIL_FN int put(store_t *st, const store_table_t *t, int64_t ts, int32_t ttl, unsigned flags, const char *assigns) {
    const store_table_info_t *in = &t->info;
    wr_t buf;
    wr_init(&buf, 256);
    eddy_view_t key[16];
    size_t nkey = 0;
    int cols[32];
    eddy_view_t vals[32];
    size_t nv = 0;
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", assigns);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        while (*tok == ' ') tok++;
        char *eq = strchr(tok, '=');
        *eq = 0;
        int c = store_table_column(t, tok, strlen(tok));
        if (c < 0) {
            fprintf(stderr, "unknown column %s\n", tok);
            wr_free(&buf);
            return -1;
        }
        eddy_view_t v = lit(t, c, eq + 1, &buf);
        if ((size_t)c < in->npartition + in->nclustering) {
            key[c] = v;
            if ((size_t)c + 1 > nkey) nkey = (size_t)c + 1;
        } else {
            cols[nv] = c;
            vals[nv++] = v;
        }
    }
    fix_views(key, nkey, &buf);
    fix_views(vals, nv, &buf);
    store_write_t *w = store_write_new(st);
    char err[256];
    int rc = store_write_row(w, t, key, nkey, ts, ttl, flags, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < nv; i++) rc = store_write_set(w, cols[i], vals[i].ptr, vals[i].len, err, sizeof err);
    if (rc == 0) rc = store_write_apply(w, false, err, sizeof err);
    if (rc) fprintf(stderr, "put: %s\n", err);
    store_write_free(w);
    wr_free(&buf);
    return rc;
}

TEST_UTIL_FN void row_text(const store_row_t *row, wr_t *out) {
    const store_table_info_t *in = &row->table->info;
    for (size_t i = 0; i < in->ncolumns; i++) {
        if (!row->cells[i].ptr) continue;
        if (out->len && out->buf[out->len - 1] != '|') wr_u8(out, ' ');
        wr_str(out, in->columns[i].name);
        wr_u8(out, '=');
        store_value_format_cql(in->columns[i].type, row->cells[i].ptr, row->cells[i].len, out);
    }
    wr_u8(out, '|');
}

/* Runs q and returns its rows as "a=1 b='x'|a=2|" (caller frees). */
TEST_UTIL_FN char *query_text(store_t *st, const store_query_t *q) {
    store_iter_t *it = store_iter_new(st);
    wr_t out;
    wr_init(&out, 256);
    char err[256];
    int rc = store_iter_start(it, q, err, sizeof err);
    const store_row_t *row;
    if (rc == 0)
        while ((rc = store_iter_next(it, &row, err, sizeof err)) == 1) row_text(row, &out);
    if (rc < 0) {
        wr_str(&out, "ERROR: ");
        wr_str(&out, err);
    }
    wr_u8(&out, 0);
    store_iter_free(it);
    size_t n;
    return (char *)wr_steal(&out, &n);
}

TEST_UTIL_FN char *scan_text(store_t *st, const store_table_t *t) {
    store_query_t q;
    memset(&q, 0, sizeof q);
    q.table = t;
    return query_text(st, &q);
}

#define CHECK_SCAN(st, t, expect)                                                                   \
    do {                                                                                            \
        char *got_ = scan_text(st, t);                                                              \
        CHECK_EQ_STR(got_, expect);                                                                 \
        free(got_);                                                                                 \
    } while (0)

#endif
