/*
 * net - the network service: a small IPv4 stack (Ethernet, ARP, IPv4,
 * ICMP echo, UDP, DHCP) in an ordinary process, over the e1000e driver's
 * frame service, serving UDP sockets and pings to clients
 * (net_protocol.h, docs/network.md). Started by init's supervisor (on
 * devmgr's request) or by a test as "net [NAME] [argument...]":
 *   NAME                 the name to register (default "net")
 *   eth=NAME             the frame service to use (default "eth0")
 *   ip=A.B.C.D/N         a static address: no DHCP
 *   gw=A.B.C.D           the gateway with ip= (default: .2 of its subnet)
 *   dhcp-timeout-ms=N    the static fallback after N ms without a lease (4000)
 *   arp-ttl-ms=N         how long an ARP entry lives (60000)
 *   start info pool      its own sub-pool (sockets' rings are mapped from it)
 *   start info registry  to register and to find the frame service
 * Start-up failures are printed and end the service with status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <warden/session.h>
#include <warden/syscalls.h>

#include "net.h"

#define DEFAULT_DHCP_TIMEOUT_MS 4000u
#define DEFAULT_ARP_TTL_MS 60000u
#define STATIC_IP NET_IPV4(10, 0, 2, 15)
#define STATIC_GATEWAY NET_IPV4(10, 0, 2, 2)

static struct net net;

static const char *const counter_names[] = {
#define NET_COUNTER_NAME(name) #name,
    NET_COUNTERS(NET_COUNTER_NAME)
#undef NET_COUNTER_NAME
};

static bool parse_ipv4(const char *s, uint32_t *ip, unsigned *prefix)
{
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        char *end;
        unsigned long x = strtoul(s, &end, 10);
        if (end == s || x > 255 || (part < 3 && *end != '.'))
            return false;
        v = v << 8 | (uint32_t)x;
        s = part < 3 ? end + 1 : end;
    }
    if (prefix) {
        *prefix = 24;
        if (*s == '/') {
            char *end;
            unsigned long p = strtoul(s + 1, &end, 10);
            if (end == s + 1 || p < 1 || p > 30 || *end)
                return false;
            *prefix = (unsigned)p;
        } else if (*s) {
            return false;
        }
    } else if (*s) {
        return false;
    }
    *ip = v;
    return true;
}

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void eth_input(struct net *n, const uint8_t *frame, unsigned length)
{
    if (length < ETH_HEADER) {
        NET_COUNT(n, eth_runt);
        return;
    }
    if (memcmp(frame, n->mac, 6) != 0 && memcmp(frame, broadcast_mac, 6) != 0) {
        NET_COUNT(n, eth_not_for_us);
        return;
    }
    switch (net_get16(frame + 12)) {
    case ETH_TYPE_ARP:
        arp_input(n, frame, length);
        break;
    case ETH_TYPE_IPV4:
        ipv4_input(n, frame, length);
        break;
    default:
        NET_COUNT(n, eth_unknown_type);
    }
}

static void reply_words(struct wd_msg *msg, unsigned count)
{
    msg->w[0] = 0;
    msg->info = wd_msg_info(wd_msg_label(msg->info), count, 0);
}

static void reply_error(struct wd_msg *msg, long error)
{
    for (unsigned i = 0; i < wd_msg_ncaps(msg->info) && i < WD_MSG_CAPS; i++)
        wd_cap_delete(msg->caps[i]);
    msg->w[0] = (uint64_t)error;
    msg->info = wd_msg_info(wd_msg_label(msg->info), 1, 0);
}

/* NETSVC_OP_PORTS: a narrower grant of the caller's. */
static void grant_ports(struct net *n, struct wd_msg *msg)
{
    uint64_t first = msg->w[0], last = msg->w[1];
    uint64_t have_first = (msg->badge >> 16) & 0xFFFF, have_last = msg->badge & 0xFFFF;
    if (!first || first > last || last > 0xFFFF)
        return reply_error(msg, -WD_E_INVALID_ARG);
    if ((msg->badge & ~0xFFFFFFFFull) != NET_PORTS_BADGE_TAG || first < have_first || last > have_last)
        return reply_error(msg, -WD_E_RANGE);
    long cap = wd_cap_copy(n->endpoint, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT,
                           NET_PORTS_BADGE_TAG | first << 16 | last);
    if (cap < 0)
        return reply_error(msg, cap);
    msg->w[0] = 0;
    msg->caps[0] = (wd_handle_t)cap;
    msg->info = wd_msg_info(wd_msg_label(msg->info), 1, 1) | WD_MSG_MOVE_CAPS;
}

