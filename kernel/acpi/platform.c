/*
 * platform.c - ACPI discovery at boot (see platform.h).
 *
 * Mapping policy for table pointers read from firmware: a range inside a
 * RAM region of the memory map is read through the direct map; a range
 * inside another memory-map region (firmware-reserved) is mapped read-only
 * through the firmware window; anything else is refused, so a corrupt
 * pointer can never make the kernel read device registers or fault.
 */
#include "acpi/platform.h"
#include "core/printk.h"
#include "mm/kernel_vm.h"
#include "mm/physmem.h"

#include <string.h>

struct platform platform;

#define FIRMWARE_WINDOW_CACHE 16
#define FIRMWARE_MAP_MIN_BYTES 0x10000

struct firmware_mapping { uint64_t phys, length; const uint8_t *virt; };

struct map_context {
    const struct mb2_summary *boot;
    unsigned mapping_count;
    struct firmware_mapping mappings[FIRMWARE_WINDOW_CACHE];
};

static const struct mb2_memory_region *region_containing(const struct mb2_summary *boot,
                                                         uint64_t phys, uint64_t length)
{
    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct mb2_memory_region *r = &boot->mmap[i];
        if (phys >= r->base && phys + length <= r->base + r->length)
            return r;
    }
    return NULL;
}

static const void *acpi_kernel_map(void *ctx, uint64_t phys, size_t length)
{
    struct map_context *mc = ctx;
    if (length == 0 || phys + length < phys)
        return NULL;
    const struct mb2_memory_region *r = region_containing(mc->boot, phys, length);
    if (!r)
        return NULL;
    if (mb2_memory_type_is_ram(r->type))     /* exactly what the direct map covers */
        return physmem_is_reachable(phys, length) ? phys_to_virt(phys) : NULL;

    for (unsigned i = 0; i < mc->mapping_count; i++) {
        const struct firmware_mapping *m = &mc->mappings[i];
        if (phys >= m->phys && phys + length <= m->phys + m->length)
            return m->virt + (phys - m->phys);
    }
    if (mc->mapping_count == FIRMWARE_WINDOW_CACHE)
        return NULL;
    /* Map a little more than asked (neighbouring tables), within the region. */
    uint64_t span = length < FIRMWARE_MAP_MIN_BYTES ? FIRMWARE_MAP_MIN_BYTES : length;
    if (phys + span > r->base + r->length)
        span = r->base + r->length - phys;
    const uint8_t *virt = firmware_map(phys, span);
    if (!virt)
        return NULL;
    mc->mappings[mc->mapping_count++] = (struct firmware_mapping){ phys, span, virt };
    return virt;
}

static struct map_context map_context;

static void log_tables(void)
{
    const struct acpi *a = &platform.acpi;
    printk("acpi: RSDP revision %u, OEM \"%s\", %s at 0x%llx, %u tables:", a->rsdp_revision, a->oem_id,
           a->root_is_xsdt ? "XSDT" : "RSDT", (unsigned long long)a->root_phys, a->table_count);
    for (unsigned i = 0; i < a->table_count; i++)
        printk(" %s", a->tables[i].signature);
    printk("%s\n", a->tables_rejected ? " (some rejected, see above)" : "");
}

static void log_dmar(const struct dmar_summary *d)
{
    printk("acpi: DMAR: host address width %u bits, interrupt remapping %s, %u remapping unit(s), %u RMRR, %u ATSR\n",
           d->address_width, (d->flags & DMAR_FLAG_INTR_REMAP) ? "supported" : "not supported",
           d->unit_count, d->rmrr_count, d->atsr_count);
    for (unsigned i = 0; i < d->unit_count; i++) {
        const struct dmar_unit *u = &d->units[i];
        printk("acpi:   DRHD 0x%llx segment %u%s:", (unsigned long long)u->register_base, u->segment,
               u->include_pci_all ? " INCLUDE_PCI_ALL" : "");
        for (unsigned k = 0; k < u->scope_count; k++) {
            const struct dmar_scope *s = &u->scopes[k];
            uint8_t dev = s->path_length ? s->path[s->path_length - 1].device : 0;
            uint8_t fn = s->path_length ? s->path[s->path_length - 1].function : 0;
            printk(" %s %02x:%02x.%u", dmar_scope_type_name(s->type), s->start_bus, dev, fn);
        }
        printk("\n");
    }
    for (unsigned i = 0; i < d->rmrr_count; i++)
        printk("acpi:   RMRR 0x%llx-0x%llx (%u devices)\n", (unsigned long long)d->rmrrs[i].base,
               (unsigned long long)d->rmrrs[i].limit, d->rmrrs[i].scope_count);
}

void platform_discover(const struct mb2_summary *boot)
{
    memset(&platform, 0, sizeof platform);
    map_context = (struct map_context){ .boot = boot };
    int r = acpi_init(&platform.acpi, boot->rsdp_length ? boot->rsdp : NULL, boot->rsdp_length,
                      acpi_kernel_map, &map_context);
    if (r != ACPI_OK) {
        printk("acpi: %s: no ACPI tables, so no MADT, MCFG or DMAR\n",
               r == ACPI_ERR_NO_RSDP ? "no valid RSDP from the boot loader" : "no valid RSDT or XSDT");
        return;
    }
    platform.acpi_ok = true;
    log_tables();

    const struct acpi_sdt_header *t;
    if ((t = acpi_find(&platform.acpi, "APIC", 0)) && madt_parse(t, &platform.madt)) {
        platform.has_madt = true;
        printk("acpi: MADT: %u CPUs, %u IOAPIC(s), %u interrupt overrides, LAPIC at 0x%llx\n",
               platform.madt.cpu_count, platform.madt.ioapic_count, platform.madt.override_count,
               (unsigned long long)platform.madt.lapic_address);
        for (unsigned i = 0; i < platform.madt.ioapic_count; i++)
            printk("acpi:   IOAPIC id %u at 0x%x, GSI base %u\n", platform.madt.ioapics[i].id,
                   platform.madt.ioapics[i].address, platform.madt.ioapics[i].gsi_base);
    } else {
        printk("acpi: no usable MADT\n");
    }
    if ((t = acpi_find(&platform.acpi, "MCFG", 0)) && mcfg_parse(t, &platform.mcfg) && platform.mcfg.count) {
        platform.has_mcfg = true;
        for (unsigned i = 0; i < platform.mcfg.count; i++)
            printk("acpi: MCFG: ECAM at 0x%llx, segment %u, buses %u-%u\n",
                   (unsigned long long)platform.mcfg.segments[i].base, platform.mcfg.segments[i].segment,
                   platform.mcfg.segments[i].start_bus, platform.mcfg.segments[i].end_bus);
    } else {
        printk("acpi: no usable MCFG: PCI Express config space unavailable\n");
    }
    if ((t = acpi_find(&platform.acpi, "DMAR", 0)) && dmar_parse(t, &platform.dmar)) {
        platform.has_dmar = true;
        log_dmar(&platform.dmar);
    } else {
        printk("acpi: no DMAR table\n");
    }
}
