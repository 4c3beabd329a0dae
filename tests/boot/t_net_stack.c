/*
 * t_net_stack.c - the network service (servers/net) and the echo service
 * (servers/echo) over the e1000e driver, tested from the host: in the
 * harness's `net` configuration the NIC is on -netdev dgram to the
 * harness's host peer (tests/netpeer/, 10.0.2.2), which runs campaigns
 * when asked over UDP (RUN <campaign> <id> to port 5555) and judges the
 * guest from outside: ARP, pings of many sizes, 1,000 UDP echoes, hostile
 * frames that must get no answer, a flood, and a stream through a driver
 * crash. In `net-user` the NIC is on QEMU's user network (restrict=on):
 * the DHCP lease, and the host's datagrams through hostfwd.
 *
 * The guest side checks what the service says it saw (every drop counted
 * under its reason) and what the peer reports; the harness checks the
 * peer's own record, which the guest cannot forge. The stack, sockets and
 * the peer's control protocol are in t_net_stack_helpers.c.
 */
#include <stdio.h>
#include <string.h>

#include "boot_tests.h"
#include "t_net_stack.h"

/* The host peer drives the stack: its verdict, then what the service counted. */
void test_net_stack_host_driven(void)
{
    if (!host_peer("host"))
        return;
    struct stack st;
    /* No DHCP server on this wire: the static fallback after 1.5 s. */
    if (!stack_ready(&st, "dhcp-timeout-ms=1500", true, NETSVC_CONFIG_STATIC))
        return;
    wd_handle_t net = st.net.client;
    struct wd_msg m;
    BT_CHECK_EQ(netsvc_call(net, NETSVC_OP_INFO, 0, &m), 0);
    BT_CHECK_EQ(m.w[1], GUEST_IP);
    BT_CHECK_EQ(m.w[2], 24);
    BT_CHECK_EQ(m.w[3], PEER_IP);
    BT_CHECK_EQ(m.w[6], 1);
    BT_CHECK_EQ(netsvc_call(net, NETSVC_OP_DHCP, 0, &m), 0);
    BT_CHECK(m.w[4] >= 1);                      /* it asked before falling back */
    BT_CHECK_EQ(m.w[1], 0);                     /* and has no lease */
    struct sock k;
    if (BT_OK(sock_open(&k, net, CONTROL_PORT)) < 0) {
        stack_down(&st);
        return;
    }
    /* The ping client: the peer answers; nobody is at .77 (ARP gives up). */
    struct wd_ring_desc c;
    BT_CHECK_EQ(sock_request(&k, NETSOCK_PING, 0, 56, PEER_IP, &c), 0);
    BT_CHECK(c.arg > 0 && c.arg < 1000 * BT_MS);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_PING, 0, 1472, PEER_IP, &c), 0);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_PING, 0, 8, NET_IPV4(10, 0, 2, 77), &c), -WD_E_TIMEOUT);
    char line[TEXT_MAX];
    bool finished = peer_run(&k, "stack", 1) && peer_result(&st, &k, 1, line, 55000 * BT_MS);
    if (!finished || !result_ok(line))
        print_counters(net);                    /* what the service saw, for the failure's story */
    if (finished) {
        BT_CHECK(result_ok(line));
        BT_CHECK_EQ(result_value(line, "malformed_answered"), 0);
        BT_CHECK(result_value(line, "malformed") >= 20);
        BT_CHECK(result_value(line, "fuzz") >= 1000);           /* seeded random frames (tests/netpeer/fuzzed.py) */
        BT_CHECK(result_value(line, "fuzz_echoes") >= 1);       /* honest echoes answered between them */
        BT_CHECK(result_value(line, "gratuitous") >= 1);
        BT_CHECK(result_value(line, "dhcp_seen") >= 1);
    }
    /* Every hostile kind was seen and dropped under its own reason. */
    static const char *const dropped[] = { "eth_unknown_type", "arp_bad", "ipv4_bad_header", "ipv4_bad_checksum",
                                           "ipv4_bad_length", "ipv4_fragments", "ipv4_not_for_us", "icmp_bad",
                                           "udp_bad_length", "udp_bad_checksum" };
    for (unsigned i = 0; i < sizeof dropped / sizeof dropped[0]; i++) {
        uint64_t v = netsvc_counter(net, dropped[i]);
        if (v == 0 || v == ~0ull)
            printf("# counter %s is %llu\n", dropped[i], (unsigned long long)v);
        BT_CHECK(v > 0 && v != ~0ull);
    }
    BT_CHECK(netsvc_counter(net, "icmp_echo_replies_sent") >= 9);
    BT_CHECK(netsvc_counter(net, "arp_replies_sent") >= 2);
    BT_CHECK(echoed(&st) >= 1050);
    /* The peer is in the ARP cache with its own MAC (the fuzzed ARP
     * packets' strangers, 10.0.2.100-149, may be there too). */
    uint64_t entry = 0;
    while (netsvc_call(net, NETSVC_OP_ARP, entry, &m) == 0 && m.w[1] != PEER_IP)
        entry++;
    BT_CHECK_EQ(m.w[1], PEER_IP);
    BT_CHECK_EQ(m.w[2], 0x020000000002ull);      /* 02:00:00:00:00:02 */
    BT_CHECK(m.w[3] > 0);
    wd_client_close(&k.s, CALL_TIMEOUT);
    stack_down(&st);
}

