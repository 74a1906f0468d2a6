/* Fuzz target: the enrichment worker's HTML extraction (pages come from the network). */
#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    api_leaf_t *leaf = api_leaf_new();
    if (!leaf) return 0;
    api_html_extract((const char *)data, size, "https://example.org/dir/page.html", leaf);
    wr_t w;
    wr_init(&w, 0);
    api_leaf_write_json(&w, leaf);
    json_doc_t d;
    json_doc_init(&d);
    if (wr_ok(&w) && json_parse(&d, (const char *)w.buf, w.len) != EDDY_OK) __builtin_trap(); /* always valid JSON */
    json_doc_free(&d);
    wr_free(&w);
    api_leaf_free(leaf);
    return 0;
}
