/*
 * slpt.h - Intel VT-d second-level I/O page tables (legacy mode): the entry
 * format (VT-d spec 9.8) and a table tree that maps IOVA pages of 4 KiB or
 * 2 MiB to physical memory.
 *
 * A table is 4 KiB = 512 entries; level 1 holds 4 KiB leaves, level 2 may
 * hold 2 MiB leaves (PS), the root is level `levels` (3, 4 or 5).
 * Invariants: every non-leaf entry has R|W set and points to a table of the
 * tree; SNP (bit 11) and TM (bit 62) are always 0; every entry written (and
 * every new table, whole) is passed to mem->flush after the write, so the
 * memory the hardware walks equals the CPU's view when the walk is not
 * coherent (ECAP.C=0). table_count counts the tables allocated and not yet
 * freed, root included.
 *
 * Pure code: memory comes through struct slpt_memory callbacks, so it runs
 * both in the kernel and in host unit tests. The caller invalidates the
 * IOTLB after changes; tables are only freed by slpt_destroy.
 */
#ifndef WARDEN_IOMMU_SLPT_H
#define WARDEN_IOMMU_SLPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLPT_PAGE_4K 0x1000ull
#define SLPT_PAGE_2M 0x200000ull
#define SLPT_READ  1u   /* device may read the memory (DMA to the device) */
#define SLPT_WRITE 2u   /* device may write it */

#define SLPT_MIN_LEVELS 3
#define SLPT_MAX_LEVELS 5
#define SLPT_TABLE_BYTES 0x1000ull
#define SLPT_ENTRIES 512u
#define SLPT_INDEX_BITS 9
#define SLPT_PAGE_SHIFT 12

/* Second-level paging entry bits (VT-d spec 9.8). */
#define SLPTE_READ      (1ull << 0)
#define SLPTE_WRITE     (1ull << 1)
#define SLPTE_SUPERPAGE (1ull << 7)     /* PS: a leaf above level 1 */
#define SLPTE_SNOOP     (1ull << 11)    /* SNP: kept 0 */
#define SLPTE_TRANSIENT (1ull << 62)    /* TM: kept 0 */
#define SLPTE_ADDRESS   0x000FFFFFFFFFF000ull   /* bits 12..51 */

/* R=W=0 is "not present": the hardware ignores the entry's other bits. */
static inline bool slpte_present(uint64_t e) { return (e & (SLPTE_READ | SLPTE_WRITE)) != 0; }
static inline bool slpte_superpage(uint64_t e) { return (e & SLPTE_SUPERPAGE) != 0; }
static inline uint64_t slpte_address(uint64_t e) { return e & SLPTE_ADDRESS; }
static inline unsigned slpte_perm(uint64_t e)
{
    return ((e & SLPTE_READ) ? SLPT_READ : 0) | ((e & SLPTE_WRITE) ? SLPT_WRITE : 0);
}
/* A non-leaf entry: R and W both set, since permissions are ANDed over the levels. */
static inline uint64_t slpte_make_table(uint64_t table_phys)
{
    return (table_phys & SLPTE_ADDRESS) | SLPTE_READ | SLPTE_WRITE;
}
static inline uint64_t slpte_make_leaf(uint64_t phys, unsigned perm, bool superpage)
{
    return (phys & SLPTE_ADDRESS) | ((perm & SLPT_READ) ? SLPTE_READ : 0) |
           ((perm & SLPT_WRITE) ? SLPTE_WRITE : 0) | (superpage ? SLPTE_SUPERPAGE : 0);
}

/* Lowest IOVA bit an entry at `level` translates (level 1: 12, level 2: 21, ...). */
static inline unsigned slpt_level_shift(unsigned level) { return SLPT_PAGE_SHIFT + SLPT_INDEX_BITS * (level - 1); }
/* Index of iova's entry in its table at `level`: IOVA bits [shift, shift + 8]. */
static inline unsigned slpt_index(uint64_t iova, unsigned level)
{
    return (unsigned)(iova >> slpt_level_shift(level)) & (SLPT_ENTRIES - 1);
}

