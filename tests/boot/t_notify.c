/*
 * t_notify.c - notifications themselves: signals coalesce and never
 * block; badges select the bits a capability may raise; a waiter in
 * another process is woken with the exact bits; waiters that die or lose
 * the object (notification or endpoint) they wait on.
 */
#include <stdlib.h>
#include <string.h>

#include <warden/thread.h>

#include "boot_tests.h"
#include "t_notify.h"

/* ---- 1. coalescing ---- */

/* Several signals before any wait: one poll or wait returns their OR and
 * clears the word; the next gets nothing; the kernel counts every signal
 * and wakes nobody. */
void test_notify_coalesces(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    if (n < 0)
        return;
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)n, &info), 0);
    BT_CHECK_EQ(info.type, WD_TYPE_NOTIFICATION);
    BT_CHECK_EQ(info.rights, ALL_RIGHTS);
    BT_CHECK_EQ(info.badge, 0);
    BT_CHECK_EQ(info.flags, 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);          /* a new notification is empty */

    static const uint64_t bits[] = { 0x1, 0x4, 0x1, 0x100, 1ull << 62, 0x4 };
    const unsigned count = sizeof bits / sizeof bits[0];
    uint64_t s0 = nt_signals_now(), w0 = nt_wakeups_now();
    for (unsigned i = 0; i < count; i++)
        BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, bits[i]), 0);
    BT_CHECK_EQ(nt_signals_now() - s0, count);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 0);                       /* nobody waits: nobody woken */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x105 | (1ull << 62));
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_NO_WAIT), -WD_E_WOULD_BLOCK);

    /* The same through wait: pending bits return at once, even with FOREVER. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x30), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x03), 0);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_NO_WAIT), 0x33);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x8), 0);
    uint64_t t0 = (uint64_t)wd_time_now();
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_FOREVER), 0x8);
    BT_CHECK((uint64_t)wd_time_now() - t0 < 10 * BT_MS);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);

    /* Every one of the 63 bits at once comes back as a positive value. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, WD_NOTIFY_BITS), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x1), 0);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_NO_WAIT), (long)WD_NOTIFY_BITS);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(nt_signals_now() - s0, count + 5);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 0);
    BT_OK(wd_cap_delete((wd_handle_t)n));
}

/* ---- 2. a signal never blocks ---- */

/* 10,000 signals with nobody waiting each return 0 at once; a helper in
 * another process signalling a notification nobody waits on is not held
 * up: it reports back and exits. */
void test_notify_signal_never_blocks(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    long fault = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || report < 0 || fault < 0)
        return;
    const unsigned count = 10000;
    uint64_t s0 = nt_signals_now(), t0 = (uint64_t)wd_time_now();
    unsigned ok = 0;
    for (unsigned i = 0; i < count; i++)
        if (wd_notify_signal((wd_handle_t)n, 1ull << (i % 63)) == 0)
            ok++;
    uint64_t took = (uint64_t)wd_time_now() - t0;
    BT_CHECK_EQ(ok, count);
    BT_CHECK_EQ(nt_signals_now() - s0, count);
    BT_CHECK(took < 2000 * BT_MS);
    printf("# %u signals in %llu us\n", count, (unsigned long long)(took / 1000));
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), (long)WD_NOTIFY_BITS);

    /* Another process signals 1000 times (SEND only) and is never held up. */
    wd_handle_t send = nt_copy_of(n, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    wd_handle_t caps[2] = { send, (wd_handle_t)report };
    s0 = nt_signals_now();
    BT_CHECK(bt_spawn_helper("notify signal 1000 0x2", caps, 2, (wd_handle_t)fault, 0x51) != WD_NULL);
    struct wd_msg msg;
    if (nt_get_report((wd_handle_t)report, NT_RESULT, &msg)) {
        BT_CHECK_EQ(msg.w[0], 1000);
        BT_CHECK_EQ((long)msg.w[1], 0);
    }
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)fault, WD_LABEL_EXIT, 0x51, &msg, REPORT_TIMEOUT), 0);
    BT_CHECK_EQ(msg.w[2], 0);                                 /* exit status */
    BT_CHECK_EQ(msg.w[3], WD_EXIT_NORMAL);
    BT_CHECK_EQ(nt_signals_now() - s0, 1000);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x2);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
}

