/*
 * bench_blk.c - the block path's measures (drivers/nvme, docs/nvme.md),
 * with a client session on the NVMe driver, which this program starts on
 * the machine's controller:
 *   blk_read_4k_qd1   one 4 KiB read at a time: client -> service ->
 *                     driver -> device -> interrupt -> client;
 *   blk_write_4k_qd1  the same for writes;
 *   blk_read_4k_qd32  32 reads kept in flight, resubmitted in batches;
 *   blk_read_128k_per_mib  sequential 128 KiB reads, one at a time, per MiB;
 *   blk_iotlb_4k/_2m  (only with iotlb=4k|2m on the command line:
 *                     tools/iotlb.sh) a 64 MiB sequential read into a
 *                     region the IOMMU maps with 4 KiB or 2 MiB pages, for
 *                     QEMU's vtd_iotlb_page_hit/_update trace to count.
 * With only=qd1[:N] or only=qd32[:N] on the command line (tools/profile.sh)
 * the program runs just that block measure, with N I/Os.
 * The guest waits for QEMU's I/O threads, and under icount an idle guest's
 * virtual time jumps ahead, so a sample is CPU work: elapsed TSC minus the
 * TSC the CPU spent halted (the kernel's idle_tsc), summed over a run and
 * divided by its I/Os (a mean, not a median). Each line also says the
 * kernel entries, SQ doorbell writes and IOMMU invalidations per I/O.
 */
#include <stdlib.h>
#include <string.h>
#include <warden/region.h>
#include <warden/registry.h>

#include "bench.h"
#include "../../drivers/nvme/nvme_protocol.h"

#define BLK_REGION (2ull << 20)
#define BLK_CAPACITY 64u
#define BLK_TIMEOUT (10000ull * 1000 * 1000)
#define QD1_IOS 2000u
#define QD32_IOS 32000u            /* the batching QEMU's I/O thread allows varies; many I/Os average it */
#define SEQ_MIB 16u
#define IOTLB_BYTES (64ull << 20)

struct blk_counters {
    uint64_t tsc, idle, syscalls, invalidations, doorbells, interrupts;
};

static void counters_now(wd_handle_t service, struct blk_counters *c)
{
    struct wd_system_info info;
    struct wd_iommu_info iommu;
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_STATS, 0, 0) };
    wd_call(service, &m, BLK_TIMEOUT);
    c->doorbells = m.w[2];
    c->interrupts = m.w[3];
    wd_iommu_info(0, &iommu);
    c->invalidations = iommu.invalidations;
    wd_system_info(&info);
    c->idle = info.idle_tsc;
    c->syscalls = info.syscalls;
    c->tsc = tsc();
}

/* One line: CPU instructions per I/O (or per MiB) and the rates per I/O.
 * The counters' own calls (4 system calls) are left in: small per run. */
static void report_blk(const char *name, const struct blk_counters *a, const struct blk_counters *b, uint64_t ios,
                       uint64_t divisor, long failures)
{
    uint64_t busy = (b->tsc - a->tsc) - (b->idle - a->idle);
    uint64_t entries = b->syscalls - a->syscalls, doorbells = b->doorbells - a->doorbells;
    printf("BENCH %s cpu_insns=%llu ios=%llu kernel_entries_per_io=%llu.%03llu doorbells_per_io=%llu.%03llu "
           "iommu_ops_per_io=%llu.%03llu interrupts_per_io=%llu.%03llu failed=%ld\n",
           name, (unsigned long long)(busy / divisor), (unsigned long long)ios,
           (unsigned long long)(entries / ios), (unsigned long long)(entries * 1000 / ios % 1000),
           (unsigned long long)(doorbells / ios), (unsigned long long)(doorbells * 1000 / ios % 1000),
           (unsigned long long)((b->invalidations - a->invalidations) / ios),
           (unsigned long long)((b->invalidations - a->invalidations) * 1000 / ios % 1000),
           (unsigned long long)((b->interrupts - a->interrupts) / ios),
           (unsigned long long)((b->interrupts - a->interrupts) * 1000 / ios % 1000), failures);
}

