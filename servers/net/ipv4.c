/*
 * ipv4.c - IPv4 (RFC 791) and ICMP echo (RFC 792): the header checks of
 * every received packet (version, header length, total length against the
 * frame, checksum; fragments are dropped and counted: nothing here
 * reassembles, and a sender that needs fragments gets no answer), the
 * checksum, routing to the next hop (our subnet, else the gateway), echo
 * replies, and the ping client behind NETSOCK_PING.
 */
#include <string.h>

#include "net.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMP_HEADER 8u
#define IP_FLAG_MF 0x2000u
#define IP_OFFSET_MASK 0x1FFFu

/* The one's complement sum (RFC 1071) 4 bytes at a time: summed in the
 * CPU's little-endian order (no carry is lost in 64 bits below 64 KiB),
 * folded to 16 bits (2^16 = 1 modulo 0xFFFF) and byte-swapped at the end
 * (the sum commutes with swapping), then sum (in host order) added. */
uint16_t net_checksum(const void *data, unsigned length, uint32_t sum)
{
    const uint8_t *p = data;
    uint64_t s = 0;
    for (; length >= 4; p += 4, length -= 4) {
        uint32_t v;
        __builtin_memcpy(&v, p, 4);
        s += v;
    }
    uint32_t tail = 0;
    __builtin_memcpy(&tail, p, length);
    s += tail;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    uint64_t total = (uint64_t)__builtin_bswap16((uint16_t)s) + sum;
    while (total >> 16)
        total = (total & 0xFFFF) + (total >> 16);
    return (uint16_t)~total;
}

uint32_t ipv4_next_hop(const struct net *n, uint32_t dst)
{
    return (dst & n->netmask) == (n->ip & n->netmask) ? dst : n->gateway;
}

void ipv4_header(uint8_t *ip, uint8_t protocol, uint32_t src, uint32_t dst, unsigned payload)
{
    static uint16_t ident;
    ip[0] = 0x45;
    ip[1] = 0;
    net_put16(ip + 2, (uint16_t)(IPV4_HEADER + payload));
    net_put16(ip + 4, ident++);
    net_put16(ip + 6, 0x4000);              /* don't fragment */
    ip[8] = 64;
    ip[9] = protocol;
    net_put16(ip + 10, 0);
    net_put32(ip + 12, src);
    net_put32(ip + 16, dst);
    net_put16(ip + 10, net_checksum(ip, IPV4_HEADER, 0));
}

static bool is_broadcast(const struct net *n, uint32_t ip)
{
    return ip == 0xFFFFFFFFu || (n->ip && n->netmask != 0xFFFFFFFFu && ip == (n->ip | ~n->netmask));
}

/* An echo request: answered to the frame's sender (the path it came by). */
static void echo_reply(struct net *n, const uint8_t *frame, const uint8_t *ip, const uint8_t *icmp, unsigned length)
{
    unsigned buffer;
    uint8_t *f = link_frame(n, &buffer);
    if (!f)
        return;
    uint8_t *out_ip = f + ETH_HEADER, *out = out_ip + IPV4_HEADER;
    memcpy(out, icmp, length);
    out[0] = ICMP_ECHO_REPLY;
    net_put16(out + 2, 0);
    net_put16(out + 2, net_checksum(out, length, 0));
    ipv4_header(out_ip, IP_PROTO_ICMP, n->ip, net_get32(ip + 12), length);
    link_send(n, buffer, frame + 6, ETH_TYPE_IPV4, ETH_HEADER + IPV4_HEADER + length);
    link_flush(n);
    NET_COUNT(n, icmp_echo_replies_sent);
}

static void echo_reply_in(struct net *n, const uint8_t *icmp)
{
    uint16_t ident = net_get16(icmp + 4), sequence = net_get16(icmp + 6);
    for (unsigned i = 0; i < NET_PINGS_MAX; i++) {
        struct ping *p = &n->pings[i];
        if (p->used && p->ident == ident && p->sequence == sequence) {
            p->used = false;
            n->pings_in_flight--;
            NET_COUNT(n, icmp_echo_replies_in);
            struct wd_ring_desc c = { .op = NETSOCK_PING, .id = p->request_id, .arg = n->now_ns - p->sent_ns };
            socket_complete(n, p->socket, p->socket_generation, &c);
            return;
        }
    }
}

static void icmp_input(struct net *n, const uint8_t *frame, const uint8_t *ip, const uint8_t *icmp, unsigned length,
                       bool broadcast)
{
    NET_COUNT(n, icmp_in);
    if (length < ICMP_HEADER || net_checksum(icmp, length, 0) != 0) {
        NET_COUNT(n, icmp_bad);
        return;
    }
    if (icmp[0] == ICMP_ECHO_REQUEST && icmp[1] == 0 && !broadcast)
        echo_reply(n, frame, ip, icmp, length);
    else if (icmp[0] == ICMP_ECHO_REPLY && icmp[1] == 0)
        echo_reply_in(n, icmp);
}

