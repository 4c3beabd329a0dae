/*
 * t_net_stack_helpers.c - the network-service tests' helpers (t_net_stack.h):
 * bringing up and down the e1000e driver, the network service and the echo
 * service; test sockets (a receive kept posted, text datagrams); the host
 * peer's campaigns over its control port and their RESULT lines; the
 * service's counters and ARP cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_tests.h"
#include "t_net_stack.h"

bool host_peer(const char *which)
{
    char flag[32];
    snprintf(flag, sizeof flag, "netpeer=%s", which);
    if (!strstr(wd_start_info->cmdline, flag)) {
        BT_SKIP("no host peer of this kind (the harness's net and net-user configurations have them)");
        return false;
    }
    return true;
}

long netsvc_call(wd_handle_t service, uint32_t op, uint64_t w0, struct wd_msg *m)
{
    *m = (struct wd_msg){ .info = wd_msg_info(op, 1, 0), .w = { w0 } };
    long r = wd_call(service, m, CALL_TIMEOUT);
    return r < 0 ? r : (long)m->w[0];
}

/* The network service's counter called name (~0 if it has none). */
uint64_t netsvc_counter(wd_handle_t net, const char *name)
{
    struct wd_msg m;
    for (uint64_t i = 0; netsvc_call(net, NETSVC_OP_COUNTER, i, &m) == 0; i++)
        if (strncmp((const char *)&m.w[2], name, 32) == 0)
            return m.w[1];
    printf("# the network service has no counter \"%s\"\n", name);
    return ~0ull;
}

uint64_t echoed(struct stack *st)
{
    struct wd_msg m;
    return netsvc_call(st->echo.client, ECHO_OP_STATS, 0, &m) == 0 ? m.w[1] : 0;
}

/* The driver under eth_name, the network service over it (net_args), and
 * (with echo) the echo service on port 7. */
static bool stack_up_with(struct stack *st, const char *net_args, bool echo)
{
    memset(st, 0, sizeof *st);
    struct wd_device_info info;
    if (!dma_test_device(NIC_VENDOR, NIC_DEVICE, "e1000e", &info))
        return false;
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    if (device < 0)
        return false;
    st->device = (wd_handle_t)device;
    static unsigned stacks;
    stacks++;
    snprintf(st->eth_name, sizeof st->eth_name, "eth-test-%u", stacks);
    snprintf(st->net_name, sizeof st->net_name, "net-test-%u", stacks);
    snprintf(st->echo_name, sizeof st->echo_name, "echo-test-%u", stacks);
    char args[128];
    snprintf(args, sizeof args, "eth=%s %s", st->eth_name, net_args);
    char echo_args[64];
    snprintf(echo_args, sizeof echo_args, "net=%s port=7", st->net_name);
    return driver_spawn_as(&st->eth, "e1000e", st->device, st->eth_name, "", ETH_POOL) &&
           driver_wait_registered(&st->eth, st->eth_name) &&
           driver_spawn_as(&st->net, "net", WD_NULL, st->net_name, args, NET_POOL) &&
           driver_wait_registered(&st->net, st->net_name) &&
           (!echo || (driver_spawn_as(&st->echo, "echo", WD_NULL, st->echo_name, echo_args, ECHO_POOL) &&
           driver_wait_registered(&st->echo, st->echo_name)));
}


void stack_down(struct stack *st)
{
    struct edu_driver *all[] = { &st->echo, &st->net, &st->eth };
    for (unsigned i = 0; i < 3; i++)
        if (all[i]->process)
            wd_process_kill(all[i]->process, 0);
    if (st->device)
        wd_cap_delete(st->device);
}

/* Waits until the service has an address configured as how. */
static bool wait_configured(struct stack *st, unsigned how, uint64_t timeout)
{
    uint64_t deadline = (uint64_t)wd_time_now() + timeout;
    struct wd_msg m;
    while (netsvc_call(st->net.client, NETSVC_OP_INFO, 0, &m) == 0 && m.w[4] == NETSVC_CONFIG_NONE &&
           (uint64_t)wd_time_now() < deadline)
        wd_thread_sleep(20 * BT_MS);
    BT_CHECK_EQ(m.w[4], how);
    return m.w[4] == how;
}

/* The stack up (with the echo service if echo) and its address configured
 * as how within 10 s; on failure everything is taken down again. */
bool stack_ready(struct stack *st, const char *net_args, bool echo, unsigned how)
{
    if (stack_up_with(st, net_args, echo) && wait_configured(st, how, 10000 * BT_MS))
        return true;
    stack_down(st);
    return false;
}

long sock_open(struct sock *k, wd_handle_t net, uint16_t port)
{
    memset(k, 0, sizeof *k);
    uint64_t arg = port;
    return wd_client_open(&k->s, net, bt_pool(), SOCKET_REGION, WD_RIGHT_READ | WD_RIGHT_WRITE, SOCKET_CAPACITY,
                          &arg, 1, CALL_TIMEOUT);
}

/* One request and its completion (receives that complete meanwhile are dropped). */
long sock_request(struct sock *k, uint16_t op, uint64_t offset, uint32_t length, uint64_t arg,
                  struct wd_ring_desc *out)
{
    struct wd_ring_desc d = { .op = op, .offset = offset, .length = length, .arg = arg, .id = ++k->next_id };
    long r = wd_client_submit(&k->s, &d);
    if (r == 0)
        r = wd_client_kick(&k->s);
    while (r == 0 && (r = wd_client_wait(&k->s, out, CALL_TIMEOUT)) == 0 && out->id != d.id)
        if (out->op == NETSOCK_RECV)
            k->receive_posted = false;
    return r < 0 ? r : -(long)out->status;
}

