/*
 * nvme.h - what the NVMe driver's files share: the controller state
 * (registers, interrupt, limits, namespace 1), a queue pair, and the calls
 * between controller.c (bring-up, identify), queue.c (submit and wait),
 * io.c (Read/Write/Flush with PRPs, split at MDTS), datapath.c (client
 * sessions) and main.c (start-up, the request loop).
 *
 * One thread. Admin commands (bring-up) run one at a time and are waited
 * for; I/O is asynchronous: requests from all sessions become commands on
 * the I/O queue pair (up to NVME_IO_SLOTS in flight, each with its own
 * PRP list page), one doorbell per batch, and completions (in any order)
 * are reaped when the controller's interrupt arrives as a message on the
 * driver's endpoint.
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
#define NVME_IRQ_BADGE 0x1E0
#define NVME_IO_SLOTS (NVME_QUEUE_ENTRIES - 1)   /* a full SQ keeps one entry free */

/* A client request being run: one or more commands (split at MDTS). */
struct nvme_request {
    bool busy;
    struct wd_session *session;
    uint64_t id;
    uint16_t op;
    uint8_t opcode;                 /* NVME_CMD_READ / WRITE / WRITE_ZEROES / DSM */
    bool flush;                     /* a Flush not yet submitted */
    uint64_t lba, iova, remaining;  /* what is still to be submitted */
    uint64_t bytes;                 /* the request's length */
    uint32_t commands;              /* in flight */
    long error;                     /* the first error of its commands */
    bool done;                      /* all its commands completed: to be posted */
};

struct nvme_queue {
    uint16_t id;                    /* 0 = admin */
    struct wd_dma_buffer sq, cq;    /* device reads sq, writes cq */
    uint16_t sq_tail, cq_head;
    uint16_t sq_rung;               /* the SQ tail the doorbell last said */
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
    struct wd_dma_buffer prp_lists; /* NVME_IO_SLOTS pages of PRP entries, one per command slot */
    uint16_t slot_request[NVME_IO_SLOTS];   /* command slot (cid) -> request index + 1; 0 = free */
    uint16_t free_slot[NVME_IO_SLOTS];      /* free command slots, a stack of free_slots */
    unsigned free_slots;
    struct nvme_request requests[NVME_IO_SLOTS];
    uint16_t free_request[NVME_IO_SLOTS];   /* free request entries, a stack of free_requests */
    unsigned free_requests;
    uint64_t max_transfer;          /* bytes per command (MDTS), a multiple of 4 KiB */
    uint32_t block_size;            /* namespace 1's logical block size */
    uint64_t block_count;
    char model[41], serial[21];
    struct wd_session_table sessions;
    struct nvme_partition {
        bool used;
        uint64_t first, count;      /* blocks of namespace 1 */
    } partitions[NVME_PARTITIONS];
    uint64_t commands, errors, doorbells, interrupts;
    bool force_intx;                /* "intx" argument: the INTx pin even where MSI-X works */
    bool iommu_4k;                  /* "iommu-4k" argument: no 2 MiB IOMMU pages (measurement) */
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

/* Puts *cmd on q's SQ (its cid must be set); the doorbell is rung later. */
void nvme_sq_push(struct nvme_queue *q, const struct nvme_sqe *cmd);
/* Tells the controller about everything pushed since the last ring. */
void nvme_sq_ring(struct nvme *n, struct nvme_queue *q);
/* Calls done(cqe) for every new completion on q, then writes the CQ head
 * doorbell once; how many there were. */
unsigned nvme_cq_reap(struct nvme *n, struct nvme_queue *q, void (*done)(struct nvme *, const struct nvme_cqe *));

/* io.c */
void nvme_io_init(struct nvme *n);
/* Starts an NVM command (opcode: Read or Write of length bytes at lba
 * from/to the device-contiguous IOVA range at iova, Write Zeroes or
 * Deallocate of length bytes at lba), or a Flush, for request id of
 * session s: 0, or BUSY when no request slot is free (try again after
 * completions). Its completion is posted to s when its last command is done. */
long nvme_io_start(struct nvme *n, struct wd_session *s, uint64_t id, uint16_t op, uint8_t opcode, bool flush,
                   uint64_t lba, uint64_t iova, uint64_t length);
/* Whether a new request could start now. */
bool nvme_io_can_start(const struct nvme *n);
/* Submits what requests still have to submit, as command slots allow. */
void nvme_io_submit_pending(struct nvme *n);
/* Handles the controller's interrupt: reaps I/O completions, learns of
 * leases that ended (one poll of the sessions' notification), then posts
 * the requests that are done (DEAD when their lease ended meanwhile). */
void nvme_io_interrupt(struct nvme *n);

/* partition.c */
/* The partition the capability with badge grants (NULL: none). */
const struct nvme_partition *nvme_partition_of(struct nvme *n, uint64_t badge);
/* NVME_OP_PARTITION in msg (sent with badge), turned into the reply. */
void nvme_partition_request(struct nvme *n, uint64_t badge, struct wd_msg *msg);

/* datapath.c */
void nvme_datapath_notified(struct nvme *n, uint64_t bits);
/* Takes new requests from every session, as far as slots allow. */
void nvme_datapath_take_all(struct nvme *n);

#endif
