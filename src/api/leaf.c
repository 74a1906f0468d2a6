/* The leaf model: one row of demo.leaves, its JSON (the leaf event on topic `leaves` and the
 * Leaves API's bodies), the import of the workshop's records, and the workshop API's rules for
 * ids, domains, tags and the `all` column. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "api/api_int.h"

const api_leaf_column_t api_leaf_columns[LEAF_NCOLS] = {
    [LEAF_ID] = {"id", LEAF_TEXT},
    [LEAF_ALL] = {"all", LEAF_LIST},
    [LEAF_CONTENT] = {"content", LEAF_TEXT},
    [LEAF_CONTENT_TEXT] = {"content_text", LEAF_TEXT},
    [LEAF_CREATED_AT] = {"created_at", LEAF_TIMESTAMP},
    [LEAF_DOMAIN_NAME] = {"domain_name", LEAF_TEXT},
    [LEAF_HTTP_STATUS] = {"http_status", LEAF_TEXT},
    [LEAF_IS_ARCHIVED] = {"is_archived", LEAF_INT},
    [LEAF_IS_PUBLIC] = {"is_public", LEAF_BOOL},
    [LEAF_IS_STARRED] = {"is_starred", LEAF_INT},
    [LEAF_LANGUAGE] = {"language", LEAF_TEXT},
    [LEAF_LINKS] = {"links", LEAF_LIST},
    [LEAF_MIMETYPE] = {"mimetype", LEAF_TEXT},
    [LEAF_PREVIEW_PICTURE] = {"preview_picture", LEAF_TEXT},
    [LEAF_READING_TIME] = {"reading_time", LEAF_INT},
    [LEAF_SLUGS] = {"slugs", LEAF_LIST},
    [LEAF_TAGS] = {"tags", LEAF_LIST},
    [LEAF_TITLE] = {"title", LEAF_TEXT},
    [LEAF_UPDATED_AT] = {"updated_at", LEAF_TIMESTAMP},
    [LEAF_URL] = {"url", LEAF_TEXT},
    [LEAF_USER_EMAIL] = {"user_email", LEAF_TEXT},
    [LEAF_USER_ID] = {"user_id", LEAF_INT},
    [LEAF_USER_NAME] = {"user_name", LEAF_TEXT},
};

/* Fields of the workshop's records that have no column: dropped on import. */
static const char *const api_leaf_record_dropped[] = {
    "uid", "published_at", "published_by", "annotations", "headers", "origin_url", "starred_at",
};

/* What PATCH /api/leaves/{id} may change (the workshop API's list). */
static const api_leaf_col_t api_leaf_patchable[] = {
    LEAF_TITLE, LEAF_TAGS, LEAF_IS_ARCHIVED, LEAF_IS_STARRED, LEAF_CONTENT,
    LEAF_LANGUAGE, LEAF_PREVIEW_PICTURE, LEAF_IS_PUBLIC, LEAF_URL,
};

api_leaf_t *api_leaf_new(void) {
    api_leaf_t *leaf = eddy_calloc(1, sizeof *leaf);
    if (leaf) arena_init(&leaf->arena, 1024);
    return leaf;
}

void api_leaf_free(api_leaf_t *leaf) {
    if (!leaf) return;
    arena_free(&leaf->arena);
    eddy_free(leaf);
}

int api_leaf_set_text(api_leaf_t *leaf, api_leaf_col_t col, const char *s, size_t len) {
    if (!s) {
        api_leaf_set_null(leaf, col);
        return EDDY_OK;
    }
    char *copy = arena_strndup(&leaf->arena, s, len);
    if (!copy) return EDDY_ERR_NOMEM;
    leaf->v[col].set = true;
    leaf->v[col].u.s = copy;
    return EDDY_OK;
}

void api_leaf_set_int(api_leaf_t *leaf, api_leaf_col_t col, int64_t v) {
    leaf->v[col].set = true;
    leaf->v[col].u.i = v;
}

