/* Crash test: a child process writes rows from two threads, one with store_write_submit (group
 * commit; each write reported on a pipe only from its durability completion), the other with
 * store_write_apply without fsync (reported as soon as it returns: it must have reached the OS,
 * although group commit keeps the WAL buffered); the parent kills it with SIGKILL in the middle
 * of the load, reopens the store and checks that every acknowledged write is there, whole (its
 * row and its kv entry, written in one batch). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_int.h"
#include "test.h"

typedef struct {
    store_t *st;
    const store_table_t *t;
    int fd;
    uint32_t first;     /* ids first, first + 2, ...: even ones submitted, odd ones applied */
} writer_t;

typedef struct {
    int fd;
    uint32_t id;
} ack_t;

static void on_durable(void *arg, int status) {
    ack_t *a = arg;
    if (status == EDDY_OK) {
        uint32_t id = a->id;
        if (write(a->fd, &id, sizeof id) != sizeof id) _exit(3);
    }
    free(a);
}

static void *writer_main(void *arg) {
    writer_t *wr = arg;
    store_write_t *w = store_write_new(wr->st);
    char err[256];
    for (uint32_t id = wr->first;; id += 2) {
        uint8_t k[4], v[8], kv[16];
        store_u32(k, id);
        store_u64(v, (uint64_t)id * 7);
        eddy_view_t key = eddy_view(k, 4);
        if (store_write_row(w, wr->t, &key, 1, id, 0, STORE_ROW_INSERT, err, sizeof err) ||
            store_write_set(w, 1, v, 8, err, sizeof err))
            _exit(4);
        int n = snprintf((char *)kv, sizeof kv, "ack/%u", id);
        store_write_kv_put(w, kv, (size_t)n, v, 8);
        if (wr->first % 2) {
            if (store_write_apply(w, false, err, sizeof err)) _exit(5);
            if (write(wr->fd, &id, sizeof id) != sizeof id) _exit(3);
            usleep(100); /* pacing, so that the parent has few acknowledgements to check */
            continue;
        }
        ack_t *a = malloc(sizeof *a);
        a->fd = wr->fd;
        a->id = id;
        if (store_write_submit(w, on_durable, a, err, sizeof err)) _exit(5);
    }
    return NULL;
}

static void child(const char *dir, int fd) {
    store_t *st;
    char err[256];
    if (store_open(dir, NULL, &st, err, sizeof err)) _exit(1);
    const store_table_t *t;
    if (store_table_lookup(st, "ks", "t", &t, err, sizeof err)) _exit(2);
    writer_t w[2] = {{st, t, fd, 0}, {st, t, fd, 1}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, writer_main, &w[i]);
    for (;;) pause();
}

TEST(store_crash_kill9_keeps_acknowledged_writes) {
    const char *dir = test_tmpdir();
    char err[256];
    store_t *st;
    REQUIRE(store_open(dir, NULL, &st, err, sizeof err) == 0);
    store_strmap_t rep = {2, (const char *[]){"class", "replication_factor"}, (const char *[]){"SimpleStrategy", "1"}};
    REQUIRE(store_keyspace_create(st, "ks", &rep, true, false, NULL, err, sizeof err) == 0);
    store_column_spec_t cols[] = {{"k", store_type_native(STORE_T_INT), STORE_COL_PARTITION_KEY, false},
                                  {"v", store_type_native(STORE_T_BIGINT), STORE_COL_REGULAR, false}};
    REQUIRE(store_table_create(st, "ks", "t", cols, 2, NULL, 0, false, NULL, err, sizeof err) == 0);
    store_close(st);

    int p[2];
    REQUIRE(pipe(p) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child(dir, p[1]);
        _exit(0);
    }
    close(p[1]);
    /* read acknowledgements until enough arrived, then kill in the middle of the load */
    size_t cap = 1 << 16, n = 0, kinds[2] = {0, 0};
    uint32_t *acked = malloc(cap * sizeof *acked);
    int64_t deadline = time_mono_ms() + 60000;
    while ((kinds[0] < 1500 || kinds[1] < 1500) && time_mono_ms() < deadline) {
        uint32_t id;
        ssize_t r = read(p[0], &id, sizeof id);
        if (r != sizeof id) break;
        if (n == cap) acked = realloc(acked, (cap *= 2) * sizeof *acked);
        acked[n++] = id;
        kinds[id % 2]++;
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* acknowledgements sent before the kill count too */
    for (;;) {
        uint32_t id;
        ssize_t r = read(p[0], &id, sizeof id);
        if (r != sizeof id) break;
        if (n == cap) acked = realloc(acked, (cap *= 2) * sizeof *acked);
        acked[n++] = id;
    }
    close(p[0]);
    CHECK(kinds[0] >= 1500 && kinds[1] >= 1500); /* both kinds of write were acknowledged */

    REQUIRE(store_open(dir, NULL, &st, err, sizeof err) == 0);
    const store_table_t *t;
    REQUIRE(store_table_lookup(st, "ks", "t", &t, err, sizeof err) == 0);
    store_iter_t *it = store_iter_new(st);
    size_t missing = 0, wrong = 0;
    wr_t val;
    wr_init(&val, 16);
    for (size_t i = 0; i < n; i++) {
        uint8_t k[4];
        store_u32(k, acked[i]);
        eddy_view_t key = eddy_view(k, 4);
        store_query_t q;
        memset(&q, 0, sizeof q);
        q.table = t;
        q.keys = &key;
        q.nkeys = 1;
        const store_row_t *row;
        if (store_iter_start(it, &q, err, sizeof err) || store_iter_next(it, &row, err, sizeof err) != 1) {
            missing++;
            continue;
        }
        if (!row->cells[1].ptr || ld_i64(row->cells[1].ptr) != (int64_t)acked[i] * 7) wrong++;
        char kv[16];
        int kl = snprintf(kv, sizeof kv, "ack/%u", acked[i]);
        wr_reset(&val);
        if (store_kv_get(st, kv, (size_t)kl, &val, err, sizeof err) || val.len != 8) wrong++;
    }
    CHECK_EQ_INT(missing, 0);
    CHECK_EQ_INT(wrong, 0);
    wr_free(&val);
    free(acked);
    store_iter_free(it);
    store_table_release(t);
    store_close(st);
}
