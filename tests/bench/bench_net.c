/*
 * bench_net.c - the network path's measures (docs/network.md): two e1000e
 * NICs of this machine on one QEMU hub (-netdev hubport, nothing else on
 * it), a driver, a network service and addresses on each (10.0.3.1 on
 * "bench-eth-a", 10.0.3.2 on "bench-eth-b"), the echo service on the b
 * side's UDP port 7, and this program as the client on the a side:
 *   net_udp_echo_batch1   one 64-byte datagram at a time: client -> net-a
 *                         -> eth-a -> hub -> eth-b -> net-b -> echo and
 *                         back; instructions per round trip;
 *   net_udp_echo_batch32  32 datagrams kept in flight; per packet (a
 *                         packet is one frame sent by one NIC and received
 *                         by the other: an echo is two).
 * Each line also gives the drivers' own work per packet (both drivers'
 * CPU time from process_info: one frame is one driver's send and the
 * other's receive), the network services' and the echo service's, kernel entries per packet (all processes, and the
 * drivers' own) and IOMMU invalidations per packet. Samples are CPU work
 * as in bench_blk.c (elapsed TSC minus idle TSC), means over a run.
 * Skipped without two e1000e NICs (tools/bench.sh adds them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <warden/region.h>
#include <warden/registry.h>
#include <warden/spawn.h>

#include "bench.h"
#include "../../servers/net/net_protocol.h"

#define NET_TIMEOUT (10000ull * 1000 * 1000)
#define ROUNDS_BATCH1 2000u
#define ECHOES_BATCH32 16000u
#define IN_FLIGHT 32u
#define PAYLOAD 64u
#define SLOT 2048u
#define RECV_POSTED 64u
#define CLIENT_CAPACITY 256u
#define CLIENT_PORT 1000
#define ECHO_IP NET_IPV4(10, 0, 3, 2)
#define ID_RECV (1ull << 32)

struct net_bench {
    long process[5];                /* eth-a, eth-b, net-a, net-b, echo */
    long device[2];
    wd_handle_t net_a;
    struct wd_client_session s;
};

struct net_counters {
    uint64_t tsc, idle, syscalls, invalidations, driver_tsc, driver_syscalls, service_tsc, echo_tsc;
    uint64_t entries[6];            /* per process: eth-a, eth-b, net-a, net-b, echo, this client */
};

static void counters_now(struct net_bench *b, struct net_counters *c)
{
    struct wd_system_info info;
    struct wd_iommu_info iommu;
    c->driver_tsc = c->driver_syscalls = c->service_tsc = c->echo_tsc = 0;
    for (unsigned i = 0; i < 5; i++) {
        struct wd_process_info p;
        if (wd_process_info((wd_handle_t)b->process[i], &p) < 0)
            continue;
        c->entries[i] = p.syscalls;
        if (i < 2) {
            c->driver_tsc += p.cpu_tsc;
            c->driver_syscalls += p.syscalls;
        } else if (i < 4) {
            c->service_tsc += p.cpu_tsc;
        } else {
            c->echo_tsc += p.cpu_tsc;
        }
    }
    struct wd_process_info self;
    c->entries[5] = wd_process_info(WD_NULL, &self) == 0 ? self.syscalls : 0;
    wd_iommu_info(0, &iommu);
    c->invalidations = iommu.invalidations;
    wd_system_info(&info);
    c->idle = info.idle_tsc;
    c->syscalls = info.syscalls;
    c->tsc = tsc();
}

static void print_rate(const char *key, uint64_t count, uint64_t per)
{
    printf(" %s=%llu.%03llu", key, (unsigned long long)(count / per), (unsigned long long)(count * 1000 / per % 1000));
}

