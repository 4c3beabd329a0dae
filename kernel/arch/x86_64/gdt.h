/*
 * gdt.h - segment selectors, the GDT and the TSS of each CPU.
 * The layout fits SYSCALL/SYSRET (STAR): user data sits at user-code-32 + 8
 * and user code 64 at user-code-32 + 16.
 */
#ifndef WARDEN_ARCH_GDT_H
#define WARDEN_ARCH_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_USER_CODE32 0x18
#define GDT_USER_DATA   0x20
#define GDT_USER_CODE   0x28
#define GDT_TSS         0x30

/* Interrupt stack table slots (TSS.IST1..IST3). */
enum ist_slot {
    IST_DOUBLE_FAULT = 1,
    IST_NMI = 2,
    IST_MACHINE_CHECK = 3,
};

/* Loads this CPU's GDT and TSS and reloads every segment register. */
void gdt_init(void);

/* The stack the CPU switches to on an interrupt from user mode (TSS.RSP0). */
void gdt_set_kernel_stack(uint64_t rsp0);

#endif
