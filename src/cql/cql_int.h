/* cql internals. The wire codec: the Cassandra native protocol v3/v4/v5 as data, shared by eddy's CQL server
 * and its C client (internal to the cql part; cql.h is the public surface).
 *
 * Three layers, lowest first:
 *   - notation: the spec's [string], [bytes], [value], [string map], [option] ... readers on rd_t
 *     and writers on wr_t (wire.c);
 *   - transport: v4 frames (9-byte header, lz4/snappy bodies) and v5 segments (CRC24 header,
 *     CRC32 payload seeded with FA 2D 55 CA, optional lz4) behind one connection codec,
 *     cql_codec_t, that turns bytes into envelopes and envelopes into bytes (frame.c);
 *   - messages: every request and response body decoded into cql_msg_t (views into the
 *     envelope body, arrays in a caller's arena) and encoded back (msg.c, msg_result.c).
 *
 * Decoders of untrusted bytes never trust a count or a length: counts are capped before
 * anything is allocated, lengths are checked against what is left, and every failure comes back
 * as EDDY_ERR_CORRUPT with a message that names the field. */
#ifndef EDDY_CQL_INT_H
#define EDDY_CQL_INT_H

#include "base/base.h"
#include "cql/cql.h"
#include "sql/sql.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <uv.h>

/* ---- constants of the protocol -------------------------------------------------------------- */

#define CQL_VERSION_MIN 3
#define CQL_VERSION_MAX 5
#define CQL_HEADER_SIZE 9
#define CQL_MAX_BODY (256u << 20)          /* the spec's frame limit */
#define CQL_SEGMENT_MAX_PAYLOAD 131071u    /* 2^17 - 1 */

typedef enum {
    CQL_OP_ERROR = 0x00,
    CQL_OP_STARTUP = 0x01,
    CQL_OP_READY = 0x02,
    CQL_OP_AUTHENTICATE = 0x03,
    CQL_OP_OPTIONS = 0x05,
    CQL_OP_SUPPORTED = 0x06,
    CQL_OP_QUERY = 0x07,
    CQL_OP_RESULT = 0x08,
    CQL_OP_PREPARE = 0x09,
    CQL_OP_EXECUTE = 0x0A,
    CQL_OP_REGISTER = 0x0B,
    CQL_OP_EVENT = 0x0C,
    CQL_OP_BATCH = 0x0D,
    CQL_OP_AUTH_CHALLENGE = 0x0E,
    CQL_OP_AUTH_RESPONSE = 0x0F,
    CQL_OP_AUTH_SUCCESS = 0x10,
} cql_opcode_t;

/* Envelope header flags. */
#define CQL_FLAG_COMPRESSION 0x01
#define CQL_FLAG_TRACING 0x02
#define CQL_FLAG_CUSTOM_PAYLOAD 0x04
#define CQL_FLAG_WARNING 0x08
#define CQL_FLAG_USE_BETA 0x10

/* QUERY / EXECUTE / BATCH parameter flags ([byte] before v5, [int] from v5). */
#define CQL_QF_VALUES 0x01
#define CQL_QF_SKIP_METADATA 0x02
#define CQL_QF_PAGE_SIZE 0x04
#define CQL_QF_PAGING_STATE 0x08
#define CQL_QF_SERIAL_CONSISTENCY 0x10
#define CQL_QF_TIMESTAMP 0x20
#define CQL_QF_NAMES 0x40
#define CQL_QF_KEYSPACE 0x80        /* v5 */
#define CQL_QF_NOW_IN_SECONDS 0x100 /* v5 */

/* PREPARE flags (v5). */
#define CQL_PF_KEYSPACE 0x01

/* Rows metadata flags. */
#define CQL_RF_GLOBAL_TABLES_SPEC 0x0001
#define CQL_RF_HAS_MORE_PAGES 0x0002
#define CQL_RF_NO_METADATA 0x0004
#define CQL_RF_METADATA_CHANGED 0x0008 /* v5 */

/* RESULT kinds and BATCH types have public names in cql.h. */
#define CQL_RESULT_VOID CQL_KIND_VOID
#define CQL_RESULT_ROWS CQL_KIND_ROWS
#define CQL_RESULT_SET_KEYSPACE CQL_KIND_SET_KEYSPACE
#define CQL_RESULT_PREPARED CQL_KIND_PREPARED
#define CQL_RESULT_SCHEMA_CHANGE CQL_KIND_SCHEMA_CHANGE
#define CQL_BATCH_LOGGED CQL_BATCH_TYPE_LOGGED
#define CQL_BATCH_UNLOGGED CQL_BATCH_TYPE_UNLOGGED
#define CQL_BATCH_COUNTER CQL_BATCH_TYPE_COUNTER

typedef enum {
    CQL_CL_ANY = 0x0000,
    CQL_CL_ONE = 0x0001,
    CQL_CL_TWO = 0x0002,
    CQL_CL_THREE = 0x0003,
    CQL_CL_QUORUM = 0x0004,
    CQL_CL_ALL = 0x0005,
    CQL_CL_LOCAL_QUORUM = 0x0006,
    CQL_CL_EACH_QUORUM = 0x0007,
    CQL_CL_SERIAL = 0x0008,
    CQL_CL_LOCAL_SERIAL = 0x0009,
    CQL_CL_LOCAL_ONE = 0x000A,
} cql_consistency_t;

