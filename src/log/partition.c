/* A partition's life: loading with crash recovery, the sync workers' group commit (fsync, then
 * the high watermark, completions and watches), watches, retention and shutdown. Appends are in
 * append.c, reads in read.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

void log_partition_keep(log_partition_t *p) { atomic_fetch_add(&p->refs, 1); }

static void partition_free(log_partition_t *p) {
    for (size_t i = 0; i < p->nsegs; i++) log_segment_release(p->segs[i]);
    eddy_free(p->segs);
    eddy_free(p->cq);
    for (size_t i = 0; i < p->wq_len; i++) log_segment_release(p->wq[(p->wq_head + i) % p->wq_cap].seg);
    eddy_free(p->wq);
    for (log_watch_t *w = p->watches, *n; w; w = n) {
        n = w->next;
        eddy_free(w);
    }
    log_producers_free(&p->producers);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->watch_cond);
    pthread_cond_destroy(&p->sync_cond);
    if (p->topic) log_topic_release(p->topic);
    if (p->dirfd >= 0) close(p->dirfd);
    eddy_free(p);
}

void log_partition_release(log_partition_t *p) {
    if (p && atomic_fetch_sub(&p->refs, 1) == 1) partition_free(p);
}

const char *log_partition_topic(const log_partition_t *p) { return p->topic->name; }
int32_t log_partition_index(const log_partition_t *p) { return p->index; }

int log_partition_state(log_partition_t *p, log_partition_state_t *out) {
    pthread_mutex_lock(&p->lock);
    out->log_start_offset = p->log_start;
    out->high_watermark = p->hw;
    out->log_end_offset = p->leo;
    out->size_bytes = 0;
    for (size_t i = 0; i < p->nsegs; i++) out->size_bytes += p->segs[i]->size;
    out->segments = (int32_t)p->nsegs;
    bool closed = p->closed;
    pthread_mutex_unlock(&p->lock);
    return closed ? EDDY_ERR_CLOSED : EDDY_OK;
}

void log_partition_set_config(log_partition_t *p, const log_config_t *cfg) {
    pthread_mutex_lock(&p->lock);
    p->cfg = *cfg;
    pthread_mutex_unlock(&p->lock);
}

size_t log_partition_find_segment(const log_partition_t *p, int64_t offset) {
    size_t lo = 0, hi = p->nsegs; /* first segment with base > offset */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->segs[mid]->base <= offset) lo = mid + 1;
        else hi = mid;
    }
    return lo ? lo - 1 : 0;
}

static int push_segment(log_partition_t *p, log_segment_t *s) {
    if (p->nsegs == p->capsegs) {
        size_t cap = p->capsegs ? p->capsegs * 2 : 8;
        log_segment_t **n = eddy_realloc(p->segs, cap * sizeof *n);
        if (!n) return EDDY_ERR_NOMEM;
        p->segs = n;
        p->capsegs = cap;
    }
    p->segs[p->nsegs++] = s;
    return EDDY_OK;
}

/* ---- loading and recovery ---- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    int64_t *v;
    size_t n, cap;
} i64s_t;

static int i64s_push(i64s_t *a, int64_t x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        int64_t *v = eddy_realloc(a->v, cap * sizeof *v);
        if (!v) return EDDY_ERR_NOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return EDDY_OK;
}

/* Parses "%020lld<ext>" names; false for anything else. */
static bool parse_name(const char *name, const char *ext, int64_t *base) {
    size_t n = strlen(name), e = strlen(ext);
    if (n != 20 + e || strcmp(name + 20, ext) != 0) return false;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        if (v > (INT64_MAX - (name[i] - '0')) / 10) return false;
        v = v * 10 + (name[i] - '0');
    }
    *base = v;
    return true;
}

static int list_dir(int dirfd, i64s_t *logs, i64s_t *snaps) {
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return EDDY_ERR_IO;
    }
    rewinddir(d);
    struct dirent *e;
    int rc = EDDY_OK;
    while (rc == EDDY_OK && (e = readdir(d))) {
        int64_t base;
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".tmp")) {
            unlinkat(dirfd, e->d_name, 0); /* an interrupted durable write */
        } else if (parse_name(e->d_name, ".log", &base)) {
            rc = i64s_push(logs, base);
        } else if (parse_name(e->d_name, ".snapshot", &base)) {
            rc = i64s_push(snaps, base);
        }
    }
    closedir(d);
    if (logs->n > 1) qsort(logs->v, logs->n, sizeof *logs->v, cmp_i64);
    if (snaps->n > 1) qsort(snaps->v, snaps->n, sizeof *snaps->v, cmp_i64);
    return rc;
}

