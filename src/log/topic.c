/* Topics: the table of topics and their partitions, creation (atomic: built in a staging
 * directory, then renamed into place), deletion (renamed away, removed in the background),
 * partition additions and setting changes, each durable when the call returns.
 *
 * DIR/topics/NAME/topic is a small text file: "id=HEX", "partitions=N" and one
 * "config.KEY=VALUE" line per override. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

void log_topic_release(log_topic_t *t) {
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
    for (size_t i = 0; i < t->noverrides; i++) {
        eddy_free(t->overrides[i].name);
        eddy_free(t->overrides[i].value);
    }
    eddy_free(t->overrides);
    eddy_free(t->parts);
    eddy_free(t);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int log_remove_tree(const char *path) {
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? EDDY_OK : EDDY_ERR_IO;
}

static int valid_name(const char *name, log_err_t *err) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > LOG_TOPIC_NAME_MAX)
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_TOPIC,
                        "topic name must have 1 to %d characters", LOG_TOPIC_NAME_MAX);
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_TOPIC, "topic name cannot be '.' or '..'");
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_TOPIC,
                            "topic name '%s' has an illegal character (legal: ASCII letters, digits, '.', '_', '-')", name);
    }
    return EDDY_OK;
}

/* ---- the topic file ---- */

static int write_topic_file(const log_topic_t *t, const char *dir, int32_t nparts) {
    wr_t w;
    wr_init(&w, 256);
    wr_str(&w, "id=");
    for (int i = 0; i < 16; i++) wr_fmt(&w, "%02x", t->id[i]);
    wr_fmt(&w, "\npartitions=%d\n", nparts);
    for (size_t i = 0; i < t->noverrides; i++)
        wr_fmt(&w, "config.%s=%s\n", t->overrides[i].name, t->overrides[i].value);
    char path[LOG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/topic", dir);
    int rc = wr_ok(&w) ? log_file_write_at(AT_FDCWD, path, w.buf, w.len) : EDDY_ERR_NOMEM;
    wr_free(&w);
    if (rc == EDDY_OK) rc = log_fsync_dir(dir);
    return rc;
}

static int add_override(log_override_t **ov, size_t *n, const char *name, const char *value) {
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp((*ov)[i].name, name)) {
            char *v = eddy_strdup(value);
            if (!v) return EDDY_ERR_NOMEM;
            eddy_free((*ov)[i].value);
            (*ov)[i].value = v;
            return EDDY_OK;
        }
    }
    log_override_t *nv = eddy_realloc(*ov, (*n + 1) * sizeof *nv);
    if (!nv) return EDDY_ERR_NOMEM;
    *ov = nv;
    nv[*n].name = eddy_strdup(name);
    nv[*n].value = eddy_strdup(value);
    if (!nv[*n].name || !nv[*n].value) {
        eddy_free(nv[*n].name);
        eddy_free(nv[*n].value);
        return EDDY_ERR_NOMEM;
    }
    (*n)++;
    return EDDY_OK;
}

