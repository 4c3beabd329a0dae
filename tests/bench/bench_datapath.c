/*
 * bench_datapath.c - the data path's measures (docs/drivers.md):
 *   notify_wakeup     notify_signal -> a higher-priority waiter in another
 *                     process, blocked in notify_wait, running again;
 *   ring_item         one descriptor's enqueue + dequeue (with the region
 *                     check) in a batch of 32, publish and release once per
 *                     batch, per descriptor: the batch calls; ring_item_single
 *                     the same with the one-descriptor calls;
 *   grant_map_revoke  grant a lease of a 2 MiB region, dma_map it for edu
 *                     (one 2 MiB page), revoke it (unmap + IOTLB flush and
 *                     wait), in one sample;
 *   ring_pingpong_bN  a client and a server process, requests and
 *                     completions over a ring pair with signal suppression,
 *                     N requests per batch: instructions per item (median
 *                     of batches) and kernel entries per item (all system
 *                     calls of both processes over the run).
 * Roles: "notify-waiter" (caps: notification, shared page), "ring-server"
 * (caps: ring frame, endpoint, its notification, SEND to the client's).
 */
#include <string.h>
#include <warden/region.h>

#include "bench.h"

#define SHARED_PAGE_VA 0x0000730000000000ull
#define PINGPONG_SLOTS 64u
#define PINGPONG_BATCHES 1000u

struct shared_times {
    volatile uint64_t t0, t1;
};

