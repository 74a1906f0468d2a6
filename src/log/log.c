/* The log as a whole: options, open (with recovery) and clean close, the sync workers that do
 * group commit, the maintenance thread (retention, index files, expiry), flushes, and the
 * producer-id allocator. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

#define PID_BLOCK 1000

void log_options_init(log_options_t *o) {
    memset(o, 0, sizeof *o);
    o->fsync_mode = LOG_FSYNC_GROUP;
    o->fsync_interval_ms = 1000;
    o->auto_create_topics = true;
    o->default_partitions = 1;
    o->retention_check_interval_ms = 300000;
    o->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    o->producer_id_expiration_ms = 24LL * 3600 * 1000;
    o->background = true;
    o->sync_threads = 4;
}

int log_options_parse_fsync(log_options_t *o, const char *text, char *errstr, size_t errlen) {
    if (!text || !strcmp(text, "group")) {
        o->fsync_mode = LOG_FSYNC_GROUP;
        return EDDY_OK;
    }
    if (!strcmp(text, "none")) {
        o->fsync_mode = LOG_FSYNC_NONE;
        return EDDY_OK;
    }
    if (!strncmp(text, "interval:", 9)) {
        char *end;
        errno = 0;
        long long ms = strtoll(text + 9, &end, 10);
        if (!errno && end != text + 9 && !*end && ms >= 1 && ms <= 3600000) {
            o->fsync_mode = LOG_FSYNC_INTERVAL;
            o->fsync_interval_ms = ms;
            return EDDY_OK;
        }
    }
    return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                    "--fsync takes group, interval:MS (1 to 3600000) or none, not '%s'", text);
}

/* ---- the sync workers ---- */

void log_sync_enqueue(log_t *log, log_partition_t *p) {
    pthread_mutex_lock(&log->sync_lock);
    p->sync_next = NULL;
    if (log->dirty_tail) log->dirty_tail->sync_next = p;
    else log->dirty = p;
    log->dirty_tail = p;
    if (log->opts.fsync_mode == LOG_FSYNC_GROUP) pthread_cond_signal(&log->sync_cond);
    pthread_mutex_unlock(&log->sync_lock);
}

void log_sync_enqueue_groups(log_t *log) {
    pthread_mutex_lock(&log->sync_lock);
    log->groups_dirty = true;
    if (log->opts.fsync_mode == LOG_FSYNC_GROUP) pthread_cond_signal(&log->sync_cond);
    pthread_mutex_unlock(&log->sync_lock);
}

static log_partition_t *dirty_pop(log_t *log) {
    log_partition_t *p = log->dirty;
    if (p) {
        log->dirty = p->sync_next;
        if (!log->dirty) log->dirty_tail = NULL;
    }
    return p;
}

