/*
 * object.h - what every kernel object shares: its type, a reference count,
 * a unique id, and the pool it is charged to.
 *
 * References are held by capabilities and by kernel links (a thread holds
 * its process, a process its fault endpoint, a mapping its frame, every
 * object its pool). kobject_put of the last reference destroys the object
 * through its type's destroy function and returns its charge to its pool.
 * A destruction that drops the last reference to another object (a process
 * destroying its capability space) queues that one behind it: the
 * outermost kobject_put destroys them all in a loop, so a chain of objects
 * holding each other (a process with the only capability to the next, and
 * so on) ends without a recursion as deep as the chain.
 */
#ifndef WARDEN_OBJ_OBJECT_H
#define WARDEN_OBJ_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include <warden/objects.h>
#include <warden/rights.h>

struct pool;

struct kobject {
    uint32_t type;              /* enum wd_object_type */
    uint32_t refcount;
    uint64_t id;
    struct pool *pool;          /* charged pool (NULL only for the root pool) */
    uint64_t charge;            /* bytes charged to it */
    struct kobject *doomed_next;    /* last reference gone: queued for destruction (object.c) */
};

/* Initialises o with one reference. The caller has already charged `charge`
 * bytes to pool; kobject_init takes a reference on the pool. */
void kobject_init(struct kobject *o, uint32_t type, struct pool *pool, uint64_t charge);
void kobject_get(struct kobject *o);
void kobject_put(struct kobject *o);

/* Capability bookkeeping, called by cspace.c after a capability to o with
 * `rights` appeared or left holder's cspace (moved: it went to another
 * cspace intact). Endpoints count their receive capabilities; a device
 * whose owner lets go of its last capability is revoked (revoke.c). */
struct process;
void kobject_track_cap_added(struct kobject *o, uint32_t rights);
void kobject_track_cap_removed(struct kobject *o, uint32_t rights, struct process *holder, bool moved);

/* Only endpoints, devices and notifications care: the IPC fast path pays a compare or three. */
static inline bool kobject_tracks_caps(const struct kobject *o)
{
    return o->type == WD_TYPE_ENDPOINT || o->type == WD_TYPE_DEVICE || o->type == WD_TYPE_NOTIFICATION;
}

static inline void kobject_cap_added(struct kobject *o, uint32_t rights)
{
    if (kobject_tracks_caps(o))
        kobject_track_cap_added(o, rights);
}

static inline void kobject_cap_removed(struct kobject *o, uint32_t rights, struct process *holder, bool moved)
{
    if (kobject_tracks_caps(o))
        kobject_track_cap_removed(o, rights, holder, moved);
}

/* Counts for leak checks (wd_system_info). */
uint64_t kobject_live_count(void);

const char *kobject_type_name(uint32_t type);

#endif
