/* The client session: an I/O thread running a libuv loop, the hosts of the cluster with their
 * connection pools, the token ring for routing, the request path (submit from any thread,
 * dispatch on the I/O thread, completion, retry, timeout) and the connect sequence (negotiate the
 * protocol version on a contact point, read system.local and system.peers_v2 or system.peers,
 * register for events, open the pools). Prepared statements and the synchronous wrappers live in
 * client_api.c. */
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "cql/cql_client_int.h"

int64_t cql_client_now_ms(void) { return time_mono_ms(); }
uint8_t cql_client_version(const cql_client_t *c) { return c->version; }
bool cql_client_version_fixed(const cql_client_t *c) { return c->version_fixed; }
const cql_client_opts_t *cql_client_opts(const cql_client_t *c) { return &c->opts; }
uv_loop_t *cql_client_loop(cql_client_t *c) { return &c->loop; }

int cql_client_protocol_version(const cql_client_t *c) { return c->version; }
const char *cql_client_compression(const cql_client_t *c) { return atomic_load(&c->lz4) ? "lz4" : "none"; }
size_t cql_client_host_count(const cql_client_t *c) { return atomic_load(&c->nhosts_public); }
size_t cql_client_hosts_up(const cql_client_t *c) { return atomic_load(&c->hosts_up); }
const char *cql_client_release_version(const cql_client_t *c) { return c->release_version; }
const char *cql_client_cluster_name(const cql_client_t *c) { return c->cluster_name; }

/* ---- dirty connections ---------------------------------------------------------------------- */

void cql_client_mark_dirty(cql_client_t *c, cql_conn_t *conn) {
    if (conn->dirty) return;
    conn->dirty = true;
    conn->dirty_next = c->dirty;
    c->dirty = conn;
}

void cql_client_flush(cql_client_t *c) {
    while (c->dirty) {
        cql_conn_t *conn = c->dirty;
        c->dirty = conn->dirty_next;
        conn->dirty = false;
        conn->dirty_next = NULL;
        cql_conn_flush(conn);
    }
}

/* ---- hosts ---------------------------------------------------------------------------------- */

