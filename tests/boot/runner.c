/*
 * runner.c - runs every boot test in its own process and prints the KTAP
 * report: first the kernel's own tests (from the start info), then one
 * line per user-space test. A test fails if its process fails, faults,
 * times out, or if free memory or the root pool's charge is not back to
 * its starting value once the test's processes and pool are gone (leak
 * check: free frames catch lost memory, the root pool catches budget that
 * something left behind still holds, such as a registry entry of a dead
 * server keeping its endpoint and pool alive).
 */
#include <string.h>
#include <warden/registry.h>
#include <warden/spawn.h>

#include "boot_tests.h"

#define TEST_POOL_BYTES (24ull << 20)        /* per test; `testpool=MIB` for a test that starts devmgr */
#define SETTLE_STEPS 100u                      /* 10 ms each: the leak check's patience */
#define TEST_TIMEOUT_NS (60000ull * BT_MS)    /* per test; `testtimeout=SECONDS` for long campaigns (make fuzz, make soak) */

static uint64_t free_frames(void)
{
    struct wd_system_info info;
    return wd_system_info(&info) == 0 ? info.free_frames : 0;
}

static uint64_t test_pool_bytes(void)
{
    uint64_t mib = bt_cmdline_number("testpool=", 0);
    return mib ? mib << 20 : TEST_POOL_BYTES;
}

static uint64_t test_timeout_ns(void)
{
    uint64_t seconds = bt_cmdline_number("testtimeout=", 0);
    return seconds ? seconds * 1000 * BT_MS : TEST_TIMEOUT_NS;
}

/* Bytes charged to the root pool (this runner's pool, from init). */
static uint64_t root_pool_used(void)
{
    struct wd_pool_info info;
    return wd_pool_info(wd_start_info->pool, &info) == 0 ? info.used : 0;
}

/* One round trip with init: init handles the kernel messages queued on its
 * endpoint (a dead server's endpoint closed, say) before it takes a call,
 * so after this its clean-up of what the test left is done. */
static void sync_with_init(void)
{
    wd_handle_t none;
    (void)wd_name_lookup(wd_start_info->registry, "runner-sync", &none);
}

/* Runs one test; returns its exit status, or -1 for a fault/timeout. */
static int run_one(const struct boot_test *t, wd_handle_t ep, uint64_t badge, const struct wd_module *self)
{
    long pool = wd_pool_create(wd_start_info->pool, test_pool_bytes());
    if (pool < 0) {
        printf("# cannot create the test's pool: %s\n", wd_error_name(pool));
        return -1;
    }
    char args[96];
    snprintf(args, sizeof args, "boot-tests %s", t->name);
    struct wd_spawn s = {
        .args = args,
        .image = self->frame,
        .image_size = self->size,
        .pool = (wd_handle_t)pool,
        .fault_endpoint = ep,
        .fault_badge = badge,
        .registry = wd_start_info->registry,
        .pass_modules = true,
    };
    if (wd_start_info->cap_count > 0) {         /* the device root, from init */
        s.cap_count = 1;
        s.caps[0] = wd_start_info->caps[0];
    }
    long child = wd_spawn(&s, NULL);
    if (child < 0) {
        printf("# cannot start the test process: %s\n", wd_error_name(child));
        wd_cap_delete((wd_handle_t)pool);
        return -1;
    }
    int status = -1;
    uint64_t timeout = test_timeout_ns(), deadline = (uint64_t)wd_time_now() + timeout;
    for (;;) {
        uint64_t now = (uint64_t)wd_time_now();
        struct wd_msg msg;
        long r = now < deadline ? wd_recv(ep, &msg, deadline - now) : -WD_E_TIMEOUT;
        if (r == -WD_E_TIMEOUT) {
            printf("# timed out after %llu ms\n", (unsigned long long)(timeout / BT_MS));
            wd_process_kill((wd_handle_t)child, -1);
            break;
        }
        if (r < 0 || msg.badge != badge)
            continue;
        uint32_t label = wd_msg_label(msg.info);
        if (label == WD_LABEL_FAULT) {
            printf("# test process faulted: vector %llu, address 0x%llx, RIP 0x%llx\n",
                   (unsigned long long)msg.w[2], (unsigned long long)msg.w[4], (unsigned long long)msg.w[5]);
            wd_process_kill((wd_handle_t)child, -1);
        } else if (label == WD_LABEL_EXIT) {
            if (msg.w[3] == WD_EXIT_NORMAL)
                status = (int)(int64_t)msg.w[2];
            break;
        }
    }
    wd_cap_delete((wd_handle_t)child);
    wd_cap_delete((wd_handle_t)pool);
    return status;
}

