/*
 * stdio.h (libc) - formatted output to the kernel console. There are no
 * FILEs: stdout is a 256-byte line buffer written with wd_debug_write on
 * '\n', when full, by wd_flush_stdout() and at exit()/abort().
 *
 * Formats are those of kernel/core/format.h: flags - 0 + space #, width and
 * precision (numbers or *), length hh h l ll z t j, conversions
 * d i u o x X p s c %. No floating point.
 */
#ifndef WARDEN_LIBC_STDIO_H
#define WARDEN_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Return the length the whole output would have had; buf is always
 * NUL-terminated when size > 0. */
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

int putchar(int c);
int puts(const char *s);        /* s and a newline */

/* Write out whatever stdout holds (the fflush(NULL) of this libc). */
void wd_flush_stdout(void);

#endif
