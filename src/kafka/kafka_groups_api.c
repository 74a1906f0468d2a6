/* kafka: the group APIs on the coordinator (kafka_group.c, kafka_group_rebalance.c) and the
 * log's group storage: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * DescribeGroups, ListGroups, DeleteGroups; and the coordinator's store, which keeps each
 * group's state blob in the log so that groups and generations survive a restart. Committed
 * offsets go straight to the log (durable before OffsetCommit is answered); their retention is
 * the log's. */
#include <stdio.h>

#include "kafka/kafka_int.h"

/* ---- the store on the log ------------------------------------------------------------------ */

static void saved(void *arg, int status) {
    char *group = arg;
    if (status != EDDY_OK) elog_error("kafka", "group %s: saving its state failed: %s", group, eddy_strerror(status));
    eddy_free(group);
}

static void store_save(void *ctx, const char *group, const void *blob, size_t len, bool empty) {
    log_t *log = ctx;
    char *name = eddy_strdup(group);
    log_err_t err = {0};
    if (!name || log_group_state_save(log, group, blob, len, empty, saved, name, &err) != EDDY_OK) {
        elog_error("kafka", "group %s: cannot save its state: %s", group, err.msg);
        eddy_free(name);
    }
}

static void store_load_all(void *ctx, void (*fn)(void *arg, const char *group, const void *blob, size_t len),
                           void *arg) {
    log_t *log = ctx;
    log_group_info_t *groups = NULL;
    size_t n = 0;
    if (log_group_list(log, &groups, &n) != EDDY_OK) return;
    for (size_t i = 0; i < n; i++) {
        void *blob = NULL;
        size_t len = 0;
        if (groups[i].has_state && log_group_state_load(log, groups[i].name, &blob, &len) == EDDY_OK) {
            fn(arg, groups[i].name, blob, len);
            eddy_free(blob);
        } else {
            fn(arg, groups[i].name, NULL, 0);
        }
    }
    eddy_free(groups);
}

void kafka_group_store_log(log_t *log, kafka_group_store_t *store) {
    store->ctx = log;
    store->save = store_save;
    store->load_all = store_load_all;
}

/* ---- membership ---------------------------------------------------------------------------- */

static void on_join(void *arg, kafka_JoinGroupResponse_t *resp) { kafka_req_reply(arg, resp); }
static void on_sync(void *arg, kafka_SyncGroupResponse_t *resp) { kafka_req_reply(arg, resp); }

void kafka_handle_JoinGroup(kafka_req_t *r) {
    kafka_group_caller_t who = {r->req.client_id, r->client_host, r->req.api_version};
    kafka_group_join(r->b->groups, r->req.body, &who, time_now_ms(), on_join, r);
}

void kafka_handle_SyncGroup(kafka_req_t *r) {
    kafka_group_sync(r->b->groups, r->req.body, time_now_ms(), on_sync, r);
}

void kafka_handle_Heartbeat(kafka_req_t *r) {
    kafka_HeartbeatResponse_t resp;
    kafka_struct_init(&kafka_schema_HeartbeatResponse, r->req.api_version, &resp);
    resp.error_code = kafka_group_heartbeat(r->b->groups, r->req.body, time_now_ms());
    kafka_req_reply(r, &resp);
}

void kafka_handle_LeaveGroup(kafka_req_t *r) {
    kafka_LeaveGroupResponse_t resp;
    kafka_group_leave(r->b->groups, r->req.body, r->req.api_version, time_now_ms(), &r->arena, &resp);
    kafka_req_reply(r, &resp);
}

void kafka_handle_DescribeGroups(kafka_req_t *r) {
    kafka_DescribeGroupsRequest_t *req = r->req.body;
    kafka_DescribeGroupsResponse_t resp;
    kafka_struct_init(&kafka_schema_DescribeGroupsResponse, r->req.api_version, &resp);
    int32_t n = EDDY_MAX(req->groups.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.groups, n);
    if (n && !resp.groups.items) resp.groups.count = n = 0;
    for (int32_t i = 0; i < n; i++) kafka_group_describe(r->b->groups, req->groups.items[i], &r->arena, &resp.groups.items[i]);
    kafka_req_reply(r, &resp);
}

void kafka_handle_ListGroups(kafka_req_t *r) {
    kafka_ListGroupsResponse_t resp;
    kafka_group_list(r->b->groups, &r->arena, &resp);
    kafka_req_reply(r, &resp);
}

static void deleted(void *arg, int status) {
    (void)arg;
    if (status != EDDY_OK) elog_error("kafka", "deleting a group's offsets failed: %s", eddy_strerror(status));
}

