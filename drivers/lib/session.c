/*
 * session.c - the driver end of data-path sessions (see <warden/driver.h>
 * and <warden/session.h>): accepting a client's region and rings (one
 * IOMMU mapping for the whole region, made here), the notification bits
 * that say which session has work or has lost its region, requests and
 * completions over the rings, offset -> IOVA, and ending a session.
 *
 * A service without a device (wd_driver_init_service: the network
 * service) maps the region into its own address space instead, at
 * region_cpu, with the lease's rights: it copies to and from it itself.
 *
 * Invariants: a session's region is mapped at [region_iova, +region_size)
 * (or region_cpu) from accept until it ends; every request is checked against the region
 * (ring.c) and against the lease's rights (wd_session_iova) before the
 * device sees an IOVA; a request is taken only when its completion has
 * room, so a client that never reads completions only stalls itself.
 */
#include <stdio.h>
#include <string.h>
#include <warden/driver.h>
#include <warden/syscalls.h>

#include "span.h"

#define RING_RIGHTS (WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP | WD_RIGHT_RETAIN)
#define RING_VADDR_GAP WD_PAGE_SIZE

static uint64_t work_bit(const struct wd_session *s) { return 1ull << (2 * s->id); }
static uint64_t ended_bit(const struct wd_session *s) { return 1ull << (2 * s->id + 1); }

long wd_sessions_init(struct wd_session_table *t, struct wd_driver *d, wd_handle_t endpoint, uint64_t badge)
{
    memset(t, 0, sizeof *t);
    long n = wd_notify_create(d->pool);
    if (n < 0)
        return n;
    long r = wd_notify_bind((wd_handle_t)n, endpoint, badge);
    if (r < 0) {
        wd_cap_delete((wd_handle_t)n);
        return r;
    }
    t->driver = d;
    t->notification = (wd_handle_t)n;
    t->badge = badge;
    for (unsigned i = 0; i < WD_SESSION_SLOTS; i++) {
        t->sessions[i].id = i;
        t->sessions[i].table = t;
    }
    return 0;
}

void wd_sessions_send_owed(struct wd_session_table *t)
{
    if (t->signal_owed) {
        t->signal_owed = false;
        wd_notify_signal(t->owed_signal, t->owed_bits);
    }
}

long wd_sessions_signal_recv(struct wd_session_table *t, wd_handle_t endpoint, struct wd_msg *msg, uint64_t timeout)
{
    if (!t->signal_owed)
        return wd_recv(endpoint, msg, timeout);
    t->signal_owed = false;
    return wd_signal_recv(endpoint, t->owed_signal, t->owed_bits, msg, timeout);
}

/* Signals the session's client, or leaves it owed for wd_sessions_signal_recv. */
static void signal_client(struct wd_session *s)
{
    struct wd_session_table *t = s->table;
    s->signals_sent++;
    if (t && t->defer_signals && !t->signal_owed) {
        t->signal_owed = true;
        t->owed_signal = s->client_signal;
        t->owed_bits = s->client_signal_bits;
        return;
    }
    wd_notify_signal(s->client_signal, s->client_signal_bits);
}

static struct wd_session *free_session(struct wd_session_table *t)
{
    for (unsigned i = 0; i < WD_SESSION_SLOTS; i++)
        if (!t->sessions[i].open)
            return &t->sessions[i];
    return NULL;
}