static void free_overrides(log_override_t *ov, size_t n) {
    for (size_t i = 0; i < n; i++) {
        eddy_free(ov[i].name);
        eddy_free(ov[i].value);
    }
    eddy_free(ov);
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int read_topic_file(log_topic_t *t, int32_t *nparts) {
    char path[LOG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/topic", t->dir);
    FILE *f = fopen(path, "r");
    if (!f) return EDDY_ERR_NOT_FOUND;
    char line[8192];
    int rc = EDDY_OK;
    *nparts = -1;
    while (rc == EDDY_OK && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        const char *k = line, *v = eq + 1;
        if (!strcmp(k, "id") && strlen(v) == 32) {
            for (int i = 0; i < 16; i++) {
                int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
                if (hi < 0 || lo < 0) rc = EDDY_ERR_CORRUPT;
                else t->id[i] = (uint8_t)(hi << 4 | lo);
            }
        } else if (!strcmp(k, "partitions")) {
            long x = strtol(v, NULL, 10);
            if (x < 1 || x > 1000000) rc = EDDY_ERR_CORRUPT;
            *nparts = (int32_t)x;
        } else if (!strncmp(k, "config.", 7)) {
            if (log_config_check(k + 7, v, NULL) == EDDY_OK)
                rc = add_override(&t->overrides, &t->noverrides, k + 7, v);
            else
                elog_warn("log", "%s: ignoring invalid setting %s=%s", path, k + 7, v);
        }
    }
    fclose(f);
    if (rc == EDDY_OK && *nparts < 1) rc = EDDY_ERR_CORRUPT;
    return rc;
}

static log_topic_t *topic_new(log_t *log, const char *name) {
    log_topic_t *t = eddy_calloc(1, sizeof *t);
    if (!t) return NULL;
    atomic_init(&t->refs, 1);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->dir, sizeof t->dir, "%s/topics/%s", log->dir, name);
    return t;
}

static int load_partitions(log_t *log, log_topic_t *t, int32_t from, int32_t total, bool clean,
                           log_err_t *err) {
    log_partition_t **parts = eddy_realloc(t->parts, (size_t)total * sizeof *parts);
    if (!parts) return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
    t->parts = parts;
    for (int32_t i = from; i < total; i++) {
        int rc = log_partition_load(log, t, i, true, clean, &t->parts[i], err);
        if (rc != EDDY_OK) {
            for (int32_t k = from; k < i; k++) log_partition_release(t->parts[k]);
            return rc;
        }
    }
    t->nparts = total;
    return EDDY_OK;
}

/* Releases the topic's partitions (after shutdown) and the table's reference. */
static void topic_drop(log_topic_t *t) {
    log_partition_t **parts = t->parts;
    int32_t n = t->nparts;
    t->parts = NULL;
    t->nparts = 0;
    for (int32_t i = 0; i < n; i++) log_partition_release(parts[i]);
    eddy_free(parts);
    log_topic_release(t);
}

/* ---- loading ---- */

int log_topics_load(log_t *log, bool clean, log_err_t *err) {
    char path[LOG_PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/deleted", log->dir);
    log_remove_tree(path);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/topics", log->dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot create %s: %s", path, strerror(errno));
    DIR *d = opendir(path);
    if (!d) return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot list %s: %s", path, strerror(errno));
    struct dirent *e;
    int rc = EDDY_OK;
    while (rc == EDDY_OK && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strncmp(e->d_name, ".tmp-", 5)) {
            char tmp[LOG_PATH_MAX + 600];
            snprintf(tmp, sizeof tmp, "%s/%s", path, e->d_name);
            log_remove_tree(tmp); /* a creation that did not finish */
            continue;
        }
        if (valid_name(e->d_name, NULL) != EDDY_OK) continue;
        log_topic_t *t = topic_new(log, e->d_name);
        if (!t) {
            rc = log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
            break;
        }
        int32_t nparts;
        int frc = read_topic_file(t, &nparts);
        if (frc != EDDY_OK) {
            elog_warn("log", "skipping %s/%s: its topic file is %s", path, e->d_name,
                      frc == EDDY_ERR_NOT_FOUND ? "missing" : "unreadable");
            log_topic_release(t);
            continue;
        }
        log_config_compute(&t->cfg, t->overrides, t->noverrides);
        if ((rc = load_partitions(log, t, 0, nparts, clean, err)) != EDDY_OK ||
            (rc = log_map_put(&log->topics, t->name, t)) != EDDY_OK) {
            topic_drop(t);
            if (rc == EDDY_ERR_NOMEM) log_fail(err, rc, LOG_ERR_NOMEM, "out of memory");
        }
    }
    closedir(d);
    return rc;
}

void log_topics_close(log_t *log) {
    const char *k;
    void *v;
    for (size_t i = 0; log_map_next(&log->topics, &i, &k, &v);) {
        log_topic_t *t = v;
        for (int32_t p = 0; p < t->nparts; p++) {
            log_partition_close_files(t->parts[p]);
            log_partition_shutdown(t->parts[p], EDDY_OK);
        }
        topic_drop(t);
    }
    log_map_free(&log->topics);
}

/* ---- create, delete, alter ---- */

