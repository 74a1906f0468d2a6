/* net connections: accept, the read path (a loop-wide read buffer for connections with nothing
 * buffered, so idle connections hold no input memory), dispatch to the protocol with
 * backpressure, close, reference counts, timers and posted functions. */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_int.h"

/* Input buffers above this size are released when they empty (a big message passed). */
#define NET_IN_KEEP (64 * 1024)
#define NET_IN_MIN (16 * 1024)

static void conn_poll_cb(uv_poll_t *h, int status, int events);

void *net_conn_ctx(const net_conn_t *conn) { return conn->srv->opts.ctx; }
void net_conn_set_data(net_conn_t *conn, void *data) { conn->data = data; }
void *net_conn_data(const net_conn_t *conn) { return conn->data; }
uint64_t net_conn_id(const net_conn_t *conn) { return conn->id; }
const char *net_conn_peer(const net_conn_t *conn) { return conn->peer; }
bool net_conn_closed(const net_conn_t *conn) {
    return atomic_load_explicit(&((net_conn_t *)conn)->closed, memory_order_acquire);
}

bool net_conn_over_bounds(const net_conn_t *conn) {
    const net_server_opts_t *o = &conn->srv->opts;
    return conn->out.bytes >= o->out_high || conn->pending >= o->max_pending;
}

int net_conn_expect(net_conn_t *conn, size_t total) {
    if (total > conn->srv->opts.max_input) return EDDY_ERR_TOO_LARGE;
    conn->expect = total;
    return EDDY_OK;
}

void net_conn_keep(net_conn_t *conn) { atomic_fetch_add_explicit(&conn->refs, 1, memory_order_relaxed); }

void net_conn_release(net_conn_t *conn) {
    if (atomic_fetch_sub_explicit(&conn->refs, 1, memory_order_acq_rel) != 1) return;
    net_loop_t *loop = conn->loop;
    if (net_loop_is_current(loop)) {
        /* Freed by the loop between callbacks; the idle handle keeps the next poll from
         * blocking until that happens. */
        conn->zombie_next = loop->zombies;
        loop->zombies = conn;
        net_loop_wake(loop);
    } else {
        conn->free_op.kind = NET_OP_CONN_FREE;
        net_loop_enqueue(loop, &conn->free_op);
    }
}

void net_conn_free_now(net_conn_t *conn) {
    while (conn->timers) net_timer_stop(conn->timers);
    net_chain_drop(&conn->out);
    eddy_free(conn->in);
    conn->loop->live--;
    eddy_free(conn);
}

/* ---- accept -------------------------------------------------------------------------------- */

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t outlen) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, outlen, "[%s]:%d", host, ntohs(a->sin6_port));
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, outlen, "%s:%d", host, ntohs(a->sin_port));
    } else {
        snprintf(out, outlen, "local");
    }
}

static void conn_open(net_loop_t *loop, int fd, const struct sockaddr_storage *ss) {
    net_server_t *srv = loop->srv;
    net_conn_t *conn = eddy_calloc(1, sizeof *conn);
    if (!conn) goto err;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (uv_poll_init(&loop->uv, &conn->poll, fd) != 0) goto err;
    conn->poll.data = conn;
    conn->srv = srv;
    conn->loop = loop;
    conn->fd = fd;
    atomic_init(&conn->refs, 1); /* the loop's, dropped when the poll handle has closed */
    atomic_init(&conn->closed, false);
    atomic_init(&conn->resume_queued, false);
    conn->id = atomic_fetch_add_explicit(&srv->next_conn_id, 1, memory_order_relaxed) + 1;
    format_peer(ss, conn->peer, sizeof conn->peer);
    conn->last_read_ms = conn->last_write_ms = net_loop_now_ms(loop);
    conn->next = loop->conns;
    if (loop->conns) loop->conns->prev = conn;
    loop->conns = conn;
    loop->live++;
    atomic_fetch_add_explicit(&srv->conns_accepted, 1, memory_order_relaxed);
    elog_trace("net", "%s: connection %llu from %s", srv->name, (unsigned long long)conn->id, conn->peer);
    if (srv->opts.proto->on_open && srv->opts.proto->on_open(conn) != EDDY_OK) {
        net_conn_close(conn);
        return;
    }
    net_conn_update_poll(conn);
    return;
err:
    eddy_free(conn);
    close(fd);
    atomic_fetch_sub_explicit(&srv->conns_open, 1, memory_order_relaxed);
}

