/* The CQL server of `eddy up`: connections on net's loops, version negotiation as Cassandra 4
 * answers it (a protocol error naming the supported versions, in a header of our highest version
 * with the request's stream, then close), OPTIONS/SUPPORTED at any time, STARTUP with lz4 or
 * snappy, PasswordAuthenticator, REGISTER and SCHEMA_CHANGE events, and the hand-off of
 * QUERY/PREPARE/EXECUTE/BATCH to the executor. Answers produced while handling one batch of
 * input leave in one reply (one v5 segment); durable writes answer later from the store's sync
 * thread through a cql_deferred_t. */
#include <arpa/inet.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "cql/cql_int.h"
#include "net/net.h"
#include "store/store.h"

#define CQL_RELEASE_VERSION "4.0.11"
#define CQL_LANGUAGE_VERSION "3.4.5"

typedef struct cql_reg {
    struct cql_reg *next;
    net_conn_t *conn;          /* kept */
    cql_outfmt_t fmt;
    uint8_t events;
} cql_reg_t;

struct cql_server {
    cql_server_opts_t opts;
    char **users;              /* copies of "user:password" */
    net_server_t *net;
    store_t *store;
    int listen_id;
    pthread_mutex_t reg_lock;
    cql_reg_t *regs;
    cql_pcache_t *pcache;
    uint8_t host_id[16];
    uint8_t addr[16];
    size_t addr_len;
    int port;
    int64_t started_s;
    _Atomic uint32_t pending;
    /* the schema thread: schema changes, one at a time, off the loops */
    pthread_t schema_thread;
    bool schema_started;
    pthread_mutex_t schema_lock;
    pthread_cond_t schema_cond;
    struct cql_schema_job *jobs, **jobs_tail;
    bool schema_stop;
};

/* A schema change for the schema thread: the statement's text and session keyspace, and the
 * deferred answer it completes. */
typedef struct cql_schema_job {
    struct cql_schema_job *next;
    cql_deferred_t *d;
    uint8_t version;
    int16_t stream;
    char keyspace[CQL_KEYSPACE_MAX];
    size_t len;
    char text[];
} cql_schema_job_t;

/* Answers finished off the loop (durable writes) gather here per connection and leave together:
 * one post to the loop and one reply (one v5 segment) for all that completed meanwhile, instead
 * of one each. Reference-counted by the connection and by every deferred answer. */
typedef struct cql_outbox {
    pthread_mutex_t lock;
    wr_t envs;                 /* finished envelopes */
    bool posted;               /* a flush is queued on the loop */
    cql_outfmt_t fmt;
    _Atomic int refs;
} cql_outbox_t;

struct cql_deferred {
    cql_server_t *srv;
    net_conn_t *conn;          /* kept */
    cql_outbox_t *ob;          /* referenced */
    cql_outfmt_t fmt;
    int16_t stream;
    wr_t env;                  /* the success answer */
    _Atomic int refs;          /* the server's hand-over and the completion */
    int status;
    char msg[512];
};

store_t *cql_server_store(const cql_server_t *srv) { return srv->store; }
const cql_server_opts_t *cql_server_opts(const cql_server_t *srv) { return &srv->opts; }
cql_pcache_t *cql_server_pcache(cql_server_t *srv) { return srv->pcache; }
const uint8_t *cql_server_host_id(const cql_server_t *srv) { return srv->host_id; }
const uint8_t *cql_server_addr(const cql_server_t *srv, size_t *len) {
    *len = srv->addr_len;
    return srv->addr;
}
int cql_server_port(const cql_server_t *srv) { return srv->port; }
int64_t cql_server_started_s(const cql_server_t *srv) { return srv->started_s; }

/* ---- writing answers ------------------------------------------------------------------------ */

/* Opens the connection's answer buffer (a v5 segment header is reserved then). */
static void out_open(cql_sconn_t *sc) {
    if (sc->out_open) return;
    sc->out_mark = cql_out_begin(&sc->fmt, &sc->out);
    sc->out_open = true;
}

/* Sends what was gathered as one reply. */
static void out_flush(cql_sconn_t *sc) {
    if (!sc->out_open) return;
    sc->out_open = false;
    if (cql_out_end(&sc->fmt, &sc->out, sc->out_mark, &sc->scratch) != EDDY_OK || sc->out.len == 0) {
        if (!wr_ok(&sc->out)) net_conn_close(sc->conn);
        wr_reset(&sc->out);
        return;
    }
    net_reply_t *reply = net_reply_new();
    if (!reply || net_reply_add_wr(reply, &sc->out) != EDDY_OK) {
        net_reply_free(reply);
        net_conn_close(sc->conn);
        return;
    }
    /* net took the buffer, or copied it and left it to us for reuse */
    net_conn_send(sc->conn, reply);
}