/* The last entry of a segment's index file (rel offset and position), or false when the index
 * or time index file is missing or not a whole number of entries. Also reads the segment's max
 * timestamp from the time index's last entry. */
static bool index_files_peek(log_segment_t *s, log_oidx_t *last) {
    char file[40];
    struct stat so, st;
    snprintf(file, sizeof file, "%s.index", s->name);
    if (fstatat(s->dirfd, file, &so, 0) != 0 || so.st_size % 8) return false;
    *last = (log_oidx_t){0, 0};
    if (so.st_size >= 8) {
        int fd = openat(s->dirfd, file, O_RDONLY | O_CLOEXEC);
        uint8_t e[8];
        bool ok = fd >= 0 && pread(fd, e, 8, so.st_size - 8) == 8;
        if (fd >= 0) close(fd);
        if (!ok) return false;
        *last = (log_oidx_t){load_u32(e), load_u32(e + 4)};
        if ((int64_t)last->pos >= s->size) return false;
    }
    snprintf(file, sizeof file, "%s.timeindex", s->name);
    if (fstatat(s->dirfd, file, &st, 0) != 0 || st.st_size % 12) return false;
    if (st.st_size >= 12) {
        int fd = openat(s->dirfd, file, O_RDONLY | O_CLOEXEC);
        uint8_t e[12];
        bool ok = fd >= 0 && pread(fd, e, 12, st.st_size - 12) == 12;
        if (fd >= 0) close(fd);
        if (!ok) return false;
        s->max_ts = (int64_t)load_u64(e);
        s->max_ts_offset = s->base + load_u32(e + 8);
    }
    return true;
}

/* A sealed segment after an unclean stop: its index files were written after it was fsynced,
 * unless they are stale (left from an earlier clean stop while it was still active, and more
 * was appended since). Checks the bytes after the last index entry: they must be whole, valid
 * batches ending exactly at the end of the file, all within the indexed batch's neighbourhood;
 * anything else sends the segment to a full scan. */
static bool sealed_tail_ok(log_segment_t *s, log_oidx_t last, int64_t interval) {
    log_batch_header_t h;
    int64_t pos = last.pos;
    if (last.pos && log_segment_header_at(s, pos, s->size, &h) != EDDY_OK) return false;
    s->next_offset = last.pos ? h.base_offset : s->base;
    int64_t end;
    char why[160];
    int64_t max_ts = s->max_ts, max_off = s->max_ts_offset;
    if (log_segment_scan(s, pos, true, false, interval, NULL, NULL, &end, why, sizeof why) != EDDY_OK) return false;
    bool fresh = end == s->size && end - pos <= 2 * interval + (1 << 20) && s->max_ts <= max_ts;
    s->max_ts = max_ts;
    s->max_ts_offset = max_off;
    return fresh;
}

static int truncate_segment(log_partition_t *p, log_segment_t *s, int64_t valid_end, const char *why) {
    elog_warn("log", "%s-%d: truncating %s.log at byte %lld of %lld (%s); offsets from %lld are dropped",
              p->topic->name, p->index, s->path, (long long)valid_end, (long long)s->size,
              why[0] ? why : "invalid data", (long long)s->next_offset);
    if (ftruncate(s->fd, valid_end) != 0 || fdatasync(s->fd) != 0) return EDDY_ERR_IO;
    s->size = s->written = valid_end;
    return EDDY_OK;
}

/* Drops segments after index i (their data follows a truncation, so it cannot be trusted). */
static void drop_after(log_partition_t *p, size_t i) {
    while (p->nsegs > i + 1) {
        log_segment_t *s = p->segs[--p->nsegs];
        elog_warn("log", "%s-%d: deleting %s.log after a truncated segment", p->topic->name,
                  p->index, s->path);
        log_segment_unlink(s);
        log_segment_release(s);
    }
}

/* After a clean shutdown the active segment's index files are current: load them and check the
 * tail after the last index entry (which gives the log end). Returns 1 when the files are not
 * usable (the caller scans the whole segment). */
