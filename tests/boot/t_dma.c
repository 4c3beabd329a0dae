/*
 * t_dma.c - DMA isolation through VT-d, proven with QEMU's edu device: a
 * mapped transfer works; unmapped, read-only, unmapped-after-use and
 * detached IOVAs are blocked (the memory is unchanged) and reported;
 * dma_map's argument errors; config-space mediation; ownership between
 * processes; fault floods quiesce the device; translation really is on.
 *
 * edu facts (shared/reference/qemu-vtd-facts.md section 2): DMA engine at
 * BAR0 0x80..0x98, device buffer at 0x40000, 100 ms per transfer, 28-bit
 * DMA mask (IOVAs stay below 256 MiB), at most 4095 bytes per transfer.
 */
#include <string.h>

#include <warden/registry.h>
#include <warden/spawn.h>

#include "boot_tests.h"
#include "edu_protocol.h"
#include "t_dma.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_REG_ID 0x00
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_COUNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_DMA_START 1u
#define EDU_DMA_TO_RAM 2u
#define EDU_BUFFER 0x40000ull

#define FAULT_BADGE 0xD3A
#define BAR_VA 0x700000000000ull
#define BUF_VA 0x710000000000ull
#define TRANSFER 4000u                  /* < 4096: QEMU 7.2's edu aborts on a full page */

/* VT-d fault reasons (spec 7.1.3) QEMU reports for second-level faults. */
#define FR_WRITE_DENIED 0x5             /* write to a page without write permission (or not present) */

wd_handle_t dma_device_root(void)
{
    return wd_start_info->cap_count ? wd_start_info->caps[0] : WD_NULL;
}

bool dma_iommu_present(void)
{
    struct wd_iommu_info info;
    return wd_iommu_info(0, &info) == 0;
}

long dma_find_device(uint16_t vendor, uint16_t device, struct wd_device_info *out)
{
    wd_handle_t root = dma_device_root();
    for (uint64_t i = 0;; i++) {
        long r = wd_device_list(root, i, out);
        if (r < 0)
            return r;
        if (out->vendor_id == vendor && out->device_id == device)
            return 0;
    }
}

void edu_write64(struct edu *e, unsigned reg, uint64_t v)
{
    *(volatile uint64_t *)(e->bar + reg) = v;
}

uint64_t edu_read64(struct edu *e, unsigned reg)
{
    return *(volatile uint64_t *)(e->bar + reg);
}

/* Opens edu, maps BAR0, enables memory decode and bus mastering and, with
 * attach, gives it a fresh dmaspace and binds its faults to e->fault_ep.
 * Returns false (and marks the test skipped) when the machine has no edu. */
bool edu_open(struct edu *e, bool attach)
{
    memset(e, 0, sizeof *e);
    if (dma_device_root() == WD_NULL) {
        printf("# the test has no device root capability\n");
        bt_failures++;
        return false;
    }
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &e->info) != 0) {
        BT_SKIP("no edu device on this machine");
        return false;
    }
    if (attach && !dma_iommu_present()) {
        BT_CHECK_EQ(wd_dmaspace_create(bt_pool()), -WD_E_NO_IOMMU);
        BT_SKIP("no IOMMU: DMA is refused (checked), nothing to isolate");
        return false;
    }
    e->device = (wd_handle_t)BT_OK(wd_device_open(dma_device_root(), e->info.address));
    long frame = BT_OK(wd_device_bar_frame(e->device, 0));
    if (frame < 0)
        return false;
    BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, BAR_VA, e->info.bars[0].size, WD_RIGHT_READ | WD_RIGHT_WRITE));
    e->bar = (volatile uint8_t *)BAR_VA;
    BT_CHECK_EQ(*(volatile uint32_t *)(e->bar + EDU_REG_ID), 0x010000ED);
    long command = BT_OK(wd_device_config_read(e->device, 4, 2));
    BT_OK(wd_device_config_write(e->device, 4, 2, (uint64_t)command | 0x6));    /* memory + bus master */
    if (!attach)
        return true;
    e->dmaspace = (wd_handle_t)BT_OK(wd_dmaspace_create(bt_pool()));
    BT_OK(wd_dma_attach(e->device, e->dmaspace));
    e->fault_ep = (wd_handle_t)BT_OK(wd_endpoint_create(bt_pool()));
    BT_OK(wd_device_fault_bind(e->device, e->fault_ep, FAULT_BADGE));
    return bt_failures == 0;
}

/* Runs one edu transfer between RAM at ram_iova and the device buffer;
 * false if it did not finish within 3 s. */
