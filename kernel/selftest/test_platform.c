/*
 * test_platform.c - boot tests of what ACPI told us: every listed table
 * re-checks, the MADT names this CPU and an IOAPIC, the MCFG's ECAM window
 * agrees with legacy port-I/O config access, and the DMAR's units answer.
 */
#include "selftest/ktest.h"
#include "acpi/platform.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "iommu/vtd_probe.h"
#include "iommu/vtd_regs.h"
#include "pci/ecam.h"

#include <string.h>

void test_acpi_tables_valid(struct ktest_context *t)
{
    if (!KTEST_EXPECT(t, platform.acpi_ok))
        return;
    const struct acpi *a = &platform.acpi;
    KTEST_EXPECT(t, a->table_count >= 3);
    KTEST_EXPECT(t, a->tables_rejected == 0);
    for (unsigned i = 0; i < a->table_count; i++) {
        const struct acpi_sdt_header *h = a->tables[i].header;
        KTEST_EXPECT(t, memcmp(h->signature, a->tables[i].signature, 4) == 0);
        KTEST_EXPECT(t, acpi_checksum(h, h->length) == 0);
    }
    KTEST_EXPECT(t, acpi_find(a, "FACP", 0) != NULL);
}

void test_madt_cpus_and_ioapics(struct ktest_context *t)
{
    if (!KTEST_EXPECT(t, platform.has_madt))
        return;
    KTEST_EXPECT(t, platform.madt.cpu_count >= 1);
    KTEST_EXPECT(t, platform.madt.ioapic_count >= 1);
    bool found_self = false;
    for (unsigned i = 0; i < platform.madt.cpu_count; i++)
        found_self |= platform.madt.cpu_apic_ids[i] == lapic_id();
    KTEST_EXPECT(t, found_self);
}

/* Legacy configuration mechanism #1 (ports 0xCF8/0xCFC), for comparison. */
static uint32_t port_io_config_read32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset)
{
    outl(0xCF8, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)device << 11 | (uint32_t)function << 8 | offset);
    return inl(0xCFC);
}

void test_mcfg_ecam_matches_port_io(struct ktest_context *t)
{
    if (!KTEST_EXPECT(t, platform.has_mcfg && ecam_available()))
        return;
    uint32_t host_bridge = pci_config_read32(0, 0, 0, 0);
    KTEST_EXPECT(t, (host_bridge & 0xFFFF) != 0xFFFF && (host_bridge & 0xFFFF) != 0);
    unsigned compared = 0, mismatched = 0;
    for (uint8_t dev = 0; dev < 32; dev++) {
        for (uint8_t off = 0; off < 0x40; off += 4) {
            if (off == 0x04)
                continue;   /* the status register may change between reads */
            compared++;
            if (pci_config_read32(0, dev, 0, off) != port_io_config_read32(0, dev, 0, off))
                mismatched++;
        }
    }
    KTEST_EXPECT(t, compared > 0 && mismatched == 0);

    /* Writes land too: the interrupt line register (0x3C, low byte) is a
     * software scratch byte on every function. Restore it afterwards. */
    uint32_t saved = pci_config_read32(0, 0, 0, 0x3C);
    pci_config_write32(0, 0, 0, 0x3C, (saved & ~0xFFu) | 0xA5);
    KTEST_EXPECT(t, (port_io_config_read32(0, 0, 0, 0x3C) & 0xFF) == 0xA5);
    pci_config_write32(0, 0, 0, 0x3C, saved);
    KTEST_EXPECT(t, pci_config_read32(0, 0, 0, 0x3C) == saved);
}

void test_iommu_units(struct ktest_context *t)
{
    if (!platform.has_dmar) {
        ktest_skip(t, "no IOMMU: the firmware has no DMAR table");
        return;
    }
    KTEST_EXPECT(t, platform.dmar.unit_count >= 1);
    KTEST_EXPECT(t, vtd_units.unit_count == platform.dmar.unit_count);
    for (unsigned i = 0; i < vtd_units.unit_count; i++) {
        const struct vtd_unit_info *u = &vtd_units.units[i];
        KTEST_EXPECT(t, u->responding);
        KTEST_EXPECT(t, vtd_version_major(u->version) >= 1);
        KTEST_EXPECT(t, vtd_cap_sagaw(u->cap) != 0);
        KTEST_EXPECT(t, vtd_cap_mgaw(u->cap) >= 39);
    }
}
