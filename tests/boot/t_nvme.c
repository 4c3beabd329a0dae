/*
 * t_nvme.c - the NVMe driver and block service (drivers/nvme) end to end
 * with QEMU's NVMe controller: a client's region read and written by the
 * controller through the one mapping made at session setup; every request
 * error; and, with `blkseed=N` on the command line (the harness filled the
 * disk image with splitmix64(N + i) in the 64-bit word at byte 8i), the
 * first 16 MiB read and checked word by word, and bytes [32 MiB, 48 MiB)
 * written with the pattern for N ^ 0xFFFF and flushed, for the harness to
 * check in the image on the host after QEMU exits (tests/disk_pattern.py).
 */
#include <stdlib.h>
#include <string.h>
#include <warden/region.h>
#include <warden/registry.h>
#include <warden/service.h>
#include <warden/supervisor.h>

#include "boot_tests.h"
#include "t_dma.h"

#define WD_DRIVER_IRQ_INTX 2u               /* <warden/driver.h>'s mode, as NVME_OP_STATS reports it */
#include "../../drivers/nvme/nvme_protocol.h"

#define NVME_VENDOR 0x1b36
#define NVME_DEVICE 0x0010
#define REGION_BYTES (2ull << 20)
#define CAPACITY 16u
#define TIMEOUT (20000 * BT_MS)
#define MIB (1ull << 20)
#define SCRATCH_BYTE (16 * MIB)         /* between the checked and the written ranges */

static uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The NVMe driver on the machine's controller, behind the IOMMU; false
 * (skipped or failed) if there is none. */
static bool nvme_up(struct edu_driver *drv, wd_handle_t *device)
{
    struct wd_device_info info;
    if (dma_find_device(NVME_VENDOR, NVME_DEVICE, &info) != 0) {
        BT_SKIP("no NVMe controller on this machine");
        return false;
    }
    if (!dma_iommu_present()) {
        BT_SKIP("needs the NVMe controller behind an IOMMU");
        return false;
    }
    long d = BT_OK(wd_device_open(dma_device_root(), info.address));
    if (d < 0)
        return false;
    *device = (wd_handle_t)d;
    return driver_start(drv, "nvme", *device, "");
}

static void nvme_down(struct edu_driver *drv, wd_handle_t device)
{
    wd_process_kill(drv->process, 0);
    wd_cap_delete(device);
}

/* One request, waited for: its status as -WD_E_* (0 = success). */
static long block_request(struct wd_client_session *s, uint16_t op, uint64_t offset, uint64_t length, uint64_t lba)
{
    static uint64_t next_id = 1;
    struct wd_ring_desc d = { .offset = offset, .length = length, .op = op, .id = next_id++, .arg = lba };
    long r = wd_client_submit(s, &d);
    if (r == 0)
        r = wd_client_kick(s);
    struct wd_ring_desc c = { .status = 0xFFFF };
    if (r == 0)
        r = wd_client_wait(s, &c, TIMEOUT);
    if (r < 0)
        return r;
    BT_CHECK_EQ(c.id, d.id);
    if (c.status == 0)
        BT_CHECK_EQ(c.arg, length);
    return -(long)c.status;
}

