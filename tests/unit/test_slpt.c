/*
 * test_slpt.c - VT-d second-level page tables on a fake physical memory:
 * index math and raw entries on 3 and 4 levels, permissions, 2 MiB leaves,
 * overlap refusal, unmap, bad arguments, allocation failure, the exactness
 * of slpt_tables_needed, freeing, and write-back of every modified entry.
 *
 * The fake memory keeps two copies of each page: the CPU's (what slpt
 * writes) and the written-back one (what a non-coherent IOMMU would read,
 * stale garbage until flushed). fake_coherent() says they agree.
 */
#include "unit.h"
#include "iommu/slpt.h"

#include <string.h>
#include <warden/errors.h>

#define FAKE_PAGES 64
#define FAKE_BASE 0x100000ull
#define STALE 0xA5A5A5A5A5A5A5A5ull
#define POISON 0xDDDDDDDDDDDDDDDDull
#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)
#define RW (SLPT_READ | SLPT_WRITE)
#define NON_LEAF_BITS (SLPTE_READ | SLPTE_WRITE)

static struct fake_memory {
    _Alignas(4096) uint64_t page[FAKE_PAGES][SLPT_ENTRIES];    /* the CPU's view */
    uint64_t written_back[FAKE_PAGES][SLPT_ENTRIES];            /* the IOMMU's view */
    bool in_use[FAKE_PAGES];
    int allocs_left;                /* < 0: unlimited */
    unsigned allocs, frees, flushes;
} fm;

static void fake_reset(void)
{
    memset(&fm, 0, sizeof fm);
    fm.allocs_left = -1;
}

static unsigned fake_index(uint64_t phys)
{
    unsigned i = (unsigned)((phys - FAKE_BASE) / SLPT_TABLE_BYTES);
    if (!CHECK(phys >= FAKE_BASE && phys % SLPT_TABLE_BYTES == 0 && i < FAKE_PAGES && fm.in_use[i]))
        return 0;
    return i;
}

static uint64_t fake_alloc(void *ctx)
{
    struct fake_memory *m = ctx;
    if (m->allocs_left == 0)
        return 0;
    for (unsigned i = 0; i < FAKE_PAGES; i++) {
        if (m->in_use[i])
            continue;
        if (m->allocs_left > 0)
            m->allocs_left--;
        m->in_use[i] = true;
        memset(m->page[i], 0, sizeof m->page[i]);
        for (unsigned k = 0; k < SLPT_ENTRIES; k++)
            m->written_back[i][k] = STALE;
        m->allocs++;
        return FAKE_BASE + i * SLPT_TABLE_BYTES;
    }
    CHECK(!"fake memory exhausted");
    return 0;
}

static void fake_free(void *ctx, uint64_t phys)
{
    struct fake_memory *m = ctx;
    unsigned i = fake_index(phys);
    m->in_use[i] = false;
    for (unsigned k = 0; k < SLPT_ENTRIES; k++)
        m->page[i][k] = POISON;     /* a later read through a freed table shows */
    m->frees++;
}

static uint64_t *fake_table(void *ctx, uint64_t phys)
{
    struct fake_memory *m = ctx;
    return m->page[fake_index(phys)];
}

/* Copies whole entries of one in-use page to its written-back copy. */
static void fake_flush(void *ctx, const void *p, size_t bytes)
{
    struct fake_memory *m = ctx;
    uintptr_t offset = (uintptr_t)p - (uintptr_t)m->page;
    unsigned i = (unsigned)(offset / SLPT_TABLE_BYTES);
    unsigned first = (unsigned)(offset % SLPT_TABLE_BYTES / sizeof(uint64_t));
    if (!CHECK((uintptr_t)p >= (uintptr_t)m->page && i < FAKE_PAGES && m->in_use[i]) ||
        !CHECK(offset % sizeof(uint64_t) == 0 && bytes % sizeof(uint64_t) == 0 && bytes > 0) ||
        !CHECK(first + bytes / sizeof(uint64_t) <= SLPT_ENTRIES))
        return;
    memcpy(&m->written_back[i][first], &m->page[i][first], bytes);
    m->flushes++;
}

static const struct slpt_memory mem = { fake_alloc, fake_free, fake_table, fake_flush, &fm };
static const struct slpt_memory mem_coherent = { fake_alloc, fake_free, fake_table, NULL, &fm };

/* Every in-use page reads the same to the CPU and to a non-coherent IOMMU. */
static bool fake_coherent(void)
{
    for (unsigned i = 0; i < FAKE_PAGES; i++)
        if (fm.in_use[i] && memcmp(fm.page[i], fm.written_back[i], sizeof fm.page[i]) != 0)
            return false;
    return true;
}

