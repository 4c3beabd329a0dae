/*
 * t_nvme.c - the NVMe driver and block service (drivers/nvme) end to end
 * with QEMU's NVMe controller: a client's region read and written by the
 * controller through the one mapping made at session setup; every request
 * error; Write Zeroes and Deallocate; partitions; more requests than the
 * driver's command slots; a client that breaks its ring; the INTx
 * fallback; no DMA without an IOMMU. And, with `blkseed=N` on the command
 * line (the harness filled the disk image with splitmix64(N + i) in the
 * 64-bit word at byte 8i), the first 16 MiB read and checked word by
 * word, and bytes [32 MiB, 48 MiB) written with the pattern for N ^ 0xFFFF
 * and flushed, for the harness to check in the image on the host after
 * QEMU exits (tests/disk_pattern.py). Deaths, resets and restarts are in
 * t_nvme_crash.c.
 */
#include <stdlib.h>
#include <string.h>
#include <warden/registry.h>

#include "boot_tests.h"
#include "t_nvme.h"

static uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* With blkseed=N: the first 16 MiB hold the host's pattern, word by word;
 * then [32 MiB, 48 MiB) is written with the pattern for N ^ 0xFFFF. */
void test_nvme_blk_integrity(void)
{
    const char *flag = strstr(wd_start_info->cmdline, "blkseed=");
    if (!flag) {
        BT_SKIP("no blkseed=N on the command line (the harness's nvme config sets it)");
        return;
    }
    uint64_t seed = strtoull(flag + 8, NULL, 0);
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint64_t block_size, blocks;
    if (!nvme_up_open(&drv, &device, "", &s, CAPACITY, &block_size, &blocks))
        return;
    BT_CHECK(blocks * block_size >= 48 * MIB);
    volatile uint64_t *words = s.region.cpu;
    uint64_t wrong = 0, first_wrong = ~0ull;
    for (uint64_t at = 0; at < 16 * MIB; at += REGION_BYTES) {
        memset((void *)words, 0, REGION_BYTES);
        BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 0, REGION_BYTES, at / block_size), 0);
        for (uint64_t i = 0; i < REGION_BYTES / 8; i++) {
            uint64_t index = at / 8 + i;
            if (words[i] != splitmix64(seed + index)) {
                if (!wrong++)
                    first_wrong = index * 8;
            }
        }
    }
    if (wrong)
        printf("# %llu of %llu words differ from the host's pattern; the first at byte 0x%llx\n",
               (unsigned long long)wrong, (unsigned long long)(16 * MIB / 8), (unsigned long long)first_wrong);
    BT_CHECK_EQ(wrong, 0);
    uint64_t written_seed = seed ^ 0xFFFF;
    for (uint64_t at = 32 * MIB; at < 48 * MIB; at += REGION_BYTES) {
        for (uint64_t i = 0; i < REGION_BYTES / 8; i++)
            words[i] = splitmix64(written_seed + at / 8 + i);
        BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE, 0, REGION_BYTES, at / block_size), 0);
    }
    BT_CHECK_EQ(block_request(&s, NVME_BLK_FLUSH, 0, 0, 0), 0);
    printf("# read and checked 16 MiB for seed %llu; wrote [32 MiB, 48 MiB) for seed %llu and flushed\n",
           (unsigned long long)seed, (unsigned long long)written_seed);
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    nvme_down(&drv, device);
}

/* Write then read back through two parts of the region (a page-crossing
 * offset, a transfer larger than one command), and every request error,
 * each leaving the region and the disk untouched. */