bool edu_dma(struct edu *e, uint64_t ram_iova, uint64_t count, bool to_ram)
{
    edu_write64(e, EDU_REG_DMA_SRC, to_ram ? EDU_BUFFER : ram_iova);
    edu_write64(e, EDU_REG_DMA_DST, to_ram ? ram_iova : EDU_BUFFER);
    edu_write64(e, EDU_REG_DMA_COUNT, count);
    edu_write64(e, EDU_REG_DMA_CMD, EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
    for (int i = 0; i < 1500; i++) {
        if (!(edu_read64(e, EDU_REG_DMA_CMD) & EDU_DMA_START))
            return true;
        wd_thread_sleep(2 * BT_MS);
    }
    printf("# edu DMA did not finish\n");
    bt_failures++;
    return false;
}

/* A frame mapped read-write into this process at va. */
volatile uint8_t *dma_buffer(wd_handle_t *frame, uint64_t va, uint64_t size, uint64_t flags)
{
    long f = BT_OK(wd_frame_create(bt_pool(), size, flags));
    *frame = f < 0 ? WD_NULL : (wd_handle_t)f;
    if (f < 0 || BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)f, 0, va, size, WD_RIGHT_READ | WD_RIGHT_WRITE)) < 0)
        return NULL;
    return (volatile uint8_t *)va;
}

static void fill(volatile uint8_t *p, unsigned n, uint8_t seed)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static bool all_equal(volatile uint8_t *p, unsigned n, uint8_t value)
{
    for (unsigned i = 0; i < n; i++)
        if (p[i] != value)
            return false;
    return true;
}

/* edu attached to a fresh dmaspace plus a buffer at BUF_VA; NULL when the
 * test cannot go on (skipped or failed already). */
static volatile uint8_t *edu_with_buffer(struct edu *e, wd_handle_t *frame, uint64_t size, uint64_t flags)
{
    return edu_open(e, true) ? dma_buffer(frame, BUF_VA, size, flags) : NULL;
}

/* Waits for the DMA fault message and checks source, IOVA and direction. */
static void expect_fault(struct edu *e, uint64_t iova, bool write)
{
    struct wd_msg msg;
    long r = bt_wait_kernel_message(e->fault_ep, WD_LABEL_DMA_FAULT, FAULT_BADGE, &msg, 2000 * BT_MS);
    BT_CHECK_EQ(r, 0);
    if (r != 0)
        return;
    BT_CHECK(msg.w[0] >= 1);
    BT_CHECK_EQ(msg.w[1], e->info.requester_id);
    BT_CHECK_EQ(msg.w[2], iova & ~0xFFFull);
    if (write)
        BT_CHECK_EQ(msg.w[3], FR_WRITE_DENIED);
    BT_CHECK_EQ(msg.w[4] & WD_DMA_FAULT_WRITE, write ? WD_DMA_FAULT_WRITE : 0);
    BT_CHECK_EQ(msg.w[5], wd_start_info->process_id);
    BT_CHECK_EQ(msg.w[6], e->info.address);
}

void test_iommu_translation_on(void)
{
    struct wd_iommu_info info;
    long r = wd_iommu_info(0, &info);
    if (r == -WD_E_NOT_FOUND) {
        /* No IOMMU: DMA must be refused, not silently allowed. */
        BT_CHECK_EQ(wd_dmaspace_create(bt_pool()), -WD_E_NO_IOMMU);
        struct edu e;
        if (edu_open(&e, false)) {
            BT_CHECK(!(e.info.flags & WD_DEVICE_TRANSLATED));
            BT_CHECK_EQ(wd_dma_detach(e.device), -WD_E_NOT_MAPPED);
        }
        BT_SKIP("no IOMMU on this machine (DMA refusal checked)");
        return;
    }
    BT_CHECK_EQ(r, 0);
    BT_CHECK(info.status & (1u << 31));                     /* GSTS.TES: translation enabled */
    BT_CHECK(info.status & (1u << 30));                     /* GSTS.RTPS: our root table */
    if (info.ecap & (1u << 1))
        BT_CHECK(info.status & (1u << 26));                 /* GSTS.QIES when the unit has QI */
    BT_CHECK_EQ(info.queued_invalidation, (info.ecap >> 1) & 1);
    unsigned sagaw = (info.cap >> 8) & 0x1F;
    BT_CHECK(sagaw & (1u << (info.levels - 2)));            /* levels the unit supports */
    BT_CHECK_EQ(info.caching_mode, (info.cap >> 7) & 1);
    BT_CHECK(info.domains == 0);                            /* nothing attached between tests */
    BT_CHECK_EQ(wd_iommu_info(1, &info), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_iommu_info(0, (struct wd_iommu_info *)0xFFFF800000000000ull), -WD_E_BAD_ADDRESS);
    struct edu e;
    if (edu_open(&e, false))
        BT_CHECK(e.info.flags & WD_DEVICE_TRANSLATED);
}

