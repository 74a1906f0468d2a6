/* The Kafka REST proxy v2, consumer side, on the log's consumer-group offsets:
 *   POST   /consumers/{group}                                   create an instance
 *   DELETE /consumers/{group}/instances/{name}                  delete it
 *   POST|GET|DELETE .../subscription   POST|GET .../assignments
 *   POST .../positions  .../positions/beginning  .../positions/end
 *   GET .../records (Accept: the instance's format; ?timeout=ms&max_bytes=n)
 *   POST|GET .../offsets
 * Instances of one group share the subscribed topics' partitions (partition p goes to the p-th
 * instance in name order, modulo their number); positions start at the group's committed
 * offset, or at auto.offset.reset. A read with nothing to return waits for data (log watches)
 * up to its timeout. Idle instances expire after consumer_timeout_ms. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"

#define CT API_CTYPE_KAFKA
#define MAX_SUBS 64
#define MAX_POS 256

enum { CFMT_BINARY, CFMT_JSON, CFMT_AVRO };
static const char *const cfmt_names[] = {"binary", "json", "avro"};
static const char *const cfmt_types[] = {"application/vnd.kafka.binary.v2+json", "application/vnd.kafka.json.v2+json",
                                         "application/vnd.kafka.avro.v2+json"};

typedef struct {
    char topic[LOG_TOPIC_NAME_MAX + 1];
    int32_t partition;
    int64_t position; /* next offset to return */
} cpos_t;

typedef struct consumer {
    struct consumer *next;
    pthread_mutex_t mu;
    atomic_int refs;
    bool deleted;
    char group[LOG_GROUP_NAME_MAX + 1];
    char name[128];
    int fmt;
    bool earliest;
    bool auto_commit;
    int64_t request_timeout_ms;
    _Atomic int64_t last_used_ms;
    char *subs[MAX_SUBS];          /* subscription */
    int nsubs;
    bool manual;                   /* assigned with /assignments instead */
    cpos_t pos[MAX_POS];           /* assigned partitions and their positions */
    int npos;
} consumer_t;

struct read_wait;

struct api_proxy {
    pthread_mutex_t mu;
    consumer_t *list;
    uint64_t next_id;
    struct read_wait *waits; /* reads waiting for data (answered early at shutdown) */
    bool stopping;
};

int api_proxy_new(api_proxy_t **out) {
    api_proxy_t *px = eddy_calloc(1, sizeof *px);
    if (!px) return EDDY_ERR_NOMEM;
    pthread_mutex_init(&px->mu, NULL);
    *out = px;
    return EDDY_OK;
}

static void consumer_release(consumer_t *c) {
    if (atomic_fetch_sub(&c->refs, 1) != 1) return;
    for (int i = 0; i < c->nsubs; i++) eddy_free(c->subs[i]);
    pthread_mutex_destroy(&c->mu);
    eddy_free(c);
}

void api_proxy_free(api_proxy_t *px) {
    if (!px) return;
    while (px->list) {
        consumer_t *c = px->list;
        px->list = c->next;
        consumer_release(c);
    }
    pthread_mutex_destroy(&px->mu);
    eddy_free(px);
}

/* Drops expired instances; called with px->mu held. */
static void proxy_sweep(api_t *api) {
    int64_t now = time_mono_ms(), ttl = api->cfg.consumer_timeout_ms;
    for (consumer_t **pp = &api->proxy->list; *pp;) {
        consumer_t *c = *pp;
        if (now - atomic_load(&c->last_used_ms) > ttl) {
            *pp = c->next;
            c->deleted = true;
            elog_info("api", "REST proxy consumer %s/%s expired after %lld ms idle", c->group, c->name, (long long)ttl);
            consumer_release(c);
        } else {
            pp = &c->next;
        }
    }
}

/* The instance named by the path, with a reference (release it), or an answer and NULL. */
static consumer_t *consumer_get(api_t *api, const char *group, const char *name, const api_responder_t *reply) {
    pthread_mutex_lock(&api->proxy->mu);
    proxy_sweep(api);
    consumer_t *c = api->proxy->list;
    while (c && (strcmp(c->group, group) || strcmp(c->name, name))) c = c->next;
    if (c) {
        atomic_fetch_add(&c->refs, 1);
        atomic_store(&c->last_used_ms, time_mono_ms());
    }
    pthread_mutex_unlock(&api->proxy->mu);
    if (!c && reply) api_send_error(reply, 404, 40403, CT, "Consumer instance not found.");
    return c;
}

static void send_empty(const api_responder_t *reply, int status) { reply->send(reply->ctx, status, CT, "", 0); }

/* ---- create and delete ------------------------------------------------------------------------- */

