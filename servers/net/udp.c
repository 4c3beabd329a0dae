/*
 * udp.c - UDP (RFC 768) and the sockets clients hold: a socket is a
 * data-path session (<warden/session.h>) whose region the service maps
 * into itself (wd_driver_init_service) and copies to and from. A socket
 * binds the port it opened with, if the capability it opened through
 * grants that port (the badge NETSVC_OP_PORTS gave it). Sends are checked
 * (length, address, the region, the lease's rights) before anything is
 * built; a send whose next hop is not in the ARP cache waits for the
 * answer (arp.c). Received datagrams go to the oldest receive buffer the
 * socket posted; with none posted they are dropped and counted. Every copy
 * to or from a client's region is wd_copy_checked: a client that revokes
 * its lease in the middle of one gets DEAD, and the service goes on.
 */
#include <string.h>
#include <warden/syscalls.h>

#include "net.h"

#define TAKE_BATCH 16u
#define DHCP_CLIENT_PORT 68

static void socket_work(struct wd_session *s, void *ctx);

static bool port_granted(uint64_t badge, uint64_t port)
{
    if ((badge & ~0xFFFFFFFFull) != NET_PORTS_BADGE_TAG)
        return false;
    return port >= ((badge >> 16) & 0xFFFF) && port <= (badge & 0xFFFF);
}

static bool port_taken(struct net *n, uint16_t port)
{
    for (unsigned i = 0; i < WD_SESSION_SLOTS; i++)
        if (n->sessions.sessions[i].open && n->sockets[i].port == port)
            return true;
    return port == DHCP_CLIENT_PORT;        /* the DHCP client's, always */
}

static void refuse_open(struct wd_msg *msg, long error)
{
    for (unsigned i = 0; i < wd_msg_ncaps(msg->info) && i < WD_MSG_CAPS; i++)
        wd_cap_delete(msg->caps[i]);
    msg->w[0] = (uint64_t)error;
    msg->info = wd_msg_info(wd_msg_label(msg->info), 1, 0);
}

void udp_open(struct net *n, struct wd_msg *msg)
{
    uint64_t port = msg->w[1];
    struct wd_cap_info region;
    long r = 0;
    if (port > 0xFFFF || msg->w[0] > NETSOCK_MAX_CAPACITY)
        r = -WD_E_INVALID_ARG;
    else if (port && !port_granted(msg->badge, port))
        r = -WD_E_NO_RIGHTS;
    else if (port && port_taken(n, (uint16_t)port))
        r = -WD_E_EXISTS;
    else if (wd_msg_ncaps(msg->info) >= 1 && wd_cap_info(msg->caps[0], &region) == 0 &&
             (region.rights & (WD_RIGHT_READ | WD_RIGHT_WRITE)) != (WD_RIGHT_READ | WD_RIGHT_WRITE))
        r = -WD_E_NO_RIGHTS;                /* we read sends from it and write receives into it */
    if (r < 0) {
        refuse_open(msg, r);
        return;
    }
    struct wd_session *s;
    if (wd_session_accept(&n->sessions, msg, &s) < 0)
        return;
    struct net_socket *k = &n->sockets[s->id];
    uint64_t generation = k->generation + 1;
    memset(k, 0, sizeof *k);
    k->generation = generation;
    k->port = (uint16_t)port;
}

void socket_complete(struct net *n, unsigned socket, uint64_t generation, const struct wd_ring_desc *c)
{
    struct wd_session *s = &n->sessions.sessions[socket];
    if (!s->open || s->ended || n->sockets[socket].generation != generation)
        return;                             /* the socket is gone: nobody waits for it */
    wd_session_post_completion(s, c);
    if (wd_session_flush(s))
        socket_work(s, n);                  /* requests came meanwhile: take them now */
}

