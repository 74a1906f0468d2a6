/* Date and time functions (all in UTC), and the lookup over every scalar function table.
 * Arguments marked 'd' accept a timestamp, a date, or text in one of the ISO-8601 forms
 * Cassandra accepts. now() is the batch's time (engine_row_t.now_ms), the same for every row of a
 * batch. */
#include <stdio.h>
#include <time.h>

#include "engine/engine_func.h"

/* Years beyond +-9999 are out of the calendar functions' range: such values give NULL. */
#define TS_LIMIT_MS 253402300799999LL

static bool to_ms(const engine_val_t *v, int64_t *ms) {
    bool ok = false;
    if (v->kind == ENGINE_TIMESTAMP || v->kind == ENGINE_INT) *ms = v->i, ok = true;
    else if (v->kind == ENGINE_DATE) ok = !__builtin_mul_overflow(v->i, 86400000, ms);
    else if (v->kind == ENGINE_TEXT) ok = time_parse_iso8601(v->s, v->len, ms) == EDDY_OK;
    return ok && *ms <= TS_LIMIT_MS && *ms >= -TS_LIMIT_MS;
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

typedef struct {
    int64_t year;
    unsigned month, day, hour, minute, second, ms, dow; /* dow: 1 = Sunday ... 7 = Saturday */
} civil_t;

static void civil(int64_t ms, civil_t *c) {
    int64_t days = floor_div(ms, 86400000), rem = ms - days * 86400000;
    time_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (unsigned)(rem / 3600000);
    c->minute = (unsigned)(rem / 60000 % 60);
    c->second = (unsigned)(rem / 1000 % 60);
    c->ms = (unsigned)(rem % 1000);
    /* 1970-01-01 was a Thursday (5 when Sunday is 1). */
    int64_t w = (days + 4) % 7;
    if (w < 0) w += 7;
    c->dow = (unsigned)w + 1;
}

static int f_now(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)a; (void)n;
    *o = engine_ts(r->now_ms);
    return EDDY_OK;
}

static int f_current_date(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)a; (void)n;
    *o = (engine_val_t){.kind = ENGINE_DATE, .i = floor_div(r->now_ms, 86400000)};
    return EDDY_OK;
}

static int f_to_timestamp(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    int64_t ms;
    if (to_ms(a, &ms)) *o = engine_ts(ms);
    return EDDY_OK;
}

static int f_to_date(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    int64_t ms;
    if (to_ms(a, &ms)) *o = (engine_val_t){.kind = ENGINE_DATE, .i = floor_div(ms, 86400000)};
    return EDDY_OK;
}

static int f_to_unix_ms(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    int64_t ms;
    if (to_ms(a, &ms)) *o = engine_int(ms);
    return EDDY_OK;
}

/* unix_timestamp(ts): seconds since the epoch (Spark); without argument, the batch's time. */
static int f_unix_timestamp(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    int64_t ms = r->now_ms;
    if (n > 0 && !to_ms(a, &ms)) return EDDY_OK;
    *o = engine_int(floor_div(ms, 1000));
    return EDDY_OK;
}

static int f_from_unixtime(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a->kind == ENGINE_INT) {
        int64_t ms;
        if (!__builtin_mul_overflow(a->i, 1000, &ms)) *o = engine_ts(ms);
    } else if (a->kind == ENGINE_FLOAT && a->f > -9.2e15 && a->f < 9.2e15) {
        *o = engine_ts((int64_t)(a->f * 1000));
    }
    return EDDY_OK;
}

static int part(const engine_val_t *a, engine_val_t *o, int which) {
    int64_t ms;
    if (!to_ms(a, &ms)) return EDDY_OK;
    civil_t c;
    civil(ms, &c);
    int64_t v = 0;
    switch (which) {
    case 0: v = c.year; break;
    case 1: v = c.month; break;
    case 2: v = c.day; break;
    case 3: v = c.hour; break;
    case 4: v = c.minute; break;
    case 5: v = c.second; break;
    case 6: v = c.dow; break;
    case 7: v = (c.month - 1) / 3 + 1; break;
    }
    *o = engine_int(v);
    return EDDY_OK;
}
static int f_year(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return part(a, o, 0); }
static int f_month(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return part(a, o, 1); }
static int f_day(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return part(a, o, 2); }
static int f_hour(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return part(a, o, 3); }
static int f_minute(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return part(a, o, 4); }
static int f_second(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return part(a, o, 5); }
static int f_dayofweek(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return part(a, o, 6); }
static int f_quarter(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return part(a, o, 7); }