/* Error codes of the ERROR message (spec section 9). */
typedef enum {
    CQL_ERR_SERVER = 0x0000,
    CQL_ERR_PROTOCOL = 0x000A,
    CQL_ERR_BAD_CREDENTIALS = 0x0100,
    CQL_ERR_UNAVAILABLE = 0x1000,
    CQL_ERR_OVERLOADED = 0x1001,
    CQL_ERR_IS_BOOTSTRAPPING = 0x1002,
    CQL_ERR_TRUNCATE = 0x1003,
    CQL_ERR_WRITE_TIMEOUT = 0x1100,
    CQL_ERR_READ_TIMEOUT = 0x1200,
    CQL_ERR_READ_FAILURE = 0x1300,
    CQL_ERR_FUNCTION_FAILURE = 0x1400,
    CQL_ERR_WRITE_FAILURE = 0x1500,
    CQL_ERR_CDC_WRITE_FAILURE = 0x1600,
    CQL_ERR_CAS_WRITE_UNKNOWN = 0x1700,
    CQL_ERR_SYNTAX = 0x2000,
    CQL_ERR_UNAUTHORIZED = 0x2100,
    CQL_ERR_INVALID = 0x2200,
    CQL_ERR_CONFIG = 0x2300,
    CQL_ERR_ALREADY_EXISTS = 0x2400,
    CQL_ERR_UNPREPARED = 0x2500,
} cql_error_code_t;

/* [option] type ids. */
typedef enum {
    CQL_TYPE_CUSTOM = 0x0000,
    CQL_TYPE_ASCII = 0x0001,
    CQL_TYPE_BIGINT = 0x0002,
    CQL_TYPE_BLOB = 0x0003,
    CQL_TYPE_BOOLEAN = 0x0004,
    CQL_TYPE_COUNTER = 0x0005,
    CQL_TYPE_DECIMAL = 0x0006,
    CQL_TYPE_DOUBLE = 0x0007,
    CQL_TYPE_FLOAT = 0x0008,
    CQL_TYPE_INT = 0x0009,
    CQL_TYPE_TIMESTAMP = 0x000B,
    CQL_TYPE_UUID = 0x000C,
    CQL_TYPE_VARCHAR = 0x000D,
    CQL_TYPE_VARINT = 0x000E,
    CQL_TYPE_TIMEUUID = 0x000F,
    CQL_TYPE_INET = 0x0010,
    CQL_TYPE_DATE = 0x0011,
    CQL_TYPE_TIME = 0x0012,
    CQL_TYPE_SMALLINT = 0x0013,
    CQL_TYPE_TINYINT = 0x0014,
    CQL_TYPE_DURATION = 0x0015,
    CQL_TYPE_LIST = 0x0020,
    CQL_TYPE_MAP = 0x0021,
    CQL_TYPE_SET = 0x0022,
    CQL_TYPE_UDT = 0x0030,
    CQL_TYPE_TUPLE = 0x0031,
} cql_type_id_t;

/* ---- notation ------------------------------------------------------------------------------- */

typedef struct {
    eddy_view_t key;
    eddy_view_t value;
} cql_kv_t;

typedef struct {
    uint16_t count;
    eddy_view_t *items;
} cql_strlist_t;

typedef struct {
    uint16_t count;
    cql_kv_t *items;
} cql_strmap_t;

typedef struct {
    eddy_view_t key;
    cql_strlist_t values;
} cql_multimap_entry_t;

typedef struct {
    uint16_t count;
    cql_multimap_entry_t *items;
} cql_multimap_t;

typedef struct {
    eddy_view_t key;
    cql_value_t value;
} cql_bytes_kv_t;

typedef struct {
    uint16_t count;
    cql_bytes_kv_t *items;
} cql_bytesmap_t;

/* [inet]: address bytes (4 or 16) and port. */
typedef struct {
    uint8_t len;
    uint8_t addr[16];
    int32_t port;
} cql_inet_t;

/* Readers: on a short or malformed read the reader's sticky error is set (EDDY_ERR_CORRUPT for
 * bad lengths, EDDY_ERR_NEED_MORE for short input) and zero values come back. Views point into
 * the reader's input; arrays come from arena. */
eddy_view_t cql_rd_string(rd_t *r);
eddy_view_t cql_rd_long_string(rd_t *r);
eddy_view_t cql_rd_short_bytes(rd_t *r);
cql_value_t cql_rd_bytes(rd_t *r);  /* negative length = null */
cql_value_t cql_rd_value(rd_t *r);  /* -1 null, -2 unset, < -2 corrupt */
void cql_rd_strlist(rd_t *r, arena_t *a, cql_strlist_t *out);
void cql_rd_strmap(rd_t *r, arena_t *a, cql_strmap_t *out);
void cql_rd_multimap(rd_t *r, arena_t *a, cql_multimap_t *out);
void cql_rd_bytesmap(rd_t *r, arena_t *a, cql_bytesmap_t *out);
void cql_rd_inet(rd_t *r, cql_inet_t *out);
/* [option] types, nested at most CQL_TYPE_MAX_DEPTH deep. NULL on error (reader failed). */
#define CQL_TYPE_MAX_DEPTH 32
cql_type_t *cql_rd_type(rd_t *r, arena_t *a);
/* Values of `count` items ([value]s, optionally each preceded by a [string] name). */
void cql_rd_values(rd_t *r, arena_t *a, bool with_names, uint16_t *count, cql_value_t **values,
                   eddy_view_t **names);

