/* CQL type descriptors: the static native types, builders for parameterised types, reference
 * counting, parsing from and printing to CQL type strings as system_schema shows them, and the
 * native protocol's [option] codec. */
#include <ctype.h>
#include <stdio.h>

#include "store/store_int.h"

/* ---- natives ---- */

#define NATIVE(k) {.kind = (k), .refs_ = -1}
static const store_type_t natives[] = {
    NATIVE(STORE_T_ASCII),    NATIVE(STORE_T_BIGINT),    NATIVE(STORE_T_BLOB),     NATIVE(STORE_T_BOOLEAN),
    NATIVE(STORE_T_COUNTER),  NATIVE(STORE_T_DECIMAL),   NATIVE(STORE_T_DOUBLE),   NATIVE(STORE_T_FLOAT),
    NATIVE(STORE_T_INT),      NATIVE(STORE_T_TIMESTAMP), NATIVE(STORE_T_UUID),     NATIVE(STORE_T_TEXT),
    NATIVE(STORE_T_VARINT),   NATIVE(STORE_T_TIMEUUID),  NATIVE(STORE_T_INET),     NATIVE(STORE_T_DATE),
    NATIVE(STORE_T_TIME),     NATIVE(STORE_T_SMALLINT),  NATIVE(STORE_T_TINYINT),  NATIVE(STORE_T_DURATION),
};

static const struct {
    const char *name;
    uint16_t kind;
} native_names[] = {
    {"ascii", STORE_T_ASCII},       {"bigint", STORE_T_BIGINT},     {"blob", STORE_T_BLOB},
    {"boolean", STORE_T_BOOLEAN},   {"counter", STORE_T_COUNTER},   {"decimal", STORE_T_DECIMAL},
    {"double", STORE_T_DOUBLE},     {"float", STORE_T_FLOAT},       {"int", STORE_T_INT},
    {"timestamp", STORE_T_TIMESTAMP}, {"uuid", STORE_T_UUID},       {"text", STORE_T_TEXT},
    {"varchar", STORE_T_TEXT},      {"varint", STORE_T_VARINT},     {"timeuuid", STORE_T_TIMEUUID},
    {"inet", STORE_T_INET},         {"date", STORE_T_DATE},         {"time", STORE_T_TIME},
    {"smallint", STORE_T_SMALLINT}, {"tinyint", STORE_T_TINYINT},   {"duration", STORE_T_DURATION},
};

const store_type_t *store_type_native(store_kind_t kind) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(natives); i++)
        if (natives[i].kind == kind) return &natives[i];
    return NULL;
}

const char *store_kind_cql_name(uint16_t kind) {
    switch (kind) {
    case STORE_T_LIST: return "list";
    case STORE_T_SET: return "set";
    case STORE_T_MAP: return "map";
    case STORE_T_TUPLE: return "tuple";
    case STORE_T_UDT: return "udt";
    case STORE_T_CUSTOM: return "custom";
    default: break;
    }
    for (size_t i = 0; i < EDDY_ARRAY_LEN(native_names); i++)
        if (native_names[i].kind == kind) return native_names[i].name;
    return "?";
}

/* ---- reference counting ---- */

const store_type_t *store_type_keep(const store_type_t *t) {
    if (t && t->refs_ >= 0) __atomic_fetch_add(&((store_type_t *)t)->refs_, 1, __ATOMIC_RELAXED);
    return t;
}

void store_type_release(const store_type_t *t) {
    if (!t || t->refs_ < 0) return;
    store_type_t *m = (store_type_t *)t;
    if (__atomic_sub_fetch(&m->refs_, 1, __ATOMIC_ACQ_REL) > 0) return;
    for (uint16_t i = 0; i < m->nsub; i++) store_type_release(m->sub[i]);
    if (m->field_names)
        for (uint16_t i = 0; i < m->nsub; i++) eddy_free((char *)m->field_names[i]);
    eddy_free((void *)m->field_names);
    eddy_free((void *)m->sub);
    eddy_free((char *)m->keyspace);
    eddy_free((char *)m->name);
    eddy_free(m);
}

static store_type_t *type_alloc(uint16_t kind, bool frozen, size_t nsub) {
    store_type_t *t = eddy_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->kind = kind;
    t->frozen = frozen;
    t->refs_ = 1;
    t->nsub = (uint16_t)nsub;
    if (nsub) {
        t->sub = eddy_calloc(nsub, sizeof *t->sub);
        if (!t->sub) {
            eddy_free(t);
            return NULL;
        }
    }
    return t;
}

