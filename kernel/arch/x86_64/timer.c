/*
 * timer.c - LAPIC timer and TSC calibration against the 8254 PIT.
 *
 * PIT channel 2 (gate on port 0x61, no interrupt needed) runs at
 * 1.193182 MHz; in mode 0 its OUT pin (port 0x61 bit 5) rises when the
 * count expires. Calibration: start the LAPIC timer from its maximum and
 * read the TSC, wait 10 ms on the PIT, read both again; take the median of
 * three runs. Under QEMU the PIT and the LAPIC timer share the virtual
 * clock, so the result holds even on a loaded host.
 */
#include "arch/x86_64/timer.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/trap.h"
#include "core/panic.h"
#include "core/printk.h"

enum {
    PIT_HZ = 1193182,
    PIT_CHANNEL2_DATA = 0x42,
    PIT_COMMAND = 0x43,
    PIT_GATE_PORT = 0x61,
    PIT_GATE_ENABLE = 0x01,
    PIT_SPEAKER_ENABLE = 0x02,
    PIT_OUT2 = 0x20,
    PIT_CMD_CHANNEL2_LOHI_MODE0 = 0xB0,
    PIT_MAX_WAIT_US = 50000,        /* 16-bit counter: at most ~54.9 ms */
    LAPIC_DIVIDE_BY_16 = 0x3,
    CALIBRATION_MS = 10,
    CALIBRATION_RUNS = 3,
};

static struct timer_calibration calibration;
static uint64_t tsc_at_init;
static volatile uint64_t interrupts;

static void pit_wait_chunk(uint32_t microseconds)
{
    uint32_t count = (uint32_t)((uint64_t)PIT_HZ * microseconds / 1000000);
    if (count == 0)
        count = 1;
    uint8_t gate = inb(PIT_GATE_PORT) & ~(PIT_SPEAKER_ENABLE | PIT_GATE_ENABLE);
    outb(PIT_GATE_PORT, gate);                      /* gate low: stop */
    outb(PIT_COMMAND, PIT_CMD_CHANNEL2_LOHI_MODE0);
    outb(PIT_CHANNEL2_DATA, count & 0xFF);
    outb(PIT_CHANNEL2_DATA, (count >> 8) & 0xFF);
    outb(PIT_GATE_PORT, gate | PIT_GATE_ENABLE);    /* gate high: count */
    while (!(inb(PIT_GATE_PORT) & PIT_OUT2))
        cpu_relax();
    outb(PIT_GATE_PORT, gate);
}

void pit_wait_us(uint64_t microseconds)
{
    while (microseconds > PIT_MAX_WAIT_US) {
        pit_wait_chunk(PIT_MAX_WAIT_US);
        microseconds -= PIT_MAX_WAIT_US;
    }
    pit_wait_chunk((uint32_t)microseconds);
}

static void (*tick_hook)(void);

void timer_set_tick_hook(void (*hook)(void))
{
    tick_hook = hook;
}

static void timer_interrupt(struct trap_frame *frame)
{
    (void)frame;
    interrupts++;
    lapic_eoi();
    if (tick_hook)
        tick_hook();
}

static void sort3(uint64_t v[3])
{
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2 - i; j++)
            if (v[j] > v[j + 1]) {
                uint64_t t = v[j];
                v[j] = v[j + 1];
                v[j + 1] = t;
            }
}

void timer_init(void)
{
    uint64_t lapic_rate[CALIBRATION_RUNS], tsc_rate[CALIBRATION_RUNS];
    lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_BY_16);
    for (int run = 0; run < CALIBRATION_RUNS; run++) {
        lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VECTOR_LAPIC_TIMER);
        lapic_write(LAPIC_TIMER_INITIAL, 0xFFFFFFFFu);
        uint64_t tsc_start = rdtsc();
        pit_wait_us(CALIBRATION_MS * 1000);
        uint64_t tsc_end = rdtsc();
        uint32_t remaining = lapic_read(LAPIC_TIMER_CURRENT);
        lapic_rate[run] = (0xFFFFFFFFu - remaining) / CALIBRATION_MS;
        tsc_rate[run] = (tsc_end - tsc_start) / CALIBRATION_MS;
    }
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    sort3(lapic_rate);
    sort3(tsc_rate);
    calibration.lapic_ticks_per_ms = lapic_rate[1];
    calibration.tsc_ticks_per_ms = tsc_rate[1];
    if (calibration.lapic_ticks_per_ms == 0 || calibration.tsc_ticks_per_ms == 0)
        panic("timer: calibration against the PIT failed (LAPIC %llu, TSC %llu ticks/ms)",
              (unsigned long long)calibration.lapic_ticks_per_ms,
              (unsigned long long)calibration.tsc_ticks_per_ms);
    tsc_at_init = rdtsc();
    interrupt_register(VECTOR_LAPIC_TIMER, timer_interrupt);
    printk("timer: LAPIC timer %llu kHz (divide 16), TSC %llu kHz, calibrated against the PIT\n",
           (unsigned long long)calibration.lapic_ticks_per_ms,
           (unsigned long long)calibration.tsc_ticks_per_ms);
}

static uint32_t lapic_count_for_us(uint64_t microseconds)
{
    uint64_t count = calibration.lapic_ticks_per_ms * microseconds / 1000;
    if (count == 0)
        count = 1;
    return count > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)count;
}

void timer_start_periodic(unsigned hz)
{
    KASSERT(hz > 0);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_TIMER_PERIODIC | VECTOR_LAPIC_TIMER);
    lapic_write(LAPIC_TIMER_INITIAL, lapic_count_for_us(1000000 / hz));
}

void timer_start_oneshot(uint64_t microseconds)
{
    lapic_write(LAPIC_LVT_TIMER, VECTOR_LAPIC_TIMER);
    lapic_write(LAPIC_TIMER_INITIAL, lapic_count_for_us(microseconds));
}

void timer_stop(void)
{
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VECTOR_LAPIC_TIMER);
}

uint64_t timer_interrupt_count(void)
{
    return interrupts;
}

uint64_t time_now_ns(void)
{
    uint64_t ticks = rdtsc() - tsc_at_init;
    uint64_t per_ms = calibration.tsc_ticks_per_ms;
    return ticks / per_ms * 1000000 + ticks % per_ms * 1000000 / per_ms;
}

struct timer_calibration timer_calibration(void)
{
    return calibration;
}
