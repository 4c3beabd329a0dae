/*
 * t_irq.c - interrupts as messages, with QEMU's edu device: MSI through a
 * requester-checked remapping entry, coalescing, ack semantics, interrupts
 * before binding, DMA-done, the INTx path through the IOAPIC, rights and
 * revocation of irq capabilities, and unhooking when the owner dies.
 */
#include <string.h>

#include "boot_tests.h"
#include "t_dma.h"

#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE 0x60
#define EDU_REG_IRQ_ACK 0x64
#define EDU_DMA_IRQ 4u                  /* DMA command bit: raise interrupt 0x100 when done */
#define EDU_DMA_IRQ_STATUS 0x100u
#define IRQ_BADGE 0x1EE
#define QUIET_MS 30                     /* no message within this long counts as none */
#define GSTS_IRES (1u << 25)            /* VT-d GSTS: interrupt remapping enabled */
#define IRQ_COPY_LABEL 0x1D1            /* irq-owner -> test: a copy of its irq capability */

struct irq_setup {
    struct edu edu;
    wd_handle_t irq, ep;
    struct wd_irq_info info;
};

static void edu_write32(struct edu *e, unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(e->bar + reg) = v;
}

static uint32_t edu_read32(struct edu *e, unsigned reg)
{
    return *(volatile uint32_t *)(e->bar + reg);
}

/* The IOMMU remaps interrupts (GSTS.IRES): MSI and MSI-X need it. */
static bool remapping_present(void)
{
    struct wd_iommu_info info;
    return wd_iommu_info(0, &info) == 0 && (info.status & GSTS_IRES);
}

static void lower_irq(struct irq_setup *s)
{
    edu_write32(&s->edu, EDU_REG_IRQ_ACK, edu_read32(&s->edu, EDU_REG_IRQ_STATUS));
}

/* Raises edu's interrupt and waits until the kernel took it: two edge
 * interrupts the CPU has not taken yet merge in the local APIC, so a test
 * that counts interrupts lets each one land. */
static void raise_irq(struct irq_setup *s)
{
    struct wd_irq_info before, now;
    BT_OK(wd_irq_info(s->irq, &before));
    edu_write32(&s->edu, EDU_REG_IRQ_RAISE, 1);
    for (int i = 0; i < 100; i++) {
        BT_OK(wd_irq_info(s->irq, &now));
        if (now.interrupts > before.interrupts)
            return;
        wd_thread_sleep(BT_MS);
    }
    printf("# the raised interrupt did not arrive\n");
    bt_failures++;
}

/* Opens edu (attached when MSI is wanted: MSIs are bus-master writes),
 * creates the irq and an endpoint; binds when asked. false = skip/fail. */
static bool irq_open(struct irq_setup *s, uint64_t index, bool bind)
{
    memset(s, 0, sizeof *s);
    bool msi = WD_IRQ_KIND(index) == WD_IRQ_KIND_MSI;
    if (!edu_open(&s->edu, msi))
        return false;
    lower_irq(s);                       /* a status bit an earlier test left set */
    if (msi && !remapping_present()) {
        BT_CHECK_EQ(wd_irq_create(s->edu.device, index), -WD_E_NO_IOMMU);
        BT_SKIP("the IOMMU does not remap interrupts: MSI is refused (checked)");
        return false;
    }
    long irq = BT_OK(wd_irq_create(s->edu.device, index));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    if (irq < 0 || ep < 0)
        return false;
    s->irq = (wd_handle_t)irq;
    s->ep = (wd_handle_t)ep;
    if (bind)
        BT_CHECK_EQ(wd_irq_bind(s->irq, s->ep, IRQ_BADGE), 0);
    BT_OK(wd_irq_info(s->irq, &s->info));
    return bt_failures == 0;
}

static long wait_irq(struct irq_setup *s, struct wd_msg *msg, uint64_t ms)
{
    return bt_wait_kernel_message(s->ep, WD_LABEL_IRQ, IRQ_BADGE, msg, ms * BT_MS);
}

