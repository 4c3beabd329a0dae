/*
 * physmem.c - builds and owns the global frame allocator. See physmem.h.
 * Single CPU for now: SMP will need a lock around the allocator here.
 */
#include "mm/physmem.h"
#include "arch/x86_64/layout.h"
#include "core/panic.h"
#include "core/printk.h"

#include <string.h>

#define ONE_MIB 0x100000ull
#define FOUR_GIB 0x100000000ull
#define MIN_USABLE_BYTES (8 * ONE_MIB)

extern char __kernel_phys_start[], __kernel_phys_end[];

static struct frame_allocator frames;
static uint64_t usable_bytes, above_4g_bytes;
static bool direct_map_live;
static uint64_t reachable_limit = EARLY_WINDOW_BYTES;

uint64_t kernel_image_phys_start(void) { return (uint64_t)__kernel_phys_start; }
uint64_t kernel_image_phys_end(void) { return (uint64_t)__kernel_phys_end; }

void *phys_to_virt(uint64_t phys)
{
    KASSERT(phys < reachable_limit);
    return (void *)(phys + (direct_map_live ? DIRECT_MAP_BASE : KERNEL_VMA));
}

uint64_t virt_to_phys(const void *virt)
{
    uint64_t va = (uint64_t)virt;
    if (va >= KERNEL_VMA)
        return va - KERNEL_VMA;
    KASSERT(direct_map_live && va >= DIRECT_MAP_BASE && va - DIRECT_MAP_BASE < reachable_limit);
    return va - DIRECT_MAP_BASE;
}

bool physmem_is_reachable(uint64_t phys, uint64_t length)
{
    return phys + length >= phys && phys + length <= reachable_limit;
}

struct range { uint64_t start, end; };

/* Everything the allocator must never hand out, besides the first MiB. */
static unsigned boot_reserved_ranges(const struct mb2_summary *boot, struct range *out, unsigned max)
{
    unsigned n = 0;
    out[n++] = (struct range){ kernel_image_phys_start(), kernel_image_phys_end() };
    out[n++] = (struct range){ boot->info_phys, boot->info_phys + boot->info_size };
    for (unsigned i = 0; i < boot->module_count && n < max; i++)
        out[n++] = (struct range){ boot->modules[i].start, boot->modules[i].end };
    return n;
}

/* A page-aligned spot of `bytes` in available RAM, above 1 MiB, inside
 * the early window, clear of the reserved ranges. */
static uint64_t find_bitmap_home(const struct mb2_summary *boot, uint64_t bytes,
                                 const struct range *reserved, unsigned nreserved)
{
    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct mb2_memory_region *r = &boot->mmap[i];
        if (r->type != MB2_MEMORY_AVAILABLE)
            continue;
        uint64_t end = r->base + r->length;
        if (end > EARLY_WINDOW_BYTES)
            end = EARLY_WINDOW_BYTES;
        uint64_t candidate = r->base < ONE_MIB ? ONE_MIB : r->base;
        candidate = (candidate + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
        bool moved = true;
        while (moved && candidate + bytes <= end) {
            moved = false;
            for (unsigned k = 0; k < nreserved; k++) {
                if (candidate < reserved[k].end && reserved[k].start < candidate + bytes) {
                    candidate = (reserved[k].end + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
                    moved = true;
                }
            }
        }
        if (candidate + bytes <= end)
            return candidate;
    }
    return 0;
}

static void print_memory_map(const struct mb2_summary *boot)
{
    printk("memory: %u regions from the boot loader\n", boot->mmap_count);
    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct mb2_memory_region *r = &boot->mmap[i];
        printk("  [0x%012llx-0x%012llx] %8llu KiB %s\n", (unsigned long long)r->base,
               (unsigned long long)(r->base + r->length - 1),
               (unsigned long long)(r->length / 1024), mb2_memory_type_name(r->type));
    }
}