static int recover_tail(log_segment_t *s, int64_t interval, int64_t *valid_end, char *why,
                        size_t whylen) {
    if (s->size == 0 || log_segment_index_load(s, NULL) != EDDY_OK) return 1;
    int64_t from = s->noidx ? s->oidx[s->noidx - 1].pos : 0;
    log_batch_header_t h;
    if (from && log_segment_header_at(s, from, s->size, &h) != EDDY_OK) return 1;
    s->next_offset = from ? h.base_offset : s->base;
    int64_t max_ts = s->max_ts, max_off = s->max_ts_offset;
    int rc = log_segment_scan(s, from, true, false, interval, NULL, NULL, valid_end, why, whylen);
    if (max_ts > s->max_ts) {
        s->max_ts = max_ts;
        s->max_ts_offset = max_off;
    }
    s->since_index = *valid_end - from;
    return rc;
}

static int recover(log_partition_t *p, bool clean, log_err_t *err) {
    int64_t interval = p->cfg.index_interval_bytes;
    char why[256];
    int rc;
    for (size_t i = 0; i < p->nsegs; i++) {
        log_segment_t *s = p->segs[i];
        bool active = i + 1 == p->nsegs;
        s->next_offset = s->base;
        int64_t valid_end = s->size;
        bool scanned = false;
        log_oidx_t last;
        if (!active && index_files_peek(s, &last) && (clean || sealed_tail_ok(s, last, interval))) {
            s->sealed = true;
            s->next_offset = p->segs[i + 1]->base;
        } else if (active && clean && (rc = recover_tail(s, interval, &valid_end, why, sizeof why)) != 1) {
            if (rc != EDDY_OK) return log_fail(err, rc, LOG_ERR_STORAGE, "cannot scan %s.log", s->path);
            scanned = true;
        } else {
            if (!active || !clean)
                elog_debug("log", "%s-%d: scanning %s.log", p->topic->name, p->index, s->path);
            rc = log_segment_scan(s, 0, true, true, interval, NULL, NULL, &valid_end, why, sizeof why);
            if (rc != EDDY_OK) return log_fail(err, rc, LOG_ERR_STORAGE, "cannot scan %s.log", s->path);
            scanned = true;
            if (!active) s->index_pending = true;
        }
        if (scanned && valid_end < s->size) {
            if (truncate_segment(p, s, valid_end, why) != EDDY_OK)
                return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot truncate %s.log: %s", s->path, strerror(errno));
            drop_after(p, i);
            active = true;
        }
        if (scanned && !active) {
            if (s->next_offset > p->segs[i + 1]->base) {
                /* Offsets overlap the next segment: keep this one, drop the rest. */
                elog_warn("log", "%s-%d: %s.log overlaps the next segment", p->topic->name, p->index, s->path);
                drop_after(p, i);
                active = true;
            } else {
                s->next_offset = p->segs[i + 1]->base;
                s->sealed = true;
                log_segment_index_seal(s);
            }
        }
        s->readable = s->size;
        /* After an unclean stop, recovered bytes may sit only in the page cache: make them
         * durable before they become readable (cheap when they already are). */
        if (!clean && fdatasync(s->fd) != 0)
            return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "fdatasync %s.log: %s", s->path, strerror(errno));
        if (active) {
            s->sealed = false;
            s->index_pending = false;
            s->created_ms = time_now_ms();
        }
    }
    return EDDY_OK;
}

static int replay_batch(void *arg, const log_batch_header_t *h, int64_t pos) {
    (void)pos;
    log_partition_t *p = arg;
    return log_producers_replay(&p->producers, h, time_now_ms());
}

/* Replays batch headers from offset to the end into the producer table. */
static int replay_producers(log_partition_t *p, int64_t from) {
    for (size_t i = log_partition_find_segment(p, from); i < p->nsegs; i++) {
        log_segment_t *s = p->segs[i];
        if (s->next_offset <= from) continue;
        int64_t pos = 0;
        if (from > s->base && log_segment_index_load(s, NULL) == EDDY_OK)
            pos = log_segment_index_lookup(s, from);
        while (pos < s->size) {
            log_batch_header_t h;
            int rc = log_segment_header_at(s, pos, s->size, &h);
            if (rc != EDDY_OK) return rc == EDDY_ERR_IO ? rc : EDDY_OK;
            if (log_batch_last_offset(&h) >= from && (rc = replay_batch(p, &h, pos)) != EDDY_OK) return rc;
            pos += (int64_t)log_batch_size(&h);
        }
    }
    return EDDY_OK;
}

