/*
 * net.h - what the network service's files share: its state and the calls
 * between link.c (the frame service: a receiving session with the e1000e
 * driver, opened again when the driver is restarted), arp.c (the cache,
 * replies, requests, the gratuitous announce, sends waiting for an
 * answer), ipv4.c (header checks, ICMP echo replies and the ping client),
 * udp.c (sockets: sessions with clients, ports, sends and receives),
 * dhcp.c (the DHCP client and the static fallback) and main.c (start-up,
 * IPC calls, timers, the loop).
 *
 * One thread, one endpoint: client calls, the clients' data-path signals
 * (the session table's notification) and the link session's completions
 * (its notification, bound here) all arrive on it. Every frame from the
 * wire is checked before it is believed; each drop is counted under its
 * reason (NET_COUNTERS) and nothing is answered for it.
 */
#ifndef WARDEN_NET_H
#define WARDEN_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/driver.h>
#include <warden/region.h>
#include <warden/registry.h>

#include "net_protocol.h"

#define NET_SOCKETS_BADGE 0x5E7           /* the session table's notification */
#define NET_LINK_BADGE 0x11F              /* the link session's notification */
#define NET_PORTS_BADGE_TAG (1ull << 40)  /* + first << 16 | last: a port grant */
#define NET_ALL_PORTS (NET_PORTS_BADGE_TAG | 1ull << 16 | 0xFFFF)

#define NET_MS 1000000ull
#define NET_TX_BUFFERS 256u               /* frames being sent, 2 KiB each */
#define NET_TX_BUFFER_BYTES 2048u
#define NET_RX_POSTED 128u                /* receive requests kept at the driver */
#define NET_LINK_CAPACITY 1024u
#define NET_ARP_ENTRIES 32u
#define NET_ARP_WAITING_MAX 32u           /* sends and pings waiting for an ARP answer */
#define NET_ARP_RETRY_MS 250u
#define NET_ARP_GIVE_UP_MS 1000u
#define NET_PINGS_MAX 16u
#define NET_LINK_RETRY_MS 10u

#define ETH_HEADER 14u
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define IPV4_HEADER 20u
#define UDP_HEADER 8u
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP 17

/* Counters, in the order NETSVC_OP_COUNTER lists them. */
#define NET_COUNTERS(X)                                                                                   \
    X(frames_in) X(frames_out) X(eth_runt) X(eth_not_for_us) X(eth_unknown_type)                          \
    X(arp_in) X(arp_bad) X(arp_replies_sent) X(arp_requests_sent) X(arp_unsolicited) X(arp_timeouts)      \
    X(ipv4_in) X(ipv4_bad_header) X(ipv4_bad_checksum) X(ipv4_bad_length) X(ipv4_fragments)               \
    X(ipv4_not_for_us) X(ipv4_unknown_protocol)                                                           \
    X(icmp_in) X(icmp_bad) X(icmp_echo_replies_sent) X(icmp_echo_replies_in) X(ping_timeouts)             \
    X(udp_in) X(udp_bad_length) X(udp_bad_checksum) X(udp_no_port) X(udp_no_buffer) X(udp_delivered)      \
    X(udp_sent) X(send_refused) X(tx_no_buffer) X(tx_link_down) X(tx_failed)                              \
    X(dhcp_discovers) X(dhcp_offers) X(dhcp_acks) X(dhcp_bad) X(link_opens) X(link_lost)
enum net_counter {
#define NET_COUNTER_ENUM(name) NC_##name,
    NET_COUNTERS(NET_COUNTER_ENUM)
#undef NET_COUNTER_ENUM
    NET_COUNTER_COUNT
};

struct arp_entry {
    uint32_t ip;                    /* 0: free */
    uint8_t mac[6];
    bool resolved;
    bool sent_to;                   /* looked up to send: this service talks to it (not only learned) */
    uint64_t expires_ns;            /* resolved: when it is forgotten */
    uint64_t asked_ns, first_asked_ns;  /* unresolved: the last request, the first */
};

/* A send or ping that waits for its next hop's MAC. */
struct arp_waiting {
    bool used;
    uint32_t next_hop;
    unsigned socket;
    uint64_t socket_generation;     /* the socket is the same one still */
    uint64_t since_ns;              /* when it started waiting */
    struct wd_ring_desc request;
};

struct ping {
    bool used;
    unsigned socket;
    uint64_t socket_generation;
    uint64_t request_id;
    uint16_t ident, sequence;
    uint64_t sent_ns;
};

/* A client's socket: the session with the same index in the table. */
struct net_socket {
    uint16_t port;                  /* 0: none bound */
    uint64_t generation;            /* opens of this slot so far */
    struct wd_ring_desc recv[NETSOCK_MAX_CAPACITY];     /* receive buffers, oldest first */
    unsigned recv_head, recv_count;
};

struct net {
    const char *name;
    wd_handle_t endpoint;
    struct wd_driver service;       /* no device: sessions are mapped here */
    struct wd_session_table sessions;
    struct net_socket sockets[WD_SESSION_SLOTS];
    uint64_t now_ns;                /* the loop's clock, read once per message */

