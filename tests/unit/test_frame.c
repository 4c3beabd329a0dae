/*
 * test_frame.c - the frame allocator on synthetic memory maps: counting,
 * reservations, exhaustion, reuse, double frees, contiguous runs with
 * alignment and bounds, memory above 4 GiB.
 */
#include "unit.h"
#include "mm/frame.h"

#include <stdlib.h>
#include <string.h>

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

static struct frame_allocator fa;
static void *storage;

static void setup(uint64_t top)
{
    free(storage);
    storage = malloc(frame_bitmap_bytes(top / FRAME_SIZE));
    frame_allocator_init(&fa, storage, top / FRAME_SIZE);
}

TEST(frame_ranges_and_reservations_are_counted)
{
    setup(64 * MIB);
    CHECK_EQ(fa.free_frames, 0);
    frame_add_free_range(&fa, 0x1800, 0x3000);          /* partial frames at both ends are dropped */
    CHECK_EQ(fa.free_frames, 2);
    frame_add_free_range(&fa, 1 * MIB, 63 * MIB);
    frame_add_free_range(&fa, 1 * MIB, 4 * MIB);        /* overlap counts once */
    CHECK_EQ(fa.free_frames, 2 + 63 * MIB / FRAME_SIZE);
    frame_reserve_range(&fa, 2 * MIB + 10, 100);        /* touches one frame */
    CHECK_EQ(fa.free_frames, 1 + 63 * MIB / FRAME_SIZE);
    frame_reserve_range(&fa, 0, 1 * MIB);
    CHECK_EQ(fa.free_frames, 63 * MIB / FRAME_SIZE - 1);
    CHECK_EQ(fa.usable_frames, fa.free_frames);
    frame_add_free_range(&fa, 60 * MIB, 100 * MIB);     /* clipped to the covered frames */
    CHECK_EQ(fa.usable_frames, fa.free_frames);
}

TEST(frame_alloc_until_exhausted_then_reuse)
{
    setup(8 * MIB);
    frame_add_free_range(&fa, 1 * MIB, 1 * MIB);        /* 256 frames */
    static uint64_t got[256];
    for (int i = 0; i < 256; i++) {
        CHECK_EQ(frame_alloc(&fa, &got[i]), FRAME_OK);
        CHECK(got[i] >= 1 * MIB && got[i] < 2 * MIB && got[i] % FRAME_SIZE == 0);
        for (int k = 0; k < i; k++)
            if (got[k] == got[i])
                CHECK(!"a frame was handed out twice");
    }
    uint64_t extra;
    CHECK_EQ(frame_alloc(&fa, &extra), FRAME_ERR_NO_MEMORY);
    CHECK_EQ(frame_free(&fa, got[100]), FRAME_OK);
    CHECK_EQ(frame_alloc(&fa, &extra), FRAME_OK);
    CHECK_EQ(extra, got[100]);
    CHECK_EQ(fa.free_frames, 0);
}

TEST(frame_bad_frees_are_refused_without_change)
{
    setup(8 * MIB);
    frame_add_free_range(&fa, 1 * MIB, 2 * MIB);
    frame_reserve_range(&fa, 2 * MIB, FRAME_SIZE);
    uint64_t f;
    CHECK_EQ(frame_alloc(&fa, &f), FRAME_OK);
    uint64_t before = fa.free_frames;
    CHECK_EQ(frame_free(&fa, f), FRAME_OK);
    CHECK_EQ(frame_free(&fa, f), FRAME_ERR_NOT_ALLOCATED);          /* double free */
    CHECK_EQ(frame_free(&fa, 2 * MIB), FRAME_ERR_NOT_ALLOCATED);    /* reserved */
    CHECK_EQ(frame_free(&fa, 0x1000), FRAME_ERR_NOT_ALLOCATED);     /* never usable */
    CHECK_EQ(frame_free(&fa, f + 8), FRAME_ERR_INVALID);            /* misaligned */
    CHECK_EQ(frame_free(&fa, 64 * MIB), FRAME_ERR_INVALID);         /* beyond the bitmap */
    CHECK_EQ(frame_free_contig(&fa, f, 0), FRAME_ERR_INVALID);
    CHECK_EQ(frame_free_contig(&fa, 7 * MIB, UINT64_MAX / 2), FRAME_ERR_INVALID);
    CHECK_EQ(fa.free_frames, before + 1);
}

