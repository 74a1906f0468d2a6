/* cql: eddy's face of the Cassandra native protocol.
 *
 *   - a C client for Cassandra clusters (and for eddy itself): a session over a pool of
 *     connections, protocol negotiation from v5 down to v3, lz4 when the server offers it,
 *     prepared statements cached per session and re-prepared when a node forgets them, paging,
 *     token-aware routing from system.local / system.peers(_v2), retries of idempotent
 *     statements, timeouts, many asynchronous requests in flight;
 *   - the CQL server of `eddy up` (cql_server_*), serving the table store to the DataStax drivers,
 *     cqlsh and this client;
 *   - the commands `eddy cql` (a cqlsh-like shell) and `eddy bench cql` (a cassandra-stress-like
 *     load generator).
 *
 * Threads. A client runs its own I/O thread (a libuv loop). Every client function may be called
 * from any thread except where noted; completion callbacks run on the I/O thread and must be
 * short (they may submit more requests, but never wait for one). */
#ifndef EDDY_CQL_H
#define EDDY_CQL_H

#include "base/base.h"

/* ---- values and types (shared with the wire codec) ------------------------------------------ */

/* A bound or returned value: len >= 0 bytes of the native protocol's serialized form at ptr,
 * CQL_VALUE_NULL, or (bound values only) CQL_VALUE_UNSET (leave the column as it is). */
#define CQL_VALUE_NULL (-1)
#define CQL_VALUE_UNSET (-2)
typedef struct {
    const uint8_t *ptr;
    int32_t len;
} cql_value_t;

static inline cql_value_t cql_value(const void *p, size_t n) {
    cql_value_t v = {(const uint8_t *)p, (int32_t)n};
    return v;
}
static inline cql_value_t cql_value_null(void) {
    cql_value_t v = {NULL, CQL_VALUE_NULL};
    return v;
}

/* An [option] type as the protocol describes a column: id is the option id (0x0009 int,
 * 0x000D text, 0x0020 list ...); collections, tuples and UDTs have sub-types. Read-only for
 * users of the client; valid as long as the result or prepared statement it came from. */
typedef struct cql_type cql_type_t;
struct cql_type {
    uint16_t id;             /* cql_type_id_t (cql_int.h) */
    uint16_t count;          /* sub-types: list/set 1, map 2, tuple and udt n */
    cql_type_t **sub;
    eddy_view_t name;        /* custom: the class name; udt: the type name */
    eddy_view_t keyspace;    /* udt */
    eddy_view_t *fields;     /* udt: field names, count of them */
};

/* Consistency levels (the protocol's [consistency] values). */
#define CQL_CONSISTENCY_ANY 0x0000
#define CQL_CONSISTENCY_ONE 0x0001
#define CQL_CONSISTENCY_QUORUM 0x0004
#define CQL_CONSISTENCY_ALL 0x0005
#define CQL_CONSISTENCY_LOCAL_QUORUM 0x0006
#define CQL_CONSISTENCY_SERIAL 0x0008
#define CQL_CONSISTENCY_LOCAL_SERIAL 0x0009
#define CQL_CONSISTENCY_LOCAL_ONE 0x000A
#define CQL_CONSISTENCY_DEFAULT 0xFFFF /* the session's default */

/* ---- client: sessions ---------------------------------------------------------------------- */

typedef struct cql_client cql_client_t;
typedef struct cql_result cql_result_t;
typedef struct cql_prepared cql_prepared_t;

/* Settings of a session; zero fields take the defaults in brackets. Strings are copied. */
typedef struct {
    const char *const *contact_points; /* "host", "host:port", "[v6]:port" [127.0.0.1] */
    size_t ncontact_points;
    int port;                        /* when a contact point has none [9042] */
    const char *keyspace;            /* USE'd on every connection [none] */
    const char *username;            /* PasswordAuthenticator credentials [none] */
    const char *password;
    const char *local_dc;            /* connect only to hosts of this data center [all] */
    int connections_per_host;        /* [1] */
    int max_protocol_version;        /* start the negotiation here [5]; it steps down to 3 */
    bool no_compression;             /* do not ask for lz4 even when offered [ask] */
    bool no_token_aware;             /* route round-robin instead of by token [token-aware] */
    uint32_t connect_timeout_ms;     /* [5000] */
    uint32_t request_timeout_ms;     /* [12000] */
    int retries;                     /* extra attempts for idempotent statements [1] */
    uint16_t consistency;            /* default consistency [LOCAL_ONE] */
    int32_t page_size;               /* default page size, 0 = no paging [5000] */
    uint32_t max_requests_per_conn;  /* in flight on one connection [2048, at most 32768] */
} cql_client_opts_t;

/* Connects: negotiates the protocol on the first reachable contact point, reads the cluster's
 * hosts and tokens, opens the pools and waits until they are usable. Returns EDDY_OK with *out
 * (close it with cql_client_close), or an error with a message in errstr (EDDY_ERR_IO: no host
 * reachable; EDDY_ERR_INVALID: bad credentials or options; EDDY_ERR_TIMEOUT). */
