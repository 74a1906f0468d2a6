/* engine: eddy's pipelines, written in SQL — streaming (topic -> table, continuous, with
 * retractions) and batch (table -> table, in parallel over token ranges), with an exactly-once
 * effect.
 *
 * A pipeline file declares streams over topics (CREATE STREAM ... WITH (topic = 'leaves',
 * format = 'json', changelog = true)), target tables (CREATE KEYSPACE/TABLE, created if missing)
 * and queries (INSERT INTO ks.table SELECT ...). A query over a stream runs continuously: each
 * record is applied as soon as it is durable in the log, batched opportunistically under load.
 * A query over a table is a batch job. The sink rows, the operator state and the source
 * positions of a batch are committed in one RocksDB write batch, so after a crash a pipeline
 * resumes where it was and its tables equal a replay from scratch.
 *
 * Read-your-writes: each running pipeline exposes, per source partition, the offset it has
 * applied, and a wait until a given offset is applied (the Leaves API answers a command once its
 * event is applied). Applied means VISIBLE: the batch's rows, state and positions are in the
 * store (one RocksDB write batch, written without an fsync). No fsync is needed on that path:
 * a pipeline reads only records that are durable in the log, and a crash that takes back the
 * store's last batches (power loss; kill -9 keeps them, the WAL being in the page cache) takes
 * back their positions with them, so the pipeline applies them again from the log at restart.
 * What a caller may rely on: once a wait completes, reads of the pipeline's tables show the
 * record's effect, and the record itself is durable (the Leaves API waits for both, which its
 * tests check). After a restart a table can be behind the log until its pipeline catches up: a
 * reader that needs every earlier record applied waits for the log's high watermark (one
 * engine_wait_applied of hwm - 1), not only for its own record.
 *
 * Threads: every function here is thread-safe. Each pipeline runs on its own thread; batch jobs
 * run their token ranges on a few worker threads; one timer thread fires wait timeouts.
 * engine_wait_fn callbacks run on a pipeline's thread, its commit thread (as soon as the batch
 * that applies the offset is written) or the timer thread: they must be short
 * (hand the result to a loop). */
#ifndef EDDY_ENGINE_H
#define EDDY_ENGINE_H

#include "base/base.h"

typedef struct engine engine_t;
struct log;
struct store;

typedef struct {
    struct log *log;      /* the embedded log (source of streams) */
    struct store *store;  /* the embedded store (sink, state, batch source) */
    int batch_threads;    /* workers per batch job (0: 2) */
    int progress_interval_ms; /* progress lines in the log (0: 10000; < 0: never) */
} engine_config_t;

/* Creates the engine over the embedded log and store (both must outlive it). Starts the timer
 * thread; no pipeline runs yet. Returns EDDY_OK with *out, or an error with errstr. */
int engine_new(const engine_config_t *cfg, engine_t **out, char *errstr, size_t errlen);
/* Stops every pipeline (each finishes its current batch; nothing half-applied), fails pending
 * waits with EDDY_ERR_CLOSED and frees the engine. */
void engine_free(engine_t *eng);

/* What engine_submit did. */
typedef struct {
    char name[128];       /* the pipeline's name */
    int nstreaming;       /* streaming queries started */
    int nbatch;           /* batch queries started (running in the background) */
} engine_submit_result_t;

/* Checks a pipeline file (syntax, streams, tables, columns, types) and, only when all of it is
 * valid, creates its keyspaces and tables and starts it under name (NULL: "pipeline-N").
 * A pipeline of that name that is running is replaced when its text is the same file (nothing
 * restarts); a different file under a running name is EDDY_ERR_EXISTS. Returns EDDY_OK, or
 * EDDY_ERR_INVALID with "line L:C message" in errstr and nothing started. */
int engine_submit(engine_t *eng, const char *name, const char *text, size_t len, engine_submit_result_t *res,
                  char *errstr, size_t errlen);

/* Stops a running pipeline (its state and positions stay: start resumes it); starts a stopped
 * one again; drops a stopped one from the list. EDDY_ERR_NOT_FOUND for an unknown name. */
int engine_pipeline_stop(engine_t *eng, const char *name, char *errstr, size_t errlen);
int engine_pipeline_start(engine_t *eng, const char *name, char *errstr, size_t errlen);
int engine_pipeline_drop(engine_t *eng, const char *name, char *errstr, size_t errlen);

/* JSON: every pipeline (name, state, queries, totals) as an array; one pipeline in detail, with
 * each query's last progress in the shape of Spark's StreamingQueryProgress (id, runId, name,
 * timestamp, batchId, batchDuration, numInputRows, inputRowsPerSecond, processedRowsPerSecond,
 * durationMs, stateOperators, sources with lag per partition, sink) or a batch job's progress
 * (rows/s, share of the ring done). Appended to w. describe returns EDDY_ERR_NOT_FOUND. */
void engine_pipelines_json(engine_t *eng, wr_t *w);
int engine_pipeline_json(engine_t *eng, const char *name, wr_t *w);

/* Appends the pipelines' metrics in Prometheus text format (eddy_pipeline_* families). */
void engine_metrics_write(engine_t *eng, wr_t *w);

/* ---- read-your-writes ------------------------------------------------------------------------ */

/* The next offset to apply of topic/partition in pipeline (NULL: the smallest over every running
 * pipeline reading the topic): every record below it is applied and visible in the tables.
 * EDDY_ERR_NOT_FOUND when no running pipeline reads the topic. */
int engine_applied_offset(engine_t *eng, const char *pipeline, const char *topic, int32_t partition, int64_t *next);

/* Called once: EDDY_OK when the offset is applied, EDDY_ERR_TIMEOUT, or EDDY_ERR_CLOSED (the
 * engine or the pipeline stopped). */
typedef void (*engine_wait_fn)(void *arg, int status);

/* Calls fn when offset of topic/partition is applied by pipeline (NULL: by every running
 * pipeline reading the topic), or after timeout_ms. When it is applied already, fn runs before
 * this returns. Returns EDDY_OK (fn will be called exactly once) or EDDY_ERR_NOT_FOUND (no such
 * pipeline, or none reads the topic; fn is not called). */
int engine_wait_applied(engine_t *eng, const char *pipeline, const char *topic, int32_t partition, int64_t offset,
                        int64_t timeout_ms, engine_wait_fn fn, void *arg);

/* ---- HTTP ------------------------------------------------------------------------------------ */

/* The pipeline endpoints, independent of the HTTP server that carries them:
 *   GET    /pipelines                 the list (engine_pipelines_json)
 *   POST   /pipelines[?name=NAME]     body: a pipeline file; 201 {"name", "streaming", "batch"},
 *                                     400 {"error": "line L:C ..."}, 409 when NAME runs another file
 *   GET    /pipelines/NAME            details and progress (engine_pipeline_json)
 *   POST   /pipelines/NAME/stop       200; POST /pipelines/NAME/start 200
 *   DELETE /pipelines/NAME            stops and forgets it (its state stays in the store)
 * path excludes the query string, query is what follows '?' (may be NULL). Appends a JSON body
 * to out and returns the HTTP status; 404 for paths it does not serve. */
int engine_http_handle(engine_t *eng, const char *method, const char *path, const char *query, const char *body,
                       size_t body_len, wr_t *out);

/* ---- commands -------------------------------------------------------------------------------- */

/* `eddy submit FILE [--server URL] [--name NAME]`: sends a pipeline file to a running eddy
 * over HTTP; streaming pipelines start and keep running; batch jobs show a progress bar until
 * they finish. Returns the process exit code. */
int engine_main_submit(int argc, char **argv);

#endif
