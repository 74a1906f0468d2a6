/* `eddy cql`: a cqlsh-like shell on eddy's client. Statements end with ';' (quotes and comments
 * respected); shell commands (EXPAND, PAGING, CONSISTENCY, DESCRIBE, SOURCE, HELP, EXIT) end at
 * the line. Interactive sessions get line editing and history from libedit and page results;
 * -e, -f and piped input run as scripts, print errors as "<file>:<line>:Class: message" and exit
 * with 1 when a statement failed. */
#include <ctype.h>
#include <editline/readline.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "cql/cql_int.h"

typedef struct {
    cql_client_t *client;
    bool tty;
    bool expand;
    bool paging;
    int32_t page_size;
    uint16_t consistency;
    uint16_t serial;
    char keyspace[CQL_KEYSPACE_MAX];
    const char *source;         /* for error lines in scripts */
    int line;
    int errors;
    bool quit;
    wr_t pending;               /* an unfinished statement */
    int pending_line;
} shell_t;

static int run_text(shell_t *sh, const char *text, size_t len, const char *source);

/* ---- printing ------------------------------------------------------------------------------- */

static void print_error(shell_t *sh, int status, const cql_error_t *err) {
    char where[300] = "";
    if (!sh->tty) snprintf(where, sizeof where, "%s:%d:", sh->source, sh->pending_line);
    if (err && err->code >= 0) {
        const char *cls, *summary;
        cql_shell_error_name(err->code, &cls, &summary);
        fprintf(stderr, "%s%s: Error from server: code=%04x [%s] message=\"%s\"\n", where, cls, err->code, summary,
                err->message);
    } else {
        fprintf(stderr, "%s%s: %s\n", where, status == EDDY_ERR_TIMEOUT ? "OperationTimedOut" : "NoHostAvailable",
                err ? err->message : eddy_strerror(status));
    }
    sh->errors++;
}

static void print_warnings(const cql_result_t *res) {
    const char *w = cql_result_warnings(res);
    if (!w[0]) return;
    printf("\nWarnings :\n%s\n\n", w);
}

/* cmd.Cmd.columnize: names in as many columns as fit in 80 characters. */
static void columnize(char **names, size_t n) {
    if (!n) {
        printf("<empty>\n");
        return;
    }
    size_t rows;
    size_t widths[256];
    for (rows = 1; rows <= n; rows++) {
        size_t cols = (n + rows - 1) / rows;
        if (cols > 256) continue;
        size_t total = 0;
        for (size_t c = 0; c < cols; c++) {
            widths[c] = 0;
            for (size_t r = 0; r < rows && c * rows + r < n; r++) {
                size_t l = strlen(names[c * rows + r]);
                if (l > widths[c]) widths[c] = l;
            }
            total += widths[c] + (c ? 2 : 0);
        }
        if (total <= 80) break;
    }
    if (rows > n) rows = n;
    size_t cols = (n + rows - 1) / rows;
    for (size_t r = 0; r < rows; r++) {
        size_t last = 0;
        for (size_t c = 0; c < cols; c++)
            if (c * rows + r < n) last = c;
        for (size_t c = 0; c <= last; c++) {
            const char *s = names[c * rows + r];
            if (c) printf("  ");
            printf("%s", s);
            if (c < last)
                for (size_t k = strlen(s); k < widths[c]; k++) putchar(' ');
        }
        putchar('\n');
    }
}

static char *cell_text(const cql_result_t *res, size_t row, const char *col) {
    for (size_t k = 0; k < cql_result_column_count(res); k++) {
        if (strcmp(cql_result_column_name(res, k), col)) continue;
        cql_value_t v = cql_result_value(res, row, k);
        return v.len >= 0 ? eddy_strndup((const char *)v.ptr, (size_t)v.len) : eddy_strdup("");
    }
    return eddy_strdup("");
}

