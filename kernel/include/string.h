/*
 * string.h - the memory and string functions the freestanding kernel
 * provides (kernel/core/string.c). Kernel code includes <string.h> so the
 * same pure sources also build on the host against the system libc.
 */
#ifndef WARDEN_KERNEL_STRING_H
#define WARDEN_KERNEL_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
