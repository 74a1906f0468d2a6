/* The Leaves REST API, with the contract of the workshop's Cassandra.Api (Node.js router.js and
 * processor.js, Python app.py, and their API tests):
 *   GET    /api/leaves             every row of demo.leaves in the table's order (?limit=N,
 *                                   ?rows=N, and the workshop's /api/leaves&rows=N)
 *   POST   /api/leaves {"url"}     201 with the new leaf (defaults of processor.js)
 *   GET    /api/leaves/{id}        the row, or 404 {"message": "Not Found"}
 *   PATCH  /api/leaves/{id}        title, tags, is_archived, is_starred, content, language,
 *                                   preview_picture, is_public, url: 201 with the whole row
 *   DELETE /api/leaves/{id}        200 {"message": "deleted"}
 *   GET|POST|DELETE /api/leaves/{id}/tags
 * Reads go to the table; writes are commands (leaves_cmd.c). Tags have their whitespace
 * replaced by '.', and slugs follow tags, as the workshop API does. */
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"

#define CT API_CTYPE_JSON

static void send_message(const api_responder_t *reply, int status, const char *msg) {
    api_send_error(reply, status, 0, CT, "%s", msg);
}

/* ---- commands: the new state ----------------------------------------------------------------- */

static void cmd_error(api_cmd_t *c, int status, const char *msg) {
    c->status = status;
    c->body_is_state = false;
    wr_reset(&c->body);
    wr_str(&c->body, "{\"message\":");
    json_write_string(&c->body, msg, strlen(msg));
    wr_u8(&c->body, '}');
}

static void cmd_ok(api_cmd_t *c, int status) {
    c->status = status;
    wr_reset(&c->body);
    if (c->result) api_leaf_write_json(&c->body, c->result);
    c->body_is_state = c->result != NULL; /* the event's value as well */
}

static bool list_has(const api_leaf_t *leaf, api_leaf_col_t col, const char *s) {
    for (uint32_t i = 0; leaf->v[col].set && i < leaf->v[col].u.l.count; i++)
        if (!strcmp(leaf->v[col].u.l.items[i], s)) return true;
    return false;
}

/* slugs follow tags (the workshop API stores the same list in both). */
static int slugs_follow_tags(api_leaf_t *leaf) {
    const api_leaf_value_t *t = &leaf->v[LEAF_TAGS];
    return api_leaf_set_list(leaf, LEAF_SLUGS, t->set ? (const char *const *)t->u.l.items : NULL, NULL,
                             t->set ? t->u.l.count : 0);
}

static int apply_patch(api_cmd_t *c, const api_leaf_t *current) {
    api_leaf_t *r = c->result = api_leaf_clone(current);
    if (!r) return EDDY_ERR_NOMEM;
    const api_leaf_t *in = c->input;
    int rc = EDDY_OK;
    for (int col = 0; col < LEAF_NCOLS && rc == EDDY_OK; col++) {
        if (!c->given[col]) continue;
        const api_leaf_value_t *v = &in->v[col];
        if (!v->set) {
            api_leaf_set_null(r, (api_leaf_col_t)col);
            continue;
        }
        switch (api_leaf_columns[col].type) {
        case LEAF_TEXT: rc = api_leaf_set_text(r, (api_leaf_col_t)col, v->u.s, strlen(v->u.s)); break;
        case LEAF_LIST: rc = api_leaf_set_list(r, (api_leaf_col_t)col, (const char *const *)v->u.l.items, NULL, v->u.l.count); break;
        default: r->v[col] = *v;
        }
    }
    if (rc == EDDY_OK && c->given[LEAF_TAGS]) {
        rc = slugs_follow_tags(r);
        for (uint32_t i = 0; rc == EDDY_OK && r->v[LEAF_TAGS].set && i < r->v[LEAF_TAGS].u.l.count; i++)
            rc = api_leaf_all_add_tag(r, r->v[LEAF_TAGS].u.l.items[i], strlen(r->v[LEAF_TAGS].u.l.items[i]));
    }
    if (rc == EDDY_OK && c->given[LEAF_URL]) {
        const char *url = api_leaf_text(r, LEAF_URL), *old = api_leaf_text(current, LEAF_URL);
        char domain[2048];
        if (!url || api_leaf_domain_from_url(url, strlen(url), domain, sizeof domain) < 0) {
            cmd_error(c, 400, "url must start with http:// or https:// and name a host");
            return EDDY_ERR_INVALID;
        }
        if (!old || strcmp(old, url)) {
            rc = api_leaf_set_text(r, LEAF_DOMAIN_NAME, domain, strlen(domain));
            if (rc == EDDY_OK && !(c->enrich_url = eddy_strdup(url))) rc = EDDY_ERR_NOMEM;
        }
    }
    api_leaf_set_int(r, LEAF_UPDATED_AT, time_now_ms());
    return rc;
}

