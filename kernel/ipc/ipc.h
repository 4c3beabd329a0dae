/*
 * ipc.h - synchronous IPC on endpoints: call, send, recv, reply,
 * reply_recv, and delivery of kernel events. The system call handlers
 * live here too (they are the IPC family of kernel/syscall).
 */
#ifndef WARDEN_IPC_IPC_H
#define WARDEN_IPC_IPC_H

#include <stdint.h>

#include "arch/x86_64/trap.h"

struct thread;
struct endpoint;

int64_t sys_ipc_call(struct trap_frame *f);
int64_t sys_ipc_send(struct trap_frame *f);
int64_t sys_ipc_recv(struct trap_frame *f);
int64_t sys_ipc_reply(struct trap_frame *f);
int64_t sys_ipc_reply_recv(struct trap_frame *f);
int64_t sys_ipc_signal_recv(struct trap_frame *f);

/* receiver was just popped from ep's receivers: give it the oldest event. */
void ipc_deliver_event_to_waiting(struct thread *receiver, struct endpoint *ep);
/* Takes t off the endpoint or notification it waits on (dropping that reference). */
void ipc_unblock(struct thread *t);
/* Breaks t's reply links in both directions; a caller waiting on t gets DEAD. */
void ipc_drop_reply_links(struct thread *t);

#endif
