/*
 * kobj.c - slab caches and kmalloc size classes. See kobj.h.
 */
#include "mm/kobj.h"
#include "core/panic.h"

#include <string.h>

#define KOBJ_MAX_OBJECTS 256        /* 4 KiB / 16 B, bitmap capacity */
#define KOBJ_SLAB_MAGIC 0x6B6F626A736C6162ull  /* "kobjslab" */

struct kobj_free_object {
    struct kobj_free_object *next;
};

struct kobj_slab {
    uint64_t magic;
    struct kobj_cache *cache;
    struct kobj_slab *next;
    struct kobj_slab *prev;
    struct kobj_free_object *free_list;
    unsigned in_use;
    uint64_t allocated[KOBJ_MAX_OBJECTS / 64];
};

static struct kobj_cache *all_caches;   /* since the last kobj_init */
static const struct kobj_page_source *page_source;
static uint64_t pages_in_use;

static const size_t size_classes[] = { 16, 32, 64, 128, 256, 512, 1024, 2048 };
#define SIZE_CLASS_COUNT (sizeof size_classes / sizeof size_classes[0])
static struct kobj_cache kmalloc_caches[SIZE_CLASS_COUNT];
static const char *const kmalloc_names[SIZE_CLASS_COUNT] = {
    "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-128",
    "kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048",
};

void kobj_init(const struct kobj_page_source *source)
{
    page_source = source;
    pages_in_use = 0;
    all_caches = NULL;
    for (size_t i = 0; i < SIZE_CLASS_COUNT; i++)
        kobj_cache_init(&kmalloc_caches[i], kmalloc_names[i], size_classes[i]);
}

void kobj_cache_init(struct kobj_cache *cache, const char *name, size_t object_size)
{
    bool registered = false;
    for (struct kobj_cache *c = all_caches; c; c = c->next_cache)
        registered |= c == cache;
    struct kobj_cache *keep_next = registered ? cache->next_cache : NULL;
    memset(cache, 0, sizeof *cache);
    cache->next_cache = keep_next;
    if (!registered) {
        cache->next_cache = all_caches;
        all_caches = cache;
    }
    if (object_size < KOBJ_MIN_SIZE)
        object_size = KOBJ_MIN_SIZE;
    object_size = (object_size + 15) & ~(size_t)15;
    cache->name = name;
    cache->object_size = object_size;
    size_t header = (sizeof(struct kobj_slab) + 15) & ~(size_t)15;
    if (object_size > KOBJ_SLAB_BYTES / 2)
        header = KOBJ_SLAB_BYTES - object_size;    /* one object fits after the header */
    cache->first_object_offset = (unsigned)header;
    cache->objects_per_slab = (unsigned)((KOBJ_SLAB_BYTES - header) / object_size);
    if (cache->objects_per_slab > KOBJ_MAX_OBJECTS)
        cache->objects_per_slab = KOBJ_MAX_OBJECTS;
}

