/* One client connection: TCP on the session's libuv loop, the handshake (OPTIONS, STARTUP with
 * lz4 when offered, PasswordAuthenticator, USE), stream ids, and the read and write paths.
 * Envelopes queue in out_raw as requests are sent and go out in one write per loop iteration;
 * v5 connections wrap them in segments at that moment. Everything here runs on the I/O thread. */
#include <stdio.h>
#include <strings.h>

#include "cql/cql_client_int.h"

cql_req_t cql_req_abandoned;

#define DRIVER_NAME "eddy"
#define DRIVER_VERSION "0.1"

static void conn_handshake_options(cql_conn_t *conn);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- streams and writes --------------------------------------------------------------------- */

int cql_conn_send(cql_conn_t *conn, cql_req_t *req) {
    if (conn->nfree == 0) return EDDY_ERR_BUSY;
    int16_t id = conn->free_ids[--conn->nfree];
    conn->streams[id] = req;
    conn->inflight++;
    req->conn = conn;
    req->stream = id;
    req->send_seq = conn->flush_seq;
    store_u16(req->frame.buf + 2, (uint16_t)id);
    wr_bytes(&conn->out_raw, req->frame.buf, req->frame.len);
    cql_client_mark_dirty(conn->client, conn);
    return EDDY_OK;
}

static void release_stream(cql_conn_t *conn, int16_t id) {
    conn->streams[id] = NULL;
    conn->free_ids[conn->nfree++] = id;
    conn->inflight--;
}

static void on_write(uv_write_t *wreq, int status) {
    cql_conn_t *conn = wreq->data;
    conn->writing = false;
    wr_reset(&conn->out_wire);
    if (status < 0 && conn->state != CQL_CONN_CLOSING) {
        char why[128];
        snprintf(why, sizeof why, "write to %s failed: %s", conn->host->name, uv_strerror(status));
        cql_conn_close(conn, EDDY_ERR_IO, why);
    } else if (conn->out_raw.len > 0) {
        cql_client_mark_dirty(conn->client, conn);
    }
    cql_client_flush(conn->client);
}

