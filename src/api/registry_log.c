/* The schema registry on the event log: topic `_schemas` (one partition, compacted, kept
 * forever) holds Confluent's records; at start they are replayed into the registry, afterwards
 * every mutation appends its records and applies them once they are durable.
 *
 * Why the log and not the store: it is how Confluent keeps its registry (so a Kafka tool can read
 * the topic), one partition gives the single order that makes ids stable, and replay is the same
 * code path as recovery. */
#include <stdio.h>

#include "api/api_int.h"
#include "log/log.h"

#define SCHEMAS_TOPIC "_schemas"

typedef struct {
    void (*done)(void *arg, int status);
    void *arg;
} reglog_wait_t;

static void reglog_appended(void *arg, int status, const log_append_result_t *res) {
    reglog_wait_t *w = arg;
    w->done(w->arg, status);
    eddy_free(w);
}

static int reglog_append(void *ctx, const api_registry_record_t *recs, size_t n, void (*done)(void *, int), void *arg) {
    log_partition_t *p = ctx;
    log_record_t *lr = eddy_calloc(n, sizeof *lr);
    reglog_wait_t *w = eddy_malloc(sizeof *w);
    if (!lr || !w) {
        eddy_free(lr);
        eddy_free(w);
        return EDDY_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        lr[i] = (log_record_t){-1, recs[i].key, (int32_t)recs[i].key_len, recs[i].value,
                               recs[i].value ? (int32_t)recs[i].value_len : -1, NULL, 0};
    *w = (reglog_wait_t){done, arg};
    log_err_t err;
    int rc = log_append_records(p, lr, n, LOG_CODEC_NONE, reglog_appended, w, &err);
    eddy_free(lr);
    if (rc != EDDY_OK) {
        elog_error("api", "schema registry: cannot append to %s: %s", SCHEMAS_TOPIC, err.msg);
        eddy_free(w);
    }
    return rc;
}

/* Replays every durable record of the partition into reg. */
static int reglog_replay(log_partition_t *p, api_registry_t *reg, size_t *count, char *errstr, size_t errlen) {
    log_partition_state_t st;
    int rc = log_partition_state(p, &st);
    if (rc) return eddy_err(errstr, errlen, rc, "cannot read the state of %s", SCHEMAS_TOPIC);
    log_iter_t *it = log_iter_new(0);
    wr_t buf;
    wr_init(&buf, 64 * 1024);
    int64_t offset = st.log_start_offset;
    *count = 0;
    while (it && offset < st.high_watermark) {
        log_read_t info;
        log_err_t err;
        wr_reset(&buf);
        rc = log_read_into(p, offset, 1 << 20, &buf, &info, &err);
        if (rc) {
            rc = eddy_err(errstr, errlen, rc, "cannot read %s at offset %lld: %s", SCHEMAS_TOPIC, (long long)offset, err.msg);
            break;
        }
        if (buf.len == 0) break;
        log_iter_reset(it, buf.buf, buf.len, true);
        log_batch_header_t h;
        int more;
        while ((more = log_iter_next_batch(it, &h, &err)) == 1) {
            log_record_view_t rec;
            int r;
            while ((r = log_iter_next_record(it, &rec, &err)) == 1) {
                if (rec.offset < offset || !rec.key) continue;
                char why[256];
                int arc = api_registry_apply_record(reg, rec.key, (size_t)rec.key_len, rec.value,
                                                    rec.value ? (size_t)rec.value_len : 0, rec.value == NULL, why, sizeof why);
                if (arc == EDDY_ERR_NOMEM) {
                    more = arc;
                    break;
                }
                if (arc != EDDY_OK) elog_warn("api", "schema registry: skipping %s offset %lld: %s", SCHEMAS_TOPIC, (long long)rec.offset, why);
                else (*count)++;
            }
            if (r < 0) {
                elog_warn("api", "schema registry: a corrupt batch in %s at %lld: %s", SCHEMAS_TOPIC, (long long)h.base_offset, err.msg);
            }
            if (more < 0) break;
        }
        if (more < 0) {
            rc = eddy_err(errstr, errlen, more, "cannot replay %s: %s", SCHEMAS_TOPIC, err.msg);
            break;
        }
        if (info.next_offset <= offset) break;
        offset = info.next_offset;
    }
    if (!it) rc = EDDY_ERR_NOMEM;
    wr_free(&buf);
    log_iter_free(it);
    return rc;
}

int api_registry_open(log_t *log, api_registry_t **out, log_partition_t **part, char *errstr, size_t errlen) {
    log_err_t err;
    log_topic_info_t info;
    if (log_topic_info(log, SCHEMAS_TOPIC, &info) != EDDY_OK) {
        log_config_entry_t cfg[] = {{"cleanup.policy", "compact"}, {"retention.ms", "-1"}};
        int rc = log_topic_create(log, SCHEMAS_TOPIC, 1, cfg, EDDY_ARRAY_LEN(cfg), false, &err);
        if (rc != EDDY_OK && rc != EDDY_ERR_EXISTS)
            return eddy_err(errstr, errlen, rc, "cannot create topic %s: %s", SCHEMAS_TOPIC, err.msg);
    }
    log_partition_t *p = NULL;
    int rc = log_partition_open(log, SCHEMAS_TOPIC, 0, 0, &p, &err);
    if (rc) return eddy_err(errstr, errlen, rc, "cannot open topic %s: %s", SCHEMAS_TOPIC, err.msg);
    api_registry_store_t store = {reglog_append, p};
    api_registry_t *reg = api_registry_new(&store);
    if (!reg) {
        log_partition_release(p);
        return EDDY_ERR_NOMEM;
    }
    size_t n = 0;
    rc = reglog_replay(p, reg, &n, errstr, errlen);
    if (rc) {
        api_registry_free(reg);
        log_partition_release(p);
        return rc;
    }
    elog_debug("api", "schema registry: %zu records replayed from %s", n, SCHEMAS_TOPIC);
    *out = reg;
    *part = p;
    return EDDY_OK;
}