static bool unit_is(const engine_val_t *u, const char *name) {
    size_t n = strlen(name);
    if (u->len != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = u->s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return false;
    }
    return true;
}

/* date_trunc(unit, ts): unit one of year, quarter, month, week (Monday), day, hour, minute,
 * second; an unknown unit gives NULL. */
static int f_date_trunc(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    int64_t ms;
    if (!to_ms(&a[1], &ms)) return EDDY_OK;
    civil_t c;
    civil(ms, &c);
    int64_t days = floor_div(ms, 86400000), out;
    if (unit_is(&a[0], "year")) out = time_days_from_civil(c.year, 1, 1) * 86400000;
    else if (unit_is(&a[0], "quarter")) out = time_days_from_civil(c.year, (c.month - 1) / 3 * 3 + 1, 1) * 86400000;
    else if (unit_is(&a[0], "month")) out = time_days_from_civil(c.year, c.month, 1) * 86400000;
    else if (unit_is(&a[0], "week")) out = (days - (c.dow + 5) % 7) * 86400000;
    else if (unit_is(&a[0], "day")) out = days * 86400000;
    else if (unit_is(&a[0], "hour")) out = floor_div(ms, 3600000) * 3600000;
    else if (unit_is(&a[0], "minute")) out = floor_div(ms, 60000) * 60000;
    else if (unit_is(&a[0], "second")) out = floor_div(ms, 1000) * 1000;
    else return EDDY_OK;
    *o = engine_ts(out);
    return EDDY_OK;
}

/* date_format(ts, format): strftime's conversions (in UTC), plus %L for milliseconds. */
static int f_date_format(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    int64_t ms;
    if (!to_ms(&a[0], &ms)) return EDDY_OK;
    civil_t c;
    civil(ms, &c);
    struct tm tm = {0};
    if (c.year < -9999 || c.year > 99999) return EDDY_OK;
    tm.tm_year = (int)(c.year - 1900);
    tm.tm_mon = (int)c.month - 1;
    tm.tm_mday = (int)c.day;
    tm.tm_hour = (int)c.hour;
    tm.tm_min = (int)c.minute;
    tm.tm_sec = (int)c.second;
    tm.tm_wday = (int)c.dow - 1;
    tm.tm_yday = (int)(floor_div(ms, 86400000) - time_days_from_civil(c.year, 1, 1));
    wr_t w;
    wr_init(&w, 64);
    const char *f = a[1].s, *end = a[1].s + a[1].len;
    while (f < end) {
        if (*f != '%' || f + 1 >= end) {
            wr_u8(&w, (uint8_t)*f++);
            continue;
        }
        char conv = f[1];
        f += 2;
        if (conv == 'L') {
            wr_fmt(&w, "%03u", c.ms);
            continue;
        }
        if (!strchr("aAbBdHjmMpSuwyYZ%eFT", conv)) continue; /* unknown conversions drop out */
        char fmt[3] = {'%', conv, 0}, buf[64];
        size_t k = strftime(buf, sizeof buf, fmt, &tm);
        wr_bytes(&w, buf, k);
    }
    int rc = wr_ok(&w) ? func_text_out(r, w.buf ? (const char *)w.buf : "", w.len, o) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}

static int f_date_add(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    int64_t ms;
    if (!to_ms(&a[0], &ms)) return EDDY_OK;
    int64_t d;
    if (__builtin_add_overflow(floor_div(ms, 86400000), a[1].i, &d)) return EDDY_OK;
    *o = (engine_val_t){.kind = ENGINE_DATE, .i = d};
    return EDDY_OK;
}

