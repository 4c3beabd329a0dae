/*
 * warden/driver.h - libdriver, the small library every user-space driver
 * links: the device's DMA space and IOVA allocation, DMA buffers (frame +
 * CPU mapping + IOMMU mapping in one call), BAR mappings, mediated config
 * space access, MMIO accessors, decoding of DMA fault messages, and the
 * device's interrupt as messages (MSI, or INTx when MSI is unavailable).
 *
 * A driver starts with a device capability and a pool (its start info),
 * calls wd_driver_init, and from then on every DMA buffer it allocates is
 * mapped only in its own dmaspace, at an IOVA libdriver picks:
 *   - IOVAs start at WD_DRIVER_IOVA_BASE (never 0: a device that DMAs to a
 *     NULL address faults) and stay below the IOVA limit (default 256 MiB,
 *     because QEMU's edu device masks DMA addresses to 28 bits);
 *   - the interrupt window 0xFEE00000-0xFEEFFFFF is never handed out;
 *   - every buffer is followed by one unmapped guard page, so a device that
 *     runs past the end of a buffer faults instead of hitting the next one.
 * CPU addresses for buffers and BARs come from the driver region at
 * WD_DRIVER_VADDR_BASE.
 *
 * Every call returns >= 0 on success and -WD_E_* on failure, and undoes its
 * own partial work when it fails. Nothing here is thread safe: one thread
 * per struct wd_driver.
 */
#ifndef WARDEN_DRIVER_H
#define WARDEN_DRIVER_H

#include <warden/abi.h>
#include <warden/session.h>

#define WD_DRIVER_IOVA_BASE      0x100000ull            /* the first IOVA handed out */
#define WD_DRIVER_IOVA_LIMIT     (256ull << 20)         /* default limit: a 28-bit DMA mask */
#define WD_DRIVER_VADDR_BASE     0x0000600000000000ull  /* CPU mappings of buffers and BARs */
#define WD_DRIVER_VADDR_LIMIT    0x0000680000000000ull
#define WD_DRIVER_GUARD_BYTES    WD_PAGE_SIZE           /* unmapped gap after each allocation */
#define WD_IOVA_WINDOW_START     0xFEE00000ull          /* interrupt window: never an IOVA */
#define WD_IOVA_WINDOW_END       0xFEF00000ull
#define WD_SPAN_FREE_SLOTS       32

/* PCI configuration space: the command register. */
#define WD_PCI_VENDOR_ID         0x00
#define WD_PCI_DEVICE_ID         0x02
#define WD_PCI_COMMAND           0x04
#define WD_PCI_COMMAND_IO        (1u << 0)
#define WD_PCI_COMMAND_MEMORY    (1u << 1)
#define WD_PCI_COMMAND_BUS_MASTER (1u << 2)
#define WD_PCI_COMMAND_INTX_DISABLE (1u << 10)

/* A range of addresses handed out by bumping, with freed ranges kept in a
 * small sorted list for reuse (a range that does not fit the list is lost,
 * which only wastes address space). [hole_start, hole_end) is never given. */
struct wd_span_allocator {
    uint64_t next, limit;
    uint64_t hole_start, hole_end;
    unsigned free_count;
    struct {
        uint64_t start, end;
    } free[WD_SPAN_FREE_SLOTS];
};

struct wd_driver {
    wd_handle_t device;             /* the device capability the driver was given */
    wd_handle_t dmaspace;           /* created and attached by wd_driver_init */
    wd_handle_t pool;               /* pays for the dmaspace, buffers and page tables */
    struct wd_device_info info;     /* device_info at init time */
    struct wd_span_allocator iova;  /* IOVAs in dmaspace */
    struct wd_span_allocator vaddr; /* CPU addresses in this process */
    bool no_large_iommu_pages;      /* map frames in pieces below 2 MiB: 4 KiB IOMMU pages only (for
                                       measuring what 2 MiB pages save; never needed otherwise) */
};

