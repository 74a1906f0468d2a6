/* base: what every part of eddy stands on and nothing else.
 *
 * Status codes, one allocation wrapper (with a test hook that fails the Nth allocation), arenas,
 * the bounds-checked byte reader (rd_*) and growable writer (wr_*) that every codec uses, CRC32C,
 * Cassandra's Murmur3, JSON, time, logging, latency histograms and command-line flags.
 * base depends on nothing but libc. */
#ifndef EDDY_BASE_H
#define EDDY_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- status ------------------------------------------------------------------------------- */

/* One status enum for the project: 0 is success, negative values are errors. Wire error codes
 * (Kafka ErrorCode, CQL error codes, HTTP statuses) are separate and mapped at each edge. */
typedef enum {
    EDDY_OK = 0,
    EDDY_ERR_NOMEM = -1,       /* an allocation failed */
    EDDY_ERR_IO = -2,          /* a system call failed; errno-derived detail goes to errstr */
    EDDY_ERR_CORRUPT = -3,     /* bytes from disk or the network are malformed */
    EDDY_ERR_INVALID = -4,     /* a caller's argument or request is not acceptable */
    EDDY_ERR_NOT_FOUND = -5,   /* the named thing does not exist */
    EDDY_ERR_EXISTS = -6,      /* the named thing already exists */
    EDDY_ERR_TOO_LARGE = -7,   /* over a configured size limit */
    EDDY_ERR_TIMEOUT = -8,     /* a deadline passed */
    EDDY_ERR_BUSY = -9,        /* a resource is held by someone else (lock, full queue) */
    EDDY_ERR_CLOSED = -10,     /* the object is shut down */
    EDDY_ERR_UNSUPPORTED = -11,/* valid but not implemented or not enabled */
    EDDY_ERR_NEED_MORE = -12,  /* a decoder needs more bytes before it can decide */
    EDDY_ERR_RANGE = -13,      /* a number or offset is out of range */
    EDDY_ERR_CONFLICT = -14,   /* a condition (compare-and-set, sequence) did not hold */
} eddy_status_t;

/* A short English name for a status ("corrupt data"); never NULL, static storage. */
const char *eddy_strerror(int status);

/* Formats a message into errstr (may be NULL) and returns status, for one-line error returns:
 *   return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "unknown topic '%s'", name); */
int eddy_err(char *errstr, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define EDDY_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EDDY_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EDDY_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- memory --------------------------------------------------------------------------------- */

/* The one allocation wrapper. Return NULL on failure like malloc; callers handle it.
 * eddy_alloc_fail_after(n) makes the (n+1)th allocation from now fail (n < 0 disables), so
 * tests can walk every failure path. */
void *eddy_malloc(size_t size);
void *eddy_calloc(size_t count, size_t size);
void *eddy_realloc(void *ptr, size_t size);
void eddy_free(void *ptr);
char *eddy_strdup(const char *s);
char *eddy_strndup(const char *s, size_t n);
void *eddy_memdup(const void *p, size_t n);
void eddy_alloc_fail_after(long n);

/* A byte view: pointer and length, owned by someone else; its validity is stated by whoever
 * hands it out. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} eddy_view_t;

static inline eddy_view_t eddy_view(const void *p, size_t n) {
    eddy_view_t v = {(const uint8_t *)p, n};
    return v;
}
static inline eddy_view_t eddy_view_str(const char *s) { return eddy_view(s, s ? strlen(s) : 0); }
static inline bool eddy_view_eq(eddy_view_t a, eddy_view_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
static inline bool eddy_view_eq_str(eddy_view_t a, const char *s) {
    return eddy_view_eq(a, eddy_view_str(s));
}

/* An arena: many small allocations freed at once, reset at a known point (end of a request or a
 * batch). Memory comes in chunks from eddy_malloc; arena_alloc returns 16-byte aligned memory or
 * NULL. arena_reset keeps the first chunk for reuse. */
typedef struct arena_chunk arena_chunk_t;
typedef struct {
    arena_chunk_t *head;
    size_t chunk_size;
    size_t total;
} arena_t;

void arena_init(arena_t *a, size_t chunk_size);
void *arena_alloc(arena_t *a, size_t size);
void *arena_memdup(arena_t *a, const void *p, size_t n);
char *arena_strndup(arena_t *a, const char *s, size_t n);
void arena_reset(arena_t *a);
void arena_free(arena_t *a);

/* ---- byte reader ---------------------------------------------------------------------------- */

/* A slice reader with a sticky error: after the first short read every call returns zero values
 * and rd->err stays set, so a decoder reads a whole message and checks once at the end.
 * Integers are big-endian (network order) unless the name says _le. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
    size_t pos;
    int err; /* EDDY_OK, or the first error (EDDY_ERR_NEED_MORE for a short read) */
} rd_t;

