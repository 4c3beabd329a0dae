/*
 * t_net.c - the e1000e driver and its frame service (drivers/e1000e,
 * e1000e_protocol.h) against a real peer on the host: in the harness's
 * `net` configuration the NIC is on -netdev dgram to tests/netpeer/,
 * which checks each test frame's pattern and mirrors it (MACs swapped).
 * Frames go out straight from the client's region and come back in the
 * driver's receive buffers, which the client maps read-only. Also every
 * refused request, and the driver killed while frames flow: the kernel
 * revokes the NIC (its MSI-X vectors masked, not disabled: QEMU 7.2 would
 * abort, facts sheet §0.5), and a new driver serves again.
 */
#include <stdio.h>
#include <string.h>

#include "boot_tests.h"
#include "t_net.h"

#define MIRRORED 1200u

/* 1,200 frames of random sizes out through the NIC to the host peer and
 * back: each comes back once with its pattern intact (the peer checked it
 * on the way out, and the harness requires at least 1,000 good ones). */
void test_net_frames_mirrored(void)
{
    struct wd_device_info info;
    if (!net_present(&info))
        return;
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    struct nic n;
    if (device < 0 || !nic_up(&n, (wd_handle_t)device, ""))
        return;
    struct stream st;
    BT_CHECK_EQ(stream(&n, MIRRORED, 0x5EED, NIC_TIMEOUT, &st), 0);
    printf("# %u frames sent, %u came back intact, %u bad, %u sends failed\n", st.sent, st.received, st.bad,
           st.lost_sends);
    BT_CHECK_EQ(st.received, MIRRORED);
    BT_CHECK_EQ(st.bad, 0);
    BT_CHECK_EQ(st.lost_sends, 0);
    struct wd_msg m;
    BT_OK(nic_call(n.drv.client, NET_OP_STATS, &m));
    BT_CHECK(m.w[1] >= MIRRORED);               /* sent */
    BT_CHECK(m.w[2] >= MIRRORED);               /* received */
    nic_down(&n, true);
    wd_cap_delete((wd_handle_t)device);
}

static long one(struct wd_client_session *s, uint16_t op, uint64_t offset, uint64_t length, uint64_t arg)
{
    struct wd_ring_desc d = { .op = op, .offset = offset, .length = (uint32_t)length, .arg = arg, .id = 77 }, c;
    long r = wd_client_submit(s, &d);
    if (r == 0)
        r = wd_client_kick(s);
    if (r == 0)
        r = wd_client_wait(s, &c, NIC_TIMEOUT);
    return r < 0 ? r : -(long)c.status;
}

/* Every request the frame service must refuse, and nothing sent for it. */
void test_net_hostile_requests(void)
{
    struct wd_device_info info;
    if (!net_present(&info))
        return;
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    struct edu_driver drv;
    if (device < 0 || !driver_start(&drv, "e1000e", (wd_handle_t)device, ""))
        return;
    struct wd_client_session s, t, other;
    uint64_t receive = NET_SESSION_RECEIVE;
    if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), NIC_REGION, WD_RIGHT_READ, NIC_CAPACITY, NULL, 0, NIC_TIMEOUT)) < 0)
        return;
    struct wd_msg m;
    BT_OK(nic_call(drv.client, NET_OP_STATS, &m));
    uint64_t sent = m.w[1];
    BT_CHECK_EQ(one(&s, NET_TX, 0, NET_FRAME_MIN - 1, 0), -WD_E_INVALID_ARG);     /* a runt */
    BT_CHECK_EQ(one(&s, NET_TX, 0, NET_FRAME_MAX + 1, 0), -WD_E_INVALID_ARG);     /* oversized */
    BT_CHECK_EQ(one(&s, NET_TX, NIC_REGION - 100, 200, 0), -WD_E_RANGE);              /* leaves the region */
    BT_CHECK_EQ(one(&s, NET_RX, 0, 0, 0), -WD_E_NOT_SUPPORTED);                  /* not the receiver */
    BT_CHECK_EQ(one(&s, NET_RX_RETURN, 0, 0, 0), -WD_E_INVALID_ARG);             /* nothing lent */
    BT_CHECK_EQ(one(&s, 99, 0, 0, 0), -WD_E_NOT_SUPPORTED);
    /* A lease the device may not read: nothing can be sent from it. */
    if (BT_OK(wd_client_open(&t, drv.client, bt_pool(), NIC_REGION, WD_RIGHT_WRITE, NIC_CAPACITY, &receive, 1, NIC_TIMEOUT)) ==
        0) {
        BT_CHECK_EQ(one(&t, NET_TX, 0, 100, 0), -WD_E_NO_RIGHTS);
        BT_CHECK_EQ(one(&t, NET_RX_RETURN, 4096, 0, 4096), -WD_E_INVALID_ARG);  /* not lent to it */
        BT_CHECK_EQ(one(&t, NET_RX_RETURN, 0, 0, 5), -WD_E_INVALID_ARG);        /* not a buffer's start */
        /* One session receives at a time. */
        BT_CHECK_EQ(wd_client_open(&other, drv.client, bt_pool(), NIC_REGION, WD_RIGHT_READ, NIC_CAPACITY, &receive, 1,
                                   NIC_TIMEOUT),
                    -WD_E_BUSY);
        BT_CHECK_EQ(wd_client_close(&t, NIC_TIMEOUT), 0);
    }
    BT_OK(nic_call(drv.client, NET_OP_STATS, &m));
    BT_CHECK_EQ(m.w[1], sent);                  /* nothing went out */
    BT_CHECK_EQ(nic_call(drv.client, 77, &m), -WD_E_NOT_SUPPORTED);
    BT_CHECK_EQ(wd_client_close(&s, NIC_TIMEOUT), 0);
    wd_process_kill(drv.process, 0);
    wd_cap_delete((wd_handle_t)device);
}

