/* The leaf generator: realistic, reproducible leaves for the demo, tests and benchmarks, and the
 * `eddy gen leaves` command that prints them as JSON lines. */
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"

/* Tags as the knowledge base spells them (spaces became '.'), most common first: the generator
 * draws them with Zipf weights 1/rank, so the head of the list dominates the tags table. */
static const char *const gen_tags[] = {
    "cassandra", "kafka", "data.modeling", "spark", "devops", "kubernetes", "python", "streaming",
    "database", "javascript", "linux", "docker", "java", "sql", "aws", "microservices",
    "event.sourcing", "machine.learning", "monitoring", "security", "scala", "golang", "nosql",
    "analytics", "architecture", "api", "testing", "cloud", "big.data", "react", "postgresql",
    "elasticsearch", "search", "redis", "performance", "terraform", "distributed.systems", "rust",
    "saas", "sales.and.marketing", "sales", "business", "startup", "design", "css", "node.js",
    "typescript", "caching", "networking", "http", "serverless", "observability", "prometheus",
    "grafana", "logging", "tracing", "jvm", "garbage.collection", "compaction", "rocksdb",
    "lsm.trees", "indexing", "storage", "backup", "replication", "sharding", "consistency",
    "transactions", "schema.registry", "avro", "protobuf", "json", "kotlin", "android", "mobile",
    "dashboards", "visualization", "jupyter", "pandas", "statistics", "leadership", "productivity",
    "hiring", "remote.work", "documentation", "open.source", "writing", "career", "algorithms",
    "data.structures", "compilers", "graphql", "rest", "cqrs", "etl", "airflow", "solr", "mysql",
    "mongodb", "git", "github", "ansible", "chef", "blockchain", "kpi", "marketing", "ux.design",
    "vue", "angular", "tls", "dns", "lambda", "consensus", "raft", "paxos", "time.series", "azure",
    "gcp", "yaml", "ios", "numpy", "interview", "licensing", "workflow", "automation", "gitops",
    "service.mesh", "envoy", "nginx", "load.balancing", "webassembly", "functional",
    "haskell", "erlang", "elixir", "clojure", "datastax", "astra", "cql", "materialized.views",
};

static const char *const gen_words[] = {
    "data", "system", "stream", "event", "cluster", "node", "query", "table", "partition", "key",
    "replica", "write", "read", "latency", "throughput", "schema", "model", "design", "service",
    "pipeline", "batch", "window", "state", "storage", "index", "cache", "network", "protocol",
    "client", "server", "driver", "broker", "topic", "consumer", "producer", "offset", "log",
    "commit", "transaction", "consistency", "availability", "failure", "recovery", "backup",
    "scaling", "performance", "tuning", "monitoring", "metrics", "alerts", "deployment", "cloud",
    "container", "kubernetes", "operator", "guide", "tutorial", "introduction", "deep", "dive",
    "lessons", "learned", "production", "patterns", "anti-patterns", "best", "practices", "how",
    "why", "when", "what", "building", "running", "debugging", "testing", "migrating", "from",
    "to", "with", "without", "in", "at", "scale", "a", "the", "your", "our", "first", "modern",
    "simple", "fast", "reliable", "secure", "open", "source", "real-time", "analytics", "search",
    "engine", "compaction", "tombstones", "tokens", "ring", "gossip", "repair", "hints", "quorum",
    "leader", "election", "raft", "snapshots", "checkpoints", "exactly-once", "idempotent",
    "retries", "backpressure", "queues", "sourcing", "projections", "commands", "aggregates",
    "dashboards", "notebooks", "features", "training", "inference", "embeddings", "vectors",
};

static const char *const gen_hosts[] = {
    "blog.example.com", "www.example.org", "engineering.example.net", "docs.example.io",
    "medium.example.com", "dev.example.to", "news.example.dev", "notes.example.org",
    "www.datastax.example", "thelastpickle.example.com", "www.confluent.example.io",
    "databricks.example.com", "github.example.com", "stackoverflow.example.com",
    "www.infoq.example.com", "martinfowler.example.com", "highscalability.example.com",
    "aws.example.amazon.com", "cloud.example.google.com", "www.baeldung.example.com",
};

static const char *const gen_languages[] = {"en", "en", "en", "en", "en", "en", "de", "fr", "es", "pt"};