void test_nvme_blk_roundtrip_and_errors(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint64_t block_size, blocks;
    if (!nvme_up_open(&drv, &device, "", &s, CAPACITY, &block_size, &blocks))
        return;
    volatile uint8_t *region = s.region.cpu;
    uint64_t lba = SCRATCH_BYTE / block_size, half = REGION_BYTES / 2;
    uint64_t length = half - 4096;      /* > 512 KiB: split into several commands */
    fill(region + 4096 - block_size, (unsigned)length, 0x5C);      /* starts mid-page when blocks are 512 B */
    memset((void *)(region + half), 0, half);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE, 4096 - block_size, length, lba), 0);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, half, length, lba), 0);
    BT_CHECK(memcmp((const void *)(region + half), (const void *)(region + 4096 - block_size), length) == 0);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_FLUSH, 0, 0, 0), 0);
    /* Errors: each gets its own status and moves nothing. */
    memset((void *)(region + half), 0xEE, 4096);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, half, block_size, blocks), -WD_E_RANGE);           /* past the end */
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, half, 2 * block_size, blocks - 1), -WD_E_RANGE);  /* straddles it */
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, half, block_size, ~0ull), -WD_E_RANGE);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, half, block_size - 1, lba), -WD_E_INVALID_ARG);   /* not whole blocks */
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, half, 0, lba), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, REGION_BYTES - block_size, 2 * block_size, lba),
                -WD_E_RANGE);                                                                   /* past the region */
    BT_CHECK_EQ(block_request(&s, 77, half, block_size, lba), -WD_E_NOT_SUPPORTED);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_FLUSH, 0, block_size, 0), -WD_E_INVALID_ARG);
    BT_CHECK(all_equal(region + half, 4096, 0xEE));
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);

    /* A lease that lets the controller only read the region: disk reads
     * into it are refused (NO_RIGHTS), writes from it work. */
    struct wd_client_session ro;
    if (BT_OK(wd_client_open(&ro, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ, CAPACITY, NULL, 0, TIMEOUT)) ==
        0) {
        memset(ro.region.cpu, 0x11, 4096);
        BT_CHECK_EQ(block_request(&ro, NVME_BLK_READ, 0, 4096, lba), -WD_E_NO_RIGHTS);
        BT_CHECK(all_equal(ro.region.cpu, 4096, 0x11));
        BT_CHECK_EQ(block_request(&ro, NVME_BLK_WRITE, 0, 4096, lba), 0);
        BT_CHECK_EQ(wd_client_close(&ro, TIMEOUT), 0);
    }
    /* An unknown call. */
    struct wd_msg m = { .info = wd_msg_info(0x99, 0, 0) };
    BT_CHECK_EQ(wd_call(drv.client, &m, TIMEOUT), 0);
    BT_CHECK_EQ((long)m.w[0], -WD_E_NOT_SUPPORTED);
    nvme_down(&drv, device);
}

/* Write Zeroes and Deallocate: zeros land exactly where asked (the blocks
 * around keep their data), the region is not touched, and both keep to
 * the partition like any request. */
void test_nvme_blk_zeroes_and_deallocate(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint64_t block_size, blocks;
    if (!nvme_up_open(&drv, &device, "", &s, CAPACITY, &block_size, &blocks))
        return;
    volatile uint8_t *region = s.region.cpu;
    uint64_t lba = (SCRATCH_BYTE + 6 * MIB) / block_size, n = 8;
    fill(region, (unsigned)(n * block_size), 0x9D);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE, 0, n * block_size, lba), 0);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE_ZEROES, 0, 4 * block_size, lba + 2), 0);
    BT_CHECK(!all_equal(region, (unsigned)block_size, 0));                  /* the region was not touched */
    uint64_t back = 1ull << 20;
    memset((void *)(region + back), 0xEE, n * block_size);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, back, n * block_size, lba), 0);
    BT_CHECK(memcmp((const void *)(region + back), (const void *)region, 2 * block_size) == 0);
    BT_CHECK(all_equal(region + back + 2 * block_size, (unsigned)(4 * block_size), 0));
    BT_CHECK(memcmp((const void *)(region + back + 6 * block_size), (const void *)(region + 6 * block_size),
                    2 * block_size) == 0);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_DEALLOCATE, 0, 2 * block_size, lba), 0);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE_ZEROES, 0, block_size, blocks), -WD_E_RANGE);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_DEALLOCATE, 0, 2 * block_size, blocks - 1), -WD_E_RANGE);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE_ZEROES, 0, block_size - 1, lba), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(block_request(&s, 0, 0, block_size, lba), -WD_E_NOT_SUPPORTED);
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    nvme_down(&drv, device);
}

/* A partition capability from the service's: the session sees blocks
 * 0..count-1 of its range only. */