long sock_send_text(struct sock *k, const char *text, uint32_t ip, uint16_t port)
{
    size_t n = strlen(text);
    memcpy((char *)k->s.region.cpu + TEXT_MAX, text, n);
    struct wd_ring_desc c;
    return sock_request(k, NETSOCK_SEND, TEXT_MAX, (uint32_t)n, NETSOCK_ADDR(ip, port), &c);
}

/* The next datagram as text (NUL-terminated) within timeout: 0, TIMEOUT or an error. */
long sock_recv_text(struct sock *k, char *out, uint64_t timeout)
{
    if (!k->receive_posted) {
        struct wd_ring_desc d = { .op = NETSOCK_RECV, .offset = 0, .length = TEXT_MAX - 1, .id = 0 };
        long r = wd_client_submit(&k->s, &d);
        if (r == 0)
            r = wd_client_kick(&k->s);
        if (r < 0)
            return r;
        k->receive_posted = true;
    }
    struct wd_ring_desc c;
    long r;
    while ((r = wd_client_wait(&k->s, &c, timeout)) == 0 && c.op != NETSOCK_RECV)
        ;
    if (r < 0)
        return r;
    k->receive_posted = false;
    if (c.status)
        return -(long)c.status;
    unsigned n = c.length & ~NETSOCK_TRUNCATED;
    memcpy(out, k->s.region.cpu, n);
    out[n] = 0;
    return 0;
}

/* RUN campaign id until the peer ACKs (a second apart, 10 tries). */
bool peer_run(struct sock *k, const char *campaign, unsigned id)
{
    char cmd[64], ack[64], got[TEXT_MAX];
    snprintf(cmd, sizeof cmd, "RUN %s %u", campaign, id);
    snprintf(ack, sizeof ack, "ACK %s %u", campaign, id);
    for (int tries = 0; tries < 10; tries++) {
        if (BT_OK(sock_send_text(k, cmd, PEER_IP, PEER_CONTROL_PORT)) < 0)
            return false;
        uint64_t until = (uint64_t)wd_time_now() + 1000 * BT_MS;
        long r;
        while ((r = sock_recv_text(k, got, 1000 * BT_MS)) == 0 && strcmp(got, ack) != 0 &&
               (uint64_t)wd_time_now() < until)
            ;
        if (r == 0 && strcmp(got, ack) == 0)
            return true;
    }
    printf("# the host peer never acknowledged \"%s\"\n", cmd);
    BT_CHECK(false);
    return false;
}

/* The peer's RESULT line for id into out (waiting at most timeout, saying how it goes); sends GOT. */
bool peer_result(struct stack *st, struct sock *k, unsigned id, char *out, uint64_t timeout)
{
    char want[32];
    snprintf(want, sizeof want, " %u ", id);
    uint64_t deadline = (uint64_t)wd_time_now() + timeout, said = 0;
    while ((uint64_t)wd_time_now() < deadline) {
        long r = sock_recv_text(k, out, 500 * BT_MS);
        if (r == 0 && strncmp(out, "RESULT ", 7) == 0 && strstr(out, want)) {
            char got[32];
            snprintf(got, sizeof got, "GOT %u", id);
            sock_send_text(k, got, PEER_IP, PEER_CONTROL_PORT);
            printf("# host peer: %s\n", out);
            return true;
        }
        if ((uint64_t)wd_time_now() > said + 5000 * BT_MS) {
            said = (uint64_t)wd_time_now();
            printf("# waiting for the host peer: %llu datagrams echoed so far\n", (unsigned long long)echoed(st));
        }
    }
    printf("# no RESULT from the host peer for campaign %u\n", id);
    BT_CHECK(false);
    return false;
}

/* key=N from a RESULT line (~0 if absent). */
uint64_t result_value(const char *line, const char *key)
{
    char k[40];
    snprintf(k, sizeof k, " %s=", key);
    const char *p = strstr(line, k);
    return p ? strtoull(p + strlen(k), NULL, 10) : ~0ull;
}

bool result_ok(const char *line)
{
    const char *p = strchr(line + 7, ' ');      /* after the campaign */
    p = p ? strchr(p + 1, ' ') : NULL;          /* after the id */
    return p && strncmp(p + 1, "ok", 2) == 0;
}

void print_counters(wd_handle_t net)
{
    static const char *const names[] = { "frames_in", "frames_out", "arp_in", "arp_bad", "arp_replies_sent",
                                         "arp_requests_sent", "arp_unsolicited", "arp_timeouts", "udp_in",
                                         "udp_delivered", "udp_sent", "send_refused", "tx_no_buffer", "tx_failed",
                                         "udp_no_buffer", "link_lost" };
    printf("# the network service's counters:");
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        printf(" %s=%llu", names[i], (unsigned long long)netsvc_counter(net, names[i]));
    printf("\n# its ARP cache:");
    struct wd_msg m;
    for (uint64_t i = 0; netsvc_call(net, NETSVC_OP_ARP, i, &m) == 0; i++)
        printf(" %u.%u.%u.%u", (unsigned)(m.w[1] >> 24), (unsigned)(m.w[1] >> 16) & 0xFF,
               (unsigned)(m.w[1] >> 8) & 0xFF, (unsigned)m.w[1] & 0xFF);
    printf("\n");
}
