/* kafka: declarations shared inside the part (no other part includes this file).
 *
 * The one wire codec, shared by the broker, the unit tests and the fuzz target.
 *
 * A schema (generated from kafka_msg.h) lists a struct's fields with their version ranges; the
 * codec walks it to decode bytes into the struct or encode the struct into bytes, for any version,
 * in the classic encoding or the flexible one (compact strings and arrays, tagged fields).
 * Decoding never copies strings or records: they are views into the input, which must outlive
 * the decoded struct. Arrays are allocated in the caller's arena. */
#ifndef EDDY_KAFKA_INT_H
#define EDDY_KAFKA_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/base.h"
#include "kafka/kafka.h"
#include "kafka/kafka_msg.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "net/net.h"

typedef enum {
    KT_BOOL, KT_INT8, KT_INT16, KT_INT32, KT_INT64, KT_UUID, KT_STRING, KT_BYTES, KT_RECORDS,
    KT_ARRAY_INT32, KT_ARRAY_INT64, KT_ARRAY_STRING, KT_ARRAY, KT_STRUCT,
} kafka_type_t;

typedef struct kafka_schema kafka_schema_t;

typedef struct {
    const char *name;
    uint8_t type;            /* kafka_type_t */
    int8_t lo, hi;           /* present in versions lo..hi */
    bool nullable;           /* nullable from version null_lo */
    int8_t null_lo;
    bool tagged;             /* a tagged field (flexible versions only), tag number tag */
    int16_t tag;
    uint16_t offset;         /* of the member in the C struct */
    int64_t dflt;            /* integers and booleans: value when absent */
    const kafka_schema_t *sub; /* ARRAY and STRUCT */
} kafka_field_t;

struct kafka_schema {
    const char *name;
    uint16_t size;           /* sizeof the C struct */
    uint16_t nfields;
    const kafka_field_t *fields;
};

#define KAFKA_SCHEMA_EXTERN(M) extern const kafka_schema_t kafka_schema_##M;
KAFKA_ALL_MESSAGES(KAFKA_SCHEMA_EXTERN)
#undef KAFKA_SCHEMA_EXTERN

/* Encoder output: bytes, plus splice points where a records field with .ext set goes (the
 * caller sends buf[prev..at], then the ext piece of len bytes, and so on). */
typedef struct {
    size_t at;          /* offset in the buffer where the piece goes */
    const void *ext;
    int32_t len;
} kafka_splice_t;

typedef struct {
    wr_t w;
    kafka_splice_t *splices;
    size_t nsplices, capsplices;
    int64_t ext_bytes;  /* total length of the splices */
} kafka_out_t;

void kafka_out_init(kafka_out_t *o, size_t initial_cap);
void kafka_out_reset(kafka_out_t *o);
void kafka_out_free(kafka_out_t *o);
/* Total bytes the encoded message occupies on the wire (buffer plus splices). */
static inline int64_t kafka_out_size(const kafka_out_t *o) { return (int64_t)o->w.len + o->ext_bytes; }

/* Fills msg (schema->size bytes) with each field's default: integers from DEFAULT() (else 0),
 * strings empty (or null when nullable in version), arrays empty. */
void kafka_struct_init(const kafka_schema_t *s, int version, void *msg);

/* Decodes one struct of version from r into msg (schema->size bytes, initialised here); arrays
 * go into arena a, capped so that a request cannot make the arena grow much beyond its own size.
 * Returns EDDY_OK, or the reader's error (EDDY_ERR_NEED_MORE for truncated input,
 * EDDY_ERR_CORRUPT for bad lengths or counts, EDDY_ERR_NOMEM). */
int kafka_decode(const kafka_schema_t *s, int version, bool flexible, rd_t *r, arena_t *a, void *msg);

/* Encodes msg as version into o (appending). Fields the version lacks are skipped; tagged fields
 * are written when they differ from their default. The error, if any, is in o->w.err. */