/* The open request's capabilities, checked before anything is mapped. */
static long check_open(const struct wd_msg *msg, struct wd_cap_info *region, struct wd_cap_info *rings,
                       struct wd_cap_info *notify_info, struct wd_frame_info *region_frame,
                       struct wd_frame_info *ring_frame)
{
    if (msg->info & WD_MSG_CAPS_LOST)
        return -WD_E_CSPACE_FULL;
    uint64_t capacity = msg->w[0];
    if (wd_msg_ncaps(msg->info) != 3 || capacity == 0 || capacity > WD_SESSION_MAX_CAPACITY ||
        (capacity & (capacity - 1)))
        return -WD_E_INVALID_ARG;
    long r = wd_cap_info(msg->caps[0], region);
    if (r == 0)
        r = wd_cap_info(msg->caps[1], rings);
    if (r == 0)
        r = wd_cap_info(msg->caps[2], notify_info);
    if (r < 0)
        return r;
    if (region->type != WD_TYPE_FRAME || rings->type != WD_TYPE_FRAME || notify_info->type != WD_TYPE_NOTIFICATION)
        return -WD_E_WRONG_TYPE;
    /* The region must be a lease (the client can take it back, and it ends
     * when the client dies); the rings must not be (our mapping must stay). */
    if (!(region->flags & WD_CAP_LEASE) || (rings->flags & WD_CAP_LEASE))
        return -WD_E_INVALID_ARG;
    if (!(region->rights & WD_RIGHT_MAP) || !(region->rights & (WD_RIGHT_READ | WD_RIGHT_WRITE)) ||
        (rings->rights & RING_RIGHTS) != RING_RIGHTS || !(notify_info->rights & WD_RIGHT_SEND))
        return -WD_E_NO_RIGHTS;
    r = wd_frame_info(msg->caps[0], region_frame);
    if (r == 0)
        r = wd_frame_info(msg->caps[1], ring_frame);
    if (r < 0)
        return r;
    if ((region_frame->flags | ring_frame->flags) & WD_FRAME_MMIO)
        return -WD_E_NOT_SUPPORTED;
    if (ring_frame->size < wd_session_ring_bytes((uint32_t)capacity))
        return -WD_E_RANGE;
    return 0;
}

/* Maps size bytes of frame into this process at a fresh address (a guard
 * page after it) with rights: *cpu, or -WD_E_*. */
static long map_cpu(struct wd_driver *d, wd_handle_t frame, uint64_t size, uint64_t rights, void **cpu)
{
    uint64_t vaddr;
    long r = wd_span_take(&d->vaddr, size + RING_VADDR_GAP, WD_PAGE_SIZE, &vaddr);
    if (r < 0)
        return r;
    r = wd_vm_map(WD_NULL, frame, 0, vaddr, size, rights);
    if (r < 0) {
        wd_span_give_back(&d->vaddr, vaddr, size + RING_VADDR_GAP);
        return r;
    }
    *cpu = (void *)vaddr;
    return 0;
}

/* Undoes map_cpu (a lease that ended took its mapping already: NOT_MAPPED is fine). */
static void unmap_cpu(struct wd_driver *d, void **cpu, uint64_t size)
{
    if (!*cpu)
        return;
    wd_vm_unmap(WD_NULL, (uint64_t)*cpu, size);
    wd_span_give_back(&d->vaddr, (uint64_t)*cpu, size + RING_VADDR_GAP);
    *cpu = NULL;
}

/* Maps the ring frame into this process and sets up both ring views. */
static long map_rings(struct wd_driver *d, struct wd_session *s, uint32_t capacity)
{
    long r = map_cpu(d, s->rings, s->ring_bytes, WD_RIGHT_READ | WD_RIGHT_WRITE, &s->ring_cpu);
    if (r < 0)
        return r;
    /* Both sides wrote their own index 0 at set-up; ours are written again here. */
    r = wd_ring_init_consumer(&s->requests, s->ring_cpu, capacity, s->region_size);
    if (r == 0)
        r = wd_ring_init_producer(&s->completions, (char *)s->ring_cpu + wd_session_completions_offset(capacity),
                                  capacity);
    return r;
}

static long map_region_for_device(struct wd_driver *d, struct wd_session *s)
{
    long r = wd_dma_map_frame(d, s->region, 0, s->region_size, s->device_rights, &s->region_iova);
    if (r < 0)
        s->region_iova = 0;
    return r;
}

/* A service without a device: READ lets it read the region, WRITE write it
 * (the CPU cannot write what it may not read: a write-only lease is refused). */
static long map_region_for_cpu(struct wd_driver *d, struct wd_session *s)
{
    if (!(s->device_rights & WD_RIGHT_READ))
        return -WD_E_NO_RIGHTS;
    return map_cpu(d, s->region, s->region_size, s->device_rights, &s->region_cpu);
}

bool wd_session_lease_alive(const struct wd_session *s)
{
    struct wd_cap_info info;
    return wd_cap_info(s->region, &info) == 0;
}

