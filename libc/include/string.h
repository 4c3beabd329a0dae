/*
 * string.h (libc) - memory and string functions. The first group is
 * kernel/core/string.c, compiled into libc unchanged (it includes this
 * header, so the declarations must stay compatible with
 * kernel/include/string.h); the rest is libc/string_extra.c.
 */
#ifndef WARDEN_LIBC_STRING_H
#define WARDEN_LIBC_STRING_H

#include <stddef.h>

/* kernel/core/string.c */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* libc/string_extra.c */
void *memchr(const void *s, int c, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strcpy(char *restrict dst, const char *restrict src);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
char *strcat(char *restrict dst, const char *restrict src);
char *strstr(const char *haystack, const char *needle);

#endif
