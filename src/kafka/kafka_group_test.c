/* Unit tests of the group coordinator: the classic protocol's state machine driven with
 * synthetic time, errors as Kafka gives them, protocol selection, and persistence through a
 * memory store. */
#include <stdio.h>
#include <stdlib.h>

#include "kafka/kafka_int.h"
#include "test.h"

/* A captured answer. */
typedef struct {
    bool done;
    int16_t error;
    int32_t generation;
    char member_id[128];
    char leader[128];
    char protocol[32];
    int members;
    char assignment[64];
} answer_t;

static void on_join(void *arg, kafka_JoinGroupResponse_t *r) {
    answer_t *a = arg;
    a->done = true;
    a->error = r->error_code;
    a->generation = r->generation_id;
    snprintf(a->member_id, sizeof a->member_id, "%.*s", r->member_id.len > 0 ? r->member_id.len : 0, r->member_id.ptr);
    snprintf(a->leader, sizeof a->leader, "%.*s", r->leader.len > 0 ? r->leader.len : 0, r->leader.ptr);
    snprintf(a->protocol, sizeof a->protocol, "%.*s", r->protocol_name.len > 0 ? r->protocol_name.len : 0,
             r->protocol_name.ptr);
    a->members = r->members.count;
}

static void on_sync(void *arg, kafka_SyncGroupResponse_t *r) {
    answer_t *a = arg;
    a->done = true;
    a->error = r->error_code;
    snprintf(a->assignment, sizeof a->assignment, "%.*s", r->assignment.len > 0 ? r->assignment.len : 0,
             (const char *)r->assignment.ptr);
}

#define NO_INSTANCE ((kafka_str_t){NULL, -1})

/* Joins with protocols "p1[,p2]" (comma separated names; metadata = the name), as a static member
 * when instance is not NULL, with these session and rebalance timeouts. */
static void join_as(kafka_groups_t *g, const char *member, const char *instance, const char *protocols,
                    int version, int64_t now, int32_t session_ms, int32_t rebalance_ms, answer_t *out) {
    kafka_JoinGroupRequestProtocol_t ps[4];
    int n = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", protocols);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < 4; t = strtok_r(NULL, ",", &save)) {
        char *name = strdup(t); /* leaked into the test only; tiny */
        ps[n].name = kafka_str(name);
        ps[n].metadata = (kafka_bytes_t){(const uint8_t *)name, (int32_t)strlen(name)};
        n++;
    }
    kafka_JoinGroupRequest_t req;
    kafka_struct_init(&kafka_schema_JoinGroupRequest, version, &req);
    req.group_id = kafka_str("g");
    req.session_timeout_ms = session_ms;
    req.rebalance_timeout_ms = rebalance_ms;
    req.member_id = kafka_str(member);
    req.group_instance_id = instance ? kafka_str(instance) : NO_INSTANCE;
    req.protocol_type = kafka_str("consumer");
    req.protocols.count = n;
    req.protocols.items = ps;
    kafka_group_caller_t who = {kafka_str("client"), "127.0.0.1", version};
    memset(out, 0, sizeof *out);
    kafka_group_join(g, &req, &who, now, on_join, out);
    for (int i = 0; i < n; i++) free((void *)ps[i].name.ptr);
}

static void join(kafka_groups_t *g, const char *member, const char *protocols, int version, int64_t now,
                 answer_t *out) {
    join_as(g, member, NULL, protocols, version, now, 10000, 20000, out);
}

static void sync_as(kafka_groups_t *g, const char *member, const char *instance, int32_t gen,
                    const char *const *assign, int nassign, int64_t now, answer_t *out) {
    kafka_SyncGroupRequestAssignment_t as[4];
    for (int i = 0; i < nassign; i++) {
        as[i].member_id = kafka_str(assign[2 * i]);
        as[i].assignment = (kafka_bytes_t){(const uint8_t *)assign[2 * i + 1], (int32_t)strlen(assign[2 * i + 1])};
    }
    kafka_SyncGroupRequest_t req;
    kafka_struct_init(&kafka_schema_SyncGroupRequest, 3, &req);
    req.group_id = kafka_str("g");
    req.generation_id = gen;
    req.member_id = kafka_str(member);
    req.group_instance_id = instance ? kafka_str(instance) : NO_INSTANCE;
    req.assignments.count = nassign;
    req.assignments.items = as;
    memset(out, 0, sizeof *out);
    kafka_group_sync(g, &req, now, on_sync, out);
}

