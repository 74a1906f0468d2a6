/* Scalar values as text: parsing the string forms Cassandra accepts (fromString: numbers,
 * timestamps, dates, times, durations, uuids, inet addresses, hex) and formatting them the way
 * Java and Cassandra print them (Double.toString, BigDecimal.toString, ISO dates...). The CQL
 * constant rules (Constants.Literal: which literal kinds a type accepts, and the messages) are
 * here too. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store_int.h"

/* ---- Java-style floating point ---- */

/* Shortest decimal digits that read back as v: digits into buf (no dot), returns decimal
 * exponent such that v = 0.d1d2... * 10^exp. */
static int shortest_digits(double v, bool is_float, char *digits, int *ndigits) {
    char buf[64];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) break;
    }
    if (prec > 17) snprintf(buf, sizeof buf, "%.16e", v);
    /* buf: d.ddde[+-]xx */
    int n = 0;
    const char *p = buf;
    if (*p == '-') p++;
    for (; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p)) digits[n++] = *p;
    int e = atoi(p + 1);
    while (n > 1 && digits[n - 1] == '0') n--;
    digits[n] = 0;
    *ndigits = n;
    return e + 1;
}

static void fmt_java_fp(double v, bool is_float, wr_t *w) {
    if (isnan(v)) {
        wr_str(w, "NaN");
        return;
    }
    if (isinf(v)) {
        wr_str(w, v < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (v == 0) {
        wr_str(w, signbit(v) ? "-0.0" : "0.0");
        return;
    }
    char d[32];
    int nd;
    int exp = shortest_digits(v, is_float, d, &nd);
    if (v < 0) wr_u8(w, '-');
    double a = fabs(v);
    if (a >= 1e-3 && a < 1e7) {
        if (exp <= 0) {
            wr_str(w, "0.");
            for (int i = 0; i < -exp; i++) wr_u8(w, '0');
            wr_bytes(w, d, (size_t)nd);
        } else {
            for (int i = 0; i < exp; i++) wr_u8(w, i < nd ? (uint8_t)d[i] : '0');
            wr_u8(w, '.');
            if (exp < nd) wr_bytes(w, d + exp, (size_t)(nd - exp));
            else wr_u8(w, '0');
        }
    } else {
        wr_u8(w, (uint8_t)d[0]);
        wr_u8(w, '.');
        if (nd > 1) wr_bytes(w, d + 1, (size_t)(nd - 1));
        else wr_u8(w, '0');
        wr_fmt(w, "E%d", exp - 1);
    }
}

void store_fmt_double(double v, wr_t *w) { fmt_java_fp(v, false, w); }
void store_fmt_float(float v, wr_t *w) { fmt_java_fp(v, true, w); }

/* ---- varint and decimal ---- */

void store_fmt_varint(const uint8_t *p, size_t n, wr_t *w) {
    bool neg;
    wr_t d;
    wr_init(&d, 32);
    store_num_varint_to_digits(p, n, &neg, &d);
    if (neg && !(d.len == 1 && d.buf[0] == '0')) wr_u8(w, '-');
    wr_bytes(w, d.buf, d.len);
    wr_free(&d);
}

/* BigDecimal.toString. */
void store_fmt_decimal(const uint8_t *p, size_t n, wr_t *w) {
    if (n < 4) return;
    int64_t scale = ld_i32(p);
    bool neg;
    wr_t d;
    wr_init(&d, 32);
    store_num_varint_to_digits(p + 4, n - 4, &neg, &d);
    const char *ds = (const char *)d.buf;
    int64_t nd = (int64_t)d.len;
    if (neg) wr_u8(w, '-');
    int64_t adjusted = -scale + (nd - 1);
    if (scale >= 0 && adjusted >= -6) {
        if (scale == 0) {
            wr_bytes(w, ds, (size_t)nd);
        } else if (nd > scale) {
            wr_bytes(w, ds, (size_t)(nd - scale));
            wr_u8(w, '.');
            wr_bytes(w, ds + nd - scale, (size_t)scale);
        } else {
            wr_str(w, "0.");
            for (int64_t i = 0; i < scale - nd; i++) wr_u8(w, '0');
            wr_bytes(w, ds, (size_t)nd);
        }
    } else {
        wr_u8(w, (uint8_t)ds[0]);
        if (nd > 1) {
            wr_u8(w, '.');
            wr_bytes(w, ds + 1, (size_t)(nd - 1));
        }
        wr_fmt(w, "E%s%lld", adjusted >= 0 ? "+" : "", (long long)adjusted);
    }
    wr_free(&d);
}

int store_parse_varint(const char *s, size_t n, wr_t *w) {
    bool neg;
    const char *d;
    size_t nd;
    if (!store_num_parse_integer(s, n, &neg, &d, &nd)) return EDDY_ERR_INVALID;
    return store_num_digits_to_varint(d, nd, neg, w);
}

/* BigDecimal(String): [sign] digits [. digits] [e [sign] digits]. */
int store_parse_decimal(const char *s, size_t n, wr_t *w) {
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    wr_t digits;
    wr_init(&digits, 32);
    int64_t scale = 0;
    bool any = false, dot = false;
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            wr_u8(&digits, (uint8_t)s[i]);
            any = true;
            if (dot) scale++;
        } else if (s[i] == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    int rc = EDDY_ERR_INVALID;
    if (!any) goto out;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i == n) goto out;
        int64_t e = 0;
        for (; i < n; i++) {
            if (s[i] < '0' || s[i] > '9' || e > 1000000000) goto out;
            e = e * 10 + (s[i] - '0');
        }
        scale -= eneg ? -e : e;
    }
    if (i != n || scale < INT32_MIN || scale > INT32_MAX) goto out;
    const char *ds = (const char *)digits.buf;
    size_t nd = digits.len;
    while (nd > 1 && ds[0] == '0') ds++, nd--;
    wr_i32(w, (int32_t)scale);
    rc = store_num_digits_to_varint(ds, nd, neg, w);
out:
    wr_free(&digits);
    return rc;
}

