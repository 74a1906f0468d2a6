/* Requests into the api part: one route table for the Leaves API, the REST proxy and the schema
 * registry, matched segment by segment (path parameters percent-decoded), with the helpers every
 * handler shares (query parameters, JSON bodies, media types, error bodies). The HTTP server
 * hands each request here with a responder; handlers answer through it, now or later, from any
 * thread. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "api/api_int.h"

/* ---- small text helpers --------------------------------------------------------------------- */

static int api_hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long api_percent_decode(const char *s, size_t len, char *out, size_t outlen, bool plus_is_space) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len) return -1;
            int hi = api_hex(s[i + 1]), lo = api_hex(s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == 0 || n + 1 >= outlen) return -1; /* no NUL inside names; room for the NUL */
        out[n++] = c;
    }
    out[n] = 0;
    return (long)n;
}

bool api_query_get(const api_request_t *req, const char *name, char *out, size_t outlen) {
    const char *q = req->query, *end = req->query + req->query_len;
    size_t nl = strlen(name);
    while (q && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pe - q));
        const char *ke = eq ? eq : pe;
        if ((size_t)(ke - q) == nl && !memcmp(q, name, nl)) {
            if (!eq) {
                if (outlen) out[0] = 0;
                return true;
            }
            return api_percent_decode(eq + 1, (size_t)(pe - eq - 1), out, outlen, true) >= 0;
        }
        q = amp ? amp + 1 : NULL;
    }
    return false;
}

bool api_query_bool(const api_request_t *req, const char *name) {
    char v[16];
    return api_query_get(req, name, v, sizeof v) && (!strcasecmp(v, "true") || !strcmp(v, "1") || !*v);
}

/* Media types: the part before ';', compared case-insensitively. */
bool api_media_is(const char *value, size_t len, const char *type) {
    if (!value) return false;
    const char *semi = memchr(value, ';', len);
    size_t n = semi ? (size_t)(semi - value) : len;
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t')) n--;
    while (n && (*value == ' ' || *value == '\t')) value++, n--;
    return n == strlen(type) && !strncasecmp(value, type, n);
}

/* Whether an Accept header admits type (or is absent, or says anything). */
bool api_accepts(const api_request_t *req, const char *type) {
    if (!req->accept || !req->accept_len) return true;
    const char *p = req->accept, *end = p + req->accept_len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        if (api_media_is(p, (size_t)(e - p), type) || api_media_is(p, (size_t)(e - p), "*/*") ||
            api_media_is(p, (size_t)(e - p), "application/*"))
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

/* ---- answers ----------------------------------------------------------------------------------- */

void api_send(const api_responder_t *r, int status, const char *ctype, const wr_t *body) {
    if (!wr_ok(body)) {
        static const char oom[] = "{\"error_code\":50001,\"message\":\"out of memory\"}";
        r->send(r->ctx, 500, API_CTYPE_JSON, oom, sizeof oom - 1);
        return;
    }
    r->send(r->ctx, status, ctype, (const char *)body->buf, body->len);
}

void api_send_error(const api_responder_t *r, int status, int error_code, const char *ctype, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wr_t w;
    wr_init(&w, 128);
    if (error_code) {
        wr_str(&w, "{\"error_code\":");
        json_write_i64(&w, error_code);
        wr_str(&w, ",\"message\":");
    } else {
        wr_str(&w, "{\"message\":");
    }
    json_write_string(&w, msg, strlen(msg));
    wr_u8(&w, '}');
    api_send(r, status, ctype, &w);
    wr_free(&w);
}

int api_body_json(const api_request_t *req, const api_responder_t *r, json_doc_t *doc, int style) {
    const char *ctype = style == API_STYLE_LEAVES ? API_CTYPE_JSON : style == API_STYLE_REGISTRY ? API_CTYPE_REGISTRY
                                                                                                  : API_CTYPE_KAFKA;
    if (req->body_len == 0) {
        if (style == API_STYLE_LEAVES) api_send_error(r, 400, 0, ctype, "the request needs a JSON body");
        else api_send_error(r, 422, 422, ctype, "Request body is missing");
        return EDDY_ERR_INVALID;
    }
    int rc = json_parse(doc, req->body, req->body_len);
    if (rc == EDDY_ERR_NOMEM) {
        api_send_error(r, 500, style == API_STYLE_LEAVES ? 0 : 50001, ctype, "out of memory");
        return rc;
    }
    if (rc != EDDY_OK) {
        if (style == API_STYLE_LEAVES)
            api_send_error(r, 400, 0, ctype, "malformed JSON at byte %zu: %s", doc->errpos, doc->errmsg);
        else
            api_send_error(r, 400, 400, ctype, "Unexpected character in the JSON body at byte %zu: %s", doc->errpos,
                           doc->errmsg);
        return EDDY_ERR_INVALID;
    }
    return EDDY_OK;
}

char *api_json_strdup(const json_doc_t *d, int64_t i) {
    if (i < 0 || d->nodes[i].type != JSON_STRING) return NULL;
    const json_node_t *n = &d->nodes[i];
    char *s = eddy_malloc(n->len + 1);
    if (!s) return NULL;
    long k = json_string_unescape(n, s);
    if (k < 0 || memchr(s, 0, (size_t)k)) {
        eddy_free(s);
        return NULL;
    }
    s[k] = 0;
    return s;
}

/* ---- routing ----------------------------------------------------------------------------------- */

static const char *const api_method_names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "?"};

