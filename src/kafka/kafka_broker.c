/* kafka: the broker's connections. Frames requests (4-byte size, then the request), parses them
 * with the one codec, reserves an ordered reply slot per request (so pipelined requests are
 * answered in order whatever thread completes them) and dispatches to the API table's handler.
 *
 * Kafka's behaviour for bad input: a request over socket.request.max.bytes, a negative size,
 * an unknown API key, an unsupported version (other than ApiVersions, which is answered with
 * error 35 and a v0 body), or a body that does not parse closes the connection; each is logged
 * once per connection. Nothing is stored before a request has parsed completely. */
#include <stdio.h>

#include "kafka/kafka_int.h"

#define KAFKA_DEFAULT_MAX_REQUEST (100u * 1024 * 1024) /* socket.request.max.bytes */
#define KAFKA_DEFAULT_QUEUED_BYTES (100ll * 1024 * 1024) /* queued.max.request.bytes */
/* The broker's fetch.max.bytes. Kafka's default is 55 MiB; eddy's is smaller because clients
 * (librdkafka, measured in bench/RESULTS.md) receive and parse a whole answer before asking for
 * more: with 64 partitions, 27 MB answers left kcat's consumer 15-20% slower than 4 MiB ones. */
#define KAFKA_DEFAULT_FETCH_MAX_BYTES (4ll * 1024 * 1024)

void kafka_broker_opts_init(kafka_broker_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->threads = 2;
    o->auto_create_topics = true;
    o->default_partitions = 1;
    o->max_request_bytes = KAFKA_DEFAULT_MAX_REQUEST;
    o->min_session_timeout_ms = 1000;
    o->queued_max_request_bytes = KAFKA_DEFAULT_QUEUED_BYTES;
    o->fetch_max_bytes = KAFKA_DEFAULT_FETCH_MAX_BYTES;
}

/* ---- errors ------------------------------------------------------------------------------------ */

int16_t kafka_error_from_log(int status, const log_err_t *err) {
    switch (err ? err->reason : LOG_ERR_NONE) {
    case LOG_ERR_NONE: break;
    case LOG_ERR_CORRUPT_MESSAGE:
    case LOG_ERR_CRC: return KERR_CORRUPT_MESSAGE;
    case LOG_ERR_MAGIC: return KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    case LOG_ERR_MESSAGE_TOO_LARGE: return KERR_MESSAGE_TOO_LARGE;
    case LOG_ERR_RECORD_LIST_TOO_LARGE: return KERR_RECORD_LIST_TOO_LARGE;
    case LOG_ERR_INVALID_RECORD:
    case LOG_ERR_TRANSACTIONAL: return KERR_INVALID_RECORD;
    case LOG_ERR_UNSUPPORTED_COMPRESSION: return KERR_UNSUPPORTED_COMPRESSION_TYPE;
    case LOG_ERR_OUT_OF_ORDER_SEQUENCE: return KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    case LOG_ERR_INVALID_PRODUCER_EPOCH: return KERR_INVALID_PRODUCER_EPOCH;
    case LOG_ERR_UNKNOWN_PRODUCER_ID: return KERR_UNKNOWN_PRODUCER_ID;
    case LOG_ERR_UNKNOWN_TOPIC:
    case LOG_ERR_UNKNOWN_PARTITION: return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case LOG_ERR_TOPIC_EXISTS: return KERR_TOPIC_ALREADY_EXISTS;
    case LOG_ERR_INVALID_TOPIC: return KERR_INVALID_TOPIC_EXCEPTION;
    case LOG_ERR_INVALID_PARTITIONS: return KERR_INVALID_PARTITIONS;
    case LOG_ERR_INVALID_CONFIG: return KERR_INVALID_CONFIG;
    case LOG_ERR_OFFSET_OUT_OF_RANGE: return KERR_OFFSET_OUT_OF_RANGE;
    case LOG_ERR_GROUP_NOT_FOUND: return KERR_GROUP_ID_NOT_FOUND;
    case LOG_ERR_INVALID_GROUP: return KERR_INVALID_GROUP_ID;
    case LOG_ERR_METADATA_TOO_LARGE: return KERR_OFFSET_METADATA_TOO_LARGE;
    case LOG_ERR_STORAGE: return KERR_KAFKA_STORAGE_ERROR;
    case LOG_ERR_CLOSED: return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    default: break;
    }
    switch (status) {
    case EDDY_OK: return KERR_NONE;
    case EDDY_ERR_NOT_FOUND: return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case EDDY_ERR_CORRUPT: return KERR_CORRUPT_MESSAGE;
    case EDDY_ERR_TOO_LARGE: return KERR_MESSAGE_TOO_LARGE;
    case EDDY_ERR_RANGE: return KERR_OFFSET_OUT_OF_RANGE;
    case EDDY_ERR_IO: return KERR_KAFKA_STORAGE_ERROR;
    default: return KERR_UNKNOWN_SERVER_ERROR;
    }
}

