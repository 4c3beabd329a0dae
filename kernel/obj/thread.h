/*
 * thread.h - threads: a kernel stack with the saved user registers at its
 * top, the FPU/SSE save area, scheduling state and IPC state.
 *
 * Lifetime: a thread holds a reference on its process; an "alive"
 * reference on the thread itself is dropped when the dead thread has been
 * switched away from and its kernel stack freed (sched reaps it). The
 * struct lives on while capabilities name it.
 */
#ifndef WARDEN_OBJ_THREAD_H
#define WARDEN_OBJ_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include <warden/ipc.h>

#include "arch/x86_64/trap.h"
#include "obj/endpoint.h"
#include "obj/object.h"
#include "sched/ktimer.h"

#define THREAD_KERNEL_STACK_BYTES 16384

enum thread_state {
    THREAD_READY,
    THREAD_RUNNING,
    THREAD_BLOCKED_SEND,        /* queued on an endpoint's senders (send or call) */
    THREAD_BLOCKED_RECV,        /* queued on an endpoint's receivers */
    THREAD_BLOCKED_REPLY,       /* called; waiting for the reply */
    THREAD_BLOCKED_NOTIFY,      /* queued on a notification's waiters */
    THREAD_SLEEPING,
    THREAD_FAULTED,             /* stopped after a fault, reported to the supervisor */
    THREAD_DEAD,
};

struct process;

struct thread {
    struct kobject obj;
    struct process *process;            /* NULL for the idle thread */
    struct thread *process_next;
    enum thread_state state;
    uint32_t priority;
    uint32_t slice_left;

    struct thread *queue_next;          /* run queue or endpoint queue */
    struct thread_queue *queue;         /* the queue it is on, if any */

    uint64_t kernel_rsp;                /* saved by context_switch */
    uint8_t *kernel_stack;              /* base; NULL once reaped */
    struct trap_frame *frame;           /* user registers, at the stack top */
    uint8_t *fpu_state;                 /* FPU_STATE_BYTES at the stack base */
    struct ktimer timeout;

    /* IPC */
    struct kobject *blocked_on;         /* the endpoint or notification it is queued on, referenced */
    bool sending_call;                  /* queued by ipc_call (not ipc_send) */
    uint64_t send_badge;
    unsigned send_cap_count;
    wd_handle_t send_caps[WD_MSG_CAPS]; /* handles in our own cspace */
    bool send_move_caps;
    uint64_t caps_buffer;               /* user pointer for received handles */
    unsigned recv_cap_count;
    wd_handle_t recv_caps[WD_MSG_CAPS];
    struct thread *reply_to;            /* caller whose reply token we hold */
    struct thread *reply_from;          /* server holding our reply token */
    int64_t ipc_result;

    struct kevent fault_event;
    struct thread *dead_next;           /* reap list */
    /* thread_fault_fixup: a page fault at a RIP in [fixup_start, fixup_end)
     * resumes at fixup_rip with rax = the faulting address (a copy from a
     * lease that was taken back ends with an error, not a fault). */
    uint64_t fixup_start, fixup_end, fixup_rip;
};

/* The thread's fault is one it asked to survive (see fixup_start): the
 * frame now resumes at its fixup. */
bool thread_fault_recovered(struct trap_frame *f);

struct pool;

/* Creates a thread in process that will enter user mode at entry with
 * rsp = stack, rdi = arg. It is not yet ready (thread_start). */
struct thread *thread_create(struct pool *pool, struct process *process, uint64_t entry,
                             uint64_t stack, uint64_t arg, uint32_t priority, int *error);
void thread_start(struct thread *t);

/* Stops t for good: removes it from every queue, breaks its IPC links,
 * wakes its partners with DEAD. If t is current, the caller must schedule()
 * afterwards. */
void thread_kill(struct thread *t);
/* Reports a user-mode fault of the current thread and stops it. */
__attribute__((noreturn)) void thread_fault(struct trap_frame *frame);

/* Wakes a blocked thread with result (removing it from queues and timers). */
void thread_wake(struct thread *t, int64_t result);

/* Frees a dead thread's kernel stack and drops its alive reference. */
void thread_reap(struct thread *t);
void thread_destroy(struct thread *t);

uint64_t thread_stack_top(const struct thread *t);
uint64_t thread_live_count(void);

/* The idle thread of the boot CPU (the boot context). */
struct thread *thread_create_idle(void);

#endif
