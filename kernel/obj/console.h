/*
 * console.h - the serial console's input as a kernel object: COM1's
 * receive interrupt (ISA IRQ 4, the kernel's own irq) fills a ring that
 * console_read drains, and signals the notification console_notify bound.
 * One console object lives forever; the kernel gives init a capability to
 * it, and init passes it to the shell.
 */
#ifndef WARDEN_OBJ_CONSOLE_H
#define WARDEN_OBJ_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "obj/object.h"

struct notification;

/* Hooks COM1's receive interrupt (after the kernel self-tests, which use
 * the line themselves). Without the line, input is never seen. */
void console_init(void);
struct kobject *console_object(void);
/* Copies up to len buffered bytes to out, oldest first, leaving them
 * buffered: the count. console_consume(n) then drops the first n. */
size_t console_peek(uint8_t *out, size_t len);
void console_consume(size_t n);
/* Input from now on signals bits on n (NULL: nothing); bytes already
 * buffered signal at once. */
void console_set_notification(struct notification *n, uint64_t bits);
/* Bytes dropped because the ring was full. */
uint64_t console_dropped(void);

#endif