/* One raise, one message: right label, badge, count, index, a timestamp;
 * and the remapping entry checks edu's requester ID. */
void test_irq_msi_message(void)
{
    struct irq_setup s;
    if (!irq_open(&s, WD_IRQ_MSI(0), true))
        return;
    struct wd_device_info d = s.edu.info;
    BT_CHECK(s.info.flags & WD_IRQ_REMAPPED);
    BT_CHECK(s.info.flags & WD_IRQ_BOUND);
    BT_CHECK(!(s.info.flags & WD_IRQ_LEVEL));
    BT_CHECK_EQ(s.info.device, d.address);
    BT_CHECK_EQ(s.info.irte_present, 1);
    BT_CHECK_EQ(s.info.irte_sid, d.requester_id);
    BT_CHECK_EQ(s.info.irte_svt, WD_IRTE_SVT_SID);
    BT_CHECK_EQ(s.info.irte_sq, 0);
    BT_CHECK_EQ(s.info.irte_vector, s.info.vector);
    BT_CHECK(s.info.vector >= 0x40 && s.info.vector < 0xF0);
    BT_CHECK_EQ(s.info.msi_address & 0xFFF00010, 0xFEE00010);       /* remappable format */
    BT_CHECK_EQ((s.info.msi_address >> 5) & 0x7FFF, s.info.irte_index);
    /* The MSI capability holds what the kernel wrote; the driver cannot change it. */
    BT_CHECK_EQ((uint64_t)wd_device_config_read(s.edu.device, 0x44, 4), s.info.msi_address);
    BT_CHECK(wd_device_config_read(s.edu.device, 0x42, 2) & 1);
    BT_CHECK_EQ(wd_device_config_write(s.edu.device, 0x44, 4, 0xFEE00000), -WD_E_PROTECTED);
    uint64_t before = (uint64_t)wd_time_now();
    raise_irq(&s);
    struct wd_msg msg;
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    BT_CHECK_EQ(msg.w[0], 1);
    BT_CHECK(msg.w[1] >= before && msg.w[1] <= (uint64_t)wd_time_now());
    BT_CHECK_EQ(msg.w[2], WD_IRQ_MSI(0));
    BT_CHECK_EQ(edu_read32(&s.edu, EDU_REG_IRQ_STATUS), 1);
    lower_irq(&s);
    BT_CHECK_EQ(wd_irq_ack(s.irq), 1);
    BT_CHECK_EQ(wait_irq(&s, &msg, QUIET_MS), -WD_E_TIMEOUT);      /* exactly one */
    BT_OK(wd_irq_info(s.irq, &s.info));
    BT_CHECK_EQ(s.info.interrupts, 1);
    BT_CHECK_EQ(s.info.messages, 1);
}

/* N raises before the driver receives: one message with count N. */
void test_irq_coalesces(void)
{
    struct irq_setup s;
    if (!irq_open(&s, WD_IRQ_MSI(0), true))
        return;
    for (int i = 0; i < 5; i++)
        raise_irq(&s);
    struct wd_msg msg;
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    BT_CHECK_EQ(msg.w[0], 5);
    BT_CHECK_EQ(wait_irq(&s, &msg, QUIET_MS), -WD_E_TIMEOUT);
    BT_OK(wd_irq_info(s.irq, &s.info));
    BT_CHECK_EQ(s.info.interrupts, 5);
    BT_CHECK_EQ(s.info.messages, 1);
}

/* No new message until irq_ack; the ack sends what arrived meanwhile; a
 * stale ack does nothing. */