static bool open_block_session(struct edu_driver *drv, struct wd_client_session *s, uint64_t rights,
                               uint64_t *block_size, uint64_t *blocks)
{
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_INFO, 0, 0) };
    if (BT_OK(wd_call(drv->client, &m, TIMEOUT)) < 0 || BT_OK((long)m.w[0]) < 0)
        return false;
    *block_size = m.w[1];
    *blocks = m.w[2];
    BT_CHECK(*block_size == 512 || *block_size == 4096);
    BT_CHECK(m.w[3] >= 4096);
    return BT_OK(wd_client_open(s, drv->client, bt_pool(), REGION_BYTES, rights, CAPACITY, NULL, 0, TIMEOUT)) == 0;
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
    if (!nvme_up(&drv, &device))
        return;
    struct wd_client_session s;
    uint64_t block_size, blocks;
    if (!open_block_session(&drv, &s, WD_RIGHT_READ | WD_RIGHT_WRITE, &block_size, &blocks))
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
    if (!nvme_up(&drv, &device))
        return;
    struct wd_client_session s;
    uint64_t block_size, blocks;
    if (!open_block_session(&drv, &s, WD_RIGHT_READ | WD_RIGHT_WRITE, &block_size, &blocks))
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
    struct edu_driver drv;
    char name[32];
    if (driver_spawn(&drv, "nvme", (wd_handle_t)d, "", name, sizeof name)) {
        struct wd_msg msg;
        BT_CHECK_EQ(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &msg, 10000 * BT_MS), 0);
        BT_CHECK_EQ(msg.w[3], WD_EXIT_NORMAL);
        BT_CHECK_EQ(msg.w[2], 1);
        wd_handle_t client = WD_NULL;
        BT_CHECK_EQ(wd_name_lookup(wd_start_info->registry, name, &client), -WD_E_NOT_FOUND);
        device_expect_released((wd_handle_t)d, 0);
        wd_cap_delete(drv.process);
        wd_cap_delete(drv.fault_ep);
    }
    wd_cap_delete((wd_handle_t)d);
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
    if (!open_block_session(&drv, &whole, WD_RIGHT_READ | WD_RIGHT_WRITE, &block_size, &blocks))
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

#define DEEP 128u                       /* requests in flight: more than the driver's 63 command slots */

/* Submits DEEP 4 KiB requests of op (request k: region offset k * 4 KiB,
 * block lba + k * 4 KiB / block_size) in one kick, plus one 256 KiB
 * request that is split, and checks that each completes exactly once,
 * successfully. */
static void run_deep(struct wd_client_session *s, uint16_t op, uint64_t lba, uint64_t block_size)
{
    static bool seen[DEEP + 1];
    memset(seen, 0, sizeof seen);
    for (unsigned k = 0; k < DEEP; k++) {
        struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = op, .id = 1000 + k,
                                  .arg = lba + k * 4096ull / block_size };
        BT_CHECK_EQ(wd_client_submit(s, &d), 0);
        if (k == DEEP / 2) {
            struct wd_ring_desc big = { .offset = DEEP * 4096ull, .length = 256 << 10, .op = op, .id = 1000 + DEEP,
                                        .arg = lba + DEEP * 4096ull / block_size };
            BT_CHECK_EQ(wd_client_submit(s, &big), 0);
        }
    }
    BT_CHECK_EQ(wd_client_kick(s), 0);
    unsigned done = 0, out_of_order = 0;
    uint64_t last = 0;
    for (; done < DEEP + 1; done++) {
        struct wd_ring_desc c = { .status = 0xFFFF };
        long r = wd_client_wait(s, &c, TIMEOUT);
        if (r < 0) {
            printf("# after %u completions: %s\n", done, wd_error_name(r));
            BT_CHECK_EQ(r, 0);
            break;
        }
        bool known = c.id >= 1000 && c.id <= 1000 + DEEP;
        BT_CHECK(known);
        if (!known)
            continue;
        BT_CHECK(!seen[c.id - 1000]);           /* exactly once */
        seen[c.id - 1000] = true;
        BT_CHECK_EQ(c.status, 0);
        out_of_order += c.id < last;
        last = c.id;
    }
    printf("# %u requests completed, %u of them after a request submitted later\n", done, out_of_order);
}

/* More requests than the driver has command slots, in one kick: each one
 * completes exactly once with the right data (those beyond the slots wait
 * for completions, nothing is lost); then the same for reads. */
void test_nvme_blk_queue_depth(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_INFO, 0, 0) };
    if (BT_OK(wd_call(drv.client, &m, TIMEOUT)) < 0)
        return;
    uint64_t block_size = m.w[1], lba = SCRATCH_BYTE / block_size;
    struct wd_client_session s;
    if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, 256, NULL, 0,
                             TIMEOUT)) < 0)
        return;
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

#define CLIENT_READY 0xB10D

/* Helper role "nvme-client" (caps[0] the block service, caps[1] an
 * endpoint to report to): opens a session, queues DEEP 4 KiB reads (and a
 * 1 MiB one) into its region in one kick, says so, and sleeps until it is
 * killed with them in flight. */
