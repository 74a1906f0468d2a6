/* What a leaf learns from its page: title, language, preview picture, the readable content (as
 * simple HTML paragraphs) and its text, and the reading time, parsed with Gumbo (Debian's
 * libgumbo, an HTML5 parser). The page comes from the network: the walk is iterative, bounded
 * in depth and in output size. */
#include <ctype.h>
#include <stdio.h>

#include <gumbo.h>

#include "api/api_int.h"

#define HTML_MAX_DEPTH 256
#define HTML_MAX_TEXT (256 * 1024) /* content_text */
#define HTML_WORDS_PER_MINUTE 200

static bool html_inline(GumboTag t) {
    switch (t) {
    case GUMBO_TAG_A: case GUMBO_TAG_B: case GUMBO_TAG_I: case GUMBO_TAG_EM: case GUMBO_TAG_STRONG:
    case GUMBO_TAG_SPAN: case GUMBO_TAG_CODE: case GUMBO_TAG_SMALL: case GUMBO_TAG_SUB: case GUMBO_TAG_SUP:
    case GUMBO_TAG_ABBR: case GUMBO_TAG_MARK: case GUMBO_TAG_U: case GUMBO_TAG_S: case GUMBO_TAG_Q:
    case GUMBO_TAG_CITE: case GUMBO_TAG_TIME: case GUMBO_TAG_LABEL: case GUMBO_TAG_KBD: case GUMBO_TAG_VAR:
        return true;
    default: return false;
    }
}

/* What a visitor wants after seeing a node: its children, not them, or nothing more. */
typedef enum { WALK_DESCEND, WALK_SKIP, WALK_STOP } html_walk_t;

/* Visits root and the nodes under it depth-first, in document order, without recursion (pages
 * come from the network: depth is capped at HTML_MAX_DEPTH). */
static void html_walk(const GumboNode *root, html_walk_t (*visit)(const GumboNode *n, void *arg), void *arg) {
    const GumboNode *stack[HTML_MAX_DEPTH];
    size_t idx[HTML_MAX_DEPTH];
    int top = 0;
    stack[0] = root;
    idx[0] = 0;
    while (top >= 0) {
        const GumboNode *n = stack[top];
        if (idx[top] == 0) {
            html_walk_t w = visit(n, arg);
            if (w == WALK_STOP) return;
            if (w == WALK_SKIP) {
                top--;
                continue;
            }
        }
        const GumboVector *kids = n->type == GUMBO_NODE_ELEMENT    ? &n->v.element.children
                                  : n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children
                                                                   : NULL;
        if (!kids || idx[top] >= kids->length || top + 1 >= HTML_MAX_DEPTH) {
            top--;
            continue;
        }
        stack[top + 1] = kids->data[idx[top]++];
        idx[top + 1] = 0;
        top++;
    }
}

typedef struct {
    wr_t *w;
    size_t max;
} text_walk_t;

static html_walk_t text_visit(const GumboNode *n, void *arg) {
    text_walk_t *t = arg;
    wr_t *w = t->w;
    if (w->len >= t->max) return WALK_STOP;
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
        for (const char *c = n->v.text.text; *c && w->len < t->max; c++) {
            if (!isspace((unsigned char)*c)) wr_u8(w, (uint8_t)*c);
            else if (w->len && w->buf[w->len - 1] != ' ') wr_u8(w, ' ');
        }
        return WALK_SKIP;
    }
    if (n->type == GUMBO_NODE_DOCUMENT) return WALK_DESCEND;
    if (n->type != GUMBO_NODE_ELEMENT) return WALK_SKIP;
    GumboTag tag = n->v.element.tag;
    if (tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_NOSCRIPT || tag == GUMBO_TAG_TEMPLATE ||
        tag == GUMBO_TAG_HEAD || tag == GUMBO_TAG_SVG)
        return WALK_SKIP;
    if (!html_inline(tag) && w->len && w->buf[w->len - 1] != ' ') wr_u8(w, ' ');
    return WALK_DESCEND;
}

/* Appends the text under node, whitespace collapsed (block elements separate words), skipping
 * script-like elements. */
static void html_text(const GumboNode *root, wr_t *w, size_t max) {
    text_walk_t t = {w, max};
    html_walk(root, text_visit, &t);
}

typedef struct {
    bool (*pred)(const GumboNode *, void *);
    void *arg;
    const GumboNode *found;
} find_walk_t;

