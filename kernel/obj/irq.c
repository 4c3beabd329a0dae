/*
 * irq.c - irq objects (see irq.h): programming a source through the
 * remapping unit, the interrupt handler that turns interrupts into
 * messages, bind/ack, and teardown in the safe order: silence the source,
 * make its remapping entry not present (invalidate + wait), then free the
 * vector. A late interrupt on a freed vector is counted as unowned.
 */
#include "obj/irq.h"

#include "acpi/platform.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "core/panic.h"
#include "core/printk.h"
#include "iommu/iommu.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "obj/device.h"
#include "pci/pci_irq.h"

#include <string.h>
#include <warden/errors.h>
#include <warden/ipc.h>

static struct irq irqs[IRQ_MAX];
static struct irq *vector_owner[256];
static uint64_t live_irqs;

/* ---- delivery ---- */

/* Sends what is pending, if the endpoint may take a message now: none is
 * outstanding, or the outstanding one is still queued (it then grows). */
static void deliver(struct irq *q)
{
    if (!q->endpoint || !q->pending)
        return;
    if (q->waiting_ack && !q->event.queued_on)
        return;
    uint64_t n = q->pending;
    q->pending = 0;
    q->waiting_ack = true;
    if (!q->event.queued_on)
        q->messages++;
    q->event.words[0] = q->last_ns;
    kevent_raise_count(q->endpoint, &q->event, n);
}

static void irq_interrupt(struct trap_frame *frame)
{
    struct irq *q = vector_owner[frame->vector];
    if (q->level)
        ioapic_set_masked(q->gsi, true);    /* before the EOI clears Remote IRR: no storm */
    lapic_eoi();
    q->interrupts++;
    q->pending++;
    q->last_ns = time_now_ns();
    if (q->kernel_handler)
        q->kernel_handler(q);
    else
        deliver(q);
}

/* ---- allocation ---- */

static int vector_alloc(struct irq *q)
{
    for (unsigned v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST; v++) {
        if (!vector_owner[v]) {
            vector_owner[v] = q;
            return (int)v;
        }
    }
    return -WD_E_BUSY;
}

static struct irq *slot_alloc(void)
{
    for (unsigned i = 0; i < IRQ_MAX; i++)
        if (!irqs[i].allocated)
            return &irqs[i];
    return NULL;
}

static bool same_kind(uint64_t a, uint64_t b)
{
    return WD_IRQ_KIND(a) == WD_IRQ_KIND(b);
}

/* EXISTS if the source already has an irq, or the device's interrupts are in another mode. */
static int check_conflicts(const struct device *d, uint64_t index, uint32_t gsi)
{
    for (unsigned i = 0; i < IRQ_MAX; i++) {
        const struct irq *o = &irqs[i];
        if (!o->live)
            continue;
        if (d && o->device == d && (o->index == index || !same_kind(o->index, index)))
            return -WD_E_EXISTS;
        if (gsi != ~0u && o->gsi == gsi)
            return -WD_E_BUSY;      /* shared IOAPIC lines are not supported */
    }
    return 0;
}

/* ---- programming the source ---- */

static void program_remap(struct irq *q, uint16_t source_id)
{
    struct vtd_irte e = {
        .present = true,
        .level = q->level,
        .vector = q->vector,
        .apic_id = (uint8_t)lapic_id(),
        .source_id = source_id,
        .sq = 0,
        .svt = WD_IRTE_SVT_SID,
    };
    vtd_irte_write(q->unit, (unsigned)q->irte, &e);
}

static int validate_device_source(const struct device *d, uint64_t index, uint32_t *gsi)
{
    const struct pci_function *fn = d->fn;
    unsigned n = WD_IRQ_NUMBER(index);
    switch (WD_IRQ_KIND(index)) {
    case WD_IRQ_KIND_MSI:
        if (!pci_msi_vector_count(fn))
            return -WD_E_NOT_SUPPORTED;
        if (n != 0)
            return n < pci_msi_vector_count(fn) ? -WD_E_NOT_SUPPORTED : -WD_E_INVALID_ARG;  /* one vector only */
        return d->group->unit && d->group->unit->irt_phys ? 0 : -WD_E_NO_IOMMU;
    case WD_IRQ_KIND_MSIX:
        if (!pci_msix_entry_count(fn))
            return -WD_E_NOT_SUPPORTED;
        if (n >= pci_msix_entry_count(fn))
            return -WD_E_INVALID_ARG;
        return d->group->unit && d->group->unit->irt_phys ? 0 : -WD_E_NO_IOMMU;
    case WD_IRQ_KIND_INTX:
        if (n != 0)
            return -WD_E_INVALID_ARG;
        if (!pci_intx_gsi(iommu_pci_topology(), fn, gsi) || !ioapic_has_gsi(*gsi))
            return -WD_E_NOT_SUPPORTED;
        return 0;
    default:
        return -WD_E_INVALID_ARG;
    }
}

