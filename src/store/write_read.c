/* Write operations that read first, as Cassandra's do: list element assignment and removal by
 * index or value (the element paths come from the current row), and INSERT JSON (a whole row
 * from a JSON object with Cassandra's column-name and value rules). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"

/* Live elements of column c in the current row: paths and values appended to out as
 * (u32 plen, path, u32 vlen, value) records; *count gets their number. */
static int live_elements(store_write_t *w, const store_column_t *c, wr_t *out, size_t *count, char *errstr,
                         size_t errlen) {
    wr_t data, part;
    wr_init(&data, 256);
    wr_init(&part, 0);
    *count = 0;
    const uint8_t *key = w->key.buf + w->row_key_off;
    int rc = store_read_raw_row(w->st, w->t, key, w->row_key_len, w->row_pk_len, &data, &part, errstr, errlen);
    store_part_t pc = {0};
    if (rc == EDDY_OK && part.len) rc = store_part_load(&pc, part.buf, part.len);
    if (rc == EDDY_OK && data.len) {
        frag_deletion_t del = pc.present ? store_part_row_deletion(&pc, key + w->row_pk_len, w->row_key_len - w->row_pk_len)
                                         : (frag_deletion_t){STORE_NO_TS, 0};
        frag_t f;
        if (store_frag_open(&f, data.buf, data.len)) rc = EDDY_ERR_CORRUPT;
        if (rc == EDDY_OK && f.del.ts != STORE_NO_TS && (del.ts == STORE_NO_TS || f.del.ts > del.ts)) del = f.del;
        frag_col_t col;
        int r;
        int64_t now = store_now_s(w->st);
        while (rc == EDDY_OK && (r = store_frag_col_next(&f, &col)) == 1) {
            if (col.col_id != c->id || !(col.flags & FRAG_CELL_COMPLEX)) continue;
            frag_deletion_t eff = del;
            if (col.cdel.ts != STORE_NO_TS && (eff.ts == STORE_NO_TS || col.cdel.ts > eff.ts)) eff = col.cdel;
            frag_cell_t e;
            int er;
            while ((er = store_frag_elem_next(&f, &col, &e)) == 1) {
                if (e.flags & FRAG_CELL_TOMB) continue;
                if (eff.ts != STORE_NO_TS && e.ts <= eff.ts) continue;
                if ((e.flags & FRAG_CELL_EXPIRING) && e.ldt <= now) continue;
                wr_u32(out, (uint32_t)e.path.len);
                wr_bytes(out, e.path.ptr, e.path.len);
                wr_u32(out, (uint32_t)e.value.len);
                wr_bytes(out, e.value.ptr, e.value.len);
                (*count)++;
            }
            if (er < 0) rc = EDDY_ERR_CORRUPT;
        }
    }
    if (rc == EDDY_ERR_CORRUPT) rc = eddy_err(errstr, errlen, rc, "corrupt row in table %s", w->t->info.name);
    store_part_free(&pc);
    wr_free(&data);
    wr_free(&part);
    return rc;
}

typedef struct {
    eddy_view_t path, value;
} elem_t;

static int elems_index(wr_t *buf, size_t count, elem_t **out) {
    elem_t *e = eddy_malloc((count ? count : 1) * sizeof *e);
    if (!e) return EDDY_ERR_NOMEM;
    rd_t r = rd_init(buf->buf, buf->len);
    for (size_t i = 0; i < count; i++) {
        uint32_t l = rd_u32(&r);
        e[i].path = rd_view(&r, l);
        l = rd_u32(&r);
        e[i].value = rd_view(&r, l);
    }
    *out = e;
    return EDDY_OK;
}

static int list_col(store_write_t *w, int col, const store_column_t **c, char *errstr, size_t errlen) {
    if (!w->row_open) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "no row started (store_write_row)");
    if (col < 0 || (size_t)col >= w->t->info.ncolumns)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "column index %d out of range", col);
    *c = &w->t->info.columns[col];
    if ((*c)->type->kind != STORE_T_LIST || (*c)->type->frozen)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid operation for non list column %s", (*c)->name);
    return EDDY_OK;
}

