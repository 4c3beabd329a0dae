/*
 * t_notify_helpers.c - the notification tests' shared helpers and the
 * "notify" helper role (see t_notify.h for the role's commands).
 */
#include <stdlib.h>
#include <string.h>

#include <warden/thread.h>

#include "boot_tests.h"
#include "t_notify.h"

uint64_t nt_signals_now(void)
{
    struct wd_system_info info;
    return wd_system_info(&info) == 0 ? info.notify_signals : 0;
}

uint64_t nt_wakeups_now(void)
{
    struct wd_system_info info;
    return wd_system_info(&info) == 0 ? info.notify_wakeups : 0;
}

uint64_t nt_cap_flags(wd_handle_t h)
{
    struct wd_cap_info info;
    long r = wd_cap_info(h, &info);
    return r < 0 ? (uint64_t)r : info.flags;
}

uint64_t nt_pool_used(void)
{
    struct wd_pool_info info;
    return wd_pool_info(bt_pool(), &info) == 0 ? info.used : 0;
}

wd_handle_t nt_copy_of(long cap, uint64_t rights, uint64_t badge)
{
    long c = BT_OK(wd_cap_copy((wd_handle_t)cap, WD_NULL, rights, badge));
    return c < 0 ? WD_NULL : (wd_handle_t)c;
}

/* Receives one message with label from a helper on ep; false (a failure
 * reported) if none comes. */
bool nt_get_report(wd_handle_t ep, uint32_t label, struct wd_msg *msg)
{
    long r = wd_recv(ep, msg, REPORT_TIMEOUT);
    if (r == 0 && wd_msg_label(msg->info) == label)
        return true;
    printf("# expected a helper's message 0x%x, got %s (label 0x%x)\n", label, r < 0 ? wd_error_name(r) : "a message",
           r == 0 ? wd_msg_label(msg->info) : 0);
    bt_failures++;
    return false;
}

/* Starts "notify wait <how>" on notification n and waits for its READY, then
 * lets it block. */
wd_handle_t nt_start_waiter(wd_handle_t n, wd_handle_t report, const char *how, wd_handle_t fault_ep,
                                uint64_t badge)
{
    char args[64];
    snprintf(args, sizeof args, "notify wait %s", how);
    wd_handle_t caps[2] = { n, report };
    wd_handle_t h = bt_spawn_helper(args, caps, 2, fault_ep, badge);
    struct wd_msg msg;
    if (h != WD_NULL && nt_get_report(report, NT_READY, &msg))
        wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    return h;
}

/* Kills a helper and waits for its EXIT message (which goes away with the
 * process object, so before its capability is deleted), then forgets it. */
void nt_kill_helper(wd_handle_t h, wd_handle_t fault_ep, uint64_t badge)
{
    struct wd_msg msg;
    BT_OK(wd_process_kill(h, 0));
    BT_CHECK_EQ(bt_wait_kernel_message(fault_ep, WD_LABEL_EXIT, badge, &msg, REPORT_TIMEOUT), 0);
    BT_CHECK_EQ(msg.w[3], WD_EXIT_KILLED);
    bt_release_helper(h);
}

/* Charges all that is left of bt_pool() to one sub-pool, so nothing more
 * can be charged to it until that is deleted. Returns the sub-pool. */
long nt_exhaust_pool(void)
{
    struct wd_pool_info before, after;
    BT_OK(wd_pool_info(bt_pool(), &before));
    long probe = BT_OK(wd_pool_create(bt_pool(), WD_PAGE_SIZE));
    BT_OK(wd_pool_info(bt_pool(), &after));
    BT_OK(wd_cap_delete((wd_handle_t)probe));
    uint64_t object = after.used - before.used - WD_PAGE_SIZE;     /* a pool object's own cost */
    long sub = BT_OK(wd_pool_create(bt_pool(), before.budget - before.used - object));
    BT_OK(wd_pool_info(bt_pool(), &after));
    BT_CHECK_EQ(after.used, after.budget);
    return sub;
}

static void nt_waiter_main(void *arg)
{
    struct nt_waiter *w = arg;
    w->result = wd_notify_wait(w->n, w->timeout);
    w->done = true;
}

