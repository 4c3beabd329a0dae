/*
 * test_slpt_accounting.c - what VT-d second-level page tables allocate,
 * free and write back, on the fake memory of fake_slpt.h: allocation
 * failure, the exactness of slpt_tables_needed, freeing every table, and
 * the write-back of every modified entry (map runs, range unmaps).
 */
#include "fake_slpt.h"

#include <warden/errors.h>

static bool even_blocks(void *ctx, uint64_t iova)
{
    (void)ctx;
    CHECK_EQ(iova % SLPT_PAGE_2M, 0);
    return ((iova / SLPT_PAGE_2M) & 1) == 0;
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
            CHECK(fake_slpt_coherent());
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
    CHECK_EQ(fake_slpt_in_use(), t.table_count);
    CHECK_EQ(fm.allocs, t.table_count);
    end_tree(&t);
    CHECK_EQ(t.root, 0);
    CHECK_EQ(t.retired, 0);
}

TEST(slpt_every_modified_entry_is_written_back)
{
    struct slpt t;
    new_tree(&t, 4);
    CHECK(fake_slpt_coherent());                     /* the root itself */
    unsigned flushes = fm.flushes;
    CHECK_EQ(slpt_map_page(&t, 0x123456789000ull, 0x1000, SLPT_PAGE_4K, RW), 0);
    CHECK(fake_slpt_coherent());
    CHECK_EQ(fm.flushes - flushes, 3 + 3 + 1);  /* three new tables, three links, one leaf */
    flushes = fm.flushes;
    CHECK_EQ(slpt_map_page(&t, 0x12345678A000ull, 0x2000, SLPT_PAGE_4K, SLPT_READ), 0);
    CHECK_EQ(fm.flushes - flushes, 1);          /* just the leaf */
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0x600000, SLPT_PAGE_2M, RW), 0);
    CHECK(fake_slpt_coherent());
    CHECK_EQ(slpt_unmap_page(&t, 0x123456789000ull, SLPT_PAGE_4K), 0x1000);
    CHECK(fake_slpt_coherent());
    CHECK_EQ(slpt_unmap_page(&t, 0x12345678A000ull, SLPT_PAGE_4K), 0x2000);
    CHECK_EQ(slpt_map_page(&t, 0x123456600000ull, 0x800000, SLPT_PAGE_2M, RW), 0);    /* retires */
    CHECK(fake_slpt_coherent());
    flushes = fm.flushes;
    CHECK_EQ(slpt_map_page(&t, 0x600000, 0x1000, SLPT_PAGE_4K, RW), -WD_E_EXISTS);
    CHECK_EQ(slpt_map_page(&t, 0x601000, 0x1000, SLPT_PAGE_2M, RW), -WD_E_INVALID_ARG);
    CHECK_EQ(fm.flushes, flushes);              /* refused calls write nothing */
    end_tree(&t);

    /* The check is real: without flushes the IOMMU's view goes stale. */
    fake_slpt_reset();
    CHECK_EQ(slpt_init(&t, 3, &fake_slpt_mem_coherent), 0);
    CHECK_EQ(slpt_map_page(&t, 0x1000, 0x1000, SLPT_PAGE_4K, RW), 0);
    CHECK(slpt_lookup(&t, 0x1000, NULL, NULL, NULL));
    CHECK(!fake_slpt_coherent());
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
    CHECK(fake_slpt_coherent());
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
    CHECK(fake_slpt_coherent());
    end_tree(&t);
}
