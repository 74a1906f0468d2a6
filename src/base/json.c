/* A JSON parser into a flat node array, and JSON output helpers.
 *
 * Why our own: the pipelines parse every event's JSON value (hundreds of MB/s per core), and
 * Debian's C JSON libraries (jansson, json-c, cJSON) allocate per value and run 5-10x slower.
 * This parser allocates only its node array (reused across documents), keeps strings and
 * numbers as views into the input, and decodes escapes only when asked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/base.h"

#define JSON_MAX_DEPTH 512

void json_doc_init(json_doc_t *doc) { memset(doc, 0, sizeof *doc); }

void json_doc_free(json_doc_t *doc) {
    eddy_free(doc->nodes);
    memset(doc, 0, sizeof *doc);
}

typedef struct {
    json_doc_t *doc;
    const char *start;
    const char *p;
    const char *end;
} json_parser_t;

static int json_fail(json_parser_t *ps, const char *msg) {
    json_doc_t *d = ps->doc;
    snprintf(d->errmsg, sizeof d->errmsg, "%s", msg);
    d->errpos = (size_t)(ps->p - ps->start);
    return EDDY_ERR_CORRUPT;
}

static json_node_t *json_push(json_parser_t *ps, json_type_t type) {
    json_doc_t *d = ps->doc;
    if (d->count == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 64;
        json_node_t *n = eddy_realloc(d->nodes, (size_t)cap * sizeof *n);
        if (!n) return NULL;
        d->nodes = n;
        d->cap = cap;
    }
    json_node_t *n = &d->nodes[d->count];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    d->count++;
    n->end = d->count;
    return n;
}

static inline void skip_ws(json_parser_t *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

/* Finds the closing quote of a string whose first content byte is at p. Sets *esc when a
 * backslash occurs. Returns NULL (after setting the error) for a control character or no end. */
static const char *scan_string(json_parser_t *ps, const char *p, bool *esc) {
    const char *end = ps->end;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        /* bytes <= 0x1f: unsigned compare through min */
        __m128i is_ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)), is_ctl);
        int mask = _mm_movemask_epi8(hit);
        if (!mask) {
            p += 16;
            continue;
        }
        p += __builtin_ctz((unsigned)mask);
        if (*p == '"') return p;
        if (*p == '\\') {
            *esc = true;
            if (end - p < 2) break;
            p += 2;
            continue;
        }
        ps->p = p;
        json_fail(ps, "control character in string");
        return NULL;
    }
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p;
        if (c == '\\') {
            *esc = true;
            p += 2;
            continue;
        }
        if (c < 0x20) {
            ps->p = p;
            json_fail(ps, "control character in string");
            return NULL;
        }
        p++;
    }
    ps->p = end;
    json_fail(ps, "unterminated string");
    return NULL;
}

static int parse_string(json_parser_t *ps) {
    bool esc = false;
    const char *q = scan_string(ps, ps->p + 1, &esc);
    if (!q) return EDDY_ERR_CORRUPT;
    if ((size_t)(q - ps->p - 1) > UINT32_MAX) return json_fail(ps, "string too long");
    json_node_t *n = json_push(ps, JSON_STRING);
    if (!n) return EDDY_ERR_NOMEM;
    n->text = ps->p + 1;
    n->len = (uint32_t)(q - ps->p - 1);
    n->has_escape = esc;
    ps->p = q + 1;
    return EDDY_OK;
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_number(json_parser_t *ps) {
    const char *p = ps->p, *end = ps->end, *start = p;
    bool integer = true;
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') p++;
    else if (p < end && is_digit(*p)) while (p < end && is_digit(*p)) p++;
    else return json_fail(ps, "invalid number");
    if (p < end && *p == '.') {
        integer = false;
        p++;
        if (p >= end || !is_digit(*p)) { ps->p = p; return json_fail(ps, "invalid number"); }
        while (p < end && is_digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !is_digit(*p)) { ps->p = p; return json_fail(ps, "invalid number"); }
        while (p < end && is_digit(*p)) p++;
    }
    json_node_t *n = json_push(ps, JSON_NUMBER);
    if (!n) return EDDY_ERR_NOMEM;
    n->text = start;
    n->len = (uint32_t)(p - start);
    n->is_integer = integer;
    ps->p = p;
    return EDDY_OK;
}

static int parse_literal(json_parser_t *ps, const char *word, size_t n, json_type_t type) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return json_fail(ps, "invalid literal");
    if (!json_push(ps, type)) return EDDY_ERR_NOMEM;
    ps->p += n;
    return EDDY_OK;
}