void nt_start_thread_waiter(struct nt_waiter *w, wd_handle_t n, uint64_t timeout)
{
    *w = (struct nt_waiter){ .n = n, .timeout = timeout, .result = 1 };
    BT_OK(wd_thread_start(nt_waiter_main, w, THREAD_PRIORITY));
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
}

bool nt_finished(volatile bool *done, unsigned ms)
{
    for (unsigned i = 0; i < ms / 5 && !*done; i++)
        wd_thread_sleep(5 * BT_MS);
    return *done;
}

/* A WD_LABEL_NOTIFY message: its badge, w0 the signals coalesced, w1 the
 * bits, w2 when it was delivered (not in the future). */
void nt_check_notify_msg(const struct wd_msg *msg, uint64_t badge, uint64_t count, uint64_t bits)
{
    BT_CHECK_EQ(wd_msg_label(msg->info), WD_LABEL_NOTIFY);
    BT_CHECK_EQ(wd_msg_nwords(msg->info), 3);
    BT_CHECK(msg->w[2] > 0 && msg->w[2] <= (uint64_t)wd_time_now());
    BT_CHECK_EQ(wd_msg_ncaps(msg->info), 0);
    BT_CHECK_EQ(msg->badge, badge);
    BT_CHECK_EQ(msg->w[0], count);
    BT_CHECK_EQ(msg->w[1], bits);
}

/* ---- the helper role ---- */

void nt_report_to(wd_handle_t ep, uint32_t label, uint64_t w0, uint64_t w1)
{
    struct wd_msg msg = { .info = wd_msg_info(label, 2, 0), .w = { w0, w1 } };
    wd_send(ep, &msg, WD_FOREVER);
}

int bt_notify_helper_main(int argc, char **argv)
{
    const wd_handle_t *caps = wd_start_info->caps;
    const char *what = argv[3];
    if (strcmp(what, "wait") == 0 && argc >= 5) {
        uint64_t timeout = strcmp(argv[4], "forever") == 0 ? WD_FOREVER : strtoull(argv[4], NULL, 0) * BT_MS;
        nt_report_to(caps[1], NT_READY, 0, 0);
        uint64_t t0 = (uint64_t)wd_time_now();
        long r = wd_notify_wait(caps[0], timeout);
        nt_report_to(caps[1], NT_RESULT, (uint64_t)r, (uint64_t)wd_time_now() - t0);
        return 0;
    }
    if (strcmp(what, "recv") == 0) {
        struct wd_msg msg = { 0 };
        nt_report_to(caps[1], NT_READY, 0, 0);
        long r = wd_recv(caps[0], &msg, WD_FOREVER);
        nt_report_to(caps[1], NT_RESULT, (uint64_t)r, r == 0 ? wd_msg_label(msg.info) : 0);
        return 0;
    }
    if (strcmp(what, "signal") == 0 && argc >= 6) {
        unsigned count = (unsigned)strtoull(argv[4], NULL, 0), ok = 0;
        uint64_t bits = strtoull(argv[5], NULL, 0);
        long last_error = 0;
        for (unsigned i = 0; i < count; i++) {
            long r = wd_notify_signal(caps[0], bits);
            if (r == 0)
                ok++;
            else
                last_error = r;
        }
        nt_report_to(caps[1], NT_RESULT, ok, (uint64_t)last_error);
        return 0;
    }
    if (strcmp(what, "call") == 0) {
        struct wd_msg msg = { .info = wd_msg_info(NT_CALL, 1, 0), .w = { NT_CALL_WORD } };
        long r = wd_call(caps[0], &msg, 10000 * BT_MS);
        return r == 0 && msg.w[0] == NT_CALL_WORD + 1 ? 0 : 5;
    }
    if (strcmp(what, "watch") == 0 && argc >= 5) {
        long r = wd_cap_watch(caps[0], caps[1], strtoull(argv[4], NULL, 0));
        struct wd_cap_info info = { 0 };
        wd_cap_info(caps[0], &info);
        nt_report_to(caps[2], NT_RESULT, (uint64_t)r, info.flags);
        for (;;)
            wd_thread_sleep(1000 * BT_MS);
    }
    printf("# unknown notify helper %s\n", what);
    return 4;
}

