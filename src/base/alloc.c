/* The allocation wrapper and arenas.
 * Every allocation in eddy goes through eddy_malloc & co so that tests can fail the Nth one
 * (eddy_alloc_fail_after) and walk the error paths, as SQLite's test_malloc does. */
#include <stdatomic.h>
#include <stdlib.h>

#include "base/base.h"

/* Negative: no injected failure. Otherwise the number of allocations left before one fails. */
static _Atomic long alloc_countdown = -1;

void eddy_alloc_fail_after(long n) { atomic_store(&alloc_countdown, n); }

static bool alloc_should_fail(void) {
    long n = atomic_load_explicit(&alloc_countdown, memory_order_relaxed);
    if (n < 0) return false;
    return atomic_fetch_sub(&alloc_countdown, 1) == 0;
}

void *eddy_malloc(size_t size) {
    if (alloc_should_fail()) return NULL;
    return malloc(size ? size : 1);
}

void *eddy_calloc(size_t count, size_t size) {
    if (alloc_should_fail()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *eddy_realloc(void *ptr, size_t size) {
    if (alloc_should_fail()) return NULL;
    return realloc(ptr, size ? size : 1);
}

void eddy_free(void *ptr) { free(ptr); }

void *eddy_memdup(const void *p, size_t n) {
    void *q = eddy_malloc(n);
    if (q && n) memcpy(q, p, n);
    return q;
}

char *eddy_strndup(const char *s, size_t n) {
    char *q = eddy_malloc(n + 1);
    if (!q) return NULL;
    if (n) memcpy(q, s, n);
    q[n] = 0;
    return q;
}

char *eddy_strdup(const char *s) { return eddy_strndup(s, strlen(s)); }

/* ---- arenas ---- */

struct arena_chunk {
    arena_chunk_t *next;
    size_t size;
    size_t used;
    _Alignas(16) uint8_t data[];
};

void arena_init(arena_t *a, size_t chunk_size) {
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 4096;
    a->total = 0;
}

static arena_chunk_t *arena_chunk_new(size_t size) {
    arena_chunk_t *c = eddy_malloc(sizeof(*c) + size);
    if (!c) return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

void *arena_alloc(arena_t *a, size_t size) {
    size = (size + 15) & ~(size_t)15;
    arena_chunk_t *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t want = size > a->chunk_size ? size : a->chunk_size;
        arena_chunk_t *n = arena_chunk_new(want);
        if (!n) return NULL;
        n->next = c;
        a->head = n;
        c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    a->total += size;
    return p;
}

void *arena_memdup(arena_t *a, const void *p, size_t n) {
    void *q = arena_alloc(a, n);
    if (q && n) memcpy(q, p, n);
    return q;
}

char *arena_strndup(arena_t *a, const char *s, size_t n) {
    char *q = arena_alloc(a, n + 1);
    if (!q) return NULL;
    if (n) memcpy(q, s, n);
    q[n] = 0;
    return q;
}

void arena_reset(arena_t *a) {
    /* Keep the oldest chunk (the last in the list): steady-state requests then never allocate. */
    arena_chunk_t *c = a->head, *keep = NULL;
    while (c) {
        arena_chunk_t *next = c->next;
        if (!next) keep = c;
        else eddy_free(c);
        c = next;
    }
    if (keep) keep->used = 0;
    a->head = keep;
    a->total = 0;
}

void arena_free(arena_t *a) {
    arena_chunk_t *c = a->head;
    while (c) {
        arena_chunk_t *next = c->next;
        eddy_free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}
