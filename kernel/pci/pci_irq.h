/*
 * pci_irq.h - the kernel's side of a PCI function's interrupts: writing
 * its MSI capability or an MSI-X table entry (drivers never can), turning
 * INTx on and off, and finding the IOAPIC input its INTx pin reaches.
 */
#ifndef WARDEN_PCI_PCI_IRQ_H
#define WARDEN_PCI_PCI_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "pci/intx_route.h"
#include "pci/pci_enum.h"

/* MSI vectors the function offers (0: no MSI capability). */
unsigned pci_msi_vector_count(const struct pci_function *fn);
/* Programs one MSI vector (multiple message enable 0) and enables MSI. */
void pci_msi_enable(const struct pci_function *fn, uint32_t address, uint16_t data);
void pci_msi_disable(const struct pci_function *fn);

/* MSI-X entries the function offers (0: no MSI-X capability). */
unsigned pci_msix_entry_count(const struct pci_function *fn);
/* The BAR and byte range of the MSI-X table, false without MSI-X. */
bool pci_msix_table(const struct pci_function *fn, unsigned *bar, uint64_t *offset, uint64_t *bytes);
/* Writes entry n (unmasked) and enables MSI-X; the table is mapped on first use. false if the
 * table's BAR is not mappable. */
bool pci_msix_enable_entry(const struct pci_function *fn, unsigned n, uint32_t address, uint32_t data);
/* Masks entry n and clears its message; when no entry is left unmasked the function is masked
 * (Function Mask), with MSI-X Enable left set (QEMU 7.2 e1000e, facts sheet §0.5). */
void pci_msix_disable_entry(const struct pci_function *fn, unsigned n);
/* Clears MSI-X Enable (function masked) when it is set: before a source
 * of another kind (INTx, MSI) is programmed on the function. */
void pci_msix_leave(const struct pci_function *fn);

/* Sets or clears the command register's Interrupt Disable bit. */
void pci_intx_set_enabled(const struct pci_function *fn, bool enabled);
/* The function's INTx pin (1 = INTA .. 4 = INTD), 0 when it has none. */
unsigned pci_intx_pin(const struct pci_function *fn);

/* The IOAPIC input fn's INTx pin reaches (pci_intx_route_q35 with the pin
 * read from config space); false without a pin or a known chipset. */
bool pci_intx_gsi(const struct pci_topology *topology, const struct pci_function *fn, uint32_t *gsi);

#endif