static void handle_call(struct net *n, struct wd_msg *msg)
{
    uint32_t op = wd_msg_label(msg->info);
    if ((msg->badge & ~0xFFFFFFFFull) != NET_PORTS_BADGE_TAG)
        return reply_error(msg, -WD_E_NO_RIGHTS);
    if (op == WD_SESSION_OPEN)
        return udp_open(n, msg);
    if (op == WD_SESSION_CLOSE) {
        wd_session_close_request(&n->sessions, msg);
        return;
    }
    for (unsigned i = 0; i < wd_msg_ncaps(msg->info) && i < WD_MSG_CAPS; i++)
        wd_cap_delete(msg->caps[i]);
    uint64_t mac = 0;
    for (unsigned i = 0; i < 6; i++)
        mac |= (uint64_t)n->mac[i] << (8 * i);
    switch (op) {
    case NETSVC_OP_INFO:
        msg->w[1] = n->ip;
        msg->w[2] = (uint64_t)__builtin_popcount(n->netmask);
        msg->w[3] = n->gateway;
        msg->w[4] = n->config;
        msg->w[5] = mac;
        msg->w[6] = n->link_up;
        msg->w[7] = n->counters[NC_link_opens] ? n->counters[NC_link_opens] - 1 : 0;
        return reply_words(msg, 8);
    case NETSVC_OP_COUNTER: {
        uint64_t index = msg->w[0];
        if (index >= NET_COUNTER_COUNT)
            return reply_error(msg, -WD_E_NOT_FOUND);
        msg->w[1] = n->counters[index];
        memset(&msg->w[2], 0, 32);
        strncpy((char *)&msg->w[2], counter_names[index], 31);
        return reply_words(msg, 6);
    }
    case NETSVC_OP_PORTS:
        return grant_ports(n, msg);
    case NETSVC_OP_DHCP:
        msg->w[1] = n->config == NETSVC_CONFIG_DHCP ? n->dhcp.server : 0;
        msg->w[2] = n->config == NETSVC_CONFIG_DHCP ? n->dhcp.lease_s : 0;
        msg->w[3] = n->dns;
        msg->w[4] = n->counters[NC_dhcp_discovers];
        msg->w[5] = n->counters[NC_dhcp_offers];
        return reply_words(msg, 6);
    case NETSVC_OP_ARP: {
        struct arp_entry e;
        if (!arp_entry_at(n, (unsigned)msg->w[0], &e))
            return reply_error(msg, -WD_E_NOT_FOUND);
        uint64_t m = 0;
        for (unsigned i = 0; i < 6; i++)
            m |= (uint64_t)e.mac[i] << (8 * i);
        msg->w[1] = e.ip;
        msg->w[2] = m;
        msg->w[3] = (e.expires_ns - n->now_ns) / NET_MS;
        return reply_words(msg, 4);
    }
    default:
        return reply_error(msg, -WD_E_NOT_SUPPORTED);
    }
}

/* Everything that runs on time: the next deadline (0: nothing waits). */
static uint64_t run_timers(struct net *n)
{
    uint64_t next = 0, t;
    if (!link_try_open(n))
        next = n->link_retry_ns;
    else if (n->config == NETSVC_CONFIG_NONE && n->dhcp.done)
        net_configure(n, NETSVC_CONFIG_STATIC, n->static_ip, n->static_netmask, n->static_gateway);
    if ((t = dhcp_timers(n)) && (!next || t < next))
        next = t;
    if ((t = arp_timers(n)) && (!next || t < next))
        next = t;
    if ((t = ping_timers(n)) && (!next || t < next))
        next = t;
    return next;
}

