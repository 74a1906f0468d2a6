/* Clocks and the ISO-8601 forms Cassandra and JSON clients use. */
#include <stdio.h>
#include <time.h>

#include "base/base.h"

int64_t time_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_now_ms(void) { return time_now_us() / 1000; }

int64_t time_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Howard Hinnant's civil-date algorithms (public domain descriptions). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

size_t time_format_iso8601(int64_t ms, char *out, size_t outlen) {
    /* Quotient and remainder separately: days * 86400000 overflows near INT64_MIN. */
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days -= 1;
    }
    int64_t y;
    unsigned mo, d;
    time_civil_from_days(days, &y, &mo, &d);
    int n = snprintf(out, outlen, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, mo, d,
                     (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                     (int)(rem % 1000));
    return n < 0 ? 0 : (size_t)n;
}

/* Reads exactly n digits at *p; returns -1 if any is missing. */
static int read_digits(const char **p, const char *end, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9') return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

static int parse_zone(const char *p, const char *end, int64_t *offset_ms) {
    *offset_ms = 0;
    if (p == end) return EDDY_OK;
    if ((*p == 'Z' || *p == 'z') && p + 1 == end) return EDDY_OK;
    if (*p == ' ') p++;
    if (p < end && (*p == 'Z' || *p == 'z') && p + 1 == end) return EDDY_OK;
    if (end - p >= 3 && memcmp(p, "UTC", 3) == 0 && p + 3 == end) return EDDY_OK;
    if (p >= end || (*p != '+' && *p != '-')) return EDDY_ERR_INVALID;
    int sign = *p++ == '-' ? -1 : 1;
    int hh = read_digits(&p, end, 2);
    if (p < end && *p == ':') p++;
    int mm = p < end ? read_digits(&p, end, 2) : 0;
    if (hh < 0 || mm < 0 || p != end || hh > 23 || mm > 59) return EDDY_ERR_INVALID;
    *offset_ms = sign * (int64_t)(hh * 60 + mm) * 60000;
    return EDDY_OK;
}

int time_parse_iso8601(const char *s, size_t len, int64_t *ms) {
    const char *p = s, *end = s + len;
    int sign = 1;
    if (p < end && (*p == '-' || *p == '+')) sign = *p++ == '-' ? -1 : 1;
    int y = read_digits(&p, end, 4);
    if (y < 0 || p >= end || *p++ != '-') return EDDY_ERR_INVALID;
    int mo = read_digits(&p, end, 2);
    if (mo < 1 || mo > 12 || p >= end || *p++ != '-') return EDDY_ERR_INVALID;
    int d = read_digits(&p, end, 2);
    if (d < 1 || d > 31) return EDDY_ERR_INVALID;
    int hh = 0, mi = 0, ss = 0, frac = 0;
    if (p < end && (*p == 'T' || *p == 't' || *p == ' ') && p + 1 < end && p[1] >= '0' && p[1] <= '9') {
        p++;
        hh = read_digits(&p, end, 2);
        if (hh < 0 || hh > 23 || p >= end || *p++ != ':') return EDDY_ERR_INVALID;
        mi = read_digits(&p, end, 2);
        if (mi < 0 || mi > 59) return EDDY_ERR_INVALID;
        if (p < end && *p == ':') {
            p++;
            ss = read_digits(&p, end, 2);
            if (ss < 0 || ss > 60) return EDDY_ERR_INVALID;
            if (p < end && *p == '.') {
                p++;
                int digits = 0;
                while (p < end && *p >= '0' && *p <= '9') {
                    if (digits < 3) frac = frac * 10 + (*p - '0');
                    digits++;
                    p++;
                }
                if (digits == 0) return EDDY_ERR_INVALID;
                for (; digits < 3; digits++) frac *= 10;
            }
        }
    }
    int64_t offset;
    if (parse_zone(p, end, &offset) != EDDY_OK) return EDDY_ERR_INVALID;
    int64_t days = time_days_from_civil(sign * (int64_t)y, (unsigned)mo, (unsigned)d);
    *ms = days * 86400000 + (int64_t)hh * 3600000 + mi * 60000 + ss * 1000 + frac - offset;
    return EDDY_OK;
}
