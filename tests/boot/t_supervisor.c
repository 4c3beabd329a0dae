/*
 * t_supervisor.c - init's driver supervisor (docs/driver-crash.md) with
 * the real edu driver: a killed driver comes back with a new domain ID and
 * its old clients get DEAD, then succeed after looking it up again
 * (wd_service_call); a driver that crashes on every start is given up
 * after the limit while the rest of the system goes on; 50 kill/restart
 * cycles leave no memory, pool charge, object or interrupt behind; bad
 * requests are refused and leave no capability with init.
 */
#include <string.h>
#include <warden/registry.h>
#include <warden/service.h>
#include <warden/supervisor.h>

#include "boot_tests.h"
#include "edu_protocol.h"
#include "t_dma.h"

#define DRIVER_POOL_BYTES (8ull << 20)
#define PATIENCE_NS (3000 * BT_MS)

struct supervised {
    char name[32];
    wd_handle_t device, pool;
    struct wd_device_info info;
};

/* Opens edu and has init supervise "edu <name> <options>" in a fresh
 * sub-pool. False (skipped or failed) when it cannot. */
static bool supervise_edu(struct supervised *s, const char *tag, const char *options)
{
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &s->info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return false;
    }
    snprintf(s->name, sizeof s->name, "%s-%llu", tag, (unsigned long long)wd_start_info->process_id);
    long device = BT_OK(wd_device_open(dma_device_root(), s->info.address));
    long pool = BT_OK(wd_pool_create(bt_pool(), DRIVER_POOL_BYTES));
    if (device < 0 || pool < 0)
        return false;
    s->device = (wd_handle_t)device;
    s->pool = (wd_handle_t)pool;
    char spec[WD_NAME_MAX + 1];
    snprintf(spec, sizeof spec, "%s edu %s", s->name, options);
    return BT_OK(wd_supervise_start(wd_start_info->registry, spec, s->device, s->pool)) == 0;
}

/* Stops supervision (init kills the driver and deletes its copies); the
 * pool, now unused, must have nothing charged. */
static void stop(struct supervised *s)
{
    BT_CHECK_EQ(wd_supervise_stop(wd_start_info->registry, s->name), 0);
    struct wd_pool_info pool;
    BT_OK(wd_pool_info(s->pool, &pool));
    BT_CHECK_EQ(pool.used, 0);
    struct wd_device_info info;
    BT_OK(wd_device_info(s->device, &info));
    BT_CHECK(!(info.flags & WD_DEVICE_OWNED));
    wd_cap_delete(s->device);
    wd_cap_delete(s->pool);
}

static long factorial(struct wd_service *svc, uint64_t n)
{
    struct wd_msg msg = { .info = wd_msg_info(EDU_OP_FACTORIAL, 1, 0), .w = { n } };
    long r = wd_service_call(svc, &msg, EDU_CALL_TIMEOUT_NS);
    return r < 0 ? r : (long)msg.w[0];
}

static uint32_t attached_domain(const struct supervised *s)
{
    struct wd_device_info info;
    return wd_device_info(s->device, &info) == 0 ? info.domain_id : 0;
}

/* Kill, DEAD on the old endpoint, what the kernel revoked, then a new
 * incarnation (new domain ID) serving the same client after a re-lookup. */
