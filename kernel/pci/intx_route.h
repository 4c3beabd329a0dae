/*
 * intx_route.h - which IOAPIC input a PCI INTx pin reaches. Pure code over
 * the enumerated topology (unit-tested on the host).
 */
#ifndef WARDEN_PCI_INTX_ROUTE_H
#define WARDEN_PCI_INTX_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "pci/pci_enum.h"

/*
 * The GSI of fn's pin (1 = INTA .. 4 = INTD) on the q35 / ICH9 chipset as
 * QEMU builds it: the pin is swizzled ((pin + device) mod 4) at every bridge
 * up to bus 0, and a bus-0 slot s (0..24) with pin p (0 = A) drives PIRQ
 * (s + p) mod 4 + 4, which is GSI 16 + PIRQ in APIC mode. That is what the
 * firmware's ACPI _PRT says; Warden has no AML interpreter to read it, so
 * another chipset (no ICH9 LPC at 00:1f.0), chipset slots 25-31 (their
 * routing is set by firmware), a bad pin or a bridge loop answer false.
 */
bool pci_intx_route_q35(const struct pci_topology *topology, const struct pci_function *fn, unsigned pin,
                        uint32_t *gsi);

#endif
