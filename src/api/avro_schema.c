/* Avro schemas: parsing and validation as the Avro specification (1.11) states it, and one
 * normalized JSON text per schema (compact, attributes in a fixed order, the form Java's
 * Schema.toString() writes), which the schema registry stores, returns and deduplicates on.
 *
 * Every node lives in the schema's arena; named types are resolved to pointers at parse time, so
 * recursive schemas are graphs and every walker must bound its depth. */
#include <stdio.h>

#include "api/api_int.h"

#define AVRO_MAX_DEPTH 64      /* nesting of schema definitions */
#define AVRO_MAX_NAMED 4096    /* named types in one schema */

static const char *const avro_type_names[] = {
    [API_AVRO_NULL] = "null",     [API_AVRO_BOOLEAN] = "boolean", [API_AVRO_INT] = "int",
    [API_AVRO_LONG] = "long",     [API_AVRO_FLOAT] = "float",     [API_AVRO_DOUBLE] = "double",
    [API_AVRO_BYTES] = "bytes",   [API_AVRO_STRING] = "string",   [API_AVRO_RECORD] = "record",
    [API_AVRO_ENUM] = "enum",     [API_AVRO_ARRAY] = "array",     [API_AVRO_MAP] = "map",
    [API_AVRO_UNION] = "union",   [API_AVRO_FIXED] = "fixed",
};

const char *api_avro_type_name(api_avro_type_t t) { return avro_type_names[t]; }

typedef struct {
    api_avro_schema_t *s;
    const json_doc_t *doc;
    char *errstr;
    size_t errlen;
    int depth;
} avro_parser_t;

static int avro_fail(avro_parser_t *p, const char *fmt, const char *arg) {
    if (p->errstr && p->errlen) snprintf(p->errstr, p->errlen, fmt, arg ? arg : "");
    return EDDY_ERR_INVALID;
}

static bool avro_is_primitive(const char *s, api_avro_type_t *t) {
    for (int i = API_AVRO_NULL; i <= API_AVRO_STRING; i++)
        if (!strcmp(s, avro_type_names[i])) {
            *t = (api_avro_type_t)i;
            return true;
        }
    return false;
}

/* A name component: [A-Za-z_][A-Za-z0-9_]*. */
static bool avro_valid_ident(const char *s, size_t n) {
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

static bool avro_valid_fullname(const char *s) {
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!avro_valid_ident(p, n)) return false;
        if (!dot) return true;
        p = dot + 1;
    }
}

/* The decoded text of a string node, in the schema's arena; NULL if not a valid string. */
static char *avro_str(avro_parser_t *p, uint32_t i) {
    const json_node_t *n = json_node(p->doc, i);
    if (n->type != JSON_STRING) return NULL;
    char *out = arena_alloc(&p->s->arena, n->len + 1);
    if (!out) return NULL;
    long k = json_string_unescape(n, out);
    if (k < 0 || memchr(out, 0, (size_t)k)) return NULL;
    out[k] = 0;
    return out;
}

/* Compact JSON text of node i, in the arena; NULL when out of memory or when a string inside
 * has an invalid escape (the JSON parser checks escapes only when strings are decoded, and the
 * text is copied out as it came). */
static char *avro_json_text(avro_parser_t *p, uint32_t i) {
    for (uint32_t k = i; k < json_node(p->doc, i)->end; k++) {
        const json_node_t *n = json_node(p->doc, k);
        if (n->type != JSON_STRING || !n->has_escape) continue;
        char *tmp = eddy_malloc(n->len + 1);
        long ok = tmp ? json_string_unescape(n, tmp) : -1;
        eddy_free(tmp);
        if (ok < 0) return NULL;
    }
    wr_t w;
    wr_init(&w, 64);
    json_write_node(&w, p->doc, i);
    char *out = wr_ok(&w) ? arena_strndup(&p->s->arena, (char *)w.buf, w.len) : NULL;
    wr_free(&w);
    return out;
}

static int64_t avro_member(avro_parser_t *p, uint32_t obj, const char *key) {
    return json_object_get(p->doc, obj, key, strlen(key));
}

static api_avro_node_t *avro_named_find(api_avro_schema_t *s, const char *fullname) {
    for (uint32_t i = 0; i < s->nnamed; i++)
        if (!strcmp(s->named[i]->fullname, fullname)) return s->named[i];
    return NULL;
}

