/*
 * pci_enum.h - the PCI topology as the kernel sees it at boot: every
 * function firmware numbered, its BARs, capabilities and bridges, with Bus
 * Master Enable forced off; then which DMAR unit covers each function, the
 * requester ID its DMA carries and its IOMMU group.
 *
 * Pure code: config space comes through struct pci_config_access, so the
 * same module runs over ECAM in the kernel and over a fake in unit tests.
 */
#ifndef WARDEN_PCI_ENUM_H
#define WARDEN_PCI_ENUM_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/dmar.h"

struct pci_config_access {
    uint32_t (*read32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset);
    void (*write32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset, uint32_t value);
    void *ctx;
};

#define PCI_MAX_FUNCTIONS 256
#define PCI_NO_UNIT 0xFFFFFFFFu
#define PCI_MAX_BRIDGE_DEPTH 32     /* bridges below bus 0 followed at most this deep */

struct pci_bar {
    uint64_t base, size;            /* size 0: no BAR in this slot (or the high half of a 64-bit one) */
    uint32_t flags;                 /* WD_BAR_* from <warden/device.h> */
};

struct pci_function {
    uint8_t bus, dev, fn;
    uint16_t vendor_id, device_id;
    uint32_t class_code;            /* class<<16 | subclass<<8 | prog-if */
    uint8_t revision, header_type;  /* header type without the multi-function bit */
    uint8_t pcie_cap, msi_cap, msix_cap;    /* config offsets of those capabilities, 0 if absent */
    uint8_t pcie_port_type;         /* PCIe device/port type (PCIE_TYPE_*), if pcie_cap */
    uint8_t secondary_bus, subordinate_bus; /* bridges (header type 1) */
    int parent;                     /* index of the bridge above it, -1 on the root bus */
    bool bus_master_was_on;         /* BME was set at boot (it is cleared by pci_enumerate) */
    uint16_t requester_id;          /* the source ID its DMA carries */
    bool aliased;                   /* a bridge above it rewrites its requester ID */
    uint32_t unit;                  /* DMAR unit index covering it, PCI_NO_UNIT if none */
    uint32_t group;                 /* IOMMU group number, dense from 0 */
    struct pci_bar bars[6];
};

struct pci_topology {
    unsigned count;
    bool truncated;                 /* more than PCI_MAX_FUNCTIONS functions */
    unsigned group_count;
    struct pci_function functions[PCI_MAX_FUNCTIONS];
};

/*
 * Scans bus 0 and, depth first, every bridge's secondary bus (as firmware
 * numbered them; a secondary bus not above the bridge's own bus, or seen
 * before, is not followed). Records each function, finds its PCIe, MSI and
 * MSI-X capabilities (bounded walk), clears Bus Master Enable on every
 * function (remembering whether it was on) and sizes its BARs with decode
 * off, restoring every BAR and the command register (minus BME) after.
 * Functions past PCI_MAX_FUNCTIONS are still quiesced (BME cleared), not
 * recorded, and set `truncated`; a bridge left out is not descended (with
 * its BME off it forwards no DMA from below).
 */
void pci_enumerate(const struct pci_config_access *cfg, struct pci_topology *out);

/*
 * Resolves the DMAR's device scopes for `segment` onto the topology (dmar
 * may be NULL: no unit covers anything): an endpoint scope covers the one
 * function its path names, a bridge scope the bridge and everything below
 * it, first claim wins; an INCLUDE_PCI_ALL unit then covers every function
 * left unclaimed. Returns how many endpoint/bridge scopes could not be
 * resolved (skipped). Then computes requester IDs the way Linux's
 * pci_for_each_dma_alias does (the top-most alias wins) and IOMMU groups:
 * functions with the same (unit, requester_id) share one; numbered densely
 * in enumeration order.
 */
unsigned pci_assign_iommu(struct pci_topology *t, const struct dmar_summary *dmar, uint16_t segment);

/* Function index by BDF, or -1. */
int pci_find(const struct pci_topology *t, uint8_t bus, uint8_t dev, uint8_t fn);

/* Index of the function a scope's path names (walking bridges from its
 * start bus), or -1 if a hop is missing or is not a bridge. */
int pci_resolve_scope_endpoint(const struct pci_topology *t, const struct dmar_scope *s);

#endif
