/* kafka: eddy's Kafka-protocol broker, the wire front of the log.
 *
 * One broker (node id 1) that leads every partition and coordinates every group, serving the
 * log over the Apache Kafka protocol on one or more listeners, so that kcat/librdkafka,
 * kafka-python, confluent-kafka and KafkaJS produce, consume and run consumer groups unchanged.
 * Produce is answered once the batches are durable (the log's group commit); Fetch serves stored
 * batches as they are, straight from the segment files (sendfile), long-polling on the log's
 * watches; group state and committed offsets live in the log's group storage.
 *
 * The wire codec, the API table and the group coordinator are internal (kafka_int.h). */
#ifndef EDDY_KAFKA_H
#define EDDY_KAFKA_H

#include "base/base.h"
#include "log/log.h"
#include "metrics/metrics.h"

typedef struct kafka_broker kafka_broker_t;

typedef struct {
    const char *const *listen;   /* HOST:PORT listeners (port 0: a free port) */
    size_t nlisten;
    const char *advertise;       /* HOST:PORT for Metadata and FindCoordinator, or NULL: the
                                    bound address of the listener's family */
    int threads;                 /* network loop threads (default 2) */
    bool auto_create_topics;     /* on Metadata and Produce (Kafka auto.create.topics.enable) */
    int32_t default_partitions;  /* of auto-created topics and CreateTopics with -1 */
    size_t max_request_bytes;    /* socket.request.max.bytes (default 100 MiB) */
    int32_t min_session_timeout_ms; /* group.min.session.timeout.ms (default 1000) */
    int64_t queued_max_request_bytes; /* queued.max.request.bytes: bytes of requests received
                                    and not yet answered, over every connection, before
                                    connections stop reading (default 100 MiB; -1 unlimited) */
    int64_t fetch_max_bytes;     /* the broker's cap on a Fetch answer's record bytes (Kafka's
                                    broker fetch.max.bytes; the first batch is sent whatever
                                    its size), over the client's own (default 4 MiB; -1 none) */
    metrics_registry_t *metrics; /* where the listener's net counters and the broker's metrics
                                    (requests and latency by API, bytes, queued request bytes)
                                    are registered, or NULL; its renders read the broker, so
                                    they must end before kafka_broker_stop */
} kafka_broker_opts_t;

/* Defaults: no listener (the caller lists them), 2 threads, auto-create on, 1 partition,
 * 100 MiB requests, 100 MiB of requests in flight, 4 MiB Fetch answers, 1 s minimum session
 * timeout, no metrics. */
void kafka_broker_opts_init(kafka_broker_opts_t *o);

/* Starts the broker on log (which must outlive it): loads the groups, binds every listener
 * (printing `eddy: kafka listening on HOST:PORT` for each) and starts serving. Returns EDDY_OK
 * with *out, or an error with a message in errstr. */
int kafka_broker_start(log_t *log, const kafka_broker_opts_t *opts, kafka_broker_t **out,
                       char *errstr, size_t errlen);

/* Stops accepting, answers what is pending (Produce completions, long-polls end early), closes
 * every connection and frees the broker. Call before closing the log. NULL is ignored. */
void kafka_broker_stop(kafka_broker_t *b);

#endif
