/* Consumer-group storage: committed offsets and the coordinator's opaque state per group, in one
 * append-only file DIR/groups.log made durable by the sync workers' group commit, loaded into
 * memory at open, compacted (rewritten with only the live records) when it has grown to twice
 * what it holds, and with Kafka's offset retention applied by the maintenance pass.
 *
 * File: "EDDYGRP1", then records [u32 length][u32 crc32c of the payload][payload], payload =
 *   u8 type; 1 OFFSET: group, topic (u16-prefixed), i32 partition, i64 offset, i32 leader
 *   epoch, metadata (u16-prefixed), i64 commit time; 2 OFFSET_DELETE: group, topic, i32
 *   partition; 3 STATE: group, i64 time, u8 empty, u32-prefixed blob; 4 GROUP_DELETE: group.
 * A live write appends the record and then applies the very same bytes to memory, through the
 * parser that loading uses. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

#define MAGIC "EDDYGRP1"
#define MAGIC_LEN 8
enum { REC_OFFSET = 1, REC_OFFSET_DELETE = 2, REC_STATE = 3, REC_GROUP_DELETE = 4 };

typedef struct {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int64_t commit_time;
} goff_t;

struct log_group {
    goff_t *offs; /* sorted by topic, partition */
    size_t n, cap;
    uint8_t *state;
    size_t state_len;
    bool has_state;
    bool empty;
    int64_t state_time;
};

static void group_free(log_group_t *g) {
    for (size_t i = 0; i < g->n; i++) {
        eddy_free(g->offs[i].topic);
        eddy_free(g->offs[i].metadata);
    }
    eddy_free(g->offs);
    eddy_free(g->state);
    eddy_free(g);
}

static int off_cmp(const goff_t *o, eddy_view_t topic, int32_t partition) {
    size_t tl = strlen(o->topic);
    int c = memcmp(o->topic, topic.ptr, EDDY_MIN(tl, topic.len));
    if (!c) c = tl < topic.len ? -1 : tl > topic.len;
    if (!c) c = o->partition < partition ? -1 : o->partition > partition;
    return c;
}

