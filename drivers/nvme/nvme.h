/*
 * nvme.h - what the NVMe driver's files share: the controller state
 * (registers, interrupts, limits, namespace 1), its queue pairs, and the
 * calls between controller.c (bring-up, identify, I/O queues), queue.c
 * (rings, doorbells, one admin command), io.c (command slots, PRPs, MDTS
 * splits, completions), recovery.c (the watchdog, command timeouts, a
 * controller reset, a lost device, fault injection for tests), datapath.c
 * (client sessions) and main.c (start-up, the request loop).
 *
 * One thread serves; a second one only ticks the watchdog. Admin commands
 * run one at a time and are waited for; I/O is asynchronous: each session
 * has an I/O queue pair of its own while the controller has enough
 * (NVME_MAX_IO_QUEUES at most), and shares the least loaded one after
 * that. Up to NVME_IO_SLOTS commands are in flight over all queues (at
 * most NVME_QUEUE_SLOTS on one), each with its own PRP list page, one
 * doorbell per queue per batch; completions (in any order) are reaped when
 * a completion queue's interrupt arrives as a message on the endpoint.
 */
#ifndef WARDEN_NVME_H
#define WARDEN_NVME_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/driver.h>

#include "nvme_protocol.h"
#include "nvme_regs.h"

#define NVME_QUEUE_ENTRIES 64
#define NVME_QUEUE_SLOTS (NVME_QUEUE_ENTRIES - 1)  /* commands in flight on one queue: a full SQ keeps one free */
#define NVME_MAX_IO_QUEUES 8
#define NVME_MAX_VECTORS (1 + NVME_MAX_IO_QUEUES)    /* MSI-X entry 0: the admin queue */
#define NVME_IO_SLOTS 128u                          /* commands in flight over all queues */
#define NVME_ADMIN_TIMEOUT_NS (5000ull * 1000 * 1000)
#define NVME_DEFAULT_TIMEOUT_MS 5000u               /* an I/O command that takes longer resets the controller */
#define NVME_WATCHDOG_TICKS 5u                      /* watchdog ticks per command timeout */
#define NVME_MAX_RETRIES 3u                         /* resets a request lives through before it fails */
#define NVME_NOTIFY_BADGE 0xB10C
#define NVME_CLIENT_BADGE 0xB1C0         /* the registry's capability: the whole namespace */
#define NVME_PARTITION_BADGE 0xB2000     /* + index: a partition's capability */
#define NVME_FAULT_BADGE 0xFA17
#define NVME_IRQ_BADGE 0x1E00            /* + MSI-X entry (0 for INTx) */
/* The bit of the sessions' notification above the sessions' own (2 each):
 * the watchdog thread's tick, and the device capability's end (cap_watch). */
#define NVME_RECOVERY_BIT (1ull << 62)
#define NVME_WATCHDOG_PRIORITY 16        /* as the driver's own thread */
_Static_assert(2 * WD_SESSION_SLOTS <= 62, "the sessions' bits stay below the driver's own");

/* A client request being run: one or more commands (split at MDTS). */
struct nvme_request {
    bool busy;
    bool done;                      /* all its commands completed: to be posted */
    bool waiting;                   /* in the waiting list: has commands to submit, no slot yet */
    bool flush;                     /* a Flush not yet submitted */
    uint8_t opcode;                 /* NVME_CMD_READ / WRITE / WRITE_ZEROES / DSM / FLUSH */
    uint8_t retries;                /* controller resets it was resubmitted after */
    uint16_t op;
    struct wd_session *session;
    struct nvme_queue *queue;       /* the session's queue pair */
    uint64_t id;
    uint64_t first_lba, first_iova; /* where it starts (a retry starts over) */
    uint64_t lba, iova, remaining;  /* what is still to be submitted */
    uint64_t bytes;                 /* the request's length */
    uint32_t commands;              /* in flight */
    long error;                     /* the first error of its commands */
};

struct nvme_queue {
    uint16_t id;                    /* 0 = admin */
    uint16_t vector;                /* MSI-X entry of its CQ (0 with INTx) */
    struct wd_dma_buffer sq, cq;    /* device reads sq, writes cq */
    uint16_t sq_tail, cq_head;
    uint16_t sq_rung;               /* the SQ tail the doorbell last said */
    uint8_t phase;                  /* the phase bit a new completion carries */
    uint16_t next_cid;              /* admin only */
    uint16_t in_flight;             /* commands submitted, not completed (I/O queues) */
};

