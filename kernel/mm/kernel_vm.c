/*
 * kernel_vm.c - builds the kernel address space (see kernel_vm.h).
 *
 * Direct map: every available, ACPI and NVS region of the memory map (and
 * the first MiB) at DIRECT_MAP_BASE + phys, writable, never executable,
 * with 2 MiB pages for the 2 MiB-aligned middle of each region and 4 KiB
 * pages at its edges, so no page covers memory outside RAM.
 * MMIO window: a bump allocator over MMIO_WINDOW_BASE; mappings are never
 * removed (device registers are mapped once at boot).
 */
#include "mm/kernel_vm.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "core/panic.h"
#include "core/printk.h"
#include "mm/physmem.h"

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];

static uint64_t kernel_pml4_phys;
static uint64_t mmio_next = MMIO_WINDOW_BASE;

/* For the boot log. */
static struct {
    uint64_t direct_map_large_pages;
    uint64_t direct_map_small_pages;
} stats;

uint64_t kernel_vm_pml4(void)
{
    return kernel_pml4_phys;
}

static void map_or_panic(uint64_t va, uint64_t pa, uint64_t length, uint64_t flags, uint64_t page_size)
{
    int r = paging_map(kernel_pml4_phys, va, pa, length, flags, page_size);
    if (r != PAGING_OK)
        panic("kernel_vm: cannot map 0x%llx..0x%llx (error %d)",
              (unsigned long long)va, (unsigned long long)(va + length), r);
}

static void map_image_section(const char *start, const char *end, uint64_t flags)
{
    uint64_t va = (uint64_t)start;
    map_or_panic(va, va - KERNEL_VMA, (uint64_t)(end - start), flags, PAGE_SIZE_4K);
}

/* Maps [base, end) of RAM into the direct map; pages already mapped (from
 * overlapping memory map entries) are left as they are. */
static void direct_map_range(uint64_t base, uint64_t end)
{
    uint64_t flags = PTE_WRITABLE | PTE_NO_EXECUTE | PTE_GLOBAL;
    base &= ~(PAGE_SIZE_4K - 1);
    end = (end + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
    for (uint64_t pa = base; pa < end;) {
        bool large = (pa & (PAGE_SIZE_2M - 1)) == 0 && end - pa >= PAGE_SIZE_2M;
        uint64_t size = large ? PAGE_SIZE_2M : PAGE_SIZE_4K;
        int r = paging_map(kernel_pml4_phys, DIRECT_MAP_BASE + pa, pa, size, flags, size);
        if (r == PAGING_OK)
            large ? stats.direct_map_large_pages++ : stats.direct_map_small_pages++;
        else if (r != PAGING_ERR_EXISTS)
            panic("kernel_vm: direct map of 0x%llx failed (error %d)", (unsigned long long)pa, r);
        pa += size;
    }
}

void kernel_vm_init(const struct mb2_summary *boot)
{
    kernel_pml4_phys = physmem_alloc_zeroed();
    if (!kernel_pml4_phys)
        panic("kernel_vm: no memory for the kernel page tables");

    map_image_section(__text_start, __text_end, PTE_GLOBAL);
    map_image_section(__rodata_start, __rodata_end, PTE_GLOBAL | PTE_NO_EXECUTE);
    map_image_section(__data_start, __data_end, PTE_GLOBAL | PTE_WRITABLE | PTE_NO_EXECUTE);

    uint64_t limit = 0x100000;
    direct_map_range(0, 0x100000);
    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct mb2_memory_region *r = &boot->mmap[i];
        if (!mb2_memory_type_is_ram(r->type) || r->base >= DIRECT_MAP_MAX_BYTES)
            continue;
        uint64_t end = r->base + r->length;
        if (end > DIRECT_MAP_MAX_BYTES)
            end = DIRECT_MAP_MAX_BYTES;
        direct_map_range(r->base, end);
        if (end > limit)
            limit = end;
    }

    write_cr4(read_cr4() | CR4_PGE);
    write_cr3(kernel_pml4_phys);
    physmem_use_direct_map(limit);
    printk("kernel_vm: direct map of %llu MiB (%llu 2 MiB pages, %llu 4 KiB pages), boot identity map removed\n",
           (unsigned long long)(limit >> 20), (unsigned long long)stats.direct_map_large_pages,
           (unsigned long long)stats.direct_map_small_pages);
}

static void *window_map(uint64_t phys, uint64_t length, uint64_t flags)
{
    if (length == 0 || phys + length < phys)
        return NULL;
    uint64_t offset = phys & (PAGE_SIZE_4K - 1);
    uint64_t base = phys - offset;
    uint64_t size = (length + offset + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
    uint64_t page = PAGE_SIZE_4K;
    if ((base & (PAGE_SIZE_2M - 1)) == 0 && (size & (PAGE_SIZE_2M - 1)) == 0) {
        page = PAGE_SIZE_2M;
        mmio_next = (mmio_next + PAGE_SIZE_2M - 1) & ~(PAGE_SIZE_2M - 1);
    }
    if (mmio_next + size > MMIO_WINDOW_BASE + MMIO_WINDOW_BYTES)
        return NULL;
    if (paging_map(kernel_pml4_phys, mmio_next, base, size, flags, page) != PAGING_OK)
        return NULL;
    void *va = (void *)(mmio_next + offset);
    mmio_next += size;
    return va;
}

volatile void *mmio_map(uint64_t phys, uint64_t length)
{
    return window_map(phys, length, PTE_WRITABLE | PTE_NO_EXECUTE | PTE_CACHE_DISABLE | PTE_WRITE_THROUGH);
}

const void *firmware_map(uint64_t phys, uint64_t length)
{
    return window_map(phys, length, PTE_NO_EXECUTE);
}

/* User address spaces share the kernel half by copying its 256 PML4
 * entries. Every one of them gets its PDPT now, so a later kernel mapping
 * (MMIO, scratch) lands in a table all address spaces already point to. */
void kernel_vm_prepare_user_spaces(void)
{
    uint64_t *pml4 = phys_to_virt(kernel_pml4_phys);
    for (unsigned i = 256; i < 512; i++) {
        if (pml4[i] & PTE_PRESENT)
            continue;
        uint64_t table = physmem_alloc_zeroed();
        if (!table)
            panic("kernel_vm: no memory for the kernel half's page tables");
        pml4[i] = table | PTE_PRESENT | PTE_WRITABLE;
    }
}

void kernel_vm_copy_kernel_half(uint64_t pml4_phys)
{
    uint64_t *dst = phys_to_virt(pml4_phys);
    const uint64_t *src = phys_to_virt(kernel_pml4_phys);
    for (unsigned i = 256; i < 512; i++)
        dst[i] = src[i];
}