/* ---- requests ------------------------------------------------------------------------------------ */

/* The request is answered (or dropped): its bytes go back to the budget and its latency is
 * recorded. Runs before its slot completes, while the slot keeps the broker running. */
static void req_done(kafka_req_t *r) {
    kafka_broker_t *b = r->b;
    if (r->start_ns && r->req.api_key >= 0 && r->req.api_key < KAFKA_API_KEY_MAX)
        metrics_histogram_observe_ns(b->m_latency[r->req.api_key], time_mono_ns() - r->start_ns);
    r->start_ns = 0;
    kafka_budget_give(&b->budget, r->charged);
    r->charged = 0;
}

static void req_free(kafka_req_t *r) {
    req_done(r);
    arena_free(&r->arena);
    eddy_free(r->frame);
    eddy_free(r);
}

const char *kafka_req_cstr(kafka_req_t *r, kafka_str_t s) {
    const char *c = kafka_str_dup(&r->arena, s.len < 0 ? kafka_str_n("", 0) : s);
    return c ? c : "";
}

/* The encoded response as a reply: the buffer, cut around the file pieces Fetch splices in
 * (each an eddy_malloc'd log_read_t, released once net has sent or dropped it). */
static void file_piece_release(void *ctx) {
    log_read_t *rd = ctx;
    log_read_release(rd);
    eddy_free(rd);
}

static net_reply_t *reply_from_out(kafka_out_t *o) {
    net_reply_t *rep = net_reply_new();
    if (!rep) return NULL;
    if (!o->nsplices) {
        net_reply_add_wr(rep, &o->w);
        return rep;
    }
    size_t prev = 0;
    for (size_t i = 0; i < o->nsplices; i++) {
        const kafka_splice_t *s = &o->splices[i];
        log_read_t *rd = (log_read_t *)s->ext;
        if (s->at > prev) net_reply_add_copy(rep, o->w.buf + prev, s->at - prev);
        net_reply_add_file(rep, rd->fd, (uint64_t)rd->file_pos, (uint64_t)s->len, file_piece_release, rd);
        prev = s->at;
    }
    if (o->w.len > prev) net_reply_add_copy(rep, o->w.buf + prev, o->w.len - prev);
    return rep;
}

void kafka_req_reply(kafka_req_t *r, const void *body) {
    kafka_out_t o;
    kafka_out_init(&o, 512);
    kafka_response_encode(&o, &r->req, body);
    net_reply_t *rep = NULL;
    if (wr_ok(&o.w)) {
        rep = reply_from_out(&o);
    } else {
        char name[64];
        elog_error("kafka", "cannot encode the %s response: %s", kafka_request_name(&r->req, name, sizeof name),
                   eddy_strerror(o.w.err));
        /* The file pieces were never handed over: release them here. */
        for (size_t i = 0; i < o.nsplices; i++) file_piece_release((void *)o.splices[i].ext);
    }
    kafka_out_free(&o);
    req_done(r);
    if (rep) {
        net_slot_complete(r->slot, rep);
    } else {
        net_slot_cancel(r->slot); /* nothing to send: the client will time out and reconnect */
    }
    req_free(r);
}

static void close_conn_fn(net_conn_t *conn, void *arg) {
    (void)arg;
    if (!net_conn_closed(conn)) net_conn_close(conn);
}

