/* Appending: validation of a Produce record set (outside the partition lock), producer
 * sequence checks, offset assignment in place and a reservation of the file range (under the
 * lock), then the write itself without the lock, so that readers and other appenders never wait
 * for a pwrite. Written ranges become visible in reservation order; the sync workers fsync them
 * and fire the completions. No per-record work: the batch header gives offsets and counts, the
 * CRC covers the rest. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log/log_int.h"

int log_partition_roll(log_partition_t *p, log_err_t *err) {
    log_segment_t *old = p->segs[p->nsegs - 1];
    if (p->nsegs == p->capsegs) {
        size_t cap = p->capsegs * 2;
        log_segment_t **n = eddy_realloc(p->segs, cap * sizeof *n);
        if (!n) return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
        p->segs = n;
        p->capsegs = cap;
    }
    log_segment_t *s = log_segment_open(p->dirfd, p->dir, p->leo, true, err);
    if (!s) return EDDY_ERR_IO;
    size_t len = 0;
    old->snapshot = log_producers_snapshot(&p->producers, p->leo, &len);
    old->snapshot_len = len;
    log_segment_index_seal(old);
    old->sealed = true;
    old->index_pending = true;
    s->dirty = true; /* its directory entry must reach the disk before data in it is acked */
    p->segs[p->nsegs++] = s;
    log_maint_wake(p->log);
    return EDDY_OK;
}

/* Doubles a ring buffer of elem-byte entries when it is full, re-packing from its head. */
static int ring_room(void **ring, size_t *head, size_t len, size_t *cap, size_t elem, size_t first) {
    if (len < *cap) return EDDY_OK;
    size_t ncap = *cap ? *cap * 2 : first;
    uint8_t *n = eddy_malloc(ncap * elem), *old = *ring;
    if (!n) return EDDY_ERR_NOMEM;
    size_t tail = len ? EDDY_MIN(len, *cap - *head) : 0;
    if (tail) memcpy(n, old + *head * elem, tail * elem);
    if (len > tail) memcpy(n + tail * elem, old, (len - tail) * elem);
    eddy_free(old);
    *ring = n;
    *cap = ncap;
    *head = 0;
    return EDDY_OK;
}

static int push_completion(log_partition_t *p, const log_completion_t *c) {
    if (ring_room((void **)&p->cq, &p->cq_head, p->cq_len, &p->cq_cap, sizeof *p->cq, 64) != EDDY_OK)
        return EDDY_ERR_NOMEM;
    p->cq[(p->cq_head + p->cq_len) % p->cq_cap] = *c;
    p->cq_len++;
    return EDDY_OK;
}

/* Makes room for one more completion and one more reservation (p->lock held). */
static int reserve_slot(log_partition_t *p) {
    if (ring_room((void **)&p->cq, &p->cq_head, p->cq_len, &p->cq_cap, sizeof *p->cq, 64) != EDDY_OK ||
        ring_room((void **)&p->wq, &p->wq_head, p->wq_len, &p->wq_cap, sizeof *p->wq, 16) != EDDY_OK)
        return EDDY_ERR_NOMEM;
    return EDDY_OK;
}

/* Called with p->lock held by an appender whose write finished; returns with it released.
 * Written ranges become visible in reservation order: the contiguous written prefix advances
 * written_leo and marks its segments dirty for the sync workers (group mode) or, in the weak
 * modes, becomes readable and acknowledged at once. A failed write takes the partition
 * offline: later ranges may already sit after the hole, so nothing can be cut back. */
