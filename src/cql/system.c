/* The system tables drivers and tools read, served as virtual tables through the normal SELECT
 * path (projections, WHERE): system.local (Cassandra 4.0's columns: one node owning the whole
 * ring), system.peers and system.peers_v2 (empty: one node), system.size_estimates, the nine
 * system_schema tables built from the store's catalog (tables.flags = {'compound'}, non-null
 * clustering_order, CQL type strings) and system_virtual_schema (empty). The column lists are
 * declared once below; their types are parsed on first use. */
#include <pthread.h>
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

typedef struct {
    const char *name;
    const char *type;
    char kind; /* 'p' partition key, 'c' clustering, 'r' regular */
} vcol_t;

typedef struct {
    const char *keyspace;
    const char *name;
    const vcol_t *cols;
} vtable_def_t;

#define END {NULL, NULL, 0}

static const vcol_t local_cols[] = {
    {"key", "text", 'p'}, {"bootstrapped", "text", 'r'}, {"broadcast_address", "inet", 'r'},
    {"broadcast_port", "int", 'r'}, {"cluster_name", "text", 'r'}, {"cql_version", "text", 'r'},
    {"data_center", "text", 'r'}, {"gossip_generation", "int", 'r'}, {"host_id", "uuid", 'r'},
    {"listen_address", "inet", 'r'}, {"listen_port", "int", 'r'}, {"native_protocol_version", "text", 'r'},
    {"partitioner", "text", 'r'}, {"rack", "text", 'r'}, {"release_version", "text", 'r'},
    {"rpc_address", "inet", 'r'}, {"rpc_port", "int", 'r'}, {"schema_version", "uuid", 'r'},
    {"tokens", "set<text>", 'r'}, {"truncated_at", "map<uuid, blob>", 'r'}, END,
};
static const vcol_t peers_cols[] = {
    {"peer", "inet", 'p'}, {"data_center", "text", 'r'}, {"host_id", "uuid", 'r'}, {"preferred_ip", "inet", 'r'},
    {"rack", "text", 'r'}, {"release_version", "text", 'r'}, {"rpc_address", "inet", 'r'},
    {"schema_version", "uuid", 'r'}, {"tokens", "set<text>", 'r'}, END,
};
static const vcol_t peers_v2_cols[] = {
    {"peer", "inet", 'p'}, {"peer_port", "int", 'c'}, {"data_center", "text", 'r'}, {"host_id", "uuid", 'r'},
    {"native_address", "inet", 'r'}, {"native_port", "int", 'r'}, {"preferred_ip", "inet", 'r'},
    {"preferred_port", "int", 'r'}, {"rack", "text", 'r'}, {"release_version", "text", 'r'},
    {"schema_version", "uuid", 'r'}, {"tokens", "set<text>", 'r'}, END,
};
static const vcol_t size_estimates_cols[] = {
    {"keyspace_name", "text", 'p'}, {"table_name", "text", 'c'}, {"range_start", "text", 'c'},
    {"range_end", "text", 'c'}, {"mean_partition_size", "bigint", 'r'}, {"partitions_count", "bigint", 'r'}, END,
};
static const vcol_t keyspaces_cols[] = {
    {"keyspace_name", "text", 'p'}, {"durable_writes", "boolean", 'r'},
    {"replication", "frozen<map<text, text>>", 'r'}, END,
};
static const vcol_t tables_cols[] = {
    {"keyspace_name", "text", 'p'}, {"table_name", "text", 'c'}, {"additional_write_policy", "text", 'r'},
    {"bloom_filter_fp_chance", "double", 'r'}, {"caching", "frozen<map<text, text>>", 'r'}, {"cdc", "boolean", 'r'},
    {"comment", "text", 'r'}, {"compaction", "frozen<map<text, text>>", 'r'},
    {"compression", "frozen<map<text, text>>", 'r'}, {"crc_check_chance", "double", 'r'},
    {"default_time_to_live", "int", 'r'}, {"extensions", "frozen<map<text, blob>>", 'r'},
    {"flags", "frozen<set<text>>", 'r'}, {"gc_grace_seconds", "int", 'r'}, {"id", "uuid", 'r'},
    {"max_index_interval", "int", 'r'}, {"memtable_flush_period_in_ms", "int", 'r'},
    {"min_index_interval", "int", 'r'}, {"read_repair", "text", 'r'}, {"speculative_retry", "text", 'r'}, END,
};
static const vcol_t columns_cols[] = {
    {"keyspace_name", "text", 'p'}, {"table_name", "text", 'c'}, {"column_name", "text", 'c'},
    {"clustering_order", "text", 'r'}, {"column_name_bytes", "blob", 'r'}, {"kind", "text", 'r'},
    {"position", "int", 'r'}, {"type", "text", 'r'}, END,
};
static const vcol_t types_cols[] = {
    {"keyspace_name", "text", 'p'}, {"type_name", "text", 'c'}, {"field_names", "frozen<list<text>>", 'r'},
    {"field_types", "frozen<list<text>>", 'r'}, END,
};
static const vcol_t functions_cols[] = {
    {"keyspace_name", "text", 'p'}, {"function_name", "text", 'c'}, {"argument_types", "frozen<list<text>>", 'c'},
    {"argument_names", "frozen<list<text>>", 'r'}, {"body", "text", 'r'}, {"called_on_null_input", "boolean", 'r'},
    {"language", "text", 'r'}, {"return_type", "text", 'r'}, END,
};
static const vcol_t aggregates_cols[] = {
    {"keyspace_name", "text", 'p'}, {"aggregate_name", "text", 'c'}, {"argument_types", "frozen<list<text>>", 'c'},
    {"final_func", "text", 'r'}, {"initcond", "text", 'r'}, {"return_type", "text", 'r'}, {"state_func", "text", 'r'},
    {"state_type", "text", 'r'}, END,
};
static const vcol_t views_cols[] = {
    {"keyspace_name", "text", 'p'}, {"view_name", "text", 'c'}, {"additional_write_policy", "text", 'r'},
    {"base_table_id", "uuid", 'r'}, {"base_table_name", "text", 'r'}, {"bloom_filter_fp_chance", "double", 'r'},
    {"caching", "frozen<map<text, text>>", 'r'}, {"cdc", "boolean", 'r'}, {"comment", "text", 'r'},
    {"compaction", "frozen<map<text, text>>", 'r'}, {"compression", "frozen<map<text, text>>", 'r'},
    {"crc_check_chance", "double", 'r'}, {"default_time_to_live", "int", 'r'},
    {"extensions", "frozen<map<text, blob>>", 'r'}, {"gc_grace_seconds", "int", 'r'}, {"id", "uuid", 'r'},
    {"include_all_columns", "boolean", 'r'}, {"max_index_interval", "int", 'r'},
    {"memtable_flush_period_in_ms", "int", 'r'}, {"min_index_interval", "int", 'r'}, {"read_repair", "text", 'r'},
    {"speculative_retry", "text", 'r'}, {"where_clause", "text", 'r'}, END,
};
static const vcol_t indexes_cols[] = {
    {"keyspace_name", "text", 'p'}, {"table_name", "text", 'c'}, {"index_name", "text", 'c'}, {"kind", "text", 'r'},
    {"options", "frozen<map<text, text>>", 'r'}, END,
};
static const vcol_t triggers_cols[] = {
    {"keyspace_name", "text", 'p'}, {"table_name", "text", 'c'}, {"trigger_name", "text", 'c'},
    {"options", "frozen<map<text, text>>", 'r'}, END,
};
static const vcol_t dropped_cols[] = {
    {"keyspace_name", "text", 'p'}, {"table_name", "text", 'c'}, {"column_name", "text", 'c'},
    {"dropped_time", "timestamp", 'r'}, {"kind", "text", 'r'}, {"type", "text", 'r'}, END,
};
static const vcol_t vkeyspaces_cols[] = {{"keyspace_name", "text", 'p'}, END};
static const vcol_t vtables_cols[] = {
    {"keyspace_name", "text", 'p'}, {"table_name", "text", 'c'}, {"comment", "text", 'r'}, END,
};
static const vcol_t vcolumns_cols[] = {
    {"keyspace_name", "text", 'p'}, {"table_name", "text", 'c'}, {"column_name", "text", 'c'},
    {"clustering_order", "text", 'r'}, {"column_name_bytes", "blob", 'r'}, {"kind", "text", 'r'},
    {"position", "int", 'r'}, {"type", "text", 'r'}, END,
};

