/* The embedded source: streams read from eddy's own log, in process. Records are read as whole
 * batches up to the high watermark (only durable data, so nothing a crash can take back is ever
 * derived), decoded with the log's iterator, and the pipeline thread sleeps on the log's watches
 * between records. A pipeline over a topic that does not exist yet creates it (one partition,
 * kept forever: a pipeline's source is its system of record). */
#include <stdio.h>

#include "engine/engine_int.h"
#include "log/log.h"

#define READ_MAX_BYTES (4u << 20)
#define MAX_HEADERS 64

typedef struct {
    char *topic;
    int32_t n;
    log_partition_t **parts;
} src_topic_t;

typedef struct {
    log_t *log;
    src_topic_t *topics;
    size_t ntopics;
    log_iter_t *iter;
    wr_t buf;
} logsrc_t;

typedef struct {
    log_partition_t *part;
    uint64_t id;
    void (*fn)(void *);
    void *arg;
} src_watch_t;

static src_topic_t *topic_get(logsrc_t *s, const char *topic, char *errstr, size_t errlen) {
    for (size_t i = 0; i < s->ntopics; i++)
        if (!strcmp(s->topics[i].topic, topic)) return &s->topics[i];
    log_topic_info_t info;
    log_err_t err = {0};
    if (log_topic_info(s->log, topic, &info) == EDDY_ERR_NOT_FOUND) {
        static const log_config_entry_t forever[] = {{"retention.ms", "-1"}};
        int rc = log_topic_create(s->log, topic, 1, forever, 1, false, &err);
        if (rc && rc != EDDY_ERR_EXISTS) {
            eddy_err(errstr, errlen, rc, "cannot create topic %s: %s", topic, err.msg);
            return NULL;
        }
        if (!rc) elog_info("engine", "created topic %s (1 partition) for a pipeline", topic);
    }
    if (log_topic_info(s->log, topic, &info) != EDDY_OK) {
        eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "unknown topic '%s'", topic);
        return NULL;
    }
    src_topic_t *ts = eddy_realloc(s->topics, (s->ntopics + 1) * sizeof *ts);
    if (!ts) return NULL;
    s->topics = ts;
    src_topic_t *t = &s->topics[s->ntopics];
    t->topic = eddy_strdup(topic);
    t->n = info.partitions;
    t->parts = eddy_calloc((size_t)info.partitions, sizeof *t->parts);
    if (!t->topic || !t->parts) {
        eddy_free(t->topic);
        eddy_free(t->parts);
        return NULL;
    }
    for (int32_t p = 0; p < t->n; p++)
        if (log_partition_open(s->log, topic, p, 0, &t->parts[p], &err) != EDDY_OK) {
            for (int32_t q = 0; q < p; q++) log_partition_release(t->parts[q]);
            eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "topic %s partition %d: %s", topic, (int)p, err.msg);
            eddy_free(t->topic);
            eddy_free(t->parts);
            return NULL;
        }
    s->ntopics++;
    return t;
}

static log_partition_t *part_get(logsrc_t *s, const char *topic, int32_t partition) {
    src_topic_t *t = topic_get(s, topic, NULL, 0);
    return t && partition >= 0 && partition < t->n ? t->parts[partition] : NULL;
}

static int ls_partitions(void *ctx, const char *topic, int32_t *count, char *errstr, size_t errlen) {
    src_topic_t *t = topic_get(ctx, topic, errstr, errlen);
    if (!t) return EDDY_ERR_NOT_FOUND;
    *count = t->n;
    return EDDY_OK;
}

static int ls_bounds(void *ctx, const char *topic, int32_t partition, int64_t *start, int64_t *hwm) {
    log_partition_t *p = part_get(ctx, topic, partition);
    if (!p) return EDDY_ERR_NOT_FOUND;
    log_partition_state_t st;
    int rc = log_partition_state(p, &st);
    if (rc) return rc;
    *start = st.log_start_offset;
    *hwm = st.high_watermark;
    return EDDY_OK;
}

