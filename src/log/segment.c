/* Segment files: the .log file of concatenated batches, its sparse offset index and time index
 * (Kafka's file layouts: .index entries are [relative offset i32, position i32], .timeindex
 * entries [timestamp i64, relative offset i32], big-endian), and the scan that recovery, index
 * rebuilds and producer-state replay share.
 *
 * The active segment's indexes live in memory and reach disk when it is sealed (rolled) or the
 * log closes cleanly; sealed segments' indexes are loaded from their files on first use. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

void log_segment_file(const char *dir, int64_t base, const char *ext, char *out, size_t outlen) {
    snprintf(out, outlen, "%s/%020" PRId64 "%s", dir, base, ext);
}

int log_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return EDDY_ERR_IO;
    int rc = fsync(fd) == 0 ? EDDY_OK : EDDY_ERR_IO;
    close(fd);
    return rc;
}

/* name + ext into out (a file name relative to the segment's directory). */
static void seg_name(const log_segment_t *s, const char *ext, char *out, size_t n) {
    snprintf(out, n, "%s%s", s->name, ext);
}

log_segment_t *log_segment_open(int dirfd, const char *dir, int64_t base, bool create,
                                log_err_t *err) {
    char path[LOG_PATH_MAX];
    log_segment_file(dir, base, "", path, sizeof path);
    size_t plen = strlen(path);
    log_segment_t *s = eddy_calloc(1, sizeof *s + plen + 1);
    if (!s) {
        log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(s->path, path, plen + 1);
    s->dirfd = dirfd;
    snprintf(s->name, sizeof s->name, "%020" PRId64, base);
    char file[40];
    seg_name(s, ".log", file, sizeof file);
    s->fd = openat(dirfd, file, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0644);
    if (s->fd < 0) {
        log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot %s %s.log: %s", create ? "create" : "open",
                 path, strerror(errno));
        eddy_free(s);
        return NULL;
    }
    struct stat st;
    if (fstat(s->fd, &st) != 0) {
        log_fail(err, EDDY_ERR_IO, LOG_ERR_STORAGE, "cannot stat %s: %s", file, strerror(errno));
        close(s->fd);
        eddy_free(s);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->base = base;
    s->size = st.st_size;
    s->written = st.st_size;
    s->next_offset = base;
    s->max_ts = -1;
    s->max_ts_offset = -1;
    s->created_ms = create ? time_now_ms() : (int64_t)st.st_mtime * 1000;
    s->index_loaded = create;
    s->new_file = create;
    return s;
}

void log_segment_keep(log_segment_t *s) { atomic_fetch_add(&s->refs, 1); }

void log_segment_release(log_segment_t *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    if (s->fd >= 0) close(s->fd);
    eddy_free(s->oidx);
    eddy_free(s->tidx);
    eddy_free(s->snapshot);
    eddy_free(s);
}

void log_segment_unlink(log_segment_t *s) {
    static const char *const exts[] = {".log", ".index", ".timeindex"};
    char file[40];
    for (size_t i = 0; i < EDDY_ARRAY_LEN(exts); i++) {
        seg_name(s, exts[i], file, sizeof file);
        unlinkat(s->dirfd, file, 0);
    }
    s->unlinked = true;
}

/* ---- in-memory indexes ---- */

static int oidx_push(log_segment_t *s, uint32_t rel, uint32_t pos) {
    if (s->noidx == s->capoidx) {
        size_t cap = s->capoidx ? s->capoidx * 2 : 64;
        log_oidx_t *n = eddy_realloc(s->oidx, cap * sizeof *n);
        if (!n) return EDDY_ERR_NOMEM;
        s->oidx = n;
        s->capoidx = cap;
    }
    s->oidx[s->noidx++] = (log_oidx_t){rel, pos};
    return EDDY_OK;
}

static int tidx_push(log_segment_t *s, int64_t ts, uint32_t rel) {
    if (s->ntidx && s->tidx[s->ntidx - 1].ts >= ts) return EDDY_OK;
    if (s->ntidx == s->captidx) {
        size_t cap = s->captidx ? s->captidx * 2 : 64;
        log_tidx_t *n = eddy_realloc(s->tidx, cap * sizeof *n);
        if (!n) return EDDY_ERR_NOMEM;
        s->tidx = n;
        s->captidx = cap;
    }
    s->tidx[s->ntidx++] = (log_tidx_t){ts, rel};
    return EDDY_OK;
}

/* As Kafka's LogSegment.append: the max timestamp first, then an index entry pointing at this
 * batch when more than interval bytes went by since the last one. */
int log_segment_index_batch(log_segment_t *s, int64_t pos, int64_t last_offset, int64_t max_ts,
                            int64_t interval) {
    int64_t size_before = s->since_index;
    if (max_ts > s->max_ts) {
        s->max_ts = max_ts;
        s->max_ts_offset = last_offset;
    }
    int rc = EDDY_OK;
    if (size_before > interval) {
        rc = oidx_push(s, (uint32_t)(last_offset - s->base), (uint32_t)pos);
        if (rc == EDDY_OK && s->max_ts >= 0)
            rc = tidx_push(s, s->max_ts, (uint32_t)(s->max_ts_offset - s->base));
        s->since_index = 0;
    }
    return rc;
}

int log_segment_index_seal(log_segment_t *s) {
    if (s->max_ts < 0) return EDDY_OK;
    return tidx_push(s, s->max_ts, (uint32_t)(s->max_ts_offset - s->base));
}

int64_t log_segment_index_lookup(const log_segment_t *s, int64_t target) {
    if (target < s->base || s->noidx == 0) return 0;
    uint64_t rel = (uint64_t)(target - s->base);
    size_t lo = 0, hi = s->noidx; /* first entry with rel > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->oidx[mid].rel <= rel) lo = mid + 1;
        else hi = mid;
    }
    return lo ? s->oidx[lo - 1].pos : 0;
}

int64_t log_segment_time_lookup(const log_segment_t *s, int64_t target) {
    size_t lo = 0, hi = s->ntidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->tidx[mid].ts <= target) lo = mid + 1;
        else hi = mid;
    }
    return lo ? s->base + s->tidx[lo - 1].rel : s->base;
}

/* ---- index files ---- */

static uint8_t *read_whole(int dirfd, const char *name, size_t *len) {
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) == 0 && (buf = eddy_malloc((size_t)st.st_size + 1))) {
        ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
        if (n != st.st_size) {
            eddy_free(buf);
            buf = NULL;
        } else {
            *len = (size_t)n;
        }
    }
    close(fd);
    return buf;
}

