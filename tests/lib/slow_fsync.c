/* A slow disk for integration tests, loaded into `eddy up` with LD_PRELOAD: fdatasync and fsync
 * sleep EDDY_TEST_FSYNC_DELAY_MS (default 20) before doing their work, so that requests waiting
 * for durability pile up as they would on a loaded disk. Says so on stderr when loaded, so a
 * test can check that it is in effect. Build: cc -shared -fPIC -o slow_fsync.so slow_fsync.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long delay_ms(void) {
    const char *v = getenv("EDDY_TEST_FSYNC_DELAY_MS");
    return v && *v ? atol(v) : 20;
}

static void slow(void) {
    long ms = delay_ms();
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

__attribute__((constructor)) static void announce(void) {
    fprintf(stderr, "slow_fsync: fsync and fdatasync take %ld ms more\n", delay_ms());
}

int fdatasync(int fd) {
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    slow();
    return real(fd);
}

int fsync(int fd) {
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    slow();
    return real(fd);
}
