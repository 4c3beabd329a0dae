/*
 * bench - microbenchmarks, run with `bench` on the command line under
 * QEMU -icount shift=0,sleep=off, where the TSC advances one tick per
 * guest instruction: every number is a count of guest instructions.
 * Each measure runs ITERATIONS samples (after WARMUP) timed with
 * lfence;rdtsc pairs and prints
 *   BENCH <name> min=<n> median=<n> p90=<n> insns
 * Roles: "bench main" (the measurements), "bench server" (the IPC peer:
 * replies to every call; moves a received capability back), "bench
 * yielder" (yields forever), "bench raiser" (raises edu's interrupt forever).
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define SCRATCH 0x0000700000000000ull

uint64_t samples[ITERATIONS];

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

const char *report_suffix = "";

void report_n(const char *name, unsigned n)
{
    qsort(samples, n, sizeof samples[0], compare_u64);
    printf("BENCH %s min=%llu median=%llu p90=%llu insns%s\n", name, (unsigned long long)samples[0],
           (unsigned long long)samples[n / 2], (unsigned long long)samples[n * 9 / 10], report_suffix);
}

wd_handle_t spawn_role_with(const char *args, const wd_handle_t *caps, unsigned ncaps, uint32_t priority)
{
    const struct wd_module *self = wd_find_module("bench");
    struct wd_spawn s = {
        .args = args,
        .image = self->frame,
        .image_size = self->size,
        .pool = wd_start_info->pool,
        .pass_modules = false,
        .cap_count = ncaps,
        .priority = priority,
    };
    for (unsigned i = 0; i < ncaps; i++)
        s.caps[i] = caps[i];
    long p = wd_spawn(&s, NULL);
    if (p < 0) {
        printf("bench: cannot start %s: %s\n", args, wd_error_name(p));
        exit(1);
    }
    return (wd_handle_t)p;
}

static wd_handle_t spawn_role(const char *args, wd_handle_t cap)
{
    return spawn_role_with(args, &cap, cap ? 1 : 0, 0);
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
/* The edu device opened and attached to a fresh dmaspace, or a negative error. */
long open_edu(wd_handle_t pool, wd_handle_t *space_out, struct wd_device_info *info)
{
    wd_handle_t root = wd_start_info->cap_count ? wd_start_info->caps[0] : WD_NULL;
    uint64_t index = 0;
    long r;
    while ((r = wd_device_list(root, index, info)) == 0 && !(info->vendor_id == 0x1234 && info->device_id == 0x11e8))
        index++;
    long device = r == 0 ? wd_device_open(root, info->address) : r;
    long space = device >= 0 ? wd_dmaspace_create(pool) : device;
    if (space >= 0)
        r = wd_dma_attach((wd_handle_t)device, (wd_handle_t)space);
    if (device < 0 || space < 0 || r < 0)
        return device < 0 ? device : space < 0 ? space : r;
    *space_out = (wd_handle_t)space;
    return device;
}

static void bench_dma(wd_handle_t pool)
{
    struct wd_device_info info;
    wd_handle_t space;
    long device = open_edu(pool, &space, &info);
    if (device < 0) {
        printf("bench: DMA measures need edu behind an IOMMU: %s\n", wd_error_name(device));
        return;
    }
    measure_dma(pool, space, "dma_map_unmap_4k", 0x1000, 0x100000);
    measure_dma(pool, space, "dma_map_unmap_1m", 0x100000, 0x200000);
    measure_dma(pool, space, "dma_map_unmap_2m", 0x200000, 0x400000);
    wd_dma_detach((wd_handle_t)device);
    wd_cap_delete(space);
    wd_cap_delete((wd_handle_t)device);
}

#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define BAR_VA 0x0000710000000000ull
#define SHARED_VA 0x0000720000000000ull

/* "bench raiser": caps[0] = a page shared with the driver; edu's BAR0 is
 * mapped at BAR_VA by the driver (only a device's owner may map its
 * registers). Forever: note the time, raise edu's interrupt by an MMIO
 * write. It runs only while the (higher-priority) driver is blocked. */
