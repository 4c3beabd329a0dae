/*
 * fault_log.h - the last WD_INSPECT_FAULTS_KEPT DMA faults the IOMMU
 * reported, with what the kernel did about each: what the shell's
 * `faults` command lists (inspection, WD_INSPECT_FAULT).
 */
#ifndef WARDEN_OBJ_FAULT_LOG_H
#define WARDEN_OBJ_FAULT_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include <warden/inspect.h>

/* Records one fault (sequence and time are filled in here). */
void fault_log_record(struct wd_inspect_fault *f);
/* The index'th kept fault, oldest first: false past the last. */
bool fault_log_entry(unsigned index, struct wd_inspect_fault *out);

#endif