enum {
    VT_LOCAL, VT_PEERS, VT_PEERS_V2, VT_SIZE_ESTIMATES, VT_KEYSPACES, VT_TABLES, VT_COLUMNS, VT_TYPES, VT_FUNCTIONS,
    VT_AGGREGATES, VT_VIEWS, VT_INDEXES, VT_TRIGGERS, VT_DROPPED, VT_VKEYSPACES, VT_VTABLES, VT_VCOLUMNS, VT_COUNT
};

static const vtable_def_t defs[VT_COUNT] = {
    [VT_LOCAL] = {"system", "local", local_cols},
    [VT_PEERS] = {"system", "peers", peers_cols},
    [VT_PEERS_V2] = {"system", "peers_v2", peers_v2_cols},
    [VT_SIZE_ESTIMATES] = {"system", "size_estimates", size_estimates_cols},
    [VT_KEYSPACES] = {"system_schema", "keyspaces", keyspaces_cols},
    [VT_TABLES] = {"system_schema", "tables", tables_cols},
    [VT_COLUMNS] = {"system_schema", "columns", columns_cols},
    [VT_TYPES] = {"system_schema", "types", types_cols},
    [VT_FUNCTIONS] = {"system_schema", "functions", functions_cols},
    [VT_AGGREGATES] = {"system_schema", "aggregates", aggregates_cols},
    [VT_VIEWS] = {"system_schema", "views", views_cols},
    [VT_INDEXES] = {"system_schema", "indexes", indexes_cols},
    [VT_TRIGGERS] = {"system_schema", "triggers", triggers_cols},
    [VT_DROPPED] = {"system_schema", "dropped_columns", dropped_cols},
    [VT_VKEYSPACES] = {"system_virtual_schema", "keyspaces", vkeyspaces_cols},
    [VT_VTABLES] = {"system_virtual_schema", "tables", vtables_cols},
    [VT_VCOLUMNS] = {"system_virtual_schema", "columns", vcolumns_cols},
};