static void load_producers(log_partition_t *p, const i64s_t *snaps) {
    int64_t from = p->log_start;
    for (size_t k = snaps->n; k-- > 0;) {
        int64_t off = snaps->v[k];
        char file[40];
        snprintf(file, sizeof file, "%020" PRId64 ".snapshot", off);
        if (off > p->leo) {
            unlinkat(p->dirfd, file, 0); /* state past a truncated end */
            continue;
        }
        size_t len = 0;
        int fd = openat(p->dirfd, file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        uint8_t *buf = NULL;
        if (fd >= 0 && fstat(fd, &st) == 0 && (buf = eddy_malloc((size_t)st.st_size + 1)) &&
            pread(fd, buf, (size_t)st.st_size, 0) == st.st_size)
            len = (size_t)st.st_size;
        if (fd >= 0) close(fd);
        int64_t at;
        log_producers_free(&p->producers);
        if (len && log_producers_load(&p->producers, buf, len, &at) == EDDY_OK && at == off) {
            from = off;
            eddy_free(buf);
            break;
        }
        eddy_free(buf);
        log_producers_free(&p->producers);
        elog_warn("log", "%s-%d: ignoring unreadable producer snapshot %s/%s", p->topic->name, p->index, p->dir, file);
    }
    if (from < p->leo && replay_producers(p, from) != EDDY_OK)
        elog_warn("log", "%s-%d: producer state replay stopped early", p->topic->name, p->index);
}

int log_partition_load(log_t *log, log_topic_t *t, int32_t index, bool create, bool clean,
                       log_partition_t **out, log_err_t *err) {
    log_partition_t *p = eddy_calloc(1, sizeof *p);
    if (!p) return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->watch_cond, NULL);
    pthread_cond_init(&p->sync_cond, NULL);
    p->log = log;
    p->topic = t;
    atomic_fetch_add(&t->refs, 1);
    p->index = index;
    p->cfg = t->cfg;
    log_producers_init(&p->producers);
    p->dirfd = -1;
    snprintf(p->dir, sizeof p->dir, "%s/%d", t->dir, index);
    i64s_t logs = {0}, snaps = {0};
    int rc;
    if (create && mkdir(p->dir, 0755) != 0 && errno != EEXIST) {
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot create %s: %s", p->dir, strerror(errno));
        goto fail;
    }
    p->dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->dirfd < 0 || list_dir(p->dirfd, &logs, &snaps) != EDDY_OK) {
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot list %s: %s", p->dir, strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < logs.n; i++) {
        log_segment_t *s = log_segment_open(p->dirfd, p->dir, logs.v[i], false, err);
        if (!s || push_segment(p, s) != EDDY_OK) {
            log_segment_release(s);
            rc = s ? log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory") : EDDY_ERR_IO;
            goto fail;
        }
    }
    if ((rc = recover(p, clean, err)) != EDDY_OK) goto fail;
    if (p->nsegs == 0) {
        log_segment_t *s = log_segment_open(p->dirfd, p->dir, 0, true, err);
        if (!s) {
            rc = EDDY_ERR_IO;
            goto fail;
        }
        push_segment(p, s);
    }
    p->log_start = p->segs[0]->base;
    p->leo = p->segs[p->nsegs - 1]->next_offset;
    p->written_leo = p->hw = p->leo;
    load_producers(p, &snaps);
    eddy_free(logs.v);
    eddy_free(snaps.v);
    *out = p;
    return EDDY_OK;
fail:
    eddy_free(logs.v);
    eddy_free(snaps.v);
    partition_free(p);
    return rc;
}

/* ---- group commit ---- */

void log_partition_ready_watches(log_partition_t *p) {
    for (log_watch_t **pp = &p->watches; *pp;) {
        log_watch_t *w = *pp;
        if (w->offset < p->hw) {
            *pp = w->next;
            w->status = EDDY_OK;
            w->hw = p->hw;
            w->next = p->firing;
            p->firing = w;
        } else {
            pp = &w->next;
        }
    }
}

