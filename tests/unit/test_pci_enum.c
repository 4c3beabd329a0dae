/*
 * test_pci_enum.c - PCI enumeration, BAR sizing, Bus Master shutdown, DMAR
 * scope resolution, requester-ID aliases and IOMMU groups, over a fake
 * config space modelled on the QEMU q35 machines the ACPI fixtures were
 * captured from (their DMAR scopes name these device numbers):
 *   acpi-q35-iommu:        endpoints 00:00.0 00:01.0 00:02.0 00:03.0 (edu) 00:1f.0 00:1f.2 00:1f.3
 *   acpi-q35-iommu-bridge: the same, but 00:03.0 is a bridge scope (pcie-root-port,
 *                          with pcie-pci-bridge 01:00.0 and edu 02:01.0 below it)
 * The fake honours read-only bits (IDs, header, BAR type and size bits),
 * the status register's write-one-to-clear bits, reads absent functions as
 * all ones, and counts writes pci_enumerate has no business making.
 */
#include "unit.h"
#include "fake_phys.h"
#include "acpi/acpi.h"
#include "acpi/dmar.h"
#include "pci/pci_enum.h"
#include "pci/pci_regs.h"

#include <warden/device.h>

#include <stdlib.h>
#include <string.h>

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

static struct fake_pci fake;
static struct pci_topology topo;
static struct dmar_summary dmar;

static uint32_t get32(const uint8_t *cfg, uint16_t offset)
{
    uint32_t v;
    memcpy(&v, cfg + offset, 4);
    return v;
}

static void put32(uint8_t *cfg, uint16_t offset, uint32_t v)
{
    memcpy(cfg + offset, &v, 4);
}

static struct fake_fn *fake_lookup(uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < fake.count; i++) {
        struct fake_fn *x = &fake.fns[i];
        if (x->bus == bus && x->dev == dev && x->fn == fn)
            return x;
    }
    return NULL;
}

static unsigned fake_bar_count(const struct fake_fn *x)
{
    uint8_t type = x->cfg[0x0E] & 0x7F;
    return type == 0 ? 6 : type == 1 ? 2 : 0;
}

static uint32_t fake_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset)
{
    (void)ctx;
    fake.reads++;
    struct fake_fn *x = fake_lookup(bus, dev, fn);
    if (!x)
        return 0xFFFFFFFFu;
    if (offset % 4 || offset >= PCI_CONFIG_SIZE)
        return 0;
    return get32(x->cfg, offset);
}

static void fake_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset, uint32_t value)
{
    (void)ctx;
    struct fake_fn *x = fake_lookup(bus, dev, fn);
    if (!x || offset % 4)
        return;
    uint32_t old = get32(x->cfg, offset);
    if (offset == PCI_COMMAND_STATUS) {
        uint32_t status = (old >> 16) & ~((value >> 16) & 0xF900);    /* RW1C error bits */
        put32(x->cfg, offset, status << 16 | (value & 0xFFFF));
        return;
    }
    unsigned bar = (offset - PCI_BAR0) / 4;
    if (offset >= PCI_BAR0 && bar < fake_bar_count(x)) {
        if (value == 0xFFFFFFFFu && (get32(x->cfg, PCI_COMMAND_STATUS) & PCI_COMMAND_DECODE))
            fake.bar_ones_while_decoding++;
        put32(x->cfg, offset, (old & ~x->bar_writable[bar]) | (value & x->bar_writable[bar]));
        return;
    }
    fake.stray_writes++;
}

static const struct pci_config_access fake_access = { fake_read32, fake_write32, NULL };

static void fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
}

static struct fake_fn *fake_add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor, uint16_t device,
                                uint32_t class_code, uint8_t header)
{
    if (fake.count == FAKE_MAX_FUNCTIONS)
        abort();
    struct fake_fn *x = &fake.fns[fake.count++];
    memset(x, 0, sizeof *x);
    x->bus = bus;
    x->dev = dev;
    x->fn = fn;
    put32(x->cfg, PCI_ID, (uint32_t)device << 16 | vendor);
    put32(x->cfg, PCI_CLASS_REVISION, class_code << 8);
    x->cfg[0x0E] = header;
    return x;
}