static inline rd_t rd_init(const void *p, size_t n) {
    rd_t r = {(const uint8_t *)p, n, 0, EDDY_OK};
    return r;
}
static inline size_t rd_remaining(const rd_t *r) { return r->err ? 0 : r->len - r->pos; }
static inline bool rd_ok(const rd_t *r) { return r->err == EDDY_OK; }
static inline const uint8_t *rd_cur(const rd_t *r) { return r->ptr + r->pos; }
/* Marks the reader failed with err (keeps an earlier error). */
void rd_fail(rd_t *r, int err);

uint8_t rd_u8(rd_t *r);
int8_t rd_i8(rd_t *r);
uint16_t rd_u16(rd_t *r);
int16_t rd_i16(rd_t *r);
uint32_t rd_u32(rd_t *r);
int32_t rd_i32(rd_t *r);
uint64_t rd_u64(rd_t *r);
int64_t rd_i64(rd_t *r);
uint32_t rd_u32_le(rd_t *r);
uint64_t rd_u64_le(rd_t *r);
double rd_f64(rd_t *r);
float rd_f32(rd_t *r);
/* Unsigned LEB128 (Kafka's unsigned varint), up to 32/64 bits. */
uint32_t rd_uvarint32(rd_t *r);
uint64_t rd_uvarint64(rd_t *r);
/* Zigzag-encoded signed varints (Kafka record fields). */
int32_t rd_varint32(rd_t *r);
int64_t rd_varint64(rd_t *r);
/* n bytes as a pointer into the input (valid as long as the input), or NULL on a short read. */
const uint8_t *rd_bytes(rd_t *r, size_t n);
eddy_view_t rd_view(rd_t *r, size_t n);
void rd_skip(rd_t *r, size_t n);
/* Reads an array count that must lie in [0, max]; a larger or negative count fails the reader
 * with EDDY_ERR_CORRUPT. Counts are checked before anything is allocated for them. */
int32_t rd_count_check(rd_t *r, int64_t n, int64_t max);

/* ---- byte writer ---------------------------------------------------------------------------- */

/* A growable buffer with a sticky error. wr_mark returns an offset that wr_patch_* fills later,
 * for length prefixes. max (0 = unlimited) caps the size: growing past it sets
 * EDDY_ERR_TOO_LARGE. The buffer is owned by the writer: wr_free releases it, wr_steal hands it
 * over (free with eddy_free). */
typedef struct {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t max;
    int err;
} wr_t;

void wr_init(wr_t *w, size_t initial_cap);
void wr_free(wr_t *w);
void wr_reset(wr_t *w);
uint8_t *wr_steal(wr_t *w, size_t *len);
/* Ensures room for n more bytes and returns a pointer to them (NULL on error); the caller then
 * calls wr_advance(w, n) after filling them. */
uint8_t *wr_reserve(wr_t *w, size_t n);
void wr_advance(wr_t *w, size_t n);
static inline bool wr_ok(const wr_t *w) { return w->err == EDDY_OK; }

