/*
 * ktimer.c - the sorted list of armed one-shot timers (see ktimer.h).
 */
#include "sched/ktimer.h"

#include "sched/sched.h"
#include "arch/x86_64/timer.h"

static struct ktimer *armed_timers;

uint64_t ktimer_ns_to_ticks(uint64_t ns)
{
    uint64_t ns_per_tick = 1000000000ull / SCHED_TICK_HZ;
    uint64_t ticks = ns / ns_per_tick + (ns % ns_per_tick != 0);
    return ticks == 0 ? 1 : ticks;
}

void ktimer_arm(struct ktimer *timer, uint64_t ns)
{
    if (timer->armed)
        ktimer_cancel(timer);
    /* +1: the current tick is already partly over. */
    timer->deadline_tick = sched_ticks() + ktimer_ns_to_ticks(ns) + 1;
    timer->deadline_ns = time_now_ns() + ns;
    struct ktimer **link = &armed_timers;
    while (*link && (*link)->deadline_tick <= timer->deadline_tick)
        link = &(*link)->next;
    timer->next = *link;
    *link = timer;
    timer->armed = true;
}

void ktimer_cancel(struct ktimer *timer)
{
    if (!timer->armed)
        return;
    for (struct ktimer **link = &armed_timers; *link; link = &(*link)->next) {
        if (*link == timer) {
            *link = timer->next;
            break;
        }
    }
    timer->armed = false;
    timer->next = NULL;
}

/* A timer fires at its tick, but never before its time on the clock that
 * user space reads (time_now_ns): with the tick and the TSC calibrated a
 * little apart (a host that descheduled the vCPU during calibration), a
 * sleep must still last what it was asked. Too early: the next tick. */
void ktimer_tick(uint64_t now_tick)
{
    while (armed_timers && armed_timers->deadline_tick <= now_tick && armed_timers->deadline_ns <= time_now_ns()) {
        struct ktimer *t = armed_timers;
        armed_timers = t->next;
        t->next = NULL;
        t->armed = false;
        t->fire(t);
    }
}