/* Resolves a reference by name as Java's Schema.Names does: relative to the enclosing
 * namespace first, then in the null namespace. */
static api_avro_node_t *avro_named_lookup(avro_parser_t *p, const char *name, const char *space) {
    if (!strchr(name, '.') && space && *space) {
        char full[1024];
        if ((size_t)snprintf(full, sizeof full, "%s.%s", space, name) < sizeof full) {
            api_avro_node_t *n = avro_named_find(p->s, full);
            if (n) return n;
        }
    }
    return avro_named_find(p->s, name);
}

static int avro_parse_node(avro_parser_t *p, uint32_t i, const char *space, api_avro_node_t **out);

/* Attributes that are not part of a type's definition are kept as properties (logicalType,
 * connect.name, ...), in input order. */
static int avro_collect_props(avro_parser_t *p, uint32_t obj, const char *const *known, size_t nknown,
                              api_avro_prop_t **props, uint32_t *nprops) {
    const json_node_t *o = json_node(p->doc, obj);
    *props = o->count ? arena_alloc(&p->s->arena, o->count * sizeof **props) : NULL;
    *nprops = 0;
    for (uint32_t c = json_first_child(obj), k = 0; k < o->count; k++) {
        uint32_t v = json_next(p->doc, c);
        char *key = avro_str(p, c);
        if (!key) return avro_fail(p, "invalid attribute name%s", NULL);
        bool is_known = false;
        for (size_t j = 0; j < nknown; j++) is_known |= !strcmp(key, known[j]);
        if (!is_known) {
            if (!*props) return EDDY_ERR_NOMEM;
            char *json = avro_json_text(p, v);
            if (!json) return avro_fail(p, "attribute %s has an invalid value", key);
            (*props)[(*nprops)++] = (api_avro_prop_t){key, json};
        }
        c = json_next(p->doc, v);
    }
    return EDDY_OK;
}

static int avro_string_list(avro_parser_t *p, int64_t arr, const char *what, const char ***items, uint32_t *n) {
    *items = NULL;
    *n = 0;
    if (arr < 0) return EDDY_OK;
    const json_node_t *a = json_node(p->doc, (uint32_t)arr);
    if (a->type != JSON_ARRAY) return avro_fail(p, "%s must be an array of strings", what);
    *items = a->count ? arena_alloc(&p->s->arena, a->count * sizeof **items) : NULL;
    if (a->count && !*items) return EDDY_ERR_NOMEM;
    for (uint32_t c = json_first_child((uint32_t)arr), k = 0; k < a->count; k++, c = json_next(p->doc, c)) {
        char *s = avro_str(p, c);
        if (!s) return avro_fail(p, "%s must be an array of strings", what);
        (*items)[(*n)++] = s;
    }
    return EDDY_OK;
}

/* The name, namespace and aliases of a named type; registers it (a redefinition is an error). */
static int avro_parse_name(avro_parser_t *p, uint32_t obj, const char *space, api_avro_node_t *node) {
    int64_t ni = avro_member(p, obj, "name"), si = avro_member(p, obj, "namespace");
    char *name = ni >= 0 ? avro_str(p, (uint32_t)ni) : NULL;
    if (!name) return avro_fail(p, "a %s needs a string \"name\"", avro_type_names[node->type]);
    const char *ns = space;
    if (si >= 0) {
        if (json_node(p->doc, (uint32_t)si)->type == JSON_NULL) ns = NULL;
        else if (!(ns = avro_str(p, (uint32_t)si)))
            return avro_fail(p, "\"namespace\" of %s must be a string", name);
    }
    const char *dot = strrchr(name, '.');
    if (dot) {
        node->space = arena_strndup(&p->s->arena, name, (size_t)(dot - name));
        node->name = dot + 1;
        node->fullname = name;
    } else {
        node->name = name;
        node->space = ns && *ns ? ns : NULL;
        if (node->space) {
            size_t n = strlen(node->space) + 1 + strlen(name) + 1;
            char *full = arena_alloc(&p->s->arena, n);
            if (!full) return EDDY_ERR_NOMEM;
            snprintf(full, n, "%s.%s", node->space, name);
            node->fullname = full;
        } else {
            node->fullname = name;
        }
    }
    if (!avro_valid_fullname(node->fullname)) return avro_fail(p, "invalid name '%s'", node->fullname);
    if (node->space && !avro_valid_fullname(node->space)) return avro_fail(p, "invalid namespace '%s'", node->space);
    api_avro_type_t prim;
    if (avro_is_primitive(node->name, &prim) && !node->space) return avro_fail(p, "can't redefine: %s", node->name);
    if (avro_named_find(p->s, node->fullname)) return avro_fail(p, "can't redefine: %s", node->fullname);
    if (p->s->nnamed == AVRO_MAX_NAMED) return avro_fail(p, "too many named types%s", NULL);
    if (p->s->nnamed == p->s->capnamed) {
        uint32_t cap = p->s->capnamed ? p->s->capnamed * 2 : 16;
        api_avro_node_t **named = arena_alloc(&p->s->arena, cap * sizeof *named);
        if (!named) return EDDY_ERR_NOMEM;
        if (p->s->nnamed) memcpy(named, p->s->named, p->s->nnamed * sizeof *named);
        p->s->named = named;
        p->s->capnamed = cap;
    }
    p->s->named[p->s->nnamed++] = node;
    int64_t ai = avro_member(p, obj, "aliases");
    int rc = avro_string_list(p, ai, "aliases", &node->aliases, &node->naliases);
    if (rc) return rc;
    int64_t di = avro_member(p, obj, "doc");
    if (di >= 0) node->doc = avro_str(p, (uint32_t)di);
    return EDDY_OK;
}

