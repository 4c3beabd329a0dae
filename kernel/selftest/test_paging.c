/*
 * test_paging.c - boot tests of page-table editing: 4 KiB and 2 MiB
 * mappings appear and disappear (checked by faulting probes), errors are
 * reported for overlaps, splits and bad arguments, and the kernel image is
 * mapped with the right permissions.
 */
#include "selftest/ktest.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/probe.h"
#include "mm/kernel_vm.h"
#include "mm/physmem.h"

#include <stdint.h>

void test_page_map_unmap_4k(struct ktest_context *t)
{
    uint64_t pml4 = kernel_vm_pml4();
    uint64_t va = SCRATCH_WINDOW_BASE;
    uint64_t frame = physmem_alloc_zeroed();
    if (!KTEST_EXPECT(t, frame != 0))
        return;
    uint64_t value = 0;
    KTEST_EXPECT(t, probe_read_u64((void *)va, &value) == -1);   /* nothing there yet */

    KTEST_EXPECT(t, paging_map(pml4, va, frame, PAGE_SIZE_4K, PTE_WRITABLE | PTE_NO_EXECUTE, PAGE_SIZE_4K) == PAGING_OK);
    KTEST_EXPECT(t, probe_write_u64((void *)va, 0xFEEDFACECAFEBEEFull) == 0);
    KTEST_EXPECT(t, *(volatile uint64_t *)phys_to_virt(frame) == 0xFEEDFACECAFEBEEFull);
    uint64_t pa = 0, flags = 0;
    KTEST_EXPECT(t, paging_translate(pml4, va + 0x123, &pa, &flags) && pa == frame + 0x123);
    KTEST_EXPECT(t, (flags & PTE_NO_EXECUTE) && (flags & PTE_WRITABLE));

    /* Refusals, each with its own error, leave the mapping as it was. */
    KTEST_EXPECT(t, paging_map(pml4, va, frame, PAGE_SIZE_4K, PTE_WRITABLE, PAGE_SIZE_4K) == PAGING_ERR_EXISTS);
    KTEST_EXPECT(t, paging_map(pml4, va + 1, frame, PAGE_SIZE_4K, 0, PAGE_SIZE_4K) == PAGING_ERR_INVALID);
    KTEST_EXPECT(t, paging_map(pml4, va + PAGE_SIZE_4K, frame, 0, 0, PAGE_SIZE_4K) == PAGING_ERR_INVALID);
    KTEST_EXPECT(t, paging_map(pml4, 0x0000800000000000ull, frame, PAGE_SIZE_4K, 0, PAGE_SIZE_4K) == PAGING_ERR_INVALID);
    KTEST_EXPECT(t, paging_map(pml4, va + PAGE_SIZE_4K, frame, PAGE_SIZE_4K, PTE_ACCESSED, PAGE_SIZE_4K) == PAGING_ERR_INVALID);
    KTEST_EXPECT(t, paging_unmap(pml4, va + PAGE_SIZE_4K, PAGE_SIZE_4K) == PAGING_ERR_NOT_MAPPED);
    KTEST_EXPECT(t, paging_unmap(pml4, va, 2 * PAGE_SIZE_4K) == PAGING_ERR_NOT_MAPPED);
    KTEST_EXPECT(t, probe_read_u64((void *)va, &value) == 0 && value == 0xFEEDFACECAFEBEEFull);

    KTEST_EXPECT(t, paging_unmap(pml4, va, PAGE_SIZE_4K) == PAGING_OK);
    KTEST_EXPECT(t, !paging_translate(pml4, va, &pa, &flags));
    KTEST_EXPECT(t, probe_read_u64((void *)va, &value) == -1);   /* the TLB was flushed */
    physmem_free(frame);
}

void test_page_map_unmap_2m(struct ktest_context *t)
{
    uint64_t pml4 = kernel_vm_pml4();
    uint64_t va = SCRATCH_WINDOW_BASE + PAGE_SIZE_2M;
    struct frame_allocator *fa = physmem_allocator();
    uint64_t base;
    if (!KTEST_EXPECT(t, frame_alloc_contig(fa, 512, 512, 0, UINT64_MAX, &base) == FRAME_OK))
        return;
    KTEST_EXPECT(t, paging_map(pml4, va + PAGE_SIZE_4K, base, PAGE_SIZE_2M, 0, PAGE_SIZE_2M) == PAGING_ERR_INVALID);
    KTEST_EXPECT(t, paging_map(pml4, va, base, PAGE_SIZE_2M, PTE_WRITABLE | PTE_NO_EXECUTE, PAGE_SIZE_2M) == PAGING_OK);
    uint64_t pa = 0, flags = 0;
    KTEST_EXPECT(t, paging_translate(pml4, va + 0x123456, &pa, &flags) && pa == base + 0x123456);
    KTEST_EXPECT(t, flags & PTE_LARGE);
    KTEST_EXPECT(t, probe_write_u64((void *)(va + 0x100000), 0x2222333344445555ull) == 0);
    KTEST_EXPECT(t, *(volatile uint64_t *)phys_to_virt(base + 0x100000) == 0x2222333344445555ull);
    /* A 4 KiB page inside the large page cannot be mapped or unmapped alone. */
    KTEST_EXPECT(t, paging_map(pml4, va + PAGE_SIZE_4K, base, PAGE_SIZE_4K, 0, PAGE_SIZE_4K) == PAGING_ERR_EXISTS);
    KTEST_EXPECT(t, paging_unmap(pml4, va, PAGE_SIZE_4K) == PAGING_ERR_SPLIT);
    KTEST_EXPECT(t, paging_unmap(pml4, va, PAGE_SIZE_2M) == PAGING_OK);
    uint64_t value;
    KTEST_EXPECT(t, probe_read_u64((void *)(va + 0x100000), &value) == -1);
    KTEST_EXPECT(t, frame_free_contig(fa, base, 512) == FRAME_OK);
}

void test_kernel_sections_protected(struct ktest_context *t)
{
    extern char __text_start[], __rodata_start[], __data_start[];
    uint64_t pml4 = kernel_vm_pml4();
    uint64_t pa, flags;
    KTEST_EXPECT(t, paging_translate(pml4, (uint64_t)__text_start, &pa, &flags) &&
                    !(flags & PTE_NO_EXECUTE) && !(flags & PTE_WRITABLE));
    KTEST_EXPECT(t, paging_translate(pml4, (uint64_t)__rodata_start, &pa, &flags) &&
                    (flags & PTE_NO_EXECUTE) && !(flags & PTE_WRITABLE));
    KTEST_EXPECT(t, paging_translate(pml4, (uint64_t)__data_start, &pa, &flags) &&
                    (flags & PTE_NO_EXECUTE) && (flags & PTE_WRITABLE));
    KTEST_EXPECT(t, paging_translate(pml4, DIRECT_MAP_BASE + 0x100000, &pa, &flags) &&
                    pa == 0x100000 && (flags & PTE_NO_EXECUTE));
    /* CR0.WP is on: even the kernel cannot write its read-only data. */
    KTEST_EXPECT(t, probe_write_u64(__rodata_start, 0) == -1);
    KTEST_EXPECT(t, probe_write_u64(__text_start, 0) == -1);
    /* The boot identity map is gone. */
    uint64_t value;
    KTEST_EXPECT(t, probe_read_u64((void *)0x200000, &value) == -1);
}
