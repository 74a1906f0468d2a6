/* Scalar functions: strings, numbers, NULL handling, collections, JSON. Dates and times are in
 * func_time.c. Each function is one row of a table with its argument signature, so that type
 * checking at plan time and evaluation share one declaration.
 *
 * Signature letters, one per argument (the last repeats when max_args is -1):
 *   t text, i integer, n number, b boolean, d timestamp or date (or text read as one),
 *   c collection (list, set, map), l list or set, m map, a anything. */
#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_func.h"

/* ---- helpers -------------------------------------------------------------------------------- */

int func_text_out(engine_row_t *row, const char *s, size_t n, engine_val_t *out) {
    char *p = n ? arena_memdup(row->arena, s, n) : (char *)"";
    if (!p) return EDDY_ERR_NOMEM;
    *out = engine_text(p, n);
    return EDDY_OK;
}

static char *text_alloc(engine_row_t *row, size_t n) { return arena_alloc(row->arena, n ? n : 1); }

/* Number of UTF-8 code points; byte offset of code point k (clamped to the end). */
static size_t utf8_len(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((uint8_t)s[i] & 0xc0) != 0x80;
    return c;
}

static size_t utf8_offset(const char *s, size_t n, size_t k) {
    size_t i = 0;
    while (i < n && k > 0) {
        i++;
        while (i < n && ((uint8_t)s[i] & 0xc0) == 0x80) i++;
        k--;
    }
    return i;
}

static double num(const engine_val_t *v) { return v->kind == ENGINE_INT ? (double)v->i : v->f; }

bool func_kind_matches(char sig, const engine_type_t *t) {
    uint8_t k = t->kind;
    if (k == ENGINE_ANY || k == ENGINE_NULL || sig == 'a') return true;
    switch (sig) {
    case 't': return k == ENGINE_TEXT;
    case 'i': return k == ENGINE_INT;
    case 'n': return k == ENGINE_INT || k == ENGINE_FLOAT;
    case 'b': return k == ENGINE_BOOL;
    case 'd': return k == ENGINE_TIMESTAMP || k == ENGINE_DATE || k == ENGINE_TEXT;
    case 'c': return k == ENGINE_LIST || k == ENGINE_SET || k == ENGINE_MAP || k == ENGINE_JSON;
    case 'l': return k == ENGINE_LIST || k == ENGINE_SET;
    case 'm': return k == ENGINE_MAP || k == ENGINE_JSON;
    }
    return false;
}

static const char *sig_name(char sig) {
    switch (sig) {
    case 't': return "text";
    case 'i': return "an integer";
    case 'n': return "a number";
    case 'b': return "a boolean";
    case 'd': return "a timestamp or date";
    case 'c': return "a collection";
    case 'l': return "a list or set";
    case 'm': return "a map";
    }
    return "a value";
}

int func_check_sig(const char *fname, const char *sig, const engine_type_t *args, int n, char *errstr, size_t errlen) {
    size_t ns = strlen(sig);
    for (int i = 0; i < n; i++) {
        char c = ns ? sig[(size_t)i < ns ? (size_t)i : ns - 1] : 'a';
        if (!func_kind_matches(c, &args[i])) {
            char tn[48];
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "%s: argument %d is %s, expected %s", fname, i + 1,
                            engine_type_str(args[i], tn, sizeof tn), sig_name(c));
        }
    }
    return EDDY_OK;
}

/* ---- strings -------------------------------------------------------------------------------- */

static int f_lower_upper(engine_row_t *row, const engine_val_t *a, bool upper, engine_val_t *out) {
    char *p = text_alloc(row, a->len);
    if (!p) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < a->len; i++) {
        unsigned char c = (unsigned char)a->s[i];
        p[i] = (char)(c < 0x80 ? (upper ? toupper(c) : tolower(c)) : c);
    }
    *out = engine_text(p, a->len);
    return EDDY_OK;
}
static int f_lower(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)n; return f_lower_upper(r, a, false, o); }
static int f_upper(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)n; return f_lower_upper(r, a, true, o); }

static int f_length(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a->kind == ENGINE_TEXT) *o = engine_int((int64_t)utf8_len(a->s, a->len));
    else if (a->kind == ENGINE_BLOB) *o = engine_int(a->len);
    return EDDY_OK;
}

