/*
 * percpu.h - data each CPU owns, reached through GS in the kernel.
 *
 * GS_BASE points at this CPU's struct percpu while the kernel runs; user
 * GS lives in KERNEL_GS_BASE and entry paths swap them (swapgs). The first
 * fields are read by syscall_entry.asm at fixed offsets (PERCPU_* below).
 * Warden runs on one CPU today; everything that SMP will have to split or
 * lock is here or under the kernel lock described in docs/architecture.md.
 */
#ifndef WARDEN_ARCH_PERCPU_H
#define WARDEN_ARCH_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#define PERCPU_SELF 0
#define PERCPU_KERNEL_RSP 8
#define PERCPU_USER_RSP 16

struct thread;

struct percpu {
    struct percpu *self;            /* PERCPU_SELF */
    uint64_t kernel_rsp;            /* PERCPU_KERNEL_RSP: top of the current thread's kernel stack */
    uint64_t user_rsp;              /* PERCPU_USER_RSP: scratch for syscall entry */
    struct thread *current;
    struct thread *idle;
    bool need_resched;
    uint32_t cpu_index;
    uint64_t switched_at;           /* TSC at the last context switch: the current process is charged from it */
    uint64_t idle_since;            /* TSC at hlt, 0 when not idle (sched_run_idle, trap_dispatch) */
    uint64_t idle_tsc;              /* TSC ticks spent halted since boot */
};

void percpu_init_boot_cpu(void);

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

static inline struct thread *current_thread(void)
{
    return this_cpu()->current;
}

#endif
