/* The api part's own threads: a small pool that runs work handed over from callbacks (log and
 * engine completions must stay short and must not call back into the log), and one timer
 * thread for deadlines (long-polled REST proxy reads, idle consumer instances). Nothing here
 * runs on an event loop. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "api/api_int.h"

typedef struct api_job {
    struct api_job *next;
    void (*fn)(void *arg);
    void *arg;
} api_job_t;

typedef struct api_timer {
    struct api_timer *next;
    uint64_t id;
    int64_t due_ms;        /* monotonic */
    void (*fn)(void *arg);
    void *arg;
} api_timer_t;

struct api_work {
    pthread_mutex_t mu;
    pthread_cond_t cv, timer_cv;
    api_job_t *head, *tail;
    api_timer_t *timers;   /* sorted by due_ms */
    bool stopping;
    int nthreads;
    pthread_t threads[8];
    pthread_t timer_thread;
    bool timer_started;
    uint64_t jobs_run;
    uint64_t next_timer_id;
};

static void *work_main(void *arg) {
    api_work_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping) pthread_cond_wait(&w->cv, &w->mu);
        api_job_t *job = w->head;
        if (!job) break; /* stopping with nothing left */
        w->head = job->next;
        if (!w->head) w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        job->fn(job->arg);
        eddy_free(job);
        pthread_mutex_lock(&w->mu);
        w->jobs_run++;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void *timer_main(void *arg) {
    api_work_t *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        int64_t now = time_mono_ms();
        api_timer_t *t = w->timers;
        if (t && t->due_ms <= now) {
            w->timers = t->next;
            pthread_mutex_unlock(&w->mu);
            t->fn(t->arg);
            eddy_free(t);
            pthread_mutex_lock(&w->mu);
            continue;
        }
        if (!t) {
            pthread_cond_wait(&w->timer_cv, &w->mu);
        } else {
            /* The condvar uses the realtime clock; convert the monotonic deadline. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait = t->due_ms - now;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&w->timer_cv, &w->mu, &ts);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int api_work_new(int threads, api_work_t **out, char *errstr, size_t errlen) {
    api_work_t *w = eddy_calloc(1, sizeof *w);
    if (!w) return EDDY_ERR_NOMEM;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->timer_cv, NULL);
    if (threads < 1) threads = 1;
    if (threads > (int)EDDY_ARRAY_LEN(w->threads)) threads = (int)EDDY_ARRAY_LEN(w->threads);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&w->threads[i], NULL, work_main, w) != 0) {
            api_work_free(w);
            return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot start the api's worker threads");
        }
        w->nthreads++;
    }
    if (pthread_create(&w->timer_thread, NULL, timer_main, w) != 0) {
        api_work_free(w);
        return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot start the api's timer thread");
    }
    w->timer_started = true;
    *out = w;
    return EDDY_OK;
}

void api_work_free(api_work_t *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_cond_broadcast(&w->timer_cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++) pthread_join(w->threads[i], NULL);
    if (w->timer_started) pthread_join(w->timer_thread, NULL);
    /* Timers not yet due fire now, so that their owners release what they hold. */
    while (w->timers) {
        api_timer_t *t = w->timers;
        w->timers = t->next;
        t->fn(t->arg);
        eddy_free(t);
    }
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->timer_cv);
    pthread_mutex_destroy(&w->mu);
    eddy_free(w);
}

int api_work_post(api_work_t *w, void (*fn)(void *arg), void *arg) {
    api_job_t *job = eddy_malloc(sizeof *job);
    if (!job) return EDDY_ERR_NOMEM;
    *job = (api_job_t){NULL, fn, arg};
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        eddy_free(job);
        return EDDY_ERR_CLOSED;
    }
    if (w->tail) w->tail->next = job;
    else w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return EDDY_OK;
}

uint64_t api_timer_start(api_work_t *w, int64_t ms, void (*fn)(void *arg), void *arg) {
    api_timer_t *t = eddy_calloc(1, sizeof *t);
    if (!t) return 0;
    t->due_ms = time_mono_ms() + ms;
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_lock(&w->mu);
    uint64_t id = t->id = ++w->next_timer_id;
    api_timer_t **pp = &w->timers;
    while (*pp && (*pp)->due_ms <= t->due_ms) pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    pthread_cond_signal(&w->timer_cv);
    pthread_mutex_unlock(&w->mu);
    return id;
}

bool api_timer_cancel(api_work_t *w, uint64_t id) {
    pthread_mutex_lock(&w->mu);
    for (api_timer_t **pp = &w->timers; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            api_timer_t *t = *pp;
            *pp = t->next;
            pthread_mutex_unlock(&w->mu);
            eddy_free(t);
            return true;
        }
    pthread_mutex_unlock(&w->mu);
    return false; /* fired (or firing): its callback owns the cleanup */
}