/* Freezes t for use inside another type: collections and UDTs inside collections, tuples and
 * UDT fields are always frozen. Returns a new reference. */
static const store_type_t *freeze_inner(const store_type_t *t) {
    if ((store_type_is_collection(t) || t->kind == STORE_T_UDT) && !t->frozen) return store_type_frozen(t);
    return store_type_keep(t);
}

static const store_type_t *make_coll(uint16_t kind, const store_type_t *a, const store_type_t *b, bool frozen) {
    store_type_t *t = type_alloc(kind, frozen, b ? 2 : 1);
    if (!t) return NULL;
    const store_type_t **sub = (const store_type_t **)t->sub;
    sub[0] = freeze_inner(a);
    if (b) sub[1] = freeze_inner(b);
    if (!sub[0] || (b && !sub[1])) {
        store_type_release(t);
        return NULL;
    }
    return t;
}

const store_type_t *store_type_list(const store_type_t *elem, bool frozen) {
    return make_coll(STORE_T_LIST, elem, NULL, frozen);
}
const store_type_t *store_type_set(const store_type_t *elem, bool frozen) {
    return make_coll(STORE_T_SET, elem, NULL, frozen);
}
const store_type_t *store_type_map(const store_type_t *key, const store_type_t *value, bool frozen) {
    return make_coll(STORE_T_MAP, key, value, frozen);
}

const store_type_t *store_type_tuple(const store_type_t *const *fields, size_t n) {
    store_type_t *t = type_alloc(STORE_T_TUPLE, true, n);
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++) {
        ((const store_type_t **)t->sub)[i] = freeze_inner(fields[i]);
        if (!t->sub[i]) {
            store_type_release(t);
            return NULL;
        }
    }
    return t;
}

const store_type_t *store_type_udt(const char *keyspace, const char *name, const char *const *names,
                                   const store_type_t *const *types, size_t n, bool frozen) {
    store_type_t *t = type_alloc(STORE_T_UDT, frozen, n);
    if (!t) return NULL;
    t->keyspace = eddy_strdup(keyspace);
    t->name = eddy_strdup(name);
    t->field_names = eddy_calloc(n ? n : 1, sizeof(char *));
    if (!t->keyspace || !t->name || !t->field_names) goto err;
    for (size_t i = 0; i < n; i++) {
        ((const char **)t->field_names)[i] = eddy_strdup(names[i]);
        ((const store_type_t **)t->sub)[i] = freeze_inner(types[i]);
        if (!t->field_names[i] || !t->sub[i]) goto err;
    }
    return t;
err:
    store_type_release(t);
    return NULL;
}

const store_type_t *store_type_frozen(const store_type_t *t) {
    if (t->frozen || !(store_type_is_collection(t) || t->kind == STORE_T_UDT)) return store_type_keep(t);
    if (t->kind == STORE_T_UDT)
        return store_type_udt(t->keyspace, t->name, t->field_names, t->sub, t->nsub, true);
    return make_coll(t->kind, t->sub[0], t->nsub > 1 ? t->sub[1] : NULL, true);
}

bool store_type_equal(const store_type_t *a, const store_type_t *b) {
    if (a == b) return true;
    if (!a || !b || a->kind != b->kind || a->nsub != b->nsub) return false;
    bool freezable = store_type_is_collection(a) || a->kind == STORE_T_UDT;
    if (freezable && a->frozen != b->frozen) return false;
    if (a->kind == STORE_T_UDT) {
        if (strcmp(a->keyspace, b->keyspace) || strcmp(a->name, b->name)) return false;
        for (uint16_t i = 0; i < a->nsub; i++)
            if (strcmp(a->field_names[i], b->field_names[i])) return false;
    }
    for (uint16_t i = 0; i < a->nsub; i++)
        if (!store_type_equal(a->sub[i], b->sub[i])) return false;
    return true;
}

bool store_type_references_duration(const store_type_t *t) {
    if (t->kind == STORE_T_DURATION) return true;
    for (uint16_t i = 0; i < t->nsub; i++)
        if (store_type_references_duration(t->sub[i])) return true;
    return false;
}

bool store_type_references_udt(const store_type_t *t, const char *ks, const char *name) {
    if (t->kind == STORE_T_UDT && !strcmp(t->keyspace, ks) && !strcmp(t->name, name)) return true;
    for (uint16_t i = 0; i < t->nsub; i++)
        if (store_type_references_udt(t->sub[i], ks, name)) return true;
    return false;
}