static int notify_waiter(const wd_handle_t *caps)
{
    if (wd_vm_map(WD_NULL, caps[1], 0, SHARED_PAGE_VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0)
        return 2;
    struct shared_times *t = (struct shared_times *)SHARED_PAGE_VA;
    for (;;) {
        if (wd_notify_wait(caps[0], WD_FOREVER) < 0)
            return 3;
        t->t1 = tsc();
    }
}

static void bench_notify_wakeup(wd_handle_t pool)
{
    long n = wd_notify_create(pool);
    long page = wd_frame_create(pool, WD_PAGE_SIZE, 0);
    if (n < 0 || page < 0 || wd_vm_map(WD_NULL, (wd_handle_t)page, 0, SHARED_PAGE_VA, WD_PAGE_SIZE, WD_RIGHT_READ) < 0) {
        printf("bench: notify_wakeup: setup failed\n");
        return;
    }
    wd_handle_t caps[2] = { (wd_handle_t)n, (wd_handle_t)page };
    wd_handle_t waiter = spawn_role_with("bench notify-waiter", caps, 2, WD_PRIORITY_DEFAULT + 1);
    struct shared_times *t = (struct shared_times *)SHARED_PAGE_VA;
    for (int i = -WARMUP; i < ITERATIONS; i++) {
        uint64_t t0 = tsc();
        wd_notify_signal((wd_handle_t)n, 1);        /* the waiter runs before this returns to us */
        if (i >= 0)
            samples[i] = t->t1 - t0;
    }
    report("notify_wakeup");
    wd_process_kill(waiter, 0);
    wd_cap_delete(waiter);
    wd_vm_unmap(WD_NULL, SHARED_PAGE_VA, WD_PAGE_SIZE);
    wd_cap_delete((wd_handle_t)page);
    wd_cap_delete((wd_handle_t)n);
}

#define ITEM_BATCH 32u

/* One batch of ITEM_BATCH descriptors through the ring; what the consumer
 * saw is summed (every field it would use), so nothing is optimised away. */
static uint64_t ring_batch_single(struct wd_ring *p, struct wd_ring *c, struct wd_ring_desc *d, uint64_t *sum)
{
    uint64_t t0 = tsc();
    for (unsigned k = 0; k < ITEM_BATCH; k++) {
        d->id = k;
        d->offset = k * 512;
        wd_ring_enqueue(p, d);
    }
    wd_ring_publish(p);
    struct wd_ring_desc out = { 0 };
    for (unsigned k = 0; k < ITEM_BATCH; k++) {
        long r = wd_ring_dequeue(c, &out);
        *sum += out.id + out.offset + out.length + (uint64_t)r;
    }
    wd_ring_release(c);
    return tsc() - t0;
}

/* The same with the batch calls; what came out is checked after the clock stops. */
static uint64_t ring_batch(struct wd_ring *p, struct wd_ring *c, struct wd_ring_desc *in, uint64_t *sum)
{
    static struct wd_ring_desc out[ITEM_BATCH];
    uint64_t t0 = tsc();
    wd_ring_enqueue_batch(p, in, ITEM_BATCH);
    wd_ring_publish(p);
    long n = wd_ring_dequeue_batch(c, out, ITEM_BATCH);
    wd_ring_release(c);
    uint64_t t = tsc() - t0;
    for (long k = 0; k < n; k++)
        *sum += out[k].id + out[k].offset + out[k].length + out[k].status;
    return t;
}

static void bench_ring_item(wd_handle_t pool)
{
    struct wd_region mem;
    struct wd_ring p, c;
    if (wd_region_create(&mem, pool, wd_ring_bytes(2 * ITEM_BATCH)) < 0 ||
        wd_ring_init_producer(&p, mem.cpu, 2 * ITEM_BATCH) < 0 ||
        wd_ring_init_consumer(&c, mem.cpu, 2 * ITEM_BATCH, 1ull << 20) < 0) {
        printf("bench: ring_item: setup failed\n");
        return;
    }
    static struct wd_ring_desc in[ITEM_BATCH];
    for (unsigned k = 0; k < ITEM_BATCH; k++)
        in[k] = (struct wd_ring_desc){ .offset = k * 512, .length = 512, .op = 1, .id = k };
    uint64_t sum = 0, expected = 0;
    for (unsigned k = 0; k < ITEM_BATCH; k++)
        expected += k + k * 512 + 512;
    for (int i = -WARMUP; i < ITERATIONS; i++) {
        uint64_t t = ring_batch(&p, &c, in, &sum);
        if (i >= 0)
            samples[i] = (t + ITEM_BATCH / 2) / ITEM_BATCH;
    }
    if (sum != expected * (ITERATIONS + WARMUP))
        printf("bench: ring_item: descriptors went missing or wrong\n");
    report_suffix = " batch=32";
    report("ring_item");
    sum = 0;
    struct wd_ring_desc d = { .length = 512, .op = 1 };
    for (int i = -WARMUP; i < ITERATIONS; i++) {
        uint64_t t = ring_batch_single(&p, &c, &d, &sum);
        if (i >= 0)
            samples[i] = (t + ITEM_BATCH / 2) / ITEM_BATCH;
    }
    if (sum != expected * (ITERATIONS + WARMUP))
        printf("bench: ring_item_single: descriptors went missing or wrong\n");
    report("ring_item_single");
    report_suffix = "";
    wd_region_destroy(&mem);
}

static void bench_grant_map_revoke(wd_handle_t pool)
{
    struct wd_device_info info;
    wd_handle_t space;
    long device = open_edu(pool, &space, &info);
    long frame = device >= 0 ? wd_frame_create(pool, 2ull << 20, 0) : device;
    if (frame < 0) {
        printf("bench: grant_map_revoke needs edu behind an IOMMU: %s\n", wd_error_name(frame));
        return;
    }
    long failures = 0;
    const uint64_t rw = WD_RIGHT_READ | WD_RIGHT_WRITE;
    for (int i = -WARMUP; i < ITERATIONS; i++) {
        uint64_t t0 = tsc();
        long lease = wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_MAP | WD_RIGHT_GRANT | rw, 0);
        failures += wd_dma_map(space, (wd_handle_t)lease, 0, 0x400000, 2ull << 20, rw) != 0;
        failures += wd_cap_delete((wd_handle_t)lease) != 0;
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    if (failures)
        printf("bench: grant_map_revoke: %ld calls failed\n", failures);
    else
        report("grant_map_revoke");
    wd_cap_delete((wd_handle_t)frame);
    wd_dma_detach((wd_handle_t)device);
    wd_cap_delete(space);
    wd_cap_delete((wd_handle_t)device);
}

/* ---- the ping-pong ---- */

static void *ring_at(void *mem, unsigned which)
{
    return (char *)mem + (which ? wd_session_completions_offset(PINGPONG_SLOTS) : 0);
}

/* Answers every request with a completion; sleeps (one signal_recv: signal
 * the client if it waits, then wait) only when the ring is empty. */
static int ring_server(const wd_handle_t *caps)
{
    long error = 0;
    void *mem = wd_region_map(caps[0], wd_session_ring_bytes(PINGPONG_SLOTS), true, &error);
    struct wd_ring requests, completions;
    if (!mem || wd_ring_init_consumer(&requests, ring_at(mem, 0), PINGPONG_SLOTS, 0) < 0 ||
        wd_ring_init_producer(&completions, ring_at(mem, 1), PINGPONG_SLOTS) < 0)
        return 2;
    struct wd_msg msg;
    for (;;) {
        struct wd_ring_desc d;
        while (wd_ring_dequeue(&requests, &d) == 0) {
            d.status = 0;
            d.arg = d.id * 2;
            wd_ring_enqueue(&completions, &d);
        }
        wd_ring_release(&requests);
        bool signal = wd_ring_publish(&completions);
        if (!wd_ring_consumer_may_sleep(&requests))
            continue;
        long r = signal ? wd_signal_recv(caps[1], caps[3], 1, &msg, WD_FOREVER) : wd_recv(caps[1], &msg, WD_FOREVER);
        if (r < 0)
            return 3;
    }
}

static void bench_pingpong(wd_handle_t pool)
{
    struct wd_region rings;
    long ep = wd_endpoint_create(pool);
    long server_n = wd_notify_create(pool), client_n = wd_notify_create(pool);
    if (ep < 0 || server_n < 0 || client_n < 0 ||
        wd_region_create(&rings, pool, wd_session_ring_bytes(PINGPONG_SLOTS)) < 0 ||
        wd_notify_bind((wd_handle_t)server_n, (wd_handle_t)ep, 1) < 0) {
        printf("bench: ring ping-pong: setup failed\n");
        return;
    }
    struct wd_ring requests, completions;
    wd_ring_init_producer(&requests, ring_at(rings.cpu, 0), PINGPONG_SLOTS);
    wd_ring_init_consumer(&completions, ring_at(rings.cpu, 1), PINGPONG_SLOTS, 0);
    long client_signal = wd_cap_copy((wd_handle_t)client_n, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    wd_handle_t caps[4] = { rings.frame, (wd_handle_t)ep, (wd_handle_t)server_n, (wd_handle_t)client_signal };
    wd_handle_t server = spawn_role_with("bench ring-server", caps, 4, WD_PRIORITY_DEFAULT + 1);
    static const unsigned batches[] = { 1, 32 };
    for (unsigned b = 0; b < 2; b++) {
        unsigned batch = batches[b];
        uint64_t id = 0, bad = 0;
        struct wd_system_info before, after;
        wd_system_info(&before);
        for (int i = -(int)WARMUP; i < (int)PINGPONG_BATCHES; i++) {
            uint64_t t0 = tsc();
            for (unsigned k = 0; k < batch; k++) {
                struct wd_ring_desc d = { .id = id + k, .op = 1 };
                wd_ring_enqueue(&requests, &d);
            }
            if (wd_ring_publish(&requests))
                wd_notify_signal((wd_handle_t)server_n, 1);
            for (unsigned got = 0; got < batch;) {
                struct wd_ring_desc c;
                if (wd_ring_dequeue(&completions, &c) == 0) {
                    bad += c.arg != c.id * 2;
                    got++;
                    continue;
                }
                wd_ring_release(&completions);
                if (wd_ring_consumer_may_sleep(&completions))
                    wd_notify_wait((wd_handle_t)client_n, WD_FOREVER);
            }
            wd_ring_release(&completions);
            id += batch;
            uint64_t t1 = tsc();
            if (i >= 0)
                samples[i] = (t1 - t0 + batch / 2) / batch;
        }
        wd_system_info(&after);
        uint64_t items = (uint64_t)(PINGPONG_BATCHES + WARMUP) * batch;
        uint64_t entries = after.syscalls - before.syscalls - 1;   /* the second system_info */
        static char suffix[64];
        snprintf(suffix, sizeof suffix, " per_item kernel_entries_per_item=%llu.%03llu",
                 (unsigned long long)(entries / items), (unsigned long long)(entries * 1000 / items % 1000));
        report_suffix = suffix;
        char name[32];
        snprintf(name, sizeof name, "ring_pingpong_b%u", batch);
        if (bad)
            printf("bench: %s: %llu wrong completions\n", name, (unsigned long long)bad);
        report_n(name, PINGPONG_BATCHES);
        report_suffix = "";
    }
    wd_process_kill(server, 0);
    wd_cap_delete(server);
    wd_cap_delete((wd_handle_t)client_signal);
    wd_cap_delete((wd_handle_t)client_n);
    wd_cap_delete((wd_handle_t)server_n);
    wd_cap_delete((wd_handle_t)ep);
    wd_region_destroy(&rings);
}

void bench_datapath(wd_handle_t pool)
{
    bench_notify_wakeup(pool);
    bench_ring_item(pool);
    bench_grant_map_revoke(pool);
    bench_pingpong(pool);
}

int bench_datapath_role(const char *role, const wd_handle_t *caps)
{
    if (strcmp(role, "notify-waiter") == 0)
        return notify_waiter(caps);
    if (strcmp(role, "ring-server") == 0)
        return ring_server(caps);
    return -1;
}
