/*
 * test_ring.c - the data-path ring (libc/ring.c, <warden/ring.h>):
 * argument checks, FIFO order across wrap-around, full and empty, a
 * hostile peer's indices and descriptors (errors, never an access outside
 * the ring: the shared memory is an exact-size heap block under ASan), and
 * the signal race: a producer and a consumer on two host threads moving a
 * million descriptors through a small ring, sleeping on emulated
 * notifications whenever the ring is empty or full, with no lost wake-up
 * (a sleep that times out fails the test), no lost and no duplicated item.
 */
#include "unit.h"

#include <warden/ring.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct wd_ring_shared *new_shared(uint32_t capacity)
{
    void *p = aligned_alloc(WD_RING_ALIGN, (wd_ring_bytes(capacity) + WD_RING_ALIGN - 1) & ~(uint64_t)(WD_RING_ALIGN - 1));
    memset(p, 0, wd_ring_bytes(capacity));
    return p;
}

static struct wd_ring_desc desc_for(uint64_t id)
{
    return (struct wd_ring_desc){ .offset = id % 1024, .length = 16, .op = 1, .id = id, .arg = ~id };
}

TEST(ring_init_checks_arguments)
{
    struct wd_ring r;
    struct wd_ring_shared *s = new_shared(8);
    CHECK_EQ(wd_ring_init_producer(&r, s, 0), -WD_E_INVALID_ARG);
    CHECK_EQ(wd_ring_init_producer(&r, s, 6), -WD_E_INVALID_ARG);
    CHECK_EQ(wd_ring_init_consumer(&r, s, WD_RING_MAX_CAPACITY * 2, 0), -WD_E_INVALID_ARG);
    CHECK_EQ(wd_ring_init_producer(&r, NULL, 8), -WD_E_INVALID_ARG);
    CHECK_EQ(wd_ring_init_producer(&r, (char *)s + 8, 8), -WD_E_UNALIGNED);
    CHECK_EQ(wd_ring_init_producer(&r, s, 8), 0);
    CHECK_EQ(wd_ring_init_consumer(&r, s, 1, 4096), 0);
    free(s);
}

/* A sleeping peer is signalled once per sleep, and only for something new:
 * a publish or release that hands over nothing signals nobody (it used to
 * wake a consumer that then found nothing, an extra kernel entry per I/O). */
TEST(ring_signals_only_for_something_new)
{
    struct wd_ring p, c;
    struct wd_ring_shared *s = new_shared(4);
    CHECK_EQ(wd_ring_init_producer(&p, s, 4), 0);
    CHECK_EQ(wd_ring_init_consumer(&c, s, 4, 4096), 0);
    struct wd_ring_desc d = desc_for(1), out;
    CHECK_EQ(wd_ring_enqueue(&p, &d), 0);
    CHECK(wd_ring_publish(&p));                 /* a consumer that never slept counts as asleep */
    CHECK(!wd_ring_publish(&p));                /* nothing new */
    CHECK_EQ(wd_ring_dequeue(&c, &out), 0);
    CHECK(!wd_ring_release(&c));                /* the producer never waited for space */
    CHECK(wd_ring_consumer_may_sleep(&c));      /* empty: sleeps */
    CHECK(!wd_ring_publish(&p));                /* nothing new for it: no signal */
    CHECK_EQ(wd_ring_enqueue(&p, &d), 0);
    CHECK(wd_ring_publish(&p));                 /* now there is: one signal */
    CHECK_EQ(wd_ring_enqueue(&p, &d), 0);
    CHECK(!wd_ring_publish(&p));                /* already signalled for this sleep */
    free(s);
}