static void host_name(const struct sockaddr_storage *ss, char *out, size_t n) {
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        uv_ip4_name(in, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(out, n, "%s:%d", ip, port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(in6, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(out, n, "[%s]:%d", ip, port);
    }
}

static bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
}

static cql_host_t *host_add(cql_client_t *c, const struct sockaddr_storage *addr) {
    for (size_t i = 0; i < c->nhosts; i++)
        if (addr_equal(&c->hosts[i]->addr, addr)) return c->hosts[i];
    if (c->nhosts == CQL_CLIENT_MAX_HOSTS) return NULL;
    cql_host_t *h = eddy_calloc(1, sizeof *h);
    if (!h) return NULL;
    h->conns = eddy_calloc((size_t)c->opts.connections_per_host, sizeof *h->conns);
    if (!h->conns) {
        eddy_free(h);
        return NULL;
    }
    h->client = c;
    h->index = (int)c->nhosts;
    h->addr = *addr;
    host_name(addr, h->name, sizeof h->name);
    c->hosts[c->nhosts++] = h;
    atomic_store(&c->nhosts_public, c->nhosts);
    return h;
}

static void host_free(cql_host_t *h) {
    eddy_free(h->tokens);
    eddy_free(h->conns);
    eddy_free(h);
}

static bool conn_usable(const cql_conn_t *conn) {
    return conn && conn->state == CQL_CONN_READY && conn->nfree > 0;
}

static size_t host_ready_conns(const cql_host_t *h) {
    size_t n = 0;
    for (int i = 0; i < h->client->opts.connections_per_host; i++)
        if (h->conns[i] && h->conns[i]->state == CQL_CONN_READY) n++;
    return n;
}

static void count_up(cql_client_t *c) {
    size_t up = 0;
    for (size_t i = 0; i < c->nhosts; i++)
        if (!c->hosts[i]->ignored && host_ready_conns(c->hosts[i]) > 0) up++;
    atomic_store(&c->hosts_up, up);
}

/* The least busy ready connection of a host, or NULL. */
static cql_conn_t *host_pick(cql_host_t *h) {
    cql_conn_t *best = NULL;
    int n = h->client->opts.connections_per_host;
    for (int k = 0; k < n; k++) {
        cql_conn_t *conn = h->conns[(h->rr + (uint32_t)k) % (uint32_t)n];
        if (conn_usable(conn) && (!best || conn->inflight < best->inflight)) best = conn;
    }
    h->rr++;
    return best;
}

/* ---- the token ring ------------------------------------------------------------------------- */

static int ring_cmp(const void *a, const void *b) {
    const cql_ring_entry_t *x = a, *y = b;
    return x->token < y->token ? -1 : x->token > y->token;
}

static void ring_build(cql_client_t *c) {
    size_t n = 0;
    for (size_t i = 0; i < c->nhosts; i++)
        if (!c->hosts[i]->ignored) n += c->hosts[i]->ntokens;
    cql_ring_entry_t *ring = n ? eddy_malloc(n * sizeof *ring) : NULL;
    if (n && !ring) return;
    size_t k = 0;
    for (size_t i = 0; i < c->nhosts; i++) {
        if (c->hosts[i]->ignored) continue;
        for (size_t j = 0; j < c->hosts[i]->ntokens; j++) ring[k++] = (cql_ring_entry_t){c->hosts[i]->tokens[j], c->hosts[i]};
    }
    qsort(ring, n, sizeof *ring, ring_cmp);
    eddy_free(c->ring);
    c->ring = ring;
    c->nring = n;
}

/* The replica owning token: the first ring token >= it, wrapping around. */
static size_t ring_find(const cql_client_t *c, int64_t token) {
    size_t lo = 0, hi = c->nring;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->ring[mid].token < token) lo = mid + 1;
        else hi = mid;
    }
    return lo == c->nring ? 0 : lo;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static cql_conn_t *choose_conn(cql_client_t *c, cql_req_t *req) {
    if (req->pin) return conn_usable(req->pin) || (req->pin->state == CQL_CONN_HANDSHAKE && req->pin->nfree)
                             ? req->pin : NULL;
    if (req->has_token && c->nring > 0 && !c->opts.no_token_aware) {
        size_t start = ring_find(c, req->token);
        for (size_t k = 0; k < c->nring && k < 64; k++) {
            cql_host_t *h = c->ring[(start + k) % c->nring].host;
            if (h == req->avoid && c->nhosts > 1) continue;
            cql_conn_t *conn = host_pick(h);
            if (conn) return conn;
        }
    }
    for (size_t k = 0; k < c->nhosts; k++) {
        cql_host_t *h = c->hosts[(c->host_rr + k) % c->nhosts];
        if (h->ignored || (h == req->avoid && atomic_load(&c->hosts_up) > 1)) continue;
        cql_conn_t *conn = host_pick(h);
        if (conn) {
            c->host_rr = (c->host_rr + k + 1) % c->nhosts;
            return conn;
        }
    }
    return NULL;
}

static bool any_connecting(const cql_client_t *c) {
    for (size_t i = 0; i < c->nhosts; i++) {
        const cql_host_t *h = c->hosts[i];
        if (h->ignored) continue;
        for (int k = 0; k < c->opts.connections_per_host; k++)
            if (h->conns[k] && h->conns[k]->state != CQL_CONN_READY && h->conns[k]->state != CQL_CONN_CLOSING)
                return true;
    }
    return false;
}

static void backlog_push(cql_client_t *c, cql_req_t *req) {
    req->next = NULL;
    if (c->backlog_tail) c->backlog_tail->next = req;
    else c->backlog_head = req;
    c->backlog_tail = req;
    c->nbacklog++;
}

