/* Routes: method + path pattern with parameters, matched segment by segment (literal beats
 * parameter beats rest-of-path), percent-decoding of parameters and query strings, and the
 * answers the router gives itself: 404, 405 with Allow, OPTIONS and CORS preflight. */
#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "http/http_int.h"

#define HTTP_MAX_PATH_SEGS 64

/* ---- decoding ------------------------------------------------------------------------------ */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A malformed escape stays as written (lenient, like most servers). */
char *http_decode(arena_t *a, const char *src, size_t n, bool plus) {
    char *out = arena_alloc(a, n + 1);
    if (!out) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (src[i] == '%' && i + 2 < n && (hi = hexval(src[i + 1])) >= 0 && (lo = hexval(src[i + 2])) >= 0) {
            out[j++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (plus && src[i] == '+') {
            out[j++] = ' ';
        } else {
            out[j++] = src[i];
        }
    }
    out[j] = 0;
    return out;
}

/* ---- patterns ------------------------------------------------------------------------------ */

void http_route_free(http_route_t *r) {
    for (size_t i = 0; i < r->nsegs; i++) {
        eddy_free(r->segs[i].pre);
        eddy_free(r->segs[i].param);
        eddy_free(r->segs[i].post);
    }
    eddy_free(r->pattern);
    memset(r, 0, sizeof *r);
}

static bool param_name_ok(const char *s, size_t n) {
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') return false;
    return true;
}

int http_route_parse(http_route_t *r, const char *pattern) {
    memset(r, 0, sizeof *r);
    if (!pattern || pattern[0] != '/') return EDDY_ERR_INVALID;
    r->pattern = eddy_strdup(pattern);
    if (!r->pattern) return EDDY_ERR_NOMEM;
    const char *p = pattern + 1;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!end && n == 0) break; /* a trailing slash */
        if (r->nsegs == HTTP_MAX_SEGS) goto bad;
        http_seg_t *s = &r->segs[r->nsegs++];
        const char *open = memchr(p, '{', n), *close = open ? memchr(open, '}', n - (size_t)(open - p)) : NULL;
        if (!open) {
            if (memchr(p, '}', n)) goto bad;
            s->pre = eddy_strndup(p, n);
            if (!s->pre) goto nomem;
        } else {
            if (!close) goto bad;
            const char *name = open + 1;
            size_t nlen = (size_t)(close - name);
            if (nlen && name[nlen - 1] == '*') {
                /* {rest*}: the whole last segment */
                if (open != p || close != p + n - 1 || end) goto bad;
                s->rest = true;
                nlen--;
            }
            if (!param_name_ok(name, nlen) || memchr(close + 1, '{', (size_t)(p + n - close - 1)) ||
                memchr(close + 1, '}', (size_t)(p + n - close - 1)))
                goto bad;
            s->pre = eddy_strndup(p, (size_t)(open - p));
            s->param = eddy_strndup(name, nlen);
            s->post = eddy_strndup(close + 1, (size_t)(p + n - close - 1));
            if (!s->pre || !s->param || !s->post) goto nomem;
        }
        p = end ? end + 1 : p + n;
    }
    return EDDY_OK;
bad:
    http_route_free(r);
    return EDDY_ERR_INVALID;
nomem:
    http_route_free(r);
    return EDDY_ERR_NOMEM;
}

static int route_add(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn, void *arg,
                     bool blocking, http_serves_fn serves) {
    if (srv->started || !fn || !method || !*method || strlen(method) >= sizeof srv->routes[0].method)
        return EDDY_ERR_INVALID;
    for (size_t i = 0; i < srv->nroutes; i++)
        if (!strcmp(srv->routes[i].method, method) && !strcmp(srv->routes[i].pattern, pattern))
            return EDDY_ERR_EXISTS;
    if (srv->nroutes == srv->cap_routes) {
        size_t cap = srv->cap_routes ? srv->cap_routes * 2 : 16;
        http_route_t *r = eddy_realloc(srv->routes, cap * sizeof *r);
        if (!r) return EDDY_ERR_NOMEM;
        srv->routes = r;
        srv->cap_routes = cap;
    }
    http_route_t *r = &srv->routes[srv->nroutes];
    int rc = serves ? http_route_parse(r, "/") : http_route_parse(r, pattern);
    if (rc != EDDY_OK) return rc;
    if (serves) {
        eddy_free(r->pattern);
        if (!(r->pattern = eddy_strdup(pattern))) return EDDY_ERR_NOMEM;
        r->serves = serves;
    }
    snprintf(r->method, sizeof r->method, "%s", method);
    r->fn = fn;
    r->arg = arg;
    r->blocking = blocking;
    if (srv->opts.metrics) {
        for (int c = 2; c <= 5; c++) {
            char cls[4] = {(char)('0' + c), 'x', 'x', 0};
            r->by_class[c] = metrics_counter(srv->opts.metrics, "eddy_http_requests_total",
                                             "HTTP requests answered, by route and status class.",
                                             (const char *[]){"route", pattern, "method", method, "code", cls, NULL});
        }
        r->latency = metrics_histogram(srv->opts.metrics, "eddy_http_request_duration_seconds",
                                       "Time from a request's first byte to its answer, by route.",
                                       (const char *[]){"route", pattern, "method", method, NULL}, NULL, 0);
    }
    srv->nroutes++;
    return EDDY_OK;
}

