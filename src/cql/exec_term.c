/* Terms: what a literal, a bind marker, a collection literal or a function call such as now() or
 * fromJson(?) means as a value of a receiver's type, in the native protocol's serialized form.
 * Constants are converted by the store (Cassandra's literal rules and messages); bound values
 * are validated; collections are built element by element. Also the uuid generators behind
 * now() and uuid(). */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <strings.h>

#include "cql/cql_int.h"

/* ---- uuids ---------------------------------------------------------------------------------- */

/* Version 1 uuids: 100 ns ticks since 1582-10-15, made unique within the process by counting
 * past the clock when two are asked for in the same tick. */
static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid_last_ticks;
static uint8_t uuid_node[8];
static bool uuid_node_set;

void cql_uuid_random(uint8_t out[16]) {
    if (RAND_bytes(out, 16) != 1) {
        uint64_t a = hash64(out, 16) ^ (uint64_t)time_now_us();
        uint64_t b = hash64(&a, sizeof a);
        memcpy(out, &a, 8);
        memcpy(out + 8, &b, 8);
    }
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

static void timeuuid_from_ticks(uint64_t ticks, const uint8_t node[8], uint8_t out[16]) {
    uint32_t low = (uint32_t)ticks;
    uint16_t mid = (uint16_t)(ticks >> 32);
    uint16_t hi = (uint16_t)((ticks >> 48) & 0x0fff) | 0x1000;
    store_u32(out, low);
    store_u16(out + 4, mid);
    store_u16(out + 6, hi);
    memcpy(out + 8, node, 8);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

#define UUID_EPOCH_OFFSET 0x01B21DD213814000ull /* 100 ns ticks from 1582-10-15 to 1970-01-01 */

void cql_timeuuid_now(uint8_t out[16]) {
    uint64_t ticks = (uint64_t)time_now_us() * 10 + UUID_EPOCH_OFFSET;
    pthread_mutex_lock(&uuid_lock);
    if (!uuid_node_set) {
        uint8_t r[16];
        cql_uuid_random(r);
        memcpy(uuid_node, r + 8, 8);
        uuid_node[2] |= 0x01; /* multicast bit: not a real MAC */
        uuid_node_set = true;
    }
    if (ticks <= uuid_last_ticks) ticks = uuid_last_ticks + 1;
    uuid_last_ticks = ticks;
    uint8_t node[8];
    memcpy(node, uuid_node, 8);
    pthread_mutex_unlock(&uuid_lock);
    timeuuid_from_ticks(ticks, node, out);
}

/* minTimeuuid/maxTimeuuid: the smallest and largest timeuuid of a millisecond. */
static void timeuuid_bound(int64_t ms, bool max, uint8_t out[16]) {
    uint64_t ticks = (uint64_t)(ms * 10000) + UUID_EPOCH_OFFSET + (max ? 9999 : 0);
    static const uint8_t lo[8] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    static const uint8_t hi[8] = {0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f};
    timeuuid_from_ticks(ticks, max ? hi : lo, out);
    out[8] = max ? 0xbf : 0x80; /* keep the variant bits; Cassandra compares these bytes signed */
}

static int64_t timeuuid_ms(const uint8_t *u) {
    uint64_t ticks = (uint64_t)load_u32(u) | (uint64_t)load_u16(u + 4) << 32 | (uint64_t)(load_u16(u + 6) & 0x0fff) << 48;
    return (int64_t)(ticks - UUID_EPOCH_OFFSET) / 10000;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static int term_value(cql_term_t *out, arena_t *a, const void *p, size_t n) {
    memset(out, 0, sizeof *out);
    out->ptr = n ? arena_memdup(a, p, n) : (const uint8_t *)"";
    out->len = n;
    return out->ptr ? EDDY_OK : EDDY_ERR_NOMEM;
}

static const char *type_name(const store_type_t *t, char *buf, size_t n) { return store_type_cstr(t, buf, n); }

static int fail_nomem(cql_exec_t *x) { return cql_exec_fail(x, CQL_ERR_SERVER, "out of memory"); }

/* The natural type of a term without a receiver (function arguments), or NULL. */
static const store_type_t *natural_type(const sql_expr_t *e) {
    if (e->kind == SQL_EXPR_LITERAL) {
        switch (e->lit.kind) {
        case SQL_LIT_STRING: return store_type_native(STORE_T_TEXT);
        case SQL_LIT_INTEGER: return store_type_native(e->lit.fits_i64 && e->lit.v.i >= INT32_MIN && e->lit.v.i <= INT32_MAX
                                                           ? STORE_T_INT : e->lit.fits_i64 ? STORE_T_BIGINT : STORE_T_VARINT);
        case SQL_LIT_FLOAT: return store_type_native(STORE_T_DOUBLE);
        case SQL_LIT_BOOLEAN: return store_type_native(STORE_T_BOOLEAN);
        case SQL_LIT_UUID: return store_type_native(STORE_T_UUID);
        case SQL_LIT_BLOB: return store_type_native(STORE_T_BLOB);
        case SQL_LIT_DURATION: return store_type_native(STORE_T_DURATION);
        default: return NULL;
        }
    }
    if (e->kind == SQL_EXPR_CALL) {
        const char *f = e->call.name.name.name;
        if (!strcasecmp(f, "now") || !strcasecmp(f, "currenttimeuuid") || !strcasecmp(f, "mintimeuuid") ||
            !strcasecmp(f, "maxtimeuuid"))
            return store_type_native(STORE_T_TIMEUUID);
        if (!strcasecmp(f, "uuid")) return store_type_native(STORE_T_UUID);
        if (!strcasecmp(f, "currenttimestamp") || !strcasecmp(f, "totimestamp")) return store_type_native(STORE_T_TIMESTAMP);
        if (!strcasecmp(f, "currentdate") || !strcasecmp(f, "todate")) return store_type_native(STORE_T_DATE);
        if (!strcasecmp(f, "currenttime")) return store_type_native(STORE_T_TIME);
        if (!strcasecmp(f, "tounixtimestamp")) return store_type_native(STORE_T_BIGINT);
    }
    if (e->kind == SQL_EXPR_HINT) return NULL;
    return NULL;
}

static int lit_const(cql_exec_t *x, const sql_literal_t *lit, const store_type_t *t, const char *receiver,
                     cql_term_t *out) {
    store_const_kind_t kind;
    const char *text = lit->text;
    size_t len = lit->len;
    char hexbuf[256];
    char *hex = NULL;
    switch (lit->kind) {
    case SQL_LIT_STRING: kind = STORE_CONST_STRING; break;
    case SQL_LIT_INTEGER: kind = STORE_CONST_INTEGER; break;
    case SQL_LIT_FLOAT: kind = STORE_CONST_FLOAT; break;
    case SQL_LIT_BOOLEAN:
        kind = STORE_CONST_BOOLEAN;
        text = lit->v.b ? "true" : "false";
        len = strlen(text);
        break;
    case SQL_LIT_UUID: kind = STORE_CONST_UUID; break;
    case SQL_LIT_DURATION: kind = STORE_CONST_DURATION; break;
    case SQL_LIT_BLOB: {
        /* The parser decoded 0x...; the store wants the literal as written. */
        kind = STORE_CONST_HEX;
        size_t need = 2 + 2 * (size_t)lit->len + 1;
        hex = need <= sizeof hexbuf ? hexbuf : arena_alloc(x->arena, need);
        if (!hex) return fail_nomem(x);
        hex[0] = '0';
        hex[1] = 'x';
        for (uint32_t i = 0; i < lit->len; i++) snprintf(hex + 2 + 2 * i, 3, "%02x", (uint8_t)lit->text[i]);
        text = hex;
        len = 2 + 2 * (size_t)lit->len;
        break;
    }
    default: return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid literal for %s", receiver);
    }
    cql_tools_t *tools = cql_sconn_tools(x->sc);
    wr_reset(&tools->tmp);
    char err[512];
    int rc = store_value_from_constant(t, kind, text, len, receiver, &tools->tmp, err, sizeof err);
    if (rc != EDDY_OK) return cql_exec_fail_status(x, rc, err);
    if (term_value(out, x->arena, tools->tmp.buf, tools->tmp.len) != EDDY_OK) return fail_nomem(x);
    return EDDY_OK;
}

static int bind_value(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const store_type_t *t,
                      const char *receiver, cql_term_t *out) {
    memset(out, 0, sizeof *out);
    uint32_t i = e->bind.index;
    if (i >= r->nvalues) return cql_exec_fail(x, CQL_ERR_INVALID, "No value bound for marker %u", i);
    cql_value_t v = r->values[i];
    if (v.len == CQL_VALUE_NULL) {
        out->null = true;
        return EDDY_OK;
    }
    if (v.len == CQL_VALUE_UNSET) {
        out->unset = true;
        return EDDY_OK;
    }
    if (t) {
        char err[512];
        int rc = store_value_validate(t, v.ptr, (size_t)v.len, err, sizeof err);
        if (rc != EDDY_OK)
            return cql_exec_fail(x, CQL_ERR_INVALID, "Exception while binding column %s: %s", receiver, err);
    }
    out->ptr = v.len ? v.ptr : (const uint8_t *)"";
    out->len = (size_t)v.len;
    return EDDY_OK;
}

/* Collections, tuples and UDT literals: each element as its own type, then built. */
static int collection(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const store_type_t *t,
                      const char *receiver, cql_term_t *out) {
    char tn[128];
    uint32_t n = e->coll.nitems;
    bool is_map_entries = e->kind == SQL_EXPR_MAP;
    size_t nelems = is_map_entries ? 2 * (size_t)n : n;
    const char *what = e->kind == SQL_EXPR_LIST ? "list" : e->kind == SQL_EXPR_SET ? "set"
                     : e->kind == SQL_EXPR_MAP ? "map" : e->kind == SQL_EXPR_TUPLE ? "tuple" : "user type";
    bool ok;
    switch (t->kind) {
    case STORE_T_LIST: ok = e->kind == SQL_EXPR_LIST; break;
    case STORE_T_SET: ok = e->kind == SQL_EXPR_SET; break;
    case STORE_T_MAP: ok = e->kind == SQL_EXPR_MAP || (e->kind == SQL_EXPR_SET && n == 0); break;
    case STORE_T_TUPLE: ok = e->kind == SQL_EXPR_TUPLE; break;
    case STORE_T_UDT: ok = e->kind == SQL_EXPR_UDT || e->kind == SQL_EXPR_MAP; break;
    default: ok = false;
    }
    if (!ok)
        return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid %s literal for %s of type %s", what, receiver,
                             type_name(t, tn, sizeof tn));
    if (t->kind == STORE_T_MAP && e->kind == SQL_EXPR_SET) nelems = 0;
    if (t->kind == STORE_T_TUPLE && n > t->nsub)
        return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid tuple literal for %s: too many elements. Type %s expects %u but got %u",
                             receiver, type_name(t, tn, sizeof tn), t->nsub, n);
    size_t cap = t->kind == STORE_T_UDT ? t->nsub : nelems;
    eddy_view_t *elems = arena_alloc(x->arena, (cap ? cap : 1) * sizeof *elems);
    if (!elems) return fail_nomem(x);
    memset(elems, 0, (cap ? cap : 1) * sizeof *elems);
    size_t count = nelems;
    if (t->kind == STORE_T_UDT) {
        count = t->nsub;
        for (uint32_t i = 0; i < n; i++) {
            const char *field = e->kind == SQL_EXPR_UDT ? e->coll.fields[i].name
                              : e->coll.items[i]->kind == SQL_EXPR_COLUMN ? e->coll.items[i]->column.name.name : NULL;
            int f = -1;
            for (uint16_t k = 0; field && k < t->nsub; k++)
                if (!strcmp(t->field_names[k], field)) f = k;
            if (f < 0)
                return cql_exec_fail(x, CQL_ERR_INVALID, "Unknown field '%s' in value of user defined type %s",
                                     field ? field : "?", t->name);
            const sql_expr_t *ve = e->coll.values[i];
            cql_term_t v;
            if (cql_term_eval(x, r, ve, t->sub[f], field, &v) != EDDY_OK) return EDDY_ERR_INVALID;
            elems[f] = v.null || v.unset ? eddy_view(NULL, 0) : eddy_view(v.ptr, v.len);
        }
    } else {
        for (uint32_t i = 0; i < n && nelems; i++) {
            const store_type_t *et;
            const sql_expr_t *ke = e->coll.items[i];
            if (t->kind == STORE_T_TUPLE) et = t->sub[i];
            else et = t->sub[0];
            cql_term_t v;
            if (cql_term_eval(x, r, ke, et, receiver, &v) != EDDY_OK) return EDDY_ERR_INVALID;
            if ((v.null || v.unset) && t->kind != STORE_T_TUPLE)
                return cql_exec_fail(x, CQL_ERR_INVALID, "null is not supported inside collections");
            size_t slot = is_map_entries ? 2 * (size_t)i : i;
            elems[slot] = v.null || v.unset ? eddy_view(NULL, 0) : eddy_view(v.ptr, v.len);
            if (is_map_entries) {
                if (cql_term_eval(x, r, e->coll.values[i], t->sub[1], receiver, &v) != EDDY_OK) return EDDY_ERR_INVALID;
                if (v.null || v.unset) return cql_exec_fail(x, CQL_ERR_INVALID, "null is not supported inside collections");
                elems[slot + 1] = eddy_view(v.ptr, v.len);
            }
        }
    }
    wr_t w;
    wr_init(&w, 64);
    char err[512];
    int rc = store_value_build(t, elems, count, &w, err, sizeof err);
    if (rc != EDDY_OK) {
        wr_free(&w);
        return cql_exec_fail_status(x, rc, err);
    }
    rc = term_value(out, x->arena, w.buf, w.len);
    wr_free(&w);
    return rc == EDDY_OK ? EDDY_OK : fail_nomem(x);
}

/* xAsBlob(v) and blobAsX(b): the same bytes seen as another type. */
static int blob_conversion(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const char *f,
                           const store_type_t *t, const char *receiver, cql_term_t *out, bool *handled) {
    *handled = false;
    size_t n = strlen(f);
    char tn[64];
    const store_type_t *from = NULL;
    if (n > 6 && !strncasecmp(f, "blobas", 6)) {
        char err[256];
        if (store_type_parse(NULL, NULL, f + 6, n - 6, &from, err, sizeof err) != EDDY_OK) return EDDY_OK;
        *handled = true;
        if (e->call.nargs != 1) {
            store_type_release(from);
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid number of arguments in call to function system.%s: 1 required but %u provided", f, e->call.nargs);
        }
        int rc = cql_term_eval(x, r, e->call.args[0], store_type_native(STORE_T_BLOB), receiver, out);
        if (rc == EDDY_OK && !out->null && !out->unset &&
            store_value_validate(from, out->ptr, out->len, err, sizeof err) != EDDY_OK)
            rc = cql_exec_fail(x, CQL_ERR_INVALID, "In call to function system.%s, value 0x... is not a valid binary representation for type %s",
                               f, type_name(from, tn, sizeof tn));
        store_type_release(from);
        return rc;
    }
    if (n > 6 && !strcasecmp(f + n - 6, "asblob")) {
        char err[256];
        if (store_type_parse(NULL, NULL, f, n - 6, &from, err, sizeof err) != EDDY_OK) return EDDY_OK;
        *handled = true;
        int rc = e->call.nargs == 1 ? cql_term_eval(x, r, e->call.args[0], from, receiver, out)
                                    : cql_exec_fail(x, CQL_ERR_INVALID, "Invalid number of arguments in call to function system.%s", f);
        store_type_release(from);
        return rc;
    }
    return EDDY_OK;
}

static int call(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const store_type_t *t, const char *receiver,
                cql_term_t *out) {
    const char *f = e->call.name.name.name;
    uint8_t buf[16];
    memset(out, 0, sizeof *out);
    if (!strcasecmp(f, "now") || !strcasecmp(f, "currenttimeuuid")) {
        cql_timeuuid_now(buf);
        return term_value(out, x->arena, buf, 16) == EDDY_OK ? EDDY_OK : fail_nomem(x);
    }
    if (!strcasecmp(f, "uuid")) {
        cql_uuid_random(buf);
        return term_value(out, x->arena, buf, 16) == EDDY_OK ? EDDY_OK : fail_nomem(x);
    }
    int64_t now_ms = store_now_us(cql_server_store(x->srv)) / 1000;
    if (!strcasecmp(f, "currenttimestamp")) {
        store_u64(buf, (uint64_t)now_ms);
        return term_value(out, x->arena, buf, 8) == EDDY_OK ? EDDY_OK : fail_nomem(x);
    }
    if (!strcasecmp(f, "currentdate")) {
        int64_t days = now_ms >= 0 ? now_ms / 86400000 : (now_ms - 86399999) / 86400000;
        store_u32(buf, (uint32_t)(days + (1ll << 31)));
        return term_value(out, x->arena, buf, 4) == EDDY_OK ? EDDY_OK : fail_nomem(x);
    }
    if (!strcasecmp(f, "currenttime")) {
        int64_t ns = ((now_ms % 86400000) + 86400000) % 86400000 * 1000000;
        store_u64(buf, (uint64_t)ns);
        return term_value(out, x->arena, buf, 8) == EDDY_OK ? EDDY_OK : fail_nomem(x);
    }
    if (!strcasecmp(f, "fromjson")) {
        if (e->call.nargs != 1) return cql_exec_fail(x, CQL_ERR_INVALID, "fromJson() takes one argument");
        if (!t) return cql_exec_fail(x, CQL_ERR_INVALID, "fromJson() cannot be used in the selection clause of a SELECT statement");
        cql_term_t js;
        if (cql_term_eval(x, r, e->call.args[0], store_type_native(STORE_T_TEXT), receiver, &js) != EDDY_OK)
            return EDDY_ERR_INVALID;
        if (js.null || js.unset) {
            out->null = true;
            return EDDY_OK;
        }
        wr_t w;
        wr_init(&w, 64);
        bool is_null = false;
        char err[512];
        int rc = store_value_from_json_text(t, (const char *)js.ptr, js.len, &w, &is_null, err, sizeof err);
        if (rc != EDDY_OK) {
            wr_free(&w);
            return cql_exec_fail(x, CQL_ERR_INVALID, "Could not decode JSON string '%.*s': %s", (int)js.len,
                                 (const char *)js.ptr, err);
        }
        if (is_null) out->null = true;
        else rc = term_value(out, x->arena, w.buf, w.len);
        wr_free(&w);
        return rc == EDDY_OK ? EDDY_OK : fail_nomem(x);
    }
    if (!strcasecmp(f, "mintimeuuid") || !strcasecmp(f, "maxtimeuuid") || !strcasecmp(f, "totimestamp") ||
        !strcasecmp(f, "todate") || !strcasecmp(f, "tounixtimestamp")) {
        if (e->call.nargs != 1) return cql_exec_fail(x, CQL_ERR_INVALID, "%s() takes one argument", f);
        const sql_expr_t *arg = e->call.args[0];
        const store_type_t *at = natural_type(arg);
        bool to_uuid = !strncasecmp(f, "m", 1);
        if (to_uuid || !at) at = store_type_native(to_uuid ? STORE_T_TIMESTAMP : STORE_T_TIMEUUID);
        if (arg->kind == SQL_EXPR_LITERAL && arg->lit.kind == SQL_LIT_STRING)
            at = store_type_native(to_uuid ? STORE_T_TIMESTAMP : STORE_T_TIMESTAMP);
        cql_term_t v;
        if (cql_term_eval(x, r, arg, at, receiver, &v) != EDDY_OK) return EDDY_ERR_INVALID;
        if (v.null || v.unset) {
            out->null = true;
            return EDDY_OK;
        }
        int64_t ms;
        if (at->kind == STORE_T_TIMEUUID || at->kind == STORE_T_UUID) ms = v.len == 16 ? timeuuid_ms(v.ptr) : 0;
        else if (at->kind == STORE_T_DATE) ms = v.len == 4 ? ((int64_t)load_u32(v.ptr) - (1ll << 31)) * 86400000 : 0;
        else ms = v.len == 8 ? (int64_t)load_u64(v.ptr) : 0;
        if (to_uuid) {
            timeuuid_bound(ms, !strcasecmp(f, "maxtimeuuid"), buf);
            return term_value(out, x->arena, buf, 16) == EDDY_OK ? EDDY_OK : fail_nomem(x);
        }
        if (!strcasecmp(f, "todate")) {
            int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
            store_u32(buf, (uint32_t)(days + (1ll << 31)));
            return term_value(out, x->arena, buf, 4) == EDDY_OK ? EDDY_OK : fail_nomem(x);
        }
        if (at->kind == STORE_T_DATE || !strcasecmp(f, "totimestamp") || !strcasecmp(f, "tounixtimestamp")) {
            store_u64(buf, (uint64_t)ms);
            return term_value(out, x->arena, buf, 8) == EDDY_OK ? EDDY_OK : fail_nomem(x);
        }
    }
    bool handled;
    int rc = blob_conversion(x, r, e, f, t, receiver, out, &handled);
    if (handled || rc != EDDY_OK) return rc;
    return cql_exec_fail(x, CQL_ERR_INVALID, "Unknown function '%s'", f);
}

int cql_term_eval(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const store_type_t *t,
                  const char *receiver, cql_term_t *out) {
    memset(out, 0, sizeof *out);
    char tn[128];
    switch (e->kind) {
    case SQL_EXPR_LITERAL:
        if (e->lit.kind == SQL_LIT_NULL) {
            out->null = true;
            return EDDY_OK;
        }
        if (!t) t = natural_type(e);
        if (!t) return cql_exec_fail(x, CQL_ERR_INVALID, "Cannot infer the type of a literal for %s", receiver);
        return lit_const(x, &e->lit, t, receiver, out);
    case SQL_EXPR_BIND: return bind_value(x, r, e, t, receiver, out);
    case SQL_EXPR_LIST:
    case SQL_EXPR_SET:
    case SQL_EXPR_MAP:
    case SQL_EXPR_TUPLE:
    case SQL_EXPR_UDT:
        if (!t) return cql_exec_fail(x, CQL_ERR_INVALID, "Cannot infer the type of a collection literal for %s", receiver);
        return collection(x, r, e, t, receiver, out);
    case SQL_EXPR_CALL: {
        int rc = call(x, r, e, t, receiver, out);
        if (rc != EDDY_OK || !t || out->null || out->unset) return rc;
        const store_type_t *nt = natural_type(e);
        if (nt && !store_type_value_compatible(t, nt) && !store_type_equal(t, nt)) {
            char fn[128];
            return cql_exec_fail(x, CQL_ERR_INVALID, "Type error: cannot assign result of function system.%s (type %s) to %s (type %s)",
                                 e->call.name.name.name, type_name(nt, fn, sizeof fn), receiver, type_name(t, tn, sizeof tn));
        }
        return EDDY_OK;
    }
    case SQL_EXPR_HINT: {
        const store_type_t *ht = NULL;
        wr_t w;
        wr_init(&w, 32);
        sql_print_type(&w, e->cast.type);
        char err[256];
        int rc = store_type_parse(NULL, r->keyspace, (const char *)w.buf, w.len, &ht, err, sizeof err);
        wr_free(&w);
        if (rc != EDDY_OK) return cql_exec_fail_status(x, rc, err);
        if (t && !store_type_equal(t, ht) && !store_type_value_compatible(t, ht)) {
            char hn[128];
            store_type_release(ht);
            return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid type hint (%s) for %s of type %s",
                                 type_name(ht, hn, sizeof hn), receiver, type_name(t, tn, sizeof tn));
        }
        rc = cql_term_eval(x, r, e->cast.arg, ht, receiver, out);
        store_type_release(ht);
        return rc;
    }
    case SQL_EXPR_UNARY:
        if (e->op == SQL_OP_NEG && e->bin.left->kind == SQL_EXPR_LITERAL &&
            (e->bin.left->lit.kind == SQL_LIT_INTEGER || e->bin.left->lit.kind == SQL_LIT_FLOAT)) {
            sql_literal_t lit = e->bin.left->lit;
            size_t n = strlen(lit.text);
            char *neg = arena_alloc(x->arena, n + 2);
            if (!neg) return fail_nomem(x);
            neg[0] = '-';
            memcpy(neg + 1, lit.text, n + 1);
            lit.text = neg;
            lit.len = (uint32_t)n + 1;
            if (!t) t = natural_type(e->bin.left);
            return lit_const(x, &lit, t, receiver, out);
        }
        break;
    default: break;
    }
    return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid term for %s: arithmetic and column references are not supported here",
                         receiver);
}

int cql_term_int(cql_exec_t *x, const cql_run_t *r, const sql_expr_t *e, const char *what, bool *present, int64_t *v) {
    *present = false;
    *v = 0;
    if (!e) return EDDY_OK;
    bool is_ts = !strcmp(what, "[timestamp]");
    const store_type_t *t = store_type_native(is_ts ? STORE_T_BIGINT : STORE_T_INT);
    cql_term_t term;
    if (cql_term_eval(x, r, e, t, what, &term) != EDDY_OK) return EDDY_ERR_INVALID;
    if (term.unset) return EDDY_OK;
    if (term.null) return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid null value of %s", what);
    if (term.len == 8) *v = (int64_t)load_u64(term.ptr);
    else if (term.len == 4) *v = (int32_t)load_u32(term.ptr);
    else return cql_exec_fail(x, CQL_ERR_INVALID, "Invalid value of %s", what);
    *present = true;
    return EDDY_OK;
}
