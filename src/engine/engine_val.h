/* Inside the engine: typed values, the unit every operator computes on.
 *
 * A value (engine_val_t) is a small tagged struct; text, blobs and collections point into memory
 * owned by someone else (the record being processed, or the batch arena), so evaluating an
 * expression allocates nothing but what it creates. The kinds follow the store's CQL types with
 * integers widened to 64 bits and float/double/decimal held as doubles; the declared CQL type
 * (engine_type_t) keeps the exact name so the sink can check ranges.
 *
 * Encodings:
 *   - engine_val_encode: a compact, deterministic tagged binary form (equal values give equal
 *     bytes), used for state records and for the keys of groups and sink rows. Decoding it is a
 *     decoder of bytes read back from disk: engine_val_decode validates everything (fuzzed).
 *   - JSON in and out, with Cassandra's leniency on input (numbers and booleans as strings,
 *     timestamps as ISO-8601 strings or epoch ms). */
#ifndef EDDY_ENGINE_VAL_H
#define EDDY_ENGINE_VAL_H

#include "base/base.h"

typedef enum {
    ENGINE_NULL = 0,
    ENGINE_BOOL,
    ENGINE_INT,       /* tinyint, smallint, int, bigint, varint (64-bit), counter */
    ENGINE_FLOAT,     /* float, double, decimal (as double) */
    ENGINE_TEXT,      /* text, varchar, ascii, inet (as text) */
    ENGINE_BLOB,
    ENGINE_TIMESTAMP, /* ms since the epoch */
    ENGINE_DATE,      /* days since the epoch */
    ENGINE_UUID,      /* uuid, timeuuid: 16 bytes */
    ENGINE_LIST,
    ENGINE_SET,       /* kept sorted and without duplicates */
    ENGINE_MAP,       /* pairs kept sorted by key, keys unique */
    ENGINE_JSON,      /* a JSON object not yet taken apart (schemaless sources) */
    ENGINE_ANY,       /* types only: known at run time */
    ENGINE_KIND_COUNT
} engine_kind_t;

struct json_ref;

typedef struct engine_val {
    uint8_t kind;   /* engine_kind_t */
    uint32_t len;   /* text/blob: bytes; list/set: items; map: pairs; json: unused */
    union {
        bool b;
        int64_t i;     /* int, timestamp (ms), date (days) */
        double f;
        const char *s; /* text, blob, uuid (16 bytes): not NUL-terminated */
        const struct engine_val *items; /* list/set: len items; map: 2*len items, key then value */
        const struct json_ref *json;
    };
} engine_val_t;

/* A JSON object value: a document (owned elsewhere, outliving the value) and a node. */
typedef struct json_ref {
    const json_doc_t *doc;
    uint32_t node;
} json_ref_t;

/* A declared type: the kind, the element kinds of collections, and the CQL name's width for
 * integers (8, 16, 32, 64) and floats (32, 64; 0 = decimal). */
typedef struct {
    uint8_t kind;
    uint8_t elem;  /* list/set element, map value */
    uint8_t key;   /* map key */
    uint8_t bits;  /* integer or float width */
} engine_type_t;

static inline engine_val_t engine_null(void) { engine_val_t v = {0}; return v; }
static inline engine_val_t engine_bool(bool b) { engine_val_t v = {.kind = ENGINE_BOOL, .b = b}; return v; }
static inline engine_val_t engine_int(int64_t i) { engine_val_t v = {.kind = ENGINE_INT, .i = i}; return v; }
static inline engine_val_t engine_float(double f) { engine_val_t v = {.kind = ENGINE_FLOAT, .f = f}; return v; }
static inline engine_val_t engine_text(const char *s, size_t n) {
    engine_val_t v = {.kind = ENGINE_TEXT, .len = (uint32_t)n, .s = s};
    return v;
}
static inline engine_val_t engine_ts(int64_t ms) { engine_val_t v = {.kind = ENGINE_TIMESTAMP, .i = ms}; return v; }
static inline bool engine_is_null(engine_val_t v) { return v.kind == ENGINE_NULL; }

static inline engine_type_t engine_type(uint8_t kind) { engine_type_t t = {kind, ENGINE_ANY, ENGINE_ANY, 64}; return t; }

/* The name of a kind ("text", "list"), static storage. */
const char *engine_kind_name(int kind);
/* Writes a type as CQL spells it ("list<text>", "int") into out; returns out. */
const char *engine_type_str(engine_type_t t, char *out, size_t n);
/* Parses a CQL type name ("int", "list<text>", "map<text, int>", "frozen<set<int>>").
 * Returns EDDY_OK or EDDY_ERR_INVALID. */
int engine_type_parse(const char *s, size_t n, engine_type_t *out);

/* Total order used by GROUP BY, sets, maps, min/max and comparisons: NULL first, then by kind
 * (numbers of both kinds compare by value), then by value; text by bytes (UTF-8 code point
 * order). Returns <0, 0, >0. */
int engine_val_cmp(const engine_val_t *a, const engine_val_t *b);
bool engine_val_eq(const engine_val_t *a, const engine_val_t *b);

/* Deep-copies v (its text and items) into the arena; returns EDDY_OK or EDDY_ERR_NOMEM.
 * JSON values are taken apart (objects become maps with text keys) so the copy owns all. */
int engine_val_copy(arena_t *a, const engine_val_t *v, engine_val_t *out);

/* The binary form (see the file comment). Encoding never fails except for memory (w->err). */
void engine_val_encode(wr_t *w, const engine_val_t *v);
/* Decodes one value from r into out, allocating text and items in the arena. Returns EDDY_OK,
 * EDDY_ERR_CORRUPT (bad tag, length, nesting deeper than 32, unsorted set) or EDDY_ERR_NOMEM. */
int engine_val_decode(rd_t *r, arena_t *a, engine_val_t *out);

/* Value from a JSON node, without a declared type: strings become text, integers int, other
 * numbers float, arrays lists, objects JSON references (kept as views into doc). */
int engine_val_from_json(arena_t *a, const json_doc_t *doc, uint32_t node, engine_val_t *out);
/* Value of declared type t from a JSON node, leniently as Cassandra's INSERT JSON reads it.
 * Returns EDDY_OK, EDDY_ERR_INVALID (with a message) when the node cannot be that type. */
int engine_val_from_json_typed(arena_t *a, const json_doc_t *doc, uint32_t node, engine_type_t t,
                            engine_val_t *out, char *errstr, size_t errlen);
/* Writes v as JSON (timestamps as ISO-8601 strings, blobs as 0x hex, uuids in 8-4-4-4-12). */
void engine_val_to_json(wr_t *w, const engine_val_t *v);
/* Writes v as text for casts and concatenation (text unquoted, others as in JSON). */
void engine_val_to_text(wr_t *w, const engine_val_t *v);

/* Converts v to type t (CAST semantics): a value that cannot convert gives NULL and
 * EDDY_ERR_INVALID; the caller decides whether that is an error. */
int engine_val_cast(arena_t *a, const engine_val_t *v, engine_type_t t, engine_val_t *out);

/* A collection built in the arena: sorts and removes duplicates for sets, sorts by key for maps
 * (the last value for a duplicate key wins). items: n values (2n for maps, key then value). */
int engine_val_make_coll(arena_t *a, uint8_t kind, const engine_val_t *items, uint32_t n, engine_val_t *out);

/* A hash consistent with engine_val_eq (numbers of both kinds hash by value). */
uint64_t engine_val_hash(const engine_val_t *v);

#endif