void test_dma_roundtrip(void)
{
    struct edu e;
    if (!edu_open(&e, true))
        return;
    wd_handle_t src_frame, dst_frame;
    volatile uint8_t *src = dma_buffer(&src_frame, BUF_VA, 4096, 0);
    volatile uint8_t *dst = dma_buffer(&dst_frame, BUF_VA + 0x10000, 4096, 0);
    if (!src || !dst)
        return;
    fill(src, TRANSFER, 0x11);
    memset((void *)dst, 0, 4096);
    BT_OK(wd_dma_map(e.dmaspace, src_frame, 0, 0x100000, 4096, WD_RIGHT_READ));
    BT_OK(wd_dma_map(e.dmaspace, dst_frame, 0, 0x200000, 4096, WD_RIGHT_WRITE));
    edu_dma(&e, 0x100000, TRANSFER, false);
    edu_dma(&e, 0x200000, TRANSFER, true);
    BT_CHECK(memcmp((const void *)src, (const void *)dst, TRANSFER) == 0);
    BT_CHECK(all_equal(dst + TRANSFER, 4096 - TRANSFER, 0));
    struct wd_device_info info;
    BT_OK(wd_device_info(e.device, &info));
    BT_CHECK_EQ(info.fault_count, e.info.fault_count);     /* a clean transfer faults nothing */
    BT_CHECK(info.flags & WD_DEVICE_MINE);
    BT_CHECK(info.flags & WD_DEVICE_ATTACHED);
}

void test_dma_unmapped_iova_blocked(void)
{
    struct edu e;
    wd_handle_t frame;
    volatile uint8_t *buf = edu_with_buffer(&e, &frame, 8192, WD_FRAME_CONTIGUOUS);
    if (!buf)
        return;
    memset((void *)buf, 0xAA, 8192);
    /* Only the first page is mapped; the device writes to the page after it. */
    BT_OK(wd_dma_map(e.dmaspace, frame, 0, 0x300000, 4096, WD_RIGHT_READ | WD_RIGHT_WRITE));
    edu_dma(&e, 0x301000, TRANSFER, true);
    expect_fault(&e, 0x301000, true);
    BT_CHECK(all_equal(buf, 8192, 0xAA));
    /* IOVA 0 (a NULL pointer in a driver) faults too. */
    edu_dma(&e, 0, 64, true);
    expect_fault(&e, 0, true);
    BT_CHECK(all_equal(buf, 8192, 0xAA));
}

void test_dma_readonly_blocked(void)
{
    struct edu e;
    wd_handle_t frame;
    volatile uint8_t *buf = edu_with_buffer(&e, &frame, 4096, 0);
    if (!buf)
        return;
    memset((void *)buf, 0x5C, 4096);
    BT_OK(wd_dma_map(e.dmaspace, frame, 0, 0x400000, 4096, WD_RIGHT_READ));  /* device may only read */
    /* Write first: QEMU does not record a permission fault that hits a
     * translation already cached by an earlier read (facts Q4). */
    edu_dma(&e, 0x400000, TRANSFER, true);                  /* writing must not work */
    expect_fault(&e, 0x400000, true);
    BT_CHECK(all_equal(buf, 4096, 0x5C));
    edu_dma(&e, 0x400000, TRANSFER, false);                 /* reading does */
    memset((void *)buf, 0, 4096);
    long other = BT_OK(wd_frame_create(bt_pool(), 4096, 0));
    BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)other, 0, BUF_VA + 0x10000, 4096, WD_RIGHT_READ | WD_RIGHT_WRITE));
    BT_OK(wd_dma_map(e.dmaspace, (wd_handle_t)other, 0, 0x410000, 4096, WD_RIGHT_WRITE));
    edu_dma(&e, 0x410000, TRANSFER, true);
    BT_CHECK(all_equal((volatile uint8_t *)(BUF_VA + 0x10000), TRANSFER, 0x5C));   /* what it read came back */
}

void test_dma_after_unmap_faults(void)
{
    struct edu e;
    wd_handle_t frame;
    volatile uint8_t *buf = edu_with_buffer(&e, &frame, 4096, 0);
    if (!buf)
        return;
    fill(buf, TRANSFER, 0x33);
    BT_OK(wd_dma_map(e.dmaspace, frame, 0, 0x500000, 4096, WD_RIGHT_READ | WD_RIGHT_WRITE));
    edu_dma(&e, 0x500000, TRANSFER, false);                 /* the IOTLB now caches 0x500000 */
    memset((void *)buf, 0x77, 4096);
    edu_dma(&e, 0x500000, TRANSFER, true);                  /* still mapped: the data comes back */
    BT_CHECK_EQ(buf[0], 0x33);
    memset((void *)buf, 0x77, 4096);
    BT_CHECK_EQ(wd_dma_unmap(e.dmaspace, 0x500000, 4096), 1);
    edu_dma(&e, 0x500000, TRANSFER, true);                  /* a stale IOTLB entry would let this through */
    expect_fault(&e, 0x500000, true);
    BT_CHECK(all_equal(buf, 4096, 0x77));
}

