/* Fuzz target: the Kafka request decoder (header and every served API's body at every version),
 * then what it accepted is encoded again and must decode to the same bytes. The corpus holds
 * real requests captured from kcat, kafka-python, confluent-kafka and KafkaJS
 * (scripts/kafka_capture.py). */
#include <stdlib.h>

#include "kafka/kafka_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    arena_t a;
    arena_init(&a, 4096);
    kafka_request_t req;
    kafka_parse_t rc = kafka_request_parse(data, size, &a, &req);
    if (rc == KAFKA_PARSE_OK) {
        kafka_out_t o1, o2;
        kafka_out_init(&o1, 256);
        kafka_out_init(&o2, 256);
        kafka_encode(req.api->request, req.api_version, req.flexible, req.body, &o1);
        if (wr_ok(&o1.w)) {
            void *back = arena_alloc(&a, req.api->request->size);
            rd_t r = rd_init(o1.w.buf, o1.w.len);
            if (!back || kafka_decode(req.api->request, req.api_version, req.flexible, &r, &a, back) != EDDY_OK)
                abort();
            kafka_encode(req.api->request, req.api_version, req.flexible, back, &o2);
            if (o1.w.len != o2.w.len || memcmp(o1.w.buf, o2.w.buf, o1.w.len) != 0) abort();
        }
        kafka_out_free(&o1);
        kafka_out_free(&o2);
    }
    arena_free(&a);
    return 0;
}
