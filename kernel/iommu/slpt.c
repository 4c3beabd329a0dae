/*
 * slpt.c - the VT-d second-level page table tree: walks it, maps and unmaps
 * 4 KiB / 2 MiB leaves, counts the tables a range would add, frees it. See
 * slpt.h for the entry format and invariants. Every entry write goes through
 * write_entry (write, then flush that entry); every new table is flushed
 * whole before an entry links it, so a non-coherent walk never sees stale
 * memory.
 */
#include "iommu/slpt.h"

#include <warden/errors.h>

typedef bool (*use_2m_fn)(void *ctx, uint64_t iova);

static uint64_t *table_of(const struct slpt *t, uint64_t phys)
{
    return t->mem->table(t->mem->ctx, phys);
}

static void flush(const struct slpt *t, const void *p, size_t bytes)
{
    if (t->mem->flush)
        t->mem->flush(t->mem->ctx, p, bytes);
}

static void write_entry(const struct slpt *t, uint64_t *e, uint64_t value)
{
    *e = value;
    flush(t, e, sizeof *e);
}

/* A new zeroed table, written back whole; 0 if out of memory. */
static uint64_t new_table(struct slpt *t)
{
    uint64_t phys = t->mem->alloc_table(t->mem->ctx);
    if (phys) {
        t->table_count++;
        flush(t, table_of(t, phys), SLPT_TABLE_BYTES);
    }
    return phys;
}

static void free_table(struct slpt *t, uint64_t phys)
{
    t->mem->free_table(t->mem->ctx, phys);
    t->table_count--;
}

static bool table_maps_nothing(const uint64_t *table)
{
    for (unsigned i = 0; i < SLPT_ENTRIES; i++)
        if (slpte_present(table[i]))
            return false;
    return true;
}

/* Keeps a table no entry links any more until slpt_destroy (the IOMMU may hold a
 * cached pointer to it until the next invalidation). Entry 0 chains the list; its
 * R=W=0, so a stale walk still finds nothing mapped. */
static void retire_table(struct slpt *t, uint64_t phys)
{
    write_entry(t, &table_of(t, phys)[0], t->retired & SLPTE_ADDRESS);
    t->retired = phys;
}

/* The level whose entries are leaves of page_size; 0 for an unsupported size. */
static unsigned leaf_level(uint64_t page_size)
{
    return page_size == SLPT_PAGE_4K ? 1 : page_size == SLPT_PAGE_2M ? 2 : 0;
}

static bool iova_fits(const struct slpt *t, uint64_t iova)
{
    return (iova >> slpt_address_bits(t)) == 0;
}

/* iova's entry in its table at `level`, following table entries down from the root;
 * NULL if a level above has no entry or a larger leaf. Allocates nothing. */
static uint64_t *find_entry(const struct slpt *t, uint64_t iova, unsigned level)
{
    uint64_t *table = table_of(t, t->root);
    for (unsigned l = t->levels; l > level; l--) {
        uint64_t e = table[slpt_index(iova, l)];
        if (!slpte_present(e) || slpte_superpage(e))
            return NULL;
        table = table_of(t, slpte_address(e));
    }
    return &table[slpt_index(iova, level)];
}

int slpt_init(struct slpt *t, unsigned levels, const struct slpt_memory *mem)
{
    *t = (struct slpt){ .levels = levels, .mem = mem };
    if (levels < SLPT_MIN_LEVELS || levels > SLPT_MAX_LEVELS)
        return -WD_E_INVALID_ARG;
    t->root = new_table(t);
    return t->root ? 0 : -WD_E_NO_MEMORY;
}

unsigned slpt_address_bits(const struct slpt *t)
{
    return SLPT_PAGE_SHIFT + SLPT_INDEX_BITS * t->levels;
}

/* Tables missing below the table at `level` that starts at IOVA base (table_phys 0: the
 * table itself is missing, so is everything under it) for the pages of [start, end). */