/* Index of (topic, partition) or where it would go (*found false). */
static size_t off_find(const log_group_t *g, eddy_view_t topic, int32_t partition, bool *found) {
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = off_cmp(&g->offs[mid], topic, partition);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

static log_group_t *group_get(log_groups_t *gs, eddy_view_t name, bool create) {
    char key[LOG_GROUP_NAME_MAX + 1];
    memcpy(key, name.ptr, name.len);
    key[name.len] = 0;
    log_group_t *g = log_map_get(&gs->groups, key);
    if (g || !create) return g;
    g = eddy_calloc(1, sizeof *g);
    if (g && log_map_put(&gs->groups, key, g) != EDDY_OK) {
        eddy_free(g);
        g = NULL;
    }
    return g;
}

static void group_drop_if_empty(log_groups_t *gs, eddy_view_t name, log_group_t *g) {
    if (g->n || g->has_state) return;
    char key[LOG_GROUP_NAME_MAX + 1];
    memcpy(key, name.ptr, name.len);
    key[name.len] = 0;
    log_map_del(&gs->groups, key);
    group_free(g);
}

/* One record's payload, parsed (views into the payload). */
typedef struct {
    uint8_t type;
    eddy_view_t group, topic, meta, blob;
    int32_t partition, epoch;
    int64_t offset, time;
    bool empty;
} grec_t;

static int grec_parse(const uint8_t *p, size_t len, grec_t *g) {
    memset(g, 0, sizeof *g);
    rd_t r = rd_init(p, len);
    g->type = rd_u8(&r);
    g->group = rd_view(&r, rd_u16(&r));
    if (!rd_ok(&r) || g->group.len == 0 || g->group.len > LOG_GROUP_NAME_MAX) return EDDY_ERR_CORRUPT;
    switch (g->type) {
    case REC_OFFSET:
        g->topic = rd_view(&r, rd_u16(&r));
        g->partition = rd_i32(&r);
        g->offset = rd_i64(&r);
        g->epoch = rd_i32(&r);
        g->meta = rd_view(&r, rd_u16(&r));
        g->time = rd_i64(&r);
        break;
    case REC_OFFSET_DELETE:
        g->topic = rd_view(&r, rd_u16(&r));
        g->partition = rd_i32(&r);
        break;
    case REC_STATE:
        g->time = rd_i64(&r);
        g->empty = rd_u8(&r) != 0;
        g->blob = rd_view(&r, rd_u32(&r));
        break;
    case REC_GROUP_DELETE: break;
    default: return EDDY_ERR_CORRUPT;
    }
    return rd_ok(&r) && !rd_remaining(&r) ? EDDY_OK : EDDY_ERR_CORRUPT;
}

/* Applies one record's payload to memory. EDDY_ERR_CORRUPT when it does not parse. */
static int apply_record(log_groups_t *gs, const uint8_t *p, size_t len) {
    grec_t rec;
    if (grec_parse(p, len, &rec) != EDDY_OK) return EDDY_ERR_CORRUPT;
    eddy_view_t name = rec.group;
    switch (rec.type) {
    case REC_OFFSET: {
        log_group_t *g = group_get(gs, name, true);
        if (!g) return EDDY_ERR_NOMEM;
        bool found;
        size_t i = off_find(g, rec.topic, rec.partition, &found);
        char *m = eddy_strndup((const char *)rec.meta.ptr, rec.meta.len);
        if (!m) return EDDY_ERR_NOMEM;
        if (!found) {
            if (g->n == g->cap) {
                size_t cap = g->cap ? g->cap * 2 : 8;
                goff_t *n = eddy_realloc(g->offs, cap * sizeof *n);
                if (!n) {
                    eddy_free(m);
                    return EDDY_ERR_NOMEM;
                }
                g->offs = n;
                g->cap = cap;
            }
            char *t = eddy_strndup((const char *)rec.topic.ptr, rec.topic.len);
            if (!t) {
                eddy_free(m);
                return EDDY_ERR_NOMEM;
            }
            memmove(&g->offs[i + 1], &g->offs[i], (g->n - i) * sizeof *g->offs);
            g->n++;
            g->offs[i].topic = t;
            g->offs[i].partition = rec.partition;
            g->offs[i].metadata = NULL;
        }
        goff_t *o = &g->offs[i];
        eddy_free(o->metadata);
        o->metadata = m;
        o->offset = rec.offset;
        o->leader_epoch = rec.epoch;
        o->commit_time = rec.time;
        return EDDY_OK;
    }
    case REC_OFFSET_DELETE: {
        log_group_t *g = group_get(gs, name, false);
        bool found = false;
        size_t i = g ? off_find(g, rec.topic, rec.partition, &found) : 0;
        if (found) {
            eddy_free(g->offs[i].topic);
            eddy_free(g->offs[i].metadata);
            memmove(&g->offs[i], &g->offs[i + 1], (g->n - i - 1) * sizeof *g->offs);
            g->n--;
            group_drop_if_empty(gs, name, g);
        }
        return EDDY_OK;
    }
    case REC_STATE: {
        log_group_t *g = group_get(gs, name, true);
        if (!g) return EDDY_ERR_NOMEM;
        uint8_t *copy = eddy_memdup(rec.blob.ptr, rec.blob.len);
        if (!copy) return EDDY_ERR_NOMEM;
        eddy_free(g->state);
        g->state = copy;
        g->state_len = rec.blob.len;
        g->has_state = true;
        g->empty = rec.empty;
        g->state_time = rec.time;
        return EDDY_OK;
    }
    default: { /* REC_GROUP_DELETE */
        char key[LOG_GROUP_NAME_MAX + 1];
        memcpy(key, name.ptr, name.len);
        key[name.len] = 0;
        log_group_t *g = log_map_del(&gs->groups, key);
        if (g) group_free(g);
        return EDDY_OK;
    }
    }
}

/* Prints every record of a groups.log image (the dump tool); returns 0, or 1 when the file
 * ends in a torn or corrupt record (reported). */
int log_groups_dump(const uint8_t *buf, size_t len) {
    if (len < MAGIC_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0) {
        printf("not a groups file (no %s header)\n", MAGIC);
        return 1;
    }
    size_t pos = MAGIC_LEN, n = 0;
    while (pos < len) {
        uint32_t rlen = len - pos >= 8 ? load_u32(buf + pos) : 0;
        grec_t g;
        if (len - pos < 8 || rlen > len - pos - 8) {
            printf("position: %zu: torn record\n", pos);
            return 1;
        }
        if (crc32c(buf + pos + 8, rlen) != load_u32(buf + pos + 4) || grec_parse(buf + pos + 8, rlen, &g) != EDDY_OK) {
            printf("position: %zu: corrupt record\n", pos);
            return 1;
        }
        printf("position: %zu group: \"%.*s\" ", pos, (int)g.group.len, (const char *)g.group.ptr);
        if (g.type == REC_OFFSET)
            printf("OFFSET %.*s-%d offset: %lld leaderEpoch: %d metadata: \"%.*s\" commitTime: %lld\n",
                   (int)g.topic.len, (const char *)g.topic.ptr, g.partition, (long long)g.offset, g.epoch,
                   (int)g.meta.len, (const char *)g.meta.ptr, (long long)g.time);
        else if (g.type == REC_OFFSET_DELETE)
            printf("OFFSET_DELETE %.*s-%d\n", (int)g.topic.len, (const char *)g.topic.ptr, g.partition);
        else if (g.type == REC_STATE)
            printf("STATE time: %lld empty: %s blob: %zu bytes\n", (long long)g.time, g.empty ? "true" : "false", g.blob.len);
        else
            printf("GROUP_DELETE\n");
        pos += 8 + rlen;
        n++;
    }
    printf("%zu records, %zu bytes\n", n, len);
    return 0;
}

/* ---- record encoding ---- */

static size_t rec_begin(wr_t *w, uint8_t type, const char *group) {
    size_t at = wr_mark(w, 8);
    wr_u8(w, type);
    size_t n = strlen(group);
    wr_u16(w, (uint16_t)n);
    wr_bytes(w, group, n);
    return at;
}

static void rec_end(wr_t *w, size_t at) {
    if (!wr_ok(w)) return;
    size_t len = w->len - at - 8;
    wr_patch_u32(w, at, (uint32_t)len);
    wr_patch_u32(w, at + 4, crc32c(w->buf + at + 8, len));
}

static void put_str16(wr_t *w, const char *s) {
    size_t n = s ? strlen(s) : 0;
    wr_u16(w, (uint16_t)n);
    wr_bytes(w, s ? s : "", n);
}

static void enc_offset(wr_t *w, const char *group, const char *topic, int32_t partition,
                       int64_t offset, int32_t epoch, const char *meta, int64_t time) {
    size_t at = rec_begin(w, REC_OFFSET, group);
    put_str16(w, topic);
    wr_i32(w, partition);
    wr_i64(w, offset);
    wr_i32(w, epoch);
    put_str16(w, meta);
    wr_i64(w, time);
    rec_end(w, at);
}

static void enc_state(wr_t *w, const char *group, int64_t time, bool empty, const void *blob,
                      size_t len) {
    size_t at = rec_begin(w, REC_STATE, group);
    wr_i64(w, time);
    wr_u8(w, empty);
    wr_u32(w, (uint32_t)len);
    wr_bytes(w, blob, len);
    rec_end(w, at);
}

/* ---- writing ---- */

static int apply_all(log_groups_t *gs, const uint8_t *p, size_t len) {
    for (size_t pos = 0; pos + 8 <= len;) {
        uint32_t n = load_u32(p + pos);
        int rc = apply_record(gs, p + pos + 8, n);
        if (rc != EDDY_OK) return rc;
        pos += 8 + n;
    }
    return EDDY_OK;
}

/* Appends encoded records to the file, applies them, and arranges cb for when they are durable.
 * gs->lock is taken here. */
static int groups_write(log_t *log, wr_t *w, log_done_cb cb, void *arg, log_err_t *err) {
    log_groups_t *gs = &log->groups;
    if (!wr_ok(w)) return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&gs->lock);
    int rc = EDDY_OK;
    if (gs->failed || gs->fd < 0) {
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "group storage is offline after a disk error");
        goto unlock;
    }
    bool group_mode = log->opts.fsync_mode == LOG_FSYNC_GROUP;
    if (group_mode && cb && gs->npending == gs->cappending) {
        size_t cap = gs->cappending ? gs->cappending * 2 : 16;
        struct log_gpending *n = eddy_realloc(gs->pending, cap * sizeof *n);
        if (!n) {
            rc = log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
            goto unlock;
        }
        gs->pending = n;
        gs->cappending = cap;
    }
    size_t done = 0;
    while (done < w->len) {
        ssize_t n = pwrite(gs->fd, w->buf + done, w->len - done, gs->file_bytes + (int64_t)done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    if (done < w->len) {
        if (ftruncate(gs->fd, gs->file_bytes) != 0) gs->failed = true;
        rc = log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot write %s: %s", gs->path, strerror(errno));
        goto unlock;
    }
    gs->file_bytes += (int64_t)w->len;
    if ((rc = apply_all(gs, w->buf, w->len)) != EDDY_OK) {
        rc = log_fail(err, rc, LOG_ERR_NOMEM, "out of memory applying a group record");
        goto unlock;
    }
    gs->dirty = true;
    if (group_mode && cb) gs->pending[gs->npending++] = (struct log_gpending){cb, arg};
    pthread_mutex_unlock(&gs->lock);
    if (log->opts.fsync_mode != LOG_FSYNC_NONE) log_sync_enqueue_groups(log);
    if (!group_mode && cb) cb(arg, EDDY_OK);
    return EDDY_OK;
unlock:
    pthread_mutex_unlock(&gs->lock);
    return rc;
}

void log_groups_sync(log_t *log) {
    log_groups_t *gs = &log->groups;
    pthread_mutex_lock(&gs->fsync_lock);
    pthread_mutex_lock(&gs->lock);
    size_t n = gs->npending;
    struct log_gpending *taken = n ? eddy_memdup(gs->pending, n * sizeof *taken) : NULL;
    if (n && !taken) n = 0; /* retried at the next sync */
    else gs->npending = 0;
    int fd = gs->fd;
    bool dirty = gs->dirty;
    gs->dirty = false;
    pthread_mutex_unlock(&gs->lock);
    int status = EDDY_OK;
    if (dirty && fd >= 0) atomic_fetch_add_explicit(&log->stats.fsyncs, 1, memory_order_relaxed);
    if (dirty && fd >= 0 && fdatasync(fd) != 0) {
        elog_error("log", "fsync of %s failed: %s; group storage is offline", gs->path, strerror(errno));
        status = EDDY_ERR_IO;
        pthread_mutex_lock(&gs->lock);
        gs->failed = true;
        pthread_mutex_unlock(&gs->lock);
        atomic_store(&log->io_failed, true);
    }
    /* The callbacks run before fsync_lock is released, so that a flush waiting on it returns
     * only after every earlier write was acknowledged. */
    for (size_t i = 0; i < n; i++) taken[i].cb(taken[i].arg, status);
    pthread_mutex_unlock(&gs->fsync_lock);
    eddy_free(taken);
}

/* ---- API ---- */

static int check_group(const char *group, log_err_t *err) {
    size_t n = group ? strlen(group) : 0;
    if (n == 0 || n > LOG_GROUP_NAME_MAX)
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_GROUP, "group id must have 1 to %d bytes", LOG_GROUP_NAME_MAX);
    return EDDY_OK;
}

