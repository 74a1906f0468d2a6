/* store: eddy's table store, Cassandra's data model on RocksDB.
 *
 * What it offers, and to whom (the CQL server, the pipelines, the REST API):
 *   - the CQL type system: type descriptors with the native protocol's option ids, parsed from and
 *     printed to CQL type strings ("frozen<map<text, int>>"), values in the native protocol's
 *     serialized form, their validation, Cassandra's comparators, JSON (INSERT JSON / SELECT JSON)
 *     and CQL literals;
 *   - a catalog of keyspaces, tables and user-defined types, persisted and versioned (a schema
 *     version uuid that changes on every DDL), with immutable snapshots and change listeners;
 *   - writes: upserts with per-cell timestamps and Cassandra's last-write-wins, TTLs, row and
 *     partition liveness, tombstones (cell, row, clustering range, partition), collection
 *     operations, counters, conditional writes, TRUNCATE; many rows applied atomically in one
 *     RocksDB write batch together with a small key/value area (pipelines' source positions and
 *     operator state: exactly-once);
 *   - reads: by primary key, partition, clustering slices, token ranges and full scans, in
 *     Cassandra's order (partitions by Murmur3 token, rows by clustering order), with LIMIT,
 *     PER PARTITION LIMIT, reversed order, filtering and self-contained paging states.
 *
 * Threads. A store_t is shared by every thread: all functions taking a store_t, a schema or a
 * table are thread-safe. Builders (store_write_t) and iterators (store_iter_t) belong to one
 * thread at a time. Durability waits happen on the store's own sync thread (group commit):
 * store_write_submit never blocks on fsync; its completion runs on that thread.
 *
 * Values. A value is a (ptr, len) view of the native protocol's serialized bytes; "null" is
 * ptr == NULL (len is then ignored). An empty value (len 0, ptr != NULL) is a real value distinct
 * from null, as in Cassandra. Functions that produce bytes append them to a caller's wr_t.
 *
 * Errors. Functions return eddy_status_t codes; messages go to errstr in Cassandra's wording
 * ("Undefined column name x", "Invalid INTEGER constant (abc) for \"id\" of type int") so the
 * CQL layer can pass them on. Status to CQL error code: EDDY_ERR_INVALID, EDDY_ERR_NOT_FOUND,
 * EDDY_ERR_TOO_LARGE, EDDY_ERR_RANGE -> Invalid (0x2200); EDDY_ERR_EXISTS -> AlreadyExists
 * (0x2400); EDDY_ERR_CONFLICT -> Invalid; EDDY_ERR_UNSUPPORTED -> Invalid; EDDY_ERR_CORRUPT on a
 * paging state -> ProtocolError; anything else (IO, NOMEM) -> Server error (0x0000). */
#ifndef EDDY_STORE_H
#define EDDY_STORE_H

#include "base/base.h"

typedef struct store store_t;
typedef struct store_type store_type_t;
typedef struct store_schema store_schema_t;
typedef struct store_table store_table_t;
typedef struct store_write store_write_t;
typedef struct store_iter store_iter_t;
typedef struct store_row store_row_t;

/* ==== the store ============================================================================ */

/* Durability of store_write_submit / store_sync_after (settings "group", "interval:MS", "none"):
 *   GROUP    completions run after the WAL is fsynced; concurrent writers share one fsync;
 *   INTERVAL completions run at once; the WAL is fsynced every interval_ms;
 *   NONE     completions run at once; the OS flushes when it likes (kill -9 still loses nothing
 *            that store_write_apply returned for, only a power loss can). */
typedef enum { STORE_SYNC_GROUP = 0, STORE_SYNC_INTERVAL = 1, STORE_SYNC_NONE = 2 } store_sync_mode_t;

typedef struct {
    size_t block_cache_bytes;   /* cap of the LRU block cache (filled as data is read); 0 = 32 MiB */
    size_t write_buffer_bytes;  /* per memtable; 0 = default 8 MiB */
    int max_background_jobs;    /* RocksDB compactions + flushes; 0 = default 2 */
    store_sync_mode_t sync_mode;
    int interval_ms;            /* STORE_SYNC_INTERVAL period; 0 = 100 ms */
    size_t max_value_bytes;     /* largest cell value; 0 = default 64 MiB */
    size_t max_mutation_bytes;  /* largest write batch; 0 = default 128 MiB */
    /* The clock (µs since the epoch) used for TTL expiry, local deletion times and default write
     * timestamps; NULL = the wall clock. Tests move time with it. Called from any thread. */
    int64_t (*clock_us)(void *arg);
    void *clock_arg;
} store_options_t;

/* Parses a sync setting ("group", "interval:MS", "none") into opts. EDDY_OK or EDDY_ERR_INVALID. */
int store_options_parse_sync(store_options_t *opts, const char *s, char *errstr, size_t errlen);

/* Opens (creating if missing) the store in directory dir (eddy up uses DIR/store), loads the
 * catalog and starts the sync thread. opts may be NULL (defaults). On success *out owns the
 * store; close it with store_close. */
int store_open(const char *dir, const store_options_t *opts, store_t **out, char *errstr, size_t errlen);

/* Waits for pending completions (they run with their status), fsyncs the WAL, stops the sync
 * thread and closes RocksDB. Every schema, table, builder and iterator must be released first. */
void store_close(store_t *st);

/* The store's clock in µs (see store_options_t.clock_us); the default write timestamp. */
int64_t store_now_us(store_t *st);

/* Forces a full compaction of every column family, twice (merges, then purging by the compaction
 * filter: what gc grace and TTLs allow is gone afterwards). For tests and tools; blocking. */
int store_compact(store_t *st, char *errstr, size_t errlen);