void ipv4_input(struct net *n, const uint8_t *frame, unsigned length)
{
    NET_COUNT(n, ipv4_in);
    const uint8_t *ip = frame + ETH_HEADER;
    unsigned avail = length - ETH_HEADER;
    if (avail < IPV4_HEADER || (ip[0] >> 4) != 4 || (ip[0] & 0xF) < 5 || (unsigned)(ip[0] & 0xF) * 4 > avail) {
        NET_COUNT(n, ipv4_bad_header);
        return;
    }
    unsigned header = (unsigned)(ip[0] & 0xF) * 4, total = net_get16(ip + 2);
    if (total < header || total > avail) {
        NET_COUNT(n, ipv4_bad_length);      /* shorter than its header, or longer than the frame */
        return;
    }
    if (net_checksum(ip, header, 0) != 0) {
        NET_COUNT(n, ipv4_bad_checksum);
        return;
    }
    if (net_get16(ip + 6) & (IP_FLAG_MF | IP_OFFSET_MASK)) {
        NET_COUNT(n, ipv4_fragments);
        return;
    }
    uint32_t dst = net_get32(ip + 16), src = net_get32(ip + 12);
    bool broadcast = is_broadcast(n, dst);
    /* Ours, a broadcast, or (no address yet) whatever a DHCP server offers. */
    if (!(n->ip && dst == n->ip) && !broadcast && !(n->config == NETSVC_CONFIG_NONE && ip[9] == IP_PROTO_UDP)) {
        NET_COUNT(n, ipv4_not_for_us);
        return;
    }
    if (src == 0xFFFFFFFFu || (src >> 28) == 0xE) {
        NET_COUNT(n, ipv4_bad_header);      /* a broadcast or multicast source */
        return;
    }
    const uint8_t *payload = ip + header;
    unsigned payload_length = total - header;
    if (ip[9] == IP_PROTO_ICMP)
        icmp_input(n, frame, ip, payload, payload_length, broadcast);
    else if (ip[9] == IP_PROTO_UDP)
        udp_input(n, ip, payload, payload_length);
    else
        NET_COUNT(n, ipv4_unknown_protocol);
}

static long ping_send(struct net *n, struct ping *p, const uint8_t *mac, uint32_t dst, unsigned payload)
{
    unsigned buffer;
    uint8_t *f = link_frame(n, &buffer);
    if (!f)
        return -WD_E_BUSY;
    uint8_t *ip = f + ETH_HEADER, *icmp = ip + IPV4_HEADER;
    icmp[0] = ICMP_ECHO_REQUEST;
    icmp[1] = 0;
    net_put16(icmp + 2, 0);
    net_put16(icmp + 4, p->ident);
    net_put16(icmp + 6, p->sequence);
    for (unsigned i = 0; i < payload; i++)
        icmp[ICMP_HEADER + i] = (uint8_t)i;
    net_put16(icmp + 2, net_checksum(icmp, ICMP_HEADER + payload, 0));
    ipv4_header(ip, IP_PROTO_ICMP, n->ip, dst, ICMP_HEADER + payload);
    link_send(n, buffer, mac, ETH_TYPE_IPV4, ETH_HEADER + IPV4_HEADER + ICMP_HEADER + payload);
    link_flush(n);
    p->sent_ns = n->now_ns;
    return 0;
}

long ping_start(struct net *n, unsigned socket, const struct wd_ring_desc *request)
{
    uint32_t dst = NETSOCK_ADDR_IP(request->arg);
    if (request->length > NETSOCK_PAYLOAD_MAX || !dst || is_broadcast(n, dst) || dst == n->ip)
        return -WD_E_INVALID_ARG;
    if (!n->ip)
        return -WD_E_BUSY;                  /* no address yet */
    struct ping *p = NULL;
    for (unsigned i = 0; i < NET_PINGS_MAX && !p; i++)
        if (!n->pings[i].used)
            p = &n->pings[i];
    if (!p)
        return -WD_E_BUSY;
    uint8_t mac[6];
    uint32_t hop = ipv4_next_hop(n, dst);
    if (!arp_lookup(n, hop, mac)) {
        link_flush(n);
        arp_wait(n, hop, socket, request);
        return 1;                       /* started later */
    }
    n->pings_in_flight++;
    *p = (struct ping){ .used = true, .socket = socket, .socket_generation = n->sockets[socket].generation,
                        .request_id = request->id, .ident = (uint16_t)(0x5700 | socket),
                        .sequence = ++n->ping_sequence };
    long r = ping_send(n, p, mac, dst, request->length);
    if (r < 0) {
        p->used = false;
        n->pings_in_flight--;
    }
    return r < 0 ? r : 1;
}

uint64_t ping_timers(struct net *n)
{
    uint64_t next = 0;
    if (!n->pings_in_flight)
        return 0;
    for (unsigned i = 0; i < NET_PINGS_MAX; i++) {
        struct ping *p = &n->pings[i];
        if (!p->used)
            continue;
        uint64_t due = p->sent_ns + NETSOCK_PING_TIMEOUT_MS * NET_MS;
        if (n->now_ns >= due) {
            p->used = false;
            n->pings_in_flight--;
            NET_COUNT(n, ping_timeouts);
            struct wd_ring_desc c = { .op = NETSOCK_PING, .id = p->request_id, .status = WD_E_TIMEOUT };
            socket_complete(n, p->socket, p->socket_generation, &c);
        } else if (!next || due < next) {
            next = due;
        }
    }
    return next;
}
