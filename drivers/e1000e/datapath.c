/*
 * datapath.c - the e1000e frame service's data path (e1000e_protocol.h,
 * <warden/session.h>): a transmit request becomes a TX descriptor whose
 * buffer is the IOVA of the client's region (the one mapping made at
 * session setup: zero copy, no IOMMU operation per frame), one TDT write
 * per batch; receive requests wait in order for frames, and a received
 * frame is lent to the receiving session where the device wrote it, in
 * the driver's receive buffers, until the session hands the buffer back.
 *
 * Invariants: every request is checked (ring.c: inside the region;
 * wd_session_iova: the lease lets the device read it; here: the length)
 * before the device sees an IOVA; a send whose lease ended while it was
 * on the ring completes with DEAD, never success (QEMU sends zeros from an
 * unmapped buffer and reports it done, facts sheet §2.6); a buffer is
 * lent to at most one session and handed back once; a session that
 * stops receiving gives back every buffer it held.
 */
#include <stdio.h>
#include <warden/syscalls.h>

#include "e1000e.h"

#define TAKE_BATCH 16u

static void mark_flush(struct e1000e *e, struct wd_session *s)
{
    e->sessions_to_flush |= 1ull << s->id;
}

/* The receiving session went away: every buffer it held is free again. */
static void forget_receiver(struct e1000e *e)
{
    for (unsigned i = 0; i < E1000E_RX_BUFFERS; i++)
        if (e->buffer_state[i] == BUFFER_LENT) {
            e->buffer_state[i] = BUFFER_FREE;
            e->free_buffer[e->free_buffers++] = (uint16_t)i;
        }
    e->receiver = NULL;
    e->rx_pending_head = e->rx_pending_count = 0;
    e1000e_rx_arm(e);
}

static bool receiver_gone(const struct e1000e *e)
{
    return e->receiver && (!e->receiver->open || e->receiver->ended);
}

long e1000e_datapath_may_open(struct e1000e *e, uint64_t flags)
{
    if (receiver_gone(e))
        forget_receiver(e);
    return (flags & NET_SESSION_RECEIVE) && e->receiver ? -WD_E_BUSY : 0;   /* one session receives */
}

void e1000e_datapath_opened(struct e1000e *e, struct wd_session *s)
{
    if (s->args[0] & NET_SESSION_RECEIVE)
        e->receiver = s;
}

/* Frames the device has written, for receive requests, in order. */
static void deliver_frames(struct e1000e *e)
{
    if (receiver_gone(e))
        forget_receiver(e);
    bool consumed = false;
    while (e->rx_next != e->rx_arm && (!e->receiver || e->rx_pending_count)) {
        unsigned slot = e->rx_next % E1000E_RING;
        volatile struct e1000e_rx_desc *d = (volatile struct e1000e_rx_desc *)e->rx_ring.cpu + slot;
        if (!(d->status & E1000E_RX_DD))
            break;
        __asm__ volatile("" ::: "memory");  /* the descriptor after its DD bit */
        unsigned buffer = e->rx_slot_buffer[slot], length = d->length;
        bool good = (d->status & E1000E_RX_EOP) && !(d->errors & E1000E_RX_FRAME_ERRORS) && length >= NET_FRAME_MIN && length <= NET_FRAME_MAX;
        e->rx_next++;
        consumed = true;
        if (!good || !e->receiver) {
            e->bad_frames += !good;
            e->rx_dropped += good;      /* nobody receives */
            e->buffer_state[buffer] = BUFFER_FREE;
            e->free_buffer[e->free_buffers++] = (uint16_t)buffer;
            continue;
        }
        uint64_t id = e->rx_pending[e->rx_pending_head];
        e->rx_pending_head = (e->rx_pending_head + 1) % E1000E_RX_PENDING_MAX;
        e->rx_pending_count--;
        e->buffer_state[buffer] = BUFFER_LENT;
        struct wd_ring_desc c = {
            .op = NET_RX, .id = id, .arg = (uint64_t)buffer * NET_RX_BUFFER_BYTES, .length = length,
        };
        wd_session_post_completion(e->receiver, &c);
        mark_flush(e, e->receiver);
        e->received++;
    }
    if (consumed)
        e1000e_rx_arm(e);
}

