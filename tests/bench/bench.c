/*
 * bench - microbenchmarks, run with `bench` on the command line under
 * QEMU -icount shift=0,sleep=off, where the TSC advances one tick per
 * guest instruction: every number is a count of guest instructions.
 * Each measure runs ITERATIONS samples (after WARMUP) timed with
 * lfence;rdtsc pairs and prints
 *   BENCH <name> min=<n> median=<n> p90=<n> insns
 * Roles: "bench main" (the measurements), "bench server" (the IPC peer:
 * replies to every call; moves a received capability back), "bench
 * yielder" (yields forever).
 */
#include <stdlib.h>
#include <string.h>
#include <warden/spawn.h>
#include <warden/syscalls.h>

#include <stdio.h>

#define ITERATIONS 2000
#define WARMUP 100
#define SCRATCH 0x0000700000000000ull

static uint64_t samples[ITERATIONS];

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static const char *report_suffix = "";

static void report(const char *name)
{
    qsort(samples, ITERATIONS, sizeof samples[0], compare_u64);
    printf("BENCH %s min=%llu median=%llu p90=%llu insns%s\n", name, (unsigned long long)samples[0],
           (unsigned long long)samples[ITERATIONS / 2], (unsigned long long)samples[ITERATIONS * 9 / 10],
           report_suffix);
}

#define MEASURE(name, setup, body)                                  \
    do {                                                            \
        for (int i_ = -WARMUP; i_ < ITERATIONS; i_++) {             \
            setup;                                                  \
            uint64_t t0_ = tsc();                                   \
            body;                                                   \
            uint64_t t1_ = tsc();                                   \
            if (i_ >= 0)                                            \
                samples[i_] = t1_ - t0_;                            \
        }                                                           \
        report(name);                                               \
    } while (0)

static wd_handle_t spawn_role(const char *args, wd_handle_t cap)
{
    const struct wd_module *self = wd_find_module("bench");
    struct wd_spawn s = {
        .args = args,
        .image = self->frame,
        .image_size = self->size,
        .pool = wd_start_info->pool,
        .pass_modules = false,
        .cap_count = cap ? 1 : 0,
        .caps = { cap },
    };
    long p = wd_spawn(&s, NULL);
    if (p < 0) {
        printf("bench: cannot start %s: %s\n", args, wd_error_name(p));
        exit(1);
    }
    return (wd_handle_t)p;
}

static int server(wd_handle_t ep)
{
    struct wd_msg msg;
    long r = wd_recv(ep, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0)
            return 1;
        unsigned ncaps = wd_msg_ncaps(msg.info);
        msg.info = wd_msg_info(0, wd_msg_nwords(msg.info), ncaps) | (ncaps ? WD_MSG_MOVE_CAPS : 0);
        r = wd_reply_recv(ep, &msg, WD_FOREVER);
    }
}

static uint64_t iommu_invalidations(void)
{
    struct wd_iommu_info info;
    return wd_iommu_info(0, &info) == 0 ? info.invalidations : 0;
}

/* dma_map + dma_unmap of `size` bytes of a fresh frame, in a dmaspace with
 * edu attached (as a driver's would be); inv= is IOMMU invalidation
 * commands (context + IOTLB) per map+unmap pair. */
