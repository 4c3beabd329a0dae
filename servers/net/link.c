/*
 * link.c - the network service's link: a receiving session with the
 * e1000e driver's frame service (drivers/e1000e/e1000e_protocol.h).
 * Frames to send are built in this service's own region (the lease lets
 * the device read it: 256 buffers of 2 KiB), received frames are read
 * in the driver's receive buffers through a read-only mapping and handed
 * back (the driver is kicked for them with the next send, or when 32 have
 * gathered). When the driver dies the session ends (DEAD); the service
 * drops what was in flight (counted), looks the name up every 10 ms until
 * a newer incarnation registers, and opens the link again: a rebind.
 */
#include <stdio.h>
#include <string.h>
#include <warden/session.h>
#include <warden/syscalls.h>

#include "../../drivers/e1000e/e1000e_protocol.h"
#include "net.h"

#define ID_RX (1ull << 32)
#define ID_TX (2ull << 32)
#define ID_RETURN (3ull << 32)
#define ID_KIND(id) ((id) & ~0xFFFFFFFFull)
#define CALL_TIMEOUT (2000 * NET_MS)
#define NET_TX_LOW 32u                  /* free frame buffers below which link_frame looks for completions */
#define LAZY_RETURNS 32u                /* buffers handed back before the driver is kicked for them alone */

void link_init(struct net *n, const char *eth_name)
{
    snprintf(n->eth_name, sizeof n->eth_name, "%s", eth_name);
}

static long frame_service_call(struct net *n, uint32_t op, struct wd_msg *m)
{
    *m = (struct wd_msg){ .info = wd_msg_info(op, 0, 0) };
    long r = wd_call(n->eth, m, CALL_TIMEOUT);
    return r < 0 ? r : (long)m->w[0];
}

static void post_receives(struct net *n)
{
    while (n->rx_posted < NET_RX_POSTED) {
        struct wd_ring_desc d = { .op = NET_RX, .id = ID_RX };
        if (wd_client_submit(&n->link, &d) < 0)
            return;
        n->rx_posted++;
    }
}

/* Everything of the link, after the driver died or a failed open. */
static void link_close(struct net *n)
{
    if (n->rx_cpu) {
        wd_region_unmap(n->rx_cpu, n->rx_pool_size);
        n->rx_cpu = NULL;
    }
    if (n->rx_pool)
        wd_cap_delete(n->rx_pool);
    n->rx_pool = WD_NULL;
    if (n->link.region.frame)
        wd_client_close(&n->link, 10 * NET_MS);     /* the dead driver cannot answer: frees ours */
    if (n->eth)
        wd_cap_delete(n->eth);
    n->eth = WD_NULL;
    n->link_up = false;
    n->rx_posted = 0;
    n->frames_unsent = n->returns_unsent = 0;
}

static long link_open(struct net *n)
{
    uint64_t receive = NET_SESSION_RECEIVE;
    long r = wd_client_open(&n->link, n->eth, n->service.pool, NET_TX_BUFFERS * NET_TX_BUFFER_BYTES, WD_RIGHT_READ,
                            NET_LINK_CAPACITY, &receive, 1, CALL_TIMEOUT);
    if (r < 0)
        return r;
    r = wd_client_bind(&n->link, n->endpoint, NET_LINK_BADGE);
    struct wd_msg m;
    if (r == 0)
        r = frame_service_call(n, NET_OP_INFO, &m);
    if (r < 0)
        return r;
    for (unsigned i = 0; i < 6; i++)
        n->mac[i] = (uint8_t)(m.w[1] >> (8 * i));
    r = frame_service_call(n, NET_OP_RX_POOL, &m);
    if (r < 0)
        return r;
    if (wd_msg_ncaps(m.info) != 1 || m.w[2] != NET_RX_BUFFER_BYTES)
        return -WD_E_PROTOCOL;
    n->rx_pool = m.caps[0];
    n->rx_pool_size = m.w[1];
    n->rx_cpu = wd_region_map(n->rx_pool, n->rx_pool_size, false, &r);
    if (!n->rx_cpu)
        return r;
    n->tx_free_count = 0;
    for (unsigned i = NET_TX_BUFFERS; i-- > 0;)
        n->tx_free[n->tx_free_count++] = (uint16_t)i;
    post_receives(n);
    n->frames_unsent = n->returns_unsent = 0;
    return wd_client_kick(&n->link);
}