void net_accept_cb(uv_poll_t *h, int status, int events) {
    net_accept_t *a = h->data;
    net_loop_t *loop = a->loop;
    net_server_t *srv = loop->srv;
    if (status < 0 || loop->stopping) return;
    /* A bounded batch per wakeup, so one loop does not starve its connections. */
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(a->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            /* Out of descriptors or memory: stop accepting on this loop for a moment instead of
             * spinning on a listener that stays readable. */
            elog_warn("net", "%s: accept: %s (pausing accepts for 100 ms)", srv->name, strerror(errno));
            net_loop_pause_accepts(loop);
            return;
        }
        uint64_t open = atomic_fetch_add_explicit(&srv->conns_open, 1, memory_order_relaxed);
        if (open >= srv->opts.max_conns) {
            atomic_fetch_sub_explicit(&srv->conns_open, 1, memory_order_relaxed);
            uint64_t refused = atomic_fetch_add_explicit(&srv->conns_refused, 1, memory_order_relaxed);
            if ((refused & (refused - 1)) == 0) /* 1st, 2nd, 4th, 8th...: logged, not flooded */
                elog_warn("net", "%s: connection limit (%zu) reached, refusing connections", srv->name,
                          srv->opts.max_conns);
            close(fd);
            continue;
        }
        conn_open(loop, fd, &ss);
    }
}

/* ---- reading and dispatch ------------------------------------------------------------------- */

void net_conn_update_poll(net_conn_t *conn) {
    if (net_conn_closed(conn)) return;
    int ev = 0;
    if (!conn->paused && !conn->held && !conn->eof && !conn->draining) ev |= UV_READABLE;
    if (conn->want_write) ev |= UV_WRITABLE;
    if (ev == conn->poll_events) return;
    if (ev) uv_poll_start(&conn->poll, ev, conn_poll_cb);
    else uv_poll_stop(&conn->poll);
    conn->poll_events = ev;
}

/* Hands data[0..len) to on_data until it needs more, the connection goes over a bound,
 * starts draining or closes. Returns the bytes consumed. */
static size_t conn_feed(net_conn_t *conn, const uint8_t *data, size_t len) {
    const net_proto_t *proto = conn->srv->opts.proto;
    size_t used = 0;
    conn->in_dispatch = 1;
    while (used < len && !net_conn_closed(conn) && !conn->draining && !conn->held && !net_conn_over_bounds(conn)) {
        ssize_t n = proto->on_data(conn, data + used, len - used);
        if (net_conn_closed(conn)) break;
        if (n < 0) {
            elog_debug("net", "%s: closing %s: %s", conn->srv->name, conn->peer, eddy_strerror((int)n));
            net_conn_close(conn);
            break;
        }
        if (n == 0) break;
        if ((size_t)n > len - used) { /* a protocol bug: never read past what was given */
            elog_error("net", "%s: handler consumed %zd of %zu bytes", conn->srv->name, n, len - used);
            net_conn_close(conn);
            break;
        }
        used += (size_t)n;
        conn->expect = 0;
    }
    conn->in_dispatch = 0;
    if (!net_conn_closed(conn) && !conn->paused && net_conn_over_bounds(conn) && used < len) {
        conn->paused = 1;
        atomic_fetch_add_explicit(&conn->srv->read_pauses, 1, memory_order_relaxed);
    }
    return used;
}

