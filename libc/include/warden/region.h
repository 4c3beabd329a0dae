/*
 * warden/region.h (libc) - the client side of the data path
 * (docs/drivers.md): regions (memory from the client's own pool, mapped
 * into the client) and the grants (leases) it hands a driver, and the
 * client end of a session (<warden/session.h>): open, submit, complete,
 * revoke, close.
 *
 * A region is a frame the client owns. wd_region_grant makes a lease of
 * it: a copy without RETAIN carrying only the rights the device needs.
 * The driver maps that lease once; wd_region_revoke deletes it, and when
 * it returns every mapping the driver made through it (and through any
 * copy of it) is gone, the IOTLB invalidation completed: from then on the
 * device cannot reach the region, and a DMA to the old IOVA faults.
 *
 * Regions of 2 MiB or more get 2 MiB aligned addresses (and the kernel
 * builds their frames from 2 MiB chunks), so the IOMMU can use 2 MiB pages.
 * CPU addresses come from a window of this process reserved for regions
 * (WD_REGION_VADDR_BASE ..), each followed by a guard page; addresses
 * unmapped again (wd_region_unmap, wd_region_destroy) are reused first.
 * Nothing here is thread safe.
 */
#ifndef WARDEN_LIBC_REGION_H
#define WARDEN_LIBC_REGION_H

#include <warden/abi.h>
#include <warden/session.h>

#define WD_REGION_VADDR_BASE  0x0000580000000000ull
#define WD_REGION_VADDR_LIMIT 0x0000600000000000ull

struct wd_region {
    wd_handle_t frame;              /* the client's own capability (all rights, RETAIN) */
    void *cpu;                      /* mapped READ|WRITE here */
    uint64_t size;                  /* bytes, page-rounded */
};

/* A zeroed region of size bytes from pool, mapped READ|WRITE. */
long wd_region_create(struct wd_region *r, wd_handle_t pool, uint64_t size);
/* Unmaps it and deletes the frame capability (and so every lease of it). */
long wd_region_destroy(struct wd_region *r);
/* A lease of r for a device: MAP|GRANT plus READ if device_rights has
 * WD_RIGHT_READ (the device may read it) and WRITE if it has
 * WD_RIGHT_WRITE (the device may write it); no RETAIN. *grant is in this
 * process; send it in an IPC message (a copy goes, and stays a lease). */
long wd_region_grant(const struct wd_region *r, uint64_t device_rights, wd_handle_t *grant);
/* Ends a lease: when this returns, every mapping made through it or its
 * copies is gone and the IOTLB flush is done. 0 or -WD_E_*. */
long wd_region_revoke(wd_handle_t grant);

/* Maps size bytes of frame READ|WRITE (or READ only) at a free address
 * of the region window: the address, or NULL (and *error) on failure. */
void *wd_region_map(wd_handle_t frame, uint64_t size, bool writable, long *error);
/* Unmaps what wd_region_map mapped (the same size) and gives the address
 * back for reuse. 0 or vm_unmap's error. */
long wd_region_unmap(const void *cpu, uint64_t size);

/* Copies that survive the memory going away (a lease revoked by its
 * owner while a service copies from or to it): wd_copy_checked returns
 * -WD_E_DEAD instead of the thread faulting. wd_copy_checked_init, once
 * per thread, asks the kernel for that (thread_fault_fixup). */
long wd_copy_checked_init(void);
long wd_copy_checked(void *dst, const void *src, size_t n);

/* The client end of a session. */
struct wd_client_session {
    wd_handle_t service;            /* the session's copy of the service's endpoint capability */
    uint64_t id;                    /* the service's session id */
    struct wd_region region;        /* the data */
    wd_handle_t grant;              /* the lease the service maps */
    struct wd_region rings;         /* the ring pair (RETAIN: the service keeps its mapping) */
    struct wd_ring requests;        /* this side produces */
    struct wd_ring completions;     /* this side consumes */
    wd_handle_t notification;       /* the service signals this */
    wd_handle_t service_signal;     /* SEND-only, badged: signals the service */
    uint64_t kicks;                 /* signals sent to the service */
    uint64_t waits;                 /* sleeps in wd_client_wait */
    uint32_t capacity;
    unsigned nargs;
    uint64_t args[WD_MSG_WORDS - 2];    /* the open request's service-specific words */
    /* Requests not completed yet, by slot (the id the service sees). */
    struct wd_ring_desc *pending;
    uint64_t *submitted;            /* by slot: its request's place in submission order (from 1) */
    uint64_t submissions;           /* requests submitted so far */
    uint32_t *free_slots;
    uint8_t *slot_used;
    uint32_t free_count;
    bool service_dead;              /* its endpoint closed: reopen with the restarted service */
    uint64_t resubmitted;           /* requests sent again by wd_client_reopen */
};

/* Creates a region of region_bytes, grants it with device_rights, creates
 * the rings (capacity descriptors each way) and a notification, and sends
 * WD_SESSION_OPEN with args[0..nargs) as w1.. (nargs <= 6). On failure
 * everything made is undone. The service's error, or an IPC error. */
long wd_client_open(struct wd_client_session *s, wd_handle_t service, wd_handle_t pool, uint64_t region_bytes,
                     uint64_t device_rights, uint32_t capacity, const uint64_t *args, unsigned nargs,
                     uint64_t timeout);
/* Queues a request (not yet visible): 0, WOULD_BLOCK (full: capacity
 * requests are not completed yet) or PROTOCOL. */
long wd_client_submit(struct wd_client_session *s, const struct wd_ring_desc *request);
/* Publishes what was submitted and signals the service if it sleeps. */
long wd_client_kick(struct wd_client_session *s);
/* The next completion into *out (with the id it was submitted with):
 * waits at most timeout ns (sleeping on the notification only after the
 * re-check). 0, TIMEOUT, WOULD_BLOCK (timeout 0), DEAD (the service died;
 * what it had published came first: wd_client_reopen), PROTOCOL (the
 * service broke the ring or completed something never asked). */
long wd_client_wait(struct wd_client_session *s, struct wd_ring_desc *out, uint64_t timeout);
/* For a client that waits on an endpoint for many things (a server that is
 * also a client, like the network service): binds the session's
 * notification to endpoint with badge, so its signals arrive there as
 * WD_LABEL_NOTIFY messages; hand their bits to wd_client_notified and
 * take completions with wd_client_poll. 0 or -WD_E_*. */
long wd_client_bind(struct wd_client_session *s, wd_handle_t endpoint, uint64_t badge);
/* The bits of a WD_LABEL_NOTIFY for this session: notes the service's death. */
void wd_client_notified(struct wd_client_session *s, uint64_t bits);
/* The next completion without waiting: 0, WOULD_BLOCK (none; the service
 * will signal when it publishes the next), DEAD or PROTOCOL as
 * wd_client_wait. */
long wd_client_poll(struct wd_client_session *s, struct wd_ring_desc *out);
/* After DEAD: opens a session with service (the restarted one, looked up
 * again) over the same region and rings, and submits again every request
 * that has not completed, in the order they were first submitted. 0 or the
 * open's error. */
long wd_client_reopen(struct wd_client_session *s, wd_handle_t service, uint64_t timeout);
/* Takes the region back from the service (wd_region_revoke of the grant):
 * the device cannot touch it once this returns. The session is useless
 * afterwards except for wd_client_close. */
long wd_client_revoke(struct wd_client_session *s);
/* WD_SESSION_CLOSE (if the service is still there), then frees the rings,
 * the region and the notification. */
long wd_client_close(struct wd_client_session *s, uint64_t timeout);

#endif
