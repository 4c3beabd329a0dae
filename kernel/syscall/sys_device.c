/*
 * sys_device.c - the device, DMA and IOMMU system calls: listing and
 * opening PCI functions, mediated config access, BAR frames, dmaspaces,
 * attach/detach, dma_map/dma_unmap, fault binding and unit status.
 *
 * Ownership rule: once a process has attached one of a group's devices,
 * only that process may touch the group's devices (config writes and
 * reads, BARs, attach, detach, fault binding) until it detaches or dies.
 */
#include "syscall/syscall.h"

#include "iommu/vtd.h"
#include "mm/usercopy.h"
#include "obj/device.h"
#include "obj/dmaspace.h"
#include "obj/frame_object.h"
#include "obj/irq.h"
#include "pci/config_policy.h"
#include "pci/ecam.h"
#include "pci/pci_regs.h"

#define DEVICE_RIGHTS (WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP | WD_RIGHT_CONTROL | WD_RIGHT_GRANT)
#define BAR_FRAME_RIGHTS (WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP | WD_RIGHT_GRANT | WD_RIGHT_RETAIN)
#define DMASPACE_RIGHTS (WD_RIGHT_MAP | WD_RIGHT_CONTROL | WD_RIGHT_GRANT)

/* A device capability with `rights` whose group the caller may use. */
int lookup_device(wd_handle_t h, uint32_t rights, struct device **out)
{
    int r = lookup_object(h, WD_TYPE_DEVICE, rights, (struct kobject **)out);
    if (r == 0 && (*out)->group->owner && (*out)->group->owner != current_process())
        r = -WD_E_NOT_OWNER;
    if (r == 0)
        r = device_finish_reset(*out);      /* BUSY for 100 ms after a revocation's FLR */
    return r;
}

static int64_t insert_static(struct kobject *obj, uint32_t rights)
{
    return cap_insert(&current_process()->cspace, obj, rights, 0, NULL);
}

int64_t sys_device_list(wd_handle_t root, uint64_t index, struct wd_device_info *out)
{
    struct kobject *o;
    int r = lookup_object(root, WD_TYPE_DEVICE_ROOT, WD_RIGHT_READ, &o);
    if (r)
        return r;
    struct device *d = index < device_count() ? device_at((unsigned)index) : NULL;
    if (!d)
        return -WD_E_NOT_FOUND;
    struct wd_device_info info;
    device_describe(d, current_process(), &info);
    return copy_to_user((uint64_t)out, &info, sizeof info);
}

int64_t sys_device_open(wd_handle_t root, uint64_t address)
{
    struct kobject *o;
    int r = lookup_object(root, WD_TYPE_DEVICE_ROOT, WD_RIGHT_CONTROL, &o);
    if (r)
        return r;
    if (address >> 24)
        return -WD_E_INVALID_ARG;
    struct device *d = device_find(address);
    if (!d)
        return -WD_E_NOT_FOUND;
    return insert_static(&d->obj, DEVICE_RIGHTS);
}

int64_t sys_device_info(wd_handle_t device, struct wd_device_info *out)
{
    struct kobject *o;
    int r = lookup_object(device, WD_TYPE_DEVICE, 0, &o);
    if (r)
        return r;
    struct wd_device_info info;
    device_describe((struct device *)o, current_process(), &info);
    return copy_to_user((uint64_t)out, &info, sizeof info);
}

static int check_config_access(uint64_t offset, uint64_t width)
{
    if (width != 1 && width != 2 && width != 4)
        return -WD_E_INVALID_ARG;
    if (offset >= WD_PCI_CONFIG_BYTES)
        return -WD_E_RANGE;
    if (offset % width)
        return -WD_E_UNALIGNED;
    return 0;
}

int64_t sys_device_config_read(wd_handle_t device, uint64_t offset, uint64_t width)
{
    struct device *d;
    int r = lookup_device(device, WD_RIGHT_READ, &d);
    if (r == 0)
        r = check_config_access(offset, width);
    if (r)
        return r;
    return pci_config_read(d->fn->bus, d->fn->dev, d->fn->fn, (uint16_t)offset, (unsigned)width);
}

int64_t sys_device_config_write(wd_handle_t device, uint64_t offset, uint64_t width, uint64_t value)
{
    struct device *d;
    int r = lookup_device(device, WD_RIGHT_WRITE, &d);
    if (r == 0)
        r = check_config_access(offset, width);
    if (r)
        return r;
    if (value >> (8 * width))
        return -WD_E_INVALID_ARG;
    const struct pci_function *fn = d->fn;
    unsigned msi_bytes = 0;
    if (fn->msi_cap)
        msi_bytes = pci_msi_capability_bytes((uint16_t)pci_config_read(fn->bus, fn->dev, fn->fn, fn->msi_cap + 2, 2));
    r = pci_config_write_check(fn, msi_bytes, (unsigned)offset, (unsigned)width);
    if (r)
        return r;
    /* Bus mastering stays off while the group is quiesced (a fault flood). */
    uint64_t command_shift = 8 * (PCI_COMMAND_STATUS - offset);
    if (d->group->quiesced && offset <= PCI_COMMAND_STATUS && offset + width > PCI_COMMAND_STATUS &&
        ((value >> command_shift) & PCI_COMMAND_MASTER))
        return -WD_E_BUSY;
    pci_config_write(fn->bus, fn->dev, fn->fn, (uint16_t)offset, (unsigned)width, (uint32_t)value);
    return 0;
}

/* The BAR frame capability is derived from the device capability, so
 * revoking a driver's device capability takes its BAR capabilities too.
 * It may be granted only if the device capability may: a driver that may
 * not hand its device on may not hand on its registers either. */
