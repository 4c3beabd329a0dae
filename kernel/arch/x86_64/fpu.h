/*
 * fpu.h - x87/SSE state of user threads. The kernel itself never uses
 * FPU or SSE registers (-mgeneral-regs-only), so each thread's state is
 * saved and restored eagerly at every context switch (FXSAVE/FXRSTOR).
 */
#ifndef WARDEN_ARCH_FPU_H
#define WARDEN_ARCH_FPU_H

#include <stdint.h>

#define FPU_STATE_BYTES 512
#define FPU_STATE_ALIGN 16

/* Enables FPU/SSE (CR0, CR4) and records the clean initial state. */
void fpu_init(void);
/* Copies the clean initial state into a thread's save area. */
void fpu_state_init(void *area);

static inline void fpu_save(void *area)
{
    __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static inline void fpu_restore(const void *area)
{
    __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

#endif
