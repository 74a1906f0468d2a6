/* Produce latency at a steady rate: a librdkafka producer (acks=all, 100-byte records) sends
 * RATE records/s for SECONDS and records, for each record, the time from rd_kafka_produce to its
 * delivery report; prints p50/p99/max in ms. Run against eddy and the mock in the same run.
 *   kafka_latency BOOTSTRAP TOPIC RATE SECONDS */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

typedef struct {
    hist_t hist;
    uint64_t delivered, failed;
} stats_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    stats_t *st = opaque;
    (void)rk;
    if (m->err) {
        st->failed++;
        return;
    }
    int64_t sent = (int64_t)(intptr_t)m->_private;
    hist_record(&st->hist, (uint64_t)(time_mono_ns() - sent));
    st->delivered++;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: kafka_latency BOOTSTRAP TOPIC RATE SECONDS\n");
        return 2;
    }
    long rate = atol(argv[3]);
    double seconds = atof(argv[4]);
    stats_t st;
    memset(&st, 0, sizeof st);
    hist_init(&st.hist);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "1", err, sizeof err);
    rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_latency: %s\n", err);
        return 1;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, argv[2], NULL);
    char payload[100];
    memset(payload, 'x', sizeof payload);
    /* Warm up: metadata and connections, not measured. */
    rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload, sizeof payload, NULL, 0,
                     (void *)(intptr_t)time_mono_ns());
    rd_kafka_flush(rk, 10000);
    hist_init(&st.hist);
    st.delivered = 0;
    int64_t start = time_mono_ns(), total = (int64_t)(rate * seconds), sent = 0;
    while (sent < total) {
        int64_t due = (int64_t)((double)(time_mono_ns() - start) * (double)rate / 1e9);
        while (sent < due && sent < total) {
            if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload, sizeof payload, NULL, 0,
                                 (void *)(intptr_t)time_mono_ns()) != 0) {
                rd_kafka_poll(rk, 1);
                continue;
            }
            sent++;
        }
        rd_kafka_poll(rk, 0);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    rd_kafka_flush(rk, 30000);
    double elapsed = (double)(time_mono_ns() - start) / 1e9;
    printf("sent %lld delivered %llu failed %llu in %.2f s (%.0f rec/s) latency p50 %.2f ms p99 %.2f ms max %.2f ms\n",
           (long long)sent, (unsigned long long)st.delivered, (unsigned long long)st.failed, elapsed,
           (double)st.delivered / elapsed, hist_quantile(&st.hist, 0.5) / 1e6, hist_quantile(&st.hist, 0.99) / 1e6,
           (double)st.hist.max / 1e6);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return st.failed ? 1 : 0;
}