static int avro_parse_record(avro_parser_t *p, uint32_t obj, api_avro_node_t *node) {
    int64_t fi = avro_member(p, obj, "fields");
    if (fi < 0 || json_node(p->doc, (uint32_t)fi)->type != JSON_ARRAY)
        return avro_fail(p, "record %s needs a \"fields\" array", node->fullname);
    const json_node_t *fa = json_node(p->doc, (uint32_t)fi);
    node->fields = fa->count ? arena_alloc(&p->s->arena, fa->count * sizeof *node->fields) : NULL;
    if (fa->count && !node->fields) return EDDY_ERR_NOMEM;
    static const char *const known[] = {"name", "type", "default", "doc", "order", "aliases"};
    for (uint32_t c = json_first_child((uint32_t)fi), k = 0; k < fa->count; k++, c = json_next(p->doc, c)) {
        if (json_node(p->doc, c)->type != JSON_OBJECT)
            return avro_fail(p, "a field of record %s must be an object", node->fullname);
        api_avro_field_t *f = &node->fields[node->nfields];
        memset(f, 0, sizeof *f);
        int64_t ni = avro_member(p, c, "name"), ti = avro_member(p, c, "type");
        f->name = ni >= 0 ? avro_str(p, (uint32_t)ni) : NULL;
        if (!f->name || !avro_valid_ident(f->name, strlen(f->name)))
            return avro_fail(p, "a field of record %s has no valid \"name\"", node->fullname);
        for (uint32_t j = 0; j < node->nfields; j++)
            if (!strcmp(node->fields[j].name, f->name)) return avro_fail(p, "duplicate field %s", f->name);
        if (ti < 0) return avro_fail(p, "field %s has no \"type\"", f->name);
        int rc = avro_parse_node(p, (uint32_t)ti, node->space, &f->type);
        if (rc) return rc;
        int64_t di = avro_member(p, c, "default");
        if (di >= 0) {
            f->default_json = avro_json_text(p, (uint32_t)di);
            if (!f->default_json) return avro_fail(p, "invalid default for field %s", f->name);
            if (!api_avro_default_valid(f->type, p->doc, (uint32_t)di, 0))
                return avro_fail(p, "invalid default for field %s", f->name);
        }
        int64_t oi = avro_member(p, c, "order");
        if (oi >= 0) {
            f->order = avro_str(p, (uint32_t)oi);
            if (!f->order || (strcmp(f->order, "ascending") && strcmp(f->order, "descending") && strcmp(f->order, "ignore")))
                return avro_fail(p, "field %s: order must be ascending, descending or ignore", f->name);
        }
        int64_t doci = avro_member(p, c, "doc");
        if (doci >= 0) f->doc = avro_str(p, (uint32_t)doci);
        rc = avro_string_list(p, avro_member(p, c, "aliases"), "aliases", &f->aliases, &f->naliases);
        if (rc) return rc;
        rc = avro_collect_props(p, c, known, EDDY_ARRAY_LEN(known), &f->props, &f->nprops);
        if (rc) return rc;
        node->nfields++;
    }
    return EDDY_OK;
}

