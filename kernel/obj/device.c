/*
 * device.c - device objects, IOMMU groups and the device root (see
 * device.h): made at boot, described to user space, owned by processes,
 * quiesced, and the target of DMA fault reports.
 *
 * Invariant: while a group has an owner, its BARs are mapped only where
 * that owner mapped them (into itself, or a process it controls): every
 * other mapping goes when the owner changes, and vm_map refuses anyone
 * else (sys_process.c).
 */
#include "obj/device.h"
#include "obj/fault_log.h"

#include "arch/x86_64/timer.h"
#include "core/panic.h"
#include "core/printk.h"
#include "iommu/vtd.h"
#include "mm/physmem.h"
#include "mm/vmspace.h"
#include "obj/dmaspace.h"
#include "obj/frame_object.h"
#include "obj/process.h"
#include "pci/ecam.h"
#include "pci/pci_irq.h"
#include "pci/pci_regs.h"

#include <warden/errors.h>

#include <string.h>
#include <warden/ipc.h>

#define FAULT_LOG_LIMIT 32              /* fault lines printed per boot; counters keep going */

static const struct pci_topology *topology;
static struct device devices[PCI_MAX_FUNCTIONS];
static struct iommu_group groups[PCI_MAX_FUNCTIONS];
static unsigned group_total;
static struct kobject root_object;
static uint64_t faults_logged;

static uint64_t function_address(const struct pci_function *fn)
{
    return WD_PCI_ADDRESS(0, fn->bus, fn->dev, fn->fn);
}

uint64_t device_address(const struct device *d)
{
    return function_address(d->fn);
}

static void make_bar_frames(struct device *d)
{
    for (unsigned i = 0; i < WD_DEVICE_BARS; i++) {
        const struct pci_bar *bar = &d->fn->bars[i];
        if (!(bar->flags & WD_BAR_MMIO) || bar->base == 0 || bar->size < FRAME_SIZE || bar->base % FRAME_SIZE ||
            bar->size % FRAME_SIZE)
            continue;
        d->bar_frames[i] = frame_object_borrow_mmio(bar->base, bar->size);
    }
    unsigned bar;
    uint64_t offset, bytes;
    if (pci_msix_table(d->fn, &bar, &offset, &bytes) && d->bar_frames[bar]) {
        struct frame_object *f = d->bar_frames[bar];
        f->protected_offset = offset & ~(uint64_t)(FRAME_SIZE - 1);
        f->protected_size = ((offset + bytes + FRAME_SIZE - 1) & ~(uint64_t)(FRAME_SIZE - 1)) - f->protected_offset;
    }
}

void device_init_all(const struct pci_topology *t, struct vtd_unit *(*unit_for)(uint32_t dmar_index))
{
    topology = t;
    kobject_init(&root_object, WD_TYPE_DEVICE_ROOT, NULL, 0);
    group_total = t->group_count;
    for (unsigned i = 0; i < group_total; i++)
        groups[i].index = i;
    for (unsigned i = 0; i < t->count; i++) {
        const struct pci_function *fn = &t->functions[i];
        struct device *d = &devices[i];
        kobject_init(&d->obj, WD_TYPE_DEVICE, NULL, 0);
        d->fn = fn;
        d->group = &groups[fn->group];
        if (!d->group->member_count++)
            d->group->first_address = function_address(fn);
        d->group->requester_id = fn->requester_id;
        d->group->unit = fn->unit == PCI_NO_UNIT ? NULL : unit_for(fn->unit);
        make_bar_frames(d);
    }
}

struct kobject *device_root_object(void)
{
    return &root_object;
}

unsigned device_count(void)
{
    return topology ? topology->count : 0;
}

struct device *device_at(unsigned index)
{
    return index < device_count() ? &devices[index] : NULL;
}

