/*
 * idt.c - the interrupt descriptor table: 256 interrupt gates pointing at
 * the stubs in trap_entry.asm. Double fault, NMI and machine check run on
 * their own IST stacks (gdt.c).
 */
#include "arch/x86_64/trap.h"
#include "arch/x86_64/gdt.h"

#include <stdint.h>

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attributes;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};

struct __attribute__((packed)) idt_pointer {
    uint16_t limit;
    uint64_t base;
};

enum { GATE_INTERRUPT_PRESENT_DPL0 = 0x8E };

extern const uint64_t trap_stub_table[256];
static struct idt_gate idt[256] __attribute__((aligned(16)));

static void set_gate(unsigned vector, uint64_t handler, uint8_t ist)
{
    idt[vector] = (struct idt_gate){
        .offset_low = handler & 0xFFFF,
        .selector = GDT_KERNEL_CODE,
        .ist = ist,
        .type_attributes = GATE_INTERRUPT_PRESENT_DPL0,
        .offset_mid = (handler >> 16) & 0xFFFF,
        .offset_high = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, trap_stub_table[v], 0);
    set_gate(EXC_DOUBLE_FAULT, trap_stub_table[EXC_DOUBLE_FAULT], IST_DOUBLE_FAULT);
    set_gate(EXC_NMI, trap_stub_table[EXC_NMI], IST_NMI);
    set_gate(EXC_MACHINE_CHECK, trap_stub_table[EXC_MACHINE_CHECK], IST_MACHINE_CHECK);
    struct idt_pointer idtr = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