int log_group_commit_offsets(log_t *log, const char *group, const log_group_offset_t *offsets,
                             size_t n, log_done_cb cb, void *arg, log_err_t *err) {
    int rc = check_group(group, err);
    if (rc != EDDY_OK) return rc;
    for (size_t i = 0; i < n; i++) {
        if (!offsets[i].topic || !offsets[i].topic[0] || strlen(offsets[i].topic) > LOG_TOPIC_NAME_MAX)
            return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_ARG, "offset %zu has no valid topic", i);
        if (offsets[i].metadata && strlen(offsets[i].metadata) > LOG_OFFSET_METADATA_MAX)
            return log_fail(err, EDDY_ERR_TOO_LARGE, LOG_ERR_METADATA_TOO_LARGE,
                            "offset metadata exceeds %d bytes", LOG_OFFSET_METADATA_MAX);
    }
    wr_t w;
    wr_init(&w, 64 * n + 64);
    int64_t now = time_now_ms();
    for (size_t i = 0; i < n; i++)
        enc_offset(&w, group, offsets[i].topic, offsets[i].partition, offsets[i].offset,
                   offsets[i].leader_epoch, offsets[i].metadata, now);
    rc = n ? groups_write(log, &w, cb, arg, err) : EDDY_OK;
    if (!n && cb) cb(arg, EDDY_OK);
    wr_free(&w);
    return rc;
}

