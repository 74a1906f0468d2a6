/* Status names and the one-line error helper. */
#include <stdio.h>

#include "base/base.h"

const char *eddy_strerror(int status) {
    switch (status) {
    case EDDY_OK: return "ok";
    case EDDY_ERR_NOMEM: return "out of memory";
    case EDDY_ERR_IO: return "i/o error";
    case EDDY_ERR_CORRUPT: return "corrupt data";
    case EDDY_ERR_INVALID: return "invalid argument";
    case EDDY_ERR_NOT_FOUND: return "not found";
    case EDDY_ERR_EXISTS: return "already exists";
    case EDDY_ERR_TOO_LARGE: return "too large";
    case EDDY_ERR_TIMEOUT: return "timed out";
    case EDDY_ERR_BUSY: return "busy";
    case EDDY_ERR_CLOSED: return "closed";
    case EDDY_ERR_UNSUPPORTED: return "unsupported";
    case EDDY_ERR_NEED_MORE: return "need more data";
    case EDDY_ERR_RANGE: return "out of range";
    case EDDY_ERR_CONFLICT: return "conflict";
    default: return "unknown error";
    }
}

int eddy_err(char *errstr, size_t errlen, int status, const char *fmt, ...) {
    if (errstr && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}