static void h_create(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    json_doc_t d;
    json_doc_init(&d);
    consumer_t *c = NULL;
    if (strlen(p->v[0]) > LOG_GROUP_NAME_MAX) {
        api_send_error(reply, 422, 42204, CT, "Invalid consumer configuration: group name too long");
        goto out;
    }
    bool has_body = req->body_len > 0;
    if (has_body && api_body_json(req, reply, &d, API_STYLE_KAFKA) != EDDY_OK) goto out;
    if (has_body && d.nodes[0].type != JSON_OBJECT) {
        api_send_error(reply, 422, 42204, CT, "Invalid consumer configuration: the body must be a JSON object");
        goto out;
    }
    c = eddy_calloc(1, sizeof *c);
    if (!c) {
        api_send_error(reply, 500, 50001, CT, "out of memory");
        goto out;
    }
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->refs, 1);
    snprintf(c->group, sizeof c->group, "%s", p->v[0]);
    c->fmt = CFMT_BINARY;
    c->auto_commit = true;
    c->request_timeout_ms = 1000;
    atomic_init(&c->last_used_ms, time_mono_ms());
    for (uint32_t k = 0, i = 1; has_body && k < d.nodes[0].count; k++) {
        uint32_t v = json_next(&d, i);
        char *key = api_json_strdup(&d, i), *val = NULL;
        const json_node_t *vn = &d.nodes[v];
        if (vn->type == JSON_STRING) val = api_json_strdup(&d, v);
        else if (vn->type == JSON_NUMBER || vn->type == JSON_TRUE || vn->type == JSON_FALSE)
            val = eddy_strndup(vn->type == JSON_NUMBER ? vn->text : vn->type == JSON_TRUE ? "true" : "false",
                               vn->type == JSON_NUMBER ? vn->len : strlen(vn->type == JSON_TRUE ? "true" : "false"));
        bool ok = key != NULL;
        if (ok && vn->type == JSON_NULL) {
            /* null: the default */
        } else if (ok && !strcmp(key, "name")) {
            ok = val && *val && strlen(val) < sizeof c->name && !strchr(val, '/');
            if (ok) snprintf(c->name, sizeof c->name, "%s", val);
        } else if (ok && !strcmp(key, "format")) {
            ok = false;
            for (int f = 0; val && f < 3; f++)
                if (!strcmp(val, cfmt_names[f])) c->fmt = f, ok = true;
        } else if (ok && !strcmp(key, "auto.offset.reset")) {
            ok = val && (!strcmp(val, "earliest") || !strcmp(val, "latest") || !strcmp(val, "smallest") || !strcmp(val, "largest"));
            if (ok) c->earliest = !strcmp(val, "earliest") || !strcmp(val, "smallest");
        } else if (ok && !strcmp(key, "auto.commit.enable")) {
            ok = val && (!strcmp(val, "true") || !strcmp(val, "false"));
            if (ok) c->auto_commit = !strcmp(val, "true");
        } else if (ok && (!strcmp(key, "consumer.request.timeout.ms") || !strcmp(key, "fetch.min.bytes"))) {
            char *end;
            long long x = val ? strtoll(val, &end, 10) : -1;
            ok = val && !*end && x >= (key[0] == 'f' ? -1 : 0);
            if (ok && key[0] == 'c') c->request_timeout_ms = x;
        } else if (ok) {
            ok = false;
        }
        if (!ok) {
            api_send_error(reply, 422, 42204, CT, "Invalid consumer configuration: bad value for '%s'", key ? key : "?");
            eddy_free(key);
            eddy_free(val);
            goto out;
        }
        eddy_free(key);
        eddy_free(val);
        i = json_next(&d, v);
    }
    pthread_mutex_lock(&api->proxy->mu);
    proxy_sweep(api);
    if (!c->name[0]) snprintf(c->name, sizeof c->name, "rest-consumer-%llu", (unsigned long long)++api->proxy->next_id);
    for (consumer_t *o = api->proxy->list; o; o = o->next)
        if (!strcmp(o->group, c->group) && !strcmp(o->name, c->name)) {
            pthread_mutex_unlock(&api->proxy->mu);
            api_send_error(reply, 409, 40902, CT, "Consumer with specified consumer ID already exists in the specified consumer group.");
            goto out;
        }
    c->next = api->proxy->list;
    api->proxy->list = c;
    pthread_mutex_unlock(&api->proxy->mu);
    wr_t w;
    wr_init(&w, 256);
    wr_str(&w, "{\"instance_id\":");
    json_write_string(&w, c->name, strlen(c->name));
    wr_str(&w, ",\"base_uri\":");
    char uri[1024];
    int n = snprintf(uri, sizeof uri, "http://%.*s/consumers/%s/instances/%s", (int)(req->host ? req->host_len : 9),
                     req->host ? req->host : "localhost", c->group, c->name);
    json_write_string(&w, uri, (size_t)EDDY_MIN(n, (int)sizeof uri - 1));
    wr_u8(&w, '}');
    c = NULL;
    api_send(reply, 200, CT, &w);
    wr_free(&w);
out:
    if (c) consumer_release(c);
    json_doc_free(&d);
}

static void h_delete(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    pthread_mutex_lock(&api->proxy->mu);
    consumer_t *found = NULL;
    for (consumer_t **pp = &api->proxy->list; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->group, p->v[0]) && !strcmp((*pp)->name, p->v[1])) {
            found = *pp;
            *pp = found->next;
            break;
        }
    pthread_mutex_unlock(&api->proxy->mu);
    if (!found) {
        api_send_error(reply, 404, 40403, CT, "Consumer instance not found.");
        return;
    }
    pthread_mutex_lock(&found->mu);
    found->deleted = true;
    pthread_mutex_unlock(&found->mu);
    consumer_release(found);
    send_empty(reply, 204);
}

