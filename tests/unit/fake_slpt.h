/*
 * fake_slpt.h - a fake physical memory for the VT-d second-level page
 * table tests (test_slpt*.c). It keeps two copies of each page: the CPU's
 * (what slpt writes) and the written-back one (what a non-coherent IOMMU
 * would read, stale garbage until flushed). fake_slpt_coherent() says they
 * agree. Allocation can be made to fail after a count (fm.allocs_left).
 */
#ifndef WARDEN_TESTS_FAKE_SLPT_H
#define WARDEN_TESTS_FAKE_SLPT_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/slpt.h"
#include "unit.h"

#define FAKE_PAGES 64
#define FAKE_BASE 0x100000ull
#define STALE 0xA5A5A5A5A5A5A5A5ull
#define POISON 0xDDDDDDDDDDDDDDDDull
#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)
#define RW (SLPT_READ | SLPT_WRITE)
#define NON_LEAF_BITS (SLPTE_READ | SLPTE_WRITE)

struct fake_memory {
    _Alignas(4096) uint64_t page[FAKE_PAGES][SLPT_ENTRIES];    /* the CPU's view */
    uint64_t written_back[FAKE_PAGES][SLPT_ENTRIES];            /* the IOMMU's view */
    bool in_use[FAKE_PAGES];
    int allocs_left;                /* < 0: unlimited */
    unsigned allocs, frees, flushes;
};

extern struct fake_memory fm;
extern const struct slpt_memory fake_slpt_mem;           /* flushes into the written-back copy */
extern const struct slpt_memory fake_slpt_mem_coherent;  /* no flush hook: a coherent IOMMU */

void fake_slpt_reset(void);
/* The page index of an in-use table address (a failed CHECK otherwise). */
unsigned fake_slpt_index(uint64_t phys);
/* Every in-use page reads the same to the CPU and to a non-coherent IOMMU. */
bool fake_slpt_coherent(void);
unsigned fake_slpt_in_use(void);
/* A fresh fake memory and an empty tree of `levels` on it. */
void new_tree(struct slpt *t, unsigned levels);
/* Destroys t and checks that exactly every allocated table was freed. */
void end_tree(struct slpt *t);

#endif
