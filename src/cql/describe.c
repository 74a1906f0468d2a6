/* DESCRIBE, executed by the server as Cassandra 4 does for cqlsh 4.x: rows of (keyspace_name,
 * type, name, create_statement), with CREATE statements in Cassandra's layout (options in
 * alphabetical order, one per line), or (cluster, partitioner, snitch) for DESCRIBE CLUSTER. */
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

typedef struct {
    cql_exec_t *x;
    wr_t rows;
    size_t nrows;
    bool with_statements;
    wr_t stmt;
} desc_t;

static void ident(wr_t *w, const char *s) { sql_print_ident(w, s, strlen(s)); }

static void add_row(desc_t *d, const char *ks, const char *type, const char *name) {
    cql_wr_bytes(&d->rows, ks, (int32_t)strlen(ks));
    cql_wr_bytes(&d->rows, type, (int32_t)strlen(type));
    cql_wr_bytes(&d->rows, name, (int32_t)strlen(name));
    cql_wr_bytes(&d->rows, d->stmt.buf, (int32_t)d->stmt.len);
    d->nrows++;
}

static void strmap(wr_t *w, const store_strmap_t *m) {
    wr_u8(w, '{');
    for (size_t i = 0; i < m->n; i++) {
        if (i) wr_str(w, ", ");
        sql_print_string(w, m->keys[i], strlen(m->keys[i]));
        wr_str(w, ": ");
        sql_print_string(w, m->values[i], strlen(m->values[i]));
    }
    wr_u8(w, '}');
}

static void describe_keyspace_stmt(desc_t *d, const store_keyspace_info_t *k) {
    wr_t *w = &d->stmt;
    wr_reset(w);
    wr_str(w, "CREATE KEYSPACE ");
    ident(w, k->name);
    wr_str(w, " WITH replication = ");
    strmap(w, &k->replication);
    wr_fmt(w, "  AND durable_writes = %s;", k->durable_writes ? "true" : "false");
    add_row(d, k->name, "keyspace", k->name);
}

static void describe_type(desc_t *d, const store_udt_info_t *u) {
    wr_t *w = &d->stmt;
    wr_reset(w);
    wr_str(w, "CREATE TYPE ");
    ident(w, u->keyspace);
    wr_u8(w, '.');
    ident(w, u->name);
    wr_str(w, " (\n");
    for (uint16_t f = 0; f < u->type->nsub; f++) {
        wr_str(w, "    ");
        ident(w, u->type->field_names[f]);
        wr_u8(w, ' ');
        store_type_format(u->type->sub[f], w);
        wr_str(w, f + 1 < u->type->nsub ? ",\n" : "\n");
    }
    wr_str(w, ");");
    add_row(d, u->keyspace, "type", u->name);
}

static void fmt_double(wr_t *w, double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", v);
    wr_str(w, buf);
    if (!strpbrk(buf, ".e")) wr_str(w, ".0");
}

static void describe_table(desc_t *d, const store_table_info_t *t) {
    wr_t *w = &d->stmt;
    wr_reset(w);
    wr_str(w, "CREATE TABLE ");
    ident(w, t->keyspace);
    wr_u8(w, '.');
    ident(w, t->name);
    wr_str(w, " (\n");
    bool single = t->npartition == 1 && t->nclustering == 0;
    for (size_t i = 0; i < t->ncolumns; i++) {
        const store_column_t *c = &t->columns[i];
        wr_str(w, "    ");
        ident(w, c->name);
        wr_u8(w, ' ');
        store_type_format(c->type, w);
        if (c->kind == STORE_COL_STATIC) wr_str(w, " static");
        if (single && i == 0) wr_str(w, " PRIMARY KEY");
        wr_str(w, i + 1 < t->ncolumns || !single ? ",\n" : "\n");
    }
    if (!single) {
        wr_str(w, "    PRIMARY KEY (");
        if (t->npartition > 1) wr_u8(w, '(');
        for (size_t i = 0; i < t->npartition; i++) {
            if (i) wr_str(w, ", ");
            ident(w, t->columns[i].name);
        }
        if (t->npartition > 1) wr_u8(w, ')');
        for (size_t i = 0; i < t->nclustering; i++) {
            wr_str(w, ", ");
            ident(w, t->columns[t->npartition + i].name);
        }
        wr_str(w, ")\n");
    }
    wr_str(w, ") WITH ");
    if (t->nclustering) {
        wr_str(w, "CLUSTERING ORDER BY (");
        for (size_t i = 0; i < t->nclustering; i++) {
            const store_column_t *c = &t->columns[t->npartition + i];
            if (i) wr_str(w, ", ");
            ident(w, c->name);
            wr_str(w, c->desc ? " DESC" : " ASC");
        }
        wr_str(w, ")\n    AND ");
    }
    const store_table_options_t *o = &t->options;
    wr_str(w, "additional_write_policy = ");
    sql_print_string(w, o->additional_write_policy ? o->additional_write_policy : "99p",
                     strlen(o->additional_write_policy ? o->additional_write_policy : "99p"));
    wr_str(w, "\n    AND bloom_filter_fp_chance = ");
    fmt_double(w, o->bloom_filter_fp_chance);
    wr_str(w, "\n    AND caching = ");
    strmap(w, &o->caching);
    wr_fmt(w, "\n    AND cdc = %s\n    AND comment = ", o->cdc ? "true" : "false");
    sql_print_string(w, o->comment ? o->comment : "", strlen(o->comment ? o->comment : ""));
    wr_str(w, "\n    AND compaction = ");
    strmap(w, &o->compaction);
    wr_str(w, "\n    AND compression = ");
    strmap(w, &o->compression);
    wr_str(w, "\n    AND crc_check_chance = ");
    fmt_double(w, o->crc_check_chance);
    wr_fmt(w, "\n    AND default_time_to_live = %d\n    AND extensions = {}\n    AND gc_grace_seconds = %d"
              "\n    AND max_index_interval = %d\n    AND memtable_flush_period_in_ms = %d\n    AND min_index_interval = %d"
              "\n    AND read_repair = ",
           o->default_time_to_live, o->gc_grace_seconds, o->max_index_interval, o->memtable_flush_period_in_ms,
           o->min_index_interval);
    sql_print_string(w, o->read_repair ? o->read_repair : "BLOCKING", strlen(o->read_repair ? o->read_repair : "BLOCKING"));
    wr_str(w, "\n    AND speculative_retry = ");
    sql_print_string(w, o->speculative_retry ? o->speculative_retry : "99p",
                     strlen(o->speculative_retry ? o->speculative_retry : "99p"));
    wr_u8(w, ';');
    add_row(d, t->keyspace, "table", t->name);
}