bool store_type_value_compatible(const store_type_t *to, const store_type_t *from) {
    if (store_type_equal(to, from)) return true;
    if (to->kind == STORE_T_BLOB) return true;
    switch (to->kind) {
    case STORE_T_TEXT: return from->kind == STORE_T_ASCII;
    case STORE_T_VARINT:
        return from->kind == STORE_T_INT || from->kind == STORE_T_BIGINT || from->kind == STORE_T_SMALLINT ||
               from->kind == STORE_T_TINYINT;
    case STORE_T_UUID: return from->kind == STORE_T_TIMEUUID;
    case STORE_T_BIGINT: return from->kind == STORE_T_TIMESTAMP;
    case STORE_T_TIMESTAMP: return from->kind == STORE_T_BIGINT;
    default: return false;
    }
}

/* ---- identifiers ---- */

static const char *const reserved_words[] = {
    "add", "allow", "alter", "and", "apply", "asc", "authorize", "batch", "begin", "by", "columnfamily",
    "create", "delete", "desc", "describe", "drop", "entries", "execute", "from", "full", "grant", "if", "in",
    "index", "infinity", "insert", "into", "is", "keyspace", "limit", "materialized", "mbean", "mbeans",
    "modify", "nan", "norecursive", "not", "null", "of", "on", "or", "order", "primary", "rename", "replace",
    "revoke", "schema", "select", "set", "table", "to", "token", "truncate", "unlogged", "unset", "update",
    "use", "using", "view", "where", "with",
};

bool store_ident_needs_quotes(const char *s, size_t n) {
    if (n == 0 || !(s[0] >= 'a' && s[0] <= 'z')) return true;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return true;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(reserved_words); i++)
        if (strlen(reserved_words[i]) == n && !memcmp(reserved_words[i], s, n)) return true;
    return false;
}

void store_ident_write(wr_t *w, const char *s, size_t n) {
    if (!store_ident_needs_quotes(s, n)) {
        wr_bytes(w, s, n);
        return;
    }
    wr_u8(w, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') wr_u8(w, '"');
        wr_u8(w, (uint8_t)s[i]);
    }
    wr_u8(w, '"');
}

/* ---- formatting ---- */

static void format_inner(const store_type_t *t, wr_t *w) {
    bool wrap = t->frozen && (store_type_is_collection(t) || t->kind == STORE_T_UDT || t->kind == STORE_T_TUPLE);
    if (wrap) wr_str(w, "frozen<");
    switch (t->kind) {
    case STORE_T_LIST:
    case STORE_T_SET:
        wr_str(w, store_kind_cql_name(t->kind));
        wr_u8(w, '<');
        format_inner(t->sub[0], w);
        wr_u8(w, '>');
        break;
    case STORE_T_MAP:
        wr_str(w, "map<");
        format_inner(t->sub[0], w);
        wr_str(w, ", ");
        format_inner(t->sub[1], w);
        wr_u8(w, '>');
        break;
    case STORE_T_TUPLE:
        wr_str(w, "tuple<");
        for (uint16_t i = 0; i < t->nsub; i++) {
            if (i) wr_str(w, ", ");
            format_inner(t->sub[i], w);
        }
        wr_u8(w, '>');
        break;
    case STORE_T_UDT: store_ident_write(w, t->name, strlen(t->name)); break;
    default: wr_str(w, store_kind_cql_name(t->kind)); break;
    }
    if (wrap) wr_u8(w, '>');
}

void store_type_format(const store_type_t *t, wr_t *w) { format_inner(t, w); }

const char *store_type_cstr(const store_type_t *t, char *buf, size_t buflen) {
    wr_t w;
    wr_init(&w, 64);
    store_type_format(t, &w);
    size_t n = w.len < buflen ? w.len : buflen - 1;
    if (buflen) {
        if (w.buf) memcpy(buf, w.buf, n);
        buf[n] = 0;
    }
    wr_free(&w);
    return buf;
}

/* ---- parsing ---- */

typedef struct {
    const char *p, *end;
    const store_schema_t *schema;
    const char *keyspace;
    char *errstr;
    size_t errlen;
    int depth;
    const char *text;
    size_t textlen;
    int frozen_depth; /* inside frozen<...>: nested collections are frozen, not refused */
} tparse_t;