static html_walk_t find_visit(const GumboNode *n, void *arg) {
    find_walk_t *f = arg;
    if (n->type == GUMBO_NODE_DOCUMENT) return WALK_DESCEND;
    if (n->type != GUMBO_NODE_ELEMENT) return WALK_SKIP;
    if (f->pred(n, f->arg)) {
        f->found = n;
        return WALK_STOP;
    }
    return WALK_DESCEND;
}

/* The first element (document order) satisfying pred, or NULL. */
static const GumboNode *html_find(const GumboNode *root, bool (*pred)(const GumboNode *, void *), void *arg) {
    find_walk_t f = {pred, arg, NULL};
    html_walk(root, find_visit, &f);
    return f.found;
}

static bool is_tag(const GumboNode *n, void *arg) { return n->v.element.tag == *(GumboTag *)arg; }

/* <meta property="og:..." content="..."> or <meta name="..." content="...">. */
static bool is_meta(const GumboNode *n, void *arg) {
    if (n->v.element.tag != GUMBO_TAG_META) return false;
    const GumboAttribute *p = gumbo_get_attribute(&n->v.element.attributes, "property");
    if (!p) p = gumbo_get_attribute(&n->v.element.attributes, "name");
    return p && !strcasecmp(p->value, (const char *)arg) && gumbo_get_attribute(&n->v.element.attributes, "content");
}

static bool is_img(const GumboNode *n, void *arg) {
    const GumboAttribute *src;
    return n->v.element.tag == GUMBO_TAG_IMG && (src = gumbo_get_attribute(&n->v.element.attributes, "src")) && *src->value &&
           strncmp(src->value, "data:", 5);
}

static const char *meta_content(const GumboNode *root, const char *name) {
    const GumboNode *m = html_find(root, is_meta, (void *)name);
    return m ? gumbo_get_attribute(&m->v.element.attributes, "content")->value : NULL;
}

/* An absolute url for src as found in the page at base ("https://host/path"). */
static void html_absolute(const char *src, const char *base, wr_t *w) {
    if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
        wr_str(w, src);
    } else if (src[0] == '/' && src[1] == '/') {
        wr_str(w, !strncmp(base, "http://", 7) ? "http:" : "https:");
        wr_str(w, src);
    } else {
        char origin[2048];
        long n = base ? api_leaf_domain_from_url(base, strlen(base), origin, sizeof origin) : -1;
        if (n < 0) {
            wr_str(w, src);
            return;
        }
        wr_str(w, origin);
        if (src[0] != '/') {
            /* relative to the page's directory */
            const char *path = base + n, *slash = strrchr(path, '/');
            if (slash) wr_bytes(w, path, (size_t)(slash - path + 1));
            else wr_u8(w, '/');
        }
        wr_str(w, src);
    }
}

typedef struct {
    wr_t *html, text;
    size_t max;
} content_walk_t;

static html_walk_t content_visit(const GumboNode *n, void *arg) {
    content_walk_t *cw = arg;
    if (cw->html->len >= cw->max) return WALK_STOP;
    if (n->type != GUMBO_NODE_ELEMENT) return WALK_SKIP;
    GumboTag tag = n->v.element.tag;
    if (tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_NAV || tag == GUMBO_TAG_FOOTER ||
        tag == GUMBO_TAG_HEADER || tag == GUMBO_TAG_ASIDE || tag == GUMBO_TAG_FORM)
        return WALK_SKIP;
    const char *t = tag == GUMBO_TAG_P || tag == GUMBO_TAG_LI || tag == GUMBO_TAG_BLOCKQUOTE ? "p"
                    : tag == GUMBO_TAG_PRE                                                  ? "pre"
                    : tag == GUMBO_TAG_H1 || tag == GUMBO_TAG_H2 || tag == GUMBO_TAG_H3    ? "h2"
                                                                                            : NULL;
    if (!t) return WALK_DESCEND;
    wr_reset(&cw->text);
    html_text(n, &cw->text, cw->max);
    size_t s = 0, e = cw->text.len;
    while (s < e && cw->text.buf[s] == ' ') s++;
    while (e > s && cw->text.buf[e - 1] == ' ') e--;
    if (e > s) {
        wr_fmt(cw->html, "<%s>", t);
        for (size_t i = s; i < e; i++) { /* escape what HTML needs */
            uint8_t c = cw->text.buf[i];
            if (c == '<') wr_str(cw->html, "&lt;");
            else if (c == '>') wr_str(cw->html, "&gt;");
            else if (c == '&') wr_str(cw->html, "&amp;");
            else wr_u8(cw->html, c);
        }
        wr_fmt(cw->html, "</%s>", t);
    }
    return WALK_SKIP;
}

