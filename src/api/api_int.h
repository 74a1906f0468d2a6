/* Inside the api part: the leaf model, the generator, Avro, the schema registry, the REST proxy
 * and the Leaves API share these declarations. No other part includes this header. */
#ifndef EDDY_API_INT_H
#define EDDY_API_INT_H

#include "api/api.h"

/* ---- the leaf model (leaf.c) ---------------------------------------------------------------- */

/* The columns of demo.leaves, in the order Cassandra's SELECT * returns them (partition key
 * first, then the other columns alphabetically): the order of every leaf JSON eddy writes. */
typedef enum {
    LEAF_ID,
    LEAF_ALL,
    LEAF_CONTENT,
    LEAF_CONTENT_TEXT,
    LEAF_CREATED_AT,
    LEAF_DOMAIN_NAME,
    LEAF_HTTP_STATUS,
    LEAF_IS_ARCHIVED,
    LEAF_IS_PUBLIC,
    LEAF_IS_STARRED,
    LEAF_LANGUAGE,
    LEAF_LINKS,
    LEAF_MIMETYPE,
    LEAF_PREVIEW_PICTURE,
    LEAF_READING_TIME,
    LEAF_SLUGS,
    LEAF_TAGS,
    LEAF_TITLE,
    LEAF_UPDATED_AT,
    LEAF_URL,
    LEAF_USER_EMAIL,
    LEAF_USER_ID,
    LEAF_USER_NAME,
    LEAF_NCOLS
} api_leaf_col_t;

/* CQL types of the columns (text, int, boolean, timestamp, list<text>). */
typedef enum { LEAF_TEXT, LEAF_INT, LEAF_BOOL, LEAF_TIMESTAMP, LEAF_LIST } api_leaf_type_t;

typedef struct {
    const char *name;
    api_leaf_type_t type;
} api_leaf_column_t;

/* The column table, indexed by api_leaf_col_t. */
extern const api_leaf_column_t api_leaf_columns[LEAF_NCOLS];

/* A list<text>: count strings. A list with no items is null, as in Cassandra (an empty
 * non-frozen collection is no cell at all). */
typedef struct {
    char **items;
    uint32_t count;
} api_leaf_list_t;

/* One cell: set == false is null. */
typedef struct {
    bool set;
    union {
        char *s;      /* LEAF_TEXT */
        int64_t i;    /* LEAF_INT (32-bit range), LEAF_TIMESTAMP (ms since the epoch) */
        bool b;       /* LEAF_BOOL */
        api_leaf_list_t l;/* LEAF_LIST */
    } u;
} api_leaf_value_t;

/* A leaf: one row of demo.leaves. Strings live in the leaf's arena. */
typedef struct api_leaf {
    arena_t arena;
    api_leaf_value_t v[LEAF_NCOLS];
} api_leaf_t;

/* How api_leaf_from_json reads an object:
 *  LEAF_JSON_ROW     the columns of demo.leaves with the leniency of Cassandra's INSERT JSON
 *                    (ints and booleans may be strings, timestamps ISO-8601 or epoch ms), an
 *                    unknown field is an error: events on topic leaves and rows;
 *  LEAF_JSON_RECORD  a workshop record (leaves-sample.json, example-leaf.json, the Avro record):
 *                    _links -> links, numeric http_status and id -> strings, tag objects -> their
 *                    labels (slugs from them), fields with no column dropped;
 *  LEAF_JSON_PATCH   like ROW but every field optional and only the updatable ones allowed. */
typedef enum { LEAF_JSON_ROW, LEAF_JSON_RECORD, LEAF_JSON_PATCH } api_leaf_json_mode_t;

api_leaf_t *api_leaf_new(void);
void api_leaf_free(api_leaf_t *leaf);
/* A deep copy, or NULL when out of memory. */
api_leaf_t *api_leaf_clone(const api_leaf_t *leaf);

/* Setters copy their arguments into the leaf's arena; they return EDDY_OK or EDDY_ERR_NOMEM.
 * A NULL string (or a list of count 0) makes the cell null. */
int api_leaf_set_text(api_leaf_t *leaf, api_leaf_col_t col, const char *s, size_t len);
void api_leaf_set_int(api_leaf_t *leaf, api_leaf_col_t col, int64_t v);
void api_leaf_set_bool(api_leaf_t *leaf, api_leaf_col_t col, bool v);
int api_leaf_set_list(api_leaf_t *leaf, api_leaf_col_t col, const char *const *items, const size_t *lens, uint32_t count);
/* Appends one item to a list cell. */
int api_leaf_list_append(api_leaf_t *leaf, api_leaf_col_t col, const char *s, size_t len);
void api_leaf_set_null(api_leaf_t *leaf, api_leaf_col_t col);
static inline const char *api_leaf_text(const api_leaf_t *leaf, api_leaf_col_t col) {
    return leaf->v[col].set ? leaf->v[col].u.s : NULL;
}

/* Reads the object at node obj into leaf (fields it does not name stay as they were). Returns
 * EDDY_OK, or EDDY_ERR_INVALID with a message naming the field in errstr. */
int api_leaf_from_json(api_leaf_t *leaf, const json_doc_t *doc, uint32_t obj, api_leaf_json_mode_t mode,
                   char *errstr, size_t errlen);
/* Parses text as one JSON object into a new leaf (*out, free with api_leaf_free). */
int api_leaf_parse(const char *text, size_t len, api_leaf_json_mode_t mode, api_leaf_t **out, char *errstr, size_t errlen);
/* Writes the leaf as one JSON object with every column, in api_leaf_col_t order: text as strings,
 * timestamps as ISO-8601 UTC with milliseconds, lists as arrays, null for unset. */
void api_leaf_write_json(wr_t *w, const api_leaf_t *leaf);

/* id = the lowercase md5 hex of the url (33 bytes with the NUL). */
void api_leaf_id_from_url(const char *url, size_t len, char out[33]);
/* The url's scheme and host ("https://github.com" for "https://github.com/a?b"), as the workshop
 * API's /^https?:\/\/[^#?\/]+/ computes it. Returns the length written to out (NUL-terminated),
 * or -1 when the url does not start with http:// or https:// followed by a host. */
long api_leaf_domain_from_url(const char *url, size_t len, char *out, size_t outlen);
/* Normalises a tag as the workshop API does: every whitespace character becomes '.'. In place;
 * returns s. */
char *api_leaf_tag_normalize(char *s, size_t len);

/* The workshop API's defaults for a leaf created from a url (POST /api/leaves): id, url,
 * is_archived 1, is_starred 0, user fields, is_public false, domain_name, created_at and
 * updated_at = now_ms, links ["api/entries/<id>"], tags and slugs empty, and `all` built from
 * those values in the Node.js API's key order. Returns EDDY_OK or EDDY_ERR_INVALID (url). */
int api_leaf_init_from_url(api_leaf_t *leaf, const char *url, size_t len, int64_t now_ms, char *errstr, size_t errlen);
/* Adds value to `all` unless it is already there (twice for a tag: once for tags, once for
 * slugs, as the Node.js API does). */
int api_leaf_all_add_tag(api_leaf_t *leaf, const char *tag, size_t len);
/* Removes from `all` every item equal to one of the leaf's tags. */
int api_leaf_all_remove_tags(api_leaf_t *leaf);

#endif