void test_dma_after_detach_faults(void)
{
    struct edu e;
    wd_handle_t frame;
    volatile uint8_t *buf = edu_with_buffer(&e, &frame, 4096, 0);
    if (!buf)
        return;
    fill(buf, TRANSFER, 0x44);
    BT_OK(wd_dma_map(e.dmaspace, frame, 0, 0x600000, 4096, WD_RIGHT_READ | WD_RIGHT_WRITE));
    edu_dma(&e, 0x600000, TRANSFER, false);                 /* context and IOTLB cached */
    memset((void *)buf, 0x66, 4096);
    struct wd_device_info before, after;
    BT_OK(wd_device_info(e.device, &before));
    BT_OK(wd_dma_detach(e.device));
    BT_CHECK_EQ(wd_dma_detach(e.device), -WD_E_NOT_MAPPED);
    edu_dma(&e, 0x600000, TRANSFER, true);
    wd_thread_sleep(20 * BT_MS);
    BT_OK(wd_device_info(e.device, &after));
    BT_CHECK(after.fault_count > before.fault_count);       /* blocked and recorded */
    BT_CHECK(!(after.flags & (WD_DEVICE_ATTACHED | WD_DEVICE_OWNED)));
    BT_CHECK(all_equal(buf, 4096, 0x66));
    /* Re-attaching to the same dmaspace brings the mapping back. */
    BT_OK(wd_dma_attach(e.device, e.dmaspace));
    edu_dma(&e, 0x600000, TRANSFER, true);
    BT_CHECK_EQ(buf[0], 0x44);
}

void test_dma_map_errors(void)
{
    if (!dma_iommu_present()) {
        BT_CHECK_EQ(wd_dmaspace_create(bt_pool()), -WD_E_NO_IOMMU);
        BT_SKIP("no IOMMU");
        return;
    }
    struct wd_iommu_info unit;
    BT_OK(wd_iommu_info(0, &unit));
    long s = BT_OK(wd_dmaspace_create(bt_pool()));
    long f = BT_OK(wd_frame_create(bt_pool(), 0x4000, 0));
    long big = BT_OK(wd_frame_create(bt_pool(), 0x400000, WD_FRAME_CONTIGUOUS));
    if (s < 0 || f < 0 || big < 0)
        return;
    wd_handle_t ds = (wd_handle_t)s, fr = (wd_handle_t)f;
    const uint64_t RW = WD_RIGHT_READ | WD_RIGHT_WRITE;
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0x100000, 0, RW), -WD_E_INVALID_ARG);               /* zero length */
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0x100800, 0x1000, RW), -WD_E_UNALIGNED);           /* IOVA */
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0x10, 0x100000, 0x1000, RW), -WD_E_UNALIGNED);        /* offset */
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0x100000, 0x1800, RW), -WD_E_UNALIGNED);           /* length */
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0xFFFFFFFFFFFFF000ull, 0x2000, RW), -WD_E_OVERFLOW);
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0xFFFFFFFFFFFFF000ull, 0x100000, 0x2000, RW), -WD_E_OVERFLOW);
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0x2000, 0x100000, 0x4000, RW), -WD_E_RANGE);          /* past the frame */
    uint64_t top = 1ull << unit.address_width;
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, top, 0x1000, RW), -WD_E_BEYOND_WIDTH);
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, top - 0x1000, 0x2000, RW), -WD_E_BEYOND_WIDTH);
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0xFEE00000, 0x1000, RW), -WD_E_RESERVED_RANGE);
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0xFEDFF000, 0x2000, RW), -WD_E_RESERVED_RANGE);   /* straddles the start */
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0xFEEFF000, 0x2000, RW), -WD_E_RESERVED_RANGE);   /* straddles the end */
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0x100000, 0x1000, 0), -WD_E_INVALID_ARG);          /* no rights */
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0x100000, 0x1000, WD_RIGHT_EXEC), -WD_E_BAD_FLAGS);
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0x100000, 0x1000, 1u << 20), -WD_E_BAD_FLAGS);
    /* Rights beyond the frame capability's. */
    long ro = BT_OK(wd_cap_copy(fr, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP, 0));
    BT_CHECK_EQ(wd_dma_map(ds, (wd_handle_t)ro, 0, 0x100000, 0x1000, RW), -WD_E_NO_RIGHTS);
    BT_OK(wd_dma_map(ds, (wd_handle_t)ro, 0, 0x100000, 0x1000, WD_RIGHT_READ));
    long nomap = BT_OK(wd_cap_copy(fr, WD_NULL, RW, 0));
    BT_CHECK_EQ(wd_dma_map(ds, (wd_handle_t)nomap, 0, 0x110000, 0x1000, RW), -WD_E_NO_RIGHTS);
    long ds_nomap = BT_OK(wd_cap_copy(ds, WD_NULL, WD_RIGHT_CONTROL, 0));
    BT_CHECK_EQ(wd_dma_map((wd_handle_t)ds_nomap, fr, 0, 0x110000, 0x1000, RW), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_dma_map(fr, fr, 0, 0x110000, 0x1000, RW), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_dma_map(ds, ds, 0, 0x110000, 0x1000, RW), -WD_E_WRONG_TYPE);
    /* Overlap, whole or partial. */
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0x100000, 0x1000, RW), -WD_E_EXISTS);
    BT_CHECK_EQ(wd_dma_map(ds, fr, 0, 0x0FF000, 0x2000, RW), -WD_E_EXISTS);
    /* MMIO (a BAR) is never a DMA target. */
    struct edu e;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &e.info) == 0) {
        long dev = BT_OK(wd_device_open(dma_device_root(), e.info.address));
        long bar = BT_OK(wd_device_bar_frame((wd_handle_t)dev, 0));
        BT_CHECK_EQ(wd_dma_map(ds, (wd_handle_t)bar, 0, 0x800000, 0x1000, RW), -WD_E_NOT_SUPPORTED);
    }
    /* Superpage: a contiguous 2 MiB-aligned frame at a 2 MiB IOVA, and whole-mapping unmap rules. */
    struct wd_pool_info pool_before, pool_after;
    BT_OK(wd_pool_info(bt_pool(), &pool_before));
    long r = wd_dma_map(ds, (wd_handle_t)big, 0, 0x1000000, 0x400000, RW);
    BT_CHECK_EQ(r, 0);
    BT_OK(wd_pool_info(bt_pool(), &pool_after));
    /* Two 2 MiB leaves in the level-2 table the 0x100000 mapping made: no new
     * table (4 KiB pages would have needed two). */
    BT_CHECK(pool_after.used - pool_before.used < 4096);
    BT_CHECK_EQ(wd_dma_unmap(ds, 0x1000000, 0x200000), -WD_E_NOT_MAPPED);   /* cuts the mapping */
    BT_CHECK_EQ(wd_dma_unmap(ds, 0x2000000, 0x1000), -WD_E_NOT_MAPPED);     /* nothing there */
    BT_CHECK_EQ(wd_dma_unmap(ds, 0x1000000, 0), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_dma_unmap(ds, 0x1000800, 0x1000), -WD_E_UNALIGNED);
    BT_CHECK_EQ(wd_dma_unmap(ds, 0xFFFFFFFFFFFFF000ull, 0x2000), -WD_E_OVERFLOW);
    BT_CHECK_EQ(wd_dma_unmap(ds, 0x1000000, 0x400000), 1);
    BT_CHECK_EQ(wd_dma_unmap(ds, 0, 0x2000000), 1);                         /* the read-only one */
    BT_OK(wd_pool_info(bt_pool(), &pool_after));
    BT_CHECK(pool_after.used < pool_before.used);               /* mapping records refunded */
    BT_CHECK_EQ(wd_dma_unmap(ds, 0x100000, 0x1000), -WD_E_NOT_MAPPED);
}

