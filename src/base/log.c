/* Leveled logging to stderr, one line per call so concurrent threads do not interleave. */
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "base/base.h"

static _Atomic int log_level = ELOG_LEVEL_INFO;

void elog_set_level(elog_level_t level) { atomic_store(&log_level, (int)level); }
elog_level_t elog_get_level(void) { return (elog_level_t)atomic_load_explicit(&log_level, memory_order_relaxed); }

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"};

int elog_level_parse(const char *s, elog_level_t *level) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(level_names); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *level = (elog_level_t)i;
            return EDDY_OK;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *level = ELOG_LEVEL_WARN;
        return EDDY_OK;
    }
    return EDDY_ERR_INVALID;
}

void elog_write(elog_level_t level, const char *part, const char *fmt, ...) {
    if (!ELOG_ENABLED(level)) return;
    char line[2048];
    size_t n = time_format_iso8601(time_now_ms(), line, sizeof line);
    n += (size_t)snprintf(line + n, sizeof line - n, " %s %s: ", level_tags[level], part);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) m = 0;
    n += (size_t)m;
    if (n > sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    /* One write(2) per line: atomic with respect to other threads' lines. */
    ssize_t rc = write(STDERR_FILENO, line, n);
    (void)rc;
}