static int avro_parse_union(avro_parser_t *p, uint32_t arr, const char *space, api_avro_node_t *node) {
    const json_node_t *a = json_node(p->doc, arr);
    node->branches = a->count ? arena_alloc(&p->s->arena, a->count * sizeof *node->branches) : NULL;
    if (a->count && !node->branches) return EDDY_ERR_NOMEM;
    for (uint32_t c = json_first_child(arr), k = 0; k < a->count; k++, c = json_next(p->doc, c)) {
        api_avro_node_t *b;
        int rc = avro_parse_node(p, c, space, &b);
        if (rc) return rc;
        if (b->type == API_AVRO_UNION) return avro_fail(p, "unions may not immediately contain other unions%s", NULL);
        for (uint32_t j = 0; j < node->nbranches; j++) {
            const api_avro_node_t *o = node->branches[j];
            bool named = b->fullname != NULL;
            if (o->type == b->type && (!named || !strcmp(o->fullname, b->fullname)))
                return avro_fail(p, "duplicate in union: %s", named ? b->fullname : avro_type_names[b->type]);
        }
        node->branches[node->nbranches++] = b;
    }
    return EDDY_OK;
}

static int avro_parse_object(avro_parser_t *p, uint32_t obj, const char *space, api_avro_node_t **out) {
    int64_t ti = avro_member(p, obj, "type");
    if (ti < 0) return avro_fail(p, "a schema object needs a \"type\"%s", NULL);
    const json_node_t *tn = json_node(p->doc, (uint32_t)ti);
    if (tn->type != JSON_STRING) {
        /* {"type": {...}} or {"type": [...]}: the attribute holds a whole schema. */
        return avro_parse_node(p, (uint32_t)ti, space, out);
    }
    char *tname = avro_str(p, (uint32_t)ti);
    if (!tname) return avro_fail(p, "invalid \"type\"%s", NULL);
    api_avro_node_t *node = arena_alloc(&p->s->arena, sizeof *node);
    if (!node) return EDDY_ERR_NOMEM;
    memset(node, 0, sizeof *node);
    api_avro_type_t prim;
    int rc = EDDY_OK;
    static const char *const known_named[] = {"type", "name", "namespace", "doc", "aliases", "fields", "symbols", "default", "size"};
    static const char *const known_array[] = {"type", "items"};
    static const char *const known_map[] = {"type", "values"};
    static const char *const known_prim[] = {"type"};
    const char *const *known = known_prim;
    size_t nknown = 1;
    if (avro_is_primitive(tname, &prim)) {
        node->type = prim;
    } else if (!strcmp(tname, "record") || !strcmp(tname, "error")) {
        node->type = API_AVRO_RECORD;
        node->is_error = tname[0] == 'e';
        if ((rc = avro_parse_name(p, obj, space, node))) return rc;
        if ((rc = avro_parse_record(p, obj, node))) return rc;
        known = known_named;
        nknown = EDDY_ARRAY_LEN(known_named);
    } else if (!strcmp(tname, "enum")) {
        node->type = API_AVRO_ENUM;
        if ((rc = avro_parse_name(p, obj, space, node))) return rc;
        int64_t si = avro_member(p, obj, "symbols");
        if (si < 0) return avro_fail(p, "enum %s needs \"symbols\"", node->fullname);
        if ((rc = avro_string_list(p, si, "symbols", &node->symbols, &node->nsymbols))) return rc;
        for (uint32_t k = 0; k < node->nsymbols; k++) {
            if (!avro_valid_ident(node->symbols[k], strlen(node->symbols[k])))
                return avro_fail(p, "invalid enum symbol '%s'", node->symbols[k]);
            for (uint32_t j = 0; j < k; j++)
                if (!strcmp(node->symbols[j], node->symbols[k])) return avro_fail(p, "duplicate enum symbol %s", node->symbols[k]);
        }
        int64_t di = avro_member(p, obj, "default");
        if (di >= 0) {
            node->enum_default = avro_str(p, (uint32_t)di);
            bool found = false;
            for (uint32_t k = 0; node->enum_default && k < node->nsymbols; k++) found |= !strcmp(node->symbols[k], node->enum_default);
            if (!found) return avro_fail(p, "the default of enum %s is not one of its symbols", node->fullname);
        }
        known = known_named;
        nknown = EDDY_ARRAY_LEN(known_named);
    } else if (!strcmp(tname, "fixed")) {
        node->type = API_AVRO_FIXED;
        if ((rc = avro_parse_name(p, obj, space, node))) return rc;
        int64_t si = avro_member(p, obj, "size");
        if (si < 0 || json_number_i64(json_node(p->doc, (uint32_t)si), &node->size) != EDDY_OK || node->size < 0 ||
            node->size > INT32_MAX)
            return avro_fail(p, "fixed %s needs a non-negative integer \"size\"", node->fullname);
        known = known_named;
        nknown = EDDY_ARRAY_LEN(known_named);
    } else if (!strcmp(tname, "array") || !strcmp(tname, "map")) {
        bool array = tname[0] == 'a';
        node->type = array ? API_AVRO_ARRAY : API_AVRO_MAP;
        int64_t ii = avro_member(p, obj, array ? "items" : "values");
        if (ii < 0) return avro_fail(p, array ? "an array needs \"items\"%s" : "a map needs \"values\"%s", NULL);
        if ((rc = avro_parse_node(p, (uint32_t)ii, space, &node->items))) return rc;
        known = array ? known_array : known_map;
        nknown = 2;
    } else {
        /* {"type": "Name"}: a reference to a named type, possibly with properties. */
        api_avro_node_t *ref = avro_named_lookup(p, tname, space);
        if (!ref) return avro_fail(p, "undefined name: %s", tname);
        *out = ref;
        return EDDY_OK;
    }
    rc = avro_collect_props(p, obj, known, nknown, &node->props, &node->nprops);
    if (rc) return rc;
    *out = node;
    return EDDY_OK;
}

