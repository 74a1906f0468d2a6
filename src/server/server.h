/* server: the `eddy up` process. Reads its settings (flags, environment, config file), owns the
 * data directory (and its lock), starts every part on it, waits for SIGINT/SIGTERM and shuts
 * down in order (stop accepting, drain, fsync, close).
 *
 * The settings are declared once (server_settings[] in config.c): each has a config-file key,
 * an environment variable and a flag. Precedence: flag > environment > config file > default. */
#ifndef EDDY_SERVER_H
#define EDDY_SERVER_H

#include "base/base.h"

#define SERVER_MAX_LISTENERS 8

typedef struct {
    const char *data_dir;            /* DIR: DIR/log, DIR/store, DIR/LOCK */
    flag_list_t kafka_listen;        /* HOST:PORT, repeatable */
    flag_list_t cql_listen;
    flag_list_t http_listen;
    const char *kafka_advertise;     /* HOST:PORT advertised in Metadata, or NULL */
    int64_t kafka_queued_max_request_bytes; /* Kafka request bytes in flight (-1: unlimited) */
    int64_t kafka_fetch_max_bytes;   /* the broker's cap on a Fetch answer (-1: the client's) */
    const char *log_level;
    const char *fsync;               /* "group" (default), "interval:MS" or "none" */
    int64_t store_cache_mb;          /* cap of the table store's block cache, MiB */
    bool auto_create_topics;
    int64_t default_partitions;
    flag_list_t pipelines;           /* pipeline files started with the server */
    bool cql_password_auth;          /* CQL clients log in (PasswordAuthenticator) */
    flag_list_t cql_users;           /* USER:PASSWORD for it, repeatable */
    int64_t io_threads;              /* event-loop threads per protocol server */
    bool enrich;                     /* the Leaves API fetches created leaves' pages */
    const char *config_file;
} server_config_t;

/* Fills cfg from defaults, the config file (--config or EDDY_CONFIG), the environment and argv.
 * Returns EDDY_OK, or EDDY_ERR_INVALID with a message naming the problem in errstr.
 * Free with server_config_free. */
int server_config_load(server_config_t *cfg, int argc, char **argv, char *errstr, size_t errlen);
void server_config_free(server_config_t *cfg);
void server_config_print_help(void *stream);

/* `eddy up`: runs until SIGINT/SIGTERM; returns the process exit code. */
int server_main_up(int argc, char **argv);

/* The data directory's lock: exclusive, held for the life of the process (flock on DIR/LOCK).
 * Returns EDDY_OK, EDDY_ERR_BUSY when another process holds it, EDDY_ERR_IO otherwise. */
int server_lock_data_dir(const char *dir, int *lock_fd, char *errstr, size_t errlen);

#endif
