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
} eng_state_entry_t;

typedef struct {
    void **items;
    uint32_t n, cap;
} eng_vec_t;

struct eng_txn {
    eng_query_t *q;
    eng_sink_t sink;
    arena_t arena;          /* per batch */
    arena_t spare;          /* pipelined: the previous batch's arena, kept while its commit runs */
    bool pipelined;
    bool inflight;          /* a prepared commit is not known to be applied yet */
    int (*barrier)(void *); /* pipelined: waits until the commit in flight is applied */
    void *barrier_arg;
    bool barrier_done;
    arena_t cache_arena;    /* state overlay, across batches */
    int64_t now_ms;
    eng_map_t state;
    eng_vec_t dirty;            /* state entries written in this batch (map entries) */
    eng_map_t sinkacc;
    eng_vec_t sinkorder;
    eng_map_t groups;
    eng_vec_t grouporder;
    eng_vec_t kvextra;          /* eng_kv_write_t *: positions and raw writes */
    wr_t scratch;
    wr_t pfkeys;            /* state keys being read ahead */
    wr_t keybuf;
    wr_t gkey;              /* group keys being encoded */
    json_doc_t doc;
    json_doc_t kdoc;        /* a record key in JSON */
    eng_val_t *slots;
    eng_val_t *outvals;     /* nout */
    eng_counters_t counters;
    int32_t cur_partition;
    int64_t cur_offset;
    int64_t state_delta;    /* net state rows added by this batch */
};

/* The state overlay (txn.c): a key's entry, read from the store on first use (fill: from a
 * read-ahead result); put replaces its value for this batch and marks it dirty. */
int eng_txn_state_fill(eng_txn_t *t, eng_map_entry_t *e, bool found, const uint8_t *val, size_t len,
                       eng_state_entry_t **out);
int eng_txn_state_get(eng_txn_t *t, const uint8_t *key, size_t klen, eng_state_entry_t **out);
int eng_txn_state_put(eng_txn_t *t, eng_state_entry_t *s, const uint8_t *val, size_t len);
/* Rows (txn.c): the projection of a row into sink columns (*out NULL: filtered out), their
 * accumulation with a weight (+1 added, -1 retracted), and the base row (t->slots) run through
 * UNNEST, WHERE and grouping with a weight. */
int eng_txn_project(eng_txn_t *t, eng_row_t *row, eng_val_t ***out);
int eng_txn_emit_cols(eng_txn_t *t, eng_val_t **cols, int weight);
int eng_txn_run_base(eng_txn_t *t, int weight);

#endif