static void write_error_body(wr_t *w, uint8_t version, int32_t code, const char *msg, const char *ks,
                             const char *table, const uint8_t *id, size_t idlen) {
    cql_error_msg_t e;
    memset(&e, 0, sizeof e);
    e.code = code;
    e.message = eddy_view_str(msg);
    e.keyspace = eddy_view_str(ks ? ks : "");
    e.table = eddy_view_str(table ? table : "");
    e.unprepared_id = eddy_view(id, idlen);
    e.consistency = CQL_CL_ONE;
    e.write_type = eddy_view_str("SIMPLE");
    cql_wr_error_body(w, version, &e);
}

static void send_error(cql_sconn_t *sc, uint8_t version, int16_t stream, int32_t code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void send_error(cql_sconn_t *sc, uint8_t version, int16_t stream, int32_t code, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    out_open(sc);
    size_t start = cql_env_begin(&sc->out, version, true, 0, stream, CQL_OP_ERROR);
    write_error_body(&sc->out, version, code, msg, NULL, NULL, NULL, 0);
    cql_env_end(&sc->out, start);
}

/* ---- deferred answers ----------------------------------------------------------------------- */

cql_deferred_t *cql_exec_defer(cql_exec_t *x) {
    if (x->deferred) return x->deferred;
    cql_deferred_t *d = eddy_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->srv = x->srv;
    d->conn = x->sc->conn;
    d->ob = x->sc->outbox;
    atomic_fetch_add(&d->ob->refs, 1);
    d->fmt = x->sc->fmt;
    d->stream = x->msg->stream;
    wr_init(&d->env, 0);
    atomic_store(&d->refs, 2);
    net_conn_keep(d->conn);
    atomic_fetch_add(&x->srv->pending, 1);
    x->deferred = d;
    return d;
}

static cql_outbox_t *outbox_new(void) {
    cql_outbox_t *ob = eddy_calloc(1, sizeof *ob);
    if (!ob) return NULL;
    pthread_mutex_init(&ob->lock, NULL);
    wr_init(&ob->envs, 0);
    atomic_store(&ob->refs, 1);
    return ob;
}

static void outbox_release(cql_outbox_t *ob) {
    if (!ob || atomic_fetch_sub(&ob->refs, 1) != 1) return;
    pthread_mutex_destroy(&ob->lock);
    wr_free(&ob->envs);
    eddy_free(ob);
}

/* On the connection's loop: everything gathered so far leaves as one reply. */
static void outbox_flush(net_conn_t *conn, void *arg) {
    cql_outbox_t *ob = arg;
    wr_t envs;
    pthread_mutex_lock(&ob->lock);
    envs = ob->envs;
    wr_init(&ob->envs, 0);
    ob->posted = false;
    cql_outfmt_t fmt = ob->fmt;
    pthread_mutex_unlock(&ob->lock);
    if (!net_conn_closed(conn) && envs.len > 0) {
        wr_t w, scratch;
        wr_init(&w, envs.len + 64);
        wr_init(&scratch, 0);
        size_t mark = cql_out_begin(&fmt, &w);
        wr_bytes(&w, envs.buf, envs.len);
        net_reply_t *reply = NULL;
        if (cql_out_end(&fmt, &w, mark, &scratch) == EDDY_OK && (reply = net_reply_new()) &&
            net_reply_add_wr(reply, &w) == EDDY_OK) {
            net_conn_send(conn, reply);
        } else {
            net_reply_free(reply);
            net_conn_close(conn);
        }
        wr_free(&w);
        wr_free(&scratch);
    }
    wr_free(&envs);
    outbox_release(ob);
}

static void deferred_release(cql_deferred_t *d) {
    if (atomic_fetch_sub(&d->refs, 1) != 1) return;
    cql_outbox_t *ob = d->ob;
    bool post = false;
    pthread_mutex_lock(&ob->lock);
    ob->fmt = d->fmt;
    if (d->status == EDDY_OK) {
        wr_bytes(&ob->envs, d->env.buf, d->env.len);
    } else {
        size_t start = cql_env_begin(&ob->envs, d->fmt.version, true, 0, d->stream, CQL_OP_ERROR);
        write_error_body(&ob->envs, d->fmt.version, CQL_ERR_SERVER, d->msg, NULL, NULL, NULL, 0);
        cql_env_end(&ob->envs, start);
    }
    if (!ob->posted) post = ob->posted = true;
    pthread_mutex_unlock(&ob->lock);
    if (post) {
        atomic_fetch_add(&ob->refs, 1); /* the post's */
        if (net_conn_post(d->conn, outbox_flush, ob) != EDDY_OK) {
            pthread_mutex_lock(&ob->lock);
            ob->posted = false;
            pthread_mutex_unlock(&ob->lock);
            outbox_release(ob);
            net_conn_close_after_flush(d->conn);
        }
    }
    wr_free(&d->env);
    atomic_fetch_sub(&d->srv->pending, 1);
    net_conn_release(d->conn);
    outbox_release(ob);
    eddy_free(d);
}

void cql_deferred_done(cql_deferred_t *d, int status, const char *msg) {
    d->status = status;
    if (status != EDDY_OK) snprintf(d->msg, sizeof d->msg, "%s", msg && msg[0] ? msg : eddy_strerror(status));
    deferred_release(d);
}

void cql_deferred_store_done(void *arg, int status) {
    cql_deferred_done(arg, status, status == EDDY_OK ? NULL : "the write could not be made durable");
}

/* ---- errors --------------------------------------------------------------------------------- */

int cql_exec_fail(cql_exec_t *x, int32_t code, const char *fmt, ...) {
    if (x->err_code) return EDDY_ERR_INVALID;
    x->err_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err_msg, sizeof x->err_msg, fmt, ap);
    va_end(ap);
    return EDDY_ERR_INVALID;
}