static int program_line(struct irq *q, bool active_low)
{
    struct ioapic_route route = { .vector = q->vector, .level = q->level, .active_low = active_low,
                                  .apic_id = (uint8_t)lapic_id() };
    struct vtd_unit *unit;
    uint16_t source_id;
    if (iommu_ioapic_source(ioapic_id_of(q->gsi), &unit, &source_id)) {
        int irte = vtd_irte_alloc(unit);
        if (irte < 0)
            return irte;
        q->unit = unit;
        q->irte = irte;
        program_remap(q, source_id);
        route.remapped = true;
        route.handle = (unsigned)irte;
    }
    ioapic_program(q->gsi, &route);             /* masked until bound or acked */
    ioapic_set_masked(q->gsi, false);
    return 0;
}

static int program_message(struct irq *q)
{
    struct device *d = q->device;
    q->unit = d->group->unit;
    int irte = vtd_irte_alloc(q->unit);
    if (irte < 0)
        return irte;
    q->irte = irte;
    program_remap(q, d->group->requester_id);   /* the alias ID behind a PCIe-to-PCI bridge */
    q->msi_address = vtd_remappable_msi_address((unsigned)irte);
    q->msi_data = 0;                            /* subhandle 0 */
    pci_intx_set_enabled(d->fn, false);
    if (WD_IRQ_KIND(q->index) == WD_IRQ_KIND_MSI) {
        pci_msix_leave(d->fn);                  /* a last owner's MSI-X stays enabled, masked */
        pci_msi_enable(d->fn, q->msi_address, (uint16_t)q->msi_data);
    } else if (!pci_msix_enable_entry(d->fn, WD_IRQ_NUMBER(q->index), q->msi_address, q->msi_data)) {
        vtd_irte_free(q->unit, (unsigned)irte);
        q->irte = -1;
        return -WD_E_NOT_SUPPORTED;
    }
    return 0;
}

struct irq *irq_create(struct device *device, uint64_t index, int *error)
{
    uint32_t gsi = ~0u;
    bool level = false, active_low = false;
    int r;
    if (device) {
        r = validate_device_source(device, index, &gsi);
        level = WD_IRQ_KIND(index) == WD_IRQ_KIND_INTX;     /* PCI INTx: level; q35 links are active high */
    } else {
        r = WD_IRQ_KIND(index) == WD_IRQ_KIND_ISA &&
                    isa_irq_route(&platform.madt, WD_IRQ_NUMBER(index), &gsi, &level, &active_low) &&
                    WD_IRQ_NUMBER(index) != 2 && ioapic_has_gsi(gsi)
                ? 0
                : -WD_E_INVALID_ARG;
    }
    if (r == 0)
        r = check_conflicts(device, index, gsi);
    struct irq *q = r == 0 ? slot_alloc() : NULL;
    if (r == 0 && !q)
        r = -WD_E_BUSY;
    int vector = r == 0 ? vector_alloc(q) : 0;
    if (vector < 0)
        r = vector;
    if (r) {
        *error = -r;
        return NULL;
    }
    memset(q, 0, sizeof *q);
    q->allocated = true;
    q->index = index;
    q->device = device;
    q->irte = -1;
    q->vector = (uint8_t)vector;
    q->gsi = gsi;
    q->level = level;
    q->event.label = WD_LABEL_IRQ;
    q->event.nwords = 2;
    q->event.words[1] = index;
    vector_owner[vector] = q;
    interrupt_register((uint8_t)vector, irq_interrupt);
    r = gsi != ~0u ? program_line(q, active_low) : program_message(q);
    if (r) {
        interrupt_register((uint8_t)vector, NULL);
        vector_owner[vector] = NULL;
        q->allocated = false;
        *error = -r;
        return NULL;
    }
    if (device && WD_IRQ_KIND(index) == WD_IRQ_KIND_INTX) {
        pci_msix_leave(device->fn);             /* a device in MSI-X mode sends no INTx */
        pci_intx_set_enabled(device->fn, true);
    }
    q->live = true;
    live_irqs++;
    kobject_init(&q->obj, WD_TYPE_IRQ, NULL, 0);
    return q;
}

/* ---- teardown ---- */

static void unbind(struct irq *q)
{
    kevent_cancel(&q->event);
    q->event.count = 0;
    if (q->endpoint)
        kobject_put(&q->endpoint->obj);
    q->endpoint = NULL;
}