/* ---- 3. badges ---- */

/* A badged capability raises only its badge's bits: 0 means all of them, a
 * subset is allowed, anything outside is NO_RIGHTS; an unbadged capability
 * must name bits; bit 63 is never a notification bit. Refused signals
 * change nothing. Badges cannot be changed by copying. Two badged copies in
 * two processes raise distinct bits that arrive ORed. */
void test_notify_badges_select_bits(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || report < 0)
        return;
    wd_handle_t b = nt_copy_of(n, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0x0F0);
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info(b, &info), 0);
    BT_CHECK_EQ(info.badge, 0x0F0);
    BT_CHECK_EQ(info.rights, WD_RIGHT_SEND | WD_RIGHT_GRANT);

    uint64_t s0 = nt_signals_now();
    BT_CHECK_EQ(wd_notify_signal(b, 0), 0);                   /* all of the badge */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x0F0);
    BT_CHECK_EQ(wd_notify_signal(b, 0x030), 0);               /* a subset */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x030);
    BT_CHECK_EQ(wd_notify_signal(b, 0x0F0), 0);               /* exactly the badge */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x0F0);
    BT_CHECK_EQ(nt_signals_now() - s0, 3);
    /* Outside the badge, wholly or in part: refused, nothing raised. */
    s0 = nt_signals_now();
    BT_CHECK_EQ(wd_notify_signal(b, 0x100), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_signal(b, 0x110), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_signal(b, 0x001), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_signal(b, BIT63 | 0x10), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_signal(b, ~0ull), -WD_E_NO_RIGHTS);
    /* Unbadged: bits 0 is no bits; bit 63 is refused alone or with others. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, BIT63), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, BIT63 | 1), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, ~0ull), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(nt_signals_now() - s0, 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    /* A badge that includes bit 63: bits 0 would raise it, so it is refused;
     * its other bits can still be named. */
    wd_handle_t high = nt_copy_of(n, WD_RIGHT_SEND, BIT63 | 0x1);
    BT_CHECK_EQ(wd_notify_signal(high, 0), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_notify_signal(high, BIT63), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_notify_signal(high, 0x1), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x1);

    /* The badge sticks: re-badging is refused as for any capability; a copy
     * with badge 0 keeps it, and its rules. */
    BT_CHECK_EQ(wd_cap_copy(b, WD_NULL, WD_RIGHT_SEND, 0xF00), -WD_E_INVALID_ARG);
    wd_handle_t b2 = nt_copy_of(b, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_info(b2, &info), 0);
    BT_CHECK_EQ(info.badge, 0x0F0);
    BT_CHECK_EQ(wd_notify_signal(b2, 0xF00), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_signal(b2, 0), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x0F0);

    /* Two badged copies, each in its own process, raising all their bits:
     * the bits arrive ORed; a third asks for bits outside its badge and is refused. */
    wd_handle_t low = nt_copy_of(n, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0x00000001);
    wd_handle_t top = nt_copy_of(n, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0x40000000000ull);
    wd_handle_t caps_low[2] = { low, (wd_handle_t)report };
    wd_handle_t caps_top[2] = { top, (wd_handle_t)report };
    wd_handle_t caps_bad[2] = { b, (wd_handle_t)report };
    BT_CHECK(bt_spawn_helper("notify signal 3 0", caps_low, 2, WD_NULL, 0) != WD_NULL);
    BT_CHECK(bt_spawn_helper("notify signal 2 0", caps_top, 2, WD_NULL, 0) != WD_NULL);
    BT_CHECK(bt_spawn_helper("notify signal 1 0x100", caps_bad, 2, WD_NULL, 0) != WD_NULL);
    unsigned oks = 0, refused = 0;
    for (int i = 0; i < 3; i++) {
        struct wd_msg msg;
        if (!nt_get_report((wd_handle_t)report, NT_RESULT, &msg))
            break;
        oks += (unsigned)msg.w[0];
        if ((long)msg.w[1] == -WD_E_NO_RIGHTS)
            refused++;
        else
            BT_CHECK_EQ((long)msg.w[1], 0);
    }
    BT_CHECK_EQ(oks, 5);
    BT_CHECK_EQ(refused, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x40000000001ull);
}

