/*
 * t_fault_fixup.c - thread_fault_fixup and libc's wd_copy_checked: a copy
 * from or to memory that is not there (a lease its owner took back) ends
 * with DEAD instead of a fault; a fault anywhere else still stops the
 * thread and is reported; bad ranges are refused.
 */
#include <string.h>
#include <warden/region.h>

#include "boot_tests.h"

#define GONE_VA 0x7A0000000000ull        /* never mapped */
#define RO_VA 0x7A0000100000ull

void test_copy_checked_survives(void)
{
    BT_CHECK_EQ(wd_copy_checked_init(), 0);
    char a[100], b[100];
    for (unsigned i = 0; i < sizeof a; i++)
        a[i] = (char)(i * 3);
    memset(b, 0, sizeof b);
    BT_CHECK_EQ(wd_copy_checked(b, a, 99), 0);          /* 12 words and a 3-byte tail */
    BT_CHECK_EQ(memcmp(a, b, 99), 0);
    BT_CHECK_EQ(b[99], 0);
    /* From and to nothing: DEAD, and this thread goes on. */
    BT_CHECK_EQ(wd_copy_checked(b, (const void *)GONE_VA, 64), -WD_E_DEAD);
    BT_CHECK_EQ(wd_copy_checked((void *)GONE_VA, a, 64), -WD_E_DEAD);
    /* To a read-only page: DEAD. */
    long frame = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, RO_VA, WD_PAGE_SIZE, WD_RIGHT_READ), 0);
    BT_CHECK_EQ(wd_copy_checked(b, (const void *)RO_VA, 64), 0);
    BT_CHECK_EQ(wd_copy_checked((void *)RO_VA, a, 64), -WD_E_DEAD);
    /* A lease taken back while mapped: the mapping goes, the copy says DEAD. */
    struct wd_region r;
    wd_handle_t lease;
    BT_CHECK_EQ(wd_region_create(&r, bt_pool(), WD_PAGE_SIZE), 0);
    BT_CHECK_EQ(wd_region_grant(&r, WD_RIGHT_READ | WD_RIGHT_WRITE, &lease), 0);
    void *through = wd_region_map(lease, WD_PAGE_SIZE, true, NULL);
    BT_CHECK(through != NULL);
    BT_CHECK_EQ(wd_copy_checked(through, a, 64), 0);
    BT_CHECK_EQ(memcmp(r.cpu, a, 64), 0);
    BT_CHECK_EQ(wd_region_revoke(lease), 0);
    BT_CHECK_EQ(wd_copy_checked(b, through, 64), -WD_E_DEAD);
    wd_region_destroy(&r);
    wd_vm_unmap(WD_NULL, RO_VA, WD_PAGE_SIZE);
    wd_cap_delete((wd_handle_t)frame);
    /* Bad ranges. */
    BT_CHECK_EQ(wd_thread_fault_fixup(0x500000, 0x400000, 0x400000), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_thread_fault_fixup(0x400000, 0x400000, 0x400000), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_thread_fault_fixup(0xffff800000000000ull, 0xffff800000001000ull, 0x400000), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_thread_fault_fixup(0x400000, 0x401000, 0xffff800000000000ull), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_thread_fault_fixup(0, 0, 0), 0);         /* removed */
    /* Outside the range a fault is a fault: stopped and reported. */
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t helper = bt_spawn_helper("fault outside-fixup", NULL, 0, (wd_handle_t)ep, 3);
    struct wd_msg msg;
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_FAULT, 3, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[2], 14);
    BT_CHECK_EQ(msg.w[4], 0xdead000);
    bt_release_helper(helper);
    wd_cap_delete((wd_handle_t)ep);
}