/* DESCRIBE answers: names for lists, CREATE statements for objects. */
static void print_describe(shell_t *sh, const char *what, const cql_result_t *res) {
    size_t n = cql_result_row_count(res);
    if (!strcasecmp(what, "cluster")) {
        char *c = cell_text(res, 0, "cluster"), *p = cell_text(res, 0, "partitioner"), *s = cell_text(res, 0, "snitch");
        printf("\nCluster: %s\nPartitioner: %s\nSnitch: %s\n\n", c, p, s);
        eddy_free(c);
        eddy_free(p);
        eddy_free(s);
        return;
    }
    bool list = !strcasecmp(what, "keyspaces") || !strcasecmp(what, "tables") || !strcasecmp(what, "types") ||
                !strcasecmp(what, "functions") || !strcasecmp(what, "aggregates") || !strcasecmp(what, "columnfamilies");
    if (!list) {
        for (size_t r = 0; r < n; r++) {
            char *s = cell_text(res, r, "create_statement");
            printf("\n%s\n", s);
            eddy_free(s);
        }
        printf("\n");
        return;
    }
    char **names = eddy_calloc(n + 1, sizeof *names);
    if (!names) return;
    if (!strcasecmp(what, "keyspaces")) {
        for (size_t r = 0; r < n; r++) names[r] = cell_text(res, r, "name");
        printf("\n");
        columnize(names, n);
        printf("\n");
    } else {
        size_t start = 0;
        for (size_t r = 0; r <= n; r++) {
            char *ks = r < n ? cell_text(res, r, "keyspace_name") : NULL;
            char *prev = start < r ? cell_text(res, start, "keyspace_name") : NULL;
            if (r == n || (prev && strcmp(ks, prev))) {
                if (r > start) {
                    printf("\n");
                    if (!sh->keyspace[0]) {
                        printf("Keyspace %s\n---------", prev);
                        for (size_t k = 0; prev && k < strlen(prev); k++) putchar('-');
                        printf("\n");
                    }
                    columnize(names + start, r - start);
                }
                start = r;
            }
            if (r < n) names[r] = cell_text(res, r, "name");
            eddy_free(ks);
            eddy_free(prev);
        }
        printf("\n");
    }
    for (size_t r = 0; r < n; r++) eddy_free(names[r]);
    eddy_free(names);
}

/* ---- statements ----------------------------------------------------------------------------- */

static const char *first_word(const char *s, char *buf, size_t n) {
    while (*s && isspace((unsigned char)*s)) s++;
    size_t i = 0;
    while (s[i] && !isspace((unsigned char)s[i]) && s[i] != ';' && i + 1 < n) {
        buf[i] = (char)tolower((unsigned char)s[i]);
        i++;
    }
    buf[i] = 0;
    return s + i;
}

static void run_cql(shell_t *sh, const char *stmt) {
    char w1[32], w2[32];
    const char *rest = first_word(stmt, w1, sizeof w1);
    first_word(rest, w2, sizeof w2);
    bool describe = !strcmp(w1, "describe") || !strcmp(w1, "desc");
    bool select = !strcmp(w1, "select");
    cql_stmt_t st = {0};
    st.query = stmt;
    st.consistency = sh->consistency;
    st.serial_consistency = sh->serial;
    st.page_size = sh->paging ? sh->page_size : 5000;
    cql_result_t *res = NULL;
    cql_error_t err;
    int rc = cql_client_execute(sh->client, &st, &res, &err);
    if (rc != EDDY_OK) {
        print_error(sh, rc, &err);
        return;
    }
    if (describe) {
        print_describe(sh, !strcmp(w2, "full") ? "schema" : w2, res);
        cql_result_free(res);
        return;
    }
    cql_result_kind_t kind = cql_result_kind(res);
    if (kind == CQL_KIND_SET_KEYSPACE) snprintf(sh->keyspace, sizeof sh->keyspace, "%s", cql_result_text(res));
    if (kind == CQL_KIND_ROWS && !select) {
        /* A conditional write's [applied] row. */
        printf("\n");
        cql_shell_print_rows(stdout, res, true, sh->expand, 0);
        if (sh->tty) printf("\n");
    } else if (kind == CQL_KIND_ROWS) {
        printf("\n");
        size_t total = 0;
        bool first = true;
        for (;;) {
            if (cql_result_row_count(res) > 0 || first)
                cql_shell_print_rows(stdout, res, first || sh->tty, sh->expand, total);
            total += cql_result_row_count(res);
            if (!cql_result_has_more_pages(res)) break;
            if (sh->tty && sh->paging) {
                printf("\n---MORE---");
                fflush(stdout);
                int c;
                while ((c = getchar()) != EOF && c != '\n') {}
            }
            eddy_view_t ps = cql_result_paging_state(res);
            uint8_t *copy = eddy_memdup(ps.ptr, ps.len ? ps.len : 1);
            cql_result_free(res);
            res = NULL;
            if (!copy) break;
            st.paging_state = copy;
            st.paging_state_len = ps.len;
            rc = cql_client_execute(sh->client, &st, &res, &err);
            eddy_free(copy);
            if (rc != EDDY_OK) {
                print_error(sh, rc, &err);
                return;
            }
            first = false;
        }
        printf("\n(%zu rows)\n", total);
    }
    if (res) print_warnings(res);
    cql_result_free(res);
}

