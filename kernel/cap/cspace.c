/*
 * cspace.c - capability slots, lookup, copy/move, delete and revoke.
 */
#include "cap/cspace.h"

#include "cap/dependents.h"
#include "core/panic.h"
#include "mm/physmem.h"
#include "obj/process.h"

#include <string.h>
#include <warden/errors.h>
#include <warden/objects.h>

#define CSPACE_BYTES (WD_CSPACE_SLOTS * sizeof(struct cap_slot))
#define CSPACE_FRAMES ((CSPACE_BYTES + FRAME_SIZE - 1) / FRAME_SIZE)

uint64_t cspace_cost(void)
{
    return CSPACE_FRAMES * FRAME_SIZE;
}

bool cspace_init(struct cspace *cs, struct process *owner)
{
    uint64_t phys = physmem_alloc_contig(CSPACE_FRAMES, 1);
    if (!phys)
        return false;
    cs->slots = phys_to_virt(phys);
    memset(cs->slots, 0, CSPACE_FRAMES * FRAME_SIZE);
    cs->owner = owner;
    cs->slot_count = WD_CSPACE_SLOTS;
    cs->used = 0;
    cs->search_hint = 1;
    for (uint32_t i = 0; i < cs->slot_count; i++) {
        cs->slots[i].index = (uint16_t)i;
        cs->slots[i].generation = 1;
        cs->slots[i].cspace = cs;
    }
    return true;
}

void cspace_destroy(struct cspace *cs)
{
    if (!cs->slots)
        return;
    for (uint32_t i = 1; i < cs->slot_count; i++)
        if (cs->slots[i].object)
            cap_delete(&cs->slots[i]);
    physmem_free_contig(virt_to_phys(cs->slots), CSPACE_FRAMES);
    cs->slots = NULL;
}

wd_handle_t cap_handle(const struct cap_slot *slot)
{
    return (wd_handle_t)slot->index | ((wd_handle_t)slot->generation << 16);
}

int cap_lookup(struct cspace *cs, wd_handle_t handle, uint32_t type, uint32_t rights,
               struct cap_slot **out)
{
    uint32_t index = WD_HANDLE_SLOT(handle);
    if (handle >> 32 || index == 0 || index >= cs->slot_count || WD_HANDLE_GENERATION(handle) == 0)
        return -WD_E_BAD_HANDLE;
    struct cap_slot *slot = &cs->slots[index];
    if (slot->generation != WD_HANDLE_GENERATION(handle))
        return -WD_E_STALE_HANDLE;
    if (!slot->object)
        return -WD_E_BAD_HANDLE;
    if (type != WD_TYPE_NONE && slot->object->type != type)
        return -WD_E_WRONG_TYPE;
    if ((slot->rights & rights) != rights)
        return -WD_E_NO_RIGHTS;
    *out = slot;
    return 0;
}

uint32_t cspace_free_slots(const struct cspace *cs)
{
    return cs->slot_count - 1 - cs->used;
}

static struct cap_slot *find_free_slot(struct cspace *cs)
{
    if (cspace_free_slots(cs) == 0)
        return NULL;
    for (uint32_t n = 0; n < cs->slot_count; n++) {
        uint32_t i = (cs->search_hint + n) % cs->slot_count;
        if (i != 0 && !cs->slots[i].object) {
            cs->search_hint = i + 1;
            return &cs->slots[i];
        }
    }
    panic("cspace: used count %u disagrees with the slots", cs->used);
}

static void link_child(struct cap_slot *parent, struct cap_slot *child)
{
    child->parent = parent;
    child->prev_sibling = NULL;
    child->next_sibling = parent ? parent->first_child : NULL;
    if (parent) {
        if (parent->first_child)
            parent->first_child->prev_sibling = child;
        parent->first_child = child;
    }
}

static void unlink_from_parent(struct cap_slot *slot)
{
    if (slot->prev_sibling)
        slot->prev_sibling->next_sibling = slot->next_sibling;
    else if (slot->parent)
        slot->parent->first_child = slot->next_sibling;
    if (slot->next_sibling)
        slot->next_sibling->prev_sibling = slot->prev_sibling;
    slot->parent = slot->next_sibling = slot->prev_sibling = NULL;
}

static bool is_self_reference(const struct cspace *cs, const struct kobject *object)
{
    return object == &cs->owner->obj;
}

/* Capabilities to a process in other processes' cspaces (the weak ones,
 * its own, do not count): process.c ends one nobody holds that cannot run. */
static void holder_added(struct kobject *object, bool weak)
{
    if (!weak && object->type == WD_TYPE_PROCESS)
        process_holder_added((struct process *)object);
}

static void holder_removed(struct kobject *object, bool weak)
{
    if (!weak && object->type == WD_TYPE_PROCESS)
        process_holder_removed((struct process *)object);
}

