/*
 * ioapic.c - I/O APIC redirection entries (82093AA datasheet; remappable
 * format from the VT-d spec 5.1.5.1). Registers are reached through the
 * IOREGSEL/IOWIN pair; an entry is two 32-bit registers at 0x10 + 2n.
 */
#include "arch/x86_64/ioapic.h"

#include "acpi/acpi.h"
#include "core/panic.h"
#include "core/printk.h"
#include "iommu/vtd_regs.h"
#include "mm/kernel_vm.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_VERSION_REG 0x01
#define IOAPIC_REDIRECTION(n) (0x10 + 2 * (n))

#define RTE_LEVEL       (1ull << 15)
#define RTE_ACTIVE_LOW  (1ull << 13)
#define RTE_MASKED      (1ull << 16)
#define RTE_DEST(apic)  ((uint64_t)(apic) << 56)

#define MADT_FLAG_POLARITY_MASK 0x3
#define MADT_FLAG_ACTIVE_LOW    0x3
#define MADT_FLAG_TRIGGER_MASK  0xC
#define MADT_FLAG_LEVEL         0xC

static struct ioapic {
    volatile uint32_t *registers;
    uint8_t id;
    uint32_t gsi_base;
    unsigned lines;
} ioapics[MADT_MAX_IOAPICS];
static unsigned ioapic_total;

static uint32_t read_reg(const struct ioapic *a, uint32_t reg)
{
    a->registers[IOREGSEL / 4] = reg;
    return a->registers[IOWIN / 4];
}

static void write_reg(const struct ioapic *a, uint32_t reg, uint32_t value)
{
    a->registers[IOREGSEL / 4] = reg;
    a->registers[IOWIN / 4] = value;
}

static struct ioapic *owner_of(uint32_t gsi, unsigned *line)
{
    for (unsigned i = 0; i < ioapic_total; i++) {
        struct ioapic *a = &ioapics[i];
        if (gsi >= a->gsi_base && gsi - a->gsi_base < a->lines) {
            *line = gsi - a->gsi_base;
            return a;
        }
    }
    return NULL;
}

static void write_entry(const struct ioapic *a, unsigned line, uint64_t entry)
{
    /* Mask first so the line never fires with half an entry written. */
    write_reg(a, IOAPIC_REDIRECTION(line), (uint32_t)RTE_MASKED);
    write_reg(a, IOAPIC_REDIRECTION(line) + 1, (uint32_t)(entry >> 32));
    write_reg(a, IOAPIC_REDIRECTION(line), (uint32_t)entry);
}

void ioapic_init(const struct madt_summary *madt)
{
    for (unsigned i = 0; i < madt->ioapic_count && ioapic_total < MADT_MAX_IOAPICS; i++) {
        struct ioapic *a = &ioapics[ioapic_total];
        a->registers = mmio_map(madt->ioapics[i].address, 0x1000);
        if (!a->registers)
            panic("ioapic: cannot map the I/O APIC at 0x%x", madt->ioapics[i].address);
        a->id = madt->ioapics[i].id;
        a->gsi_base = madt->ioapics[i].gsi_base;
        a->lines = ((read_reg(a, IOAPIC_VERSION_REG) >> 16) & 0xFF) + 1;
        for (unsigned line = 0; line < a->lines; line++)
            write_entry(a, line, RTE_MASKED);
        printk("ioapic: id %u, GSIs %u-%u, every line masked\n", a->id, a->gsi_base, a->gsi_base + a->lines - 1);
        ioapic_total++;
    }
}

bool ioapic_has_gsi(uint32_t gsi)
{
    unsigned line;
    return owner_of(gsi, &line) != NULL;
}

uint8_t ioapic_id_of(uint32_t gsi)
{
    unsigned line;
    struct ioapic *a = owner_of(gsi, &line);
    KASSERT(a);
    return a->id;
}

void ioapic_program(uint32_t gsi, const struct ioapic_route *r)
{
    unsigned line;
    struct ioapic *a = owner_of(gsi, &line);
    KASSERT(a);
    uint64_t entry = RTE_MASKED | r->vector | (r->level ? RTE_LEVEL : 0) | (r->active_low ? RTE_ACTIVE_LOW : 0);
    entry |= r->remapped ? vtd_remappable_ioapic_bits(r->handle) : RTE_DEST(r->apic_id);
    write_entry(a, line, entry);
}

void ioapic_set_masked(uint32_t gsi, bool masked)
{
    unsigned line;
    struct ioapic *a = owner_of(gsi, &line);
    KASSERT(a);
    uint32_t low = read_reg(a, IOAPIC_REDIRECTION(line));
    low = masked ? low | (uint32_t)RTE_MASKED : low & ~(uint32_t)RTE_MASKED;
    write_reg(a, IOAPIC_REDIRECTION(line), low);
}

void ioapic_release(uint32_t gsi)
{
    unsigned line;
    struct ioapic *a = owner_of(gsi, &line);
    KASSERT(a);
    write_entry(a, line, RTE_MASKED);
}

bool isa_irq_route(const struct madt_summary *madt, unsigned irq, uint32_t *gsi, bool *level, bool *active_low)
{
    if (irq > 15)
        return false;
    *gsi = irq;
    *level = false;
    *active_low = false;
    for (unsigned i = 0; i < madt->override_count; i++) {
        if (madt->overrides[i].source_irq != irq)
            continue;
        uint16_t flags = madt->overrides[i].flags;
        *gsi = madt->overrides[i].gsi;
        *level = (flags & MADT_FLAG_TRIGGER_MASK) == MADT_FLAG_LEVEL;
        *active_low = (flags & MADT_FLAG_POLARITY_MASK) == MADT_FLAG_ACTIVE_LOW;
    }
    return true;
}
