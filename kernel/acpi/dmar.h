/*
 * dmar.h - the validated summary of the DMAR table: remapping units with
 * their device scopes, reserved memory regions, ATS reporting structures.
 * This issue only summarises; the IOMMU code builds groups from it later.
 */
#ifndef WARDEN_ACPI_DMAR_H
#define WARDEN_ACPI_DMAR_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/dmar_tables.h"

#define DMAR_MAX_UNITS 8
#define DMAR_MAX_RMRRS 16
#define DMAR_MAX_SCOPES 32
#define DMAR_MAX_PATH 4

struct dmar_scope {
    uint8_t type;                   /* enum dmar_scope_type */
    uint8_t enumeration_id;
    uint8_t start_bus;
    uint8_t path_length;
    struct { uint8_t device, function; } path[DMAR_MAX_PATH];
};

struct dmar_unit {
    uint64_t register_base;
    uint16_t segment;
    bool include_pci_all;
    unsigned scope_count;
    struct dmar_scope scopes[DMAR_MAX_SCOPES];
};

struct dmar_rmrr_region {
    uint64_t base;
    uint64_t limit;                 /* inclusive */
    uint16_t segment;
    unsigned scope_count;
    struct dmar_scope scopes[DMAR_MAX_SCOPES];
};

struct dmar_summary {
    unsigned address_width;         /* bits, i.e. host_address_width + 1 */
    uint8_t flags;
    unsigned unit_count;
    struct dmar_unit units[DMAR_MAX_UNITS];
    unsigned rmrr_count;
    struct dmar_rmrr_region rmrrs[DMAR_MAX_RMRRS];
    unsigned atsr_count;
    unsigned other_count;           /* RHSA, ANDD, SATC, unknown */
    unsigned rejected;              /* malformed structures or scopes skipped */
};

/* Validates and summarises; false only if the table is unusable as a whole. */
bool dmar_parse(const struct acpi_sdt_header *table, struct dmar_summary *out);

const char *dmar_scope_type_name(uint8_t type);

#endif
