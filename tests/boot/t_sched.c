/*
 * t_sched.c - preemption, sleeping, timeouts and endpoint timers.
 */
#include <warden/thread.h>

#include "boot_tests.h"

static volatile uint64_t spinner_count;
static volatile int spinner_stop;

static void spinner(void *arg)
{
    (void)arg;
    while (!spinner_stop)
        spinner_count++;
}

void test_preemption(void)
{
    /* A thread of the same priority that never makes a system call. */
    long t = BT_OK(wd_thread_start(spinner, NULL, 16));
    /* We spin too, without system calls: only preemption lets it run. */
    uint64_t spins = 0;
    while (spinner_count == 0 && spins < (1ull << 34))
        spins++;
    BT_CHECK(spinner_count > 0);
    /* And it lets us run again while it spins: we are here. Now a spinning
     * process must not starve us either. */
    wd_handle_t spin_proc = bt_spawn_helper("spin", NULL, 0, WD_NULL, 0);
    uint64_t t0 = (uint64_t)wd_time_now();
    while ((uint64_t)wd_time_now() - t0 < 50 * BT_MS)
        ;
    spinner_stop = 1;
    BT_CHECK(spin_proc != WD_NULL);
    struct wd_system_info info;
    BT_CHECK_EQ(wd_system_info(&info), 0);
    BT_CHECK(info.context_switches > 0);
    (void)t;
}

void test_sleep_and_timeouts(void)
{
    uint64_t t0 = (uint64_t)wd_time_now();
    BT_CHECK_EQ(wd_thread_sleep(50 * BT_MS), 0);
    uint64_t slept = (uint64_t)wd_time_now() - t0;
    BT_CHECK(slept >= 50 * BT_MS);
    BT_CHECK(slept < 2000 * BT_MS);
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    struct wd_msg msg = { .info = wd_msg_info(1, 0, 0) };
    t0 = (uint64_t)wd_time_now();
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 30 * BT_MS), -WD_E_TIMEOUT);
    BT_CHECK((uint64_t)wd_time_now() - t0 >= 30 * BT_MS);
    t0 = (uint64_t)wd_time_now();
    msg.info = wd_msg_info(1, 0, 0);
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, 20 * BT_MS), -WD_E_TIMEOUT);
    BT_CHECK((uint64_t)wd_time_now() - t0 >= 20 * BT_MS);
    /* After timing out, nobody is left queued on the endpoint. */
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_thread_sleep(0), 0);
    BT_CHECK_EQ(wd_thread_yield(), 0);
}

void test_endpoint_timer_coalesces(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    struct wd_msg msg;
    BT_CHECK_EQ(wd_endpoint_timer((wd_handle_t)ep, 0x77, 10 * BT_MS), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 2000 * BT_MS), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), WD_LABEL_TIMER);
    BT_CHECK_EQ(msg.badge, 0x77);
    BT_CHECK_EQ(msg.w[0], 1);
    /* Two expiries before we receive: one message with count 2. */
    BT_CHECK_EQ(wd_endpoint_timer((wd_handle_t)ep, 0x77, 10 * BT_MS), 0);
    wd_thread_sleep(60 * BT_MS);
    BT_CHECK_EQ(wd_endpoint_timer((wd_handle_t)ep, 0x77, 10 * BT_MS), 0);
    wd_thread_sleep(60 * BT_MS);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), WD_LABEL_TIMER);
    BT_CHECK_EQ(msg.w[0], 2);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    /* Disarmed: nothing arrives. */
    BT_CHECK_EQ(wd_endpoint_timer((wd_handle_t)ep, 0x77, 10 * BT_MS), 0);
    BT_CHECK_EQ(wd_endpoint_timer((wd_handle_t)ep, 0x77, WD_FOREVER), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 60 * BT_MS), -WD_E_TIMEOUT);
    /* Needs RECV. */
    long send_only = BT_OK(wd_cap_copy((wd_handle_t)ep, WD_NULL, WD_RIGHT_SEND, 0));
    BT_CHECK_EQ(wd_endpoint_timer((wd_handle_t)send_only, 1, 1), -WD_E_NO_RIGHTS);
}
