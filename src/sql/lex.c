/* The lexer shared by CQL and pipeline SQL, the keyword table, and the decoding of literal forms
 * that need more than a copy (durations, uuids).
 *
 * One pass over the bytes classifies tokens and records where they are; values are decoded later,
 * only for the tokens an AST node keeps. Words are looked up in a sorted keyword table. The forms
 * follow Cassandra's Lexer.g: 'strings' with '' escapes and $$pg-style$$ strings, "quoted names"
 * with "" escapes, integers, floats, 0x blobs, uuids, durations (1h30m, P1DT2H, PT5M, P2W,
 * P0001-02-03T04:05:06), ?, and comments (--, //, block). A leading '-' is always its own token:
 * the parser folds it into a following number, so "x-1" means x minus 1 in both dialects. */
#include <stdio.h>

#include "sql/sql_int.h"

/* ---- keywords -------------------------------------------------------------------------------- */

typedef struct {
    const char *text;
    unsigned flags;
    size_t len;
} kw_entry_t;

static const kw_entry_t kw_table[KW__COUNT] = {
    {"", 0, 0},
#define SQL_KW_ENTRY(id, text, flags) {text, flags, sizeof(text) - 1},
    SQL_KEYWORDS(SQL_KW_ENTRY)
#undef SQL_KW_ENTRY
};

#define KW_MAX_LEN 12

const char *sql_kw_text(sql_kw_t kw) { return kw < KW__COUNT ? kw_table[kw].text : ""; }
unsigned sql_kw_flags(sql_kw_t kw) { return kw < KW__COUNT ? kw_table[kw].flags : 0; }

/* Binary search over the table, which SQL_KEYWORDS lists in alphabetical order (a unit test
 * checks it). */
sql_kw_t sql_kw_lookup(const char *s, size_t len) {
    if (len < 2 || len > KW_MAX_LEN) return KW_NONE;
    char low[KW_MAX_LEN + 1];
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    low[len] = 0;
    int lo = 1, hi = KW__COUNT - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(low, kw_table[mid].text);
        if (c == 0) return (sql_kw_t)mid;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return KW_NONE;
}

/* FNV-1a of the lower-cased word, which it also writes to low (len <= KW_MAX_LEN). */
static inline uint32_t kw_hash(const char *s, size_t len, char *low) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        c = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        low[i] = c;
        h = (h ^ (uint8_t)c) * 16777619u;
    }
    return h;
}

void sql_kw_table_init(uint16_t tab[SQL_KW_TAB]) {
    memset(tab, 0, SQL_KW_TAB * sizeof *tab);
    char low[KW_MAX_LEN + 1];
    for (int k = 1; k < KW__COUNT; k++) {
        const char *t = kw_table[k].text;
        uint32_t h = kw_hash(t, strlen(t), low) & (SQL_KW_TAB - 1);
        while (tab[h]) h = (h + 1) & (SQL_KW_TAB - 1);
        tab[h] = (uint16_t)k;
    }
}

sql_kw_t sql_kw_lookup_fast(const uint16_t tab[SQL_KW_TAB], const char *s, size_t len) {
    if (len < 2 || len > KW_MAX_LEN) return KW_NONE;
    char low[KW_MAX_LEN + 1];
    uint32_t h = kw_hash(s, len, low) & (SQL_KW_TAB - 1);
    for (uint16_t k; (k = tab[h]); h = (h + 1) & (SQL_KW_TAB - 1)) {
        if (kw_table[k].len == len && memcmp(kw_table[k].text, low, len) == 0) return (sql_kw_t)k;
    }
    return KW_NONE;
}

bool sql_is_reserved(const char *name, size_t len) {
    return (sql_kw_flags(sql_kw_lookup(name, len)) & KWF_CQL) != 0;
}

/* ---- character classes ----------------------------------------------------------------------- */

static inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline bool is_alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static inline bool is_word(unsigned char c) { return is_alpha(c) || is_digit(c) || c == '_'; }
static inline bool is_hex(unsigned char c) { return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'f'); }

