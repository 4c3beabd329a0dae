/*
 * dhcp.c - the DHCP client (RFC 2131: DISCOVER, OFFER, REQUEST, ACK, with
 * a renewal at half the lease) that gets the address from QEMU's user
 * network (slirp leases 10.0.2.15 from 10.0.2.2), and the static fallback
 * (10.0.2.15/24, gateway 10.0.2.2, or what ip= and gw= say) when no lease
 * comes within dhcp-timeout-ms (4 s by default). Messages go as
 * broadcasts from 0.0.0.0 until an address is set; a reply is believed
 * only with our transaction id, our MAC and the message type we wait for.
 */
#include <stdio.h>
#include <string.h>

#include "net.h"

#define BOOTP_FIXED 236u
#define DHCP_MAGIC 0x63825363u
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_RETRY_MS 1000u
#define OPT_MASK 1
#define OPT_ROUTER 3
#define OPT_DNS 6
#define OPT_REQUESTED_IP 50
#define OPT_LEASE 51
#define OPT_TYPE 53
#define OPT_SERVER 54
#define OPT_PARAMS 55
#define OPT_END 255
#define DHCPDISCOVER 1
#define DHCPOFFER 2
#define DHCPREQUEST 3
#define DHCPACK 5
#define DHCPNAK 6

enum { DHCP_DISCOVERING = 1, DHCP_REQUESTING, DHCP_BOUND, DHCP_RENEWING };

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void send_message(struct net *n, uint8_t type)
{
    uint8_t m[BOOTP_FIXED + 4 + 32];
    memset(m, 0, sizeof m);
    m[0] = 1;                               /* BOOTREQUEST */
    m[1] = 1;
    m[2] = 6;
    net_put32(m + 4, n->dhcp.xid);
    net_put16(m + 10, 0x8000);              /* answer by broadcast: we have no address yet */
    if (n->dhcp.state == DHCP_RENEWING)
        net_put32(m + 12, n->ip);
    memcpy(m + 28, n->mac, 6);
    uint8_t *o = m + BOOTP_FIXED;
    net_put32(o, DHCP_MAGIC);
    o += 4;
    *o++ = OPT_TYPE, *o++ = 1, *o++ = type;
    if (type == DHCPREQUEST && n->dhcp.state == DHCP_REQUESTING) {
        *o++ = OPT_REQUESTED_IP, *o++ = 4, net_put32(o, n->dhcp.offered), o += 4;
        *o++ = OPT_SERVER, *o++ = 4, net_put32(o, n->dhcp.server), o += 4;
    }
    *o++ = OPT_PARAMS, *o++ = 3, *o++ = OPT_MASK, *o++ = OPT_ROUTER, *o++ = OPT_DNS;
    *o++ = OPT_END;
    uint32_t src = n->dhcp.state == DHCP_RENEWING ? n->ip : 0;
    if (udp_send_datagram(n, broadcast_mac, src, 0xFFFFFFFFu, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, m,
                          (unsigned)(o - m)) >= 0 &&
        type == DHCPDISCOVER)
        NET_COUNT(n, dhcp_discovers);
    link_flush(n);
    n->dhcp.next_ns = n->now_ns + DHCP_RETRY_MS * NET_MS;
}

void dhcp_start(struct net *n, uint64_t timeout_ns)
{
    n->dhcp.timeout_ns = timeout_ns;
    n->dhcp.give_up_ns = n->now_ns + timeout_ns;
    n->dhcp.xid = (uint32_t)(n->now_ns ^ (n->now_ns >> 32) ^ 0x57a7d00d);
    n->dhcp.state = DHCP_DISCOVERING;
    n->dhcp.next_ns = 0;                    /* the first DISCOVER once the link is up */
}

void net_configure(struct net *n, unsigned how, uint32_t ip, uint32_t netmask, uint32_t gateway)
{
    n->ip = ip;
    n->netmask = netmask;
    n->gateway = gateway;
    n->config = how;
    n->dhcp.done = true;
    unsigned prefix = (unsigned)__builtin_popcount(netmask);
    printf("net: address %u.%u.%u.%u/%u, gateway %u.%u.%u.%u (%s)\n", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
           ip & 255, prefix, gateway >> 24, (gateway >> 16) & 255, (gateway >> 8) & 255, gateway & 255,
           how == NETSVC_CONFIG_DHCP ? "leased by DHCP" : "static");
    arp_announce(n);
    link_flush(n);
}