static int trim_impl(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o, bool left, bool right) {
    (void)r;
    const char *chars = n > 1 ? a[1].s : " ";
    size_t nc = n > 1 ? a[1].len : 1;
    size_t lo = 0, hi = a[0].len;
    while (left && lo < hi && memchr(chars, a[0].s[lo], nc)) lo++;
    while (right && hi > lo && memchr(chars, a[0].s[hi - 1], nc)) hi--;
    *o = engine_text(a[0].s + lo, hi - lo);
    return EDDY_OK;
}
static int f_trim(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { return trim_impl(r, a, n, o, true, true); }
static int f_ltrim(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { return trim_impl(r, a, n, o, true, false); }
static int f_rtrim(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { return trim_impl(r, a, n, o, false, true); }

/* substring(s, start[, len]): 1-based code points, as SQL; start <= 0 counts as before the
 * first character (so substring('abc', 0, 2) is 'a'). */
static int f_substring(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r;
    int64_t start = a[1].i, len = n > 2 ? a[2].i : INT64_MAX;
    if (n > 2 && len < 0) return EDDY_OK;
    int64_t end = len == INT64_MAX || start > INT64_MAX - len ? INT64_MAX : start + len;
    if (start < 1) start = 1;
    if (end <= start) { *o = engine_text("", 0); return EDDY_OK; }
    size_t b = utf8_offset(a[0].s, a[0].len, (size_t)(start - 1));
    size_t e = end == INT64_MAX ? a[0].len : b + utf8_offset(a[0].s + b, a[0].len - b, (size_t)(end - start));
    *o = engine_text(a[0].s + b, e - b);
    return EDDY_OK;
}

static int f_left(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a[1].i < 0) { *o = engine_text("", 0); return EDDY_OK; }
    *o = engine_text(a[0].s, utf8_offset(a[0].s, a[0].len, (size_t)a[1].i));
    return EDDY_OK;
}

static int f_right(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    size_t total = utf8_len(a[0].s, a[0].len);
    size_t k = a[1].i < 0 ? 0 : (size_t)a[1].i > total ? total : (size_t)a[1].i;
    size_t b = utf8_offset(a[0].s, a[0].len, total - k);
    *o = engine_text(a[0].s + b, a[0].len - b);
    return EDDY_OK;
}

/* concat(a, b, ...): NULL arguments are skipped (as PostgreSQL's concat); values are text. */
static int f_concat(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    wr_t w;
    wr_init(&w, 64);
    for (int i = 0; i < n; i++) engine_val_to_text(&w, &a[i]);
    int rc = wr_ok(&w) ? func_text_out(r, (const char *)w.buf, w.len, o) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}

static int f_concat_ws(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    if (a[0].kind == ENGINE_NULL) return EDDY_OK;
    wr_t w;
    wr_init(&w, 64);
    bool first = true;
    for (int i = 1; i < n; i++) {
        if (a[i].kind == ENGINE_NULL) continue;
        if (!first) engine_val_to_text(&w, &a[0]);
        first = false;
        engine_val_to_text(&w, &a[i]);
    }
    int rc = wr_ok(&w) ? func_text_out(r, (const char *)w.buf, w.len, o) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}

static int f_replace(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    if (a[1].len == 0) { *o = a[0]; return EDDY_OK; }
    wr_t w;
    wr_init(&w, a[0].len + 16);
    size_t i = 0;
    while (i < a[0].len) {
        if (i + a[1].len <= a[0].len && memcmp(a[0].s + i, a[1].s, a[1].len) == 0) {
            wr_bytes(&w, a[2].s, a[2].len);
            i += a[1].len;
        } else {
            wr_u8(&w, (uint8_t)a[0].s[i++]);
        }
    }
    int rc = wr_ok(&w) ? func_text_out(r, w.buf ? (const char *)w.buf : "", w.len, o) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}

/* split(s, delimiter) -> list<text>; an empty delimiter splits into characters. */
static int f_split(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    const char *s = a[0].s, *d = a[1].s;
    size_t len = a[0].len, dl = a[1].len, count = 1;
    if (dl == 0) count = utf8_len(s, len);
    else
        for (size_t i = 0; i + dl <= len; i++)
            if (memcmp(s + i, d, dl) == 0) count++, i += dl - 1;
    engine_val_t *items = arena_alloc(r->arena, (count ? count : 1) * sizeof *items);
    if (!items) return EDDY_ERR_NOMEM;
    size_t k = 0, start = 0;
    if (dl == 0) {
        for (size_t i = 0; i < len; k++) {
            size_t j = i + utf8_offset(s + i, len - i, 1);
            items[k] = engine_text(s + i, j - i);
            i = j;
        }
    } else {
        for (size_t i = 0; i + dl <= len; i++)
            if (memcmp(s + i, d, dl) == 0) {
                items[k++] = engine_text(s + start, i - start);
                i += dl - 1;
                start = i + 1;
            }
        items[k++] = engine_text(s + start, len - start);
    }
    *o = (engine_val_t){.kind = ENGINE_LIST, .len = (uint32_t)k, .items = items};
    return EDDY_OK;
}

static int f_starts_with(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    *o = engine_bool(a[1].len <= a[0].len && memcmp(a[0].s, a[1].s, a[1].len) == 0);
    return EDDY_OK;
}

static int f_ends_with(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    *o = engine_bool(a[1].len <= a[0].len && memcmp(a[0].s + a[0].len - a[1].len, a[1].s, a[1].len) == 0);
    return EDDY_OK;
}

/* strpos(s, sub): 1-based code point position of the first match, 0 when absent. */
static int f_strpos(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a[1].len == 0) { *o = engine_int(1); return EDDY_OK; }
    const char *p = a[1].len <= a[0].len ? memmem(a[0].s, a[0].len, a[1].s, a[1].len) : NULL;
    *o = engine_int(p ? (int64_t)utf8_len(a[0].s, (size_t)(p - a[0].s)) + 1 : 0);
    return EDDY_OK;
}

static int pad_impl(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o, bool left) {
    int64_t want = a[1].i;
    const char *fill = n > 2 ? a[2].s : " ";
    size_t fl = n > 2 ? a[2].len : 1;
    if (want < 0) want = 0;
    if (want > (1 << 20)) return EDDY_OK; /* NULL rather than a megabyte of padding */
    size_t have = utf8_len(a[0].s, a[0].len);
    if ((size_t)want <= have) {
        *o = engine_text(a[0].s, utf8_offset(a[0].s, a[0].len, (size_t)want));
        return EDDY_OK;
    }
    if (fl == 0) { *o = a[0]; return EDDY_OK; }
    wr_t w;
    wr_init(&w, (size_t)want + a[0].len);
    if (!left) wr_bytes(&w, a[0].s, a[0].len);
    for (size_t k = have, i = 0; k < (size_t)want; k++) {
        size_t j = i + utf8_offset(fill + i, fl - i, 1);
        wr_bytes(&w, fill + i, j - i);
        i = j >= fl ? 0 : j;
    }
    if (left) wr_bytes(&w, a[0].s, a[0].len);
    int rc = wr_ok(&w) ? func_text_out(r, (const char *)w.buf, w.len, o) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}
static int f_lpad(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { return pad_impl(r, a, n, o, true); }
static int f_rpad(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { return pad_impl(r, a, n, o, false); }

static int f_reverse(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    char *p = text_alloc(r, a->len);
    if (!p) return EDDY_ERR_NOMEM;
    size_t i = 0, j = a->len;
    while (i < a->len) {
        size_t k = i + utf8_offset(a->s + i, a->len - i, 1);
        j -= k - i;
        memcpy(p + j, a->s + i, k - i);
        i = k;
    }
    *o = engine_text(p, a->len);
    return EDDY_OK;
}

/* POSIX extended regular expressions, compiled per call (patterns are usually constants; a
 * cache per expression can come when a profile asks for it). */
static int regex_compile(regex_t *re, const engine_val_t *pat, int flags) {
    char buf[1024];
    if (pat->len >= sizeof buf) return -1;
    memcpy(buf, pat->s, pat->len);
    buf[pat->len] = 0;
    return regcomp(re, buf, REG_EXTENDED | flags);
}

static char *nul_term(engine_row_t *r, const engine_val_t *v) {
    char *s = arena_alloc(r->arena, v->len + 1);
    if (s) {
        memcpy(s, v->s, v->len);
        s[v->len] = 0;
    }
    return s;
}

static int f_regexp_like(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    regex_t re;
    if (regex_compile(&re, &a[1], REG_NOSUB) != 0) return EDDY_OK;
    char *s = nul_term(r, &a[0]);
    if (!s) { regfree(&re); return EDDY_ERR_NOMEM; }
    *o = engine_bool(regexec(&re, s, 0, NULL, 0) == 0);
    regfree(&re);
    return EDDY_OK;
}

static int f_regexp_replace(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    regex_t re;
    if (regex_compile(&re, &a[1], 0) != 0) return EDDY_OK;
    char *s = nul_term(r, &a[0]);
    if (!s) { regfree(&re); return EDDY_ERR_NOMEM; }
    wr_t w;
    wr_init(&w, a[0].len + 16);
    size_t pos = 0;
    regmatch_t m;
    while (pos <= a[0].len && regexec(&re, s + pos, 1, &m, pos ? REG_NOTBOL : 0) == 0) {
        wr_bytes(&w, s + pos, (size_t)m.rm_so);
        wr_bytes(&w, a[2].s, a[2].len);
        if (m.rm_eo == m.rm_so) { /* an empty match: copy one byte and go on */
            if (pos + (size_t)m.rm_eo < a[0].len) wr_u8(&w, (uint8_t)s[pos + (size_t)m.rm_eo]);
            pos += (size_t)m.rm_eo + 1;
        } else {
            pos += (size_t)m.rm_eo;
        }
    }
    if (pos < a[0].len) wr_bytes(&w, s + pos, a[0].len - pos);
    regfree(&re);
    int rc = wr_ok(&w) ? func_text_out(r, w.buf ? (const char *)w.buf : "", w.len, o) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}

/* ---- NULL handling and comparison ------------------------------------------------------------ */

static int f_coalesce(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r;
    for (int i = 0; i < n; i++)
        if (a[i].kind != ENGINE_NULL) { *o = a[i]; return EDDY_OK; }
    return EDDY_OK;
}

static int f_nullif(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    bool comparable;
    if (a[0].kind != ENGINE_NULL && a[1].kind != ENGINE_NULL && engine_val_sql_cmp(&a[0], &a[1], &comparable) == 0 && comparable)
        return EDDY_OK;
    *o = a[0];
    return EDDY_OK;
}

static int extreme(const engine_val_t *a, int n, engine_val_t *o, int sign) {
    /* NULL arguments are ignored, as PostgreSQL does. */
    for (int i = 0; i < n; i++) {
        if (a[i].kind == ENGINE_NULL) continue;
        bool comparable = true;
        if (o->kind == ENGINE_NULL || engine_val_sql_cmp(&a[i], o, &comparable) * sign > 0) *o = a[i];
    }
    return EDDY_OK;
}
static int f_greatest(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; return extreme(a, n, o, 1); }
static int f_least(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; return extreme(a, n, o, -1); }

/* ---- numbers -------------------------------------------------------------------------------- */

static int f_abs(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a->kind == ENGINE_INT) *o = a->i == INT64_MIN ? engine_null() : engine_int(a->i < 0 ? -a->i : a->i);
    else *o = engine_float(fabs(a->f));
    return EDDY_OK;
}

static int f_round(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r;
    int64_t d = n > 1 ? a[1].i : 0;
    if (a[0].kind == ENGINE_INT && d >= 0) { *o = a[0]; return EDDY_OK; }
    if (d > 15 || d < -15) { *o = a[0].kind == ENGINE_INT ? a[0] : engine_float(a[0].f); return EDDY_OK; }
    double m = pow(10.0, (double)d), x = num(&a[0]);
    double v = round(x * m) / m;
    *o = a[0].kind == ENGINE_INT ? engine_int((int64_t)v) : engine_float(v);
    return EDDY_OK;
}

static int f_floor(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a->kind == ENGINE_INT) { *o = *a; return EDDY_OK; }
    if (isfinite(a->f) && fabs(a->f) < 9.2e18) *o = engine_int((int64_t)floor(a->f));
    return EDDY_OK;
}

static int f_ceil(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a->kind == ENGINE_INT) { *o = *a; return EDDY_OK; }
    if (isfinite(a->f) && fabs(a->f) < 9.2e18) *o = engine_int((int64_t)ceil(a->f));
    return EDDY_OK;
}

