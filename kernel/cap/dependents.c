/*
 * dependents.c - leases and watches (see dependents.h): the records, the
 * end of a lease in its safe order, and watch signals (on deletion, and on
 * an endpoint's close).
 */
#include "cap/dependents.h"

#include "cap/cspace.h"
#include "core/panic.h"
#include "mm/kobj.h"
#include "mm/vmspace.h"
#include "obj/dmaspace.h"
#include "obj/endpoint.h"
#include "obj/notification.h"
#include "obj/pool.h"
#include "obj/process.h"
#include "obj/revoke.h"

#include <string.h>
#include <warden/errors.h>
#include <warden/objects.h>
#include <warden/rights.h>

static uint64_t lease_ends, mappings_removed;

uint64_t lease_end_count(void) { return lease_ends; }
uint64_t lease_mappings_removed_count(void) { return mappings_removed; }

static uint64_t record_cost(void)
{
    return pool_object_cost(sizeof(struct cap_dependents));
}

int cap_dependents_get(struct cap_slot *slot, struct pool *pool, struct cap_dependents **out)
{
    if (slot->dependents) {
        *out = slot->dependents;
        return 0;
    }
    if (!pool_charge(pool, record_cost()))
        return -WD_E_POOL_EXHAUSTED;
    struct cap_dependents *d = kmalloc(sizeof *d);
    if (!d) {
        pool_uncharge(pool, record_cost());
        return -WD_E_NO_MEMORY;
    }
    memset(d, 0, sizeof *d);
    d->slot = slot;
    d->pool = pool;
    kobject_get(&pool->obj);
    slot->dependents = d;
    *out = d;
    return 0;
}

static void close_list_remove(struct cap_dependents *d)
{
    struct endpoint *ep = d->watched_endpoint;
    if (!ep)
        return;
    if (d->close_prev)
        d->close_prev->close_next = d->close_next;
    else
        ep->close_watchers = d->close_next;
    if (d->close_next)
        d->close_next->close_prev = d->close_prev;
    d->close_next = d->close_prev = NULL;
    d->watched_endpoint = NULL;
}

static void drop_watch(struct cap_dependents *d)
{
    close_list_remove(d);
    if (d->watch)
        kobject_put(&d->watch->obj);
    d->watch = NULL;
    d->watch_bits = 0;
}

static void free_record(struct cap_dependents *d)
{
    KASSERT(!d->mappings && !d->watch);
    d->slot->dependents = NULL;
    struct pool *pool = d->pool;
    kfree(d);
    pool_uncharge(pool, record_cost());
    kobject_put(&pool->obj);
}

void cap_dependents_put_if_unused(struct cap_slot *slot)
{
    struct cap_dependents *d = slot->dependents;
    if (d && !d->mappings && !d->watch)
        free_record(d);
}

uint64_t lease_link_cost(void)
{
    return pool_object_cost(sizeof(struct lease_link));
}

struct lease_link *lease_link_new(void)
{
    struct lease_link *link = kmalloc(sizeof *link);
    if (link)
        memset(link, 0, sizeof *link);
    return link;
}

void lease_link_add(struct cap_dependents *d, struct lease_link *link, enum lease_kind kind, void *space,
                    void *mapping)
{
    link->owner = d;
    link->kind = kind;
    link->space = space;
    link->mapping = mapping;
    link->prev = NULL;
    link->next = d->mappings;
    if (d->mappings)
        d->mappings->prev = link;
    d->mappings = link;
    d->mapping_count++;
}

static void lease_link_remove(struct lease_link *link)
{
    struct cap_dependents *d = link->owner;
    if (!d)
        return;
    if (link->prev)
        link->prev->next = link->next;
    else
        d->mappings = link->next;
    if (link->next)
        link->next->prev = link->prev;
    link->next = link->prev = NULL;
    link->owner = NULL;
    d->mapping_count--;
}

void lease_link_free(struct lease_link *link)
{
    lease_link_remove(link);
    kfree(link);
}

uint64_t cap_dependents_end(struct cap_slot *slot, bool signal)
{
    struct cap_dependents *d = slot->dependents;
    if (!d)
        return 0;
    uint64_t removed = d->mapping_count;
    if (d->mappings) {
        struct process *holder = slot->cspace->owner;
        revoke_begin(holder->obj.id);
        /* 1: no device can reach the memory once this loop is done. */
        bool flushed = false;
        for (struct lease_link *l = d->mappings; l; l = l->next)
            if (l->kind == LEASE_DMA)
                flushed |= dmaspace_lease_clear(l->space, l->mapping);
        if (flushed)
            revoke_note_flush();
        /* 2 and 3: records removed, frame references dropped. */
        while (d->mappings) {
            struct lease_link *l = d->mappings;     /* freed with its mapping */
            if (l->kind == LEASE_DMA)
                dmaspace_lease_remove(l->space, l->mapping);
            else
                vmspace_lease_remove(l->space, l->mapping);
        }
        lease_ends++;
        mappings_removed += removed;
    }
    /* 4: the holder learns once everything above is done. */
    if (signal && d->watch)
        notification_signal(d->watch, d->watch_bits);
    drop_watch(d);
    free_record(d);
    return removed;
}

void cap_dependents_moved(struct cap_slot *from, struct cap_slot *to)
{
    struct cap_dependents *d = from->dependents;
    from->dependents = NULL;
    to->dependents = d;
    if (d)
        d->slot = to;
}

int cap_watch_set(struct cap_slot *slot, struct notification *n, uint64_t bits, struct pool *pool)
{
    if (!n) {
        if (slot->dependents) {
            drop_watch(slot->dependents);
            cap_dependents_put_if_unused(slot);
        }
        return 0;
    }
    struct cap_dependents *d;
    int r = cap_dependents_get(slot, pool, &d);
    if (r)
        return r;
    drop_watch(d);
    kobject_get(&n->obj);
    d->watch = n;
    d->watch_bits = bits;
    if (slot->object->type != WD_TYPE_ENDPOINT)
        return 0;
    struct endpoint *ep = (struct endpoint *)slot->object;
    if (ep->closed) {
        notification_signal(n, bits);       /* it already happened; the watch is spent */
        drop_watch(d);
        cap_dependents_put_if_unused(slot);
        return 0;
    }
    d->watched_endpoint = ep;
    d->close_prev = NULL;
    d->close_next = ep->close_watchers;
    if (ep->close_watchers)
        ep->close_watchers->close_prev = d;
    ep->close_watchers = d;
    return 0;
}

/* A watch fires once: after the close it is spent (the capability's later
 * deletion does not fire it again). */
void cap_watch_endpoint_closed(struct endpoint *ep)
{
    while (ep->close_watchers) {
        struct cap_dependents *d = ep->close_watchers;
        notification_signal(d->watch, d->watch_bits);
        drop_watch(d);
        cap_dependents_put_if_unused(d->slot);
    }
}
