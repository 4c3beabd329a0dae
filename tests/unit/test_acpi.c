/*
 * test_acpi.c - ACPI discovery against tables captured from QEMU q35
 * (tests/unit/fixtures/acpi-*), then the same tables corrupted: bad RSDP,
 * bad checksums, lengths past the end, pointers outside memory, malformed
 * MADT, MCFG and DMAR entries. Corrupt input is reported and skipped.
 */
#include "unit.h"
#include "fake_phys.h"
#include "acpi/acpi.h"
#include "acpi/dmar.h"

#include <string.h>

static struct fake_phys fp;
static struct acpi acpi;

/* Loads a captured machine's tables into the fake physical memory. */
static void load_fixture(const char *machine)
{
    fake_phys_free(&fp);
    fake_phys_load(&fp, machine);
}

/* Runs discovery over whatever the fake physical memory holds now. */
static int discover(void)
{
    return acpi_init(&acpi, fp.rsdp, fp.rsdp_length, fake_phys_map, &fp);
}

static int load(const char *machine)
{
    load_fixture(machine);
    return discover();
}

TEST(acpi_q35_iommu_tables_are_found_and_valid)
{
    CHECK_EQ(load("acpi-q35-iommu"), ACPI_OK);
    CHECK_EQ(acpi.rsdp_revision, 0);
    CHECK(!acpi.root_is_xsdt);
    CHECK(strcmp(acpi.oem_id, "BOCHS ") == 0);
    CHECK_EQ(acpi.table_count, 6);
    CHECK_EQ(acpi.tables_rejected, 0);
    const char *expected[] = { "FACP", "APIC", "HPET", "MCFG", "DMAR", "WAET" };
    for (int i = 0; i < 6; i++) {
        const struct acpi_sdt_header *h = acpi_find(&acpi, expected[i], 0);
        CHECK(h != NULL);
        if (h)
            CHECK_EQ(acpi_checksum(h, h->length), 0);
    }
    CHECK(acpi_find(&acpi, "DMAR", 1) == NULL);
    CHECK(acpi_find(&acpi, "NONE", 0) == NULL);
}

TEST(acpi_q35_madt_summary)
{
    CHECK_EQ(load("acpi-q35-iommu"), ACPI_OK);
    struct madt_summary m;
    CHECK(madt_parse(acpi_find(&acpi, "APIC", 0), &m));
    CHECK_EQ(m.lapic_address, 0xFEE00000u);
    CHECK_EQ(m.cpu_count, 1);
    CHECK_EQ(m.cpu_apic_ids[0], 0);
    CHECK_EQ(m.ioapic_count, 1);
    CHECK_EQ(m.ioapics[0].address, 0xFEC00000u);
    CHECK_EQ(m.ioapics[0].gsi_base, 0);
    CHECK_EQ(m.override_count, 5);
    CHECK_EQ(m.overrides[0].source_irq, 0);     /* ISA IRQ0 (PIT) -> GSI 2 on q35 */
    CHECK_EQ(m.overrides[0].gsi, 2);
    CHECK_EQ(m.entries_rejected, 0);
}

TEST(acpi_q35_mcfg_summary)
{
    CHECK_EQ(load("acpi-q35-iommu"), ACPI_OK);
    struct mcfg_summary m;
    CHECK(mcfg_parse(acpi_find(&acpi, "MCFG", 0), &m));
    CHECK_EQ(m.count, 1);
    CHECK_EQ(m.segments[0].base, 0xB0000000u);
    CHECK_EQ(m.segments[0].segment, 0);
    CHECK_EQ(m.segments[0].start_bus, 0);
    CHECK_EQ(m.segments[0].end_bus, 255);
    CHECK_EQ(m.entries_rejected, 0);
}

static const struct dmar_scope *find_scope(const struct dmar_unit *u, uint8_t type, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < u->scope_count; i++) {
        const struct dmar_scope *s = &u->scopes[i];
        if (s->type == type && s->start_bus == bus && s->path_length == 1 &&
            s->path[0].device == dev && s->path[0].function == fn)
            return s;
    }
    return NULL;
}