#define GEN_NTAGS EDDY_ARRAY_LEN(gen_tags)
#define GEN_NWORDS EDDY_ARRAY_LEN(gen_words)

struct api_leafgen {
    uint64_t state;
    uint64_t seed;
    uint64_t index;
    api_leafgen_content_t content;
    double tag_cdf[GEN_NTAGS];
    api_leaf_t *leaf;
    wr_t scratch;
};

/* splitmix64: small, fast and good enough for test data. */
static uint64_t gen_u64(api_leafgen_t *g) {
    uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t gen_range(api_leafgen_t *g, uint32_t lo, uint32_t hi) { /* inclusive */
    return lo + (uint32_t)(gen_u64(g) % (uint64_t)(hi - lo + 1));
}

static double gen_unit(api_leafgen_t *g) { return (double)(gen_u64(g) >> 11) / 9007199254740992.0; }

api_leafgen_t *api_leafgen_new(uint64_t seed, api_leafgen_content_t content) {
    api_leafgen_t *g = eddy_calloc(1, sizeof *g);
    if (!g) return NULL;
    g->seed = seed;
    g->state = seed * 0x2545f4914f6cdd1dULL + 1;
    g->content = content;
    double sum = 0;
    for (size_t i = 0; i < GEN_NTAGS; i++) g->tag_cdf[i] = (sum += 1.0 / (double)(i + 1));
    for (size_t i = 0; i < GEN_NTAGS; i++) g->tag_cdf[i] /= sum;
    wr_init(&g->scratch, 4096);
    return g;
}

void api_leafgen_free(api_leafgen_t *g) {
    if (!g) return;
    api_leaf_free(g->leaf);
    wr_free(&g->scratch);
    eddy_free(g);
}

static const char *gen_tag(api_leafgen_t *g) {
    double u = gen_unit(g);
    size_t lo = 0, hi = GEN_NTAGS - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->tag_cdf[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return gen_tags[lo];
}

/* Appends words to w until it holds at least min bytes, never more than max. */
static void gen_words_into(api_leafgen_t *g, wr_t *w, size_t min, size_t max, char sep, bool capitalize) {
    size_t start = w->len;
    while (w->len - start < min) {
        const char *word = gen_words[gen_range(g, 0, GEN_NWORDS - 1)];
        size_t have = w->len - start, sep_len = have ? 1 : 0;
        if (have + sep_len >= max) break;
        size_t n = EDDY_MIN(strlen(word), max - have - sep_len); /* the last word may be cut */
        if (sep_len) wr_u8(w, (uint8_t)sep);
        size_t at = w->len;
        wr_bytes(w, word, n);
        if (capitalize && (have == 0 || gen_range(g, 0, 3) == 0) && w->buf[at] >= 'a' && w->buf[at] <= 'z')
            w->buf[at] = (uint8_t)(w->buf[at] - 'a' + 'A');
    }
}

/* Paragraphs of sentences: the page's text (into text) and its HTML (into html), until the
 * text holds at least len bytes. */
static void gen_page(api_leafgen_t *g, wr_t *html, wr_t *text, size_t len) {
    while (text->len < len) {
        wr_str(html, "<p>");
        uint32_t sentences = gen_range(g, 2, 6);
        for (uint32_t s = 0; s < sentences && text->len < len; s++) {
            size_t at = text->len;
            if (at) wr_u8(text, ' ');
            size_t words_at = text->len;
            gen_words_into(g, text, gen_range(g, 40, 140), 160, ' ', false);
            if (text->buf[words_at] >= 'a' && text->buf[words_at] <= 'z') text->buf[words_at] -= 'a' - 'A';
            wr_u8(text, '.');
            if (s) wr_u8(html, ' ');
            wr_bytes(html, text->buf + words_at, text->len - words_at);
        }
        wr_str(html, "</p>");
    }
}

static void gen_base36(char *out, uint64_t v, int digits) {
    static const char d[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int i = digits - 1; i >= 0; i--, v /= 36) out[i] = d[v % 36];
    out[digits] = 0;
}

/* Builds the next leaf into g->leaf. */
static int gen_leaf(api_leafgen_t *g) {
    api_leaf_free(g->leaf);
    api_leaf_t *leaf = g->leaf = api_leaf_new();
    if (!leaf) return EDDY_ERR_NOMEM;
    wr_t *w = &g->scratch;
    uint64_t n = g->index++;
    int rc = EDDY_OK;

    /* url: https://host/words-unique, 30..120 chars; the unique part keeps ids distinct. */
    const char *host = gen_hosts[gen_range(g, 0, EDDY_ARRAY_LEN(gen_hosts) - 1)];
    char uniq[32];
    gen_base36(uniq, (g->seed * 1000003ULL) ^ (n * 0x9e3779b97f4a7c15ULL), 10);
    wr_reset(w);
    wr_fmt(w, "https://%s/", host);
    size_t target = gen_range(g, 30, 120), fixed = w->len + 1 + strlen(uniq);
    if (target > fixed + 3) {
        gen_words_into(g, w, target - fixed, target - fixed, '-', false);
        wr_u8(w, '-');
    }
    wr_str(w, uniq);
    rc |= api_leaf_set_text(leaf, LEAF_URL, (char *)w->buf, w->len);
    char id[33];
    api_leaf_id_from_url((char *)w->buf, w->len, id);
    rc |= api_leaf_set_text(leaf, LEAF_ID, id, 32);
    rc |= api_leaf_set_text(leaf, LEAF_DOMAIN_NAME, host, strlen(host));

    wr_reset(w);
    gen_words_into(g, w, gen_range(g, 20, 120), 120, ' ', true);
    rc |= api_leaf_set_text(leaf, LEAF_TITLE, (char *)w->buf, w->len);

    /* 1..5 distinct tags (3 on average); slugs spell them with dashes, as the real data does. */
    uint32_t ntags = gen_range(g, 1, 5);
    const char *tags[5];
    uint32_t have = 0;
    for (uint32_t tries = 0; have < ntags && tries < 50; tries++) {
        const char *t = gen_tag(g);
        bool dup = false;
        for (uint32_t k = 0; k < have; k++) dup |= tags[k] == t;
        if (!dup) tags[have++] = t;
    }
    for (uint32_t k = 0; k < have; k++) {
        char slug[32];
        snprintf(slug, sizeof slug, "%s", tags[k]);
        for (char *p = slug; *p; p++)
            if (*p == '.') *p = '-';
        rc |= api_leaf_list_append(leaf, LEAF_TAGS, tags[k], strlen(tags[k]));
        rc |= api_leaf_list_append(leaf, LEAF_SLUGS, slug, strlen(slug));
    }

    int64_t created = 1420070400000LL + (int64_t)(gen_u64(g) % (9ULL * 365 * 86400)) * 1000;
    api_leaf_set_int(leaf, LEAF_CREATED_AT, created);
    api_leaf_set_int(leaf, LEAF_UPDATED_AT, created + (int64_t)gen_range(g, 0, 30 * 86400) * 1000);
    api_leaf_set_int(leaf, LEAF_IS_ARCHIVED, gen_range(g, 0, 3) != 0);
    api_leaf_set_int(leaf, LEAF_IS_STARRED, gen_range(g, 0, 9) == 0);
    api_leaf_set_bool(leaf, LEAF_IS_PUBLIC, gen_range(g, 0, 1));
    rc |= api_leaf_set_text(leaf, LEAF_USER_NAME, "admin", 5);
    rc |= api_leaf_set_text(leaf, LEAF_USER_EMAIL, "editor@example.org", 18);
    api_leaf_set_int(leaf, LEAF_USER_ID, 1);
    rc |= api_leaf_set_text(leaf, LEAF_MIMETYPE, "text/html", 9);
    const char *lang = gen_languages[gen_range(g, 0, EDDY_ARRAY_LEN(gen_languages) - 1)];
    rc |= api_leaf_set_text(leaf, LEAF_LANGUAGE, lang, strlen(lang));
    rc |= api_leaf_set_text(leaf, LEAF_HTTP_STATUS, "200", 3);
    char link[64];
    snprintf(link, sizeof link, "/api/entries/%llu", (unsigned long long)(n + 1));
    rc |= api_leaf_list_append(leaf, LEAF_LINKS, link, strlen(link));
    if (gen_range(g, 0, 2)) {
        char pic[160];
        snprintf(pic, sizeof pic, "https://%s/img/%s.png", host, uniq);
        rc |= api_leaf_set_text(leaf, LEAF_PREVIEW_PICTURE, pic, strlen(pic));
    }

    size_t text_len = 0;
    if (g->content != API_LEAFGEN_NONE) {
        wr_t html, text;
        wr_init(&html, 1024);
        wr_init(&text, 1024);
        text_len = g->content == API_LEAFGEN_SMALL ? gen_range(g, 100, 200) : gen_range(g, 8000, 80000);
        gen_page(g, &html, &text, text_len);
        rc |= api_leaf_set_text(leaf, LEAF_CONTENT, (char *)html.buf, html.len);
        rc |= api_leaf_set_text(leaf, LEAF_CONTENT_TEXT, (char *)text.buf, text.len);
        text_len = text.len;
        wr_free(&html);
        wr_free(&text);
        if (!wr_ok(&html) || !wr_ok(&text)) rc = EDDY_ERR_NOMEM;
    }
    api_leaf_set_int(leaf, LEAF_READING_TIME, (int64_t)(text_len / 6 / 200));

    /* all: the short values, as the knowledge base's export lists them. */
    char num[24];
    rc |= api_leaf_list_append(leaf, LEAF_ALL, leaf->v[LEAF_IS_ARCHIVED].u.i ? "1" : "0", 1);
    rc |= api_leaf_list_append(leaf, LEAF_ALL, leaf->v[LEAF_IS_STARRED].u.i ? "1" : "0", 1);
    rc |= api_leaf_list_append(leaf, LEAF_ALL, "admin", 5);
    rc |= api_leaf_list_append(leaf, LEAF_ALL, "editor@example.org", 18);
    rc |= api_leaf_list_append(leaf, LEAF_ALL, "1", 1);
    for (int col = LEAF_TAGS; col >= LEAF_SLUGS; col--)
        for (uint32_t k = 0; k < leaf->v[col].u.l.count; k++)
            rc |= api_leaf_list_append(leaf, LEAF_ALL, leaf->v[col].u.l.items[k], strlen(leaf->v[col].u.l.items[k]));
    snprintf(num, sizeof num, "%llu", (unsigned long long)(n + 1));
    rc |= api_leaf_list_append(leaf, LEAF_ALL, num, strlen(num));
    rc |= api_leaf_list_append(leaf, LEAF_ALL, api_leaf_text(leaf, LEAF_TITLE), strlen(api_leaf_text(leaf, LEAF_TITLE)));
    rc |= api_leaf_list_append(leaf, LEAF_ALL, api_leaf_text(leaf, LEAF_URL), strlen(api_leaf_text(leaf, LEAF_URL)));
    return rc ? EDDY_ERR_NOMEM : EDDY_OK;
}

/* The workshop's record shape (the Avro schema's field order): _links instead of links,
 * http_status a number, timestamps as "2019-08-02T21:45:12Z". */
static void gen_write_record(wr_t *w, const api_leaf_t *leaf) {
    static const api_leaf_col_t order[] = {
        LEAF_IS_ARCHIVED, LEAF_ALL, LEAF_IS_STARRED, LEAF_USER_NAME, LEAF_USER_EMAIL, LEAF_USER_ID,
        LEAF_TAGS, LEAF_SLUGS, LEAF_IS_PUBLIC, LEAF_ID, LEAF_TITLE, LEAF_URL, LEAF_CONTENT_TEXT,
        LEAF_CREATED_AT, LEAF_UPDATED_AT, LEAF_MIMETYPE, LEAF_LANGUAGE, LEAF_READING_TIME,
        LEAF_DOMAIN_NAME, LEAF_PREVIEW_PICTURE, LEAF_HTTP_STATUS, LEAF_LINKS, LEAF_CONTENT,
    };
    wr_u8(w, '{');
    for (size_t i = 0; i < EDDY_ARRAY_LEN(order); i++) {
        api_leaf_col_t col = order[i];
        const api_leaf_value_t *v = &leaf->v[col];
        if (i) wr_u8(w, ',');
        const char *name = col == LEAF_LINKS ? "_links" : api_leaf_columns[col].name;
        json_write_string(w, name, strlen(name));
        wr_u8(w, ':');
        if (!v->set) {
            wr_str(w, col == LEAF_LINKS || col == LEAF_ALL ? "[]" : "null");
            continue;
        }
        switch (api_leaf_columns[col].type) {
        case LEAF_TEXT:
            if (col == LEAF_HTTP_STATUS) wr_str(w, v->u.s);
            else json_write_string(w, v->u.s, strlen(v->u.s));
            break;
        case LEAF_INT: json_write_i64(w, v->u.i); break;
        case LEAF_BOOL: wr_str(w, v->u.b ? "true" : "false"); break;
        case LEAF_TIMESTAMP: {
            char ts[40];
            size_t n = time_format_iso8601(v->u.i, ts, sizeof ts);
            memcpy(ts + n - 5, "Z", 2); /* drop ".000": the export has whole seconds */
            json_write_string(w, ts, n - 4);
            break;
        }
        case LEAF_LIST:
            wr_u8(w, '[');
            for (uint32_t k = 0; k < v->u.l.count; k++) {
                if (k) wr_u8(w, ',');
                json_write_string(w, v->u.l.items[k], strlen(v->u.l.items[k]));
            }
            wr_u8(w, ']');
            break;
        }
    }
    wr_u8(w, '}');
}

void api_leafgen_next(api_leafgen_t *g, wr_t *w, api_leafgen_format_t format, char id[33]) {
    if (gen_leaf(g) != EDDY_OK) {
        w->err = EDDY_ERR_NOMEM;
        return;
    }
    if (format == API_LEAFGEN_RECORD) gen_write_record(w, g->leaf);
    else api_leaf_write_json(w, g->leaf);
    if (id) memcpy(id, api_leaf_text(g->leaf, LEAF_ID), 33);
}

/* ---- eddy gen ---------------------------------------------------------------------------------- */

static void gen_usage(FILE *out) {
    fprintf(out, "usage: eddy gen leaves [--count N] [--seed S] [--content none|small|full] [--format event|record]\n"
                 "                       [--keyed] [--from FILE]\n\n"
                 "Prints generated leaves as JSON lines: the leaf event (the columns of demo.leaves, as on\n"
                 "topic leaves) or the workshop's record shape (--format record). Content: none (null),\n"
                 "small (about 1 KB a leaf, the default) or full (10-100 KB). The same seed gives the same leaves.\n"
                 "--from FILE converts the workshop's records (a JSON array or JSON lines, as leaves-sample.json)\n"
                 "to leaf events instead. --keyed prefixes each line with the leaf's id and a tab (for\n"
                 "kcat -K'\\t').\n");
}

/* --from: the workshop's records (one JSON array, or one record a line) as leaf events. */
static int gen_from_file(const char *path, bool keyed) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "eddy gen: cannot open %s\n", path);
        return 1;
    }
    wr_t in, out;
    wr_init(&in, 1 << 16);
    wr_init(&out, 1 << 16);
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) wr_bytes(&in, chunk, n);
    fclose(f);
    json_doc_t d;
    json_doc_init(&d);
    int rc = 0, count = 0;
    /* A whole-file array, or lines. */
    size_t pos = 0;
    bool whole = json_parse(&d, (char *)in.buf, in.len) == EDDY_OK && d.nodes[0].type == JSON_ARRAY;
    uint32_t item = 1, left = whole ? d.nodes[0].count : 0;
    while (rc == 0) {
        uint32_t node;
        if (whole) {
            if (!left--) break;
            node = item;
            item = json_next(&d, item);
        } else {
            while (pos < in.len && (in.buf[pos] == '\n' || in.buf[pos] == '\r' || in.buf[pos] == ' ')) pos++;
            if (pos >= in.len) break;
            const uint8_t *nl = memchr(in.buf + pos, '\n', in.len - pos);
            size_t end = nl ? (size_t)(nl - in.buf) : in.len;
            if (json_parse(&d, (char *)in.buf + pos, end - pos) != EDDY_OK) {
                fprintf(stderr, "eddy gen: %s: record %d is not JSON: %s\n", path, count + 1, d.errmsg);
                rc = 1;
                break;
            }
            pos = end;
            node = 0;
        }
        api_leaf_t *leaf = api_leaf_new();
        char err[256];
        if (!leaf || api_leaf_from_json(leaf, &d, node, LEAF_JSON_RECORD, err, sizeof err) != EDDY_OK ||
            !api_leaf_text(leaf, LEAF_ID)) {
            fprintf(stderr, "eddy gen: %s: record %d: %s\n", path, count + 1, leaf && api_leaf_text(leaf, LEAF_ID) ? err : "no id");
            api_leaf_free(leaf);
            rc = 1;
            break;
        }
        if (keyed) {
            wr_str(&out, api_leaf_text(leaf, LEAF_ID));
            wr_u8(&out, '\t');
        }
        api_leaf_write_json(&out, leaf);
        wr_u8(&out, '\n');
        api_leaf_free(leaf);
        count++;
    }
    if (rc == 0 && (!wr_ok(&out) || fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout))) rc = 1;
    json_doc_free(&d);
    wr_free(&in);
    wr_free(&out);
    return rc;
}