int log_topic_create(log_t *log, const char *name, int32_t partitions,
                     const log_config_entry_t *configs, size_t nconfigs, bool validate_only,
                     log_err_t *err) {
    int rc = valid_name(name, err);
    if (rc != EDDY_OK) return rc;
    if (partitions < 1 || partitions > 100000)
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_PARTITIONS,
                        "number of partitions must be between 1 and 100000, not %d", partitions);
    for (size_t i = 0; i < nconfigs; i++)
        if ((rc = log_config_validate(configs[i].name, configs[i].value, err)) != EDDY_OK) return rc;
    pthread_rwlock_wrlock(&log->topics_lock);
    if (log_map_get(&log->topics, name)) {
        rc = log_fail(err, EDDY_ERR_EXISTS, LOG_ERR_TOPIC_EXISTS, "topic '%s' already exists", name);
        goto unlock;
    }
    if (validate_only) goto unlock;
    log_topic_t *t = topic_new(log, name);
    if (!t) {
        rc = log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
        goto unlock;
    }
    for (size_t i = 0; i < nconfigs && rc == EDDY_OK; i++)
        rc = add_override(&t->overrides, &t->noverrides, configs[i].name, configs[i].value);
    log_config_compute(&t->cfg, t->overrides, t->noverrides);
    do {
        if (getrandom(t->id, sizeof t->id, 0) != (ssize_t)sizeof t->id) {
            rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "getrandom: %s", strerror(errno));
            break;
        }
        t->id[6] = (uint8_t)((t->id[6] & 0x0f) | 0x40); /* a version 4 UUID, as Kafka's */
        t->id[8] = (uint8_t)((t->id[8] & 0x3f) | 0x80);
    } while (t->id[0] == 0 && t->id[1] == 0);
    /* Build it in a staging directory, then rename: a crash leaves all or nothing. */
    char staging[LOG_PATH_MAX + 300], topics[LOG_PATH_MAX + 16];
    snprintf(topics, sizeof topics, "%s/topics", log->dir);
    snprintf(staging, sizeof staging, "%s/.tmp-%s", topics, name);
    log_remove_tree(staging);
    if (rc == EDDY_OK && mkdir(staging, 0755) != 0)
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot create %s: %s", staging, strerror(errno));
    for (int32_t i = 0; i < partitions && rc == EDDY_OK; i++) {
        char pd[LOG_PATH_MAX + 320];
        snprintf(pd, sizeof pd, "%s/%d", staging, i);
        if (mkdir(pd, 0755) != 0)
            rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot create %s: %s", pd, strerror(errno));
    }
    if (rc == EDDY_OK && write_topic_file(t, staging, partitions) != EDDY_OK)
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot write the topic file of %s: %s", name, strerror(errno));
    bool renamed = false;
    if (rc == EDDY_OK && (!(renamed = rename(staging, t->dir) == 0) || log_fsync_dir(topics) != EDDY_OK))
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot create %s: %s", t->dir, strerror(errno));
    if (rc == EDDY_OK) rc = load_partitions(log, t, 0, partitions, true, err);
    if (rc == EDDY_OK && (rc = log_map_put(&log->topics, t->name, t)) != EDDY_OK)
        log_fail(err, rc, LOG_ERR_NOMEM, "out of memory");
    if (rc != EDDY_OK) {
        log_remove_tree(renamed ? t->dir : staging);
        topic_drop(t);
    } else {
        elog_info("log", "created topic %s with %d partition%s", name, partitions, partitions == 1 ? "" : "s");
    }
unlock:
    pthread_rwlock_unlock(&log->topics_lock);
    return rc;
}

int log_topic_delete(log_t *log, const char *name, log_err_t *err) {
    pthread_rwlock_wrlock(&log->topics_lock);
    log_topic_t *t = log_map_get(&log->topics, name);
    if (!t) {
        pthread_rwlock_unlock(&log->topics_lock);
        return log_fail(err, EDDY_ERR_NOT_FOUND, LOG_ERR_UNKNOWN_TOPIC, "unknown topic '%s'", name);
    }
    char gone[LOG_PATH_MAX + 400], parent[LOG_PATH_MAX + 16];
    snprintf(gone, sizeof gone, "%s/deleted/%s-", log->dir, name);
    for (int i = 0; i < 16; i++) snprintf(gone + strlen(gone), 3, "%02x", t->id[i]);
    int rc = EDDY_OK;
    if (rename(t->dir, gone) != 0) {
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot delete %s: %s", t->dir, strerror(errno));
    } else {
        snprintf(parent, sizeof parent, "%s/topics", log->dir);
        log_fsync_dir(parent);
        snprintf(parent, sizeof parent, "%s/deleted", log->dir);
        log_fsync_dir(parent);
        log_map_del(&log->topics, name);
        t->deleted = true;
    }
    pthread_rwlock_unlock(&log->topics_lock);
    if (rc != EDDY_OK) return rc;
    for (int32_t i = 0; i < t->nparts; i++) log_partition_shutdown(t->parts[i], EDDY_ERR_CLOSED);
    topic_drop(t);
    elog_info("log", "deleted topic %s", name);
    log_maint_wake(log);
    return EDDY_OK;
}

