/*
 * vtd_probe.h - finds the VT-d remapping units the DMAR lists and reads
 * their identity and capabilities. Read-only: nothing is enabled yet
 * (bring-up is the VT-d issue's work).
 */
#ifndef WARDEN_IOMMU_VTD_PROBE_H
#define WARDEN_IOMMU_VTD_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/dmar.h"

struct vtd_unit_info {
    uint64_t register_base;
    volatile uint8_t *registers;
    bool responding;                /* registers read back sane values */
    uint32_t version;
    uint64_t cap, ecap;
    uint32_t status;                /* GSTS */
};

struct vtd_probe_result {
    unsigned unit_count;
    struct vtd_unit_info units[DMAR_MAX_UNITS];
};

extern struct vtd_probe_result vtd_units;

/* Logs "IOMMU: N remapping unit(s)" with each unit's capabilities, or that
 * there is no IOMMU. dmar may be NULL (no DMAR table). */
void vtd_probe(const struct dmar_summary *dmar);

#endif
