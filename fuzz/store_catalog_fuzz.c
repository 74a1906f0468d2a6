/* Fuzz target: the store's catalog as it is read back from the data directory at open. The
 * input is the schema column family's records, one a line as `key<TAB>json`: keyspaces
 * (k/KS), user types (y/KS/TYPE), tables (t/KS/TABLE) and the meta record. Whatever the bytes,
 * building the schema either succeeds (and every table it holds can be looked up) or fails with
 * an error; it never crashes. */
#include <stdlib.h>

#include "store/store_int.h"

static int rec_by_key(const void *a, const void *b) {
    return strcmp(((const store_rec_t *)a)->key, ((const store_rec_t *)b)->key);
}

/* Splits data into records (recs: max zeroed entries); returns their count, sorted by key with
 * each key once, as a column family holds them. Entries past the count stay empty. */
static size_t split_records(const uint8_t *data, size_t size, store_rec_t *recs, size_t max) {
    size_t n = 0, at = 0;
    while (at < size && n < max) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        const uint8_t *tab = memchr(data + at, '\t', end - at);
        if (tab) {
            size_t klen = (size_t)(tab - (data + at));
            recs[n].key = eddy_strndup((const char *)data + at, klen);
            recs[n].json = eddy_strndup((const char *)tab + 1, end - klen - at - 1);
            n++;
            if (!recs[n - 1].key || !recs[n - 1].json) return 0; /* out of memory: the caller frees */
        }
        at = end + 1;
    }
    if (n == 0) return 0;
    qsort(recs, n, sizeof *recs, rec_by_key);
    size_t unique = 1;
    for (size_t i = 1; i < n; i++) {
        if (!strcmp(recs[i].key, recs[unique - 1].key)) {
            eddy_free(recs[i].key);
            eddy_free(recs[i].json);
        } else {
            recs[unique++] = recs[i];
        }
        if (i >= unique) recs[i] = (store_rec_t){0};
    }
    return unique;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    enum { MAX_RECS = 64 };
    store_rec_t *recs = eddy_calloc(MAX_RECS, sizeof *recs);
    if (!recs) return 0;
    size_t n = split_records(data, size, recs, MAX_RECS);
    store_schema_t *s = NULL;
    char err[256];
    if (n && store_schema_build(recs, n, NULL, &s, err, sizeof err) == EDDY_OK) {
        for (size_t i = 0; i < store_schema_keyspace_count(s); i++) {
            const char *ks = store_schema_keyspace_at(s, i)->name;
            const store_table_t *t;
            for (size_t j = 0; (t = store_schema_table_at(s, ks, j)); j++)
                if (store_schema_table(s, ks, store_table_info(t)->name) != t) abort(); /* found by its name */
        }
        store_schema_release(s);
    }
    store_recs_free(recs, MAX_RECS);
    return 0;
}
