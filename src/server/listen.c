/* Listeners of `eddy up`: every protocol server (Kafka, CQL, HTTP) binds its --*-listen
 * addresses through here, so that each prints the same `eddy: NAME listening on HOST:PORT` line
 * that tests and scripts read to find a port-0 listener, and registers its net counters in the
 * metrics registry (eddy_net_*{server="NAME"}). */
#include <stdio.h>

#include "server/server_int.h"

int server_net_start(server_t *srv, net_server_t *ns, const char *name, const flag_list_t *listen,
                     char *errstr, size_t errlen) {
    int rc;
    for (int i = 0; i < listen->count; i++)
        if ((rc = net_server_listen(ns, listen->items[i], errstr, errlen)) != EDDY_OK) return rc;
    if ((rc = net_server_start(ns, errstr, errlen)) != EDDY_OK) return rc;
    /* Connection and byte counters in /metrics (read at render time; HTTP, which renders them,
     * stops before any other listener). */
    if (srv->metrics) net_server_metrics(ns, srv->metrics);
    for (size_t i = 0; i < net_server_listener_count(ns); i++) {
        char addr[80];
        net_server_listener_addr(ns, i, addr, sizeof addr);
        server_print_listening(name, addr);
    }
    return EDDY_OK;
}
