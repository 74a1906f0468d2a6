/* Inside the server part: the running server and its component table. */
#ifndef EDDY_SERVER_INT_H
#define EDDY_SERVER_INT_H

#include <pthread.h>

#include "http/http.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "net/net.h"
#include "cql/cql.h"
#include "server/server.h"
#include "store/store.h"

typedef struct server {
    server_config_t cfg;
    int lock_fd;
    log_t *log;           /* the event log on DIR/log (component "log") */
    store_t *store;    /* DIR/store: the table store */
    struct engine *engine; /* the pipelines (component "engine") */
    struct api *api;       /* Leaves API, REST proxy, schema registry (component "api") */
    struct kafka_broker *kafka; /* the Kafka-protocol broker (component "kafka") */
    /* Made by the component "metrics" (started early): parts register their metrics in the
     * registry and add their routes to the HTTP server during their own start; the component
     * "http" (started last) binds --http-listen. */
    metrics_registry_t *metrics;
    http_server_t *http;
    cql_server_t *cql;    /* the CQL server on the store (component "cql") */
} server_t;

/* One part of `eddy up`: start returns EDDY_OK or an error with a message in errstr. */
typedef struct {
    const char *name;
    int (*start)(server_t *srv, char *errstr, size_t errlen);
    void (*stop)(server_t *srv);
} server_component_t;

/* Binds every address in listen on ns, starts its loop threads and prints one
 * `eddy: NAME listening on HOST:PORT` line per bound listener on stderr (port 0 shows the port
 * picked), and registers ns's counters in srv->metrics. Returns EDDY_OK or an error with a
 * message in errstr; ns stays the caller's. */
int server_net_start(server_t *srv, net_server_t *ns, const char *name, const flag_list_t *listen,
                     char *errstr, size_t errlen);

/* Prints `eddy: NAME listening on ADDR` on stderr, the line tests and scripts look for. */
void server_print_listening(const char *name, const char *addr);

int server_metrics_start(server_t *srv, char *errstr, size_t errlen);
void server_metrics_stop(server_t *srv);
int server_http_start(server_t *srv, char *errstr, size_t errlen);
void server_http_stop(server_t *srv);
int server_data_start(server_t *srv, char *errstr, size_t errlen);
void server_data_stop(server_t *srv);
int server_log_start(server_t *srv, char *errstr, size_t errlen);
void server_log_stop(server_t *srv);
int server_store_start(server_t *srv, char *errstr, size_t errlen);
void server_store_stop(server_t *srv);
int server_engine_start(server_t *srv, char *errstr, size_t errlen);
int server_api_start(server_t *srv, char *errstr, size_t errlen);
void server_api_stop(server_t *srv);
void server_engine_stop(server_t *srv);
int server_kafka_start(server_t *srv, char *errstr, size_t errlen);
void server_kafka_stop(server_t *srv);

int server_cql_start(server_t *srv, char *errstr, size_t errlen);
void server_cql_stop(server_t *srv);

#endif