int http_server_route(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn, void *arg) {
    return route_add(srv, method, pattern, fn, arg, false, NULL);
}

int http_server_mount(http_server_t *srv, const char *name, http_serves_fn serves, http_handler_fn fn, void *arg) {
    if (!serves) return EDDY_ERR_INVALID;
    return route_add(srv, "*", name, fn, arg, false, serves);
}

int http_server_route_blocking(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn,
                               void *arg) {
    return route_add(srv, method, pattern, fn, arg, true, NULL);
}

/* ---- matching ------------------------------------------------------------------------------ */

typedef struct {
    const char *ptr;
    size_t len;
} seg_view_t;

static size_t split_path(const char *path, seg_view_t *segs, size_t max) {
    size_t n = 0;
    const char *p = path[0] == '/' ? path + 1 : path;
    while (*p && n < max) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!end && len == 0) break;
        segs[n++] = (seg_view_t){p, len};
        if (!end) break;
        p = end + 1;
    }
    return n;
}

/* Returns the route's specificity (higher wins) or -1 when it does not match; fills params. */
static int64_t route_match(const http_route_t *r, const seg_view_t *segs, size_t nsegs, http_req_t *req,
                           bool bind) {
    int64_t score = 0;
    size_t i = 0;
    size_t nparams = 0;
    for (; i < r->nsegs; i++) {
        const http_seg_t *s = &r->segs[i];
        int rank;
        if (s->rest) {
            const char *from = i < nsegs ? segs[i].ptr : "";
            if (bind && nparams < HTTP_MAX_PARAMS) {
                req->params[nparams].name = s->param;
                req->params[nparams++].value = http_decode(&req->arena, from, strlen(from), false);
            }
            for (; i < HTTP_MAX_SEGS; i++) score = score * 4;
            req->nparams = bind ? nparams : req->nparams;
            return score;
        }
        if (i >= nsegs) return -1;
        const seg_view_t *v = &segs[i];
        size_t pl = strlen(s->pre);
        if (!s->param) {
            if (v->len != pl || memcmp(v->ptr, s->pre, pl)) return -1;
            rank = 3;
        } else {
            size_t ql = strlen(s->post);
            if (v->len <= pl + ql || memcmp(v->ptr, s->pre, pl) || memcmp(v->ptr + v->len - ql, s->post, ql)) return -1;
            rank = pl + ql ? 2 : 1;
            if (bind && nparams < HTTP_MAX_PARAMS) {
                req->params[nparams].name = s->param;
                req->params[nparams++].value = http_decode(&req->arena, v->ptr + pl, v->len - pl - ql, false);
            }
        }
        score = score * 4 + rank;
    }
    if (i != nsegs) return -1;
    for (; i < HTTP_MAX_SEGS; i++) score = score * 4;
    if (bind) req->nparams = nparams;
    return score;
}

static bool method_matches(const http_route_t *r, const http_req_t *req) {
    if (!strcmp(r->method, "*") || !strcmp(r->method, req->method_str)) return true;
    return req->method == HTTP_HEAD && !strcmp(r->method, "GET");
}

/* Appends method to the comma-separated list unless it is there. */
static void allow_add(char *allow, size_t n, const char *method) {
    size_t ml = strlen(method);
    for (const char *p = allow; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == ml && !memcmp(p, method, ml)) return;
        p = comma ? comma + 1 : p + len;
    }
    size_t len = strlen(allow);
    snprintf(allow + len, n - len, "%s%s", len ? "," : "", method);
}

static void answer_options(http_req_t *req, const char *allow) {
    http_server_t *srv = req->srv;
    http_resp_header(req, "Allow", allow);
    if (!srv->opts.no_cors && http_req_header(req, "Origin") && http_req_header(req, "Access-Control-Request-Method")) {
        http_resp_header(req, "Access-Control-Allow-Methods", allow);
        const char *h = http_req_header(req, "Access-Control-Request-Headers");
        if (h) {
            http_resp_header(req, "Access-Control-Allow-Headers", h);
            http_resp_header(req, "Vary", "Access-Control-Request-Headers");
        }
        http_resp_header(req, "Access-Control-Max-Age", "86400");
    }
    http_respond(req, 204, NULL, NULL, 0);
}