TEST(ring_fifo_across_wrap_around)
{
    struct wd_ring p, c;
    struct wd_ring_shared *s = new_shared(4);
    CHECK_EQ(wd_ring_init_producer(&p, s, 4), 0);
    CHECK_EQ(wd_ring_init_consumer(&c, s, 4, 4096), 0);
    uint64_t next_in = 0, next_out = 0;
    bool ok = true;
    for (int round = 0; round < 1000; round++) {
        int burst = 1 + round % 4;
        for (int i = 0; i < burst; i++) {
            struct wd_ring_desc d = desc_for(next_in);
            ok &= wd_ring_enqueue(&p, &d) == 0;
            next_in++;
        }
        wd_ring_publish(&p);
        struct wd_ring_desc out;
        while (wd_ring_dequeue(&c, &out) == 0) {
            ok &= out.id == next_out && out.arg == ~next_out && out.offset == next_out % 1024;
            next_out++;
        }
        wd_ring_release(&c);
    }
    CHECK(ok);
    CHECK_EQ(next_out, next_in);
    CHECK(s->head == (uint32_t)next_in && s->tail == (uint32_t)next_out);   /* free-running, past wrap */
    free(s);
}

TEST(ring_full_and_empty)
{
    struct wd_ring p, c;
    struct wd_ring_shared *s = new_shared(8);
    wd_ring_init_producer(&p, s, 8);
    wd_ring_init_consumer(&c, s, 8, 0);
    struct wd_ring_desc d = desc_for(1), out;
    CHECK_EQ(wd_ring_dequeue(&c, &out), -WD_E_WOULD_BLOCK);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(wd_ring_enqueue(&p, &d), 0);
    CHECK_EQ(wd_ring_enqueue(&p, &d), -WD_E_WOULD_BLOCK);
    CHECK_EQ(wd_ring_dequeue(&c, &out), -WD_E_WOULD_BLOCK);  /* nothing published yet */
    wd_ring_publish(&p);
    CHECK_EQ(wd_ring_ready(&c), 8);
    CHECK_EQ(wd_ring_dequeue(&c, &out), 0);
    CHECK_EQ(wd_ring_enqueue(&p, &d), -WD_E_WOULD_BLOCK);    /* not released yet */
    wd_ring_release(&c);
    CHECK_EQ(wd_ring_space(&p), 1);
    CHECK_EQ(wd_ring_enqueue(&p, &d), 0);
    free(s);
}

/* The producer's head, as a hostile producer writes it: the consumer must
 * refuse any occupancy above the capacity, then stay broken. */
TEST(ring_hostile_head_breaks_the_ring)
{
    static const uint32_t bad_heads[] = { 9, 1000, 0x80000000u, 0xFFFFFFFFu };
    for (unsigned i = 0; i < sizeof bad_heads / sizeof bad_heads[0]; i++) {
        struct wd_ring c;
        struct wd_ring_shared *s = new_shared(8);
        wd_ring_init_consumer(&c, s, 8, 4096);
        s->head = bad_heads[i];
        struct wd_ring_desc out;
        CHECK_EQ(wd_ring_dequeue(&c, &out), -WD_E_PROTOCOL);
        s->head = 1;                            /* a sane value later does not mend it */
        CHECK_EQ(wd_ring_dequeue(&c, &out), -WD_E_PROTOCOL);
        CHECK(!wd_ring_consumer_may_sleep(&c));
        CHECK(!wd_ring_release(&c));
        free(s);
    }
    /* A head that goes backwards after some items. */
    struct wd_ring p, c;
    struct wd_ring_shared *s = new_shared(8);
    wd_ring_init_producer(&p, s, 8);
    wd_ring_init_consumer(&c, s, 8, 4096);
    struct wd_ring_desc d = desc_for(3), out;
    for (int i = 0; i < 3; i++)
        wd_ring_enqueue(&p, &d);
    wd_ring_publish(&p);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(wd_ring_dequeue(&c, &out), 0);
    s->head = 1;
    CHECK_EQ(wd_ring_dequeue(&c, &out), -WD_E_PROTOCOL);
    free(s);
}

TEST(ring_hostile_tail_breaks_the_ring)
{
    struct wd_ring p;
    struct wd_ring_shared *s = new_shared(4);
    wd_ring_init_producer(&p, s, 4);
    struct wd_ring_desc d = desc_for(1);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(wd_ring_enqueue(&p, &d), 0);
    wd_ring_publish(&p);
    s->tail = 7;                                /* consumed more than was written */
    CHECK_EQ(wd_ring_enqueue(&p, &d), -WD_E_PROTOCOL);
    CHECK_EQ(wd_ring_space(&p), -WD_E_PROTOCOL);
    CHECK(!wd_ring_publish(&p));
    CHECK(!wd_ring_producer_may_sleep(&p));
    free(s);
}

