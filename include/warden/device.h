/*
 * warden/device.h - PCI devices, DMA spaces and the IOMMU as user space
 * sees them: the structures device_list/device_info/iommu_info fill in, PCI
 * addresses, BAR flags and DMA fault flags. docs/iommu.md explains the model.
 */
#ifndef WARDEN_ABI_DEVICE_H
#define WARDEN_ABI_DEVICE_H

#include <warden/types.h>

/* A PCI function's address as one number: segment, bus, device, function. */
#define WD_PCI_ADDRESS(seg, bus, dev, fn) \
    (((uint64_t)(seg) << 16) | ((uint64_t)(bus) << 8) | ((uint64_t)(dev) << 3) | (uint64_t)(fn))
#define WD_PCI_BUS(a) ((unsigned)((a) >> 8) & 0xFF)
#define WD_PCI_DEV(a) ((unsigned)((a) >> 3) & 0x1F)
#define WD_PCI_FN(a)  ((unsigned)(a) & 0x7)

#define WD_DEVICE_BARS 6

/* wd_bar_info.flags */
#define WD_BAR_MMIO     (1u << 0)
#define WD_BAR_IO       (1u << 1)
#define WD_BAR_64BIT    (1u << 2)       /* this BAR and the next slot form one 64-bit BAR */
#define WD_BAR_PREFETCH (1u << 3)

struct wd_bar_info {
    uint64_t base;                  /* physical (or I/O port) address; 0 when unassigned */
    uint64_t size;                  /* bytes; 0 when the BAR does not exist */
    uint32_t flags;
    uint32_t reserved;
    /* Pages of the BAR the kernel keeps (the MSI-X table): vm_map of a range
     * overlapping [protected_offset, +protected_size) is refused (PROTECTED). */
    uint64_t protected_offset;
    uint64_t protected_size;
};

/* wd_device_info.flags */
#define WD_DEVICE_TRANSLATED (1u << 0)  /* an active IOMMU unit translates its DMA */
#define WD_DEVICE_ALIASED    (1u << 1)  /* behind a PCIe-to-PCI bridge: requester ID is the bridge's */
#define WD_DEVICE_BRIDGE     (1u << 2)  /* a PCI-to-PCI bridge (header type 1) */
#define WD_DEVICE_ATTACHED   (1u << 3)  /* its group is attached to a dmaspace */
#define WD_DEVICE_QUIESCED   (1u << 4)  /* bus mastering forced off after a fault flood */
#define WD_DEVICE_OWNED      (1u << 5)  /* some process owns its group */
#define WD_DEVICE_MINE       (1u << 6)  /* the calling process owns its group */

struct wd_device_info {
    uint64_t address;               /* WD_PCI_ADDRESS */
    uint16_t vendor_id, device_id;
    uint32_t class_code;            /* class << 16 | subclass << 8 | prog-if */
    uint8_t revision;
    uint8_t header_type;            /* without the multi-function bit */
    uint16_t requester_id;          /* the source ID the IOMMU sees for its DMA */
    uint32_t group;                 /* IOMMU group: functions that share a requester ID */
    uint32_t iommu_unit;            /* index for iommu_info; ~0u when none covers it */
    uint32_t flags;                 /* WD_DEVICE_* */
    uint64_t owner_pid;             /* 0 when unowned */
    uint64_t fault_count;           /* DMA faults recorded for its group since boot */
    struct wd_bar_info bars[WD_DEVICE_BARS];
    uint32_t domain_id;             /* VT-d domain ID of the attached dmaspace (0: not attached) */
    uint32_t reserved0;
};

struct wd_iommu_info {
    uint64_t register_base;
    uint64_t cap, ecap;             /* VT-d CAP and ECAP registers */
    uint32_t version;               /* VER register */
    uint32_t status;                /* GSTS register, read now */
    uint32_t address_width;         /* IOVA bits the kernel's page tables cover */
    uint32_t levels;                /* second-level page-table levels in use */
    uint32_t queued_invalidation;   /* 1: QI with wait descriptors; 0: register-based */
    uint32_t caching_mode;          /* CAP.CM: invalidation after map, too */
    uint64_t invalidations;         /* invalidation commands issued since boot (context + IOTLB) */
    uint64_t waits;                 /* completed waits for invalidation */
    uint64_t faults;                /* fault records drained since boot */
    uint64_t domains;               /* domain IDs in use */
};

/* WD_LABEL_DMA_FAULT w4 */
#define WD_DMA_FAULT_WRITE    (1u << 0) /* the device tried to write (else read) */
#define WD_DMA_FAULT_QUIESCED (1u << 1) /* the kernel turned bus mastering off: fault flood */
#define WD_DMA_FAULT_OVERFLOW (1u << 2) /* the unit lost fault records (primary fault overflow) */
#define WD_DMA_FAULT_REVOKED  (1u << 3) /* at an IOVA of a lease its client took back: expected (a request
                                           in flight when the memory went), not counted toward a flood */

/* A group recording more than this many faults within WD_DMA_FAULT_WINDOW_MS is quiesced. */
#define WD_DMA_FAULT_FLOOD 8
#define WD_DMA_FAULT_WINDOW_MS 10000

/* Config space the mediating calls allow: offsets below 4096, width 1, 2 or 4, aligned. */
#define WD_PCI_CONFIG_BYTES 4096

#endif
