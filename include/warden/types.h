/*
 * warden/types.h - basic ABI types shared by the kernel and user space.
 */
#ifndef WARDEN_ABI_TYPES_H
#define WARDEN_ABI_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A capability handle: slot index in bits 0..15, generation in bits 16..31.
 * 0 is never a valid handle (WD_NULL). */
typedef uint64_t wd_handle_t;
#define WD_NULL ((wd_handle_t)0)
#define WD_HANDLE_SLOT(h) ((uint32_t)((h) & 0xFFFF))
#define WD_HANDLE_GENERATION(h) ((uint32_t)(((h) >> 16) & 0xFFFF))

/* Timeouts in nanoseconds: 0 = do not block, WD_FOREVER = no timeout. */
#define WD_FOREVER UINT64_MAX
#define WD_NO_WAIT 0ull

/* User address space bounds (canonical lower half, minus the first page and
 * the last page below the hole). */
#define WD_USER_MIN 0x1000ull
#define WD_USER_MAX 0x00007FFFFFFFF000ull

#define WD_PAGE_SIZE 4096ull

#endif
