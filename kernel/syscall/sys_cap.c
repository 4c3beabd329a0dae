/*
 * sys_cap.c - capability calls: copy, move, delete, revoke, info, and the
 * helpers other handlers use to resolve process handles and install new
 * objects.
 */
#include "syscall/syscall.h"

#include "cap/dependents.h"
#include "mm/usercopy.h"
#include "obj/endpoint.h"
#include "obj/notification.h"

int lookup_object(wd_handle_t h, uint32_t type, uint32_t rights, struct kobject **out)
{
    struct cap_slot *slot;
    int r = lookup_cap(h, type, rights, &slot);
    if (r == 0)
        *out = slot->object;
    return r;
}

int lookup_process(wd_handle_t h, struct process **out)
{
    if (h == WD_NULL) {
        *out = current_process();
        return 0;
    }
    return lookup_object(h, WD_TYPE_PROCESS, WD_RIGHT_CONTROL, (struct kobject **)out);
}

int lookup_creation_pool(wd_handle_t h, struct pool **out)
{
    int r = lookup_object(h, WD_TYPE_POOL, WD_RIGHT_ALLOC, (struct kobject **)out);
    if (r == 0 && !cspace_free_slots(&current_process()->cspace))
        r = -WD_E_CSPACE_FULL;
    return r;
}

int64_t install_new_object(struct kobject *obj, uint32_t rights)
{
    int64_t h = cap_insert(&current_process()->cspace, obj, rights, 0, NULL);
    kobject_put(obj);               /* the creation reference; the slot holds its own */
    return h;
}

/* Resolves the destination of a copy or move: the caller, or another live
 * process (CONTROL) when the capability may be granted. */
static int copy_destination(wd_handle_t dest, struct cap_slot *src, struct cspace **out)
{
    struct process *p;
    int r = lookup_process(dest, &p);
    if (r)
        return r;
    if (p != current_process() && !(src->rights & WD_RIGHT_GRANT))
        return -WD_E_NO_RIGHTS;
    if (p->dead)
        return -WD_E_DEAD;
    *out = &p->cspace;
    return 0;
}

int64_t sys_cap_copy(wd_handle_t cap, wd_handle_t dest_process, uint64_t rights, uint64_t badge)
{
    struct cap_slot *src;
    struct cspace *dest;
    int r = lookup_cap(cap, WD_TYPE_NONE, 0, &src);
    if (r)
        return r;
    if (rights & ~(uint64_t)WD_RIGHTS_ALL)
        return -WD_E_BAD_FLAGS;
    if ((src->rights & rights) != rights)
        return -WD_E_NO_RIGHTS;
    if (badge && src->badge && badge != src->badge)
        return -WD_E_INVALID_ARG;
    r = copy_destination(dest_process, src, &dest);
    if (r)
        return r;
    return cap_insert(dest, src->object, (uint32_t)rights, badge ? badge : src->badge, src);
}

int64_t sys_cap_move(wd_handle_t cap, wd_handle_t dest_process)
{
    struct cap_slot *src;
    struct cspace *dest;
    int r = lookup_cap(cap, WD_TYPE_NONE, 0, &src);
    if (r == 0)
        r = copy_destination(dest_process, src, &dest);
    if (r)
        return r;
    return cap_move_to(src, dest);
}

int64_t sys_cap_delete(wd_handle_t cap)
{
    struct cap_slot *slot;
    int r = lookup_cap(cap, WD_TYPE_NONE, 0, &slot);
    if (r)
        return r;
    cap_delete_quiet(slot);         /* a watch on this very handle is not signalled */
    return 0;
}

int64_t sys_cap_revoke(wd_handle_t cap)
{
    struct cap_slot *slot;
    int r = lookup_cap(cap, WD_TYPE_NONE, 0, &slot);
    if (r)
        return r;
    return (int64_t)cap_revoke(slot);
}

void cap_slot_describe(const struct cap_slot *slot, struct wd_cap_info *info)
{
    *info = (struct wd_cap_info){
        .type = slot->object->type,
        .rights = slot->rights,
        .badge = slot->badge,
        .object_id = slot->object->id,
    };
    if (slot->object->type == WD_TYPE_ENDPOINT && ((struct endpoint *)slot->object)->closed)
        info->flags |= WD_CAP_CLOSED;
    if (slot->object->type == WD_TYPE_PROCESS && ((struct process *)slot->object)->dead)
        info->flags |= WD_CAP_DEAD;
    if (cap_is_lease(slot))
        info->flags |= WD_CAP_LEASE;
    if (slot->dependents && slot->dependents->watch)
        info->flags |= WD_CAP_WATCHED;
    if (slot->dependents)
        info->lease_mappings = slot->dependents->mapping_count;
}

int64_t sys_cap_info(wd_handle_t cap, struct wd_cap_info *out)
{
    struct cap_slot *slot;
    int r = lookup_cap(cap, WD_TYPE_NONE, 0, &slot);
    if (r)
        return r;
    struct wd_cap_info info;
    cap_slot_describe(slot, &info);
    return copy_to_user((uint64_t)out, &info, sizeof info);
}

int64_t sys_cap_watch(wd_handle_t cap, wd_handle_t notification, uint64_t bits)
{
    struct cap_slot *slot, *nslot = NULL;
    int r = lookup_cap(cap, WD_TYPE_NONE, 0, &slot);
    if (r == 0 && notification != WD_NULL)
        r = lookup_cap(notification, WD_TYPE_NOTIFICATION, WD_RIGHT_SEND, &nslot);
    if (r)
        return r;
    if (!nslot)
        return cap_watch_set(slot, NULL, 0, NULL);
    int64_t effective = notification_signal_bits(nslot->badge, bits);
    if (effective < 0)
        return effective;
    return cap_watch_set(slot, (struct notification *)nslot->object, (uint64_t)effective, current_process()->pool);
}
