/*
 * sys_inspect.c - read-only inspection (inspect) and the console's input
 * (console_read, console_notify); warden/inspect.h has the records.
 *
 * Each kind has one filler: it copies one record out of the kernel's own
 * structures into a local and returns the next index. Nothing here
 * changes state; the record reaches user space only after it is built.
 */
#include "syscall/syscall.h"

#include "iommu/vtd.h"
#include "obj/console.h"
#include "obj/device.h"
#include "obj/dmaspace.h"
#include "obj/fault_log.h"
#include "obj/frame_object.h"
#include "obj/irq.h"
#include "obj/notification.h"
#include "obj/pool.h"
#include "mm/usercopy.h"

#include <string.h>
#include <warden/inspect.h>

#define CONSOLE_READ_MAX 4096

int64_t sys_console_read(wd_handle_t console, char *buf, uint64_t len)
{
    struct kobject *o;
    int r = lookup_object(console, WD_TYPE_CONSOLE, WD_RIGHT_READ, &o);
    if (r)
        return r;
    if (len > CONSOLE_READ_MAX)
        return -WD_E_INVALID_ARG;
    if (!user_range_valid((uint64_t)buf, len))
        return -WD_E_BAD_ADDRESS;
    uint8_t chunk[WD_CONSOLE_RING_BYTES];
    size_t n = console_peek(chunk, len < sizeof chunk ? len : sizeof chunk);
    if (n && copy_to_user((uint64_t)buf, chunk, n))
        return -WD_E_BAD_ADDRESS;      /* nothing taken: the bytes wait for the next read */
    console_consume(n);
    return (int64_t)n;
}

int64_t sys_console_notify(wd_handle_t console, wd_handle_t notification, uint64_t bits)
{
    struct kobject *o;
    int r = lookup_object(console, WD_TYPE_CONSOLE, WD_RIGHT_READ, &o);
    if (r)
        return r;
    if (notification == WD_NULL) {
        console_set_notification(NULL, 0);
        return 0;
    }
    struct cap_slot *slot;
    r = lookup_cap(notification, WD_TYPE_NOTIFICATION, WD_RIGHT_SEND, &slot);
    if (r)
        return r;
    int64_t effective = notification_signal_bits(slot->badge, bits);
    if (effective < 0)
        return effective;
    console_set_notification((struct notification *)slot->object, (uint64_t)effective);
    return 0;
}

/* ---- one filler per kind: 0 and the next index in *next, or -WD_E_* ---- */

static int fill_process(uint64_t index, struct wd_inspect_process *out, uint64_t *next)
{
    struct process *p = process_at((unsigned)(index > ~0u ? ~0u : index));
    if (!p)
        return -WD_E_NOT_FOUND;
    memcpy(out->name, p->name, sizeof out->name);
    out->pid = p->obj.id;
    out->dead = p->dead;
    out->live_threads = p->live_threads;
    out->cpu_tsc = p->cpu_tsc;
    out->syscalls = p->syscalls;
    out->pool_budget = p->pool ? p->pool->budget : 0;
    out->pool_used = p->pool ? p->pool->used : 0;
    out->caps = p->dead ? 0 : p->cspace.used;
    out->fault_endpoint_id = p->fault_endpoint ? p->fault_endpoint->obj.id : 0;
    *next = index + 1;
    return 0;
}

static int fill_cap(uint64_t pid, uint64_t index, struct wd_inspect_cap *out, uint64_t *next)
{
    struct process *p = process_by_id(pid);
    if (!p || p->dead)
        return -WD_E_NOT_FOUND;
    for (uint64_t i = index ? index : 1; i < p->cspace.slot_count; i++) {
        const struct cap_slot *slot = &p->cspace.slots[i];
        if (!slot->object)
            continue;
        struct wd_cap_info info;
        cap_slot_describe(slot, &info);
        out->slot = i;
        out->handle = ((uint64_t)slot->generation << 16) | i;
        out->type = info.type;
        out->rights = info.rights;
        out->badge = info.badge;
        out->object_id = info.object_id;
        out->flags = info.flags;
        out->parent_pid = slot->parent && slot->parent->cspace && slot->parent->cspace->owner
                              ? slot->parent->cspace->owner->obj.id
                              : 0;
        *next = i + 1;
        return 0;
    }
    return -WD_E_NOT_FOUND;
}

static int fill_device(uint64_t index, struct wd_device_info *out, uint64_t *next)
{
    struct device *d = index < device_count() ? device_at((unsigned)index) : NULL;
    if (!d)
        return -WD_E_NOT_FOUND;
    device_describe(d, NULL, out);
    *next = index + 1;
    return 0;
}

/* The first group attached to s (NULL: none). */
static const struct iommu_group *group_of(const struct dmaspace *s)
{
    for (unsigned i = 0; i < iommu_group_count(); i++)
        if (iommu_group_at(i)->space == s)
            return iommu_group_at(i);
    return NULL;
}

static int fill_domain(uint64_t index, struct wd_inspect_domain *out, uint64_t *next)
{
    struct dmaspace *s = dmaspace_at((unsigned)(index > ~0u ? ~0u : index));
    if (!s)
        return -WD_E_NOT_FOUND;
    const struct iommu_group *g = group_of(s);
    out->object_id = s->obj.id;
    out->domain_id = s->domain_id;
    out->unit = s->unit->index;
    out->owner_pid = g && g->owner ? g->owner->obj.id : 0;
    out->first_device = g ? g->first_address : ~0ull;
    out->groups = s->attached_groups;
    for (const struct dma_mapping *m = s->mappings; m; m = m->next) {
        out->mappings++;
        out->mapped_bytes += m->length;
    }
    out->table_bytes = s->table_charge;
    *next = index + 1;
    return 0;
}

