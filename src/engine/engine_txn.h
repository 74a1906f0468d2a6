/* Inside the engine: the batch transaction's state, shared by txn.c (rows through UNNEST and
 * WHERE, groups, sink accumulation, commit) and txn_record.c (records in: decoding, keys,
 * changelog retractions, state read-ahead). See engine_int.h for the model. */
#ifndef EDDY_ENGINE_TXN_H
#define EDDY_ENGINE_TXN_H

#include "engine/engine_int.h"

typedef struct {
    const uint8_t *key; /* the map's copy of the key */
    uint32_t klen;
    uint8_t *val;
    uint32_t len;
    bool present;
    bool dirty;
    bool existed;  /* present in the store before this batch (for state row counts) */
} engine_state_entry_t;

typedef struct {
    void **items;
    uint32_t n, cap;
} engine_vec_t;

struct engine_txn {
    engine_query_t *q;
    engine_sink_t sink;
    arena_t arena;          /* per batch */
    arena_t spare;          /* pipelined: the previous batch's arena, kept while its commit runs */
    bool pipelined;
    bool inflight;          /* a prepared commit is not known to be applied yet */
    int (*barrier)(void *); /* pipelined: waits until the commit in flight is applied */
    void *barrier_arg;
    bool barrier_done;
    arena_t cache_arena;    /* state overlay, across batches */
    int64_t now_ms;
    engine_map_t state;
    engine_vec_t dirty;            /* state entries written in this batch (map entries) */
    engine_map_t sinkacc;
    engine_vec_t sinkorder;
    engine_map_t groups;
    engine_vec_t grouporder;
    engine_vec_t kvextra;          /* engine_kv_write_t *: positions and raw writes */
    wr_t scratch;
    wr_t pfkeys;            /* state keys being read ahead */
    wr_t keybuf;
    wr_t gkey;              /* group keys being encoded */
    json_doc_t doc;
    json_doc_t kdoc;        /* a record key in JSON */
    engine_val_t *slots;
    engine_val_t *outvals;     /* nout */
    engine_counters_t counters;
    int32_t cur_partition;
    int64_t cur_offset;
    int64_t state_delta;    /* net state rows added by this batch */
};

/* The state overlay (txn.c): a key's entry, read from the store on first use (fill: from a
 * read-ahead result); put replaces its value for this batch and marks it dirty. */
int engine_txn_state_fill(engine_txn_t *t, engine_map_entry_t *e, bool found, const uint8_t *val, size_t len,
                       engine_state_entry_t **out);
int engine_txn_state_get(engine_txn_t *t, const uint8_t *key, size_t klen, engine_state_entry_t **out);
int engine_txn_state_put(engine_txn_t *t, engine_state_entry_t *s, const uint8_t *val, size_t len);
/* Rows (txn.c): the projection of a row into sink columns (*out NULL: filtered out), their
 * accumulation with a weight (+1 added, -1 retracted), and the base row (t->slots) run through
 * UNNEST, WHERE and grouping with a weight. */
int engine_txn_project(engine_txn_t *t, engine_row_t *row, engine_val_t ***out);
int engine_txn_emit_cols(engine_txn_t *t, engine_val_t **cols, int weight);
int engine_txn_run_base(engine_txn_t *t, int weight);

#endif
