/*
 * trap.h - what the CPU and trap_entry.asm leave on the stack, the IDT,
 * and how device/timer interrupts are routed to handlers.
 *
 * Vector plan (vectors.h would be one line each, so they live here):
 *   0..31     CPU exceptions
 *   0x20..2F  legacy 8259 PIC, remapped and fully masked (only spurious)
 *   0x30      LAPIC timer
 *   0x38      IOMMU fault events (iommu/vtd.h)
 *   0x40..EF  device interrupts, one per irq object (obj/irq.h)
 *   0xFF      LAPIC spurious
 */
#ifndef WARDEN_ARCH_TRAP_H
#define WARDEN_ARCH_TRAP_H

#include <stdbool.h>
#include <stdint.h>

#define VECTOR_PIC_BASE 0x20
#define VECTOR_LAPIC_TIMER 0x30
#define VECTOR_LAPIC_SPURIOUS 0xFF

enum exception_vector {
    EXC_DIVIDE = 0, EXC_DEBUG = 1, EXC_NMI = 2, EXC_BREAKPOINT = 3,
    EXC_OVERFLOW = 4, EXC_BOUND = 5, EXC_INVALID_OPCODE = 6, EXC_NO_FPU = 7,
    EXC_DOUBLE_FAULT = 8, EXC_INVALID_TSS = 10, EXC_SEGMENT_NOT_PRESENT = 11,
    EXC_STACK_FAULT = 12, EXC_GENERAL_PROTECTION = 13, EXC_PAGE_FAULT = 14,
    EXC_X87 = 16, EXC_ALIGNMENT = 17, EXC_MACHINE_CHECK = 18, EXC_SIMD = 19,
    EXC_VIRTUALIZATION = 20, EXC_CONTROL_PROTECTION = 21,
};

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;      /* pushed by the CPU */
};

typedef void (*interrupt_handler)(struct trap_frame *frame);

void idt_init(void);

/* Routes `vector` (>= 32) to handler. The handler sends its own EOI. */
void interrupt_register(uint8_t vector, interrupt_handler handler);

/* C entry from trap_entry.asm. */
void trap_dispatch(struct trap_frame *frame);

/* Counters the boot tests (and later a stats call) read. */
/* trap_entry.asm adds this to the vector of an interrupt that came on an
 * exception vector with an error code (the CPU pushed none). */
#define FORGED_VECTOR_FLAG 0x100u

struct trap_counters {
    uint64_t breakpoints;
    uint64_t last_breakpoint_rip;   /* RIP after the int3 */
    uint64_t exception_fixups;      /* faults recovered through .extable */
    uint64_t spurious_interrupts;
    uint64_t unhandled_interrupts;
};
extern struct trap_counters trap_counters;

const char *exception_mnemonic(uint64_t vector);

#endif