int cql_client_connect(const cql_client_opts_t *opts, cql_client_t **out, char *errstr, size_t errlen);
/* Fails what is in flight (EDDY_ERR_CLOSED), closes the connections and joins the I/O thread.
 * Not from a callback. NULL is ignored. */
void cql_client_close(cql_client_t *c);

/* The negotiated protocol version (3, 4 or 5), the compression in use ("lz4" or "none"), and the
 * number of hosts known / currently connected. */
int cql_client_protocol_version(const cql_client_t *c);
const char *cql_client_compression(const cql_client_t *c);
size_t cql_client_host_count(const cql_client_t *c);
size_t cql_client_hosts_up(const cql_client_t *c);
/* The server's release_version and cluster_name from system.local ("" if unknown); valid for
 * the client's life. */
const char *cql_client_release_version(const cql_client_t *c);
const char *cql_client_cluster_name(const cql_client_t *c);

/* ---- client: requests ---------------------------------------------------------------------- */

/* What went wrong: code is the server's CQL error code (0x2200 Invalid, 0x2500 Unprepared ...),
 * or -1 for a client-side failure (connection lost, timeout, no host); message says it. */
typedef struct {
    int32_t code;
    char message[512];
    uint8_t unprepared_id[64];       /* Unprepared (0x2500): the id the server did not know */
    uint16_t unprepared_id_len;
} cql_error_t;

/* One statement: either query text (with ? or :name markers) or a prepared statement. */
typedef struct {
    const char *query;
    const cql_prepared_t *prepared;
    const cql_value_t *values;       /* bound values in marker order */
    size_t nvalues;
    uint16_t consistency;            /* CQL_CONSISTENCY_DEFAULT: the session's */
    uint16_t serial_consistency;     /* 0: none (SERIAL on the server) */
    int32_t page_size;               /* 0: the session's; -1: no paging */
    const uint8_t *paging_state;     /* from cql_result_paging_state, to fetch the next page */
    size_t paging_state_len;
    int64_t timestamp;               /* µs write time; 0: the client's clock */
    bool idempotent;                 /* may be retried on another host after a failure */
    uint32_t timeout_ms;             /* 0: the session's */
    /* Prepared statements only: rows come without their column metadata (the Skip_metadata
     * flag, as the Java and Python drivers send it): the result's column names are then "" and
     * its types NULL (the prepared statement's result columns describe them). Saves the server
     * writing, and the client decoding, every column's name and type in every answer. */
    bool skip_metadata;
} cql_stmt_t;

/* Completion of a request: status EDDY_OK with a result the callee owns (free it with
 * cql_result_free), or an error status with err (valid during the call) and result NULL.
 * Runs on the client's I/O thread. */
typedef void (*cql_done_fn)(void *arg, int status, cql_result_t *result, const cql_error_t *err);

/* Sends a statement. Returns EDDY_OK when done will be called, or an error (client closed,
 * bad statement) when it will not. Error statuses in done: EDDY_ERR_INVALID (the server's
 * Syntax/Invalid/Unauthorized/Config errors), EDDY_ERR_EXISTS (AlreadyExists),
 * EDDY_ERR_BUSY (Overloaded, Unavailable, bootstrapping), EDDY_ERR_TIMEOUT (a server or
 * client timeout), EDDY_ERR_IO (connection lost, no host), EDDY_ERR_CORRUPT (bad response). */
int cql_client_execute_async(cql_client_t *c, const cql_stmt_t *stmt, cql_done_fn done, void *arg);
/* The same, waiting (not from a callback). On success *out owns the result. */
int cql_client_execute(cql_client_t *c, const cql_stmt_t *stmt, cql_result_t **out, cql_error_t *err);
/* Shorthand: runs query text with no values at the default consistency; out may be NULL. */
int cql_client_query(cql_client_t *c, const char *query, cql_result_t **out, cql_error_t *err);

/* Prepares query (cached per session and keyspace: preparing the same text again is free).
 * The handle stays valid until the client is closed. */
typedef void (*cql_prepare_fn)(void *arg, int status, const cql_prepared_t *prepared, const cql_error_t *err);
int cql_client_prepare_async(cql_client_t *c, const char *query, cql_prepare_fn done, void *arg);
int cql_client_prepare(cql_client_t *c, const char *query, const cql_prepared_t **out, cql_error_t *err);

/* Bind markers of a prepared statement: count, names, types; and its result columns. */
size_t cql_prepared_bind_count(const cql_prepared_t *p);
const char *cql_prepared_bind_name(const cql_prepared_t *p, size_t i);
const cql_type_t *cql_prepared_bind_type(const cql_prepared_t *p, size_t i);
/* Partition key markers (for routing): count and the marker index of key column i. */
size_t cql_prepared_pk_count(const cql_prepared_t *p);
int cql_prepared_pk_index(const cql_prepared_t *p, size_t i);
const char *cql_prepared_query(const cql_prepared_t *p);