static void tp_ws(tparse_t *tp) {
    while (tp->p < tp->end && isspace((unsigned char)*tp->p)) tp->p++;
}

static bool tp_char(tparse_t *tp, char c) {
    tp_ws(tp);
    if (tp->p < tp->end && *tp->p == c) {
        tp->p++;
        return true;
    }
    return false;
}

/* Reads an identifier (unquoted: lowercased; quoted: as written) into buf. */
static bool tp_ident(tparse_t *tp, char *buf, size_t buflen, bool *quoted) {
    tp_ws(tp);
    size_t n = 0;
    *quoted = false;
    if (tp->p < tp->end && *tp->p == '"') {
        *quoted = true;
        tp->p++;
        while (tp->p < tp->end) {
            if (*tp->p == '"') {
                if (tp->p + 1 < tp->end && tp->p[1] == '"') {
                    tp->p++;
                } else {
                    break;
                }
            }
            if (n + 1 < buflen) buf[n++] = *tp->p;
            tp->p++;
        }
        if (tp->p >= tp->end) return false;
        tp->p++;
    } else {
        while (tp->p < tp->end && (isalnum((unsigned char)*tp->p) || *tp->p == '_')) {
            if (n + 1 < buflen) buf[n++] = (char)tolower((unsigned char)*tp->p);
            tp->p++;
        }
        if (n == 0) return false;
    }
    buf[n] = 0;
    return true;
}

static int tp_fail(tparse_t *tp, const char *fmt, const char *arg) {
    if (tp->errstr && tp->errlen) snprintf(tp->errstr, tp->errlen, fmt, arg);
    return EDDY_ERR_INVALID;
}

static int tp_type(tparse_t *tp, const store_type_t **out, bool inside);

static int tp_params(tparse_t *tp, const store_type_t **subs, size_t max, size_t *n) {
    *n = 0;
    if (!tp_char(tp, '<')) return tp_fail(tp, "Invalid type: expected '<' in %s", "");
    do {
        if (*n == max) return tp_fail(tp, "Too many type parameters%s", "");
        int rc = tp_type(tp, &subs[*n], true);
        if (rc) return rc;
        (*n)++;
    } while (tp_char(tp, ','));
    if (!tp_char(tp, '>')) return tp_fail(tp, "Invalid type: expected '>'%s", "");
    return EDDY_OK;
}

static const store_type_t *lookup_udt(tparse_t *tp, const char *ks, const char *name);