static int float_fn(const engine_val_t *a, engine_val_t *o, double (*fn)(double), bool positive) {
    double x = num(a);
    if (positive && x <= 0) return EDDY_OK;
    *o = engine_float(fn(x));
    return EDDY_OK;
}
static int f_sqrt(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (num(a) < 0) return EDDY_OK;
    return float_fn(a, o, sqrt, false);
}
static int f_ln(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return float_fn(a, o, log, true); }
static int f_log10(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return float_fn(a, o, log10, true); }
static int f_exp(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)r; (void)n; return float_fn(a, o, exp, false); }

static int f_power(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    *o = engine_float(pow(num(&a[0]), num(&a[1])));
    return EDDY_OK;
}

static int f_sign(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    double x = num(a);
    *o = engine_int(x > 0 ? 1 : x < 0 ? -1 : 0);
    return EDDY_OK;
}

/* ---- collections ---------------------------------------------------------------------------- */

static int f_size(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a->kind == ENGINE_JSON) *o = engine_int(json_node(a->json->doc, a->json->node)->count);
    else *o = engine_int(a->len);
    return EDDY_OK;
}

static int f_array_contains(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    uint32_t width = a[0].kind == ENGINE_MAP ? 2 : 1;
    for (uint32_t i = 0; i < a[0].len; i++) {
        bool comparable;
        if (engine_val_sql_cmp(&a[0].items[i * width], &a[1], &comparable) == 0 && comparable) {
            *o = engine_bool(true);
            return EDDY_OK;
        }
    }
    *o = engine_bool(false);
    return EDDY_OK;
}

