/* Inside the engine: plans, the per-batch transaction, and the source and sink interfaces.
 *
 * A pipeline file holds statements; each INSERT INTO ... SELECT becomes a query (engine_query_t):
 *
 *   source (stream over a topic, or a table scan)
 *     -> base row: the source columns the query uses, one slot each
 *     -> UNNEST(s): one row per element (nested loops, in FROM order)
 *     -> WHERE
 *     -> either a projection to the sink's columns,
 *        or GROUP BY keys + aggregates -> HAVING -> projection
 *     -> sink rows (INSERT INTO keyspace.table)
 *
 * Every row carries a weight: +1 for an insert, -1 for a retraction. A changelog source keeps,
 * per record key, the base row the key's current value produced (only the columns the query
 * uses); a new value for the key first replays the old base row with weight -1, then the new one
 * with +1, so everything derived from the old value is retracted (Materialize's and RisingWave's
 * model). Aggregates keep retractable state per group. When two source keys (or groups) can
 * produce one sink key, each sink row carries the count of derivations that produce it, kept by
 * the sink in the row itself (the store's hidden reference counts): a row is deleted only when
 * its count reaches zero, and holds the latest value produced.
 *
 * A batch (engine_txn_t) gathers the effects of many records: state reads see the batch's own
 * writes through an overlay; at the end, the sink rows, the state changes and the new source
 * positions are handed to the sink in one commit, which the embedded store writes as one
 * RocksDB write batch (exactly-once effect). */
#ifndef EDDY_ENGINE_INT_H
#define EDDY_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/engine.h"
#include "engine/engine_expr.h"

struct sql_stmt;

/* ---- a small hash map from byte keys to pointers (keys copied into an arena) ----------------- */

typedef struct {
    uint64_t hash;
    const uint8_t *key;
    uint32_t klen;
    void *val;
} engine_map_entry_t;

typedef struct {
    engine_map_entry_t *slots;
    uint32_t cap;   /* power of two */
    uint32_t count;
    arena_t *arena; /* where keys are copied */
} engine_map_t;

void engine_map_init(engine_map_t *m, arena_t *arena);
void engine_map_free(engine_map_t *m);
void engine_map_clear(engine_map_t *m);
/* The value for key, or NULL. */
void *engine_map_get(const engine_map_t *m, const void *key, size_t klen);
/* The entry for key, created (val NULL) when missing; NULL only when out of memory. */
engine_map_entry_t *engine_map_upsert(engine_map_t *m, const void *key, size_t klen, bool *created);

/* Sorting by 64-bit keys: a stable sort of a by key (equal keys keep their order), using tmp
 * (n entries) as scratch. */
typedef struct {
    uint64_t key;
    uint32_t idx;
} engine_sortkey_t;
void engine_sort_keys(engine_sortkey_t *a, engine_sortkey_t *tmp, size_t n);

/* ---- declarations from the pipeline file -------------------------------------------------- */

typedef struct {
    char *name;
    engine_type_t type;
    bool is_key;        /* streams: this column is the record key */
} engine_col_t;

enum { ENGINE_FORMAT_JSON = 1, ENGINE_FORMAT_TEXT };
enum { ENGINE_START_EARLIEST = 0, ENGINE_START_LATEST = 1 };

/* CREATE STREAM name (cols) WITH (topic=, format=, changelog=, start=) */
typedef struct {
    char *name;
    char *topic;
    int format;
    bool changelog;
    int start;
    bool schemaless;    /* no columns declared: names resolve to members of the JSON value */
    uint32_t ncols;
    engine_col_t *cols;
} engine_stream_t;

/* A target or source table, as the catalog describes it. Columns in the catalog's order; pk
 * lists partition key columns then clustering columns. */
typedef struct {
    char *keyspace;
    char *name;
    uint32_t ncols;
    engine_col_t *cols;
    uint32_t npk;
    uint32_t npartition;
    uint32_t *pk;
} engine_table_t;

/* ---- plans ---------------------------------------------------------------------------------- */

/* What fills a base slot. */
typedef enum {
    IN_KEY, IN_VALUE, IN_TOPIC, IN_PARTITION, IN_OFFSET, IN_TIMESTAMP, IN_HEADERS,
    IN_FIELD,        /* a member of the JSON value (declared column or schemaless name) */
    IN_TABLE_COL,    /* batch: a column of the scanned table */
} engine_input_kind_t;