void cql_wr_string(wr_t *w, const void *s, size_t n);
static inline void cql_wr_cstring(wr_t *w, const char *s) { cql_wr_string(w, s, strlen(s)); }
static inline void cql_wr_vstring(wr_t *w, eddy_view_t v) { cql_wr_string(w, v.ptr, v.len); }
void cql_wr_long_string(wr_t *w, const void *s, size_t n);
void cql_wr_short_bytes(wr_t *w, const void *p, size_t n);
void cql_wr_bytes(wr_t *w, const void *p, int32_t n); /* n < 0 writes a null */
static inline void cql_wr_value(wr_t *w, cql_value_t v) {
    cql_wr_bytes(w, v.ptr, v.len);
}
void cql_wr_strlist(wr_t *w, const cql_strlist_t *l);
void cql_wr_strmap(wr_t *w, const cql_strmap_t *m);
void cql_wr_multimap(wr_t *w, const cql_multimap_t *m);
void cql_wr_bytesmap(wr_t *w, const cql_bytesmap_t *m);
void cql_wr_inet(wr_t *w, const cql_inet_t *in);
void cql_wr_type(wr_t *w, const cql_type_t *t);

/* Deep equality of two types (ids, sub-types, udt names and fields). */
bool cql_type_equal(const cql_type_t *a, const cql_type_t *b);
/* The CQL name of a type ("map<text, frozen<list<int>>>") appended to w; udt names are
 * keyspace-qualified only when qualify is set. */
void cql_type_format(wr_t *w, const cql_type_t *t, bool qualify);
/* The name of a native type id ("int", "text"), or NULL for a parameterized one. */
const char *cql_type_native_name(uint16_t id);

/* Names for logs and messages ("QUERY", "LOCAL_ONE", "Invalid"). Never NULL. */
const char *cql_opcode_name(uint8_t op);
const char *cql_consistency_name(uint16_t cl);
const char *cql_error_name(int32_t code);
/* Parses a consistency name ("quorum", case-insensitive); EDDY_OK or EDDY_ERR_INVALID. */
int cql_consistency_parse(const char *s, uint16_t *cl);

/* ---- transport: envelopes, v4 frames, v5 segments ------------------------------------------- */

typedef struct {
    uint8_t version;    /* protocol version, without the direction bit */
    bool response;      /* direction bit */
    uint8_t flags;
    int16_t stream;
    uint8_t opcode;
    uint32_t length;    /* body length as sent (compressed for v4 compressed frames) */
} cql_header_t;

/* One CQL message with its header; body is uncompressed. */
typedef struct {
    cql_header_t h;
    eddy_view_t body;
} cql_envelope_t;

/* Decodes a 9-byte header. Returns EDDY_OK, EDDY_ERR_NEED_MORE (fewer than 9 bytes). */
int cql_header_decode(const uint8_t *p, size_t n, cql_header_t *h);
/* Starts an envelope at the end of w: writes the header with a zero length and returns its
 * offset; cql_env_end patches the length once the body is written. */
size_t cql_env_begin(wr_t *w, uint8_t version, bool response, uint8_t flags, int16_t stream,
                     uint8_t opcode);
void cql_env_end(wr_t *w, size_t start);

typedef enum {
    CQL_COMPRESSION_NONE = 0,
    CQL_COMPRESSION_LZ4 = 1,
    CQL_COMPRESSION_SNAPPY = 2,
} cql_compression_t;

/* Parses a STARTUP COMPRESSION name ("lz4", "snappy"); EDDY_ERR_UNSUPPORTED for others. */
int cql_compression_parse(eddy_view_t name, cql_compression_t *c);
const char *cql_compression_name(cql_compression_t c);

/* CRC24 of a v5 segment header (the value's low `bytes` bytes, little-endian), and the seeded
 * CRC32 of a payload. */
uint32_t cql_crc24(uint64_t value, int bytes);
uint32_t cql_crc32(const void *p, size_t n);

/* The connection codec: one per connection and direction pair. A server codec decodes
 * requests and encodes responses; a client codec the reverse. It starts unframed, accepts any
 * version in [min_version, max_version] on input until cql_codec_set_version fixes it, and
 * switches to v5 segments when cql_codec_start_framing is called (right after READY or
 * AUTHENTICATE is sent or received for a v5 STARTUP). Not thread-safe: one owner thread. */
typedef struct cql_codec cql_codec_t;

/* Returns a codec or NULL on allocation failure. max_body caps an envelope's body (0 means
 * CQL_MAX_BODY). */
cql_codec_t *cql_codec_new(bool server, size_t max_body);
void cql_codec_free(cql_codec_t *c);
void cql_codec_set_version(cql_codec_t *c, uint8_t version);
uint8_t cql_codec_version(const cql_codec_t *c); /* 0 until set */
void cql_codec_set_compression(cql_codec_t *c, cql_compression_t comp);
cql_compression_t cql_codec_compression(const cql_codec_t *c);
void cql_codec_start_framing(cql_codec_t *c);
bool cql_codec_framed(const cql_codec_t *c);

/* Appends received bytes. Returns EDDY_OK or EDDY_ERR_NOMEM. Invalidates the views of the last
 * envelope returned by cql_codec_next. */