static void forget(struct wd_session *s)
{
    uint64_t id = s->id;
    struct wd_session_table *t = s->table;
    memset(s, 0, sizeof *s);
    s->id = id;
    s->table = t;
}

void wd_session_end(struct wd_session_table *t, struct wd_session *s)
{
    if (!s->open)
        return;
    if (s->in_flight) {
        /* The device may still use the region's IOVAs: keep them reserved
         * (never handed to another session) until the last request is done. */
        s->ended = true;
        s->end_pending = true;
        return;
    }
    struct wd_driver *d = t->driver;
    unmap_cpu(d, &s->ring_cpu, s->ring_bytes);
    unmap_cpu(d, &s->region_cpu, s->region_size);
    /* Unmapped from the device (the kernel waits for the IOTLB flush), or
     * already unmapped by the kernel when the lease ended: either way the
     * IOVAs are free again. */
    if (s->region_iova && wd_dma_unmap_frame(d, s->region_iova, s->region_size) == -WD_E_NOT_MAPPED)
        wd_span_give_back(&d->iova, s->region_iova, s->region_size + WD_DRIVER_GUARD_BYTES);
    if (t->signal_owed && t->owed_signal == s->client_signal) {
        t->signal_owed = false;             /* the capability goes with the session: send it now */
        wd_notify_signal(s->client_signal, s->client_signal_bits);
    }
    wd_cap_delete(s->region);
    wd_cap_delete(s->rings);
    wd_cap_delete(s->client_signal);
    forget(s);
}

void wd_session_request_done(struct wd_session_table *t, struct wd_session *s)
{
    if (s->in_flight && --s->in_flight == 0 && s->end_pending)
        wd_session_end(t, s);
}

long wd_session_accept(struct wd_session_table *t, struct wd_msg *msg, struct wd_session **out)
{
    *out = NULL;
    struct wd_cap_info region, rings, notify;
    struct wd_frame_info region_frame, ring_frame;
    unsigned ncaps = wd_msg_ncaps(msg->info);
    long r = check_open(msg, &region, &rings, &notify, &region_frame, &ring_frame);
    struct wd_session *s = r == 0 ? free_session(t) : NULL;
    if (r == 0 && !s)
        r = -WD_E_BUSY;
    if (r == 0) {
        s->open = true;
        s->region = msg->caps[0];
        s->rings = msg->caps[1];
        s->client_signal = msg->caps[2];
        s->client_signal_bits = notify.badge ? 0 : 1;     /* a badged capability raises its badge */
        s->opened_with_badge = msg->badge;
        s->region_size = region_frame.size;
        s->ring_bytes = wd_session_ring_bytes((uint32_t)msg->w[0]);
        s->device_rights = region.rights & (WD_RIGHT_READ | WD_RIGHT_WRITE);
        for (unsigned i = 1; i < WD_MSG_WORDS; i++)
            s->args[i - 1] = msg->w[i];
        ncaps = 0;                  /* the session owns them now */
        /* The one IOMMU (or CPU) mapping of the region: the data path adds none. */
        r = t->driver->dmaspace ? map_region_for_device(t->driver, s) : map_region_for_cpu(t->driver, s);
        if (r == 0)
            r = map_rings(t->driver, s, (uint32_t)msg->w[0]);
        if (r == 0)
            r = wd_cap_watch(s->region, t->notification, ended_bit(s));
    }
    long signal = r == 0 ? wd_cap_copy(t->notification, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, work_bit(s)) : r;
    if (signal < 0 && s)
        wd_session_end(t, s);
    for (unsigned i = 0; i < ncaps && i < WD_MSG_CAPS; i++)
        wd_cap_delete(msg->caps[i]);
    uint32_t label = wd_msg_label(msg->info);
    if (signal < 0) {
        msg->w[0] = (uint64_t)signal;
        msg->info = wd_msg_info(label, 1, 0);
        return signal;
    }
    msg->w[0] = s->id;
    msg->caps[0] = (wd_handle_t)signal;
    msg->info = wd_msg_info(label, 1, 1) | WD_MSG_MOVE_CAPS;
    *out = s;
    return (long)s->id;
}

