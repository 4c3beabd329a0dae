/*
 * helpers.c - what tests share: spawning helper processes of this same
 * program, waiting for kernel messages, and the helper roles:
 *   echo             serve caps[0]: reply label+1, words w[i]+i+1 (see t_ipc.c)
 *   capcheck         serve caps[0]: reply w0 = wd_cap_info(caps[1]) result
 *   fault <kind>     pagefault | nullwrite | ud | gp | divide
 *   exit             exit(0) at once
 *   spin             loop forever
 *   block            wait forever on caps[0]
 *   device-user      try every device call on caps[0], report to caps[1] (t_dma.c)
 *   dma-owner        attach edu (caps[0]) and fault a DMA (t_dma.c)
 *   irq-owner        attach edu, bind its MSI to caps[1], raise once (t_irq.c)
 *   revoke-owner     own edu with mappings and an irq, tell caps[1], die as told (t_revoke.c)
 *   notify <what>    wait, recv, signal, call, watch (t_notify_helpers.c)
 *   lease-driver     own edu, map a lease, keep DMAing into it (t_lease.c)
 *   lease-client     grant the test a lease of its region, then sleep (t_lease.c)
 *   ring-producer    produce descriptors into a ring shared with the test (t_ring.c)
 *   fuzz-child       make random system calls, counted on a board shared with the test (t_fuzz_child.c)
 *   nvme-client      open a block session, queue reads, say so, sleep (t_nvme_crash.c)
 */
#include <stdlib.h>
#include <string.h>
#include <warden/spawn.h>

#include <warden/region.h>

#include "boot_tests.h"
#include "t_ipc.h"

#define MAX_HELPERS 32

int bt_notify_helper_main(int argc, char **argv);   /* t_notify_helpers.c */
int bt_lease_driver_main(const wd_handle_t *caps);   /* t_lease.c */
int bt_lease_client_main(const wd_handle_t *caps);   /* t_lease.c */
int bt_ring_producer_main(const wd_handle_t *caps);  /* t_ring.c */
int bt_fuzz_child_main(int argc, char **argv);       /* t_fuzz_child.c */
int bt_nvme_client_main(const wd_handle_t *caps);    /* t_nvme_crash.c */

static wd_handle_t helpers[MAX_HELPERS];

uint64_t bt_cmdline_number(const char *key, uint64_t fallback)
{
    const char *p = strstr(wd_start_info->cmdline, key);
    return p ? strtoull(p + strlen(key), NULL, 0) : fallback;
}

uint64_t bt_random(uint64_t *state)
{
    uint64_t x = *state ? *state : 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

wd_handle_t bt_pool(void)
{
    return wd_start_info->pool;
}

wd_handle_t bt_spawn_helper(const char *role_args, const wd_handle_t *caps, unsigned ncaps,
                            wd_handle_t fault_ep, uint64_t badge)
{
    return bt_spawn_helper_in(bt_pool(), role_args, caps, ncaps, fault_ep, badge);
}

wd_handle_t bt_spawn_helper_in(wd_handle_t pool, const char *role_args, const wd_handle_t *caps, unsigned ncaps,
                               wd_handle_t fault_ep, uint64_t badge)
{
    const struct wd_module *self = wd_find_module("boot-tests");
    if (!self) {
        printf("# no boot-tests module to start a helper from\n");
        bt_failures++;
        return WD_NULL;
    }
    char args[128];
    snprintf(args, sizeof args, "boot-tests helper %s", role_args);
    struct wd_spawn s = {
        .args = args,
        .image = self->frame,
        .image_size = self->size,
        .pool = pool,
        .fault_endpoint = fault_ep,
        .fault_badge = badge,
        .pass_modules = true,
        .cap_count = ncaps,
    };
    for (unsigned i = 0; i < ncaps && i < WD_START_MAX_CAPS; i++)
        s.caps[i] = caps[i];
    long child = BT_OK(wd_spawn(&s, NULL));
    if (child < 0)
        return WD_NULL;
    for (unsigned i = 0; i < MAX_HELPERS; i++) {
        if (!helpers[i]) {
            helpers[i] = (wd_handle_t)child;
            break;
        }
    }
    return (wd_handle_t)child;
}

void bt_release_helper(wd_handle_t helper)
{
    for (unsigned i = 0; i < MAX_HELPERS; i++) {
        if (helper && helpers[i] == helper) {
            wd_process_kill(helpers[i], 0);
            wd_cap_delete(helpers[i]);
            helpers[i] = WD_NULL;
        }
    }
}

void bt_cleanup(void)
{
    for (unsigned i = 0; i < MAX_HELPERS; i++)
        if (helpers[i])
            bt_release_helper(helpers[i]);
}

long bt_wait_kernel_message(wd_handle_t ep, uint32_t label, uint64_t badge, struct wd_msg *msg,
                            uint64_t timeout)
{
    uint64_t deadline = (uint64_t)wd_time_now() + timeout;
    for (;;) {
        uint64_t now = (uint64_t)wd_time_now();
        if (now >= deadline)
            return -WD_E_TIMEOUT;
        long r = wd_recv(ep, msg, deadline - now);
        if (r < 0)
            return r;
        if (wd_msg_label(msg->info) == label && msg->badge == badge)
            return 0;
    }
}

static int echo_server(wd_handle_t ep)
{
    struct wd_msg msg;
    long r = wd_recv(ep, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0)
            return 2;
        echo_prepare_reply(&msg);
        r = wd_reply_recv(ep, &msg, WD_FOREVER);
    }
}

