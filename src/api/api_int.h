/* Inside the api part: the leaf model, the generator, Avro, the schema registry, the REST proxy
 * and the Leaves API share these declarations. No other part includes this header. */
#ifndef EDDY_API_INT_H
#define EDDY_API_INT_H

#include <pthread.h>

#include "api/api.h"
#include "log/log.h"

/* ---- the leaf model (leaf.c) ---------------------------------------------------------------- */

/* The columns of demo.leaves, in the order Cassandra's SELECT * returns them (partition key
 * first, then the other columns alphabetically): the order of every leaf JSON eddy writes. */
typedef enum {
    LEAF_ID,
    LEAF_ALL,
    LEAF_CONTENT,
    LEAF_CONTENT_TEXT,
    LEAF_CREATED_AT,
    LEAF_DOMAIN_NAME,
    LEAF_HTTP_STATUS,
    LEAF_IS_ARCHIVED,
    LEAF_IS_PUBLIC,
    LEAF_IS_STARRED,
    LEAF_LANGUAGE,
    LEAF_LINKS,
    LEAF_MIMETYPE,
    LEAF_PREVIEW_PICTURE,
    LEAF_READING_TIME,
    LEAF_SLUGS,
    LEAF_TAGS,
    LEAF_TITLE,
    LEAF_UPDATED_AT,
    LEAF_URL,
    LEAF_USER_EMAIL,
    LEAF_USER_ID,
    LEAF_USER_NAME,
    LEAF_NCOLS
} api_leaf_col_t;

/* CQL types of the columns (text, int, boolean, timestamp, list<text>). */
typedef enum { LEAF_TEXT, LEAF_INT, LEAF_BOOL, LEAF_TIMESTAMP, LEAF_LIST } api_leaf_type_t;

typedef struct {
    const char *name;
    api_leaf_type_t type;
} api_leaf_column_t;

/* The column table, indexed by api_leaf_col_t. */
extern const api_leaf_column_t api_leaf_columns[LEAF_NCOLS];

/* A list<text>: count strings. A list with no items is null, as in Cassandra (an empty
 * non-frozen collection is no cell at all). */
typedef struct {
    char **items;
    uint32_t count;
} api_leaf_list_t;

/* One cell: set == false is null. */
typedef struct {
    bool set;
    union {
        char *s;      /* LEAF_TEXT */
        int64_t i;    /* LEAF_INT (32-bit range), LEAF_TIMESTAMP (ms since the epoch) */
        bool b;       /* LEAF_BOOL */
        api_leaf_list_t l;/* LEAF_LIST */
    } u;
} api_leaf_value_t;

/* A leaf: one row of demo.leaves. Strings live in the leaf's arena. */
typedef struct api_leaf {
    arena_t arena;
    api_leaf_value_t v[LEAF_NCOLS];
} api_leaf_t;

/* How api_leaf_from_json reads an object:
 *  LEAF_JSON_ROW     the columns of demo.leaves with the leniency of Cassandra's INSERT JSON
 *                    (ints and booleans may be strings, timestamps ISO-8601 or epoch ms), an
 *                    unknown field is an error: events on topic leaves and rows;
 *  LEAF_JSON_RECORD  a workshop record (leaves-sample.json, example-leaf.json, the Avro record):
 *                    _links -> links, numeric http_status and id -> strings, tag objects -> their
 *                    labels (slugs from them), fields with no column dropped;
 *  LEAF_JSON_PATCH   like ROW but every field optional and only the updatable ones allowed. */
typedef enum { LEAF_JSON_ROW, LEAF_JSON_RECORD, LEAF_JSON_PATCH } api_leaf_json_mode_t;

api_leaf_t *api_leaf_new(void);
void api_leaf_free(api_leaf_t *leaf);
/* A deep copy, or NULL when out of memory. */
api_leaf_t *api_leaf_clone(const api_leaf_t *leaf);

/* Setters copy their arguments into the leaf's arena; they return EDDY_OK or EDDY_ERR_NOMEM.
 * A NULL string (or a list of count 0) makes the cell null. */