static unsigned fake_in_use(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < FAKE_PAGES; i++)
        n += fm.in_use[i];
    return n;
}

static uint64_t raw(uint64_t table_phys, unsigned index)
{
    return fm.page[fake_index(table_phys)][index];
}

static unsigned nonzero_entries(uint64_t table_phys)
{
    unsigned n = 0;
    for (unsigned k = 0; k < SLPT_ENTRIES; k++)
        n += raw(table_phys, k) != 0;
    return n;
}

/* A non-leaf entry: exactly R|W besides an address, which is a live table. */
static uint64_t next_table(uint64_t entry)
{
    CHECK_EQ(entry & ~SLPTE_ADDRESS, NON_LEAF_BITS);
    fake_index(slpte_address(entry));
    return slpte_address(entry);
}

static void new_tree(struct slpt *t, unsigned levels)
{
    fake_reset();
    CHECK_EQ(slpt_init(t, levels, &mem), 0);
}

/* Destroys t and checks that exactly every allocated table was freed. */
static void end_tree(struct slpt *t)
{
    CHECK(fake_coherent());
    slpt_destroy(t);
    CHECK_EQ(fm.allocs, fm.frees);
    CHECK_EQ(fake_in_use(), 0);
    CHECK_EQ(t->table_count, 0);
}

static bool even_blocks(void *ctx, uint64_t iova)
{
    (void)ctx;
    CHECK_EQ(iova % SLPT_PAGE_2M, 0);
    return ((iova / SLPT_PAGE_2M) & 1) == 0;
}

static bool always(void *ctx, uint64_t iova)
{
    (void)ctx, (void)iova;
    return true;
}

/* Maps [iova, iova+len) the way slpt_tables_needed assumes, phys = iova + 1 GiB (mod 2^52). */
static void map_range(struct slpt *t, uint64_t iova, uint64_t len, bool (*use_2m)(void *, uint64_t))
{
    uint64_t end = iova + len;
    for (uint64_t a = iova; a < end;) {
        bool big = a % SLPT_PAGE_2M == 0 && end - a >= SLPT_PAGE_2M && use_2m && use_2m(NULL, a);
        uint64_t size = big ? SLPT_PAGE_2M : SLPT_PAGE_4K;
        if (!CHECK_EQ(slpt_map_page(t, a, (a + GIB) & ((1ull << 52) - 1), size, RW), 0))
            return;
        a += size;
    }
}

TEST(slpt_init_checks_levels_and_reports_width)
{
    struct slpt t;
    fake_reset();
    CHECK_EQ(slpt_init(&t, 2, &mem), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_init(&t, 6, &mem), -WD_E_INVALID_ARG);
    CHECK_EQ(fm.allocs, 0);
    for (unsigned levels = 3; levels <= 5; levels++) {
        new_tree(&t, levels);
        CHECK_EQ(t.table_count, 1);
        CHECK_EQ(t.levels, levels);
        CHECK_EQ(slpt_address_bits(&t), 12 + 9 * levels);
        CHECK_EQ(nonzero_entries(t.root), 0);
        end_tree(&t);
    }
    fake_reset();
    fm.allocs_left = 0;
    CHECK_EQ(slpt_init(&t, 4, &mem), -WD_E_NO_MEMORY);
    CHECK_EQ(t.table_count, 0);
    slpt_destroy(&t);       /* harmless on a failed init */
    CHECK_EQ(fm.frees, 0);
}