/* One DMA buffer: memory the CPU sees at cpu and the device at iova. */
struct wd_dma_buffer {
    wd_handle_t frame;              /* the frame (READ|WRITE|MAP|GRANT...); may be shared */
    void *cpu;                      /* mapped READ|WRITE in this process */
    uint64_t iova;                  /* what to program into the device */
    uint64_t size;                  /* bytes, page-rounded */
};

/* A decoded WD_LABEL_DMA_FAULT message. */
struct wd_dma_fault {
    uint64_t count;                 /* faults since the previous message */
    uint16_t source_id;             /* requester ID the IOMMU saw (bus << 8 | devfn) */
    uint64_t iova;                  /* the faulting IOVA (page) */
    uint32_t reason;                /* VT-d fault reason code */
    uint32_t flags;                 /* WD_DMA_FAULT_* */
    uint64_t owner_pid;             /* the process that owns the device */
    uint64_t address;               /* the device's WD_PCI_ADDRESS */
    uint64_t badge;                 /* the badge the message carried */
};

/* --- the driver ----------------------------------------------------------- */

/* device_info, dmaspace_create(pool), dma_attach(device, dmaspace). Needs
 * CONTROL on device and ALLOC on pool; fails with NO_IOMMU where no IOMMU
 * translates the device (no DMA without isolation). */
long wd_driver_init(struct wd_driver *d, wd_handle_t device, wd_handle_t pool);
/* For a service with a data path but no device (the network service):
 * no dmaspace; sessions (wd_sessions_init with d) map clients' regions
 * into this process instead of a DMA space, and wd_session_cpu finds them. */
long wd_driver_init_service(struct wd_driver *d, wd_handle_t pool);
/* Detaches the device (the kernel waits for the IOTLB flush) and deletes the
 * dmaspace, which removes any DMA mapping still in it. Free buffers first to
 * get their CPU mappings and frames back. The device capability stays. */
long wd_driver_fini(struct wd_driver *d);
/* Raises or lowers the highest IOVA (exclusive, 4 KiB aligned) handed out
 * from now on; above 4 GiB the interrupt window is skipped. INVALID_ARG when
 * it is below what is already handed out. */
long wd_driver_set_iova_limit(struct wd_driver *d, uint64_t limit);
/* The driver's endpoint: created from its pool, with the device's DMA
 * faults bound to it (WD_LABEL_DMA_FAULT messages carrying fault_badge). */
long wd_driver_endpoint(struct wd_driver *d, uint64_t fault_badge, wd_handle_t *out);
/* Registers a SEND copy of endpoint badged badge under name in the name
 * registry the process was given; failures are printed, prefixed with who. */
long wd_driver_register(const char *who, wd_handle_t endpoint, uint64_t badge, const char *name);
/* Sets memory decode and bus mastering in the command register. */
long wd_driver_enable(struct wd_driver *d);
/* 0 while the driver still holds its device; -WD_E_DEAD once the device
 * was revoked (its supervisor revoked the capability: the kernel has
 * turned bus mastering off, unhooked the interrupts, detached the DMA
 * space and unmapped the BARs, so waiting for the device would only time
 * out and touching its registers would fault). One syscall. */
long wd_driver_check(const struct wd_driver *d);

/* Maps memory BAR bar (0..5) READ|WRITE, uncached; *out and *size (may be
 * NULL) describe the mapping. */
long wd_driver_bar_map(struct wd_driver *d, unsigned bar, volatile void **out, uint64_t *size);
/* Maps [offset, offset+length) of memory BAR bar (4 KiB aligned) the same
 * way: for a BAR that also holds the device's MSI-X table, whose pages the
 * kernel keeps (mapping them is refused). */
long wd_driver_bar_map_range(struct wd_driver *d, unsigned bar, uint64_t offset, uint64_t length,
                             volatile void **out);
long wd_driver_bar_unmap(struct wd_driver *d, volatile void *mapping, uint64_t size);

/* --- DMA ---------------------------------------------------------------- */

/* Creates a physically contiguous frame of size bytes (page-rounded), maps
 * it READ|WRITE into this process and dma_maps it at a fresh IOVA with
 * dma_rights (WD_RIGHT_READ: the device may read it; WD_RIGHT_WRITE: the
 * device may write it). */
