/*
 * percpu.c - per-CPU setup for user mode on the boot CPU: GS points at the
 * CPU's struct percpu, the SYSCALL MSRs name syscall_entry, and the FPU/SSE
 * unit is enabled with a clean state every new thread starts from.
 */
#include "arch/x86_64/percpu.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/gdt.h"

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_FMASK 0xC0000084u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define EFER_SCE (1ull << 0)

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_AC (1ull << 18)

extern void syscall_entry(void);

static struct percpu boot_cpu_local;

void percpu_init_boot_cpu(void)
{
    boot_cpu_local.self = &boot_cpu_local;
    boot_cpu_local.cpu_index = 0;
    wrmsr(MSR_GS_BASE, (uint64_t)&boot_cpu_local);
    wrmsr(MSR_KERNEL_GS_BASE, 0);

    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* SYSCALL loads CS = 0x08; SYSRET loads CS = 0x18 + 16, SS = 0x18 + 8 (gdt.h). */
    wrmsr(MSR_STAR, ((uint64_t)GDT_USER_CODE32 << 48) | ((uint64_t)GDT_KERNEL_CODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC);

    fpu_init();
}