long wd_session_close_request(struct wd_session_table *t, struct wd_msg *msg)
{
    uint64_t id = msg->w[0];
    struct wd_cap_info proof;
    long r = wd_msg_ncaps(msg->info) == 1 && !(msg->info & WD_MSG_CAPS_LOST) ? wd_cap_info(msg->caps[0], &proof)
                                                                              : -WD_E_INVALID_ARG;
    struct wd_cap_info ours;
    if (r == 0)
        r = id < WD_SESSION_SLOTS && t->sessions[id].open ? wd_cap_info(t->notification, &ours) : -WD_E_NOT_FOUND;
    if (r == 0 && (proof.type != WD_TYPE_NOTIFICATION || proof.object_id != ours.object_id ||
                   proof.badge != work_bit(&t->sessions[id])))
        r = -WD_E_NO_RIGHTS;        /* not this session's client */
    for (unsigned i = 0; i < wd_msg_ncaps(msg->info) && i < WD_MSG_CAPS; i++)
        wd_cap_delete(msg->caps[i]);
    if (r == 0)
        wd_session_end(t, &t->sessions[id]);
    msg->w[0] = (uint64_t)r;
    msg->info = wd_msg_info(wd_msg_label(msg->info), 1, 0);
    return r;
}

void wd_sessions_dispatch(struct wd_session_table *t, uint64_t bits, void (*work)(struct wd_session *, void *),
                          void (*ended)(struct wd_session *, void *), void *ctx)
{
    /* Only the sessions whose bits are set: two bits per session id. */
    for (bits &= (1ull << (2 * WD_SESSION_SLOTS)) - 1; bits; bits &= ~(3ull << (__builtin_ctzll(bits) & ~1u))) {
        struct wd_session *s = &t->sessions[__builtin_ctzll(bits) / 2];
        if (!s->open)
            continue;
        if ((bits & ended_bit(s)) && !wd_session_lease_alive(s)) {
            s->ended = true;
            if (ended)
                ended(s, ctx);
            wd_session_end(t, s);
            continue;
        }
        if (work)
            work(s, ctx);
    }
}

/* What wd_sessions_serve passes through wd_sessions_dispatch. */
struct serve_context {
    const char *who;
    wd_session_run_fn run;
    void (*ended)(struct wd_session *, void *);
    void *ctx;
};

static void serve_work(struct wd_session *s, void *arg)
{
    struct serve_context *c = arg;
    do {
        struct wd_ring_desc req;
        long r;
        while ((r = wd_session_next_request(s, &req)) == 0 || r == -WD_E_RANGE) {
            long result = r == 0 ? c->run(s, &req, c->ctx) : r;
            if (result >= 0 && !wd_session_lease_alive(s))
                result = -WD_E_DEAD;        /* taken back while it ran: its DMA faulted */
            wd_session_post(s, req.id, req.op, result < 0 ? (uint16_t)-result : 0, result < 0 ? 0 : (uint64_t)result);
        }
        if (r == -WD_E_PROTOCOL)
            return;                         /* broken: wd_sessions_end_broken ends it */
    } while (wd_session_flush(s));
}

static void serve_ended(struct wd_session *s, void *arg)
{
    struct serve_context *c = arg;
    printf("%s: session %llu: the client took its region back (%llu request(s) served); session ended\n", c->who,
           (unsigned long long)s->id, (unsigned long long)s->completions_posted);
    if (c->ended)
        c->ended(s, c->ctx);
}

void wd_sessions_serve(struct wd_session_table *t, uint64_t bits, const char *who, wd_session_run_fn run,
                       void (*ended)(struct wd_session *, void *), void *ctx)
{
    struct serve_context c = { .who = who, .run = run, .ended = ended, .ctx = ctx };
    wd_sessions_dispatch(t, bits, serve_work, serve_ended, &c);
    wd_sessions_end_broken(t, who);
}

void wd_sessions_end_broken(struct wd_session_table *t, const char *who)
{
    for (unsigned i = 0; t->broken_sessions && i < WD_SESSION_SLOTS; i++) {
        struct wd_session *s = &t->sessions[i];
        if (!s->open || !s->broken || s->end_pending)
            continue;
        t->broken_sessions--;
        printf("%s: session %llu: the client broke its ring; ending the session\n", who, (unsigned long long)s->id);
        wd_session_end(t, s);
    }
}

