/*
 * warden/ring.h - the shared-memory ring every client and driver uses for
 * its data path (DESIGN.md §10, docs/drivers.md): a single-producer,
 * single-consumer ring of 32-byte descriptors, and each side's private
 * view of it. The implementation is libc/ring.c (hot paths inline here).
 *
 * Shared layout (wd_ring_bytes(capacity) bytes, 64-byte aligned):
 *   line 0, written by the producer only: head (descriptors written, a
 *           free-running count) and producer_waiting (a token it bumps
 *           before sleeping for space);
 *   line 1, written by the consumer only: tail (descriptors consumed) and
 *           consumer_waiting (a token it bumps before sleeping for work);
 *   then capacity descriptors.
 *
 * Trust: each side keeps the capacity, its own index and the last value it
 * read of the peer's index in its private struct wd_ring, never in shared
 * memory. What the peer wrote is checked before use: an occupancy above
 * the capacity breaks the ring (every later call fails with PROTOCOL); a
 * descriptor is copied out before it is checked, and one whose buffer
 * (offset, length) leaves the registered region is handed over with
 * RANGE so the consumer can fail that request. A hostile peer can make a
 * ring look empty, full or broken; it can never make the other side read
 * or write outside the ring or the region.
 *
 * Sleeping without lost wake-ups: before sleeping the consumer bumps its
 * token, fences, and looks at head again (wd_ring_consumer_may_sleep);
 * after publishing, the producer fences and signals only when the token
 * changed since it last signalled (wd_ring_publish). With the fences on
 * both sides one of the two always sees the other, so a signal is sent at
 * most once per sleep and never missed. The same holds for space.
 */
#ifndef WARDEN_ABI_RING_H
#define WARDEN_ABI_RING_H

#include <warden/errors.h>
#include <warden/types.h>

/* One request or completion. Buffers are named by offset into the
 * session's registered region, never by address or IOVA. */
struct wd_ring_desc {
    uint64_t offset;                /* into the region */
    uint32_t length;                /* bytes */
    uint16_t op;                    /* the service's operation */
    uint16_t status;                /* completions: 0, or a WD_E_* code */
    uint64_t id;                    /* the client's request id, echoed in the completion */
    uint64_t arg;                   /* the service's argument (LBA, device offset, result) */
};

struct wd_ring_shared {
    volatile uint32_t head;
    volatile uint32_t producer_waiting;
    uint8_t producer_line[56];
    volatile uint32_t tail;
    volatile uint32_t consumer_waiting;
    uint8_t consumer_line[56];
    struct wd_ring_desc desc[];
};

#define WD_RING_ALIGN 64u
#define WD_RING_MAX_CAPACITY (1u << 20)

/* Bytes of shared memory a ring of capacity descriptors needs. */
static inline uint64_t wd_ring_bytes(uint32_t capacity)
{
    return sizeof(struct wd_ring_shared) + (uint64_t)capacity * sizeof(struct wd_ring_desc);
}

/* One side's private view. Never put this in shared memory. */
struct wd_ring {
    struct wd_ring_shared *shared;
    uint32_t capacity;
    uint32_t mask;
    uint32_t head;                  /* producer: own; consumer: last read of the peer's */
    uint32_t tail;                  /* consumer: own; producer: last read of the peer's */
    uint32_t my_token;              /* the waiting token this side writes */
    uint32_t peer_token;            /* the peer's token when this side last signalled it */
    uint32_t published;             /* this side's index as last written to shared memory */
    uint64_t region_size;           /* consumer: descriptors must lie in [0, region_size) */
    bool producer;
    bool broken;                    /* the peer broke the protocol */
};

/* Sets up this side's view of a ring at shared (WD_RING_ALIGN aligned,
 * wd_ring_bytes(capacity) bytes, zeroed by whoever made it), and writes
 * this side's index (0). capacity: a power of two, 1..WD_RING_MAX_CAPACITY.
 * A consumer checks every descriptor's [offset, offset+length) against
 * [0, region_size); region_size 0 means descriptors carry no buffer and
 * offset/length are not checked. 0 or INVALID_ARG / UNALIGNED. */
