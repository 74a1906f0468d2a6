/* net unit tests: a small length-prefixed protocol served by a real net server on 127.0.0.1:0,
 * driven by blocking client sockets in the test thread. Frames are u32 length, u8 op, u32 id,
 * payload; replies are u32 length, u32 id, payload. Ops pick how the server answers (at once,
 * from another thread, unordered, cancelled, by file range, streamed, by timer, by post). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "test.h"

#define MAX_HELD 4096

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    net_slot_t *held[MAX_HELD]; /* slots the test thread completes */
    uint32_t held_ids[MAX_HELD];
    int nheld;
    int opens, closes;
    int file_fd;
    int releases;            /* file and ref release hooks that ran */
    size_t big_reply;        /* bytes of an 'B' reply */
    int echoes;              /* 'E' frames handled */
    net_conn_t *paused;      /* the connection a 'P' frame paused (a reference is held) */
} proto_ctx_t;

static net_reply_t *make_reply(uint32_t id, const void *payload, size_t n) {
    net_reply_t *r = net_reply_new();
    uint8_t hdr[8];
    store_u32(hdr, (uint32_t)(4 + n));
    store_u32(hdr + 4, id);
    net_reply_add_copy(r, hdr, sizeof hdr);
    net_reply_add_copy(r, payload, n);
    return r;
}