/* ---- dates and times ---- */

static bool all_digits(const char *s, size_t n, bool allow_minus) {
    size_t i = 0;
    if (allow_minus && n > 0 && s[0] == '-') i = 1;
    if (i == n) return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static bool parse_i64(const char *s, size_t n, int64_t *out) {
    char buf[32];
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || end == buf) return false;
    *out = v;
    return true;
}

int store_parse_timestamp(const char *s, size_t n, int64_t now_ms, int64_t *ms) {
    if (all_digits(s, n, true)) return parse_i64(s, n, ms) ? EDDY_OK : EDDY_ERR_INVALID;
    if (n == 3 && !strncasecmp(s, "now", 3)) {
        *ms = now_ms;
        return EDDY_OK;
    }
    return time_parse_iso8601(s, n, ms);
}

#define DATE_EPOCH_OFFSET 2147483648LL /* days are stored as unsigned with the epoch at 2^31 */

int store_parse_date(const char *s, size_t n, uint32_t *days) {
    if (all_digits(s, n, true)) {
        int64_t v;
        if (!parse_i64(s, n, &v) || v < 0 || v > 4294967295LL) return EDDY_ERR_RANGE;
        *days = (uint32_t)v;
        return EDDY_OK;
    }
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) neg = s[i++] == '-';
    int64_t y = 0;
    size_t ystart = i;
    while (i < n && isdigit((unsigned char)s[i]) && i - ystart < 10) y = y * 10 + (s[i++] - '0');
    if (i - ystart < 1 || i + 6 != n || s[i] != '-' || s[i + 3] != '-') return EDDY_ERR_INVALID;
    if (!isdigit((unsigned char)s[i + 1]) || !isdigit((unsigned char)s[i + 2]) || !isdigit((unsigned char)s[i + 4]) ||
        !isdigit((unsigned char)s[i + 5]))
        return EDDY_ERR_INVALID;
    unsigned mo = (unsigned)((s[i + 1] - '0') * 10 + (s[i + 2] - '0'));
    unsigned d = (unsigned)((s[i + 4] - '0') * 10 + (s[i + 5] - '0'));
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return EDDY_ERR_INVALID;
    if (neg) y = -y;
    int64_t dd = time_days_from_civil(y, mo, d);
    /* the date must exist (no Feb 30) */
    int64_t yy;
    unsigned mm, d2;
    time_civil_from_days(dd, &yy, &mm, &d2);
    if (mm != mo || d2 != d) return EDDY_ERR_INVALID;
    int64_t v = dd + DATE_EPOCH_OFFSET;
    if (v < 0 || v > 4294967295LL) return EDDY_ERR_RANGE;
    *days = (uint32_t)v;
    return EDDY_OK;
}