/* The parsed descriptions, built once and never changed afterwards. */
static pthread_once_t infos_once = PTHREAD_ONCE_INIT;
static store_table_info_t infos[VT_COUNT];

static void infos_init(void) {
    for (int t = 0; t < VT_COUNT; t++) {
        const vtable_def_t *d = &defs[t];
        size_t n = 0;
        while (d->cols[n].name) n++;
        store_column_t *cols = eddy_calloc(n, sizeof *cols);
        if (!cols) continue;
        size_t np = 0, nc = 0;
        int16_t pos[3] = {0, 0, -1};
        for (size_t i = 0; i < n; i++) {
            const vcol_t *vc = &d->cols[i];
            char err[128];
            if (store_type_parse(NULL, NULL, vc->type, strlen(vc->type), &cols[i].type, err, sizeof err) != EDDY_OK)
                cols[i].type = store_type_native(STORE_T_TEXT);
            cols[i].name = vc->name;
            cols[i].kind = vc->kind == 'p' ? STORE_COL_PARTITION_KEY : vc->kind == 'c' ? STORE_COL_CLUSTERING : STORE_COL_REGULAR;
            cols[i].position = vc->kind == 'p' ? pos[0]++ : vc->kind == 'c' ? pos[1]++ : -1;
            cols[i].id = (uint32_t)i;
            if (vc->kind == 'p') np++;
            if (vc->kind == 'c') nc++;
        }
        store_table_info_t *info = &infos[t];
        info->keyspace = d->keyspace;
        info->name = d->name;
        info->ncolumns = n;
        info->columns = cols;
        info->npartition = np;
        info->nclustering = nc;
        /* A stable id per virtual table, for system_schema.tables.id. */
        uint8_t id[16];
        char buf[96];
        snprintf(buf, sizeof buf, "%s.%s", d->keyspace, d->name);
        cql_md5(buf, strlen(buf), id);
        id[6] = (uint8_t)((id[6] & 0x0f) | 0x30);
        id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
        memcpy(info->uuid, id, 16);
    }
}

bool cql_system_keyspace(const char *ks) {
    return !strcmp(ks, "system") || !strcmp(ks, "system_schema") || !strcmp(ks, "system_virtual_schema");
}

const store_table_info_t *cql_system_table(const char *keyspace, const char *name) {
    pthread_once(&infos_once, infos_init);
    for (int t = 0; t < VT_COUNT; t++)
        if (!strcmp(defs[t].keyspace, keyspace) && !strcmp(defs[t].name, name) && infos[t].columns) return &infos[t];
    return NULL;
}

/* ---- building rows -------------------------------------------------------------------------- */

