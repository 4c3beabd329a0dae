/*
 * thread.c - creating, starting, stopping and reaping threads, and
 * turning user-mode faults into fault messages.
 */
#include "obj/thread.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"
#include "core/panic.h"
#include "core/printk.h"
#include "ipc/ipc.h"
#include "mm/kobj.h"
#include "mm/physmem.h"
#include "obj/pool.h"
#include "obj/process.h"
#include "sched/sched.h"

#include <string.h>
#include <warden/errors.h>
#include <warden/ipc.h>
#include <warden/types.h>

#define STACK_FRAMES (THREAD_KERNEL_STACK_BYTES / FRAME_SIZE)
#define USER_RFLAGS 0x202ull                /* IF set */

extern void thread_start_trampoline(void);

static struct kobj_cache thread_cache;
static bool cache_ready;
static uint64_t live_threads;
static struct thread idle_thread;

uint64_t thread_live_count(void) { return live_threads; }

uint64_t thread_stack_top(const struct thread *t)
{
    return (uint64_t)t->kernel_stack + THREAD_KERNEL_STACK_BYTES;
}

static void thread_timeout_fired(struct ktimer *timer)
{
    struct thread *t = (struct thread *)((char *)timer - __builtin_offsetof(struct thread, timeout));
    thread_wake(t, t->state == THREAD_SLEEPING ? 0 : -WD_E_TIMEOUT);
}

struct thread *thread_create_idle(void)
{
    idle_thread.state = THREAD_RUNNING;
    idle_thread.obj.type = WD_TYPE_THREAD;
    idle_thread.obj.refcount = 1;
    return &idle_thread;
}

struct thread *thread_create(struct pool *pool, struct process *process, uint64_t entry,
                             uint64_t stack, uint64_t arg, uint32_t priority, int *error)
{
    if (!cache_ready) {
        kobj_cache_init(&thread_cache, "thread", sizeof(struct thread));
        cache_ready = true;
    }
    uint64_t cost = pool_object_cost(sizeof(struct thread)) + THREAD_KERNEL_STACK_BYTES;
    if (!pool_charge(pool, cost)) {
        *error = WD_E_POOL_EXHAUSTED;
        return NULL;
    }
    struct thread *t = kobj_alloc(&thread_cache);
    uint64_t stack_phys = t ? physmem_alloc_contig(STACK_FRAMES, 1) : 0;
    if (!stack_phys) {
        if (t)
            kobj_free(&thread_cache, t);
        pool_uncharge(pool, cost);
        *error = WD_E_NO_MEMORY;
        return NULL;
    }
    kobject_init(&t->obj, WD_TYPE_THREAD, pool, cost);
    t->process = process;
    kobject_get(&process->obj);
    t->priority = priority;
    t->state = THREAD_DEAD;         /* until thread_start */
    t->kernel_stack = phys_to_virt(stack_phys);
    t->fpu_state = t->kernel_stack; /* FPU_STATE_BYTES at the (aligned) stack base */
    fpu_state_init(t->fpu_state);
    t->timeout.fire = thread_timeout_fired;
    t->fault_event.label = WD_LABEL_FAULT;

    struct trap_frame *f = (struct trap_frame *)(thread_stack_top(t) - sizeof(struct trap_frame));
    memset(f, 0, sizeof *f);
    f->rip = entry;
    f->rsp = stack;
    f->rdi = arg;
    f->cs = GDT_USER_CODE | 3;
    f->ss = GDT_USER_DATA | 3;
    f->rflags = USER_RFLAGS;
    t->frame = f;
    /* context_switch pops six callee-saved registers, then returns into the trampoline. */
    uint64_t *sp = (uint64_t *)f;
    *--sp = (uint64_t)thread_start_trampoline;
    for (int i = 0; i < 6; i++)
        *--sp = 0;
    t->kernel_rsp = (uint64_t)sp;

    t->process_next = process->threads;
    process->threads = t;
    process->live_threads++;
    live_threads++;
    return t;
}

