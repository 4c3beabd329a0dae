/*
 * datapath.c - the block service's data path (nvme_protocol.h,
 * <warden/session.h>): requests from clients' rings become NVM commands
 * whose PRPs are IOVAs of the client's region (the one mapping made at
 * session setup: zero copy, no IOMMU operation per I/O); completions go
 * back on the ring.
 *
 * Invariants: every request is checked (ring.c: inside the region;
 * wd_session_iova: the direction the lease allows; here: inside the
 * session's partition; io.c: inside the namespace) before the device sees
 * an IOVA. A request whose region was
 * taken back while it ran completes with DEAD, never with success: QEMU
 * completes a faulted data transfer with success status (facts §0.2), so
 * the controller's status cannot be trusted for that (wd_sessions_serve
 * checks the lease after each request).
 */
#include <warden/syscalls.h>

#include "nvme.h"

static long run_request(struct wd_session *s, const struct wd_ring_desc *req, void *ctx)
{
    struct nvme *n = ctx;
    if (req->op == NVME_BLK_FLUSH)
        return req->length ? -WD_E_INVALID_ARG : nvme_flush(n);
    if (req->op != NVME_BLK_READ && req->op != NVME_BLK_WRITE)
        return -WD_E_NOT_SUPPORTED;
    bool write = req->op == NVME_BLK_WRITE;
    if (req->length == 0 || req->length % n->block_size)
        return -WD_E_INVALID_ARG;
    /* The session sees its partition's blocks as 0..count-1. */
    const struct nvme_partition *p = nvme_partition_of(n, s->opened_with_badge);
    uint64_t blocks = req->length / n->block_size;
    if (!p || req->arg >= p->count || blocks > p->count - req->arg)
        return -WD_E_RANGE;
    uint64_t iova;
    /* A disk write lets the device read the region; a disk read writes it. */
    long r = wd_session_iova(s, req->offset, req->length, write ? WD_RIGHT_READ : WD_RIGHT_WRITE, &iova);
    if (r == 0)
        r = wd_driver_check(&n->driver);
    if (r == 0)
        r = nvme_rw(n, write, p->first + req->arg, iova, req->length);
    return r < 0 ? r : (long)req->length;
}

void nvme_datapath_notified(struct nvme *n, uint64_t bits)
{
    wd_sessions_serve(&n->sessions, bits, "nvme", run_request, NULL, n);
}
