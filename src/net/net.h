/* net: TCP servers on libuv event loops, the ground under the Kafka, CQL and HTTP fronts.
 *
 * A server (net_server_t) listens on one or more HOST:PORT addresses and runs N loop threads
 * (each with its own SO_REUSEPORT listening socket per address, so the kernel spreads accepted
 * connections over the loops). A protocol plugs in through a handler table (net_proto_t):
 * on_open, on_data (consumed / need more / close), on_close.
 *
 * Replies. A reply (net_reply_t) is a chain of pieces: memory buffers (owned, or borrowed with a
 * release hook) and file ranges sent with sendfile(2), so stored Kafka batches go out without a
 * copy. Two ways to answer:
 *   - ordered slots (Kafka, HTTP): reserve a slot on the loop while handling a request, complete
 *     it later from ANY thread; completed slots are written strictly in reservation order. A slot
 *     can be cancelled (Kafka acks=0: no reply) and can stream (append pieces before the end).
 *   - unordered (CQL): reserve a slot with NET_SLOT_UNORDERED, or net_conn_send with a held
 *     reference; written as soon as they arrive.
 * Completions from other threads are queued to the connection's loop and woken with one
 * uv_async (coalesced), then written together (one writev per connection per loop iteration).
 *
 * Backpressure. Each connection has a bound on queued output bytes and on pending slots: over
 * either, net stops reading (and stops handing buffered bytes to on_data) until the output
 * drains; a client whose queued output passes a hard cap, or that accepts no bytes for
 * write_timeout_ms, is closed. Input buffered for an incomplete message is capped (max_input).
 *
 * Lifetime. A connection is reference-counted: the loop holds one reference while it is open,
 * every pending slot and posted function holds one. Its memory is freed on its loop, after the
 * loop iteration that dropped the last reference, so no completion can ever target freed
 * memory. Threads: every function is loop-thread-only unless its comment says "any thread". */
#ifndef EDDY_NET_H
#define EDDY_NET_H

#include <sys/types.h>

#include "base/base.h"
#include "metrics/metrics.h"

typedef struct net_server net_server_t;
typedef struct net_conn net_conn_t;
typedef struct net_reply net_reply_t;
typedef struct net_slot net_slot_t;
typedef struct net_timer net_timer_t;

/* ---- protocol handlers -------------------------------------------------------------------- */

/* What a protocol implements; all three run on the connection's loop thread. */
typedef struct {
    /* A connection was accepted. Return EDDY_OK, or an error to close it at once (on_close is
     * still called). Set per-connection state with net_conn_set_data. May be NULL. */
    int (*on_open)(net_conn_t *conn);
    /* Buffered input: data[0..len) is every byte received and not yet consumed; the view is
     * valid only during the call (copy what must outlive it). Returns:
     *   > 0  bytes consumed (one message or several); net calls again with the rest, unless the
     *        connection is now over a backpressure bound (it resumes when output drains);
     *   0    need more: the message at the head is incomplete. Call net_conn_expect with its
     *        total size when known, so the limit is checked before buffering it;
     *   < 0  an eddy status: close the connection now (queued output is dropped). To answer and
     *        then close, use net_conn_close_after_flush and return the bytes consumed. */
    ssize_t (*on_data)(net_conn_t *conn, const uint8_t *data, size_t len);
    /* The connection is closing (peer gone, error, limit, shutdown). Release protocol state
     * here; slots still pending may be completed later (their replies are dropped). May be
     * NULL. */
    void (*on_close)(net_conn_t *conn);
} net_proto_t;

/* ---- servers ------------------------------------------------------------------------------- */

/* Settings of one server; zero fields take the defaults in brackets. */
typedef struct {
    const char *name;          /* "kafka", "cql", "http": in logs and `eddy: NAME listening on` */
    const net_proto_t *proto;  /* required; must outlive the server */
    void *ctx;                 /* the protocol's server context, returned by net_conn_ctx */
    int threads;               /* loop threads [1] */
    size_t max_conns;          /* open connections; more are accepted and closed at once [10000] */
    size_t max_input;          /* bytes buffered for one incomplete message [1 MiB] */
    size_t out_high;           /* queued output bytes over which reading stops [1 MiB] */
    size_t out_max;            /* queued output bytes over which the client is closed [64 MiB] */
    uint32_t max_pending;      /* pending slots over which reading stops [256] */
    uint64_t idle_timeout_ms;  /* close after this long with no input, no pending slot and no
                                * queued output (0 = never) [0] */
    uint64_t write_timeout_ms; /* close when queued output makes no progress this long [60000] */
    int backlog;               /* listen backlog [1024] */
} net_server_opts_t;

/* Creates a server (no threads, no sockets yet). Also raises RLIMIT_NOFILE's soft limit to the
 * hard limit, so that thousands of connections fit. Returns EDDY_OK or an error in errstr;
 * free with net_server_free. */
