/*
 * serve.c - the edu driver's loop: client requests (edu_protocol.h) and
 * the kernel's DMA fault messages for the device, on one endpoint told
 * apart by badge.
 *
 * Invariants: every capability a request brings is deleted before the
 * reply; a client frame is mapped for the device only while its transfer
 * runs, and unmapped (IOTLB flushed) before the reply.
 */
#include <stdio.h>
#include <warden/syscalls.h>

#include "edu.h"

static uint64_t page_round_up(uint64_t v)
{
    return (v + WD_PAGE_SIZE - 1) & ~(WD_PAGE_SIZE - 1);
}

/* EDU_OP_TO_DEVICE / EDU_OP_FROM_DEVICE with the client's frame. */
static long transfer(struct edu *e, bool to_device, wd_handle_t frame, uint64_t frame_offset, uint64_t length,
                     uint64_t device_offset)
{
    if (length == 0 || length > EDU_DMA_MAX_BYTES)
        return -WD_E_INVALID_ARG;
    if (device_offset > EDU_DMA_MAX_BYTES - length)
        return -WD_E_RANGE;
    struct wd_frame_info info;
    long r = wd_frame_info(frame, &info);
    if (r < 0)
        return r;
    if (info.flags & WD_FRAME_MMIO)
        return -WD_E_NOT_SUPPORTED;
    if (frame_offset > info.size || length > info.size - frame_offset)
        return -WD_E_RANGE;
    /* Map only the pages the transfer touches, only in the direction it needs. */
    uint64_t first_page = frame_offset & ~(WD_PAGE_SIZE - 1);
    uint64_t map_bytes = page_round_up(frame_offset + length) - first_page;
    uint64_t iova;
    r = wd_dma_map_frame(&e->driver, frame, first_page, map_bytes, to_device ? WD_RIGHT_READ : WD_RIGHT_WRITE,
                         &iova);
    if (r < 0)
        return r;
    r = edu_dma(e, to_device, iova + (frame_offset - first_page), device_offset, length);
    long unmapped = wd_dma_unmap_frame(&e->driver, iova, map_bytes);
    if (unmapped < 0) {
        printf("edu: cannot unmap a client frame at IOVA 0x%llx: %s (%s)\n", (unsigned long long)iova,
               wd_error_name(unmapped), wd_error_text(unmapped));
        if (r == 0)
            r = unmapped;
    }
    return r;
}

/* Handles one client request in msg and turns msg into the reply. */
static void handle_request(struct edu *e, struct wd_msg *msg)
{
    uint32_t op = wd_msg_label(msg->info);
    unsigned ncaps = wd_msg_ncaps(msg->info);
    bool caps_lost = (msg->info & WD_MSG_CAPS_LOST) != 0;
    wd_handle_t frame = ncaps >= 1 ? msg->caps[0] : WD_NULL;
    unsigned words = 1;
    long result;
    e->stats[EDU_STAT_REQUESTS]++;
    switch (op) {
    case EDU_OP_ID:
        msg->w[1] = edu_liveness(e, (uint32_t)msg->w[0]);
        result = edu_read_id(e);
        words = 2;
        break;
    case EDU_OP_FACTORIAL:
        result = msg->w[0] > EDU_FACTORIAL_MAX ? -WD_E_INVALID_ARG : edu_factorial(e, (uint32_t)msg->w[0]);
        break;
    case EDU_OP_TO_DEVICE:
    case EDU_OP_FROM_DEVICE:
        if (caps_lost)
            result = -WD_E_CSPACE_FULL;
        else if (ncaps != 1)
            result = -WD_E_INVALID_ARG;
        else
            result = transfer(e, op == EDU_OP_TO_DEVICE, frame, msg->w[0], msg->w[1], msg->w[2]);
        break;
    case EDU_OP_STATS:
        for (unsigned i = 1; i < EDU_STAT_WORDS; i++)
            msg->w[i] = e->stats[i];
        result = 0;
        words = EDU_STAT_WORDS;
        break;
    default:
        result = -WD_E_NOT_SUPPORTED;
        break;
    }
    for (unsigned i = 0; i < ncaps && i < WD_MSG_CAPS; i++)
        wd_cap_delete(msg->caps[i]);
    if (result < 0)
        e->stats[EDU_STAT_FAILED]++;
    msg->w[0] = (uint64_t)result;
    msg->info = wd_msg_info(op, words, 0);
}

static void handle_dma_fault(struct edu *e, const struct wd_msg *msg)
{
    struct wd_dma_fault fault;
    if (wd_dma_fault_decode(msg, &fault) < 0) {
        printf("edu: unexpected kernel message 0x%x on the fault badge\n", wd_msg_label(msg->info));
        return;
    }
    wd_dma_fault_print("edu", &fault);
    e->stats[EDU_STAT_DMA_FAULTS] += fault.count ? fault.count : 1;
    e->stats[EDU_STAT_LAST_FAULT_IOVA] = fault.iova;
}

int edu_serve(struct edu *e)
{
    struct wd_msg msg;
    long r = wd_recv(e->endpoint, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0) {
            printf("edu: receiving on its endpoint failed: %s (%s); stopping\n", wd_error_name(r), wd_error_text(r));
            return 1;
        }
        if (msg.badge == EDU_FAULT_BADGE) { /* a kernel message: nobody waits for a reply */
            handle_dma_fault(e, &msg);
            r = wd_recv(e->endpoint, &msg, WD_FOREVER);
            continue;
        }
        handle_request(e, &msg);
        r = wd_reply_recv(e->endpoint, &msg, WD_FOREVER);
    }
}