static void hold(proto_ctx_t *c, net_slot_t *slot, uint32_t id) {
    pthread_mutex_lock(&c->mu);
    c->held_ids[c->nheld] = id;
    c->held[c->nheld++] = slot;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void on_release(void *arg) {
    proto_ctx_t *c = arg;
    pthread_mutex_lock(&c->mu);
    c->releases++;
    pthread_mutex_unlock(&c->mu);
}

typedef struct {
    net_slot_t *slot;
    uint32_t id;
} pending_t;

static void timer_fire(net_conn_t *conn, void *arg) {
    pending_t *p = arg;
    net_slot_complete(p->slot, make_reply(p->id, "timer", 5));
    free(p);
}

static void post_fire(net_conn_t *conn, void *arg) {
    pending_t *p = arg;
    net_slot_complete(p->slot, make_reply(p->id, net_conn_closed(conn) ? "closed" : "posted", 6));
    free(p);
}

static int t_open(net_conn_t *conn) {
    proto_ctx_t *c = net_conn_ctx(conn);
    pthread_mutex_lock(&c->mu);
    c->opens++;
    pthread_mutex_unlock(&c->mu);
    return EDDY_OK;
}

static void never(net_conn_t *conn, void *arg) { abort(); }

static void t_close(net_conn_t *conn) {
    proto_ctx_t *c = net_conn_ctx(conn);
    net_timer_t *t = net_conn_data(conn);
    if (t) net_timer_stop(t); /* allowed in on_close: net stopped it, the protocol frees it */
    pthread_mutex_lock(&c->mu);
    c->closes++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static ssize_t t_data(net_conn_t *conn, const uint8_t *data, size_t len) {
    proto_ctx_t *c = net_conn_ctx(conn);
    if (len < 4) return 0;
    uint32_t n = load_u32(data);
    if (n < 5) return EDDY_ERR_CORRUPT;
    if (net_conn_expect(conn, 4 + (size_t)n) != EDDY_OK) return EDDY_ERR_TOO_LARGE;
    if (len < 4 + (size_t)n) return 0;
    uint8_t op = data[4];
    uint32_t id = load_u32(data + 5);
    const uint8_t *payload = data + 9;
    size_t plen = n - 5;
    switch (op) {
    case 'E':
        pthread_mutex_lock(&c->mu);
        c->echoes++;
        pthread_mutex_unlock(&c->mu);
        net_slot_complete(net_slot_reserve(conn, NET_SLOT_ORDERED), make_reply(id, payload, plen));
        break;
    case 'P': /* answer, then stop taking input until the test thread resumes the connection */
        net_slot_complete(net_slot_reserve(conn, NET_SLOT_ORDERED), make_reply(id, "p", 1));
        net_conn_pause(conn);
        net_conn_pause(conn); /* idempotent */
        if (!c->paused) {
            net_conn_keep(conn);
            c->paused = conn;
        }
        break;
    case 'A': hold(c, net_slot_reserve(conn, NET_SLOT_ORDERED), id); break;
    case 'U': hold(c, net_slot_reserve(conn, NET_SLOT_UNORDERED), id); break;
    case 'C': net_slot_cancel(net_slot_reserve(conn, NET_SLOT_ORDERED)); break;
    case 'F': { /* 8-byte header, then bytes [10, 20) of the file */
        net_reply_t *r = net_reply_new();
        uint8_t hdr[8];
        store_u32(hdr, 15);
        store_u32(hdr + 4, id);
        net_reply_add_copy(r, hdr, 8);
        net_reply_add_file(r, c->file_fd, 10, 10, on_release, c);
        net_reply_add_ref(r, "!", 1, on_release, c);
        net_slot_complete(net_slot_reserve(conn, NET_SLOT_ORDERED), r);
        break;
    }
    case 'B': { /* a big reply, plain send */
        uint8_t *big = eddy_malloc(c->big_reply);
        memset(big, 'x', c->big_reply);
        net_reply_t *r = net_reply_new();
        uint8_t hdr[8];
        store_u32(hdr, (uint32_t)(4 + c->big_reply));
        store_u32(hdr + 4, id);
        net_reply_add_copy(r, hdr, 8);
        net_reply_add_owned(r, big, c->big_reply);
        net_slot_complete(net_slot_reserve(conn, NET_SLOT_ORDERED), r);
        break;
    }
    case 'T': {
        pending_t *p = malloc(sizeof *p);
        p->slot = net_slot_reserve(conn, NET_SLOT_ORDERED);
        p->id = id;
        net_timer_start(conn, 5, timer_fire, p);
        break;
    }
    case 'X': net_conn_close_after_flush(conn); break;
    case 'W': /* a timer that the connection's close must stop */
        if (!net_conn_data(conn)) net_conn_set_data(conn, net_timer_start(conn, 60000, never, NULL));
        net_slot_complete(net_slot_reserve(conn, NET_SLOT_ORDERED), make_reply(id, "w", 1));
        break;
    default: return EDDY_ERR_CORRUPT;
    }
    return 4 + (ssize_t)n;
}

static const net_proto_t test_proto = {t_open, t_data, t_close};

/* ---- client side ------------------------------------------------------------------------- */

/* rcvbuf > 0 sets a small receive buffer; it must be set before connect (a window that shrinks
 * after the handshake makes TCP drop and retransmit with growing backoff). */
static int client_connect_rcvbuf(net_server_t *srv, int rcvbuf) {
    char host[64];
    int port;
    if (net_server_listener_port(srv, 0, host, sizeof host, &port) != EDDY_OK) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int client_connect(net_server_t *srv) { return client_connect_rcvbuf(srv, 0); }

static void send_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        b += w;
        n -= (size_t)w;
    }
}

static size_t frame(uint8_t *out, char op, uint32_t id, const char *payload) {
    size_t plen = payload ? strlen(payload) : 0;
    store_u32(out, (uint32_t)(5 + plen));
    out[4] = (uint8_t)op;
    store_u32(out + 5, id);
    if (plen) memcpy(out + 9, payload, plen);
    return 9 + plen;
}

static void send_frame(int fd, char op, uint32_t id, const char *payload) {
    uint8_t buf[256];
    send_all(fd, buf, frame(buf, op, id, payload));
}

static bool recv_all(int fd, void *p, size_t n) {
    uint8_t *b = p;
    while (n) {
        ssize_t r = recv(fd, b, n, 0);
        if (r <= 0) return false;
        b += r;
        n -= (size_t)r;
    }
    return true;
}

/* Reads one reply: its id and payload (NUL-terminated into out). */
static bool recv_reply(int fd, uint32_t *id, char *out, size_t outlen) {
    uint8_t hdr[8];
    if (!recv_all(fd, hdr, 8)) return false;
    size_t n = load_u32(hdr) - 4;
    *id = load_u32(hdr + 4);
    char *tmp = malloc(n + 1);
    bool ok = recv_all(fd, tmp, n);
    tmp[n] = 0;
    if (out) snprintf(out, outlen, "%s", tmp);
    free(tmp);
    return ok;
}

static bool peer_closed(int fd) {
    char b;
    return recv(fd, &b, 1, 0) == 0;
}

static net_server_t *start_server(proto_ctx_t *c, net_server_opts_t *o) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->file_fd = -1;
    o->name = "test";
    o->proto = &test_proto;
    o->ctx = c;
    net_server_t *srv = NULL;
    char err[256];
    if (net_server_new(o, &srv, err, sizeof err) != EDDY_OK) return NULL;
    if (net_server_listen(srv, "127.0.0.1:0", err, sizeof err) != EDDY_OK ||
        net_server_start(srv, err, sizeof err) != EDDY_OK) {
        printf("# %s\n", err);
        net_server_free(srv);
        return NULL;
    }
    return srv;
}