int log_group_delete_offsets(log_t *log, const char *group, const log_group_offset_t *offsets,
                             size_t n, log_done_cb cb, void *arg, log_err_t *err) {
    int rc = check_group(group, err);
    if (rc != EDDY_OK) return rc;
    wr_t w;
    wr_init(&w, 64 * n + 64);
    for (size_t i = 0; i < n; i++) {
        if (!offsets[i].topic) continue;
        size_t at = rec_begin(&w, REC_OFFSET_DELETE, group);
        put_str16(&w, offsets[i].topic);
        wr_i32(&w, offsets[i].partition);
        rec_end(&w, at);
    }
    rc = w.len ? groups_write(log, &w, cb, arg, err) : EDDY_OK;
    if (!w.len && cb) cb(arg, EDDY_OK);
    wr_free(&w);
    return rc;
}

int log_group_fetch_offsets(log_t *log, const char *group, const char *topic,
                            log_group_offset_t **out, size_t *count) {
    log_groups_t *gs = &log->groups;
    *out = NULL;
    *count = 0;
    if (!group || strlen(group) > LOG_GROUP_NAME_MAX) return EDDY_OK;
    pthread_mutex_lock(&gs->lock);
    log_group_t *g = group_get(gs, eddy_view_str(group), false);
    size_t n = 0, text = 0;
    for (size_t i = 0; g && i < g->n; i++) {
        if (topic && strcmp(g->offs[i].topic, topic)) continue;
        n++;
        text += strlen(g->offs[i].topic) + strlen(g->offs[i].metadata) + 2;
    }
    int rc = EDDY_OK;
    if (n) {
        log_group_offset_t *v = eddy_malloc(n * sizeof *v + text);
        if (!v) {
            rc = EDDY_ERR_NOMEM;
        } else {
            char *p = (char *)(v + n);
            size_t k = 0;
            for (size_t i = 0; i < g->n; i++) {
                const goff_t *o = &g->offs[i];
                if (topic && strcmp(o->topic, topic)) continue;
                size_t tl = strlen(o->topic) + 1, ml = strlen(o->metadata) + 1;
                memcpy(p, o->topic, tl);
                memcpy(p + tl, o->metadata, ml);
                v[k++] = (log_group_offset_t){p, o->partition, o->offset, o->leader_epoch, p + tl, o->commit_time};
                p += tl + ml;
            }
            *out = v;
            *count = n;
        }
    }
    pthread_mutex_unlock(&gs->lock);
    return rc;
}