int cql_exec_fail_status(cql_exec_t *x, int status, const char *msg) {
    int32_t code;
    switch (status) {
    case EDDY_ERR_INVALID:
    case EDDY_ERR_NOT_FOUND:
    case EDDY_ERR_TOO_LARGE:
    case EDDY_ERR_RANGE:
    case EDDY_ERR_CONFLICT:
    case EDDY_ERR_UNSUPPORTED: code = CQL_ERR_INVALID; break;
    case EDDY_ERR_EXISTS: code = CQL_ERR_ALREADY_EXISTS; break;
    case EDDY_ERR_CORRUPT: code = CQL_ERR_PROTOCOL; break;
    case EDDY_ERR_BUSY: code = CQL_ERR_OVERLOADED; break;
    default: code = CQL_ERR_SERVER; break;
    }
    cql_exec_fail(x, code, "%s", msg && msg[0] ? msg : eddy_strerror(status));
    return status;
}

/* ---- the handshake -------------------------------------------------------------------------- */

static void answer_supported(cql_sconn_t *sc, const cql_msg_t *m) {
    eddy_view_t cqlv[1] = {eddy_view_str(CQL_LANGUAGE_VERSION)};
    eddy_view_t comp[2] = {eddy_view_str("snappy"), eddy_view_str("lz4")};
    eddy_view_t versions[3] = {eddy_view_str("3/v3"), eddy_view_str("4/v4"), eddy_view_str("5/v5")};
    cql_multimap_entry_t entries[3] = {
        {eddy_view_str("CQL_VERSION"), {1, cqlv}},
        {eddy_view_str("COMPRESSION"), {2, comp}},
        {eddy_view_str("PROTOCOL_VERSIONS"), {3, versions}},
    };
    cql_msg_t r;
    memset(&r, 0, sizeof r);
    r.opcode = CQL_OP_SUPPORTED;
    r.version = m->version;
    r.stream = m->stream;
    r.u.supported.count = 3;
    r.u.supported.items = entries;
    out_open(sc);
    cql_msg_encode(&sc->out, &r);
}

static void answer_empty(cql_sconn_t *sc, const cql_msg_t *m, uint8_t opcode) {
    out_open(sc);
    size_t start = cql_env_begin(&sc->out, m->version, true, 0, m->stream, opcode);
    cql_env_end(&sc->out, start);
}

/* Returns false when the connection must close. */
static bool handle_startup(cql_sconn_t *sc, const cql_msg_t *m) {
    if (sc->started) {
        send_error(sc, m->version, m->stream, CQL_ERR_PROTOCOL, "Unexpected message STARTUP, the connection is already initialized");
        return false;
    }
    cql_compression_t comp = CQL_COMPRESSION_NONE;
    bool have_cql_version = false;
    for (uint16_t i = 0; i < m->u.startup.count; i++) {
        const cql_kv_t *kv = &m->u.startup.items[i];
        if (eddy_view_eq_str(kv->key, "CQL_VERSION")) {
            have_cql_version = true;
            if (kv->value.len < 1 || kv->value.ptr[0] != '3') {
                send_error(sc, m->version, m->stream, CQL_ERR_PROTOCOL, "Invalid or unsupported CQL version: %.*s",
                           (int)kv->value.len, (const char *)kv->value.ptr);
                return false;
            }
        } else if (eddy_view_eq_str(kv->key, "COMPRESSION")) {
            if (cql_compression_parse(kv->value, &comp) != EDDY_OK ||
                (m->version >= 5 && comp == CQL_COMPRESSION_SNAPPY)) {
                send_error(sc, m->version, m->stream, CQL_ERR_PROTOCOL, "Unknown compression algorithm: %.*s",
                           (int)kv->value.len, (const char *)kv->value.ptr);
                return false;
            }
        }
    }
    if (!have_cql_version) {
        send_error(sc, m->version, m->stream, CQL_ERR_PROTOCOL, "Missing value CQL_VERSION in STARTUP message");
        return false;
    }
    cql_codec_set_version(sc->codec, m->version);
    cql_codec_set_compression(sc->codec, comp);
    /* v4 answers may be compressed from READY on; v5 compresses segments after READY. */
    out_flush(sc);
    sc->fmt = cql_codec_outfmt(sc->codec);
    sc->started = true;
    if (sc->srv->opts.password_auth) {
        out_open(sc);
        cql_msg_t r;
        memset(&r, 0, sizeof r);
        r.opcode = CQL_OP_AUTHENTICATE;
        r.version = m->version;
        r.stream = m->stream;
        r.u.authenticator = eddy_view_str("org.apache.cassandra.auth.PasswordAuthenticator");
        cql_msg_encode(&sc->out, &r);
    } else {
        sc->authenticated = true;
        answer_empty(sc, m, CQL_OP_READY);
    }
    /* READY / AUTHENTICATE go out unframed; everything after is framed for v5. */
    out_flush(sc);
    if (m->version >= 5) {
        cql_codec_start_framing(sc->codec);
        sc->fmt = cql_codec_outfmt(sc->codec);
    }
    return true;
}