void physmem_init(const struct mb2_summary *boot)
{
    if (!boot->has_mmap || boot->mmap_count == 0)
        panic("no memory map from the boot loader: cannot manage memory");
    print_memory_map(boot);

    uint64_t top = 0;
    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct mb2_memory_region *r = &boot->mmap[i];
        if (r->type == MB2_MEMORY_AVAILABLE && r->base + r->length > top)
            top = r->base + r->length;
    }
    if (top > DIRECT_MAP_MAX_BYTES) {
        printk("memory: RAM above %llu GiB is not used\n",
               (unsigned long long)(DIRECT_MAP_MAX_BYTES >> 30));
        top = DIRECT_MAP_MAX_BYTES;
    }
    uint64_t frame_count = top >> FRAME_SHIFT;
    uint64_t bitmap_bytes = (frame_bitmap_bytes(frame_count) + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);

    struct range reserved[2 + MB2_MAX_MODULES];
    unsigned nreserved = boot_reserved_ranges(boot, reserved, 2 + MB2_MAX_MODULES);
    uint64_t bitmap_phys = find_bitmap_home(boot, bitmap_bytes, reserved, nreserved);
    if (!bitmap_phys)
        panic("memory: no room below %llu MiB for the %llu KiB frame bitmap",
              (unsigned long long)(EARLY_WINDOW_BYTES >> 20), (unsigned long long)(bitmap_bytes >> 10));

    frame_allocator_init(&frames, phys_to_virt(bitmap_phys), frame_count);
    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct mb2_memory_region *r = &boot->mmap[i];
        if (r->type == MB2_MEMORY_AVAILABLE)
            frame_add_free_range(&frames, r->base, r->length);
    }
    frame_reserve_range(&frames, 0, ONE_MIB);
    for (unsigned k = 0; k < nreserved; k++)
        frame_reserve_range(&frames, reserved[k].start, reserved[k].end - reserved[k].start);
    frame_reserve_range(&frames, bitmap_phys, bitmap_bytes);

    usable_bytes = frames.usable_frames * FRAME_SIZE;
    above_4g_bytes = frame_count_usable(&frames, FOUR_GIB, UINT64_MAX) * FRAME_SIZE;
    if (usable_bytes < MIN_USABLE_BYTES)
        panic("memory: only %llu KiB usable; Warden needs at least %llu MiB",
              (unsigned long long)(usable_bytes >> 10), (unsigned long long)(MIN_USABLE_BYTES >> 20));
    printk("memory: %llu MiB usable (above 4 GiB: %llu MiB), %llu frames free, bitmap %llu KiB at 0x%llx\n",
           (unsigned long long)(usable_bytes >> 20), (unsigned long long)(above_4g_bytes >> 20),
           (unsigned long long)frames.free_frames, (unsigned long long)(bitmap_bytes >> 10),
           (unsigned long long)bitmap_phys);
}

void physmem_use_direct_map(uint64_t direct_map_limit)
{
    frames.used = (uint64_t *)((uint64_t)frames.used - KERNEL_VMA + DIRECT_MAP_BASE);
    frames.usable = (uint64_t *)((uint64_t)frames.usable - KERNEL_VMA + DIRECT_MAP_BASE);
    direct_map_live = true;
    reachable_limit = direct_map_limit;
}

uint64_t physmem_alloc(void)
{
    uint64_t phys;
    int r = direct_map_live ? frame_alloc(&frames, &phys)
                            : frame_alloc_contig(&frames, 1, 1, 0, EARLY_WINDOW_BYTES, &phys);
    return r == FRAME_OK ? phys : 0;
}

uint64_t physmem_alloc_zeroed(void)
{
    uint64_t phys = physmem_alloc();
    if (phys)
        memset(phys_to_virt(phys), 0, FRAME_SIZE);
    return phys;
}

void physmem_free(uint64_t phys)
{
    int r = frame_free(&frames, phys);
    if (r != FRAME_OK)
        panic("physmem_free: frame 0x%llx is not allocated (error %d)", (unsigned long long)phys, r);
}

uint64_t physmem_alloc_contig(uint64_t count, uint64_t align_frames)
{
    uint64_t phys;
    uint64_t max = direct_map_live ? UINT64_MAX : EARLY_WINDOW_BYTES;
    return frame_alloc_contig(&frames, count, align_frames, 0, max, &phys) == FRAME_OK ? phys : 0;
}

void physmem_free_contig(uint64_t phys, uint64_t count)
{
    int r = frame_free_contig(&frames, phys, count);
    if (r != FRAME_OK)
        panic("physmem_free_contig: 0x%llx (+%llu frames) is not allocated (error %d)",
              (unsigned long long)phys, (unsigned long long)count, r);
}

uint64_t physmem_free_frames(void)
{
    return frames.free_frames;
}

struct physmem_stats physmem_stats(void)
{
    return (struct physmem_stats){ usable_bytes, above_4g_bytes, frames.free_frames, frames.frame_count };
}

struct frame_allocator *physmem_allocator(void)
{
    return &frames;
}
