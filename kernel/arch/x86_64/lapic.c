/*
 * lapic.c - local APIC bring-up and access, and masking the legacy PIC.
 * xAPIC mode only (QEMU TCG has no usable x2APIC interrupt remapping).
 */
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "core/panic.h"
#include "core/printk.h"
#include "mm/kernel_vm.h"

#define APIC_BASE_MSR_ENABLE (1ull << 11)
#define APIC_BASE_ADDRESS_MASK 0x000FFFFFFFFFF000ull

static volatile uint32_t *lapic_registers;

uint32_t lapic_read(enum lapic_register reg)
{
    return lapic_registers[reg / 4];
}

void lapic_write(enum lapic_register reg, uint32_t value)
{
    lapic_registers[reg / 4] = value;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

bool lapic_in_service(uint8_t vector)
{
    return (lapic_read((enum lapic_register)(LAPIC_ISR + 0x10 * (vector / 32))) >> (vector % 32)) & 1;
}

uint32_t lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

void lapic_init(uint64_t phys)
{
    uint64_t msr = rdmsr(MSR_APIC_BASE);
    if (!phys)
        phys = msr & APIC_BASE_ADDRESS_MASK;
    wrmsr(MSR_APIC_BASE, msr | APIC_BASE_MSR_ENABLE);
    lapic_registers = mmio_map(phys, 0x1000);
    if (!lapic_registers)
        panic("lapic: cannot map the local APIC at 0x%llx", (unsigned long long)phys);

    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VECTOR_LAPIC_TIMER);
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_DELIVERY_NMI);
    lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VECTOR_LAPIC_SPURIOUS);
    lapic_eoi();
    printk("lapic: id %u, version 0x%x, registers at 0x%llx\n", lapic_id(),
           lapic_read(LAPIC_VERSION) & 0xFF, (unsigned long long)phys);
}

enum {
    PIC1_COMMAND = 0x20, PIC1_DATA = 0x21,
    PIC2_COMMAND = 0xA0, PIC2_DATA = 0xA1,
    ICW1_INIT_ICW4 = 0x11, ICW4_8086 = 0x01,
};

void pic_disable(void)
{
    outb(PIC1_COMMAND, ICW1_INIT_ICW4);
    outb(PIC2_COMMAND, ICW1_INIT_ICW4);
    outb(PIC1_DATA, VECTOR_PIC_BASE);
    outb(PIC2_DATA, VECTOR_PIC_BASE + 8);
    outb(PIC1_DATA, 4);     /* slave on IRQ2 */
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);
}