TEST(frame_contiguous_runs_respect_alignment_holes_and_bounds)
{
    setup(16 * MIB);
    frame_add_free_range(&fa, 1 * MIB, 15 * MIB);
    frame_reserve_range(&fa, 2 * MIB + 5 * FRAME_SIZE, FRAME_SIZE);     /* a hole in 2..4 MiB */
    uint64_t base;
    CHECK_EQ(frame_alloc_contig(&fa, 512, 512, 0, UINT64_MAX, &base), FRAME_OK);
    CHECK_EQ(base, 4 * MIB);                         /* 2 MiB run skips the hole */
    uint64_t before = fa.free_frames;
    CHECK_EQ(frame_free_contig(&fa, base, 513), FRAME_ERR_NOT_ALLOCATED);
    CHECK_EQ(fa.free_frames, before);                /* nothing freed by the bad call */
    CHECK_EQ(frame_free_contig(&fa, base, 512), FRAME_OK);

    CHECK_EQ(frame_alloc_contig(&fa, 4, 1, 10 * MIB, 11 * MIB, &base), FRAME_OK);
    CHECK(base >= 10 * MIB && base + 4 * FRAME_SIZE <= 11 * MIB);
    CHECK_EQ(frame_alloc_contig(&fa, 257, 1, 10 * MIB, 11 * MIB, &base), FRAME_ERR_NO_MEMORY);
    CHECK_EQ(frame_alloc_contig(&fa, 0, 1, 0, UINT64_MAX, &base), FRAME_ERR_INVALID);
    CHECK_EQ(frame_alloc_contig(&fa, 1, 3, 0, UINT64_MAX, &base), FRAME_ERR_INVALID);
    CHECK_EQ(frame_alloc_contig(&fa, 1, 1, 5 * MIB, 5 * MIB, &base), FRAME_ERR_INVALID);
    CHECK_EQ(frame_alloc_contig(&fa, 4096, 1, 0, UINT64_MAX, &base), FRAME_ERR_NO_MEMORY);
}

TEST(frame_memory_above_4g_is_managed)
{
    setup(6 * GIB);
    frame_add_free_range(&fa, 1 * MIB, 2 * GIB - 1 * MIB);
    frame_add_free_range(&fa, 4 * GIB, 2 * GIB);
    CHECK_EQ(fa.free_frames, (4 * GIB - 1 * MIB) / FRAME_SIZE);
    CHECK_EQ(frame_count_usable(&fa, 4 * GIB, UINT64_MAX), 2 * GIB / FRAME_SIZE);
    CHECK_EQ(frame_count_usable(&fa, 0, 4 * GIB), (2 * GIB - 1 * MIB) / FRAME_SIZE);
    uint64_t high;
    CHECK_EQ(frame_alloc_contig(&fa, 1, 1, 4 * GIB, UINT64_MAX, &high), FRAME_OK);
    CHECK_EQ(high, 4 * GIB);
    CHECK_EQ(frame_alloc_contig(&fa, 512, 512, 3 * GIB, 4 * GIB, &high), FRAME_ERR_NO_MEMORY); /* the hole */
    CHECK(frame_is_allocated(&fa, 4 * GIB));
    CHECK_EQ(frame_count_usable(&fa, 4 * GIB, UINT64_MAX), 2 * GIB / FRAME_SIZE);   /* allocated still counts */
    CHECK_EQ(frame_free(&fa, 4 * GIB), FRAME_OK);
}
