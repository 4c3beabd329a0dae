/*
 * arp.c - ARP for IPv4 over Ethernet (RFC 826): the cache (entries expire
 * after arp-ttl-ms, 60 s by default), replies for our address, requests
 * for next hops (sent again every 250 ms, given up after 1 s), the
 * gratuitous announce when an address is configured or the link comes
 * back, and the sends and pings that wait for an answer.
 *
 * What is believed: a request for our address teaches us its sender; a
 * reply only fills an entry we asked for (an unsolicited reply is counted
 * and ignored, so nobody can plant entries for addresses we never asked
 * about). Anything that is not Ethernet/IPv4 with 6- and 4-byte
 * addresses, or whose operation is not request or reply, is dropped.
 */
#include <string.h>

#include "net.h"

#define ARP_LENGTH 28u
#define ARP_REQUEST 1
#define ARP_REPLY 2

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct arp_entry *find(struct net *n, uint32_t ip)
{
    for (unsigned i = 0; i < NET_ARP_ENTRIES; i++)
        if (n->arp[i].ip == ip)
            return &n->arp[i];
    return NULL;
}

/* Fails what waits for e (TIMEOUT) and frees it: nobody answered. */
static void abandon(struct net *n, struct arp_entry *e)
{
    for (unsigned k = 0; k < NET_ARP_WAITING_MAX; k++) {
        struct arp_waiting *w = &n->waiting[k];
        if (w->used && w->next_hop == e->ip) {
            w->used = false;
            udp_run_waiting(n, w, -WD_E_TIMEOUT);
        }
    }
    e->ip = 0;
}

/* A free or expired entry for ip, or NULL. What a sender's request for us
 * teaches (RFC 826) goes only there: hosts that merely ask must not push
 * out the entries this service resolved to send. */
static struct arp_entry *take_free_entry(struct net *n, uint32_t ip)
{
    for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
        struct arp_entry *e = &n->arp[i];
        if (!e->ip || (e->resolved && e->expires_ns <= n->now_ns)) {
            *e = (struct arp_entry){ .ip = ip };
            return e;
        }
    }
    return NULL;
}

/* An entry for ip, to ask for it. In this order: a free or expired one; a
 * resolved one only learned from a request (this service never sent to
 * it), the one that expires first; the oldest still being asked for, once
 * those hold half the cache; a resolved one this service sends to, the one
 * that expires first. So neither hosts that merely ask nor datagrams from
 * addresses nobody answers ARP for (any host can send those, and each reply
 * asks for a second) push out the peers this service talks to. */
static struct arp_entry *take_entry_to_ask(struct net *n, uint32_t ip)
{
    struct arp_entry *victim = take_free_entry(n, ip);
    if (victim)
        return victim;
    struct arp_entry *learned = NULL, *talked = NULL, *oldest_asked = NULL;
    unsigned asked = 0;
    for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
        struct arp_entry *e = &n->arp[i];
        struct arp_entry **first = e->sent_to ? &talked : &learned;
        if (!e->resolved) {
            asked++;
            if (!oldest_asked || e->first_asked_ns < oldest_asked->first_asked_ns)
                oldest_asked = e;
        } else if (!*first || e->expires_ns < (*first)->expires_ns) {
            *first = e;
        }
    }
    victim = learned ? learned : talked;
    if (!learned && oldest_asked && (asked >= NET_ARP_ENTRIES / 2 || !talked)) {
        NET_COUNT(n, arp_timeouts);
        abandon(n, oldest_asked);
        victim = oldest_asked;
    }
    if (victim)
        *victim = (struct arp_entry){ .ip = ip };
    return victim;
}

static void send_arp(struct net *n, uint16_t op, const uint8_t *eth_dst, const uint8_t *target_mac, uint32_t target_ip,
                     uint32_t sender_ip)
{
    unsigned buffer;
    uint8_t *f = link_frame(n, &buffer);
    if (!f)
        return;
    uint8_t *a = f + ETH_HEADER;
    net_put16(a, 1);                        /* Ethernet */
    net_put16(a + 2, ETH_TYPE_IPV4);
    a[4] = 6;
    a[5] = 4;
    net_put16(a + 6, op);
    memcpy(a + 8, n->mac, 6);
    net_put32(a + 14, sender_ip);
    memcpy(a + 18, target_mac, 6);
    net_put32(a + 24, target_ip);
    link_send(n, buffer, eth_dst, ETH_TYPE_ARP, ETH_HEADER + ARP_LENGTH);
    if (op == ARP_REQUEST)
        NET_COUNT(n, arp_requests_sent);
    else
        NET_COUNT(n, arp_replies_sent);
}

static void ask(struct net *n, struct arp_entry *e)
{
    static const uint8_t zero_mac[6];
    e->asked_ns = n->now_ns;
    send_arp(n, ARP_REQUEST, broadcast_mac, zero_mac, e->ip, n->ip);
}

void arp_announce(struct net *n)
{
    static const uint8_t zero_mac[6];
    send_arp(n, ARP_REQUEST, broadcast_mac, zero_mac, n->ip, n->ip);
}

