/* kafka: the API table (what eddy serves, at which versions), request framing and the
 * ApiVersions answer built from the table.
 *
 * Versions follow what the target clients negotiate (read off their sources and captured requests):
 * librdkafka 2.0.2, kafka-python 2.0.2 (which guesses the broker's version from the advertised
 * ranges: Fetch v11 makes it pick "2.3", hence record batches v2 and Produce v7) and KafkaJS
 * 2.2.4. flex_from is the first flexible version in apache/kafka's message definitions. */
#include <stdio.h>

#include "kafka/kafka_int.h"

#define API(k, Name, lo, hi, flex) \
    [k] = {#Name, k, lo, hi, flex, &kafka_schema_##Name##Request, &kafka_schema_##Name##Response, \
           kafka_handle_##Name}

static const kafka_api_t kafka_apis[KAFKA_API_KEY_MAX] = {
    API(0, Produce, 3, 7, 9),          /* v3+: record batches v2 only; v7 needed for zstd */
    API(1, Fetch, 4, 11, 12),          /* v11: kafka-python's "2.3" guess; preferred replica -1 */
    API(2, ListOffsets, 0, 5, 6),
    API(3, Metadata, 0, 7, 9),         /* v0/v1 for kafka-python's probe and its client */
    API(8, OffsetCommit, 0, 7, 8),
    API(9, OffsetFetch, 1, 7, 6),      /* librdkafka 2.0.2 goes up to the flexible v7 */
    API(10, FindCoordinator, 0, 2, 3),
    API(11, JoinGroup, 0, 5, 6),
    API(12, Heartbeat, 0, 3, 4),
    API(13, LeaveGroup, 0, 3, 4),
    API(14, SyncGroup, 0, 3, 4),
    API(15, DescribeGroups, 0, 4, 5),
    API(16, ListGroups, 0, 3, 3),
    API(18, ApiVersions, 0, 3, 3),
    API(19, CreateTopics, 0, 4, 5),
    API(20, DeleteTopics, 0, 3, 4),
    API(22, InitProducerId, 0, 4, 2),  /* librdkafka's idempotent producer sends the flexible v4 */
    API(32, DescribeConfigs, 0, 3, 4),
    API(33, AlterConfigs, 0, 1, 2),
    API(37, CreatePartitions, 0, 1, 2),
    API(42, DeleteGroups, 0, 1, 2),
    API(60, DescribeCluster, 0, 0, 0),
};

const kafka_api_t *kafka_api_find(int16_t key) {
    if (key < 0 || key >= KAFKA_API_KEY_MAX || !kafka_apis[key].name) return NULL;
    return &kafka_apis[key];
}

const kafka_api_t *const *kafka_api_list(size_t *count) {
    static const kafka_api_t *list[KAFKA_API_KEY_MAX];
    static size_t n;
    /* Built from the constant table; identical on every call, so a benign race at most. */
    if (!n) {
        size_t k = 0;
        for (int i = 0; i < KAFKA_API_KEY_MAX; i++)
            if (kafka_apis[i].name) list[k++] = &kafka_apis[i];
        n = k;
    }
    *count = n;
    return list;
}

const char *kafka_request_name(const kafka_request_t *req, char *buf, size_t len) {
    if (req->api) snprintf(buf, len, "%s v%d", req->api->name, req->api_version);
    else snprintf(buf, len, "api key %d v%d", req->api_key, req->api_version);
    return buf;
}

static void skip_tagged(rd_t *r) {
    uint32_t n = rd_uvarint32(r);
    for (uint32_t i = 0; i < n && rd_ok(r); i++) {
        (void)rd_uvarint32(r);
        uint32_t size = rd_uvarint32(r);
        if (size > rd_remaining(r)) rd_fail(r, EDDY_ERR_NEED_MORE);
        else rd_skip(r, size);
    }
}

kafka_parse_t kafka_request_parse(const uint8_t *buf, size_t len, arena_t *a, kafka_request_t *req) {
    memset(req, 0, sizeof *req);
    req->client_id = (kafka_str_t){NULL, -1};
    rd_t r = rd_init(buf, len);
    req->api_key = rd_i16(&r);
    req->api_version = rd_i16(&r);
    req->correlation_id = rd_i32(&r);
    if (!rd_ok(&r)) return KAFKA_PARSE_MALFORMED;
    const kafka_api_t *api = kafka_api_find(req->api_key);
    if (!api) return KAFKA_PARSE_UNKNOWN_API;
    req->api = api;
    int v = req->api_version;
    bool supported = v >= api->min && v <= api->max;
    /* A version above what we serve is read with the newest header form (Kafka does the same
     * for ApiVersions, whose later versions are all flexible). */
    req->flexible = kafka_api_flexible(api, v);
    int16_t n = rd_i16(&r);
    if (n >= 0) {
        req->client_id.ptr = (const char *)rd_bytes(&r, (size_t)n);
        req->client_id.len = n;
    } else if (n < -1) {
        rd_fail(&r, EDDY_ERR_CORRUPT);
    }
    if (req->flexible) skip_tagged(&r);
    if (!rd_ok(&r)) {
        req->client_id = (kafka_str_t){NULL, -1};
        return supported ? KAFKA_PARSE_MALFORMED : KAFKA_PARSE_UNSUPPORTED;
    }
    if (!supported) return KAFKA_PARSE_UNSUPPORTED;
    req->body = arena_alloc(a, api->request->size);
    if (!req->body) return KAFKA_PARSE_NOMEM;
    int rc = kafka_decode(api->request, v, req->flexible, &r, a, req->body);
    if (rc == EDDY_ERR_NOMEM) return KAFKA_PARSE_NOMEM;
    if (rc != EDDY_OK) return KAFKA_PARSE_MALFORMED;
    return KAFKA_PARSE_OK;
}

void kafka_response_encode(kafka_out_t *o, const kafka_request_t *req, const void *body) {
    size_t start = o->w.len;
    int64_t ext_before = o->ext_bytes;
    size_t size_at = wr_mark(&o->w, 4);
    wr_i32(&o->w, req->correlation_id);
    const kafka_api_t *api = req->api;
    int v = req->api_version;
    bool flex = req->flexible;
    if (api->key == KAFKA_API_API_VERSIONS) {
        if (v > api->max || v < api->min) { /* answered as v0 (KIP-511) */
            v = 0;
            flex = false;
        }
    } else if (flex) {
        wr_uvarint(&o->w, 0); /* response header v1: no tagged fields */
    }
    kafka_encode(api->response, v, flex, body, o);
    int64_t size = (int64_t)(o->w.len - start) + (o->ext_bytes - ext_before) - 4;
    if (wr_ok(&o->w)) wr_patch_u32(&o->w, size_at, (uint32_t)size);
}

void kafka_api_versions_fill(arena_t *a, bool unsupported, kafka_ApiVersionsResponse_t *resp) {
    kafka_struct_init(&kafka_schema_ApiVersionsResponse, 3, resp);
    size_t n;
    const kafka_api_t *const *list = kafka_api_list(&n);
    if (unsupported) {
        resp->error_code = KERR_UNSUPPORTED_VERSION;
        list = (const kafka_api_t *const[]){kafka_api_find(KAFKA_API_API_VERSIONS)};
        n = 1;
        KAFKA_ARRAY_ALLOC(a, resp->api_keys, 1);
        if (resp->api_keys.items) {
            const kafka_api_t *api = kafka_api_find(KAFKA_API_API_VERSIONS);
            resp->api_keys.items[0] = (kafka_ApiVersion_t){api->key, api->min, api->max};
        } else {
            resp->api_keys.count = 0;
        }
        return;
    }
    KAFKA_ARRAY_ALLOC(a, resp->api_keys, n);
    if (!resp->api_keys.items) {
        resp->api_keys.count = 0;
        return;
    }
    for (size_t i = 0; i < n; i++)
        resp->api_keys.items[i] = (kafka_ApiVersion_t){list[i]->key, list[i]->min, list[i]->max};
}
