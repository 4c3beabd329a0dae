/*
 * io.c - asynchronous NVM I/O on the I/O queue pair. A client request
 * becomes one or more commands (split at MDTS); each command has a slot
 * (its cid) with its own PRP list page in one DMA buffer mapped at
 * bring-up. A data buffer is a range of IOVAs the device sees as
 * contiguous (a client's region, mapped once at session setup): PRP1 the
 * first page (any offset), PRP2 the second page or the slot's PRP list.
 * Commands are pushed as slots allow and the doorbell is rung once per
 * batch; completions arrive in any order and are matched by cid.
 *
 * Invariants: a session with commands in flight is not ended (its IOVAs
 * stay reserved: wd_session_end defers); a request whose lease ended
 * while it ran completes with DEAD, never success (QEMU completes a
 * faulted data transfer with success status, facts sheet §0.2).
 */
#include <string.h>
#include <warden/syscalls.h>

#include "nvme.h"

#define PAGE 4096ull

void nvme_io_init(struct nvme *n)
{
    memset(n->slot_request, 0, sizeof n->slot_request);
    memset(n->requests, 0, sizeof n->requests);
    for (unsigned i = 0; i < NVME_IO_SLOTS; i++) {
        n->free_slot[i] = (uint16_t)(NVME_IO_SLOTS - 1 - i);
        n->free_request[i] = (uint16_t)(NVME_IO_SLOTS - 1 - i);
    }
    n->free_slots = n->free_requests = NVME_IO_SLOTS;
}

/* Fills cmd's PRPs for [iova, iova+length) using slot's list page. */
static void set_prps(struct nvme *n, unsigned slot, struct nvme_sqe *cmd, uint64_t iova, uint64_t length)
{
    cmd->prp1 = iova;
    uint64_t first = PAGE - (iova & (PAGE - 1));
    if (length <= first) {
        cmd->prp2 = 0;
        return;
    }
    uint64_t next = (iova & ~(PAGE - 1)) + PAGE, rest = length - first;
    if (rest <= PAGE) {
        cmd->prp2 = next;
        return;
    }
    volatile uint64_t *list = (volatile uint64_t *)((volatile uint8_t *)n->prp_lists.cpu + slot * PAGE);
    unsigned pages = (unsigned)((rest + PAGE - 1) / PAGE);
    for (unsigned i = 0; i < pages; i++)
        list[i] = next + i * PAGE;
    cmd->prp2 = n->prp_lists.iova + slot * PAGE;
}

/* A free command slot for request (the caller checked free_slots). */
static unsigned take_slot(struct nvme *n, unsigned request)
{
    unsigned slot = n->free_slot[--n->free_slots];
    n->slot_request[slot] = (uint16_t)(request + 1);
    return slot;
}

/* Pushes the request's next commands while slots are free. */
static void submit_more(struct nvme *n, unsigned index)
{
    struct nvme_request *q = &n->requests[index];
    while (n->free_slots && (q->remaining || q->flush)) {
        unsigned slot = take_slot(n, index);
        struct nvme_sqe cmd = { .cid = (uint16_t)slot, .nsid = 1 };
        if (q->flush) {
            cmd.opcode = NVME_CMD_FLUSH;
            q->flush = false;
        } else if (q->opcode == NVME_CMD_DSM) {
            /* One range, in the slot's own page (the device reads it). */
            uint64_t blocks = q->remaining / n->block_size;
            uint64_t chunk = (blocks > 0xFFFFFFFFull ? 0xFFFFFFFFull : blocks) * n->block_size;
            volatile struct nvme_dsm_range *range =
                (volatile struct nvme_dsm_range *)((volatile uint8_t *)n->prp_lists.cpu + slot * PAGE);
            range->attributes = 0;
            range->blocks = (uint32_t)(chunk / n->block_size);
            range->first_lba = q->lba;
            cmd.opcode = NVME_CMD_DSM;
            cmd.prp1 = n->prp_lists.iova + slot * PAGE;
            cmd.cdw10 = 0;                      /* one range */
            cmd.cdw11 = NVME_DSM_DEALLOCATE;
            q->lba += chunk / n->block_size;
            q->remaining -= chunk;
        } else {
            /* An unaligned start spans one page more than its length;
             * Write Zeroes moves no data: only its 16-bit block count limits it. */
            uint64_t chunk_max = q->opcode == NVME_CMD_WRITE_ZEROES
                                     ? 65536ull * n->block_size
                                     : n->max_transfer - ((q->iova & (PAGE - 1)) ? PAGE : 0);
            chunk_max -= chunk_max % n->block_size;
            uint64_t chunk = q->remaining < chunk_max ? q->remaining : chunk_max;
            cmd.opcode = q->opcode;
            cmd.cdw10 = (uint32_t)q->lba;
            cmd.cdw11 = (uint32_t)(q->lba >> 32);
            cmd.cdw12 = (uint32_t)(chunk / n->block_size - 1);
            if (q->opcode != NVME_CMD_WRITE_ZEROES)
                set_prps(n, slot, &cmd, q->iova, chunk);
            q->lba += chunk / n->block_size;
            q->iova += chunk;
            q->remaining -= chunk;
        }
        nvme_sq_push(&n->io, &cmd);
        q->commands++;
        n->commands++;
    }
}

