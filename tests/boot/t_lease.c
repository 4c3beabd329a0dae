/*
 * t_lease.c - client-granted memory at the kernel level: leases (frame
 * capabilities without RETAIN), their rights, the mappings made through
 * them ending with them, a revocation while a hostile driver keeps DMAing
 * into the region, a client's death ending its lease, and 2 MiB IOMMU
 * pages for large scattered regions. t_datapath.c does the same through
 * the real edu driver and the session libraries.
 *
 * Helper roles (boot-tests helper ...):
 *   lease-driver: caps = edu, the test's endpoint, the lease, a report
 *     page. Owns edu, maps the lease for it at LEASE_IOVA, watches the
 *     lease, says READY, then forever: writes a new sequence number into
 *     edu's buffer and DMAs it to the lease's IOVA, ignoring what happens
 *     (a driver that does not stop). Reports in the page what it issued
 *     and whether its watch fired.
 *   lease-client: caps = the test's endpoint. Makes a region of 0x77,
 *     sends a read-write lease of it to the test, then sleeps.
 */
#include <string.h>
#include <warden/region.h>

#include "boot_tests.h"
#include "t_dma.h"

#define LEASE_IOVA 0x200000ull
#define LEASE_BYTES (64ull << 10)
#define LEASE_VA 0x0000320000000000ull
#define REPORT_VA 0x0000330000000000ull
#define OWN_VA 0x0000340000000000ull
#define LEASE_BADGE 0x1EA5E
#define READY_LABEL 0x52454459u
#define GRANT_LABEL 0x4752414Eu
#define SEQ_BYTES 64u

struct lease_report {
    volatile uint64_t issued;       /* transfers into the lease started */
    volatile uint64_t told;         /* its watch fired (1) */
    volatile uint64_t told_after;   /* issued when it was told */
};