static void wait_held(proto_ctx_t *c, int n) {
    pthread_mutex_lock(&c->mu);
    while (c->nheld < n) pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void wait_closes(proto_ctx_t *c, int n) {
    pthread_mutex_lock(&c->mu);
    while (c->closes < n) pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void stop_server(net_server_t *srv, proto_ctx_t *c) {
    net_server_free(srv);
    if (c->file_fd >= 0) close(c->file_fd);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

/* ---- tests ------------------------------------------------------------------------------- */

TEST(net_listen_port0_and_echo_with_partial_reads) {
    proto_ctx_t c;
    net_server_opts_t o = {0};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    char addr[80];
    REQUIRE_OK(net_server_listener_addr(srv, 0, addr, sizeof addr));
    CHECK(strncmp(addr, "127.0.0.1:", 10) == 0 && atoi(addr + 10) > 0);
    CHECK(net_server_listener_addr(srv, 1, addr, sizeof addr) == EDDY_ERR_RANGE);
    int fd = client_connect(srv);
    REQUIRE(fd >= 0);
    /* Two frames sent one byte at a time: the decoder sees every split point. */
    uint8_t buf[512];
    size_t n = frame(buf, 'E', 1, "hello");
    n += frame(buf + n, 'E', 2, "world, a longer payload");
    for (size_t i = 0; i < n; i++) {
        send_all(fd, buf + i, 1);
        if (i % 7 == 0) usleep(200);
    }
    uint32_t id;
    char out[128];
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 1);
    CHECK_EQ_STR(out, "hello");
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 2);
    CHECK_EQ_STR(out, "world, a longer payload");
    close(fd);
    wait_closes(&c, 1);
    CHECK_EQ_INT(c.opens, 1);
    stop_server(srv, &c);
}

/* Pipelined requests completed by another thread in reverse order come back in request order;
 * unordered slots come back in completion order; a cancelled slot sends nothing. */
TEST(net_ordered_slots_completed_from_another_thread) {
    proto_ctx_t c;
    net_server_opts_t o = {0};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    int fd = client_connect(srv);
    REQUIRE(fd >= 0);
    enum { N = 50 };
    for (uint32_t i = 0; i < N; i++) {
        if (i == 10) send_frame(fd, 'C', 1000, NULL);
        if (i == 20) send_frame(fd, 'E', 2000, "sync");
        send_frame(fd, 'A', i, NULL);
    }
    wait_held(&c, N);
    for (int i = N - 1; i >= 0; i--) {
        char p[32];
        snprintf(p, sizeof p, "r%u", c.held_ids[i]);
        net_slot_complete(c.held[i], make_reply(c.held_ids[i], p, strlen(p)));
    }
    uint32_t expect = 0;
    for (int i = 0; i < N + 1; i++) {
        uint32_t id;
        char out[32];
        REQUIRE(recv_reply(fd, &id, out, sizeof out));
        if (i == 20) {
            CHECK_EQ_INT(id, 2000);
            continue;
        }
        CHECK_EQ_INT(id, expect);
        expect++;
    }
    /* Unordered: completed 2, 1, 0 -> arrive 2, 1, 0. */
    c.nheld = 0;
    for (uint32_t i = 0; i < 3; i++) send_frame(fd, 'U', i, NULL);
    wait_held(&c, 3);
    for (int i = 2; i >= 0; i--) {
        net_slot_complete(c.held[i], make_reply(c.held_ids[i], "u", 1));
        uint32_t id;
        REQUIRE(recv_reply(fd, &id, NULL, 0));
        CHECK_EQ_INT(id, (uint32_t)i);
    }
    close(fd);
    stop_server(srv, &c);
}

typedef struct {
    proto_ctx_t *c;
    int from, to;
} completer_t;

static void *complete_range(void *arg) {
    completer_t *w = arg;
    for (int i = w->to - 1; i >= w->from; i--) {
        net_slot_t *s = w->c->held[i];
        if (i % 3 == 0) { /* stream a piece before the end */
            uint8_t hdr[8];
            store_u32(hdr, 6);
            store_u32(hdr + 4, w->c->held_ids[i]);
            net_reply_t *r = net_reply_new();
            net_reply_add_copy(r, hdr, 8);
            net_reply_add_copy(r, "s", 1);
            net_slot_append(s, r);
            r = net_reply_new();
            net_reply_add_copy(r, "t", 1);
            net_slot_complete(s, r);
        } else {
            net_slot_complete(s, make_reply(w->c->held_ids[i], "ok", 2));
        }
    }
    return NULL;
}

/* Many completing threads at once, with streamed slots: still in order, nothing lost. */
TEST(net_slots_from_many_threads_and_streaming) {
    proto_ctx_t c;
    net_server_opts_t o = {.threads = 2};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    int fd = client_connect(srv);
    REQUIRE(fd >= 0);
    enum { N = 200, W = 4 };
    for (uint32_t i = 0; i < N; i++) send_frame(fd, 'A', i, NULL);
    wait_held(&c, N);
    pthread_t th[W];
    completer_t w[W];
    for (int i = 0; i < W; i++) {
        w[i] = (completer_t){&c, i * N / W, (i + 1) * N / W};
        pthread_create(&th[i], NULL, complete_range, &w[i]);
    }
    for (uint32_t i = 0; i < N; i++) {
        uint32_t id;
        char out[16];
        REQUIRE(recv_reply(fd, &id, out, sizeof out));
        CHECK_EQ_INT(id, i);
        CHECK_EQ_STR(out, i % 3 == 0 ? "st" : "ok");
    }
    for (int i = 0; i < W; i++) pthread_join(th[i], NULL);
    close(fd);
    stop_server(srv, &c);
}

TEST(net_file_ranges_timers_and_posts) {
    proto_ctx_t c;
    net_server_opts_t o = {0};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    char path[512];
    snprintf(path, sizeof path, "%s/seg", test_tmpdir());
    c.file_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(c.file_fd >= 0);
    REQUIRE(write(c.file_fd, "0123456789abcdefghijKLMNOP", 26) == 26);
    int fd = client_connect(srv);
    REQUIRE(fd >= 0);
    send_frame(fd, 'W', 6, NULL);
    send_frame(fd, 'T', 7, NULL);
    send_frame(fd, 'F', 8, NULL);
    uint32_t id;
    char out[64];
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 6);
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 7);
    CHECK_EQ_STR(out, "timer");
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 8);
    CHECK_EQ_STR(out, "abcdefghij!");
    /* net_conn_post from another thread completes a held slot on the loop. */
    send_frame(fd, 'A', 9, NULL);
    wait_held(&c, 1);
    pending_t *p = malloc(sizeof *p);
    p->slot = c.held[0];
    p->id = 9;
    CHECK_OK(net_conn_post(net_slot_conn(p->slot), post_fire, p));
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 9);
    CHECK_EQ_STR(out, "posted");
    close(fd);
    wait_closes(&c, 1);
    stop_server(srv, &c);
    CHECK_EQ_INT(c.releases, 2);
}

