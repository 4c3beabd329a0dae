/*
 * timer.h - time keeping: the LAPIC timer (periodic or one-shot), the TSC
 * as a clock, both calibrated against the PIT at boot, and PIT busy-waits.
 */
#ifndef WARDEN_ARCH_TIMER_H
#define WARDEN_ARCH_TIMER_H

#include <stdint.h>

/* Measures the LAPIC timer and TSC rates against PIT channel 2 and installs
 * the timer interrupt handler. Needs lapic_init() first. */
void timer_init(void);

void timer_start_periodic(unsigned hz);
/* Called on every timer interrupt, after the EOI (the scheduler tick). */
void timer_set_tick_hook(void (*hook)(void));
void timer_start_oneshot(uint64_t microseconds);
void timer_stop(void);

/* Timer interrupts taken since boot (any mode). */
uint64_t timer_interrupt_count(void);

/* Nanoseconds since timer_init, from the TSC. */
uint64_t time_now_ns(void);

/* Busy-waits on PIT channel 2 (independent of the LAPIC timer). */
void pit_wait_us(uint64_t microseconds);

struct timer_calibration {
    uint64_t lapic_ticks_per_ms;    /* at divide-by-16 */
    uint64_t tsc_ticks_per_ms;
};
struct timer_calibration timer_calibration(void);

#endif