    /* The link: a receiving session with the frame service. */
    char eth_name[WD_NAME_MAX + 1];
    bool link_up;
    wd_handle_t eth;                /* its endpoint (WD_NULL while down) */
    uint64_t eth_generation;        /* its registry generation: a new one is a restarted driver */
    struct wd_client_session link;
    wd_handle_t rx_pool;            /* the driver's receive buffers, READ */
    const uint8_t *rx_cpu;
    uint64_t rx_pool_size;
    unsigned rx_posted;
    unsigned frames_unsent, returns_unsent;     /* queued on the link since its last kick */
    bool in_link_poll;              /* link_notified is running (no second one from inside it) */
    uint16_t tx_free[NET_TX_BUFFERS];
    unsigned tx_free_count;
    uint64_t link_retry_ns;
    uint8_t mac[6];

    /* Addresses. */
    uint32_t ip, netmask, gateway, dns;
    unsigned config;                /* NETSVC_CONFIG_* */
    uint32_t static_ip, static_netmask, static_gateway;

    struct arp_entry arp[NET_ARP_ENTRIES];
    struct arp_waiting waiting[NET_ARP_WAITING_MAX];
    uint64_t arp_ttl_ns;
    struct ping pings[NET_PINGS_MAX];
    unsigned pings_in_flight;
    unsigned arp_asking;            /* entries asked for and not answered (arp_timers has work) */
    uint16_t ping_sequence;

    struct {
        bool done;                  /* leased, or fell back to the static address */
        unsigned state;
        uint32_t xid, offered, server, lease_s;
        uint64_t next_ns, give_up_ns, renew_ns;
        uint64_t timeout_ns;
    } dhcp;

    uint64_t counters[NET_COUNTER_COUNT];
};

#define NET_COUNT(n, c) ((n)->counters[NC_##c]++)

/* Byte order on the wire. */
static inline uint16_t net_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t net_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void net_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void net_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* link.c */
void link_init(struct net *n, const char *eth_name);
/* Opens the link when the frame service is (again) registered: true if up. */
bool link_try_open(struct net *n);
/* The link session's notification bits: takes completions (received
 * frames go to eth_input), posts receives, notices the driver's death. */
void link_notified(struct net *n, uint64_t bits);
/* A TX buffer to build a frame in (ETH_HEADER + payload), or NULL (counted). */
uint8_t *link_frame(struct net *n, unsigned *buffer);
/* Sends length bytes of buffer (from link_frame) to dst with our MAC as
 * source and type; publishes at the next link_flush. */
void link_send(struct net *n, unsigned buffer, const uint8_t dst[6], uint16_t type, unsigned length);
/* Gives back a buffer from link_frame that will not be sent. */
void link_discard(struct net *n, unsigned buffer);
/* Publishes what was queued and signals the driver. */
void link_flush(struct net *n);
/* eth_input is in main.c: one frame from the wire. */
void eth_input(struct net *n, const uint8_t *frame, unsigned length);

/* arp.c */
void arp_input(struct net *n, const uint8_t *frame, unsigned length);
/* The MAC of next_hop if known and fresh (asks for it otherwise): true if known. */
bool arp_lookup(struct net *n, uint32_t next_hop, uint8_t mac[6]);
/* Keeps a send or ping until next_hop answers (or gives up: TIMEOUT); when
 * every place is taken, the oldest waiter is failed (TIMEOUT) for it. */
void arp_wait(struct net *n, uint32_t next_hop, unsigned socket, const struct wd_ring_desc *request);
/* The gratuitous announce of our address. */
void arp_announce(struct net *n);
/* Retries and gives up on unanswered requests: the next deadline (0: none). */
uint64_t arp_timers(struct net *n);
/* NETSVC_OP_ARP: the index-th resolved entry. */
bool arp_entry_at(struct net *n, unsigned index, struct arp_entry *out);

/* ipv4.c */
uint16_t net_checksum(const void *data, unsigned length, uint32_t sum);
/* The next hop for dst: dst on our subnet, else the gateway. */
uint32_t ipv4_next_hop(const struct net *n, uint32_t dst);
/* Fills an IPv4 header at ip for payload bytes of protocol. */
void ipv4_header(uint8_t *ip, uint8_t protocol, uint32_t src, uint32_t dst, unsigned payload);
void ipv4_input(struct net *n, const uint8_t *frame, unsigned length);
/* NETSOCK_PING from socket (MAC known: sends; else waits for ARP). */
long ping_start(struct net *n, unsigned socket, const struct wd_ring_desc *request);
uint64_t ping_timers(struct net *n);

/* udp.c */
/* WD_SESSION_OPEN with the caller's badge (its port grant). */
void udp_open(struct net *n, struct wd_msg *msg);
void udp_notified(struct net *n, uint64_t bits);
/* A datagram to our address: to its socket, or DHCP's, or dropped. */
void udp_input(struct net *n, const uint8_t *ip, const uint8_t *udp, unsigned udp_length);
/* Runs a socket's send or ping that waited for ARP (the next hop is known
 * now), or completes it with error. */
void udp_run_waiting(struct net *n, struct arp_waiting *w, long error);
/* Completes a socket's request (and flushes). */
void socket_complete(struct net *n, unsigned socket, uint64_t generation, const struct wd_ring_desc *c);
/* Builds and queues one UDP datagram (payload copied from data): 0 or -WD_E_*. */
long udp_send_datagram(struct net *n, const uint8_t mac[6], uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                       const void *data, unsigned length);

/* dhcp.c */
void dhcp_start(struct net *n, uint64_t timeout_ns);
void dhcp_input(struct net *n, const uint8_t *payload, unsigned length);
uint64_t dhcp_timers(struct net *n);
/* Sets the address, says so, announces it. */
void net_configure(struct net *n, unsigned how, uint32_t ip, uint32_t netmask, uint32_t gateway);

#endif