long wd_dma_alloc(struct wd_driver *d, uint64_t size, uint64_t dma_rights, struct wd_dma_buffer *out);
/* Unmaps from the device first (the kernel waits for the IOTLB flush), then
 * from the CPU, and deletes the frame capability. On a dma_unmap failure the
 * IOVA range is kept out of use and the error is returned. */
long wd_dma_free(struct wd_driver *d, struct wd_dma_buffer *buf);

/* Maps [offset, offset+len) (4 KiB aligned) of someone else's frame for the
 * device at a fresh IOVA (*iova); for client buffers. */
long wd_dma_map_frame(struct wd_driver *d, wd_handle_t frame, uint64_t offset, uint64_t len,
                      uint64_t dma_rights, uint64_t *iova);
/* Undoes wd_dma_map_frame. */
long wd_dma_unmap_frame(struct wd_driver *d, uint64_t iova, uint64_t len);

/* 0 and *out filled when msg is a WD_LABEL_DMA_FAULT message, else INVALID_ARG. */
long wd_dma_fault_decode(const struct wd_msg *msg, struct wd_dma_fault *out);
/* "write denied", "context entry not present", ... for a VT-d reason code. */
const char *wd_dma_fault_reason_name(uint32_t reason);
/* One line: "<who>: DMA fault: 00:02.0 (source 0x0010) write at IOVA ...". */
void wd_dma_fault_print(const char *who, const struct wd_dma_fault *f);

/* --- interrupts (irq.c) ---------------------------------------------------- */

/* wd_driver_irq_open's flags */
#define WD_DRIVER_IRQ_FORCE_INTX (1u << 0)  /* do not try MSI: use the INTx pin (tests the fallback) */

/* wd_driver_irq.mode */
#define WD_DRIVER_IRQ_MSI  1u
#define WD_DRIVER_IRQ_INTX 2u
#define WD_DRIVER_IRQ_MSIX 3u

/* The device's interrupt, opened by wd_driver_irq_open: its messages go to
 * a private endpoint that wd_driver_irq_wait receives on. The source and
 * the endpoint last as long as the process; when it dies the kernel
 * unhooks the source. */
struct wd_driver_irq {
    wd_handle_t irq;                /* the irq capability (irq_create) */
    wd_handle_t endpoint;           /* the irq is bound here; wd_driver_irq_wait receives on it */
    uint64_t index;                 /* WD_IRQ_MSI(0), WD_IRQ_MSIX(0) or WD_IRQ_INTX, as passed to irq_create */
    unsigned mode;                  /* WD_DRIVER_IRQ_MSI, _MSIX or _INTX */
    long msi_error;                 /* why neither MSI nor MSI-X is used (-WD_E_*), or 0 */
};

/* One WD_LABEL_IRQ message, as wd_driver_irq_wait hands it over. */
struct wd_driver_irq_event {
    uint64_t count;                 /* interrupts since the previous message (>= 1) */
    uint64_t time_ns;               /* when the latest of them arrived (wd_time_now clock) */
    uint64_t index;                 /* the irq_create index */
};

/* Creates the device's interrupt source: MSI vector 0 first, MSI-X entry 0
 * when the device has no MSI capability, the INTx pin when it has neither
 * (NOT_SUPPORTED) or no IOMMU remaps interrupts (NO_IOMMU) - other errors
 * are returned - or INTx straight away with
 * WD_DRIVER_IRQ_FORCE_INTX. Then binds it to a fresh endpoint. out->mode says what
 * it got; out->msi_error why it is not MSI. Needs CONTROL on the device
 * and ALLOC on the pool. An MSI is a bus-master write: call
 * wd_driver_enable first, or MSIs never arrive. */
long wd_driver_irq_open(struct wd_driver *d, unsigned flags, struct wd_driver_irq *out);