typedef struct {
    cql_exec_t *x;
    const store_table_info_t *info;
    store_cell_t **rows;
    size_t nrows, cap;
    store_cell_t *cur;
    wr_t *tmp;
    bool nomem;
} rows_t;

static void row_new(rows_t *b) {
    if (b->nrows == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        store_cell_t **rows = arena_alloc(b->x->arena, cap * sizeof *rows);
        if (!rows) {
            b->nomem = true;
            b->cur = NULL;
            return;
        }
        if (b->nrows) memcpy(rows, b->rows, b->nrows * sizeof *rows);
        b->rows = rows;
        b->cap = cap;
    }
    b->cur = arena_alloc(b->x->arena, b->info->ncolumns * sizeof *b->cur);
    if (!b->cur) {
        b->nomem = true;
        return;
    }
    for (size_t i = 0; i < b->info->ncolumns; i++) b->cur[i] = (store_cell_t){NULL, 0, INT64_MIN, 0};
    b->rows[b->nrows++] = b->cur;
}

static int col_of(const rows_t *b, const char *name) {
    for (size_t i = 0; i < b->info->ncolumns; i++)
        if (!strcmp(b->info->columns[i].name, name)) return (int)i;
    return -1;
}

static void set_bytes(rows_t *b, const char *col, const void *p, size_t n) {
    int i = col_of(b, col);
    if (i < 0 || !b->cur) return;
    uint8_t *copy = arena_memdup(b->x->arena, n ? p : "", n ? n : 1);
    if (!copy) {
        b->nomem = true;
        return;
    }
    b->cur[i].ptr = copy;
    b->cur[i].len = n;
}

static void set_text(rows_t *b, const char *col, const char *s) { set_bytes(b, col, s, strlen(s)); }

static void set_int(rows_t *b, const char *col, int32_t v) {
    uint8_t buf[4];
    store_u32(buf, (uint32_t)v);
    set_bytes(b, col, buf, 4);
}

static void set_bigint(rows_t *b, const char *col, int64_t v) {
    uint8_t buf[8];
    store_u64(buf, (uint64_t)v);
    set_bytes(b, col, buf, 8);
}

static void set_double(rows_t *b, const char *col, double v) {
    uint8_t buf[8];
    uint64_t u;
    memcpy(&u, &v, 8);
    store_u64(buf, u);
    set_bytes(b, col, buf, 8);
}

static void set_bool(rows_t *b, const char *col, bool v) { set_bytes(b, col, v ? "\1" : "\0", 1); }

/* A collection of text values (list or set) or a text map. */
static void set_texts(rows_t *b, const char *col, const char *const *items, size_t n) {
    wr_t *w = b->tmp;
    wr_reset(w);
    wr_u32(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) cql_wr_bytes(w, items[i], (int32_t)strlen(items[i]));
    set_bytes(b, col, w->buf, w->len);
}

static void set_map(rows_t *b, const char *col, const store_strmap_t *m) {
    wr_t *w = b->tmp;
    wr_reset(w);
    wr_u32(w, (uint32_t)m->n);
    for (size_t i = 0; i < m->n; i++) {
        cql_wr_bytes(w, m->keys[i], (int32_t)strlen(m->keys[i]));
        cql_wr_bytes(w, m->values[i], (int32_t)strlen(m->values[i]));
    }
    set_bytes(b, col, w->buf, w->len);
}

static void local_row(rows_t *b) {
    cql_server_t *srv = b->x->srv;
    const cql_server_opts_t *o = cql_server_opts(srv);
    size_t alen;
    const uint8_t *addr = cql_server_addr(srv, &alen);
    row_new(b);
    set_text(b, "key", "local");
    set_text(b, "bootstrapped", "COMPLETED");
    set_bytes(b, "broadcast_address", addr, alen);
    set_int(b, "broadcast_port", 7000);
    set_text(b, "cluster_name", o->cluster_name);
    set_text(b, "cql_version", "3.4.5");
    set_text(b, "data_center", o->data_center);
    set_int(b, "gossip_generation", (int32_t)cql_server_started_s(srv));
    set_bytes(b, "host_id", cql_server_host_id(srv), 16);
    set_bytes(b, "listen_address", addr, alen);
    set_int(b, "listen_port", 7000);
    set_text(b, "native_protocol_version", "5");
    set_text(b, "partitioner", "org.apache.cassandra.dht.Murmur3Partitioner");
    set_text(b, "rack", "rack1");
    set_text(b, "release_version", "4.0.11");
    set_bytes(b, "rpc_address", addr, alen);
    set_int(b, "rpc_port", cql_server_port(srv));
    store_schema_t *s = store_schema_get(cql_server_store(srv));
    uint8_t version[16];
    store_schema_version(s, version);
    store_schema_release(s);
    set_bytes(b, "schema_version", version, 16);
    /* One node: a single token, so that the whole ring is this node's. */
    static const char *const tokens[] = {"-9223372036854775808"};
    set_texts(b, "tokens", tokens, 1);
}

