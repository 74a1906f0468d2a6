/* The enrichment worker: fetches a created leaf's page (libcurl, on its own threads: outbound
 * HTTP never runs on a loop or on the api's command workers), extracts what the page says
 * (html.c) and submits an enrichment command, which fills the leaf through its own event. A
 * failed fetch is recorded in http_status; it never blocks or fails the create. Switched off
 * with --enrich false (tests and CI have no outside network). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include <curl/curl.h>

#include "api/api_int.h"

#define ENRICH_THREADS 2
#define ENRICH_QUEUE_MAX 10000
#define ENRICH_MAX_PAGE (8u << 20)

typedef struct enrich_job {
    struct enrich_job *next;
    char *id, *url;
} enrich_job_t;

struct api_enrich {
    api_leaves_t *lv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enrich_job_t *head, *tail;
    size_t queued;
    atomic_bool stopping;
    pthread_t threads[ENRICH_THREADS];
    int nthreads;
};

typedef struct {
    wr_t body;
    bool truncated;
    const atomic_bool *stopping;
} fetch_buf_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    fetch_buf_t *b = arg;
    size_t len = size * n;
    if (b->body.len + len > ENRICH_MAX_PAGE) {
        b->truncated = true;
        return 0; /* enough of this page: stop the transfer */
    }
    wr_bytes(&b->body, p, len);
    return wr_ok(&b->body) ? len : 0;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    fetch_buf_t *b = arg;
    return atomic_load(b->stopping) ? 1 : 0; /* abort at shutdown */
}

/* Fetches url and fills page's fields into leaf. */
static void enrich_fetch(api_enrich_t *e, const char *url, api_leaf_t *leaf) {
    api_t *api = api_leaves_api(e->lv);
    CURL *curl = curl_easy_init();
    fetch_buf_t b = {.stopping = &e->stopping};
    wr_init(&b.body, 64 * 1024);
    char errbuf[CURL_ERROR_SIZE] = "";
    if (!curl) {
        api_leaf_set_text(leaf, LEAF_HTTP_STATUS, "failed: cannot start a fetch", 28);
        wr_free(&b.body);
        return;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)api->cfg.enrich_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)EDDY_MIN(api->cfg.enrich_timeout_ms, 5000));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "eddy-leaves/0.1 (+https://github.com/Anant/Cassandra.Api)");
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &b);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && b.truncated)) {
        char msg[CURL_ERROR_SIZE + 16];
        int n = snprintf(msg, sizeof msg, "failed: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        api_leaf_set_text(leaf, LEAF_HTTP_STATUS, msg, (size_t)EDDY_MIN(n, (int)sizeof msg - 1));
        api_metrics_count(api, API_METRIC_ENRICH_FAILED, 1);
        elog_debug("api", "enrichment of %s failed: %s", url, msg);
    } else {
        char status[16];
        int n = snprintf(status, sizeof status, "%ld", code);
        api_leaf_set_text(leaf, LEAF_HTTP_STATUS, status, (size_t)n);
        char *ctype = NULL;
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype);
        if (ctype) api_leaf_set_text(leaf, LEAF_MIMETYPE, ctype, strlen(ctype));
        bool html = !ctype || strstr(ctype, "html") || strstr(ctype, "xml");
        if (code >= 200 && code < 300 && html && b.body.len) api_html_extract((char *)b.body.buf, b.body.len, url, leaf);
        api_metrics_count(api, code >= 200 && code < 400 ? API_METRIC_ENRICH_OK : API_METRIC_ENRICH_FAILED, 1);
    }
    curl_easy_cleanup(curl);
    wr_free(&b.body);
}

static void *enrich_main(void *arg) {
    api_enrich_t *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->mu);
        while (!e->head && !atomic_load(&e->stopping)) pthread_cond_wait(&e->cv, &e->mu);
        if (atomic_load(&e->stopping)) {
            pthread_mutex_unlock(&e->mu);
            return NULL;
        }
        enrich_job_t *job = e->head;
        e->head = job->next;
        if (!e->head) e->tail = NULL;
        e->queued--;
        pthread_mutex_unlock(&e->mu);
        api_leaf_t *leaf = api_leaf_new();
        if (leaf) {
            enrich_fetch(e, job->url, leaf);
            api_cmd_t *c = atomic_load(&e->stopping) ? NULL : api_cmd_new(e->lv, API_CMD_ENRICH, job->id, NULL);
            if (c) {
                c->input = leaf;
                c->enrich_url = job->url; /* the command checks the leaf still points there */
                job->url = NULL;
                leaf = NULL;
                api_cmd_submit(c);
            }
            api_leaf_free(leaf);
        }
        eddy_free(job->id);
        eddy_free(job->url);
        eddy_free(job);
    }
}

static void enrich_curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int api_enrich_new(api_leaves_t *lv, api_enrich_t **out, char *errstr, size_t errlen) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, enrich_curl_init); /* libcurl's global setup is not thread-safe */
    api_enrich_t *e = eddy_calloc(1, sizeof *e);
    if (!e) return EDDY_ERR_NOMEM;
    e->lv = lv;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    for (int i = 0; i < ENRICH_THREADS; i++) {
        if (pthread_create(&e->threads[i], NULL, enrich_main, e) != 0) {
            api_enrich_free(e);
            return eddy_err(errstr, errlen, EDDY_ERR_IO, "cannot start the enrichment threads");
        }
        e->nthreads++;
    }
    *out = e;
    return EDDY_OK;
}

void api_enrich_free(api_enrich_t *e) {
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    atomic_store(&e->stopping, true);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; i < e->nthreads; i++) pthread_join(e->threads[i], NULL);
    while (e->head) {
        enrich_job_t *j = e->head;
        e->head = j->next;
        eddy_free(j->id);
        eddy_free(j->url);
        eddy_free(j);
    }
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    eddy_free(e);
}

void api_enrich_queue(api_enrich_t *e, const char *id, const char *url) {
    enrich_job_t *j = eddy_calloc(1, sizeof *j);
    if (j) {
        j->id = eddy_strdup(id);
        j->url = eddy_strdup(url);
    }
    pthread_mutex_lock(&e->mu);
    if (!j || !j->id || !j->url || e->queued >= ENRICH_QUEUE_MAX || atomic_load(&e->stopping)) {
        pthread_mutex_unlock(&e->mu);
        if (j) {
            eddy_free(j->id);
            eddy_free(j->url);
            eddy_free(j);
        }
        elog_debug("api", "enrichment of %s dropped (queue full or stopping)", url);
        return;
    }
    if (e->tail) e->tail->next = j;
    else e->head = j;
    e->tail = j;
    e->queued++;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}