/* element_at(list, i) is 1-based (Spark); element_at(map, key) looks the key up. */
static int f_element_at(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)r; (void)n;
    if (a[0].kind == ENGINE_LIST || a[0].kind == ENGINE_SET) {
        if (a[1].kind != ENGINE_INT) return EDDY_OK;
        int64_t i = a[1].i > 0 ? a[1].i - 1 : (int64_t)a[0].len + a[1].i;
        if (i >= 0 && i < (int64_t)a[0].len) *o = a[0].items[i];
        return EDDY_OK;
    }
    if (a[0].kind == ENGINE_MAP) {
        for (uint32_t i = 0; i < a[0].len; i++)
            if (engine_val_eq(&a[0].items[2 * i], &a[1])) { *o = a[0].items[2 * i + 1]; return EDDY_OK; }
        return EDDY_OK;
    }
    if (a[0].kind == ENGINE_JSON && a[1].kind == ENGINE_TEXT) {
        int64_t i = json_object_get(a[0].json->doc, a[0].json->node, a[1].s, a[1].len);
        if (i >= 0) return engine_val_from_json(r->arena, a[0].json->doc, (uint32_t)i, o);
    }
    return EDDY_OK;
}

static int map_part(engine_row_t *r, const engine_val_t *a, engine_val_t *o, int which) {
    engine_val_t m = *a;
    if (m.kind == ENGINE_JSON) {
        int rc = engine_val_copy(r->arena, a, &m);
        if (rc) return rc;
    }
    if (m.kind != ENGINE_MAP) return EDDY_OK;
    engine_val_t *items = arena_alloc(r->arena, (m.len ? m.len : 1) * sizeof *items);
    if (!items) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < m.len; i++) items[i] = m.items[2 * i + which];
    *o = (engine_val_t){.kind = ENGINE_LIST, .len = m.len, .items = items};
    return EDDY_OK;
}
static int f_map_keys(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)n; return map_part(r, a, o, 0); }
static int f_map_values(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) { (void)n; return map_part(r, a, o, 1); }

