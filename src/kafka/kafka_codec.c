/* kafka: the schema tables generated from kafka_msg.h, and the one codec that walks them.
 *
 * Classic encoding: strings are i16-length-prefixed (-1 null), bytes and records i32, arrays an
 * i32 count (-1 null). Flexible encoding (KIP-482): compact strings, bytes and arrays carry an
 * unsigned varint of length+1 (0 null), and every struct ends with tagged fields
 * (count, then tag, size, data each). */
#include <stddef.h>

#include "kafka/kafka_int.h"

/* ---- the schema tables ----------------------------------------------------------------------- */

#define KAFKA_KT_BOOL .type = KT_BOOL
#define KAFKA_KT_INT8 .type = KT_INT8
#define KAFKA_KT_INT16 .type = KT_INT16
#define KAFKA_KT_INT32 .type = KT_INT32
#define KAFKA_KT_INT64 .type = KT_INT64
#define KAFKA_KT_UUID .type = KT_UUID
#define KAFKA_KT_STRING .type = KT_STRING
#define KAFKA_KT_BYTES .type = KT_BYTES
#define KAFKA_KT_RECORDS .type = KT_RECORDS
#define KAFKA_KT_ARRAY_INT32 .type = KT_ARRAY_INT32
#define KAFKA_KT_ARRAY_INT64 .type = KT_ARRAY_INT64
#define KAFKA_KT_ARRAY_STRING .type = KT_ARRAY_STRING
#define KAFKA_KT_ARRAY(Sub) .type = KT_ARRAY, .sub = &kafka_schema_##Sub
#define KAFKA_KT_STRUCT(Sub) .type = KT_STRUCT, .sub = &kafka_schema_##Sub

#define NULLABLE(v) .nullable = true, .null_lo = (v)
#define DEFAULT(x) .dflt = (x)
#define TAGGED(t) .tagged = true, .tag = (t)

