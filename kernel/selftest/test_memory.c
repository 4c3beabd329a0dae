/*
 * test_memory.c - boot tests of the frame allocator over the real memory
 * map and of the kernel object allocator.
 */
#include "selftest/ktest.h"
#include "core/boot.h"
#include "core/printk.h"
#include "mm/frame.h"
#include "mm/kobj.h"
#include "mm/physmem.h"

#include <stdint.h>
#include <string.h>

#define ONE_MIB 0x100000ull
#define FOUR_GIB 0x100000000ull
#define TEST_FRAMES 2048

static uint64_t test_frames[TEST_FRAMES];

static bool overlaps(uint64_t frame, uint64_t start, uint64_t end)
{
    return frame < end && start < frame + FRAME_SIZE;
}

/* A frame the allocator hands out must be RAM and clear of everything the
 * kernel reserved at boot. */
static bool frame_is_legal(uint64_t frame)
{
    if (frame < ONE_MIB || frame % FRAME_SIZE)
        return false;
    if (overlaps(frame, kernel_image_phys_start(), kernel_image_phys_end()))
        return false;
    if (overlaps(frame, boot_info.info_phys, boot_info.info_phys + boot_info.info_size))
        return false;
    for (unsigned i = 0; i < boot_info.module_count; i++)
        if (overlaps(frame, boot_info.modules[i].start, boot_info.modules[i].end))
            return false;
    for (unsigned i = 0; i < boot_info.mmap_count; i++) {
        const struct mb2_memory_region *r = &boot_info.mmap[i];
        if (r->type == MB2_MEMORY_AVAILABLE && frame >= r->base && frame + FRAME_SIZE <= r->base + r->length)
            return true;
    }
    return false;
}

void test_frame_alloc_real_map(struct ktest_context *t)
{
    struct frame_allocator *fa = physmem_allocator();
    uint64_t free_before = fa->free_frames;
    unsigned n = 0, illegal = 0;
    for (; n < TEST_FRAMES; n++) {
        test_frames[n] = physmem_alloc();
        if (!test_frames[n])
            break;
        if (!frame_is_legal(test_frames[n]))
            illegal++;
        *(volatile uint64_t *)phys_to_virt(test_frames[n]) = test_frames[n] ^ 0x5A5A5A5A5A5A5A5Aull;
    }
    KTEST_EXPECT(t, n == TEST_FRAMES);
    KTEST_EXPECT(t, illegal == 0);
    KTEST_EXPECT(t, fa->free_frames == free_before - n);
    /* Every frame still holds its own tag: no frame was handed out twice. */
    unsigned clobbered = 0;
    for (unsigned i = 0; i < n; i++)
        if (*(volatile uint64_t *)phys_to_virt(test_frames[i]) != (test_frames[i] ^ 0x5A5A5A5A5A5A5A5Aull))
            clobbered++;
    KTEST_EXPECT(t, clobbered == 0);
    for (unsigned i = 0; i < n; i++)
        physmem_free(test_frames[i]);
    KTEST_EXPECT(t, fa->free_frames == free_before);
    /* A second free, and a free of reserved memory, are refused. */
    if (n)
        KTEST_EXPECT(t, frame_free(fa, test_frames[0]) == FRAME_ERR_NOT_ALLOCATED);
    KTEST_EXPECT(t, frame_free(fa, kernel_image_phys_start()) == FRAME_ERR_NOT_ALLOCATED);
    KTEST_EXPECT(t, fa->free_frames == free_before);
}

void test_frames_above_4g(struct ktest_context *t)
{
    struct physmem_stats stats = physmem_stats();
    if (stats.above_4g_bytes == 0) {
        ktest_skip(t, "no RAM above 4 GiB on this machine");
        return;
    }
    struct frame_allocator *fa = physmem_allocator();
    uint64_t free_before = fa->free_frames;
    uint64_t frame = 0;
    if (!KTEST_EXPECT(t, frame_alloc_contig(fa, 1, 1, FOUR_GIB, UINT64_MAX, &frame) == FRAME_OK))
        return;
    KTEST_EXPECT(t, frame >= FOUR_GIB);
    KTEST_EXPECT(t, frame_is_legal(frame));
    volatile uint64_t *p = phys_to_virt(frame);
    p[0] = 0x0123456789ABCDEFull;
    p[511] = ~0x0123456789ABCDEFull;
    KTEST_EXPECT(t, p[0] == 0x0123456789ABCDEFull && p[511] == ~0x0123456789ABCDEFull);
    physmem_free(frame);
    KTEST_EXPECT(t, fa->free_frames == free_before);
    printk("# used frame 0x%llx above 4 GiB\n", (unsigned long long)frame);
}

void test_frame_alloc_contiguous(struct ktest_context *t)
{
    struct frame_allocator *fa = physmem_allocator();
    uint64_t free_before = fa->free_frames;
    uint64_t base = 0;
    if (!KTEST_EXPECT(t, frame_alloc_contig(fa, 512, 512, 0, UINT64_MAX, &base) == FRAME_OK))
        return;
    KTEST_EXPECT(t, base % (512 * FRAME_SIZE) == 0);
    bool all_legal = true;
    for (uint64_t f = base; f < base + 512 * FRAME_SIZE; f += FRAME_SIZE)
        all_legal &= frame_is_legal(f) && frame_is_allocated(fa, f);
    KTEST_EXPECT(t, all_legal);
    KTEST_EXPECT(t, fa->free_frames == free_before - 512);
    /* Freeing more than was allocated is refused without changing anything. */
    KTEST_EXPECT(t, frame_free_contig(fa, base, 513) == FRAME_ERR_NOT_ALLOCATED);
    KTEST_EXPECT(t, frame_free_contig(fa, base, 512) == FRAME_OK);
    KTEST_EXPECT(t, fa->free_frames == free_before);
}

void test_kobj_allocator(struct ktest_context *t)
{
    kobj_shrink_all();
    uint64_t pages_before = kobj_pages_in_use();
    uint64_t free_before = physmem_allocator()->free_frames;
    static void *objects[600];
    static const size_t sizes[] = { 1, 24, 100, 256, 700, 2048 };
    bool zeroed = true;
    for (unsigned i = 0; i < 600; i++) {
        size_t size = sizes[i % 6];
        objects[i] = kmalloc(size);
        if (!KTEST_EXPECT(t, objects[i] != NULL))
            return;
        for (size_t b = 0; b < size; b++)
            zeroed &= ((uint8_t *)objects[i])[b] == 0;
        memset(objects[i], (int)i, size);
    }
    KTEST_EXPECT(t, zeroed);
    bool intact = true;
    for (unsigned i = 0; i < 600; i++)
        intact &= ((uint8_t *)objects[i])[sizes[i % 6] - 1] == (uint8_t)i;
    KTEST_EXPECT(t, intact);
    KTEST_EXPECT(t, kmalloc(KOBJ_MAX_SIZE + 1) == NULL);
    for (unsigned i = 0; i < 600; i++)
        KTEST_EXPECT(t, kfree_checked(objects[i]));
    /* A double free and a pointer into the middle of an object are refused. */
    void *p = kmalloc(64);
    KTEST_EXPECT(t, !kfree_checked((uint8_t *)p + 8));
    KTEST_EXPECT(t, kfree_checked(p));
    KTEST_EXPECT(t, !kfree_checked(p));
    /* Once the kept empty slabs are returned, every page is back. */
    kobj_shrink_all();
    KTEST_EXPECT(t, kobj_pages_in_use() == pages_before);
    KTEST_EXPECT(t, physmem_allocator()->free_frames == free_before);
}