void test_device_config_mediation(void)
{
    struct edu e;
    if (!edu_open(&e, false))
        return;
    BT_CHECK_EQ(wd_device_config_read(e.device, 0, 2), EDU_VENDOR);
    BT_CHECK_EQ(wd_device_config_read(e.device, 2, 2), EDU_DEVICE);
    BT_CHECK_EQ(wd_device_config_read(e.device, 0, 4), (EDU_DEVICE << 16) | EDU_VENDOR);
    uint64_t bar0 = (uint64_t)wd_device_config_read(e.device, 0x10, 4);
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x10, 4, 0xFFFFFFFF), -WD_E_PROTECTED);    /* BAR0 */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x24, 4, 0), -WD_E_PROTECTED);             /* BAR5 */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x30, 4, 0), -WD_E_PROTECTED);             /* ROM */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x12, 1, 0), -WD_E_PROTECTED);             /* a byte of BAR0 */
    BT_CHECK_EQ((uint64_t)wd_device_config_read(e.device, 0x10, 4), bar0);
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x40, 4, 0), -WD_E_PROTECTED);             /* MSI capability */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x44, 4, 0xFEE00000), -WD_E_PROTECTED);    /* MSI address */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x42, 2, 1), -WD_E_PROTECTED);             /* MSI enable */
    BT_CHECK_EQ(wd_device_config_read(e.device, 4, 3), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_device_config_read(e.device, 4096, 4), -WD_E_RANGE);
    BT_CHECK_EQ(wd_device_config_read(e.device, 2, 4), -WD_E_UNALIGNED);
    BT_CHECK_EQ(wd_device_config_write(e.device, 4, 2, 0x10000), -WD_E_INVALID_ARG);        /* wider than 2 bytes */
    /* The command register is the driver's: memory decode off and on again. */
    long command = BT_OK(wd_device_config_read(e.device, 4, 2));
    BT_OK(wd_device_config_write(e.device, 4, 2, (uint64_t)command & ~2ull));
    BT_CHECK_EQ(wd_device_config_read(e.device, 4, 2) & 2, 0);
    BT_OK(wd_device_config_write(e.device, 4, 2, (uint64_t)command));
    BT_CHECK_EQ(*(volatile uint32_t *)(e.bar + EDU_REG_ID), 0x010000ED);
    /* Without WRITE, READ or MAP on the capability. */
    long ro = BT_OK(wd_cap_copy(e.device, WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_device_config_write((wd_handle_t)ro, 4, 2, (uint64_t)command), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_device_bar_frame((wd_handle_t)ro, 0), -WD_E_NO_RIGHTS);
    long wo = BT_OK(wd_cap_copy(e.device, WD_NULL, WD_RIGHT_WRITE, 0));
    BT_CHECK_EQ(wd_device_config_read((wd_handle_t)wo, 0, 4), -WD_E_NO_RIGHTS);
    /* BARs: only existing memory BARs. */
    BT_CHECK_EQ(wd_device_bar_frame(e.device, 6), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_device_bar_frame(e.device, 1), -WD_E_NOT_FOUND);
    struct wd_frame_info fi;
    long bar = BT_OK(wd_device_bar_frame(e.device, 0));
    BT_OK(wd_frame_info((wd_handle_t)bar, &fi));
    BT_CHECK(fi.flags & WD_FRAME_MMIO);
    BT_CHECK_EQ(fi.size, e.info.bars[0].size);
    /* Bridges: everything past command/status belongs to the kernel. */
    wd_handle_t root = dma_device_root();
    struct wd_device_info d;
    for (uint64_t i = 0; wd_device_list(root, i, &d) == 0; i++) {
        if (!(d.flags & WD_DEVICE_BRIDGE))
            continue;
        long b = BT_OK(wd_device_open(root, d.address));
        BT_CHECK_EQ(wd_device_config_write((wd_handle_t)b, 0x18, 4, 0), -WD_E_PROTECTED);  /* bus numbers */
        BT_CHECK_EQ(wd_device_config_write((wd_handle_t)b, 0x20, 4, 0), -WD_E_PROTECTED);  /* memory window */
        break;
    }
    /* Device root: no CONTROL, no opening; bad addresses. */
    long listonly = BT_OK(wd_cap_copy(root, WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_device_open((wd_handle_t)listonly, e.info.address), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_device_open(root, 1ull << 40), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_device_open(root, WD_PCI_ADDRESS(0, 0xFE, 31, 7)), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_device_list(root, 100000, &d), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_device_open(e.device, e.info.address), -WD_E_WRONG_TYPE);
}

/* Helper role: caps[0] a device capability, caps[1] an endpoint. Tries every
 * device call and sends the results (w0..w6) in one message. */
int bt_device_user_main(const wd_handle_t *caps)
{
    wd_handle_t device = caps[0];
    struct wd_msg msg = { 0 };
    long ds = wd_dmaspace_create(wd_start_info->pool);
    msg.w[0] = (uint64_t)wd_dma_attach(device, ds < 0 ? WD_NULL : (wd_handle_t)ds);
    msg.w[1] = (uint64_t)wd_device_config_read(device, 0, 4);
    msg.w[2] = (uint64_t)wd_device_config_write(device, 4, 2, 0);
    msg.w[3] = (uint64_t)wd_device_bar_frame(device, 0);
    msg.w[4] = (uint64_t)wd_dma_detach(device);
    msg.w[5] = (uint64_t)wd_device_fault_bind(device, WD_NULL, 0);
    struct wd_device_info info;
    msg.w[6] = (uint64_t)wd_device_info(device, &info);
    msg.w[7] = info.flags;
    msg.info = wd_msg_info(1, 8, 0);
    wd_call(caps[1], &msg, WD_FOREVER);
    return 0;
}

static void run_device_user(wd_handle_t device, struct wd_msg *out)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t caps[2] = { device, (wd_handle_t)ep };
    bt_spawn_helper("device-user", caps, 2, WD_NULL, 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, out, 5000 * BT_MS), 0);
    struct wd_msg reply = { .info = wd_msg_info(0, 0, 0) };
    wd_reply(&reply);
}