/* Starts one write of everything queued (called by cql_client_flush). */
void cql_conn_flush(cql_conn_t *conn) {
    if (conn->writing || conn->out_raw.len == 0 || conn->state == CQL_CONN_CLOSING ||
        conn->state == CQL_CONN_CONNECTING)
        return;
    conn->flush_seq++;
    if (cql_codec_framed(conn->codec) || cql_codec_compression(conn->codec) != CQL_COMPRESSION_NONE) {
        wr_reset(&conn->out_wire);
        size_t mark = cql_codec_out_begin(conn->codec, &conn->out_wire);
        wr_bytes(&conn->out_wire, conn->out_raw.buf, conn->out_raw.len);
        if (cql_codec_out_end(conn->codec, &conn->out_wire, mark) != EDDY_OK) {
            cql_conn_close(conn, EDDY_ERR_NOMEM, "out of memory encoding requests");
            return;
        }
        wr_reset(&conn->out_raw);
    } else {
        wr_t tmp = conn->out_wire;
        conn->out_wire = conn->out_raw;
        conn->out_raw = tmp;
        wr_reset(&conn->out_raw);
    }
    uv_buf_t buf = uv_buf_init((char *)conn->out_wire.buf, (unsigned)conn->out_wire.len);
    conn->write_req.data = conn;
    int rc = uv_write(&conn->write_req, (uv_stream_t *)&conn->tcp, &buf, 1, on_write);
    if (rc < 0) {
        char why[128];
        snprintf(why, sizeof why, "write to %s failed: %s", conn->host->name, uv_strerror(rc));
        cql_conn_close(conn, EDDY_ERR_IO, why);
        return;
    }
    conn->writing = true;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void on_closed(uv_handle_t *h) {
    cql_conn_t *conn = h->data;
    cql_client_conn_gone(conn);
    cql_codec_free(conn->codec);
    wr_free(&conn->out_raw);
    wr_free(&conn->out_wire);
    eddy_free(conn->streams);
    eddy_free(conn->free_ids);
    eddy_free(conn);
}

void cql_conn_close(cql_conn_t *conn, int status, const char *why) {
    if (conn->state == CQL_CONN_CLOSING) return;
    bool was_ready = conn->state == CQL_CONN_READY;
    conn->state = CQL_CONN_CLOSING;
    if (!was_ready) cql_client_conn_failed(conn, status, why, false);
    cql_error_t err;
    cql_error_set(&err, -1, "%s", why);
    for (uint32_t id = 0; id < conn->max_streams; id++) {
        cql_req_t *req = conn->streams[id];
        if (!req) continue;
        bool unsent = req != &cql_req_abandoned && req->send_seq == conn->flush_seq;
        release_stream(conn, (int16_t)id);
        if (req == &cql_req_abandoned) continue;
        req->conn = NULL;
        if (unsent) req->unsent = true;
        cql_req_finish(req, status, NULL, &err);
    }
    uv_read_stop((uv_stream_t *)&conn->tcp);
    uv_close((uv_handle_t *)&conn->tcp, on_closed);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    cql_conn_t *conn = h->data;
    *buf = uv_buf_init((char *)conn->read_buf, sizeof conn->read_buf);
}

static void on_connect(uv_connect_t *creq, int status) {
    cql_conn_t *conn = creq->data;
    if (conn->state == CQL_CONN_CLOSING) return;
    if (status < 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot connect to %s: %s", conn->host->name, uv_strerror(status));
        cql_conn_close(conn, EDDY_ERR_IO, why);
        cql_client_flush(conn->client);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    conn->state = CQL_CONN_HANDSHAKE;
    int rc = uv_read_start((uv_stream_t *)&conn->tcp, alloc_cb, on_read);
    if (rc < 0) {
        cql_conn_close(conn, EDDY_ERR_IO, uv_strerror(rc));
        return;
    }
    conn_handshake_options(conn);
    cql_client_flush(conn->client);
}

cql_conn_t *cql_conn_open(cql_host_t *host, int slot) {
    cql_client_t *c = host->client;
    const cql_client_opts_t *o = cql_client_opts(c);
    cql_conn_t *conn = eddy_calloc(1, sizeof *conn);
    if (!conn) return NULL;
    conn->client = c;
    conn->host = host;
    conn->slot = slot;
    conn->version = cql_client_version(c);
    conn->max_streams = o->max_requests_per_conn;
    conn->codec = cql_codec_new(false, 0);
    conn->streams = eddy_calloc(conn->max_streams, sizeof *conn->streams);
    conn->free_ids = eddy_calloc(conn->max_streams, sizeof *conn->free_ids);
    if (!conn->codec || !conn->streams || !conn->free_ids) goto err;
    /* Lowest ids first out of the stack. */
    for (uint32_t i = 0; i < conn->max_streams; i++) conn->free_ids[i] = (int16_t)(conn->max_streams - 1 - i);
    conn->nfree = conn->max_streams;
    wr_init(&conn->out_raw, 0);
    wr_init(&conn->out_wire, 0);
    if (uv_tcp_init(cql_client_loop(c), &conn->tcp) < 0) goto err;
    conn->tcp.data = conn;
    conn->state = CQL_CONN_CONNECTING;
    conn->deadline_ms = cql_client_now_ms() + o->connect_timeout_ms;
    conn->connect_req.data = conn;
    host->conns[slot] = conn;
    int rc = uv_tcp_connect(&conn->connect_req, &conn->tcp, (const struct sockaddr *)&host->addr, on_connect);
    if (rc < 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot connect to %s: %s", host->name, uv_strerror(rc));
        cql_conn_close(conn, EDDY_ERR_IO, why);
    }
    return conn;
err:
    cql_codec_free(conn->codec);
    eddy_free(conn->streams);
    eddy_free(conn->free_ids);
    eddy_free(conn);
    return NULL;
}

/* ---- the handshake -------------------------------------------------------------------------- */

static bool is_version_refusal(const cql_error_t *err) {
    return err && (err->code == CQL_ERR_PROTOCOL || err->code == CQL_ERR_SERVER) &&
           (strcasestr(err->message, "protocol version") || strcasestr(err->message, "USE_BETA"));
}

static void handshake_fail(cql_conn_t *conn, int status, const cql_error_t *err, const char *what) {
    if (conn->state == CQL_CONN_CLOSING) return;
    char why[600];
    snprintf(why, sizeof why, "%s with %s: %s", what, conn->host->name, err ? err->message : "failed");
    bool refused = is_version_refusal(err);
    if (!refused && err && (err->code == CQL_ERR_BAD_CREDENTIALS || err->code == CQL_ERR_INVALID ||
                            err->code == CQL_ERR_SYNTAX))
        status = EDDY_ERR_INVALID;
    cql_client_conn_failed(conn, status, why, refused);
    conn->state = CQL_CONN_CLOSING;
    uv_read_stop((uv_stream_t *)&conn->tcp);
    /* Nothing else is in flight during the handshake. */
    uv_close((uv_handle_t *)&conn->tcp, on_closed);
}

static void send_internal(cql_conn_t *conn, uint8_t opcode, cql_msg_t *msg, cql_req_fn fn) {
    msg->opcode = opcode;
    msg->version = conn->version;
    cql_req_t *req = cql_req_internal(conn->client, msg, fn, conn);
    if (!req) {
        cql_conn_close(conn, EDDY_ERR_NOMEM, "out of memory");
        return;
    }
    req->pin = conn;
    if (cql_conn_send(conn, req) != EDDY_OK) {
        cql_req_free(req);
        cql_conn_close(conn, EDDY_ERR_BUSY, "no stream id for the handshake");
    }
}

static void conn_ready(cql_conn_t *conn) {
    cql_codec_set_version(conn->codec, conn->version);
    conn->state = CQL_CONN_READY;
    conn->deadline_ms = 0;
    cql_client_conn_ready(conn);
}

static void on_use(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_conn_t *conn = req->internal_arg;
    if (status != EDDY_OK) {
        handshake_fail(conn, status, err, "USE");
        return;
    }
    cql_result_free(res);
    conn_ready(conn);
}

/* Sends USE "ks" (quoted) for the session keyspace; false when there is none. */
static bool send_use(cql_conn_t *conn, cql_req_fn fn) {
    char ks[CQL_KEYSPACE_MAX];
    cql_client_keyspace_copy(conn->client, ks, sizeof ks);
    if (!ks[0]) return false;
    wr_t q;
    wr_init(&q, 64);
    wr_str(&q, "USE \"");
    for (const char *p = ks; *p; p++) {
        if (*p == '"') wr_u8(&q, '"');
        wr_u8(&q, (uint8_t)*p);
    }
    wr_u8(&q, '"');
    cql_msg_t m = {0};
    m.u.query.query = eddy_view(q.buf, q.len);
    m.u.query.params.consistency = CQL_CL_ONE;
    send_internal(conn, CQL_OP_QUERY, &m, fn);
    wr_free(&q);
    return true;
}

static void after_auth(cql_conn_t *conn) {
    if (!send_use(conn, on_use)) conn_ready(conn);
}

static void on_use_again(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_result_free(res);
}

void cql_conn_use(cql_conn_t *conn) { send_use(conn, on_use_again); }

static void on_auth(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_conn_t *conn = req->internal_arg;
    if (status != EDDY_OK) {
        handshake_fail(conn, status, err, "authentication");
        return;
    }
    uint8_t op = cql_result_msg(res)->opcode;
    cql_result_free(res);
    if (op != CQL_OP_AUTH_SUCCESS) {
        cql_error_t e;
        cql_error_set(&e, -1, "unexpected %s during authentication (only PasswordAuthenticator is supported)",
                      cql_opcode_name(op));
        handshake_fail(conn, EDDY_ERR_UNSUPPORTED, &e, "authentication");
        return;
    }
    after_auth(conn);
}

static void on_startup(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_conn_t *conn = req->internal_arg;
    if (status != EDDY_OK) {
        handshake_fail(conn, status, err, "STARTUP");
        return;
    }
    uint8_t op = cql_result_msg(res)->opcode;
    cql_result_free(res);
    /* v5 framing starts right after READY or AUTHENTICATE, in both directions. */
    if (conn->version >= 5) cql_codec_start_framing(conn->codec);
    if (op == CQL_OP_READY) {
        after_auth(conn);
        return;
    }
    if (op != CQL_OP_AUTHENTICATE) {
        cql_error_t e;
        cql_error_set(&e, -1, "unexpected %s answer to STARTUP", cql_opcode_name(op));
        handshake_fail(conn, EDDY_ERR_CORRUPT, &e, "STARTUP");
        return;
    }
    const cql_client_opts_t *o = cql_client_opts(conn->client);
    if (!o->username) {
        cql_error_t e;
        cql_error_set(&e, CQL_ERR_BAD_CREDENTIALS, "the server requires authentication and no username was given");
        handshake_fail(conn, EDDY_ERR_INVALID, &e, "STARTUP");
        return;
    }
    /* SASL PLAIN: \0user\0password */
    wr_t tok;
    wr_init(&tok, 64);
    wr_u8(&tok, 0);
    wr_str(&tok, o->username);
    wr_u8(&tok, 0);
    wr_str(&tok, o->password ? o->password : "");
    cql_msg_t m = {0};
    m.u.auth_token = cql_value(tok.buf, tok.len);
    send_internal(conn, CQL_OP_AUTH_RESPONSE, &m, on_auth);
    wr_free(&tok);
}

static void on_supported(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_conn_t *conn = req->internal_arg;
    if (status != EDDY_OK) {
        handshake_fail(conn, status, err, "OPTIONS");
        return;
    }
    const cql_msg_t *sup = cql_result_msg(res);
    const cql_client_opts_t *o = cql_client_opts(conn->client);
    if (sup->opcode == CQL_OP_SUPPORTED && !o->no_compression) {
        for (uint16_t i = 0; i < sup->u.supported.count; i++) {
            const cql_multimap_entry_t *e = &sup->u.supported.items[i];
            if (!eddy_view_eq_str(e->key, "COMPRESSION")) continue;
            for (uint16_t j = 0; j < e->values.count; j++)
                if (eddy_view_eq_str(e->values.items[j], "lz4")) conn->want_lz4 = true;
        }
    }
    cql_result_free(res);
    cql_kv_t opts[4] = {
        {eddy_view_str("CQL_VERSION"), eddy_view_str("3.0.0")},
        {eddy_view_str("DRIVER_NAME"), eddy_view_str(DRIVER_NAME)},
        {eddy_view_str("DRIVER_VERSION"), eddy_view_str(DRIVER_VERSION)},
        {eddy_view_str("COMPRESSION"), eddy_view_str("lz4")},
    };
    cql_msg_t m = {0};
    m.u.startup.items = opts;
    m.u.startup.count = conn->want_lz4 ? 4 : 3;
    send_internal(conn, CQL_OP_STARTUP, &m, on_startup);
    /* Answers to STARTUP may already be compressed. */
    if (conn->want_lz4) cql_codec_set_compression(conn->codec, CQL_COMPRESSION_LZ4);
}

static void conn_handshake_options(cql_conn_t *conn) {
    cql_msg_t m = {0};
    send_internal(conn, CQL_OP_OPTIONS, &m, on_supported);
}

/* ---- reading -------------------------------------------------------------------------------- */

static void handle_envelope(cql_conn_t *conn, const cql_envelope_t *env) {
    if (env->h.stream < 0) {
        if (env->h.opcode != CQL_OP_EVENT) return;
        arena_t a;
        arena_init(&a, 1024);
        cql_msg_t m;
        char err[128];
        if (cql_msg_decode(env, &a, &m, err, sizeof err) == EDDY_OK) cql_client_on_event(conn->client, &m);
        arena_free(&a);
        return;
    }
    if ((uint32_t)env->h.stream >= conn->max_streams || !conn->streams[env->h.stream]) {
        char why[128];
        snprintf(why, sizeof why, "%s answered stream %d, which has no request", conn->host->name, env->h.stream);
        cql_conn_close(conn, EDDY_ERR_CORRUPT, why);
        return;
    }
    cql_req_t *req = conn->streams[env->h.stream];
    release_stream(conn, env->h.stream);
    if (req == &cql_req_abandoned) return;
    req->conn = NULL;
    cql_result_t *res = NULL;
    cql_error_t err;
    memset(&err, 0, sizeof err);
    int status = cql_result_from_envelope(env, &res, &err);
    req->answered_by = conn;
    cql_req_finish(req, status, res, &err);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    cql_conn_t *conn = s->data;
    if (nread == 0) return;
    if (nread < 0) {
        char why[160];
        snprintf(why, sizeof why, "connection to %s lost: %s", conn->host->name,
                 nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
        cql_conn_close(conn, EDDY_ERR_IO, why);
        cql_client_flush(conn->client);
        return;
    }
    if (cql_codec_feed(conn->codec, buf->base, (size_t)nread) != EDDY_OK) {
        cql_conn_close(conn, EDDY_ERR_NOMEM, "out of memory");
        return;
    }
    while (conn->state != CQL_CONN_CLOSING) {
        cql_envelope_t env;
        char err[256];
        int rc = cql_codec_next(conn->codec, &env, err, sizeof err);
        if (rc == EDDY_ERR_NEED_MORE) break;
        if (rc != EDDY_OK) {
            char why[400];
            snprintf(why, sizeof why, "bad data from %s: %s", conn->host->name, err);
            cql_conn_close(conn, EDDY_ERR_CORRUPT, why);
            break;
        }
        handle_envelope(conn, &env);
    }
    cql_client_flush(conn->client);
}