static int tp_type(tparse_t *tp, const store_type_t **out, bool inside) {
    *out = NULL;
    if (++tp->depth > 64) return tp_fail(tp, "Type nested too deeply%s", "");
    const char *start = tp->p;
    char word[256];
    bool quoted;
    if (!tp_ident(tp, word, sizeof word, &quoted)) {
        tp->depth--;
        return tp_fail(tp, "Invalid type: expected a type name%s", "");
    }
    int rc = EDDY_OK;
    const store_type_t *subs[256] = {0};
    size_t n = 0;
    if (!quoted && !strcmp(word, "frozen")) {
        tp->frozen_depth++;
        rc = tp_params(tp, subs, 1, &n);
        tp->frozen_depth--;
        if (rc) goto done;
        const store_type_t *s = subs[0];
        if (!(store_type_is_collection(s) || s->kind == STORE_T_UDT || s->kind == STORE_T_TUPLE)) {
            rc = tp_fail(tp, "frozen<> is only allowed on collections, tuples, and user-defined types%s", "");
            goto done;
        }
        *out = store_type_frozen(s);
        goto done;
    }
    if (!quoted && (!strcmp(word, "list") || !strcmp(word, "set") || !strcmp(word, "map"))) {
        bool is_map = word[0] == 'm';
        rc = tp_params(tp, subs, is_map ? 2 : 1, &n);
        if (rc) goto done;
        if (n != (is_map ? 2u : 1u)) {
            rc = tp_fail(tp, "Invalid collection type %s", word);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const store_type_t *s = subs[i];
            char buf[512];
            size_t len = (size_t)(tp->p - start);
            snprintf(buf, sizeof buf, "%.*s", (int)len, start);
            char *b = buf;
            while (isspace((unsigned char)*b)) b++;
            if (s->kind == STORE_T_COUNTER) {
                rc = tp_fail(tp, "Counters are not allowed inside collections: %s", b);
                goto done;
            }
            if (store_type_is_collection(s) && !s->frozen && !tp->frozen_depth) {
                rc = tp_fail(tp, "Non-frozen collections are not allowed inside collections: %s", b);
                goto done;
            }
            if (s->kind == STORE_T_UDT && !s->frozen && !tp->frozen_depth) {
                rc = tp_fail(tp, "Non-frozen UDTs are not allowed inside collections: %s", b);
                goto done;
            }
            if (s->kind == STORE_T_DURATION && (word[0] == 's' || (is_map && i == 0))) {
                rc = tp_fail(tp, word[0] == 's' ? "Durations are not allowed inside sets: %s"
                                                : "Durations are not allowed as map keys: %s",
                             b);
                goto done;
            }
        }
        if (word[0] == 'l') *out = store_type_list(subs[0], false);
        else if (word[0] == 's') *out = store_type_set(subs[0], false);
        else *out = store_type_map(subs[0], subs[1], false);
        if (!*out) rc = EDDY_ERR_NOMEM;
        goto done;
    }
    if (!quoted && !strcmp(word, "tuple")) {
        rc = tp_params(tp, subs, EDDY_ARRAY_LEN(subs), &n);
        if (rc) goto done;
        for (size_t i = 0; i < n; i++)
            if (subs[i]->kind == STORE_T_COUNTER) {
                rc = tp_fail(tp, "Counters are not allowed inside tuples%s", "");
                goto done;
            }
        *out = store_type_tuple(subs, n);
        if (!*out) rc = EDDY_ERR_NOMEM;
        goto done;
    }
    if (!quoted) {
        for (size_t i = 0; i < EDDY_ARRAY_LEN(native_names); i++)
            if (!strcmp(word, native_names[i].name)) {
                *out = store_type_native(native_names[i].kind);
                goto done;
            }
    }
    /* A user-defined type, maybe keyspace-qualified. */
    {
        char ks[256];
        snprintf(ks, sizeof ks, "%s", tp->keyspace ? tp->keyspace : "");
        char name[256];
        snprintf(name, sizeof name, "%s", word);
        tp_ws(tp);
        if (tp->p < tp->end && *tp->p == '.') {
            tp->p++;
            snprintf(ks, sizeof ks, "%s", word);
            if (!tp_ident(tp, name, sizeof name, &quoted)) {
                rc = tp_fail(tp, "Invalid type: expected a type name after '%s.'", ks);
                goto done;
            }
            if (tp->keyspace && strcmp(ks, tp->keyspace)) {
                char msg[600];
                snprintf(msg, sizeof msg, "Statement on keyspace %s cannot refer to a user type in keyspace %s; "
                         "user types can only be used in the keyspace they are defined in", tp->keyspace, ks);
                rc = tp_fail(tp, "%s", msg);
                goto done;
            }
        }
        const store_type_t *u = lookup_udt(tp, ks, name);
        if (!u) {
            rc = tp_fail(tp, "Unknown type %s", name);
            if (tp->errstr && tp->errlen && ks[0])
                snprintf(tp->errstr, tp->errlen, "Unknown type %s.%s", ks, name);
            goto done;
        }
        *out = store_type_keep(u);
        (void)inside;
    }
done:
    for (size_t i = 0; i < n; i++) store_type_release(subs[i]);
    tp->depth--;
    return rc;
}

static const store_type_t *lookup_udt(tparse_t *tp, const char *ks, const char *name) {
    if (!tp->schema || !ks[0]) return NULL;
    const store_udt_info_t *u = store_schema_type(tp->schema, ks, name);
    return u ? u->type : NULL;
}

int store_type_parse(const store_schema_t *schema, const char *keyspace, const char *text, size_t len,
                     const store_type_t **out, char *errstr, size_t errlen) {
    tparse_t tp = {text, text + len, schema, keyspace, errstr, errlen, 0, text, len, 0};
    int rc = tp_type(&tp, out, false);
    if (rc) return rc;
    tp_ws(&tp);
    if (tp.p != tp.end) {
        store_type_release(*out);
        *out = NULL;
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "Invalid type '%.*s': unexpected '%.*s'", (int)len, text,
                        (int)(tp.end - tp.p), tp.p);
    }
    return EDDY_OK;
}

/* ---- [option] codec ---- */

static void wr_short_string(wr_t *w, const char *s) {
    size_t n = strlen(s);
    wr_u16(w, (uint16_t)n);
    wr_bytes(w, s, n);
}