typedef struct {
    uint8_t kind;        /* engine_input_kind_t */
    engine_type_t type;
    char *field;         /* IN_FIELD: member name; IN_TABLE_COL: column name */
    uint32_t col;        /* IN_TABLE_COL: column index in the table */
} engine_input_t;

typedef struct {
    engine_expr_t *expr;
    uint32_t slot;       /* the element (list/set) or key (map) */
    int value_slot;      /* maps: the value slot, or -1 */
    bool outer;          /* keep the row with NULL when the collection is empty or NULL */
} engine_unnest_t;

typedef struct engine_query {
    char *id;               /* "<pipeline>/<n>": the state namespace */
    int line, col;          /* where the INSERT is in the file */
    engine_stream_t *stream;   /* streaming source, or NULL */
    engine_table_t *scan;      /* batch source, or NULL */
    int64_t scan_lo;        /* batch: token(pk) > scan_lo ... (INT64_MIN: from the start of the ring) */
    int64_t scan_hi;        /* ... and token(pk) <= scan_hi (WHERE token(...) restrictions) */
    uint32_t nslots;
    uint32_t nbase;
    engine_input_t *inputs;    /* nbase */
    uint32_t nunnest;
    engine_unnest_t *unnest;
    engine_expr_t *where;
    /* Grouping: the group row has slots [0, ngroup) for keys and [ngroup, ngroup+nagg) for
     * aggregate results; output expressions and HAVING are compiled against it. */
    bool grouped;
    uint32_t ngroup;
    engine_expr_t **group;
    uint32_t nagg;
    engine_agg_t *aggs;
    engine_expr_t *having;
    /* Output: one expression per sink column written (sink_cols[i] is its table column). */
    uint32_t nout;
    engine_expr_t **out;
    uint32_t *sink_cols;
    engine_table_t *sink;
    bool need_refcount;     /* two derivations may produce one sink key: rows carry counts */
    uint32_t ref_slot;      /* where the sink rows keep this query's counts (changes with the
                               fingerprint: a reset query starts new counts) */
    bool retracting;        /* input can retract (changelog source) */
    bool keyed;             /* a changelog projected 1:1 onto a table keyed by the record key: a
                               new value overwrites the row, a tombstone or a filtered value
                               deletes it, so no per-key state is needed */
    uint64_t fingerprint;   /* of the statement text and the source/target declarations */
} engine_query_t;

/* A parsed and checked pipeline file: its declarations and queries, all in plan_arena. */
typedef struct engine_plan {
    arena_t arena;
    char *name;
    uint32_t nstreams;
    engine_stream_t **streams;
    uint32_t ntables;        /* CREATE TABLE statements, in file order */
    engine_table_t **tables;
    uint32_t nddl;           /* CREATE KEYSPACE/TABLE statements, run before anything starts */
    const struct sql_stmt **ddl;
    engine_table_t **ddl_tables; /* for each: the table a CREATE TABLE describes, else NULL */
    char *text;              /* the file's text (the AST's positions point into it) */
    size_t text_len;
    uint32_t nqueries;
    engine_query_t **queries;
    bool is_batch;           /* every query reads a table */
} engine_plan_t;



/* ---- backends ------------------------------------------------------------------------------- */

/* A record as a source yields it. The bytes its views point to (key, value, topic, header
 * keys and values) stay valid until the source's next read call; the headers array only during
 * the callback. */
typedef struct {
    eddy_view_t key, value;
    eddy_view_t topic;
    bool key_null, value_null;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;
    uint32_t nheaders;
    const eddy_view_t *headers; /* 2 * nheaders: key, value */
} engine_record_t;

typedef int (*engine_record_fn)(void *arg, const engine_record_t *rec);

/* Where stream records come from: the embedded log now, librdkafka later. */
typedef struct engine_source_ops {
    int (*partitions)(void *ctx, const char *topic, int32_t *count, char *errstr, size_t errlen);
    /* First offset readable and the high watermark (one past the last durable record). */
    int (*bounds)(void *ctx, const char *topic, int32_t partition, int64_t *start, int64_t *hwm);
    /* Reads records from offset up to the high watermark, at most max_records; calls fn for
     * each (fn returning non-zero stops). *next is the offset after the last record read. */
    int (*read)(void *ctx, const char *topic, int32_t partition, int64_t offset, uint32_t max_records,
                engine_record_fn fn, void *arg, int64_t *next, char *errstr, size_t errlen);
    /* Arranges for fn(arg) to run once (from any thread) when the partition's high watermark
     * passes offset. *handle is NULL when it already has (fn is then never called). */
    int (*watch)(void *ctx, const char *topic, int32_t partition, int64_t offset, void (*fn)(void *arg), void *arg,
                 void **handle);
    /* Cancels a watch; when it returns, fn is not running and will not run. */
    void (*unwatch)(void *ctx, void *handle);
} engine_source_ops_t;