int bt_nvme_client_main(const wd_handle_t *caps)
{
    struct wd_client_session s;
    if (wd_client_open(&s, caps[0], wd_start_info->pool, REGION_BYTES, WD_RIGHT_WRITE, 256, NULL, 0, TIMEOUT) < 0)
        return 3;
    for (unsigned k = 0; k < DEEP; k++) {
        struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = NVME_BLK_READ, .id = k, .arg = k * 8 };
        if (wd_client_submit(&s, &d) < 0)
            return 4;
    }
    struct wd_ring_desc big = { .offset = MIB, .length = MIB, .op = NVME_BLK_READ, .id = DEEP, .arg = 0 };
    if (wd_client_submit(&s, &big) < 0 || wd_client_kick(&s) < 0)
        return 5;
    struct wd_msg m = { .info = wd_msg_info(CLIENT_READY, 0, 0) };
    wd_send(caps[1], &m, TIMEOUT);
    for (;;)
        wd_thread_sleep(1000 * BT_MS);
}

/* A client killed with requests in flight: the kernel ends its lease (the
 * DMA mapping cut and flushed before its frames are free), the driver
 * keeps the session's IOVAs reserved until the controller is done with
 * them, and goes on serving: the next client's region gets nothing of the
 * dead one's reads, and its own I/O works. */
void test_nvme_client_dies_in_flight(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    long fault = BT_OK(wd_endpoint_create(bt_pool()));
    if (report < 0 || fault < 0)
        return;
    for (unsigned round = 0; round < 3; round++) {
        wd_handle_t caps[2] = { drv.client, (wd_handle_t)report };
        wd_handle_t client = bt_spawn_helper("nvme-client", caps, 2, (wd_handle_t)fault, 0xC1);
        struct wd_msg m;
        BT_CHECK_EQ(wd_recv((wd_handle_t)report, &m, TIMEOUT), 0);
        BT_CHECK_EQ(wd_msg_label(m.info), CLIENT_READY);
        struct wd_system_info before, after;
        BT_OK(wd_system_info(&before));
        BT_OK(wd_process_kill(client, 0));
        BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)fault, WD_LABEL_EXIT, 0xC1, &m, TIMEOUT), 0);
        bt_release_helper(client);
        BT_OK(wd_system_info(&after));
        BT_CHECK(after.lease_ends > before.lease_ends);     /* its grant ended with it */
        /* The next client: a sentinel in its region survives the dead one's late reads. */
        struct wd_client_session s;
        if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY,
                                 NULL, 0, TIMEOUT)) < 0)
            break;
        memset(s.region.cpu, 0x3C, REGION_BYTES);
        wd_thread_sleep(200 * BT_MS);
        BT_CHECK(all_equal(s.region.cpu, (unsigned)REGION_BYTES, 0x3C));
        BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 0, 8192, 0), 0);
        BT_CHECK_EQ(block_request(&s, NVME_BLK_FLUSH, 0, 0, 0), 0);
        BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    }
    wd_cap_delete((wd_handle_t)report);
    wd_cap_delete((wd_handle_t)fault);
    nvme_down(&drv, device);
}

#define NVME_TEST_BAR_VA 0x720000000000ull
#define NVME_REG_VS 0x08
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1C

/* A revocation resets the controller (FLR) before anyone else gets it:
 * killed with its controller enabled, the driver leaves a device that is
 * BUSY for the reset's 100 ms, then has its BARs back (VS reads 1.4) and
 * its controller disabled (CC.EN = 0, CSTS.RDY = 0: the old queues are
 * gone). Then a new driver brings it up again. */
