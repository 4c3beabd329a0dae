/*
 * fake_pci.h - a fake PCI config space modelled on the QEMU q35 machines the
 * ACPI fixtures were captured from, for the PCI enumeration and IOMMU
 * topology tests (test_pci_enum.c, test_pci_iommu.c). It honours read-only
 * bits (IDs, header, BAR type and size bits), the status register's
 * write-one-to-clear bits, reads absent functions as all ones, and counts
 * writes pci_enumerate has no business making.
 *   acpi-q35-iommu:        endpoints 00:00.0 00:01.0 00:02.0 00:03.0 (edu) 00:1f.0 00:1f.2 00:1f.3
 *   acpi-q35-iommu-bridge: the same, but 00:03.0 is a bridge scope (pcie-root-port,
 *                          with pcie-pci-bridge 01:00.0 and edu 02:01.0 below it)
 */
#ifndef WARDEN_TESTS_FAKE_PCI_H
#define WARDEN_TESTS_FAKE_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/dmar.h"
#include "pci/pci_enum.h"
#include "pci/pci_regs.h"

#define FAKE_MAX_FUNCTIONS 300

struct fake_fn {
    uint8_t bus, dev, fn;
    uint8_t cfg[PCI_CONFIG_SIZE];
    uint32_t bar_writable[6];       /* writable bits of each BAR dword */
};

struct fake_pci {
    unsigned count;
    struct fake_fn fns[FAKE_MAX_FUNCTIONS];
    unsigned bar_ones_while_decoding;   /* all-ones BAR writes with decode still on */
    unsigned stray_writes;              /* writes outside the command register and BARs */
    unsigned long reads;
};

extern struct fake_pci fake;
extern struct pci_topology topo;     /* what enumerate() produced */
extern struct dmar_summary dmar;     /* what load_dmar() parsed */
extern const struct pci_config_access fake_access;

uint32_t get32(const uint8_t *cfg, uint16_t offset);
void put32(uint8_t *cfg, uint16_t offset, uint32_t v);
struct fake_fn *fake_lookup(uint8_t bus, uint8_t dev, uint8_t fn);
unsigned fake_bar_count(const struct fake_fn *x);
uint32_t fake_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset);
void fake_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset, uint32_t value);
void fake_reset(void);
struct fake_fn *fake_add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor, uint16_t device,
                                uint32_t class_code, uint8_t header);
uint16_t fake_command(const struct fake_fn *x);
void fake_set_command(struct fake_fn *x, uint16_t command);
void fake_mem_bar(struct fake_fn *x, unsigned i, uint32_t base, uint32_t size, bool prefetch);
void fake_mem64_bar(struct fake_fn *x, unsigned i, uint64_t base, uint64_t size, bool prefetch);
void fake_io_bar(struct fake_fn *x, unsigned i, uint16_t base, uint16_t size);
void fake_cap(struct fake_fn *x, uint8_t at, uint8_t id, uint16_t flags);
void fake_bridge_buses(struct fake_fn *x, uint8_t secondary, uint8_t subordinate);
uint16_t pcie_flags(uint8_t port_type);
struct fake_fn *fake_edu(uint8_t bus, uint8_t dev, uint32_t bar0);
struct fake_fn *fake_root_port(uint8_t dev, uint8_t secondary, uint8_t subordinate);
struct fake_fn *fake_pcie_pci_bridge(uint8_t bus, uint8_t secondary, uint8_t subordinate);
void fake_q35_base(void);
void fake_q35_edu(void);
void fake_q35_bridge(void);
void enumerate(void);
const struct pci_function *find(uint8_t bus, uint8_t dev, uint8_t fn);
void load_dmar(const char *machine);
struct dmar_scope scope(uint8_t type, uint8_t bus, unsigned hops, const uint8_t (*path)[2]);

#endif