static void set_level(shell_t *sh, const char *arg, bool serial) {
    uint16_t *target = serial ? &sh->serial : &sh->consistency;
    const char *what = serial ? "Serial consistency" : "Consistency";
    if (!*arg) {
        printf("Current %s level is %s.\n", serial ? "serial consistency" : "consistency",
               cql_consistency_name(*target ? *target : (serial ? CQL_CL_SERIAL : CQL_CL_ONE)));
        return;
    }
    uint16_t cl;
    if (cql_consistency_parse(arg, &cl) != EDDY_OK || (serial && cl != CQL_CL_SERIAL && cl != CQL_CL_LOCAL_SERIAL)) {
        fprintf(stderr, "Improper %s command.\n", serial ? "SERIAL CONSISTENCY" : "CONSISTENCY");
        sh->errors++;
        return;
    }
    *target = cl;
    printf("%s level set to %s.\n", what, cql_consistency_name(cl));
}

static void help(void) {
    printf("\nDocumented shell commands:\n===========================\n"
           "CONSISTENCY  DESC  DESCRIBE  EXIT  EXPAND  HELP  PAGING  QUIT  SERIAL  SOURCE\n\n"
           "CQL statements end with ';': SELECT, INSERT, UPDATE, DELETE, BATCH, USE, CREATE, ALTER,\n"
           "DROP, TRUNCATE.\n\n");
}

