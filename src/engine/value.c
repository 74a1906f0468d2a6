/* Typed values: names, ordering, hashing, copies, collections and the binary state encoding.
 * JSON conversions and casts live in value_json.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_val.h"

static const char *const kind_names[ENGINE_KIND_COUNT] = {
    [ENGINE_NULL] = "null", [ENGINE_BOOL] = "boolean", [ENGINE_INT] = "bigint", [ENGINE_FLOAT] = "double",
    [ENGINE_TEXT] = "text", [ENGINE_BLOB] = "blob", [ENGINE_TIMESTAMP] = "timestamp", [ENGINE_DATE] = "date",
    [ENGINE_UUID] = "uuid", [ENGINE_LIST] = "list", [ENGINE_SET] = "set", [ENGINE_MAP] = "map",
    [ENGINE_JSON] = "json", [ENGINE_ANY] = "any",
};

const char *engine_kind_name(int kind) {
    return kind >= 0 && kind < ENGINE_KIND_COUNT ? kind_names[kind] : "?";
}

static const char *scalar_name(uint8_t kind, uint8_t bits) {
    if (kind == ENGINE_INT) return bits == 8 ? "tinyint" : bits == 16 ? "smallint" : bits == 32 ? "int" : "bigint";
    if (kind == ENGINE_FLOAT) return bits == 32 ? "float" : bits == 0 ? "decimal" : "double";
    return engine_kind_name(kind);
}

const char *engine_type_str(engine_type_t t, char *out, size_t n) {
    if (t.kind == ENGINE_LIST || t.kind == ENGINE_SET)
        snprintf(out, n, "%s<%s>", engine_kind_name(t.kind), scalar_name(t.elem, 64));
    else if (t.kind == ENGINE_MAP)
        snprintf(out, n, "map<%s, %s>", scalar_name(t.key, 64), scalar_name(t.elem, 64));
    else
        snprintf(out, n, "%s", scalar_name(t.kind, t.bits));
    return out;
}

static const struct {
    const char *name;
    uint8_t kind, bits;
} scalar_types[] = {
    {"boolean", ENGINE_BOOL, 0},   {"tinyint", ENGINE_INT, 8},     {"smallint", ENGINE_INT, 16},
    {"int", ENGINE_INT, 32},       {"bigint", ENGINE_INT, 64},     {"varint", ENGINE_INT, 64},
    {"counter", ENGINE_INT, 64},   {"float", ENGINE_FLOAT, 32},    {"double", ENGINE_FLOAT, 64},
    {"decimal", ENGINE_FLOAT, 0},  {"text", ENGINE_TEXT, 0},       {"varchar", ENGINE_TEXT, 0},
    {"ascii", ENGINE_TEXT, 0},     {"inet", ENGINE_TEXT, 0},       {"blob", ENGINE_BLOB, 0},
    {"timestamp", ENGINE_TIMESTAMP, 0}, {"date", ENGINE_DATE, 0},  {"uuid", ENGINE_UUID, 0},
    {"timeuuid", ENGINE_UUID, 0},  {"json", ENGINE_JSON, 0},       {"any", ENGINE_ANY, 0},
};

static bool name_eq(const char *s, size_t n, const char *name) {
    size_t m = strlen(name);
    if (m != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return false;
    }
    return true;
}

static void trim(const char **s, size_t *n) {
    while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

static int scalar_parse(const char *s, size_t n, uint8_t *kind, uint8_t *bits) {
    trim(&s, &n);
    for (size_t i = 0; i < EDDY_ARRAY_LEN(scalar_types); i++)
        if (name_eq(s, n, scalar_types[i].name)) {
            *kind = scalar_types[i].kind;
            *bits = scalar_types[i].bits;
            return EDDY_OK;
        }
    /* Nested collections (list<frozen<list<text>>>) are held as dynamic elements. */
    const char *lt = memchr(s, '<', n);
    if (lt && s[n - 1] == '>') {
        *kind = ENGINE_ANY;
        *bits = 0;
        return EDDY_OK;
    }
    return EDDY_ERR_INVALID;
}

