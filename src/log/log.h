/* log: eddy's durable, partitioned event log, Kafka's storage model in one process.
 *
 * Topics have N partitions; a partition is a sequence of segment files holding Kafka RecordBatch
 * v2 bytes exactly as producers sent them (only the base offset, and for LogAppendTime the max
 * timestamp and CRC, are rewritten), with sparse offset and time indexes beside them. Readers get
 * whole batches as file ranges (fd, position, length) so the broker can sendfile them.
 *
 * Durability: with the default group commit, an append is written to the segment (page cache)
 * on the caller's thread and acknowledged by a sync worker thread after fdatasync; concurrent
 * appenders share one fsync. The high watermark is the last durable offset: readers never see
 * data a crash could take back. Interval and none modes acknowledge at once (explicit options).
 *
 * The log also owns consumer-group storage (committed offsets and an opaque per-group state blob)
 * and the producer-id allocator, and keeps idempotent producers' per-partition state.
 *
 * Threads: every function here is thread-safe unless it says otherwise. Callbacks (append
 * completions, watches, group writes) may run on one of the log's sync threads, or on the
 * caller's thread before the call returns where the function says so; they must be short and
 * should not append to the log themselves (hand the result to a loop or worker instead).
 *
 * Files (DIR is the data directory given to log_open, normally eddy's DIR/log):
 *   DIR/topics/NAME/topic                 topic id, partition count and config overrides
 *   DIR/topics/NAME/P/BASE.log            segment: concatenated RecordBatch v2 bytes
 *   DIR/topics/NAME/P/BASE.index          offset index (Kafka's layout: rel offset, position)
 *   DIR/topics/NAME/P/BASE.timeindex      time index (Kafka's layout: timestamp, rel offset)
 *   DIR/topics/NAME/P/BASE.snapshot       idempotent producer state as of offset BASE
 *   DIR/groups.log                        consumer-group offsets and state (own record format)
 *   DIR/producer-ids                      the producer-id allocator's reserved block
 *   DIR/clean-shutdown                    present while closed cleanly (skips recovery scans) */
#ifndef EDDY_LOG_H
#define EDDY_LOG_H

#include "base/base.h"

typedef struct log log_t;                     /* an open log directory */
typedef struct log_partition log_partition_t; /* one partition of one topic, refcounted */
typedef struct log_segment log_segment_t;     /* a segment file (internal; held by reads) */
typedef struct log_iter log_iter_t;           /* a record decoder over batch bytes */

/* ---- errors ---------------------------------------------------------------------------------- */

/* Why a call failed, more precisely than its eddy status; the Kafka front maps each reason to a
 * Kafka ErrorCode (named in the comment). */