/* Runs a shell command; returns false when the line is CQL instead. */
static bool run_command(shell_t *sh, char *line) {
    char w1[32], w2[64];
    const char *rest = first_word(line, w1, sizeof w1);
    /* the argument, without a trailing ';' and spaces */
    char arg[512];
    while (*rest && isspace((unsigned char)*rest)) rest++;
    snprintf(arg, sizeof arg, "%s", rest);
    size_t n = strlen(arg);
    while (n && (isspace((unsigned char)arg[n - 1]) || arg[n - 1] == ';')) arg[--n] = 0;
    first_word(arg, w2, sizeof w2);
    if (!strcmp(w1, "exit") || !strcmp(w1, "quit")) {
        sh->quit = true;
    } else if (!strcmp(w1, "expand")) {
        if (!strcmp(w2, "on")) {
            sh->expand = true;
            printf("Now Expanded output is enabled\n");
        } else if (!strcmp(w2, "off")) {
            sh->expand = false;
            printf("Disabled Expanded output.\n");
        } else {
            printf("Expanded output is currently %s. Use EXPAND %s to %s.\n", sh->expand ? "enabled" : "disabled",
                   sh->expand ? "OFF" : "ON", sh->expand ? "disable" : "enable");
        }
    } else if (!strcmp(w1, "paging")) {
        if (!strcmp(w2, "on") || (w2[0] && isdigit((unsigned char)w2[0]))) {
            if (isdigit((unsigned char)w2[0])) sh->page_size = atoi(w2);
            if (sh->page_size <= 0) sh->page_size = 100;
            sh->paging = true;
            printf("Now Query paging is enabled\nPage size: %d\n", sh->page_size);
        } else if (!strcmp(w2, "off")) {
            sh->paging = false;
            printf("Disabled Query paging.\n");
        } else if (sh->paging) {
            printf("Query paging is currently enabled. Use PAGING OFF to disable\nPage size: %d\n", sh->page_size);
        } else {
            printf("Query paging is currently disabled. Use PAGING ON to enable.\n");
        }
    } else if (!strcmp(w1, "consistency")) {
        set_level(sh, arg, false);
    } else if (!strcmp(w1, "serial")) {
        char lvl[64] = "";
        first_word(arg + strlen(w2), lvl, sizeof lvl);
        for (char *p = lvl; *p; p++) *p = (char)toupper((unsigned char)*p);
        set_level(sh, lvl, true);
    } else if (!strcmp(w1, "help") || !strcmp(w1, "?")) {
        help();
    } else if (!strcmp(w1, "clear") || !strcmp(w1, "cls")) {
        printf("\033[2J\033[H");
    } else if (!strcmp(w1, "source")) {
        char path[512];
        snprintf(path, sizeof path, "%s", arg);
        size_t pl = strlen(path);
        if (pl >= 2 && (path[0] == '\'' || path[0] == '"')) {
            memmove(path, path + 1, pl);
            path[pl - 2] = 0;
        }
        size_t len;
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "Could not open '%s': %s\n", path, strerror(errno));
            sh->errors++;
            return true;
        }
        wr_t text;
        wr_init(&text, 4096);
        char buf[4096];
        while ((len = fread(buf, 1, sizeof buf, f)) > 0) wr_bytes(&text, buf, len);
        fclose(f);
        shell_t sub = *sh;
        wr_init(&sub.pending, 0);
        sub.tty = false;
        run_text(&sub, (const char *)text.buf, text.len, path);
        wr_free(&sub.pending);
        sh->errors = sub.errors;
        snprintf(sh->keyspace, sizeof sh->keyspace, "%s", sub.keyspace);
        wr_free(&text);
    } else if (!strcmp(w1, "describe") || !strcmp(w1, "desc") || !strcmp(w1, "show") || !strcmp(w1, "tracing")) {
        if (!strcmp(w1, "show")) printf("[eddy cql | Cassandra %s | CQL spec 3.4.5 | Native protocol v%d]\n",
                                        cql_client_release_version(sh->client), cql_client_protocol_version(sh->client));
        else if (!strcmp(w1, "tracing")) printf("Tracing is not supported by eddy.\n");
        else run_cql(sh, arg[0] ? line : line);
    } else {
        return false;
    }
    return true;
}

static bool is_command_word(const char *w) {
    static const char *const words[] = {"exit", "quit", "expand", "paging", "consistency", "serial", "help", "?",
                                        "clear", "cls", "source", "describe", "desc", "show", "tracing"};
    for (size_t i = 0; i < EDDY_ARRAY_LEN(words); i++)
        if (!strcmp(w, words[i])) return true;
    return false;
}

/* ---- input ---------------------------------------------------------------------------------- */

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i])) return false;
    return true;
}

/* Feeds one line: runs every statement it completes. */
static void feed_line(shell_t *sh, const char *line) {
    sh->line++;
    if (sh->pending.len == 0 || blank((const char *)sh->pending.buf, sh->pending.len)) {
        wr_reset(&sh->pending);
        sh->pending_line = sh->line;
        char w[32];
        first_word(line, w, sizeof w);
        if (!w[0] || !strncmp(line + strspn(line, " \t"), "--", 2) || !strncmp(line + strspn(line, " \t"), "//", 2)) {
            if (!w[0]) return;
        } else if (is_command_word(w)) {
            /* A shell command ends at its ';' or at the end of the line; more may follow. */
            size_t n = strlen(line), end = sql_statement_end(line, n);
            char *copy = eddy_strndup(line, end ? end : n);
            if (copy) {
                run_command(sh, copy);
                eddy_free(copy);
            }
            if (!end || sh->quit) return;
            line += end;
            sh->line--;
            feed_line(sh, line);
            return;
        }
    }
    wr_str(&sh->pending, line);
    wr_u8(&sh->pending, '\n');
    for (;;) {
        size_t end = sql_statement_end((const char *)sh->pending.buf, sh->pending.len);
        if (!end) break;
        char *stmt = eddy_strndup((const char *)sh->pending.buf, end);
        size_t left = sh->pending.len - end;
        memmove(sh->pending.buf, sh->pending.buf + end, left);
        sh->pending.len = left;
        if (stmt && !blank(stmt, end - 1)) {
            char w[32];
            first_word(stmt, w, sizeof w);
            if (!is_command_word(w) || !run_command(sh, stmt)) run_cql(sh, stmt);
        }
        eddy_free(stmt);
        if (sh->quit) return;
        sh->pending_line = sh->line;
        if (blank((const char *)sh->pending.buf, sh->pending.len)) wr_reset(&sh->pending);
    }
}