TEST(slpt_three_levels_top_iova_index_math_and_raw_entries)
{
    struct slpt t;
    new_tree(&t, 3);
    uint64_t iova = 0x7FFFFFF000ull, phys = 0x12345000ull;
    CHECK_EQ(slpt_map_page(&t, iova, phys, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(t.table_count, 3);
    uint64_t l2 = next_table(raw(t.root, 511));
    uint64_t l1 = next_table(raw(l2, 511));
    CHECK_EQ(raw(l1, 511), phys | SLPTE_READ | SLPTE_WRITE);
    CHECK_EQ(nonzero_entries(t.root), 1);
    CHECK_EQ(nonzero_entries(l2), 1);
    CHECK_EQ(nonzero_entries(l1), 1);
    uint64_t got;
    CHECK(slpt_lookup(&t, iova + 0xFFF, &got, NULL, NULL));
    CHECK_EQ(got, phys + 0xFFF);
    end_tree(&t);
}

TEST(slpt_four_levels_index_math_and_raw_entries)
{
    struct slpt t;
    new_tree(&t, 4);
    CHECK_EQ(slpt_map_page(&t, 0xFFFFFFFFF000ull, 0xABCDE000ull, SLPT_PAGE_4K, RW), 0);
    uint64_t l3 = next_table(raw(t.root, 511));
    uint64_t l2 = next_table(raw(l3, 511));
    uint64_t l1 = next_table(raw(l2, 511));
    CHECK_EQ(raw(l1, 511), 0xABCDE000ull | SLPTE_READ | SLPTE_WRITE);

    /* Distinct indices per level: 3, 5, 7, 9. */
    uint64_t iova = (3ull << 39) | (5ull << 30) | (7ull << 21) | (9ull << 12);
    uint64_t phys = 0xFEDCBA9000ull;
    CHECK_EQ(slpt_map_page(&t, iova, phys, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(t.table_count, 7);
    l3 = next_table(raw(t.root, 3));
    l2 = next_table(raw(l3, 5));
    l1 = next_table(raw(l2, 7));
    uint64_t leaf = raw(l1, 9);
    CHECK_EQ(leaf, phys | SLPTE_READ | SLPTE_WRITE);
    CHECK_EQ(leaf & (SLPTE_SUPERPAGE | SLPTE_SNOOP | SLPTE_TRANSIENT), 0);
    CHECK_EQ(nonzero_entries(t.root), 2);
    CHECK_EQ(nonzero_entries(l1), 1);
    end_tree(&t);
}

TEST(slpt_lookup_of_mapped_and_unmapped_addresses)
{
    struct slpt t;
    new_tree(&t, 4);
    CHECK_EQ(slpt_map_page(&t, 0x40000000, 0x80000000, SLPT_PAGE_4K, RW), 0);
    uint64_t phys = 0, size = 0;
    unsigned perm = 0;
    CHECK(slpt_lookup(&t, 0x40000ABC, &phys, &perm, &size));
    CHECK_EQ(phys, 0x80000ABC);
    CHECK_EQ(perm, RW);
    CHECK_EQ(size, SLPT_PAGE_4K);
    CHECK(slpt_lookup(&t, 0x40000000, NULL, NULL, NULL));
    CHECK(!slpt_lookup(&t, 0x40001000, &phys, &perm, &size));     /* same level-1 table */
    CHECK(!slpt_lookup(&t, 0x3FFFF000, &phys, &perm, &size));     /* another level-2 table */
    CHECK(!slpt_lookup(&t, 0x8000000000ull, &phys, &perm, &size));  /* no table at all */
    CHECK(!slpt_lookup(&t, 1ull << 48, &phys, &perm, &size));     /* beyond the width */
    CHECK(!slpt_lookup(&t, 0x40000000 | (1ull << 48), NULL, NULL, NULL));   /* no aliasing */
    end_tree(&t);
}

TEST(slpt_permissions_reach_the_leaf_only)
{
    struct slpt t;
    new_tree(&t, 3);
    CHECK_EQ(slpt_map_page(&t, 0x1000, 0x5000, SLPT_PAGE_4K, SLPT_READ), 0);
    CHECK_EQ(slpt_map_page(&t, 0x2000, 0x6000, SLPT_PAGE_4K, SLPT_WRITE), 0);
    uint64_t l2 = next_table(raw(t.root, 0));
    uint64_t l1 = next_table(raw(l2, 0));
    CHECK_EQ(raw(l1, 1), 0x5000 | SLPTE_READ);
    CHECK_EQ(raw(l1, 2), 0x6000 | SLPTE_WRITE);
    unsigned perm;
    CHECK(slpt_lookup(&t, 0x1000, NULL, &perm, NULL));
    CHECK_EQ(perm, SLPT_READ);
    CHECK(slpt_lookup(&t, 0x2000, NULL, &perm, NULL));
    CHECK_EQ(perm, SLPT_WRITE);
    /* A read-only 2 MiB page: the level-2 leaf has R, not W; the entry above keeps R|W. */
    CHECK_EQ(slpt_map_page(&t, 0x400000, 0x600000, SLPT_PAGE_2M, SLPT_READ), 0);
    CHECK_EQ(raw(l2, 2), 0x600000 | SLPTE_READ | SLPTE_SUPERPAGE);
    next_table(raw(t.root, 0));
    end_tree(&t);
}

TEST(slpt_2m_superpage_is_a_level_2_leaf)
{
    struct slpt t;
    new_tree(&t, 4);
    uint64_t iova = 0x40200000, phys = 0x7F400000;
    CHECK_EQ(slpt_map_page(&t, iova, phys, SLPT_PAGE_2M, RW), 0);
    CHECK_EQ(t.table_count, 3);         /* root, level 3, level 2: no level-1 table */
    uint64_t l3 = next_table(raw(t.root, 0));
    uint64_t l2 = next_table(raw(l3, 1));
    CHECK_EQ(raw(l2, 1), phys | SLPTE_READ | SLPTE_WRITE | SLPTE_SUPERPAGE);
    uint64_t got, size;
    unsigned perm;
    CHECK(slpt_lookup(&t, iova + 0x12345, &got, &perm, &size));
    CHECK_EQ(got, phys + 0x12345);
    CHECK_EQ(size, SLPT_PAGE_2M);
    CHECK_EQ(perm, RW);
    CHECK(slpt_lookup(&t, iova + SLPT_PAGE_2M - 1, &got, NULL, NULL));
    CHECK_EQ(got, phys + SLPT_PAGE_2M - 1);
    CHECK(!slpt_lookup(&t, iova + SLPT_PAGE_2M, NULL, NULL, NULL));
    CHECK(!slpt_lookup(&t, iova - 1, NULL, NULL, NULL));
    end_tree(&t);
}

TEST(slpt_overlapping_maps_are_refused_without_change)
{
    struct slpt t;
    new_tree(&t, 4);
    CHECK_EQ(slpt_map_page(&t, 0x200000, 0x400000, SLPT_PAGE_2M, RW), 0);
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0x9000, SLPT_PAGE_4K, RW), 0);
    uint64_t tables = t.table_count, allocs = fm.allocs;

    CHECK_EQ(slpt_map_page(&t, 0x205000, 0x1000, SLPT_PAGE_4K, RW), -WD_E_EXISTS);    /* under the 2M */
    CHECK_EQ(slpt_map_page(&t, 0x200000, 0x800000, SLPT_PAGE_2M, RW), -WD_E_EXISTS);  /* same 2M */
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0x800000, SLPT_PAGE_2M, RW), -WD_E_EXISTS);  /* over a 4K leaf */
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0x9000, SLPT_PAGE_4K, RW), -WD_E_EXISTS);    /* same 4K */
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0xA000, SLPT_PAGE_4K, SLPT_READ), -WD_E_EXISTS);
    CHECK_EQ(t.table_count, tables);
    CHECK_EQ(fm.allocs, allocs);

    uint64_t phys, size;
    unsigned perm;
    CHECK(slpt_lookup(&t, 0x600000, &phys, &perm, &size));
    CHECK_EQ(phys, 0x9000);
    CHECK_EQ(perm, RW);
    CHECK(slpt_lookup(&t, 0x205000, &phys, NULL, &size));
    CHECK_EQ(phys, 0x405000);
    CHECK_EQ(size, SLPT_PAGE_2M);

    CHECK_EQ(slpt_unmap_page(&t, 0x600000, SLPT_PAGE_4K), 0x9000);
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0xA000, SLPT_PAGE_4K, SLPT_READ), 0);
    CHECK(slpt_lookup(&t, 0x600000, &phys, &perm, NULL));
    CHECK_EQ(phys, 0xA000);
    CHECK_EQ(perm, SLPT_READ);
    CHECK_EQ(t.table_count, tables);
    end_tree(&t);
}

