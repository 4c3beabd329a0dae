; crt0.asm - _start, the entry point of every user program.
;
; The kernel (or the parent) starts the first thread with rdi = pointer to
; struct wd_start_info and rsp on a valid stack. _start clears rbp (the end
; of frame-pointer chains), aligns the stack to 16 bytes as the SysV ABI
; wants at a call, and calls __libc_start(info) (start.c), which runs main
; and exits; it never returns.

bits 64
default rel
section .text

extern __libc_start

global _start:function (_start.end - _start)
_start:
    xor ebp, ebp
    and rsp, -16
    call __libc_start
    ud2                             ; __libc_start does not return
.end:

section .note.GNU-stack noalloc noexec nowrite progbits