typedef struct {
    int fd;
    const uint8_t *p;
    size_t n;
} tail_t;

static void *send_tail(void *arg) {
    tail_t *t = arg;
    send_all(t->fd, t->p, t->n);
    return NULL;
}

/* A client that sends and never reads: the server stops reading once its output passes
 * out_high, so queued memory stays bounded; reading everything later gets every reply. */
TEST(net_backpressure_pauses_reading) {
    proto_ctx_t c;
    net_server_opts_t o = {.out_high = 64 * 1024};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    c.big_reply = 16 * 1024;
    int fd = client_connect_rcvbuf(srv, 4096);
    REQUIRE(fd >= 0);
    char *big = malloc(c.big_reply + 1);
    /* Non-blocking sends until the server stops reading and every buffer is full. */
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    /* Requests padded to 1 KiB, so that the kernel buffers hold a few hundred, not thousands. */
    uint32_t sent = 0;
    uint64_t bytes_sent = 0;
    static uint8_t buf[9 + 1024];
    size_t n = sizeof buf;
    store_u32(buf, (uint32_t)(n - 4));
    buf[4] = 'B';
    memset(buf + 9, 'p', 1024);
    size_t off = 0;
    for (int idle = 0; idle < 200 && sent < 5000;) {
        if (off == 0) store_u32(buf + 5, sent);
        ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            bytes_sent += (uint64_t)w;
            if (off == n) {
                off = 0;
                sent++;
            }
            idle = 0;
        } else {
            usleep(1000);
            idle++;
        }
    }
    net_server_stats_t st;
    net_server_stats(srv, &st);
    CHECK(st.read_pauses > 0);
    /* The server stopped reading: requests are waiting in the socket buffers. */
    CHECK(st.bytes_in < bytes_sent);
    fcntl(fd, F_SETFL, fl);
    /* The rest of a partly sent frame goes from another thread: this one must read first, or
     * client and server would each wait for the other. */
    pthread_t th;
    tail_t tail = {fd, buf + off, n - off};
    if (off) {
        pthread_create(&th, NULL, send_tail, &tail);
        sent++;
    }
    for (uint32_t i = 0; i < sent; i++) {
        uint32_t id;
        uint8_t hdr[8];
        REQUIRE(recv_all(fd, hdr, 8));
        id = load_u32(hdr + 4);
        REQUIRE(recv_all(fd, big, c.big_reply));
        CHECK_EQ_INT(id, i);
        if (id != i) break;
    }
    free(big);
    if (off) pthread_join(th, NULL);
    close(fd);
    stop_server(srv, &c);
}