int engine_type_parse(const char *s, size_t n, engine_type_t *out) {
    trim(&s, &n);
    engine_type_t t = {ENGINE_ANY, ENGINE_ANY, ENGINE_ANY, 64};
    const char *lt = memchr(s, '<', n);
    if (!lt) {
        if (scalar_parse(s, n, &t.kind, &t.bits) != EDDY_OK) return EDDY_ERR_INVALID;
        *out = t;
        return EDDY_OK;
    }
    if (s[n - 1] != '>') return EDDY_ERR_INVALID;
    size_t head = (size_t)(lt - s);
    const char *inner = lt + 1;
    size_t inner_n = n - head - 2;
    if (name_eq(s, head, "frozen")) return engine_type_parse(inner, inner_n, out);
    uint8_t bits;
    if (name_eq(s, head, "list") || name_eq(s, head, "set")) {
        t.kind = name_eq(s, head, "list") ? ENGINE_LIST : ENGINE_SET;
        if (scalar_parse(inner, inner_n, &t.elem, &bits) != EDDY_OK) return EDDY_ERR_INVALID;
    } else if (name_eq(s, head, "map")) {
        /* The comma that splits key and value is the first one at nesting depth 0. */
        int depth = 0;
        size_t comma = inner_n;
        for (size_t i = 0; i < inner_n; i++) {
            if (inner[i] == '<') depth++;
            else if (inner[i] == '>') depth--;
            else if (inner[i] == ',' && depth == 0) { comma = i; break; }
        }
        if (comma == inner_n) return EDDY_ERR_INVALID;
        t.kind = ENGINE_MAP;
        if (scalar_parse(inner, comma, &t.key, &bits) != EDDY_OK ||
            scalar_parse(inner + comma + 1, inner_n - comma - 1, &t.elem, &bits) != EDDY_OK)
            return EDDY_ERR_INVALID;
    } else if (name_eq(s, head, "tuple")) {
        t.kind = ENGINE_LIST; /* tuples are carried as lists of dynamic values */
    } else {
        return EDDY_ERR_INVALID;
    }
    *out = t;
    return EDDY_OK;
}

/* ---- order, equality, hash ------------------------------------------------------------------ */

static int rank(uint8_t kind) {
    /* Numbers of both kinds share one rank so that they interleave by value. */
    return kind == ENGINE_FLOAT ? ENGINE_INT : kind;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, EDDY_MIN(an, bn));
    if (c) return c;
    return an < bn ? -1 : an > bn;
}

static int cmp_num(const engine_val_t *a, const engine_val_t *b) {
    if (a->kind == ENGINE_INT && b->kind == ENGINE_INT) return a->i < b->i ? -1 : a->i > b->i;
    double x = a->kind == ENGINE_INT ? (double)a->i : a->f;
    double y = b->kind == ENGINE_INT ? (double)b->i : b->f;
    /* NaN sorts after every number and equal to itself, as Cassandra orders doubles. */
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    if (x < y) return -1;
    if (x > y) return 1;
    return (a->kind > b->kind) - (a->kind < b->kind); /* 1 before 1.0: ties broken by kind */
}

static int json_cmp(const engine_val_t *a, const engine_val_t *b);

int engine_val_cmp(const engine_val_t *a, const engine_val_t *b) {
    int ra = rank(a->kind), rb = rank(b->kind);
    if (ra != rb) return ra < rb ? -1 : 1;
    switch (a->kind) {
    case ENGINE_NULL: return 0;
    case ENGINE_BOOL: return (int)a->b - (int)b->b;
    case ENGINE_INT:
    case ENGINE_FLOAT: return cmp_num(a, b);
    case ENGINE_TIMESTAMP:
    case ENGINE_DATE: return a->i < b->i ? -1 : a->i > b->i;
    case ENGINE_TEXT:
    case ENGINE_BLOB: return cmp_bytes(a->s, a->len, b->s, b->len);
    case ENGINE_UUID: return memcmp(a->s, b->s, 16);
    case ENGINE_LIST:
    case ENGINE_SET:
    case ENGINE_MAP: {
        uint32_t na = a->kind == ENGINE_MAP ? 2 * a->len : a->len;
        uint32_t nb = b->kind == ENGINE_MAP ? 2 * b->len : b->len;
        for (uint32_t i = 0; i < na && i < nb; i++) {
            int c = engine_val_cmp(&a->items[i], &b->items[i]);
            if (c) return c;
        }
        return na < nb ? -1 : na > nb;
    }
    case ENGINE_JSON: return json_cmp(a, b);
    default: return 0;
    }
}

