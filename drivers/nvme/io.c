/*
 * io.c - asynchronous NVM I/O on the I/O queue pairs. A client request
 * becomes one or more commands (split at MDTS) on its session's queue;
 * each command has a slot (its cid, unique over all queues) with its own
 * PRP list page in one DMA buffer mapped at bring-up. A data buffer is a
 * range of IOVAs the device sees as contiguous (a client's region, mapped
 * once at session setup): PRP1 the first page (any offset), PRP2 the second
 * page or the slot's PRP list. Commands are pushed as slots and queue space
 * allow (the rest waits in a list, oldest first) and each queue's doorbell
 * is rung once per batch; completions arrive in any order, are matched by
 * cid, and requests whose last command completed go on a done list. No
 * step scans every slot or request: the hot path costs what it handles.
 *
 * Invariants: a session with commands in flight is not ended (its IOVAs
 * stay reserved: wd_session_end defers); a request whose lease ended
 * while it ran completes with DEAD, never success (QEMU completes a
 * faulted data transfer with success status, facts sheet §0.2); a request
 * is in at most one of the waiting and done lists.
 */
#include <string.h>
#include <warden/syscalls.h>

#include "nvme.h"

#define PAGE 4096ull

void nvme_io_init(struct nvme *n)
{
    memset(n->slots, 0, sizeof n->slots);
    memset(n->requests, 0, sizeof n->requests);
    for (unsigned i = 0; i < NVME_IO_SLOTS; i++) {
        n->free_slot[i] = (uint16_t)(NVME_IO_SLOTS - 1 - i);
        n->free_request[i] = (uint16_t)(NVME_IO_SLOTS - 1 - i);
    }
    n->free_slots = n->free_requests = NVME_IO_SLOTS;
    n->waiting_head = n->waiting_count = n->done_count = 0;
}

