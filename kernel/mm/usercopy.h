/*
 * usercopy.h - the only way the kernel reads or writes user memory.
 * A user range must lie inside [WD_USER_MIN, WD_USER_MAX) without
 * overflow (so no kernel or non-canonical address is ever touched on a
 * user's behalf); an unmapped or read-only page inside it is caught by the
 * fault fixup and reported as WD_E_BAD_ADDRESS.
 */
#ifndef WARDEN_MM_USERCOPY_H
#define WARDEN_MM_USERCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool user_range_valid(uint64_t addr, uint64_t length);
/* 0 or -WD_E_BAD_ADDRESS. */
int copy_from_user(void *dst, uint64_t user_src, size_t length);
int copy_to_user(uint64_t user_dst, const void *src, size_t length);

#endif