TEST(slpt_unmap_clears_exactly_one_leaf_of_that_size)
{
    struct slpt t;
    new_tree(&t, 4);
    CHECK_EQ(slpt_map_page(&t, 0x3000, 0x77000, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(slpt_map_page(&t, 0x4000, 0x78000, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(slpt_unmap_page(&t, 0x3000, SLPT_PAGE_4K), 0x77000);
    CHECK(!slpt_lookup(&t, 0x3000, NULL, NULL, NULL));
    CHECK(slpt_lookup(&t, 0x4000, NULL, NULL, NULL));
    CHECK_EQ(slpt_unmap_page(&t, 0x3000, SLPT_PAGE_4K), 0);          /* already gone */
    CHECK_EQ(slpt_unmap_page(&t, 0x4800, SLPT_PAGE_4K), 0);          /* unaligned */
    CHECK_EQ(slpt_unmap_page(&t, 0x4000, 0x2000), 0);                /* bad size */
    CHECK_EQ(slpt_unmap_page(&t, 0, SLPT_PAGE_2M), 0);               /* a table, not a 2M leaf */
    CHECK(slpt_lookup(&t, 0x4000, NULL, NULL, NULL));

    CHECK_EQ(slpt_map_page(&t, 0xC00000, 0x1E00000, SLPT_PAGE_2M, RW), 0);
    CHECK_EQ(slpt_unmap_page(&t, 0xC03000, SLPT_PAGE_4K), 0);        /* inside the 2M */
    CHECK_EQ(slpt_unmap_page(&t, 0xC00000, SLPT_PAGE_4K), 0);
    uint64_t phys, size;
    CHECK(slpt_lookup(&t, 0xC03000, &phys, NULL, &size));
    CHECK_EQ(phys, 0x1E03000);
    CHECK_EQ(size, SLPT_PAGE_2M);
    CHECK_EQ(slpt_unmap_page(&t, 0xC00000, SLPT_PAGE_2M), 0x1E00000);
    CHECK(!slpt_lookup(&t, 0xC03000, NULL, NULL, NULL));

    uint64_t allocs = fm.allocs;
    CHECK_EQ(slpt_unmap_page(&t, 0x123400000000ull, SLPT_PAGE_4K), 0);   /* no tables there */
    CHECK_EQ(slpt_unmap_page(&t, 1ull << 48, SLPT_PAGE_4K), 0);          /* beyond the width */
    CHECK_EQ(fm.allocs, allocs);
    end_tree(&t);
}

TEST(slpt_2m_page_replaces_an_emptied_level_1_table)
{
    struct slpt t;
    new_tree(&t, 4);
    CHECK_EQ(slpt_map_page(&t, 0x801000, 0x5000, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(slpt_unmap_page(&t, 0x801000, SLPT_PAGE_4K), 0x5000);
    uint64_t tables = t.table_count;
    CHECK_EQ(slpt_tables_needed(&t, 0x800000, SLPT_PAGE_2M, always, NULL), 0);
    CHECK_EQ(slpt_map_page(&t, 0x800000, 0x1000000, SLPT_PAGE_2M, RW), 0);
    CHECK_EQ(t.table_count, tables);    /* the old table is kept (retired) until destroy */
    CHECK(t.retired != 0);
    CHECK(fake_coherent());
    uint64_t phys, size;
    CHECK(slpt_lookup(&t, 0x801000, &phys, NULL, &size));
    CHECK_EQ(phys, 0x1001000);
    CHECK_EQ(size, SLPT_PAGE_2M);
    /* And back: 4K pages there get a fresh level-1 table. */
    CHECK_EQ(slpt_unmap_page(&t, 0x800000, SLPT_PAGE_2M), 0x1000000);
    CHECK_EQ(slpt_map_page(&t, 0x800000, 0x5000, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(t.table_count, tables + 1);
    CHECK_EQ(slpt_unmap_page(&t, 0x800000, SLPT_PAGE_4K), 0x5000);
    CHECK_EQ(slpt_map_page(&t, 0x800000, 0x1000000, SLPT_PAGE_2M, RW), 0);   /* a second retired table */
    end_tree(&t);
}

TEST(slpt_bad_arguments_are_refused)
{
    struct slpt t;
    new_tree(&t, 3);
    uint64_t allocs = fm.allocs;
    CHECK_EQ(slpt_map_page(&t, 1ull << 39, 0x1000, SLPT_PAGE_4K, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 1ull << 40, 0x200000, SLPT_PAGE_2M, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0x1800, 0x1000, SLPT_PAGE_4K, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0x1000, 0x1800, SLPT_PAGE_4K, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0x201000, 0x200000, SLPT_PAGE_2M, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0x200000, 0x201000, SLPT_PAGE_2M, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0, 0x1000, 0, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0, 0x2000, 0x2000, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0, 0, 1ull << 30, RW), -WD_E_INVALID_ARG);   /* 1 GiB: unsupported */
    CHECK_EQ(slpt_map_page(&t, 0x1000, 0x1000, SLPT_PAGE_4K, 0), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0x1000, 0x1000, SLPT_PAGE_4K, 4), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0x1000, 0x1000, SLPT_PAGE_4K, RW | 4), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, 0x1000, 1ull << 52, SLPT_PAGE_4K, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(fm.allocs, allocs);
    CHECK_EQ(t.table_count, 1);
    CHECK_EQ(slpt_tables_needed(&t, 1ull << 39, 0x1000, NULL, NULL), 0);
    /* The last pages below the width are fine. */
    CHECK_EQ(slpt_map_page(&t, (1ull << 39) - SLPT_PAGE_2M, 0x200000, SLPT_PAGE_2M, RW), 0);
    CHECK_EQ(slpt_map_page(&t, (1ull << 39) - 2 * SLPT_PAGE_2M, 0x1000, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(slpt_map_page(&t, 0x1000, 0x000FFFFFFFFFF000ull, SLPT_PAGE_4K, RW), 0);  /* top of 52 bits */
    end_tree(&t);

    new_tree(&t, 4);
    CHECK_EQ(slpt_map_page(&t, 1ull << 48, 0x1000, SLPT_PAGE_4K, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_page(&t, (1ull << 48) - 0x1000, 0x1000, SLPT_PAGE_4K, RW), 0);
    end_tree(&t);
}

TEST(slpt_no_memory_leaves_no_mapping_and_no_leak)
{
    uint64_t iova = 0x123456789000ull;
    for (int fail_after = 0; fail_after < 3; fail_after++) {
        for (int retry = 0; retry < 2; retry++) {
            struct slpt t;
            new_tree(&t, 4);
            fm.allocs_left = fail_after;
            CHECK_EQ(slpt_map_page(&t, iova, 0x1000, SLPT_PAGE_4K, RW), -WD_E_NO_MEMORY);
            CHECK(!slpt_lookup(&t, iova, NULL, NULL, NULL));
            CHECK_EQ(t.table_count, 1 + (uint64_t)fail_after);
            CHECK_EQ(fm.allocs, t.table_count);
            CHECK(fake_coherent());
            if (retry) {    /* the empty tables left behind are reused */
                fm.allocs_left = -1;
                CHECK_EQ(slpt_tables_needed(&t, iova, SLPT_PAGE_4K, NULL, NULL), 3 - (uint64_t)fail_after);
                CHECK_EQ(slpt_map_page(&t, iova, 0x1000, SLPT_PAGE_4K, RW), 0);
                CHECK_EQ(t.table_count, 4);
                CHECK(slpt_lookup(&t, iova, NULL, NULL, NULL));
            }
            end_tree(&t);
        }
    }
    for (int fail_after = 0; fail_after < 2; fail_after++) {
        struct slpt t;
        new_tree(&t, 4);
        fm.allocs_left = fail_after;
        CHECK_EQ(slpt_map_page(&t, 0x40000000, 0x40000000, SLPT_PAGE_2M, RW), -WD_E_NO_MEMORY);
        CHECK(!slpt_lookup(&t, 0x40000000, NULL, NULL, NULL));
        end_tree(&t);
    }
}

/* Range crossing the 1 GiB line with partial 2 MiB blocks at both ends:
 * blocks 0x3FC00000 (partial), 0x3FE00000 (odd), 0x40000000 (even), 0x40200000 (odd),
 * 0x40400000 (partial). */
#define RANGE_START (GIB - 3 * MIB - 0x2000)
#define RANGE_LEN (8 * MIB + 0x3000)

TEST(slpt_tables_needed_is_exact_on_a_fresh_tree)
{
    struct slpt t;
    new_tree(&t, 4);
    CHECK_EQ(slpt_tables_needed(&t, RANGE_START, 0, even_blocks, NULL), 0);
    uint64_t needed = slpt_tables_needed(&t, RANGE_START, RANGE_LEN, even_blocks, NULL);
    CHECK_EQ(needed, 7);    /* level 3, two level 2, four level 1 */
    map_range(&t, RANGE_START, RANGE_LEN, even_blocks);
    CHECK_EQ(t.table_count - 1, needed);
    uint64_t size;
    CHECK(slpt_lookup(&t, GIB + 0x1000, NULL, NULL, &size));
    CHECK_EQ(size, SLPT_PAGE_2M);
    end_tree(&t);

    new_tree(&t, 4);
    needed = slpt_tables_needed(&t, RANGE_START, RANGE_LEN, NULL, NULL);
    CHECK_EQ(needed, 8);
    map_range(&t, RANGE_START, RANGE_LEN, NULL);
    CHECK_EQ(t.table_count - 1, needed);
    end_tree(&t);

    /* Three levels, up to the very top; a range running past the width counts its covered part. */
    uint64_t top = 1ull << 39;
    new_tree(&t, 3);
    needed = slpt_tables_needed(&t, top - 5 * MIB, 5 * MIB, even_blocks, NULL);
    CHECK_EQ(slpt_tables_needed(&t, top - 5 * MIB, 64 * MIB, even_blocks, NULL), needed);
    CHECK_EQ(slpt_tables_needed(&t, top - 5 * MIB, UINT64_MAX, even_blocks, NULL), needed);
    map_range(&t, top - 5 * MIB, 5 * MIB, even_blocks);
    CHECK_EQ(t.table_count - 1, needed);
    end_tree(&t);

    new_tree(&t, 5);
    needed = slpt_tables_needed(&t, (1ull << 56) - MIB, 2 * MIB, NULL, NULL);
    CHECK_EQ(needed, 2 * 4);    /* crosses every level's boundary */
    map_range(&t, (1ull << 56) - MIB, 2 * MIB, NULL);
    CHECK_EQ(t.table_count - 1, needed);
    end_tree(&t);
}

TEST(slpt_tables_needed_is_exact_on_a_populated_tree)
{
    struct slpt t;
    new_tree(&t, 4);
    /* Outside the range but sharing its tables. */
    CHECK_EQ(slpt_map_page(&t, 0x3FC00000, 0x1000, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(slpt_map_page(&t, 0x40580000, 0x1000, SLPT_PAGE_4K, RW), 0);
    /* Emptied level-1 tables inside: one under a 2M block (replaced), one under 4K pages. */
    CHECK_EQ(slpt_map_page(&t, 0x40000000, 0x1000, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(slpt_unmap_page(&t, 0x40000000, SLPT_PAGE_4K), 0x1000);
    CHECK_EQ(slpt_map_page(&t, 0x40201000, 0x1000, SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(slpt_unmap_page(&t, 0x40201000, SLPT_PAGE_4K), 0x1000);
    uint64_t before = t.table_count, allocs = fm.allocs;

    uint64_t needed = slpt_tables_needed(&t, RANGE_START, RANGE_LEN, even_blocks, NULL);
    CHECK_EQ(needed, 1);    /* only block 0x3FE00000's level-1 table */
    CHECK_EQ(t.table_count, before);
    CHECK_EQ(fm.allocs, allocs);
    map_range(&t, RANGE_START, RANGE_LEN, even_blocks);
    CHECK_EQ(t.table_count - before, needed);
    /* Mapped pages add nothing; a fresh neighbouring range counts only its own. */
    CHECK_EQ(slpt_tables_needed(&t, RANGE_START, RANGE_LEN, even_blocks, NULL), 0);
    before = t.table_count;
    needed = slpt_tables_needed(&t, 0x40600000, 6 * MIB, NULL, NULL);
    CHECK_EQ(needed, 3);
    map_range(&t, 0x40600000, 6 * MIB, NULL);
    CHECK_EQ(t.table_count - before, needed);
    end_tree(&t);
}

TEST(slpt_destroy_frees_exactly_every_table)
{
    struct slpt t;
    new_tree(&t, 4);
    static const uint64_t pages[] = { 0x0, 0x1000, 0x200000, 0x40000000, 0x8000000000ull,
                                      0xFFFFFFFFF000ull, 0x7FFFFF000ull, 0x123456000ull };
    for (unsigned i = 0; i < sizeof pages / sizeof pages[0]; i++)
        CHECK_EQ(slpt_map_page(&t, pages[i], 0x1000 * (i + 1), SLPT_PAGE_4K, RW), 0);
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0x600000, SLPT_PAGE_2M, RW), 0);
    CHECK_EQ(slpt_unmap_page(&t, 0x200000, SLPT_PAGE_4K), 0x3000);
    CHECK_EQ(slpt_map_page(&t, 0x200000, 0x400000, SLPT_PAGE_2M, SLPT_READ), 0);   /* retires one */
    CHECK_EQ(slpt_unmap_page(&t, 0x1000, SLPT_PAGE_4K), 0x2000);
    CHECK_EQ(fake_in_use(), t.table_count);
    CHECK_EQ(fm.allocs, t.table_count);
    end_tree(&t);
    CHECK_EQ(t.root, 0);
    CHECK_EQ(t.retired, 0);
}

TEST(slpt_every_modified_entry_is_written_back)
{
    struct slpt t;
    new_tree(&t, 4);
    CHECK(fake_coherent());                     /* the root itself */
    unsigned flushes = fm.flushes;
    CHECK_EQ(slpt_map_page(&t, 0x123456789000ull, 0x1000, SLPT_PAGE_4K, RW), 0);
    CHECK(fake_coherent());
    CHECK_EQ(fm.flushes - flushes, 3 + 3 + 1);  /* three new tables, three links, one leaf */
    flushes = fm.flushes;
    CHECK_EQ(slpt_map_page(&t, 0x12345678A000ull, 0x2000, SLPT_PAGE_4K, SLPT_READ), 0);
    CHECK_EQ(fm.flushes - flushes, 1);          /* just the leaf */
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0x600000, SLPT_PAGE_2M, RW), 0);
    CHECK(fake_coherent());
    CHECK_EQ(slpt_unmap_page(&t, 0x123456789000ull, SLPT_PAGE_4K), 0x1000);
    CHECK(fake_coherent());
    CHECK_EQ(slpt_unmap_page(&t, 0x12345678A000ull, SLPT_PAGE_4K), 0x2000);
    CHECK_EQ(slpt_map_page(&t, 0x123456600000ull, 0x800000, SLPT_PAGE_2M, RW), 0);    /* retires */
    CHECK(fake_coherent());
    flushes = fm.flushes;
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0x1000, SLPT_PAGE_4K, RW), -WD_E_EXISTS);
    CHECK_EQ(slpt_map_page(&t, 0x601000, 0x1000, SLPT_PAGE_2M, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(fm.flushes, flushes);              /* refused calls write nothing */
    end_tree(&t);

    /* The check is real: without flushes the IOMMU's view goes stale. */
    fake_reset();
    CHECK_EQ(slpt_init(&t, 3, &mem_coherent), 0);
    CHECK_EQ(slpt_map_page(&t, 0x1000, 0x1000, SLPT_PAGE_4K, RW), 0);
    CHECK(slpt_lookup(&t, 0x1000, NULL, NULL, NULL));
    CHECK(!fake_coherent());
    CHECK_EQ(fm.flushes, 0);
    slpt_destroy(&t);
    CHECK_EQ(fm.allocs, fm.frees);
}

TEST(slpt_map_run_spans_tables_and_writes_back_once_per_table)
{
    struct slpt t;
    new_tree(&t, 3);
    uint64_t done = 99;
    unsigned flushes = fm.flushes;
    /* 600 pages from 0x1FF000: 1 in the first level-1 table, 512 in the next, 87 after. */
    CHECK_EQ(slpt_map_run(&t, 0x1FF000, 0x40000000, 600, RW, &done), 0);
    CHECK_EQ(done, 600);
    CHECK(fake_coherent());
    CHECK(fm.flushes - flushes <= 3 * 3 + 3);   /* per table: new table + link, then one run */
    for (uint64_t i = 0; i < 600; i += 37) {
        uint64_t phys = 0;
        unsigned perm = 0;
        uint64_t size = 0;
        CHECK(slpt_lookup(&t, 0x1FF000 + i * 0x1000, &phys, &perm, &size));
        CHECK_EQ(phys, 0x40000000 + i * 0x1000);
        CHECK_EQ(perm, RW);
        CHECK_EQ(size, SLPT_PAGE_4K);
    }
    CHECK(!slpt_lookup(&t, 0x1FF000 + 600 * 0x1000, NULL, NULL, NULL));
    /* Overlap: stops at the first mapped page, reporting what it mapped. */
    CHECK_EQ(slpt_map_run(&t, 0x1F0000, 0x1000, 32, SLPT_READ, &done), -WD_E_EXISTS);
    CHECK_EQ(done, 0);                          /* the first table's run already overlaps */
    CHECK_EQ(slpt_map_run(&t, 0x1000, 0x1000, 0, RW, &done), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_run(&t, 0x1800, 0x1000, 1, RW, &done), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_map_run(&t, 0x7FFFFFF000ull, 0x1000, 2, RW, &done), -WD_E_INVALID_ARG);   /* past 39 bits */
    CHECK_EQ(slpt_map_run(&t, 0x1000, 0x1000, 1, 0, &done), -WD_E_INVALID_ARG);
    /* Out of memory half-way: done says how far it got. */
    fm.allocs_left = 0;
    CHECK_EQ(slpt_map_run(&t, 0x5FE000, 0x1000, 4, RW, &done), -WD_E_NO_MEMORY);
    CHECK_EQ(done, 2);                          /* 0x5FE000, 0x5FF000 are in an existing table */
    fm.allocs_left = -1;
    end_tree(&t);
}

TEST(slpt_unmap_range_clears_4k_and_whole_2m_leaves)
{
    struct slpt t;
    new_tree(&t, 4);
    uint64_t done;
    CHECK_EQ(slpt_map_run(&t, 0x100000, 0x100000, 256, RW, &done), 0);         /* 1 MiB in 4 KiB pages */
    CHECK_EQ(slpt_map_page(&t, 0x400000, 0x800000, SLPT_PAGE_2M, RW), 0);
    CHECK_EQ(slpt_map_page(&t, 0x800000, 0xA00000, SLPT_PAGE_2M, RW), 0);
    unsigned tables = (unsigned)t.table_count;
    /* A range that cuts the second 2 MiB leaf leaves it alone. */
    CHECK_EQ(slpt_unmap_range(&t, 0x100000, 0x800000), 256 + 1);
    CHECK(!slpt_lookup(&t, 0x100000, NULL, NULL, NULL));
    CHECK(!slpt_lookup(&t, 0x1FF000, NULL, NULL, NULL));
    CHECK(!slpt_lookup(&t, 0x400000, NULL, NULL, NULL));
    CHECK(slpt_lookup(&t, 0x800000, NULL, NULL, NULL));
    CHECK_EQ(slpt_unmap_range(&t, 0x800000, 0x1000), 0);     /* inside a 2 MiB leaf: not cleared */
    CHECK_EQ(slpt_unmap_range(&t, 0x800000, 0x200000), 1);
    CHECK_EQ(slpt_unmap_range(&t, 0x800000, 0x200000), 0);
    CHECK_EQ(slpt_unmap_range(&t, 0x40000000000ull, 0x400000), 0);   /* no tables there */
    CHECK_EQ(slpt_unmap_range(&t, 0x1800, 0x1000), 0);
    CHECK_EQ(t.table_count, tables);            /* tables stay until destroy */
    CHECK(fake_coherent());
    end_tree(&t);
}
