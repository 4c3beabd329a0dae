/* serial.h - COM1 output (polled, 115200 8N1). */
#ifndef WARDEN_ARCH_SERIAL_H
#define WARDEN_ARCH_SERIAL_H

void serial_init(void);
void serial_putc(char c);

#endif
