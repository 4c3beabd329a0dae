/*
 * t_ipc.c - IPC between address spaces: words, badges, capabilities,
 * errors, reply tokens, endpoints closing with their last receiver. The server side is the echo helper (echo_prepare_reply).
 */
#include <string.h>

#include <warden/thread.h>

#include "boot_tests.h"
#include "t_ipc.h"

#define SCRATCH 0x0000300000000000ull

static long write_pattern(wd_handle_t frame)
{
    long r = wd_vm_map(WD_NULL, frame, 0, SCRATCH, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE);
    if (r < 0)
        return r;
    *(volatile uint8_t *)SCRATCH = ECHO_PATTERN;
    return wd_vm_unmap(WD_NULL, SCRATCH, WD_PAGE_SIZE) < 0 ? -WD_E_NOT_MAPPED : 0;
}

void echo_prepare_reply(struct wd_msg *msg)
{
    uint32_t label = wd_msg_label(msg->info);
    unsigned n = wd_msg_nwords(msg->info), ncaps = wd_msg_ncaps(msg->info), out_caps = 0;
    if (label == ECHO_FILL_FRAME && ncaps >= 1) {
        msg->w[0] = (uint64_t)write_pattern(msg->caps[0]);
        n = 1;
    } else if (label == ECHO_GIVE_FRAME) {
        long frame = wd_frame_create(wd_start_info->pool, WD_PAGE_SIZE, 0);
        msg->w[0] = (uint64_t)(frame < 0 ? frame : write_pattern((wd_handle_t)frame));
        if (frame >= 0) {
            msg->caps[0] = (wd_handle_t)frame;
            out_caps = 1;
        }
        n = 1;
    } else if (label == ECHO_BADGE) {
        msg->w[0] = msg->badge;
        n = 1;
    } else {
        for (unsigned i = 0; i < n; i++)
            msg->w[i] += i + 1;
    }
    for (unsigned i = 0; i < ncaps; i++)
        wd_cap_delete(msg->caps[i]);
    msg->info = wd_msg_info(label + 1, n, out_caps) | (out_caps ? WD_MSG_MOVE_CAPS : 0);
}

static wd_handle_t start_echo(wd_handle_t *ep_out)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    *ep_out = (wd_handle_t)ep;
    wd_handle_t caps[1] = { (wd_handle_t)ep };
    return bt_spawn_helper("echo", caps, 1, WD_NULL, 0);
}

void test_ipc_call_reply_words(void)
{
    wd_handle_t ep;
    BT_CHECK(start_echo(&ep) != WD_NULL);
    for (unsigned n = 0; n <= WD_MSG_WORDS; n++) {
        struct wd_msg msg = { .info = wd_msg_info(40 + n, n, 0) };
        for (unsigned i = 0; i < WD_MSG_WORDS; i++)
            msg.w[i] = 0x1111111111111111ull * (i + 1);
        BT_CHECK_EQ(wd_call(ep, &msg, 5000 * BT_MS), 0);
        BT_CHECK_EQ(wd_msg_label(msg.info), 41 + n);
        BT_CHECK_EQ(wd_msg_nwords(msg.info), n);
        for (unsigned i = 0; i < WD_MSG_WORDS; i++)
            BT_CHECK_EQ(msg.w[i], i < n ? 0x1111111111111111ull * (i + 1) + i + 1 : 0);
    }
    /* Many round trips in a row keep working. */
    unsigned good = 0;
    for (unsigned k = 0; k < 500; k++) {
        struct wd_msg msg = { .info = wd_msg_info(7, 1, 0), .w = { k } };
        if (wd_call(ep, &msg, 5000 * BT_MS) == 0 && msg.w[0] == k + 1)
            good++;
    }
    BT_CHECK_EQ(good, 500);
}

void test_ipc_badges(void)
{
    wd_handle_t ep;
    BT_CHECK(start_echo(&ep) != WD_NULL);
    long badged = BT_OK(wd_cap_copy(ep, WD_NULL, WD_RIGHT_SEND, 0xB00C));
    struct wd_msg msg = { .info = wd_msg_info(ECHO_BADGE, 0, 0) };
    BT_CHECK_EQ(wd_call((wd_handle_t)badged, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[0], 0xB00C);
    msg.info = wd_msg_info(ECHO_BADGE, 0, 0);
    BT_CHECK_EQ(wd_call(ep, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[0], 0);
    /* A badged capability keeps its badge: re-badging is refused, copying keeps it. */
    BT_CHECK_EQ(wd_cap_copy((wd_handle_t)badged, WD_NULL, WD_RIGHT_SEND, 0xC0DE), -WD_E_INVALID_ARG);
    long copy = BT_OK(wd_cap_copy((wd_handle_t)badged, WD_NULL, WD_RIGHT_SEND, 0));
    msg.info = wd_msg_info(ECHO_BADGE, 0, 0);
    BT_CHECK_EQ(wd_call((wd_handle_t)copy, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[0], 0xB00C);
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)copy, &info), 0);
    BT_CHECK_EQ(info.badge, 0xB00C);
}

