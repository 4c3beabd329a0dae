/*
 * acpi.h - finding and validating ACPI tables, and the summaries the
 * kernel keeps of the MADT, MCFG and DMAR.
 *
 * Nothing is trusted: the RSDP's checksums and the root table's checksum
 * are checked, every table pointer is mapped through the caller's map
 * function (which refuses addresses it cannot vouch for), every table's
 * length and checksum are verified before it is listed. Tables that fail
 * are reported and skipped. Pure code: unit-tested on the host against
 * tables captured from QEMU (tests/unit/fixtures/).
 */
#ifndef WARDEN_ACPI_ACPI_H
#define WARDEN_ACPI_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/acpi_tables.h"

/* Returns a readable pointer to [phys, phys+length), or NULL if that
 * memory cannot be read (outside the memory map, unmappable). */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t length);

#define ACPI_MAX_TABLES 64

struct acpi_table {
    char signature[5];
    uint64_t phys;
    const struct acpi_sdt_header *header;   /* validated, header->length readable */
};

struct acpi {
    acpi_map_fn map;
    void *map_ctx;
    uint8_t rsdp_revision;
    bool root_is_xsdt;
    uint64_t root_phys;
    char oem_id[7];
    unsigned table_count;
    struct acpi_table tables[ACPI_MAX_TABLES];
    unsigned tables_rejected;
};

enum acpi_result {
    ACPI_OK = 0,
    ACPI_ERR_NO_RSDP = -1,          /* missing, bad signature or bad checksum */
    ACPI_ERR_BAD_ROOT = -2,         /* neither XSDT nor RSDT is usable */
};

/* rsdp points at a copy of the RSDP of rsdp_length bytes. */
int acpi_init(struct acpi *acpi, const void *rsdp, size_t rsdp_length, acpi_map_fn map, void *ctx);

/* The instance-th (0-based) valid table with this signature, or NULL. */
const struct acpi_sdt_header *acpi_find(const struct acpi *acpi, const char signature[4], unsigned instance);

/* Sum of `length` bytes modulo 256 (0 for a valid table). */
uint8_t acpi_checksum(const void *data, size_t length);

/* --- MADT --------------------------------------------------------------- */
#define MADT_MAX_CPUS 256
#define MADT_MAX_IOAPICS 16
#define MADT_MAX_OVERRIDES 24

struct madt_summary {
    uint64_t lapic_address;
    bool has_8259;
    unsigned cpu_count;                         /* enabled or online-capable */
    uint32_t cpu_apic_ids[MADT_MAX_CPUS];
    unsigned ioapic_count;
    struct { uint8_t id; uint32_t address; uint32_t gsi_base; } ioapics[MADT_MAX_IOAPICS];
    unsigned override_count;
    struct { uint8_t source_irq; uint32_t gsi; uint16_t flags; } overrides[MADT_MAX_OVERRIDES];
    unsigned entries_rejected;
};

bool madt_parse(const struct acpi_sdt_header *table, struct madt_summary *out);

/* --- MCFG --------------------------------------------------------------- */
#define MCFG_MAX_SEGMENTS 8

struct mcfg_summary {
    unsigned count;
    struct { uint64_t base; uint16_t segment; uint8_t start_bus; uint8_t end_bus; } segments[MCFG_MAX_SEGMENTS];
    unsigned entries_rejected;
};

bool mcfg_parse(const struct acpi_sdt_header *table, struct mcfg_summary *out);

#endif