int cql_codec_feed(cql_codec_t *c, const void *p, size_t n);
/* Takes the next complete envelope out of the received bytes. Returns:
 *   EDDY_OK: env filled; its body view stays valid until the next feed or next call;
 *   EDDY_ERR_NEED_MORE: nothing complete yet;
 *   EDDY_ERR_UNSUPPORTED: the header's version is outside what this codec accepts; env->h is
 *     filled (version, stream) so that a server can answer with a protocol error, then close;
 *   EDDY_ERR_CORRUPT / EDDY_ERR_TOO_LARGE / EDDY_ERR_NOMEM: the stream cannot go on (message in
 *     errstr); close the connection. */
int cql_codec_next(cql_codec_t *c, cql_envelope_t *env, char *errstr, size_t errlen);
/* Bytes received and not yet consumed (for backpressure decisions). */
size_t cql_codec_pending(const cql_codec_t *c);

/* Output: cql_codec_out_begin marks the end of out (and, when framed, reserves room for a
 * segment header); the caller appends one or more complete envelopes (cql_env_begin/end);
 * cql_codec_out_end turns them into wire bytes in place: compressed v4 bodies, or v5
 * segments (self-contained, or a run of non-self-contained ones for an envelope over 128 KiB).
 * Returns EDDY_OK, or an error with out truncated back to the mark. */
size_t cql_codec_out_begin(cql_codec_t *c, wr_t *out);
int cql_codec_out_end(cql_codec_t *c, wr_t *out, size_t mark);

/* The same output steps without the codec object, for answers finished on other threads: the
 * connection's format (copied when it changes) and a caller's scratch buffer. */
typedef struct {
    uint8_t version;
    cql_compression_t compression;
    bool framed;
} cql_outfmt_t;
cql_outfmt_t cql_codec_outfmt(const cql_codec_t *c);
size_t cql_out_begin(const cql_outfmt_t *f, wr_t *out);
int cql_out_end(const cql_outfmt_t *f, wr_t *out, size_t mark, wr_t *scratch);

/* ---- messages ------------------------------------------------------------------------------- */

typedef struct {
    uint16_t consistency;
    uint32_t flags;            /* CQL_QF_* */
    uint16_t values_count;
    cql_value_t *values;
    eddy_view_t *names;        /* with CQL_QF_NAMES, else NULL */
    int32_t page_size;         /* with CQL_QF_PAGE_SIZE */
    cql_value_t paging_state;  /* with CQL_QF_PAGING_STATE */
    uint16_t serial_consistency;
    int64_t timestamp;         /* µs, with CQL_QF_TIMESTAMP */
    eddy_view_t keyspace;      /* v5, with CQL_QF_KEYSPACE */
    int32_t now_in_seconds;    /* v5, with CQL_QF_NOW_IN_SECONDS */
} cql_query_params_t;

typedef struct {
    eddy_view_t query;
    cql_query_params_t params;
} cql_query_msg_t;

typedef struct {
    eddy_view_t query;
    uint32_t flags;            /* v5: CQL_PF_* */
    eddy_view_t keyspace;      /* v5, with CQL_PF_KEYSPACE */
} cql_prepare_msg_t;

typedef struct {
    eddy_view_t id;
    eddy_view_t result_metadata_id; /* v5 */
    cql_query_params_t params;
} cql_execute_msg_t;

typedef struct {
    uint8_t kind;              /* 0 query string, 1 prepared id */
    eddy_view_t query_or_id;
    uint16_t values_count;
    cql_value_t *values;
    eddy_view_t *names;
} cql_batch_item_t;

typedef struct {
    uint8_t type;              /* cql_batch_type_t */
    uint16_t count;
    cql_batch_item_t *items;
    uint16_t consistency;
    uint32_t flags;            /* CQL_QF_SERIAL_CONSISTENCY, TIMESTAMP, NAMES, KEYSPACE, NOW */
    uint16_t serial_consistency;
    int64_t timestamp;
    eddy_view_t keyspace;
    int32_t now_in_seconds;
} cql_batch_msg_t;

/* A column of a result or a bind marker of a prepared statement. */
typedef struct {
    eddy_view_t keyspace;
    eddy_view_t table;
    eddy_view_t name;
    const cql_type_t *type;
} cql_colspec_t;

/* Rows metadata (also the result metadata of Prepared). */
typedef struct {
    uint32_t flags;            /* CQL_RF_* */
    int32_t columns_count;
    cql_value_t paging_state;  /* with CQL_RF_HAS_MORE_PAGES */
    eddy_view_t new_metadata_id; /* v5, with CQL_RF_METADATA_CHANGED */
    cql_colspec_t *columns;    /* columns_count of them, NULL with CQL_RF_NO_METADATA */
} cql_rows_meta_t;

/* Bind-marker metadata of Prepared. */
typedef struct {
    uint32_t flags;
    int32_t columns_count;
    int32_t pk_count;          /* v4+ */
    uint16_t *pk_indexes;
    cql_colspec_t *columns;
} cql_prepared_meta_t;

typedef struct {
    eddy_view_t change_type;   /* CREATED, UPDATED, DROPPED */
    eddy_view_t target;        /* KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE */
    eddy_view_t keyspace;
    eddy_view_t name;          /* table, type, function or aggregate name */
    cql_strlist_t arg_types;   /* FUNCTION, AGGREGATE */
} cql_schema_change_t;

