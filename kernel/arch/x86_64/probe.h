/*
 * probe.h - memory accesses that may fault and report it instead of
 * crashing: the faulting instruction is listed in the exception table
 * (.extable) and the trap handler resumes at its fixup, which returns -1.
 * Used for stack traces and the boot tests; later for user copies.
 */
#ifndef WARDEN_ARCH_PROBE_H
#define WARDEN_ARCH_PROBE_H

#include <stdint.h>

/* 0 on success, -1 if the access faulted (page fault or #GP). */
int probe_read_u64(const void *addr, uint64_t *out);
int probe_write_u64(void *addr, uint64_t value);

struct extable_entry {
    uint64_t fault_rip;
    uint64_t fixup_rip;
};

/* The fixup for a faulting kernel RIP, or 0 when there is none. */
uint64_t extable_fixup_for(uint64_t rip);

#endif
