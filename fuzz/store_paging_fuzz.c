/* Fuzz target: what clients hand back to the store: paging states (opaque bytes a driver may
 * resend, or forge) and type [option]s read by eddy's CQL client. Both must be accepted or
 * refused cleanly, never trusted. */
#include <stdlib.h>

#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    store_paging_state_check(data, size, NULL, 0);
    /* a paging state with a valid checksum around the fuzzer's bytes reaches the decoder's checks */
    uint8_t *buf = malloc(size + 4);
    if (!buf) return 0;
    memcpy(buf, data, size);
    store_u32(buf + size, crc32c(data, size));
    store_paging_state_check(buf, size + 4, NULL, 0);
    free(buf);
    rd_t r = rd_init(data, size);
    const store_type_t *t = NULL;
    if (store_type_read_option(&r, &t, NULL, 0) == EDDY_OK) {
        wr_t w;
        wr_init(&w, 64);
        store_type_format(t, &w);
        store_type_write_option(t, &w);
        wr_free(&w);
        store_type_release(t);
    }
    return 0;
}