static bool credentials_ok(const cql_server_t *srv, eddy_view_t user, eddy_view_t pass) {
    for (size_t i = 0; i < srv->opts.nusers; i++) {
        const char *u = srv->users[i];
        const char *colon = strchr(u, ':');
        if (!colon) continue;
        if (user.len == (size_t)(colon - u) && !memcmp(u, user.ptr, user.len) && eddy_view_eq_str(pass, colon + 1))
            return true;
    }
    return false;
}

static bool handle_auth(cql_sconn_t *sc, const cql_msg_t *m) {
    if (!sc->started || sc->authenticated) {
        send_error(sc, m->version, m->stream, CQL_ERR_PROTOCOL, "Unexpected message AUTH_RESPONSE");
        return false;
    }
    /* SASL PLAIN: [authzid] \0 user \0 password */
    cql_value_t t = m->u.auth_token;
    eddy_view_t user = {0}, pass = {0};
    bool parsed = false;
    if (t.len > 0) {
        const uint8_t *end = t.ptr + t.len;
        const uint8_t *z1 = memchr(t.ptr, 0, (size_t)t.len);
        const uint8_t *z2 = z1 ? memchr(z1 + 1, 0, (size_t)(end - z1 - 1)) : NULL;
        if (z1 && z2) {
            user = eddy_view(z1 + 1, (size_t)(z2 - z1 - 1));
            pass = eddy_view(z2 + 1, (size_t)(end - z2 - 1));
            parsed = true;
        }
    }
    if (!parsed || !credentials_ok(sc->srv, user, pass)) {
        send_error(sc, m->version, m->stream, CQL_ERR_BAD_CREDENTIALS,
                   "Provided username %.*s and/or password are incorrect", (int)user.len, (const char *)user.ptr);
        return true;
    }
    sc->authenticated = true;
    out_open(sc);
    cql_msg_t r;
    memset(&r, 0, sizeof r);
    r.opcode = CQL_OP_AUTH_SUCCESS;
    r.version = m->version;
    r.stream = m->stream;
    r.u.auth_token = cql_value_null();
    cql_msg_encode(&sc->out, &r);
    return true;
}

static void handle_register(cql_sconn_t *sc, const cql_msg_t *m) {
    uint8_t events = 0;
    for (uint16_t i = 0; i < m->u.register_events.count; i++) {
        eddy_view_t e = m->u.register_events.items[i];
        if (eddy_view_eq_str(e, "SCHEMA_CHANGE")) events |= CQL_EVENT_SCHEMA;
        else if (eddy_view_eq_str(e, "TOPOLOGY_CHANGE")) events |= CQL_EVENT_TOPOLOGY;
        else if (eddy_view_eq_str(e, "STATUS_CHANGE")) events |= CQL_EVENT_STATUS;
        else {
            send_error(sc, m->version, m->stream, CQL_ERR_PROTOCOL, "Invalid value '%.*s' for Type", (int)e.len,
                       (const char *)e.ptr);
            return;
        }
    }
    cql_server_t *srv = sc->srv;
    pthread_mutex_lock(&srv->reg_lock);
    cql_reg_t *reg = NULL;
    for (cql_reg_t *r = srv->regs; r; r = r->next)
        if (r->conn == sc->conn) reg = r;
    if (!reg && (reg = eddy_calloc(1, sizeof *reg))) {
        reg->conn = sc->conn;
        net_conn_keep(sc->conn);
        reg->next = srv->regs;
        srv->regs = reg;
    }
    if (reg) {
        reg->events |= events;
        reg->fmt = sc->fmt;
    }
    pthread_mutex_unlock(&srv->reg_lock);
    sc->registered = true;
    answer_empty(sc, m, CQL_OP_READY);
}

/* Schema changes become EVENTs on every connection registered for them. Runs on the thread that
 * made the change. */
