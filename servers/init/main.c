/*
 * init - the root task. It receives the boot modules, the root pool, the
 * device root and the command line from the kernel; starts the program the
 * command line asks for (the boot test runner with `test`, the benchmarks
 * with `bench`, each with the device root as caps[0]) or, in normal mode
 * (also with `devmgr` on the command line), the device manager (devmgr,
 * with the device root as caps[0] and its own sub-pool); supervises its
 * children (fault and exit messages arrive on its endpoint); restarts the
 * drivers it is asked to supervise (supervisor.c); and serves the name
 * registry on the same endpoint.
 *
 * When the harness child (runner or bench) exits, init exits with its
 * status, which ends a test or bench boot.
 */
#include <stdio.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/spawn.h>
#include <warden/syscalls.h>

#include "init.h"

#define CHILD_BADGE 0x1000          /* fault badge of the harness child */
#define CLIENT_BADGE 0x2000         /* badge of registry capabilities init hands out */
#define DEVMGR_BADGE 0x3000         /* fault badge of devmgr */
#define DEVMGR_POOL_BYTES (64ull << 20) /* devmgr and the drivers it starts */
#define INIT_KEEPS_BYTES (4ull << 20)   /* init's own registry and supervision records */

static bool cmdline_has(const char *cmdline, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = cmdline; *p;) {
        while (*p == ' ')
            p++;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        if ((size_t)(end - p) >= n && strncmp(p, flag, n) == 0 && (end - p == (long)n || p[n] == '='))
            return true;
        p = end;
    }
    return false;
}

/* Spawns module_name with args, paid by pool, with caps[0] = device_root
 * (which may be WD_NULL), the module list and a registry capability;
 * faults and exit are reported to endpoint with badge. */
static long start_child(const char *args, const char *module_name, wd_handle_t endpoint, uint64_t badge,
                        wd_handle_t pool, wd_handle_t device_root, wd_handle_t *child)
{
    const struct wd_module *m = wd_find_module(module_name);
    if (!m) {
        printf("init: no boot module \"%s\"\n", module_name);
        return -WD_E_NOT_FOUND;
    }
    long registry = wd_cap_copy(endpoint, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, CLIENT_BADGE);
    if (registry < 0)
        return registry;
    struct wd_spawn s = {
        .args = args,
        .image = m->frame,
        .image_size = m->size,
        .pool = pool,
        .fault_endpoint = endpoint,
        .fault_badge = badge,
        .registry = (wd_handle_t)registry,
        .cap_count = 1,
        .caps = { device_root },
        .pass_modules = true,
    };
    long r = wd_spawn(&s, NULL);
    wd_cap_delete((wd_handle_t)registry);
    if (r < 0)
        return r;
    *child = (wd_handle_t)r;
    return 0;
}

/* Normal mode: devmgr in its own sub-pool. A failure is reported, and init
 * goes on serving the registry. */
static void start_devmgr(wd_handle_t endpoint)
{
    const struct wd_start_info *info = wd_start_info;
    if (!info->device_root)
        printf("init: the kernel gave no device root; devmgr will find no devices\n");
    /* 64 MiB, or what a small machine has beyond init's own needs. */
    uint64_t budget = DEVMGR_POOL_BYTES;
    struct wd_pool_info root;
    if (wd_pool_info(info->pool, &root) == 0 && root.budget - root.used < budget + INIT_KEEPS_BYTES) {
        uint64_t left = root.budget - root.used;
        budget = left > INIT_KEEPS_BYTES ? (left - INIT_KEEPS_BYTES) & ~(WD_PAGE_SIZE - 1) : 0;
        printf("init: a small machine: devmgr gets a pool of %llu KiB\n", (unsigned long long)(budget >> 10));
    }
    long pool = wd_pool_create(info->pool, budget);
    if (pool < 0) {
        printf("init: cannot create devmgr's pool: %s\n", wd_error_name(pool));
        return;
    }
    wd_handle_t devmgr;
    long r = start_child("devmgr", "devmgr", endpoint, DEVMGR_BADGE, (wd_handle_t)pool, info->device_root, &devmgr);
    wd_cap_delete((wd_handle_t)pool); /* devmgr holds its own copy */
    if (r < 0) {
        printf("init: cannot start devmgr: %s\n", wd_error_name(r));
        return;
    }
    init_supervise_service(devmgr, DEVMGR_BADGE, "devmgr");
}

#define SHELL_POOL_BYTES (2ull << 20)

static bool normal_boot;

/* The shell: a supervised service (restarted if it dies) with the console
 * and the inspector, which nothing else gets, and the right to control the
 * supervisor. */
void init_devmgr_ready(void)
{
    static bool started;
    const struct wd_start_info *info = wd_start_info;
    if (!normal_boot || started)
        return;
    started = true;
    if (!wd_find_module("shell")) {
        printf("init: no shell module; the console takes no commands\n");
        return;
    }
    long pool = wd_pool_create(info->pool, SHELL_POOL_BYTES);
    long console = wd_cap_copy(info->console, WD_NULL, WD_RIGHT_READ | WD_RIGHT_GRANT, 0);
    long inspector = wd_cap_copy(info->inspector, WD_NULL, WD_RIGHT_READ | WD_RIGHT_GRANT, 0);
    long r = pool < 0 ? pool : console < 0 ? console : inspector;
    if (r >= 0) {                   /* the record takes the three (and deletes them if it refuses) */
        wd_handle_t caps[2] = { (wd_handle_t)console, (wd_handle_t)inspector };
        r = supervisor_start_local("shell shell", (wd_handle_t)pool, caps, 2, true);
    } else {
        long made[3] = { pool, console, inspector };
        for (int i = 0; i < 3; i++)
            if (made[i] > 0)
                wd_cap_delete((wd_handle_t)made[i]);
    }
    if (r < 0)
        printf("init: cannot start the shell: %s\n", wd_error_name(r));
}

int main(void)
{
    const struct wd_start_info *info = wd_start_info;
    printf("init: started with %u boot module(s)\n", info->module_count);
    wd_process_set_name(WD_NULL, "init", 4);
    long ep = wd_endpoint_create(info->pool);
    if (ep < 0) {
        printf("init: cannot create its endpoint: %s\n", wd_error_name(ep));
        return 1;
    }
    wd_handle_t child = WD_NULL;
    /* bench wins over test: the harness adds `bench` to the test ISO's command
     * line; `devmgr` wins over both (the harness boots the normal system so). */
    const char *mode = cmdline_has(info->cmdline, "devmgr") ? NULL
                       : cmdline_has(info->cmdline, "bench") ? "bench"
                       : cmdline_has(info->cmdline, "test")  ? "test"
                                                             : NULL;
    if (mode) {
        long r = strcmp(mode, "test") == 0
                     ? start_child("boot-tests runner", "boot-tests", (wd_handle_t)ep, CHILD_BADGE, info->pool,
                                   info->device_root, &child)
                     : start_child("bench main", "bench", (wd_handle_t)ep, CHILD_BADGE, info->pool,
                                   info->device_root, &child);
        if (r < 0) {
            printf("init: cannot start the %s program: %s\n", mode, wd_error_name(r));
            printf("warden-test: FAIL\n");
            return 1;
        }
    } else {
        normal_boot = true;
        start_devmgr((wd_handle_t)ep);
    }
    return init_serve((wd_handle_t)ep, child, CHILD_BADGE);
}