int log_group_state_save(log_t *log, const char *group, const void *blob, size_t len, bool empty,
                         log_done_cb cb, void *arg, log_err_t *err) {
    int rc = check_group(group, err);
    if (rc != EDDY_OK) return rc;
    if (len > UINT32_MAX / 2) return log_fail(err, EDDY_ERR_TOO_LARGE, LOG_ERR_INVALID_ARG, "group state too large");
    wr_t w;
    wr_init(&w, len + 64);
    enc_state(&w, group, time_now_ms(), empty, blob, len);
    rc = groups_write(log, &w, cb, arg, err);
    wr_free(&w);
    return rc;
}

int log_group_state_load(log_t *log, const char *group, void **blob, size_t *len) {
    log_groups_t *gs = &log->groups;
    *blob = NULL;
    *len = 0;
    if (!group || !group[0] || strlen(group) > LOG_GROUP_NAME_MAX) return EDDY_ERR_NOT_FOUND;
    pthread_mutex_lock(&gs->lock);
    log_group_t *g = group_get(gs, eddy_view_str(group), false);
    int rc = EDDY_ERR_NOT_FOUND;
    if (g && g->has_state) {
        *blob = eddy_memdup(g->state, g->state_len);
        *len = g->state_len;
        rc = *blob ? EDDY_OK : EDDY_ERR_NOMEM;
    }
    pthread_mutex_unlock(&gs->lock);
    return rc;
}

