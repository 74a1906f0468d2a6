/* Prepared statements, server-wide: a hash table from Cassandra's id (the MD5 of the keyspace
 * prefix and the query text, so ids are stable across restarts and the same on every
 * connection) to the parsed statement. Entries are reference-counted so that one being executed
 * survives an eviction; past CQL_PCACHE_MAX entries the oldest unused ones go, and a client that
 * meets Unprepared prepares again, as with Cassandra. */
#include <openssl/evp.h>
#include <pthread.h>

#include "cql/cql_int.h"

#define CQL_PCACHE_BUCKETS 4096
#define CQL_PCACHE_MAX 20000

struct cql_pcache {
    pthread_rwlock_t lock;
    cql_pstmt_t *buckets[CQL_PCACHE_BUCKETS];
    size_t count;
};

void cql_md5(const void *p, size_t n, uint8_t out[16]) {
    unsigned int len = 16;
    if (EVP_Digest(p, n, out, &len, EVP_md5(), NULL) != 1) memset(out, 0, 16);
}

void cql_prepared_id(const char *keyspace, const char *query, size_t len, uint8_t out[16]) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 16;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
        (keyspace && EVP_DigestUpdate(ctx, keyspace, strlen(keyspace)) != 1) ||
        EVP_DigestUpdate(ctx, query, len) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1)
        memset(out, 0, 16);
    EVP_MD_CTX_free(ctx);
}

cql_pcache_t *cql_pcache_new(void) {
    cql_pcache_t *pc = eddy_calloc(1, sizeof *pc);
    if (pc) pthread_rwlock_init(&pc->lock, NULL);
    return pc;
}

static void pstmt_free(cql_pstmt_t *p) {
    pthread_mutex_destroy(&p->lock);
    arena_free(&p->arena);
    eddy_free(p->keyspace);
    eddy_free(p->query);
    eddy_free(p);
}

void cql_pstmt_release(cql_pstmt_t *p) {
    if (p && atomic_fetch_sub(&p->refs, 1) == 1) pstmt_free(p);
}

void cql_pcache_free(cql_pcache_t *pc) {
    if (!pc) return;
    for (size_t i = 0; i < CQL_PCACHE_BUCKETS; i++) {
        while (pc->buckets[i]) {
            cql_pstmt_t *p = pc->buckets[i];
            pc->buckets[i] = p->next;
            cql_pstmt_release(p);
        }
    }
    pthread_rwlock_destroy(&pc->lock);
    eddy_free(pc);
}

static size_t bucket_of(const uint8_t *id) { return (size_t)load_u16(id) % CQL_PCACHE_BUCKETS; }

cql_pstmt_t *cql_pcache_get(cql_pcache_t *pc, const uint8_t *id, size_t len) {
    if (len != 16) return NULL;
    pthread_rwlock_rdlock(&pc->lock);
    cql_pstmt_t *p = pc->buckets[bucket_of(id)];
    while (p && memcmp(p->id, id, 16)) p = p->next;
    if (p) atomic_fetch_add(&p->refs, 1);
    pthread_rwlock_unlock(&pc->lock);
    return p;
}

/* Drops one entry of a full cache: the last of the fullest-looking bucket near `from`. */
static void evict_one(cql_pcache_t *pc, size_t from) {
    for (size_t k = 0; k < CQL_PCACHE_BUCKETS; k++) {
        size_t b = (from + k) % CQL_PCACHE_BUCKETS;
        cql_pstmt_t **pp = &pc->buckets[b];
        if (!*pp) continue;
        while ((*pp)->next) pp = &(*pp)->next;
        cql_pstmt_t *victim = *pp;
        *pp = NULL;
        pc->count--;
        cql_pstmt_release(victim);
        return;
    }
}

cql_pstmt_t *cql_pcache_put(cql_pcache_t *pc, const uint8_t id[16], const char *keyspace, const char *query,
                            size_t len, arena_t *arena, const sql_stmt_t *stmt) {
    cql_pstmt_t *p = eddy_calloc(1, sizeof *p);
    if (!p) return NULL;
    pthread_mutex_init(&p->lock, NULL);
    memcpy(p->id, id, 16);
    p->keyspace = keyspace ? eddy_strdup(keyspace) : NULL;
    p->query = eddy_strndup(query, len);
    p->query_len = len;
    if ((keyspace && !p->keyspace) || !p->query) {
        pstmt_free(p);
        return NULL;
    }
    /* The AST moves with the arena's chunks. */
    p->arena = *arena;
    arena_init(arena, arena->chunk_size);
    p->stmt = stmt;
    atomic_store(&p->refs, 2); /* the cache's and the caller's */
    size_t b = bucket_of(id);
    pthread_rwlock_wrlock(&pc->lock);
    for (cql_pstmt_t *q = pc->buckets[b]; q; q = q->next) {
        if (!memcmp(q->id, id, 16)) {
            atomic_fetch_add(&q->refs, 1);
            pthread_rwlock_unlock(&pc->lock);
            pstmt_free(p);
            return q;
        }
    }
    if (pc->count >= CQL_PCACHE_MAX) evict_one(pc, b + 1);
    p->next = pc->buckets[b];
    pc->buckets[b] = p;
    pc->count++;
    pthread_rwlock_unlock(&pc->lock);
    return p;
}

bool cql_pstmt_result_id(cql_pstmt_t *p, uint64_t key, uint8_t out[16]) {
    pthread_mutex_lock(&p->lock);
    bool hit = p->result_key == key && key != 0;
    if (hit) memcpy(out, p->result_id, 16);
    pthread_mutex_unlock(&p->lock);
    return hit;
}

void cql_pstmt_set_result_id(cql_pstmt_t *p, uint64_t key, const uint8_t id[16]) {
    pthread_mutex_lock(&p->lock);
    p->result_key = key;
    memcpy(p->result_id, id, 16);
    pthread_mutex_unlock(&p->lock);
}
