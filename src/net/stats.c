/* net's figures in the metrics registry: one labelled series per server for every counter of
 * net_server_stats, read when /metrics is rendered (net keeps them anyway; nothing is added to
 * the hot path). */
#include "net/net_int.h"

#define STAT_FN(field)                                                                        \
    static double stat_##field(void *arg) {                                                   \
        return (double)atomic_load_explicit(&((net_server_t *)arg)->field, memory_order_relaxed); \
    }
STAT_FN(conns_open)
STAT_FN(conns_accepted)
STAT_FN(conns_refused)
STAT_FN(conns_closed_slow)
STAT_FN(bytes_in)
STAT_FN(bytes_out)
STAT_FN(read_pauses)

int net_server_metrics(net_server_t *srv, metrics_registry_t *reg) {
    const char *labels[] = {"server", srv->name, NULL};
    int rc = metrics_gauge_fn(reg, "eddy_net_connections", "Open connections, by server.", labels, stat_conns_open, srv);
    static const struct {
        const char *name, *help;
        metrics_value_fn fn;
    } counters[] = {
        {"eddy_net_connections_accepted_total", "Connections accepted, by server.", stat_conns_accepted},
        {"eddy_net_connections_refused_total", "Connections refused over the connection limit.", stat_conns_refused},
        {"eddy_net_connections_closed_slow_total", "Clients closed for not reading their answers.",
         stat_conns_closed_slow},
        {"eddy_net_received_bytes_total", "Bytes received, by server.", stat_bytes_in},
        {"eddy_net_sent_bytes_total", "Bytes sent, by server.", stat_bytes_out},
        {"eddy_net_read_pauses_total", "Times a connection stopped reading for backpressure.", stat_read_pauses},
    };
    for (size_t i = 0; i < EDDY_ARRAY_LEN(counters) && rc == EDDY_OK; i++)
        rc = metrics_counter_fn(reg, counters[i].name, counters[i].help, labels, counters[i].fn, srv);
    return rc;
}
