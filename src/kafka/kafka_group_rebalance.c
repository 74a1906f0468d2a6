/* kafka: the group coordinator's state machine, Kafka's classic group protocol.
 *
 * Follows apache/kafka's GroupCoordinator / GroupMetadata (core, 2.x-3.x) for the behaviour
 * clients depend on:
 *   Empty --join--> PreparingRebalance --all joined or rebalance timeout--> CompletingRebalance
 *   --leader's SyncGroup--> Stable --join of a new member, leader rejoin, protocol change, leave
 *   or session expiry--> PreparingRebalance ...; a group whose last member leaves is Empty; a
 *   deleted group is Dead.
 * Protocol selection: the candidates are the protocols every member supports; each member votes
 * for the first candidate in its own list; the most votes win (ties: the leader's preference).
 * Static membership (KIP-345, Kafka 2.3+): a member with a group.instance.id keeps its place
 * across restarts. A new process of the instance joins with an unknown member id and takes the
 * place over under a new id, without a rebalance when the group is Stable; the old id is then
 * fenced (FENCED_INSTANCE_ID on JoinGroup, SyncGroup, Heartbeat, LeaveGroup and OffsetCommit).
 * Static members do not leave when they close; a rebalance waits for them until its timeout and
 * keeps them until their session expires.
 * Every entry point takes the coordinator's lock and queues its answers (kafka_group.c). */
#include <stdio.h>
#include <sys/random.h>

#include "kafka/kafka_group_int.h"

/* prefix-UUID, as Kafka names members: the prefix is the client id, or the group.instance.id of
 * a static member. */
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

/* Whether a request names a static member (group.instance.id; clients never send an empty one). */
static bool has_instance(kafka_str_t instance_id) { return instance_id.len > 0; }

/* The member that holds a group.instance.id, or NULL. */
static kafka_member_t *static_member_find(kafka_group_t *gr, kafka_str_t instance_id) {
    if (!has_instance(instance_id)) return NULL;
    for (size_t i = 0; i < gr->nmembers; i++)
        if (kafka_grp_str_is(gr->members[i]->instance_id, instance_id)) return gr->members[i];
    return NULL;
}

/* Kafka isStaticMemberFenced: the instance id belongs to another member id, so the caller is an
 * older (or duplicate) process of that instance. */
static bool static_member_fenced(kafka_group_t *gr, kafka_str_t member_id, kafka_str_t instance_id) {
    kafka_member_t *m = static_member_find(gr, instance_id);
    return m && !kafka_grp_str_is(m->id, member_id);
}

static bool member_supports(const kafka_member_t *m, const char *protocol) {
    return kafka_grp_member_protocol(m, protocol) != NULL;
}