void test_irq_ack_semantics(void)
{
    struct irq_setup s;
    if (!irq_open(&s, WD_IRQ_MSI(0), true))
        return;
    struct wd_msg msg;
    BT_CHECK_EQ(wd_irq_ack(s.irq), 0);                              /* nothing outstanding */
    raise_irq(&s);
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    BT_CHECK_EQ(msg.w[0], 1);
    raise_irq(&s);
    raise_irq(&s);
    BT_CHECK_EQ(wait_irq(&s, &msg, QUIET_MS), -WD_E_TIMEOUT);      /* not acked yet */
    BT_OK(wd_irq_info(s.irq, &s.info));
    BT_CHECK_EQ(s.info.pending, 2);
    BT_CHECK(s.info.flags & WD_IRQ_WAITING_ACK);
    BT_CHECK_EQ(wd_irq_ack(s.irq), 1);
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);                       /* the two, at once */
    BT_CHECK_EQ(msg.w[0], 2);
    BT_CHECK_EQ(wd_irq_ack(s.irq), 1);
    BT_CHECK_EQ(wd_irq_ack(s.irq), 0);                              /* stale */
    BT_CHECK_EQ(wait_irq(&s, &msg, QUIET_MS), -WD_E_TIMEOUT);
    raise_irq(&s);
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    BT_CHECK_EQ(msg.w[0], 1);
}

/* Interrupts between irq_create and irq_bind are not lost. */
void test_irq_pending_before_bind(void)
{
    struct irq_setup s;
    if (!irq_open(&s, WD_IRQ_MSI(0), false))
        return;
    raise_irq(&s);
    raise_irq(&s);
    BT_CHECK_EQ(wd_irq_bind(s.irq, s.ep, IRQ_BADGE), 2);
    struct wd_msg msg;
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    BT_CHECK_EQ(msg.w[0], 2);
    /* Unbinding keeps counting for the next bind. */
    BT_CHECK_EQ(wd_irq_ack(s.irq), 1);
    BT_CHECK_EQ(wd_irq_bind(s.irq, WD_NULL, 0), 0);
    raise_irq(&s);
    BT_CHECK_EQ(wait_irq(&s, &msg, QUIET_MS), -WD_E_TIMEOUT);
    BT_CHECK_EQ(wd_irq_bind(s.irq, s.ep, IRQ_BADGE), 1);
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
}

/* A DMA with the "interrupt when done" bit: the message arrives after the
 * transfer, and the data is there. */