typedef struct {
    int32_t kind;              /* cql_result_kind_t */
    /* Rows */
    cql_rows_meta_t meta;
    int32_t rows_count;
    eddy_view_t rows_content;  /* rows_count * columns_count [bytes] */
    /* Set_keyspace */
    eddy_view_t keyspace;
    /* Prepared */
    eddy_view_t prepared_id;
    eddy_view_t result_metadata_id; /* v5 */
    cql_prepared_meta_t bind;
    cql_rows_meta_t result_meta;
    /* Schema_change */
    cql_schema_change_t change;
} cql_result_msg_t;

typedef struct {
    cql_inet_t endpoint;
    uint16_t failure_code;
} cql_reason_t;

typedef struct {
    int32_t code;              /* cql_error_code_t */
    eddy_view_t message;
    uint16_t consistency;      /* Unavailable, timeouts, failures, CAS unknown */
    int32_t required;          /* Unavailable */
    int32_t alive;             /* Unavailable */
    int32_t received;          /* timeouts, failures */
    int32_t blockfor;
    uint8_t data_present;      /* Read_timeout, Read_failure */
    eddy_view_t write_type;    /* Write_timeout, Write_failure */
    uint16_t contentions;      /* v5 Write_timeout with write type CAS */
    int32_t numfailures;       /* v4 failures; the reasons' count from v5 */
    uint32_t reasons_count;    /* v5 failures */
    cql_reason_t *reasons;
    eddy_view_t keyspace;      /* Function_failure, Already_exists */
    eddy_view_t table;         /* Already_exists (table, "" for a keyspace); function name */
    cql_strlist_t arg_types;   /* Function_failure */
    eddy_view_t unprepared_id; /* Unprepared */
} cql_error_msg_t;

typedef struct {
    eddy_view_t type;          /* TOPOLOGY_CHANGE, STATUS_CHANGE, SCHEMA_CHANGE */
    eddy_view_t change;        /* NEW_NODE, REMOVED_NODE, UP, DOWN */
    cql_inet_t address;
    cql_schema_change_t schema;
} cql_event_msg_t;

/* A decoded message: the opcode says which member is meaningful. */
typedef struct {
    uint8_t opcode;
    uint8_t version;
    int16_t stream;
    uint8_t flags;
    /* body prefix */
    bool has_tracing_id;
    uint8_t tracing_id[16];    /* responses with CQL_FLAG_TRACING */
    cql_strlist_t warnings;    /* responses with CQL_FLAG_WARNING */
    cql_bytesmap_t custom_payload;
    union {
        cql_strmap_t startup;
        cql_value_t auth_token;     /* AUTH_RESPONSE, AUTH_CHALLENGE, AUTH_SUCCESS */
        cql_query_msg_t query;
        cql_prepare_msg_t prepare;
        cql_execute_msg_t execute;
        cql_batch_msg_t batch;
        cql_strlist_t register_events;
        cql_error_msg_t error;
        eddy_view_t authenticator;
        cql_multimap_t supported;
        cql_result_msg_t result;
        cql_event_msg_t event;
    } u;
} cql_msg_t;

/* Decodes an envelope's body into msg (views into env->body, arrays in arena). Requests are
 * decoded by opcode whatever the direction bit says; the caller checks direction. Returns
 * EDDY_OK, or EDDY_ERR_CORRUPT / EDDY_ERR_UNSUPPORTED (unknown opcode) with a message. */
int cql_msg_decode(const cql_envelope_t *env, arena_t *arena, cql_msg_t *msg, char *errstr,
                   size_t errlen);
/* Encodes msg as one complete envelope appended to w, with msg->version, msg->stream,
 * msg->flags (tracing id, warnings and custom payload written when their flags are set) and
 * the direction given by the opcode. Returns EDDY_OK or the writer's error. */
int cql_msg_encode(wr_t *w, const cql_msg_t *msg);

/* Pieces of the encoder, for writers that stream large bodies (the server's Rows). */
void cql_wr_query_params(wr_t *w, uint8_t version, const cql_query_params_t *p);
void cql_wr_rows_meta(wr_t *w, uint8_t version, const cql_rows_meta_t *m);
void cql_wr_prepared_meta(wr_t *w, uint8_t version, const cql_prepared_meta_t *m);
void cql_wr_schema_change(wr_t *w, const cql_schema_change_t *c);
void cql_wr_error_body(wr_t *w, uint8_t version, const cql_error_msg_t *e);
void cql_rd_rows_meta(rd_t *r, uint8_t version, arena_t *a, cql_rows_meta_t *m);

/* Body coders of one opcode, declared in msg.c's opcode table (msg_result.c has the big ones). */
typedef void (*cql_msg_rd_fn)(rd_t *r, uint8_t version, arena_t *a, cql_msg_t *m);
typedef void (*cql_msg_wr_fn)(wr_t *w, uint8_t version, const cql_msg_t *m);
void cql_rd_result(rd_t *r, uint8_t version, arena_t *a, cql_msg_t *m);
void cql_wr_result(wr_t *w, uint8_t version, const cql_msg_t *m);
void cql_rd_error(rd_t *r, uint8_t version, arena_t *a, cql_msg_t *m);
void cql_wr_error(wr_t *w, uint8_t version, const cql_msg_t *m);
void cql_rd_event(rd_t *r, uint8_t version, arena_t *a, cql_msg_t *m);
void cql_wr_event(wr_t *w, uint8_t version, const cql_msg_t *m);
void cql_rd_query_params(rd_t *r, uint8_t version, arena_t *a, cql_query_params_t *p);
/* True for opcodes the server sends. */
bool cql_opcode_is_response(uint8_t op);


