/*
 * recovery.c - what the NVMe driver does when the controller stops
 * answering: a watchdog thread ticks NVME_WATCHDOG_TICKS times per command
 * timeout (a signal on the sessions' notification, so the serving thread
 * handles it in its loop); on a tick with commands in flight the driver
 * reads CSTS. A fatal status (CSTS.CFS: QEMU sets it when fetching an SQ
 * entry or posting a completion faults, facts §0.3), or a command
 * submitted NVME_WATCHDOG_TICKS ticks ago and not completed, resets the
 * controller: what the CQs hold is taken first, then CC.EN = 0 (which ends
 * every command; QEMU drains its I/O in it), the admin queue and the I/O
 * queue pairs set up again, and every
 * unfinished request submitted again from its start (its slot's late
 * completion, if any, cannot come: the queues are new). Each request still
 * completes exactly once, and its completion says it was retried
 * (NVME_BLK_RETRIED). A request is retried NVME_MAX_RETRIES times, then it
 * fails with IO_ERROR. When the controller does not come back, the driver
 * exits: its supervisor's restart, with the kernel's Function Level Reset
 * at the revocation, is the next step, and the client library resubmits.
 *
 * The same bit tells of the device capability's end (a watch): the
 * supervisor revoked the device, so every request completes with DEAD at
 * once and new ones are refused, rather than waiting for a timeout.
 *
 * Fault injection (the "fault-injection" argument only; tests): NVME_OP_INJECT
 * makes the controller fail for real (its first I/O CQ unmapped from its
 * DMA space: the next completion faults in the IOMMU and QEMU sets CFS) or
 * loses the next I/O doorbell write (a command that never completes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <warden/syscalls.h>
#include <warden/thread.h>

#include "nvme.h"

static void watchdog(void *arg)
{
    struct nvme *n = arg;
    uint64_t period = (uint64_t)n->timeout_ms * 1000 * 1000 / NVME_WATCHDOG_TICKS;
    for (;;) {
        wd_thread_sleep(period);
        if (wd_notify_signal(n->sessions.notification, NVME_RECOVERY_BIT) < 0)
            return;
    }
}

long nvme_recovery_start(struct nvme *n)
{
    if (!n->timeout_ms)
        n->timeout_ms = NVME_DEFAULT_TIMEOUT_MS;
    long r = wd_cap_watch(n->driver.device, n->sessions.notification, NVME_RECOVERY_BIT);
    if (r == 0)
        r = wd_thread_start(watchdog, n, NVME_WATCHDOG_PRIORITY);
    return r < 0 ? r : 0;
}

static uint32_t csts(struct nvme *n)
{
    return wd_mmio_read32(n->regs, NVME_REG_CSTS);
}

static void undo_injection(struct nvme *n)
{
    struct nvme_queue *q = &n->io[0];
    if (n->cq_unmapped &&
        wd_dma_map(n->driver.dmaspace, q->cq.frame, 0, q->cq.iova, q->cq.size, WD_RIGHT_WRITE) == 0)
        n->cq_unmapped = false;
    n->drop_next_doorbell = false;
}

static void reset_controller(struct nvme *n, const char *why)
{
    n->resets++;
    uint32_t status = csts(n);
    printf("nvme: %s (CSTS 0x%x): resetting the controller\n", why, status);
    nvme_io_reap_all(n);                /* what did complete is finished, not redone */
    long bits = wd_notify_poll(n->sessions.notification);
    if (bits > 0)
        nvme_datapath_notified(n, (uint64_t)bits);     /* leases that ended: what they had completes DEAD */
    long r = nvme_controller_disable(n);
    undo_injection(n);
    if (r == 0)
        r = nvme_controller_enable(n);
    if (r == 0)
        r = nvme_create_io_queues(n);
    if (r < 0) {
        printf("nvme: the controller did not come back (%s); exiting, so that the supervisor restarts the driver "
               "after the kernel's Function Level Reset\n", wd_error_name(r));
        exit(2);
    }
    unsigned again = nvme_io_restart_all(n);
    n->retried += again;
    printf("nvme: the controller is back after reset %llu; %u request(s) submitted again\n",
           (unsigned long long)n->resets, again);
    nvme_io_finish_done(n);             /* those that ran out of retries, then the rest */
    nvme_datapath_after_completions(n);
}

static void device_lost(struct nvme *n)
{
    n->device_lost = true;
    printf("nvme: the device was taken away (its capability was revoked): every request fails with DEAD\n");
    nvme_io_fail_all(n, -WD_E_DEAD);    /* posted by the caller, after the data path saw the same bits */
}

void nvme_recovery_notified(struct nvme *n, uint64_t bits)
{
    if (!(bits & NVME_RECOVERY_BIT) || n->device_lost)
        return;
    n->tick++;
    if (wd_driver_check(&n->driver) == -WD_E_DEAD)
        device_lost(n);                 /* before any request can touch the registers */
    else
        n->check_due = true;
}

void nvme_recovery_check(struct nvme *n)
{
    if (!n->check_due)
        return;
    n->check_due = false;
    uint32_t oldest;
    if (n->device_lost || !nvme_io_oldest_tick(n, &oldest))
        return;                         /* nothing in flight: nothing can be late */
    if (csts(n) & NVME_CSTS_CFS) {
        n->fatal_statuses++;
        reset_controller(n, "the controller reports a fatal status");
    } else if (n->tick - oldest >= NVME_WATCHDOG_TICKS) {
        n->timeouts++;
        char why[80];
        snprintf(why, sizeof why, "a command took longer than %u ms", n->timeout_ms);
        reset_controller(n, why);
    }
}

bool nvme_inject_drops_doorbell(struct nvme *n)
{
    if (!n->drop_next_doorbell)
        return false;
    n->drop_next_doorbell = false;
    return true;
}

void nvme_inject_request(struct nvme *n, struct wd_msg *msg)
{
    long r = 0;
    if (!n->fault_injection) {
        r = -WD_E_NOT_SUPPORTED;        /* only a driver started for tests injects */
    } else if (msg->w[0] == NVME_INJECT_FATAL) {
        struct nvme_queue *q = &n->io[0];
        r = n->cq_unmapped ? -WD_E_BUSY : wd_dma_unmap(n->driver.dmaspace, q->cq.iova, q->cq.size);
        if (r >= 0) {
            n->cq_unmapped = true;
            r = 0;
            printf("nvme: injected: I/O completion queue %u unmapped from the device\n", q->id);
        }
    } else if (msg->w[0] == NVME_INJECT_LOST_DOORBELL) {
        n->drop_next_doorbell = true;
        printf("nvme: injected: the next I/O doorbell write is lost\n");
    } else {
        r = -WD_E_INVALID_ARG;
    }
    msg->w[0] = (uint64_t)r;
    msg->info = wd_msg_info(NVME_OP_INJECT, 1, 0);
}
