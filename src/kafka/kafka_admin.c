/* kafka: the cluster's description and administration: ApiVersions, Metadata, FindCoordinator,
 * DescribeCluster, CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, AlterConfigs.
 * eddy is one broker (node KAFKA_NODE_ID) that leads every partition with an ISR of itself, is
 * the controller and coordinates every group. Topic settings are the log's, reported truthfully
 * (DescribeConfigs shows each topic's cleanup.policy and where every value comes from). */
#include <stdio.h>

#include "kafka/kafka_int.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define CONFIG_SOURCE_TOPIC 1   /* DescribeConfigs ConfigSource TOPIC_CONFIG */
#define CONFIG_SOURCE_DEFAULT 5 /* DEFAULT_CONFIG */

static kafka_str_t arena_cstr(kafka_req_t *r, const char *s) {
    if (!s) return (kafka_str_t){NULL, -1};
    size_t n = strlen(s);
    char *p = arena_strndup(&r->arena, s, n);
    return p ? kafka_str_n(p, n) : kafka_str_n("", 0);
}

static kafka_str_t error_message(kafka_req_t *r, int16_t code, const log_err_t *err) {
    if (code == KERR_NONE || !err || !err->msg[0]) return (kafka_str_t){NULL, -1};
    return arena_cstr(r, err->msg);
}

void kafka_handle_ApiVersions(kafka_req_t *r) {
    kafka_ApiVersionsResponse_t resp;
    const kafka_api_t *api = r->req.api;
    kafka_api_versions_fill(&r->arena, r->req.api_version > api->max, &resp);
    kafka_req_reply(r, &resp);
}

/* ---- Metadata ------------------------------------------------------------------------------- */

static void fill_broker(kafka_req_t *r, int32_t *node, kafka_str_t *host, int32_t *port) {
    const char *h;
    int p;
    kafka_broker_advertised(r->b, r->kc ? r->kc->ipv6 : false, &h, &p);
    *node = KAFKA_NODE_ID;
    *host = kafka_str(h);
    *port = p;
}