/* Sends req now, parks it until a connection frees up, or fails it. I/O thread. */
static void dispatch(cql_client_t *c, cql_req_t *req) {
    if (c->closing) {
        cql_error_t err;
        cql_error_set(&err, -1, "the client is closing");
        cql_req_finish(req, EDDY_ERR_CLOSED, NULL, &err);
        return;
    }
    cql_conn_t *conn = choose_conn(c, req);
    if (conn && cql_conn_send(conn, req) == EDDY_OK) return;
    bool waiting = any_connecting(c) || c->connecting;
    for (size_t i = 0; !waiting && i < c->nhosts; i++)
        for (int k = 0; k < c->opts.connections_per_host; k++)
            if (c->hosts[i]->conns[k] && c->hosts[i]->conns[k]->state == CQL_CONN_READY) waiting = true;
    if (waiting && !req->pin) {
        backlog_push(c, req);
        return;
    }
    cql_error_t err;
    cql_error_set(&err, -1, "no host available (%zu known, none connected)", c->nhosts);
    cql_req_finish(req, EDDY_ERR_IO, NULL, &err);
}

static void backlog_drain(cql_client_t *c) {
    while (c->backlog_head) {
        cql_req_t *req = c->backlog_head;
        cql_conn_t *conn = choose_conn(c, req);
        if (!conn) break;
        c->backlog_head = req->next;
        if (!c->backlog_head) c->backlog_tail = NULL;
        c->nbacklog--;
        req->next = NULL;
        if (cql_conn_send(conn, req) != EDDY_OK) dispatch(c, req);
    }
}

void cql_client_submit(cql_client_t *c, cql_req_t *req) {
    uint32_t timeout = req->timeout_ms ? req->timeout_ms : c->opts.request_timeout_ms;
    req->deadline_ms = cql_client_now_ms() + timeout;
    if (pthread_equal(pthread_self(), c->thread) && c->running) {
        dispatch(c, req);
        return; /* the caller's loop callback flushes */
    }
    pthread_mutex_lock(&c->lock);
    req->next = NULL;
    if (c->submit_tail) c->submit_tail->next = req;
    else c->submit_head = req;
    c->submit_tail = req;
    pthread_mutex_unlock(&c->lock);
    uv_async_send(&c->wake);
}

/* ---- completion, retry ---------------------------------------------------------------------- */

static bool retryable(const cql_req_t *req, int status, const cql_error_t *err) {
    if (req->attempts_left <= 0 || req->pin) return false;
    if (req->unsent) return true;
    if (!req->idempotent) return false;
    return status == EDDY_ERR_IO || status == EDDY_ERR_BUSY || status == EDDY_ERR_TIMEOUT;
}

void cql_client_keyspace_copy(cql_client_t *c, char *buf, size_t n) {
    pthread_mutex_lock(&c->lock);
    snprintf(buf, n, "%s", c->opts.keyspace ? c->opts.keyspace : "");
    pthread_mutex_unlock(&c->lock);
}

/* A USE answered on one connection: the session's keyspace for every other one and for
 * connections opened later, as the drivers do. */
static void keyspace_changed(cql_client_t *c, const cql_conn_t *from, const char *ks) {
    char *copy = eddy_strdup(ks);
    if (!copy) return;
    pthread_mutex_lock(&c->lock);
    bool same = c->opts.keyspace && !strcmp(c->opts.keyspace, ks);
    char *old = same ? copy : (char *)c->opts.keyspace;
    if (!same) c->opts.keyspace = copy;
    pthread_mutex_unlock(&c->lock);
    eddy_free(old);
    if (same) return;
    for (size_t i = 0; i < c->nhosts; i++)
        for (int s = 0; s < c->opts.connections_per_host; s++) {
            cql_conn_t *conn = c->hosts[i]->conns ? c->hosts[i]->conns[s] : NULL;
            if (conn && conn != from && conn->state == CQL_CONN_READY) cql_conn_use(conn);
        }
}