/* Bulk writes (the pipelines under load): while on, the row and key/value column families use
 * larger memtables (32 MiB instead of write_buffer_bytes: fewer flushes and compactions per
 * byte written); when the last caller turns them off, the default comes back and those memtables
 * are flushed (an idle store gives their memory back). Calls nest: each on needs an off. */
void store_bulk_writes(store_t *st, bool on);

/* Approximate figures for /metrics: bytes on disk (SST + WAL), bytes in memtables, block cache
 * usage, and the counters of this process's life. */
typedef struct {
    uint64_t disk_bytes;
    uint64_t memtable_bytes;
    uint64_t block_cache_bytes;
    uint64_t writes;        /* rows and kv entries applied */
    uint64_t batches;       /* write batches applied */
    uint64_t syncs;         /* WAL fsyncs done by the sync thread */
    uint64_t reads;         /* rows returned by iterators */
} store_stats_t;
void store_stats(store_t *st, store_stats_t *out);

/* ==== types ================================================================================ */

/* Type kinds: the native protocol's [option] ids (v4 §6). text and varchar are the same type
 * (0x000D), printed "text" as system_schema does. */
typedef enum {
    STORE_T_CUSTOM = 0x0000,
    STORE_T_ASCII = 0x0001,
    STORE_T_BIGINT = 0x0002,
    STORE_T_BLOB = 0x0003,
    STORE_T_BOOLEAN = 0x0004,
    STORE_T_COUNTER = 0x0005,
    STORE_T_DECIMAL = 0x0006,
    STORE_T_DOUBLE = 0x0007,
    STORE_T_FLOAT = 0x0008,
    STORE_T_INT = 0x0009,
    STORE_T_TIMESTAMP = 0x000B,
    STORE_T_UUID = 0x000C,
    STORE_T_TEXT = 0x000D,
    STORE_T_VARINT = 0x000E,
    STORE_T_TIMEUUID = 0x000F,
    STORE_T_INET = 0x0010,
    STORE_T_DATE = 0x0011,
    STORE_T_TIME = 0x0012,
    STORE_T_SMALLINT = 0x0013,
    STORE_T_TINYINT = 0x0014,
    STORE_T_DURATION = 0x0015,
    STORE_T_LIST = 0x0020,
    STORE_T_MAP = 0x0021,
    STORE_T_SET = 0x0022,
    STORE_T_UDT = 0x0030,
    STORE_T_TUPLE = 0x0031,
} store_kind_t;

/* A type: immutable once built, reference-counted (store_type_keep / store_type_release).
 * Native types are static singletons (keep/release do nothing on them). Read the fields freely;
 * never write them. */
struct store_type {
    uint16_t kind;          /* store_kind_t */
    bool frozen;            /* list/set/map/UDT written frozen<...>; tuples are always frozen */
    uint16_t nsub;          /* list, set: 1 (element); map: 2 (key, value); tuple, UDT: fields */
    const store_type_t *const *sub;
    const char *keyspace;   /* UDT: its keyspace */
    const char *name;       /* UDT: its name (case as created) */
    const char *const *field_names; /* UDT: nsub names */
    int refs_;              /* private: -1 for static types */
};

/* The static descriptor of a native (non-parameterised) kind, or NULL for list/set/map/tuple/UDT. */
const store_type_t *store_type_native(store_kind_t kind);
const store_type_t *store_type_keep(const store_type_t *t);
void store_type_release(const store_type_t *t);

/* Builders for parameterised types (the CQL layer needs list<T> for `IN ?`, tuples for
 * multi-column relations). They take their own references on the subtypes; the result is owned
 * by the caller (release it). NULL when out of memory. */
const store_type_t *store_type_list(const store_type_t *elem, bool frozen);
const store_type_t *store_type_set(const store_type_t *elem, bool frozen);
const store_type_t *store_type_map(const store_type_t *key, const store_type_t *value, bool frozen);
const store_type_t *store_type_tuple(const store_type_t *const *fields, size_t n);
/* The same type with frozen = true at its top level (a reference to t itself when it already
 * is, or when freezing means nothing for its kind). */
const store_type_t *store_type_frozen(const store_type_t *t);

/* Parses a CQL type ("int", "frozen<map<text, list<int>>>", "tuple<int, text>", a UDT name,
 * quoted or not) and returns a new reference in *out. UDT names are looked up in keyspace
 * (which may be NULL when no UDT is expected) of schema (may be NULL). Non-frozen collections
 * nested inside collections are rejected as Cassandra does ("Non-frozen collections are not
 * allowed inside collections: list<list<int>>"). */
int store_type_parse(const store_schema_t *schema, const char *keyspace, const char *text, size_t len,
                     const store_type_t **out, char *errstr, size_t errlen);

/* Appends the type as system_schema.columns shows it: "frozen<map<text, int>>", "text",
 * "frozen<address>" (UDTs by name, double-quoted when the name needs it). */
void store_type_format(const store_type_t *t, wr_t *w);
/* The same, NUL-terminated into buf (truncated to buflen); returns buf. For messages. */
const char *store_type_cstr(const store_type_t *t, char *buf, size_t buflen);

/* Appends the native protocol [option] of the type (v4 §4.2.5.2): id, and for collections,
 * tuples and UDTs their parameters (UDT: keyspace, name, fields). */
void store_type_write_option(const store_type_t *t, wr_t *w);
/* Reads an [option] back (eddy's CQL client); types of UDTs are built from the option itself.
 * EDDY_ERR_CORRUPT on malformed bytes. */
int store_type_read_option(rd_t *r, const store_type_t **out, char *errstr, size_t errlen);