/* One row write: values per table column (NULL pointer entries: column not written).
 * Reference-counted sinks (engine_query_t.need_refcount) also change the row's count of
 * derivations in slot ref_slot by refs, atomically with the row: refs_only writes just that
 * change (the row keeps its values); a delete resets the count. */
typedef struct {
    const engine_table_t *table;
    bool is_delete;
    const engine_val_t *const *cols; /* table->ncols entries, NULL = unset */
    int32_t partition;            /* source position, for error reports */
    int64_t offset;
    bool refs_only;
    int64_t refs;                 /* 0: no change */
    uint32_t ref_slot;
} engine_mutation_t;

typedef struct {
    eddy_view_t key;
    eddy_view_t value;
    bool is_delete;
} engine_kv_write_t;

/* Everything one batch changes, committed atomically (embedded) or rows first, then state and
 * positions (Cassandra workers later). */
typedef struct {
    uint32_t nmut;
    engine_mutation_t *mut;
    uint32_t nkv;
    engine_kv_write_t *kv;
} engine_commit_t;

/* A row scanned by a batch job: values per table column, valid during the callback. */
typedef int (*engine_row_fn)(void *arg, const engine_val_t *cols);

/* Where rows and state go: the embedded store now, eddy's CQL client later. */
typedef struct engine_sink_ops {
    /* The catalog's description of ks.table (allocated in arena); EDDY_ERR_NOT_FOUND. */
    int (*table_get)(void *ctx, const char *ks, const char *table, arena_t *arena, engine_table_t **out,
                     char *errstr, size_t errlen);
    /* Runs a CREATE KEYSPACE/TABLE statement (IF NOT EXISTS semantics); table is what a CREATE
     * TABLE describes (NULL for a keyspace). */
    int (*ddl)(void *ctx, const struct sql_stmt *stmt, const engine_table_t *table, char *errstr, size_t errlen);
    /* State: reads a key of the engine's key/value area into out. */
    int (*kv_get)(void *ctx, eddy_view_t key, wr_t *out, bool *found);
    /* Calls fn for each key with prefix, in key order (fn non-zero stops). */
    int (*kv_scan)(void *ctx, eddy_view_t prefix, int (*fn)(void *arg, eddy_view_t k, eddy_view_t v), void *arg);
    /* Applies one batch. A mutation the sink cannot write (type, range, null key) is skipped
     * and reported through bad(arg, mutation, reason); everything else is applied. */
    int (*commit)(void *ctx, const engine_commit_t *c, void (*bad)(void *arg, const engine_mutation_t *m, const char *why),
                  void *arg, char *errstr, size_t errlen);
    /* Optional, for pipelining: commit in two halves. build encodes c into a batch (*out; rows
     * it cannot write are reported as by commit) without applying it; apply writes a built batch
     * (from any thread, in the order they were built) and frees it; discard frees one that will
     * not be applied. NULL: commit does it all. */
    int (*build)(void *ctx, const engine_commit_t *c, void (*bad)(void *arg, const engine_mutation_t *m, const char *why),
                 void *arg, void **out, char *errstr, size_t errlen);
    int (*apply)(void *ctx, void *built, char *errstr, size_t errlen);
    void (*discard)(void *ctx, void *built);
    /* Optional: a pipeline is catching up (on) or idle again (off); the store sizes its
     * memtables for it (calls nest). */
    void (*bulk)(void *ctx, bool on);
    /* The count of derivations a row holds in slot (0 when the row or its count is absent):
     * what engine_mutation_t.refs added up since the row was last deleted. cols: the row's
     * primary key values (table->ncols entries, as in a mutation). */
    int (*refs_get)(void *ctx, const engine_table_t *table, const engine_val_t *const *cols, uint32_t slot, int64_t *count);
    /* Batch source: scans rows of table whose token lies in (start, end] (start INT64_MIN:
     * [start, end]), calling fn with the columns marked in needed (NULL: all; others NULL). */
    int (*scan)(void *ctx, const engine_table_t *table, int64_t start, int64_t end, const bool *needed, engine_row_fn fn,
                void *arg, char *errstr, size_t errlen);
    /* Optional: kv_get of n keys at once (any order, duplicates allowed): found[i], and the
     * value of keys[i] at out->buf + offs[i], lens[i] bytes (appended to out). NULL: the
     * engine calls kv_get for each. */
    int (*kv_get_many)(void *ctx, const eddy_view_t *keys, uint32_t n, wr_t *out, size_t *offs, size_t *lens,
                       bool *found);
} engine_sink_ops_t;