int store_parse_time(const char *s, size_t n, int64_t *nanos) {
    if (all_digits(s, n, true)) {
        int64_t v;
        if (!parse_i64(s, n, &v) || v < 0 || v > 86399999999999LL) return EDDY_ERR_RANGE;
        *nanos = v;
        return EDDY_OK;
    }
    /* hh:mm:ss[.fffffffff] */
    size_t i = 0;
    int64_t part[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        size_t st = i;
        while (i < n && isdigit((unsigned char)s[i]) && i - st < 2) part[k] = part[k] * 10 + (s[i++] - '0');
        if (i == st) return EDDY_ERR_INVALID;
        if (k < 2) {
            if (i >= n || s[i] != ':') return EDDY_ERR_INVALID;
            i++;
        }
    }
    int64_t frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        int digits = 0;
        while (i < n && isdigit((unsigned char)s[i]) && digits < 9) {
            frac = frac * 10 + (s[i++] - '0');
            digits++;
        }
        if (digits == 0) return EDDY_ERR_INVALID;
        for (; digits < 9; digits++) frac *= 10;
    }
    if (i != n || part[0] > 23 || part[1] > 59 || part[2] > 59) return EDDY_ERR_INVALID;
    *nanos = ((part[0] * 60 + part[1]) * 60 + part[2]) * 1000000000LL + frac;
    return EDDY_OK;
}

/* ---- vints (durations) ---- */

int store_vint_read(rd_t *r, int64_t *v) {
    uint8_t first = rd_u8(r);
    if (!rd_ok(r)) return EDDY_ERR_CORRUPT;
    int extra = 0;
    while (extra < 8 && (first & (0x80 >> extra))) extra++;
    uint64_t u = extra == 8 ? 0 : (uint64_t)(first & (0xFF >> (extra + 1)));
    for (int i = 0; i < extra; i++) u = u << 8 | rd_u8(r);
    if (!rd_ok(r)) return EDDY_ERR_CORRUPT;
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1); /* zigzag */
    return EDDY_OK;
}

void store_vint_write(wr_t *w, int64_t v) {
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    int size = 1;
    while (size < 9 && (u >> (7 * size)) != 0) size++;
    int extra = size - 1;
    uint8_t b[9];
    for (int i = size - 1; i >= 0; i--) {
        b[i] = (uint8_t)u;
        u >>= 8;
    }
    if (extra < 8) b[0] |= (uint8_t)(0xFF << (8 - extra));
    else b[0] = 0xFF;
    wr_bytes(w, b, (size_t)size);
}

/* acc += v * mul without overflow; false when it would overflow. */
static bool acc_add(int64_t *acc, int64_t v, int64_t mul) {
    int64_t x;
    return !__builtin_mul_overflow(v, mul, &x) && !__builtin_add_overflow(*acc, x, acc);
}

