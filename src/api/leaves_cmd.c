/* The Leaves API's write side (CQRS): commands become events on topic `leaves` (key = id,
 * value = the leaf's complete new state, null = deleted); demo.leaves is their projection.
 *
 * Commands on one leaf are serialized: each id has a queue, and a command starts only when the
 * previous one of that id has finished, which includes its event being applied to the table (or,
 * after a timeout, the next command first waits for that event again). A command then reads the
 * current row (rows written straight through CQL included), computes the new state, appends it,
 * waits until the projection has applied it (read-your-writes) and answers. Commands on
 * different ids run in parallel on the api's workers.
 *
 * Steps and threads: start and compute on the submitting thread (an HTTP loop, or the enrichment
 * worker) when the id is idle, else on an api worker once the previous command has finished ->
 * [wait for a pending event (engine thread) -> compute on a worker] -> append (the log writes into
 * the page cache under no lock; its fsync runs on a sync thread) -> durable (log sync thread) ->
 * applied (engine thread) -> finish on that thread: answer, hand the id's next command to a worker.
 * Every hop between threads is a wake-up on a shared machine, so a POST makes only the three it
 * cannot avoid (loop -> fsync -> pipelines -> loop). finish is short and never appends to the log,
 * so it may run in the log's and the engine's callbacks; compute appends, so it never runs there. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"

#define IDQ_BUCKETS 4096

typedef struct idq {
    struct idq *next;      /* hash chain */
    api_cmd_t *head, *tail;
    bool busy;
    int64_t pending;       /* an appended event of this id not known to be applied, or -1 */
    char id[];
} idq_t;

struct api_leaves {
    api_t *api;
    api_leaves_backend_t backend;
    log_partition_t *part; /* leaves/0 */
    pthread_mutex_t mu;
    idq_t *buckets[IDQ_BUCKETS];
    api_enrich_t *enrich;
    atomic_bool stopping;
};

static void cmd_step_start(void *arg);
static void cmd_finish(api_cmd_t *c);

/* ---- lifecycle --------------------------------------------------------------------------------- */

int api_leaves_new(api_t *api, api_leaves_t **out, char *errstr, size_t errlen) {
    api_leaves_t *lv = eddy_calloc(1, sizeof *lv);
    if (!lv) return EDDY_ERR_NOMEM;
    lv->api = api;
    pthread_mutex_init(&lv->mu, NULL);
    log_err_t err;
    int rc = log_partition_open(api->log, API_LEAVES_TOPIC, 0, 0, &lv->part, &err);
    if (rc) {
        rc = eddy_err(errstr, errlen, rc, "cannot open topic %s: %s", API_LEAVES_TOPIC, err.msg);
        goto fail;
    }
    rc = api_leaves_backend_open(api, &lv->backend, errstr, errlen);
    if (rc) goto fail;
    if (api->cfg.enrich && (rc = api_enrich_new(lv, &lv->enrich, errstr, errlen))) goto fail;
    *out = lv;
    return EDDY_OK;
fail:
    api_leaves_free(lv);
    return rc;
}

void api_leaves_stop(api_leaves_t *lv) {
    if (!lv) return;
    atomic_store(&lv->stopping, true);
    api_enrich_free(lv->enrich); /* its fetches end; no more commands from it */
    lv->enrich = NULL;
}

void api_leaves_free(api_leaves_t *lv) {
    if (!lv) return;
    api_enrich_free(lv->enrich);
    if (lv->backend.close) lv->backend.close(lv->backend.ctx);
    if (lv->part) log_partition_release(lv->part);
    for (int b = 0; b < IDQ_BUCKETS; b++)
        while (lv->buckets[b]) {
            idq_t *q = lv->buckets[b];
            lv->buckets[b] = q->next;
            eddy_free(q);
        }
    pthread_mutex_destroy(&lv->mu);
    eddy_free(lv);
}

api_leaves_backend_t *api_leaves_backend(api_leaves_t *lv) { return &lv->backend; }
api_t *api_leaves_api(api_leaves_t *lv) { return lv->api; }

/* ---- commands ---------------------------------------------------------------------------------- */

api_cmd_t *api_cmd_new(api_leaves_t *lv, api_cmd_kind_t kind, const char *id, const api_responder_t *reply) {
    size_t n = strlen(id);
    if (n == 0 || n > API_LEAF_ID_MAX) return NULL;
    api_cmd_t *c = eddy_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->lv = lv;
    c->kind = kind;
    memcpy(c->id, id, n + 1);
    if (reply) c->reply = *reply;
    c->has_reply = reply != NULL;
    c->offset = -1;
    c->start_ns = time_mono_ns();
    wr_init(&c->body, 2048); /* most answers are a whole leaf */
    return c;
}

