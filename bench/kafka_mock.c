/* The librdkafka mock cluster (rd_kafka_mock_cluster_new, in-memory) as a standalone broker, the
 * peer that eddy's Kafka benchmark runs against, and a source of real client requests for the
 * codec's tests. Prints "mock: BOOTSTRAP" on stdout and serves until stdin closes or SIGTERM.
 *   kafka_mock [BROKERS [TOPIC PARTITIONS]...]   (default 1 broker; the topics are pre-created) */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int brokers = argc > 1 ? atoi(argv[1]) : 1;
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers > 0 ? brokers : 1);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (rd_kafka_mock_topic_create(mc, argv[i], atoi(argv[i + 1]), 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_mock: cannot create topic %s\n", argv[i]);
            return 1;
        }
    }
    printf("mock: %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    /* Serve until stdin closes (the parent is done) or a signal ends the process. */
    char c;
    while (read(0, &c, 1) > 0) {
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