static uint16_t fake_command(const struct fake_fn *x)
{
    return (uint16_t)get32(x->cfg, PCI_COMMAND_STATUS);
}

static void fake_set_command(struct fake_fn *x, uint16_t command)
{
    put32(x->cfg, PCI_COMMAND_STATUS, (get32(x->cfg, PCI_COMMAND_STATUS) & 0xFFFF0000u) | command);
}

static void fake_mem_bar(struct fake_fn *x, unsigned i, uint32_t base, uint32_t size, bool prefetch)
{
    put32(x->cfg, PCI_BAR0 + 4 * i, base | (prefetch ? PCI_BAR_MEM_PREFETCH : 0));
    x->bar_writable[i] = ~(size - 1) & PCI_BAR_MEM_ADDRESS_MASK;
}

static void fake_mem64_bar(struct fake_fn *x, unsigned i, uint64_t base, uint64_t size, bool prefetch)
{
    put32(x->cfg, PCI_BAR0 + 4 * i, (uint32_t)base | PCI_BAR_MEM_TYPE_64 | (prefetch ? PCI_BAR_MEM_PREFETCH : 0));
    put32(x->cfg, PCI_BAR0 + 4 * (i + 1), (uint32_t)(base >> 32));
    x->bar_writable[i] = (uint32_t)~(size - 1) & PCI_BAR_MEM_ADDRESS_MASK;
    x->bar_writable[i + 1] = (uint32_t)(~(size - 1) >> 32);
}

/* I/O BARs decode 16 bits on ICH9: the upper half reads back 0. */
static void fake_io_bar(struct fake_fn *x, unsigned i, uint16_t base, uint16_t size)
{
    put32(x->cfg, PCI_BAR0 + 4 * i, base | PCI_BAR_IO);
    x->bar_writable[i] = ~(uint32_t)(size - 1) & 0xFFFCu;
}

/* Appends a capability at `at` to the function's list. */
static void fake_cap(struct fake_fn *x, uint8_t at, uint8_t id, uint16_t flags)
{
    put32(x->cfg, at, (uint32_t)flags << 16 | id);
    x->cfg[0x06] |= PCI_STATUS_CAP_LIST;
    if (!x->cfg[PCI_CAP_POINTER]) {
        x->cfg[PCI_CAP_POINTER] = at;
        return;
    }
    uint8_t last = x->cfg[PCI_CAP_POINTER];
    while (x->cfg[last + 1])
        last = x->cfg[last + 1];
    x->cfg[last + 1] = at;
}

static void fake_bridge_buses(struct fake_fn *x, uint8_t secondary, uint8_t subordinate)
{
    put32(x->cfg, PCI_BUS_NUMBERS, (uint32_t)subordinate << 16 | (uint32_t)secondary << 8 | x->bus);
}

static uint16_t pcie_flags(uint8_t port_type)
{
    return (uint16_t)(port_type << 4 | 2);     /* capability version 2 */
}

static struct fake_fn *fake_edu(uint8_t bus, uint8_t dev, uint32_t bar0)
{
    struct fake_fn *x = fake_add(bus, dev, 0, 0x1234, 0x11E8, 0x00FF00, 0x00);
    x->cfg[0x08] = 0x10;                                    /* revision */
    fake_mem_bar(x, 0, bar0, 1u << 20, false);
    fake_cap(x, 0x40, PCI_CAP_ID_MSI, 0x0080);              /* 64-bit address, 1 vector */
    fake_set_command(x, PCI_COMMAND_MEMORY);
    return x;
}