void kafka_encode(const kafka_schema_t *s, int version, bool flexible, const void *msg, kafka_out_t *o);

/* Helpers for handlers. */
static inline kafka_str_t kafka_str(const char *s) {
    kafka_str_t v = {s, s ? (int32_t)strlen(s) : -1};
    return v;
}
static inline kafka_str_t kafka_str_n(const char *s, size_t n) {
    kafka_str_t v = {s, (int32_t)n};
    return v;
}
static inline bool kafka_str_eq(kafka_str_t a, kafka_str_t b) {
    return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}
static inline bool kafka_str_is(kafka_str_t a, const char *s) {
    return a.len >= 0 && (size_t)a.len == strlen(s) && memcmp(a.ptr, s, (size_t)a.len) == 0;
}
/* Copies a wire string into the arena as a NUL-terminated C string (NULL for null or no memory). */
char *kafka_str_dup(arena_t *a, kafka_str_t s);
/* Allocates an array of n zeroed elements of size each in the arena (NULL only when n > 0 and
 * memory runs out). */
void *kafka_array_alloc(arena_t *a, size_t n, size_t size);
#define KAFKA_ARRAY_ALLOC(arena, arr, n) \
    ((arr).count = (int32_t)(n), (arr).items = kafka_array_alloc((arena), (size_t)(n), sizeof *(arr).items))


/* ---- the API table (kafka_api.c) ------------------------------------------------------------ */

#define KAFKA_API_KEY_MAX 64

typedef struct kafka_req kafka_req_t;

/* A request handler: answers through kafka_req_reply (now or later, from any thread) or
 * kafka_req_drop; either frees req. */
typedef void (*kafka_handler_fn)(kafka_req_t *req);

typedef struct {
    const char *name;      /* NULL: the key is not served */
    int16_t key;
    int16_t min, max;      /* versions served and advertised */
    int16_t flex_from;     /* first flexible version (request header v2, response header v1) */
    const kafka_schema_t *request, *response;
    kafka_handler_fn handler;
} kafka_api_t;

/* The entry for key, or NULL when eddy does not serve it. */
const kafka_api_t *kafka_api_find(int16_t key);
/* Every served API in key order: *count entries. */
const kafka_api_t *const *kafka_api_list(size_t *count);
static inline bool kafka_api_flexible(const kafka_api_t *api, int version) {
    return version >= api->flex_from;
}

#define KAFKA_API_PRODUCE 0
#define KAFKA_API_FETCH 1
#define KAFKA_API_LIST_OFFSETS 2
#define KAFKA_API_METADATA 3
#define KAFKA_API_API_VERSIONS 18

/* A parsed request: header fields and the decoded body (in the arena). */
typedef struct {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    kafka_str_t client_id;
    const kafka_api_t *api;  /* NULL for an unknown key */
    bool flexible;
    void *body;              /* api->request's struct, NULL when not decoded */
} kafka_request_t;

/* Outcomes of kafka_request_parse. */
typedef enum {
    KAFKA_PARSE_OK = 0,
    KAFKA_PARSE_UNKNOWN_API,       /* unknown key: Kafka closes the connection */
    KAFKA_PARSE_UNSUPPORTED,       /* a version eddy does not serve (ApiVersions: answer 35) */
    KAFKA_PARSE_MALFORMED,         /* truncated or bad lengths: Kafka closes the connection */
    KAFKA_PARSE_NOMEM,
} kafka_parse_t;

/* Parses one request (the bytes after the 4-byte size prefix): header, then the body for the
 * request's version into arena a. Strings are views into buf. The header fields are filled
 * whenever the first 8 bytes are there, so a refusal can still name the correlation id. */
kafka_parse_t kafka_request_parse(const uint8_t *buf, size_t len, arena_t *a, kafka_request_t *req);

/* Appends the whole response frame to req to o: the 4-byte size, the response header (v1 with
 * tagged fields for flexible versions, but v0 always for ApiVersions) and body encoded as req's
 * version (as v0 when req is an ApiVersions request of an unsupported version). */
