/*
 * qemu.h - QEMU's platform devices the kernel uses when present:
 * isa-debug-exit (leave QEMU with a status the test harness reads) and
 * fw_cfg (extra kernel flags passed by the harness without rebuilding
 * the ISO: -fw_cfg name=opt/warden/cmdline,string=...).
 * On a machine without them both are harmless no-ops.
 */
#ifndef WARDEN_ARCH_QEMU_H
#define WARDEN_ARCH_QEMU_H

#include <stddef.h>

/* Values written to isa-debug-exit; QEMU exits with (value << 1) | 1. */
enum qemu_exit_code {
    QEMU_EXIT_PASS = 0x10,              /* status 33: every boot test passed */
    QEMU_EXIT_FAIL = 0x11,              /* status 35: some boot test failed */
    QEMU_EXIT_PANIC = 0x12,             /* status 37: kernel panic */
    QEMU_EXIT_CPU_UNSUPPORTED = 0x13,   /* status 39: used by boot/entry.asm */
};

void qemu_exit(enum qemu_exit_code code);

/* Reads fw_cfg file `name` into buf (NUL-terminated, truncated to fit).
 * Returns its length, or -1 when fw_cfg or the file is absent. */
int qemu_fwcfg_read_string(const char *name, char *buf, size_t size);

#endif