/* ---- subscription and assignment ---------------------------------------------------------------- */

/* The group's subscribed instances in name order, and c's index among them (-1 if absent).
 * Called with px->mu held. */
static int group_rank(api_t *api, const consumer_t *c, const char *topic, int *count) {
    int n = 0, rank = -1;
    for (const consumer_t *o = api->proxy->list; o; o = o->next) {
        if (strcmp(o->group, c->group) || o->manual) continue;
        bool subscribed = false;
        for (int i = 0; i < o->nsubs && !subscribed; i++) subscribed = !strcmp(o->subs[i], topic);
        if (!subscribed) continue;
        n++;
    }
    int below = 0;
    for (const consumer_t *o = api->proxy->list; o; o = o->next) {
        if (strcmp(o->group, c->group) || o->manual || o == c) continue;
        bool subscribed = false;
        for (int i = 0; i < o->nsubs && !subscribed; i++) subscribed = !strcmp(o->subs[i], topic);
        if (subscribed && strcmp(o->name, c->name) < 0) below++;
    }
    rank = below;
    *count = n ? n : 1;
    return rank;
}

/* The committed offset of group for topic/partition, or where auto.offset.reset says. */
static int64_t start_position(api_t *api, const consumer_t *c, const char *topic, int32_t partition) {
    log_group_offset_t *offs = NULL;
    size_t n = 0;
    int64_t pos = -1;
    if (log_group_fetch_offsets(api->log, c->group, topic, &offs, &n) == EDDY_OK) {
        for (size_t i = 0; i < n; i++)
            if (offs[i].partition == partition) pos = offs[i].offset;
        eddy_free(offs);
    }
    if (pos >= 0) return pos;
    log_partition_t *lp = NULL;
    log_err_t err;
    log_partition_state_t st = {0};
    if (log_partition_open(api->log, topic, partition, 0, &lp, &err) == EDDY_OK) {
        log_partition_state(lp, &st);
        log_partition_release(lp);
    }
    return c->earliest ? st.log_start_offset : st.high_watermark;
}

/* Recomputes a subscribed instance's partitions (keeping positions it already has). Called
 * with c->mu held. */
static void refresh_assignment(api_t *api, consumer_t *c) {
    if (c->manual) return;
    cpos_t next[MAX_POS];
    int nn = 0;
    for (int s = 0; s < c->nsubs; s++) {
        log_topic_info_t info;
        if (log_topic_info(api->log, c->subs[s], &info) != EDDY_OK) continue;
        pthread_mutex_lock(&api->proxy->mu);
        int count, rank = group_rank(api, c, c->subs[s], &count);
        pthread_mutex_unlock(&api->proxy->mu);
        for (int32_t p = 0; p < info.partitions && nn < MAX_POS; p++) {
            if (p % count != rank) continue;
            cpos_t *cp = &next[nn++];
            snprintf(cp->topic, sizeof cp->topic, "%s", c->subs[s]);
            cp->partition = p;
            cp->position = -1;
            for (int k = 0; k < c->npos; k++)
                if (!strcmp(c->pos[k].topic, cp->topic) && c->pos[k].partition == p) cp->position = c->pos[k].position;
        }
    }
    for (int k = 0; k < nn; k++)
        if (next[k].position < 0) next[k].position = start_position(api, c, next[k].topic, next[k].partition);
    memcpy(c->pos, next, (size_t)nn * sizeof *next);
    c->npos = nn;
}

static void h_subscribe(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    json_doc_t d;
    json_doc_init(&d);
    if (api_body_json(req, reply, &d, API_STYLE_KAFKA) != EDDY_OK) goto out;
    int64_t ti = d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, "topics", 6) : -1;
    if (ti < 0 || d.nodes[ti].type != JSON_ARRAY || d.nodes[ti].count == 0 || d.nodes[ti].count > MAX_SUBS) {
        int64_t pat = d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, "topic_pattern", 13) : -1;
        api_send_error(reply, 422, 422, CT, pat >= 0 ? "topic_pattern subscriptions are not supported; list the topics"
                                                     : "the body needs {\"topics\": [\"name\", ...]}");
        goto out;
    }
    pthread_mutex_lock(&c->mu);
    if (c->manual) {
        pthread_mutex_unlock(&c->mu);
        api_send_error(reply, 409, 40903, CT, "Illegal state: Subscription to topics, partitions and pattern are mutually exclusive");
        goto out;
    }
    for (int i = 0; i < c->nsubs; i++) eddy_free(c->subs[i]);
    c->nsubs = 0;
    bool bad = false;
    for (uint32_t k = 0, i = json_first_child((uint32_t)ti); k < d.nodes[ti].count; k++, i = json_next(&d, i)) {
        char *t = api_json_strdup(&d, i);
        if (!t || !*t || strlen(t) > LOG_TOPIC_NAME_MAX) {
            eddy_free(t);
            bad = true;
            continue;
        }
        c->subs[c->nsubs++] = t;
    }
    c->npos = 0;
    pthread_mutex_unlock(&c->mu);
    if (bad) api_send_error(reply, 422, 422, CT, "topics must be non-empty strings");
    else send_empty(reply, 204);
