/*
 * t_net_nic.c - the e1000e tests' side of the wire (t_net.h): bringing
 * the driver up with a receiving session, test frames built in the
 * client's region, and checking what the host peer mirrored back.
 */
#include <stdio.h>
#include <string.h>

#include "boot_tests.h"
#include "t_net.h"

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

bool net_present(struct wd_device_info *info)
{
    /* Only the harness's peer configurations have someone on the wire
     * (others have an e1000e for the MSI-X tests, on a network that answers nothing). */
    if (!strstr(wd_start_info->cmdline, "netpeer=host")) {
        BT_SKIP("no host peer (the net configuration has one: netpeer=host)");
        return false;
    }
    return dma_test_device(NET_VENDOR, NET_DEVICE, "e1000e", info);
}

long nic_call(wd_handle_t service, uint32_t op, struct wd_msg *m)
{
    *m = (struct wd_msg){ .info = wd_msg_info(op, 0, 0) };
    long r = wd_call(service, m, NIC_TIMEOUT);
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
bool nic_up(struct nic *n, wd_handle_t device, const char *args)
{
    memset(n, 0, sizeof *n);
    n->device = device;
    if (!driver_start(&n->drv, "e1000e", device, args))
        return false;
    struct wd_msg m;
    if (BT_OK(nic_call(n->drv.client, NET_OP_INFO, &m)) < 0)
        return false;
    for (unsigned i = 0; i < 6; i++)
        n->mac[i] = (uint8_t)(m.w[1] >> (8 * i));
    BT_CHECK_EQ(m.w[2], 1);                     /* QEMU's link is up from reset */
    BT_CHECK_EQ(m.w[3], NET_FRAME_MAX);
    uint64_t receive = NET_SESSION_RECEIVE;
    if (BT_OK(wd_client_open(&n->s, n->drv.client, bt_pool(), NIC_REGION, WD_RIGHT_READ, NIC_CAPACITY, &receive, 1,
                             NIC_TIMEOUT)) < 0)
        return false;
    if (BT_OK(nic_call(n->drv.client, NET_OP_RX_POOL, &m)) < 0)
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

void nic_down(struct nic *n, bool close)
{
    if (n->pool) {
        wd_vm_unmap(WD_NULL, POOL_VA, n->pool_size);
        wd_cap_delete(n->pool);
    }
    if (close)
        wd_client_close(&n->s, NIC_TIMEOUT);
    if (n->drv.process)                 /* WD_NULL would be this process */
        wd_process_kill(n->drv.process, 0);
}

/* Test frame seq, length bytes, at offset in the region. */
void build_frame(struct nic *n, uint64_t offset, uint32_t seq, unsigned length)
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


/* Sends count frames of random sizes (60..1514) with up to TX_IN_FLIGHT
 * on the ring and at most WINDOW not back yet, and takes the mirrored
 * ones as they come (handing each buffer back and posting a new receive),
 * until all came back or wait_ns passed without progress. Stops early
 * (DEAD) if the driver goes away. */
long stream(struct nic *n, unsigned count, uint32_t seed, uint64_t wait_ns, struct stream *st)
{
    memset(st, 0, sizeof *st);
    uint32_t rng = seed;
    unsigned in_flight = 0;
    /* Until every frame came back and every send completed: a send's
     * completion left for the next call would free a slot early there, and
     * a frame being sent would be overwritten by the next one. */
    while (st->received < count || st->tx_done < st->sent) {
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