/* Parses one scalar, or opens a container (pushed on the stack). */
static int parse_value_start(json_parser_t *ps, uint32_t *stack, int *depth) {
    if (ps->p >= ps->end) return json_fail(ps, "unexpected end of input");
    switch (*ps->p) {
    case '"': return parse_string(ps);
    case '{':
    case '[': {
        if (*depth >= JSON_MAX_DEPTH) return json_fail(ps, "nesting too deep");
        json_node_t *n = json_push(ps, *ps->p == '{' ? JSON_OBJECT : JSON_ARRAY);
        if (!n) return EDDY_ERR_NOMEM;
        stack[(*depth)++] = ps->doc->count - 1;
        ps->p++;
        return EDDY_OK;
    }
    case 't': return parse_literal(ps, "true", 4, JSON_TRUE);
    case 'f': return parse_literal(ps, "false", 5, JSON_FALSE);
    case 'n': return parse_literal(ps, "null", 4, JSON_NULL);
    default:
        if (*ps->p == '-' || is_digit(*ps->p)) return parse_number(ps);
        return json_fail(ps, "unexpected character");
    }
}

int json_parse(json_doc_t *doc, const char *text, size_t len) {
    json_parser_t ps = {doc, text, text, text + len};
    uint32_t stack[JSON_MAX_DEPTH];
    int depth = 0, rc;
    doc->count = 0;
    doc->errmsg[0] = 0;
    doc->errpos = 0;
    skip_ws(&ps);
    /* expect: 0 = a value, 1 = after a value inside a container, 2 = a key (or '}' right after '{') */
    if ((rc = parse_value_start(&ps, stack, &depth)) != EDDY_OK) return rc;
    while (depth > 0) {
        json_node_t *top = &doc->nodes[stack[depth - 1]];
        bool is_obj = top->type == JSON_OBJECT;
        bool empty = doc->count == stack[depth - 1] + 1;
        skip_ws(&ps);
        if (ps.p >= ps.end) return json_fail(&ps, "unexpected end of input");
        char c = *ps.p;
        if (c == (is_obj ? '}' : ']')) {
            ps.p++;
            top->end = doc->count;
            depth--;
            continue;
        }
        if (!empty) {
            if (c != ',') return json_fail(&ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
            ps.p++;
            skip_ws(&ps);
        }
        top->count++;
        if (top->count == 0) return json_fail(&ps, "too many members");
        if (is_obj) {
            if (ps.p >= ps.end || *ps.p != '"') return json_fail(&ps, "expected a string key");
            if ((rc = parse_string(&ps)) != EDDY_OK) return rc;
            skip_ws(&ps);
            if (ps.p >= ps.end || *ps.p != ':') return json_fail(&ps, "expected ':'");
            ps.p++;
            skip_ws(&ps);
        }
        if ((rc = parse_value_start(&ps, stack, &depth)) != EDDY_OK) return rc;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) return json_fail(&ps, "trailing characters after the value");
    return EDDY_OK;
}

int64_t json_object_get(const json_doc_t *d, uint32_t obj, const char *key, size_t keylen) {
    const json_node_t *o = &d->nodes[obj];
    if (o->type != JSON_OBJECT) return -1;
    uint32_t i = obj + 1;
    for (uint32_t k = 0; k < o->count; k++) {
        uint32_t v = i + 1;
        if (json_string_eq(&d->nodes[i], key, keylen)) return v;
        i = d->nodes[v].end;
    }
    return -1;
}

static int hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

static size_t utf8_put(char *out, uint32_t cp) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

long json_string_unescape(const json_node_t *n, char *out) {
    const char *p = n->text, *end = n->text + n->len;
    if (!n->has_escape) {
        memcpy(out, p, n->len);
        return (long)n->len;
    }
    char *o = out;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (end - p < 2) return -1;
        char c = p[1];
        p += 2;
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            if (end - p < 4) return -1;
            int cp = hex4(p);
            if (cp < 0) return -1;
            p += 4;
            uint32_t code = (uint32_t)cp;
            if (code >= 0xd800 && code < 0xdc00) {
                /* a high surrogate must be followed by \u low surrogate */
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return -1;
                int lo = hex4(p + 2);
                if (lo < 0xdc00 || lo > 0xdfff) return -1;
                p += 6;
                code = 0x10000 + ((code - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
            } else if (code >= 0xdc00 && code < 0xe000) {
                return -1;
            }
            o += utf8_put(o, code); /* never longer than the 6+ escape bytes it replaces */
            break;
        }
        default: return -1;
        }
    }
    return (long)(o - out);
}

