/*
 * service.c - calls to a server that may be restarted (warden/service.h).
 */
#include <warden/service.h>
#include <warden/syscalls.h>

#include <string.h>

#define POLL_NS (5ull * 1000 * 1000)   /* between lookups while the server is down */

/* Looks the name up until an incarnation newer than the one we had (or
 * any, when we had none) is registered, or patience runs out. */
static long lookup(struct wd_service *s, uint64_t older_than)
{
    uint64_t deadline = (uint64_t)wd_time_now() + s->patience_ns;
    for (;;) {
        wd_handle_t endpoint;
        uint64_t generation;
        long r = wd_name_lookup_generation(s->registry, s->name, &endpoint, &generation);
        if (r == 0 && generation > older_than) {
            s->endpoint = endpoint;
            s->generation = generation;
            return 0;
        }
        if (r == 0)
            wd_cap_delete(endpoint);        /* still the dead incarnation's entry */
        else if (r != -WD_E_NOT_FOUND)
            return r;
        if ((uint64_t)wd_time_now() >= deadline)
            return r == 0 ? -WD_E_DEAD : r;
        wd_thread_sleep(POLL_NS);
    }
}

long wd_service_connect(struct wd_service *s, wd_handle_t registry, const char *name, uint64_t patience_ns)
{
    size_t n = strnlen(name, WD_NAME_MAX + 1);
    if (n == 0 || n > WD_NAME_MAX)
        return -WD_E_INVALID_ARG;
    memset(s, 0, sizeof *s);
    s->registry = registry;
    memcpy(s->name, name, n);
    s->patience_ns = patience_ns;
    return lookup(s, 0);
}

/* A failed wd_call leaves msg as it was, so the retry sends the same request. */
long wd_service_call(struct wd_service *s, struct wd_msg *msg, uint64_t timeout_ns)
{
    long r = s->endpoint ? wd_call(s->endpoint, msg, timeout_ns) : -WD_E_DEAD;
    if (r != -WD_E_DEAD && r != -WD_E_STALE_HANDLE)
        return r;
    if (s->endpoint)
        wd_cap_delete(s->endpoint);
    s->endpoint = WD_NULL;
    long found = lookup(s, s->generation);
    if (found < 0)
        return found;
    s->reconnects++;
    return wd_call(s->endpoint, msg, timeout_ns);
}

void wd_service_close(struct wd_service *s)
{
    if (s->endpoint)
        wd_cap_delete(s->endpoint);
    s->endpoint = WD_NULL;
}
