/*
 * revoke.c - the revocation path (see revoke.h, DESIGN.md §5 and
 * docs/driver-crash.md). One function takes a group away from its owner;
 * death and a lost capability both come through it, so a live driver
 * whose device is revoked sees exactly what a dead one would have left
 * behind: a device that can no longer reach memory or interrupt anyone.
 *
 * Order per group, each step finished before the next starts:
 *   1. bus mastering off on every function (the device stops issuing DMA);
 *   2. its interrupts unhooked: source off, IRTE cleared, IEC invalidated
 *      and waited for, vector freed;
 *   3. context entries cleared, context cache and IOTLB invalidated and
 *      waited for (dmaspace_detach);
 *   4. every FLR-capable function reset (PCIe Function Level Reset: an
 *      NVMe controller drains its in-flight I/O, so no write of the old
 *      owner's lands later; the next owner gets BUSY until the reset's
 *      100 ms are over and the BARs are restored);
 *   5. ownership dropped (and a flood's quiescing with it).
 * A live holder also loses its mappings of the group's BARs.
 * Frames are released only afterwards, when the dmaspace goes (its last
 * capability lives in the dying process's cspace, deleted after this).
 */
#include "obj/revoke.h"

#include "cap/cspace.h"
#include "core/printk.h"
#include "obj/device.h"
#include "obj/dmaspace.h"
#include "obj/irq.h"
#include "obj/frame_object.h"
#include "obj/process.h"

#include <warden/ipc.h>

static uint64_t stamp_clock;        /* one sequence for every stamp below */
static uint64_t revocations;
static uint64_t latest_pid;
static uint64_t latest_flush_stamp;
static uint64_t latest_release_stamp;
static uint64_t frames_released;

static uint64_t count_mappings(const struct dmaspace *s)
{
    uint64_t n = 0;
    for (const struct dma_mapping *m = s->mappings; m; m = m->next)
        n++;
    return n;
}

static void revoke_group(struct iommu_group *g, struct revoke_summary *sum)
{
    iommu_group_quiesce(g);
    g->quiesced = false;            /* a flood's quiescing was the old owner's; BME is off anyway */
    sum->irqs += irq_release_group(g);
    if (g->space) {
        sum->mappings += count_mappings(g->space);
        sum->last_domain = g->space->domain_id;
        dmaspace_detach(g);         /* returns after the invalidation wait */
        latest_flush_stamp = ++stamp_clock;
    }
    sum->resets += iommu_group_reset(g);   /* the device forgets its old work before anyone gets it */
    iommu_group_set_owner(g, NULL);
    if (!sum->groups++)
        sum->first_address = g->first_address;
    revocations++;
}

void revoke_begin(uint64_t pid)
{
    latest_pid = pid;
    latest_flush_stamp = 0;
    latest_release_stamp = 0;
}

static void begin(const struct process *p)
{
    revoke_begin(p->obj.id);
}

void revoke_note_flush(void)
{
    latest_flush_stamp = ++stamp_clock;
}

void revoke_owned_devices(struct process *p, struct revoke_summary *out)
{
    *out = (struct revoke_summary){ 0 };
    for (unsigned i = 0; i < iommu_group_count(); i++) {
        struct iommu_group *g = iommu_group_at(i);
        if (g->owner != p)
            continue;
        if (!out->groups)
            begin(p);
        uint64_t irqs = out->irqs, mappings = out->mappings;
        uint64_t resets = out->resets;
        out->last_domain = 0;
        revoke_group(g, out);
        printk("IOMMU: group %u revoked from dead process %llu: bus mastering off, %llu interrupt(s) "
               "unhooked, %llu DMA mapping(s) of domain %u unreachable (context cleared, IOTLB flushed)%s\n",
               i, (unsigned long long)p->obj.id, (unsigned long long)(out->irqs - irqs),
               (unsigned long long)(out->mappings - mappings), out->last_domain,
               out->resets > resets ? ", function reset (FLR)" : "");
    }
}

static bool holds_group_device(const struct kobject *o, const void *group)
{
    return o->type == WD_TYPE_DEVICE && ((const struct device *)o)->group == group;
}

void revoke_device_cap_lost(struct device *d, struct process *holder)
{
    struct iommu_group *g = d->group;
    if (!holder || holder->dead || g->owner != holder || cspace_holds(&holder->cspace, holds_group_device, g))
        return;
    struct revoke_summary sum = { 0 };
    begin(holder);
    revoke_group(g, &sum);
    /* A live holder keeps running, but must not keep the device's registers:
     * through them it could start DMA into the next owner's IOVAs. */
    uint64_t bars = iommu_group_unmap_bars(g, holder);
    printk("IOMMU: group %u revoked from live process %llu (its last device capability went): %llu "
           "interrupt(s), %llu DMA mapping(s) of domain %u, %llu BAR mapping(s) removed\n",
           g->index, (unsigned long long)holder->obj.id, (unsigned long long)sum.irqs,
           (unsigned long long)sum.mappings, sum.last_domain, (unsigned long long)bars);
    if (!holder->fault_endpoint)
        return;
    struct kevent *ev = &holder->revoke_event;
    ev->label = WD_LABEL_REVOKED;
    ev->badge = holder->fault_badge;
    ev->nwords = 7;
    ev->words[0] = holder->obj.id;
    ev->words[1] = 0;
    ev->words[2] = 0;
    revoke_summary_words(&sum, &ev->words[3]);
    kevent_raise(holder->fault_endpoint, ev);
}

void revoke_summary_words(const struct revoke_summary *s, uint64_t *words)
{
    words[0] = s->groups;
    words[1] = s->mappings;
    words[2] = s->irqs;
    words[3] = s->first_address;
}

void revoke_note_frame_release(void)
{
    frames_released++;
    if (latest_pid && !latest_release_stamp)
        latest_release_stamp = ++stamp_clock;
}

void revoke_fill_info(struct wd_system_info *info)
{
    info->revocations = revocations;
    info->revoke_pid = latest_pid;
    info->revoke_flush_stamp = latest_flush_stamp;
    info->revoke_release_stamp = latest_release_stamp;
    info->dma_frames_released = frames_released;
}