static int apply_add_tags(api_cmd_t *c, const api_leaf_t *current) {
    api_leaf_t *r = c->result = api_leaf_clone(current);
    if (!r) return EDDY_ERR_NOMEM;
    int rc = EDDY_OK;
    for (uint32_t i = 0; i < c->ntags && rc == EDDY_OK; i++) {
        const char *t = c->tags[i];
        if (!list_has(r, LEAF_TAGS, t)) rc = api_leaf_list_append(r, LEAF_TAGS, t, strlen(t)); /* a set, in order */
        if (rc == EDDY_OK) rc = api_leaf_all_add_tag(r, t, strlen(t));
    }
    return rc ? rc : slugs_follow_tags(r);
}

/* The page's fields fill what the leaf lacks; the fetch's own facts (status, type, text,
 * reading time) are set. A leaf deleted or pointed elsewhere meanwhile is left alone. */
static int apply_enrich(api_cmd_t *c, const api_leaf_t *current) {
    const char *url = current ? api_leaf_text(current, LEAF_URL) : NULL;
    if (!current || !url || !c->enrich_url || strcmp(url, c->enrich_url)) {
        c->noop = true;
        return EDDY_OK;
    }
    eddy_free(c->enrich_url); /* no further fetch */
    c->enrich_url = NULL;
    api_leaf_t *r = c->result = api_leaf_clone(current);
    if (!r) return EDDY_ERR_NOMEM;
    static const api_leaf_col_t fill[] = {LEAF_TITLE, LEAF_CONTENT, LEAF_LANGUAGE, LEAF_PREVIEW_PICTURE};
    static const api_leaf_col_t set[] = {LEAF_CONTENT_TEXT, LEAF_MIMETYPE, LEAF_HTTP_STATUS, LEAF_READING_TIME};
    int rc = EDDY_OK;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(fill) + EDDY_ARRAY_LEN(set) && rc == EDDY_OK; i++) {
        bool is_fill = i < EDDY_ARRAY_LEN(fill);
        api_leaf_col_t col = is_fill ? fill[i] : set[i - EDDY_ARRAY_LEN(fill)];
        const api_leaf_value_t *v = &c->input->v[col];
        if (!v->set || (is_fill && r->v[col].set)) continue;
        if (api_leaf_columns[col].type == LEAF_TEXT) {
            rc = api_leaf_set_text(r, col, v->u.s, strlen(v->u.s));
            /* `all` lists every value of the leaf; the long ones would double its size. */
            if (rc == EDDY_OK && strlen(v->u.s) <= 256 && !list_has(r, LEAF_ALL, v->u.s))
                rc = api_leaf_list_append(r, LEAF_ALL, v->u.s, strlen(v->u.s));
        } else {
            r->v[col] = *v;
        }
    }
    return rc;
}

