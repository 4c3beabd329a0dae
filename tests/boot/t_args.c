/*
 * t_args.c - argument checks of the calls no other test reaches: thread
 * creation, process creation, console writes, unknown call numbers.
 */
#include "boot_tests.h"

void test_syscall_argument_errors(void)
{
    long child = BT_OK(wd_process_create(bt_pool(), WD_NULL, 0, 0));
    wd_handle_t c = (wd_handle_t)child;
    const uint64_t entry = 0x400000, stack = 0x500000;
    BT_CHECK_EQ(wd_thread_create(bt_pool(), c, 0, stack, 0, 1), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(wd_thread_create(bt_pool(), c, 0xFFFF800000000000ull, stack, 0, 1), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(wd_thread_create(bt_pool(), c, entry, 0, 0, 1), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(wd_thread_create(bt_pool(), c, entry, 0x0000800000000000ull + 16, 0, 1), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(wd_thread_create(bt_pool(), c, entry, stack + 8, 0, 1), -WD_E_UNALIGNED);
    BT_CHECK_EQ(wd_thread_create(bt_pool(), c, entry, stack, 0, WD_PRIORITY_MAX + 1), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_thread_create(c, c, entry, stack, 0, 1), -WD_E_WRONG_TYPE);
    long no_alloc = BT_OK(wd_cap_copy(bt_pool(), WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_thread_create((wd_handle_t)no_alloc, c, entry, stack, 0, 1), -WD_E_NO_RIGHTS);
    struct wd_pool_info pool_info;
    long no_read = BT_OK(wd_cap_copy(bt_pool(), WD_NULL, WD_RIGHT_ALLOC, 0));
    BT_CHECK_EQ(wd_pool_info((wd_handle_t)no_read, &pool_info), -WD_E_NO_RIGHTS);

    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long recv_only = BT_OK(wd_cap_copy((wd_handle_t)ep, WD_NULL, WD_RIGHT_RECV, 0));
    BT_CHECK_EQ(wd_process_create(bt_pool(), WD_NULL, 0, 1), -WD_E_BAD_FLAGS);
    BT_CHECK_EQ(wd_process_create(bt_pool(), (wd_handle_t)recv_only, 0, 0), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_process_create((wd_handle_t)ep, WD_NULL, 0, 0), -WD_E_WRONG_TYPE);

    BT_CHECK_EQ(wd_debug_write((const char *)0xFFFFFFFF80000000ull, 8), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(wd_debug_write((const char *)0x0000700000000000ull, 8), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(wd_debug_write("x", 4097), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_debug_write("# console write works\n", 22), 22);

    /* Numbers outside the table. */
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(9999L) : "rcx", "r11", "memory");
    BT_CHECK_EQ(r, -WD_E_NO_SYSCALL);
    __asm__ volatile("syscall" : "=a"(r) : "a"(-1L) : "rcx", "r11", "memory");
    BT_CHECK_EQ(r, -WD_E_NO_SYSCALL);
    wd_cap_delete(c);
}