static long one(struct wd_client_session *s, uint16_t op, uint64_t offset, uint64_t length, uint64_t lba)
{
    struct wd_ring_desc d = { .offset = offset, .length = length, .op = op, .id = lba, .arg = lba }, c;
    long r = wd_client_submit(s, &d);
    if (r == 0)
        r = wd_client_kick(s);
    if (r == 0)
        r = wd_client_wait(s, &c, BLK_TIMEOUT);
    return r < 0 ? r : -(long)c.status;
}

static void qd1(wd_handle_t service, struct wd_client_session *s, const char *name, uint16_t op, uint64_t length,
                unsigned ios, uint64_t divisor, uint64_t block_size)
{
    long failures = 0;
    for (unsigned i = 0; i < 50; i++)                   /* warm-up */
        failures += one(s, op, 0, length, i * (length / block_size)) != 0;
    struct blk_counters a, b;
    counters_now(service, &a);
    for (unsigned i = 0; i < ios; i++)
        failures += one(s, op, (i * length) % BLK_REGION, length, (i * length) % (SEQ_MIB << 20) / block_size) != 0;
    counters_now(service, &b);
    report_blk(name, &a, &b, ios, divisor, failures);
}

/* Queues read number k (4 KiB: region slot k % 256, block (k % 4096) * 4 KiB). */
static void submit_read(struct wd_client_session *s, uint64_t k, uint64_t block_size)
{
    struct wd_ring_desc d = { .offset = (k % 256) * 4096, .length = 4096, .op = NVME_BLK_READ, .id = k,
                              .arg = (k % 4096) * (4096 / block_size) };
    wd_client_submit(s, &d);
}

static void qd32(wd_handle_t service, struct wd_client_session *s, uint64_t block_size, uint64_t ios)
{
    long failures = 0;
    uint64_t submitted = 0, done = 0;
    struct blk_counters a, b;
    counters_now(service, &a);
    for (; submitted < 32; submitted++)
        submit_read(s, submitted, block_size);
    wd_client_kick(s);
    while (done < ios) {
        struct wd_ring_desc c;
        long r = wd_client_wait(s, &c, BLK_TIMEOUT);
        unsigned got = 0;
        while (r == 0) {
            failures += c.status != 0;
            got++;
            r = wd_client_wait(s, &c, WD_NO_WAIT);
        }
        if (r != -WD_E_WOULD_BLOCK) {
            printf("bench: blk_read_4k_qd32: %s after %llu I/Os\n", wd_error_name(r), (unsigned long long)done);
            return;
        }
        done += got;
        for (unsigned k = 0; k < got && submitted < ios; k++)
            submit_read(s, submitted++, block_size);
        wd_client_kick(s);
    }
    counters_now(service, &b);
    report_blk("blk_read_4k_qd32", &a, &b, done, done, failures);
}

/* The machine's NVMe controller with a fresh driver ("nvme <args>",
 * registered as name) on it, and a session with a region of region_bytes. */
struct blk_setup {
    long device, driver_pool, driver;
    wd_handle_t service;
    uint64_t block_size;
    struct wd_client_session s;
};