static int cmp_ginfo(const void *a, const void *b) {
    return strcmp(((const log_group_info_t *)a)->name, ((const log_group_info_t *)b)->name);
}

int log_group_list(log_t *log, log_group_info_t **out, size_t *count) {
    log_groups_t *gs = &log->groups;
    pthread_mutex_lock(&gs->lock);
    size_t n = gs->groups.count, text = 0;
    const char *k;
    void *v;
    for (size_t i = 0; log_map_next(&gs->groups, &i, &k, &v);) text += strlen(k) + 1;
    log_group_info_t *arr = eddy_malloc((n ? n : 1) * sizeof *arr + text);
    if (!arr) {
        pthread_mutex_unlock(&gs->lock);
        return EDDY_ERR_NOMEM;
    }
    char *p = (char *)(arr + n);
    size_t j = 0;
    for (size_t i = 0; log_map_next(&gs->groups, &i, &k, &v);) {
        log_group_t *g = v;
        size_t l = strlen(k) + 1;
        memcpy(p, k, l);
        arr[j++] = (log_group_info_t){p, g->has_state, g->empty, g->n};
        p += l;
    }
    pthread_mutex_unlock(&gs->lock);
    if (j > 1) qsort(arr, j, sizeof *arr, cmp_ginfo);
    *out = arr;
    *count = j;
    return EDDY_OK;
}

int log_group_delete(log_t *log, const char *group, log_done_cb cb, void *arg, log_err_t *err) {
    int rc = check_group(group, err);
    if (rc != EDDY_OK) return rc;
    pthread_mutex_lock(&log->groups.lock);
    bool known = group_get(&log->groups, eddy_view_str(group), false) != NULL;
    pthread_mutex_unlock(&log->groups.lock);
    if (!known) return log_fail(err, EDDY_ERR_NOT_FOUND, LOG_ERR_GROUP_NOT_FOUND, "unknown group '%s'", group);
    wr_t w;
    wr_init(&w, 64);
    rec_end(&w, rec_begin(&w, REC_GROUP_DELETE, group));
    rc = groups_write(log, &w, cb, arg, err);
    wr_free(&w);
    return rc;
}

/* ---- open, close, compaction, retention ---- */