static long make_partition(wd_handle_t service, uint64_t first, uint64_t count, wd_handle_t *out)
{
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_PARTITION, 2, 0), .w = { first, count } };
    long r = wd_call(service, &m, TIMEOUT);
    if (r < 0)
        return r;
    if ((long)m.w[0] == 0 && wd_msg_ncaps(m.info) == 1)
        *out = m.caps[0];
    return (long)m.w[0];
}

/* Two clients with disjoint partitions: each sees its own blocks at 0..,
 * cannot reach past its end (RANGE, nothing moved), cannot derive a wider
 * partition; the whole-namespace view shows each one's data where its
 * partition lies. */
void test_nvme_blk_partitions_isolated(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    struct wd_client_session whole;
    uint64_t block_size, blocks;
    if (!nvme_open(drv.client, &whole, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, &block_size, &blocks))
        return;
    uint64_t span = MIB / block_size, base = SCRATCH_BYTE / block_size;
    wd_handle_t part_a = WD_NULL, part_b = WD_NULL, narrower = WD_NULL, wider = WD_NULL;
    BT_CHECK_EQ(make_partition(drv.client, base, span, &part_a), 0);
    BT_CHECK_EQ(make_partition(drv.client, base + span, span, &part_b), 0);
    BT_CHECK_EQ(make_partition(drv.client, blocks - 1, 2, &wider), -WD_E_RANGE);       /* past the namespace */
    BT_CHECK_EQ(make_partition(drv.client, 0, 0, &wider), -WD_E_INVALID_ARG);
    if (part_a == WD_NULL || part_b == WD_NULL)
        return;
    BT_CHECK_EQ(make_partition(part_a, 0, span + 1, &wider), -WD_E_RANGE);           /* cannot widen */
    BT_CHECK_EQ(make_partition(part_a, span, 1, &wider), -WD_E_RANGE);
    BT_CHECK_EQ(make_partition(part_a, span / 2, span / 2, &narrower), 0);           /* can narrow */
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_INFO, 0, 0) };
    BT_CHECK_EQ(wd_call(part_a, &m, TIMEOUT), 0);
    BT_CHECK_EQ(m.w[2], span);                                                        /* its size only */
    struct wd_client_session a, b;
    if (BT_OK(wd_client_open(&a, part_a, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, NULL, 0,
                             TIMEOUT)) < 0 ||
        BT_OK(wd_client_open(&b, part_b, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, NULL, 0,
                             TIMEOUT)) < 0)
        return;
    fill(a.region.cpu, 8192, 0xA1);
    fill(b.region.cpu, 8192, 0xB2);
    BT_CHECK_EQ(block_request(&a, NVME_BLK_WRITE, 0, 8192, 0), 0);
    BT_CHECK_EQ(block_request(&b, NVME_BLK_WRITE, 0, 8192, 0), 0);
    /* Past its own end: refused, and nothing of b's is read or written. */
    memset((void *)((volatile uint8_t *)a.region.cpu + 65536), 0x77, 8192);
    BT_CHECK_EQ(block_request(&a, NVME_BLK_READ, 65536, block_size, span), -WD_E_RANGE);
    BT_CHECK_EQ(block_request(&a, NVME_BLK_WRITE, 0, 2 * block_size, span - 1), -WD_E_RANGE);
    BT_CHECK_EQ(block_request(&a, NVME_BLK_READ, 65536, block_size, ~0ull - 1), -WD_E_RANGE);
    BT_CHECK(all_equal((volatile uint8_t *)a.region.cpu + 65536, 8192, 0x77));
    /* Each reads back its own data at its block 0. */
    BT_CHECK_EQ(block_request(&a, NVME_BLK_READ, 65536, 8192, 0), 0);
    BT_CHECK(memcmp((const void *)((volatile uint8_t *)a.region.cpu + 65536), (const void *)a.region.cpu, 8192) == 0);
    BT_CHECK_EQ(block_request(&b, NVME_BLK_READ, 65536, 8192, 0), 0);
    BT_CHECK(memcmp((const void *)((volatile uint8_t *)b.region.cpu + 65536), (const void *)b.region.cpu, 8192) == 0);
    /* The whole namespace shows them where their partitions lie. */
    BT_CHECK_EQ(block_request(&whole, NVME_BLK_READ, 0, 8192, base), 0);
    BT_CHECK(memcmp((const void *)whole.region.cpu, (const void *)a.region.cpu, 8192) == 0);
    BT_CHECK_EQ(block_request(&whole, NVME_BLK_READ, 0, 8192, base + span), 0);
    BT_CHECK(memcmp((const void *)whole.region.cpu, (const void *)b.region.cpu, 8192) == 0);
    /* The narrower partition starts halfway into a's. */
    struct wd_client_session c;
    if (BT_OK(wd_client_open(&c, narrower, bt_pool(), REGION_BYTES, WD_RIGHT_WRITE, CAPACITY, NULL, 0, TIMEOUT)) ==
        0) {
        BT_CHECK_EQ(block_request(&whole, NVME_BLK_WRITE, 0, block_size, base + span / 2), 0);
        BT_CHECK_EQ(block_request(&c, NVME_BLK_READ, 0, block_size, 0), 0);
        BT_CHECK(memcmp((const void *)c.region.cpu, (const void *)whole.region.cpu, block_size) == 0);
        BT_CHECK_EQ(block_request(&c, NVME_BLK_READ, 0, block_size, span / 2), -WD_E_RANGE);
        BT_CHECK_EQ(wd_client_close(&c, TIMEOUT), 0);
    }
    BT_CHECK_EQ(wd_client_close(&a, TIMEOUT), 0);
    BT_CHECK_EQ(wd_client_close(&b, TIMEOUT), 0);
    BT_CHECK_EQ(wd_client_close(&whole, TIMEOUT), 0);
    wd_cap_delete(part_a);
    wd_cap_delete(part_b);
    wd_cap_delete(narrower);
    nvme_down(&drv, device);
}