static unsigned request_index(const struct nvme *n, const struct nvme_request *q)
{
    return (unsigned)(q - n->requests);
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

static bool has_commands_left(const struct nvme_request *q)
{
    return q->remaining || q->flush;
}

static bool room_on(const struct nvme *n, const struct nvme_queue *q)
{
    return n->free_slots && q->in_flight < NVME_QUEUE_SLOTS;
}

/* Builds the request's next command in *cmd for slot (and advances it). */
static void next_command(struct nvme *n, struct nvme_request *q, unsigned slot, struct nvme_sqe *cmd)
{
    if (q->flush) {
        cmd->opcode = NVME_CMD_FLUSH;
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
        cmd->opcode = NVME_CMD_DSM;
        cmd->prp1 = n->prp_lists.iova + slot * PAGE;
        cmd->cdw10 = 0;                     /* one range */
        cmd->cdw11 = NVME_DSM_DEALLOCATE;
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
        cmd->opcode = q->opcode;
        cmd->cdw10 = (uint32_t)q->lba;
        cmd->cdw11 = (uint32_t)(q->lba >> 32);
        cmd->cdw12 = (uint32_t)(chunk / n->block_size - 1);
        if (q->opcode != NVME_CMD_WRITE_ZEROES)
            set_prps(n, slot, cmd, q->iova, chunk);
        q->lba += chunk / n->block_size;
        q->iova += chunk;
        q->remaining -= chunk;
    }
}

/* Pushes the request's next commands while its queue has room; true when
 * it has none left to push. */
static bool submit_more(struct nvme *n, struct nvme_request *q)
{
    struct nvme_queue *queue = q->queue;
    while (has_commands_left(q) && room_on(n, queue)) {
        unsigned slot = n->free_slot[--n->free_slots];
        n->slots[slot] = (struct nvme_slot){
            .request = (uint16_t)(request_index(n, q) + 1),
            .queue = (uint16_t)(queue - n->io),
            .tick = n->tick,
        };
        struct nvme_sqe *cmd = nvme_sq_next(queue);
        cmd->cid = (uint16_t)slot;
        cmd->nsid = 1;
        next_command(n, q, slot, cmd);
        nvme_sq_advance(queue);
        n->unrung |= 1u << (queue - n->io);
        queue->in_flight++;
        q->commands++;
        n->commands++;
    }
    return !has_commands_left(q);
}

static void wait_for_slots(struct nvme *n, struct nvme_request *q)
{
    q->waiting = true;
    n->waiting[(n->waiting_head + n->waiting_count++) % NVME_IO_SLOTS] = (uint16_t)request_index(n, q);
}

long nvme_io_start(struct nvme *n, struct wd_session *s, struct nvme_queue *queue, uint64_t id, uint16_t op,
                   uint8_t opcode, uint64_t lba, uint64_t iova, uint64_t length)
{
    if (!n->free_requests)
        return -WD_E_BUSY;
    bool flush = opcode == NVME_CMD_FLUSH;
    struct nvme_request *q = &n->requests[n->free_request[--n->free_requests]];
    /* Every field, without zeroing the entry first (the hot path). */
    q->busy = true;
    q->done = q->waiting = false;
    q->flush = flush;
    q->opcode = opcode;
    q->retries = 0;
    q->op = op;
    q->session = s;
    q->queue = queue;
    q->id = id;
    q->first_lba = q->lba = lba;
    q->first_iova = q->iova = iova;
    q->remaining = q->bytes = flush ? 0 : length;
    q->commands = 0;
    q->error = 0;
    s->in_flight++;
    if (!submit_more(n, q))
        wait_for_slots(n, q);
    return 0;
}

void nvme_io_submit_waiting(struct nvme *n)
{
    /* Each waiting request is looked at once: submitted, or back at the end. */
    for (unsigned left = n->waiting_count; left && n->free_slots; left--) {
        struct nvme_request *q = &n->requests[n->waiting[n->waiting_head]];
        n->waiting_head = (n->waiting_head + 1) % NVME_IO_SLOTS;
        n->waiting_count--;
        q->waiting = false;
        if (q->busy && !submit_more(n, q))
            wait_for_slots(n, q);
    }
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
    struct wd_ring_desc c = {
        .op = q->op, .status = status < 0 ? (uint16_t)-status : 0, .id = q->id,
        .arg = status < 0 ? 0 : q->bytes, .length = q->retries ? NVME_BLK_RETRIED : 0,
    };
    wd_session_post_completion(s, &c);
    n->sessions_to_flush |= 1ull << s->id;
    if (s->end_pending && s->in_flight == 1)
        wd_session_flush(s);            /* the client still learns; then the session goes */
    q->busy = false;
    n->free_request[n->free_requests++] = (uint16_t)request_index(n, q);
    wd_session_request_done(&n->sessions, s);
}

static void mark_done(struct nvme *n, struct nvme_request *q)
{
    q->done = true;
    n->done[n->done_count++] = (uint16_t)request_index(n, q);
}

static void command_done(struct nvme *n, const struct nvme_cqe *c)
{
    if (c->cid >= NVME_IO_SLOTS || !n->slots[c->cid].request)
        return;                         /* not ours (a controller bug): ignore */
    struct nvme_slot *slot = &n->slots[c->cid];
    struct nvme_request *q = &n->requests[slot->request - 1];
    n->io[slot->queue].in_flight--;
    slot->request = 0;
    n->free_slot[n->free_slots++] = c->cid;
    if (__builtin_expect(c->status >> 1, 0)) {        /* not plain success (bit 0 is the phase) */
        long e = nvme_status_error(c->status);
        if (e < 0 && q->error == 0)
            q->error = e;
    }
    q->commands--;
    if (q->commands == 0 && !has_commands_left(q))
        mark_done(n, q);
}

void nvme_io_finish_done(struct nvme *n)
{
    for (unsigned i = 0; i < n->done_count; i++)
        finish(n, &n->requests[n->done[i]]);
    n->done_count = 0;
    if (n->waiting_count)
        nvme_io_submit_waiting(n);
}

void nvme_io_interrupt(struct nvme *n, unsigned vector)
{
    n->interrupts++;
    unsigned reaped = 0;
    for (unsigned i = 0; i < n->io_queues; i++)
        if (n->io[i].vector == vector)
            reaped += nvme_cq_reap(n, &n->io[i], command_done);
    if (!reaped)
        return;
    long bits = wd_notify_poll(n->sessions.notification);
    if (bits > 0) {
        nvme_recovery_notified(n, (uint64_t)bits);
        nvme_datapath_notified(n, (uint64_t)bits);     /* leases that ended, new requests */
    }
    nvme_io_finish_done(n);
}

void nvme_io_reap_all(struct nvme *n)
{
    for (unsigned i = 0; i < n->io_queues; i++)
        nvme_cq_reap(n, &n->io[i], command_done);
}

/* Every command slot free again, nothing waiting or unrung, no command on
 * any queue: the controller was reset (its queues are new and empty), or
 * the device is gone. */
static void forget_commands(struct nvme *n)
{
    for (unsigned i = 0; i < NVME_IO_SLOTS; i++) {
        n->slots[i].request = 0;
        n->free_slot[i] = (uint16_t)(NVME_IO_SLOTS - 1 - i);
        n->requests[i].waiting = false;
    }
    n->free_slots = NVME_IO_SLOTS;
    n->waiting_head = n->waiting_count = 0;
    n->unrung = 0;
    for (unsigned i = 0; i < n->io_queues; i++)
        n->io[i].in_flight = 0;
}

/* Ends an unfinished request with error (unless it already has one): it is posted with the done list. */
static void give_up(struct nvme *n, struct nvme_request *q, long error)
{
    q->remaining = 0;
    q->flush = false;
    q->commands = 0;
    if (q->error == 0)
        q->error = error;
    mark_done(n, q);
}

unsigned nvme_io_restart_all(struct nvme *n)
{
    unsigned restarted = 0;
    forget_commands(n);
    for (unsigned i = 0; i < NVME_IO_SLOTS; i++) {
        struct nvme_request *q = &n->requests[i];
        if (!q->busy || q->done)
            continue;                   /* free, or completed before the reset: posted as it is */
        if (q->session->ended || q->retries >= NVME_MAX_RETRIES) {
            give_up(n, q, q->session->ended ? -WD_E_DEAD : -WD_E_IO_ERROR);
            continue;
        }
        q->retries++;
        q->commands = 0;
        q->error = 0;
        q->lba = q->first_lba;
        q->iova = q->first_iova;
        q->remaining = q->bytes;
        q->flush = q->opcode == NVME_CMD_FLUSH;
        wait_for_slots(n, q);
        restarted++;
    }
    return restarted;
}

void nvme_io_fail_all(struct nvme *n, long error)
{
    forget_commands(n);
    for (unsigned i = 0; i < NVME_IO_SLOTS; i++)
        if (n->requests[i].busy && !n->requests[i].done)
            give_up(n, &n->requests[i], error);
}

bool nvme_io_oldest_tick(const struct nvme *n, uint32_t *tick)
{
    bool any = false;
    for (unsigned i = 0; i < NVME_IO_SLOTS; i++) {
        if (!n->slots[i].request)
            continue;
        if (!any || (int32_t)(n->slots[i].tick - *tick) < 0)
            *tick = n->slots[i].tick;
        any = true;
    }
    return any;
}
