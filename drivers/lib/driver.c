/*
 * driver.c - libdriver's driver object: wd_driver_init/fini (the device's
 * dmaspace and its attachment), the IOVA limit, enabling the device, BAR
 * mappings, MMIO polling and registering in the name registry. See
 * warden/driver.h.
 *
 * Invariant: between a successful wd_driver_init and wd_driver_fini, the
 * device is attached to d->dmaspace and this process owns its IOMMU group.
 */
#include <stdio.h>
#include <string.h>
#include <warden/driver.h>
#include <warden/registry.h>
#include <warden/syscalls.h>

#include "span.h"

long wd_driver_init(struct wd_driver *d, wd_handle_t device, wd_handle_t pool)
{
    memset(d, 0, sizeof *d);
    long r = wd_device_info(device, &d->info);
    if (r < 0)
        return r;
    long dmaspace = wd_dmaspace_create(pool);
    if (dmaspace < 0)
        return dmaspace;
    r = wd_dma_attach(device, (wd_handle_t)dmaspace);
    /* BUSY: the device is still resetting after its previous owner's
     * revocation (a PCIe FLR takes 100 ms); a restarted driver waits. */
    for (int i = 0; r == -WD_E_BUSY && i < 100; i++) {
        wd_thread_sleep(10ull * 1000 * 1000);
        r = wd_dma_attach(device, (wd_handle_t)dmaspace);
    }
    if (r < 0) {
        wd_cap_delete((wd_handle_t)dmaspace);
        return r;
    }
    d->device = device;
    d->pool = pool;
    d->dmaspace = (wd_handle_t)dmaspace;
    wd_span_init(&d->iova, WD_DRIVER_IOVA_BASE, WD_DRIVER_IOVA_LIMIT, WD_IOVA_WINDOW_START, WD_IOVA_WINDOW_END);
    wd_span_init(&d->vaddr, WD_DRIVER_VADDR_BASE, WD_DRIVER_VADDR_LIMIT, 0, 0);
    return 0;
}

long wd_driver_init_service(struct wd_driver *d, wd_handle_t pool)
{
    memset(d, 0, sizeof *d);
    d->pool = pool;
    wd_span_init(&d->vaddr, WD_DRIVER_VADDR_BASE, WD_DRIVER_VADDR_LIMIT, 0, 0);
    return 0;
}

long wd_driver_endpoint(struct wd_driver *d, uint64_t fault_badge, wd_handle_t *out)
{
    long ep = wd_endpoint_create(d->pool);
    if (ep < 0)
        return ep;
    long r = wd_device_fault_bind(d->device, (wd_handle_t)ep, fault_badge);
    if (r < 0) {
        wd_cap_delete((wd_handle_t)ep);
        return r;
    }
    *out = (wd_handle_t)ep;
    return 0;
}

long wd_driver_register(const char *who, wd_handle_t endpoint, uint64_t badge, const char *name)
{
    if (!wd_start_info->registry) {
        printf("%s: no name registry was given; nobody could reach this driver\n", who);
        return -WD_E_NOT_FOUND;
    }
    long client = wd_cap_copy(endpoint, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, badge);
    long r = client < 0 ? client : wd_name_register(wd_start_info->registry, name, (wd_handle_t)client);
    if (client >= 0)
        wd_cap_delete((wd_handle_t)client); /* the registry holds its own copy */
    if (r < 0)
        printf("%s: cannot register as \"%s\": %s (%s)\n", who, name, wd_error_name(r), wd_error_text(r));
    return r < 0 ? r : 0;
}

long wd_driver_fini(struct wd_driver *d)
{
    if (!d->dmaspace)
        return -WD_E_INVALID_ARG;
    long r = wd_dma_detach(d->device);
    long deleted = wd_cap_delete(d->dmaspace);
    d->dmaspace = WD_NULL;
    return r < 0 ? r : deleted;
}

long wd_driver_set_iova_limit(struct wd_driver *d, uint64_t limit)
{
    if ((limit & (WD_PAGE_SIZE - 1)) || limit < d->iova.next)
        return -WD_E_INVALID_ARG;
    d->iova.limit = limit;
    return 0;
}

