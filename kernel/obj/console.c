/*
 * console.c - the serial console's input (see console.h). The interrupt
 * handler drains the UART's receive FIFO into a ring of
 * WD_CONSOLE_RING_BYTES; a full ring drops new bytes and counts them.
 * Under QEMU the UART itself holds back input while its FIFO is full, so
 * pasted text is not lost while the ring has room. The kernel runs with
 * interrupts off, so the handler and the calls never overlap.
 */
#include "obj/console.h"

#include "arch/x86_64/serial.h"
#include "core/printk.h"
#include "obj/irq.h"
#include "obj/notification.h"

#include <warden/inspect.h>

static struct kobject console;
static uint8_t ring[WD_CONSOLE_RING_BYTES];
static size_t head, count;          /* head: the oldest byte */
static uint64_t dropped;
static struct notification *listener;   /* referenced */
static uint64_t listener_bits;

struct kobject *console_object(void)
{
    return &console;
}

static void console_interrupt(struct irq *q)
{
    (void)q;
    uint8_t c;
    size_t before = count;
    while (serial_getc(&c)) {
        if (count == sizeof ring) {
            dropped++;
            continue;
        }
        ring[(head + count) % sizeof ring] = c;
        count++;
    }
    if (count != before && listener)
        notification_signal(listener, listener_bits);
}

void console_init(void)
{
    kobject_init(&console, WD_TYPE_CONSOLE, NULL, 0);
    int error = 0;
    struct irq *q = irq_create(NULL, WD_IRQ_ISA(4), &error);
    if (!q) {
        printk("console: no COM1 interrupt (error %d): the console takes no input\n", error);
        return;
    }
    q->kernel_handler = console_interrupt;
    serial_enable_receive_interrupt();
}

size_t console_peek(uint8_t *out, size_t len)
{
    size_t n = len < count ? len : count;
    for (size_t i = 0; i < n; i++)
        out[i] = ring[(head + i) % sizeof ring];
    return n;
}

void console_consume(size_t n)
{
    n = n < count ? n : count;
    head = (head + n) % sizeof ring;
    count -= n;
}

void console_set_notification(struct notification *n, uint64_t bits)
{
    struct notification *old = listener;
    if (n)
        kobject_get(&n->obj);
    listener = n;
    listener_bits = bits;
    if (n && count)
        notification_signal(n, bits);
    if (old)
        kobject_put(&old->obj);
}

uint64_t console_dropped(void)
{
    return dropped;
}
