/*
 * vtd.h - the kernel's driver for Intel VT-d remapping units (legacy
 * mode): secure bring-up (deny-all root table, queued invalidation, fault
 * event interrupt, translation on), domain IDs, context entries, IOTLB
 * invalidation that waits for completion, and draining fault records.
 *
 * Every change that narrows what a device may reach returns only after the
 * hardware confirmed the invalidation (wait descriptor or register poll).
 * Polls are bounded; a unit that stops answering is a kernel bug report
 * (panic), since continuing would mean trusting stale translations.
 */
#ifndef WARDEN_IOMMU_VTD_H
#define WARDEN_IOMMU_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/vtd_probe.h"

#define VTD_MAX_DOMAINS 1024        /* domain IDs the kernel hands out per unit (1..1023) */
#define VECTOR_IOMMU_FAULT 0x38     /* fault event interrupt of every unit */
#define VTD_IRT_ENTRIES_LOG2 8
#define VTD_IRT_ENTRIES (1u << VTD_IRT_ENTRIES_LOG2)   /* interrupt remapping entries per unit (one page) */

struct vtd_unit {
    unsigned index;
    struct vtd_unit_info *hw;       /* registers and identity (vtd_probe) */
    bool active;                    /* translation enabled by the kernel */
    bool queued;                    /* queued invalidation in use (else registers) */
    bool coherent;                  /* ECAP.C: page walks snoop the CPU caches */
    bool caching_mode;              /* CAP.CM: not-present entries may be cached */
    unsigned levels;                /* second-level table levels (3 or 4) */
    unsigned address_width;         /* IOVA bits the tables translate */
    uint64_t root_phys;
    uint64_t context_phys[256];     /* per bus; 0 until a device on that bus is attached */
    uint64_t queue_phys;
    unsigned queue_tail;            /* next descriptor slot */
    uint64_t status_phys;           /* wait descriptors write here */
    uint32_t wait_sequence;
    uint64_t domain_used[VTD_MAX_DOMAINS / 64];
    unsigned domain_cursor;         /* last ID handed out (next-fit allocation) */
    uint64_t invalidations, waits, faults, domains;
    uint64_t irt_phys;              /* interrupt remapping table; 0 when IR is off */
    uint64_t irte_used[VTD_IRT_ENTRIES / 64];
    uint64_t irte_count, iec_invalidations;
};

struct vtd_fault {
    uint16_t source_id;
    bool write;
    unsigned reason;
    uint64_t address;
};

/* Enables every unit vtd_probe found. Called before user space exists, after
 * bus mastering was turned off everywhere. Panics if a responding unit cannot
 * be enabled (the boot must not go on believing DMA is isolated). Returns the
 * number of active units. */
unsigned vtd_enable_all(void (*on_fault)(struct vtd_unit *unit, const struct vtd_fault *fault));

unsigned vtd_unit_count(void);
/* The active unit with that index, or NULL. */
struct vtd_unit *vtd_unit(unsigned index);
uint32_t vtd_read_status(const struct vtd_unit *u);

/* Domain IDs: 1..VTD_MAX_DOMAINS-1 (0 is never used: caching mode reserves it). */
int vtd_domain_alloc(struct vtd_unit *u);   /* the ID or -WD_E_BUSY */
void vtd_domain_free(struct vtd_unit *u, uint16_t did);

/* Allocates the context table of source_id's bus (entries not present), so
 * attaching later needs no memory. 0 or -WD_E_NO_MEMORY. */
int vtd_context_prepare(struct vtd_unit *u, uint16_t source_id);
/* Points source_id's context entry at a second-level table (translation,
 * domain did) and invalidates the context cache entry for it. 0 or
 * -WD_E_NO_MEMORY (context table). */
int vtd_context_install(struct vtd_unit *u, uint16_t source_id, uint64_t table_phys, uint16_t did);
/* Makes the context entry not present, invalidates the context cache for the
 * source and the domain's IOTLB entries, and waits for completion. */
void vtd_context_remove(struct vtd_unit *u, uint16_t source_id, uint16_t did);

/* IOTLB invalidation for [iova, iova+len) of domain did (page-selective when
 * the range is one naturally aligned power of two the unit accepts, else
 * domain-selective), then waits. */
void vtd_flush_iotlb(struct vtd_unit *u, uint16_t did, uint64_t iova, uint64_t len);
/* After a map: caching mode requires invalidating not-present entries too. */
void vtd_flush_after_map(struct vtd_unit *u, uint16_t did, uint64_t iova, uint64_t len);

/* ---- interrupt remapping (vtd_intremap.c) ---- */

/* The remapping entry as the hardware sees it (xAPIC format). */
struct vtd_irte {
    bool present;
    bool level;                     /* trigger mode */
    uint8_t vector;
    uint8_t apic_id;                /* destination, physical mode */
    uint16_t source_id;             /* requester ID checked when svt == 1 */
    uint8_t sq, svt;
};

/* Allocates a remapping entry (not present yet): its index or -WD_E_BUSY. */
int vtd_irte_alloc(struct vtd_unit *u);
/* Writes entry index and invalidates the interrupt entry cache for it,
 * waiting for completion. A not-present entry blocks the interrupt. */
void vtd_irte_write(struct vtd_unit *u, unsigned index, const struct vtd_irte *e);
/* Makes the entry not present (invalidate + wait) and frees it. */
void vtd_irte_free(struct vtd_unit *u, unsigned index);
/* Reads entry index back from the table. */
void vtd_irte_read(const struct vtd_unit *u, unsigned index, struct vtd_irte *out);

/* Writes CPU cache lines back when the unit's walks are not coherent. */
void vtd_cpu_flush(const struct vtd_unit *u, const void *p, size_t bytes);

#endif
