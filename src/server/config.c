/* Settings of `eddy up`, declared once: config-file key, environment variable, flag. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "server/server.h"

typedef struct {
    const char *key;   /* config-file key, also the flag name */
    const char *env;   /* environment variable */
    flag_kind_t kind;
    size_t offset;     /* into server_config_t */
    const char *value_name;
    const char *help;
} server_setting_t;

#define SETTING(key, env, kind, field, vname, help) {key, env, kind, offsetof(server_config_t, field), vname, help}

static const server_setting_t server_settings[] = {
    SETTING("data", "EDDY_DATA", FLAG_STRING, data_dir, "DIR", "data directory (default ./eddy-data)"),
    SETTING("kafka-listen", "EDDY_KAFKA_LISTEN", FLAG_STRING_LIST, kafka_listen, "HOST:PORT",
            "Kafka listener, repeatable (default 127.0.0.1:9092; port 0 picks a free one)"),
    SETTING("cql-listen", "EDDY_CQL_LISTEN", FLAG_STRING_LIST, cql_listen, "HOST:PORT",
            "CQL listener, repeatable (default 127.0.0.1:9042)"),
    SETTING("cql-auth", "EDDY_CQL_AUTH", FLAG_BOOL, cql_password_auth, NULL,
            "CQL clients must log in with a user of --cql-user (PasswordAuthenticator; default false)"),
    SETTING("cql-user", "EDDY_CQL_USER", FLAG_STRING_LIST, cql_users, "USER:PASSWORD",
            "a CQL login for --cql-auth, repeatable (default cassandra:cassandra)"),
    SETTING("http-listen", "EDDY_HTTP_LISTEN", FLAG_STRING_LIST, http_listen, "HOST:PORT",
            "HTTP listener, repeatable (default 127.0.0.1:8000)"),
    SETTING("kafka-advertise", "EDDY_KAFKA_ADVERTISE", FLAG_STRING, kafka_advertise, "HOST:PORT",
            "address Kafka clients are told to connect to (default: the bound address)"),
    SETTING("kafka-queued-max-request-bytes", "EDDY_KAFKA_QUEUED_MAX_REQUEST_BYTES", FLAG_INT,
            kafka_queued_max_request_bytes, "BYTES",
            "bytes of Kafka requests held until answered, over all connections, before reading pauses "
            "(queued.max.request.bytes; default 104857600, -1 unlimited)"),
    SETTING("kafka-fetch-max-bytes", "EDDY_KAFKA_FETCH_MAX_BYTES", FLAG_INT, kafka_fetch_max_bytes, "BYTES",
            "cap on the record bytes of one Fetch answer, over the client's own (the broker's fetch.max.bytes; "
            "default 4194304, -1 only the client's)"),
    SETTING("log-level", "EDDY_LOG_LEVEL", FLAG_STRING, log_level, "LEVEL",
            "error, warn, info (default), debug or trace"),
    SETTING("fsync", "EDDY_FSYNC", FLAG_STRING, fsync, "MODE",
            "group (default: acknowledged = fsynced), interval:MS, or none"),
    SETTING("store-cache-mb", "EDDY_STORE_CACHE_MB", FLAG_INT, store_cache_mb, "MIB",
            "cap of the table store's block cache, filled as tables are read (default 512, as Cassandra's file cache)"),
    SETTING("auto-create-topics", "EDDY_AUTO_CREATE_TOPICS", FLAG_BOOL, auto_create_topics, NULL,
            "create topics on first use (default true)"),
    SETTING("default-partitions", "EDDY_DEFAULT_PARTITIONS", FLAG_INT, default_partitions, "N",
            "partitions of auto-created topics (default 1)"),
    SETTING("pipeline", "EDDY_PIPELINE", FLAG_STRING_LIST, pipelines, "FILE",
            "start the pipelines in FILE with the server, repeatable"),
    SETTING("io-threads", "EDDY_IO_THREADS", FLAG_INT, io_threads, "N",
            "event-loop threads of each listener (Kafka, CQL, HTTP; default 1)"),
    SETTING("enrich", "EDDY_ENRICH", FLAG_BOOL, enrich, NULL,
            "the Leaves API fetches a created leaf's page to fill it in (default true; false offline)"),
    SETTING("config", "EDDY_CONFIG", FLAG_STRING, config_file, "FILE",
            "read settings from FILE (lines of key = value; keys as the flags)"),
};

static void *setting_target(server_config_t *cfg, const server_setting_t *s) {
    return (char *)cfg + s->offset;
}

