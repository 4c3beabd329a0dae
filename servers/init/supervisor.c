/*
 * supervisor.c - init's reincarnation server for drivers (protocol in
 * <warden/supervisor.h>, the story in docs/driver-crash.md).
 *
 * A driver is started on request with a device and a pool; each
 * incarnation gets its own registry capability badged with the driver's
 * badge, so init knows which names it registered. When an incarnation
 * dies, the kernel has already revoked its device (the EXIT message says
 * what); init logs that, drops the names it registered, and schedules the
 * next incarnation with the endpoint's timer. A start that dies before
 * registering counts as failed: the backoff doubles with each failed start
 * in a row, and after WD_SUPERVISOR_START_LIMIT of them the driver is
 * FAILED and left down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/spawn.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "init.h"

#define MAX_DRIVERS 8
#define DRIVER_BADGE_BASE 0x4000    /* each driver: its own badge above this */
#define NS_PER_MS 1000000ull

struct driver {
    bool used;
    char service[WD_NAME_MAX + 1];
    char args[WD_NAME_MAX + 8];     /* "module service [extra]" */
    char module[WD_NAME_MAX + 1];
    wd_handle_t device, pool, process;
    wd_handle_t extra[2];           /* further caps for its start info (the shell's console and inspector) */
    unsigned extra_count;
    bool may_control;               /* its registry capability may start, kill, pause ... (the shell) */
    uint64_t badge;
    uint64_t restart_at_ns;         /* while BACKOFF */
    struct wd_service_status status;
    uint64_t last_exit[7];          /* valid once status.deaths > 0 */
};

static struct driver drivers[MAX_DRIVERS];
static wd_handle_t endpoint;
static uint64_t next_badge = DRIVER_BADGE_BASE;

void supervisor_init(wd_handle_t ep)
{
    endpoint = ep;
}

static struct driver *by_name(const char *service)
{
    for (int i = 0; i < MAX_DRIVERS; i++)
        if (drivers[i].used && strcmp(drivers[i].service, service) == 0)
            return &drivers[i];
    return NULL;
}

static struct driver *by_badge(uint64_t badge)
{
    for (int i = 0; i < MAX_DRIVERS; i++)
        if (drivers[i].used && drivers[i].badge == badge)
            return &drivers[i];
    return NULL;
}

static long spawn_incarnation(struct driver *d)
{
    const struct wd_module *m = wd_find_module(d->module);
    if (!m)
        return -WD_E_NOT_FOUND;
    long registry = wd_cap_copy(endpoint, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, d->badge);
    if (registry < 0)
        return registry;
    struct wd_spawn s = {
        .args = d->args,
        .image = m->frame,
        .image_size = m->size,
        .pool = d->pool ? d->pool : wd_start_info->pool,
        .fault_endpoint = endpoint,
        .fault_badge = d->badge,
        .registry = (wd_handle_t)registry,
    };
    if (d->device)
        s.caps[s.cap_count++] = d->device;
    for (unsigned i = 0; i < d->extra_count; i++)
        s.caps[s.cap_count++] = d->extra[i];
    long r = wd_spawn(&s, NULL);
    wd_cap_delete((wd_handle_t)registry);
    if (r < 0)
        return r;
    struct wd_cap_info info;
    d->process = (wd_handle_t)r;
    d->status.pid = wd_cap_info(d->process, &info) == 0 ? info.object_id : 0;
    d->status.generation++;
    d->status.state = WD_SERVICE_STARTING;
    return 0;
}

/* The earliest pending restart arms the endpoint's timer. */
static void arm_timer(void)
{
    uint64_t earliest = UINT64_MAX;
    for (int i = 0; i < MAX_DRIVERS; i++)
        if (drivers[i].used && drivers[i].status.state == WD_SERVICE_BACKOFF && drivers[i].restart_at_ns < earliest)
            earliest = drivers[i].restart_at_ns;
    if (earliest == UINT64_MAX)
        return;
    uint64_t now = (uint64_t)wd_time_now();
    wd_endpoint_timer(endpoint, SUPERVISOR_TIMER_BADGE, earliest > now ? earliest - now : 1);
}

