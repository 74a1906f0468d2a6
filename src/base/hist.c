/* Log-linear latency histograms: 64 linear sub-buckets per power of two. */
#include "base/base.h"

void hist_init(hist_t *h) {
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

static unsigned hist_index(uint64_t v) {
    if (v < HIST_SUB_BUCKETS) return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 6 */
    unsigned shift = msb - 5;                          /* keep 6 significant bits */
    unsigned sub = (unsigned)(v >> shift) - HIST_SUB_BUCKETS / 2;
    return (shift + 1) * (HIST_SUB_BUCKETS / 2) + sub;
}

static uint64_t hist_upper(unsigned idx) {
    if (idx < HIST_SUB_BUCKETS) return idx;
    unsigned shift = idx / (HIST_SUB_BUCKETS / 2) - 1;
    uint64_t sub = idx % (HIST_SUB_BUCKETS / 2) + HIST_SUB_BUCKETS / 2;
    return ((sub + 1) << shift) - 1;
}

void hist_record(hist_t *h, uint64_t v) {
    unsigned i = hist_index(v);
    if (i >= HIST_BUCKETS) i = HIST_BUCKETS - 1;
    h->counts[i]++;
    h->total++;
    h->sum += (double)v;
    if (v > h->max) h->max = v;
    if (v < h->min) h->min = v;
}

void hist_merge(hist_t *into, const hist_t *from) {
    for (unsigned i = 0; i < HIST_BUCKETS; i++) into->counts[i] += from->counts[i];
    into->total += from->total;
    into->sum += from->sum;
    if (from->max > into->max) into->max = from->max;
    if (from->min < into->min) into->min = from->min;
}

uint64_t hist_quantile(const hist_t *h, double q) {
    if (h->total == 0) return 0;
    if (q <= 0) return h->min;
    if (q >= 1) return h->max;
    uint64_t rank = (uint64_t)(q * (double)h->total);
    if (rank >= h->total) rank = h->total - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen > rank) {
            uint64_t up = hist_upper(i);
            return up > h->max ? h->max : up;
        }
    }
    return h->max;
}
