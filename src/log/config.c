/* Topic settings, declared once with Kafka's names, types and defaults (apache/kafka
 * TopicConfig / LogConfig). The settings the log acts on are parsed into log_config_t; the others
 * are validated and stored so that DescribeConfigs reports them truthfully. compression.type only
 * accepts "producer": the log stores batches as producers compress them. */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "log/log_int.h"

typedef enum { K_LONG, K_INT, K_BOOL, K_DOUBLE, K_POLICY, K_TSTYPE, K_COMPRESSION, K_LIST } kind_t;

typedef struct {
    const char *name;
    kind_t kind;
    const char *def;
    int64_t min;            /* numbers: smallest accepted */
    size_t field;           /* offset into log_config_t, or SIZE_MAX when only stored */
    const char *doc;
} setting_t;

#define F(x) offsetof(log_config_t, x)
#define NONE SIZE_MAX

/* Sorted by name (DescribeConfigs lists them in this order). */
static const setting_t settings[] = {
    {"cleanup.policy", K_POLICY, "delete", 0, NONE, "delete old segments, or compact (latest value per key)"},
    {"compression.type", K_COMPRESSION, "producer", 0, NONE, "batches are stored as the producer compressed them"},
    {"delete.retention.ms", K_LONG, "86400000", 0, NONE, "how long tombstones are kept in compacted topics"},
    {"file.delete.delay.ms", K_LONG, "60000", 0, NONE, "delay before a deleted segment's file is removed"},
    {"flush.messages", K_LONG, "9223372036854775807", 1, NONE, "eddy fsyncs by its own --fsync mode"},
    {"flush.ms", K_LONG, "9223372036854775807", 0, NONE, "eddy fsyncs by its own --fsync mode"},
    {"follower.replication.throttled.replicas", K_LIST, "", 0, NONE, "unused: one broker"},
    {"index.interval.bytes", K_INT, "4096", 0, F(index_interval_bytes), "bytes between offset index entries"},
    {"leader.replication.throttled.replicas", K_LIST, "", 0, NONE, "unused: one broker"},
    {"max.compaction.lag.ms", K_LONG, "9223372036854775807", 1, NONE, "longest time a record stays uncompacted"},
    {"max.message.bytes", K_INT, "1048588", 0, F(max_message_bytes), "largest record batch accepted"},
    {"message.downconversion.enable", K_BOOL, "true", 0, NONE, "unused: only magic 2 is served"},
    {"message.timestamp.difference.max.ms", K_LONG, "9223372036854775807", 0, NONE, "allowed CreateTime skew"},
    {"message.timestamp.type", K_TSTYPE, "CreateTime", 0, NONE, "CreateTime or LogAppendTime"},
    {"min.cleanable.dirty.ratio", K_DOUBLE, "0.5", 0, NONE, "compaction trigger ratio"},
    {"min.compaction.lag.ms", K_LONG, "0", 0, NONE, "shortest time a record stays uncompacted"},
    {"min.insync.replicas", K_INT, "1", 1, NONE, "one broker: always 1 in effect"},
    {"preallocate", K_BOOL, "false", 0, NONE, "unused"},
    {"retention.bytes", K_LONG, "-1", INT64_MIN, F(retention_bytes), "largest partition size before old segments go (-1: none)"},
    {"retention.ms", K_LONG, "604800000", -1, F(retention_ms), "age after which old segments go (-1: forever)"},
    {"segment.bytes", K_INT, "1073741824", 14, F(segment_bytes), "segment file size before rolling"},
    {"segment.index.bytes", K_INT, "10485760", 4, NONE, "unused: indexes are sized to their entries"},
    {"segment.jitter.ms", K_LONG, "0", 0, NONE, "unused"},
    {"segment.ms", K_LONG, "604800000", 1, F(segment_ms), "segment age before rolling"},
    {"unclean.leader.election.enable", K_BOOL, "false", 0, NONE, "unused: one broker"},
};

static const setting_t *find(const char *name) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(settings); i++)
        if (!strcmp(settings[i].name, name)) return &settings[i];
    return NULL;
}

static bool parse_i64(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

static int parse_policy(const char *s, int *bits) {
    *bits = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *q = p;
        while (*q && *q != ',' && *q != ' ') q++;
        size_t n = (size_t)(q - p);
        if (n == 6 && !strncmp(p, "delete", 6)) *bits |= LOG_CLEANUP_DELETE;
        else if (n == 7 && !strncmp(p, "compact", 7)) *bits |= LOG_CLEANUP_COMPACT;
        else if (n) return EDDY_ERR_INVALID;
        p = q;
    }
    return *bits ? EDDY_OK : EDDY_ERR_INVALID;
}