void api_leaf_set_bool(api_leaf_t *leaf, api_leaf_col_t col, bool v) {
    leaf->v[col].set = true;
    leaf->v[col].u.b = v;
}

void api_leaf_set_null(api_leaf_t *leaf, api_leaf_col_t col) { memset(&leaf->v[col], 0, sizeof leaf->v[col]); }

int api_leaf_set_list(api_leaf_t *leaf, api_leaf_col_t col, const char *const *items, const size_t *lens, uint32_t count) {
    api_leaf_set_null(leaf, col);
    if (count == 0) return EDDY_OK;
    char **copy = arena_alloc(&leaf->arena, count * sizeof *copy);
    if (!copy) return EDDY_ERR_NOMEM;
    for (uint32_t i = 0; i < count; i++) {
        copy[i] = arena_strndup(&leaf->arena, items[i], lens ? lens[i] : strlen(items[i]));
        if (!copy[i]) return EDDY_ERR_NOMEM;
    }
    leaf->v[col].set = true;
    leaf->v[col].u.l = (api_leaf_list_t){copy, count};
    return EDDY_OK;
}

int api_leaf_list_append(api_leaf_t *leaf, api_leaf_col_t col, const char *s, size_t len) {
    api_leaf_list_t old = leaf->v[col].set ? leaf->v[col].u.l : (api_leaf_list_t){NULL, 0};
    char **items = arena_alloc(&leaf->arena, (old.count + 1) * sizeof *items);
    char *copy = arena_strndup(&leaf->arena, s, len);
    if (!items || !copy) return EDDY_ERR_NOMEM;
    if (old.count) memcpy(items, old.items, old.count * sizeof *items);
    items[old.count] = copy;
    leaf->v[col].set = true;
    leaf->v[col].u.l = (api_leaf_list_t){items, old.count + 1};
    return EDDY_OK;
}

api_leaf_t *api_leaf_clone(const api_leaf_t *leaf) {
    api_leaf_t *c = api_leaf_new();
    if (!c) return NULL;
    for (int col = 0; col < LEAF_NCOLS; col++) {
        const api_leaf_value_t *v = &leaf->v[col];
        if (!v->set) continue;
        int rc = EDDY_OK;
        switch (api_leaf_columns[col].type) {
        case LEAF_TEXT: rc = api_leaf_set_text(c, (api_leaf_col_t)col, v->u.s, strlen(v->u.s)); break;
        case LEAF_LIST:
            rc = api_leaf_set_list(c, (api_leaf_col_t)col, (const char *const *)v->u.l.items, NULL, v->u.l.count);
            break;
        default: c->v[col] = *v;
        }
        if (rc != EDDY_OK) {
            api_leaf_free(c);
            return NULL;
        }
    }
    return c;
}

/* ---- JSON in ------------------------------------------------------------------------------- */

static int api_leaf_col_find(const json_node_t *key) {
    for (int i = 0; i < LEAF_NCOLS; i++)
        if (json_string_eq(key, api_leaf_columns[i].name, strlen(api_leaf_columns[i].name))) return i;
    return -1;
}

/* Decodes a string node into the leaf's arena (NUL-terminated); NULL on a bad escape or no
 * memory. */
static char *api_leaf_json_str(api_leaf_t *leaf, const json_node_t *n, size_t *len) {
    char *out = arena_alloc(&leaf->arena, n->len + 1);
    if (!out) return NULL;
    long k = json_string_unescape(n, out);
    if (k < 0) return NULL;
    out[k] = 0;
    if (len) *len = (size_t)k;
    return out;
}