typedef struct {
    const engine_source_ops_t *ops;
    void *ctx;
} engine_source_t;

typedef struct {
    const engine_sink_ops_t *ops;
    void *ctx;
} engine_sink_t;

/* Parses and checks a pipeline file against the sink's catalog (tables created in the file
 * count as existing). Returns EDDY_OK with *out (free with engine_plan_free), or EDDY_ERR_INVALID
 * with "line L:C message" in errstr (syntax, unknown column or table, type mismatch, ...), or
 * EDDY_ERR_NOMEM. Nothing is created or started. */
int engine_plan_build(const char *name, const char *text, size_t len, engine_sink_t sink, engine_plan_t **out, char *errstr,
                   size_t errlen);
void engine_plan_free(engine_plan_t *plan);
/* Runs the plan's DDL (keyspaces and tables created if missing). */
int engine_plan_run_ddl(const engine_plan_t *plan, engine_sink_t sink, char *errstr, size_t errlen);

/* The in-memory backend (tests, dry runs): a log of topics and a store of tables + kv. */
typedef struct engine_mem engine_mem_t;
engine_mem_t *engine_mem_new(void);
void engine_mem_free(engine_mem_t *m);
engine_source_t engine_mem_source(engine_mem_t *m);
engine_sink_t engine_mem_sink(engine_mem_t *m);
/* Appends a record (value NULL = tombstone); returns its offset. */
int64_t engine_mem_append(engine_mem_t *m, const char *topic, int32_t partition, const char *key, const char *value);
int engine_mem_create_topic(engine_mem_t *m, const char *topic, int32_t partitions);
/* State reads the sink served so far: keys read one at a time (kv_get), and keys read in
 * batched reads (kv_get_many). */
void engine_mem_kv_reads(engine_mem_t *m, uint64_t *single, uint64_t *batched);
/* Dumps a table as sorted lines "col=value|col=value" into w (for comparing states). */
void engine_mem_dump_table(engine_mem_t *m, const char *ks, const char *table, wr_t *w);
/* Number of rows in a table. */
size_t engine_mem_table_rows(engine_mem_t *m, const char *ks, const char *table);
/* Copies the whole state (tables + kv) so a test can "crash" at a commit boundary. */
engine_mem_t *engine_mem_clone(engine_mem_t *m);
/* Makes the next commit fail after n more successful commits (n < 0: never). */
void engine_mem_fail_commit_after(engine_mem_t *m, int n);
/* Inserts a row into a table (batch tests): values as JSON object text. */
int engine_mem_insert_json(engine_mem_t *m, const char *ks, const char *table, const char *json);
int engine_mem_define_table(engine_mem_t *m, const char *ks, const engine_table_t *t);

/* ---- the per-batch transaction ------------------------------------------------------------- */

typedef struct engine_counters {
    uint64_t input_rows;       /* records read */
    uint64_t output_rows;      /* row upserts and deletes written */
    uint64_t rows_deleted;
    uint64_t retractions;      /* rows retracted upstream of the sink */
    uint64_t bad_records;      /* records whose value could not be decoded */
    uint64_t rows_skipped;     /* sink rows that could not be written */
    uint64_t state_rows_total; /* estimate: keys + groups held */
    uint64_t state_rows_updated;
    uint64_t state_rows_removed;
} engine_counters_t;

typedef struct engine_txn engine_txn_t;

/* Starts a batch for query q against sink; now_ms is the batch time. */
engine_txn_t *engine_txn_new(engine_query_t *q, engine_sink_t sink);
void engine_txn_free(engine_txn_t *t);
void engine_txn_reset(engine_txn_t *t, int64_t now_ms);
/* Applies one stream record (changelog or append). Returns EDDY_OK or EDDY_ERR_NOMEM/IO;
 * undecodable values are counted and skipped. */