int api_leaves_apply(api_cmd_t *c, const api_leaf_t *current) {
    int rc = EDDY_OK;
    switch (c->kind) {
    case API_CMD_CREATE:
        /* As processor.js: a POST (re)creates the leaf with the defaults. */
        c->result = c->input;
        c->input = NULL;
        c->enrich_url = eddy_strdup(api_leaf_text(c->result, LEAF_URL));
        if (!c->enrich_url) rc = EDDY_ERR_NOMEM;
        else cmd_ok(c, 201);
        break;
    case API_CMD_PATCH:
        if (!current) {
            cmd_error(c, 404, "Not Found");
            return EDDY_ERR_NOT_FOUND;
        }
        rc = apply_patch(c, current);
        if (rc == EDDY_ERR_INVALID) return rc;
        if (rc == EDDY_OK) cmd_ok(c, 201);
        break;
    case API_CMD_ADD_TAGS:
        if (!current) {
            cmd_error(c, 404, "Not Found");
            return EDDY_ERR_NOT_FOUND;
        }
        rc = apply_add_tags(c, current);
        if (rc == EDDY_OK) cmd_ok(c, 201);
        break;
    case API_CMD_DELETE_TAGS:
        if (!current) {
            cmd_error(c, 404, "Not Found");
            return EDDY_ERR_NOT_FOUND;
        }
        if (!current->v[LEAF_TAGS].set) {
            cmd_error(c, 400, "No tags available to be deleted");
            return EDDY_ERR_INVALID;
        }
        if (!(c->result = api_leaf_clone(current))) return EDDY_ERR_NOMEM;
        api_leaf_all_remove_tags(c->result);
        api_leaf_set_null(c->result, LEAF_TAGS);
        api_leaf_set_null(c->result, LEAF_SLUGS);
        cmd_ok(c, 200);
        break;
    case API_CMD_DELETE:
        if (!current) {
            cmd_error(c, 404, "This item does not exist");
            return EDDY_ERR_NOT_FOUND;
        }
        c->result = NULL;
        c->status = 200;
        c->body_is_state = false;
        wr_reset(&c->body);
        wr_str(&c->body, "{\"message\":\"deleted\"}");
        break;
    case API_CMD_ENRICH: rc = apply_enrich(c, current); break;
    }
    if (rc != EDDY_OK) cmd_error(c, 500, rc == EDDY_ERR_NOMEM ? "out of memory" : eddy_strerror(rc));
    return rc;
}

/* ---- reads --------------------------------------------------------------------------------- */

static bool leaves_ready(api_t *api, const api_responder_t *reply) {
    if (api->leaves && api_leaves_backend(api->leaves)->get) return true;
    send_message(reply, 503, "the Leaves API needs the table store, which is not running");
    return false;
}

typedef struct {
    api_t *api;
    int64_t limit;
    api_responder_t reply;
} list_job_t;

/* A full scan can take long: it runs on a worker, never on an HTTP loop. */
static void list_job(void *arg) {
    list_job_t *j = arg;
    api_leaves_backend_t *b = api_leaves_backend(j->api->leaves);
    const api_responder_t *reply = &j->reply;
    int64_t limit = j->limit;
    wr_t w;
    wr_init(&w, 64 * 1024);
    wr_u8(&w, '[');
    size_t n = 0;
    char err[256] = "";
    int rc = b->scan(b->ctx, limit, &w, &n, err, sizeof err);
    wr_u8(&w, ']');
    if (rc != EDDY_OK) api_send_error(reply, 500, 0, CT, "cannot read demo.leaves: %s", err[0] ? err : eddy_strerror(rc));
    else api_send(reply, 200, CT, &w);
    wr_free(&w);
    eddy_free(j);
}

static void list_leaves(api_t *api, int64_t limit, const api_responder_t *reply) {
    if (!leaves_ready(api, reply)) return;
    list_job_t *j = eddy_malloc(sizeof *j);
    if (!j) {
        send_message(reply, 500, "out of memory");
        return;
    }
    *j = (list_job_t){api, limit, *reply};
    if (api_work_post(api->work, list_job, j) != EDDY_OK) {
        eddy_free(j);
        send_message(reply, 503, "eddy is shutting down");
    }
}

static bool parse_limit(const char *s, int64_t *out) {
    char *end;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || x < 0) return false;
    *out = x;
    return true;
}

static void h_list(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    char v[32];
    int64_t limit = 0;
    if ((api_query_get(req, "limit", v, sizeof v) || api_query_get(req, "rows", v, sizeof v)) && !parse_limit(v, &limit)) {
        send_message(reply, 400, "limit must be a non-negative integer");
        return;
    }
    list_leaves(api, limit, reply);
}

/* The row of id, or NULL after answering 404 / 500 (free with api_leaf_free). */
static api_leaf_t *fetch_leaf(api_t *api, const char *id, const api_responder_t *reply) {
    if (!leaves_ready(api, reply)) return NULL;
    api_leaves_backend_t *b = api_leaves_backend(api->leaves);
    api_leaf_t *leaf = api_leaf_new();
    char err[256] = "";
    int rc = leaf ? b->get(b->ctx, id, leaf, err, sizeof err) : EDDY_ERR_NOMEM;
    if (rc == EDDY_OK) return leaf;
    if (rc == EDDY_ERR_NOT_FOUND) send_message(reply, 404, "Not Found");
    else api_send_error(reply, 500, 0, CT, "cannot read demo.leaves: %s", err[0] ? err : eddy_strerror(rc));
    api_leaf_free(leaf);
    return NULL;
}

