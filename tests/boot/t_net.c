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
#include <warden/region.h>

#include "boot_tests.h"
#include "t_dma.h"
#include "../../drivers/e1000e/e1000e_protocol.h"

#define NET_VENDOR 0x8086
#define NET_DEVICE 0x10d3
#define POOL_VA 0x730000000000ull
#define REGION (1ull << 20)
#define CAPACITY 128u                 /* receives posted + sends + buffers being handed back */
#define RX_POSTED 32u
#define TX_IN_FLIGHT 16u
#define WINDOW 24u                      /* frames sent and not back yet: fewer than the receives posted */
#define TIMEOUT (10000 * BT_MS)
#define ETHERTYPE_TEST 0x88B5
#define HEADER 24u
#define TX_SLOT 2048u                   /* region bytes per frame being sent */

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

struct nic {
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint8_t mac[6];
    wd_handle_t pool;                   /* the receive buffers, READ */
    uint64_t pool_size;
    unsigned rx_posted;
    uint64_t next_rx_id;
};

static bool net_present(struct wd_device_info *info)
{
    /* Only the harness's peer configurations have someone on the wire
     * (others have an e1000e for the MSI-X tests, on a network that answers nothing). */
    if (!strstr(wd_start_info->cmdline, "netpeer=host")) {
        BT_SKIP("no host peer (the net configuration has one: netpeer=host)");
        return false;
    }
    return dma_test_device(NET_VENDOR, NET_DEVICE, "e1000e", info);
}

static long call(wd_handle_t service, uint32_t op, struct wd_msg *m)
{
    *m = (struct wd_msg){ .info = wd_msg_info(op, 0, 0) };
    long r = wd_call(service, m, TIMEOUT);
    return r < 0 ? r : (long)m->w[0];
}

static bool post_rx(struct nic *n)
{
    struct wd_ring_desc d = { .op = NET_RX, .id = 1000000 + n->next_rx_id++ };
    if (BT_OK(wd_client_submit(&n->s, &d)) < 0)
        return false;
    n->rx_posted++;
    return true;
}

