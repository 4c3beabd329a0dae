/*
 * sched.c - run queues, thread switching and the scheduler tick.
 * Invariants: the current thread is on no run queue; a READY thread is on
 * exactly the queue of its priority; dead threads are reaped by the next
 * thread to run, never on their own stack.
 */
#include "sched/sched.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "core/panic.h"
#include "mm/kernel_vm.h"
#include "obj/process.h"

#include <warden/objects.h>

/* syscall_entry.asm */
void context_switch(uint64_t *save_rsp, uint64_t next_rsp);
void thread_first_run(void);

#define PRIORITY_LEVELS (WD_PRIORITY_MAX + 1)

static struct {
    struct thread_queue ready[PRIORITY_LEVELS];
    uint32_t nonempty;              /* bit p: ready[p] has threads */
    uint64_t ticks;
    uint64_t context_switches;
    struct thread *dead;            /* switched away from, waiting to be reaped */
} rq;

uint64_t sched_ticks(void) { return rq.ticks; }
uint64_t sched_context_switches(void) { return rq.context_switches; }

void sched_ready(struct thread *t)
{
    KASSERT(t->queue == NULL);
    t->state = THREAD_READY;
    thread_queue_push(&rq.ready[t->priority], t);
    rq.nonempty |= 1u << t->priority;
    struct thread *cur = current_thread();
    if (t->priority > cur->priority || cur == this_cpu()->idle)
        this_cpu()->need_resched = true;
}

void sched_unready(struct thread *t)
{
    if (t->state != THREAD_READY || !t->queue)
        return;
    thread_queue_remove(t);
    if (!rq.ready[t->priority].head)
        rq.nonempty &= ~(1u << t->priority);
}

static struct thread *take_next(void)
{
    if (!rq.nonempty)
        return this_cpu()->idle;
    unsigned p = 31 - (unsigned)__builtin_clz(rq.nonempty);
    struct thread *t = thread_queue_pop(&rq.ready[p]);
    if (!rq.ready[p].head)
        rq.nonempty &= ~(1u << p);
    return t;
}

static void reap_dead(void)
{
    while (rq.dead) {
        struct thread *t = rq.dead;
        rq.dead = t->dead_next;
        thread_reap(t);
    }
}

/* Called on a new thread's first run, right after the switch to it. */
void thread_first_run(void)
{
    reap_dead();
}

void sched_switch_to(struct thread *next)
{
    struct percpu *cpu = this_cpu();
    struct thread *prev = cpu->current;
    cpu->need_resched = false;
    if (next == prev) {
        next->state = THREAD_RUNNING;
        return;
    }
    rq.context_switches++;
    uint64_t now = rdtsc();
    if (prev->process)
        prev->process->cpu_tsc += now - cpu->switched_at;
    cpu->switched_at = now;
    next->state = THREAD_RUNNING;
    next->slice_left = SCHED_SLICE_TICKS;
    cpu->current = next;
    if (prev->process)
        fpu_save(prev->fpu_state);
    if (next->process) {
        uint64_t top = thread_stack_top(next);
        cpu->kernel_rsp = top;
        gdt_set_kernel_stack(top);
        fpu_restore(next->fpu_state);
        if (!prev->process || prev->process != next->process)
            write_cr3(next->process->vm.pml4_phys);
    } else if (read_cr3() != kernel_vm_pml4()) {
        write_cr3(kernel_vm_pml4());
    }
    if (prev->state == THREAD_DEAD) {
        prev->dead_next = rq.dead;
        rq.dead = prev;
    }
    context_switch(&prev->kernel_rsp, next->kernel_rsp);
    reap_dead();
}

void schedule(void)
{
    struct thread *cur = current_thread();
    if (cur->state == THREAD_RUNNING && cur != this_cpu()->idle)
        sched_ready(cur);
    sched_switch_to(take_next());
}

void sched_preempt_point(void)
{
    if (this_cpu()->need_resched)
        schedule();
}

static void sched_tick(void)
{
    rq.ticks++;
    ktimer_tick(rq.ticks);
    struct thread *cur = current_thread();
    if (cur == this_cpu()->idle) {
        if (rq.nonempty)
            this_cpu()->need_resched = true;
        return;
    }
    if (cur->slice_left > 0)
        cur->slice_left--;
    if (cur->slice_left == 0 && (rq.nonempty >> cur->priority))
        this_cpu()->need_resched = true;
}

void sched_init(void)
{
    struct percpu *cpu = this_cpu();
    cpu->idle = thread_create_idle();
    cpu->current = cpu->idle;
    timer_set_tick_hook(sched_tick);
}

void sched_run_idle(void)
{
    for (;;) {
        if (this_cpu()->need_resched || rq.nonempty)
            schedule();
        struct percpu *cpu = this_cpu();
        cpu->idle_since = rdtsc();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        if (cpu->idle_since) {      /* no interrupt ended it (trap_dispatch would have) */
            cpu->idle_tsc += rdtsc() - cpu->idle_since;
            cpu->idle_since = 0;
        }
    }
}

uint64_t sched_idle_tsc(void)
{
    return this_cpu()->idle_tsc;
}