void test_ipc_cap_transfer(void)
{
    wd_handle_t ep;
    BT_CHECK(start_echo(&ep) != WD_NULL);
    /* Send a frame: the helper writes into it; we see the write. */
    long frame = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, SCRATCH + 0x100000, WD_PAGE_SIZE, WD_RIGHT_READ));
    struct wd_msg msg = { .info = wd_msg_info(ECHO_FILL_FRAME, 0, 1), .caps = { (wd_handle_t)frame } };
    BT_CHECK_EQ(wd_call(ep, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ((long)msg.w[0], 0);
    BT_CHECK_EQ(*(volatile uint8_t *)(SCRATCH + 0x100000), ECHO_PATTERN);
    /* Copied, not moved: our handle still works. */
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)frame, &info), 0);
    /* Receive a frame in the reply (moved out of the helper). */
    msg = (struct wd_msg){ .info = wd_msg_info(ECHO_GIVE_FRAME, 0, 0) };
    BT_CHECK_EQ(wd_call(ep, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ((long)msg.w[0], 0);
    BT_CHECK_EQ(wd_msg_ncaps(msg.info), 1);
    BT_CHECK(!(msg.info & WD_MSG_CAPS_LOST));
    BT_CHECK_EQ(wd_cap_info(msg.caps[0], &info), 0);
    BT_CHECK_EQ(info.type, WD_TYPE_FRAME);
    if (BT_OK(wd_vm_map(WD_NULL, msg.caps[0], 0, SCRATCH + 0x200000, WD_PAGE_SIZE, WD_RIGHT_READ)) == 0)
        BT_CHECK_EQ(*(volatile uint8_t *)(SCRATCH + 0x200000), ECHO_PATTERN);
    /* A capability without GRANT cannot be sent. */
    long nogrant = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP, 0));
    msg = (struct wd_msg){ .info = wd_msg_info(ECHO_FILL_FRAME, 0, 1), .caps = { (wd_handle_t)nogrant } };
    BT_CHECK_EQ(wd_call(ep, &msg, 5000 * BT_MS), -WD_E_NO_RIGHTS);
    /* Moving a capability makes the sender's handle stale. */
    long moved = BT_OK(wd_cap_copy((wd_handle_t)frame, WD_NULL,
                                   WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP | WD_RIGHT_GRANT, 0));
    msg = (struct wd_msg){ .info = wd_msg_info(ECHO_FILL_FRAME, 0, 1) | WD_MSG_MOVE_CAPS,
                           .caps = { (wd_handle_t)moved } };
    BT_CHECK_EQ(wd_call(ep, &msg, 5000 * BT_MS), 0);
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)moved, &info), -WD_E_STALE_HANDLE);
}

void test_ipc_errors(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    struct wd_msg msg = { .info = wd_msg_info(1, 0, 0) };
    /* Nobody receives: polling fails at once, a timeout expires. */
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_send((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_WOULD_BLOCK);
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, 20 * BT_MS), -WD_E_TIMEOUT);
    /* Malformed messages. */
    msg.info = wd_msg_info(1, 9, 0);
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_INVALID_ARG);
    msg.info = wd_msg_info(1, 0, 5);
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_INVALID_ARG);
    msg.info = wd_msg_info(1, 0, 0) | (1ull << 50);
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_BAD_FLAGS);
    msg.info = wd_msg_info(WD_LABEL_DMA_FAULT, 0, 0);      /* forging a kernel message */
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_send((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_INVALID_ARG);
    msg.info = wd_msg_info(1, 0, 1);
    msg.caps[0] = 0x7777;
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, WD_NO_WAIT), -WD_E_BAD_HANDLE);
    /* Rights: a send-only copy cannot receive; a receive-only copy cannot send. */
    long send_only = BT_OK(wd_cap_copy((wd_handle_t)ep, WD_NULL, WD_RIGHT_SEND, 0));
    long recv_only = BT_OK(wd_cap_copy((wd_handle_t)ep, WD_NULL, WD_RIGHT_RECV, 0));
    msg.info = wd_msg_info(1, 0, 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)send_only, &msg, WD_NO_WAIT), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_call((wd_handle_t)recv_only, &msg, WD_NO_WAIT), -WD_E_NO_RIGHTS);
    /* No reply token. */
    BT_CHECK_EQ(wd_reply(&msg), -WD_E_NO_REPLY);
    /* A server that dies holding our call: we get DEAD, not a hang. */
    wd_handle_t caps[1] = { (wd_handle_t)ep };
    long fault_ep = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t blocker = bt_spawn_helper("block", caps, 1, (wd_handle_t)fault_ep, 1);
    msg.info = wd_msg_info(1, 0, 0);
    /* The helper receives our call and exits without replying. */
    BT_CHECK_EQ(wd_call((wd_handle_t)ep, &msg, 5000 * BT_MS), -WD_E_DEAD);
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)fault_ep, WD_LABEL_EXIT, 1, &msg, 5000 * BT_MS), 0);
    (void)blocker;
}

