/*
 * warden/inspect.h - read-only inspection of what the kernel holds
 * (the `inspect` system call) and the serial console's input
 * (`console_read`, `console_notify`).
 *
 * Inspection needs a capability to the kernel's inspector object (READ).
 * The kernel gives one to init only; init passes it to the shell alone. A
 * call without it is refused (WRONG_TYPE, BAD_HANDLE ...). Inspection
 * copies a snapshot of one record out and changes nothing.
 *
 * Records are listed by index: inspect(inspector, kind, id, index, out,
 * size) fills the index'th record of the kind (id selects the process or
 * domain for CAP and MAPPING) and returns the index to ask for next, or
 * NOT_FOUND past the last one. Indexes are positions in the kernel's
 * tables at the moment of the call: a table that changes between calls
 * may show a record twice or skip one, never a torn one.
 */
#ifndef WARDEN_ABI_INSPECT_H
#define WARDEN_ABI_INSPECT_H

#include <warden/types.h>

enum wd_inspect_kind {
    WD_INSPECT_PROCESS = 1,         /* every process the kernel holds (dead ones too, while named) */
    WD_INSPECT_CAP = 2,             /* id = a pid: its capabilities, index = a slot to start from */
    WD_INSPECT_DEVICE = 3,          /* PCI functions: struct wd_device_info */
    WD_INSPECT_DOMAIN = 4,          /* dmaspaces (IOMMU domains) */
    WD_INSPECT_MAPPING = 5,         /* id = a dmaspace's object id: its DMA mappings, by IOVA */
    WD_INSPECT_FAULT = 6,           /* the last WD_INSPECT_FAULTS_KEPT DMA faults, oldest first */
    WD_INSPECT_IRQ = 7,             /* live interrupt sources */
    WD_INSPECT_KIND_COUNT
};

#define WD_INSPECT_NAME_MAX 16
#define WD_INSPECT_FAULTS_KEPT 64

struct wd_inspect_process {
    uint64_t pid;
    char name[WD_INSPECT_NAME_MAX]; /* process_set_name; "" when never named */
    uint64_t dead;
    uint64_t live_threads;
    uint64_t cpu_tsc;               /* as wd_process_info */
    uint64_t syscalls;
    uint64_t pool_budget, pool_used;
    uint64_t caps;                  /* capabilities it holds */
    uint64_t fault_endpoint_id;     /* who hears of its faults and exit (0: nobody) */
};

struct wd_inspect_cap {
    uint64_t slot;                  /* the handle's slot (WD_HANDLE_SLOT) */
    uint64_t handle;                /* slot | generation: the value the holder uses */
    uint32_t type;                  /* enum wd_object_type */
    uint32_t rights;
    uint64_t badge;
    uint64_t object_id;
    uint64_t flags;                 /* WD_CAP_* as cap_info */
    uint64_t parent_pid;            /* holder of the capability it was derived from (0: none) */
};

struct wd_inspect_domain {
    uint64_t object_id;             /* the dmaspace object (WD_INSPECT_MAPPING's id) */
    uint32_t domain_id;             /* VT-d domain ID */
    uint32_t unit;                  /* IOMMU unit index */
    uint64_t owner_pid;             /* owner of an attached group (0: none attached) */
    uint64_t first_device;          /* WD_PCI_ADDRESS of an attached group's first function, ~0: none */
    uint64_t groups;                /* groups attached */
    uint64_t mappings;              /* DMA mappings */
    uint64_t mapped_bytes;
    uint64_t table_bytes;           /* I/O page-table memory beyond the root */
};

/* wd_inspect_mapping.flags */
#define WD_MAPPING_LEASE    (1u << 0)   /* made through a client's lease: ends when the client revokes it */
#define WD_MAPPING_CLEARED  (1u << 1)   /* its lease ended; entries gone, record about to go */

struct wd_inspect_mapping {
    uint64_t iova;
    uint64_t length;
    uint64_t page_size;             /* read back from the I/O page table at iova (0: not present) */
    uint32_t rights;                /* WD_RIGHT_READ: the device reads; WD_RIGHT_WRITE: it writes */
    uint32_t flags;                 /* WD_MAPPING_* */
    uint64_t frame_id;              /* object id of the frame mapped */
    uint64_t offset;                /* into the frame */
    uint64_t holder_pid;            /* a lease's holder (the driver), else 0 */
    uint64_t grantor_pid;           /* who granted the lease (the client), else 0 */
};

/* wd_inspect_fault.action */
#define WD_FAULT_ACTION_REPORTED    (1u << 0)   /* sent to the owner's supervisor */
#define WD_FAULT_ACTION_DRIVER      (1u << 1)   /* sent to the driver's bound endpoint */
#define WD_FAULT_ACTION_QUIESCED    (1u << 2)   /* bus mastering is off (fault flood) */
#define WD_FAULT_ACTION_REVOKED     (1u << 3)   /* at a lease its client took back: expected */
#define WD_FAULT_ACTION_UNOWNED     (1u << 4)   /* no process owns the group: logged only */

struct wd_inspect_fault {
    uint64_t sequence;              /* 1 for the first fault since boot */
    uint64_t time_ns;
    uint64_t iova;
    uint32_t source_id;             /* the requester ID the IOMMU recorded */
    uint32_t group;
    uint32_t unit;
    uint32_t reason;                /* VT-d fault reason */
    uint32_t write;                 /* 1: the device tried to write */
    uint32_t action;                /* WD_FAULT_ACTION_* */
    uint64_t device;                /* WD_PCI_ADDRESS of the group's first function */
    uint64_t owner_pid;             /* 0: none */
};

struct wd_inspect_irq {
    uint64_t index;                 /* as irq_create: WD_IRQ_MSI(n) ... */
    uint64_t device;                /* WD_PCI_ADDRESS, ~0 for an ISA line */
    uint32_t vector;
    uint32_t gsi;                   /* ~0u for MSI/MSI-X */
    uint32_t irte_index;            /* ~0u when not remapped */
    uint32_t kernel;                /* 1: the kernel's own (the console) */
    uint64_t owner_pid;             /* the device's owner (0: none or the kernel) */
    uint64_t endpoint_id;           /* bound endpoint (0: unbound) */
    uint64_t badge;
    uint64_t interrupts, messages, acks, pending;
};

/* console_read never returns more than this; bytes beyond the ring are dropped and counted. */
#define WD_CONSOLE_RING_BYTES 1024

#endif