static int run_text(shell_t *sh, const char *text, size_t len, const char *source) {
    sh->source = source;
    sh->line = 0;
    size_t pos = 0;
    while (pos < len && !sh->quit) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char *line = eddy_strndup(text + pos, n);
        if (!line) break;
        feed_line(sh, line);
        eddy_free(line);
        pos += n + (nl ? 1 : 0);
    }
    /* A last statement without ';' still runs (as with -e "SELECT ..."). */
    if (!sh->quit && sh->pending.len && !blank((const char *)sh->pending.buf, sh->pending.len)) {
        wr_u8(&sh->pending, 0);
        char *stmt = eddy_strdup((const char *)sh->pending.buf);
        wr_reset(&sh->pending);
        if (stmt) {
            char w[32];
            first_word(stmt, w, sizeof w);
            if (!is_command_word(w) || !run_command(sh, stmt)) run_cql(sh, stmt);
            eddy_free(stmt);
        }
    }
    return sh->errors;
}

static void interactive(shell_t *sh) {
    char histfile[1024] = "";
    const char *home = getenv("HOME");
    if (home) snprintf(histfile, sizeof histfile, "%s/.eddy_cql_history", home);
    using_history();
    if (histfile[0]) read_history(histfile);
    sh->source = "<stdin>";
    while (!sh->quit) {
        char prompt[CQL_KEYSPACE_MAX + 16];
        if (sh->pending.len) snprintf(prompt, sizeof prompt, "   ... ");
        else if (sh->keyspace[0]) snprintf(prompt, sizeof prompt, "cqlsh:%s> ", sh->keyspace);
        else snprintf(prompt, sizeof prompt, "cqlsh> ");
        char *line = readline(prompt);
        if (!line) {
            printf("\n");
            break;
        }
        if (*line) add_history(line);
        feed_line(sh, line);
        free(line); /* allocated by libedit with malloc */
    }
    if (histfile[0]) write_history(histfile);
}

static void usage(FILE *out) {
    fprintf(out, "usage: eddy cql [HOST[:PORT]] [PORT] [-e STATEMENT] [-f FILE] [-k KEYSPACE]\n"
                 "                [-u USER -p PASSWORD] [--protocol-version N] [--connect-timeout SECONDS]\n"
                 "                [--request-timeout SECONDS]\n\n"
                 "A CQL shell like cqlsh: connects to eddy up (127.0.0.1:9042 by default) or to Cassandra.\n"
                 "  -e STATEMENT   run the statements and exit\n"
                 "  -f FILE        run the statements of FILE and exit\n"
                 "  -k KEYSPACE    USE this keyspace first\n"
                 "Exit code: 0 when every statement succeeded, 1 when one failed, 2 for usage or connection errors.\n");
}

