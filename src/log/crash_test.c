/* The crash test: a child process appends from several threads (default group commit) and
 * reports each acknowledgement through a pipe; the parent SIGKILLs it at a random moment, and
 * in some rounds also simulates a power loss by cutting or corrupting the segment files after
 * the last acknowledged batch (anything not acknowledged may be lost). Then it recovers the log
 * and checks that every acknowledged record is there, in order, exactly once: each writer's
 * records carry consecutive sequence numbers, and a restarted child continues after the last
 * one it finds. Rounds: EDDY_CRASH_ROUNDS (default 25), seed: EDDY_CRASH_SEED. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/log_int.h"
#include "test.h"

#define WRITERS 4
#define TOPIC "crash"

typedef struct {
    int32_t writer;
    int32_t last_seq;
    int64_t last_offset;
} ack_t;

typedef struct {
    log_partition_t *p;
    int fd;
    int writer;
    int32_t next_seq;
    unsigned seed;
} writer_t;

static log_t *open_at(const char *dir, bool background) {
    log_options_t o;
    log_options_init(&o);
    o.background = background;
    log_t *log = NULL;
    log_err_t e;
    if (log_open(dir, &o, &log, &e) != EDDY_OK) {
        printf("# log_open: %s\n", e.msg);
        return NULL;
    }
    return log;
}

/* Walks the partition and calls fn(writer, seq, offset) for each record; returns false (and
 * stops) when fn does. */
static bool walk(log_partition_t *p, bool (*fn)(void *, int, int32_t, int64_t), void *arg) {
    log_partition_state_t st;
    if (log_partition_state(p, &st) != EDDY_OK) return false;
    log_iter_t *it = log_iter_new(0);
    int64_t next = st.log_start_offset;
    bool ok = true;
    while (ok && next < st.high_watermark) {
        wr_t w;
        wr_init(&w, 0);
        log_read_t info;
        if (log_read_into(p, next, 1 << 20, &w, &info, NULL) != EDDY_OK || !w.len) {
            wr_free(&w);
            ok = false;
            break;
        }
        log_iter_reset(it, w.buf, w.len, true);
        log_batch_header_t h;
        log_record_view_t r;
        log_err_t e;
        int rc;
        while (ok && (rc = log_iter_next_batch(it, &h, &e)) == 1) {
            while (ok && log_iter_next_record(it, &r, &e) == 1) {
                if (r.offset < next) continue;
                int wi;
                int32_t seq;
                char buf[64];
                snprintf(buf, sizeof buf, "%.*s", r.value_len > 0 ? r.value_len : 0, (const char *)r.value);
                if (sscanf(buf, "w%d.s%d", &wi, &seq) != 2 || wi < 0 || wi >= WRITERS) {
                    printf("# bad record at offset %lld: '%s'\n", (long long)r.offset, buf);
                    ok = false;
                } else {
                    ok = fn(arg, wi, seq, r.offset);
                }
            }
        }
        if (rc < 0) {
            printf("# corrupt batch served: %s\n", e.msg);
            ok = false;
        }
        next = info.next_offset;
        wr_free(&w);
    }
    log_iter_free(it);
    return ok;
}

static bool find_max(void *arg, int w, int32_t seq, int64_t offset) {
    (void)offset;
    int32_t *max = arg;
    if (seq > max[w]) max[w] = seq;
    return true;
}

/* ---- the child ---- */

static void on_ack(void *arg, int status, const log_append_result_t *res) {
    ack_t *a = arg;
    if (status == EDDY_OK) {
        a->last_offset = res->last_offset;
        ssize_t n = write(((int *)&a[1])[0], a, sizeof *a); /* atomic: < PIPE_BUF */
        (void)n;
    }
    eddy_free(a);
}

static void *writer_main(void *arg) {
    writer_t *w = arg;
    for (;;) {
        int n = 1 + (int)(rand_r(&w->seed) % 20);
        char vals[20][32];
        log_record_t recs[20];
        for (int i = 0; i < n; i++) {
            snprintf(vals[i], sizeof vals[i], "w%d.s%d", w->writer, w->next_seq + i);
            recs[i] = (log_record_t){-1, NULL, -1, vals[i], (int32_t)strlen(vals[i]), NULL, 0};
        }
        /* The ack record and the pipe's fd travel together to the callback. */
        ack_t *a = eddy_malloc(sizeof(ack_t) + sizeof(int));
        a->writer = w->writer;
        a->last_seq = w->next_seq + n - 1;
        ((int *)&a[1])[0] = w->fd;
        while (log_append_records(w->p, recs, (size_t)n, (log_codec_t)(rand_r(&w->seed) % 5), on_ack, a, NULL) != EDDY_OK)
            usleep(1000); /* not accepted: cb will not run, a is still ours */
        w->next_seq += n;
        /* Keep a few appends in flight but do not run away from the fsyncs. */
        if (rand_r(&w->seed) % 4 == 0) usleep(200);
    }
    return NULL;
}

