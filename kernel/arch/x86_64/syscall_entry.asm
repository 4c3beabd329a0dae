; syscall_entry.asm - the SYSCALL entry and exit, the first return of a new
; thread to user mode, and the kernel-stack switch between threads.
;
; SYSCALL entry builds the same struct trap_frame as an interrupt (trap.h),
; with vector SYSCALL_FRAME_VECTOR, at the top of the thread's kernel stack,
; and calls syscall_dispatch(frame). The kernel runs with interrupts off
; (FMASK clears IF). Exit uses SYSRET when the saved RIP is a user address
; (SYSRET to a non-canonical RIP would fault in ring 0); otherwise IRETQ.

bits 64
%include "trap_frame.inc"
section .text

%define PERCPU_KERNEL_RSP 8
%define PERCPU_USER_RSP 16
%define USER_CS (0x28 | 3)
%define USER_SS (0x20 | 3)
%define SYSCALL_FRAME_VECTOR 0x100
%define USER_RIP_LIMIT 0x00007FFFFFFFF000

extern syscall_dispatch
extern trap_return_to_user

global syscall_entry
syscall_entry:
    swapgs
    mov [gs:PERCPU_USER_RSP], rsp
    mov rsp, [gs:PERCPU_KERNEL_RSP]
    push USER_SS
    push qword [gs:PERCPU_USER_RSP]
    push r11                        ; user RFLAGS
    push USER_CS
    push rcx                        ; user RIP
    push 0                          ; error code
    push SYSCALL_FRAME_VECTOR
    PUSH_TRAP_REGS
    mov rdi, rsp
    call syscall_dispatch
    ; fall through: return to user from the frame at rsp

global syscall_exit
syscall_exit:
    mov rcx, [rsp + 17 * 8]         ; saved RIP
    mov r11, USER_RIP_LIMIT
    cmp rcx, r11
    jae .iret_path
    POP_TRAP_REGS
    mov rcx, [rsp + 16]             ; RIP
    mov r11, [rsp + 32]             ; RFLAGS
    mov rsp, [rsp + 40]             ; user RSP
    swapgs
    o64 sysret
.iret_path:
    jmp trap_return_to_user

; void context_switch(uint64_t *save_rsp /* rdi */, uint64_t next_rsp /* rsi */)
; Saves the callee-saved registers on this stack, stores rsp, switches to
; next_rsp and pops the next thread's callee-saved registers.
global context_switch
context_switch:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

; A new thread's kernel stack holds six zero registers for context_switch
; to pop and then this address; below it sits the user trap frame.
extern thread_first_run
global thread_start_trampoline
thread_start_trampoline:
    call thread_first_run
    jmp trap_return_to_user
