/*
 * sched.h - the scheduler: preemptive priority round-robin on one CPU.
 *
 * 32 priorities (WD_PRIORITY_MAX = 31 highest), FIFO within a priority, a
 * time slice of SCHED_SLICE_TICKS scheduler ticks. The running thread is
 * not on a run queue. An idle thread (the boot context) runs when nothing
 * else can. The kernel is not preemptible: it runs with interrupts off,
 * which on one CPU is the single kernel lock (SMP will need a real one
 * around everything sched, IPC and capabilities touch).
 */
#ifndef WARDEN_SCHED_SCHED_H
#define WARDEN_SCHED_SCHED_H

#include <stdint.h>

#include "obj/thread.h"

#define SCHED_TICK_HZ 100
#define SCHED_SLICE_TICKS 2

/* Turns the boot context into this CPU's idle thread and starts the tick. */
void sched_init(void);

/* Makes t ready to run (appends to its priority's queue). */
void sched_ready(struct thread *t);
/* Removes t from its run queue if it is on one. */
void sched_unready(struct thread *t);
/* Picks the next thread and switches to it if it is not the current one.
 * A current thread still RUNNING is put back on its queue first. */
void schedule(void);
/* Switches straight to next (READY or blocked-and-woken, not queued); the
 * current thread must already be blocked or queued by the caller. */
void sched_switch_to(struct thread *next);
/* Preemption point on the way back to user mode. */
void sched_preempt_point(void);

/* The boot context becomes the idle loop; never returns. */
__attribute__((noreturn)) void sched_run_idle(void);

uint64_t sched_ticks(void);
uint64_t sched_context_switches(void);
/* TSC ticks this CPU spent halted (idle) since boot: under icount, CPU
 * work is elapsed TSC minus this. */
uint64_t sched_idle_tsc(void);

#endif
