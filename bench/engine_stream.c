/* Benchmark: the leaves_by_tag stream (examples/leaves_by_tag.sql) over generated leaves, on
 * eddy's embedded log and store, in one process.
 *   1. throughput: N leaves already durable in topic `leaves`; the pipeline applies them all
 *      (events/s, and events per CPU-second of the whole process);
 *   2. the same output rows written straight into RocksDB with write batches (same run, same
 *      disk): events/s, and the engine's ratio to it;
 *   3. append-to-row-visible latency at a fixed rate (50,000 events/s): a producer appends a
 *      batch of leaves (generated beforehand) every millisecond; the latency of a record is from
 *      its append call to the moment the pipeline's commit made its rows visible
 *      (engine_wait_applied fires after the commit).
 * Usage: build/bench/engine_stream [N [RATE [SECONDS]]]   (defaults 1000000 50000 5)
 * BENCH_ENGINE_ONLY=1 stops after phase 1 (profiling); BENCH_LOG_FSYNC=none|interval:MS|group
 * sets the log's fsync mode. */
#include <dirent.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "engine/engine.h"
#include "log/log.h"
#include "store/store.h"

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* CPU-seconds of this process's threads so far, split into the pipeline threads ("pipe:..."),
 * their commit threads ("pcom:..."), RocksDB's flush and compaction threads ("rocksdb:...") and
 * the rest (from /proc: threads that ended are not counted, so take differences of threads that
 * live through a phase). */
typedef struct {
    double pipe, commit, rocks, other;
} cpu_split_t;

static void cpu_split(cpu_split_t *o) {
    memset(o, 0, sizeof *o);
    DIR *d = opendir("/proc/self/task");
    if (!d) return;
    double tick = (double)sysconf(_SC_CLK_TCK);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        if (!open || !close) continue;
        *close = 0;
        unsigned long ut = 0, st = 0;
        /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) continue;
        double secs = (double)(ut + st) / tick;
        if (!strncmp(open + 1, "pipe:", 5)) o->pipe += secs;
        else if (!strncmp(open + 1, "pcom:", 5)) o->commit += secs;
        else if (!strncmp(open + 1, "rocksdb:", 8)) o->rocks += secs;
        else o->other += secs;
    }
    closedir(d);
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} sync_t;

