/* Idempotent producers' per-partition state, as Kafka's ProducerStateManager keeps it: for each
 * producer id its epoch and its last 5 batches (sequence range and offsets). A batch repeating
 * one of those is a duplicate (acknowledged with the original offsets, not appended again); a
 * gap in sequence numbers is out of order; an older epoch is fenced. The state is snapshotted
 * when a segment rolls and at clean close, and rebuilt from batch headers after that. */
#include "log/log_int.h"

void log_producers_init(log_producers_t *t) { memset(t, 0, sizeof *t); }

void log_producers_free(log_producers_t *t) {
    eddy_free(t->slots);
    memset(t, 0, sizeof *t);
}

static size_t slot_of(const log_producers_t *t, int64_t pid) {
    return (size_t)hash64(&pid, sizeof pid) & (t->cap - 1);
}

log_pstate_t *log_producers_find(log_producers_t *t, int64_t pid) {
    if (!t->cap) return NULL;
    for (size_t i = slot_of(t, pid);; i = (i + 1) & (t->cap - 1)) {
        log_pstate_t *s = &t->slots[i];
        if (s->pid == 0) return NULL;
        if (s->pid == pid + 1) return s;
    }
}

static int grow(log_producers_t *t) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    log_pstate_t *old = t->slots;
    size_t oldcap = t->cap;
    log_pstate_t *slots = eddy_calloc(cap, sizeof *slots);
    if (!slots) return EDDY_ERR_NOMEM;
    t->slots = slots;
    t->cap = cap;
    t->count = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].pid) continue;
        size_t j = slot_of(t, old[i].pid - 1);
        while (t->slots[j].pid) j = (j + 1) & (cap - 1);
        t->slots[j] = old[i];
        t->count++;
    }
    eddy_free(old);
    return EDDY_OK;
}

/* st->pid is the real producer id here; the table stores it + 1. */
int log_producers_put(log_producers_t *t, const log_pstate_t *st) {
    log_pstate_t *cur = log_producers_find(t, st->pid);
    if (cur) {
        *cur = *st;
        cur->pid = st->pid + 1;
        return EDDY_OK;
    }
    if ((t->count + 1) * 4 > t->cap * 3 && grow(t) != EDDY_OK) return EDDY_ERR_NOMEM;
    size_t i = slot_of(t, st->pid);
    while (t->slots[i].pid) i = (i + 1) & (t->cap - 1);
    t->slots[i] = *st;
    t->slots[i].pid = st->pid + 1;
    t->count++;
    return EDDY_OK;
}

static int32_t seq_add(int32_t seq, int32_t inc) {
    if (seq > INT32_MAX - inc) return inc - (INT32_MAX - seq) - 1;
    return seq + inc;
}

static int32_t last_seq(const log_batch_header_t *h) {
    return seq_add(h->base_sequence, h->last_offset_delta);
}

static bool in_sequence(int32_t last, int32_t next) {
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

log_reason_t log_producer_check(const log_pstate_t *st, const log_batch_header_t *h,
                                const log_pbatch_t **dup) {
    *dup = NULL;
    if (h->producer_id < 0) return LOG_ERR_NONE;
    if (h->base_sequence < 0 || h->producer_epoch < 0) return LOG_ERR_OUT_OF_ORDER_SEQUENCE;
    if (!st) return h->base_sequence == 0 ? LOG_ERR_NONE : LOG_ERR_UNKNOWN_PRODUCER_ID;
    if (h->producer_epoch < st->epoch) return LOG_ERR_INVALID_PRODUCER_EPOCH;
    if (h->producer_epoch > st->epoch)
        return h->base_sequence == 0 ? LOG_ERR_NONE : LOG_ERR_OUT_OF_ORDER_SEQUENCE;
    int32_t ls = last_seq(h);
    for (uint8_t i = 0; i < st->n; i++) {
        if (st->b[i].first_seq == h->base_sequence && st->b[i].last_seq == ls) {
            *dup = &st->b[i];
            return LOG_ERR_NONE;
        }
    }
    if (st->n == 0) return LOG_ERR_NONE;
    if (!in_sequence(st->b[st->n - 1].last_seq, h->base_sequence))
        return LOG_ERR_OUT_OF_ORDER_SEQUENCE;
    return LOG_ERR_NONE;
}

void log_producer_apply(log_pstate_t *st, const log_batch_header_t *h, int64_t now_ms) {
    if (st->epoch != h->producer_epoch) {
        st->epoch = h->producer_epoch;
        st->n = 0;
    }
    if (st->n == LOG_PRODUCER_BATCHES) {
        memmove(&st->b[0], &st->b[1], (LOG_PRODUCER_BATCHES - 1) * sizeof st->b[0]);
        st->n--;
    }
    st->b[st->n++] = (log_pbatch_t){h->base_sequence, last_seq(h), h->base_offset,
                                    log_batch_last_offset(h), h->max_timestamp};
    st->last_ts = now_ms;
}

int log_producers_replay(log_producers_t *t, const log_batch_header_t *h, int64_t now_ms) {
    if (h->producer_id < 0) return EDDY_OK;
    log_pstate_t st;
    log_pstate_t *cur = log_producers_find(t, h->producer_id);
    if (cur) {
        st = *cur;
    } else {
        memset(&st, 0, sizeof st);
        st.epoch = h->producer_epoch;
    }
    st.pid = h->producer_id;
    log_producer_apply(&st, h, now_ms);
    return log_producers_put(t, &st);
}

size_t log_producers_expire(log_producers_t *t, int64_t cutoff_ms) {
    size_t dropped = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].pid && t->slots[i].last_ts < cutoff_ms) dropped++;
    if (!dropped) return 0;
    log_producers_t keep;
    log_producers_init(&keep);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].pid || t->slots[i].last_ts < cutoff_ms) continue;
        log_pstate_t st = t->slots[i];
        st.pid -= 1;
        if (log_producers_put(&keep, &st) != EDDY_OK) {
            log_producers_free(&keep);
            return 0; /* keep everything rather than lose state */
        }
    }
    log_producers_free(t);
    *t = keep;
    return dropped;
}

