/*
 * nvme - the user-space NVMe driver and block service, started by init's
 * supervisor (on devmgr's request) or by a test as "nvme [argument...]":
 *   intx             use the INTx pin even where MSI-X works (the fallback)
 *   iommu-4k         map clients' regions with 4 KiB IOMMU pages only, to
 *                    measure what 2 MiB pages save
 *   queues=N         at most N I/O queue pairs (1..8; default 8)
 *   timeout-ms=N     an I/O command that takes longer resets the controller
 *                    (default 5000)
 *   fault-injection  NVME_OP_INJECT works (tests of the recovery)
 *   any other        the name to register (default "blk0")
 *   start info caps[0]  its device capability (an NVMe controller)
 *   start info pool     its own sub-pool
 *   start info registry SEND to init's name registry
 * Start-up: libdriver (dmaspace + attach: no DMA without an IOMMU), an
 * endpoint that also gets the device's DMA faults, the data path's
 * notification and the I/O queues' interrupts, the controller's bring-up
 * and namespace 1 (controller.c), the watchdog (recovery.c), then
 * registration as "blk0" (or the name given) and the request loop:
 * NVME_OP_* and session calls over IPC, block requests over the sessions'
 * rings (datapath.c), interrupts, watchdog ticks. A start-up failure is
 * printed with its error name and ends the driver with status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/session.h>
#include <warden/syscalls.h>

#include "nvme.h"

static struct nvme nvme;

static int fail(const char *what, long error)
{
    printf("nvme: %s: %s (%s)\n", what, wd_error_name(error), wd_error_text(error));
    return 1;
}

static int create_endpoint(struct nvme *n)
{
    long r = wd_driver_endpoint(&n->driver, NVME_FAULT_BADGE, &n->endpoint);
    if (r < 0)
        return fail("cannot create its endpoint (with the device's DMA faults bound to it)", r);
    r = wd_sessions_init(&n->sessions, &n->driver, n->endpoint, NVME_NOTIFY_BADGE);
    if (r < 0)
        return fail("cannot set up the data path's notification", r);
    n->sessions.defer_signals = true;  /* the loop signals and receives in one call */
    return 0;
}

/* After bring-up (which waited for MSI-X entry 0 on its own endpoint): the
 * controller's interrupts arrive among calls and data-path signals, and
 * the watchdog starts. */
static int start_serving(struct nvme *n)
{
    long r = wd_irq_bind(n->irq.irq, n->endpoint, NVME_IRQ_BADGE);
    if (r < 0)
        return fail("cannot bind its interrupt to its endpoint", r);
    n->vector_irq[0] = n->irq.irq;
    n->serving = true;
    r = nvme_recovery_start(n);
    return r < 0 ? fail("cannot start its watchdog", r) : 0;
}

/* NVME_OP_QUEUES in msg, turned into the reply. */
static void queues_request(struct nvme *n, struct wd_msg *msg)
{
    uint64_t session = msg->w[0];
    msg->w[3] = session < WD_SESSION_SLOTS && n->sessions.sessions[session].open
                    ? n->io[n->session_queue[session]].id : 0;
    msg->w[0] = 0;
    msg->w[1] = n->io_queues;
    msg->w[2] = n->vectors;
    msg->info = wd_msg_info(NVME_OP_QUEUES, 4, 0);
}

/* A client's call in msg, turned into the reply. */
static void handle_call(struct nvme *n, struct wd_msg *msg)
{
    uint32_t op = wd_msg_label(msg->info);
    const struct nvme_partition *partition = nvme_partition_of(n, msg->badge);
    if (op == WD_SESSION_OPEN || op == WD_SESSION_CLOSE) {
        /* A close always works (the client gets its region back); an open needs the device. */
        long r = !partition ? -WD_E_NO_RIGHTS
                 : op == WD_SESSION_OPEN && n->device_lost ? -WD_E_DEAD
                 : op == WD_SESSION_OPEN ? wd_driver_check(&n->driver) : 0;
        if (r == 0) {
            struct wd_session *s;
            if (op == WD_SESSION_OPEN && wd_session_accept(&n->sessions, msg, &s) >= 0)
                nvme_datapath_opened(n, s);
            else if (op == WD_SESSION_CLOSE)
                wd_session_close_request(&n->sessions, msg);
            return;
        }
        for (unsigned i = 0; i < wd_msg_ncaps(msg->info) && i < WD_MSG_CAPS; i++)
            wd_cap_delete(msg->caps[i]);
        msg->w[0] = (uint64_t)r;
        msg->info = wd_msg_info(op, 1, 0);
        return;
    }
    for (unsigned i = 0; i < wd_msg_ncaps(msg->info) && i < WD_MSG_CAPS; i++)
        wd_cap_delete(msg->caps[i]);
    if (op == NVME_OP_PARTITION) {
        nvme_partition_request(n, msg->badge, msg);
        return;
    }
    if (op == NVME_OP_INFO && partition) {
        msg->w[0] = 0;
        msg->w[1] = n->block_size;
        msg->w[2] = partition->count;
        msg->w[3] = n->max_transfer;
        msg->info = wd_msg_info(op, 4, 0);
        return;
    }
    if (op == NVME_OP_QUEUES && partition) {
        queues_request(n, msg);
        return;
    }
    if (op == NVME_OP_RECOVERY && partition) {
        msg->w[0] = 0;
        msg->w[1] = n->resets;
        msg->w[2] = n->timeouts;
        msg->w[3] = n->fatal_statuses;
        msg->w[4] = n->retried;
        msg->info = wd_msg_info(op, 5, 0);
        return;
    }
    if (op == NVME_OP_INJECT && msg->badge == NVME_CLIENT_BADGE) {
        nvme_inject_request(n, msg);
        return;
    }
    if (op == NVME_OP_STATS && partition) {
        msg->w[0] = 0;
        msg->w[1] = n->commands;
        msg->w[2] = n->doorbells;
        msg->w[3] = n->interrupts;
        msg->w[4] = n->errors;
        msg->w[5] = n->irq.mode;
        msg->info = wd_msg_info(op, 6, 0);
        return;
    }
    msg->w[0] = (uint64_t)-WD_E_NOT_SUPPORTED;
    msg->info = wd_msg_info(op, 1, 0);
}

