/*
 * t_cap_watch.c - cap_watch: a signal when a capability ends (revoke,
 * its lease, its holder's death) or its endpoint closes; one watch per
 * capability; its errors.
 */
#include <stdlib.h>
#include <string.h>

#include <warden/thread.h>

#include "boot_tests.h"
#include "t_notify.h"

/* ---- 9. cap_watch ---- */

/* A watch fires, with exactly its bits, once, when a copy goes with an
 * ancestor's revoke or with the lease it derives from; not when the
 * watched handle itself is deleted, nor when an ancestor is deleted (the
 * copy lives on). The flag shows while a watch is set; the record is
 * charged to the caller's pool and given back. */
void test_cap_watch_fires_on_revoke_not_delete(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || ep < 0)
        return;
    wd_handle_t a = nt_copy_of(ep, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    wd_handle_t b = nt_copy_of(a, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(nt_cap_flags(b), 0);
    uint64_t used = nt_pool_used();
    BT_CHECK_EQ(wd_cap_watch(b, (wd_handle_t)n, 0x10), 0);
    uint64_t record = nt_pool_used() - used;
    BT_CHECK(record > 0 && record <= 256);                   /* charged to our pool */
    BT_CHECK_EQ(nt_cap_flags(b), WD_CAP_WATCHED);
    BT_CHECK_EQ(nt_cap_flags(a), 0);                             /* only that capability */
    BT_CHECK_EQ(nt_cap_flags((wd_handle_t)ep), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    uint64_t s0 = nt_signals_now();
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 2);           /* a and b */
    BT_CHECK_EQ(nt_signals_now() - s0, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x10);
    BT_CHECK_EQ(nt_pool_used(), used);                           /* the record went with b */
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info(b, &info), -WD_E_STALE_HANDLE);

    /* cap_delete of the watched handle itself: no signal, record freed. */
    wd_handle_t c = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n, 0x20), 0);
    s0 = nt_signals_now();
    BT_OK(wd_cap_delete(c));
    BT_CHECK_EQ(nt_signals_now() - s0, 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(nt_pool_used(), used);

    /* Deleting an ancestor re-parents the watched copy: it has not ended. */
    a = nt_copy_of(ep, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    b = nt_copy_of(a, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(b, (wd_handle_t)n, 0x40), 0);
    BT_OK(wd_cap_delete(a));
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(nt_cap_flags(b), WD_CAP_WATCHED);
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 1);           /* ...and still reached by revoke */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x40);

    /* A watch on the root capability fires when it is revoked from... nowhere:
     * revoking it deletes its children, not itself. */
    BT_CHECK_EQ(wd_cap_watch((wd_handle_t)ep, (wd_handle_t)n, 0x80), 0);
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(nt_cap_flags((wd_handle_t)ep), WD_CAP_WATCHED);
    BT_CHECK_EQ(wd_cap_watch((wd_handle_t)ep, WD_NULL, 0), 0);

    /* A copy derived from a lease ends with the lease (even by cap_delete of
     * the lease); a watch on the lease itself is quiet when it is deleted. */
    long frame = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    if (frame > 0) {
        wd_handle_t lease = nt_copy_of(frame, WD_RIGHT_READ | WD_RIGHT_MAP | WD_RIGHT_GRANT, 0);
        wd_handle_t derived = nt_copy_of(lease, WD_RIGHT_READ | WD_RIGHT_MAP, 0);
        BT_CHECK_EQ(nt_cap_flags(lease), WD_CAP_LEASE);
        BT_CHECK_EQ(wd_cap_watch(derived, (wd_handle_t)n, 0x100), 0);
        BT_CHECK_EQ(wd_cap_watch(lease, (wd_handle_t)n, 0x200), 0);
        BT_CHECK_EQ(nt_cap_flags(derived), WD_CAP_LEASE | WD_CAP_WATCHED);
        s0 = nt_signals_now();
        BT_OK(wd_cap_delete(lease));
        BT_CHECK_EQ(nt_signals_now() - s0, 1);
        BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x100);
        BT_CHECK_EQ(wd_cap_info(derived, &info), -WD_E_STALE_HANDLE);
        BT_OK(wd_cap_delete((wd_handle_t)frame));
    }
    /* The watch keeps its notification: deleting our only capability to it
     * changes nothing for the watch (the leak check sees it freed later). */
    long n2 = BT_OK(wd_notify_create(bt_pool()));
    c = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n2, 0x1), 0);
    BT_OK(wd_cap_delete((wd_handle_t)n2));
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 1);
    BT_CHECK_EQ(nt_pool_used(), used);
}

/* A watched endpoint capability's watch fires when the endpoint closes
 * (the last RECV capability goes, here also by its holder's death), not
 * before, and at once when it is already closed; cap_info says CLOSED.
 * It fires once: then it is spent, and deleting the capability later
 * signals nothing. */
