/*
 * dependents.h - what depends on one capability: the mappings made through
 * it while it is a lease (a frame capability without RETAIN), and a watch
 * (cap_watch: a notification signalled when the capability ends).
 *
 * A slot gets a struct cap_dependents only when it needs one (its first
 * leased mapping, or a watch), charged to its holder's pool. When the slot
 * is deleted, cap_dependents_end runs the lease's promise in this order:
 *   1. every DMA mapping made through it: entries cleared, IOTLB
 *      invalidated and waited for (each dmaspace that has a device);
 *   2. every CPU mapping made through it: removed;
 *   3. the frame references of all of them dropped (only now can the
 *      frames' memory go back to a pool);
 *   4. the watch signalled, so the holder learns after the fact.
 * Invariants: a lease link is on exactly one dependents list while its
 * mapping exists; a dependents record with no mapping and no watch is
 * freed (except while a caller holds it between get and map).
 */
#ifndef WARDEN_CAP_DEPENDENTS_H
#define WARDEN_CAP_DEPENDENTS_H

#include <stdbool.h>
#include <stdint.h>

struct cap_slot;
struct cap_dependents;
struct endpoint;
struct notification;
struct pool;

enum lease_kind { LEASE_CPU = 1, LEASE_DMA = 2 };

/* One mapping made through a lease: struct vm_mapping and struct
 * dma_mapping point to theirs (NULL when not made through a lease), which
 * is allocated with the mapping and charged with it, so mappings that are
 * not leased stay small. */
struct lease_link {
    struct lease_link *next;
    struct lease_link *prev;
    struct cap_dependents *owner;   /* NULL once off its lease's list */
    enum lease_kind kind;
    void *space;                    /* struct vmspace * or struct dmaspace * */
    void *mapping;                  /* struct vm_mapping * or struct dma_mapping * */
};

struct cap_dependents {
    struct cap_slot *slot;
    struct pool *pool;              /* charged for this record */
    struct lease_link *mappings;
    uint64_t mapping_count;
    struct notification *watch;     /* referenced; NULL: no watch */
    uint64_t watch_bits;
    struct endpoint *watched_endpoint;  /* on its close-watch list */
    struct cap_dependents *close_next;
    struct cap_dependents *close_prev;
};


/* slot's record, created (charged to pool) if it has none: 0 or -WD_E_*. */
int cap_dependents_get(struct cap_slot *slot, struct pool *pool, struct cap_dependents **out);
/* Frees slot's record if nothing depends on it any more. */
void cap_dependents_put_if_unused(struct cap_slot *slot);

/* Bytes one link costs the mapping's pool. */
uint64_t lease_link_cost(void);
/* A fresh link (NULL: no memory). */
struct lease_link *lease_link_new(void);
/* The mapping was made through d's lease. */
void lease_link_add(struct cap_dependents *d, struct lease_link *link, enum lease_kind kind, void *space,
                    void *mapping);
/* The mapping is going (unmap, its space's death, or its lease's end):
 * the link leaves its list and is freed. */
void lease_link_free(struct lease_link *link);

/* slot is being deleted: the steps above. signal = false skips the watch
 * (a cap_delete of the watched handle itself). Returns the mappings removed. */
uint64_t cap_dependents_end(struct cap_slot *slot, bool signal);
/* slot's capability moved to `to`: its record follows it. */
void cap_dependents_moved(struct cap_slot *from, struct cap_slot *to);

/* Sets (notification NULL: clears) slot's watch. 0 or -WD_E_*. */
int cap_watch_set(struct cap_slot *slot, struct notification *n, uint64_t bits, struct pool *pool);
/* ep just closed: signal every watch on a capability to it. */
void cap_watch_endpoint_closed(struct endpoint *ep);

/* Counters for wd_system_info. */
uint64_t lease_end_count(void);
uint64_t lease_mappings_removed_count(void);

#endif
