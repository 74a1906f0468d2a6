/* `eddy submit FILE`: sends a pipeline file to a running eddy over HTTP (libcurl). Streaming
 * pipelines start and keep running on the server; batch jobs are followed with a progress bar
 * (share of the token ring done, rows, rows/s) until they finish. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/engine.h"

typedef struct {
    CURL *curl;
    char base[512];
} client_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    wr_bytes(arg, p, size * n);
    return size * n;
}

/* One request: returns the HTTP status (or -1 with a message on stderr). */
static long request(client_t *c, const char *method, const char *path, const char *body, size_t len, wr_t *out) {
    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    wr_reset(out);
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 600000L);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/sql");
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    CURLcode rc = curl_easy_perform(c->curl);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "eddy submit: %s: %s\n", url, curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* A member of a parsed JSON object, as text (strings unescaped, numbers as written). */
static void member_text(const json_doc_t *d, uint32_t obj, const char *key, char *out, size_t n) {
    out[0] = 0;
    int64_t i = json_object_get(d, obj, key, strlen(key));
    if (i < 0) return;
    const json_node_t *nd = json_node(d, (uint32_t)i);
    if (nd->type == JSON_STRING) {
        char *buf = malloc(nd->len + 1);
        long m = buf ? json_string_unescape(nd, buf) : -1;
        if (m >= 0) snprintf(out, n, "%.*s", (int)m, buf);
        free(buf);
    } else if (nd->type == JSON_NUMBER) {
        snprintf(out, n, "%.*s", (int)nd->len, nd->text);
    } else if (nd->type == JSON_TRUE || nd->type == JSON_FALSE) {
        snprintf(out, n, "%s", nd->type == JSON_TRUE ? "true" : "false");
    }
}

static void print_error(const char *file, const wr_t *body) {
    json_doc_t d;
    json_doc_init(&d);
    char msg[1024] = "";
    if (json_parse(&d, (const char *)body->buf, body->len) == EDDY_OK) member_text(&d, 0, "error", msg, sizeof msg);
    fprintf(stderr, "eddy submit: %s: %s\n", file, msg[0] ? msg : "the server refused the file");
    json_doc_free(&d);
}

/* Follows the pipeline's batch queries until they finish; returns the exit code. */
static int follow(client_t *c, const char *name, const char *file) {
    char path[300];
    snprintf(path, sizeof path, "/pipelines/%s", name);
    wr_t body;
    wr_init(&body, 4096);
    bool tty = isatty(2);
    int64_t t0 = time_mono_ms();
    int code = 1;
    for (;;) {
        long status = request(c, "GET", path, NULL, 0, &body);
        if (status != 200) {
            if (status > 0) print_error(file, &body);
            break;
        }
        json_doc_t d;
        json_doc_init(&d);
        if (json_parse(&d, (const char *)body.buf, body.len) != EDDY_OK) {
            json_doc_free(&d);
            fprintf(stderr, "eddy submit: the server's answer is not JSON\n");
            break;
        }
        char state[32], err[512];
        member_text(&d, 0, "state", state, sizeof state);
        member_text(&d, 0, "error", err, sizeof err);
        double done = 0, rate = 0;
        long long rows = 0, out = 0, skipped = 0;
        int nb = 0;
        int64_t qs = json_object_get(&d, 0, "queries", 7);
        if (qs >= 0) {
            const json_node_t *arr = json_node(&d, (uint32_t)qs);
            uint32_t i = (uint32_t)qs + 1;
            for (uint32_t k = 0; k < arr->count; k++, i = json_next(&d, i)) {
                char kind[16], v[64];
                member_text(&d, i, "kind", kind, sizeof kind);
                if (strcmp(kind, "batch")) continue;
                nb++;
                member_text(&d, i, "fractionDone", v, sizeof v);
                done += atof(v);
                member_text(&d, i, "numInputRows", v, sizeof v);
                rows += atoll(v);
                member_text(&d, i, "inputRowsPerSecond", v, sizeof v);
                rate += atof(v);
                member_text(&d, i, "numOutputRows", v, sizeof v);
                out += atoll(v);
                member_text(&d, i, "numRowsSkipped", v, sizeof v);
                skipped += atoll(v);
            }
        }
        json_doc_free(&d);
        double frac = nb ? done / nb : 0;
        bool over = strcmp(state, "running") && strcmp(state, "starting");
        if (tty || over) {
            char bar[41];
            int filled = (int)(frac * 40 + 0.5);
            for (int i = 0; i < 40; i++) bar[i] = i < filled ? '#' : '.';
            bar[40] = 0;
            fprintf(stderr, "%s[%s] %3.0f%%  %lld rows  %.0f rows/s%s", tty ? "\r" : "", bar, frac * 100, rows, rate,
                    tty && !over ? "" : "\n");
        }
        if (over) {
            double secs = (double)(time_mono_ms() - t0) / 1e3;
            if (!strcmp(state, "finished")) {
                printf("pipeline %s finished: %lld rows read, %lld rows written, %lld skipped, %.2f s\n", name, rows, out,
                       skipped, secs);
                code = 0;
            } else {
                fprintf(stderr, "eddy submit: pipeline %s %s%s%s\n", name, state, err[0] ? ": " : "", err);
            }
            break;
        }
        usleep(200000);
    }
    wr_free(&body);
    return code;
}