void cql_req_finish(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_client_t *c = req->client;
    if (status == EDDY_OK && !req->internal && res && cql_result_kind(res) == CQL_KIND_SET_KEYSPACE)
        keyspace_changed(c, req->answered_by, cql_result_text(res));
    if (status != EDDY_OK && err && err->code == CQL_ERR_UNPREPARED && cql_client_reprepare(c, req, err)) return;
    if (status != EDDY_OK && retryable(req, status, err) && !c->closing) {
        req->attempts_left--;
        req->avoid = req->answered_by ? req->answered_by->host : NULL;
        req->unsent = false;
        req->answered_by = NULL;
        dispatch(c, req);
        return;
    }
    if (req->internal) req->internal(req, status, res, err);
    else if (req->done) req->done(req->arg, status, res, status == EDDY_OK ? NULL : err);
    else cql_result_free(res);
    cql_req_free(req);
    if (c->backlog_head) backlog_drain(c);
}

void cql_req_free(cql_req_t *req) {
    if (!req) return;
    wr_free(&req->frame);
    eddy_free(req);
}

cql_req_t *cql_req_new(cql_client_t *c) {
    cql_req_t *req = eddy_calloc(1, sizeof *req);
    if (!req) return NULL;
    req->client = c;
    req->attempts_left = c->opts.retries;
    wr_init(&req->frame, 128);
    return req;
}

cql_req_t *cql_req_internal(cql_client_t *c, const cql_msg_t *msg, cql_req_fn fn, void *arg) {
    cql_req_t *req = cql_req_new(c);
    if (!req) return NULL;
    req->opcode = msg->opcode;
    req->internal = fn;
    req->internal_arg = arg;
    req->attempts_left = 0;
    req->deadline_ms = cql_client_now_ms() + c->opts.request_timeout_ms;
    if (cql_msg_encode(&req->frame, msg) != EDDY_OK) {
        cql_req_free(req);
        return NULL;
    }
    return req;
}

/* ---- calls on the I/O thread ---- */

typedef struct cql_call {
    struct cql_call *next;
    void (*fn)(void *arg);
    void *arg;
} cql_call_t;

int cql_client_call(cql_client_t *c, void (*fn)(void *arg), void *arg) {
    if (atomic_load(&c->closing)) return EDDY_ERR_CLOSED;
    cql_call_t *call = eddy_malloc(sizeof *call);
    if (!call) return EDDY_ERR_NOMEM;
    call->fn = fn;
    call->arg = arg;
    pthread_mutex_lock(&c->lock);
    /* LIFO is fine: calls are independent */
    call->next = c->calls;
    c->calls = call;
    pthread_mutex_unlock(&c->lock);
    uv_async_send(&c->wake);
    return EDDY_OK;
}

static void run_calls(cql_client_t *c) {
    pthread_mutex_lock(&c->lock);
    cql_call_t *calls = c->calls;
    c->calls = NULL;
    pthread_mutex_unlock(&c->lock);
    while (calls) {
        cql_call_t *next = calls->next;
        calls->fn(calls->arg);
        eddy_free(calls);
        calls = next;
    }
}

/* ---- the loop's callbacks ------------------------------------------------------------------- */

static void fail_all_queued(cql_client_t *c, const char *why) {
    cql_error_t err;
    cql_error_set(&err, -1, "%s", why);
    pthread_mutex_lock(&c->lock);
    cql_req_t *q = c->submit_head;
    c->submit_head = c->submit_tail = NULL;
    pthread_mutex_unlock(&c->lock);
    while (q) {
        cql_req_t *next = q->next;
        cql_req_finish(q, EDDY_ERR_CLOSED, NULL, &err);
        q = next;
    }
    while (c->backlog_head) {
        cql_req_t *req = c->backlog_head;
        c->backlog_head = req->next;
        c->nbacklog--;
        cql_req_finish(req, EDDY_ERR_CLOSED, NULL, &err);
    }
    c->backlog_tail = NULL;
}

