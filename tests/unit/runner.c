/* Runs the registered unit tests: each in-process, with a fresh temporary directory and an
 * alarm so that a hang fails instead of blocking CI. Prints "ok"/"not ok" lines and a summary. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

typedef struct {
    const char *file;
    const char *name;
    test_fn_t fn;
} test_case_t;

static test_case_t *cases;
static size_t ncases, capcases;
static int current_failures;
static jmp_buf current_jmp;
static char current_tmpdir[256];
static const char *current_name;

void test_register(const char *file, const char *name, test_fn_t fn) {
    if (ncases == capcases) {
        capcases = capcases ? capcases * 2 : 64;
        cases = realloc(cases, capcases * sizeof *cases);
        if (!cases) abort();
    }
    cases[ncases++] = (test_case_t){file, name, fn};
}

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "#   %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    fflush(stdout);
    va_end(ap);
    current_failures++;
}

void test_abort(void) { longjmp(current_jmp, 1); }

const char *test_tmpdir(void) {
    if (!current_tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(current_tmpdir, sizeof current_tmpdir, "%s/eddy-unit-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(current_tmpdir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return current_tmpdir;
}

char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len) *len = (size_t)n;
    }
    return buf;
}

const char *test_data_dir(void) { return "tests/data"; }

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "#   test timed out\n";
    ssize_t rc = write(STDOUT_FILENO, msg, sizeof msg - 1);
    (void)rc;
    fprintf(stdout, "not ok - %s (timeout)\n", current_name ? current_name : "?");
    fflush(stdout);
    _exit(1);
}

/* "src/log/segment_test.c" -> "log/segment_test" */
static void test_label(const test_case_t *t, char *out, size_t n) {
    const char *f = t->file;
    if (strncmp(f, "src/", 4) == 0) f += 4;
    const char *dot = strrchr(f, '.');
    snprintf(out, n, "%.*s/%s", (int)(dot ? dot - f : (long)strlen(f)), f, t->name);
}

static bool selected(const char *label, int argc, char **argv) {
    if (argc <= 1) return true;
    for (int i = 1; i < argc; i++)
        if (strstr(label, argv[i])) return true;
    return false;
}

/* setjmp lives here, away from main's loop variables (longjmp would clobber them). */
static void run_case(const test_case_t *t) {
    if (setjmp(current_jmp) == 0) t->fn();
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    int passed = 0, failed = 0;
    unsigned timeout = getenv("TEST_TIMEOUT") ? (unsigned)atoi(getenv("TEST_TIMEOUT")) : 300;
    for (size_t i = 0; i < ncases; i++) {
        char label[256];
        test_label(&cases[i], label, sizeof label);
        if (!selected(label, argc, argv)) continue;
        current_failures = 0;
        current_tmpdir[0] = 0;
        current_name = label;
        alarm(timeout);
        run_case(&cases[i]);
        alarm(0);
        if (current_tmpdir[0]) nftw(current_tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (current_failures) {
            printf("not ok - %s\n", label);
            failed++;
        } else {
            printf("ok - %s\n", label);
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
