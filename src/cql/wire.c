/* The native protocol's notation (spec section 3): [string], [bytes], [value], maps, lists,
 * [inet] and [option] types, read from an rd_t and written to a wr_t; and the names of opcodes,
 * consistency levels, error codes and native types. */
#include <strings.h>

#include "cql/cql_int.h"

/* Counts in a body can never exceed the bytes left: each item takes at least min_item bytes.
 * Checking that before allocating keeps a hostile count from asking for gigabytes. */
static bool count_fits(rd_t *r, int64_t count, size_t min_item) {
    if (count < 0 || (uint64_t)count * min_item > rd_remaining(r)) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return false;
    }
    return true;
}

static void *arena_array(rd_t *r, arena_t *a, size_t count, size_t size) {
    if (count == 0) return NULL;
    void *p = arena_alloc(a, count * size);
    if (!p) rd_fail(r, EDDY_ERR_NOMEM);
    return p;
}

eddy_view_t cql_rd_string(rd_t *r) {
    uint16_t n = rd_u16(r);
    return rd_view(r, n);
}

eddy_view_t cql_rd_long_string(rd_t *r) {
    int32_t n = rd_i32(r);
    if (n < 0) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return eddy_view(NULL, 0);
    }
    return rd_view(r, (size_t)n);
}

eddy_view_t cql_rd_short_bytes(rd_t *r) { return cql_rd_string(r); }

cql_value_t cql_rd_bytes(rd_t *r) {
    int32_t n = rd_i32(r);
    if (!rd_ok(r) || n < 0) return cql_value_null();
    const uint8_t *p = rd_bytes(r, (size_t)n);
    if (!p) return cql_value_null();
    return cql_value(p, (size_t)n);
}

cql_value_t cql_rd_value(rd_t *r) {
    int32_t n = rd_i32(r);
    if (!rd_ok(r)) return cql_value_null();
    if (n < CQL_VALUE_UNSET) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return cql_value_null();
    }
    if (n < 0) {
        cql_value_t v = {NULL, n};
        return v;
    }
    const uint8_t *p = rd_bytes(r, (size_t)n);
    if (!p) return cql_value_null();
    return cql_value(p, (size_t)n);
}

void cql_rd_strlist(rd_t *r, arena_t *a, cql_strlist_t *out) {
    out->count = 0;
    out->items = NULL;
    uint16_t n = rd_u16(r);
    if (!count_fits(r, n, 2)) return;
    eddy_view_t *items = arena_array(r, a, n, sizeof *items);
    for (uint16_t i = 0; i < n && rd_ok(r); i++) items[i] = cql_rd_string(r);
    if (!rd_ok(r)) return;
    out->count = n;
    out->items = items;
}

void cql_rd_strmap(rd_t *r, arena_t *a, cql_strmap_t *out) {
    out->count = 0;
    out->items = NULL;
    uint16_t n = rd_u16(r);
    if (!count_fits(r, n, 4)) return;
    cql_kv_t *items = arena_array(r, a, n, sizeof *items);
    for (uint16_t i = 0; i < n && rd_ok(r); i++) {
        items[i].key = cql_rd_string(r);
        items[i].value = cql_rd_string(r);
    }
    if (!rd_ok(r)) return;
    out->count = n;
    out->items = items;
}

void cql_rd_multimap(rd_t *r, arena_t *a, cql_multimap_t *out) {
    out->count = 0;
    out->items = NULL;
    uint16_t n = rd_u16(r);
    if (!count_fits(r, n, 4)) return;
    cql_multimap_entry_t *items = arena_array(r, a, n, sizeof *items);
    for (uint16_t i = 0; i < n && rd_ok(r); i++) {
        items[i].key = cql_rd_string(r);
        cql_rd_strlist(r, a, &items[i].values);
    }
    if (!rd_ok(r)) return;
    out->count = n;
    out->items = items;
}

