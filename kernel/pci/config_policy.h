/*
 * config_policy.h - which configuration-space bytes a driver may write
 * through device_config_write. The kernel keeps the registers that decide
 * where a device decodes memory and where its interrupts go: BARs, the
 * expansion ROM BAR, the MSI and MSI-X capabilities, and every register
 * past command/status of a bridge of any kind (class 06: PCI-to-PCI bus
 * numbers and windows, the host bridge's ECAM base and BIOS-area mapping,
 * the ISA bridge's chipset-register base and interrupt routing). Pure, so
 * host unit tests cover it.
 */
#ifndef WARDEN_PCI_CONFIG_POLICY_H
#define WARDEN_PCI_CONFIG_POLICY_H

#include <stdint.h>

#include "pci/pci_enum.h"

#define PCI_MSIX_CAP_BYTES 12

/* Bytes the MSI capability occupies, from its message control word. */
unsigned pci_msi_capability_bytes(uint16_t message_control);

/* 0, or -WD_E_PROTECTED when [offset, offset+width) touches a kernel-owned register. */
int pci_config_write_check(const struct pci_function *fn, unsigned msi_bytes, unsigned offset, unsigned width);

#endif
