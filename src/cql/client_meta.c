/* What the client learns about the cluster: on the control connection it reads system.local
 * (cluster name, release version, data center, tokens) and system.peers_v2 (falling back to
 * system.peers on any error, as Cassandra 3 has no peers_v2), builds the token ring, registers
 * for events and opens the pools. Also the bookkeeping that ends cql_client_connect. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "cql/cql_client_int.h"

static void connect_finish(cql_client_t *c, int status, const char *why) {
    if (!c->connecting) return;
    c->connecting = false;
    pthread_mutex_lock(&c->connect_lock);
    c->connect_status = status;
    if (why) snprintf(c->last_error, sizeof c->last_error, "%s", why);
    c->connect_done = true;
    pthread_cond_broadcast(&c->connect_cond);
    pthread_mutex_unlock(&c->connect_lock);
}

void cql_client_connect_progress(cql_client_t *c) {
    if (!c->connecting) return;
    if (c->fatal) {
        connect_finish(c, EDDY_ERR_INVALID, NULL);
        return;
    }
    if (c->topology_done) {
        if (!cql_client_any_connecting(c))
            connect_finish(c, atomic_load(&c->hosts_up) > 0 ? EDDY_OK : EDDY_ERR_IO, NULL);
        return;
    }
    if (c->control || cql_client_any_connecting(c)) return;
    /* The contact point failed: the next one, until every one was tried. */
    if (++c->next_contact < c->ncontacts) {
        cql_conn_open(c->hosts[c->next_contact], 0);
        return;
    }
    connect_finish(c, c->last_status ? c->last_status : EDDY_ERR_IO, NULL);
}

int cql_client_connect_wait(cql_client_t *c, char *errstr, size_t errlen) {
    pthread_mutex_lock(&c->connect_lock);
    while (!c->connect_done) pthread_cond_wait(&c->connect_cond, &c->connect_lock);
    int status = c->connect_status;
    pthread_mutex_unlock(&c->connect_lock);
    if (status != EDDY_OK)
        return eddy_err(errstr, errlen, status, "%s", c->last_error[0] ? c->last_error : "no host could be reached");
    return EDDY_OK;
}

/* ---- reading system tables ------------------------------------------------------------------ */

static int column_index(const cql_result_t *res, const char *name) {
    for (size_t i = 0; i < cql_result_column_count(res); i++)
        if (!strcmp(cql_result_column_name(res, i), name)) return (int)i;
    return -1;
}

static void value_text(const cql_result_t *res, size_t row, int col, char *out, size_t n) {
    out[0] = 0;
    if (col < 0) return;
    cql_value_t v = cql_result_value(res, row, (size_t)col);
    if (v.len < 0) return;
    snprintf(out, n, "%.*s", (int)v.len, (const char *)v.ptr);
}

/* An inet value and a port into a socket address; false when absent or malformed. */
static bool value_addr(const cql_result_t *res, size_t row, int col, int port, struct sockaddr_storage *ss) {
    if (col < 0) return false;
    cql_value_t v = cql_result_value(res, row, (size_t)col);
    memset(ss, 0, sizeof *ss);
    if (v.len == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, v.ptr, 4);
        in->sin_port = htons((uint16_t)port);
        return in->sin_addr.s_addr != 0;
    }
    if (v.len == 16) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, v.ptr, 16);
        in6->sin6_port = htons((uint16_t)port);
        return true;
    }
    return false;
}

/* tokens: a set<text> of decimal Murmur3 tokens. */
static void host_set_tokens(cql_host_t *h, const cql_result_t *res, size_t row, int col) {
    eddy_free(h->tokens);
    h->tokens = NULL;
    h->ntokens = 0;
    if (col < 0) return;
    cql_value_t v = cql_result_value(res, row, (size_t)col);
    if (v.len < 4) return;
    rd_t r = rd_init(v.ptr, (size_t)v.len);
    int32_t n = rd_i32(&r);
    if (n <= 0 || (size_t)n > (size_t)v.len / 4) return;
    h->tokens = eddy_malloc((size_t)n * sizeof *h->tokens);
    if (!h->tokens) return;
    for (int32_t i = 0; i < n && rd_ok(&r); i++) {
        cql_value_t t = cql_rd_bytes(&r);
        if (!rd_ok(&r) || t.len <= 0 || t.len > 24) continue;
        char buf[32];
        memcpy(buf, t.ptr, (size_t)t.len);
        buf[t.len] = 0;
        h->tokens[h->ntokens++] = strtoll(buf, NULL, 10);
    }
}

static void host_apply_dc(cql_client_t *c, cql_host_t *h, const char *dc) {
    snprintf(h->dc, sizeof h->dc, "%s", dc);
    h->ignored = c->opts.local_dc && c->opts.local_dc[0] && dc[0] && strcmp(dc, c->opts.local_dc) != 0;
}

static void send_on_control(cql_client_t *c, cql_conn_t *control, const char *query, cql_req_fn fn);

static void topology_done(cql_client_t *c) {
    cql_client_ring_build(c);
    c->topology_done = true;
    cql_client_open_pools(c);
    cql_client_connect_progress(c);
}

static void on_registered(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_result_free(res);
    topology_done(req->client);
}

