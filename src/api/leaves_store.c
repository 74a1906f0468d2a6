/* The Leaves API's read side on eddy's table store, and read-your-writes through the engine's
 * projection of topic leaves into demo.leaves. Until the store and the engine are wired into
 * `eddy up`, the backend is empty and the Leaves API answers 503. */
#include "api/api_int.h"

int api_leaves_backend_open(api_t *api, api_leaves_backend_t *out, char *errstr, size_t errlen) {
    memset(out, 0, sizeof *out);
    return EDDY_OK;
}
