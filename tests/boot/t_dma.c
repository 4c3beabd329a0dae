/*
 * t_dma.c - DMA isolation through VT-d, proven with QEMU's edu device: a
 * mapped transfer works; unmapped, read-only, unmapped-after-use and
 * detached IOVAs are blocked (the memory is unchanged) and reported;
 * dma_map's argument errors; fault floods quiesce the device; translation
 * really is on. Device access rules and the edu driver are in t_devices.c.
 *
 * edu facts (shared/reference/qemu-vtd-facts.md section 2): DMA engine at
 * BAR0 0x80..0x98, device buffer at 0x40000, 100 ms per transfer, 28-bit
 * DMA mask (IOVAs stay below 256 MiB), at most 4095 bytes per transfer.
 */
#include <string.h>

#include "boot_tests.h"
#include "t_dma.h"

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