static void sync_group(kafka_groups_t *g, const char *member, int32_t gen, const char *const *assign,
                       int nassign, int64_t now, answer_t *out) {
    sync_as(g, member, NULL, gen, assign, nassign, now, out);
}

static int16_t heartbeat_in(kafka_groups_t *g, const char *group, const char *member, const char *instance,
                            int32_t gen, int64_t now) {
    kafka_HeartbeatRequest_t req;
    kafka_struct_init(&kafka_schema_HeartbeatRequest, 3, &req);
    req.group_id = kafka_str(group);
    req.generation_id = gen;
    req.member_id = kafka_str(member);
    req.group_instance_id = instance ? kafka_str(instance) : NO_INSTANCE;
    return kafka_group_heartbeat(g, &req, now);
}

static int16_t heartbeat_as(kafka_groups_t *g, const char *member, const char *instance, int32_t gen,
                            int64_t now) {
    return heartbeat_in(g, "g", member, instance, gen, now);
}

static int16_t heartbeat(kafka_groups_t *g, const char *group, const char *member, int32_t gen, int64_t now) {
    return heartbeat_in(g, group, member, NULL, gen, now);
}

/* LeaveGroup v3 of one member identity: that member's error. */
static int16_t leave_as(kafka_groups_t *g, const char *member, const char *instance, int64_t now) {
    kafka_MemberIdentity_t id = {kafka_str(member), instance ? kafka_str(instance) : NO_INSTANCE};
    kafka_LeaveGroupRequest_t req;
    kafka_struct_init(&kafka_schema_LeaveGroupRequest, 3, &req);
    req.group_id = kafka_str("g");
    req.members.count = 1;
    req.members.items = &id;
    arena_t a;
    arena_init(&a, 256);
    kafka_LeaveGroupResponse_t resp;
    kafka_group_leave(g, &req, 3, now, &a, &resp);
    int16_t err = resp.error_code ? resp.error_code : resp.members.items[0].error_code;
    arena_free(&a);
    return err;
}

static int16_t leave(kafka_groups_t *g, const char *member, int64_t now) {
    kafka_LeaveGroupRequest_t req;
    kafka_struct_init(&kafka_schema_LeaveGroupRequest, 1, &req);
    req.group_id = kafka_str("g");
    req.member_id = kafka_str(member);
    arena_t a;
    arena_init(&a, 256);
    kafka_LeaveGroupResponse_t resp;
    kafka_group_leave(g, &req, 1, now, &a, &resp);
    arena_free(&a);
    return resp.error_code;
}

