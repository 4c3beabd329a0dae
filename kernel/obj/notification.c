/*
 * notification.c - notification objects (see notification.h): signal,
 * take, wait, bind, and the bound message that takes the word when it is
 * delivered, so a receiver sees the bits of every signal before it.
 */
#include "obj/notification.h"

#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "core/panic.h"
#include "mm/kobj.h"
#include "obj/pool.h"
#include "obj/thread.h"
#include "sched/sched.h"

#include <warden/errors.h>
#include <warden/ipc.h>
#include <warden/objects.h>

static struct kobj_cache notification_cache;
static bool cache_ready;
static uint64_t signals, wakeups;

uint64_t notification_signal_count(void) { return signals; }
uint64_t notification_wakeup_count(void) { return wakeups; }

static struct notification *notification_of_event(struct kevent *ev)
{
    return (struct notification *)((char *)ev - __builtin_offsetof(struct notification, event));
}

/* The bound message is being delivered (it is off the endpoint's list):
 * it carries the word, which is taken, and the time (a receiver that
 * keeps timers needs no clock call for it). */
static void event_delivering(struct kevent *ev)
{
    struct notification *n = notification_of_event(ev);
    ev->nwords = 2;
    ev->words[0] = n->word;
    ev->words[1] = time_now_ns();
    n->word = 0;
    wakeups++;
}

struct notification *notification_create(struct pool *pool, int *error)
{
    if (!cache_ready) {
        kobj_cache_init(&notification_cache, "notification", sizeof(struct notification));
        cache_ready = true;
    }
    uint64_t cost = pool_object_cost(sizeof(struct notification));
    if (!pool_charge(pool, cost)) {
        *error = WD_E_POOL_EXHAUSTED;
        return NULL;
    }
    struct notification *n = kobj_alloc(&notification_cache);
    if (!n) {
        pool_uncharge(pool, cost);
        *error = WD_E_NO_MEMORY;
        return NULL;
    }
    kobject_init(&n->obj, WD_TYPE_NOTIFICATION, pool, cost);
    n->event.label = WD_LABEL_NOTIFY;
    n->event.delivering = event_delivering;
    return n;
}

void notification_destroy(struct notification *n)
{
    KASSERT(!n->waiters.head);      /* waiters hold references */
    notification_bind(n, NULL, 0);
    kobj_free(&notification_cache, n);
}

int64_t notification_signal_bits(uint64_t badge, uint64_t bits)
{
    if (bits == 0)
        bits = badge;
    else if (badge && (bits & ~badge))
        return -WD_E_NO_RIGHTS;
    if (bits == 0 || (bits & ~WD_NOTIFY_BITS))
        return -WD_E_INVALID_ARG;
    return (int64_t)bits;
}

static void wake_waiter(struct notification *n, struct thread *t, int64_t result)
{
    t->blocked_on = NULL;
    ktimer_cancel(&t->timeout);
    t->ipc_result = result;
    sched_ready(t);
    kobject_put(&n->obj);           /* the waiter's reference; a capability or signaller keeps n */
}

void notification_signal(struct notification *n, uint64_t bits)
{
    signals++;
    n->word |= bits;
    struct thread *t = thread_queue_pop(&n->waiters);
    if (t) {
        uint64_t word = n->word;
        n->word = 0;
        wakeups++;
        kevent_cancel(&n->event);
        wake_waiter(n, t, (int64_t)word);
        return;
    }
    if (n->bound)
        kevent_raise(n->bound, &n->event);  /* coalesces; the word travels at delivery */
    else
        n->event.count++;                   /* the count a bind will deliver */
}

uint64_t notification_take(struct notification *n)
{
    uint64_t word = n->word;
    n->word = 0;
    kevent_cancel(&n->event);
    n->event.count = 0;
    return word;
}

int64_t notification_wait(struct notification *n, uint64_t timeout)
{
    struct thread *t = current_thread();
    kobject_get(&n->obj);
    t->blocked_on = &n->obj;
    thread_queue_push(&n->waiters, t);
    t->state = THREAD_BLOCKED_NOTIFY;
    if (timeout != WD_FOREVER)
        ktimer_arm(&t->timeout, timeout);
    schedule();
    return t->ipc_result;
}

void notification_bind(struct notification *n, struct endpoint *ep, uint64_t badge)
{
    kevent_cancel(&n->event);       /* the count of signals not yet taken stays */
    if (n->bound)
        kobject_put(&n->bound->obj);
    n->bound = ep;
    n->event.badge = badge;
    if (!ep)
        return;
    kobject_get(&ep->obj);
    if (n->word)
        kevent_raise_count(ep, &n->event, 0);
}

void notification_receive_cap_added(struct notification *n)
{
    n->receive_caps++;
}

void notification_receive_cap_removed(struct notification *n)
{
    KASSERT(n->receive_caps > 0);
    if (--n->receive_caps > 0)
        return;
    struct thread *t;
    while ((t = n->waiters.head))
        thread_wake(t, -WD_E_DEAD);     /* unblocks it: drops its reference */
}