static _Noreturn void child_main(const char *dir, int fd, unsigned seed) {
    elog_set_level(ELOG_LEVEL_ERROR);
    log_t *log = open_at(dir, true);
    if (!log) _exit(3);
    log_partition_t *p;
    if (log_partition_open(log, TOPIC, 0, 0, &p, NULL) != EDDY_OK) _exit(4);
    int32_t max[WRITERS];
    for (int i = 0; i < WRITERS; i++) max[i] = -1;
    if (!walk(p, find_max, max)) _exit(5);
    writer_t ws[WRITERS];
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        ws[i] = (writer_t){p, fd, i, max[i] + 1, seed * 31 + (unsigned)i};
        pthread_create(&th[i], NULL, writer_main, &ws[i]);
    }
    for (;;) pause();
}

/* ---- the parent ---- */

typedef struct {
    int32_t next[WRITERS];
    int64_t records;
} verify_t;

static bool check_order(void *arg, int w, int32_t seq, int64_t offset) {
    verify_t *v = arg;
    if (seq != v->next[w]) {
        printf("# writer %d: sequence %d at offset %lld, expected %d (%s)\n", w, seq, (long long)offset,
               v->next[w], seq < v->next[w] ? "duplicate" : "gap");
        return false;
    }
    v->next[w]++;
    v->records++;
    return true;
}

/* What a power loss could take: bytes that were never fsynced. Known durable are the segment
 * sizes at the parent's last clean close (recorded then), and whole segments whose index files
 * were written after that close (the log writes them only after fsyncing the segment). */
typedef struct {
    int64_t base[4096], size[4096];
    int n;
    int64_t close_ns; /* wall time after the parent's last close */
} durable_t;