/* One command slot: its cid is its index, and it owns PRP list page index. */
struct nvme_slot {
    uint16_t request;               /* request index + 1; 0 = free */
    uint16_t queue;                 /* index into io[] */
    uint32_t tick;                  /* the watchdog tick it was submitted at */
};

struct nvme {
    struct wd_driver driver;
    volatile void *regs;            /* BAR0 up to the MSI-X table */
    struct wd_driver_irq irq;       /* MSI-X entry 0 (the admin queue; every queue if it is the only one), or INTx */
    wd_handle_t vector_irq[NVME_MAX_VECTORS];   /* MSI-X entries 1.. (I/O CQs), bound to the endpoint */
    unsigned vectors;               /* MSI-X entries in use (1 with INTx) */
    wd_handle_t endpoint;
    uint64_t cap;
    uint32_t doorbell_stride;       /* bytes */
    struct nvme_queue admin;
    struct nvme_queue io[NVME_MAX_IO_QUEUES];
    unsigned io_queues;             /* I/O queue pairs created */
    uint32_t unrung;                /* bit per io[] index: commands pushed since its doorbell */
    uint8_t session_queue[WD_SESSION_SLOTS];    /* session id -> index into io[] */
    const struct nvme_partition *session_partition[WD_SESSION_SLOTS];  /* what it was opened through */
    struct wd_dma_buffer identify;  /* 4 KiB the device writes Identify data into */
    struct wd_dma_buffer prp_lists; /* NVME_IO_SLOTS pages of PRP entries, one per command slot */
    struct nvme_slot slots[NVME_IO_SLOTS];
    uint16_t free_slot[NVME_IO_SLOTS];      /* free command slots, a stack of free_slots */
    unsigned free_slots;
    struct nvme_request requests[NVME_IO_SLOTS];
    uint16_t free_request[NVME_IO_SLOTS];   /* free request entries, a stack of free_requests */
    unsigned free_requests;
    uint16_t waiting[NVME_IO_SLOTS];        /* requests with commands left and no slot, oldest first */
    unsigned waiting_head, waiting_count;
    uint16_t done[NVME_IO_SLOTS];           /* requests whose commands all completed, to be posted */
    unsigned done_count;
    uint64_t sessions_to_flush;             /* bit per session id: completions posted, not published */
    bool starved;                   /* a session stopped taking requests for want of a slot */
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
    uint64_t resets, timeouts, fatal_statuses, retried;     /* recovery.c */
    uint32_t tick;                  /* watchdog ticks so far */
    bool check_due;                 /* a tick came: nvme_recovery_check looks at the controller */
    uint32_t timeout_ms;            /* "timeout-ms=N" argument; NVME_DEFAULT_TIMEOUT_MS */
    bool serving;                   /* bring-up is over: admin commands poll (the interrupt is the loop's) */
    bool device_lost;               /* the supervisor revoked the device: every request is DEAD */
    bool force_intx;                /* "intx" argument: the INTx pin even where MSI-X works */
    bool iommu_4k;                  /* "iommu-4k" argument: no 2 MiB IOMMU pages (measurement) */
    bool fault_injection;           /* "fault-injection" argument: NVME_OP_INJECT works (tests) */
    unsigned max_queues;            /* "queues=N" argument: at most N I/O queue pairs (default NVME_MAX_IO_QUEUES) */
    bool drop_next_doorbell;        /* injected: the next SQ doorbell write is lost */
    bool cq_unmapped;               /* injected: io[0]'s CQ is unmapped from the device */
};

/* controller.c */
long nvme_bring_up(struct nvme *n);
/* Disables the controller (CC.EN = 0, CSTS.RDY = 0 within CAP.TO). */
long nvme_controller_disable(struct nvme *n);
/* Sets up the admin queue afresh and enables the controller. */
long nvme_controller_enable(struct nvme *n);
/* Creates the I/O queue pairs (the first time: decides how many, and
 * their MSI-X entries); they start empty. */
long nvme_create_io_queues(struct nvme *n);

/* queue.c */
long nvme_queue_alloc(struct nvme *n, struct nvme_queue *q, uint16_t id);
/* Empties q (for a controller that was reset): no entries, phase 1. */
void nvme_queue_clear(struct nvme_queue *q);
/* Submits *cmd (its cid is filled in) on the admin queue and waits for its
 * completion: 0, IO_ERROR (its status in *status), or TIMEOUT. At bring-up
 * it waits for the interrupt; once serving it polls (the loop owns the
 * interrupt). */
long nvme_run(struct nvme *n, struct nvme_sqe *cmd, uint16_t *status, uint32_t *result);
/* -WD_E_* for an NVMe status (0 for success). */
long nvme_status_error(uint16_t status);

