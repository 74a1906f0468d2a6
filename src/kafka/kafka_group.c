/* kafka: the group coordinator, Kafka's classic consumer-group protocol.
 *
 * Follows apache/kafka's GroupCoordinator / GroupMetadata (core, 2.x-3.x) for the behaviour
 * clients depend on:
 *   Empty --join--> PreparingRebalance --all joined or rebalance timeout--> CompletingRebalance
 *   --leader's SyncGroup--> Stable --join of a new member, leader rejoin, protocol change, leave
 *   or session expiry--> PreparingRebalance ...; a group whose last member leaves is Empty; a
 *   deleted group is Dead.
 * Protocol selection: the candidates are the protocols every member supports; each member votes
 * for the first candidate in its own list; the most votes win (ties: the leader's preference).
 * Group state (generation, protocol, leader, members with their selected metadata and
 * assignments) is saved through the store when a generation's assignment is set and when the
 * group empties, so that a restart keeps generations and lets members resume.
 * One mutex guards everything; callbacks are queued while it is held and run after. */
#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>

#include "kafka/kafka_int.h"

typedef enum { GS_EMPTY, GS_PREPARING, GS_COMPLETING, GS_STABLE, GS_DEAD } group_state_t;

static const char *const group_state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                                "Stable", "Dead"};

typedef struct {
    char *name;
    uint8_t *meta;
    size_t len;
} protocol_t;

typedef struct {
    char *id;
    char *instance_id;  /* NULL unless static membership */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    protocol_t *protocols;
    size_t nprotocols;
    uint8_t *assignment;
    size_t assignment_len;
    int64_t deadline;        /* session expiry, when not awaiting join or sync */
    kafka_join_cb join_cb;   /* set while awaiting the join's completion */
    void *join_arg;
    int join_version;
    kafka_sync_cb sync_cb;   /* set while awaiting the leader's assignment */
    void *sync_arg;
} member_t;

typedef struct {
    char *id;
    int64_t deadline;
} pending_t;

typedef struct group {
    char *id;
    group_state_t state;
    int32_t generation;
    char *protocol_type;  /* NULL until the first member */
    char *protocol;       /* selected protocol name, NULL when none */
    char *leader;         /* member id of the leader, NULL when none */
    member_t **members;
    size_t nmembers, capmembers;
    pending_t *pending;   /* member ids handed out with MEMBER_ID_REQUIRED, not yet joined */
    size_t npending, cappending;
    int64_t rebalance_deadline; /* PreparingRebalance / CompletingRebalance time limit */
} group_t;

/* A callback to run once the lock is released, with the response it carries. */
typedef struct completion {
    struct completion *next;
    kafka_join_cb join_cb;
    kafka_sync_cb sync_cb;
    void *arg;
    arena_t arena;
    kafka_JoinGroupResponse_t join;
    kafka_SyncGroupResponse_t sync;
} completion_t;

struct kafka_groups {
    pthread_mutex_t mu;
    kafka_group_opts_t opts;
    kafka_group_store_t store;
    bool has_store;
    group_t **groups;
    size_t ngroups, capgroups;
    completion_t *done_head, **done_tail;
};

void kafka_group_opts_init(kafka_group_opts_t *o) {
    o->min_session_timeout_ms = 1000; /* Kafka: 6000; lower so that tests can be quick */
    o->max_session_timeout_ms = 1800000;
    o->initial_rebalance_delay_ms = 0; /* Kafka: 3000 */
}

/* ---- small helpers --------------------------------------------------------------------------- */

static char *str_dup(kafka_str_t s) {
    if (s.len < 0) return NULL;
    return eddy_strndup(s.ptr ? s.ptr : "", (size_t)s.len);
}

static bool str_is(const char *c, kafka_str_t s) {
    return c && s.len >= 0 && strlen(c) == (size_t)s.len && memcmp(c, s.ptr, (size_t)s.len) == 0;
}

static kafka_str_t arena_str(arena_t *a, const char *s) {
    if (!s) return (kafka_str_t){NULL, -1};
    size_t n = strlen(s);
    char *p = arena_strndup(a, s, n);
    return p ? kafka_str_n(p, n) : (kafka_str_t){"", 0};
}

static kafka_bytes_t arena_bytes(arena_t *a, const uint8_t *p, size_t n) {
    if (!n) return (kafka_bytes_t){NULL, 0};
    uint8_t *c = arena_memdup(a, p, n);
    return (kafka_bytes_t){c, c ? (int32_t)n : 0};
}

static void member_free(member_t *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nprotocols; i++) {
        eddy_free(m->protocols[i].name);
        eddy_free(m->protocols[i].meta);
    }
    eddy_free(m->protocols);
    eddy_free(m->assignment);
    eddy_free(m->id);
    eddy_free(m->instance_id);
    eddy_free(m->client_id);
    eddy_free(m->client_host);
    eddy_free(m);
}

static void group_free(group_t *gr) {
    for (size_t i = 0; i < gr->nmembers; i++) member_free(gr->members[i]);
    for (size_t i = 0; i < gr->npending; i++) eddy_free(gr->pending[i].id);
    eddy_free(gr->members);
    eddy_free(gr->pending);
    eddy_free(gr->id);
    eddy_free(gr->protocol_type);
    eddy_free(gr->protocol);
    eddy_free(gr->leader);
    eddy_free(gr);
}

static group_t *group_find(kafka_groups_t *g, kafka_str_t id) {
    for (size_t i = 0; i < g->ngroups; i++)
        if (str_is(g->groups[i]->id, id)) return g->groups[i];
    return NULL;
}

static group_t *group_add(kafka_groups_t *g, kafka_str_t id) {
    if (g->ngroups == g->capgroups) {
        size_t cap = g->capgroups ? g->capgroups * 2 : 16;
        group_t **n = eddy_realloc(g->groups, cap * sizeof *n);
        if (!n) return NULL;
        g->groups = n;
        g->capgroups = cap;
    }
    group_t *gr = eddy_calloc(1, sizeof *gr);
    if (!gr || !(gr->id = str_dup(id))) {
        eddy_free(gr);
        return NULL;
    }
    gr->state = GS_EMPTY;
    g->groups[g->ngroups++] = gr;
    return gr;
}

