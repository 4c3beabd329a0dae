/*
 * t_caps.c - capability rules: reduced rights are really refused, revoke
 * reaches copies in other processes, stale and wrong-typed handles get
 * their own errors, pools are budgets.
 */
#include "boot_tests.h"

#define SCRATCH 0x0000310000000000ull

void test_cap_copy_reduced_rights(void)
{
    long frame = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    long ro = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP, 0));
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)ro, &info), 0);
    BT_CHECK_EQ(info.rights, WD_RIGHT_READ | WD_RIGHT_MAP);
    /* The lost WRITE right: no writable mapping, and no way to get it back by copying. */
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)ro, 0, SCRATCH, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE),
                -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_cap_copy((wd_handle_t)ro, WD_NULL, WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP, 0),
                -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)ro, 0, SCRATCH, WD_PAGE_SIZE, WD_RIGHT_READ), 0);
    /* Without MAP nothing can be mapped at all. */
    long nomap = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)nomap, 0, SCRATCH + 0x10000, WD_PAGE_SIZE, WD_RIGHT_READ),
                -WD_E_NO_RIGHTS);
    /* Unknown rights bits are an error, not ignored. */
    BT_CHECK_EQ(wd_cap_copy((wd_handle_t)frame, WD_NULL, 1u << 20, 0), -WD_E_BAD_FLAGS);
    /* A pool copy without ALLOC cannot create objects. */
    long pool = BT_OK(wd_cap_copy(bt_pool(), WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_endpoint_create((wd_handle_t)pool), -WD_E_NO_RIGHTS);
    /* Without GRANT a capability cannot go to another process. */
    long child = BT_OK(wd_process_create(bt_pool(), WD_NULL, 0, 0));
    BT_CHECK_EQ(wd_cap_copy((wd_handle_t)ro, (wd_handle_t)child, WD_RIGHT_READ, 0), -WD_E_NO_RIGHTS);
    BT_CHECK(wd_cap_copy((wd_handle_t)frame, (wd_handle_t)child, WD_RIGHT_READ, 0) > 0);
    /* A process capability without CONTROL cannot be a destination. */
    long weak_child = BT_OK(wd_cap_copy((wd_handle_t)child, WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_cap_copy((wd_handle_t)frame, (wd_handle_t)weak_child, WD_RIGHT_READ, 0), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_process_kill((wd_handle_t)weak_child, 0), -WD_E_NO_RIGHTS);
    wd_cap_delete((wd_handle_t)weak_child);
    wd_cap_delete((wd_handle_t)child);
}

void test_cap_revoke_other_process(void)
{
    long ctrl = BT_OK(wd_endpoint_create(bt_pool()));
    long target = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t caps[2] = { (wd_handle_t)ctrl, (wd_handle_t)target };
    BT_CHECK(bt_spawn_helper("capcheck", caps, 2, WD_NULL, 0) != WD_NULL);
    struct wd_msg msg = { .info = wd_msg_info(1, 0, 0) };
    BT_CHECK_EQ(wd_call((wd_handle_t)ctrl, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ((long)msg.w[0], 0);                 /* the helper's copy works */
    /* Revoke deletes the helper's copy (and nothing of ours). */
    long revoked = wd_cap_revoke((wd_handle_t)target);
    BT_CHECK(revoked >= 1);
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)target, &info), 0);
    msg.info = wd_msg_info(1, 0, 0);
    BT_CHECK_EQ(wd_call((wd_handle_t)ctrl, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ((long)msg.w[0], -WD_E_STALE_HANDLE);
    /* Copies of copies are derived too. */
    long a = BT_OK(wd_cap_copy((wd_handle_t)target, WD_NULL, WD_RIGHT_SEND, 0));
    long b = BT_OK(wd_cap_copy((wd_handle_t)a, WD_NULL, WD_RIGHT_SEND, 0));
    BT_CHECK_EQ(wd_cap_delete((wd_handle_t)a), 0);  /* b moves up to target */
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)target), 1);
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)b, &info), -WD_E_STALE_HANDLE);
}

