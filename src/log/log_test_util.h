/* Helpers the log's unit tests share (included by the log's *_test.c files only). */
#ifndef EDDY_LOG_TEST_UTIL_H
#define EDDY_LOG_TEST_UTIL_H

#include <stdio.h>

#include "log/log_int.h"
#include "test.h"

/* Opens a log in dir with the given fsync mode, no maintenance thread (tests call
 * log_maintain), and topics created on first use or not. Fails the test when it cannot. */
static inline log_t *test_log_open(const char *dir, log_fsync_mode_t mode, bool auto_create) {
    log_options_t o;
    log_options_init(&o);
    o.fsync_mode = mode;
    o.background = false;
    o.auto_create_topics = auto_create;
    log_t *log = NULL;
    log_err_t e;
    int rc = log_open(dir, &o, &log, &e);
    if (rc != EDDY_OK) printf("# log_open: %s\n", e.msg);
    REQUIRE(rc == EDDY_OK);
    return log;
}

#endif