static struct fake_fn *fake_root_port(uint8_t dev, uint8_t secondary, uint8_t subordinate)
{
    struct fake_fn *x = fake_add(0, dev, 0, 0x1B36, 0x000C, 0x060400, 0x01);
    fake_mem_bar(x, 0, 0xFEBF2000, 0x1000, false);          /* MSI-X table */
    fake_cap(x, 0x40, PCI_CAP_ID_PCIE, pcie_flags(PCIE_TYPE_ROOT_PORT));
    fake_cap(x, 0x48, PCI_CAP_ID_MSIX, 0);
    fake_bridge_buses(x, secondary, subordinate);
    fake_set_command(x, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return x;
}

/* QEMU's pcie-pci-bridge: a PCIe-to-PCI bridge with a 64-bit SHPC BAR. */
static struct fake_fn *fake_pcie_pci_bridge(uint8_t bus, uint8_t secondary, uint8_t subordinate)
{
    struct fake_fn *x = fake_add(bus, 0, 0, 0x1B36, 0x000E, 0x060400, 0x01);
    fake_mem64_bar(x, 0, 0xFE800000, 0x100, false);
    fake_cap(x, 0x48, PCI_CAP_ID_PCIE, pcie_flags(PCIE_TYPE_PCIE_TO_PCI));
    fake_cap(x, 0x8C, PCI_CAP_ID_MSI, 0);
    fake_bridge_buses(x, secondary, subordinate);
    fake_set_command(x, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return x;
}

/* What every q35 machine has: MCH, VGA, the default NIC (e1000e), ICH9 LPC/AHCI/SMBus. */
static void fake_q35_base(void)
{
    fake_reset();
    fake_add(0, 0x00, 0, 0x8086, 0x29C0, 0x060000, 0x00);
    struct fake_fn *vga = fake_add(0, 0x01, 0, 0x1234, 0x1111, 0x030000, 0x00);
    fake_mem_bar(vga, 0, 0xFD000000, 16u << 20, true);
    fake_mem_bar(vga, 2, 0xFEBF4000, 0x1000, false);
    fake_set_command(vga, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    struct fake_fn *nic = fake_add(0, 0x02, 0, 0x8086, 0x10D3, 0x020000, 0x00);
    fake_mem_bar(nic, 0, 0xFEBC0000, 0x20000, false);
    fake_mem_bar(nic, 1, 0xFEBE0000, 0x20000, false);
    fake_io_bar(nic, 2, 0xC000, 0x20);
    fake_mem_bar(nic, 3, 0xFEBF0000, 0x4000, false);
    fake_cap(nic, 0xC8, 0x01, 0);                            /* power management */
    fake_cap(nic, 0xD0, PCI_CAP_ID_MSI, 0x0080);
    fake_cap(nic, 0xE0, PCI_CAP_ID_PCIE, pcie_flags(PCIE_TYPE_ENDPOINT));
    fake_cap(nic, 0xA0, PCI_CAP_ID_MSIX, 0x0004);
    fake_set_command(nic, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    fake_add(0, 0x1F, 0, 0x8086, 0x2918, 0x060100, 0x80);   /* LPC, multi-function */
    struct fake_fn *ahci = fake_add(0, 0x1F, 2, 0x8086, 0x2922, 0x010601, 0x00);
    fake_io_bar(ahci, 4, 0xC040, 0x20);
    fake_mem_bar(ahci, 5, 0xFEBF5000, 0x1000, false);
    fake_cap(ahci, 0x80, PCI_CAP_ID_MSI, 0x0080);
    fake_cap(ahci, 0xA8, 0x12, 0);                           /* SATA */
    fake_set_command(ahci, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);   /* as SeaBIOS leaves it */
    struct fake_fn *smbus = fake_add(0, 0x1F, 3, 0x8086, 0x2930, 0x0C0500, 0x00);
    fake_io_bar(smbus, 4, 0x0700, 0x40);
    fake_set_command(smbus, PCI_COMMAND_IO);
}

/* acpi-q35-iommu: -device intel-iommu,intremap=on -device edu (edu at 00:03.0). */
static void fake_q35_edu(void)
{
    fake_q35_base();
    fake_edu(0, 0x03, 0xFEA00000);
}

/* acpi-q35-iommu-bridge: pcie-root-port 00:03.0 -> pcie-pci-bridge 01:00.0 -> edu 02:01.0. */
static void fake_q35_bridge(void)
{
    fake_q35_base();
    fake_root_port(0x03, 1, 2);
    fake_pcie_pci_bridge(1, 2, 2);
    fake_edu(2, 0x01, 0xFE600000);
}

static void enumerate(void)
{
    memset(&topo, 0xA5, sizeof topo);       /* pci_enumerate must not rely on a zeroed output */
    pci_enumerate(&fake_access, &topo);
}

static const struct pci_function *find(uint8_t bus, uint8_t dev, uint8_t fn)
{
    int i = pci_find(&topo, bus, dev, fn);
    CHECK(i >= 0);
    return i >= 0 ? &topo.functions[i] : &topo.functions[0];
}

static void load_dmar(const char *machine)
{
    static struct fake_phys fp;
    static struct acpi acpi;
    fake_phys_load(&fp, machine);
    CHECK_EQ(acpi_init(&acpi, fp.rsdp, fp.rsdp_length, fake_phys_map, &fp), ACPI_OK);
    CHECK(dmar_parse(acpi_find(&acpi, "DMAR", 0), &dmar));
    fake_phys_free(&fp);
}

static struct dmar_scope scope(uint8_t type, uint8_t bus, unsigned hops, const uint8_t (*path)[2])
{
    struct dmar_scope s = { .type = type, .start_bus = bus, .path_length = (uint8_t)hops };
    for (unsigned i = 0; i < hops; i++) {
        s.path[i].device = path[i][0];
        s.path[i].function = path[i][1];
    }
    return s;
}

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

TEST(pci_units_from_bridge_fixture_scopes)
{
    load_dmar("acpi-q35-iommu-bridge");
    CHECK_EQ(dmar.unit_count, 1);
    fake_q35_bridge();
    enumerate();
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    for (unsigned i = 0; i < topo.count; i++)
        CHECK_EQ(topo.functions[i].unit, 0);                /* edu 02:01.0 via the root port's bridge scope */

    fake_add(0, 0x04, 0, 0x1234, 0x11E8, 0x00FF00, 0x00);   /* a device the DMAR does not list */
    enumerate();
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    CHECK_EQ(find(0, 4, 0)->unit, PCI_NO_UNIT);
    CHECK_EQ(find(2, 1, 0)->unit, 0);
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 1), 0);         /* no unit for segment 1 */
    CHECK_EQ(find(0, 0, 0)->unit, PCI_NO_UNIT);
}

TEST(pci_units_from_edu_fixture_scopes)
{
    load_dmar("acpi-q35-iommu");
    fake_q35_edu();
    enumerate();
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    CHECK_EQ(topo.count, 7);
    for (unsigned i = 0; i < topo.count; i++) {
        CHECK_EQ(topo.functions[i].unit, 0);
        CHECK(!topo.functions[i].aliased);
        CHECK_EQ(topo.functions[i].group, i);               /* every bus-0 function alone */
    }
    CHECK_EQ(find(0, 3, 0)->requester_id, 0x0018);
    CHECK_EQ(topo.group_count, 7);

    /* The same topology without a DMAR: nothing covered, groups still by requester ID. */
    CHECK_EQ(pci_assign_iommu(&topo, NULL, 0), 0);
    CHECK_EQ(find(0, 3, 0)->unit, PCI_NO_UNIT);
    CHECK_EQ(topo.group_count, 7);
}

TEST(pci_unresolvable_scopes_skipped_and_counted)
{
    fake_q35_bridge();
    enumerate();
    static const uint8_t via_nic[][2] = { { 0x02, 0 }, { 0x00, 0 } };
    static const uint8_t missing[][2] = { { 0x09, 0 } };
    static const uint8_t to_edu[][2] = { { 0x03, 0 }, { 0x00, 0 }, { 0x01, 0 } };
    static const uint8_t to_bridge[][2] = { { 0x03, 0 }, { 0x00, 0 } };
    static const uint8_t ioapic[][2] = { { 0x00, 0 } };
    memset(&dmar, 0, sizeof dmar);
    dmar.unit_count = 1;
    struct dmar_unit *u = &dmar.units[0];
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 2, via_nic);   /* through a non-bridge */
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 1, missing);
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_BRIDGE, 5, 1, missing);     /* a bus nobody has */
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 0, missing);   /* empty path */
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_IOAPIC, 0xFF, 1, ioapic);   /* not PCI: ignored */
    u->scopes[u->scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 2, to_bridge);
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 4);
    CHECK_EQ(find(1, 0, 0)->unit, 0);                       /* an endpoint scope naming a bridge ... */
    CHECK_EQ(find(2, 1, 0)->unit, PCI_NO_UNIT);              /* ... covers only the bridge */
    CHECK_EQ(find(0, 3, 0)->unit, PCI_NO_UNIT);              /* only the path's end is covered */
    CHECK_EQ(find(0, 2, 0)->unit, PCI_NO_UNIT);
    CHECK_EQ(find(0, 0, 0)->unit, PCI_NO_UNIT);              /* the IOAPIC's 00.0 path is not the MCH */

    struct dmar_scope s = scope(DMAR_SCOPE_ENDPOINT, 0, 3, to_edu);
    CHECK_EQ(pci_resolve_scope_endpoint(&topo, &s), pci_find(&topo, 2, 1, 0));
    s.path_length = 2;
    CHECK_EQ(pci_resolve_scope_endpoint(&topo, &s), pci_find(&topo, 1, 0, 0));
    s.path_length = DMAR_MAX_PATH + 1;
    CHECK_EQ(pci_resolve_scope_endpoint(&topo, &s), -1);
    CHECK_EQ(pci_find(&topo, 0, 0x1F, 1), -1);
}