static void conn_input_consumed(net_conn_t *conn, size_t used) {
    conn->in_off += used;
    conn->in_len -= used;
    if (conn->in_len == 0) {
        conn->in_off = 0;
        if (conn->in_cap > NET_IN_KEEP) {
            eddy_free(conn->in);
            conn->in = NULL;
            conn->in_cap = 0;
        }
    }
}

void net_conn_dispatch(net_conn_t *conn) {
    if (conn->in_dispatch || net_conn_closed(conn) || conn->in_len == 0) return;
    size_t used = conn_feed(conn, conn->in + conn->in_off, conn->in_len);
    if (!net_conn_closed(conn)) conn_input_consumed(conn, used);
}

/* Makes room for more input after the buffered bytes (one incomplete message). */
static int conn_input_room(net_conn_t *conn) {
    size_t max = conn->srv->opts.max_input;
    if (conn->in_len >= max) return EDDY_ERR_TOO_LARGE;
    size_t want = EDDY_MAX(conn->expect, EDDY_MAX(conn->in_len * 2, conn->in_len + NET_IN_MIN));
    want = EDDY_MIN(want, max);
    if (conn->in_off > 0 && conn->in_off + conn->in_len + NET_IN_MIN > conn->in_cap) {
        memmove(conn->in, conn->in + conn->in_off, conn->in_len);
        conn->in_off = 0;
    }
    if (conn->in_cap < want) {
        uint8_t *b = eddy_realloc(conn->in, want);
        if (!b) return EDDY_ERR_NOMEM;
        conn->in = b;
        conn->in_cap = want;
    }
    return EDDY_OK;
}

static void conn_read(net_conn_t *conn) {
    net_loop_t *loop = conn->loop;
    net_server_t *srv = conn->srv;
    bool shared = conn->in_len == 0;
    uint8_t *dst;
    size_t room;
    if (shared) {
        dst = loop->rbuf;
        room = sizeof loop->rbuf;
    } else {
        int rc = conn_input_room(conn);
        if (rc != EDDY_OK) {
            elog_info("net", "%s: closing %s: message larger than %zu bytes", srv->name, conn->peer, srv->opts.max_input);
            net_conn_close(conn);
            return;
        }
        dst = conn->in + conn->in_off + conn->in_len;
        room = conn->in_cap - conn->in_off - conn->in_len;
    }
    ssize_t n = read(conn->fd, dst, room);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        elog_debug("net", "%s: read from %s: %s", srv->name, conn->peer, strerror(errno));
        net_conn_close(conn);
        return;
    }
    if (n == 0) {
        /* The peer finished sending: answer what it asked, then close. */
        conn->eof = 1;
        net_conn_close_after_flush(conn);
        return;
    }
    atomic_fetch_add_explicit(&srv->bytes_in, (uint64_t)n, memory_order_relaxed);
    conn->last_read_ms = net_loop_now_ms(loop);
    if (!shared) {
        conn->in_len += (size_t)n;
        net_conn_dispatch(conn);
    } else {
        size_t used = conn_feed(conn, dst, (size_t)n);
        size_t left = (size_t)n - used;
        if (left && !net_conn_closed(conn) && !conn->draining) {
            size_t cap = EDDY_MAX(left, EDDY_MAX(conn->expect, NET_IN_MIN));
            if (cap > srv->opts.max_input) cap = EDDY_MAX(left, srv->opts.max_input);
            if (conn->in_cap < cap) { /* an emptied buffer may be kept from earlier */
                uint8_t *b = eddy_realloc(conn->in, cap);
                if (!b) {
                    net_conn_close(conn);
                    return;
                }
                conn->in = b;
                conn->in_cap = cap;
            }
            memcpy(conn->in, dst + used, left);
            conn->in_off = 0;
            conn->in_len = left;
        }
    }
    net_conn_update_poll(conn);
}

