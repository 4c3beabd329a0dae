/*
 * vtd_internal.h - what vtd.c shares with the other VT-d files (interrupt
 * remapping): register writes, GCMD commands and the invalidation queue.
 * Not for use outside kernel/iommu/vtd*.c.
 */
#ifndef WARDEN_IOMMU_VTD_INTERNAL_H
#define WARDEN_IOMMU_VTD_INTERNAL_H

#include "iommu/vtd.h"

void vtd_write64(const struct vtd_unit *u, unsigned reg, uint64_t v);
/* Sets one GCMD bit as (GSTS & VTD_GSTS_PRESERVE) | bit and polls GSTS (bounded). */
void vtd_global_command(const struct vtd_unit *u, uint32_t bit, uint32_t status_bit, bool status_sticks,
                        const char *what);
void vtd_qi_append(struct vtd_unit *u, uint64_t lo, uint64_t hi);
/* Appends a wait descriptor, starts the queue and waits for the status write. */
void vtd_qi_commit_and_wait(struct vtd_unit *u);
/* IR bring-up (vtd_intremap.c), called by enable_unit before translation is on. */
void vtd_intremap_enable(struct vtd_unit *u);

#endif