static int list_segments(const char *pdir, int64_t *bases, int max) {
    DIR *d = opendir(pdir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t l = strlen(e->d_name);
        if (l == 24 && !strcmp(e->d_name + 20, ".log")) bases[n++] = strtoll(e->d_name, NULL, 10);
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort: few segments */
        for (int k = i; k > 0 && bases[k - 1] > bases[k]; k--) {
            int64_t t = bases[k];
            bases[k] = bases[k - 1];
            bases[k - 1] = t;
        }
    return n;
}

static void record_durable(const char *dir, durable_t *d) {
    char pdir[700];
    snprintf(pdir, sizeof pdir, "%s/topics/%s/0", dir, TOPIC);
    d->n = list_segments(pdir, d->base, 4096);
    for (int i = 0; i < d->n; i++) {
        char f[800];
        snprintf(f, sizeof f, "%s/%020lld.log", pdir, (long long)d->base[i]);
        struct stat st;
        d->size[i] = stat(f, &st) == 0 ? st.st_size : 0;
    }
    d->close_ns = time_now_us() * 1000;
}

static int64_t durable_size(const durable_t *d, int64_t base) {
    for (int i = 0; i < d->n; i++)
        if (d->base[i] == base) return d->size[i];
    return 0;
}

static bool index_is_fresh(const char *pdir, int64_t base, const durable_t *d) {
    char f[800];
    snprintf(f, sizeof f, "%s/%020lld.index", pdir, (long long)base);
    struct stat st;
    if (stat(f, &st) != 0) return false;
    int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return mtime > d->close_ns;
}

/* Simulates a power loss: cuts or corrupts the segment holding the first unacknowledged offset
 * somewhere past both the acknowledged data and what is known durable, and may delete later
 * segments created since the last close (never a durable one). */
static void lose_unsynced(const char *dir, int64_t acked_end, const durable_t *d, unsigned *seed) {
    char pdir[700];
    snprintf(pdir, sizeof pdir, "%s/topics/%s/0", dir, TOPIC);
    int64_t bases[4096];
    int n = list_segments(pdir, bases, 4096);
    int hold = -1;
    for (int i = 0; i < n; i++)
        if (bases[i] <= acked_end) hold = i;
    if (hold < 0 || index_is_fresh(pdir, bases[hold], d)) return;
    int dirfd = open(pdir, O_RDONLY | O_DIRECTORY);
    log_segment_t *s = dirfd >= 0 ? log_segment_open(dirfd, pdir, bases[hold], false, NULL) : NULL;
    if (!s) {
        if (dirfd >= 0) close(dirfd);
        return;
    }
    int64_t pos = 0;
    log_batch_header_t h;
    while (log_segment_header_at(s, pos, s->size, &h) == EDDY_OK && h.base_offset < acked_end)
        pos += (int64_t)log_batch_size(&h);
    int64_t floor = EDDY_MAX(pos, durable_size(d, bases[hold]));
    if (s->size > floor) {
        int64_t cut = floor + (int64_t)(rand_r(seed) % (uint64_t)(s->size - floor + 1));
        if (rand_r(seed) % 3 == 0 && cut < s->size) {
            uint8_t junk = 0xa5;
            if (pwrite(s->fd, &junk, 1, cut) != 1) {}
        } else if (ftruncate(s->fd, cut) != 0) {
        }
    }
    log_segment_release(s);
    close(dirfd);
    if (rand_r(seed) % 2) return;
    for (int i = hold + 1; i < n; i++) {
        if (index_is_fresh(pdir, bases[i], d) || durable_size(d, bases[i]) > 0) break;
        char f[800];
        snprintf(f, sizeof f, "%s/%020lld.log", pdir, (long long)bases[i]);
        unlink(f);
    }
}

TEST(crash_kill9_keeps_every_acknowledged_record) {
    const char *dir = test_tmpdir();
    int rounds = getenv("EDDY_CRASH_ROUNDS") ? atoi(getenv("EDDY_CRASH_ROUNDS")) : 25;
    unsigned seed = getenv("EDDY_CRASH_SEED") ? (unsigned)atoi(getenv("EDDY_CRASH_SEED")) : (unsigned)time_now_us();
    printf("# crash test: %d rounds, seed %u\n", rounds, seed);
    {
        log_t *log = open_at(dir, false);
        REQUIRE(log);
        log_config_entry_t cfg[] = {{"segment.bytes", "65536"}};
        REQUIRE_OK(log_topic_create(log, TOPIC, 1, cfg, 1, false, NULL));
        log_close(log);
    }
    static durable_t durable;
    record_durable(dir, &durable);
    int32_t acked[WRITERS];
    for (int i = 0; i < WRITERS; i++) acked[i] = -1;
    int64_t total_acks = 0, acked_end = 0, records = 0;
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        fflush(stdout);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(dir, fds[1], seed + (unsigned)round);
        }
        close(fds[1]);
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        /* Let it recover and run, reading its acknowledgements (a full pipe would stall its
         * sync threads), then kill it at a random moment and read the rest. */
        int64_t deadline = time_mono_ms() + 50 + rand_r(&seed) % 400;
        uint8_t buf[sizeof(ack_t) * 256];
        size_t have = 0;
        bool killed = false;
        for (;;) {
            int64_t now = time_mono_ms();
            if (!killed && now >= deadline) {
                kill(pid, SIGKILL);
                int status;
                waitpid(pid, &status, 0);
                CHECK(WIFSIGNALED(status));
                killed = true;
            }
            struct pollfd pfd = {fds[0], POLLIN, 0};
            if (!killed) poll(&pfd, 1, (int)(deadline - now));
            ssize_t n = read(fds[0], buf + have, sizeof buf - have);
            if (n == 0 || (n < 0 && killed && errno == EAGAIN)) break; /* writer gone: all read */
            if (n < 0) continue;
            have += (size_t)n;
            size_t k = 0;
            for (; k + sizeof(ack_t) <= have; k += sizeof(ack_t)) {
                ack_t a;
                memcpy(&a, buf + k, sizeof a);
                REQUIRE(a.writer >= 0 && a.writer < WRITERS);
                if (a.last_seq > acked[a.writer]) acked[a.writer] = a.last_seq;
                if (a.last_offset + 1 > acked_end) acked_end = a.last_offset + 1;
                total_acks++;
            }
            memmove(buf, buf + k, have - k);
            have -= k;
        }
        close(fds[0]);
        if (round % 3 == 2) lose_unsynced(dir, acked_end, &durable, &seed);
        /* Recover, check, and leave the log unclean again (most rounds) for the next child. */
        log_t *log = open_at(dir, false);
        REQUIRE(log);
        log_partition_t *p;
        REQUIRE_OK(log_partition_open(log, TOPIC, 0, 0, &p, NULL));
        verify_t v = {{0}, 0};
        bool ok = walk(p, check_order, &v);
        CHECK(ok);
        for (int i = 0; i < WRITERS; i++) {
            if (v.next[i] - 1 < acked[i])
                printf("# round %d: writer %d acknowledged up to %d, log has up to %d\n", round, i, acked[i], v.next[i] - 1);
            CHECK(v.next[i] - 1 >= acked[i]);
        }
        records = v.records;
        log_partition_release(p);
        log_close(log);
        record_durable(dir, &durable);
        usleep(20000); /* index files the next child writes get later times than the close */
        if (!ok) break;
        if (round % 4 != 3) {
            char marker[600];
            snprintf(marker, sizeof marker, "%s/clean-shutdown", dir);
            unlink(marker);
        }
    }
    printf("# %lld acknowledged appends, %lld records in the log\n", (long long)total_acks, (long long)records);
    CHECK(total_acks > 0);
}
