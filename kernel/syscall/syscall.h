/*
 * syscall.h - prototypes of every system call handler, generated from
 * include/warden/syscalls.def, and helpers the handlers share.
 */
#ifndef WARDEN_SYSCALL_SYSCALL_H
#define WARDEN_SYSCALL_SYSCALL_H

#include <stdint.h>

#include <warden/abi.h>

#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "cap/cspace.h"
#include "cap/dependents.h"
#include "obj/process.h"
#include "obj/thread.h"

#define SYSCALL_FRAME_VECTOR 0x100

#include <warden/syscall_params.h>
#define WD_SYSCALL(nr, name, params) int64_t sys_##name(params);
#define WD_SYSCALL_IPC(nr, name) int64_t sys_##name(struct trap_frame *f);
#include <warden/syscalls.def>
#include <warden/syscall_params_end.h>

void syscall_dispatch(struct trap_frame *frame);
uint64_t syscall_count(void);

static inline struct process *current_process(void)
{
    return current_thread()->process;
}

/* Looks a handle up in the caller's cspace (0 or -WD_E_*). */
static inline int lookup_cap(wd_handle_t h, uint32_t type, uint32_t rights, struct cap_slot **slot)
{
    return cap_lookup(&current_process()->cspace, h, type, rights, slot);
}

/* What cap_info says about a capability (inspection uses it too). */
void cap_slot_describe(const struct cap_slot *slot, struct wd_cap_info *out);

/* The object a handle names, of `type` with every right in `rights`. */
int lookup_object(wd_handle_t h, uint32_t type, uint32_t rights, struct kobject **out);
struct device;
/* A device capability with `rights` whose group is unowned or the caller's (else NOT_OWNER). */
int lookup_device(wd_handle_t h, uint32_t rights, struct device **out);
/* WD_NULL names the caller; another process needs CONTROL. */
int lookup_process(wd_handle_t h, struct process **out);
struct pool;
/* The pool a creation call charges (ALLOC), after checking the caller has
 * a free slot for the new capability: nothing is created (and charged)
 * only to be thrown away. */
int lookup_creation_pool(wd_handle_t h, struct pool **out);
/* The frame a mapping call names, with `rights`; when the capability is a
 * lease, *lease is its dependents record (created and charged to the
 * caller's pool if needed), else NULL. After a failed map, call
 * mapping_lease_done(slot) so an unused record goes. */
static inline int lookup_frame_for_mapping(wd_handle_t h, uint32_t rights, struct cap_slot **slot,
                                           struct cap_dependents **lease)
{
    int r = lookup_cap(h, WD_TYPE_FRAME, rights, slot);
    *lease = NULL;
    if (r == 0 && cap_is_lease(*slot))
        r = cap_dependents_get(*slot, current_process()->pool, lease);
    return r;
}

static inline void mapping_lease_done(struct cap_slot *slot)
{
    cap_dependents_put_if_unused(slot);
}
/* Puts a new object in the caller's cspace with all rights; drops the
 * creation reference. Returns the handle or -WD_E_CSPACE_FULL (the object
 * is then destroyed). */
int64_t install_new_object(struct kobject *obj, uint32_t rights);

#endif