/* ---- 4. waking a waiter ---- */

/* A helper blocked in notify_wait(FOREVER) is woken by our signal and gets
 * exactly its bits (a wake-up, not bits it found waiting); waiters in one
 * process are woken one per signal in FIFO order; a timeout gives TIMEOUT
 * after at least that long and leaves no waiter behind; WD_NO_WAIT gives
 * WOULD_BLOCK. */
void test_notify_wakes_other_process(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    long fault = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || report < 0 || fault < 0)
        return;
    struct wd_msg msg;
    wd_handle_t recv = nt_copy_of(n, WD_RIGHT_RECV | WD_RIGHT_GRANT, 0);
    wd_handle_t h = nt_start_waiter(recv, (wd_handle_t)report, "forever", (wd_handle_t)fault, 0x41);
    BT_CHECK(h != WD_NULL);
    BT_CHECK_EQ(wd_recv((wd_handle_t)report, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);   /* still waiting */
    uint64_t w0 = nt_wakeups_now(), s0 = nt_signals_now();
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x2A5), 0);
    if (nt_get_report((wd_handle_t)report, NT_RESULT, &msg)) {
        BT_CHECK_EQ((long)msg.w[0], 0x2A5);
        BT_CHECK(msg.w[1] >= (NT_SETTLE_MS / 2) * BT_MS);    /* it really waited */
    }
    BT_CHECK_EQ(nt_wakeups_now() - w0, 1);
    BT_CHECK_EQ(nt_signals_now() - s0, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);          /* the waiter took the bits */
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)fault, WD_LABEL_EXIT, 0x41, &msg, REPORT_TIMEOUT), 0);
    BT_CHECK_EQ(msg.w[3], WD_EXIT_NORMAL);
    BT_CHECK_EQ(msg.w[2], 0);

    /* Two waiting threads: one signal wakes the first only, the next the second. */
    static struct nt_waiter a, b;
    nt_start_thread_waiter(&a, (wd_handle_t)n, WD_FOREVER);
    nt_start_thread_waiter(&b, (wd_handle_t)n, WD_FOREVER);
    BT_CHECK(!a.done && !b.done);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x1), 0);
    BT_CHECK(nt_finished(&a.done, 2000));
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    BT_CHECK_EQ(a.result, 0x1);
    BT_CHECK(!b.done);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x2), 0);
    BT_CHECK(nt_finished(&b.done, 2000));
    BT_CHECK_EQ(b.result, 0x2);

    /* A timeout: TIMEOUT after at least that long; then nobody waits, so a
     * signal wakes no one and stays in the word. */
    uint64_t t0 = (uint64_t)wd_time_now();
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, 30 * BT_MS), -WD_E_TIMEOUT);
    uint64_t waited = (uint64_t)wd_time_now() - t0;
    BT_CHECK(waited >= 30 * BT_MS);
    BT_CHECK(waited < 2000 * BT_MS);
    static struct nt_waiter c;
    nt_start_thread_waiter(&c, (wd_handle_t)n, 20 * BT_MS);
    BT_CHECK(nt_finished(&c.done, 2000));
    BT_CHECK_EQ(c.result, -WD_E_TIMEOUT);
    w0 = nt_wakeups_now();
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x4), 0);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x4);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
}