typedef enum {
    LOG_ERR_NONE = 0,
    LOG_ERR_CORRUPT_MESSAGE,          /* bad lengths or truncated batch: CORRUPT_MESSAGE */
    LOG_ERR_CRC,                      /* CRC32C mismatch: CORRUPT_MESSAGE */
    LOG_ERR_MAGIC,                    /* magic is not 2: UNSUPPORTED_FOR_MESSAGE_FORMAT */
    LOG_ERR_MESSAGE_TOO_LARGE,        /* a batch over max.message.bytes: MESSAGE_TOO_LARGE */
    LOG_ERR_RECORD_LIST_TOO_LARGE,    /* the record set over segment.bytes: RECORD_LIST_TOO_LARGE */
    LOG_ERR_INVALID_RECORD,           /* count/offsets/records inconsistent: INVALID_RECORD */
    LOG_ERR_UNSUPPORTED_COMPRESSION,  /* unknown codec id: UNSUPPORTED_COMPRESSION_TYPE */
    LOG_ERR_TRANSACTIONAL,            /* transactional or control batch: INVALID_RECORD (no txns) */
    LOG_ERR_OUT_OF_ORDER_SEQUENCE,    /* idempotence: OUT_OF_ORDER_SEQUENCE_NUMBER */
    LOG_ERR_INVALID_PRODUCER_EPOCH,   /* idempotence, older epoch (fenced): INVALID_PRODUCER_EPOCH */
    LOG_ERR_UNKNOWN_PRODUCER_ID,      /* idempotence, no state and sequence != 0: UNKNOWN_PRODUCER_ID */
    LOG_ERR_UNKNOWN_TOPIC,            /* UNKNOWN_TOPIC_OR_PARTITION */
    LOG_ERR_UNKNOWN_PARTITION,        /* UNKNOWN_TOPIC_OR_PARTITION */
    LOG_ERR_TOPIC_EXISTS,             /* TOPIC_ALREADY_EXISTS */
    LOG_ERR_INVALID_TOPIC,            /* INVALID_TOPIC_EXCEPTION */
    LOG_ERR_INVALID_PARTITIONS,       /* INVALID_PARTITIONS */
    LOG_ERR_INVALID_CONFIG,           /* INVALID_CONFIG */
    LOG_ERR_OFFSET_OUT_OF_RANGE,      /* OFFSET_OUT_OF_RANGE */
    LOG_ERR_GROUP_NOT_FOUND,          /* GROUP_ID_NOT_FOUND */
    LOG_ERR_INVALID_GROUP,            /* INVALID_GROUP_ID (empty or too long) */
    LOG_ERR_METADATA_TOO_LARGE,       /* OFFSET_METADATA_TOO_LARGE */
    LOG_ERR_STORAGE,                  /* a disk error; the partition is offline: KAFKA_STORAGE_ERROR */
    LOG_ERR_CLOSED,                   /* the log or the topic is closing or deleted */
    LOG_ERR_NOMEM,
    LOG_ERR_INVALID_ARG,              /* a caller's argument (not wire data) is wrong */
} log_reason_t;

/* Filled by failing calls that take one (may be NULL): the reason and a readable message. */
typedef struct {
    log_reason_t reason;
    char msg[240];
} log_err_t;

/* "CORRUPT_MESSAGE"-style upper-case name of a reason (static storage, never NULL). */
const char *log_reason_name(log_reason_t reason);

/* ---- opening and closing --------------------------------------------------------------------- */

typedef enum {
    LOG_FSYNC_GROUP = 0, /* acknowledge after fdatasync, shared by concurrent appenders (default) */
    LOG_FSYNC_INTERVAL,  /* acknowledge at once; fsync every fsync_interval_ms */
    LOG_FSYNC_NONE,      /* acknowledge at once; fsync only at close */
} log_fsync_mode_t;

typedef struct {
    log_fsync_mode_t fsync_mode;
    int64_t fsync_interval_ms;           /* LOG_FSYNC_INTERVAL period (default 1000) */
    bool auto_create_topics;             /* log_partition_open(LOG_OPEN_AUTO_CREATE) may create */
    int32_t default_partitions;          /* partitions of auto-created topics (default 1) */
    int64_t retention_check_interval_ms; /* log.retention.check.interval.ms (default 300000) */
    int64_t offsets_retention_ms;        /* offsets.retention.minutes in ms (default 7 days) */
    int64_t producer_id_expiration_ms;   /* producer.id.expiration.ms (default 1 day) */
    bool background;                     /* run the maintenance thread (default true; tests may
                                            call log_maintain themselves instead) */
    int32_t sync_threads;                /* group mode: fsyncs of different partitions run in
                                            parallel on this many threads (default 4, max 16) */
} log_options_t;

/* Sets every option to its default. */
void log_options_init(log_options_t *o);
/* Parses eddy's --fsync value "group", "interval:MS" or "none" into o. EDDY_OK or
 * EDDY_ERR_INVALID with a message in errstr. */
int log_options_parse_fsync(log_options_t *o, const char *text, char *errstr, size_t errlen);

