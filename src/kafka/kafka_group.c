/* kafka: the group coordinator, Kafka's classic consumer-group protocol: its groups and members,
 * answers queued under the lock and run after it, persistence, and the APIs that only read or
 * delete groups (DescribeGroups, ListGroups, DeleteGroups). The state machine (JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, timeouts) is in kafka_group_rebalance.c.
 *
 * Group state (generation, protocol, leader, members with their selected metadata and
 * assignments) is saved through the store when a generation's assignment is set and when the
 * group empties, so that a restart keeps generations and lets members resume.
 * One mutex guards everything; callbacks are queued while it is held and run after. */
#include <stdio.h>

#include "kafka/kafka_group_int.h"

static const char *const group_state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                                "Stable", "Dead"};

void kafka_group_opts_init(kafka_group_opts_t *o) {
    o->min_session_timeout_ms = 1000; /* Kafka: 6000; lower so that tests can be quick */
    o->max_session_timeout_ms = 1800000;
    o->initial_rebalance_delay_ms = 0; /* Kafka: 3000 */
}

/* ---- small helpers --------------------------------------------------------------------------- */

char *kafka_grp_strdup(kafka_str_t s) {
    if (s.len < 0) return NULL;
    return eddy_strndup(s.ptr ? s.ptr : "", (size_t)s.len);
}

bool kafka_grp_str_is(const char *c, kafka_str_t s) {
    return c && s.len >= 0 && strlen(c) == (size_t)s.len && memcmp(c, s.ptr, (size_t)s.len) == 0;
}

kafka_str_t kafka_grp_arena_str(arena_t *a, const char *s) {
    if (!s) return (kafka_str_t){NULL, -1};
    size_t n = strlen(s);
    char *p = arena_strndup(a, s, n);
    return p ? kafka_str_n(p, n) : (kafka_str_t){"", 0};
}

kafka_bytes_t kafka_grp_arena_bytes(arena_t *a, const uint8_t *p, size_t n) {
    if (!n) return (kafka_bytes_t){NULL, 0};
    uint8_t *c = arena_memdup(a, p, n);
    return (kafka_bytes_t){c, c ? (int32_t)n : 0};
}