static int f_datediff(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    int64_t x, y;
    if (!to_ms(&a[0], &x) || !to_ms(&a[1], &y)) return EDDY_OK;
    *o = engine_int(floor_div(x, 86400000) - floor_div(y, 86400000));
    return EDDY_OK;
}

static int chk_ts(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_TIMESTAMP); return EDDY_OK; }
static int chk_date(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_DATE); return EDDY_OK; }
static int chk_int(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_INT); return EDDY_OK; }
static int chk_text(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_TEXT); return EDDY_OK; }

#define F(name, mn, mx, sig, chk, fn, nn, vol) {name, mn, mx, sig, chk, fn, nn, vol}
const func_entry_t engine_func_table_time[] = {
    F("now", 0, 0, "", chk_ts, f_now, false, true),
    F("current_timestamp", 0, 0, "", chk_ts, f_now, false, true),
    F("current_date", 0, 0, "", chk_date, f_current_date, false, true),
    F("to_timestamp", 1, 1, "a", chk_ts, f_to_timestamp, true, false),
    F("totimestamp", 1, 1, "a", chk_ts, f_to_timestamp, true, false),
    F("to_date", 1, 1, "a", chk_date, f_to_date, true, false),
    F("todate", 1, 1, "a", chk_date, f_to_date, true, false),
    F("to_unix_millis", 1, 1, "a", chk_int, f_to_unix_ms, true, false),
    F("tounixtimestamp", 1, 1, "a", chk_int, f_to_unix_ms, true, false),
    F("unix_timestamp", 0, 1, "d", chk_int, f_unix_timestamp, true, true),
    F("from_unixtime", 1, 1, "n", chk_ts, f_from_unixtime, true, false),
    F("year", 1, 1, "d", chk_int, f_year, true, false),
    F("quarter", 1, 1, "d", chk_int, f_quarter, true, false),
    F("month", 1, 1, "d", chk_int, f_month, true, false),
    F("day", 1, 1, "d", chk_int, f_day, true, false),
    F("dayofmonth", 1, 1, "d", chk_int, f_day, true, false),
    F("dayofweek", 1, 1, "d", chk_int, f_dayofweek, true, false),
    F("hour", 1, 1, "d", chk_int, f_hour, true, false),
    F("minute", 1, 1, "d", chk_int, f_minute, true, false),
    F("second", 1, 1, "d", chk_int, f_second, true, false),
    F("date_trunc", 2, 2, "td", chk_ts, f_date_trunc, true, false),
    F("date_format", 2, 2, "dt", chk_text, f_date_format, true, false),
    F("date_add", 2, 2, "di", chk_date, f_date_add, true, false),
    F("datediff", 2, 2, "dd", chk_int, f_datediff, true, false),
    {NULL, 0, 0, NULL, NULL, NULL, false, false},
};

static bool name_is(const char *name, const char *s, size_t n) {
    if (strlen(name) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return false;
    }
    return true;
}

const engine_func_t *engine_func_find(const char *name, size_t len) {
    const func_entry_t *tables[] = {engine_func_table_strings, engine_func_table_time};
    for (size_t t = 0; t < EDDY_ARRAY_LEN(tables); t++)
        for (const func_entry_t *f = tables[t]; f->name; f++)
            if (name_is(f->name, name, len)) return f;
    return NULL;
}

int engine_func_check(const engine_func_t *fn, const engine_type_t *args, int n, engine_type_t *result, char *errstr,
                   size_t errlen) {
    if (n < fn->min_args || (fn->max_args >= 0 && n > fn->max_args)) {
        if (fn->min_args == fn->max_args)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s takes %d argument%s, not %d", fn->name,
                            fn->min_args, fn->min_args == 1 ? "" : "s", n);
        if (fn->max_args < 0)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s takes at least %d arguments, not %d", fn->name,
                            fn->min_args, n);
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s takes %d to %d arguments, not %d", fn->name,
                        fn->min_args, fn->max_args, n);
    }
    int rc = func_check_sig(fn->name, fn->sig, args, n, errstr, errlen);
    if (rc) return rc;
    return fn->check(args, n, result, errstr, errlen);
}