static void fill_topic(kafka_req_t *r, kafka_MetadataResponseTopic_t *mt, const log_topic_info_t *info) {
    int v = r->req.api_version;
    mt->error_code = KERR_NONE;
    mt->is_internal = info->internal;
    memcpy(mt->topic_id.b, info->id, 16);
    KAFKA_ARRAY_ALLOC(&r->arena, mt->partitions, info->partitions);
    int32_t *one = arena_alloc(&r->arena, sizeof *one);
    if ((info->partitions && !mt->partitions.items) || !one) {
        mt->partitions.count = 0;
        mt->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    *one = KAFKA_NODE_ID;
    for (int32_t i = 0; i < info->partitions; i++) {
        kafka_MetadataResponsePartition_t *mp = &mt->partitions.items[i];
        kafka_struct_init(&kafka_schema_MetadataResponsePartition, v, mp);
        mp->partition_index = i;
        mp->leader_id = KAFKA_NODE_ID;
        mp->leader_epoch = 0;
        mp->replica_nodes.count = mp->isr_nodes.count = 1;
        mp->replica_nodes.items = mp->isr_nodes.items = one;
    }
}

void kafka_handle_Metadata(kafka_req_t *r) {
    kafka_MetadataRequest_t *req = r->req.body;
    kafka_broker_t *b = r->b;
    int v = r->req.api_version;
    kafka_MetadataResponse_t resp;
    kafka_struct_init(&kafka_schema_MetadataResponse, v, &resp);
    kafka_MetadataResponseBroker_t broker;
    kafka_struct_init(&kafka_schema_MetadataResponseBroker, v, &broker);
    fill_broker(r, &broker.node_id, &broker.host, &broker.port);
    resp.brokers.count = 1;
    resp.brokers.items = &broker;
    resp.cluster_id = kafka_str(b->cluster_id);
    resp.controller_id = KAFKA_NODE_ID;
    /* v0: an empty list means every topic; v1+: null means every topic, empty none. */
    bool all = v == 0 ? req->topics.count == 0 : req->topics.count < 0;
    log_topic_info_t *infos = NULL;
    if (all) {
        size_t n = 0;
        if (log_topic_list(b->log, &infos, &n) != EDDY_OK) n = 0;
        KAFKA_ARRAY_ALLOC(&r->arena, resp.topics, n);
        if (n && !resp.topics.items) resp.topics.count = 0;
        for (int32_t i = 0; i < resp.topics.count; i++) {
            kafka_MetadataResponseTopic_t *mt = &resp.topics.items[i];
            kafka_struct_init(&kafka_schema_MetadataResponseTopic, v, mt);
            mt->name = arena_cstr(r, infos[i].name);
            fill_topic(r, mt, &infos[i]);
        }
        eddy_free(infos);
        kafka_req_reply(r, &resp);
        return;
    }
    int32_t n = EDDY_MAX(req->topics.count, 0);
    bool may_create = b->opts.auto_create_topics && (v < 4 || req->allow_auto_topic_creation);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.topics, n);
    if (n && !resp.topics.items) resp.topics.count = n = 0;
    for (int32_t i = 0; i < n; i++) {
        kafka_MetadataResponseTopic_t *mt = &resp.topics.items[i];
        kafka_struct_init(&kafka_schema_MetadataResponseTopic, v, mt);
        mt->name = req->topics.items[i].name;
        const char *name = kafka_req_cstr(r, req->topics.items[i].name);
        log_topic_info_t info;
        int rc = log_topic_info(b->log, name, &info);
        if (rc == EDDY_ERR_NOT_FOUND && may_create) {
            log_err_t err = {0};
            int crc = log_topic_create(b->log, name, b->opts.default_partitions, NULL, 0, false, &err);
            if (crc == EDDY_OK || crc == EDDY_ERR_EXISTS) {
                rc = log_topic_info(b->log, name, &info);
            } else {
                mt->error_code = kafka_error_from_log(crc, &err);
                continue;
            }
        }
        if (rc != EDDY_OK) {
            mt->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        fill_topic(r, mt, &info);
    }
    kafka_req_reply(r, &resp);
}

void kafka_handle_FindCoordinator(kafka_req_t *r) {
    kafka_FindCoordinatorResponse_t resp;
    kafka_struct_init(&kafka_schema_FindCoordinatorResponse, r->req.api_version, &resp);
    fill_broker(r, &resp.node_id, &resp.host, &resp.port);
    kafka_req_reply(r, &resp);
}

void kafka_handle_DescribeCluster(kafka_req_t *r) {
    kafka_DescribeClusterResponse_t resp;
    kafka_struct_init(&kafka_schema_DescribeClusterResponse, r->req.api_version, &resp);
    kafka_DescribeClusterBroker_t broker;
    kafka_struct_init(&kafka_schema_DescribeClusterBroker, r->req.api_version, &broker);
    fill_broker(r, &broker.broker_id, &broker.host, &broker.port);
    resp.brokers.count = 1;
    resp.brokers.items = &broker;
    resp.cluster_id = kafka_str(r->b->cluster_id);
    resp.controller_id = KAFKA_NODE_ID;
    kafka_req_reply(r, &resp);
}

/* ---- topics ----------------------------------------------------------------------------------- */

void kafka_handle_CreateTopics(kafka_req_t *r) {
    kafka_CreateTopicsRequest_t *req = r->req.body;
    int v = r->req.api_version;
    kafka_CreateTopicsResponse_t resp;
    kafka_struct_init(&kafka_schema_CreateTopicsResponse, v, &resp);
    int32_t n = EDDY_MAX(req->topics.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.topics, n);
    if (n && !resp.topics.items) resp.topics.count = n = 0;
    for (int32_t i = 0; i < n; i++) {
        const kafka_CreatableTopic_t *ct = &req->topics.items[i];
        kafka_CreatableTopicResult_t *res = &resp.topics.items[i];
        kafka_struct_init(&kafka_schema_CreatableTopicResult, v, res);
        res->name = ct->name;
        int32_t partitions = ct->num_partitions;
        if (ct->assignments.count > 0) partitions = ct->assignments.count;
        else if (partitions == -1) partitions = r->b->opts.default_partitions;
        if (ct->replication_factor != -1 && ct->replication_factor != 1) {
            res->error_code = KERR_INVALID_REPLICATION_FACTOR;
            char msg[128];
            snprintf(msg, sizeof msg, "Replication factor: %d larger than available brokers: 1.", ct->replication_factor);
            res->error_message = arena_cstr(r, msg);
            continue;
        }
        if (partitions <= 0) {
            res->error_code = KERR_INVALID_PARTITIONS;
            res->error_message = kafka_str("Number of partitions must be larger than 0.");
            continue;
        }
        int32_t nc = EDDY_MAX(ct->configs.count, 0);
        log_config_entry_t *cfg = nc ? arena_alloc(&r->arena, (size_t)nc * sizeof *cfg) : NULL;
        for (int32_t k = 0; cfg && k < nc; k++) {
            cfg[k].name = kafka_req_cstr(r, ct->configs.items[k].name);
            cfg[k].value = ct->configs.items[k].value.len < 0 ? NULL : kafka_req_cstr(r, ct->configs.items[k].value);
        }
        const char *name = kafka_req_cstr(r, ct->name);
        log_err_t err = {0};
        int rc = log_topic_create(r->b->log, name, partitions, cfg, cfg ? (size_t)nc : 0, req->validate_only, &err);
        res->error_code = kafka_error_from_log(rc, &err);
        res->error_message = error_message(r, res->error_code, &err);
    }
    kafka_req_reply(r, &resp);
}

void kafka_handle_DeleteTopics(kafka_req_t *r) {
    kafka_DeleteTopicsRequest_t *req = r->req.body;
    int v = r->req.api_version;
    kafka_DeleteTopicsResponse_t resp;
    kafka_struct_init(&kafka_schema_DeleteTopicsResponse, v, &resp);
    int32_t n = EDDY_MAX(req->topic_names.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.responses, n);
    if (n && !resp.responses.items) resp.responses.count = n = 0;
    for (int32_t i = 0; i < n; i++) {
        kafka_DeletableTopicResult_t *res = &resp.responses.items[i];
        kafka_struct_init(&kafka_schema_DeletableTopicResult, v, res);
        res->name = req->topic_names.items[i];
        const char *name = kafka_req_cstr(r, res->name);
        log_err_t err = {0};
        int rc = log_topic_delete(r->b->log, name, &err);
        res->error_code = kafka_error_from_log(rc, &err);
        res->error_message = error_message(r, res->error_code, &err);
    }
    kafka_req_reply(r, &resp);
}

void kafka_handle_CreatePartitions(kafka_req_t *r) {
    kafka_CreatePartitionsRequest_t *req = r->req.body;
    int v = r->req.api_version;
    kafka_CreatePartitionsResponse_t resp;
    kafka_struct_init(&kafka_schema_CreatePartitionsResponse, v, &resp);
    int32_t n = EDDY_MAX(req->topics.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.results, n);
    if (n && !resp.results.items) resp.results.count = n = 0;
    for (int32_t i = 0; i < n; i++) {
        kafka_CreatePartitionsTopicResult_t *res = &resp.results.items[i];
        kafka_struct_init(&kafka_schema_CreatePartitionsTopicResult, v, res);
        res->name = req->topics.items[i].name;
        log_err_t err = {0};
        int rc = log_topic_add_partitions(r->b->log, kafka_req_cstr(r, res->name), req->topics.items[i].count,
                                          req->validate_only, &err);
        res->error_code = kafka_error_from_log(rc, &err);
        res->error_message = error_message(r, res->error_code, &err);
    }
    kafka_req_reply(r, &resp);
}

/* ---- configs ------------------------------------------------------------------------------------ */

static bool key_wanted(const kafka_DescribeConfigsResource_t *res, const char *name) {
    if (res->configuration_keys.count < 0) return true; /* null: every key */
    for (int32_t k = 0; k < res->configuration_keys.count; k++)
        if (kafka_str_is(res->configuration_keys.items[k], name)) return true;
    return res->configuration_keys.count == 0;
}

static void describe_topic(kafka_req_t *r, const kafka_DescribeConfigsRequest_t *req,
                           const kafka_DescribeConfigsResource_t *res, kafka_DescribeConfigsResult_t *out) {
    int v = r->req.api_version;
    log_config_desc_t *descs = NULL;
    size_t n = 0;
    log_err_t err = {0};
    const char *name = kafka_req_cstr(r, res->resource_name);
    int rc = log_topic_describe_config(r->b->log, name, &descs, &n, &err);
    if (rc != EDDY_OK) {
        out->error_code = kafka_error_from_log(rc, &err);
        char msg[300];
        snprintf(msg, sizeof msg, "Topic '%s' does not exist.", name);
        out->error_message = arena_cstr(r, rc == EDDY_ERR_NOT_FOUND ? msg : err.msg);
        return;
    }
    KAFKA_ARRAY_ALLOC(&r->arena, out->configs, n);
    if (n && !out->configs.items) n = 0;
    int32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const log_config_desc_t *d = &descs[i];
        if (!key_wanted(res, d->name)) continue;
        kafka_DescribeConfigsResourceResult_t *c = &out->configs.items[k++];
        kafka_struct_init(&kafka_schema_DescribeConfigsResourceResult, v, c);
        int8_t source = d->source == LOG_CONFIG_SOURCE_TOPIC ? CONFIG_SOURCE_TOPIC : CONFIG_SOURCE_DEFAULT;
        c->name = arena_cstr(r, d->name);
        c->value = arena_cstr(r, d->value);
        c->read_only = d->read_only;
        c->is_default = d->is_default;
        c->config_source = source;
        c->is_sensitive = false;
        c->config_type = (int8_t)d->type;
        if (req->include_documentation && d->doc) c->documentation = arena_cstr(r, d->doc);
        if (req->include_synonyms) {
            KAFKA_ARRAY_ALLOC(&r->arena, c->synonyms, 1);
            if (c->synonyms.items) {
                c->synonyms.items[0].name = c->name;
                c->synonyms.items[0].value = c->value;
                c->synonyms.items[0].source = source;
            } else {
                c->synonyms.count = 0;
            }
        }
    }
    out->configs.count = k;
    eddy_free(descs);
}

