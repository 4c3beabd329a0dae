/*
 * ioapic.h - the I/O APICs the MADT lists: every line masked at boot, then
 * programmed one at a time for irq objects, in remappable format when the
 * IOMMU remaps interrupts (compatibility format otherwise), and masked and
 * unmasked as their interrupts are delivered and acknowledged.
 */
#ifndef WARDEN_ARCH_IOAPIC_H
#define WARDEN_ARCH_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct madt_summary;

struct ioapic_route {
    uint8_t vector;                 /* must equal the remapping entry's vector (EOI matching) */
    bool level;
    bool active_low;
    bool remapped;                  /* remappable format naming `handle` */
    unsigned handle;
    uint8_t apic_id;                /* destination when not remapped */
};

/* Maps every I/O APIC of the MADT and masks all of its lines. */
void ioapic_init(const struct madt_summary *madt);
/* true when some I/O APIC has input `gsi`. */
bool ioapic_has_gsi(uint32_t gsi);
/* The MADT id of the I/O APIC owning gsi (for the DMAR's IOAPIC scope). */
uint8_t ioapic_id_of(uint32_t gsi);
/* Writes gsi's redirection entry, masked. */
void ioapic_program(uint32_t gsi, const struct ioapic_route *route);
void ioapic_set_masked(uint32_t gsi, bool masked);
/* Masks gsi and clears its entry. */
void ioapic_release(uint32_t gsi);

/* ISA IRQ -> GSI, trigger and polarity: identity, edge, active high unless
 * the MADT has an interrupt source override. false for irq > 15. */
bool isa_irq_route(const struct madt_summary *madt, unsigned irq, uint32_t *gsi, bool *level, bool *active_low);

#endif