/* An int cell from a number or a string of digits (INSERT JSON accepts both). */
static int api_leaf_json_int(api_leaf_t *leaf, const json_node_t *n, int64_t *v) {
    if (n->type == JSON_NUMBER) return json_number_i64(n, v);
    if (n->type != JSON_STRING) return EDDY_ERR_INVALID;
    char *s = api_leaf_json_str(leaf, n, NULL);
    if (!s || !*s) return EDDY_ERR_INVALID;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end || errno) return EDDY_ERR_INVALID;
    *v = x;
    return EDDY_OK;
}

static int api_leaf_json_value(api_leaf_t *leaf, api_leaf_col_t col, const json_doc_t *doc, uint32_t vi, bool record) {
    const json_node_t *n = json_node(doc, vi);
    if (n->type == JSON_NULL) {
        api_leaf_set_null(leaf, col);
        return EDDY_OK;
    }
    switch (api_leaf_columns[col].type) {
    case LEAF_TEXT: {
        /* Records carry numbers where the table has text (ids, http_status); rows may not. */
        if (record && n->type == JSON_NUMBER && n->is_integer) return api_leaf_set_text(leaf, col, n->text, n->len);
        if (n->type != JSON_STRING) return EDDY_ERR_INVALID;
        size_t len;
        char *s = api_leaf_json_str(leaf, n, &len);
        if (!s) return EDDY_ERR_INVALID;
        leaf->v[col].set = true;
        leaf->v[col].u.s = s;
        return EDDY_OK;
    }
    case LEAF_INT: {
        int64_t v;
        if (api_leaf_json_int(leaf, n, &v) != EDDY_OK || v < INT32_MIN || v > INT32_MAX) return EDDY_ERR_INVALID;
        api_leaf_set_int(leaf, col, v);
        return EDDY_OK;
    }
    case LEAF_BOOL: {
        if (n->type == JSON_TRUE || n->type == JSON_FALSE) {
            api_leaf_set_bool(leaf, col, n->type == JSON_TRUE);
            return EDDY_OK;
        }
        if (n->type != JSON_STRING) return EDDY_ERR_INVALID;
        char *s = api_leaf_json_str(leaf, n, NULL);
        if (s && !strcasecmp(s, "true")) api_leaf_set_bool(leaf, col, true);
        else if (s && !strcasecmp(s, "false")) api_leaf_set_bool(leaf, col, false);
        else return EDDY_ERR_INVALID;
        return EDDY_OK;
    }
    case LEAF_TIMESTAMP: {
        int64_t ms;
        if (n->type == JSON_NUMBER) {
            if (json_number_i64(n, &ms) != EDDY_OK) return EDDY_ERR_INVALID;
        } else if (n->type == JSON_STRING) {
            size_t len;
            char *s = api_leaf_json_str(leaf, n, &len);
            if (!s) return EDDY_ERR_INVALID;
            char *end;
            errno = 0;
            long long x = strtoll(s, &end, 10);
            if (len && !*end && !errno) ms = x;
            else if (time_parse_iso8601(s, len, &ms) != EDDY_OK) return EDDY_ERR_INVALID;
        } else {
            return EDDY_ERR_INVALID;
        }
        /* Years 1 to 9999: what ISO-8601 text (our output) can carry. */
        if (ms < -62135596800000LL || ms > 253402300799999LL) return EDDY_ERR_INVALID;
        api_leaf_set_int(leaf, col, ms);
        return EDDY_OK;
    }
    case LEAF_LIST: {
        if (n->type != JSON_ARRAY) return EDDY_ERR_INVALID;
        api_leaf_set_null(leaf, col);
        for (uint32_t c = json_first_child(vi), k = 0; k < n->count; k++, c = json_next(doc, c)) {
            const json_node_t *item = json_node(doc, c);
            if (item->type != JSON_STRING) return EDDY_ERR_INVALID;
            size_t len;
            char *s = api_leaf_json_str(leaf, item, &len);
            if (!s || api_leaf_list_append(leaf, col, s, len) != EDDY_OK) return EDDY_ERR_INVALID;
        }
        return EDDY_OK;
    }
    }
    return EDDY_ERR_INVALID;
}

