/*
 * kernel_vm.h - the kernel's own address space: the kernel image mapped
 * with per-section permissions, the direct map of all RAM, and a window
 * for uncached device registers (MMIO).
 */
#ifndef WARDEN_MM_KERNEL_VM_H
#define WARDEN_MM_KERNEL_VM_H

#include <stdint.h>

#include "core/multiboot2.h"

/* Builds the kernel page tables and switches to them. After this the boot
 * identity mapping is gone and phys_to_virt uses the direct map. */
void kernel_vm_init(const struct mb2_summary *boot);

/* Physical address of the kernel's PML4. */
uint64_t kernel_vm_pml4(void);

/* Gives every kernel-half PML4 entry a table (once, before user space). */
void kernel_vm_prepare_user_spaces(void);
/* Copies the kernel half into a new user PML4. */
void kernel_vm_copy_kernel_half(uint64_t pml4_phys);

/* Maps device registers [phys, phys+length) uncached and non-executable;
 * returns the virtual address of phys, or NULL if the window is full. */
volatile void *mmio_map(uint64_t phys, uint64_t length);

/* Maps firmware memory (ACPI tables outside RAM) read-only, cached;
 * returns the virtual address of phys, or NULL. */
const void *firmware_map(uint64_t phys, uint64_t length);

#endif
