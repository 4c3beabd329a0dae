/*
 * iommu.h - boot-time DMA isolation: turns bus mastering off on every PCI
 * function, enables every VT-d unit (deny-all), resolves the DMAR onto the
 * PCI topology (units, requester IDs, groups), identity-maps RMRRs for
 * their devices, and makes the device objects. Runs before user space.
 */
#ifndef WARDEN_IOMMU_IOMMU_H
#define WARDEN_IOMMU_IOMMU_H

#include "acpi/dmar.h"

/* dmar may be NULL (no IOMMU: devices are listed but DMA is refused). */
void iommu_boot(const struct dmar_summary *dmar);

#endif