void kafka_response_encode(kafka_out_t *o, const kafka_request_t *req, const void *body);

/* ApiVersions' answer for version (>= 0): every served API, or with error UNSUPPORTED_VERSION
 * (35) just ApiVersions' own range in a v0 body (KIP-511), when unsupported is set. Items in a. */
void kafka_api_versions_fill(arena_t *a, bool unsupported, kafka_ApiVersionsResponse_t *resp);

/* A request's name for logs ("Fetch v11"), into buf. */
const char *kafka_request_name(const kafka_request_t *req, char *buf, size_t len);

/* ---- Kafka error codes (apache/kafka Errors.java), the subset eddy returns ------------------ */

typedef enum {
    KERR_UNKNOWN_SERVER_ERROR = -1,
    KERR_NONE = 0,
    KERR_OFFSET_OUT_OF_RANGE = 1,
    KERR_CORRUPT_MESSAGE = 2,
    KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KERR_LEADER_NOT_AVAILABLE = 5,
    KERR_NOT_LEADER_OR_FOLLOWER = 6,
    KERR_REQUEST_TIMED_OUT = 7,
    KERR_MESSAGE_TOO_LARGE = 10,
    KERR_OFFSET_METADATA_TOO_LARGE = 12,
    KERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    KERR_COORDINATOR_NOT_AVAILABLE = 15,
    KERR_NOT_COORDINATOR = 16,
    KERR_INVALID_TOPIC_EXCEPTION = 17,
    KERR_RECORD_LIST_TOO_LARGE = 18,
    KERR_INVALID_REQUIRED_ACKS = 21,
    KERR_ILLEGAL_GENERATION = 22,
    KERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    KERR_INVALID_GROUP_ID = 24,
    KERR_UNKNOWN_MEMBER_ID = 25,
    KERR_INVALID_SESSION_TIMEOUT = 26,
    KERR_REBALANCE_IN_PROGRESS = 27,
    KERR_INVALID_TIMESTAMP = 32,
    KERR_UNSUPPORTED_VERSION = 35,
    KERR_TOPIC_ALREADY_EXISTS = 36,
    KERR_INVALID_PARTITIONS = 37,
    KERR_INVALID_REPLICATION_FACTOR = 38,
    KERR_INVALID_REPLICA_ASSIGNMENT = 39,
    KERR_INVALID_CONFIG = 40,
    KERR_INVALID_REQUEST = 42,
    KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KERR_POLICY_VIOLATION = 44,
    KERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KERR_DUPLICATE_SEQUENCE_NUMBER = 46,
    KERR_INVALID_PRODUCER_EPOCH = 47,
    KERR_INVALID_TXN_STATE = 48,
    KERR_KAFKA_STORAGE_ERROR = 56,
    KERR_UNKNOWN_PRODUCER_ID = 59,
    KERR_NON_EMPTY_GROUP = 68,
    KERR_GROUP_ID_NOT_FOUND = 69,
    KERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KERR_MEMBER_ID_REQUIRED = 79,
    KERR_FENCED_INSTANCE_ID = 82,
    KERR_INVALID_RECORD = 87,
} kafka_error_t;

/* ---- the group coordinator (kafka_group.c, kafka_group_rebalance.c) ------------------------ */

/* Kafka's classic group protocol for one broker that coordinates every group: states Empty,
 * PreparingRebalance, CompletingRebalance, Stable, Dead; generations; member ids; session and
 * rebalance timeouts; protocol selection; SyncGroup relaying the leader's assignments. Thread-
 * safe (one mutex). Answers that wait (JoinGroup until the rebalance completes, SyncGroup until
 * the leader's assignment) arrive through callbacks, called without the lock held, on the thread
 * of whichever call or tick completed them; the response they get is valid during the call. */
typedef struct kafka_groups kafka_groups_t;