void api_cmd_free(api_cmd_t *c) {
    if (!c) return;
    api_leaf_free(c->input);
    api_leaf_free(c->result);
    for (uint32_t i = 0; i < c->ntags; i++) eddy_free(c->tags[i]);
    eddy_free(c->tags);
    eddy_free(c->enrich_url);
    wr_free(&c->body);
    eddy_free(c);
}

static uint32_t idq_hash(const char *id) { return (uint32_t)(hash64(id, strlen(id)) % IDQ_BUCKETS); }

static idq_t *idq_find(api_leaves_t *lv, const char *id, bool create) {
    idq_t **pp = &lv->buckets[idq_hash(id)];
    for (idq_t *q = *pp; q; q = q->next)
        if (!strcmp(q->id, id)) return q;
    if (!create) return NULL;
    size_t n = strlen(id);
    idq_t *q = eddy_calloc(1, sizeof *q + n + 1);
    if (!q) return NULL;
    memcpy(q->id, id, n + 1);
    q->pending = -1;
    q->next = *pp;
    *pp = q;
    return q;
}

static void idq_remove_if_idle(api_leaves_t *lv, idq_t *q) {
    if (q->busy || q->head || q->pending >= 0) return;
    for (idq_t **pp = &lv->buckets[idq_hash(q->id)]; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            eddy_free(q);
            return;
        }
}

