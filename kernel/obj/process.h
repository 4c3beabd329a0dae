/*
 * process.h - processes: an address space, a capability space, threads,
 * and the endpoint its faults and exit are reported to.
 *
 * A process dies (process_terminate) by exit, kill, or when its last
 * thread exits; and when it can never run again while no other process
 * holds a capability to it (every live thread stopped on a fault, nobody
 * left who could kill it): process_end_if_unreachable. Death stops every
 * thread, deletes every capability in its cspace, unmaps everything
 * (frames go back to their pools once nothing else refers to them) and
 * sends one EXIT event. The struct stays (dead) while capabilities name it.
 */
#ifndef WARDEN_OBJ_PROCESS_H
#define WARDEN_OBJ_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "cap/cspace.h"
#include "mm/vmspace.h"
#include "obj/endpoint.h"
#include "obj/object.h"

struct thread;
struct pool;

struct process {
    struct kobject obj;
    struct cspace cspace;
    struct vmspace vm;
    struct pool *pool;              /* pays for page tables */
    struct thread *threads;
    uint32_t live_threads;
    uint32_t holders;               /* capabilities to it in other processes' cspaces (cspace.c) */
    bool dead;
    bool ending;                    /* queued by process_end_if_unreachable */
    struct process *ending_next;
    int64_t exit_status;
    struct endpoint *fault_endpoint;    /* referenced; may be NULL */
    uint64_t fault_badge;
    struct kevent exit_event;
    struct kevent revoke_event;     /* WD_LABEL_REVOKED while alive (revoke.c) */
    uint64_t cpu_tsc;               /* TSC its threads ran (user and kernel), up to their last switch */
    uint64_t syscalls;              /* system calls its threads made */
    char name[16];                  /* process_set_name (inspection); "" until named */
    struct process *all_next, *all_prev;    /* every process object, oldest first */
};

struct process *process_create(struct pool *pool, struct endpoint *fault_endpoint,
                               uint64_t fault_badge, int *error);
void process_terminate(struct process *p, int reason, int64_t status);
void process_destroy(struct process *p);
/* A thread of p ended (exit or kill); the last one ends the process. */
void process_thread_ended(struct process *p);
/* A capability to p appeared in or left another process's cspace (its own
 * capabilities to itself are weak and do not count). The last one leaving
 * ends p if it cannot run (process_end_if_unreachable). */
void process_holder_added(struct process *p);
void process_holder_removed(struct process *p);
/* Ends p (EXIT, reason KILLED, status -vector of its first fault) when no
 * other process holds a capability to it and every live thread of it is
 * stopped on a fault: nothing could resume or kill it, and it would keep
 * its memory and its pool's budget for ever. At once, or, when another
 * such process is ending (it held the last capability to p), in that
 * call's loop, after it: a chain of them ends without a deep recursion. */
void process_end_if_unreachable(struct process *p);
uint64_t process_live_count(void);
/* The index'th process object (dead ones included while named), oldest first, or NULL. */
struct process *process_at(unsigned index);
struct process *process_by_id(uint64_t pid);

#endif
