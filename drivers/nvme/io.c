/*
 * io.c - NVM Read, Write and Flush on the I/O queue pair. A data buffer
 * is a range of IOVAs the device sees as contiguous (a client's region,
 * mapped once at session setup), described by PRPs: PRP1 the first page
 * (any offset), PRP2 the second page or a PRP list (the driver's one list
 * page, written for each command). Transfers above MDTS are split.
 */
#include <warden/syscalls.h>

#include "nvme.h"

#define PAGE 4096ull

/* Fills cmd's PRPs for [iova, iova+length), length <= n->max_transfer. */
static void set_prps(struct nvme *n, struct nvme_sqe *cmd, uint64_t iova, uint64_t length)
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
    volatile uint64_t *list = n->prp_list.cpu;
    unsigned pages = (unsigned)((rest + PAGE - 1) / PAGE);
    for (unsigned i = 0; i < pages; i++)
        list[i] = next + i * PAGE;
    __asm__ volatile("" ::: "memory");
    cmd->prp2 = n->prp_list.iova;
}

long nvme_rw(struct nvme *n, bool write, uint64_t lba, uint64_t iova, uint64_t length)
{
    if (length == 0 || length % n->block_size)
        return -WD_E_INVALID_ARG;
    uint64_t blocks = length / n->block_size;
    if (lba >= n->block_count || blocks > n->block_count - lba)
        return -WD_E_RANGE;
    /* A PRP list holds 512 pages; an unaligned start needs one more. */
    uint64_t chunk_max = n->max_transfer - (iova & (PAGE - 1) ? PAGE : 0);
    chunk_max -= chunk_max % n->block_size;
    while (length) {
        uint64_t chunk = length < chunk_max ? length : chunk_max;
        struct nvme_sqe cmd = {
            .opcode = write ? NVME_CMD_WRITE : NVME_CMD_READ,
            .nsid = 1,
            .cdw10 = (uint32_t)lba,
            .cdw11 = (uint32_t)(lba >> 32),
            .cdw12 = (uint32_t)(chunk / n->block_size - 1),
        };
        set_prps(n, &cmd, iova, chunk);
        long r = nvme_run(n, &n->io, &cmd, NULL, NULL);
        if (r < 0)
            return r;
        lba += chunk / n->block_size;
        iova += chunk;
        length -= chunk;
    }
    return 0;
}

long nvme_flush(struct nvme *n)
{
    struct nvme_sqe cmd = { .opcode = NVME_CMD_FLUSH, .nsid = 1 };
    return nvme_run(n, &n->io, &cmd, NULL, NULL);
}