TEST(acpi_q35_dmar_summary)
{
    CHECK_EQ(load("acpi-q35-iommu"), ACPI_OK);
    struct dmar_summary d;
    CHECK(dmar_parse(acpi_find(&acpi, "DMAR", 0), &d));
    CHECK_EQ(d.address_width, 39);
    CHECK(d.flags & DMAR_FLAG_INTR_REMAP);
    CHECK_EQ(d.unit_count, 1);
    CHECK_EQ(d.units[0].register_base, 0xFED90000u);
    CHECK(!d.units[0].include_pci_all);
    CHECK_EQ(d.units[0].scope_count, 8);
    CHECK(find_scope(&d.units[0], DMAR_SCOPE_IOAPIC, 0xFF, 0, 0) != NULL);
    CHECK(find_scope(&d.units[0], DMAR_SCOPE_ENDPOINT, 0, 3, 0) != NULL);   /* edu */
    CHECK(find_scope(&d.units[0], DMAR_SCOPE_ENDPOINT, 0, 0x1F, 2) != NULL); /* AHCI */
    CHECK_EQ(d.rmrr_count, 0);
    CHECK_EQ(d.atsr_count, 0);
    CHECK_EQ(d.rejected, 0);
}

TEST(acpi_dmar_variants_aw48_bridge_and_none)
{
    struct dmar_summary d;
    CHECK_EQ(load("acpi-q35-iommu-aw48"), ACPI_OK);
    CHECK(dmar_parse(acpi_find(&acpi, "DMAR", 0), &d));
    CHECK_EQ(d.address_width, 48);

    CHECK_EQ(load("acpi-q35-iommu-bridge"), ACPI_OK);
    CHECK(dmar_parse(acpi_find(&acpi, "DMAR", 0), &d));
    CHECK(find_scope(&d.units[0], DMAR_SCOPE_BRIDGE, 0, 3, 0) != NULL);     /* root port above the bridge */

    CHECK_EQ(load("acpi-q35-no-iommu"), ACPI_OK);
    CHECK_EQ(acpi.table_count, 5);
    CHECK(acpi_find(&acpi, "DMAR", 0) == NULL);
}

TEST(acpi_bad_rsdp_is_refused)
{
    load_fixture("acpi-q35-iommu");
    uint8_t rsdp[36];
    memcpy(rsdp, fp.rsdp, 20);
    rsdp[8] ^= 1;                                   /* checksum byte */
    CHECK_EQ(acpi_init(&acpi, rsdp, 20, fake_phys_map, &fp), ACPI_ERR_NO_RSDP);
    CHECK(unit_log_contains("RSDP checksum"));
    memcpy(rsdp, fp.rsdp, 20);
    rsdp[0] = 'X';
    CHECK_EQ(acpi_init(&acpi, rsdp, 20, fake_phys_map, &fp), ACPI_ERR_NO_RSDP);
    CHECK_EQ(acpi_init(&acpi, fp.rsdp, 10, fake_phys_map, &fp), ACPI_ERR_NO_RSDP);  /* truncated */
    CHECK_EQ(acpi_init(&acpi, NULL, 0, fake_phys_map, &fp), ACPI_ERR_NO_RSDP);
}

TEST(acpi_rsdp_v2_with_bad_extended_checksum_falls_back_to_rsdt)
{
    load_fixture("acpi-q35-iommu");
    struct acpi_rsdp r;
    memset(&r, 0, sizeof r);
    memcpy(&r, fp.rsdp, 20);
    r.revision = 2;
    r.length = 36;
    r.xsdt_address = 0x12345000;                    /* nothing there */
    r.checksum = 0;
    r.checksum = (uint8_t)(0x100 - acpi_checksum(&r, 20));
    r.extended_checksum = 0;
    r.extended_checksum = (uint8_t)(0x100 - acpi_checksum(&r, 36));
    CHECK_EQ(acpi_init(&acpi, &r, 36, fake_phys_map, &fp), ACPI_OK);   /* XSDT unreadable -> RSDT */
    CHECK(!acpi.root_is_xsdt);
    CHECK_EQ(acpi.table_count, 6);
    CHECK(unit_log_contains("outside readable memory"));
    r.extended_checksum ^= 0x55;
    unit_log_clear();
    CHECK_EQ(acpi_init(&acpi, &r, 36, fake_phys_map, &fp), ACPI_OK);
    CHECK(unit_log_contains("extended checksum"));

    /* A length field larger than the structure: the checksum covers the
     * caller's bytes (ASan would catch a read past a 36-byte copy). */
    uint8_t longer[64] = { 0 };
    r.length = sizeof longer;
    r.checksum = 0;
    r.checksum = (uint8_t)(0x100 - acpi_checksum(&r, 20));
    memcpy(longer, &r, 36);
    longer[36] = 0x77;
    longer[32] = 0;
    longer[32] = (uint8_t)(0x100 - acpi_checksum(longer, sizeof longer));
    unit_log_clear();
    CHECK_EQ(acpi_init(&acpi, longer, sizeof longer, fake_phys_map, &fp), ACPI_OK);
    CHECK(!unit_log_contains("extended checksum"));
}