static void encode_live(log_groups_t *gs, wr_t *w) {
    const char *k;
    void *v;
    for (size_t i = 0; log_map_next(&gs->groups, &i, &k, &v);) {
        log_group_t *g = v;
        if (g->has_state) enc_state(w, k, g->state_time, g->empty, g->state, g->state_len);
        for (size_t j = 0; j < g->n; j++) {
            const goff_t *o = &g->offs[j];
            enc_offset(w, k, o->topic, o->partition, o->offset, o->leader_epoch, o->metadata, o->commit_time);
        }
    }
}

int log_groups_open(log_t *log, log_err_t *err) {
    log_groups_t *gs = &log->groups;
    pthread_mutex_init(&gs->lock, NULL);
    pthread_mutex_init(&gs->fsync_lock, NULL);
    log_map_init(&gs->groups);
    snprintf(gs->path, sizeof gs->path, "%s/groups.log", log->dir);
    gs->fd = open(gs->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (gs->fd < 0) return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot open %s: %s", gs->path, strerror(errno));
    struct stat st;
    if (fstat(gs->fd, &st) != 0) return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot stat %s", gs->path);
    size_t len = (size_t)st.st_size;
    uint8_t *buf = eddy_malloc(len + 1);
    if (!buf) return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory loading %s", gs->path);
    if (pread(gs->fd, buf, len, 0) != (ssize_t)len) {
        eddy_free(buf);
        return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot read %s", gs->path);
    }
    size_t pos = 0;
    const char *why = NULL;
    if (len < MAGIC_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0) {
        if (len) why = "bad file header";
    } else {
        pos = MAGIC_LEN;
        while (pos < len) {
            if (len - pos < 8) {
                why = "torn record header";
                break;
            }
            uint32_t n = load_u32(buf + pos);
            if (n > len - pos - 8) {
                why = "torn record";
                break;
            }
            if (crc32c(buf + pos + 8, n) != load_u32(buf + pos + 4)) {
                why = "record CRC mismatch";
                break;
            }
            int rc = apply_record(gs, buf + pos + 8, n);
            if (rc == EDDY_ERR_NOMEM) {
                eddy_free(buf);
                return log_fail(err, rc, LOG_ERR_NOMEM, "out of memory loading %s", gs->path);
            }
            if (rc != EDDY_OK) {
                why = "malformed record";
                break;
            }
            pos += 8 + n;
        }
    }
    eddy_free(buf);
    if (pos < MAGIC_LEN) {
        if (why) elog_warn("log", "%s: %s; starting it afresh", gs->path, why);
        if (ftruncate(gs->fd, 0) != 0 || pwrite(gs->fd, MAGIC, MAGIC_LEN, 0) != MAGIC_LEN ||
            fdatasync(gs->fd) != 0 || log_fsync_dir(log->dir) != EDDY_OK)
            return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot initialize %s", gs->path);
        pos = MAGIC_LEN;
    } else if (why) {
        elog_warn("log", "%s: %s at byte %zu of %zu; truncating there", gs->path, why, pos, len);
        if (ftruncate(gs->fd, (off_t)pos) != 0 || fdatasync(gs->fd) != 0)
            return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot truncate %s", gs->path);
    }
    gs->file_bytes = (int64_t)pos;
    return EDDY_OK;
}

void log_groups_close(log_t *log) {
    log_groups_t *gs = &log->groups;
    if (gs->fd >= 0) {
        if (gs->dirty) fdatasync(gs->fd);
        close(gs->fd);
    }
    gs->fd = -1;
    for (size_t i = 0; i < gs->npending; i++) gs->pending[i].cb(gs->pending[i].arg, EDDY_OK);
    eddy_free(gs->pending);
    const char *k;
    void *v;
    for (size_t i = 0; log_map_next(&gs->groups, &i, &k, &v);) group_free(v);
    log_map_free(&gs->groups);
    if (gs->path[0]) {
        pthread_mutex_destroy(&gs->lock);
        pthread_mutex_destroy(&gs->fsync_lock);
    }
}

/* Rewrites the file with the live records only. The snapshot is encoded under the lock, written
 * and fsynced without it; records appended meanwhile are copied over before the rename. */
static void compact(log_t *log) {
    log_groups_t *gs = &log->groups;
    char tmp[LOG_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", gs->path);
    pthread_mutex_lock(&gs->fsync_lock);
    pthread_mutex_lock(&gs->lock);
    wr_t w;
    wr_init(&w, (size_t)gs->live_bytes + 64);
    wr_bytes(&w, MAGIC, MAGIC_LEN);
    encode_live(gs, &w);
    int64_t covered = gs->file_bytes;
    pthread_mutex_unlock(&gs->lock);
    int fd = -1;
    if (!wr_ok(&w)) goto out;
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || pwrite(fd, w.buf, w.len, 0) != (ssize_t)w.len || fdatasync(fd) != 0) goto out;
    pthread_mutex_lock(&gs->lock);
    int64_t tail = gs->file_bytes - covered, size = (int64_t)w.len;
    uint8_t *tb = tail ? eddy_malloc((size_t)tail) : NULL;
    bool ok = !tail || (tb && pread(gs->fd, tb, (size_t)tail, covered) == tail &&
                        pwrite(fd, tb, (size_t)tail, size) == tail);
    eddy_free(tb);
    if (ok && rename(tmp, gs->path) == 0) {
        elog_info("log", "compacted %s from %lld to %lld bytes", gs->path, (long long)gs->file_bytes,
                  (long long)(size + tail));
        close(gs->fd);
        gs->fd = fd;
        fd = -1;
        gs->file_bytes = size + tail;
        if (tail) gs->dirty = true;
    }
    pthread_mutex_unlock(&gs->lock);
    log_fsync_dir(log->dir);
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    wr_free(&w);
    pthread_mutex_unlock(&gs->fsync_lock);
    if (gs->dirty) log_sync_enqueue_groups(log);
}

void log_groups_maintain(log_t *log, int64_t now_ms) {
    log_groups_t *gs = &log->groups;
    int64_t cutoff = now_ms - log->opts.offsets_retention_ms;
    pthread_mutex_lock(&gs->lock);
    size_t expired = 0;
    const char *k;
    void *v;
    /* As Kafka (KIP-211): offsets of a group with members never expire; of an empty group, all at
     * once when it has been empty for the retention period; without group state (standalone
     * consumers), each when its commit is older than the retention period. */
    for (size_t i = 0; log_map_next(&gs->groups, &i, &k, &v);) {
        log_group_t *g = v;
        if (g->has_state && !g->empty) continue;
        size_t keep = 0;
        for (size_t j = 0; j < g->n; j++) {
            int64_t base = g->has_state ? g->state_time : g->offs[j].commit_time;
            if (base < cutoff) {
                eddy_free(g->offs[j].topic);
                eddy_free(g->offs[j].metadata);
                expired++;
            } else {
                g->offs[keep++] = g->offs[j];
            }
        }
        g->n = keep;
        if (g->has_state && g->state_time < cutoff && g->n == 0) {
            eddy_free(g->state);
            g->state = NULL;
            g->has_state = false;
        }
    }
    /* Groups left with nothing go (iteration above must not delete while walking the map). */
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; log_map_next(&gs->groups, &i, &k, &v);) {
            log_group_t *g = v;
            if (!g->n && !g->has_state) {
                log_map_del(&gs->groups, k);
                group_free(g);
                again = true;
                break;
            }
        }
    }
    wr_t w;
    wr_init(&w, 0);
    encode_live(gs, &w);
    gs->live_bytes = (int64_t)w.len + MAGIC_LEN;
    wr_free(&w);
    bool big = gs->file_bytes > 2 * gs->live_bytes + (1 << 20);
    pthread_mutex_unlock(&gs->lock);
    if (expired) elog_info("log", "expired %zu committed offsets", expired);
    if (big) compact(log);
}
