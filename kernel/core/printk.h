/*
 * printk.h - kernel console output. In the kernel it goes to COM1; the
 * host unit tests link their own printk that records what was printed.
 * Convention: messages start with their subsystem ("acpi: ...").
 */
#ifndef WARDEN_CORE_PRINTK_H
#define WARDEN_CORE_PRINTK_H

#include <stdarg.h>

int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintk(const char *fmt, va_list ap);

#endif