static void on_schema_change(void *arg, const store_schema_event_t *ev) {
    cql_server_t *srv = arg;
    static const char *const changes[] = {"CREATED", "UPDATED", "DROPPED"};
    static const char *const targets[] = {"KEYSPACE", "TABLE", "TYPE"};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_EVENT;
    m.stream = -1;
    m.u.event.type = eddy_view_str("SCHEMA_CHANGE");
    m.u.event.schema.change_type = eddy_view_str(changes[ev->change]);
    m.u.event.schema.target = eddy_view_str(targets[ev->target]);
    m.u.event.schema.keyspace = eddy_view_str(ev->keyspace);
    m.u.event.schema.name = eddy_view_str(ev->name ? ev->name : "");
    wr_t scratch;
    wr_init(&scratch, 0);
    pthread_mutex_lock(&srv->reg_lock);
    for (cql_reg_t *r = srv->regs; r; r = r->next) {
        if (!(r->events & CQL_EVENT_SCHEMA) || net_conn_closed(r->conn)) continue;
        m.version = r->fmt.version;
        wr_t w;
        wr_init(&w, 128);
        size_t mark = cql_out_begin(&r->fmt, &w);
        cql_msg_encode(&w, &m);
        net_reply_t *reply = NULL;
        if (cql_out_end(&r->fmt, &w, mark, &scratch) == EDDY_OK && (reply = net_reply_new()) &&
            net_reply_add_wr(reply, &w) == EDDY_OK)
            net_conn_send(r->conn, reply);
        else
            net_reply_free(reply);
        wr_free(&w);
    }
    pthread_mutex_unlock(&srv->reg_lock);
    wr_free(&scratch);
}

/* ---- requests ------------------------------------------------------------------------------- */

static void schema_submit(cql_sconn_t *sc, cql_exec_t *x);

static void run_statement(cql_sconn_t *sc, const cql_msg_t *m) {
    cql_server_t *srv = sc->srv;
    if (atomic_load(&srv->pending) >= srv->opts.max_pending) {
        send_error(sc, m->version, m->stream, CQL_ERR_OVERLOADED,
                   "Server is in overloaded state. Cannot accept more requests at this point");
        return;
    }
    out_open(sc);
    size_t env = cql_env_begin(&sc->out, m->version, true, 0, m->stream, CQL_OP_RESULT);
    size_t body = sc->out.len;
    cql_exec_t x;
    memset(&x, 0, sizeof x);
    x.srv = srv;
    x.sc = sc;
    x.msg = m;
    x.arena = &sc->arena;
    x.out = &sc->out;
    x.version = m->version;
    cql_exec_run(&x);
    if (x.err_code) {
        sc->out.len = body;
        sc->out.err = EDDY_OK;
        sc->out.buf[env + 4] = CQL_OP_ERROR;
        write_error_body(&sc->out, m->version, x.err_code, x.err_msg, x.err_ks, x.err_table, x.err_id, x.err_id_len);
    }
    if (!wr_ok(&sc->out)) {
        /* The answer could not be built (over a size limit, or memory): say so instead. */
        sc->out.err = EDDY_OK;
        sc->out.len = body;
        sc->out.buf[env + 4] = CQL_OP_ERROR;
        write_error_body(&sc->out, m->version, CQL_ERR_SERVER, "the result is too large to send", NULL, NULL, NULL, 0);
    }
    cql_env_end(&sc->out, env);
    if (x.offload && !x.err_code) {
        /* The answer comes from the schema thread; nothing of it leaves now. */
        sc->out.len = env;
        schema_submit(sc, &x);
        return;
    }
    if (x.deferred) {
        cql_deferred_t *d = x.deferred;
        /* The success answer, or the ERROR that replaced it (sent when the store is done). */
        wr_bytes(&d->env, sc->out.buf + env, sc->out.len - env);
        sc->out.len = env;
        if (!wr_ok(&d->env)) {
            d->status = EDDY_ERR_NOMEM;
            snprintf(d->msg, sizeof d->msg, "out of memory");
        }
        deferred_release(d);
    }
}

/* ---- the schema thread ---------------------------------------------------------------------- */

/* Answers one job: the statement runs again, executed this time, into the deferred's envelope. */
static void schema_run(cql_server_t *srv, cql_sconn_t *wsc, cql_schema_job_t *job) {
    cql_deferred_t *d = job->d;
    snprintf(wsc->keyspace, sizeof wsc->keyspace, "%s", job->keyspace);
    arena_reset(&wsc->arena);
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_QUERY;
    m.version = job->version;
    m.stream = job->stream;
    size_t env = cql_env_begin(&d->env, job->version, true, 0, job->stream, CQL_OP_RESULT);
    size_t body = d->env.len;
    cql_exec_t x;
    memset(&x, 0, sizeof x);
    x.srv = srv;
    x.sc = wsc;
    x.msg = &m;
    x.arena = &wsc->arena;
    x.out = &d->env;
    x.version = job->version;
    x.on_schema_thread = true;
    cql_exec_run_schema(&x, (eddy_view_t){(const uint8_t *)job->text, job->len});
    if (x.err_code || !wr_ok(&d->env)) {
        bool built = !x.err_code;
        d->env.len = body;
        d->env.err = EDDY_OK;
        d->env.buf[env + 4] = CQL_OP_ERROR;
        if (built) write_error_body(&d->env, job->version, CQL_ERR_SERVER, "out of memory", NULL, NULL, NULL, 0);
        else write_error_body(&d->env, job->version, x.err_code, x.err_msg, x.err_ks, x.err_table, NULL, 0);
    }
    cql_env_end(&d->env, env);
    if (!wr_ok(&d->env)) cql_deferred_done(d, EDDY_ERR_NOMEM, "out of memory");
    else cql_deferred_done(d, EDDY_OK, NULL);
}