static int capcheck_server(wd_handle_t ep, wd_handle_t target)
{
    struct wd_msg msg;
    long r = wd_recv(ep, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0)
            return 2;
        struct wd_cap_info info;
        msg.w[0] = (uint64_t)wd_cap_info(target, &info);
        msg.info = wd_msg_info(0, 1, 0);
        r = wd_reply_recv(ep, &msg, WD_FOREVER);
    }
}

int bt_fault_on_purpose(const char *kind)
{
    if (strcmp(kind, "pagefault") == 0)
        return *(volatile int *)0xdead000;
    if (strcmp(kind, "outside-fixup") == 0) {     /* a fixup covers wd_copy_checked only */
        wd_copy_checked_init();
        return *(volatile int *)0xdead000;
    }
    if (strcmp(kind, "nullwrite") == 0) {
        volatile int *volatile field = (volatile int *)0x10;   /* a NULL struct's member; opaque to GCC */
        *field = 1;
    }
    if (strcmp(kind, "ud") == 0)
        __asm__ volatile("ud2");
    if (strcmp(kind, "gp") == 0)
        return *(volatile int *)0x8000000000000000ull;
    if (strcmp(kind, "divide") == 0) {
        uint64_t zero = 0;          /* a real DIV: the compiler may not fold it away */
        __asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; div %0" : : "r"(zero) : "rax", "rdx");
    }
    return 3;
}

int bt_helper_main(int argc, char **argv)
{
    const char *role = argv[2];
    const wd_handle_t *caps = wd_start_info->caps;
    if (strcmp(role, "echo") == 0)
        return echo_server(caps[0]);
    if (strcmp(role, "capcheck") == 0)
        return capcheck_server(caps[0], caps[1]);
    if (strcmp(role, "fault") == 0 && argc >= 4)
        return bt_fault_on_purpose(argv[3]);
    if (strcmp(role, "exit") == 0)
        return 0;
    if (strcmp(role, "device-user") == 0)
        return bt_device_user_main(caps);
    if (strcmp(role, "dma-owner") == 0)
        return bt_dma_owner_main(caps);
    if (strcmp(role, "irq-owner") == 0)
        return bt_irq_owner_main(caps);
    if (strcmp(role, "revoke-owner") == 0 && argc >= 4)
        return bt_revoke_owner_main(caps, argv[3], argc >= 5 ? argv[4] : "");
    if (strcmp(role, "notify") == 0 && argc >= 4)
        return bt_notify_helper_main(argc, argv);
    if (strcmp(role, "lease-driver") == 0)
        return bt_lease_driver_main(caps);
    if (strcmp(role, "lease-client") == 0)
        return bt_lease_client_main(caps);
    if (strcmp(role, "fuzz-child") == 0)
        return bt_fuzz_child_main(argc, argv);
    if (strcmp(role, "ring-producer") == 0)
        return bt_ring_producer_main(caps);
    if (strcmp(role, "nvme-client") == 0)
        return bt_nvme_client_main(caps);
    if (strcmp(role, "spin") == 0)
        for (;;)
            __asm__ volatile("" ::: "memory");
    if (strcmp(role, "block") == 0) {
        struct wd_msg msg;
        wd_recv(caps[0], &msg, WD_FOREVER);
        return 0;
    }
    printf("# unknown helper role %s\n", role);
    return 4;
}