static void written_advance(log_partition_t *p) {
    bool progressed = false, failed = false;
    while (p->wq_len && p->wq[p->wq_head].state != 0) {
        log_wreq_t *w = &p->wq[p->wq_head];
        if (w->state < 0 || p->failed) {
            failed = true;
        } else {
            w->seg->written = w->pos + w->len;
            w->seg->dirty = true;
            p->written_leo = w->end_offset;
            progressed = true;
        }
        /* Never the last reference: the partition's segment list holds one, and retention keeps
         * segments with writes in flight. */
        log_segment_release(w->seg);
        p->wq_head = (p->wq_head + 1) % p->wq_cap;
        p->wq_head_seq++;
        p->wq_len--;
    }
    size_t nc = 0;
    log_completion_t *done = NULL;
    int status = EDDY_OK;
    bool fire = false, enqueue = false;
    if (failed) {
        p->failed = true;
        atomic_store(&p->log->io_failed, true);
        done = log_partition_take_completions(p, true, &nc);
        status = EDDY_ERR_IO;
    } else if (progressed && p->log->opts.fsync_mode != LOG_FSYNC_GROUP) {
        /* Weak modes: acknowledged = written; readers see it at once. */
        for (size_t i = p->nsegs > 2 ? p->nsegs - 2 : 0; i < p->nsegs; i++)
            p->segs[i]->readable = p->segs[i]->written;
        p->hw = p->written_leo;
        done = log_partition_take_completions(p, false, &nc);
        log_partition_ready_watches(p);
        fire = p->firing != NULL;
    }
    if (progressed && !p->queued && p->log->opts.fsync_mode != LOG_FSYNC_NONE) {
        p->queued = enqueue = true;
        log_partition_keep(p);
    }
    int64_t log_start = p->log_start;
    pthread_mutex_unlock(&p->lock);
    if (enqueue) log_sync_enqueue(p->log, p);
    log_completions_run(done, nc, status, log_start);
    if (fire) log_partition_fire_watches(p);
}

static int write_all(int fd, const uint8_t *buf, size_t len, int64_t pos) {
    while (len) {
        ssize_t n = pwrite(fd, buf, len, pos);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? errno : ENOSPC;
        buf += n;
        len -= (size_t)n;
        pos += n;
    }
    return 0;
}

/* Producer states staged for one append (a record set may hold several batches of the same
 * producer); committed to the table only when the write succeeds. */
typedef struct {
    log_pstate_t *v;
    size_t n, cap;
    log_pstate_t stack[4];
} staged_t;

static log_pstate_t *stage(staged_t *st, log_producers_t *table, int64_t pid, bool *known) {
    for (size_t i = 0; i < st->n; i++) {
        if (st->v[i].pid == pid) {
            *known = true;
            return &st->v[i];
        }
    }
    if (st->n == st->cap) {
        size_t cap = st->cap * 2;
        log_pstate_t *n = eddy_malloc(cap * sizeof *n);
        if (!n) return NULL;
        memcpy(n, st->v, st->n * sizeof *n);
        if (st->v != st->stack) eddy_free(st->v);
        st->v = n;
        st->cap = cap;
    }
    log_pstate_t *s = &st->v[st->n++];
    const log_pstate_t *cur = log_producers_find(table, pid);
    *known = cur != NULL;
    if (cur) *s = *cur;
    else memset(s, 0, sizeof *s);
    s->pid = pid;
    return s;
}

static int producer_error(log_reason_t r, log_err_t *err, const log_batch_header_t *h) {
    return log_fail(err, EDDY_ERR_CONFLICT, r,
                    "producer %lld epoch %d sequence %d: %s", (long long)h->producer_id,
                    h->producer_epoch, h->base_sequence,
                    r == LOG_ERR_OUT_OF_ORDER_SEQUENCE     ? "out of order sequence number"
                    : r == LOG_ERR_INVALID_PRODUCER_EPOCH  ? "epoch is older than the producer's current epoch"
                                                           : "unknown producer id (sequence must start at 0)");
}

#define STACK_BATCHES 8

