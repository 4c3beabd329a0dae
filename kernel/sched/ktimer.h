/*
 * ktimer.h - one-shot kernel timers on the scheduler tick: thread
 * timeouts, sleeps and endpoint timers. A sorted list; each tick fires the
 * expired ones (in interrupt context, interrupts off).
 */
#ifndef WARDEN_SCHED_KTIMER_H
#define WARDEN_SCHED_KTIMER_H

#include <stdbool.h>
#include <stdint.h>

struct ktimer {
    uint64_t deadline_tick;
    uint64_t deadline_ns;               /* time_now_ns() it may fire at: never before, whatever the ticks say */
    struct ktimer *next;
    void (*fire)(struct ktimer *timer);
    bool armed;
};

/* Fires fire(timer) at the first tick at least ns from now. */
void ktimer_arm(struct ktimer *timer, uint64_t ns);
void ktimer_cancel(struct ktimer *timer);
/* Called by the scheduler tick. */
void ktimer_tick(uint64_t now_tick);
uint64_t ktimer_ns_to_ticks(uint64_t ns);

#endif
