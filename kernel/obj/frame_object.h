/*
 * frame_object.h - the frame object: user-visible RAM, zeroed at creation,
 * either page by page (frames of 2 MiB or more in 2 MiB aligned contiguous
 * chunks where memory allows) or physically contiguous, or borrowed
 * memory that is never returned to the allocator (boot modules). Mappings (CPU now, DMA
 * later) hold references, so the memory returns to its pool only when no
 * capability and no mapping refers to it.
 */
#ifndef WARDEN_OBJ_FRAME_OBJECT_H
#define WARDEN_OBJ_FRAME_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "obj/object.h"

struct frame_object {
    struct kobject obj;
    uint64_t size;                  /* bytes, page multiple */
    uint64_t flags;                 /* WD_FRAME_* */
    uint64_t page_count;
    uint64_t contiguous_base;       /* physical base when contiguous or borrowed, else 0 */
    uint64_t *pages;                /* physical page addresses when not contiguous */
    bool borrowed;                  /* memory the allocator does not own (boot modules) */
    uint64_t mappings;              /* CPU mappings referring to it */
    uint64_t protected_offset;      /* MMIO: [offset, offset+size) the kernel keeps (MSI-X table) */
    uint64_t protected_size;
};

/* Creates a zeroed frame charged to pool; NULL with *error = WD_E_* on failure. */
struct frame_object *frame_object_create(struct pool *pool, uint64_t size, uint64_t flags, int *error);
/* Wraps existing memory [phys, phys+size) (boot modules); charged to nobody. */
struct frame_object *frame_object_borrow(uint64_t phys, uint64_t size);
/* Wraps a device's MMIO range (a BAR): WD_FRAME_MMIO, mapped uncached, never DMA-mapped. */
struct frame_object *frame_object_borrow_mmio(uint64_t phys, uint64_t size);

/* Physical address of the page at byte offset (page aligned, < size). */
uint64_t frame_object_page(const struct frame_object *f, uint64_t offset);
/* True when the 2 MiB from offset are one physically contiguous, 2 MiB
 * aligned run (so one 2 MiB IOMMU page can map them). */
bool frame_object_run_2m_scattered(const struct frame_object *f, uint64_t offset);
static inline bool frame_object_run_2m(const struct frame_object *f, uint64_t offset)
{
    if (offset % 0x1000 || offset > f->size || f->size - offset < 0x200000)
        return false;
    if (f->contiguous_base)
        return (f->contiguous_base + offset) % 0x200000 == 0;
    return frame_object_run_2m_scattered(f, offset);
}

void frame_object_destroy(struct frame_object *f);

/* Bytes a frame of this size costs its pool. */
uint64_t frame_object_cost(uint64_t size);

#endif