static void *schema_main(void *arg) {
    cql_server_t *srv = arg;
    cql_sconn_t *wsc = eddy_calloc(1, sizeof *wsc); /* a session of its own: parser, arena */
    if (wsc) {
        wsc->srv = srv;
        arena_init(&wsc->arena, 0);
    }
    pthread_mutex_lock(&srv->schema_lock);
    for (;;) {
        while (!srv->jobs && !srv->schema_stop) pthread_cond_wait(&srv->schema_cond, &srv->schema_lock);
        cql_schema_job_t *job = srv->jobs;
        if (!job) break;
        srv->jobs = job->next;
        if (!srv->jobs) srv->jobs_tail = &srv->jobs;
        pthread_mutex_unlock(&srv->schema_lock);
        if (wsc) schema_run(srv, wsc, job);
        else cql_deferred_done(job->d, EDDY_ERR_NOMEM, "out of memory");
        eddy_free(job);
        pthread_mutex_lock(&srv->schema_lock);
    }
    pthread_mutex_unlock(&srv->schema_lock);
    if (wsc) {
        if (wsc->tools.parser) sql_parser_free(wsc->tools.parser);
        arena_free(&wsc->arena);
        eddy_free(wsc);
    }
    return NULL;
}

/* On the loop: hands the schema change x recorded to the schema thread. */
static void schema_submit(cql_sconn_t *sc, cql_exec_t *x) {
    cql_server_t *srv = sc->srv;
    cql_deferred_t *d = cql_exec_defer(x);
    size_t len = x->offload_text.len;
    cql_schema_job_t *job = d ? eddy_malloc(sizeof *job + len + 1) : NULL;
    if (!job) {
        if (d) {
            d->status = EDDY_ERR_NOMEM;
            snprintf(d->msg, sizeof d->msg, "out of memory");
            deferred_release(d); /* the hand-over */
            deferred_release(d); /* the completion that will not come */
        } else {
            send_error(sc, x->version, x->msg->stream, CQL_ERR_SERVER, "out of memory");
        }
        return;
    }
    job->next = NULL;
    job->d = d;
    job->version = x->version;
    job->stream = x->msg->stream;
    snprintf(job->keyspace, sizeof job->keyspace, "%s", x->offload_keyspace ? x->offload_keyspace : "");
    job->len = len;
    memcpy(job->text, x->offload_text.ptr, len);
    job->text[len] = 0;
    pthread_mutex_lock(&srv->schema_lock);
    *srv->jobs_tail = job;
    srv->jobs_tail = &job->next;
    pthread_cond_signal(&srv->schema_cond);
    pthread_mutex_unlock(&srv->schema_lock);
    deferred_release(d); /* the hand-over: the schema thread's completion sends the answer */
}

/* Returns false when the connection must close after what was answered. */
static bool handle_envelope(cql_sconn_t *sc, const cql_envelope_t *env) {
    char err[300];
    cql_msg_t m;
    arena_reset(&sc->arena);
    int rc = cql_msg_decode(env, &sc->arena, &m, err, sizeof err);
    if (rc != EDDY_OK) {
        send_error(sc, env->h.version, env->h.stream, CQL_ERR_PROTOCOL, "%s", err);
        return false;
    }
    if (cql_opcode_is_response(m.opcode)) {
        send_error(sc, m.version, m.stream, CQL_ERR_PROTOCOL, "Unexpected message %s from a client",
                   cql_opcode_name(m.opcode));
        return false;
    }
    switch (m.opcode) {
    case CQL_OP_OPTIONS: answer_supported(sc, &m); return true;
    case CQL_OP_STARTUP: return handle_startup(sc, &m);
    case CQL_OP_AUTH_RESPONSE: return handle_auth(sc, &m);
    default: break;
    }
    if (!sc->started) {
        send_error(sc, m.version, m.stream, CQL_ERR_PROTOCOL, "Unexpected message %s, expecting STARTUP or OPTIONS",
                   cql_opcode_name(m.opcode));
        return false;
    }
    if (!sc->authenticated) {
        send_error(sc, m.version, m.stream, CQL_ERR_UNAUTHORIZED,
                   "You have not logged in");
        return true;
    }
    if (m.opcode == CQL_OP_REGISTER) handle_register(sc, &m);
    else run_statement(sc, &m);
    return true;
}