void test_device_ownership(void)
{
    struct edu e;
    if (!edu_open(&e, true))
        return;
    /* Another process holding a full copy of the device capability. */
    struct wd_msg m;
    run_device_user(e.device, &m);
    BT_CHECK_EQ(m.w[0], -WD_E_NOT_OWNER);           /* attach */
    BT_CHECK_EQ(m.w[1], -WD_E_NOT_OWNER);           /* config read */
    BT_CHECK_EQ(m.w[2], -WD_E_NOT_OWNER);           /* config write */
    BT_CHECK_EQ(m.w[3], -WD_E_NOT_OWNER);           /* BAR */
    BT_CHECK_EQ(m.w[4], -WD_E_NOT_OWNER);           /* detach */
    BT_CHECK_EQ(m.w[5], -WD_E_NOT_OWNER);           /* fault binding */
    BT_CHECK_EQ(m.w[6], 0);                         /* it may still look */
    BT_CHECK((m.w[7] & WD_DEVICE_OWNED) && !(m.w[7] & WD_DEVICE_MINE));
    /* A copy without rights cannot do anything either, even once unowned. */
    BT_OK(wd_dma_detach(e.device));
    long none = BT_OK(wd_cap_copy(e.device, WD_NULL, WD_RIGHT_GRANT, 0));
    run_device_user((wd_handle_t)none, &m);
    for (int i = 0; i < 6; i++)
        BT_CHECK_EQ(m.w[i], -WD_E_NO_RIGHTS);
    /* Revoked: the other process's handle goes stale. */
    long copy = BT_OK(wd_cap_copy(e.device, WD_NULL, WD_RIGHTS_ALL & ~WD_RIGHT_EXEC & ~WD_RIGHT_SEND &
                                                     ~WD_RIGHT_RECV & ~WD_RIGHT_ALLOC, 0));
    BT_OK(wd_cap_revoke((wd_handle_t)copy));
    BT_OK(wd_cap_delete((wd_handle_t)copy));
    run_device_user((wd_handle_t)none, &m);         /* still works for the surviving copy */
    BT_CHECK_EQ(m.w[0], -WD_E_NO_RIGHTS);
    /* Unowned again: the first attach wins, the second is refused. */
    BT_OK(wd_dma_attach(e.device, e.dmaspace));
    long other = BT_OK(wd_dmaspace_create(bt_pool()));
    BT_CHECK_EQ(wd_dma_attach(e.device, (wd_handle_t)other), -WD_E_EXISTS);
}