void test_irq_dma_done(void)
{
    struct irq_setup s;
    if (!irq_open(&s, WD_IRQ_MSI(0), true))
        return;
    wd_handle_t frame;
    volatile uint8_t *buf = dma_buffer(&frame, BUF_VA, 4096, 0);
    if (!buf || BT_OK(wd_dma_map(s.edu.dmaspace, frame, 0, 0x100000, 4096, WD_RIGHT_READ | WD_RIGHT_WRITE)) < 0)
        return;
    fill(buf, TRANSFER, 0x31);
    edu_write64(&s.edu, EDU_REG_DMA_SRC, 0x100000);
    edu_write64(&s.edu, EDU_REG_DMA_DST, EDU_BUFFER);
    edu_write64(&s.edu, EDU_REG_DMA_COUNT, TRANSFER);
    edu_write64(&s.edu, EDU_REG_DMA_CMD, EDU_DMA_START | EDU_DMA_IRQ);
    struct wd_msg msg;
    BT_CHECK_EQ(wait_irq(&s, &msg, 3000), 0);
    BT_CHECK_EQ(edu_read32(&s.edu, EDU_REG_IRQ_STATUS), EDU_DMA_IRQ_STATUS);
    BT_CHECK_EQ(edu_read64(&s.edu, EDU_REG_DMA_CMD) & EDU_DMA_START, 0);
    lower_irq(&s);
    BT_CHECK_EQ(wd_irq_ack(s.irq), 1);
    /* And back, device to RAM, again signalled by interrupt. */
    fill(buf, TRANSFER, 0);
    edu_write64(&s.edu, EDU_REG_DMA_SRC, EDU_BUFFER);
    edu_write64(&s.edu, EDU_REG_DMA_DST, 0x100000);
    edu_write64(&s.edu, EDU_REG_DMA_CMD, EDU_DMA_START | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
    BT_CHECK_EQ(wait_irq(&s, &msg, 3000), 0);
    bool same = true;
    for (unsigned i = 0; i < TRANSFER; i++)
        same &= buf[i] == (uint8_t)(0x31 + i * 7);
    BT_CHECK(same);
}

/* INTx: a level-triggered IOAPIC line through a remapping entry. While the
 * message is unacknowledged the line stays masked (one interrupt, however
 * long the device asserts it); an ack with the line still asserted brings
 * a new message; lowering it first does not. */
void test_irq_intx(void)
{
    struct irq_setup s;
    if (!irq_open(&s, WD_IRQ_INTX, true))
        return;
    BT_CHECK(s.info.flags & WD_IRQ_LEVEL);
    BT_CHECK(s.info.gsi >= 16 && s.info.gsi < 24);
    if (remapping_present()) {
        BT_CHECK(s.info.flags & WD_IRQ_REMAPPED);
        BT_CHECK_EQ(s.info.irte_present, 1);
        BT_CHECK_EQ(s.info.irte_trigger_level, 1);
        BT_CHECK_EQ(s.info.irte_vector, s.info.vector);
        BT_CHECK_EQ(s.info.irte_svt, WD_IRTE_SVT_SID);
        BT_CHECK_EQ(s.info.irte_sid, 0xFF00);                       /* the DMAR's IOAPIC ff:00.0 */
    }
    BT_CHECK_EQ(wd_irq_create(s.edu.device, WD_IRQ_MSI(0)),                   /* one mode at a time */
                remapping_present() ? -WD_E_EXISTS : -WD_E_NO_IOMMU);
    raise_irq(&s);
    struct wd_msg msg;
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    BT_CHECK_EQ(msg.w[0], 1);
    BT_CHECK_EQ(msg.w[2], WD_IRQ_INTX);
    wd_thread_sleep(QUIET_MS * BT_MS);                              /* still asserted, masked */
    BT_OK(wd_irq_info(s.irq, &s.info));
    BT_CHECK_EQ(s.info.interrupts, 1);
    BT_CHECK_EQ(wd_irq_ack(s.irq), 1);                              /* not lowered: fires again */
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    lower_irq(&s);
    BT_CHECK_EQ(wd_irq_ack(s.irq), 1);
    BT_CHECK_EQ(wait_irq(&s, &msg, QUIET_MS), -WD_E_TIMEOUT);
    BT_OK(wd_irq_info(s.irq, &s.info));
    BT_CHECK_EQ(s.info.interrupts, 2);
    raise_irq(&s);
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    lower_irq(&s);
}

/* Errors, rights, revocation. */
void test_irq_rights_and_errors(void)
{
    struct irq_setup s;
    if (!irq_open(&s, WD_IRQ_MSI(0), false))
        return;
    wd_handle_t dev = s.edu.device;
    BT_CHECK_EQ(wd_irq_create(dev, WD_IRQ_MSI(0)), -WD_E_EXISTS);
    BT_CHECK_EQ(wd_irq_create(dev, WD_IRQ_MSI(1)), -WD_E_INVALID_ARG);     /* edu has one vector */
    BT_CHECK_EQ(wd_irq_create(dev, WD_IRQ_MSIX(0)), -WD_E_NOT_SUPPORTED);  /* and no MSI-X */
    BT_CHECK_EQ(wd_irq_create(dev, WD_IRQ_INTX), -WD_E_EXISTS);            /* MSI is in use */
    BT_CHECK_EQ(wd_irq_create(dev, 7ull << WD_IRQ_KIND_SHIFT), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_irq_create(dev, 1ull << 40), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_irq_create(dev, WD_IRQ_ISA(4)), -WD_E_WRONG_TYPE);      /* ISA lines: device root */
    BT_CHECK_EQ(wd_irq_create(s.ep, WD_IRQ_MSI(0)), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_irq_create(dma_device_root(), WD_IRQ_ISA(16)), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_irq_create(dma_device_root(), WD_IRQ_ISA(2)), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_irq_bind(s.ep, s.ep, 0), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_irq_bind(s.irq, dev, 0), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_irq_ack(dev), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_irq_info(s.irq, (struct wd_irq_info *)0x10), -WD_E_BAD_ADDRESS);
    long no_control = BT_OK(wd_cap_copy(dev, WD_NULL, WD_RIGHT_READ | WD_RIGHT_WRITE, 0));
    BT_CHECK_EQ(wd_irq_create((wd_handle_t)no_control, WD_IRQ_MSI(0)), -WD_E_NO_RIGHTS);
    /* A read-only irq copy may look but not bind or ack; a copy without
     * READ may not look. */
    long ro = BT_OK(wd_cap_copy(s.irq, WD_NULL, WD_RIGHT_READ, 0));
    struct wd_irq_info info;
    BT_OK(wd_irq_info((wd_handle_t)ro, &info));
    BT_CHECK_EQ(wd_irq_bind((wd_handle_t)ro, s.ep, 0), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_irq_ack((wd_handle_t)ro), -WD_E_NO_RIGHTS);
    long ackonly = BT_OK(wd_cap_copy(s.irq, WD_NULL, WD_RIGHT_WRITE, 0));
    BT_CHECK_EQ(wd_irq_ack((wd_handle_t)ackonly), 0);
    BT_CHECK_EQ(wd_irq_info((wd_handle_t)ackonly, &info), -WD_E_NO_RIGHTS);
    long ro_ep = BT_OK(wd_cap_copy(s.ep, WD_NULL, WD_RIGHT_RECV, 0));
    BT_CHECK_EQ(wd_irq_bind(s.irq, (wd_handle_t)ro_ep, 0), -WD_E_NO_RIGHTS);  /* SEND needed */
    /* Revoking the original's children makes the copies stale; the irq lives on. */
    BT_CHECK(BT_OK(wd_cap_revoke(s.irq)) >= 2);
    BT_CHECK_EQ(wd_irq_info((wd_handle_t)ro, &info), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_irq_ack((wd_handle_t)ackonly), -WD_E_STALE_HANDLE);
    BT_OK(wd_irq_info(s.irq, &info));
    BT_CHECK(!(info.flags & WD_IRQ_DEAD));
    /* Deleting the last capability frees the vector and the remapping entry. */
    struct wd_irq_stats before, after;
    BT_OK(wd_irq_stats(&before));
    BT_OK(wd_cap_delete(s.irq));
    BT_OK(wd_irq_stats(&after));
    BT_CHECK_EQ(after.vectors_free, before.vectors_free + 1);
    BT_CHECK_EQ(after.live_irqs + 1, before.live_irqs);
    if (remapping_present()) {
        BT_CHECK_EQ(after.ir_entries_used + 1, before.ir_entries_used);
        BT_CHECK(after.iec_invalidations > before.iec_invalidations);
    }
    BT_CHECK_EQ(wd_device_config_read(dev, 0x42, 2) & 1, 0);        /* MSI disabled again */
}

/* Helper role "irq-owner": caps[0] = edu, caps[1] = an endpoint of the
 * test. Attaches edu, binds its MSI to caps[1], sends the test a copy of
 * the irq capability there, raises one interrupt and waits to be killed. */
int bt_irq_owner_main(const wd_handle_t *caps)
{
    struct edu e = { .device = caps[0] };
    if (!edu_take_as_helper(&e))
        return 3;
    long irq = wd_irq_create(e.device, WD_IRQ_MSI(0));
    if (irq < 0 || wd_irq_bind((wd_handle_t)irq, caps[1], IRQ_BADGE) < 0)
        return 4;
    /* A copy for the test, to look at after this process is killed. */
    struct wd_msg msg = { .info = wd_msg_info(IRQ_COPY_LABEL, 0, 1), .caps = { (wd_handle_t)irq } };
    if (wd_send(caps[1], &msg, WD_FOREVER) < 0)
        return 5;
    edu_write32(&e, EDU_REG_IRQ_RAISE, 1);
    for (;;)
        wd_thread_sleep(1000 * BT_MS);
}

/* When the owner dies its interrupts are unhooked: MSI off, remapping
 * entry gone, vector free; a copy of its irq capability held elsewhere
 * says DEAD; nothing reaches the endpoint it bound; the next owner gets
 * the device's interrupts. */
void test_irq_owner_death_unhooks(void)
{
    struct wd_device_info info;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &info) != 0 || !remapping_present()) {
        BT_SKIP("needs edu behind an IOMMU that remaps interrupts");
        return;
    }
    struct wd_irq_stats start;
    BT_OK(wd_irq_stats(&start));
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long supervisor = BT_OK(wd_endpoint_create(bt_pool()));
    if (device < 0 || ep < 0 || supervisor < 0)
        return;
    wd_handle_t caps[2] = { (wd_handle_t)device, (wd_handle_t)ep };
    wd_handle_t owner = bt_spawn_helper("irq-owner", caps, 2, (wd_handle_t)supervisor, 0x1D);
    struct wd_msg msg;
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 3000 * BT_MS), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), IRQ_COPY_LABEL);
    BT_CHECK_EQ(wd_msg_ncaps(msg.info), 1);
    wd_handle_t copy = msg.caps[0];
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_IRQ, IRQ_BADGE, &msg, 3000 * BT_MS), 0);
    struct wd_irq_stats live;
    BT_OK(wd_irq_stats(&live));
    BT_CHECK_EQ(live.live_irqs, start.live_irqs + 1);
    BT_OK(wd_process_kill(owner, 9));
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)supervisor, WD_LABEL_EXIT, 0x1D, &msg, 3000 * BT_MS), 0);
    struct wd_irq_stats after;
    BT_OK(wd_irq_stats(&after));
    BT_CHECK_EQ(after.live_irqs, start.live_irqs);
    BT_CHECK_EQ(after.vectors_free, start.vectors_free);
    BT_CHECK_EQ(after.ir_entries_used, start.ir_entries_used);
    BT_CHECK_EQ(wd_device_config_read((wd_handle_t)device, 0x42, 2) & 1, 0);  /* MSI off */
    /* The copy this process holds outlives the source: it can look, not use. */
    struct wd_irq_info dead;
    BT_OK(wd_irq_info(copy, &dead));
    BT_CHECK(dead.flags & WD_IRQ_DEAD);
    BT_CHECK_EQ(dead.irte_index, ~0u);
    BT_CHECK_EQ(wd_irq_ack(copy), -WD_E_DEAD);
    BT_CHECK_EQ(wd_irq_bind(copy, (wd_handle_t)ep, IRQ_BADGE), -WD_E_DEAD);
    /* The device is free: this process takes it and raises an interrupt.
     * Nothing reaches the dead owner's endpoint; the new irq gets it. */
    struct irq_setup s;
    if (!irq_open(&s, WD_IRQ_MSI(0), true))
        return;
    raise_irq(&s);
    BT_CHECK_EQ(wait_irq(&s, &msg, 1000), 0);
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_IRQ, IRQ_BADGE, &msg, QUIET_MS * BT_MS),
                -WD_E_TIMEOUT);
    lower_irq(&s);
}