static const char *const compound[] = {"compound"};

static void table_row(rows_t *b, const store_table_info_t *ti, bool is_view) {
    const store_table_options_t *o = &ti->options;
    row_new(b);
    set_text(b, "keyspace_name", ti->keyspace);
    set_text(b, is_view ? "view_name" : "table_name", ti->name);
    set_text(b, "additional_write_policy", o->additional_write_policy ? o->additional_write_policy : "99p");
    set_double(b, "bloom_filter_fp_chance", o->bloom_filter_fp_chance);
    set_map(b, "caching", &o->caching);
    set_bool(b, "cdc", o->cdc);
    set_text(b, "comment", o->comment ? o->comment : "");
    set_map(b, "compaction", &o->compaction);
    set_map(b, "compression", &o->compression);
    set_double(b, "crc_check_chance", o->crc_check_chance);
    set_int(b, "default_time_to_live", o->default_time_to_live);
    set_bytes(b, "extensions", "\0\0\0\0", 4);
    set_texts(b, "flags", compound, 1);
    set_int(b, "gc_grace_seconds", o->gc_grace_seconds);
    set_bytes(b, "id", ti->uuid, 16);
    set_int(b, "max_index_interval", o->max_index_interval);
    set_int(b, "memtable_flush_period_in_ms", o->memtable_flush_period_in_ms);
    set_int(b, "min_index_interval", o->min_index_interval);
    set_text(b, "read_repair", o->read_repair ? o->read_repair : "BLOCKING");
    set_text(b, "speculative_retry", o->speculative_retry ? o->speculative_retry : "99p");
}

/* Virtual tables have none of the options: Cassandra 4.0's defaults describe them. */
static store_table_info_t with_default_options(const store_table_info_t *vi) {
    static const char *const caching_k[] = {"keys", "rows_per_partition"}, *const caching_v[] = {"ALL", "NONE"};
    static const char *const comp_k[] = {"class", "max_threshold", "min_threshold"};
    static const char *const comp_v[] = {"org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy", "32", "4"};
    static const char *const cz_k[] = {"chunk_length_in_kb", "class"};
    static const char *const cz_v[] = {"16", "org.apache.cassandra.io.compress.LZ4Compressor"};
    store_table_info_t ti = *vi;
    ti.options = (store_table_options_t){"", 0, 864000, 0.01, 1.0, 0, 128, 2048, false, "99p", "99p", "BLOCKING",
                                         {2, caching_k, caching_v}, {3, comp_k, comp_v}, {2, cz_k, cz_v}};
    if (!strcmp(vi->keyspace, "system_schema") || !strcmp(vi->keyspace, "system")) ti.options.gc_grace_seconds = 0;
    return ti;
}

static void column_rows(rows_t *b, const store_table_info_t *ti) {
    for (size_t i = 0; i < ti->ncolumns; i++) {
        const store_column_t *c = &ti->columns[i];
        row_new(b);
        set_text(b, "keyspace_name", ti->keyspace);
        set_text(b, "table_name", ti->name);
        set_text(b, "column_name", c->name);
        set_text(b, "clustering_order", c->kind == STORE_COL_CLUSTERING ? (c->desc ? "desc" : "asc") : "none");
        set_bytes(b, "column_name_bytes", c->name, strlen(c->name));
        set_text(b, "kind", store_col_kind_name((store_col_kind_t)c->kind));
        set_int(b, "position", c->kind == STORE_COL_PARTITION_KEY || c->kind == STORE_COL_CLUSTERING ? c->position : -1);
        wr_t *w = b->tmp;
        wr_reset(w);
        store_type_format(c->type, w);
        set_bytes(b, "type", w->buf, w->len);
    }
}

