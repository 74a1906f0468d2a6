/* Worker threads for handlers that may block (RocksDB reads and writes, fsync, compiling a
 * pipeline): the loop hands the request over through a mutex-guarded FIFO and goes on serving;
 * the handler answers from the worker thread like any other thread. */
#include <stdio.h>

#include "http/http_int.h"

static void *worker_main(void *arg) {
    http_server_t *srv = arg;
    pthread_mutex_lock(&srv->pool_mu);
    for (;;) {
        while (!srv->jobs && !srv->pool_stop) pthread_cond_wait(&srv->pool_cv, &srv->pool_mu);
        if (!srv->jobs) break; /* stopping and drained */
        http_req_t *req = srv->jobs;
        srv->jobs = req->job_next;
        if (!srv->jobs) srv->jobs_tail = NULL;
        pthread_mutex_unlock(&srv->pool_mu);
        req->route->fn(req, req->route->arg);
        pthread_mutex_lock(&srv->pool_mu);
    }
    pthread_mutex_unlock(&srv->pool_mu);
    return NULL;
}

int http_pool_start(http_server_t *srv) {
    for (int i = 0; i < srv->opts.workers; i++) {
        if (pthread_create(&srv->pool[i], NULL, worker_main, srv) != 0) return EDDY_ERR_IO;
        srv->npool++;
    }
    return EDDY_OK;
}

void http_pool_submit(http_server_t *srv, http_req_t *req) {
    req->job_next = NULL;
    pthread_mutex_lock(&srv->pool_mu);
    if (srv->jobs_tail) srv->jobs_tail->job_next = req;
    else srv->jobs = req;
    srv->jobs_tail = req;
    pthread_cond_signal(&srv->pool_cv);
    pthread_mutex_unlock(&srv->pool_mu);
}

void http_pool_stop(http_server_t *srv) {
    pthread_mutex_lock(&srv->pool_mu);
    srv->pool_stop = true;
    pthread_cond_broadcast(&srv->pool_cv);
    pthread_mutex_unlock(&srv->pool_mu);
    for (int i = 0; i < srv->npool; i++) pthread_join(srv->pool[i], NULL);
    srv->npool = 0;
}
