/*
 * fake_pci.c - the fake q35 config space and fixture helpers (see fake_pci.h).
 */
#include "fake_pci.h"

#include "unit.h"
#include "fake_phys.h"
#include "acpi/acpi.h"

#include <warden/device.h>

#include <stdlib.h>
#include <string.h>

struct fake_pci fake;
struct pci_topology topo;
struct dmar_summary dmar;

uint32_t get32(const uint8_t *cfg, uint16_t offset)
{
    uint32_t v;
    memcpy(&v, cfg + offset, 4);
    return v;
}

void put32(uint8_t *cfg, uint16_t offset, uint32_t v)
{
    memcpy(cfg + offset, &v, 4);
}

struct fake_fn *fake_lookup(uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < fake.count; i++) {
        struct fake_fn *x = &fake.fns[i];
        if (x->bus == bus && x->dev == dev && x->fn == fn)
            return x;
    }
    return NULL;
}

unsigned fake_bar_count(const struct fake_fn *x)
{
    uint8_t type = x->cfg[0x0E] & 0x7F;
    return type == 0 ? 6 : type == 1 ? 2 : 0;
}

uint32_t fake_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset)
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

void fake_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset, uint32_t value)
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

const struct pci_config_access fake_access = { fake_read32, fake_write32, NULL };

void fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
}

struct fake_fn *fake_add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor, uint16_t device,
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

uint16_t fake_command(const struct fake_fn *x)
{
    return (uint16_t)get32(x->cfg, PCI_COMMAND_STATUS);
}

void fake_set_command(struct fake_fn *x, uint16_t command)
{
    put32(x->cfg, PCI_COMMAND_STATUS, (get32(x->cfg, PCI_COMMAND_STATUS) & 0xFFFF0000u) | command);
}

void fake_mem_bar(struct fake_fn *x, unsigned i, uint32_t base, uint32_t size, bool prefetch)
{
    put32(x->cfg, PCI_BAR0 + 4 * i, base | (prefetch ? PCI_BAR_MEM_PREFETCH : 0));
    x->bar_writable[i] = ~(size - 1) & PCI_BAR_MEM_ADDRESS_MASK;
}

void fake_mem64_bar(struct fake_fn *x, unsigned i, uint64_t base, uint64_t size, bool prefetch)
{
    put32(x->cfg, PCI_BAR0 + 4 * i, (uint32_t)base | PCI_BAR_MEM_TYPE_64 | (prefetch ? PCI_BAR_MEM_PREFETCH : 0));
    put32(x->cfg, PCI_BAR0 + 4 * (i + 1), (uint32_t)(base >> 32));
    x->bar_writable[i] = (uint32_t)~(size - 1) & PCI_BAR_MEM_ADDRESS_MASK;
    x->bar_writable[i + 1] = (uint32_t)(~(size - 1) >> 32);
}

/* I/O BARs decode 16 bits on ICH9: the upper half reads back 0. */
void fake_io_bar(struct fake_fn *x, unsigned i, uint16_t base, uint16_t size)
{
    put32(x->cfg, PCI_BAR0 + 4 * i, base | PCI_BAR_IO);
    x->bar_writable[i] = ~(uint32_t)(size - 1) & 0xFFFCu;
}

/* Appends a capability at `at` to the function's list. */
void fake_cap(struct fake_fn *x, uint8_t at, uint8_t id, uint16_t flags)
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

void fake_bridge_buses(struct fake_fn *x, uint8_t secondary, uint8_t subordinate)
{
    put32(x->cfg, PCI_BUS_NUMBERS, (uint32_t)subordinate << 16 | (uint32_t)secondary << 8 | x->bus);
}

uint16_t pcie_flags(uint8_t port_type)
{
    return (uint16_t)(port_type << 4 | 2);     /* capability version 2 */
}

struct fake_fn *fake_edu(uint8_t bus, uint8_t dev, uint32_t bar0)
{
    struct fake_fn *x = fake_add(bus, dev, 0, 0x1234, 0x11E8, 0x00FF00, 0x00);
    x->cfg[0x08] = 0x10;                                    /* revision */
    fake_mem_bar(x, 0, bar0, 1u << 20, false);
    fake_cap(x, 0x40, PCI_CAP_ID_MSI, 0x0080);              /* 64-bit address, 1 vector */
    fake_set_command(x, PCI_COMMAND_MEMORY);
    return x;
}

struct fake_fn *fake_root_port(uint8_t dev, uint8_t secondary, uint8_t subordinate)
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
struct fake_fn *fake_pcie_pci_bridge(uint8_t bus, uint8_t secondary, uint8_t subordinate)
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
void fake_q35_base(void)
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
void fake_q35_edu(void)
{
    fake_q35_base();
    fake_edu(0, 0x03, 0xFEA00000);
}

/* acpi-q35-iommu-bridge: pcie-root-port 00:03.0 -> pcie-pci-bridge 01:00.0 -> edu 02:01.0. */
void fake_q35_bridge(void)
{
    fake_q35_base();
    fake_root_port(0x03, 1, 2);
    fake_pcie_pci_bridge(1, 2, 2);
    fake_edu(2, 0x01, 0xFE600000);
}

void enumerate(void)
{
    memset(&topo, 0xA5, sizeof topo);       /* pci_enumerate must not rely on a zeroed output */
    pci_enumerate(&fake_access, &topo);
}

const struct pci_function *find(uint8_t bus, uint8_t dev, uint8_t fn)
{
    int i = pci_find(&topo, bus, dev, fn);
    CHECK(i >= 0);
    return i >= 0 ? &topo.functions[i] : &topo.functions[0];
}

void load_dmar(const char *machine)
{
    static struct fake_phys fp;
    static struct acpi acpi;
    fake_phys_load(&fp, machine);
    CHECK_EQ(acpi_init(&acpi, fp.rsdp, fp.rsdp_length, fake_phys_map, &fp), ACPI_OK);
    CHECK(dmar_parse(acpi_find(&acpi, "DMAR", 0), &dmar));
    fake_phys_free(&fp);
}

struct dmar_scope scope(uint8_t type, uint8_t bus, unsigned hops, const uint8_t (*path)[2])
{
    struct dmar_scope s = { .type = type, .start_bus = bus, .path_length = (uint8_t)hops };
    for (unsigned i = 0; i < hops; i++) {
        s.path[i].device = path[i][0];
        s.path[i].function = path[i][1];
    }
    return s;
}
