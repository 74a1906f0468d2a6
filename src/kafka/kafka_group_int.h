/* kafka: the group coordinator's state, shared by its two files and included by no other:
 * kafka_group.c (groups and members, answers queued under the lock, persistence, Describe/List/
 * Delete) and kafka_group_rebalance.c (the classic protocol's state machine: JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, commit checks, session and rebalance timeouts). */
#ifndef EDDY_KAFKA_GROUP_INT_H
#define EDDY_KAFKA_GROUP_INT_H

#include <pthread.h>
#include <sys/types.h>

#include "kafka/kafka_int.h"

typedef enum {
    KAFKA_GS_EMPTY,
    KAFKA_GS_PREPARING,
    KAFKA_GS_COMPLETING,
    KAFKA_GS_STABLE,
    KAFKA_GS_DEAD
} kafka_group_state_t;

typedef struct {
    char *name;
    uint8_t *meta;
    size_t len;
} kafka_protocol_t;

typedef struct {
    char *id;
    char *instance_id;  /* NULL unless static membership */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    kafka_protocol_t *protocols;
    size_t nprotocols;
    uint8_t *assignment;
    size_t assignment_len;
    int64_t deadline;        /* session expiry, when not awaiting join or sync */
    kafka_join_cb join_cb;   /* set while awaiting the join's completion */
    void *join_arg;
    int join_version;
    kafka_sync_cb sync_cb;   /* set while awaiting the leader's assignment */
    void *sync_arg;
} kafka_member_t;

typedef struct {
    char *id;
    int64_t deadline;
} kafka_pending_t;

typedef struct kafka_group {
    char *id;
    kafka_group_state_t state;
    int32_t generation;
    char *protocol_type;  /* NULL until the first member */
    char *protocol;       /* selected protocol name, NULL when none */
    char *leader;         /* member id of the leader, NULL when none */
    kafka_member_t **members;
    size_t nmembers, capmembers;
    kafka_pending_t *pending;   /* member ids handed out with MEMBER_ID_REQUIRED, not yet joined */
    size_t npending, cappending;
    int64_t rebalance_deadline; /* PreparingRebalance / CompletingRebalance time limit */
} kafka_group_t;

/* A callback to run once the lock is released, with the response it carries. */
typedef struct kafka_completion {
    struct kafka_completion *next;
    kafka_join_cb join_cb;
    kafka_sync_cb sync_cb;
    void *arg;
    arena_t arena;
    kafka_JoinGroupResponse_t join;
    kafka_SyncGroupResponse_t sync;
} kafka_completion_t;

struct kafka_groups {
    pthread_mutex_t mu;
    kafka_group_opts_t opts;
    kafka_group_store_t store;
    bool has_store;
    kafka_group_t **groups;
    size_t ngroups, capgroups;
    kafka_completion_t *done_head, **done_tail;
};

/* ---- kafka_group.c: helpers used by both files (callers hold g->mu unless said) ------------ */

/* A NUL-terminated copy of s (eddy_free), NULL for a null string or out of memory. */
char *kafka_grp_strdup(kafka_str_t s);
/* Whether the C string c (may be NULL) equals s. */
bool kafka_grp_str_is(const char *c, kafka_str_t s);
/* Copies into arena a: s (NULL gives a null string), and n bytes at p. */
kafka_str_t kafka_grp_arena_str(arena_t *a, const char *s);
kafka_bytes_t kafka_grp_arena_bytes(arena_t *a, const uint8_t *p, size_t n);
void kafka_grp_member_free(kafka_member_t *m);
/* The group named id, or NULL; kafka_grp_add creates an Empty one (NULL when out of memory). */
kafka_group_t *kafka_grp_find(kafka_groups_t *g, kafka_str_t id);
kafka_group_t *kafka_grp_add(kafka_groups_t *g, kafka_str_t id);
kafka_member_t *kafka_grp_member_find(kafka_group_t *gr, kafka_str_t id);
/* Appends m to the group's members, which then own it; EDDY_ERR_NOMEM leaves m to the caller. */
int kafka_grp_member_add(kafka_group_t *gr, kafka_member_t *m);
/* Index of a member id handed out with MEMBER_ID_REQUIRED, or -1; removal by index. */
ssize_t kafka_grp_pending_find(kafka_group_t *gr, kafka_str_t id);
void kafka_grp_pending_remove(kafka_group_t *gr, size_t i);
/* A callback queued to run once the lock is released (NULL when out of memory). */
kafka_completion_t *kafka_grp_completion_new(kafka_groups_t *g);
/* Takes g->mu; kafka_grp_unlock_and_run releases it, then runs the queued callbacks. */
void kafka_grp_lock(kafka_groups_t *g);
void kafka_grp_unlock_and_run(kafka_groups_t *g);
/* Queue a JoinGroup answer carrying only an error (and the member id, for MEMBER_ID_REQUIRED),
 * and a SyncGroup answer with an error or an assignment (copied). */
void kafka_grp_join_error(kafka_groups_t *g, kafka_join_cb cb, void *arg, int16_t err, const char *member_id);
void kafka_grp_sync_answer(kafka_groups_t *g, kafka_sync_cb cb, void *arg, int16_t err,
                           const uint8_t *assignment, size_t len);
/* The member's protocol named name (NULL name or not supported: NULL). */
const kafka_protocol_t *kafka_grp_member_protocol(const kafka_member_t *m, const char *name);
/* Saves the group's state through the store (when there is one). */
void kafka_grp_save(kafka_groups_t *g, kafka_group_t *gr);

#endif
