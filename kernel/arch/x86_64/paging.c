/*
 * paging.c - walks and edits 4-level page tables. See paging.h.
 * Validation happens before any change, so callers never see a half-made
 * mapping except after an out-of-memory rollback, which restores the
 * previous state (freshly allocated, empty tables may remain).
 */
#include "arch/x86_64/paging.h"
#include "arch/x86_64/cpu.h"
#include "mm/physmem.h"

#define ENTRIES 512

enum { LEVEL_PT = 1, LEVEL_PD = 2, LEVEL_PDPT = 3, LEVEL_PML4 = 4 };

static unsigned index_at(uint64_t va, int level)
{
    return (va >> (12 + 9 * (level - 1))) & (ENTRIES - 1);
}

static uint64_t *table_at(uint64_t phys)
{
    return phys_to_virt(phys & PTE_ADDRESS_MASK);
}

bool va_is_canonical(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/*
 * Returns the entry for va at `level` (1 = PT entry, 2 = PD entry), or
 * NULL if a table on the way is missing. If `create`, missing tables are
 * allocated (NULL then means out of memory). Stops early at a large page:
 * *hit_large is set and the PD entry is returned.
 */
static uint64_t *walk(uint64_t pml4_phys, uint64_t va, int level, bool create, bool *hit_large)
{
    uint64_t *table = table_at(pml4_phys);
    *hit_large = false;
    for (int l = LEVEL_PML4; l > level; l--) {
        uint64_t *entry = &table[index_at(va, l)];
        if (*entry & PTE_PRESENT) {
            if (l == LEVEL_PD && (*entry & PTE_LARGE)) {
                *hit_large = true;
                return entry;
            }
        } else {
            if (!create)
                return NULL;
            uint64_t frame = physmem_alloc_zeroed();
            if (!frame)
                return NULL;
            /* Intermediate entries are permissive; leaves decide access. */
            *entry = frame | PTE_PRESENT | PTE_WRITABLE | ((va < (1ull << 47)) ? PTE_USER : 0);
        }
        table = table_at(*entry);
    }
    return &table[index_at(va, level)];
}

static bool range_is_free(uint64_t pml4_phys, uint64_t va, uint64_t length, uint64_t page_size)
{
    for (uint64_t off = 0; off < length; off += page_size) {
        bool large;
        int level = page_size == PAGE_SIZE_2M ? LEVEL_PD : LEVEL_PT;
        uint64_t *entry = walk(pml4_phys, va + off, level, false, &large);
        if (!entry)
            continue;
        if (large || (*entry & PTE_PRESENT))
            return false;   /* a page, or (for 2M) a page table, is there */
    }
    return true;
}

static void flush_if_current(uint64_t pml4_phys, uint64_t va)
{
    if ((read_cr3() & PTE_ADDRESS_MASK) == pml4_phys)
        invlpg(va);
}

int paging_map(uint64_t pml4_phys, uint64_t va, uint64_t pa, uint64_t length,
               uint64_t flags, uint64_t page_size)
{
    if (page_size != PAGE_SIZE_4K && page_size != PAGE_SIZE_2M)
        return PAGING_ERR_INVALID;
    if (length == 0 || (va | pa | length) & (page_size - 1) || (flags & ~PAGING_MAP_FLAGS))
        return PAGING_ERR_INVALID;
    if (va + length < va || !va_is_canonical(va) || !va_is_canonical(va + length - 1) ||
        ((va ^ (va + length - 1)) >> 47))
        return PAGING_ERR_INVALID;   /* must not wrap or cross the canonical hole */
    if (pa + length < pa || ((pa + length - 1) & ~PTE_ADDRESS_MASK & ~(PAGE_SIZE_4K - 1)))
        return PAGING_ERR_INVALID;
    if (!range_is_free(pml4_phys, va, length, page_size))
        return PAGING_ERR_EXISTS;

    int level = page_size == PAGE_SIZE_2M ? LEVEL_PD : LEVEL_PT;
    uint64_t leaf_flags = flags | PTE_PRESENT | (level == LEVEL_PD ? PTE_LARGE : 0);
    for (uint64_t off = 0; off < length; off += page_size) {
        bool large;
        uint64_t *entry = walk(pml4_phys, va + off, level, true, &large);
        if (!entry) {
            if (off)
                paging_unmap(pml4_phys, va, off);
            return PAGING_ERR_NO_MEMORY;
        }
        *entry = (pa + off) | leaf_flags;
        flush_if_current(pml4_phys, va + off);
    }
    return PAGING_OK;
}

/* The present leaf mapping va, its page size, or NULL. */
static uint64_t *find_leaf(uint64_t pml4_phys, uint64_t va, uint64_t *page_size)
{
    bool large;
    uint64_t *entry = walk(pml4_phys, va, LEVEL_PT, false, &large);
    if (!entry || !(*entry & PTE_PRESENT))
        return NULL;
    *page_size = large ? PAGE_SIZE_2M : PAGE_SIZE_4K;
    return entry;
}

int paging_unmap(uint64_t pml4_phys, uint64_t va, uint64_t length)
{
    if (length == 0 || (va | length) & (PAGE_SIZE_4K - 1) || va + length < va)
        return PAGING_ERR_INVALID;
    uint64_t page_size;
    for (uint64_t off = 0; off < length; off += page_size) {
        if (!find_leaf(pml4_phys, va + off, &page_size))
            return PAGING_ERR_NOT_MAPPED;
        if ((va + off) & (page_size - 1) || length - off < page_size)
            return PAGING_ERR_SPLIT;
    }
    for (uint64_t off = 0; off < length; off += page_size) {
        uint64_t *entry = find_leaf(pml4_phys, va + off, &page_size);
        *entry = 0;
        flush_if_current(pml4_phys, va + off);
    }
    return PAGING_OK;
}

bool paging_translate(uint64_t pml4_phys, uint64_t va, uint64_t *pa, uint64_t *flags)
{
    uint64_t page_size;
    if (!va_is_canonical(va))
        return false;
    uint64_t *entry = find_leaf(pml4_phys, va, &page_size);
    if (!entry)
        return false;
    uint64_t base = *entry & (page_size == PAGE_SIZE_2M ? PTE_LARGE_ADDRESS_MASK : PTE_ADDRESS_MASK);
    *pa = base | (va & (page_size - 1));
    *flags = *entry & ~(page_size == PAGE_SIZE_2M ? PTE_LARGE_ADDRESS_MASK : PTE_ADDRESS_MASK);
    return true;
}

static uint64_t free_tables_below(uint64_t table_phys, int level)
{
    uint64_t freed = 0;
    uint64_t *table = table_at(table_phys);
    for (unsigned i = 0; i < ENTRIES; i++) {
        uint64_t e = table[i];
        if (!(e & PTE_PRESENT) || (level == LEVEL_PD && (e & PTE_LARGE)) || level == LEVEL_PT)
            continue;
        freed += free_tables_below(e & PTE_ADDRESS_MASK, level - 1);
        physmem_free(e & PTE_ADDRESS_MASK);
        freed++;
        table[i] = 0;
    }
    return freed;
}

uint64_t paging_free_user_tables(uint64_t pml4_phys)
{
    uint64_t freed = 0;
    uint64_t *pml4 = table_at(pml4_phys);
    for (unsigned i = 0; i < ENTRIES / 2; i++) {
        uint64_t e = pml4[i];
        if (!(e & PTE_PRESENT))
            continue;
        freed += free_tables_below(e & PTE_ADDRESS_MASK, LEVEL_PDPT);
        physmem_free(e & PTE_ADDRESS_MASK);
        freed++;
        pml4[i] = 0;
    }
    return freed;
}