struct token_caller {
    wd_handle_t ep;
    uint64_t word;
    volatile long result;               /* 1 while the call is outstanding */
    volatile uint64_t reply_word;
};

static void token_caller_main(void *arg)
{
    struct token_caller *c = arg;
    struct wd_msg msg = { .info = wd_msg_info(1, 1, 0), .w = { c->word } };
    long r = wd_call(c->ep, &msg, 3000 * BT_MS);
    c->reply_word = msg.w[0];
    c->result = r;
}

static bool wait_done(struct token_caller *c)
{
    for (int i = 0; i < 300 && c->result == 1; i++)
        wd_thread_sleep(10 * BT_MS);
    return c->result != 1;
}

/* A reply token survives receiving a kernel message (here a timer; a
 * driver's interrupt the same way), so a server can wait for its device
 * in the middle of a call. A new call replaces the token: the old caller
 * gets DEAD. */
void test_ipc_reply_token_kept_across_events(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long events = BT_OK(wd_endpoint_create(bt_pool()));
    if (ep < 0 || events < 0)
        return;
    static struct token_caller a, b;
    a = (struct token_caller){ .ep = (wd_handle_t)ep, .word = 11, .result = 1 };
    b = (struct token_caller){ .ep = (wd_handle_t)ep, .word = 22, .result = 1 };
    BT_OK(wd_thread_start(token_caller_main, &a, 16));
    struct wd_msg msg;
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 3000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[0], 11);
    BT_OK(wd_endpoint_timer((wd_handle_t)events, 0x71, 2 * BT_MS));
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)events, WD_LABEL_TIMER, 0x71, &msg, 1000 * BT_MS), 0);
    msg.info = wd_msg_info(1, 1, 0);
    msg.w[0] = 111;
    BT_CHECK_EQ(wd_reply(&msg), 0);                     /* the token outlived the receive */
    BT_CHECK(wait_done(&a));
    BT_CHECK_EQ(a.result, 0);
    BT_CHECK_EQ(a.reply_word, 111);
    /* Two calls received, the first unanswered: its caller gets DEAD. */
    a.result = 1;
    BT_OK(wd_thread_start(token_caller_main, &a, 16));
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 3000 * BT_MS), 0);
    BT_OK(wd_thread_start(token_caller_main, &b, 16));
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, &msg, 3000 * BT_MS), 0);
    BT_CHECK_EQ(msg.w[0], 22);
    BT_CHECK(wait_done(&a));
    BT_CHECK_EQ(a.result, -WD_E_DEAD);
    msg.info = wd_msg_info(1, 1, 0);
    msg.w[0] = 222;
    BT_CHECK_EQ(wd_reply(&msg), 0);
    BT_CHECK(wait_done(&b));
    BT_CHECK_EQ(b.result, 0);
    BT_CHECK_EQ(b.reply_word, 222);
}

/* An endpoint closes when its last capability that can receive goes (a
 * server died): a blocked caller wakes with DEAD, later sends and calls get
 * DEAD instead of blocking or WOULD_BLOCK. Deleting one of two receive
 * capabilities closes nothing. */
void test_ipc_endpoint_closes_with_last_receiver(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    long receiver = ep < 0 ? ep : BT_OK(wd_cap_copy((wd_handle_t)ep, WD_NULL, WD_RIGHT_RECV, 0));
    long sender = ep < 0 ? ep : BT_OK(wd_cap_copy((wd_handle_t)ep, WD_NULL, WD_RIGHT_SEND, 0));
    if (receiver < 0 || sender < 0)
        return;
    static struct token_caller c;
    c = (struct token_caller){ .ep = (wd_handle_t)sender, .word = 7, .result = 1 };
    BT_OK(wd_thread_start(token_caller_main, &c, 16));
    wd_thread_sleep(20 * BT_MS);
    BT_OK(wd_cap_delete((wd_handle_t)ep));              /* one receive capability is left */
    wd_thread_sleep(20 * BT_MS);
    BT_CHECK_EQ(c.result, 1);                           /* still waiting */
    BT_OK(wd_cap_delete((wd_handle_t)receiver));        /* the last one */
    BT_CHECK(wait_done(&c));
    BT_CHECK_EQ(c.result, -WD_E_DEAD);
    struct wd_msg msg = { .info = wd_msg_info(1, 0, 0) };
    BT_CHECK_EQ(wd_send((wd_handle_t)sender, &msg, WD_NO_WAIT), -WD_E_DEAD);
    BT_CHECK_EQ(wd_call((wd_handle_t)sender, &msg, WD_FOREVER), -WD_E_DEAD);
    BT_OK(wd_cap_delete((wd_handle_t)sender));
}
