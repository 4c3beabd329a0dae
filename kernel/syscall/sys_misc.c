/*
 * sys_misc.c - console output, the clock and kernel counters.
 */
#include "syscall/syscall.h"

#include "arch/x86_64/serial.h"
#include "arch/x86_64/timer.h"
#include "mm/kobj.h"
#include "mm/physmem.h"
#include "mm/usercopy.h"
#include "cap/dependents.h"
#include "obj/notification.h"
#include "obj/object.h"
#include "obj/revoke.h"
#include "sched/sched.h"

#define DEBUG_WRITE_MAX 4096

int64_t sys_debug_write(const char *buf, uint64_t len)
{
    if (len > DEBUG_WRITE_MAX)
        return -WD_E_INVALID_ARG;
    if (!user_range_valid((uint64_t)buf, len))
        return -WD_E_BAD_ADDRESS;
    char chunk[256];
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        if (copy_from_user(chunk, (uint64_t)buf + done, n))
            return -WD_E_BAD_ADDRESS;
        for (uint64_t i = 0; i < n; i++)
            serial_putc(chunk[i]);
        done += n;
    }
    return (int64_t)len;
}

int64_t sys_system_info(struct wd_system_info *out)
{
    kobj_shrink_all();              /* so free_frames counts no cached empty slab: exact leak checks */
    struct physmem_stats mem = physmem_stats();
    struct wd_system_info info = {
        .free_frames = mem.free_frames,
        .total_frames = mem.usable_bytes / FRAME_SIZE,
        .kernel_object_pages = kobj_pages_in_use(),
        .live_processes = process_live_count(),
        .live_threads = thread_live_count(),
        .live_objects = kobject_live_count(),
        .syscalls = syscall_count(),
        .context_switches = sched_context_switches(),
        .tick_hz = SCHED_TICK_HZ,
    };
    revoke_fill_info(&info);
    info.notify_signals = notification_signal_count();
    info.notify_wakeups = notification_wakeup_count();
    info.lease_ends = lease_end_count();
    info.lease_mappings_removed = lease_mappings_removed_count();
    info.idle_tsc = sched_idle_tsc();
    return copy_to_user((uint64_t)out, &info, sizeof info);
}

int64_t sys_time_now(void)
{
    return (int64_t)time_now_ns();
}
