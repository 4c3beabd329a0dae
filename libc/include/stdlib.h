/*
 * stdlib.h (libc) - memory allocation (malloc.c), process exit and number
 * parsing (stdlib.c). No errno: strto* clamp on overflow.
 */
#ifndef WARDEN_LIBC_STDLIB_H
#define WARDEN_LIBC_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/* malloc.c: NULL when the process's pool is exhausted. Not thread safe. */
void *malloc(size_t size) __attribute__((malloc, alloc_size(1)));
void *calloc(size_t count, size_t size) __attribute__((malloc, alloc_size(1, 2)));
void *realloc(void *p, size_t size) __attribute__((alloc_size(2)));
void free(void *p);

/* Flushes stdout, then ends the process with status. */
_Noreturn void exit(int status);
/* Flushes stdout, prints "abort" and ends the process with status 134. */
_Noreturn void abort(void);

unsigned long strtoul(const char *restrict s, char **restrict end, int base);
unsigned long long strtoull(const char *restrict s, char **restrict end, int base);
long strtol(const char *restrict s, char **restrict end, int base);
long long strtoll(const char *restrict s, char **restrict end, int base);
int atoi(const char *s);
int abs(int x);
long labs(long x);
void qsort(void *base, size_t count, size_t size, int (*compare)(const void *, const void *));

#endif