/* A protocol pauses a connection on its loop and another thread resumes it: input that came
 * with the pausing frame (and anything sent later) waits, then is handled in order. */
TEST(net_pause_and_resume_from_another_thread) {
    proto_ctx_t c;
    net_server_opts_t o = {0};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    int fd = client_connect(srv);
    REQUIRE(fd >= 0);
    uint8_t buf[512];
    size_t n = frame(buf, 'P', 1, NULL);
    n += frame(buf + n, 'E', 2, "held");
    send_all(fd, buf, n);
    uint32_t id;
    char out[64];
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 1);
    /* The echo was handed to on_data in the same call as the pause, or not read yet: either
     * way it was not handled before the pause's answer went out. */
    pthread_mutex_lock(&c.mu);
    int echoes = c.echoes;
    pthread_mutex_unlock(&c.mu);
    CHECK_EQ_INT(echoes, 0);
    send_frame(fd, 'E', 3, "later");
    REQUIRE(c.paused);
    net_conn_resume(c.paused);
    net_conn_resume(c.paused); /* idempotent, from any thread */
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 2);
    CHECK_EQ_STR(out, "held");
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 3);
    CHECK_EQ_STR(out, "later");
    /* Paused again, then closed by the peer while paused: resuming a closed connection is a
     * no-op, and the held reference keeps its memory valid. */
    net_conn_t *first = c.paused;
    send_frame(fd, 'P', 4, NULL);
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 4);
    close(fd);
    net_conn_resume(first);
    wait_closes(&c, 1);
    net_conn_resume(first);
    CHECK(net_conn_closed(first));
    net_conn_release(first);
    stop_server(srv, &c);
}

