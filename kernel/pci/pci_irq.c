/*
 * pci_irq.c - MSI, MSI-X and INTx of PCI functions (PCI Local Bus spec
 * 6.8; see pci_irq.h). Only the kernel calls these: config writes from
 * drivers to the MSI/MSI-X capabilities are refused (config_policy.c) and
 * the MSI-X table pages are kept out of their BAR mappings.
 */
#include "pci/pci_irq.h"

#include "core/panic.h"
#include "mm/kernel_vm.h"
#include "pci/ecam.h"
#include "pci/pci_regs.h"

#include <warden/device.h>

#define MAX_MSIX_TABLES 32

static struct {
    const struct pci_function *fn;
    volatile uint32_t *table;
} msix_tables[MAX_MSIX_TABLES];

static uint32_t read_cfg(const struct pci_function *fn, unsigned offset, unsigned width)
{
    return pci_config_read(fn->bus, fn->dev, fn->fn, (uint16_t)offset, width);
}

static void write_cfg(const struct pci_function *fn, unsigned offset, unsigned width, uint32_t value)
{
    pci_config_write(fn->bus, fn->dev, fn->fn, (uint16_t)offset, width, value);
}

unsigned pci_msi_vector_count(const struct pci_function *fn)
{
    return fn->msi_cap ? pci_msi_vectors((uint16_t)read_cfg(fn, fn->msi_cap + PCI_MSI_CONTROL, 2)) : 0;
}

void pci_msi_enable(const struct pci_function *fn, uint32_t address, uint16_t data)
{
    unsigned cap = fn->msi_cap;
    KASSERT(cap);
    uint16_t control = (uint16_t)read_cfg(fn, cap + PCI_MSI_CONTROL, 2);
    control &= (uint16_t)~(PCI_MSI_ENABLE | PCI_MSI_MME_MASK);
    write_cfg(fn, cap + PCI_MSI_CONTROL, 2, control);
    write_cfg(fn, cap + PCI_MSI_ADDRESS_LO, 4, address);
    if (control & PCI_MSI_64BIT) {
        write_cfg(fn, cap + PCI_MSI_ADDRESS_HI, 4, 0);
        write_cfg(fn, cap + PCI_MSI_DATA_64, 2, data);
    } else {
        write_cfg(fn, cap + PCI_MSI_DATA_32, 2, data);
    }
    write_cfg(fn, cap + PCI_MSI_CONTROL, 2, control | PCI_MSI_ENABLE);
}