/* An entry became resolved: the sends and pings waiting for it go. */
static void resolved(struct net *n, struct arp_entry *e)
{
    for (unsigned i = 0; i < NET_ARP_WAITING_MAX; i++) {
        struct arp_waiting *w = &n->waiting[i];
        if (w->used && w->next_hop == e->ip) {
            w->used = false;
            udp_run_waiting(n, w, 0);
        }
    }
}

static void learn(struct net *n, struct arp_entry *e, const uint8_t *mac)
{
    bool was_resolved = e->resolved;
    memcpy(e->mac, mac, 6);
    e->resolved = true;
    e->expires_ns = n->now_ns + n->arp_ttl_ns;
    if (!was_resolved)
        resolved(n, e);
}

void arp_input(struct net *n, const uint8_t *frame, unsigned length)
{
    NET_COUNT(n, arp_in);
    const uint8_t *a = frame + ETH_HEADER;
    if (length < ETH_HEADER + ARP_LENGTH || net_get16(a) != 1 || net_get16(a + 2) != ETH_TYPE_IPV4 || a[4] != 6 ||
        a[5] != 4 || (net_get16(a + 6) != ARP_REQUEST && net_get16(a + 6) != ARP_REPLY)) {
        NET_COUNT(n, arp_bad);
        return;
    }
    uint16_t op = net_get16(a + 6);
    const uint8_t *sender_mac = a + 8;
    uint32_t sender_ip = net_get32(a + 14), target_ip = net_get32(a + 24);
    if ((sender_mac[0] & 1) || sender_ip == 0 || sender_ip == 0xFFFFFFFFu) {
        NET_COUNT(n, arp_bad);              /* a group MAC, or no address: nothing to learn or answer */
        return;
    }
    struct arp_entry *e = find(n, sender_ip);
    bool for_us = n->ip && target_ip == n->ip;
    if (e)
        learn(n, e, sender_mac);            /* RFC 826's merge: refresh what we know or asked for */
    else if (for_us && op == ARP_REQUEST && (e = take_free_entry(n, sender_ip)))
        learn(n, e, sender_mac);
    else if (op == ARP_REPLY)
        NET_COUNT(n, arp_unsolicited);
    if (for_us && op == ARP_REQUEST && sender_ip != n->ip) {
        send_arp(n, ARP_REPLY, sender_mac, sender_mac, sender_ip, n->ip);
        link_flush(n);
    }
}

bool arp_lookup(struct net *n, uint32_t next_hop, uint8_t mac[6])
{
    struct arp_entry *e = find(n, next_hop);
    if (e)
        e->sent_to = true;
    if (e && e->resolved && e->expires_ns > n->now_ns) {
        memcpy(mac, e->mac, 6);
        return true;
    }
    if (e && e->resolved) {
        e->resolved = false;                /* expired: ask again */
        e->first_asked_ns = 0;
    }
    if (!e && !(e = take_entry_to_ask(n, next_hop)))
        return false;
    e->sent_to = true;
    if (!e->first_asked_ns) {
        e->first_asked_ns = n->now_ns;
        n->arp_asking++;
        ask(n, e);
    }
    return false;
}

/* A free place to wait, else the oldest waiter's, which is failed (TIMEOUT):
 * replies to addresses nobody answers for (any host can send from those)
 * must not keep every later send waiting or refused for a second. */
void arp_wait(struct net *n, uint32_t next_hop, unsigned socket, const struct wd_ring_desc *request)
{
    struct arp_waiting *place = NULL;
    for (unsigned i = 0; i < NET_ARP_WAITING_MAX && !(place && !place->used); i++) {
        struct arp_waiting *w = &n->waiting[i];
        if (!w->used || !place || w->since_ns < place->since_ns)
            place = w;
    }
    if (place->used) {
        NET_COUNT(n, arp_timeouts);
        place->used = false;
        udp_run_waiting(n, place, -WD_E_TIMEOUT);
    }
    *place = (struct arp_waiting){ .used = true, .next_hop = next_hop, .socket = socket,
                                   .socket_generation = n->sockets[socket].generation, .since_ns = n->now_ns,
                                   .request = *request };
}

uint64_t arp_timers(struct net *n)
{
    uint64_t next = 0;
    if (!n->arp_asking)
        return 0;                           /* nothing asked and unanswered */
    n->arp_asking = 0;
    for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
        struct arp_entry *e = &n->arp[i];
        if (!e->ip || e->resolved || !e->first_asked_ns)
            continue;
        if (n->now_ns >= e->first_asked_ns + NET_ARP_GIVE_UP_MS * NET_MS) {
            NET_COUNT(n, arp_timeouts);
            abandon(n, e);
            continue;
        }
        n->arp_asking++;
        if (n->now_ns >= e->asked_ns + NET_ARP_RETRY_MS * NET_MS)
            ask(n, e);
        uint64_t due = e->asked_ns + NET_ARP_RETRY_MS * NET_MS;
        if (!next || due < next)
            next = due;
    }
    link_flush(n);
    return next;
}

bool arp_entry_at(struct net *n, unsigned index, struct arp_entry *out)
{
    for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
        const struct arp_entry *e = &n->arp[i];
        if (e->ip && e->resolved && e->expires_ns > n->now_ns && index-- == 0) {
            *out = *e;
            return true;
        }
    }
    return false;
}
