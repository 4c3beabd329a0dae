; probe.asm - faultable memory accesses (see probe.h). Each access
; instruction has an .extable entry naming where to resume on a fault.

bits 64
section .text

global probe_read_u64
; int probe_read_u64(const void *addr /* rdi */, uint64_t *out /* rsi */)
probe_read_u64:
.access:
    mov rax, [rdi]
    mov [rsi], rax
    xor eax, eax
    ret
.fixup:
    mov eax, -1
    ret

global probe_write_u64
; int probe_write_u64(void *addr /* rdi */, uint64_t value /* rsi */)
probe_write_u64:
.access:
    mov [rdi], rsi
    xor eax, eax
    ret
.fixup:
    mov eax, -1
    ret

section .extable progbits alloc noexec nowrite align=8
    dq probe_read_u64.access, probe_read_u64.fixup
    dq probe_write_u64.access, probe_write_u64.fixup
