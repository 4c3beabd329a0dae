/*
 * iommu.h - boot-time DMA isolation: turns bus mastering off on every PCI
 * function, enables every VT-d unit (deny-all), resolves the DMAR onto the
 * PCI topology (units, requester IDs, groups), identity-maps RMRRs for
 * their devices, and makes the device objects. Runs before user space.
 */
#ifndef WARDEN_IOMMU_IOMMU_H
#define WARDEN_IOMMU_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/dmar.h"

/* dmar may be NULL (no IOMMU: devices are listed but DMA is refused). */
void iommu_boot(const struct dmar_summary *dmar);

struct vtd_unit;
struct pci_topology;
/* The topology iommu_boot enumerated. */
const struct pci_topology *iommu_pci_topology(void);
/* The unit that remaps the interrupts of I/O APIC `ioapic_id` and the source ID they carry
 * (the DMAR's IOAPIC device scope). false when no unit with interrupt remapping covers it. */
bool iommu_ioapic_source(uint8_t ioapic_id, struct vtd_unit **unit, uint16_t *source_id);

#endif
