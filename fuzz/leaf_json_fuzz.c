/* Fuzz target: leaf JSON from the network (Leaves API bodies, events on topic leaves, imported
 * records). Whatever parses must write back as JSON that parses to the same leaf. */
#include <stdlib.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int mode = LEAF_JSON_ROW; mode <= LEAF_JSON_PATCH; mode++) {
        api_leaf_t *leaf = NULL;
        char err[256];
        if (api_leaf_parse((const char *)data, size, (api_leaf_json_mode_t)mode, &leaf, err, sizeof err) != EDDY_OK) continue;
        wr_t a, b;
        wr_init(&a, 0);
        wr_init(&b, 0);
        api_leaf_write_json(&a, leaf);
        api_leaf_t *again = NULL;
        if (api_leaf_parse((const char *)a.buf, a.len, LEAF_JSON_ROW, &again, err, sizeof err) != EDDY_OK) abort();
        api_leaf_write_json(&b, again);
        if (a.len != b.len || memcmp(a.buf, b.buf, a.len)) abort();
        api_leaf_free(again);
        api_leaf_free(leaf);
        wr_free(&a);
        wr_free(&b);
    }
    return 0;
}
