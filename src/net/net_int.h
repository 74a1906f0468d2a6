/* Inside net: the structures behind the opaque handles of net.h, shared by loop.c (servers,
 * loop threads, the cross-thread queue), conn.c (accept, read, dispatch, close, timers) and
 * reply.c (replies, slots, writing). No other part includes this file. */
#ifndef EDDY_NET_INT_H
#define EDDY_NET_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <uv.h>

#include "net/net.h"

#define NET_MAX_LISTENERS 16
#define NET_READ_CHUNK (64 * 1024)   /* the loop's shared read buffer */
#define NET_IOV_MAX 64               /* memory pieces gathered into one sendmsg */

typedef struct net_loop net_loop_t;

/* Work handed to a loop from any thread: one intrusive FIFO per loop, a mutex and a uv_async.
 * Each kind embeds its node in the object it concerns, so most hand-offs allocate nothing. */
typedef enum {
    NET_OP_SLOT_APPEND, /* net_reply_t: pieces for reply->slot */
    NET_OP_SLOT_DONE,   /* net_slot_t: the slot is finished (slot->final holds its last reply) */
    NET_OP_SEND,        /* net_reply_t: pieces for reply->conn, outside slot order */
    NET_OP_POST,        /* net_post_t: run a function */
    NET_OP_CONN_FREE,   /* net_conn_t: the last reference was dropped on another thread */
    NET_OP_CONN_RESUME, /* net_conn_t: net_conn_resume from another thread */
    NET_OP_LOOP_STOP,   /* net_loop_t: begin the graceful stop */
} net_op_kind_t;

typedef struct net_op {
    struct net_op *next;
    uint8_t kind;
} net_op_t;

#define NET_CONTAINER(ptr, type, field) ((type *)((char *)(ptr) - offsetof(type, field)))

/* One piece of output: memory (owned or borrowed) or a file range. */
typedef struct net_piece {
    struct net_piece *next;
    uint8_t is_file;
    uint8_t owned;           /* memory: base is ours (eddy_free); copies live after the struct */
    const uint8_t *ptr;      /* memory: the next unsent byte */
    uint64_t len;            /* bytes still to send */
    uint64_t offset;         /* file: next offset */
    size_t cap;              /* inline copies: bytes of room after the struct */
    int fd;
    void *base;              /* owned memory to free */
    net_release_fn release;
    void *release_ctx;
} net_piece_t;

typedef struct {
    net_piece_t *head;
    net_piece_t *tail;
    uint64_t bytes;
} net_chain_t;

struct net_reply {
    net_op_t op;
    net_chain_t chain;
    int err;
    net_slot_t *slot;        /* NET_OP_SLOT_APPEND target */
    net_conn_t *conn;        /* NET_OP_SEND target */
};

struct net_slot {
    net_op_t op;             /* NET_OP_SLOT_DONE */
    net_slot_t *next;        /* the connection's ordered FIFO */
    net_conn_t *conn;
    net_chain_t chain;       /* pieces received and not yet moved to the output */
    net_reply_t *final;      /* the completing reply, while the DONE op is queued */
    atomic_uint queued;      /* ops of this slot in the loop's queue (keeps loop-thread
                              * completions behind queued appends) */
    uint8_t kind;
    uint8_t done;
};

typedef struct {
    net_op_t op;
    net_conn_t *conn;
    net_conn_fn fn;
    void *arg;
} net_post_t;

struct net_timer {
    uv_timer_t handle;
    net_conn_t *conn;
    net_conn_fn fn;
    void *arg;
    net_timer_t *prev, *next;
};

struct net_conn {
    net_op_t free_op;
    net_op_t resume_op;      /* NET_OP_CONN_RESUME, queued at most once (resume_queued) */
    atomic_bool resume_queued;
    net_server_t *srv;
    net_loop_t *loop;
    uv_poll_t poll;
    int fd;
    int poll_events;         /* events the poll handle is started with (0 = stopped) */
    atomic_int refs;
    atomic_bool closed;
    uint64_t id;
    char peer[64];
    void *data;

    uint8_t *in;             /* buffered input [in_off, in_off + in_len) */
    size_t in_off, in_len, in_cap;
    size_t expect;

    net_chain_t out;
    net_slot_t *slots_head, *slots_tail;
    uint32_t pending;        /* reserved slots not yet finished and written to out */

