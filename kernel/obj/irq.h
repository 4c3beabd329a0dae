/*
 * irq.h - irq objects: one interrupt source (an MSI vector, an MSI-X
 * entry, a PCI function's INTx line, an ISA line) that the kernel
 * programmed, a CPU vector, a remapping entry, and where its interrupts go.
 *
 * Delivery: an interrupt masks the source (the IOAPIC line when it is
 * level-triggered; MSI and MSI-X are edge events the kernel just counts)
 * and queues one WD_LABEL_IRQ message on the bound endpoint. Interrupts
 * arriving while that message is still queued add to its count; after it
 * is received, they are counted until irq_ack, which unmasks and sends
 * what was counted. Unbound, interrupts are counted for the next bind.
 *
 * irq objects live in a fixed table (one vector each) and are not charged
 * to a pool: the vectors are the scarce thing, and they are bounded.
 */
#ifndef WARDEN_OBJ_IRQ_H
#define WARDEN_OBJ_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include <warden/irq.h>

#include "obj/endpoint.h"
#include "obj/object.h"

#define IRQ_VECTOR_FIRST 0x40
#define IRQ_VECTOR_LAST 0xEF
#define IRQ_MAX (IRQ_VECTOR_LAST - IRQ_VECTOR_FIRST + 1)

struct device;
struct vtd_unit;
struct iommu_group;

struct irq {
    struct kobject obj;
    bool allocated;                 /* this table slot is an object */
    bool live;                      /* the source is programmed and hooked */
    uint64_t index;                 /* as irq_create was given it */
    struct device *device;          /* NULL for ISA lines */
    struct vtd_unit *unit;          /* remapping unit, NULL when not remapped */
    int irte;                       /* remapping entry, -1 if none */
    uint8_t vector;
    uint32_t gsi;                   /* IOAPIC input (INTx, ISA), else ~0u */
    bool level;
    uint32_t msi_address, msi_data;
    struct endpoint *endpoint;      /* referenced while bound */
    struct kevent event;
    bool waiting_ack;               /* a message went out since the last ack */
    uint64_t pending;               /* interrupts not yet in a message */
    uint64_t last_ns;
    uint64_t interrupts, messages, acks;
    /* The kernel's own source (the console): called at each interrupt
     * instead of delivering a message. */
    void (*kernel_handler)(struct irq *q);
};

/* Programs the source and returns a new irq object (one reference), or
 * NULL with *error = WD_E_*. device is NULL for WD_IRQ_ISA. */
struct irq *irq_create(struct device *device, uint64_t index, int *error);
/* Last reference gone: tears the source down if it is still live. */
void irq_destroy(struct irq *q);
/* Binds to ep (NULL unbinds); returns the interrupts that were pending. */
int64_t irq_bind(struct irq *q, struct endpoint *ep, uint64_t badge);
/* 1 if a message was outstanding (source unmasked), 0 if not; -WD_E_DEAD. */
int64_t irq_ack(struct irq *q);
void irq_describe(const struct irq *q, struct wd_irq_info *out);
void irq_stats(struct wd_irq_stats *out);
/* Tears down every live irq of the group's devices (the owner died). */
unsigned irq_release_group(struct iommu_group *g);
/* The index'th slot of the table if it holds a live irq (inspection), else NULL. */
const struct irq *irq_table_entry(unsigned index);
/* Live irqs on the group's devices. */
unsigned irq_count_for_group(const struct iommu_group *g);

#endif