void test_supervisor_restarts_driver(void)
{
    struct supervised s;
    if (!supervise_edu(&s, "edu-sup", "no-selftest"))
        return;
    wd_handle_t registry = wd_start_info->registry;
    struct wd_service svc;
    BT_CHECK_EQ(wd_service_connect(&svc, registry, s.name, PATIENCE_NS), 0);
    BT_CHECK_EQ(factorial(&svc, 5), 120);
    struct wd_service_status before, after;
    BT_OK(wd_supervise_status(registry, s.name, &before));
    BT_CHECK_EQ(before.state, WD_SERVICE_RUNNING);
    BT_CHECK_EQ(before.generation, 1);
    uint32_t old_domain = attached_domain(&s);
    BT_CHECK(old_domain != 0);
    long old = BT_OK(wd_cap_copy(svc.endpoint, WD_NULL, WD_RIGHT_SEND, 0));

    BT_CHECK_EQ(wd_supervise_kill(registry, s.name), 0);
    /* The old incarnation's endpoint is closed: a clear error, no hang. */
    struct wd_msg msg = { .info = wd_msg_info(EDU_OP_FACTORIAL, 1, 0), .w = { 3 } };
    BT_CHECK_EQ(wd_call((wd_handle_t)old, &msg, 1000 * BT_MS), -WD_E_DEAD);
    uint64_t death[7];
    BT_CHECK_EQ(wd_supervise_last_death(registry, s.name, death), 0);
    BT_CHECK_EQ(death[0], before.pid);
    BT_CHECK_EQ(death[2], WD_EXIT_KILLED);
    BT_CHECK_EQ(death[3], 1);                   /* one device group */
    BT_CHECK(death[4] >= 1);                    /* its DMA buffer mapping, at least */
    BT_CHECK_EQ(death[5], 1);                   /* its interrupt */
    BT_CHECK_EQ(death[6], s.info.address);

    /* The same client, through wd_service_call: DEAD, re-lookup, retry. */
    BT_CHECK_EQ(factorial(&svc, 6), 720);
    BT_CHECK_EQ(svc.reconnects, 1);
    BT_CHECK_EQ(svc.generation, 2);
    BT_OK(wd_supervise_status(registry, s.name, &after));
    BT_CHECK_EQ(after.state, WD_SERVICE_RUNNING);
    BT_CHECK_EQ(after.generation, 2);
    BT_CHECK_EQ(after.deaths, 1);
    BT_CHECK(after.pid != 0 && after.pid != before.pid);
    uint32_t new_domain = attached_domain(&s);
    BT_CHECK(new_domain != 0 && new_domain != old_domain);
    wd_cap_delete((wd_handle_t)old);
    wd_service_close(&svc);
    stop(&s);
}

/* Every start crashes (invalid instruction with the device attached):
 * init gives up after the limit; the device is left revoked and free, and
 * a healthy driver can be supervised right after. */
void test_supervisor_gives_up_crash_loop(void)
{
    struct supervised s;
    if (!supervise_edu(&s, "edu-crash", "no-selftest crash-at-start"))
        return;
    wd_handle_t registry = wd_start_info->registry;
    struct wd_service_status st = { 0 };
    for (int i = 0; i < 400 && st.state != WD_SERVICE_FAILED; i++) {
        BT_OK(wd_supervise_status(registry, s.name, &st));
        wd_thread_sleep(10 * BT_MS);
    }
    BT_CHECK_EQ(st.state, WD_SERVICE_FAILED);
    BT_CHECK_EQ(st.generation, WD_SUPERVISOR_START_LIMIT);
    BT_CHECK_EQ(st.deaths, WD_SUPERVISOR_START_LIMIT);
    BT_CHECK_EQ(st.failed_starts, WD_SUPERVISOR_START_LIMIT);
    BT_CHECK_EQ(st.last_fault_vector, 6);       /* #UD */
    BT_CHECK_EQ(st.pid, 0);
    uint64_t death[7];
    BT_CHECK_EQ(wd_supervise_last_death(registry, s.name, death), 0);
    BT_CHECK_EQ(death[3], 1);
    BT_CHECK(death[4] >= 1);
    BT_CHECK_EQ(death[5], 1);
    wd_thread_sleep(50 * BT_MS);                /* no further start after giving up */
    BT_OK(wd_supervise_status(registry, s.name, &st));
    BT_CHECK_EQ(st.generation, WD_SUPERVISOR_START_LIMIT);
    struct wd_device_info info;
    BT_OK(wd_device_info(s.device, &info));
    BT_CHECK(!(info.flags & (WD_DEVICE_OWNED | WD_DEVICE_ATTACHED)));    /* revoked, left free */
    BT_CHECK_EQ(wd_device_config_read(s.device, 4, 2) & 4, 0);    /* bus mastering off */
    stop(&s);

    /* The system goes on: a healthy driver for the same device serves. */
    struct supervised healthy;
    if (!supervise_edu(&healthy, "edu-after", "no-selftest"))
        return;
    struct wd_service svc;
    BT_CHECK_EQ(wd_service_connect(&svc, registry, healthy.name, PATIENCE_NS), 0);
    BT_CHECK_EQ(factorial(&svc, 4), 24);
    wd_service_close(&svc);
    stop(&healthy);
}