static ssize_t on_data(net_conn_t *conn, const uint8_t *data, size_t len) {
    cql_sconn_t *sc = net_conn_data(conn);
    /* this loop thread runs the requests' reads and writes: without RocksDB's per-thread perf
     * counters (a thread-local lookup per key comparison, bloom probe, ...) */
    store_thread_bulk();
    if (cql_codec_feed(sc->codec, data, len) != EDDY_OK) return EDDY_ERR_NOMEM;
    for (;;) {
        cql_envelope_t env;
        char err[300];
        int rc = cql_codec_next(sc->codec, &env, err, sizeof err);
        if (rc == EDDY_ERR_NEED_MORE) break;
        if (rc == EDDY_OK) {
            if (!handle_envelope(sc, &env)) {
                out_flush(sc);
                net_conn_close_after_flush(conn);
                return (ssize_t)len;
            }
            continue;
        }
        /* A version we do not speak: answer in our highest version (or the connection's),
         * on the request's stream, and close; both drivers then step down. */
        uint8_t version = sc->started ? sc->fmt.version : CQL_VERSION_MAX;
        if (rc == EDDY_ERR_UNSUPPORTED || rc == EDDY_ERR_CORRUPT || rc == EDDY_ERR_TOO_LARGE) {
            if (!sc->started) {
                /* Nothing was agreed: the error goes out unframed and uncompressed. */
                out_flush(sc);
                sc->fmt = (cql_outfmt_t){version, CQL_COMPRESSION_NONE, false};
            }
            send_error(sc, version, env.h.stream, CQL_ERR_PROTOCOL, "%s", err);
        }
        out_flush(sc);
        net_conn_close_after_flush(conn);
        return (ssize_t)len;
    }
    out_flush(sc);
    return (ssize_t)len;
}

static int on_open(net_conn_t *conn) {
    cql_sconn_t *sc = eddy_calloc(1, sizeof *sc);
    if (!sc) return EDDY_ERR_NOMEM;
    sc->srv = net_conn_ctx(conn);
    sc->conn = conn;
    sc->codec = cql_codec_new(true, 0);
    if (!sc->codec) {
        eddy_free(sc);
        return EDDY_ERR_NOMEM;
    }
    sc->fmt = (cql_outfmt_t){CQL_VERSION_MAX, CQL_COMPRESSION_NONE, false};
    sc->outbox = outbox_new();
    if (!sc->outbox) {
        cql_codec_free(sc->codec);
        eddy_free(sc);
        return EDDY_ERR_NOMEM;
    }
    wr_init(&sc->out, 0);
    wr_init(&sc->scratch, 0);
    arena_init(&sc->arena, 4096);
    net_conn_set_data(conn, sc);
    return EDDY_OK;
}

static void on_close(net_conn_t *conn) {
    cql_sconn_t *sc = net_conn_data(conn);
    if (!sc) return;
    if (sc->registered) {
        cql_server_t *srv = sc->srv;
        pthread_mutex_lock(&srv->reg_lock);
        for (cql_reg_t **pp = &srv->regs; *pp; pp = &(*pp)->next) {
            if ((*pp)->conn == conn) {
                cql_reg_t *r = *pp;
                *pp = r->next;
                net_conn_release(r->conn);
                eddy_free(r);
                break;
            }
        }
        pthread_mutex_unlock(&srv->reg_lock);
    }
    cql_tools_t *t = &sc->tools;
    if (t->parser) sql_parser_free(t->parser);
    if (t->writer) store_write_free(t->writer);
    if (t->iter) store_iter_free(t->iter);
    wr_free(&t->rows);
    wr_free(&t->tmp);
    cql_codec_free(sc->codec);
    outbox_release(sc->outbox);
    wr_free(&sc->out);
    wr_free(&sc->scratch);
    arena_free(&sc->arena);
    net_conn_set_data(conn, NULL);
    eddy_free(sc);
}

static const net_proto_t cql_proto = {on_open, on_data, on_close};

/* ---- start and stop ------------------------------------------------------------------------- */

/* Ends the schema thread once its queue is empty. */
static void schema_thread_stop(cql_server_t *srv) {
    if (!srv->schema_started) return;
    pthread_mutex_lock(&srv->schema_lock);
    srv->schema_stop = true;
    pthread_cond_signal(&srv->schema_cond);
    pthread_mutex_unlock(&srv->schema_lock);
    pthread_join(srv->schema_thread, NULL);
    srv->schema_started = false;
}

