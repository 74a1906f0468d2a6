/* Unit tests of the budget for request bytes in flight: Kafka's non-strict admission, waiters
 * granted first come first served, a request larger than the cap, waiters that leave, and many
 * threads taking and giving at once (the bytes in use never pass cap + one request). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "kafka/kafka_int.h"
#include "test.h"

typedef struct {
    kafka_budget_waiter_t w;
    int grants;
    int order;        /* 1 + the position of its grant among all grants */
    int *next_order;
} test_waiter_t;

static void on_grant(kafka_budget_waiter_t *w) {
    test_waiter_t *t = (test_waiter_t *)w;
    t->grants++;
    t->order = ++*t->next_order;
}

TEST(kafka_budget_admits_under_the_cap_and_grants_in_order) {
    kafka_budget_t bg;
    kafka_budget_init(&bg, 100);
    int order = 0;
    test_waiter_t a = {.w.grant = on_grant, .next_order = &order}, b = a, c = a, d = a;
    CHECK(kafka_budget_take(&bg, &a.w, 60));
    /* Under the cap: admitted even though it passes it (Kafka's non-strict pool). */
    CHECK(kafka_budget_take(&bg, &b.w, 60));
    CHECK_EQ_INT(kafka_budget_used(&bg), 120);
    CHECK(!kafka_budget_take(&bg, &c.w, 10));
    CHECK(!kafka_budget_take(&bg, &d.w, 5));
    CHECK_EQ_INT(kafka_budget_claim(&bg, &c.w), 0); /* still waiting */
    CHECK_EQ_INT(atomic_load(&bg.waits), 2);
    /* 120 - 10 = 110: still over, nobody is granted. */
    kafka_budget_give(&bg, 10);
    CHECK_EQ_INT(c.grants + d.grants, 0);
    /* 110 - 60 = 50: both waiters' turns come, in the order they queued. */
    kafka_budget_give(&bg, 60);
    CHECK_EQ_INT(c.grants, 1);
    CHECK_EQ_INT(d.grants, 1);
    CHECK_EQ_INT(c.order, 1);
    CHECK_EQ_INT(d.order, 2);
    CHECK_EQ_INT(kafka_budget_used(&bg), 65);
    CHECK_EQ_INT(kafka_budget_claim(&bg, &c.w), 10);
    CHECK_EQ_INT(kafka_budget_claim(&bg, &c.w), 0); /* claimed once */
    CHECK_EQ_INT(kafka_budget_claim(&bg, &d.w), 5);
    kafka_budget_give(&bg, 50 + 10 + 5);
    CHECK_EQ_INT(kafka_budget_used(&bg), 0);
    CHECK_EQ_INT(atomic_load(&bg.peak), 120);
    kafka_budget_destroy(&bg);
}

/* One request larger than the whole cap is admitted when the budget has room, so it never waits
 * forever; while it holds the budget, the others wait. */
TEST(kafka_budget_request_larger_than_the_cap) {
    kafka_budget_t bg;
    kafka_budget_init(&bg, 100);
    int order = 0;
    test_waiter_t big = {.w.grant = on_grant, .next_order = &order}, small = big, huge = big;
    CHECK(kafka_budget_take(&bg, &big.w, 1000));
    CHECK(!kafka_budget_take(&bg, &small.w, 1));
    kafka_budget_give(&bg, 1000);
    CHECK_EQ_INT(small.grants, 1);
    CHECK_EQ_INT(kafka_budget_claim(&bg, &small.w), 1);
    /* Queued behind a used budget, a huge one gets its turn as soon as the budget has room. */
    CHECK(kafka_budget_take(&bg, &big.w, 99));
    CHECK(!kafka_budget_take(&bg, &huge.w, 5000));
    kafka_budget_give(&bg, 99);
    CHECK_EQ_INT(huge.grants, 1);
    CHECK_EQ_INT(kafka_budget_used(&bg), 5001);
    kafka_budget_give(&bg, kafka_budget_claim(&bg, &huge.w) + 1);
    CHECK_EQ_INT(kafka_budget_used(&bg), 0);
    kafka_budget_destroy(&bg);

    kafka_budget_init(&bg, -1); /* unlimited */
    for (int i = 0; i < 100; i++) CHECK(kafka_budget_take(&bg, &big.w, 1 << 20));
    CHECK_EQ_INT(kafka_budget_used(&bg), 100ll << 20);
    kafka_budget_destroy(&bg);
}

