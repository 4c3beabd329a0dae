/*
 * nvme.h - what the NVMe driver's files share: the controller state
 * (registers, interrupt, limits, namespace 1), a queue pair, and the calls
 * between controller.c (bring-up, identify), queue.c (submit and wait),
 * io.c (Read/Write/Flush with PRPs, split at MDTS), datapath.c (client
 * sessions) and main.c (start-up, the request loop).
 *
 * One thread; one command in flight at a time (the driver waits for each
 * completion before the next): the queue pairs are sized for more, which
 * is where asynchronous completion will go.
 */
#ifndef WARDEN_NVME_H
#define WARDEN_NVME_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/driver.h>

#include "nvme_protocol.h"
#include "nvme_regs.h"

#define NVME_QUEUE_ENTRIES 64
#define NVME_COMMAND_TIMEOUT_NS (5000ull * 1000 * 1000)
#define NVME_NOTIFY_BADGE 0xB10C
#define NVME_CLIENT_BADGE 0xB1C0         /* the registry's capability: the whole namespace */
#define NVME_PARTITION_BADGE 0xB2000     /* + index: a partition's capability */
#define NVME_FAULT_BADGE 0xFA17

struct nvme_queue {
    uint16_t id;                    /* 0 = admin */
    struct wd_dma_buffer sq, cq;    /* device reads sq, writes cq */
    uint16_t sq_tail, cq_head;
    uint8_t phase;                  /* the phase bit a new completion carries */
    uint16_t next_cid;
};

struct nvme {
    struct wd_driver driver;
    volatile void *regs;            /* BAR0 up to the MSI-X table */
    struct wd_driver_irq irq;       /* MSI-X entry 0 (every queue), or INTx */
    wd_handle_t endpoint;
    uint64_t cap;
    uint32_t doorbell_stride;       /* bytes */
    struct nvme_queue admin, io;
    struct wd_dma_buffer identify;  /* 4 KiB the device writes Identify data into */
    struct wd_dma_buffer prp_list;  /* one page of PRP entries (one command in flight) */
    uint64_t max_transfer;          /* bytes per command (MDTS), a multiple of 4 KiB */
    uint32_t block_size;            /* namespace 1's logical block size */
    uint64_t block_count;
    char model[41], serial[21];
    struct wd_session_table sessions;
    struct nvme_partition {
        bool used;
        uint64_t first, count;      /* blocks of namespace 1 */
    } partitions[NVME_PARTITIONS];
    uint64_t commands, errors;
};

/* controller.c */
long nvme_bring_up(struct nvme *n);

/* queue.c */
long nvme_queue_alloc(struct nvme *n, struct nvme_queue *q, uint16_t id);
/* Submits *cmd (its cid is filled in) on q and waits for its completion;
 * 0, IO_ERROR (its status in *status), or TIMEOUT. */
long nvme_run(struct nvme *n, struct nvme_queue *q, struct nvme_sqe *cmd, uint16_t *status, uint32_t *result);
/* -WD_E_* for an NVMe status (0 for success). */
long nvme_status_error(uint16_t status);

/* io.c */
/* One Read or Write of length bytes (a multiple of the block size) at lba
 * to or from the device-contiguous IOVA range at iova; split at MDTS. */
long nvme_rw(struct nvme *n, bool write, uint64_t lba, uint64_t iova, uint64_t length);
long nvme_flush(struct nvme *n);

/* partition.c */
/* The partition the capability with badge grants (NULL: none). */
const struct nvme_partition *nvme_partition_of(struct nvme *n, uint64_t badge);
/* NVME_OP_PARTITION in msg (sent with badge), turned into the reply. */
void nvme_partition_request(struct nvme *n, uint64_t badge, struct wd_msg *msg);

/* datapath.c */
void nvme_datapath_notified(struct nvme *n, uint64_t bits);

#endif