void test_cap_stale_and_wrong_type(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long frame = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    struct wd_msg msg = { .info = wd_msg_info(1, 0, 0) };
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_call((wd_handle_t)frame, &msg, WD_NO_WAIT), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_frame_create((wd_handle_t)ep, WD_PAGE_SIZE, 0), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_vm_map(WD_NULL, (wd_handle_t)ep, 0, 0x320000000000ull, WD_PAGE_SIZE, WD_RIGHT_READ),
                -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_process_kill((wd_handle_t)ep, 0), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_cap_delete((wd_handle_t)ep), 0);
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)ep, &info), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_cap_delete((wd_handle_t)ep), -WD_E_STALE_HANDLE);
    /* The slot is reused by a new object; the old handle still does not name it. */
    long ep2 = BT_OK(wd_endpoint_create(bt_pool()));
    BT_CHECK(ep2 != ep);
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)ep, &info), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_cap_info(WD_NULL, &info), -WD_E_BAD_HANDLE);
    BT_CHECK_EQ(wd_cap_info(0xFFFF, &info), -WD_E_BAD_HANDLE);
    BT_CHECK_EQ(wd_cap_info(0x123456789ull, &info), -WD_E_BAD_HANDLE);
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)frame, (struct wd_cap_info *)0xFFFF800000001000ull), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(wd_system_info((struct wd_system_info *)0x10), -WD_E_BAD_ADDRESS);
}

void test_pool_exhaustion(void)
{
    const uint64_t budget = 64 * 1024;
    long pool = BT_OK(wd_pool_create(bt_pool(), budget));
    struct wd_pool_info before;
    BT_CHECK_EQ(wd_pool_info(bt_pool(), &before), 0);
    long frames[64];
    unsigned made = 0;
    long r = 0;
    while (made < 64 && (r = wd_frame_create((wd_handle_t)pool, WD_PAGE_SIZE, 0)) >= 0)
        frames[made++] = r;
    BT_CHECK_EQ(r, -WD_E_POOL_EXHAUSTED);
    BT_CHECK(made >= 8 && made < 16);               /* 4 KiB + bookkeeping each, 64 KiB budget */
    struct wd_pool_info info;
    BT_CHECK_EQ(wd_pool_info((wd_handle_t)pool, &info), 0);
    BT_CHECK_EQ(info.budget, budget);
    BT_CHECK(info.used <= info.budget);
    /* Small objects still fit in what is left, until that is gone too. */
    long small[64];
    unsigned nsmall = 0;
    while (nsmall < 64 && (r = wd_endpoint_create((wd_handle_t)pool)) >= 0)
        small[nsmall++] = r;
    BT_CHECK_EQ(r, -WD_E_POOL_EXHAUSTED);
    BT_CHECK_EQ(wd_pool_create((wd_handle_t)pool, 4096), -WD_E_POOL_EXHAUSTED);
    /* The parent pool is unaffected. */
    long ok = wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0);
    BT_CHECK(ok > 0);
    /* A sub-pool cannot be larger than what its parent has left. */
    BT_CHECK_EQ(wd_pool_create((wd_handle_t)pool, budget), -WD_E_POOL_EXHAUSTED);
    BT_CHECK_EQ(wd_pool_create(bt_pool(), 0), -WD_E_INVALID_ARG);
    /* Freeing gives the budget back. */
    for (unsigned i = 0; i < made; i++)
        wd_cap_delete((wd_handle_t)frames[i]);
    for (unsigned i = 0; i < nsmall; i++)
        wd_cap_delete((wd_handle_t)small[i]);
    BT_CHECK_EQ(wd_pool_info((wd_handle_t)pool, &info), 0);
    BT_CHECK_EQ(info.used, 0);
    BT_CHECK(wd_frame_create((wd_handle_t)pool, WD_PAGE_SIZE, 0) > 0);
    /* A process whose pool is exhausted fails alone: thread creation is refused. */
    long tiny = BT_OK(wd_pool_create(bt_pool(), 8192));
    BT_CHECK_EQ(wd_process_create((wd_handle_t)tiny, WD_NULL, 0, 0), -WD_E_POOL_EXHAUSTED);
}