TEST(acpi_corrupt_table_is_skipped_others_kept)
{
    load_fixture("acpi-q35-iommu");
    size_t len;
    uint8_t *dmar = fake_phys_table(&fp, "DMAR", &len);
    dmar[40] ^= 0xFF;                               /* break the checksum */
    CHECK_EQ(discover(), ACPI_OK);
    CHECK_EQ(acpi.table_count, 5);
    CHECK_EQ(acpi.tables_rejected, 1);
    CHECK(acpi_find(&acpi, "DMAR", 0) == NULL);
    CHECK(acpi_find(&acpi, "APIC", 0) != NULL);
    CHECK(unit_log_contains("DMAR at 0x"));
    CHECK(unit_log_contains("bad checksum"));
}

TEST(acpi_table_length_past_its_end_is_skipped)
{
    load_fixture("acpi-q35-iommu");
    size_t len;
    uint8_t *mcfg = fake_phys_table(&fp, "MCFG", &len);
    uint32_t huge = 0x10000;
    memcpy(mcfg + 4, &huge, 4);                     /* claims 64 KiB; only 60 bytes exist */
    CHECK_EQ(discover(), ACPI_OK);
    CHECK(acpi_find(&acpi, "MCFG", 0) == NULL);
    CHECK(unit_log_contains("past readable memory"));
    uint32_t tiny = 10;
    memcpy(mcfg + 4, &tiny, 4);                     /* shorter than a header */
    unit_log_clear();
    CHECK_EQ(discover(), ACPI_OK);
    CHECK(acpi_find(&acpi, "MCFG", 0) == NULL);
    CHECK(unit_log_contains("impossible length"));
}

TEST(acpi_bad_root_table_is_an_error)
{
    load_fixture("acpi-q35-iommu");
    size_t len;
    uint8_t *rsdt = fake_phys_table(&fp, "RSDT", &len);
    rsdt[20] ^= 1;
    CHECK_EQ(discover(), ACPI_ERR_BAD_ROOT);
    rsdt[20] ^= 1;
    memcpy(rsdt, "FAKE", 4);
    fake_phys_fix_checksum(rsdt, len);
    CHECK_EQ(discover(), ACPI_ERR_BAD_ROOT);
    CHECK(unit_log_contains("expected RSDT"));
}

TEST(acpi_rsdt_entry_pointing_outside_memory_is_skipped)
{
    load_fixture("acpi-q35-iommu");
    size_t len;
    uint8_t *rsdt = fake_phys_table(&fp, "RSDT", &len);
    uint32_t nowhere = 0xFEC00000;                  /* the IOAPIC: must never be read as a table */
    memcpy(rsdt + 36, &nowhere, 4);
    fake_phys_fix_checksum(rsdt, len);
    CHECK_EQ(discover(), ACPI_OK);
    CHECK_EQ(acpi.table_count, 5);
    CHECK_EQ(acpi.tables_rejected, 1);
}

TEST(madt_malformed_entries)
{
    CHECK_EQ(load("acpi-q35-iommu"), ACPI_OK);
    size_t len;
    uint8_t *apic = fake_phys_table(&fp, "APIC", &len);
    struct madt_summary m;
    apic[44 + 1] = 0;                               /* first entry: length 0 */
    CHECK(madt_parse((const struct acpi_sdt_header *)apic, &m));
    CHECK_EQ(m.cpu_count, 0);
    CHECK_EQ(m.entries_rejected, 1);
    CHECK(unit_log_contains("bad length"));
    apic[44 + 1] = 200;                             /* runs past the table */
    CHECK(madt_parse((const struct acpi_sdt_header *)apic, &m));
    CHECK_EQ(m.entries_rejected, 1);
    apic[44 + 1] = 4;                               /* shorter than a local APIC entry */
    CHECK(madt_parse((const struct acpi_sdt_header *)apic, &m));
    CHECK_EQ(m.entries_rejected, 1);
    uint32_t short_len = 40;
    memcpy(apic + 4, &short_len, 4);
    CHECK(!madt_parse((const struct acpi_sdt_header *)apic, &m));
}

