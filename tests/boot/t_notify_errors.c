/*
 * t_notify_errors.c - every right and error of notify_create, signal,
 * wait, poll and bind.
 */
#include <stdlib.h>
#include <string.h>

#include <warden/thread.h>

#include "boot_tests.h"
#include "t_notify.h"

/* ---- 6. rights and errors ---- */

/* Each call refuses a capability without its right (NO_RIGHTS), of the
 * wrong type (WRONG_TYPE), stale (STALE_HANDLE) or naming nothing
 * (BAD_HANDLE); create needs ALLOC on a pool and a budget; a refused call
 * changes nothing (the word, the binding). */
void test_notify_rights_and_errors(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long frame = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    if (n < 0 || ep < 0 || frame < 0)
        return;
    wd_handle_t send = nt_copy_of(n, WD_RIGHT_SEND, 0);
    wd_handle_t recv = nt_copy_of(n, WD_RIGHT_RECV, 0);
    wd_handle_t nocontrol = nt_copy_of(n, WD_RIGHT_SEND | WD_RIGHT_RECV | WD_RIGHT_GRANT, 0);
    wd_handle_t control = nt_copy_of(n, WD_RIGHT_CONTROL, 0);
    wd_handle_t ep_recv = nt_copy_of(ep, WD_RIGHT_RECV, 0);
    wd_handle_t ep_send = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    struct wd_msg msg;
    uint64_t s0 = nt_signals_now();

    /* SEND only: signal, but no wait, poll or bind. */
    BT_CHECK_EQ(wd_notify_signal(send, 0x1), 0);
    BT_CHECK_EQ(wd_notify_wait(send, WD_NO_WAIT), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_wait(send, WD_FOREVER), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_poll(send), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_bind(send, (wd_handle_t)ep, 1), -WD_E_NO_RIGHTS);
    /* RECV only: wait and poll, no signal. */
    BT_CHECK_EQ(wd_notify_signal(recv, 0x2), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_bind(recv, (wd_handle_t)ep, 1), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_poll(recv), 0x1);                   /* SEND's bit, not RECV's refused one */
    BT_CHECK_EQ(wd_notify_wait(recv, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    /* Bind needs CONTROL on the notification and SEND on the endpoint. */
    BT_CHECK_EQ(wd_notify_bind(nocontrol, (wd_handle_t)ep, 1), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_bind(nocontrol, WD_NULL, 0), -WD_E_NO_RIGHTS);   /* unbinding too */
    BT_CHECK_EQ(wd_notify_bind(control, ep_recv, 1), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_signal(control, 0x1), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_poll(control), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_bind(control, ep_send, 0xB5), 0);   /* CONTROL + SEND is all it takes */
    BT_CHECK_EQ(wd_notify_signal(send, 0x8), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), 0);
    nt_check_notify_msg(&msg, 0xB5, 1, 0x8);
    /* A refused bind leaves the binding as it was. */
    BT_CHECK_EQ(wd_notify_bind(control, ep_recv, 0xB6), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_notify_bind(control, (wd_handle_t)frame, 0xB6), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_bind(control, 0xFFFF, 0xB6), -WD_E_BAD_HANDLE);
    BT_CHECK_EQ(wd_notify_signal(send, 0x10), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), 0);
    nt_check_notify_msg(&msg, 0xB5, 1, 0x10);
    BT_CHECK_EQ(wd_notify_bind(control, WD_NULL, 0), 0);

    /* Wrong types, for every call and every handle argument. */
    BT_CHECK_EQ(wd_notify_create((wd_handle_t)ep), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_create((wd_handle_t)n), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)ep, 0x1), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)frame, 0x1), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)ep, WD_NO_WAIT), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_wait(bt_pool(), WD_FOREVER), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)ep), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)frame), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)ep, (wd_handle_t)ep, 1), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, (wd_handle_t)n, 1), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, bt_pool(), 1), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)n, (wd_handle_t)n, 0x1, &msg, WD_NO_WAIT), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, (wd_handle_t)ep, 0x1, &msg, WD_NO_WAIT), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_cap_watch((wd_handle_t)frame, (wd_handle_t)ep, 0x1), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_cap_watch((wd_handle_t)frame, (wd_handle_t)frame, 0x1), -WD_E_WRONG_TYPE);

    /* Handles that name nothing. */
    static const wd_handle_t garbage[] = { WD_NULL, 0xFFFF, 0x00FF0000, 0x123456789ull, ~0ull };
    for (unsigned i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        wd_handle_t g = garbage[i];
        BT_CHECK_EQ(wd_notify_create(g), -WD_E_BAD_HANDLE);
        BT_CHECK_EQ(wd_notify_signal(g, 0x1), -WD_E_BAD_HANDLE);
        BT_CHECK_EQ(wd_notify_wait(g, WD_NO_WAIT), -WD_E_BAD_HANDLE);
        BT_CHECK_EQ(wd_notify_wait(g, WD_FOREVER), -WD_E_BAD_HANDLE);
        BT_CHECK_EQ(wd_notify_poll(g), -WD_E_BAD_HANDLE);
        BT_CHECK_EQ(wd_notify_bind(g, (wd_handle_t)ep, 1), -WD_E_BAD_HANDLE);
        if (g != WD_NULL)                                     /* WD_NULL there means unbind */
            BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, g, 1), -WD_E_BAD_HANDLE);
        BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, g, 0x1, &msg, WD_NO_WAIT), -WD_E_BAD_HANDLE);
        BT_CHECK_EQ(wd_signal_recv(g, (wd_handle_t)n, 0x1, &msg, WD_NO_WAIT), -WD_E_BAD_HANDLE);
        BT_CHECK_EQ(wd_cap_watch(g, (wd_handle_t)n, 0x1), -WD_E_BAD_HANDLE);
        if (g != WD_NULL)                                     /* WD_NULL there removes a watch */
            BT_CHECK_EQ(wd_cap_watch((wd_handle_t)ep, g, 0x1), -WD_E_BAD_HANDLE);
    }
    /* Stale handles: a deleted copy of the notification, endpoint and pool. */
    wd_handle_t gone = nt_copy_of(n, ALL_RIGHTS, 0);
    wd_handle_t gone_ep = nt_copy_of(ep, WD_RIGHT_SEND | WD_RIGHT_RECV, 0);
    wd_handle_t gone_pool = nt_copy_of(bt_pool(), WD_RIGHT_ALLOC, 0);
    BT_OK(wd_cap_delete(gone));
    BT_OK(wd_cap_delete(gone_ep));
    BT_OK(wd_cap_delete(gone_pool));
    BT_CHECK_EQ(wd_notify_create(gone_pool), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_notify_signal(gone, 0x1), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_notify_wait(gone, WD_NO_WAIT), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_notify_wait(gone, WD_FOREVER), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_notify_poll(gone), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_notify_bind(gone, (wd_handle_t)ep, 1), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, gone_ep, 1), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, gone, 0x1, &msg, WD_NO_WAIT), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_signal_recv(gone_ep, (wd_handle_t)n, 0x1, &msg, WD_NO_WAIT), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_cap_watch(gone_ep, (wd_handle_t)n, 0x1), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_cap_watch((wd_handle_t)ep, gone, 0x1), -WD_E_STALE_HANDLE);
    /* None of the refused calls raised a bit or counted a signal. */
    BT_CHECK_EQ(nt_signals_now() - s0, 3);                       /* 0x1, 0x8, 0x10 above */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);

    /* create: ALLOC on the pool, and budget, and a free slot. */
    wd_handle_t noalloc = nt_copy_of(bt_pool(), WD_RIGHT_READ, 0);
    BT_CHECK_EQ(wd_notify_create(noalloc), -WD_E_NO_RIGHTS);
    long sub = nt_exhaust_pool();
    uint64_t used = nt_pool_used();
    BT_CHECK_EQ(wd_notify_create(bt_pool()), -WD_E_POOL_EXHAUSTED);
    BT_CHECK_EQ(nt_pool_used(), used);                           /* a refused create charges nothing */
    BT_OK(wd_cap_delete((wd_handle_t)sub));
    /* A pool with room for exactly one notification. */
    long probe = BT_OK(wd_pool_create(bt_pool(), WD_PAGE_SIZE));
    struct wd_pool_info pi = { 0 };
    if (probe > 0) {
        long one = BT_OK(wd_notify_create((wd_handle_t)probe));
        BT_CHECK_EQ(wd_pool_info((wd_handle_t)probe, &pi), 0);
        BT_CHECK(pi.used > 0 && pi.used % 64 == 0);           /* charged at slab granularity */
        BT_OK(wd_cap_delete((wd_handle_t)one));
        struct wd_pool_info empty;
        BT_CHECK_EQ(wd_pool_info((wd_handle_t)probe, &empty), 0);
        BT_CHECK_EQ(empty.used, 0);                           /* given back */
        BT_OK(wd_cap_delete((wd_handle_t)probe));
    }
    long exact = pi.used ? BT_OK(wd_pool_create(bt_pool(), pi.used)) : -1;
    if (exact > 0) {
        long one = BT_OK(wd_notify_create((wd_handle_t)exact));
        BT_CHECK_EQ(wd_notify_create((wd_handle_t)exact), -WD_E_POOL_EXHAUSTED);
        BT_OK(wd_cap_delete((wd_handle_t)one));
        BT_OK(wd_cap_delete((wd_handle_t)exact));
    }
    /* A full capability space: CSPACE_FULL, and nothing charged for it. */
    static long made[WD_CSPACE_SLOTS];
    unsigned nmade = 0;
    long r = 0;
    while (nmade < WD_CSPACE_SLOTS && (r = wd_notify_create(bt_pool())) > 0)
        made[nmade++] = r;
    BT_CHECK_EQ(r, -WD_E_CSPACE_FULL);
    used = nt_pool_used();
    BT_CHECK_EQ(wd_notify_create(bt_pool()), -WD_E_CSPACE_FULL);
    BT_CHECK_EQ(nt_pool_used(), used);
    for (unsigned i = 0; i < nmade; i++)
        BT_OK(wd_cap_delete((wd_handle_t)made[i]));
}

