/* net servers and their loop threads: listening sockets, the cross-thread queue (one mutex-
 * guarded FIFO and one uv_async per loop, so completions from many threads cost one wakeup),
 * the per-iteration flush of connections with new output, and the graceful stop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_int.h"

/* How many rounds of "flush dirty connections, dispatch resumed input" one callback runs before
 * leaving the rest to the next loop iteration (fairness with new I/O). */
#define NET_WORK_ROUNDS 16

bool net_loop_is_current(const net_loop_t *loop) {
    return loop->uv_ready && pthread_equal(pthread_self(), loop->self);
}

int64_t net_loop_now_ms(net_loop_t *loop) { return (int64_t)uv_now(&loop->uv); }

void net_loop_enqueue(net_loop_t *loop, net_op_t *op) {
    op->next = NULL;
    pthread_mutex_lock(&loop->qlock);
    bool was_empty = loop->qhead == NULL;
    if (loop->qtail) loop->qtail->next = op;
    else loop->qhead = op;
    loop->qtail = op;
    pthread_mutex_unlock(&loop->qlock);
    /* Whoever makes the queue non-empty wakes the loop; later pushers ride on that wakeup. */
    if (was_empty) uv_async_send(&loop->async);
}

static void loop_run_work(net_loop_t *loop);
static void loop_idle_cb(uv_idle_t *h) { loop_run_work(h->data); }

void net_loop_wake(net_loop_t *loop) {
    if (!uv_is_active((uv_handle_t *)&loop->idle)) uv_idle_start(&loop->idle, loop_idle_cb);
}

void net_loop_mark_dirty(net_loop_t *loop, net_conn_t *conn) {
    if (conn->dirty) return;
    conn->dirty = 1;
    net_conn_keep(conn);
    conn->dirty_next = loop->dirty;
    loop->dirty = conn;
    net_loop_wake(loop);
}

static void loop_close_handles(net_loop_t *loop);

/* Frees connections whose last reference went away; runs between callbacks, never inside a
 * connection's own processing. Then, when stopping and nothing is left, lets the loop exit. */
static void loop_reap(net_loop_t *loop) {
    while (loop->zombies) {
        net_conn_t *conn = loop->zombies;
        loop->zombies = conn->zombie_next;
        net_conn_free_now(conn);
    }
    if (loop->stopping && !loop->exiting && loop->live == 0) loop_close_handles(loop);
}

/* Flushes every dirty connection: finished slots move to the output, the output is written,
 * and connections back under their bounds get their buffered input dispatched (which may
 * dirty more connections: hence rounds). */
static void loop_run_work(net_loop_t *loop) {
    for (int round = 0; round < NET_WORK_ROUNDS && loop->dirty; round++) {
        net_conn_t *list = loop->dirty;
        loop->dirty = NULL;
        while (list) {
            net_conn_t *conn = list;
            list = conn->dirty_next;
            conn->dirty = 0;
            net_conn_flush(conn);
            net_conn_release(conn);
        }
    }
    if (!loop->dirty && uv_is_active((uv_handle_t *)&loop->idle)) uv_idle_stop(&loop->idle);
    loop_reap(loop);
}

static void loop_check_cb(uv_check_t *h) { loop_run_work(h->data); }

static void loop_begin_stop(net_loop_t *loop);

static void loop_async_cb(uv_async_t *h) {
    net_loop_t *loop = h->data;
    pthread_mutex_lock(&loop->qlock);
    net_op_t *op = loop->qhead;
    loop->qhead = loop->qtail = NULL;
    pthread_mutex_unlock(&loop->qlock);
    while (op) {
        net_op_t *next = op->next;
        switch (op->kind) {
        case NET_OP_SLOT_APPEND: {
            net_reply_t *reply = NET_CONTAINER(op, net_reply_t, op);
            atomic_fetch_sub_explicit(&reply->slot->queued, 1, memory_order_relaxed);
            net_slot_on_loop_append(reply->slot, reply);
            break;
        }
        case NET_OP_SLOT_DONE: {
            net_slot_t *slot = NET_CONTAINER(op, net_slot_t, op);
            atomic_fetch_sub_explicit(&slot->queued, 1, memory_order_relaxed);
            net_slot_on_loop_done(slot);
            break;
        }
        case NET_OP_SEND: {
            net_reply_t *reply = NET_CONTAINER(op, net_reply_t, op);
            net_conn_t *conn = reply->conn;
            net_conn_send_on_loop(conn, reply);
            net_conn_release(conn); /* the reference net_conn_send took for the trip */
            break;
        }
        case NET_OP_POST: net_conn_run_post(NET_CONTAINER(op, net_post_t, op)); break;
        case NET_OP_CONN_FREE: {
            net_conn_t *conn = NET_CONTAINER(op, net_conn_t, free_op);
            conn->zombie_next = loop->zombies;
            loop->zombies = conn;
            break;
        }
        case NET_OP_CONN_RESUME: {
            net_conn_t *conn = NET_CONTAINER(op, net_conn_t, resume_op);
            /* Cleared first: a resume asked for after this point queues the op again. */
            atomic_store_explicit(&conn->resume_queued, false, memory_order_release);
            net_conn_resume_on_loop(conn);
            net_conn_release(conn);
            break;
        }
        case NET_OP_LOOP_STOP: loop_begin_stop(loop); break;
        }
        op = next;
    }
    loop_run_work(loop);
}