/* The options of a reply: false if malformed. */
struct dhcp_reply {
    uint8_t type;
    uint32_t mask, router, dns, server, lease_s;
};

static bool parse_options(const uint8_t *o, const uint8_t *end, struct dhcp_reply *r)
{
    while (o < end && *o != OPT_END) {
        if (*o == 0) {                      /* pad */
            o++;
            continue;
        }
        if (end - o < 2 || end - o - 2 < o[1])
            return false;
        uint8_t code = o[0], len = o[1];
        const uint8_t *v = o + 2;
        if (code == OPT_TYPE && len == 1)
            r->type = v[0];
        else if (code == OPT_MASK && len == 4)
            r->mask = net_get32(v);
        else if (code == OPT_ROUTER && len >= 4)
            r->router = net_get32(v);
        else if (code == OPT_DNS && len >= 4)
            r->dns = net_get32(v);
        else if (code == OPT_SERVER && len == 4)
            r->server = net_get32(v);
        else if (code == OPT_LEASE && len == 4)
            r->lease_s = net_get32(v);
        o += 2 + len;
    }
    return r->type != 0;
}

void dhcp_input(struct net *n, const uint8_t *m, unsigned length)
{
    struct dhcp_reply r = { 0 };
    if (length < BOOTP_FIXED + 4 || m[0] != 2 || net_get32(m + 4) != n->dhcp.xid || memcmp(m + 28, n->mac, 6) != 0 ||
        net_get32(m + BOOTP_FIXED) != DHCP_MAGIC || !parse_options(m + BOOTP_FIXED + 4, m + length, &r)) {
        NET_COUNT(n, dhcp_bad);
        return;
    }
    uint32_t yiaddr = net_get32(m + 16);
    if (r.type == DHCPOFFER && n->dhcp.state == DHCP_DISCOVERING && yiaddr && r.server) {
        NET_COUNT(n, dhcp_offers);
        n->dhcp.offered = yiaddr;
        n->dhcp.server = r.server;
        n->dhcp.state = DHCP_REQUESTING;
        send_message(n, DHCPREQUEST);
    } else if (r.type == DHCPACK && (n->dhcp.state == DHCP_REQUESTING || n->dhcp.state == DHCP_RENEWING) && yiaddr) {
        NET_COUNT(n, dhcp_acks);
        bool renewed = n->dhcp.state == DHCP_RENEWING;
        n->dhcp.state = DHCP_BOUND;
        n->dhcp.lease_s = r.lease_s ? r.lease_s : 3600;
        n->dhcp.renew_ns = n->now_ns + (uint64_t)n->dhcp.lease_s * 500 * NET_MS;
        n->dns = r.dns;
        if (!renewed)
            net_configure(n, NETSVC_CONFIG_DHCP, yiaddr, r.mask ? r.mask : 0xFFFFFF00u,
                          r.router ? r.router : n->dhcp.server);   /* slirp with restrict=on names no router */
    } else if (r.type == DHCPNAK && n->dhcp.state != DHCP_BOUND) {
        n->dhcp.state = DHCP_DISCOVERING;   /* start over */
        send_message(n, DHCPDISCOVER);
    } else {
        NET_COUNT(n, dhcp_bad);
    }
}

uint64_t dhcp_timers(struct net *n)
{
    if (n->dhcp.state == DHCP_BOUND) {
        if (n->now_ns < n->dhcp.renew_ns)
            return n->dhcp.renew_ns;
        n->dhcp.state = DHCP_RENEWING;      /* keep the address; ask the server again */
    }
    if (!n->dhcp.state || !n->link_up)
        return 0;
    if (!n->dhcp.done && n->now_ns >= n->dhcp.give_up_ns) {
        printf("net: no DHCP lease within %llu ms; using the static address\n",
               (unsigned long long)(n->dhcp.timeout_ns / NET_MS));
        n->dhcp.state = 0;
        net_configure(n, NETSVC_CONFIG_STATIC, n->static_ip, n->static_netmask, n->static_gateway);
        return 0;
    }
    if (n->now_ns >= n->dhcp.next_ns)
        send_message(n, n->dhcp.state == DHCP_DISCOVERING ? DHCPDISCOVER : DHCPREQUEST);
    uint64_t next = n->dhcp.next_ns;
    if (!n->dhcp.done && n->dhcp.give_up_ns < next)
        next = n->dhcp.give_up_ns;
    return next;
}