/* More requests than the driver has command slots, in one kick: each one
 * completes exactly once with the right data (those beyond the slots wait
 * for completions, nothing is lost); then the same for reads. */
void test_nvme_blk_queue_depth(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint64_t block_size;
    if (!nvme_up_open(&drv, &device, "", &s, 256, &block_size, NULL))
        return;
    uint64_t lba = SCRATCH_BYTE / block_size;
    volatile uint8_t *region = s.region.cpu;
    uint64_t bytes = DEEP * 4096ull + (256 << 10);
    for (uint64_t i = 0; i < bytes; i += 4096)
        fill(region + i, 4096, (uint8_t)(i >> 12));
    run_deep(&s, NVME_BLK_WRITE, lba, block_size);
    static uint8_t expected[DEEP * 4096 + (256 << 10)];
    memcpy(expected, (const void *)region, bytes);
    memset((void *)region, 0, bytes);
    run_deep(&s, NVME_BLK_READ, lba, block_size);
    BT_CHECK(memcmp((const void *)region, expected, bytes) == 0);
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    nvme_down(&drv, device);
}

/* A client that breaks its request ring (its head jumps past what the
 * ring holds) loses only its own session: the driver ends it (a close
 * finds nothing), does nothing with the garbage, and another client is
 * served throughout. */
