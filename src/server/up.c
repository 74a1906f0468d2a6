/* `eddy up`: one process, one data directory, every part started in order and stopped in
 * reverse on SIGINT/SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "server/server_int.h"

int server_lock_data_dir(const char *dir, int *lock_fd, char *errstr, size_t errlen) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot create data directory %s: %s", dir, strerror(errno));
    char path[4096];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return eddy_err(errstr, errlen, EDDY_ERR_BUSY,
                            "data directory %s is in use by another eddy process (lock %s is held)", dir, path);
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot lock %s: %s", path, strerror(e));
    }
    /* The pid is informational (for people); the flock is what excludes. */
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) < 0) { /* best effort */ }
    *lock_fd = fd;
    return EDDY_OK;
}

/* The parts of `eddy up`, started in this order and stopped in reverse. Each part's issue adds
 * its entry (server_int.h declares the start/stop pairs). */
static const server_component_t server_components[] = {
    {"data", server_data_start, server_data_stop},
    {"metrics", server_metrics_start, server_metrics_stop},
    {"log", server_log_start, server_log_stop},
    {"kafka", server_kafka_start, server_kafka_stop},
    {"store", server_store_start, server_store_stop},
    {"cql", server_cql_start, server_cql_stop},
    {"engine", server_engine_start, server_engine_stop},
    {"api", server_api_start, server_api_stop},
    {"http", server_http_start, server_http_stop},
};

static void print_up_help(void) {
    printf("usage: eddy up [flags]\n\n"
           "Runs the whole embedded stack in one process: the Kafka-protocol broker, the CQL\n"
           "store, the HTTP APIs and the pipelines, on one data directory.\n\nflags:\n");
    server_config_print_help(stdout);
}

int server_data_start(server_t *srv, char *errstr, size_t errlen) {
    return server_lock_data_dir(srv->cfg.data_dir, &srv->lock_fd, errstr, errlen);
}

/* The event log on DIR/log: recovered on start, fsynced and closed cleanly on stop. */
int server_log_start(server_t *srv, char *errstr, size_t errlen) {
    log_options_t o;
    log_options_init(&o);
    int rc = log_options_parse_fsync(&o, srv->cfg.fsync, errstr, errlen);
    if (rc != EDDY_OK) return rc;
    o.auto_create_topics = srv->cfg.auto_create_topics;
    o.default_partitions = (int32_t)srv->cfg.default_partitions;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/log", srv->cfg.data_dir);
    log_err_t e;
    if ((rc = log_open(dir, &o, &srv->log, &e)) != EDDY_OK)
        return eddy_err(errstr, errlen, rc, "cannot open the log in %s: %s", dir, e.msg);
    return EDDY_OK;
}

void server_log_stop(server_t *srv) {
    log_close(srv->log);
    srv->log = NULL;
}

void server_data_stop(server_t *srv) {
    if (srv->lock_fd >= 0) close(srv->lock_fd); /* releases the flock */
    srv->lock_fd = -1;
}

/* The table store on DIR/store, with the server's fsync setting. */
int server_store_start(server_t *srv, char *errstr, size_t errlen) {
    store_options_t opts;
    memset(&opts, 0, sizeof opts);
    int rc = store_options_parse_sync(&opts, srv->cfg.fsync, errstr, errlen);
    if (rc) return rc;
    opts.block_cache_bytes = (size_t)srv->cfg.store_cache_mb << 20;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/store", srv->cfg.data_dir);
    return store_open(dir, &opts, &srv->store, errstr, errlen);
}

void server_store_stop(server_t *srv) {
    store_close(srv->store);
    srv->store = NULL;
}

/* The HTTP side's APIs: topics leaves and _schemas, demo.leaves and its projection. */
int server_api_start(server_t *srv, char *errstr, size_t errlen) {
    api_config_t cfg = {.log = srv->log, .store = srv->store, .engine = srv->engine, .enrich = srv->cfg.enrich};
    return api_new(&cfg, &srv->api, errstr, errlen);
}

void server_api_stop(server_t *srv) {
    api_free(srv->api);
    srv->api = NULL;
}

/* The CQL server on the store, on every --cql-listen address. */
int server_cql_start(server_t *srv, char *errstr, size_t errlen) {
    cql_server_opts_t o;
    memset(&o, 0, sizeof o);
    o.store = srv->store;
    o.threads = (int)srv->cfg.io_threads;
    o.password_auth = srv->cfg.cql_password_auth;
    o.users = srv->cfg.cql_users.items;
    o.nusers = (size_t)srv->cfg.cql_users.count;
    int rc = cql_server_new(&o, &srv->cql, errstr, errlen);
    if (rc != EDDY_OK) return rc;
    rc = server_net_start(srv, cql_server_net(srv->cql), "cql", &srv->cfg.cql_listen, errstr, errlen);
    if (rc != EDDY_OK) {
        cql_server_stop(srv->cql);
        srv->cql = NULL;
        return rc;
    }
    cql_server_ready(srv->cql);
    return EDDY_OK;
}

void server_cql_stop(server_t *srv) {
    cql_server_stop(srv->cql);
    srv->cql = NULL;
}

/* Blocks the shutdown signals in this thread (and every thread it creates), so that the main
 * thread alone receives them through sigwait. */
static void block_shutdown_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void server_stop_from(server_t *srv, size_t started) {
    while (started > 0) {
        const server_component_t *c = &server_components[--started];
        elog_debug("server", "stopping %s", c->name);
        c->stop(srv);
    }
}

int server_main_up(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_up_help();
            return 0;
        }
    }
    server_t srv;
    memset(&srv, 0, sizeof srv);
    srv.lock_fd = -1;
    char err[512];
    if (server_config_load(&srv.cfg, argc, argv, err, sizeof err) != EDDY_OK) {
        fprintf(stderr, "eddy up: %s\n", err);
        server_config_free(&srv.cfg);
        return 2;
    }
    elog_level_t level;
    if (srv.cfg.log_level && elog_level_parse(srv.cfg.log_level, &level) == EDDY_OK) elog_set_level(level);

    sigset_t set;
    block_shutdown_signals(&set);
    int64_t t0 = time_mono_ns();
    size_t started = 0;
    for (; started < EDDY_ARRAY_LEN(server_components); started++) {
        const server_component_t *c = &server_components[started];
        if (c->start(&srv, err, sizeof err) != EDDY_OK) {
            fprintf(stderr, "eddy up: %s\n", err);
            server_stop_from(&srv, started);
            server_config_free(&srv.cfg);
            return 1;
        }
    }
    elog_info("server", "eddy up in %.1f ms on %s", (double)(time_mono_ns() - t0) / 1e6, srv.cfg.data_dir);
    fprintf(stderr, "eddy: ready\n");

    int sig = 0;
    sigwait(&set, &sig);
    elog_info("server", "%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server_stop_from(&srv, started);
    server_config_free(&srv.cfg);
    elog_info("server", "stopped cleanly");
    return 0;
}