/* Descriptors are checked after they are copied out: a buffer outside the
 * region is consumed with RANGE (so the request can be failed), and the
 * honest requests around it still work. */
TEST(ring_hostile_descriptors_get_range)
{
    struct wd_ring p, c;
    struct wd_ring_shared *s = new_shared(8);
    wd_ring_init_producer(&p, s, 8);
    wd_ring_init_consumer(&c, s, 8, 8192);
    struct wd_ring_desc in[] = {
        { .offset = 0, .length = 8192, .id = 1 },                   /* the whole region: fine */
        { .offset = 8192, .length = 1, .id = 2 },                   /* one byte past the end */
        { .offset = 4096, .length = 4097, .id = 3 },                /* runs past the end */
        { .offset = UINT64_MAX - 2, .length = 16, .id = 4 },        /* offset + length wraps */
        { .offset = 1ull << 40, .length = 0, .id = 5 },             /* an offset far outside */
        { .offset = 8192, .length = 0, .id = 6 },                   /* empty, at the end: fine */
        { .offset = 100, .length = 200, .id = 7 },                  /* fine */
    };
    const long want[] = { 0, -WD_E_RANGE, -WD_E_RANGE, -WD_E_RANGE, -WD_E_RANGE, 0, 0 };
    for (unsigned i = 0; i < 7; i++)
        wd_ring_enqueue(&p, &in[i]);
    wd_ring_publish(&p);
    for (unsigned i = 0; i < 7; i++) {
        struct wd_ring_desc out;
        CHECK_EQ(wd_ring_dequeue(&c, &out), want[i]);
        CHECK_EQ(out.id, in[i].id);
    }
    struct wd_ring_desc out;
    CHECK_EQ(wd_ring_dequeue(&c, &out), -WD_E_WOULD_BLOCK);
    free(s);
}

/* A producer that rewrites a descriptor after the consumer copied it
 * cannot change what the consumer checked: the copy is what it uses. */
TEST(ring_descriptor_copy_is_what_is_checked)
{
    struct wd_ring p, c;
    struct wd_ring_shared *s = new_shared(2);
    wd_ring_init_producer(&p, s, 2);
    wd_ring_init_consumer(&c, s, 2, 4096);
    struct wd_ring_desc d = { .offset = 0, .length = 4096, .id = 9 }, out;
    wd_ring_enqueue(&p, &d);
    wd_ring_publish(&p);
    CHECK_EQ(wd_ring_dequeue(&c, &out), 0);
    s->desc[0].offset = 1ull << 50;             /* too late */
    CHECK_EQ(out.offset, 0);
    CHECK_EQ(out.length, 4096);
    free(s);
}

/* ---- the signal race ---------------------------------------------------- */

/* A notification, as the kernel implements it: signal ORs and wakes; wait
 * takes the word, or gives up after a timeout (a lost wake-up). */
struct fake_notification {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t word;
    uint64_t signals, waits;
};

static void fake_signal(struct fake_notification *n)
{
    pthread_mutex_lock(&n->lock);
    n->word |= 1;
    n->signals++;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
}

/* false: nothing came within 2 s. */
static bool fake_wait(struct fake_notification *n)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    pthread_mutex_lock(&n->lock);
    n->waits++;
    int r = 0;
    while (!n->word && r == 0)
        r = pthread_cond_timedwait(&n->cond, &n->lock, &deadline);
    bool got = n->word != 0;
    n->word = 0;
    pthread_mutex_unlock(&n->lock);
    return got;
}

#define RACE_ITEMS 1000000u
#define RACE_CAPACITY 16u

struct race {
    struct wd_ring_shared *shared;
    struct fake_notification to_consumer, to_producer;
    uint64_t received, out_of_order;
    uint64_t consumer_lost, producer_lost;          /* sleeps that timed out: lost wake-ups */
    uint64_t consumer_prepares, producer_prepares;  /* may_sleep calls (each bumps a token) */
};