void store_type_write_option(const store_type_t *t, wr_t *w) {
    wr_u16(w, t->kind);
    switch (t->kind) {
    case STORE_T_LIST:
    case STORE_T_SET: store_type_write_option(t->sub[0], w); break;
    case STORE_T_MAP:
        store_type_write_option(t->sub[0], w);
        store_type_write_option(t->sub[1], w);
        break;
    case STORE_T_TUPLE:
        wr_u16(w, t->nsub);
        for (uint16_t i = 0; i < t->nsub; i++) store_type_write_option(t->sub[i], w);
        break;
    case STORE_T_UDT:
        wr_short_string(w, t->keyspace);
        wr_short_string(w, t->name);
        wr_u16(w, t->nsub);
        for (uint16_t i = 0; i < t->nsub; i++) {
            wr_short_string(w, t->field_names[i]);
            store_type_write_option(t->sub[i], w);
        }
        break;
    default: break;
    }
}

static char *rd_short_string_dup(rd_t *r) {
    uint16_t n = rd_u16(r);
    const uint8_t *p = rd_bytes(r, n);
    return p ? eddy_strndup((const char *)p, n) : NULL;
}

static int read_option(rd_t *r, const store_type_t **out, int depth) {
    *out = NULL;
    if (depth > 64) return EDDY_ERR_CORRUPT;
    uint16_t kind = rd_u16(r);
    if (!rd_ok(r)) return EDDY_ERR_CORRUPT;
    const store_type_t *a = NULL, *b = NULL;
    int rc = EDDY_OK;
    switch (kind) {
    case STORE_T_LIST:
    case STORE_T_SET:
        if ((rc = read_option(r, &a, depth + 1))) return rc;
        *out = kind == STORE_T_LIST ? store_type_list(a, true) : store_type_set(a, true);
        store_type_release(a);
        break;
    case STORE_T_MAP:
        if ((rc = read_option(r, &a, depth + 1))) return rc;
        if ((rc = read_option(r, &b, depth + 1))) {
            store_type_release(a);
            return rc;
        }
        *out = store_type_map(a, b, true);
        store_type_release(a);
        store_type_release(b);
        break;
    case STORE_T_TUPLE:
    case STORE_T_UDT: {
        char *ks = NULL, *name = NULL;
        if (kind == STORE_T_UDT) {
            ks = rd_short_string_dup(r);
            name = rd_short_string_dup(r);
        }
        uint16_t n = rd_u16(r);
        const store_type_t **subs = eddy_calloc(n ? n : 1, sizeof *subs);
        char **names = eddy_calloc(n ? n : 1, sizeof *names);
        if (!rd_ok(r) || (kind == STORE_T_UDT && (!ks || !name)) || !subs || !names) rc = EDDY_ERR_CORRUPT;
        for (uint16_t i = 0; i < n && rc == EDDY_OK; i++) {
            if (kind == STORE_T_UDT && !(names[i] = rd_short_string_dup(r))) rc = EDDY_ERR_CORRUPT;
            if (rc == EDDY_OK) rc = read_option(r, &subs[i], depth + 1);
        }
        if (rc == EDDY_OK)
            *out = kind == STORE_T_TUPLE ? store_type_tuple(subs, n)
                                         : store_type_udt(ks, name, (const char *const *)names, subs, n, true);
        for (uint16_t i = 0; subs && i < n; i++) store_type_release(subs[i]);
        for (uint16_t i = 0; names && i < n; i++) eddy_free(names[i]);
        eddy_free(subs);
        eddy_free(names);
        eddy_free(ks);
        eddy_free(name);
        if (rc) return rc;
        break;
    }
    case STORE_T_CUSTOM: {
        char *cls = rd_short_string_dup(r);
        eddy_free(cls);
        return EDDY_ERR_UNSUPPORTED;
    }
    default: *out = store_type_native((store_kind_t)kind); return *out ? EDDY_OK : EDDY_ERR_CORRUPT;
    }
    return *out ? EDDY_OK : EDDY_ERR_NOMEM;
}

int store_type_read_option(rd_t *r, const store_type_t **out, char *errstr, size_t errlen) {
    int rc = read_option(r, out, 0);
    if (rc == EDDY_ERR_UNSUPPORTED) return eddy_err(errstr, errlen, rc, "custom types are not supported");
    if (rc) return eddy_err(errstr, errlen, rc, "malformed type option");
    return EDDY_OK;
}
