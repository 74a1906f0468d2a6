/* Cutting text into statements without parsing it, for shells: eddy cql reads a line at a time and
 * sends each complete statement to the server, which reports its errors one statement at a time
 * as cqlsh does. A statement ends at a ';' outside strings, quoted names and comments, except
 * inside BEGIN [UNLOGGED | COUNTER] BATCH ... APPLY BATCH, whose inner statements end with ';'
 * too. Bytes the lexer would refuse are skipped here: the server's parse reports them. */
#include "sql/sql_int.h"

static bool word_is(const char *s, size_t n, const char *w) {
    size_t k = strlen(w);
    if (n != k) return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 32) != w[i]) return false;
    return true;
}

static bool word_char(char c) { return ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

size_t sql_statement_end(const char *text, size_t len) {
    /* The last two words, to see BEGIN [x] BATCH and APPLY BATCH. */
    const char *w1 = NULL, *w2 = NULL;
    size_t l1 = 0, l2 = 0;
    bool in_batch = false;
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (c == '\'' || c == '"') {
            for (i++;; i++) {
                if (i >= len) return 0;
                if (text[i] == c) {
                    if (i + 1 < len && text[i + 1] == c) {
                        i++;
                        continue;
                    }
                    break;
                }
            }
            i++;
        } else if (c == '$' && i + 1 < len && text[i + 1] == '$') {
            const char *e = memmem(text + i + 2, len - i - 2, "$$", 2);
            if (!e) return 0;
            i = (size_t)(e - text) + 2;
        } else if ((c == '-' || c == '/') && i + 1 < len && text[i + 1] == c) {
            while (i < len && text[i] != '\n') i++;
        } else if (c == '/' && i + 1 < len && text[i + 1] == '*') {
            const char *e = memmem(text + i + 2, len - i - 2, "*/", 2);
            if (!e) return 0;
            i = (size_t)(e - text) + 2;
        } else if (word_char(c)) {
            size_t start = i;
            while (i < len && word_char(text[i])) i++;
            const char *w = text + start;
            size_t l = i - start;
            if (word_is(w, l, "batch")) {
                bool begin = (w2 && word_is(w2, l2, "begin")) ||
                             (w1 && word_is(w1, l1, "begin") && w2 &&
                              (word_is(w2, l2, "unlogged") || word_is(w2, l2, "counter")));
                if (begin) in_batch = true;
                else if (w2 && word_is(w2, l2, "apply")) in_batch = false;
            }
            w1 = w2, l1 = l2;
            w2 = w, l2 = l;
        } else if (c == ';' && !in_batch) {
            return i + 1;
        } else {
            i++;
        }
    }
    return 0;
}
