/* api: eddy's HTTP side above the log, the store and the pipelines: the Leaves REST API (commands
 * become events on topic `leaves`, queries read demo.leaves), the Confluent-compatible Kafka REST
 * proxy v2 and schema registry, and the leaf generator behind `eddy gen leaves`.
 *
 * This header is the part's whole public surface. */
#ifndef EDDY_API_H
#define EDDY_API_H

#include "base/base.h"

/* ---- the leaf generator ---------------------------------------------------------------------- */

/* Realistic leaves for demos, tests and benchmarks (DECISIONS.md, "Data the project carries"):
 * id = md5 hex of a unique url (30-120 chars), title 20-120 chars, about 3 tags of 3-20 chars
 * drawn from a Zipf-like vocabulary (so that the top tags mean something), content null, about
 * 1 KB in all (small), or 10-100 KB (full). The same seed gives the same leaves. */
typedef enum { API_LEAFGEN_NONE, API_LEAFGEN_SMALL, API_LEAFGEN_FULL } api_leafgen_content_t;

/* Output shapes: the leaf event (exactly the columns of demo.leaves, as on topic `leaves`), or
 * the workshop's record (the Avro schema's fields: _links, numeric http_status). */
typedef enum { API_LEAFGEN_EVENT, API_LEAFGEN_RECORD } api_leafgen_format_t;

typedef struct api_leafgen api_leafgen_t;

/* Returns a generator (free with api_leafgen_free) or NULL when out of memory. */
api_leafgen_t *api_leafgen_new(uint64_t seed, api_leafgen_content_t content);
void api_leafgen_free(api_leafgen_t *gen);
/* Appends the next leaf to w as one JSON object (no newline). If id is not NULL, the leaf's id
 * (32 hex digits and a NUL) is copied there. */
void api_leafgen_next(api_leafgen_t *gen, wr_t *w, api_leafgen_format_t format, char id[33]);

/* `eddy gen leaves [--count N] [--seed S] [--content none|small|full] [--format event|record]`:
 * JSON lines on stdout. Returns the process exit code. */
int api_main_gen(int argc, char **argv);

#endif