int bt_lease_driver_main(const wd_handle_t *caps)
{
    struct edu e = { .device = caps[0] };
    if (!edu_take_as_helper(&e))
        return 3;
    struct lease_report *report = (struct lease_report *)REPORT_VA;
    long own = wd_frame_create(wd_start_info->pool, WD_PAGE_SIZE, 0);
    long n = wd_notify_create(wd_start_info->pool);
    if (own < 0 || n < 0 || wd_vm_map(WD_NULL, caps[3], 0, REPORT_VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0 ||
        wd_vm_map(WD_NULL, (wd_handle_t)own, 0, OWN_VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0 ||
        wd_dma_map(e.dmaspace, (wd_handle_t)own, 0, 0x100000, WD_PAGE_SIZE, WD_RIGHT_READ) < 0 ||
        wd_dma_map(e.dmaspace, caps[2], 0, LEASE_IOVA, LEASE_BYTES, WD_RIGHT_WRITE) < 0 ||
        wd_cap_watch(caps[2], (wd_handle_t)n, 1) < 0)
        return 4;
    struct wd_msg ready = { .info = wd_msg_info(READY_LABEL, 0, 0) };
    if (wd_send(caps[1], &ready, WD_FOREVER) < 0)
        return 5;
    volatile uint64_t *seq = (volatile uint64_t *)OWN_VA;
    for (uint64_t k = 1;; k++) {
        for (unsigned i = 0; i < SEQ_BYTES / 8; i++)
            seq[i] = k;
        edu_dma(&e, 0x100000, SEQ_BYTES, false);        /* its page -> edu's buffer */
        report->issued = k;
        edu_dma(&e, LEASE_IOVA, SEQ_BYTES, true);       /* edu's buffer -> the lease, whatever happened */
        if (!report->told && wd_notify_poll((wd_handle_t)n) == 1) {
            report->told_after = k;
            report->told = 1;
        }
    }
}

int bt_lease_client_main(const wd_handle_t *caps)
{
    struct wd_region r;
    wd_handle_t grant;
    if (wd_region_create(&r, wd_start_info->pool, LEASE_BYTES) < 0 ||
        wd_region_grant(&r, WD_RIGHT_READ | WD_RIGHT_WRITE, &grant) < 0)
        return 3;
    memset(r.cpu, 0x77, LEASE_BYTES);
    struct wd_msg m = { .info = wd_msg_info(GRANT_LABEL, 0, 1), .caps = { grant } };
    if (wd_call(caps[0], &m, WD_FOREVER) < 0)
        return 4;
    for (;;)
        wd_thread_sleep(1000 * BT_MS);
}

/* ---- 1: what a lease may and may not do ---- */

/* A lease carries no RETAIN and cannot get it (or any right) back; mapping
 * it with a right it lacks is refused; once it ends its handle is stale;
 * and a client cannot send a capability it does not hold or may not grant. */
void test_lease_rights_and_errors(void)
{
    long frame = BT_OK(wd_frame_create(bt_pool(), LEASE_BYTES, 0));
    if (frame < 0)
        return;
    struct wd_cap_info info;
    BT_OK(wd_cap_info((wd_handle_t)frame, &info));
    BT_CHECK(info.rights & WD_RIGHT_RETAIN);
    BT_CHECK(!(info.flags & WD_CAP_LEASE));
    long lease = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP | WD_RIGHT_GRANT, 0));
    BT_OK(wd_cap_info((wd_handle_t)lease, &info));
    BT_CHECK(info.flags & WD_CAP_LEASE);
    BT_CHECK_EQ(info.lease_mappings, 0);
    BT_CHECK_EQ(wd_cap_copy((wd_handle_t)lease, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP | WD_RIGHT_RETAIN, 0),
                -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_cap_copy((wd_handle_t)lease, WD_NULL, WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP, 0),
                -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)lease, 0, LEASE_VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE),
                -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)lease, 0, LEASE_VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_EXEC),
                -WD_E_NO_RIGHTS);
    if (dma_iommu_present()) {
        long space = BT_OK(wd_dmaspace_create(bt_pool()));
        BT_CHECK_EQ(wd_dma_map((wd_handle_t)space, (wd_handle_t)lease, 0, LEASE_IOVA, WD_PAGE_SIZE, WD_RIGHT_WRITE),
                    -WD_E_NO_RIGHTS);
        BT_OK(wd_dma_map((wd_handle_t)space, (wd_handle_t)lease, 0, LEASE_IOVA, WD_PAGE_SIZE, WD_RIGHT_READ));
        BT_OK(wd_cap_info((wd_handle_t)lease, &info));
        BT_CHECK_EQ(info.lease_mappings, 1);
        /* A failed map leaves no record behind (the count is unchanged). */
        BT_CHECK_EQ(wd_dma_map((wd_handle_t)space, (wd_handle_t)lease, 0, LEASE_IOVA, WD_PAGE_SIZE, WD_RIGHT_READ),
                    -WD_E_EXISTS);
        BT_OK(wd_cap_info((wd_handle_t)lease, &info));
        BT_CHECK_EQ(info.lease_mappings, 1);
        BT_OK(wd_cap_delete((wd_handle_t)lease));
        BT_CHECK_EQ(wd_dma_unmap((wd_handle_t)space, LEASE_IOVA, WD_PAGE_SIZE), -WD_E_NOT_MAPPED);
        BT_CHECK_EQ(wd_dma_map((wd_handle_t)space, (wd_handle_t)lease, 0, LEASE_IOVA, WD_PAGE_SIZE, WD_RIGHT_READ),
                    -WD_E_STALE_HANDLE);
        wd_cap_delete((wd_handle_t)space);
    } else {
        BT_OK(wd_cap_delete((wd_handle_t)lease));
    }
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)lease, 0, LEASE_VA, WD_PAGE_SIZE, WD_RIGHT_READ), -WD_E_STALE_HANDLE);
    /* Granting what one does not hold, or may not grant. */
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    struct wd_msg m = { .info = wd_msg_info(GRANT_LABEL, 0, 1), .caps = { (wd_handle_t)lease } };
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &m, WD_NO_WAIT), -WD_E_STALE_HANDLE);
    m.caps[0] = 0x00010077;                             /* a slot that holds nothing */
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &m, WD_NO_WAIT), -WD_E_BAD_HANDLE);
    long no_grant = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP, 0));
    m.caps[0] = (wd_handle_t)no_grant;
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &m, WD_NO_WAIT), -WD_E_NO_RIGHTS);
    wd_cap_delete((wd_handle_t)no_grant);
    wd_cap_delete((wd_handle_t)ep);
    wd_cap_delete((wd_handle_t)frame);
}

