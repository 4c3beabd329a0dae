/* stacktrace.h - frame-pointer stack traces that never fault. */
#ifndef WARDEN_ARCH_STACKTRACE_H
#define WARDEN_ARCH_STACKTRACE_H

#include <stdint.h>

/* Prints "stack trace:" then #0 rip (if nonzero) and the callers found by
 * walking the RBP chain from rbp. Unreadable frames end the walk. */
void stacktrace_print(uint64_t rip, uint64_t rbp);

#endif