/* The driver dies while the host streams datagrams through the echo
 * service: the kernel revokes the NIC, a new driver registers under the
 * same name, the network service opens its link again (a rebind), and the
 * stream resumes; the peer counts what was lost meanwhile. */
void test_net_udp_stream_driver_killed(void)
{
    if (!host_peer("host"))
        return;
    struct stack st;
    struct sock k;
    if (!stack_ready(&st, "ip=10.0.2.15/24", true, NETSVC_CONFIG_STATIC))
        return;
    if (BT_OK(sock_open(&k, st.net.client, CONTROL_PORT)) < 0) {
        stack_down(&st);
        return;
    }
    struct wd_irq_stats irqs;
    BT_OK(wd_irq_stats(&irqs));
    uint64_t live = irqs.live_irqs - 3;         /* the driver's three MSI-X sources */
    char line[TEXT_MAX];
    if (!peer_run(&k, "stream", 2)) {
        stack_down(&st);
        return;
    }
    uint64_t deadline = (uint64_t)wd_time_now() + 30000 * BT_MS;
    while (echoed(&st) < 200 && (uint64_t)wd_time_now() < deadline)
        wd_thread_sleep(20 * BT_MS);
    uint64_t before = echoed(&st);
    BT_CHECK(before >= 200);
    BT_OK(wd_process_kill(st.eth.process, 0));
    struct wd_msg m;
    BT_CHECK_EQ(bt_wait_kernel_message(st.eth.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, CALL_TIMEOUT), 0);
    device_expect_released(st.device, live);
    wd_thread_sleep(30 * BT_MS);                /* past the throttle window (docs/network.md) */
    uint64_t lost_at = echoed(&st);
    if (driver_spawn_as(&st.eth, "e1000e", st.device, st.eth_name, "", ETH_POOL) &&
        driver_wait_registered(&st.eth, st.eth_name)) {
        deadline = (uint64_t)wd_time_now() + 10000 * BT_MS;
        while (netsvc_call(st.net.client, NETSVC_OP_INFO, 0, &m) == 0 && !(m.w[6] == 1 && m.w[7] == 1) &&
               (uint64_t)wd_time_now() < deadline)
            wd_thread_sleep(10 * BT_MS);
        BT_CHECK_EQ(m.w[6], 1);                 /* the link is up again */
        BT_CHECK_EQ(m.w[7], 1);                 /* after one rebind */
        deadline = (uint64_t)wd_time_now() + 30000 * BT_MS;
        while (echoed(&st) < lost_at + 200 && (uint64_t)wd_time_now() < deadline)
            wd_thread_sleep(20 * BT_MS);
        BT_CHECK(echoed(&st) >= lost_at + 200);  /* the echo resumed */
    }
    /* STOP until the peer says it heard it (a lost STOP would let the stream run on). */
    for (int tries = 0; tries < 10; tries++) {
        sock_send_text(&k, "STOP stream 2", PEER_IP, PEER_CONTROL_PORT);
        if (sock_recv_text(&k, line, 500 * BT_MS) == 0 && strncmp(line, "ACK STOP 2", 10) == 0)
            break;
    }
    if (peer_result(&st, &k, 2, line, 20000 * BT_MS)) {
        BT_CHECK(result_ok(line));
        BT_CHECK_EQ(result_value(line, "bad"), 0);
        /* Loss only in the restart window: a datagram per 40 ms for at most a few seconds. */
        BT_CHECK(result_value(line, "lost") <= 100);
        BT_CHECK(result_value(line, "longest_gap_ms") < 5000);
    }
    BT_CHECK_EQ(netsvc_counter(st.net.client, "link_lost"), 1);
    BT_CHECK_EQ(netsvc_counter(st.net.client, "link_opens"), 2);
    wd_client_close(&k.s, CALL_TIMEOUT);
    stack_down(&st);
}

