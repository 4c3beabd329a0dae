/*
 * test_pci_enum.c - PCI enumeration: functions found in depth-first order,
 * BAR sizing, Bus Master shutdown, capability lists, and hostile topologies
 * (capability loops, bridge loops, too many functions), over the fake q35
 * config space in fake_pci.c.
 */
#include "unit.h"
#include "fake_pci.h"
#include "pci/pci_enum.h"
#include "pci/pci_regs.h"

#include <warden/device.h>

#include <stdlib.h>
#include <string.h>

TEST(pci_q35_bridge_functions_in_depth_first_order)
{
    fake_q35_bridge();
    enumerate();
    static const uint8_t expected[][3] = {
        { 0, 0x00, 0 }, { 0, 0x01, 0 }, { 0, 0x02, 0 }, { 0, 0x03, 0 }, { 1, 0x00, 0 },
        { 2, 0x01, 0 }, { 0, 0x1F, 0 }, { 0, 0x1F, 2 }, { 0, 0x1F, 3 },
    };
    CHECK_EQ(topo.count, 9);
    CHECK(!topo.truncated);
    for (unsigned i = 0; i < 9 && i < topo.count; i++) {
        CHECK_EQ(topo.functions[i].bus, expected[i][0]);
        CHECK_EQ(topo.functions[i].dev, expected[i][1]);
        CHECK_EQ(topo.functions[i].fn, expected[i][2]);
    }
    const struct pci_function *rp = find(0, 3, 0), *br = find(1, 0, 0), *edu = find(2, 1, 0);
    CHECK_EQ(rp->header_type, PCI_HEADER_TYPE_BRIDGE);
    CHECK_EQ(rp->secondary_bus, 1);
    CHECK_EQ(rp->subordinate_bus, 2);
    CHECK_EQ(rp->parent, -1);
    CHECK_EQ(br->parent, pci_find(&topo, 0, 3, 0));
    CHECK_EQ(br->secondary_bus, 2);
    CHECK_EQ(edu->parent, pci_find(&topo, 1, 0, 0));
    CHECK_EQ(edu->vendor_id, 0x1234);
    CHECK_EQ(edu->device_id, 0x11E8);
    CHECK_EQ(edu->class_code, 0x00FF00);
    CHECK_EQ(edu->revision, 0x10);
    CHECK_EQ(edu->header_type, PCI_HEADER_TYPE_NORMAL);
    CHECK_EQ(find(0, 0x1F, 0)->header_type, PCI_HEADER_TYPE_NORMAL);   /* multi-function bit stripped */
    CHECK_EQ(find(0, 0x1F, 2)->class_code, 0x010601);
    CHECK_EQ(pci_find(&topo, 3, 0, 0), -1);
    CHECK_EQ(fake.stray_writes, 0);
}

TEST(pci_functions_above_0_only_scanned_on_multifunction_devices)
{
    fake_q35_edu();
    fake_add(0, 0x02, 1, 0x8086, 0x10D3, 0x020000, 0x00);   /* 00:02.0 is single-function */
    fake_add(0, 0x05, 1, 0x8086, 0x10D3, 0x020000, 0x00);   /* no function 0: no device */
    fake_add(0, 0x06, 0, 0x0000, 0x0000, 0x000000, 0x00);   /* vendor 0: not a function either */
    enumerate();
    CHECK_EQ(topo.count, 7);
    CHECK_EQ(pci_find(&topo, 0, 0x02, 1), -1);
    CHECK_EQ(pci_find(&topo, 0, 0x05, 1), -1);
    CHECK(pci_find(&topo, 0, 0x1F, 2) >= 0);
    CHECK(pci_find(&topo, 0, 0x1F, 3) >= 0);
    CHECK_EQ(pci_find(&topo, 0, 0x1F, 1), -1);              /* a gap inside a multi-function device */
    CHECK(pci_find(&topo, 0, 0x03, 0) >= 0);
}