static int f_array_join(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    wr_t w;
    wr_init(&w, 64);
    bool first = true;
    for (uint32_t i = 0; i < a[0].len; i++) {
        if (a[0].items[i].kind == ENGINE_NULL) continue;
        if (!first) wr_bytes(&w, a[1].s, a[1].len);
        first = false;
        engine_val_to_text(&w, &a[0].items[i]);
    }
    int rc = wr_ok(&w) ? func_text_out(r, w.buf ? (const char *)w.buf : "", w.len, o) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}

static int f_array_sort(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    engine_val_t s;
    int rc = engine_val_make_coll(r->arena, ENGINE_SET, a->items, a->len, &s);
    if (rc) return rc;
    /* make_coll for a set also removes duplicates; sorting a list keeps them. */
    if (s.len == a->len) {
        s.kind = ENGINE_LIST;
        *o = s;
        return EDDY_OK;
    }
    engine_val_t *items = arena_alloc(r->arena, a->len * sizeof *items);
    if (!items) return EDDY_ERR_NOMEM;
    memcpy(items, a->items, a->len * sizeof *items);
    for (uint32_t i = 1; i < a->len; i++) /* insertion sort: stable and fine for short lists */
        for (uint32_t j = i; j > 0 && engine_val_cmp(&items[j - 1], &items[j]) > 0; j--) {
            engine_val_t t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
        }
    *o = (engine_val_t){.kind = ENGINE_LIST, .len = a->len, .items = items};
    return EDDY_OK;
}

