/*
 * endpoint.h - IPC endpoints: a queue of blocked senders, a queue of
 * blocked receivers, and a FIFO of pending kernel events.
 *
 * Kernel events (faults, exits, timers) never block the kernel: each
 * source owns one struct kevent; raising it bumps a counter and queues the
 * record once; the next receive delivers it and resets the counter.
 */
#ifndef WARDEN_OBJ_ENDPOINT_H
#define WARDEN_OBJ_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "obj/object.h"
#include "sched/ktimer.h"

struct thread;
struct endpoint;
struct cap_dependents;

struct thread_queue {
    struct thread *head;
    struct thread *tail;
};

#define KEVENT_WORDS 7

struct kevent {
    struct kevent *next;
    struct endpoint *queued_on;     /* NULL when not pending */
    uint32_t label;
    uint64_t badge;
    uint64_t count;                 /* raises since the last delivery */
    unsigned nwords;                /* words after the count */
    uint64_t words[KEVENT_WORDS];
    /* Optional: called as the event is delivered (off the list), to fill
     * words from its source's state at that moment (notifications). */
    void (*delivering)(struct kevent *ev);
};

struct endpoint {
    struct kobject obj;
    struct thread_queue senders;
    struct thread_queue receivers;
    struct kevent *events_head;
    struct kevent *events_tail;
    struct kevent timer_event;
    struct ktimer timer;
    uint64_t receive_caps;          /* capabilities with RECV right */
    bool closed;                    /* they are all gone: sends and calls fail with DEAD */
    struct cap_dependents *close_watchers;  /* cap_watch on capabilities to it (dependents.c) */
};

struct pool;
struct endpoint *endpoint_create(struct pool *pool, int *error);
void endpoint_destroy(struct endpoint *ep);

/* Queues ev on ep (or counts it if already pending) and, if a receiver
 * waits, delivers it right away. */
void kevent_raise(struct endpoint *ep, struct kevent *ev);
/* The same, counting n raises at once. */
void kevent_raise_count(struct endpoint *ep, struct kevent *ev, uint64_t n);
/* Unqueues ev if pending (its source is going away). */
void kevent_cancel(struct kevent *ev);
/* Takes the oldest pending event, or NULL. */
struct kevent *endpoint_take_event(struct endpoint *ep);

/* Capability bookkeeping (object.c): when the last capability that can
 * receive goes, the endpoint closes for good: blocked senders and
 * receivers wake with DEAD, later sends and calls return DEAD. This is how
 * the clients of a dead server learn it died (docs/driver-crash.md). */
void endpoint_receive_cap_added(struct endpoint *ep);
void endpoint_receive_cap_removed(struct endpoint *ep);

void endpoint_set_timer(struct endpoint *ep, uint64_t badge, uint64_t ns);

void thread_queue_push(struct thread_queue *q, struct thread *t);
struct thread *thread_queue_pop(struct thread_queue *q);
void thread_queue_remove(struct thread *t);

#endif