static int index_op(store_write_t *w, int col, int32_t index, const uint8_t *p, size_t n, bool set, char *errstr,
                    size_t errlen) {
    const store_column_t *c;
    int rc = list_col(w, col, &c, errstr, errlen);
    if (rc) return rc;
    if (p && (rc = store_value_validate(c->type->sub[0], p, n, errstr, errlen))) return rc;
    wr_t buf;
    wr_init(&buf, 256);
    size_t count;
    elem_t *e = NULL;
    if ((rc = live_elements(w, c, &buf, &count, errstr, errlen)) || (rc = elems_index(&buf, count, &e))) goto out;
    if (count == 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, set ? "Attempted to set an element on a list which is null"
                                                             : "Attempted to delete an element from a list which is null");
        goto out;
    }
    if (index < 0 || (size_t)index >= count) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "List index %d out of bound, list has size %zu", index, count);
        goto out;
    }
    /* a set of an element: value cell at its path; null or delete: a tombstone there */
    {
        wr_t path;
        wr_init(&path, 16);
        wr_bytes(&path, e[index].path.ptr, e[index].path.len);
        pcell_t pc;
        memset(&pc, 0, sizeof pc);
        pc.col_id = c->id;
        pc.is_static = c->kind == STORE_COL_STATIC;
        pc.kind = PC_ELEM;
        pc.ts = w->ts;
        pc.seq = w->ncells;
        pc.poff = w->data.len;
        pc.plen = path.len;
        wr_bytes(&w->data, path.buf, path.len);
        wr_free(&path);
        if (set && p) {
            if (w->ttl) {
                pc.flags = FRAG_CELL_EXPIRING;
                pc.ttl = w->ttl;
                pc.ldt = w->now_s + w->ttl;
            }
            pc.voff = w->data.len;
            pc.vlen = n;
            wr_bytes(&w->data, p, n);
        } else {
            pc.flags = FRAG_CELL_TOMB;
            pc.ldt = w->now_s;
        }
        if ((rc = store_write_add_cell(w, &pc))) goto out;
        rc = wr_ok(&w->data) ? EDDY_OK : w->data.err;
    }
out:
    eddy_free(e);
    wr_free(&buf);
    return rc;
}

int store_write_list_set_index(store_write_t *w, int col, int32_t index, const uint8_t *p, size_t n, char *errstr,
                               size_t errlen) {
    return index_op(w, col, index, p, n, true, errstr, errlen);
}

int store_write_list_delete_index(store_write_t *w, int col, int32_t index, char *errstr, size_t errlen) {
    return index_op(w, col, index, NULL, 0, false, errstr, errlen);
}

int store_write_list_remove(store_write_t *w, int col, const uint8_t *list, size_t n, char *errstr, size_t errlen) {
    const store_column_t *c;
    int rc = list_col(w, col, &c, errstr, errlen);
    if (rc) return rc;
    if ((rc = store_value_validate(c->type, list, n, errstr, errlen))) return rc;
    long nv = store_value_elements(c->type, list, n, NULL, 0);
    if (nv <= 0) return nv < 0 ? eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid list value") : EDDY_OK;
    eddy_view_t *vals = eddy_malloc((size_t)nv * sizeof *vals);
    wr_t buf;
    wr_init(&buf, 256);
    size_t count = 0;
    elem_t *e = NULL;
    if (!vals) return EDDY_ERR_NOMEM;
    store_value_elements(c->type, list, n, vals, (size_t)nv);
    if ((rc = live_elements(w, c, &buf, &count, errstr, errlen)) || (rc = elems_index(&buf, count, &e))) goto out;
    for (size_t i = 0; i < count; i++) {
        bool hit = false;
        for (long j = 0; j < nv && !hit; j++)
            hit = store_value_compare(c->type->sub[0], e[i].value.ptr, e[i].value.len, vals[j].ptr, vals[j].len) == 0;
        if (!hit) continue;
        pcell_t pc;
        memset(&pc, 0, sizeof pc);
        pc.col_id = c->id;
        pc.is_static = c->kind == STORE_COL_STATIC;
        pc.kind = PC_ELEM;
        pc.ts = w->ts;
        pc.seq = w->ncells;
        pc.flags = FRAG_CELL_TOMB;
        pc.ldt = w->now_s;
        pc.poff = w->data.len;
        pc.plen = e[i].path.len;
        wr_bytes(&w->data, e[i].path.ptr, e[i].path.len);
        if ((rc = store_write_add_cell(w, &pc))) goto out;
    }
    rc = wr_ok(&w->data) ? EDDY_OK : w->data.err;
out:
    eddy_free(vals);
    eddy_free(e);
    wr_free(&buf);
    return rc;
}

/* ---- INSERT JSON ---- */