void kafka_handle_DescribeConfigs(kafka_req_t *r) {
    kafka_DescribeConfigsRequest_t *req = r->req.body;
    int v = r->req.api_version;
    kafka_DescribeConfigsResponse_t resp;
    kafka_struct_init(&kafka_schema_DescribeConfigsResponse, v, &resp);
    int32_t n = EDDY_MAX(req->resources.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.results, n);
    if (n && !resp.results.items) resp.results.count = n = 0;
    for (int32_t i = 0; i < n; i++) {
        const kafka_DescribeConfigsResource_t *res = &req->resources.items[i];
        kafka_DescribeConfigsResult_t *out = &resp.results.items[i];
        kafka_struct_init(&kafka_schema_DescribeConfigsResult, v, out);
        out->resource_type = res->resource_type;
        out->resource_name = res->resource_name;
        if (res->resource_type == RESOURCE_TOPIC) {
            describe_topic(r, req, res, out);
        } else if (res->resource_type == RESOURCE_BROKER) {
            /* The broker's settings are eddy's command line, not Kafka properties: none listed. */
            char node[16];
            snprintf(node, sizeof node, "%d", KAFKA_NODE_ID);
            if (res->resource_name.len > 0 && !kafka_str_is(res->resource_name, node)) {
                out->error_code = KERR_INVALID_REQUEST;
                out->error_message = kafka_str("Unknown broker id");
            }
        } else {
            out->error_code = KERR_INVALID_REQUEST;
            out->error_message = kafka_str("Unsupported resource type");
        }
    }
    kafka_req_reply(r, &resp);
}