out:
    json_doc_free(&d);
    consumer_release(c);
}

static void h_subscription(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    wr_t w;
    wr_init(&w, 128);
    pthread_mutex_lock(&c->mu);
    wr_str(&w, "{\"topics\":[");
    for (int i = 0; i < c->nsubs; i++) {
        if (i) wr_u8(&w, ',');
        json_write_string(&w, c->subs[i], strlen(c->subs[i]));
    }
    wr_str(&w, "]}");
    pthread_mutex_unlock(&c->mu);
    api_send(reply, 200, CT, &w);
    wr_free(&w);
    consumer_release(c);
}

static void h_unsubscribe(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nsubs; i++) eddy_free(c->subs[i]);
    c->nsubs = 0;
    c->npos = 0;
    c->manual = false;
    pthread_mutex_unlock(&c->mu);
    send_empty(reply, 204);
    consumer_release(c);
}

/* Parses [{"topic": t, "partition": p, ("offset": o)}] at node arr into out (offset -1 when not
 * given). Returns the count, or -1 for a malformed list. */
static int parse_partitions(const json_doc_t *d, int64_t arr, cpos_t *out, int max) {
    if (arr < 0 || d->nodes[arr].type != JSON_ARRAY || (int)d->nodes[arr].count > max) return -1;
    int n = 0;
    for (uint32_t k = 0, i = json_first_child((uint32_t)arr); k < d->nodes[arr].count; k++, i = json_next(d, i)) {
        if (d->nodes[i].type != JSON_OBJECT) return -1;
        int64_t ti = json_object_get(d, i, "topic", 5), pi = json_object_get(d, i, "partition", 9);
        int64_t oi = json_object_get(d, i, "offset", 6), part, off = -1;
        char *t = api_json_strdup(d, ti);
        if (!t || strlen(t) > LOG_TOPIC_NAME_MAX || pi < 0 || json_number_i64(&d->nodes[pi], &part) != EDDY_OK ||
            part < 0 || part > INT32_MAX || (oi >= 0 && (json_number_i64(&d->nodes[oi], &off) != EDDY_OK || off < 0))) {
            eddy_free(t);
            return -1;
        }
        snprintf(out[n].topic, sizeof out[n].topic, "%s", t);
        eddy_free(t);
        out[n].partition = (int32_t)part;
        out[n].position = off;
        n++;
    }
    return n;
}

static void h_assign(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    json_doc_t d;
    json_doc_init(&d);
    cpos_t *parts = eddy_calloc(MAX_POS, sizeof *parts);
    if (!parts || api_body_json(req, reply, &d, API_STYLE_KAFKA) != EDDY_OK) {
        if (!parts) api_send_error(reply, 500, 50001, CT, "out of memory");
        goto out;
    }
    int n = parse_partitions(&d, d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, "partitions", 10) : -1, parts, MAX_POS);
    if (n < 0) {
        api_send_error(reply, 422, 422, CT, "the body needs {\"partitions\": [{\"topic\": t, \"partition\": p}, ...]}");
        goto out;
    }
    pthread_mutex_lock(&c->mu);
    if (c->nsubs) {
        pthread_mutex_unlock(&c->mu);
        api_send_error(reply, 409, 40903, CT, "Illegal state: Subscription to topics, partitions and pattern are mutually exclusive");
        goto out;
    }
    c->manual = true;
    for (int i = 0; i < n; i++) parts[i].position = start_position(api, c, parts[i].topic, parts[i].partition);
    memcpy(c->pos, parts, (size_t)n * sizeof *parts);
    c->npos = n;
    pthread_mutex_unlock(&c->mu);
    send_empty(reply, 204);
out:
    eddy_free(parts);
    json_doc_free(&d);
    consumer_release(c);
}

static void h_assignments(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    wr_t w;
    wr_init(&w, 256);
    pthread_mutex_lock(&c->mu);
    refresh_assignment(api, c);
    wr_str(&w, "{\"partitions\":[");
    for (int i = 0; i < c->npos; i++) {
        if (i) wr_u8(&w, ',');
        wr_str(&w, "{\"topic\":");
        json_write_string(&w, c->pos[i].topic, strlen(c->pos[i].topic));
        wr_fmt(&w, ",\"partition\":%d}", c->pos[i].partition);
    }
    wr_str(&w, "]}");
    pthread_mutex_unlock(&c->mu);
    api_send(reply, 200, CT, &w);
    wr_free(&w);
    consumer_release(c);
}

