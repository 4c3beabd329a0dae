/*
 * serve.c - the edu driver's loop: client requests (edu_protocol.h,
 * session open and close), the kernel's DMA fault messages for the device
 * and the data path's notifications (datapath.c), on one endpoint told
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

/* Runs the operation of request msg; reply words from w1 on go into msg,
 * *words counts them with w0. Returns the reply's w0. */
static long run_request(struct edu *e, struct wd_msg *msg, unsigned *words)
{
    uint32_t op = wd_msg_label(msg->info);
    unsigned ncaps = wd_msg_ncaps(msg->info);
    /* A revoked device would never answer, and its registers are gone from
     * our address space: say so at once. */
    if (op == EDU_OP_ID || op == EDU_OP_FACTORIAL || op == EDU_OP_TO_DEVICE || op == EDU_OP_FROM_DEVICE ||
        op == EDU_OP_ATTACK) {
        long lost = wd_driver_check(&e->driver);
        if (lost < 0)
            return lost;
    }
    switch (op) {
    case EDU_OP_ID:
        msg->w[1] = edu_liveness(e, (uint32_t)msg->w[0]);
        *words = 2;
        return edu_read_id(e);
    case EDU_OP_FACTORIAL:
        return msg->w[0] > EDU_FACTORIAL_MAX ? -WD_E_INVALID_ARG : edu_factorial(e, (uint32_t)msg->w[0]);
    case EDU_OP_TO_DEVICE:
    case EDU_OP_FROM_DEVICE:
        if (msg->info & WD_MSG_CAPS_LOST)
            return -WD_E_CSPACE_FULL;
        if (ncaps != 1)
            return -WD_E_INVALID_ARG;
        return transfer(e, op == EDU_OP_TO_DEVICE, msg->caps[0], msg->w[0], msg->w[1], msg->w[2]);
    case EDU_OP_STATS:
        for (unsigned i = 1; i < EDU_STAT_WORDS; i++)
            msg->w[i] = e->stats[i];
        *words = EDU_STAT_WORDS;
        return 0;
    case EDU_OP_ATTACK:
        return edu_attack(e, msg, words);

    default:
        return -WD_E_NOT_SUPPORTED;
    }
}

/* WD_SESSION_OPEN / WD_SESSION_CLOSE (<warden/session.h>): libdriver keeps
 * or deletes the request's capabilities and builds the reply. A revoked
 * device takes no new session. */
static long handle_session_request(struct edu *e, struct wd_msg *msg)
{
    uint32_t op = wd_msg_label(msg->info);
    if (op == WD_SESSION_CLOSE)
        return wd_session_close_request(&e->sessions, msg);
    long r = wd_driver_check(&e->driver);
    if (r < 0) {
        for (unsigned i = 0; i < wd_msg_ncaps(msg->info) && i < WD_MSG_CAPS; i++)
            wd_cap_delete(msg->caps[i]);
        msg->w[0] = (uint64_t)r;
        msg->info = wd_msg_info(op, 1, 0);
        return r;
    }
    struct wd_session *s;
    return wd_session_accept(&e->sessions, msg, &s);
}

/* Handles one client request in msg and turns msg into the reply. */
static void handle_request(struct edu *e, struct wd_msg *msg)
{
    uint32_t op = wd_msg_label(msg->info);
    unsigned ncaps = wd_msg_ncaps(msg->info);
    unsigned words = 1;
    e->stats[EDU_STAT_REQUESTS]++;
    if (op == WD_SESSION_OPEN || op == WD_SESSION_CLOSE) {
        if (handle_session_request(e, msg) < 0)
            e->stats[EDU_STAT_FAILED]++;
        return;
    }
    long result = run_request(e, msg, &words);
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
        if (msg.badge == EDU_NOTIFY_BADGE && wd_msg_label(msg.info) == WD_LABEL_NOTIFY) {
            edu_datapath_notified(e, msg.w[1]);
            r = wd_recv(e->endpoint, &msg, WD_FOREVER);
            continue;
        }
        handle_request(e, &msg);
        r = wd_reply_recv(e->endpoint, &msg, WD_FOREVER);
    }
}