static int f_array_distinct(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    engine_val_t *items = arena_alloc(r->arena, (a->len ? a->len : 1) * sizeof *items);
    if (!items) return EDDY_ERR_NOMEM;
    uint32_t m = 0;
    for (uint32_t i = 0; i < a->len; i++) { /* keeps first occurrences, in order */
        bool seen = false;
        for (uint32_t j = 0; j < m && !seen; j++) seen = engine_val_eq(&items[j], &a->items[i]);
        if (!seen) items[m++] = a->items[i];
    }
    *o = (engine_val_t){.kind = ENGINE_LIST, .len = m, .items = items};
    return EDDY_OK;
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static int f_to_json(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    wr_t w;
    wr_init(&w, 64);
    engine_val_to_json(&w, a);
    int rc = wr_ok(&w) ? func_text_out(r, (const char *)w.buf, w.len, o) : EDDY_ERR_NOMEM;
    wr_free(&w);
    return rc;
}

/* parse_json(text): the value the text holds (objects become maps), NULL when it is not JSON. */
static int f_parse_json(engine_row_t *r, const engine_val_t *a, int n, engine_val_t *o) {
    (void)n;
    json_doc_t doc;
    json_doc_init(&doc);
    int rc = EDDY_OK;
    if (json_parse(&doc, a->s, a->len) == EDDY_OK) {
        engine_val_t v;
        rc = engine_val_from_json(r->arena, &doc, 0, &v);
        if (!rc) rc = engine_val_copy(r->arena, &v, o); /* owns everything: the document goes away */
    }
    json_doc_free(&doc);
    return rc == EDDY_ERR_NOMEM ? rc : EDDY_OK;
}

/* ---- the table ------------------------------------------------------------------------------ */

static int chk_text(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_TEXT); return EDDY_OK; }
static int chk_int(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_INT); return EDDY_OK; }
static int chk_float(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_FLOAT); return EDDY_OK; }
static int chk_bool(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_BOOL); return EDDY_OK; }
static int chk_first(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)e; (void)el; *res = n ? a[0] : engine_type(ENGINE_ANY); return EDDY_OK; }
static int chk_any(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) { (void)a; (void)n; (void)e; (void)el; *res = engine_type(ENGINE_ANY); return EDDY_OK; }
static int chk_list_text(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) {
    (void)a; (void)n; (void)e; (void)el;
    *res = (engine_type_t){ENGINE_LIST, ENGINE_TEXT, ENGINE_ANY, 0};
    return EDDY_OK;
}
static int chk_list_of_first(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) {
    (void)n; (void)e; (void)el;
    *res = (engine_type_t){ENGINE_LIST, a[0].kind == ENGINE_LIST || a[0].kind == ENGINE_SET ? a[0].elem : ENGINE_ANY, ENGINE_ANY, 0};
    return EDDY_OK;
}
static int chk_elem(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) {
    (void)n; (void)e; (void)el;
    *res = engine_type(a[0].kind == ENGINE_LIST || a[0].kind == ENGINE_SET || a[0].kind == ENGINE_MAP ? a[0].elem : ENGINE_ANY);
    return EDDY_OK;
}
static int chk_map_keys(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) {
    (void)n; (void)e; (void)el;
    *res = (engine_type_t){ENGINE_LIST, a[0].kind == ENGINE_MAP ? a[0].key : ENGINE_ANY, ENGINE_ANY, 0};
    return EDDY_OK;
}
static int chk_map_values(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) {
    (void)n; (void)e; (void)el;
    *res = (engine_type_t){ENGINE_LIST, a[0].kind == ENGINE_MAP ? a[0].elem : ENGINE_ANY, ENGINE_ANY, 0};
    return EDDY_OK;
}
static int chk_common(const engine_type_t *a, int n, engine_type_t *res, char *e, size_t el) {
    /* coalesce, greatest, least: the first known argument type, with int widened to float when
     * both occur. */
    (void)e; (void)el;
    *res = engine_type(ENGINE_ANY);
    for (int i = 0; i < n; i++) {
        if (a[i].kind == ENGINE_ANY || a[i].kind == ENGINE_NULL) continue;
        if (res->kind == ENGINE_ANY) *res = a[i];
        else if (res->kind == ENGINE_INT && a[i].kind == ENGINE_FLOAT) *res = a[i];
    }
    return EDDY_OK;
}