/* POST .../positions {"offsets": [...]}, .../positions/beginning|end {"partitions": [...]}. */
static void seek(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply, int where) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    json_doc_t d;
    json_doc_init(&d);
    cpos_t *parts = eddy_calloc(MAX_POS, sizeof *parts);
    if (!parts || api_body_json(req, reply, &d, API_STYLE_KAFKA) != EDDY_OK) {
        if (!parts) api_send_error(reply, 500, 50001, CT, "out of memory");
        goto out;
    }
    const char *field = where ? "partitions" : "offsets";
    int n = parse_partitions(&d, d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, field, strlen(field)) : -1, parts, MAX_POS);
    if (n < 0 || (!where && n > 0 && parts[0].position < 0)) {
        api_send_error(reply, 422, 422, CT, "the body needs {\"%s\": [{\"topic\": t, \"partition\": p%s}, ...]}", field,
                       where ? "" : ", \"offset\": o");
        goto out;
    }
    pthread_mutex_lock(&c->mu);
    refresh_assignment(api, c);
    int unknown = -1;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < c->npos && (strcmp(c->pos[k].topic, parts[i].topic) || c->pos[k].partition != parts[i].partition)) k++;
        if (k == c->npos) {
            unknown = i;
            break;
        }
        if (where) {
            log_partition_t *lp = NULL;
            log_err_t err;
            log_partition_state_t st = {0};
            if (log_partition_open(api->log, parts[i].topic, parts[i].partition, 0, &lp, &err) == EDDY_OK) {
                log_partition_state(lp, &st);
                log_partition_release(lp);
            }
            c->pos[k].position = where == 1 ? st.log_start_offset : st.high_watermark;
        } else {
            c->pos[k].position = parts[i].position;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (unknown >= 0)
        api_send_error(reply, 409, 40903, CT, "Illegal state: No current assignment for partition %s-%d", parts[unknown].topic,
                       parts[unknown].partition);
    else send_empty(reply, 204);
out:
    eddy_free(parts);
    json_doc_free(&d);
    consumer_release(c);
}

static void h_seek(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) { seek(api, req, p, reply, 0); }
static void h_seek_begin(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) { seek(api, req, p, reply, 1); }
static void h_seek_end(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) { seek(api, req, p, reply, 2); }

/* ---- offsets ------------------------------------------------------------------------------------ */

typedef struct {
    api_t *api;
    api_responder_t reply;
    bool silent;
} commit_wait_t;

static void committed(void *arg, int status) {
    commit_wait_t *cw = arg;
    if (!cw->silent) {
        if (status == EDDY_OK) cw->reply.send(cw->reply.ctx, 200, CT, "", 0);
        else api_send_error(&cw->reply, 500, 50002, CT, "Kafka error: %s", eddy_strerror(status));
    }
    api_unhold(cw->api);
    eddy_free(cw);
}

/* Commits offsets (n of them, offsets already +1) for c's group. reply NULL: fire and forget. */
static void commit(api_t *api, consumer_t *c, const log_group_offset_t *offs, size_t n, const api_responder_t *reply) {
    commit_wait_t *cw = eddy_calloc(1, sizeof *cw);
    log_err_t err;
    if (!cw) {
        if (reply) api_send_error(reply, 500, 50001, CT, "out of memory");
        return;
    }
    if (reply) cw->reply = *reply;
    cw->silent = reply == NULL;
    cw->api = api;
    api_hold(api);
    if (n == 0) {
        committed(cw, EDDY_OK);
        return;
    }
    int rc = log_group_commit_offsets(api->log, c->group, offs, n, committed, cw, &err);
    if (rc != EDDY_OK) {
        if (reply) api_send_error(reply, 422, 422, CT, "cannot commit: %s", err.msg);
        api_unhold(api);
        eddy_free(cw);
    }
}

static void h_commit(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    json_doc_t d;
    json_doc_init(&d);
    cpos_t *parts = eddy_calloc(MAX_POS, sizeof *parts);
    log_group_offset_t *offs = eddy_calloc(MAX_POS, sizeof *offs);
    if (!parts || !offs) {
        api_send_error(reply, 500, 50001, CT, "out of memory");
        goto out;
    }
    int n;
    if (req->body_len == 0) {
        n = -2; /* everything read so far */
    } else {
        if (api_body_json(req, reply, &d, API_STYLE_KAFKA) != EDDY_OK) goto out;
        int64_t oi = d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, "offsets", 7) : -1;
        n = oi < 0 || d.nodes[oi].type == JSON_NULL ? -2 : parse_partitions(&d, oi, parts, MAX_POS);
        if (n == -1 || (n > 0 && parts[0].position < 0)) {
            api_send_error(reply, 422, 422, CT, "the body needs {\"offsets\": [{\"topic\": t, \"partition\": p, \"offset\": o}, ...]}");
            goto out;
        }
    }
    pthread_mutex_lock(&c->mu);
    if (n == -2) { /* the positions: the next record to read */
        n = c->npos;
        for (int i = 0; i < n; i++) offs[i] = (log_group_offset_t){c->pos[i].topic, c->pos[i].partition, c->pos[i].position, -1, NULL, 0};
    } else { /* Confluent commits the given offset + 1 (the record after the last one processed) */
        for (int i = 0; i < n; i++) offs[i] = (log_group_offset_t){parts[i].topic, parts[i].partition, parts[i].position + 1, -1, NULL, 0};
    }
    commit(api, c, offs, (size_t)n, reply);
    pthread_mutex_unlock(&c->mu);
out:
    eddy_free(parts);
    eddy_free(offs);
    json_doc_free(&d);
    consumer_release(c);
}

