/*
 * warden/service.h - calling a server that may die and come back (a
 * supervised driver). A connection remembers the name and the registry
 * generation it was looked up at. When a call fails because the server's
 * incarnation died (DEAD: its endpoint closed or it died holding the call;
 * STALE_HANDLE: the capability was revoked), wd_service_call looks the
 * name up again, waiting up to the connection's patience for the next
 * incarnation to register, and sends the request once more.
 *
 * The request is sent again as it was, so only retry requests that are
 * safe to repeat (the edu driver's are: each transfer starts from scratch).
 */
#ifndef WARDEN_LIBC_SERVICE_H
#define WARDEN_LIBC_SERVICE_H

#include <warden/abi.h>
#include <warden/registry.h>

struct wd_service {
    wd_handle_t registry;
    char name[WD_NAME_MAX + 1];
    wd_handle_t endpoint;           /* WD_NULL until connected */
    uint64_t generation;            /* registry generation of endpoint */
    uint64_t patience_ns;           /* how long to wait for a new incarnation */
    uint64_t reconnects;            /* times the connection was re-made */
};

/* Fills s and looks the name up (waiting up to patience_ns for it). */
long wd_service_connect(struct wd_service *s, wd_handle_t registry, const char *name, uint64_t patience_ns);
/* wd_call on the service; on DEAD or STALE_HANDLE, reconnects and retries
 * once with the same request. Returns as wd_call. */
long wd_service_call(struct wd_service *s, struct wd_msg *msg, uint64_t timeout_ns);
/* Drops the capability. */
void wd_service_close(struct wd_service *s);

#endif