/* Builds a result from a RESULT envelope (copying its body), or fills err from an ERROR one.
 * Returns EDDY_OK, the status an ERROR maps to (see cql_client_execute_async), or
 * EDDY_ERR_CORRUPT. */
int cql_result_from_envelope(const cql_envelope_t *env, cql_result_t **out, cql_error_t *err);
/* The decoded message of a result (its views live as long as the result). */
const cql_msg_t *cql_result_msg(const cql_result_t *r);
/* The eddy status a CQL error code maps to. */
int cql_error_status(int32_t code);
void cql_error_set(cql_error_t *err, int32_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));


/* ---- server internals (server.c, exec*.c, system.c) --------------------------------------- */

typedef struct net_conn net_conn_t;
typedef struct cql_sconn cql_sconn_t;
typedef struct cql_deferred cql_deferred_t;
typedef struct cql_pcache cql_pcache_t;

#define CQL_KEYSPACE_MAX 256

/* Per-connection tools of the executor, created on first use and kept (they reuse buffers). */
typedef struct {
    sql_parser_t *parser;
    store_write_t *writer;
    store_iter_t *iter;
    wr_t rows;                  /* a Rows result's content, before its metadata is known */
    wr_t tmp;
} cql_tools_t;
/* One client connection of the server. Only its loop thread touches it. */
struct cql_sconn {
    cql_server_t *srv;
    net_conn_t *conn;
    cql_codec_t *codec;
    cql_outfmt_t fmt;
    bool started;               /* READY or AUTHENTICATE was sent */
    bool authenticated;
    bool registered;
    uint8_t events;             /* CQL_EVENT_* registered */
    char keyspace[CQL_KEYSPACE_MAX]; /* the session's keyspace, "" for none */
    wr_t out;                   /* answers gathered while handling one batch of input */
    size_t out_mark;
    bool out_open;
    wr_t scratch;
    arena_t arena;              /* per request, reset after each */
    cql_tools_t tools;
    struct cql_outbox *outbox;  /* answers finished off the loop, sent together */
};

#define CQL_EVENT_TOPOLOGY 1
#define CQL_EVENT_STATUS 2
#define CQL_EVENT_SCHEMA 4

/* What the executor works with for one QUERY, PREPARE, EXECUTE or BATCH. The answer's body goes
 * into out (the envelope header is already there); on failure the executor calls cql_exec_fail
 * and the server replaces the body with the ERROR. */
typedef struct {
    cql_server_t *srv;
    cql_sconn_t *sc;
    const cql_msg_t *msg;
    arena_t *arena;
    wr_t *out;
    uint8_t version;
    /* the answer */
    int32_t err_code;           /* 0 = success */
    char err_msg[1024];
    char err_ks[CQL_KEYSPACE_MAX]; /* Already_exists */
    char err_table[CQL_KEYSPACE_MAX];
    uint8_t err_id[64];          /* Unprepared */
    uint16_t err_id_len;
    cql_deferred_t *deferred;    /* set by cql_exec_defer: the answer comes later */
    /* Schema changes fsync the catalog, which a loop must not wait for: on a loop, the executor
     * only records the statement (offload, its text and keyspace) and the server runs it again
     * on its schema thread (on_schema_thread), which executes it. */
    bool on_schema_thread;
    bool offload;
    eddy_view_t offload_text;
    const char *offload_keyspace;
} cql_exec_t;

