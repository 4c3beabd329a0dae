/* serial.h - COM1: output polled, input by interrupt (115200 8N1). */
#ifndef WARDEN_ARCH_SERIAL_H
#define WARDEN_ARCH_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

void serial_init(void);
void serial_putc(char c);
/* The next received byte, if there is one. */
bool serial_getc(uint8_t *c);
/* Raise IRQ 4 when a byte arrives (obj/console.c takes it). */
void serial_enable_receive_interrupt(void);

#endif
