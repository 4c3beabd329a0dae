/*
 * e1000e - the user-space driver for the Intel 82574L NIC (QEMU's e1000e,
 * 8086:10d3) and its frame service, started by init's supervisor (on
 * devmgr's request) or by a test as "e1000e [argument...]":
 *   intx   the INTx pin even where MSI-X and MSI work (the fallback)
 *   msi    MSI even where MSI-X works
 *   throttle-us=N  at most one interrupt per N us per cause (QEMU's
 *          floor is 128 us; at most 16,776)
 *   any other word: the name to register (default "eth0")
 *   start info caps[0]  its device capability (an 82574L)
 *   start info pool     its own sub-pool
 *   start info registry SEND to init's name registry
 * Start-up: libdriver (dmaspace + attach: no DMA without an IOMMU), an
 * endpoint that also gets the device's DMA faults, the data path's
 * notification and the interrupts, the NIC's bring-up (hw.c), then
 * registration and the loop: NET_OP_* and session calls over IPC, frames
 * over the sessions' rings (datapath.c), interrupts. A start-up failure is
 * printed with its error name and ends the driver with status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/session.h>
#include <warden/syscalls.h>

#include "e1000e.h"

static struct e1000e nic;

static int fail(const char *what, long error)
{
    printf("e1000e: %s: %s (%s)\n", what, wd_error_name(error), wd_error_text(error));
    return 1;
}

static void drop_caps(struct wd_msg *msg)
{
    for (unsigned i = 0; i < wd_msg_ncaps(msg->info) && i < WD_MSG_CAPS; i++)
        wd_cap_delete(msg->caps[i]);
}

static void reply_error(struct wd_msg *msg, uint32_t op, long error)
{
    msg->w[0] = (uint64_t)error;
    msg->info = wd_msg_info(op, 1, 0);
}

static void handle_call(struct e1000e *e, struct wd_msg *msg)
{
    uint32_t op = wd_msg_label(msg->info);
    if (msg->badge != E1000E_CLIENT_BADGE) {
        drop_caps(msg);
        reply_error(msg, op, -WD_E_NO_RIGHTS);
        return;
    }
    if (op == WD_SESSION_OPEN) {
        struct wd_session *s;
        long r = wd_driver_check(&e->driver);
        if (r == 0)
            r = e1000e_datapath_may_open(e, msg->w[1]);
        if (r < 0) {
            drop_caps(msg);
            reply_error(msg, op, r);
        } else if (wd_session_accept(&e->sessions, msg, &s) >= 0) {
            e1000e_datapath_opened(e, s);
        }
        return;
    }
    if (op == WD_SESSION_CLOSE) {
        wd_session_close_request(&e->sessions, msg);
        return;
    }
    drop_caps(msg);
    switch (op) {
    case NET_OP_INFO: {
        uint64_t mac = 0;
        for (unsigned i = 0; i < 6; i++)
            mac |= (uint64_t)e->mac[i] << (8 * i);
        e1000e_link_changed(e);
        msg->w[0] = 0;
        msg->w[1] = mac;
        msg->w[2] = e->link_up;
        msg->w[3] = NET_FRAME_MAX;
        msg->w[4] = e->irq_mode;
        msg->info = wd_msg_info(op, 5, 0);
        return;
    }
    case NET_OP_STATS:
        e1000e_read_stats(e);
        msg->w[0] = 0;
        msg->w[1] = e->sent;
        msg->w[2] = e->received;
        msg->w[3] = e->rx_dropped + e->bad_frames;
        msg->w[4] = e->tx_failed;
        msg->w[5] = e->interrupts;
        msg->info = wd_msg_info(op, 6, 0);
        return;
    case NET_OP_RX_POOL:
        e1000e_rx_pool_request(e, msg);
        return;
    default:
        reply_error(msg, op, -WD_E_NOT_SUPPORTED);
    }
}

static int serve(struct e1000e *e)
{
    struct wd_msg msg;
    long r = wd_recv(e->endpoint, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0)
            return fail("receiving on its endpoint failed; stopping", r);
        uint64_t vector = msg.badge - E1000E_IRQ_BADGE;
        if (msg.badge == E1000E_FAULT_BADGE) {
            struct wd_dma_fault fault;
            if (wd_dma_fault_decode(&msg, &fault) == 0)
                wd_dma_fault_print("e1000e", &fault);
        } else if (vector < E1000E_VECTORS && wd_msg_label(msg.info) == WD_LABEL_IRQ) {
            e->interrupts++;
            e1000e_datapath_interrupt(e, e1000e_interrupt_causes(e, (unsigned)vector));
            e1000e_interrupt_ack(e, (unsigned)vector);
        } else if (msg.badge == E1000E_NOTIFY_BADGE && wd_msg_label(msg.info) == WD_LABEL_NOTIFY) {
            e1000e_datapath_notified(e, msg.w[1]);
        } else {
            handle_call(e, &msg);
            wd_sessions_send_owed(&e->sessions);
            r = wd_reply_recv(e->endpoint, &msg, WD_FOREVER);
            continue;
        }
        r = wd_sessions_signal_recv(&e->sessions, e->endpoint, &msg, WD_FOREVER);
    }
}

int main(int argc, char **argv)
{
    const struct wd_start_info *info = wd_start_info;
    const char *name = NET_SERVICE_NAME;
    struct e1000e *e = &nic;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "intx") == 0)
            e->force_intx = true;
        else if (strcmp(argv[i], "msi") == 0)
            e->force_msi = true;
        else if (strncmp(argv[i], "throttle-us=", 12) == 0)
            e->throttle_us = (uint32_t)strtoul(argv[i] + 12, NULL, 10);
        else
            name = argv[i];
    }
    if (info->cap_count < 1 || !info->caps[0]) {
        printf("e1000e: started without a device capability in caps[0]\n");
        return 1;
    }
    long r = wd_driver_init(&e->driver, info->caps[0], info->pool);
    if (r == -WD_E_NO_IOMMU) {
        printf("e1000e: no IOMMU translates this NIC: refusing to let it DMA without isolation\n");
        return 1;
    }
    if (r < 0)
        return fail("cannot give the device a DMA space (dmaspace_create + dma_attach)", r);
    const struct wd_device_info *dev = &e->driver.info;
    unsigned bus = WD_PCI_BUS(dev->address), slot = WD_PCI_DEV(dev->address), fn = WD_PCI_FN(dev->address);
    if (dev->vendor_id != E1000E_VENDOR || dev->device_id != E1000E_DEVICE) {
        printf("e1000e: caps[0] is %02x:%02x.%x, %04x:%04x, not an 82574L\n", bus, slot, fn, dev->vendor_id,
               dev->device_id);
        return 1;
    }
    r = wd_driver_endpoint(&e->driver, E1000E_FAULT_BADGE, &e->endpoint);
    if (r < 0)
        return fail("cannot create its endpoint (with the device's DMA faults bound to it)", r);
    r = wd_sessions_init(&e->sessions, &e->driver, e->endpoint, E1000E_NOTIFY_BADGE);
    if (r < 0)
        return fail("cannot set up the data path's notification", r);
    e->sessions.defer_signals = true;  /* the loop signals and receives in one call */
    if (e1000e_bring_up(e) < 0)
        return 1;
    if (wd_driver_register("e1000e", e->endpoint, E1000E_CLIENT_BADGE, name) < 0)
        return 1;
    printf("e1000e: %02x:%02x.%x ready: MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s, %u RX and %u TX descriptors, "
           "%u receive buffers, interrupts: %s; registered as \"%s\"\n",
           bus, slot, fn, e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5],
           e->link_up ? "up" : "down", E1000E_RING, E1000E_RING, E1000E_RX_BUFFERS,
           wd_driver_irq_mode_name(e->irq_mode), name);
    return serve(e);
}
