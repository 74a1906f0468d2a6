/* Inside the engine's unit tests: waiting for read-your-writes callbacks. */
#ifndef EDDY_ENGINE_TEST_UTIL_H
#define EDDY_ENGINE_TEST_UTIL_H

#include <pthread.h>
#include <stdio.h>

#include "engine/engine_int.h"

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int status;
    bool done;
} waitres_t;

#define WAITRES_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false}

/* An engine_wait_fn recording its status in a waitres_t. */
static inline void on_wait(void *arg, int status) {
    waitres_t *r = arg;
    pthread_mutex_lock(&r->mu);
    r->status = status;
    r->done = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Blocks until r's callback ran; returns its status. */
static inline int waitres_get(waitres_t *r) {
    pthread_mutex_lock(&r->mu);
    while (!r->done) pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    return r->status;
}

/* engine_wait_applied on partition 0, blocking: its status, or its own error. */
static inline int wait_applied_sync(engine_t *eng, const char *pipe, const char *topic, int64_t offset,
                                    int64_t timeout_ms) {
    waitres_t r = WAITRES_INIT;
    int rc = engine_wait_applied(eng, pipe, topic, 0, offset, timeout_ms, on_wait, &r);
    return rc ? rc : waitres_get(&r);
}

/* Rows of demo.TABLE on the in-memory backend as sorted "col=value|..." lines (static buffers,
 * four in rotation). */
static inline char *dump(engine_mem_t *m, const char *table) {
    static char buf[4][4096];
    static int k;
    char *b = buf[k++ % 4];
    wr_t w;
    wr_init(&w, 256);
    engine_mem_dump_table(m, "demo", table, &w);
    snprintf(b, 4096, "%.*s", (int)w.len, w.buf ? (const char *)w.buf : "");
    wr_free(&w);
    return b;
}

#endif