/* ---- 2: a lease's end takes its mappings and copies ---- */

/* Mappings made through a lease (CPU and DMA) and copies derived from it
 * end when the client revokes it; the holder's watch says so afterwards;
 * a mapping through a RETAIN capability outlives that capability. */
void test_lease_ends_its_mappings(void)
{
    long frame = BT_OK(wd_frame_create(bt_pool(), LEASE_BYTES, 0));
    long lease = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP |
                                                                   WD_RIGHT_GRANT, 0));
    long copy = BT_OK(wd_cap_copy((wd_handle_t)lease, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP, 0));
    long n = BT_OK(wd_notify_create(bt_pool()));
    if (frame < 0 || lease < 0 || copy < 0 || n < 0)
        return;
    BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)lease, 0, LEASE_VA, LEASE_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE));
    BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)copy, 0, LEASE_VA + 2 * LEASE_BYTES, WD_PAGE_SIZE, WD_RIGHT_READ));
    long space = dma_iommu_present() ? BT_OK(wd_dmaspace_create(bt_pool())) : -WD_E_NO_IOMMU;
    if (space >= 0)
        BT_OK(wd_dma_map((wd_handle_t)space, (wd_handle_t)lease, 0, LEASE_IOVA, LEASE_BYTES, WD_RIGHT_WRITE));
    uint64_t mappings = space >= 0 ? 3 : 2;
    ((volatile uint8_t *)LEASE_VA)[100] = 9;
    BT_CHECK_EQ(((volatile uint8_t *)LEASE_VA + 2 * LEASE_BYTES)[100], 9);
    BT_OK(wd_cap_watch((wd_handle_t)lease, (wd_handle_t)n, 0x10));
    BT_OK(wd_cap_watch((wd_handle_t)copy, (wd_handle_t)n, 0x20));
    struct wd_system_info before, after;
    BT_OK(wd_system_info(&before));
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)frame), 2);     /* the client takes it back: the lease and its copy */
    BT_OK(wd_system_info(&after));
    BT_CHECK_EQ(after.lease_ends - before.lease_ends, 2);
    BT_CHECK_EQ(after.lease_mappings_removed - before.lease_mappings_removed, mappings);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x30);    /* both holders told, afterwards */
    BT_CHECK_EQ(wd_vm_unmap(WD_NULL, LEASE_VA, LEASE_BYTES), -WD_E_NOT_MAPPED);
    BT_CHECK_EQ(wd_vm_unmap(WD_NULL, LEASE_VA + 2 * LEASE_BYTES, WD_PAGE_SIZE), -WD_E_NOT_MAPPED);
    if (space >= 0) {
        BT_CHECK_EQ(wd_dma_unmap((wd_handle_t)space, LEASE_IOVA, LEASE_BYTES), -WD_E_NOT_MAPPED);
        wd_cap_delete((wd_handle_t)space);
    }
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)copy, &info), -WD_E_STALE_HANDLE);
    /* Deleting a lease (not revoking its parent) ends its copies too. */
    lease = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP, 0));
    copy = BT_OK(wd_cap_copy((wd_handle_t)lease, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP, 0));
    BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)copy, 0, LEASE_VA, WD_PAGE_SIZE, WD_RIGHT_READ));
    BT_OK(wd_cap_delete((wd_handle_t)lease));
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)copy, &info), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_vm_unmap(WD_NULL, LEASE_VA, WD_PAGE_SIZE), -WD_E_NOT_MAPPED);
    /* A RETAIN copy: its mapping outlives it, and its child is re-parented. */
    long keep = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP |
                                                                   WD_RIGHT_GRANT | WD_RIGHT_RETAIN, 0));
    long child = BT_OK(wd_cap_copy((wd_handle_t)keep, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP | WD_RIGHT_RETAIN, 0));
    BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)keep, 0, LEASE_VA, WD_PAGE_SIZE, WD_RIGHT_READ));
    BT_OK(wd_cap_delete((wd_handle_t)keep));
    BT_CHECK_EQ(((volatile uint8_t *)LEASE_VA)[100], 9);
    BT_OK(wd_cap_info((wd_handle_t)child, &info));
    BT_CHECK_EQ(wd_vm_unmap(WD_NULL, LEASE_VA, WD_PAGE_SIZE), 1);
    wd_cap_delete((wd_handle_t)child);
    wd_cap_delete((wd_handle_t)n);
    wd_cap_delete((wd_handle_t)frame);
}

