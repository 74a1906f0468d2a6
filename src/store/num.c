/* Arbitrary-precision integers as the store needs them: varint (two's complement big-endian, as
 * Java's BigInteger.toByteArray) to and from decimal digit strings, for varint and decimal text,
 * JSON and order-preserving keys. Schoolbook base-10^9 conversions; values are small in practice. */
#include <stdlib.h>

#include "store/store_int.h"

/* Minimal two's complement bytes of a varint (drops redundant sign-extension bytes). */
void store_num_varint_trim(const uint8_t **p, size_t *n) {
    while (*n > 1 && (((*p)[0] == 0x00 && !((*p)[1] & 0x80)) || ((*p)[0] == 0xFF && ((*p)[1] & 0x80)))) {
        (*p)++;
        (*n)--;
    }
}

/* Magnitude (big-endian unsigned) of a varint into out (n bytes enough); returns its length. */
static size_t varint_magnitude(const uint8_t *p, size_t n, bool neg, uint8_t *out) {
    if (!neg) {
        memcpy(out, p, n);
        return n;
    }
    /* -x = ~x + 1 */
    unsigned carry = 1;
    for (size_t i = n; i-- > 0;) {
        unsigned v = (uint8_t)~p[i] + carry;
        out[i] = (uint8_t)v;
        carry = v >> 8;
    }
    return n;
}

int store_num_varint_to_digits(const uint8_t *p, size_t n, bool *neg, wr_t *digits) {
    *neg = n > 0 && (p[0] & 0x80);
    if (n == 0) {
        wr_u8(digits, '0');
        return EDDY_OK;
    }
    uint8_t *mag = eddy_malloc(n);
    /* limbs base 2^32, most significant first */
    size_t nl = (n + 3) / 4;
    uint32_t *limbs = eddy_calloc(nl, sizeof *limbs);
    char *rev = eddy_malloc(n * 3 + 16);
    if (!mag || !limbs || !rev) {
        eddy_free(mag);
        eddy_free(limbs);
        eddy_free(rev);
        return EDDY_ERR_NOMEM;
    }
    varint_magnitude(p, n, *neg, mag);
    for (size_t i = 0; i < n; i++) {
        size_t bit = (n - 1 - i) * 8;
        limbs[nl - 1 - bit / 32] |= (uint32_t)mag[i] << (bit % 32);
    }
    size_t nd = 0, start = 0;
    for (;;) {
        while (start < nl && limbs[start] == 0) start++;
        if (start == nl) break;
        uint64_t rem = 0;
        for (size_t i = start; i < nl; i++) {
            uint64_t cur = rem << 32 | limbs[i];
            limbs[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        bool last = true;
        for (size_t i = start; i < nl; i++)
            if (limbs[i]) last = false;
        for (int k = 0; k < 9; k++) {
            if (last && rem == 0) break;
            rev[nd++] = (char)('0' + rem % 10);
            rem /= 10;
        }
    }
    if (nd == 0) rev[nd++] = '0';
    uint8_t *o = wr_reserve(digits, nd);
    if (o) {
        for (size_t i = 0; i < nd; i++) o[i] = (uint8_t)rev[nd - 1 - i];
        wr_advance(digits, nd);
    }
    eddy_free(mag);
    eddy_free(limbs);
    eddy_free(rev);
    return wr_ok(digits) ? EDDY_OK : digits->err;
}

int store_num_digits_to_varint(const char *d, size_t nd, bool neg, wr_t *out) {
    /* little-endian base-2^32 limbs */
    size_t cap = nd / 9 + 2;
    uint32_t *limbs = eddy_calloc(cap, sizeof *limbs);
    if (!limbs) return EDDY_ERR_NOMEM;
    size_t nl = 1;
    size_t i = 0;
    size_t first = nd % 9 ? nd % 9 : 9;
    while (i < nd) {
        size_t take = i == 0 ? first : 9;
        uint32_t chunk = 0, mul = 1;
        for (size_t k = 0; k < take; k++) {
            chunk = chunk * 10 + (uint32_t)(d[i + k] - '0');
            mul *= 10;
        }
        i += take;
        uint64_t carry = chunk;
        for (size_t k = 0; k < nl; k++) {
            uint64_t v = (uint64_t)limbs[k] * mul + carry;
            limbs[k] = (uint32_t)v;
            carry = v >> 32;
        }
        if (carry) limbs[nl++] = (uint32_t)carry;
    }
    /* big-endian magnitude bytes */
    size_t nb = nl * 4 + 1;
    uint8_t *b = eddy_calloc(nb, 1);
    if (!b) {
        eddy_free(limbs);
        return EDDY_ERR_NOMEM;
    }
    for (size_t k = 0; k < nl; k++) store_u32(b + nb - 4 * (k + 1), limbs[k]);
    eddy_free(limbs);
    bool zero = true;
    for (size_t k = 0; k < nb; k++)
        if (b[k]) zero = false;
    if (neg && !zero) {
        unsigned carry = 1;
        for (size_t k = nb; k-- > 0;) {
            unsigned v = (uint8_t)~b[k] + carry;
            b[k] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    const uint8_t *p = b;
    size_t n = nb;
    store_num_varint_trim(&p, &n);
    wr_bytes(out, p, n);
    eddy_free(b);
    return wr_ok(out) ? EDDY_OK : out->err;
}

bool store_num_parse_integer(const char *s, size_t n, bool *neg, const char **digits, size_t *nd) {
    size_t i = 0;
    *neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) *neg = s[i++] == '-';
    if (i == n) return false;
    for (size_t k = i; k < n; k++)
        if (s[k] < '0' || s[k] > '9') return false;
    while (i + 1 < n && s[i] == '0') i++;
    *digits = s + i;
    *nd = n - i;
    return true;
}
