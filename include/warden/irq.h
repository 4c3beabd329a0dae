/*
 * warden/irq.h - interrupts as messages: how irq_create names a device's
 * interrupt sources, what irq_info reports, and the IRQ message.
 * docs/interrupts.md explains the model and the ordering guarantees.
 *
 * An irq capability stands for one interrupt source the kernel programmed:
 * an MSI vector, an MSI-X table entry, a PCI function's INTx line or an ISA
 * line through the IOAPIC. Every one goes through an interrupt remapping
 * entry that checks the requester ID when the IOMMU remaps interrupts.
 */
#ifndef WARDEN_ABI_IRQ_H
#define WARDEN_ABI_IRQ_H

#include <warden/types.h>

/* irq_create's `index`: the kind of source in bits 19:16, its number below. */
#define WD_IRQ_KIND_SHIFT 16
#define WD_IRQ_KIND_MSI   0u
#define WD_IRQ_KIND_MSIX  1u
#define WD_IRQ_KIND_INTX  2u
#define WD_IRQ_KIND_ISA   3u
#define WD_IRQ_MSI(n)  (((uint64_t)WD_IRQ_KIND_MSI << WD_IRQ_KIND_SHIFT) | (n))   /* MSI vector n (device) */
#define WD_IRQ_MSIX(n) (((uint64_t)WD_IRQ_KIND_MSIX << WD_IRQ_KIND_SHIFT) | (n))  /* MSI-X entry n (device) */
#define WD_IRQ_INTX    ((uint64_t)WD_IRQ_KIND_INTX << WD_IRQ_KIND_SHIFT)          /* the INTx pin (device) */
#define WD_IRQ_ISA(n)  (((uint64_t)WD_IRQ_KIND_ISA << WD_IRQ_KIND_SHIFT) | (n))   /* ISA IRQ n (device root) */
#define WD_IRQ_KIND(index)   ((unsigned)((index) >> WD_IRQ_KIND_SHIFT))
#define WD_IRQ_NUMBER(index) ((unsigned)((index) & 0xFFFF))

/* wd_irq_info.flags */
#define WD_IRQ_REMAPPED  (1u << 0)  /* delivered through an interrupt remapping entry */
#define WD_IRQ_LEVEL     (1u << 1)  /* level-triggered (masked at the IOAPIC until irq_ack) */
#define WD_IRQ_BOUND     (1u << 2)  /* irq_bind named an endpoint */
#define WD_IRQ_WAITING_ACK (1u << 3) /* a message went out; no new one until irq_ack */
#define WD_IRQ_DEAD      (1u << 4)  /* the source was torn down (owner died); only irq_info works */

/* wd_irq_info.irte_svt: the entry's source-validation type (VT-d spec 9.10). */
#define WD_IRTE_SVT_NONE 0u         /* no requester check */
#define WD_IRTE_SVT_SID  1u         /* requester ID must equal irte_sid (under irte_sq) */
#define WD_IRTE_SVT_BUS  2u         /* requester bus within a range */

struct wd_irq_info {
    uint64_t index;                 /* as passed to irq_create */
    uint64_t device;                /* WD_PCI_ADDRESS of the device; ~0 for an ISA line */
    uint32_t flags;                 /* WD_IRQ_* */
    uint32_t vector;                /* CPU vector the kernel assigned */
    uint32_t gsi;                   /* IOAPIC input for INTx/ISA; ~0u for MSI/MSI-X */
    uint32_t irte_index;            /* remapping table index; ~0u when not remapped */
    /* The remapping entry as read back from the kernel's table: */
    uint32_t irte_present;
    uint32_t irte_vector;
    uint32_t irte_sid;              /* requester ID the hardware checks */
    uint32_t irte_sq;
    uint32_t irte_svt;              /* WD_IRTE_SVT_* */
    uint32_t irte_trigger_level;
    uint64_t msi_address;           /* what the kernel wrote to the device (MSI/MSI-X) */
    uint64_t msi_data;
    uint64_t interrupts;            /* interrupts the kernel took since irq_create */
    uint64_t messages;              /* IRQ messages queued */
    uint64_t acks;                  /* irq_ack calls that unmasked */
    uint64_t pending;               /* interrupts counted but not yet in a message */
};

/* Interrupt counters of the whole kernel (irq_stats). */
struct wd_irq_stats {
    uint64_t spurious;              /* LAPIC/PIC spurious vectors */
    uint64_t unowned;               /* vectors with no handler (e.g. a torn-down source firing late) */
    uint64_t live_irqs;             /* irq objects with a hooked source */
    uint64_t vectors_free;          /* device vectors left */
    uint64_t ir_entries_used;       /* remapping entries in use on unit 0 */
    uint64_t iec_invalidations;     /* interrupt-entry-cache invalidations (each waited for) */
};

#endif
