/*
 * linker.ld.S - kernel image layout (preprocessed with cpp, see Makefile).
 *
 * The boot code (multiboot2 header, 32-bit entry, boot page tables) is
 * linked and loaded at its physical address KERNEL_PHYS_BASE. Everything
 * else is linked at KERNEL_VMA + physical address and loaded just after
 * the boot code. Each part gets its own segment so the kernel can map
 * text R-X, rodata R-- and data/bss RW- with NX.
 */
#include "../kernel/arch/x86_64/layout.h"

OUTPUT_FORMAT(elf64-x86-64)
ENTRY(_start)

PHDRS {
    boot   PT_LOAD FLAGS(5);
    bootdata PT_LOAD FLAGS(6);
    text   PT_LOAD FLAGS(5);
    rodata PT_LOAD FLAGS(4);
    data   PT_LOAD FLAGS(6);
}

SECTIONS {
    . = KERNEL_PHYS_BASE;
    __kernel_phys_start = .;

    .boot : {
        KEEP(*(.multiboot2))
        *(.boot.text)
    } :boot
    .boot.data : ALIGN(4096) {
        *(.boot.data)
    } :bootdata
    .boot.bss (NOLOAD) : ALIGN(4096) {
        *(.boot.bss)
    } :bootdata

    . = ALIGN(4096);
    . += KERNEL_VMA;

    .text : AT(ADDR(.text) - KERNEL_VMA) {
        __text_start = .;
        *(.text .text.*)
        . = ALIGN(4096);
        __text_end = .;
    } :text

    .rodata : AT(ADDR(.rodata) - KERNEL_VMA) {
        __rodata_start = .;
        *(.rodata .rodata.*)
        . = ALIGN(8);
        __extable_start = .;
        KEEP(*(.extable))
        __extable_end = .;
        . = ALIGN(4096);
        __rodata_end = .;
    } :rodata

    .data : AT(ADDR(.data) - KERNEL_VMA) {
        __data_start = .;
        *(.data .data.*)
    } :data
    .bss : AT(ADDR(.bss) - KERNEL_VMA) {
        *(COMMON)
        *(.bss .bss.*)
        . = ALIGN(4096);
        __data_end = .;
    } :data

    __kernel_phys_end = . - KERNEL_VMA;

    /DISCARD/ : {
        *(.eh_frame) *(.eh_frame_hdr) *(.note .note.*) *(.comment)
    }
}