/* Opens (creating if needed) the log in dir: loads topics, recovers each partition (after an
 * unclean shutdown: CRC-checks active segments' tails, truncates torn or corrupt tails and logs
 * what it cut, rebuilds missing indexes and producer state), loads group storage, and starts the
 * sync and maintenance threads. Returns EDDY_OK with *out, or an error with err filled. The
 * caller must hold the data directory's lock (one process per directory). */
int log_open(const char *dir, const log_options_t *opts, log_t **out, log_err_t *err);

/* Stops the threads, fsyncs everything, completes pending appends (EDDY_OK: they are durable)
 * and fires pending watches with EDDY_ERR_CLOSED, writes indexes, producer snapshots and the
 * clean-shutdown marker, and frees the log. Every partition handle must have been released. */
void log_close(log_t *log);

/* Makes everything appended so far (and group writes) durable now and waits for it, in every
 * fsync mode: the caller's thread does the fsyncs. Not for event-loop threads. */
int log_flush(log_t *log);

/* Counters since open (for /metrics and benchmarks); read without stopping anything. */
typedef struct {
    uint64_t appends;          /* accepted log_append calls (duplicates included) */
    uint64_t records;          /* records appended */
    uint64_t bytes;            /* batch bytes written to segments */
    uint64_t fsyncs;           /* fdatasync calls on segments and the groups file */
    uint64_t sync_rounds;      /* group-commit rounds (one partition's fsync and completions) */
    uint64_t rejected;         /* appends refused (validation, idempotence, size) */
    uint64_t segments_deleted; /* by retention */
} log_stats_t;

void log_stats_get(log_t *log, log_stats_t *out);

/* Runs one maintenance pass now: time-based rolls, retention (time and size), expiry of group
 * offsets and idle producer ids, groups-file compaction, deferred file deletions. The
 * maintenance thread calls it every retention_check_interval_ms; tests call it with a chosen
 * now_ms. Returns the number of segments deleted. */
int log_maintain(log_t *log, int64_t now_ms);

/* ---- topics ---------------------------------------------------------------------------------- */

#define LOG_TOPIC_NAME_MAX 249 /* Kafka's limit; legal characters [a-zA-Z0-9._-] */

/* A topic setting by Kafka's name ("retention.ms") and its value as text ("86400000").
 * In alterations a NULL value resets the setting to its default. */
typedef struct {
    const char *name;
    const char *value;
} log_config_entry_t;

typedef struct {
    char name[LOG_TOPIC_NAME_MAX + 1];
    uint8_t id[16];     /* the topic id (a random UUID, as Kafka's Metadata v10+ reports) */
    int32_t partitions;
    bool internal;      /* reserved (no internal topics yet) */
} log_topic_info_t;

/* Creates topic name with the given partition count (> 0) and config overrides (validated;
 * unknown names or bad values fail with LOG_ERR_INVALID_CONFIG). validate_only checks without
 * creating. Errors: EDDY_ERR_EXISTS (LOG_ERR_TOPIC_EXISTS), EDDY_ERR_INVALID (INVALID_TOPIC,
 * INVALID_PARTITIONS, INVALID_CONFIG), EDDY_ERR_IO (STORAGE). Durable when it returns. */
int log_topic_create(log_t *log, const char *name, int32_t partitions,
                     const log_config_entry_t *configs, size_t nconfigs, bool validate_only,
                     log_err_t *err);

/* Deletes a topic: its partitions stop accepting appends at once (open handles get
 * EDDY_ERR_CLOSED, pending watches fire with EDDY_ERR_CLOSED), its directory is renamed away
 * durably and removed in the background. Reads already holding segments stay valid.
 * EDDY_ERR_NOT_FOUND (UNKNOWN_TOPIC) if absent. */
int log_topic_delete(log_t *log, const char *name, log_err_t *err);

/* Raises a topic's partition count to total (CreatePartitions). Fewer or equal: EDDY_ERR_INVALID
 * (INVALID_PARTITIONS). */
