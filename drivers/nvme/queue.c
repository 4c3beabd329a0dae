/*
 * queue.c - NVMe queue pairs: the submission and completion rings in DMA
 * memory the driver allocated (the device reads the SQ, writes the CQ),
 * their doorbells (one per queue per batch), reaping completions (the
 * phase bit says which CQ entries are new; the interrupt says when to
 * look), and running one admin command to completion.
 */
#include <string.h>
#include <warden/syscalls.h>

#include "nvme.h"

static volatile uint32_t *doorbell(struct nvme *n, uint16_t qid, bool completion)
{
    uint64_t offset = NVME_DOORBELLS + (2u * qid + (completion ? 1u : 0u)) * n->doorbell_stride;
    return (volatile uint32_t *)((volatile uint8_t *)n->regs + offset);
}

void nvme_queue_clear(struct nvme_queue *q)
{
    memset(q->sq.cpu, 0, q->sq.size);
    memset(q->cq.cpu, 0, q->cq.size);
    q->sq_tail = q->cq_head = q->sq_rung = 0;
    q->phase = 1;
    q->in_flight = 0;
}

long nvme_queue_alloc(struct nvme *n, struct nvme_queue *q, uint16_t id)
{
    memset(q, 0, sizeof *q);
    q->id = id;
    q->phase = 1;
    long r = wd_dma_alloc(&n->driver, NVME_QUEUE_ENTRIES * sizeof(struct nvme_sqe), WD_RIGHT_READ, &q->sq);
    if (r == 0)
        r = wd_dma_alloc(&n->driver, NVME_QUEUE_ENTRIES * sizeof(struct nvme_cqe), WD_RIGHT_WRITE, &q->cq);
    return r;
}

long nvme_status_error(uint16_t status)
{
    unsigned type = nvme_status_type(status), code = nvme_status_code(status);
    if (type == 0 && code == 0)
        return 0;
    if (type == 0 && code == 0x80)
        return -WD_E_RANGE;         /* LBA out of range */
    if (type == 0 && (code == 0x01 || code == 0x02))
        return -WD_E_NOT_SUPPORTED; /* invalid opcode or field */
    return -WD_E_IO_ERROR;
}

/* The next completion on q, if one is there (the head doorbell is the caller's). */
static bool take_completion(struct nvme_queue *q, struct nvme_cqe *out)
{
    volatile struct nvme_cqe *e = (volatile struct nvme_cqe *)q->cq.cpu + q->cq_head;
    if (nvme_cqe_phase(e->status) != q->phase)
        return false;
    __asm__ volatile("" ::: "memory");      /* the entry after its phase bit */
    out->result = e->result;
    out->sq_head = e->sq_head;
    out->cid = e->cid;
    out->status = e->status;
    if (++q->cq_head == NVME_QUEUE_ENTRIES) {
        q->cq_head = 0;
        q->phase ^= 1;
    }
    return true;
}

struct nvme_sqe *nvme_sq_next(struct nvme_queue *q)
{
    struct nvme_sqe *e = (struct nvme_sqe *)q->sq.cpu + q->sq_tail;
    *e = (struct nvme_sqe){ 0 };
    return e;
}

void nvme_sq_advance(struct nvme_queue *q)
{
    q->sq_tail = (uint16_t)((q->sq_tail + 1) % NVME_QUEUE_ENTRIES);
}

void nvme_sq_push(struct nvme_queue *q, const struct nvme_sqe *cmd)
{
    *nvme_sq_next(q) = *cmd;
    nvme_sq_advance(q);
}

void nvme_sq_ring(struct nvme *n, struct nvme_queue *q)
{
    if (q->sq_tail == q->sq_rung)
        return;
    __asm__ volatile("sfence" ::: "memory");    /* the entries before the doorbell */
    if (!(q->id && nvme_inject_drops_doorbell(n)))
        *doorbell(n, q->id, false) = q->sq_tail;
    q->sq_rung = q->sq_tail;
    n->doorbells++;
}

void nvme_sq_ring_all(struct nvme *n)
{
    for (; n->unrung; n->unrung &= n->unrung - 1)
        nvme_sq_ring(n, &n->io[__builtin_ctz(n->unrung)]);
}

unsigned nvme_cq_reap(struct nvme *n, struct nvme_queue *q, void (*done)(struct nvme *, const struct nvme_cqe *))
{
    unsigned count = 0;
    struct nvme_cqe c;
    while (take_completion(q, &c)) {
        if (done)
            done(n, &c);
        count++;
    }
    /* Only when something was taken: QEMU 7.2 counts every head write
     * that finds head == tail as one CQ less pending (cq_pending--), so an
     * extra write leaves its INTx line asserted for good. */
    if (count)
        *doorbell(n, q->id, true) = q->cq_head;
    return count;
}

long nvme_run(struct nvme *n, struct nvme_sqe *cmd, uint16_t *status, uint32_t *result)
{
    struct nvme_queue *q = &n->admin;
    cmd->cid = q->next_cid++;
    nvme_sq_push(q, cmd);
    nvme_sq_ring(n, q);
    n->commands++;
    uint64_t deadline = (uint64_t)wd_time_now() + NVME_ADMIN_TIMEOUT_NS;
    for (;;) {
        struct nvme_cqe c;
        while (take_completion(q, &c)) {
            *doorbell(n, q->id, true) = q->cq_head;
            if (c.cid != cmd->cid)
                continue;                       /* a late completion of a command that timed out */
            if (status)
                *status = c.status;
            if (result)
                *result = c.result;
            long e = nvme_status_error(c.status);
            if (e < 0)
                n->errors++;
            return e;
        }
        uint64_t now = (uint64_t)wd_time_now();
        if (now >= deadline)
            return -WD_E_TIMEOUT;
        if (n->serving) {
            /* The interrupt goes to the loop's endpoint now; admin commands
             * are rare (a reset), so look again shortly. */
            wd_thread_sleep(100 * 1000);
            continue;
        }
        long r = wd_driver_irq_wait(&n->irq, deadline - now, NULL);
        if (r == -WD_E_TIMEOUT)
            continue;                           /* look once more, then give up */
        if (r < 0)
            return r;
        wd_driver_irq_ack(&n->irq);
    }
}
