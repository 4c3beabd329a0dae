/*
 * frame.h - the physical frame allocator: 4 KiB frames over the whole
 * physical memory map, including memory above 4 GiB.
 *
 * Two bitmaps cover frames [0, frame_count): `usable` (the frame is RAM the
 * allocator may hand out) and `used` (allocated, or not usable). Invariant:
 * free_frames == number of frames with usable=1 and used=0.
 * Freeing a frame that is not allocated is refused (returns an error), so
 * double frees and frees of reserved memory are caught.
 *
 * Pure code: it never touches the frames themselves, only the bitmaps the
 * caller provides, so it is unit-tested on the host.
 */
#ifndef WARDEN_MM_FRAME_H
#define WARDEN_MM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_SIZE 4096ull
#define FRAME_SHIFT 12

enum frame_result {
    FRAME_OK = 0,
    FRAME_ERR_NO_MEMORY = -1,       /* no (suitable) free frames */
    FRAME_ERR_INVALID = -2,         /* misaligned, zero count, bad bounds */
    FRAME_ERR_NOT_ALLOCATED = -3,   /* free of a frame that is not allocated */
};

struct frame_allocator {
    uint64_t *used;
    uint64_t *usable;
    uint64_t frame_count;
    uint64_t usable_frames;
    uint64_t free_frames;
    uint64_t search_hint;           /* word index where single allocations start looking */
};

/* Bytes of bitmap storage needed to cover frame_count frames (both bitmaps). */
size_t frame_bitmap_bytes(uint64_t frame_count);

/* Starts with every frame unusable. storage must hold frame_bitmap_bytes(). */
void frame_allocator_init(struct frame_allocator *fa, void *storage, uint64_t frame_count);

/* Makes the whole frames inside [base, base+length) usable and free. */
void frame_add_free_range(struct frame_allocator *fa, uint64_t base, uint64_t length);

/* Makes every frame touching [base, base+length) unusable (kernel image,
 * modules, boot information, ...). Only meant for boot-time setup. */
void frame_reserve_range(struct frame_allocator *fa, uint64_t base, uint64_t length);

/* One frame anywhere. */
int frame_alloc(struct frame_allocator *fa, uint64_t *phys_out);

/* count physically contiguous frames, the first aligned to align_frames
 * (a power of two), lying entirely inside [min_phys, max_phys). */
int frame_alloc_contig(struct frame_allocator *fa, uint64_t count, uint64_t align_frames,
                       uint64_t min_phys, uint64_t max_phys, uint64_t *phys_out);

int frame_free(struct frame_allocator *fa, uint64_t phys);
int frame_free_contig(struct frame_allocator *fa, uint64_t phys, uint64_t count);

bool frame_is_allocated(const struct frame_allocator *fa, uint64_t phys);

/* Number of usable frames (free or allocated) inside [min_phys, max_phys). */
uint64_t frame_count_usable(const struct frame_allocator *fa, uint64_t min_phys, uint64_t max_phys);

#endif