static void do_register(cql_client_t *c, cql_conn_t *control) {
    eddy_view_t events[3] = {eddy_view_str("TOPOLOGY_CHANGE"), eddy_view_str("STATUS_CHANGE"),
                             eddy_view_str("SCHEMA_CHANGE")};
    cql_msg_t m = {0};
    m.opcode = CQL_OP_REGISTER;
    m.version = c->version;
    m.u.register_events.count = 3;
    m.u.register_events.items = events;
    cql_req_t *req = cql_req_internal(c, &m, on_registered, control);
    if (!req) {
        topology_done(c);
        return;
    }
    req->pin = control;
    cql_client_dispatch(c, req);
}

static void read_peers(cql_client_t *c, const cql_result_t *res, bool v2) {
    int addr_col = column_index(res, v2 ? "native_address" : "rpc_address");
    int port_col = v2 ? column_index(res, "native_port") : -1;
    int peer_col = column_index(res, "peer");
    int dc_col = column_index(res, "data_center");
    int tokens_col = column_index(res, "tokens");
    for (size_t row = 0; row < cql_result_row_count(res); row++) {
        int port = c->opts.port;
        if (port_col >= 0) {
            cql_value_t p = cql_result_value(res, row, (size_t)port_col);
            if (p.len == 4) port = (int)load_u32(p.ptr);
        }
        struct sockaddr_storage ss;
        /* A peer listening on 0.0.0.0 gives its broadcast address instead. */
        if (!value_addr(res, row, addr_col, port, &ss) && !value_addr(res, row, peer_col, port, &ss)) continue;
        cql_host_t *h = cql_client_host_add(c, &ss);
        if (!h) continue;
        char dc[64];
        value_text(res, row, dc_col, dc, sizeof dc);
        host_apply_dc(c, h, dc);
        host_set_tokens(h, res, row, tokens_col);
    }
}

static void on_peers(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_client_t *c = req->client;
    cql_conn_t *control = req->internal_arg;
    if (status != EDDY_OK) {
        if (!c->peers_v1_tried) {
            /* Cassandra 3 has no peers_v2 (Invalid, "unconfigured table"); any error falls back. */
            c->peers_v1_tried = true;
            send_on_control(c, control, "SELECT * FROM system.peers", on_peers);
            return;
        }
        elog_warn("cql", "cannot read system.peers: %s", err ? err->message : "?");
        do_register(c, control);
        return;
    }
    read_peers(c, res, !c->peers_v1_tried);
    cql_result_free(res);
    do_register(c, control);
}

static void on_local(cql_req_t *req, int status, cql_result_t *res, const cql_error_t *err) {
    cql_client_t *c = req->client;
    cql_conn_t *control = req->internal_arg;
    if (status == EDDY_OK && cql_result_row_count(res) > 0) {
        value_text(res, 0, column_index(res, "release_version"), c->release_version, sizeof c->release_version);
        value_text(res, 0, column_index(res, "cluster_name"), c->cluster_name, sizeof c->cluster_name);
        char dc[64];
        value_text(res, 0, column_index(res, "data_center"), dc, sizeof dc);
        host_apply_dc(c, control->host, dc);
        if (control->host->ignored) {
            /* The contact point is in another data center: it still answers until a local host
             * is connected. */
            control->host->ignored = false;
        }
        host_set_tokens(control->host, res, 0, column_index(res, "tokens"));
    } else if (status != EDDY_OK) {
        elog_warn("cql", "cannot read system.local: %s", err ? err->message : "?");
    }
    cql_result_free(res);
    send_on_control(c, control, "SELECT * FROM system.peers_v2", on_peers);
}

static void send_on_control(cql_client_t *c, cql_conn_t *control, const char *query, cql_req_fn fn) {
    cql_msg_t m = {0};
    m.opcode = CQL_OP_QUERY;
    m.version = c->version;
    m.u.query.query = eddy_view_str(query);
    m.u.query.params.consistency = CQL_CL_ONE;
    cql_req_t *req = cql_req_internal(c, &m, fn, control);
    if (!req) {
        topology_done(c);
        return;
    }
    req->pin = control;
    cql_client_dispatch(c, req);
}

void cql_client_topology_start(cql_client_t *c, cql_conn_t *control) {
    if (c->topology_done) return;
    send_on_control(c, control, "SELECT * FROM system.local WHERE key='local'", on_local);
}

/* ---- events --------------------------------------------------------------------------------- */

void cql_client_on_event(cql_client_t *c, const cql_msg_t *event) {
    const cql_event_msg_t *ev = &event->u.event;
    if (!eddy_view_eq_str(ev->type, "STATUS_CHANGE") || !eddy_view_eq_str(ev->change, "UP")) return;
    /* A node came back: try it now instead of waiting for its backoff. */
    for (size_t i = 0; i < c->nhosts; i++) {
        cql_host_t *h = c->hosts[i];
        const uint8_t *a = NULL;
        if (h->addr.ss_family == AF_INET && ev->address.len == 4) a = (const uint8_t *)&((struct sockaddr_in *)&h->addr)->sin_addr;
        if (h->addr.ss_family == AF_INET6 && ev->address.len == 16)
            a = (const uint8_t *)&((struct sockaddr_in6 *)&h->addr)->sin6_addr;
        if (a && !memcmp(a, ev->address.addr, ev->address.len)) {
            h->next_attempt_ms = 0;
            h->backoff_ms = 0;
        }
    }
}
