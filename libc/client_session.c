/*
 * client_session.c - the client end of a data-path session (see
 * <warden/region.h> and <warden/session.h>): opening it (region, lease,
 * rings, notification, WD_SESSION_OPEN), submitting and kicking,
 * waiting for completions without lost wake-ups, revoking, closing.
 */
#include <string.h>
#include <warden/region.h>
#include <warden/syscalls.h>

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
    memset(s, 0, sizeof *s);
}

long wd_client_open(struct wd_client_session *s, wd_handle_t service, wd_handle_t pool, uint64_t region_bytes,
                     uint64_t device_rights, uint32_t capacity, const uint64_t *args, unsigned nargs,
                     uint64_t timeout)
{
    memset(s, 0, sizeof *s);
    if (nargs > WD_MSG_WORDS - 2 || capacity == 0 || capacity > WD_SESSION_MAX_CAPACITY ||
        (capacity & (capacity - 1)))
        return -WD_E_INVALID_ARG;
    s->service = service;
    long r = wd_region_create(&s->region, pool, region_bytes);
    if (r == 0)
        r = wd_region_grant(&s->region, device_rights, &s->grant);
    if (r == 0)
        r = wd_region_create(&s->rings, pool, wd_session_ring_bytes(capacity));
    if (r == 0)
        r = wd_ring_init_producer(&s->requests, s->rings.cpu, capacity);
    if (r == 0)
        r = wd_ring_init_consumer(&s->completions, (char *)s->rings.cpu + wd_session_completions_offset(capacity),
                                  capacity, 0);
    long n = r == 0 ? wd_notify_create(pool) : r;
    if (n < 0) {
        undo_open(s);
        return n;
    }
    s->notification = (wd_handle_t)n;
    /* Badged, so the service signals it with bits 0 (the badge's bit). */
    long signal_only = wd_cap_copy(s->notification, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 1);
    if (signal_only < 0) {
        undo_open(s);
        return signal_only;
    }
    struct wd_msg msg = {
        .info = wd_msg_info(WD_SESSION_OPEN, 1 + nargs, 3),
        .w = { capacity },
        .caps = { s->grant, s->rings.frame, (wd_handle_t)signal_only },
    };
    for (unsigned i = 0; i < nargs; i++)
        msg.w[1 + i] = args[i];
    r = wd_call(service, &msg, timeout);
    wd_cap_delete((wd_handle_t)signal_only);    /* the service has its copy */
    if (r == 0)
        r = (long)msg.w[0];
    if (r == 0 && wd_msg_ncaps(msg.info) != 1)
        r = -WD_E_PROTOCOL;
    if (r < 0) {
        for (unsigned i = 0; i < wd_msg_ncaps(msg.info) && i < WD_MSG_CAPS; i++)
            wd_cap_delete(msg.caps[i]);
        undo_open(s);
        return r;
    }
    s->id = msg.w[0];
    s->service_signal = msg.caps[0];
    return 0;
}

long wd_client_submit(struct wd_client_session *s, const struct wd_ring_desc *request)
{
    return wd_ring_enqueue(&s->requests, request);
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
            return r;
        }
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
    }
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
