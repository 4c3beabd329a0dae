/*
 * edu_protocol.h - the IPC protocol of the edu driver (QEMU's edu device,
 * PCI 1234:11e8). Clients look the driver up in init's name registry
 * under EDU_SERVICE_NAME and wd_call its endpoint.
 *
 * Every request: label = EDU_OP_*, words as below. Every reply: the same
 * label; w0 = a value >= 0 on success, or -WD_E_* (as int64_t) on failure;
 * further words per operation. Capabilities a client sends are always
 * deleted by the driver before it replies.
 *
 * DMA requests name a client frame (caps[0], copied). The driver maps just
 * the pages the transfer touches into its device's DMA space, READ-only
 * for EDU_OP_TO_DEVICE and WRITE-only for EDU_OP_FROM_DEVICE, runs the
 * transfer, and unmaps them (the kernel waits for the IOTLB flush) before
 * it replies: the device can reach the frame only during the call.
 */
#ifndef WARDEN_EDU_PROTOCOL_H
#define WARDEN_EDU_PROTOCOL_H

#include <warden/syscalls.h>

#define EDU_SERVICE_NAME "edu"
#define EDU_ID_VALUE 0x010000EDu        /* the ID register: major 1, minor 0, 0xED */
#define EDU_FACTORIAL_MAX 12            /* 12! is the largest factorial in 32 bits */
#define EDU_DMA_MAX_BYTES 4095          /* device offset + length must not exceed this */
#define EDU_CALL_TIMEOUT_NS (5000ull * 1000 * 1000) /* a DMA request takes ~100 ms of device time */

enum edu_op {
    /* w0 = a 32-bit value for the liveness register.
     * Reply: w0 = the ID register (EDU_ID_VALUE), w1 = liveness read-back (~value, 32 bits). */
    EDU_OP_ID = 1,
    /* w0 = n, 0..EDU_FACTORIAL_MAX. Reply: w0 = n! computed by the device.
     * Errors: INVALID_ARG (n too big), BUSY, TIMEOUT. */
    EDU_OP_FACTORIAL = 2,
    /* RAM -> device. caps[0] = frame (READ, MAP, GRANT); w0 = offset in the frame;
     * w1 = length, 1..EDU_DMA_MAX_BYTES; w2 = offset in the device's buffer,
     * w2 + w1 <= EDU_DMA_MAX_BYTES. Reply: w0 = 0.
     * Errors: INVALID_ARG (no frame, length), RANGE (past the frame or the device buffer),
     * NO_RIGHTS (the frame lacks READ or MAP), NOT_SUPPORTED (an MMIO frame), BUSY, TIMEOUT,
     * CSPACE_FULL (the frame did not arrive), any dma_map error. */
    EDU_OP_TO_DEVICE = 3,
    /* Device -> RAM: as EDU_OP_TO_DEVICE, the frame needs WRITE instead of READ. */
    EDU_OP_FROM_DEVICE = 4,
    /* Reply: w0 = 0 and the words of enum edu_stat. */
    EDU_OP_STATS = 5,
    /* The shell's `attack` (docs/shell.md): points the device at memory the driver was not
     * given, to show the IOMMU stop it. w0 = enum edu_attack, w1 = the IOVA for
     * EDU_ATTACK_IOVA and EDU_ATTACK_IRQ_WINDOW. Reply: w0 = 0 once the device was told,
     * w1 = the IOVA it was pointed at, w2 = the transfer's result (the device reports done
     * even when the IOMMU blocked it), w3 = 1 if the read-only page still holds its
     * pattern (EDU_ATTACK_READ_ONLY; else 0). Errors: INVALID_ARG (kind), BUSY, DEAD. */
    EDU_OP_ATTACK = 6,
};

enum edu_attack {
    EDU_ATTACK_UNMAPPED = 1,        /* write to an IOVA nothing is mapped at (EDU_ATTACK_UNMAPPED_IOVA) */
    EDU_ATTACK_READ_ONLY = 2,       /* write to a page mapped read-only for the device */
    EDU_ATTACK_IOVA = 3,            /* write to w1: another driver's IOVA, or an old one */
    EDU_ATTACK_IRQ_WINDOW = 4,      /* a 4-byte write to w1 in 0xFEE00000-0xFEEFFFFF: a forged MSI */
};
#define EDU_ATTACK_UNMAPPED_IOVA 0x0FFF0000ull
#define EDU_ATTACK_BYTES 64

/* Reply words of EDU_OP_STATS (counted since the driver started). */
enum edu_stat {
    EDU_STAT_REQUESTS = 1,          /* requests served (this one included) */
    EDU_STAT_FAILED = 2,            /* requests answered with an error */
    EDU_STAT_TRANSFERS = 3,         /* DMA transfers completed, including the start-up self-test */
    EDU_STAT_BYTES = 4,             /* bytes those transfers moved */
    EDU_STAT_DMA_FAULTS = 5,        /* DMA faults reported for the device */
    EDU_STAT_LAST_FAULT_IOVA = 6,   /* IOVA of the last DMA fault (0: none) */
    EDU_STAT_WORDS = 7              /* reply word count */
};

/* The data path (<warden/session.h>, docs/drivers.md): a client opens a
 * session with WD_SESSION_OPEN (its region as a lease: READ for the device
 * to read from it, WRITE to write into it) and puts requests on the ring:
 *   op = EDU_RING_TO_DEVICE: region [offset, offset+length) -> the device
 *        buffer at arg; op = EDU_RING_FROM_DEVICE: the device buffer at arg
 *        -> the region. length 1..EDU_DMA_MAX_BYTES, arg + length <=
 *        EDU_DMA_MAX_BYTES. The device DMAs straight to and from the
 *        region through the one IOMMU mapping made at open.
 * Completions: id echoed, status 0 or INVALID_ARG / RANGE (length, device
 * offset, or a buffer outside the region) / NO_RIGHTS (the lease does not
 * let the device do that) / DEAD (the region was taken back, or the device
 * revoked) / NOT_SUPPORTED (op) / BUSY / TIMEOUT; arg = bytes moved. */
enum edu_ring_op {
    EDU_RING_TO_DEVICE = 1,
    EDU_RING_FROM_DEVICE = 2,
};

/* A request without capabilities, one argument word: returns the reply's w0
 * (or the IPC error); the whole reply is left in *reply. */
static inline long edu_request(wd_handle_t edu, enum edu_op op, uint64_t w0, struct wd_msg *reply)
{
    *reply = (struct wd_msg){ .info = wd_msg_info(op, 1, 0), .w = { w0 } };
    long r = wd_call(edu, reply, EDU_CALL_TIMEOUT_NS);
    return r < 0 ? r : (long)reply->w[0];
}

/* EDU_OP_TO_DEVICE or EDU_OP_FROM_DEVICE with a copy of frame: 0 or -WD_E_*. */
static inline long edu_dma_request(wd_handle_t edu, enum edu_op op, wd_handle_t frame, uint64_t frame_offset,
                                   uint64_t length, uint64_t device_offset)
{
    struct wd_msg msg = {
        .info = wd_msg_info(op, 3, 1),
        .w = { frame_offset, length, device_offset },
        .caps = { frame },
    };
    long r = wd_call(edu, &msg, EDU_CALL_TIMEOUT_NS);
    return r < 0 ? r : (long)msg.w[0];
}

#endif