static void h_get(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    if (!leaves_ready(api, reply)) return;
    api_leaves_backend_t *b = api_leaves_backend(api->leaves);
    if (!b->get_json) {
        api_leaf_t *leaf = fetch_leaf(api, p->v[0], reply);
        if (!leaf) return;
        wr_t w;
        wr_init(&w, 2048);
        api_leaf_write_json(&w, leaf);
        api_send(reply, 200, CT, &w);
        wr_free(&w);
        api_leaf_free(leaf);
        return;
    }
    /* The common read: the row's cells go straight into the answer's JSON. */
    wr_t w;
    wr_init(&w, 4096);
    char err[256] = "";
    int rc = b->get_json(b->ctx, p->v[0], &w, err, sizeof err);
    if (rc == EDDY_OK) api_send(reply, 200, CT, &w);
    else if (rc == EDDY_ERR_NOT_FOUND) send_message(reply, 404, "Not Found");
    else api_send_error(reply, 500, 0, CT, "cannot read demo.leaves: %s", err[0] ? err : eddy_strerror(rc));
    wr_free(&w);
}

static void h_get_tags(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    api_leaf_t *leaf = fetch_leaf(api, p->v[0], reply);
    if (!leaf) return;
    wr_t w;
    wr_init(&w, 256);
    const api_leaf_value_t *t = &leaf->v[LEAF_TAGS];
    if (!t->set) {
        wr_str(&w, "null");
    } else {
        wr_u8(&w, '[');
        for (uint32_t i = 0; i < t->u.l.count; i++) {
            if (i) wr_u8(&w, ',');
            json_write_string(&w, t->u.l.items[i], strlen(t->u.l.items[i]));
        }
        wr_u8(&w, ']');
    }
    api_send(reply, 200, CT, &w);
    wr_free(&w);
    api_leaf_free(leaf);
}

/* ---- writes ------------------------------------------------------------------------------------ */

static api_cmd_t *new_cmd(api_t *api, api_cmd_kind_t kind, const char *id, const api_responder_t *reply) {
    api_cmd_t *c = api_cmd_new(api->leaves, kind, id, reply);
    if (!c) send_message(reply, strlen(id) > API_LEAF_ID_MAX ? 400 : 500, strlen(id) > API_LEAF_ID_MAX ? "id too long" : "out of memory");
    return c;
}

static void h_create(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    if (!leaves_ready(api, reply)) return;
    json_doc_t d;
    json_doc_init(&d);
    if (api_body_json(req, reply, &d, API_STYLE_LEAVES) != EDDY_OK) goto out;
    int64_t ui = d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, "url", 3) : -1;
    char *url = api_json_strdup(&d, ui);
    if (!url || !*url) {
        send_message(reply, 400, "the body needs {\"url\": \"https://...\"}");
        eddy_free(url);
        goto out;
    }
    api_leaf_t *leaf = api_leaf_new();
    char err[256];
    if (!leaf || api_leaf_init_from_url(leaf, url, strlen(url), time_now_ms(), err, sizeof err) != EDDY_OK) {
        send_message(reply, leaf ? 400 : 500, leaf ? err : "out of memory");
        api_leaf_free(leaf);
        eddy_free(url);
        goto out;
    }
    eddy_free(url);
    api_cmd_t *c = new_cmd(api, API_CMD_CREATE, api_leaf_text(leaf, LEAF_ID), reply);
    if (!c) {
        api_leaf_free(leaf);
        goto out;
    }
    c->input = leaf;
    api_cmd_submit(c);
out:
    json_doc_free(&d);
}

/* Tags from a JSON array of strings, whitespace replaced by '.'. Returns the count or -1. */
static long parse_tags(const json_doc_t *d, int64_t arr, char ***out) {
    if (arr < 0 || d->nodes[arr].type != JSON_ARRAY) return -1;
    uint32_t n = d->nodes[arr].count;
    char **tags = eddy_calloc(n ? n : 1, sizeof *tags);
    if (!tags) return -1;
    for (uint32_t k = 0, i = json_first_child((uint32_t)arr); k < n; k++, i = json_next(d, i)) {
        tags[k] = api_json_strdup(d, i);
        if (!tags[k]) {
            for (uint32_t j = 0; j < k; j++) eddy_free(tags[j]);
            eddy_free(tags);
            return -1;
        }
        api_leaf_tag_normalize(tags[k], strlen(tags[k]));
    }
    *out = tags;
    return n;
}