struct device *device_find(uint64_t pci_address)
{
    for (unsigned i = 0; i < device_count(); i++)
        if (function_address(devices[i].fn) == pci_address)
            return &devices[i];
    return NULL;
}

unsigned iommu_group_count(void)
{
    return group_total;
}

struct iommu_group *iommu_group_at(unsigned index)
{
    return index < group_total ? &groups[index] : NULL;
}

struct iommu_group *iommu_group_by_source(const struct vtd_unit *unit, uint16_t source_id)
{
    for (unsigned i = 0; i < group_total; i++)
        if (groups[i].unit == unit && groups[i].requester_id == source_id)
            return &groups[i];
    return NULL;
}

void device_describe(const struct device *d, const struct process *caller, struct wd_device_info *out)
{
    const struct pci_function *fn = d->fn;
    const struct iommu_group *g = d->group;
    memset(out, 0, sizeof *out);
    out->address = function_address(fn);
    out->vendor_id = fn->vendor_id;
    out->device_id = fn->device_id;
    out->class_code = fn->class_code;
    out->revision = fn->revision;
    out->header_type = fn->header_type;
    out->requester_id = fn->requester_id;
    out->group = g->index;
    out->iommu_unit = g->unit ? g->unit->index : ~0u;
    out->flags = (g->unit ? WD_DEVICE_TRANSLATED : 0) | (fn->aliased ? WD_DEVICE_ALIASED : 0) |
                 (fn->header_type == 1 ? WD_DEVICE_BRIDGE : 0) | (g->space ? WD_DEVICE_ATTACHED : 0) |
                 (g->quiesced ? WD_DEVICE_QUIESCED : 0) | (g->owner ? WD_DEVICE_OWNED : 0) |
                 (g->owner && g->owner == caller ? WD_DEVICE_MINE : 0);
    out->owner_pid = g->owner ? g->owner->obj.id : 0;
    out->fault_count = g->faults;
    out->domain_id = g->space ? g->space->domain_id : 0;
    for (unsigned i = 0; i < WD_DEVICE_BARS; i++) {
        const struct frame_object *f = d->bar_frames[i];
        out->bars[i] = (struct wd_bar_info){ fn->bars[i].base, fn->bars[i].size, fn->bars[i].flags, 0,
                                             f ? f->protected_offset : 0, f ? f->protected_size : 0 };
    }
}

void iommu_group_quiesce(struct iommu_group *g)
{
    for (unsigned i = 0; i < device_count(); i++) {
        const struct pci_function *fn = devices[i].fn;
        if (devices[i].group != g)
            continue;
        uint16_t command = (uint16_t)pci_config_read(fn->bus, fn->dev, fn->fn, PCI_COMMAND_STATUS, 2);
        pci_config_write(fn->bus, fn->dev, fn->fn, PCI_COMMAND_STATUS, 2, command & ~PCI_COMMAND_MASTER);
    }
}

unsigned iommu_group_reset(struct iommu_group *g)
{
    unsigned reset = 0;
    for (unsigned i = 0; i < device_count(); i++) {
        struct device *d = &devices[i];
        const struct pci_function *fn = d->fn;
        if (d->group != g || !fn->pcie_cap ||
            !(pci_config_read(fn->bus, fn->dev, fn->fn, fn->pcie_cap + PCIE_DEVCAP, 4) & PCIE_DEVCAP_FLR))
            continue;
        for (unsigned b = 0; b < 6; b++)
            d->saved_bars[b] = pci_config_read(fn->bus, fn->dev, fn->fn, PCI_BAR0 + 4 * b, 4);
        d->saved_command = (uint16_t)pci_config_read(fn->bus, fn->dev, fn->fn, PCI_COMMAND_STATUS, 2) &
                           PCI_COMMAND_DECODE;      /* interrupt mode is the next owner's (irq_create) */
        uint32_t control = pci_config_read(fn->bus, fn->dev, fn->fn, fn->pcie_cap + PCIE_DEVCTL, 2);
        pci_config_write(fn->bus, fn->dev, fn->fn, fn->pcie_cap + PCIE_DEVCTL, 2, control | PCIE_DEVCTL_FLR);
        d->reset_pending = true;
        d->reset_until_ns = time_now_ns() + PCIE_FLR_WAIT_MS * 1000000ull;
        reset++;
    }
    return reset;
}

