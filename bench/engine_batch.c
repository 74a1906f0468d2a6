/* Benchmark: the tags batch job (examples/tags.sql) over demo.leaves in eddy's embedded store.
 * Loads the leaves (JSON lines, one leaf event each, as `eddy gen leaves` writes them) into
 * demo.leaves with the store's INSERT JSON path (not timed), then runs the job and reports its
 * time, rows/s and the CPU it took. bench/engine_batch.sh runs PostgreSQL and SQLite on the same
 * file in the same run.
 * Usage: build/bench/engine_batch LEAVES.jsonl [THREADS] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/engine.h"
#include "log/log.h"
#include "store/store.h"

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 2) return fprintf(stderr, "usage: engine_batch LEAVES.jsonl [THREADS]\n"), 2;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/tmp";
    char dir[400], path[1000], err[512];
    snprintf(dir, sizeof dir, "%s/eddy-bench-batch-%d", base, (int)getpid());
    snprintf(path, sizeof path, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(path) != 0) return 1;
    elog_set_level(getenv("BENCH_LOG") ? ELOG_LEVEL_INFO : ELOG_LEVEL_WARN);
    log_options_t lo;
    log_options_init(&lo);
    log_t *log;
    log_err_t lerr;
    snprintf(path, sizeof path, "%s/log", dir);
    if (log_open(path, &lo, &log, &lerr)) return fprintf(stderr, "log: %s\n", lerr.msg), 1;
    store_t *st;
    snprintf(path, sizeof path, "%s/store", dir);
    if (store_open(path, NULL, &st, err, sizeof err)) return fprintf(stderr, "store: %s\n", err), 1;
    engine_t *eng;
    engine_config_t cfg = {log, st, threads, -1};
    if (engine_new(&cfg, &eng, err, sizeof err)) return fprintf(stderr, "engine: %s\n", err), 1;

    /* demo.leaves as examples/leaves.sql creates it, filled through INSERT JSON. */
    size_t tl, dl;
    char *proj = read_file("examples/leaves.sql", &tl), *data = read_file(argv[1], &dl);
    if (!proj || !data) return fprintf(stderr, "cannot read examples/leaves.sql or %s\n", argv[1]), 1;
    if (engine_submit(eng, "leaves", proj, tl, NULL, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    engine_pipeline_stop(eng, "leaves", err, sizeof err);
    const store_table_t *t;
    if (store_table_lookup(st, "demo", "leaves", &t, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    store_write_t *w = store_write_new(st);
    int64_t t0 = time_mono_ns();
    long n = 0;
    for (char *line = data; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len && store_write_json(w, t, line, len, false, store_now_us(st), STORE_TTL_DEFAULT, err, sizeof err))
            return fprintf(stderr, "load: %s\n", err), 1;
        n += len > 0;
        if (n % 1000 == 0 && store_write_apply(w, false, err, sizeof err)) return fprintf(stderr, "load: %s\n", err), 1;
        line = nl ? nl + 1 : NULL;
    }
    if (store_write_apply(w, true, err, sizeof err)) return fprintf(stderr, "load: %s\n", err), 1;
    store_write_free(w);
    store_table_release(t);
    /* Compaction after the load would compete with the job: settle it first, as a table that
     * has been in place for a while is. */
    if (store_compact(st, err, sizeof err)) return fprintf(stderr, "compact: %s\n", err), 1;
    printf("engine_batch: %ld leaves loaded into demo.leaves and compacted in %.1f s (%.0f MB of JSON)\n", n,
           (double)(time_mono_ns() - t0) / 1e9, dl / 1e6);

    char *tags = read_file("examples/tags.sql", &tl);
    double c0 = cpu_seconds();
    t0 = time_mono_ns();
    if (!tags || engine_submit(eng, "tags", tags, tl, NULL, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    wr_t js;
    wr_init(&js, 4096);
    for (;;) {
        wr_reset(&js);
        engine_pipeline_json(eng, "tags", &js);
        wr_u8(&js, 0);
        if (strstr((char *)js.buf, "\"state\":\"finished\"")) break;
        if (strstr((char *)js.buf, "\"state\":\"failed\"")) return fprintf(stderr, "failed: %s\n", (char *)js.buf), 1;
        usleep(1000);
    }
    double wall = (double)(time_mono_ns() - t0) / 1e9, cpu = cpu_seconds() - c0;
    const char *rows = strstr((char *)js.buf, "\"numOutputRows\":");
    printf("  eddy tags job (%d threads): %.3f s, %.0f leaves/s, %.2f CPU-s, %ld tags written\n", threads, wall, n / wall,
           cpu, rows ? atol(rows + 16) : -1L);
    wr_free(&js);
    engine_free(eng);
    store_close(st);
    log_close(log);
    free(proj);
    free(tags);
    free(data);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    return system(path) != 0;
}
