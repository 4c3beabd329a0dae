/*
 * config_policy.c - the mediation rules of config-space writes (see
 * config_policy.h). Offsets are the PCI Local Bus spec's header layout.
 */
#include "pci/config_policy.h"

#include <stdbool.h>
#include <warden/errors.h>

#define HEADER_COMMAND 0x04
#define HEADER_STATUS_END 0x08         /* command and status: 0x04..0x07 */
#define HEADER0_BARS 0x10
#define HEADER0_BARS_END 0x28
#define HEADER0_ROM 0x30
#define HEADER0_ROM_END 0x34
#define CLASS_BRIDGE 0x06               /* base class: host, ISA, PCI-to-PCI and other bridges */

static bool overlaps(unsigned offset, unsigned width, unsigned start, unsigned end)
{
    return offset < end && offset + width > start;
}

unsigned pci_msi_capability_bytes(uint16_t message_control)
{
    bool wide = message_control & (1u << 7);        /* 64-bit message address */
    bool masking = message_control & (1u << 8);     /* per-vector mask and pending bits */
    return (wide ? 14 : 10) + (masking ? 10 : 0);
}

/* Bridges of every kind keep everything past command/status: a PCI-to-PCI
 * bridge (header type 1) its bus numbers and windows, the chipset's host
 * and ISA bridges (header type 0) theirs - where ECAM, the BIOS area, the
 * ACPI I/O block and the chipset registers decode, and interrupt routing. */
static bool kernel_keeps_header(const struct pci_function *fn)
{
    return fn->header_type != 0 || (fn->class_code >> 16) == CLASS_BRIDGE;
}

int pci_config_write_check(const struct pci_function *fn, unsigned msi_bytes, unsigned offset, unsigned width)
{
    if (kernel_keeps_header(fn))
        return overlaps(offset, width, 0, HEADER_COMMAND) || offset + width > HEADER_STATUS_END ? -WD_E_PROTECTED
                                                                                                : 0;
    if (overlaps(offset, width, HEADER0_BARS, HEADER0_BARS_END) ||
        overlaps(offset, width, HEADER0_ROM, HEADER0_ROM_END))
        return -WD_E_PROTECTED;
    if (fn->msi_cap && overlaps(offset, width, fn->msi_cap, fn->msi_cap + msi_bytes))
        return -WD_E_PROTECTED;
    if (fn->msix_cap && overlaps(offset, width, fn->msix_cap, fn->msix_cap + PCI_MSIX_CAP_BYTES))
        return -WD_E_PROTECTED;
    return 0;
}
