/* Fuzz target: Avro schema JSON (what the schema registry and the REST proxy accept from the
 * network, and what it replays from the _schemas topic). An accepted schema must normalize to a
 * text that parses to itself, be compatible with itself, and survive encoding a few values. */
#include <stdlib.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    api_avro_schema_t *s = NULL;
    char err[256];
    if (api_avro_schema_parse((const char *)data, size, &s, err, sizeof err) != EDDY_OK) return 0;
    api_avro_schema_t *again = NULL;
    if (api_avro_schema_parse(s->text, s->text_len, &again, err, sizeof err) != EDDY_OK) abort();
    if (strcmp(again->text, s->text) != 0) abort();
    if (!api_avro_compatible(s->root, again->root, err, sizeof err)) abort();
    static const char *const values[] = {"null", "0", "\"\"", "[]", "{}", "{\"string\":\"x\"}", "[1,2]", "true"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        json_doc_t d;
        json_doc_init(&d);
        if (json_parse(&d, values[i], strlen(values[i])) == EDDY_OK) {
            wr_t w;
            wr_init(&w, 0);
            w.max = 1 << 20;
            if (api_avro_encode_json(s, &d, 0, &w, err, sizeof err) == EDDY_OK) {
                /* What encodes must decode. */
                wr_t out;
                wr_init(&out, 0);
                out.max = 1 << 22;
                rd_t r = rd_init(w.buf, w.len);
                if (api_avro_decode_json(s, &r, &out, err, sizeof err) != EDDY_OK || r.pos != w.len) abort();
                wr_free(&out);
            }
            wr_free(&w);
        }
        json_doc_free(&d);
    }
    api_avro_schema_free(again);
    api_avro_schema_free(s);
    return 0;
}