int log_append(log_partition_t *p, uint8_t *buf, size_t len, log_append_cb cb, void *arg,
               log_err_t *err) {
    if (!buf || len == 0)
        return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_CORRUPT_MESSAGE, "empty record set");
    log_batch_header_t stack_hs[STACK_BATCHES], *hs = stack_hs;
    size_t nb = 0, capb = STACK_BATCHES, pos = 0;
    int64_t count = 0;
    int rc = EDDY_OK;
    staged_t st = {.v = NULL, .n = 0, .cap = 4};
    st.v = st.stack;

    /* 1. Validate every batch without the lock: nothing is written unless all are good. */
    while (pos < len) {
        if (nb == capb) {
            log_batch_header_t *n = eddy_malloc(capb * 2 * sizeof *n);
            if (!n) {
                rc = log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
                goto out;
            }
            memcpy(n, hs, nb * sizeof *n);
            if (hs != stack_hs) eddy_free(hs);
            hs = n;
            capb *= 2;
        }
        log_batch_header_t *h = &hs[nb];
        if ((rc = log_batch_validate(buf + pos, len - pos, h, err)) != EDDY_OK) goto out;
        if (h->attributes & (LOG_ATTR_TRANSACTIONAL | LOG_ATTR_CONTROL)) {
            rc = log_fail(err, EDDY_ERR_UNSUPPORTED, LOG_ERR_TRANSACTIONAL,
                          "transactional and control batches are not supported");
            goto out;
        }
        pos += log_batch_size(h);
        count += h->record_count;
        nb++;
    }

    int64_t now = time_now_ms();
    pthread_mutex_lock(&p->lock);
    if (p->closed || p->failed) {
        rc = p->closed ? log_fail(err, EDDY_ERR_CLOSED, LOG_ERR_CLOSED, "%s-%d is deleted or closing", p->topic->name, p->index)
                       : log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "%s-%d is offline after a disk error", p->topic->name, p->index);
        goto unlock;
    }
    const log_config_t *cfg = &p->cfg;
    for (size_t i = 0; i < nb; i++) {
        if ((int64_t)log_batch_size(&hs[i]) > cfg->max_message_bytes) {
            rc = log_fail(err, EDDY_ERR_TOO_LARGE, LOG_ERR_MESSAGE_TOO_LARGE,
                          "record batch of %zu bytes exceeds max.message.bytes %lld",
                          log_batch_size(&hs[i]), (long long)cfg->max_message_bytes);
            goto unlock;
        }
    }
    if ((int64_t)len > cfg->segment_bytes) {
        rc = log_fail(err, EDDY_ERR_TOO_LARGE, LOG_ERR_RECORD_LIST_TOO_LARGE,
                      "record set of %zu bytes exceeds segment.bytes %lld", len, (long long)cfg->segment_bytes);
        goto unlock;
    }

    /* 2. Idempotent producers: a duplicate answers with the original offsets. */
    int64_t next = p->leo;
    for (size_t i = 0; i < nb; i++) {
        log_batch_header_t *h = &hs[i];
        h->base_offset = next;
        next += (int64_t)h->last_offset_delta + 1;
        if (h->producer_id < 0) continue;
        bool known;
        log_pstate_t *s = stage(&st, &p->producers, h->producer_id, &known);
        if (!s) {
            rc = log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
            goto unlock;
        }
        const log_pbatch_t *dup;
        log_reason_t r = log_producer_check(known ? s : NULL, h, &dup);
        if (r != LOG_ERR_NONE) {
            rc = producer_error(r, err, h);
            goto unlock;
        }
        if (dup) {
            log_completion_t c = {dup->last_offset + 1, cb, arg,
                                  {dup->first_offset, dup->last_offset, -1, p->log_start, true}};
            bool now_ok = p->hw > dup->last_offset;
            if (!now_ok && (rc = push_completion(p, &c)) != EDDY_OK) {
                rc = log_fail(err, rc, LOG_ERR_NOMEM, "out of memory");
                goto unlock;
            }
            pthread_mutex_unlock(&p->lock);
            if (now_ok) cb(arg, EDDY_OK, &c.res);
            goto out;
        }
        log_producer_apply(s, h, now);
    }

    /* 3. Roll when the active segment is full, old, or its relative offsets would overflow. */
    log_segment_t *seg = p->segs[p->nsegs - 1];
    if (seg->size > 0 &&
        (seg->size + (int64_t)len > cfg->segment_bytes || now - seg->created_ms > cfg->segment_ms ||
         next - seg->base > INT32_MAX)) {
        if ((rc = log_partition_roll(p, err)) != EDDY_OK) goto unlock;
        seg = p->segs[p->nsegs - 1];
    }
    if (seg->size == 0) seg->created_ms = now;
    if ((rc = reserve_slot(p)) != EDDY_OK) {
        rc = log_fail(err, rc, LOG_ERR_NOMEM, "out of memory");
        goto unlock;
    }

    /* 4. Offsets (and LogAppendTime) in place; the file range, index entries, producer state
     * and completion are all taken now, so that the write itself can run unlocked. */
    pos = 0;
    for (size_t i = 0; i < nb; i++) {
        log_batch_header_t *h = &hs[i];
        uint8_t *b = buf + pos;
        store_u64(b, (uint64_t)h->base_offset);
        if (cfg->log_append_time) {
            h->attributes |= LOG_ATTR_LOG_APPEND_TIME;
            h->max_timestamp = now;
            store_u16(b + 21, (uint16_t)h->attributes);
            store_u64(b + 35, (uint64_t)now);
            store_u32(b + 17, crc32c(b + 21, log_batch_size(h) - 21));
        }
        log_segment_index_batch(seg, seg->size + (int64_t)pos, log_batch_last_offset(h), h->max_timestamp,
                                cfg->index_interval_bytes);
        seg->since_index += (int64_t)log_batch_size(h);
        pos += log_batch_size(h);
    }
    int64_t at = seg->size;
    seg->size += (int64_t)len;
    seg->next_offset = next;
    p->leo = next;
    for (size_t i = 0; i < st.n; i++) {
        if (log_producers_put(&p->producers, &st.v[i]) != EDDY_OK)
            elog_warn("log", "%s-%d: out of memory keeping producer state", p->topic->name, p->index);
    }
    log_completion_t c = {next, cb, arg,
                          {hs[0].base_offset, next - 1, cfg->log_append_time ? now : -1, p->log_start, false}};
    push_completion(p, &c); /* room was made by reserve_slot */
    uint64_t seq = p->wq_head_seq + p->wq_len;
    log_segment_keep(seg);
    p->wq[(p->wq_head + p->wq_len) % p->wq_cap] = (log_wreq_t){seg, at, (int64_t)len, next, 0};
    p->wq_len++;
    pthread_mutex_unlock(&p->lock);

    /* 5. The write, without the lock: readers and other appenders go on meanwhile. */
    int werr = write_all(seg->fd, buf, len, at);
    atomic_fetch_add_explicit(&p->log->stats.records, (uint64_t)count, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->log->stats.bytes, len, memory_order_relaxed);

    pthread_mutex_lock(&p->lock);
    p->wq[(p->wq_head + (size_t)(seq - p->wq_head_seq)) % p->wq_cap].state = werr ? -1 : 1;
    if (werr)
        elog_error("log", "%s-%d: write failed: %s; partition is offline for appends", p->topic->name,
                   p->index, strerror(werr));
    written_advance(p);
    goto out;

unlock:
    pthread_mutex_unlock(&p->lock);
out:
    if (rc != EDDY_OK) atomic_fetch_add_explicit(&p->log->stats.rejected, 1, memory_order_relaxed);
    else atomic_fetch_add_explicit(&p->log->stats.appends, 1, memory_order_relaxed);
    if (hs != stack_hs) eddy_free(hs);
    if (st.v != st.stack) eddy_free(st.v);
    return rc;
}

/* ---- records built by eddy ---- */

int log_append_records(log_partition_t *p, const log_record_t *records, size_t n,
                       log_codec_t codec, log_append_cb cb, void *arg, log_err_t *err) {
    log_batch_opts_t o;
    log_batch_opts_init(&o);
    o.codec = codec;
    wr_t w;
    wr_init(&w, 128 + n * 64);
    int rc = log_batch_encode(&w, records, n, &o, err);
    if (rc == EDDY_OK) rc = log_append(p, w.buf, w.len, cb, arg, err);
    wr_free(&w);
    return rc;
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int status;
    log_append_result_t res;
} waiter_t;

static void waiter_cb(void *arg, int status, const log_append_result_t *res) {
    waiter_t *w = arg;
    pthread_mutex_lock(&w->mu);
    w->status = status;
    if (res) w->res = *res;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int wait_for(waiter_t *w, int rc, log_append_result_t *res, log_err_t *err) {
    if (rc == EDDY_OK) {
        pthread_mutex_lock(&w->mu);
        while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
        pthread_mutex_unlock(&w->mu);
        rc = w->status;
        if (rc != EDDY_OK) log_fail(err, rc, rc == EDDY_ERR_CLOSED ? LOG_ERR_CLOSED : LOG_ERR_STORAGE,
                                    "append not acknowledged: %s", eddy_strerror(rc));
        else if (res) *res = w->res;
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    return rc;
}

int log_append_wait(log_partition_t *p, uint8_t *batches, size_t len, log_append_result_t *res,
                    log_err_t *err) {
    waiter_t w = {.done = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    return wait_for(&w, log_append(p, batches, len, waiter_cb, &w, err), res, err);
}

int log_append_records_wait(log_partition_t *p, const log_record_t *records, size_t n,
                            log_codec_t codec, log_append_result_t *res, log_err_t *err) {
    waiter_t w = {.done = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    return wait_for(&w, log_append_records(p, records, n, codec, waiter_cb, &w, err), res, err);
}