int engine_txn_record(engine_txn_t *t, const engine_record_t *rec);
/* Reads ahead the changelog state of records' keys that the overlay does not hold, in one
 * batched read (sink kv_get_many), so that engine_txn_record of each finds it there. Optional:
 * without it each record reads its own. Returns EDDY_OK or the read's error. */
int engine_txn_prefetch(engine_txn_t *t, const engine_record_t *recs, uint32_t n);
/* Applies one scanned table row with weight +1 (batch jobs). */
int engine_txn_row(engine_txn_t *t, const engine_val_t *cols);
/* Records the position reached on a partition (committed with the batch). */
int engine_txn_position(engine_txn_t *t, const char *topic, int32_t partition, int64_t next_offset);
/* Adds a raw key/value write to the commit (batch job range bookkeeping). */
int engine_txn_kv(engine_txn_t *t, eddy_view_t key, eddy_view_t value, bool is_delete);
/* Resolves groups and sink refcounts and commits everything. Returns EDDY_OK or the sink's
 * error (the batch is then not applied and must be retried from the last positions). */
int engine_txn_commit(engine_txn_t *t, char *errstr, size_t errlen);

/* A batch resolved and ready to commit, so that the next batch can be applied while it is
 * written (pipelining). Lives in the batch's arena. */
typedef struct {
    engine_commit_t c;
    engine_counters_t counters;   /* of the batch (rows the sink skips are counted here) */
    const char *query_id;
    int64_t *reached;          /* streams: the positions after the batch, one per partition */
    void *built;               /* the sink's encoded batch (engine_prepared_build), or NULL */
} engine_prepared_t;

/* Pipelined use: the batch's arena stays valid until the second engine_txn_reset after
 * engine_txn_prepare, and barrier(arg) is called (from engine_txn_prepare, at most once a batch)
 * before anything is read that the commit in flight may have changed (reference counts); it
 * returns EDDY_OK once that commit is applied, or its error. */
void engine_txn_pipeline(engine_txn_t *t, int (*barrier)(void *), void *arg);
/* Resolves the batch into *out (commit it with engine_prepared_commit, then call engine_txn_done).
 * The state it writes counts as written from here on: the next batch may start at once. */
int engine_txn_prepare(engine_txn_t *t, engine_prepared_t **out, char *errstr, size_t errlen);
int engine_prepared_commit(engine_sink_t sink, engine_prepared_t *p, char *errstr, size_t errlen);
/* Encodes p for the sink now, on this thread (when the sink can), so that engine_prepared_commit
 * only writes it; engine_prepared_discard frees a prepared batch that will not be committed. */
int engine_prepared_build(engine_sink_t sink, engine_prepared_t *p, char *errstr, size_t errlen);
void engine_prepared_discard(engine_sink_t sink, engine_prepared_t *p);
/* The prepared commit applied was applied (unpipelined: its counters become the
 * transaction's), or it failed
 * (applied NULL): then the state cache is dropped (it holds writes the store does not have) and
 * the caller restarts from the last applied positions. */
void engine_txn_done(engine_txn_t *t, const engine_prepared_t *applied);
/* Memory in the current batch's arena (NULL when out of memory). */
void *engine_txn_alloc(engine_txn_t *t, size_t n);
/* Counters accumulated by this batch (reset by engine_txn_reset). */
const engine_counters_t *engine_txn_counters(const engine_txn_t *t);
/* Batch jobs: the groups accumulated so far, serialized (a range's partial aggregates); the
 * merge of serialized partials into this transaction's groups (validated: bytes from disk);
 * and forgetting the groups (after exporting them). */
int engine_txn_export_groups(engine_txn_t *t, wr_t *w);
int engine_txn_import_groups(engine_txn_t *t, const uint8_t *p, size_t n);
void engine_txn_drop_groups(engine_txn_t *t);
/* Whether the batch holds anything to commit. */
bool engine_txn_empty(const engine_txn_t *t);

/* ---- state keys ------------------------------------------------------------------------------ */

/* (3 held (sink key, producer) reference-count pairs before counts moved into the rows.) */
enum { KV_INPUT = 1, KV_GROUP = 2, KV_POS = 4, KV_META = 5, KV_RANGE = 6, KV_PARTIAL = 7 };
#define ENGINE_REF_SLOT_MASK 0x7FFFFFFFu /* slots the store offers (STORE_REFS_SLOT_MAX) */

