/*
 * t_memory.c - frames and address spaces: every vm_map error, what
 * mappings really allow, and that process churn leaks nothing.
 */
#include <string.h>

#include "boot_tests.h"

#define VA 0x0000400000000000ull

static uint64_t free_frames(void)
{
    struct wd_system_info info;
    return wd_system_info(&info) == 0 ? info.free_frames : 0;
}

void test_vm_map_errors(void)
{
    long f = BT_OK(wd_frame_create(bt_pool(), 2 * WD_PAGE_SIZE, 0));
    wd_handle_t h = (wd_handle_t)f;
    const uint64_t R = WD_RIGHT_READ, RW = WD_RIGHT_READ | WD_RIGHT_WRITE;
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA, 0, R), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA + 1, WD_PAGE_SIZE, R), -WD_E_UNALIGNED);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 1, VA, WD_PAGE_SIZE, R), -WD_E_UNALIGNED);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA, 3 * WD_PAGE_SIZE, R), -WD_E_RANGE);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 2 * WD_PAGE_SIZE, VA, WD_PAGE_SIZE, R), -WD_E_RANGE);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, 0, WD_PAGE_SIZE, R), -WD_E_RANGE);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, 0xFFFF800000000000ull, WD_PAGE_SIZE, R), -WD_E_RANGE);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, 0x0000800000000000ull, WD_PAGE_SIZE, R), -WD_E_RANGE);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, 0x00007FFFFFFFF000ull, 2 * WD_PAGE_SIZE, R), -WD_E_RANGE);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA, WD_PAGE_SIZE, WD_RIGHT_WRITE), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_GRANT), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA, WD_PAGE_SIZE, 1ull << 40), -WD_E_BAD_FLAGS);
    BT_CHECK_EQ(wd_frame_create(bt_pool(), 100, 0), -WD_E_UNALIGNED);
    BT_CHECK_EQ(wd_frame_create(bt_pool(), 0, 0), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0x80), -WD_E_BAD_FLAGS);
    BT_CHECK_EQ(wd_frame_create(bt_pool(), 1ull << 40, 0), -WD_E_INVALID_ARG);

    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA, 2 * WD_PAGE_SIZE, RW), 0);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA + WD_PAGE_SIZE, WD_PAGE_SIZE, R), -WD_E_EXISTS);
    /* A frame is zeroed, and the same frame mapped twice shows the same bytes. */
    BT_CHECK_EQ(*(volatile uint64_t *)(VA + 8), 0);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA + 0x100000, WD_PAGE_SIZE, R), 0);
    *(volatile uint64_t *)VA = 0x1234567890ull;
    BT_CHECK_EQ(*(volatile uint64_t *)(VA + 0x100000), 0x1234567890ull);
    /* Unmap: not mapped, cutting a mapping, then whole mappings. */
    BT_CHECK_EQ(wd_vm_unmap(WD_NULL, VA + 0x200000, WD_PAGE_SIZE), -WD_E_NOT_MAPPED);
    BT_CHECK_EQ(wd_vm_unmap(WD_NULL, VA, WD_PAGE_SIZE), -WD_E_NOT_MAPPED);
    BT_CHECK_EQ(wd_vm_unmap(WD_NULL, VA, 0x101000), 2);
    /* The memory survives while the capability lives, and is the same frame. */
    BT_CHECK_EQ(wd_vm_map(WD_NULL, h, 0, VA, WD_PAGE_SIZE, R), 0);
    BT_CHECK_EQ(*(volatile uint64_t *)VA, 0x1234567890ull);
    /* A contiguous frame. */
    long c = BT_OK(wd_frame_create(bt_pool(), 16 * WD_PAGE_SIZE, WD_FRAME_CONTIGUOUS));
    struct wd_frame_info fi;
    BT_CHECK_EQ(wd_frame_info((wd_handle_t)c, &fi), 0);
    BT_CHECK_EQ(fi.size, 16 * WD_PAGE_SIZE);
    BT_CHECK_EQ(fi.flags, WD_FRAME_CONTIGUOUS);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)c, 0, VA + 0x400000, 16 * WD_PAGE_SIZE, RW), 0);
    memset((void *)(VA + 0x400000), 0x5a, 16 * WD_PAGE_SIZE);
    BT_CHECK_EQ(*(volatile uint8_t *)(VA + 0x400000 + 16 * WD_PAGE_SIZE - 1), 0x5a);
}

void test_process_churn_no_leak(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    /* Warm-up: the first spawn may grow this process's own page tables. */
    wd_handle_t child = bt_spawn_helper("spin", NULL, 0, (wd_handle_t)ep, 9);
    wd_thread_yield();
    bt_cleanup();
    (void)child;
    struct wd_pool_info pool_before;
    BT_CHECK_EQ(wd_pool_info(bt_pool(), &pool_before), 0);
    uint64_t before = free_frames();
    for (int i = 0; i < 20; i++) {
        bt_spawn_helper(i % 2 ? "spin" : "fault pagefault", NULL, 0, (wd_handle_t)ep, 10 + i);
        wd_thread_sleep(1);
        bt_cleanup();
    }
    /* Drain the fault/exit messages; they hold nothing. */
    struct wd_msg msg;
    while (wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT) == 0)
        ;
    struct wd_pool_info pool_after;
    BT_CHECK_EQ(wd_pool_info(bt_pool(), &pool_after), 0);
    BT_CHECK_EQ(pool_after.used, pool_before.used);
    BT_CHECK_EQ(free_frames(), before);
    struct wd_system_info info;
    BT_CHECK_EQ(wd_system_info(&info), 0);
    printf("# after 20 processes: %llu free frames, %llu live processes, %llu live threads\n",
           (unsigned long long)info.free_frames, (unsigned long long)info.live_processes,
           (unsigned long long)info.live_threads);
}