/* Takes the completions whose offsets are below the high watermark (all of them with fail). */
log_completion_t *log_partition_take_completions(log_partition_t *p, bool all, size_t *n) {
    size_t k = 0;
    while (k < p->cq_len && (all || p->cq[(p->cq_head + k) % p->cq_cap].end_offset <= p->hw)) k++;
    *n = 0;
    if (!k) return NULL;
    log_completion_t *out = eddy_malloc(k * sizeof *out);
    if (!out) return NULL; /* retried at the next sync */
    for (size_t i = 0; i < k; i++) out[i] = p->cq[(p->cq_head + i) % p->cq_cap];
    p->cq_head = (p->cq_head + k) % p->cq_cap;
    p->cq_len -= k;
    *n = k;
    return out;
}

void log_completions_run(log_completion_t *c, size_t n, int status, int64_t log_start) {
    for (size_t i = 0; i < n; i++) {
        c[i].res.log_start_offset = log_start;
        c[i].cb(c[i].arg, status, &c[i].res);
    }
    eddy_free(c);
}

void log_partition_sync(log_partition_t *p, bool from_queue, bool wait) {
    pthread_mutex_lock(&p->lock);
    if (from_queue) p->queued = false;
    if (p->syncing && !wait) {
        p->again = true; /* the fsync in flight goes once more when it is done */
        pthread_mutex_unlock(&p->lock);
        return;
    }
    while (p->syncing) pthread_cond_wait(&p->sync_cond, &p->lock);
    p->syncing = true;
    do {
        p->again = false;
        if (p->closed || p->failed) break;
        /* Every dirty segment must be synced before the high watermark moves (usually the
         * active one, and the one before it after a roll). */
        log_segment_t *stack_segs[8], **segs = stack_segs;
        int64_t stack_sizes[8], *sizes = stack_sizes;
        size_t nsegs = 0, ndirty = 0;
        for (size_t i = 0; i < p->nsegs; i++) ndirty += p->segs[i]->dirty;
        if (ndirty > EDDY_ARRAY_LEN(stack_segs)) {
            segs = eddy_malloc(ndirty * sizeof *segs);
            sizes = eddy_malloc(ndirty * sizeof *sizes);
            if (!segs || !sizes) {
                if (segs) eddy_free(segs);
                if (sizes) eddy_free(sizes);
                p->again = true; /* try again; nothing was taken */
                pthread_mutex_unlock(&p->lock);
                usleep(1000);
                pthread_mutex_lock(&p->lock);
                continue;
            }
        }
        int64_t target = p->written_leo;
        bool new_file = false;
        for (size_t i = p->nsegs; i-- > 0;) {
            log_segment_t *s = p->segs[i];
            if (!s->dirty) continue;
            s->dirty = false;
            new_file |= s->new_file;
            s->new_file = false;
            log_segment_keep(s);
            sizes[nsegs] = s->written;
            segs[nsegs++] = s;
        }
        pthread_mutex_unlock(&p->lock);

        int err = 0;
        for (size_t i = 0; i < nsegs && !err; i++)
            if (fdatasync(segs[i]->fd) != 0) err = errno;
        atomic_fetch_add_explicit(&p->log->stats.fsyncs, nsegs, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->log->stats.sync_rounds, 1, memory_order_relaxed);
        if (!err && new_file && fsync(p->dirfd) != 0) err = errno ? errno : EIO;

        pthread_mutex_lock(&p->lock);
        size_t nc = 0;
        log_completion_t *done;
        if (err) {
            /* After a failed fsync the page cache state is unknown: take the partition offline
             * for appends (PostgreSQL's lesson) and fail everything pending. */
            elog_error("log", "%s-%d: fsync failed: %s; partition is offline for appends",
                       p->topic->name, p->index, strerror(err));
            p->failed = true;
            atomic_store(&p->log->io_failed, true);
            done = log_partition_take_completions(p, true, &nc);
        } else {
            for (size_t i = 0; i < nsegs; i++)
                if (segs[i]->readable < sizes[i]) segs[i]->readable = sizes[i];
            if (target > p->hw) p->hw = target;
            done = log_partition_take_completions(p, false, &nc);
            log_partition_ready_watches(p);
        }
        int64_t log_start = p->log_start;
        bool fire = p->firing != NULL;
        pthread_mutex_unlock(&p->lock);
        for (size_t i = 0; i < nsegs; i++) log_segment_release(segs[i]);
        if (segs != stack_segs) {
            eddy_free(segs);
            eddy_free(sizes);
        }
        log_completions_run(done, nc, err ? EDDY_ERR_IO : EDDY_OK, log_start);
        if (fire) log_partition_fire_watches(p);
        pthread_mutex_lock(&p->lock);
    } while (p->again);
    p->syncing = false;
    pthread_cond_broadcast(&p->sync_cond);
    pthread_mutex_unlock(&p->lock);
}