/* ---- snapshots ---- */

#define SNAP_MAGIC 0x45505331u /* "EPS1" */

uint8_t *log_producers_snapshot(const log_producers_t *t, int64_t offset, size_t *len) {
    wr_t w;
    wr_init(&w, 64 + t->count * 200);
    wr_u32(&w, SNAP_MAGIC);
    wr_i64(&w, offset);
    wr_u32(&w, (uint32_t)t->count);
    for (size_t i = 0; i < t->cap; i++) {
        const log_pstate_t *s = &t->slots[i];
        if (!s->pid) continue;
        wr_i64(&w, s->pid - 1);
        wr_i16(&w, s->epoch);
        wr_i64(&w, s->last_ts);
        wr_u8(&w, s->n);
        for (uint8_t k = 0; k < s->n; k++) {
            wr_i32(&w, s->b[k].first_seq);
            wr_i32(&w, s->b[k].last_seq);
            wr_i64(&w, s->b[k].first_offset);
            wr_i64(&w, s->b[k].last_offset);
            wr_i64(&w, s->b[k].timestamp);
        }
    }
    wr_u32(&w, crc32c(w.buf, w.len));
    if (!wr_ok(&w)) {
        wr_free(&w);
        return NULL;
    }
    return wr_steal(&w, len);
}

int log_producers_load(log_producers_t *t, const uint8_t *buf, size_t len, int64_t *offset) {
    if (len < 20 || crc32c(buf, len - 4) != load_u32(buf + len - 4)) return EDDY_ERR_CORRUPT;
    rd_t r = rd_init(buf, len - 4);
    if (rd_u32(&r) != SNAP_MAGIC) return EDDY_ERR_CORRUPT;
    *offset = rd_i64(&r);
    uint32_t count = rd_u32(&r);
    if (count > rd_remaining(&r) / 19) return EDDY_ERR_CORRUPT;
    for (uint32_t i = 0; i < count && rd_ok(&r); i++) {
        log_pstate_t st;
        memset(&st, 0, sizeof st);
        st.pid = rd_i64(&r);
        st.epoch = rd_i16(&r);
        st.last_ts = rd_i64(&r);
        st.n = rd_u8(&r);
        if (st.pid < 0 || st.n > LOG_PRODUCER_BATCHES) return EDDY_ERR_CORRUPT;
        for (uint8_t k = 0; k < st.n; k++) {
            st.b[k].first_seq = rd_i32(&r);
            st.b[k].last_seq = rd_i32(&r);
            st.b[k].first_offset = rd_i64(&r);
            st.b[k].last_offset = rd_i64(&r);
            st.b[k].timestamp = rd_i64(&r);
        }
        if (rd_ok(&r) && log_producers_put(t, &st) != EDDY_OK) return EDDY_ERR_NOMEM;
    }
    if (!rd_ok(&r) || rd_remaining(&r) != 0) return EDDY_ERR_CORRUPT;
    return EDDY_OK;
}