void cql_rd_bytesmap(rd_t *r, arena_t *a, cql_bytesmap_t *out) {
    out->count = 0;
    out->items = NULL;
    uint16_t n = rd_u16(r);
    if (!count_fits(r, n, 6)) return;
    cql_bytes_kv_t *items = arena_array(r, a, n, sizeof *items);
    for (uint16_t i = 0; i < n && rd_ok(r); i++) {
        items[i].key = cql_rd_string(r);
        items[i].value = cql_rd_bytes(r);
    }
    if (!rd_ok(r)) return;
    out->count = n;
    out->items = items;
}

void cql_rd_inet(rd_t *r, cql_inet_t *out) {
    memset(out, 0, sizeof *out);
    uint8_t n = rd_u8(r);
    if (!rd_ok(r)) return;
    if (n != 4 && n != 16) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return;
    }
    const uint8_t *p = rd_bytes(r, n);
    if (!p) return;
    out->len = n;
    memcpy(out->addr, p, n);
    out->port = rd_i32(r);
}

static cql_type_t *rd_type_depth(rd_t *r, arena_t *a, int depth) {
    if (depth > CQL_TYPE_MAX_DEPTH) {
        rd_fail(r, EDDY_ERR_CORRUPT);
        return NULL;
    }
    uint16_t id = rd_u16(r);
    if (!rd_ok(r)) return NULL;
    cql_type_t *t = arena_alloc(a, sizeof *t);
    if (!t) {
        rd_fail(r, EDDY_ERR_NOMEM);
        return NULL;
    }
    memset(t, 0, sizeof *t);
    t->id = id;
    uint16_t nsub = 0;
    switch (id) {
    case CQL_TYPE_CUSTOM: t->name = cql_rd_string(r); return rd_ok(r) ? t : NULL;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET: nsub = 1; break;
    case CQL_TYPE_MAP: nsub = 2; break;
    case CQL_TYPE_TUPLE:
        nsub = rd_u16(r);
        if (!count_fits(r, nsub, 2)) return NULL;
        break;
    case CQL_TYPE_UDT:
        t->keyspace = cql_rd_string(r);
        t->name = cql_rd_string(r);
        nsub = rd_u16(r);
        if (!count_fits(r, nsub, 4)) return NULL;
        t->fields = arena_array(r, a, nsub, sizeof *t->fields);
        break;
    default:
        if (!cql_type_native_name(id)) {
            rd_fail(r, EDDY_ERR_CORRUPT);
            return NULL;
        }
        return t;
    }
    t->sub = arena_array(r, a, nsub, sizeof *t->sub);
    for (uint16_t i = 0; i < nsub && rd_ok(r); i++) {
        if (id == CQL_TYPE_UDT) t->fields[i] = cql_rd_string(r);
        t->sub[i] = rd_type_depth(r, a, depth + 1);
    }
    if (!rd_ok(r)) return NULL;
    t->count = nsub;
    return t;
}

cql_type_t *cql_rd_type(rd_t *r, arena_t *a) { return rd_type_depth(r, a, 0); }

void cql_rd_values(rd_t *r, arena_t *a, bool with_names, uint16_t *count, cql_value_t **values,
                   eddy_view_t **names) {
    *count = 0;
    *values = NULL;
    *names = NULL;
    uint16_t n = rd_u16(r);
    if (!count_fits(r, n, with_names ? 6 : 4)) return;
    cql_value_t *v = arena_array(r, a, n, sizeof *v);
    eddy_view_t *nm = with_names ? arena_array(r, a, n, sizeof *nm) : NULL;
    for (uint16_t i = 0; i < n && rd_ok(r); i++) {
        if (with_names) nm[i] = cql_rd_string(r);
        v[i] = cql_rd_value(r);
    }
    if (!rd_ok(r)) return;
    *count = n;
    *values = v;
    *names = nm;
}

