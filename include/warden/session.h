/*
 * warden/session.h - the data-path session protocol between a client and
 * a driver (or any service with a data path), the same for every device
 * class (DESIGN.md §10, docs/drivers.md).
 *
 * Control goes over IPC, data over a ring pair in shared memory:
 *
 *   WD_SESSION_OPEN (client -> service, ipc_call)
 *     caps[0] region: the client's memory for the device, as a lease (a
 *             frame capability without RETAIN) with MAP, GRANT and the
 *             rights the device needs: READ (the device may read it),
 *             WRITE (the device may write it). The service maps it for its
 *             device once, now; the client can take it back at any moment
 *             (wd_region_revoke), and the kernel unmaps it, with the IOTLB
 *             flush waited for, before that call returns.
 *     caps[1] rings: a zeroed frame (READ, WRITE, MAP, GRANT, RETAIN) of at
 *             least wd_session_ring_bytes(capacity) bytes holding the ring
 *             pair: requests (client produces) at 0, completions (service
 *             produces) at wd_session_completions_offset(capacity). RETAIN,
 *             so the service's mapping of it cannot vanish under it.
 *     caps[2] a notification, SEND only, best badged (the service signals
 *             with bits 0, the badge's; an unbadged one gets bit 0): the
 *             service signals it when it publishes completions the client
 *             waits for.
 *     w0      ring capacity (a power of two, 1..WD_SESSION_MAX_CAPACITY)
 *     w1..    service-specific
 *   Reply: w0 = session id (>= 0) or -WD_E_*; caps[0] = a SEND-only,
 *   badged capability to the service's notification: the client signals it
 *   when it publishes requests the service waits for. Every capability the
 *   request brought is the service's now or deleted by it.
 *
 *   WD_SESSION_CLOSE (client -> service): w0 = session id; caps[0] = the
 *   signal capability the open's reply gave (it proves the session is the
 *   caller's: its badge names the session). Reply w0 = 0 or -WD_E_*. The
 *   service unmaps and forgets everything of the session. Revoking the
 *   region ends the session too (the service hears of it through a watch).
 *
 * Descriptors (struct wd_ring_desc) name buffers by offset into the
 * region. A completion echoes the request's id, with status 0 or a WD_E_*
 * code and arg = the service's result (bytes moved, say), in any order.
 */
#ifndef WARDEN_ABI_SESSION_H
#define WARDEN_ABI_SESSION_H

#include <warden/ring.h>

#define WD_SESSION_OPEN  0x5E550001u
#define WD_SESSION_CLOSE 0x5E550002u

#define WD_SESSION_MAX_CAPACITY 1024u

static inline uint64_t wd_session_completions_offset(uint32_t capacity)
{
    return (wd_ring_bytes(capacity) + WD_RING_ALIGN - 1) & ~(uint64_t)(WD_RING_ALIGN - 1);
}

/* Bytes of the ring frame, page-rounded. */
static inline uint64_t wd_session_ring_bytes(uint32_t capacity)
{
    uint64_t bytes = wd_session_completions_offset(capacity) + wd_ring_bytes(capacity);
    return (bytes + WD_PAGE_SIZE - 1) & ~(WD_PAGE_SIZE - 1);
}

#endif
