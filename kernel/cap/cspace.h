/*
 * cspace.h - capability spaces: per-process tables of slots, handles with
 * generations, rights, badges and the derivation tree used by revoke.
 *
 * Invariants:
 *   - slot 0 is never used, so handle 0 (WD_NULL) never names a capability;
 *   - a slot's generation changes whenever it is freed, so an old handle
 *     fails with STALE_HANDLE instead of naming a newer capability;
 *   - every occupied slot holds one reference on its object, except a
 *     process's capabilities to itself (weak, or a process could never die);
 *   - parent/child links form a tree across all cspaces: a copy is a child
 *     of its source; deleting a slot re-parents its children to its parent,
 *     except for a lease (a frame capability without RETAIN), whose
 *     children are deleted with it: a lease ends everything derived from it;
 *   - what depends on a slot (mappings made through a lease, a watch) is in
 *     its dependents record and ends with the slot (cap/dependents.h).
 */
#ifndef WARDEN_CAP_CSPACE_H
#define WARDEN_CAP_CSPACE_H

#include <stdbool.h>
#include <stdint.h>

#include <warden/types.h>

#include "obj/object.h"

struct process;

struct cap_slot {
    struct kobject *object;         /* NULL: free */
    uint32_t rights;
    uint16_t generation;
    uint16_t index;
    uint64_t badge;
    struct cspace *cspace;
    struct cap_slot *parent;
    struct cap_slot *first_child;
    struct cap_slot *next_sibling;
    struct cap_slot *prev_sibling;
    bool weak;                      /* no reference held (self capability) */
    struct cap_dependents *dependents;  /* leased mappings and a watch, or NULL */
};

struct cspace {
    struct process *owner;
    struct cap_slot *slots;
    uint32_t slot_count;
    uint32_t used;
    uint32_t search_hint;
};

/* Bytes a cspace costs its pool. */
uint64_t cspace_cost(void);
bool cspace_init(struct cspace *cs, struct process *owner);
/* Deletes every capability and frees the table. */
void cspace_destroy(struct cspace *cs);

/* Finds the capability named by handle, of type `type` (WD_TYPE_NONE: any)
 * with every right in `rights`. Returns 0 or -WD_E_*. */
int cap_lookup(struct cspace *cs, wd_handle_t handle, uint32_t type, uint32_t rights,
               struct cap_slot **out);

/* Free slots available. */
uint32_t cspace_free_slots(const struct cspace *cs);

/* Puts a capability to object in a free slot, as a child of parent (NULL:
 * a root). Takes its own reference on object. Returns the handle or
 * -WD_E_CSPACE_FULL. */
int64_t cap_insert(struct cspace *cs, struct kobject *object, uint32_t rights, uint64_t badge,
                   struct cap_slot *parent);

/* Moves a capability into cs (keeping its place in the derivation tree). */
int64_t cap_move_to(struct cap_slot *slot, struct cspace *cs);

/* Deletes one capability (and, for a lease, everything derived from it);
 * its watch is signalled unless quiet. */
void cap_delete(struct cap_slot *slot);
void cap_delete_quiet(struct cap_slot *slot);
/* Deletes every descendant of slot; returns how many. */
uint64_t cap_revoke(struct cap_slot *slot);

/* True when some capability in cs names o with every right in rights. */
bool cspace_holds_rights(const struct cspace *cs, const struct kobject *o, uint32_t rights);
/* True when some capability in cs names an object match() accepts. */
bool cspace_holds(const struct cspace *cs, bool (*match)(const struct kobject *, const void *), const void *ctx);

wd_handle_t cap_handle(const struct cap_slot *slot);

/* True when slot is a lease: a frame capability without RETAIN. */
static inline bool cap_is_lease(const struct cap_slot *slot)
{
    return slot->object && slot->object->type == WD_TYPE_FRAME && !(slot->rights & WD_RIGHT_RETAIN);
}

#endif
