/* Inside the store part: shared declarations between its files (no other part includes this).
 *
 * Files:
 *   types.c        type descriptors: build, parse, format, [option] codec
 *   value.c        validation, comparators, collection building and iteration
 *   okey.c         order-preserving key encodings of values (clustering keys, set elements)
 *   value_text.c   CQL constants and literals, getString-style text, number formatting
 *   value_json.c   JSON in and out
 *   catalog*.c     keyspaces, tables, UDTs: definitions, JSON persistence, snapshots, DDL
 *   frag.c         the row fragment format and its last-write-wins merge
 *   db.c           RocksDB: open/close, column families, merge operator, compaction filter,
 *                  the sync thread
 *   write.c        the write builder
 *   read.c         iterators: point reads, slices, scans, paging
 *   cas.c          conditional writes
 *   refs.c         hidden reference counts in rows (the pipelines' sink)
 *   dump.c         `eddy dump keys`
 *
 * Key layout (see docs/ARCHITECTURE.md): data and partition-header keys are
 *   [table id: u32 BE][token: u64 BE, sign bit flipped][partition key, escaped][00 01][clustering]
 * where the partition key is its serialized form with 00 escaped as 00 FF, and the clustering
 * part is the concatenation of each column's order-preserving encoding (okey), inverted for
 * DESC columns. */
#ifndef EDDY_STORE_INT_H
#define EDDY_STORE_INT_H

#include <pthread.h>
#include <rocksdb/c.h>

#include "store/store.h"

#define STORE_MAX_KEY_COMPONENT 65535
#define STORE_NO_TS INT64_MIN

/* ---- small helpers ---- */

static inline int32_t ld_i32(const uint8_t *p) { return (int32_t)load_u32(p); }
static inline int64_t ld_i64(const uint8_t *p) { return (int64_t)load_u64(p); }

/* Unsigned lexicographic compare, shorter prefix first. */
static inline int store_bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Inline readers for the hot decoders (fragments): same sticky-error contract as rd_*, without
 * a function call per byte. */
