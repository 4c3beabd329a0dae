/*
 * warden/thread.h - starting another thread in this process.
 */
#ifndef WARDEN_LIBC_THREAD_H
#define WARDEN_LIBC_THREAD_H

#include <warden/abi.h>

#define WD_THREAD_STACK_SIZE (64ull * 1024)

/* Runs fn(arg) on a new thread with its own 64 KiB stack; when fn returns
 * the thread exits. Returns the thread handle or -WD_E_*. */
long wd_thread_start(void (*fn)(void *), void *arg, uint32_t priority);

#endif