static void on_applied(void *arg, int status) {
    sync_t *s = arg;
    (void)status;
    pthread_mutex_lock(&s->mu);
    s->done = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void wait_applied(engine_t *eng, int64_t offset) {
    sync_t s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    if (engine_wait_applied(eng, "leaves_by_tag", "leaves", 0, offset, 3600000, on_applied, &s) != EDDY_OK) {
        fprintf(stderr, "wait failed\n");
        exit(1);
    }
    pthread_mutex_lock(&s.mu);
    while (!s.done) pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
}

/* ---- latency ---------------------------------------------------------------------------------- */

typedef struct {
    engine_t *eng;
    pthread_mutex_t mu;
    hist_t hist;
    int64_t outstanding;
} lat_t;

typedef struct {
    lat_t *lat;
    int64_t t0_ns;
    int n;
} lat_rec_t;

static void on_visible(void *arg, int status) {
    lat_rec_t *r = arg;
    uint64_t ns = (uint64_t)(time_mono_ns() - r->t0_ns);
    pthread_mutex_lock(&r->lat->mu);
    if (status == EDDY_OK)
        for (int i = 0; i < r->n; i++) hist_record(&r->lat->hist, ns);
    r->lat->outstanding--;
    pthread_mutex_unlock(&r->lat->mu);
    free(r);
}

static void on_appended(void *arg, int status, const log_append_result_t *res) {
    lat_rec_t *r = arg;
    if (status != EDDY_OK ||
        engine_wait_applied(r->lat->eng, "leaves_by_tag", "leaves", 0, res->last_offset, 60000, on_visible, r) != EDDY_OK) {
        pthread_mutex_lock(&r->lat->mu);
        r->lat->outstanding--;
        pthread_mutex_unlock(&r->lat->mu);
        free(r);
    }
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long rate = argc > 2 ? atol(argv[2]) : 50000;
    long secs = argc > 3 ? atol(argv[3]) : 5;
    const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/tmp";
    char dir[400], path[1000], err[512];
    snprintf(dir, sizeof dir, "%s/eddy-bench-stream-%d", base, (int)getpid());
    snprintf(path, sizeof path, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(path) != 0) return 1;
    elog_set_level(ELOG_LEVEL_WARN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    log_options_t lo;
    log_options_init(&lo);
    /* BENCH_LOG_FSYNC=none: appends acknowledged before their fsync, to tell the fsync's share
     * of the latency from the pipeline's (eddy --fsync none does the same) */
    if (getenv("BENCH_LOG_FSYNC") && log_options_parse_fsync(&lo, getenv("BENCH_LOG_FSYNC"), err, sizeof err))
        return fprintf(stderr, "BENCH_LOG_FSYNC: %s\n", err), 1;
    log_t *log;
    log_err_t lerr;
    snprintf(path, sizeof path, "%s/log", dir);
    if (log_open(path, &lo, &log, &lerr)) return fprintf(stderr, "log: %s\n", lerr.msg), 1;
    store_t *st;
    snprintf(path, sizeof path, "%s/store", dir);
    if (store_open(path, NULL, &st, err, sizeof err)) return fprintf(stderr, "store: %s\n", err), 1;
    static const log_config_entry_t forever[] = {{"retention.ms", "-1"}};
    log_topic_create(log, "leaves", 1, forever, 1, false, &lerr);
    log_partition_t *part;
    if (log_partition_open(log, "leaves", 0, 0, &part, &lerr)) return 1;

    /* The leaves, and the rows leaves_by_tag makes of them (for the RocksDB baseline). */
    printf("engine_stream: %ld leaves (api_leafgen seed 1, content small), machine: %ld cores\n", n, sysconf(_SC_NPROCESSORS_ONLN));
    api_leafgen_t *gen = api_leafgen_new(1, API_LEAFGEN_SMALL);
    wr_t batch, rows;
    wr_init(&batch, 1 << 20);
    wr_init(&rows, 1 << 20);
    long nrows = 0;
    size_t value_bytes = 0;
    enum { PER_APPEND = 500 };
    log_record_t recs[PER_APPEND];
    size_t offs[PER_APPEND];
    char ids[PER_APPEND][33];
    json_doc_t doc;
    json_doc_init(&doc);
    int64_t t_gen = time_mono_ns();
    for (long i = 0; i < n;) {
        int k = 0;
        wr_reset(&batch);
        for (; k < PER_APPEND && i < n; k++, i++) {
            offs[k] = batch.len;
            api_leafgen_next(gen, &batch, API_LEAFGEN_EVENT, ids[k]);
        }
        for (int j = 0; j < k; j++) {
            size_t end = j + 1 < k ? offs[j + 1] : batch.len;
            recs[j] = (log_record_t){-1, ids[j], 32, batch.buf + offs[j], (int32_t)(end - offs[j]), NULL, 0};
            value_bytes += end - offs[j];
            /* Rows: key tag \0 title, value url \0 tags-json, one per tag. */
            if (json_parse(&doc, (const char *)batch.buf + offs[j], end - offs[j]) != EDDY_OK) continue;
            int64_t ti = json_object_get(&doc, 0, "title", 5), ui = json_object_get(&doc, 0, "url", 3),
                    gi = json_object_get(&doc, 0, "tags", 4);
            if (ti < 0 || ui < 0 || gi < 0 || json_node(&doc, (uint32_t)gi)->type != JSON_ARRAY) continue;
            const json_node_t *tn = json_node(&doc, (uint32_t)ti), *un = json_node(&doc, (uint32_t)ui);
            uint32_t g = (uint32_t)gi + 1;
            for (uint32_t t = 0; t < json_node(&doc, (uint32_t)gi)->count; t++, g = json_next(&doc, g)) {
                const json_node_t *tag = json_node(&doc, g);
                wr_u32(&rows, tag->len + 1 + tn->len);
                wr_bytes(&rows, tag->text, tag->len);
                wr_u8(&rows, 0);
                wr_bytes(&rows, tn->text, tn->len);
                size_t mark = rows.len;
                wr_u32(&rows, 0);
                wr_bytes(&rows, un->text, un->len);
                wr_u8(&rows, 0);
                json_write_node(&rows, &doc, (uint32_t)gi);
                wr_patch_u32(&rows, mark, (uint32_t)(rows.len - mark - 4));
                nrows++;
            }
        }
        if (log_append_records_wait(part, recs, (size_t)k, LOG_CODEC_NONE, NULL, &lerr))
            return fprintf(stderr, "append: %s\n", lerr.msg), 1;
    }
    printf("  generated and appended in %.1f s: %.0f MB of values (%.0f bytes a leaf), %ld output rows (%.2f a leaf)\n",
           (double)(time_mono_ns() - t_gen) / 1e9, value_bytes / 1e6, (double)value_bytes / n, nrows, (double)nrows / n);

    fflush(stdout);
    /* 1. the engine */
    engine_t *eng;
    engine_config_t cfg = {log, st, 2, -1};
    if (engine_new(&cfg, &eng, err, sizeof err)) return fprintf(stderr, "engine: %s\n", err), 1;
    FILE *f = fopen("examples/leaves_by_tag.sql", "rb");
    if (!f) return perror("examples/leaves_by_tag.sql"), 1;
    char text[8192];
    size_t tl = fread(text, 1, sizeof text, f);
    fclose(f);
    double c0 = cpu_seconds();
    cpu_split_t s0, s1;
    cpu_split(&s0);
    int64_t t0 = time_mono_ns();
    if (engine_submit(eng, "leaves_by_tag", text, tl, NULL, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    wait_applied(eng, n - 1);
    double wall = (double)(time_mono_ns() - t0) / 1e9, cpu = cpu_seconds() - c0;
    cpu_split(&s1);
    double engine_eps = n / wall;
    fflush(stdout);
    printf("  engine:  %ld events in %.2f s = %.0f events/s (%.0f rows/s); %.2f CPU-s = %.0f events per CPU-second\n", n,
           wall, engine_eps, nrows / wall, cpu, n / cpu);
    printf("           CPU-s: pipeline thread %.2f, its commit thread %.2f, RocksDB flushes and compactions %.2f, "
           "other %.2f\n",
           s1.pipe, s1.commit, s1.rocks - s0.rocks, s1.other - s0.other);
    if (getenv("BENCH_ENGINE_ONLY")) {
        /* for profiling the engine phase alone */
        engine_free(eng);
        log_partition_release(part);
        store_close(st);
        log_close(log);
        snprintf(path, sizeof path, "rm -rf %s", dir);
        return system(path) != 0;
    }

    /* 2. raw RocksDB write batches of the same rows */
    snprintf(path, sizeof path, "%s/raw", dir);
    /* The same storage settings as eddy's store (db.c) while a pipeline catches up: 32 MiB
     * memtables (3; 128 MiB for all), flushes uncompressed and compactions with LZ4, dynamic
     * level sizes, 2 background jobs, bloom filters, so that the comparison is about the work
     * per event. Same batches (8,192 events' rows), WAL on and no fsync, as eddy's commits.
     * Compactions at nice 19 here too: the store lowered the default environment's pool, which
     * this database shares. */
    rocksdb_options_t *ro = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(ro, 1);
    rocksdb_options_set_write_buffer_size(ro, 32u << 20);
    rocksdb_options_set_max_write_buffer_number(ro, 3);
    rocksdb_options_set_db_write_buffer_size(ro, 128u << 20);
    rocksdb_options_set_max_background_jobs(ro, 2);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(ro, 1);
    rocksdb_options_set_compression(ro, rocksdb_lz4_compression);
    int levels[7] = {rocksdb_no_compression,  rocksdb_lz4_compression, rocksdb_lz4_compression, rocksdb_lz4_compression,
                     rocksdb_lz4_compression, rocksdb_lz4_compression, rocksdb_lz4_compression};
    rocksdb_options_set_compression_per_level(ro, levels, 7);
    rocksdb_block_based_table_options_t *bt = rocksdb_block_based_options_create();
    rocksdb_cache_t *cache = rocksdb_cache_create_lru(8u << 20);
    rocksdb_block_based_options_set_block_cache(bt, cache);
    rocksdb_block_based_options_set_filter_policy(bt, rocksdb_filterpolicy_create_bloom_full(10));
    rocksdb_options_set_block_based_table_factory(ro, bt);
    char *rerr = NULL;
    rocksdb_t *db = rocksdb_open(ro, path, &rerr);
    if (!db) return fprintf(stderr, "rocksdb: %s\n", rerr), 1;
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    double rc0 = cpu_seconds();
    int64_t r0 = time_mono_ns();
    rd_t r = rd_init(rows.buf, rows.len);
    long written = 0, per_batch = (long)(8192.0 * nrows / n);
    while (rd_remaining(&r)) {
        uint32_t kl = rd_u32(&r);
        const uint8_t *k = rd_bytes(&r, kl);
        uint32_t vl = rd_u32(&r);
        const uint8_t *v = rd_bytes(&r, vl);
        rocksdb_writebatch_put(wb, (const char *)k, kl, (const char *)v, vl);
        if (++written % per_batch == 0 || !rd_remaining(&r)) {
            rocksdb_write(db, wo, wb, &rerr);
            if (rerr) return fprintf(stderr, "rocksdb: %s\n", rerr), 1;
            rocksdb_writebatch_clear(wb);
        }
    }
    double rwall = (double)(time_mono_ns() - r0) / 1e9, rcpu = cpu_seconds() - rc0;
    double raw_eps = n / rwall;
    printf("  rocksdb: %ld rows (the same rows) in %.2f s = %.0f events/s (%.0f rows/s); %.2f CPU-s\n", written, rwall,
           raw_eps, written / rwall, rcpu);
    printf("  ratio engine/rocksdb: %.2f (events/s), %.2f (per CPU-second)\n", engine_eps / raw_eps,
           (n / cpu) / (n / (rcpu > 0 ? rcpu : 1e-9)));
    rocksdb_writebatch_destroy(wb);
    rocksdb_writeoptions_destroy(wo);
    rocksdb_close(db);
    rocksdb_options_destroy(ro);
    rocksdb_block_based_options_destroy(bt);
    rocksdb_cache_destroy(cache);

    /* 3. latency at a fixed rate */
    lat_t lat;
    memset(&lat, 0, sizeof lat);
    lat.eng = eng;
    pthread_mutex_init(&lat.mu, NULL);
    hist_init(&lat.hist);
    long per_ms = rate / 1000 > 0 ? rate / 1000 : 1;
    long total = rate * secs, sent = 0;
    /* The leaves are generated before the clock starts: making them is the producer's work, not
     * eddy's, and on 2 shared cores it would take CPU from the pipeline while it is measured. */
    wr_t pre;
    wr_init(&pre, (size_t)total * 1500);
    size_t *pre_offs = malloc(((size_t)total + 1) * sizeof *pre_offs);
    char(*pre_ids)[33] = malloc((size_t)total * sizeof *pre_ids);
    if (!pre_offs || !pre_ids) return fprintf(stderr, "out of memory\n"), 1;
    for (long i = 0; i < total; i++) {
        pre_offs[i] = pre.len;
        api_leafgen_next(gen, &pre, API_LEAFGEN_EVENT, pre_ids[i]);
    }
    pre_offs[total] = pre.len;
    if (!wr_ok(&pre)) return fprintf(stderr, "out of memory\n"), 1;
    cpu_split_t l0, l1;
    cpu_split(&l0);
    double lc0 = cpu_seconds();
    int64_t start = time_mono_ns();
    for (long tick = 0; sent < total; tick++) {
        int64_t due = start + tick * 1000000;
        int64_t now = time_mono_ns();
        if (due > now) {
            struct timespec ts = {0, (long)(due - now)};
            nanosleep(&ts, NULL);
        }
        int k = (int)EDDY_MIN(EDDY_MIN(per_ms, (long)PER_APPEND), total - sent);
        for (int j = 0; j < k; j++) {
            long i = sent + j;
            recs[j] = (log_record_t){-1, pre_ids[i], 32, pre.buf + pre_offs[i], (int32_t)(pre_offs[i + 1] - pre_offs[i]),
                                     NULL, 0};
        }
        lat_rec_t *lr = malloc(sizeof *lr);
        *lr = (lat_rec_t){&lat, time_mono_ns(), k};
        pthread_mutex_lock(&lat.mu);
        lat.outstanding++;
        pthread_mutex_unlock(&lat.mu);
        if (log_append_records(part, recs, (size_t)k, LOG_CODEC_NONE, on_appended, lr, &lerr)) {
            fprintf(stderr, "append: %s\n", lerr.msg);
            return 1;
        }
        sent += k;
    }
    for (;;) {
        pthread_mutex_lock(&lat.mu);
        int64_t left = lat.outstanding;
        pthread_mutex_unlock(&lat.mu);
        if (!left) break;
        usleep(1000);
    }
    double lwall = (double)(time_mono_ns() - start) / 1e9, lcpu = cpu_seconds() - lc0;
    cpu_split(&l1);
    printf("  latency at %ld events/s (%ld a ms, %.1f s, %ld events, achieved %.0f/s): p50 %.2f ms, p99 %.2f ms, "
           "p99.9 %.2f ms, max %.2f ms (append call to rows visible, including the log's fsync)\n",
           rate, per_ms, lwall, sent, sent / lwall, hist_quantile(&lat.hist, 0.5) / 1e6, hist_quantile(&lat.hist, 0.99) / 1e6,
           hist_quantile(&lat.hist, 0.999) / 1e6, (double)lat.hist.max / 1e6);
    printf("           CPU-s while measuring: %.2f (%.2f cores): pipeline thread %.2f, its commit thread %.2f, RocksDB "
           "flushes and compactions %.2f, other (producer, log) %.2f\n",
           lcpu, lcpu / lwall, l1.pipe - l0.pipe, l1.commit - l0.commit, l1.rocks - l0.rocks, l1.other - l0.other);

    wr_free(&pre);
    free(pre_offs);
    free(pre_ids);
    engine_free(eng);
    log_partition_release(part);
    store_close(st);
    log_close(log);
    api_leafgen_free(gen);
    json_doc_free(&doc);
    wr_free(&batch);
    wr_free(&rows);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    if (system(path) != 0) return 1;
    return 0;
}