int api_leaf_set_text(api_leaf_t *leaf, api_leaf_col_t col, const char *s, size_t len);
void api_leaf_set_int(api_leaf_t *leaf, api_leaf_col_t col, int64_t v);
void api_leaf_set_bool(api_leaf_t *leaf, api_leaf_col_t col, bool v);
int api_leaf_set_list(api_leaf_t *leaf, api_leaf_col_t col, const char *const *items, const size_t *lens, uint32_t count);
/* Appends one item to a list cell. */
int api_leaf_list_append(api_leaf_t *leaf, api_leaf_col_t col, const char *s, size_t len);
void api_leaf_set_null(api_leaf_t *leaf, api_leaf_col_t col);
static inline const char *api_leaf_text(const api_leaf_t *leaf, api_leaf_col_t col) {
    return leaf->v[col].set ? leaf->v[col].u.s : NULL;
}

/* Reads the object at node obj into leaf (fields it does not name stay as they were). Returns
 * EDDY_OK, or EDDY_ERR_INVALID with a message naming the field in errstr. */
int api_leaf_from_json(api_leaf_t *leaf, const json_doc_t *doc, uint32_t obj, api_leaf_json_mode_t mode,
                   char *errstr, size_t errlen);
/* Parses text as one JSON object into a new leaf (*out, free with api_leaf_free). */
int api_leaf_parse(const char *text, size_t len, api_leaf_json_mode_t mode, api_leaf_t **out, char *errstr, size_t errlen);
/* Writes the leaf as one JSON object with every column, in api_leaf_col_t order: text as strings,
 * timestamps as ISO-8601 UTC with milliseconds, lists as arrays, null for unset. */
void api_leaf_write_json(wr_t *w, const api_leaf_t *leaf);
/* The pieces of that object, for writers that hold the values elsewhere (a store row): the key
 * of col with what comes before it ('{' for the first column, ',' after), an int, a timestamp.
 * The writer ends the object with '}' after the last column. */
void api_leaf_write_key(wr_t *w, api_leaf_col_t col);
void api_leaf_write_int(wr_t *w, int64_t v);
void api_leaf_write_timestamp(wr_t *w, int64_t ms);

/* id = the lowercase md5 hex of the url (33 bytes with the NUL). */
void api_leaf_id_from_url(const char *url, size_t len, char out[33]);
/* The url's scheme and host ("https://github.com" for "https://github.com/a?b"), as the workshop
 * API's /^https?:\/\/[^#?\/]+/ computes it. Returns the length written to out (NUL-terminated),
 * or -1 when the url does not start with http:// or https:// followed by a host. */
long api_leaf_domain_from_url(const char *url, size_t len, char *out, size_t outlen);
/* Normalises a tag as the workshop API does: every whitespace character becomes '.'. In place;
 * returns s. */
char *api_leaf_tag_normalize(char *s, size_t len);

/* The workshop API's defaults for a leaf created from a url (POST /api/leaves): id, url,
 * is_archived 1, is_starred 0, user fields, is_public false, domain_name, created_at and
 * updated_at = now_ms, links ["api/entries/<id>"], tags and slugs empty, and `all` built from
 * those values in the Node.js API's key order. Returns EDDY_OK or EDDY_ERR_INVALID (url). */
int api_leaf_init_from_url(api_leaf_t *leaf, const char *url, size_t len, int64_t now_ms, char *errstr, size_t errlen);
/* Adds value to `all` unless it is already there (twice for a tag: once for tags, once for
 * slugs, as the Node.js API does). */
int api_leaf_all_add_tag(api_leaf_t *leaf, const char *tag, size_t len);
/* Removes from `all` every item equal to one of the leaf's tags. */
int api_leaf_all_remove_tags(api_leaf_t *leaf);

/* ---- Avro (avro_schema.c, avro_codec.c, avro_compat.c) ------------------------------------- */