/* Records an error answer (the first one wins). Returns EDDY_ERR_INVALID for one-line returns. */
int cql_exec_fail(cql_exec_t *x, int32_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps a store status and its message to the CQL error Cassandra would send. */
int cql_exec_fail_status(cql_exec_t *x, int status, const char *msg);
/* Takes the answer over: the body written so far is sent when cql_deferred_done is called
 * (from any thread), or an ERROR with status and message if status is not EDDY_OK. Returns
 * NULL when out of memory. */
cql_deferred_t *cql_exec_defer(cql_exec_t *x);
void cql_deferred_done(cql_deferred_t *d, int status, const char *msg);
/* A store completion that finishes a deferred answer (arg is the cql_deferred_t). */
void cql_deferred_store_done(void *arg, int status);

/* server.c */
store_t *cql_server_store(const cql_server_t *srv);
const cql_server_opts_t *cql_server_opts(const cql_server_t *srv);
cql_pcache_t *cql_server_pcache(cql_server_t *srv);
/* The node's identity for system.local: host id, address, listen port. */
const uint8_t *cql_server_host_id(const cql_server_t *srv);
const uint8_t *cql_server_addr(const cql_server_t *srv, size_t *len);
int cql_server_port(const cql_server_t *srv);
int64_t cql_server_started_s(const cql_server_t *srv);

/* exec.c: QUERY, PREPARE, EXECUTE, BATCH. */
void cql_exec_run(cql_exec_t *x);
/* On the schema thread: parses text (a schema change recorded by an offload) and executes it in
 * the keyspace of x->sc, writing the answer's body to x->out as cql_exec_run does. */
void cql_exec_run_schema(cql_exec_t *x, eddy_view_t text);

/* ---- executor internals (exec*.c, prepared.c, system.c, describe.c) ----------------------- */


cql_tools_t *cql_sconn_tools(cql_sconn_t *sc);

/* A prepared statement, server-wide: valid on every connection. */
typedef struct cql_pstmt {
    struct cql_pstmt *next;     /* hash chain */
    uint8_t id[16];             /* MD5(keyspace + query) as Cassandra computes it */
    uint8_t result_id[16];      /* v5 result_metadata_id: MD5 of the result columns */
    char *keyspace;             /* the keyspace it was prepared under, or NULL */
    char *query;
    size_t query_len;
    arena_t arena;              /* the AST */
    const sql_stmt_t *stmt;
    _Atomic int refs;
    pthread_mutex_t lock;       /* the cached result id below */
    uint64_t result_key;        /* the table id and version result_id was computed for (0: none) */
} cql_pstmt_t;

cql_pcache_t *cql_pcache_new(void);
void cql_pcache_free(cql_pcache_t *pc);
/* Finds a statement by id (a reference: release it), or NULL. */
cql_pstmt_t *cql_pcache_get(cql_pcache_t *pc, const uint8_t *id, size_t len);
/* Adds a parsed statement (taking arena's contents) unless the id is there; returns a reference
 * to the cached one. NULL when out of memory. */
cql_pstmt_t *cql_pcache_put(cql_pcache_t *pc, const uint8_t id[16], const char *keyspace, const char *query,
                            size_t len, arena_t *arena, const sql_stmt_t *stmt);
void cql_pstmt_release(cql_pstmt_t *p);
/* The v5 result metadata id of a prepared SELECT, cached per table version (computing it is an
 * MD5 of the columns): true with out filled when key matches the cached one. */
bool cql_pstmt_result_id(cql_pstmt_t *p, uint64_t key, uint8_t out[16]);
void cql_pstmt_set_result_id(cql_pstmt_t *p, uint64_t key, const uint8_t id[16]);
/* Cassandra's prepared id: MD5 of the keyspace (when set) followed by the query text. */
void cql_prepared_id(const char *keyspace, const char *query, size_t len, uint8_t out[16]);
void cql_md5(const void *p, size_t n, uint8_t out[16]);

/* One statement being run: its AST, bound values (in marker order) and the request's options. */
typedef struct {
    const sql_stmt_t *stmt;
    const char *text;
    size_t text_len;
    const cql_value_t *values;
    uint16_t nvalues;
    uint16_t consistency;
    int32_t page_size;          /* <= 0: no paging */
    cql_value_t paging_state;
    bool skip_metadata;
    int64_t timestamp;          /* the default write time, µs */
    const char *keyspace;       /* the keyspace unqualified names mean, or NULL */
    const cql_pstmt_t *prepared;
    const uint8_t *result_id;   /* v5 EXECUTE: the client's result_metadata_id */
    size_t result_id_len;
} cql_run_t;

/* A bind marker's description for PREPARE metadata. */
typedef struct {
    const char *keyspace;
    const char *table;
    const char *name;
    const store_type_t *type;   /* a reference: release it */
} cql_bindspec_t;

/* A result column. */
typedef struct {
    const char *keyspace;
    const char *table;
    const char *name;
    const store_type_t *type;   /* a reference: release it */
} cql_colmeta_t;

/* Writes a Rows metadata block: the Global_tables_spec flag when every column is of one table,
 * the paging state with Has_more_pages, and (v5) the new result metadata id when new_id. */
void cql_write_rows_metadata(wr_t *w, uint8_t version, const cql_colmeta_t *cols, size_t n, uint32_t flags,
                             cql_value_t paging_state, const uint8_t *new_id);
void cql_result_metadata_id(const cql_colmeta_t *cols, size_t n, uint8_t out[16]);

/* A term's value (exec_term.c): bytes, or null, or unset (a bound value left unset). */
typedef struct {
    const uint8_t *ptr;
    size_t len;
    bool null;
    bool unset;
} cql_term_t;

/* exec_selector.c: the selection of a SELECT. */
#define CQL_SEL_DEPTH 8
typedef enum {
    CQL_SEL_COLUMN, CQL_SEL_WRITETIME, CQL_SEL_TTL, CQL_SEL_TOKEN, CQL_SEL_TERM, CQL_SEL_CAST, CQL_SEL_TOJSON,
    CQL_SEL_FUNC, CQL_SEL_FIELD, CQL_SEL_ELEMENT, CQL_SEL_COUNT, CQL_SEL_MIN, CQL_SEL_MAX, CQL_SEL_SUM, CQL_SEL_AVG,
} cql_sel_kind_t;

typedef struct cql_sel cql_sel_t;
struct cql_sel {
    cql_sel_kind_t kind;
    int col;                    /* COLUMN, WRITETIME, TTL */
    const store_type_t *type;   /* the result's type */
    const store_type_t *owned_type; /* a reference this selector holds (CAST, blobAsX) */
    char *name;                 /* the result column's name */
    cql_sel_t *args;
    size_t nargs;
    const char *func;           /* FUNC */
    cql_term_t term;            /* TERM; ELEMENT: the key */
    int field;                  /* FIELD: the UDT field's index */
    bool aggregate;             /* is or contains an aggregate */
    bool star;                  /* count(*) */
    /* aggregate state */
    int64_t count;
    int64_t isum;
    double dsum;
    bool have;
    wr_t best;                  /* min / max */
};

typedef struct {
    cql_sel_t *sels;
    size_t nsels;
    bool aggregate;
    bool json;
    cql_colmeta_t *cols;        /* result metadata (types referenced) */
    size_t ncols;
    size_t rows;                /* rows emitted */
    bool first_valid;
    wr_t tmp[CQL_SEL_DEPTH];
} cql_selection_t;

/* What a selection reads: a table's (or a virtual table's) columns. */
typedef struct {
    const store_table_info_t *info;
    const char *keyspace;
} cql_selsrc_t;

/* Builds the selection of q over src. r may be NULL (PREPARE: no values yet). */
int cql_selection_build(cql_exec_t *x, const cql_run_t *r, const sql_select_t *q, const cql_selsrc_t *src,
                        cql_selection_t *s);
void cql_selection_free(cql_selection_t *s);
void cql_sel_free(cql_sel_t *sel);
/* One output row per input row (no aggregates): its values as [bytes] appended to out. */
void cql_selection_emit(cql_selection_t *s, const store_row_t *row, wr_t *out);
/* Aggregation: reset, accumulate rows, then emit one row (first: the group's first row). */
void cql_selection_reset(cql_selection_t *s);
void cql_selection_accumulate(cql_selection_t *s, const store_row_t *row);
void cql_selection_emit_group(cql_selection_t *s, const store_row_t *first, wr_t *out);
bool cql_sel_agg_result(cql_sel_t *sel, wr_t *w);
/* exec_write.c: keyspace.table of a statement, resolved and kept (release it). */
int cql_resolve_table(cql_exec_t *x, const cql_run_t *r, const sql_qname_t *q, const store_table_t **out,
                      const char **ks_out);

/* exec_select.c */
int cql_exec_select(cql_exec_t *x, const cql_run_t *r);
/* The result columns of a SELECT, for PREPARE (arrays in x->arena, types referenced). */
int cql_select_columns(cql_exec_t *x, const sql_stmt_t *stmt, const char *keyspace, cql_colmeta_t **cols,
                       size_t *ncols);
/* exec_write.c: INSERT, UPDATE, DELETE and BATCH (the statement or the protocol message). */
int cql_exec_modify(cql_exec_t *x, const cql_run_t *runs, size_t n, uint8_t batch_type, bool is_batch);
/* exec_ddl.c: DDL, USE's checks, TRUNCATE. */
int cql_exec_ddl(cql_exec_t *x, const cql_run_t *r);
/* describe.c */
int cql_exec_describe(cql_exec_t *x, const cql_run_t *r);
/* exec_prepare.c: bind markers' metadata and the partition key markers. */
int cql_prepare_binds(cql_exec_t *x, const sql_stmt_t *stmt, const char *keyspace, cql_bindspec_t **binds,
                      size_t *nbinds, uint16_t **pk, size_t *npk);

/* exec_term.c: values of terms. */

/* The value of term e as type t ("receiver" names what it is for, in messages). Values live in
 * x->arena. Returns EDDY_OK or an error recorded with cql_exec_fail. */
int cql_term_eval(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const store_type_t *t,
                  const char *receiver, cql_term_t *out);
/* An integer term (LIMIT, TTL, TIMESTAMP): returns EDDY_OK with *present and *v. */
int cql_term_int(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const char *what, bool *present,
                 int64_t *v);
/* A version 1 (time-based) uuid for now(), unique within the process. */
void cql_timeuuid_now(uint8_t out[16]);
void cql_uuid_random(uint8_t out[16]);

/* system.c: the virtual keyspaces. Returns true when keyspace is one of them. */
bool cql_system_keyspace(const char *keyspace);
/* The virtual table keyspace.name (info with its columns), or NULL. */
const store_table_info_t *cql_system_table(const char *keyspace, const char *name);
/* The rows of a virtual table: each an array of info->ncolumns cells, in x->arena. */
int cql_system_rows(cql_exec_t *x, const store_table_info_t *info, store_cell_t ***rows, size_t *nrows);

/* ---- shell internals (shell*.c) ----------------------------------------------------------- */

/* Appends a value as cqlsh prints it (nested: inside a collection, where text is quoted). */
void cql_shell_format_value(wr_t *w, const cql_type_t *t, const uint8_t *p, int32_t len, bool nested);
/* Prints one page of rows as a cqlsh table (header when asked) or expanded blocks. */
void cql_shell_print_rows(FILE *out, const cql_result_t *res, bool header, bool expand, size_t row_offset);
/* cqlsh's exception class name and summary for a CQL error code. */
void cql_shell_error_name(int32_t code, const char **cls, const char **summary);

/* Walks the rows_content of a Rows result: cql_rows_cursor_init, then cql_rows_next_value for
 * each of rows_count * columns_count values. Returns false when the content is malformed. */
typedef struct {
    rd_t r;
} cql_rows_cursor_t;
static inline void cql_rows_cursor_init(cql_rows_cursor_t *c, eddy_view_t content) {
    c->r = rd_init(content.ptr, content.len);
}
bool cql_rows_next_value(cql_rows_cursor_t *c, cql_value_t *v);

#endif