int log_topic_add_partitions(log_t *log, const char *name, int32_t total, bool validate_only,
                             log_err_t *err) {
    pthread_rwlock_wrlock(&log->topics_lock);
    log_topic_t *t = log_map_get(&log->topics, name);
    int rc = EDDY_OK;
    if (!t) {
        rc = log_fail(err, EDDY_ERR_NOT_FOUND, LOG_ERR_UNKNOWN_TOPIC, "unknown topic '%s'", name);
    } else if (total <= t->nparts || total > 100000) {
        rc = log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_PARTITIONS,
                      "topic '%s' has %d partitions: the new count %d must be larger (and at most 100000)",
                      name, t->nparts, total);
    } else if (!validate_only) {
        for (int32_t i = t->nparts; i < total && rc == EDDY_OK; i++) {
            char pd[LOG_PATH_MAX + 16];
            snprintf(pd, sizeof pd, "%s/%d", t->dir, i);
            if (mkdir(pd, 0755) != 0 && errno != EEXIST)
                rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot create %s: %s", pd, strerror(errno));
        }
        if (rc == EDDY_OK && write_topic_file(t, t->dir, total) != EDDY_OK)
            rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot write the topic file of %s", name);
        if (rc == EDDY_OK) rc = load_partitions(log, t, t->nparts, total, true, err);
    }
    pthread_rwlock_unlock(&log->topics_lock);
    return rc;
}

int log_topic_alter_config(log_t *log, const char *name, const log_config_entry_t *entries,
                           size_t n, log_alter_mode_t mode, bool validate_only, log_err_t *err) {
    for (size_t i = 0; i < n; i++) {
        int rc = log_config_check(entries[i].name, entries[i].value, err);
        if (rc != EDDY_OK) return rc;
    }
    pthread_rwlock_wrlock(&log->topics_lock);
    log_topic_t *t = log_map_get(&log->topics, name);
    int rc = EDDY_OK;
    log_override_t *ov = NULL;
    size_t nov = 0;
    if (!t) {
        rc = log_fail(err, EDDY_ERR_NOT_FOUND, LOG_ERR_UNKNOWN_TOPIC, "unknown topic '%s'", name);
        goto unlock;
    }
    if (mode == LOG_ALTER_INCREMENTAL)
        for (size_t i = 0; i < t->noverrides && rc == EDDY_OK; i++)
            rc = add_override(&ov, &nov, t->overrides[i].name, t->overrides[i].value);
    for (size_t i = 0; i < n && rc == EDDY_OK; i++) {
        if (entries[i].value) {
            rc = add_override(&ov, &nov, entries[i].name, entries[i].value);
        } else {
            for (size_t k = 0; k < nov; k++) {
                if (!strcmp(ov[k].name, entries[i].name)) {
                    eddy_free(ov[k].name);
                    eddy_free(ov[k].value);
                    ov[k] = ov[--nov];
                    break;
                }
            }
        }
    }
    if (rc != EDDY_OK) {
        rc = log_fail(err, rc, LOG_ERR_NOMEM, "out of memory");
        goto unlock;
    }
    if (validate_only) goto unlock;
    log_override_t *old = t->overrides;
    size_t nold = t->noverrides;
    t->overrides = ov;
    t->noverrides = nov;
    if (write_topic_file(t, t->dir, t->nparts) != EDDY_OK) {
        t->overrides = old;
        t->noverrides = nold;
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot write the topic file of %s", name);
        goto unlock;
    }
    ov = old;
    nov = nold;
    log_config_compute(&t->cfg, t->overrides, t->noverrides);
    for (int32_t i = 0; i < t->nparts; i++) log_partition_set_config(t->parts[i], &t->cfg);
unlock:
    pthread_rwlock_unlock(&log->topics_lock);
    free_overrides(ov, nov);
    return rc;
}

/* ---- lookups ---- */

static void fill_info(const log_topic_t *t, log_topic_info_t *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", t->name);
    memcpy(out->id, t->id, sizeof out->id);
    out->partitions = t->nparts;
}

int log_topic_info(log_t *log, const char *name, log_topic_info_t *out) {
    pthread_rwlock_rdlock(&log->topics_lock);
    log_topic_t *t = log_map_get(&log->topics, name);
    if (t) fill_info(t, out);
    pthread_rwlock_unlock(&log->topics_lock);
    return t ? EDDY_OK : EDDY_ERR_NOT_FOUND;
}