int log_segment_index_load(log_segment_t *s, log_err_t *err) {
    if (s->index_loaded) return EDDY_OK;
    char file[40];
    size_t olen = 0, tlen = 0;
    seg_name(s, ".index", file, sizeof file);
    uint8_t *ob = read_whole(s->dirfd, file, &olen);
    seg_name(s, ".timeindex", file, sizeof file);
    uint8_t *tb = read_whole(s->dirfd, file, &tlen);
    int rc = EDDY_OK;
    if (!ob || !tb) {
        rc = log_fail(err, EDDY_ERR_NOT_FOUND, LOG_ERR_STORAGE, "%s: index files missing", s->path);
        goto out;
    }
    if (olen % 8 || tlen % 12) {
        rc = log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_STORAGE, "%s: index file sizes are wrong", s->path);
        goto out;
    }
    s->noidx = s->ntidx = 0;
    for (size_t i = 0; i < olen; i += 8) {
        uint32_t rel = load_u32(ob + i), pos = load_u32(ob + i + 4);
        if ((s->noidx && (rel <= s->oidx[s->noidx - 1].rel || pos <= s->oidx[s->noidx - 1].pos)) ||
            (int64_t)pos >= s->size) {
            rc = log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_STORAGE, "%s.index: entry %zu is out of order", s->path, i / 8);
            goto out;
        }
        if ((rc = oidx_push(s, rel, pos)) != EDDY_OK) goto out;
    }
    for (size_t i = 0; i < tlen; i += 12) {
        int64_t ts = (int64_t)load_u64(tb + i);
        uint32_t rel = load_u32(tb + i + 8);
        if (s->ntidx && (ts <= s->tidx[s->ntidx - 1].ts || rel < s->tidx[s->ntidx - 1].rel)) {
            rc = log_fail(err, EDDY_ERR_CORRUPT, LOG_ERR_STORAGE, "%s.timeindex: entry %zu is out of order", s->path, i / 12);
            goto out;
        }
        if ((rc = tidx_push(s, ts, rel)) != EDDY_OK) goto out;
    }
    if (s->ntidx) {
        s->max_ts = s->tidx[s->ntidx - 1].ts;
        s->max_ts_offset = s->base + s->tidx[s->ntidx - 1].rel;
    }
    s->index_loaded = true;
