/*
 * paging.h - x86-64 4-level page tables: entry bits and map/unmap/lookup
 * of 4 KiB and 2 MiB pages in any address space, named by the physical
 * address of its PML4. Table pages come from physmem; tables are reached
 * through phys_to_virt().
 */
#ifndef WARDEN_ARCH_PAGING_H
#define WARDEN_ARCH_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_PRESENT     (1ull << 0)
#define PTE_WRITABLE    (1ull << 1)
#define PTE_USER        (1ull << 2)
#define PTE_WRITE_THROUGH (1ull << 3)
#define PTE_CACHE_DISABLE (1ull << 4)
#define PTE_ACCESSED    (1ull << 5)
#define PTE_DIRTY       (1ull << 6)
#define PTE_LARGE       (1ull << 7)     /* 2 MiB page in a PD entry */
#define PTE_GLOBAL      (1ull << 8)
#define PTE_NO_EXECUTE  (1ull << 63)
#define PTE_ADDRESS_MASK 0x000FFFFFFFFFF000ull
#define PTE_LARGE_ADDRESS_MASK 0x000FFFFFFFE00000ull

/* Flags a caller may pass to paging_map. */
#define PAGING_MAP_FLAGS (PTE_WRITABLE | PTE_USER | PTE_WRITE_THROUGH | PTE_CACHE_DISABLE | PTE_GLOBAL | PTE_NO_EXECUTE)

#define PAGE_SIZE_4K 0x1000ull
#define PAGE_SIZE_2M 0x200000ull

enum paging_result {
    PAGING_OK = 0,
    PAGING_ERR_NO_MEMORY = -1,      /* no frame for a page table */
    PAGING_ERR_EXISTS = -2,         /* part of the range is already mapped */
    PAGING_ERR_NOT_MAPPED = -3,     /* part of the range is not mapped */
    PAGING_ERR_INVALID = -4,        /* misaligned, non-canonical, bad size or flags */
    PAGING_ERR_SPLIT = -5,          /* a 2 MiB page only partly inside the range */
};

/* Maps [va, va+length) to [pa, pa+length) with pages of page_size (4K or
 * 2M). Nothing is changed unless the whole range is free; if a table
 * allocation fails half-way, what was mapped is undone. */
int paging_map(uint64_t pml4_phys, uint64_t va, uint64_t pa, uint64_t length,
               uint64_t flags, uint64_t page_size);

/* Unmaps [va, va+length); every page in it must be mapped and lie wholly
 * inside it. Flushes the TLB when pml4_phys is the current address space.
 * Page-table pages are kept. */
int paging_unmap(uint64_t pml4_phys, uint64_t va, uint64_t length);

/* Looks up va; on success gives the physical address and the leaf flags. */
bool paging_translate(uint64_t pml4_phys, uint64_t va, uint64_t *pa, uint64_t *flags);

bool va_is_canonical(uint64_t va);

/* Frees every page-table page of the lower (user) half of an address
 * space, not the leaf pages they point to; returns how many. */
uint64_t paging_free_user_tables(uint64_t pml4_phys);

#endif