int net_server_new(const net_server_opts_t *opts, net_server_t **out, char *errstr, size_t errlen);

/* Binds a listening address "HOST:PORT" or "[V6]:PORT" (port 0 picks a free port, shared by
 * every loop thread). Call before net_server_start; may be called several times. Returns
 * EDDY_OK, EDDY_ERR_IO (bind failed: errstr says why) or EDDY_ERR_INVALID. */
int net_server_listen(net_server_t *srv, const char *hostport, char *errstr, size_t errlen);

/* Starts the loop threads; connections are served from now on. Returns EDDY_OK or an error. */
int net_server_start(net_server_t *srv, char *errstr, size_t errlen);

/* The bound listeners: count, and listener i's address as "HOST:PORT" ("[::1]:PORT" for IPv6)
 * into out (>= 64 bytes), or its host and port. Returns EDDY_OK or EDDY_ERR_RANGE. */
size_t net_server_listener_count(const net_server_t *srv);
int net_server_listener_addr(const net_server_t *srv, size_t i, char *out, size_t outlen);
int net_server_listener_port(const net_server_t *srv, size_t i, char *host, size_t hostlen, int *port);

/* Graceful stop (not on a loop thread): stops accepting, stops reading, waits up to drain_ms
 * for pending slots to complete and queued output to be written, then closes every
 * connection, and returns once every slot has been completed or cancelled (the parts that own
 * slots must still be running) and the loop threads have exited. Idempotent. */
void net_server_stop(net_server_t *srv, uint64_t drain_ms);
/* Stops (with a 5 s drain) if running, then frees. NULL is ignored. */
void net_server_free(net_server_t *srv);

/* Counters of a server, readable from any thread (relaxed atomics). */
typedef struct {
    uint64_t conns_open;
    uint64_t conns_accepted;
    uint64_t conns_refused;    /* over max_conns */
    uint64_t conns_closed_slow;/* closed by out_max or write_timeout_ms */
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t read_pauses;      /* times reading stopped for backpressure */
} net_server_stats_t;
void net_server_stats(const net_server_t *srv, net_server_stats_t *out);

/* Registers the server's counters in reg (eddy_net_connections{server="NAME"}, accepted,
 * refused, closed_slow, bytes in and out, read pauses), read at render time. The server must
 * outlive reg's last render. Returns EDDY_OK or an error. */
int net_server_metrics(net_server_t *srv, metrics_registry_t *reg);

/* ---- connections ---------------------------------------------------------------------------- */

/* The protocol's server context (opts.ctx); any thread. */
void *net_conn_ctx(const net_conn_t *conn);
/* The protocol's per-connection state (NULL until set). */
void net_conn_set_data(net_conn_t *conn, void *data);
void *net_conn_data(const net_conn_t *conn);
/* A process-unique id, and the peer address "HOST:PORT" (valid while the connection is
 * referenced); any thread. */
uint64_t net_conn_id(const net_conn_t *conn);
const char *net_conn_peer(const net_conn_t *conn);
/* True once the connection is closing or closed (replies to it are dropped); any thread. */
bool net_conn_closed(const net_conn_t *conn);

/* Tells net that the message at the head of the input is `total` bytes long, so it can size the
 * buffer once. Returns EDDY_OK, or EDDY_ERR_TOO_LARGE when total exceeds max_input (the
 * protocol then answers or closes; nothing more is buffered). */
int net_conn_expect(net_conn_t *conn, size_t total);

/* Closes now: queued output is dropped, on_close runs, pending slots' replies are dropped. */
void net_conn_close(net_conn_t *conn);
/* Stops reading and closes once every slot reserved so far is written (an answer, then close:
 * HTTP "Connection: close", a fatal protocol error). */
void net_conn_close_after_flush(net_conn_t *conn);

/* A protocol's own flow control, on top of net's backpressure bounds (Kafka's cap on the bytes
 * of requests in flight across every connection): net_conn_pause stops reading the socket and
 * handing buffered input to on_data until net_conn_resume. Pause on the loop thread (on_data may
 * pause and then return what it consumed; input already read stays buffered: the rest of one
 * read, at most 64 KiB, or the message announced with net_conn_expect). Resume from any thread
 * while the connection's memory is valid (a reference is held, or its on_close cannot have
 * returned yet); from another thread it takes effect on the loop soon after, and buffered
 * input is dispatched before the socket is read again. Both are idempotent; resuming a closed
 * connection does nothing. */
void net_conn_pause(net_conn_t *conn);
void net_conn_resume(net_conn_t *conn);

/* Extra references for code that keeps a connection beyond a slot (CQL's event registrations,
 * a worker that will net_conn_send): keep on any thread that already holds a reference (or on
 * the loop), release on any thread. The memory stays valid while referenced; the connection
 * itself may close meanwhile. */