/* A reader that never reads while its output grows past out_max is closed. */
TEST(net_slow_reader_closed_at_out_max) {
    proto_ctx_t c;
    net_server_opts_t o = {.out_high = 32 * 1024, .out_max = 256 * 1024};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    c.big_reply = 32u << 20; /* one reply passes out_max even after the kernel buffers fill */
    int fd = client_connect_rcvbuf(srv, 4096);
    REQUIRE(fd >= 0);
    send_frame(fd, 'B', 1, NULL);
    wait_closes(&c, 1);
    net_server_stats_t st;
    net_server_stats(srv, &st);
    CHECK_EQ_INT(st.conns_closed_slow, 1);
    close(fd);
    stop_server(srv, &c);
}

TEST(net_connection_cap_and_oversized_message) {
    proto_ctx_t c;
    net_server_opts_t o = {.max_conns = 3, .max_input = 1024};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    int fds[5];
    for (int i = 0; i < 5; i++) {
        fds[i] = client_connect(srv);
        REQUIRE(fds[i] >= 0);
    }
    int closed = 0, served = 0;
    for (int i = 0; i < 5; i++) {
        send_frame(fds[i], 'E', (uint32_t)i, "x");
        uint32_t id;
        if (recv_reply(fds[i], &id, NULL, 0)) served++;
        else closed++;
    }
    CHECK_EQ_INT(served, 3);
    CHECK_EQ_INT(closed, 2);
    net_server_stats_t st;
    net_server_stats(srv, &st);
    CHECK_EQ_INT(st.conns_refused, 2);
    /* A frame announcing more than max_input closes the connection. */
    uint8_t hdr[4];
    store_u32(hdr, 5000);
    send_all(fds[0], hdr, 4);
    CHECK(peer_closed(fds[0]));
    for (int i = 0; i < 5; i++) close(fds[i]);
    stop_server(srv, &c);
}

/* Slots outlive their connection: completing them after the client left must neither write
 * nor touch freed memory (ASan checks), and the server stop waits for them. */
TEST(net_deferred_free_after_close) {
    proto_ctx_t c;
    net_server_opts_t o = {0};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    int fd = client_connect(srv);
    REQUIRE(fd >= 0);
    for (uint32_t i = 0; i < 5; i++) send_frame(fd, i % 2 ? 'U' : 'A', i, NULL);
    wait_held(&c, 5);
    /* A reset, not a FIN: after a FIN net would still answer (half-close), after a reset the
     * connection closes at once with the slots pending. */
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    wait_closes(&c, 1);
    CHECK(net_conn_closed(net_slot_conn(c.held[0])));
    net_reply_t *r = make_reply(0, "late", 4);
    CHECK_EQ_INT(net_slot_append(c.held[0], r), EDDY_ERR_CLOSED);
    for (int i = 0; i < 5; i++) net_slot_complete(c.held[i], make_reply(c.held_ids[i], "late", 4));
    stop_server(srv, &c);
}

static void *stop_thread(void *arg) {
    net_server_stop(arg, 10000);
    return NULL;
}

