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
 * had unmapped the region and flushed the IOTLB).
 */
#include <stdio.h>
#include <warden/syscalls.h>

#include "edu.h"

static bool lease_ended(const struct wd_session *s)
{
    struct wd_cap_info info;
    return wd_cap_info(s->region, &info) < 0;
}

static long run_request(struct edu *e, struct wd_session *s, const struct wd_ring_desc *req)
{
    bool to_device = req->op == EDU_RING_TO_DEVICE;
    if (req->op != EDU_RING_TO_DEVICE && req->op != EDU_RING_FROM_DEVICE)
        return -WD_E_NOT_SUPPORTED;
    if (req->length == 0 || req->length > EDU_DMA_MAX_BYTES)
        return -WD_E_INVALID_ARG;
    if (req->arg > EDU_DMA_MAX_BYTES - req->length)
        return -WD_E_RANGE;
    uint64_t iova;
    long r = wd_session_iova(s, req->offset, req->length, to_device ? WD_RIGHT_READ : WD_RIGHT_WRITE, &iova);
    if (r == 0)
        r = wd_driver_check(&e->driver);
    if (r == 0)
        r = edu_dma(e, to_device, iova, req->arg, req->length);
    if (r == 0 && lease_ended(s))
        r = -WD_E_DEAD;             /* taken back mid-transfer: the device's access faulted */
    return r < 0 ? r : (long)req->length;
}

/* Drains one session's requests (and more that arrive meanwhile). */
static void session_work(struct wd_session *s, void *ctx)
{
    struct edu *e = ctx;
    do {
        struct wd_ring_desc req;
        long r;
        while ((r = wd_session_next_request(s, &req)) == 0 || r == -WD_E_RANGE) {
            long result = r == 0 ? run_request(e, s, &req) : r;
            e->stats[EDU_STAT_REQUESTS]++;
            if (result < 0)
                e->stats[EDU_STAT_FAILED]++;
            wd_session_post(s, req.id, req.op, result < 0 ? (uint16_t)-result : 0,
                            result < 0 ? 0 : (uint64_t)result);
        }
        if (r == -WD_E_PROTOCOL) {
            printf("edu: session %llu: the client broke its ring; ending the session\n", (unsigned long long)s->id);
            s->ended = true;
            return;
        }
    } while (wd_session_flush(s));
}

static void session_ended(struct wd_session *s, void *ctx)
{
    (void)ctx;
    printf("edu: session %llu: the client took its region back (%llu request(s) served); session ended\n",
           (unsigned long long)s->id, (unsigned long long)s->completions_posted);
}

void edu_datapath_notified(struct edu *e, uint64_t bits)
{
    wd_sessions_dispatch(&e->sessions, bits, session_work, session_ended, e);
    for (unsigned i = 0; i < WD_SESSION_SLOTS; i++)
        if (e->sessions.sessions[i].open && e->sessions.sessions[i].ended)
            wd_session_end(&e->sessions, &e->sessions.sessions[i]);   /* broke its ring */
}