static bool blk_start(wd_handle_t pool, const char *args, const char *name, uint64_t region_bytes,
                      struct blk_setup *b)
{
    const struct wd_start_info *info = wd_start_info;
    wd_handle_t root = info->cap_count ? info->caps[0] : WD_NULL;
    struct wd_device_info dev;
    uint64_t index = 0;
    long r;
    memset(b, 0, sizeof *b);
    while ((r = wd_device_list(root, index, &dev)) == 0 && !(dev.vendor_id == 0x1b36 && dev.device_id == 0x0010))
        index++;
    const struct wd_module *module = wd_find_module("nvme");
    b->device = r == 0 ? wd_device_open(root, dev.address) : r;
    b->driver_pool = b->device >= 0 ? wd_pool_create(pool, 8ull << 20) : b->device;
    if (b->device < 0 || b->driver_pool < 0 || !module) {
        printf("bench: the block measures need an NVMe controller behind an IOMMU and the nvme module: %s\n",
               wd_error_name(b->device < 0 ? b->device : b->driver_pool));
        return false;
    }
    struct wd_spawn sp = {
        .args = args,
        .image = module->frame,
        .image_size = module->size,
        .pool = (wd_handle_t)b->driver_pool,
        .registry = info->registry,
        .cap_count = 1,
        .caps = { (wd_handle_t)b->device },
    };
    b->driver = wd_spawn(&sp, NULL);
    for (int i = 0; b->driver >= 0 && i < 500 && wd_name_lookup(info->registry, name, &b->service) != 0; i++)
        wd_thread_sleep(10ull * 1000 * 1000);
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_INFO, 0, 0) };
    if (b->service == WD_NULL || wd_call(b->service, &m, BLK_TIMEOUT) < 0 ||
        wd_client_open(&b->s, b->service, pool, region_bytes, WD_RIGHT_READ | WD_RIGHT_WRITE, BLK_CAPACITY, NULL, 0,
                       BLK_TIMEOUT) < 0) {
        printf("bench: the NVMe driver did not come up\n");
        return false;
    }
    b->block_size = m.w[1];
    return true;
}

static void blk_stop(struct blk_setup *b)
{
    wd_client_close(&b->s, BLK_TIMEOUT);
    wd_process_kill((wd_handle_t)b->driver, 0);
    wd_cap_delete((wd_handle_t)b->driver);
    wd_cap_delete(b->service);
    wd_cap_delete((wd_handle_t)b->driver_pool);
    wd_cap_delete((wd_handle_t)b->device);
}

void bench_blk(wd_handle_t pool)
{
    struct blk_setup b;
    if (!blk_start(pool, "nvme blk-bench", "blk-bench", BLK_REGION, &b))
        return;
    struct wd_client_session *sp = &b.s;
    wd_handle_t service = b.service;
    uint64_t block_size = b.block_size;
    qd1(service, sp, "blk_read_4k_qd1", NVME_BLK_READ, 4096, QD1_IOS, QD1_IOS, block_size);
    qd1(service, sp, "blk_write_4k_qd1", NVME_BLK_WRITE, 4096, QD1_IOS, QD1_IOS, block_size);
    qd32(service, sp, block_size, QD32_IOS);
    qd1(service, sp, "blk_read_128k_per_mib", NVME_BLK_READ, 128 << 10, SEQ_MIB * 8, SEQ_MIB, block_size);
    blk_stop(&b);
}

void bench_blk_only(wd_handle_t pool, const char *which)
{
    struct blk_setup b;
    const char *count = strchr(which, ':');
    unsigned ios = count ? (unsigned)strtoul(count + 1, NULL, 10) : 0;
    if (!blk_start(pool, "nvme blk-bench", "blk-bench", BLK_REGION, &b))
        return;
    if (strncmp(which, "qd32", 4) == 0)
        qd32(b.service, &b.s, b.block_size, ios ? ios : QD32_IOS);
    else
        qd1(b.service, &b.s, "blk_read_4k_qd1", NVME_BLK_READ, 4096, ios ? ios : QD1_IOS, ios ? ios : QD1_IOS,
            b.block_size);
    blk_stop(&b);
}

void bench_blk_iotlb(wd_handle_t pool, bool small_pages)
{
    struct blk_setup b;
    if (!blk_start(pool, small_pages ? "nvme blk-iotlb iommu-4k" : "nvme blk-iotlb", "blk-iotlb", IOTLB_BYTES, &b))
        return;
    long failures = 0;
    printf("bench: iotlb: a %llu MiB sequential read into a region the IOMMU maps with %s pages\n",
           (unsigned long long)(IOTLB_BYTES >> 20), small_pages ? "4 KiB" : "2 MiB");
    for (uint64_t at = 0; at < IOTLB_BYTES; at += 128 << 10)
        failures += one(&b.s, NVME_BLK_READ, at, 128 << 10, at / b.block_size) != 0;
    printf("BENCH blk_iotlb_%s read_mib=%llu failed=%ld\n", small_pages ? "4k" : "2m",
           (unsigned long long)(IOTLB_BYTES >> 20), failures);
    blk_stop(&b);
}