static void describe_keyspace_full(desc_t *d, const store_schema_t *s, const store_keyspace_info_t *k, bool only) {
    describe_keyspace_stmt(d, k);
    if (only) return;
    for (size_t i = 0;; i++) {
        const store_udt_info_t *u = store_schema_type_at(s, k->name, i);
        if (!u) break;
        describe_type(d, u);
    }
    for (size_t i = 0;; i++) {
        const store_table_t *t = store_schema_table_at(s, k->name, i);
        if (!t) break;
        describe_table(d, store_table_info(t));
    }
}

static void write_result(desc_t *d, bool cluster) {
    cql_exec_t *x = d->x;
    static const char *const names[] = {"keyspace_name", "type", "name", "create_statement"};
    static const char *const cnames[] = {"cluster", "partitioner", "snitch"};
    size_t n = cluster ? 3 : 4;
    cql_colmeta_t cols[4];
    for (size_t i = 0; i < n; i++) cols[i] = (cql_colmeta_t){"system", "describe", cluster ? cnames[i] : names[i],
                                                              store_type_native(STORE_T_TEXT)};
    wr_i32(x->out, CQL_RESULT_ROWS);
    cql_write_rows_metadata(x->out, x->version, cols, n, 0, cql_value_null(), NULL);
    wr_i32(x->out, (int32_t)d->nrows);
    wr_bytes(x->out, d->rows.buf, d->rows.len);
}