static void forget(struct driver *d)
{
    if (d->process)
        wd_cap_delete(d->process);
    if (d->device)
        wd_cap_delete(d->device);
    if (d->pool)
        wd_cap_delete(d->pool);
    for (unsigned i = 0; i < d->extra_count; i++)
        wd_cap_delete(d->extra[i]);
    registry_drop_owner(d->badge);
    memset(d, 0, sizeof *d);
}

static void schedule_restart(struct driver *d)
{
    if (d->status.failed_starts >= WD_SUPERVISOR_START_LIMIT) {
        d->status.state = WD_SERVICE_FAILED;
        d->status.backoff_ms = 0;
        printf("init: driver %s failed %llu starts in a row; giving up (its device stays revoked)\n", d->service,
               (unsigned long long)d->status.failed_starts);
        return;
    }
    uint64_t ms = WD_SUPERVISOR_BACKOFF_BASE_MS << d->status.failed_starts;
    if (ms > WD_SUPERVISOR_BACKOFF_MAX_MS)
        ms = WD_SUPERVISOR_BACKOFF_MAX_MS;
    d->status.backoff_ms = ms;
    d->status.state = WD_SERVICE_BACKOFF;
    d->restart_at_ns = (uint64_t)wd_time_now() + ms * NS_PER_MS;
    arm_timer();
}

/* An incarnation could not even be spawned: counts as a failed start. */
static void start_failed(struct driver *d, long error)
{
    printf("init: cannot start driver %s: %s\n", d->service, wd_error_name(error));
    d->status.failed_starts++;
    schedule_restart(d);
}

void supervisor_timer(void)
{
    uint64_t now = (uint64_t)wd_time_now();
    for (int i = 0; i < MAX_DRIVERS; i++) {
        struct driver *d = &drivers[i];
        if (!d->used || d->status.state != WD_SERVICE_BACKOFF || d->restart_at_ns > now)
            continue;
        long r = spawn_incarnation(d);
        if (r < 0)
            start_failed(d, r);
        else
            printf("init: driver %s restarted (generation %llu, process %llu)\n", d->service,
                   (unsigned long long)d->status.generation, (unsigned long long)d->status.pid);
    }
    arm_timer();
}

static void print_death(const struct driver *d, const struct wd_msg *msg)
{
    unsigned long long address = msg->w[7];
    printf("init: driver %s (generation %llu, process %llu) %s with status %lld; the kernel revoked %llu "
           "device(s)",
           d->service, (unsigned long long)d->status.generation, (unsigned long long)msg->w[1],
           msg->w[3] == WD_EXIT_KILLED ? "was killed" : "exited", (long long)(int64_t)msg->w[2],
           (unsigned long long)msg->w[4]);
    if (msg->w[4])
        printf(" (first %02llx:%02llx.%llx)", (address >> 8) & 0xFF, (address >> 3) & 0x1F, address & 7);
    printf(", %llu DMA mapping(s), %llu interrupt(s)\n", (unsigned long long)msg->w[5],
           (unsigned long long)msg->w[6]);
}

bool supervisor_kernel_message(const struct wd_msg *msg)
{
    struct driver *d = by_badge(msg->badge);
    if (!d)
        return false;
    uint32_t label = wd_msg_label(msg->info);
    if (label == WD_LABEL_FAULT) {
        printf("init: driver %s faulted: vector %llu at RIP 0x%llx; killing it\n", d->service,
               (unsigned long long)msg->w[2], (unsigned long long)msg->w[5]);
        d->status.last_fault_vector = msg->w[2];
        wd_process_kill(d->process, -1);
    } else if (label == WD_LABEL_EXIT && d->process) {
        print_death(d, msg);
        memcpy(d->last_exit, &msg->w[1], sizeof d->last_exit);
        wd_cap_delete(d->process);
        d->process = WD_NULL;
        d->status.pid = 0;
        d->status.deaths++;
        if (d->status.state == WD_SERVICE_STARTING)
            d->status.failed_starts++;
        registry_drop_owner(d->badge);
        if (d->status.state != WD_SERVICE_STOPPED)
            schedule_restart(d);
    } else if (label == WD_LABEL_DMA_FAULT) {
        printf("init: driver %s: DMA fault at IOVA 0x%llx (reason 0x%llx)%s\n", d->service,
               (unsigned long long)msg->w[2], (unsigned long long)msg->w[3],
               (msg->w[4] & WD_DMA_FAULT_QUIESCED) ? "; the device is quiesced" : "");
    }
    return true;
}