void test_nvme_revoke_resets_controller(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    struct wd_msg m;
    BT_OK(wd_process_kill(drv.process, 0));
    BT_CHECK_EQ(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, TIMEOUT), 0);
    long first = wd_device_config_read(device, 0, 4);
    if (first == -WD_E_BUSY)
        printf("# right after the revocation the device is BUSY (resetting)\n");
    else
        printf("# the device was no longer BUSY when first asked (%s): the test ran more than 100 ms later\n",
               first < 0 ? wd_error_name(first) : "its ID");
    long id = -WD_E_BUSY;
    for (int i = 0; i < 100 && id == -WD_E_BUSY; i++) {
        wd_thread_sleep(10 * BT_MS);
        id = wd_device_config_read(device, 0, 4);
    }
    BT_CHECK_EQ(id, (long)(NVME_VENDOR | NVME_DEVICE << 16));
    long frame = BT_OK(wd_device_bar_frame(device, 0));
    if (frame >= 0 && BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, NVME_TEST_BAR_VA, WD_PAGE_SIZE,
                                      WD_RIGHT_READ | WD_RIGHT_WRITE)) == 0) {
        volatile uint32_t *regs = (volatile uint32_t *)NVME_TEST_BAR_VA;
        BT_CHECK_EQ(regs[NVME_REG_VS / 4], 0x00010400);         /* BAR0 decodes again */
        BT_CHECK_EQ(regs[NVME_REG_CC / 4] & 1, 0);              /* the reset disabled the controller */
        BT_CHECK_EQ(regs[NVME_REG_CSTS / 4] & 1, 0);
        BT_OK(wd_vm_unmap(WD_NULL, NVME_TEST_BAR_VA, WD_PAGE_SIZE));
    }
    if (frame >= 0)
        wd_cap_delete((wd_handle_t)frame);
    wd_cap_delete(drv.process);
    wd_cap_delete(drv.fault_ep);
    /* A new driver brings the reset controller up and serves. */
    struct edu_driver again;
    if (driver_start(&again, "nvme", device, "")) {
        struct wd_client_session s;
        uint64_t block_size, blocks;
        if (open_block_session(&again, &s, WD_RIGHT_READ | WD_RIGHT_WRITE, &block_size, &blocks)) {
            BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 0, 4096, 0), 0);
            BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
        }
        nvme_down(&again, device);
    } else {
        wd_cap_delete(device);
    }
}

#define CRASH_WRITES 96u
#define CRASH_ROUNDS 3u

/* The driver is killed with writes in flight, CRASH_ROUNDS times; each
 * time a new driver comes up (as init's supervisor would start it) and
 * the client library reopens the session and submits again what did not
 * complete: every write completes exactly once, successfully, and the
 * disk holds the last round's data everywhere (a write of an earlier
 * round's dead driver landing later would show its older data). */
void test_nvme_driver_crash_mid_io(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_INFO, 0, 0) };
    if (BT_OK(wd_call(drv.client, &m, TIMEOUT)) < 0)
        return;
    uint64_t block_size = m.w[1], base = SCRATCH_BYTE / block_size, per = 4096 / block_size;
    struct wd_client_session s;
    if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, 128, NULL, 0,
                             TIMEOUT)) < 0)
        return;
    volatile uint8_t *region = s.region.cpu;
    static bool seen[CRASH_WRITES];
    for (unsigned round = 0; round < CRASH_ROUNDS; round++) {
        memset(seen, 0, sizeof seen);
        for (unsigned k = 0; k < CRASH_WRITES; k++) {
            fill(region + k * 4096ull, 4096, (uint8_t)(round * 64 + k));
            struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = NVME_BLK_WRITE, .id = k,
                                      .arg = base + k * per };
            BT_CHECK_EQ(wd_client_submit(&s, &d), 0);
        }
        BT_CHECK_EQ(wd_client_kick(&s), 0);
        unsigned done = 0, before_crash = 0;
        struct wd_ring_desc c;
        while (done < 4 && wd_client_wait(&s, &c, TIMEOUT) == 0) {     /* a few complete, the rest in flight */
            BT_CHECK(c.id < CRASH_WRITES && !seen[c.id] && c.status == 0);
            if (c.id < CRASH_WRITES)
                seen[c.id] = true;
            done++;
        }
        BT_OK(wd_process_kill(drv.process, 0));
        BT_CHECK_EQ(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, TIMEOUT), 0);
        wd_cap_delete(drv.process);
        wd_cap_delete(drv.fault_ep);
        wd_cap_delete(drv.client);      /* the dead one's endpoint (and with it its pool) can go */
        long r;
        while ((r = wd_client_wait(&s, &c, TIMEOUT)) == 0) {           /* what it published before dying */
            BT_CHECK(c.id < CRASH_WRITES && !seen[c.id] && c.status == 0);
            if (c.id < CRASH_WRITES)
                seen[c.id] = true;
            done++;
        }
        BT_CHECK_EQ(r, -WD_E_DEAD);
        before_crash = done;
        if (!driver_start(&drv, "nvme", device, ""))
            break;
        uint64_t resubmitted = s.resubmitted;
        BT_CHECK_EQ(wd_client_reopen(&s, drv.client, TIMEOUT), 0);
        BT_CHECK_EQ(s.resubmitted - resubmitted, CRASH_WRITES - before_crash);
        while (done < CRASH_WRITES && (r = wd_client_wait(&s, &c, TIMEOUT)) == 0) {
            BT_CHECK(c.id < CRASH_WRITES && !seen[c.id]);              /* exactly once */
            BT_CHECK_EQ(c.status, 0);
            if (c.id < CRASH_WRITES)
                seen[c.id] = true;
            done++;
        }
        BT_CHECK_EQ(done, CRASH_WRITES);
        printf("# round %u: %u write(s) completed before the driver died, %u sent again to its successor\n", round,
               before_crash, CRASH_WRITES - before_crash);
    }
    /* The disk holds the last round everywhere. */
    memset((void *)region, 0, CRASH_WRITES * 4096ull);
    for (unsigned k = 0; k < CRASH_WRITES; k += 16)
        BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, k * 4096ull, 16 * 4096, base + k * per), 0);
    static uint8_t expected[4096];
    unsigned wrong = 0;
    for (unsigned k = 0; k < CRASH_WRITES; k++) {
        fill(expected, 4096, (uint8_t)((CRASH_ROUNDS - 1) * 64 + k));
        wrong += memcmp((const void *)(region + k * 4096ull), expected, 4096) != 0;
    }
    BT_CHECK_EQ(wrong, 0);
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    nvme_down(&drv, device);
}

