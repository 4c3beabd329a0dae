/*
 * ktimer.c - the sorted list of armed one-shot timers (see ktimer.h).
 */
#include "sched/ktimer.h"

#include "sched/sched.h"

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

void ktimer_tick(uint64_t now_tick)
{
    while (armed_timers && armed_timers->deadline_tick <= now_tick) {
        struct ktimer *t = armed_timers;
        armed_timers = t->next;
        t->next = NULL;
        t->armed = false;
        t->fire(t);
    }
}