/* Requests init must refuse, without keeping the capabilities they carried
 * (cap_revoke on ours then finds no copy left anywhere). */
void test_supervisor_refuses_bad_requests(void)
{
    struct wd_device_info info;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return;
    }
    wd_handle_t registry = wd_start_info->registry;
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    long pool = BT_OK(wd_pool_create(bt_pool(), DRIVER_POOL_BYTES));
    if (device < 0 || pool < 0)
        return;
    char name[32], spec[WD_NAME_MAX + 1];
    snprintf(name, sizeof name, "edu-bad-%llu", (unsigned long long)wd_start_info->process_id);
    BT_CHECK_EQ(wd_supervise_start(registry, "edu-no-module", (wd_handle_t)device, (wd_handle_t)pool),
                -WD_E_INVALID_ARG);
    snprintf(spec, sizeof spec, "%s no-such-module", name);
    BT_CHECK_EQ(wd_supervise_start(registry, spec, (wd_handle_t)device, (wd_handle_t)pool), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_supervise_start(registry, "", (wd_handle_t)device, WD_NULL), -WD_E_INVALID_ARG);
    /* A pool alone is a service without a device: accepted as such, so the module is what is wrong. */
    BT_CHECK_EQ(wd_supervise_start(registry, spec, WD_NULL, (wd_handle_t)pool), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)device), 0);     /* init kept no copy */
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)pool), 0);
    struct wd_service_status st;
    uint64_t death[7];
    BT_CHECK_EQ(wd_supervise_status(registry, name, &st), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_supervise_kill(registry, name), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_supervise_stop(registry, name), -WD_E_NOT_FOUND);
    /* A supervised name cannot be taken twice; no death to report yet. */
    snprintf(spec, sizeof spec, "%s edu no-selftest", name);
    BT_CHECK_EQ(wd_supervise_start(registry, spec, (wd_handle_t)device, (wd_handle_t)pool), 0);
    BT_CHECK_EQ(wd_supervise_start(registry, spec, (wd_handle_t)device, (wd_handle_t)pool), -WD_E_EXISTS);
    BT_CHECK_EQ(wd_supervise_last_death(registry, name, death), -WD_E_NOT_FOUND);
    struct supervised s = { .device = (wd_handle_t)device, .pool = (wd_handle_t)pool, .info = info };
    memcpy(s.name, name, sizeof name);
    stop(&s);
}

#define CYCLES 50

/* 50 kill/restart cycles, each serving a request: memory, the driver's
 * pool, kernel objects and interrupts all come back to where they were. */
void test_supervisor_cycles_no_leak(void)
{
    struct wd_system_info before, after;
    struct wd_irq_stats irqs_before, irqs_after;
    BT_OK(wd_system_info(&before));
    BT_OK(wd_irq_stats(&irqs_before));
    struct supervised s;
    if (!supervise_edu(&s, "edu-cycle", "no-selftest"))
        return;
    wd_handle_t registry = wd_start_info->registry;
    struct wd_service svc;
    BT_CHECK_EQ(wd_service_connect(&svc, registry, s.name, PATIENCE_NS), 0);
    int served = 0;
    for (int i = 0; i < CYCLES; i++) {
        if (wd_supervise_kill(registry, s.name) != 0)
            break;
        served += factorial(&svc, (uint64_t)(i % 13)) >= 1;
    }
    BT_CHECK_EQ(served, CYCLES);
    BT_CHECK_EQ(svc.reconnects, CYCLES);
    struct wd_service_status st;
    BT_OK(wd_supervise_status(registry, s.name, &st));
    BT_CHECK_EQ(st.generation, CYCLES + 1);
    BT_CHECK_EQ(st.deaths, CYCLES);
    BT_CHECK_EQ(st.state, WD_SERVICE_RUNNING);
    wd_service_close(&svc);
    stop(&s);                                   /* the driver's pool back to 0 */
    BT_OK(wd_system_info(&after));
    BT_OK(wd_irq_stats(&irqs_after));
    BT_CHECK_EQ(after.free_frames, before.free_frames);
    BT_CHECK_EQ(after.live_objects, before.live_objects);
    BT_CHECK_EQ(after.live_processes, before.live_processes);
    BT_CHECK_EQ(irqs_after.live_irqs, irqs_before.live_irqs);
    BT_CHECK_EQ(irqs_after.ir_entries_used, irqs_before.ir_entries_used);
}