TEST(pci_bars_sized_32bit_64bit_and_io)
{
    fake_q35_bridge();
    struct fake_fn *big = fake_add(0, 0x04, 0, 0x1B36, 0x0010, 0x010802, 0x00);  /* an NVMe-like device */
    fake_mem64_bar(big, 0, 0x800000000ull, 8ull << 30, true);
    fake_io_bar(big, 2, 0xC080, 0x80);
    fake_mem64_bar(big, 4, 0xFEBF8000, 0x4000, false);
    struct fake_fn *odd = fake_add(0, 0x05, 0, 0x8086, 0x244E, 0x060401, 0x01);
    put32(odd->cfg, PCI_BAR0 + 4, PCI_BAR_MEM_TYPE_64);    /* 64-bit in a bridge's last slot */
    odd->bar_writable[1] = 0xFFFFF000u;
    enumerate();
    CHECK_EQ(find(0, 5, 0)->bars[1].size, 0);
    CHECK_EQ(fake.stray_writes, 0);                         /* its "high half" is the bus numbers */

    const struct pci_bar *edu = find(2, 1, 0)->bars;
    CHECK_EQ(edu[0].base, 0xFE600000u);
    CHECK_EQ(edu[0].size, 1u << 20);
    CHECK_EQ(edu[0].flags, WD_BAR_MMIO);
    for (int i = 1; i < 6; i++)
        CHECK_EQ(edu[i].size, 0);

    const struct pci_bar *vga = find(0, 1, 0)->bars;
    CHECK_EQ(vga[0].size, 16u << 20);
    CHECK_EQ(vga[0].flags, WD_BAR_MMIO | WD_BAR_PREFETCH);
    CHECK_EQ(vga[1].size, 0);
    CHECK_EQ(vga[2].base, 0xFEBF4000u);
    CHECK_EQ(vga[2].size, 0x1000);

    const struct pci_bar *ahci = find(0, 0x1F, 2)->bars;
    CHECK_EQ(ahci[4].base, 0xC040);
    CHECK_EQ(ahci[4].size, 0x20);
    CHECK_EQ(ahci[4].flags, WD_BAR_IO);
    CHECK_EQ(ahci[5].base, 0xFEBF5000u);
    CHECK_EQ(ahci[5].size, 0x1000);
    CHECK_EQ(ahci[5].flags, WD_BAR_MMIO);
    CHECK_EQ(ahci[0].size, 0);

    const struct pci_bar *br = find(1, 0, 0)->bars;          /* type 1: two slots, one 64-bit BAR */
    CHECK_EQ(br[0].base, 0xFE800000u);
    CHECK_EQ(br[0].size, 0x100);
    CHECK_EQ(br[0].flags, WD_BAR_MMIO | WD_BAR_64BIT);
    CHECK_EQ(br[1].size, 0);
    CHECK_EQ(br[1].flags, 0);

    const struct pci_bar *nvme = find(0, 4, 0)->bars;
    CHECK_EQ(nvme[0].base, 0x800000000ull);
    CHECK_EQ(nvme[0].size, 8ull << 30);                     /* size only in the high dword */
    CHECK_EQ(nvme[0].flags, WD_BAR_MMIO | WD_BAR_64BIT | WD_BAR_PREFETCH);
    CHECK_EQ(nvme[1].size, 0);
    CHECK_EQ(nvme[2].base, 0xC080);
    CHECK_EQ(nvme[2].size, 0x80);
    CHECK_EQ(nvme[2].flags, WD_BAR_IO);
    CHECK_EQ(nvme[4].base, 0xFEBF8000u);
    CHECK_EQ(nvme[4].size, 0x4000);
    CHECK_EQ(nvme[5].size, 0);
}

TEST(pci_bar_values_and_decode_restored_status_untouched)
{
    fake_q35_bridge();
    struct fake_fn *ahci = fake_lookup(0, 0x1F, 2);
    ahci->cfg[0x07] |= 0x20;                                /* status: received master abort (RW1C) */
    static struct fake_pci before;
    before = fake;
    enumerate();
    CHECK_EQ(fake.bar_ones_while_decoding, 0);
    CHECK_EQ(fake.stray_writes, 0);
    for (unsigned i = 0; i < fake.count; i++) {
        const struct fake_fn *x = &fake.fns[i], *was = &before.fns[i];
        for (unsigned b = 0; b < 6; b++)
            CHECK_EQ(get32(x->cfg, PCI_BAR0 + 4 * b), get32(was->cfg, PCI_BAR0 + 4 * b));
        CHECK_EQ(fake_command(x), fake_command(was) & ~PCI_COMMAND_MASTER);
        CHECK_EQ(get32(x->cfg, PCI_COMMAND_STATUS) >> 16, get32(was->cfg, PCI_COMMAND_STATUS) >> 16);
        CHECK(memcmp(x->cfg + 0x08, was->cfg + 0x08, PCI_CONFIG_SIZE - 0x08) == 0);
    }
}