static int avro_parse_node(avro_parser_t *p, uint32_t i, const char *space, api_avro_node_t **out) {
    if (++p->depth > AVRO_MAX_DEPTH) return avro_fail(p, "schema nested too deeply%s", NULL);
    const json_node_t *n = json_node(p->doc, i);
    int rc;
    if (n->type == JSON_STRING) {
        char *name = avro_str(p, i);
        api_avro_type_t prim;
        if (!name) rc = avro_fail(p, "invalid type name%s", NULL);
        else if (avro_is_primitive(name, &prim)) {
            api_avro_node_t *node = arena_alloc(&p->s->arena, sizeof *node);
            if (!node) rc = EDDY_ERR_NOMEM;
            else {
                memset(node, 0, sizeof *node);
                node->type = prim;
                *out = node;
                rc = EDDY_OK;
            }
        } else {
            *out = avro_named_lookup(p, name, space);
            rc = *out ? EDDY_OK : avro_fail(p, "undefined name: %s", name);
        }
    } else if (n->type == JSON_ARRAY) {
        api_avro_node_t *node = arena_alloc(&p->s->arena, sizeof *node);
        if (!node) rc = EDDY_ERR_NOMEM;
        else {
            memset(node, 0, sizeof *node);
            node->type = API_AVRO_UNION;
            rc = avro_parse_union(p, i, space, node);
            *out = node;
        }
    } else if (n->type == JSON_OBJECT) {
        rc = avro_parse_object(p, i, space, out);
    } else {
        rc = avro_fail(p, "a schema must be a type name, an object or a union array%s", NULL);
    }
    p->depth--;
    return rc;
}

/* ---- the normalized text ----------------------------------------------------------------- */

typedef struct {
    wr_t *w;
    const api_avro_node_t **seen; /* named types already written (written again by name) */
    uint32_t nseen, capseen;
} avro_writer_t;

static void avro_write_key(wr_t *w, const char *key) {
    json_write_string(w, key, strlen(key));
    wr_u8(w, ':');
}

static void avro_write_strs(wr_t *w, const char *key, const char *const *items, uint32_t n) {
    wr_u8(w, ',');
    avro_write_key(w, key);
    wr_u8(w, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i) wr_u8(w, ',');
        json_write_string(w, items[i], strlen(items[i]));
    }
    wr_u8(w, ']');
}

static void avro_write_props(wr_t *w, const api_avro_prop_t *props, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        wr_u8(w, ',');
        avro_write_key(w, props[i].key);
        wr_str(w, props[i].json);
    }
}

