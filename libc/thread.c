/*
 * thread.c - more threads in the calling process (warden/thread.h).
 * Each gets a fresh stack frame mapped in the thread-stack area; stacks
 * are not reused (they go away with the process).
 */
#include <warden/syscalls.h>
#include <warden/thread.h>

#define THREAD_STACK_AREA 0x0000500000000000ull
#define THREAD_STACK_SLOT (1ull << 20)      /* one slot per thread; the unmapped rest is a guard */

void __wd_thread_trampoline(void);

static unsigned next_slot;

long wd_thread_start(void (*fn)(void *), void *arg, uint32_t priority)
{
    const uint64_t size = WD_THREAD_STACK_SIZE;
    uint64_t base = THREAD_STACK_AREA + (uint64_t)next_slot * THREAD_STACK_SLOT + THREAD_STACK_SLOT - size;
    long frame = wd_frame_create(wd_start_info->pool, size, 0);
    if (frame < 0)
        return frame;
    long r = wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, base, size, WD_RIGHT_READ | WD_RIGHT_WRITE);
    wd_cap_delete((wd_handle_t)frame);
    if (r < 0)
        return r;
    next_slot++;
    uint64_t *top = (uint64_t *)(base + size);
    top[-2] = (uint64_t)fn;
    top[-1] = (uint64_t)arg;
    long t = wd_thread_create(wd_start_info->pool, WD_NULL, (uint64_t)__wd_thread_trampoline,
                              (uint64_t)(top - 2), 0, priority);
    if (t < 0)
        wd_vm_unmap(WD_NULL, base, size);
    return t;
}