void net_conn_keep(net_conn_t *conn);
void net_conn_release(net_conn_t *conn);

/* Runs fn(conn, arg) on the connection's loop thread soon; any thread (holding a reference).
 * fn always runs, also after the connection closed (check net_conn_closed), so that arg can be
 * released. Returns EDDY_OK or EDDY_ERR_NOMEM (fn will not run). */
typedef void (*net_conn_fn)(net_conn_t *conn, void *arg);
int net_conn_post(net_conn_t *conn, net_conn_fn fn, void *arg);

/* A one-shot timer on the connection's loop: fn(conn, arg) runs after ms milliseconds, unless
 * stopped first or the connection closes first (then fn never runs: release arg in on_close).
 * The handle is valid until fn starts or net_timer_stop is called, which is allowed until the
 * connection is freed (in on_close too). NULL on allocation failure or a closed connection. */
net_timer_t *net_timer_start(net_conn_t *conn, uint64_t ms, net_conn_fn fn, void *arg);
void net_timer_stop(net_timer_t *timer);

/* ---- replies ------------------------------------------------------------------------------- */

/* A chain of pieces to send. Building is not thread-safe, but a reply may be built on any
 * thread and handed to another. An allocation failure while adding sets a sticky error: the
 * reply is then dropped when sent and the connection closed (release hooks still run).
 * A release hook runs exactly once, on whichever thread drops the piece. */
typedef void (*net_release_fn)(void *ctx);

/* NULL on allocation failure. */
net_reply_t *net_reply_new(void);
/* Frees an unsent reply, running its release hooks. NULL is ignored. */
void net_reply_free(net_reply_t *reply);
/* Copies p[0..n). */
int net_reply_add_copy(net_reply_t *reply, const void *p, size_t n);
/* Takes ptr (from eddy_malloc), freed with eddy_free once sent. */
int net_reply_add_owned(net_reply_t *reply, void *ptr, size_t n);
/* Takes the writer's buffer (the writer is left empty and reusable); a writer with an error
 * makes the reply fail. */
int net_reply_add_wr(net_reply_t *reply, wr_t *w);
/* Borrows p[0..n): release(ctx) runs once it is sent or dropped (refcounted buffers). */
int net_reply_add_ref(net_reply_t *reply, const void *p, size_t n, net_release_fn release, void *ctx);
/* Sends length bytes of file fd from offset with sendfile(2) (falling back to pread): net does
 * not close fd; release(ctx) runs once sent or dropped (keep the segment open until then). A
 * file shorter than offset+length closes the connection. */
int net_reply_add_file(net_reply_t *reply, int fd, uint64_t offset, uint64_t length,
                       net_release_fn release, void *ctx);
/* Total bytes in the reply, and its sticky error (EDDY_OK or EDDY_ERR_NOMEM). */
uint64_t net_reply_len(const net_reply_t *reply);
int net_reply_err(const net_reply_t *reply);

/* Sends a reply on the connection as soon as possible, outside any slot order (CQL events,
 * unordered answers). Any thread holding a reference. Always takes the reply (freed if the
 * connection is closed). Returns EDDY_OK or EDDY_ERR_CLOSED. */
int net_conn_send(net_conn_t *conn, net_reply_t *reply);

/* ---- reply slots --------------------------------------------------------------------------- */

typedef enum {
    NET_SLOT_ORDERED = 0,   /* written after every earlier ordered slot of the connection */
    NET_SLOT_UNORDERED = 1, /* written as soon as completed (counts toward max_pending) */
} net_slot_kind_t;

/* Reserves the place of one answer (loop thread, usually inside on_data). The slot holds a
 * reference to the connection until it is completed or cancelled. NULL on allocation failure
 * or when the connection is closing (then there is nobody to answer). */
net_slot_t *net_slot_reserve(net_conn_t *conn, net_slot_kind_t kind);
/* The connection a slot belongs to (valid while the slot is). */
net_conn_t *net_slot_conn(const net_slot_t *slot);
/* Finishes the slot with reply (may be NULL: nothing more to send); any thread. Takes the
 * reply. The slot handle is invalid afterwards. */
void net_slot_complete(net_slot_t *slot, net_reply_t *reply);
/* Finishes the slot with no answer (Kafka acks=0); any thread. Same as complete(NULL). */
void net_slot_cancel(net_slot_t *slot);
/* Streams part of the slot's answer (HTTP chunked bodies): the pieces go out as soon as the
 * slot is at the head; the slot stays open until net_slot_complete. Any thread, but one thread
 * at a time per slot, in order. Takes the reply. Returns EDDY_OK, or EDDY_ERR_CLOSED when the
 * connection is gone (stop producing; still complete the slot). */
int net_slot_append(net_slot_t *slot, net_reply_t *reply);

#endif