#define F(name, mn, mx, sig, chk, fn, nn) {name, mn, mx, sig, chk, fn, nn, false}
const func_entry_t engine_func_table_strings[] = {
    F("lower", 1, 1, "t", chk_text, f_lower, true),
    F("upper", 1, 1, "t", chk_text, f_upper, true),
    F("length", 1, 1, "a", chk_int, f_length, true),
    F("char_length", 1, 1, "t", chk_int, f_length, true),
    F("trim", 1, 2, "tt", chk_text, f_trim, true),
    F("ltrim", 1, 2, "tt", chk_text, f_ltrim, true),
    F("rtrim", 1, 2, "tt", chk_text, f_rtrim, true),
    F("substring", 2, 3, "tii", chk_text, f_substring, true),
    F("substr", 2, 3, "tii", chk_text, f_substring, true),
    F("left", 2, 2, "ti", chk_text, f_left, true),
    F("right", 2, 2, "ti", chk_text, f_right, true),
    F("concat", 1, -1, "a", chk_text, f_concat, false),
    F("concat_ws", 2, -1, "ta", chk_text, f_concat_ws, false),
    F("replace", 3, 3, "ttt", chk_text, f_replace, true),
    F("split", 2, 2, "tt", chk_list_text, f_split, true),
    F("starts_with", 2, 2, "tt", chk_bool, f_starts_with, true),
    F("ends_with", 2, 2, "tt", chk_bool, f_ends_with, true),
    F("strpos", 2, 2, "tt", chk_int, f_strpos, true),
    F("lpad", 2, 3, "tit", chk_text, f_lpad, true),
    F("rpad", 2, 3, "tit", chk_text, f_rpad, true),
    F("reverse", 1, 1, "t", chk_text, f_reverse, true),
    F("regexp_like", 2, 2, "tt", chk_bool, f_regexp_like, true),
    F("regexp_replace", 3, 3, "ttt", chk_text, f_regexp_replace, true),
    F("coalesce", 1, -1, "a", chk_common, f_coalesce, false),
    F("ifnull", 2, 2, "aa", chk_common, f_coalesce, false),
    F("nullif", 2, 2, "aa", chk_first, f_nullif, false),
    F("greatest", 1, -1, "a", chk_common, f_greatest, false),
    F("least", 1, -1, "a", chk_common, f_least, false),
    F("abs", 1, 1, "n", chk_first, f_abs, true),
    F("round", 1, 2, "ni", chk_first, f_round, true),
    F("floor", 1, 1, "n", chk_int, f_floor, true),
    F("ceil", 1, 1, "n", chk_int, f_ceil, true),
    F("ceiling", 1, 1, "n", chk_int, f_ceil, true),
    F("sqrt", 1, 1, "n", chk_float, f_sqrt, true),
    F("ln", 1, 1, "n", chk_float, f_ln, true),
    F("log10", 1, 1, "n", chk_float, f_log10, true),
    F("exp", 1, 1, "n", chk_float, f_exp, true),
    F("power", 2, 2, "nn", chk_float, f_power, true),
    F("pow", 2, 2, "nn", chk_float, f_power, true),
    F("sign", 1, 1, "n", chk_int, f_sign, true),
    F("size", 1, 1, "c", chk_int, f_size, true),
    F("cardinality", 1, 1, "c", chk_int, f_size, true),
    F("array_contains", 2, 2, "ca", chk_bool, f_array_contains, true),
    F("element_at", 2, 2, "ca", chk_elem, f_element_at, true),
    F("map_keys", 1, 1, "m", chk_map_keys, f_map_keys, true),
    F("map_values", 1, 1, "m", chk_map_values, f_map_values, true),
    F("array_join", 2, 2, "lt", chk_text, f_array_join, true),
    F("array_sort", 1, 1, "l", chk_list_of_first, f_array_sort, true),
    F("array_distinct", 1, 1, "l", chk_list_of_first, f_array_distinct, true),
    F("to_json", 1, 1, "a", chk_text, f_to_json, false),
    F("parse_json", 1, 1, "t", chk_any, f_parse_json, true),
    {NULL, 0, 0, NULL, NULL, NULL, false, false},
};