    uint8_t want_write;      /* the socket said EAGAIN: wait for writability */
    uint8_t eof;             /* peer closed its side */
    uint8_t draining;        /* close once every slot is written (close_after_flush, stop) */
    uint8_t paused;          /* reading stopped for backpressure */
    uint8_t held;            /* reading stopped by the protocol (net_conn_pause) */
    uint8_t unheld;          /* resumed: dispatch buffered input at the next settle */
    uint8_t dirty;           /* in loop->dirty */
    uint8_t in_dispatch;     /* on_data is running: no recursive dispatch */
    uint8_t handle_closed;   /* the poll handle's close callback ran */
    int64_t last_read_ms, last_write_ms;

    net_timer_t *timers;
    net_conn_t *prev, *next;     /* loop->conns while open */
    net_conn_t *dirty_next;      /* loop->dirty */
    net_conn_t *zombie_next;     /* loop->zombies */
};

typedef struct {
    uv_poll_t poll;
    int fd;                  /* dup of the listener's socket */
    net_loop_t *loop;
    uint8_t active;
} net_accept_t;

struct net_loop {
    net_server_t *srv;
    int index;
    uv_loop_t uv;
    uv_async_t async;
    uv_check_t check;
    uv_idle_t idle;
    uv_timer_t sweep;        /* idle and write timeouts, once a second */
    uv_timer_t drain;        /* the stop deadline */
    uv_timer_t accept_retry; /* after EMFILE */
    pthread_t thread;
    pthread_t self;          /* set by the loop thread itself before it signals ready */
    bool started;            /* the thread was created (main thread's view) */
    bool uv_ready;           /* the loop and its handles exist: stop must go through the queue */
    sem_t ready;
    int start_err;

    pthread_mutex_t qlock;
    net_op_t *qhead, *qtail;

    net_accept_t accepts[NET_MAX_LISTENERS];
    size_t naccepts;

    net_conn_t *conns;       /* open connections */
    size_t live;             /* connection structs not yet freed */
    net_conn_t *dirty;
    net_conn_t *zombies;
    bool stopping;
    bool exiting;
    net_op_t stop_op;
    uint64_t drain_ms;
    uint8_t rbuf[NET_READ_CHUNK];
};

typedef struct {
    int fd;
    char host[64];
    int port;
    char addr[80];
} net_listener_t;

struct net_server {
    net_server_opts_t opts;
    char name[32];
    net_loop_t **loops;
    int nloops;
    net_listener_t listeners[NET_MAX_LISTENERS];
    size_t nlisteners;
    bool started;
    bool stopped;
    atomic_uint_fast64_t next_conn_id;
    atomic_uint_fast64_t conns_open, conns_accepted, conns_refused, conns_closed_slow;
    atomic_uint_fast64_t bytes_in, bytes_out, read_pauses;
    atomic_uint next_loop;
};

/* loop.c */
bool net_loop_is_current(const net_loop_t *loop);
void net_loop_enqueue(net_loop_t *loop, net_op_t *op);
void net_loop_mark_dirty(net_loop_t *loop, net_conn_t *conn);
/* Makes the loop run its work (flush, reap) before it next blocks. */
void net_loop_wake(net_loop_t *loop);
int64_t net_loop_now_ms(net_loop_t *loop);
/* Stops accepting on this loop for 100 ms (out of descriptors). */
void net_loop_pause_accepts(net_loop_t *loop);

/* conn.c */
void net_accept_cb(uv_poll_t *handle, int status, int events);
void net_conn_flush(net_conn_t *conn);
void net_conn_dispatch(net_conn_t *conn);
void net_conn_update_poll(net_conn_t *conn);
void net_conn_free_now(net_conn_t *conn);
void net_conn_run_post(net_post_t *post);
void net_conn_resume_on_loop(net_conn_t *conn);
void net_conn_sweep(net_conn_t *conn, int64_t now_ms);
bool net_conn_over_bounds(const net_conn_t *conn);

/* reply.c */
void net_chain_append(net_chain_t *into, net_chain_t *from);
void net_chain_drop(net_chain_t *chain);
void net_reply_free_shell(net_reply_t *reply);
/* Writes as much of conn->out as the socket takes; returns EDDY_OK or an error (close). */
int net_conn_write_out(net_conn_t *conn);
void net_slot_on_loop_append(net_slot_t *slot, net_reply_t *reply);
void net_slot_on_loop_done(net_slot_t *slot);
void net_conn_send_on_loop(net_conn_t *conn, net_reply_t *reply);
/* Moves finished slots at the head (and every unordered slot's pieces) to the output. */
void net_conn_collect_slots(net_conn_t *conn);
void net_conn_drop_slots_output(net_conn_t *conn);

#endif