/* A JSON key as a column name: "\"Name\"" is case-sensitive, anything else lowercased. */
static int json_column(const store_table_t *t, const char *k, size_t n) {
    char name[512];
    size_t m = 0;
    if (n >= 2 && k[0] == '"' && k[n - 1] == '"') {
        for (size_t i = 1; i + 1 < n && m + 1 < sizeof name; i++) {
            if (k[i] == '"' && i + 2 < n && k[i + 1] == '"') i++;
            name[m++] = k[i];
        }
    } else {
        for (size_t i = 0; i < n && m + 1 < sizeof name; i++) name[m++] = (char)tolower((unsigned char)k[i]);
    }
    name[m] = 0;
    return store_table_column(t, name, m);
}

int store_write_json(store_write_t *w, const store_table_t *t, const char *json, size_t len, bool default_unset,
                     int64_t timestamp_us, int32_t ttl, char *errstr, size_t errlen) {
    const store_table_info_t *in = &t->info;
    if (in->counter)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "INSERT statements are not allowed on counter tables, use UPDATE instead");
    json_doc_t doc;
    json_doc_init(&doc);
    int rc = json_parse(&doc, json, len);
    size_t ncol = in->ncolumns;
    int64_t *node = eddy_malloc((ncol ? ncol : 1) * sizeof *node);
    size_t *off = eddy_malloc((ncol ? ncol : 1) * sizeof *off);
    bool *isnull = eddy_calloc(ncol ? ncol : 1, sizeof *isnull);
    eddy_view_t *vals = eddy_calloc(ncol ? ncol : 1, sizeof *vals);
    wr_t buf;
    wr_init(&buf, 256);
    if (!node || !off || !isnull || !vals) {
        rc = EDDY_ERR_NOMEM;
        goto out;
    }
    if (rc) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Could not decode JSON string as a map: %s", doc.errmsg);
        goto out;
    }
    if (json_node(&doc, 0)->type != JSON_OBJECT) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Could not decode JSON string as a map: not an object");
        goto out;
    }
    for (size_t i = 0; i < ncol; i++) node[i] = -1;
    uint32_t c = json_first_child(0);
    for (uint32_t k = 0; k < json_node(&doc, 0)->count; k++) {
        const json_node_t *kn = json_node(&doc, c);
        char kb[512];
        long kl = kn->len < sizeof kb ? json_string_unescape(kn, kb) : -1;
        int col = kl >= 0 ? json_column(t, kb, (size_t)kl) : -1;
        if (col < 0) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "JSON values map contains unrecognized column: %.*s",
                          (int)(kl >= 0 ? kl : (long)kn->len), kl >= 0 ? kb : kn->text);
            goto out;
        }
        node[col] = c + 1;
        c = json_next(&doc, c + 1);
    }
    /* convert every present value first (errors name the column) */
    for (size_t i = 0; i < ncol; i++) {
        if (node[i] < 0) continue;
        off[i] = buf.len;
        char msg[400];
        rc = store_value_from_json(in->columns[i].type, &doc, (uint32_t)node[i], &buf, &isnull[i], msg, sizeof msg);
        if (rc) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Error decoding JSON value for %s: %s", in->columns[i].name, msg);
            goto out;
        }
    }
    for (size_t i = 0; i < ncol; i++)
        if (node[i] >= 0 && !isnull[i]) vals[i] = eddy_view(buf.buf ? buf.buf + off[i] : (const uint8_t *)"", 0);
    /* lengths: the next present value's offset or the end */
    for (size_t i = 0; i < ncol; i++) {
        if (node[i] < 0 || isnull[i]) continue;
        size_t end = buf.len;
        for (size_t j = 0; j < ncol; j++)
            if (node[j] >= 0 && off[j] > off[i] && off[j] < end) end = off[j];
        vals[i].len = end - off[i];
    }
    size_t nkey = in->npartition + in->nclustering;
    for (size_t i = 0; i < nkey; i++)
        if (!vals[i].ptr) {
            rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid null value in condition for column %s",
                          in->columns[i].name);
            goto out;
        }
    if ((rc = store_write_row(w, t, vals, nkey, timestamp_us, ttl, STORE_ROW_INSERT, errstr, errlen))) goto out;
    for (size_t i = nkey; i < ncol; i++) {
        if (node[i] < 0 && default_unset) continue;
        if ((rc = store_write_set(w, (int)i, vals[i].ptr, vals[i].len, errstr, errlen))) goto out;
    }
out:
    json_doc_free(&doc);
    eddy_free(node);
    eddy_free(off);
    eddy_free(isnull);
    eddy_free(vals);
    wr_free(&buf);
    return rc;
}