void pci_msi_disable(const struct pci_function *fn)
{
    unsigned cap = fn->msi_cap;
    KASSERT(cap);
    uint16_t control = (uint16_t)read_cfg(fn, cap + PCI_MSI_CONTROL, 2);
    write_cfg(fn, cap + PCI_MSI_CONTROL, 2, control & (uint16_t)~(PCI_MSI_ENABLE | PCI_MSI_MME_MASK));
    write_cfg(fn, cap + PCI_MSI_ADDRESS_LO, 4, 0);
    write_cfg(fn, cap + ((control & PCI_MSI_64BIT) ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, 0);
}

unsigned pci_msix_entry_count(const struct pci_function *fn)
{
    return fn->msix_cap ? pci_msix_entries((uint16_t)read_cfg(fn, fn->msix_cap + PCI_MSIX_CONTROL, 2)) : 0;
}

bool pci_msix_table(const struct pci_function *fn, unsigned *bar, uint64_t *offset, uint64_t *bytes)
{
    if (!fn->msix_cap)
        return false;
    uint32_t table = read_cfg(fn, fn->msix_cap + PCI_MSIX_TABLE, 4);
    *bar = pci_msix_bar(table);
    *offset = pci_msix_offset(table);
    *bytes = (uint64_t)pci_msix_entry_count(fn) * PCI_MSIX_ENTRY_BYTES;
    return *bar < 6;
}

static volatile uint32_t *msix_table_of(const struct pci_function *fn)
{
    unsigned free_slot = MAX_MSIX_TABLES;
    for (unsigned i = 0; i < MAX_MSIX_TABLES; i++) {
        if (msix_tables[i].fn == fn)
            return msix_tables[i].table;
        if (!msix_tables[i].fn && free_slot == MAX_MSIX_TABLES)
            free_slot = i;
    }
    unsigned bar;
    uint64_t offset, bytes;
    if (free_slot == MAX_MSIX_TABLES || !pci_msix_table(fn, &bar, &offset, &bytes))
        return NULL;
    const struct pci_bar *b = &fn->bars[bar];
    if (!(b->flags & WD_BAR_MMIO) || b->base == 0 || offset + bytes > b->size)
        return NULL;
    volatile uint32_t *table = mmio_map(b->base + offset, bytes);
    if (table) {
        msix_tables[free_slot].fn = fn;
        msix_tables[free_slot].table = table;
    }
    return table;
}

static volatile uint32_t *msix_entry(volatile uint32_t *table, unsigned n)
{
    return table + n * (PCI_MSIX_ENTRY_BYTES / 4);
}

bool pci_msix_enable_entry(const struct pci_function *fn, unsigned n, uint32_t address, uint32_t data)
{
    volatile uint32_t *table = msix_table_of(fn);
    if (!table)
        return false;
    unsigned cap = fn->msix_cap;
    uint16_t control = (uint16_t)read_cfg(fn, cap + PCI_MSIX_CONTROL, 2);
    /* Enable with the function masked first, so no stale entry can fire. */
    write_cfg(fn, cap + PCI_MSIX_CONTROL, 2, control | PCI_MSIX_ENABLE | PCI_MSIX_FUNCTION_MASK);
    if (!(control & PCI_MSIX_ENABLE))
        for (unsigned i = 0; i < pci_msix_entry_count(fn); i++)
            msix_entry(table, i)[PCI_MSIX_ENTRY_CONTROL / 4] = 1;
    volatile uint32_t *e = msix_entry(table, n);
    e[PCI_MSIX_ENTRY_CONTROL / 4] = 1;
    e[PCI_MSIX_ENTRY_ADDRESS_LO / 4] = address;
    e[PCI_MSIX_ENTRY_ADDRESS_HI / 4] = 0;
    e[PCI_MSIX_ENTRY_DATA / 4] = data;
    e[PCI_MSIX_ENTRY_CONTROL / 4] = 0;
    write_cfg(fn, cap + PCI_MSIX_CONTROL, 2, (control | PCI_MSIX_ENABLE) & (uint16_t)~PCI_MSIX_FUNCTION_MASK);
    return true;
}

void pci_msix_disable_entry(const struct pci_function *fn, unsigned n)
{
    volatile uint32_t *table = msix_table_of(fn);
    if (!table)
        return;
    volatile uint32_t *e = msix_entry(table, n);
    e[PCI_MSIX_ENTRY_CONTROL / 4] = 1;
    e[PCI_MSIX_ENTRY_ADDRESS_LO / 4] = 0;
    e[PCI_MSIX_ENTRY_DATA / 4] = 0;
    for (unsigned i = 0; i < pci_msix_entry_count(fn); i++)
        if (!(msix_entry(table, i)[PCI_MSIX_ENTRY_CONTROL / 4] & 1))
            return;
    /* The last entry: mask the whole function but leave MSI-X Enable set.
     * QEMU 7.2's e1000e aborts when Enable is cleared within its interrupt
     * throttle window (facts sheet §0.5); masking is correct on hardware
     * too. Enable is cleared only when a new source needs INTx or MSI
     * (pci_msix_leave). */
    uint16_t control = (uint16_t)read_cfg(fn, fn->msix_cap + PCI_MSIX_CONTROL, 2);
    write_cfg(fn, fn->msix_cap + PCI_MSIX_CONTROL, 2, control | PCI_MSIX_FUNCTION_MASK);
}

void pci_msix_leave(const struct pci_function *fn)
{
    if (!fn->msix_cap)
        return;
    uint16_t control = (uint16_t)read_cfg(fn, fn->msix_cap + PCI_MSIX_CONTROL, 2);
    if (control & PCI_MSIX_ENABLE)
        write_cfg(fn, fn->msix_cap + PCI_MSIX_CONTROL, 2,
                  (control | PCI_MSIX_FUNCTION_MASK) & (uint16_t)~PCI_MSIX_ENABLE);
}

void pci_intx_set_enabled(const struct pci_function *fn, bool enabled)
{
    uint16_t command = (uint16_t)read_cfg(fn, PCI_COMMAND_STATUS, 2);
    command = enabled ? command & (uint16_t)~PCI_COMMAND_INTX_DISABLE : command | PCI_COMMAND_INTX_DISABLE;
    write_cfg(fn, PCI_COMMAND_STATUS, 2, command);
}

unsigned pci_intx_pin(const struct pci_function *fn)
{
    unsigned pin = (read_cfg(fn, PCI_INTERRUPT_DWORD, 4) >> 8) & 0xFF;
    return pin >= 1 && pin <= 4 ? pin : 0;
}

bool pci_intx_gsi(const struct pci_topology *t, const struct pci_function *fn, uint32_t *gsi)
{
    unsigned pin = pci_intx_pin(fn);
    return pin && pci_intx_route_q35(t, fn, pin, gsi);
}