/* ---- writers -------------------------------------------------------------------------------- */

void cql_wr_string(wr_t *w, const void *s, size_t n) {
    if (n > UINT16_MAX) {
        if (w->err == EDDY_OK) w->err = EDDY_ERR_TOO_LARGE;
        return;
    }
    wr_u16(w, (uint16_t)n);
    wr_bytes(w, s, n);
}

void cql_wr_long_string(wr_t *w, const void *s, size_t n) {
    if (n > INT32_MAX) {
        if (w->err == EDDY_OK) w->err = EDDY_ERR_TOO_LARGE;
        return;
    }
    wr_i32(w, (int32_t)n);
    wr_bytes(w, s, n);
}

void cql_wr_short_bytes(wr_t *w, const void *p, size_t n) { cql_wr_string(w, p, n); }

void cql_wr_bytes(wr_t *w, const void *p, int32_t n) {
    wr_i32(w, n);
    if (n > 0) wr_bytes(w, p, (size_t)n);
}

void cql_wr_strlist(wr_t *w, const cql_strlist_t *l) {
    wr_u16(w, l->count);
    for (uint16_t i = 0; i < l->count; i++) cql_wr_vstring(w, l->items[i]);
}

void cql_wr_strmap(wr_t *w, const cql_strmap_t *m) {
    wr_u16(w, m->count);
    for (uint16_t i = 0; i < m->count; i++) {
        cql_wr_vstring(w, m->items[i].key);
        cql_wr_vstring(w, m->items[i].value);
    }
}

void cql_wr_multimap(wr_t *w, const cql_multimap_t *m) {
    wr_u16(w, m->count);
    for (uint16_t i = 0; i < m->count; i++) {
        cql_wr_vstring(w, m->items[i].key);
        cql_wr_strlist(w, &m->items[i].values);
    }
}

void cql_wr_bytesmap(wr_t *w, const cql_bytesmap_t *m) {
    wr_u16(w, m->count);
    for (uint16_t i = 0; i < m->count; i++) {
        cql_wr_vstring(w, m->items[i].key);
        cql_wr_value(w, m->items[i].value);
    }
}

void cql_wr_inet(wr_t *w, const cql_inet_t *in) {
    wr_u8(w, in->len);
    wr_bytes(w, in->addr, in->len);
    wr_i32(w, in->port);
}

void cql_wr_type(wr_t *w, const cql_type_t *t) {
    wr_u16(w, t->id);
    switch (t->id) {
    case CQL_TYPE_CUSTOM: cql_wr_vstring(w, t->name); return;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET: cql_wr_type(w, t->sub[0]); return;
    case CQL_TYPE_MAP:
        cql_wr_type(w, t->sub[0]);
        cql_wr_type(w, t->sub[1]);
        return;
    case CQL_TYPE_TUPLE:
        wr_u16(w, t->count);
        for (uint16_t i = 0; i < t->count; i++) cql_wr_type(w, t->sub[i]);
        return;
    case CQL_TYPE_UDT:
        cql_wr_vstring(w, t->keyspace);
        cql_wr_vstring(w, t->name);
        wr_u16(w, t->count);
        for (uint16_t i = 0; i < t->count; i++) {
            cql_wr_vstring(w, t->fields[i]);
            cql_wr_type(w, t->sub[i]);
        }
        return;
    default: return;
    }
}

bool cql_type_equal(const cql_type_t *a, const cql_type_t *b) {
    if (a == b) return true;
    if (!a || !b || a->id != b->id || a->count != b->count) return false;
    if (a->id == CQL_TYPE_CUSTOM || a->id == CQL_TYPE_UDT) {
        if (!eddy_view_eq(a->name, b->name)) return false;
    }
    if (a->id == CQL_TYPE_UDT && !eddy_view_eq(a->keyspace, b->keyspace)) return false;
    for (uint16_t i = 0; i < a->count; i++) {
        if (a->id == CQL_TYPE_UDT && !eddy_view_eq(a->fields[i], b->fields[i])) return false;
        if (!cql_type_equal(a->sub[i], b->sub[i])) return false;
    }
    return true;
}