/* A batch of INSERT/UPDATE/DELETE statements applied atomically (logged), unlogged, or of
 * counter updates. */
typedef enum { CQL_BATCH_TYPE_LOGGED = 0, CQL_BATCH_TYPE_UNLOGGED = 1, CQL_BATCH_TYPE_COUNTER = 2 } cql_batch_type_t;
typedef struct {
    const char *query;               /* or prepared */
    const cql_prepared_t *prepared;
    const cql_value_t *values;
    size_t nvalues;
} cql_batch_entry_t;

int cql_client_batch_async(cql_client_t *c, cql_batch_type_t type, const cql_batch_entry_t *entries, size_t n,
                           const cql_stmt_t *options, cql_done_fn done, void *arg);
int cql_client_batch(cql_client_t *c, cql_batch_type_t type, const cql_batch_entry_t *entries, size_t n,
                     const cql_stmt_t *options, cql_result_t **out, cql_error_t *err);

/* Runs fn(arg) on the client's I/O thread soon (any thread may call it), where requests are
 * issued without a cross-thread hand-off: a load generator issues its due requests from there.
 * Returns EDDY_OK, or EDDY_ERR_CLOSED / EDDY_ERR_NOMEM (fn will not run). */
int cql_client_call(cql_client_t *c, void (*fn)(void *arg), void *arg);

/* ---- client: results ----------------------------------------------------------------------- */

typedef enum {
    CQL_KIND_VOID = 1,
    CQL_KIND_ROWS = 2,
    CQL_KIND_SET_KEYSPACE = 3,
    CQL_KIND_PREPARED = 4,
    CQL_KIND_SCHEMA_CHANGE = 5,
} cql_result_kind_t;

cql_result_kind_t cql_result_kind(const cql_result_t *r);
size_t cql_result_row_count(const cql_result_t *r);
size_t cql_result_column_count(const cql_result_t *r);
/* Column i's name, keyspace and table (NUL-terminated), and type. */
const char *cql_result_column_name(const cql_result_t *r, size_t i);
const char *cql_result_column_keyspace(const cql_result_t *r, size_t i);
const char *cql_result_column_table(const cql_result_t *r, size_t i);
const cql_type_t *cql_result_column_type(const cql_result_t *r, size_t i);
/* The value at (row, col): serialized bytes (len CQL_VALUE_NULL for null), valid until the
 * result is freed. Out-of-range indexes give null. */
cql_value_t cql_result_value(const cql_result_t *r, size_t row, size_t col);
/* Paging: whether more rows follow, and the state to pass in the next cql_stmt_t. */
bool cql_result_has_more_pages(const cql_result_t *r);
eddy_view_t cql_result_paging_state(const cql_result_t *r);
/* Set_keyspace: the keyspace; Schema_change: "CREATED TABLE demo.users" style summary. */
const char *cql_result_text(const cql_result_t *r);
/* Warnings the server attached ("" when none), one per line. */
const char *cql_result_warnings(const cql_result_t *r);
void cql_result_free(cql_result_t *r);

/* ---- server ---------------------------------------------------------------------------------- */

typedef struct store store_t;
typedef struct cql_server cql_server_t;

typedef struct net_server net_server_t;

/* Settings of the CQL server of `eddy up`; zero fields take the defaults in brackets. */
typedef struct {
    store_t *store;                  /* required; must outlive the server */
    int threads;                     /* event loop threads [1] */
    bool password_auth;              /* PasswordAuthenticator instead of AllowAll [off] */
    const char *const *users;        /* "user:password" pairs for it [cassandra:cassandra] */
    size_t nusers;
    const char *cluster_name;        /* system.local.cluster_name ["eddy"] */
    const char *data_center;         /* system.local.data_center ["datacenter1"] */
    uint32_t max_pending;            /* requests in flight (durable writes waiting) before the
                                      * server answers Overloaded [65536] */
} cql_server_opts_t;

/* Creates the server with its net server, not yet listening: bind and start the net server
 * (cql_server_net; eddy up does it with server_net_start), then call cql_server_ready. Returns
 * EDDY_OK with *out, or an error in errstr. */
int cql_server_new(const cql_server_opts_t *opts, cql_server_t **out, char *errstr, size_t errlen);
net_server_t *cql_server_net(cql_server_t *srv);
/* Takes the node's address from the first listener (for system.local) and starts pushing schema
 * changes to registered clients. */
void cql_server_ready(cql_server_t *srv);
/* Stops accepting, finishes what is in flight (up to a few seconds), closes and frees. NULL is
 * ignored. The store must still be open. */
void cql_server_stop(cql_server_t *srv);

/* ---- commands --------------------------------------------------------------------------- */

/* `eddy cql [HOST[:PORT]] [-e STATEMENT] [-f FILE] [-k KEYSPACE] ...`: the shell. Returns the
 * process exit code (0 ok, 1 a statement failed, 2 usage or connection errors). */
int cql_main_shell(int argc, char **argv);
/* `eddy bench cql ...`: the load generator with eddy's client. */
int cql_main_bench(int argc, char **argv);

#endif