static void h_committed(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    json_doc_t d;
    json_doc_init(&d);
    cpos_t *parts = eddy_calloc(MAX_POS, sizeof *parts);
    int n = -1;
    if (parts && req->body_len && api_body_json(req, reply, &d, API_STYLE_KAFKA) != EDDY_OK) goto out;
    if (parts && req->body_len)
        n = parse_partitions(&d, d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, "partitions", 10) : -1, parts, MAX_POS);
    if (n < 0) {
        api_send_error(reply, 422, 422, CT, "the body needs {\"partitions\": [{\"topic\": t, \"partition\": p}, ...]}");
        goto out;
    }
    wr_t w;
    wr_init(&w, 256);
    wr_str(&w, "{\"offsets\":[");
    bool first = true;
    for (int i = 0; i < n; i++) {
        log_group_offset_t *offs = NULL;
        size_t no = 0;
        if (log_group_fetch_offsets(api->log, c->group, parts[i].topic, &offs, &no) != EDDY_OK) continue;
        for (size_t k = 0; k < no; k++) {
            if (offs[k].partition != parts[i].partition) continue;
            if (!first) wr_u8(&w, ',');
            first = false;
            wr_str(&w, "{\"topic\":");
            json_write_string(&w, offs[k].topic, strlen(offs[k].topic));
            wr_fmt(&w, ",\"partition\":%d,\"offset\":%lld,\"metadata\":", offs[k].partition, (long long)offs[k].offset);
            const char *md = offs[k].metadata ? offs[k].metadata : "";
            json_write_string(&w, md, strlen(md));
            wr_u8(&w, '}');
        }
        eddy_free(offs);
    }
    wr_str(&w, "]}");
    api_send(reply, 200, CT, &w);
    wr_free(&w);
out:
    eddy_free(parts);
    json_doc_free(&d);
    consumer_release(c);
}

/* ---- records --------------------------------------------------------------------------------- */

/* A key or value in the instance's format. */
static void write_data(api_t *api, wr_t *w, int fmt, const uint8_t *p, int32_t len) {
    if (!p || len < 0) {
        wr_str(w, "null");
        return;
    }
    if (fmt == CFMT_BINARY) {
        wr_u8(w, '"');
        api_base64_encode(w, p, (size_t)len);
        wr_u8(w, '"');
        return;
    }
    if (fmt == CFMT_JSON) {
        json_doc_t d;
        json_doc_init(&d);
        bool ok = json_parse(&d, (const char *)p, (size_t)len) == EDDY_OK;
        json_doc_free(&d);
        /* Not JSON (a producer wrote other bytes): given as a string rather than failing the read. */
        if (ok) wr_bytes(w, p, (size_t)len);
        else json_write_string(w, (const char *)p, (size_t)len);
        return;
    }
    rd_t r = rd_init(p, (size_t)len);
    uint32_t id;
    const api_avro_schema_t *s = NULL;
    size_t mark = w->len;
    char err[256];
    if (api_avro_wire_parse(&r, &id) == EDDY_OK && (s = api_registry_schema(api->reg, id)) &&
        api_avro_decode_json(s, &r, w, err, sizeof err) == EDDY_OK)
        return;
    w->len = mark; /* not Avro of a known schema */
    wr_str(w, "null");
}

/* Reads up to max_bytes of records from c's partitions into w (a JSON array's items); returns
 * the number of records. Positions advance past what is returned. Called with c->mu held. */
static int read_records(api_t *api, consumer_t *c, int fmt, size_t max_bytes, wr_t *w) {
    int count = 0;
    log_iter_t *it = log_iter_new(0);
    wr_t buf;
    wr_init(&buf, 64 * 1024);
    size_t start = w->len;
    for (int k = 0; it && k < c->npos && w->len - start < max_bytes; k++) {
        cpos_t *cp = &c->pos[k];
        log_partition_t *lp = NULL;
        log_err_t err;
        if (log_partition_open(api->log, cp->topic, cp->partition, 0, &lp, &err) != EDDY_OK) continue;
        log_read_t info;
        wr_reset(&buf);
        int rc = log_read_into(lp, cp->position, max_bytes, &buf, &info, &err);
        if (rc == EDDY_ERR_RANGE) { /* retention moved past us: start again where the data is */
            log_partition_state_t st;
            if (log_partition_state(lp, &st) == EDDY_OK)
                cp->position = cp->position < st.log_start_offset ? st.log_start_offset : st.high_watermark;
            rc = log_read_into(lp, cp->position, max_bytes, &buf, &info, &err);
        }
        log_partition_release(lp);
        if (rc != EDDY_OK || buf.len == 0) continue;
        log_iter_reset(it, buf.buf, buf.len, false);
        log_batch_header_t h;
        while (log_iter_next_batch(it, &h, &err) == 1) {
            log_record_view_t rec;
            while (log_iter_next_record(it, &rec, &err) == 1) {
                if (rec.offset < cp->position) continue;
                if (count) wr_u8(w, ',');
                wr_str(w, "{\"topic\":");
                json_write_string(w, cp->topic, strlen(cp->topic));
                wr_str(w, ",\"key\":");
                write_data(api, w, fmt, rec.key, rec.key_len);
                wr_str(w, ",\"value\":");
                write_data(api, w, fmt, rec.value, rec.value_len);
                wr_fmt(w, ",\"partition\":%d,\"offset\":%lld}", cp->partition, (long long)rec.offset);
                cp->position = rec.offset + 1;
                count++;
            }
            if (w->len - start >= max_bytes) break;
        }
    }
    wr_free(&buf);
    log_iter_free(it);
    return count;
}

