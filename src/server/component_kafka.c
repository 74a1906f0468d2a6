/* The "kafka" component of `eddy up`: the Kafka-protocol broker on the log, on every
 * --kafka-listen address, advertising --kafka-advertise (or the bound address). */
#include "kafka/kafka.h"
#include "server/server_int.h"

int server_kafka_start(server_t *srv, char *errstr, size_t errlen) {
    kafka_broker_opts_t o;
    kafka_broker_opts_init(&o);
    o.listen = srv->cfg.kafka_listen.items;
    o.nlisten = (size_t)srv->cfg.kafka_listen.count;
    o.advertise = srv->cfg.kafka_advertise;
    o.auto_create_topics = srv->cfg.auto_create_topics;
    o.default_partitions = (int32_t)srv->cfg.default_partitions;
    o.queued_max_request_bytes = srv->cfg.kafka_queued_max_request_bytes;
    o.fetch_max_bytes = srv->cfg.kafka_fetch_max_bytes;
    o.metrics = srv->metrics; /* net's counters for the listener and the broker's own */
    return kafka_broker_start(srv->log, &o, &srv->kafka, errstr, errlen);
}

void server_kafka_stop(server_t *srv) {
    kafka_broker_stop(srv->kafka);
    srv->kafka = NULL;
}
