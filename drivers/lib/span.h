/*
 * span.h - libdriver's address-range allocator (struct wd_span_allocator in
 * warden/driver.h), used for IOVAs and for CPU addresses. Internal to
 * libdriver.
 *
 * Invariants: every range handed out or on the free list lies in
 * [base, limit) and outside [hole_start, hole_end); the free list is sorted,
 * its ranges do not touch each other, and all of them lie below next.
 */
#ifndef WARDEN_DRIVER_SPAN_H
#define WARDEN_DRIVER_SPAN_H

#include <warden/driver.h>

/* An empty hole is hole_start == hole_end. */
void wd_span_init(struct wd_span_allocator *s, uint64_t base, uint64_t limit, uint64_t hole_start,
                  uint64_t hole_end);
/* size bytes aligned to align (a power of two): 0 and *out, or -WD_E_RANGE
 * when the space is used up. */
long wd_span_take(struct wd_span_allocator *s, uint64_t size, uint64_t align, uint64_t *out);
/* Returns [start, start+size) for reuse. */
void wd_span_give_back(struct wd_span_allocator *s, uint64_t start, uint64_t size);

#endif
