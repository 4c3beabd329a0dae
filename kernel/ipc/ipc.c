/*
 * ipc.c - message transfer between threads (see ipc.h, DESIGN.md §3).
 *
 * A message sits in the sender's saved user registers until a receiver
 * takes it; the transfer writes straight into the receiver's saved
 * registers. Capability handles to send are read from the sender's memory
 * when it sends (its address space is current then) and looked up again
 * at transfer; handles received are written to the receiver's memory when
 * the receiver runs again (ipc_finish), in its own address space.
 * Reply tokens: receiver->reply_to and caller->reply_from point at each
 * other while a call waits for its reply; death or timeout clears both, and
 * a new call received replaces the token (the old caller gets DEAD).
 */
#include "ipc/ipc.h"

#include "arch/x86_64/percpu.h"
#include "cap/cspace.h"
#include "core/panic.h"
#include "mm/usercopy.h"
#include "obj/endpoint.h"
#include "obj/notification.h"
#include "obj/process.h"
#include "obj/thread.h"
#include "sched/sched.h"

#include <stddef.h>
#include <warden/errors.h>
#include <warden/ipc.h>

static const uint16_t word_offset[WD_MSG_WORDS] = {
    offsetof(struct trap_frame, rdx), offsetof(struct trap_frame, r10),
    offsetof(struct trap_frame, r8),  offsetof(struct trap_frame, r9),
    offsetof(struct trap_frame, r12), offsetof(struct trap_frame, r13),
    offsetof(struct trap_frame, r14), offsetof(struct trap_frame, r15),
};

static inline uint64_t *frame_word(struct trap_frame *f, unsigned i)
{
    return (uint64_t *)((char *)f + word_offset[i]);
}

/* Validates the message in the current thread's registers and records
 * the capabilities to send. 0 or -WD_E_*. */
static int load_message(struct thread *t, struct trap_frame *f)
{
    uint64_t info = f->rsi;
    if ((info & ~WD_MSG_KNOWN_BITS) || (info & WD_MSG_CAPS_LOST))
        return -WD_E_BAD_FLAGS;
    if (wd_msg_label(info) >= WD_LABEL_KERNEL)
        return -WD_E_INVALID_ARG;       /* kernel labels cannot be forged */
    unsigned ncaps = wd_msg_ncaps(info);
    if (wd_msg_nwords(info) > WD_MSG_WORDS || ncaps > WD_MSG_CAPS)
        return -WD_E_INVALID_ARG;
    if (f->rbx && !user_range_valid(f->rbx, WD_MSG_CAPS * sizeof(wd_handle_t)))
        return -WD_E_BAD_ADDRESS;
    if (ncaps) {
        if (!f->rbx || copy_from_user(t->send_caps, f->rbx, ncaps * sizeof(wd_handle_t)))
            return -WD_E_BAD_ADDRESS;
        for (unsigned i = 0; i < ncaps; i++) {
            struct cap_slot *slot;
            int r = cap_lookup(&t->process->cspace, t->send_caps[i], WD_TYPE_NONE, WD_RIGHT_GRANT, &slot);
            if (r)
                return r;
        }
    }
    t->send_cap_count = ncaps;
    t->send_move_caps = (info & WD_MSG_MOVE_CAPS) != 0;
    t->caps_buffer = f->rbx;
    return 0;
}

static int check_receive_buffer(struct thread *t, struct trap_frame *f)
{
    if (f->rbx && !user_range_valid(f->rbx, WD_MSG_CAPS * sizeof(wd_handle_t)))
        return -WD_E_BAD_ADDRESS;
    t->caps_buffer = f->rbx;
    return 0;
}

/* Moves or copies the sender's capabilities into the receiver's cspace.
 * Returns how many arrived; *lost is set if any could not. */
static unsigned transfer_caps(struct thread *from, struct thread *to, bool *lost)
{
    unsigned arrived = 0;
    to->recv_cap_count = 0;
    for (unsigned i = 0; i < from->send_cap_count; i++) {
        struct cap_slot *slot;
        if (!to->caps_buffer || cap_lookup(&from->process->cspace, from->send_caps[i], WD_TYPE_NONE,
                                           WD_RIGHT_GRANT, &slot)) {
            *lost = true;
            continue;
        }
        int64_t h = from->send_move_caps
                        ? cap_move_to(slot, &to->process->cspace)
                        : cap_insert(&to->process->cspace, slot->object, slot->rights, slot->badge, slot);
        if (h < 0) {
            *lost = true;
            continue;
        }
        to->recv_caps[arrived++] = (wd_handle_t)h;
    }
    to->recv_cap_count = arrived;
    from->send_cap_count = 0;
    return arrived;
}

