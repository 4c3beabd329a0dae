/*
 * t_hostile_rights.c - hostile_driver_escapes, the rows of the driver's
 * second incarnation (see t_hostile_driver.c): DMA into a lease its client
 * revoked; a fault flood; more rights than it holds, for itself or a
 * child; a thread above its own priority; and a device given up the
 * polite way while the driver keeps its BAR mapping, handed to the next
 * owner.
 */
#include <string.h>
#include <warden/region.h>

#include "boot_tests.h"
#include "t_hostile.h"

#define LEASE_BYTES (64ull << 10)
#define SPIN_MS 200
#define STALE_WAIT_NS (1500ull * 1000 * 1000)

/* 11. A lease the client (this test) revoked: the mapping worked, the
 * revoke returned after the flush, and the device's write to the old IOVA
 * faults with REVOKED (not counted toward a flood). */
void hostile_lease_revoked(struct hostile_run *run)
{
    printf("# 11. device write to IOVA 0x%llx after the client revoked the lease mapped there\n",
           (unsigned long long)LEASE_IOVA);
    struct wd_region region;
    wd_handle_t grant;
    if (BT_OK(wd_region_create(&region, bt_pool(), LEASE_BYTES)) < 0 ||
        BT_OK(wd_region_grant(&region, WD_RIGHT_READ | WD_RIGHT_WRITE, &grant)) < 0)
        return;
    volatile uint8_t *memory = region.cpu;
    struct wd_msg reply;
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_MAP, LEASE_IOVA, LEASE_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, 0, grant,
                             &reply), 0);
    BT_CHECK_EQ(device_write(run, LEASE_IOVA, 64), 0);              /* while it lasts, it works */
    BT_CHECK(all_equal(memory, 64, DEVICE_BYTE));
    memset((void *)memory, 0x66, LEASE_BYTES);
    BT_OK(wd_region_revoke(grant));
    uint64_t faults = edu_fault_count(run);
    BT_CHECK_EQ(device_write(run, LEASE_IOVA, TEST_BYTES), 0);
    expect_dma_fault(run, LEASE_IOVA, FR_WRITE_DENIED, WD_DMA_FAULT_REVOKED);
    BT_CHECK(edu_fault_count(run) > faults);
    BT_CHECK(all_equal(memory, LEASE_BYTES, 0x66));
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_UNMAP, LEASE_IOVA, LEASE_BYTES, 0, 0, WD_NULL, &reply),
                -WD_E_NOT_MAPPED);                                  /* already gone */
    wd_region_destroy(&region);
}

/* 12. A fault flood: writes to an unmapped IOVA until the kernel quiesces
 * the device; then bus mastering stays off, a write to a mapped page goes
 * nowhere, and the system (and the driver) keeps answering. */
void hostile_fault_flood(struct hostile_run *run)
{
    printf("# 12. a fault flood: device writes to unmapped IOVA 0x%llx, one after another\n",
           (unsigned long long)FLOOD_IOVA);
    wd_handle_t frame;
    volatile uint8_t *page = test_page(run, WD_PAGE_SIZE, 0x77, 0, &frame);
    struct wd_msg reply, msg;
    if (!page || hostile_call(run, HOSTILE_OP_MAP, QUIESCED_IOVA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE, 0,
                              lend(frame, WD_RIGHT_READ | WD_RIGHT_WRITE), &reply) != 0) {
        BT_CHECK(!"the flood's target page could not be mapped");
        return;
    }
    struct wd_iommu_info unit_before, unit_after;
    BT_OK(wd_iommu_info(0, &unit_before));
    uint64_t faults = edu_fault_count(run), transfers = 0, quiesced = 0;
    while (!quiesced && transfers <= WD_DMA_FAULT_FLOOD + 2) {
        BT_CHECK_EQ(device_write(run, FLOOD_IOVA, 256), 0);
        transfers++;
        if (bt_wait_kernel_message(run->driver.fault_ep, WD_LABEL_DMA_FAULT, EDU_DRIVER_BADGE, &msg,
                                   2000 * BT_MS) == 0) {
            BT_CHECK_EQ(msg.w[2], FLOOD_IOVA);
            quiesced = msg.w[4] & WD_DMA_FAULT_QUIESCED;
        }
    }
    BT_OK(wd_iommu_info(0, &unit_after));
    struct wd_device_info info;
    BT_OK(wd_device_info(run->edu, &info));
    printf("#   quiesced after %llu transfers: %llu faults counted for edu, %llu drained by the unit\n",
           (unsigned long long)transfers, (unsigned long long)(info.fault_count - faults),
           (unsigned long long)(unit_after.faults - unit_before.faults));
    BT_CHECK(quiesced);
    BT_CHECK(info.flags & WD_DEVICE_QUIESCED);
    BT_CHECK(info.fault_count - faults > WD_DMA_FAULT_FLOOD);
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_BUS_MASTER, 0, 0, 0, 0, WD_NULL, &reply), -WD_E_BUSY);
    BT_CHECK_EQ(reply.w[1] & 0x4, 0);                             /* bus mastering off */
    BT_CHECK_EQ(device_write(run, QUIESCED_IOVA, 64), 0);
    BT_CHECK(all_equal(page, WD_PAGE_SIZE, 0x77));                  /* a quiesced device writes nothing */
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_READ_ID, 0, 0, 0, 0, WD_NULL, &reply), 0x010000ED);
}