static void usage(FILE *f) {
    fprintf(f, "usage: eddy submit FILE [--server URL] [--name NAME] [--no-wait]\n\n"
               "Sends a pipeline file to a running eddy. Streaming pipelines start and keep running;\n"
               "batch jobs show a progress bar until they finish (--no-wait returns at once).\n"
               "  --server URL   eddy's HTTP address (default $EDDY_SERVER or http://127.0.0.1:8000)\n"
               "  --name NAME    the pipeline's name (default: the file's name without .sql)\n");
}

int engine_main_submit(int argc, char **argv) {
    const char *server = getenv("EDDY_SERVER"), *name = NULL, *file = NULL;
    bool no_wait = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--server") && i + 1 < argc) server = argv[++i];
        else if (!strncmp(argv[i], "--server=", 9)) server = argv[i] + 9;
        else if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strncmp(argv[i], "--name=", 7)) name = argv[i] + 7;
        else if (!strcmp(argv[i], "--no-wait")) no_wait = true;
        else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "eddy submit: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else file = argv[i];
    }
    if (!file) {
        usage(stderr);
        return 2;
    }
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return 1;
    }
    wr_t text;
    wr_init(&text, 4096);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) wr_bytes(&text, buf, n);
    fclose(f);
    char auto_name[128];
    if (!name) {
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        snprintf(auto_name, sizeof auto_name, "%s", base);
        char *dot = strrchr(auto_name, '.');
        if (dot && !strcmp(dot, ".sql")) *dot = 0;
        name = auto_name;
    }
    client_t c = {0};
    snprintf(c.base, sizeof c.base, "%s", server ? server : "http://127.0.0.1:8000");
    if (!strstr(c.base, "://")) snprintf(c.base, sizeof c.base, "http://%s", server);
    size_t bl = strlen(c.base);
    if (bl && c.base[bl - 1] == '/') c.base[bl - 1] = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c.curl = curl_easy_init();
    int code = 1;
    wr_t body;
    wr_init(&body, 1024);
    char path[300];
    snprintf(path, sizeof path, "/pipelines?name=%s", name);
    long status = c.curl ? request(&c, "POST", path, text.buf ? (const char *)text.buf : "", text.len, &body) : -1;
    if (status == 201) {
        json_doc_t d;
        json_doc_init(&d);
        char streaming[16] = "0", batch[16] = "0";
        if (json_parse(&d, (const char *)body.buf, body.len) == EDDY_OK) {
            member_text(&d, 0, "streaming", streaming, sizeof streaming);
            member_text(&d, 0, "batch", batch, sizeof batch);
        }
        json_doc_free(&d);
        printf("pipeline %s submitted: %s streaming, %s batch quer%s\n", name, streaming, batch,
               atoi(streaming) + atoi(batch) == 1 ? "y" : "ies");
        fflush(stdout);
        code = 0;
        if (atoi(batch) > 0 && !no_wait) code = follow(&c, name, file);
    } else if (status > 0) {
        print_error(file, &body);
    }
    wr_free(&body);
    wr_free(&text);
    if (c.curl) curl_easy_cleanup(c.curl);
    curl_global_cleanup();
    return code;
}