typedef enum {
    API_AVRO_NULL,
    API_AVRO_BOOLEAN,
    API_AVRO_INT,
    API_AVRO_LONG,
    API_AVRO_FLOAT,
    API_AVRO_DOUBLE,
    API_AVRO_BYTES,
    API_AVRO_STRING, /* the primitives end here */
    API_AVRO_RECORD,
    API_AVRO_ENUM,
    API_AVRO_ARRAY,
    API_AVRO_MAP,
    API_AVRO_UNION,
    API_AVRO_FIXED,
} api_avro_type_t;

typedef struct api_avro_node api_avro_node_t;

/* An attribute kept as it came (logicalType, connect.name, ...): key and compact JSON text. */
typedef struct {
    const char *key;
    const char *json;
} api_avro_prop_t;

typedef struct {
    const char *name;
    api_avro_node_t *type;
    const char *default_json; /* compact JSON text, or NULL when the field has no default */
    const char *doc;
    const char *order;        /* NULL = ascending */
    const char **aliases;
    uint32_t naliases;
    api_avro_prop_t *props;
    uint32_t nprops;
} api_avro_field_t;

/* One schema node. Named types (record, enum, fixed) appear once and are shared by pointer
 * wherever they are referenced, so a recursive schema is a cyclic graph. */
struct api_avro_node {
    api_avro_type_t type;
    bool is_error;                  /* a record declared as "error" */
    const char *name, *space, *fullname, *doc; /* named types only (fullname NULL otherwise) */
    const char **aliases;
    uint32_t naliases;
    api_avro_field_t *fields;       /* record */
    uint32_t nfields;
    const char **symbols;           /* enum */
    uint32_t nsymbols;
    const char *enum_default;
    api_avro_node_t *items;         /* array items, map values */
    api_avro_node_t **branches;     /* union */
    uint32_t nbranches;
    int64_t size;                   /* fixed */
    api_avro_prop_t *props;
    uint32_t nprops;
};

typedef struct api_avro_schema {
    arena_t arena;
    api_avro_node_t *root;
    api_avro_node_t **named;
    uint32_t nnamed, capnamed;
    char *text;      /* the normalized JSON text (NUL-terminated) */
    size_t text_len;
} api_avro_schema_t;

/* Parses and validates an Avro schema (JSON text). Returns EDDY_OK with *out (free with
 * api_avro_schema_free), EDDY_ERR_INVALID with the reason in errstr, or EDDY_ERR_NOMEM. */
int api_avro_schema_parse(const char *text, size_t len, api_avro_schema_t **out, char *errstr, size_t errlen);
void api_avro_schema_free(api_avro_schema_t *s);
const char *api_avro_type_name(api_avro_type_t t);
/* Whether JSON node i of d is a valid default for a field of type n (Java's isValidDefault). */
bool api_avro_default_valid(const api_avro_node_t *n, const json_doc_t *d, uint32_t i, int depth);

/* Encodes the JSON value at node i of d as Avro binary of schema s, appended to w. The JSON is
 * Avro's JSON encoding (a union value is null or {"branch name": value}; bytes and fixed are
 * strings of code points 0-255); an untagged union value is accepted too when exactly one branch
 * fits. A record field that is absent takes its default. Returns EDDY_OK, or EDDY_ERR_INVALID
 * with the path and reason in errstr. */
int api_avro_encode_json(const api_avro_schema_t *s, const json_doc_t *d, uint32_t i, wr_t *w, char *errstr, size_t errlen);
/* Decodes one Avro binary value of schema s from r and appends it to w in Avro's JSON encoding.
 * Returns EDDY_OK, or EDDY_ERR_CORRUPT (truncated, bad varint, bad union index, over limits)
 * with a reason in errstr. Trailing bytes are the caller's business (r->pos says where). */
int api_avro_decode_json(const api_avro_schema_t *s, rd_t *r, wr_t *w, char *errstr, size_t errlen);

