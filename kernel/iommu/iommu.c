/*
 * iommu.c - the boot sequence of DMA isolation (see iommu.h) and the
 * routing of fault records to IOMMU groups.
 */
#include "iommu/iommu.h"

#include "core/panic.h"
#include "core/printk.h"
#include "iommu/slpt.h"
#include "iommu/vtd.h"
#include "mm/physmem.h"
#include "obj/device.h"
#include "obj/dmaspace.h"
#include "pci/ecam.h"

#include <warden/errors.h>

static struct pci_topology topology;
static const struct dmar_summary *dmar_tables;

static uint32_t ecam_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset)
{
    (void)ctx;
    return pci_config_read32(bus, dev, fn, offset);
}

static void ecam_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset, uint32_t value)
{
    (void)ctx;
    pci_config_write32(bus, dev, fn, offset, value);
}

static const struct pci_config_access ecam_access = { ecam_read, ecam_write, NULL };

/* The active unit for a DMAR DRHD index (units that did not respond are skipped). */
static struct vtd_unit *unit_for_dmar_index(uint32_t dmar_index)
{
    if (!dmar_tables || dmar_index >= dmar_tables->unit_count)
        return NULL;
    for (unsigned i = 0; i < vtd_unit_count(); i++)
        if (vtd_unit(i)->hw->register_base == dmar_tables->units[dmar_index].register_base)
            return vtd_unit(i);
    return NULL;
}

static void on_fault(struct vtd_unit *unit, const struct vtd_fault *fault)
{
    struct iommu_group *g = iommu_group_by_source(unit, fault->source_id);
    if (!g) {
        printk("IOMMU vtd%u: DMA fault from unknown source %04x at 0x%llx, reason 0x%x\n", unit->index,
               fault->source_id, (unsigned long long)fault->address, fault->reason);
        return;
    }
    iommu_group_report_fault(g, fault->source_id, fault->address, fault->reason, fault->write);
}

/* Identity-maps [base, limit] in the unit's kernel-owned RMRR domain and
 * points the group at it. */
static int reserve_identity(struct iommu_group *g, uint64_t base, uint64_t limit)
{
    static struct slpt identity[DMAR_MAX_UNITS];
    static int domain[DMAR_MAX_UNITS];
    struct vtd_unit *u = g->unit;
    if (!domain[u->index]) {
        domain[u->index] = vtd_domain_alloc(u);
        if (domain[u->index] < 0 || slpt_init(&identity[u->index], u->levels, dmaspace_table_memory(u)) != 0)
            return -1;
    }
    for (uint64_t page = base & ~(FRAME_SIZE - 1); page <= limit; page += FRAME_SIZE) {
        int r = slpt_map_page(&identity[u->index], page, page, SLPT_PAGE_4K, SLPT_READ | SLPT_WRITE);
        if (r != 0 && r != -WD_E_EXISTS)
            return -1;
    }
    if (!g->reserved && vtd_context_install(u, g->requester_id, identity[u->index].root, (uint16_t)domain[u->index]))
        return -1;
    g->reserved = true;
    return 0;
}

/* RMRR: firmware keeps using [base, limit] for these devices (USB legacy
 * emulation, graphics), so they get a kernel-owned identity domain and are
 * never handed to a driver. QEMU emits none. */
static void map_reserved_regions(void)
{
    for (unsigned r = 0; dmar_tables && r < dmar_tables->rmrr_count; r++) {
        const struct dmar_rmrr_region *m = &dmar_tables->rmrrs[r];
        for (unsigned s = 0; s < m->scope_count; s++) {
            int index = pci_resolve_scope_endpoint(&topology, &m->scopes[s]);
            if (index < 0)
                continue;
            struct iommu_group *g = iommu_group_at(topology.functions[index].group);
            if (!g || !g->unit)
                continue;
            if (reserve_identity(g, m->base, m->limit) != 0)
                panic("IOMMU: cannot identity-map RMRR 0x%llx-0x%llx", (unsigned long long)m->base,
                      (unsigned long long)m->limit);
            printk("IOMMU: RMRR 0x%llx-0x%llx identity-mapped for group %u; its devices stay with firmware\n",
                   (unsigned long long)m->base, (unsigned long long)m->limit, g->index);
        }
    }
}

static void log_topology(void)
{
    for (unsigned i = 0; i < topology.count; i++) {
        const struct pci_function *fn = &topology.functions[i];
        printk("pci: %02x:%02x.%u %04x:%04x class %06x group %u requester %02x:%02x.%u%s%s%s\n", fn->bus, fn->dev,
               fn->fn, fn->vendor_id, fn->device_id, fn->class_code, fn->group, fn->requester_id >> 8,
               (fn->requester_id >> 3) & 0x1F, fn->requester_id & 7, fn->aliased ? " (bridge alias)" : "",
               fn->unit == PCI_NO_UNIT ? ", no IOMMU" : "",
               fn->bus_master_was_on ? ", bus mastering was on: turned off" : "");
    }
    printk("pci: %u function(s) in %u IOMMU group(s)%s\n", topology.count, topology.group_count,
           topology.truncated ? " (list truncated)" : "");
}

void iommu_boot(const struct dmar_summary *dmar)
{
    dmar_tables = dmar;
    if (ecam_available())
        pci_enumerate(&ecam_access, &topology);    /* also turns bus mastering off everywhere */
    unsigned active = vtd_enable_all(on_fault);
    unsigned unresolved = pci_assign_iommu(&topology, dmar, 0);
    if (unresolved)
        printk("IOMMU: %u DMAR device scope(s) name no function that exists\n", unresolved);
    device_init_all(&topology, unit_for_dmar_index);
    for (unsigned i = 0; i < iommu_group_count(); i++) {
        struct iommu_group *g = iommu_group_at(i);
        if (g->unit && vtd_context_prepare(g->unit, g->requester_id) != 0)
            panic("IOMMU: no memory for context tables");
    }
    log_topology();
    if (active == 0)
        printk("IOMMU: no active remapping unit: DMA will be refused (dmaspace_create returns NO_IOMMU)\n");
    map_reserved_regions();
}

const struct pci_topology *iommu_pci_topology(void)
{
    return &topology;
}

bool iommu_ioapic_source(uint8_t ioapic_id, struct vtd_unit **unit, uint16_t *source_id)
{
    for (unsigned i = 0; dmar_tables && i < dmar_tables->unit_count; i++) {
        const struct dmar_unit *du = &dmar_tables->units[i];
        for (unsigned s = 0; s < du->scope_count; s++) {
            const struct dmar_scope *scope = &du->scopes[s];
            if (scope->type != DMAR_SCOPE_IOAPIC || scope->enumeration_id != ioapic_id || scope->path_length != 1)
                continue;
            struct vtd_unit *u = unit_for_dmar_index(i);
            if (!u || !u->irt_phys)
                return false;
            *unit = u;
            *source_id = (uint16_t)(scope->start_bus << 8 | scope->path[0].device << 3 | scope->path[0].function);
            return true;
        }
    }
    return false;
}