/* Silences the source, removes its remapping entry (invalidate + wait),
 * then frees the vector: nothing can reach the vector's next owner. */
static void shut_down(struct irq *q)
{
    if (!q->live)
        return;
    switch (WD_IRQ_KIND(q->index)) {
    case WD_IRQ_KIND_MSI: pci_msi_disable(q->device->fn); break;
    case WD_IRQ_KIND_MSIX: pci_msix_disable_entry(q->device->fn, WD_IRQ_NUMBER(q->index)); break;
    default:
        ioapic_release(q->gsi);
        if (q->device)
            pci_intx_set_enabled(q->device->fn, false);
        break;
    }
    if (q->irte >= 0)
        vtd_irte_free(q->unit, (unsigned)q->irte);
    q->irte = -1;
    interrupt_register(q->vector, NULL);
    vector_owner[q->vector] = NULL;
    unbind(q);
    q->live = false;
    live_irqs--;
}

void irq_destroy(struct irq *q)
{
    shut_down(q);
    q->allocated = false;
}

unsigned irq_release_group(struct iommu_group *g)
{
    unsigned n = 0;
    for (unsigned i = 0; i < IRQ_MAX; i++) {
        struct irq *q = &irqs[i];
        if (q->live && q->device && q->device->group == g) {
            shut_down(q);
            n++;
        }
    }
    return n;
}

unsigned irq_count_for_group(const struct iommu_group *g)
{
    unsigned n = 0;
    for (unsigned i = 0; i < IRQ_MAX; i++)
        n += irqs[i].live && irqs[i].device && irqs[i].device->group == g;
    return n;
}

/* ---- calls ---- */

int64_t irq_bind(struct irq *q, struct endpoint *ep, uint64_t badge)
{
    if (!q->live)
        return -WD_E_DEAD;
    if (q->event.queued_on) {                   /* undelivered: it goes to the new endpoint */
        q->pending += q->event.count;
        q->waiting_ack = false;
    }
    unbind(q);
    q->event.badge = badge;
    q->endpoint = ep;
    if (ep)
        kobject_get(&ep->obj);
    int64_t pending = (int64_t)q->pending;
    deliver(q);
    return pending;
}

int64_t irq_ack(struct irq *q)
{
    if (!q->live)
        return -WD_E_DEAD;
    if (!q->waiting_ack)
        return 0;                               /* stale or repeated ack: harmless */
    q->waiting_ack = false;
    q->acks++;
    if (q->level)
        ioapic_set_masked(q->gsi, false);       /* still asserted: the IOAPIC sends it again */
    deliver(q);
    return 1;
}

const struct irq *irq_table_entry(unsigned index)
{
    return index < IRQ_MAX && irqs[index].allocated && irqs[index].live ? &irqs[index] : NULL;
}

void irq_describe(const struct irq *q, struct wd_irq_info *out)
{
    memset(out, 0, sizeof *out);
    out->index = q->index;
    out->device = q->device ? device_address(q->device) : ~0ull;
    out->flags = (q->irte >= 0 ? WD_IRQ_REMAPPED : 0) | (q->level ? WD_IRQ_LEVEL : 0) |
                 (q->endpoint ? WD_IRQ_BOUND : 0) | (q->waiting_ack ? WD_IRQ_WAITING_ACK : 0) |
                 (q->live ? 0 : WD_IRQ_DEAD);
    out->vector = q->live ? q->vector : 0;
    out->gsi = q->gsi;
    out->irte_index = q->irte >= 0 ? (uint32_t)q->irte : ~0u;
    if (q->irte >= 0) {
        struct vtd_irte e;
        vtd_irte_read(q->unit, (unsigned)q->irte, &e);
        out->irte_present = e.present;
        out->irte_vector = e.vector;
        out->irte_sid = e.source_id;
        out->irte_sq = e.sq;
        out->irte_svt = e.svt;
        out->irte_trigger_level = e.level;
    }
    out->msi_address = q->msi_address;
    out->msi_data = q->msi_data;
    out->interrupts = q->interrupts;
    out->messages = q->messages;
    out->acks = q->acks;
    out->pending = q->pending;
}

void irq_stats(struct wd_irq_stats *out)
{
    unsigned free_vectors = 0;
    for (unsigned v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST; v++)
        free_vectors += !vector_owner[v];
    struct vtd_unit *u = vtd_unit(0);
    *out = (struct wd_irq_stats){
        .spurious = trap_counters.spurious_interrupts,
        .unowned = trap_counters.unhandled_interrupts,
        .live_irqs = live_irqs,
        .vectors_free = free_vectors,
        .ir_entries_used = u ? u->irte_count : 0,
        .iec_invalidations = u ? u->iec_invalidations : 0,
    };
}