/* Paragraph-like elements of the readable part become <p>text</p> (headings <h2>). */
static void html_content(const GumboNode *root, wr_t *html, size_t max) {
    content_walk_t cw = {html, {0}, max};
    wr_init(&cw.text, 1024);
    html_walk(root, content_visit, &cw);
    wr_free(&cw.text);
}

static void set_trimmed(api_leaf_t *leaf, api_leaf_col_t col, const char *s, size_t n) {
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n) api_leaf_set_text(leaf, col, s, n);
}

int api_html_extract(const char *page, size_t len, const char *url, api_leaf_t *leaf) {
    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors = 64;
    GumboOutput *out = gumbo_parse_with_options(&opts, page, len);
    if (!out) return EDDY_ERR_NOMEM;
    const GumboNode *root = out->root;
    wr_t w;
    wr_init(&w, 4096);

    /* title: og:title, else <title> */
    const char *t = meta_content(out->document, "og:title");
    if (t) {
        set_trimmed(leaf, LEAF_TITLE, t, strlen(t));
    } else {
        GumboTag title = GUMBO_TAG_TITLE;
        const GumboNode *tn = html_find(out->document, is_tag, &title);
        if (tn) {
            html_text(tn, &w, 4096);
            set_trimmed(leaf, LEAF_TITLE, (char *)w.buf, w.len);
        }
    }
    /* language: <html lang>, else content-language */
    const GumboAttribute *lang = root->type == GUMBO_NODE_ELEMENT ? gumbo_get_attribute(&root->v.element.attributes, "lang") : NULL;
    const char *l = lang ? lang->value : meta_content(out->document, "content-language");
    if (l && *l && strlen(l) < 36) set_trimmed(leaf, LEAF_LANGUAGE, l, strlen(l));
    /* preview picture: og:image, else the first image */
    const char *img = meta_content(out->document, "og:image");
    if (!img) {
        const GumboNode *in = html_find(out->document, is_img, NULL);
        if (in) img = gumbo_get_attribute(&in->v.element.attributes, "src")->value;
    }
    if (img && *img) {
        wr_reset(&w);
        html_absolute(img, url, &w);
        if (w.len < 2048) set_trimmed(leaf, LEAF_PREVIEW_PICTURE, (char *)w.buf, w.len);
    }
    /* content: the paragraphs of <article>, else <main>, else <body> */
    GumboTag tags[] = {GUMBO_TAG_ARTICLE, GUMBO_TAG_MAIN, GUMBO_TAG_BODY};
    const GumboNode *part = NULL;
    for (size_t i = 0; i < EDDY_ARRAY_LEN(tags) && !part; i++) part = html_find(out->document, is_tag, &tags[i]);
    if (!part) part = root;
    wr_reset(&w);
    html_content(part, &w, HTML_MAX_TEXT);
    if (w.len) api_leaf_set_text(leaf, LEAF_CONTENT, (char *)w.buf, w.len);
    wr_reset(&w);
    html_text(part, &w, HTML_MAX_TEXT);
    size_t s = 0, e = w.len, words = 0;
    while (s < e && w.buf[s] == ' ') s++;
    while (e > s && w.buf[e - 1] == ' ') e--;
    for (size_t i = s; i < e; i++) words += w.buf[i] == ' ';
    if (e > s) {
        words++;
        api_leaf_set_text(leaf, LEAF_CONTENT_TEXT, (char *)w.buf + s, e - s);
    }
    /* Minutes, rounded, as processor.js computes from the article's time to read. */
    api_leaf_set_int(leaf, LEAF_READING_TIME, (int64_t)((words + HTML_WORDS_PER_MINUTE / 2) / HTML_WORDS_PER_MINUTE));
    int rc = wr_ok(&w) ? EDDY_OK : EDDY_ERR_NOMEM;
    wr_free(&w);
    gumbo_destroy_output(&opts, out);
    return rc;
}
