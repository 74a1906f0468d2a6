/* Shared by the log's fuzz targets: a scratch data directory (made once, removed at exit) holding
 * a fresh log directory with one topic `t` of one partition, whose files the target then writes,
 * and the log opened on them. */
#ifndef EDDY_LOG_FUZZ_UTIL_H
#define EDDY_LOG_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_int.h"

static char log_fuzz_root[64];

static void log_fuzz_remove_root(void) { log_remove_tree(log_fuzz_root); }

static void log_fuzz_put_file(const char *path, const void *p, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) abort();
    if (n && write(fd, p, n) != (ssize_t)n) abort();
    close(fd);
}

/* Empties DIR = <root>/log and creates DIR/topics/t/0; dir gets DIR. */
static void log_fuzz_fresh_dir(char *dir, size_t size) {
    if (!log_fuzz_root[0]) {
        snprintf(log_fuzz_root, sizeof log_fuzz_root, "/tmp/eddy-log-fuzz-XXXXXX");
        if (!mkdtemp(log_fuzz_root)) abort();
        atexit(log_fuzz_remove_root);
    }
    char path[512];
    snprintf(dir, size, "%s/log", log_fuzz_root);
    log_remove_tree(dir);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/topics", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/topics/t", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/topics/t/0", dir);
    mkdir(path, 0755);
}

/* Opens the log in dir as recovery would (no background threads, no fsync, errors only in the
 * output). NULL when the log refuses the files. */
static log_t *log_fuzz_open(const char *dir) {
    elog_set_level(ELOG_LEVEL_ERROR);
    log_options_t o;
    log_options_init(&o);
    o.background = false;
    o.fsync_mode = LOG_FSYNC_NONE;
    log_t *log;
    return log_open(dir, &o, &log, NULL) == EDDY_OK ? log : NULL;
}

#endif