static void deliver_message(struct thread *from, struct thread *to, uint64_t badge)
{
    struct trap_frame *s = from->frame, *d = to->frame;
    uint64_t info = s->rsi;
    unsigned n = wd_msg_nwords(info);
    for (unsigned i = 0; i < WD_MSG_WORDS; i++)
        *frame_word(d, i) = i < n ? *frame_word(s, i) : 0;
    bool lost = false;
    unsigned ncaps = from->send_cap_count ? transfer_caps(from, to, &lost) : 0;
    d->rsi = wd_msg_info(wd_msg_label(info), n, ncaps) | (lost ? WD_MSG_CAPS_LOST : 0);
    d->rdi = badge;
}

static void deliver_event(struct kevent *ev, struct thread *to)
{
    if (ev->delivering)
        ev->delivering(ev);
    struct trap_frame *d = to->frame;
    unsigned n = 1 + ev->nwords;
    *frame_word(d, 0) = ev->count;
    for (unsigned i = 1; i < WD_MSG_WORDS; i++)
        *frame_word(d, i) = i < n ? ev->words[i - 1] : 0;
    d->rsi = wd_msg_info(ev->label, n, 0);
    d->rdi = ev->badge;
    ev->count = 0;
    to->recv_cap_count = 0;
}

/* Writes handles of received capabilities to the current thread's buffer. */
static void ipc_finish(struct thread *t)
{
    if (t->recv_cap_count) {
        (void)copy_to_user(t->caps_buffer, t->recv_caps, t->recv_cap_count * sizeof(wd_handle_t));
        t->recv_cap_count = 0;
    }
}

static void block_on(struct endpoint *ep, struct thread_queue *q, struct thread *t,
                     enum thread_state state, uint64_t timeout)
{
    kobject_get(&ep->obj);
    t->blocked_on = &ep->obj;
    thread_queue_push(q, t);
    t->state = state;
    if (timeout != WD_FOREVER)
        ktimer_arm(&t->timeout, timeout);
}

void ipc_unblock(struct thread *t)
{
    struct kobject *waited_on = t->blocked_on;
    if (!waited_on)
        return;
    thread_queue_remove(t);
    t->blocked_on = NULL;
    kobject_put(waited_on);
}

/* A new call replaces the token the server still held: that caller gets DEAD. */
static void link_reply(struct thread *server, struct thread *caller)
{
    if (server->reply_to)
        ipc_drop_reply_links(server);
    server->reply_to = caller;
    caller->reply_from = server;
    caller->state = THREAD_BLOCKED_REPLY;
}

void ipc_drop_reply_links(struct thread *t)
{
    if (t->reply_from) {
        t->reply_from->reply_to = NULL;
        t->reply_from = NULL;
    }
    if (t->reply_to) {
        struct thread *caller = t->reply_to;
        t->reply_to = NULL;
        caller->reply_from = NULL;
        thread_wake(caller, -WD_E_DEAD);
    }
}

void ipc_deliver_event_to_waiting(struct thread *receiver, struct endpoint *ep)
{
    /* receiver was popped from ep->receivers by the caller. */
    struct kevent *ev = endpoint_take_event(ep);
    KASSERT(ev);
    deliver_event(ev, receiver);
    receiver->blocked_on = NULL;
    ktimer_cancel(&receiver->timeout);
    receiver->ipc_result = 0;
    sched_ready(receiver);
    kobject_put(&ep->obj);
}

/* Takes a pending event or sender for t, if there is one. */
static bool try_receive(struct thread *t, struct endpoint *ep)
{
    struct kevent *ev = endpoint_take_event(ep);
    if (ev) {
        deliver_event(ev, t);
        return true;
    }
    struct thread *sender = ep->senders.head;
    if (!sender)
        return false;
    ipc_unblock(sender);
    deliver_message(sender, t, sender->send_badge);
    if (sender->sending_call) {
        link_reply(t, sender);      /* its timeout stays armed for the reply */
    } else {
        ktimer_cancel(&sender->timeout);
        sender->ipc_result = 0;
        sched_ready(sender);
    }
    return true;
}

static int lookup_endpoint(struct thread *t, wd_handle_t h, uint32_t right, struct cap_slot **slot)
{
    return cap_lookup(&t->process->cspace, h, WD_TYPE_ENDPOINT, right, slot);
}

