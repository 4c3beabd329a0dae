/*
 * notification.h - notification objects: a word of bits that signals OR
 * into and waits take (DESIGN.md §10). A signal never blocks and never
 * allocates: it wakes the first thread in notify_wait, or, when the
 * notification is bound to an endpoint, queues one coalescing kernel
 * message (WD_LABEL_NOTIFY) there, so a driver waits for requests,
 * interrupts and signals at one ipc_recv.
 *
 * Invariants: the word holds only WD_NOTIFY_BITS; a queued bound message
 * always has bits to carry (taking the word cancels it); a waiter holds a
 * reference on the notification while it is queued. When the last
 * capability with RECV goes, waiters wake with DEAD (nobody may wait any
 * more), as for a closed endpoint.
 */
#ifndef WARDEN_OBJ_NOTIFICATION_H
#define WARDEN_OBJ_NOTIFICATION_H

#include <stdint.h>

#include "obj/endpoint.h"
#include "obj/object.h"

struct pool;

struct notification {
    struct kobject obj;
    uint64_t word;                  /* bits signalled and not yet taken */
    struct thread_queue waiters;    /* threads in notify_wait, FIFO */
    struct endpoint *bound;         /* referenced while bound; NULL: not bound */
    struct kevent event;            /* the WD_LABEL_NOTIFY message on `bound` */
    uint64_t receive_caps;          /* capabilities with RECV */
};

struct notification *notification_create(struct pool *pool, int *error);
void notification_destroy(struct notification *n);

/* ORs bits (non-zero, within WD_NOTIFY_BITS) in and wakes or delivers. */
void notification_signal(struct notification *n, uint64_t bits);
/* The word, cleared (0 if none); a queued bound message is withdrawn. */
uint64_t notification_take(struct notification *n);
/* The calling thread waits for bits (timeout in ns, not 0). Returns the
 * bits, or -WD_E_TIMEOUT / -WD_E_DEAD. */
int64_t notification_wait(struct notification *n, uint64_t timeout);
/* Binds to ep (NULL unbinds); bits already set are delivered at once. */
void notification_bind(struct notification *n, struct endpoint *ep, uint64_t badge);

/* The bits a capability with `badge` may raise when asked for `bits`
 * (0: all of its badge's): > 0, or -WD_E_INVALID_ARG / -WD_E_NO_RIGHTS. */
int64_t notification_signal_bits(uint64_t badge, uint64_t bits);

/* Capability bookkeeping (object.c). */
void notification_receive_cap_added(struct notification *n);
void notification_receive_cap_removed(struct notification *n);

/* Counters for wd_system_info. */
uint64_t notification_signal_count(void);
uint64_t notification_wakeup_count(void);

#endif
