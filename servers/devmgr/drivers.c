/*
 * drivers.c - the drivers devmgr starts and supervises. A small table maps
 * PCI vendor:device to a boot module; for each match devmgr opens the
 * device (device_open on the device root), creates a sub-pool and spawns
 * the module with exactly two resources: caps[0] = that device capability
 * and the sub-pool (plus the name registry, to publish itself). The
 * driver's faults, exit and DMA faults arrive on devmgr's endpoint with
 * the driver's badge.
 *
 * Invariant: devmgr keeps its own copy of each device capability (the
 * driver's is derived from it, so devmgr can revoke it) and of each pool.
 * Restarting a driver that died is not done yet.
 */
#include <stdio.h>
#include <string.h>
#include <warden/driver.h>
#include <warden/spawn.h>
#include <warden/syscalls.h>

#include "devmgr.h"

#define DRIVER_BADGE_BASE 0x100
#define MAX_DRIVERS 16

struct driver_match {
    uint16_t vendor_id, device_id;
    const char *module;
    uint64_t pool_bytes;
    bool needs_dma;                 /* started only where an IOMMU isolates it */
};

static const struct driver_match driver_table[] = {
    { 0x1234, 0x11e8, "edu", 8ull << 20, true },    /* QEMU's edu test device */
};

struct driver {
    const struct driver_match *match;
    uint64_t address;               /* WD_PCI_ADDRESS of its device */
    uint32_t group;                 /* its device's IOMMU group */
    wd_handle_t device;             /* devmgr's copy; the driver's is derived from it */
    wd_handle_t pool;
    wd_handle_t process;            /* WD_NULL once it has exited */
    uint64_t badge;
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

/* Opens the device, makes the pool and spawns the module: 0 or -WD_E_*,
 * with nothing left behind on failure. */
static long start_one(wd_handle_t root, const struct driver_match *match, const struct wd_device_info *d,
                      wd_handle_t endpoint, struct driver *out)
{
    const struct wd_module *module = wd_find_module(match->module);
    if (!module)
        return -WD_E_NOT_FOUND;
    long device = wd_device_open(root, d->address);
    if (device < 0)
        return device;
    long pool = wd_pool_create(wd_start_info->pool, match->pool_bytes);
    if (pool < 0) {
        wd_cap_delete((wd_handle_t)device);
        return pool;
    }
    uint64_t badge = DRIVER_BADGE_BASE + driver_count;
    struct wd_spawn s = {
        .args = match->module,
        .image = module->frame,
        .image_size = module->size,
        .pool = (wd_handle_t)pool,
        .fault_endpoint = endpoint,
        .fault_badge = badge,
        .registry = wd_start_info->registry,
        .cap_count = 1,
        .caps = { (wd_handle_t)device },
    };
    long process = wd_spawn(&s, NULL);
    if (process < 0) {
        wd_cap_delete((wd_handle_t)pool);
        wd_cap_delete((wd_handle_t)device);
        return process;
    }
    *out = (struct driver){
        .match = match,
        .address = d->address,
        .group = d->group,
        .device = (wd_handle_t)device,
        .pool = (wd_handle_t)pool,
        .process = (wd_handle_t)process,
        .badge = badge,
    };
    return 0;
}

/* The driver already started for a function of group, or NULL. */
static const struct driver *driver_of_group(uint32_t group)
{
    for (unsigned i = 0; i < driver_count; i++)
        if (drivers[i].group == group)
            return &drivers[i];
    return NULL;
}

unsigned drivers_start(wd_handle_t root, const struct inventory *inv, wd_handle_t endpoint)
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
        long r = start_one(root, match, d, endpoint, drv);
        if (r < 0) {
            printf("devmgr: %s (%s): cannot start the driver: %s (%s)\n", addr, match->module, wd_error_name(r),
                   wd_error_text(r));
            continue;
        }
        driver_count++;
        started++;
        printf("devmgr: %s: started driver \"%s\" with its device capability and a pool of %llu MiB%s\n", addr,
               match->module, (unsigned long long)(match->pool_bytes >> 20),
               group_size > 1 ? " (the other functions of its IOMMU group go with it)" : "");
    }
    return started;
}

static struct driver *driver_by_badge(uint64_t badge)
{
    for (unsigned i = 0; i < driver_count; i++)
        if (drivers[i].badge == badge)
            return &drivers[i];
    return NULL;
}

void drivers_handle_message(const struct wd_msg *msg)
{
    struct driver *drv = driver_by_badge(msg->badge);
    uint32_t label = wd_msg_label(msg->info);
    if (!drv) {
        printf("devmgr: message 0x%x with unknown badge 0x%llx ignored\n", label, (unsigned long long)msg->badge);
        return;
    }
    char addr[16];
    pci_address_string(drv->address, addr, sizeof addr);
    if (label == WD_LABEL_FAULT) {
        printf("devmgr: driver \"%s\" (%s) faulted: vector %llu, address 0x%llx, RIP 0x%llx; killing it\n",
               drv->match->module, addr, (unsigned long long)msg->w[2], (unsigned long long)msg->w[4],
               (unsigned long long)msg->w[5]);
        if (drv->process)
            wd_process_kill(drv->process, -1);
    } else if (label == WD_LABEL_EXIT) {
        printf("devmgr: driver \"%s\" (%s) %s with status %lld\n",
               drv->match->module, addr, msg->w[3] == WD_EXIT_KILLED ? "was killed" : "exited",
               (long long)(int64_t)msg->w[2]);
        if (drv->process)
            wd_cap_delete(drv->process);
        if (drv->pool)
            wd_cap_delete(drv->pool);
        drv->process = WD_NULL;
        drv->pool = WD_NULL;
    } else if (label == WD_LABEL_DMA_FAULT) {
        struct wd_dma_fault fault;
        wd_dma_fault_decode(msg, &fault);
        char who[64];
        snprintf(who, sizeof who, "devmgr: driver \"%s\"", drv->match->module);
        wd_dma_fault_print(who, &fault);
    } else {
        printf("devmgr: driver \"%s\" (%s): unexpected message 0x%x ignored\n", drv->match->module, addr, label);
    }
}