/* The Confluent wire format: magic byte 0, the schema id as 4 bytes big-endian, the payload. */
#define API_AVRO_WIRE_HEADER 5
void api_avro_wire_header(wr_t *w, uint32_t schema_id);
/* Reads the header; returns EDDY_OK with *schema_id, or EDDY_ERR_CORRUPT (short or bad magic). */
int api_avro_wire_parse(rd_t *r, uint32_t *schema_id);

/* Avro schema resolution: can data written with writer be read with reader (Java's
 * SchemaCompatibility rules: promotions, unions, record fields by name or alias with defaults,
 * enum symbols, fixed sizes, names)? Returns true, or false with the first incompatibility
 * ("READER_FIELD_MISSING_DEFAULT_VALUE at /fields/2: ...") in msg. */
bool api_avro_compatible(const api_avro_node_t *reader, const api_avro_node_t *writer, char *msg, size_t msglen);

/* ---- requests and answers (api_http.c) -------------------------------------------------------- */

#define API_CTYPE_JSON "application/json; charset=utf-8"
#define API_CTYPE_REGISTRY "application/vnd.schemaregistry.v1+json"
#define API_CTYPE_KAFKA "application/vnd.kafka.v2+json"

/* Error body styles: the Leaves API answers {"message": ...} as the workshop's Node.js API does;
 * the registry and the REST proxy answer {"error_code": N, "message": ...} as Confluent's do. */
enum { API_STYLE_LEAVES, API_STYLE_REGISTRY, API_STYLE_KAFKA };

#define API_MAX_PARAMS 4
typedef struct {
    const char *v[API_MAX_PARAMS]; /* decoded path parameters, NUL-terminated */
    size_t n;
    char buf[2048];
    size_t used;
} api_params_t;

typedef struct api api_t;
typedef void (*api_handler_fn)(api_t *api, const api_request_t *req, const api_params_t *params,
                               const api_responder_t *reply);
typedef struct {
    api_method_t method;
    const char *pattern; /* "/subjects/{}/versions/{}"; "{*}" takes the rest of the path */
    api_handler_fn fn;
} api_route_t;

/* Runs the first route matching req's method and path; answers 404 or 405 (in style) when none
 * does. HEAD runs the GET route. */
void api_dispatch(api_t *api, const api_route_t *routes, size_t nroutes, const api_request_t *req,
                  const api_responder_t *reply, int style);
const char *api_method_name(api_method_t m);

/* Percent-decodes s[0..len) into out (NUL-terminated). Returns the length, or -1 for a bad
 * escape, an encoded NUL or no room. */
long api_percent_decode(const char *s, size_t len, char *out, size_t outlen, bool plus_is_space);
/* A query parameter's decoded value (empty for "?flag"): true when present. */
bool api_query_get(const api_request_t *req, const char *name, char *out, size_t outlen);
bool api_query_bool(const api_request_t *req, const char *name);
bool api_media_is(const char *value, size_t len, const char *type);
bool api_accepts(const api_request_t *req, const char *type);