void thread_start(struct thread *t)
{
    t->slice_left = SCHED_SLICE_TICKS;
    sched_ready(t);
}

void thread_wake(struct thread *t, int64_t result)
{
    ktimer_cancel(&t->timeout);
    if (t->state == THREAD_BLOCKED_SEND || t->state == THREAD_BLOCKED_RECV || t->state == THREAD_BLOCKED_NOTIFY)
        ipc_unblock(t);
    if (t->state == THREAD_BLOCKED_REPLY && t->reply_from) {
        t->reply_from->reply_to = NULL;
        t->reply_from = NULL;
    }
    t->send_cap_count = 0;
    t->ipc_result = result;
    sched_ready(t);
}

void thread_kill(struct thread *t)
{
    if (t->state == THREAD_DEAD)
        return;
    if (t->state == THREAD_READY)
        sched_unready(t);
    ktimer_cancel(&t->timeout);
    ipc_unblock(t);
    ipc_drop_reply_links(t);
    t->send_cap_count = 0;
    bool was_current = t == current_thread();
    t->state = THREAD_DEAD;
    live_threads--;
    if (!was_current && t->kernel_stack)
        thread_reap(t);             /* not running: its stack can go now */
}

void thread_reap(struct thread *t)
{
    KASSERT(t->state == THREAD_DEAD && t != current_thread());
    if (!t->kernel_stack)
        return;
    physmem_free_contig(virt_to_phys(t->kernel_stack), STACK_FRAMES);
    t->kernel_stack = NULL;
    t->frame = NULL;
    t->fpu_state = NULL;
    kobject_put(&t->obj);           /* the alive reference */
}

void thread_destroy(struct thread *t)
{
    KASSERT(t->state == THREAD_DEAD && !t->kernel_stack);
    kevent_cancel(&t->fault_event);
    struct process *p = t->process;
    for (struct thread **link = &p->threads; *link; link = &(*link)->process_next) {
        if (*link == t) {
            *link = t->process_next;
            break;
        }
    }
    kobj_free(&thread_cache, t);
    kobject_put(&p->obj);
}

bool thread_fault_recovered(struct trap_frame *f)
{
    struct thread *t = current_thread();
    if (f->vector != 14 || f->rip < t->fixup_start || f->rip >= t->fixup_end)
        return false;
    f->rax = read_cr2();
    f->rip = t->fixup_rip;
    return true;
}

void thread_fault(struct trap_frame *f)
{
    struct thread *t = current_thread();
    struct process *p = t->process;
    uint64_t address = f->vector == 14 ? read_cr2() : 0;
    printk("fault: process %llu thread %llu: %s (vector %llu) at RIP 0x%llx, address 0x%llx, error 0x%llx\n",
           (unsigned long long)p->obj.id, (unsigned long long)t->obj.id, exception_mnemonic(f->vector),
           (unsigned long long)f->vector, (unsigned long long)f->rip, (unsigned long long)address,
           (unsigned long long)f->error_code);
    struct kevent *ev = &t->fault_event;
    ev->badge = p->fault_badge;
    ev->nwords = 6;
    ev->words[0] = t->obj.id;
    ev->words[1] = f->vector;
    ev->words[2] = f->error_code;
    ev->words[3] = address;
    ev->words[4] = f->rip;
    ev->words[5] = p->obj.id;
    if (p->fault_endpoint) {
        t->state = THREAD_FAULTED;
        kevent_raise(p->fault_endpoint, ev);
        process_end_if_unreachable(p);      /* nobody left who could kill it */
    } else {
        printk("fault: process %llu has no fault endpoint; killing it\n", (unsigned long long)p->obj.id);
        process_terminate(p, WD_EXIT_KILLED, -(int64_t)f->vector);
    }
    schedule();
    panic("a faulted thread was scheduled again");
}
