/* The Kafka REST proxy v2, producer side and topic metadata, as Confluent's REST Proxy serves it:
 *   POST /topics/{topic}                 records in json, avro or binary embedded format
 *   POST /topics/{topic}/partitions/{p}  the same, to one partition
 *   GET /topics  /topics/{topic}  /topics/{topic}/partitions[/{p}[/offsets]]  /brokers
 * Avro values are registered (value_schema, subject "{topic}-value") or looked up
 * (value_schema_id) in eddy's registry and written in the Confluent wire format. Records go to
 * the log in one batch per partition; the answer lists each record's partition and offset once
 * they are durable. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"

#define CT API_CTYPE_KAFKA
#define PROXY_MAX_RECORDS 100000

enum { FMT_JSON, FMT_BINARY, FMT_AVRO };

/* ---- base64 and Kafka's partitioner ---------------------------------------------------------- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void api_base64_encode(wr_t *w, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char out[4] = {b64chars[v >> 18 & 63], b64chars[v >> 12 & 63], i + 1 < n ? b64chars[v >> 6 & 63] : '=',
                       i + 2 < n ? b64chars[v & 63] : '='};
        wr_bytes(w, out, 4);
    }
}

/* Decodes standard base64 (padding optional, no whitespace). Returns the length or -1. */
long api_base64_decode(const char *s, size_t n, uint8_t *out) {
    while (n && s[n - 1] == '=') n--;
    if (n % 4 == 1) return -1;
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = memchr(b64chars, s[i], 64);
        if (!c || !s[i]) return -1;
        acc = acc << 6 | (uint32_t)(c - b64chars);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)k;
}

