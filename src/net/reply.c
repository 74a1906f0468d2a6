/* net replies and slots: chains of memory and file pieces, their hand-off to a connection's loop
 * (in slot order or not), and the writer that drains a connection's output with sendmsg
 * (gathering up to NET_IOV_MAX pieces) and sendfile. */
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/net_int.h"

/* Room of a copy piece: small copies (headers, frames) share one allocation. */
#define NET_COPY_MIN 512

static void piece_drop(net_piece_t *p) {
    if (p->release) p->release(p->release_ctx);
    if (p->base) eddy_free(p->base);
    eddy_free(p);
}

void net_chain_drop(net_chain_t *chain) {
    for (net_piece_t *p = chain->head, *next; p; p = next) {
        next = p->next;
        piece_drop(p);
    }
    chain->head = chain->tail = NULL;
    chain->bytes = 0;
}

void net_chain_append(net_chain_t *into, net_chain_t *from) {
    if (!from->head) return;
    if (into->tail) into->tail->next = from->head;
    else into->head = from->head;
    into->tail = from->tail;
    into->bytes += from->bytes;
    from->head = from->tail = NULL;
    from->bytes = 0;
}

static void chain_push(net_chain_t *chain, net_piece_t *p) {
    p->next = NULL;
    if (chain->tail) chain->tail->next = p;
    else chain->head = p;
    chain->tail = p;
    chain->bytes += p->len;
}

/* ---- building replies ---------------------------------------------------------------------- */

net_reply_t *net_reply_new(void) { return eddy_calloc(1, sizeof(net_reply_t)); }

void net_reply_free_shell(net_reply_t *reply) { eddy_free(reply); }

void net_reply_free(net_reply_t *reply) {
    if (!reply) return;
    net_chain_drop(&reply->chain);
    eddy_free(reply);
}

uint64_t net_reply_len(const net_reply_t *reply) { return reply->chain.bytes; }
int net_reply_err(const net_reply_t *reply) { return reply->err; }

static int reply_fail(net_reply_t *reply) {
    reply->err = EDDY_ERR_NOMEM;
    return EDDY_ERR_NOMEM;
}

int net_reply_add_copy(net_reply_t *reply, const void *p, size_t n) {
    if (reply->err) return reply->err;
    if (n == 0) return EDDY_OK;
    net_piece_t *t = reply->chain.tail;
    if (t && t->cap && t->cap - t->len >= n) { /* an inline copy piece, not sent yet */
        memcpy((uint8_t *)(t + 1) + t->len, p, n);
        t->len += n;
        reply->chain.bytes += n;
        return EDDY_OK;
    }
    size_t cap = EDDY_MAX(n, NET_COPY_MIN);
    net_piece_t *piece = eddy_malloc(sizeof *piece + cap);
    if (!piece) return reply_fail(reply);
    memset(piece, 0, sizeof *piece);
    uint8_t *data = (uint8_t *)(piece + 1);
    memcpy(data, p, n);
    piece->ptr = data;
    piece->len = n;
    piece->cap = cap;
    chain_push(&reply->chain, piece);
    return EDDY_OK;
}

static int reply_add(net_reply_t *reply, const void *p, size_t n, void *base, net_release_fn release, void *ctx) {
    net_piece_t *piece = reply->err ? NULL : eddy_calloc(1, sizeof *piece);
    if (!piece) {
        if (release) release(ctx);
        eddy_free(base);
        return reply_fail(reply);
    }
    piece->ptr = p;
    piece->len = n;
    piece->base = base;
    piece->release = release;
    piece->release_ctx = ctx;
    chain_push(&reply->chain, piece);
    return EDDY_OK;
}

int net_reply_add_owned(net_reply_t *reply, void *ptr, size_t n) { return reply_add(reply, ptr, n, ptr, NULL, NULL); }

int net_reply_add_wr(net_reply_t *reply, wr_t *w) {
    if (!wr_ok(w)) {
        wr_reset(w);
        return reply_fail(reply);
    }
    if (w->len < NET_COPY_MIN) { /* small: copying beats a piece of its own */
        int rc = net_reply_add_copy(reply, w->buf, w->len);
        wr_reset(w);
        return rc;
    }
    size_t len;
    uint8_t *buf = wr_steal(w, &len);
    return reply_add(reply, buf, len, buf, NULL, NULL);
}

int net_reply_add_ref(net_reply_t *reply, const void *p, size_t n, net_release_fn release, void *ctx) {
    return reply_add(reply, p, n, NULL, release, ctx);
}

