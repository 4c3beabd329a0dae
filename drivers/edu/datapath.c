/*
 * datapath.c - the edu driver's data path (edu_protocol.h, <warden/session.h>):
 * requests from clients' rings, run as DMA transfers straight between the
 * device buffer and the client's region, through the one IOMMU mapping
 * wd_session_accept made; completions back on the ring.
 *
 * Invariants: every request is checked (ring.c: inside the region;
 * wd_session_iova: the access the lease allows) before the device sees an
 * IOVA; a transfer whose region was taken back while it ran is completed
 * with DEAD, never with success (the device's write faulted: the kernel
 * had unmapped the region and flushed the IOTLB; wd_sessions_serve checks).
 */
#include <stdio.h>
#include <warden/syscalls.h>

#include "edu.h"

static long run_request(struct wd_session *s, const struct wd_ring_desc *req, void *ctx)
{
    struct edu *e = ctx;
    e->stats[EDU_STAT_REQUESTS]++;
    bool to_device = req->op == EDU_RING_TO_DEVICE;
    long r = 0;
    uint64_t iova = 0;
    if (req->op != EDU_RING_TO_DEVICE && req->op != EDU_RING_FROM_DEVICE)
        r = -WD_E_NOT_SUPPORTED;
    else if (req->length == 0 || req->length > EDU_DMA_MAX_BYTES)
        r = -WD_E_INVALID_ARG;
    else if (req->arg > EDU_DMA_MAX_BYTES - req->length)
        r = -WD_E_RANGE;
    if (r == 0)
        r = wd_session_iova(s, req->offset, req->length, to_device ? WD_RIGHT_READ : WD_RIGHT_WRITE, &iova);
    if (r == 0)
        r = wd_driver_check(&e->driver);
    if (r == 0)
        r = edu_dma(e, to_device, iova, req->arg, req->length);
    if (r < 0)
        e->stats[EDU_STAT_FAILED]++;
    return r < 0 ? r : (long)req->length;
}

void edu_datapath_notified(struct edu *e, uint64_t bits)
{
    wd_sessions_serve(&e->sessions, bits, "edu", run_request, NULL, e);
}
