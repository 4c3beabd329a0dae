/*
 * ecam.c - ECAM config access: address = base + (bus << 20 | device << 15
 * | function << 12 | offset), relative to the window's start bus.
 */
#include "pci/ecam.h"
#include "core/printk.h"
#include "mm/kernel_vm.h"

static volatile uint8_t *ecam_base;
static uint8_t ecam_start_bus, ecam_end_bus;

bool ecam_init(const struct mcfg_summary *mcfg)
{
    for (unsigned i = 0; mcfg && i < mcfg->count; i++) {
        if (mcfg->segments[i].segment != 0)
            continue;
        uint8_t start = mcfg->segments[i].start_bus, end = mcfg->segments[i].end_bus;
        uint64_t window = mcfg->segments[i].base + ((uint64_t)start << 20);
        uint64_t bytes = (uint64_t)(end - start + 1) << 20;
        ecam_base = mmio_map(window, bytes);
        if (!ecam_base) {
            printk("pci: cannot map the ECAM window at 0x%llx\n", (unsigned long long)window);
            return false;
        }
        ecam_start_bus = start;
        ecam_end_bus = end;
        return true;
    }
    return false;
}

bool ecam_available(void)
{
    return ecam_base != NULL;
}

static volatile uint32_t *config_address(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset)
{
    if (!ecam_base || bus < ecam_start_bus || bus > ecam_end_bus || device > 31 || function > 7 ||
        offset > 0xFFC || offset % 4)
        return NULL;
    uint64_t o = ((uint64_t)(bus - ecam_start_bus) << 20) | (uint64_t)device << 15 |
                 (uint64_t)function << 12 | offset;
    return (volatile uint32_t *)(ecam_base + o);
}

uint32_t pci_config_read32(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset)
{
    volatile uint32_t *p = config_address(bus, device, function, offset);
    return p ? *p : 0xFFFFFFFFu;
}

void pci_config_write32(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, uint32_t value)
{
    volatile uint32_t *p = config_address(bus, device, function, offset);
    if (p)
        *p = value;
}

static volatile uint8_t *config_byte(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width)
{
    if ((width != 1 && width != 2 && width != 4) || offset % width)
        return NULL;
    volatile uint32_t *dword = config_address(bus, device, function, offset & ~3u);
    return dword ? (volatile uint8_t *)dword + (offset & 3u) : NULL;
}

uint32_t pci_config_read(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width)
{
    volatile uint8_t *p = config_byte(bus, device, function, offset, width);
    if (!p)
        return width == 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
    switch (width) {
    case 1: return *p;
    case 2: return *(volatile uint16_t *)p;
    default: return *(volatile uint32_t *)p;
    }
}

void pci_config_write(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width, uint32_t value)
{
    volatile uint8_t *p = config_byte(bus, device, function, offset, width);
    if (!p)
        return;
    switch (width) {
    case 1: *p = (uint8_t)value; break;
    case 2: *(volatile uint16_t *)p = (uint16_t)value; break;
    default: *(volatile uint32_t *)p = value; break;
    }
}

void pci_log_bus0(void)
{
    if (!ecam_base)
        return;
    for (uint8_t dev = 0; dev < 32; dev++) {
        for (uint8_t fn = 0; fn < 8; fn++) {
            uint32_t id = pci_config_read32(0, dev, fn, 0x00);
            if ((id & 0xFFFF) == 0xFFFF) {
                if (fn == 0)
                    break;
                continue;
            }
            uint32_t class = pci_config_read32(0, dev, fn, 0x08) >> 8;
            printk("pci: 00:%02x.%u %04x:%04x class %06x\n", dev, fn, id & 0xFFFF, id >> 16, class);
            uint32_t header_type = (pci_config_read32(0, dev, fn, 0x0C) >> 16) & 0xFF;
            if (fn == 0 && !(header_type & 0x80))
                break;  /* single-function device */
        }
    }
}
