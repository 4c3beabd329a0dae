/*
 * usercopy.c - validated copies between kernel and user memory.
 */
#include "mm/usercopy.h"

#include <warden/errors.h>
#include <warden/types.h>

int copy_bytes_faultable(void *dst, const void *src, size_t n);

bool user_range_valid(uint64_t addr, uint64_t length)
{
    return addr >= WD_USER_MIN && addr <= WD_USER_MAX && length <= WD_USER_MAX - addr;
}

int copy_from_user(void *dst, uint64_t user_src, size_t length)
{
    if (!user_range_valid(user_src, length))
        return -WD_E_BAD_ADDRESS;
    return copy_bytes_faultable(dst, (const void *)user_src, length) ? -WD_E_BAD_ADDRESS : 0;
}

int copy_to_user(uint64_t user_dst, const void *src, size_t length)
{
    if (!user_range_valid(user_dst, length))
        return -WD_E_BAD_ADDRESS;
    return copy_bytes_faultable((void *)user_dst, src, length) ? -WD_E_BAD_ADDRESS : 0;
}
