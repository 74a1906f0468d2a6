/* cql internals of eddy's C client (client*.c): requests, connections, hosts, the token ring
 * and the client itself, shared by the client's files on top of the codec in cql_int.h. */
#ifndef EDDY_CQL_CLIENT_INT_H
#define EDDY_CQL_CLIENT_INT_H

#include "cql/cql_int.h"

typedef struct cql_host cql_host_t;
typedef struct cql_conn cql_conn_t;
typedef struct cql_req cql_req_t;

/* Completion of an internal request (handshake, topology, re-prepare): status and, on success,
 * the result (owned by the callee), or the error. */
typedef void (*cql_req_fn)(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err);

struct cql_req {
    cql_req_t *next;            /* queue link */
    cql_client_t *client;
    uint8_t opcode;
    wr_t frame;                 /* the whole envelope; its stream id is patched at dispatch */
    int64_t deadline_ms;        /* monotonic; 0 = none */
    int attempts_left;
    bool idempotent;
    bool has_token;
    int64_t token;
    bool reprepared;            /* already re-prepared once after Unprepared */
    cql_conn_t *pin;            /* internal requests: this connection only */
    cql_host_t *avoid;          /* a retry: another host if there is one */
    cql_conn_t *conn;           /* where it is in flight */
    int16_t stream;
    uint64_t send_seq;          /* conn->flush_seq when queued: unsent while still equal */
    bool unsent;                /* failed before it was written: safe to send elsewhere */
    cql_conn_t *answered_by;    /* the connection that answered (re-prepare goes there) */
    uint32_t timeout_ms;        /* 0: the session's */
    cql_done_fn done;           /* the user's completion, or */
    void *arg;
    cql_req_fn internal;        /* an internal one */
    void *internal_arg;
    const cql_prepared_t *prepared;   /* EXECUTE / PREPARE of a cached statement */
};

/* The session's shared state; fields below the lock line are the I/O thread's alone. */
struct cql_host {
    cql_client_t *client;
    int index;
    struct sockaddr_storage addr;
    char name[80];              /* "HOST:PORT", for messages */
    char dc[64];
    int64_t *tokens;
    size_t ntokens;
    cql_conn_t **conns;         /* connections_per_host slots, NULL where none */
    int64_t next_attempt_ms;    /* reconnection backoff */
    uint32_t backoff_ms;
    uint32_t rr;
    bool ignored;               /* another data center than local_dc */
};

typedef enum {
    CQL_CONN_CONNECTING,
    CQL_CONN_HANDSHAKE,         /* OPTIONS, STARTUP, AUTH_RESPONSE, USE */
    CQL_CONN_READY,
    CQL_CONN_CLOSING,
} cql_conn_state_t;

struct cql_conn {
    cql_client_t *client;
    cql_host_t *host;
    int slot;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    cql_conn_state_t state;
    bool writing;
    bool want_lz4;
    uint8_t version;            /* the version this connection speaks or tries */
    cql_codec_t *codec;
    wr_t out_raw;               /* envelopes waiting to be written */
    wr_t out_wire;              /* bytes being written */
    cql_req_t **streams;        /* in flight, by stream id */
    int16_t *free_ids;
    uint32_t nfree;
    uint32_t max_streams;
    uint32_t inflight;
    uint64_t flush_seq;         /* writes started */
    bool dirty;
    cql_conn_t *dirty_next;
    int64_t deadline_ms;        /* connect / handshake deadline */
    bool retry_now;             /* refused our version: reopen at the next lower one */
    uint8_t read_buf[65536];
};

/* client_conn.c: connections. */
cql_conn_t *cql_conn_open(cql_host_t *host, int slot);
/* Closes: every request in flight fails (or is retried) with status and why. */
void cql_conn_close(cql_conn_t *conn, int status, const char *why);
/* Puts req in flight on conn (stream id, frame appended, flushed with cql_client_flush).
 * Returns EDDY_OK or EDDY_ERR_BUSY when no stream id is free. */
int cql_conn_send(cql_conn_t *conn, cql_req_t *req);
/* Starts writing what is queued, unless a write is in progress. */
void cql_conn_flush(cql_conn_t *conn);
void cql_client_flush(cql_client_t *c);
/* A stream id reserved for a request that gave up (timeout) and is still unanswered. */
extern cql_req_t cql_req_abandoned;