static void add_ms(struct timespec *ts, int64_t ms) {
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

/* Group mode: each worker takes one dirty partition at a time, so fsyncs of different
 * partitions run in parallel and each partition has one in flight; appends that arrive during
 * it share the next (group commit). Interval mode: one worker syncs everything dirty every
 * fsync_interval_ms. None mode: no worker. */
static void *sync_main(void *arg) {
    log_t *log = arg;
    bool interval = log->opts.fsync_mode == LOG_FSYNC_INTERVAL;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    add_ms(&deadline, log->opts.fsync_interval_ms);
    pthread_mutex_lock(&log->sync_lock);
    while (!log->stopping) {
        if (interval) {
            if (pthread_cond_timedwait(&log->sync_cond, &log->sync_lock, &deadline) != ETIMEDOUT) continue;
            clock_gettime(CLOCK_REALTIME, &deadline);
            add_ms(&deadline, log->opts.fsync_interval_ms);
            log_partition_t *list = log->dirty;
            bool groups = log->groups_dirty;
            log->dirty = log->dirty_tail = NULL;
            log->groups_dirty = false;
            pthread_mutex_unlock(&log->sync_lock);
            while (list) {
                log_partition_t *p = list;
                list = p->sync_next;
                log_partition_sync(p, true, false);
                log_partition_release(p);
            }
            if (groups) log_groups_sync(log);
            pthread_mutex_lock(&log->sync_lock);
            continue;
        }
        if (log->groups_dirty) {
            log->groups_dirty = false;
            pthread_mutex_unlock(&log->sync_lock);
            log_groups_sync(log);
            pthread_mutex_lock(&log->sync_lock);
            continue;
        }
        log_partition_t *p = dirty_pop(log);
        if (!p) {
            pthread_cond_wait(&log->sync_cond, &log->sync_lock);
            continue;
        }
        pthread_mutex_unlock(&log->sync_lock);
        log_partition_sync(p, true, false);
        log_partition_release(p);
        pthread_mutex_lock(&log->sync_lock);
    }
    pthread_mutex_unlock(&log->sync_lock);
    return NULL;
}

int log_flush(log_t *log) {
    size_t n = 0;
    log_partition_t **parts = log_partitions_all(log, &n);
    if (!parts) return EDDY_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        log_partition_sync(parts[i], false, true);
        log_partition_release(parts[i]);
    }
    eddy_free(parts);
    log_groups_sync(log);
    return atomic_load(&log->io_failed) ? EDDY_ERR_IO : EDDY_OK;
}

/* ---- the maintenance thread ---- */

void log_maint_wake(log_t *log) {
    pthread_mutex_lock(&log->maint_lock);
    log->maint_wake = true;
    pthread_cond_signal(&log->maint_cond);
    pthread_mutex_unlock(&log->maint_lock);
}

void log_stats_get(log_t *log, log_stats_t *out) {
    out->appends = atomic_load_explicit(&log->stats.appends, memory_order_relaxed);
    out->records = atomic_load_explicit(&log->stats.records, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&log->stats.bytes, memory_order_relaxed);
    out->fsyncs = atomic_load_explicit(&log->stats.fsyncs, memory_order_relaxed);
    out->sync_rounds = atomic_load_explicit(&log->stats.sync_rounds, memory_order_relaxed);
    out->rejected = atomic_load_explicit(&log->stats.rejected, memory_order_relaxed);
    out->segments_deleted = atomic_load_explicit(&log->stats.segments_deleted, memory_order_relaxed);
}

int log_maintain(log_t *log, int64_t now_ms) {
    int deleted = log_topics_maintain(log, now_ms);
    atomic_fetch_add_explicit(&log->stats.segments_deleted, (uint64_t)deleted, memory_order_relaxed);
    log_groups_maintain(log, now_ms);
    return deleted;
}

static void *maint_main(void *arg) {
    log_t *log = arg;
    pthread_mutex_lock(&log->maint_lock);
    struct timespec next;
    clock_gettime(CLOCK_REALTIME, &next);
    add_ms(&next, log->opts.retention_check_interval_ms);
    while (!log->maint_stopping) {
        if (!log->maint_wake &&
            pthread_cond_timedwait(&log->maint_cond, &log->maint_lock, &next) != ETIMEDOUT &&
            !log->maint_wake)
            continue;
        if (log->maint_stopping) break;
        bool full = !log->maint_wake;
        log->maint_wake = false;
        pthread_mutex_unlock(&log->maint_lock);
        /* A wake-up (a roll) writes index files; the periodic pass also applies retention.
         * Both are the same pass: retention work is cheap when nothing expired. */
        log_maintain(log, time_now_ms());
        pthread_mutex_lock(&log->maint_lock);
        if (full) {
            clock_gettime(CLOCK_REALTIME, &next);
            add_ms(&next, log->opts.retention_check_interval_ms);
        }
    }
    pthread_mutex_unlock(&log->maint_lock);
    return NULL;
}

/* ---- producer ids ---- */

