/*
 * serial.c - COM1 (16550 UART at I/O port 0x3F8): transmit polled, receive
 * by interrupt once the console asks (obj/console.c).
 * The boot stub (boot/entry.asm) programs the same settings before the
 * C kernel runs. '\n' goes out as "\r\n" so terminals show lines properly.
 */
#include "arch/x86_64/serial.h"
#include "arch/x86_64/cpu.h"

enum {
    COM1 = 0x3F8,
    UART_DATA = 0,
    UART_IER = 1,
    UART_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_LCR_DLAB = 0x80,
    UART_LCR_8N1 = 0x03,
    UART_LSR_THR_EMPTY = 0x20,
    UART_LSR_DATA_READY = 0x01,
    UART_IER_RECEIVED = 0x01,
    UART_MCR_OUT2 = 0x08,           /* gates the UART's interrupt line on PC hardware */
};

void serial_init(void)
{
    outb(COM1 + UART_IER, 0);
    outb(COM1 + UART_LCR, UART_LCR_DLAB);
    outb(COM1 + UART_DATA, 1);      /* divisor low: 115200 baud */
    outb(COM1 + UART_IER, 0);       /* divisor high */
    outb(COM1 + UART_LCR, UART_LCR_8N1);
    outb(COM1 + UART_FCR, 0xC7);    /* FIFO enabled and cleared */
    outb(COM1 + UART_MCR, 0x03);    /* DTR, RTS */
}

static void serial_put_raw(char c)
{
    while (!(inb(COM1 + UART_LSR) & UART_LSR_THR_EMPTY))
        cpu_relax();
    outb(COM1 + UART_DATA, (uint8_t)c);
}

void serial_putc(char c)
{
    if (c == '\n')
        serial_put_raw('\r');
    serial_put_raw(c);
}

bool serial_getc(uint8_t *c)
{
    if (!(inb(COM1 + UART_LSR) & UART_LSR_DATA_READY))
        return false;
    *c = inb(COM1 + UART_DATA);
    return true;
}

void serial_enable_receive_interrupt(void)
{
    outb(COM1 + UART_MCR, 0x03 | UART_MCR_OUT2);
    outb(COM1 + UART_IER, UART_IER_RECEIVED);
}