long udp_send_datagram(struct net *n, const uint8_t mac[6], uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                       const void *data, unsigned length)
{
    unsigned buffer;
    uint8_t *f = link_frame(n, &buffer);
    if (!f)
        return -WD_E_BUSY;
    uint8_t *ip = f + ETH_HEADER, *udp = ip + IPV4_HEADER;
    unsigned udp_length = UDP_HEADER + length;
    net_put16(udp, sport);
    net_put16(udp + 2, dport);
    net_put16(udp + 4, (uint16_t)udp_length);
    net_put16(udp + 6, 0);
    if (wd_copy_checked(udp + UDP_HEADER, data, length) < 0) {
        link_discard(n, buffer);            /* the client took its region back meanwhile */
        return -WD_E_DEAD;
    }
    uint32_t pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + IP_PROTO_UDP + udp_length;
    uint16_t sum = net_checksum(udp, udp_length, pseudo);
    net_put16(udp + 6, sum ? sum : 0xFFFF); /* 0 means "no checksum" */
    ipv4_header(ip, IP_PROTO_UDP, src, dst, udp_length);
    link_send(n, buffer, mac, ETH_TYPE_IPV4, ETH_HEADER + IPV4_HEADER + udp_length);
    NET_COUNT(n, udp_sent);
    return (long)length;
}

/* A NETSOCK_SEND: bytes sent, 1 << 40 when it waits for ARP, or -WD_E_*. */
#define WAITING (1l << 40)
static long send_request(struct net *n, struct wd_session *s, const struct wd_ring_desc *req)
{
    struct net_socket *k = &n->sockets[s->id];
    uint32_t dst = NETSOCK_ADDR_IP(req->arg);
    uint16_t dport = NETSOCK_ADDR_PORT(req->arg);
    void *data;
    if (!k->port)
        return -WD_E_NO_RIGHTS;
    if (req->length > NETSOCK_PAYLOAD_MAX || !dst || !dport || dst == 0xFFFFFFFFu || (dst >> 28) == 0xE ||
        (n->ip && dst == n->ip) || (req->arg >> 48))
        return -WD_E_INVALID_ARG;
    long r = wd_session_cpu(s, req->offset, req->length, WD_RIGHT_READ, &data);
    if (r < 0)
        return r;
    if (!n->ip || !n->link_up) {
        NET_COUNT(n, tx_link_down);
        return -WD_E_BUSY;
    }
    uint8_t mac[6];
    uint32_t hop = ipv4_next_hop(n, dst);
    if (!arp_lookup(n, hop, mac)) {
        link_flush(n);
        arp_wait(n, hop, (unsigned)s->id, req);
        return WAITING;
    }
    return udp_send_datagram(n, mac, n->ip, dst, k->port, dport, data, req->length);
}

/* Runs one request: its result, WAITING (completed later) or -WD_E_*. */
static long run(struct net *n, struct wd_session *s, const struct wd_ring_desc *req)
{
    struct net_socket *k = &n->sockets[s->id];
    switch (req->op) {
    case NETSOCK_SEND:
    case NETSOCK_SEND | NETSOCK_QUIET:
        return send_request(n, s, req);
    case NETSOCK_RECV: {
        void *buffer;
        long r = wd_session_cpu(s, req->offset, req->length, WD_RIGHT_WRITE, &buffer);
        if (r < 0)
            return r;
        if (!k->port)
            return -WD_E_NO_RIGHTS;
        k->recv[(k->recv_head + k->recv_count++) % NETSOCK_MAX_CAPACITY] = *req;
        return WAITING;
    }
    case NETSOCK_PING: {
        long r = ping_start(n, (unsigned)s->id, req);
        return r == 1 ? WAITING : r;
    }
    default:
        return -WD_E_NOT_SUPPORTED;
    }
}

static void post_result(struct wd_session *s, const struct wd_ring_desc *req, long result)
{
    struct wd_ring_desc c = { .op = req->op, .id = req->id };
    if (result < 0)
        c.status = (uint16_t)-result;
    else
        c.arg = (uint64_t)result;
    wd_session_post_completion(s, &c);
}

void udp_run_waiting(struct net *n, struct arp_waiting *w, long error)
{
    struct wd_session *s = &n->sessions.sessions[w->socket];
    if (!s->open || s->ended || n->sockets[w->socket].generation != w->socket_generation)
        return;
    long result = error ? error : run(n, s, &w->request);
    if (result == WAITING)
        return;
    if (result < 0 && (w->request.op & ~NETSOCK_QUIET) == NETSOCK_SEND)
        NET_COUNT(n, send_refused);
    post_result(s, &w->request, result);
    link_flush(n);
    if (wd_session_flush(s))
        socket_work(s, n);
}

