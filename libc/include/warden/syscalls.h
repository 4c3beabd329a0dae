/*
 * warden/syscalls.h (libc) - the system call API of user space.
 *
 * Owns: the WD_SYS_<name> numbers and one `long wd_<name>(...)` stub per
 * WD_SYSCALL entry, both generated from <warden/syscalls.def> (the stubs
 * live in libc/syscalls.c); the IPC entry point wd_ipc (libc/ipc.asm) and
 * its wrappers wd_call/wd_send/wd_recv/wd_reply/wd_reply_recv; the process's
 * start info; wd_error_name/wd_error_text.
 *
 * Every call returns >= 0 on success and -WD_E_* on failure.
 *
 * IPC: on success the message is rewritten from the registers the kernel
 * returns (info, badge, the 8 words; received capability handles land in
 * msg->caps). On failure (return < 0) the message is left as it was.
 */
#ifndef WARDEN_LIBC_SYSCALLS_H
#define WARDEN_LIBC_SYSCALLS_H

#include <stddef.h>
#include <warden/abi.h>

/* System call numbers. */
enum wd_syscall_number {
#define WD_SYSCALL(nr, name, args) WD_SYS_##name = (nr),
#define WD_SYSCALL_IPC(nr, name) WD_SYS_##name = (nr),
#include <warden/syscalls.def>
#undef WD_SYSCALL
#undef WD_SYSCALL_IPC
};

/* One stub per register-convention call: long wd_<name>(args). */
#include <warden/syscall_params.h>
#define WD_SYSCALL(nr, name, args) long wd_##name(args);
#define WD_SYSCALL_IPC(nr, name)
#include <warden/syscalls.def>
#include <warden/syscall_params_end.h>

/* libc/ipc.asm reads and writes struct wd_msg at these offsets. */
_Static_assert(offsetof(struct wd_msg, info) == 0, "wd_msg.info at 0");
_Static_assert(offsetof(struct wd_msg, badge) == 8, "wd_msg.badge at 8");
_Static_assert(offsetof(struct wd_msg, w) == 16, "wd_msg.w at 16");
_Static_assert(offsetof(struct wd_msg, caps) == 80, "wd_msg.caps at 80");
_Static_assert(sizeof(struct wd_msg) == 112, "wd_msg is 112 bytes");

/* Any IPC call (number = WD_SYS_ipc_*) in the register convention of
 * <warden/ipc.h>: loads msg into the registers, rbx = msg->caps, rbp =
 * timeout, and stores the returned registers back on success. */
long wd_ipc(long number, wd_handle_t endpoint, struct wd_msg *msg, uint64_t timeout);

/* Send msg on ep and wait for the reply, which replaces msg. */
static inline long wd_call(wd_handle_t ep, struct wd_msg *msg, uint64_t timeout)
{
    return wd_ipc(WD_SYS_ipc_call, ep, msg, timeout);
}

/* Send msg on ep without waiting for a reply. */
static inline long wd_send(wd_handle_t ep, struct wd_msg *msg, uint64_t timeout)
{
    return wd_ipc(WD_SYS_ipc_send, ep, msg, timeout);
}

/* Wait for a message on ep; it is written to msg (badge included). */
static inline long wd_recv(wd_handle_t ep, struct wd_msg *msg, uint64_t timeout)
{
    return wd_ipc(WD_SYS_ipc_recv, ep, msg, timeout);
}

/* Reply with msg to the caller this thread received last. Never blocks. */
static inline long wd_reply(struct wd_msg *msg)
{
    return wd_ipc(WD_SYS_ipc_reply, WD_NULL, msg, WD_NO_WAIT);
}

/* Reply with msg, then wait on ep; the next message replaces msg. */
static inline long wd_reply_recv(wd_handle_t ep, struct wd_msg *msg, uint64_t timeout)
{
    return wd_ipc(WD_SYS_ipc_reply_recv, ep, msg, timeout);
}

/* Signal bits on notification, then wait on ep; the message lands in msg
 * (on failure msg is left as it was, apart from info and w[0]). */
static inline long wd_signal_recv(wd_handle_t ep, wd_handle_t notification, uint64_t bits, struct wd_msg *msg,
                                  uint64_t timeout)
{
    msg->info = notification;
    msg->w[0] = bits;
    return wd_ipc(WD_SYS_ipc_signal_recv, ep, msg, timeout);
}

/* The start info the kernel or the parent gave this process (read-only
 * page at WD_START_INFO_ADDR); set by crt0 before main runs. */
extern const struct wd_start_info *wd_start_info;

/* "E_BAD_HANDLE" for WD_E_BAD_HANDLE or -WD_E_BAD_HANDLE; "E_UNKNOWN" out of range. */
const char *wd_error_name(long err);
/* The one-line description of an error code (either sign); "unknown error" out of range. */
const char *wd_error_text(long err);

#endif
