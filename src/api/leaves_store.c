/* The Leaves API's read side on eddy's table store (demo.leaves, rows written by the projection
 * or straight through CQL), and read-your-writes through the engine: the projection of topic
 * `leaves` into demo.leaves runs as pipeline "leaves-projection" (the statements of
 * examples/leaves.sql), and a command waits until every running pipeline reading the topic has
 * applied its event. */
#include <pthread.h>
#include <stdio.h>

#include "api/api_int.h"
#include "engine/engine.h"
#include "store/store.h"

#define PROJECTION "leaves-projection"
#define ITER_POOL 16

/* The projection (kept in step with examples/leaves.sql). */
static const char projection_sql[] =
    "CREATE STREAM leaf_events (\n"
    "    id text KEY, is_archived int, all list<text>, is_starred int, user_name text, user_email text,\n"
    "    user_id int, tags list<text>, slugs list<text>, is_public boolean, title text, url text,\n"
    "    content_text text, created_at timestamp, updated_at timestamp, mimetype text, language text,\n"
    "    reading_time int, domain_name text, preview_picture text, http_status text, links list<text>,\n"
    "    content text)\n"
    "  WITH (topic = 'leaves', format = 'json', changelog = true);\n"
    "CREATE KEYSPACE IF NOT EXISTS demo\n"
    "  WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n"
    "CREATE TABLE IF NOT EXISTS demo.leaves (\n"
    "    id text PRIMARY KEY, is_archived int, all list<text>, is_starred int, user_name text,\n"
    "    user_email text, user_id int, tags list<text>, slugs list<text>, is_public boolean, title text,\n"
    "    url text, content_text text, created_at timestamp, updated_at timestamp, mimetype text,\n"
    "    language text, reading_time int, domain_name text, preview_picture text, http_status text,\n"
    "    links list<text>, content text);\n"
    "INSERT INTO demo.leaves SELECT * FROM leaf_events;\n";

typedef struct {
    store_t *st;
    engine_t *eng;
    pthread_mutex_t mu;
    store_iter_t *pool[ITER_POOL]; /* iterators belong to one thread at a time: lend them */
    int npool;
    uint32_t map_table, map_version; /* the column map below is for this table version */
    int map[LEAF_NCOLS];
    bool map_valid;
} lstore_t;

static store_iter_t *iter_take(lstore_t *ls) {
    pthread_mutex_lock(&ls->mu);
    store_iter_t *it = ls->npool ? ls->pool[--ls->npool] : NULL;
    pthread_mutex_unlock(&ls->mu);
    return it ? it : store_iter_new(ls->st);
}

static void iter_give(lstore_t *ls, store_iter_t *it) {
    pthread_mutex_lock(&ls->mu);
    if (ls->npool < ITER_POOL) {
        ls->pool[ls->npool++] = it;
        it = NULL;
    }
    pthread_mutex_unlock(&ls->mu);
    if (it) store_iter_free(it);
}

/* demo.leaves' columns by leaf column, looked up in this version of the table (-1: absent,
 * e.g. after an ALTER ... DROP); cached per table version. */
static void column_map(lstore_t *ls, const store_table_t *t, int map[LEAF_NCOLS]) {
    const store_table_info_t *info = store_table_info(t);
    pthread_mutex_lock(&ls->mu);
    bool hit = ls->map_valid && ls->map_table == info->id && ls->map_version == info->version;
    if (hit) memcpy(map, ls->map, sizeof ls->map);
    pthread_mutex_unlock(&ls->mu);
    if (hit) return;
    for (int c = 0; c < LEAF_NCOLS; c++) map[c] = store_table_column(t, api_leaf_columns[c].name, strlen(api_leaf_columns[c].name));
    pthread_mutex_lock(&ls->mu);
    memcpy(ls->map, map, sizeof ls->map);
    ls->map_table = info->id;
    ls->map_version = info->version;
    ls->map_valid = true;
    pthread_mutex_unlock(&ls->mu);
}

