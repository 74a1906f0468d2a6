/* A small string-keyed hash map with open addressing (topics by name, groups by id). */
#include "log/log_int.h"

static char *const TOMB = (char *)"";

void log_map_init(log_map_t *m) { memset(m, 0, sizeof *m); }

void log_map_free(log_map_t *m) {
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] && m->keys[i] != TOMB) eddy_free(m->keys[i]);
    eddy_free(m->keys);
    eddy_free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t slot(const log_map_t *m, const char *key) {
    return (size_t)hash64(key, strlen(key)) & (m->cap - 1);
}

void *log_map_get(const log_map_t *m, const char *key) {
    if (!m->cap) return NULL;
    for (size_t i = slot(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return NULL;
        if (m->keys[i] != TOMB && !strcmp(m->keys[i], key)) return m->vals[i];
    }
}

static int rehash(log_map_t *m, size_t cap) {
    char **keys = eddy_calloc(cap, sizeof *keys);
    void **vals = eddy_calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        eddy_free(keys);
        eddy_free(vals);
        return EDDY_ERR_NOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i] || m->keys[i] == TOMB) continue;
        size_t j = (size_t)hash64(m->keys[i], strlen(m->keys[i])) & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    eddy_free(m->keys);
    eddy_free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    m->tombs = 0;
    return EDDY_OK;
}

int log_map_put(log_map_t *m, const char *key, void *val) {
    if ((m->count + m->tombs + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap : 16;
        while ((m->count + 1) * 2 > cap) cap *= 2;
        if (rehash(m, cap) != EDDY_OK) return EDDY_ERR_NOMEM;
    }
    size_t tomb = SIZE_MAX;
    for (size_t i = slot(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) {
            char *k = eddy_strdup(key);
            if (!k) return EDDY_ERR_NOMEM;
            if (tomb != SIZE_MAX) {
                i = tomb;
                m->tombs--;
            }
            m->keys[i] = k;
            m->vals[i] = val;
            m->count++;
            return EDDY_OK;
        }
        if (m->keys[i] == TOMB) {
            if (tomb == SIZE_MAX) tomb = i;
        } else if (!strcmp(m->keys[i], key)) {
            m->vals[i] = val;
            return EDDY_OK;
        }
    }
}

void *log_map_del(log_map_t *m, const char *key) {
    if (!m->cap) return NULL;
    for (size_t i = slot(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return NULL;
        if (m->keys[i] != TOMB && !strcmp(m->keys[i], key)) {
            void *v = m->vals[i];
            eddy_free(m->keys[i]);
            m->keys[i] = TOMB;
            m->vals[i] = NULL;
            m->count--;
            m->tombs++;
            return v;
        }
    }
}

bool log_map_next(const log_map_t *m, size_t *i, const char **key, void **val) {
    while (*i < m->cap) {
        size_t k = (*i)++;
        if (m->keys[k] && m->keys[k] != TOMB) {
            *key = m->keys[k];
            *val = m->vals[k];
            return true;
        }
    }
    return false;
}