void supervisor_registered(uint64_t badge)
{
    struct driver *d = by_badge(badge);
    if (!d || d->status.state != WD_SERVICE_STARTING)
        return;
    d->status.state = WD_SERVICE_RUNNING;
    d->status.failed_starts = 0;
}

/* Splits "service module [extra]" and builds the module's args. */
static long parse_spec(const char *spec, struct driver *d)
{
    const char *space = strchr(spec, ' ');
    if (!space || space == spec)
        return -WD_E_INVALID_ARG;
    size_t service_len = (size_t)(space - spec);
    const char *module = space + 1;
    size_t module_len = 0;
    while (module[module_len] && module[module_len] != ' ')
        module_len++;
    if (module_len == 0)
        return -WD_E_INVALID_ARG;
    memcpy(d->service, spec, service_len);
    memcpy(d->module, module, module_len);
    /* args = "module service" + the rest of the spec after the module */
    snprintf(d->args, sizeof d->args, "%s %s%s", d->module, d->service, module + module_len);
    return 0;
}

/* Records d and starts its first incarnation (forgotten again on failure). */
static long start_first(struct driver *d)
{
    d->used = true;
    d->badge = next_badge++;
    d->status.last_fault_vector = ~0ull;
    long r = spawn_incarnation(d);
    if (r < 0) {
        forget(d);
        return r;
    }
    printf("init: supervising driver %s (module %s, process %llu)\n", d->service, d->module,
           (unsigned long long)d->status.pid);
    return 0;
}

static struct driver *free_record(void)
{
    for (int i = 0; i < MAX_DRIVERS; i++)
        if (!drivers[i].used)
            return &drivers[i];
    return NULL;
}

long supervisor_start_local(const char *spec, wd_handle_t pool, const wd_handle_t *caps, unsigned cap_count,
                            bool may_control)
{
    struct driver *d = free_record();
    struct driver parsed = { 0 };
    long r = !d || cap_count > 2 ? -WD_E_CSPACE_FULL : parse_spec(spec, &parsed);
    if (r == 0 && by_name(parsed.service))
        r = -WD_E_EXISTS;
    if (r < 0) {                    /* refused: the caps given go, as with a refused START */
        wd_cap_delete(pool);
        for (unsigned i = 0; i < cap_count; i++)
            wd_cap_delete(caps[i]);
        return r;
    }
    *d = parsed;
    d->pool = pool;
    d->extra_count = cap_count;
    for (unsigned i = 0; i < cap_count; i++)
        d->extra[i] = caps[i];
    d->may_control = may_control;
    return start_first(d);
}

static long start_request(const char *spec, const struct wd_msg *msg)
{
    unsigned ncaps = wd_msg_ncaps(msg->info);
    struct driver *d = free_record();
    struct driver parsed = { 0 };
    long r = parse_spec(spec, &parsed);
    if (r == 0 && (msg->info & WD_MSG_CAPS_LOST))
        r = -WD_E_CSPACE_FULL;
    else if (r == 0 && by_name(parsed.service))
        r = -WD_E_EXISTS;
    else if (r == 0 && !d)
        r = -WD_E_CSPACE_FULL;
    else if (r == 0 && !wd_find_module(parsed.module))
        r = -WD_E_NOT_FOUND;
    if (r < 0) {
        for (unsigned i = 0; i < ncaps; i++)
            wd_cap_delete(msg->caps[i]);
        return r;
    }
    *d = parsed;
    d->device = ncaps >= 1 ? msg->caps[0] : WD_NULL;
    d->pool = ncaps >= 2 ? msg->caps[1] : WD_NULL;
    struct wd_cap_info only;
    if (ncaps == 1 && wd_cap_info(d->device, &only) == 0 && only.type == WD_TYPE_POOL) {
        d->pool = d->device;        /* a service without a device: its pool alone */
        d->device = WD_NULL;
    }
    return start_first(d);
}