int api_main_gen(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        gen_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "leaves") != 0) {
        fprintf(stderr, "eddy gen: unknown kind '%s' (only 'leaves')\n", argv[1]);
        return 2;
    }
    int64_t count = 1000, seed = 1;
    const char *content = "small", *format = "event", *from = NULL;
    bool help = false, keyed = false;
    flag_t flags[] = {
        {"count", 'n', FLAG_INT, &count, "N", "how many leaves (default 1000)"},
        {"seed", 0, FLAG_INT, &seed, "S", "random seed (default 1)"},
        {"content", 0, FLAG_STRING, &content, "KIND", "none, small (default) or full"},
        {"format", 0, FLAG_STRING, &format, "SHAPE", "event (default) or record"},
        {"keyed", 0, FLAG_BOOL, &keyed, NULL, "prefix each line with the id and a tab"},
        {"from", 0, FLAG_STRING, &from, "FILE", "convert the workshop's records in FILE instead"},
        {"help", 'h', FLAG_BOOL, &help, NULL, "show this help"},
    };
    int i = 2;
    char err[256];
    if (flags_parse(flags, EDDY_ARRAY_LEN(flags), argc, argv, &i, err, sizeof err) != EDDY_OK) {
        fprintf(stderr, "eddy gen: %s\n", err);
        return 2;
    }
    if (help) {
        gen_usage(stdout);
        flags_print_help(flags, EDDY_ARRAY_LEN(flags), stdout);
        return 0;
    }
    if (i < argc) {
        fprintf(stderr, "eddy gen: unexpected argument '%s'\n", argv[i]);
        return 2;
    }
    if (from) return gen_from_file(from, keyed);
    api_leafgen_content_t kind;
    if (!strcmp(content, "none")) kind = API_LEAFGEN_NONE;
    else if (!strcmp(content, "small")) kind = API_LEAFGEN_SMALL;
    else if (!strcmp(content, "full")) kind = API_LEAFGEN_FULL;
    else {
        fprintf(stderr, "eddy gen: --content takes none, small or full, not '%s'\n", content);
        return 2;
    }
    api_leafgen_format_t fmt;
    if (!strcmp(format, "event")) fmt = API_LEAFGEN_EVENT;
    else if (!strcmp(format, "record")) fmt = API_LEAFGEN_RECORD;
    else {
        fprintf(stderr, "eddy gen: --format takes event or record, not '%s'\n", format);
        return 2;
    }
    if (count < 0) {
        fprintf(stderr, "eddy gen: --count must not be negative\n");
        return 2;
    }
    api_leafgen_t *g = api_leafgen_new((uint64_t)seed, kind);
    if (!g) return 1;
    wr_t w;
    wr_init(&w, 1 << 16);
    int rc = 0;
    for (int64_t k = 0; k < count; k++) {
        if (keyed) {
            size_t at = w.len;
            char id[33];
            api_leafgen_next(g, &w, fmt, id);
            /* The key goes first: move the leaf after it. */
            size_t len = w.len - at;
            if (wr_reserve(&w, 33)) {
                memmove(w.buf + at + 33, w.buf + at, len);
                memcpy(w.buf + at, id, 32);
                w.buf[at + 32] = '\t';
                w.len += 33;
            }
        } else {
            api_leafgen_next(g, &w, fmt, NULL);
        }
        wr_u8(&w, '\n');
        if (!wr_ok(&w)) {
            rc = 1;
            break;
        }
        if (w.len >= (1 << 16) || k + 1 == count) {
            if (fwrite(w.buf, 1, w.len, stdout) != w.len) {
                rc = 1; /* a closed pipe (| head) ends the output */
                break;
            }
            wr_reset(&w);
        }
    }
    if (fflush(stdout) != 0) rc = 1;
    wr_free(&w);
    api_leafgen_free(g);
    return rc;
}