/* A read waiting for data: woken by a log watch or its deadline, whichever comes first.
 * state bit 0: fired; bit 1: set up. The finishing job is posted once both are set. refs: the
 * setup, the timer and each registered watch hold one; the finishing job takes one. */
typedef struct read_wait {
    struct read_wait *next, *prev; /* the proxy's list of waiting reads */
    bool listed;
    api_t *api;
    consumer_t *c;
    api_responder_t reply;
    int fmt;
    size_t max_bytes;
    atomic_int state;
    atomic_int refs;
    atomic_int timer_fired;
    log_partition_t *parts[MAX_POS];
    uint64_t watches[MAX_POS];
    int nwatch;
    uint64_t timer;
} read_wait_t;

static void read_wait_unlist(read_wait_t *rw) {
    api_proxy_t *px = rw->api->proxy;
    pthread_mutex_lock(&px->mu);
    if (rw->listed) {
        if (rw->prev) rw->prev->next = rw->next;
        else px->waits = rw->next;
        if (rw->next) rw->next->prev = rw->prev;
        rw->listed = false;
    }
    pthread_mutex_unlock(&px->mu);
}

static void read_wait_release(read_wait_t *rw) {
    if (atomic_fetch_sub(&rw->refs, 1) != 1) return;
    read_wait_unlist(rw);
    api_t *api = rw->api;
    consumer_release(rw->c);
    eddy_free(rw);
    api_unhold(api);
}

static void answer_records(api_t *api, consumer_t *c, int fmt, size_t max_bytes, const api_responder_t *reply) {
    wr_t w;
    wr_init(&w, 1024);
    wr_u8(&w, '[');
    pthread_mutex_lock(&c->mu);
    int n = c->deleted ? 0 : read_records(api, c, fmt, max_bytes, &w);
    log_group_offset_t offs[MAX_POS];
    int no = 0;
    if (n > 0 && c->auto_commit)
        for (int i = 0; i < c->npos; i++) offs[no++] = (log_group_offset_t){c->pos[i].topic, c->pos[i].partition, c->pos[i].position, -1, NULL, 0};
    if (no) commit(api, c, offs, (size_t)no, NULL);
    pthread_mutex_unlock(&c->mu);
    wr_u8(&w, ']');
    api_send(reply, 200, cfmt_types[fmt], &w);
    wr_free(&w);
    api_metrics_count(api, API_METRIC_PROXY_CONSUMED, (uint64_t)n);
}

/* On a worker: stop the other wake-ups, then read whatever is there and answer. */
static void read_wait_finish(void *arg) {
    read_wait_t *rw = arg;
    for (int i = 0; i < rw->nwatch; i++) {
        if (rw->watches[i] && log_watch_cancel(rw->parts[i], rw->watches[i])) read_wait_release(rw);
        log_partition_release(rw->parts[i]);
    }
    if (rw->timer && !atomic_load(&rw->timer_fired) && api_timer_cancel(rw->api->work, rw->timer)) read_wait_release(rw);
    answer_records(rw->api, rw->c, rw->fmt, rw->max_bytes, &rw->reply);
    read_wait_release(rw);
}

static void read_wait_post(read_wait_t *rw) {
    atomic_fetch_add(&rw->refs, 1);
    if (api_work_post(rw->api->work, read_wait_finish, rw) != EDDY_OK) {
        /* Shutting down: answer with nothing rather than never. */
        rw->reply.send(rw->reply.ctx, 200, cfmt_types[rw->fmt], "[]", 2);
        read_wait_release(rw);
    }
}

static void read_wait_fire(read_wait_t *rw) {
    int prev = atomic_fetch_or(&rw->state, 1);
    if (!(prev & 1) && (prev & 2)) read_wait_post(rw);
}

static void read_wait_data(void *arg, int status, int64_t hw) {
    read_wait_t *rw = arg;
    read_wait_fire(rw);
    read_wait_release(rw);
}

static void read_wait_deadline(void *arg) {
    read_wait_t *rw = arg;
    atomic_store(&rw->timer_fired, 1);
    read_wait_fire(rw);
    read_wait_release(rw);
}