bool engine_val_eq(const engine_val_t *a, const engine_val_t *b) {
    return a->kind == b->kind && engine_val_cmp(a, b) == 0;
}

/* JSON objects compare by their compact text: rare (only when grouping by a raw object). */
static int json_cmp(const engine_val_t *a, const engine_val_t *b) {
    wr_t x, y;
    wr_init(&x, 64);
    wr_init(&y, 64);
    json_write_node(&x, a->json->doc, a->json->node);
    json_write_node(&y, b->json->doc, b->json->node);
    int c = cmp_bytes((const char *)x.buf, x.len, (const char *)y.buf, y.len);
    wr_free(&x);
    wr_free(&y);
    return c;
}

uint64_t engine_val_hash(const engine_val_t *v) {
    uint64_t h = (uint64_t)v->kind * 0x9e3779b97f4a7c15ull;
    switch (v->kind) {
    case ENGINE_NULL: return h;
    case ENGINE_BOOL: return h ^ (v->b ? 0x51ull : 0x17ull);
    case ENGINE_INT:
    case ENGINE_TIMESTAMP:
    case ENGINE_DATE: return h ^ hash64(&v->i, sizeof v->i);
    case ENGINE_FLOAT: {
        double f = v->f == 0 ? 0 : v->f; /* -0.0 and 0.0 are equal */
        if (isnan(f)) f = NAN;
        return h ^ hash64(&f, sizeof f);
    }
    case ENGINE_TEXT:
    case ENGINE_BLOB: return h ^ hash64(v->s, v->len);
    case ENGINE_UUID: return h ^ hash64(v->s, 16);
    case ENGINE_LIST:
    case ENGINE_SET:
    case ENGINE_MAP: {
        uint32_t n = v->kind == ENGINE_MAP ? 2 * v->len : v->len;
        for (uint32_t i = 0; i < n; i++) h = (h ^ engine_val_hash(&v->items[i])) * 0x100000001b3ull;
        return h;
    }
    case ENGINE_JSON: {
        wr_t w;
        wr_init(&w, 64);
        json_write_node(&w, v->json->doc, v->json->node);
        h ^= hash64(w.buf, w.len);
        wr_free(&w);
        return h;
    }
    default: return h;
    }
}

/* ---- copies and collections ----------------------------------------------------------------- */

static int json_take_apart(arena_t *a, const json_doc_t *d, uint32_t node, engine_val_t *out);

int engine_val_copy(arena_t *a, const engine_val_t *v, engine_val_t *out) {
    *out = *v;
    switch (v->kind) {
    case ENGINE_TEXT:
    case ENGINE_BLOB:
    case ENGINE_UUID: {
        size_t n = v->kind == ENGINE_UUID ? 16 : v->len;
        if (n == 0) { out->s = ""; return EDDY_OK; }
        char *s = arena_memdup(a, v->s, n);
        if (!s) return EDDY_ERR_NOMEM;
        out->s = s;
        return EDDY_OK;
    }
    case ENGINE_LIST:
    case ENGINE_SET:
    case ENGINE_MAP: {
        uint32_t n = v->kind == ENGINE_MAP ? 2 * v->len : v->len;
        if (n == 0) { out->items = NULL; return EDDY_OK; }
        engine_val_t *items = arena_alloc(a, n * sizeof *items);
        if (!items) return EDDY_ERR_NOMEM;
        for (uint32_t i = 0; i < n; i++) {
            int rc = engine_val_copy(a, &v->items[i], &items[i]);
            if (rc) return rc;
        }
        out->items = items;
        return EDDY_OK;
    }
    case ENGINE_JSON: return json_take_apart(a, v->json->doc, v->json->node, out);
    default: return EDDY_OK;
    }
}