static void group_remove(kafka_groups_t *g, group_t *gr) {
    for (size_t i = 0; i < g->ngroups; i++) {
        if (g->groups[i] != gr) continue;
        g->groups[i] = g->groups[--g->ngroups];
        group_free(gr);
        return;
    }
}

static member_t *member_find(group_t *gr, kafka_str_t id) {
    for (size_t i = 0; i < gr->nmembers; i++)
        if (str_is(gr->members[i]->id, id)) return gr->members[i];
    return NULL;
}

static ssize_t pending_find(group_t *gr, kafka_str_t id) {
    for (size_t i = 0; i < gr->npending; i++)
        if (str_is(gr->pending[i].id, id)) return (ssize_t)i;
    return -1;
}

static void pending_remove(group_t *gr, size_t i) {
    eddy_free(gr->pending[i].id);
    gr->pending[i] = gr->pending[--gr->npending];
}

/* clientId-UUID, as Kafka names members. */
static char *member_id_new(kafka_str_t client_id) {
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        uint64_t t = (uint64_t)time_mono_ns();
        for (size_t i = 0; i < sizeof b; i++) b[i] ^= (uint8_t)(hash64(&t, sizeof t) >> (i % 8 * 8));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    int n = client_id.len > 0 ? client_id.len : 0;
    if (n > 200) n = 200;
    char buf[256];
    snprintf(buf, sizeof buf,
             "%.*s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", n,
             n ? client_id.ptr : "", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
    return eddy_strdup(buf);
}

static completion_t *completion_new(kafka_groups_t *g) {
    completion_t *c = eddy_calloc(1, sizeof *c);
    if (!c) return NULL;
    arena_init(&c->arena, 1024);
    c->next = NULL;
    *g->done_tail = c;
    g->done_tail = &c->next;
    return c;
}

/* Runs every queued callback; called after the mutex is released. */
static void completions_run(kafka_groups_t *g, completion_t *list) {
    (void)g;
    while (list) {
        completion_t *c = list;
        list = c->next;
        if (c->join_cb) c->join_cb(c->arg, &c->join);
        if (c->sync_cb) c->sync_cb(c->arg, &c->sync);
        arena_free(&c->arena);
        eddy_free(c);
    }
}

static void lock(kafka_groups_t *g) { pthread_mutex_lock(&g->mu); }

static void unlock_and_run(kafka_groups_t *g) {
    completion_t *list = g->done_head;
    g->done_head = NULL;
    g->done_tail = &g->done_head;
    pthread_mutex_unlock(&g->mu);
    completions_run(g, list);
}

/* Queues a join answer with just an error (and the member id, for MEMBER_ID_REQUIRED). */
static void join_error(kafka_groups_t *g, kafka_join_cb cb, void *arg, int16_t err, const char *member_id) {
    completion_t *c = completion_new(g);
    kafka_JoinGroupResponse_t *r;
    kafka_JoinGroupResponse_t local;
    r = c ? &c->join : &local;
    kafka_struct_init(&kafka_schema_JoinGroupResponse, 0, r);
    r->error_code = err;
    r->generation_id = -1;
    r->protocol_name = kafka_str_n("", 0);
    if (c) {
        r->member_id = arena_str(&c->arena, member_id ? member_id : "");
        c->join_cb = cb;
        c->arg = arg;
    } else {
        r->member_id = kafka_str_n("", 0);
        cb(arg, r); /* out of memory: answer at once rather than never (the lock is held) */
    }
}

static void sync_answer(kafka_groups_t *g, kafka_sync_cb cb, void *arg, int16_t err,
                        const uint8_t *assignment, size_t len) {
    completion_t *c = completion_new(g);
    kafka_SyncGroupResponse_t local, *r = c ? &c->sync : &local;
    kafka_struct_init(&kafka_schema_SyncGroupResponse, 0, r);
    r->error_code = err;
    if (c) {
        r->assignment = arena_bytes(&c->arena, assignment, len);
        c->sync_cb = cb;
        c->arg = arg;
    } else {
        cb(arg, r);
    }
}

/* ---- persistence ------------------------------------------------------------------------------ */

#define BLOB_VERSION 1

static void wr_cstr(wr_t *w, const char *s) {
    if (!s) {
        wr_i32(w, -1);
        return;
    }
    size_t n = strlen(s);
    wr_i32(w, (int32_t)n);
    wr_bytes(w, s, n);
}

static void wr_blob(wr_t *w, const void *p, size_t n) {
    wr_i32(w, (int32_t)n);
    wr_bytes(w, p, n);
}

static const protocol_t *member_protocol(const member_t *m, const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < m->nprotocols; i++)
        if (!strcmp(m->protocols[i].name, name)) return &m->protocols[i];
    return NULL;
}

static void group_save(kafka_groups_t *g, group_t *gr) {
    if (!g->has_store) return;
    wr_t w;
    wr_init(&w, 256);
    wr_u8(&w, BLOB_VERSION);
    wr_cstr(&w, gr->protocol_type);
    wr_i32(&w, gr->generation);
    wr_cstr(&w, gr->protocol);
    wr_cstr(&w, gr->leader);
    wr_i32(&w, (int32_t)gr->nmembers);
    for (size_t i = 0; i < gr->nmembers; i++) {
        member_t *m = gr->members[i];
        const protocol_t *p = member_protocol(m, gr->protocol);
        wr_cstr(&w, m->id);
        wr_cstr(&w, m->instance_id);
        wr_cstr(&w, m->client_id);
        wr_cstr(&w, m->client_host);
        wr_i32(&w, m->session_timeout_ms);
        wr_i32(&w, m->rebalance_timeout_ms);
        wr_blob(&w, p ? p->meta : NULL, p ? p->len : 0);
        wr_blob(&w, m->assignment, m->assignment_len);
    }
    if (wr_ok(&w)) g->store.save(g->store.ctx, gr->id, w.buf, w.len, gr->nmembers == 0);
    else elog_error("kafka", "group %s: out of memory saving its state", gr->id);
    wr_free(&w);
}