/* Kafka's murmur2 (the Java client's default partitioner for keyed records). */
static int32_t kafka_murmur2(const uint8_t *data, size_t len) {
    const uint32_t m = 0x5bd1e995;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t k = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16 | (uint32_t)data[i + 3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len - i) {
    case 3: h ^= (uint32_t)data[i + 2] << 16; /* fall through */
    case 2: h ^= (uint32_t)data[i + 1] << 8;  /* fall through */
    case 1:
        h ^= data[i];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t api_kafka_partition(const uint8_t *key, size_t len, int32_t partitions) {
    return (int32_t)(((uint32_t)kafka_murmur2(key, len) & 0x7fffffff) % (uint32_t)partitions);
}

/* ---- produce ----------------------------------------------------------------------------------- */

typedef struct {
    int32_t partition;
    int64_t offset;
    int error_code;          /* 0, or Confluent's 50002 */
    char error[256];
} produce_result_t;

typedef struct {
    api_t *api;
    api_responder_t reply;
    char topic[LOG_TOPIC_NAME_MAX + 1];
    int fmt;
    int32_t fixed_partition;   /* -1: choose per record */
    char *body;                /* a copy: the request is answered later */
    size_t body_len;
    json_doc_t doc;
    uint32_t records;          /* node of the records array */
    uint32_t nrec;
    int64_t key_schema_id, value_schema_id; /* -1: none */
    atomic_int pending;        /* registrations, then appends, in flight */
    int reg_status;            /* the first failed registration's status */
    wr_t reg_error;
    produce_result_t *res;
    atomic_int appends;
} produce_t;

static void produce_free(produce_t *pr) {
    if (pr->api) api_unhold(pr->api);
    json_doc_free(&pr->doc);
    eddy_free(pr->body);
    eddy_free(pr->res);
    wr_free(&pr->reg_error);
    eddy_free(pr);
}

static void produce_answer(produce_t *pr) {
    wr_t w;
    wr_init(&w, 64 + pr->nrec * 64);
    wr_str(&w, "{\"offsets\":[");
    for (uint32_t i = 0; i < pr->nrec; i++) {
        const produce_result_t *r = &pr->res[i];
        if (i) wr_u8(&w, ',');
        if (r->error_code)
            wr_fmt(&w, "{\"partition\":%d,\"offset\":null,\"error_code\":%d,\"error\":", r->partition, r->error_code);
        else
            wr_fmt(&w, "{\"partition\":%d,\"offset\":%lld,\"error_code\":null,\"error\":null", r->partition, (long long)r->offset);
        if (r->error_code) json_write_string(&w, r->error, strlen(r->error));
        wr_u8(&w, '}');
    }
    wr_str(&w, "],\"key_schema_id\":");
    if (pr->key_schema_id >= 0) json_write_i64(&w, pr->key_schema_id);
    else wr_str(&w, "null");
    wr_str(&w, ",\"value_schema_id\":");
    if (pr->value_schema_id >= 0) json_write_i64(&w, pr->value_schema_id);
    else wr_str(&w, "null");
    wr_u8(&w, '}');
    api_send(&pr->reply, 200, CT, &w);
    wr_free(&w);
    api_metrics_count(pr->api, API_METRIC_PROXY_RECORDS, pr->nrec);
    produce_free(pr);
}

/* One partition's batch: the results of the records it holds. */
typedef struct {
    produce_t *pr;
    uint32_t *idx;    /* indexes of the request's records in this batch */
    uint32_t n;
} produce_batch_t;

static void produce_appended(void *arg, int status, const log_append_result_t *res) {
    produce_batch_t *b = arg;
    produce_t *pr = b->pr;
    for (uint32_t k = 0; k < b->n; k++) {
        produce_result_t *r = &pr->res[b->idx[k]];
        if (status == EDDY_OK) {
            r->offset = res->base_offset + k;
        } else {
            r->error_code = 50002;
            snprintf(r->error, sizeof r->error, "Kafka error: %s", eddy_strerror(status));
        }
    }
    eddy_free(b->idx);
    eddy_free(b);
    if (atomic_fetch_sub(&pr->appends, 1) == 1) produce_answer(pr);
}

/* The bytes of a record's key or value in the request's format, appended to w; *is_null for a
 * JSON null. Returns EDDY_OK or an error with the reason in err. */
static int produce_encode(produce_t *pr, int64_t node, bool key, wr_t *w, bool *is_null, char *err, size_t errlen) {
    *is_null = node < 0 || pr->doc.nodes[node].type == JSON_NULL;
    if (*is_null) return EDDY_OK;
    const json_node_t *n = &pr->doc.nodes[node];
    switch (pr->fmt) {
    case FMT_JSON: {
        /* A copy of the JSON text; strings must unescape (the parser checks escapes lazily). */
        for (uint32_t k = (uint32_t)node; k < n->end; k++) {
            const json_node_t *s = &pr->doc.nodes[k];
            if (s->type != JSON_STRING || !s->has_escape) continue;
            char *tmp = eddy_malloc(s->len + 1);
            long ok = tmp ? json_string_unescape(s, tmp) : -1;
            eddy_free(tmp);
            if (ok < 0) return eddy_err(err, errlen, EDDY_ERR_INVALID, "invalid string escape");
        }
        json_write_node(w, &pr->doc, (uint32_t)node);
        return EDDY_OK;
    }
    case FMT_BINARY: {
        if (n->type != JSON_STRING || n->has_escape)
            return eddy_err(err, errlen, EDDY_ERR_INVALID, "binary data must be a base64 string");
        uint8_t *out = wr_reserve(w, n->len);
        long k = out ? api_base64_decode(n->text, n->len, out) : -1;
        if (k < 0) return eddy_err(err, errlen, EDDY_ERR_INVALID, "invalid base64");
        wr_advance(w, (size_t)k);
        return EDDY_OK;
    }
    default: {
        int64_t id = key ? pr->key_schema_id : pr->value_schema_id;
        const api_avro_schema_t *s = id > 0 ? api_registry_schema(pr->api->reg, (uint32_t)id) : NULL;
        if (!s) return eddy_err(err, errlen, EDDY_ERR_INVALID, "no %s schema", key ? "key" : "value");
        api_avro_wire_header(w, (uint32_t)id);
        return api_avro_encode_json(s, &pr->doc, (uint32_t)node, w, err, errlen);
    }
    }
}

/* Encodes every record, groups them by partition and appends one batch per partition. */
static void produce_append(produce_t *pr) {
    api_t *api = pr->api;
    log_err_t lerr;
    log_partition_t *part = NULL;
    int rc = log_partition_open(api->log, pr->topic, pr->fixed_partition >= 0 ? pr->fixed_partition : 0,
                                LOG_OPEN_AUTO_CREATE, &part, &lerr);
    if (rc != EDDY_OK) {
        if (lerr.reason == LOG_ERR_UNKNOWN_PARTITION) api_send_error(&pr->reply, 404, 40402, CT, "Partition not found.");
        else if (rc == EDDY_ERR_NOT_FOUND) api_send_error(&pr->reply, 404, 40401, CT, "Topic not found.");
        else api_send_error(&pr->reply, 500, 50002, CT, "Kafka error: %s", lerr.msg);
        produce_free(pr);
        return;
    }
    log_topic_info_t info;
    int32_t nparts = log_topic_info(api->log, pr->topic, &info) == EDDY_OK ? info.partitions : 1;
    log_partition_release(part);

    wr_t keys, values;
    wr_init(&keys, 256);
    wr_init(&values, 1024);
    size_t *koff = eddy_calloc(pr->nrec, sizeof *koff), *voff = eddy_calloc(pr->nrec, sizeof *voff);
    int32_t *klen = eddy_calloc(pr->nrec, sizeof *klen), *vlen = eddy_calloc(pr->nrec, sizeof *vlen);
    pr->res = eddy_calloc(pr->nrec, sizeof *pr->res);
    if (!koff || !voff || !klen || !vlen || !pr->res) {
        api_send_error(&pr->reply, 500, 50001, CT, "out of memory");
        goto fail;
    }
    static atomic_uint round_robin;
    int32_t sticky = (int32_t)(atomic_fetch_add(&round_robin, 1) % (unsigned)nparts);
    uint32_t c = json_first_child(pr->records);
    for (uint32_t i = 0; i < pr->nrec; i++, c = json_next(&pr->doc, c)) {
        int64_t ki = json_object_get(&pr->doc, c, "key", 3), vi = json_object_get(&pr->doc, c, "value", 5);
        int64_t pi = json_object_get(&pr->doc, c, "partition", 9);
        char err[512];
        bool knull, vnull;
        koff[i] = keys.len;
        if (produce_encode(pr, ki, true, &keys, &knull, err, sizeof err) != EDDY_OK ||
            (voff[i] = values.len, produce_encode(pr, vi, false, &values, &vnull, err, sizeof err)) != EDDY_OK) {
            if (pr->fmt == FMT_AVRO) api_send_error(&pr->reply, 422, 42203, CT, "Conversion of JSON to Avro failed: %s", err);
            else if (pr->fmt == FMT_BINARY) api_send_error(&pr->reply, 422, 422, CT, "records[%u]: %s", i, err);
            else api_send_error(&pr->reply, 422, 422, CT, "records[%u]: %s", i, err);
            goto fail;
        }
        klen[i] = knull ? -1 : (int32_t)(keys.len - koff[i]);
        vlen[i] = vnull ? -1 : (int32_t)(values.len - voff[i]);
        int64_t p = -1;
        if (pr->fixed_partition >= 0) p = pr->fixed_partition;
        else if (pi >= 0 && pr->doc.nodes[pi].type != JSON_NULL) {
            if (json_number_i64(&pr->doc.nodes[pi], &p) != EDDY_OK || p < 0 || p >= nparts) {
                api_send_error(&pr->reply, 404, 40402, CT, "Partition not found.");
                goto fail;
            }
        } else if (!knull) {
            p = api_kafka_partition(keys.buf + koff[i], (size_t)klen[i], nparts);
        } else {
            p = sticky;
        }
        pr->res[i].partition = (int32_t)p;
    }
    if (!wr_ok(&keys) || !wr_ok(&values)) {
        api_send_error(&pr->reply, 500, 50001, CT, "out of memory");
        goto fail;
    }
    /* One batch per partition, in request order within each. */
    int32_t nb = 0;
    bool *used = eddy_calloc((size_t)nparts, sizeof *used);
    if (!used) {
        api_send_error(&pr->reply, 500, 50001, CT, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < pr->nrec; i++)
        if (!used[pr->res[i].partition]) used[pr->res[i].partition] = true, nb++;
    atomic_store(&pr->appends, nb);
    for (int32_t p = 0; p < nparts; p++) {
        if (!used[p]) continue;
        produce_batch_t *b = eddy_calloc(1, sizeof *b);
        log_record_t *recs = eddy_calloc(pr->nrec, sizeof *recs);
        uint32_t *idx = eddy_calloc(pr->nrec, sizeof *idx);
        int arc = EDDY_ERR_NOMEM;
        lerr.msg[0] = 0;
        if (b && recs && idx) {
            b->pr = pr;
            b->idx = idx;
            for (uint32_t i = 0; i < pr->nrec; i++) {
                if (pr->res[i].partition != p) continue;
                recs[b->n] = (log_record_t){-1, klen[i] < 0 ? NULL : keys.buf + koff[i], klen[i],
                                            vlen[i] < 0 ? NULL : values.buf + voff[i], vlen[i], NULL, 0};
                idx[b->n++] = i;
            }
            log_partition_t *lp = NULL;
            arc = log_partition_open(api->log, pr->topic, p, 0, &lp, &lerr);
            if (arc == EDDY_OK) {
                arc = log_append_records(lp, recs, b->n, LOG_CODEC_NONE, produce_appended, b, &lerr);
                log_partition_release(lp);
            }
        }
        eddy_free(recs);
        if (arc != EDDY_OK) {
            /* Not appended: these records carry the error; the callback will not run. */
            for (uint32_t k = 0; b && idx && k < b->n; k++) {
                pr->res[idx[k]].error_code = 50002;
                snprintf(pr->res[idx[k]].error, sizeof pr->res[idx[k]].error, "Kafka error: %s", lerr.msg[0] ? lerr.msg : eddy_strerror(arc));
            }
            eddy_free(idx);
            eddy_free(b);
            if (atomic_fetch_sub(&pr->appends, 1) == 1) {
                eddy_free(used);
                goto done;
            }
        }
    }
    eddy_free(used);
    goto done_noanswer;
done:
    produce_answer(pr);
done_noanswer:
    wr_free(&keys);
    wr_free(&values);
    eddy_free(koff);
    eddy_free(voff);
    eddy_free(klen);
    eddy_free(vlen);
    return;
fail:
    wr_free(&keys);
    wr_free(&values);
    eddy_free(koff);
    eddy_free(voff);
    eddy_free(klen);
    eddy_free(vlen);
    produce_free(pr);
}

static void produce_append_job(void *arg) {
    produce_t *pr = arg;
    if (pr->reg_status) {
        api_send(&pr->reply, pr->reg_status, CT, &pr->reg_error);
        produce_free(pr);
        return;
    }
    produce_append(pr);
}

/* A registration finished (on whatever thread the registry completes): record the id; the last
 * one hands the rest to a worker (the log's callbacks must not append). */
static void produce_registered_key(void *arg, int status, uint32_t id, const char *body, size_t len);
static void produce_registered(produce_t *pr, bool key, int status, uint32_t id, const char *body, size_t len) {
    if (status == 200) {
        if (key) pr->key_schema_id = id;
        else pr->value_schema_id = id;
    } else if (!pr->reg_status) {
        /* A schema the registry refuses: its answer, with the REST proxy's code for a bad one. */
        pr->reg_status = status;
        wr_reset(&pr->reg_error);
        if (status == 422 && body && len) {
            json_doc_t d;
            json_doc_init(&d);
            int64_t m;
            char *msg = NULL;
            if (json_parse(&d, body, len) == EDDY_OK && (m = json_object_get(&d, 0, "message", 7)) >= 0)
                msg = api_json_strdup(&d, m);
            api_registry_error(&pr->reg_error, 42205, "%s", msg ? msg : "Invalid schema");
            eddy_free(msg);
            json_doc_free(&d);
        } else if (body) {
            wr_bytes(&pr->reg_error, body, len);
        }
    }
    if (atomic_fetch_sub(&pr->pending, 1) == 1 && api_work_post(pr->api->work, produce_append_job, pr) != EDDY_OK) {
        api_send_error(&pr->reply, 503, 50003, CT, "eddy is shutting down");
        produce_free(pr);
    }
}
static void produce_registered_key(void *arg, int status, uint32_t id, const char *body, size_t len) {
    produce_registered(arg, true, status, id, body, len);
}
static void produce_registered_value(void *arg, int status, uint32_t id, const char *body, size_t len) {
    produce_registered(arg, false, status, id, body, len);
}

static int proxy_format(const api_request_t *req) {
    if (api_media_is(req->content_type, req->content_type_len, "application/vnd.kafka.json.v2+json")) return FMT_JSON;
    if (api_media_is(req->content_type, req->content_type_len, "application/vnd.kafka.binary.v2+json")) return FMT_BINARY;
    if (api_media_is(req->content_type, req->content_type_len, "application/vnd.kafka.avro.v2+json")) return FMT_AVRO;
    return -1;
}

static void produce(api_t *api, const api_request_t *req, const char *topic, int32_t partition, const api_responder_t *reply) {
    int fmt = proxy_format(req);
    if (fmt < 0) {
        api_send_error(reply, 415, 415, CT,
                       "HTTP 415 Unsupported Media Type: use application/vnd.kafka.json.v2+json, "
                       "application/vnd.kafka.avro.v2+json or application/vnd.kafka.binary.v2+json");
        return;
    }
    if (strlen(topic) > LOG_TOPIC_NAME_MAX) {
        api_send_error(reply, 404, 40401, CT, "Topic not found.");
        return;
    }
    produce_t *pr = eddy_calloc(1, sizeof *pr);
    if (!pr || !(pr->body = eddy_memdup(req->body, req->body_len ? req->body_len : 1))) {
        eddy_free(pr);
        api_send_error(reply, 500, 50001, CT, "out of memory");
        return;
    }
    pr->api = api;
    api_hold(api); /* released by produce_free */
    pr->reply = *reply;
    pr->fmt = fmt;
    pr->fixed_partition = partition;
    pr->body_len = req->body_len;
    pr->key_schema_id = pr->value_schema_id = -1;
    snprintf(pr->topic, sizeof pr->topic, "%s", topic);
    json_doc_init(&pr->doc);
    wr_init(&pr->reg_error, 0);
    api_request_t body_req = *req;
    body_req.body = pr->body;
    if (api_body_json(&body_req, reply, &pr->doc, API_STYLE_KAFKA) != EDDY_OK) {
        produce_free(pr);
        return;
    }
    int64_t ri = pr->doc.nodes[0].type == JSON_OBJECT ? json_object_get(&pr->doc, 0, "records", 7) : -1;
    if (ri < 0 || pr->doc.nodes[ri].type != JSON_ARRAY || pr->doc.nodes[ri].count == 0) {
        api_send_error(reply, 422, 422, CT, "records may not be empty: the body needs {\"records\": [{\"value\": ...}, ...]}");
        produce_free(pr);
        return;
    }
    if (pr->doc.nodes[ri].count > PROXY_MAX_RECORDS) {
        api_send_error(reply, 422, 422, CT, "too many records in one request (at most %d)", PROXY_MAX_RECORDS);
        produce_free(pr);
        return;
    }
    pr->records = (uint32_t)ri;
    pr->nrec = pr->doc.nodes[ri].count;
    bool has_keys = false, has_values = false;
    for (uint32_t c = json_first_child(pr->records), k = 0; k < pr->nrec; k++, c = json_next(&pr->doc, c)) {
        if (pr->doc.nodes[c].type != JSON_OBJECT) {
            api_send_error(reply, 422, 422, CT, "records[%u] must be an object with key, value and partition", k);
            produce_free(pr);
            return;
        }
        int64_t ki = json_object_get(&pr->doc, c, "key", 3), vi = json_object_get(&pr->doc, c, "value", 5);
        has_keys |= ki >= 0 && pr->doc.nodes[ki].type != JSON_NULL;
        has_values |= vi >= 0 && pr->doc.nodes[vi].type != JSON_NULL;
    }
    if (fmt != FMT_AVRO) {
        produce_append(pr);
        return;
    }
    /* Avro: resolve (or register) the schemas first. */
    struct {
        const char *schema_field, *id_field, *suffix;
        bool needed;
        int missing_code;
        const char *missing_msg;
        void (*done)(void *, int, uint32_t, const char *, size_t);
        int64_t *out;
    } sides[2] = {
        {"key_schema", "key_schema_id", "-key", has_keys, 42201, "Request includes keys but does not include key schema",
         produce_registered_key, &pr->key_schema_id},
        {"value_schema", "value_schema_id", "-value", has_values, 42202,
         "Request includes values but does not include value schema", produce_registered_value, &pr->value_schema_id},
    };
    char *schemas[2] = {NULL, NULL};
    int registrations = 0;
    for (int s = 0; s < 2; s++) {
        int64_t si = json_object_get(&pr->doc, 0, sides[s].schema_field, strlen(sides[s].schema_field));
        int64_t ii = json_object_get(&pr->doc, 0, sides[s].id_field, strlen(sides[s].id_field));
        int64_t id;
        if (ii >= 0 && pr->doc.nodes[ii].type != JSON_NULL) {
            if (json_number_i64(&pr->doc.nodes[ii], &id) != EDDY_OK || id < 1 || id > INT32_MAX ||
                !api_registry_schema(api->reg, (uint32_t)id)) {
                api_send_error(reply, 404, 40403, CT, "Schema %.*s not found", (int)pr->doc.nodes[ii].len, pr->doc.nodes[ii].text);
                goto fail;
            }
            *sides[s].out = id;
        } else if (si >= 0 && pr->doc.nodes[si].type != JSON_NULL) {
            /* value_schema is a JSON string holding the schema (Confluent also takes it inline). */
            if (pr->doc.nodes[si].type == JSON_STRING) {
                schemas[s] = api_json_strdup(&pr->doc, si);
            } else {
                wr_t t;
                wr_init(&t, 256);
                json_write_node(&t, &pr->doc, (uint32_t)si);
                wr_u8(&t, 0);
                size_t n;
                schemas[s] = wr_ok(&t) ? (char *)wr_steal(&t, &n) : NULL;
                wr_free(&t);
            }
            if (!schemas[s]) {
                api_send_error(reply, 422, 42205, CT, "Invalid schema: %s is not a string", sides[s].schema_field);
                goto fail;
            }
            registrations++;
        } else if (sides[s].needed) {
            api_send_error(reply, 422, sides[s].missing_code, CT, "%s", sides[s].missing_msg);
            goto fail;
        }
    }
    if (registrations == 0) {
        produce_append(pr);
        return;
    }
    atomic_store(&pr->pending, registrations);
    for (int s = 0; s < 2; s++) {
        if (!schemas[s]) continue;
        char subject[LOG_TOPIC_NAME_MAX + 16];
        snprintf(subject, sizeof subject, "%s%s", pr->topic, sides[s].suffix);
        api_registry_done_t done = {sides[s].done, pr};
        api_registry_register(api->reg, subject, schemas[s], strlen(schemas[s]), &done, NULL);
        eddy_free(schemas[s]);
    }
    return;
fail:
    eddy_free(schemas[0]);
    eddy_free(schemas[1]);
    produce_free(pr);
}

static void h_produce(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    produce(api, req, p->v[0], -1, reply);
}

static void h_produce_partition(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    char *end;
    long part = strtol(p->v[1], &end, 10);
    if (*end || part < 0 || part > INT32_MAX) {
        api_send_error(reply, 404, 40402, CT, "Partition not found.");
        return;
    }
    log_topic_info_t info;
    if (log_topic_info(api->log, p->v[0], &info) != EDDY_OK) {
        api_send_error(reply, 404, 40401, CT, "Topic not found.");
        return;
    }
    if (part >= info.partitions) {
        api_send_error(reply, 404, 40402, CT, "Partition not found.");
        return;
    }
    produce(api, req, p->v[0], (int32_t)part, reply);
}

/* ---- metadata ---------------------------------------------------------------------------------- */

static void write_partition(wr_t *w, int32_t p) {
    wr_fmt(w, "{\"partition\":%d,\"leader\":0,\"replicas\":[{\"broker\":0,\"leader\":true,\"in_sync\":true}]}", p);
}

/* [partition, ...] of a topic with n partitions (one broker: eddy). */
static void write_partitions(wr_t *w, int32_t n) {
    wr_u8(w, '[');
    for (int32_t i = 0; i < n; i++) {
        if (i) wr_u8(w, ',');
        write_partition(w, i);
    }
    wr_u8(w, ']');
}

/* The topic named in the path, or false after answering 40401. */
static bool path_topic(api_t *api, const api_params_t *p, log_topic_info_t *info, const api_responder_t *reply) {
    if (log_topic_info(api->log, p->v[0], info) == EDDY_OK) return true;
    api_send_error(reply, 404, 40401, CT, "Topic not found.");
    return false;
}

static void h_topics(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    log_topic_info_t *topics = NULL;
    size_t n = 0;
    if (log_topic_list(api->log, &topics, &n) != EDDY_OK) {
        api_send_error(reply, 500, 50002, CT, "Kafka error: cannot list topics");
        return;
    }
    wr_t w;
    wr_init(&w, 64 + n * 32);
    wr_u8(&w, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) wr_u8(&w, ',');
        json_write_string(&w, topics[i].name, strlen(topics[i].name));
    }
    wr_u8(&w, ']');
    eddy_free(topics);
    api_send(reply, 200, CT, &w);
    wr_free(&w);
}

static void h_topic(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    log_topic_info_t info;
    if (!path_topic(api, p, &info, reply)) return;
    wr_t w;
    wr_init(&w, 512);
    wr_str(&w, "{\"name\":");
    json_write_string(&w, info.name, strlen(info.name));
    wr_str(&w, ",\"configs\":{");
    log_config_desc_t *cfg = NULL;
    size_t ncfg = 0;
    log_err_t err;
    if (log_topic_describe_config(api->log, info.name, &cfg, &ncfg, &err) == EDDY_OK) {
        bool first = true;
        for (size_t i = 0; i < ncfg; i++) {
            if (cfg[i].is_default) continue;
            if (!first) wr_u8(&w, ',');
            first = false;
            json_write_string(&w, cfg[i].name, strlen(cfg[i].name));
            wr_u8(&w, ':');
            json_write_string(&w, cfg[i].value, strlen(cfg[i].value));
        }
        eddy_free(cfg);
    }
    wr_str(&w, "},\"partitions\":");
    write_partitions(&w, info.partitions);
    wr_u8(&w, '}');
    api_send(reply, 200, CT, &w);
    wr_free(&w);
}

static void h_partitions(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    log_topic_info_t info;
    if (!path_topic(api, p, &info, reply)) return;
    wr_t w;
    wr_init(&w, 256);
    write_partitions(&w, info.partitions);
    api_send(reply, 200, CT, &w);
    wr_free(&w);
}

/* The partition named in the path, or an answer and -1. */
static int32_t path_partition(api_t *api, const api_params_t *p, const api_responder_t *reply) {
    log_topic_info_t info;
    if (!path_topic(api, p, &info, reply)) return -1;
    char *end;
    long part = strtol(p->v[1], &end, 10);
    if (*end || part < 0 || part >= info.partitions) {
        api_send_error(reply, 404, 40402, CT, "Partition not found.");
        return -1;
    }
    return (int32_t)part;
}

static void h_partition(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    int32_t part = path_partition(api, p, reply);
    if (part < 0) return;
    wr_t w;
    wr_init(&w, 128);
    write_partition(&w, part);
    api_send(reply, 200, CT, &w);
    wr_free(&w);
}

static void h_partition_offsets(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    int32_t part = path_partition(api, p, reply);
    if (part < 0) return;
    log_partition_t *lp = NULL;
    log_err_t err;
    log_partition_state_t st;
    if (log_partition_open(api->log, p->v[0], part, 0, &lp, &err) != EDDY_OK || log_partition_state(lp, &st) != EDDY_OK) {
        if (lp) log_partition_release(lp);
        api_send_error(reply, 500, 50002, CT, "Kafka error: %s", err.msg);
        return;
    }
    log_partition_release(lp);
    wr_t w;
    wr_init(&w, 64);
    wr_fmt(&w, "{\"beginning_offset\":%lld,\"end_offset\":%lld}", (long long)st.log_start_offset, (long long)st.high_watermark);
    api_send(reply, 200, CT, &w);
    wr_free(&w);
}

static void h_brokers(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    static const char brokers[] = "{\"brokers\":[0]}";
    reply->send(reply->ctx, 200, CT, brokers, sizeof brokers - 1);
}

static const api_route_t proxy_routes[] = {
    {API_GET, "/topics", h_topics},
    {API_GET, "/topics/{}", h_topic},
    {API_POST, "/topics/{}", h_produce},
    {API_GET, "/topics/{}/partitions", h_partitions},
    {API_GET, "/topics/{}/partitions/{}", h_partition},
    {API_POST, "/topics/{}/partitions/{}", h_produce_partition},
    {API_GET, "/topics/{}/partitions/{}/offsets", h_partition_offsets},
    {API_GET, "/brokers", h_brokers},
};

void api_proxy_http(api_t *api, const api_request_t *req, const api_responder_t *reply) {
    if (req->path_len >= 10 && !memcmp(req->path, "/consumers", 10)) {
        api_consumer_http(api, req, reply);
        return;
    }
    api_dispatch(api, proxy_routes, EDDY_ARRAY_LEN(proxy_routes), req, reply, API_STYLE_KAFKA);
}