long wd_driver_enable(struct wd_driver *d)
{
    long command = wd_config_read16(d, WD_PCI_COMMAND);
    if (command < 0)
        return command;
    uint16_t wanted = (uint16_t)command | WD_PCI_COMMAND_MEMORY | WD_PCI_COMMAND_BUS_MASTER;
    if (wanted == command)
        return 0;
    return wd_config_write16(d, WD_PCI_COMMAND, wanted);
}

long wd_driver_check(const struct wd_driver *d)
{
    struct wd_device_info info;
    long r = wd_device_info(d->device, &info);
    return r == -WD_E_STALE_HANDLE || r == -WD_E_BAD_HANDLE ? -WD_E_DEAD : r < 0 ? r : 0;
}

/* Maps [offset, offset+length) of a BAR's frame READ|WRITE (uncached: it
 * is MMIO) after a guard-page gap; deletes the frame capability. */
static long map_bar_frame(struct wd_driver *d, long frame, uint64_t offset, uint64_t length, volatile void **out)
{
    uint64_t vaddr = 0;
    long r = wd_span_take(&d->vaddr, length + WD_DRIVER_GUARD_BYTES, WD_PAGE_SIZE, &vaddr);
    if (r == 0) {
        r = wd_vm_map(WD_NULL, (wd_handle_t)frame, offset, vaddr, length, WD_RIGHT_READ | WD_RIGHT_WRITE);
        if (r < 0)
            wd_span_give_back(&d->vaddr, vaddr, length + WD_DRIVER_GUARD_BYTES);
    }
    wd_cap_delete((wd_handle_t)frame); /* the mapping keeps the frame */
    if (r == 0)
        *out = (volatile void *)vaddr;
    return r;
}

long wd_driver_bar_map(struct wd_driver *d, unsigned bar, volatile void **out, uint64_t *size)
{
    if (bar >= WD_DEVICE_BARS)
        return -WD_E_INVALID_ARG;
    long frame = wd_device_bar_frame(d->device, bar);
    if (frame < 0)
        return frame;
    struct wd_frame_info info;
    long r = wd_frame_info((wd_handle_t)frame, &info);
    if (r < 0) {
        wd_cap_delete((wd_handle_t)frame);
        return r;
    }
    r = map_bar_frame(d, frame, 0, info.size, out);
    if (r == 0 && size)
        *size = info.size;
    return r;
}

long wd_driver_bar_map_range(struct wd_driver *d, unsigned bar, uint64_t offset, uint64_t length,
                             volatile void **out)
{
    if (bar >= WD_DEVICE_BARS || length == 0 || ((offset | length) & (WD_PAGE_SIZE - 1)))
        return -WD_E_INVALID_ARG;
    long frame = wd_device_bar_frame(d->device, bar);
    return frame < 0 ? frame : map_bar_frame(d, frame, offset, length, out);
}

long wd_driver_bar_unmap(struct wd_driver *d, volatile void *mapping, uint64_t size)
{
    uint64_t vaddr = (uint64_t)mapping;
    if (vaddr < WD_DRIVER_VADDR_BASE || vaddr >= d->vaddr.next || (vaddr & (WD_PAGE_SIZE - 1)))
        return -WD_E_INVALID_ARG; /* not a mapping wd_driver_bar_map made */
    long r = wd_vm_unmap(WD_NULL, vaddr, size);
    if (r < 0)
        return r;
    wd_span_give_back(&d->vaddr, vaddr, size + WD_DRIVER_GUARD_BYTES);
    return 0;
}

long wd_mmio_poll32(volatile void *base, uint64_t offset, uint32_t mask, uint32_t value, uint64_t timeout_ns,
                    uint64_t interval_ns)
{
    uint64_t deadline = (uint64_t)wd_time_now() + timeout_ns;
    for (;;) {
        if ((wd_mmio_read32(base, offset) & mask) == value)
            return 0;
        if ((uint64_t)wd_time_now() >= deadline)
            return (wd_mmio_read32(base, offset) & mask) == value ? 0 : -WD_E_TIMEOUT;
        wd_thread_sleep(interval_ns);
    }
}