static int ls_read(void *ctx, const char *topic, int32_t partition, int64_t offset, uint32_t max_records,
                   engine_record_fn fn, void *arg, int64_t *next, char *errstr, size_t errlen) {
    logsrc_t *s = ctx;
    log_partition_t *p = part_get(s, topic, partition);
    *next = offset;
    if (!p) return eddy_err(errstr, errlen, EDDY_ERR_NOT_FOUND, "unknown topic %s partition %d", topic, (int)partition);
    wr_reset(&s->buf);
    log_read_t info;
    log_err_t err = {0};
    int rc = log_read_into(p, offset, READ_MAX_BYTES, &s->buf, &info, &err);
    if (rc) return eddy_err(errstr, errlen, rc, "reading %s/%d at %lld: %s", topic, (int)partition, (long long)offset, err.msg);
    if (!s->buf.len) return EDDY_OK;
    log_iter_reset(s->iter, s->buf.buf, s->buf.len, false);
    log_batch_header_t h;
    log_record_view_t rec;
    eddy_view_t headers[2 * MAX_HEADERS];
    uint32_t count = 0;
    bool stopped = false;
    int r;
    while (!stopped && (r = log_iter_next_batch(s->iter, &h, &err)) == 1) {
        while ((r = log_iter_next_record(s->iter, &rec, &err)) == 1) {
            if (rec.offset < offset) continue;
            if (rec.offset >= info.high_watermark || count >= max_records) {
                stopped = true;
                break;
            }
            engine_record_t er = {0};
            er.key = eddy_view(rec.key, rec.key_len > 0 ? (size_t)rec.key_len : 0);
            er.key_null = rec.key_len < 0;
            er.value = eddy_view(rec.value, rec.value_len > 0 ? (size_t)rec.value_len : 0);
            er.value_null = rec.value_len < 0;
            er.topic = eddy_view_str(topic);
            er.partition = partition;
            er.offset = rec.offset;
            er.timestamp = rec.timestamp;
            eddy_view_t cur = rec.headers;
            log_header_t lh;
            while (er.nheaders < MAX_HEADERS && log_record_header_next(&cur, &lh) == 1) {
                headers[2 * er.nheaders] = eddy_view(lh.key, lh.key_len);
                headers[2 * er.nheaders + 1] = eddy_view(lh.value, lh.value_len > 0 ? (size_t)lh.value_len : 0);
                er.nheaders++;
            }
            er.headers = headers;
            count++;
            *next = rec.offset + 1;
            if ((rc = fn(arg, &er))) return rc;
        }
        if (r < 0) break;
    }
    if (r < 0)
        return eddy_err(errstr, errlen, EDDY_ERR_CORRUPT, "%s/%d at %lld: %s", topic, (int)partition, (long long)offset,
                        err.msg);
    /* Batches that held nothing to apply (all below offset) still move the position on. */
    if (!stopped && info.next_offset > *next && info.next_offset <= info.high_watermark) *next = info.next_offset;
    return EDDY_OK;
}

static void watch_cb(void *arg, int status, int64_t hw) {
    (void)status; (void)hw;
    src_watch_t *w = arg;
    w->fn(w->arg);
}

static int ls_watch(void *ctx, const char *topic, int32_t partition, int64_t offset, void (*fn)(void *), void *arg,
                    void **handle) {
    *handle = NULL;
    log_partition_t *p = part_get(ctx, topic, partition);
    if (!p) return EDDY_ERR_NOT_FOUND;
    src_watch_t *w = eddy_calloc(1, sizeof *w);
    if (!w) return EDDY_ERR_NOMEM;
    *w = (src_watch_t){p, 0, fn, arg};
    int rc = log_watch_add(p, offset, watch_cb, w, &w->id);
    if (rc || w->id == 0) {
        eddy_free(w);
        return rc;
    }
    *handle = w;
    return EDDY_OK;
}

static void ls_unwatch(void *ctx, void *handle) {
    (void)ctx;
    src_watch_t *w = handle;
    if (!w) return;
    log_watch_cancel(w->part, w->id);
    eddy_free(w);
}

static const engine_source_ops_t logsrc_ops = {ls_partitions, ls_bounds, ls_read, ls_watch, ls_unwatch};

int engine_logsrc_open(void *log, engine_source_t *out) {
    logsrc_t *s = eddy_calloc(1, sizeof *s);
    if (!s) return EDDY_ERR_NOMEM;
    s->log = log;
    s->iter = log_iter_new(0);
    wr_init(&s->buf, 1 << 16);
    if (!s->iter) {
        eddy_free(s);
        return EDDY_ERR_NOMEM;
    }
    *out = (engine_source_t){&logsrc_ops, s};
    return EDDY_OK;
}

void engine_logsrc_close(void *log, engine_source_t src) {
    (void)log;
    logsrc_t *s = src.ctx;
    if (!s) return;
    for (size_t i = 0; i < s->ntopics; i++) {
        for (int32_t p = 0; p < s->topics[i].n; p++) log_partition_release(s->topics[i].parts[p]);
        eddy_free(s->topics[i].parts);
        eddy_free(s->topics[i].topic);
    }
    eddy_free(s->topics);
    log_iter_free(s->iter);
    wr_free(&s->buf);
    eddy_free(s);
}