static void report_net(const char *name, const struct net_counters *a, const struct net_counters *b, uint64_t echoes,
                       uint64_t divisor, long failures)
{
    uint64_t busy = (b->tsc - a->tsc) - (b->idle - a->idle), packets = 2 * echoes;
    printf("BENCH %s cpu_insns=%llu echoes=%llu driver_insns_per_packet=%llu net_service_insns_per_packet=%llu "
           "echo_insns_per_packet=%llu", name, (unsigned long long)(busy / divisor), (unsigned long long)echoes,
           (unsigned long long)((b->driver_tsc - a->driver_tsc) / packets),
           (unsigned long long)((b->service_tsc - a->service_tsc) / packets),
           (unsigned long long)((b->echo_tsc - a->echo_tsc) / packets));
    print_rate("kernel_entries_per_packet", b->syscalls - a->syscalls, packets);
    print_rate("driver_kernel_entries_per_packet", b->driver_syscalls - a->driver_syscalls, packets);
    print_rate("iommu_ops_per_packet", b->invalidations - a->invalidations, packets);
    printf(" entries_per_echo(eth-a,eth-b,net-a,net-b,echo,client)=");
    for (unsigned i = 0; i < 6; i++)
        printf("%s%llu.%02llu", i ? "," : "", (unsigned long long)((b->entries[i] - a->entries[i]) / echoes),
               (unsigned long long)((b->entries[i] - a->entries[i]) * 100 / echoes % 100));
    printf(" failed=%ld\n", failures);
}

static long spawn(const char *args, const char *module_name, wd_handle_t cap, uint64_t pool_bytes, const char *name)
{
    const struct wd_module *module = wd_find_module(module_name);
    long pool = wd_pool_create(wd_start_info->pool, pool_bytes);
    if (!module || pool < 0)
        return pool < 0 ? pool : -WD_E_NOT_FOUND;
    struct wd_spawn sp = {
        .args = args,
        .image = module->frame,
        .image_size = module->size,
        .pool = (wd_handle_t)pool,
        .registry = wd_start_info->registry,
        .cap_count = 1,
        .caps = { cap },
    };
    long p = wd_spawn(&sp, NULL);
    wd_cap_delete((wd_handle_t)pool);
    wd_handle_t found = WD_NULL;
    for (int i = 0; p >= 0 && i < 500 && wd_name_lookup(wd_start_info->registry, name, &found) != 0; i++)
        wd_thread_sleep(10ull * 1000 * 1000);
    if (p >= 0 && !found)
        return -WD_E_TIMEOUT;
    if (found)
        wd_cap_delete(found);
    return p;
}

static bool net_start(struct net_bench *b)
{
    wd_handle_t root = wd_start_info->cap_count ? wd_start_info->caps[0] : WD_NULL;
    struct wd_device_info dev;
    unsigned found = 0;
    memset(b, 0, sizeof *b);
    for (uint64_t i = 0; found < 2 && wd_device_list(root, i, &dev) == 0; i++)
        if (dev.vendor_id == 0x8086 && dev.device_id == 0x10d3)
            b->device[found++] = wd_device_open(root, dev.address);
    if (found < 2 || b->device[0] < 0 || b->device[1] < 0) {
        printf("bench: the network measures need two e1000e NICs behind the IOMMU (tools/bench.sh adds them)\n");
        return false;
    }
    b->process[0] = spawn("e1000e bench-eth-a", "e1000e", (wd_handle_t)b->device[0], 8ull << 20, "bench-eth-a");
    b->process[1] = spawn("e1000e bench-eth-b", "e1000e", (wd_handle_t)b->device[1], 8ull << 20, "bench-eth-b");
    b->process[2] = spawn("net bench-net-a eth=bench-eth-a ip=10.0.3.1/24", "net", WD_NULL, 4ull << 20, "bench-net-a");
    b->process[3] = spawn("net bench-net-b eth=bench-eth-b ip=10.0.3.2/24", "net", WD_NULL, 4ull << 20, "bench-net-b");
    b->process[4] = spawn("echo bench-echo net=bench-net-b port=7", "echo", WD_NULL, 2ull << 20, "bench-echo");
    for (unsigned i = 0; i < 5; i++)
        if (b->process[i] < 0) {
            printf("bench: the network stack did not come up (%u: %s)\n", i, wd_error_name(b->process[i]));
            return false;
        }
    uint64_t port = CLIENT_PORT;
    if (wd_name_lookup(wd_start_info->registry, "bench-net-a", &b->net_a) < 0 ||
        wd_client_open(&b->s, b->net_a, wd_start_info->pool, (RECV_POSTED + IN_FLIGHT) * SLOT,
                       WD_RIGHT_READ | WD_RIGHT_WRITE, CLIENT_CAPACITY, &port, 1, NET_TIMEOUT) < 0) {
        printf("bench: cannot open a socket on bench-net-a\n");
        return false;
    }
    /* Both sides have their addresses once their links are up. */
    for (int i = 0; i < 500; i++) {
        struct wd_msg m = { .info = wd_msg_info(NETSVC_OP_INFO, 0, 0) };
        if (wd_call(b->net_a, &m, NET_TIMEOUT) == 0 && m.w[4] == NETSVC_CONFIG_STATIC)
            return true;
        wd_thread_sleep(10ull * 1000 * 1000);
    }
    printf("bench: bench-net-a got no address\n");
    return false;
}