int cql_main_shell(int argc, char **argv) {
    const char *host = "127.0.0.1", *execute = NULL, *file = NULL, *keyspace = NULL, *user = NULL, *pass = NULL;
    int port = 9042, version = 0;
    uint32_t connect_timeout = 5000, request_timeout = 12000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "-e") || !strcmp(a, "--execute")) && v) execute = argv[++i];
        else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && v) file = argv[++i];
        else if ((!strcmp(a, "-k") || !strcmp(a, "--keyspace")) && v) keyspace = argv[++i];
        else if ((!strcmp(a, "-u") || !strcmp(a, "--username")) && v) user = argv[++i];
        else if ((!strcmp(a, "-p") || !strcmp(a, "--password")) && v) pass = argv[++i];
        else if (!strcmp(a, "--protocol-version") && v) version = atoi(argv[++i]);
        else if (!strcmp(a, "--connect-timeout") && v) connect_timeout = (uint32_t)(atof(argv[++i]) * 1000);
        else if (!strcmp(a, "--request-timeout") && v) request_timeout = (uint32_t)(atof(argv[++i]) * 1000);
        else if (a[0] == '-') {
            fprintf(stderr, "eddy cql: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (isdigit((unsigned char)a[0]) && !strchr(a, '.') && !strchr(a, ':')) port = atoi(a);
        else host = a;
    }
    char hostbuf[300];
    if (!strchr(host, ':') || host[0] == '[') {
        if (host[0] == '[' && strstr(host, "]:")) snprintf(hostbuf, sizeof hostbuf, "%s", host);
        else snprintf(hostbuf, sizeof hostbuf, "%s:%d", host, port);
    } else {
        snprintf(hostbuf, sizeof hostbuf, "%s", host);
    }
    const char *points[] = {hostbuf};
    cql_client_opts_t o = {0};
    o.contact_points = points;
    o.ncontact_points = 1;
    o.keyspace = NULL;
    o.username = user;
    o.password = pass;
    o.max_protocol_version = version;
    o.connect_timeout_ms = connect_timeout;
    o.request_timeout_ms = request_timeout;
    o.consistency = CQL_CL_ONE;
    char err[600];
    cql_client_t *client;
    if (cql_client_connect(&o, &client, err, sizeof err) != EDDY_OK) {
        fprintf(stderr, "Connection error: ('Unable to connect to any servers', {'%s': %s})\n", hostbuf, err);
        return 2;
    }
    shell_t sh;
    memset(&sh, 0, sizeof sh);
    sh.client = client;
    sh.consistency = CQL_CL_ONE;
    sh.page_size = 100;
    wr_init(&sh.pending, 256);
    sh.tty = !execute && !file && isatty(STDIN_FILENO);
    sh.paging = sh.tty;
    int rc = 0;
    if (keyspace) {
        char use[CQL_KEYSPACE_MAX + 16];
        snprintf(use, sizeof use, "USE \"%s\";", keyspace);
        sh.source = "<stdin>";
        run_text(&sh, use, strlen(use), "<stdin>");
        if (sh.errors) rc = 2;
    }
    if (rc == 0 && execute) {
        run_text(&sh, execute, strlen(execute), "<stdin>");
    } else if (rc == 0 && file) {
        size_t len;
        FILE *f = fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "eddy cql: cannot read %s: %s\n", file, strerror(errno));
            rc = 2;
        } else {
            wr_t text;
            wr_init(&text, 4096);
            char buf[4096];
            while ((len = fread(buf, 1, sizeof buf, f)) > 0) wr_bytes(&text, buf, len);
            fclose(f);
            run_text(&sh, (const char *)text.buf, text.len, file);
            wr_free(&text);
        }
    } else if (rc == 0 && sh.tty) {
        printf("Connected to %s at %s.\n[eddy cql | Cassandra %s | CQL spec 3.4.5 | Native protocol v%d]\n"
               "Use HELP for help.\n",
               cql_client_cluster_name(client), hostbuf, cql_client_release_version(client),
               cql_client_protocol_version(client));
        interactive(&sh);
    } else if (rc == 0) {
        wr_t text;
        wr_init(&text, 4096);
        char buf[4096];
        size_t len;
        while ((len = fread(buf, 1, sizeof buf, stdin)) > 0) wr_bytes(&text, buf, len);
        run_text(&sh, (const char *)text.buf, text.len, "<stdin>");
        wr_free(&text);
    }
    fflush(stdout);
    wr_free(&sh.pending);
    cql_client_close(client);
    if (rc) return rc;
    return sh.errors ? 1 : 0;
}