const char *api_method_name(api_method_t m) { return api_method_names[m <= API_OTHER ? m : API_OTHER]; }

/* Matches path against pattern ("/subjects/{}/versions/{}"): literal segments compare exactly,
 * "{}" takes one non-empty segment (decoded into params), "{*}" the rest of the path (decoded,
 * slashes included). A trailing slash is ignored. */
static bool api_route_match(const char *pattern, const char *path, size_t plen, api_params_t *params) {
    params->n = 0;
    params->used = 0;
    const char *p = pattern, *s = path, *end = path + plen;
    if (plen > 1 && end[-1] == '/') end--;
    while (*p) {
        if (*p != '/' || s >= end || *s != '/') return false;
        p++;
        s++;
        const char *pe = strchr(p, '/');
        size_t pn = pe ? (size_t)(pe - p) : strlen(p);
        const char *se = memchr(s, '/', (size_t)(end - s));
        size_t sn = se ? (size_t)(se - s) : (size_t)(end - s);
        if (pn == 3 && !memcmp(p, "{*}", 3)) sn = (size_t)(end - s);
        if ((pn == 2 && !memcmp(p, "{}", 2)) || (pn == 3 && !memcmp(p, "{*}", 3))) {
            if (sn == 0 || params->n == API_MAX_PARAMS) return false;
            char *out = params->buf + params->used;
            long k = api_percent_decode(s, sn, out, sizeof params->buf - params->used, false);
            if (k < 0) return false;
            params->v[params->n++] = out;
            params->used += (size_t)k + 1;
        } else if (pn != sn || memcmp(p, s, sn)) {
            return false;
        }
        p += pn;
        s += sn;
    }
    return s >= end;
}

void api_dispatch(api_t *api, const api_route_t *routes, size_t nroutes, const api_request_t *req,
                  const api_responder_t *reply, int style) {
    api_params_t params;
    bool path_known = false;
    size_t plen = req->path_len;
    const char *q = memchr(req->path, '?', plen);
    if (q) plen = (size_t)(q - req->path);
    for (size_t i = 0; i < nroutes; i++) {
        if (!api_route_match(routes[i].pattern, req->path, plen, &params)) continue;
        path_known = true;
        api_method_t m = req->method == API_HEAD ? API_GET : req->method;
        if (routes[i].method != m) continue;
        routes[i].fn(api, req, &params, reply);
        return;
    }
    const char *ctype = style == API_STYLE_LEAVES ? API_CTYPE_JSON : style == API_STYLE_REGISTRY ? API_CTYPE_REGISTRY
                                                                                                  : API_CTYPE_KAFKA;
    if (path_known) {
        if (style == API_STYLE_LEAVES) api_send_error(reply, 405, 0, ctype, "method %s is not allowed on %.*s", api_method_name(req->method), (int)plen, req->path);
        else api_send_error(reply, 405, 405, ctype, "HTTP 405 Method Not Allowed");
    } else {
        if (style == API_STYLE_LEAVES) api_send_error(reply, 404, 0, ctype, "no route for %s %.*s", api_method_name(req->method), (int)plen, req->path);
        else api_send_error(reply, 404, 404, ctype, "HTTP 404 Not Found");
    }
}