#define E1000E_VENDOR 0x8086
#define E1000E_DEVICE 0x10d3
#define E1000E_MSIX_BAR 3
#define E1000E_ICS 0x00C8
#define E1000E_IMS 0x00D0
#define E1000E_IVAR 0x00E4
#define E1000E_ICR_OTHER (1u << 24)
#define E1000E_IVAR_OTHER_VECTOR0 (0x8u << 16)  /* "other" causes -> MSI-X entry 0, valid */

/* MSI-X, with QEMU's e1000e: the kernel writes the table entry through a
 * requester-checked remapping entry, and the table's page is kept out of
 * the driver's BAR mapping. An "other" interrupt cause then arrives as a
 * message. */
void test_irq_msix(void)
{
    struct wd_device_info info;
    if (dma_find_device(E1000E_VENDOR, E1000E_DEVICE, &info) != 0) {
        BT_SKIP("no e1000e on this machine");
        return;
    }
    const struct wd_bar_info *table_bar = &info.bars[E1000E_MSIX_BAR];
    BT_CHECK(table_bar->protected_size >= WD_PAGE_SIZE);
    BT_CHECK(table_bar->protected_offset + table_bar->protected_size <= table_bar->size);
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    long frame = BT_OK(wd_device_bar_frame((wd_handle_t)device, E1000E_MSIX_BAR));
    if (device < 0 || frame < 0)
        return;
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, BUF_VA, table_bar->size, WD_RIGHT_READ | WD_RIGHT_WRITE),
                -WD_E_PROTECTED);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)frame, table_bar->protected_offset, BUF_VA, WD_PAGE_SIZE,
                          WD_RIGHT_READ), -WD_E_PROTECTED);
    uint64_t after = table_bar->protected_offset + table_bar->protected_size;
    if (after < table_bar->size)                                    /* the rest (PBA) is the driver's */
        BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)frame, after, BUF_VA, table_bar->size - after, WD_RIGHT_READ));
    if (!remapping_present()) {
        BT_CHECK_EQ(wd_irq_create((wd_handle_t)device, WD_IRQ_MSIX(0)), -WD_E_NO_IOMMU);
        BT_SKIP("no IOMMU: MSI-X needs interrupt remapping (checked)");
        return;
    }
    long space = BT_OK(wd_dmaspace_create(bt_pool()));
    BT_OK(wd_dma_attach((wd_handle_t)device, (wd_handle_t)space));
    BT_OK(wd_device_config_write((wd_handle_t)device, 4, 2, 0x6));  /* memory + bus master: MSI-X are writes */
    long irq = BT_OK(wd_irq_create((wd_handle_t)device, WD_IRQ_MSIX(0)));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    if (irq < 0 || ep < 0)
        return;
    BT_CHECK_EQ(wd_irq_create((wd_handle_t)device, WD_IRQ_MSIX(0)), -WD_E_EXISTS);
    BT_CHECK_EQ(wd_irq_create((wd_handle_t)device, WD_IRQ_MSIX(4096)), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_irq_create((wd_handle_t)device, WD_IRQ_MSI(0)), -WD_E_EXISTS);    /* MSI-X is in use */
    struct wd_irq_info irq_info;
    BT_OK(wd_irq_info((wd_handle_t)irq, &irq_info));
    BT_CHECK(irq_info.flags & WD_IRQ_REMAPPED);
    BT_CHECK_EQ(irq_info.irte_present, 1);
    BT_CHECK_EQ(irq_info.irte_sid, info.requester_id);
    BT_CHECK_EQ(irq_info.irte_svt, WD_IRTE_SVT_SID);
    BT_CHECK_EQ(irq_info.msi_address & 0xFFF00010, 0xFEE00010);
    BT_OK(wd_irq_bind((wd_handle_t)irq, (wd_handle_t)ep, IRQ_BADGE));
    long regs = BT_OK(wd_device_bar_frame((wd_handle_t)device, 0));
    if (regs < 0 || BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)regs, 0, BAR_VA, WD_PAGE_SIZE,
                                    WD_RIGHT_READ | WD_RIGHT_WRITE)) < 0)
        return;
    volatile uint32_t *r = (volatile uint32_t *)BAR_VA;
    r[E1000E_IVAR / 4] = E1000E_IVAR_OTHER_VECTOR0;
    r[E1000E_IMS / 4] = E1000E_ICR_OTHER;
    r[E1000E_ICS / 4] = E1000E_ICR_OTHER;
    struct wd_msg msg;
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_IRQ, IRQ_BADGE, &msg, 1000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[2], WD_IRQ_MSIX(0));
    r[E1000E_IMS / 4 + 1] = ~0u;                                    /* IMC: mask every cause again */
    /* QEMU 7.2's e1000e asserts if its interrupt-throttling timer fires after
     * MSI-X was turned off: let it expire first. */
    wd_thread_sleep(20 * BT_MS);
    /* Deleting the irq masks the entry and turns MSI-X off. */
    BT_OK(wd_cap_delete((wd_handle_t)irq));
    BT_CHECK_EQ(wd_irq_info((wd_handle_t)irq, &irq_info), -WD_E_STALE_HANDLE);
}
