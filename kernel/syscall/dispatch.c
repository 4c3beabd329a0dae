/*
 * dispatch.c - the system call table, generated from
 * include/warden/syscalls.def, and the C entry from syscall_entry.asm.
 */
#include "syscall/syscall.h"

#include "sched/sched.h"

static uint64_t syscalls;

uint64_t syscall_count(void) { return syscalls; }

#define R_ARG1 (f->rdi)
#define R_ARG2 (f->rsi)
#define R_ARG3 (f->rdx)
#define R_ARG4 (f->r10)
#define R_ARG5 (f->r8)
#define R_ARG6 (f->r9)
#define WD_ARGS0()
#define WD_ARGS1(t1, a1) (t1)R_ARG1
#define WD_ARGS2(t1, a1, t2, a2) (t1)R_ARG1, (t2)R_ARG2
#define WD_ARGS3(t1, a1, t2, a2, t3, a3) (t1)R_ARG1, (t2)R_ARG2, (t3)R_ARG3
#define WD_ARGS4(t1, a1, t2, a2, t3, a3, t4, a4) (t1)R_ARG1, (t2)R_ARG2, (t3)R_ARG3, (t4)R_ARG4
#define WD_ARGS5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) \
    (t1)R_ARG1, (t2)R_ARG2, (t3)R_ARG3, (t4)R_ARG4, (t5)R_ARG5
#define WD_ARGS6(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6) \
    (t1)R_ARG1, (t2)R_ARG2, (t3)R_ARG3, (t4)R_ARG4, (t5)R_ARG5, (t6)R_ARG6

/* One adapter per register-argument call: registers -> typed arguments. */
#define WD_SYSCALL(nr, name, args) \
    static int64_t call_##name(struct trap_frame *f) { (void)f; return sys_##name(args); }
#define WD_SYSCALL_IPC(nr, name)
#include <warden/syscalls.def>
#undef WD_SYSCALL
#undef WD_SYSCALL_IPC

typedef int64_t (*syscall_handler)(struct trap_frame *f);

static const syscall_handler table[] = {
#define WD_SYSCALL(nr, name, args) [nr] = call_##name,
#define WD_SYSCALL_IPC(nr, name) [nr] = sys_##name,
#include <warden/syscalls.def>
#undef WD_SYSCALL
#undef WD_SYSCALL_IPC
};

#define SYSCALL_COUNT (sizeof table / sizeof table[0])

void syscall_dispatch(struct trap_frame *f)
{
    syscalls++;
    current_process()->syscalls++;
    uint64_t nr = f->rax;
    int64_t result = nr < SYSCALL_COUNT && table[nr] ? table[nr](f) : -WD_E_NO_SYSCALL;
    f->rax = (uint64_t)result;
    sched_preempt_point();
}