static const char *api_leaf_type_name(api_leaf_type_t t) {
    switch (t) {
    case LEAF_TEXT: return "a string";
    case LEAF_INT: return "an integer";
    case LEAF_BOOL: return "a boolean";
    case LEAF_TIMESTAMP: return "a timestamp (ISO-8601 or epoch milliseconds)";
    case LEAF_LIST: return "an array of strings";
    }
    return "?";
}

/* A record's tags: strings, or objects {"id", "label", "slug"} whose labels become the tags;
 * their slugs are collected in *slugs (the caller uses them unless the record has its own). */
static int api_leaf_record_tags(api_leaf_t *leaf, const json_doc_t *doc, uint32_t vi, api_leaf_list_t *slugs) {
    const json_node_t *n = json_node(doc, vi);
    if (n->type != JSON_ARRAY) return api_leaf_json_value(leaf, LEAF_TAGS, doc, vi, true);
    api_leaf_set_null(leaf, LEAF_TAGS);
    *slugs = (api_leaf_list_t){NULL, 0};
    char **items = n->count ? arena_alloc(&leaf->arena, n->count * sizeof *items) : NULL;
    if (n->count && !items) return EDDY_ERR_NOMEM;
    for (uint32_t c = json_first_child(vi), k = 0; k < n->count; k++, c = json_next(doc, c)) {
        const json_node_t *item = json_node(doc, c);
        size_t len;
        char *s;
        if (item->type == JSON_STRING) {
            s = api_leaf_json_str(leaf, item, &len);
            if (!s || api_leaf_list_append(leaf, LEAF_TAGS, s, len) != EDDY_OK) return EDDY_ERR_INVALID;
            continue;
        }
        if (item->type != JSON_OBJECT) return EDDY_ERR_INVALID;
        int64_t label = json_object_get(doc, c, "label", 5), slug = json_object_get(doc, c, "slug", 4);
        if (label < 0 || json_node(doc, (uint32_t)label)->type != JSON_STRING) return EDDY_ERR_INVALID;
        s = api_leaf_json_str(leaf, json_node(doc, (uint32_t)label), &len);
        if (!s || api_leaf_list_append(leaf, LEAF_TAGS, s, len) != EDDY_OK) return EDDY_ERR_INVALID;
        if (slug >= 0 && json_node(doc, (uint32_t)slug)->type == JSON_STRING) {
            s = api_leaf_json_str(leaf, json_node(doc, (uint32_t)slug), &len);
            if (!s) return EDDY_ERR_INVALID;
            items[slugs->count++] = s;
        }
    }
    slugs->items = items;
    return EDDY_OK;
}

/* A record's _links: an array of strings, or {"self": {"href": ...}, ...} (one link per href). */
static int api_leaf_record_links(api_leaf_t *leaf, const json_doc_t *doc, uint32_t vi) {
    const json_node_t *n = json_node(doc, vi);
    if (n->type != JSON_OBJECT) return api_leaf_json_value(leaf, LEAF_LINKS, doc, vi, true);
    api_leaf_set_null(leaf, LEAF_LINKS);
    for (uint32_t c = json_first_child(vi), k = 0; k < n->count; k++) {
        uint32_t v = json_next(doc, c);
        int64_t href = json_node(doc, v)->type == JSON_OBJECT ? json_object_get(doc, v, "href", 4) : -1;
        if (href < 0 || json_node(doc, (uint32_t)href)->type != JSON_STRING) return EDDY_ERR_INVALID;
        size_t len;
        char *s = api_leaf_json_str(leaf, json_node(doc, (uint32_t)href), &len);
        if (!s || api_leaf_list_append(leaf, LEAF_LINKS, s, len) != EDDY_OK) return EDDY_ERR_INVALID;
        c = json_next(doc, v);
    }
    return EDDY_OK;
}