out:
    if (rc != EDDY_OK) s->noidx = s->ntidx = 0;
    eddy_free(ob);
    eddy_free(tb);
    return rc;
}

int log_file_write_at(int dirfd, const char *path, const uint8_t *buf, size_t len) {
    char tmp[LOG_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return EDDY_ERR_IO;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    int rc = done == len && fdatasync(fd) == 0 ? EDDY_OK : EDDY_ERR_IO;
    close(fd);
    if (rc == EDDY_OK && renameat(dirfd, tmp, dirfd, path) != 0) rc = EDDY_ERR_IO;
    if (rc != EDDY_OK) unlinkat(dirfd, tmp, 0);
    return rc;
}

int log_segment_index_write(log_segment_t *s, log_err_t *err) {
    size_t olen = s->noidx * 8, tlen = s->ntidx * 12;
    uint8_t *buf = eddy_malloc(EDDY_MAX(olen, tlen) + 1);
    if (!buf) return log_fail(err, EDDY_ERR_NOMEM, LOG_ERR_NOMEM, "out of memory");
    char file[40];
    for (size_t i = 0; i < s->noidx; i++) {
        store_u32(buf + i * 8, s->oidx[i].rel);
        store_u32(buf + i * 8 + 4, s->oidx[i].pos);
    }
    seg_name(s, ".index", file, sizeof file);
    int rc = log_file_write_at(s->dirfd, file, buf, olen);
    if (rc == EDDY_OK) {
        for (size_t i = 0; i < s->ntidx; i++) {
            store_u64(buf + i * 12, (uint64_t)s->tidx[i].ts);
            store_u32(buf + i * 12 + 8, s->tidx[i].rel);
        }
        seg_name(s, ".timeindex", file, sizeof file);
        rc = log_file_write_at(s->dirfd, file, buf, tlen);
    }
    eddy_free(buf);
    if (rc != EDDY_OK)
        return log_fail(err, rc, LOG_ERR_STORAGE, "cannot write %s/%s: %s", s->path, file, strerror(errno));
    return EDDY_OK;
}

/* ---- reading batches ---- */

int log_segment_header_at(log_segment_t *s, int64_t pos, int64_t limit, log_batch_header_t *h) {
    if (pos + LOG_BATCH_HEADER_SIZE > limit) return EDDY_ERR_NEED_MORE;
    uint8_t buf[LOG_BATCH_HEADER_SIZE];
    ssize_t n = pread(s->fd, buf, sizeof buf, pos);
    if (n != (ssize_t)sizeof buf) return n < 0 ? EDDY_ERR_IO : EDDY_ERR_NEED_MORE;
    int rc = log_batch_header_parse(buf, sizeof buf, h, NULL);
    if (rc == EDDY_ERR_NEED_MORE) rc = EDDY_OK; /* only the header was read */
    if (rc != EDDY_OK) return rc;
    if (pos + (int64_t)log_batch_size(h) > limit) return EDDY_ERR_NEED_MORE;
    return EDDY_OK;
}

int log_segment_read(log_segment_t *s, int64_t pos, size_t want, uint8_t **buf, size_t *cap,
                     size_t *got) {
    if (want > *cap) {
        uint8_t *nb = eddy_realloc(*buf, want);
        if (!nb) return EDDY_ERR_NOMEM;
        *buf = nb;
        *cap = want;
    }
    ssize_t n = pread(s->fd, *buf, *cap, pos);
    if (n < 0) return EDDY_ERR_IO;
    *got = (size_t)n;
    return EDDY_OK;
}

int log_segment_scan(log_segment_t *s, int64_t pos, bool verify, bool reindex, int64_t interval,
                     log_scan_fn fn, void *arg, int64_t *valid_end, char *why, size_t whylen) {
    if (why && whylen) why[0] = 0;
    struct stat st;
    if (fstat(s->fd, &st) != 0) return EDDY_ERR_IO;
    int64_t file_size = st.st_size;
    if (reindex) {
        if (pos == 0) {
            s->noidx = s->ntidx = 0;
            s->max_ts = s->max_ts_offset = -1;
            s->next_offset = s->base;
        }
        s->since_index = 0;
        s->index_loaded = true;
    }
    size_t cap = 1 << 20;
    uint8_t *buf = eddy_malloc(cap);
    if (!buf) return EDDY_ERR_NOMEM;
    int64_t buf_pos = pos; /* file position of buf[0] */
    size_t buf_len = 0;
    int rc = EDDY_OK;
    while (pos < file_size) {
        size_t off = (size_t)(pos - buf_pos);
        if (off + LOG_BATCH_HEADER_SIZE > buf_len) {
            /* Refill from pos. */
            buf_pos = pos;
            off = 0;
            ssize_t n = pread(s->fd, buf, cap, pos);
            if (n < 0) {
                rc = EDDY_ERR_IO;
                break;
            }
            buf_len = (size_t)n;
            if (buf_len < LOG_BATCH_HEADER_SIZE) {
                snprintf(why, whylen, "torn batch header (%zu bytes)", buf_len);
                break;
            }
        }
        log_batch_header_t h;
        log_err_t e;
        int prc = log_batch_header_parse(buf + off, buf_len - off, &h, &e);
        if (prc == EDDY_ERR_NEED_MORE && buf_len - off >= LOG_BATCH_HEADER_SIZE) {
            size_t size = log_batch_size(&h);
            if (pos + (int64_t)size > file_size) {
                snprintf(why, whylen, "torn batch: %zu bytes announced, %lld present", size,
                         (long long)(file_size - pos));
                break;
            }
            size_t got;
            if ((rc = log_segment_read(s, pos, size, &buf, &cap, &got)) != EDDY_OK) break;
            buf_pos = pos;
            buf_len = got;
            off = 0;
            prc = log_batch_header_parse(buf, buf_len, &h, &e);
        }
        if (prc != EDDY_OK) {
            snprintf(why, whylen, "%s", prc == EDDY_ERR_NEED_MORE ? "torn batch" : e.msg);
            break;
        }
        if (verify) {
            prc = log_batch_validate(buf + off, buf_len - off, &h, &e);
            if (prc != EDDY_OK) {
                snprintf(why, whylen, "%s", e.msg);
                break;
            }
        }
        if (h.base_offset < s->next_offset || log_batch_last_offset(&h) - s->base > INT32_MAX ||
            h.last_offset_delta < 0) {
            snprintf(why, whylen, "batch offset %lld out of sequence (expected >= %lld)",
                     (long long)h.base_offset, (long long)s->next_offset);
            break;
        }
        if (reindex) {
            rc = log_segment_index_batch(s, pos, log_batch_last_offset(&h), h.max_timestamp, interval);
            if (rc != EDDY_OK) break;
            s->since_index += (int64_t)log_batch_size(&h);
        } else if (h.max_timestamp > s->max_ts) {
            s->max_ts = h.max_timestamp;
            s->max_ts_offset = log_batch_last_offset(&h);
        }
        if (fn && (rc = fn(arg, &h, pos)) != EDDY_OK) break;
        s->next_offset = log_batch_last_offset(&h) + 1;
        pos += (int64_t)log_batch_size(&h);
    }
    eddy_free(buf);
    *valid_end = pos;
    return rc;
}