/* ---- 3: revocation while a driver keeps DMAing ---- */

/* A hostile driver keeps writing a new sequence number into the client's
 * lease with edu. The client revokes: when cap_delete returns the
 * mapping is gone and the IOTLB flushed, so none of the driver's later
 * transfers changes a byte; they fault and are reported (to the test, the
 * driver's supervisor) at the lease's IOVA; the driver's watch fires; the
 * frame reference goes only after the flush. */
void test_lease_revoke_under_dma(void)
{
    struct wd_device_info edu;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &edu) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return;
    }
    struct wd_region region;
    long device = BT_OK(wd_device_open(dma_device_root(), edu.address));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long report_frame = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    if (device < 0 || ep < 0 || report_frame < 0 || BT_OK(wd_region_create(&region, bt_pool(), LEASE_BYTES)) < 0)
        return;
    wd_handle_t lease;
    BT_OK(wd_region_grant(&region, WD_RIGHT_WRITE, &lease));
    struct lease_report *report = wd_region_map((wd_handle_t)report_frame, WD_PAGE_SIZE, true, &(long){ 0 });
    volatile uint8_t *memory = region.cpu;
    memset((void *)memory, 0x5A, LEASE_BYTES);
    wd_handle_t caps[4] = { (wd_handle_t)device, (wd_handle_t)ep, lease, (wd_handle_t)report_frame };
    wd_handle_t helper = bt_spawn_helper("lease-driver", caps, 4, (wd_handle_t)ep, LEASE_BADGE);
    struct wd_cap_info pinfo;
    BT_OK(wd_cap_info(helper, &pinfo));
    struct wd_msg m;
    long r;
    while ((r = wd_recv((wd_handle_t)ep, &m, 3000 * BT_MS)) == 0 && wd_msg_label(m.info) != READY_LABEL)
        printf("# before READY: label 0x%x\n", wd_msg_label(m.info));
    if (BT_OK(r) < 0)
        return;
    /* The driver's DMA really reaches the region first. */
    for (int i = 0; i < 150 && memory[0] == 0x5A; i++)
        wd_thread_sleep(10 * BT_MS);
    BT_CHECK(memory[0] != 0x5A);
    BT_OK(wd_region_revoke(lease));
    struct wd_system_info info;
    BT_OK(wd_system_info(&info));
    static uint8_t snapshot[LEASE_BYTES];
    memcpy(snapshot, (const void *)memory, LEASE_BYTES);
    uint64_t issued_at_revoke = report->issued;
    BT_CHECK_EQ(info.revoke_pid, pinfo.object_id);
    BT_CHECK(info.revoke_flush_stamp != 0);
    BT_CHECK(info.revoke_release_stamp > info.revoke_flush_stamp);
    /* It keeps going; each transfer must fault. */
    uint64_t faults = 0, fault_iova = 0, fault_flags = 0;
    uint64_t deadline = (uint64_t)wd_time_now() + 1500 * BT_MS;
    while ((uint64_t)wd_time_now() < deadline && report->issued < issued_at_revoke + 4) {
        if (wd_recv((wd_handle_t)ep, &m, 100 * BT_MS) == 0 && wd_msg_label(m.info) == WD_LABEL_DMA_FAULT) {
            faults += m.w[0];
            fault_iova = m.w[2];
            fault_flags = m.w[4];
            BT_CHECK_EQ(m.w[5], pinfo.object_id);
        }
    }
    while (wd_recv((wd_handle_t)ep, &m, 150 * BT_MS) == 0)
        if (wd_msg_label(m.info) == WD_LABEL_DMA_FAULT)
            faults += m.w[0], fault_iova = m.w[2], fault_flags = m.w[4];
    BT_CHECK(report->issued >= issued_at_revoke + 3);   /* the driver did not stop */
    BT_CHECK(faults >= 1);
    BT_CHECK_EQ(fault_iova, LEASE_IOVA);
    BT_CHECK(fault_flags & WD_DMA_FAULT_WRITE);
    BT_CHECK(memcmp(snapshot, (const void *)memory, LEASE_BYTES) == 0);    /* not one byte changed */
    BT_CHECK_EQ(report->told, 1);                       /* the driver was told */
    BT_CHECK(report->told_after <= issued_at_revoke + 1);
    bt_release_helper(helper);
    wd_vm_unmap(WD_NULL, (uint64_t)report, WD_PAGE_SIZE);
    wd_cap_delete((wd_handle_t)report_frame);
    wd_region_destroy(&region);
    wd_cap_delete((wd_handle_t)ep);
    wd_cap_delete((wd_handle_t)device);
}