int log_topic_add_partitions(log_t *log, const char *name, int32_t total, bool validate_only,
                             log_err_t *err);

/* Topic info by name: EDDY_OK or EDDY_ERR_NOT_FOUND. */
int log_topic_info(log_t *log, const char *name, log_topic_info_t *out);

/* Every topic, sorted by name, as one eddy_malloc'd array the caller frees with eddy_free. */
int log_topic_list(log_t *log, log_topic_info_t **out, size_t *count);

typedef enum {
    LOG_ALTER_REPLACE,     /* AlterConfigs: the entries become the whole set of overrides */
    LOG_ALTER_INCREMENTAL, /* IncrementalAlterConfigs: set these (NULL value: reset), keep others */
} log_alter_mode_t;

/* Changes a topic's settings (validated first; nothing changes on error). Applies to every
 * partition at once and persists durably. */
int log_topic_alter_config(log_t *log, const char *name, const log_config_entry_t *entries,
                           size_t n, log_alter_mode_t mode, bool validate_only, log_err_t *err);

/* Kafka's ConfigEntry as DescribeConfigs reports it. */
typedef enum {
    LOG_CONFIG_SOURCE_TOPIC = 1,   /* DescribeConfigs ConfigSource TOPIC_CONFIG */
    LOG_CONFIG_SOURCE_DEFAULT = 5, /* DEFAULT_CONFIG */
} log_config_source_t;

typedef enum { /* Kafka's ConfigType ids (DescribeConfigs v3) */
    LOG_CONFIG_TYPE_BOOLEAN = 1,
    LOG_CONFIG_TYPE_STRING = 2,
    LOG_CONFIG_TYPE_INT = 3,
    LOG_CONFIG_TYPE_LONG = 5,
    LOG_CONFIG_TYPE_DOUBLE = 6,
    LOG_CONFIG_TYPE_LIST = 7,
} log_config_type_t;

typedef struct {
    const char *name;      /* static storage */
    const char *value;     /* the effective value as text; points into the returned block */
    bool is_default;
    bool read_only;
    log_config_source_t source;
    log_config_type_t type;
    const char *doc;       /* one line, static storage */
} log_config_desc_t;

/* Every setting of a topic (name order), its value and where it comes from, as one
 * eddy_malloc'd block (free with eddy_free). EDDY_ERR_NOT_FOUND for an unknown topic. */
int log_topic_describe_config(log_t *log, const char *name, log_config_desc_t **out,
                              size_t *count, log_err_t *err);

/* Checks one setting's name and value without a topic (CreateTopics validation). */
int log_config_validate(const char *name, const char *value, log_err_t *err);

/* ---- partitions ------------------------------------------------------------------------------ */

#define LOG_OPEN_AUTO_CREATE 1 /* create the topic (default_partitions) if missing and allowed */

/* A reference to topic/partition. EDDY_ERR_NOT_FOUND (UNKNOWN_TOPIC or UNKNOWN_PARTITION) when
 * absent. The handle stays valid (memory) until log_partition_release, even if the topic is
 * deleted meanwhile (then calls fail with EDDY_ERR_CLOSED). Cheap: a hash lookup and a refcount. */
int log_partition_open(log_t *log, const char *topic, int32_t partition, int flags,
                       log_partition_t **out, log_err_t *err);
void log_partition_release(log_partition_t *p);
/* The topic name (valid while the handle is held) and the partition index. */
const char *log_partition_topic(const log_partition_t *p);
int32_t log_partition_index(const log_partition_t *p);

typedef struct {
    int64_t log_start_offset; /* first offset still stored */
    int64_t high_watermark;   /* offsets below are durable and readable */
    int64_t log_end_offset;   /* next offset to assign (>= high_watermark) */
    int64_t size_bytes;       /* bytes in all segments */
    int32_t segments;
} log_partition_state_t;

int log_partition_state(log_partition_t *p, log_partition_state_t *out);