/* client.c: what connections report back. */
void cql_client_conn_ready(cql_conn_t *conn);
void cql_client_conn_failed(cql_conn_t *conn, int status, const char *why, bool version_refused);
void cql_client_conn_gone(cql_conn_t *conn);
void cql_client_on_event(cql_client_t *c, const cql_msg_t *event);
/* Finishes a request: its completion runs (or a retry is made) and req is freed. */
void cql_req_finish(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err);
/* A request for the I/O thread (the handshake, re-prepares): the envelope is built from msg. */
cql_req_t *cql_req_internal(cql_client_t *c, const cql_msg_t *msg, cql_req_fn fn, void *arg);
void cql_req_free(cql_req_t *req);
int64_t cql_client_now_ms(void);
/* Accessors of the session for connections. */
uint8_t cql_client_version(const cql_client_t *c);
bool cql_client_version_fixed(const cql_client_t *c);
const cql_client_opts_t *cql_client_opts(const cql_client_t *c);
uv_loop_t *cql_client_loop(cql_client_t *c);
void cql_client_mark_dirty(cql_client_t *c, cql_conn_t *conn);
/* The session keyspace ("" for none; USE changes it) copied into buf; any thread. */
void cql_client_keyspace_copy(cql_client_t *c, char *buf, size_t n);
/* Sends USE of the session keyspace on a ready connection (after a USE on another one); a
 * failure only closes nothing: the next USE or reconnect sets it again. */
void cql_conn_use(cql_conn_t *conn);

#define CQL_CLIENT_MAX_HOSTS 256
#define CQL_PREPARED_BUCKETS 256

typedef struct {
    int64_t token;
    cql_host_t *host;
} cql_ring_entry_t;

struct cql_prepared {
    cql_prepared_t *next;       /* hash chain */
    uint64_t hash;
    char *keyspace;             /* the session keyspace it was prepared under ("" for none) */
    char *query;
    cql_result_t *res;          /* the Prepared result: bind and result metadata live in it */
    uint8_t id[64];
    uint16_t id_len;
    uint8_t result_id[64];      /* v5 result_metadata_id; guarded by the client's lock */
    uint16_t result_id_len;
    char **bind_names;
};

struct cql_client {
    cql_client_opts_t opts;     /* strings copied */
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t tick;
    pthread_t thread;
    bool running;
    /* shared between threads */
    pthread_mutex_t lock;       /* submit queue, prepared cache, result ids */
    cql_req_t *submit_head, *submit_tail;
    struct cql_call *calls;     /* cql_client_call: functions for the I/O thread */
    _Atomic bool closing;
    _Atomic size_t nhosts_public;
    _Atomic size_t hosts_up;
    _Atomic bool lz4;
    _Atomic int64_t last_ts;
    cql_prepared_t *prepared[CQL_PREPARED_BUCKETS];
    pthread_mutex_t connect_lock;
    pthread_cond_t connect_cond;
    bool connect_done;
    int connect_status;
    uint8_t version;            /* negotiated (fixed once a connection is ready) */
    bool version_fixed;
    char release_version[32];
    char cluster_name[128];
    /* the I/O thread's alone */
    bool shut;
    bool connecting;            /* cql_client_connect has not returned yet */
    bool topology_done;
    bool peers_v1_tried;
    bool fatal;                 /* bad credentials / keyspace: stop trying */
    size_t next_contact;
    size_t ncontacts;
    int last_status;
    char last_error[600];
    cql_req_t *backlog_head, *backlog_tail;
    size_t nbacklog;
    cql_host_t *hosts[CQL_CLIENT_MAX_HOSTS];
    size_t nhosts;
    size_t host_rr;
    cql_ring_entry_t *ring;
    size_t nring;
    cql_conn_t *dirty;
    cql_conn_t *control;
};

/* client.c */
cql_req_t *cql_req_new(cql_client_t *c);
void cql_client_submit(cql_client_t *c, cql_req_t *req);
void cql_client_dispatch(cql_client_t *c, cql_req_t *req);
cql_host_t *cql_client_host_add(cql_client_t *c, const struct sockaddr_storage *addr);
void cql_client_ring_build(cql_client_t *c);
void cql_client_open_pools(cql_client_t *c);
bool cql_client_any_connecting(const cql_client_t *c);
void cql_client_free(cql_client_t *c);
/* client_meta.c: the connect sequence, topology and events. */
void cql_client_topology_start(cql_client_t *c, cql_conn_t *control);
void cql_client_connect_progress(cql_client_t *c);
int cql_client_connect_wait(cql_client_t *c, char *errstr, size_t errlen);
/* client_api.c: prepared statements. Returns true when req was taken over (re-preparing). */
bool cql_client_reprepare(cql_client_t *c, cql_req_t *req, const cql_error_t *err);
void cql_client_prepared_free_all(cql_client_t *c);

#endif