/* Waits at most timeout_ns (as for wd_recv; WD_FOREVER: no limit) for the
 * next interrupt message and returns its count (>= 1), with the message in
 * *event (may be NULL); TIMEOUT when none came. Safe to call while this
 * thread holds a client's reply token (a kernel message does not replace
 * it). No further message comes until
 * wd_driver_irq_ack: quiet the device first (for INTx, a level-triggered
 * line, the device must stop asserting it before the ack, or the ack brings
 * another message at once). A message that came while nobody waited stays
 * queued for the next wait, so check the device's own status for what
 * happened. */
long wd_driver_irq_wait(struct wd_driver_irq *q, uint64_t timeout_ns, struct wd_driver_irq_event *event);
/* irq_ack: unmasks the source after a message. 1 if it was masked, 0 if no
 * message was outstanding, or -WD_E_*. */
long wd_driver_irq_ack(struct wd_driver_irq *q);
/* "MSI", "MSI-X", "INTx" or "none" for a WD_DRIVER_IRQ_* mode. */
const char *wd_driver_irq_mode_name(unsigned mode);

/* --- sessions (session.c): the data path to clients ----------------------- */

/* A driver serves its clients' data paths (<warden/session.h>) from one
 * table: one notification, bound to the driver's endpoint, carries two
 * bits per session: "requests published" (the client signals it through a
 * badged SEND-only copy) and "lease ended" (a cap_watch on the client's
 * region). So one ipc_recv waits for requests, interrupts and data-path
 * signals, and a WD_LABEL_NOTIFY message says which sessions to look at.
 *
 * At accept, the client's region (a lease) is mapped for the device once,
 * at one IOVA range (2 MiB aligned when it is 2 MiB or more, so the IOMMU
 * uses 2 MiB pages), and the ring pair into the driver. From then on
 * wd_session_iova turns a descriptor's (offset, length) into an IOVA with
 * a bounds and rights check: no IOMMU operation per I/O. When the client
 * revokes its region or dies, the kernel has already unmapped it (and
 * waited for the IOTLB flush) when the driver hears of it; the driver
 * only fails what was outstanding and forgets the session. */
#define WD_SESSION_SLOTS 31

struct wd_session {
    bool open;
    uint64_t id;                    /* index in its table: the session id the client got */
    wd_handle_t region;             /* the client's lease, mapped at region_iova */
    uint64_t region_size;
    uint64_t region_iova;
    void *region_cpu;               /* a service without a device: the region mapped here */
    uint32_t device_rights;         /* WD_RIGHT_READ (device reads) | WD_RIGHT_WRITE (device writes) */
    wd_handle_t rings;              /* the ring frame (RETAIN) */
    void *ring_cpu;
    uint64_t ring_bytes;
    struct wd_ring requests;        /* the client produces, the driver consumes */
    struct wd_ring completions;     /* the driver produces */
    wd_handle_t client_signal;      /* SEND to the client's notification */
    uint64_t client_signal_bits;    /* 0 (its badge's bits) or 1 when it is unbadged */
    bool ended;                     /* the lease ended: the region is gone */
    uint64_t args[WD_MSG_WORDS - 1];    /* w1.. of the open request, for the driver */
    uint64_t opened_with_badge;     /* the badge of the driver's endpoint capability the client opened it
                                       through: what the driver granted that capability (e.g. an LBA range) */
    uint64_t requests_taken, completions_posted, signals_sent;
    struct wd_session_table *table; /* the table it belongs to */
    uint32_t in_flight;             /* requests the device may still work on (the driver counts them up,
                                       wd_session_request_done down); while > 0 the session is not ended */
    bool end_pending;               /* wd_session_end was called while requests were in flight */
    bool broken;                    /* the client broke a ring (wd_session_next_request said PROTOCOL) */
};

struct wd_session_table {
    struct wd_driver *driver;
    wd_handle_t notification;       /* bound to the driver's endpoint with badge */
    uint64_t badge;
    struct wd_session sessions[WD_SESSION_SLOTS];
    /* With defer_signals, the one client signal a flush owes is kept for
     * wd_sessions_signal_recv, which sends it and receives in one kernel
     * entry (a second one owed is sent at once). */
    unsigned broken_sessions;       /* marked broken, not yet ended by wd_sessions_end_broken */
    bool defer_signals;
    bool signal_owed;
    wd_handle_t owed_signal;
    uint64_t owed_bits;
};

