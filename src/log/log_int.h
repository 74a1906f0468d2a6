/* Inside the log part: the structures shared by its files. No other part includes this.
 *
 * Locks, outermost first (never take an outer one while holding an inner one):
 *   log->topics_lock (rwlock)  the topic table and each topic's partition array
 *   part->lock (mutex)         a partition: segments, offsets, completions, watches, producers
 *   log->sync_lock (mutex)     the sync workers' queue of dirty partitions
 *   log->groups.lock (mutex)   group storage (taken alone)
 *   log->pid_lock (mutex)      the producer-id allocator (taken alone) */
#ifndef EDDY_LOG_INT_H
#define EDDY_LOG_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "log/log.h"

/* Paths are built with snprintf into fixed buffers; a path that does not fit fails to open,
 * which is reported. GCC's truncation warning cannot see that and would flag each call. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define LOG_PATH_MAX 4096
#define LOG_SYNC_THREADS_MAX 16

/* ---- errors ---- */

/* Fills err (may be NULL) and returns status: return log_fail(err, EDDY_ERR_CORRUPT,
 * LOG_ERR_CRC, "crc mismatch at %lld", x); */
int log_fail(log_err_t *err, int status, log_reason_t reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- a small string-keyed hash map (topics, groups) ---- */

typedef struct {
    char **keys;
    void **vals;
    size_t cap;   /* power of two, or 0 */
    size_t count;
    size_t tombs;
} log_map_t;

void log_map_init(log_map_t *m);
void log_map_free(log_map_t *m); /* frees keys, not values */
void *log_map_get(const log_map_t *m, const char *key);
/* Inserts or replaces; returns EDDY_OK or EDDY_ERR_NOMEM. */
int log_map_put(log_map_t *m, const char *key, void *val);
/* Removes key and returns its value (NULL if absent). */
void *log_map_del(log_map_t *m, const char *key);
/* Iteration: for (size_t i = 0; log_map_next(m, &i, &k, &v);) */
bool log_map_next(const log_map_t *m, size_t *i, const char **key, void **val);

/* ---- topic configuration (config.c) ---- */

#define LOG_CLEANUP_DELETE 1
#define LOG_CLEANUP_COMPACT 2

typedef struct {
    int64_t retention_ms;
    int64_t retention_bytes;
    int64_t segment_bytes;
    int64_t segment_ms;
    int64_t max_message_bytes;
    int64_t index_interval_bytes;
    int cleanup_policy;          /* LOG_CLEANUP_* bits */
    bool log_append_time;        /* message.timestamp.type=LogAppendTime */
} log_config_t;

/* One override as stored: both strings owned (eddy_malloc). */
typedef struct {
    char *name;
    char *value;
} log_override_t;

/* The defaults, then each override applied (they are validated already). */
void log_config_compute(log_config_t *cfg, const log_override_t *ov, size_t n);
/* Validates and normalizes one entry; canonical (may be NULL) gets the stored text. */
int log_config_check(const char *name, const char *value, log_err_t *err);
int log_config_describe(const log_override_t *ov, size_t n, log_config_desc_t **out,
                        size_t *count);

/* ---- segments (segment.c) ---- */

typedef struct {
    uint32_t rel; /* offset - segment base */
    uint32_t pos; /* file position of the batch holding that offset */
} log_oidx_t;

typedef struct {
    int64_t ts;
    uint32_t rel;
} log_tidx_t;

struct log_segment {
    atomic_int refs;
    int fd;
    int64_t base;           /* base offset: the file name */
    int64_t size;           /* bytes reserved by appends (written, or being written) */
    int64_t written;        /* bytes written, contiguous from the start */
    int64_t readable;       /* bytes readers may see (durable, or written in weak modes) */
    int64_t next_offset;    /* offset after the last batch written */
    int64_t max_ts;         /* largest batch max timestamp, -1 when none */
    int64_t max_ts_offset;  /* last offset of the batch that has it */
    int64_t created_ms;     /* wall time the segment was created or loaded (segment.ms) */
    int64_t since_index;    /* bytes appended since the last offset index entry */
    log_oidx_t *oidx;
    size_t noidx, capoidx;
    log_tidx_t *tidx;
    size_t ntidx, captidx;
    bool index_loaded;      /* oidx/tidx in memory (else in the index files, loaded lazily) */
    bool sealed;            /* no more appends */
    bool index_pending;     /* sealed, index files not written yet */
    bool dirty;             /* written since the last fsync */
    bool new_file;          /* created since its directory was last fsynced */
    bool unlinked;          /* its files are deleted; the fd lives until the last release */
    uint8_t *snapshot;      /* producer snapshot taken when rolled, written with the index */
    size_t snapshot_len;
    int dirfd;              /* the partition's directory (borrowed): files are opened relative
                               to it, so a deleted topic's renamed directory is still the one
                               written to, never a new topic's of the same name */
    char name[24];          /* "00000000000000000000" */
    char path[];            /* ".../00000000000000000000" without extension, for messages */
};

/* Opens or creates segment base in the directory dirfd (named dir in messages). create:
 * O_CREAT|O_EXCL. Returns NULL with err filled. dirfd must outlive the segment's file
 * operations (it does: the partition owns it). */
log_segment_t *log_segment_open(int dirfd, const char *dir, int64_t base, bool create,
                                log_err_t *err);
void log_segment_keep(log_segment_t *s);
void log_segment_release(log_segment_t *s);
/* Unlinks the segment's files (the fd stays usable until the last release). */
void log_segment_unlink(log_segment_t *s);

/* Records one appended batch in the in-memory indexes and stats. */
int log_segment_index_batch(log_segment_t *s, int64_t pos, int64_t last_offset, int64_t max_ts,
                            int64_t interval);
/* Adds the final time index entry (on seal). */
int log_segment_index_seal(log_segment_t *s);
/* Loads index files into memory if not yet (sealed segments). Returns EDDY_OK, or an error
 * when the files are missing or inconsistent (the caller rebuilds). */
int log_segment_index_load(log_segment_t *s, log_err_t *err);
/* Writes .index and .timeindex durably (tmp, fsync, rename). */
int log_segment_index_write(log_segment_t *s, log_err_t *err);
/* Largest index position with rel offset <= target - base (0 when none). */
int64_t log_segment_index_lookup(const log_segment_t *s, int64_t target);
/* Offset of the largest time entry with ts <= target (base when none). */
int64_t log_segment_time_lookup(const log_segment_t *s, int64_t target);

/* Reads the 61-byte header of the batch at pos (which must end by limit). Returns EDDY_OK,
 * EDDY_ERR_NEED_MORE at limit or with a batch crossing it, EDDY_ERR_CORRUPT, EDDY_ERR_IO. */
int log_segment_header_at(log_segment_t *s, int64_t pos, int64_t limit, log_batch_header_t *h);

/* Reads from pos into *buf (grown to at least want bytes, eddy_realloc'd; the caller frees
 * it), as much as it holds; *got says how much came. EDDY_OK, EDDY_ERR_NOMEM or EDDY_ERR_IO. */
int log_segment_read(log_segment_t *s, int64_t pos, size_t want, uint8_t **buf, size_t *cap,
                     size_t *got);
/* Scans batches from pos to the end of the file, verifying each (CRC when verify) and calling
 * fn for each valid one; stops at the first invalid or torn batch. Rebuilds the in-memory
 * indexes from pos when reindex. Returns EDDY_OK with *valid_end (the end of the last valid
 * batch) and fills s->next_offset/max_ts, or EDDY_ERR_IO. */
typedef int (*log_scan_fn)(void *arg, const log_batch_header_t *h, int64_t pos);
int log_segment_scan(log_segment_t *s, int64_t pos, bool verify, bool reindex, int64_t interval,
                     log_scan_fn fn, void *arg, int64_t *valid_end, char *why, size_t whylen);

/* File names: "%020lld" + ext into out. */
void log_segment_file(const char *dir, int64_t base, const char *ext, char *out, size_t outlen);
int log_fsync_dir(const char *dir);
/* Writes name (relative to dirfd, or a path with AT_FDCWD) durably: name.tmp, fdatasync,
 * rename (the caller fsyncs the directory). */
int log_file_write_at(int dirfd, const char *name, const uint8_t *buf, size_t len);

/* ---- idempotent producer state (producer.c) ---- */

#define LOG_PRODUCER_BATCHES 5 /* Kafka keeps the last 5 batches of a producer */

typedef struct {
    int32_t first_seq;
    int32_t last_seq;
    int64_t first_offset;
    int64_t last_offset;
    int64_t timestamp;
} log_pbatch_t;

typedef struct {
    int64_t pid;             /* 0 slots are empty in the table: pids are >= 0, stored + 1 */
    int16_t epoch;
    uint8_t n;               /* batches kept, oldest first */
    log_pbatch_t b[LOG_PRODUCER_BATCHES];
    int64_t last_ts;         /* wall time of the last append (expiration) */
} log_pstate_t;

typedef struct {
    log_pstate_t *slots;     /* open addressing on pid + 1 (0 = empty) */
    size_t cap, count;
} log_producers_t;

void log_producers_init(log_producers_t *t);
void log_producers_free(log_producers_t *t);
log_pstate_t *log_producers_find(log_producers_t *t, int64_t pid);
int log_producers_put(log_producers_t *t, const log_pstate_t *st);
/* Checks one batch against state (NULL: unknown producer). LOG_ERR_NONE when it may be
 * appended; *dup set (with its offsets) when it repeats one of the kept batches. */
log_reason_t log_producer_check(const log_pstate_t *st, const log_batch_header_t *h,
                                const log_pbatch_t **dup);
/* Applies an appended batch (offsets assigned) to st (initialized when new). */
void log_producer_apply(log_pstate_t *st, const log_batch_header_t *h, int64_t now_ms);
/* Rebuild helper: applies a batch read from disk. */
int log_producers_replay(log_producers_t *t, const log_batch_header_t *h, int64_t now_ms);
/* Drops producers idle since before cutoff_ms. Returns how many. */
size_t log_producers_expire(log_producers_t *t, int64_t cutoff_ms);
/* Snapshot bytes (offset = state as of that offset), eddy_malloc'd. */
uint8_t *log_producers_snapshot(const log_producers_t *t, int64_t offset, size_t *len);
/* Loads a snapshot; EDDY_ERR_CORRUPT when invalid. *offset gets its offset. */
int log_producers_load(log_producers_t *t, const uint8_t *buf, size_t len, int64_t *offset);

/* ---- partitions (partition.c, read.c) ---- */

typedef struct {
    int64_t end_offset;      /* complete when the high watermark reaches it */
    log_append_cb cb;
    void *arg;
    log_append_result_t res;
} log_completion_t;

/* An append's reservation of a file range: writes happen outside the partition lock, in
 * parallel, and become visible (to the sync workers) in reservation order. */
typedef struct {
    log_segment_t *seg;      /* holds a reference */
    int64_t pos, len;
    int64_t end_offset;      /* log end offset once this range is written */
    int state;               /* 0 being written, 1 written, -1 failed */
} log_wreq_t;

typedef struct log_watch {
    struct log_watch *next;
    uint64_t id;
    int64_t offset;
    int status;              /* when queued for firing */
    int64_t hw;              /* the high watermark it fires with */
    log_watch_cb cb;
    void *arg;
} log_watch_t;

typedef struct log_topic log_topic_t;

struct log_partition {
    atomic_int refs;
    pthread_mutex_t lock;
    pthread_cond_t watch_cond;  /* a watch callback finished */
    log_t *log;
    log_topic_t *topic;         /* holds a reference */
    int32_t index;
    char dir[LOG_PATH_MAX + 300];
    int dirfd;                  /* dir, open: every file of the partition is reached through it */
    log_config_t cfg;           /* a copy of the topic's, updated under lock */

    log_segment_t **segs;       /* oldest first; the last is the active segment */
    size_t nsegs, capsegs;
    int64_t log_start;
    int64_t leo;                /* log end offset: next to assign */
    int64_t written_leo;        /* offsets below are written (contiguously) to the files */
    int64_t hw;                 /* high watermark: offsets below are durable */

    log_wreq_t *wq;             /* ring of reservations in offset order */
    size_t wq_head, wq_len, wq_cap;
    uint64_t wq_head_seq;       /* sequence number of the ring's head */

    log_completion_t *cq;       /* ring of pending completions, in offset order */
    size_t cq_head, cq_len, cq_cap;

    log_watch_t *watches;       /* waiting for the high watermark */
    log_watch_t *firing;        /* ready to fire, in order */
    uint64_t running_watch;     /* id of the callback running now, 0 when none */
    pthread_t running_thread;
    bool draining;              /* a thread is firing watches */

    log_producers_t producers;

    bool queued;                /* in the sync workers' dirty queue */
    bool syncing;               /* an fsync of this partition is in flight */
    bool again;                 /* more was queued during that fsync: sync once more */
    pthread_cond_t sync_cond;   /* syncing went false */
    bool closed;                /* topic deleted or log closing */
    bool failed;                /* an fsync failed: offline for appends */
    struct log_partition *sync_next;
};

struct log_topic {
    atomic_int refs;
    char name[LOG_TOPIC_NAME_MAX + 1];
    uint8_t id[16];
    char dir[LOG_PATH_MAX + 280];
    log_override_t *overrides;
    size_t noverrides;
    log_config_t cfg;
    log_partition_t **parts;
    int32_t nparts;
    bool deleted;
};

/* Loads (recovering) or creates partition index of topic t in dir. */
int log_partition_load(log_t *log, log_topic_t *t, int32_t index, bool create, bool clean,
                       log_partition_t **out, log_err_t *err);
void log_partition_keep(log_partition_t *p);
/* Marks closed and fails pending work with status (deletion or close). */
void log_partition_shutdown(log_partition_t *p, int status);
/* Clean close: index files and producer snapshot of the active segment. */
void log_partition_close_files(log_partition_t *p);
/* A sync worker's work for one partition: fsync dirty segments, advance the high watermark,
 * complete appends and fire watches. One fsync per partition is in flight at a time: called
 * while one is (from_queue), it asks that one to go once more and returns; wait (flushes)
 * waits for it and then syncs. */
void log_partition_sync(log_partition_t *p, bool from_queue, bool wait);
/* Every partition currently open, each with a reference (release them), as an eddy_malloc'd
 * array. */
log_partition_t **log_partitions_all(log_t *log, size_t *n);
/* Fires queued watches (caller holds no lock). */
void log_partition_fire_watches(log_partition_t *p);
/* Maintenance: retention, pending index files. Returns segments deleted. */
int log_partition_maintain(log_partition_t *p, int64_t now_ms);
void log_partition_set_config(log_partition_t *p, const log_config_t *cfg);
/* Segment holding offset (index into p->segs), p->lock held. */
size_t log_partition_find_segment(const log_partition_t *p, int64_t offset);
/* Takes the pending completions below the high watermark (all of them when all), p->lock
 * held; run them with log_completions_run after unlocking (it frees the array). */
log_completion_t *log_partition_take_completions(log_partition_t *p, bool all, size_t *n);
void log_completions_run(log_completion_t *c, size_t n, int status, int64_t log_start);
/* Moves watches satisfied by the high watermark to the firing list (p->lock held). */
void log_partition_ready_watches(log_partition_t *p);
/* Rolls to a new active segment at the log end (p->lock held). */
int log_partition_roll(log_partition_t *p, log_err_t *err);
void log_topic_release(log_topic_t *t);

/* ---- the log ---- */

typedef struct log_group log_group_t;

typedef struct {
    pthread_mutex_t lock;
    pthread_mutex_t fsync_lock; /* one fsync or compaction at a time (taken before lock) */
    int fd;
    char path[LOG_PATH_MAX + 32];
    log_map_t groups;           /* name -> log_group_t * */
    int64_t file_bytes;         /* size of groups.log */
    int64_t live_bytes;         /* bytes a compacted file would need (estimate) */
    struct log_gpending {
        log_done_cb cb;
        void *arg;
    } *pending;                 /* writes waiting for the fsync, in order */
    size_t npending, cappending;
    bool dirty;
    bool failed;
} log_groups_t;

struct log {
    char dir[LOG_PATH_MAX];
    log_options_t opts;
    pthread_rwlock_t topics_lock;
    log_map_t topics;           /* name -> log_topic_t * */

    pthread_mutex_t sync_lock;
    pthread_cond_t sync_cond;   /* work for the sync workers */
    log_partition_t *dirty, *dirty_tail; /* FIFO of partitions with unsynced writes (refs) */
    bool groups_dirty;
    bool stopping;
    atomic_bool io_failed;      /* an fsync failed: no clean-shutdown marker at close */
    pthread_t sync_threads[LOG_SYNC_THREADS_MAX];
    int nsync_threads;
    bool opened;                /* fully opened: close flushes and writes the marker */

    pthread_mutex_t maint_lock;
    pthread_cond_t maint_cond;
    bool maint_stopping, maint_wake;
    pthread_t maint_thread;
    bool maint_started;

    pthread_mutex_t pid_lock;
    int64_t pid_next, pid_block_end;

    atomic_uint_fast64_t next_watch_id;
    log_groups_t groups;
    struct {
        atomic_uint_fast64_t appends, records, bytes, fsyncs, sync_rounds, rejected, segments_deleted;
    } stats;
};

/* Queues p for the sync workers (group and interval modes). */
void log_sync_enqueue(log_t *log, log_partition_t *p);
void log_sync_enqueue_groups(log_t *log);
/* Asks the maintenance thread to run soon (a segment was rolled). */
void log_maint_wake(log_t *log);

/* topics (topic.c) */
int log_topics_load(log_t *log, bool clean, log_err_t *err);
void log_topics_close(log_t *log);
int log_topics_maintain(log_t *log, int64_t now_ms);

/* groups (groups.c) */
int log_groups_open(log_t *log, log_err_t *err);
void log_groups_close(log_t *log);
void log_groups_sync(log_t *log);
void log_groups_maintain(log_t *log, int64_t now_ms);
/* Prints a groups.log image's records (eddy dump segment). 0, or 1 on a torn/corrupt end. */
int log_groups_dump(const uint8_t *buf, size_t len);

/* codecs (codec.c): compress appends to w; decompress appends at most max bytes to w. */
int log_codec_compress(log_codec_t codec, int level, const uint8_t *src, size_t len, wr_t *w,
                       log_err_t *err);
int log_codec_decompress(log_codec_t codec, const uint8_t *src, size_t len, wr_t *w, size_t max,
                         log_err_t *err);

/* Parses one record from r (uncompressed record bytes of a batch). */
int log_record_parse(rd_t *r, const log_batch_header_t *h, log_record_view_t *rec);

/* Recursive removal of a directory tree (deleted topics). */
int log_remove_tree(const char *path);

#endif
