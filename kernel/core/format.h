/*
 * format.h - printf-style formatting into any character sink.
 *
 * Supports: flags - 0 + space #, width and precision (numbers or *),
 * length modifiers hh h l ll z t j, conversions d i u o x X p s c %.
 * %p prints "0x" and 16 hex digits. Unknown conversions are printed
 * verbatim. A NULL %s prints "(null)". Pure code: also built on the host
 * for unit tests, and meant to be shared with libc.
 */
#ifndef WARDEN_CORE_FORMAT_H
#define WARDEN_CORE_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_sink)(void *ctx, char c);

/* Formats to sink; returns the number of characters produced. */
int format_v(format_sink sink, void *ctx, const char *fmt, va_list ap);

/* Bounded formatting into buf (always NUL-terminated when size > 0);
 * returns the length the full output would have had, like snprintf. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