static const char *const native_names[] = {
    [CQL_TYPE_ASCII] = "ascii",       [CQL_TYPE_BIGINT] = "bigint",   [CQL_TYPE_BLOB] = "blob",
    [CQL_TYPE_BOOLEAN] = "boolean",   [CQL_TYPE_COUNTER] = "counter", [CQL_TYPE_DECIMAL] = "decimal",
    [CQL_TYPE_DOUBLE] = "double",     [CQL_TYPE_FLOAT] = "float",     [CQL_TYPE_INT] = "int",
    [CQL_TYPE_TIMESTAMP] = "timestamp", [CQL_TYPE_UUID] = "uuid",     [CQL_TYPE_VARCHAR] = "text",
    [CQL_TYPE_VARINT] = "varint",     [CQL_TYPE_TIMEUUID] = "timeuuid", [CQL_TYPE_INET] = "inet",
    [CQL_TYPE_DATE] = "date",         [CQL_TYPE_TIME] = "time",       [CQL_TYPE_SMALLINT] = "smallint",
    [CQL_TYPE_TINYINT] = "tinyint",   [CQL_TYPE_DURATION] = "duration",
};

const char *cql_type_native_name(uint16_t id) {
    return id < EDDY_ARRAY_LEN(native_names) ? native_names[id] : NULL;
}

/* Collections nested in a collection, tuples and udts are frozen in CQL's type names. */
static void type_format(wr_t *w, const cql_type_t *t, bool qualify, bool nested) {
    const char *native = cql_type_native_name(t->id);
    if (native) {
        wr_str(w, native);
        return;
    }
    bool frozen = nested && t->id != CQL_TYPE_CUSTOM;
    if (frozen) wr_str(w, "frozen<");
    switch (t->id) {
    case CQL_TYPE_CUSTOM: wr_fmt(w, "'%.*s'", (int)t->name.len, (const char *)t->name.ptr); break;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
        wr_str(w, t->id == CQL_TYPE_LIST ? "list<" : "set<");
        type_format(w, t->sub[0], qualify, true);
        wr_str(w, ">");
        break;
    case CQL_TYPE_MAP:
        wr_str(w, "map<");
        type_format(w, t->sub[0], qualify, true);
        wr_str(w, ", ");
        type_format(w, t->sub[1], qualify, true);
        wr_str(w, ">");
        break;
    case CQL_TYPE_TUPLE:
        wr_str(w, "tuple<");
        for (uint16_t i = 0; i < t->count; i++) {
            if (i) wr_str(w, ", ");
            type_format(w, t->sub[i], qualify, true);
        }
        wr_str(w, ">");
        break;
    case CQL_TYPE_UDT:
        if (qualify) wr_fmt(w, "%.*s.", (int)t->keyspace.len, (const char *)t->keyspace.ptr);
        wr_bytes(w, t->name.ptr, t->name.len);
        break;
    default: wr_fmt(w, "unknown(0x%04x)", t->id); break;
    }
    if (frozen) wr_str(w, ">");
}

void cql_type_format(wr_t *w, const cql_type_t *t, bool qualify) { type_format(w, t, qualify, false); }

/* ---- names ---------------------------------------------------------------------------------- */