void test_nvme_blk_hostile_ring(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    struct wd_client_session bad, good;
    uint64_t block_size;
    if (!nvme_open(drv.client, &bad, WD_RIGHT_WRITE, CAPACITY, &block_size, NULL) ||
        !nvme_open(drv.client, &good, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, &block_size, NULL))
        return;
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_STATS, 0, 0) };
    BT_OK(wd_call(drv.client, &m, TIMEOUT));
    uint64_t commands = m.w[1];
    struct wd_ring_shared *requests = bad.rings.cpu;
    requests->head += 1000;
    BT_OK(wd_notify_signal(bad.service_signal, 0));
    struct wd_ring_desc c;
    BT_CHECK_EQ(wd_client_wait(&bad, &c, 300 * BT_MS), -WD_E_TIMEOUT);     /* nothing is done with it */
    m = (struct wd_msg){ .info = wd_msg_info(NVME_OP_STATS, 0, 0) };
    BT_OK(wd_call(drv.client, &m, TIMEOUT));
    BT_CHECK_EQ(m.w[1], commands);                                          /* no command for the garbage */
    fill(good.region.cpu, 4096, 0x2B);
    BT_CHECK_EQ(block_request(&good, NVME_BLK_WRITE, 0, 4096, SCRATCH_BYTE / block_size), 0);
    BT_CHECK_EQ(wd_client_close(&bad, TIMEOUT), -WD_E_NOT_FOUND);           /* the driver ended it */
    BT_CHECK_EQ(block_request(&good, NVME_BLK_READ, 8192, 4096, SCRATCH_BYTE / block_size), 0);
    BT_CHECK(memcmp((const void *)((volatile uint8_t *)good.region.cpu + 8192), (const void *)good.region.cpu, 4096) == 0);
    BT_CHECK_EQ(wd_client_close(&good, TIMEOUT), 0);
    nvme_down(&drv, device);
}

/* The INTx fallback: a driver told to use the pin (as it would where MSI-X
 * cannot work) serves reads and writes, several in flight, and its
 * level-triggered line drops once the completions are reaped. It runs
 * before the tests that kill drivers mid-I/O: QEMU 7.2 keeps its count of
 * CQs with pending entries (cq_pending) across a reset, so after an owner
 * died with completions pending the controller's INTx line stays asserted
 * for good (docs/nvme.md). */
void test_nvme_intx_fallback(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up_with(&drv, &device, "intx"))
        return;
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_STATS, 0, 0) };
    BT_OK(wd_call(drv.client, &m, TIMEOUT));
    uint64_t interrupts_before = m.w[3];
    struct wd_client_session s;
    uint64_t block_size;
    if (nvme_open(drv.client, &s, WD_RIGHT_READ | WD_RIGHT_WRITE, 256, &block_size, NULL)) {
        run_deep(&s, NVME_BLK_READ, SCRATCH_BYTE / block_size, block_size);
        BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE, 0, 4096, SCRATCH_BYTE / block_size), 0);
        BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    }
    m = (struct wd_msg){ .info = wd_msg_info(NVME_OP_STATS, 0, 0) };
    BT_OK(wd_call(drv.client, &m, TIMEOUT));
    BT_CHECK(m.w[3] > interrupts_before);          /* completions came as interrupt messages */
    BT_CHECK_EQ(m.w[5], WD_DRIVER_IRQ_INTX);        /* ... on the pin */
    nvme_down(&drv, device);
}

/* Without an IOMMU the driver refuses to let the controller DMA: it exits
 * with status 1 before registering, and leaves the device unowned with bus
 * mastering off. */
void test_nvme_refuses_without_iommu(void)
{
    struct wd_device_info info;
    if (dma_find_device(NVME_VENDOR, NVME_DEVICE, &info) != 0) {
        BT_SKIP("no NVMe controller on this machine");
        return;
    }
    if (dma_iommu_present()) {
        BT_SKIP("an IOMMU is present (the nvme-no-iommu config runs this)");
        return;
    }
    long d = BT_OK(wd_device_open(dma_device_root(), info.address));
    if (d < 0)
        return;
    struct wd_irq_stats before;         /* the kernel's own (the console's line) stay */
    BT_OK(wd_irq_stats(&before));
    struct edu_driver drv;
    char name[32];
    if (driver_spawn(&drv, "nvme", (wd_handle_t)d, "", name, sizeof name)) {
        struct wd_msg msg;
        BT_CHECK_EQ(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &msg, 10000 * BT_MS), 0);
        BT_CHECK_EQ(msg.w[3], WD_EXIT_NORMAL);
        BT_CHECK_EQ(msg.w[2], 1);
        wd_handle_t client = WD_NULL;
        BT_CHECK_EQ(wd_name_lookup(wd_start_info->registry, name, &client), -WD_E_NOT_FOUND);
        device_expect_released((wd_handle_t)d, before.live_irqs);
        wd_cap_delete(drv.process);
        wd_cap_delete(drv.fault_ep);
    }
    wd_cap_delete((wd_handle_t)d);
}