void test_cap_watch_endpoint_closes(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || ep < 0)
        return;
    wd_handle_t send = nt_copy_of(ep, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    wd_handle_t recv = nt_copy_of(ep, WD_RIGHT_RECV, 0);
    BT_CHECK_EQ(wd_cap_watch(send, (wd_handle_t)n, 0x1), 0);
    BT_OK(wd_cap_delete((wd_handle_t)ep));                   /* recv still receives */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(nt_cap_flags(send), WD_CAP_WATCHED);
    uint64_t s0 = nt_signals_now();
    BT_OK(wd_cap_delete(recv));                              /* closed */
    BT_CHECK_EQ(nt_signals_now() - s0, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x1);
    BT_CHECK_EQ(nt_cap_flags(send), WD_CAP_CLOSED);          /* the watch is spent */
    struct wd_msg msg = { .info = wd_msg_info(1, 0, 0) };
    BT_CHECK_EQ(wd_send(send, &msg, WD_NO_WAIT), -WD_E_DEAD);
    /* Already closed: the signal comes at once. */
    wd_handle_t later = nt_copy_of(send, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(nt_cap_flags(later), WD_CAP_CLOSED);
    s0 = nt_signals_now();
    BT_CHECK_EQ(wd_cap_watch(later, (wd_handle_t)n, 0x2), 0);
    BT_CHECK_EQ(nt_signals_now() - s0, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x2);
    BT_CHECK_EQ(nt_cap_flags(later), WD_CAP_CLOSED);         /* spent at once */
    s0 = nt_signals_now();
    BT_OK(wd_cap_delete(later));
    BT_OK(wd_cap_delete(send));
    BT_CHECK_EQ(nt_signals_now() - s0, 0);                   /* a watch fires once */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);

    /* A server's death closes its endpoint: a client's watch fires (init's
     * registry relies on this). */
    long ep2 = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t client = nt_copy_of(ep2, WD_RIGHT_SEND, 0);
    wd_handle_t caps[1] = { (wd_handle_t)ep2 };
    wd_handle_t server = bt_spawn_helper("block", caps, 1, WD_NULL, 0);
    BT_OK(wd_cap_delete((wd_handle_t)ep2));                  /* the server holds the only RECV */
    BT_CHECK_EQ(wd_cap_watch(client, (wd_handle_t)n, 0x4), 0);
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(nt_cap_flags(client), WD_CAP_WATCHED);
    bt_release_helper(server);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, 2000 * BT_MS), 0x4);
    BT_CHECK(nt_cap_flags(client) & WD_CAP_CLOSED);
    BT_OK(wd_cap_delete(client));
}

/* One watch per capability: a second cap_watch replaces the first (bits
 * and notification), WD_NULL removes it; only the live watch signals; a
 * replacement is not charged again. */
void test_cap_watch_replace_and_remove(void)
{
    long n1 = BT_OK(wd_notify_create(bt_pool()));
    long n2 = BT_OK(wd_notify_create(bt_pool()));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    if (n1 < 0 || n2 < 0 || ep < 0)
        return;
    uint64_t used = nt_pool_used();
    /* New bits on the same notification. */
    wd_handle_t c = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n1, 0x1), 0);
    uint64_t one = nt_pool_used();
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n1, 0x2), 0);
    BT_CHECK_EQ(nt_pool_used(), one);
    uint64_t s0 = nt_signals_now();
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 1);
    BT_CHECK_EQ(nt_signals_now() - s0, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n1), 0x2);
    /* Another notification. */
    c = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n1, 0x4), 0);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n2, 0x8), 0);
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n1), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n2), 0x8);
    /* Removed: no signal later, no flag, no charge. */
    c = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(c, WD_NULL, 0), 0);              /* nothing to remove: fine */
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n1, 0x10), 0);
    BT_CHECK_EQ(nt_cap_flags(c), WD_CAP_WATCHED);
    BT_CHECK_EQ(wd_cap_watch(c, WD_NULL, 0), 0);
    BT_CHECK_EQ(nt_cap_flags(c), 0);
    BT_CHECK_EQ(nt_pool_used(), used);
    s0 = nt_signals_now();
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 1);
    BT_CHECK_EQ(nt_signals_now() - s0, 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n1), 0);
    /* A badged notification capability: bits 0 is its badge, a subset is fine. */
    wd_handle_t nb = nt_copy_of(n2, WD_RIGHT_SEND, 0x300);
    c = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(c, nb, 0), 0);
    wd_handle_t d = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(d, nb, 0x100), 0);
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 2);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n2), 0x300);
    BT_CHECK_EQ(nt_pool_used(), used);
}

/* cap_watch's errors: those of notify_signal for the notification and its
 * bits, a handle for cap, and the caller's pool paying for the record. A
 * refused watch changes nothing: an earlier watch stays as it was. */
