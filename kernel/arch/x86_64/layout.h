/*
 * layout.h - the kernel's virtual and physical memory layout.
 *
 * The single source of these numbers: the linker script is preprocessed
 * with this header and the Makefile extracts KERNEL_VMA for NASM.
 * Keep each #define on one line with a plain hex literal.
 *
 *   0x0000000000000000 .. 0x00007fffffffffff   user space (later issues)
 *   0xffff800000000000 ..                      direct map of all physical memory
 *   0xffffc00000000000 ..                      MMIO window (uncached device registers)
 *   0xffffe00000000000 ..                      scratch window for boot self-tests
 *   0xffffffff80000000 ..                      kernel image (linked here, loaded at 2 MiB)
 */
#ifndef WARDEN_ARCH_LAYOUT_H
#define WARDEN_ARCH_LAYOUT_H

#define KERNEL_VMA 0xFFFFFFFF80000000
#define KERNEL_PHYS_BASE 0x200000
#define DIRECT_MAP_BASE 0xFFFF800000000000
#define DIRECT_MAP_MAX_BYTES 0x0000100000000000
#define MMIO_WINDOW_BASE 0xFFFFC00000000000
#define MMIO_WINDOW_BYTES 0x0000000040000000
#define SCRATCH_WINDOW_BASE 0xFFFFE00000000000

/* Until the kernel's own page tables are live, the boot tables map the
 * first EARLY_WINDOW_BYTES of physical memory at KERNEL_VMA. */
#define EARLY_WINDOW_BYTES 0x40000000

#define PAGE_SIZE 4096
#define LARGE_PAGE_SIZE 0x200000

#endif
