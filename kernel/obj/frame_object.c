/*
 * frame_object.c - creating, addressing and destroying frame objects.
 * Invariant: a frame is zero-filled when created; its pages go back to the
 * allocator only in frame_object_destroy, i.e. after the last capability
 * and the last mapping are gone.
 */
#include "obj/frame_object.h"

#include "core/panic.h"
#include "mm/kobj.h"
#include "mm/physmem.h"
#include "obj/pool.h"

#include <string.h>
#include <warden/errors.h>
#include <warden/objects.h>

#define PAGE_ARRAY_KMALLOC_MAX 2048
#define LARGE_PAGE_BYTES 0x200000ull     /* bytes: larger page arrays take whole pages */

static struct kobj_cache frame_cache;
static bool cache_ready;

static uint64_t page_array_bytes(uint64_t pages)
{
    return pages * sizeof(uint64_t);
}

static uint64_t page_array_frames(uint64_t pages)
{
    return (page_array_bytes(pages) + FRAME_SIZE - 1) / FRAME_SIZE;
}

uint64_t frame_object_cost(uint64_t size)
{
    uint64_t pages = size / FRAME_SIZE;
    uint64_t array = page_array_bytes(pages) <= PAGE_ARRAY_KMALLOC_MAX ? page_array_bytes(pages)
                                                                       : page_array_frames(pages) * FRAME_SIZE;
    return size + array + pool_object_cost(sizeof(struct frame_object));
}

static struct frame_object *frame_alloc_struct(void)
{
    if (!cache_ready) {
        kobj_cache_init(&frame_cache, "frame", sizeof(struct frame_object));
        cache_ready = true;
    }
    return kobj_alloc(&frame_cache);
}

static void free_page_array(struct frame_object *f)
{
    if (!f->pages)
        return;
    if (page_array_bytes(f->page_count) <= PAGE_ARRAY_KMALLOC_MAX)
        kfree(f->pages);
    else
        physmem_free_contig(virt_to_phys(f->pages), page_array_frames(f->page_count));
    f->pages = NULL;
}

static void free_memory(struct frame_object *f)
{
    if (f->borrowed)
        return;
    if (f->contiguous_base) {
        physmem_free_contig(f->contiguous_base, f->page_count);
        return;
    }
    for (uint64_t i = 0; i < f->page_count && f->pages[i]; i++)
        physmem_free(f->pages[i]);
    free_page_array(f);
}

static bool allocate_memory(struct frame_object *f)
{
    if (f->flags & WD_FRAME_CONTIGUOUS) {
        /* 2 MiB alignment when it fits lets DMA (and later CPU) mappings use superpages. */
        uint64_t align = f->size >= LARGE_PAGE_BYTES ? LARGE_PAGE_BYTES / FRAME_SIZE : 1;
        uint64_t base = physmem_alloc_contig(f->page_count, align);
        if (!base && align > 1)
            base = physmem_alloc_contig(f->page_count, 1);
        if (!base)
            return false;
        memset(phys_to_virt(base), 0, f->size);
        f->contiguous_base = base;
        return true;
    }
    if (page_array_bytes(f->page_count) <= PAGE_ARRAY_KMALLOC_MAX) {
        f->pages = kmalloc(page_array_bytes(f->page_count));
    } else {
        uint64_t phys = physmem_alloc_contig(page_array_frames(f->page_count), 1);
        f->pages = phys ? phys_to_virt(phys) : NULL;
        if (f->pages)
            memset(f->pages, 0, page_array_frames(f->page_count) * FRAME_SIZE);
    }
    if (!f->pages)
        return false;
    /* Whole 2 MiB chunks where memory allows (2 MiB IOMMU pages), single
     * pages for the rest and when no chunk is free. */
    uint64_t i = 0;
    for (uint64_t chunk = LARGE_PAGE_BYTES / FRAME_SIZE; i + chunk <= f->page_count; i += chunk) {
        uint64_t base = physmem_alloc_contig(chunk, chunk);
        if (!base)
            break;
        memset(phys_to_virt(base), 0, LARGE_PAGE_BYTES);
        for (uint64_t k = 0; k < chunk; k++)
            f->pages[i + k] = base + k * FRAME_SIZE;
    }
    for (; i < f->page_count; i++) {
        f->pages[i] = physmem_alloc_zeroed();
        if (!f->pages[i]) {
            free_memory(f);
            return false;
        }
    }
    return true;
}

struct frame_object *frame_object_create(struct pool *pool, uint64_t size, uint64_t flags, int *error)
{
    if (flags & ~WD_FRAME_KNOWN_FLAGS) {
        *error = WD_E_BAD_FLAGS;
        return NULL;
    }
    if (size == 0 || size > WD_FRAME_MAX_BYTES) {
        *error = WD_E_INVALID_ARG;
        return NULL;
    }
    if (size % FRAME_SIZE) {
        *error = WD_E_UNALIGNED;
        return NULL;
    }
    uint64_t cost = frame_object_cost(size);
    if (!pool_charge(pool, cost)) {
        *error = WD_E_POOL_EXHAUSTED;
        return NULL;
    }
    struct frame_object *f = frame_alloc_struct();
    if (f) {
        f->size = size;
        f->flags = flags;
        f->page_count = size / FRAME_SIZE;
        if (!allocate_memory(f)) {
            kobj_free(&frame_cache, f);
            f = NULL;
        }
    }
    if (!f) {
        pool_uncharge(pool, cost);
        *error = WD_E_NO_MEMORY;
        return NULL;
    }
    kobject_init(&f->obj, WD_TYPE_FRAME, pool, cost);
    return f;
}

struct frame_object *frame_object_borrow(uint64_t phys, uint64_t size)
{
    struct frame_object *f = frame_alloc_struct();
    if (!f)
        panic("no memory for a boot module frame");
    f->size = size;
    f->flags = WD_FRAME_CONTIGUOUS;
    f->page_count = size / FRAME_SIZE;
    f->contiguous_base = phys;
    f->borrowed = true;
    kobject_init(&f->obj, WD_TYPE_FRAME, NULL, 0);
    return f;
}

struct frame_object *frame_object_borrow_mmio(uint64_t phys, uint64_t size)
{
    struct frame_object *f = frame_object_borrow(phys, size);
    f->flags = WD_FRAME_MMIO;
    return f;
}

uint64_t frame_object_page(const struct frame_object *f, uint64_t offset)
{
    KASSERT(offset < f->size && offset % FRAME_SIZE == 0);
    if (f->contiguous_base)
        return f->contiguous_base + offset;
    return f->pages[offset / FRAME_SIZE];
}

bool frame_object_run_2m_scattered(const struct frame_object *f, uint64_t offset)
{
    uint64_t first = frame_object_page(f, offset);
    if (first % LARGE_PAGE_BYTES)
        return false;
    for (uint64_t k = 1; k < LARGE_PAGE_BYTES / FRAME_SIZE; k++)
        if (f->pages[offset / FRAME_SIZE + k] != first + k * FRAME_SIZE)
            return false;
    return true;
}

void frame_object_destroy(struct frame_object *f)
{
    KASSERT(f->mappings == 0);
    free_memory(f);
    kobj_free(&frame_cache, f);
}