/* 8-4-4-4-12 hex digits at s (n bytes available), not followed by a word character. */
static bool uuid_at(const char *s, size_t n) {
    static const uint8_t dash[] = {8, 13, 18, 23};
    if (n < 36) return false;
    for (size_t i = 0, d = 0; i < 36; i++) {
        if (d < 4 && i == dash[d]) {
            if (s[i] != '-') return false;
            d++;
        } else if (!is_hex((unsigned char)s[i])) {
            return false;
        }
    }
    return n == 36 || !is_word((unsigned char)s[36]);
}

/* ---- durations ------------------------------------------------------------------------------- */

/* Unit order for the compact form; each unit may appear once, largest first (Cassandra's
 * Duration.Builder enforces the same). */
enum { DU_YEAR, DU_MONTH, DU_WEEK, DU_DAY, DU_HOUR, DU_MINUTE, DU_SECOND, DU_MILLI, DU_MICRO, DU_NANO };

/* Length of the unit at s (0 if none) and which it is. */
static size_t duration_unit(const char *s, size_t n, int *unit) {
    if (n == 0) return 0;
    char c0 = (char)(s[0] | 32), c1 = n > 1 ? (char)(s[1] | 32) : 0;
    if (c0 == 'm' && c1 == 'o') { *unit = DU_MONTH; return 2; }
    if (c0 == 'm' && c1 == 's') { *unit = DU_MILLI; return 2; }
    if (c0 == 'u' && c1 == 's') { *unit = DU_MICRO; return 2; }
    if (c0 == 'n' && c1 == 's') { *unit = DU_NANO; return 2; }
    if ((unsigned char)s[0] == 0xC2 && n > 2 && (unsigned char)s[1] == 0xB5 && (s[2] | 32) == 's') {
        *unit = DU_MICRO; /* µs */
        return 3;
    }
    switch (c0) {
    case 'y': *unit = DU_YEAR; return 1;
    case 'w': *unit = DU_WEEK; return 1;
    case 'd': *unit = DU_DAY; return 1;
    case 'h': *unit = DU_HOUR; return 1;
    case 'm': *unit = DU_MINUTE; return 1;
    case 's': *unit = DU_SECOND; return 1;
    default: return 0;
    }
}

/* Adds v units to d; false on overflow. */
static bool duration_add(sql_duration_t *d, int unit, uint64_t v) {
    static const int64_t nanos_per[] = {0, 0, 0, 0, 3600000000000LL, 60000000000LL, 1000000000LL,
                                        1000000LL, 1000LL, 1LL};
    int64_t months = d->months, days = d->days;
    switch (unit) {
    case DU_YEAR:
        if (v > INT32_MAX / 12) return false;
        months += (int64_t)v * 12;
        break;
    case DU_MONTH:
        if (v > INT32_MAX) return false;
        months += (int64_t)v;
        break;
    case DU_WEEK:
        if (v > INT32_MAX / 7) return false;
        days += (int64_t)v * 7;
        break;
    case DU_DAY:
        if (v > INT32_MAX) return false;
        days += (int64_t)v;
        break;
    default: {
        int64_t per = nanos_per[unit];
        if (v > (uint64_t)(INT64_MAX / per)) return false;
        int64_t add = (int64_t)v * per;
        if (d->nanos > INT64_MAX - add) return false;
        d->nanos += add;
        return true;
    }
    }
    if (months > INT32_MAX || days > INT32_MAX) return false;
    d->months = (int32_t)months;
    d->days = (int32_t)days;
    return true;
}

/* Reads digits at s[*i] into *v; false if none or overflow. */
static bool read_digits(const char *s, size_t n, size_t *i, uint64_t *v) {
    size_t start = *i;
    uint64_t x = 0;
    while (*i < n && is_digit((unsigned char)s[*i])) {
        unsigned dgt = (unsigned)(s[*i] - '0');
        if (x > (UINT64_MAX - dgt) / 10) return false;
        x = x * 10 + dgt;
        (*i)++;
    }
    *v = x;
    return *i > start;
}