/* Puts *cmd on q's SQ (its cid must be set); the doorbell is rung later. */
void nvme_sq_push(struct nvme_queue *q, const struct nvme_sqe *cmd);
/* The same in two steps, for building the command in place: the zeroed
 * entry at the SQ's tail, then the tail moved past it (the device sees
 * neither before nvme_sq_ring, which fences). */
struct nvme_sqe *nvme_sq_next(struct nvme_queue *q);
void nvme_sq_advance(struct nvme_queue *q);
/* Tells the controller about everything pushed on q since its last ring. */
void nvme_sq_ring(struct nvme *n, struct nvme_queue *q);
/* The same for every I/O queue. */
void nvme_sq_ring_all(struct nvme *n);
/* Calls done(cqe) for every new completion on q, then writes the CQ head
 * doorbell once; how many there were. */
unsigned nvme_cq_reap(struct nvme *n, struct nvme_queue *q, void (*done)(struct nvme *, const struct nvme_cqe *));

/* io.c */
void nvme_io_init(struct nvme *n);
/* Starts an NVM command (opcode: Read or Write of length bytes at lba
 * from/to the device-contiguous IOVA range at iova, Write Zeroes or
 * Deallocate of length bytes at lba), or a Flush, for request id of
 * session s on queue q: 0, or BUSY when no request entry is free (try
 * again after completions). Its commands go out as slots allow; its
 * completion is posted to s when its last command is done. */
long nvme_io_start(struct nvme *n, struct wd_session *s, struct nvme_queue *q, uint64_t id, uint16_t op,
                   uint8_t opcode, uint64_t lba, uint64_t iova, uint64_t length);
/* Handles an interrupt of MSI-X entry vector: reaps the completion queues
 * on it, learns of leases that ended (one poll of the sessions'
 * notification), posts the requests that are done (DEAD when their lease
 * ended meanwhile) and submits what waited for slots. */
void nvme_io_interrupt(struct nvme *n, unsigned vector);
/* Posts the requests that are done, then submits what waited for slots. */
void nvme_io_finish_done(struct nvme *n);
/* Takes what every I/O CQ holds (before a reset: what completed is not
 * done again, and QEMU's INTx count of pending CQs stays right). */
void nvme_io_reap_all(struct nvme *n);
/* After a controller reset: every slot is free, every unfinished request
 * starts over (or fails, after NVME_MAX_RETRIES) and waits for slots;
 * how many start over. */
unsigned nvme_io_restart_all(struct nvme *n);
/* Completes every unfinished request with error (the device is gone). */
void nvme_io_fail_all(struct nvme *n, long error);
/* The oldest watchdog tick a command in flight was submitted at, and
 * whether any is in flight. */
bool nvme_io_oldest_tick(const struct nvme *n, uint32_t *tick);
/* Submits what waited for slots, oldest first. */
void nvme_io_submit_waiting(struct nvme *n);

/* recovery.c */
/* Starts the watchdog thread and watches the device capability. */
long nvme_recovery_start(struct nvme *n);
/* The driver's own bit of the sessions' notification (a watchdog tick, or
 * the device capability ended): counts the tick and checks for a lost
 * device. Call it before the data path takes requests with those bits. */
void nvme_recovery_notified(struct nvme *n, uint64_t bits);
/* After the data path has seen the same bits (ended leases first): on a
 * tick with commands in flight, a fatal status or a timed-out command
 * resets the controller. */
void nvme_recovery_check(struct nvme *n);
/* NVME_OP_INJECT in msg, turned into the reply. */
void nvme_inject_request(struct nvme *n, struct wd_msg *msg);
/* Whether the doorbell write about to happen is to be lost (injected). */
bool nvme_inject_drops_doorbell(struct nvme *n);

/* partition.c */
/* The partition the capability with badge grants (NULL: none). */
const struct nvme_partition *nvme_partition_of(struct nvme *n, uint64_t badge);
/* NVME_OP_PARTITION in msg (sent with badge), turned into the reply. */
void nvme_partition_request(struct nvme *n, uint64_t badge, struct wd_msg *msg);

/* datapath.c */
/* A session was opened: gives it an I/O queue pair. */
void nvme_datapath_opened(struct nvme *n, struct wd_session *s);
/* Data-path bits of the sessions' notification (work, ended leases). */
void nvme_datapath_notified(struct nvme *n, uint64_t bits);
/* Publishes the completions posted since, and takes the requests of
 * sessions that have some waiting (all sessions if one starved). */
void nvme_datapath_after_completions(struct nvme *n);

#endif
