/*
 * panic.c - kernel panic: message, stack trace, stop.
 * A panic while panicking just stops (the first report is the useful one).
 */
#include "core/panic.h"
#include "core/printk.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/stacktrace.h"

static volatile int panicking;

void kernel_stop(void)
{
    cpu_cli();
    printk("*** kernel stopped ***\n");
    qemu_exit(QEMU_EXIT_PANIC);
    cpu_halt_forever();
}

bool panic_begin(void)
{
    cpu_cli();
    return panicking++ == 0;
}

void panic(const char *fmt, ...)
{
    if (!panic_begin())
        cpu_halt_forever();
    printk("\n*** KERNEL PANIC: ");
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk(" ***\n");
    stacktrace_print(0, read_rbp());
    kernel_stop();
}
