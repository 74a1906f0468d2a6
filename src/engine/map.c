/* A hash map from byte keys to pointers: open addressing with linear probing, keys copied into
 * the map's arena. Used for the batch's state overlay, group and sink accumulators. And a sort
 * by 64-bit keys (the order in which a commit enters the store). */
#include "engine/engine_int.h"

void engine_map_init(engine_map_t *m, arena_t *arena) {
    memset(m, 0, sizeof *m);
    m->arena = arena;
}

void engine_map_free(engine_map_t *m) {
    eddy_free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

void engine_map_clear(engine_map_t *m) {
    if (m->slots) memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->count = 0;
}

static engine_map_entry_t *probe(const engine_map_t *m, uint64_t h, const void *key, size_t klen) {
    uint32_t mask = m->cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        engine_map_entry_t *e = &m->slots[i];
        if (!e->key) return e;
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) return e;
    }
}

void *engine_map_get(const engine_map_t *m, const void *key, size_t klen) {
    if (!m->count) return NULL;
    engine_map_entry_t *e = probe(m, hash64(key, klen), key, klen);
    return e->key ? e->val : NULL;
}

static int grow(engine_map_t *m) {
    uint32_t cap = m->cap ? m->cap * 2 : 64;
    engine_map_entry_t *slots = eddy_calloc(cap, sizeof *slots);
    if (!slots) return EDDY_ERR_NOMEM;
    engine_map_t old = *m;
    m->slots = slots;
    m->cap = cap;
    for (uint32_t i = 0; i < old.cap; i++)
        if (old.slots[i].key) *probe(m, old.slots[i].hash, old.slots[i].key, old.slots[i].klen) = old.slots[i];
    eddy_free(old.slots);
    return EDDY_OK;
}

engine_map_entry_t *engine_map_upsert(engine_map_t *m, const void *key, size_t klen, bool *created) {
    if ((m->count + 1) * 4 > m->cap * 3 && grow(m) != EDDY_OK) return NULL;
    uint64_t h = hash64(key, klen);
    engine_map_entry_t *e = probe(m, h, key, klen);
    *created = !e->key;
    if (e->key) return e;
    /* A zero-length key still needs a non-NULL pointer to mark the slot used. */
    uint8_t *k = arena_alloc(m->arena, klen ? klen : 1);
    if (!k) return NULL;
    memcpy(k, key, klen);
    e->hash = h;
    e->key = k;
    e->klen = (uint32_t)klen;
    e->val = NULL;
    m->count++;
    return e;
}

/* ---- sorting by 64-bit keys ---------------------------------------------------------------- */

void engine_sort_keys(engine_sortkey_t *a, engine_sortkey_t *tmp, size_t n) {
    /* LSD radix sort, 8 bits a pass: stable, linear, no comparisons through a function pointer
     * (a commit sorts tens of thousands of keys); passes where every key has the same byte are
     * skipped. */
    engine_sortkey_t *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++) count[(src[i].key >> shift) & 0xFF]++;
        if (count[(src[0].key >> shift) & 0xFF] == n) continue;
        size_t pos = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++) dst[count[(src[i].key >> shift) & 0xFF]++] = src[i];
        engine_sortkey_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}
