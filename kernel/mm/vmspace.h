/*
 * vmspace.h - user address spaces: a PML4 whose upper half is the
 * kernel's, and a sorted list of mappings of frame objects. Each mapping
 * holds a reference on its frame. Page-table pages are charged to the
 * process's pool.
 */
#ifndef WARDEN_MM_VMSPACE_H
#define WARDEN_MM_VMSPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "cap/dependents.h"

struct frame_object;
struct pool;

struct vm_mapping {
    struct vm_mapping *next;
    uint64_t vaddr;
    uint64_t length;
    uint64_t offset;                /* into the frame */
    struct frame_object *frame;
    uint32_t rights;
    struct lease_link *lease;       /* made through a lease: ends with it (else NULL) */
};

struct vmspace {
    uint64_t pml4_phys;             /* 0 once destroyed */
    struct vm_mapping *mappings;    /* sorted by vaddr, non-overlapping */
    uint64_t table_pages;           /* page-table pages (PML4 included) */
    struct pool *pool;
};

/* 0 or -WD_E_*. The PML4 page is charged to pool. */
int vmspace_init(struct vmspace *vm, struct pool *pool);
void vmspace_destroy(struct vmspace *vm);

/* Validates and maps; 0 or -WD_E_*. Nothing changes on failure. With
 * lease, the mapping is made through that lease and ends with it. */
int vmspace_map(struct vmspace *vm, struct frame_object *frame, uint64_t offset, uint64_t vaddr,
                uint64_t length, uint32_t rights, struct cap_dependents *lease);
/* The lease m was made through is ending (m is already off its list). */
void vmspace_lease_remove(struct vmspace *vm, struct vm_mapping *m);
/* Removes the whole mappings inside [vaddr, vaddr+length); the number
 * removed or -WD_E_*. */
int64_t vmspace_unmap(struct vmspace *vm, uint64_t vaddr, uint64_t length);
/* Removes every mapping of frame (its device was revoked); how many. */
uint64_t vmspace_unmap_frame(struct vmspace *vm, const struct frame_object *frame);

/* Cost of one mapping record, for the pool. */
uint64_t vmspace_mapping_cost(void);

#endif