static void avro_write_node(avro_writer_t *aw, const api_avro_node_t *n, const char *space) {
    wr_t *w = aw->w;
    if (n->fullname) {
        for (uint32_t i = 0; i < aw->nseen; i++)
            if (aw->seen[i] == n) {
                const char *ref = n->space && space && !strcmp(n->space, space) ? n->name : n->fullname;
                json_write_string(w, ref, strlen(ref));
                return;
            }
        if (aw->nseen == aw->capseen) {
            uint32_t cap = aw->capseen ? aw->capseen * 2 : 16;
            const api_avro_node_t **seen = eddy_realloc(aw->seen, cap * sizeof *seen);
            if (!seen) {
                w->err = EDDY_ERR_NOMEM;
                return;
            }
            aw->seen = seen;
            aw->capseen = cap;
        }
        aw->seen[aw->nseen++] = n;
    }
    if (n->type <= API_AVRO_STRING && n->nprops == 0) {
        json_write_string(w, avro_type_names[n->type], strlen(avro_type_names[n->type]));
        return;
    }
    if (n->type == API_AVRO_UNION) {
        wr_u8(w, '[');
        for (uint32_t i = 0; i < n->nbranches; i++) {
            if (i) wr_u8(w, ',');
            avro_write_node(aw, n->branches[i], space);
        }
        wr_u8(w, ']');
        return;
    }
    wr_u8(w, '{');
    avro_write_key(w, "type");
    const char *tname = n->is_error ? "error" : avro_type_names[n->type];
    json_write_string(w, tname, strlen(tname));
    if (n->fullname) {
        wr_u8(w, ',');
        avro_write_key(w, "name");
        json_write_string(w, n->name, strlen(n->name));
        if (n->space && (!space || strcmp(n->space, space))) {
            wr_u8(w, ',');
            avro_write_key(w, "namespace");
            json_write_string(w, n->space, strlen(n->space));
        } else if (!n->space && space) {
            wr_str(w, ",\"namespace\":\"\""); /* back to the null namespace */
        }
        if (n->doc) {
            wr_u8(w, ',');
            avro_write_key(w, "doc");
            json_write_string(w, n->doc, strlen(n->doc));
        }
    }
    const char *inner = n->fullname ? n->space : space;
    switch (n->type) {
    case API_AVRO_RECORD:
        wr_u8(w, ',');
        avro_write_key(w, "fields");
        wr_u8(w, '[');
        for (uint32_t i = 0; i < n->nfields; i++) {
            const api_avro_field_t *f = &n->fields[i];
            if (i) wr_u8(w, ',');
            wr_u8(w, '{');
            avro_write_key(w, "name");
            json_write_string(w, f->name, strlen(f->name));
            wr_u8(w, ',');
            avro_write_key(w, "type");
            avro_write_node(aw, f->type, inner);
            if (f->doc) {
                wr_u8(w, ',');
                avro_write_key(w, "doc");
                json_write_string(w, f->doc, strlen(f->doc));
            }
            if (f->default_json) {
                wr_u8(w, ',');
                avro_write_key(w, "default");
                wr_str(w, f->default_json);
            }
            if (f->order && strcmp(f->order, "ascending")) {
                wr_u8(w, ',');
                avro_write_key(w, "order");
                json_write_string(w, f->order, strlen(f->order));
            }
            if (f->naliases) avro_write_strs(w, "aliases", f->aliases, f->naliases);
            avro_write_props(w, f->props, f->nprops);
            wr_u8(w, '}');
        }
        wr_u8(w, ']');
        break;
    case API_AVRO_ENUM:
        avro_write_strs(w, "symbols", n->symbols, n->nsymbols);
        if (n->enum_default) {
            wr_u8(w, ',');
            avro_write_key(w, "default");
            json_write_string(w, n->enum_default, strlen(n->enum_default));
        }
        break;
    case API_AVRO_FIXED:
        wr_u8(w, ',');
        avro_write_key(w, "size");
        json_write_i64(w, n->size);
        break;
    case API_AVRO_ARRAY:
    case API_AVRO_MAP:
        wr_u8(w, ',');
        avro_write_key(w, n->type == API_AVRO_ARRAY ? "items" : "values");
        avro_write_node(aw, n->items, space);
        break;
    default: break;
    }
    avro_write_props(w, n->props, n->nprops);
    if (n->fullname && n->naliases) avro_write_strs(w, "aliases", n->aliases, n->naliases);
    wr_u8(w, '}');
}

/* ---- public ------------------------------------------------------------------------------ */

