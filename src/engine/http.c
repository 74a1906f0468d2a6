/* The pipeline endpoints (engine.h lists them), as plain functions from a request to a status
 * and a JSON body, so any HTTP server can carry them. */
#include <stdio.h>

#include "engine/engine_rt.h"

static int json_error(wr_t *out, int status, const char *msg) {
    wr_str(out, "{\"error\":");
    json_write_string(out, msg, strlen(msg));
    wr_u8(out, '}');
    return status;
}

static int status_of(int rc) {
    switch (rc) {
    case EDDY_OK: return 200;
    case EDDY_ERR_NOT_FOUND: return 404;
    case EDDY_ERR_EXISTS: return 409;
    case EDDY_ERR_INVALID: return 400;
    default: return 500;
    }
}

/* name=VALUE from a query string (percent-decoding is not needed: names are [A-Za-z0-9_.-]). */
static void query_param(const char *query, const char *key, char *out, size_t n) {
    out[0] = 0;
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            snprintf(out, n, "%.*s", (int)(len - kl - 1), p + kl + 1);
            return;
        }
        p = amp ? amp + 1 : NULL;
    }
}

int engine_http_handle(engine_t *eng, const char *method, const char *path, const char *query, const char *body,
                       size_t body_len, wr_t *out) {
    static const char prefix[] = "/pipelines";
    if (strncmp(path, prefix, sizeof prefix - 1) || (path[sizeof prefix - 1] && path[sizeof prefix - 1] != '/'))
        return json_error(out, 404, "not found");
    const char *rest = path + sizeof prefix - 1;
    if (*rest == '/') rest++;
    char err[600];
    if (!*rest) {
        if (!strcmp(method, "GET")) {
            engine_pipelines_json(eng, out);
            return 200;
        }
        if (strcmp(method, "POST")) return json_error(out, 405, "use GET or POST on /pipelines");
        char name[128];
        query_param(query, "name", name, sizeof name);
        engine_submit_result_t res;
        int rc = engine_submit(eng, name[0] ? name : NULL, body ? body : "", body_len, &res, err, sizeof err);
        if (rc) return json_error(out, status_of(rc), err);
        wr_str(out, "{\"name\":");
        json_write_string(out, res.name, strlen(res.name));
        wr_fmt(out, ",\"streaming\":%d,\"batch\":%d}", res.nstreaming, res.nbatch);
        return 201;
    }
    char name[128];
    const char *slash = strchr(rest, '/');
    size_t nlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (nlen == 0 || nlen >= sizeof name) return json_error(out, 404, "no such pipeline");
    memcpy(name, rest, nlen);
    name[nlen] = 0;
    const char *action = slash ? slash + 1 : "";
    int rc;
    if (!*action) {
        if (!strcmp(method, "GET")) {
            rc = engine_pipeline_json(eng, name, out);
            if (rc) return json_error(out, 404, "no such pipeline");
            return 200;
        }
        if (!strcmp(method, "DELETE")) {
            rc = engine_pipeline_drop(eng, name, err, sizeof err);
            if (rc) return json_error(out, status_of(rc), err);
            wr_str(out, "{\"dropped\":true}");
            return 200;
        }
        return json_error(out, 405, "use GET or DELETE on /pipelines/NAME");
    }
    if (strcmp(method, "POST")) return json_error(out, 405, "use POST for stop and start");
    if (!strcmp(action, "stop")) rc = engine_pipeline_stop(eng, name, err, sizeof err);
    else if (!strcmp(action, "start")) rc = engine_pipeline_start(eng, name, err, sizeof err);
    else return json_error(out, 404, "unknown action (stop, start)");
    if (rc) return json_error(out, status_of(rc), err);
    rc = engine_pipeline_json(eng, name, out);
    return rc ? json_error(out, 404, "no such pipeline") : 200;
}