static void h_records(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    consumer_t *c = consumer_get(api, p->v[0], p->v[1], reply);
    if (!c) return;
    int fmt = c->fmt;
    if (!api_accepts(req, cfmt_types[fmt])) {
        api_send_error(reply, 406, 40601, CT, "The requested embedded data format does not match the deserializer for this consumer instance");
        consumer_release(c);
        return;
    }
    char v[32];
    int64_t timeout = c->request_timeout_ms, max_bytes = 64 << 20;
    if (api_query_get(req, "timeout", v, sizeof v)) timeout = strtoll(v, NULL, 10);
    if (api_query_get(req, "max_bytes", v, sizeof v)) max_bytes = strtoll(v, NULL, 10);
    if (timeout < 0) timeout = 0;
    if (timeout > 300000) timeout = 300000;
    if (max_bytes <= 0) max_bytes = 64 << 20;
    pthread_mutex_lock(&c->mu);
    refresh_assignment(api, c);
    bool ready = false;
    for (int k = 0; k < c->npos && !ready; k++) {
        log_partition_t *lp = NULL;
        log_err_t err;
        log_partition_state_t st;
        if (log_partition_open(api->log, c->pos[k].topic, c->pos[k].partition, 0, &lp, &err) != EDDY_OK) continue;
        ready = log_partition_state(lp, &st) == EDDY_OK && st.high_watermark > c->pos[k].position;
        log_partition_release(lp);
    }
    read_wait_t *rw = eddy_calloc(1, sizeof *rw);
    if (!rw) {
        pthread_mutex_unlock(&c->mu);
        api_send_error(reply, 500, 50001, CT, "out of memory");
        consumer_release(c);
        return;
    }
    if (ready || timeout == 0 || c->npos == 0) {
        /* Reading (up to max_bytes from the segment files) runs on a worker, not on a loop. */
        pthread_mutex_unlock(&c->mu);
        *rw = (read_wait_t){.api = api, .c = c, .reply = *reply, .fmt = fmt, .max_bytes = (size_t)max_bytes};
        atomic_init(&rw->refs, 0);
        atomic_init(&rw->state, 3);
        api_hold(api); /* released with the last reference */
        read_wait_post(rw);
        return;
    }
    rw->api = api;
    rw->c = c; /* takes our reference */
    rw->reply = *reply;
    rw->fmt = fmt;
    rw->max_bytes = (size_t)max_bytes;
    atomic_init(&rw->refs, 1);
    api_hold(api); /* released with the last reference */
    bool immediate = false;
    /* Listed, so that a shutdown can answer it early. */
    pthread_mutex_lock(&api->proxy->mu);
    if (api->proxy->stopping) immediate = true;
    rw->next = api->proxy->waits;
    if (rw->next) rw->next->prev = rw;
    api->proxy->waits = rw;
    rw->listed = true;
    pthread_mutex_unlock(&api->proxy->mu);
    for (int k = 0; k < c->npos; k++) {
        log_err_t err;
        uint64_t id = 0;
        if (log_partition_open(api->log, c->pos[k].topic, c->pos[k].partition, 0, &rw->parts[rw->nwatch], &err) != EDDY_OK)
            continue;
        int i = rw->nwatch++;
        atomic_fetch_add(&rw->refs, 1);
        if (log_watch_add(rw->parts[i], c->pos[k].position, read_wait_data, rw, &id) != EDDY_OK || id == 0) {
            atomic_fetch_sub(&rw->refs, 1); /* no watch registered: data is there already */
            immediate = true;
            id = 0;
        }
        rw->watches[i] = id;
    }
    pthread_mutex_unlock(&c->mu);
    atomic_fetch_add(&rw->refs, 1);
    rw->timer = immediate ? 0 : api_timer_start(api->work, timeout, read_wait_deadline, rw);
    if (!rw->timer) {
        atomic_fetch_sub(&rw->refs, 1);
        immediate = true;
    }
    int prev = atomic_fetch_or(&rw->state, 2);
    if (prev & 1) read_wait_post(rw);
    else if (immediate) read_wait_fire(rw);
    read_wait_release(rw);
}

void api_proxy_stop(api_t *api) {
    api_proxy_t *px = api->proxy;
    for (;;) {
        pthread_mutex_lock(&px->mu);
        px->stopping = true;
        read_wait_t *rw = px->waits;
        /* fire the first one not fired yet; firing posts its finish (which unlists it) */
        while (rw && (atomic_load(&rw->state) & 1)) rw = rw->next;
        if (rw) atomic_fetch_add(&rw->refs, 1);
        pthread_mutex_unlock(&px->mu);
        if (!rw) return;
        read_wait_fire(rw);
        read_wait_release(rw);
    }
}

static const api_route_t consumer_routes[] = {
    {API_POST, "/consumers/{}", h_create},
    {API_DELETE, "/consumers/{}/instances/{}", h_delete},
    {API_POST, "/consumers/{}/instances/{}/subscription", h_subscribe},
    {API_GET, "/consumers/{}/instances/{}/subscription", h_subscription},
    {API_DELETE, "/consumers/{}/instances/{}/subscription", h_unsubscribe},
    {API_POST, "/consumers/{}/instances/{}/assignments", h_assign},
    {API_GET, "/consumers/{}/instances/{}/assignments", h_assignments},
    {API_POST, "/consumers/{}/instances/{}/positions", h_seek},
    {API_POST, "/consumers/{}/instances/{}/positions/beginning", h_seek_begin},
    {API_POST, "/consumers/{}/instances/{}/positions/end", h_seek_end},
    {API_GET, "/consumers/{}/instances/{}/records", h_records},
    {API_POST, "/consumers/{}/instances/{}/offsets", h_commit},
    {API_GET, "/consumers/{}/instances/{}/offsets", h_committed},
};

void api_consumer_http(api_t *api, const api_request_t *req, const api_responder_t *reply) {
    api_dispatch(api, consumer_routes, EDDY_ARRAY_LEN(consumer_routes), req, reply, API_STYLE_KAFKA);
}