static int check(const setting_t *s, const char *v, log_err_t *err) {
    int64_t n;
    switch (s->kind) {
    case K_LONG:
    case K_INT:
        if (!parse_i64(v, &n) || n < s->min || (s->kind == K_INT && n > INT32_MAX))
            return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_CONFIG,
                            "invalid value %s for configuration %s: needs a whole number >= %lld%s",
                            v, s->name, (long long)s->min, s->kind == K_INT ? " that fits 32 bits" : "");
        return EDDY_OK;
    case K_BOOL:
        if (strcasecmp(v, "true") && strcasecmp(v, "false"))
            return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_CONFIG,
                            "invalid value %s for configuration %s: true or false", v, s->name);
        return EDDY_OK;
    case K_DOUBLE: {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d >= 0 && d <= 1))
            return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_CONFIG,
                            "invalid value %s for configuration %s: a number in [0, 1]", v, s->name);
        return EDDY_OK;
    }
    case K_POLICY: {
        int bits;
        if (parse_policy(v, &bits) != EDDY_OK)
            return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_CONFIG,
                            "invalid value %s for configuration cleanup.policy: delete, compact or both", v);
        return EDDY_OK;
    }
    case K_TSTYPE:
        if (strcmp(v, "CreateTime") && strcmp(v, "LogAppendTime"))
            return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_CONFIG,
                            "invalid value %s for configuration message.timestamp.type: CreateTime or LogAppendTime", v);
        return EDDY_OK;
    case K_COMPRESSION:
        if (strcmp(v, "producer"))
            return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_CONFIG,
                            "compression.type %s is not supported: eddy stores batches as the producer compressed them (producer)", v);
        return EDDY_OK;
    case K_LIST:
        return EDDY_OK;
    }
    return EDDY_ERR_INVALID;
}

int log_config_check(const char *name, const char *value, log_err_t *err) {
    const setting_t *s = name ? find(name) : NULL;
    if (!s)
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_CONFIG, "unknown topic configuration '%s'",
                        name ? name : "(null)");
    if (!value) return EDDY_OK; /* a reset */
    return check(s, value, err);
}

int log_config_validate(const char *name, const char *value, log_err_t *err) {
    if (!value)
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_CONFIG, "configuration %s needs a value",
                        name ? name : "(null)");
    return log_config_check(name, value, err);
}

static void apply(log_config_t *cfg, const setting_t *s, const char *v) {
    int64_t n = 0;
    if (s->kind == K_POLICY) {
        parse_policy(v, &cfg->cleanup_policy);
    } else if (s->kind == K_TSTYPE) {
        cfg->log_append_time = !strcmp(v, "LogAppendTime");
    } else if (s->field != NONE && parse_i64(v, &n)) {
        *(int64_t *)((char *)cfg + s->field) = n;
    }
}

void log_config_compute(log_config_t *cfg, const log_override_t *ov, size_t n) {
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < EDDY_ARRAY_LEN(settings); i++) apply(cfg, &settings[i], settings[i].def);
    for (size_t i = 0; i < n; i++) {
        const setting_t *s = find(ov[i].name);
        if (s && check(s, ov[i].value, NULL) == EDDY_OK) apply(cfg, s, ov[i].value);
    }
}

static log_config_type_t wire_type(kind_t k) {
    switch (k) {
    case K_LONG: return LOG_CONFIG_TYPE_LONG;
    case K_INT: return LOG_CONFIG_TYPE_INT;
    case K_BOOL: return LOG_CONFIG_TYPE_BOOLEAN;
    case K_DOUBLE: return LOG_CONFIG_TYPE_DOUBLE;
    case K_POLICY:
    case K_LIST: return LOG_CONFIG_TYPE_LIST;
    default: return LOG_CONFIG_TYPE_STRING;
    }
}

int log_config_describe(const log_override_t *ov, size_t n, log_config_desc_t **out,
                        size_t *count) {
    size_t ns = EDDY_ARRAY_LEN(settings), text = 0;
    const char *values[EDDY_ARRAY_LEN(settings)];
    bool is_default[EDDY_ARRAY_LEN(settings)];
    for (size_t i = 0; i < ns; i++) {
        values[i] = settings[i].def;
        is_default[i] = true;
        for (size_t k = 0; k < n; k++) {
            if (!strcmp(ov[k].name, settings[i].name)) {
                values[i] = ov[k].value;
                is_default[i] = false;
            }
        }
        text += strlen(values[i]) + 1;
    }
    log_config_desc_t *d = eddy_malloc(ns * sizeof *d + text);
    if (!d) return EDDY_ERR_NOMEM;
    char *p = (char *)(d + ns);
    for (size_t i = 0; i < ns; i++) {
        size_t len = strlen(values[i]);
        memcpy(p, values[i], len + 1);
        d[i] = (log_config_desc_t){settings[i].name, p, is_default[i], false,
                                   is_default[i] ? LOG_CONFIG_SOURCE_DEFAULT : LOG_CONFIG_SOURCE_TOPIC,
                                   wire_type(settings[i].kind), settings[i].doc};
        p += len + 1;
    }
    *out = d;
    *count = ns;
    return EDDY_OK;
}
