/* kafka: the budget for the bytes of requests in flight (Kafka's queued.max.request.bytes).
 *
 * Every request's bytes are taken from one budget per broker when its size is known (before its
 * body is buffered) and given back once it is answered, so that many producers with large
 * batches and a slow disk hold a bounded amount of memory whatever the number of connections.
 * A connection that finds the budget spent stops reading (net_conn_pause) and queues; bytes
 * given back go to the queued connections first come, first served, each resumed from whichever
 * thread gave them (net_conn_resume).
 *
 * Admission is Kafka's non-strict memory pool (SimpleMemoryPool with strict=false, the one its
 * SocketServer uses): a request is admitted while the bytes in use are under the cap, even when
 * it alone is larger than what is left or than the whole cap. So nothing waits forever, and the
 * bytes in use stay under cap + one request (socket.request.max.bytes). */
#include "kafka/kafka_int.h"

void kafka_budget_init(kafka_budget_t *bg, int64_t cap) {
    memset(bg, 0, sizeof *bg);
    pthread_mutex_init(&bg->mu, NULL);
    bg->cap = cap;
    atomic_init(&bg->used, 0);
    atomic_init(&bg->peak, 0);
    atomic_init(&bg->nqueued, 0);
    atomic_init(&bg->waits, 0);
}

void kafka_budget_destroy(kafka_budget_t *bg) { pthread_mutex_destroy(&bg->mu); }

static void note_peak(kafka_budget_t *bg, int64_t used) {
    int64_t peak = atomic_load_explicit(&bg->peak, memory_order_relaxed);
    while (used > peak && !atomic_compare_exchange_weak_explicit(&bg->peak, &peak, used, memory_order_relaxed,
                                                                 memory_order_relaxed)) {
    }
}

/* Charges n if the bytes in use are under the cap; lock-free. The budget's atomics are all
 * sequentially consistent: a taker announces itself (nqueued) before it reads used, and a
 * giver lowers used before it reads nqueued, so at least one of them sees the other and no
 * wake-up is lost. */
static bool try_charge(kafka_budget_t *bg, int64_t n) {
    int64_t used = atomic_load(&bg->used);
    do {
        if (bg->cap > 0 && used >= bg->cap) return false;
    } while (!atomic_compare_exchange_weak(&bg->used, &used, used + n));
    note_peak(bg, used + n);
    return true;
}

/* Hands bytes to the queued waiters while the budget allows; bg->mu held. */
static void grant_queued(kafka_budget_t *bg) {
    kafka_budget_waiter_t *w;
    while ((w = bg->head) && try_charge(bg, w->want)) {
        bg->head = w->next;
        if (!bg->head) bg->tail = NULL;
        w->next = NULL;
        w->queued = false;
        w->granted = w->want;
        atomic_fetch_sub(&bg->nqueued, 1);
        w->grant(w);
    }
}

bool kafka_budget_take(kafka_budget_t *bg, kafka_budget_waiter_t *w, int64_t n) {
    /* The fast path, while nobody queues: whoever is waiting goes first. */
    if (atomic_load(&bg->nqueued) == 0 && try_charge(bg, n)) return true;
    pthread_mutex_lock(&bg->mu);
    /* Announced, then checked again: a giver that lowered used before this check is seen here
     * (admitted now); one that lowers it later sees nqueued and grants under the lock. */
    atomic_fetch_add(&bg->nqueued, 1);
    bool now = !bg->head && try_charge(bg, n);
    if (now) {
        atomic_fetch_sub(&bg->nqueued, 1);
    } else {
        w->want = n;
        w->granted = 0;
        w->queued = true;
        w->next = NULL;
        if (bg->tail) bg->tail->next = w;
        else bg->head = w;
        bg->tail = w;
        atomic_fetch_add_explicit(&bg->waits, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&bg->mu);
    return now;
}

int64_t kafka_budget_claim(kafka_budget_t *bg, kafka_budget_waiter_t *w) {
    pthread_mutex_lock(&bg->mu);
    int64_t n = w->queued ? 0 : w->granted;
    w->granted = 0;
    pthread_mutex_unlock(&bg->mu);
    return n;
}

void kafka_budget_give(kafka_budget_t *bg, int64_t n) {
    if (n <= 0) return;
    atomic_fetch_sub(&bg->used, n);
    if (atomic_load(&bg->nqueued) == 0) return;
    pthread_mutex_lock(&bg->mu);
    grant_queued(bg);
    pthread_mutex_unlock(&bg->mu);
}

void kafka_budget_forget(kafka_budget_t *bg, kafka_budget_waiter_t *w) {
    pthread_mutex_lock(&bg->mu);
    if (w->queued) {
        kafka_budget_waiter_t **pp = &bg->head, *prev = NULL;
        while (*pp && *pp != w) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            *pp = w->next;
            if (bg->tail == w) bg->tail = prev;
            atomic_fetch_sub(&bg->nqueued, 1);
        }
        w->queued = false;
        w->next = NULL;
    }
    int64_t granted = w->granted;
    w->granted = 0;
    pthread_mutex_unlock(&bg->mu);
    kafka_budget_give(bg, granted); /* granted while it was leaving: the next waiter's */
}

int64_t kafka_budget_used(kafka_budget_t *bg) { return atomic_load_explicit(&bg->used, memory_order_relaxed); }
