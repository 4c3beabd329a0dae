/*
 * sys_irq.c - the interrupt system calls: irq_create (the kernel programs
 * the source), irq_bind, irq_ack, irq_info and irq_stats. See
 * docs/interrupts.md.
 */
#include "syscall/syscall.h"

#include "mm/usercopy.h"
#include "obj/device.h"
#include "obj/endpoint.h"
#include "obj/irq.h"

#define IRQ_RIGHTS (WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_CONTROL | WD_RIGHT_GRANT)

int64_t sys_irq_create(wd_handle_t source, uint64_t index)
{
    struct device *d = NULL;
    struct kobject *root;
    int r;
    if (WD_IRQ_KIND(index) == WD_IRQ_KIND_ISA)
        r = lookup_object(source, WD_TYPE_DEVICE_ROOT, WD_RIGHT_CONTROL, &root);
    else
        r = lookup_device(source, WD_RIGHT_CONTROL, &d);
    if (r)
        return r;
    if (index >> (WD_IRQ_KIND_SHIFT + 4))
        return -WD_E_INVALID_ARG;
    if (cspace_free_slots(&current_process()->cspace) == 0)
        return -WD_E_CSPACE_FULL;
    int error;
    struct irq *q = irq_create(d, index, &error);
    if (!q)
        return -error;
    if (d)
        iommu_group_set_owner(d->group, current_process());    /* no-op if it already was */
    return install_new_object(&q->obj, IRQ_RIGHTS);
}

static int lookup_irq(wd_handle_t h, uint32_t rights, struct irq **out)
{
    return lookup_object(h, WD_TYPE_IRQ, rights, (struct kobject **)out);
}

int64_t sys_irq_bind(wd_handle_t irq, wd_handle_t endpoint, uint64_t badge)
{
    struct irq *q;
    struct kobject *ep = NULL;
    int r = lookup_irq(irq, WD_RIGHT_CONTROL, &q);
    if (r == 0 && endpoint != WD_NULL)
        r = lookup_object(endpoint, WD_TYPE_ENDPOINT, WD_RIGHT_SEND, &ep);
    if (r)
        return r;
    return irq_bind(q, (struct endpoint *)ep, badge);
}

int64_t sys_irq_ack(wd_handle_t irq)
{
    struct irq *q;
    int r = lookup_irq(irq, WD_RIGHT_WRITE, &q);
    if (r)
        return r;
    return irq_ack(q);
}

int64_t sys_irq_info(wd_handle_t irq, struct wd_irq_info *out)
{
    struct irq *q;
    int r = lookup_irq(irq, WD_RIGHT_READ, &q);
    if (r)
        return r;
    struct wd_irq_info info;
    irq_describe(q, &info);
    return copy_to_user((uint64_t)out, &info, sizeof info);
}

int64_t sys_irq_stats(struct wd_irq_stats *out)
{
    struct wd_irq_stats stats;
    irq_stats(&stats);
    return copy_to_user((uint64_t)out, &stats, sizeof stats);
}