static void list_remove(struct kobj_slab **head, struct kobj_slab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void list_push(struct kobj_slab **head, struct kobj_slab *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
}

static unsigned object_index(const struct kobj_slab *s, const void *obj)
{
    uintptr_t offset = (uintptr_t)obj - (uintptr_t)s - s->cache->first_object_offset;
    return (unsigned)(offset / s->cache->object_size);
}

static struct kobj_slab *slab_create(struct kobj_cache *cache)
{
    if (!page_source)
        return NULL;
    void *page = page_source->alloc_page();
    if (!page)
        return NULL;
    pages_in_use++;
    struct kobj_slab *s = page;
    memset(s, 0, sizeof *s);
    s->magic = KOBJ_SLAB_MAGIC;
    s->cache = cache;
    uint8_t *first = (uint8_t *)page + cache->first_object_offset;
    for (unsigned i = cache->objects_per_slab; i-- > 0;) {
        struct kobj_free_object *o = (struct kobj_free_object *)(first + i * cache->object_size);
        o->next = s->free_list;
        s->free_list = o;
    }
    cache->slab_count++;
    return s;
}

static void slab_destroy(struct kobj_cache *cache, struct kobj_slab *s)
{
    s->magic = 0;
    cache->slab_count--;
    pages_in_use--;
    page_source->free_page(s);
}

void *kobj_alloc(struct kobj_cache *cache)
{
    struct kobj_slab *s = cache->partial;
    if (!s) {
        s = cache->empty;
        if (s)
            cache->empty = NULL;
        else if (!(s = slab_create(cache)))
            return NULL;
        list_push(&cache->partial, s);
    }
    struct kobj_free_object *o = s->free_list;
    s->free_list = o->next;
    s->in_use++;
    unsigned idx = object_index(s, o);
    s->allocated[idx / 64] |= 1ull << (idx % 64);
    if (s->in_use == cache->objects_per_slab) {
        list_remove(&cache->partial, s);
        list_push(&cache->full, s);
    }
    cache->live_objects++;
    memset(o, 0, cache->object_size);
    return o;
}

/* The slab holding obj, if obj is exactly a live object of some slab. */
static struct kobj_slab *slab_of_live_object(const void *obj)
{
    if (!obj)
        return NULL;
    struct kobj_slab *s = (struct kobj_slab *)((uintptr_t)obj & ~(uintptr_t)(KOBJ_SLAB_BYTES - 1));
    if (s->magic != KOBJ_SLAB_MAGIC)
        return NULL;
    uintptr_t offset = (uintptr_t)obj - (uintptr_t)s;
    if (offset < s->cache->first_object_offset)
        return NULL;
    offset -= s->cache->first_object_offset;
    if (offset % s->cache->object_size)
        return NULL;
    unsigned idx = (unsigned)(offset / s->cache->object_size);
    if (idx >= s->cache->objects_per_slab || !((s->allocated[idx / 64] >> (idx % 64)) & 1))
        return NULL;
    return s;
}

bool kobj_free(struct kobj_cache *cache, void *obj)
{
    struct kobj_slab *s = slab_of_live_object(obj);
    if (!s || s->cache != cache)
        return false;
    unsigned idx = object_index(s, obj);
    s->allocated[idx / 64] &= ~(1ull << (idx % 64));
    struct kobj_free_object *o = obj;
    o->next = s->free_list;
    s->free_list = o;
    bool was_full = s->in_use == cache->objects_per_slab;
    s->in_use--;
    cache->live_objects--;
    if (was_full) {
        list_remove(&cache->full, s);
        list_push(&cache->partial, s);
    }
    if (s->in_use == 0) {
        list_remove(&cache->partial, s);
        if (cache->empty)
            slab_destroy(cache, s);
        else
            cache->empty = s;
    }
    return true;
}

void *kmalloc(size_t size)
{
    for (size_t i = 0; i < SIZE_CLASS_COUNT; i++)
        if (size <= size_classes[i])
            return kobj_alloc(&kmalloc_caches[i]);
    return NULL;
}

bool kfree_checked(void *ptr)
{
    struct kobj_slab *s = slab_of_live_object(ptr);
    if (!s)
        return false;
    for (size_t i = 0; i < SIZE_CLASS_COUNT; i++)
        if (s->cache == &kmalloc_caches[i])
            return kobj_free(s->cache, ptr);
    return false;
}

void kfree(void *ptr)
{
    if (ptr && !kfree_checked(ptr))
        panic("kfree: %p is not a live kmalloc object (double free or foreign pointer)", ptr);
}

void kobj_cache_shrink(struct kobj_cache *cache)
{
    if (cache->empty) {
        slab_destroy(cache, cache->empty);
        cache->empty = NULL;
    }
}

void kobj_shrink_all(void)
{
    for (struct kobj_cache *c = all_caches; c; c = c->next_cache)
        kobj_cache_shrink(c);
}

uint64_t kobj_pages_in_use(void)
{
    return pages_in_use;
}
