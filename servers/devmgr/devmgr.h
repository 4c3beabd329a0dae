/*
 * devmgr.h - the parts of devmgr: the inventory of PCI functions and IOMMU
 * units (inventory.c) and the drivers it has init supervise (drivers.c),
 * tied together by main.c.
 */
#ifndef WARDEN_DEVMGR_H
#define WARDEN_DEVMGR_H

#include <warden/abi.h>

#define DEVMGR_MAX_DEVICES 128

struct inventory {
    unsigned device_count;
    bool truncated;                 /* more functions than DEVMGR_MAX_DEVICES */
    unsigned iommu_count;           /* 0: no IOMMU, DMA drivers are not started */
    struct wd_device_info devices[DEVMGR_MAX_DEVICES];
};

/* Prints the IOMMU units; returns how many could be read (0: none, and
 * the caller starts no DMA driver). */
unsigned inventory_report_iommus(void);
/* Reads every PCI function through the device root. 0 or -WD_E_*. */
long inventory_scan(wd_handle_t root, struct inventory *inv);
/* Prints the function table and the IOMMU groups. */
void inventory_print(const struct inventory *inv);
/* Functions in the same IOMMU group as inv->devices[index], itself included. */
unsigned inventory_group_size(const struct inventory *inv, unsigned index);
/* "00:02.0" (or "0001:00:02.0" outside segment 0) into buf (16 bytes suffice). */
const char *pci_address_string(uint64_t address, char *buf, size_t size);

/* Has init's supervisor start a driver for every function the driver
 * table knows (DMA drivers only when inv->iommu_count > 0). Returns how
 * many were handed over. */
unsigned drivers_start(wd_handle_t root, const struct inventory *inv);
/* Whether a driver registering as service was started. */
bool drivers_started(const char *service);

/* services.c: the services on top of the drivers (the network service and
 * the echo service when there is a NIC); how many were started. */
unsigned services_start(void);

#endif