/* A member that joins with v5 (MEMBER_ID_REQUIRED round trip) and becomes the group. */
TEST(kafka_group_member_id_required_then_stable) {
    kafka_groups_t *g = kafka_groups_new(NULL, NULL, 0);
    answer_t a;
    join(g, "", "range", 5, 0, &a);
    REQUIRE(a.done);
    CHECK_EQ_INT(a.error, KERR_MEMBER_ID_REQUIRED);
    CHECK(strncmp(a.member_id, "client-", 7) == 0);
    char id[128];
    snprintf(id, sizeof id, "%s", a.member_id);
    join(g, id, "range", 5, 1, &a);
    REQUIRE(a.done);
    CHECK_EQ_INT(a.error, KERR_NONE);
    CHECK_EQ_INT(a.generation, 1);
    CHECK_EQ_STR(a.leader, id);
    CHECK_EQ_STR(a.member_id, id);
    CHECK_EQ_STR(a.protocol, "range");
    CHECK_EQ_INT(a.members, 1);
    CHECK_EQ_INT(heartbeat(g, "g", id, 1, 2), KERR_NONE); /* allowed while completing */
    const char *assign[] = {id, "A"};
    sync_group(g, id, 1, assign, 1, 3, &a);
    REQUIRE(a.done);
    CHECK_EQ_INT(a.error, KERR_NONE);
    CHECK_EQ_STR(a.assignment, "A");
    CHECK_EQ_INT(heartbeat(g, "g", id, 1, 4), KERR_NONE);
    CHECK_EQ_INT(heartbeat(g, "g", id, 2, 4), KERR_ILLEGAL_GENERATION);
    CHECK_EQ_INT(heartbeat(g, "g", "nobody", 1, 4), KERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(heartbeat(g, "other", id, 1, 4), KERR_UNKNOWN_MEMBER_ID);
    kafka_groups_free(g);
}

/* Old clients (kafka-python: JoinGroup v0-v2) get a member id at once. */
TEST(kafka_group_old_join_versions_skip_member_id_required) {
    kafka_groups_t *g = kafka_groups_new(NULL, NULL, 0);
    answer_t a;
    join(g, "", "range", 2, 0, &a);
    REQUIRE(a.done);
    CHECK_EQ_INT(a.error, KERR_NONE);
    CHECK_EQ_INT(a.generation, 1);
    CHECK_EQ_STR(a.leader, a.member_id);
    kafka_groups_free(g);
}

TEST(kafka_group_second_member_triggers_rebalance) {
    kafka_groups_t *g = kafka_groups_new(NULL, NULL, 0);
    answer_t a1, a2, s1, s2;
    join(g, "", "range,roundrobin", 3, 0, &a1);
    char m1[128];
    snprintf(m1, sizeof m1, "%s", a1.member_id);
    const char *assign1[] = {m1, "all"};
    sync_group(g, m1, 1, assign1, 1, 1, &s1);
    CHECK_EQ_INT(s1.error, KERR_NONE);
    /* A second member: it waits, the first learns through its heartbeat. */
    join(g, "", "roundrobin", 3, 10, &a2);
    CHECK(!a2.done);
    CHECK_EQ_INT(heartbeat(g, "g", m1, 1, 11), KERR_REBALANCE_IN_PROGRESS);
    /* A sync during the rebalance (the generation moves on only when it completes). */
    sync_group(g, m1, 1, assign1, 1, 11, &s1);
    CHECK_EQ_INT(s1.error, KERR_REBALANCE_IN_PROGRESS);
    sync_group(g, m1, 0, assign1, 1, 11, &s1);
    CHECK_EQ_INT(s1.error, KERR_ILLEGAL_GENERATION);
    join(g, m1, "range,roundrobin", 3, 12, &a1);
    REQUIRE(a1.done && a2.done);
    CHECK_EQ_INT(a1.error, KERR_NONE);
    CHECK_EQ_INT(a2.error, KERR_NONE);
    CHECK_EQ_INT(a1.generation, 2);
    CHECK_EQ_INT(a2.generation, 2);
    CHECK_EQ_STR(a1.protocol, "roundrobin"); /* the only protocol both support */
    CHECK_EQ_STR(a1.leader, m1);
    CHECK_EQ_INT(a1.members, 2);             /* the leader sees everyone */
    CHECK_EQ_INT(a2.members, 0);
    char m2[128];
    snprintf(m2, sizeof m2, "%s", a2.member_id);
    /* The follower syncs first and waits for the leader. */
    sync_group(g, m2, 2, NULL, 0, 13, &s2);
    CHECK(!s2.done);
    CHECK_EQ_INT(heartbeat(g, "g", m2, 2, 13), KERR_NONE);
    const char *assign2[] = {m1, "p0", m2, "p1"};
    sync_group(g, m1, 2, assign2, 2, 14, &s1);
    REQUIRE(s1.done && s2.done);
    CHECK_EQ_STR(s1.assignment, "p0");
    CHECK_EQ_STR(s2.assignment, "p1");
    /* The leader leaves: the follower must rejoin and becomes leader. */
    CHECK_EQ_INT(leave(g, m1, 20), KERR_NONE);
    CHECK_EQ_INT(heartbeat(g, "g", m2, 2, 21), KERR_REBALANCE_IN_PROGRESS);
    join(g, m2, "roundrobin", 3, 22, &a2);
    REQUIRE(a2.done);
    CHECK_EQ_INT(a2.generation, 3);
    CHECK_EQ_STR(a2.leader, m2);
    CHECK_EQ_INT(leave(g, "ghost", 23), KERR_UNKNOWN_MEMBER_ID);
    kafka_groups_free(g);
}

TEST(kafka_group_session_expiry_and_rebalance_timeout) {
    kafka_groups_t *g = kafka_groups_new(NULL, NULL, 0);
    answer_t a1, a2, s;
    join(g, "", "range", 1, 0, &a1);
    char m1[128];
    snprintf(m1, sizeof m1, "%s", a1.member_id);
    const char *as[] = {m1, "x"};
    sync_group(g, m1, 1, as, 1, 0, &s);
    CHECK(kafka_groups_tick(g, 5000) == 10000); /* next deadline: m1's session */
    CHECK_EQ_INT(heartbeat(g, "g", m1, 1, 9000), KERR_NONE);
    kafka_groups_tick(g, 15000);
    CHECK_EQ_INT(heartbeat(g, "g", m1, 1, 15000), KERR_NONE); /* renewed at 9000 */
    /* A second member joins; m1 never rejoins: its session lapses and the join completes. */
    join(g, "", "range", 1, 16000, &a2);
    CHECK(!a2.done);
    kafka_groups_tick(g, 20000);
    CHECK(!a2.done);
    kafka_groups_tick(g, 25001);
    REQUIRE(a2.done);
    CHECK_EQ_INT(a2.error, KERR_NONE);
    CHECK_EQ_INT(a2.generation, 2);
    CHECK_EQ_INT(a2.members, 1);
    CHECK_EQ_INT(heartbeat(g, "g", m1, 1, 25002), KERR_UNKNOWN_MEMBER_ID);
    /* The only member expires too: the group is empty. */
    kafka_groups_tick(g, 60000);
    arena_t ar;
    arena_init(&ar, 1024);
    kafka_DescribedGroup_t d;
    kafka_group_describe(g, kafka_str("g"), &ar, &d);
    CHECK(kafka_str_is(d.group_state, "Empty"));
    CHECK_EQ_INT(d.members.count, 0);
    arena_free(&ar);
    kafka_groups_free(g);
}

TEST(kafka_group_errors_as_kafka) {
    kafka_groups_t *g = kafka_groups_new(NULL, NULL, 0);
    answer_t a;
    join(g, "someone", "range", 5, 0, &a); /* unknown member id on a new group */
    CHECK_EQ_INT(a.error, KERR_UNKNOWN_MEMBER_ID);
    join(g, "", "", 1, 0, &a); /* no protocols */
    CHECK_EQ_INT(a.error, KERR_INCONSISTENT_GROUP_PROTOCOL);
    join(g, "", "range", 1, 0, &a);
    CHECK_EQ_INT(a.error, KERR_NONE);
    answer_t b;
    join(g, "", "cooperative-sticky", 1, 0, &b); /* nothing in common with the group */
    CHECK_EQ_INT(b.error, KERR_INCONSISTENT_GROUP_PROTOCOL);
    /* Commits: members of the current generation, or standalone commits to an unused group. */
    CHECK_EQ_INT(kafka_group_commit_check(g, kafka_str("g"), 1, kafka_str(a.member_id), NO_INSTANCE, 1), KERR_REBALANCE_IN_PROGRESS);
    const char *as[] = {a.member_id, "x"};
    answer_t s;
    sync_group(g, a.member_id, 1, as, 1, 1, &s);
    CHECK_EQ_INT(kafka_group_commit_check(g, kafka_str("g"), 1, kafka_str(a.member_id), NO_INSTANCE, 1), KERR_NONE);
    CHECK_EQ_INT(kafka_group_commit_check(g, kafka_str("g"), 7, kafka_str(a.member_id), NO_INSTANCE, 1), KERR_ILLEGAL_GENERATION);
    CHECK_EQ_INT(kafka_group_commit_check(g, kafka_str("g"), -1, kafka_str(""), NO_INSTANCE, 1), KERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(kafka_group_commit_check(g, kafka_str("solo"), -1, kafka_str(""), NO_INSTANCE, 1), KERR_NONE);
    CHECK_EQ_INT(kafka_group_commit_check(g, kafka_str("other"), 3, kafka_str("m"), NO_INSTANCE, 1), KERR_ILLEGAL_GENERATION);
    /* Deleting: only empty groups. */
    CHECK_EQ_INT(kafka_group_delete(g, kafka_str("g")), KERR_NON_EMPTY_GROUP);
    CHECK_EQ_INT(kafka_group_delete(g, kafka_str("solo")), KERR_NONE);
    CHECK_EQ_INT(kafka_group_delete(g, kafka_str("solo")), KERR_GROUP_ID_NOT_FOUND);
    arena_t ar;
    arena_init(&ar, 1024);
    kafka_ListGroupsResponse_t list;
    kafka_group_list(g, &ar, &list);
    CHECK_EQ_INT(list.groups.count, 1);
    CHECK(kafka_str_is(list.groups.items[0].group_id, "g"));
    CHECK(kafka_str_is(list.groups.items[0].protocol_type, "consumer"));
    kafka_DescribedGroup_t d;
    kafka_group_describe(g, kafka_str("g"), &ar, &d);
    CHECK(kafka_str_is(d.group_state, "Stable"));
    CHECK(kafka_str_is(d.protocol_data, "range"));
    REQUIRE(d.members.count == 1);
    CHECK(d.members.items[0].member_assignment.len == 1);
    kafka_group_describe(g, kafka_str("nope"), &ar, &d);
    CHECK(kafka_str_is(d.group_state, "Dead"));
    CHECK_EQ_INT(d.error_code, KERR_NONE);
    arena_free(&ar);
    kafka_groups_free(g);
}

/* ---- persistence through a memory store ---- */

typedef struct {
    char group[32];
    uint8_t blob[4096];
    size_t len;
    bool empty;
    int saves;
} mem_store_t;

static void mem_save(void *ctx, const char *group, const void *blob, size_t len, bool empty) {
    mem_store_t *m = ctx;
    snprintf(m->group, sizeof m->group, "%s", group);
    memcpy(m->blob, blob, len);
    m->len = len;
    m->empty = empty;
    m->saves++;
}

static void mem_load_all(void *ctx, void (*fn)(void *, const char *, const void *, size_t), void *arg) {
    mem_store_t *m = ctx;
    if (m->saves) fn(arg, m->group, m->blob, m->len);
}

TEST(kafka_group_state_survives_a_restart) {
    mem_store_t mem = {0};
    kafka_group_store_t store = {&mem, mem_save, mem_load_all};
    kafka_groups_t *g = kafka_groups_new(NULL, &store, 0);
    answer_t a, s;
    join(g, "", "range", 5, 0, &a);
    char id[128];
    snprintf(id, sizeof id, "%s", a.member_id);
    join(g, id, "range", 5, 0, &a);
    const char *as[] = {id, "assigned"};
    sync_group(g, id, 1, as, 1, 1, &s);
    CHECK_EQ_INT(s.error, KERR_NONE);
    CHECK(mem.saves >= 1);
    CHECK(!mem.empty);
    kafka_groups_free(g);
    /* A new coordinator loads the group: the member resumes in the same generation. */
    g = kafka_groups_new(NULL, &store, 100000);
    CHECK_EQ_INT(heartbeat(g, "g", id, 1, 100001), KERR_NONE);
    sync_group(g, id, 1, as, 1, 100002, &s);
    CHECK_EQ_INT(s.error, KERR_NONE);
    CHECK_EQ_STR(s.assignment, "assigned");
    /* A rejoin with the same protocols from a follower would not rebalance; the leader's does. */
    join(g, id, "range", 5, 100003, &a);
    REQUIRE(a.done);
    CHECK_EQ_INT(a.generation, 2);
    /* Everyone leaves: saved as empty. */
    CHECK_EQ_INT(leave(g, id, 100004), KERR_NONE);
    CHECK(mem.empty);
    kafka_groups_free(g);
    g = kafka_groups_new(NULL, &store, 0);
    arena_t ar;
    arena_init(&ar, 1024);
    kafka_DescribedGroup_t d;
    kafka_group_describe(g, kafka_str("g"), &ar, &d);
    CHECK(kafka_str_is(d.group_state, "Empty"));
    arena_free(&ar);
    /* A corrupt blob does not crash the load. */
    mem.len = 7;
    kafka_groups_free(g);
    g = kafka_groups_new(NULL, &store, 0);
    kafka_groups_free(g);
}

/* Static membership (KIP-345): two static members; one restarts (joins again with no member id)
 * and takes its place back without a rebalance; its old member id is fenced everywhere. */
/* Static member "i1" forms the group alone (generation 1, assignment "A"); its id goes to id. */
static void static_first(kafka_groups_t *g, int32_t session_ms, int32_t rebalance_ms, char *id, size_t len) {
    answer_t a;
    join_as(g, "", "i1", "range", 5, 0, session_ms, rebalance_ms, &a);
    REQUIRE(a.done);
    CHECK_EQ_INT(a.error, KERR_NONE); /* no MEMBER_ID_REQUIRED for static members */
    CHECK(strncmp(a.member_id, "i1-", 3) == 0);
    snprintf(id, len, "%s", a.member_id);
    const char *one[] = {id, "A"};
    sync_as(g, id, "i1", 1, one, 1, 1, &a);
    CHECK_EQ_INT(a.error, KERR_NONE);
}

TEST(kafka_group_static_member_rejoins_without_rebalance) {
    kafka_groups_t *g = kafka_groups_new(NULL, NULL, 0);
    answer_t a, b;
    char ida[128], idb[128];
    static_first(g, 10000, 20000, ida, sizeof ida);

    join_as(g, "", "i2", "range", 5, 2, 10000, 20000, &b);
    CHECK(!b.done); /* waits for i1 to rejoin */
    CHECK_EQ_INT(heartbeat_as(g, ida, "i1", 1, 3), KERR_REBALANCE_IN_PROGRESS);
    join_as(g, ida, "i1", "range", 5, 4, 10000, 20000, &a);
    REQUIRE(a.done && b.done);
    CHECK_EQ_INT(a.generation, 2);
    CHECK_EQ_INT(a.members, 2);
    snprintf(idb, sizeof idb, "%s", b.member_id);
    const char *two[] = {ida, "A", idb, "B"};
    sync_as(g, idb, "i2", 2, NULL, 0, 5, &b);
    sync_as(g, ida, "i1", 2, two, 2, 5, &a);
    CHECK_EQ_STR(a.assignment, "A");
    CHECK_EQ_STR(b.assignment, "B");

    /* i1 restarts: a new member id, the same generation, the old leader id (so that it does not
     * assign), its assignment at SyncGroup; i2 sees no rebalance. */
    join_as(g, "", "i1", "range", 5, 6, 10000, 20000, &a);
    REQUIRE(a.done);
    CHECK_EQ_INT(a.error, KERR_NONE);
    CHECK_EQ_INT(a.generation, 2);
    CHECK_EQ_STR(a.leader, ida);
    CHECK_EQ_INT(a.members, 0);
    CHECK(strcmp(a.member_id, ida) != 0 && strncmp(a.member_id, "i1-", 3) == 0);
    char ida2[128];
    snprintf(ida2, sizeof ida2, "%s", a.member_id);
    CHECK_EQ_INT(heartbeat_as(g, idb, "i2", 2, 7), KERR_NONE);
    sync_as(g, ida2, "i1", 2, NULL, 0, 7, &a);
    CHECK_EQ_INT(a.error, KERR_NONE);
    CHECK_EQ_STR(a.assignment, "A");
    CHECK_EQ_INT(heartbeat_as(g, ida2, "i1", 2, 8), KERR_NONE);

    /* The old process is fenced; without its instance id the old id is just unknown. */
    CHECK_EQ_INT(heartbeat_as(g, ida, "i1", 2, 8), KERR_FENCED_INSTANCE_ID);
    CHECK_EQ_INT(heartbeat_as(g, ida, NULL, 2, 8), KERR_UNKNOWN_MEMBER_ID);
    sync_as(g, ida, "i1", 2, NULL, 0, 8, &a);
    CHECK_EQ_INT(a.error, KERR_FENCED_INSTANCE_ID);
    join_as(g, ida, "i1", "range", 5, 8, 10000, 20000, &a);
    CHECK_EQ_INT(a.error, KERR_FENCED_INSTANCE_ID);
    CHECK_EQ_INT(kafka_group_commit_check(g, kafka_str("g"), 2, kafka_str(ida), kafka_str("i1"), 8),
                 KERR_FENCED_INSTANCE_ID);
    CHECK_EQ_INT(kafka_group_commit_check(g, kafka_str("g"), 2, kafka_str(ida2), kafka_str("i1"), 8), KERR_NONE);
    CHECK_EQ_INT(leave_as(g, ida, "i1", 8), KERR_FENCED_INSTANCE_ID);
    CHECK_EQ_INT(heartbeat_as(g, idb, "i2", 2, 9), KERR_NONE); /* still no rebalance */

    /* An administrator removes i1 by instance id alone (empty member id): a rebalance. */
    CHECK_EQ_INT(leave_as(g, "", "i1", 10), KERR_NONE);
    CHECK_EQ_INT(heartbeat_as(g, idb, "i2", 2, 11), KERR_REBALANCE_IN_PROGRESS);
    CHECK_EQ_INT(leave_as(g, "", "i1", 12), KERR_UNKNOWN_MEMBER_ID);
    kafka_groups_free(g);
}

/* A static member that does not rejoin a rebalance stays in the group (the leader's member list)
 * until its session expires; the leader role moves to a member that rejoined. */
TEST(kafka_group_static_member_kept_until_session_expires) {
    kafka_groups_t *g = kafka_groups_new(NULL, NULL, 0);
    answer_t b;
    char ida[128], idb[128];
    static_first(g, 30000, 5000, ida, sizeof ida);
    join_as(g, "", NULL, "range", 2, 2, 30000, 5000, &b); /* dynamic, v2: an id at once */
    CHECK(!b.done);
    kafka_groups_tick(g, 5003); /* rebalance timeout: i1 never rejoined */
    REQUIRE(b.done);
    CHECK_EQ_INT(b.error, KERR_NONE);
    CHECK_EQ_INT(b.generation, 2);
    CHECK_EQ_STR(b.leader, b.member_id);
    CHECK_EQ_INT(b.members, 2);
    snprintf(idb, sizeof idb, "%s", b.member_id);
    const char *two[] = {ida, "A", idb, "B"};
    sync_as(g, idb, NULL, 2, two, 2, 5004, &b);
    CHECK_EQ_STR(b.assignment, "B");
    CHECK_EQ_INT(heartbeat_as(g, idb, NULL, 2, 6000), KERR_NONE);
    CHECK_EQ_INT(heartbeat_as(g, idb, NULL, 2, 30000), KERR_NONE);
    kafka_groups_tick(g, 35004); /* i1's session (renewed when generation 2 formed) expires */
    CHECK_EQ_INT(heartbeat_as(g, idb, NULL, 2, 35005), KERR_REBALANCE_IN_PROGRESS);
    join_as(g, idb, NULL, "range", 2, 35006, 30000, 5000, &b);
    REQUIRE(b.done);
    CHECK_EQ_INT(b.generation, 3);
    CHECK_EQ_INT(b.members, 1);
    kafka_groups_free(g);
}
