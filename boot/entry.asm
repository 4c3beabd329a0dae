; entry.asm - from GRUB's 32-bit protected mode to the 64-bit kmain.
;
; GRUB enters _start with EAX = multiboot2 magic, EBX = physical address of
; the boot information, paging off, interrupts off (multiboot2 spec 3.3).
; This file:
;   1. checks the magic and that the CPU has CPUID, PAE, long mode and NX,
;      printing a clear message on COM1 (and exiting QEMU through
;      isa-debug-exit when present) instead of triple-faulting;
;   2. builds boot page tables that map the first 1 GiB of physical memory
;      both at 0 (identity, to survive enabling paging) and at KERNEL_VMA;
;   3. enables PAE, long mode, NX and paging, loads a 64-bit GDT and jumps
;      to the higher-half kmain(magic, info_phys) on the kernel boot stack.
; The C kernel replaces these tables and this GDT as soon as it can.
;
; KERNEL_VMA comes from kernel/arch/x86_64/layout.h through the Makefile.

MB2_BOOT_MAGIC   equ 0x36D76289
COM1             equ 0x3F8
DEBUG_EXIT_PORT  equ 0xF4
EXIT_CPU_UNSUPPORTED equ 0x13       ; QEMU exits with (0x13 << 1) | 1 = 39

PTE_PRESENT      equ 1 << 0
PTE_WRITABLE     equ 1 << 1
PTE_LARGE        equ 1 << 7

CR0_PG           equ 1 << 31
CR0_WP           equ 1 << 16
CR4_PAE          equ 1 << 5
MSR_EFER         equ 0xC0000080
EFER_LME         equ 1 << 8
EFER_NXE         equ 1 << 11

KERNEL_PML4_INDEX equ (KERNEL_VMA >> 39) & 511
KERNEL_PDPT_INDEX equ (KERNEL_VMA >> 30) & 511

extern kmain

section .boot.text progbits alloc exec nowrite align=16
bits 32
global _start
_start:
    cli
    cld
    mov esp, boot32_stack_top
    mov edi, eax                    ; keep magic and info pointer in
    mov esi, ebx                    ; callee-saved registers

    call serial32_init

    cmp edi, MB2_BOOT_MAGIC
    jne .bad_magic

    call cpu_has_cpuid
    test eax, eax
    jz .no_cpuid

    mov eax, 0x80000000             ; highest extended leaf
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29               ; LM
    jz .no_long_mode
    test edx, 1 << 20               ; NX
    jz .no_nx
    mov eax, 1
    cpuid
    test edx, 1 << 6                ; PAE
    jz .no_long_mode

    call build_boot_page_tables

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_WP
    mov cr0, eax

    lgdt [boot_gdt_pointer]
    jmp BOOT_CODE64:long_mode_entry

.bad_magic:
    mov eax, msg_bad_magic
    jmp fail32
.no_cpuid:
    mov eax, msg_no_cpuid
    jmp fail32
.no_long_mode:
    mov eax, msg_no_long_mode
    jmp fail32
.no_nx:
    mov eax, msg_no_nx
    jmp fail32

; Returns EAX != 0 when EFLAGS.ID can be toggled (CPUID is available).
cpu_has_cpuid:
    pushfd
    pop eax
    mov ecx, eax
    xor eax, 1 << 21
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    xor eax, ecx
    and eax, 1 << 21
    ret

; Identity and higher-half mappings of physical 0..1 GiB with 2 MiB pages.
build_boot_page_tables:
    push edi                        ; EDI holds the multiboot2 magic
    mov edi, boot_pml4              ; zero all four tables (GRUB zeroes
    mov ecx, 4 * 4096 / 4           ; bss too, but do not rely on it)
    xor eax, eax
    rep stosd
    mov dword [boot_pml4], boot_pdpt_low + PTE_PRESENT + PTE_WRITABLE
    mov dword [boot_pml4 + KERNEL_PML4_INDEX * 8], boot_pdpt_high + PTE_PRESENT + PTE_WRITABLE
    mov dword [boot_pdpt_low], boot_pd + PTE_PRESENT + PTE_WRITABLE
    mov dword [boot_pdpt_high + KERNEL_PDPT_INDEX * 8], boot_pd + PTE_PRESENT + PTE_WRITABLE
    xor ecx, ecx
.next_pd_entry:
    mov eax, ecx
    shl eax, 21
    or eax, PTE_PRESENT + PTE_WRITABLE + PTE_LARGE
    mov [boot_pd + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jne .next_pd_entry
    pop edi
    ret

; COM1: 115200 baud, 8N1, FIFO on. Same settings as kernel/arch/x86_64/serial.c.
serial32_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                      ; no interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                      ; DLAB on
    mov dx, COM1
    mov al, 1
    out dx, al                      ; divisor 1 = 115200
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                      ; 8N1, DLAB off
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al                      ; FIFO on and cleared
    ret

; Prints the NUL-terminated string at EAX on COM1.
serial32_puts:
    mov ebx, eax
.next_char:
    mov al, [ebx]
    test al, al
    jz .done
    mov ah, al
    mov dx, COM1 + 5
.wait_transmitter:
    in al, dx
    test al, 0x20
    jz .wait_transmitter
    mov dx, COM1
    mov al, ah
    out dx, al
    inc ebx
    jmp .next_char
.done:
    ret

; Prints the message at EAX, asks QEMU to exit, then halts for good.
fail32:
    push eax
    mov eax, msg_prefix
    call serial32_puts
    pop eax
    call serial32_puts
    mov dx, DEBUG_EXIT_PORT
    mov eax, EXIT_CPU_UNSUPPORTED
    out dx, eax
.halt:
    cli
    hlt
    jmp .halt

bits 64
long_mode_entry:
    mov ax, BOOT_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, kernel_boot_stack_top  ; higher-half stack in .bss
    xor ebp, ebp                    ; terminates stack traces
    mov edi, edi                    ; arg 0: multiboot2 magic (zero-extended)
    mov esi, esi                    ; arg 1: boot information, physical
    mov rax, kmain
    call rax
.halt:
    cli
    hlt
    jmp .halt

section .boot.data progbits alloc noexec write align=16
msg_prefix:       db 13, 10, "warden: cannot boot: ", 0
msg_bad_magic:    db "not started by a multiboot2 loader (bad magic in EAX)", 13, 10, 0
msg_no_cpuid:     db "this CPU has no CPUID instruction; Warden needs an x86-64 CPU", 13, 10, 0
msg_no_long_mode: db "this CPU does not support long mode (64-bit); Warden needs an x86-64 CPU", 13, 10, 0
msg_no_nx:        db "this CPU lacks the NX (no-execute) page bit; Warden requires it", 13, 10, 0

align 16
boot_gdt:
    dq 0
BOOT_CODE64 equ $ - boot_gdt
    dq 0x00AF9A000000FFFF           ; 64-bit code, DPL 0
BOOT_DATA equ $ - boot_gdt
    dq 0x00CF92000000FFFF           ; data, DPL 0
boot_gdt_end:
boot_gdt_pointer:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt

section .boot.bss nobits alloc noexec write align=4096
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096
boot_pdpt_high: resb 4096
boot_pd:        resb 4096
boot32_stack:   resb 4096
boot32_stack_top:

; The boot CPU's kernel stack, in the higher-half .bss (mapped RW, NX).
section .bss nobits alloc noexec write align=16
kernel_boot_stack:  resb 32768
global kernel_boot_stack_top
kernel_boot_stack_top:
