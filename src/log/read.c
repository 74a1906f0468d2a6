/* Reading: whole batches from an offset as a file range (for sendfile or a copy), never past the
 * high watermark, and ListOffsets' offsets for timestamps through the time index. Index lookups
 * happen under the partition lock (the active segment's index grows); the header walks that
 * follow use preads without it, on a segment reference that keeps the file open. */
#include <errno.h>
#include <unistd.h>

#include "log/log_int.h"

/* Largest offset index position in (after, limit] (0 when none), p->lock held. */
static int64_t index_floor_pos(const log_segment_t *s, int64_t after, int64_t limit) {
    size_t lo = 0, hi = s->noidx; /* first entry with pos > limit */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((int64_t)s->oidx[mid].pos <= limit) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0 || (int64_t)s->oidx[lo - 1].pos <= after) return 0;
    return s->oidx[lo - 1].pos;
}

static int range_error(log_partition_t *p, int64_t offset, log_err_t *err) {
    return log_fail(err, EDDY_ERR_RANGE, LOG_ERR_OFFSET_OUT_OF_RANGE,
                    "offset %lld is outside %s-%d's range [%lld, %lld]", (long long)offset,
                    p->topic->name, p->index, (long long)p->log_start, (long long)p->leo);
}

int log_read(log_partition_t *p, int64_t offset, size_t max_bytes, log_read_t *out,
             log_err_t *err) {
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (max_bytes == 0) max_bytes = 1;
    pthread_mutex_lock(&p->lock);
    if (p->closed) {
        pthread_mutex_unlock(&p->lock);
        return log_fail(err, EDDY_ERR_CLOSED, LOG_ERR_CLOSED, "%s-%d is deleted or closing", p->topic->name, p->index);
    }
    if (offset < p->log_start || offset > p->leo) {
        int rc = range_error(p, offset, err);
        pthread_mutex_unlock(&p->lock);
        return rc;
    }
    out->high_watermark = p->hw;
    out->log_start_offset = p->log_start;
    out->first_offset = out->next_offset = offset;
    size_t i = log_partition_find_segment(p, offset);
    while (offset < p->hw && i < p->nsegs) {
        log_segment_t *s = p->segs[i];
        if (!s->index_loaded && log_segment_index_load(s, NULL) != EDDY_OK) {
            /* Unreadable index files: the walk from position 0 is still right, only slower. */
            s->noidx = s->ntidx = 0;
        }
        int64_t pos = log_segment_index_lookup(s, offset);
        int64_t limit = s->readable;
        int64_t jump = index_floor_pos(s, pos, EDDY_MIN(limit, pos + (int64_t)max_bytes));
        log_segment_keep(s);
        pthread_mutex_unlock(&p->lock);

        log_batch_header_t h;
        int rc;
        while ((rc = log_segment_header_at(s, pos, limit, &h)) == EDDY_OK &&
               log_batch_last_offset(&h) < offset)
            pos += (int64_t)log_batch_size(&h);
        if (rc == EDDY_OK) {
            int64_t start = pos, total = (int64_t)log_batch_size(&h);
            int64_t next = log_batch_last_offset(&h) + 1;
            out->first_offset = h.base_offset;
            pos += total;
            log_batch_header_t j;
            if (jump > pos && log_segment_header_at(s, jump, limit, &j) == EDDY_OK) {
                /* Every batch up to the index entry fits (jump <= first position + max_bytes):
                 * skip their headers. */
                total = jump - start;
                pos = jump;
                next = j.base_offset;
            }
            while (log_segment_header_at(s, pos, limit, &h) == EDDY_OK &&
                   total + (int64_t)log_batch_size(&h) <= (int64_t)max_bytes) {
                total += (int64_t)log_batch_size(&h);
                pos += (int64_t)log_batch_size(&h);
                next = log_batch_last_offset(&h) + 1;
            }
            out->fd = s->fd;
            out->file_pos = start;
            out->len = (size_t)total;
            out->next_offset = next;
            out->seg = s;
            return EDDY_OK;
        }
        log_segment_release(s);
        if (rc == EDDY_ERR_IO)
            return log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "%s-%d: read failed: %s", p->topic->name, p->index, strerror(errno));
        if (rc == EDDY_ERR_CORRUPT)
            return log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_STORAGE, "%s-%d: corrupt batch at byte %lld of %s.log",
                            p->topic->name, p->index, (long long)pos, s->path);
        /* The offset lies past this segment's readable data: try the next segment. */
        pthread_mutex_lock(&p->lock);
        i = log_partition_find_segment(p, offset);
        if (i < p->nsegs && p->segs[i] == s) i++;
        if (i < p->nsegs && p->segs[i]->base > offset) offset = p->segs[i]->base;
    }
    pthread_mutex_unlock(&p->lock);
    return EDDY_OK;
}

int log_read_copy(const log_read_t *r, void *buf) {
    size_t done = 0;
    while (done < r->len) {
        ssize_t n = pread(r->fd, (uint8_t *)buf + done, r->len - done, r->file_pos + (int64_t)done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return EDDY_ERR_IO;
        done += (size_t)n;
    }
    return EDDY_OK;
}

void log_read_release(log_read_t *r) {
    if (r->seg) log_segment_release(r->seg);
    r->seg = NULL;
    r->fd = -1;
}

int log_read_into(log_partition_t *p, int64_t offset, size_t max_bytes, wr_t *w, log_read_t *info,
                  log_err_t *err) {
    log_read_t r;
    int rc = log_read(p, offset, max_bytes, &r, err);
    if (rc != EDDY_OK) return rc;
    if (r.len) {
        uint8_t *dst = wr_reserve(w, r.len);
        if (!dst) rc = log_fail(err, w->err ? w->err : EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "cannot grow buffer");
        else if ((rc = log_read_copy(&r, dst)) != EDDY_OK)
            log_fail(err, rc, LOG_ERR_STORAGE, "read failed: %s", strerror(errno));
        else wr_advance(w, r.len);
    }
    log_read_release(&r);
    if (info) *info = r;
    return rc;
}

/* ---- offsets for timestamps ---- */

/* In segment s (held), from pos up to limit: the first record with timestamp >= target. */
static int search_segment(log_segment_t *s, int64_t pos, int64_t limit, int64_t target,
                          int64_t min_offset, int64_t *offset, int64_t *found_ts) {
    log_iter_t *it = NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = EDDY_OK;
    log_batch_header_t h;
    while (log_segment_header_at(s, pos, limit, &h) == EDDY_OK) {
        size_t size = log_batch_size(&h);
        if (h.max_timestamp >= target && log_batch_last_offset(&h) >= min_offset) {
            size_t got;
            if ((rc = log_segment_read(s, pos, size, &buf, &cap, &got)) != EDDY_OK) break;
            if (got < size) {
                rc = EDDY_ERR_IO;
                break;
            }
            if (!it && !(it = log_iter_new(0))) {
                rc = EDDY_ERR_NOMEM;
                break;
            }
            log_iter_reset(it, buf, size, false);
            log_batch_header_t bh;
            log_record_view_t rec;
            if (log_iter_next_batch(it, &bh, NULL) == 1) {
                while (log_iter_next_record(it, &rec, NULL) == 1) {
                    if (rec.timestamp >= target && rec.offset >= min_offset) {
                        *offset = rec.offset;
                        *found_ts = rec.timestamp;
                        goto done;
                    }
                }
            }
        }
        pos += (int64_t)size;
    }
done:
    log_iter_free(it);
    eddy_free(buf);
    return rc;
}

int log_offset_for_timestamp(log_partition_t *p, int64_t timestamp, int64_t *offset,
                             int64_t *found_ts, log_err_t *err) {
    int64_t ts_dummy;
    if (!found_ts) found_ts = &ts_dummy;
    *offset = -1;
    *found_ts = -1;
    pthread_mutex_lock(&p->lock);
    if (p->closed) {
        pthread_mutex_unlock(&p->lock);
        return log_fail(err, EDDY_ERR_CLOSED, LOG_ERR_CLOSED, "%s-%d is deleted or closing", p->topic->name, p->index);
    }
    if (timestamp == LOG_TIMESTAMP_LATEST || timestamp == LOG_TIMESTAMP_EARLIEST) {
        *offset = timestamp == LOG_TIMESTAMP_LATEST ? p->hw : p->log_start;
        pthread_mutex_unlock(&p->lock);
        return EDDY_OK;
    }
    if (timestamp == LOG_TIMESTAMP_MAX) {
        timestamp = -1;
        for (size_t i = 0; i < p->nsegs; i++)
            if (p->segs[i]->max_ts > timestamp && p->segs[i]->base < p->hw) timestamp = p->segs[i]->max_ts;
        if (timestamp < 0) {
            pthread_mutex_unlock(&p->lock);
            return EDDY_OK;
        }
    } else if (timestamp < 0) {
        pthread_mutex_unlock(&p->lock);
        return log_fail(err, EDDY_ERR_INVALID, LOG_ERR_INVALID_ARG, "timestamp %lld is not valid", (long long)timestamp);
    }
    int rc = EDDY_OK;
    int64_t min_offset = p->log_start, after = INT64_MIN;
    while (*offset < 0 && rc == EDDY_OK) {
        /* The next segment (after the last one searched) that may hold the timestamp; segments
         * can go while the lock is released, so look it up again each time. */
        log_segment_t *s = NULL;
        for (size_t i = 0; i < p->nsegs && !s; i++) {
            log_segment_t *c = p->segs[i];
            if (c->base > after && c->max_ts >= timestamp && c->base < p->hw) s = c;
        }
        if (!s) break;
        after = s->base;
        int64_t pos = 0;
        if (s->index_loaded || log_segment_index_load(s, NULL) == EDDY_OK)
            pos = log_segment_index_lookup(s, log_segment_time_lookup(s, timestamp));
        int64_t limit = s->readable;
        log_segment_keep(s);
        pthread_mutex_unlock(&p->lock);
        rc = search_segment(s, pos, limit, timestamp, min_offset, offset, found_ts);
        log_segment_release(s);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    if (rc != EDDY_OK)
        return log_fail(err, rc, rc == EDDY_ERR_NOMEM ? LOG_ERR_NOMEM : LOG_ERR_STORAGE,
                        "offset search failed: %s", eddy_strerror(rc));
    return EDDY_OK;
}