static void schema_rows(rows_t *b, int which) {
    store_schema_t *s = store_schema_get(cql_server_store(b->x->srv));
    /* The system keyspaces first (they sort before user keyspaces only by accident of naming). */
    static const char *const sys[] = {"system", "system_schema"};
    static const char *const local_k[] = {"class"}, *const local_v[] = {"org.apache.cassandra.locator.LocalStrategy"};
    static const store_strmap_t local_repl = {1, local_k, local_v};
    for (size_t k = 0; k < EDDY_ARRAY_LEN(sys) && !b->nomem; k++) {
        if (which == VT_KEYSPACES) {
            row_new(b);
            set_text(b, "keyspace_name", sys[k]);
            set_bool(b, "durable_writes", true);
            set_map(b, "replication", &local_repl);
            continue;
        }
        for (int t = 0; t < VT_COUNT; t++) {
            if (strcmp(defs[t].keyspace, sys[k]) || !infos[t].columns) continue;
            store_table_info_t ti = with_default_options(&infos[t]);
            if (which == VT_TABLES) table_row(b, &ti, false);
            else if (which == VT_COLUMNS) column_rows(b, &ti);
        }
    }
    for (size_t k = 0; !b->nomem; k++) {
        const store_keyspace_info_t *ks = store_schema_keyspace_at(s, k);
        if (!ks) break;
        if (which == VT_KEYSPACES) {
            row_new(b);
            set_text(b, "keyspace_name", ks->name);
            set_bool(b, "durable_writes", ks->durable_writes);
            set_map(b, "replication", &ks->replication);
            continue;
        }
        if (which == VT_TYPES) {
            for (size_t i = 0;; i++) {
                const store_udt_info_t *u = store_schema_type_at(s, ks->name, i);
                if (!u) break;
                row_new(b);
                set_text(b, "keyspace_name", ks->name);
                set_text(b, "type_name", u->name);
                set_texts(b, "field_names", (const char *const *)u->type->field_names, u->type->nsub);
                const char **ftypes = arena_alloc(b->x->arena, (u->type->nsub ? u->type->nsub : 1) * sizeof *ftypes);
                if (!ftypes) {
                    b->nomem = true;
                    break;
                }
                for (uint16_t f = 0; f < u->type->nsub; f++) {
                    wr_t w;
                    wr_init(&w, 32);
                    store_type_format(u->type->sub[f], &w);
                    ftypes[f] = arena_strndup(b->x->arena, (const char *)w.buf, w.len);
                    wr_free(&w);
                    if (!ftypes[f]) ftypes[f] = "";
                }
                set_texts(b, "field_types", ftypes, u->type->nsub);
            }
            continue;
        }
        for (size_t i = 0;; i++) {
            const store_table_t *t = store_schema_table_at(s, ks->name, i);
            if (!t) break;
            const store_table_info_t *ti = store_table_info(t);
            if (which == VT_TABLES) table_row(b, ti, false);
            else if (which == VT_COLUMNS) column_rows(b, ti);
            else if (which == VT_DROPPED) {
                for (size_t d = 0; d < ti->ndropped; d++) {
                    const store_dropped_column_t *dc = &ti->dropped[d];
                    row_new(b);
                    set_text(b, "keyspace_name", ks->name);
                    set_text(b, "table_name", ti->name);
                    set_text(b, "column_name", dc->name);
                    set_bigint(b, "dropped_time", dc->dropped_time_us / 1000);
                    set_text(b, "kind", store_col_kind_name((store_col_kind_t)dc->kind));
                    wr_t *w = b->tmp;
                    wr_reset(w);
                    store_type_format(dc->type, w);
                    set_bytes(b, "type", w->buf, w->len);
                }
            }
        }
    }
    store_schema_release(s);
}

int cql_system_rows(cql_exec_t *x, const store_table_info_t *info, store_cell_t ***rows, size_t *nrows) {
    rows_t b;
    memset(&b, 0, sizeof b);
    b.x = x;
    b.info = info;
    wr_t tmp;
    wr_init(&tmp, 256);
    b.tmp = &tmp;
    int which = (int)(info - infos);
    switch (which) {
    case VT_LOCAL: local_row(&b); break;
    case VT_KEYSPACES:
    case VT_TABLES:
    case VT_COLUMNS:
    case VT_TYPES:
    case VT_DROPPED: schema_rows(&b, which); break;
    default: break; /* peers, size estimates, functions, views ...: no rows */
    }
    wr_free(&tmp);
    if (b.nomem) return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
    *rows = b.rows;
    *nrows = b.nrows;
    return EDDY_OK;
}