int device_finish_reset(struct device *d)
{
    if (!d->reset_pending)
        return 0;
    if (time_now_ns() < d->reset_until_ns)
        return -WD_E_BUSY;
    const struct pci_function *fn = d->fn;
    for (unsigned b = 0; b < 6; b++)
        pci_config_write(fn->bus, fn->dev, fn->fn, PCI_BAR0 + 4 * b, 4, d->saved_bars[b]);
    pci_config_write(fn->bus, fn->dev, fn->fn, PCI_COMMAND_STATUS, 2, d->saved_command);
    d->reset_pending = false;
    return 0;
}

void iommu_group_enable_upstream(struct iommu_group *g)
{
    for (unsigned i = 0; i < device_count(); i++) {
        if (devices[i].group != g)
            continue;
        for (int up = devices[i].fn->parent; up >= 0; up = topology->functions[up].parent) {
            const struct pci_function *bridge = &topology->functions[up];
            uint16_t command = (uint16_t)pci_config_read(bridge->bus, bridge->dev, bridge->fn, PCI_COMMAND_STATUS, 2);
            if (!(command & PCI_COMMAND_MASTER))
                pci_config_write(bridge->bus, bridge->dev, bridge->fn, PCI_COMMAND_STATUS, 2,
                                 command | PCI_COMMAND_MASTER);
        }
    }
}

void iommu_group_bind_driver(struct iommu_group *g, struct endpoint *ep, uint64_t badge)
{
    kevent_cancel(&g->driver_event);
    if (g->driver_endpoint)
        kobject_put(&g->driver_endpoint->obj);
    g->driver_endpoint = ep;
    g->driver_event.badge = badge;
    if (ep)
        kobject_get(&ep->obj);
}

uint64_t iommu_group_unmap_bars(struct iommu_group *g, struct process *holder)
{
    uint64_t removed = 0;
    for (unsigned i = 0; i < device_count(); i++)
        for (unsigned b = 0; devices[i].group == g && b < WD_DEVICE_BARS; b++)
            if (devices[i].bar_frames[b])
                removed += vmspace_unmap_frame(&holder->vm, devices[i].bar_frames[b]);
    return removed;
}

struct iommu_group *device_bar_group(const struct frame_object *f)
{
    for (unsigned i = 0; i < device_count(); i++)
        for (unsigned b = 0; b < WD_DEVICE_BARS; b++)
            if (devices[i].bar_frames[b] == f)
                return devices[i].group;
    return NULL;
}

/* Whoever mapped the group's registers before it had this owner (a driver
 * that detached and kept its mapping, a process that mapped them while
 * nobody owned the group) could program the device's DMA into the new
 * owner's IOVAs: those mappings go. */
static void unmap_bars_of_others(struct iommu_group *g, struct process *owner)
{
    uint64_t removed = 0;
    struct process *p;
    for (unsigned i = 0; (p = process_at(i)); i++)
        if (p != owner && !p->dead)
            removed += iommu_group_unmap_bars(g, p);
    if (removed)
        printk("IOMMU: group %u now owned by process %llu: %llu BAR mapping(s) of other processes removed\n",
               g->index, (unsigned long long)owner->obj.id, (unsigned long long)removed);
}

void iommu_group_set_owner(struct iommu_group *g, struct process *p)
{
    if (g->owner == p)
        return;
    kevent_cancel(&g->supervisor_event);
    iommu_group_bind_driver(g, NULL, 0);
    g->owner = p;
    g->window_faults = 0;
    if (p)
        unmap_bars_of_others(g, p);
}