bool json_string_eq(const json_node_t *n, const char *s, size_t len) {
    if (n->type != JSON_STRING) return false;
    if (!n->has_escape) return n->len == len && memcmp(n->text, s, len) == 0;
    if (len > n->len) return false;
    char small[256];
    char *buf = n->len <= sizeof small ? small : eddy_malloc(n->len);
    if (!buf) return false;
    long m = json_string_unescape(n, buf);
    bool eq = m == (long)len && memcmp(buf, s, len) == 0;
    if (buf != small) eddy_free(buf);
    return eq;
}

int json_number_i64(const json_node_t *n, int64_t *out) {
    if (n->type != JSON_NUMBER || !n->is_integer) return EDDY_ERR_INVALID;
    const char *p = n->text, *end = n->text + n->len;
    bool neg = *p == '-';
    if (neg) p++;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; p < end; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (limit - d) / 10) return EDDY_ERR_RANGE;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return EDDY_OK;
}

int json_number_f64(const json_node_t *n, double *out) {
    if (n->type != JSON_NUMBER) return EDDY_ERR_INVALID;
    char small[64];
    char *buf = n->len < sizeof small ? small : eddy_malloc((size_t)n->len + 1);
    if (!buf) return EDDY_ERR_NOMEM;
    memcpy(buf, n->text, n->len);
    buf[n->len] = 0;
    double v = strtod(buf, NULL);
    if (buf != small) eddy_free(buf);
    if (isinf(v)) return EDDY_ERR_RANGE;
    *out = v;
    return EDDY_OK;
}

/* ---- output ---- */

void json_write_string(wr_t *w, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX: reserve once, then write directly. */
    uint8_t *d = wr_reserve(w, len * 6 + 2);
    if (!d) return;
    uint8_t *o = d;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = (uint8_t)hex[c >> 4];
            *o++ = (uint8_t)hex[c & 15];
        }
    }
    *o++ = '"';
    wr_advance(w, (size_t)(o - d));
}

void json_write_i64(wr_t *w, int64_t v) { wr_fmt(w, "%lld", (long long)v); }

void json_write_f64(wr_t *w, double v) {
    if (!isfinite(v)) {
        wr_str(w, "null");
        return;
    }
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
    wr_str(w, buf);
}

void json_write_node(wr_t *w, const json_doc_t *d, uint32_t i) {
    const json_node_t *n = &d->nodes[i];
    switch ((json_type_t)n->type) {
    case JSON_NULL: wr_str(w, "null"); return;
    case JSON_TRUE: wr_str(w, "true"); return;
    case JSON_FALSE: wr_str(w, "false"); return;
    case JSON_NUMBER: wr_bytes(w, n->text, n->len); return;
    case JSON_STRING:
        wr_u8(w, '"');
        wr_bytes(w, n->text, n->len); /* already valid JSON string content */
        wr_u8(w, '"');
        return;
    case JSON_ARRAY:
    case JSON_OBJECT: {
        bool obj = n->type == JSON_OBJECT;
        wr_u8(w, obj ? '{' : '[');
        uint32_t c = i + 1;
        for (uint32_t k = 0; k < n->count; k++) {
            if (k) wr_u8(w, ',');
            if (obj) {
                json_write_node(w, d, c);
                wr_u8(w, ':');
                c = d->nodes[c].end;
            }
            json_write_node(w, d, c);
            c = d->nodes[c].end;
        }
        wr_u8(w, obj ? '}' : ']');
        return;
    }
    }
}