static int json_take_apart(arena_t *a, const json_doc_t *d, uint32_t node, engine_val_t *out) {
    const json_node_t *n = json_node(d, node);
    if (n->type != JSON_OBJECT) {
        engine_val_t tmp;
        int rc = engine_val_from_json(a, d, node, &tmp);
        if (rc) return rc;
        return engine_val_copy(a, &tmp, out);
    }
    engine_val_t *items = n->count ? arena_alloc(a, 2 * n->count * sizeof *items) : NULL;
    if (n->count && !items) return EDDY_ERR_NOMEM;
    uint32_t i = node + 1;
    for (uint32_t k = 0; k < n->count; k++) {
        int rc = engine_val_from_json(a, d, i, &items[2 * k]);
        if (!rc) rc = engine_val_copy(a, &items[2 * k], &items[2 * k]);
        if (!rc) rc = json_take_apart(a, d, i + 1, &items[2 * k + 1]);
        if (rc) return rc;
        i = json_next(d, i + 1);
    }
    return engine_val_make_coll(a, ENGINE_MAP, items, n->count, out);
}

typedef struct {
    const engine_val_t *v;
    uint32_t idx;
} sort_item_t;

static int pair_cmp(const void *x, const void *y) {
    const sort_item_t *a = x, *b = y;
    int c = engine_val_cmp(a->v, b->v);
    if (c) return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx; /* stable: the later duplicate stays last */
}

int engine_val_make_coll(arena_t *a, uint8_t kind, const engine_val_t *items, uint32_t n, engine_val_t *out) {
    engine_val_t v = {.kind = kind, .len = n};
    uint32_t width = kind == ENGINE_MAP ? 2 : 1;
    if (n == 0) { *out = v; return EDDY_OK; }
    engine_val_t *dst = arena_alloc(a, (size_t)n * width * sizeof *dst);
    if (!dst) return EDDY_ERR_NOMEM;
    if (kind == ENGINE_LIST) {
        memcpy(dst, items, (size_t)n * sizeof *dst);
        v.items = dst;
        *out = v;
        return EDDY_OK;
    }
    sort_item_t *order = eddy_malloc((size_t)n * sizeof *order);
    if (!order) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) order[i] = (sort_item_t){&items[i * width], i};
    qsort(order, n, sizeof *order, pair_cmp);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* For duplicates keep the last one given (map: last value wins). */
        if (i + 1 < n && engine_val_eq(order[i].v, order[i + 1].v)) continue;
        memcpy(&dst[m * width], order[i].v, width * sizeof *dst);
        m++;
    }
    eddy_free(order);
    v.len = m;
    v.items = dst;
    *out = v;
    return EDDY_OK;
}

/* ---- binary encoding ------------------------------------------------------------------------ */

#define ENC_MAX_DEPTH 32
#define ENC_MAX_ITEMS (1u << 24)

static void encode_f64(wr_t *w, double f) {
    if (f == 0) f = 0; /* one encoding for -0.0 and 0.0 */
    if (isnan(f)) f = NAN;
    uint64_t u;
    memcpy(&u, &f, sizeof u);
    wr_u64(w, u);
}