static int cmp_info(const void *a, const void *b) {
    return strcmp(((const log_topic_info_t *)a)->name, ((const log_topic_info_t *)b)->name);
}

int log_topic_list(log_t *log, log_topic_info_t **out, size_t *count) {
    pthread_rwlock_rdlock(&log->topics_lock);
    size_t n = log->topics.count;
    log_topic_info_t *v = eddy_malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        pthread_rwlock_unlock(&log->topics_lock);
        return EDDY_ERR_NOMEM;
    }
    size_t k = 0;
    const char *key;
    void *val;
    for (size_t i = 0; log_map_next(&log->topics, &i, &key, &val);) fill_info(val, &v[k++]);
    pthread_rwlock_unlock(&log->topics_lock);
    if (k > 1) qsort(v, k, sizeof *v, cmp_info);
    *out = v;
    *count = k;
    return EDDY_OK;
}

int log_topic_describe_config(log_t *log, const char *name, log_config_desc_t **out,
                              size_t *count, log_err_t *err) {
    pthread_rwlock_rdlock(&log->topics_lock);
    log_topic_t *t = log_map_get(&log->topics, name);
    int rc = t ? log_config_describe(t->overrides, t->noverrides, out, count)
               : log_fail(err, EDDY_ERR_NOT_FOUND, LOG_ERR_UNKNOWN_TOPIC, "unknown topic '%s'", name);
    pthread_rwlock_unlock(&log->topics_lock);
    if (rc == EDDY_ERR_NOMEM) log_fail(err, rc, LOG_ERR_NOMEM, "out of memory");
    return rc;
}

int log_partition_open(log_t *log, const char *topic, int32_t partition, int flags,
                       log_partition_t **out, log_err_t *err) {
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        pthread_rwlock_rdlock(&log->topics_lock);
        log_topic_t *t = log_map_get(&log->topics, topic);
        if (t && partition >= 0 && partition < t->nparts) {
            *out = t->parts[partition];
            log_partition_keep(*out);
        }
        bool found = t != NULL;
        int32_t nparts = t ? t->nparts : 0;
        pthread_rwlock_unlock(&log->topics_lock);
        if (*out) return EDDY_OK;
        if (found)
            return log_fail(err, EDDY_ERR_NOT_FOUND, LOG_ERR_UNKNOWN_PARTITION,
                            "topic '%s' has no partition %d (it has %d)", topic, partition, nparts);
        if (attempt || !(flags & LOG_OPEN_AUTO_CREATE) || !log->opts.auto_create_topics) break;
        int rc = log_topic_create(log, topic, log->opts.default_partitions, NULL, 0, false, err);
        if (rc != EDDY_OK && rc != EDDY_ERR_EXISTS) return rc;
    }
    return log_fail(err, EDDY_ERR_NOT_FOUND, LOG_ERR_UNKNOWN_TOPIC, "unknown topic '%s'", topic);
}

/* ---- maintenance ---- */

log_partition_t **log_partitions_all(log_t *log, size_t *count) {
    pthread_rwlock_rdlock(&log->topics_lock);
    size_t n = 0, cap = 0;
    const char *k;
    void *v;
    for (size_t i = 0; log_map_next(&log->topics, &i, &k, &v);) cap += (size_t)((log_topic_t *)v)->nparts;
    log_partition_t **parts = eddy_malloc((cap ? cap : 1) * sizeof *parts);
    for (size_t i = 0; parts && log_map_next(&log->topics, &i, &k, &v);) {
        log_topic_t *t = v;
        for (int32_t p = 0; p < t->nparts; p++) {
            log_partition_keep(t->parts[p]);
            parts[n++] = t->parts[p];
        }
    }
    pthread_rwlock_unlock(&log->topics_lock);
    *count = n;
    return parts;
}

int log_topics_maintain(log_t *log, int64_t now_ms) {
    size_t n = 0;
    log_partition_t **parts = log_partitions_all(log, &n);
    int deleted = 0;
    for (size_t i = 0; i < n; i++) {
        deleted += log_partition_maintain(parts[i], now_ms);
        log_partition_release(parts[i]);
    }
    eddy_free(parts);
    /* Deleted topics' directories. */
    char path[LOG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/deleted", log->dir);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[LOG_PATH_MAX + 300];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        log_remove_tree(sub);
    }
    if (d) closedir(d);
    return deleted;
}
