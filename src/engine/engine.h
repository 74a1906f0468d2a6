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
 * event is applied).
 *
 * Threads: every function here is thread-safe. Each streaming pipeline runs on its own thread;
 * batch jobs run their token ranges on a small pool. Callbacks (engine_wait_fn) run on a
 * pipeline's thread: they must be short and hand results to a loop. */
#ifndef EDDY_ENGINE_H
#define EDDY_ENGINE_H

#include "base/base.h"

typedef struct engine engine_t;

#endif