void kafka_handle_DeleteGroups(kafka_req_t *r) {
    kafka_DeleteGroupsRequest_t *req = r->req.body;
    kafka_DeleteGroupsResponse_t resp;
    kafka_struct_init(&kafka_schema_DeleteGroupsResponse, r->req.api_version, &resp);
    int32_t n = EDDY_MAX(req->groups_names.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.results, n);
    if (n && !resp.results.items) resp.results.count = n = 0;
    for (int32_t i = 0; i < n; i++) {
        kafka_DeletableGroupResult_t *res = &resp.results.items[i];
        res->group_id = req->groups_names.items[i];
        res->error_code = kafka_group_delete(r->b->groups, res->group_id);
        if (res->error_code != KERR_NONE) continue;
        log_err_t err = {0};
        int rc = log_group_delete(r->b->log, kafka_req_cstr(r, res->group_id), deleted, NULL, &err);
        if (rc != EDDY_OK && rc != EDDY_ERR_NOT_FOUND) res->error_code = kafka_error_from_log(rc, &err);
    }
    kafka_req_reply(r, &resp);
}

/* ---- offsets ----------------------------------------------------------------------------------- */

typedef struct {
    kafka_req_t *r;
    kafka_OffsetCommitResponse_t resp;
} commit_t;

static void on_committed(void *arg, int status) {
    commit_t *c = arg;
    if (status != EDDY_OK) {
        for (int32_t t = 0; t < c->resp.topics.count; t++)
            for (int32_t i = 0; i < c->resp.topics.items[t].partitions.count; i++)
                if (c->resp.topics.items[t].partitions.items[i].error_code == KERR_NONE)
                    c->resp.topics.items[t].partitions.items[i].error_code = KERR_KAFKA_STORAGE_ERROR;
    }
    kafka_req_reply(c->r, &c->resp); /* c lives in r's arena */
}