void test_cap_watch_errors(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || ep < 0)
        return;
    wd_handle_t c = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    wd_handle_t recv_only = nt_copy_of(n, WD_RIGHT_RECV | WD_RIGHT_CONTROL | WD_RIGHT_GRANT, 0);
    wd_handle_t nb = nt_copy_of(n, WD_RIGHT_SEND, 0xF0);
    uint64_t used = nt_pool_used();
    BT_CHECK_EQ(wd_cap_watch(c, recv_only, 0x1), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_cap_watch(c, nb, 0x1), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_cap_watch(c, nb, 0x1F0), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n, 0), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n, BIT63), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n, ~0ull), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)ep, 0x1), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(nt_cap_flags(c), 0);
    BT_CHECK_EQ(nt_pool_used(), used);                           /* nothing charged for them */
    /* A refused replacement leaves the watch in place. */
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n, 0x1), 0);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n, BIT63), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_cap_watch(c, recv_only, 0x2), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_cap_watch(c, nb, 0x2), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)ep, 0x2), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_cap_watch(c, 0xFFFF, 0x2), -WD_E_BAD_HANDLE);
    BT_CHECK_EQ(nt_cap_flags(c), WD_CAP_WATCHED);
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x1);
    BT_CHECK_EQ(nt_pool_used(), used);

    /* The record is charged to the caller's pool: with it full, POOL_EXHAUSTED. */
    c = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    wd_handle_t d = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    BT_CHECK_EQ(wd_cap_watch(d, (wd_handle_t)n, 0x4), 0);     /* made before the pool is full */
    long sub = nt_exhaust_pool();
    uint64_t full = nt_pool_used();
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n, 0x2), -WD_E_POOL_EXHAUSTED);
    BT_CHECK_EQ(nt_cap_flags(c), 0);
    BT_CHECK_EQ(nt_pool_used(), full);
    BT_CHECK_EQ(wd_cap_watch(d, (wd_handle_t)n, 0x8), 0);     /* a replacement needs no new record */
    BT_CHECK_EQ(wd_cap_watch(d, WD_NULL, 0), 0);              /* a removal neither */
    BT_CHECK(nt_pool_used() < full);
    BT_CHECK_EQ(wd_cap_watch(d, (wd_handle_t)n, 0x8), 0);     /* the freed record's budget again */
    BT_OK(wd_cap_delete((wd_handle_t)sub));
    BT_CHECK_EQ(wd_cap_watch(c, (wd_handle_t)n, 0x2), 0);
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)ep), 2);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0xA);
}

/* A watch on a capability to a helper process fires when that capability
 * is revoked (a process's death does not end capabilities to it; cap_info
 * says DEAD); a helper's own watch fires when the helper dies (its
 * capabilities are deleted with it). */
void test_cap_watch_process_and_holder_death(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    long fault = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || ep < 0 || report < 0 || fault < 0)
        return;
    struct wd_msg msg;
    wd_handle_t caps[3] = { (wd_handle_t)ep };
    wd_handle_t h = bt_spawn_helper("block", caps, 1, (wd_handle_t)fault, 0x91);
    if (h == WD_NULL)
        return;
    wd_handle_t pc = nt_copy_of(h, WD_RIGHT_CONTROL, 0);
    BT_CHECK_EQ(wd_cap_watch(pc, (wd_handle_t)n, 0x1), 0);
    BT_CHECK_EQ(nt_cap_flags(pc), WD_CAP_WATCHED);
    BT_CHECK_EQ(wd_cap_revoke(h), 2);                         /* pc, and the helper's own self capability */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x1);
    /* Its death ends no capability to it. */
    pc = nt_copy_of(h, WD_RIGHT_CONTROL, 0);
    BT_CHECK_EQ(wd_cap_watch(pc, (wd_handle_t)n, 0x2), 0);
    BT_OK(wd_process_kill(h, 0));
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)fault, WD_LABEL_EXIT, 0x91, &msg, REPORT_TIMEOUT), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(nt_cap_flags(h), WD_CAP_DEAD);
    BT_CHECK_EQ(nt_cap_flags(pc), WD_CAP_DEAD | WD_CAP_WATCHED);
    BT_CHECK_EQ(wd_cap_revoke(h), 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x2);
    bt_release_helper(h);

    /* The holder's death: a helper watches its own capability with a badged
     * copy of our notification and is killed. */
    wd_handle_t nb = nt_copy_of(n, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0x700);
    wd_handle_t target = nt_copy_of(ep, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    caps[0] = target;
    caps[1] = nb;
    caps[2] = (wd_handle_t)report;
    h = bt_spawn_helper("notify watch 0x300", caps, 3, (wd_handle_t)fault, 0x92);
    if (nt_get_report((wd_handle_t)report, NT_RESULT, &msg)) {
        BT_CHECK_EQ((long)msg.w[0], 0);
        BT_CHECK_EQ(msg.w[1], WD_CAP_WATCHED);
    }
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    uint64_t s0 = nt_signals_now();
    nt_kill_helper(h, (wd_handle_t)fault, 0x92);
    BT_CHECK_EQ(nt_signals_now() - s0, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x300);
    /* A helper asking for bits outside its badge is refused (no watch). */
    caps[0] = target;
    h = bt_spawn_helper("notify watch 0x800", caps, 3, (wd_handle_t)fault, 0x93);
    if (nt_get_report((wd_handle_t)report, NT_RESULT, &msg)) {
        BT_CHECK_EQ((long)msg.w[0], -WD_E_NO_RIGHTS);
        BT_CHECK_EQ(msg.w[1], 0);
    }
    nt_kill_helper(h, (wd_handle_t)fault, 0x93);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
}