/* "1h30m", "-2d", ISO 8601 "P1Y2M3DT4H5M6S", "P2W", "P0001-02-03T04:05:06". */
int store_parse_duration(const char *s, size_t n, wr_t *w) {
    size_t i = 0;
    bool neg = false;
    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    int64_t months = 0, days = 0, nanos = 0;
    if (i >= n) return EDDY_ERR_INVALID;
    if (s[i] == 'P') {
        i++;
        if (i < n && isdigit((unsigned char)s[i]) && n - i == 19 && s[i + 4] == '-') {
            /* alternative format P0001-02-03T04:05:06 */
            int64_t f[6];
            size_t pos[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
            for (int k = 0; k < 6; k++)
                if (!all_digits(s + i + pos[k], len[k], false) || !parse_i64(s + i + pos[k], len[k], &f[k]))
                    return EDDY_ERR_INVALID;
            months = f[0] * 12 + f[1]; /* at most 9999 * 12 + 99: no overflow */
            days = f[2];
            nanos = ((f[3] * 60 + f[4]) * 60 + f[5]) * 1000000000LL;
        } else {
            bool time = false, any = false;
            while (i < n) {
                if (s[i] == 'T') {
                    time = true;
                    i++;
                    continue;
                }
                size_t st = i;
                while (i < n && isdigit((unsigned char)s[i])) i++;
                int64_t v;
                if (i == st || i >= n || !parse_i64(s + st, i - st, &v)) return EDDY_ERR_INVALID;
                char u = s[i++];
                any = true;
                bool ok;
                if (!time && u == 'Y') ok = acc_add(&months, v, 12);
                else if (!time && u == 'M') ok = acc_add(&months, v, 1);
                else if (!time && u == 'W') ok = acc_add(&days, v, 7);
                else if (!time && u == 'D') ok = acc_add(&days, v, 1);
                else if (time && u == 'H') ok = acc_add(&nanos, v, 3600000000000LL);
                else if (time && u == 'M') ok = acc_add(&nanos, v, 60000000000LL);
                else if (time && u == 'S') ok = acc_add(&nanos, v, 1000000000LL);
                else return EDDY_ERR_INVALID;
                if (!ok) return EDDY_ERR_RANGE;
            }
            if (!any) return EDDY_ERR_INVALID;
        }
    } else {
        bool any = false;
        while (i < n) {
            size_t st = i;
            while (i < n && isdigit((unsigned char)s[i])) i++;
            int64_t v;
            if (i == st || !parse_i64(s + st, i - st, &v)) return EDDY_ERR_INVALID;
            size_t us = i;
            while (i < n && !isdigit((unsigned char)s[i])) i++;
            size_t ul = i - us;
            char unit[8] = {0};
            if (ul == 0 || ul > 3) {
                if (!(ul == 3 && (unsigned char)s[us] == 0xC2)) return EDDY_ERR_INVALID;
            }
            for (size_t k = 0; k < ul && k < 7; k++) unit[k] = (char)tolower((unsigned char)s[us + k]);
            bool ok;
            if (!strcmp(unit, "y")) ok = acc_add(&months, v, 12);
            else if (!strcmp(unit, "mo")) ok = acc_add(&months, v, 1);
            else if (!strcmp(unit, "w")) ok = acc_add(&days, v, 7);
            else if (!strcmp(unit, "d")) ok = acc_add(&days, v, 1);
            else if (!strcmp(unit, "h")) ok = acc_add(&nanos, v, 3600000000000LL);
            else if (!strcmp(unit, "m")) ok = acc_add(&nanos, v, 60000000000LL);
            else if (!strcmp(unit, "s")) ok = acc_add(&nanos, v, 1000000000LL);
            else if (!strcmp(unit, "ms")) ok = acc_add(&nanos, v, 1000000LL);
            else if (!strcmp(unit, "us") || !strcmp(unit, "\xc2\xb5s")) ok = acc_add(&nanos, v, 1000LL);
            else if (!strcmp(unit, "ns")) ok = acc_add(&nanos, v, 1);
            else return EDDY_ERR_INVALID;
            if (!ok) return EDDY_ERR_RANGE;
            any = true;
        }
        if (!any) return EDDY_ERR_INVALID;
    }
    if (months > INT32_MAX || days > INT32_MAX) return EDDY_ERR_RANGE;
    if (neg) {
        months = -months;
        days = -days;
        nanos = -nanos;
    }
    store_vint_write(w, months);
    store_vint_write(w, days);
    store_vint_write(w, nanos);
    return EDDY_OK;
}

void store_fmt_duration(const uint8_t *p, size_t n, wr_t *w) {
    rd_t r = rd_init(p, n);
    int64_t months, days, nanos;
    if (store_vint_read(&r, &months) || store_vint_read(&r, &days) || store_vint_read(&r, &nanos)) return;
    if (months == 0 && days == 0 && nanos == 0) {
        wr_str(w, "0s"); /* Java's Duration.toString prints nothing here; 0s reads back */
        return;
    }
    bool neg = months < 0 || days < 0 || nanos < 0;
    if (neg) wr_u8(w, '-');
    /* magnitudes as unsigned: -INT64_MIN does not fit a signed value */
    uint64_t mo = neg ? 0 - (uint64_t)months : (uint64_t)months;
    uint64_t d = neg ? 0 - (uint64_t)days : (uint64_t)days;
    uint64_t ns = neg ? 0 - (uint64_t)nanos : (uint64_t)nanos;
    if (mo / 12) wr_fmt(w, "%lluy", (unsigned long long)(mo / 12));
    if (mo % 12) wr_fmt(w, "%llumo", (unsigned long long)(mo % 12));
    if (d) wr_fmt(w, "%llud", (unsigned long long)d);
    static const struct {
        uint64_t div;
        const char *unit;
    } units[] = {{3600000000000ULL, "h"}, {60000000000ULL, "m"}, {1000000000ULL, "s"},
                 {1000000ULL, "ms"},      {1000ULL, "us"},         {1ULL, "ns"}};
    for (size_t i = 0; i < EDDY_ARRAY_LEN(units); i++) {
        if (ns >= units[i].div) {
            wr_fmt(w, "%llu%s", (unsigned long long)(ns / units[i].div), units[i].unit);
            ns %= units[i].div;
        }
    }
}

/* ---- uuids, inet, hex ---- */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int store_parse_uuid(const char *s, size_t n, uint8_t out[16]) {
    if (n != 36) return EDDY_ERR_INVALID;
    int k = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return EDDY_ERR_INVALID;
            i++;
            continue;
        }
        int h = hexval((unsigned char)s[i]), l = hexval((unsigned char)s[i + 1]);
        if (h < 0 || l < 0) return EDDY_ERR_INVALID;
        out[k++] = (uint8_t)(h << 4 | l);
        i += 2;
    }
    return EDDY_OK;
}