/* ---- 4: a client's death ends its lease ---- */

/* The test plays the driver: it maps a client's lease for edu and for its
 * CPU, and watches it. Killing the client ends the lease: the handle is
 * stale, both mappings are gone, the watch fired, and edu's write to the
 * old IOVA faults at that IOVA. */
void test_lease_client_death_ends_it(void)
{
    struct edu e;
    if (!edu_open(&e, true))
        return;
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long n = BT_OK(wd_notify_create(bt_pool()));
    wd_handle_t client = bt_spawn_helper("lease-client", (wd_handle_t[]){ (wd_handle_t)ep }, 1, (wd_handle_t)ep,
                                         LEASE_BADGE);
    struct wd_msg m;
    if (BT_OK(wd_recv((wd_handle_t)ep, &m, 3000 * BT_MS)) < 0)
        return;
    BT_CHECK_EQ(wd_msg_label(m.info), GRANT_LABEL);
    BT_CHECK_EQ(wd_msg_ncaps(m.info), 1);
    wd_handle_t lease = m.caps[0];
    BT_OK(wd_reply(&(struct wd_msg){ .info = wd_msg_info(0, 0, 0) }));
    struct wd_cap_info info;
    BT_OK(wd_cap_info(lease, &info));
    BT_CHECK(info.flags & WD_CAP_LEASE);
    BT_OK(wd_dma_map(e.dmaspace, lease, 0, LEASE_IOVA, LEASE_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE));
    BT_OK(wd_vm_map(WD_NULL, lease, 0, LEASE_VA, LEASE_BYTES, WD_RIGHT_READ));
    BT_CHECK(all_equal((volatile uint8_t *)LEASE_VA, LEASE_BYTES, 0x77));
    BT_OK(wd_cap_watch(lease, (wd_handle_t)n, 4));
    bt_release_helper(client);                          /* kills it */
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, 1000 * BT_MS), 4);
    BT_CHECK_EQ(wd_cap_info(lease, &info), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_vm_unmap(WD_NULL, LEASE_VA, LEASE_BYTES), -WD_E_NOT_MAPPED);
    BT_CHECK_EQ(wd_dma_unmap(e.dmaspace, LEASE_IOVA, LEASE_BYTES), -WD_E_NOT_MAPPED);
    edu_dma(&e, LEASE_IOVA, 64, true);
    if (BT_OK(bt_wait_kernel_message(e.fault_ep, WD_LABEL_DMA_FAULT, FAULT_BADGE, &m, 1000 * BT_MS)) == 0)
        BT_CHECK_EQ(m.w[2], LEASE_IOVA);
    wd_cap_delete((wd_handle_t)n);
    wd_cap_delete((wd_handle_t)ep);
}

