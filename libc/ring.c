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
        r->shared->consumer_waiting = 0;
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
    compiler_barrier();             /* descriptors before the index */
    r->shared->head = r->head;
    return peer_token_changed(r, &r->shared->consumer_waiting);
}

bool wd_ring_release(struct wd_ring *r)
{
    if (r->broken)
        return false;
    compiler_barrier();             /* our reads of the slots before handing them back */
    r->shared->tail = r->tail;
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
