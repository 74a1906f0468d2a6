/* The schema registry's REST routes, as Confluent Schema Registry serves them (Avro):
 *   GET /subjects  /subjects/{s}/versions  /subjects/{s}/versions/{v}  .../{v}/schema
 *   POST /subjects/{s}/versions (register)  POST /subjects/{s} (lookup)
 *   DELETE /subjects/{s}  /subjects/{s}/versions/{v}  (?permanent=true)
 *   GET /schemas/ids/{id}  /schemas/ids/{id}/schema  /schemas/ids/{id}/versions  /schemas/types
 *   GET|PUT /config  GET|PUT|DELETE /config/{s}  POST /compatibility/subjects/{s}/versions[/{v}]
 *   GET /mode  GET / */
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"

#define CT API_CTYPE_REGISTRY

static void reg_answer(const api_responder_t *reply, int status, wr_t *body) {
    api_send(reply, status, CT, body);
    wr_free(body);
}

/* The "schema" field of a registration or lookup body. Answers and returns NULL on a bad body. */
static char *reg_body_schema(const api_request_t *req, const api_responder_t *reply, size_t *len) {
    json_doc_t d;
    json_doc_init(&d);
    char *schema = NULL;
    if (api_body_json(req, reply, &d, API_STYLE_REGISTRY) != EDDY_OK) goto out;
    if (d.nodes[0].type != JSON_OBJECT) {
        api_send_error(reply, 422, 422, CT, "The request body must be a JSON object with a \"schema\" field");
        goto out;
    }
    int64_t st = json_object_get(&d, 0, "schemaType", 10), refs = json_object_get(&d, 0, "references", 10);
    if (st >= 0 && !(d.nodes[st].type == JSON_NULL || json_string_eq(&d.nodes[st], "AVRO", 4))) {
        api_send_error(reply, 422, 42201, CT, "Invalid schema: this registry supports schemaType AVRO only");
        goto out;
    }
    if (refs >= 0 && !(d.nodes[refs].type == JSON_NULL || (d.nodes[refs].type == JSON_ARRAY && d.nodes[refs].count == 0))) {
        api_send_error(reply, 422, 42201, CT, "Invalid schema: schema references are not supported");
        goto out;
    }
    int64_t si = json_object_get(&d, 0, "schema", 6);
    schema = api_json_strdup(&d, si);
    if (!schema || !*schema) {
        eddy_free(schema);
        schema = NULL;
        api_send_error(reply, 422, 42201, CT, "Empty schema");
        goto out;
    }
    *len = strlen(schema);
out:
    json_doc_free(&d);
    return schema;
}

static void h_root(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    reply->send(reply->ctx, 200, CT, "{}", 2);
}

static void h_subjects(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    wr_t w;
    wr_init(&w, 256);
    int st = api_registry_list_subjects(api_registry_of(api), api_query_bool(req, "deleted"), &w);
    reg_answer(reply, st, &w);
}

static void h_versions(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    wr_t w;
    wr_init(&w, 64);
    int st = api_registry_list_versions(api_registry_of(api), p->v[0], api_query_bool(req, "deleted"), &w);
    reg_answer(reply, st, &w);
}

static void h_version(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    wr_t w;
    wr_init(&w, 512);
    int st = api_registry_get_version(api_registry_of(api), p->v[0], p->v[1], api_query_bool(req, "deleted"), false, &w);
    reg_answer(reply, st, &w);
}

static void h_version_schema(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    wr_t w;
    wr_init(&w, 512);
    int st = api_registry_get_version(api_registry_of(api), p->v[0], p->v[1], api_query_bool(req, "deleted"), true, &w);
    reg_answer(reply, st, &w);
}

static void h_register(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    size_t len;
    char *schema = reg_body_schema(req, reply, &len);
    if (!schema) return;
    api_registry_register(api_registry_of(api), p->v[0], schema, len, NULL, reply);
    eddy_free(schema);
}

static void h_lookup(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    size_t len;
    char *schema = reg_body_schema(req, reply, &len);
    if (!schema) return;
    wr_t w;
    wr_init(&w, 512);
    int st = api_registry_lookup(api_registry_of(api), p->v[0], schema, len, api_query_bool(req, "deleted"), &w);
    eddy_free(schema);
    reg_answer(reply, st, &w);
}

static void h_delete_subject(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    api_registry_delete_subject(api_registry_of(api), p->v[0], api_query_bool(req, "permanent"), reply);
}

static void h_delete_version(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    api_registry_delete_version(api_registry_of(api), p->v[0], p->v[1], api_query_bool(req, "permanent"), reply);
}

/* Schema ids are positive 32-bit integers; anything else is not found, as Confluent answers. */
static bool reg_parse_id(const char *s, uint32_t *id) {
    char *end;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || x < 1 || x > INT32_MAX) return false;
    *id = (uint32_t)x;
    return true;
}