/* A waiter whose connection closes leaves the queue; bytes granted to it and never claimed go to
 * the next waiter. */
TEST(kafka_budget_waiters_that_leave) {
    kafka_budget_t bg;
    kafka_budget_init(&bg, 10);
    int order = 0;
    test_waiter_t a = {.w.grant = on_grant, .next_order = &order}, b = a, c = a, d = a;
    CHECK(kafka_budget_take(&bg, &a.w, 10));
    CHECK(!kafka_budget_take(&bg, &b.w, 10));
    CHECK(!kafka_budget_take(&bg, &c.w, 10));
    CHECK(!kafka_budget_take(&bg, &d.w, 10));
    kafka_budget_forget(&bg, &c.w); /* the middle one leaves */
    CHECK_EQ_INT(atomic_load(&bg.nqueued), 2);
    kafka_budget_give(&bg, 10);
    CHECK_EQ_INT(b.grants, 1);
    CHECK_EQ_INT(c.grants + d.grants, 0);
    kafka_budget_forget(&bg, &b.w); /* granted, never claimed: d's turn */
    CHECK_EQ_INT(d.grants, 1);
    CHECK_EQ_INT(kafka_budget_used(&bg), 10);
    kafka_budget_forget(&bg, &d.w);
    kafka_budget_forget(&bg, &a.w); /* not queued, nothing granted: nothing changes */
    CHECK_EQ_INT(kafka_budget_used(&bg), 0);
    CHECK_EQ_INT(atomic_load(&bg.nqueued), 0);
    kafka_budget_destroy(&bg);
}

/* Threads taking and giving concurrently: every waiter is granted (no lost wake-up), the bytes
 * in use never pass cap + the largest request, and all come back. */
typedef struct {
    kafka_budget_t *bg;
    kafka_budget_waiter_t w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool granted;
    int seed;
    int64_t max_seen;
} worker_t;

static void worker_grant(kafka_budget_waiter_t *w) {
    worker_t *k = (worker_t *)((char *)w - offsetof(worker_t, w));
    pthread_mutex_lock(&k->mu);
    k->granted = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

static void *worker_main(void *arg) {
    worker_t *k = arg;
    unsigned s = (unsigned)k->seed;
    for (int i = 0; i < 2000; i++) {
        int64_t n = 1 + (int64_t)(rand_r(&s) % 300);
        int64_t got = n;
        if (!kafka_budget_take(k->bg, &k->w, n)) {
            pthread_mutex_lock(&k->mu);
            while (!k->granted) pthread_cond_wait(&k->cv, &k->mu);
            k->granted = false;
            pthread_mutex_unlock(&k->mu);
            got = kafka_budget_claim(k->bg, &k->w);
        }
        int64_t used = kafka_budget_used(k->bg);
        if (used > k->max_seen) k->max_seen = used;
        if (got != n) k->max_seen = -1; /* a grant of the wrong size */
        kafka_budget_give(k->bg, got);
    }
    return NULL;
}

TEST(kafka_budget_many_threads) {
    kafka_budget_t bg;
    kafka_budget_init(&bg, 100);
    enum { W = 8 };
    worker_t ws[W];
    pthread_t th[W];
    for (int i = 0; i < W; i++) {
        memset(&ws[i], 0, sizeof ws[i]);
        ws[i].bg = &bg;
        ws[i].w.grant = worker_grant;
        ws[i].seed = i + 1;
        pthread_mutex_init(&ws[i].mu, NULL);
        pthread_cond_init(&ws[i].cv, NULL);
        pthread_create(&th[i], NULL, worker_main, &ws[i]);
    }
    for (int i = 0; i < W; i++) {
        pthread_join(th[i], NULL);
        CHECK(ws[i].max_seen >= 0);
        CHECK(ws[i].max_seen < 100 + 300);
        pthread_mutex_destroy(&ws[i].mu);
        pthread_cond_destroy(&ws[i].cv);
    }
    CHECK_EQ_INT(kafka_budget_used(&bg), 0);
    CHECK(atomic_load(&bg.peak) < 100 + 300);
    CHECK_EQ_INT(atomic_load(&bg.nqueued), 0);
    kafka_budget_destroy(&bg);
}