/* boot-tests started by the supervisor as service "controller": every control request is
 * refused to a supervised process (its registry capability has a driver's badge); status and
 * the list are open. Exits 0 when so, else 1 (the runner reads the status from LAST_DEATH). */
int supervised_controller_main(void)
{
    wd_handle_t registry = wd_start_info->registry;
    struct wd_service_status st;
    char name[WD_NAME_MAX + 1];
    bool ok = wd_supervise_kill(registry, "controller") == -WD_E_NO_RIGHTS &&
              wd_supervise_stop(registry, "controller") == -WD_E_NO_RIGHTS &&
              wd_supervise_pause(registry, "controller") == -WD_E_NO_RIGHTS &&
              wd_supervise_resume(registry, "controller") == -WD_E_NO_RIGHTS &&
              wd_supervise_start(registry, "other boot-tests", WD_NULL, wd_start_info->pool) == -WD_E_NO_RIGHTS &&
              wd_supervise_status(registry, "controller", &st) == 0 && wd_supervise_list(registry, 0, name) == 1;
    return ok ? 0 : 1;
}

/* The control requests from a supervised service are refused; pause keeps a service down
 * (STOPPED, no restart) until resume; list names every supervised service. */
void test_supervisor_control_rights_pause_resume(void)
{
    wd_handle_t registry = wd_start_info->registry;
    long pool = BT_OK(wd_pool_create(bt_pool(), DRIVER_POOL_BYTES));
    if (pool < 0)
        return;
    BT_CHECK_EQ(wd_supervise_start(registry, "controller boot-tests", WD_NULL, (wd_handle_t)pool), 0);
    struct wd_service_status st = { 0 };
    uint64_t deadline = (uint64_t)wd_time_now() + PATIENCE_NS;
    while (wd_supervise_status(registry, "controller", &st) == 0 && st.deaths == 0 &&
           (uint64_t)wd_time_now() < deadline)
        wd_thread_sleep(5 * BT_MS);
    uint64_t death[7];
    BT_CHECK_EQ(wd_supervise_last_death(registry, "controller", death), 0);
    BT_CHECK_EQ(death[2], WD_EXIT_NORMAL);
    BT_CHECK_EQ(death[1], 0);                   /* every control request was refused to it */
    /* Found by the list. */
    char name[WD_NAME_MAX + 1];
    bool listed = false;
    for (long i = 0; (i = wd_supervise_list(registry, (unsigned)i, name)) > 0;)
        listed = listed || strcmp(name, "controller") == 0;
    BT_CHECK(listed);
    BT_CHECK_EQ(wd_supervise_list(registry, 1000, name), -WD_E_NOT_FOUND);
    /* Pause: down and staying down; resume: a new generation at once. */
    BT_CHECK_EQ(wd_supervise_pause(registry, "controller"), 0);
    BT_CHECK_EQ(wd_supervise_status(registry, "controller", &st), 0);
    BT_CHECK_EQ(st.state, WD_SERVICE_STOPPED);
    uint64_t generation = st.generation;
    wd_thread_sleep(100 * BT_MS);               /* longer than any backoff it had */
    BT_CHECK_EQ(wd_supervise_status(registry, "controller", &st), 0);
    BT_CHECK_EQ(st.state, WD_SERVICE_STOPPED);
    BT_CHECK_EQ(st.generation, generation);
    BT_CHECK_EQ(wd_supervise_resume(registry, "controller"), 0);
    BT_CHECK_EQ(wd_supervise_status(registry, "controller", &st), 0);
    BT_CHECK_EQ(st.generation, generation + 1);
    BT_CHECK_EQ(wd_supervise_resume(registry, "controller"), -WD_E_EXISTS);   /* not stopped */
    BT_CHECK_EQ(wd_supervise_stop(registry, "controller"), 0);
    BT_CHECK_EQ(wd_supervise_pause(registry, "controller"), -WD_E_NOT_FOUND);
    wd_cap_delete((wd_handle_t)pool);
}