void store_fmt_uuid(const uint8_t *p, wr_t *w) {
    static const char hex[] = "0123456789abcdef";
    char buf[36];
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) buf[k++] = '-';
        buf[k++] = hex[p[i] >> 4];
        buf[k++] = hex[p[i] & 15];
    }
    wr_bytes(w, buf, 36);
}

int store_parse_inet(const char *s, size_t n, uint8_t out[16], size_t *len) {
    char buf[64];
    if (n == 0 || n >= sizeof buf) return EDDY_ERR_INVALID;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (inet_pton(AF_INET, buf, out) == 1) {
        *len = 4;
        return EDDY_OK;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *len = 16;
        return EDDY_OK;
    }
    return EDDY_ERR_INVALID;
}

void store_fmt_inet(const uint8_t *p, size_t n, wr_t *w) {
    char buf[64];
    if (n == 4 && inet_ntop(AF_INET, p, buf, sizeof buf)) wr_str(w, buf);
    else if (n == 16 && inet_ntop(AF_INET6, p, buf, sizeof buf)) wr_str(w, buf);
}

void store_fmt_hex(const uint8_t *p, size_t n, wr_t *w) {
    static const char hex[] = "0123456789abcdef";
    wr_str(w, "0x");
    uint8_t *o = wr_reserve(w, n * 2);
    if (!o) return;
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = (uint8_t)hex[p[i] >> 4];
        o[2 * i + 1] = (uint8_t)hex[p[i] & 15];
    }
    wr_advance(w, n * 2);
}

static int parse_hex(const char *s, size_t n, wr_t *w) {
    if (n % 2) return EDDY_ERR_INVALID;
    uint8_t *o = wr_reserve(w, n / 2);
    if (!o) return w->err;
    for (size_t i = 0; i < n; i += 2) {
        int h = hexval((unsigned char)s[i]), l = hexval((unsigned char)s[i + 1]);
        if (h < 0 || l < 0) return EDDY_ERR_INVALID;
        o[i / 2] = (uint8_t)(h << 4 | l);
    }
    wr_advance(w, n / 2);
    return EDDY_OK;
}

/* ---- dates as text ---- */