/* Creates the table's notification and binds it to endpoint with badge. */
long wd_sessions_init(struct wd_session_table *t, struct wd_driver *d, wd_handle_t endpoint, uint64_t badge);
/* The driver loop's receive: sends the client signal a flush owes (with
 * defer_signals) and receives on endpoint in one call, or just receives. */
long wd_sessions_signal_recv(struct wd_session_table *t, wd_handle_t endpoint, struct wd_msg *msg, uint64_t timeout);
/* Sends the owed client signal now (before any other blocking call). */
void wd_sessions_send_owed(struct wd_session_table *t);
/* msg is a WD_SESSION_OPEN request: checks it (region a lease with MAP and
 * some device right; rings a RETAIN frame big enough; a notification to
 * signal; capacity), maps region and rings, watches the lease, and turns
 * msg into the reply (session id, caps[0] = the client's signal
 * capability, moved). Capabilities the request brought that are not kept
 * are deleted. The session (or NULL) in *out. Returns the reply's w0. */
long wd_session_accept(struct wd_session_table *t, struct wd_msg *msg, struct wd_session **out);
/* msg is a WD_SESSION_CLOSE request (w0 = id, caps[0] = that session's
 * signal capability, which only its client holds): ends the session and
 * turns msg into the reply. */
long wd_session_close_request(struct wd_session_table *t, struct wd_msg *msg);
/* Unmaps and forgets a session (its region, if the lease still exists, is
 * unmapped from the device with the IOTLB flush waited for). While
 * requests are in flight (s->in_flight) it is only marked ended: its IOVAs
 * stay reserved, so a late device access can never reach another
 * session's memory, and the last wd_session_request_done ends it. */
void wd_session_end(struct wd_session_table *t, struct wd_session *s);
/* One of the session's in-flight requests is done (completed on the
 * device): ends the session if that was the last and it was to end. */
void wd_session_request_done(struct wd_session_table *t, struct wd_session *s);
/* Whether the client's lease still exists (false once it revoked it or died:
 * a request that ran meanwhile must complete with DEAD, never success). */
bool wd_session_lease_alive(const struct wd_session *s);
/* A WD_LABEL_NOTIFY with the table's badge brought bits: for every
 * session whose lease ended, ended(s) (fail what it had outstanding) then
 * wd_session_end; for every other session with its bit, work(s). */
void wd_sessions_dispatch(struct wd_session_table *t, uint64_t bits, void (*work)(struct wd_session *, void *),
                          void (*ended)(struct wd_session *, void *), void *ctx);

/* Runs one request for wd_sessions_serve: the bytes moved (>= 0) or -WD_E_*. */
typedef long (*wd_session_run_fn)(struct wd_session *s, const struct wd_ring_desc *req, void *ctx);
/* The usual data-path loop over wd_sessions_dispatch, for a WD_LABEL_NOTIFY
 * with the table's badge: for each session with requests, run(s, req) on
 * each one (requests outside the region are completed with RANGE without
 * it; one that succeeded while the lease ended completes with DEAD, for
 * its DMA faulted), the completions posted and flushed until no more
 * arrive; a session whose client broke its ring is ended; ended(s) (may
 * be NULL) for each session whose lease ended. who prefixes the messages. */
void wd_sessions_serve(struct wd_session_table *t, uint64_t bits, const char *who, wd_session_run_fn run,
                       void (*ended)(struct wd_session *, void *), void *ctx);
/* Ends (says so, prefixed with who) every session whose client broke a
 * ring; one with requests in flight goes when the last is done. */
void wd_sessions_end_broken(struct wd_session_table *t, const char *who);

/* The next request into *req, only when its completion will have room:
 * 0; RANGE (its buffer leaves the region: complete it with that error);
 * WOULD_BLOCK (no request, or no completion space yet); PROTOCOL (the
 * client broke a ring: the session is marked broken and ended, for
 * wd_sessions_end_broken); DEAD (the session ended). */