static int raiser(const wd_handle_t *caps)
{
    if (wd_vm_map(WD_NULL, caps[0], 0, SHARED_VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0)
        return 2;
    volatile uint64_t *t0 = (volatile uint64_t *)SHARED_VA;
    volatile uint32_t *raise = (volatile uint32_t *)(BAR_VA + EDU_IRQ_RAISE);
    for (;;) {
        *t0 = tsc();
        *raise = 1;
    }
}

/* irq_to_driver: edu interrupt raised by another process's MMIO write ->
 * the driver's thread, blocked in recv on the irq's endpoint, running. */
static void bench_irq(wd_handle_t pool)
{
    struct wd_device_info info;
    wd_handle_t space;
    long device = open_edu(pool, &space, &info);
    long irq = device >= 0 ? wd_irq_create((wd_handle_t)device, WD_IRQ_MSI(0)) : device;
    long ep = wd_endpoint_create(pool);
    long bar = device >= 0 ? wd_device_bar_frame((wd_handle_t)device, 0) : device;
    long shared = wd_frame_create(pool, WD_PAGE_SIZE, 0);
    if (irq < 0 || ep < 0 || bar < 0 || shared < 0 || wd_irq_bind((wd_handle_t)irq, (wd_handle_t)ep, 1) < 0 ||
        wd_vm_map(WD_NULL, (wd_handle_t)bar, 0, BAR_VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0 ||
        wd_vm_map(WD_NULL, (wd_handle_t)shared, 0, SHARED_VA, WD_PAGE_SIZE, WD_RIGHT_READ) < 0) {
        printf("bench: the interrupt measure needs edu with MSI behind an IOMMU: %s\n",
               wd_error_name(irq < 0 ? irq : ep < 0 ? ep : bar < 0 ? bar : shared));
        return;
    }
    wd_device_config_write((wd_handle_t)device, 4, 2, 0x6);        /* memory decode + bus mastering (MSI) */
    volatile uint32_t *regs = (volatile uint32_t *)BAR_VA;
    volatile uint64_t *t0 = (volatile uint64_t *)SHARED_VA;
    wd_handle_t caps[1] = { (wd_handle_t)shared };
    wd_handle_t raiser_proc = spawn_role_with("bench raiser", caps, 1, WD_PRIORITY_DEFAULT / 2);
    /* It runs only once this (higher-priority) thread blocks: by then its
     * BAR0 mapping is there. */
    if (wd_vm_map(raiser_proc, (wd_handle_t)bar, 0, BAR_VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0)
        printf("bench: cannot map edu's BAR0 into the raiser\n");
    struct wd_msg msg;
    uint64_t count = 0;
    for (int i = -WARMUP; i < ITERATIONS; i++) {
        wd_recv((wd_handle_t)ep, &msg, WD_FOREVER);
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - *t0;
        count += msg.w[0];
        regs[EDU_IRQ_ACK / 4] = regs[EDU_IRQ_STATUS / 4];
        wd_irq_ack((wd_handle_t)irq);
    }
    wd_process_kill(raiser_proc, 0);
    wd_cap_delete(raiser_proc);
    static char suffix[32];
    snprintf(suffix, sizeof suffix, " irqs=%llu", (unsigned long long)count);
    report_suffix = suffix;
    report("irq_to_driver");
    report_suffix = "";
    wd_cap_delete((wd_handle_t)irq);
    wd_dma_detach((wd_handle_t)device);
    wd_cap_delete(space);
    wd_cap_delete((wd_handle_t)device);
}

#define REVOKE_SAMPLES 200

/* revoke_device: the kernel's revocation of a device group that has one
 * 4 KiB DMA mapping and one MSI (docs/driver-crash.md): bus mastering off,
 * the IRTE cleared with an IEC wait, the context entry cleared with
 * context-cache + IOTLB waits. Triggered by deleting the owner's last
 * device capability, the path a supervisor's cap_revoke takes; death runs
 * the same function. Setup (open, attach, map, irq) is not timed. */
static void bench_revoke(wd_handle_t pool)
{
    wd_handle_t root = wd_start_info->cap_count ? wd_start_info->caps[0] : WD_NULL;
    struct wd_device_info info;
    wd_handle_t space;
    long first = open_edu(pool, &space, &info);
    long frame = wd_frame_create(pool, WD_PAGE_SIZE, 0);
    if (first < 0 || frame < 0) {
        printf("bench: the revocation measure needs edu behind an IOMMU: %s\n",
               wd_error_name(first < 0 ? first : frame));
        return;
    }
    wd_dma_detach((wd_handle_t)first);
    wd_cap_delete((wd_handle_t)first);
    for (int i = -WARMUP / 10; i < REVOKE_SAMPLES; i++) {
        long device = wd_device_open(root, info.address);
        long r = device < 0 ? device : wd_dma_attach((wd_handle_t)device, space);
        if (r >= 0)
            r = wd_dma_map(space, (wd_handle_t)frame, 0, 0x100000, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE);
        long irq = r >= 0 ? wd_irq_create((wd_handle_t)device, WD_IRQ_MSI(0)) : r;
        if (irq < 0) {
            printf("bench: revocation setup failed: %s\n", wd_error_name(irq));
            return;
        }
        uint64_t t0 = tsc();
        wd_cap_delete((wd_handle_t)device);
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
        wd_dma_unmap(space, 0x100000, WD_PAGE_SIZE);
        wd_cap_delete((wd_handle_t)irq);
    }
    static char suffix[32];
    snprintf(suffix, sizeof suffix, " samples=%d", REVOKE_SAMPLES);
    report_suffix = suffix;
    report_n("revoke_device", REVOKE_SAMPLES);
    report_suffix = "";
    wd_cap_delete(space);
    wd_cap_delete((wd_handle_t)frame);
}

static int bench_main(void)
{
    wd_handle_t pool = wd_start_info->pool;
    const char *iotlb = strstr(wd_start_info->cmdline, "iotlb=");
    if (iotlb) {                    /* tools/iotlb.sh: only the IOTLB run */
        bench_blk_iotlb(pool, strncmp(iotlb + 6, "4k", 2) == 0);
        printf("bench: done\n");
        return 0;
    }
    const char *only = strstr(wd_start_info->cmdline, "only=");
    if (only && strncmp(only + 5, "net", 3) == 0) {     /* only=net[1|32[:N]]: the network measures */
        bench_net(only[8] == ':' || only[8] == '1' || only[8] == '3' ? only + 5 : NULL);
        printf("bench: done\n");
        return 0;
    }
    if (only) {                     /* tools/profile.sh: one block measure */
        bench_blk_only(pool, only + 5);
        printf("bench: done\n");
        return 0;
    }
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
    bench_irq(pool);
    bench_revoke(pool);
    bench_datapath(pool);
    bench_blk(pool);
    bench_net(NULL);
    printf("bench: done\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "server") == 0)
        return server(wd_start_info->caps[0]);
    if (argc >= 2 && strcmp(argv[1], "raiser") == 0)
        return raiser(wd_start_info->caps);
    if (argc >= 2 && bench_datapath_role(argv[1], wd_start_info->caps) >= 0)
        return 0;
    if (argc >= 2 && strcmp(argv[1], "yielder") == 0)
        for (;;)
            wd_thread_yield();
    return bench_main();
}
