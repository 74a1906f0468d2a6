/* log_bench: appends to eddy's log as a Kafka broker's Produce path does, to measure group
 * commit. Each appender thread sends RecordBatch v2 batches shaped as librdkafka sends them
 * (magic 2, uncompressed, null keys, VALUE-byte values, CreateTime, no producer id) with up to
 * INFLIGHT appends outstanding (librdkafka's max.in.flight), and records the latency from
 * append to acknowledgement (durable, in group mode).
 *
 *   log_bench --dir DIR [--threads 4] [--partitions 4] [--records 100] [--value 100]
 *             [--inflight 5] [--seconds 10] [--fsync group|interval:MS|none]
 *
 * Prints one line of key=value results: records/s, MB/s of batch bytes, appends/s, fsyncs/s,
 * ack latency p50/p99 in ms. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "log/log.h"

typedef struct {
    log_partition_t *p;
    int inflight;
    int records;
    int value;
    int64_t deadline_ns;
    sem_t slots;
    pthread_mutex_t mu;
    hist_t lat;           /* µs, merged at the end */
    uint64_t acked_records, acked_appends, failed;
    int64_t last_ack_ns;
} appender_t;

typedef struct {
    appender_t *a;
    int64_t start_ns;
} pending_t;

static void on_ack(void *arg, int status, const log_append_result_t *res) {
    pending_t *pd = arg;
    appender_t *a = pd->a;
    int64_t now = time_mono_ns();
    pthread_mutex_lock(&a->mu);
    if (status == EDDY_OK) {
        a->acked_records += (uint64_t)(res->last_offset - res->base_offset + 1);
        a->acked_appends++;
        hist_record(&a->lat, (uint64_t)((now - pd->start_ns) / 1000));
    } else {
        a->failed++;
    }
    a->last_ack_ns = now;
    pthread_mutex_unlock(&a->mu);
    eddy_free(pd);
    sem_post(&a->slots);
}

static void *appender_main(void *arg) {
    appender_t *a = arg;
    char *value = eddy_malloc((size_t)a->value);
    memset(value, 'x', (size_t)a->value);
    log_record_t *recs = eddy_calloc((size_t)a->records, sizeof *recs);
    int64_t now = time_now_ms();
    for (int i = 0; i < a->records; i++) recs[i] = (log_record_t){now, NULL, -1, value, a->value, NULL, 0};
    log_batch_opts_t o;
    log_batch_opts_init(&o);
    wr_t batch;
    wr_init(&batch, 0);
    if (log_batch_encode(&batch, recs, (size_t)a->records, &o, NULL) != EDDY_OK) abort();
    /* log_append rewrites the base offset in place and keeps no pointer after returning, so the
     * same bytes can be sent again as soon as it returns. */
    while (time_mono_ns() < a->deadline_ns) {
        sem_wait(&a->slots);
        pending_t *pd = eddy_malloc(sizeof *pd);
        pd->a = a;
        pd->start_ns = time_mono_ns();
        log_err_t e;
        if (log_append(a->p, batch.buf, batch.len, on_ack, pd, &e) != EDDY_OK) {
            fprintf(stderr, "log_bench: append failed: %s\n", e.msg);
            eddy_free(pd);
            sem_post(&a->slots);
            break;
        }
    }
    for (int i = 0; i < a->inflight; i++) sem_wait(&a->slots);
    wr_free(&batch);
    eddy_free(recs);
    eddy_free(value);
    return NULL;
}