/* Starts the driver (args), opens a receiving session, maps the receive buffers, posts receives. */
static bool nic_up(struct nic *n, wd_handle_t device, const char *args)
{
    memset(n, 0, sizeof *n);
    n->device = device;
    if (!driver_start(&n->drv, "e1000e", device, args))
        return false;
    struct wd_msg m;
    if (BT_OK(call(n->drv.client, NET_OP_INFO, &m)) < 0)
        return false;
    for (unsigned i = 0; i < 6; i++)
        n->mac[i] = (uint8_t)(m.w[1] >> (8 * i));
    BT_CHECK_EQ(m.w[2], 1);                     /* QEMU's link is up from reset */
    BT_CHECK_EQ(m.w[3], NET_FRAME_MAX);
    uint64_t receive = NET_SESSION_RECEIVE;
    if (BT_OK(wd_client_open(&n->s, n->drv.client, bt_pool(), REGION, WD_RIGHT_READ, CAPACITY, &receive, 1,
                             TIMEOUT)) < 0)
        return false;
    if (BT_OK(call(n->drv.client, NET_OP_RX_POOL, &m)) < 0)
        return false;
    BT_CHECK_EQ(wd_msg_ncaps(m.info), 1);
    if (wd_msg_ncaps(m.info) != 1)
        return false;
    n->pool = m.caps[0];
    n->pool_size = m.w[1];
    BT_CHECK_EQ(m.w[2], NET_RX_BUFFER_BYTES);
    /* Read-only for the client: a writable mapping is refused. */
    BT_CHECK(wd_vm_map(WD_NULL, n->pool, 0, POOL_VA, n->pool_size, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0);
    if (BT_OK(wd_vm_map(WD_NULL, n->pool, 0, POOL_VA, n->pool_size, WD_RIGHT_READ)) < 0)
        return false;
    for (unsigned i = 0; i < RX_POSTED; i++)
        if (!post_rx(n))
            return false;
    return BT_OK(wd_client_kick(&n->s)) == 0;
}

static void nic_down(struct nic *n, bool close)
{
    if (n->pool) {
        wd_vm_unmap(WD_NULL, POOL_VA, n->pool_size);
        wd_cap_delete(n->pool);
    }
    if (close)
        wd_client_close(&n->s, TIMEOUT);
    wd_process_kill(n->drv.process, 0);
}

/* Test frame seq, length bytes, at offset in the region. */
static void build_frame(struct nic *n, uint64_t offset, uint32_t seq, unsigned length)
{
    uint8_t *f = (uint8_t *)n->s.region.cpu + offset;
    memcpy(f, peer_mac, 6);
    memcpy(f + 6, n->mac, 6);
    f[12] = ETHERTYPE_TEST >> 8;
    f[13] = ETHERTYPE_TEST & 0xFF;
    memcpy(f + 14, "WRDN", 4);
    memcpy(f + 18, &seq, 4);
    uint16_t len = (uint16_t)length;
    memcpy(f + 22, &len, 2);
    for (unsigned k = 0; k < length - HEADER; k++)
        f[HEADER + k] = (uint8_t)(seq * 7 + k);
}

/* The mirrored frame at offset of the receive buffers, length bytes: its
 * sequence number, or -1 if it is not one of ours intact. */
static long check_mirrored(struct nic *n, uint64_t offset, unsigned length)
{
    if (offset > n->pool_size - NET_RX_BUFFER_BYTES || length < HEADER)
        return -1;
    const uint8_t *f = (const uint8_t *)(POOL_VA + offset);
    uint32_t seq;
    uint16_t len;
    memcpy(&seq, f + 18, 4);
    memcpy(&len, f + 22, 2);
    if (memcmp(f, n->mac, 6) != 0 || memcmp(f + 6, peer_mac, 6) != 0 || f[12] != (ETHERTYPE_TEST >> 8) ||
        memcmp(f + 14, "WRDN", 4) != 0 || len != length)
        return -1;
    for (unsigned k = 0; k < length - HEADER; k++)
        if (f[HEADER + k] != (uint8_t)(seq * 7 + k))
            return -1;
    return seq;
}

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

struct stream {
    unsigned sent, tx_done, received, bad, lost_sends;
    bool seen[4096];
};

/* Sends count frames of random sizes (60..1514) with up to TX_IN_FLIGHT
 * on the ring and at most WINDOW not back yet, and takes the mirrored
 * ones as they come (handing each buffer back and posting a new receive),
 * until all came back or wait_ns passed without progress. Stops early
 * (DEAD) if the driver goes away. */
static long stream(struct nic *n, unsigned count, uint32_t seed, uint64_t wait_ns, struct stream *st)
{
    memset(st, 0, sizeof *st);
    uint32_t rng = seed;
    unsigned in_flight = 0;
    while (st->received < count) {
        while (st->sent < count && in_flight < TX_IN_FLIGHT && st->sent - st->received - st->bad < WINDOW) {
            unsigned length = 60 + lcg(&rng) % (NET_FRAME_MAX - 60 + 1);
            uint64_t offset = (st->sent % TX_IN_FLIGHT) * TX_SLOT;
            build_frame(n, offset, st->sent, length);
            struct wd_ring_desc d = { .op = NET_TX, .offset = offset, .length = length, .id = st->sent };
            long r = wd_client_submit(&n->s, &d);
            if (r < 0)
                return r;
            st->sent++;
            in_flight++;
        }
        wd_client_kick(&n->s);
        struct wd_ring_desc c;
        long r = wd_client_wait(&n->s, &c, wait_ns);
        if (r < 0)
            return r;
        if (c.op == NET_TX) {
            in_flight--;
            st->tx_done++;
            st->lost_sends += c.status != 0;
            continue;
        }
        if (c.op != NET_RX)
            continue;                   /* a buffer handed back */
        n->rx_posted--;
        long seq = c.status ? -1 : check_mirrored(n, c.arg, c.length);
        if (seq < 0 || seq >= (long)count || st->seen[seq]) {
            st->bad++;
        } else {
            st->seen[seq] = true;
            st->received++;
        }
        struct wd_ring_desc back = { .op = NET_RX_RETURN, .arg = c.arg, .id = 2000000 + c.id };
        if (BT_OK(wd_client_submit(&n->s, &back)) < 0 || !post_rx(n))
            return -WD_E_PROTOCOL;
    }
    return 0;
}

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
    BT_CHECK_EQ(stream(&n, MIRRORED, 0x5EED, TIMEOUT, &st), 0);
    printf("# %u frames sent, %u came back intact, %u bad, %u sends failed\n", st.sent, st.received, st.bad,
           st.lost_sends);
    BT_CHECK_EQ(st.received, MIRRORED);
    BT_CHECK_EQ(st.bad, 0);
    BT_CHECK_EQ(st.lost_sends, 0);
    struct wd_msg m;
    BT_OK(call(n.drv.client, NET_OP_STATS, &m));
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
        r = wd_client_wait(s, &c, TIMEOUT);
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
    if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION, WD_RIGHT_READ, CAPACITY, NULL, 0, TIMEOUT)) < 0)
        return;
    struct wd_msg m;
    BT_OK(call(drv.client, NET_OP_STATS, &m));
    uint64_t sent = m.w[1];
    BT_CHECK_EQ(one(&s, NET_TX, 0, NET_FRAME_MIN - 1, 0), -WD_E_INVALID_ARG);     /* a runt */
    BT_CHECK_EQ(one(&s, NET_TX, 0, NET_FRAME_MAX + 1, 0), -WD_E_INVALID_ARG);     /* oversized */
    BT_CHECK_EQ(one(&s, NET_TX, REGION - 100, 200, 0), -WD_E_RANGE);              /* leaves the region */
    BT_CHECK_EQ(one(&s, NET_RX, 0, 0, 0), -WD_E_NOT_SUPPORTED);                  /* not the receiver */
    BT_CHECK_EQ(one(&s, NET_RX_RETURN, 0, 0, 0), -WD_E_INVALID_ARG);             /* nothing lent */
    BT_CHECK_EQ(one(&s, 99, 0, 0, 0), -WD_E_NOT_SUPPORTED);
    /* A lease the device may not read: nothing can be sent from it. */
    if (BT_OK(wd_client_open(&t, drv.client, bt_pool(), REGION, WD_RIGHT_WRITE, CAPACITY, &receive, 1, TIMEOUT)) ==
        0) {
        BT_CHECK_EQ(one(&t, NET_TX, 0, 100, 0), -WD_E_NO_RIGHTS);
        BT_CHECK_EQ(one(&t, NET_RX_RETURN, 4096, 0, 4096), -WD_E_INVALID_ARG);  /* not lent to it */
        BT_CHECK_EQ(one(&t, NET_RX_RETURN, 0, 0, 5), -WD_E_INVALID_ARG);        /* not a buffer's start */
        /* One session receives at a time. */
        BT_CHECK_EQ(wd_client_open(&other, drv.client, bt_pool(), REGION, WD_RIGHT_READ, CAPACITY, &receive, 1,
                                   TIMEOUT),
                    -WD_E_BUSY);
        BT_CHECK_EQ(wd_client_close(&t, TIMEOUT), 0);
    }
    BT_OK(call(drv.client, NET_OP_STATS, &m));
    BT_CHECK_EQ(m.w[1], sent);                  /* nothing went out */
    BT_CHECK_EQ(call(drv.client, 77, &m), -WD_E_NOT_SUPPORTED);
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
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
    BT_CHECK_EQ(stream(&n, 300, 1, TIMEOUT, &st), 0);
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
    while ((r = wd_client_wait(&n.s, &c, TIMEOUT)) == 0 && c.op != NET_RX)
        ;
    BT_CHECK_EQ(r, 0);
    BT_OK(wd_process_kill(n.drv.process, 0));
    struct wd_msg m;
    BT_CHECK_EQ(bt_wait_kernel_message(n.drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, TIMEOUT), 0);
    device_expect_released((wd_handle_t)device, live);
    /* Past the 10 ms window before a new owner enables MSI-X again: had the
     * revocation cleared Enable, QEMU's throttle timer would abort it now. */
    wd_thread_sleep(30 * BT_MS);
    while ((r = wd_client_wait(&n.s, &c, TIMEOUT)) == 0)
        ;                               /* what the dead driver published comes first */
    BT_CHECK_EQ(r, -WD_E_DEAD);
    nic_down(&n, false);
    struct nic again;
    if (nic_up(&again, (wd_handle_t)device, "")) {
        BT_CHECK_EQ(stream(&again, 300, 2, TIMEOUT, &st), 0);
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
        BT_OK(call(n.drv.client, NET_OP_INFO, &m));
        BT_CHECK_EQ(m.w[4], modes[i].mode);
        struct stream st;
        BT_CHECK_EQ(stream(&n, 200, 10 + i, TIMEOUT, &st), 0);
        BT_CHECK_EQ(st.received, 200);
        BT_CHECK_EQ(st.bad, 0);
        BT_OK(call(n.drv.client, NET_OP_STATS, &m));
        BT_CHECK(m.w[5] > 0);                   /* it ran on interrupts */
        printf("# %s: 200 frames mirrored, %llu interrupts\n", *modes[i].args ? modes[i].args : "msi-x",
               (unsigned long long)m.w[5]);
        nic_down(&n, true);
        struct wd_msg exit_msg;
        BT_CHECK_EQ(bt_wait_kernel_message(n.drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &exit_msg, TIMEOUT), 0);
        wd_cap_delete(n.drv.client);            /* the dead driver's process and pool go now */
        wd_cap_delete(n.drv.process);
        wd_cap_delete(n.drv.fault_ep);
    }
    wd_cap_delete((wd_handle_t)device);
}