TEST(mcfg_malformed_entries)
{
    CHECK_EQ(load("acpi-q35-iommu"), ACPI_OK);
    size_t len;
    uint8_t copy[64];
    const uint8_t *orig = fake_phys_table(&fp, "MCFG", &len);
    memcpy(copy, orig, len);
    struct mcfg_summary m;
    copy[44 + 10] = 9;                              /* start bus 9 > end bus 3 */
    copy[44 + 11] = 3;
    CHECK(mcfg_parse((const struct acpi_sdt_header *)copy, &m));
    CHECK_EQ(m.count, 0);
    CHECK_EQ(m.entries_rejected, 1);
    uint32_t odd = 44 + 10;                         /* a partial allocation entry */
    memcpy(copy + 4, &odd, 4);
    CHECK(mcfg_parse((const struct acpi_sdt_header *)copy, &m));
    CHECK_EQ(m.count, 0);
    CHECK(unit_log_contains("trailing bytes"));
}

TEST(dmar_malformed_structures_and_scopes)
{
    CHECK_EQ(load("acpi-q35-iommu"), ACPI_OK);
    size_t len;
    uint8_t copy[256];
    uint8_t *orig = fake_phys_table(&fp, "DMAR", &len);
    struct dmar_summary d;

    memcpy(copy, orig, len);
    copy[48 + 2] = 2;                               /* DRHD length smaller than a structure header */
    copy[48 + 3] = 0;
    CHECK(dmar_parse((const struct acpi_sdt_header *)copy, &d));
    CHECK_EQ(d.unit_count, 0);
    CHECK_EQ(d.rejected, 1);

    memcpy(copy, orig, len);
    copy[48 + 2] = 0xFF;                            /* DRHD runs past the table */
    CHECK(dmar_parse((const struct acpi_sdt_header *)copy, &d));
    CHECK_EQ(d.unit_count, 0);
    CHECK_EQ(d.rejected, 1);

    memcpy(copy, orig, len);
    copy[48 + 16 + 8 + 1] = 7;                      /* second scope: odd length */
    CHECK(dmar_parse((const struct acpi_sdt_header *)copy, &d));
    CHECK_EQ(d.unit_count, 1);
    CHECK_EQ(d.units[0].scope_count, 1);            /* scopes after the bad one are dropped */
    CHECK_EQ(d.rejected, 1);

    memcpy(copy, orig, len);
    copy[48 + 16 + 1] = 72;                         /* first scope claims past its 80-byte DRHD */
    CHECK(dmar_parse((const struct acpi_sdt_header *)copy, &d));
    CHECK_EQ(d.units[0].scope_count, 0);
    CHECK_EQ(d.rejected, 1);

    uint32_t short_len = 40;
    memcpy(copy, orig, len);
    memcpy(copy + 4, &short_len, 4);
    CHECK(!dmar_parse((const struct acpi_sdt_header *)copy, &d));
}

TEST(dmar_rmrr_and_include_all_synthetic)
{
    /* QEMU emits neither RMRRs nor INCLUDE_PCI_ALL: build a table that has both. */
    uint8_t t[48 + 16 + 32 + 8] = { 0 };
    memcpy(t, "DMAR", 4);
    uint32_t total = sizeof t;
    memcpy(t + 4, &total, 4);
    t[36] = 45;                                     /* 46-bit host addresses */
    uint8_t drhd[16] = { 0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0xD0, 0xFE, 0, 0, 0, 0 };
    memcpy(t + 48, drhd, 16);
    uint8_t rmrr[24] = { 1, 0, 32, 0 };
    uint64_t base = 0x7F000000, limit = 0x7F0FFFFF;
    memcpy(rmrr + 8, &base, 8);
    memcpy(rmrr + 16, &limit, 8);
    memcpy(t + 64, rmrr, 24);
    uint8_t scope[8] = { DMAR_SCOPE_ENDPOINT, 8, 0, 0, 0, 0, 0x14, 0 };    /* 00:14.0 (USB) */
    memcpy(t + 88, scope, 8);
    t[96] = 2;                                      /* ATSR */
    t[98] = 8;
    fake_phys_fix_checksum(t, sizeof t);
    struct dmar_summary d;
    CHECK(dmar_parse((const struct acpi_sdt_header *)t, &d));
    CHECK_EQ(d.address_width, 46);
    CHECK_EQ(d.unit_count, 1);
    CHECK(d.units[0].include_pci_all);
    CHECK_EQ(d.units[0].register_base, 0xFED00000u);
    CHECK_EQ(d.rmrr_count, 1);
    CHECK_EQ(d.rmrrs[0].base, 0x7F000000u);
    CHECK_EQ(d.rmrrs[0].limit, 0x7F0FFFFFu);
    CHECK_EQ(d.rmrrs[0].scope_count, 1);
    CHECK_EQ(d.rmrrs[0].scopes[0].path[0].device, 0x14);
    CHECK_EQ(d.atsr_count, 1);
    CHECK_EQ(d.rejected, 0);
    fake_phys_free(&fp);
}
