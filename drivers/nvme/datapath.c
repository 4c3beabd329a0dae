/*
 * datapath.c - the block service's data path (nvme_protocol.h,
 * <warden/session.h>): requests from clients' rings become NVM commands
 * whose PRPs are IOVAs of the client's region (the one mapping made at
 * session setup: zero copy, no IOMMU operation per I/O) on the session's
 * own I/O queue pair (the least loaded one once every pair has a
 * session), started as command slots allow (io.c); completions go back on
 * the ring when the controller's interrupt says they are done, in any
 * order, and only the sessions that got some are published.
 *
 * Invariants: every request is checked (ring.c: inside the region;
 * wd_session_iova: the direction the lease allows; here: inside the
 * session's partition) before the device sees an IOVA. A client that
 * breaks its ring loses only its session.
 */
#include <stdio.h>
#include <warden/syscalls.h>

#include "nvme.h"

static struct nvme_queue *queue_of(struct nvme *n, const struct wd_session *s)
{
    return &n->io[n->session_queue[s->id]];
}

void nvme_datapath_opened(struct nvme *n, struct wd_session *s)
{
    unsigned load[NVME_MAX_IO_QUEUES] = { 0 }, best = 0;
    for (unsigned i = 0; i < WD_SESSION_SLOTS; i++)
        if (n->sessions.sessions[i].open && &n->sessions.sessions[i] != s)
            load[n->session_queue[i]]++;
    for (unsigned i = 1; i < n->io_queues; i++)
        if (load[i] < load[best])
            best = i;
    n->session_queue[s->id] = (uint8_t)best;
    n->session_partition[s->id] = nvme_partition_of(n, s->opened_with_badge);
}

/* Checks one request and starts it: 0, or the error to complete it with. */
static long start_request(struct nvme *n, struct wd_session *s, const struct wd_ring_desc *req)
{
    if (n->device_lost)
        return -WD_E_DEAD;              /* the supervisor took the device: recovery.c */
    if (req->op == NVME_BLK_FLUSH)
        return req->length ? -WD_E_INVALID_ARG
                           : nvme_io_start(n, s, queue_of(n, s), req->id, req->op, NVME_CMD_FLUSH, 0, 0, 0);
    static const uint8_t opcodes[] = {
        [NVME_BLK_READ] = NVME_CMD_READ, [NVME_BLK_WRITE] = NVME_CMD_WRITE,
        [NVME_BLK_WRITE_ZEROES] = NVME_CMD_WRITE_ZEROES, [NVME_BLK_DEALLOCATE] = NVME_CMD_DSM,
    };
    if (req->op >= sizeof opcodes || !opcodes[req->op])
        return -WD_E_NOT_SUPPORTED;
    bool write = req->op == NVME_BLK_WRITE, moves_data = req->op == NVME_BLK_READ || write;
    if (req->length == 0 || req->length % n->block_size)
        return -WD_E_INVALID_ARG;
    /* The session sees its partition's blocks as 0..count-1. */
    const struct nvme_partition *p = n->session_partition[s->id];     /* partitions last as long as the driver */
    uint64_t blocks = req->length / n->block_size;
    if (!p || req->arg >= p->count || blocks > p->count - req->arg)
        return -WD_E_RANGE;
    uint64_t iova = 0;
    /* A disk write lets the device read the region; a disk read writes it. */
    long r = moves_data ? wd_session_iova(s, req->offset, req->length, write ? WD_RIGHT_READ : WD_RIGHT_WRITE, &iova)
                        : 0;
    if (r == 0)
        r = nvme_io_start(n, s, queue_of(n, s), req->id, req->op, opcodes[req->op], p->first + req->arg, iova,
                          req->length);
    return r;
}

#define TAKE_BATCH 16u

/* Requests that can start on q now (each gets a request entry and at least one command slot). */
static unsigned room_for(const struct nvme *n, const struct nvme_queue *q)
{
    unsigned room = NVME_QUEUE_SLOTS - q->in_flight;
    room = n->free_slots < room ? n->free_slots : room;
    return n->free_requests < room ? n->free_requests : room;
}

/* Takes the session's requests while its queue has room, then publishes. */
static void take_requests(struct wd_session *s, void *ctx)
{
    struct nvme *n = ctx;
    struct nvme_queue *queue = queue_of(n, s);
    for (;;) {
        long got = 0;
        unsigned room, asked = 0;
        struct wd_ring_desc batch[TAKE_BATCH];
        while ((room = room_for(n, queue)) &&
               (got = wd_session_next_requests(s, batch, asked = room < TAKE_BATCH ? room : TAKE_BATCH)) > 0) {
            for (long i = 0; i < got; i++) {
                long e = batch[i].status ? -(long)batch[i].status : start_request(n, s, &batch[i]);
                if (e < 0)
                    wd_session_post(s, batch[i].id, batch[i].op, (uint16_t)-e, 0);
            }
            if ((unsigned)got < asked)
                break;                  /* the ring had no more; the flush's re-check catches late ones */
        }
        if (got == -WD_E_PROTOCOL)
            return;                     /* broken: wd_sessions_end_broken ends it */
        bool more = wd_session_flush(s);
        if (more && !room)
            n->starved = true;          /* the next completion takes the rest */
        if (!more || !room)
            return;
    }
}

static void session_ended(struct wd_session *s, void *ctx)
{
    (void)ctx;
    printf("nvme: session %llu: the client took its region back (%u request(s) in flight, %llu served)\n",
           (unsigned long long)s->id, s->in_flight, (unsigned long long)s->completions_posted);
}

void nvme_datapath_notified(struct nvme *n, uint64_t bits)
{
    wd_sessions_dispatch(&n->sessions, bits, take_requests, session_ended, n);
    wd_sessions_end_broken(&n->sessions, "nvme");
    nvme_sq_ring_all(n);
}

void nvme_datapath_after_completions(struct nvme *n)
{
    bool all = n->starved;
    n->starved = false;
    for (uint64_t flush = n->sessions_to_flush; flush; flush &= flush - 1) {
        struct wd_session *s = &n->sessions.sessions[__builtin_ctzll(flush)];
        if (s->open && !all)
            take_requests(s, n);
        else if (s->open)
            wd_session_flush(s);        /* an ended session's last completions too */
    }
    n->sessions_to_flush = 0;
    for (unsigned i = 0; all && i < WD_SESSION_SLOTS; i++) {
        struct wd_session *s = &n->sessions.sessions[i];
        if (s->open && !s->ended)
            take_requests(s, n);
    }
    wd_sessions_end_broken(&n->sessions, "nvme");
    nvme_sq_ring_all(n);
}
