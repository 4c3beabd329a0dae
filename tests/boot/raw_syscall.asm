; raw_syscall.asm - a system call with every register the kernel reads
; chosen by the caller (the fuzzer): regs[0..12] = rax, rdi, rsi, rdx, r10,
; r8, r9, rbx, rbp, r12, r13, r14, r15; back[] gets every register the
; kernel returned.

bits 64
section .text

global raw_syscall_both
; long raw_syscall_both(const uint64_t regs[13] /* rdi */, uint64_t back[13] /* rsi */)
; back[] gets the registers as the kernel left them (back[0] = rax), so the
; fuzzer sees what an IPC receive returned.
raw_syscall_both:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rsi
    mov rax, [rdi + 0 * 8]
    mov rsi, [rdi + 2 * 8]
    mov rdx, [rdi + 3 * 8]
    mov r10, [rdi + 4 * 8]
    mov r8,  [rdi + 5 * 8]
    mov r9,  [rdi + 6 * 8]
    mov rbx, [rdi + 7 * 8]
    mov rbp, [rdi + 8 * 8]
    mov r12, [rdi + 9 * 8]
    mov r13, [rdi + 10 * 8]
    mov r14, [rdi + 11 * 8]
    mov r15, [rdi + 12 * 8]
    mov rdi, [rdi + 1 * 8]
    syscall
    xchg rsi, [rsp]             ; rsi = back, the returned rsi kept on the stack
    mov [rsi + 0 * 8], rax
    mov [rsi + 1 * 8], rdi
    mov [rsi + 3 * 8], rdx
    mov [rsi + 4 * 8], r10
    mov [rsi + 5 * 8], r8
    mov [rsi + 6 * 8], r9
    mov [rsi + 7 * 8], rbx
    mov [rsi + 8 * 8], rbp
    mov [rsi + 9 * 8], r12
    mov [rsi + 10 * 8], r13
    mov [rsi + 11 * 8], r14
    mov [rsi + 12 * 8], r15
    pop rdi                     ; the returned rsi
    mov [rsi + 2 * 8], rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
