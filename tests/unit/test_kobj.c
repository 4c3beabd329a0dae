/*
 * test_kobj.c - slab caches and kmalloc: distinct zeroed objects, slab
 * growth and release, refusal of double frees and foreign pointers,
 * running out of pages.
 */
#include "unit.h"
#include "mm/kobj.h"

#include <stdlib.h>
#include <string.h>

static int pages_out, page_budget;

static void *test_alloc_page(void)
{
    if (page_budget >= 0 && pages_out >= page_budget)
        return NULL;
    pages_out++;
    return aligned_alloc(KOBJ_SLAB_BYTES, KOBJ_SLAB_BYTES);
}

static void test_free_page(void *p)
{
    pages_out--;
    free(p);
}

static const struct kobj_page_source source = { test_alloc_page, test_free_page };

static void setup(int budget)
{
    page_budget = budget;
    kobj_init(&source);
}

/* After a test: every page must be back (LeakSanitizer checks the rest). */
static void check_all_pages_returned(struct kobj_cache *own)
{
    if (own)
        kobj_cache_shrink(own);
    kobj_shrink_all();
    CHECK_EQ(pages_out, 0);
    CHECK_EQ(kobj_pages_in_use(), 0);
}

TEST(kobj_cache_objects_are_distinct_and_zeroed)
{
    setup(-1);
    struct kobj_cache cache;
    kobj_cache_init(&cache, "test-48", 40);
    CHECK_EQ(cache.object_size, 48);
    static uint8_t *objs[500];
    for (int i = 0; i < 500; i++) {
        objs[i] = kobj_alloc(&cache);
        CHECK(objs[i] != NULL);
        for (int b = 0; b < 48; b++)
            if (objs[i][b] != 0)
                CHECK(!"object not zeroed");
        memset(objs[i], i & 0xFF, 48);
    }
    CHECK_EQ(cache.live_objects, 500);
    CHECK(cache.slab_count >= 500 / cache.objects_per_slab);
    for (int i = 0; i < 500; i++)
        CHECK_EQ(objs[i][47], i & 0xFF);
    for (int i = 0; i < 500; i++)
        CHECK(kobj_free(&cache, objs[i]));
    CHECK_EQ(cache.live_objects, 0);
    CHECK(cache.slab_count <= 1);                    /* one empty slab may be kept */
    CHECK_EQ((uint64_t)pages_out, kobj_pages_in_use());
    check_all_pages_returned(&cache);
}

TEST(kobj_refuses_double_free_and_foreign_pointers)
{
    setup(-1);
    struct kobj_cache a, b;
    kobj_cache_init(&a, "a", 64);
    kobj_cache_init(&b, "b", 64);
    void *x = kobj_alloc(&a);
    void *y = kobj_alloc(&a);
    CHECK(!kobj_free(&b, x));                        /* wrong cache */
    CHECK(!kobj_free(&a, (uint8_t *)x + 16));        /* interior pointer */
    CHECK(!kobj_free(&a, NULL));
    CHECK(kobj_free(&a, x));
    CHECK(!kobj_free(&a, x));                        /* double free */
    CHECK_EQ(a.live_objects, 1);
    char *not_slab = aligned_alloc(KOBJ_SLAB_BYTES, KOBJ_SLAB_BYTES);
    memset(not_slab, 0, KOBJ_SLAB_BYTES);
    CHECK(!kfree_checked(not_slab + 128));
    free(not_slab);
    CHECK(kobj_free(&a, y));
    kobj_cache_shrink(&b);
    check_all_pages_returned(&a);
}

TEST(kmalloc_size_classes)
{
    setup(-1);
    void *small = kmalloc(1), *mid = kmalloc(300), *big = kmalloc(KOBJ_MAX_SIZE);
    CHECK(small && mid && big);
    CHECK(kmalloc(KOBJ_MAX_SIZE + 1) == NULL);
    memset(big, 0xAB, KOBJ_MAX_SIZE);                /* ASan catches overflow */
    CHECK(kfree_checked(small));
    CHECK(kfree_checked(mid));
    CHECK(kfree_checked(big));
    CHECK(!kfree_checked(big));
    struct kobj_cache own;
    kobj_cache_init(&own, "own", 32);
    void *o = kobj_alloc(&own);
    CHECK(!kfree_checked(o));                        /* not a kmalloc object */
    CHECK(kobj_free(&own, o));
    check_all_pages_returned(&own);
}

TEST(kobj_out_of_pages_returns_null)
{
    setup(1);
    struct kobj_cache cache;
    kobj_cache_init(&cache, "big", 2048);
    void *first = kobj_alloc(&cache);
    CHECK(first != NULL);
    CHECK(kobj_alloc(&cache) == NULL);               /* one object per slab, no second page */
    CHECK(kobj_free(&cache, first));
    void *again = kobj_alloc(&cache);
    CHECK(again != NULL);                            /* the kept empty slab is reused */
    CHECK(kobj_free(&cache, again));
    check_all_pages_returned(&cache);
}