static inline uint8_t frd_u8(rd_t *r) {
    if (r->err || r->pos >= r->len) {
        if (!r->err) r->err = EDDY_ERR_NEED_MORE;
        return 0;
    }
    return r->ptr[r->pos++];
}
static inline uint64_t frd_uv64(rd_t *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->err || r->pos >= r->len) {
            if (!r->err) r->err = EDDY_ERR_NEED_MORE;
            return 0;
        }
        uint8_t b = r->ptr[r->pos++];
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) return v;
    }
    r->err = EDDY_ERR_CORRUPT;
    return 0;
}
static inline uint32_t frd_uv32(rd_t *r) {
    uint64_t v = frd_uv64(r);
    if (v > UINT32_MAX) {
        if (!r->err) r->err = EDDY_ERR_CORRUPT;
        return 0;
    }
    return (uint32_t)v;
}
static inline int64_t frd_zz64(rd_t *r) {
    uint64_t u = frd_uv64(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}
static inline eddy_view_t frd_view(rd_t *r, size_t n) {
    if (r->err || n > r->len - r->pos) {
        if (!r->err) r->err = EDDY_ERR_NEED_MORE;
        return eddy_view(NULL, 0);
    }
    eddy_view_t v = eddy_view(r->ptr + r->pos, n);
    r->pos += n;
    return v;
}

/* wr_reserve with its common case inline: room already there. */
static inline uint8_t *wr_room(wr_t *w, size_t n) {
    if (!w->err && w->cap - w->len >= n) return w->buf + w->len;
    return wr_reserve(w, n);
}

/* Appends d as a serialized float (4 bytes) or double (8 bytes). */
static inline void store_wr_fp(wr_t *w, double d, bool is_float) {
    if (is_float) {
        float f = (float)d;
        uint32_t u;
        memcpy(&u, &f, 4);
        wr_u32(w, u);
    } else {
        uint64_t u;
        memcpy(&u, &d, 8);
        wr_u64(w, u);
    }
}

/* Writes a native protocol [bytes]-style int32 length then bytes; len -1 (NULL p) = null. */
void store_wr_value(wr_t *w, const uint8_t *p, size_t n);

/* ---- types.c ---- */

const char *store_kind_cql_name(uint16_t kind);
/* Whether the CQL name needs double quotes (not [a-z][a-z0-9_]* or a reserved word). */
bool store_ident_needs_quotes(const char *s, size_t n);
/* Appends an identifier, double-quoted when needed. */
void store_ident_write(wr_t *w, const char *s, size_t n);
/* Creates a UDT type (the catalog builds them); field types are kept. */
const store_type_t *store_type_udt(const char *keyspace, const char *name, const char *const *names,
                                   const store_type_t *const *types, size_t n, bool frozen);
/* Whether t references UDT ks.name anywhere. */
bool store_type_references_udt(const store_type_t *t, const char *ks, const char *name);

/* ---- value.c ---- */

/* Collection framing helpers ([int] count, [int] len + bytes per element, v3+ framing). */
typedef struct {
    rd_t r;
    int32_t count;   /* elements (maps: entries) */
    int64_t total;   /* values to read (maps: 2 per entry) */
    int64_t i;
} store_coll_rd_t;
/* per: 2 for maps (key then value alternate), 1 otherwise. */
int store_coll_open(store_coll_rd_t *c, const uint8_t *p, size_t n, int per);
/* Next element: 1 and *e set (e->ptr NULL for a null), 0 at the end, <0 malformed. */
int store_coll_next(store_coll_rd_t *c, eddy_view_t *e);

/* ---- num.c: arbitrary-precision integers ---- */

/* Drops redundant sign-extension bytes of a two's complement varint (keeps at least 1 byte). */
void store_num_varint_trim(const uint8_t **p, size_t *n);
/* The absolute value's decimal digits (no sign, no leading zeros; "0" for zero or empty) appended
 * to digits, and the sign. */
int store_num_varint_to_digits(const uint8_t *p, size_t n, bool *neg, wr_t *digits);
/* Minimal two's complement bytes of (neg ? -1 : 1) * digits, appended to out. digits are '0'-'9'. */
int store_num_digits_to_varint(const char *d, size_t nd, bool neg, wr_t *out);
/* Splits "[+-]digits" into sign and digits (leading zeros dropped); false if not an integer. */
bool store_num_parse_integer(const char *s, size_t n, bool *neg, const char **digits, size_t *nd);

/* Whether t contains a set or a map (values that Cassandra sorts and de-duplicates on bind). */
bool store_type_has_setmap(const store_type_t *t);
/* Appends the value with every set and map inside sorted and de-duplicated (Cassandra's form);
 * other values are copied. The value must be valid. */
int store_value_normalize(const store_type_t *t, const uint8_t *p, size_t n, wr_t *out, int depth);

/* ---- okey.c: order-preserving encodings ---- */

/* Appends the encoding of value (p, n) of type t: memcmp order of encodings equals
 * store_value_compare order (desc inverts it). Self-delimiting. p NULL = null (only inside
 * tuples/UDTs). The value must be valid. */
void store_okey_encode(const store_type_t *t, const uint8_t *p, size_t n, bool desc, wr_t *w);
/* Decodes one encoded value at the reader into its canonical serialized form appended to out
 * (*is_null for a null). Returns EDDY_OK or EDDY_ERR_CORRUPT. */
int store_okey_decode(const store_type_t *t, rd_t *r, bool desc, wr_t *out, bool *is_null);
/* Skips one encoded value. */
int store_okey_skip(const store_type_t *t, rd_t *r, bool desc);

/* Escaped bytes: 00 -> 00 FF, terminated by 00 01. */
void store_esc_encode(const uint8_t *p, size_t n, wr_t *w);
/* Decodes escaped bytes at r into out (appended), consuming the terminator. */
int store_esc_decode(rd_t *r, wr_t *out);

/* ---- value_text.c ---- */

/* fromString of a scalar type (Cassandra's text forms), errors with MarshalException texts;
 * now_ms serves "now". */
int store_scalar_from_string(const store_type_t *t, const char *s, size_t n, int64_t now_ms, wr_t *out, char *errstr,
                             size_t errlen);
/* A column or field name as SELECT JSON keys it ("\"Name\"" when not lowercase). */
void store_json_write_name(wr_t *w, const char *name);

/* Formats doubles/floats as Java's Double.toString / Float.toString do. */
void store_fmt_double(double v, wr_t *w);
void store_fmt_float(float v, wr_t *w);
/* Decimal and varint to text (BigDecimal.toString / BigInteger.toString). */
void store_fmt_varint(const uint8_t *p, size_t n, wr_t *w);
void store_fmt_decimal(const uint8_t *p, size_t n, wr_t *w);
/* Parses decimal text into (scale, unscaled varint bytes appended to w). */
int store_parse_decimal(const char *s, size_t n, wr_t *w);
int store_parse_varint(const char *s, size_t n, wr_t *w);
/* Timestamp text per Cassandra: digits = ms, date formats; "now" uses now_ms. */
int store_parse_timestamp(const char *s, size_t n, int64_t now_ms, int64_t *ms);
int store_parse_date(const char *s, size_t n, uint32_t *days);  /* days + 2^31 */
int store_parse_time(const char *s, size_t n, int64_t *nanos);
int store_parse_duration(const char *s, size_t n, wr_t *w);
int store_parse_uuid(const char *s, size_t n, uint8_t out[16]);
int store_parse_inet(const char *s, size_t n, uint8_t out[16], size_t *len);
void store_fmt_uuid(const uint8_t *p, wr_t *w);
void store_fmt_inet(const uint8_t *p, size_t n, wr_t *w);
void store_fmt_timestamp(int64_t ms, bool json_style, wr_t *w);
void store_fmt_date(uint32_t days, wr_t *w);
void store_fmt_time(int64_t nanos, wr_t *w);
void store_fmt_duration(const uint8_t *p, size_t n, wr_t *w);
void store_fmt_hex(const uint8_t *p, size_t n, wr_t *w);
/* The value of a vint (Cassandra's unsigned variable-length ints in durations). */
int store_vint_read(rd_t *r, int64_t *v);
void store_vint_write(wr_t *w, int64_t v);
/* Makes a version 1 uuid for ms since the epoch (the lowest one of that ms: minTimeuuid). */
void store_timeuuid_for_ms(int64_t ms, bool max, uint8_t out[16]);

/* ---- catalog ---- */

typedef struct store_ks store_ks_t;

/* Bounds of a stored table definition (beyond them it is corrupt): columns are indexed by
 * int16_t, and column ids (never reused, one per column ever added) index a table of ids. */
#define STORE_MAX_COLUMNS INT16_MAX
#define STORE_MAX_COLUMN_ID (1u << 20)

struct store_table {
    int refs;
    arena_t arena;              /* names, columns, options */
    store_table_info_t info;
    char *def_json;             /* the persisted definition this table was built from */
    int16_t *index_of_id;       /* column id -> column index, -1 for none */
    uint32_t nids;
    bool has_multicell;
    store_column_t *cols;       /* == info.columns (owned) */
    store_dropped_column_t *dropped;
};

struct store_ks {
    store_keyspace_info_t info;
    uint64_t types_hash;        /* changes when any UDT of the keyspace changes */
    char *def_json;
    store_table_t **tables;
    size_t ntables;
    store_udt_info_t *types;
    char **type_json;
    size_t ntypes;
};

struct store_schema {
    int refs;
    arena_t arena;
    uint8_t version[16];
    uint64_t generation;
    uint32_t next_table_id;     /* ids below it that no table has belong to dropped tables */
    store_ks_t **ks;
    size_t nks;
    /* Tables by internal id, for the compaction filter and dump tools. */
    store_table_t **by_id;
    size_t nby_id;
};

/* One persisted catalog record: key in the schema column family ("k/ks", "y/ks/type",
 * "t/ks/table", "meta") and its JSON definition. */
typedef struct {
    char *key;
    char *json;
} store_rec_t;

typedef struct {
    store_schema_listener_fn fn;
    void *arg;
    int id;
} store_listener_t;

/* The catalog inside the store (catalog.c). */
typedef struct {
    store_rec_t *recs;                /* sorted by key; guarded by ddl_lock */
    size_t nrecs;
    pthread_mutex_t ddl_lock;         /* serializes DDL */
    pthread_mutex_t snap_lock;        /* guards current */
    store_schema_t *current;
    uint32_t next_table_id;
    store_listener_t listeners[16];
    int nlisteners;
    int next_listener_id;
} store_catalog_t;

/* Mutable definitions (catalog_def.c): what DDL edits and what is persisted as JSON. Strings
 * are owned (eddy_malloc); *_free releases them. */
typedef struct {
    size_t n;
    char **k, **v;
} store_smap_t;

typedef struct {
    char *name;
    char *type;          /* CQL type text */
    uint8_t kind;
    bool desc;
    int16_t position;
    uint32_t id;
} store_cdef_t;

typedef struct {
    char *name;
    char *type;
    uint8_t kind;
    int64_t time_us;
} store_ddef_t;

typedef struct {
    char *keyspace, *name;
    uint8_t uuid[16];
    uint32_t id, version, next_col_id;
    store_cdef_t *cols;
    size_t ncols;
    store_ddef_t *dropped;
    size_t ndropped;
    char *comment;
    int32_t default_ttl, gc_grace, memtable_flush, min_idx, max_idx;
    double bloom, crc;
    bool cdc;
    char *speculative_retry, *additional_write_policy, *read_repair;
    store_smap_t caching, compaction, compression;
} store_tdef_t;

typedef struct {
    char *keyspace, *name;
    size_t n;
    char **fields;
    char **types;
} store_udef_t;

typedef struct {
    char *name;
    bool durable_writes;
    store_smap_t replication;
} store_kdef_t;

void store_smap_free(store_smap_t *m);
int store_smap_set(store_smap_t *m, const char *k, const char *v);
const char *store_smap_get(const store_smap_t *m, const char *k);
void store_tdef_defaults(store_tdef_t *d);
void store_tdef_free(store_tdef_t *d);
int store_tdef_parse(const char *json, store_tdef_t *d);
void store_tdef_write(const store_tdef_t *d, wr_t *w);
void store_udef_free(store_udef_t *d);
int store_udef_parse(const char *json, store_udef_t *d);
void store_udef_write(const store_udef_t *d, wr_t *w);
void store_kdef_free(store_kdef_t *d);
int store_kdef_parse(const char *json, store_kdef_t *d);
void store_kdef_write(const store_kdef_t *d, wr_t *w);
/* Applies WITH options to a table definition (validating names and values). */
int store_tdef_apply_options(store_tdef_t *d, const store_option_t *opts, size_t n, char *errstr, size_t errlen);
/* Builds an immutable table from its definition, resolving types in schema (UDTs). */
int store_table_build(const store_schema_t *schema, const char *json, store_table_t **out, char *errstr, size_t errlen);
void store_uuid_random(uint8_t out[16]);
void store_uuid_time(uint8_t out[16]);

int store_catalog_load(store_t *st, char *errstr, size_t errlen);
/* Builds a snapshot from records sorted by key; unchanged tables are shared with old. */
int store_schema_build(store_rec_t *recs, size_t n, const store_schema_t *old, store_schema_t **out, char *errstr,
                       size_t errlen);
void store_recs_free(store_rec_t *recs, size_t n);
void store_catalog_close(store_t *st);
store_schema_t *store_schema_keep(store_schema_t *s);
/* Table by internal id in a snapshot (NULL when dropped). */
const store_table_t *store_schema_table_by_id(const store_schema_t *s, uint32_t id);
void store_table_free_(store_table_t *t);

/* ---- frag.c: the row fragment ---- */

/* Cell flags. */
#define FRAG_CELL_TOMB 0x01u      /* tombstone: no value */
#define FRAG_CELL_EXPIRING 0x02u  /* ttl and ldt follow */
#define FRAG_CELL_COUNTER 0x04u   /* value is an 8-byte sum */
#define FRAG_CELL_COMPLEX 0x08u   /* elements follow */
#define FRAG_CELL_CDEL 0x10u      /* complex deletion follows */

/* Column ids from here on hold reference counts (refs.c): slot s is column id BASE + s. Table
 * columns are numbered from 0 and never get this far; readers skip ids beyond the table's. */
#define STORE_REFS_COL_BASE 0x80000000u

/* Fragment flags. */
#define FRAG_HAS_LIVENESS 0x01u
#define FRAG_HAS_DELETION 0x02u
#define FRAG_HAS_RANGES 0x04u
#define FRAG_MORTAL 0x08u          /* holds a deletion, a tombstone or an expiring cell: the
                                      compaction filter has work only on these */
#define FRAG_VERSION 0x00u         /* top bits reserved for a format version */

typedef struct {
    int64_t ts;          /* STORE_NO_TS = none */
    int64_t ldt;         /* local deletion / expiration time, seconds; 0 = none */
    uint32_t ttl;        /* 0 = none */
} frag_liveness_t;

typedef struct {
    int64_t ts;          /* markedForDeleteAt; STORE_NO_TS = none */
    int64_t ldt;
} frag_deletion_t;

/* A simple cell or a complex element. */
typedef struct {
    uint8_t flags;       /* FRAG_CELL_TOMB / EXPIRING / COUNTER */
    int64_t ts;
    uint32_t ttl;
    int64_t ldt;
    eddy_view_t path;    /* complex elements: the element's path */
    eddy_view_t value;
} frag_cell_t;

/* A range tombstone inside a partition header: rows whose clustering key bytes k satisfy
 * lo <= k < hi are deleted at del. */
typedef struct {
    eddy_view_t lo, hi;
    frag_deletion_t del;
} frag_range_t;

/* Decoded view of a fragment (views point into the encoded bytes). Columns are visited with
 * store_frag_col_next. */
typedef struct {
    uint8_t flags;
    int64_t base_ts;
    frag_liveness_t live;
    frag_deletion_t del;
    uint32_t nranges;
    rd_t ranges;         /* positioned at the first range */
    rd_t cols;           /* positioned at the first column */
} frag_t;

typedef struct {
    uint32_t col_id;
    uint8_t flags;
    frag_cell_t cell;          /* simple column */
    frag_deletion_t cdel;      /* complex: deletion */
    uint32_t nelems;           /* complex: element count */
    rd_t elems;                /* complex: positioned at the first element */
} frag_col_t;

int store_frag_open(frag_t *f, const uint8_t *p, size_t n);
int store_frag_range_next(frag_t *f, frag_range_t *out);
/* 1 with *c, 0 at the end, <0 corrupt. */
int store_frag_col_next(frag_t *f, frag_col_t *c);
int store_frag_elem_next(frag_t *f, frag_col_t *c, frag_cell_t *e);

/* Encoder: start, then header parts, then columns in increasing id order (elements of a
 * complex column in increasing path order), then finish. */
typedef struct {
    wr_t *w;
    size_t start;
    int64_t base_ts;
    size_t flags_at;
    uint8_t flags;
    /* complex column being written */
    size_t nelems_at;
    uint32_t nelems;
} store_frag_enc_t;

void store_frag_enc_start(store_frag_enc_t *e, wr_t *w, int64_t base_ts);
void store_frag_enc_liveness(store_frag_enc_t *e, const frag_liveness_t *l);
void store_frag_enc_deletion(store_frag_enc_t *e, const frag_deletion_t *d);
void store_frag_enc_ranges(store_frag_enc_t *e, const frag_range_t *r, size_t n);
void store_frag_enc_cell(store_frag_enc_t *e, uint32_t col_id, const frag_cell_t *c);
void store_frag_enc_complex_begin(store_frag_enc_t *e, uint32_t col_id, const frag_deletion_t *cdel);
void store_frag_enc_elem(store_frag_enc_t *e, const frag_cell_t *c);
void store_frag_enc_complex_end(store_frag_enc_t *e);

/* Merges two fragments with Cassandra's reconciliation (older first is not required: the merge
 * is commutative and associative) and appends the result to out. EDDY_ERR_CORRUPT on bad input. */
int store_frag_merge(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, wr_t *out);

/* Purges what gc grace allows at now_s (compaction filter): tombstones and expired cells with
 * ldt + gc_grace <= now_s, dropped column ids (keep(col_id) false). Appends the result to out
 * and sets *empty when nothing remains. */
int store_frag_purge(const uint8_t *p, size_t n, int64_t now_s, int64_t gc_grace_s, bool (*keep)(void *, uint32_t, int64_t),
               void *keep_arg, wr_t *out, bool *empty, bool *changed);

/* Reconciliation of two cells, exactly Cells.resolveRegular / resolveCounter: returns 1 if a
 * wins (or they are equal), 0 if b wins. Counters are summed by the caller. */
int store_frag_cell_wins(const frag_cell_t *a, const frag_cell_t *b);
bool store_frag_liveness_supersedes(const frag_liveness_t *a, const frag_liveness_t *b);
static inline bool frag_del_supersedes(const frag_deletion_t *a, const frag_deletion_t *b) {
    return a->ts > b->ts || (a->ts == b->ts && a->ldt > b->ldt);
}

/* ---- db.c ---- */

enum { CF_DEFAULT, CF_DATA, CF_PART, CF_KV, CF_SCHEMA, CF_COUNT };

/* Memtable size of the row and key/value families while bulk writes are on. */
#define STORE_BULK_WRITE_BUFFER ((size_t)32 << 20)

typedef struct store_sync_waiter {
    store_done_fn done;
    void *arg;
    struct store_sync_waiter *next;
} store_sync_waiter_t;

struct store {
    char *dir;
    store_options_t opts;
    rocksdb_t *db;
    rocksdb_options_t *dbopts;
    rocksdb_env_t *env;
    rocksdb_options_t *cfopts[CF_COUNT];
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_cache_t *cache;
    rocksdb_block_based_table_options_t *bbto[CF_COUNT];
    rocksdb_writeoptions_t *wopts_nosync;
    rocksdb_writeoptions_t *wopts_sync;
    rocksdb_readoptions_t *ropts;
    store_catalog_t cat;
    /* Group commit keeps the WAL in RocksDB's buffer (manual_wal_flush): the sync thread's one
     * FlushWAL(sync) writes and fsyncs what every writer appended since the last one, so a
     * write costs no write(2) of its own. */
    bool wal_buffered;

    /* sync thread */
    pthread_t sync_thread;
    bool sync_started;
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_cond;
    store_sync_waiter_t *sync_head, **sync_tail;
    bool sync_stop;
    int sync_err;

    /* conditional writes are serialized per partition through striped locks */
    pthread_mutex_t cas_locks[64];

    /* Tables (by id) that may have partition headers (static rows, partition or range
     * deletions): reads of the others skip the header lookup. Set before any header is written,
     * never cleared; ids beyond the array always look. */
    uint8_t maybe_headers[4096];

    /* bulk writes (store_bulk_writes): how many callers asked for them */
    pthread_mutex_t bulk_lock;
    int bulk;

    /* list element paths: a monotonic counter seeded from the clock (atomic) */
    uint64_t list_seq;

    /* statistics (atomics) */
    uint64_t n_writes, n_batches, n_syncs, n_reads;
};

/* Appends the partition prefix key (table id, token, escaped pk, terminator) to w. */
void store_key_partition(const store_table_t *t, int64_t token, const uint8_t *pk, size_t pklen, wr_t *w);
/* Token bytes (sign flipped) and back. */
static inline void store_token_bytes(int64_t token, uint8_t out[8]) {
    uint64_t u = (uint64_t)token ^ 0x8000000000000000ULL;
    store_u64(out, u);
}
static inline int64_t store_token_from_bytes(const uint8_t *p) {
    return (int64_t)(load_u64(p) ^ 0x8000000000000000ULL);
}

/* Reads a value from a column family into out (appended). EDDY_OK, EDDY_ERR_NOT_FOUND, error. */
int store_db_get(store_t *st, int cf, const uint8_t *key, size_t klen, wr_t *out, char *errstr, size_t errlen);
/* How far a write goes before store_db_write returns: fsynced, handed to the OS (survives
 * kill -9), or possibly still in RocksDB's WAL buffer (a store_sync_after follows, whose fsync
 * writes it out). */
typedef enum { STORE_DUR_SYNC, STORE_DUR_OS, STORE_DUR_LATER } store_dur_t;
/* Applies a RocksDB write batch as far as dur says. */
int store_db_write(store_t *st, rocksdb_writebatch_t *b, store_dur_t dur, char *errstr, size_t errlen);
int64_t store_now_s(store_t *st);
/* Whether table id may have partition headers; store_headers_note marks that it may. */
static inline bool store_headers_maybe(store_t *st, uint32_t id) {
    return id >= sizeof st->maybe_headers || __atomic_load_n(&st->maybe_headers[id], __ATOMIC_ACQUIRE);
}
static inline void store_headers_note(store_t *st, uint32_t id) {
    if (id < sizeof st->maybe_headers) __atomic_store_n(&st->maybe_headers[id], 1, __ATOMIC_RELEASE);
}
uint64_t store_list_path_next(store_t *st, uint32_t n);

/* ---- keys.c ---- */

/* Validates key values (partition key then clustering, nkey of them) and appends the key:
 * partition prefix (its length in *pklen) then clustering suffix. */
int store_key_build(const store_table_t *t, const eddy_view_t *key, size_t nkey, wr_t *w, size_t *pklen,
                    int64_t *token, char *errstr, size_t errlen);
/* Decodes a key's token, partition key values and clustering values into out; value i is
 * out->buf[offs[i] .. offs[i] + lens[i]). */
int store_key_decode(const store_table_t *t, const uint8_t *k, size_t klen, int64_t *token, wr_t *out,
                     size_t *offs, size_t *lens, size_t *nvals);
size_t store_key_partition_len(const uint8_t *k, size_t klen);

/* Clustering key intervals [lo, hi) over the suffix after the partition prefix, sorted and
 * disjoint; bytes live in `bytes`. */
typedef struct {
    size_t lo, lol, hi, hil;
} store_slice_t;

typedef struct {
    store_slice_t *v;
    size_t n, cap;
    wr_t bytes;
} store_slices_t;

int store_slices_build(const store_table_t *t, const store_crange_t *ranges, size_t nranges, store_slices_t *out,
                       char *errstr, size_t errlen);
int store_slices_add(store_slices_t *s, const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil);
void store_slices_reset(store_slices_t *s);
void store_slices_free(store_slices_t *s);

/* ---- write.c: the builder ---- */

enum { PC_SIMPLE = 0, PC_CDEL = 1, PC_ELEM = 2 };

/* A buffered cell operation of the current row; bytes live in store_write_t.data. */
typedef struct {
    uint32_t col_id;
    uint8_t is_static;
    uint8_t kind;        /* PC_SIMPLE, PC_CDEL (complex deletion), PC_ELEM (element) */
    uint8_t flags;       /* FRAG_CELL_* */
    uint32_t ttl;
    int64_t ts, ldt;
    size_t poff, plen;   /* element path */
    size_t voff, vlen;   /* value */
    size_t seq;          /* call order */
    uint64_t skey;       /* static-ness, column id and kind packed: the sort key before the path */
} pcell_t;

/* A condition of a conditional write (cas.c). */
typedef struct {
    size_t row;          /* index of the conditioned row in the builder (rows with conditions) */
    size_t key_off, key_len, pk_len;
    const store_table_t *t;
    int kind;            /* 0 exists, 1 not exists, 2 column */
    int col;
    int op;
    bool has_elem;
    size_t elem_off, elem_len;
    int field;
    size_t vals_off;     /* nvals x ([i32 len or -1] bytes) in conds_data */
    size_t nvals;
} store_cond_t;

struct store_write {
    store_t *st;
    rocksdb_writebatch_t *batch;
    wr_t key;            /* row keys of this batch (the current one at row_key_off) */
    wr_t data;           /* values and paths of the current row's cells */
    wr_t frag;           /* fragment being encoded */
    wr_t scratch;
    size_t count;
    /* current row */
    bool row_open, row_static_only, row_liveness, row_del;
    const store_table_t *t;
    size_t row_key_off, row_key_len, row_pk_len;
    int64_t ts, now_s, token;
    uint32_t ttl;
    frag_liveness_t live;
    frag_deletion_t del;
    pcell_t *cells;
    size_t ncells, cellcap;
    /* conditions */
    store_cond_t *conds;
    size_t nconds, condcap;
    wr_t conds_data;
    size_t cas_rows;
};

int store_write_flush_row(store_write_t *w);
/* Buffers a cell operation of the current row (its sort key is set here). */
int store_write_add_cell(store_write_t *w, pcell_t *c);
/* Applies the batch (flushing the current row); does not reset the builder. */
int store_write_commit(store_write_t *w, store_dur_t dur, char *errstr, size_t errlen);
/* Adds the elements of a serialized collection/UDT as cells (list_mode: 1 append, -1 prepend). */
int store_write_elements(store_write_t *w, const store_column_t *c, const uint8_t *p, size_t n, int list_mode);

/* ---- row.c: materializing rows ---- */

/* The partition-level context of rows: the partition deletion, range tombstones and static
 * cells, decoded from the header value (kept in `value`). */
typedef struct {
    wr_t value;
    bool present;
    frag_deletion_t pdel;
    frag_range_t *ranges;
    size_t nranges, rcap;
} store_part_t;

int store_part_load(store_part_t *p, const uint8_t *v, size_t n);
void store_part_clear(store_part_t *p);
void store_part_free(store_part_t *p);
/* The deletion that applies to a row with clustering suffix (k, n): partition deletion and
 * covering range tombstones. */
frag_deletion_t store_part_row_deletion(const store_part_t *p, const uint8_t *k, size_t n);

/* A row being built: values in buf, cells by column index. */
typedef struct {
    wr_t buf;
    size_t ncols, cap;
    size_t *off;
    store_cell_t *cells;
    uint8_t *set;        /* 0 null, 1 value at buf + off, 2 value pointed to directly (cells[i].ptr) */
    bool zero_copy;      /* simple cells may point into the fragment (kept alive by the caller) */
    const uint8_t *want; /* projection by column index, or NULL for all */
} store_rowmat_t;

void store_rowmat_init(store_rowmat_t *m);
void store_rowmat_free(store_rowmat_t *m);
int store_rowmat_reset(store_rowmat_t *m, size_t ncols);
/* Key columns from a data or header key. */
int store_rowmat_keys(store_rowmat_t *m, const store_table_t *t, const uint8_t *k, size_t klen, int64_t *token);
/* Cells of a fragment under deletion del at now_s; *live says whether the row is alive
 * (liveness or a live cell). statics: the fragment is a header (static cells). */
int store_rowmat_frag(store_rowmat_t *m, const store_table_t *t, const uint8_t *v, size_t n,
                      const frag_deletion_t *del, int64_t now_s, bool *live);
/* Points the cells at their values (after all appends). */
void store_rowmat_finish(store_rowmat_t *m);

/* ---- write.c / read.c internals shared with cas.c ---- */

/* Reads the current merged fragments of one row (data) and of its partition header; either may
 * come back empty. Used by read-before-write operations and conditions. */
int store_read_raw_row(store_t *st, const store_table_t *t, const uint8_t *rowkey, size_t rowklen, size_t partklen,
                       wr_t *data, wr_t *part, char *errstr, size_t errlen);

#endif
