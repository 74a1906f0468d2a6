/* `eddy up`'s pipelines: the engine over the log and the store, and the files given with
 * --pipeline (each started under its file name without .sql). A file with an error stops eddy
 * up from starting, with the file, line and column in the message. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "server/server_int.h"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    wr_t w;
    wr_init(&w, 4096);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) wr_bytes(&w, buf, n);
    fclose(f);
    wr_u8(&w, 0);
    if (!wr_ok(&w)) {
        wr_free(&w);
        return NULL;
    }
    *len = w.len - 1;
    return (char *)wr_steal(&w, NULL);
}

int server_engine_start(server_t *srv, char *errstr, size_t errlen) {
    engine_config_t cfg = {srv->log, srv->store, 2, 0};
    int rc = engine_new(&cfg, &srv->engine, errstr, errlen);
    if (rc) return rc;
    for (int i = 0; i < srv->cfg.pipelines.count; i++) {
        const char *path = srv->cfg.pipelines.items[i];
        size_t len;
        char *text = read_file(path, &len);
        if (!text) return eddy_err(errstr, errlen, EDDY_ERR_IO, "pipeline %s: cannot read it", path);
        char name[128];
        const char *base = strrchr(path, '/');
        snprintf(name, sizeof name, "%s", base ? base + 1 : path);
        char *dot = strrchr(name, '.');
        if (dot && !strcmp(dot, ".sql")) *dot = 0;
        char err[600];
        rc = engine_submit(srv->engine, name, text, len, NULL, err, sizeof err);
        eddy_free(text);
        if (rc) return eddy_err(errstr, errlen, rc, "pipeline %s: %s", path, err);
    }
    return EDDY_OK;
}

void server_engine_stop(server_t *srv) {
    engine_free(srv->engine);
    srv->engine = NULL;
}