int net_reply_add_file(net_reply_t *reply, int fd, uint64_t offset, uint64_t length, net_release_fn release,
                       void *ctx) {
    int rc = reply_add(reply, NULL, 0, NULL, release, ctx);
    if (rc != EDDY_OK) return rc;
    net_piece_t *p = reply->chain.tail;
    p->is_file = 1;
    p->fd = fd;
    p->offset = offset;
    p->len = length;
    reply->chain.bytes += length;
    return EDDY_OK;
}

/* ---- handing replies to the loop ------------------------------------------------------------ */

static void out_append(net_conn_t *conn, net_chain_t *chain) {
    if (!conn->out.bytes) conn->last_write_ms = net_loop_now_ms(conn->loop);
    net_chain_append(&conn->out, chain);
}

/* A reply whose building failed cannot be sent (the framing would be wrong): close. */
static bool reply_failed(net_conn_t *conn, net_reply_t *reply) {
    if (!reply->err) return false;
    elog_warn("net", "%s: closing %s: a reply could not be built (%s)", conn->srv->name, conn->peer,
              eddy_strerror(reply->err));
    net_reply_free(reply);
    net_conn_close(conn);
    return true;
}

void net_conn_send_on_loop(net_conn_t *conn, net_reply_t *reply) {
    if (net_conn_closed(conn)) {
        net_reply_free(reply);
        return;
    }
    if (reply_failed(conn, reply)) return;
    out_append(conn, &reply->chain);
    net_reply_free_shell(reply);
    net_loop_mark_dirty(conn->loop, conn);
}

int net_conn_send(net_conn_t *conn, net_reply_t *reply) {
    if (net_conn_closed(conn)) {
        net_reply_free(reply);
        return EDDY_ERR_CLOSED;
    }
    if (net_loop_is_current(conn->loop)) {
        net_conn_send_on_loop(conn, reply);
        return EDDY_OK;
    }
    reply->conn = conn;
    reply->op.kind = NET_OP_SEND;
    net_conn_keep(conn); /* for the trip through the queue */
    net_loop_enqueue(conn->loop, &reply->op);
    return EDDY_OK;
}

/* ---- slots --------------------------------------------------------------------------------- */

net_slot_t *net_slot_reserve(net_conn_t *conn, net_slot_kind_t kind) {
    if (net_conn_closed(conn) || conn->draining) return NULL;
    net_slot_t *slot = eddy_calloc(1, sizeof *slot);
    if (!slot) return NULL;
    slot->conn = conn;
    slot->kind = (uint8_t)kind;
    atomic_init(&slot->queued, 0);
    net_conn_keep(conn);
    conn->pending++;
    if (kind == NET_SLOT_ORDERED) {
        if (conn->slots_tail) conn->slots_tail->next = slot;
        else conn->slots_head = slot;
        conn->slots_tail = slot;
    }
    return slot;
}

net_conn_t *net_slot_conn(const net_slot_t *slot) { return slot->conn; }

void net_slot_on_loop_append(net_slot_t *slot, net_reply_t *reply) {
    net_conn_t *conn = slot->conn;
    if (net_conn_closed(conn)) {
        net_reply_free(reply);
        return;
    }
    if (reply_failed(conn, reply)) return;
    if (slot->kind == NET_SLOT_UNORDERED) out_append(conn, &reply->chain);
    else net_chain_append(&slot->chain, &reply->chain);
    net_reply_free_shell(reply);
    net_loop_mark_dirty(conn->loop, conn);
}

void net_slot_on_loop_done(net_slot_t *slot) {
    net_conn_t *conn = slot->conn;
    if (slot->final) {
        net_reply_t *final = slot->final;
        slot->final = NULL;
        net_slot_on_loop_append(slot, final);
    }
    slot->done = 1;
    net_loop_mark_dirty(conn->loop, conn);
    if (slot->kind == NET_SLOT_UNORDERED) {
        conn->pending--;
        eddy_free(slot);
        net_conn_release(conn);
    }
}

static bool slot_direct(net_slot_t *slot) {
    return net_loop_is_current(slot->conn->loop) &&
           atomic_load_explicit(&slot->queued, memory_order_acquire) == 0;
}

void net_slot_complete(net_slot_t *slot, net_reply_t *reply) {
    if (slot_direct(slot)) {
        if (reply) net_slot_on_loop_append(slot, reply);
        net_slot_on_loop_done(slot);
        return;
    }
    slot->final = reply;
    slot->op.kind = NET_OP_SLOT_DONE;
    atomic_fetch_add_explicit(&slot->queued, 1, memory_order_release);
    net_loop_enqueue(slot->conn->loop, &slot->op);
}