bool store_type_equal(const store_type_t *a, const store_type_t *b);
static inline bool store_type_is_collection(const store_type_t *t) {
    return t->kind == STORE_T_LIST || t->kind == STORE_T_SET || t->kind == STORE_T_MAP;
}
/* Stored as one cell per element (list, set, map) or field (UDT): non-frozen collections/UDTs. */
static inline bool store_type_is_multicell(const store_type_t *t) {
    return (store_type_is_collection(t) || t->kind == STORE_T_UDT) && !t->frozen;
}
/* Whether t or any type inside it is a duration / counter / non-frozen collection. */
bool store_type_references_duration(const store_type_t *t);
/* Whether a value of type `from` can be read as type `to` (ALTER ... TYPE, CAST to text...):
 * same bytes, same meaning (text <- ascii, blob <- anything, varint <- int types...). */
bool store_type_value_compatible(const store_type_t *to, const store_type_t *from);

/* ==== values =============================================================================== */

/* Checks that (p, n) is a valid serialized value of t (lengths, UTF-8 for text, ASCII, version 1
 * for timeuuid, collection framing, ...), recursively. Error messages as Cassandra's
 * MarshalException texts ("Expected 4 or 0 byte int (3)"). Never reads outside (p, n). */
int store_value_validate(const store_type_t *t, const uint8_t *p, size_t n, char *errstr, size_t errlen);

/* Cassandra's comparator for t: <0, 0, >0. Both values must be valid (or empty). Orders
 * timeuuid by time then bytes, uuid as UUIDType, decimal and varint numerically, text and blob
 * by unsigned bytes, empty before anything. Collections, tuples and UDTs as frozen values. */