static char *select_protocol(kafka_group_t *gr) {
    kafka_member_t *leader = NULL;
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
            kafka_member_t *m = gr->members[i];
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
static bool group_supports(const kafka_group_t *gr, kafka_str_t type, const kafka_JoinGroupRequest_t *req) {
    if (gr->state == KAFKA_GS_EMPTY || gr->nmembers == 0)
        return type.len > 0 && req->protocols.count > 0;
    if (!gr->protocol_type || !kafka_grp_str_is(gr->protocol_type, type)) return false;
    for (int32_t p = 0; p < req->protocols.count; p++) {
        bool all = true;
        for (size_t i = 0; i < gr->nmembers && all; i++) {
            const kafka_member_t *m = gr->members[i];
            bool has = false;
            for (size_t k = 0; k < m->nprotocols && !has; k++) has = kafka_grp_str_is(m->protocols[k].name, req->protocols.items[p].name);
            all = has;
        }
        if (all) return true;
    }
    return false;
}

static int32_t group_rebalance_timeout(const kafka_group_t *gr) {
    int32_t t = 0;
    for (size_t i = 0; i < gr->nmembers; i++) t = EDDY_MAX(t, gr->members[i]->rebalance_timeout_ms);
    return t;
}

static bool member_awaiting_join(const kafka_member_t *m) { return m->join_cb != NULL; }

static void fail_pending_syncs(kafka_groups_t *g, kafka_group_t *gr, int16_t err) {
    for (size_t i = 0; i < gr->nmembers; i++) {
        kafka_member_t *m = gr->members[i];
        if (!m->sync_cb) continue;
        kafka_grp_sync_answer(g, m->sync_cb, m->sync_arg, err, NULL, 0);
        m->sync_cb = NULL;
    }
}

static void reset_assignments(kafka_group_t *gr) {
    for (size_t i = 0; i < gr->nmembers; i++) {
        eddy_free(gr->members[i]->assignment);
        gr->members[i]->assignment = NULL;
        gr->members[i]->assignment_len = 0;
    }
}

static void complete_join(kafka_groups_t *g, kafka_group_t *gr, int64_t now);

static void maybe_complete_join(kafka_groups_t *g, kafka_group_t *gr, int64_t now) {
    if (gr->state != KAFKA_GS_PREPARING) return;
    for (size_t i = 0; i < gr->nmembers; i++)
        if (!member_awaiting_join(gr->members[i])) return;
    if (gr->npending) return;
    complete_join(g, gr, now);
}

static void prepare_rebalance(kafka_groups_t *g, kafka_group_t *gr, int64_t now) {
    if (gr->state == KAFKA_GS_COMPLETING) {
        reset_assignments(gr);
        fail_pending_syncs(g, gr, KERR_REBALANCE_IN_PROGRESS);
    }
    bool was_empty = gr->state == KAFKA_GS_EMPTY;
    gr->state = KAFKA_GS_PREPARING;
    int32_t timeout = group_rebalance_timeout(gr);
    if (was_empty && g->opts.initial_rebalance_delay_ms > 0)
        timeout = EDDY_MIN(timeout, g->opts.initial_rebalance_delay_ms);
    gr->rebalance_deadline = now + timeout;
    elog_debug("kafka", "group %s: preparing rebalance (generation %d)", gr->id, gr->generation);
    if (!was_empty || g->opts.initial_rebalance_delay_ms <= 0) maybe_complete_join(g, gr, now);
}

static void member_remove_at(kafka_group_t *gr, size_t i) {
    kafka_member_t *m = gr->members[i];
    gr->members[i] = gr->members[--gr->nmembers];
    if (gr->leader && !strcmp(gr->leader, m->id)) {
        eddy_free(gr->leader);
        gr->leader = NULL;
        /* A new leader: any member still awaiting its join (Kafka picks one of them). */
        for (size_t k = 0; k < gr->nmembers && !gr->leader; k++)
            if (member_awaiting_join(gr->members[k])) gr->leader = eddy_strdup(gr->members[k]->id);
        if (!gr->leader && gr->nmembers) gr->leader = eddy_strdup(gr->members[0]->id);
    }
    kafka_grp_member_free(m);
}

/* A member left or expired: Kafka removeMemberAndUpdateGroup. */
static void remove_member_and_update(kafka_groups_t *g, kafka_group_t *gr, size_t i, int64_t now) {
    kafka_member_t *m = gr->members[i];
    if (m->join_cb) kafka_grp_join_error(g, m->join_cb, m->join_arg, KERR_UNKNOWN_MEMBER_ID, "");
    if (m->sync_cb) kafka_grp_sync_answer(g, m->sync_cb, m->sync_arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
    m->join_cb = NULL;
    m->sync_cb = NULL;
    member_remove_at(gr, i);
    switch (gr->state) {
    case KAFKA_GS_STABLE:
    case KAFKA_GS_COMPLETING: prepare_rebalance(g, gr, now); break;
    case KAFKA_GS_PREPARING: maybe_complete_join(g, gr, now); break;
    default: break;
    }
}

/* The join answer for one member of the current generation; leader overrides the group's (a
 * static member replaced in a Stable group is told the old leader id, so that it does not assign). */
static void join_answer(kafka_groups_t *g, kafka_group_t *gr, kafka_member_t *m, const char *leader,
                        kafka_join_cb cb, void *arg) {
    if (!leader) leader = gr->leader;
    kafka_completion_t *c = kafka_grp_completion_new(g);
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
    r->protocol_name = kafka_grp_arena_str(&c->arena, gr->protocol ? gr->protocol : "");
    r->leader = kafka_grp_arena_str(&c->arena, leader ? leader : "");
    r->member_id = kafka_grp_arena_str(&c->arena, m->id);
    if (leader && !strcmp(leader, m->id)) {
        KAFKA_ARRAY_ALLOC(&c->arena, r->members, gr->nmembers);
        if (!r->members.items) r->members.count = 0;
        for (int32_t i = 0; i < r->members.count; i++) {
            kafka_member_t *o = gr->members[i];
            const kafka_protocol_t *p = kafka_grp_member_protocol(o, gr->protocol);
            r->members.items[i].member_id = kafka_grp_arena_str(&c->arena, o->id);
            r->members.items[i].group_instance_id = kafka_grp_arena_str(&c->arena, o->instance_id);
            r->members.items[i].metadata = kafka_grp_arena_bytes(&c->arena, p ? p->meta : NULL, p ? p->len : 0);
        }
    }
}

static void complete_join(kafka_groups_t *g, kafka_group_t *gr, int64_t now) {
    /* Dynamic members that did not rejoin in time are out; static ones stay until their session
     * expires (Kafka onCompleteJoin). */
    for (size_t i = gr->nmembers; i-- > 0;)
        if (!member_awaiting_join(gr->members[i]) && !gr->members[i]->instance_id) member_remove_at(gr, i);
    for (size_t i = gr->npending; i-- > 0;) kafka_grp_pending_remove(gr, i);
    /* The leader must be a member that rejoined; when none did (static members only), wait
     * another rebalance timeout (Kafka maybeElectNewJoinedLeader). */
    kafka_member_t *joined = NULL;
    bool leader_joined = false;
    for (size_t i = 0; i < gr->nmembers; i++) {
        kafka_member_t *m = gr->members[i];
        if (!member_awaiting_join(m)) continue;
        if (!joined) joined = m;
        if (gr->leader && !strcmp(gr->leader, m->id)) leader_joined = true;
    }
    if (gr->nmembers && !joined) {
        gr->rebalance_deadline = now + group_rebalance_timeout(gr);
        return;
    }
    if (joined && !leader_joined) {
        eddy_free(gr->leader);
        gr->leader = eddy_strdup(joined->id);
    }
    gr->generation++;
    eddy_free(gr->protocol);
    gr->protocol = NULL;
    if (gr->nmembers == 0) {
        gr->state = KAFKA_GS_EMPTY;
        eddy_free(gr->leader);
        gr->leader = NULL;
        kafka_grp_save(g, gr);
        elog_debug("kafka", "group %s: empty at generation %d", gr->id, gr->generation);
        return;
    }
    if (!gr->leader) gr->leader = eddy_strdup(gr->members[0]->id);
    gr->protocol = select_protocol(gr);
    gr->state = KAFKA_GS_COMPLETING;
    gr->rebalance_deadline = now + group_rebalance_timeout(gr);
    elog_debug("kafka", "group %s: generation %d, protocol %s, leader %s, %zu members", gr->id,
               gr->generation, gr->protocol ? gr->protocol : "-", gr->leader, gr->nmembers);
    for (size_t i = 0; i < gr->nmembers; i++) {
        kafka_member_t *m = gr->members[i];
        kafka_join_cb cb = m->join_cb;
        void *arg = m->join_arg;
        m->join_cb = NULL;
        m->deadline = now + m->session_timeout_ms;
        if (cb) join_answer(g, gr, m, NULL, cb, arg); /* static members that did not rejoin: none */
    }
}

static kafka_member_t *member_new(kafka_str_t id, const kafka_JoinGroupRequest_t *req,
                            const kafka_group_caller_t *who) {
    kafka_member_t *m = eddy_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->id = kafka_grp_strdup(id);
    m->instance_id = req->group_instance_id.len >= 0 ? kafka_grp_strdup(req->group_instance_id) : NULL;
    m->client_id = kafka_grp_strdup(who->client_id.len >= 0 ? who->client_id : kafka_str_n("", 0));
    m->client_host = eddy_strdup(who->client_host ? who->client_host : "");
    if (!m->id || !m->client_id || !m->client_host) {
        kafka_grp_member_free(m);
        return NULL;
    }
    return m;
}

/* Replaces a member's protocols and timeouts with the request's. */
static int member_update(kafka_member_t *m, const kafka_JoinGroupRequest_t *req) {
    kafka_protocol_t *ps = req->protocols.count ? eddy_calloc((size_t)req->protocols.count, sizeof *ps) : NULL;
    if (req->protocols.count && !ps) return EDDY_ERR_NOMEM;
    for (int32_t i = 0; i < req->protocols.count; i++) {
        const kafka_JoinGroupRequestProtocol_t *rp = &req->protocols.items[i];
        ps[i].name = kafka_grp_strdup(rp->name);
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

static bool member_same_protocols(const kafka_member_t *m, const kafka_JoinGroupRequest_t *req) {
    if ((size_t)req->protocols.count != m->nprotocols) return false;
    for (size_t i = 0; i < m->nprotocols; i++) {
        const kafka_JoinGroupRequestProtocol_t *rp = &req->protocols.items[i];
        size_t len = rp->metadata.len > 0 ? (size_t)rp->metadata.len : 0;
        if (!kafka_grp_str_is(m->protocols[i].name, rp->name) || m->protocols[i].len != len ||
            (len && memcmp(m->protocols[i].meta, rp->metadata.ptr, len) != 0))
            return false;
    }
    return true;
}

static void add_member_and_rebalance(kafka_groups_t *g, kafka_group_t *gr, kafka_str_t id,
                                     const kafka_JoinGroupRequest_t *req, const kafka_group_caller_t *who,
                                     int64_t now, kafka_join_cb cb, void *arg) {
    kafka_member_t *m = member_new(id, req, who);
    if (!m || member_update(m, req) != EDDY_OK || kafka_grp_member_add(gr, m) != EDDY_OK) {
        kafka_grp_member_free(m);
        kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
        return;
    }
    if (gr->nmembers == 1) { /* the first member sets the group's protocol type */
        eddy_free(gr->protocol_type);
        gr->protocol_type = kafka_grp_strdup(req->protocol_type);
    }
    if (!gr->leader) gr->leader = eddy_strdup(m->id);
    m->join_cb = cb;
    m->join_arg = arg;
    m->join_version = who->version;
    m->deadline = now + m->session_timeout_ms;
    if (gr->state == KAFKA_GS_PREPARING) maybe_complete_join(g, gr, now);
    else prepare_rebalance(g, gr, now);
}

static void update_member_and_rebalance(kafka_groups_t *g, kafka_group_t *gr, kafka_member_t *m,
                                        const kafka_JoinGroupRequest_t *req, int64_t now,
                                        kafka_join_cb cb, void *arg) {
    if (member_update(m, req) != EDDY_OK) {
        kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
        return;
    }
    if (m->join_cb) kafka_grp_join_error(g, m->join_cb, m->join_arg, KERR_UNKNOWN_MEMBER_ID, ""); /* superseded */
    m->join_cb = cb;
    m->join_arg = arg;
    if (gr->state == KAFKA_GS_PREPARING) maybe_complete_join(g, gr, now);
    else prepare_rebalance(g, gr, now);
}

/* A new process of a static member joined with an unknown member id: it takes the instance's
 * place under new_id (owned), and whoever still waits as the old id is fenced. A Stable group
 * whose protocol would stay the same does not rebalance: the member gets the current generation
 * and, at SyncGroup, its assignment (Kafka updateStaticMemberAndRebalance). */
static void replace_static_member(kafka_groups_t *g, kafka_group_t *gr, kafka_member_t *m, char *new_id,
                                  const kafka_JoinGroupRequest_t *req, const kafka_group_caller_t *who,
                                  int64_t now, kafka_join_cb cb, void *arg) {
    if (member_update(m, req) != EDDY_OK) {
        eddy_free(new_id);
        kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
        return;
    }
    elog_info("kafka", "group %s: static member %s rejoined as %s, fencing %s", gr->id, m->instance_id, new_id,
              m->id);
    if (m->join_cb) kafka_grp_join_error(g, m->join_cb, m->join_arg, KERR_FENCED_INSTANCE_ID, m->id);
    if (m->sync_cb) kafka_grp_sync_answer(g, m->sync_cb, m->sync_arg, KERR_FENCED_INSTANCE_ID, NULL, 0);
    char *old_leader = gr->leader ? eddy_strdup(gr->leader) : NULL;
    if (gr->leader && !strcmp(gr->leader, m->id)) {
        eddy_free(gr->leader);
        gr->leader = eddy_strdup(new_id);
    }
    eddy_free(m->id);
    m->id = new_id;
    m->join_cb = cb;
    m->join_arg = arg;
    m->join_version = who->version;
    m->sync_cb = NULL;
    m->deadline = now + m->session_timeout_ms;
    switch (gr->state) {
    case KAFKA_GS_STABLE: {
        char *next = select_protocol(gr);
        bool same = next && gr->protocol && !strcmp(next, gr->protocol);
        eddy_free(next);
        if (!same) {
            prepare_rebalance(g, gr, now);
            break;
        }
        kafka_grp_save(g, gr);
        m->join_cb = NULL;
        join_answer(g, gr, m, old_leader ? old_leader : "", cb, arg);
        break;
    }
    /* Its old id may already be in the leader's assignment: start over. */
    case KAFKA_GS_COMPLETING: prepare_rebalance(g, gr, now); break;
    case KAFKA_GS_PREPARING: maybe_complete_join(g, gr, now); break;
    default:
        m->join_cb = NULL;
        kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, "");
        break;
    }
    eddy_free(old_leader);
}

void kafka_group_join(kafka_groups_t *g, const kafka_JoinGroupRequest_t *req,
                      const kafka_group_caller_t *who, int64_t now, kafka_join_cb cb, void *arg) {
    kafka_grp_lock(g);
    kafka_str_t member_id = req->member_id;
    if (req->group_id.len <= 0) {
        kafka_grp_join_error(g, cb, arg, KERR_INVALID_GROUP_ID, "");
        goto out;
    }
    if (req->session_timeout_ms < g->opts.min_session_timeout_ms ||
        req->session_timeout_ms > g->opts.max_session_timeout_ms) {
        kafka_grp_join_error(g, cb, arg, KERR_INVALID_SESSION_TIMEOUT, "");
        goto out;
    }
    kafka_group_t *gr = kafka_grp_find(g, req->group_id);
    bool unknown = member_id.len <= 0;
    if (!gr) {
        if (!unknown) {
            kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, "");
            goto out;
        }
        if (!(gr = kafka_grp_add(g, req->group_id))) {
            kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
            goto out;
        }
    }
    if (gr->state == KAFKA_GS_DEAD) {
        kafka_grp_join_error(g, cb, arg, KERR_COORDINATOR_NOT_AVAILABLE, "");
        goto out;
    }
    if (!group_supports(gr, req->protocol_type, req)) {
        kafka_grp_join_error(g, cb, arg, KERR_INCONSISTENT_GROUP_PROTOCOL, "");
        goto out;
    }
    if (unknown) {
        bool is_static = has_instance(req->group_instance_id);
        char *id = member_id_new(is_static ? req->group_instance_id : who->client_id);
        if (!id) {
            kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
            goto out;
        }
        kafka_member_t *old = static_member_find(gr, req->group_instance_id);
        if (old) {
            replace_static_member(g, gr, old, id, req, who, now, cb, arg);
            goto out;
        }
        if (who->version >= 4 && !is_static) {
            /* KIP-394: hand out the id and let the member come back with it. */
            if (gr->npending == gr->cappending) {
                size_t cap = gr->cappending ? gr->cappending * 2 : 4;
                kafka_pending_t *p = eddy_realloc(gr->pending, cap * sizeof *p);
                if (!p) {
                    eddy_free(id);
                    kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
                    goto out;
                }
                gr->pending = p;
                gr->cappending = cap;
            }
            gr->pending[gr->npending++] = (kafka_pending_t){id, now + req->session_timeout_ms};
            kafka_grp_join_error(g, cb, arg, KERR_MEMBER_ID_REQUIRED, id);
            goto out;
        }
        add_member_and_rebalance(g, gr, kafka_str(id), req, who, now, cb, arg);
        eddy_free(id);
        goto out;
    }
    ssize_t pi = kafka_grp_pending_find(gr, member_id);
    if (pi >= 0) {
        kafka_grp_pending_remove(gr, (size_t)pi);
        add_member_and_rebalance(g, gr, member_id, req, who, now, cb, arg);
        goto out;
    }
    if (static_member_fenced(gr, member_id, req->group_instance_id)) {
        char *echo = kafka_grp_strdup(member_id);
        kafka_grp_join_error(g, cb, arg, KERR_FENCED_INSTANCE_ID, echo ? echo : "");
        eddy_free(echo);
        goto out;
    }
    kafka_member_t *m = kafka_grp_member_find(gr, member_id);
    /* An unknown id, or a static member's id whose instance is gone: reset and join again. */
    if (!m || (has_instance(req->group_instance_id) && !static_member_find(gr, req->group_instance_id))) {
        kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, "");
        goto out;
    }
    m->join_version = who->version;
    switch (gr->state) {
    case KAFKA_GS_PREPARING: update_member_and_rebalance(g, gr, m, req, now, cb, arg); break;
    case KAFKA_GS_COMPLETING:
        if (member_same_protocols(m, req)) join_answer(g, gr, m, NULL, cb, arg); /* a lost answer, resent */
        else update_member_and_rebalance(g, gr, m, req, now, cb, arg);
        break;
    case KAFKA_GS_STABLE:
        if ((gr->leader && !strcmp(gr->leader, m->id)) || !member_same_protocols(m, req))
            update_member_and_rebalance(g, gr, m, req, now, cb, arg);
        else
            join_answer(g, gr, m, NULL, cb, arg);
        break;
    default: kafka_grp_join_error(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, ""); break;
    }
out:
    kafka_grp_unlock_and_run(g);
}

void kafka_group_sync(kafka_groups_t *g, const kafka_SyncGroupRequest_t *req, int64_t now,
                      kafka_sync_cb cb, void *arg) {
    kafka_grp_lock(g);
    kafka_group_t *gr = kafka_grp_find(g, req->group_id);
    kafka_member_t *m = gr ? kafka_grp_member_find(gr, req->member_id) : NULL;
    if (!gr) {
        kafka_grp_sync_answer(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
    } else if (gr->state == KAFKA_GS_DEAD) {
        kafka_grp_sync_answer(g, cb, arg, KERR_COORDINATOR_NOT_AVAILABLE, NULL, 0);
    } else if (static_member_fenced(gr, req->member_id, req->group_instance_id)) {
        kafka_grp_sync_answer(g, cb, arg, KERR_FENCED_INSTANCE_ID, NULL, 0);
    } else if (!m) {
        kafka_grp_sync_answer(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
    } else if (req->generation_id != gr->generation) {
        kafka_grp_sync_answer(g, cb, arg, KERR_ILLEGAL_GENERATION, NULL, 0);
    } else {
        switch (gr->state) {
        case KAFKA_GS_EMPTY: kafka_grp_sync_answer(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0); break;
        case KAFKA_GS_PREPARING: kafka_grp_sync_answer(g, cb, arg, KERR_REBALANCE_IN_PROGRESS, NULL, 0); break;
        case KAFKA_GS_STABLE:
            m->deadline = now + m->session_timeout_ms;
            kafka_grp_sync_answer(g, cb, arg, KERR_NONE, m->assignment, m->assignment_len);
            break;
        case KAFKA_GS_COMPLETING:
            if (m->sync_cb) kafka_grp_sync_answer(g, m->sync_cb, m->sync_arg, KERR_REBALANCE_IN_PROGRESS, NULL, 0);
            m->sync_cb = cb;
            m->sync_arg = arg;
            m->deadline = now + m->session_timeout_ms;
            if (gr->leader && !strcmp(gr->leader, m->id)) {
                for (size_t i = 0; i < gr->nmembers; i++) {
                    kafka_member_t *o = gr->members[i];
                    eddy_free(o->assignment);
                    o->assignment = NULL;
                    o->assignment_len = 0;
                    for (int32_t k = 0; k < req->assignments.count; k++) {
                        const kafka_SyncGroupRequestAssignment_t *as = &req->assignments.items[k];
                        if (!kafka_grp_str_is(o->id, as->member_id) || as->assignment.len <= 0) continue;
                        o->assignment = eddy_memdup(as->assignment.ptr, (size_t)as->assignment.len);
                        o->assignment_len = o->assignment ? (size_t)as->assignment.len : 0;
                    }
                }
                gr->state = KAFKA_GS_STABLE;
                kafka_grp_save(g, gr);
                for (size_t i = 0; i < gr->nmembers; i++) {
                    kafka_member_t *o = gr->members[i];
                    if (!o->sync_cb) continue;
                    kafka_grp_sync_answer(g, o->sync_cb, o->sync_arg, KERR_NONE, o->assignment, o->assignment_len);
                    o->sync_cb = NULL;
                    o->deadline = now + o->session_timeout_ms;
                }
                elog_debug("kafka", "group %s: stable at generation %d", gr->id, gr->generation);
            }
            break;
        default: kafka_grp_sync_answer(g, cb, arg, KERR_UNKNOWN_MEMBER_ID, NULL, 0); break;
        }
    }
    kafka_grp_unlock_and_run(g);
}

int16_t kafka_group_heartbeat(kafka_groups_t *g, const kafka_HeartbeatRequest_t *req, int64_t now) {
    kafka_grp_lock(g);
    int16_t err;
    kafka_group_t *gr = kafka_grp_find(g, req->group_id);
    kafka_member_t *m = gr ? kafka_grp_member_find(gr, req->member_id) : NULL;
    if (!gr) err = KERR_UNKNOWN_MEMBER_ID;
    else if (gr->state == KAFKA_GS_DEAD) err = KERR_COORDINATOR_NOT_AVAILABLE;
    else if (static_member_fenced(gr, req->member_id, req->group_instance_id)) err = KERR_FENCED_INSTANCE_ID;
    else if (!m) err = KERR_UNKNOWN_MEMBER_ID;
    else if (req->generation_id != gr->generation) err = KERR_ILLEGAL_GENERATION;
    else {
        switch (gr->state) {
        case KAFKA_GS_EMPTY: err = KERR_UNKNOWN_MEMBER_ID; break;
        case KAFKA_GS_PREPARING: err = KERR_REBALANCE_IN_PROGRESS; break;
        default: err = KERR_NONE; break;
        }
        if (err != KERR_UNKNOWN_MEMBER_ID) m->deadline = now + m->session_timeout_ms;
    }
    kafka_grp_unlock_and_run(g);
    return err;
}

void kafka_group_leave(kafka_groups_t *g, const kafka_LeaveGroupRequest_t *req, int version,
                       int64_t now, arena_t *a, kafka_LeaveGroupResponse_t *resp) {
    kafka_struct_init(&kafka_schema_LeaveGroupResponse, version, resp);
    /* v0-2 name one member; v3+ a list. Treat both as a list. */
    kafka_MemberIdentity_t one = {req->member_id, {NULL, -1}}; /* no instance id before v3 */
    const kafka_MemberIdentity_t *ids = version >= 3 ? req->members.items : &one;
    int32_t n = version >= 3 ? EDDY_MAX(req->members.count, 0) : 1;
    KAFKA_ARRAY_ALLOC(a, resp->members, n);
    if (n && !resp->members.items) {
        resp->members.count = 0;
        resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    kafka_grp_lock(g);
    kafka_group_t *gr = kafka_grp_find(g, req->group_id);
    if (gr && gr->state == KAFKA_GS_DEAD) {
        resp->error_code = KERR_COORDINATOR_NOT_AVAILABLE;
        resp->members.count = 0;
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        kafka_MemberResponse_t *mr = &resp->members.items[i];
        kafka_str_t member_id = ids[i].member_id, instance_id = ids[i].group_instance_id;
        mr->member_id = member_id;
        mr->group_instance_id = instance_id;
        mr->error_code = KERR_UNKNOWN_MEMBER_ID;
        if (!gr) continue;
        /* An empty member id with an instance id is an administrator removing a static member. */
        if (member_id.len > 0 && static_member_fenced(gr, member_id, instance_id)) {
            mr->error_code = KERR_FENCED_INSTANCE_ID;
            continue;
        }
        ssize_t pi = kafka_grp_pending_find(gr, member_id);
        if (pi >= 0) {
            kafka_grp_pending_remove(gr, (size_t)pi);
            mr->error_code = KERR_NONE;
            maybe_complete_join(g, gr, now);
            continue;
        }
        kafka_member_t *sm = static_member_find(gr, instance_id);
        for (size_t k = 0; k < gr->nmembers; k++) {
            if (sm ? gr->members[k] != sm : !kafka_grp_str_is(gr->members[k]->id, member_id)) continue;
            elog_debug("kafka", "group %s: member %s left", gr->id, gr->members[k]->id);
            remove_member_and_update(g, gr, k, now);
            mr->error_code = KERR_NONE;
            break;
        }
    }
    /* Old versions carry one member's result in the top-level error (LeaveGroupResponse). */
    if (version < 3 && n == 1) resp->error_code = resp->members.items[0].error_code;
out:
    kafka_grp_unlock_and_run(g);
}

int16_t kafka_group_commit_check(kafka_groups_t *g, kafka_str_t group_id, int32_t generation,
                                 kafka_str_t member_id, kafka_str_t instance_id, int64_t now) {
    kafka_grp_lock(g);
    int16_t err = KERR_NONE;
    kafka_group_t *gr = kafka_grp_find(g, group_id);
    if (group_id.len <= 0) err = KERR_INVALID_GROUP_ID;
    else if (!gr) {
        if (generation < 0) {
            /* A group used only to store offsets: saved as empty, so that the log expires its
             * offsets after the retention time as Kafka does. */
            kafka_group_t *ng = kafka_grp_add(g, group_id);
            if (ng) kafka_grp_save(g, ng);
            else err = KERR_UNKNOWN_SERVER_ERROR;
        } else {
            err = KERR_ILLEGAL_GENERATION;
        }
    } else if (gr->state == KAFKA_GS_DEAD) err = KERR_COORDINATOR_NOT_AVAILABLE;
    else if (static_member_fenced(gr, member_id, instance_id)) err = KERR_FENCED_INSTANCE_ID;
    else if (generation < 0 && gr->state == KAFKA_GS_EMPTY) err = KERR_NONE;
    else {
        kafka_member_t *m = kafka_grp_member_find(gr, member_id);
        if (!m) err = KERR_UNKNOWN_MEMBER_ID;
        else if (generation != gr->generation) err = KERR_ILLEGAL_GENERATION;
        else if (gr->state == KAFKA_GS_COMPLETING) err = KERR_REBALANCE_IN_PROGRESS;
        else m->deadline = now + m->session_timeout_ms;
    }
    kafka_grp_unlock_and_run(g);
    return err;
}

int64_t kafka_groups_tick(kafka_groups_t *g, int64_t now) {
    kafka_grp_lock(g);
    int64_t next = INT64_MAX;
    for (size_t gi = 0; gi < g->ngroups; gi++) {
        kafka_group_t *gr = g->groups[gi];
        /* Pending ids not used within their session timeout lapse. */
        for (size_t i = gr->npending; i-- > 0;) {
            if (gr->pending[i].deadline <= now) {
                kafka_grp_pending_remove(gr, i);
                maybe_complete_join(g, gr, now);
            } else {
                next = EDDY_MIN(next, gr->pending[i].deadline);
            }
        }
        /* Sessions: members awaiting a join or a sync answer are kept alive (Kafka shouldKeepAlive). */
        for (size_t i = gr->nmembers; i-- > 0;) {
            if (i >= gr->nmembers) continue;
            kafka_member_t *m = gr->members[i];
            if (m->join_cb || m->sync_cb) continue;
            if (m->deadline <= now) {
                elog_info("kafka", "group %s: member %s session expired", gr->id, m->id);
                remove_member_and_update(g, gr, i, now);
            }
        }
        if (gr->state == KAFKA_GS_PREPARING && gr->rebalance_deadline <= now) {
            complete_join(g, gr, now);
        } else if (gr->state == KAFKA_GS_COMPLETING && gr->rebalance_deadline <= now) {
            /* The leader never sent its assignment: drop who did not sync, and start over. */
            for (size_t i = gr->nmembers; i-- > 0;)
                if (!gr->members[i]->sync_cb) member_remove_at(gr, i);
            prepare_rebalance(g, gr, now);
        }
        if (gr->state == KAFKA_GS_PREPARING || gr->state == KAFKA_GS_COMPLETING) next = EDDY_MIN(next, gr->rebalance_deadline);
        for (size_t i = 0; i < gr->nmembers; i++)
            if (!gr->members[i]->join_cb && !gr->members[i]->sync_cb) next = EDDY_MIN(next, gr->members[i]->deadline);
    }
    kafka_grp_unlock_and_run(g);
    return next;
}