bool nvme_io_can_start(const struct nvme *n)
{
    return n->free_slots && n->free_requests;
}

long nvme_io_start(struct nvme *n, struct wd_session *s, uint64_t id, uint16_t op, uint8_t opcode, bool flush,
                   uint64_t lba, uint64_t iova, uint64_t length)
{
    if (!nvme_io_can_start(n))
        return -WD_E_BUSY;
    unsigned index = n->free_request[--n->free_requests];
    n->requests[index] = (struct nvme_request){
        .done = false,
        .busy = true, .session = s, .id = id, .op = op, .opcode = opcode,
        .lba = lba, .iova = iova, .remaining = flush ? 0 : length, .bytes = flush ? 0 : length,
        .flush = flush,
    };
    s->in_flight++;
    submit_more(n, index);
    return 0;
}

void nvme_io_submit_pending(struct nvme *n)
{
    for (unsigned i = 0; i < NVME_IO_SLOTS && n->free_slots; i++)
        if (n->requests[i].busy && (n->requests[i].remaining || n->requests[i].flush))
            submit_more(n, i);
}

/* The request's last command is done: post it to its session. s->ended
 * is up to date: the kernel signals a lease's end (after cutting the
 * device off) before the device can have completed a command whose data
 * transfer faulted, and nvme_io_interrupt polled the signals after reaping. */
static void finish(struct nvme *n, struct nvme_request *q)
{
    struct wd_session *s = q->session;
    long status = q->error;
    if (status == 0 && s->ended)
        status = -WD_E_DEAD;            /* taken back while it ran: its DMA faulted */
    if (status < 0)
        n->errors++;
    wd_session_post(s, q->id, q->op, status < 0 ? (uint16_t)-status : 0, status < 0 ? 0 : q->bytes);
    if (s->end_pending && s->in_flight == 1)
        wd_session_flush(s);            /* the client still learns; then the session goes */
    q->busy = false;
    n->free_request[n->free_requests++] = (uint16_t)(q - n->requests);
    wd_session_request_done(&n->sessions, s);
}

static void command_done(struct nvme *n, const struct nvme_cqe *c)
{
    if (c->cid >= NVME_IO_SLOTS || !n->slot_request[c->cid])
        return;                         /* not ours (a controller bug): ignore */
    struct nvme_request *q = &n->requests[n->slot_request[c->cid] - 1];
    n->slot_request[c->cid] = 0;
    n->free_slot[n->free_slots++] = c->cid;
    long e = nvme_status_error(c->status);
    if (e < 0 && q->error == 0)
        q->error = e;
    q->commands--;
    if (q->commands == 0 && q->remaining == 0 && !q->flush)
        q->done = true;
}

void nvme_io_interrupt(struct nvme *n)
{
    n->interrupts++;
    if (!nvme_cq_reap(n, &n->io, command_done))
        return;
    long bits = wd_notify_poll(n->sessions.notification);
    if (bits > 0)
        nvme_datapath_notified(n, (uint64_t)bits);     /* leases that ended, new requests */
    for (unsigned i = 0; i < NVME_IO_SLOTS; i++)
        if (n->requests[i].busy && n->requests[i].done)
            finish(n, &n->requests[i]);
    nvme_io_submit_pending(n);
}