int64_t sys_device_bar_frame(wd_handle_t device, uint64_t bar)
{
    struct device *d;
    struct cap_slot *slot;
    int r = lookup_device(device, WD_RIGHT_MAP, &d);
    if (r == 0)
        r = cap_lookup(&current_process()->cspace, device, WD_TYPE_DEVICE, WD_RIGHT_MAP, &slot);
    if (r)
        return r;
    if (bar >= WD_DEVICE_BARS)
        return -WD_E_INVALID_ARG;
    const struct pci_bar *b = &d->fn->bars[bar];
    if (b->size == 0 || b->base == 0)
        return -WD_E_NOT_FOUND;
    if (!d->bar_frames[bar])
        return -WD_E_NOT_SUPPORTED;        /* I/O ports, or smaller than a page */
    uint32_t rights = BAR_FRAME_RIGHTS & ((slot->rights & WD_RIGHT_GRANT) ? ~0u : ~(uint32_t)WD_RIGHT_GRANT);
    return cap_insert(&current_process()->cspace, &d->bar_frames[bar]->obj, rights, 0, slot);
}

int64_t sys_dmaspace_create(wd_handle_t pool_handle)
{
    struct pool *pool;
    int r = lookup_creation_pool(pool_handle, &pool);
    if (r)
        return r;
    int error;
    struct dmaspace *s = dmaspace_create(pool, &error);
    if (!s)
        return -error;
    return install_new_object(&s->obj, DMASPACE_RIGHTS);
}

int64_t sys_dma_attach(wd_handle_t device, wd_handle_t dmaspace)
{
    struct device *d;
    struct kobject *s;
    int r = lookup_device(device, WD_RIGHT_CONTROL, &d);
    if (r == 0)
        r = lookup_object(dmaspace, WD_TYPE_DMASPACE, WD_RIGHT_CONTROL, &s);
    if (r)
        return r;
    struct iommu_group *g = d->group;
    if (!g->unit)
        return -WD_E_NO_IOMMU;
    if (g->reserved)
        return -WD_E_BUSY;
    if (g->space)
        return -WD_E_EXISTS;
    r = dmaspace_attach((struct dmaspace *)s, g);
    if (r)
        return r;
    iommu_group_set_owner(g, current_process());
    g->quiesced = false;
    iommu_group_enable_upstream(g);
    return 0;
}

int64_t sys_dma_detach(wd_handle_t device)
{
    struct device *d;
    int r = lookup_device(device, WD_RIGHT_CONTROL, &d);
    if (r)
        return r;
    struct iommu_group *g = d->group;
    if (!g->space)
        return -WD_E_NOT_MAPPED;
    dmaspace_detach(g);
    if (!irq_count_for_group(g))    /* its interrupts keep the group owned */
        iommu_group_set_owner(g, NULL);
    return 0;
}

int64_t sys_dma_map(wd_handle_t dmaspace, wd_handle_t frame, uint64_t offset, uint64_t iova, uint64_t len,
                    uint64_t rights)
{
    if (rights & ~(uint64_t)WD_RIGHTS_ALL)
        return -WD_E_BAD_FLAGS;
    struct kobject *s;
    struct cap_slot *slot;
    struct cap_dependents *lease;
    int r = lookup_object(dmaspace, WD_TYPE_DMASPACE, WD_RIGHT_MAP, &s);
    if (r == 0)
        r = lookup_frame_for_mapping(frame, WD_RIGHT_MAP | ((uint32_t)rights & (WD_RIGHT_READ | WD_RIGHT_WRITE)),
                                     &slot, &lease);
    if (r)
        return r;
    r = dmaspace_map((struct dmaspace *)s, (struct frame_object *)slot->object, offset, iova, len, (uint32_t)rights,
                     lease);
    if (r)
        mapping_lease_done(slot);
    return r;
}

int64_t sys_dma_unmap(wd_handle_t dmaspace, uint64_t iova, uint64_t len)
{
    struct kobject *s;
    int r = lookup_object(dmaspace, WD_TYPE_DMASPACE, WD_RIGHT_MAP, &s);
    if (r)
        return r;
    return dmaspace_unmap((struct dmaspace *)s, iova, len);
}

int64_t sys_device_fault_bind(wd_handle_t device, wd_handle_t endpoint, uint64_t badge)
{
    struct device *d;
    struct kobject *ep = NULL;
    int r = lookup_device(device, WD_RIGHT_CONTROL, &d);
    if (r == 0 && endpoint != WD_NULL)
        r = lookup_object(endpoint, WD_TYPE_ENDPOINT, WD_RIGHT_SEND, &ep);
    if (r)
        return r;
    iommu_group_bind_driver(d->group, (struct endpoint *)ep, badge);
    return 0;
}

int64_t sys_iommu_info(uint64_t index, struct wd_iommu_info *out)
{
    struct vtd_unit *u = index < vtd_unit_count() ? vtd_unit((unsigned)index) : NULL;
    if (!u)
        return -WD_E_NOT_FOUND;
    struct wd_iommu_info info = {
        .register_base = u->hw->register_base,
        .cap = u->hw->cap,
        .ecap = u->hw->ecap,
        .version = u->hw->version,
        .status = vtd_read_status(u),
        .address_width = u->address_width,
        .levels = u->levels,
        .queued_invalidation = u->queued,
        .caching_mode = u->caching_mode,
        .invalidations = u->invalidations,
        .waits = u->waits,
        .faults = u->faults,
        .domains = u->domains,
    };
    return copy_to_user((uint64_t)out, &info, sizeof info);
}