long wd_ring_init_producer(struct wd_ring *r, void *shared, uint32_t capacity);
long wd_ring_init_consumer(struct wd_ring *r, void *shared, uint32_t capacity, uint64_t region_size);

/* Producer: free slots (refreshing the peer's tail when it looks full),
 * or -WD_E_PROTOCOL. */
long wd_ring_space(struct wd_ring *r);
/* Consumer: descriptors ready (refreshing the peer's head when it looks
 * empty), or -WD_E_PROTOCOL. */
long wd_ring_ready(struct wd_ring *r);

/* Producer: writes d into the next slot; the consumer sees it only after
 * wd_ring_publish (publish once per batch). 0, WOULD_BLOCK (full) or
 * PROTOCOL. */
static inline long wd_ring_enqueue(struct wd_ring *r, const struct wd_ring_desc *d)
{
    if (__builtin_expect(r->head - r->tail >= r->capacity, 0)) {
        long space = wd_ring_space(r);
        if (space <= 0)
            return space < 0 ? space : -WD_E_WOULD_BLOCK;
    }
    r->shared->desc[r->head & r->mask] = *d;
    r->head++;
    return 0;
}

/* Consumer: copies the next descriptor to *out and consumes it (the slot
 * is the producer's again after wd_ring_release). 0; RANGE when *out's
 * buffer leaves the region (it is consumed: complete it with an error);
 * WOULD_BLOCK (empty) or PROTOCOL. */
static inline long wd_ring_dequeue(struct wd_ring *r, struct wd_ring_desc *out)
{
    if (__builtin_expect(r->head == r->tail, 0)) {
        long ready = wd_ring_ready(r);
        if (ready <= 0)
            return ready < 0 ? ready : -WD_E_WOULD_BLOCK;
    }
    *out = r->shared->desc[r->tail & r->mask];
    __asm__ volatile("" ::: "memory");     /* check *out, never the peer's slot again */
    r->tail++;
    if (r->region_size && (out->offset > r->region_size || out->length > r->region_size - out->offset))
        return -WD_E_RANGE;
    return 0;
}

/* The batch forms, for the hot path (the indices stay in registers):
 * enqueue up to n descriptors from d (how many went in: 0 when full, or
 * PROTOCOL); dequeue up to n into out (how many came out: 0 when empty,
 * or PROTOCOL), each with status set to 0, or WD_E_RANGE when its buffer
 * leaves the region (complete that one with an error). Publish and
 * release once per batch as with the single forms. */
long wd_ring_enqueue_batch(struct wd_ring *r, const struct wd_ring_desc *d, uint32_t n);
long wd_ring_dequeue_batch(struct wd_ring *r, struct wd_ring_desc *out, uint32_t n);

/* Producer: makes what was enqueued visible. Returns true when the
 * consumer is (or is about to be) asleep and has not been signalled for
 * this sleep yet: signal it then. */
bool wd_ring_publish(struct wd_ring *r);
/* Consumer: hands the consumed slots back. True when the producer waits
 * for space and has not been signalled for it yet. */
bool wd_ring_release(struct wd_ring *r);
/* Publishes like wd_ring_publish but never asks for a signal: the consumer
 * sees the entries the next time it looks (woken by something else); its
 * waiting token stays unseen, so the next wd_ring_publish still signals. */
void wd_ring_publish_quietly(struct wd_ring *r);

/* Consumer, before it sleeps for work: bumps its token and looks once
 * more. True: still empty, sleep (a publish after this will signal).
 * False: work arrived (or the ring broke): do not sleep. */
bool wd_ring_consumer_may_sleep(struct wd_ring *r);
/* Producer, before it sleeps for space: the same for a full ring. */
bool wd_ring_producer_may_sleep(struct wd_ring *r);

#endif