/* The client broke a ring: the session takes nothing more and is ended by
 * wd_sessions_end_broken. Returns error. */
static long session_broken(struct wd_session *s, long error)
{
    if (!s->broken && s->table)
        s->table->broken_sessions++;
    s->broken = true;
    s->ended = true;
    return error;
}

long wd_session_next_requests(struct wd_session *s, struct wd_ring_desc *out, uint32_t max)
{
    if (s->ended)
        return -WD_E_DEAD;
    struct wd_ring *c = &s->completions;
    /* Only as many requests in flight as completions can be posted. The
     * room last seen is a lower bound (the client only hands slots back),
     * so the shared index is read again only when that is not enough. */
    uint64_t outstanding = s->requests_taken - s->completions_posted;
    uint64_t room = c->capacity - (c->head - c->tail);
    if (outstanding + max > room) {
        long space = wd_ring_space(c);
        if (space == 0) {
            wd_ring_producer_may_sleep(c);      /* the client's release will signal us */
            space = wd_ring_space(c);
        }
        if (space < 0)
            return session_broken(s, space);
        room = (uint64_t)space;
        if (outstanding >= room)
            return 0;
    }
    if (max > room - outstanding)
        max = (uint32_t)(room - outstanding);
    long r = wd_ring_dequeue_batch(&s->requests, out, max);
    if (r < 0)
        return session_broken(s, r);
    s->requests_taken += (uint64_t)r;
    return r;
}

long wd_session_next_request(struct wd_session *s, struct wd_ring_desc *req)
{
    long r = wd_session_next_requests(s, req, 1);
    if (r <= 0)
        return r == 0 ? -WD_E_WOULD_BLOCK : r;
    return req->status ? -(long)req->status : 0;    /* RANGE: consumed, to be completed with that error */
}

long wd_session_post_completion(struct wd_session *s, const struct wd_ring_desc *c)
{
    long r = wd_ring_enqueue(&s->completions, c);
    if (r == 0)
        s->completions_posted++;
    return r;
}

long wd_session_post(struct wd_session *s, uint64_t id, uint16_t op, uint16_t status, uint64_t result)
{
    struct wd_ring_desc c = { .op = op, .status = status, .id = id, .arg = result };
    return wd_session_post_completion(s, &c);
}

bool wd_session_flush(struct wd_session *s)
{
    if (!s->open)
        return false;
    if (!s->ended)
        wd_ring_release(&s->requests);
    if (wd_ring_publish(&s->completions))   /* an ended session's last completions too */
        signal_client(s);
    return !s->ended && !wd_ring_consumer_may_sleep(&s->requests);
}

bool wd_session_flush_quietly(struct wd_session *s)
{
    if (!s->open)
        return false;
    if (!s->ended)
        wd_ring_release(&s->requests);
    wd_ring_publish_quietly(&s->completions);
    return !s->ended && !wd_ring_consumer_may_sleep(&s->requests);
}

/* The checks of wd_session_iova and wd_session_cpu: 0 or -WD_E_*. */
static long check_range(const struct wd_session *s, uint64_t offset, uint64_t length, uint32_t access)
{
    if (s->ended || !s->open)
        return -WD_E_DEAD;
    if (offset > s->region_size || length > s->region_size - offset)
        return -WD_E_RANGE;
    if (!access || (access & ~s->device_rights))
        return -WD_E_NO_RIGHTS;
    return 0;
}

long wd_session_iova(const struct wd_session *s, uint64_t offset, uint64_t length, uint32_t access, uint64_t *iova)
{
    long r = check_range(s, offset, length, access);
    if (r == 0)
        *iova = s->region_iova + offset;
    return r;
}

long wd_session_cpu(const struct wd_session *s, uint64_t offset, uint64_t length, uint32_t access, void **cpu)
{
    long r = s->region_cpu ? check_range(s, offset, length, access) : -WD_E_DEAD;
    if (r == 0)
        *cpu = (char *)s->region_cpu + offset;
    return r;
}
