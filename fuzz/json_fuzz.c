/* Fuzz target: the JSON parser, and the re-serialization of what it accepts (which must parse
 * again to the same number of nodes). */
#include <stdlib.h>

#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_doc_t doc;
    json_doc_init(&doc);
    if (json_parse(&doc, (const char *)data, size) == EDDY_OK) {
        wr_t w;
        wr_init(&w, 0);
        json_write_node(&w, &doc, 0);
        json_doc_t again;
        json_doc_init(&again);
        if (!wr_ok(&w) || json_parse(&again, (const char *)w.buf, w.len) != EDDY_OK ||
            again.count != doc.count)
            abort();
        for (uint32_t i = 0; i < doc.count; i++) {
            const json_node_t *n = &doc.nodes[i];
            if (n->type == JSON_STRING) {
                char *out = malloc(n->len + 1);
                json_string_unescape(n, out);
                free(out);
            } else if (n->type == JSON_NUMBER) {
                int64_t v;
                double d;
                json_number_i64(n, &v);
                json_number_f64(n, &d);
            }
        }
        json_doc_free(&again);
        wr_free(&w);
    }
    json_doc_free(&doc);
    return 0;
}