/* Where group state persists (the log's group storage in the broker, memory in tests).
 * save: the group's state blob (NULL, 0 when deleted) and whether it has no members.
 * load_all: calls fn(arg, group, blob, len) for every stored group (blob NULL when the group
 * has committed offsets but no state). */
typedef struct {
    void *ctx;
    void (*save)(void *ctx, const char *group, const void *blob, size_t len, bool empty);
    void (*load_all)(void *ctx, void (*fn)(void *arg, const char *group, const void *blob, size_t len),
                     void *arg);
} kafka_group_store_t;

typedef struct {
    int32_t min_session_timeout_ms;    /* group.min.session.timeout.ms */
    int32_t max_session_timeout_ms;    /* group.max.session.timeout.ms */
    int32_t initial_rebalance_delay_ms;/* group.initial.rebalance.delay.ms */
} kafka_group_opts_t;

void kafka_group_opts_init(kafka_group_opts_t *o);

/* Creates the coordinator and loads stored groups (members of loaded Stable groups get a fresh
 * session timeout from now_ms). store may be NULL (nothing persists). NULL on no memory. */
kafka_groups_t *kafka_groups_new(const kafka_group_opts_t *opts, const kafka_group_store_t *store,
                                 int64_t now_ms);
void kafka_groups_free(kafka_groups_t *g);
/* Answers every JoinGroup and SyncGroup still waiting with COORDINATOR_NOT_AVAILABLE (shutdown). */
void kafka_groups_abort(kafka_groups_t *g);

/* Expires sessions, completes rebalances whose time is up, and returns the time (ms) of the next
 * deadline (INT64_MAX when none). */
int64_t kafka_groups_tick(kafka_groups_t *g, int64_t now_ms);

typedef void (*kafka_join_cb)(void *arg, kafka_JoinGroupResponse_t *resp);
typedef void (*kafka_sync_cb)(void *arg, kafka_SyncGroupResponse_t *resp);

/* Who is asking: the request header's client id and the peer's host. */
typedef struct {
    kafka_str_t client_id;
    const char *client_host;
    int version;
} kafka_group_caller_t;

/* JoinGroup: cb runs exactly once (maybe before this returns). */
void kafka_group_join(kafka_groups_t *g, const kafka_JoinGroupRequest_t *req,
                      const kafka_group_caller_t *who, int64_t now_ms, kafka_join_cb cb, void *arg);
/* SyncGroup: cb runs exactly once (maybe before this returns). */
void kafka_group_sync(kafka_groups_t *g, const kafka_SyncGroupRequest_t *req, int64_t now_ms,
                      kafka_sync_cb cb, void *arg);
/* Heartbeat: the error code. */
int16_t kafka_group_heartbeat(kafka_groups_t *g, const kafka_HeartbeatRequest_t *req, int64_t now_ms);
/* LeaveGroup: fills resp (members in arena a) for the request's version. */
void kafka_group_leave(kafka_groups_t *g, const kafka_LeaveGroupRequest_t *req, int version,
                       int64_t now_ms, arena_t *a, kafka_LeaveGroupResponse_t *resp);
/* May this member (with its group.instance.id, or a null or empty string) commit offsets for the
 * group now? KERR_NONE (creating an Empty group for a commit without membership, generation < 0),
 * or the error Kafka gives (FENCED_INSTANCE_ID for an instance id another member id holds). */
int16_t kafka_group_commit_check(kafka_groups_t *g, kafka_str_t group_id, int32_t generation,
                                 kafka_str_t member_id, kafka_str_t instance_id, int64_t now_ms);
/* DescribeGroups for one group into out (strings and members in arena a). */
void kafka_group_describe(kafka_groups_t *g, kafka_str_t group_id, arena_t *a,
                          kafka_DescribedGroup_t *out);
