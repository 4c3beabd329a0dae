/*
 * irq.c - the device's interrupt for drivers: wd_driver_irq_open (MSI
 * first, then MSI-X entry 0, the INTx pin when neither is available), wd_driver_irq_wait, which
 * receives the next WD_LABEL_IRQ message, and wd_driver_irq_ack. See
 * warden/driver.h. A driver may wait in the middle of a client's call:
 * receiving a kernel message keeps the reply token the thread holds.
 */
#include <string.h>
#include <warden/driver.h>
#include <warden/syscalls.h>

#define IRQ_BADGE 0x1A0ull   /* on the IRQ endpoint, which nobody else holds */

/* MSI vector 0 unless told otherwise, MSI-X entry 0 for a device without
 * MSI; INTx when neither can work here. */
static long create_source(struct wd_driver *d, unsigned flags, struct wd_driver_irq *out)
{
    static const struct {
        uint64_t index;
        unsigned mode;
    } message_kinds[] = { { WD_IRQ_MSI(0), WD_DRIVER_IRQ_MSI }, { WD_IRQ_MSIX(0), WD_DRIVER_IRQ_MSIX } };
    for (unsigned i = 0; i < 2 && !(flags & WD_DRIVER_IRQ_FORCE_INTX); i++) {
        long irq = wd_irq_create(d->device, message_kinds[i].index);
        if (irq >= 0) {
            out->index = message_kinds[i].index;
            out->mode = message_kinds[i].mode;
            out->msi_error = 0;
            return irq;
        }
        if (irq != -WD_E_NOT_SUPPORTED && irq != -WD_E_NO_IOMMU)
            return irq;
        out->msi_error = irq;
        if (irq == -WD_E_NO_IOMMU)
            break;                          /* MSI-X needs remapping too */
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
    long r = endpoint < 0 ? endpoint : 0;
    if (r == 0) {
        out->irq = (wd_handle_t)irq;
        out->endpoint = (wd_handle_t)endpoint;
        r = wd_irq_bind(out->irq, out->endpoint, IRQ_BADGE); /* >= 0: interrupts so far, queued */
    }
    if (r >= 0)
        return 0;
    wd_cap_delete((wd_handle_t)irq); /* the last capability: the kernel unhooks the source */
    if (endpoint >= 0)
        wd_cap_delete((wd_handle_t)endpoint);
    long msi_error = out->msi_error;
    memset(out, 0, sizeof *out);
    out->msi_error = msi_error;
    return r;
}

long wd_driver_irq_wait(struct wd_driver_irq *q, uint64_t timeout_ns, struct wd_driver_irq_event *event)
{
    if (!q->endpoint)
        return -WD_E_INVALID_ARG;
    struct wd_msg msg;
    do {
        long r = wd_recv(q->endpoint, &msg, timeout_ns);
        if (r < 0)
            return r;
    } while (wd_msg_label(msg.info) != WD_LABEL_IRQ || msg.badge != IRQ_BADGE);
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
    case WD_DRIVER_IRQ_MSIX:
        return "MSI-X";
    case WD_DRIVER_IRQ_INTX:
        return "INTx";
    default:
        return "none";
    }
}
