/*
 * warden/rights.h - capability rights and object types.
 *
 * A copy of a capability may only lose rights. General rights: READ,
 * WRITE, EXEC (frames), MAP (may be mapped), GRANT (may be transferred over
 * IPC or copied into another process). Per-type rights: SEND/RECV
 * (endpoints), ALLOC (pools: create objects charged to it), CONTROL
 * (processes and threads: create threads in, map into, kill; devices and
 * dmaspaces: attach, detach, bind faults; the device root: open devices).
 * Devices: READ config reads, WRITE config writes, MAP BAR frames.
 * Dmaspaces: MAP dma_map/dma_unmap.
 * Notifications: SEND signals, RECV waits and polls, CONTROL binds.
 *
 * RETAIN (frames): mappings made through this capability, and capabilities
 * derived from it, may outlive it. frame_create gives it. A frame
 * capability without RETAIN is a *lease*: when it is deleted (cap_delete,
 * cap_revoke of an ancestor, its holder's death), every CPU and DMA
 * mapping made through it and every capability derived from it go too,
 * with the IOTLB invalidation waited for, before the call returns. A
 * client grants memory to a driver as a lease (docs/drivers.md).
 */
#ifndef WARDEN_ABI_RIGHTS_H
#define WARDEN_ABI_RIGHTS_H

#define WD_RIGHT_READ    (1u << 0)
#define WD_RIGHT_WRITE   (1u << 1)
#define WD_RIGHT_EXEC    (1u << 2)
#define WD_RIGHT_MAP     (1u << 3)
#define WD_RIGHT_GRANT   (1u << 4)
#define WD_RIGHT_SEND    (1u << 5)
#define WD_RIGHT_RECV    (1u << 6)
#define WD_RIGHT_ALLOC   (1u << 7)
#define WD_RIGHT_CONTROL (1u << 8)
#define WD_RIGHT_RETAIN  (1u << 9)
#define WD_RIGHTS_ALL    0x3FFu

/* Object types (wd_cap_info.type). */
enum wd_object_type {
    WD_TYPE_NONE = 0,
    WD_TYPE_PROCESS = 1,
    WD_TYPE_THREAD = 2,
    WD_TYPE_ENDPOINT = 3,
    WD_TYPE_POOL = 4,
    WD_TYPE_FRAME = 5,
    WD_TYPE_DEVICE = 6,             /* one PCI function */
    WD_TYPE_DMASPACE = 7,           /* an IOMMU domain: domain ID + I/O page table */
    WD_TYPE_DEVICE_ROOT = 8,        /* lists PCI functions and opens device capabilities */
    WD_TYPE_IRQ = 9,                /* one interrupt source (MSI, MSI-X, INTx, ISA) */
    WD_TYPE_NOTIFICATION = 10,      /* a word of bits: signal never blocks, wait takes them */
    WD_TYPE_CONSOLE = 11,           /* the serial console's input (READ: console_read, console_notify) */
    WD_TYPE_INSPECTOR = 12,         /* read-only inspection of the kernel's state (READ: inspect) */
    WD_TYPE_COUNT
};

#endif