/* ---- 5: large regions use 2 MiB IOMMU pages ---- */

/* Bytes the pool is charged for mapping frame (through its lease) at iova. */
static long map_charge(wd_handle_t pool, wd_handle_t space, wd_handle_t frame, uint64_t iova, uint64_t bytes)
{
    struct wd_pool_info a, b;
    BT_OK(wd_pool_info(pool, &a));
    long r = BT_OK(wd_dma_map(space, frame, 0, iova, bytes, WD_RIGHT_READ | WD_RIGHT_WRITE));
    BT_OK(wd_pool_info(pool, &b));
    if (r == 0)
        BT_OK(wd_dma_unmap(space, iova, bytes));
    return r < 0 ? r : (long)(b.used - a.used);
}

/* A 4 MiB region (not asked to be contiguous) is built from 2 MiB chunks,
 * so its lease maps at a 2 MiB aligned IOVA with two 2 MiB leaves: no
 * level-1 table is added (4 KiB pages need two), and the scattered-page
 * mapping of the same memory 4 KiB off alignment costs the tables. */
void test_lease_large_region_2m_pages(void)
{
    if (!dma_iommu_present()) {
        BT_SKIP("needs an IOMMU");
        return;
    }
    long pool = BT_OK(wd_pool_create(bt_pool(), 12ull << 20));
    if (pool < 0)
        return;
    struct wd_region r;
    if (BT_OK(wd_region_create(&r, (wd_handle_t)pool, 4ull << 20)) < 0)
        return;
    BT_CHECK_EQ((uint64_t)r.cpu % (2ull << 20), 0);     /* the CPU side is 2 MiB aligned too */
    wd_handle_t lease;
    BT_OK(wd_region_grant(&r, WD_RIGHT_READ | WD_RIGHT_WRITE, &lease));
    long space = BT_OK(wd_dmaspace_create((wd_handle_t)pool));
    /* First map something in the same 1 GiB so the level-2 table exists for both. */
    long small = BT_OK(wd_frame_create((wd_handle_t)pool, WD_PAGE_SIZE, 0));
    BT_OK(wd_dma_map((wd_handle_t)space, (wd_handle_t)small, 0, 0x40000000, WD_PAGE_SIZE, WD_RIGHT_READ));
    long aligned = map_charge((wd_handle_t)pool, (wd_handle_t)space, lease, 0x40200000, 4ull << 20);
    long unaligned = map_charge((wd_handle_t)pool, (wd_handle_t)space, lease, 0x40801000, 4ull << 20);
    printf("# 4 MiB lease: %ld bytes charged at a 2 MiB IOVA, %ld at a 4 KiB one\n", aligned, unaligned);
    BT_CHECK(aligned > 0 && aligned < (long)WD_PAGE_SIZE);      /* a mapping record only: 2 MiB leaves */
    BT_CHECK(unaligned >= 3 * (long)WD_PAGE_SIZE);              /* three level-1 tables */
    wd_cap_delete((wd_handle_t)space);
    wd_cap_delete((wd_handle_t)small);
    wd_region_revoke(lease);
    wd_region_destroy(&r);
    wd_cap_delete((wd_handle_t)pool);
}