static void *race_producer(void *arg)
{
    struct race *x = arg;
    struct wd_ring p;
    wd_ring_init_producer(&p, x->shared, RACE_CAPACITY);
    uint64_t next = 0, rng = 0x9E3779B97F4A7C15ull;
    while (next < RACE_ITEMS && x->producer_lost < 3) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        unsigned burst = 1 + (unsigned)(rng % 24);
        for (unsigned i = 0; i < burst && next < RACE_ITEMS;) {
            struct wd_ring_desc d = desc_for(next);
            if (wd_ring_enqueue(&p, &d) == 0) {
                next++, i++;
                continue;
            }
            if (wd_ring_publish(&p))
                fake_signal(&x->to_consumer);
            x->producer_prepares++;
            if (wd_ring_producer_may_sleep(&p) && !fake_wait(&x->to_producer) && ++x->producer_lost >= 3)
                return NULL;
        }
        if (wd_ring_publish(&p))
            fake_signal(&x->to_consumer);
    }
    return NULL;
}

static void *race_consumer(void *arg)
{
    struct race *x = arg;
    struct wd_ring c;
    wd_ring_init_consumer(&c, x->shared, RACE_CAPACITY, 1024 + 16);
    while (x->received < RACE_ITEMS && x->consumer_lost < 3) {
        struct wd_ring_desc d;
        long r;
        while ((r = wd_ring_dequeue(&c, &d)) == 0) {
            if (d.id != x->received || d.arg != ~d.id)
                x->out_of_order++;
            x->received++;
        }
        if (wd_ring_release(&c))
            fake_signal(&x->to_producer);
        if (r != -WD_E_WOULD_BLOCK || x->received == RACE_ITEMS)
            break;
        x->consumer_prepares++;
        if (wd_ring_consumer_may_sleep(&c) && !fake_wait(&x->to_consumer))
            x->consumer_lost++;
    }
    return NULL;
}

TEST(ring_signal_race_two_threads)
{
    static struct race x;
    memset(&x, 0, sizeof x);
    x.shared = new_shared(RACE_CAPACITY);
    pthread_mutex_init(&x.to_consumer.lock, NULL);
    pthread_cond_init(&x.to_consumer.cond, NULL);
    pthread_mutex_init(&x.to_producer.lock, NULL);
    pthread_cond_init(&x.to_producer.cond, NULL);
    pthread_t prod, cons;
    pthread_create(&cons, NULL, race_consumer, &x);
    pthread_create(&prod, NULL, race_producer, &x);
    pthread_join(prod, NULL);
    pthread_join(cons, NULL);
    CHECK_EQ(x.consumer_lost, 0);
    CHECK_EQ(x.producer_lost, 0);
    CHECK_EQ(x.received, RACE_ITEMS);
    CHECK_EQ(x.out_of_order, 0);
    CHECK(x.to_consumer.waits > 100);           /* the race was really run, many times */
    /* At most one signal per token bump: signals stay rare on a busy ring. */
    CHECK(x.to_consumer.signals <= x.consumer_prepares);
    CHECK(x.to_producer.signals <= x.producer_prepares);
    printf("# %u items: consumer slept %llu times (%llu signals), producer %llu (%llu signals)\n", RACE_ITEMS,
           (unsigned long long)x.to_consumer.waits, (unsigned long long)x.to_consumer.signals,
           (unsigned long long)x.to_producer.waits, (unsigned long long)x.to_producer.signals);
    free(x.shared);
}

/* The fences, alone: the consumer's "token, then look at head" against the
 * producer's "head, then look at the token", started together again and
 * again on two threads (the store-buffer litmus test). Without the fences
 * x86 lets each side's load pass its own store, and both miss each other:
 * the consumer sleeps on an item the producer never signals. */
#define LITMUS_ROUNDS 200000u

struct litmus {
    struct wd_ring_shared *shared;
    struct wd_ring producer, consumer;
    volatile uint32_t ready, go, done;      /* round numbers: set up, start, finished */
    bool consumer_sleeps[LITMUS_ROUNDS];
    bool producer_signals[LITMUS_ROUNDS];
};

/* Both sides arrive, then go at the same moment (plus a little jitter). */
static void litmus_start(struct litmus *l, uint32_t round, unsigned jitter)
{
    __atomic_fetch_add(&l->go, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&l->go, __ATOMIC_SEQ_CST) < 2 * round)
        __asm__ volatile("pause");
    for (unsigned i = 0; i < jitter; i++)
        __asm__ volatile("" ::: "memory");
}