static uint64_t be_u(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* A row's cells into leaf (native protocol values by column type). */
static int row_to_leaf(const store_row_t *row, const int map[LEAF_NCOLS], api_leaf_t *leaf) {
    const store_table_info_t *info = store_table_info(row->table);
    int rc = EDDY_OK;
    for (int c = 0; c < LEAF_NCOLS && rc == EDDY_OK; c++) {
        api_leaf_set_null(leaf, (api_leaf_col_t)c);
        if (map[c] < 0 || (size_t)map[c] >= row->ncells) continue;
        const store_cell_t *cell = &row->cells[map[c]];
        if (!cell->ptr) continue;
        const store_type_t *type = info->columns[map[c]].type;
        switch (type->kind) {
        case STORE_T_TEXT:
        case STORE_T_ASCII: rc = api_leaf_set_text(leaf, (api_leaf_col_t)c, (const char *)cell->ptr, cell->len); break;
        case STORE_T_INT:
            if (cell->len == 4) api_leaf_set_int(leaf, (api_leaf_col_t)c, (int32_t)(uint32_t)be_u(cell->ptr, 4));
            break;
        case STORE_T_BIGINT:
        case STORE_T_TIMESTAMP:
            if (cell->len == 8) api_leaf_set_int(leaf, (api_leaf_col_t)c, (int64_t)be_u(cell->ptr, 8));
            break;
        case STORE_T_BOOLEAN:
            if (cell->len == 1) api_leaf_set_bool(leaf, (api_leaf_col_t)c, cell->ptr[0] != 0);
            break;
        case STORE_T_LIST:
        case STORE_T_SET: {
            long n = store_value_elements(type, cell->ptr, cell->len, NULL, 0);
            if (n <= 0) break;
            eddy_view_t *el = eddy_calloc((size_t)n, sizeof *el);
            if (!el) return EDDY_ERR_NOMEM;
            store_value_elements(type, cell->ptr, cell->len, el, (size_t)n);
            for (long i = 0; i < n && rc == EDDY_OK; i++)
                rc = api_leaf_list_append(leaf, (api_leaf_col_t)c, el[i].ptr ? (const char *)el[i].ptr : "", el[i].ptr ? el[i].len : 0);
            eddy_free(el);
            break;
        }
        default: break; /* a column retyped by hand: not a leaf value */
        }
    }
    return rc;
}

/* One cell as JSON, the way api_leaf_write_json writes what row_to_leaf reads from it; false
 * when the cell is not a value of the leaf column (written as null). */
static bool cell_write_json(wr_t *w, const store_type_t *type, api_leaf_type_t want, const store_cell_t *cell) {
    switch (type->kind) {
    case STORE_T_TEXT:
    case STORE_T_ASCII:
        if (want != LEAF_TEXT) return false;
        json_write_string(w, (const char *)cell->ptr, cell->len);
        return true;
    case STORE_T_INT:
    case STORE_T_BIGINT:
    case STORE_T_TIMESTAMP: {
        size_t size = type->kind == STORE_T_INT ? 4 : 8;
        if (cell->len != size || (want != LEAF_INT && want != LEAF_TIMESTAMP)) return false;
        int64_t v = size == 4 ? (int32_t)(uint32_t)be_u(cell->ptr, 4) : (int64_t)be_u(cell->ptr, 8);
        if (want == LEAF_INT) api_leaf_write_int(w, v);
        else api_leaf_write_timestamp(w, v);
        return true;
    }
    case STORE_T_BOOLEAN:
        if (cell->len != 1 || want != LEAF_BOOL) return false;
        wr_str(w, cell->ptr[0] ? "true" : "false");
        return true;
    case STORE_T_LIST:
    case STORE_T_SET: {
        if (want != LEAF_LIST) return false;
        long n = store_value_elements(type, cell->ptr, cell->len, NULL, 0);
        if (n <= 0) return false; /* an empty list is null */
        eddy_view_t stack[64], *el = n <= 64 ? stack : eddy_calloc((size_t)n, sizeof *el);
        if (!el) {
            w->err = EDDY_ERR_NOMEM;
            return true;
        }
        store_value_elements(type, cell->ptr, cell->len, el, (size_t)n);
        wr_u8(w, '[');
        for (long i = 0; i < n; i++) {
            if (i) wr_u8(w, ',');
            json_write_string(w, el[i].ptr ? (const char *)el[i].ptr : "", el[i].ptr ? el[i].len : 0);
        }
        wr_u8(w, ']');
        if (el != stack) eddy_free(el);
        return true;
    }
    default: return false; /* a column retyped by hand: not a leaf value */
    }
}

/* A row as the JSON of its leaf, straight from the cells: a GET copies each value once, into the
 * answer. */
static void row_write_json(const store_row_t *row, const int map[LEAF_NCOLS], wr_t *w) {
    const store_table_info_t *info = store_table_info(row->table);
    for (int c = 0; c < LEAF_NCOLS; c++) {
        api_leaf_write_key(w, (api_leaf_col_t)c);
        const store_cell_t *cell = map[c] >= 0 && (size_t)map[c] < row->ncells ? &row->cells[map[c]] : NULL;
        if (!cell || !cell->ptr || !cell_write_json(w, info->columns[map[c]].type, api_leaf_columns[c].type, cell))
            wr_str(w, "null");
    }
    wr_u8(w, '}');
}

/* The row of id, handed to use(row, map, arg); EDDY_ERR_NOT_FOUND when there is none. */
static int ls_point_read(lstore_t *ls, const char *id, int (*use)(const store_row_t *, const int *, void *), void *arg,
                         char *err, size_t errlen) {
    const store_table_t *t = NULL;
    int rc = store_table_lookup(ls->st, "demo", "leaves", &t, err, errlen);
    if (rc) return rc == EDDY_ERR_NOT_FOUND ? eddy_err(err, errlen, EDDY_ERR_IO, "table demo.leaves does not exist") : rc;
    int map[LEAF_NCOLS];
    column_map(ls, t, map);
    eddy_view_t key = eddy_view_str(id);
    store_query_t q = {.table = t, .keys = &key, .nkeys = 1, .limit = 1, .no_static_only = true};
    store_iter_t *it = iter_take(ls);
    const store_row_t *row;
    rc = it ? store_iter_start(it, &q, err, errlen) : EDDY_ERR_NOMEM;
    if (rc == EDDY_OK) {
        int n = store_iter_next(it, &row, err, errlen);
        rc = n == 1 ? use(row, map, arg) : n == 0 ? EDDY_ERR_NOT_FOUND : n;
    }
    if (it) iter_give(ls, it);
    store_table_release(t);
    return rc;
}

static int use_leaf(const store_row_t *row, const int *map, void *leaf) { return row_to_leaf(row, map, leaf); }

static int use_json(const store_row_t *row, const int *map, void *w) {
    row_write_json(row, map, w);
    return wr_ok(w) ? EDDY_OK : EDDY_ERR_NOMEM;
}

static int ls_get(void *ctx, const char *id, api_leaf_t *leaf, char *err, size_t errlen) {
    return ls_point_read(ctx, id, use_leaf, leaf, err, errlen);
}

static int ls_get_json(void *ctx, const char *id, wr_t *out, char *err, size_t errlen) {
    return ls_point_read(ctx, id, use_json, out, err, errlen);
}

static int ls_scan(void *ctx, int64_t limit, wr_t *out, size_t *count, char *err, size_t errlen) {
    lstore_t *ls = ctx;
    const store_table_t *t = NULL;
    *count = 0;
    int rc = store_table_lookup(ls->st, "demo", "leaves", &t, err, errlen);
    if (rc) return rc == EDDY_ERR_NOT_FOUND ? EDDY_OK : rc; /* no table yet: no leaves */
    int map[LEAF_NCOLS];
    column_map(ls, t, map);
    store_query_t q = {.table = t, .limit = limit, .no_static_only = true};
    store_iter_t *it = iter_take(ls);
    rc = it ? store_iter_start(it, &q, err, errlen) : EDDY_ERR_NOMEM;
    const store_row_t *row;
    int n = 0;
    while (rc == EDDY_OK && (n = store_iter_next(it, &row, err, errlen)) == 1) {
        if (*count) wr_u8(out, ',');
        row_write_json(row, map, out);
        (*count)++;
    }
    if (rc == EDDY_OK && n < 0) rc = n;
    if (rc == EDDY_OK && !wr_ok(out)) rc = out->err;
    if (it) iter_give(ls, it);
    store_table_release(t);
    return rc;
}

static int ls_wait(void *ctx, int64_t offset, int64_t timeout_ms, void (*cb)(void *, int), void *arg) {
    lstore_t *ls = ctx;
    if (!ls->eng) return EDDY_ERR_NOT_FOUND;
    /* Every running pipeline reading the topic, not only the projection: a command's answer then
     * means its effect is visible in every derived table (leaves_by_tag too). */
    return engine_wait_applied(ls->eng, NULL, API_LEAVES_TOPIC, 0, offset, timeout_ms, cb, arg);
}

static void ls_close(void *ctx) {
    lstore_t *ls = ctx;
    for (int i = 0; i < ls->npool; i++) store_iter_free(ls->pool[i]);
    pthread_mutex_destroy(&ls->mu);
    eddy_free(ls);
}

/* Without the engine, keyspace demo and table leaves are still created, so that CQL clients and
 * GET work; commands then answer once their event is durable. */
static int create_table(store_t *st, char *errstr, size_t errlen) {
    static const char *const keys[] = {"class", "replication_factor"};
    static const char *const vals[] = {"SimpleStrategy", "1"};
    store_strmap_t repl = {2, keys, vals};
    int rc = store_keyspace_create(st, "demo", &repl, true, true, NULL, errstr, errlen);
    if (rc) return rc;
    store_column_spec_t cols[LEAF_NCOLS];
    const store_type_t *list = store_type_list(store_type_native(STORE_T_TEXT), false);
    if (!list) return EDDY_ERR_NOMEM;
    for (int c = 0; c < LEAF_NCOLS; c++) {
        const store_type_t *t;
        switch (api_leaf_columns[c].type) {
        case LEAF_INT: t = store_type_native(STORE_T_INT); break;
        case LEAF_BOOL: t = store_type_native(STORE_T_BOOLEAN); break;
        case LEAF_TIMESTAMP: t = store_type_native(STORE_T_TIMESTAMP); break;
        case LEAF_LIST: t = list; break;
        default: t = store_type_native(STORE_T_TEXT);
        }
        cols[c] = (store_column_spec_t){api_leaf_columns[c].name, t, c == LEAF_ID ? STORE_COL_PARTITION_KEY : STORE_COL_REGULAR, false};
    }
    rc = store_table_create(st, "demo", "leaves", cols, LEAF_NCOLS, NULL, 0, true, NULL, errstr, errlen);
    store_type_release(list);
    return rc;
}

int api_leaves_backend_open(api_t *api, api_leaves_backend_t *out, char *errstr, size_t errlen) {
    memset(out, 0, sizeof *out);
    store_t *st = api->cfg.store;
    engine_t *eng = api->cfg.engine;
    if (!st) return EDDY_OK;
    int rc;
    char why[512] = "";
    if (eng) {
        engine_submit_result_t res;
        rc = engine_submit(eng, PROJECTION, projection_sql, sizeof projection_sql - 1, &res, why, sizeof why);
        if (rc) return eddy_err(errstr, errlen, rc, "cannot start the projection of topic leaves: %s", why);
    } else {
        rc = create_table(st, why, sizeof why);
        if (rc) return eddy_err(errstr, errlen, rc, "cannot create demo.leaves: %s", why);
    }
    lstore_t *ls = eddy_calloc(1, sizeof *ls);
    if (!ls) return EDDY_ERR_NOMEM;
    ls->st = st;
    ls->eng = eng;
    pthread_mutex_init(&ls->mu, NULL);
    *out = (api_leaves_backend_t){.get = ls_get, .get_json = ls_get_json, .scan = ls_scan, .wait = ls_wait, .close = ls_close, .ctx = ls};
    return EDDY_OK;
}
