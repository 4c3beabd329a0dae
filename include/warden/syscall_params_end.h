/*
 * warden/syscall_params_end.h - undoes syscall_params.h and the caller's
 * WD_SYSCALL / WD_SYSCALL_IPC after an expansion of syscalls.def.
 */
#undef WD_SYSCALL
#undef WD_SYSCALL_IPC
#undef WD_ARGS0
#undef WD_ARGS1
#undef WD_ARGS2
#undef WD_ARGS3
#undef WD_ARGS4
#undef WD_ARGS5
#undef WD_ARGS6
