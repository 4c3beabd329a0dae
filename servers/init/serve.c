/*
 * serve.c - init's loop: supervision messages from the kernel (a child
 * faulted or exited), the driver supervisor's requests and timer
 * (supervisor.c), the registry's watch notification and name registry
 * requests (registry.c), all on one endpoint. Supervised services
 * (devmgr) are killed when they fault; their exit is logged.
 */
#include <stdio.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "init.h"

#define MAX_SERVICES 4

static struct {
    const char *name;
    wd_handle_t process;
    uint64_t badge;
} services[MAX_SERVICES];

void init_supervise_service(wd_handle_t process, uint64_t badge, const char *name)
{
    for (int i = 0; i < MAX_SERVICES; i++) {
        if (!services[i].process) {
            services[i].name = name;
            services[i].process = process;
            services[i].badge = badge;
            return;
        }
    }
    printf("init: cannot supervise %s: too many services\n", name);
}

/* The FAULT or EXIT message msg about a supervised service (else false). */
static bool service_message(const struct wd_msg *msg)
{
    uint32_t label = wd_msg_label(msg->info);
    for (int i = 0; i < MAX_SERVICES; i++) {
        if (!services[i].process || services[i].badge != msg->badge)
            continue;
        if (label == WD_LABEL_FAULT) {
            printf("init: %s faulted: vector %llu at RIP 0x%llx; killing it\n", services[i].name,
                   (unsigned long long)msg->w[2], (unsigned long long)msg->w[5]);
            wd_process_kill(services[i].process, -1);
            return true;
        }
        if (label == WD_LABEL_EXIT) {
            printf("init: %s %s with status %lld\n", services[i].name,
                   msg->w[3] == WD_EXIT_KILLED ? "was killed" : "exited", (long long)(int64_t)msg->w[2]);
            wd_cap_delete(services[i].process);
            services[i].process = WD_NULL;
            return true;
        }
    }
    return false;
}

int init_serve(wd_handle_t endpoint, wd_handle_t child, uint64_t child_badge)
{
    struct wd_msg msg;
    supervisor_init(endpoint);
    registry_init(endpoint);
    long r = wd_recv(endpoint, &msg, WD_FOREVER);
    for (;;) {
        if (r < 0) {
            printf("init: receive failed: %s\n", wd_error_name(r));
            r = wd_recv(endpoint, &msg, WD_FOREVER);
            continue;
        }
        uint32_t label = wd_msg_label(msg.info);
        if (label == WD_LABEL_EXIT && msg.badge == child_badge && child) {
            int64_t status = (int64_t)msg.w[2];
            printf("init: the harness program exited with status %lld\n", (long long)status);
            wd_cap_delete(child);
            return status == 0 ? 0 : 1;
        }
        if (label == WD_LABEL_TIMER && msg.badge == SUPERVISOR_TIMER_BADGE) {
            supervisor_timer();
            r = wd_recv(endpoint, &msg, WD_FOREVER);
            continue;
        }
        if (label == WD_LABEL_NOTIFY && msg.badge == REGISTRY_WATCH_BADGE) {
            registry_watch_fired(msg.w[1]);
            r = wd_recv(endpoint, &msg, WD_FOREVER);
            continue;
        }
        if (label >= WD_LABEL_KERNEL && (service_message(&msg) || supervisor_kernel_message(&msg))) {
            r = wd_recv(endpoint, &msg, WD_FOREVER);
            continue;
        }
        if (label == WD_LABEL_FAULT) {
            printf("init: child (badge 0x%llx) faulted: vector %llu at RIP 0x%llx; killing it\n",
                   (unsigned long long)msg.badge, (unsigned long long)msg.w[2], (unsigned long long)msg.w[5]);
            if (msg.badge == child_badge && child)
                wd_process_kill(child, -1);
            r = wd_recv(endpoint, &msg, WD_FOREVER);
            continue;
        }
        if (label >= WD_LABEL_KERNEL) {
            for (unsigned i = 0; i < wd_msg_ncaps(msg.info); i++)
                wd_cap_delete(msg.caps[i]);     /* the kernel's messages carry none: keep nothing */
            r = wd_recv(endpoint, &msg, WD_FOREVER);
            continue;
        }
        registry_request(&msg);
        r = wd_reply_recv(endpoint, &msg, WD_FOREVER);
    }
}