static void cmd_answer_error(api_cmd_t *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cmd_answer_error(api_cmd_t *c, int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->status = status;
    c->body_is_state = false;
    wr_reset(&c->body);
    wr_str(&c->body, "{\"message\":");
    json_write_string(&c->body, msg, strlen(msg));
    wr_u8(&c->body, '}');
}

void api_cmd_submit(api_cmd_t *c) {
    api_leaves_t *lv = c->lv;
    api_hold(lv->api); /* released at the end of cmd_finish */
    if (atomic_load(&lv->stopping)) {
        api_unhold(lv->api);
        cmd_answer_error(c, 503, "eddy is shutting down");
        if (c->has_reply) api_send(&c->reply, c->status, API_CTYPE_JSON, &c->body);
        api_cmd_free(c);
        return;
    }
    pthread_mutex_lock(&lv->mu);
    idq_t *q = idq_find(lv, c->id, true);
    if (!q) {
        pthread_mutex_unlock(&lv->mu);
        cmd_answer_error(c, 500, "out of memory");
        if (c->has_reply) api_send(&c->reply, c->status, API_CTYPE_JSON, &c->body);
        api_cmd_free(c);
        api_unhold(lv->api);
        return;
    }
    if (q->tail) q->tail->next = c;
    else q->head = c;
    q->tail = c;
    bool start = !q->busy;
    if (start) {
        q->busy = true;
        q->head = c->next;
        if (!q->head) q->tail = NULL;
        c->next = NULL;
    }
    pthread_mutex_unlock(&lv->mu);
    if (start) cmd_step_start(c); /* reads a row and appends: neither blocks */
}

static void cmd_finish(api_cmd_t *c) {
    api_leaves_t *lv = c->lv;
    if (c->has_reply) api_send(&c->reply, c->status, API_CTYPE_JSON, &c->body);
    /* A created leaf (or a new url) is fetched once its event is in the table. */
    if (c->status < 300 && c->enrich_url && lv->enrich && !atomic_load(&lv->stopping))
        api_enrich_queue(lv->enrich, c->id, c->enrich_url);
    pthread_mutex_lock(&lv->mu);
    idq_t *q = idq_find(lv, c->id, false);
    api_cmd_t *next = NULL;
    if (q) {
        if (c->applied) q->pending = -1;
        else if (c->offset >= 0) q->pending = c->offset;
        next = q->head;
        if (next) {
            q->head = next->next;
            if (!q->head) q->tail = NULL;
            next->next = NULL;
        } else {
            q->busy = false;
            idq_remove_if_idle(lv, q);
        }
    }
    pthread_mutex_unlock(&lv->mu);
    api_cmd_free(c);
    api_t *api = lv->api;
    if (next && api_work_post(api->work, cmd_step_start, next) != EDDY_OK) {
        cmd_answer_error(next, 503, "eddy is shutting down");
        cmd_finish(next);
    }
    api_unhold(api);
}

static void cmd_applied(void *arg, int status) {
    api_cmd_t *c = arg;
    if (status == EDDY_OK) {
        c->applied = true;
    } else if (c->has_reply) {
        /* Durable in the log, not yet visible: say so rather than pretend. */
        cmd_answer_error(c, 504, "the command's event is stored (offset %lld) but was not applied to demo.leaves within %lld ms",
                         (long long)c->offset, (long long)c->lv->api->cfg.command_timeout_ms);
    }
    cmd_finish(c); /* on the engine's thread: answering is short, and the next command goes to a worker */
}

static void cmd_appended(void *arg, int status, const log_append_result_t *res) {
    api_cmd_t *c = arg;
    api_leaves_t *lv = c->lv;
    if (status != EDDY_OK) {
        cmd_answer_error(c, 500, "cannot store the event: %s", eddy_strerror(status));
        cmd_finish(c);
        return;
    }
    c->offset = res->base_offset;
    api_metrics_count(lv->api, API_METRIC_LEAF_COMMANDS, 1);
    if (!lv->backend.wait || lv->backend.wait(lv->backend.ctx, c->offset, lv->api->cfg.command_timeout_ms, cmd_applied, c) != EDDY_OK) {
        /* Nothing projects the topic: the event is durable, which is all we can say. */
        c->applied = true;
        cmd_finish(c);
    }
}

/* Reads the row, computes the new state, appends the event. */
static void cmd_step_compute(api_cmd_t *c) {
    api_leaves_t *lv = c->lv;
    api_leaf_t *current = api_leaf_new();
    char err[256] = "";
    if (!current) {
        cmd_answer_error(c, 500, "out of memory");
        cmd_finish(c);
        return;
    }
    /* A create replaces the leaf whatever it was (as processor.js does): no read needed. */
    int rc = c->kind == API_CMD_CREATE ? EDDY_ERR_NOT_FOUND
             : lv->backend.get         ? lv->backend.get(lv->backend.ctx, c->id, current, err, sizeof err)
                                       : EDDY_ERR_UNSUPPORTED;
    if (rc != EDDY_OK && rc != EDDY_ERR_NOT_FOUND) {
        cmd_answer_error(c, rc == EDDY_ERR_UNSUPPORTED ? 503 : 500, "cannot read demo.leaves: %s", err[0] ? err : eddy_strerror(rc));
        api_leaf_free(current);
        cmd_finish(c);
        return;
    }
    bool exists = rc == EDDY_OK;
    /* api_leaves_apply decides: the new state in c->result (NULL: delete), or an answer. */
    if (api_leaves_apply(c, exists ? current : NULL) != EDDY_OK) {
        api_leaf_free(current);
        cmd_finish(c);
        return;
    }
    api_leaf_free(current);
    if (c->noop) { /* nothing to write (an enrichment for a leaf that changed meanwhile) */
        c->applied = true;
        cmd_finish(c);
        return;
    }
    /* The event's value is the new state as JSON, which is the answer's body too when apply
     * wrote it (a create, a PATCH, a tag edit): encoded once. The log copies it into the batch
     * before any completion can run (and free c). */
    wr_t value = {0};
    const wr_t *ev = &c->body;
    if (c->result && !c->body_is_state) {
        wr_init(&value, 2048);
        api_leaf_write_json(&value, c->result);
        ev = &value;
    }
    if (!wr_ok(ev)) {
        wr_free(&value);
        cmd_answer_error(c, 500, "out of memory");
        cmd_finish(c);
        return;
    }
    log_record_t rec = {-1, c->id, (int32_t)strlen(c->id), c->result ? ev->buf : NULL, c->result ? (int32_t)ev->len : -1, NULL, 0};
    log_err_t lerr;
    rc = log_append_records(lv->part, &rec, 1, LOG_CODEC_NONE, cmd_appended, c, &lerr);
    wr_free(&value);
    if (rc != EDDY_OK) {
        cmd_answer_error(c, 500, "cannot append to topic %s: %s", API_LEAVES_TOPIC, lerr.msg);
        cmd_finish(c);
    }
}

static void cmd_compute_job(void *arg) { cmd_step_compute(arg); }

static void cmd_pending_applied(void *arg, int status) {
    api_cmd_t *c = arg;
    if (status != EDDY_OK) {
        cmd_answer_error(c, 504, "an earlier event of leaf %s is not applied to demo.leaves yet; try again", c->id);
        cmd_finish(c);
        return;
    }
    pthread_mutex_lock(&c->lv->mu);
    idq_t *q = idq_find(c->lv, c->id, false);
    if (q) q->pending = -1;
    pthread_mutex_unlock(&c->lv->mu);
    if (api_work_post(c->lv->api->work, cmd_compute_job, c) != EDDY_OK) {
        cmd_answer_error(c, 503, "eddy is shutting down");
        cmd_finish(c);
    }
}

/* First step (worker): an earlier event of this id still in flight is waited for. */
static void cmd_step_start(void *arg) {
    api_cmd_t *c = arg;
    api_leaves_t *lv = c->lv;
    pthread_mutex_lock(&lv->mu);
    idq_t *q = idq_find(lv, c->id, false);
    int64_t pending = q ? q->pending : -1;
    pthread_mutex_unlock(&lv->mu);
    if (pending >= 0 && lv->backend.wait &&
        lv->backend.wait(lv->backend.ctx, pending, lv->api->cfg.command_timeout_ms, cmd_pending_applied, c) == EDDY_OK)
        return;
    cmd_step_compute(c);
}
