/*
 * intx_route.c - PCI INTx pin to IOAPIC input on q35 / ICH9 (see
 * intx_route.h). Facts from QEMU's hw/isa/lpc_ich9.c (ich9_cc_init: slot s,
 * pin p -> PIRQ (s + p) % 4 + 4; ich9_pirq_to_gsi: GSI 16 + PIRQ) and the
 * PCI-to-PCI bridge specification's swizzle.
 */
#include "pci/intx_route.h"

#define ICH9_LPC_VENDOR 0x8086
#define ICH9_LPC_DEVICE 0x2918
#define ICH9_LPC_SLOT 31
#define ICH9_ROTATED_SLOTS 25           /* slots 0..24 use the fixed rotation */
#define ICH9_FIRST_PIRQ_GSI 16

static bool is_ich9(const struct pci_topology *t)
{
    for (unsigned i = 0; i < t->count; i++) {
        const struct pci_function *f = &t->functions[i];
        if (f->bus == 0 && f->dev == ICH9_LPC_SLOT && f->fn == 0)
            return f->vendor_id == ICH9_LPC_VENDOR && f->device_id == ICH9_LPC_DEVICE;
    }
    return false;
}

bool pci_intx_route_q35(const struct pci_topology *t, const struct pci_function *fn, unsigned pin, uint32_t *gsi)
{
    if (pin < 1 || pin > 4 || !is_ich9(t))
        return false;
    unsigned p = pin - 1;
    const struct pci_function *at = fn;
    for (unsigned depth = 0; at->parent >= 0; depth++) {
        if (depth > PCI_MAX_BRIDGE_DEPTH || (unsigned)at->parent >= t->count)
            return false;
        p = (p + at->dev) % 4;                  /* the swizzle at the bridge above */
        at = &t->functions[at->parent];
    }
    if (at->dev >= ICH9_ROTATED_SLOTS)
        return false;
    *gsi = ICH9_FIRST_PIRQ_GSI + (at->dev + p) % 4 + 4;
    return true;
}