/* ---- appending -------------------------------------------------------------------------------- */

typedef struct {
    int64_t base_offset;      /* offset of the first record appended (or of the original, for a
                                 duplicate idempotent batch) */
    int64_t last_offset;
    int64_t log_append_time;  /* the broker time written for LogAppendTime topics, else -1 */
    int64_t log_start_offset;
    bool duplicate;           /* an idempotent retry: nothing was appended */
} log_append_result_t;

/* Called once per accepted append: status EDDY_OK when durable (group mode) or written (interval,
 * none), EDDY_ERR_IO (LOG_ERR_STORAGE) when the fsync failed, EDDY_ERR_CLOSED when the topic was
 * deleted first. res is valid during the call only. */
typedef void (*log_append_cb)(void *arg, int status, const log_append_result_t *res);

/* Appends a Produce partition's record set: one or more whole RecordBatch v2 byte sequences.
 * Every batch is validated first (lengths, magic 2, CRC32C, record count against offsets,
 * max.message.bytes, idempotent producer sequence and epoch); on any error nothing is written,
 * EDDY_ERR_CORRUPT / EDDY_ERR_TOO_LARGE / EDDY_ERR_CONFLICT / EDDY_ERR_INVALID / EDDY_ERR_CLOSED
 * is returned with err saying why, and cb is not called. On success the log assigns offsets by
 * rewriting the base offsets in place in batches (and max timestamp + CRC for LogAppendTime), so
 * batches is modified; the log keeps no pointer to it after returning. Then EDDY_OK is returned
 * and cb is called exactly once: in group mode on a sync thread after the fsync; in interval
 * and none modes as soon as the data is written, on this thread before returning or on the
 * thread of a concurrent appender to the same partition (whichever completes the written
 * prefix); for a duplicate already durable, on this thread before returning. */
int log_append(log_partition_t *p, uint8_t *batches, size_t len, log_append_cb cb, void *arg,
               log_err_t *err);

/* ---- records built by eddy ------------------------------------------------------------------ */

typedef enum {
    LOG_CODEC_NONE = 0,
    LOG_CODEC_GZIP = 1,
    LOG_CODEC_SNAPPY = 2,
    LOG_CODEC_LZ4 = 3,
    LOG_CODEC_ZSTD = 4,
} log_codec_t;

/* Parses "none|gzip|snappy|lz4|zstd". EDDY_OK or EDDY_ERR_INVALID. */
int log_codec_parse(const char *name, log_codec_t *out);
const char *log_codec_name(log_codec_t codec);

/* A record header; a negative value_len (or NULL value) is a null value. */
typedef struct {
    const void *key;
    size_t key_len;
    const void *value;
    int32_t value_len;
} log_header_t;

/* A record to encode. Negative key_len / value_len (or NULL pointers) mean null; a null value is
 * a tombstone. timestamp < 0 means now. */
typedef struct {
    int64_t timestamp;
    const void *key;
    int32_t key_len;
    const void *value;
    int32_t value_len;
    const log_header_t *headers;
    size_t header_count;
} log_record_t;

typedef struct {
    log_codec_t codec;
    int compression_level; /* 0: the codec's default */
    int64_t base_offset;   /* written into the header (the log overwrites it on append) */
    int64_t producer_id;   /* -1: not idempotent */
    int16_t producer_epoch;
    int32_t base_sequence;
} log_batch_opts_t;

void log_batch_opts_init(log_batch_opts_t *o); /* none, level 0, offsets 0, producer -1 */

/* Encodes records as one RecordBatch v2 appended to w (CRC computed). Returns EDDY_OK,
 * EDDY_ERR_INVALID for n == 0 or a bad codec, or EDDY_ERR_NOMEM / EDDY_ERR_TOO_LARGE from w. */
int log_batch_encode(wr_t *w, const log_record_t *records, size_t n, const log_batch_opts_t *o,
                     log_err_t *err);