TEST(pci_include_pci_all_and_first_claim_wins)
{
    fake_q35_bridge();
    enumerate();
    static const uint8_t nic[][2] = { { 0x02, 0 } };
    static const uint8_t root_port[][2] = { { 0x03, 0 } };
    static const uint8_t edu[][2] = { { 0x01, 0 } };
    memset(&dmar, 0, sizeof dmar);
    dmar.unit_count = 4;
    dmar.units[0].segment = 1;                              /* another segment: ignored */
    dmar.units[0].include_pci_all = true;
    dmar.units[0].scopes[dmar.units[0].scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 1, nic);
    dmar.units[1].scopes[dmar.units[1].scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 1, nic);
    dmar.units[1].scopes[dmar.units[1].scope_count++] = scope(DMAR_SCOPE_BRIDGE, 0, 1, root_port);
    dmar.units[2].include_pci_all = true;                   /* catches the rest */
    dmar.units[3].scopes[dmar.units[3].scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 2, 1, edu);
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    CHECK_EQ(find(0, 2, 0)->unit, 1);
    CHECK_EQ(find(0, 3, 0)->unit, 1);
    CHECK_EQ(find(1, 0, 0)->unit, 1);
    CHECK_EQ(find(2, 1, 0)->unit, 1);                       /* unit 3's later claim loses */
    CHECK_EQ(find(0, 0, 0)->unit, 2);
    CHECK_EQ(find(0, 0x1F, 3)->unit, 2);
    for (unsigned i = 0; i < topo.count; i++)
        CHECK(topo.functions[i].unit != PCI_NO_UNIT);

    dmar.unit_count = 1;
    dmar.units[0].segment = 0;                              /* INCLUDE_PCI_ALL alone covers everything */
    dmar.units[0].scope_count = 0;
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    for (unsigned i = 0; i < topo.count; i++)
        CHECK_EQ(topo.functions[i].unit, 0);
}