/* The driver is killed while frames flow both ways. The kernel revokes
 * the NIC (bus mastering off, its MSI-X vectors masked: with MSI-X Enable
 * cleared inside the throttle window QEMU 7.2 aborts, and this run would
 * end here), the device is released, and a new driver brings it up again
 * from whatever the dead one left and serves: the stream is intact again. */
void test_net_killed_under_traffic(void)
{
    struct wd_device_info info;
    if (!net_present(&info))
        return;
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    struct nic n;
    /* A 10 ms throttle window: the kill surely lands inside one. */
    if (device < 0 || !nic_up(&n, (wd_handle_t)device, "throttle-us=10000"))
        return;
    struct wd_irq_stats irqs;
    BT_OK(wd_irq_stats(&irqs));
    uint64_t live = irqs.live_irqs - 3;         /* the driver's three MSI-X sources */
    struct stream st;
    BT_CHECK_EQ(stream(&n, 300, 1, NIC_TIMEOUT, &st), 0);
    /* Frames in flight both ways; the kill comes right after a receive
     * completed, so inside the throttle window of the RX vector's last
     * interrupt (where clearing MSI-X Enable aborts QEMU 7.2). */
    for (unsigned k = 0; k < TX_IN_FLIGHT; k++) {
        build_frame(&n, k * TX_SLOT, 4000 + k, 1000);
        struct wd_ring_desc d = { .op = NET_TX, .offset = k * TX_SLOT, .length = 1000, .id = 4000 + k };
        BT_OK(wd_client_submit(&n.s, &d));
    }
    BT_OK(wd_client_kick(&n.s));
    struct wd_ring_desc c;
    long r;
    while ((r = wd_client_wait(&n.s, &c, NIC_TIMEOUT)) == 0 && c.op != NET_RX)
        ;
    BT_CHECK_EQ(r, 0);
    BT_OK(wd_process_kill(n.drv.process, 0));
    struct wd_msg m;
    BT_CHECK_EQ(bt_wait_kernel_message(n.drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, NIC_TIMEOUT), 0);
    device_expect_released((wd_handle_t)device, live);
    /* Past the 10 ms window before a new owner enables MSI-X again: had the
     * revocation cleared Enable, QEMU's throttle timer would abort it now. */
    wd_thread_sleep(30 * BT_MS);
    while ((r = wd_client_wait(&n.s, &c, NIC_TIMEOUT)) == 0)
        ;                               /* what the dead driver published comes first */
    BT_CHECK_EQ(r, -WD_E_DEAD);
    nic_down(&n, false);
    struct nic again;
    if (nic_up(&again, (wd_handle_t)device, "")) {
        BT_CHECK_EQ(stream(&again, 300, 2, NIC_TIMEOUT, &st), 0);
        BT_CHECK_EQ(st.received, 300);
        BT_CHECK_EQ(st.bad, 0);
        nic_down(&again, true);
    }
    wd_cap_delete((wd_handle_t)device);
}

/* The fallbacks: the driver on MSI, then on the INTx pin (as where MSI-X
 * cannot work), right after owners that used MSI-X (the kernel leaves a
 * revoked function's MSI-X enabled and masked, and turns it off when a
 * source of another kind is made): frames flow the same, and the driver
 * says which mode it runs in. */
void test_net_interrupt_fallbacks(void)
{
    struct wd_device_info info;
    if (!net_present(&info))
        return;
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    if (device < 0)
        return;
    static const struct {
        const char *args;
        uint64_t mode;
    } modes[] = { { "msi", 1 }, { "intx", 2 }, { "", 3 } };
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        struct nic n;
        if (!nic_up(&n, (wd_handle_t)device, modes[i].args))
            break;
        struct wd_msg m;
        BT_OK(nic_call(n.drv.client, NET_OP_INFO, &m));
        BT_CHECK_EQ(m.w[4], modes[i].mode);
        struct stream st;
        BT_CHECK_EQ(stream(&n, 200, 10 + i, NIC_TIMEOUT, &st), 0);
        BT_CHECK_EQ(st.received, 200);
        BT_CHECK_EQ(st.bad, 0);
        BT_OK(nic_call(n.drv.client, NET_OP_STATS, &m));
        BT_CHECK(m.w[5] > 0);                   /* it ran on interrupts */
        printf("# %s: 200 frames mirrored, %llu interrupts\n", *modes[i].args ? modes[i].args : "msi-x",
               (unsigned long long)m.w[5]);
        nic_down(&n, true);
        struct wd_msg exit_msg;
        BT_CHECK_EQ(bt_wait_kernel_message(n.drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &exit_msg, NIC_TIMEOUT), 0);
        wd_cap_delete(n.drv.client);            /* the dead driver's process and pool go now */
        wd_cap_delete(n.drv.process);
        wd_cap_delete(n.drv.fault_ep);
    }
    wd_cap_delete((wd_handle_t)device);
}