static bool api_leaf_is_patchable(int col) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(api_leaf_patchable); i++)
        if ((int)api_leaf_patchable[i] == col) return true;
    return false;
}

int api_leaf_from_json(api_leaf_t *leaf, const json_doc_t *doc, uint32_t obj, api_leaf_json_mode_t mode,
                   char *errstr, size_t errlen) {
    const json_node_t *o = json_node(doc, obj);
    if (o->type != JSON_OBJECT) return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "a leaf must be a JSON object");
    bool record = mode == LEAF_JSON_RECORD, has_slugs = false;
    api_leaf_list_t tag_slugs = {NULL, 0};
    for (uint32_t c = json_first_child(obj), k = 0; k < o->count; k++) {
        const json_node_t *key = json_node(doc, c);
        uint32_t v = json_next(doc, c);
        c = json_next(doc, v);
        char name[64];
        long nl = key->len < sizeof name ? json_string_unescape(key, name) : -1;
        if (nl < 0) nl = 0;
        name[nl] = 0;
        int col = api_leaf_col_find(key);
        int rc;
        if (record && json_string_eq(key, "_links", 6)) {
            if (api_leaf_record_links(leaf, doc, v) != EDDY_OK)
                return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "field _links must be an array of strings or {\"self\": {\"href\": ...}}");
            continue;
        }
        if (col < 0) {
            bool dropped = false;
            for (size_t d = 0; record && d < EDDY_ARRAY_LEN(api_leaf_record_dropped); d++)
                if (!strcmp(name, api_leaf_record_dropped[d])) dropped = true;
            if (dropped) continue;
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "unknown field '%s' (not a column of demo.leaves)", name);
        }
        if (mode == LEAF_JSON_PATCH && !api_leaf_is_patchable(col))
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID,
                            "field '%s' cannot be updated (title, tags, is_archived, is_starred, content, language, "
                            "preview_picture, is_public and url can)", name);
        if (record && col == LEAF_TAGS) rc = api_leaf_record_tags(leaf, doc, v, &tag_slugs);
        else rc = api_leaf_json_value(leaf, (api_leaf_col_t)col, doc, v, record);
        if (col == LEAF_SLUGS) has_slugs = true;
        if (rc != EDDY_OK)
            return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "field '%s' must be %s%s", name,
                            api_leaf_type_name(api_leaf_columns[col].type), col == LEAF_ID ? "" : " or null");
    }
    if (tag_slugs.count && !has_slugs) {
        leaf->v[LEAF_SLUGS].set = true;
        leaf->v[LEAF_SLUGS].u.l = tag_slugs;
    }
    return EDDY_OK;
}

int api_leaf_parse(const char *text, size_t len, api_leaf_json_mode_t mode, api_leaf_t **out, char *errstr, size_t errlen) {
    json_doc_t doc;
    json_doc_init(&doc);
    api_leaf_t *leaf = NULL;
    int rc = json_parse(&doc, text, len);
    if (rc == EDDY_ERR_CORRUPT) {
        rc = eddy_err(errstr, errlen, EDDY_ERR_INVALID, "malformed JSON at byte %zu: %s", doc.errpos, doc.errmsg);
        goto err;
    }
    if (rc != EDDY_OK) goto err;
    leaf = api_leaf_new();
    if (!leaf) {
        rc = EDDY_ERR_NOMEM;
        goto err;
    }
    rc = api_leaf_from_json(leaf, &doc, 0, mode, errstr, errlen);
    if (rc != EDDY_OK) goto err;
    json_doc_free(&doc);
    *out = leaf;
    return EDDY_OK;
err:
    api_leaf_free(leaf);
    json_doc_free(&doc);
    return rc;
}

/* ---- JSON out ------------------------------------------------------------------------------ */

/* Integers and timestamps without printf: a GET writes a handful per leaf. */
void api_leaf_write_int(wr_t *w, int64_t v) {
    char buf[24];
    int n = sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do buf[--n] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0) buf[--n] = '-';
    wr_bytes(w, buf + n, sizeof buf - (size_t)n);
}