static char *rd_cstr(rd_t *r) {
    int32_t n = rd_i32(r);
    if (n < 0 || !rd_ok(r)) return NULL;
    const uint8_t *p = rd_bytes(r, (size_t)n);
    return p ? eddy_strndup((const char *)p, (size_t)n) : NULL;
}

static uint8_t *rd_blob(rd_t *r, size_t *len) {
    int32_t n = rd_i32(r);
    *len = 0;
    if (n <= 0 || !rd_ok(r)) return NULL;
    const uint8_t *p = rd_bytes(r, (size_t)n);
    if (!p) return NULL;
    *len = (size_t)n;
    return eddy_memdup(p, (size_t)n);
}

typedef struct {
    kafka_groups_t *g;
    int64_t now;
} load_ctx_t;

static void group_load_one(void *arg, const char *name, const void *blob, size_t len) {
    load_ctx_t *lc = arg;
    kafka_groups_t *g = lc->g;
    if (group_find(g, kafka_str(name))) return;
    group_t *gr = group_add(g, kafka_str(name));
    if (!gr || !blob) return;
    rd_t r = rd_init(blob, len);
    if (rd_u8(&r) != BLOB_VERSION) {
        elog_warn("kafka", "group %s: unknown state version, starting it empty", name);
        return;
    }
    gr->protocol_type = rd_cstr(&r);
    gr->generation = rd_i32(&r);
    gr->protocol = rd_cstr(&r);
    gr->leader = rd_cstr(&r);
    int32_t n = rd_count_check(&r, rd_i32(&r), 100000);
    for (int32_t i = 0; i < n && rd_ok(&r); i++) {
        member_t *m = eddy_calloc(1, sizeof *m);
        if (!m) break;
        m->id = rd_cstr(&r);
        m->instance_id = rd_cstr(&r);
        m->client_id = rd_cstr(&r);
        m->client_host = rd_cstr(&r);
        m->session_timeout_ms = rd_i32(&r);
        m->rebalance_timeout_ms = rd_i32(&r);
        protocol_t p = {0};
        p.meta = rd_blob(&r, &p.len);
        m->assignment = rd_blob(&r, &m->assignment_len);
        if (gr->protocol && (p.name = eddy_strdup(gr->protocol)) &&
            (m->protocols = eddy_malloc(sizeof p))) {
            m->protocols[0] = p;
            m->nprotocols = 1;
        } else {
            eddy_free(p.name);
            eddy_free(p.meta);
        }
        m->deadline = lc->now + m->session_timeout_ms;
        if (!rd_ok(&r) || !m->id) {
            member_free(m);
            break;
        }
        if (gr->nmembers == gr->capmembers) {
            size_t cap = gr->capmembers ? gr->capmembers * 2 : 4;
            member_t **mm = eddy_realloc(gr->members, cap * sizeof *mm);
            if (!mm) {
                member_free(m);
                break;
            }
            gr->members = mm;
            gr->capmembers = cap;
        }
        gr->members[gr->nmembers++] = m;
    }
    if (!rd_ok(&r)) elog_warn("kafka", "group %s: stored state is corrupt; kept what was readable", name);
    gr->state = gr->nmembers && gr->protocol && gr->leader ? GS_STABLE : GS_EMPTY;
    if (gr->state == GS_EMPTY) {
        for (size_t i = 0; i < gr->nmembers; i++) member_free(gr->members[i]);
        gr->nmembers = 0;
        eddy_free(gr->leader);
        gr->leader = NULL;
    }
}

kafka_groups_t *kafka_groups_new(const kafka_group_opts_t *opts, const kafka_group_store_t *store,
                                 int64_t now_ms) {
    kafka_groups_t *g = eddy_calloc(1, sizeof *g);
    if (!g) return NULL;
    pthread_mutex_init(&g->mu, NULL);
    if (opts) g->opts = *opts;
    else kafka_group_opts_init(&g->opts);
    g->done_tail = &g->done_head;
    if (store) {
        g->store = *store;
        g->has_store = true;
        load_ctx_t lc = {g, now_ms};
        if (store->load_all) store->load_all(store->ctx, group_load_one, &lc);
    }
    return g;
}

void kafka_groups_free(kafka_groups_t *g) {
    if (!g) return;
    for (size_t i = 0; i < g->ngroups; i++) group_free(g->groups[i]);
    eddy_free(g->groups);
    completions_run(g, g->done_head);
    pthread_mutex_destroy(&g->mu);
    eddy_free(g);
}

void kafka_groups_abort(kafka_groups_t *g) {
    lock(g);
    for (size_t gi = 0; gi < g->ngroups; gi++) {
        group_t *gr = g->groups[gi];
        for (size_t i = 0; i < gr->nmembers; i++) {
            member_t *m = gr->members[i];
            if (m->join_cb) join_error(g, m->join_cb, m->join_arg, KERR_COORDINATOR_NOT_AVAILABLE, "");
            if (m->sync_cb) sync_answer(g, m->sync_cb, m->sync_arg, KERR_COORDINATOR_NOT_AVAILABLE, NULL, 0);
            m->join_cb = NULL;
            m->sync_cb = NULL;
        }
    }
    unlock_and_run(g);
}

/* ---- the state machine ------------------------------------------------------------------------ */

static bool member_supports(const member_t *m, const char *protocol) {
    return member_protocol(m, protocol) != NULL;
}

