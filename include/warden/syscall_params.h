/*
 * warden/syscall_params.h - WD_ARGSn(type, name, ...) of syscalls.def as C
 * parameter lists, for generating prototypes (the kernel's handlers, libc's
 * stubs). Include it, define WD_SYSCALL and WD_SYSCALL_IPC, include
 * <warden/syscalls.def>, then include <warden/syscall_params_end.h>.
 */
#define WD_ARGS0() void
#define WD_ARGS1(t1, a1) t1 a1
#define WD_ARGS2(t1, a1, t2, a2) t1 a1, t2 a2
#define WD_ARGS3(t1, a1, t2, a2, t3, a3) t1 a1, t2 a2, t3 a3
#define WD_ARGS4(t1, a1, t2, a2, t3, a3, t4, a4) t1 a1, t2 a2, t3 a3, t4 a4
#define WD_ARGS5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) t1 a1, t2 a2, t3 a3, t4 a4, t5 a5
#define WD_ARGS6(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6) \
    t1 a1, t2 a2, t3 a3, t4 a4, t5 a5, t6 a6