#define KAFKA_TABLE_FIELD(M, type, fname, first, last, ...) \
    {.name = #fname, KAFKA_KT_##type, .lo = (first), .hi = (last), \
     .offset = offsetof(kafka_##M##_t, fname), __VA_ARGS__},
#define KAFKA_TABLE_DEFINE(M)                                                              \
    static const kafka_field_t kafka_fields_##M[] = {KAFKA_##M(KAFKA_TABLE_FIELD, M)};     \
    const kafka_schema_t kafka_schema_##M = {#M, sizeof(kafka_##M##_t),                    \
                                             EDDY_ARRAY_LEN(kafka_fields_##M), kafka_fields_##M};
KAFKA_ALL_MESSAGES(KAFKA_TABLE_DEFINE)

/* ---- output ------------------------------------------------------------------------------------ */

void kafka_out_init(kafka_out_t *o, size_t initial_cap) {
    memset(o, 0, sizeof *o);
    wr_init(&o->w, initial_cap);
}

void kafka_out_reset(kafka_out_t *o) {
    wr_reset(&o->w);
    o->nsplices = 0;
    o->ext_bytes = 0;
}

void kafka_out_free(kafka_out_t *o) {
    wr_free(&o->w);
    eddy_free(o->splices);
    memset(o, 0, sizeof *o);
}

static void out_splice(kafka_out_t *o, const void *ext, int32_t len) {
    if (o->nsplices == o->capsplices) {
        size_t cap = o->capsplices ? o->capsplices * 2 : 8;
        kafka_splice_t *s = eddy_realloc(o->splices, cap * sizeof *s);
        if (!s) {
            o->w.err = EDDY_ERR_NOMEM;
            return;
        }
        o->splices = s;
        o->capsplices = cap;
    }
    o->splices[o->nsplices++] = (kafka_splice_t){o->w.len, ext, len};
    o->ext_bytes += len;
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static inline bool field_in(const kafka_field_t *f, int v) { return v >= f->lo && v <= f->hi; }
static inline bool field_nullable(const kafka_field_t *f, int v) { return f->nullable && v >= f->null_lo; }

char *kafka_str_dup(arena_t *a, kafka_str_t s) {
    if (s.len < 0) return NULL;
    return arena_strndup(a, s.ptr ? s.ptr : "", (size_t)s.len);
}

void *kafka_array_alloc(arena_t *a, size_t n, size_t size) {
    if (n == 0) return NULL;
    void *p = arena_alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

static void field_set_default(const kafka_field_t *f, void *msg) {
    char *p = (char *)msg + f->offset;
    switch (f->type) {
    case KT_BOOL: *(bool *)p = f->dflt != 0; break;
    case KT_INT8: *(int8_t *)p = (int8_t)f->dflt; break;
    case KT_INT16: *(int16_t *)p = (int16_t)f->dflt; break;
    case KT_INT32: *(int32_t *)p = (int32_t)f->dflt; break;
    case KT_INT64: *(int64_t *)p = f->dflt; break;
    case KT_UUID: memset(p, 0, sizeof(kafka_uuid_t)); break;
    case KT_STRING:
        *(kafka_str_t *)p = f->nullable ? (kafka_str_t){NULL, -1} : (kafka_str_t){"", 0};
        break;
    case KT_BYTES: *(kafka_bytes_t *)p = (kafka_bytes_t){NULL, 0}; break;
    case KT_RECORDS: *(kafka_records_t *)p = (kafka_records_t){NULL, 0, NULL}; break;
    case KT_STRUCT: kafka_struct_init(f->sub, 0, p); break;
    default: /* arrays: empty */
        *(int32_t *)p = 0;
        *(void **)(p + offsetof(KAFKA_ARRAY_OF(char), items)) = NULL;
        break;
    }
}

void kafka_struct_init(const kafka_schema_t *s, int version, void *msg) {
    (void)version;
    memset(msg, 0, s->size);
    for (uint16_t i = 0; i < s->nfields; i++) field_set_default(&s->fields[i], msg);
}

/* The fewest bytes one struct of version can take on the wire, to bound array counts by the
 * input's size before anything is allocated. */
static size_t schema_min_size(const kafka_schema_t *s, int v, bool flex, int depth) {
    size_t n = flex ? 1 : 0;
    if (depth > 8) return n;
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kafka_field_t *f = &s->fields[i];
        if (!field_in(f, v) || (f->tagged && flex)) continue;
        switch (f->type) {
        case KT_BOOL: case KT_INT8: n += 1; break;
        case KT_INT16: n += 2; break;
        case KT_INT32: n += 4; break;
        case KT_INT64: n += 8; break;
        case KT_UUID: n += 16; break;
        case KT_STRING: n += flex ? 1 : 2; break;
        case KT_STRUCT: n += schema_min_size(f->sub, v, flex, depth + 1); break;
        default: n += flex ? 1 : 4; break; /* bytes, records, arrays */
        }
    }
    return n;
}

/* ---- decoding ---------------------------------------------------------------------------------- */

/* Reads a length: classic i16/i32 (-1 null), or compact uvarint of length+1 (0 null).
 * Returns -1 for null, -2 on error (the reader is failed). */
static int64_t read_len(rd_t *r, bool flex, bool wide) {
    if (flex) {
        uint32_t n = rd_uvarint32(r);
        if (!rd_ok(r)) return -2;
        return (int64_t)n - 1;
    }
    int64_t n = wide ? rd_i32(r) : rd_i16(r);
    if (!rd_ok(r)) return -2;
    if (n < -1) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return -2;
    }
    return n;
}

/* A string, bytes or records payload of a given length, as a view. */
static const uint8_t *read_payload(rd_t *r, const kafka_field_t *f, int v, int64_t n, int32_t *len) {
    if (n == -2) return NULL;
    if (n == -1) {
        if (!field_nullable(f, v)) rd_fail(r, EDDY_ERR_CORRUPT);
        *len = -1;
        return NULL;
    }
    if ((uint64_t)n > rd_remaining(r)) {
        rd_fail(r, EDDY_ERR_NEED_MORE);
        return NULL;
    }
    *len = (int32_t)n;
    return rd_bytes(r, (size_t)n);
}

static int decode_struct(const kafka_schema_t *s, int v, bool flex, rd_t *r, arena_t *a, void *msg,
                         int depth);

static int32_t read_array_count(rd_t *r, const kafka_field_t *f, int v, bool flex, size_t elem_min) {
    int64_t n = read_len(r, flex, true);
    if (n == -2) return 0;
    if (n == -1) {
        if (!field_nullable(f, v)) rd_fail(r, EDDY_ERR_CORRUPT);
        return -1;
    }
    if (elem_min == 0) elem_min = 1;
    if ((uint64_t)n > rd_remaining(r) / elem_min) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return 0;
    }
    return (int32_t)n;
}

static void decode_field(const kafka_field_t *f, int v, bool flex, rd_t *r, arena_t *a, void *msg, int depth) {
    char *p = (char *)msg + f->offset;
    switch (f->type) {
    case KT_BOOL: *(bool *)p = rd_u8(r) != 0; break;
    case KT_INT8: *(int8_t *)p = rd_i8(r); break;
    case KT_INT16: *(int16_t *)p = rd_i16(r); break;
    case KT_INT32: *(int32_t *)p = rd_i32(r); break;
    case KT_INT64: *(int64_t *)p = rd_i64(r); break;
    case KT_UUID: {
        const uint8_t *b = rd_bytes(r, 16);
        if (b) memcpy(p, b, 16);
        break;
    }
    case KT_STRING: {
        kafka_str_t *s = (kafka_str_t *)p;
        s->ptr = (const char *)read_payload(r, f, v, read_len(r, flex, false), &s->len);
        break;
    }
    case KT_BYTES: {
        kafka_bytes_t *b = (kafka_bytes_t *)p;
        b->ptr = read_payload(r, f, v, read_len(r, flex, true), &b->len);
        break;
    }
    case KT_RECORDS: {
        kafka_records_t *rec = (kafka_records_t *)p;
        rec->ext = NULL;
        rec->ptr = read_payload(r, f, v, read_len(r, flex, true), &rec->len);
        break;
    }
    case KT_STRUCT: decode_struct(f->sub, v, flex, r, a, p, depth + 1); break;
    default: {
        size_t elem_min, elem_size;
        switch (f->type) {
        case KT_ARRAY_INT32: elem_min = elem_size = 4; break;
        case KT_ARRAY_INT64: elem_min = elem_size = 8; break;
        case KT_ARRAY_STRING: elem_min = flex ? 1 : 2; elem_size = sizeof(kafka_str_t); break;
        default: elem_min = schema_min_size(f->sub, v, flex, 0); elem_size = f->sub->size; break;
        }
        KAFKA_ARRAY_OF(char) *arr = (void *)p;
        arr->count = read_array_count(r, f, v, flex, elem_min);
        arr->items = NULL;
        if (arr->count <= 0) break;
        arr->items = kafka_array_alloc(a, (size_t)arr->count, elem_size);
        if (!arr->items) {
            rd_fail(r, EDDY_ERR_NOMEM);
            arr->count = 0;
            break;
        }
        for (int32_t i = 0; i < arr->count && rd_ok(r); i++) {
            char *e = arr->items + (size_t)i * elem_size;
            switch (f->type) {
            case KT_ARRAY_INT32: *(int32_t *)e = rd_i32(r); break;
            case KT_ARRAY_INT64: *(int64_t *)e = rd_i64(r); break;
            case KT_ARRAY_STRING: {
                kafka_str_t *s = (kafka_str_t *)e;
                kafka_field_t one = {.type = KT_STRING};
                s->ptr = (const char *)read_payload(r, &one, v, read_len(r, flex, false), &s->len);
                break;
            }
            default: decode_struct(f->sub, v, flex, r, a, e, depth + 1); break;
            }
        }
        break;
    }
    }
}

static void decode_tagged(const kafka_schema_t *s, int v, rd_t *r, arena_t *a, void *msg, int depth) {
    uint32_t ntags = rd_uvarint32(r);
    for (uint32_t t = 0; t < ntags && rd_ok(r); t++) {
        uint32_t tag = rd_uvarint32(r);
        uint32_t size = rd_uvarint32(r);
        if (!rd_ok(r)) return;
        if (size > rd_remaining(r)) {
            rd_fail(r, EDDY_ERR_NEED_MORE);
            return;
        }
        const uint8_t *data = rd_bytes(r, size);
        for (uint16_t i = 0; i < s->nfields; i++) {
            const kafka_field_t *f = &s->fields[i];
            if (!f->tagged || f->tag != (int)tag || !field_in(f, v)) continue;
            rd_t sub = rd_init(data, size);
            decode_field(f, v, true, &sub, a, msg, depth);
            if (!rd_ok(&sub)) rd_fail(r, sub.err == EDDY_ERR_NOMEM ? EDDY_ERR_NOMEM : EDDY_ERR_CORRUPT);
            break;
        }
    }
}

static int decode_struct(const kafka_schema_t *s, int v, bool flex, rd_t *r, arena_t *a, void *msg,
                         int depth) {
    kafka_struct_init(s, v, msg);
    if (depth > 16) { /* schemas nest at most 4 deep; this only guards against a bad table */
        rd_fail(r, EDDY_ERR_CORRUPT);
        return r->err;
    }
    for (uint16_t i = 0; i < s->nfields && rd_ok(r); i++) {
        const kafka_field_t *f = &s->fields[i];
        if (!field_in(f, v) || f->tagged) continue; /* tagged ones come at the end */
        decode_field(f, v, flex, r, a, msg, depth);
    }
    if (flex && rd_ok(r)) decode_tagged(s, v, r, a, msg, depth);
    return r->err;
}

int kafka_decode(const kafka_schema_t *s, int version, bool flexible, rd_t *r, arena_t *a, void *msg) {
    return decode_struct(s, version, flexible, r, a, msg, 0);
}

/* ---- encoding ---------------------------------------------------------------------------------- */

static void write_len(kafka_out_t *o, bool flex, bool wide, int64_t n) {
    if (flex) wr_uvarint(&o->w, (uint64_t)(n + 1));
    else if (wide) wr_i32(&o->w, (int32_t)n);
    else wr_i16(&o->w, (int16_t)n);
}

static void write_payload(kafka_out_t *o, const kafka_field_t *f, int v, bool flex, bool wide,
                          const void *ptr, int32_t len) {
    if (len < 0 && !field_nullable(f, v)) len = 0; /* a null where the version has none: empty */
    if (!wide && len > INT16_MAX) {
        o->w.err = EDDY_ERR_TOO_LARGE;
        return;
    }
    write_len(o, flex, wide, len);
    if (len > 0) wr_bytes(&o->w, ptr, (size_t)len);
}

static void encode_struct(const kafka_schema_t *s, int v, bool flex, const void *msg, kafka_out_t *o);

static void encode_field(const kafka_field_t *f, int v, bool flex, const void *msg, kafka_out_t *o) {
    const char *p = (const char *)msg + f->offset;
    switch (f->type) {
    case KT_BOOL: wr_u8(&o->w, *(const bool *)p ? 1 : 0); break;
    case KT_INT8: wr_i8(&o->w, *(const int8_t *)p); break;
    case KT_INT16: wr_i16(&o->w, *(const int16_t *)p); break;
    case KT_INT32: wr_i32(&o->w, *(const int32_t *)p); break;
    case KT_INT64: wr_i64(&o->w, *(const int64_t *)p); break;
    case KT_UUID: wr_bytes(&o->w, p, 16); break;
    case KT_STRING: {
        const kafka_str_t *s = (const kafka_str_t *)p;
        write_payload(o, f, v, flex, false, s->ptr, s->len);
        break;
    }
    case KT_BYTES: {
        const kafka_bytes_t *b = (const kafka_bytes_t *)p;
        write_payload(o, f, v, flex, true, b->ptr, b->len);
        break;
    }
    case KT_RECORDS: {
        const kafka_records_t *rec = (const kafka_records_t *)p;
        if (rec->ext && rec->len > 0) {
            write_len(o, flex, true, rec->len);
            out_splice(o, rec->ext, rec->len);
        } else {
            write_payload(o, f, v, flex, true, rec->ptr, rec->len);
        }
        break;
    }
    case KT_STRUCT: encode_struct(f->sub, v, flex, p, o); break;
    default: {
        const KAFKA_ARRAY_OF(const char) *arr = (const void *)p;
        int32_t count = arr->count;
        if (count < 0 && !field_nullable(f, v)) count = 0;
        write_len(o, flex, true, count);
        for (int32_t i = 0; i < count; i++) {
            switch (f->type) {
            case KT_ARRAY_INT32: wr_i32(&o->w, ((const int32_t *)arr->items)[i]); break;
            case KT_ARRAY_INT64: wr_i64(&o->w, ((const int64_t *)arr->items)[i]); break;
            case KT_ARRAY_STRING: {
                const kafka_str_t *s = &((const kafka_str_t *)arr->items)[i];
                kafka_field_t one = {.type = KT_STRING};
                write_payload(o, &one, v, flex, false, s->ptr, s->len);
                break;
            }
            default: encode_struct(f->sub, v, flex, arr->items + (size_t)i * f->sub->size, o); break;
            }
        }
        break;
    }
    }
}

/* Whether a tagged field holds something other than its default (only then is it written). */
static bool field_is_default(const kafka_field_t *f, const void *msg) {
    const char *p = (const char *)msg + f->offset;
    switch (f->type) {
    case KT_BOOL: return *(const bool *)p == (f->dflt != 0);
    case KT_INT8: return *(const int8_t *)p == f->dflt;
    case KT_INT16: return *(const int16_t *)p == f->dflt;
    case KT_INT32: return *(const int32_t *)p == f->dflt;
    case KT_INT64: return *(const int64_t *)p == f->dflt;
    case KT_STRING: return ((const kafka_str_t *)p)->len <= 0;
    case KT_BYTES: return ((const kafka_bytes_t *)p)->len <= 0;
    case KT_UUID: case KT_RECORDS: case KT_STRUCT: return true; /* never written tagged */
    default: return *(const int32_t *)p <= 0;
    }
}

static void encode_tagged(const kafka_schema_t *s, int v, const void *msg, kafka_out_t *o) {
    uint32_t n = 0;
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kafka_field_t *f = &s->fields[i];
        if (f->tagged && field_in(f, v) && !field_is_default(f, msg)) n++;
    }
    wr_uvarint(&o->w, n);
    if (!n) return;
    kafka_out_t tmp;
    kafka_out_init(&tmp, 64);
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kafka_field_t *f = &s->fields[i];
        if (!f->tagged || !field_in(f, v) || field_is_default(f, msg)) continue;
        kafka_out_reset(&tmp);
        encode_field(f, v, true, msg, &tmp);
        if (!wr_ok(&tmp.w)) o->w.err = tmp.w.err;
        wr_uvarint(&o->w, (uint64_t)f->tag);
        wr_uvarint(&o->w, tmp.w.len);
        wr_bytes(&o->w, tmp.w.buf, tmp.w.len);
    }
    kafka_out_free(&tmp);
}

static void encode_struct(const kafka_schema_t *s, int v, bool flex, const void *msg, kafka_out_t *o) {
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kafka_field_t *f = &s->fields[i];
        if (!field_in(f, v) || f->tagged) continue;
        encode_field(f, v, flex, msg, o);
    }
    if (flex) encode_tagged(s, v, msg, o);
}

void kafka_encode(const kafka_schema_t *s, int version, bool flexible, const void *msg, kafka_out_t *o) {
    encode_struct(s, version, flexible, msg, o);
}