/* After output moved: close a drained connection, resume reading under the bounds. */
static void conn_settle(net_conn_t *conn) {
    if (net_conn_closed(conn)) return;
    if (conn->out.bytes > conn->srv->opts.out_max) {
        atomic_fetch_add_explicit(&conn->srv->conns_closed_slow, 1, memory_order_relaxed);
        elog_info("net", "%s: closing %s: %llu bytes of output queued (slow reader)", conn->srv->name, conn->peer,
                  (unsigned long long)conn->out.bytes);
        net_conn_close(conn);
        return;
    }
    if (conn->draining && conn->pending == 0 && conn->out.bytes == 0) {
        net_conn_close(conn);
        return;
    }
    bool resume = conn->unheld;
    conn->unheld = 0;
    if (conn->paused && !net_conn_over_bounds(conn)) {
        conn->paused = 0;
        resume = true;
    }
    if (resume && !conn->paused && !conn->held) {
        net_conn_dispatch(conn);
        if (net_conn_closed(conn)) return;
    }
    net_conn_update_poll(conn);
}

void net_conn_flush(net_conn_t *conn) {
    net_conn_collect_slots(conn);
    if (net_conn_closed(conn)) return;
    if (conn->out.bytes && !conn->want_write && net_conn_write_out(conn) != EDDY_OK) {
        net_conn_close(conn);
        return;
    }
    conn_settle(conn);
}

static void conn_poll_cb(uv_poll_t *h, int status, int events) {
    net_conn_t *conn = h->data;
    if (net_conn_closed(conn)) return;
    if (status < 0) {
        elog_debug("net", "%s: %s: %s", conn->srv->name, conn->peer, uv_strerror(status));
        net_conn_close(conn);
        return;
    }
    if (events & UV_WRITABLE) {
        conn->want_write = 0;
        if (net_conn_write_out(conn) != EDDY_OK) {
            net_conn_close(conn);
            return;
        }
        conn_settle(conn);
        if (net_conn_closed(conn)) return;
    }
    if ((events & UV_READABLE) && !conn->paused && !conn->held && !conn->eof && !conn->draining) conn_read(conn);
}

/* ---- the protocol's pause and resume ---------------------------------------------------------- */

void net_conn_pause(net_conn_t *conn) {
    if (net_conn_closed(conn) || conn->held) return;
    conn->held = 1;
    conn->unheld = 0;
    net_conn_update_poll(conn);
}

void net_conn_resume_on_loop(net_conn_t *conn) {
    if (net_conn_closed(conn) || !conn->held) return;
    conn->held = 0;
    /* Buffered input is dispatched when the loop flushes the connection, never from inside
     * another connection's (or this one's) callback. */
    conn->unheld = 1;
    net_loop_mark_dirty(conn->loop, conn);
}

void net_conn_resume(net_conn_t *conn) {
    if (net_loop_is_current(conn->loop)) {
        net_conn_resume_on_loop(conn);
        return;
    }
    if (atomic_exchange_explicit(&conn->resume_queued, true, memory_order_acq_rel)) return; /* on its way */
    net_conn_keep(conn); /* for the trip through the queue */
    conn->resume_op.kind = NET_OP_CONN_RESUME;
    net_loop_enqueue(conn->loop, &conn->resume_op);
}

/* ---- closing ------------------------------------------------------------------------------- */

static void conn_poll_closed_cb(uv_handle_t *h) {
    net_conn_t *conn = h->data;
    close(conn->fd);
    conn->fd = -1;
    conn->handle_closed = 1;
    net_conn_release(conn);
}

static void timer_closed_cb(uv_handle_t *h) { eddy_free(h->data); }