/* Encodes records (codec as given; eddy's own appends default to none, see DECISIONS.md) and
 * appends them as one batch with log_append's contract. */
int log_append_records(log_partition_t *p, const log_record_t *records, size_t n,
                       log_codec_t codec, log_append_cb cb, void *arg, log_err_t *err);

/* Blocking helpers for tools, tests and worker threads (never an event loop): append and wait
 * for the acknowledgement. res may be NULL. */
int log_append_wait(log_partition_t *p, uint8_t *batches, size_t len, log_append_result_t *res,
                    log_err_t *err);
int log_append_records_wait(log_partition_t *p, const log_record_t *records, size_t n,
                            log_codec_t codec, log_append_result_t *res, log_err_t *err);

/* ---- batch decoding ---------------------------------------------------------------------------- */

#define LOG_BATCH_HEADER_SIZE 61
#define LOG_BATCH_OVERHEAD 12 /* baseOffset + batchLength: batchLength counts what follows */
#define LOG_ATTR_CODEC_MASK 0x07
#define LOG_ATTR_LOG_APPEND_TIME 0x08
#define LOG_ATTR_TRANSACTIONAL 0x10
#define LOG_ATTR_CONTROL 0x20

/* The fixed fields of a RecordBatch v2 (apache/kafka docs/implementation.html). */
typedef struct {
    int64_t base_offset;
    int32_t batch_length;     /* bytes after this field; the whole batch is batch_length + 12 */
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
} log_batch_header_t;

static inline size_t log_batch_size(const log_batch_header_t *h) {
    return (size_t)h->batch_length + LOG_BATCH_OVERHEAD;
}
static inline log_codec_t log_batch_codec(const log_batch_header_t *h) {
    return (log_codec_t)(h->attributes & LOG_ATTR_CODEC_MASK);
}
static inline int64_t log_batch_last_offset(const log_batch_header_t *h) {
    return h->base_offset + h->last_offset_delta;
}

/* Parses the header at p: EDDY_OK, EDDY_ERR_NEED_MORE when fewer than 61 bytes or fewer than
 * the whole batch are present (h is still filled when 61 are), EDDY_ERR_CORRUPT (with err) for a
 * bad length or magic. Does not check the CRC. */
int log_batch_header_parse(const uint8_t *p, size_t len, log_batch_header_t *h, log_err_t *err);

/* Full validation of one whole batch at p (len >= its size): header, magic, CRC32C, record count
 * against lastOffsetDelta and, for uncompressed batches, the record framing. */
int log_batch_validate(const uint8_t *p, size_t len, log_batch_header_t *h, log_err_t *err);

/* A decoded record; pointers are views valid until the next log_iter_* call on the iterator. */
typedef struct {
    int64_t offset;
    int64_t timestamp;        /* LogAppendTime batches: the batch's max timestamp */
    const uint8_t *key;       /* NULL when the key is null */
    int32_t key_len;          /* -1 when null */
    const uint8_t *value;     /* NULL when the value is null */
    int32_t value_len;        /* -1 when null */
    int32_t header_count;
    eddy_view_t headers;      /* raw header bytes; walk with log_record_header_next */
} log_record_view_t;

/* The next header of a record: reads from *cursor (start with rec->headers) and advances it.
 * Returns 1 with h filled, 0 at the end, EDDY_ERR_CORRUPT for malformed bytes. h's pointers
 * point into the record. */
int log_record_header_next(eddy_view_t *cursor, log_header_t *h);

/* The decoder: walks batches in a buffer (a Fetch response's records, a log_read copy, or a
 * Produce record set) and their records, decompressing gzip, snappy (raw and xerial-framed),
 * lz4 (frame) and zstd; decompressed size is capped by max_decompressed (0: 64 MiB).
 * Not thread-safe: one iterator per thread. */