void wr_u8(wr_t *w, uint8_t v);
void wr_u16(wr_t *w, uint16_t v);
void wr_u32(wr_t *w, uint32_t v);
void wr_u64(wr_t *w, uint64_t v);
static inline void wr_i8(wr_t *w, int8_t v) { wr_u8(w, (uint8_t)v); }
static inline void wr_i16(wr_t *w, int16_t v) { wr_u16(w, (uint16_t)v); }
static inline void wr_i32(wr_t *w, int32_t v) { wr_u32(w, (uint32_t)v); }
static inline void wr_i64(wr_t *w, int64_t v) { wr_u64(w, (uint64_t)v); }
void wr_u32_le(wr_t *w, uint32_t v);
void wr_u64_le(wr_t *w, uint64_t v);
void wr_f64(wr_t *w, double v);
void wr_f32(wr_t *w, float v);
void wr_uvarint(wr_t *w, uint64_t v);
void wr_varint(wr_t *w, int64_t v); /* zigzag */
void wr_bytes(wr_t *w, const void *p, size_t n);
void wr_str(wr_t *w, const char *s);
void wr_fmt(wr_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reserves n zero bytes at the current end and returns their offset, to be patched later. */
size_t wr_mark(wr_t *w, size_t n);
void wr_patch_u16(wr_t *w, size_t off, uint16_t v);
void wr_patch_u32(wr_t *w, size_t off, uint32_t v);
void wr_patch_u64(wr_t *w, size_t off, uint64_t v);

/* Sizes of varints, for encoders that compute lengths before writing. */
size_t varint_size_unsigned(uint64_t v);
size_t varint_size_signed(int64_t v);

/* Big-endian loads and stores on raw memory (for fixed headers patched in place). */
static inline uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t load_u64(const uint8_t *p) {
    return (uint64_t)load_u32(p) << 32 | load_u32(p + 4);
}
static inline void store_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void store_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void store_u64(uint8_t *p, uint64_t v) {
    store_u32(p, (uint32_t)(v >> 32));
    store_u32(p + 4, (uint32_t)v);
}

/* ---- checksums and hashes ------------------------------------------------------------------- */

/* CRC-32C (Castagnoli), as Kafka's RecordBatch uses it: crc32c_extend(0, p, n) is the CRC of p.
 * Uses SSE4.2 where the CPU has it. */
uint32_t crc32c_extend(uint32_t crc, const void *p, size_t n);
static inline uint32_t crc32c(const void *p, size_t n) { return crc32c_extend(0, p, n); }

/* Cassandra's Murmur3Partitioner token of a partition key's bytes: the first 64 bits of
 * MurmurHash3_x64_128 (seed 0) with Cassandra's quirk of sign-extending tail bytes, and
 * Long.MIN_VALUE mapped to Long.MAX_VALUE. An empty key gets INT64_MIN (the minimum token). */
int64_t murmur3_token(const void *key, size_t len);

/* A fast 64-bit hash for in-memory hash tables (not stable across versions; never persist). */
uint64_t hash64(const void *p, size_t n);

/* ---- time ----------------------------------------------------------------------------------- */

int64_t time_now_ms(void);   /* wall clock, ms since the Unix epoch */
int64_t time_now_us(void);   /* wall clock, µs since the Unix epoch */
int64_t time_mono_ns(void);  /* monotonic clock, ns */
static inline int64_t time_mono_ms(void) { return time_mono_ns() / 1000000; }
/* Formats ms since the epoch as ISO-8601 UTC "2024-01-02T03:04:05.678Z" into out (>= 32 bytes);
 * returns the length. */
size_t time_format_iso8601(int64_t ms, char *out, size_t outlen);
/* Parses the date and timestamp forms Cassandra accepts ("2024-01-02", "2024-01-02 03:04",
 * "2024-01-02T03:04:05.678Z", "...+0100", "...+01:00") into ms since the epoch (UTC unless a
 * zone is given). Returns EDDY_OK or EDDY_ERR_INVALID. */
int time_parse_iso8601(const char *s, size_t len, int64_t *ms);
/* Days since the epoch for a civil date, and back (proleptic Gregorian). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* ---- logging (elog_: the "log" prefix belongs to the log part) ------------------------------ */

typedef enum { ELOG_LEVEL_ERROR, ELOG_LEVEL_WARN, ELOG_LEVEL_INFO, ELOG_LEVEL_DEBUG, ELOG_LEVEL_TRACE } elog_level_t;

/* Logging goes to stderr, one line per call: "2024-01-02T03:04:05.678Z INFO  log: message".
 * The level is process-wide (set once at start, read by every thread). */
void elog_set_level(elog_level_t level);
elog_level_t elog_get_level(void);
/* Parses "error|warn|info|debug|trace"; returns EDDY_ERR_INVALID for anything else. */
int elog_level_parse(const char *s, elog_level_t *level);
void elog_write(elog_level_t level, const char *part, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ELOG_ENABLED(lvl) ((lvl) <= elog_get_level())
#define elog_error(part, ...) elog_write(ELOG_LEVEL_ERROR, part, __VA_ARGS__)
#define elog_warn(part, ...) elog_write(ELOG_LEVEL_WARN, part, __VA_ARGS__)
#define elog_info(part, ...) elog_write(ELOG_LEVEL_INFO, part, __VA_ARGS__)
#define elog_debug(part, ...) \
    do { if (ELOG_ENABLED(ELOG_LEVEL_DEBUG)) elog_write(ELOG_LEVEL_DEBUG, part, __VA_ARGS__); } while (0)
#define elog_trace(part, ...) \
    do { if (ELOG_ENABLED(ELOG_LEVEL_TRACE)) elog_write(ELOG_LEVEL_TRACE, part, __VA_ARGS__); } while (0)

/* ---- latency histograms --------------------------------------------------------------------- */

/* A log-linear histogram of non-negative values (e.g. ns): 32 buckets per power of two (3%
 * relative precision), fixed size, no allocation. Not thread-safe: keep one per thread, merge. */
#define HIST_SUB_BUCKETS 64
#define HIST_BUCKETS (60 * (HIST_SUB_BUCKETS / 2))
typedef struct {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
    uint64_t min;
    double sum;
} hist_t;

void hist_init(hist_t *h);
void hist_record(hist_t *h, uint64_t value);
void hist_merge(hist_t *into, const hist_t *from);
/* The value at quantile q in [0, 1] (upper bound of its bucket); 0 when empty. */
uint64_t hist_quantile(const hist_t *h, double q);

/* ---- JSON ----------------------------------------------------------------------------------- */

/* A JSON document parsed into a flat array of nodes (no allocation per value). Strings and
 * numbers are views into the input text, which must outlive the document; strings keep their
 * escapes (json_string_unescape decodes them). Containers know their child count and the index
 * one past their last descendant, so skipping a subtree is O(1). */
typedef enum {
    JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
} json_type_t;

typedef struct {
    uint8_t type;        /* json_type_t */
    uint8_t has_escape;  /* strings: contains a backslash escape */
    uint8_t is_integer;  /* numbers: no fraction or exponent */
    uint32_t len;        /* strings: raw byte length between the quotes; numbers: text length */
    uint32_t count;      /* containers: direct children (object: number of key/value pairs) */
    uint32_t end;        /* containers: index one past the last descendant; else index + 1 */
    const char *text;    /* strings: first byte after the opening quote; numbers: first digit */
} json_node_t;

typedef struct {
    json_node_t *nodes;  /* nodes[0] is the root; object members are key node then value node */
    uint32_t count;
    uint32_t cap;
    char errmsg[96];
    size_t errpos;       /* byte offset of a parse error */
} json_doc_t;

/* Parses text[0..len) (the whole input must be one value, surrounding whitespace allowed).
 * Depth is limited to 512. Returns EDDY_OK, EDDY_ERR_NOMEM, or EDDY_ERR_CORRUPT with errmsg and
 * errpos set. A doc may be reused for many parses (its node array is kept); json_doc_free
 * releases it. */
void json_doc_init(json_doc_t *doc);
int json_parse(json_doc_t *doc, const char *text, size_t len);
void json_doc_free(json_doc_t *doc);

/* Navigation by node index. json_object_get returns the value index for key or -1. */
static inline const json_node_t *json_node(const json_doc_t *d, uint32_t i) { return &d->nodes[i]; }
static inline uint32_t json_first_child(uint32_t i) { return i + 1; }
static inline uint32_t json_next(const json_doc_t *d, uint32_t i) { return d->nodes[i].end; }
int64_t json_object_get(const json_doc_t *d, uint32_t obj, const char *key, size_t keylen);
/* Compares a string node (decoding escapes) with s. */
bool json_string_eq(const json_node_t *n, const char *s, size_t len);
/* Decodes a string node's escapes into out (at most n->len bytes are needed; \u escapes become
 * UTF-8, surrogate pairs joined). Returns the decoded length, or -1 for an invalid escape. */
long json_string_unescape(const json_node_t *n, char *out);
/* Number conversions: EDDY_OK, EDDY_ERR_RANGE (overflow) or EDDY_ERR_INVALID (not a number or
 * not an integer). */
int json_number_i64(const json_node_t *n, int64_t *out);
int json_number_f64(const json_node_t *n, double *out);

/* JSON output into a writer: strings escaped as RFC 8259 requires; doubles printed so that they
 * read back identical (shortest round-trip form via %.17g fallback). */
void json_write_string(wr_t *w, const char *s, size_t len);
void json_write_i64(wr_t *w, int64_t v);
void json_write_f64(wr_t *w, double v);
/* Copies node i (and its subtree) back out as compact JSON. */
void json_write_node(wr_t *w, const json_doc_t *d, uint32_t i);

/* ---- command-line flags --------------------------------------------------------------------- */

/* A declared flag: "--name VALUE" or "--name=VALUE" (or a bare "--name" for booleans).
 * Parsing stops at the first argument that is not a flag; unknown flags are errors. */
typedef enum { FLAG_BOOL, FLAG_STRING, FLAG_INT, FLAG_STRING_LIST } flag_kind_t;

typedef struct {
    const char *name;     /* without the leading dashes */
    char short_name;      /* 0 for none */
    flag_kind_t kind;
    void *target;         /* bool *, const char **, int64_t *, or flag_list_t * */
    const char *value_name; /* shown in help: HOST:PORT */
    const char *help;
} flag_t;

typedef struct {
    const char **items;   /* argv pointers (not copied) */
    int count;
    int cap;
} flag_list_t;

/* Parses argv[*index...] against flags; advances *index past the flags it consumed. Returns
 * EDDY_OK or EDDY_ERR_INVALID with a message naming the problem in errstr. Freeing:
 * flag_list_free for FLAG_STRING_LIST targets. */
int flags_parse(const flag_t *flags, size_t nflags, int argc, char **argv, int *index,
                char *errstr, size_t errlen);
void flags_print_help(const flag_t *flags, size_t nflags, void *stream /* FILE * */);
void flag_list_free(flag_list_t *list);
int flag_list_add(flag_list_t *list, const char *value);

/* Splits "host:port" or "[v6]:port" into host (without brackets, NUL-terminated, hostlen bytes)
 * and port. Returns EDDY_OK or EDDY_ERR_INVALID. */
int base_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