static void reg_by_id(api_t *api, const api_params_t *p, const api_responder_t *reply, int what) {
    uint32_t id = 0;
    wr_t w;
    wr_init(&w, 512);
    int st;
    if (!reg_parse_id(p->v[0], &id)) {
        api_registry_error(&w, 40403, "Schema %s not found", p->v[0]);
        st = 404;
    } else if (what == 2) {
        wr_t tmp;
        wr_init(&tmp, 512);
        st = api_registry_get_schema(api_registry_of(api), id, false, &tmp);
        json_doc_t d;
        json_doc_init(&d);
        int64_t si;
        /* /schema: the schema text itself */
        if (st == 200 && json_parse(&d, (char *)tmp.buf, tmp.len) == EDDY_OK && (si = json_object_get(&d, 0, "schema", 6)) >= 0) {
            char *text = api_json_strdup(&d, si);
            if (text) wr_str(&w, text);
            eddy_free(text);
        } else {
            wr_bytes(&w, tmp.buf, tmp.len);
        }
        json_doc_free(&d);
        wr_free(&tmp);
    } else {
        st = api_registry_get_schema(api_registry_of(api), id, what == 1, &w);
    }
    reg_answer(reply, st, &w);
}

static void h_schema_id(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    reg_by_id(api, p, reply, 0);
}
static void h_schema_id_versions(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    reg_by_id(api, p, reply, 1);
}
static void h_schema_id_schema(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    reg_by_id(api, p, reply, 2);
}

static void h_schema_types(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    static const char types[] = "[\"AVRO\"]";
    reply->send(reply->ctx, 200, CT, types, sizeof types - 1);
}

static void h_get_config(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    wr_t w;
    wr_init(&w, 64);
    int st = api_registry_get_config(api_registry_of(api), p->n ? p->v[0] : NULL, api_query_bool(req, "defaultToGlobal"), &w);
    reg_answer(reply, st, &w);
}

static void h_put_config(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    json_doc_t d;
    json_doc_init(&d);
    if (api_body_json(req, reply, &d, API_STYLE_REGISTRY) != EDDY_OK) goto out;
    int64_t ci = d.nodes[0].type == JSON_OBJECT ? json_object_get(&d, 0, "compatibility", 13) : -1;
    int level = ci >= 0 && d.nodes[ci].type == JSON_STRING ? api_compat_parse(d.nodes[ci].text, d.nodes[ci].len) : -1;
    if (level < 0) {
        api_send_error(reply, 422, 42203, CT,
                       "Invalid compatibility level. Valid values are none, backward, forward, full, "
                       "backward_transitive, forward_transitive, and full_transitive");
        goto out;
    }
    api_registry_set_config(api_registry_of(api), p->n ? p->v[0] : NULL, level, reply);
out:
    json_doc_free(&d);
}

static void h_delete_config(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    api_registry_set_config(api_registry_of(api), p->v[0], -1, reply);
}

static void h_compat(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    size_t len;
    char *schema = reg_body_schema(req, reply, &len);
    if (!schema) return;
    wr_t w;
    wr_init(&w, 128);
    int st = api_registry_test_compat(api_registry_of(api), p->v[0], p->n > 1 ? p->v[1] : NULL, schema, len,
                                      api_query_bool(req, "verbose"), &w);
    eddy_free(schema);
    reg_answer(reply, st, &w);
}

static void h_mode(api_t *api, const api_request_t *req, const api_params_t *p, const api_responder_t *reply) {
    static const char mode[] = "{\"mode\":\"READWRITE\"}";
    reply->send(reply->ctx, 200, CT, mode, sizeof mode - 1);
}

static const api_route_t registry_routes[] = {
    {API_GET, "/subjects", h_subjects},
    {API_POST, "/subjects/{}", h_lookup},
    {API_DELETE, "/subjects/{}", h_delete_subject},
    {API_GET, "/subjects/{}/versions", h_versions},
    {API_POST, "/subjects/{}/versions", h_register},
    {API_GET, "/subjects/{}/versions/{}", h_version},
    {API_DELETE, "/subjects/{}/versions/{}", h_delete_version},
    {API_GET, "/subjects/{}/versions/{}/schema", h_version_schema},
    {API_GET, "/schemas/types", h_schema_types},
    {API_GET, "/schemas/ids/{}", h_schema_id},
    {API_GET, "/schemas/ids/{}/versions", h_schema_id_versions},
    {API_GET, "/schemas/ids/{}/schema", h_schema_id_schema},
    {API_GET, "/config", h_get_config},
    {API_PUT, "/config", h_put_config},
    {API_GET, "/config/{}", h_get_config},
    {API_PUT, "/config/{}", h_put_config},
    {API_DELETE, "/config/{}", h_delete_config},
    {API_POST, "/compatibility/subjects/{}/versions", h_compat},
    {API_POST, "/compatibility/subjects/{}/versions/{}", h_compat},
    {API_GET, "/mode", h_mode},
    {API_GET, "/", h_root},
};

void api_registry_http(api_t *api, const api_request_t *req, const api_responder_t *reply) {
    api_dispatch(api, registry_routes, EDDY_ARRAY_LEN(registry_routes), req, reply, API_STYLE_REGISTRY);
}
