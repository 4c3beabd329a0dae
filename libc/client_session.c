/*
 * client_session.c - the client end of a data-path session (see
 * <warden/region.h> and <warden/session.h>): opening it (region, lease,
 * rings, notification, WD_SESSION_OPEN), submitting and kicking,
 * waiting for completions without lost wake-ups, revoking, closing; and
 * surviving the service's death: every request is remembered in a slot
 * (the service sees the slot as its id) until it completes, a watch on
 * the service's endpoint ends a wait with DEAD, and wd_client_reopen
 * opens a session with the restarted service over the same region and
 * submits again what did not complete, so each request completes once.
 */
#include <stdlib.h>
#include <string.h>
#include <warden/region.h>
#include <warden/syscalls.h>

#define SERVICE_GONE_BIT 2ull     /* the client's watch on the service's endpoint (bit 0: completions) */

static void undo_open(struct wd_client_session *s)
{
    if (s->service_signal)
        wd_cap_delete(s->service_signal);
    if (s->notification)
        wd_cap_delete(s->notification);
    if (s->grant)
        wd_region_revoke(s->grant);
    if (s->rings.frame)
        wd_region_destroy(&s->rings);
    if (s->region.frame)
        wd_region_destroy(&s->region);
    if (s->service)
        wd_cap_delete(s->service);
    free(s->pending);
    memset(s, 0, sizeof *s);
}

/* The session's own copy of the service's capability (its watch is the session's). */
static long take_service(struct wd_client_session *s, wd_handle_t service)
{
    long copy = wd_cap_copy(service, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0);
    if (copy < 0)
        copy = wd_cap_copy(service, WD_NULL, WD_RIGHT_SEND, 0);
    if (copy < 0)
        return copy;
    s->service = (wd_handle_t)copy;
    return 0;
}

/* Fresh rings in the ring frame (the previous service's view is gone). */
static long init_rings(struct wd_client_session *s)
{
    memset(s->rings.cpu, 0, wd_session_ring_bytes(s->capacity));
    long r = wd_ring_init_producer(&s->requests, s->rings.cpu, s->capacity);
    if (r == 0)
        r = wd_ring_init_consumer(&s->completions,
                                  (char *)s->rings.cpu + wd_session_completions_offset(s->capacity), s->capacity, 0);
    return r;
}

/* WD_SESSION_OPEN to s->service with the grant, the ring frame and a
 * badged signal-only copy of the notification; watches the service's
 * endpoint so a wait learns when the service dies. */
static long send_open(struct wd_client_session *s, uint64_t timeout)
{
    /* Badged, so the service signals it with bits 0 (the badge's bit). */
    long signal_only = wd_cap_copy(s->notification, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 1);
    if (signal_only < 0)
        return signal_only;
    struct wd_msg msg = {
        .info = wd_msg_info(WD_SESSION_OPEN, 1 + s->nargs, 3),
        .w = { s->capacity },
        .caps = { s->grant, s->rings.frame, (wd_handle_t)signal_only },
    };
    for (unsigned i = 0; i < s->nargs; i++)
        msg.w[1 + i] = s->args[i];
    long r = wd_call(s->service, &msg, timeout);
    wd_cap_delete((wd_handle_t)signal_only);    /* the service has its copy */
    if (r == 0)
        r = (long)msg.w[0];
    if (r == 0 && wd_msg_ncaps(msg.info) != 1)
        r = -WD_E_PROTOCOL;
    if (r < 0) {
        for (unsigned i = 0; i < wd_msg_ncaps(msg.info) && i < WD_MSG_CAPS; i++)
            wd_cap_delete(msg.caps[i]);
        return r;
    }
    s->id = msg.w[0];
    s->service_signal = msg.caps[0];
    s->service_dead = false;
    wd_cap_watch(s->service, s->notification, SERVICE_GONE_BIT);
    return 0;
}

long wd_client_open(struct wd_client_session *s, wd_handle_t service, wd_handle_t pool, uint64_t region_bytes,
                     uint64_t device_rights, uint32_t capacity, const uint64_t *args, unsigned nargs,
                     uint64_t timeout)
{
    memset(s, 0, sizeof *s);
    if (nargs > WD_MSG_WORDS - 2 || capacity == 0 || capacity > WD_SESSION_MAX_CAPACITY ||
        (capacity & (capacity - 1)))
        return -WD_E_INVALID_ARG;
    long r = take_service(s, service);
    if (r < 0)
        return r;
    s->capacity = capacity;
    s->nargs = nargs;
    for (unsigned i = 0; i < nargs; i++)
        s->args[i] = args[i];
    s->pending = malloc(capacity * (sizeof *s->pending + sizeof *s->submitted + sizeof *s->free_slots + 1));
    if (!s->pending) {
        undo_open(s);
        return -WD_E_POOL_EXHAUSTED;
    }
    s->submitted = (uint64_t *)(s->pending + capacity);
    s->free_slots = (uint32_t *)(s->submitted + capacity);
    s->slot_used = (uint8_t *)(s->free_slots + capacity);
    for (uint32_t i = 0; i < capacity; i++) {
        s->free_slots[i] = capacity - 1 - i;
        s->slot_used[i] = 0;
    }
    s->free_count = capacity;
    r = wd_region_create(&s->region, pool, region_bytes);
    if (r == 0)
        r = wd_region_grant(&s->region, device_rights, &s->grant);
    if (r == 0)
        r = wd_region_create(&s->rings, pool, wd_session_ring_bytes(capacity));
    if (r == 0)
        r = init_rings(s);
    long n = r == 0 ? wd_notify_create(pool) : r;
    if (n >= 0) {
        s->notification = (wd_handle_t)n;
        r = send_open(s, timeout);
    }
    if (n < 0 || r < 0) {
        undo_open(s);
        return n < 0 ? n : r;
    }
    return 0;
}