bool link_try_open(struct net *n)
{
    if (n->link_up)
        return true;
    if (n->now_ns < n->link_retry_ns)
        return false;
    n->link_retry_ns = n->now_ns + NET_LINK_RETRY_MS * NET_MS;
    wd_handle_t eth;
    uint64_t generation;
    if (wd_name_lookup_generation(wd_start_info->registry, n->eth_name, &eth, &generation) < 0)
        return false;
    if (generation <= n->eth_generation) {
        wd_cap_delete(eth);                 /* still the dead driver's entry */
        return false;
    }
    n->eth = eth;
    long r = link_open(n);
    if (r < 0) {
        printf("net: cannot open the link with \"%s\": %s (%s); trying again\n", n->eth_name, wd_error_name(r),
               wd_error_text(r));
        link_close(n);
        return false;
    }
    n->eth_generation = generation;
    n->link_up = true;
    printf("net: link up through \"%s\" (MAC %02x:%02x:%02x:%02x:%02x:%02x)%s\n", n->eth_name, n->mac[0], n->mac[1],
           n->mac[2], n->mac[3], n->mac[4], n->mac[5],
           n->counters[NC_link_opens]++ ? ": rebound after the driver's restart" : "");
    if (n->config != NETSVC_CONFIG_NONE)
        arp_announce(n);
    link_flush(n);
    return true;
}

static void link_lost(struct net *n)
{
    NET_COUNT(n, link_lost);
    printf("net: the frame service \"%s\" died; waiting for its restart\n", n->eth_name);
    link_close(n);
    n->link_retry_ns = 0;
}

static void completed(struct net *n, const struct wd_ring_desc *c)
{
    switch (ID_KIND(c->id)) {
    case ID_RX:
        n->rx_posted--;
        if (c->status == 0 && c->arg < n->rx_pool_size && c->length <= NET_RX_BUFFER_BYTES &&
            c->arg + c->length <= n->rx_pool_size) {
            n->counters[NC_frames_in]++;
            eth_input(n, n->rx_cpu + c->arg, c->length);
            struct wd_ring_desc ret = { .op = NET_RX_RETURN, .arg = c->arg, .id = ID_RETURN };
            if (wd_client_submit(&n->link, &ret) == 0)
                n->returns_unsent++;
        }
        break;
    case ID_TX:
        if (c->status)
            NET_COUNT(n, tx_failed);
        if ((c->id & 0xFFFF) < NET_TX_BUFFERS)
            n->tx_free[n->tx_free_count++] = (uint16_t)(c->id & 0xFFFF);
        break;
    default:
        break;                              /* a buffer handed back */
    }
}

void link_notified(struct net *n, uint64_t bits)
{
    if (!n->link_up)
        return;
    wd_client_notified(&n->link, bits);
    struct wd_ring_desc c;
    long r;
    n->in_link_poll = true;
    while ((r = wd_client_poll(&n->link, &c)) == 0)
        completed(n, &c);
    n->in_link_poll = false;
    if (r == -WD_E_DEAD || r == -WD_E_PROTOCOL) {
        link_lost(n);
        return;
    }
    post_receives(n);
    /* Buffers handed back and receives posted go with the next send, or
     * once LAZY_RETURNS have gathered: a kick costs the driver a wake-up. */
    if (n->frames_unsent || n->returns_unsent >= LAZY_RETURNS)
        link_flush(n);
}

uint8_t *link_frame(struct net *n, unsigned *buffer)
{
    if (!n->link_up) {
        NET_COUNT(n, tx_link_down);
        return NULL;
    }
    if (n->tx_free_count < NET_TX_LOW && !n->in_link_poll) {
        link_notified(n, 0);                /* the sends' quiet completions give buffers back */
        if (!n->link_up) {
            NET_COUNT(n, tx_link_down);     /* it found the driver dead */
            return NULL;
        }
    }
    if (!n->tx_free_count) {
        NET_COUNT(n, tx_no_buffer);
        return NULL;
    }
    *buffer = n->tx_free[--n->tx_free_count];
    return (uint8_t *)n->link.region.cpu + (uint64_t)*buffer * NET_TX_BUFFER_BYTES;
}

void link_discard(struct net *n, unsigned buffer)
{
    n->tx_free[n->tx_free_count++] = (uint16_t)buffer;
}

void link_send(struct net *n, unsigned buffer, const uint8_t dst[6], uint16_t type, unsigned length)
{
    uint8_t *f = (uint8_t *)n->link.region.cpu + (uint64_t)buffer * NET_TX_BUFFER_BYTES;
    memcpy(f, dst, 6);
    memcpy(f + 6, n->mac, 6);
    net_put16(f + 12, type);
    if (length < 60) {
        memset(f + length, 0, 60 - length); /* the minimum Ethernet frame, padded with zeros */
        length = 60;
    }
    /* Quiet: the driver does not wake us for this completion; we see it with
     * the next received frame, or when buffers run low (link_frame). */
    struct wd_ring_desc d = {
        .op = NET_TX, .offset = (uint64_t)buffer * NET_TX_BUFFER_BYTES, .length = length, .id = ID_TX | buffer,
        .arg = NET_TX_QUIET,
    };
    if (wd_client_submit(&n->link, &d) < 0) {
        link_discard(n, buffer);
        NET_COUNT(n, tx_no_buffer);
        return;
    }
    NET_COUNT(n, frames_out);
    n->frames_unsent++;
}

void link_flush(struct net *n)
{
    if (!n->link_up || (!n->frames_unsent && !n->returns_unsent))
        return;
    if (wd_client_kick(&n->link) < 0)
        NET_COUNT(n, tx_failed);
    n->frames_unsent = n->returns_unsent = 0;
}
