/*
 * lapic.h - the local APIC (xAPIC, memory-mapped): enable, EOI, and
 * register access for the timer code.
 */
#ifndef WARDEN_ARCH_LAPIC_H
#define WARDEN_ARCH_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

enum lapic_register {
    LAPIC_ID = 0x020,
    LAPIC_VERSION = 0x030,
    LAPIC_TPR = 0x080,
    LAPIC_EOI = 0x0B0,
    LAPIC_ISR = 0x100,              /* eight 32-bit registers, 0x10 apart */
    LAPIC_SVR = 0x0F0,
    LAPIC_ESR = 0x280,
    LAPIC_LVT_TIMER = 0x320,
    LAPIC_LVT_LINT0 = 0x350,
    LAPIC_LVT_LINT1 = 0x360,
    LAPIC_LVT_ERROR = 0x370,
    LAPIC_TIMER_INITIAL = 0x380,
    LAPIC_TIMER_CURRENT = 0x390,
    LAPIC_TIMER_DIVIDE = 0x3E0,
};

#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_TIMER_PERIODIC (1u << 17)
#define LAPIC_LVT_DELIVERY_NMI (4u << 8)
#define LAPIC_SVR_ENABLE (1u << 8)

/* Maps the LAPIC at phys (from the MADT, or the APIC base MSR if 0),
 * enables it with the spurious vector, masks LINT0 and the timer. */
void lapic_init(uint64_t phys);
uint32_t lapic_read(enum lapic_register reg);
void lapic_write(enum lapic_register reg, uint32_t value);
void lapic_eoi(void);
uint32_t lapic_id(void);
/* Whether vector is in service (delivered by the LAPIC and not EOIed yet). */
bool lapic_in_service(uint8_t vector);

/* Remaps the legacy 8259 PICs to VECTOR_PIC_BASE and masks every line:
 * all device interrupts go through the (I/O) APICs. */
void pic_disable(void);

#endif