long wd_session_next_request(struct wd_session *s, struct wd_ring_desc *req);
/* The batch form for the hot path: up to max requests into out[]; how many
 * (0: none, or no completion space yet), DEAD or PROTOCOL as above. A
 * request whose buffer leaves the region has status WD_E_RANGE in its
 * out[] entry (complete it with that error); the others have status 0. */
long wd_session_next_requests(struct wd_session *s, struct wd_ring_desc *out, uint32_t max);
/* Queues the completion of request id (status 0 or a WD_E_* code). */
long wd_session_post(struct wd_session *s, uint64_t id, uint16_t op, uint16_t status, uint64_t result);
/* The same with every field of the completion the driver's (e.g. a flag in
 * its length the service's protocol defines). */
long wd_session_post_completion(struct wd_session *s, const struct wd_ring_desc *c);
/* Publishes completions and hands request slots back, signalling the
 * client if it sleeps; then re-checks before the driver sleeps: true when
 * more requests arrived meanwhile (call the work again). */
bool wd_session_flush(struct wd_session *s);
/* wd_session_flush for completions the client did not ask to be woken for
 * (the frame service's NET_TX_QUIET sends, the network service's
 * NETSOCK_QUIET ones): no signal; they ride along with the next signalled
 * flush, and the client sees them whenever it looks. The same re-check. */
bool wd_session_flush_quietly(struct wd_session *s);
/* The IOVA of [offset, offset+length) of the region for a device access
 * (WD_RIGHT_READ: the device reads it; WD_RIGHT_WRITE: it writes it):
 * 0, RANGE (outside the region), NO_RIGHTS (the lease does not allow that
 * access), DEAD (the lease ended). */
long wd_session_iova(const struct wd_session *s, uint64_t offset, uint64_t length, uint32_t access, uint64_t *iova);
/* For a service without a device: where [offset, offset+length) of the
 * region is in this process, with the same checks (WD_RIGHT_READ: the
 * service reads it; WD_RIGHT_WRITE: it writes it). A lease revoked under
 * a copy faults the copy: check wd_session_lease_alive before trusting
 * what was read. */
long wd_session_cpu(const struct wd_session *s, uint64_t offset, uint64_t length, uint32_t access, void **cpu);

/* --- configuration space (mediated by the kernel) ------------------------- */

/* The value read (>= 0) or -WD_E_*. */
long wd_config_read8(struct wd_driver *d, unsigned offset);
long wd_config_read16(struct wd_driver *d, unsigned offset);
long wd_config_read32(struct wd_driver *d, unsigned offset);
/* 0 or -WD_E_* (PROTECTED: a register the kernel owns). */
long wd_config_write8(struct wd_driver *d, unsigned offset, uint8_t value);
long wd_config_write16(struct wd_driver *d, unsigned offset, uint16_t value);
long wd_config_write32(struct wd_driver *d, unsigned offset, uint32_t value);

/* --- MMIO --------------------------------------------------------------- */

static inline uint32_t wd_mmio_read32(volatile void *base, uint64_t offset)
{
    return *(volatile uint32_t *)((volatile char *)base + offset);
}
static inline void wd_mmio_write32(volatile void *base, uint64_t offset, uint32_t value)
{
    *(volatile uint32_t *)((volatile char *)base + offset) = value;
}
static inline uint64_t wd_mmio_read64(volatile void *base, uint64_t offset)
{
    return *(volatile uint64_t *)((volatile char *)base + offset);
}
static inline void wd_mmio_write64(volatile void *base, uint64_t offset, uint64_t value)
{
    *(volatile uint64_t *)((volatile char *)base + offset) = value;
}

/* Waits until (read32(offset) & mask) == value, checking every interval_ns
 * (rounded up to the scheduler tick) for at most timeout_ns. 0 or -WD_E_TIMEOUT. */
long wd_mmio_poll32(volatile void *base, uint64_t offset, uint32_t mask, uint32_t value, uint64_t timeout_ns,
                    uint64_t interval_ns);

#endif