static void shutdown_loop(cql_client_t *c) {
    fail_all_queued(c, "the client is closing");
    for (size_t i = 0; i < c->nhosts; i++)
        for (int k = 0; k < c->opts.connections_per_host; k++)
            if (c->hosts[i]->conns[k]) cql_conn_close(c->hosts[i]->conns[k], EDDY_ERR_CLOSED, "the client is closing");
    uv_timer_stop(&c->tick);
    uv_close((uv_handle_t *)&c->tick, NULL);
    uv_close((uv_handle_t *)&c->wake, NULL);
}

static void on_wake(uv_async_t *a) {
    cql_client_t *c = a->data;
    if (c->closing) {
        if (!c->shut) {
            c->shut = true;
            shutdown_loop(c);
        }
        return;
    }
    pthread_mutex_lock(&c->lock);
    cql_req_t *q = c->submit_head;
    c->submit_head = c->submit_tail = NULL;
    pthread_mutex_unlock(&c->lock);
    while (q) {
        cql_req_t *next = q->next;
        q->next = NULL;
        dispatch(c, q);
        q = next;
    }
    run_calls(c);
    cql_client_flush(c);
}

static void expire_requests(cql_client_t *c, int64_t now) {
    cql_error_t err;
    for (size_t i = 0; i < c->nhosts; i++) {
        cql_host_t *h = c->hosts[i];
        for (int k = 0; k < c->opts.connections_per_host; k++) {
            cql_conn_t *conn = h->conns[k];
            if (!conn || conn->state == CQL_CONN_CLOSING) continue;
            if (conn->state != CQL_CONN_READY && conn->deadline_ms && now > conn->deadline_ms) {
                char why[160];
                snprintf(why, sizeof why, "connecting to %s timed out", h->name);
                cql_conn_close(conn, EDDY_ERR_TIMEOUT, why);
                continue;
            }
            if (conn->inflight == 0) continue;
            for (uint32_t id = 0; id < conn->max_streams; id++) {
                cql_req_t *req = conn->streams[id];
                if (!req || req == &cql_req_abandoned || !req->deadline_ms || now <= req->deadline_ms) continue;
                /* The stream stays taken until its late answer arrives. */
                conn->streams[id] = &cql_req_abandoned;
                req->conn = NULL;
                cql_error_set(&err, -1, "no answer from %s within %lld ms", h->name,
                              (long long)(now - req->deadline_ms + (req->timeout_ms ? req->timeout_ms
                                                                                   : c->opts.request_timeout_ms)));
                cql_req_finish(req, EDDY_ERR_TIMEOUT, NULL, &err);
            }
        }
    }
    /* Requests parked too long fail too. */
    cql_req_t **pp = &c->backlog_head, *last = NULL;
    while (*pp) {
        cql_req_t *req = *pp;
        if (now > req->deadline_ms) {
            *pp = req->next;
            c->nbacklog--;
            cql_error_set(&err, -1, "no connection became available within the request timeout");
            cql_req_finish(req, EDDY_ERR_TIMEOUT, NULL, &err);
            continue;
        }
        last = req;
        pp = &req->next;
    }
    c->backlog_tail = last;
}

static void reconnect_hosts(cql_client_t *c, int64_t now) {
    if (c->connecting) return;
    for (size_t i = 0; i < c->nhosts; i++) {
        cql_host_t *h = c->hosts[i];
        if (h->ignored || now < h->next_attempt_ms) continue;
        for (int k = 0; k < c->opts.connections_per_host; k++)
            if (!h->conns[k]) cql_conn_open(h, k);
    }
}

static void on_tick(uv_timer_t *t) {
    cql_client_t *c = t->data;
    int64_t now = cql_client_now_ms();
    expire_requests(c, now);
    reconnect_hosts(c, now);
    cql_client_flush(c);
}

