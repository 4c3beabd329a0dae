/*
 * user_boot.h - starting user space: builds init from the "init" boot
 * module with its start info (modules as frame capabilities, the root
 * pool, the command line, the kernel's test results), and decides what
 * happens when init ends.
 */
#ifndef WARDEN_CORE_USER_BOOT_H
#define WARDEN_CORE_USER_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include <warden/startinfo.h>

struct process;

/* false (with a log line) if there is no usable init module. */
bool user_boot_start_init(const struct wd_ktest_result *ktests, unsigned ktest_count);
/* Called by process_terminate for every process. */
void user_boot_process_died(struct process *p, int64_t status);

#endif
