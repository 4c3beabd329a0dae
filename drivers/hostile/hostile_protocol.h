/*
 * hostile_protocol.h - how a test drives the hostile driver
 * (drivers/hostile): a driver for QEMU's edu device that does, on request,
 * what a compromised driver would try. Each request is one step of an
 * escape attempt: the driver makes the system calls or programs its device
 * as told and replies with exactly what the kernel returned, so the test
 * can judge every attempt from outside (boot test hostile_driver_escapes,
 * tests/boot/t_hostile*.c; the table in docs/iommu.md).
 *
 * Every request: label = HOSTILE_OP_*, words as below. Every reply: the
 * same label; w0 = the first result (a value >= 0, or -WD_E_* as int64_t),
 * further words per operation, and always w7 = the DMA fault messages the
 * kernel has sent the driver itself so far (its own fault endpoint).
 * Capabilities a request brings are kept by the driver (a lease must stay
 * alive for its mapping to stay).
 *
 * "Target" names a device the driver holds: 0 is its own edu device,
 * 1..HOSTILE_MAX_ADOPTED the ones HOSTILE_OP_ADOPT gave it, in order.
 */
#ifndef WARDEN_HOSTILE_PROTOCOL_H
#define WARDEN_HOSTILE_PROTOCOL_H

#include <warden/syscalls.h>

#define HOSTILE_MAX_ADOPTED 8
#define HOSTILE_CALL_TIMEOUT_NS (5000ull * 1000 * 1000)
#define HOSTILE_REPLY_FAULTS 7          /* reply word: DMA faults the driver was told of */
#define HOSTILE_MAX_TRANSFER 4000u      /* < 4096: QEMU 7.2's edu aborts on a full page */

enum hostile_op {
    /* caps[0] = a frame; w0 = IOVA, w1 = length, w2 = device rights (READ/WRITE).
     * Reply: w0 = dma_map's result. The frame capability is kept. */
    HOSTILE_OP_MAP = 1,
    /* w0 = IOVA, w1 = length. Reply: w0 = dma_unmap's result. */
    HOSTILE_OP_UNMAP = 2,
    /* w0 = a 32-bit value: the device's buffer is filled with it (a transfer
     * from the driver's own page). Reply: w0 = 0, or the transfer's error. */
    HOSTILE_OP_LOAD = 3,
    /* The device transfers w1 bytes (1..HOSTILE_MAX_TRANSFER) between its
     * buffer and IOVA w0, whatever is there: w2 = 1 the device writes
     * memory, 0 it reads it. Reply: w0 = 0 once the device says it is done
     * (it does even when the IOMMU blocked every byte), or TIMEOUT. */
    HOSTILE_OP_DMA = 4,
    /* w0 = target, w1 = config offset, w2 = width (1, 2, 4), w3 = value.
     * Reply: w0 = device_config_write's result, w1 = the register read
     * before, w2 = read after (device_config_read: a value or -WD_E_*). */
    HOSTILE_OP_CONFIG_WRITE = 5,
    /* Raises the device's interrupt (edu's IRQ_RAISE register). Reply:
     * w0 = 0, w1 = 1 if the driver's own irq delivered it within 500 ms. */
    HOSTILE_OP_RAISE = 6,
    /* caps[0] = another device; w0 = 1: attach it to a dmaspace of the
     * driver's own, then w1 = the irq_create index to take (~0: none).
     * Reply: w0 = its target number, w1 = dma_attach's result (0 when not
     * asked), w2 = irq_create's result, w3 = that irq's msi_address,
     * w4 = its remapping entry's source ID (irq_info). */
    HOSTILE_OP_ADOPT = 7,
    /* w0 = target, w1 = BAR, w2 = offset, w3 = length. Reply:
     * w0 = device_bar_frame's result, w1 = vm_map's (READ|WRITE, at a
     * fresh address; the mapping is kept), w2 = dma_map's of that frame. */
    HOSTILE_OP_BAR_MAP = 8,
    /* w0 = the PCI address of a device the driver was not given: it tries
     * device_open on it with every handle it holds (every slot and
     * generation cap_info accepts) and a frame of device memory from
     * frame_create. Reply: w0 = handles tried, w1 = device_open successes,
     * w2 = frame_create(WD_FRAME_MMIO)'s result. */
    HOSTILE_OP_OPEN_DEVICES = 9,
    /* Tries to give itself or a child more than it holds. Reply words in
     * enum hostile_escalation. */
    HOSTILE_OP_ESCALATE = 10,
    /* Bus mastering on again (after a fault flood). Reply: w0 = the config
     * write's result, w1 = the command register read back. */
    HOSTILE_OP_BUS_MASTER = 11,
    /* Gives its device up the polite way: deletes its irq and detaches
     * (dma_detach), keeping the device capability, a BAR frame capability
     * and its CPU mapping of BAR0. Reply: w0 = dma_detach's result,
     * w1 = cap_delete's (the irq). */
    HOSTILE_OP_GIVE_UP = 12,
    /* After GIVE_UP: w0 = IOVA. Programs a device write of
     * HOSTILE_MAX_TRANSFER bytes to w0 through the BAR0 mapping it kept.
     * Reply: w0 = 0 once the transfer is done. The reply never comes when
     * the kernel took the mapping away: the driver page-faults on the
     * first register access (its supervisor hears of it). */
    HOSTILE_OP_STALE_DMA = 13,
    /* Reply: w0 = edu's ID register read through the driver's BAR0
     * mapping, w1 = that mapping's address. */
    HOSTILE_OP_READ_ID = 14,
    /* Starts a thread of its own at priority w0 that spins for w1 ms (at
     * most 1000) and exits. Reply: w0 = thread_create's result; it comes
     * only when the driver's main thread (priority 16) runs again. */
    HOSTILE_OP_SPIN_THREAD = 15,
    /* After GIVE_UP: asks for BAR0 again (device_bar_frame) and maps the
     * BAR0 frame capability it kept at a fresh address. Reply: w0 =
     * device_bar_frame's result, w1 = vm_map's. */
    HOSTILE_OP_STALE_MAP = 16,
};

/* HOSTILE_OP_ESCALATE's reply words. */
enum hostile_escalation {
    HOSTILE_ESC_COPY_MORE = 0,          /* cap_copy(device, itself, its rights + GRANT) */
    HOSTILE_ESC_CHILD = 1,              /* process_create: a child (handle, or error) */
    HOSTILE_ESC_GIVE_DEVICE = 2,        /* cap_copy(device, child) without GRANT */
    HOSTILE_ESC_MOVE_DEVICE = 3,        /* cap_move(device, child) */
    HOSTILE_ESC_BIG_POOL = 4,           /* pool_create(its pool, more than its budget) */
    HOSTILE_ESC_GIVE_BAR = 5,           /* cap_copy(BAR0 frame, child) */
    HOSTILE_ESC_MAP_BAR_IN_CHILD = 6,   /* vm_map(child, BAR0 frame) */
};

#endif
