/* Inside the engine: the running engine and its pipelines (engine.c, pipeline.c, progress.c). */
#ifndef EDDY_ENGINE_RT_H
#define EDDY_ENGINE_RT_H

#include "engine/engine_int.h"

/* Cumulative figures of one query, and the window the last progress report covers. */
typedef struct {
    uint64_t batches;
    uint64_t input_rows, output_rows, rows_deleted, retractions, bad_records, rows_skipped;
    uint64_t state_updated, state_removed;
    int64_t state_total;       /* rows of state held (keys, groups) */
    uint64_t busy_ns;          /* time spent applying batches */
    uint64_t read_ns, commit_ns;
    int64_t last_batch_ms;     /* wall time of the last batch */
    uint64_t last_batch_ns;    /* its duration */
    uint64_t last_batch_rows;
} qstats_t;

typedef struct pquery {
    engine_query_t *q;
    bool streaming;
    engine_stream_run_t run;      /* streaming: positions and the transaction */
    bool opened;
    int64_t *applied;          /* published copy of run.next (under the pipeline's lock) */
    int64_t *hwm;              /* published copy of run.hwm */
    int64_t *start_pos;        /* positions when this run started */
    int32_t nparts;
    engine_batch_job_t job;       /* batch */
    bool job_ready;
    int64_t job_started_ms, job_finished_ms;
    qstats_t st;               /* cumulative */
    qstats_t prev;             /* at the last progress report */
    int64_t prev_ms;
    char progress[8192];       /* the last progress report, as JSON */
} pquery_t;

enum { PIPE_STARTING, PIPE_RUNNING, PIPE_STOPPED, PIPE_FAILED, PIPE_FINISHED };

typedef struct pipeline {
    struct pipeline *next;
    engine_t *eng;
    char *name;
    char *text;
    size_t text_len;
    engine_plan_t *plan;
    uint32_t nq;
    pquery_t *qs;
    char run_id[40];
    pthread_t thread;
    bool thread_live;
    atomic_bool stop;
    pthread_mutex_t mu;        /* state, published positions, stats, waking */
    pthread_cond_t cv;
    bool kicked;
    int state;
    char error[512];
    int64_t started_ms;
    engine_source_t src;
    bool src_open;
    /* The commit thread: it writes the batch the pipeline thread prepared while that thread
     * applies the next one (one commit in flight; pipeline.c). */
    pthread_t cthread;
    bool cthread_live;
    pthread_mutex_t cmu;
    pthread_cond_t ccv;
    engine_prepared_t *cjob;      /* the batch in flight, or NULL */
    struct pquery *cjob_q;     /* its query */
    uint32_t cjob_n;           /* records in it */
    int64_t cjob_t0;           /* when its preparation started (ns) */
    bool cjob_done, cstop;
    bool bulk;                 /* the store's bulk writes are on for this pipeline */
    int cstatus;
    char cerr[512];
} pipeline_t;

typedef struct waiter {
    struct waiter *next;
    const char *pipeline;      /* NULL: every pipeline reading the topic; else in names */
    const char *topic;         /* in names */
    int32_t partition;
    int64_t offset;
    int64_t deadline_ms;       /* monotonic */
    engine_wait_fn fn;
    void *arg;
    char names[];              /* the topic's and the pipeline's names, one allocation with it */
} waiter_t;

struct engine {
    engine_backend_t be;
    pthread_mutex_t ctl;       /* one control operation at a time (submit, stop, start, drop) */
    pthread_mutex_t mu;        /* pipelines list, waiters */
    pthread_cond_t timer_cv;
    /* The deadline the timer thread sleeps until (INT64_MAX: none); INT64_MIN while it scans
     * the waiters (it sees new ones then): a new waiter wakes it only with an earlier deadline. */
    int64_t timer_next;
    pipeline_t *pipes;
    waiter_t *waiters;
    pthread_t timer;
    bool timer_live;
    bool closing;
    int next_id;
};

/* pipeline.c */
int pipe_start(pipeline_t *p, char *errstr, size_t errlen);
void pipe_stop(pipeline_t *p);
void pipe_free(pipeline_t *p);
/* Whether pipeline p (running) has applied offset of topic/partition; *reads says whether it
 * reads the topic at all. Caller holds no lock. */
bool pipe_applied(pipeline_t *p, const char *topic, int32_t partition, int64_t offset, bool *reads);

/* engine.c: re-checks waiters after a pipeline published new positions or stopped. */
void engine_waiters_check(engine_t *eng);

/* progress.c */
void pipe_progress_update(pipeline_t *p, pquery_t *pq, int64_t now_ms, bool log_it);
void pipe_json(pipeline_t *p, wr_t *w, bool detail);

#endif
