/*
 * frame.c - bitmap frame allocator. See frame.h for the invariants.
 * Single allocations use next-fit from a hint, scanning 64 frames per
 * word; contiguous runs do a first-fit scan that skips by alignment.
 */
#include "mm/frame.h"

#include <string.h>

#define BITS_PER_WORD 64

static uint64_t words_for(uint64_t frame_count)
{
    return (frame_count + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

static bool test_bit(const uint64_t *map, uint64_t i) { return (map[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1; }
static void set_bit(uint64_t *map, uint64_t i) { map[i / BITS_PER_WORD] |= 1ull << (i % BITS_PER_WORD); }
static void clear_bit(uint64_t *map, uint64_t i) { map[i / BITS_PER_WORD] &= ~(1ull << (i % BITS_PER_WORD)); }

static bool frame_is_free(const struct frame_allocator *fa, uint64_t frame)
{
    return !test_bit(fa->used, frame);
}

size_t frame_bitmap_bytes(uint64_t frame_count)
{
    return 2 * words_for(frame_count) * sizeof(uint64_t);
}

void frame_allocator_init(struct frame_allocator *fa, void *storage, uint64_t frame_count)
{
    uint64_t words = words_for(frame_count);
    fa->used = storage;
    fa->usable = fa->used + words;
    fa->frame_count = frame_count;
    fa->usable_frames = 0;
    fa->free_frames = 0;
    fa->search_hint = 0;
    memset(fa->used, 0xFF, words * sizeof(uint64_t));
    memset(fa->usable, 0, words * sizeof(uint64_t));
}

void frame_add_free_range(struct frame_allocator *fa, uint64_t base, uint64_t length)
{
    if (length == 0 || base + length < base)
        return;
    uint64_t first = (base + FRAME_SIZE - 1) >> FRAME_SHIFT;
    uint64_t end = (base + length) >> FRAME_SHIFT;
    if (end > fa->frame_count)
        end = fa->frame_count;
    for (uint64_t f = first; f < end; f++) {
        if (test_bit(fa->usable, f))
            continue;   /* overlapping ranges in the memory map */
        set_bit(fa->usable, f);
        clear_bit(fa->used, f);
        fa->usable_frames++;
        fa->free_frames++;
    }
}

void frame_reserve_range(struct frame_allocator *fa, uint64_t base, uint64_t length)
{
    if (length == 0)
        return;
    uint64_t last_byte = base + length - 1 < base ? UINT64_MAX : base + length - 1;
    uint64_t first = base >> FRAME_SHIFT;
    uint64_t last = last_byte >> FRAME_SHIFT;
    if (last >= fa->frame_count)
        last = fa->frame_count - 1;
    for (uint64_t f = first; f <= last && f < fa->frame_count; f++) {
        if (!test_bit(fa->usable, f))
            continue;
        if (frame_is_free(fa, f))
            fa->free_frames--;
        clear_bit(fa->usable, f);
        set_bit(fa->used, f);
        fa->usable_frames--;
    }
}

int frame_alloc(struct frame_allocator *fa, uint64_t *phys_out)
{
    if (fa->free_frames == 0)
        return FRAME_ERR_NO_MEMORY;
    uint64_t words = words_for(fa->frame_count);
    for (uint64_t n = 0; n < words; n++) {
        uint64_t w = (fa->search_hint + n) % words;
        if (fa->used[w] == ~0ull)
            continue;
        uint64_t frame = w * BITS_PER_WORD + (uint64_t)__builtin_ctzll(~fa->used[w]);
        if (frame >= fa->frame_count)
            continue;   /* padding bits of the last word are always "used" */
        set_bit(fa->used, frame);
        fa->free_frames--;
        fa->search_hint = w;
        *phys_out = frame << FRAME_SHIFT;
        return FRAME_OK;
    }
    return FRAME_ERR_NO_MEMORY;
}

int frame_alloc_contig(struct frame_allocator *fa, uint64_t count, uint64_t align_frames,
                       uint64_t min_phys, uint64_t max_phys, uint64_t *phys_out)
{
    if (count == 0 || align_frames == 0 || (align_frames & (align_frames - 1)) || min_phys >= max_phys)
        return FRAME_ERR_INVALID;
    uint64_t lo = (min_phys + FRAME_SIZE - 1) >> FRAME_SHIFT;
    uint64_t hi = max_phys >> FRAME_SHIFT;
    if (hi > fa->frame_count)
        hi = fa->frame_count;
    if (count > fa->free_frames)
        return FRAME_ERR_NO_MEMORY;

    uint64_t start = (lo + align_frames - 1) & ~(align_frames - 1);
    while (start < hi && count <= hi - start) {
        uint64_t i = 0;
        while (i < count && frame_is_free(fa, start + i))
            i++;
        if (i == count) {
            for (uint64_t f = start; f < start + count; f++)
                set_bit(fa->used, f);
            fa->free_frames -= count;
            *phys_out = start << FRAME_SHIFT;
            return FRAME_OK;
        }
        /* start+i is taken: the next candidate begins after it. */
        start = (start + i + 1 + align_frames - 1) & ~(align_frames - 1);
    }
    return FRAME_ERR_NO_MEMORY;
}

bool frame_is_allocated(const struct frame_allocator *fa, uint64_t phys)
{
    uint64_t f = phys >> FRAME_SHIFT;
    return f < fa->frame_count && test_bit(fa->usable, f) && test_bit(fa->used, f);
}

uint64_t frame_count_usable(const struct frame_allocator *fa, uint64_t min_phys, uint64_t max_phys)
{
    uint64_t first = (min_phys + FRAME_SIZE - 1) >> FRAME_SHIFT;
    uint64_t end = max_phys >> FRAME_SHIFT;
    if (end > fa->frame_count)
        end = fa->frame_count;
    uint64_t n = 0;
    for (uint64_t f = first; f < end; f++)
        n += test_bit(fa->usable, f);
    return n;
}

int frame_free_contig(struct frame_allocator *fa, uint64_t phys, uint64_t count)
{
    if (phys % FRAME_SIZE || count == 0)
        return FRAME_ERR_INVALID;
    uint64_t first = phys >> FRAME_SHIFT;
    if (first >= fa->frame_count || count > fa->frame_count - first)
        return FRAME_ERR_INVALID;
    /* Validate the whole run before changing anything. */
    for (uint64_t f = first; f < first + count; f++)
        if (!frame_is_allocated(fa, f << FRAME_SHIFT))
            return FRAME_ERR_NOT_ALLOCATED;
    for (uint64_t f = first; f < first + count; f++)
        clear_bit(fa->used, f);
    fa->free_frames += count;
    return FRAME_OK;
}

int frame_free(struct frame_allocator *fa, uint64_t phys)
{
    return frame_free_contig(fa, phys, 1);
}