/* Write Zeroes and Deallocate: zeros land exactly where asked (the blocks
 * around keep their data), the region is not touched, and both keep to
 * the partition like any request. */
void test_nvme_blk_zeroes_and_deallocate(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    struct wd_client_session s;
    uint64_t block_size, blocks;
    if (!open_block_session(&drv, &s, WD_RIGHT_READ | WD_RIGHT_WRITE, &block_size, &blocks))
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

/* The INTx fallback: a driver told to use the pin (as it would where MSI-X
 * cannot work) serves reads and writes, several in flight, and its
 * level-triggered line drops once the completions are reaped. It runs
 * before the tests that kill drivers mid-I/O: QEMU 7.2 keeps its count of
 * CQs with pending entries (cq_pending) across a reset, so after an owner
 * died with completions pending the controller's INTx line stays asserted
 * for good (docs/nvme.md). */
void test_nvme_intx_fallback(void)
{
    struct wd_device_info info;
    if (dma_find_device(NVME_VENDOR, NVME_DEVICE, &info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs an NVMe controller behind an IOMMU");
        return;
    }
    long d = BT_OK(wd_device_open(dma_device_root(), info.address));
    struct edu_driver drv;
    if (d < 0 || !driver_start(&drv, "nvme", (wd_handle_t)d, "intx"))
        return;
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_STATS, 0, 0) };
    BT_OK(wd_call(drv.client, &m, TIMEOUT));
    uint64_t interrupts_before = m.w[3];
    struct wd_client_session s;
    m = (struct wd_msg){ .info = wd_msg_info(NVME_OP_INFO, 0, 0) };
    BT_OK(wd_call(drv.client, &m, TIMEOUT));
    uint64_t block_size = m.w[1];
    if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, 256, NULL, 0,
                             TIMEOUT)) == 0) {
        run_deep(&s, NVME_BLK_READ, SCRATCH_BYTE / block_size, block_size);
        BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE, 0, 4096, SCRATCH_BYTE / block_size), 0);
        BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    }
    m = (struct wd_msg){ .info = wd_msg_info(NVME_OP_STATS, 0, 0) };
    BT_OK(wd_call(drv.client, &m, TIMEOUT));
    BT_CHECK(m.w[3] > interrupts_before);          /* completions came as interrupt messages */
    BT_CHECK_EQ(m.w[5], WD_DRIVER_IRQ_INTX);        /* ... on the pin */
    nvme_down(&drv, (wd_handle_t)d);
}

/* Looks name up until it is a newer incarnation than generation (init's
 * supervisor restarts the driver with backoff); false if none came. */
