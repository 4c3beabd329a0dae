/*
 * t_notify_bind.c - a notification bound to an endpoint: signals become
 * one coalescing WD_LABEL_NOTIFY message among requests, timer events and
 * a device's interrupts; ipc_signal_recv (signal, then receive, in one
 * call).
 */
#include <stdlib.h>
#include <string.h>

#include <warden/thread.h>

#include "boot_tests.h"
#include "t_notify.h"
#include "t_dma.h"

/* ---- 5. bound to an endpoint ---- */

struct receiver {
    wd_handle_t ep;
    struct wd_msg msg;
    volatile long result;
    volatile bool done;
};

static void receiver_main(void *arg)
{
    struct receiver *r = arg;
    r->result = wd_recv(r->ep, &r->msg, 2000 * BT_MS);
    r->done = true;
}

/* One wd_recv gets an IPC request, an endpoint timer message and the
 * notification's message, kernel messages first, with their badges and
 * words (w0 the signals coalesced, w1 the bits, taken). Bits set before
 * bind arrive at bind; a waiter in notify_wait is preferred to the
 * endpoint; poll and unbind withdraw a queued message; later signals stay
 * in the word; rebinding moves the message; deleting the notification
 * withdraws it. */
void test_notify_bound_to_endpoint(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long ep2 = BT_OK(wd_endpoint_create(bt_pool()));
    long fault = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || ep < 0 || ep2 < 0 || fault < 0)
        return;
    struct wd_msg msg;
    /* Bits set before binding are delivered at bind, with the count of
     * the signals that set them. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x1), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x2), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x1), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    uint64_t w0 = nt_wakeups_now();
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, (wd_handle_t)ep, 0xB1), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), 0);
    nt_check_notify_msg(&msg, 0xB1, 3, 0x3);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 1);                       /* a bound delivery */
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    /* Binding with nothing set queues nothing. */
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, (wd_handle_t)ep, 0xB1), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);

    /* A helper's call waits on ep; then a timer message and three signals
     * arrive. One receive at a time: timer, notification (count 3, the OR),
     * then the call. */
    wd_handle_t badged = nt_copy_of(ep, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0xCA11);
    wd_handle_t caps[1] = { badged };
    BT_CHECK(bt_spawn_helper("notify call", caps, 1, (wd_handle_t)fault, 0x52) != WD_NULL);
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);                   /* its call is queued */
    BT_OK(wd_endpoint_timer((wd_handle_t)ep, 0x71, 1 * BT_MS));
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);                   /* the timer fired */
    w0 = nt_wakeups_now();
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x10), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x20), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x10), 0);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 0);                       /* queued, not delivered yet */
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), WD_LABEL_TIMER);
    BT_CHECK_EQ(msg.badge, 0x71);
    BT_CHECK_EQ(msg.w[0], 1);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), 0);
    nt_check_notify_msg(&msg, 0xB1, 3, 0x30);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);          /* the message took the bits */
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, REPORT_TIMEOUT), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), NT_CALL);
    BT_CHECK_EQ(msg.badge, 0xCA11);
    BT_CHECK_EQ(msg.w[0], NT_CALL_WORD);
    msg.info = wd_msg_info(NT_CALL, 1, 0);
    msg.w[0] = NT_CALL_WORD + 1;
    BT_CHECK_EQ(wd_reply(&msg), 0);
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)fault, WD_LABEL_EXIT, 0x52, &msg, REPORT_TIMEOUT), 0);
    BT_CHECK_EQ(msg.w[2], 0);                                 /* the helper got our reply */
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);

    /* A receiver already blocked on the endpoint gets the message at once. */
    static struct receiver rcv;
    rcv = (struct receiver){ .ep = (wd_handle_t)ep, .result = 1 };
    BT_OK(wd_thread_start(receiver_main, &rcv, THREAD_PRIORITY));
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    BT_CHECK(!rcv.done);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x40), 0);
    BT_CHECK(nt_finished(&rcv.done, 2000));
    BT_CHECK_EQ(rcv.result, 0);
    nt_check_notify_msg(&rcv.msg, 0xB1, 1, 0x40);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);

    /* A thread in notify_wait comes first: the endpoint gets nothing. */
    static struct nt_waiter wt;
    nt_start_thread_waiter(&wt, (wd_handle_t)n, 2000 * BT_MS);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x80), 0);
    BT_CHECK(nt_finished(&wt.done, 2000));
    BT_CHECK_EQ(wt.result, 0x80);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);

    /* poll and wait take a queued message's bits: the message is withdrawn. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x100), 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x100);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x200), 0);
    BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, WD_NO_WAIT), 0x200);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    /* ...and the count starts again after a withdrawal. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x1), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), 0);
    nt_check_notify_msg(&msg, 0xB1, 1, 0x1);

    /* Rebinding (new badge, other endpoint) moves a queued message with it. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x400), 0);
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, (wd_handle_t)ep2, 0xB2), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep2, &msg, WD_NO_WAIT), 0);
    nt_check_notify_msg(&msg, 0xB2, 1, 0x400);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x800), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep2, &msg, WD_NO_WAIT), 0);
    nt_check_notify_msg(&msg, 0xB2, 1, 0x800);

    /* Unbinding withdraws a queued message; the bits stay for poll, and later
     * signals no longer reach the endpoint. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x1000), 0);
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, WD_NULL, 0), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep2, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x2000), 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep2, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x3000);
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, WD_NULL, 0), 0);   /* unbinding twice is fine */

    /* Deleting a bound notification withdraws its queued message. */
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, (wd_handle_t)ep, 0xB3), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x4000), 0);
    BT_OK(wd_cap_delete((wd_handle_t)n));
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
}

