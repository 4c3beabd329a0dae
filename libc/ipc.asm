; ipc.asm - wd_ipc, the one user-space entry to the IPC system calls.
;
;   long wd_ipc(long number, wd_handle_t endpoint, struct wd_msg *msg, uint64_t timeout)
;              rdi          rsi                   rdx                rcx
;
; Loads struct wd_msg into the register convention of <warden/ipc.h>:
;   rax number, rdi endpoint, rsi info, rdx r10 r8 r9 r12 r13 r14 r15 = w[0..7],
;   rbx = &msg->caps, rbp = timeout
; runs `syscall`, and on success (rax >= 0) stores rsi -> info, rdi -> badge
; and the eight data registers -> w[0..7]. On failure msg is left untouched.
; The message pointer is kept on the stack: every free register carries
; part of the message and syscall clobbers rcx and r11. Callee-saved
; registers are restored from the stack, so the kernel may return anything
; in rbx and rbp.
;
; struct wd_msg offsets (checked by _Static_assert in <warden/syscalls.h>).
%define MSG_INFO  0
%define MSG_BADGE 8
%define MSG_W     16
%define MSG_CAPS  80

bits 64
default rel
section .text

global wd_ipc:function (wd_ipc.end - wd_ipc)
wd_ipc:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdx                        ; msg, for after the syscall

    mov rax, rdi                    ; number
    mov r11, rdx                    ; msg
    mov rbp, rcx                    ; timeout
    mov rdi, rsi                    ; endpoint
    lea rbx, [r11 + MSG_CAPS]
    mov rsi, [r11 + MSG_INFO]
    mov rdx, [r11 + MSG_W + 0*8]
    mov r10, [r11 + MSG_W + 1*8]
    mov r8,  [r11 + MSG_W + 2*8]
    mov r9,  [r11 + MSG_W + 3*8]
    mov r12, [r11 + MSG_W + 4*8]
    mov r13, [r11 + MSG_W + 5*8]
    mov r14, [r11 + MSG_W + 6*8]
    mov r15, [r11 + MSG_W + 7*8]
    syscall

    pop r11                         ; msg
    test rax, rax
    js .done                        ; failed: leave the message as it was
    mov [r11 + MSG_INFO], rsi
    mov [r11 + MSG_BADGE], rdi
    mov [r11 + MSG_W + 0*8], rdx
    mov [r11 + MSG_W + 1*8], r10
    mov [r11 + MSG_W + 2*8], r8
    mov [r11 + MSG_W + 3*8], r9
    mov [r11 + MSG_W + 4*8], r12
    mov [r11 + MSG_W + 5*8], r13
    mov [r11 + MSG_W + 6*8], r14
    mov [r11 + MSG_W + 7*8], r15
.done:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
.end:

section .note.GNU-stack noalloc noexec nowrite progbits