static int pid_file_read(log_t *log, int64_t *value) {
    char path[LOG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/producer-ids", log->dir);
    *value = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? EDDY_OK : EDDY_ERR_IO;
    uint8_t buf[12];
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    close(fd);
    if (n != 12 || crc32c(buf, 8) != load_u32(buf + 8)) return EDDY_ERR_CORRUPT;
    *value = (int64_t)load_u64(buf);
    return *value >= 0 ? EDDY_OK : EDDY_ERR_CORRUPT;
}

static int64_t max_known_producer_id(log_t *log) {
    size_t n = 0;
    log_partition_t **parts = log_partitions_all(log, &n);
    int64_t max = -1;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&parts[i]->lock);
        for (size_t k = 0; k < parts[i]->producers.cap; k++)
            if (parts[i]->producers.slots[k].pid - 1 > max) max = parts[i]->producers.slots[k].pid - 1;
        pthread_mutex_unlock(&parts[i]->lock);
        log_partition_release(parts[i]);
    }
    eddy_free(parts);
    return max;
}

int log_producer_id_alloc(log_t *log, int64_t *producer_id, log_err_t *err) {
    pthread_mutex_lock(&log->pid_lock);
    if (log->pid_next >= log->pid_block_end) {
        /* Reserve the next block durably before handing out any id of it. */
        int64_t end = log->pid_next + PID_BLOCK;
        uint8_t buf[12];
        store_u64(buf, (uint64_t)end);
        store_u32(buf + 8, crc32c(buf, 8));
        char path[LOG_PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/producer-ids", log->dir);
        if (log_file_write_at(AT_FDCWD, path, buf, sizeof buf) != EDDY_OK || log_fsync_dir(log->dir) != EDDY_OK) {
            pthread_mutex_unlock(&log->pid_lock);
            return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot reserve producer ids: %s", strerror(errno));
        }
        log->pid_block_end = end;
    }
    *producer_id = log->pid_next++;
    pthread_mutex_unlock(&log->pid_lock);
    return EDDY_OK;
}

/* ---- open and close ---- */

static void marker_path(const log_t *log, char *out, size_t n) {
    snprintf(out, n, "%s/clean-shutdown", log->dir);
}

int log_open(const char *dir, const log_options_t *opts, log_t **out, log_err_t *err) {
    *out = NULL;
    log_t *log = eddy_calloc(1, sizeof *log);
    if (!log) return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
    snprintf(log->dir, sizeof log->dir, "%s", dir);
    if (opts) log->opts = *opts;
    else log_options_init(&log->opts);
    if (log->opts.fsync_interval_ms < 1) log->opts.fsync_interval_ms = 1;
    if (log->opts.retention_check_interval_ms < 1) log->opts.retention_check_interval_ms = 1;
    if (log->opts.default_partitions < 1) log->opts.default_partitions = 1;
    pthread_rwlock_init(&log->topics_lock, NULL);
    log_map_init(&log->topics);
    pthread_mutex_init(&log->sync_lock, NULL);
    pthread_cond_init(&log->sync_cond, NULL);
    pthread_mutex_init(&log->maint_lock, NULL);
    pthread_cond_init(&log->maint_cond, NULL);
    pthread_mutex_init(&log->pid_lock, NULL);
    atomic_init(&log->next_watch_id, 0);
    log->groups.fd = -1;
    int rc;
    /* Every segment keeps its file open (reads and sendfile need it, as in Kafka): allow as
     * many descriptors as the hard limit does. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot create %s: %s", dir, strerror(errno));
        goto fail;
    }
    char marker[LOG_PATH_MAX + 32];
    marker_path(log, marker, sizeof marker);
    char topics[LOG_PATH_MAX + 16];
    snprintf(topics, sizeof topics, "%s/topics", dir);
    bool fresh = access(topics, F_OK) != 0; /* nothing to recover */
    bool clean = fresh || access(marker, F_OK) == 0;
    int64_t t0 = time_mono_ns();
    int pid_rc = pid_file_read(log, &log->pid_next);
    if (pid_rc == EDDY_ERR_IO) {
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot read %s/producer-ids: %s", dir, strerror(errno));
        goto fail;
    }
    if ((rc = log_topics_load(log, clean, err)) != EDDY_OK) goto fail;
    if (pid_rc != EDDY_OK) {
        /* Never hand out an id twice: continue after the largest one any partition knows. */
        log->pid_next = max_known_producer_id(log) + 1 + PID_BLOCK;
        elog_warn("log", "%s/producer-ids is corrupt; producer ids continue from %lld", dir, (long long)log->pid_next);
    }
    log->pid_block_end = log->pid_next;
    if ((rc = log_groups_open(log, err)) != EDDY_OK) goto fail;
    if (clean && !fresh && (unlink(marker) != 0 || log_fsync_dir(dir) != EDDY_OK)) {
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot remove %s: %s", marker, strerror(errno));
        goto fail;
    }
    elog_info("log", "opened %s (%zu topics%s) in %.1f ms", dir, log->topics.count,
              clean ? "" : ", recovered after an unclean shutdown", (double)(time_mono_ns() - t0) / 1e6);
    int workers = log->opts.fsync_mode == LOG_FSYNC_GROUP   ? log->opts.sync_threads
                  : log->opts.fsync_mode == LOG_FSYNC_INTERVAL ? 1
                                                               : 0;
    if (workers < 1 && log->opts.fsync_mode == LOG_FSYNC_GROUP) workers = 1;
    if (workers > LOG_SYNC_THREADS_MAX) workers = LOG_SYNC_THREADS_MAX;
    for (; log->nsync_threads < workers; log->nsync_threads++) {
        if (pthread_create(&log->sync_threads[log->nsync_threads], NULL, sync_main, log) != 0) {
            rc = log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "cannot start the sync threads");
            goto fail;
        }
    }
    log->opened = true;
    if (log->opts.background) {
        if (pthread_create(&log->maint_thread, NULL, maint_main, log) != 0) {
            rc = log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "cannot start the maintenance thread");
            goto fail;
        }
        log->maint_started = true;
    }
    *out = log;
    return EDDY_OK;
