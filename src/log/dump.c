/* `eddy dump segment FILE`: the log's files in readable form, like Kafka's DumpLogSegments:
 * a .log segment's batches (and records, decompressed), a .index or .timeindex file's entries,
 * a producer-state .snapshot, the consumer groups' groups.log. Reads only; never changes a
 * file. */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

static void print_bytes(const char *label, const uint8_t *p, int32_t len) {
    if (len < 0) {
        printf(" %s: null", label);
        return;
    }
    printf(" %s: \"", label);
    int32_t n = len > 80 ? 80 : len;
    for (int32_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\') printf("\\%c", p[i]);
        else if (isprint(p[i])) putchar(p[i]);
        else printf("\\x%02x", p[i]);
    }
    printf("\"%s", len > n ? "..." : "");
}

static bool ends_with(const char *s, const char *ext) {
    size_t n = strlen(s), e = strlen(ext);
    return n >= e && !strcmp(s + n - e, ext);
}

static uint8_t *slurp(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) == 0 && (buf = eddy_malloc((size_t)st.st_size + 1))) {
        if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
            eddy_free(buf);
            buf = NULL;
        } else {
            *len = (size_t)st.st_size;
        }
    }
    close(fd);
    return buf;
}

static int dump_log(const char *path, bool records) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "eddy dump segment: cannot open %s\n", path);
        return 1;
    }
    struct stat st;
    fstat(fd, &st);
    printf("Dumping %s (%lld bytes)\n", path, (long long)st.st_size);
    log_iter_t *it = log_iter_new(0);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int64_t pos = 0, batches = 0;
    int rc = 0;
    while (pos < st.st_size) {
        uint8_t hb[LOG_BATCH_HEADER_SIZE];
        log_batch_header_t h;
        log_err_t e = {0};
        ssize_t n = pread(fd, hb, sizeof hb, pos);
        int prc = n >= 17 ? log_batch_header_parse(hb, (size_t)n, &h, &e) : EDDY_ERR_NEED_MORE;
        if (prc == EDDY_ERR_NEED_MORE && n == (ssize_t)sizeof hb) prc = EDDY_OK;
        if (prc != EDDY_OK || pos + (int64_t)log_batch_size(&h) > st.st_size) {
            printf("position: %lld: %s\n", (long long)pos, prc == EDDY_OK || prc == EDDY_ERR_NEED_MORE ? "torn batch (file ends inside it)" : e.msg);
            rc = 1;
            break;
        }
        size_t size = log_batch_size(&h);
        if (size > cap) {
            uint8_t *nb = eddy_realloc(buf, size);
            if (!nb) break;
            buf = nb;
            cap = size;
        }
        if (pread(fd, buf, size, pos) != (ssize_t)size) break;
        bool valid = log_batch_validate(buf, size, &h, &e) == EDDY_OK;
        printf("baseOffset: %" PRId64 " lastOffset: %" PRId64 " count: %d baseSequence: %d lastSequence: %d "
               "producerId: %" PRId64 " producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %s "
               "isControl: %s position: %" PRId64 " %s: %" PRId64 " size: %zu magic: %d compresscodec: %s "
               "crc: %u isvalid: %s%s%s\n",
               h.base_offset, log_batch_last_offset(&h), h.record_count, h.base_sequence,
               h.base_sequence < 0 ? -1 : h.base_sequence + h.last_offset_delta, h.producer_id,
               h.producer_epoch, h.leader_epoch, h.attributes & LOG_ATTR_TRANSACTIONAL ? "true" : "false",
               h.attributes & LOG_ATTR_CONTROL ? "true" : "false", pos,
               h.attributes & LOG_ATTR_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime", h.max_timestamp,
               size, h.magic, log_codec_name(log_batch_codec(&h)), h.crc, valid ? "true" : "false",
               valid ? "" : " (", valid ? "" : e.msg);
        if (!valid) printf(")\n");
        if (records && valid) {
            log_iter_reset(it, buf, size, false);
            log_record_view_t r;
            if (log_iter_next_batch(it, &h, &e) == 1) {
                int x;
                while ((x = log_iter_next_record(it, &r, &e)) == 1) {
                    printf("| offset: %" PRId64 " timestamp: %" PRId64 " keySize: %d valueSize: %d headers: %d",
                           r.offset, r.timestamp, r.key_len, r.value_len, r.header_count);
                    print_bytes("key", r.key, r.key_len);
                    print_bytes("payload", r.value, r.value_len);
                    putchar('\n');
                }
                if (x < 0) printf("| records: %s\n", e.msg);
            }
        }
        pos += (int64_t)size;
        batches++;
    }
    printf("%" PRId64 " batches, %" PRId64 " bytes\n", batches, pos);
    eddy_free(buf);
    log_iter_free(it);
    close(fd);
    return rc;
}

