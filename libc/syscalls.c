/*
 * syscalls.c - the register-convention system call stubs, generated from
 * <warden/syscalls.def>: each WD_SYSCALL entry becomes
 *
 *   long wd_<name>(params) { return wd_raw_syscall(nr, a1, ..., a6); }
 *
 * with unused argument registers zeroed. The IPC calls are not here: they
 * go through wd_ipc (ipc.asm).
 *
 * Register contract: number in rax; arguments in rdi, rsi, rdx, r10, r8,
 * r9; result in rax. The stubs treat rcx, r11 and all six argument
 * registers as clobbered (they are caller-saved anyway), so the kernel need
 * only preserve rbx, rbp, r12-r15 and rsp.
 */
#include <warden/syscalls.h>

static inline long wd_raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "+a"(nr), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8), "+r"(r9)
                     :
                     : "rcx", "r11", "memory");
    return nr;
}

/* WD_ARGSn expands to: (parameter list), six register values. */
#define WD_ARGS0() (void), 0, 0, 0, 0, 0, 0
#define WD_ARGS1(t1, a1) (t1 a1), (long)(a1), 0, 0, 0, 0, 0
#define WD_ARGS2(t1, a1, t2, a2) (t1 a1, t2 a2), (long)(a1), (long)(a2), 0, 0, 0, 0
#define WD_ARGS3(t1, a1, t2, a2, t3, a3) \
    (t1 a1, t2 a2, t3 a3), (long)(a1), (long)(a2), (long)(a3), 0, 0, 0
#define WD_ARGS4(t1, a1, t2, a2, t3, a3, t4, a4) \
    (t1 a1, t2 a2, t3 a3, t4 a4), (long)(a1), (long)(a2), (long)(a3), (long)(a4), 0, 0
#define WD_ARGS5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) \
    (t1 a1, t2 a2, t3 a3, t4 a4, t5 a5), (long)(a1), (long)(a2), (long)(a3), (long)(a4), \
    (long)(a5), 0
#define WD_ARGS6(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6) \
    (t1 a1, t2 a2, t3 a3, t4 a4, t5 a5, t6 a6), (long)(a1), (long)(a2), (long)(a3), \
    (long)(a4), (long)(a5), (long)(a6)

/* The extra level lets the commas produced by WD_ARGSn separate arguments. */
#define WD_STUB(nr, name, params, r1, r2, r3, r4, r5, r6) \
    long wd_##name params { return wd_raw_syscall((nr), r1, r2, r3, r4, r5, r6); }
#define WD_SYSCALL(nr, name, args) WD_STUB(nr, name, args)
#define WD_SYSCALL_IPC(nr, name)
#include <warden/syscalls.def>
#undef WD_SYSCALL
#undef WD_SYSCALL_IPC
#undef WD_STUB
