/*
 * fpu.c - enabling x87/SSE and the clean state new threads start with.
 */
#include "arch/x86_64/fpu.h"

#include "arch/x86_64/cpu.h"

#include <string.h>

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)

static uint8_t initial_state[FPU_STATE_BYTES] __attribute__((aligned(FPU_STATE_ALIGN)));

static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }

void fpu_init(void)
{
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    uint32_t mxcsr = 0x1F80;        /* all SIMD exceptions masked, round to nearest */
    __asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
    fpu_save(initial_state);
}

void fpu_state_init(void *area)
{
    memcpy(area, initial_state, FPU_STATE_BYTES);
}