void engine_val_encode(wr_t *w, const engine_val_t *v) {
    if (v->kind == ENGINE_JSON) {
        /* Objects are stored taken apart, as maps, so that decoding needs no document. */
        arena_t a;
        arena_init(&a, 4096);
        engine_val_t m;
        if (json_take_apart(&a, v->json->doc, v->json->node, &m) != EDDY_OK) w->err = EDDY_ERR_NOMEM;
        else engine_val_encode(w, &m);
        arena_free(&a);
        return;
    }
    wr_u8(w, v->kind);
    switch (v->kind) {
    case ENGINE_NULL: break;
    case ENGINE_BOOL: wr_u8(w, v->b ? 1 : 0); break;
    case ENGINE_INT:
    case ENGINE_TIMESTAMP:
    case ENGINE_DATE: wr_varint(w, v->i); break;
    case ENGINE_FLOAT: encode_f64(w, v->f); break;
    case ENGINE_TEXT:
    case ENGINE_BLOB:
        wr_uvarint(w, v->len);
        wr_bytes(w, v->s, v->len);
        break;
    case ENGINE_UUID: wr_bytes(w, v->s, 16); break;
    case ENGINE_LIST:
    case ENGINE_SET:
    case ENGINE_MAP: {
        uint32_t n = v->kind == ENGINE_MAP ? 2 * v->len : v->len;
        wr_uvarint(w, v->len);
        for (uint32_t i = 0; i < n; i++) engine_val_encode(w, &v->items[i]);
        break;
    }
    default: break;
    }
}

static int decode_at(rd_t *r, arena_t *a, engine_val_t *out, int depth) {
    if (depth > ENC_MAX_DEPTH) return EDDY_ERR_CORRUPT;
    uint8_t kind = rd_u8(r);
    engine_val_t v = {.kind = kind};
    switch (kind) {
    case ENGINE_NULL: break;
    case ENGINE_BOOL: {
        uint8_t b = rd_u8(r);
        if (b > 1) return EDDY_ERR_CORRUPT;
        v.b = b;
        break;
    }
    case ENGINE_INT:
    case ENGINE_TIMESTAMP:
    case ENGINE_DATE: v.i = rd_varint64(r); break;
    case ENGINE_FLOAT: {
        uint64_t u = rd_u64(r);
        memcpy(&v.f, &u, sizeof u);
        break;
    }
    case ENGINE_TEXT:
    case ENGINE_BLOB: {
        uint64_t n = rd_uvarint64(r);
        if (!rd_ok(r) || n > rd_remaining(r)) return EDDY_ERR_CORRUPT;
        const uint8_t *p = rd_bytes(r, (size_t)n);
        char *s = n ? arena_memdup(a, p, (size_t)n) : (char *)"";
        if (!s) return EDDY_ERR_NOMEM;
        v.len = (uint32_t)n;
        v.s = s;
        break;
    }
    case ENGINE_UUID: {
        const uint8_t *p = rd_bytes(r, 16);
        if (!p) return EDDY_ERR_CORRUPT;
        char *s = arena_memdup(a, p, 16);
        if (!s) return EDDY_ERR_NOMEM;
        v.s = s;
        break;
    }
    case ENGINE_LIST:
    case ENGINE_SET:
    case ENGINE_MAP: {
        uint64_t n = rd_uvarint64(r);
        uint64_t items = kind == ENGINE_MAP ? 2 * n : n;
        /* Each item takes at least one byte: a count larger than what is left is corrupt. */
        if (!rd_ok(r) || n > ENC_MAX_ITEMS || items > rd_remaining(r)) return EDDY_ERR_CORRUPT;
        engine_val_t *it = NULL;
        if (items) {
            it = arena_alloc(a, (size_t)items * sizeof *it);
            if (!it) return EDDY_ERR_NOMEM;
        }
        for (uint64_t i = 0; i < items; i++) {
            int rc = decode_at(r, a, &it[i], depth + 1);
            if (rc) return rc;
        }
        /* Sets and maps must come back sorted and unique, or lookups would break. */
        uint32_t width = kind == ENGINE_MAP ? 2 : 1;
        if (kind != ENGINE_LIST)
            for (uint64_t i = 1; i < n; i++)
                if (engine_val_cmp(&it[(i - 1) * width], &it[i * width]) >= 0) return EDDY_ERR_CORRUPT;
        v.len = (uint32_t)n;
        v.items = it;
        break;
    }
    default: return EDDY_ERR_CORRUPT;
    }
    if (!rd_ok(r)) return EDDY_ERR_CORRUPT;
    *out = v;
    return EDDY_OK;
}

int engine_val_decode(rd_t *r, arena_t *a, engine_val_t *out) { return decode_at(r, a, out, 0); }
