/*
 * stdio.c - stdout and the printf family. Owns the stdout buffer: bytes
 * collect in out_buf and go to the console with one wd_debug_write when a
 * '\n' arrives, when the buffer is full, or on wd_flush_stdout(). The
 * formatting is kernel/core/format.c (format_v, kvsnprintf). Not thread
 * safe.
 */
#include <stdio.h>
#include <warden/syscalls.h>

#include "core/format.h"

#define OUT_BUFFER_SIZE 256

static char out_buf[OUT_BUFFER_SIZE];
static size_t out_len;

void wd_flush_stdout(void)
{
    if (out_len)
        wd_debug_write(out_buf, out_len);
    out_len = 0;
}

static void out_byte(char c)
{
    out_buf[out_len++] = c;
    if (c == '\n' || out_len == OUT_BUFFER_SIZE)
        wd_flush_stdout();
}

static void stdout_sink(void *ctx, char c)
{
    (void)ctx;
    out_byte(c);
}

int putchar(int c)
{
    out_byte((char)c);
    return (unsigned char)c;
}

int puts(const char *s)
{
    while (*s)
        out_byte(*s++);
    out_byte('\n');
    return 0;
}

int vprintf(const char *fmt, va_list ap)
{
    return format_v(stdout_sink, NULL, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    return kvsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
