/*
 * panic.h - stopping the kernel on its own bugs, with a useful dump.
 * User input never leads here; only broken kernel invariants do.
 */
#ifndef WARDEN_CORE_PANIC_H
#define WARDEN_CORE_PANIC_H

#include <stdbool.h>
#include <stdint.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

/* Marks the kernel as dying. Returns false if it already was (a fault
 * inside a panic or exception dump): the caller should then just halt. */
bool panic_begin(void);

/* Prints "*** kernel stopped ***", asks QEMU to exit with the panic code
 * (when isa-debug-exit is present) and halts this CPU for good. */
__attribute__((noreturn)) void kernel_stop(void);

#define KASSERT(cond)                                                          \
    do {                                                                       \
        if (!(cond))                                                           \
            panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__);  \
    } while (0)

#endif
