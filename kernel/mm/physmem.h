/*
 * physmem.h - the kernel's physical memory: the global frame allocator
 * built from the boot memory map, and the phys <-> virt translation.
 *
 * Until kernel_vm_init() switches to the kernel's own page tables, only the
 * first EARLY_WINDOW_BYTES of physical memory are reachable (at KERNEL_VMA)
 * and allocations stay below that; afterwards all RAM is reachable through
 * the direct map.
 */
#ifndef WARDEN_MM_PHYSMEM_H
#define WARDEN_MM_PHYSMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/multiboot2.h"
#include "mm/frame.h"

struct physmem_stats {
    uint64_t usable_bytes;          /* RAM the allocator manages */
    uint64_t above_4g_bytes;        /* part of it above 4 GiB */
    uint64_t free_frames;
    uint64_t frame_count;           /* frames covered by the bitmaps */
};

/* Builds the allocator: all available RAM minus the first MiB, the kernel
 * image, the boot information, the modules and the allocator's own bitmap.
 * Panics with a clear message if there is no usable memory map. */
void physmem_init(const struct mb2_summary *boot);

/* One frame, or 0 when memory is exhausted (frame 0 is never handed out). */
uint64_t physmem_alloc(void);
uint64_t physmem_alloc_zeroed(void);
/* Freeing a frame that is not allocated is a kernel bug: panics. */
void physmem_free(uint64_t phys);
/* count contiguous frames aligned to align_frames, or 0; freed with physmem_free_contig. */
uint64_t physmem_alloc_contig(uint64_t count, uint64_t align_frames);
void physmem_free_contig(uint64_t phys, uint64_t count);
uint64_t physmem_free_frames(void);

struct physmem_stats physmem_stats(void);
struct frame_allocator *physmem_allocator(void);

void *phys_to_virt(uint64_t phys);
/* Physical address of a direct-map or kernel-image virtual address. */
uint64_t virt_to_phys(const void *virt);

/* Called by kernel_vm_init once the direct map is live. */
void physmem_use_direct_map(uint64_t direct_map_limit);
/* True if [phys, phys+length) is reachable through phys_to_virt now. */
bool physmem_is_reachable(uint64_t phys, uint64_t length);

/* Kernel image bounds from the linker script (physical). */
uint64_t kernel_image_phys_start(void);
uint64_t kernel_image_phys_end(void);

#endif