static bool connect_newer(struct wd_service *svc, const char *name, uint64_t generation)
{
    for (int i = 0; i < 300; i++) {
        if (wd_service_connect(svc, wd_start_info->registry, name, 100 * BT_MS) == 0) {
            if (svc->generation > generation)
                return true;
            wd_service_close(svc);
        }
        wd_thread_sleep(10 * BT_MS);
    }
    return false;
}

/* The same crash through init's supervisor, as in the normal system: the
 * supervisor kills blk-style "nvme" mid-write and restarts it; the client
 * finds the new incarnation by name and its library resubmits; every write
 * completes once and lands; supervision stops with nothing left charged. */
void test_nvme_supervised_restart(void)
{
    struct wd_device_info info;
    if (dma_find_device(NVME_VENDOR, NVME_DEVICE, &info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs an NVMe controller behind an IOMMU");
        return;
    }
    wd_handle_t registry = wd_start_info->registry;
    char name[32], spec[WD_NAME_MAX + 1];
    snprintf(name, sizeof name, "blk-sup-%llu", (unsigned long long)wd_start_info->process_id);
    snprintf(spec, sizeof spec, "%s nvme", name);
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    long pool = BT_OK(wd_pool_create(bt_pool(), 8ull << 20));
    if (device < 0 || pool < 0 || BT_OK(wd_supervise_start(registry, spec, (wd_handle_t)device, (wd_handle_t)pool)) < 0)
        return;
    struct wd_service svc;
    if (!connect_newer(&svc, name, 0))
        BT_CHECK(false);
    struct wd_client_session s;
    if (BT_OK(wd_client_open(&s, svc.endpoint, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, 128, NULL, 0,
                             TIMEOUT)) == 0) {
        struct wd_msg m = { .info = wd_msg_info(NVME_OP_INFO, 0, 0) };
        BT_OK(wd_call(svc.endpoint, &m, TIMEOUT));
        uint64_t block_size = m.w[1], base = (SCRATCH_BYTE + 4 * MIB) / block_size;   /* in [16, 32) MiB */
        volatile uint8_t *region = s.region.cpu;
        for (unsigned k = 0; k < 64; k++) {
            fill(region + k * 4096ull, 4096, (uint8_t)(0x40 + k));
            struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = NVME_BLK_WRITE, .id = k,
                                      .arg = base + k * 4096 / block_size };
            BT_CHECK_EQ(wd_client_submit(&s, &d), 0);
        }
        BT_CHECK_EQ(wd_client_kick(&s), 0);
        BT_CHECK_EQ(wd_supervise_kill(registry, name), 0);
        static bool seen[64];
        unsigned done = 0;
        struct wd_ring_desc c;
        long r;
        while ((r = wd_client_wait(&s, &c, TIMEOUT)) == 0 && c.id < 64 && !seen[c.id]) {
            seen[c.id] = true;
            done++;
        }
        BT_CHECK_EQ(r, -WD_E_DEAD);
        uint64_t generation = svc.generation;
        wd_service_close(&svc);
        if (connect_newer(&svc, name, generation)) {
            BT_CHECK_EQ(wd_client_reopen(&s, svc.endpoint, TIMEOUT), 0);
            while (done < 64 && wd_client_wait(&s, &c, TIMEOUT) == 0) {
                BT_CHECK(c.id < 64 && !seen[c.id] && c.status == 0);
                if (c.id < 64)
                    seen[c.id] = true;
                done++;
            }
            BT_CHECK_EQ(done, 64);
            memset((void *)(region + (1u << 20)), 0, 64 * 4096);
            BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 1u << 20, 64 * 4096, base), 0);
            BT_CHECK(memcmp((const void *)(region + (1u << 20)), (const void *)region, 64 * 4096) == 0);
            struct wd_service_status st;
            BT_OK(wd_supervise_status(registry, name, &st));
            BT_CHECK_EQ(st.generation, 2);
            BT_CHECK_EQ(st.deaths, 1);
        } else {
            BT_CHECK(false);                    /* no new incarnation */
        }
        BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    }
    wd_service_close(&svc);
    BT_CHECK_EQ(wd_supervise_stop(registry, name), 0);
    struct wd_pool_info left;
    BT_OK(wd_pool_info((wd_handle_t)pool, &left));
    BT_CHECK_EQ(left.used, 0);
    wd_cap_delete((wd_handle_t)pool);
    wd_cap_delete((wd_handle_t)device);
}