/* The index'th supervised service (in table order): its name packed from w1. */
static long list_request(const char *text, struct wd_msg *msg)
{
    unsigned long index = strtoul(text, NULL, 10);
    for (int i = 0; i < MAX_DRIVERS; i++) {
        if (!drivers[i].used || index-- != 0)
            continue;
        struct wd_msg packed;
        wd_name_pack(&packed, drivers[i].service);
        memcpy(&msg->w[1], packed.w, 7 * sizeof(uint64_t));
        return 0;
    }
    return -WD_E_NOT_FOUND;
}

/* Start, kill, stop, pause, resume: not for the drivers and services init supervises (only
 * the processes init started itself, and a record that may_control, like the shell). */
static bool may_control(uint64_t badge)
{
    if (badge < DRIVER_BADGE_BASE)
        return true;
    const struct driver *caller = by_badge(badge);
    return caller && caller->may_control;
}

long supervisor_request(struct wd_msg *msg)
{
    char text[WD_NAME_MAX + 1];
    uint32_t label = wd_msg_label(msg->info);
    long r = wd_name_unpack(msg, text);
    bool control = label != WD_SUPERVISOR_STATUS && label != WD_SUPERVISOR_LAST_DEATH && label != WD_SUPERVISOR_LIST;
    if (r == 0 && control && !may_control(msg->badge))
        r = -WD_E_NO_RIGHTS;
    if (r == 0 && label == WD_SUPERVISOR_START)
        return start_request(text, msg);            /* takes its capabilities or deletes them */
    /* Nothing else takes a capability: init keeps none it did not ask for
     * (one left here would keep the client's object and pool alive). */
    for (unsigned i = 0; i < wd_msg_ncaps(msg->info); i++)
        wd_cap_delete(msg->caps[i]);
    if (r < 0)
        return r;
    if (label == WD_SUPERVISOR_LIST)
        return list_request(text, msg);
    struct driver *d = by_name(text);
    if (!d)
        return -WD_E_NOT_FOUND;
    switch (label) {
    case WD_SUPERVISOR_STATUS:
        memcpy(&msg->w[1], &d->status, sizeof d->status);
        return 0;
    case WD_SUPERVISOR_LAST_DEATH:
        if (!d->status.deaths)
            return -WD_E_NOT_FOUND;
        memcpy(&msg->w[1], d->last_exit, sizeof d->last_exit);
        return 0;
    case WD_SUPERVISOR_KILL:
        return d->process ? wd_process_kill(d->process, -1) : -WD_E_DEAD;
    case WD_SUPERVISOR_STOP:
        if (d->process)
            wd_process_kill(d->process, -1);
        printf("init: driver %s stopped on request\n", d->service);
        forget(d);
        return 0;
    case WD_SUPERVISOR_PAUSE:
        if (d->status.state == WD_SERVICE_STOPPED)
            return 0;
        d->status.state = WD_SERVICE_STOPPED;
        d->status.backoff_ms = 0;
        printf("init: driver %s paused on request\n", d->service);
        return d->process ? wd_process_kill(d->process, -1) : 0;
    case WD_SUPERVISOR_RESUME: {
        if (d->status.state != WD_SERVICE_STOPPED && d->status.state != WD_SERVICE_FAILED)
            return -WD_E_EXISTS;
        if (d->process)
            return -WD_E_BUSY;          /* its death is not handled yet */
        d->status.failed_starts = 0;
        long r = spawn_incarnation(d);
        if (r < 0) {
            start_failed(d, r);
            return r;
        }
        printf("init: driver %s resumed (generation %llu, process %llu)\n", d->service,
               (unsigned long long)d->status.generation, (unsigned long long)d->status.pid);
        return 0;
    }
    default:
        return -WD_E_INVALID_ARG;
    }
}

unsigned supervisor_reply_words(uint32_t label)
{
    if (label == WD_SUPERVISOR_STATUS)
        return 1 + sizeof(struct wd_service_status) / sizeof(uint64_t);
    if (label == WD_SUPERVISOR_LIST)
        return 8;
    return label == WD_SUPERVISOR_LAST_DEATH ? 8 : 1;
}
