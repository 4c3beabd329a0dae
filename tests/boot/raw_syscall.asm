; raw_syscall.asm - a system call with every register the kernel reads
; chosen by the caller (the fuzzer): regs[0..12] = rax, rdi, rsi, rdx, r10,
; r8, r9, rbx, rbp, r12, r13, r14, r15.

bits 64
section .text

global raw_syscall
; long raw_syscall(const uint64_t regs[13] /* rdi */)
raw_syscall:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
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
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
