/*
 * ecam.h - PCI Express configuration space through ECAM (memory-mapped,
 * from the MCFG). Segment 0 only for now. Kernel-internal: user space
 * reaches config space only through mediated calls (later issue).
 */
#ifndef WARDEN_PCI_ECAM_H
#define WARDEN_PCI_ECAM_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/acpi.h"

/* Maps segment 0's ECAM window; false if the MCFG has none. */
bool ecam_init(const struct mcfg_summary *mcfg);
bool ecam_available(void);

/* Reads a dword; all ones when the function or window does not exist. */
uint32_t pci_config_read32(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset);
void pci_config_write32(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, uint32_t value);
/* Sized accesses (width 1, 2 or 4, offset aligned to it): ECAM does byte and
 * word cycles, so writing the command register never touches the status
 * register's write-one-to-clear bits. */
uint32_t pci_config_read(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width);
void pci_config_write(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width, uint32_t value);

/* Logs every function on bus 0 (vendor:device and class). */
void pci_log_bus0(void);

#endif