/* Sends the device has finished (DD), in order. */
static void reap_sends(struct e1000e *e)
{
    while (e->tx_clean != e->tx_tail) {
        unsigned slot = e->tx_clean % E1000E_RING;
        volatile struct e1000e_tx_desc *d = (volatile struct e1000e_tx_desc *)e->tx_ring.cpu + slot;
        if (!(d->status & E1000E_TX_DD))
            break;
        struct e1000e_tx_slot *t = &e->tx_slots[slot];
        struct wd_session *s = t->session;
        long status = s->ended ? -WD_E_DEAD : 0;    /* the device sent zeros from the revoked region */
        if (status < 0)
            e->tx_failed++;
        else
            e->sent++;
        wd_session_post(s, t->id, NET_TX, status < 0 ? (uint16_t)-status : 0, status < 0 ? 0 : t->length);
        if (t->quiet && status == 0)
            e->sessions_quiet |= 1ull << s->id;
        else
            mark_flush(e, s);
        t->session = NULL;
        e->tx_clean++;
        if (s->end_pending && s->in_flight == 1)
            wd_session_flush(s);
        wd_session_request_done(&e->sessions, s);
    }
}

static long start_send(struct e1000e *e, struct wd_session *s, const struct wd_ring_desc *req)
{
    if (req->length < NET_FRAME_MIN || req->length > NET_FRAME_MAX)
        return -WD_E_INVALID_ARG;
    uint64_t iova;
    long r = wd_session_iova(s, req->offset, req->length, WD_RIGHT_READ, &iova);
    if (r < 0)
        return r;
    unsigned slot = e->tx_tail % E1000E_RING;
    volatile struct e1000e_tx_desc *d = (volatile struct e1000e_tx_desc *)e->tx_ring.cpu + slot;
    d->addr = iova;
    d->length = (uint16_t)req->length;
    d->cso = 0;
    d->cmd = E1000E_TX_EOP | E1000E_TX_IFCS | E1000E_TX_RS;
    d->status = 0;
    d->css = 0;
    d->special = 0;
    e->tx_slots[slot] = (struct e1000e_tx_slot){
        .session = s, .id = req->id, .length = (uint16_t)req->length, .quiet = (req->arg & NET_TX_QUIET) != 0,
    };
    e->tx_tail++;
    s->in_flight++;
    return 1;                           /* completes when the device is done */
}

static long give_back(struct e1000e *e, struct wd_session *s, uint64_t offset)
{
    uint64_t buffer = offset / NET_RX_BUFFER_BYTES;
    if (s != e->receiver || offset % NET_RX_BUFFER_BYTES || buffer >= E1000E_RX_BUFFERS ||
        e->buffer_state[buffer] != BUFFER_LENT)
        return -WD_E_INVALID_ARG;
    e->buffer_state[buffer] = BUFFER_FREE;
    e->free_buffer[e->free_buffers++] = (uint16_t)buffer;
    return 0;
}

/* One request: 1 when it completes later, 0 or -WD_E_* to complete now. */
static long run_request(struct e1000e *e, struct wd_session *s, const struct wd_ring_desc *req)
{
    switch (req->op) {
    case NET_TX:
        return start_send(e, s, req);
    case NET_RX:
        if (s != e->receiver)
            return -WD_E_NOT_SUPPORTED;
        e->rx_pending[(e->rx_pending_head + e->rx_pending_count++) % E1000E_RX_PENDING_MAX] = req->id;
        return 1;
    case NET_RX_RETURN:
        return give_back(e, s, req->arg);
    default:
        return -WD_E_NOT_SUPPORTED;
    }
}

/* Requests there is room for: a TX descriptor and a receive slot each. */
static unsigned room(const struct e1000e *e)
{
    unsigned tx = E1000E_RING - 1 - (e->tx_tail - e->tx_clean), rx = E1000E_RX_PENDING_MAX - e->rx_pending_count;
    unsigned r = tx < rx ? tx : rx;
    return r < TAKE_BATCH ? r : TAKE_BATCH;
}

static void take_requests(struct wd_session *s, void *ctx)
{
    struct e1000e *e = ctx;
    for (;;) {
        long got = 0;
        unsigned asked = 0;
        struct wd_ring_desc batch[TAKE_BATCH];
        while ((asked = room(e)) && (got = wd_session_next_requests(s, batch, asked)) > 0) {
            for (long i = 0; i < got; i++) {
                long r = batch[i].status ? -(long)batch[i].status : run_request(e, s, &batch[i]);
                if (r <= 0)
                    wd_session_post(s, batch[i].id, batch[i].op, r < 0 ? (uint16_t)-r : 0, 0);
            }
            if ((unsigned)got < asked)
                break;
        }
        if (got == -WD_E_PROTOCOL)
            return;                     /* broken: wd_sessions_end_broken ends it */
        if (!wd_session_flush(s) || !asked)
            return;                     /* nothing more, or no room: completions take the rest */
    }
}

