/*
 * nvme_protocol.h - what a client of the NVMe driver's block service
 * sends. The driver registers as "blk0" (namespace 1).
 *
 * IPC (wd_call on the endpoint from the registry; reply with the label):
 *   NVME_OP_INFO      -> w0 = 0, w1 = logical block size in bytes,
 *                        w2 = number of logical blocks of the caller's
 *                        partition, w3 = largest transfer per command in
 *                        bytes (requests larger than that are split by the
 *                        driver)
 *   NVME_OP_PARTITION w0 = first block, w1 = block count, both within the
 *                        caller's own partition -> w0 = 0, caps[0] = a
 *                        SEND capability to the service whose sessions
 *                        see only those blocks, as blocks 0..count-1.
 *                        Least privilege: whoever holds the service's
 *                        capability (init, a supervisor, a test) hands
 *                        clients partitions; a partition can only be
 *                        narrowed, never widened (its badge, which the
 *                        kernel keeps, names it). RANGE outside the
 *                        caller's partition, INVALID_ARG for count 0,
 *                        BUSY when all NVME_PARTITIONS are taken (they
 *                        last as long as the driver).
 *   NVME_OP_STATS     -> w0 = 0, w1 = commands submitted, w2 = SQ doorbell
 *                        writes, w3 = interrupts handled, w4 = requests
 *                        that failed, w5 = interrupt mode (benchmarks
 *                        and tests)
 *   NVME_OP_QUEUES    w0 = a session id (~0: none) -> w0 = 0, w1 = I/O
 *                        queue pairs, w2 = MSI-X entries in use (1: one
 *                        vector, or the INTx pin, for everything), w3 =
 *                        the queue id serving that session (0: no such
 *                        open session). Sessions get a pair each while
 *                        there are enough, then share the least loaded.
 *   NVME_OP_RECOVERY  -> w0 = 0, w1 = controller resets, w2 = of them for a
 *                        command timeout, w3 = for a fatal status
 *                        (CSTS.CFS), w4 = requests submitted again after a
 *                        reset
 *   NVME_OP_INJECT    w0 = NVME_INJECT_* -> w0 = 0; NOT_SUPPORTED unless
 *                        the driver was started with "fault-injection"
 *                        (tests of the recovery; docs/nvme.md)
 * The capability in the registry is the whole namespace.
 *   WD_SESSION_OPEN / WD_SESSION_CLOSE (<warden/session.h>): a data-path
 *                        session over the client's region (a lease: READ
 *                        for the device to read it, i.e. for writes to the
 *                        disk; WRITE for reads from the disk).
 * Ring requests (struct wd_ring_desc):
 *   op     NVME_BLK_READ (disk -> region), NVME_BLK_WRITE (region -> disk),
 *          NVME_BLK_FLUSH (the volatile cache to the medium),
 *          NVME_BLK_WRITE_ZEROES, NVME_BLK_DEALLOCATE (no region access)
 *   offset into the region, length in bytes (a multiple of the block
 *          size, > 0; 0 for FLUSH), arg = first block of the session's
 *          partition (RANGE if the request leaves the partition)
 * Completions: id echoed, status 0 or RANGE (past the namespace or the
 *   region), INVALID_ARG (length), NO_RIGHTS (the lease does not allow the
 *   device that direction), NOT_SUPPORTED (op), IO_ERROR (the controller
 *   reported an error, or a request failed after NVME_MAX_RETRIES controller
 *   resets), DEAD (the region was taken back, or the device); arg = bytes
 *   moved; length = NVME_BLK_RETRIED if the driver submitted the request
 *   again after resetting the controller (it still completed once), else 0. Zero copy: the controller reads and writes the region
 *   itself, through the one IOMMU mapping made when the session opened.
 */
#ifndef WARDEN_NVME_PROTOCOL_H
#define WARDEN_NVME_PROTOCOL_H

#define NVME_SERVICE_NAME "blk0"
#define NVME_OP_INFO 1
#define NVME_OP_PARTITION 2
#define NVME_OP_STATS 3         /* -> w0 = 0, w1 commands, w2 SQ doorbell writes, w3 interrupts, w4 errors,
                                   w5 interrupt mode (libdriver's WD_DRIVER_IRQ_*: 2 INTx, 3 MSI-X) */
#define NVME_OP_QUEUES 4
#define NVME_OP_RECOVERY 5
#define NVME_OP_INJECT 6
#define NVME_INJECT_FATAL 1             /* the controller's next completion faults: CSTS.CFS */
#define NVME_INJECT_LOST_DOORBELL 2     /* the next I/O SQ doorbell write is lost: a command times out */
#define NVME_PARTITIONS 64
#define NVME_BLK_RETRIED 1u             /* in a completion's length: resubmitted after a controller reset */

enum nvme_blk_op {
    NVME_BLK_READ = 1,
    NVME_BLK_WRITE = 2,
    NVME_BLK_FLUSH = 3,
    NVME_BLK_WRITE_ZEROES = 4,  /* length bytes of zeros at arg; no region access (the descriptor still
                                   lies in the region, as every ring descriptor must) */
    NVME_BLK_DEALLOCATE = 5,    /* the blocks' contents may go (trim); no region access */
};

#endif