long wd_client_reopen(struct wd_client_session *s, wd_handle_t service, uint64_t timeout)
{
    if (!s->region.frame || !s->grant)
        return -WD_E_INVALID_ARG;
    if (s->service_signal)
        wd_cap_delete(s->service_signal);
    s->service_signal = WD_NULL;
    wd_cap_delete(s->service);                  /* the old endpoint, and its watch */
    s->service = WD_NULL;
    wd_notify_poll(s->notification);            /* a stale "gone" bit */
    long r = take_service(s, service);
    if (r == 0)
        r = init_rings(s);
    if (r == 0)
        r = send_open(s, timeout);
    if (r < 0)
        return r;
    /* What the old service did not complete goes again, under its slot, in
     * the order it was first submitted (a service may rely on the ring's
     * order: edu's write to the device, then the read back). */
    uint64_t after = 0;
    for (;;) {
        uint32_t next = s->capacity;
        for (uint32_t slot = 0; slot < s->capacity; slot++)
            if (s->slot_used[slot] && s->submitted[slot] > after &&
                (next == s->capacity || s->submitted[slot] < s->submitted[next]))
                next = slot;
        if (next == s->capacity)
            break;
        after = s->submitted[next];
        struct wd_ring_desc d = s->pending[next];
        d.id = next;
        if (wd_ring_enqueue(&s->requests, &d) == 0)
            s->resubmitted++;
    }
    return wd_client_kick(s);
}

long wd_client_submit(struct wd_client_session *s, const struct wd_ring_desc *request)
{
    if (!s->free_count)
        return -WD_E_WOULD_BLOCK;
    uint32_t slot = s->free_slots[s->free_count - 1];
    struct wd_ring_desc d = *request;
    d.id = slot;                            /* the service sees the slot; the caller gets its id back */
    long r = wd_ring_enqueue(&s->requests, &d);
    if (r < 0)
        return r;
    s->free_count--;
    s->pending[slot] = *request;
    s->submitted[slot] = ++s->submissions;
    s->slot_used[slot] = 1;
    return 0;
}

long wd_client_kick(struct wd_client_session *s)
{
    if (!wd_ring_publish(&s->requests))
        return 0;
    s->kicks++;
    return wd_notify_signal(s->service_signal, 0);
}

long wd_client_wait(struct wd_client_session *s, struct wd_ring_desc *out, uint64_t timeout)
{
    uint64_t deadline = 0;                  /* set at the first sleep: no clock read when nothing waits */
    for (;;) {
        long r = wd_ring_dequeue(&s->completions, out);
        if (r != -WD_E_WOULD_BLOCK) {
            if (wd_ring_release(&s->completions)) /* the service waits for completion space */
                wd_notify_signal(s->service_signal, 0);
            if (r == 0) {
                uint64_t slot = out->id;
                if (slot >= s->capacity || !s->slot_used[slot])
                    return -WD_E_PROTOCOL;      /* a completion for nothing we asked */
                out->id = s->pending[slot].id;
                s->slot_used[slot] = 0;
                s->free_slots[s->free_count++] = (uint32_t)slot;
            }
            return r;
        }
        if (s->service_dead)
            return -WD_E_DEAD;
        if (timeout == WD_NO_WAIT)
            return r;
        if (!wd_ring_consumer_may_sleep(&s->completions))
            continue;
        uint64_t now = timeout == WD_FOREVER ? 0 : (uint64_t)wd_time_now();
        if (timeout != WD_FOREVER && !deadline)
            deadline = now + timeout;
        if (timeout != WD_FOREVER && now >= deadline)
            return -WD_E_TIMEOUT;
        s->waits++;
        long w = wd_notify_wait(s->notification, timeout == WD_FOREVER ? WD_FOREVER : deadline - now);
        if (w < 0 && w != -WD_E_TIMEOUT)
            return w;
        if (w > 0 && (w & SERVICE_GONE_BIT))
            s->service_dead = true;             /* what it published still comes first */
    }
}

long wd_client_bind(struct wd_client_session *s, wd_handle_t endpoint, uint64_t badge)
{
    return wd_notify_bind(s->notification, endpoint, badge);
}

void wd_client_notified(struct wd_client_session *s, uint64_t bits)
{
    if (bits & SERVICE_GONE_BIT)
        s->service_dead = true;
}

long wd_client_poll(struct wd_client_session *s, struct wd_ring_desc *out)
{
    long r = wd_client_wait(s, out, WD_NO_WAIT);
    if (r != -WD_E_WOULD_BLOCK)
        return r;
    /* Nothing: ask to be signalled for the next one, then look once more. */
    if (wd_ring_consumer_may_sleep(&s->completions))
        return -WD_E_WOULD_BLOCK;
    return wd_client_wait(s, out, WD_NO_WAIT);
}

long wd_client_revoke(struct wd_client_session *s)
{
    if (!s->grant)
        return -WD_E_INVALID_ARG;
    long r = wd_region_revoke(s->grant);
    s->grant = WD_NULL;
    return r;
}

long wd_client_close(struct wd_client_session *s, uint64_t timeout)
{
    if (!s->region.frame)
        return -WD_E_INVALID_ARG;
    struct wd_msg msg = {
        .info = wd_msg_info(WD_SESSION_CLOSE, 1, 1),
        .w = { s->id },
        .caps = { s->service_signal },          /* proves the session is ours */
    };
    long r = wd_call(s->service, &msg, timeout);
    if (r == 0)
        r = (long)msg.w[0];
    undo_open(s);
    return r;
}