static void build_flags(server_config_t *cfg, flag_t *flags) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(server_settings); i++) {
        const server_setting_t *s = &server_settings[i];
        flags[i] = (flag_t){s->key, 0, s->kind, setting_target(cfg, s), s->value_name, s->help};
    }
}

void server_config_print_help(void *stream) {
    server_config_t cfg = {0};
    flag_t flags[EDDY_ARRAY_LEN(server_settings)];
    build_flags(&cfg, flags);
    flags_print_help(flags, EDDY_ARRAY_LEN(flags), stream);
}

/* Sets one setting from text (config file or environment). Strings are kept: the caller owns
 * their storage for the life of cfg (environment strings, or the config file's buffer). */
static int setting_apply(server_config_t *cfg, const server_setting_t *s, const char *value,
                         const char *origin, char *errstr, size_t errlen) {
    void *t = setting_target(cfg, s);
    switch (s->kind) {
    case FLAG_STRING: *(const char **)t = value; return EDDY_OK;
    case FLAG_STRING_LIST: {
        flag_list_t *l = t;
        l->count = 0; /* a later source replaces an earlier one */
        return flag_list_add(l, value);
    }
    case FLAG_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1")) *(bool *)t = true;
        else if (!strcmp(value, "false") || !strcmp(value, "0")) *(bool *)t = false;
        else return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s: %s takes true or false, not '%s'", origin, s->key, value);
        return EDDY_OK;
    case FLAG_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s: %s needs a whole number, not '%s'", origin, s->key, value);
        *(int64_t *)t = v;
        return EDDY_OK;
    }
    }
    return EDDY_ERR_INVALID;
}

static const server_setting_t *setting_find(const char *key) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(server_settings); i++)
        if (!strcmp(server_settings[i].key, key)) return &server_settings[i];
    return NULL;
}

/* The config file's text stays allocated for the process's life: settings point into it. */
static char *config_file_text;

static int config_file_load(server_config_t *cfg, const char *path, char *errstr, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "cannot read config file %s: %s", path, strerror(errno));
    wr_t w;
    wr_init(&w, 4096);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) wr_bytes(&w, chunk, n);
    fclose(f);
    wr_u8(&w, 0);
    if (!wr_ok(&w)) {
        wr_free(&w);
        return eddy_err(errstr, errlen, EDDY_ERR_NOMEM, "out of memory reading %s", path);
    }
    eddy_free(config_file_text);
    config_file_text = (char *)wr_steal(&w, NULL);
    int lineno = 0;
    for (char *line = config_file_text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        while (isspace((unsigned char)*line)) line++;
        if (!*line) continue;
        char *eq = strchr(line, '=');
        if (!eq) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s:%d: expected 'key = value'", path, lineno);
        char *key_end = eq;
        while (key_end > line && isspace((unsigned char)key_end[-1])) key_end--;
        *key_end = 0;
        char *value = eq + 1;
        while (isspace((unsigned char)*value)) value++;
        char *vend = value + strlen(value);
        while (vend > value && isspace((unsigned char)vend[-1])) *--vend = 0;
        const server_setting_t *s = setting_find(line);
        if (!s) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s:%d: unknown setting '%s'", path, lineno, line);
        char origin[300];
        snprintf(origin, sizeof origin, "%s:%d", path, lineno);
        int rc = setting_apply(cfg, s, value, origin, errstr, errlen);
        if (rc != EDDY_OK) return rc;
    }
    return EDDY_OK;
}

static int config_defaults(server_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->data_dir = "eddy-data";
    cfg->fsync = "group";
    cfg->auto_create_topics = true;
    cfg->enrich = true;
    cfg->default_partitions = 1;
    cfg->io_threads = 1;
    cfg->store_cache_mb = 512;
    cfg->kafka_queued_max_request_bytes = 100 << 20;
    cfg->kafka_fetch_max_bytes = 4 << 20;
    return EDDY_OK;
}

static int config_default_listener(flag_list_t *l, const char *def) {
    return l->count ? EDDY_OK : flag_list_add(l, def);
}