void kafka_handle_OffsetCommit(kafka_req_t *r) {
    kafka_OffsetCommitRequest_t *req = r->req.body;
    int v = r->req.api_version;
    commit_t *c = arena_alloc(&r->arena, sizeof *c);
    if (!c) {
        kafka_req_drop(r, true);
        return;
    }
    c->r = r;
    kafka_struct_init(&kafka_schema_OffsetCommitResponse, v, &c->resp);
    int16_t gerr = kafka_group_commit_check(r->b->groups, req->group_id, req->generation_id, req->member_id,
                                            req->group_instance_id, time_now_ms());
    int32_t ntopics = EDDY_MAX(req->topics.count, 0);
    size_t total = 0;
    for (int32_t t = 0; t < ntopics; t++) total += (size_t)EDDY_MAX(req->topics.items[t].partitions.count, 0);
    log_group_offset_t *offs = total ? arena_alloc(&r->arena, total * sizeof *offs) : NULL;
    KAFKA_ARRAY_ALLOC(&r->arena, c->resp.topics, ntopics);
    if ((ntopics && !c->resp.topics.items) || (total && !offs)) {
        kafka_req_drop(r, true);
        return;
    }
    size_t k = 0;
    for (int32_t t = 0; t < ntopics; t++) {
        const kafka_OffsetCommitRequestTopic_t *rt = &req->topics.items[t];
        kafka_OffsetCommitResponseTopic_t *ot = &c->resp.topics.items[t];
        ot->name = rt->name;
        int32_t np = EDDY_MAX(rt->partitions.count, 0);
        KAFKA_ARRAY_ALLOC(&r->arena, ot->partitions, np);
        if (np && !ot->partitions.items) {
            ot->partitions.count = 0;
            continue;
        }
        const char *topic = kafka_req_cstr(r, rt->name);
        for (int32_t i = 0; i < np; i++) {
            const kafka_OffsetCommitRequestPartition_t *rp = &rt->partitions.items[i];
            kafka_OffsetCommitResponsePartition_t *op = &ot->partitions.items[i];
            op->partition_index = rp->partition_index;
            op->error_code = gerr;
            if (gerr != KERR_NONE) continue;
            log_partition_t *p;
            if (log_partition_open(r->b->log, topic, rp->partition_index, 0, &p, NULL) != EDDY_OK) {
                op->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            log_partition_release(p);
            if (rp->committed_metadata.len > LOG_OFFSET_METADATA_MAX) {
                op->error_code = KERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            offs[k++] = (log_group_offset_t){
                .topic = topic,
                .partition = rp->partition_index,
                .offset = rp->committed_offset,
                .leader_epoch = rp->committed_leader_epoch,
                .metadata = rp->committed_metadata.len < 0 ? NULL : kafka_req_cstr(r, rp->committed_metadata),
            };
        }
    }
    if (k == 0) {
        kafka_req_reply(r, &c->resp);
        return;
    }
    log_err_t err = {0};
    const char *group = kafka_req_cstr(r, req->group_id);
    int rc = log_group_commit_offsets(r->b->log, group, offs, k, on_committed, c, &err);
    if (rc != EDDY_OK) {
        int16_t code = kafka_error_from_log(rc, &err);
        for (int32_t t = 0; t < c->resp.topics.count; t++)
            for (int32_t i = 0; i < c->resp.topics.items[t].partitions.count; i++)
                if (c->resp.topics.items[t].partitions.items[i].error_code == KERR_NONE)
                    c->resp.topics.items[t].partitions.items[i].error_code = code;
        kafka_req_reply(r, &c->resp);
    }
}

static const log_group_offset_t *offset_find(const log_group_offset_t *offs, size_t n, const char *topic,
                                             int32_t partition) {
    for (size_t i = 0; i < n; i++)
        if (offs[i].partition == partition && !strcmp(offs[i].topic, topic)) return &offs[i];
    return NULL;
}

static void fill_offset(kafka_req_t *r, kafka_OffsetFetchResponsePartition_t *op, const log_group_offset_t *o) {
    kafka_struct_init(&kafka_schema_OffsetFetchResponsePartition, r->req.api_version, op);
    op->committed_offset = o ? o->offset : -1;
    op->committed_leader_epoch = o ? o->leader_epoch : -1;
    const char *meta = o && o->metadata ? o->metadata : "";
    op->metadata = kafka_str_n(arena_strndup(&r->arena, meta, strlen(meta)), strlen(meta));
    if (!op->metadata.ptr) op->metadata = kafka_str_n("", 0);
}

void kafka_handle_OffsetFetch(kafka_req_t *r) {
    kafka_OffsetFetchRequest_t *req = r->req.body;
    int v = r->req.api_version;
    kafka_OffsetFetchResponse_t resp;
    kafka_struct_init(&kafka_schema_OffsetFetchResponse, v, &resp);
    log_group_offset_t *offs = NULL;
    size_t n = 0;
    const char *group = kafka_req_cstr(r, req->group_id);
    if (log_group_fetch_offsets(r->b->log, group, NULL, &offs, &n) != EDDY_OK) n = 0;
    if (req->topics.count < 0) {
        /* Every committed offset of the group (v2+), grouped by topic (the log sorts them). */
        int32_t ntopics = 0;
        for (size_t i = 0; i < n; i++)
            if (i == 0 || strcmp(offs[i].topic, offs[i - 1].topic)) ntopics++;
        KAFKA_ARRAY_ALLOC(&r->arena, resp.topics, ntopics);
        if (ntopics && !resp.topics.items) resp.topics.count = ntopics = 0;
        int32_t t = -1;
        for (size_t i = 0; i < n && ntopics; i++) {
            if (i == 0 || strcmp(offs[i].topic, offs[i - 1].topic)) {
                t++;
                size_t count = 0;
                for (size_t j = i; j < n && !strcmp(offs[j].topic, offs[i].topic); j++) count++;
                resp.topics.items[t].name = kafka_str_n(arena_strndup(&r->arena, offs[i].topic, strlen(offs[i].topic)),
                                                        strlen(offs[i].topic));
                KAFKA_ARRAY_ALLOC(&r->arena, resp.topics.items[t].partitions, count);
                if (!resp.topics.items[t].partitions.items) resp.topics.items[t].partitions.count = 0;
                resp.topics.items[t].partitions.count = 0;
            }
            kafka_OffsetFetchResponseTopic_t *ot = &resp.topics.items[t];
            if (!ot->partitions.items || !ot->name.ptr) continue;
            kafka_OffsetFetchResponsePartition_t *op = &ot->partitions.items[ot->partitions.count++];
            fill_offset(r, op, &offs[i]);
            op->partition_index = offs[i].partition;
        }
    } else {
        int32_t ntopics = req->topics.count;
        KAFKA_ARRAY_ALLOC(&r->arena, resp.topics, ntopics);
        if (ntopics && !resp.topics.items) resp.topics.count = ntopics = 0;
        for (int32_t t = 0; t < ntopics; t++) {
            const kafka_OffsetFetchRequestTopic_t *rt = &req->topics.items[t];
            kafka_OffsetFetchResponseTopic_t *ot = &resp.topics.items[t];
            ot->name = rt->name;
            const char *topic = kafka_req_cstr(r, rt->name);
            int32_t np = EDDY_MAX(rt->partition_indexes.count, 0);
            KAFKA_ARRAY_ALLOC(&r->arena, ot->partitions, np);
            if (np && !ot->partitions.items) ot->partitions.count = np = 0;
            for (int32_t i = 0; i < np; i++) {
                int32_t idx = rt->partition_indexes.items[i];
                fill_offset(r, &ot->partitions.items[i], offset_find(offs, n, topic, idx));
                ot->partitions.items[i].partition_index = idx;
            }
        }
    }
    eddy_free(offs);
    kafka_req_reply(r, &resp);
}