static void put_digits(char *p, unsigned v, int n) {
    for (int i = n - 1; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
}

/* "2019-06-19T12:43:13.000Z" for years 0-9999 (what the parser accepts), else base's form. */
void api_leaf_write_timestamp(wr_t *w, int64_t ms) {
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000, y;
    unsigned mo, d;
    time_civil_from_days(days, &y, &mo, &d);
    char ts[40];
    if (y < 0 || y > 9999) {
        size_t n = time_format_iso8601(ms, ts, sizeof ts);
        json_write_string(w, ts, n);
        return;
    }
    memcpy(ts, "\"0000-00-00T00:00:00.000Z\"", 26);
    put_digits(ts + 1, (unsigned)y, 4);
    put_digits(ts + 6, mo, 2);
    put_digits(ts + 9, d, 2);
    put_digits(ts + 12, (unsigned)(rem / 3600000), 2);
    put_digits(ts + 15, (unsigned)(rem / 60000 % 60), 2);
    put_digits(ts + 18, (unsigned)(rem / 1000 % 60), 2);
    put_digits(ts + 21, (unsigned)(rem % 1000), 3);
    wr_bytes(w, ts, 26);
}

void api_leaf_write_key(wr_t *w, api_leaf_col_t col) {
    /* The names are plain identifiers: nothing to escape. */
    wr_str(w, col ? ",\"" : "{\"");
    wr_str(w, api_leaf_columns[col].name);
    wr_str(w, "\":");
}

void api_leaf_write_json(wr_t *w, const api_leaf_t *leaf) {
    for (int col = 0; col < LEAF_NCOLS; col++) {
        api_leaf_write_key(w, (api_leaf_col_t)col);
        const api_leaf_value_t *v = &leaf->v[col];
        if (!v->set) {
            wr_str(w, "null");
            continue;
        }
        switch (api_leaf_columns[col].type) {
        case LEAF_TEXT: json_write_string(w, v->u.s, strlen(v->u.s)); break;
        case LEAF_INT: api_leaf_write_int(w, v->u.i); break;
        case LEAF_BOOL: wr_str(w, v->u.b ? "true" : "false"); break;
        case LEAF_TIMESTAMP: api_leaf_write_timestamp(w, v->u.i); break;
        case LEAF_LIST:
            wr_u8(w, '[');
            for (uint32_t i = 0; i < v->u.l.count; i++) {
                if (i) wr_u8(w, ',');
                json_write_string(w, v->u.l.items[i], strlen(v->u.l.items[i]));
            }
            wr_u8(w, ']');
            break;
        }
    }
    wr_u8(w, '}');
}

/* ---- the workshop API's rules ---------------------------------------------------------------- */

void api_leaf_id_from_url(const char *url, size_t len, char out[33]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(url, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16) {
        memset(out, '0', 32); /* only if OpenSSL lacks md5 altogether */
        out[32] = 0;
        return;
    }
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[32] = 0;
}

long api_leaf_domain_from_url(const char *url, size_t len, char *out, size_t outlen) {
    size_t p;
    if (len >= 7 && !strncmp(url, "http://", 7)) p = 7;
    else if (len >= 8 && !strncmp(url, "https://", 8)) p = 8;
    else return -1;
    size_t start = p;
    while (p < len && url[p] != '#' && url[p] != '?' && url[p] != '/') p++;
    if (p == start || p + 1 > outlen) return -1;
    memcpy(out, url, p);
    out[p] = 0;
    return (long)p;
}

char *api_leaf_tag_normalize(char *s, size_t len) {
    /* JavaScript's \s also matches Unicode spaces; the ASCII ones are what tags carry. */
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)s[i])) s[i] = '.';
    return s;
}