static int serve(struct nvme *n)
{
    struct wd_msg msg;
    long r = wd_recv(n->endpoint, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0)
            return fail("receiving on its endpoint failed; stopping", r);
        if (msg.badge == NVME_FAULT_BADGE) {
            struct wd_dma_fault fault;
            if (wd_dma_fault_decode(&msg, &fault) == 0)
                wd_dma_fault_print("nvme", &fault);
            r = wd_sessions_signal_recv(&n->sessions, n->endpoint, &msg, WD_FOREVER);
            continue;
        }
        uint64_t vector = msg.badge - NVME_IRQ_BADGE;
        if (vector < n->vectors && wd_msg_label(msg.info) == WD_LABEL_IRQ) {
            nvme_io_interrupt(n, (unsigned)vector);
            nvme_datapath_after_completions(n);     /* publishes, takes what waited for slots */
            nvme_recovery_check(n);
            wd_irq_ack(n->vector_irq[vector]);
            r = wd_sessions_signal_recv(&n->sessions, n->endpoint, &msg, WD_FOREVER);
            continue;
        }
        if (msg.badge == NVME_NOTIFY_BADGE && wd_msg_label(msg.info) == WD_LABEL_NOTIFY) {
            nvme_recovery_notified(n, msg.w[1]);  /* a lost device first */
            nvme_datapath_notified(n, msg.w[1]);  /* then leases that ended, new requests */
            if (n->done_count) {
                nvme_io_finish_done(n);
                nvme_datapath_after_completions(n);
            }
            nvme_recovery_check(n);
            r = wd_sessions_signal_recv(&n->sessions, n->endpoint, &msg, WD_FOREVER);
            continue;
        }
        handle_call(n, &msg);
        wd_sessions_send_owed(&n->sessions);
        r = wd_reply_recv(n->endpoint, &msg, WD_FOREVER);
    }
}

int main(int argc, char **argv)
{
    const struct wd_start_info *info = wd_start_info;
    const char *name = NVME_SERVICE_NAME;
    struct nvme *n = &nvme;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "intx") == 0)
            n->force_intx = true;
        else if (strcmp(argv[i], "iommu-4k") == 0)
            n->iommu_4k = true;
        else if (strcmp(argv[i], "fault-injection") == 0)
            n->fault_injection = true;
        else if (strncmp(argv[i], "queues=", 7) == 0 && !(n->max_queues = (unsigned)strtoul(argv[i] + 7, NULL, 10)))
            n->max_queues = NVME_MAX_IO_QUEUES + 1;     /* 0: refused below */
        else if (strncmp(argv[i], "timeout-ms=", 11) == 0)
            n->timeout_ms = (uint32_t)strtoul(argv[i] + 11, NULL, 10);
        else
            name = argv[i];
    }
    if (n->max_queues > NVME_MAX_IO_QUEUES || (n->timeout_ms && n->timeout_ms < 10)) {
        printf("nvme: queues=N takes 1..%u and timeout-ms=N at least 10\n", NVME_MAX_IO_QUEUES);
        return 1;
    }
    if (info->cap_count < 1 || !info->caps[0]) {
        printf("nvme: started without a device capability in caps[0]\n");
        return 1;
    }
    long r = wd_driver_init(&n->driver, info->caps[0], info->pool);
    n->driver.no_large_iommu_pages = n->iommu_4k;   /* measurement only: docs/performance.md */
    if (r == -WD_E_NO_IOMMU) {
        printf("nvme: no IOMMU translates this controller: refusing to let it DMA without isolation\n");
        return 1;
    }
    if (r < 0)
        return fail("cannot give the device a DMA space (dmaspace_create + dma_attach)", r);
    const struct wd_device_info *dev = &n->driver.info;
    unsigned bus = WD_PCI_BUS(dev->address), slot = WD_PCI_DEV(dev->address), fn = WD_PCI_FN(dev->address);
    if ((dev->class_code >> 8) != 0x0108) {
        printf("nvme: caps[0] is %02x:%02x.%x, class 0x%06x, not an NVMe controller\n", bus, slot, fn, dev->class_code);
        return 1;
    }
    if (create_endpoint(n) != 0 || nvme_bring_up(n) < 0 || start_serving(n) != 0)
        return 1;
    n->partitions[0] = (struct nvme_partition){ .used = true, .first = 0, .count = n->block_count };
    if (wd_driver_register("nvme", n->endpoint, NVME_CLIENT_BADGE, name) < 0)
        return 1;
    printf("nvme: %02x:%02x.%x ready: \"%s\" serial \"%s\", namespace 1: %llu blocks of %u bytes (%llu MiB), "
           "%llu KiB per command, %u I/O queue pair(s), interrupts: %s (%u vector(s)); registered as \"%s\"\n",
           bus, slot, fn, n->model, n->serial, (unsigned long long)n->block_count, n->block_size,
           (unsigned long long)((n->block_count * n->block_size) >> 20), (unsigned long long)(n->max_transfer >> 10),
           n->io_queues, wd_driver_irq_mode_name(n->irq.mode), n->vectors, name);
    return serve(n);
}