static void fill_fault_event(struct kevent *ev, const struct iommu_group *g, uint16_t source_id, uint64_t iova,
                             unsigned reason, uint64_t flags)
{
    ev->nwords = 6;
    ev->words[0] = source_id;
    ev->words[1] = iova;
    ev->words[2] = reason;
    ev->words[3] = flags;
    ev->words[4] = g->owner ? g->owner->obj.id : 0;
    ev->words[5] = g->first_address;
}

/* Counts the fault in the group's window; true when it just became a flood. */
static bool fault_flood(struct iommu_group *g)
{
    uint64_t now = time_now_ns();
    if (g->window_faults == 0 || now - g->window_start_ns > WD_DMA_FAULT_WINDOW_MS * 1000000ull) {
        g->window_start_ns = now;
        g->window_faults = 0;
    }
    return ++g->window_faults > WD_DMA_FAULT_FLOOD && !g->quiesced;
}

void iommu_group_report_fault(struct iommu_group *g, uint16_t source_id, uint64_t iova, unsigned reason, bool write)
{
    g->faults++;
    uint64_t flags = write ? WD_DMA_FAULT_WRITE : 0;
    /* A request in flight when its client took the memory back faults
     * there: expected, reported, but no sign of a misbehaving device. */
    bool revoked = g->space && dmaspace_iova_revoked(g->space, iova);
    if (revoked)
        flags |= WD_DMA_FAULT_REVOKED;
    if (g->owner && !revoked && fault_flood(g)) {
        iommu_group_quiesce(g);
        g->quiesced = true;
        printk("IOMMU: group %u floods DMA faults (%llu within %u ms): bus mastering turned off\n", g->index,
               (unsigned long long)g->window_faults, WD_DMA_FAULT_WINDOW_MS);
    }
    if (g->quiesced)
        flags |= WD_DMA_FAULT_QUIESCED;
    struct wd_inspect_fault logged = {
        .iova = iova,
        .source_id = source_id,
        .group = g->index,
        .unit = g->unit ? g->unit->index : ~0u,
        .reason = reason,
        .write = write,
        .action = (revoked ? WD_FAULT_ACTION_REVOKED : 0) | (g->quiesced ? WD_FAULT_ACTION_QUIESCED : 0) |
                  (!g->owner ? WD_FAULT_ACTION_UNOWNED : 0) |
                  (g->owner && g->owner->fault_endpoint ? WD_FAULT_ACTION_REPORTED : 0) |
                  (g->owner && g->driver_endpoint ? WD_FAULT_ACTION_DRIVER : 0),
        .device = g->first_address,
        .owner_pid = g->owner ? g->owner->obj.id : 0,
    };
    fault_log_record(&logged);
    if (faults_logged++ < FAULT_LOG_LIMIT)
        printk("IOMMU: DMA fault: source %02x:%02x.%u (group %u) %s IOVA 0x%llx, reason 0x%x, owner %llu\n",
               source_id >> 8, (source_id >> 3) & 0x1F, source_id & 7, g->index, write ? "write to" : "read from",
               (unsigned long long)iova, reason, g->owner ? (unsigned long long)g->owner->obj.id : 0ull);
    if (!g->owner)
        return;
    if (g->owner->fault_endpoint) {
        fill_fault_event(&g->supervisor_event, g, source_id, iova, reason, flags);
        g->supervisor_event.label = WD_LABEL_DMA_FAULT;
        g->supervisor_event.badge = g->owner->fault_badge;
        kevent_raise(g->owner->fault_endpoint, &g->supervisor_event);
    }
    if (g->driver_endpoint) {
        fill_fault_event(&g->driver_event, g, source_id, iova, reason, flags);
        g->driver_event.label = WD_LABEL_DMA_FAULT;
        kevent_raise(g->driver_endpoint, &g->driver_event);
    }
}