int api_avro_schema_parse(const char *text, size_t len, api_avro_schema_t **out, char *errstr, size_t errlen) {
    json_doc_t doc;
    json_doc_init(&doc);
    api_avro_schema_t *s = eddy_calloc(1, sizeof *s);
    if (!s) return EDDY_ERR_NOMEM;
    arena_init(&s->arena, 4096);
    int rc = json_parse(&doc, text, len);
    if (rc == EDDY_ERR_CORRUPT) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "the schema is not valid JSON (%s at byte %zu)", doc.errmsg, doc.errpos);
        goto err;
    }
    if (rc) goto err;
    avro_parser_t p = {s, &doc, errstr, errlen, 0};
    rc = avro_parse_node(&p, 0, NULL, &s->root);
    if (rc) goto err;
    wr_t w;
    wr_init(&w, 256);
    avro_writer_t aw = {&w, NULL, 0, 0};
    avro_write_node(&aw, s->root, NULL);
    eddy_free(aw.seen);
    if (!wr_ok(&w)) {
        wr_free(&w);
        rc = EDDY_ERR_NOMEM;
        goto err;
    }
    s->text = arena_strndup(&s->arena, (char *)w.buf, w.len);
    s->text_len = w.len;
    wr_free(&w);
    if (!s->text) {
        rc = EDDY_ERR_NOMEM;
        goto err;
    }
    json_doc_free(&doc);
    *out = s;
    return EDDY_OK;
err:
    json_doc_free(&doc);
    api_avro_schema_free(s);
    return rc;
}

void api_avro_schema_free(api_avro_schema_t *s) {
    if (!s) return;
    arena_free(&s->arena);
    eddy_free(s);
}

/* Java's Schema.isValidDefault: the JSON default must fit the field's type (a union's default
 * fits its first branch). */
bool api_avro_default_valid(const api_avro_node_t *n, const json_doc_t *d, uint32_t i, int depth) {
    if (depth > AVRO_MAX_DEPTH) return false;
    const json_node_t *v = json_node(d, i);
    switch (n->type) {
    case API_AVRO_NULL: return v->type == JSON_NULL;
    case API_AVRO_BOOLEAN: return v->type == JSON_TRUE || v->type == JSON_FALSE;
    case API_AVRO_INT: {
        int64_t x;
        return v->type == JSON_NUMBER && json_number_i64(v, &x) == EDDY_OK && x >= INT32_MIN && x <= INT32_MAX;
    }
    case API_AVRO_LONG: {
        int64_t x;
        return v->type == JSON_NUMBER && json_number_i64(v, &x) == EDDY_OK;
    }
    case API_AVRO_FLOAT:
    case API_AVRO_DOUBLE: return v->type == JSON_NUMBER;
    case API_AVRO_BYTES:
    case API_AVRO_STRING:
    case API_AVRO_FIXED: return v->type == JSON_STRING;
    case API_AVRO_ENUM: {
        if (v->type != JSON_STRING) return false;
        for (uint32_t k = 0; k < n->nsymbols; k++)
            if (json_string_eq(v, n->symbols[k], strlen(n->symbols[k]))) return true;
        return false;
    }
    case API_AVRO_ARRAY: {
        if (v->type != JSON_ARRAY) return false;
        for (uint32_t c = json_first_child(i), k = 0; k < v->count; k++, c = json_next(d, c))
            if (!api_avro_default_valid(n->items, d, c, depth + 1)) return false;
        return true;
    }
    case API_AVRO_MAP: {
        if (v->type != JSON_OBJECT) return false;
        for (uint32_t c = json_first_child(i), k = 0; k < v->count; k++) {
            uint32_t val = json_next(d, c);
            if (!api_avro_default_valid(n->items, d, val, depth + 1)) return false;
            c = json_next(d, val);
        }
        return true;
    }
    case API_AVRO_RECORD: {
        if (v->type != JSON_OBJECT) return false;
        for (uint32_t k = 0; k < n->nfields; k++) {
            const api_avro_field_t *f = &n->fields[k];
            int64_t fv = json_object_get(d, i, f->name, strlen(f->name));
            if (fv < 0) {
                if (!f->default_json) return false;
            } else if (!api_avro_default_valid(f->type, d, (uint32_t)fv, depth + 1)) {
                return false;
            }
        }
        return true;
    }
    case API_AVRO_UNION: return n->nbranches > 0 && api_avro_default_valid(n->branches[0], d, i, depth + 1);
    }
    return false;
}
