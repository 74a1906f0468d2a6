/* Fuzz target: REST proxy request bodies (produce in json, binary and avro, consumer creation,
 * subscription, commits and seeks) through api_handle, on a real log in a temporary directory
 * created once per process. Every request must be answered exactly once with a JSON body. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"

static api_t *api;
static log_t *flog;
static char dir[] = "/tmp/eddy-fuzz-proxy-XXXXXX";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) { return remove(path); }

static void teardown(void) {
    api_free(api);
    log_close(flog);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

typedef struct {
    volatile int status;
} answer_t;

static void answered(void *ctx, int status, const char *ctype, const char *body, size_t len) {
    answer_t *a = ctx;
    if (a->status) abort(); /* answered twice */
    json_doc_t d;
    json_doc_init(&d);
    if (len && status != 204 && json_parse(&d, body, len) != EDDY_OK) abort();
    json_doc_free(&d);
    __atomic_store_n(&a->status, status, __ATOMIC_RELEASE);
}

static void setup(void) {
    if (!mkdtemp(dir)) abort();
    log_options_t o;
    log_options_init(&o);
    o.background = false;
    o.fsync_mode = LOG_FSYNC_NONE;
    log_err_t err;
    if (log_open(dir, &o, &flog, &err) != EDDY_OK) abort();
    api_config_t cfg = {.log = flog, .command_timeout_ms = 1000, .consumer_timeout_ms = 60000, .workers = 1};
    char msg[256];
    if (api_new(&cfg, &api, msg, sizeof msg) != EDDY_OK) abort();
    answer_t a = {0};
    api_request_t req = {.method = API_POST, .path = "/consumers/g", .path_len = 12, .body = "{\"name\":\"c\"}", .body_len = 12};
    api_responder_t r = {answered, &a};
    api_handle(api, &req, &r);
    atexit(teardown);
}

static void call(api_method_t m, const char *path, const char *ctype, const uint8_t *body, size_t len) {
    answer_t a = {0};
    api_request_t req = {.method = m, .path = path, .path_len = strlen(path), .content_type = ctype,
                         .content_type_len = ctype ? strlen(ctype) : 0, .body = (const char *)body, .body_len = len};
    api_responder_t r = {answered, &a};
    api_handle(api, &req, &r);
    for (int i = 0; i < 20000 && !__atomic_load_n(&a.status, __ATOMIC_ACQUIRE); i++) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    if (!a.status) abort(); /* never answered */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!api) setup();
    if (size > 1 << 16) return 0;
    call(API_POST, "/topics/fuzz", "application/vnd.kafka.json.v2+json", data, size);
    call(API_POST, "/topics/fuzz", "application/vnd.kafka.binary.v2+json", data, size);
    call(API_POST, "/topics/fuzz", "application/vnd.kafka.avro.v2+json", data, size);
    call(API_POST, "/consumers/g", "application/vnd.kafka.v2+json", data, size);
    call(API_POST, "/consumers/g/instances/c/subscription", "application/vnd.kafka.v2+json", data, size);
    call(API_POST, "/consumers/g/instances/c/offsets", "application/vnd.kafka.v2+json", data, size);
    call(API_POST, "/consumers/g/instances/c/positions", "application/vnd.kafka.v2+json", data, size);
    call(API_POST, "/subjects/fuzz-value/versions", "application/vnd.schemaregistry.v1+json", data, size);
    return 0;
}