/* edu's interrupt registers (as t_irq.c) and VT-d's interrupt-remapping status bit. */
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE 0x60
#define EDU_REG_IRQ_ACK 0x64
#define GSTS_IRES (1u << 25)
#define NT_IRQ_BADGE 0x1E7

/* A driver's loop: one endpoint gets edu's MSI and the notification's
 * signals, one wd_recv at a time, in the order they were raised, each
 * with its own badge and count. */
void test_notify_bound_with_irq(void)
{
    struct edu e;
    if (!edu_open(&e, true))
        return;
    struct wd_iommu_info iommu;
    if (wd_iommu_info(0, &iommu) != 0 || !(iommu.status & GSTS_IRES)) {
        BT_SKIP("the IOMMU does not remap interrupts: no MSI");
        return;
    }
    volatile uint32_t *status = (volatile uint32_t *)(e.bar + EDU_REG_IRQ_STATUS);
    *(volatile uint32_t *)(e.bar + EDU_REG_IRQ_ACK) = *status;     /* a bit an earlier test left */
    long irq = BT_OK(wd_irq_create(e.device, WD_IRQ_MSI(0)));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long n = BT_OK(wd_notify_create(bt_pool()));
    if (irq < 0 || ep < 0 || n < 0)
        return;
    BT_CHECK_EQ(wd_irq_bind((wd_handle_t)irq, (wd_handle_t)ep, NT_IRQ_BADGE), 0);
    BT_CHECK_EQ(wd_notify_bind((wd_handle_t)n, (wd_handle_t)ep, 0xB8), 0);
    /* The interrupt first, then two signals. */
    struct wd_irq_info before, now;
    BT_OK(wd_irq_info((wd_handle_t)irq, &before));
    *(volatile uint32_t *)(e.bar + EDU_REG_IRQ_RAISE) = 1;
    bool arrived = false;
    for (int i = 0; i < 100 && !arrived; i++) {
        BT_OK(wd_irq_info((wd_handle_t)irq, &now));
        arrived = now.interrupts > before.interrupts;
        if (!arrived)
            wd_thread_sleep(BT_MS);
    }
    BT_CHECK(arrived);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x1), 0);
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x4), 0);
    struct wd_msg msg;
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 1000 * BT_MS), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), WD_LABEL_IRQ);
    BT_CHECK_EQ(msg.badge, NT_IRQ_BADGE);
    BT_CHECK_EQ(msg.w[0], 1);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 1000 * BT_MS), 0);
    nt_check_notify_msg(&msg, 0xB8, 2, 0x5);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    *(volatile uint32_t *)(e.bar + EDU_REG_IRQ_ACK) = *status;
    BT_CHECK_EQ(wd_irq_ack((wd_handle_t)irq), 1);
    /* Now the signal first, the interrupt second: the order they came in. */
    BT_CHECK_EQ(wd_notify_signal((wd_handle_t)n, 0x10), 0);
    *(volatile uint32_t *)(e.bar + EDU_REG_IRQ_RAISE) = 1;
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 1000 * BT_MS), 0);
    nt_check_notify_msg(&msg, 0xB8, 1, 0x10);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 1000 * BT_MS), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), WD_LABEL_IRQ);
    BT_CHECK_EQ(msg.badge, NT_IRQ_BADGE);
    BT_CHECK_EQ(msg.w[0], 1);
    *(volatile uint32_t *)(e.bar + EDU_REG_IRQ_ACK) = *status;
    BT_CHECK_EQ(wd_irq_ack((wd_handle_t)irq), 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
}