static void measure_dma(wd_handle_t pool, wd_handle_t space, const char *name, uint64_t size, uint64_t iova)
{
    long frame = wd_frame_create(pool, size, WD_FRAME_CONTIGUOUS);
    if (frame < 0) {
        printf("bench: %s: no frame (%s)\n", name, wd_error_name(frame));
        return;
    }
    const uint64_t rw = WD_RIGHT_READ | WD_RIGHT_WRITE;
    uint64_t inv_before = iommu_invalidations();
    long failures = 0;
    static char suffix[32];
    report_suffix = "";
    for (int i = -WARMUP; i < ITERATIONS; i++) {
        uint64_t t0 = tsc();
        failures += wd_dma_map(space, (wd_handle_t)frame, 0, iova, size, rw) != 0;
        failures += wd_dma_unmap(space, iova, size) != 1;
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    uint64_t inv = iommu_invalidations() - inv_before;
    snprintf(suffix, sizeof suffix, " inv=%llu", (unsigned long long)(inv / (ITERATIONS + WARMUP)));
    report_suffix = suffix;
    if (failures)
        printf("bench: %s: %ld calls failed\n", name, failures);
    else
        report(name);
    report_suffix = "";
    wd_cap_delete((wd_handle_t)frame);
}

/* Opens QEMU's edu device through the device root init passed, attaches
 * it to a new dmaspace and measures DMA mapping. */
static void bench_dma(wd_handle_t pool)
{
    wd_handle_t root = wd_start_info->cap_count ? wd_start_info->caps[0] : WD_NULL;
    struct wd_device_info info;
    uint64_t index = 0;
    long r;
    while ((r = wd_device_list(root, index, &info)) == 0 && !(info.vendor_id == 0x1234 && info.device_id == 0x11e8))
        index++;
    long device = r == 0 ? wd_device_open(root, info.address) : r;
    long space = device >= 0 ? wd_dmaspace_create(pool) : device;
    if (space >= 0)
        r = wd_dma_attach((wd_handle_t)device, (wd_handle_t)space);
    if (device < 0 || space < 0 || r < 0) {
        printf("bench: DMA measures need edu behind an IOMMU: %s\n",
               wd_error_name(device < 0 ? device : space < 0 ? space : r));
        return;
    }
    measure_dma(pool, (wd_handle_t)space, "dma_map_unmap_4k", 0x1000, 0x100000);
    measure_dma(pool, (wd_handle_t)space, "dma_map_unmap_1m", 0x100000, 0x200000);
    measure_dma(pool, (wd_handle_t)space, "dma_map_unmap_2m", 0x200000, 0x400000);
    wd_dma_detach((wd_handle_t)device);
    wd_cap_delete((wd_handle_t)space);
    wd_cap_delete((wd_handle_t)device);
}

static int bench_main(void)
{
    wd_handle_t pool = wd_start_info->pool;
    printf("bench: %d samples per measure, instructions counted by the TSC under -icount shift=0\n", ITERATIONS);

    MEASURE("null_syscall", (void)0, wd_time_now());

    long ep = wd_endpoint_create(pool);
    wd_handle_t server_proc = spawn_role("bench server", (wd_handle_t)ep);
    struct wd_msg msg;
    MEASURE("ipc_call_reply_0w", msg.info = wd_msg_info(1, 0, 0), wd_call((wd_handle_t)ep, &msg, WD_FOREVER));
    MEASURE("ipc_call_reply_8w", msg.info = wd_msg_info(1, 8, 0), wd_call((wd_handle_t)ep, &msg, WD_FOREVER));
    long frame = wd_frame_create(pool, WD_PAGE_SIZE, 0);
    wd_handle_t moving = (wd_handle_t)frame;
    MEASURE("ipc_cap_transfer",
            (msg.info = wd_msg_info(1, 0, 1) | WD_MSG_MOVE_CAPS, msg.caps[0] = moving),
            (wd_call((wd_handle_t)ep, &msg, WD_FOREVER), moving = msg.caps[0]));
    if (wd_msg_ncaps(msg.info) != 1)
        printf("bench: the capability did not come back\n");
    wd_process_kill(server_proc, 0);
    wd_cap_delete(server_proc);

    wd_handle_t yielder = spawn_role("bench yielder", WD_NULL);
    wd_thread_yield();
    MEASURE("yield_2proc", (void)0, wd_thread_yield());
    wd_process_kill(yielder, 0);
    wd_cap_delete(yielder);

    MEASURE("vm_map_unmap_4k", (void)0,
            (wd_vm_map(WD_NULL, moving, 0, SCRATCH, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE),
             wd_vm_unmap(WD_NULL, SCRATCH, WD_PAGE_SIZE)));
    bench_dma(pool);
    printf("bench: done\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "server") == 0)
        return server(wd_start_info->caps[0]);
    if (argc >= 2 && strcmp(argv[1], "yielder") == 0)
        for (;;)
            wd_thread_yield();
    return bench_main();
}
