/*
 * hw.c - the 82574L's bring-up as QEMU 7.2 accepts it (facts sheet §2.3),
 * trusting neither the firmware nor the last owner: the device has no FLR
 * and CTRL.RST leaves rings, RCTL, TCTL and IMS as they were (§0.6), and
 * while bus mastering is off QEMU holds received frames and DMAs them once
 * it is on again. So, with memory decode on and bus mastering still off:
 * every interrupt cause masked, receive and transmit off, the rings and
 * the receive buffers set up in the driver's own DMA memory, the MAC read;
 * then the interrupts (MSI-X with RX, TX and the other causes on entries
 * 0, 1, 2; MSI, then INTx, as fallbacks), bus mastering, and last TX, RX
 * and the interrupt mask. Also the interrupt causes per message, arming
 * receive buffers, the link state and the statistics registers.
 */
#include <stdio.h>
#include <string.h>
#include <warden/syscalls.h>

#include "e1000e.h"

#define TX_RING_BYTES (E1000E_RING * sizeof(struct e1000e_tx_desc))
#define RX_RING_BYTES (E1000E_RING * sizeof(struct e1000e_rx_desc))

uint32_t e1000e_read(struct e1000e *e, uint32_t reg) { return wd_mmio_read32(e->regs, reg); }
void e1000e_write(struct e1000e *e, uint32_t reg, uint32_t value) { wd_mmio_write32(e->regs, reg, value); }

static long fail(const char *what, long error)
{
    printf("e1000e: %s: %s (%s)\n", what, wd_error_name(error), wd_error_text(error));
    return error;
}

uint64_t e1000e_buffer_iova(const struct e1000e *e, unsigned buffer)
{
    return e->rx_pool.iova + (uint64_t)buffer * NET_RX_BUFFER_BYTES;
}

/* Memory decode on, bus mastering off (until the device is quiet). */
static long decode_only(struct e1000e *e)
{
    long command = wd_config_read16(&e->driver, WD_PCI_COMMAND);
    if (command < 0)
        return command;
    uint16_t wanted = (uint16_t)((command | WD_PCI_COMMAND_MEMORY) & ~WD_PCI_COMMAND_BUS_MASTER);
    return wanted == command ? 0 : wd_config_write16(&e->driver, WD_PCI_COMMAND, wanted);
}

/* Whatever the last owner or the firmware left: nothing interrupts, nothing moves. */
static void quiesce(struct e1000e *e)
{
    e1000e_write(e, E1000E_IMC, ~0u);
    e1000e_write(e, E1000E_RCTL, 0);
    e1000e_write(e, E1000E_TCTL, 0);
    e1000e_write(e, E1000E_ICR, ~0u);       /* MSI-X mode clears by writing ones */
    (void)e1000e_read(e, E1000E_ICR);       /* INTx/MSI mode clears on read */
}

static void read_mac(struct e1000e *e)
{
    uint32_t low = e1000e_read(e, E1000E_RAL0), high = e1000e_read(e, E1000E_RAH0);
    if (!(high & E1000E_RAH_AV)) {
        /* Not loaded: EEPROM words 0-2 (EERD: word << 2 | START, DONE in bit 1). */
        low = high = 0;
        for (unsigned w = 0; w < 3; w++) {
            e1000e_write(e, E1000E_EERD, w << 2 | 1u);
            uint32_t v = 0;
            for (unsigned spin = 0; spin < 100000 && !((v = e1000e_read(e, E1000E_EERD)) & 2u); spin++)
                ;
            uint32_t word = v >> 16;
            if (w < 2)
                low |= word << (16 * w);
            else
                high = word;
        }
        e1000e_write(e, E1000E_RAL0, low);
        e1000e_write(e, E1000E_RAH0, (high & 0xFFFF) | E1000E_RAH_AV);
    }
    for (unsigned i = 0; i < 4; i++)
        e->mac[i] = (uint8_t)(low >> (8 * i));
    e->mac[4] = (uint8_t)high;
    e->mac[5] = (uint8_t)(high >> 8);
}