TEST(pci_requester_ids_and_groups_behind_pcie_to_pci_bridge)
{
    load_dmar("acpi-q35-iommu-bridge");
    fake_q35_bridge();
    fake_edu(2, 0x02, 0xFE700000);                          /* a second device behind the bridge */
    enumerate();
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    const struct pci_function *edu = find(2, 1, 0), *edu2 = find(2, 2, 0);
    const struct pci_function *br = find(1, 0, 0), *rp = find(0, 3, 0);
    CHECK_EQ(edu->requester_id, 0x0200);                    /* QEMU measured: SID 0x0200 */
    CHECK(edu->aliased);
    CHECK_EQ(edu2->requester_id, 0x0200);
    CHECK(edu2->aliased);
    CHECK_EQ(edu->group, edu2->group);
    CHECK_EQ(br->requester_id, 0x0100);                     /* the root port passes IDs on */
    CHECK(!br->aliased);
    CHECK(br->group != edu->group);
    CHECK_EQ(rp->requester_id, 0x0018);
    CHECK_EQ(find(0, 0x1F, 2)->requester_id, 0x00FA);
    CHECK(!find(0, 0x1F, 2)->aliased);
    for (unsigned i = 0; i < topo.count; i++) {
        const struct pci_function *f = &topo.functions[i];
        CHECK(f->group < topo.group_count);
        for (unsigned j = 0; j < i; j++) {
            if (f->bus == 0 && topo.functions[j].bus == 0)
                CHECK(f->group != topo.functions[j].group);
        }
    }
    CHECK_EQ(topo.group_count, 9);                          /* 10 functions, the two edus together */
    CHECK_EQ(topo.functions[0].group, 0);
    CHECK_EQ(edu2->group, 5);                               /* dense, in enumeration order */
    CHECK_EQ(find(0, 0x1F, 0)->group, 6);
}