static void server_free(cql_server_t *srv) {
    if (srv->listen_id > 0) store_schema_unlisten(srv->store, srv->listen_id);
    net_server_free(srv->net);
    schema_thread_stop(srv);
    pthread_mutex_destroy(&srv->schema_lock);
    pthread_cond_destroy(&srv->schema_cond);
    while (srv->regs) {
        cql_reg_t *r = srv->regs;
        srv->regs = r->next;
        net_conn_release(r->conn);
        eddy_free(r);
    }
    cql_pcache_free(srv->pcache);
    for (size_t i = 0; i < srv->opts.nusers; i++) eddy_free(srv->users[i]);
    eddy_free(srv->users);
    pthread_mutex_destroy(&srv->reg_lock);
    eddy_free(srv);
}

int cql_server_new(const cql_server_opts_t *opts, cql_server_t **out, char *errstr, size_t errlen) {
    *out = NULL;
    if (!opts->store) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "the CQL server needs a store");
    cql_server_t *srv = eddy_calloc(1, sizeof *srv);
    if (!srv) return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&srv->reg_lock, NULL);
    pthread_mutex_init(&srv->schema_lock, NULL);
    pthread_cond_init(&srv->schema_cond, NULL);
    srv->jobs_tail = &srv->jobs;
    srv->opts = *opts;
    srv->store = opts->store;
    if (!srv->opts.cluster_name) srv->opts.cluster_name = "eddy";
    if (!srv->opts.data_center) srv->opts.data_center = "datacenter1";
    if (!srv->opts.max_pending) srv->opts.max_pending = 65536;
    static const char *const default_users[] = {"cassandra:cassandra"};
    const char *const *users = opts->nusers ? opts->users : default_users;
    srv->opts.nusers = opts->nusers ? opts->nusers : 1;
    srv->users = eddy_calloc(srv->opts.nusers, sizeof *srv->users);
    for (size_t i = 0; srv->users && i < srv->opts.nusers; i++) srv->users[i] = eddy_strdup(users[i]);
    srv->started_s = time_now_ms() / 1000;
    if (RAND_bytes(srv->host_id, 16) != 1) {
        uint64_t h = hash64(&srv, sizeof srv) ^ (uint64_t)time_now_us();
        memcpy(srv->host_id, &h, 8);
        memcpy(srv->host_id + 8, &h, 8);
    }
    srv->host_id[6] = (uint8_t)((srv->host_id[6] & 0x0f) | 0x40); /* a version 4 uuid */
    srv->host_id[8] = (uint8_t)((srv->host_id[8] & 0x3f) | 0x80);
    memcpy(srv->addr, "\x7f\0\0\1", 4);
    srv->addr_len = 4;
    srv->port = 9042;
    srv->pcache = cql_pcache_new();
    int rc = EDDY_ERR_NOMEM;
    if (!srv->users || !srv->pcache) {
        eddy_err(errstr, errlen, rc, "out of memory");
        goto err;
    }
    net_server_opts_t no = {0};
    no.name = "cql";
    no.proto = &cql_proto;
    no.ctx = srv;
    no.threads = opts->threads > 0 ? opts->threads : 1;
    no.max_input = CQL_MAX_BODY + 64;
    no.max_pending = 1024;
    rc = net_server_new(&no, &srv->net, errstr, errlen);
    if (rc != EDDY_OK) goto err;
    if (pthread_create(&srv->schema_thread, NULL, schema_main, srv) != 0) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "cannot start the CQL schema thread");
        goto err;
    }
    srv->schema_started = true;
    *out = srv;
    return EDDY_OK;
err:
    server_free(srv);
    return rc;
}

net_server_t *cql_server_net(cql_server_t *srv) { return srv->net; }

void cql_server_ready(cql_server_t *srv) {
    /* The node's address for system.local: the first listener's (loopback for a wildcard). */
    char host[128];
    int port = 0;
    if (net_server_listener_port(srv->net, 0, host, sizeof host, &port) == EDDY_OK) {
        srv->port = port;
        if (inet_pton(AF_INET, host, srv->addr) == 1 && memcmp(srv->addr, "\0\0\0\0", 4)) srv->addr_len = 4;
        else if (inet_pton(AF_INET6, host, srv->addr) == 1 && memcmp(srv->addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16))
            srv->addr_len = 16;
        else {
            memcpy(srv->addr, "\x7f\0\0\1", 4);
            srv->addr_len = 4;
        }
    }
    if (srv->listen_id <= 0) srv->listen_id = store_schema_listen(srv->store, on_schema_change, srv);
}

void cql_server_stop(cql_server_t *srv) {
    if (!srv) return;
    if (srv->listen_id > 0) store_schema_unlisten(srv->store, srv->listen_id);
    srv->listen_id = 0;
    net_server_stop(srv->net, 5000);
    /* Answers still owed (durable writes, schema changes) reference the server: wait for them
     * (the store, still open, completes every write it took). */
    for (int i = 0; i < 30000 && atomic_load(&srv->pending) > 0; i++) usleep(1000);
    schema_thread_stop(srv);
    server_free(srv);
}
