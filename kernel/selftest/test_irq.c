/*
 * test_irq.c - kernel self-test of the legacy (ISA) interrupt path: COM1's
 * IRQ 4 through the IOAPIC and, with an IOMMU, a remapping entry that
 * checks the IOAPIC's source ID. User space has no port access to make the
 * UART interrupt, so this path is tested here; PCI INTx is tested from user
 * space with edu (tests/boot/t_irq.c).
 */
#include "selftest/ktest.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/timer.h"
#include "core/printk.h"
#include "iommu/vtd.h"
#include "obj/irq.h"

#define COM1_IER 0x3F9
#define COM1_IIR 0x3FA
#define UART_IER_THRI 0x02              /* interrupt when the transmit register is empty */
#define WAIT_NS 100000000ull

void test_isa_serial_irq(struct ktest_context *t)
{
    struct wd_irq_stats before, after;
    irq_stats(&before);
    int error = 0;
    struct irq *q = irq_create(NULL, WD_IRQ_ISA(4), &error);
    if (!KTEST_EXPECT(t, q != NULL)) {
        printk("# irq_create(ISA 4) failed: error %d\n", error);
        return;
    }
    struct wd_irq_info info;
    irq_describe(q, &info);
    KTEST_EXPECT(t, info.gsi == 4);
    KTEST_EXPECT(t, !(info.flags & WD_IRQ_LEVEL));
    if (vtd_unit_count() && vtd_unit(0)->irt_phys) {
        KTEST_EXPECT(t, info.flags & WD_IRQ_REMAPPED);
        KTEST_EXPECT(t, info.irte_present && info.irte_vector == info.vector);
        KTEST_EXPECT(t, info.irte_svt == WD_IRTE_SVT_SID);
    }
    /* Enabling the THR-empty interrupt on an idle UART raises IRQ 4 at once. */
    outb(COM1_IER, UART_IER_THRI);
    uint64_t deadline = time_now_ns() + WAIT_NS;
    cpu_sti();
    while (q->interrupts == 0 && time_now_ns() < deadline)
        cpu_halt();
    cpu_cli();
    outb(COM1_IER, 0);
    (void)inb(COM1_IIR);
    KTEST_EXPECT(t, q->interrupts >= 1);
    KTEST_EXPECT(t, q->pending == q->interrupts);       /* unbound: counted for the next bind */
    kobject_put(&q->obj);                               /* tears it down */
    irq_stats(&after);
    KTEST_EXPECT(t, after.live_irqs == before.live_irqs);
    KTEST_EXPECT(t, after.vectors_free == before.vectors_free);
    KTEST_EXPECT(t, after.ir_entries_used == before.ir_entries_used);
}