void store_fmt_timestamp(int64_t ms, bool json_style, wr_t *w) {
    /* days and remainder without overflow, for every long (base's formatter overflows at the extremes) */
    int64_t rem = ms % 86400000;
    int64_t days = ms / 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    time_civil_from_days(days, &y, &mo, &d);
    wr_fmt(w, json_style ? "%04lld-%02u-%02u %02d:%02d:%02d.%03dZ" : "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
           (long long)y, mo, d, (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
}

void store_fmt_date(uint32_t days, wr_t *w) {
    int64_t y;
    unsigned mo, d;
    time_civil_from_days((int64_t)days - DATE_EPOCH_OFFSET, &y, &mo, &d);
    if (y < 0) wr_fmt(w, "-%04lld-%02u-%02u", (long long)-y, mo, d);
    else wr_fmt(w, "%04lld-%02u-%02u", (long long)y, mo, d);
}

void store_fmt_time(int64_t nanos, wr_t *w) {
    int64_t s = nanos / 1000000000LL;
    wr_fmt(w, "%02lld:%02lld:%02lld.%09lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60),
           (long long)(nanos % 1000000000LL));
}

/* minTimeuuid / maxTimeuuid for ms: 100ns intervals since 1582-10-15, clock and node lowest or
 * highest as Cassandra's UUIDGen does. */
void store_timeuuid_for_ms(int64_t ms, bool max, uint8_t out[16]) {
    uint64_t ts = (uint64_t)(ms * 10000) + 0x01B21DD213814000ULL + (max ? 9999 : 0);
    uint64_t msb = (ts << 32) | ((ts >> 16) & 0xFFFF0000ULL) | 0x1000 | ((ts >> 48) & 0x0FFF);
    store_u64(out, msb);
    store_u64(out + 8, max ? 0x7F7F7F7F7F7F7F7FULL : 0x8080808080808080ULL);
}

/* ---- constants (Constants.Literal) ---- */

static const char *const const_names[] = {"STRING", "INTEGER", "UUID", "FLOAT", "BOOLEAN", "HEX", "DURATION"};

bool store_const_assignable(const store_type_t *t, store_const_kind_t kind) {
    switch (kind) {
    case STORE_CONST_STRING:
        switch (t->kind) {
        case STORE_T_ASCII:
        case STORE_T_TEXT:
        case STORE_T_INET:
        case STORE_T_DATE:
        case STORE_T_TIME:
        case STORE_T_TIMESTAMP: return true;
        default: return false;
        }
    case STORE_CONST_INTEGER:
        switch (t->kind) {
        case STORE_T_BIGINT:
        case STORE_T_COUNTER:
        case STORE_T_DATE:
        case STORE_T_DECIMAL:
        case STORE_T_DOUBLE:
        case STORE_T_DURATION:
        case STORE_T_FLOAT:
        case STORE_T_INT:
        case STORE_T_SMALLINT:
        case STORE_T_TIME:
        case STORE_T_TIMESTAMP:
        case STORE_T_TINYINT:
        case STORE_T_VARINT: return true;
        default: return false;
        }
    case STORE_CONST_UUID: return t->kind == STORE_T_UUID || t->kind == STORE_T_TIMEUUID;
    case STORE_CONST_FLOAT: return t->kind == STORE_T_DECIMAL || t->kind == STORE_T_DOUBLE || t->kind == STORE_T_FLOAT;
    case STORE_CONST_BOOLEAN: return t->kind == STORE_T_BOOLEAN;
    case STORE_CONST_HEX: return t->kind == STORE_T_BLOB;
    case STORE_CONST_DURATION: return t->kind == STORE_T_DURATION;
    }
    return false;
}

/* fromString of a scalar type: the text forms Cassandra's types parse. Errors carry the
 * MarshalException text. now_ms serves "now". */
int store_scalar_from_string(const store_type_t *t, const char *s, size_t n, int64_t now_ms, wr_t *out, char *errstr,
                             size_t errlen) {
#define FAIL(fmt) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, fmt, (int)n, s)
    switch (t->kind) {
    case STORE_T_ASCII:
        for (size_t i = 0; i < n; i++)
            if ((uint8_t)s[i] > 127) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid ASCII character in string literal");
        wr_bytes(out, s, n);
        return EDDY_OK;
    case STORE_T_TEXT:
        if (store_value_validate(t, (const uint8_t *)s, n, NULL, 0))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid UTF-8 in string literal");
        wr_bytes(out, s, n);
        return EDDY_OK;
    case STORE_T_BLOB:
        if (parse_hex(s, n, out)) FAIL("cannot parse '%.*s' as hex bytes");
        return EDDY_OK;
    case STORE_T_BOOLEAN:
        if (n == 0 || (n == 5 && !strncasecmp(s, "false", 5))) wr_u8(out, 0);
        else if (n == 4 && !strncasecmp(s, "true", 4)) wr_u8(out, 1);
        else FAIL("Unable to make boolean from '%.*s'");
        return EDDY_OK;
    case STORE_T_TINYINT:
    case STORE_T_SMALLINT:
    case STORE_T_INT:
    case STORE_T_BIGINT:
    case STORE_T_COUNTER: {
        if (n == 0 && t->kind != STORE_T_TINYINT && t->kind != STORE_T_SMALLINT) return EDDY_OK; /* empty */
        int64_t v;
        bool ok = all_digits(n && s[0] == '+' ? s + 1 : s, n && s[0] == '+' ? n - 1 : n, true) &&
                  parse_i64(n && s[0] == '+' ? s + 1 : s, n && s[0] == '+' ? n - 1 : n, &v);
        const char *what = t->kind == STORE_T_TINYINT ? "byte" : t->kind == STORE_T_SMALLINT ? "short"
                           : t->kind == STORE_T_INT   ? "int"
                                                      : "long";
        if (ok) {
            if (t->kind == STORE_T_TINYINT) ok = v >= -128 && v <= 127;
            else if (t->kind == STORE_T_SMALLINT) ok = v >= -32768 && v <= 32767;
            else if (t->kind == STORE_T_INT) ok = v >= INT32_MIN && v <= INT32_MAX;
        }
        if (!ok) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unable to make %s from '%.*s'", what, (int)n, s);
        if (t->kind == STORE_T_TINYINT) wr_u8(out, (uint8_t)v);
        else if (t->kind == STORE_T_SMALLINT) wr_u16(out, (uint16_t)v);
        else if (t->kind == STORE_T_INT) wr_u32(out, (uint32_t)v);
        else wr_u64(out, (uint64_t)v);
        return EDDY_OK;
    }
    case STORE_T_VARINT:
        if (n == 0) return EDDY_OK;
        if (store_parse_varint(s, n, out)) FAIL("unable to make int from '%.*s'");
        return EDDY_OK;
    case STORE_T_DECIMAL:
        if (n == 0) return EDDY_OK;
        if (store_parse_decimal(s, n, out)) FAIL("unable to make BigDecimal from '%.*s'");
        return EDDY_OK;
    case STORE_T_FLOAT:
    case STORE_T_DOUBLE: {
        if (n == 0) return EDDY_OK;
        char buf[128];
        bool is_float = t->kind == STORE_T_FLOAT;
        if (n >= sizeof buf) FAIL(is_float ? "Unable to make float from '%.*s'" : "Unable to make double from '%.*s'");
        memcpy(buf, s, n);
        buf[n] = 0;
        double d;
        char *end = buf;
        if (!strcmp(buf, "NaN")) d = NAN;
        else if (!strcmp(buf, "Infinity") || !strcmp(buf, "+Infinity")) d = INFINITY;
        else if (!strcmp(buf, "-Infinity")) d = -INFINITY;
        else {
            /* Java's Double.valueOf: no hex floats, no "inf"/"nan" words, trailing d/f allowed */
            for (size_t i = 0; i < n; i++)
                if (!(isdigit((unsigned char)buf[i]) || strchr("+-.eE", buf[i]) ||
                      (i == n - 1 && strchr("dDfF", buf[i]))))
                    FAIL(is_float ? "Unable to make float from '%.*s'" : "Unable to make double from '%.*s'");
            if (strchr("dDfF", buf[n - 1])) buf[n - 1] = 0;
            d = strtod(buf, &end);
            if (end == buf || *end)
                FAIL(is_float ? "Unable to make float from '%.*s'" : "Unable to make double from '%.*s'");
        }
        store_wr_fp(out, d, is_float);
        return EDDY_OK;
    }
    case STORE_T_TIMESTAMP: {
        if (n == 0) return EDDY_OK;
        int64_t ms;
        if (store_parse_timestamp(s, n, now_ms, &ms))
            FAIL("Unable to parse a date/time from '%.*s'");
        wr_u64(out, (uint64_t)ms);
        return EDDY_OK;
    }
    case STORE_T_DATE: {
        if (n == 0) return EDDY_OK;
        uint32_t days;
        int rc = store_parse_date(s, n, &days);
        if (rc == EDDY_ERR_RANGE) FAIL("Input date %.*s is out of bounds");
        if (rc) FAIL("Unable to coerce '%.*s' to a formatted date (long)");
        wr_u32(out, days);
        return EDDY_OK;
    }
    case STORE_T_TIME: {
        if (n == 0) return EDDY_OK;
        int64_t nanos;
        int rc = store_parse_time(s, n, &nanos);
        if (rc == EDDY_ERR_RANGE) FAIL("Input long out of bounds: %.*s");
        if (rc) FAIL("Unable to coerce '%.*s' to a formatted time (long)");
        wr_u64(out, (uint64_t)nanos);
        return EDDY_OK;
    }
    case STORE_T_UUID:
    case STORE_T_TIMEUUID: {
        if (n == 0) return EDDY_OK;
        uint8_t u[16];
        if (store_parse_uuid(s, n, u)) {
            if (t->kind == STORE_T_TIMEUUID) FAIL("Unable to make TimeUUID from '%.*s'");
            FAIL("Unable to make UUID from '%.*s'");
        }
        if (t->kind == STORE_T_TIMEUUID && (u[6] & 0xF0) != 0x10)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Unsupported UUID version (%d) for timeuuid", u[6] >> 4);
        wr_bytes(out, u, 16);
        return EDDY_OK;
    }
    case STORE_T_INET: {
        if (n == 0) return EDDY_OK;
        uint8_t a[16];
        size_t len;
        if (store_parse_inet(s, n, a, &len)) FAIL("Unable to make inet address from '%.*s'");
        wr_bytes(out, a, len);
        return EDDY_OK;
    }
    case STORE_T_DURATION:
        if (store_parse_duration(s, n, out)) FAIL("Unable to convert '%.*s' to a duration");
        return EDDY_OK;
    default: FAIL("Cannot parse '%.*s' as a scalar value");
    }
#undef FAIL
}

int store_value_from_constant(const store_type_t *t, store_const_kind_t kind, const char *text, size_t len,
                              const char *receiver, wr_t *out, char *errstr, size_t errlen) {
    if (!store_const_assignable(t, kind)) {
        char tb[256];
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid %s constant (%s%.*s%s) for \"%s\" of type %s",
                        const_names[kind], kind == STORE_CONST_STRING ? "'" : "", (int)len, text,
                        kind == STORE_CONST_STRING ? "'" : "", receiver ? receiver : "", store_type_cstr(t, tb, sizeof tb));
    }
    if (kind == STORE_CONST_HEX) {
        if (len < 2 || parse_hex(text + 2, len - 2, out))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "cannot parse '%.*s' as hex bytes", (int)len, text);
        return EDDY_OK;
    }
    const store_type_t *pt = t->kind == STORE_T_COUNTER ? store_type_native(STORE_T_BIGINT) : t;
    return store_scalar_from_string(pt, text, len, time_now_ms(), out, errstr, errlen);
}