void kafka_handle_AlterConfigs(kafka_req_t *r) {
    kafka_AlterConfigsRequest_t *req = r->req.body;
    int v = r->req.api_version;
    kafka_AlterConfigsResponse_t resp;
    kafka_struct_init(&kafka_schema_AlterConfigsResponse, v, &resp);
    int32_t n = EDDY_MAX(req->resources.count, 0);
    KAFKA_ARRAY_ALLOC(&r->arena, resp.responses, n);
    if (n && !resp.responses.items) resp.responses.count = n = 0;
    for (int32_t i = 0; i < n; i++) {
        const kafka_AlterConfigsResource_t *res = &req->resources.items[i];
        kafka_AlterConfigsResourceResponse_t *out = &resp.responses.items[i];
        kafka_struct_init(&kafka_schema_AlterConfigsResourceResponse, v, out);
        out->resource_type = res->resource_type;
        out->resource_name = res->resource_name;
        if (res->resource_type != RESOURCE_TOPIC) {
            out->error_code = KERR_INVALID_REQUEST;
            out->error_message = kafka_str("Only topic settings can be altered");
            continue;
        }
        int32_t nc = EDDY_MAX(res->configs.count, 0);
        log_config_entry_t *cfg = nc ? arena_alloc(&r->arena, (size_t)nc * sizeof *cfg) : NULL;
        for (int32_t k = 0; cfg && k < nc; k++) {
            cfg[k].name = kafka_req_cstr(r, res->configs.items[k].name);
            cfg[k].value = res->configs.items[k].value.len < 0 ? NULL : kafka_req_cstr(r, res->configs.items[k].value);
        }
        log_err_t err = {0};
        int rc = log_topic_alter_config(r->b->log, kafka_req_cstr(r, res->resource_name), cfg, cfg ? (size_t)nc : 0,
                                        LOG_ALTER_REPLACE, req->validate_only, &err);
        out->error_code = kafka_error_from_log(rc, &err);
        out->error_message = error_message(r, out->error_code, &err);
    }
    kafka_req_reply(r, &resp);
}