static uint64_t count_missing(const struct slpt *t, uint64_t table_phys, unsigned level, uint64_t base,
                              uint64_t start, uint64_t end, use_2m_fn use_2m, void *ctx)
{
    const uint64_t *table = table_phys ? table_of(t, table_phys) : NULL;
    uint64_t span = 1ull << slpt_level_shift(level);   /* IOVA bytes one entry covers */
    uint64_t n = 0;
    for (uint64_t i = start > base ? (start - base) / span : 0; i < SLPT_ENTRIES && base + i * span < end; i++) {
        uint64_t entry_iova = base + i * span;
        uint64_t e = table ? table[i] : 0;
        if (slpte_present(e) && slpte_superpage(e))
            continue;       /* a leaf already: mapping under it fails, adding nothing */
        if (level == 2) {
            bool whole_block = entry_iova >= start && entry_iova + span <= end;
            if (whole_block && use_2m && use_2m(ctx, entry_iova))
                continue;   /* one 2 MiB leaf in this entry */
            n += !slpte_present(e);
        } else {
            n += !slpte_present(e);
            n += count_missing(t, slpte_present(e) ? slpte_address(e) : 0, level - 1, entry_iova,
                               start, end, use_2m, ctx);
        }
    }
    return n;
}

uint64_t slpt_tables_needed(const struct slpt *t, uint64_t iova, uint64_t len, use_2m_fn use_2m, void *ctx)
{
    uint64_t limit = 1ull << slpt_address_bits(t);
    if (len == 0 || iova >= limit)
        return 0;
    uint64_t end = len > limit - iova ? limit : iova + len;
    return count_missing(t, t->root, t->levels, 0, iova, end, use_2m, ctx);
}

/* The table holding iova's entries at level `leaf`, allocating the tables
 * above it; -WD_E_EXISTS if a larger leaf covers iova. */
static int table_for(struct slpt *t, uint64_t iova, unsigned leaf, uint64_t **out)
{
    uint64_t *table = table_of(t, t->root);
    for (unsigned level = t->levels; level > leaf; level--) {
        uint64_t *e = &table[slpt_index(iova, level)];
        if (!slpte_present(*e)) {
            uint64_t next = new_table(t);
            if (!next)
                return -WD_E_NO_MEMORY;
            write_entry(t, e, slpte_make_table(next));
        } else if (slpte_superpage(*e)) {
            return -WD_E_EXISTS;    /* a larger leaf covers the page */
        }
        table = table_of(t, slpte_address(*e));
    }
    *out = table;
    return 0;
}

static bool valid_perm(unsigned perm)
{
    return perm != 0 && !(perm & ~(SLPT_READ | SLPT_WRITE));
}

int slpt_map_page(struct slpt *t, uint64_t iova, uint64_t phys, uint64_t page_size, unsigned perm)
{
    unsigned leaf = leaf_level(page_size);
    if (!leaf || ((iova | phys) & (page_size - 1)) || (phys & ~SLPTE_ADDRESS) || !iova_fits(t, iova) ||
        !valid_perm(perm))
        return -WD_E_INVALID_ARG;
    uint64_t *table;
    int r = table_for(t, iova, leaf, &table);
    if (r)
        return r;
    uint64_t *e = &table[slpt_index(iova, leaf)];
    uint64_t old = *e;
    bool replaces_empty_table = leaf > 1 && slpte_present(old) && !slpte_superpage(old) &&
                                table_maps_nothing(table_of(t, slpte_address(old)));
    if (slpte_present(old) && !replaces_empty_table)
        return -WD_E_EXISTS;
    write_entry(t, e, slpte_make_leaf(phys, perm, leaf > 1));
    if (replaces_empty_table)
        retire_table(t, slpte_address(old));
    return 0;
}

