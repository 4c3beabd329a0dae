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
};

struct dmaspace {
    struct kobject obj;
    struct vtd_unit *unit;
    uint16_t domain_id;
    struct slpt table;
    struct dma_mapping *mappings;   /* sorted by IOVA, non-overlapping */
    uint64_t attached_groups;
    uint64_t table_charge;          /* bytes of page tables charged beyond the root */
};

/* Page-table memory for unit: kernel frames, written back when walks are not coherent. */
const struct slpt_memory *dmaspace_table_memory(struct vtd_unit *unit);

/* 0 or -WD_E_*; nothing changes on failure. */
struct dmaspace *dmaspace_create(struct pool *pool, int *error);
void dmaspace_destroy(struct dmaspace *s);

int dmaspace_attach(struct dmaspace *s, struct iommu_group *g);
void dmaspace_detach(struct iommu_group *g);

int dmaspace_map(struct dmaspace *s, struct frame_object *frame, uint64_t offset, uint64_t iova,
                 uint64_t length, uint32_t rights);
/* Removes the whole mappings inside [iova, iova+length): the count or -WD_E_*. */
int64_t dmaspace_unmap(struct dmaspace *s, uint64_t iova, uint64_t length);

#endif