log_iter_t *log_iter_new(size_t max_decompressed);
void log_iter_free(log_iter_t *it);
/* Starts over on buf[0..len); the buffer must outlive the iteration. check_crc verifies each
 * batch's CRC before yielding it. */
void log_iter_reset(log_iter_t *it, const uint8_t *buf, size_t len, bool check_crc);
/* The next batch: 1 with h filled, 0 at the end (a partial trailing batch, as Fetch may return,
 * ends the iteration without error), or a negative status with err for a corrupt batch. */
int log_iter_next_batch(log_iter_t *it, log_batch_header_t *h, log_err_t *err);
/* The next record of the current batch: 1 with rec filled, 0 after the last, negative on
 * corrupt records or a failed decompression (err says which). */
int log_iter_next_record(log_iter_t *it, log_record_view_t *rec, log_err_t *err);

/* ---- reading ------------------------------------------------------------------------------------ */

/* The result of a read: a byte range of one segment file holding whole batches, to send with
 * sendfile(fd, file_pos, len) or copy with log_read_copy. Valid (the fd stays open even if
 * retention deletes the segment) until log_read_release. */
typedef struct {
    int fd;
    int64_t file_pos;
    size_t len;               /* 0 when there is nothing (offset at the high watermark) */
    int64_t first_offset;     /* base offset of the first batch (may be below the offset asked:
                                 a batch is returned whole and the reader skips earlier records) */
    int64_t next_offset;      /* the offset after the last batch returned: read from here next */
    int64_t high_watermark;
    int64_t log_start_offset;
    log_segment_t *seg;       /* internal reference */
} log_read_t;

/* Reads from offset: whole batches whose first ends at or after offset, up to max_bytes (at
 * least one batch even if it is larger, as Kafka does), never past the high watermark, from one
 * segment. offset == high watermark (or between it and the log end) gives len 0.
 * EDDY_ERR_RANGE (LOG_ERR_OFFSET_OUT_OF_RANGE) when offset < log start or > log end. On success
 * the caller must log_read_release(out). */
int log_read(log_partition_t *p, int64_t offset, size_t max_bytes, log_read_t *out,
             log_err_t *err);
/* Copies the range into buf (r->len bytes). EDDY_OK or EDDY_ERR_IO. */
int log_read_copy(const log_read_t *r, void *buf);
void log_read_release(log_read_t *r);
/* log_read + copy appended to w + release; info (may be NULL) gets the offsets (its fd is -1). */
int log_read_into(log_partition_t *p, int64_t offset, size_t max_bytes, wr_t *w, log_read_t *info,
                  log_err_t *err);

#define LOG_TIMESTAMP_LATEST (-1)   /* ListOffsets: the high watermark */
#define LOG_TIMESTAMP_EARLIEST (-2) /* ListOffsets: the log start offset */
#define LOG_TIMESTAMP_MAX (-3)      /* ListOffsets v7: the record with the largest timestamp */

/* ListOffsets: the first durable offset whose record timestamp is >= timestamp, or one of the
 * special values above. *offset = -1 and *found_ts = -1 when no record qualifies. found_ts (may
 * be NULL) gets the record's timestamp (-1 for LATEST/EARLIEST). */
int log_offset_for_timestamp(log_partition_t *p, int64_t timestamp, int64_t *offset,
                             int64_t *found_ts, log_err_t *err);

/* ---- waiting for data ---------------------------------------------------------------------------- */

/* Called once when the high watermark passes the watched offset (status EDDY_OK, hw the new high
 * watermark), or with EDDY_ERR_CLOSED when the topic is deleted or the log closes. Runs on the
 * sync thread, an appending thread in interval/none modes, or the thread that deletes or
 * closes. */
typedef void (*log_watch_cb)(void *arg, int status, int64_t high_watermark);

/* Watches for data at offset: when the high watermark is already above offset, returns EDDY_OK
 * with *id = 0 and does not call cb; otherwise registers the watch and returns EDDY_OK with
 * *id != 0. The caller owns deadlines (cancel on timeout). */
