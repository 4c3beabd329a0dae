/*
 * warden/objects.h - structures system calls fill in, object flags and
 * limits.
 */
#ifndef WARDEN_ABI_OBJECTS_H
#define WARDEN_ABI_OBJECTS_H

#include <warden/types.h>

#define WD_PRIORITY_MAX 31
#define WD_CSPACE_SLOTS 256             /* slots per process; slot 0 is never used */

/* frame_create flags */
#define WD_FRAME_CONTIGUOUS (1ull << 0) /* physically contiguous memory */
#define WD_FRAME_KNOWN_FLAGS WD_FRAME_CONTIGUOUS
#define WD_FRAME_MMIO (1ull << 1)       /* frame_info only: a device BAR, mapped uncached */
#define WD_FRAME_MAX_BYTES (64ull << 20)

/* Notifications: signalled bits live in bits 0..62 (a wait returns them as
 * a non-negative value). */
#define WD_NOTIFY_BITS 0x7FFFFFFFFFFFFFFFull

/* wd_cap_info.flags */
#define WD_CAP_CLOSED  (1ull << 0)      /* an endpoint nobody can receive on any more */
#define WD_CAP_DEAD    (1ull << 1)      /* a process that has died */
#define WD_CAP_WATCHED (1ull << 2)      /* cap_watch set a notification on this capability */
#define WD_CAP_LEASE   (1ull << 3)      /* a frame capability without RETAIN */

struct wd_cap_info {
    uint32_t type;                  /* enum wd_object_type */
    uint32_t rights;
    uint64_t badge;
    uint64_t object_id;             /* process/thread id; unique per object */
    uint64_t flags;                 /* WD_CAP_* */
    uint64_t lease_mappings;        /* CPU and DMA mappings made through this capability (leases) */
};

struct wd_pool_info {
    uint64_t budget;                /* bytes this pool may hold */
    uint64_t used;                  /* bytes charged now (objects, frames, sub-pool budgets) */
};

struct wd_process_info {
    uint64_t pid;                   /* the process object's id (the boot log's "process N") */
    uint64_t live_threads;
    uint64_t dead;                  /* 1 once it exited or was killed */
    uint64_t cpu_tsc;               /* TSC its threads ran, user and kernel, up to their last context
                                       switch (guest instructions under -icount shift=0) */
    uint64_t pool_budget, pool_used;    /* the pool that pays for its address space */
    uint64_t syscalls;              /* system calls its threads made (kernel entries of its own) */
};

struct wd_frame_info {
    uint64_t size;
    uint64_t flags;
};

struct wd_system_info {
    uint64_t free_frames;           /* frames in the physical allocator */
    uint64_t total_frames;
    uint64_t kernel_object_pages;   /* pages held by the kernel's slab caches */
    uint64_t live_processes;
    uint64_t live_threads;
    uint64_t live_objects;          /* every kernel object type */
    uint64_t syscalls;              /* calls since boot */
    uint64_t context_switches;
    uint64_t tick_hz;
    /* Revocation order (docs/driver-crash.md). Stamps come from one kernel
     * sequence, so they say which of two events happened first. */
    uint64_t revocations;           /* device groups revoked since boot (death or lost capability) */
    uint64_t revoke_pid;            /* the process of the latest revocation */
    uint64_t revoke_flush_stamp;    /* when its last context/IOTLB invalidation wait completed */
    uint64_t revoke_release_stamp;  /* when it first dropped a DMA-mapped frame (0: none yet) */
    uint64_t dma_frames_released;   /* DMA mapping frame references dropped since boot */
    /* The data path (docs/drivers.md). */
    uint64_t notify_signals;        /* notification signals since boot (calls and kernel) */
    uint64_t notify_wakeups;        /* threads woken by a signal, and bound deliveries */
    uint64_t lease_ends;            /* leases that ended with mappings made through them */
    uint64_t lease_mappings_removed; /* those mappings (CPU and DMA) */
    uint64_t idle_tsc;              /* TSC ticks the CPU spent halted since boot (benchmarks of I/O:
                                       under icount, CPU work = elapsed TSC - idle) */
};

#endif
