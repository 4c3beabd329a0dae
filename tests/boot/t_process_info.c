/*
 * t_process_info.c - process_info: what a process is and has used (its
 * id, threads, death, the CPU time its threads ran, its pool), for the
 * caller and for a process it controls; refused without CONTROL.
 */
#include <string.h>
#include <warden/syscalls.h>

#include "boot_tests.h"

void test_process_info(void)
{
    struct wd_process_info me, later;
    BT_CHECK_EQ(wd_process_info(WD_NULL, &me), 0);
    BT_CHECK_EQ(me.pid, wd_start_info->process_id);
    BT_CHECK(me.live_threads >= 1);
    BT_CHECK_EQ(me.dead, 0);
    BT_CHECK(me.pool_budget > 0 && me.pool_used > 0 && me.pool_used <= me.pool_budget);
    BT_CHECK_EQ(wd_process_info(WD_NULL, (struct wd_process_info *)8), -WD_E_BAD_ADDRESS);
    /* A spinning helper runs while we sleep: its CPU time grows, ours only by our own runs. */
    wd_handle_t spin = bt_spawn_helper("spin", NULL, 0, WD_NULL, 0);
    BT_CHECK(spin != WD_NULL);
    struct wd_process_info a, b;
    BT_CHECK_EQ(wd_process_info(spin, &a), 0);
    BT_CHECK(a.pid != me.pid);
    BT_CHECK_EQ(a.live_threads, 1);
    wd_thread_sleep(50 * BT_MS);
    BT_CHECK_EQ(wd_process_info(spin, &b), 0);
    BT_CHECK(b.cpu_tsc > a.cpu_tsc);
    BT_CHECK_EQ(wd_process_info(WD_NULL, &later), 0);
    BT_CHECK(later.cpu_tsc >= me.cpu_tsc);
    BT_CHECK(later.syscalls > me.syscalls);     /* the calls in between were ours */
    /* Without CONTROL: refused. */
    long weak = BT_OK(wd_cap_copy(spin, WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_process_info((wd_handle_t)weak, &a), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_process_info(bt_pool(), &a), -WD_E_WRONG_TYPE);
    /* Dead: still readable while the handle lives, and says so. */
    BT_CHECK_EQ(wd_process_kill(spin, 0), 0);
    BT_CHECK_EQ(wd_process_info(spin, &a), 0);
    BT_CHECK_EQ(a.dead, 1);
    BT_CHECK_EQ(a.live_threads, 0);
    wd_cap_delete((wd_handle_t)weak);
    bt_release_helper(spin);
}