static int serve(struct net *n)
{
    struct wd_msg msg;
    bool replying = false;
    n->now_ns = (uint64_t)wd_time_now();
    for (;;) {
        uint64_t next = run_timers(n);      /* on the clock read after the last message */
        uint64_t timeout = !next ? WD_FOREVER : next > n->now_ns ? next - n->now_ns : 1;
        long r = replying ? wd_reply_recv(n->endpoint, &msg, timeout)
                          : wd_sessions_signal_recv(&n->sessions, n->endpoint, &msg, timeout);
        replying = false;
        if (r == 0 && wd_msg_label(msg.info) == WD_LABEL_NOTIFY && wd_msg_nwords(msg.info) >= 3)
            n->now_ns = msg.w[2];           /* the delivery time: no clock call */
        else
            n->now_ns = (uint64_t)wd_time_now();
        if (r == -WD_E_TIMEOUT)
            continue;
        if (r < 0) {
            printf("net: receiving on its endpoint failed: %s; stopping\n", wd_error_name(r));
            return 1;
        }
        uint32_t label = wd_msg_label(msg.info);
        if (label == WD_LABEL_NOTIFY && msg.badge == NET_LINK_BADGE) {
            link_notified(n, msg.w[1]);
        } else if (label == WD_LABEL_NOTIFY && msg.badge == NET_SOCKETS_BADGE) {
            udp_notified(n, msg.w[1]);
        } else if (label == WD_LABEL_NOTIFY || label == WD_LABEL_IRQ || label == WD_LABEL_DMA_FAULT) {
            continue;                       /* nothing else is bound here */
        } else {
            handle_call(n, &msg);
            wd_sessions_send_owed(&n->sessions);
            replying = true;
        }
    }
}

static bool parse_args(struct net *n, int argc, char **argv, const char **eth, uint64_t *dhcp_timeout_ns)
{
    unsigned prefix = 24;
    bool have_gateway = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "eth=", 4) == 0) {
            *eth = a + 4;
        } else if (strncmp(a, "ip=", 3) == 0) {
            if (!parse_ipv4(a + 3, &n->static_ip, &prefix)) {
                printf("net: ip=%s is not an address A.B.C.D/N\n", a + 3);
                return false;
            }
            *dhcp_timeout_ns = 0;
        } else if (strncmp(a, "gw=", 3) == 0) {
            if (!parse_ipv4(a + 3, &n->static_gateway, NULL)) {
                printf("net: gw=%s is not an address A.B.C.D\n", a + 3);
                return false;
            }
            have_gateway = true;
        } else if (strncmp(a, "dhcp-timeout-ms=", 16) == 0) {
            *dhcp_timeout_ns = strtoull(a + 16, NULL, 10) * NET_MS;
        } else if (strncmp(a, "arp-ttl-ms=", 11) == 0) {
            n->arp_ttl_ns = strtoull(a + 11, NULL, 10) * NET_MS;
        } else if (strchr(a, '=')) {
            printf("net: unknown argument %s\n", a);
            return false;
        } else {
            n->name = a;
        }
    }
    n->static_netmask = ~0u << (32 - prefix);
    if (!have_gateway)
        n->static_gateway = (n->static_ip & n->static_netmask) | 2;
    return true;
}

int main(int argc, char **argv)
{
    struct net *n = &net;
    const char *eth = "eth0";
    uint64_t dhcp_timeout_ns = DEFAULT_DHCP_TIMEOUT_MS * NET_MS;
    n->name = NETSVC_NAME;
    n->static_ip = STATIC_IP;
    n->arp_ttl_ns = DEFAULT_ARP_TTL_MS * NET_MS;
    if (!parse_args(n, argc, argv, &eth, &dhcp_timeout_ns))
        return 1;
    if (!n->arp_ttl_ns)
        n->arp_ttl_ns = NET_MS;
    wd_driver_init_service(&n->service, wd_start_info->pool);
    long fixup = wd_copy_checked_init();    /* a client's region may vanish under a copy */
    if (fixup < 0) {
        printf("net: cannot make copies from clients' regions safe: %s\n", wd_error_name(fixup));
        return 1;
    }
    long ep = wd_endpoint_create(wd_start_info->pool);
    long r = ep < 0 ? ep : wd_sessions_init(&n->sessions, &n->service, (wd_handle_t)ep, NET_SOCKETS_BADGE);
    if (r < 0) {
        printf("net: cannot create its endpoint and sessions: %s (%s)\n", wd_error_name(r), wd_error_text(r));
        return 1;
    }
    n->endpoint = (wd_handle_t)ep;
    n->sessions.defer_signals = true;
    link_init(n, eth);
    n->now_ns = (uint64_t)wd_time_now();
    if (dhcp_timeout_ns)
        dhcp_start(n, dhcp_timeout_ns);
    if (wd_driver_register("net", n->endpoint, NET_ALL_PORTS, n->name) < 0)
        return 1;
    printf("net: \"%s\" ready over \"%s\": %s\n", n->name, eth,
           dhcp_timeout_ns ? "asking DHCP for an address" : "static address");
    n->dhcp.done = !dhcp_timeout_ns;        /* a static address is set once the link is up (run_timers) */
    return serve(n);
}
