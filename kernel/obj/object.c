/*
 * object.c - reference counting and destruction of kernel objects. Each
 * type's destroy function releases what the object holds; this file then
 * returns the object's charge to its pool and drops the pool reference.
 */
#include "obj/object.h"

#include "cap/cspace.h"
#include "core/panic.h"
#include "obj/dmaspace.h"
#include "obj/endpoint.h"
#include "obj/frame_object.h"
#include "obj/irq.h"
#include "obj/notification.h"
#include "obj/pool.h"
#include "obj/process.h"
#include "obj/revoke.h"
#include "obj/thread.h"

#include <warden/errors.h>

static uint64_t next_object_id = 1;
static uint64_t live_objects;

void kobject_init(struct kobject *o, uint32_t type, struct pool *pool, uint64_t charge)
{
    o->type = type;
    o->refcount = 1;
    o->id = next_object_id++;
    o->pool = pool;
    o->charge = charge;
    if (pool)
        kobject_get(&pool->obj);
    live_objects++;
}

void kobject_get(struct kobject *o)
{
    KASSERT(o->refcount > 0);
    o->refcount++;
}

static void destroy(struct kobject *o)
{
    struct pool *pool = o->pool;
    uint64_t charge = o->charge;
    switch (o->type) {
    case WD_TYPE_PROCESS: process_destroy((struct process *)o); break;
    case WD_TYPE_THREAD: thread_destroy((struct thread *)o); break;
    case WD_TYPE_ENDPOINT: endpoint_destroy((struct endpoint *)o); break;
    case WD_TYPE_POOL: pool_destroy((struct pool *)o); break;
    case WD_TYPE_FRAME: frame_object_destroy((struct frame_object *)o); break;
    case WD_TYPE_DMASPACE: dmaspace_destroy((struct dmaspace *)o); break;
    case WD_TYPE_IRQ: irq_destroy((struct irq *)o); break;
    case WD_TYPE_NOTIFICATION: notification_destroy((struct notification *)o); break;
    /* Devices and the device root live forever: the kernel holds their first reference. */
    default: panic("kobject_put: object %p has unknown type %u", (void *)o, o->type);
    }
    live_objects--;
    if (pool) {
        pool_uncharge(pool, charge);
        kobject_put(&pool->obj);
    }
}

static struct kobject *doomed;      /* last reference gone while another was being destroyed */
static bool destroying;

void kobject_put(struct kobject *o)
{
    KASSERT(o->refcount > 0);
    if (--o->refcount > 0)
        return;
    o->doomed_next = doomed;
    doomed = o;
    if (destroying)
        return;                     /* the outermost kobject_put's loop destroys it */
    destroying = true;
    while (doomed) {
        struct kobject *next = doomed;
        doomed = next->doomed_next;
        destroy(next);
    }
    destroying = false;
}

void kobject_track_cap_added(struct kobject *o, uint32_t rights)
{
    if (o->type == WD_TYPE_ENDPOINT && (rights & WD_RIGHT_RECV))
        endpoint_receive_cap_added((struct endpoint *)o);
    else if (o->type == WD_TYPE_NOTIFICATION && (rights & WD_RIGHT_RECV))
        notification_receive_cap_added((struct notification *)o);
}

/* Threads of holder waiting in q (on o) wake with DEAD once holder has no
 * capability left that lets it receive from o: a revoked capability must
 * not leave a thread blocked on the object, taking what comes next. */
static void evict_waiters_without_right(struct thread_queue *q, struct process *holder, const struct kobject *o)
{
    if (!holder || holder->dead)
        return;
    bool waits = false;
    for (struct thread *t = q->head; t && !waits; t = t->queue_next)
        waits = t->process == holder;
    if (!waits || cspace_holds_rights(&holder->cspace, o, WD_RIGHT_RECV))
        return;
    for (struct thread *t = q->head, *next; t; t = next) {
        next = t->queue_next;
        if (t->process == holder)
            thread_wake(t, -WD_E_DEAD);     /* takes it off q */
    }
}

void kobject_track_cap_removed(struct kobject *o, uint32_t rights, struct process *holder, bool moved)
{
    if (o->type == WD_TYPE_ENDPOINT && (rights & WD_RIGHT_RECV)) {
        struct endpoint *ep = (struct endpoint *)o;
        if (!moved)
            endpoint_receive_cap_removed(ep);
        evict_waiters_without_right(&ep->receivers, holder, o);
    } else if (o->type == WD_TYPE_NOTIFICATION && (rights & WD_RIGHT_RECV)) {
        struct notification *n = (struct notification *)o;
        if (!moved)
            notification_receive_cap_removed(n);
        evict_waiters_without_right(&n->waiters, holder, o);
    } else if (o->type == WD_TYPE_DEVICE) {
        revoke_device_cap_lost((struct device *)o, holder);
    }
}

uint64_t kobject_live_count(void)
{
    return live_objects;
}

const char *kobject_type_name(uint32_t type)
{
    static const char *const names[WD_TYPE_COUNT] = {
        "none", "process", "thread", "endpoint", "pool", "frame", "device", "dmaspace", "device root", "irq",
        "notification", "console", "inspector",
    };
    return type < WD_TYPE_COUNT ? names[type] : "?";
}