/* ---- 7. waiters that die or lose the notification ---- */

/* A helper killed while it waits leaves nothing behind: later signals
 * work, wake nobody and stay in the word (and the leak check sees the
 * waiter's reference dropped). A thread waiting when the last capability
 * with RECV goes, by cap_delete or by its parent's revoke and delete,
 * wakes with DEAD; not while one is left. */
void test_notify_dead_waiters(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    long fault = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || report < 0 || fault < 0)
        return;
    struct wd_msg msg;
    /* Killed while waiting. */
    wd_handle_t recv = nt_copy_of(n, WD_RIGHT_RECV | WD_RIGHT_GRANT, 0);
    wd_handle_t h = nt_start_waiter(recv, (wd_handle_t)report, "forever", (wd_handle_t)fault, 0x71);
    BT_CHECK_EQ(wd_recv((wd_handle_t)report, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);   /* blocked */
    nt_kill_helper(h, (wd_handle_t)fault, 0x71);
    uint64_t w0 = nt_wakeups_now();
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x7), 0);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x7);
    BT_CHECK_EQ(wd_recv((wd_handle_t)report, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);   /* it never reported */
    BT_OK(wd_cap_delete(recv));

    /* A waiting thread, while RECV capabilities remain, keeps waiting; when
     * the last one goes it wakes with DEAD. SEND still signals (no waiter). */
    long m = BT_OK(wd_notify_create(bt_pool()));
    wd_handle_t m_recv = nt_copy_of(m, WD_RIGHT_RECV, 0);
    wd_handle_t m_send = nt_copy_of(m, WD_RIGHT_SEND, 0);
    static struct nt_waiter a;
    nt_start_thread_waiter(&a, m_recv, WD_FOREVER);
    BT_OK(wd_cap_delete((wd_handle_t)m));                    /* m_recv still has RECV */
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    BT_CHECK(!a.done);
    BT_OK(wd_cap_delete(m_recv));                            /* the last RECV capability */
    BT_CHECK(nt_finished(&a.done, 2000));
    BT_CHECK_EQ(a.result, -WD_E_DEAD);
    w0 = nt_wakeups_now();
    BT_CHECK_EQ(wd_notify_signal(m_send, 0x1), 0);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 0);
    BT_OK(wd_cap_delete(m_send));

    /* The same with revoke: the waiter's copy goes with its ancestor, the
     * waiter wakes with DEAD when that was the last RECV capability. */
    long k = BT_OK(wd_notify_create(bt_pool()));
    wd_handle_t k_send = nt_copy_of(k, WD_RIGHT_SEND, 0);
    wd_handle_t k_parent = nt_copy_of(k, WD_RIGHT_RECV | WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    wd_handle_t k_child = nt_copy_of(k_parent, WD_RIGHT_RECV, 0);
    static struct nt_waiter b;
    nt_start_thread_waiter(&b, k_child, WD_FOREVER);
    BT_OK(wd_cap_delete((wd_handle_t)k));
    BT_CHECK(!b.done);
    BT_CHECK_EQ(wd_cap_revoke(k_parent), 1);                 /* k_child, the waiter's */
    BT_OK(wd_cap_delete(k_parent));                          /* now the last RECV capability */
    BT_CHECK(nt_finished(&b.done, 2000));
    BT_CHECK_EQ(b.result, -WD_E_DEAD);
    BT_OK(wd_cap_delete(k_send));
}

/* The helper's RESULT after its capability was revoked: DEAD, within
 * 500 ms. Returns the receive's result (0 when a report came). */
static long expect_dead_report(wd_handle_t report)
{
    struct wd_msg msg;
    long r = wd_recv(report, &msg, 500 * BT_MS);
    BT_CHECK_EQ(r, 0);
    if (r == 0) {
        BT_CHECK_EQ(wd_msg_label(msg.info), NT_RESULT);
        BT_CHECK_EQ((long)msg.w[0], -WD_E_DEAD);
    }
    return r;
}