/* ---- 8. ipc_signal_recv ---- */

struct sender {
    wd_handle_t ep;
    uint64_t word;
    volatile long result;
    volatile bool done;
};

static void sender_main(void *arg)
{
    struct sender *s = arg;
    struct wd_msg msg = { .info = wd_msg_info(NT_CALL, 1, 0), .w = { s->word } };
    s->result = wd_send(s->ep, &msg, 3000 * BT_MS);
    s->done = true;
}

/* Signals, then receives, in one call: a queued message is received and
 * the bits are in the word (or with a waiting helper); a receive that times
 * out still signalled; when the notification's handle, rights or bits are
 * refused (or the endpoint's, or the caps buffer), nothing is signalled and
 * nothing received. */
void test_ipc_signal_recv(void)
{
    long n = BT_OK(wd_notify_create(bt_pool()));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    if (n < 0 || ep < 0 || report < 0)
        return;
    wd_handle_t ep_badged = nt_copy_of(ep, WD_RIGHT_SEND, 0x5E);
    struct wd_msg msg;
    /* A sender waits on ep: one call signals n and takes its message. */
    static struct sender s;
    s = (struct sender){ .ep = ep_badged, .word = 0x1234, .result = 1 };
    BT_OK(wd_thread_start(sender_main, &s, THREAD_PRIORITY));
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    uint64_t s0 = nt_signals_now();
    memset(&msg, 0, sizeof msg);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, (wd_handle_t)n, 0x21, &msg, 1000 * BT_MS), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), NT_CALL);
    BT_CHECK_EQ(msg.badge, 0x5E);
    BT_CHECK_EQ(msg.w[0], 0x1234);
    BT_CHECK_EQ(nt_signals_now() - s0, 1);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x21);
    BT_CHECK(nt_finished(&s.done, 2000));
    BT_CHECK_EQ(s.result, 0);
    /* A kernel message queued on ep: received the same way, with a badged
     * notification capability raising its badge (bits 0). */
    wd_handle_t nb = nt_copy_of(n, WD_RIGHT_SEND, 0x300);
    BT_OK(wd_endpoint_timer((wd_handle_t)ep, 0x72, 1 * BT_MS));
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, nb, 0, &msg, WD_NO_WAIT), 0);
    BT_CHECK_EQ(wd_msg_label(msg.info), WD_LABEL_TIMER);
    BT_CHECK_EQ(msg.badge, 0x72);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x300);

    /* Nothing to receive: WOULD_BLOCK or TIMEOUT, but the signal happened. */
    s0 = nt_signals_now();
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, (wd_handle_t)n, 0x4, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x4);
    uint64_t t0 = (uint64_t)wd_time_now();
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, (wd_handle_t)n, 0x8, &msg, 20 * BT_MS), -WD_E_TIMEOUT);
    BT_CHECK((uint64_t)wd_time_now() - t0 >= 20 * BT_MS);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x8);
    BT_CHECK_EQ(nt_signals_now() - s0, 2);
    /* A helper waiting on the notification is woken by it, while we still
     * wait on the endpoint (and time out). */
    wd_handle_t recv = nt_copy_of(n, WD_RIGHT_RECV | WD_RIGHT_GRANT, 0);
    BT_CHECK(nt_start_waiter(recv, (wd_handle_t)report, "forever", WD_NULL, 0) != WD_NULL);
    uint64_t w0 = nt_wakeups_now();
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, (wd_handle_t)n, 0x10, &msg, 30 * BT_MS), -WD_E_TIMEOUT);
    BT_CHECK_EQ(nt_wakeups_now() - w0, 1);
    if (nt_get_report((wd_handle_t)report, NT_RESULT, &msg))
        BT_CHECK_EQ((long)msg.w[0], 0x10);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);

    /* Refused: nothing signalled, and the queued message is still there. */
    s = (struct sender){ .ep = ep_badged, .word = 0x5678, .result = 1 };
    BT_OK(wd_thread_start(sender_main, &s, THREAD_PRIORITY));
    wd_thread_sleep(NT_SETTLE_MS * BT_MS);
    wd_handle_t n_recv = nt_copy_of(n, WD_RIGHT_RECV, 0);
    wd_handle_t ep_send = nt_copy_of(ep, WD_RIGHT_SEND, 0);
    wd_handle_t gone = nt_copy_of(n, WD_RIGHT_SEND, 0);
    BT_OK(wd_cap_delete(gone));
    s0 = nt_signals_now();
    msg = (struct wd_msg){ .w = { 0, 0xAAAA } };
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, 0xFFFF, 0x1, &msg, 100 * BT_MS), -WD_E_BAD_HANDLE);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, WD_NULL, 0x1, &msg, 100 * BT_MS), -WD_E_BAD_HANDLE);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, gone, 0x1, &msg, 100 * BT_MS), -WD_E_STALE_HANDLE);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, n_recv, 0x1, &msg, 100 * BT_MS), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, (wd_handle_t)ep, 0x1, &msg, 100 * BT_MS), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, (wd_handle_t)n, 0, &msg, 100 * BT_MS), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, (wd_handle_t)n, BIT63, &msg, 100 * BT_MS), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)ep, nb, 0x1, &msg, 100 * BT_MS), -WD_E_NO_RIGHTS);
    /* The endpoint refused: nothing signalled either. */
    BT_CHECK_EQ(wd_signal_recv(ep_send, (wd_handle_t)n, 0x1, &msg, 100 * BT_MS), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_signal_recv((wd_handle_t)n, (wd_handle_t)n, 0x1, &msg, 100 * BT_MS), -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(msg.w[1], 0xAAAA);                            /* libc left the message alone */
    /* A caps buffer in kernel space: BAD_ADDRESS before anything happens. */
    uint64_t regs[13] = { WD_SYS_ipc_signal_recv, ep, n, 0x1, 0, 0, 0, 0xFFFF800000001000ull, 100 * BT_MS };
    uint64_t back[13];
    BT_CHECK_EQ(raw_syscall_both(regs, back), -WD_E_BAD_ADDRESS);
    BT_CHECK_EQ(nt_signals_now() - s0, 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0);
    BT_CHECK(!s.done);                                        /* its message was not taken */
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), 0);
    BT_CHECK_EQ(msg.w[0], 0x5678);
    BT_CHECK(nt_finished(&s.done, 2000));
    BT_CHECK_EQ(s.result, 0);
}