static void socket_work(struct wd_session *s, void *ctx)
{
    struct net *n = ctx;
    bool more;
    do {
        struct wd_ring_desc reqs[TAKE_BATCH];
        long count;
        bool wake = false;                  /* a completion the client wants to be woken for */
        while ((count = wd_session_next_requests(s, reqs, TAKE_BATCH)) > 0) {
            for (long i = 0; i < count; i++) {
                long result = reqs[i].status ? -(long)reqs[i].status : run(n, s, &reqs[i]);
                if (result == WAITING)
                    continue;
                if (result < 0 && (reqs[i].op & ~NETSOCK_QUIET) == NETSOCK_SEND)
                    NET_COUNT(n, send_refused);
                wake |= result < 0 || !(reqs[i].op & NETSOCK_QUIET);
                post_result(s, &reqs[i], result);
            }
        }
        link_flush(n);
        if (count < 0)
            return;                         /* broken or ended */
        more = wake ? wd_session_flush(s) : wd_session_flush_quietly(s);
    } while (more);
}

static void socket_ended(struct wd_session *s, void *ctx)
{
    struct net *n = ctx;
    n->sockets[s->id].port = 0;
    n->sockets[s->id].recv_count = 0;
}

void udp_notified(struct net *n, uint64_t bits)
{
    wd_sessions_dispatch(&n->sessions, bits, socket_work, socket_ended, n);
    wd_sessions_end_broken(&n->sessions, "net");
}

static bool udp_checksum_ok(const uint8_t *ip, const uint8_t *udp, unsigned length)
{
    if (net_get16(udp + 6) == 0)
        return true;                        /* the sender computed none */
    uint32_t src = net_get32(ip + 12), dst = net_get32(ip + 16);
    uint32_t pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + IP_PROTO_UDP + length;
    return net_checksum(udp, length, pseudo) == 0;
}

void udp_input(struct net *n, const uint8_t *ip, const uint8_t *udp, unsigned ip_payload)
{
    NET_COUNT(n, udp_in);
    unsigned length = ip_payload >= UDP_HEADER ? net_get16(udp + 4) : 0;
    if (length < UDP_HEADER || length > ip_payload) {
        NET_COUNT(n, udp_bad_length);
        return;
    }
    if (!udp_checksum_ok(ip, udp, length)) {
        NET_COUNT(n, udp_bad_checksum);
        return;
    }
    uint16_t dport = net_get16(udp + 2);
    const uint8_t *payload = udp + UDP_HEADER;
    unsigned bytes = length - UDP_HEADER;
    if (dport == DHCP_CLIENT_PORT) {
        dhcp_input(n, payload, bytes);
        return;
    }
    if (n->config == NETSVC_CONFIG_NONE || net_get32(ip + 16) != n->ip) {
        NET_COUNT(n, udp_no_port);          /* broadcasts and pre-address datagrams go to DHCP only */
        return;
    }
    for (unsigned i = 0; i < WD_SESSION_SLOTS; i++) {
        struct net_socket *k = &n->sockets[i];
        struct wd_session *s = &n->sessions.sessions[i];
        if (!s->open || s->ended || k->port != dport)
            continue;
        if (!k->recv_count) {
            NET_COUNT(n, udp_no_buffer);
            return;
        }
        struct wd_ring_desc req = k->recv[k->recv_head];
        k->recv_head = (k->recv_head + 1) % NETSOCK_MAX_CAPACITY;
        k->recv_count--;
        void *buffer;
        struct wd_ring_desc c = { .op = NETSOCK_RECV, .id = req.id,
                                  .arg = NETSOCK_ADDR(net_get32(ip + 12), net_get16(udp)) };
        if (wd_session_cpu(s, req.offset, req.length, WD_RIGHT_WRITE, &buffer) < 0) {
            c.status = WD_E_DEAD;
        } else {
            unsigned copied = bytes < req.length ? bytes : req.length;
            if (wd_copy_checked(buffer, payload, copied) < 0) {
                c.status = WD_E_DEAD;       /* the client took its region back meanwhile */
            } else {
                c.length = copied | (copied < bytes ? NETSOCK_TRUNCATED : 0);
                NET_COUNT(n, udp_delivered);
            }
        }
        wd_session_post_completion(s, &c);
        wd_session_flush(s);
        return;
    }
    NET_COUNT(n, udp_no_port);
}