fail:
    log_close(log);
    return rc;
}

void log_close(log_t *log) {
    if (!log) return;
    if (log->maint_started) {
        pthread_mutex_lock(&log->maint_lock);
        log->maint_stopping = true;
        pthread_cond_signal(&log->maint_cond);
        pthread_mutex_unlock(&log->maint_lock);
        pthread_join(log->maint_thread, NULL);
    }
    bool opened = log->opened;
    pthread_mutex_lock(&log->sync_lock);
    log->stopping = true;
    pthread_cond_broadcast(&log->sync_cond);
    pthread_mutex_unlock(&log->sync_lock);
    for (int i = 0; i < log->nsync_threads; i++) pthread_join(log->sync_threads[i], NULL);
    /* Everything still queued is made durable here, on this thread. */
    if (opened) log_flush(log);
    for (log_partition_t *p; (p = dirty_pop(log));) log_partition_release(p);
    log_topics_close(log);
    log_groups_close(log);
    if (opened && !atomic_load(&log->io_failed)) {
        char marker[LOG_PATH_MAX + 32];
        marker_path(log, marker, sizeof marker);
        int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
            log_fsync_dir(log->dir);
        }
        elog_info("log", "closed %s cleanly", log->dir);
    }
    pthread_rwlock_destroy(&log->topics_lock);
    pthread_mutex_destroy(&log->sync_lock);
    pthread_cond_destroy(&log->sync_cond);
    pthread_mutex_destroy(&log->maint_lock);
    pthread_cond_destroy(&log->maint_cond);
    pthread_mutex_destroy(&log->pid_lock);
    eddy_free(log);
}
