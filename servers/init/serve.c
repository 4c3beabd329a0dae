/*
 * serve.c - init's loop: supervision messages from the kernel (a child
 * faulted or exited), the driver supervisor's requests and timer
 * (supervisor.c) and name registry requests, all on one endpoint.
 * The registry keeps at most REGISTRY_SIZE names; each entry holds an
 * endpoint capability that lookups hand out copies of, the badge of the
 * registry capability it came through (its owner), and a generation that
 * grows with every registration of the name. Supervised services (devmgr)
 * are killed when they fault; their exit is logged.
 */
#include <stdio.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "init.h"

#define REGISTRY_SIZE 32
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

static struct {
    char name[WD_NAME_MAX + 1];
    wd_handle_t endpoint;           /* WD_NULL: free, or the name's server is gone */
    uint64_t owner_badge;
    uint64_t generation;            /* registrations of this name so far */
} registry[REGISTRY_SIZE];

void registry_drop_owner(uint64_t badge)
{
    for (int i = 0; i < REGISTRY_SIZE; i++) {
        if (!registry[i].endpoint || registry[i].owner_badge != badge)
            continue;
        printf("init: unregistered \"%s\" (generation %llu): its server is gone\n", registry[i].name,
               (unsigned long long)registry[i].generation);
        wd_cap_delete(registry[i].endpoint);
        registry[i].endpoint = WD_NULL;
    }
}

/* The slot for registering name: the one that had it (keeps its
 * generation), else an unused one, else any free one. -1: full. */
static int register_slot(const char *name)
{
    int unused = -1, free_slot = -1;
    for (int i = 0; i < REGISTRY_SIZE; i++) {
        if (registry[i].endpoint)
            continue;
        if (strcmp(registry[i].name, name) == 0)
            return i;
        if (unused < 0 && !registry[i].name[0])
            unused = i;
        if (free_slot < 0)
            free_slot = i;
    }
    if (unused >= 0)
        return unused;
    if (free_slot >= 0)
        registry[free_slot].generation = 0;
    return free_slot;
}

/* Entries whose endpoint capability was revoked (stale handle) are dropped. */
static int find_name(const char *name)
{
    for (int i = 0; i < REGISTRY_SIZE; i++) {
        if (!registry[i].endpoint || strcmp(registry[i].name, name) != 0)
            continue;
        struct wd_cap_info info;
        if (wd_cap_info(registry[i].endpoint, &info) == 0)
            return i;
        registry[i].endpoint = WD_NULL;
    }
    return -1;
}

/* Fills the reply in msg. */
static void registry_request(struct wd_msg *msg)
{
    char name[WD_NAME_MAX + 1];
    uint32_t label = wd_msg_label(msg->info);
    long result = wd_name_unpack(msg, name);
    unsigned ncaps = 0;
    unsigned words = 1;
    if (result == 0 && label == WD_REGISTRY_REGISTER) {
        int free_slot = register_slot(name);
        if (wd_msg_ncaps(msg->info) != 1)
            result = -WD_E_INVALID_ARG;
        else if (find_name(name) >= 0)
            result = -WD_E_EXISTS;
        else if (free_slot < 0)
            result = -WD_E_CSPACE_FULL;
        else {
            registry[free_slot].endpoint = msg->caps[0];
            registry[free_slot].owner_badge = msg->badge;
            registry[free_slot].generation++;
            memcpy(registry[free_slot].name, name, sizeof name);
            printf("init: registered \"%s\" (generation %llu)\n", name,
                   (unsigned long long)registry[free_slot].generation);
            supervisor_registered(msg->badge);
        }
        if (result != 0 && wd_msg_ncaps(msg->info) >= 1)
            wd_cap_delete(msg->caps[0]);
    } else if (result == 0 && label == WD_REGISTRY_LOOKUP) {
        int i = find_name(name);
        if (i < 0) {
            result = -WD_E_NOT_FOUND;
        } else {
            msg->caps[0] = registry[i].endpoint;
            msg->w[1] = registry[i].generation;
            ncaps = 1;
            words = 2;
        }
    } else if (label >= WD_SUPERVISOR_START && label <= WD_SUPERVISOR_STOP) {
        result = supervisor_request(msg);
        words = result == 0 ? supervisor_reply_words(label) : 1;
    } else if (result == 0) {
        result = -WD_E_INVALID_ARG;
    }
    msg->w[0] = (uint64_t)result;
    msg->info = wd_msg_info(label, words, ncaps);
}

int init_serve(wd_handle_t endpoint, wd_handle_t child, uint64_t child_badge)
{
    struct wd_msg msg;
    supervisor_init(endpoint);
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
            r = wd_recv(endpoint, &msg, WD_FOREVER);
            continue;
        }
        registry_request(&msg);
        r = wd_reply_recv(endpoint, &msg, WD_FOREVER);
    }
}