/* A helper whose only capability with RECV is revoked by its creator
 * (cap_revoke on the parent) while it waits wakes with DEAD, and a later
 * signal is left for the notification's remaining holder: a revoked
 * process must not take bits it can no longer ask for. The creator keeps
 * its own RECV capability, as any creator that revokes one client does;
 * so a second thread of the creator's, waiting through a revoked copy,
 * keeps waiting (rights belong to the process) and gets the next signal. */
void test_notify_revoked_waiter_wakes_dead(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || report < 0)
        return;
    struct wd_msg msg;
    wd_handle_t given = nt_copy_of(n, WD_RIGHT_RECV | WD_RIGHT_GRANT, 0);
    wd_handle_t h = nt_start_waiter(given, (wd_handle_t)report, "forever", WD_NULL, 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)report, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);   /* it waits */
    BT_CHECK_EQ(wd_cap_revoke(given), 1);                    /* the helper's copy, its only one */
    long r = expect_dead_report((wd_handle_t)report);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x40), 0);
    if (r != 0 && wd_recv((wd_handle_t)report, &msg, 500 * BT_MS) == 0)
        printf("# the revoked helper was still waiting and took the next signal: it got 0x%llx\n",
               (unsigned long long)msg.w[0]);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x40);       /* the signal is ours, not the revoked waiter's */
    bt_release_helper(h);

    /* Rights are the process's, not the thread's: a second thread of ours
     * waiting through a copy that is revoked keeps waiting, because this
     * process still holds n with RECV, and the next signal wakes it. */
    wd_handle_t parent = nt_copy_of(n, WD_RIGHT_RECV | WD_RIGHT_GRANT, 0);
    wd_handle_t child = nt_copy_of(parent, WD_RIGHT_RECV, 0);
    static struct nt_waiter w;
    nt_start_thread_waiter(&w, child, WD_FOREVER);
    BT_CHECK(!w.done);
    BT_CHECK_EQ(wd_cap_revoke(parent), 1);
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    BT_CHECK(!w.done);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x80), 0);
    BT_CHECK(nt_finished(&w.done, 500));
    BT_CHECK_EQ(w.result, 0x80);
    BT_OK(wd_cap_delete(parent));
}

/* The same for an endpoint: a helper blocked in wd_recv through its only
 * receive capability, revoked by the endpoint's creator, wakes with DEAD;
 * the endpoint stays open (the creator still receives) and a later send
 * finds no receiver waiting, so the revoked helper cannot take requests. */
void test_ipc_revoked_receiver_wakes_dead(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    if (ep < 0 || report < 0)
        return;
    struct wd_msg msg;
    wd_handle_t given = nt_copy_of(ep, WD_RIGHT_RECV | WD_RIGHT_GRANT, 0);
    wd_handle_t caps[2] = { given, (wd_handle_t)report };
    wd_handle_t h = bt_spawn_helper("notify recv", caps, 2, WD_NULL, 0);
    if (h == WD_NULL || !nt_get_report((wd_handle_t)report, NT_READY, &msg))
        return;
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    struct wd_msg probe = { .info = wd_msg_info(NT_CALL, 1, 0), .w = { 1 } };
    BT_CHECK_EQ(wd_cap_revoke(given), 1);                    /* the helper's copy, its only one */
    expect_dead_report((wd_handle_t)report);
    BT_CHECK_EQ(wd_send((wd_handle_t)ep, &probe, WD_NO_WAIT), -WD_E_WOULD_BLOCK);   /* nobody receives */
    BT_CHECK_EQ(nt_cap_flags(given) & WD_CAP_CLOSED, 0);     /* still open: we hold RECV */
    bt_release_helper(h);
    BT_OK(wd_cap_delete(given));
}