/* Graceful stop: a reply still pending when the stop begins is written before the close. */
TEST(net_graceful_stop_drains) {
    proto_ctx_t c;
    net_server_opts_t o = {0};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    int fd = client_connect(srv);
    REQUIRE(fd >= 0);
    send_frame(fd, 'A', 42, NULL);
    wait_held(&c, 1);
    /* Stop on another thread; once the listener refuses connections the stop has begun, and
     * the slot is completed only then. */
    pthread_t th;
    pthread_create(&th, NULL, stop_thread, srv);
    for (;;) {
        int probe = client_connect(srv);
        if (probe < 0) break;
        close(probe);
        usleep(1000);
    }
    net_slot_complete(c.held[0], make_reply(42, "bye", 3));
    pthread_join(th, NULL);
    uint32_t id;
    char out[16];
    REQUIRE(recv_reply(fd, &id, out, sizeof out));
    CHECK_EQ_INT(id, 42);
    CHECK(peer_closed(fd));
    close(fd);
    stop_server(srv, &c);
}

/* Connections spread over loop threads; close_after_flush answers, then closes. */
TEST(net_many_connections_two_loops) {
    proto_ctx_t c;
    net_server_opts_t o = {.threads = 2};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    enum { N = 200 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = client_connect(srv);
        REQUIRE(fds[i] >= 0);
    }
    for (int i = 0; i < N; i++) send_frame(fds[i], 'E', (uint32_t)i, "m");
    int good = 0;
    for (int i = 0; i < N; i++) {
        uint32_t id;
        if (recv_reply(fds[i], &id, NULL, 0) && id == (uint32_t)i) good++;
    }
    CHECK_EQ_INT(good, N);
    send_frame(fds[0], 'E', 1, "a");
    send_frame(fds[0], 'X', 2, NULL);
    uint32_t id;
    CHECK(recv_reply(fds[0], &id, NULL, 0) && id == 1);
    CHECK(peer_closed(fds[0]));
    for (int i = 0; i < N; i++) close(fds[i]);
    wait_closes(&c, N);
    net_server_stats_t st;
    net_server_stats(srv, &st);
    CHECK_EQ_INT(st.conns_open, 0);
    CHECK_EQ_INT(st.conns_accepted, N);
    stop_server(srv, &c);
}

TEST(net_listen_errors) {
    net_server_opts_t o = {.name = "t", .proto = &test_proto};
    net_server_t *srv = NULL, *other = NULL;
    char err[256];
    REQUIRE_OK(net_server_new(&o, &srv, err, sizeof err));
    CHECK_EQ_INT(net_server_listen(srv, "nonsense", err, sizeof err), EDDY_ERR_INVALID);
    REQUIRE_OK(net_server_listen(srv, "127.0.0.1:0", err, sizeof err));
    char addr[80];
    net_server_listener_addr(srv, 0, addr, sizeof addr);
    REQUIRE_OK(net_server_new(&o, &other, err, sizeof err));
    CHECK_EQ_INT(net_server_listen(other, addr, err, sizeof err), EDDY_ERR_IO);
    CHECK(strstr(err, "in use") != NULL);
    net_server_free(other);
    net_server_free(srv);
    net_server_opts_t bad = {0};
    CHECK_EQ_INT(net_server_new(&bad, &srv, err, sizeof err), EDDY_ERR_INVALID);
}

/* Idle connections close after idle_timeout_ms; a client that stops reading while its answer
 * is queued closes after write_timeout_ms (the sweep runs once a second). */
TEST(net_idle_and_write_timeouts) {
    proto_ctx_t c;
    net_server_opts_t o = {.idle_timeout_ms = 100, .write_timeout_ms = 200, .out_max = 256u << 20};
    net_server_t *srv = start_server(&c, &o);
    REQUIRE(srv);
    int idle = client_connect(srv);
    REQUIRE(idle >= 0);
    CHECK(peer_closed(idle));
    close(idle);
    c.big_reply = 32u << 20; /* more than the kernel buffers hold */
    int slow = client_connect_rcvbuf(srv, 4096);
    REQUIRE(slow >= 0);
    send_frame(slow, 'B', 1, NULL);
    wait_closes(&c, 2);
    net_server_stats_t st;
    net_server_stats(srv, &st);
    CHECK_EQ_INT(st.conns_closed_slow, 1);
    close(slow);
    stop_server(srv, &c);
}
