/*
 * t_unreachable.c - a process that can never run again and that no other
 * process holds a capability to (every live thread stopped on a fault,
 * nobody left to kill it) is ended by the kernel, so its memory and budget
 * come back. Found by the syscall fuzzer: a fuzzing process killed while it
 * held the only capability to such a process left its pool charged for
 * ever. Both orders are checked: the last capability goes after the fault,
 * and the fault comes after the last capability went.
 *
 * Also: moving the last capability to a process without threads into that
 * very process (it holds itself only weakly) ends it, and the move finishes
 * first. The fuzzer found the kernel destroying the process, its
 * capability space with it, half-way through the move, then finishing the
 * move in the freed slots (a watch on the capability was left in freed
 * memory, holding its notification and the caller's pool for ever).
 */
#include <string.h>

#include <warden/spawn.h>

#include "boot_tests.h"

#define CODE_VADDR 0x400000ull
#define STACK_VADDR 0x800000ull
#define SLEEP_NS (50 * BT_MS)

/* mov eax, WD_SYS_thread_sleep; mov edi, SLEEP_NS; syscall; ud2 */
static void write_sleep_then_fault(uint8_t *code)
{
    const uint8_t prologue[] = { 0xB8, WD_SYS_thread_sleep, 0, 0, 0, 0xBF };
    uint32_t ns = (uint32_t)SLEEP_NS;
    const uint8_t tail[] = { 0x0F, 0x05, 0x0F, 0x0B };
    memcpy(code, prologue, sizeof prologue);
    memcpy(code + sizeof prologue, &ns, sizeof ns);
    memcpy(code + sizeof prologue + sizeof ns, tail, sizeof tail);
}

/* A process in its own pool with one thread: at an unmapped entry (it faults
 * at once), or running code that sleeps, then faults. */
static wd_handle_t faulting_process(wd_handle_t pool, wd_handle_t fault_ep, bool fault_later)
{
    long child = BT_OK(wd_process_create(pool, fault_ep, 7, 0));
    if (fault_later) {
        long frame = BT_OK(wd_frame_create(pool, WD_PAGE_SIZE, 0));
        const uint64_t scratch = 0x0000510000000000ull;
        BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, scratch, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE));
        write_sleep_then_fault((uint8_t *)scratch);
        BT_OK(wd_vm_unmap(WD_NULL, scratch, WD_PAGE_SIZE));
        BT_OK(wd_vm_map((wd_handle_t)child, (wd_handle_t)frame, 0, CODE_VADDR, WD_PAGE_SIZE,
                        WD_RIGHT_READ | WD_RIGHT_EXEC));
        wd_cap_delete((wd_handle_t)frame);
    }
    long thread = BT_OK(wd_thread_create(pool, (wd_handle_t)child, fault_later ? CODE_VADDR : 0x1000,
                                         STACK_VADDR, 0, WD_PRIORITY_DEFAULT));
    wd_cap_delete((wd_handle_t)thread);
    return (wd_handle_t)child;
}

static uint64_t pool_used(wd_handle_t pool)
{
    struct wd_pool_info info;
    return BT_OK(wd_pool_info(pool, &info)) == 0 ? info.used : ~0ull;
}

/* Its EXIT message goes with the process object: nobody holds it, so no
 * message can name it. What shows it ended is its pool, charged 0. */
void test_faulted_unreachable_process_ends(void)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    for (int fault_later = 0; fault_later < 2; fault_later++) {
        long pool = BT_OK(wd_pool_create(bt_pool(), 1ull << 20));
        wd_handle_t child = faulting_process((wd_handle_t)pool, (wd_handle_t)ep, fault_later);
        struct wd_msg msg;
        if (!fault_later) {
            BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_FAULT, 7, &msg, 2000 * BT_MS), 0);
            wd_cap_delete(child);           /* the last capability to a process that cannot run */
        } else {
            wd_cap_delete(child);           /* it runs on, unheld, until it faults */
            BT_CHECK(pool_used((wd_handle_t)pool) != 0);
            BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_FAULT, 7, &msg, 2000 * BT_MS), 0);
            BT_CHECK_EQ(msg.w[2], 6);       /* #UD, after its sleep */
        }
        uint64_t deadline = (uint64_t)wd_time_now() + 2000 * BT_MS;
        while (pool_used((wd_handle_t)pool) != 0 && (uint64_t)wd_time_now() < deadline)
            wd_thread_sleep(10 * BT_MS);
        BT_CHECK_EQ(pool_used((wd_handle_t)pool), 0);   /* the process, its thread and memory are gone */
        wd_cap_delete((wd_handle_t)pool);
    }
    wd_cap_delete((wd_handle_t)ep);
}

void test_last_process_cap_moved_into_itself(void)
{
    long pool = BT_OK(wd_pool_create(bt_pool(), 1ull << 20));
    long n = BT_OK(wd_notify_create(bt_pool()));
    long child = BT_OK(wd_process_create((wd_handle_t)pool, WD_NULL, 0, 0));
    BT_OK(wd_cap_watch((wd_handle_t)child, (wd_handle_t)n, 0x4));
    BT_CHECK(wd_cap_move((wd_handle_t)child, (wd_handle_t)child) >= 0);
    BT_CHECK_EQ(wd_notify_poll((wd_handle_t)n), 0x4);  /* the capability ended with its holder */
    BT_CHECK_EQ(pool_used((wd_handle_t)pool), 0);       /* the process is gone */
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)child, &info), -WD_E_STALE_HANDLE);
    wd_cap_delete((wd_handle_t)n);
    wd_cap_delete((wd_handle_t)pool);
}
