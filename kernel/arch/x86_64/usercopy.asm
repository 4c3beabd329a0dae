; usercopy.asm - byte copies that may fault (user memory). A fault inside
; the copy resumes at the fixup through .extable and returns -1.

bits 64
section .text

global copy_bytes_faultable
; int copy_bytes_faultable(void *dst /* rdi */, const void *src /* rsi */, size_t n /* rdx */)
copy_bytes_faultable:
    mov rcx, rdx
.access:
    rep movsb
    xor eax, eax
    ret
.fixup:
    mov eax, -1
    ret

section .extable progbits alloc noexec nowrite align=8
    dq copy_bytes_faultable.access, copy_bytes_faultable.fixup