TEST(pci_bus_master_cleared_everywhere_and_remembered)
{
    fake_q35_bridge();
    fake_set_command(fake_lookup(2, 1, 0), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    fake_set_command(fake_lookup(0, 0, 0), PCI_COMMAND_MASTER);     /* no BARs at all */
    enumerate();
    for (unsigned i = 0; i < fake.count; i++)
        CHECK(!(fake_command(&fake.fns[i]) & PCI_COMMAND_MASTER));
    for (unsigned i = 0; i < topo.count; i++) {
        const struct pci_function *f = &topo.functions[i];
        bool expected = (f->bus == 0 && f->dev == 0) || (f->bus == 0 && f->dev == 3) || f->bus == 1 ||
                        f->bus == 2 || (f->dev == 0x1F && f->fn == 2);
        CHECK_EQ(f->bus_master_was_on, expected);
    }
    CHECK_EQ(fake_command(fake_lookup(2, 1, 0)), PCI_COMMAND_MEMORY);   /* decode kept */
}

TEST(pci_capabilities_found)
{
    fake_q35_bridge();
    enumerate();
    const struct pci_function *edu = find(2, 1, 0), *nic = find(0, 2, 0), *rp = find(0, 3, 0);
    const struct pci_function *br = find(1, 0, 0), *ahci = find(0, 0x1F, 2), *mch = find(0, 0, 0);
    CHECK_EQ(edu->msi_cap, 0x40);
    CHECK_EQ(edu->msix_cap, 0);
    CHECK_EQ(edu->pcie_cap, 0);
    CHECK_EQ(nic->msi_cap, 0xD0);
    CHECK_EQ(nic->pcie_cap, 0xE0);
    CHECK_EQ(nic->pcie_port_type, PCIE_TYPE_ENDPOINT);
    CHECK_EQ(nic->msix_cap, 0xA0);
    CHECK_EQ(rp->pcie_cap, 0x40);
    CHECK_EQ(rp->pcie_port_type, PCIE_TYPE_ROOT_PORT);
    CHECK_EQ(rp->msix_cap, 0x48);
    CHECK_EQ(br->pcie_cap, 0x48);
    CHECK_EQ(br->pcie_port_type, PCIE_TYPE_PCIE_TO_PCI);
    CHECK_EQ(br->msi_cap, 0x8C);
    CHECK_EQ(ahci->msi_cap, 0x80);
    CHECK_EQ(mch->msi_cap | mch->msix_cap | mch->pcie_cap, 0);
}

TEST(pci_malformed_capability_lists_terminate)
{
    fake_reset();
    struct fake_fn *self = fake_add(0, 1, 0, 0x1AF4, 1, 0, 0);
    fake_cap(self, 0x40, PCI_CAP_ID_MSI, 0);
    self->cfg[0x41] = 0x40;                                 /* points at itself */
    struct fake_fn *pair = fake_add(0, 2, 0, 0x1AF4, 2, 0, 0);
    fake_cap(pair, 0x40, PCI_CAP_ID_PCIE, pcie_flags(PCIE_TYPE_ENDPOINT));
    fake_cap(pair, 0x50, PCI_CAP_ID_MSIX, 0);
    pair->cfg[0x51] = 0x40;                                 /* 0x40 -> 0x50 -> 0x40 ... */
    struct fake_fn *header = fake_add(0, 3, 0, 0x1AF4, 3, 0, 0);
    put32(header->cfg, 0x20, PCI_CAP_ID_MSI);               /* would "find" MSI inside the header */
    header->cfg[PCI_CAP_POINTER] = 0x20;
    header->cfg[0x06] |= PCI_STATUS_CAP_LIST;
    struct fake_fn *no_list = fake_add(0, 4, 0, 0x1AF4, 4, 0, 0);
    fake_cap(no_list, 0x40, PCI_CAP_ID_MSI, 0);
    no_list->cfg[0x06] &= (uint8_t)~PCI_STATUS_CAP_LIST;    /* pointer set, status says no list */
    struct fake_fn *odd = fake_add(0, 5, 0, 0x1AF4, 5, 0, 0);
    fake_cap(odd, 0x40, 0x01, 0);
    fake_cap(odd, 0x50, PCI_CAP_ID_MSIX, 0);
    odd->cfg[0x41] = 0x53;                                  /* low bits of a pointer are reserved */
    enumerate();
    CHECK_EQ(topo.count, 5);
    CHECK_EQ(find(0, 1, 0)->msi_cap, 0x40);
    CHECK_EQ(find(0, 2, 0)->pcie_cap, 0x40);
    CHECK_EQ(find(0, 2, 0)->msix_cap, 0x50);
    CHECK_EQ(find(0, 3, 0)->msi_cap, 0);
    CHECK_EQ(find(0, 4, 0)->msi_cap, 0);
    CHECK_EQ(find(0, 5, 0)->msix_cap, 0x50);
    CHECK(fake.reads < 5 * 200);                            /* bounded walks */
}

TEST(pci_bridge_loops_and_bad_bus_numbers_not_followed)
{
    fake_reset();
    fake_bridge_buses(fake_add(0, 1, 0, 0x8086, 0x244E, 0x060401, 0x01), 0, 0);    /* secondary == own bus */
    fake_bridge_buses(fake_add(0, 2, 0, 0x8086, 0x244E, 0x060401, 0x01), 1, 1);
    fake_bridge_buses(fake_add(1, 0, 0, 0x8086, 0x244E, 0x060401, 0x01), 1, 1);    /* itself again */
    fake_bridge_buses(fake_add(1, 1, 0, 0x8086, 0x244E, 0x060401, 0x01), 0, 1);    /* back to bus 0 */
    fake_bridge_buses(fake_add(0, 3, 0, 0x8086, 0x244E, 0x060401, 0x01), 1, 1);    /* bus 1 a second time */
    fake_add(1, 2, 0, 0x1234, 0x11E8, 0x00FF00, 0x00);
    fake_bridge_buses(fake_add(0, 4, 0, 0x8086, 0x244E, 0x060401, 0x01), 5, 5);
    fake_bridge_buses(fake_add(5, 0, 0, 0x8086, 0x244E, 0x060401, 0x01), 4, 4);    /* backwards, to an unseen bus */
    fake_add(4, 0, 0, 0x1234, 0x11E8, 0x00FF00, 0x00);
    enumerate();
    CHECK_EQ(topo.count, 8);
    CHECK_EQ(pci_find(&topo, 4, 0, 0), -1);
    CHECK_EQ(find(1, 2, 0)->parent, pci_find(&topo, 0, 2, 0));
    CHECK_EQ(find(0, 3, 0)->secondary_bus, 1);
    for (unsigned i = 0; i < topo.count; i++)
        for (unsigned j = 0; j < i; j++)
            CHECK(pci_find(&topo, topo.functions[j].bus, topo.functions[j].dev, topo.functions[j].fn) == (int)j);

    /* A chain of bridges deeper than PCI_MAX_BRIDGE_DEPTH stops there. */
    fake_reset();
    for (unsigned bus = 0; bus < 40; bus++)
        fake_bridge_buses(fake_add((uint8_t)bus, 0, 0, 0x8086, 0x244E, 0x060401, 0x01), (uint8_t)(bus + 1), 40);
    enumerate();
    CHECK_EQ(topo.count, PCI_MAX_BRIDGE_DEPTH + 1);
}

TEST(pci_truncated_past_max_functions_still_quiesced)
{
    fake_reset();
    for (uint8_t dev = 0; dev < 32; dev++) {
        for (uint8_t fn = 0; fn < 8; fn++) {
            struct fake_fn *x = fake_add(0, dev, fn, 0x8086, 0x1000, 0x020000, fn == 0 ? 0x80 : 0x00);
            fake_set_command(x, PCI_COMMAND_MASTER);
        }
    }
    struct fake_fn *first = fake_lookup(0, 0, 0), *last = fake_lookup(0, 0x1F, 7);
    first->cfg[0x0E] = 0x81;                                /* a bridge to bus 1 ... */
    fake_bridge_buses(first, 1, 1);
    fake_set_command(fake_add(1, 0, 0, 0x8086, 0x1000, 0x020000, 0x00), PCI_COMMAND_MASTER);
    last->cfg[0x0E] = 0x01;                                 /* ... and the 258th, a bridge to bus 2 */
    fake_bridge_buses(last, 2, 2);
    struct fake_fn *hidden = fake_add(2, 0, 0, 0x8086, 0x1000, 0x020000, 0x00);
    fake_set_command(hidden, PCI_COMMAND_MASTER);
    enumerate();
    CHECK_EQ(topo.count, PCI_MAX_FUNCTIONS);
    CHECK(topo.truncated);
    CHECK(pci_find(&topo, 1, 0, 0) >= 0);                   /* depth first: bus 1 came early */
    CHECK(pci_find(&topo, 0, 0x1F, 6) >= 0);                /* the 256th */
    CHECK_EQ(pci_find(&topo, 0, 0x1F, 7), -1);
    CHECK(!(fake_command(last) & PCI_COMMAND_MASTER));      /* unrecorded, yet quiesced */
    CHECK(fake_command(hidden) & PCI_COMMAND_MASTER);       /* not descended: its bridge blocks it */
    CHECK_EQ(pci_assign_iommu(&topo, NULL, 0), 0);
    CHECK_EQ(topo.group_count, PCI_MAX_FUNCTIONS - 1);    /* 01:00.0 shares conventional bridge 00:00.0's ID */
}