static int64_t send_common(struct trap_frame *f, bool call)
{
    struct thread *t = current_thread();
    struct cap_slot *slot;
    int r = lookup_endpoint(t, f->rdi, WD_RIGHT_SEND, &slot);
    if (r == 0)
        r = load_message(t, f);
    if (r)
        return r;
    struct endpoint *ep = (struct endpoint *)slot->object;
    if (ep->closed) {
        t->send_cap_count = 0;
        return -WD_E_DEAD;
    }
    uint64_t badge = slot->badge, timeout = f->rbp;
    struct thread *receiver = thread_queue_pop(&ep->receivers);
    if (receiver) {
        receiver->blocked_on = NULL;
        ktimer_cancel(&receiver->timeout);
        deliver_message(t, receiver, badge);
        receiver->ipc_result = 0;
        kobject_put(&ep->obj);      /* the receiver's wait reference; our cap keeps ep */
        if (!call) {
            sched_ready(receiver);
            t->send_cap_count = 0;
            f->rdi = 0;             /* no badge comes back from a send */
            return 0;
        }
        link_reply(receiver, t);
        if (timeout != WD_FOREVER)
            ktimer_arm(&t->timeout, timeout);
        sched_switch_to(receiver);
    } else {
        if (timeout == 0) {
            t->send_cap_count = 0;
            return -WD_E_WOULD_BLOCK;
        }
        t->sending_call = call;
        t->send_badge = badge;
        block_on(ep, &ep->senders, t, THREAD_BLOCKED_SEND, timeout);
        schedule();
    }
    t->send_cap_count = 0;
    ipc_finish(t);
    return t->ipc_result;
}

int64_t sys_ipc_call(struct trap_frame *f) { return send_common(f, true); }
int64_t sys_ipc_send(struct trap_frame *f) { return send_common(f, false); }

static int64_t receive_common(struct thread *t, struct endpoint *ep, uint64_t timeout, struct thread *switch_to)
{
    if (try_receive(t, ep)) {
        if (switch_to)
            sched_ready(switch_to);
        ipc_finish(t);
        return 0;
    }
    if (timeout == 0) {
        if (switch_to)
            sched_ready(switch_to);
        return -WD_E_WOULD_BLOCK;
    }
    block_on(ep, &ep->receivers, t, THREAD_BLOCKED_RECV, timeout);
    if (switch_to)
        sched_switch_to(switch_to);
    else
        schedule();
    ipc_finish(t);
    return t->ipc_result;
}

int64_t sys_ipc_recv(struct trap_frame *f)
{
    struct thread *t = current_thread();
    struct cap_slot *slot;
    int r = lookup_endpoint(t, f->rdi, WD_RIGHT_RECV, &slot);
    if (r == 0)
        r = check_receive_buffer(t, f);
    if (r)
        return r;
    /* A held reply token survives events and sends: a server may wait for its
     * device's interrupt in the middle of a call. A new call replaces it (link_reply). */
    return receive_common(t, (struct endpoint *)slot->object, f->rbp, NULL);
}

/* Delivers the reply in t's registers to the caller it holds a token for;
 * the caller is woken but not queued. NULL if there was no caller. */
static struct thread *deliver_reply(struct thread *t)
{
    struct thread *caller = t->reply_to;
    t->reply_to = NULL;
    caller->reply_from = NULL;
    deliver_message(t, caller, 0);
    ktimer_cancel(&caller->timeout);
    caller->ipc_result = 0;
    return caller;
}

int64_t sys_ipc_reply(struct trap_frame *f)
{
    struct thread *t = current_thread();
    if (!t->reply_to)
        return -WD_E_NO_REPLY;
    int r = load_message(t, f);
    if (r)
        return r;
    sched_ready(deliver_reply(t));
    f->rdi = 0;
    return 0;
}

int64_t sys_ipc_reply_recv(struct trap_frame *f)
{
    struct thread *t = current_thread();
    struct cap_slot *slot;
    int r = lookup_endpoint(t, f->rdi, WD_RIGHT_RECV, &slot);
    if (r == 0 && t->reply_to)
        r = load_message(t, f);
    else if (r == 0)
        r = check_receive_buffer(t, f);
    if (r)
        return r;
    struct thread *caller = t->reply_to ? deliver_reply(t) : NULL;
    return receive_common(t, (struct endpoint *)slot->object, f->rbp, caller);
}

int64_t sys_ipc_signal_recv(struct trap_frame *f)
{
    struct thread *t = current_thread();
    struct cap_slot *slot, *nslot;
    int r = lookup_endpoint(t, f->rdi, WD_RIGHT_RECV, &slot);
    if (r == 0)
        r = cap_lookup(&t->process->cspace, f->rsi, WD_TYPE_NOTIFICATION, WD_RIGHT_SEND, &nslot);
    int64_t bits = r ? r : notification_signal_bits(nslot->badge, f->rdx);
    if (bits < 0)
        return bits;
    r = check_receive_buffer(t, f);
    if (r)
        return r;
    notification_signal((struct notification *)nslot->object, (uint64_t)bits);
    return receive_common(t, (struct endpoint *)slot->object, f->rbp, NULL);
}
