/* CRC-32C for Kafka record batches, Cassandra's Murmur3 token, and a fast in-memory hash. */
#include <pthread.h>

#include "base/base.h"

/* ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) ---- */

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;
static bool crc32c_have_sse42;

static void crc32c_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc32c_table[t][i] =
                (crc32c_table[t - 1][i] >> 8) ^ crc32c_table[0][crc32c_table[t - 1][i] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc32c_have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

/* Slicing-by-8 software path. */
static uint32_t crc32c_soft(uint32_t crc, const uint8_t *p, size_t n) {
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        v ^= crc; /* little-endian host assumed for the 8-byte load (x86_64, aarch64) */
        crc = crc32c_table[7][v & 0xff] ^ crc32c_table[6][(v >> 8) & 0xff] ^
              crc32c_table[5][(v >> 16) & 0xff] ^ crc32c_table[4][(v >> 24) & 0xff] ^
              crc32c_table[3][(v >> 32) & 0xff] ^ crc32c_table[2][(v >> 40) & 0xff] ^
              crc32c_table[1][(v >> 48) & 0xff] ^ crc32c_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
                                                             size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t crc32c_extend(uint32_t crc, const void *data, size_t n) {
    pthread_once(&crc32c_once, crc32c_init);
    const uint8_t *p = data;
    crc = ~crc;
#if defined(__x86_64__)
    if (crc32c_have_sse42) return ~crc32c_hw(crc, p, n);
#endif
    return ~crc32c_soft(crc, p, n);
}

/* ---- Cassandra's Murmur3 ---- */

static inline uint64_t rotl64(uint64_t v, int r) { return (v << r) | (v >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint64_t load_u64_le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* A tail byte as Java reads it: a signed byte widened to long (Cassandra's quirk). */
static inline uint64_t tail_byte(const uint8_t *p, int i) { return (uint64_t)(int64_t)(int8_t)p[i]; }

int64_t murmur3_token(const void *key, size_t len) {
    if (len == 0) return INT64_MIN;
    const uint8_t *data = key;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = 0, h2 = 0;
    size_t nblocks = len / 16;
    for (size_t i = 0; i < nblocks; i++) {
        uint64_t k1 = load_u64_le(data + i * 16), k2 = load_u64_le(data + i * 16 + 8);
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
    }
    const uint8_t *tail = data + nblocks * 16;
    uint64_t k1 = 0, k2 = 0;
    switch (len & 15) {
    case 15: k2 ^= tail_byte(tail, 14) << 48; /* fall through */
    case 14: k2 ^= tail_byte(tail, 13) << 40; /* fall through */
    case 13: k2 ^= tail_byte(tail, 12) << 32; /* fall through */
    case 12: k2 ^= tail_byte(tail, 11) << 24; /* fall through */
    case 11: k2 ^= tail_byte(tail, 10) << 16; /* fall through */
    case 10: k2 ^= tail_byte(tail, 9) << 8;   /* fall through */
    case 9:
        k2 ^= tail_byte(tail, 8);
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        /* fall through */
    case 8: k1 ^= tail_byte(tail, 7) << 56; /* fall through */
    case 7: k1 ^= tail_byte(tail, 6) << 48; /* fall through */
    case 6: k1 ^= tail_byte(tail, 5) << 40; /* fall through */
    case 5: k1 ^= tail_byte(tail, 4) << 32; /* fall through */
    case 4: k1 ^= tail_byte(tail, 3) << 24; /* fall through */
    case 3: k1 ^= tail_byte(tail, 2) << 16; /* fall through */
    case 2: k1 ^= tail_byte(tail, 1) << 8;  /* fall through */
    case 1:
        k1 ^= tail_byte(tail, 0);
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    }
    h1 ^= len;
    h2 ^= len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    int64_t token = (int64_t)h1;
    return token == INT64_MIN ? INT64_MAX : token;
}

/* ---- hash64: a fast non-cryptographic hash for hash tables (multiply-xorshift per word) ---- */

uint64_t hash64(const void *data, size_t n) {
    const uint8_t *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ fmix64(v)) * 0x9fb21c651e98df25ULL;
        h = rotl64(h, 29);
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return fmix64(h ^ fmix64(v + n));
}
