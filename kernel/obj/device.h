/*
 * device.h - device objects (one per PCI function), the IOMMU groups they
 * belong to, and the device root that lists and opens them.
 *
 * All three are made once at boot from the PCI enumeration and live
 * forever: capabilities come and go, the objects stay. What changes is a
 * group's state: its owner (the first process to attach one of its
 * devices), the dmaspace it is attached to, whether it was quiesced after a
 * fault flood, and where its DMA faults are reported.
 */
#ifndef WARDEN_OBJ_DEVICE_H
#define WARDEN_OBJ_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <warden/device.h>

#include "obj/endpoint.h"
#include "obj/object.h"
#include "pci/pci_enum.h"

struct process;
struct dmaspace;
struct vtd_unit;
struct frame_object;

struct iommu_group {
    unsigned index;
    struct vtd_unit *unit;          /* NULL: no active IOMMU translates it */
    uint16_t requester_id;
    unsigned member_count;          /* functions in the group */
    uint64_t first_address;         /* WD_PCI_ADDRESS of its first function (fault messages) */
    bool reserved;                  /* RMRR identity map for firmware: never handed out */
    struct process *owner;          /* NULL when unowned */
    struct dmaspace *space;         /* referenced while attached */
    bool quiesced;                  /* bus mastering forced off after a fault flood */
    uint64_t faults;                /* since boot */
    uint64_t window_start_ns;       /* fault-flood window */
    uint64_t window_faults;
    struct kevent supervisor_event; /* DMA faults to the owner's fault endpoint */
    struct kevent driver_event;     /* ... and to the endpoint the driver bound */
    struct endpoint *driver_endpoint;
};

struct device {
    struct kobject obj;
    const struct pci_function *fn;
    struct iommu_group *group;
    struct frame_object *bar_frames[WD_DEVICE_BARS];   /* MMIO frames of page-aligned memory BARs */
    /* A Function Level Reset at revocation: nothing may touch the function
     * until reset_until_ns, then its BARs and decode bits are restored. */
    bool reset_pending;
    uint64_t reset_until_ns;
    uint32_t saved_bars[6];
    uint16_t saved_command;
};

/* Builds devices and groups from the enumeration (after the IOMMU is up). */
void device_init_all(const struct pci_topology *topology, struct vtd_unit *(*unit_for)(uint32_t dmar_index));

struct kobject *device_root_object(void);
unsigned device_count(void);
struct device *device_at(unsigned index);
struct device *device_find(uint64_t pci_address);
uint64_t device_address(const struct device *d);    /* WD_PCI_ADDRESS */
unsigned iommu_group_count(void);
struct iommu_group *iommu_group_at(unsigned index);
/* The group whose DMA carries source_id through unit, or NULL. */
struct iommu_group *iommu_group_by_source(const struct vtd_unit *unit, uint16_t source_id);

void device_describe(const struct device *d, const struct process *caller, struct wd_device_info *out);

/* Turns bus mastering off on every function of the group. */
void iommu_group_quiesce(struct iommu_group *g);
/* Resets every FLR-capable function of g (PCIe Function Level Reset),
 * after its DMA and interrupts are already cut off: the device drops what
 * it was doing (an NVMe controller drains its in-flight I/O first), so
 * the next owner starts clean. Returns how many functions were reset. */
unsigned iommu_group_reset(struct iommu_group *g);
/* 0 when d may be used (its reset, if any, is over: BARs restored);
 * BUSY while it is still resetting. */
int device_finish_reset(struct device *d);
/* Lets the bridges above the group's devices forward their DMA (bus
 * mastering on every upstream bridge; bridges stay kernel-owned). */
void iommu_group_enable_upstream(struct iommu_group *g);
/* Ownership: attach/detach (dmaspace.c does the context entries). A new
 * owner p: every other process's mappings of the group's BARs are removed. */
void iommu_group_set_owner(struct iommu_group *g, struct process *p);
/* Removes holder's CPU mappings of the group's BARs; returns how many. */
uint64_t iommu_group_unmap_bars(struct iommu_group *g, struct process *holder);
/* The group whose device has f as a BAR frame, or NULL (f is not one). */
struct iommu_group *device_bar_group(const struct frame_object *f);
/* Routes a DMA fault record to the group's owner's supervisor and driver. */
void iommu_group_report_fault(struct iommu_group *g, uint16_t source_id, uint64_t iova, unsigned reason,
                              bool write);
void iommu_group_bind_driver(struct iommu_group *g, struct endpoint *ep, uint64_t badge);

#endif