static void timer_unlink(net_timer_t *t) {
    net_conn_t *conn = t->conn;
    if (t->prev) t->prev->next = t->next;
    else conn->timers = t->next;
    if (t->next) t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

void net_conn_close(net_conn_t *conn) {
    if (net_conn_closed(conn)) return;
    atomic_store_explicit(&conn->closed, true, memory_order_release);
    net_loop_t *loop = conn->loop;
    if (conn->prev) conn->prev->next = conn->next;
    else loop->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
    /* Stopped, not freed: a protocol may still call net_timer_stop on them (in on_close, say)
     * until the connection is freed. */
    for (net_timer_t *t = conn->timers; t; t = t->next) uv_timer_stop(&t->handle);
    net_chain_drop(&conn->out);
    net_conn_drop_slots_output(conn);
    atomic_fetch_sub_explicit(&conn->srv->conns_open, 1, memory_order_relaxed);
    if (conn->srv->opts.proto->on_close) conn->srv->opts.proto->on_close(conn);
    elog_trace("net", "%s: connection %llu closed", conn->srv->name, (unsigned long long)conn->id);
    uv_close((uv_handle_t *)&conn->poll, conn_poll_closed_cb);
}

void net_conn_close_after_flush(net_conn_t *conn) {
    if (net_conn_closed(conn)) return;
    conn->draining = 1;
    /* The rest is decided when the loop flushes the connection. */
    net_loop_mark_dirty(conn->loop, conn);
}

/* ---- timeouts, timers, posted functions ------------------------------------------------------ */

void net_conn_sweep(net_conn_t *conn, int64_t now) {
    const net_server_opts_t *o = &conn->srv->opts;
    if (conn->out.bytes && o->write_timeout_ms && now - conn->last_write_ms >= (int64_t)o->write_timeout_ms) {
        atomic_fetch_add_explicit(&conn->srv->conns_closed_slow, 1, memory_order_relaxed);
        elog_info("net", "%s: closing %s: no output accepted for %llu ms", conn->srv->name, conn->peer,
                  (unsigned long long)o->write_timeout_ms);
        net_conn_close(conn);
    } else if (o->idle_timeout_ms && !conn->out.bytes && !conn->pending &&
               now - conn->last_read_ms >= (int64_t)o->idle_timeout_ms) {
        elog_debug("net", "%s: closing idle %s", conn->srv->name, conn->peer);
        net_conn_close(conn);
    }
}

static void timer_cb(uv_timer_t *h) {
    net_timer_t *t = h->data;
    net_conn_t *conn = t->conn;
    timer_unlink(t);
    uv_close((uv_handle_t *)&t->handle, timer_closed_cb);
    t->fn(conn, t->arg);
}

net_timer_t *net_timer_start(net_conn_t *conn, uint64_t ms, net_conn_fn fn, void *arg) {
    if (net_conn_closed(conn)) return NULL;
    net_timer_t *t = eddy_calloc(1, sizeof *t);
    if (!t) return NULL;
    uv_timer_init(&conn->loop->uv, &t->handle);
    t->handle.data = t;
    t->conn = conn;
    t->fn = fn;
    t->arg = arg;
    t->next = conn->timers;
    if (conn->timers) conn->timers->prev = t;
    conn->timers = t;
    uv_timer_start(&t->handle, timer_cb, ms, 0);
    return t;
}

void net_timer_stop(net_timer_t *t) {
    if (!t) return;
    timer_unlink(t);
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, timer_closed_cb);
}

int net_conn_post(net_conn_t *conn, net_conn_fn fn, void *arg) {
    net_post_t *p = eddy_malloc(sizeof *p);
    if (!p) return EDDY_ERR_NOMEM;
    p->op.kind = NET_OP_POST;
    p->conn = conn;
    p->fn = fn;
    p->arg = arg;
    net_conn_keep(conn);
    net_loop_enqueue(conn->loop, &p->op);
    return EDDY_OK;
}

void net_conn_run_post(net_post_t *p) {
    net_conn_t *conn = p->conn;
    p->fn(conn, p->arg);
    eddy_free(p);
    net_conn_release(conn);
}