int log_watch_add(log_partition_t *p, int64_t offset, log_watch_cb cb, void *arg, uint64_t *id);
/* Cancels a watch: true when it was removed before its callback started (cb will never run);
 * false when the callback has run (if it is running on another thread, waits for it to return,
 * so after this call the callback is no longer using arg). */
bool log_watch_cancel(log_partition_t *p, uint64_t id);

/* ---- idempotent producers -------------------------------------------------------------------------- */

/* A new producer id for InitProducerId, unique across restarts: ids are reserved durably in
 * blocks of 1000, so one call in 1000 waits for an fsync (call it from a worker thread, not an
 * event loop). EDDY_OK or EDDY_ERR_IO. */
int log_producer_id_alloc(log_t *log, int64_t *producer_id, log_err_t *err);

/* ---- consumer groups --------------------------------------------------------------------------- */

#define LOG_GROUP_NAME_MAX 32767
#define LOG_OFFSET_METADATA_MAX 4096 /* offset.metadata.max.bytes */

typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;   /* -1 when unknown */
    const char *metadata;   /* may be NULL (stored as empty) */
    int64_t commit_time_ms; /* filled on reads; ignored on commit (the log stamps it) */
} log_group_offset_t;

/* Called once when a group write is durable (EDDY_OK) or failed (EDDY_ERR_IO), on a sync
 * thread, or on the caller's thread before returning in interval/none modes. */
typedef void (*log_done_cb)(void *arg, int status);

/* Commits offsets of group (all or none). Validation errors return at once (INVALID_GROUP,
 * METADATA_TOO_LARGE) without calling cb. Readers see the new offsets as soon as this returns. */
int log_group_commit_offsets(log_t *log, const char *group, const log_group_offset_t *offsets,
                             size_t n, log_done_cb cb, void *arg, log_err_t *err);

/* The committed offsets of group (only topic's when topic is not NULL), sorted by topic and
 * partition, as one eddy_malloc'd block with the strings inside (free with eddy_free).
 * An unknown group gives EDDY_OK with count 0. */
int log_group_fetch_offsets(log_t *log, const char *group, const char *topic,
                            log_group_offset_t **out, size_t *count);

/* Saves the coordinator's opaque state of group (protocol type, generation, members...): blob
 * replaces the previous one. empty says the group has no members (its offsets then expire
 * offsets_retention_ms after this save, as Kafka does for empty groups). */
int log_group_state_save(log_t *log, const char *group, const void *blob, size_t len, bool empty,
                         log_done_cb cb, void *arg, log_err_t *err);
/* A copy of group's state blob (eddy_malloc'd, caller frees) or EDDY_ERR_NOT_FOUND. */
int log_group_state_load(log_t *log, const char *group, void **blob, size_t *len);

typedef struct {
    const char *name;      /* points into the returned block */
    bool has_state;
    bool empty;
    size_t offsets;        /* committed offsets stored */
} log_group_info_t;

/* Every known group (with state or offsets), sorted by name; one eddy_malloc'd block. */
int log_group_list(log_t *log, log_group_info_t **out, size_t *count);

/* Deletes a group's state and offsets durably. EDDY_ERR_NOT_FOUND (GROUP_NOT_FOUND) if absent. */
int log_group_delete(log_t *log, const char *group, log_done_cb cb, void *arg, log_err_t *err);

/* Deletes some committed offsets of a group (OffsetDelete). */
int log_group_delete_offsets(log_t *log, const char *group, const log_group_offset_t *offsets,
                             size_t n, log_done_cb cb, void *arg, log_err_t *err);

/* ---- tools --------------------------------------------------------------------------------------- */

/* `eddy dump segment FILE`: prints a .log segment's batches and records (or a .index,
 * .timeindex, .snapshot or groups.log file) in readable form; argv[0] is "segment". Returns an
 * exit code. */
int log_dump_main(int argc, char **argv);

#endif