/* Whether the command line's only=NAME[+NAME...] (for quick runs by hand) leaves the test out. */
static bool left_out(const char *name)
{
    const char *p = strstr(wd_start_info->cmdline, "only=");
    if (!p)
        return false;
    size_t n = strlen(name);
    for (p += 5; *p && *p != ' ';) {
        size_t len = 0;
        while (p[len] && p[len] != '+' && p[len] != ' ')
            len++;
        if (len == n && strncmp(p, name, n) == 0)
            return false;
        p += len;
        if (*p == '+')
            p++;
    }
    return true;
}

int bt_runner_main(void)
{
    const struct wd_start_info *info = wd_start_info;
    const struct wd_module *self = wd_find_module("boot-tests");
    long ep = wd_endpoint_create(info->pool);
    if (!self || ep < 0) {
        printf("warden-test: FAIL (runner cannot start: module %s, endpoint %s)\n", self ? "found" : "missing",
               ep < 0 ? wd_error_name(ep) : "ok");
        return 1;
    }
    unsigned plan = info->kernel_test_count + boot_test_count, n = 0, failed = 0, skipped = 0;
    printf("KTAP version 1\n1..%u\n", plan);
    for (unsigned i = 0; i < info->kernel_test_count; i++) {
        const struct wd_ktest_result *k = &info->kernel_tests[i];
        if (k->status == 1)
            failed++;
        if (k->status == 2)
            skipped++;
        printf("%s %u kernel.%s%s%s\n", k->status == 1 ? "not ok" : "ok", ++n, k->name,
               k->status == 2 ? " # SKIP " : "", k->status == 2 ? k->note : "");
    }
    /* A first spawn grows the runner's own page tables (its scratch
     * mappings); do it once so the per-test leak check compares like with like. */
    struct boot_test warm_up = { "helper exit", NULL };
    run_one(&warm_up, (wd_handle_t)ep, 0xFF, self);
    for (unsigned i = 0; i < boot_test_count; i++) {
        const struct boot_test *t = &boot_tests[i];
        if (left_out(t->name)) {
            skipped++;
            printf("ok %u %s # SKIP not in only=\n", ++n, t->name);
            continue;
        }
        sync_with_init();
        uint64_t before = free_frames(), charged_before = root_pool_used();
        int status = run_one(t, (wd_handle_t)ep, 0x100 + i, self);
        /* init drops what a dead test left registered when it sees the
         * endpoint close, on its own time: give it a second. */
        uint64_t after, charged_after;
        for (unsigned wait = 0;; wait++) {
            sync_with_init();
            after = free_frames(), charged_after = root_pool_used();
            if ((after == before && charged_after == charged_before) || wait == SETTLE_STEPS)
                break;
            wd_thread_sleep(10 * BT_MS);
        }
        bool leaked = after != before || charged_after != charged_before;
        if (after != before)
            printf("# %s: free memory is %lld frames off its starting value after the test\n", t->name,
                   (long long)(after - before));
        if (charged_after != charged_before)
            printf("# %s: the root pool's charge is %lld bytes off its starting value after the test "
                   "(something the test left holds budget)\n", t->name,
                   (long long)(charged_after - charged_before));
        ++n;
        if (status == BT_EXIT_SKIP && !leaked) {
            skipped++;
            printf("ok %u %s # SKIP see above\n", n, t->name);
        } else if (status == BT_EXIT_PASS && !leaked) {
            printf("ok %u %s\n", n, t->name);
        } else {
            failed++;
            printf("not ok %u %s\n", n, t->name);
        }
    }
    printf("# %u passed, %u failed, %u skipped\n", plan - failed - skipped, failed, skipped);
    printf("warden-test: %s\n", failed ? "FAIL" : "PASS");
    return failed ? 1 : 0;
}