/* ListGroups: every group (in arena a). */
void kafka_group_list(kafka_groups_t *g, arena_t *a, kafka_ListGroupsResponse_t *out);
/* DeleteGroups for one group: KERR_NONE (removed here; the caller deletes its offsets),
 * KERR_GROUP_ID_NOT_FOUND or KERR_NON_EMPTY_GROUP. */
int16_t kafka_group_delete(kafka_groups_t *g, kafka_str_t group_id);
/* Notes a group known to storage (committed offsets) so that List/Describe see it. */
void kafka_group_touch(kafka_groups_t *g, kafka_str_t group_id);


/* ---- the budget of request bytes in flight (kafka_budget.c) -------------------------------- */

/* One party that may wait for bytes (a connection). Fields belong to the budget. */
typedef struct kafka_budget_waiter kafka_budget_waiter_t;
struct kafka_budget_waiter {
    kafka_budget_waiter_t *next;
    int64_t want;            /* bytes asked for while queued */
    int64_t granted;         /* bytes charged for it once its turn came, until claimed */
    bool queued;
    /* Its turn came (want bytes are charged for it): called once, under the budget's lock, on
     * whichever thread gave bytes back; it must only hand the news on (net_conn_resume). */
    void (*grant)(kafka_budget_waiter_t *w);
};

/* Kafka's queued.max.request.bytes for every connection of a broker: cap <= 0 is unlimited.
 * Thread-safe; the fast paths (nobody queued) take no lock. */
typedef struct {
    pthread_mutex_t mu;
    int64_t cap;
    atomic_llong used;       /* bytes charged and not given back */
    atomic_llong peak;       /* the most ever charged at once */
    atomic_int nqueued;
    atomic_ullong waits;     /* times a waiter had to queue */
    kafka_budget_waiter_t *head, *tail;
} kafka_budget_t;

void kafka_budget_init(kafka_budget_t *bg, int64_t cap);
void kafka_budget_destroy(kafka_budget_t *bg);
/* Takes n bytes for w: true when charged now. False when w is queued (behind earlier waiters):
 * w->grant runs once n bytes are charged for it, then the owner takes them with
 * kafka_budget_claim. A request is admitted while the bytes in use are under the cap, even one
 * larger than the cap (Kafka's non-strict pool): the bytes in use stay under cap + n. */
bool kafka_budget_take(kafka_budget_t *bg, kafka_budget_waiter_t *w, int64_t n);
/* The bytes granted to w since it queued (0 while it still waits); they are the caller's now. */
int64_t kafka_budget_claim(kafka_budget_t *bg, kafka_budget_waiter_t *w);
/* Gives n charged bytes back, granting queued waiters their turn; any thread. */
void kafka_budget_give(kafka_budget_t *bg, int64_t n);
/* w goes away (its connection closed): leaves the queue, and bytes granted to it and not claimed
 * are given back. */
void kafka_budget_forget(kafka_budget_t *bg, kafka_budget_waiter_t *w);
int64_t kafka_budget_used(kafka_budget_t *bg);

/* ---- the broker (kafka_broker.c) ------------------------------------------------------------ */

#define KAFKA_NODE_ID 1

struct kafka_broker {
    log_t *log;
    kafka_broker_opts_t opts;
    net_server_t *srv;
    kafka_groups_t *groups;
    char cluster_id[32];
    char host4[256], host6[256]; /* advertised per address family ("" when none) */
    int port4, port6;
    pthread_t ticker;
    bool ticker_started;
    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
    bool stopping;
    atomic_llong inflight_fetches;
    kafka_budget_t budget;      /* queued.max.request.bytes */
    /* Metrics (NULL without a registry; updates accept NULL). */
    metrics_counter_t *m_requests[KAFKA_API_KEY_MAX];
    metrics_histogram_t *m_latency[KAFKA_API_KEY_MAX];
    metrics_counter_t *m_produce_bytes, *m_fetch_bytes, *m_refused;
};