static bool api_leaf_list_has(const api_leaf_t *leaf, api_leaf_col_t col, const char *s, size_t len) {
    if (!leaf->v[col].set) return false;
    const api_leaf_list_t *l = &leaf->v[col].u.l;
    for (uint32_t i = 0; i < l->count; i++)
        if (strlen(l->items[i]) == len && !memcmp(l->items[i], s, len)) return true;
    return false;
}

int api_leaf_all_add_tag(api_leaf_t *leaf, const char *tag, size_t len) {
    if (api_leaf_list_has(leaf, LEAF_ALL, tag, len)) return EDDY_OK;
    int rc = api_leaf_list_append(leaf, LEAF_ALL, tag, len);
    return rc ? rc : api_leaf_list_append(leaf, LEAF_ALL, tag, len);
}

int api_leaf_all_remove_tags(api_leaf_t *leaf) {
    if (!leaf->v[LEAF_ALL].set) return EDDY_OK;
    api_leaf_list_t *all = &leaf->v[LEAF_ALL].u.l;
    uint32_t k = 0;
    for (uint32_t i = 0; i < all->count; i++)
        if (!api_leaf_list_has(leaf, LEAF_TAGS, all->items[i], strlen(all->items[i]))) all->items[k++] = all->items[i];
    all->count = k;
    if (k == 0) api_leaf_set_null(leaf, LEAF_ALL);
    return EDDY_OK;
}

int api_leaf_init_from_url(api_leaf_t *leaf, const char *url, size_t len, int64_t now_ms, char *errstr, size_t errlen) {
    char domain[2048];
    if (memchr(url, 0, len) || api_leaf_domain_from_url(url, len, domain, sizeof domain) < 0)
        return eddy_err(errstr, errlen, EDDY_ERR_INVALID, "url must start with http:// or https:// and name a host");
    char id[33], links[64], num[32];
    api_leaf_id_from_url(url, len, id);
    snprintf(links, sizeof links, "api/entries/%s", id);
    int rc = EDDY_OK;
    rc |= api_leaf_set_text(leaf, LEAF_URL, url, len);
    rc |= api_leaf_set_text(leaf, LEAF_ID, id, 32);
    api_leaf_set_int(leaf, LEAF_IS_ARCHIVED, 1);
    api_leaf_set_int(leaf, LEAF_IS_STARRED, 0);
    rc |= api_leaf_set_text(leaf, LEAF_USER_NAME, "admin", 5);
    rc |= api_leaf_set_text(leaf, LEAF_USER_EMAIL, "rahul@example.com", 17);
    api_leaf_set_int(leaf, LEAF_USER_ID, 1);
    api_leaf_set_bool(leaf, LEAF_IS_PUBLIC, false);
    rc |= api_leaf_set_text(leaf, LEAF_DOMAIN_NAME, domain, strlen(domain));
    api_leaf_set_int(leaf, LEAF_CREATED_AT, now_ms);
    api_leaf_set_int(leaf, LEAF_UPDATED_AT, now_ms);
    rc |= api_leaf_list_append(leaf, LEAF_LINKS, links, strlen(links));
    api_leaf_set_null(leaf, LEAF_TAGS);
    api_leaf_set_null(leaf, LEAF_SLUGS);
    /* `all`: every value in the Node.js API's key order, as strings. */
    snprintf(num, sizeof num, "%lld", (long long)now_ms);
    const char *all[] = {url, id, "1", "0", "admin", "rahul@example.com", "1", "false", domain, num, num, links};
    size_t lens[EDDY_ARRAY_LEN(all)];
    for (size_t i = 0; i < EDDY_ARRAY_LEN(all); i++) lens[i] = i == 0 ? len : strlen(all[i]);
    rc |= api_leaf_set_list(leaf, LEAF_ALL, all, lens, EDDY_ARRAY_LEN(all));
    return rc ? EDDY_ERR_NOMEM : EDDY_OK;
}