void test_dma_fault_flood_quiesces(void)
{
    struct edu e;
    wd_handle_t frame;
    volatile uint8_t *buf = edu_with_buffer(&e, &frame, 4096, 0);
    if (!buf)
        return;
    BT_OK(wd_dma_map(e.dmaspace, frame, 0, 0x700000, 4096, WD_RIGHT_READ | WD_RIGHT_WRITE));
    uint64_t quiesced_flags = 0;
    for (int i = 0; i <= WD_DMA_FAULT_FLOOD && !quiesced_flags; i++) {
        edu_dma(&e, 0x800000, 256, true);           /* unmapped */
        struct wd_msg msg;
        if (bt_wait_kernel_message(e.fault_ep, WD_LABEL_DMA_FAULT, FAULT_BADGE, &msg, 2000 * BT_MS) == 0)
            quiesced_flags = msg.w[4] & WD_DMA_FAULT_QUIESCED;
    }
    BT_CHECK(quiesced_flags);
    struct wd_device_info info;
    BT_OK(wd_device_info(e.device, &info));
    BT_CHECK(info.flags & WD_DEVICE_QUIESCED);
    BT_CHECK_EQ(wd_device_config_read(e.device, 4, 2) & 4, 0);             /* bus mastering off */
    BT_CHECK_EQ(wd_device_config_write(e.device, 4, 2, 0x6), -WD_E_BUSY);  /* and it stays off */
    /* A transfer to the mapped buffer goes nowhere now. */
    memset((void *)buf, 0x12, 4096);
    edu_dma(&e, 0x700000, 256, true);
    BT_CHECK(all_equal(buf, 4096, 0x12));
    /* Detaching and attaching again lifts the quiescing. */
    BT_OK(wd_dma_detach(e.device));
    BT_OK(wd_dma_attach(e.device, e.dmaspace));
    BT_OK(wd_device_config_write(e.device, 4, 2, 0x6));
    edu_dma(&e, 0x700000, 256, true);
    BT_CHECK(!all_equal(buf, 256, 0x12));
}

/* The user-space edu driver (drivers/edu), started the way devmgr starts
 * it: only its device capability and a sub-pool. It must serve factorial
 * and DMA requests over IPC, and lose the device when it dies. */
