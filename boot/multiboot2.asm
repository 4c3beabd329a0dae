; multiboot2.asm - the multiboot2 header GRUB looks for (spec section 3.1).
;
; Asks for: command line, modules, memory map, old and new ACPI RSDP, and
; page-aligned modules (so later issues can hand modules out as frames).
; Every requested tag is marked optional: the kernel checks for what it needs.

MB2_MAGIC       equ 0xE85250D6
MB2_ARCH_I386   equ 0
MB2_TAG_OPTIONAL equ 1

section .multiboot2 align=8
header_start:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd header_end - header_start
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (header_end - header_start))

align 8
info_request_tag:
    dw 1                            ; type: information request
    dw MB2_TAG_OPTIONAL
    dd info_request_end - info_request_tag
    dd 1                            ; boot command line
    dd 3                            ; modules
    dd 6                            ; memory map
    dd 14                           ; ACPI old RSDP (v1)
    dd 15                           ; ACPI new RSDP (v2+)
info_request_end:

align 8
module_align_tag:
    dw 6                            ; type: page-align modules
    dw MB2_TAG_OPTIONAL
    dd 8

align 8
end_tag:
    dw 0
    dw 0
    dd 8
header_end:
