/*
 * t_notify.h - what the notification tests share (t_notify.c,
 * t_notify_bind.c, t_notify_errors.c, t_cap_watch.c and their helpers in
 * t_notify_helpers.c): the helper role's labels, counters read from
 * system_info, capability copies, starting and killing waiter helpers, a
 * waiting thread of this process, and exhausting the test's pool.
 *
 * Helper role "notify <what> ..." (bt_notify_helper_main, started through
 * helpers.c) reports to an endpoint with wd_send:
 *   wait <ms|forever>   caps[0] notification, caps[1] report endpoint:
 *                       READY, then notify_wait; RESULT w0 = its result,
 *                       w1 = ns it waited
 *   recv                caps[0] endpoint, caps[1] report endpoint: READY,
 *                       then wd_recv(FOREVER) on caps[0]; RESULT w0 = its
 *                       result, w1 = the label received (0 if none)
 *   signal <n> <bits>   caps[0] notification, caps[1] report endpoint:
 *                       n signals; RESULT w0 = how many returned 0,
 *                       w1 = the last error (0 if none)
 *   call                caps[0] endpoint: one call, label NT_CALL,
 *                       w0 = NT_CALL_WORD; exits 0 if the reply is w0 + 1
 *   watch <bits>        caps[0] a capability, caps[1] notification,
 *                       caps[2] report endpoint: cap_watch(caps[0],
 *                       caps[1], bits); RESULT w0 = its result, w1 =
 *                       caps[0]'s cap_info flags; then sleeps until killed
 */
#ifndef WARDEN_TESTS_T_NOTIFY_H
#define WARDEN_TESTS_T_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <warden/abi.h>

#define NT_READY 0x4E01
#define NT_RESULT 0x4E02
#define NT_CALL 0x4E03
#define NT_CALL_WORD 0xC0FFEEull
#define NT_SETTLE_MS 30                 /* long enough for a ready helper to block */
#define REPORT_TIMEOUT (5000 * BT_MS)

#define ALL_RIGHTS (WD_RIGHT_SEND | WD_RIGHT_RECV | WD_RIGHT_CONTROL | WD_RIGHT_GRANT)
#define BIT63 (1ull << 63)
#define THREAD_PRIORITY 16              /* as the test's own thread */

/* A thread in this process that waits on a notification. */
struct nt_waiter {
    wd_handle_t n;
    uint64_t timeout;
    volatile long result;
    volatile bool done;
};

/* system_info's notify_signals and notify_wakeups now. */
uint64_t nt_signals_now(void);
uint64_t nt_wakeups_now(void);
/* cap_info's flags of h (a negative error as is). */
uint64_t nt_cap_flags(wd_handle_t h);
/* bt_pool()'s charge now. */
uint64_t nt_pool_used(void);
/* A copy of cap with rights and badge (WD_NULL, a failure counted, if refused). */
wd_handle_t nt_copy_of(long cap, uint64_t rights, uint64_t badge);
/* Receives one message with label from a helper on ep; false (a failure
 * reported) if none comes. */
bool nt_get_report(wd_handle_t ep, uint32_t label, struct wd_msg *msg);
/* Starts "notify wait <how>" on notification n, waits for its READY, then
 * lets it block. */
wd_handle_t nt_start_waiter(wd_handle_t n, wd_handle_t report, const char *how, wd_handle_t fault_ep,
                            uint64_t badge);
/* Kills a helper, waits for its EXIT message on fault_ep, forgets it. */
void nt_kill_helper(wd_handle_t h, wd_handle_t fault_ep, uint64_t badge);
/* Charges all that is left of bt_pool() to one sub-pool; returns it. */
long nt_exhaust_pool(void);
/* Starts a thread of this process in notify_wait(n, timeout) and lets it block. */
void nt_start_thread_waiter(struct nt_waiter *w, wd_handle_t n, uint64_t timeout);
/* Waits up to ms for *done; returns it. */
bool nt_finished(volatile bool *done, unsigned ms);
/* Checks a WD_LABEL_NOTIFY message: badge, w0 = count of signals, w1 = bits. */
void nt_check_notify_msg(const struct wd_msg *msg, uint64_t badge, uint64_t count, uint64_t bits);
/* Sends a two-word message with label to ep (the helper role's reports). */
void nt_report_to(wd_handle_t ep, uint32_t label, uint64_t w0, uint64_t w1);

#endif
