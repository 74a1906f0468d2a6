/* The unit-test harness: TEST(name) { ... } registers a test; CHECK records a failure and goes
 * on, REQUIRE stops the test. One runner (runner.c) runs every registered test, or those whose
 * "part/name" contains an argument, and prints TAP-style lines and "N passed, N failed". */
#ifndef EDDY_TEST_H
#define EDDY_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*test_fn_t)(void);

void test_register(const char *file, const char *name, test_fn_t fn);
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
_Noreturn void test_abort(void);
/* A fresh empty directory for this test, removed (with its contents) when the test ends. */
const char *test_tmpdir(void);
/* Reads a whole file into a malloc'd buffer (NUL-terminated); NULL if it cannot. */
char *test_read_file(const char *path, size_t *len);
/* Directory of the source tree (for test data files), e.g. "tests/data". */
const char *test_data_dir(void);

#define TEST(name)                                                                      \
    static void test_##name(void);                                                      \
    __attribute__((constructor)) static void test_register_##name(void) {               \
        test_register(__FILE__, #name, test_##name);                                    \
    }                                                                                   \
    static void test_##name(void)

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                \
    } while (0)

#define REQUIRE(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                       \
            test_abort();                                                               \
        }                                                                               \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                              \
    do {                                                                                \
        long long test_a_ = (long long)(a), test_b_ = (long long)(b);                  \
        if (test_a_ != test_b_)                                                         \
            test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, test_a_, test_b_); \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                              \
    do {                                                                                \
        const char *test_a_ = (a), *test_b_ = (b);                                      \
        if (!test_a_ || !test_b_ || strcmp(test_a_, test_b_) != 0)                      \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,         \
                      test_a_ ? test_a_ : "(null)", test_b_ ? test_b_ : "(null)");     \
    } while (0)

#define CHECK_EQ_MEM(a, alen, b, blen)                                                  \
    do {                                                                                \
        size_t test_al_ = (alen), test_bl_ = (blen);                                    \
        if (test_al_ != test_bl_ || memcmp((a), (b), test_al_) != 0)                    \
            test_fail(__FILE__, __LINE__, "%s == %s (lengths %zu, %zu)", #a, #b, test_al_, test_bl_); \
    } while (0)

#define CHECK_OK(expr)                                                                  \
    do {                                                                                \
        int test_rc_ = (expr);                                                          \
        if (test_rc_ != 0) test_fail(__FILE__, __LINE__, "%s returned %d", #expr, test_rc_); \
    } while (0)

#define REQUIRE_OK(expr)                                                                \
    do {                                                                                \
        int test_rc_ = (expr);                                                          \
        if (test_rc_ != 0) {                                                            \
            test_fail(__FILE__, __LINE__, "%s returned %d", #expr, test_rc_);          \
            test_abort();                                                               \
        }                                                                               \
    } while (0)

#endif