/* Compact form: (digits unit)+ with units in decreasing order. */
static bool duration_compact(const char *s, size_t n, sql_duration_t *d) {
    size_t i = 0;
    int last = -1;
    while (i < n) {
        uint64_t v;
        int unit;
        if (!read_digits(s, n, &i, &v)) return false;
        size_t ul = duration_unit(s + i, n - i, &unit);
        if (!ul || unit <= last) return false;
        i += ul;
        last = unit;
        if (!duration_add(d, unit, v)) return false;
    }
    return last >= 0;
}

/* ISO 8601: P[nY][nM][nW][nD][T[nH][nM][nS]], or the alternative PYYYY-MM-DDThh:mm:ss. */
static bool duration_iso(const char *s, size_t n, sql_duration_t *d) {
    if (n < 2 || s[0] != 'P') return false;
    size_t i = 1;
    if (n == 20 && s[5] == '-') { /* P0001-02-03T04:05:06 */
        static const char shape[] = "P####-##-##T##:##:##";
        for (size_t k = 0; k < 20; k++) {
            if (shape[k] == '#' ? !is_digit((unsigned char)s[k]) : s[k] != shape[k]) return false;
        }
        uint64_t f[6];
        static const uint8_t at[6] = {1, 6, 9, 12, 15, 18}, w[6] = {4, 2, 2, 2, 2, 2};
        for (int k = 0; k < 6; k++) {
            f[k] = 0;
            for (int j = 0; j < w[k]; j++) f[k] = f[k] * 10 + (uint64_t)(s[at[k] + j] - '0');
        }
        return duration_add(d, DU_YEAR, f[0]) && duration_add(d, DU_MONTH, f[1]) &&
               duration_add(d, DU_DAY, f[2]) && duration_add(d, DU_HOUR, f[3]) &&
               duration_add(d, DU_MINUTE, f[4]) && duration_add(d, DU_SECOND, f[5]);
    }
    int last = -1;
    bool any = false, time = false;
    while (i < n) {
        if (s[i] == 'T' && !time) {
            time = true;
            i++;
            if (i == n) return false;
            continue;
        }
        uint64_t v;
        if (!read_digits(s, n, &i, &v) || i == n) return false;
        int unit;
        switch (s[i]) {
        case 'Y': unit = DU_YEAR; break;
        case 'M': unit = time ? DU_MINUTE : DU_MONTH; break;
        case 'W': unit = DU_WEEK; break;
        case 'D': unit = DU_DAY; break;
        case 'H': unit = DU_HOUR; break;
        case 'S': unit = DU_SECOND; break;
        default: return false;
        }
        bool time_unit = unit >= DU_HOUR;
        if (time_unit != time || unit <= last) return false;
        /* Weeks stand alone (PnW), as in Cassandra's grammar. */
        if (unit == DU_WEEK && (any || i + 1 != n)) return false;
        last = unit;
        any = true;
        i++;
        if (!duration_add(d, unit, v)) return false;
    }
    return any;
}

bool sql_duration_parse(const char *s, size_t n, sql_duration_t *out) {
    sql_duration_t d = {0, 0, 0};
    bool neg = n > 0 && s[0] == '-';
    if (neg) {
        s++;
        n--;
    }
    bool ok = n > 0 && (s[0] == 'P' ? duration_iso(s, n, &d) : duration_compact(s, n, &d));
    if (!ok) return false;
    if (neg) {
        d.months = -d.months;
        d.days = -d.days;
        d.nanos = -d.nanos;
    }
    *out = d;
    return true;
}