int64_t cap_insert(struct cspace *cs, struct kobject *object, uint32_t rights, uint64_t badge,
                   struct cap_slot *parent)
{
    struct cap_slot *slot = find_free_slot(cs);
    if (!slot)
        return -WD_E_CSPACE_FULL;
    slot->object = object;
    slot->rights = rights;
    slot->badge = badge;
    slot->weak = is_self_reference(cs, object);
    slot->first_child = NULL;
    if (!slot->weak)
        kobject_get(object);
    holder_added(object, slot->weak);
    link_child(parent, slot);
    cs->used++;
    kobject_cap_added(object, rights);
    return (int64_t)cap_handle(slot);
}

int64_t cap_move_to(struct cap_slot *slot, struct cspace *cs)
{
    if (slot->cspace == cs)
        return (int64_t)cap_handle(slot);
    struct cap_slot *dest = find_free_slot(cs);
    if (!dest)
        return -WD_E_CSPACE_FULL;
    struct kobject *object = slot->object;
    bool was_weak = slot->weak;
    dest->object = object;
    dest->rights = slot->rights;
    dest->badge = slot->badge;
    dest->weak = is_self_reference(cs, object);
    if (was_weak && !dest->weak) {
        kobject_get(object);
        holder_added(object, false);
    }
    /* Take over slot's place in the tree. */
    dest->parent = slot->parent;
    dest->prev_sibling = slot->prev_sibling;
    dest->next_sibling = slot->next_sibling;
    if (dest->prev_sibling)
        dest->prev_sibling->next_sibling = dest;
    else if (dest->parent)
        dest->parent->first_child = dest;
    if (dest->next_sibling)
        dest->next_sibling->prev_sibling = dest;
    dest->first_child = slot->first_child;
    for (struct cap_slot *c = dest->first_child; c; c = c->next_sibling)
        c->parent = dest;
    if (slot->dependents)
        cap_dependents_moved(slot, dest);
    cs->used++;
    /* Free the old slot without touching the object. */
    slot->object = NULL;
    slot->parent = slot->first_child = slot->next_sibling = slot->prev_sibling = NULL;
    if (++slot->generation == 0)
        slot->generation = 1;
    slot->cspace->used--;
    kobject_cap_removed(object, dest->rights, slot->cspace->owner, true);
    int64_t handle = (int64_t)cap_handle(dest);
    /* Moved into the process it names: now held weakly. Only once the move
     * is complete: that was perhaps the last holder (the process ends) or
     * the last reference (a process without threads is destroyed, its
     * cspace and dest with it). */
    if (!was_weak && dest->weak) {
        holder_removed(object, false);
        kobject_put(object);
    }
    return handle;
}

static void delete_slot(struct cap_slot *slot, bool signal_watch)
{
    KASSERT(slot->object);
    /* A lease ends everything derived from it (they are leases too)... */
    if (cap_is_lease(slot))
        cap_revoke(slot);
    /* ...and every mapping made through it, waited for, before the object goes. */
    if (slot->dependents)
        cap_dependents_end(slot, signal_watch);
    /* Children move up to this slot's parent, so revoking an ancestor still reaches them. */
    struct cap_slot *grandparent = slot->parent;
    unlink_from_parent(slot);
    while (slot->first_child) {
        struct cap_slot *c = slot->first_child;
        unlink_from_parent(c);
        link_child(grandparent, c);
    }
    struct kobject *object = slot->object;
    uint32_t rights = slot->rights;
    bool weak = slot->weak;
    slot->object = NULL;
    slot->rights = 0;
    slot->badge = 0;
    slot->weak = false;
    if (++slot->generation == 0)
        slot->generation = 1;
    slot->cspace->used--;
    kobject_cap_removed(object, rights, slot->cspace->owner, false);
    holder_removed(object, weak);           /* the last: may end the process (our reference keeps it) */
    if (!weak)
        kobject_put(object);
}

void cap_delete(struct cap_slot *slot)
{
    delete_slot(slot, true);
}

void cap_delete_quiet(struct cap_slot *slot)
{
    delete_slot(slot, false);
}

bool cspace_holds_rights(const struct cspace *cs, const struct kobject *o, uint32_t rights)
{
    for (uint32_t i = 1; i < cs->slot_count; i++)
        if (cs->slots[i].object == o && (cs->slots[i].rights & rights) == rights)
            return true;
    return false;
}

bool cspace_holds(const struct cspace *cs, bool (*match)(const struct kobject *, const void *), const void *ctx)
{
    for (uint32_t i = 1; i < cs->slot_count; i++)
        if (cs->slots[i].object && match(cs->slots[i].object, ctx))
            return true;
    return false;
}

uint64_t cap_revoke(struct cap_slot *slot)
{
    uint64_t deleted = 0;
    while (slot->first_child) {
        struct cap_slot *leaf = slot->first_child;
        while (leaf->first_child)
            leaf = leaf->first_child;
        cap_delete(leaf);
        deleted++;
    }
    return deleted;
}
