/*
 * printk.c - formats with format_v() straight to the serial port.
 * Single CPU for now; SMP will need a console lock here.
 */
#include "core/printk.h"
#include "core/format.h"
#include "arch/x86_64/serial.h"

static void serial_sink(void *ctx, char c)
{
    (void)ctx;
    serial_putc(c);
}

int vprintk(const char *fmt, va_list ap)
{
    return format_v(serial_sink, NULL, fmt, ap);
}

int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}