/* One connection's state (loop thread only). */
typedef struct kafka_conn {
    kafka_broker_t *b;
    net_conn_t *conn;
    bool complained;            /* a bad request was logged for this connection */
    bool ipv6;
    char host[64];              /* the peer's address without the port */
    struct kafka_fetch *waits;  /* long-polling Fetches, ended in on_close */
    kafka_budget_waiter_t waiter; /* queued for request bytes (the connection is paused) */
    bool budget_wait;           /* waiter is (or was) queued and its grant not yet claimed */
    int64_t reserved;           /* bytes taken for the request at the head of the input */
} kafka_conn_t;

/* One request in flight. conn and slot stay valid until the request is answered or dropped;
 * kc only on the connection's loop thread while the connection is open. */
struct kafka_req {
    kafka_broker_t *b;
    kafka_conn_t *kc;
    net_conn_t *conn;
    net_slot_t *slot;
    kafka_request_t req;
    arena_t arena;
    uint8_t *frame;             /* the request's bytes (body views point here) */
    size_t frame_len;
    char client_host[64];
    int64_t now_ms;
    int64_t start_ns;           /* monotonic, for the latency histogram */
    int64_t charged;            /* bytes of the budget this request holds until answered */
};

/* Encodes body as the response to r, queues it on r's slot (any thread) and frees r. */
void kafka_req_reply(kafka_req_t *r, const void *body);
/* Frees r with no answer (acks=0), optionally closing the connection (Kafka closes it when an
 * acks=0 produce fails, so that the client notices). Any thread. */
void kafka_req_drop(kafka_req_t *r, bool close_conn);
/* The advertised host and port for a connection's address family. */
void kafka_broker_advertised(const kafka_broker_t *b, bool ipv6, const char **host, int *port);
/* Kafka's ErrorCode for a log failure. */
int16_t kafka_error_from_log(int status, const log_err_t *err);
/* A C string copy of a wire string in r's arena ("" for null). */
const char *kafka_req_cstr(kafka_req_t *r, kafka_str_t s);

/* ---- handlers, one per served API (named as the spec names the API) ------------------------ */

#define KAFKA_HANDLER_DECLARE(Name) void kafka_handle_##Name(kafka_req_t *r);
KAFKA_HANDLER_DECLARE(Produce)
KAFKA_HANDLER_DECLARE(Fetch)
KAFKA_HANDLER_DECLARE(ListOffsets)
KAFKA_HANDLER_DECLARE(Metadata)
KAFKA_HANDLER_DECLARE(OffsetCommit)
KAFKA_HANDLER_DECLARE(OffsetFetch)
KAFKA_HANDLER_DECLARE(FindCoordinator)
KAFKA_HANDLER_DECLARE(JoinGroup)
KAFKA_HANDLER_DECLARE(Heartbeat)
KAFKA_HANDLER_DECLARE(LeaveGroup)
KAFKA_HANDLER_DECLARE(SyncGroup)
KAFKA_HANDLER_DECLARE(DescribeGroups)
KAFKA_HANDLER_DECLARE(ListGroups)
KAFKA_HANDLER_DECLARE(ApiVersions)
KAFKA_HANDLER_DECLARE(CreateTopics)
KAFKA_HANDLER_DECLARE(DeleteTopics)
KAFKA_HANDLER_DECLARE(InitProducerId)
KAFKA_HANDLER_DECLARE(DescribeConfigs)
KAFKA_HANDLER_DECLARE(AlterConfigs)
KAFKA_HANDLER_DECLARE(CreatePartitions)
KAFKA_HANDLER_DECLARE(DeleteGroups)
KAFKA_HANDLER_DECLARE(DescribeCluster)
#undef KAFKA_HANDLER_DECLARE

/* Fetch's long-polls on a closing connection (kafka_fetch.c). */
void kafka_fetch_conn_closed(kafka_conn_t *kc);
/* The group store on the log (kafka_groups_api.c). */
void kafka_group_store_log(log_t *log, kafka_group_store_t *store);

#endif
