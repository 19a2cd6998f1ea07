/* A minimal test harness for the C tests of libvodupload: CHECK macros that report the file, line
 * and vod_last_error(), one line per test, and a closing "NAME: N passed, M failed" line. */
#ifndef VOD_TEST_HARNESS_H
#define VOD_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vodupload.h>

static int harness_passed, harness_failed, harness_current_failed;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "    %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            harness_current_failed = 1;                                                     \
        }                                                                                   \
    } while (0)

/* Checks a status, and shows the library's message when it is not the expected one. */
#define CHECK_STATUS(expr, expected)                                                        \
    do {                                                                                    \
        vod_status check_status_got_ = (expr);                                              \
        if (check_status_got_ != (vod_status)(expected)) {                                  \
            fprintf(stderr, "    %s:%d: %s returned %u (%s), expected %s = %u; last error: %s\n", \
                    __FILE__, __LINE__, #expr, (unsigned)check_status_got_,                 \
                    vod_strerror(check_status_got_), #expected, (unsigned)(expected),       \
                    vod_last_error());                                                      \
            harness_current_failed = 1;                                                     \
        }                                                                                   \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, VOD_OK)

/* Checks that vod_last_error() contains `needle`. */
#define CHECK_LAST_ERROR_HAS(needle)                                                        \
    do {                                                                                    \
        if (strstr(vod_last_error(), (needle)) == NULL) {                                   \
            fprintf(stderr, "    %s:%d: last error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, \
                    vod_last_error(), (needle));                                            \
            harness_current_failed = 1;                                                     \
        }                                                                                   \
    } while (0)

#define RUN_TEST(fn)                                                                        \
    do {                                                                                    \
        harness_current_failed = 0;                                                         \
        fn();                                                                               \
        if (harness_current_failed) {                                                       \
            harness_failed++;                                                               \
            printf("FAIL %s\n", #fn);                                                       \
        } else {                                                                            \
            harness_passed++;                                                               \
            printf("ok   %s\n", #fn);                                                       \
        }                                                                                   \
        fflush(stdout);                                                                     \
    } while (0)

/* Prints the closing line; the exit status is 1 if any test failed. */
static inline int harness_finish(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, harness_passed, harness_failed);
    return harness_failed == 0 ? 0 : 1;
}

/* A required environment variable (set by tests/c/run.sh). */
static inline const char *harness_env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        fprintf(stderr, "%s is not set: run the tests with tests/c/run.sh\n", name);
        exit(2);
    }
    return v;
}

#endif /* VOD_TEST_HARNESS_H */