const char *cql_opcode_name(uint8_t op) {
    static const char *const names[] = {
        [CQL_OP_ERROR] = "ERROR",       [CQL_OP_STARTUP] = "STARTUP",
        [CQL_OP_READY] = "READY",       [CQL_OP_AUTHENTICATE] = "AUTHENTICATE",
        [CQL_OP_OPTIONS] = "OPTIONS",   [CQL_OP_SUPPORTED] = "SUPPORTED",
        [CQL_OP_QUERY] = "QUERY",       [CQL_OP_RESULT] = "RESULT",
        [CQL_OP_PREPARE] = "PREPARE",   [CQL_OP_EXECUTE] = "EXECUTE",
        [CQL_OP_REGISTER] = "REGISTER", [CQL_OP_EVENT] = "EVENT",
        [CQL_OP_BATCH] = "BATCH",       [CQL_OP_AUTH_CHALLENGE] = "AUTH_CHALLENGE",
        [CQL_OP_AUTH_RESPONSE] = "AUTH_RESPONSE", [CQL_OP_AUTH_SUCCESS] = "AUTH_SUCCESS",
    };
    return op < EDDY_ARRAY_LEN(names) && names[op] ? names[op] : "UNKNOWN";
}

static const char *const consistency_names[] = {
    "ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM",
    "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE",
};

const char *cql_consistency_name(uint16_t cl) {
    return cl < EDDY_ARRAY_LEN(consistency_names) ? consistency_names[cl] : "UNKNOWN";
}

int cql_consistency_parse(const char *s, uint16_t *cl) {
    for (uint16_t i = 0; i < EDDY_ARRAY_LEN(consistency_names); i++) {
        if (!strcasecmp(s, consistency_names[i])) {
            *cl = i;
            return EDDY_OK;
        }
    }
    return EDDY_ERR_INVALID;
}

const char *cql_error_name(int32_t code) {
    switch (code) {
    case CQL_ERR_SERVER: return "Server error";
    case CQL_ERR_PROTOCOL: return "Protocol error";
    case CQL_ERR_BAD_CREDENTIALS: return "Bad credentials";
    case CQL_ERR_UNAVAILABLE: return "Unavailable";
    case CQL_ERR_OVERLOADED: return "Overloaded";
    case CQL_ERR_IS_BOOTSTRAPPING: return "Is bootstrapping";
    case CQL_ERR_TRUNCATE: return "Truncate error";
    case CQL_ERR_WRITE_TIMEOUT: return "Write timeout";
    case CQL_ERR_READ_TIMEOUT: return "Read timeout";
    case CQL_ERR_READ_FAILURE: return "Read failure";
    case CQL_ERR_FUNCTION_FAILURE: return "Function failure";
    case CQL_ERR_WRITE_FAILURE: return "Write failure";
    case CQL_ERR_CDC_WRITE_FAILURE: return "CDC write failure";
    case CQL_ERR_CAS_WRITE_UNKNOWN: return "CAS write unknown";
    case CQL_ERR_SYNTAX: return "Syntax error";
    case CQL_ERR_UNAUTHORIZED: return "Unauthorized";
    case CQL_ERR_INVALID: return "Invalid";
    case CQL_ERR_CONFIG: return "Config error";
    case CQL_ERR_ALREADY_EXISTS: return "Already exists";
    case CQL_ERR_UNPREPARED: return "Unprepared";
    default: return "Unknown error";
    }
}

int cql_compression_parse(eddy_view_t name, cql_compression_t *c) {
    if (name.len == 3 && !strncasecmp((const char *)name.ptr, "lz4", 3)) {
        *c = CQL_COMPRESSION_LZ4;
        return EDDY_OK;
    }
    if (name.len == 6 && !strncasecmp((const char *)name.ptr, "snappy", 6)) {
        *c = CQL_COMPRESSION_SNAPPY;
        return EDDY_OK;
    }
    return EDDY_ERR_UNSUPPORTED;
}

const char *cql_compression_name(cql_compression_t c) {
    return c == CQL_COMPRESSION_LZ4 ? "lz4" : c == CQL_COMPRESSION_SNAPPY ? "snappy" : "none";
}

bool cql_rows_next_value(cql_rows_cursor_t *c, cql_value_t *v) {
    *v = cql_rd_bytes(&c->r);
    return rd_ok(&c->r);
}