void net_slot_cancel(net_slot_t *slot) { net_slot_complete(slot, NULL); }

int net_slot_append(net_slot_t *slot, net_reply_t *reply) {
    if (net_conn_closed(slot->conn)) {
        net_reply_free(reply);
        return EDDY_ERR_CLOSED;
    }
    if (slot_direct(slot)) {
        net_slot_on_loop_append(slot, reply);
        return EDDY_OK;
    }
    reply->slot = slot;
    reply->op.kind = NET_OP_SLOT_APPEND;
    atomic_fetch_add_explicit(&slot->queued, 1, memory_order_release);
    net_loop_enqueue(slot->conn->loop, &reply->op);
    return EDDY_OK;
}

void net_conn_collect_slots(net_conn_t *conn) {
    bool closed = net_conn_closed(conn);
    net_slot_t *s;
    while ((s = conn->slots_head)) {
        if (s->chain.head) {
            if (closed) net_chain_drop(&s->chain);
            else out_append(conn, &s->chain);
        }
        if (!s->done) break;
        conn->slots_head = s->next;
        if (!conn->slots_head) conn->slots_tail = NULL;
        conn->pending--;
        eddy_free(s);
        net_conn_release(conn);
    }
}

void net_conn_drop_slots_output(net_conn_t *conn) {
    for (net_slot_t *s = conn->slots_head; s; s = s->next) net_chain_drop(&s->chain);
}

/* ---- writing ------------------------------------------------------------------------------- */

static void out_consume(net_conn_t *conn, uint64_t n) {
    atomic_fetch_add_explicit(&conn->srv->bytes_out, n, memory_order_relaxed);
    conn->last_write_ms = net_loop_now_ms(conn->loop);
    conn->out.bytes -= n;
    while (n > 0) {
        net_piece_t *p = conn->out.head;
        if (n < p->len) {
            if (p->is_file) p->offset += n;
            else p->ptr += n;
            p->len -= n;
            /* A partly sent copy piece must not take appends (they would land after a hole). */
            p->cap = 0;
            return;
        }
        n -= p->len;
        conn->out.head = p->next;
        if (!conn->out.head) conn->out.tail = NULL;
        piece_drop(p);
    }
}

/* sendfile(2) refuses some files (EINVAL for ones without page-cache ops): read and send. */
static ssize_t send_file_by_copy(net_conn_t *conn, net_piece_t *p) {
    size_t want = (size_t)EDDY_MIN(p->len, (uint64_t)sizeof conn->loop->rbuf);
    ssize_t r = pread(p->fd, conn->loop->rbuf, want, (off_t)p->offset);
    if (r <= 0) return r == 0 ? 0 : -1;
    return send(conn->fd, conn->loop->rbuf, (size_t)r, MSG_NOSIGNAL);
}

int net_conn_write_out(net_conn_t *conn) {
    while (conn->out.head) {
        net_piece_t *p = conn->out.head;
        if (p->len == 0) {
            conn->out.head = p->next;
            if (!conn->out.head) conn->out.tail = NULL;
            piece_drop(p);
            continue;
        }
        ssize_t n;
        if (!p->is_file) {
            struct iovec iov[NET_IOV_MAX];
            int cnt = 0;
            net_piece_t *q = p;
            for (; q && cnt < NET_IOV_MAX && !q->is_file; q = q->next)
                if (q->len) iov[cnt++] = (struct iovec){(void *)q->ptr, (size_t)q->len};
            struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
            /* A file range follows: let the kernel put the header in the same packet. */
            n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL | (q && q->is_file ? MSG_MORE : 0));
        } else {
            off_t off = (off_t)p->offset;
            size_t chunk = (size_t)EDDY_MIN(p->len, (uint64_t)1 << 30);
            n = sendfile(conn->fd, p->fd, &off, chunk);
            if (n < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOVERFLOW)) n = send_file_by_copy(conn, p);
            if (n == 0) {
                elog_error("net", "%s: file range of a reply to %s ends early (fd %d, offset %llu)", conn->srv->name,
                           conn->peer, p->fd, (unsigned long long)p->offset);
                return EDDY_ERR_CORRUPT;
            }
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                conn->want_write = 1;
                return EDDY_OK;
            }
            elog_debug("net", "%s: write to %s: %s", conn->srv->name, conn->peer, strerror(errno));
            return EDDY_ERR_IO;
        }
        out_consume(conn, (uint64_t)n);
    }
    conn->want_write = 0;
    return EDDY_OK;
}
