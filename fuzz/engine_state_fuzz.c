/* Fuzz target: the engine's state records as read back from disk: typed values (keys' base
 * rows, group keys, sink keys) and aggregate states. Whatever decodes must encode again to a
 * record that decodes to an equal value. */
#include <stdlib.h>

#include "engine/engine_expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    arena_t a;
    arena_init(&a, 4096);
    rd_t r = rd_init(data, size);
    eng_val_t v;
    if (eng_val_decode(&r, &a, &v) == EDDY_OK) {
        wr_t w;
        wr_init(&w, 64);
        eng_val_encode(&w, &v);
        rd_t r2 = rd_init(w.buf, w.len);
        eng_val_t back;
        if (eng_val_decode(&r2, &a, &back) != EDDY_OK || !eng_val_eq(&v, &back)) abort();
        wr_reset(&w);
        eng_val_to_json(&w, &v);
        wr_free(&w);
        (void)eng_val_hash(&v);
    }
    /* The same bytes as each aggregate's state. */
    static const uint8_t kinds[] = {AGG_COUNT_STAR, AGG_SUM, AGG_MIN, AGG_AVG, AGG_COUNT_DISTINCT};
    for (size_t k = 0; k < sizeof kinds; k++) {
        eng_agg_t agg = {kinds[k], NULL, eng_type(ENG_ANY)};
        eng_agg_state_t st;
        rd_t r3 = rd_init(data, size);
        if (eng_agg_decode(&r3, &agg, &st, &a) == EDDY_OK) {
            eng_val_t out;
            eng_agg_result(&agg, &st, &out);
            eng_val_t one = eng_int(1);
            eng_agg_update(&agg, &st, &a, &one, -1);
        }
    }
    arena_free(&a);
    return 0;
}
