/*
 * assert.h (libc) - assert(expr): when expr is false, prints
 * "assertion failed: expr (file:line, func)" and abort()s. Compiled out
 * under NDEBUG; like the standard header, it may be included again after
 * changing NDEBUG.
 */
#undef assert
#ifdef NDEBUG
#define assert(expr) ((void)0)
#else
#define assert(expr) ((expr) ? (void)0 : __assert_fail(#expr, __FILE__, __LINE__, __func__))
#endif

#ifndef WARDEN_LIBC_ASSERT_H
#define WARDEN_LIBC_ASSERT_H

#define static_assert _Static_assert

_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func);

#endif