static long set_up_rings(struct e1000e *e)
{
    long r = wd_dma_alloc(&e->driver, TX_RING_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, &e->tx_ring);
    if (r == 0)
        r = wd_dma_alloc(&e->driver, RX_RING_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, &e->rx_ring);
    if (r == 0)
        r = wd_dma_alloc(&e->driver, (uint64_t)E1000E_RX_BUFFERS * NET_RX_BUFFER_BYTES, WD_RIGHT_WRITE, &e->rx_pool);
    if (r < 0)
        return fail("cannot allocate its rings and receive buffers", r);
    memset(e->tx_ring.cpu, 0, TX_RING_BYTES);
    memset(e->rx_ring.cpu, 0, RX_RING_BYTES);
    e1000e_write(e, E1000E_TDBAL, (uint32_t)e->tx_ring.iova);
    e1000e_write(e, E1000E_TDBAH, (uint32_t)(e->tx_ring.iova >> 32));
    e1000e_write(e, E1000E_TDLEN, (uint32_t)TX_RING_BYTES);
    e1000e_write(e, E1000E_TDH, 0);
    e1000e_write(e, E1000E_TDT, 0);
    e->tx_tail = e->tx_clean = e->tx_rung = 0;
    e1000e_write(e, E1000E_RDBAL, (uint32_t)e->rx_ring.iova);
    e1000e_write(e, E1000E_RDBAH, (uint32_t)(e->rx_ring.iova >> 32));
    e1000e_write(e, E1000E_RDLEN, (uint32_t)RX_RING_BYTES);
    e1000e_write(e, E1000E_RDH, 0);
    e1000e_write(e, E1000E_RDT, 0);
    e1000e_write(e, E1000E_RFCTL, 0);       /* legacy descriptors */
    for (unsigned i = 0; i < 128; i++)
        e1000e_write(e, E1000E_MTA + 4 * i, 0);
    for (unsigned i = 0; i < E1000E_RX_BUFFERS; i++) {
        e->buffer_state[i] = BUFFER_FREE;
        e->free_buffer[i] = (uint16_t)(E1000E_RX_BUFFERS - 1 - i);
    }
    e->free_buffers = E1000E_RX_BUFFERS;
    e->rx_next = e->rx_arm = 0;
    e1000e_rx_arm(e);
    return 0;
}

void e1000e_rx_arm(struct e1000e *e)
{
    uint32_t before = e->rx_arm;
    while (e->free_buffers && e->rx_arm - e->rx_next < E1000E_RING - 1) {
        unsigned buffer = e->free_buffer[--e->free_buffers];
        unsigned slot = e->rx_arm % E1000E_RING;
        volatile struct e1000e_rx_desc *d = (volatile struct e1000e_rx_desc *)e->rx_ring.cpu + slot;
        d->addr = e1000e_buffer_iova(e, buffer);
        d->length = 0;
        d->status = 0;
        d->errors = 0;
        e->rx_slot_buffer[slot] = (uint16_t)buffer;
        e->buffer_state[buffer] = BUFFER_ARMED;
        e->rx_arm++;
    }
    if (e->rx_arm != before) {
        __asm__ volatile("sfence" ::: "memory");    /* the descriptors before the tail */
        e1000e_write(e, E1000E_RDT, e->rx_arm % E1000E_RING);
    }
}

/* MSI-X entries 0-2 bound to the endpoint, or one MSI/INTx source. */
static long open_interrupts(struct e1000e *e)
{
    long r = -WD_E_NOT_SUPPORTED;
    if (!e->force_intx && !e->force_msi) {
        unsigned made = 0;
        for (; made < E1000E_VECTORS; made++) {
            long irq = wd_irq_create(e->driver.device, WD_IRQ_MSIX(made));
            if (irq < 0) {
                r = irq;
                break;
            }
            e->vector_irq[made] = (wd_handle_t)irq;
            r = wd_irq_bind((wd_handle_t)irq, e->endpoint, E1000E_IRQ_BADGE + made);
            if (r < 0)
                break;
        }
        if (made == E1000E_VECTORS) {
            e->irq_mode = WD_DRIVER_IRQ_MSIX;
            e1000e_write(e, E1000E_IVAR, e1000e_ivar(E1000E_MSIX_RX, E1000E_MSIX_TX, E1000E_MSIX_OTHER));
            return 0;
        }
        for (unsigned i = 0; i < made; i++) {
            wd_cap_delete(e->vector_irq[i]);
            e->vector_irq[i] = WD_NULL;
        }
        if (r != -WD_E_NOT_SUPPORTED && r != -WD_E_NO_IOMMU)
            return fail("cannot create its MSI-X interrupts", r);
    }
    /* libdriver: MSI vector 0, else the INTx pin. */
    r = wd_driver_irq_open(&e->driver, e->force_intx ? WD_DRIVER_IRQ_FORCE_INTX : 0, &e->fallback);
    if (r == 0)
        r = wd_irq_bind(e->fallback.irq, e->endpoint, E1000E_IRQ_BADGE);
    if (r < 0)
        return fail("cannot open its interrupt (MSI-X, MSI, then INTx)", r);
    e->irq_mode = e->fallback.mode;
    e->vector_irq[0] = e->fallback.irq;
    return 0;
}

