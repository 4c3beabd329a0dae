/*
 * t_faults.c - a faulting process is stopped and reported to its
 * supervisor (vector, address, RIP), everything else keeps running, and a
 * supervisor can kill what it supervises, also while it is blocked.
 */
#include "boot_tests.h"

void test_fault_reported_to_supervisor(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long echo_ep = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t caps[1] = { (wd_handle_t)echo_ep };
    bt_spawn_helper("echo", caps, 1, (wd_handle_t)ep, 1);
    wd_handle_t faulty = bt_spawn_helper("fault pagefault", NULL, 0, (wd_handle_t)ep, 2);
    struct wd_msg msg;
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_FAULT, 2, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[0], 1);                       /* one fault */
    BT_CHECK_EQ(msg.w[2], 14);                      /* #PF */
    BT_CHECK_EQ(msg.w[4], 0xdead000);               /* the address */
    BT_CHECK(msg.w[5] >= 0x400000 && msg.w[5] < 0x10000000);   /* RIP in the program */
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info(faulty, &info), 0);
    BT_CHECK_EQ(msg.w[6], info.object_id);          /* the process id */
    /* The other helper still answers. */
    msg = (struct wd_msg){ .info = wd_msg_info(5, 1, 0), .w = { 41 } };
    BT_CHECK_EQ(wd_call((wd_handle_t)echo_ep, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[0], 42);
    /* Kill the faulted one: an EXIT message says so. */
    BT_CHECK_EQ(wd_process_kill(faulty, 99), 0);
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_EXIT, 2, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ((int64_t)msg.w[2], 99);
    BT_CHECK_EQ(msg.w[3], WD_EXIT_KILLED);
    /* Killing it again is harmless. */
    BT_CHECK_EQ(wd_process_kill(faulty, 1), 0);
}

void test_fault_vectors(void)
{
    static const struct { const char *kind; uint64_t vector; } cases[] = {
        { "ud", 6 }, { "gp", 13 }, { "divide", 0 },
    };
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[32];
        snprintf(args, sizeof args, "fault %s", cases[i].kind);
        wd_handle_t p = bt_spawn_helper(args, NULL, 0, (wd_handle_t)ep, 100 + i);
        struct wd_msg msg;
        BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_FAULT, 100 + i, &msg, 5000 * BT_MS), 0);
        BT_CHECK_EQ(msg.w[2], cases[i].vector);
        wd_process_kill(p, 0);
    }
    /* A normal exit reports its status. */
    wd_handle_t p = bt_spawn_helper("nosuchrole", NULL, 0, (wd_handle_t)ep, 200);
    struct wd_msg msg;
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_EXIT, 200, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ((int64_t)msg.w[2], 4);
    BT_CHECK_EQ(msg.w[3], WD_EXIT_NORMAL);
    (void)p;
}

void test_kill_blocked_process(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long sup = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t caps[1] = { (wd_handle_t)ep };
    wd_handle_t blocked = bt_spawn_helper("block", caps, 1, (wd_handle_t)sup, 3);
    wd_thread_sleep(30 * BT_MS);                    /* let it block in recv */
    BT_CHECK_EQ(wd_process_kill(blocked, 7), 0);
    struct wd_msg msg;
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)sup, WD_LABEL_EXIT, 3, &msg, 5000 * BT_MS), 0);
    /* The endpoint it waited on is usable and has no stale receiver. */
    msg.info = wd_msg_info(1, 0, 0);
    BT_CHECK_EQ(wd_send((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    /* Operations on a dead process are refused cleanly. */
    long frame = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    BT_CHECK_EQ(wd_vm_map(blocked, (wd_handle_t)frame, 0, 0x500000000000ull, WD_PAGE_SIZE, WD_RIGHT_READ),
                -WD_E_DEAD);
    BT_CHECK_EQ(wd_thread_create(bt_pool(), blocked, 0x400000, 0x500000, 0, 1), -WD_E_DEAD);
    BT_CHECK_EQ(wd_cap_copy((wd_handle_t)frame, blocked, WD_RIGHT_READ, 0), -WD_E_DEAD);
}
