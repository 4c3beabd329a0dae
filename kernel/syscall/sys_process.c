/*
 * sys_process.c - processes, threads, sleeping and address spaces.
 */
#include "syscall/syscall.h"

#include "core/panic.h"
#include "mm/usercopy.h"
#include "mm/vmspace.h"
#include "obj/device.h"
#include "obj/frame_object.h"
#include "obj/pool.h"
#include "sched/sched.h"

#include <string.h>

#define MAP_RIGHTS (WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_EXEC)

int64_t sys_process_create(wd_handle_t pool_handle, wd_handle_t fault_endpoint, uint64_t fault_badge,
                           uint64_t flags)
{
    struct pool *pool;
    struct kobject *ep = NULL;
    int r = lookup_creation_pool(pool_handle, &pool);
    if (r == 0 && fault_endpoint != WD_NULL)
        r = lookup_object(fault_endpoint, WD_TYPE_ENDPOINT, WD_RIGHT_SEND, &ep);
    if (r == 0 && flags)
        r = -WD_E_BAD_FLAGS;
    if (r)
        return r;
    int error;
    struct process *p = process_create(pool, (struct endpoint *)ep, fault_badge, &error);
    if (!p)
        return -error;
    return install_new_object(&p->obj, WD_RIGHTS_ALL);
}

/* The caller is dead after this: never returns to user mode. */
static void leave_dead(void)
{
    schedule();
    panic("a dead thread was scheduled again");
}

int64_t sys_process_kill(wd_handle_t process, int64_t status)
{
    struct kobject *obj;
    int r = lookup_object(process, WD_TYPE_PROCESS, WD_RIGHT_CONTROL, &obj);
    if (r)
        return r;
    struct process *p = (struct process *)obj;
    bool self = p == current_process();
    process_terminate(p, WD_EXIT_KILLED, status);
    if (self)
        leave_dead();
    return 0;
}

int64_t sys_process_exit(int64_t status)
{
    process_terminate(current_process(), WD_EXIT_NORMAL, status);
    leave_dead();
    return 0;
}

int64_t sys_process_info(wd_handle_t process, struct wd_process_info *out)
{
    struct process *p;
    int r = lookup_process(process, &p);
    if (r)
        return r;
    struct wd_process_info info = {
        .pid = p->obj.id,
        .live_threads = p->live_threads,
        .dead = p->dead,
        .cpu_tsc = p->cpu_tsc,
        .syscalls = p->syscalls,
        .pool_budget = p->pool ? p->pool->budget : 0,
        .pool_used = p->pool ? p->pool->used : 0,
    };
    return copy_to_user((uint64_t)out, &info, sizeof info);
}

int64_t sys_process_set_name(wd_handle_t process, const char *name, uint64_t len)
{
    struct process *p;
    int r = lookup_process(process, &p);
    if (r)
        return r;
    char text[sizeof p->name];
    if (len == 0 || len >= sizeof text)
        return -WD_E_INVALID_ARG;
    if (!user_range_valid((uint64_t)name, len) || copy_from_user(text, (uint64_t)name, len))
        return -WD_E_BAD_ADDRESS;
    for (uint64_t i = 0; i < len; i++)
        if (text[i] < 0x21 || text[i] > 0x7E)
            return -WD_E_INVALID_ARG;
    memset(p->name, 0, sizeof p->name);
    memcpy(p->name, text, len);
    return 0;
}

int64_t sys_thread_fault_fixup(uint64_t start, uint64_t end, uint64_t fixup)
{
    struct thread *t = current_thread();
    if (start == 0 && end == 0) {
        t->fixup_start = t->fixup_end = t->fixup_rip = 0;
        return 0;
    }
    if (start >= end || !user_range_valid(start, end - start) || !user_range_valid(fixup, 1))
        return -WD_E_INVALID_ARG;
    t->fixup_start = start;
    t->fixup_end = end;
    t->fixup_rip = fixup;
    return 0;
}

int64_t sys_thread_create(wd_handle_t pool_handle, wd_handle_t process, uint64_t entry, uint64_t stack,
                          uint64_t arg, uint64_t priority)
{
    struct pool *pool;
    struct process *p;
    int r = lookup_creation_pool(pool_handle, &pool);
    if (r == 0)
        r = lookup_process(process, &p);
    if (r)
        return r;
    if (!user_range_valid(entry, 1) || !user_range_valid(stack - 1, 1) || stack == 0)
        return -WD_E_BAD_ADDRESS;
    if (stack % 16)
        return -WD_E_UNALIGNED;
    if (priority > WD_PRIORITY_MAX)
        return -WD_E_INVALID_ARG;
    if (p->dead)
        return -WD_E_DEAD;
    int error;
    struct thread *t = thread_create(pool, p, entry, stack, arg, (uint32_t)priority, &error);
    if (!t)
        return -error;
    int64_t h = cap_insert(&current_process()->cspace, &t->obj, WD_RIGHTS_ALL, 0, NULL);
    KASSERT(h > 0);                 /* a free slot was checked above */
    thread_start(t);                /* its creation reference is its alive reference */
    return h;
}

int64_t sys_thread_exit(void)
{
    struct thread *t = current_thread();
    struct process *p = t->process;
    thread_kill(t);
    process_thread_ended(p);
    leave_dead();
    return 0;
}

int64_t sys_thread_yield(void)
{
    schedule();
    return 0;
}

int64_t sys_thread_sleep(uint64_t ns)
{
    struct thread *t = current_thread();
    t->state = THREAD_SLEEPING;
    ktimer_arm(&t->timeout, ns);
    schedule();
    return 0;
}

int64_t sys_vm_map(wd_handle_t process, wd_handle_t frame, uint64_t offset, uint64_t vaddr, uint64_t len,
                   uint64_t rights)
{
    if (rights & ~(uint64_t)WD_RIGHTS_ALL)
        return -WD_E_BAD_FLAGS;
    if ((rights & ~(uint64_t)MAP_RIGHTS) || !(rights & WD_RIGHT_READ))
        return -WD_E_INVALID_ARG;
    struct process *p;
    struct cap_slot *slot;
    struct cap_dependents *lease;
    int r = lookup_process(process, &p);
    if (r == 0)
        r = lookup_frame_for_mapping(frame, WD_RIGHT_MAP | (uint32_t)rights, &slot, &lease);
    if (r)
        return r;
    struct frame_object *f = (struct frame_object *)slot->object;
    const struct iommu_group *g = (f->flags & WD_FRAME_MMIO) ? device_bar_group(f) : NULL;
    if (g && g->owner && g->owner != current_process())
        r = -WD_E_NOT_OWNER;            /* only the group's owner hands out its registers */
    if (r == 0)
        r = vmspace_map(&p->vm, f, offset, vaddr, len, (uint32_t)rights, lease);
    if (r)
        mapping_lease_done(slot);
    return r;
}

int64_t sys_vm_unmap(wd_handle_t process, uint64_t vaddr, uint64_t len)
{
    struct process *p;
    int r = lookup_process(process, &p);
    if (r)
        return r;
    return vmspace_unmap(&p->vm, vaddr, len);
}