long e1000e_bring_up(struct e1000e *e)
{
    long r = wd_driver_bar_map(&e->driver, 0, &e->regs, &e->regs_size);
    if (r < 0)
        return fail("cannot map BAR0", r);
    r = decode_only(e);
    if (r < 0)
        return fail("cannot enable memory decode", r);
    quiesce(e);
    read_mac(e);
    r = set_up_rings(e);
    if (r == 0)
        r = open_interrupts(e);
    if (r < 0)
        return r;
    r = wd_driver_enable(&e->driver);       /* bus mastering: the rings are ours now */
    if (r < 0)
        return fail("cannot enable bus mastering", r);
    /* Interrupt throttling in 256 ns units; QEMU keeps at least 500 (128 us). */
    uint32_t interval = (uint32_t)((uint64_t)e->throttle_us * 1000 / 256);
    interval = interval > 0xFFFF ? 0xFFFF : interval;
    e1000e_write(e, E1000E_EITR(E1000E_MSIX_RX), interval);
    e1000e_write(e, E1000E_EITR(E1000E_MSIX_TX), interval);
    e1000e_write(e, E1000E_EITR(E1000E_MSIX_OTHER), interval);
    e1000e_write(e, E1000E_ITR, interval);
    e1000e_write(e, E1000E_TARC0, e1000e_read(e, E1000E_TARC0) | E1000E_TARC0_ENABLE);
    e1000e_write(e, E1000E_TCTL, E1000E_TCTL_VALUE);
    e1000e_write(e, E1000E_RXCSUM, 0);     /* no checksum offload: the stack checks (and the last owner's setting goes) */
    e1000e_write(e, E1000E_RCTL, E1000E_RCTL_EN | E1000E_RCTL_BAM | E1000E_RCTL_SECRC);
    /* The send cause only while sends are left on the device (datapath.c). */
    e1000e_write(e, E1000E_IMS, e->irq_mode == WD_DRIVER_IRQ_MSIX
                                    ? E1000E_ICR_RXQ0 | E1000E_ICR_OTHER | E1000E_ICR_LSC
                                    : E1000E_ICR_RXT0 | E1000E_ICR_LSC | E1000E_ICR_RXO);
    e->tx_interrupt_on = false;
    e->link_up = (e1000e_read(e, E1000E_STATUS) & E1000E_STATUS_LU) != 0;
    return 0;
}

uint32_t e1000e_interrupt_causes(struct e1000e *e, unsigned vector)
{
    if (e->irq_mode != WD_DRIVER_IRQ_MSIX)
        return e1000e_read(e, E1000E_ICR);  /* clears it */
    static const uint32_t cause_of[E1000E_VECTORS] = {
        [E1000E_MSIX_RX] = E1000E_ICR_RXQ0, [E1000E_MSIX_TX] = E1000E_ICR_TXQ0,
        [E1000E_MSIX_OTHER] = E1000E_ICR_OTHER | E1000E_ICR_LSC,
    };
    e1000e_write(e, E1000E_ICR, cause_of[vector]);     /* MSI-X mode: cleared by writing ones */
    return cause_of[vector];
}

void e1000e_interrupt_ack(struct e1000e *e, unsigned vector)
{
    wd_irq_ack(e->vector_irq[vector]);
}

bool e1000e_link_changed(struct e1000e *e)
{
    bool up = (e1000e_read(e, E1000E_STATUS) & E1000E_STATUS_LU) != 0;
    bool changed = up != e->link_up;
    e->link_up = up;
    return changed;
}

void e1000e_read_stats(struct e1000e *e)
{
    e->rx_dropped += e1000e_read(e, E1000E_MPC);
    e->bad_frames += e1000e_read(e, E1000E_CRCERRS) + e1000e_read(e, E1000E_ROC) + e1000e_read(e, E1000E_RUC);
}