static void h_patch(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    if (!leaves_ready(api, reply)) return;
    json_doc_t d;
    json_doc_init(&d);
    api_cmd_t *c = NULL;
    if (api_body_json(req, reply, &d, API_STYLE_LEAVES) != EDDY_OK) goto out;
    if (!(c = new_cmd(api, API_CMD_PATCH, p->v[0], reply))) goto out;
    char err[256];
    if (!(c->input = api_leaf_new()) ||
        api_leaf_from_json(c->input, &d, 0, LEAF_JSON_PATCH, err, sizeof err) != EDDY_OK) {
        send_message(reply, c->input ? 400 : 500, c->input ? err : "out of memory");
        goto out;
    }
    for (uint32_t k = 0, i = 1; k < d.nodes[0].count; k++) {
        for (int col = 0; col < LEAF_NCOLS; col++)
            if (json_string_eq(&d.nodes[i], api_leaf_columns[col].name, strlen(api_leaf_columns[col].name))) c->given[col] = true;
        i = json_next(&d, json_next(&d, i));
    }
    api_leaf_value_t *t = &c->input->v[LEAF_TAGS];
    for (uint32_t i = 0; t->set && i < t->u.l.count; i++) api_leaf_tag_normalize(t->u.l.items[i], strlen(t->u.l.items[i]));
    api_cmd_submit(c);
    c = NULL;
out:
    api_cmd_free(c);
    json_doc_free(&d);
}

static void h_delete(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    if (!leaves_ready(api, reply)) return;
    api_cmd_t *c = new_cmd(api, API_CMD_DELETE, p->v[0], reply);
    if (c) api_cmd_submit(c);
}

static void h_add_tags(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    if (!leaves_ready(api, reply)) return;
    json_doc_t d;
    json_doc_init(&d);
    if (api_body_json(req, reply, &d, API_STYLE_LEAVES) != EDDY_OK) goto out;
    char **tags = NULL;
    long n = parse_tags(&d, d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, "tags", 4) : -1, &tags);
    if (n < 0) {
        send_message(reply, 400, "the body needs {\"tags\": [\"tag\", ...]} (an array of strings)");
        goto out;
    }
    api_cmd_t *c = new_cmd(api, API_CMD_ADD_TAGS, p->v[0], reply);
    if (!c) {
        for (long i = 0; i < n; i++) eddy_free(tags[i]);
        eddy_free(tags);
        goto out;
    }
    c->tags = tags;
    c->ntags = (uint32_t)n;
    api_cmd_submit(c);
out:
    json_doc_free(&d);
}

static void h_delete_tags(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    if (!leaves_ready(api, reply)) return;
    api_cmd_t *c = new_cmd(api, API_CMD_DELETE_TAGS, p->v[0], reply);
    if (c) api_cmd_submit(c);
}

static const api_route_t leaves_routes[] = {
    {API_GET, "/api/leaves", h_list},
    {API_POST, "/api/leaves", h_create},
    {API_GET, "/api/leaves/{}", h_get},
    {API_PATCH, "/api/leaves/{}", h_patch},
    {API_DELETE, "/api/leaves/{}", h_delete},
    {API_GET, "/api/leaves/{}/tags", h_get_tags},
    {API_POST, "/api/leaves/{}/tags", h_add_tags},
    {API_DELETE, "/api/leaves/{}/tags", h_delete_tags},
};

void api_leaves_http(api_t *api, const api_request_t *req, const api_responder_t *reply) {
    /* The Python version's /api/leaves&rows=N: the row count is part of the path. */
    static const char rows[] = "/api/leaves&rows=";
    if (req->path_len > sizeof rows - 1 && !memcmp(req->path, rows, sizeof rows - 1)) {
        char v[32];
        int64_t limit;
        size_t n = req->path_len - (sizeof rows - 1);
        if (req->method != API_GET && req->method != API_HEAD) {
            send_message(reply, 405, "only GET is allowed on /api/leaves&rows=N");
        } else if (n >= sizeof v || (memcpy(v, req->path + sizeof rows - 1, n), v[n] = 0, !parse_limit(v, &limit))) {
            send_message(reply, 400, "rows must be a non-negative integer");
        } else {
            list_leaves(api, limit, reply);
        }
        return;
    }
    api_dispatch(api, leaves_routes, EDDY_ARRAY_LEN(leaves_routes), req, reply, API_STYLE_LEAVES);
}