bool sql_uuid_parse(const char *s, size_t len, uint8_t out[16]) {
    if (len != 36 || !uuid_at(s, len)) return false;
    int k = 0;
    for (size_t i = 0; i < 36;) {
        if (s[i] == '-') {
            i++;
            continue;
        }
        unsigned hi = (unsigned)(s[i] | 32), lo = (unsigned)(s[i + 1] | 32);
        hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
        lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return true;
}

/* ---- the lexer ------------------------------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t n;
    size_t i;
    uint32_t line;
    size_t line_start;
    sql_toks_t *toks;
    uint32_t max_tokens;
    const uint16_t *kwtab;
    sql_error_t *err;
} lexer_t;

/* Implemented in parse.c: formats an error with its position and context. */
void sql_error_fill(sql_error_t *err, sql_error_kind_t kind, const char *text, size_t len, size_t off,
                    size_t toklen, uint32_t line, const char *msg);

static int lex_fail(lexer_t *lx, size_t off, size_t toklen, uint32_t line, sql_error_kind_t kind,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int lex_fail(lexer_t *lx, size_t off, size_t toklen, uint32_t line, sql_error_kind_t kind,
                    const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sql_error_fill(lx->err, kind, lx->s, lx->n, off, toklen, line, msg);
    return kind == SQL_ERR_NOMEM ? EDDY_ERR_NOMEM : EDDY_ERR_INVALID;
}

static int emit(lexer_t *lx, sql_tok_type_t type, uint16_t kw, size_t start, uint32_t line, size_t line_start) {
    sql_toks_t *t = lx->toks;
    if (t->n >= lx->max_tokens)
        return lex_fail(lx, start, 1, line, SQL_ERR_LIMIT, "too many tokens (the limit is %u)",
                        lx->max_tokens);
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        sql_token_t *v = eddy_realloc(t->v, (size_t)cap * sizeof *v);
        if (!v) return lex_fail(lx, start, 1, line, SQL_ERR_NOMEM, "out of memory");
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (sql_token_t){(uint16_t)type, kw, (uint32_t)start, (uint32_t)(lx->i - start), line,
                                 (uint32_t)(start - line_start + 1)};
    return EDDY_OK;
}

/* Advances over s[from..to) counting newlines. */
static void count_lines(lexer_t *lx, size_t from, size_t to) {
    const char *p = lx->s + from, *end = lx->s + to;
    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        lx->line++;
        lx->line_start = (size_t)(p - lx->s) + 1;
        p++;
    }
}

/* A quoted run ending at q ('"' or '\''), where two q's stand for one. Returns the index after the
 * closing quote, or 0 if unterminated. */
static size_t scan_quoted(const lexer_t *lx, size_t i, char q) {
    for (;;) {
        const char *e = memchr(lx->s + i, q, lx->n - i);
        if (!e) return 0;
        i = (size_t)(e - lx->s) + 1;
        if (i < lx->n && lx->s[i] == q) {
            i++;
            continue;
        }
        return i;
    }
}

/* digits at i (the first is a digit): integer, float, duration, uuid, or hex. */
static int lex_number(lexer_t *lx, size_t start, uint32_t line, size_t ls) {
    const char *s = lx->s;
    size_t n = lx->n, i = start;
    if (uuid_at(s + i, n - i)) {
        lx->i = i + 36;
        return emit(lx, TK_UUID, 0, start, line, ls);
    }
    if (s[i] == '0' && i + 1 < n && (s[i + 1] | 32) == 'x') {
        i += 2;
        while (i < n && is_hex((unsigned char)s[i])) i++;
        if (i < n && is_word((unsigned char)s[i])) goto bad;
        lx->i = i;
        return emit(lx, TK_HEX, 0, start, line, ls);
    }
    while (i < n && is_digit((unsigned char)s[i])) i++;
    sql_tok_type_t type = TK_INTEGER;
    if (i < n && s[i] == '.' && !(i + 1 < n && s[i + 1] == '.')) {
        type = TK_FLOAT;
        i++;
        while (i < n && is_digit((unsigned char)s[i])) i++;
    }
    if (i < n && (s[i] | 32) == 'e') {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        if (j < n && is_digit((unsigned char)s[j])) {
            type = TK_FLOAT;
            i = j;
            while (i < n && is_digit((unsigned char)s[i])) i++;
        }
    }
    if (i < n && (is_word((unsigned char)s[i]) || (unsigned char)s[i] == 0xC2)) {
        if (type != TK_INTEGER) goto bad;
        /* A duration: digits and units, up to the end of the word. */
        size_t j = i;
        while (j < n && (is_word((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80)) j++;
        sql_duration_t d;
        if (!sql_duration_parse(s + start, j - start, &d)) {
            i = j;
            goto bad;
        }
        lx->i = j;
        return emit(lx, TK_DURATION, 0, start, line, ls);
    }
    lx->i = i;
    return emit(lx, type, 0, start, line, ls);
bad:
    while (i < n && is_word((unsigned char)s[i])) i++;
    return lex_fail(lx, start, i - start, line, SQL_ERR_SYNTAX, "invalid number or duration '%.*s'",
                    (int)EDDY_MIN(i - start, 40), s + start);
}

/* A word: identifier, keyword, an ISO duration (P...), or a uuid that starts with a letter. */
static int lex_word(lexer_t *lx, size_t start, uint32_t line, size_t ls) {
    const char *s = lx->s;
    size_t n = lx->n, i = start;
    if (is_hex((unsigned char)s[i]) && uuid_at(s + i, n - i)) {
        lx->i = i + 36;
        return emit(lx, TK_UUID, 0, start, line, ls);
    }
    while (i < n && is_word((unsigned char)s[i])) i++;
    if (s[start] == 'P' && i - start >= 3) {
        sql_duration_t d;
        size_t end = i;
        /* The alternative ISO form (P0001-02-03T04:05:06) has '-' and ':' inside the word. */
        if (i - start == 5 && start + 20 <= n && s[i] == '-' &&
            (start + 20 == n || !is_word((unsigned char)s[start + 20])))
            end = start + 20;
        if (sql_duration_parse(s + start, end - start, &d)) {
            lx->i = end;
            return emit(lx, TK_DURATION, 0, start, line, ls);
        }
    }
    lx->i = i;
    sql_kw_t kw = lx->kwtab ? sql_kw_lookup_fast(lx->kwtab, s + start, i - start) : sql_kw_lookup(s + start, i - start);
    return emit(lx, TK_IDENT, (uint16_t)kw, start, line, ls);
}

int sql_lex(const char *text, size_t len, sql_toks_t *toks, uint32_t max_tokens, const uint16_t *kwtab,
            sql_error_t *err) {
    lexer_t lx = {text, len, 0, 1, 0, toks, max_tokens, kwtab, err};
    const char *s = text;
    size_t n = len;
    int rc = EDDY_OK;
    while (rc == EDDY_OK) {
        /* Whitespace and comments. */
        while (lx.i < n) {
            char c = s[lx.i];
            if (c == ' ' || c == '\t' || c == '\r') {
                lx.i++;
            } else if (c == '\n') {
                lx.i++;
                lx.line++;
                lx.line_start = lx.i;
            } else if ((c == '-' || c == '/') && lx.i + 1 < n && s[lx.i + 1] == c) {
                while (lx.i < n && s[lx.i] != '\n' && s[lx.i] != '\r') lx.i++;
            } else if (c == '/' && lx.i + 1 < n && s[lx.i + 1] == '*') {
                size_t at = lx.i;
                uint32_t line = lx.line;
                const char *e = memmem(s + lx.i + 2, n - lx.i - 2, "*/", 2);
                if (!e) return lex_fail(&lx, at, 2, line, SQL_ERR_SYNTAX, "unterminated comment");
                size_t end = (size_t)(e - s) + 2;
                count_lines(&lx, lx.i, end);
                lx.i = end;
            } else {
                break;
            }
        }
        size_t start = lx.i;
        uint32_t line = lx.line;
        size_t ls = lx.line_start;
        if (start >= n) {
            rc = emit(&lx, TK_EOF, 0, start, line, ls);
            break;
        }
        unsigned char c = (unsigned char)s[start];
        char c1 = start + 1 < n ? s[start + 1] : 0;
        if (is_alpha(c)) {
            rc = lex_word(&lx, start, line, ls);
            continue;
        }
        if (is_digit(c)) {
            rc = lex_number(&lx, start, line, ls);
            continue;
        }
        sql_tok_type_t t;
        size_t w = 1;
        switch (c) {
        case '\'':
        case '"': {
            size_t end = scan_quoted(&lx, start + 1, (char)c);
            if (!end)
                return lex_fail(&lx, start, 1, line, SQL_ERR_SYNTAX, c == '\'' ? "unterminated string literal"
                                                                         : "unterminated quoted name");
            count_lines(&lx, start, end);
            lx.i = end;
            rc = emit(&lx, c == '\'' ? TK_STRING : TK_QIDENT, 0, start, line, ls);
            continue;
        }
        case '$': {
            if (c1 != '$') goto unexpected;
            const char *e = start + 2 <= n ? memmem(s + start + 2, n - start - 2, "$$", 2) : NULL;
            if (!e) return lex_fail(&lx, start, 2, line, SQL_ERR_SYNTAX, "unterminated $$ string literal");
            size_t end = (size_t)(e - s) + 2;
            count_lines(&lx, start, end);
            lx.i = end;
            rc = emit(&lx, TK_DSTRING, 0, start, line, ls);
            continue;
        }
        case '(': t = TK_LPAREN; break;
        case ')': t = TK_RPAREN; break;
        case '[': t = TK_LBRACKET; break;
        case ']': t = TK_RBRACKET; break;
        case '{': t = TK_LBRACE; break;
        case '}': t = TK_RBRACE; break;
        case ',': t = TK_COMMA; break;
        case ';': t = TK_SEMI; break;
        case ':': t = TK_COLON; break;
        case '?': t = TK_QMARK; break;
        case '*': t = TK_STAR; break;
        case '/': t = TK_SLASH; break;
        case '%': t = TK_PERCENT; break;
        case '=': t = TK_EQ; break;
        case '.':
            t = TK_DOT;
            if (c1 == '.') t = TK_RANGE, w = 2;
            break;
        case '<':
            t = TK_LT;
            if (c1 == '=') t = TK_LE, w = 2;
            else if (c1 == '>') t = TK_LTGT, w = 2;
            break;
        case '>':
            t = TK_GT;
            if (c1 == '=') t = TK_GE, w = 2;
            break;
        case '!':
            if (c1 != '=') goto unexpected;
            t = TK_NE, w = 2;
            break;
        case '+':
            t = TK_PLUS;
            if (c1 == '=') t = TK_PLUSEQ, w = 2;
            break;
        case '-':
            t = TK_MINUS;
            if (c1 == '=') t = TK_MINUSEQ, w = 2;
            else if (c1 == '>') {
                t = TK_ARROW, w = 2;
                if (start + 2 < n && s[start + 2] == '>') t = TK_ARROW2, w = 3;
            }
            break;
        case '|':
            if (c1 != '|') goto unexpected;
            t = TK_CONCAT, w = 2;
            break;
        default:
            goto unexpected;
        }
        lx.i = start + w;
        rc = emit(&lx, t, 0, start, line, ls);
        continue;
    unexpected:
        if (c >= 0x80) {
            size_t e = start + 1;
            while (e < n && ((unsigned char)s[e] & 0xC0) == 0x80) e++;
            return lex_fail(&lx, start, e - start, line, SQL_ERR_SYNTAX,
                            "unexpected character '%.*s' (names with other than a-z, 0-9 and _ must "
                            "be \"quoted\")", (int)(e - start), s + start);
        }
        return lex_fail(&lx, start, 1, line, SQL_ERR_SYNTAX,
                        c >= 0x20 && c < 0x7f ? "unexpected character '%c'" : "unexpected byte 0x%02x",
                        (unsigned)c);
    }
    return rc;
}
