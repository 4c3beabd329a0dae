/*
 * drivers.c - the drivers devmgr starts. A small table maps PCI
 * vendor:device to a boot module and the name its service registers as; for each match devmgr opens the device
 * (device_open on the device root), creates a sub-pool and hands both to
 * init's driver supervisor (<warden/supervisor.h>), which spawns the module
 * with exactly those two resources (caps[0] = the device, the sub-pool as
 * its pool, plus the name registry to publish itself) and restarts it when
 * it dies (docs/driver-crash.md).
 *
 * Invariant: devmgr keeps its own copy of each device capability (init's
 * and the driver's are derived from it, so devmgr can revoke them) and of
 * each pool.
 */
#include <stdio.h>
#include <string.h>
#include <warden/driver.h>
#include <warden/spawn.h>
#include <warden/registry.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "devmgr.h"

#define MAX_DRIVERS 16

struct driver_match {
    uint16_t vendor_id, device_id;
    const char *module;
    const char *service;            /* its name in the registry (a second one gets "-1", ...) */
    uint64_t pool_bytes;
    bool needs_dma;                 /* started only where an IOMMU isolates it */
};

static const struct driver_match driver_table[] = {
    { 0x1234, 0x11e8, "edu", "edu", 8ull << 20, true },     /* QEMU's edu test device */
    { 0x1b36, 0x0010, "nvme", "blk0", 8ull << 20, true },   /* QEMU's NVMe controller: namespace 1 */
    { 0x8086, 0x10d3, "e1000e", "eth0", 8ull << 20, true }, /* the 82574L NIC: frames for the network service */
};

struct driver {
    const struct driver_match *match;
    uint64_t address;               /* WD_PCI_ADDRESS of its device */
    uint32_t group;                 /* its device's IOMMU group */
    wd_handle_t device;             /* devmgr's copy; init's and the driver's derive from it */
    wd_handle_t pool;
    char service[WD_NAME_MAX + 1];  /* its name in the registry and at the supervisor */
};

static struct driver drivers[MAX_DRIVERS];
static unsigned driver_count;

static const struct driver_match *find_match(const struct wd_device_info *d)
{
    for (size_t i = 0; i < sizeof driver_table / sizeof driver_table[0]; i++)
        if (driver_table[i].vendor_id == d->vendor_id && driver_table[i].device_id == d->device_id)
            return &driver_table[i];
    return NULL;
}

/* Opens the device, makes the pool and has init supervise the module: 0
 * or -WD_E_*, with nothing left behind on failure. The first driver of a
 * module registers under the module's name, later ones under name-N. */
static long start_one(wd_handle_t root, const struct driver_match *match, const struct wd_device_info *d,
                      struct driver *out)
{
    unsigned same = 0;
    for (unsigned i = 0; i < driver_count; i++)
        same += drivers[i].match == match;
    char service[WD_NAME_MAX + 1], spec[WD_NAME_MAX + 1];
    if (same)
        snprintf(service, sizeof service, "%s-%u", match->service, same);
    else
        snprintf(service, sizeof service, "%s", match->service);
    snprintf(spec, sizeof spec, "%s %s", service, match->module);
    long device = wd_device_open(root, d->address);
    if (device < 0)
        return device;
    long pool = wd_pool_create(wd_start_info->pool, match->pool_bytes);
    if (pool < 0) {
        wd_cap_delete((wd_handle_t)device);
        return pool;
    }
    long r = wd_supervise_start(wd_start_info->registry, spec, (wd_handle_t)device, (wd_handle_t)pool);
    if (r < 0) {
        wd_cap_delete((wd_handle_t)pool);
        wd_cap_delete((wd_handle_t)device);
        return r;
    }
    *out = (struct driver){
        .match = match,
        .address = d->address,
        .group = d->group,
        .device = (wd_handle_t)device,
        .pool = (wd_handle_t)pool,
    };
    memcpy(out->service, service, sizeof service);
    return 0;
}

/* The driver already started for a function of group, or NULL. */
bool drivers_started(const char *service)
{
    for (unsigned i = 0; i < driver_count; i++)
        if (strcmp(drivers[i].service, service) == 0)
            return true;
    return false;
}

static const struct driver *driver_of_group(uint32_t group)
{
    for (unsigned i = 0; i < driver_count; i++)
        if (drivers[i].group == group)
            return &drivers[i];
    return NULL;
}

unsigned drivers_start(wd_handle_t root, const struct inventory *inv)
{
    unsigned started = 0;
    for (unsigned i = 0; i < inv->device_count; i++) {
        const struct wd_device_info *d = &inv->devices[i];
        const struct driver_match *match = find_match(d);
        if (!match)
            continue;
        char addr[16];
        pci_address_string(d->address, addr, sizeof addr);
        if (match->needs_dma && inv->iommu_count == 0) {
            printf("devmgr: %s (%s): not started: no IOMMU to isolate its DMA\n", addr, match->module);
            continue;
        }
        if (match->needs_dma && !(d->flags & WD_DEVICE_TRANSLATED)) {
            printf("devmgr: %s (%s): not started: no active IOMMU unit translates this device\n", addr,
                   match->module);
            continue;
        }
        if (!wd_find_module(match->module)) {
            printf("devmgr: %s (%s): not started: there is no boot module \"%s\"\n", addr, match->module,
                   match->module);
            continue;
        }
        if (driver_count == MAX_DRIVERS) {
            printf("devmgr: %s (%s): not started: devmgr supervises at most %u drivers\n", addr, match->module,
                   MAX_DRIVERS);
            continue;
        }
        /* A group of several functions is attached to one DMA space as a whole
         * (the kernel does that on dma_attach); the driver still gets only the
         * function it matched, and owns the whole group while attached. A
         * second driver in the same group could never attach, so it is not
         * started. */
        unsigned group_size = inventory_group_size(inv, i);
        const struct driver *owner = match->needs_dma ? driver_of_group(d->group) : NULL;
        if (owner) {
            char owner_addr[16];
            printf("devmgr: %s (%s): not started: IOMMU group %u already goes to the driver of %s\n", addr,
                   match->module, d->group, pci_address_string(owner->address, owner_addr, sizeof owner_addr));
            continue;
        }
        struct driver *drv = &drivers[driver_count];
        long r = start_one(root, match, d, drv);
        if (r < 0) {
            printf("devmgr: %s (%s): cannot start the driver: %s (%s)\n", addr, match->module, wd_error_name(r),
                   wd_error_text(r));
            continue;
        }
        driver_count++;
        started++;
        printf("devmgr: %s: driver \"%s\" handed to init's supervisor as \"%s\" with its device capability and "
               "a pool of %llu MiB%s\n",
               addr, match->module, drv->service, (unsigned long long)(match->pool_bytes >> 20),
               group_size > 1 ? " (the other functions of its IOMMU group go with it)" : "");
    }
    return started;
}