/* ---- watches ---- */

void log_partition_fire_watches(log_partition_t *p) {
    pthread_mutex_lock(&p->lock);
    if (p->draining) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    p->draining = true;
    log_watch_t *w;
    while ((w = p->firing)) {
        p->firing = w->next;
        p->running_watch = w->id;
        p->running_thread = pthread_self();
        pthread_mutex_unlock(&p->lock);
        w->cb(w->arg, w->status, w->hw);
        eddy_free(w);
        pthread_mutex_lock(&p->lock);
        p->running_watch = 0;
        pthread_cond_broadcast(&p->watch_cond);
    }
    p->draining = false;
    pthread_mutex_unlock(&p->lock);
}

int log_watch_add(log_partition_t *p, int64_t offset, log_watch_cb cb, void *arg, uint64_t *id) {
    *id = 0;
    log_watch_t *w = eddy_calloc(1, sizeof *w);
    if (!w) return EDDY_ERR_NOMEM;
    pthread_mutex_lock(&p->lock);
    if (p->closed) {
        pthread_mutex_unlock(&p->lock);
        eddy_free(w);
        return EDDY_ERR_CLOSED;
    }
    if (p->hw > offset) {
        pthread_mutex_unlock(&p->lock);
        eddy_free(w);
        return EDDY_OK;
    }
    w->id = atomic_fetch_add(&p->log->next_watch_id, 1) + 1;
    w->offset = offset;
    w->cb = cb;
    w->arg = arg;
    w->next = p->watches;
    p->watches = w;
    *id = w->id;
    pthread_mutex_unlock(&p->lock);
    return EDDY_OK;
}

static bool unlink_watch(log_watch_t **list, uint64_t id) {
    for (log_watch_t **pp = list; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            log_watch_t *w = *pp;
            *pp = w->next;
            eddy_free(w);
            return true;
        }
    }
    return false;
}

bool log_watch_cancel(log_partition_t *p, uint64_t id) {
    if (!id) return false;
    pthread_mutex_lock(&p->lock);
    bool removed = unlink_watch(&p->watches, id) || unlink_watch(&p->firing, id);
    if (!removed && !pthread_equal(p->running_thread, pthread_self()))
        while (p->running_watch == id) pthread_cond_wait(&p->watch_cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    return removed;
}

/* ---- shutdown ---- */

void log_partition_shutdown(log_partition_t *p, int status) {
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    size_t nc = 0;
    log_completion_t *done = log_partition_take_completions(p, true, &nc);
    for (log_watch_t *w = p->watches, *n; w; w = n) {
        n = w->next;
        w->status = EDDY_ERR_CLOSED;
        w->hw = p->hw;
        w->next = p->firing;
        p->firing = w;
    }
    p->watches = NULL;
    int64_t log_start = p->log_start;
    pthread_mutex_unlock(&p->lock);
    log_completions_run(done, nc, status, log_start);
    log_partition_fire_watches(p);
}

static void write_snapshot(log_partition_t *p, int64_t offset, const uint8_t *buf, size_t len) {
    char file[40];
    snprintf(file, sizeof file, "%020" PRId64 ".snapshot", offset);
    if (log_file_write_at(p->dirfd, file, buf, len) != EDDY_OK)
        elog_warn("log", "%s-%d: cannot write %s/%s: %s", p->topic->name, p->index, p->dir, file, strerror(errno));
}

/* Writes a sealed segment's pending index files and producer snapshot (no lock held). */
static void finish_sealed(log_partition_t *p, log_segment_t *s) {
    log_err_t e;
    if (fdatasync(s->fd) != 0 || log_segment_index_write(s, &e) != EDDY_OK) {
        if (!p->closed) elog_warn("log", "%s-%d: cannot write the indexes of %s", p->topic->name, p->index, s->path);
        return;
    }
    if (s->snapshot) write_snapshot(p, s->next_offset, s->snapshot, s->snapshot_len);
    fsync(p->dirfd);
}

void log_partition_close_files(log_partition_t *p) {
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->nsegs; i++) {
        log_segment_t *s = p->segs[i];
        if (s->index_pending) {
            finish_sealed(p, s);
            s->index_pending = false;
        }
    }
    log_segment_t *a = p->segs[p->nsegs - 1];
    log_err_t e;
    if (!p->failed && fdatasync(a->fd) == 0 && log_segment_index_write(a, &e) == EDDY_OK) {
        size_t len;
        uint8_t *snap = log_producers_snapshot(&p->producers, p->leo, &len);
        if (snap) write_snapshot(p, p->leo, snap, len);
        eddy_free(snap);
        fsync(p->dirfd);
    }
    pthread_mutex_unlock(&p->lock);
}

