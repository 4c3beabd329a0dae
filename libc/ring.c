/*
 * ring.c - the data-path ring (see <warden/ring.h>): setting up a side's
 * private view, reading the peer's index with its checks, publishing and
 * releasing with the signal decision, and the re-check before sleeping.
 *
 * Pure C on the shared memory it is given: also built on the host for the
 * unit tests (tests/unit/test_ring.c), which race a producer and a
 * consumer on two threads.
 *
 * Ordering (x86-64, TSO): stores are not reordered with stores and loads
 * not with loads, so publishing an index after the descriptors needs only
 * a compiler barrier, and so does reading descriptors after an index. A
 * store followed by a load of another location can be reordered, so the
 * two places where a side writes its own word and then reads the peer's
 * (publish/release -> token; token -> index) take a full fence.
 */
#include <warden/ring.h>

static inline void compiler_barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

static inline void full_fence(void)
{
    __asm__ volatile("mfence" ::: "memory");
}

static long init_common(struct wd_ring *r, void *shared, uint32_t capacity, bool producer)
{
    if (!shared || capacity == 0 || capacity > WD_RING_MAX_CAPACITY || (capacity & (capacity - 1)))
        return -WD_E_INVALID_ARG;
    if ((uint64_t)shared % WD_RING_ALIGN)
        return -WD_E_UNALIGNED;
    *r = (struct wd_ring){
        .shared = shared,
        .capacity = capacity,
        .mask = capacity - 1,
        .producer = producer,
    };
    return 0;
}

long wd_ring_init_producer(struct wd_ring *r, void *shared, uint32_t capacity)
{
    long e = init_common(r, shared, capacity, true);
    if (e == 0) {
        r->shared->head = 0;
        r->shared->producer_waiting = 0;
    }
    return e;
}

long wd_ring_init_consumer(struct wd_ring *r, void *shared, uint32_t capacity, uint64_t region_size)
{
    long e = init_common(r, shared, capacity, false);
    if (e == 0) {
        r->region_size = region_size;
        r->shared->tail = 0;
        /* A consumer starts waiting for work: the producer's first publish
         * sees a token it has not signalled for yet. */
        r->my_token = 1;
        r->shared->consumer_waiting = 1;
    }
    return e;
}

long wd_ring_space(struct wd_ring *r)
{
    if (r->broken)
        return -WD_E_PROTOCOL;
    uint32_t tail = r->shared->tail;
    compiler_barrier();             /* the peer's reads of slots before its tail are done */
    uint32_t used = r->head - tail;
    if (used > r->capacity) {       /* a tail ahead of what was written, or wrapped */
        r->broken = true;
        return -WD_E_PROTOCOL;
    }
    r->tail = tail;
    return (long)(r->capacity - used);
}

long wd_ring_ready(struct wd_ring *r)
{
    if (r->broken)
        return -WD_E_PROTOCOL;
    uint32_t head = r->shared->head;
    compiler_barrier();             /* descriptors are read only after the index */
    uint32_t ready = head - r->tail;
    if (ready > r->capacity) {      /* more than fits: the peer lies (or went backwards) */
        r->broken = true;
        return -WD_E_PROTOCOL;
    }
    r->head = head;
    return (long)ready;
}

/* The slots of [first, first+n) as at most two runs without a wrap. */
static inline uint32_t first_run(const struct wd_ring *r, uint32_t first, uint32_t n)
{
    uint32_t to_end = r->capacity - (first & r->mask);
    return n < to_end ? n : to_end;
}

static void copy_in(struct wd_ring_desc *restrict slot, const struct wd_ring_desc *restrict d, uint32_t n)
{
#pragma GCC unroll 4
    for (uint32_t i = 0; i < n; i++)
        slot[i] = d[i];
}