int store_value_compare(const store_type_t *t, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* The kinds of CQL constant literals (the names appear in Cassandra's messages). */
typedef enum {
    STORE_CONST_STRING, STORE_CONST_INTEGER, STORE_CONST_UUID, STORE_CONST_FLOAT,
    STORE_CONST_BOOLEAN, STORE_CONST_HEX, STORE_CONST_DURATION,
} store_const_kind_t;

/* Converts one constant literal to a value of t, as Cassandra's Constants.Literal does.
 * text is the literal's text: for STRING its content without quotes and with '' already
 * unescaped; for HEX the whole "0x..." text; numbers as written ("-12", "1.5e3", "NaN",
 * "Infinity"). receiver names the column or bind variable for the message:
 *   Invalid INTEGER constant (abc) for "id" of type int     (kind not assignable to t)
 *   Unable to make int from '99999999999'                   (assignable but out of range)
 * For collections, tuples and UDTs use store_value_parse_cql or store_value_build. */
int store_value_from_constant(const store_type_t *t, store_const_kind_t kind, const char *text, size_t len,
                              const char *receiver, wr_t *out, char *errstr, size_t errlen);

/* Whether a constant of that kind may be assigned to t (the test behind the message above). */
bool store_const_assignable(const store_type_t *t, store_const_kind_t kind);

/* Parses a whole CQL literal of type t: constants, NULL (returns EDDY_OK with *is_null),
 * [list], {set}, {map: entries}, (tuple), {udt_field: value}, nested. For shells, tools, the
 * pipelines' defaults and tests. */
int store_value_parse_cql(const store_type_t *t, const char *text, size_t len, wr_t *out, bool *is_null,
                          char *errstr, size_t errlen);

/* Appends the value as a CQL literal ('it''s', 0x0a0b, 1.5, 2024-01-02 03:04:05.678Z quoted,
 * [1, 2], {'a': 1}, (1, 'x'), {street: 'x'}): what DESCRIBE and toString-like paths show. */
void store_value_format_cql(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w);

/* Appends the value as text the way CAST(x AS text) produces it (Cassandra's getString):
 * timestamps as "2024-01-02T03:04:05.678Z", uuids, inet addresses, numbers; blobs as hex. */
void store_value_format_text(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w);

/* Builds a serialized collection, tuple or UDT of type t from serialized elements:
 *   list:  n elements in order;            set: n elements, sorted and de-duplicated;
 *   map:   n = 2*entries (k0, v0, k1, ...), sorted by key, a later duplicate key wins;
 *   tuple, UDT: n <= fields values, ptr NULL = null field, missing trailing fields = null.
 * Elements must already be valid (validate them, or build them with these functions); null
 * elements of a list/set/map are rejected ("null is not supported inside collections"). */
int store_value_build(const store_type_t *t, const eddy_view_t *elems, size_t n, wr_t *out, char *errstr,
                      size_t errlen);

/* Iterates a serialized list/set/map/tuple/UDT: each element (maps: key then value alternate)
 * as a view into p; ptr NULL for a null tuple/UDT field. Returns the element count or a
 * negative status for malformed bytes. elems may be NULL to count only. */
long store_value_elements(const store_type_t *t, const uint8_t *p, size_t n, eddy_view_t *elems, size_t max);

/* JSON (INSERT JSON / fromJson): converts JSON node `node` of doc to a value of t with
 * Cassandra's rules: integers accept numbers and strings ("1"), booleans true/false or
 * case-insensitive strings, timestamps ms or date strings, blobs "0x..", collections as arrays
 * and objects or JSON-encoded strings. A JSON null yields *is_null. Errors carry Cassandra's
 * inner text ("Unable to make int from 'x'", "Expected an int value, but got a Double: 1.5"). */
int store_value_from_json(const store_type_t *t, const json_doc_t *doc, uint32_t node, wr_t *out, bool *is_null,
                          char *errstr, size_t errlen);
/* The same from JSON text (fromJson('...') with a text argument). */
int store_value_from_json_text(const store_type_t *t, const char *json, size_t len, wr_t *out, bool *is_null,
                               char *errstr, size_t errlen);
/* Appends the value as SELECT JSON / toJson prints it: timestamps "2014-01-01 00:00:00.000Z",
 * blobs "0x..", sets as arrays, maps as objects (non-text keys quoted), ", " and ": " spacing
 * as Cassandra. A NULL p appends null. */
void store_value_to_json(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w);

/* ==== catalog ============================================================================== */

typedef enum {
    STORE_COL_PARTITION_KEY = 0,
    STORE_COL_CLUSTERING = 1,
    STORE_COL_STATIC = 2,
    STORE_COL_REGULAR = 3,
} store_col_kind_t;

/* system_schema.columns.kind strings: "partition_key", "clustering", "static", "regular". */
const char *store_col_kind_name(store_col_kind_t kind);

typedef struct {
    const char *name;           /* exact (case-sensitive) name */
    const store_type_t *type;   /* owned by the table */
    uint8_t kind;               /* store_col_kind_t */
    bool desc;                  /* clustering column declared DESC */
    int16_t position;           /* partition key / clustering: 0-based; -1 otherwise */
    uint32_t id;                /* stable internal id (never reused in the table) */
} store_column_t;

/* A string-to-string map as system_schema stores option maps (replication, caching...). */
typedef struct {
    size_t n;
    const char *const *keys;
    const char *const *values;
} store_strmap_t;

/* Table options, with Cassandra 4.0's defaults when not given. */
typedef struct {
    const char *comment;                   /* "" */
    int32_t default_time_to_live;          /* 0 */
    int32_t gc_grace_seconds;              /* 864000 */
    double bloom_filter_fp_chance;         /* 0.01 */
    double crc_check_chance;               /* 1.0 */
    int32_t memtable_flush_period_in_ms;   /* 0 */
    int32_t min_index_interval;            /* 128 */
    int32_t max_index_interval;            /* 2048 */
    bool cdc;                              /* false */
    const char *speculative_retry;         /* "99p" */
    const char *additional_write_policy;   /* "99p" */
    const char *read_repair;               /* "BLOCKING" */
    store_strmap_t caching;                /* keys: ALL, rows_per_partition: NONE */
    store_strmap_t compaction;             /* class ...SizeTieredCompactionStrategy, thresholds */
    store_strmap_t compression;            /* chunk_length_in_kb 16, class ...LZ4Compressor */
} store_table_options_t;

typedef struct {
    const char *name;
    const store_type_t *type;
    uint8_t kind;               /* static or regular */
    int64_t dropped_time_us;
} store_dropped_column_t;

/* Read-only description of a table version. Columns are in SELECT * order: partition key
 * columns (by position), clustering columns (by position), static columns then regular
 * columns, each group sorted by name's bytes, as Cassandra orders them. The column index in
 * this array is how every row and write names a column. */
typedef struct {
    const char *keyspace;
    const char *name;
    uint8_t uuid[16];           /* system_schema.tables.id */
    uint32_t id;                /* internal table id (the key prefix) */
    uint32_t version;           /* bumped by every ALTER of this table */
    size_t ncolumns;
    const store_column_t *columns;
    size_t npartition;          /* columns[0 .. npartition) */
    size_t nclustering;         /* columns[npartition .. npartition + nclustering) */
    size_t nstatic;             /* then nstatic static columns, then the regular ones */
    bool counter;               /* a counter table */
    store_table_options_t options;
    size_t ndropped;
    const store_dropped_column_t *dropped;
} store_table_info_t;

/* Read-only description of a user-defined type (system_schema.types). */
typedef struct {
    const char *keyspace;
    const char *name;
    const store_type_t *type;   /* the UDT itself (field names and types) */
} store_udt_info_t;

typedef struct {
    const char *name;
    bool durable_writes;
    store_strmap_t replication; /* "class" first: org.apache.cassandra.locator.SimpleStrategy ... */
} store_keyspace_info_t;

/* A catalog snapshot: immutable, reference-counted. Take one per request (cheap: an atomic
 * increment) and release it when done; views obtained from it live as long as it does. */
store_schema_t *store_schema_get(store_t *st);
void store_schema_release(store_schema_t *s);
/* The schema version uuid (changes on every DDL) and a counter that increases with it. */
void store_schema_version(const store_schema_t *s, uint8_t uuid[16]);
uint64_t store_schema_generation(const store_schema_t *s);

size_t store_schema_keyspace_count(const store_schema_t *s);
/* Keyspaces sorted by name; NULL past the end. */
const store_keyspace_info_t *store_schema_keyspace_at(const store_schema_t *s, size_t i);
const store_keyspace_info_t *store_schema_keyspace(const store_schema_t *s, const char *name);
/* Tables of a keyspace sorted by name; NULL past the end or for an unknown keyspace. */
const store_table_t *store_schema_table_at(const store_schema_t *s, const char *keyspace, size_t i);
const store_table_t *store_schema_table(const store_schema_t *s, const char *keyspace, const char *name);
/* UDTs of a keyspace sorted by name. */
const store_udt_info_t *store_schema_type_at(const store_schema_t *s, const char *keyspace, size_t i);
const store_udt_info_t *store_schema_type(const store_schema_t *s, const char *keyspace, const char *name);

/* Table handles: a table from a snapshot lives as long as the snapshot, or longer with
 * store_table_keep (a prepared statement keeps its table). Writes and reads through an old
 * version stay correct after an ALTER (columns are named by stable ids inside); compare
 * info->version to notice a change. */
const store_table_t *store_table_keep(const store_table_t *t);
void store_table_release(const store_table_t *t);
const store_table_info_t *store_table_info(const store_table_t *t);
/* The column index of name (exact, case-sensitive), or -1. */
int store_table_column(const store_table_t *t, const char *name, size_t len);

/* Resolves keyspace.table for a request: EDDY_OK with a kept table (release it), or
 * EDDY_ERR_NOT_FOUND with "Keyspace ks does not exist" / "table t does not exist" style
 * messages ("unconfigured table t" as Cassandra 4 says for unknown tables). */
int store_table_lookup(store_t *st, const char *keyspace, const char *name, const store_table_t **out,
                       char *errstr, size_t errlen);

/* ---- DDL ---- */

/* Schema changes reported to listeners (and by the CQL server as SCHEMA_CHANGE events). */
typedef enum { STORE_CHANGE_CREATED, STORE_CHANGE_UPDATED, STORE_CHANGE_DROPPED } store_change_t;
typedef enum { STORE_TARGET_KEYSPACE, STORE_TARGET_TABLE, STORE_TARGET_TYPE } store_target_t;

typedef struct {
    store_change_t change;
    store_target_t target;
    const char *keyspace;
    const char *name;          /* table or type; NULL for a keyspace */
} store_schema_event_t;

/* Listeners run on the thread that made the change, after it is durable and visible, in
 * registration order; they must be short (hand work to a loop). A DDL that changes nothing
 * (IF NOT EXISTS on an existing object) reports nothing. Returns an id for removal. */
typedef void (*store_schema_listener_fn)(void *arg, const store_schema_event_t *ev);
int store_schema_listen(store_t *st, store_schema_listener_fn fn, void *arg);
void store_schema_unlisten(store_t *st, int id);

/* Every DDL function: EDDY_OK when the change was made (*changed = true) or was a no-op
 * allowed by IF [NOT] EXISTS (*changed = false; changed may be NULL); EDDY_ERR_EXISTS /
 * EDDY_ERR_NOT_FOUND / EDDY_ERR_INVALID with Cassandra's message otherwise. Changes are
 * fsynced before the function returns. */

/* replication: "class" plus options ("replication_factor", datacenter names), values as text;
 * SimpleStrategy and NetworkTopologyStrategy are expanded to their full class names. */
int store_keyspace_create(store_t *st, const char *name, const store_strmap_t *replication, bool durable_writes,
                          bool if_not_exists, bool *changed, char *errstr, size_t errlen);
/* replication may be NULL (unchanged); durable_writes < 0 leaves it unchanged. */
int store_keyspace_alter(store_t *st, const char *name, const store_strmap_t *replication, int durable_writes,
                         bool *changed, char *errstr, size_t errlen);
/* Drops the keyspace, its tables (and their data) and types. */
int store_keyspace_drop(store_t *st, const char *name, bool if_exists, bool *changed, char *errstr, size_t errlen);

typedef struct {
    const char *name;
    const store_type_t *type;   /* the caller keeps its reference; the table takes its own */
    uint8_t kind;               /* store_col_kind_t */
    bool desc;                  /* clustering: CLUSTERING ORDER BY (... DESC) */
} store_column_spec_t;

/* A table option as written in WITH: a scalar (text: the string's content or the number as
 * written; map NULL) or a map literal (map set). Names are case-insensitive. */
typedef struct {
    const char *name;
    const char *text;
    const store_strmap_t *map;
} store_option_t;

/* Creates keyspace.name. columns: partition key columns in key order (kind PARTITION_KEY),
 * clustering columns in key order (CLUSTERING), and STATIC / REGULAR columns in any order.
 * Checks what Cassandra checks (duplicate names, counters mixed with other columns, non-frozen
 * collections or durations in the key, static columns without clustering columns, unknown
 * options). */
int store_table_create(store_t *st, const char *keyspace, const char *name, const store_column_spec_t *columns,
                       size_t ncolumns, const store_option_t *options, size_t noptions, bool if_not_exists,
                       bool *changed, char *errstr, size_t errlen);

typedef enum {
    STORE_ALTER_ADD,        /* add columns (specs: name, type, kind STATIC or REGULAR) */
    STORE_ALTER_DROP,       /* drop columns (specs: name); dropped_time_us = timestamp or now */
    STORE_ALTER_RENAME,     /* rename primary key columns: specs[2i].name -> specs[2i+1].name */
    STORE_ALTER_OPTIONS,    /* WITH options */
} store_alter_op_t;

int store_table_alter(store_t *st, const char *keyspace, const char *name, store_alter_op_t op,
                      const store_column_spec_t *specs, size_t nspecs, const store_option_t *options,
                      size_t noptions, int64_t dropped_time_us, bool if_exists, bool *changed, char *errstr,
                      size_t errlen);
int store_table_drop(store_t *st, const char *keyspace, const char *name, bool if_exists, bool *changed,
                     char *errstr, size_t errlen);
/* Removes every row of the table at once (RocksDB range deletion), durably. */
int store_table_truncate(store_t *st, const char *keyspace, const char *name, char *errstr, size_t errlen);

/* CREATE TYPE keyspace.name (field type, ...). */
int store_udt_create(store_t *st, const char *keyspace, const char *name, const char *const *field_names,
                     const store_type_t *const *field_types, size_t nfields, bool if_not_exists, bool *changed,
                     char *errstr, size_t errlen);
/* ALTER TYPE: add one field (field_type != NULL), or rename fields (names[2i] -> names[2i+1]). */
int store_udt_alter_add(store_t *st, const char *keyspace, const char *name, const char *field_name,
                        const store_type_t *field_type, bool *changed, char *errstr, size_t errlen);
int store_udt_alter_rename(store_t *st, const char *keyspace, const char *name, const char *const *names,
                           size_t npairs, bool *changed, char *errstr, size_t errlen);
/* Refused while a table or another type uses it. */
int store_udt_drop(store_t *st, const char *keyspace, const char *name, bool if_exists, bool *changed,
                   char *errstr, size_t errlen);

/* ==== keys and tokens ====================================================================== */

/* Murmur3 token of a partition key given as its column values (npk values, in key order):
 * single-column keys hash the value's bytes, composite keys hash Σ [u16 len][bytes][0x00]. */
int64_t store_token(const store_table_t *t, const eddy_view_t *pk);
/* Appends the partition key's serialized form (the bytes Cassandra hashes and routes by). */
void store_partition_key_serialize(const store_table_t *t, const eddy_view_t *pk, wr_t *w);

/* ==== writes =============================================================================== */

/* A write builder: rows of any tables, deletions, and key/value entries, applied atomically
 * (one RocksDB write batch). Typical use, per statement or per batch:
 *     store_write_row(w, t, key, ts, ttl, STORE_ROW_INSERT, ...);
 *     store_write_set(w, col, value, ...); ...
 *     store_write_submit(w, done, arg);       or store_write_apply(w, true, ...)
 * A builder is reused after apply/submit/reset; it keeps its buffers (no allocation in steady
 * state). Errors leave the builder usable: the failed operation added nothing. */
store_write_t *store_write_new(store_t *st);
void store_write_free(store_write_t *w);
void store_write_reset(store_write_t *w);
/* Rows (and deletions) added so far, and the encoded size of the batch. */
size_t store_write_count(const store_write_t *w);
size_t store_write_bytes(const store_write_t *w);

/* store_write_row flags. INSERT writes the row's primary key liveness (an INSERTed row exists
 * even when all its regular columns are null; an UPDATEd one disappears with its cells). */
#define STORE_ROW_INSERT 0x01u

/* TTL argument: STORE_TTL_DEFAULT uses the table's default_time_to_live; 0 means none;
 * 1..630720000 seconds. */
#define STORE_TTL_DEFAULT (-1)
#define STORE_MAX_TTL 630720000

/* Starts a row: key holds the partition key values then the clustering values, in key order;
 * nkey is npartition + nclustering for a row, or npartition for the static row of a table with
 * clustering columns (then only static columns may be set). Values are validated against the
 * key types; null or empty partition key values, oversized keys (> 65535 bytes) and a missing
 * clustering value are errors ("Invalid null value in condition for column id", "Missing
 * mandatory PRIMARY KEY part c"). The following cell operations apply to this row. */
int store_write_row(store_write_t *w, const store_table_t *t, const eddy_view_t *key, size_t nkey,
                    int64_t timestamp_us, int32_t ttl, unsigned flags, char *errstr, size_t errlen);

/* Cell operations on the current row; col is the column index in the table's info. Values are
 * validated. Static columns go to the partition's static row, others to the row.
 *   set:  assigns a value (ptr NULL = null: a cell tombstone). For a non-frozen collection or
 *         UDT this is an overwrite: a deletion at timestamp-1 then one cell per element.
 *   counter_add: counters only (the only operation counters accept). */
int store_write_set(store_write_t *w, int col, const uint8_t *p, size_t n, char *errstr, size_t errlen);
int store_write_counter_add(store_write_t *w, int col, int64_t delta, char *errstr, size_t errlen);

/* Collection operations (non-frozen collections; values are serialized collections of the
 * column's type, e.g. a list<T> for append). Those marked (read) read the current row first,
 * as Cassandra does ("List index 3 out of bound, list has size 2"). */
int store_write_list_append(store_write_t *w, int col, const uint8_t *list, size_t n, char *errstr, size_t errlen);
int store_write_list_prepend(store_write_t *w, int col, const uint8_t *list, size_t n, char *errstr,
                             size_t errlen);
int store_write_list_set_index(store_write_t *w, int col, int32_t index, const uint8_t *p, size_t n, /* (read) */
                               char *errstr, size_t errlen);
int store_write_list_delete_index(store_write_t *w, int col, int32_t index, char *errstr, size_t errlen); /* (read) */
int store_write_list_remove(store_write_t *w, int col, const uint8_t *list, size_t n, char *errstr, /* (read) */
                            size_t errlen);
int store_write_set_add(store_write_t *w, int col, const uint8_t *set, size_t n, char *errstr, size_t errlen);
int store_write_set_remove(store_write_t *w, int col, const uint8_t *set, size_t n, char *errstr, size_t errlen);
/* m = m + {k: v, ...} */
int store_write_map_put(store_write_t *w, int col, const uint8_t *map, size_t n, char *errstr, size_t errlen);
/* m[k] = v (p NULL: DELETE m[k]) */
int store_write_map_set_key(store_write_t *w, int col, const uint8_t *key, size_t klen, const uint8_t *p, size_t n,
                            char *errstr, size_t errlen);
/* m = m - {k, ...} (a serialized set of keys) */
int store_write_map_remove(store_write_t *w, int col, const uint8_t *keys, size_t n, char *errstr, size_t errlen);
/* u.f = v on a non-frozen UDT (p NULL: null). */
int store_write_udt_set_field(store_write_t *w, int col, int field, const uint8_t *p, size_t n, char *errstr,
                              size_t errlen);

/* INSERT ... JSON: a JSON object whose keys are column names (unquoted names match lowercase
 * columns, "\"Name\"" matches case-sensitively). Starts its own row. Columns absent from the
 * object become null unless default_unset. Errors as Cassandra ("JSON values map contains
 * unrecognized column: x", "Error decoding JSON value for n: ..."). */
int store_write_json(store_write_t *w, const store_table_t *t, const char *json, size_t len, bool default_unset,
                     int64_t timestamp_us, int32_t ttl, char *errstr, size_t errlen);

/* Clustering slices. A bound is a prefix of the clustering columns (n values from the first
 * clustering column) compared lexicographically by each column's type, in VALUE order (the
 * store handles DESC columns); n == 0 is unbounded. An inclusive bound on a prefix covers every
 * row that extends it. Examples (c1, c2 clustering):
 *   c1 = 1 AND c2 > 3             lo = (1, 3) exclusive, hi = (1) inclusive
 *   c1 IN (1, 2) AND c2 = 5       two ranges: [(1,5), (1,5)] and [(2,5), (2,5)] inclusive
 *   (c1, c2) > (1, 2) AND c1 < 5  lo = (1, 2) exclusive, hi = (5) exclusive */
typedef struct {
    size_t n;
    const eddy_view_t *values;
    bool inclusive;
} store_cbound_t;

typedef struct {
    store_cbound_t lo;
    store_cbound_t hi;
} store_crange_t;

/* Deletions, each with its own timestamp (µs):
 *   delete_row:        a full primary key (npartition + nclustering values);
 *   delete_partition:  the partition key: every row and the static row;
 *   delete_range:      rows of one partition within a clustering range (a range tombstone). */
int store_write_delete_row(store_write_t *w, const store_table_t *t, const eddy_view_t *key, int64_t timestamp_us,
                           char *errstr, size_t errlen);
int store_write_delete_partition(store_write_t *w, const store_table_t *t, const eddy_view_t *pk,
                                 int64_t timestamp_us, char *errstr, size_t errlen);
int store_write_delete_range(store_write_t *w, const store_table_t *t, const eddy_view_t *pk,
                             const store_crange_t *range, int64_t timestamp_us, char *errstr, size_t errlen);

/* The key/value area (pipelines' source positions and operator state), written in the same
 * batch as the rows. Keys are arbitrary bytes; namespace them ("pipe/<name>/..."). */
int store_write_kv_put(store_write_t *w, const void *key, size_t klen, const void *val, size_t vlen);
int store_write_kv_delete(store_write_t *w, const void *key, size_t klen);

/* Reference counts (the pipelines' sink rows): a row may carry hidden 64-bit counts, one per
 * slot (0..STORE_REFS_SLOT_MAX), that no read returns and that never make a row live.
 * store_write_refs adds delta to the current row's count in slot: a blind write, summed like a
 * counter; once per slot per row (a second call in the same row replaces the first). Any
 * deletion covering the row (row, range, partition) resets its counts: only what is written
 * after it adds up. store_refs_get reads a row's count (key: every primary key value; 0 when
 * the row has none). EDDY_OK or an error (bad key, I/O, a corrupt row). */
#define STORE_REFS_SLOT_MAX 0x7FFFFFFFu
int store_write_refs(store_write_t *w, uint32_t slot, int64_t delta, char *errstr, size_t errlen);
int store_refs_get(store_t *st, const store_table_t *t, const eddy_view_t *key, uint32_t slot, int64_t *count,
                   char *errstr, size_t errlen);

/* Conditions (lightweight transactions): attach to the current row; every condition of the
 * batch must hold for it to apply. All conditioned rows must be in one partition ("Batch with
 * conditions cannot span multiple partitions"). */
typedef enum {
    STORE_OP_EQ, STORE_OP_NE, STORE_OP_LT, STORE_OP_LE, STORE_OP_GT, STORE_OP_GE, STORE_OP_IN,
    STORE_OP_CONTAINS, STORE_OP_CONTAINS_KEY,
} store_op_t;

int store_write_if_exists(store_write_t *w, char *errstr, size_t errlen);
int store_write_if_not_exists(store_write_t *w, char *errstr, size_t errlen);
/* IF col op value(s). For IN, values holds nvalues candidates; otherwise nvalues is 1. A NULL
 * value ptr means null (IF col = null holds when the cell is null). elem selects an element:
 * NULL for the column itself, else a list index (serialized int) or a map key (serialized key),
 * or a UDT field name (field != NULL). */
int store_write_if(store_write_t *w, int col, const eddy_view_t *elem, const char *field, store_op_t op,
                   const eddy_view_t *values, size_t nvalues, char *errstr, size_t errlen);

/* Applies the batch now (memtable + WAL write). durable: also waits for an fsync of the WAL
 * (blocking; for tools and tests; from a loop use store_write_submit). The builder is reset
 * afterwards (also on error). */
int store_write_apply(store_write_t *w, bool durable, char *errstr, size_t errlen);

/* Completion of an asynchronous write: status is EDDY_OK once durable (per the sync mode), or
 * an error. Runs on the store's sync thread (or inside store_close): be short. */
typedef void (*store_done_fn)(void *arg, int status);

/* Applies the batch now without waiting for fsync (visible to readers at once) and calls done
 * when it is durable. Returns EDDY_OK when done will be called; on an error return done is not
 * called (nothing was written). The builder is reset afterwards. */
int store_write_submit(store_write_t *w, store_done_fn done, void *arg, char *errstr, size_t errlen);

/* Conditional apply. Under the partition's lock (conditional writes to one partition are
 * serialized), reads the conditioned rows, evaluates the conditions and, when all hold, applies
 * the batch (not yet durable: follow with store_sync_after, or pass durable). *applied says
 * which. current (may be NULL) is called for each conditioned row that exists, with all its
 * columns as they were before the write, for the [applied] = false result. */
typedef void (*store_row_fn)(void *arg, const store_row_t *row);
int store_write_apply_cas(store_write_t *w, bool durable, bool *applied, store_row_fn current, void *arg,
                          char *errstr, size_t errlen);

/* Calls done once everything written before this call is durable (group commit). */
void store_sync_after(store_t *st, store_done_fn done, void *arg);

/* ==== reads ================================================================================ */

/* One cell of a returned row. ptr NULL = null. writetime/ttl are those of a simple cell
 * (writetime() and ttl() in CQL): writetime INT64_MIN when null or not applicable (key columns,
 * non-frozen collections), ttl the remaining seconds or 0 when the cell does not expire. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
    int64_t writetime;
    int32_t ttl;
} store_cell_t;

/* A returned row: one cell per table column (in the info's column order). Views are valid
 * until the next store_iter_next / store_iter_start / store_iter_free on the iterator that
 * produced the row (or until the callback returns, for store_row_fn). */
struct store_row {
    const store_table_t *table;
    const store_cell_t *cells;
    size_t ncells;
    int64_t token;
    bool static_only;          /* a partition with static content and no rows: clustering and
                                  regular cells are null (Cassandra returns such a row when the
                                  query does not restrict clustering columns) */
};

/* Filtering (ALLOW FILTERING): called on each candidate row before it counts; return 1 to keep,
 * 0 to skip, a negative status to fail the query. Filtering inside the store keeps LIMIT,
 * PER PARTITION LIMIT and paging exact: a page holds page_size KEPT rows and its paging state
 * points after the last row examined. */
typedef int (*store_filter_fn)(void *arg, const store_row_t *row);

typedef struct {
    const store_table_t *table;
    /* Partitions. keys != NULL: nkeys partitions, key i being keys[i*npartition ...], visited in
     * the given order (IN (...)); duplicates are the caller's to remove. keys == NULL: a scan
     * of the token range (all of it when neither bound is set), partitions in token order. */
    const eddy_view_t *keys;
    size_t nkeys;
    bool token_lo_set, token_lo_inclusive;   /* token(pk) > lo, or >= lo */
    int64_t token_lo;
    bool token_hi_set, token_hi_inclusive;   /* token(pk) <= hi, or < hi */
    int64_t token_hi;
    /* Rows inside each partition: the union of ranges (none = all rows), in clustering order,
     * or reversed. Overlapping ranges are the caller's to merge. */
    const store_crange_t *ranges;
    size_t nranges;
    bool reversed;
    /* One row per partition with the partition key and static columns (SELECT DISTINCT). */
    bool distinct;
    /* Return static-only rows for partitions without rows (default true when ranges are
     * empty, as Cassandra; set no_static_only to suppress). */
    bool no_static_only;
    int64_t limit;                 /* 0 = none */
    int64_t per_partition_limit;   /* 0 = none */
    int64_t page_size;             /* 0 = no paging (everything) */
    const uint8_t *paging_state;   /* from a previous page of the same query, or NULL */
    size_t paging_state_len;
    store_filter_fn filter;        /* NULL = keep all */
    void *filter_arg;
    /* Optional projection: columns[i] != 0 for the columns to materialize, by column index
     * (key columns always are; include the filter's columns). Others come back null, which
     * saves decoding and assembling them. NULL = every column. Row liveness is unaffected. */
    const uint8_t *columns;
    /* A bulk scan (batch jobs reading most of a table once): blocks read are not kept in the
     * block cache, and files are read ahead. */
    bool bulk;
} store_query_t;

/* RocksDB keeps per-thread perf counters (key comparisons, bloom probes, ...) on by default: a
 * thread-local lookup for each of them, about a tenth of a thread that inserts thousands of
 * keys a batch. A thread that writes or reads in bulk turns them off for itself (nothing in
 * eddy reads them). Cheap: call it once per batch. */
void store_thread_bulk(void);

/* Several keys of the key/value area in one batched read (RocksDB's MultiGet: one pass over
 * the memtables and each file's filter and index for all of them, in key order). keys in any
 * order, duplicates allowed. found[i] says whether keys[i] exists; its value is then
 * out->buf + offs[i], lens[i] bytes (values are appended to out). Returns EDDY_OK,
 * EDDY_ERR_NOMEM or EDDY_ERR_IO (errstr). */
int store_kv_get_many(store_t *st, const eddy_view_t *keys, size_t n, wr_t *out, size_t *offs, size_t *lens,
                      bool *found, char *errstr, size_t errlen);

/* Iterators are reusable: create one per thread or connection, start a query on it, pull rows,
 * start the next query (buffers are kept; a point read allocates nothing in steady state). */
store_iter_t *store_iter_new(store_t *st);
void store_iter_free(store_iter_t *it);

/* Starts q (copied: the caller's arrays must stay valid until the iterator is restarted or
 * freed). Errors: bad keys ("Invalid null value ..."), a malformed paging state
 * (EDDY_ERR_CORRUPT), a table that was dropped. */
int store_iter_start(store_iter_t *it, const store_query_t *q, char *errstr, size_t errlen);

/* Next row: 1 with *row set, 0 at the end of the page or of the results, <0 on error (errstr). */
int store_iter_next(store_iter_t *it, const store_row_t **row, char *errstr, size_t errlen);

/* After next returned 0: whether more rows may follow (the page was full), and the paging state
 * to resume after the last examined row (appended to w; self-contained: it encodes the last
 * key and the remaining limits, never a server cursor). */
bool store_iter_has_more(const store_iter_t *it);
void store_iter_paging_state(const store_iter_t *it, wr_t *w);

/* Decodes and checks a paging state (also done by store_iter_start); for the fuzz target and
 * for the CQL layer to reject garbage early. */
int store_paging_state_check(const uint8_t *p, size_t n, char *errstr, size_t errlen);

/* Appends one row as SELECT JSON prints it: {"col": value, ...} for the columns cols[0..ncols)
 * (indexes into the table's columns; names quoted as CQL needs them). */
void store_row_to_json(const store_row_t *row, const int *cols, size_t ncols, wr_t *w);

/* ==== key/value area ======================================================================= */

/* Reads a key written with store_write_kv_put: EDDY_OK with the value appended to out,
 * EDDY_ERR_NOT_FOUND, or an error. */
int store_kv_get(store_t *st, const void *key, size_t klen, wr_t *out, char *errstr, size_t errlen);
/* Calls fn for each key with the prefix, in key order, until it returns non-zero (which is
 * then returned). Views are valid during the call. */
typedef int (*store_kv_fn)(void *arg, eddy_view_t key, eddy_view_t val);
int store_kv_scan(store_t *st, const void *prefix, size_t plen, store_kv_fn fn, void *arg, char *errstr,
                  size_t errlen);

/* ==== tools ================================================================================ */

/* `eddy dump keys KEYSPACE.TABLE --data DIR`: prints the table's RocksDB keys decoded
 * (token, partition key, clustering) with their cells, timestamps, TTLs and tombstones. */
int store_main_dump_keys(int argc, char **argv);

#endif