TEST(pci_conventional_pci_bridge_aliases_to_its_own_bdf)
{
    fake_reset();
    fake_add(0, 0, 0, 0x8086, 0x29C0, 0x060000, 0x00);
    fake_root_port(0x03, 1, 3);
    fake_bridge_buses(fake_add(1, 0, 0, 0x8086, 0x244E, 0x060401, 0x01), 2, 2);   /* no PCIe capability */
    fake_edu(2, 0x03, 0xFE600000);
    fake_edu(2, 0x04, 0xFE500000);
    fake_root_port(0x04, 4, 6);
    fake_pcie_pci_bridge(4, 5, 6);
    fake_bridge_buses(fake_add(5, 1, 0, 0x8086, 0x244E, 0x060401, 0x01), 6, 6);
    fake_edu(6, 0x00, 0xFE400000);
    enumerate();
    CHECK_EQ(topo.count, 9);
    memset(&dmar, 0, sizeof dmar);
    dmar.unit_count = 1;
    dmar.units[0].include_pci_all = true;
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);

    const struct pci_function *pci_bridge = find(1, 0, 0), *a = find(2, 3, 0), *b = find(2, 4, 0);
    CHECK_EQ(a->requester_id, 0x0100);
    CHECK(a->aliased);
    CHECK_EQ(b->requester_id, 0x0100);
    CHECK_EQ(pci_bridge->requester_id, 0x0100);
    CHECK(!pci_bridge->aliased);
    CHECK_EQ(a->group, pci_bridge->group);                  /* the bridge shares their ID */
    CHECK_EQ(b->group, pci_bridge->group);

    /* PCIe-to-PCI bridge above a conventional one: the top-most alias wins. */
    const struct pci_function *deep = find(6, 0, 0), *inner = find(5, 1, 0);
    CHECK_EQ(deep->requester_id, 0x0500);
    CHECK(deep->aliased);
    CHECK_EQ(inner->requester_id, 0x0500);
    CHECK(inner->aliased);
    CHECK_EQ(deep->group, inner->group);
    CHECK(deep->group != a->group);
    CHECK_EQ(find(4, 0, 0)->requester_id, 0x0400);
    CHECK_EQ(topo.group_count, 6);                          /* 00.0, rp 03, {01:00.0 + 2}, rp 04, 04:00.0, {05:01.0 + 06:00.0} */

    /* The same requester ID under two units is two groups (different context tables). */
    static const uint8_t path_a[][2] = { { 0x03, 0 }, { 0x00, 0 }, { 0x03, 0 } };
    dmar.unit_count = 2;
    dmar.units[1].scopes[dmar.units[1].scope_count++] = scope(DMAR_SCOPE_ENDPOINT, 0, 3, path_a);
    CHECK_EQ(pci_assign_iommu(&topo, &dmar, 0), 0);
    CHECK_EQ(a->unit, 1);
    CHECK_EQ(b->unit, 0);
    CHECK(a->group != b->group);
    CHECK_EQ(b->group, pci_bridge->group);
    CHECK_EQ(topo.group_count, 7);
}