static int64_t base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return strtoll(slash ? slash + 1 : path, NULL, 10);
}

static int dump_index(const char *path, bool time_index) {
    size_t len = 0;
    uint8_t *b = slurp(path, &len);
    if (!b) {
        fprintf(stderr, "eddy dump segment: cannot read %s\n", path);
        return 1;
    }
    int64_t base = base_of(path);
    size_t entry = time_index ? 12 : 8;
    printf("Dumping %s (%zu entries)\n", path, len / entry);
    for (size_t i = 0; i + entry <= len; i += entry) {
        if (time_index)
            printf("timestamp: %" PRId64 " offset: %" PRId64 "\n", (int64_t)load_u64(b + i), base + load_u32(b + i + 8));
        else
            printf("offset: %" PRId64 " position: %u\n", base + load_u32(b + i), load_u32(b + i + 4));
    }
    if (len % entry) printf("%zu trailing bytes (not a whole entry)\n", len % entry);
    eddy_free(b);
    return len % entry ? 1 : 0;
}

static int dump_snapshot(const char *path) {
    size_t len = 0;
    uint8_t *b = slurp(path, &len);
    if (!b) {
        fprintf(stderr, "eddy dump segment: cannot read %s\n", path);
        return 1;
    }
    log_producers_t t;
    log_producers_init(&t);
    int64_t offset;
    int rc = log_producers_load(&t, b, len, &offset);
    if (rc != EDDY_OK) {
        printf("%s: not a valid producer snapshot\n", path);
    } else {
        printf("Dumping %s: producer state as of offset %" PRId64 ", %zu producers\n", path, offset, t.count);
        for (size_t i = 0; i < t.cap; i++) {
            const log_pstate_t *s = &t.slots[i];
            if (!s->pid) continue;
            printf("producerId: %" PRId64 " producerEpoch: %d lastWrite: %" PRId64, s->pid - 1, s->epoch, s->last_ts);
            for (uint8_t k = 0; k < s->n; k++)
                printf(" [seq %d-%d offsets %" PRId64 "-%" PRId64 "]", s->b[k].first_seq, s->b[k].last_seq,
                       s->b[k].first_offset, s->b[k].last_offset);
            putchar('\n');
        }
    }
    log_producers_free(&t);
    eddy_free(b);
    return rc == EDDY_OK ? 0 : 1;
}

int log_dump_main(int argc, char **argv) {
    bool records = true;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: eddy dump segment [--no-records] FILE\n\n"
                   "Prints a log file in readable form: a .log segment's batches and records,\n"
                   "a .index or .timeindex file's entries, a producer .snapshot, or the\n"
                   "consumer groups' groups.log.\n");
            return 0;
        }
        if (!strcmp(argv[i], "--no-records")) records = false;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "eddy dump segment: unknown flag '%s'\n", argv[i]);
            return 2;
        } else if (file) {
            fprintf(stderr, "eddy dump segment: one FILE only\n");
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        fprintf(stderr, "eddy dump segment: missing FILE (see --help)\n");
        return 2;
    }
    if (ends_with(file, ".index")) return dump_index(file, false);
    if (ends_with(file, ".timeindex")) return dump_index(file, true);
    if (ends_with(file, ".snapshot")) return dump_snapshot(file);
    if (ends_with(file, "groups.log")) {
        size_t len = 0;
        uint8_t *b = slurp(file, &len);
        if (!b) {
            fprintf(stderr, "eddy dump segment: cannot read %s\n", file);
            return 1;
        }
        printf("Dumping %s\n", file);
        int rc = log_groups_dump(b, len);
        eddy_free(b);
        return rc;
    }
    return dump_log(file, records);
}