/* "e" uvarint(len) query-id, kind byte, then the rest. */
void engine_kv_prefix(wr_t *w, const char *query_id, int kind);
/* The stored position of (topic, partition) for query q: next offset, or -1 when none. */
int engine_positions_load(engine_sink_t sink, const char *query_id, const char *topic, int32_t partition, int64_t *next);

/* ---- the engine's backends ------------------------------------------------------------------ */

/* How an engine reaches its source and sink: the embedded log and store (engine.c), or the
 * in-memory backend (tests). Each pipeline opens its own source (it caches partition handles);
 * the sink is shared and thread-safe. */
typedef struct {
    void *env;
    int (*source_open)(void *env, engine_source_t *out);
    void (*source_close)(void *env, engine_source_t src);
    engine_sink_t sink;
    int batch_threads;
    int progress_interval_ms;
    void (*close)(void *env, engine_sink_t sink); /* at engine_free, after every pipeline stopped */
} engine_backend_t;

int engine_engine_new(const engine_backend_t *be, engine_t **out, char *errstr, size_t errlen);

/* The embedded backends. */
int engine_logsrc_open(void *log, engine_source_t *out);
void engine_logsrc_close(void *log, engine_source_t src);
int engine_store_sink(void *store, engine_sink_t *out);
void engine_store_sink_free(engine_sink_t sink);

/* ---- batch jobs ------------------------------------------------------------------------------ */

typedef struct engine_batch_job {
    engine_query_t *q;
    engine_sink_t sink;
    uint32_t nranges;
    int64_t now_ms;
    uint8_t *done;                 /* per range: finished by an earlier run */
    atomic_uint next;              /* the next range to take */
    atomic_uint ranges_done;
    atomic_ullong rows;            /* rows scanned */
    atomic_ullong output_rows;
    atomic_ullong rows_skipped;
    atomic_bool stop;
} engine_batch_job_t;

/* Prepares a job over nranges token ranges (0: 64). Free with engine_batch_destroy. */
int engine_batch_init(engine_batch_job_t *job, engine_query_t *q, engine_sink_t sink, uint32_t nranges, int64_t now_ms);
void engine_batch_destroy(engine_batch_job_t *job);
/* Runs the ranges not done yet on threads workers, then writes the result. Returns EDDY_OK, the
 * first error, or EDDY_ERR_CLOSED when job->stop was set (the finished ranges stay done). */
int engine_batch_run(engine_batch_job_t *job, int threads, char *errstr, size_t errlen);

/* ---- a streaming query's read loop ---------------------------------------------------------- */

typedef struct {
    engine_query_t *q;
    engine_source_t src;
    engine_sink_t sink;
    engine_txn_t *txn;
    int32_t nparts;
    int64_t *next;      /* per partition: the next offset to read (everything before is taken) */
    int64_t *committed; /* per partition: the next offset to apply (everything before is applied) */
    int64_t *hwm;       /* per partition: the high watermark last seen */
} engine_stream_run_t;

/* Loads the query's committed positions (new queries start per the stream's start option).
 * Free with engine_stream_close. */
int engine_stream_open(engine_stream_run_t *r, engine_query_t *q, engine_source_t src, engine_sink_t sink, char *errstr,
                    size_t errlen);
void engine_stream_close(engine_stream_run_t *r);
/* Applies up to max_records durable records beyond the positions in one committed batch;
 * *nread says how many. On error nothing of the batch is applied and positions stay. */
int engine_stream_step(engine_stream_run_t *r, uint32_t max_records, int64_t now_ms, uint32_t *nread, char *errstr,
                    size_t errlen);
/* The same in two halves (pipelining): reads up to max_records beyond r->next into a prepared
 * batch (*out NULL when there was nothing to read), moving r->next past them; then, once the
 * batch is committed, engine_stream_applied moves r->committed to it. After a failure (a prepare
 * or a commit), engine_stream_rewind goes back to r->committed and forgets the state cache; a
 * commit in flight must have finished first. */
int engine_stream_prepare(engine_stream_run_t *r, uint32_t max_records, int64_t now_ms, uint32_t *nread,
                       engine_prepared_t **out, char *errstr, size_t errlen);
void engine_stream_applied(engine_stream_run_t *r, const engine_prepared_t *p);
void engine_stream_rewind(engine_stream_run_t *r);

#endif
