/*
 * process.c - process creation, death and destruction (see process.h).
 * Death order: stop threads, delete capabilities, unmap memory, then tell
 * the supervisor. The current thread, if it belongs to the dying process,
 * is marked dead and the caller schedules away afterwards; the address
 * space is switched to the kernel's before it is freed.
 */
#include "obj/process.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "core/panic.h"
#include "core/printk.h"
#include "core/user_boot.h"
#include "mm/kernel_vm.h"
#include "mm/kobj.h"
#include "obj/pool.h"
#include "obj/revoke.h"
#include "obj/thread.h"

#include <warden/errors.h>
#include <warden/ipc.h>

static struct kobj_cache process_cache;
static bool cache_ready;
static uint64_t live_processes;

static struct process *all_head, *all_tail;

uint64_t process_live_count(void) { return live_processes; }

struct process *process_at(unsigned index)
{
    struct process *p = all_head;
    while (p && index--)
        p = p->all_next;
    return p;
}

struct process *process_by_id(uint64_t pid)
{
    for (struct process *p = all_head; p; p = p->all_next)
        if (p->obj.id == pid)
            return p;
    return NULL;
}

struct process *process_create(struct pool *pool, struct endpoint *fault_endpoint,
                               uint64_t fault_badge, int *error)
{
    if (!cache_ready) {
        kobj_cache_init(&process_cache, "process", sizeof(struct process));
        cache_ready = true;
    }
    uint64_t cost = pool_object_cost(sizeof(struct process)) + cspace_cost();
    if (!pool_charge(pool, cost)) {
        *error = WD_E_POOL_EXHAUSTED;
        return NULL;
    }
    struct process *p = kobj_alloc(&process_cache);
    if (!p || !cspace_init(&p->cspace, p)) {
        if (p)
            kobj_free(&process_cache, p);
        pool_uncharge(pool, cost);
        *error = WD_E_NO_MEMORY;
        return NULL;
    }
    int r = vmspace_init(&p->vm, pool);
    if (r) {
        cspace_destroy(&p->cspace);
        kobj_free(&process_cache, p);
        pool_uncharge(pool, cost);
        *error = -r;
        return NULL;
    }
    kobject_init(&p->obj, WD_TYPE_PROCESS, pool, cost);
    p->pool = pool;
    p->fault_endpoint = fault_endpoint;
    p->fault_badge = fault_badge;
    if (fault_endpoint)
        kobject_get(&fault_endpoint->obj);
    p->exit_event.label = WD_LABEL_EXIT;
    p->all_prev = all_tail;
    if (all_tail)
        all_tail->all_next = p;
    else
        all_head = p;
    all_tail = p;
    live_processes++;
    return p;
}

void process_terminate(struct process *p, int reason, int64_t status)
{
    if (p->dead)
        return;
    p->dead = true;
    p->exit_status = status;
    kobject_get(&p->obj);           /* deleting its capabilities must not free it under us */
    for (struct thread *t = p->threads, *next; t; t = next) {
        next = t->process_next;     /* killing may free t (reaped, no capability left) */
        thread_kill(t);
    }
    p->live_threads = 0;
    if (current_thread()->process == p)
        write_cr3(kernel_vm_pml4());
    struct revoke_summary revoked;
    revoke_owned_devices(p, &revoked);  /* devices silenced and detached, flushes waited for... */
    cspace_destroy(&p->cspace);         /* ...before any frame goes back to a pool */
    vmspace_destroy(&p->vm);
    live_processes--;
    printk("process %llu exited (%s, status %lld)\n", (unsigned long long)p->obj.id,
           reason == WD_EXIT_KILLED ? "killed" : "exit", (long long)status);
    user_boot_process_died(p, status);
    if (p->fault_endpoint) {
        struct kevent *ev = &p->exit_event;
        ev->badge = p->fault_badge;
        ev->nwords = 7;
        ev->words[0] = p->obj.id;
        ev->words[1] = (uint64_t)status;
        ev->words[2] = (uint64_t)reason;
        revoke_summary_words(&revoked, &ev->words[3]);
        kevent_raise(p->fault_endpoint, ev);
    }
    kobject_put(&p->obj);
}

void process_holder_added(struct process *p)
{
    p->holders++;
}

void process_holder_removed(struct process *p)
{
    KASSERT(p->holders > 0);
    if (--p->holders == 0)
        process_end_if_unreachable(p);
}

/* When nobody else holds p and every live thread of p is stopped on a
 * fault: its first faulted thread (its vector is p's exit status); else NULL. */
static struct thread *unreachable_fault(struct process *p)
{
    if (p->dead || p->holders)
        return NULL;
    struct thread *faulted = NULL;
    for (struct thread *t = p->threads; t; t = t->process_next) {
        if (t->state == THREAD_FAULTED && !faulted)
            faulted = t;
        else if (t->state != THREAD_FAULTED && t->state != THREAD_DEAD)
            return NULL;
    }
    return faulted;
}

static struct process *ending;      /* unreachable, queued behind the one ending now */
static bool ending_now;

void process_end_if_unreachable(struct process *p)
{
    if (p->ending || !unreachable_fault(p))
        return;
    kobject_get(&p->obj);           /* the queue's reference */
    p->ending = true;
    p->ending_next = ending;
    ending = p;
    if (ending_now)
        return;                     /* the loop below, further up the stack, ends it */
    ending_now = true;
    while (ending) {
        struct process *next = ending;
        ending = next->ending_next;
        struct thread *faulted = unreachable_fault(next);
        if (faulted) {
            printk("process %llu: every thread is stopped on a fault and no other process holds it; ending it\n",
                   (unsigned long long)next->obj.id);
            process_terminate(next, WD_EXIT_KILLED, -(int64_t)faulted->fault_event.words[1]);   /* the vector */
        }
        next->ending = false;
        kobject_put(&next->obj);
    }
    ending_now = false;
}

void process_thread_ended(struct process *p)
{
    if (p->live_threads > 0 && --p->live_threads == 0)
        process_terminate(p, WD_EXIT_NORMAL, 0);
}

void process_destroy(struct process *p)
{
    /* Never terminated (it never had a thread): clean up now, silently. */
    if (!p->dead) {
        p->dead = true;
        cspace_destroy(&p->cspace);
        vmspace_destroy(&p->vm);
        live_processes--;
    }
    kevent_cancel(&p->exit_event);
    kevent_cancel(&p->revoke_event);
    if (p->fault_endpoint)
        kobject_put(&p->fault_endpoint->obj);
    if (p->all_prev)
        p->all_prev->all_next = p->all_next;
    else
        all_head = p->all_next;
    if (p->all_next)
        p->all_next->all_prev = p->all_prev;
    else
        all_tail = p->all_prev;
    kobj_free(&process_cache, p);
}
