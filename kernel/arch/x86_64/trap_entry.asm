; trap_entry.asm - one stub per IDT vector and the common path.
;
; Each stub pushes a zero error code when the CPU does not push one (also
; when a device sent an interrupt on a vector that has one), then the
; vector number, and jumps to trap_common, which saves the general
; registers as a struct trap_frame (trap.h) and calls trap_dispatch(frame).
; The frame may be modified (RIP for exception fixups) before returning.
; Entries from user mode (CS.RPL = 3) swap GS to the kernel's per-CPU data
; and back on exit. trap_return_to_user is also the first way into user
; mode of a new thread and the SYSCALL exit for non-canonical RIPs.

bits 64
%include "trap_frame.inc"
section .text

extern trap_dispatch

; Code selectors (gdt.h): kernel, 32-bit user, 64-bit user (RPL 3).
%define KERNEL_CS 0x08
%define USER_CS32 0x1b
%define USER_CS 0x2b
; trap_dispatch's mark on the vector of an interrupt that came on an
; exception vector which has an error code (trap.h FORGED_VECTOR_FLAG).
%define FORGED_VECTOR_FLAG 0x100

%macro TRAP_STUB 1
align 16
trap_stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
    ; The CPU pushed an error code, unless a device sent an interrupt with
    ; this vector (a forged MSI): then nothing was pushed, and the slot
    ; where CS would be holds RFLAGS, which never reads as a code selector
    ; (bit 1 is always set, bits 3 and 5 never).
    cmp word [rsp + 16], KERNEL_CS
    je %%exception
    cmp word [rsp + 16], USER_CS
    je %%exception
    cmp word [rsp + 16], USER_CS32
    je %%exception
    push 0
    push %1 + FORGED_VECTOR_FLAG
    jmp trap_common
%%exception:
%else
    push 0
%endif
    push %1
    jmp trap_common
%endmacro

%assign vector 0
%rep 256
    TRAP_STUB vector
%assign vector vector + 1
%endrep

trap_common:
    test qword [rsp + 24], 3        ; CS of the interrupted context
    jz .from_kernel
    swapgs
.from_kernel:
    PUSH_TRAP_REGS
    cld
    mov rdi, rsp                ; struct trap_frame *
    call trap_dispatch

global trap_return_to_user
trap_return_to_user:
    POP_TRAP_REGS
    add rsp, 16                 ; vector and error code
    test qword [rsp + 8], 3
    jz .to_kernel
    swapgs
.to_kernel:
    iretq

section .rodata
global trap_stub_table
align 8
trap_stub_table:
%assign vector 0
%rep 256
    dq trap_stub_ %+ vector
%assign vector vector + 1
%endrep
