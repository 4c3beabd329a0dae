/*
 * boot.h - what the boot sequence leaves for the rest of the kernel:
 * the validated boot information and the parsed command line.
 */
#ifndef WARDEN_CORE_BOOT_H
#define WARDEN_CORE_BOOT_H

#include "core/cmdline.h"
#include "core/multiboot2.h"

#define WARDEN_VERSION "0.1.0"

extern struct mb2_summary boot_info;
extern struct cmdline kernel_cmdline;
/* The whole command line as text (GRUB's plus fw_cfg's). */
extern char kernel_command_line[];

#endif
