/*
 * kobj.h - the kernel object allocator: caches of fixed-size objects
 * carved from 4 KiB slab pages, plus kmalloc/kfree size classes on top.
 *
 * A slab page starts with a header (its cache, list links, a free list and
 * an allocation bitmap); objects follow. kfree finds the header by rounding
 * the pointer down to 4 KiB. The bitmap makes double frees and foreign
 * pointers detectable: kobj_free returns false for them and the kernel
 * wrapper kfree panics (that is a kernel bug, not user input).
 *
 * Pages come from a page source set by kobj_init (the frame allocator in
 * the kernel, aligned_alloc in host unit tests). Objects are zeroed.
 * Objects larger than KOBJ_MAX_SIZE are not served here.
 */
#ifndef WARDEN_MM_KOBJ_H
#define WARDEN_MM_KOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KOBJ_SLAB_BYTES 4096
#define KOBJ_MIN_SIZE 16
#define KOBJ_MAX_SIZE 2048

struct kobj_page_source {
    void *(*alloc_page)(void);      /* one 4 KiB-aligned page, or NULL */
    void (*free_page)(void *page);
};

struct kobj_slab;

struct kobj_cache {
    const char *name;
    size_t object_size;
    unsigned objects_per_slab;
    unsigned first_object_offset;
    struct kobj_slab *partial;      /* slabs with at least one free object */
    struct kobj_slab *full;
    struct kobj_slab *empty;        /* at most one kept for reuse */
    uint64_t slab_count;
    uint64_t live_objects;
    struct kobj_cache *next_cache;  /* every initialised cache, for kobj_shrink_all */
};

void kobj_init(const struct kobj_page_source *source);
void kobj_cache_init(struct kobj_cache *cache, const char *name, size_t object_size);

void *kobj_alloc(struct kobj_cache *cache);
/* false if obj is not a live object of this cache (nothing is changed). */
bool kobj_free(struct kobj_cache *cache, void *obj);

/* General-purpose size classes 16..2048 bytes. */
void *kmalloc(size_t size);
/* Returns false for a pointer that kmalloc did not hand out or that is free. */
bool kfree_checked(void *ptr);
void kfree(void *ptr);     /* panics on a bad pointer */

/* Returns a cache's kept empty slab (if any) to the page source. */
void kobj_cache_shrink(struct kobj_cache *cache);
/* The same for every cache (kmalloc size classes and named caches). */
void kobj_shrink_all(void);

/* Pages currently held by all caches (for leak checks). */
uint64_t kobj_pages_in_use(void);

#endif
