/*
 * warden/supervisor.h - asking init to run and watch a driver (its
 * reincarnation server; docs/driver-crash.md). Requests go to the same
 * endpoint as the name registry (wd_start_info->registry).
 *
 * init starts the driver module as "<module> <service> [extra args]", with
 * caps[0] = the device capability given, paid by the pool given; the
 * driver registers its endpoint under <service>. When the driver dies
 * (fault, kill, exit), the kernel has already revoked its device; init
 * logs what died and what was revoked, drops the names it registered, and
 * starts a fresh incarnation after a backoff (RESTART_BASE_MS doubled for
 * every start in a row that died before registering its name). After
 * WD_SUPERVISOR_START_LIMIT such failed starts in a row it gives up: the
 * driver is FAILED and stays down.
 */
#ifndef WARDEN_LIBC_SUPERVISOR_H
#define WARDEN_LIBC_SUPERVISOR_H

#include <warden/abi.h>

#define WD_SUPERVISOR_START 0x5301      /* text "service module [args]"; caps[0] device, caps[1] pool (or caps[0] pool alone) */
#define WD_SUPERVISOR_STATUS 0x5302     /* text service; reply w1.. = struct wd_service_status */
#define WD_SUPERVISOR_LAST_DEATH 0x5303 /* text service; reply w1..w7 = the last EXIT message's w1..w7 */
#define WD_SUPERVISOR_KILL 0x5304       /* text service; kills the running incarnation (it is restarted) */
#define WD_SUPERVISOR_STOP 0x5305       /* text service; kills it for good and forgets it */
#define WD_SUPERVISOR_LIST 0x5306       /* text = an index in decimal; reply w1 = name length, w2.. =
                                           the index'th supervised service's name (wd_supervise_list) */
#define WD_SUPERVISOR_PAUSE 0x5307      /* text service; kills it and keeps it down (STOPPED) */
#define WD_SUPERVISOR_RESUME 0x5308     /* text service; starts a STOPPED or FAILED one again now */

/* Who may start, kill, stop, pause and resume: the processes init starts
 * itself (devmgr, the harness child, the shell), not the drivers and
 * services it supervises. Others get NO_RIGHTS. STATUS, LAST_DEATH and
 * LIST are open to every holder of a registry capability. */

#define WD_SUPERVISOR_START_LIMIT 5     /* failed starts in a row before init gives up */
#define WD_SUPERVISOR_BACKOFF_BASE_MS 10
#define WD_SUPERVISOR_BACKOFF_MAX_MS 1000

enum wd_service_state {
    WD_SERVICE_STARTING = 1,        /* spawned, has not registered its name yet */
    WD_SERVICE_RUNNING = 2,         /* registered its name */
    WD_SERVICE_BACKOFF = 3,         /* dead; the next incarnation starts after the backoff */
    WD_SERVICE_FAILED = 4,          /* given up after WD_SUPERVISOR_START_LIMIT failed starts */
    WD_SERVICE_STOPPED = 5,         /* paused on request (WD_SUPERVISOR_PAUSE) until resumed */
};

struct wd_service_status {
    uint64_t state;                 /* enum wd_service_state */
    uint64_t generation;            /* incarnations started (1 = the first) */
    uint64_t pid;                   /* process id of the current incarnation (0: none) */
    uint64_t deaths;                /* incarnations that died */
    uint64_t failed_starts;         /* deaths in a row before registering */
    uint64_t last_fault_vector;     /* CPU exception of the last fault (~0: none) */
    uint64_t backoff_ms;            /* delay before the pending restart */
};

/* "service module [args]" (at most WD_NAME_MAX bytes); device and pool are
 * copied to init (either may be WD_NULL; a service without a device, like
 * the network service, passes only its pool). 0 or -WD_E_* (EXISTS: a driver
 * by that name is supervised already; NOT_FOUND: no such module). */
long wd_supervise_start(wd_handle_t registry, const char *spec, wd_handle_t device, wd_handle_t pool);
long wd_supervise_status(wd_handle_t registry, const char *service, struct wd_service_status *out);
/* words[0..6] = w1..w7 of the last WD_LABEL_EXIT (pid, status, reason,
 * groups, mappings, irqs, first device address); NOT_FOUND before a death. */
long wd_supervise_last_death(wd_handle_t registry, const char *service, uint64_t words[7]);
long wd_supervise_kill(wd_handle_t registry, const char *service);
long wd_supervise_stop(wd_handle_t registry, const char *service);
long wd_supervise_pause(wd_handle_t registry, const char *service);
long wd_supervise_resume(wd_handle_t registry, const char *service);
/* The index'th supervised service: its name in name (WD_NAME_MAX + 1 bytes); returns the next
 * index, or NOT_FOUND past the last. */
long wd_supervise_list(wd_handle_t registry, unsigned index, char *name);

#endif
