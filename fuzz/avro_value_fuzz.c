/* Fuzz target: Avro binary values in the Confluent wire format (what the REST proxy's consumer
 * decodes from topics). The first byte picks a schema; the rest is magic, schema id and payload.
 * A value that decodes must re-encode from its JSON, and those bytes must decode to the same JSON
 * (the input's own bytes may differ: over-long varints, negative block counts). */
#include <stdlib.h>

#include "api/api_int.h"

static const char *const schemas[] = {
    "{\"type\":\"record\",\"name\":\"Leaves\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"},"
    "{\"name\":\"tags\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"string\"}]},"
    "{\"name\":\"created_at\",\"type\":\"long\"},{\"name\":\"http_status\",\"type\":[\"int\",\"null\"]},"
    "{\"name\":\"is_public\",\"type\":\"boolean\"},{\"name\":\"score\",\"type\":\"double\"}]}",
    "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}",
    "{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":[\"null\",\"bytes\",\"float\"]}}",
    "[\"null\",{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]},{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}]",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    api_avro_schema_t *s = NULL;
    const char *text = schemas[data[0] % (sizeof schemas / sizeof schemas[0])];
    if (api_avro_schema_parse(text, strlen(text), &s, NULL, 0) != EDDY_OK) abort();
    rd_t r = rd_init(data + 1, size - 1);
    uint32_t id;
    if (api_avro_wire_parse(&r, &id) == EDDY_OK) {
        wr_t out;
        wr_init(&out, 0);
        out.max = 1 << 24;
        char err[256];
        if (api_avro_decode_json(s, &r, &out, err, sizeof err) == EDDY_OK) {
            json_doc_t d;
            json_doc_init(&d);
            wr_t back;
            wr_init(&back, 0);
            if (json_parse(&d, (const char *)out.buf, out.len) != EDDY_OK) abort();
            if (api_avro_encode_json(s, &d, 0, &back, err, sizeof err) != EDDY_OK) abort();
            rd_t r2 = rd_init(back.buf, back.len);
            wr_t out2;
            wr_init(&out2, 0);
            if (api_avro_decode_json(s, &r2, &out2, err, sizeof err) != EDDY_OK || r2.pos != back.len ||
                out2.len != out.len || memcmp(out2.buf, out.buf, out.len))
                abort();
            wr_free(&out2);
            wr_free(&back);
            json_doc_free(&d);
        }
        wr_free(&out);
    }
    api_avro_schema_free(s);
    return 0;
}
