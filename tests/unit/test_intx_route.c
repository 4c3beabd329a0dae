/*
 * test_intx_route.c - host tests of PCI INTx -> IOAPIC input routing on
 * q35 / ICH9 (kernel/pci/intx_route.c): the bus-0 rotation, the swizzle
 * through bridges (the harness's "bridge" machine), and what is refused.
 */
#include "unit.h"

#include "pci/intx_route.h"

#include <string.h>

static struct pci_topology topology;

static struct pci_function *add(uint8_t bus, uint8_t dev, int parent, uint16_t vendor, uint16_t device)
{
    struct pci_function *f = &topology.functions[topology.count++];
    memset(f, 0, sizeof *f);
    f->bus = bus;
    f->dev = dev;
    f->parent = parent;
    f->vendor_id = vendor;
    f->device_id = device;
    return f;
}

static void q35(void)
{
    memset(&topology, 0, sizeof topology);
    add(0, 0, -1, 0x8086, 0x29c0);              /* host bridge */
    add(0, 31, -1, 0x8086, 0x2918);             /* ICH9 LPC */
}

TEST(intx_route_bus0_rotation)
{
    q35();
    uint32_t gsi = 0;
    struct pci_function *edu = add(0, 3, -1, 0x1234, 0x11e8);
    CHECK(pci_intx_route_q35(&topology, edu, 1, &gsi));
    CHECK_EQ(gsi, 23);                          /* slot 3, INTA -> PIRQH */
    CHECK(pci_intx_route_q35(&topology, edu, 2, &gsi));
    CHECK_EQ(gsi, 20);                          /* INTB wraps to PIRQE */
    struct pci_function *nic = add(0, 2, -1, 0x8086, 0x10d3);
    CHECK(pci_intx_route_q35(&topology, nic, 1, &gsi));
    CHECK_EQ(gsi, 22);
    struct pci_function *slot24 = add(0, 24, -1, 0x1, 0x1);
    CHECK(pci_intx_route_q35(&topology, slot24, 4, &gsi));
    CHECK_EQ(gsi, 16 + (24 + 3) % 4 + 4);
}

TEST(intx_route_through_bridges)
{
    q35();
    uint32_t gsi = 0;
    add(0, 4, -1, 0x1b36, 0x000c);              /* pcie-root-port at 00:04.0 (index 2) */
    add(1, 0, 2, 0x1b36, 0x000e);               /* pcie-pci-bridge at 01:00.0 (index 3) */
    struct pci_function *edu = add(2, 1, 3, 0x1234, 0x11e8);
    /* INTA at 02:01.0 -> INTB at the root port's bus (device 1) -> INTB at 01:00.0 (device 0)
     * stays B -> slot 4, pin B: PIRQ (4 + 1) % 4 + 4 = 5 -> GSI 21. */
    CHECK(pci_intx_route_q35(&topology, edu, 1, &gsi));
    CHECK_EQ(gsi, 21);
}

TEST(intx_route_refusals)
{
    q35();
    uint32_t gsi = 7;
    struct pci_function *edu = add(0, 3, -1, 0x1234, 0x11e8);
    CHECK(!pci_intx_route_q35(&topology, edu, 0, &gsi));       /* no pin */
    CHECK(!pci_intx_route_q35(&topology, edu, 5, &gsi));
    struct pci_function *ahci = add(0, 31, -1, 0x8086, 0x2922);
    CHECK(!pci_intx_route_q35(&topology, ahci, 1, &gsi));      /* chipset slot: firmware-set */
    struct pci_function *loop = add(1, 0, 0, 0x1, 0x1);
    loop->parent = (int)(topology.count - 1);                   /* its own parent */
    CHECK(!pci_intx_route_q35(&topology, loop, 1, &gsi));
    CHECK_EQ(gsi, 7);
    /* Not an ICH9 (e.g. i440FX): no routing knowledge. */
    topology.functions[1].device_id = 0x7000;
    CHECK(!pci_intx_route_q35(&topology, edu, 1, &gsi));
}
