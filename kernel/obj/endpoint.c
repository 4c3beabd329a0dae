/*
 * endpoint.c - endpoint objects, thread queues and kernel events.
 * Invariants: a thread is on at most one queue (t->queue says which); a
 * kevent is on at most one endpoint's event list, at most once.
 */
#include "obj/endpoint.h"

#include "cap/dependents.h"
#include "core/panic.h"
#include "ipc/ipc.h"
#include "mm/kobj.h"
#include "obj/pool.h"
#include "obj/thread.h"
#include "sched/sched.h"

#include <warden/errors.h>
#include <warden/ipc.h>

static struct kobj_cache endpoint_cache;
static bool cache_ready;

void thread_queue_push(struct thread_queue *q, struct thread *t)
{
    KASSERT(!t->queue);
    t->queue_next = NULL;
    if (q->tail)
        q->tail->queue_next = t;
    else
        q->head = t;
    q->tail = t;
    t->queue = q;
}

struct thread *thread_queue_pop(struct thread_queue *q)
{
    struct thread *t = q->head;
    if (!t)
        return NULL;
    q->head = t->queue_next;
    if (!q->head)
        q->tail = NULL;
    t->queue_next = NULL;
    t->queue = NULL;
    return t;
}

void thread_queue_remove(struct thread *t)
{
    struct thread_queue *q = t->queue;
    if (!q)
        return;
    struct thread *prev = NULL;
    for (struct thread *c = q->head; c; prev = c, c = c->queue_next) {
        if (c != t)
            continue;
        if (prev)
            prev->queue_next = c->queue_next;
        else
            q->head = c->queue_next;
        if (q->tail == c)
            q->tail = prev;
        break;
    }
    t->queue_next = NULL;
    t->queue = NULL;
}

static void endpoint_timer_fired(struct ktimer *timer)
{
    struct endpoint *ep = (struct endpoint *)((char *)timer - __builtin_offsetof(struct endpoint, timer));
    ep->timer_event.nwords = 1;
    ep->timer_event.words[0] = sched_ticks() * (1000000000ull / SCHED_TICK_HZ);
    kevent_raise(ep, &ep->timer_event);
}

struct endpoint *endpoint_create(struct pool *pool, int *error)
{
    if (!cache_ready) {
        kobj_cache_init(&endpoint_cache, "endpoint", sizeof(struct endpoint));
        cache_ready = true;
    }
    uint64_t cost = pool_object_cost(sizeof(struct endpoint));
    if (!pool_charge(pool, cost)) {
        *error = WD_E_POOL_EXHAUSTED;
        return NULL;
    }
    struct endpoint *ep = kobj_alloc(&endpoint_cache);
    if (!ep) {
        pool_uncharge(pool, cost);
        *error = WD_E_NO_MEMORY;
        return NULL;
    }
    kobject_init(&ep->obj, WD_TYPE_ENDPOINT, pool, cost);
    ep->timer_event.label = WD_LABEL_TIMER;
    ep->timer.fire = endpoint_timer_fired;
    return ep;
}

void endpoint_destroy(struct endpoint *ep)
{
    /* Blocked threads hold references, so both queues are empty here. */
    KASSERT(!ep->senders.head && !ep->receivers.head);
    KASSERT(!ep->close_watchers);   /* each watch is on a capability, which holds a reference */
    ktimer_cancel(&ep->timer);
    while (ep->events_head)
        kevent_cancel(ep->events_head);
    kobj_free(&endpoint_cache, ep);
}

void endpoint_receive_cap_added(struct endpoint *ep)
{
    ep->receive_caps++;
}

void endpoint_receive_cap_removed(struct endpoint *ep)
{
    KASSERT(ep->receive_caps > 0);
    if (--ep->receive_caps > 0)
        return;
    ep->closed = true;
    struct thread *t;
    while ((t = ep->senders.head) || (t = ep->receivers.head))
        thread_wake(t, -WD_E_DEAD);     /* unblocks it: drops its reference, not ours */
    cap_watch_endpoint_closed(ep);
}

void endpoint_set_timer(struct endpoint *ep, uint64_t badge, uint64_t ns)
{
    ktimer_cancel(&ep->timer);
    if (ns == UINT64_MAX)
        return;
    ep->timer_event.badge = badge;
    ktimer_arm(&ep->timer, ns);
}

void kevent_raise(struct endpoint *ep, struct kevent *ev)
{
    kevent_raise_count(ep, ev, 1);
}

void kevent_raise_count(struct endpoint *ep, struct kevent *ev, uint64_t n)
{
    ev->count += n;
    if (ev->queued_on)
        return;
    ev->queued_on = ep;
    ev->next = NULL;
    if (ep->events_tail)
        ep->events_tail->next = ev;
    else
        ep->events_head = ev;
    ep->events_tail = ev;
    struct thread *receiver = thread_queue_pop(&ep->receivers);
    if (receiver)
        ipc_deliver_event_to_waiting(receiver, ep);
}

void kevent_cancel(struct kevent *ev)
{
    struct endpoint *ep = ev->queued_on;
    if (!ep)
        return;
    struct kevent *prev = NULL;
    for (struct kevent *c = ep->events_head; c; prev = c, c = c->next) {
        if (c != ev)
            continue;
        if (prev)
            prev->next = c->next;
        else
            ep->events_head = c->next;
        if (ep->events_tail == c)
            ep->events_tail = prev;
        break;
    }
    ev->next = NULL;
    ev->queued_on = NULL;
}

struct kevent *endpoint_take_event(struct endpoint *ep)
{
    struct kevent *ev = ep->events_head;
    if (ev)
        kevent_cancel(ev);
    return ev;
}