/* The nearest ancestor of slot held by another process: who granted it. */
static uint64_t grantor_of(const struct cap_slot *slot)
{
    for (const struct cap_slot *a = slot->parent; a; a = a->parent)
        if (a->cspace != slot->cspace && a->cspace && a->cspace->owner)
            return a->cspace->owner->obj.id;
    return 0;
}

static int fill_mapping(uint64_t domain, uint64_t index, struct wd_inspect_mapping *out, uint64_t *next)
{
    struct dmaspace *s = dmaspace_by_id(domain);
    if (!s)
        return -WD_E_NOT_FOUND;
    const struct dma_mapping *m = s->mappings;
    for (uint64_t i = 0; m && i < index; i++)
        m = m->next;
    if (!m)
        return -WD_E_NOT_FOUND;
    out->iova = m->iova;
    out->length = m->length;
    out->rights = m->rights;
    out->flags = (m->lease ? WD_MAPPING_LEASE : 0) | (m->cleared ? WD_MAPPING_CLEARED : 0);
    out->frame_id = m->frame->obj.id;
    out->offset = m->offset;
    uint64_t phys, page_size = 0;
    unsigned perm;
    if (!slpt_lookup(&s->table, m->iova, &phys, &perm, &page_size))
        page_size = 0;
    out->page_size = page_size;
    if (m->lease && m->lease->owner && m->lease->owner->slot) {
        const struct cap_slot *slot = m->lease->owner->slot;
        out->holder_pid = slot->cspace && slot->cspace->owner ? slot->cspace->owner->obj.id : 0;
        out->grantor_pid = grantor_of(slot);
    }
    *next = index + 1;
    return 0;
}

static int fill_fault(uint64_t index, struct wd_inspect_fault *out, uint64_t *next)
{
    if (index > ~0u || !fault_log_entry((unsigned)index, out))
        return -WD_E_NOT_FOUND;
    *next = index + 1;
    return 0;
}

static int fill_irq(uint64_t index, struct wd_inspect_irq *out, uint64_t *next)
{
    for (uint64_t i = index; i < IRQ_MAX; i++) {
        const struct irq *q = irq_table_entry((unsigned)i);
        if (!q)
            continue;
        struct wd_irq_info info;
        irq_describe(q, &info);
        out->index = info.index;
        out->device = info.device;
        out->vector = info.vector;
        out->gsi = info.gsi;
        out->irte_index = info.irte_index;
        out->kernel = q->kernel_handler != NULL;
        out->owner_pid = q->device && q->device->group->owner ? q->device->group->owner->obj.id : 0;
        out->endpoint_id = q->endpoint ? q->endpoint->obj.id : 0;
        out->badge = q->endpoint ? q->event.badge : 0;
        out->interrupts = info.interrupts;
        out->messages = info.messages;
        out->acks = info.acks;
        out->pending = info.pending;
        *next = i + 1;
        return 0;
    }
    return -WD_E_NOT_FOUND;
}

static const uint64_t record_size[WD_INSPECT_KIND_COUNT] = {
    [WD_INSPECT_PROCESS] = sizeof(struct wd_inspect_process),
    [WD_INSPECT_CAP] = sizeof(struct wd_inspect_cap),
    [WD_INSPECT_DEVICE] = sizeof(struct wd_device_info),
    [WD_INSPECT_DOMAIN] = sizeof(struct wd_inspect_domain),
    [WD_INSPECT_MAPPING] = sizeof(struct wd_inspect_mapping),
    [WD_INSPECT_FAULT] = sizeof(struct wd_inspect_fault),
    [WD_INSPECT_IRQ] = sizeof(struct wd_inspect_irq),
};

int64_t sys_inspect(wd_handle_t inspector, uint64_t kind, uint64_t id, uint64_t index, void *out, uint64_t size)
{
    struct kobject *o;
    int r = lookup_object(inspector, WD_TYPE_INSPECTOR, WD_RIGHT_READ, &o);
    if (r)
        return r;
    if (kind == 0 || kind >= WD_INSPECT_KIND_COUNT || size != record_size[kind])
        return -WD_E_INVALID_ARG;
    if (!user_range_valid((uint64_t)out, size))
        return -WD_E_BAD_ADDRESS;
    union {
        struct wd_inspect_process process;
        struct wd_inspect_cap cap;
        struct wd_device_info device;
        struct wd_inspect_domain domain;
        struct wd_inspect_mapping mapping;
        struct wd_inspect_fault fault;
        struct wd_inspect_irq irq;
    } record;
    memset(&record, 0, sizeof record);
    uint64_t next = 0;
    switch (kind) {
    case WD_INSPECT_PROCESS: r = fill_process(index, &record.process, &next); break;
    case WD_INSPECT_CAP: r = fill_cap(id, index, &record.cap, &next); break;
    case WD_INSPECT_DEVICE: r = fill_device(index, &record.device, &next); break;
    case WD_INSPECT_DOMAIN: r = fill_domain(index, &record.domain, &next); break;
    case WD_INSPECT_MAPPING: r = fill_mapping(id, index, &record.mapping, &next); break;
    case WD_INSPECT_FAULT: r = fill_fault(index, &record.fault, &next); break;
    default: r = fill_irq(index, &record.irq, &next); break;
    }
    if (r)
        return r;
    if (copy_to_user((uint64_t)out, &record, size))
        return -WD_E_BAD_ADDRESS;
    return (int64_t)next;
}