long wd_ring_enqueue_batch(struct wd_ring *r, const struct wd_ring_desc *d, uint32_t n)
{
    uint32_t head = r->head;
    uint32_t room = r->capacity - (head - r->tail);
    if (room < n) {
        long space = wd_ring_space(r);
        if (space < 0)
            return space;
        room = (uint32_t)space;
    }
    if (n > room)
        n = room;
    uint32_t run = first_run(r, head, n);
    copy_in(&r->shared->desc[head & r->mask], d, run);
    copy_in(r->shared->desc, d + run, n - run);
    r->head = head + n;
    return n;
}

/* Copies n slots out and checks each copy against [0, size). */
static void copy_out(struct wd_ring_desc *restrict out, const struct wd_ring_desc *restrict slot, uint32_t n,
                     uint64_t size)
{
#pragma GCC unroll 4
    for (uint32_t i = 0; i < n; i++) {
        out[i] = slot[i];
        /* The check must read our copy: without the barrier the compiler may
         * read the peer's slot again, which may have changed by then. */
        compiler_barrier();
        uint64_t end;
        bool outside = __builtin_add_overflow(out[i].offset, (uint64_t)out[i].length, &end) | (end > size);
        out[i].status = (uint16_t)(-(uint16_t)outside & WD_E_RANGE);
    }
}

/* The same for descriptors that carry no buffer (region size 0). */
static void copy_out_unchecked(struct wd_ring_desc *restrict out, const struct wd_ring_desc *restrict slot,
                               uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        out[i] = slot[i];
        out[i].status = 0;
    }
}

long wd_ring_dequeue_batch(struct wd_ring *r, struct wd_ring_desc *out, uint32_t n)
{
    uint32_t tail = r->tail;
    uint32_t ready = r->head - tail;
    if (ready < n) {
        long now = wd_ring_ready(r);
        if (now < 0)
            return now;
        ready = (uint32_t)now;
    }
    if (n > ready)
        n = ready;
    uint32_t run = first_run(r, tail, n);
    if (r->region_size) {
        copy_out(out, &r->shared->desc[tail & r->mask], run, r->region_size);
        copy_out(out + run, r->shared->desc, n - run, r->region_size);
    } else {
        copy_out_unchecked(out, &r->shared->desc[tail & r->mask], run);
        copy_out_unchecked(out + run, r->shared->desc, n - run);
    }
    r->tail = tail + n;
    return n;
}

/* Whether the peer's token moved since this side last signalled it. */
static bool peer_token_changed(struct wd_ring *r, volatile uint32_t *token)
{
    full_fence();                   /* our index store before the peer's token load */
    uint32_t t = *token;
    if (t == r->peer_token)
        return false;
    r->peer_token = t;
    return true;
}

bool wd_ring_publish(struct wd_ring *r)
{
    if (r->broken)
        return false;
    if (r->head == r->published)
        return false;               /* nothing new: a sleeping consumer has seen all there is */
    compiler_barrier();             /* descriptors before the index */
    r->shared->head = r->published = r->head;
    return peer_token_changed(r, &r->shared->consumer_waiting);
}

void wd_ring_publish_quietly(struct wd_ring *r)
{
    if (r->broken || r->head == r->published)
        return;
    compiler_barrier();             /* descriptors before the index */
    r->shared->head = r->published = r->head;
}

bool wd_ring_release(struct wd_ring *r)
{
    if (r->broken)
        return false;
    if (r->tail == r->published)
        return false;               /* no slot handed back: a waiting producer has seen them all */
    compiler_barrier();             /* our reads of the slots before handing them back */
    r->shared->tail = r->published = r->tail;
    return peer_token_changed(r, &r->shared->producer_waiting);
}

bool wd_ring_consumer_may_sleep(struct wd_ring *r)
{
    if (r->broken)
        return false;
    r->shared->consumer_waiting = ++r->my_token;
    full_fence();                   /* the token store before the head load */
    return wd_ring_ready(r) == 0;
}

bool wd_ring_producer_may_sleep(struct wd_ring *r)
{
    if (r->broken)
        return false;
    r->shared->producer_waiting = ++r->my_token;
    full_fence();                   /* the token store before the tail load */
    return wd_ring_space(r) == 0;
}
