/* Fuzz target: the group coordinator's loader of stored group state (bytes from the data
 * directory), followed by a heartbeat, a describe and a tick on whatever it loaded. */
#include "kafka/kafka_int.h"

typedef struct {
    const uint8_t *data;
    size_t size;
} input_t;

static void load_all(void *ctx, void (*fn)(void *, const char *, const void *, size_t), void *arg) {
    input_t *in = ctx;
    fn(arg, "g", in->data, in->size);
}

static void save(void *ctx, const char *group, const void *blob, size_t len, bool empty) {
    (void)ctx, (void)group, (void)blob, (void)len, (void)empty;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    input_t in = {data, size};
    kafka_group_store_t store = {&in, save, load_all};
    kafka_groups_t *g = kafka_groups_new(NULL, &store, 0);
    if (!g) return 0;
    kafka_HeartbeatRequest_t hb;
    kafka_struct_init(&kafka_schema_HeartbeatRequest, 3, &hb);
    hb.group_id = kafka_str("g");
    hb.generation_id = 1;
    hb.member_id = kafka_str("m");
    kafka_group_heartbeat(g, &hb, 1);
    arena_t a;
    arena_init(&a, 1024);
    kafka_DescribedGroup_t d;
    kafka_group_describe(g, kafka_str("g"), &a, &d);
    kafka_ListGroupsResponse_t l;
    kafka_group_list(g, &a, &l);
    arena_free(&a);
    kafka_groups_tick(g, 1000000);
    kafka_groups_free(g);
    return 0;
}