static void net_stop(struct net_bench *b)
{
    wd_client_close(&b->s, NET_TIMEOUT);
    for (unsigned i = 5; i-- > 0;)
        if (b->process[i] >= 0) {
            wd_process_kill((wd_handle_t)b->process[i], 0);
            wd_cap_delete((wd_handle_t)b->process[i]);
        }
    for (unsigned i = 0; i < 2; i++)
        if (b->device[i] >= 0)
            wd_cap_delete((wd_handle_t)b->device[i]);
    wd_cap_delete(b->net_a);
}

static void submit_recv(struct net_bench *b, uint64_t slot)
{
    struct wd_ring_desc d = { .op = NETSOCK_RECV, .offset = slot * SLOT, .length = SLOT, .id = ID_RECV | slot };
    wd_client_submit(&b->s, &d);
}

static void submit_send(struct net_bench *b, uint64_t slot)
{
    /* Quiet: the echo's receive wakes us and brings the send's completion along. */
    struct wd_ring_desc d = { .op = NETSOCK_SEND | NETSOCK_QUIET, .offset = (RECV_POSTED + slot) * SLOT, .length = PAYLOAD,
                              .arg = NETSOCK_ADDR(ECHO_IP, 7), .id = slot };
    wd_client_submit(&b->s, &d);
}

/* Runs until `echoes` datagrams came back, window of them in flight: the failures. */
static long echo_run(struct net_bench *b, uint64_t echoes, unsigned window)
{
    long failures = 0;
    uint64_t sent = 0, back = 0;
    for (; sent < window; sent++)
        submit_send(b, sent % IN_FLIGHT);
    wd_client_kick(&b->s);
    while (back < echoes) {
        struct wd_ring_desc c;
        long r = wd_client_wait(&b->s, &c, NET_TIMEOUT);
        for (; r == 0; r = wd_client_wait(&b->s, &c, WD_NO_WAIT)) {
            if (c.status)
                failures++;
            if (!(c.id & ID_RECV))
                continue;               /* a send done */
            back++;
            submit_recv(b, c.id & 0xFFFF);
            if (sent < echoes)
                submit_send(b, sent++ % IN_FLIGHT);
        }
        if (r != -WD_E_WOULD_BLOCK) {
            printf("bench: the echo stopped after %llu datagrams: %s\n", (unsigned long long)back, wd_error_name(r));
            return failures + 1;
        }
        wd_client_kick(&b->s);
    }
    return failures;
}

void bench_net(const char *only)
{
    /* only=net1:N or only=net32:N (tools/profile.sh): one measure, N echoes. */
    const char *count = only ? strchr(only, ':') : NULL;
    uint64_t n = count ? strtoull(count + 1, NULL, 10) : 0;
    bool batch1 = !only || strncmp(only, "net32", 5) != 0, batch32 = !only || strncmp(only, "net32", 5) == 0;
    struct net_bench b;
    if (!net_start(&b)) {
        net_stop(&b);
        return;
    }
    for (uint64_t slot = 0; slot < RECV_POSTED; slot++)
        submit_recv(&b, slot);
    for (uint64_t slot = 0; slot < IN_FLIGHT; slot++)
        memset((char *)b.s.region.cpu + (RECV_POSTED + slot) * SLOT, (int)slot, PAYLOAD);
    long failures = echo_run(&b, 50, 1);       /* warm-up: ARP on both sides */
    struct net_counters x, y;
    uint64_t rounds = n ? n : ROUNDS_BATCH1, echoes = n ? n : ECHOES_BATCH32;
    if (batch1) {
        counters_now(&b, &x);
        failures += echo_run(&b, rounds, 1);
        counters_now(&b, &y);
        report_net("net_udp_echo_batch1", &x, &y, rounds, rounds, failures);
    }
    if (batch32) {
        counters_now(&b, &x);
        failures = echo_run(&b, echoes, IN_FLIGHT);
        counters_now(&b, &y);
        report_net("net_udp_echo_batch32_per_packet", &x, &y, echoes, 2 * echoes, failures);
    }
    net_stop(&b);
}
