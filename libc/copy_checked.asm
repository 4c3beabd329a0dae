; copy_checked.asm - wd_copy_checked: a memory copy that survives a page
; fault (the kernel's thread_fault_fixup resumes it at .fault), for copies
; from or to memory another process may take away at any moment, such as a
; client's lease mapped into a service (<warden/region.h>).
;   long wd_copy_checked(void *dst, const void *src, size_t n)
;   -> 0, or -WD_E_DEAD (19) when a page was not there (the copy stopped
;   part-way). The calling thread must have called wd_copy_checked_init.

bits 64
section .text

global wd_copy_checked
global wd_copy_checked_range_start
global wd_copy_checked_range_end
global wd_copy_checked_fault

wd_copy_checked:
    mov rcx, rdx
    shr rcx, 3
wd_copy_checked_range_start:
    rep movsq               ; 8 bytes per step (rep movsb counts per byte under -icount)
    mov rcx, rdx
    and rcx, 7
    rep movsb
wd_copy_checked_range_end:
    xor eax, eax
    ret
wd_copy_checked_fault:      ; rax = the faulting address
    mov rax, -19            ; -WD_E_DEAD
    ret