static void loop_sweep_cb(uv_timer_t *h) {
    net_loop_t *loop = h->data;
    int64_t now = net_loop_now_ms(loop);
    for (net_conn_t *conn = loop->conns, *next; conn; conn = next) {
        next = conn->next;
        net_conn_sweep(conn, now);
    }
    loop_run_work(loop);
}

static void loop_accept_retry_cb(uv_timer_t *h) {
    net_loop_t *loop = h->data;
    for (size_t i = 0; i < loop->naccepts; i++) {
        net_accept_t *a = &loop->accepts[i];
        if (!a->active && !loop->stopping) {
            uv_poll_start(&a->poll, UV_READABLE, net_accept_cb);
            a->active = 1;
        }
    }
}

void net_loop_pause_accepts(net_loop_t *loop) {
    for (size_t i = 0; i < loop->naccepts; i++) {
        net_accept_t *a = &loop->accepts[i];
        if (a->active) uv_poll_stop(&a->poll);
        a->active = 0;
    }
    uv_timer_start(&loop->accept_retry, loop_accept_retry_cb, 100, 0);
}

static void loop_drain_cb(uv_timer_t *h) {
    net_loop_t *loop = h->data;
    for (net_conn_t *conn = loop->conns, *next; conn; conn = next) {
        next = conn->next;
        net_conn_close(conn);
    }
    loop_run_work(loop);
}

static void accept_closed_cb(uv_handle_t *h) {
    net_accept_t *a = NET_CONTAINER(h, net_accept_t, poll);
    close(a->fd);
    a->fd = -1;
}

/* Stop accepting; connections with nothing in flight close now, the others once their slots
 * are written, and all of them at the drain deadline. */
static void loop_begin_stop(net_loop_t *loop) {
    loop->stopping = true;
    for (size_t i = 0; i < loop->naccepts; i++) {
        net_accept_t *a = &loop->accepts[i];
        if (a->fd >= 0 && !uv_is_closing((uv_handle_t *)&a->poll))
            uv_close((uv_handle_t *)&a->poll, accept_closed_cb);
    }
    uv_timer_stop(&loop->accept_retry);
    for (net_conn_t *conn = loop->conns, *next; conn; conn = next) {
        next = conn->next;
        net_conn_close_after_flush(conn);
    }
    uv_timer_start(&loop->drain, loop_drain_cb, loop->drain_ms, 0);
    loop_run_work(loop);
}

static void loop_close_handles(net_loop_t *loop) {
    loop->exiting = true;
    uv_handle_t *handles[] = {(uv_handle_t *)&loop->async, (uv_handle_t *)&loop->check,
                              (uv_handle_t *)&loop->idle,  (uv_handle_t *)&loop->sweep,
                              (uv_handle_t *)&loop->drain, (uv_handle_t *)&loop->accept_retry};
    for (size_t i = 0; i < EDDY_ARRAY_LEN(handles); i++)
        if (!uv_is_closing(handles[i])) uv_close(handles[i], NULL);
}

static void *loop_thread_main(void *arg) {
    net_loop_t *loop = arg;
    net_server_t *srv = loop->srv;
    loop->self = pthread_self();
    int rc = uv_loop_init(&loop->uv);
    if (rc == 0) {
        loop->uv_ready = true;
        uv_async_init(&loop->uv, &loop->async, loop_async_cb);
        uv_check_init(&loop->uv, &loop->check);
        uv_idle_init(&loop->uv, &loop->idle);
        uv_timer_init(&loop->uv, &loop->sweep);
        uv_timer_init(&loop->uv, &loop->drain);
        uv_timer_init(&loop->uv, &loop->accept_retry);
        loop->async.data = loop->check.data = loop->idle.data = loop;
        loop->sweep.data = loop->drain.data = loop->accept_retry.data = loop;
        uv_check_start(&loop->check, loop_check_cb);
        uv_timer_start(&loop->sweep, loop_sweep_cb, 1000, 1000);
        uv_unref((uv_handle_t *)&loop->sweep);
        for (size_t i = 0; i < srv->nlisteners; i++) {
            net_accept_t *a = &loop->accepts[i];
            a->loop = loop;
            a->fd = dup(srv->listeners[i].fd);
            if (a->fd < 0 || uv_poll_init(&loop->uv, &a->poll, a->fd) != 0) {
                if (a->fd >= 0) close(a->fd);
                a->fd = -1;
                rc = UV_EMFILE;
                break;
            }
            a->poll.data = a;
            uv_poll_start(&a->poll, UV_READABLE, net_accept_cb);
            a->active = 1;
            loop->naccepts++;
        }
    }
    loop->start_err = rc;
    sem_post(&loop->ready);
    if (!loop->uv_ready) return NULL;
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop->uv) != 0) elog_warn("net", "%s: loop %d closed with handles left", srv->name, loop->index);
    return NULL;
}

/* ---- servers ------------------------------------------------------------------------------- */

static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) elog_warn("net", "cannot raise the open-file limit: %s", strerror(errno));
    }
}

/* A write to a socket the peer closed must be an EPIPE error, not a process-killing signal. */
static void ignore_sigpipe(void) {
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}

int net_server_new(const net_server_opts_t *opts, net_server_t **out, char *errstr, size_t errlen) {
    *out = NULL;
    if (!opts->proto || !opts->proto->on_data)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "net server needs a protocol with on_data");
    net_server_t *srv = eddy_calloc(1, sizeof *srv);
    if (!srv) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    srv->opts = *opts;
    snprintf(srv->name, sizeof srv->name, "%s", opts->name ? opts->name : "net");
    net_server_opts_t *o = &srv->opts;
    if (o->threads <= 0) o->threads = 1;
    if (!o->max_conns) o->max_conns = 10000;
    if (!o->max_input) o->max_input = 1 << 20;
    if (!o->out_high) o->out_high = 1 << 20;
    if (!o->out_max) o->out_max = 64u << 20;
    if (o->out_max < o->out_high) o->out_max = o->out_high;
    if (!o->max_pending) o->max_pending = 256;
    if (!o->write_timeout_ms) o->write_timeout_ms = 60000;
    if (o->backlog <= 0) o->backlog = 1024;
    srv->nloops = o->threads;
    srv->loops = eddy_calloc((size_t)srv->nloops, sizeof *srv->loops);
    if (!srv->loops) goto nomem;
    for (int i = 0; i < srv->nloops; i++) {
        net_loop_t *loop = eddy_calloc(1, sizeof *loop);
        if (!loop) goto nomem;
        srv->loops[i] = loop;
        loop->srv = srv;
        loop->index = i;
        pthread_mutex_init(&loop->qlock, NULL);
        sem_init(&loop->ready, 0, 0);
        loop->stop_op.kind = NET_OP_LOOP_STOP;
    }
    raise_fd_limit();
    ignore_sigpipe();
    *out = srv;
    return EDDY_OK;
nomem:
    net_server_free(srv);
    return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
}

static void format_addr(const struct sockaddr_storage *ss, net_listener_t *l) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        l->port = ntohs(a->sin6_port);
        snprintf(l->addr, sizeof l->addr, "[%s]:%d", host, l->port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        l->port = ntohs(a->sin_port);
        snprintf(l->addr, sizeof l->addr, "%s:%d", host, l->port);
    }
    memcpy(l->host, host, sizeof l->host < sizeof host ? sizeof l->host : sizeof host);
    l->host[sizeof l->host - 1] = 0;
}

/* One listening socket per address, shared by every loop thread (each polls its own dup).
 * SO_REUSEPORT would spread accepts more evenly, but it would also let a second eddy on the
 * same port silently share it; with one socket a second bind fails with "address in use". */
int net_server_listen(net_server_t *srv, const char *hostport, char *errstr, size_t errlen) {
    if (srv->started) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s: listen after start", srv->name);
    if (srv->nlisteners == NET_MAX_LISTENERS)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s: at most %d listeners", srv->name, NET_MAX_LISTENERS);
    char host[256];
    int port;
    if (base_parse_hostport(hostport, host, sizeof host, &port) != EDDY_OK || port < 0 || port > 65535)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s: listener '%s' is not HOST:PORT", srv->name, hostport);
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
    if (gai != 0)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s: cannot resolve '%s': %s", srv->name, host, gai_strerror(gai));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = EDDY_OK;
    if (fd < 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "%s: socket: %s", srv->name, strerror(errno));
        goto err;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "%s: cannot listen on %s: %s", srv->name, hostport, strerror(errno));
        goto err;
    }
    if (listen(fd, srv->opts.backlog) != 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "%s: listen on %s: %s", srv->name, hostport, strerror(errno));
        goto err;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "%s: getsockname: %s", srv->name, strerror(errno));
        goto err;
    }
    net_listener_t *l = &srv->listeners[srv->nlisteners++];
    l->fd = fd;
    format_addr(&ss, l);
    freeaddrinfo(res);
    return EDDY_OK;
err:
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
    return rc;
}

int net_server_start(net_server_t *srv, char *errstr, size_t errlen) {
    if (srv->started) return EDDY_OK;
    srv->started = true;
    for (int i = 0; i < srv->nloops; i++) {
        net_loop_t *loop = srv->loops[i];
        if (pthread_create(&loop->thread, NULL, loop_thread_main, loop) != 0) {
            net_server_stop(srv, 0);
            return eddy_err(errstr, errlen, EDDY_ERR_IO, "%s: cannot start a loop thread", srv->name);
        }
        loop->started = true;
        sem_wait(&loop->ready);
        if (loop->start_err != 0) {
            int e = loop->start_err;
            net_server_stop(srv, 0);
            return eddy_err(errstr, errlen, EDDY_ERR_IO, "%s: loop start: %s", srv->name, uv_strerror(e));
        }
    }
    elog_debug("net", "%s: %d loop thread(s), %zu listener(s)", srv->name, srv->nloops, srv->nlisteners);
    return EDDY_OK;
}

size_t net_server_listener_count(const net_server_t *srv) { return srv->nlisteners; }

int net_server_listener_addr(const net_server_t *srv, size_t i, char *out, size_t outlen) {
    if (i >= srv->nlisteners) return EDDY_ERR_RANGE;
    const char *a = srv->listeners[i].addr;
    size_t n = EDDY_MIN(strlen(a), outlen ? outlen - 1 : 0);
    if (outlen) {
        memcpy(out, a, n);
        out[n] = 0;
    }
    return EDDY_OK;
}

int net_server_listener_port(const net_server_t *srv, size_t i, char *host, size_t hostlen, int *port) {
    if (i >= srv->nlisteners) return EDDY_ERR_RANGE;
    if (host && hostlen) {
        const char *h = srv->listeners[i].host;
        size_t n = EDDY_MIN(strlen(h), hostlen - 1);
        memcpy(host, h, n);
        host[n] = 0;
    }
    if (port) *port = srv->listeners[i].port;
    return EDDY_OK;
}

void net_server_stop(net_server_t *srv, uint64_t drain_ms) {
    if (!srv || srv->stopped) return;
    srv->stopped = true;
    for (int i = 0; i < srv->nloops; i++) {
        net_loop_t *loop = srv->loops[i];
        if (!loop->started) continue;
        loop->drain_ms = drain_ms;
        if (loop->uv_ready) net_loop_enqueue(loop, &loop->stop_op);
    }
    /* The loops close their dups as they begin stopping; with these gone too the kernel
     * refuses new connections instead of queueing them for nobody. */
    for (size_t i = 0; i < srv->nlisteners; i++) {
        close(srv->listeners[i].fd);
        srv->listeners[i].fd = -1;
    }
    for (int i = 0; i < srv->nloops; i++) {
        net_loop_t *loop = srv->loops[i];
        if (loop->started) pthread_join(loop->thread, NULL);
    }
    net_server_stats_t st;
    net_server_stats(srv, &st);
    elog_debug("net", "%s stopped: %llu connections served", srv->name, (unsigned long long)st.conns_accepted);
}

void net_server_free(net_server_t *srv) {
    if (!srv) return;
    if (srv->started) net_server_stop(srv, 5000);
    else
        for (size_t i = 0; i < srv->nlisteners; i++)
            if (srv->listeners[i].fd >= 0) close(srv->listeners[i].fd);
    for (int i = 0; srv->loops && i < srv->nloops; i++) {
        net_loop_t *loop = srv->loops[i];
        if (!loop) continue;
        pthread_mutex_destroy(&loop->qlock);
        sem_destroy(&loop->ready);
        eddy_free(loop);
    }
    eddy_free(srv->loops);
    eddy_free(srv);
}

void net_server_stats(const net_server_t *srv, net_server_stats_t *out) {
    net_server_t *s = (net_server_t *)srv;
    out->conns_open = atomic_load_explicit(&s->conns_open, memory_order_relaxed);
    out->conns_accepted = atomic_load_explicit(&s->conns_accepted, memory_order_relaxed);
    out->conns_refused = atomic_load_explicit(&s->conns_refused, memory_order_relaxed);
    out->conns_closed_slow = atomic_load_explicit(&s->conns_closed_slow, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&s->bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&s->bytes_out, memory_order_relaxed);
    out->read_pauses = atomic_load_explicit(&s->read_pauses, memory_order_relaxed);
}
