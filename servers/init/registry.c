/*
 * registry.c - init's name registry. At most REGISTRY_SIZE names; each
 * entry holds an endpoint capability that lookups hand out copies of, the
 * badge of the registry capability it came through (its owner), and a
 * generation that grows with every registration of the name.
 *
 * An entry lives only as long as its server: init watches each entry's
 * endpoint capability (cap_watch) with a notification bound to its own
 * endpoint, so when the endpoint closes (its server died, supervised or
 * not) or the capability is revoked, init drops the entry at once and the
 * endpoint (and the budget of the pool that paid for it) is freed. Without
 * this, a dead server's name would keep its endpoint, its pool and that
 * pool's whole budget charged until somebody looked the name up.
 */
#include <stdio.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/supervisor.h>
#include <warden/syscalls.h>

#include "init.h"

#define REGISTRY_SIZE 32

static wd_handle_t watch;           /* signalled when an entry's endpoint ends; bound to init's endpoint */

static struct {
    char name[WD_NAME_MAX + 1];
    wd_handle_t endpoint;           /* WD_NULL: free, or the name's server is gone */
    uint64_t owner_badge;
    uint64_t generation;            /* registrations of this name so far */
} registry[REGISTRY_SIZE];

static uint64_t entry_bit(int i)
{
    return 1ull << (i % 63);
}

void registry_init(wd_handle_t endpoint)
{
    long n = wd_notify_create(wd_start_info->pool);
    if (n < 0 || wd_notify_bind((wd_handle_t)n, endpoint, REGISTRY_WATCH_BADGE) < 0) {
        printf("init: no registry watch (%s): names of dead servers stay until looked up\n",
               wd_error_name(n < 0 ? n : -WD_E_INVALID_ARG));
        return;
    }
    watch = (wd_handle_t)n;
}

static void drop_entry(int i, const char *why)
{
    printf("init: unregistered \"%s\" (generation %llu): %s\n", registry[i].name,
           (unsigned long long)registry[i].generation, why);
    wd_cap_delete(registry[i].endpoint);
    registry[i].endpoint = WD_NULL;
}

/* Whether entry i's endpoint still has a server (its capability is valid
 * and someone can still receive on it). */
static bool entry_alive(int i)
{
    struct wd_cap_info info;
    return wd_cap_info(registry[i].endpoint, &info) == 0 && !(info.flags & WD_CAP_CLOSED);
}

void registry_drop_owner(uint64_t badge)
{
    for (int i = 0; i < REGISTRY_SIZE; i++)
        if (registry[i].endpoint && registry[i].owner_badge == badge)
            drop_entry(i, "its server is gone");
}

void registry_watch_fired(uint64_t bits)
{
    for (int i = 0; i < REGISTRY_SIZE; i++)
        if (registry[i].endpoint && (bits & entry_bit(i)) && !entry_alive(i))
            drop_entry(i, "its endpoint closed");
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

/* An entry whose endpoint has no server any more is dropped here too (in
 * case its watch could not be set). */
static int find_name(const char *name)
{
    for (int i = 0; i < REGISTRY_SIZE; i++) {
        if (!registry[i].endpoint || strcmp(registry[i].name, name) != 0)
            continue;
        if (entry_alive(i))
            return i;
        drop_entry(i, "its endpoint closed");
    }
    return -1;
}

/* Deletes the capabilities a request brought, from the first'th on: init
 * keeps nothing of a client's it did not take (a capability left here
 * would keep the client's object, and the pool it is charged to, alive
 * after the client is gone). */
static void drop_brought(const struct wd_msg *msg, unsigned first)
{
    for (unsigned i = first; i < wd_msg_ncaps(msg->info); i++)
        if (msg->caps[i])
            wd_cap_delete(msg->caps[i]);
}

/* Names are printable ASCII without spaces (they appear in logs and the
 * shell's tables, and a space would end one in a supervisor's text). */
static bool name_printable(const char *name)
{
    for (const char *p = name; *p; p++)
        if (*p <= ' ' || *p > '~')
            return false;
    return *name != '\0';
}

/* Fills the reply in msg. */
void registry_request(struct wd_msg *msg)
{
    char name[WD_NAME_MAX + 1];
    uint32_t label = wd_msg_label(msg->info);
    if (label >= WD_SUPERVISOR_START && label <= WD_SUPERVISOR_RESUME) {
        long result = supervisor_request(msg);     /* takes or deletes what came with the request */
        msg->w[0] = (uint64_t)result;
        msg->info = wd_msg_info(label, result == 0 ? supervisor_reply_words(label) : 1, 0);
        return;
    }
    long result = wd_name_unpack(msg, name);
    unsigned ncaps = 0;
    unsigned words = 1;
    if (result == 0 && label == WD_REGISTRY_REGISTER) {
        int free_slot = register_slot(name);
        struct wd_cap_info cap;
        if (wd_msg_ncaps(msg->info) != 1 || !name_printable(name))
            result = -WD_E_INVALID_ARG;
        else if (wd_cap_info(msg->caps[0], &cap) != 0 || cap.type != WD_TYPE_ENDPOINT)
            result = -WD_E_WRONG_TYPE;          /* an entry only goes when its endpoint closes */
        else if (!(cap.rights & WD_RIGHT_SEND))
            result = -WD_E_NO_RIGHTS;           /* nobody could call what it hands out */
        else if (find_name(name) >= 0)
            result = -WD_E_EXISTS;
        else if (free_slot < 0)
            result = -WD_E_CSPACE_FULL;
        else {
            registry[free_slot].endpoint = msg->caps[0];
            registry[free_slot].owner_badge = msg->badge;
            if (watch)
                wd_cap_watch(msg->caps[0], watch, entry_bit(free_slot));
            registry[free_slot].generation++;
            memcpy(registry[free_slot].name, name, sizeof name);
            printf("init: registered \"%s\" (generation %llu)\n", name,
                   (unsigned long long)registry[free_slot].generation);
            supervisor_registered(msg->badge);
            if (strcmp(name, "devmgr") == 0)
                init_devmgr_ready();
        }
        drop_brought(msg, result == 0 ? 1 : 0);
    } else if (result == 0 && label == WD_REGISTRY_LOOKUP) {
        drop_brought(msg, 0);
        int i = find_name(name);
        if (i < 0) {
            result = -WD_E_NOT_FOUND;
        } else {
            msg->caps[0] = registry[i].endpoint;
            msg->w[1] = registry[i].generation;
            ncaps = 1;
            words = 2;
        }
    } else {
        drop_brought(msg, 0);               /* a bad name, or a request nobody knows */
        if (result == 0)
            result = -WD_E_INVALID_ARG;
    }
    msg->w[0] = (uint64_t)result;
    msg->info = wd_msg_info(label, words, ncaps);
}