/* ---- getString (CAST to text) ---- */

void store_value_format_text(const store_type_t *t, const uint8_t *p, size_t n, wr_t *w) {
    if (!p) return;
    if (n == 0 && t->kind != STORE_T_TEXT && t->kind != STORE_T_ASCII) return;
    switch (t->kind) {
    case STORE_T_ASCII:
    case STORE_T_TEXT: wr_bytes(w, p, n); break;
    case STORE_T_BLOB:
        /* getString of a blob is its hex without 0x */
        store_fmt_hex(p, n, w);
        if (wr_ok(w)) {
            memmove(w->buf + w->len - n * 2 - 2, w->buf + w->len - n * 2, n * 2);
            w->len -= 2;
        }
        break;
    case STORE_T_BOOLEAN: wr_str(w, p[0] ? "true" : "false"); break;
    case STORE_T_TINYINT: wr_fmt(w, "%d", (int8_t)p[0]); break;
    case STORE_T_SMALLINT: wr_fmt(w, "%d", (int16_t)load_u16(p)); break;
    case STORE_T_INT: wr_fmt(w, "%d", ld_i32(p)); break;
    case STORE_T_BIGINT:
    case STORE_T_COUNTER: wr_fmt(w, "%lld", (long long)ld_i64(p)); break;
    case STORE_T_VARINT: store_fmt_varint(p, n, w); break;
    case STORE_T_DECIMAL: store_fmt_decimal(p, n, w); break;
    case STORE_T_FLOAT: {
        uint32_t u = load_u32(p);
        float f;
        memcpy(&f, &u, 4);
        store_fmt_float(f, w);
        break;
    }
    case STORE_T_DOUBLE: {
        uint64_t u = load_u64(p);
        double d;
        memcpy(&d, &u, 8);
        store_fmt_double(d, w);
        break;
    }
    case STORE_T_TIMESTAMP: store_fmt_timestamp(ld_i64(p), false, w); break;
    case STORE_T_DATE: store_fmt_date(load_u32(p), w); break;
    case STORE_T_TIME: store_fmt_time(ld_i64(p), w); break;
    case STORE_T_UUID:
    case STORE_T_TIMEUUID:
        if (n == 16) store_fmt_uuid(p, w);
        break;
    case STORE_T_INET: store_fmt_inet(p, n, w); break;
    case STORE_T_DURATION: store_fmt_duration(p, n, w); break;
    default: store_value_format_cql(t, p, n, w); break;
    }
}