static long open_status(wd_handle_t net, uint64_t port, uint64_t rights, uint32_t capacity)
{
    struct sock k;
    memset(&k, 0, sizeof k);
    long r = wd_client_open(&k.s, net, bt_pool(), SOCKET_REGION, rights, capacity, &port, 1, CALL_TIMEOUT);
    if (r == 0)
        wd_client_close(&k.s, CALL_TIMEOUT);
    return r;
}

/* Clients get only the ports they were granted, and every request outside
 * what they gave the service is refused before anything is sent. */
void test_net_port_grants(void)
{
    if (!host_peer("host"))
        return;
    struct stack st;
    if (!stack_ready(&st, "ip=10.0.2.15/24", true, NETSVC_CONFIG_STATIC))
        return;
    wd_handle_t net = st.net.client;
    struct wd_msg m;
    BT_CHECK_EQ(netsvc_call(net, NETSVC_OP_INFO, 0, &m), 0);
    m = (struct wd_msg){ .info = wd_msg_info(NETSVC_OP_PORTS, 2, 0), .w = { 7000, 7001 } };
    BT_CHECK_EQ(wd_call(net, &m, CALL_TIMEOUT), 0);
    BT_CHECK_EQ(m.w[0], 0);
    wd_handle_t grant = wd_msg_ncaps(m.info) == 1 ? m.caps[0] : WD_NULL;
    BT_CHECK(grant != WD_NULL);
    /* Binding: inside the grant only; a port somebody has is taken. */
    struct sock k;
    BT_CHECK_EQ(sock_open(&k, grant, 7000), 0);
    BT_CHECK_EQ(open_status(grant, 7002, WD_RIGHT_READ | WD_RIGHT_WRITE, 8), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(open_status(grant, 6999, WD_RIGHT_READ | WD_RIGHT_WRITE, 8), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(open_status(grant, 7, WD_RIGHT_READ | WD_RIGHT_WRITE, 8), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(open_status(net, 7000, WD_RIGHT_READ | WD_RIGHT_WRITE, 8), -WD_E_EXISTS);
    BT_CHECK_EQ(open_status(net, 7, WD_RIGHT_READ | WD_RIGHT_WRITE, 8), -WD_E_EXISTS);     /* echo's */
    BT_CHECK_EQ(open_status(net, 68, WD_RIGHT_READ | WD_RIGHT_WRITE, 8), -WD_E_EXISTS);    /* DHCP's */
    BT_CHECK_EQ(open_status(net, 70000, WD_RIGHT_READ | WD_RIGHT_WRITE, 8), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(open_status(grant, 7001, WD_RIGHT_READ, 8), -WD_E_NO_RIGHTS);   /* the service could not write it */
    BT_CHECK_EQ(open_status(grant, 7001, WD_RIGHT_READ | WD_RIGHT_WRITE, 512), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(open_status(grant, 7001, WD_RIGHT_READ | WD_RIGHT_WRITE, 8), 0);
    /* A grant narrows, never widens. */
    uint64_t asks[][3] = { { 6999, 7001, (uint64_t)-WD_E_RANGE }, { 7000, 7002, (uint64_t)-WD_E_RANGE },
                           { 0, 5, (uint64_t)-WD_E_INVALID_ARG }, { 9, 8, (uint64_t)-WD_E_INVALID_ARG },
                           { 7001, 7001, 0 } };
    for (unsigned i = 0; i < 5; i++) {
        m = (struct wd_msg){ .info = wd_msg_info(NETSVC_OP_PORTS, 2, 0), .w = { asks[i][0], asks[i][1] } };
        BT_CHECK_EQ(wd_call(grant, &m, CALL_TIMEOUT), 0);
        BT_CHECK_EQ(m.w[0], asks[i][2]);
        for (unsigned c = 0; c < wd_msg_ncaps(m.info); c++)
            wd_cap_delete(m.caps[c]);
    }
    /* Requests outside the region, bad lengths and addresses: refused, nothing sent. */
    uint64_t sent = netsvc_counter(net, "udp_sent");
    struct wd_ring_desc c;
    uint64_t peer = NETSOCK_ADDR(PEER_IP, 9);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_SEND, SOCKET_REGION - 10, 11, peer, &c), -WD_E_RANGE);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_SEND, ~0ull - 4, 8, peer, &c), -WD_E_RANGE);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_SEND, 0, NETSOCK_PAYLOAD_MAX + 1, peer, &c), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_SEND, 0, 8, NETSOCK_ADDR(0, 9), &c), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_SEND, 0, 8, NETSOCK_ADDR(PEER_IP, 0), &c), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_SEND, 0, 8, NETSOCK_ADDR(0xFFFFFFFFu, 9), &c), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_SEND, 0, 8, NETSOCK_ADDR(GUEST_IP, 9), &c), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_SEND, 0, 8, peer | 1ull << 60, &c), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_RECV, SOCKET_REGION, 1, 0, &c), -WD_E_RANGE);
    BT_CHECK_EQ(sock_request(&k, 99, 0, 8, 0, &c), -WD_E_NOT_SUPPORTED);
    BT_CHECK_EQ(sock_request(&k, NETSOCK_PING, 0, 8, 0xFFFFFFFFu, &c), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(netsvc_counter(net, "udp_sent"), sent);
    /* A socket without a port may ping, not send or receive. */
    struct sock pinger;
    BT_CHECK_EQ(sock_open(&pinger, grant, 0), 0);
    BT_CHECK_EQ(sock_request(&pinger, NETSOCK_SEND, 0, 8, peer, &c), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(sock_request(&pinger, NETSOCK_RECV, 0, 8, 0, &c), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(sock_request(&pinger, NETSOCK_PING, 0, 8, PEER_IP, &c), 0);
    wd_client_close(&pinger.s, CALL_TIMEOUT);
    /* The client takes its region back: the session ends, the port is free again. */
    BT_CHECK_EQ(wd_client_revoke(&k.s), 0);
    uint64_t until = (uint64_t)wd_time_now() + CALL_TIMEOUT;
    long r;
    while ((r = open_status(grant, 7000, WD_RIGHT_READ | WD_RIGHT_WRITE, 8)) == -WD_E_EXISTS &&
           (uint64_t)wd_time_now() < until)
        wd_thread_sleep(5 * BT_MS);
    BT_CHECK_EQ(r, 0);
    wd_client_close(&k.s, CALL_TIMEOUT);
    BT_CHECK_EQ(netsvc_call(net, NETSVC_OP_INFO, 0, &m), 0);       /* still serving */
    wd_cap_delete(grant);
    stack_down(&st);
}

/* Whether a datagram is tests/netpeer/'s HostfwdPeer datagram: b'HFWD',
 * its sequence number, then byte k = (seq * 7 + k) & 0xFF. */
static bool hostfwd_datagram_ok(const uint8_t *p, unsigned n)
{
    if (n < 8 || memcmp(p, "HFWD", 4) != 0)
        return false;
    uint32_t seq;
    memcpy(&seq, p + 4, 4);
    for (unsigned k = 0; k < n - 8; k++)
        if (p[8 + k] != (uint8_t)(seq * 7 + k))
            return false;
    return true;
}

/* Through QEMU's user network (restrict=on): the address from its DHCP
 * server, a ping slirp answers, and a host socket's datagrams through
 * hostfwd, each checked here (no answer can go back: libslirp drops every
 * UDP datagram from the guest under restrict=on, docs/network.md). */
void test_net_dhcp_and_hostfwd(void)
{
    if (!host_peer("user"))
        return;
    struct stack st;
    if (!stack_ready(&st, "", false, NETSVC_CONFIG_DHCP))
        return;
    wd_handle_t net = st.net.client;
    struct wd_msg m;
    BT_CHECK_EQ(netsvc_call(net, NETSVC_OP_INFO, 0, &m), 0);
    BT_CHECK_EQ(m.w[1], GUEST_IP);
    BT_CHECK_EQ(m.w[2], 24);
    BT_CHECK_EQ(m.w[3], NET_IPV4(10, 0, 2, 2));     /* no router option under restrict=on: the server */
    BT_CHECK_EQ(netsvc_call(net, NETSVC_OP_DHCP, 0, &m), 0);
    BT_CHECK_EQ(m.w[1], NET_IPV4(10, 0, 2, 2));     /* slirp's server */
    BT_CHECK(m.w[2] > 0);                           /* a lease time */
    BT_CHECK_EQ(m.w[3], 0);                         /* restrict=on: slirp names no DNS server */
    BT_CHECK(m.w[5] >= 1);
    struct sock k;
    struct wd_ring_desc c;
    if (BT_OK(sock_open(&k, net, 7)) < 0) {
        stack_down(&st);
        return;
    }
    BT_CHECK_EQ(sock_request(&k, NETSOCK_PING, 0, 56, NET_IPV4(10, 0, 2, 2), &c), 0);  /* slirp answers */
    unsigned good = 0, bad = 0;
    uint64_t deadline = (uint64_t)wd_time_now() + 40000 * BT_MS, said = 0;
    while (good < 100 && (uint64_t)wd_time_now() < deadline) {
        struct wd_ring_desc d = { .op = NETSOCK_RECV, .offset = 0, .length = 2048, .id = ++k.next_id };
        if (BT_OK(wd_client_submit(&k.s, &d)) < 0 || BT_OK(wd_client_kick(&k.s)) < 0)
            break;
        long r = wd_client_wait(&k.s, &c, 5000 * BT_MS);
        if (r == 0 && c.status == 0 && NETSOCK_ADDR_IP(c.arg) == NET_IPV4(10, 0, 2, 2) &&
            hostfwd_datagram_ok(k.s.region.cpu, c.length & ~NETSOCK_TRUNCATED))
            good++;
        else if (r == 0)
            bad++;
        if ((uint64_t)wd_time_now() > said + 5000 * BT_MS) {
            said = (uint64_t)wd_time_now();
            printf("# %u datagrams from the host arrived intact so far\n", good);
        }
    }
    printf("# %u datagrams through hostfwd arrived intact, %u otherwise\n", good, bad);
    BT_CHECK(good >= 100);
    BT_CHECK_EQ(bad, 0);
    wd_client_close(&k.s, CALL_TIMEOUT);
    stack_down(&st);
}

/* ARP entries expire: with arp-ttl-ms=300 the peer's entry is listed after a
 * ping, gone 400 ms later, and the next ping asks for it again. */
void test_net_arp_expiry(void)
{
    if (!host_peer("host"))
        return;
    struct stack st;
    if (!stack_ready(&st, "ip=10.0.2.15/24 arp-ttl-ms=300", false, NETSVC_CONFIG_STATIC))
        return;
    wd_handle_t net = st.net.client;
    struct sock k;
    struct wd_ring_desc c;
    struct wd_msg m;
    if (BT_OK(sock_open(&k, net, 0)) == 0) {
        BT_CHECK_EQ(sock_request(&k, NETSOCK_PING, 0, 8, PEER_IP, &c), 0);
        uint64_t asked = netsvc_counter(net, "arp_requests_sent");
        BT_CHECK_EQ(netsvc_call(net, NETSVC_OP_ARP, 0, &m), 0);
        BT_CHECK_EQ(m.w[1], PEER_IP);
        BT_CHECK(m.w[3] <= 300);
        BT_CHECK_EQ(sock_request(&k, NETSOCK_PING, 0, 8, PEER_IP, &c), 0);   /* cached: no request */
        BT_CHECK_EQ(netsvc_counter(net, "arp_requests_sent"), asked);
        wd_thread_sleep(400 * BT_MS);
        BT_CHECK_EQ(netsvc_call(net, NETSVC_OP_ARP, 0, &m), -WD_E_NOT_FOUND);      /* expired */
        BT_CHECK_EQ(sock_request(&k, NETSOCK_PING, 0, 8, PEER_IP, &c), 0);
        BT_CHECK(netsvc_counter(net, "arp_requests_sent") > asked);                /* asked again */
        wd_client_close(&k.s, CALL_TIMEOUT);
    }
    stack_down(&st);
}