/* Sends body (500 when the writer failed). */
void api_send(const api_responder_t *r, int status, const char *ctype, const wr_t *body);
/* Sends {"error_code": error_code, "message": ...}, or {"message": ...} when error_code is 0. */
void api_send_error(const api_responder_t *r, int status, int error_code, const char *ctype, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Parses the request body as JSON into doc; on failure answers (400 malformed, 422 missing) in
 * style and returns an error. */
int api_body_json(const api_request_t *req, const api_responder_t *r, json_doc_t *doc, int style);
/* A string node decoded into a new NUL-terminated buffer (eddy_free it); NULL when i < 0, not
 * a string, a bad escape or an embedded NUL. */
char *api_json_strdup(const json_doc_t *d, int64_t i);

/* ---- worker threads and timers (api_work.c) ------------------------------------------------------ */

typedef struct api_work api_work_t;

/* Starts threads workers and one timer thread. */
int api_work_new(int threads, api_work_t **out, char *errstr, size_t errlen);
/* Runs the queued jobs, stops the threads, fires the timers still pending (so that their
 * owners release what they hold) and frees. */
void api_work_free(api_work_t *w);
/* Runs fn(arg) on a worker soon; any thread. EDDY_OK, EDDY_ERR_NOMEM or EDDY_ERR_CLOSED (then fn
 * does not run). */
int api_work_post(api_work_t *w, void (*fn)(void *arg), void *arg);
/* Runs fn(arg) on the timer thread after ms. Returns the timer's id (never reused), or 0 when
 * out of memory. */
uint64_t api_timer_start(api_work_t *w, int64_t ms, void (*fn)(void *arg), void *arg);
/* true: cancelled before firing (fn never runs); false: it fired or is firing (fn owns arg). */
bool api_timer_cancel(api_work_t *w, uint64_t id);

/* ---- the schema registry (registry.c, registry_http.c) ----------------------------------------- */

/* Compatibility levels, Confluent's names. */
enum {
    API_COMPAT_NONE,
    API_COMPAT_BACKWARD,
    API_COMPAT_BACKWARD_TRANSITIVE,
    API_COMPAT_FORWARD,
    API_COMPAT_FORWARD_TRANSITIVE,
    API_COMPAT_FULL,
    API_COMPAT_FULL_TRANSITIVE,
};
const char *api_compat_name(int level);
/* Case-insensitive; -1 when unknown. */
int api_compat_parse(const char *s, size_t len);

typedef struct api_registry api_registry_t;

/* One record of the _schemas topic; value NULL is a tombstone. */
typedef struct {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
} api_registry_record_t;

/* Where the registry keeps its records. append copies recs before returning and returns
 * EDDY_OK, then calls done(arg, status) exactly once when they are durable (possibly before
 * returning); or returns an error and never calls done. */
typedef struct {
    int (*append)(void *ctx, const api_registry_record_t *recs, size_t n, void (*done)(void *arg, int status), void *arg);
    void *ctx;
} api_registry_store_t;

/* A registration's result for in-process callers (the REST proxy): status 200 with the id, or
 * an error status with Confluent's error body. */
typedef struct {
    void (*fn)(void *arg, int status, uint32_t id, const char *body, size_t len);
    void *arg;
} api_registry_done_t;

/* An empty registry (global level BACKWARD); store may be NULL (mutations then fail with 50001).
 * Feed it the topic's existing records with api_registry_apply_record before serving. */
api_registry_t *api_registry_new(const api_registry_store_t *store);
void api_registry_free(api_registry_t *reg);
/* Waits (up to timeout_ms) until no mutation is queued or in flight. */
void api_registry_drain(api_registry_t *reg, int64_t timeout_ms);
/* Replays one record of the _schemas topic. EDDY_OK, or EDDY_ERR_CORRUPT for a malformed
 * record (the caller logs and skips it), EDDY_ERR_NOMEM. */
int api_registry_apply_record(api_registry_t *reg, const void *key, size_t klen, const void *val, size_t vlen,
                              bool null_value, char *errstr, size_t errlen);
/* Schema id's parsed schema, or NULL; valid for the registry's life. */
const api_avro_schema_t *api_registry_schema(api_registry_t *reg, uint32_t id);
/* Writes Confluent's error body {"error_code": code, "message": ...} into body (reset first). */
void api_registry_error(wr_t *body, int error_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Mutations: queued, applied once durable, answered through reply (and done, if not NULL). */
void api_registry_register(api_registry_t *reg, const char *subject, const char *schema, size_t len,
                           const api_registry_done_t *done, const api_responder_t *reply);
void api_registry_delete_subject(api_registry_t *reg, const char *subject, bool permanent, const api_responder_t *reply);
void api_registry_delete_version(api_registry_t *reg, const char *subject, const char *version, bool permanent,
                                 const api_responder_t *reply);
/* level -1 with a subject: delete the subject's level. subject NULL: the global level. */
void api_registry_set_config(api_registry_t *reg, const char *subject, int level, const api_responder_t *reply);

/* The registry's state, shared by its mutations (registry.c) and its queries (registry_query.c);
 * read and changed under mu. */
typedef struct {
    uint32_t id;
    api_avro_schema_t *schema; /* immutable: callers may keep pointers for the registry's life */
} api_reg_schema_t;

typedef struct {
    int32_t version;
    uint32_t id;
    bool deleted;
} api_reg_version_t;

typedef struct {
    char *name;
    api_reg_version_t *versions; /* ascending version order */
    uint32_t nversions, capversions;
    int level;               /* API_COMPAT_*, or -1 when the subject has no level of its own */
} api_reg_subject_t;

struct api_registry {
    pthread_mutex_t mu;
    api_reg_schema_t *schemas;
    uint32_t nschemas, capschemas;
    api_reg_subject_t *subjects;
    uint32_t nsubjects, capsubjects;
    int global_level;
    uint32_t max_id;
    api_registry_store_t store;
    struct reg_op *queue_head, *queue_tail; /* mutations waiting (registry.c) */
    bool busy;
};

/* Lookups in the state (mu held); NULL when absent. */
api_reg_subject_t *api_reg_subject_find(api_registry_t *reg, const char *name);
api_reg_schema_t *api_reg_schema_by_id(api_registry_t *reg, uint32_t id);
api_reg_version_t *api_reg_version_find(api_reg_subject_t *s, int32_t version);
/* The newest version (or newest live one), NULL when none. */
api_reg_version_t *api_reg_latest(api_reg_subject_t *s, bool include_deleted);
/* Versions not soft-deleted (0 for a NULL subject). */
uint32_t api_reg_live_count(const api_reg_subject_t *s);
/* The subject's compatibility level, or the global one. */
int api_reg_level_of(api_registry_t *reg, const api_reg_subject_t *s);
/* Checks cand against s's live versions under level. true, or false with Confluent's 409 body. */
bool api_reg_check_compat(api_registry_t *reg, api_reg_subject_t *s, const api_avro_schema_t *cand, int level,
                          wr_t *body, const char *subject);

/* ---- the api context (api.c) -------------------------------------------------------------------- */

typedef struct api_proxy api_proxy_t;
typedef struct api_leaves api_leaves_t;
typedef struct api_metrics api_metrics_t;

struct api {
    api_config_t cfg;
    _Atomic int inflight;   /* operations that will call back into the api (see api_hold) */
    log_t *log;
    api_work_t *work;
    api_registry_t *reg;
    log_partition_t *schemas_part;
    api_proxy_t *proxy;
    api_leaves_t *leaves;
    api_metrics_t *metrics;
};

static inline api_registry_t *api_registry_of(api_t *api) { return api->reg; }

/* An operation that registered a callback with the log, the engine or a timer holds the api
 * until it has finished, so that api_free waits for it (the parts below close after the api). */
void api_hold(api_t *api);
void api_unhold(api_t *api);

/* The REST proxy (proxy.c, proxy_consumer.c). */
int api_proxy_new(api_proxy_t **out);
void api_proxy_free(api_proxy_t *px);
void api_proxy_http(api_t *api, const api_request_t *req, const api_responder_t *reply);
void api_consumer_http(api_t *api, const api_request_t *req, const api_responder_t *reply);
/* Shutdown: reads waiting for data answer now with what there is. */
void api_proxy_stop(api_t *api);
void api_base64_encode(wr_t *w, const uint8_t *p, size_t n);
long api_base64_decode(const char *s, size_t n, uint8_t *out);
/* Kafka's default partitioner: murmur2 of the key, positive, modulo partitions. */
int32_t api_kafka_partition(const uint8_t *key, size_t len, int32_t partitions);

/* ---- the Leaves API (leaves_cmd.c, leaves_http.c, leaves_store.c, enrich.c) ------------------- */

#define API_LEAVES_TOPIC "leaves"
#define API_LEAF_ID_MAX 512

/* Where the Leaves API reads demo.leaves and learns that events are applied. */
typedef struct {
    /* Reads the row of id into leaf: EDDY_OK, EDDY_ERR_NOT_FOUND, or an error in err. */
    int (*get)(void *ctx, const char *id, api_leaf_t *leaf, char *err, size_t errlen);
    /* Reads the row of id and appends it to out as api_leaf_write_json would write it, without
     * building a leaf (GET /api/leaves/{id}); same results as get. NULL: GET uses get. */
    int (*get_json)(void *ctx, const char *id, wr_t *out, char *err, size_t errlen);
    /* Appends the rows of demo.leaves in the table's scan order (at most limit, 0: all) as
     * comma-separated JSON objects; *count gets the number. */
    int (*scan)(void *ctx, int64_t limit, wr_t *out, size_t *count, char *err, size_t errlen);
    /* Calls cb(arg, status) once offset of topic leaves is applied to the table (EDDY_OK),
     * after timeout_ms (EDDY_ERR_TIMEOUT), or on shutdown; may call it before returning.
     * Returns an error (cb not called) when nothing projects the topic. */
    int (*wait)(void *ctx, int64_t offset, int64_t timeout_ms, void (*cb)(void *arg, int status), void *arg);
    void (*close)(void *ctx);
    void *ctx;
} api_leaves_backend_t;

/* Binds the backend to eddy's store and engine (keyspace demo, table leaves and the projection
 * of topic leaves created when missing); all NULL when the api has no store. */
int api_leaves_backend_open(api_t *api, api_leaves_backend_t *out, char *errstr, size_t errlen);

typedef enum {
    API_CMD_CREATE,      /* POST /api/leaves */
    API_CMD_PATCH,       /* PATCH /api/leaves/{id} */
    API_CMD_ADD_TAGS,    /* POST /api/leaves/{id}/tags */
    API_CMD_DELETE_TAGS, /* DELETE /api/leaves/{id}/tags */
    API_CMD_DELETE,      /* DELETE /api/leaves/{id} */
    API_CMD_ENRICH,      /* the enrichment worker's result */
} api_cmd_kind_t;

typedef struct api_cmd {
    struct api_cmd *next;
    api_leaves_t *lv;
    api_cmd_kind_t kind;
    api_leaf_t *input;          /* CREATE: the new leaf; PATCH: the fields given; ENRICH: the page's */
    bool given[LEAF_NCOLS];     /* PATCH: the fields the body named */
    char **tags;                /* ADD_TAGS: normalized */
    uint32_t ntags;
    char *enrich_url;           /* set by apply: fetch this url once the event is applied */
    api_responder_t reply;
    bool has_reply;
    int64_t offset;             /* the appended event's offset, or -1 */
    bool applied;               /* the event is in demo.leaves */
    bool noop;                  /* apply decided there is nothing to write */
    api_leaf_t *result;         /* the new state; NULL: a delete */
    int status;                 /* the answer */
    wr_t body;
    bool body_is_state;         /* body is result as JSON (api_leaf_write_json): the event's value */
    int64_t start_ns;
    char id[API_LEAF_ID_MAX + 1];
} api_cmd_t;

int api_leaves_new(api_t *api, api_leaves_t **out, char *errstr, size_t errlen);
/* Stops the enrichment worker and refuses new commands. */
void api_leaves_stop(api_leaves_t *lv);
void api_leaves_free(api_leaves_t *lv);
api_leaves_backend_t *api_leaves_backend(api_leaves_t *lv);
api_t *api_leaves_api(api_leaves_t *lv);
/* A command for leaf id (NULL when id is empty or too long, or out of memory); reply NULL for
 * the enrichment worker's own commands. Submit takes it. */
api_cmd_t *api_cmd_new(api_leaves_t *lv, api_cmd_kind_t kind, const char *id, const api_responder_t *reply);
void api_cmd_free(api_cmd_t *c);
void api_cmd_submit(api_cmd_t *c);
/* Computes a command's new state from the current row (NULL when absent): sets c->result (or
 * c->noop) and the answer (c->status, c->body); returns an error after setting an error answer
 * when the command cannot apply. (leaves_http.c) */
int api_leaves_apply(api_cmd_t *c, const api_leaf_t *current);
/* The Leaves API's routes. */
void api_leaves_http(api_t *api, const api_request_t *req, const api_responder_t *reply);

/* Fills title, language, preview_picture, content, content_text and reading_time of leaf from
 * an HTML page fetched from url (relative image urls are resolved against it). (html.c) */
int api_html_extract(const char *page, size_t len, const char *url, api_leaf_t *leaf);

typedef struct api_enrich api_enrich_t;
int api_enrich_new(api_leaves_t *lv, api_enrich_t **out, char *errstr, size_t errlen);
/* Stops the fetch threads (a fetch in progress is abandoned) and frees. NULL is ignored. */
void api_enrich_free(api_enrich_t *e);
/* Queues a fetch of url for leaf id (dropped when the queue is full). */
void api_enrich_queue(api_enrich_t *e, const char *id, const char *url);

/* ---- metrics (api_metrics.c) ------------------------------------------------------------------- */

typedef enum {
    API_METRIC_PROXY_RECORDS,  /* records produced through the REST proxy */
    API_METRIC_PROXY_CONSUMED, /* records returned to REST proxy consumers */
    API_METRIC_LEAF_COMMANDS,  /* Leaves API commands appended */
    API_METRIC_ENRICH_OK,      /* pages fetched and parsed */
    API_METRIC_ENRICH_FAILED,  /* fetches that failed (recorded in the leaf) */
    API_METRIC_COUNT
} api_metric_t;

enum { API_GROUP_LEAVES, API_GROUP_PROXY, API_GROUP_REGISTRY, API_GROUP_COUNT };

api_metrics_t *api_metrics_new(void);
void api_metrics_free(api_metrics_t *m);
/* Adds n to a counter (any thread; api may be NULL in tests). */
void api_metrics_count(api_t *api, api_metric_t m, uint64_t n);
/* One answered request of group: its status and its latency in ns. */
void api_metrics_request(api_metrics_t *m, int group, int status, int64_t ns);

/* The registry's routes (registry_http.c). */
void api_registry_http(api_t *api, const api_request_t *req, const api_responder_t *reply);

/* Opens the registry on topic _schemas of log (created if missing: one partition, compacted,
 * retention.ms -1) and replays it. *part is the open partition (release it after freeing the
 * registry, before closing the log). */
int api_registry_open(log_t *log, api_registry_t **out, log_partition_t **part, char *errstr, size_t errlen);

/* Reads: return the HTTP status and append the body. */
int api_registry_list_subjects(api_registry_t *reg, bool deleted, wr_t *body);
int api_registry_list_versions(api_registry_t *reg, const char *subject, bool deleted, wr_t *body);
/* version: "latest", "-1" or a number; schema_only: just the schema text. */
int api_registry_get_version(api_registry_t *reg, const char *subject, const char *version, bool deleted,
                             bool schema_only, wr_t *body);
/* versions: the [{"subject","version"}] that use id instead of the schema. */
int api_registry_get_schema(api_registry_t *reg, uint32_t id, bool versions, wr_t *body);
int api_registry_lookup(api_registry_t *reg, const char *subject, const char *schema, size_t len, bool deleted,
                        wr_t *body);
int api_registry_get_config(api_registry_t *reg, const char *subject, bool default_to_global, wr_t *body);
/* version NULL: against the subject as registration would check it. */
int api_registry_test_compat(api_registry_t *reg, const char *subject, const char *version, const char *schema,
                             size_t len, bool verbose, wr_t *body);
/* The id of schema if it is a live version of subject: EDDY_OK, EDDY_ERR_NOT_FOUND, EDDY_ERR_INVALID. */
int api_registry_schema_id_for(api_registry_t *reg, const char *subject, const char *schema, size_t len, uint32_t *id);

#endif
