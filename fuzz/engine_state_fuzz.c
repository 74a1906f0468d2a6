/* Fuzz target: the engine's state records as read back from disk: typed values (keys' base
 * rows, group keys, sink keys) and aggregate states. Whatever decodes must encode again to a
 * record that decodes to an equal value. */
#include <stdlib.h>

#include "engine/engine_expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    arena_t a;
    arena_init(&a, 4096);
    rd_t r = rd_init(data, size);
    engine_val_t v;
    if (engine_val_decode(&r, &a, &v) == EDDY_OK) {
        wr_t w;
        wr_init(&w, 64);
        engine_val_encode(&w, &v);
        rd_t r2 = rd_init(w.buf, w.len);
        engine_val_t back;
        if (engine_val_decode(&r2, &a, &back) != EDDY_OK || !engine_val_eq(&v, &back)) abort();
        wr_reset(&w);
        engine_val_to_json(&w, &v);
        wr_free(&w);
        (void)engine_val_hash(&v);
    }
    /* The same bytes as each aggregate's state. */
    static const uint8_t kinds[] = {AGG_COUNT_STAR, AGG_SUM, AGG_MIN, AGG_AVG, AGG_COUNT_DISTINCT};
    for (size_t k = 0; k < sizeof kinds; k++) {
        engine_agg_t agg = {kinds[k], NULL, engine_type(ENGINE_ANY)};
        engine_agg_state_t st;
        rd_t r3 = rd_init(data, size);
        if (engine_agg_decode(&r3, &agg, &st, &a) == EDDY_OK) {
            engine_val_t out;
            engine_agg_result(&agg, &st, &out);
            engine_val_t one = engine_int(1);
            engine_agg_update(&agg, &st, &a, &one, -1);
        }
    }
    arena_free(&a);
    return 0;
}