static void ring_doorbell(struct e1000e *e)
{
    if (e->tx_tail == e->tx_rung)
        return;
    __asm__ volatile("sfence" ::: "memory");    /* the descriptors before the tail */
    e1000e_write(e, E1000E_TDT, e->tx_tail % E1000E_RING);     /* QEMU sends inside this write */
    e->tx_rung = e->tx_tail;
}

static void flush_sessions(struct e1000e *e)
{
    for (uint64_t f = e->sessions_to_flush; f; f &= f - 1) {
        struct wd_session *s = &e->sessions.sessions[__builtin_ctzll(f)];
        if (s->open)
            take_requests(s, e);
    }
    for (uint64_t f = e->sessions_quiet & ~e->sessions_to_flush; f; f &= f - 1)
        wd_session_flush_quietly(&e->sessions.sessions[__builtin_ctzll(f)]);
    e->sessions_to_flush = e->sessions_quiet = 0;
}

static void session_ended(struct wd_session *s, void *ctx)
{
    struct e1000e *e = ctx;
    printf("e1000e: session %llu: the client took its region back (%u send(s) on the ring)\n",
           (unsigned long long)s->id, s->in_flight);
    if (s == e->receiver)
        forget_receiver(e);
}

/* Send interrupts only while sends are still on the device after a pass:
 * QEMU sends inside the TDT write, so usually none is, and every send
 * would otherwise cost an interrupt that finds nothing to do. */
static void tx_interrupt_as_needed(struct e1000e *e)
{
    bool outstanding = e->tx_clean != e->tx_tail;
    if (outstanding == e->tx_interrupt_on)
        return;
    uint32_t cause = e->irq_mode == WD_DRIVER_IRQ_MSIX ? E1000E_ICR_TXQ0 : E1000E_ICR_TXDW;
    e1000e_write(e, outstanding ? E1000E_IMS : E1000E_IMC, cause);
    e->tx_interrupt_on = outstanding;
}

void e1000e_datapath_notified(struct e1000e *e, uint64_t bits)
{
    reap_sends(e);                      /* frees ring room; the region checks below see ended leases */
    wd_sessions_dispatch(&e->sessions, bits, take_requests, session_ended, e);
    wd_sessions_end_broken(&e->sessions, "e1000e");
    ring_doorbell(e);
    deliver_frames(e);
    reap_sends(e);
    flush_sessions(e);
    ring_doorbell(e);
    reap_sends(e);
    flush_sessions(e);
    tx_interrupt_as_needed(e);
}

void e1000e_datapath_interrupt(struct e1000e *e, uint32_t causes)
{
    if ((causes & (E1000E_ICR_TXDW | E1000E_ICR_TXQ0)) || e->tx_clean != e->tx_tail) {    /* MSI/INTx, MSI-X */
        /* Learn of leases that ended before posting a send as done. */
        long bits = wd_notify_poll(e->sessions.notification);
        if (bits > 0)
            wd_sessions_dispatch(&e->sessions, (uint64_t)bits, take_requests, session_ended, e);
        reap_sends(e);
    }
    if (causes & (E1000E_ICR_RXT0 | E1000E_ICR_RXQ0 | E1000E_ICR_RXO))      /* MSI/INTx, MSI-X, overrun */
        deliver_frames(e);
    if ((causes & (E1000E_ICR_LSC | E1000E_ICR_OTHER)) && e1000e_link_changed(e))
        printf("e1000e: link %s\n", e->link_up ? "up" : "down");
    flush_sessions(e);
    wd_sessions_end_broken(&e->sessions, "e1000e");
    ring_doorbell(e);
    reap_sends(e);
    flush_sessions(e);
    tx_interrupt_as_needed(e);
}

void e1000e_rx_pool_request(struct e1000e *e, struct wd_msg *msg)
{
    long copy = wd_cap_copy(e->rx_pool.frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP | WD_RIGHT_RETAIN | WD_RIGHT_GRANT, 0);
    if (copy < 0) {
        msg->w[0] = (uint64_t)copy;
        msg->info = wd_msg_info(NET_OP_RX_POOL, 1, 0);
        return;
    }
    msg->w[0] = 0;
    msg->w[1] = e->rx_pool.size;
    msg->w[2] = NET_RX_BUFFER_BYTES;
    msg->caps[0] = (wd_handle_t)copy;
    msg->info = wd_msg_info(NET_OP_RX_POOL, 3, 1) | WD_MSG_MOVE_CAPS;
}