static void *io_thread(void *arg) {
    cql_client_t *c = arg;
    uv_run(&c->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- connections report --------------------------------------------------------------------- */

void cql_client_conn_ready(cql_conn_t *conn) {
    cql_client_t *c = conn->client;
    cql_host_t *h = conn->host;
    h->backoff_ms = 0;
    if (!c->version_fixed) {
        c->version = conn->version;
        c->version_fixed = true;
    }
    if (cql_codec_compression(conn->codec) == CQL_COMPRESSION_LZ4) atomic_store(&c->lz4, true);
    count_up(c);
    if (!c->control) {
        c->control = conn;
        cql_client_topology_start(c, conn);
    } else if (c->connecting) {
        cql_client_connect_progress(c);
    }
    backlog_drain(c);
}

void cql_client_conn_failed(cql_conn_t *conn, int status, const char *why, bool version_refused) {
    cql_client_t *c = conn->client;
    cql_host_t *h = conn->host;
    if (version_refused && !c->version_fixed && conn->version > CQL_VERSION_MIN) {
        /* Step down and try the same host again at once. */
        elog_debug("cql", "%s refused protocol v%u, trying v%u", h->name, conn->version, conn->version - 1);
        c->version = (uint8_t)(conn->version - 1);
        h->next_attempt_ms = 0;
        conn->retry_now = true;
        return;
    }
    h->backoff_ms = h->backoff_ms ? EDDY_MIN(h->backoff_ms * 2, 10000u) : 100;
    h->next_attempt_ms = cql_client_now_ms() + h->backoff_ms;
    snprintf(c->last_error, sizeof c->last_error, "%s", why);
    c->last_status = status;
    if (status == EDDY_ERR_INVALID) c->fatal = true; /* bad credentials or keyspace */
}

void cql_client_conn_gone(cql_conn_t *conn) {
    cql_client_t *c = conn->client;
    cql_host_t *h = conn->host;
    if (conn->dirty) {
        for (cql_conn_t **pp = &c->dirty; *pp; pp = &(*pp)->dirty_next)
            if (*pp == conn) {
                *pp = conn->dirty_next;
                break;
            }
    }
    if (h->conns[conn->slot] == conn) h->conns[conn->slot] = NULL;
    if (c->control == conn) c->control = NULL;
    count_up(c);
    if (c->shut) return;
    if (conn->retry_now && !c->fatal) {
        cql_conn_open(h, conn->slot);
        return;
    }
    if (c->connecting) cql_client_connect_progress(c);
}

/* ---- creation and teardown ------------------------------------------------------------------ */

static int resolve(const char *point, int default_port, struct sockaddr_storage *out, char *errstr, size_t errlen) {
    char host[256];
    int port = default_port;
    if (base_parse_hostport(point, host, sizeof host, &port) != EDDY_OK) {
        snprintf(host, sizeof host, "%s", point);
        port = default_port;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0 || !ai)
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot resolve %s: %s", host, gai_strerror(rc));
    memset(out, 0, sizeof *out);
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return EDDY_OK;
}

static char *dup_opt(const char *s) { return s ? eddy_strdup(s) : NULL; }

void cql_client_free(cql_client_t *c) {
    while (c->calls) {
        cql_call_t *next = c->calls->next;
        eddy_free(c->calls);
        c->calls = next;
    }
    for (size_t i = 0; i < c->nhosts; i++) host_free(c->hosts[i]);
    cql_client_prepared_free_all(c);
    eddy_free(c->ring);
    eddy_free((char *)c->opts.keyspace);
    eddy_free((char *)c->opts.username);
    eddy_free((char *)c->opts.password);
    eddy_free((char *)c->opts.local_dc);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->connect_lock);
    pthread_cond_destroy(&c->connect_cond);
    eddy_free(c);
}

int cql_client_connect(const cql_client_opts_t *opts, cql_client_t **out, char *errstr, size_t errlen) {
    *out = NULL;
    cql_client_t *c = eddy_calloc(1, sizeof *c);
    if (!c) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->connect_lock, NULL);
    pthread_cond_init(&c->connect_cond, NULL);
    c->opts = *opts;
    cql_client_opts_t *o = &c->opts;
    o->keyspace = dup_opt(opts->keyspace);
    o->username = dup_opt(opts->username);
    o->password = dup_opt(opts->password);
    o->local_dc = dup_opt(opts->local_dc);
    o->contact_points = NULL;
    if (!o->port) o->port = 9042;
    if (o->connections_per_host <= 0) o->connections_per_host = 1;
    if (!o->max_protocol_version) o->max_protocol_version = CQL_VERSION_MAX;
    if (o->max_protocol_version > CQL_VERSION_MAX || o->max_protocol_version < CQL_VERSION_MIN) {
        cql_client_free(c);
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "protocol version %d is not one of 3, 4, 5",
                        opts->max_protocol_version);
    }
    if (!o->connect_timeout_ms) o->connect_timeout_ms = 5000;
    if (!o->request_timeout_ms) o->request_timeout_ms = 12000;
    if (!o->retries) o->retries = 1;
    if (o->retries < 0) o->retries = 0;
    if (!o->consistency) o->consistency = CQL_CL_LOCAL_ONE;
    if (!o->page_size) o->page_size = 5000;
    if (!o->max_requests_per_conn) o->max_requests_per_conn = 2048;
    if (o->max_requests_per_conn > 32768) o->max_requests_per_conn = 32768;
    c->version = (uint8_t)o->max_protocol_version;
    size_t npoints = opts->ncontact_points;
    static const char *const local[] = {"127.0.0.1"};
    const char *const *points = npoints ? opts->contact_points : local;
    if (!npoints) npoints = 1;
    for (size_t i = 0; i < npoints; i++) {
        struct sockaddr_storage ss;
        int rc = resolve(points[i], o->port, &ss, errstr, errlen);
        if (rc != EDDY_OK) {
            cql_client_free(c);
            return rc;
        }
        if (!host_add(c, &ss)) {
            cql_client_free(c);
            return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
        }
    }
    c->ncontacts = c->nhosts;
    if (uv_loop_init(&c->loop) < 0) {
        cql_client_free(c);
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot create an event loop");
    }
    uv_async_init(&c->loop, &c->wake, on_wake);
    c->wake.data = c;
    uv_timer_init(&c->loop, &c->tick);
    c->tick.data = c;
    uv_timer_start(&c->tick, on_tick, 50, 50);
    c->connecting = true;
    /* The first connection goes to the first contact point; the tick moves on to the next ones
     * while it keeps failing. */
    cql_conn_open(c->hosts[0], 0);
    c->running = true;
    if (pthread_create(&c->thread, NULL, io_thread, c) != 0) {
        c->running = false;
        uv_loop_close(&c->loop);
        cql_client_free(c);
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot start the client's I/O thread");
    }
    int rc = cql_client_connect_wait(c, errstr, errlen);
    if (rc != EDDY_OK) {
        cql_client_close(c);
        return rc;
    }
    *out = c;
    return EDDY_OK;
}

void cql_client_close(cql_client_t *c) {
    if (!c) return;
    c->closing = true;
    uv_async_send(&c->wake);
    pthread_join(c->thread, NULL);
    uv_loop_close(&c->loop);
    cql_client_free(c);
}

/* Exposed for the topology code in client_api.c. */
cql_host_t *cql_client_host_add(cql_client_t *c, const struct sockaddr_storage *addr) { return host_add(c, addr); }
void cql_client_ring_build(cql_client_t *c) { ring_build(c); }
void cql_client_open_pools(cql_client_t *c) {
    for (size_t i = 0; i < c->nhosts; i++) {
        cql_host_t *h = c->hosts[i];
        if (h->ignored) continue;
        for (int k = 0; k < c->opts.connections_per_host; k++)
            if (!h->conns[k]) cql_conn_open(h, k);
    }
    count_up(c);
}
bool cql_client_any_connecting(const cql_client_t *c) { return any_connecting(c); }
void cql_client_dispatch(cql_client_t *c, cql_req_t *req) { dispatch(c, req); }