int cql_exec_describe(cql_exec_t *x, const cql_run_t *r) {
    const sql_describe_t *ds = &r->stmt->describe;
    desc_t d;
    memset(&d, 0, sizeof d);
    d.x = x;
    wr_init(&d.rows, 1024);
    wr_init(&d.stmt, 1024);
    store_schema_t *s = store_schema_get(cql_server_store(x->srv));
    const char *ks = ds->name.ks.name ? ds->name.ks.name : NULL;
    const char *name = ds->name.name.name;
    int rc = EDDY_OK;
    switch (ds->kind) {
    case SQL_DESCRIBE_CLUSTER: {
        const char *cluster = cql_server_opts(x->srv)->cluster_name;
        cql_wr_bytes(&d.rows, cluster, (int32_t)strlen(cluster));
        const char *p = "org.apache.cassandra.dht.Murmur3Partitioner", *sn = "org.apache.cassandra.locator.SimpleSnitch";
        cql_wr_bytes(&d.rows, p, (int32_t)strlen(p));
        cql_wr_bytes(&d.rows, sn, (int32_t)strlen(sn));
        d.nrows = 1;
        write_result(&d, true);
        goto out;
    }
    case SQL_DESCRIBE_KEYSPACES: {
        static const char *const sys[] = {"system", "system_schema", "system_virtual_schema"};
        for (size_t i = 0; i < EDDY_ARRAY_LEN(sys); i++) {
            wr_reset(&d.stmt);
            add_row(&d, sys[i], "keyspace", sys[i]);
        }
        for (size_t i = 0;; i++) {
            const store_keyspace_info_t *k = store_schema_keyspace_at(s, i);
            if (!k) break;
            wr_reset(&d.stmt);
            add_row(&d, k->name, "keyspace", k->name);
        }
        break;
    }
    case SQL_DESCRIBE_SCHEMA:
        for (size_t i = 0;; i++) {
            const store_keyspace_info_t *k = store_schema_keyspace_at(s, i);
            if (!k) break;
            describe_keyspace_full(&d, s, k, false);
        }
        break;
    case SQL_DESCRIBE_KEYSPACE:
    case SQL_DESCRIBE_GENERIC: {
        const char *kname = ds->kind == SQL_DESCRIBE_KEYSPACE ? (name ? name : r->keyspace) : NULL;
        if (ds->kind == SQL_DESCRIBE_GENERIC) {
            /* DESCRIBE x: a keyspace, or a table or type of the session's keyspace. */
            const store_keyspace_info_t *k = !ks ? store_schema_keyspace(s, name) : NULL;
            if (k) {
                describe_keyspace_full(&d, s, k, false);
                break;
            }
            const char *tks = ks ? ks : r->keyspace;
            const store_table_t *t = tks ? store_schema_table(s, tks, name) : NULL;
            if (t) {
                describe_table(&d, store_table_info(t));
                break;
            }
            const store_udt_info_t *u = tks ? store_schema_type(s, tks, name) : NULL;
            if (u) {
                describe_type(&d, u);
                break;
            }
            rc = cql_exec_fail(x, CQL_ERR_INVALID, "'%s' not found in keyspaces", name ? name : "");
            break;
        }
        if (!kname) {
            rc = cql_exec_fail(x, CQL_ERR_INVALID, "No keyspace specified and no current keyspace");
            break;
        }
        const store_keyspace_info_t *k = store_schema_keyspace(s, kname);
        if (!k) rc = cql_exec_fail(x, CQL_ERR_INVALID, "'%s' not found in keyspaces", kname);
        else describe_keyspace_full(&d, s, k, ds->only);
        break;
    }
    case SQL_DESCRIBE_TABLES:
    case SQL_DESCRIBE_TYPES:
        for (size_t i = 0;; i++) {
            const store_keyspace_info_t *k = store_schema_keyspace_at(s, i);
            if (!k) break;
            if (r->keyspace && strcmp(r->keyspace, k->name)) continue;
            for (size_t j = 0;; j++) {
                const char *oname = NULL;
                if (ds->kind == SQL_DESCRIBE_TABLES) {
                    const store_table_t *t = store_schema_table_at(s, k->name, j);
                    if (t) oname = store_table_info(t)->name;
                } else {
                    const store_udt_info_t *u = store_schema_type_at(s, k->name, j);
                    if (u) oname = u->name;
                }
                if (!oname) break;
                wr_reset(&d.stmt);
                add_row(&d, k->name, ds->kind == SQL_DESCRIBE_TABLES ? "table" : "type", oname);
            }
        }
        break;
    case SQL_DESCRIBE_TABLE:
    case SQL_DESCRIBE_TYPE: {
        const char *tks = ks ? ks : r->keyspace;
        if (!tks) {
            rc = cql_exec_fail(x, CQL_ERR_INVALID, "No keyspace specified and no current keyspace");
            break;
        }
        if (ds->kind == SQL_DESCRIBE_TABLE) {
            const store_table_t *t = store_schema_table(s, tks, name);
            if (!t) {
                const store_table_info_t *vi = cql_system_table(tks, name);
                if (vi) {
                    /* Virtual tables describe with Cassandra's defaults. */
                    store_table_info_t ti = *vi;
                    memset(&ti.options, 0, sizeof ti.options);
                    ti.options.bloom_filter_fp_chance = 0.01;
                    ti.options.crc_check_chance = 1.0;
                    ti.options.gc_grace_seconds = 864000;
                    ti.options.min_index_interval = 128;
                    ti.options.max_index_interval = 2048;
                    describe_table(&d, &ti);
                } else {
                    rc = cql_exec_fail(x, CQL_ERR_INVALID, "Table '%s' not found in keyspace '%s'", name, tks);
                }
            } else {
                describe_table(&d, store_table_info(t));
            }
        } else {
            const store_udt_info_t *u = store_schema_type(s, tks, name);
            if (!u) rc = cql_exec_fail(x, CQL_ERR_INVALID, "User defined type '%s' not found in '%s'", name, tks);
            else describe_type(&d, u);
        }
        break;
    }
    case SQL_DESCRIBE_FUNCTIONS:
    case SQL_DESCRIBE_AGGREGATES: break; /* none */
    default:
        rc = cql_exec_fail(x, CQL_ERR_INVALID, "eddy has no %s", ds->kind == SQL_DESCRIBE_INDEX ? "secondary indexes"
                                                              : ds->kind == SQL_DESCRIBE_VIEW ? "materialized views"
                                                                                               : "user-defined functions");
        break;
    }
    if (rc == EDDY_OK) {
        if (!wr_ok(&d.rows) || !wr_ok(&d.stmt)) rc = cql_exec_fail(x, CQL_ERR_SERVER, "out of memory");
        else write_result(&d, false);
    }
out:
    store_schema_release(s);
    wr_free(&d.rows);
    wr_free(&d.stmt);
    return rc;
}