static char *select_protocol(group_t *gr) {
    member_t *leader = NULL;
    for (size_t i = 0; i < gr->nmembers; i++)
        if (gr->leader && !strcmp(gr->members[i]->id, gr->leader)) leader = gr->members[i];
    if (!leader && gr->nmembers) leader = gr->members[0];
    if (!leader) return NULL;
    const char *best = NULL;
    size_t best_votes = 0;
    /* Candidates in the leader's order, so that a tie goes to the leader's preference. */
    for (size_t c = 0; c < leader->nprotocols; c++) {
        const char *cand = leader->protocols[c].name;
        bool all = true;
        for (size_t i = 0; i < gr->nmembers && all; i++) all = member_supports(gr->members[i], cand);
        if (!all) continue;
        size_t votes = 0;
        for (size_t i = 0; i < gr->nmembers; i++) {
            member_t *m = gr->members[i];
            for (size_t p = 0; p < m->nprotocols; p++) {
                const char *pn = m->protocols[p].name;
                bool pall = true;
                for (size_t j = 0; j < gr->nmembers && pall; j++) pall = member_supports(gr->members[j], pn);
                if (!pall) continue;
                if (!strcmp(pn, cand)) votes++;
                break; /* the member's first candidate is its vote */
            }
        }
        if (!best || votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return best ? eddy_strdup(best) : NULL;
}

/* Whether a joining member's protocols can live with the group's (Kafka supportsProtocols). */
static bool group_supports(const group_t *gr, kafka_str_t type, const kafka_JoinGroupRequest_t *req) {
    if (gr->state == GS_EMPTY || gr->nmembers == 0)
        return type.len > 0 && req->protocols.count > 0;
    if (!gr->protocol_type || !str_is(gr->protocol_type, type)) return false;
    for (int32_t p = 0; p < req->protocols.count; p++) {
        bool all = true;
        for (size_t i = 0; i < gr->nmembers && all; i++) {
            const member_t *m = gr->members[i];
            bool has = false;
            for (size_t k = 0; k < m->nprotocols && !has; k++) has = str_is(m->protocols[k].name, req->protocols.items[p].name);
            all = has;
        }
        if (all) return true;
    }
    return false;
}

static int32_t group_rebalance_timeout(const group_t *gr) {
    int32_t t = 0;
    for (size_t i = 0; i < gr->nmembers; i++) t = EDDY_MAX(t, gr->members[i]->rebalance_timeout_ms);
    return t;
}

static bool member_awaiting_join(const member_t *m) { return m->join_cb != NULL; }

static void fail_pending_syncs(kafka_groups_t *g, group_t *gr, int16_t err) {
    for (size_t i = 0; i < gr->nmembers; i++) {
        member_t *m = gr->members[i];
        if (!m->sync_cb) continue;
        sync_answer(g, m->sync_cb, m->sync_arg, err, NULL, 0);
        m->sync_cb = NULL;
    }
}

static void reset_assignments(group_t *gr) {
    for (size_t i = 0; i < gr->nmembers; i++) {
        eddy_free(gr->members[i]->assignment);
        gr->members[i]->assignment = NULL;
        gr->members[i]->assignment_len = 0;
    }
}

static void complete_join(kafka_groups_t *g, group_t *gr, int64_t now);

static void maybe_complete_join(kafka_groups_t *g, group_t *gr, int64_t now) {
    if (gr->state != GS_PREPARING) return;
    for (size_t i = 0; i < gr->nmembers; i++)
        if (!member_awaiting_join(gr->members[i])) return;
    if (gr->npending) return;
    complete_join(g, gr, now);
}

static void prepare_rebalance(kafka_groups_t *g, group_t *gr, int64_t now) {
    if (gr->state == GS_COMPLETING) {
        reset_assignments(gr);
        fail_pending_syncs(g, gr, KERR_REBALANCE_IN_PROGRESS);
    }
    bool was_empty = gr->state == GS_EMPTY;
    gr->state = GS_PREPARING;
    int32_t timeout = group_rebalance_timeout(gr);
    if (was_empty && g->opts.initial_rebalance_delay_ms > 0)
        timeout = EDDY_MIN(timeout, g->opts.initial_rebalance_delay_ms);
    gr->rebalance_deadline = now + timeout;
    elog_debug("kafka", "group %s: preparing rebalance (generation %d)", gr->id, gr->generation);
    if (!was_empty || g->opts.initial_rebalance_delay_ms <= 0) maybe_complete_join(g, gr, now);
}

static void member_remove_at(group_t *gr, size_t i) {
    member_t *m = gr->members[i];
    gr->members[i] = gr->members[--gr->nmembers];
    if (gr->leader && !strcmp(gr->leader, m->id)) {
        eddy_free(gr->leader);
        gr->leader = NULL;
        /* A new leader: any member still awaiting its join (Kafka picks one of them). */
        for (size_t k = 0; k < gr->nmembers && !gr->leader; k++)
            if (member_awaiting_join(gr->members[k])) gr->leader = eddy_strdup(gr->members[k]->id);
        if (!gr->leader && gr->nmembers) gr->leader = eddy_strdup(gr->members[0]->id);
    }
    member_free(m);
}

/* A member left or expired: Kafka removeMemberAndUpdateGroup. */
static void remove_member_and_update(kafka_groups_t *g, group_t *gr, size_t i, int64_t now) {
    member_t *m = gr->members[i];
    if (m->join_cb) join_error(g, m->join_cb, m->join_arg, KERR_UNKNOWN_MEMBER_ID, "");
    if (m->sync_cb) sync_answer(g, m->sync_cb, m->sync_arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
    m->join_cb = NULL;
    m->sync_cb = NULL;
    member_remove_at(gr, i);
    switch (gr->state) {
    case GS_STABLE:
    case GS_COMPLETING: prepare_rebalance(g, gr, now); break;
    case GS_PREPARING: maybe_complete_join(g, gr, now); break;
    default: break;
    }
}

/* The join answer for one member of the new generation. */
static void join_answer(kafka_groups_t *g, group_t *gr, member_t *m, kafka_join_cb cb, void *arg) {
    completion_t *c = completion_new(g);
    if (!c) {
        kafka_JoinGroupResponse_t r;
        kafka_struct_init(&kafka_schema_JoinGroupResponse, 0, &r);
        r.error_code = KERR_UNKNOWN_SERVER_ERROR;
        cb(arg, &r);
        return;
    }
    kafka_JoinGroupResponse_t *r = &c->join;
    kafka_struct_init(&kafka_schema_JoinGroupResponse, 0, r);
    c->join_cb = cb;
    c->arg = arg;
    r->error_code = KERR_NONE;
    r->generation_id = gr->generation;
    r->protocol_name = arena_str(&c->arena, gr->protocol ? gr->protocol : "");
    r->leader = arena_str(&c->arena, gr->leader ? gr->leader : "");
    r->member_id = arena_str(&c->arena, m->id);
    if (gr->leader && !strcmp(gr->leader, m->id)) {
        KAFKA_ARRAY_ALLOC(&c->arena, r->members, gr->nmembers);
        if (!r->members.items) r->members.count = 0;
        for (int32_t i = 0; i < r->members.count; i++) {
            member_t *o = gr->members[i];
            const protocol_t *p = member_protocol(o, gr->protocol);
            r->members.items[i].member_id = arena_str(&c->arena, o->id);
            r->members.items[i].group_instance_id = arena_str(&c->arena, o->instance_id);
            r->members.items[i].metadata = arena_bytes(&c->arena, p ? p->meta : NULL, p ? p->len : 0);
        }
    }
}

static void complete_join(kafka_groups_t *g, group_t *gr, int64_t now) {
    /* Members that did not rejoin in time are out (Kafka onCompleteJoin). */
    for (size_t i = gr->nmembers; i-- > 0;)
        if (!member_awaiting_join(gr->members[i])) member_remove_at(gr, i);
    for (size_t i = gr->npending; i-- > 0;) pending_remove(gr, i);
    gr->generation++;
    eddy_free(gr->protocol);
    gr->protocol = NULL;
    if (gr->nmembers == 0) {
        gr->state = GS_EMPTY;
        eddy_free(gr->leader);
        gr->leader = NULL;
        group_save(g, gr);
        elog_debug("kafka", "group %s: empty at generation %d", gr->id, gr->generation);
        return;
    }
    if (!gr->leader) gr->leader = eddy_strdup(gr->members[0]->id);
    gr->protocol = select_protocol(gr);
    gr->state = GS_COMPLETING;
    gr->rebalance_deadline = now + group_rebalance_timeout(gr);
    elog_debug("kafka", "group %s: generation %d, protocol %s, leader %s, %zu members", gr->id,
               gr->generation, gr->protocol ? gr->protocol : "-", gr->leader, gr->nmembers);
    for (size_t i = 0; i < gr->nmembers; i++) {
        member_t *m = gr->members[i];
        kafka_join_cb cb = m->join_cb;
        void *arg = m->join_arg;
        m->join_cb = NULL;
        m->deadline = now + m->session_timeout_ms;
        join_answer(g, gr, m, cb, arg);
    }
}

static member_t *member_new(kafka_str_t id, const kafka_JoinGroupRequest_t *req,
                            const kafka_group_caller_t *who) {
    member_t *m = eddy_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->id = str_dup(id);
    m->instance_id = req->group_instance_id.len >= 0 ? str_dup(req->group_instance_id) : NULL;
    m->client_id = str_dup(who->client_id.len >= 0 ? who->client_id : kafka_str_n("", 0));
    m->client_host = eddy_strdup(who->client_host ? who->client_host : "");
    if (!m->id || !m->client_id || !m->client_host) {
        member_free(m);
        return NULL;
    }
    return m;
}

/* Replaces a member's protocols and timeouts with the request's. */
static int member_update(member_t *m, const kafka_JoinGroupRequest_t *req) {
    protocol_t *ps = req->protocols.count ? eddy_calloc((size_t)req->protocols.count, sizeof *ps) : NULL;
    if (req->protocols.count && !ps) return EDDY_ERR_NOMEM;
    for (int32_t i = 0; i < req->protocols.count; i++) {
        const kafka_JoinGroupRequestProtocol_t *rp = &req->protocols.items[i];
        ps[i].name = str_dup(rp->name);
        ps[i].len = rp->metadata.len > 0 ? (size_t)rp->metadata.len : 0;
        ps[i].meta = ps[i].len ? eddy_memdup(rp->metadata.ptr, ps[i].len) : NULL;
        if (!ps[i].name || (ps[i].len && !ps[i].meta)) {
            for (int32_t k = 0; k <= i; k++) {
                eddy_free(ps[k].name);
                eddy_free(ps[k].meta);
            }
            eddy_free(ps);
            return EDDY_ERR_NOMEM;
        }
    }
    for (size_t i = 0; i < m->nprotocols; i++) {
        eddy_free(m->protocols[i].name);
        eddy_free(m->protocols[i].meta);
    }
    eddy_free(m->protocols);
    m->protocols = ps;
    m->nprotocols = (size_t)req->protocols.count;
    m->session_timeout_ms = req->session_timeout_ms;
    m->rebalance_timeout_ms = req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
    return EDDY_OK;
}

static bool member_same_protocols(const member_t *m, const kafka_JoinGroupRequest_t *req) {
    if ((size_t)req->protocols.count != m->nprotocols) return false;
    for (size_t i = 0; i < m->nprotocols; i++) {
        const kafka_JoinGroupRequestProtocol_t *rp = &req->protocols.items[i];
        size_t len = rp->metadata.len > 0 ? (size_t)rp->metadata.len : 0;
        if (!str_is(m->protocols[i].name, rp->name) || m->protocols[i].len != len ||
            (len && memcmp(m->protocols[i].meta, rp->metadata.ptr, len) != 0))
            return false;
    }
    return true;
}

static void add_member_and_rebalance(kafka_groups_t *g, group_t *gr, kafka_str_t id,
                                     const kafka_JoinGroupRequest_t *req, const kafka_group_caller_t *who,
                                     int64_t now, kafka_join_cb cb, void *arg) {
    member_t *m = member_new(id, req, who);
    if (!m || member_update(m, req) != EDDY_OK) {
        member_free(m);
        join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
        return;
    }
    if (gr->nmembers == gr->capmembers) {
        size_t cap = gr->capmembers ? gr->capmembers * 2 : 4;
        member_t **mm = eddy_realloc(gr->members, cap * sizeof *mm);
        if (!mm) {
            member_free(m);
            join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
            return;
        }
        gr->members = mm;
        gr->capmembers = cap;
    }
    if (gr->nmembers == 0) {
        eddy_free(gr->protocol_type);
        gr->protocol_type = str_dup(req->protocol_type);
    }
    gr->members[gr->nmembers++] = m;
    if (!gr->leader) gr->leader = eddy_strdup(m->id);
    m->join_cb = cb;
    m->join_arg = arg;
    m->join_version = who->version;
    m->deadline = now + m->session_timeout_ms;
    if (gr->state == GS_PREPARING) maybe_complete_join(g, gr, now);
    else prepare_rebalance(g, gr, now);
}

static void update_member_and_rebalance(kafka_groups_t *g, group_t *gr, member_t *m,
                                        const kafka_JoinGroupRequest_t *req, int64_t now,
                                        kafka_join_cb cb, void *arg) {
    if (member_update(m, req) != EDDY_OK) {
        join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
        return;
    }
    if (m->join_cb) join_error(g, m->join_cb, m->join_arg, KERR_UNKNOWN_MEMBER_ID, ""); /* superseded */
    m->join_cb = cb;
    m->join_arg = arg;
    if (gr->state == GS_PREPARING) maybe_complete_join(g, gr, now);
    else prepare_rebalance(g, gr, now);
}

void kafka_group_join(kafka_groups_t *g, const kafka_JoinGroupRequest_t *req,
                      const kafka_group_caller_t *who, int64_t now, kafka_join_cb cb, void *arg) {
    lock(g);
    kafka_str_t member_id = req->member_id;
    if (req->group_id.len <= 0) {
        join_error(g, cb, arg, KERR_INVALID_GROUP_ID, "");
        goto out;
    }
    if (req->session_timeout_ms < g->opts.min_session_timeout_ms ||
        req->session_timeout_ms > g->opts.max_session_timeout_ms) {
        join_error(g, cb, arg, KERR_INVALID_SESSION_TIMEOUT, "");
        goto out;
    }
    group_t *gr = group_find(g, req->group_id);
    bool unknown = member_id.len <= 0;
    if (!gr) {
        if (!unknown) {
            join_error(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, "");
            goto out;
        }
        if (!(gr = group_add(g, req->group_id))) {
            join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
            goto out;
        }
    }
    if (gr->state == GS_DEAD) {
        join_error(g, cb, arg, KERR_COORDINATOR_NOT_AVAILABLE, "");
        goto out;
    }
    if (!group_supports(gr, req->protocol_type, req)) {
        join_error(g, cb, arg, KERR_INCONSISTENT_GROUP_PROTOCOL, "");
        goto out;
    }
    if (unknown) {
        char *id = member_id_new(who->client_id);
        if (!id) {
            join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
            goto out;
        }
        if (who->version >= 4 && req->group_instance_id.len < 0) {
            /* KIP-394: hand out the id and let the member come back with it. */
            if (gr->npending == gr->cappending) {
                size_t cap = gr->cappending ? gr->cappending * 2 : 4;
                pending_t *p = eddy_realloc(gr->pending, cap * sizeof *p);
                if (!p) {
                    eddy_free(id);
                    join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
                    goto out;
                }
                gr->pending = p;
                gr->cappending = cap;
            }
            gr->pending[gr->npending++] = (pending_t){id, now + req->session_timeout_ms};
            join_error(g, cb, arg, KERR_MEMBER_ID_REQUIRED, id);
            goto out;
        }
        add_member_and_rebalance(g, gr, kafka_str(id), req, who, now, cb, arg);
        eddy_free(id);
        goto out;
    }
    ssize_t pi = pending_find(gr, member_id);
    if (pi >= 0) {
        pending_remove(gr, (size_t)pi);
        add_member_and_rebalance(g, gr, member_id, req, who, now, cb, arg);
        goto out;
    }
    member_t *m = member_find(gr, member_id);
    if (!m) {
        join_error(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, "");
        goto out;
    }
    m->join_version = who->version;
    switch (gr->state) {
    case GS_PREPARING: update_member_and_rebalance(g, gr, m, req, now, cb, arg); break;
    case GS_COMPLETING:
        if (member_same_protocols(m, req)) join_answer(g, gr, m, cb, arg); /* a lost answer, resent */
        else update_member_and_rebalance(g, gr, m, req, now, cb, arg);
        break;
    case GS_STABLE:
        if ((gr->leader && !strcmp(gr->leader, m->id)) || !member_same_protocols(m, req))
            update_member_and_rebalance(g, gr, m, req, now, cb, arg);
        else
            join_answer(g, gr, m, cb, arg);
        break;
    default: join_error(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, ""); break;
    }
out:
    unlock_and_run(g);
}

void kafka_group_sync(kafka_groups_t *g, const kafka_SyncGroupRequest_t *req, int64_t now,
                      kafka_sync_cb cb, void *arg) {
    lock(g);
    group_t *gr = group_find(g, req->group_id);
    member_t *m = gr ? member_find(gr, req->member_id) : NULL;
    if (!gr || (gr->state != GS_DEAD && !m)) {
        sync_answer(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
    } else if (gr->state == GS_DEAD) {
        sync_answer(g, cb, arg, KERR_COORDINATOR_NOT_AVAILABLE, NULL, 0);
    } else if (req->generation_id != gr->generation) {
        sync_answer(g, cb, arg, KERR_ILLEGAL_GENERATION, NULL, 0);
    } else {
        switch (gr->state) {
        case GS_EMPTY: sync_answer(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0); break;
        case GS_PREPARING: sync_answer(g, cb, arg, KERR_REBALANCE_IN_PROGRESS, NULL, 0); break;
        case GS_STABLE:
            m->deadline = now + m->session_timeout_ms;
            sync_answer(g, cb, arg, KERR_NONE, m->assignment, m->assignment_len);
            break;
        case GS_COMPLETING:
            if (m->sync_cb) sync_answer(g, m->sync_cb, m->sync_arg, KERR_REBALANCE_IN_PROGRESS, NULL, 0);
            m->sync_cb = cb;
            m->sync_arg = arg;
            m->deadline = now + m->session_timeout_ms;
            if (gr->leader && !strcmp(gr->leader, m->id)) {
                for (size_t i = 0; i < gr->nmembers; i++) {
                    member_t *o = gr->members[i];
                    eddy_free(o->assignment);
                    o->assignment = NULL;
                    o->assignment_len = 0;
                    for (int32_t k = 0; k < req->assignments.count; k++) {
                        const kafka_SyncGroupRequestAssignment_t *as = &req->assignments.items[k];
                        if (!str_is(o->id, as->member_id) || as->assignment.len <= 0) continue;
                        o->assignment = eddy_memdup(as->assignment.ptr, (size_t)as->assignment.len);
                        o->assignment_len = o->assignment ? (size_t)as->assignment.len : 0;
                    }
                }
                gr->state = GS_STABLE;
                group_save(g, gr);
                for (size_t i = 0; i < gr->nmembers; i++) {
                    member_t *o = gr->members[i];
                    if (!o->sync_cb) continue;
                    sync_answer(g, o->sync_cb, o->sync_arg, KERR_NONE, o->assignment, o->assignment_len);
                    o->sync_cb = NULL;
                    o->deadline = now + o->session_timeout_ms;
                }
                elog_debug("kafka", "group %s: stable at generation %d", gr->id, gr->generation);
            }
            break;
        default: sync_answer(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0); break;
        }
    }
    unlock_and_run(g);
}

int16_t kafka_group_heartbeat(kafka_groups_t *g, const kafka_HeartbeatRequest_t *req, int64_t now) {
    lock(g);
    int16_t err;
    group_t *gr = group_find(g, req->group_id);
    member_t *m = gr ? member_find(gr, req->member_id) : NULL;
    if (!gr) err = KERR_UNKNOWN_MEMBER_ID;
    else if (gr->state == GS_DEAD) err = KERR_COORDINATOR_NOT_AVAILABLE;
    else if (!m) err = KERR_UNKNOWN_MEMBER_ID;
    else if (req->generation_id != gr->generation) err = KERR_ILLEGAL_GENERATION;
    else {
        switch (gr->state) {
        case GS_EMPTY: err = KERR_UNKNOWN_MEMBER_ID; break;
        case GS_PREPARING: err = KERR_REBALANCE_IN_PROGRESS; break;
        default: err = KERR_NONE; break;
        }
        if (err != KERR_UNKNOWN_MEMBER_ID) m->deadline = now + m->session_timeout_ms;
    }
    unlock_and_run(g);
    return err;
}

void kafka_group_leave(kafka_groups_t *g, const kafka_LeaveGroupRequest_t *req, int version,
                       int64_t now, arena_t *a, kafka_LeaveGroupResponse_t *resp) {
    kafka_struct_init(&kafka_schema_LeaveGroupResponse, version, resp);
    /* v0-2 name one member; v3+ a list. Treat both as a list. */
    kafka_MemberIdentity_t one = {req->member_id, {NULL, -1}};
    const kafka_MemberIdentity_t *ids = version >= 3 ? req->members.items : &one;
    int32_t n = version >= 3 ? EDDY_MAX(req->members.count, 0) : 1;
    KAFKA_ARRAY_ALLOC(a, resp->members, n);
    if (n && !resp->members.items) {
        resp->members.count = 0;
        resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    lock(g);
    group_t *gr = group_find(g, req->group_id);
    if (gr && gr->state == GS_DEAD) {
        resp->error_code = KERR_COORDINATOR_NOT_AVAILABLE;
        resp->members.count = 0;
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        kafka_MemberResponse_t *mr = &resp->members.items[i];
        mr->member_id = ids[i].member_id;
        mr->group_instance_id = ids[i].group_instance_id;
        mr->error_code = KERR_UNKNOWN_MEMBER_ID;
        if (!gr) continue;
        for (size_t k = 0; k < gr->nmembers; k++) {
            if (!str_is(gr->members[k]->id, ids[i].member_id)) continue;
            elog_debug("kafka", "group %s: member %s left", gr->id, gr->members[k]->id);
            remove_member_and_update(g, gr, k, now);
            mr->error_code = KERR_NONE;
            break;
        }
        ssize_t pi = gr ? pending_find(gr, ids[i].member_id) : -1;
        if (pi >= 0) {
            pending_remove(gr, (size_t)pi);
            mr->error_code = KERR_NONE;
            maybe_complete_join(g, gr, now);
        }
    }
    /* Old versions carry one member's result in the top-level error (LeaveGroupResponse). */
    if (version < 3 && n == 1) resp->error_code = resp->members.items[0].error_code;
out:
    unlock_and_run(g);
}

int16_t kafka_group_commit_check(kafka_groups_t *g, kafka_str_t group_id, int32_t generation,
                                 kafka_str_t member_id, int64_t now) {
    lock(g);
    int16_t err = KERR_NONE;
    group_t *gr = group_find(g, group_id);
    if (group_id.len <= 0) err = KERR_INVALID_GROUP_ID;
    else if (!gr) {
        if (generation < 0) {
            /* A group used only to store offsets: saved as empty, so that the log expires its
             * offsets after the retention time as Kafka does. */
            group_t *ng = group_add(g, group_id);
            if (ng) group_save(g, ng);
            else err = KERR_UNKNOWN_SERVER_ERROR;
        } else {
            err = KERR_ILLEGAL_GENERATION;
        }
    } else if (gr->state == GS_DEAD) err = KERR_COORDINATOR_NOT_AVAILABLE;
    else if (generation < 0 && gr->state == GS_EMPTY) err = KERR_NONE;
    else {
        member_t *m = member_find(gr, member_id);
        if (!m) err = KERR_UNKNOWN_MEMBER_ID;
        else if (generation != gr->generation) err = KERR_ILLEGAL_GENERATION;
        else if (gr->state == GS_COMPLETING) err = KERR_REBALANCE_IN_PROGRESS;
        else m->deadline = now + m->session_timeout_ms;
    }
    unlock_and_run(g);
    return err;
}

void kafka_group_describe(kafka_groups_t *g, kafka_str_t group_id, arena_t *a, kafka_DescribedGroup_t *out) {
    kafka_struct_init(&kafka_schema_DescribedGroup, 0, out);
    out->group_id = group_id;
    lock(g);
    group_t *gr = group_find(g, group_id);
    if (group_id.len <= 0) {
        out->error_code = KERR_INVALID_GROUP_ID;
        out->group_state = kafka_str_n("", 0);
    } else if (!gr) {
        out->group_state = kafka_str("Dead");
    } else {
        bool stable = gr->state == GS_STABLE;
        out->group_state = kafka_str(group_state_names[gr->state]);
        out->protocol_type = arena_str(a, gr->protocol_type ? gr->protocol_type : "");
        out->protocol_data = arena_str(a, stable && gr->protocol ? gr->protocol : "");
        KAFKA_ARRAY_ALLOC(a, out->members, gr->nmembers);
        if (!out->members.items) out->members.count = 0;
        for (int32_t i = 0; i < out->members.count; i++) {
            member_t *m = gr->members[i];
            kafka_DescribedGroupMember_t *dm = &out->members.items[i];
            dm->member_id = arena_str(a, m->id);
            dm->group_instance_id = arena_str(a, m->instance_id);
            dm->client_id = arena_str(a, m->client_id);
            dm->client_host = arena_str(a, m->client_host);
            if (stable) { /* Kafka shows metadata and assignment only for a stable group */
                const protocol_t *p = member_protocol(m, gr->protocol);
                dm->member_metadata = arena_bytes(a, p ? p->meta : NULL, p ? p->len : 0);
                dm->member_assignment = arena_bytes(a, m->assignment, m->assignment_len);
            }
        }
    }
    unlock_and_run(g);
}

void kafka_group_list(kafka_groups_t *g, arena_t *a, kafka_ListGroupsResponse_t *out) {
    kafka_struct_init(&kafka_schema_ListGroupsResponse, 0, out);
    lock(g);
    KAFKA_ARRAY_ALLOC(a, out->groups, g->ngroups);
    if (!out->groups.items) out->groups.count = 0;
    int32_t n = 0;
    for (int32_t i = 0; i < out->groups.count; i++) {
        group_t *gr = g->groups[i];
        if (gr->state == GS_DEAD) continue;
        out->groups.items[n].group_id = arena_str(a, gr->id);
        out->groups.items[n].protocol_type = arena_str(a, gr->protocol_type ? gr->protocol_type : "");
        out->groups.items[n].group_state = kafka_str(group_state_names[gr->state]);
        n++;
    }
    out->groups.count = n;
    unlock_and_run(g);
}

int16_t kafka_group_delete(kafka_groups_t *g, kafka_str_t group_id) {
    lock(g);
    int16_t err = KERR_NONE;
    group_t *gr = group_find(g, group_id);
    if (group_id.len <= 0) err = KERR_INVALID_GROUP_ID;
    else if (!gr || gr->state == GS_DEAD) err = KERR_GROUP_ID_NOT_FOUND;
    else if (gr->state != GS_EMPTY || gr->nmembers) err = KERR_NON_EMPTY_GROUP;
    else group_remove(g, gr);
    unlock_and_run(g);
    return err;
}

void kafka_group_touch(kafka_groups_t *g, kafka_str_t group_id) {
    if (group_id.len <= 0) return;
    lock(g);
    if (!group_find(g, group_id)) group_add(g, group_id);
    unlock_and_run(g);
}

int64_t kafka_groups_tick(kafka_groups_t *g, int64_t now) {
    lock(g);
    int64_t next = INT64_MAX;
    for (size_t gi = 0; gi < g->ngroups; gi++) {
        group_t *gr = g->groups[gi];
        /* Pending ids not used within their session timeout lapse. */
        for (size_t i = gr->npending; i-- > 0;) {
            if (gr->pending[i].deadline <= now) {
                pending_remove(gr, i);
                maybe_complete_join(g, gr, now);
            } else {
                next = EDDY_MIN(next, gr->pending[i].deadline);
            }
        }
        /* Sessions: members awaiting a join or a sync answer are kept alive (Kafka shouldKeepAlive). */
        for (size_t i = gr->nmembers; i-- > 0;) {
            if (i >= gr->nmembers) continue;
            member_t *m = gr->members[i];
            if (m->join_cb || m->sync_cb) continue;
            if (m->deadline <= now) {
                elog_info("kafka", "group %s: member %s session expired", gr->id, m->id);
                remove_member_and_update(g, gr, i, now);
            }
        }
        if (gr->state == GS_PREPARING && gr->rebalance_deadline <= now) {
            complete_join(g, gr, now);
        } else if (gr->state == GS_COMPLETING && gr->rebalance_deadline <= now) {
            /* The leader never sent its assignment: drop who did not sync, and start over. */
            for (size_t i = gr->nmembers; i-- > 0;)
                if (!gr->members[i]->sync_cb) member_remove_at(gr, i);
            prepare_rebalance(g, gr, now);
        }
        if (gr->state == GS_PREPARING || gr->state == GS_COMPLETING) next = EDDY_MIN(next, gr->rebalance_deadline);
        for (size_t i = 0; i < gr->nmembers; i++)
            if (!gr->members[i]->join_cb && !gr->members[i]->sync_cb) next = EDDY_MIN(next, gr->members[i]->deadline);
    }
    unlock_and_run(g);
    return next;
}
