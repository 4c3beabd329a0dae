; thread_entry.asm - where threads made by wd_thread_start begin. The
; creator leaves the function and its argument on top of the new stack;
; after the two pops the stack is 16-byte aligned for the call.

bits 64
section .text
extern wd_thread_exit

global __wd_thread_trampoline
__wd_thread_trampoline:
    pop rax                 ; function
    pop rdi                 ; argument
    call rax
    call wd_thread_exit
    ud2