int main(int argc, char **argv) {
    const char *dir = NULL, *fsync = "group";
    int64_t threads = 4, partitions = 4, records = 100, value = 100, inflight = 5, seconds = 10;
    flag_t flags[] = {
        {"dir", 0, FLAG_STRING, &dir, "DIR", "log directory (created; must be empty)"},
        {"threads", 0, FLAG_INT, &threads, "N", "appender threads"},
        {"partitions", 0, FLAG_INT, &partitions, "N", "partitions (threads spread over them)"},
        {"records", 0, FLAG_INT, &records, "N", "records per batch"},
        {"value", 0, FLAG_INT, &value, "BYTES", "record value size"},
        {"inflight", 0, FLAG_INT, &inflight, "N", "appends in flight per thread"},
        {"seconds", 0, FLAG_INT, &seconds, "S", "how long to append"},
        {"fsync", 0, FLAG_STRING, &fsync, "MODE", "group, interval:MS or none"},
    };
    int index = 1;
    char err[256];
    if (flags_parse(flags, EDDY_ARRAY_LEN(flags), argc, argv, &index, err, sizeof err) != EDDY_OK || !dir ||
        threads < 1 || partitions < 1 || records < 1 || inflight < 1) {
        fprintf(stderr, "log_bench: %s\n", dir ? err : "--dir is required");
        flags_print_help(flags, EDDY_ARRAY_LEN(flags), stderr);
        return 2;
    }
    elog_set_level(ELOG_LEVEL_WARN);
    log_options_t o;
    log_options_init(&o);
    if (log_options_parse_fsync(&o, fsync, err, sizeof err) != EDDY_OK) {
        fprintf(stderr, "log_bench: %s\n", err);
        return 2;
    }
    log_t *log;
    log_err_t e;
    if (log_open(dir, &o, &log, &e) != EDDY_OK) {
        fprintf(stderr, "log_bench: %s\n", e.msg);
        return 1;
    }
    if (log_topic_create(log, "bench", (int32_t)partitions, NULL, 0, false, &e) != EDDY_OK &&
        e.reason != LOG_ERR_TOPIC_EXISTS) {
        fprintf(stderr, "log_bench: %s\n", e.msg);
        return 1;
    }
    appender_t *as = eddy_calloc((size_t)threads, sizeof *as);
    pthread_t *th = eddy_calloc((size_t)threads, sizeof *th);
    log_stats_t s0, s1;
    log_stats_get(log, &s0);
    int64_t t0 = time_mono_ns();
    for (int64_t i = 0; i < threads; i++) {
        appender_t *a = &as[i];
        if (log_partition_open(log, "bench", (int32_t)(i % partitions), 0, &a->p, &e) != EDDY_OK) return 1;
        a->inflight = (int)inflight;
        a->records = (int)records;
        a->value = (int)value;
        a->deadline_ns = t0 + seconds * 1000000000LL;
        sem_init(&a->slots, 0, (unsigned)inflight);
        pthread_mutex_init(&a->mu, NULL);
        hist_init(&a->lat);
        pthread_create(&th[i], NULL, appender_main, a);
    }
    hist_t lat;
    hist_init(&lat);
    uint64_t recs = 0, appends = 0, failed = 0;
    int64_t end = t0;
    for (int64_t i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        hist_merge(&lat, &as[i].lat);
        recs += as[i].acked_records;
        appends += as[i].acked_appends;
        failed += as[i].failed;
        if (as[i].last_ack_ns > end) end = as[i].last_ack_ns;
        log_partition_release(as[i].p);
    }
    log_stats_get(log, &s1);
    double secs = (double)(end - t0) / 1e9;
    double mb = (double)(s1.bytes - s0.bytes) / 1e6;
    printf("threads=%lld partitions=%lld records_per_batch=%lld batch_bytes=%.0f fsync=%s seconds=%.2f "
           "records_per_s=%.0f mb_per_s=%.1f appends_per_s=%.0f fsyncs_per_s=%.0f appends_per_fsync=%.1f "
           "ack_p50_ms=%.2f ack_p99_ms=%.2f failed=%llu\n",
           (long long)threads, (long long)partitions, (long long)records,
           appends ? (double)(s1.bytes - s0.bytes) / (double)appends : 0.0, fsync, secs, (double)recs / secs,
           mb / secs, (double)appends / secs, (double)(s1.fsyncs - s0.fsyncs) / secs,
           s1.fsyncs > s0.fsyncs ? (double)appends / (double)(s1.fsyncs - s0.fsyncs) : 0.0,
           (double)hist_quantile(&lat, 0.5) / 1000.0, (double)hist_quantile(&lat, 0.99) / 1000.0,
           (unsigned long long)failed);
    log_close(log);
    eddy_free(as);
    eddy_free(th);
    return failed ? 1 : 0;
}
