/*
 * test_slpt.c - VT-d second-level page tables on a fake physical memory
 * (fake_slpt.h): index math and raw entries on 3 and 4 levels, lookup,
 * permissions, 2 MiB leaves, overlap refusal, unmap and bad arguments.
 * test_slpt_accounting.c has allocation, freeing and write-back.
 */
#include "fake_slpt.h"

#include <warden/errors.h>

static uint64_t raw(uint64_t table_phys, unsigned index)
{
    return fm.page[fake_slpt_index(table_phys)][index];
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
    fake_slpt_index(slpte_address(entry));
    return slpte_address(entry);
}

static bool always(void *ctx, uint64_t iova)
{
    (void)ctx, (void)iova;
    return true;
}

TEST(slpt_init_checks_levels_and_reports_width)
{
    struct slpt t;
    fake_slpt_reset();
    CHECK_EQ(slpt_init(&t, 2, &fake_slpt_mem), -WD_E_INVALID_ARG);
    CHECK_EQ(slpt_init(&t, 6, &fake_slpt_mem), -WD_E_INVALID_ARG);
    CHECK_EQ(fm.allocs, 0);
    for (unsigned levels = 3; levels <= 5; levels++) {
        new_tree(&t, levels);
        CHECK_EQ(t.table_count, 1);
        CHECK_EQ(t.levels, levels);
        CHECK_EQ(slpt_address_bits(&t), 12 + 9 * levels);
        CHECK_EQ(nonzero_entries(t.root), 0);
        end_tree(&t);
    }
    fake_slpt_reset();
    fm.allocs_left = 0;
    CHECK_EQ(slpt_init(&t, 4, &fake_slpt_mem), -WD_E_NO_MEMORY);
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
    CHECK(fake_slpt_coherent());
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