void test_edu_driver_serves(void)
{
    struct wd_device_info info;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return;
    }
    const struct wd_module *module = wd_find_module("edu");
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    long pool = BT_OK(wd_pool_create(bt_pool(), 8ull << 20));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    BT_CHECK(module != NULL);
    if (!module || device < 0 || pool < 0 || ep < 0)
        return;
    char args[64], name[32];
    snprintf(name, sizeof name, "edu-test-%llu", (unsigned long long)wd_start_info->process_id);
    snprintf(args, sizeof args, "edu %s", name);
    struct wd_spawn s = {
        .args = args,
        .image = module->frame,
        .image_size = module->size,
        .pool = (wd_handle_t)pool,
        .fault_endpoint = (wd_handle_t)ep,
        .fault_badge = 0xED,
        .registry = wd_start_info->registry,
        .cap_count = 1,
        .caps = { (wd_handle_t)device },
    };
    long driver = BT_OK(wd_spawn(&s, NULL));
    wd_handle_t edu = WD_NULL;
    for (int i = 0; i < 500 && driver >= 0 && wd_name_lookup(wd_start_info->registry, name, &edu) != 0; i++)
        wd_thread_sleep(10 * BT_MS);
    BT_CHECK(edu != WD_NULL);
    if (edu == WD_NULL) {
        if (driver >= 0)
            wd_process_kill((wd_handle_t)driver, 0);
        return;
    }
    struct wd_msg reply;
    BT_CHECK_EQ(edu_request(edu, EDU_OP_ID, 0x12345678, &reply), EDU_ID_VALUE);
    BT_CHECK_EQ(reply.w[1], 0xEDCBA987);
    BT_CHECK_EQ(edu_request(edu, EDU_OP_FACTORIAL, 10, &reply), 3628800);
    BT_CHECK_EQ(edu_request(edu, EDU_OP_FACTORIAL, 13, &reply), -WD_E_INVALID_ARG);
    wd_handle_t src, dst;
    volatile uint8_t *a = dma_buffer(&src, BUF_VA, 8192, 0);
    volatile uint8_t *b = dma_buffer(&dst, BUF_VA + 0x10000, 8192, 0);
    if (!a || !b)
        return;
    fill(a, 8192, 0x21);
    memset((void *)b, 0, 8192);
    /* 3000 bytes that cross a page boundary of a non-contiguous frame. */
    BT_CHECK_EQ(edu_dma_request(edu, EDU_OP_TO_DEVICE, src, 3000, 3000, 50), 0);
    BT_CHECK_EQ(edu_dma_request(edu, EDU_OP_FROM_DEVICE, dst, 2000, 3000, 50), 0);
    BT_CHECK(memcmp((const void *)(a + 3000), (const void *)(b + 2000), 3000) == 0);
    BT_CHECK(all_equal(b, 2000, 0) && all_equal(b + 5000, 8192 - 5000, 0));
    /* The driver can only use what the client's capability allows. */
    long read_only = BT_OK(wd_cap_copy(dst, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP | WD_RIGHT_GRANT, 0));
    BT_CHECK_EQ(edu_dma_request(edu, EDU_OP_FROM_DEVICE, (wd_handle_t)read_only, 0, 100, 0), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(edu_dma_request(edu, EDU_OP_TO_DEVICE, src, 0, 4096, 0), -WD_E_INVALID_ARG);
    /* While it runs, the driver owns the device; when it dies, nobody does. */
    BT_OK(wd_device_info((wd_handle_t)device, &info));
    BT_CHECK((info.flags & WD_DEVICE_OWNED) && info.owner_pid != wd_start_info->process_id);
    BT_CHECK_EQ(wd_dma_attach((wd_handle_t)device, WD_NULL), -WD_E_NOT_OWNER);
    BT_OK(wd_process_kill((wd_handle_t)driver, 0));
    struct wd_msg exit_msg;
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_EXIT, 0xED, &exit_msg, 2000 * BT_MS), 0);
    BT_OK(wd_device_info((wd_handle_t)device, &info));
    BT_CHECK(!(info.flags & (WD_DEVICE_OWNED | WD_DEVICE_ATTACHED)));
    BT_CHECK_EQ(wd_device_config_read((wd_handle_t)device, 4, 2) & 4, 0);   /* bus mastering off */
}

/* Helper role "dma-owner": caps[0] = the edu device. Attaches it to an
 * empty dmaspace, starts a device write to IOVA 0x900000 and waits. */
int bt_dma_owner_main(const wd_handle_t *caps)
{
    struct edu e = { .device = caps[0] };
    if (wd_device_info(e.device, &e.info) < 0)
        return 2;
    long frame = wd_device_bar_frame(e.device, 0);
    long space = wd_dmaspace_create(wd_start_info->pool);
    if (frame < 0 || space < 0 || wd_dma_attach(e.device, (wd_handle_t)space) < 0 ||
        wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, BAR_VA, e.info.bars[0].size, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0)
        return 3;
    e.bar = (volatile uint8_t *)BAR_VA;
    wd_device_config_write(e.device, 4, 2, 0x6);
    edu_dma(&e, 0x900000, 64, true);
    for (;;)
        wd_thread_sleep(1000 * BT_MS);
}

/* The supervisor of a device's owner hears about its DMA faults, with the
 * owner's process id, even though it never touched the device itself. */
void test_dma_fault_reaches_supervisor(void)
{
    struct wd_device_info info;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return;
    }
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    if (device < 0 || ep < 0)
        return;
    wd_handle_t caps[1] = { (wd_handle_t)device };
    wd_handle_t owner = bt_spawn_helper("dma-owner", caps, 1, (wd_handle_t)ep, 0x0DD);
    struct wd_msg msg;
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_DMA_FAULT, 0x0DD, &msg, 3000 * BT_MS), 0);
    struct wd_cap_info owner_info;
    BT_OK(wd_cap_info(owner, &owner_info));
    BT_CHECK_EQ(msg.w[1], info.requester_id);
    BT_CHECK_EQ(msg.w[2], 0x900000);
    BT_CHECK_EQ(msg.w[3], FR_WRITE_DENIED);
    BT_CHECK(msg.w[4] & WD_DMA_FAULT_WRITE);
    BT_CHECK_EQ(msg.w[5], owner_info.object_id);
    BT_CHECK_EQ(msg.w[6], info.address);
}