static void *litmus_consumer(void *arg)
{
    struct litmus *l = arg;
    for (uint32_t round = 1; round <= LITMUS_ROUNDS; round++) {
        while (__atomic_load_n(&l->ready, __ATOMIC_SEQ_CST) != round)
            __asm__ volatile("pause");
        litmus_start(l, round, (round * 7) % 5);
        l->consumer_sleeps[round - 1] = wd_ring_consumer_may_sleep(&l->consumer);
        __atomic_fetch_add(&l->done, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

TEST(ring_sleep_and_publish_never_miss_each_other)
{
    static struct litmus l;
    memset(&l, 0, sizeof l);
    l.shared = new_shared(4);
    pthread_t consumer;
    pthread_create(&consumer, NULL, litmus_consumer, &l);
    struct wd_ring_desc d = desc_for(1);
    for (uint32_t round = 1; round <= LITMUS_ROUNDS; round++) {
        memset(l.shared, 0, wd_ring_bytes(4));
        wd_ring_init_producer(&l.producer, l.shared, 4);
        wd_ring_init_consumer(&l.consumer, l.shared, 4, 0);
        wd_ring_enqueue(&l.producer, &d);
        __atomic_store_n(&l.ready, round, __ATOMIC_SEQ_CST);
        litmus_start(&l, round, (round * 3) % 5);
        l.producer_signals[round - 1] = wd_ring_publish(&l.producer);
        while (__atomic_load_n(&l.done, __ATOMIC_SEQ_CST) != round)
            __asm__ volatile("pause");
    }
    pthread_join(consumer, NULL);
    unsigned missed = 0, races = 0;
    for (uint32_t i = 0; i < LITMUS_ROUNDS; i++) {
        missed += l.consumer_sleeps[i] && !l.producer_signals[i];
        races += l.consumer_sleeps[i] && l.producer_signals[i];
    }
    printf("# %u rounds: the consumer would sleep and was signalled %u times, missed %u times\n", LITMUS_ROUNDS,
           races, missed);
    CHECK_EQ(missed, 0);
    free(l.shared);
}

/* The batch forms: partial batches at full and empty, FIFO order across
 * wrap-around, the region check per descriptor, a hostile index. */
TEST(ring_batches)
{
    struct wd_ring p, c;
    struct wd_ring_shared *s = new_shared(8);
    wd_ring_init_producer(&p, s, 8);
    wd_ring_init_consumer(&c, s, 8, 4096);
    struct wd_ring_desc in[12], out[12];
    for (unsigned i = 0; i < 12; i++)
        in[i] = (struct wd_ring_desc){ .offset = i == 5 ? 5000 : i * 100, .length = 10, .id = i };
    CHECK_EQ(wd_ring_enqueue_batch(&p, in, 12), 8);            /* only 8 fit */
    CHECK_EQ(wd_ring_enqueue_batch(&p, in, 1), 0);
    wd_ring_publish(&p);
    CHECK_EQ(wd_ring_dequeue_batch(&c, out, 3), 3);
    CHECK_EQ(wd_ring_dequeue_batch(&c, out + 3, 12), 5);
    for (unsigned i = 0; i < 8; i++) {
        CHECK_EQ(out[i].id, i);
        CHECK_EQ(out[i].status, i == 5 ? WD_E_RANGE : 0);
    }
    CHECK_EQ(wd_ring_dequeue_batch(&c, out, 4), 0);
    wd_ring_release(&c);
    CHECK_EQ(wd_ring_enqueue_batch(&p, in + 8, 4), 4);          /* wraps */
    wd_ring_publish(&p);
    CHECK_EQ(wd_ring_dequeue_batch(&c, out, 12), 4);
    CHECK_EQ(out[3].id, 11);
    s->head += 100;
    CHECK_EQ(wd_ring_dequeue_batch(&c, out, 12), -WD_E_PROTOCOL);
    s->tail = 9999;
    CHECK_EQ(wd_ring_enqueue_batch(&p, in, 12), -WD_E_PROTOCOL);
    free(s);
}