void kafka_grp_member_free(kafka_member_t *m) {
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

static void group_free(kafka_group_t *gr) {
    for (size_t i = 0; i < gr->nmembers; i++) kafka_grp_member_free(gr->members[i]);
    for (size_t i = 0; i < gr->npending; i++) eddy_free(gr->pending[i].id);
    eddy_free(gr->members);
    eddy_free(gr->pending);
    eddy_free(gr->id);
    eddy_free(gr->protocol_type);
    eddy_free(gr->protocol);
    eddy_free(gr->leader);
    eddy_free(gr);
}

kafka_group_t *kafka_grp_find(kafka_groups_t *g, kafka_str_t id) {
    for (size_t i = 0; i < g->ngroups; i++)
        if (kafka_grp_str_is(g->groups[i]->id, id)) return g->groups[i];
    return NULL;
}

kafka_group_t *kafka_grp_add(kafka_groups_t *g, kafka_str_t id) {
    if (g->ngroups == g->capgroups) {
        size_t cap = g->capgroups ? g->capgroups * 2 : 16;
        kafka_group_t **n = eddy_realloc(g->groups, cap * sizeof *n);
        if (!n) return NULL;
        g->groups = n;
        g->capgroups = cap;
    }
    kafka_group_t *gr = eddy_calloc(1, sizeof *gr);
    if (!gr || !(gr->id = kafka_grp_strdup(id))) {
        eddy_free(gr);
        return NULL;
    }
    gr->state = KAFKA_GS_EMPTY;
    g->groups[g->ngroups++] = gr;
    return gr;
}

static void group_remove(kafka_groups_t *g, kafka_group_t *gr) {
    for (size_t i = 0; i < g->ngroups; i++) {
        if (g->groups[i] != gr) continue;
        g->groups[i] = g->groups[--g->ngroups];
        group_free(gr);
        return;
    }
}

kafka_member_t *kafka_grp_member_find(kafka_group_t *gr, kafka_str_t id) {
    for (size_t i = 0; i < gr->nmembers; i++)
        if (kafka_grp_str_is(gr->members[i]->id, id)) return gr->members[i];
    return NULL;
}

int kafka_grp_member_add(kafka_group_t *gr, kafka_member_t *m) {
    if (gr->nmembers == gr->capmembers) {
        size_t cap = gr->capmembers ? gr->capmembers * 2 : 4;
        kafka_member_t **mm = eddy_realloc(gr->members, cap * sizeof *mm);
        if (!mm) return EDDY_ERR_NOMEM;
        gr->members = mm;
        gr->capmembers = cap;
    }
    gr->members[gr->nmembers++] = m;
    return EDDY_OK;
}

ssize_t kafka_grp_pending_find(kafka_group_t *gr, kafka_str_t id) {
    for (size_t i = 0; i < gr->npending; i++)
        if (kafka_grp_str_is(gr->pending[i].id, id)) return (ssize_t)i;
    return -1;
}

void kafka_grp_pending_remove(kafka_group_t *gr, size_t i) {
    eddy_free(gr->pending[i].id);
    gr->pending[i] = gr->pending[--gr->npending];
}

kafka_completion_t *kafka_grp_completion_new(kafka_groups_t *g) {
    kafka_completion_t *c = eddy_calloc(1, sizeof *c);
    if (!c) return NULL;
    arena_init(&c->arena, 1024);
    c->next = NULL;
    *g->done_tail = c;
    g->done_tail = &c->next;
    return c;
}

/* Runs every queued callback; called after the mutex is released. */
static void completions_run(kafka_groups_t *g, kafka_completion_t *list) {
    (void)g;
    while (list) {
        kafka_completion_t *c = list;
        list = c->next;
        if (c->join_cb) c->join_cb(c->arg, &c->join);
        if (c->sync_cb) c->sync_cb(c->arg, &c->sync);
        arena_free(&c->arena);
        eddy_free(c);
    }
}

void kafka_grp_lock(kafka_groups_t *g) { pthread_mutex_lock(&g->mu); }

void kafka_grp_unlock_and_run(kafka_groups_t *g) {
    kafka_completion_t *list = g->done_head;
    g->done_head = NULL;
    g->done_tail = &g->done_head;
    pthread_mutex_unlock(&g->mu);
    completions_run(g, list);
}

/* Queues a join answer with just an error (and the member id, for MEMBER_ID_REQUIRED). */
void kafka_grp_join_error(kafka_groups_t *g, kafka_join_cb cb, void *arg, int16_t err, const char *member_id) {
    kafka_completion_t *c = kafka_grp_completion_new(g);
    kafka_JoinGroupResponse_t *r;
    kafka_JoinGroupResponse_t local;
    r = c ? &c->join : &local;
    kafka_struct_init(&kafka_schema_JoinGroupResponse, 0, r);
    r->error_code = err;
    r->generation_id = -1;
    r->protocol_name = kafka_str_n("", 0);
    if (c) {
        r->member_id = kafka_grp_arena_str(&c->arena, member_id ? member_id : "");
        c->join_cb = cb;
        c->arg = arg;
    } else {
        r->member_id = kafka_str_n("", 0);
        cb(arg, r); /* out of memory: answer at once rather than never (the lock is held) */
    }
}

void kafka_grp_sync_answer(kafka_groups_t *g, kafka_sync_cb cb, void *arg, int16_t err,
                           const uint8_t *assignment, size_t len) {
    kafka_completion_t *c = kafka_grp_completion_new(g);
    kafka_SyncGroupResponse_t local, *r = c ? &c->sync : &local;
    kafka_struct_init(&kafka_schema_SyncGroupResponse, 0, r);
    r->error_code = err;
    if (c) {
        r->assignment = kafka_grp_arena_bytes(&c->arena, assignment, len);
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

const kafka_protocol_t *kafka_grp_member_protocol(const kafka_member_t *m, const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < m->nprotocols; i++)
        if (!strcmp(m->protocols[i].name, name)) return &m->protocols[i];
    return NULL;
}

void kafka_grp_save(kafka_groups_t *g, kafka_group_t *gr) {
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
        kafka_member_t *m = gr->members[i];
        const kafka_protocol_t *p = kafka_grp_member_protocol(m, gr->protocol);
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
    if (kafka_grp_find(g, kafka_str(name))) return;
    kafka_group_t *gr = kafka_grp_add(g, kafka_str(name));
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
        kafka_member_t *m = eddy_calloc(1, sizeof *m);
        if (!m) break;
        m->id = rd_cstr(&r);
        m->instance_id = rd_cstr(&r);
        m->client_id = rd_cstr(&r);
        m->client_host = rd_cstr(&r);
        m->session_timeout_ms = rd_i32(&r);
        m->rebalance_timeout_ms = rd_i32(&r);
        kafka_protocol_t p = {0};
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
            kafka_grp_member_free(m);
            break;
        }
        if (kafka_grp_member_add(gr, m) != EDDY_OK) {
            kafka_grp_member_free(m);
            break;
        }
    }
    if (!rd_ok(&r)) elog_warn("kafka", "group %s: stored state is corrupt; kept what was readable", name);
    gr->state = gr->nmembers && gr->protocol && gr->leader ? KAFKA_GS_STABLE : KAFKA_GS_EMPTY;
    if (gr->state == KAFKA_GS_EMPTY) {
        for (size_t i = 0; i < gr->nmembers; i++) kafka_grp_member_free(gr->members[i]);
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
    kafka_grp_lock(g);
    for (size_t gi = 0; gi < g->ngroups; gi++) {
        kafka_group_t *gr = g->groups[gi];
        for (size_t i = 0; i < gr->nmembers; i++) {
            kafka_member_t *m = gr->members[i];
            if (m->join_cb) kafka_grp_join_error(g, m->join_cb, m->join_arg, KERR_COORDINATOR_NOT_AVAILABLE, "");
            if (m->sync_cb) kafka_grp_sync_answer(g, m->sync_cb, m->sync_arg, KERR_COORDINATOR_NOT_AVAILABLE, NULL, 0);
            m->join_cb = NULL;
            m->sync_cb = NULL;
        }
    }
    kafka_grp_unlock_and_run(g);
}

void kafka_group_describe(kafka_groups_t *g, kafka_str_t group_id, arena_t *a, kafka_DescribedGroup_t *out) {
    kafka_struct_init(&kafka_schema_DescribedGroup, 0, out);
    out->group_id = group_id;
    kafka_grp_lock(g);
    kafka_group_t *gr = kafka_grp_find(g, group_id);
    if (group_id.len <= 0) {
        out->error_code = KERR_INVALID_GROUP_ID;
        out->group_state = kafka_str_n("", 0);
    } else if (!gr) {
        out->group_state = kafka_str("Dead");
    } else {
        bool stable = gr->state == KAFKA_GS_STABLE;
        out->group_state = kafka_str(group_state_names[gr->state]);
        out->protocol_type = kafka_grp_arena_str(a, gr->protocol_type ? gr->protocol_type : "");
        out->protocol_data = kafka_grp_arena_str(a, stable && gr->protocol ? gr->protocol : "");
        KAFKA_ARRAY_ALLOC(a, out->members, gr->nmembers);
        if (!out->members.items) out->members.count = 0;
        for (int32_t i = 0; i < out->members.count; i++) {
            kafka_member_t *m = gr->members[i];
            kafka_DescribedGroupMember_t *dm = &out->members.items[i];
            dm->member_id = kafka_grp_arena_str(a, m->id);
            dm->group_instance_id = kafka_grp_arena_str(a, m->instance_id);
            dm->client_id = kafka_grp_arena_str(a, m->client_id);
            dm->client_host = kafka_grp_arena_str(a, m->client_host);
            if (stable) { /* Kafka shows metadata and assignment only for a stable group */
                const kafka_protocol_t *p = kafka_grp_member_protocol(m, gr->protocol);
                dm->member_metadata = kafka_grp_arena_bytes(a, p ? p->meta : NULL, p ? p->len : 0);
                dm->member_assignment = kafka_grp_arena_bytes(a, m->assignment, m->assignment_len);
            }
        }
    }
    kafka_grp_unlock_and_run(g);
}

void kafka_group_list(kafka_groups_t *g, arena_t *a, kafka_ListGroupsResponse_t *out) {
    kafka_struct_init(&kafka_schema_ListGroupsResponse, 0, out);
    kafka_grp_lock(g);
    KAFKA_ARRAY_ALLOC(a, out->groups, g->ngroups);
    if (!out->groups.items) out->groups.count = 0;
    int32_t n = 0;
    for (int32_t i = 0; i < out->groups.count; i++) {
        kafka_group_t *gr = g->groups[i];
        if (gr->state == KAFKA_GS_DEAD) continue;
        out->groups.items[n].group_id = kafka_grp_arena_str(a, gr->id);
        out->groups.items[n].protocol_type = kafka_grp_arena_str(a, gr->protocol_type ? gr->protocol_type : "");
        out->groups.items[n].group_state = kafka_str(group_state_names[gr->state]);
        n++;
    }
    out->groups.count = n;
    kafka_grp_unlock_and_run(g);
}

int16_t kafka_group_delete(kafka_groups_t *g, kafka_str_t group_id) {
    kafka_grp_lock(g);
    int16_t err = KERR_NONE;
    kafka_group_t *gr = kafka_grp_find(g, group_id);
    if (group_id.len <= 0) err = KERR_INVALID_GROUP_ID;
    else if (!gr || gr->state == KAFKA_GS_DEAD) err = KERR_GROUP_ID_NOT_FOUND;
    else if (gr->state != KAFKA_GS_EMPTY || gr->nmembers) err = KERR_NON_EMPTY_GROUP;
    else group_remove(g, gr);
    kafka_grp_unlock_and_run(g);
    return err;
}

void kafka_group_touch(kafka_groups_t *g, kafka_str_t group_id) {
    if (group_id.len <= 0) return;
    kafka_grp_lock(g);
    if (!kafka_grp_find(g, group_id)) kafka_grp_add(g, group_id);
    kafka_grp_unlock_and_run(g);
}