void kafka_req_drop(kafka_req_t *r, bool close_conn) {
    if (close_conn) net_conn_post(r->conn, close_conn_fn, NULL);
    req_done(r);
    net_slot_cancel(r->slot);
    req_free(r);
}

/* ---- connections --------------------------------------------------------------------------------- */

/* The budget had room for a paused connection's next request: it reads again. */
static void budget_granted(kafka_budget_waiter_t *w) {
    kafka_conn_t *kc = (kafka_conn_t *)((char *)w - offsetof(kafka_conn_t, waiter));
    /* The connection is valid: its on_close forgets the waiter under the budget's lock. */
    net_conn_resume(kc->conn);
}

static int on_open(net_conn_t *conn) {
    kafka_conn_t *kc = eddy_calloc(1, sizeof *kc);
    if (!kc) return EDDY_ERR_NOMEM;
    kc->b = net_conn_ctx(conn);
    kc->conn = conn;
    kc->waiter.grant = budget_granted;
    const char *peer = net_conn_peer(conn);
    kc->ipv6 = peer && peer[0] == '[';
    char host[sizeof kc->host - 1];
    int port;
    if (peer && base_parse_hostport(peer, host, sizeof host, &port) == EDDY_OK)
        snprintf(kc->host, sizeof kc->host, "/%s", host); /* Kafka's client_host form: "/127.0.0.1" */
    net_conn_set_data(conn, kc);
    return EDDY_OK;
}

static void on_close(net_conn_t *conn) {
    kafka_conn_t *kc = net_conn_data(conn);
    if (!kc) return;
    kafka_fetch_conn_closed(kc);
    kafka_budget_forget(&kc->b->budget, &kc->waiter);
    kafka_budget_give(&kc->b->budget, kc->reserved);
    kc->reserved = 0;
    net_conn_set_data(conn, NULL);
    eddy_free(kc);
}

/* Logs a refused request once per connection and closes it (Kafka's answer to bad input). */
static ssize_t refuse(kafka_conn_t *kc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static ssize_t refuse(kafka_conn_t *kc, const char *fmt, ...) {
    if (!kc->complained) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        elog_warn("kafka", "closing connection from %s: %s", net_conn_peer(kc->conn), msg);
        kc->complained = true;
        metrics_counter_inc(kc->b->m_refused);
    }
    net_conn_close_after_flush(kc->conn);
    return EDDY_ERR_CORRUPT;
}

/* Handles one complete request, which holds charged bytes of the budget until answered. */
static void dispatch(kafka_conn_t *kc, const uint8_t *frame, size_t len, int64_t charged) {
    kafka_broker_t *b = kc->b;
    kafka_req_t *r = eddy_calloc(1, sizeof *r);
    if (!r || !(r->frame = eddy_memdup(frame, len ? len : 1))) {
        eddy_free(r);
        kafka_budget_give(&b->budget, charged);
        refuse(kc, "out of memory for a %zu-byte request", len);
        return;
    }
    r->b = b;
    r->charged = charged;
    r->start_ns = time_mono_ns();
    r->kc = kc;
    r->conn = kc->conn;
    r->frame_len = len;
    r->now_ms = time_now_ms();
    snprintf(r->client_host, sizeof r->client_host, "%s", kc->host);
    arena_init(&r->arena, 4096);
    kafka_parse_t pr = kafka_request_parse(r->frame, len, &r->arena, &r->req);
    char name[64];
    switch (pr) {
    case KAFKA_PARSE_OK: break;
    case KAFKA_PARSE_UNSUPPORTED:
        if (r->req.api_key == KAFKA_API_API_VERSIONS) break; /* answered with error 35 */
        refuse(kc, "unsupported version: %s (served: %d to %d)", kafka_request_name(&r->req, name, sizeof name),
               r->req.api->min, r->req.api->max);
        req_free(r);
        return;
    case KAFKA_PARSE_UNKNOWN_API:
        refuse(kc, "unknown API key %d", r->req.api_key);
        req_free(r);
        return;
    case KAFKA_PARSE_MALFORMED:
        refuse(kc, "malformed %s request (%zu bytes)", kafka_request_name(&r->req, name, sizeof name), len);
        req_free(r);
        return;
    case KAFKA_PARSE_NOMEM:
        refuse(kc, "out of memory decoding %s", kafka_request_name(&r->req, name, sizeof name));
        req_free(r);
        return;
    }
    r->slot = net_slot_reserve(kc->conn, NET_SLOT_ORDERED);
    if (!r->slot) { /* closing, or no memory: nobody to answer */
        req_free(r);
        return;
    }
    metrics_counter_inc(b->m_requests[r->req.api_key]);
    if (elog_get_level() >= ELOG_LEVEL_TRACE)
        elog_trace("kafka", "%s: %s correlation %d", net_conn_peer(kc->conn),
                   kafka_request_name(&r->req, name, sizeof name), r->req.correlation_id);
    r->req.api->handler(r);
}

