/*
 * vtd_probe.c - maps each DRHD's register page and reads VER, CAP, ECAP
 * and GSTS (see vtd_probe.h). A unit whose registers read as all ones or
 * zero is reported as not responding.
 */
#include "iommu/vtd_probe.h"
#include "iommu/vtd_regs.h"
#include "core/printk.h"
#include "mm/kernel_vm.h"

struct vtd_probe_result vtd_units;

static uint32_t read32(const struct vtd_unit_info *u, enum vtd_register r)
{
    return *(volatile uint32_t *)(u->registers + r);
}

static uint64_t read64(const struct vtd_unit_info *u, enum vtd_register r)
{
    return *(volatile uint64_t *)(u->registers + r);
}

static void log_unit(unsigned index, const struct vtd_unit_info *u)
{
    if (!u->responding) {
        printk("IOMMU:   vtd%u at 0x%llx does not respond (VER 0x%x); unusable\n", index,
               (unsigned long long)u->register_base, u->version);
        return;
    }
    unsigned sagaw = vtd_cap_sagaw(u->cap);
    printk("IOMMU:   vtd%u at 0x%llx: VT-d %u.%u, CAP 0x%016llx ECAP 0x%016llx\n", index,
           (unsigned long long)u->register_base, vtd_version_major(u->version),
           vtd_version_minor(u->version), (unsigned long long)u->cap, (unsigned long long)u->ecap);
    printk("IOMMU:   vtd%u: MGAW %u bits, page-table levels%s%s%s, %u-bit domain IDs, %u fault register(s),"
           " caching mode %s, %s%s%s%s, translation %s\n",
           index, vtd_cap_mgaw(u->cap),
           vtd_sagaw_supports_levels(sagaw, 3) ? " 3" : "",
           vtd_sagaw_supports_levels(sagaw, 4) ? " 4" : "",
           vtd_sagaw_supports_levels(sagaw, 5) ? " 5" : "",
           vtd_cap_domain_id_bits(u->cap), vtd_cap_fault_registers(u->cap),
           vtd_cap_caching_mode(u->cap) ? "on" : "off",
           vtd_ecap_queued_invalidation(u->ecap) ? "queued invalidation" : "register invalidation only",
           vtd_ecap_interrupt_remapping(u->ecap) ? ", interrupt remapping" : "",
           vtd_ecap_pass_through(u->ecap) ? ", pass-through" : "",
           vtd_ecap_coherent(u->ecap) ? ", coherent walks" : ", non-coherent walks",
           (u->status & VTD_GSTS_TES) ? "ON (left by firmware)" : "off");
}

void vtd_probe(const struct dmar_summary *dmar)
{
    vtd_units.unit_count = 0;
    if (!dmar || dmar->unit_count == 0) {
        printk("IOMMU: no DMAR table, so no IOMMU: DMA isolation is unavailable and no device "
               "will be given DMA\n");
        return;
    }
    for (unsigned i = 0; i < dmar->unit_count; i++) {
        struct vtd_unit_info *u = &vtd_units.units[vtd_units.unit_count];
        u->register_base = dmar->units[i].register_base;
        u->registers = mmio_map(u->register_base, VTD_REGISTER_PAGE_BYTES);
        if (!u->registers) {
            printk("IOMMU:   cannot map the registers at 0x%llx\n", (unsigned long long)u->register_base);
            continue;
        }
        u->version = read32(u, VTD_REG_VERSION);
        u->cap = read64(u, VTD_REG_CAP);
        u->ecap = read64(u, VTD_REG_ECAP);
        u->status = read32(u, VTD_REG_GSTS);
        u->responding = u->version != 0 && u->version != 0xFFFFFFFFu && u->cap != 0 && u->cap != ~0ull;
        vtd_units.unit_count++;
    }
    printk("IOMMU: %u remapping unit(s) found (not enabled yet)\n", vtd_units.unit_count);
    for (unsigned i = 0; i < vtd_units.unit_count; i++)
        log_unit(i, &vtd_units.units[i]);
}
