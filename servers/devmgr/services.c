/*
 * services.c - the services devmgr has init's supervisor run on top of
 * the drivers: with a NIC ("eth0"), the network service ("net", which
 * finds eth0 by name and opens it again when the driver is restarted) and
 * the UDP echo service on port 7 ("echo", a client of net). Each gets its
 * own sub-pool and no device; init restarts them when they die.
 */
#include <stdio.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "devmgr.h"

struct service {
    const char *spec;               /* "service module [args]" for wd_supervise_start */
    const char *needs_driver;       /* started only when this driver was */
    uint64_t pool_bytes;
};

static const struct service services[] = {
    { "net net eth=eth0", "eth0", 4ull << 20 },
    { "echo echo net=net port=7", "eth0", 2ull << 20 },
};

unsigned services_start(void)
{
    unsigned started = 0;
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        const struct service *s = &services[i];
        if (!drivers_started(s->needs_driver))
            continue;
        long pool = wd_pool_create(wd_start_info->pool, s->pool_bytes);
        long r = pool < 0 ? pool : wd_supervise_start(wd_start_info->registry, s->spec, WD_NULL, (wd_handle_t)pool);
        if (pool >= 0)
            wd_cap_delete((wd_handle_t)pool);   /* init holds its own copy */
        if (r < 0) {
            printf("devmgr: cannot start \"%s\": %s (%s)\n", s->spec, wd_error_name(r), wd_error_text(r));
            continue;
        }
        started++;
        printf("devmgr: service \"%s\" handed to init's supervisor with a pool of %llu MiB\n", s->spec,
               (unsigned long long)(s->pool_bytes >> 20));
    }
    return started;
}
