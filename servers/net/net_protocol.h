/*
 * net_protocol.h - what a client of the network service (servers/net)
 * sends: UDP sockets and pings over a data-path session, and a few IPC
 * calls. The service registers as "net" (or the name it is started with);
 * docs/network.md has the whole picture.
 *
 * Addresses are IPv4 in host order (10.0.2.15 is 0x0A00020F); a socket
 * address in a descriptor's arg is NETSOCK_ADDR(ip, port).
 *
 * IPC (wd_call on the endpoint from the registry; reply with the label):
 *   NETSVC_OP_INFO     -> w0 = 0, w1 = address (0: none yet), w2 = prefix
 *                         length, w3 = gateway, w4 = NETSVC_CONFIG_*, w5 =
 *                         MAC (byte 0 in bits 0-7), w6 = 1 while the link
 *                         (the frame service) is up, w7 = times the service
 *                         opened a link again after its driver died
 *   NETSVC_OP_COUNTER  w0 = index -> w0 = 0, w1 = the counter's value,
 *                         w2..w5 = its name (NUL padded, 32 bytes);
 *                         NOT_FOUND past the last. Every frame dropped is
 *                         counted under its reason.
 *   NETSVC_OP_PORTS    w0 = first port, w1 = last -> w0 = 0, caps[0] = a
 *                         SEND capability to the service whose sessions
 *                         may bind only ports in [first, last]. Within the
 *                         caller's own range only (RANGE), first >= 1,
 *                         first <= last (INVALID_ARG): a grant can be
 *                         narrowed, never widened. The registry's
 *                         capability has every port (1..65535).
 *   NETSVC_OP_DHCP     -> w0 = 0, w1 = the DHCP server (0: no lease), w2 =
 *                         lease seconds, w3 = DNS server, w4 = DISCOVERs
 *                         sent, w5 = offers seen
 *   NETSVC_OP_ARP      w0 = index -> w0 = 0, w1 = IPv4, w2 = MAC, w3 = ms
 *                         until the entry expires; NOT_FOUND past the last
 *   WD_SESSION_OPEN / WD_SESSION_CLOSE (<warden/session.h>): a socket.
 *                         w1 = the UDP port to bind (0: none, pings only).
 *                         The region must be a lease with READ and WRITE
 *                         (the service reads what is sent from it and
 *                         writes what is received into it); capacity at
 *                         most NETSOCK_MAX_CAPACITY. Errors: NO_RIGHTS (the
 *                         port is not in the capability's grant, or the
 *                         lease lacks a right), EXISTS (another socket has
 *                         the port), INVALID_ARG (port > 65535, capacity).
 * Ring requests (struct wd_ring_desc):
 *   NETSOCK_SEND  offset, length (0..NETSOCK_PAYLOAD_MAX): a datagram from
 *                 the region to arg = NETSOCK_ADDR(ip, port), from the
 *                 socket's port. Completes when it went to the frame
 *                 service (arg = bytes). INVALID_ARG (length, address 0,
 *                 broadcast, port 0, our own address), NO_RIGHTS (no port
 *                 bound), TIMEOUT (nobody answered ARP for the next hop
 *                 within a second), BUSY (no link right now, or too many
 *                 sends wait for ARP), DEAD (the region was taken back).
 *   NETSOCK_RECV  offset, length: a buffer for the next datagram to the
 *                 socket's port. Completes with length = the bytes copied
 *                 (| NETSOCK_TRUNCATED if the datagram was longer), arg =
 *                 NETSOCK_ADDR of the sender. Datagrams that find no
 *                 buffer waiting are dropped and counted.
 *   NETSOCK_SEND | NETSOCK_QUIET  the same, but the client is not woken
 *                 for its completion if it succeeds: it is published with
 *                 the next completion that wakes the client (a receive),
 *                 or seen whenever the client looks. Keep a receive
 *                 posted (or send loudly) so something does wake you.
 *   NETSOCK_PING  arg = IPv4, length = payload bytes (0..1472): an ICMP
 *                 echo. Completes with arg = round trip in ns, or TIMEOUT
 *                 after NETSOCK_PING_TIMEOUT_MS; BUSY when
 *                 NET_PINGS_MAX are in flight.
 */
#ifndef WARDEN_NET_PROTOCOL_H
#define WARDEN_NET_PROTOCOL_H

#include <stdint.h>

#define NETSVC_NAME "net"
#define NETSVC_OP_INFO 1
#define NETSVC_OP_COUNTER 2
#define NETSVC_OP_PORTS 3
#define NETSVC_OP_DHCP 4
#define NETSVC_OP_ARP 5

#define NETSVC_CONFIG_NONE 0        /* no address yet (DHCP asking) */
#define NETSVC_CONFIG_DHCP 1        /* leased from a DHCP server */
#define NETSVC_CONFIG_STATIC 2      /* the static fallback, or ip= */

#define NETSOCK_MAX_CAPACITY 256u
#define NETSOCK_PAYLOAD_MAX 1472u   /* 1500 - IPv4 - UDP headers: no fragments */
#define NETSOCK_TRUNCATED (1u << 31)
#define NETSOCK_PING_TIMEOUT_MS 1000u

#define NETSOCK_ADDR(ip, port) ((uint64_t)(uint32_t)(ip) | (uint64_t)(uint16_t)(port) << 32)
#define NETSOCK_ADDR_IP(a) ((uint32_t)(a))
#define NETSOCK_ADDR_PORT(a) ((uint16_t)((a) >> 32))
#define NET_IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

enum netsock_op {
    NETSOCK_SEND = 1,
    NETSOCK_RECV = 2,
    NETSOCK_PING = 3,
};
#define NETSOCK_QUIET 0x100u        /* or'd into NETSOCK_SEND: complete without waking the client */

#endif