void http_dispatch(http_server_t *srv, http_req_t *req) {
    seg_view_t segs[HTTP_MAX_PATH_SEGS];
    size_t nsegs = split_path(req->path, segs, HTTP_MAX_PATH_SEGS);
    const http_route_t *best = NULL;
    int64_t best_score = -1;
    char allow[256] = "";
    for (size_t i = 0; i < srv->nroutes; i++) {
        const http_route_t *r = &srv->routes[i];
        if (r->serves) continue;
        int64_t score = route_match(r, segs, nsegs, req, false);
        if (score < 0) continue;
        if (method_matches(r, req)) {
            if (score > best_score) {
                best = r;
                best_score = score;
            }
        } else if (strcmp(r->method, "*")) {
            allow_add(allow, sizeof allow, r->method);
            if (!strcmp(r->method, "GET")) allow_add(allow, sizeof allow, "HEAD");
        }
    }
    if (!best && !allow[0]) {
        for (size_t i = 0; i < srv->nroutes; i++) {
            const http_route_t *r = &srv->routes[i];
            if (!r->serves || !r->serves(r->arg, req->path)) continue;
            req->route = r;
            if (req->method == HTTP_OPTIONS && !srv->opts.no_cors && http_req_header(req, "Origin") &&
                http_req_header(req, "Access-Control-Request-Method")) {
                answer_options(req, "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS");
                return;
            }
            r->fn(req, r->arg);
            return;
        }
    }
    /* CORS preflights are the router's to answer, unless a route asks for OPTIONS by name. */
    bool preflight = req->method == HTTP_OPTIONS && !srv->opts.no_cors && http_req_header(req, "Origin") &&
                     http_req_header(req, "Access-Control-Request-Method");
    if (preflight && best && strcmp(best->method, "OPTIONS")) {
        if (!strcmp(best->method, "*")) snprintf(allow, sizeof allow, "GET,HEAD,PUT,PATCH,POST,DELETE");
        allow_add(allow, sizeof allow, "OPTIONS");
        answer_options(req, allow);
        return;
    }
    if (!best && req->method == HTTP_OPTIONS) {
        if (!allow[0] && strcmp(req->path, "*")) {
            http_respond_error(req, 404, "no route for OPTIONS %s", req->path);
            return;
        }
        allow_add(allow, sizeof allow, "OPTIONS");
        answer_options(req, allow);
        return;
    }
    if (!best) {
        if (allow[0]) {
            allow_add(allow, sizeof allow, "OPTIONS");
            http_resp_header(req, "Allow", allow);
            http_respond_error(req, 405, "method %s is not allowed on %s (allowed: %s)", req->method_str, req->path,
                               allow);
        } else {
            http_respond_error(req, 404, "no route for %s %s", req->method_str, req->path);
        }
        return;
    }
    route_match(best, segs, nsegs, req, true);
    req->route = best;
    if (best->blocking && srv->npool) http_pool_submit(srv, req);
    else best->fn(req, best->arg);
}

/* ---- request accessors --------------------------------------------------------------------- */

const char *http_req_method(const http_req_t *req) { return req->method_str; }
const char *http_req_path(const http_req_t *req) { return req->path; }
const char *http_req_query_string(const http_req_t *req) { return req->query; }
eddy_view_t http_req_body(const http_req_t *req) { return eddy_view(req->body.buf, req->body.len); }
arena_t *http_req_arena(http_req_t *req) { return &req->arena; }

const char *http_req_param(const http_req_t *req, const char *name) {
    for (size_t i = 0; i < req->nparams; i++)
        if (!strcmp(req->params[i].name, name)) return req->params[i].value;
    return NULL;
}

const char *http_req_header(const http_req_t *req, const char *name) {
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strcasecmp(req->headers[i].name, name)) return req->headers[i].value;
    return NULL;
}

const char *http_req_query(http_req_t *req, const char *name) {
    size_t nl = strlen(name);
    for (const char *p = req->query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char *key = http_decode(&req->arena, p, klen, true);
        if (key && strlen(key) == nl && !memcmp(key, name, nl)) {
            if (!eq) return "";
            return http_decode(&req->arena, eq + 1, len - klen - 1, true);
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

int http_req_json(http_req_t *req, json_doc_t *doc) {
    if (req->body.len == 0) {
        http_respond_error(req, 400, "the request body must be JSON (it is empty)");
        return EDDY_ERR_CORRUPT;
    }
    if (json_parse(doc, (const char *)req->body.buf, req->body.len) != EDDY_OK) {
        http_respond_error(req, 400, "malformed JSON at byte %zu: %s", doc->errpos, doc->errmsg);
        return EDDY_ERR_CORRUPT;
    }
    return EDDY_OK;
}