int server_config_load(server_config_t *cfg, int argc, char **argv, char *errstr, size_t errlen) {
    config_defaults(cfg);
    /* The flags are parsed twice: first only to find --config, then over file and environment. */
    server_config_t probe;
    config_defaults(&probe);
    flag_t flags[EDDY_ARRAY_LEN(server_settings)];
    build_flags(&probe, flags);
    int index = 1;
    int rc = flags_parse(flags, EDDY_ARRAY_LEN(flags), argc, argv, &index, errstr, errlen);
    const char *config_path = probe.config_file ? probe.config_file : getenv("EDDY_CONFIG");
    server_config_free(&probe);
    if (rc != EDDY_OK) return rc;
    if (index < argc) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "unexpected argument '%s'", argv[index]);
    if (config_path && (rc = config_file_load(cfg, config_path, errstr, errlen)) != EDDY_OK) return rc;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(server_settings); i++) {
        const server_setting_t *s = &server_settings[i];
        const char *v = getenv(s->env);
        if (v && *v && (rc = setting_apply(cfg, s, v, s->env, errstr, errlen)) != EDDY_OK) return rc;
    }
    /* Flags last; a repeatable flag given on the command line replaces the earlier sources. */
    server_config_t from_flags;
    memset(&from_flags, 0, sizeof from_flags);
    build_flags(&from_flags, flags);
    index = 1;
    bool auto_create = cfg->auto_create_topics;
    from_flags.auto_create_topics = auto_create;
    from_flags.default_partitions = cfg->default_partitions;
    from_flags.cql_password_auth = cfg->cql_password_auth;
    from_flags.enrich = cfg->enrich;
    from_flags.io_threads = cfg->io_threads;
    from_flags.store_cache_mb = cfg->store_cache_mb;
    from_flags.kafka_queued_max_request_bytes = cfg->kafka_queued_max_request_bytes;
    from_flags.kafka_fetch_max_bytes = cfg->kafka_fetch_max_bytes;
    flags_parse(flags, EDDY_ARRAY_LEN(flags), argc, argv, &index, errstr, errlen);
    for (size_t i = 0; i < EDDY_ARRAY_LEN(server_settings); i++) {
        const server_setting_t *s = &server_settings[i];
        void *src = setting_target(&from_flags, s), *dst = setting_target(cfg, s);
        switch (s->kind) {
        case FLAG_STRING:
            if (*(const char **)src) *(const char **)dst = *(const char **)src;
            break;
        case FLAG_STRING_LIST: {
            flag_list_t *sl = src, *dl = dst;
            if (sl->count) {
                flag_list_free(dl);
                *dl = *sl;
                memset(sl, 0, sizeof *sl);
            }
            break;
        }
        case FLAG_BOOL: *(bool *)dst = *(bool *)src; break;
        case FLAG_INT: *(int64_t *)dst = *(int64_t *)src; break;
        }
    }
    server_config_free(&from_flags);
    if ((rc = config_default_listener(&cfg->kafka_listen, "127.0.0.1:9092")) ||
        (rc = config_default_listener(&cfg->cql_listen, "127.0.0.1:9042")) ||
        (rc = config_default_listener(&cfg->http_listen, "127.0.0.1:8000")))
        return eddy_err(errstr, errlen, rc, "out of memory");
    elog_level_t level;
    if (cfg->log_level && elog_level_parse(cfg->log_level, &level) != EDDY_OK)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "unknown log level '%s' (error, warn, info, debug, trace)", cfg->log_level);
    if (cfg->io_threads < 1 || cfg->io_threads > 64)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "io-threads must be between 1 and 64");
    if (cfg->store_cache_mb < 1 || cfg->store_cache_mb > 1048576)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "store-cache-mb must be between 1 and 1048576");
    if (cfg->kafka_queued_max_request_bytes < -1 || cfg->kafka_queued_max_request_bytes == 0)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "kafka-queued-max-request-bytes must be positive, or -1 (unlimited)");
    if (cfg->kafka_fetch_max_bytes < -1 || cfg->kafka_fetch_max_bytes == 0)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "kafka-fetch-max-bytes must be positive, or -1 (the client's)");
    if (cfg->default_partitions < 1 || cfg->default_partitions > 10000)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "default-partitions must be between 1 and 10000");
    flag_list_t *lists[] = {&cfg->kafka_listen, &cfg->cql_listen, &cfg->http_listen};
    for (size_t l = 0; l < EDDY_ARRAY_LEN(lists); l++) {
        if (lists[l]->count > SERVER_MAX_LISTENERS)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "at most %d listeners per protocol", SERVER_MAX_LISTENERS);
        for (int i = 0; i < lists[l]->count; i++) {
            char host[256];
            int port;
            if (base_parse_hostport(lists[l]->items[i], host, sizeof host, &port) != EDDY_OK)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "listener '%s' is not HOST:PORT", lists[l]->items[i]);
        }
    }
    return EDDY_OK;
}

void server_config_free(server_config_t *cfg) {
    flag_list_free(&cfg->kafka_listen);
    flag_list_free(&cfg->cql_listen);
    flag_list_free(&cfg->http_listen);
    flag_list_free(&cfg->pipelines);
    flag_list_free(&cfg->cql_users);
}