struct slpt_memory {
    uint64_t (*alloc_table)(void *ctx);               /* a zeroed 4 KiB page's physical address, or 0 */
    void (*free_table)(void *ctx, uint64_t phys);
    uint64_t *(*table)(void *ctx, uint64_t phys);     /* CPU pointer to a table */
    void (*flush)(void *ctx, const void *p, size_t bytes);   /* may be NULL (coherent walks) */
    void *ctx;
};

struct slpt {
    uint64_t root;                  /* physical address of the top table */
    unsigned levels;                /* 3, 4 or 5 */
    uint64_t table_count;           /* tables allocated, root included */
    const struct slpt_memory *mem;
    uint64_t retired;               /* empty level-1 tables a 2 MiB leaf replaced, chained
                                       through their entry 0 (R=W=0); freed by slpt_destroy */
};

/* Allocates the root; returns 0, or -WD_E_NO_MEMORY, or -WD_E_INVALID_ARG for bad levels. */
int slpt_init(struct slpt *t, unsigned levels, const struct slpt_memory *mem);

/* IOVA bits the table covers: 12 + 9 * levels. */
unsigned slpt_address_bits(const struct slpt *t);

/* Exactly the tables slpt_map_page calls for the pages of [iova, iova+len) would add
 * (iova and len page aligned; the part beyond slpt_address_bits is ignored): 4 KiB pages
 * everywhere, except each 2 MiB-aligned block lying wholly inside the range for which
 * use_2m(ctx, block_iova) returns true, which is one 2 MiB page. use_2m may be NULL (4 KiB
 * pages only). Pages that would fail with -WD_E_EXISTS add nothing. Used to charge a pool
 * before mutating. */
uint64_t slpt_tables_needed(const struct slpt *t, uint64_t iova, uint64_t len,
                            bool (*use_2m)(void *ctx, uint64_t iova), void *ctx);

/* Maps one page (page_size SLPT_PAGE_4K or SLPT_PAGE_2M, iova and phys aligned to it) with
 * perm (SLPT_READ|SLPT_WRITE, non-empty). Returns 0; -WD_E_EXISTS if any part of the page is
 * already mapped (a 4K page under an existing 2M leaf, a 2M page over a table that maps
 * anything, or an identical page); -WD_E_NO_MEMORY if a table could not be allocated (then
 * nothing observable changed except possibly empty intermediate tables, which stay and are
 * counted in table_count); -WD_E_INVALID_ARG for bad size/alignment/perm, a phys beyond 52
 * bits, or an iova beyond slpt_address_bits.
 * A 2M page over an empty level-1 table (left by unmaps) replaces it; the table is kept on
 * t->retired until slpt_destroy, since the IOMMU may still hold a cached pointer to it until
 * the caller's invalidation. */
int slpt_map_page(struct slpt *t, uint64_t iova, uint64_t phys, uint64_t page_size, unsigned perm);

/* Maps count 4 KiB pages of physically contiguous memory [phys, ...) at iova:
 * one walk and one cache write-back per level-1 table. Same errors as
 * slpt_map_page; on failure *done pages are mapped (the caller unmaps them). */
int slpt_map_run(struct slpt *t, uint64_t iova, uint64_t phys, uint64_t count, unsigned perm, uint64_t *done);
/* Clears every leaf in [iova, iova+len) (2 MiB leaves only when wholly
 * inside); returns how many. Tables stay, as with slpt_unmap_page. */
uint64_t slpt_unmap_range(struct slpt *t, uint64_t iova, uint64_t len);
/* Clears the leaf of exactly that page; returns its physical address, or 0 if no leaf of
 * that size is there (so a page at physical 0 cannot be told from none). Intermediate tables are kept (freeing them safely needs an IOTLB
 * invalidation first, which is the caller's business); slpt_destroy frees them. */
uint64_t slpt_unmap_page(struct slpt *t, uint64_t iova, uint64_t page_size);

/* Translates iova: returns true and fills phys (of iova's byte), perm and page_size of the
 * leaf, or false if not mapped. Any out pointer may be NULL. */
bool slpt_lookup(const struct slpt *t, uint64_t iova, uint64_t *phys, unsigned *perm, uint64_t *page_size);

/* Frees every table including the root (and the retired ones); table_count becomes 0. */
void slpt_destroy(struct slpt *t);

#endif