static ssize_t on_data(net_conn_t *conn, const uint8_t *data, size_t len) {
    kafka_conn_t *kc = net_conn_data(conn);
    size_t used = 0;
    while (len - used >= 4) {
        int32_t size = (int32_t)load_u32(data + used);
        if (size <= 0) return refuse(kc, "request size %d", size);
        if ((size_t)size > kc->b->opts.max_request_bytes)
            return refuse(kc, "request of %d bytes is over socket.request.max.bytes (%zu)", size,
                          kc->b->opts.max_request_bytes);
        /* The request's bytes come from the budget before its body is buffered (Kafka takes
         * them from its memory pool when it reads the size). Short of room, the connection
         * stops reading until bytes given back are granted to it. */
        if (kc->reserved == 0) {
            if (kc->budget_wait) {
                kc->reserved = kafka_budget_claim(&kc->b->budget, &kc->waiter);
                if (kc->reserved == 0) { /* still queued */
                    net_conn_pause(conn);
                    break;
                }
                kc->budget_wait = false;
            } else if (kafka_budget_take(&kc->b->budget, &kc->waiter, 4 + (int64_t)size)) {
                kc->reserved = 4 + (int64_t)size;
            } else {
                kc->budget_wait = true;
                net_conn_pause(conn);
                break;
            }
        }
        if (len - used - 4 < (size_t)size) {
            if (net_conn_expect(conn, (size_t)size + 4) != EDDY_OK)
                return refuse(kc, "request of %d bytes does not fit the input buffer", size);
            break;
        }
        int64_t charged = kc->reserved;
        kc->reserved = 0;
        dispatch(kc, data + used + 4, (size_t)size, charged);
        used += 4 + (size_t)size;
        if (net_conn_closed(conn)) break;
    }
    return (ssize_t)used;
}

static const net_proto_t kafka_proto = {on_open, on_data, on_close};

/* ---- the broker -------------------------------------------------------------------------------- */

void kafka_broker_advertised(const kafka_broker_t *b, bool ipv6, const char **host, int *port) {
    if (ipv6 && b->host6[0]) {
        *host = b->host6;
        *port = b->port6;
    } else if (b->host4[0]) {
        *host = b->host4;
        *port = b->port4;
    } else {
        *host = b->host6;
        *port = b->port6;
    }
}

/* Advertised addresses: --kafka-advertise, else each family's first bound listener (a wildcard
 * address is advertised as the loopback of its family, with a warning). */
static int broker_addresses(kafka_broker_t *b, char *errstr, size_t errlen) {
    if (b->opts.advertise) {
        char host[256];
        int port;
        if (base_parse_hostport(b->opts.advertise, host, sizeof host, &port) != EDDY_OK || port <= 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "kafka-advertise '%s' is not HOST:PORT", b->opts.advertise);
        snprintf(b->host4, sizeof b->host4, "%s", host);
        snprintf(b->host6, sizeof b->host6, "%s", host);
        b->port4 = b->port6 = port;
        return EDDY_OK;
    }
    size_t n = net_server_listener_count(b->srv);
    for (size_t i = 0; i < n; i++) {
        char host[256];
        int port;
        if (net_server_listener_port(b->srv, i, host, sizeof host, &port) != EDDY_OK) continue;
        bool v6 = strchr(host, ':') != NULL;
        char *dst = v6 ? b->host6 : b->host4;
        if (dst[0]) continue;
        if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::")) {
            elog_warn("kafka", "listening on %s: advertising %s; set --kafka-advertise for remote clients",
                      host, v6 ? "::1" : "127.0.0.1");
            snprintf(host, sizeof host, "%s", v6 ? "::1" : "127.0.0.1");
        }
        snprintf(dst, 256, "%s", host);
        *(v6 ? &b->port6 : &b->port4) = port;
    }
    return EDDY_OK;
}