/* ---- maintenance ---- */

static bool expired(const log_segment_t *s, int64_t now_ms, int64_t retention_ms) {
    int64_t ts = s->max_ts >= 0 ? s->max_ts : s->created_ms;
    return now_ms - ts > retention_ms;
}

/* Removes producer snapshots below the log start, keeping the newest. */
static void prune_snapshots(log_partition_t *p, int64_t log_start) {
    i64s_t logs = {0}, snaps = {0};
    if (list_dir(p->dirfd, &logs, &snaps) == EDDY_OK) {
        for (size_t i = 0; i + 1 < snaps.n; i++) {
            if (snaps.v[i] >= log_start) break;
            char file[40];
            snprintf(file, sizeof file, "%020" PRId64 ".snapshot", snaps.v[i]);
            unlinkat(p->dirfd, file, 0);
        }
    }
    eddy_free(logs.v);
    eddy_free(snaps.v);
}

int log_partition_maintain(log_partition_t *p, int64_t now_ms) {
    log_segment_t *gone[64];
    size_t ngone = 0;
    pthread_mutex_lock(&p->lock);
    if (p->closed) {
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    /* Producers idle longer than producer.id.expiration.ms are forgotten. */
    log_producers_expire(&p->producers, now_ms - p->log->opts.producer_id_expiration_ms);
    const log_config_t *c = &p->cfg;
    if (c->cleanup_policy & LOG_CLEANUP_DELETE) {
        size_t k = 0;
        int64_t total = 0;
        for (size_t i = 0; i < p->nsegs; i++) total += p->segs[i]->size;
        int64_t excess = c->retention_bytes >= 0 ? total - c->retention_bytes : 0;
        while (k < p->nsegs && ngone < EDDY_ARRAY_LEN(gone)) {
            log_segment_t *s = p->segs[k];
            bool active = k + 1 == p->nsegs;
            bool by_time = c->retention_ms >= 0 && expired(s, now_ms, c->retention_ms);
            bool by_size = !active && excess - s->size >= 0 && c->retention_bytes >= 0;
            if (!by_time && !by_size) break;
            if (s->next_offset > p->hw || s->readable < s->size) break; /* not durable yet */
            if (active) {
                if (s->size == 0) break;
                /* As Kafka: roll so that the expired active segment can go. */
                if (log_partition_roll(p, NULL) != EDDY_OK) break;
            }
            excess -= s->size;
            gone[ngone++] = s;
            k++;
        }
        if (k) {
            memmove(p->segs, p->segs + k, (p->nsegs - k) * sizeof *p->segs);
            p->nsegs -= k;
            p->log_start = p->segs[0]->base;
        }
    }
    /* Sealed segments whose index files are not written yet. */
    log_segment_t *pending[16];
    size_t npending = 0;
    for (size_t i = 0; i < p->nsegs && npending < EDDY_ARRAY_LEN(pending); i++) {
        log_segment_t *s = p->segs[i];
        if (!s->index_pending || s->written < s->size) continue; /* writes still landing */
        log_segment_keep(s);
        pending[npending++] = s;
    }
    int64_t log_start = p->log_start;
    pthread_mutex_unlock(&p->lock);

    for (size_t i = 0; i < npending; i++) {
        finish_sealed(p, pending[i]);
        pthread_mutex_lock(&p->lock);
        pending[i]->index_pending = false;
        eddy_free(pending[i]->snapshot);
        pending[i]->snapshot = NULL;
        pthread_mutex_unlock(&p->lock);
        log_segment_release(pending[i]);
    }
    for (size_t i = 0; i < ngone; i++) {
        elog_info("log", "%s-%d: retention deleted segment %lld (%lld bytes)", p->topic->name,
                  p->index, (long long)gone[i]->base, (long long)gone[i]->size);
        log_segment_unlink(gone[i]);
        log_segment_release(gone[i]);
    }
    if (ngone) {
        fsync(p->dirfd);
        prune_snapshots(p, log_start);
    }
    return (int)ngone;
}
