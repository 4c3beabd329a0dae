/*
 * dmaspace.h - DMA spaces: one IOMMU domain ID on one remapping unit, a
 * second-level page table, and the list of DMA mappings of frame objects.
 * Each mapping holds a reference on its frame; unmapping drops it only
 * after the IOTLB invalidation for the range has completed. Page tables
 * are charged to the dmaspace's pool.
 */
#ifndef WARDEN_OBJ_DMASPACE_H
#define WARDEN_OBJ_DMASPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "cap/dependents.h"
#include "iommu/slpt.h"
#include "obj/object.h"

struct frame_object;
struct iommu_group;
struct pool;
struct vtd_unit;

struct dma_mapping {
    struct dma_mapping *next;
    uint64_t iova;
    uint64_t length;
    uint64_t offset;                /* into the frame */
    struct frame_object *frame;
    uint32_t rights;                /* WD_RIGHT_READ (device reads) | WD_RIGHT_WRITE (device writes) */
    bool cleared;                   /* its entries are gone and flushed; the record waits for removal */
    struct lease_link *lease;       /* made through a lease: ends with it (else NULL) */
};

#define DMASPACE_REVOKED_RANGES 8

struct dmaspace {
    struct kobject obj;
    struct vtd_unit *unit;
    uint16_t domain_id;
    struct slpt table;
    struct dma_mapping *mappings;   /* sorted by IOVA, non-overlapping */
    uint64_t attached_groups;
    uint64_t table_charge;          /* bytes of page tables charged beyond the root */
    /* IOVA ranges of leases that ended (their clients took the memory
     * back), until something is mapped there again: a device access there
     * is expected (a request was in flight) and is not counted toward a
     * fault flood. The oldest is forgotten first. */
    struct dmaspace_revoked_range {
        uint64_t iova, length;
    } revoked[DMASPACE_REVOKED_RANGES];
    unsigned revoked_next;
    unsigned revoked_live;          /* entries with a length (0: nothing to look at) */
    struct dmaspace *all_next, *all_prev;   /* every dmaspace, oldest first (inspection) */
};

/* Page-table memory for unit: kernel frames, written back when walks are not coherent. */
const struct slpt_memory *dmaspace_table_memory(struct vtd_unit *unit);

/* Whether iova lies in a range whose lease ended and that is not mapped again. */
bool dmaspace_iova_revoked(const struct dmaspace *s, uint64_t iova);

/* The index'th dmaspace, oldest first, or NULL; by object id, or NULL. */
struct dmaspace *dmaspace_at(unsigned index);
struct dmaspace *dmaspace_by_id(uint64_t id);

/* 0 or -WD_E_*; nothing changes on failure. */
struct dmaspace *dmaspace_create(struct pool *pool, int *error);
void dmaspace_destroy(struct dmaspace *s);

int dmaspace_attach(struct dmaspace *s, struct iommu_group *g);
void dmaspace_detach(struct iommu_group *g);

/* With lease, the mapping is made through that lease and ends with it. */
int dmaspace_map(struct dmaspace *s, struct frame_object *frame, uint64_t offset, uint64_t iova,
                 uint64_t length, uint32_t rights, struct cap_dependents *lease);
/* The lease m was made through is ending: clear its entries and, if a
 * device is attached, invalidate the IOTLB and wait (true then). The record
 * stays until dmaspace_lease_remove. */
bool dmaspace_lease_clear(struct dmaspace *s, struct dma_mapping *m);
/* Then: the record goes and its frame reference is dropped (m is already
 * off its lease's list). */
void dmaspace_lease_remove(struct dmaspace *s, struct dma_mapping *m);
/* Removes the whole mappings inside [iova, iova+length): the count or -WD_E_*. */
int64_t dmaspace_unmap(struct dmaspace *s, uint64_t iova, uint64_t length);

#endif