static void *ticker_main(void *arg) {
    kafka_broker_t *b = arg;
    pthread_mutex_lock(&b->tick_mu);
    while (!b->stopping) {
        pthread_mutex_unlock(&b->tick_mu);
        kafka_groups_tick(b->groups, time_now_ms());
        pthread_mutex_lock(&b->tick_mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L; /* session and rebalance deadlines are checked every 100 ms */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!b->stopping) pthread_cond_timedwait(&b->tick_cv, &b->tick_mu, &ts);
    }
    pthread_mutex_unlock(&b->tick_mu);
    return NULL;
}

static double queued_bytes(void *arg) { return (double)kafka_budget_used(&((kafka_broker_t *)arg)->budget); }
static double queued_peak(void *arg) {
    return (double)atomic_load_explicit(&((kafka_broker_t *)arg)->budget.peak, memory_order_relaxed);
}
static double queued_waits(void *arg) {
    return (double)atomic_load_explicit(&((kafka_broker_t *)arg)->budget.waits, memory_order_relaxed);
}
static double fetches_waiting(void *arg) {
    return (double)atomic_load_explicit(&((kafka_broker_t *)arg)->inflight_fetches, memory_order_relaxed);
}

/* The broker's metrics, next to net's counters for its listener (eddy_net_*{server="kafka"}). */
static int broker_metrics(kafka_broker_t *b, metrics_registry_t *reg) {
    int rc = net_server_metrics(b->srv, reg);
    size_t n;
    const kafka_api_t *const *apis = kafka_api_list(&n);
    for (size_t i = 0; i < n; i++) {
        const kafka_api_t *api = apis[i];
        const char *labels[] = {"api", api->name, NULL};
        b->m_requests[api->key] = metrics_counter(reg, "eddy_kafka_requests_total", "Kafka requests received, by API.", labels);
        b->m_latency[api->key] = metrics_histogram(reg, "eddy_kafka_request_duration_seconds",
                                                   "Time from a Kafka request's arrival to its answer (Fetch long-polls and "
                                                   "Produce fsyncs included), by API.",
                                                   labels, NULL, 0);
    }
    b->m_produce_bytes = metrics_counter(reg, "eddy_kafka_produce_bytes_total", "Record batch bytes received by Produce.", NULL);
    b->m_fetch_bytes = metrics_counter(reg, "eddy_kafka_fetch_bytes_total", "Record batch bytes sent by Fetch.", NULL);
    b->m_refused = metrics_counter(reg, "eddy_kafka_bad_requests_total",
                                   "Requests refused (size, API key, version, body); each closes its connection.", NULL);
    if (rc == EDDY_OK)
        rc = metrics_gauge_fn(reg, "eddy_kafka_queued_request_bytes",
                              "Bytes of Kafka requests received and not yet answered (bounded by "
                              "--kafka-queued-max-request-bytes).",
                              NULL, queued_bytes, b);
    if (rc == EDDY_OK)
        rc = metrics_gauge_fn(reg, "eddy_kafka_queued_request_bytes_peak",
                              "The most bytes of Kafka requests ever held at once.", NULL, queued_peak, b);
    if (rc == EDDY_OK)
        rc = metrics_counter_fn(reg, "eddy_kafka_queued_request_waits_total",
                                "Times a connection stopped reading until request bytes were given back.", NULL,
                                queued_waits, b);
    if (rc == EDDY_OK)
        rc = metrics_gauge_fn(reg, "eddy_kafka_fetches_waiting", "Fetch requests long-polling for data.", NULL,
                              fetches_waiting, b);
    return rc;
}