int slpt_map_run(struct slpt *t, uint64_t iova, uint64_t phys, uint64_t count, unsigned perm, uint64_t *done)
{
    *done = 0;
    uint64_t bytes = count << SLPT_PAGE_SHIFT;
    if (count == 0 || ((iova | phys) & (SLPT_PAGE_4K - 1)) || (((phys + bytes - 1) & ~(SLPT_PAGE_4K - 1)) & ~SLPTE_ADDRESS) ||
        iova + bytes < iova || !iova_fits(t, iova + bytes - 1) || !valid_perm(perm))
        return -WD_E_INVALID_ARG;
    while (*done < count) {
        uint64_t at = iova + (*done << SLPT_PAGE_SHIFT);
        uint64_t *table;
        int r = table_for(t, at, 1, &table);
        if (r)
            return r;
        unsigned first = slpt_index(at, 1);
        uint64_t n = count - *done < SLPT_ENTRIES - first ? count - *done : SLPT_ENTRIES - first;
        for (unsigned i = 0; i < n; i++)
            if (slpte_present(table[first + i]))
                return -WD_E_EXISTS;
        uint64_t pa = phys + (*done << SLPT_PAGE_SHIFT);
        for (unsigned i = 0; i < n; i++)
            table[first + i] = slpte_make_leaf(pa + ((uint64_t)i << SLPT_PAGE_SHIFT), perm, false);
        flush(t, &table[first], n * sizeof(uint64_t));
        *done += n;
    }
    return 0;
}

uint64_t slpt_unmap_range(struct slpt *t, uint64_t iova, uint64_t len)
{
    uint64_t cleared = 0, end = iova + len;
    if ((iova | len) & (SLPT_PAGE_4K - 1) || end < iova || len == 0 || !iova_fits(t, end - 1))
        return 0;
    while (iova < end) {
        uint64_t next_2m = (iova | (SLPT_PAGE_2M - 1)) + 1;
        uint64_t *e2 = find_entry(t, iova, 2);
        if (e2 && slpte_present(*e2) && slpte_superpage(*e2)) {
            if (iova % SLPT_PAGE_2M == 0 && next_2m <= end) {
                write_entry(t, e2, 0);
                cleared++;
            }
        } else if (e2 && slpte_present(*e2)) {
            uint64_t *table = table_of(t, slpte_address(*e2));
            unsigned first = slpt_index(iova, 1);
            uint64_t stop = next_2m < end ? next_2m : end;
            unsigned n = (unsigned)((stop - iova) >> SLPT_PAGE_SHIFT);
            for (unsigned i = 0; i < n; i++) {
                if (slpte_present(table[first + i])) {
                    table[first + i] = 0;
                    cleared++;
                }
            }
            flush(t, &table[first], n * sizeof(uint64_t));
        }
        iova = next_2m;
    }
    return cleared;
}

uint64_t slpt_unmap_page(struct slpt *t, uint64_t iova, uint64_t page_size)
{
    unsigned leaf = leaf_level(page_size);
    if (!leaf || (iova & (page_size - 1)) || !iova_fits(t, iova))
        return 0;
    uint64_t *e = find_entry(t, iova, leaf);
    if (!e || !slpte_present(*e) || slpte_superpage(*e) != (leaf > 1))
        return 0;
    uint64_t phys = slpte_address(*e);
    write_entry(t, e, 0);
    return phys;
}

bool slpt_lookup(const struct slpt *t, uint64_t iova, uint64_t *phys, unsigned *perm, uint64_t *page_size)
{
    if (!iova_fits(t, iova))
        return false;
    const uint64_t *table = table_of(t, t->root);
    for (unsigned level = t->levels;; level--) {
        uint64_t e = table[slpt_index(iova, level)];
        if (!slpte_present(e))
            return false;
        if (level == 1 || slpte_superpage(e)) {
            uint64_t size = 1ull << slpt_level_shift(level);
            if (phys)
                *phys = slpte_address(e) + (iova & (size - 1));
            if (perm)
                *perm = slpte_perm(e);
            if (page_size)
                *page_size = size;
            return true;
        }
        table = table_of(t, slpte_address(e));
    }
}

static void free_tree(struct slpt *t, uint64_t phys, unsigned level)
{
    if (level > 1) {
        const uint64_t *table = table_of(t, phys);
        for (unsigned i = 0; i < SLPT_ENTRIES; i++)
            if (slpte_present(table[i]) && !slpte_superpage(table[i]))
                free_tree(t, slpte_address(table[i]), level - 1);
    }
    free_table(t, phys);
}

void slpt_destroy(struct slpt *t)
{
    if (t->root)
        free_tree(t, t->root, t->levels);
    t->root = 0;
    while (t->retired) {
        uint64_t next = slpte_address(table_of(t, t->retired)[0]);
        free_table(t, t->retired);
        t->retired = next;
    }
}