/* 13. More than it holds: its device capability has no GRANT. */
void hostile_escalation(struct hostile_run *run)
{
    printf("# 13. more rights than it holds (its device capability has no GRANT)\n");
    struct wd_msg reply;
    long r = hostile_call(run, HOSTILE_OP_ESCALATE, 0, 0, 0, 0, WD_NULL, &reply);
    static const char *what[] = { "copy of its device with GRANT", "a child process", "its device to the child",
                                  "its device moved to the child", "a pool above its budget",
                                  "its BAR frame to the child", "its BAR mapped into the child" };
    for (unsigned i = 0; i <= HOSTILE_ESC_MAP_BAR_IN_CHILD; i++)
        printf("#   %-32s %s\n", what[i], (long)reply.w[i] < 0 ? wd_error_name((long)reply.w[i]) : "done");
    BT_CHECK_EQ(r, -WD_E_NO_RIGHTS);
    BT_CHECK((long)reply.w[HOSTILE_ESC_CHILD] > 0);                 /* a child from its own pool is fine */
    BT_CHECK_EQ(reply.w[HOSTILE_ESC_GIVE_DEVICE], -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(reply.w[HOSTILE_ESC_MOVE_DEVICE], -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(reply.w[HOSTILE_ESC_BIG_POOL], -WD_E_POOL_EXHAUSTED);
    BT_CHECK_EQ(reply.w[HOSTILE_ESC_GIVE_BAR], -WD_E_NO_RIGHTS);
    /* Mapping its registers into a process it controls is the owner's call
     * (its child is its own); the mapping goes when the device changes owner. */
    BT_CHECK_EQ(reply.w[HOSTILE_ESC_MAP_BAR_IN_CHILD], 0);
    struct wd_device_info info;
    BT_OK(wd_device_info(run->edu, &info));
    BT_CHECK_EQ(info.owner_pid, run->driver.pid);                   /* still its, nobody else's */
}

/* 14. A thread above its own priority (16): Warden has no priority
 * ceiling, so a driver can starve every process below 31. The assertions
 * say what Warden does today (the table marks the row open). */
void hostile_priority(struct hostile_run *run)
{
    printf("# 14. a thread at priority 31 (its own is 16) spinning for %u ms\n", SPIN_MS);
    struct wd_msg reply;
    uint64_t start = (uint64_t)wd_time_now();
    long r = hostile_call(run, HOSTILE_OP_SPIN_THREAD, 16, SPIN_MS, 0, 0, WD_NULL, &reply);
    uint64_t same = (uint64_t)wd_time_now() - start;
    BT_CHECK(r > 0);
    start = (uint64_t)wd_time_now();
    r = hostile_call(run, HOSTILE_OP_SPIN_THREAD, WD_PRIORITY_MAX, SPIN_MS, 0, 0, WD_NULL, &reply);
    uint64_t high = (uint64_t)wd_time_now() - start;
    printf("#   at 16 the driver answered after %llu ms; at 31: thread_create %s, answered after %llu ms:\n"
           "#   NOT BLOCKED - everything below 31 (this test, init, every driver) waited for it\n",
           (unsigned long long)(same / BT_MS), r > 0 ? "accepted" : wd_error_name(r),
           (unsigned long long)(high / BT_MS));
    BT_CHECK(r > 0);
    BT_CHECK(high >= (SPIN_MS - 20) * BT_MS);
    BT_CHECK(same < high);
    wd_thread_sleep(SPIN_MS * BT_MS);                               /* let the priority-16 spinner end */
}

/* 15. Given up the polite way: the driver deletes its irq and detaches,
 * keeping its device capability, a BAR frame capability and its BAR0
 * mapping. The next owner (this test) attaches, maps a page and turns bus
 * mastering on. The old driver must reach neither the registers nor, so,
 * the next owner's memory. */
void hostile_stale_bar(struct hostile_run *run)
{
    printf("# 15. the driver gives its device up, keeps its BAR0 mapping, and the device goes to a new owner\n");
    struct wd_msg reply;
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_READ_ID, 0, 0, 0, 0, WD_NULL, &reply), 0x010000ED);
    uint64_t bar_va = reply.w[1];
    BT_CHECK_EQ(hostile_call(run, HOSTILE_OP_GIVE_UP, 0, 0, 0, 0, WD_NULL, &reply), 0);
    BT_CHECK_EQ(reply.w[1], 0);                                     /* its irq went */
    struct wd_device_info info;
    BT_OK(wd_device_info(run->edu, &info));
    BT_CHECK(!(info.flags & (WD_DEVICE_OWNED | WD_DEVICE_ATTACHED)));
    long space = BT_OK(wd_dmaspace_create(bt_pool()));
    wd_handle_t frame;
    volatile uint8_t *page = test_page(run, WD_PAGE_SIZE, 0x88, 0, &frame);
    if (space < 0 || !page || BT_OK(wd_dma_attach(run->edu, (wd_handle_t)space)) < 0)
        return;
    BT_OK(wd_dma_map((wd_handle_t)space, frame, 0, NEXT_OWNER_IOVA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE));
    BT_OK(wd_device_config_write(run->edu, 4, 2, 0x6));             /* memory decode and bus mastering */
    long again = hostile_call(run, HOSTILE_OP_STALE_MAP, 0, 0, 0, 0, WD_NULL, &reply);
    printf("#   device_bar_frame again: %s; vm_map of the BAR frame it kept: %s\n", wd_error_name(again),
           (long)reply.w[1] < 0 ? wd_error_name((long)reply.w[1]) : "mapped");
    BT_CHECK_EQ(again, -WD_E_NOT_OWNER);
    BT_CHECK_EQ(reply.w[1], -WD_E_NOT_OWNER);
    /* Through the old mapping: the driver must fault on the register. */
    reply = (struct wd_msg){ .info = wd_msg_info(HOSTILE_OP_STALE_DMA, 1, 0), .w = { NEXT_OWNER_IOVA } };
    long r = wd_call(run->driver.client, &reply, STALE_WAIT_NS);
    struct wd_msg fault;
    long faulted = bt_wait_kernel_message(run->driver.fault_ep, WD_LABEL_FAULT, EDU_DRIVER_BADGE, &fault,
                                          500 * BT_MS);
    printf("#   a transfer programmed through the old mapping: %s; the driver %s\n",
           r == 0 ? "ANSWERED" : wd_error_name(r),
           faulted == 0 ? "page-faulted on the register (its supervisor was told)" : "did not fault");
    BT_CHECK_EQ(faulted, 0);
    if (faulted == 0)
        BT_CHECK(fault.w[4] >= bar_va && fault.w[4] < bar_va + run->edu_info.bars[0].size);
    BT_CHECK(all_equal(page, WD_PAGE_SIZE, 0x88));                  /* the next owner's memory */
    hostile_stop(run);
    BT_OK(wd_dma_detach(run->edu));
    wd_cap_delete((wd_handle_t)space);
}