int kafka_broker_start(log_t *log, const kafka_broker_opts_t *opts, kafka_broker_t **out,
                       char *errstr, size_t errlen) {
    int rc;
    kafka_broker_t *b = eddy_calloc(1, sizeof *b);
    if (!b) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    b->log = log;
    b->opts = *opts;
    if (b->opts.max_request_bytes == 0) b->opts.max_request_bytes = KAFKA_DEFAULT_MAX_REQUEST;
    if (b->opts.threads <= 0) b->opts.threads = 2;
    if (b->opts.default_partitions <= 0) b->opts.default_partitions = 1;
    snprintf(b->cluster_id, sizeof b->cluster_id, "eddy-cluster");
    pthread_mutex_init(&b->tick_mu, NULL);
    pthread_cond_init(&b->tick_cv, NULL);
    if (b->opts.queued_max_request_bytes == 0) b->opts.queued_max_request_bytes = KAFKA_DEFAULT_QUEUED_BYTES;
    kafka_budget_init(&b->budget, b->opts.queued_max_request_bytes);
    if (b->opts.fetch_max_bytes == 0) b->opts.fetch_max_bytes = KAFKA_DEFAULT_FETCH_MAX_BYTES;

    kafka_group_opts_t gopts;
    kafka_group_opts_init(&gopts);
    if (opts->min_session_timeout_ms > 0) gopts.min_session_timeout_ms = opts->min_session_timeout_ms;
    kafka_group_store_t store;
    kafka_group_store_log(log, &store);
    b->groups = kafka_groups_new(&gopts, &store, time_now_ms());
    if (!b->groups) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
        goto err;
    }
    net_server_opts_t nopts = {
        .name = "kafka",
        .proto = &kafka_proto,
        .ctx = b,
        .threads = b->opts.threads,
        .max_input = b->opts.max_request_bytes + 4,
        .out_high = 8u << 20,
        .out_max = 512u << 20, /* Fetch responses are mostly file ranges: no memory */
        .max_pending = 256, /* requests in flight per connection before reading pauses */
    };
    if ((rc = net_server_new(&nopts, &b->srv, errstr, errlen)) != EDDY_OK) goto err;
    for (size_t i = 0; i < opts->nlisten; i++)
        if ((rc = net_server_listen(b->srv, opts->listen[i], errstr, errlen)) != EDDY_OK) goto err;
    if ((rc = broker_addresses(b, errstr, errlen)) != EDDY_OK) goto err;
    if (b->opts.metrics && broker_metrics(b, b->opts.metrics) != EDDY_OK)
        elog_warn("kafka", "some broker metrics could not be registered");
    if (pthread_create(&b->ticker, NULL, ticker_main, b) != 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot start the group coordinator's timer thread");
        goto err;
    }
    b->ticker_started = true;
    if ((rc = net_server_start(b->srv, errstr, errlen)) != EDDY_OK) goto err;
    for (size_t i = 0; i < net_server_listener_count(b->srv); i++) {
        char addr[300];
        if (net_server_listener_addr(b->srv, i, addr, sizeof addr) == EDDY_OK)
            fprintf(stderr, "eddy: kafka listening on %s\n", addr);
    }
    *out = b;
    return EDDY_OK;
err:
    kafka_broker_stop(b);
    return rc;
}

void kafka_broker_stop(kafka_broker_t *b) {
    if (!b) return;
    pthread_mutex_lock(&b->tick_mu);
    b->stopping = true;
    pthread_cond_broadcast(&b->tick_cv);
    pthread_mutex_unlock(&b->tick_mu);
    if (b->ticker_started) pthread_join(b->ticker, NULL);
    /* Joins and syncs waiting for a rebalance are answered now (clients retry elsewhere or
     * later); long-polls end when their connections close; Produce completions arrive from the
     * log, which is still open. */
    if (b->groups) kafka_groups_abort(b->groups);
    if (b->srv) net_server_free(b->srv);
    kafka_groups_free(b->groups);
    pthread_cond_destroy(&b->tick_cv);
    pthread_mutex_destroy(&b->tick_mu);
    kafka_budget_destroy(&b->budget);
    eddy_free(b);
}
