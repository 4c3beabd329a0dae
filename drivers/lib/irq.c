/*
 * irq.c - the device's interrupt for drivers: wd_driver_irq_open (MSI
 * first, the INTx pin when MSI is unavailable), wd_driver_irq_wait, which
 * hands over the next WD_LABEL_IRQ message, wd_driver_irq_ack, and the
 * waiter thread behind them. See warden/driver.h.
 *
 * Why a thread: ipc_recv drops the reply token of a call the receiving
 * thread has not answered yet (the caller gets DEAD). A server that
 * received a client's request therefore cannot wd_recv its device's
 * interrupt message itself. The interrupt is bound to an endpoint only the
 * waiter thread receives on; the driver thread waits by calling the waiter
 * (wd_call keeps the caller's own reply token, and takes a timeout).
 *
 * Invariant: the waiter never receives while it holds a reply token. It
 * takes an IRQ message first, holding nothing, then one wait call, which
 * it answers at once with that message. The kernel sends no further
 * message until irq_ack, so at most one is ever in flight.
 */
#include <string.h>
#include <warden/driver.h>
#include <warden/syscalls.h>
#include <warden/thread.h>

#define IRQ_BADGE     0x1A0ull   /* on the IRQ endpoint, which nobody else holds */
#define LABEL_WAIT    1u         /* driver thread -> waiter: hand me the next message */
#define LABEL_EVENT   2u         /* waiter's reply: w0 count, w1 time, w2 index */

/* Answers the next wait call with irq_msg; false when the endpoint is gone. */
static bool hand_over(wd_handle_t waiter, const struct wd_msg *irq_msg)
{
    struct wd_msg call;
    for (;;) {
        if (wd_recv(waiter, &call, WD_FOREVER) < 0)
            return false;
        if (wd_msg_label(call.info) != LABEL_WAIT)
            continue;
        call.info = wd_msg_info(LABEL_EVENT, 3, 0);
        call.w[0] = irq_msg->w[0];
        call.w[1] = irq_msg->w[1];
        call.w[2] = irq_msg->w[2];
        if (wd_reply(&call) == 0)
            return true;
        /* NO_REPLY: the call timed out between our receive and this reply.
         * Keep the message for the next wait, or nobody would ever ack. */
    }
}

static void waiter_main(void *arg)
{
    const struct wd_driver_irq *q = arg;
    wd_handle_t endpoint = q->endpoint, waiter = q->waiter;
    struct wd_msg irq_msg;
    for (;;) {
        if (wd_recv(endpoint, &irq_msg, WD_FOREVER) < 0)
            return;             /* the endpoint is gone: nothing left to wait for */
        if (wd_msg_label(irq_msg.info) != WD_LABEL_IRQ || irq_msg.badge != IRQ_BADGE)
            continue;
        if (!hand_over(waiter, &irq_msg))
            return;
    }
}

/* MSI vector 0 unless told otherwise; INTx when MSI cannot work here. */
static long create_source(struct wd_driver *d, unsigned flags, struct wd_driver_irq *out)
{
    if (!(flags & WD_DRIVER_IRQ_FORCE_INTX)) {
        long irq = wd_irq_create(d->device, WD_IRQ_MSI(0));
        if (irq >= 0) {
            out->index = WD_IRQ_MSI(0);
            out->mode = WD_DRIVER_IRQ_MSI;
            return irq;
        }
        if (irq != -WD_E_NOT_SUPPORTED && irq != -WD_E_NO_IOMMU)
            return irq;
        out->msi_error = irq;
    }
    long irq = wd_irq_create(d->device, WD_IRQ_INTX);
    if (irq >= 0) {
        out->index = WD_IRQ_INTX;
        out->mode = WD_DRIVER_IRQ_INTX;
    }
    return irq;
}

long wd_driver_irq_open(struct wd_driver *d, unsigned flags, struct wd_driver_irq *out)
{
    memset(out, 0, sizeof *out);
    if (flags & ~WD_DRIVER_IRQ_FORCE_INTX)
        return -WD_E_BAD_FLAGS;
    long irq = create_source(d, flags, out);
    if (irq < 0)
        return irq;
    long endpoint = wd_endpoint_create(d->pool);
    long waiter = endpoint < 0 ? endpoint : wd_endpoint_create(d->pool);
    long r = waiter < 0 ? waiter : 0;
    if (r == 0) {
        out->irq = (wd_handle_t)irq;
        out->endpoint = (wd_handle_t)endpoint;
        out->waiter = (wd_handle_t)waiter;
        r = wd_irq_bind(out->irq, out->endpoint, IRQ_BADGE); /* >= 0: interrupts so far, queued */
    }
    if (r >= 0) {
        long thread = wd_thread_start(waiter_main, out, WD_DRIVER_IRQ_PRIORITY);
        if (thread >= 0) {
            wd_cap_delete((wd_handle_t)thread); /* it runs on without the handle */
            return 0;
        }
        r = thread;
    }
    wd_cap_delete((wd_handle_t)irq); /* the last capability: the kernel unhooks the source */
    if (endpoint >= 0)
        wd_cap_delete((wd_handle_t)endpoint);
    if (waiter >= 0)
        wd_cap_delete((wd_handle_t)waiter);
    long msi_error = out->msi_error;
    memset(out, 0, sizeof *out);
    out->msi_error = msi_error;
    return r;
}

long wd_driver_irq_wait(struct wd_driver_irq *q, uint64_t timeout_ns, struct wd_driver_irq_event *event)
{
    if (!q->waiter)
        return -WD_E_INVALID_ARG;
    struct wd_msg msg = { .info = wd_msg_info(LABEL_WAIT, 0, 0) };
    long r = wd_call(q->waiter, &msg, timeout_ns);
    if (r < 0)
        return r;
    if (wd_msg_label(msg.info) != LABEL_EVENT)
        return -WD_E_INVALID_ARG; /* cannot happen: only the waiter receives there */
    if (event) {
        event->count = msg.w[0];
        event->time_ns = msg.w[1];
        event->index = msg.w[2];
    }
    return msg.w[0] ? (long)msg.w[0] : 1;
}

long wd_driver_irq_ack(struct wd_driver_irq *q)
{
    return wd_irq_ack(q->irq);
}

const char *wd_driver_irq_mode_name(unsigned mode)
{
    switch (mode) {
    case WD_DRIVER_IRQ_MSI:
        return "MSI";
    case WD_DRIVER_IRQ_INTX:
        return "INTx";
    default:
        return "none";
    }
}
