/*
 * t_dma.h - helpers the DMA tests share: finding and opening QEMU's edu
 * device, running its DMA engine, and DMA buffers.
 */
#ifndef WARDEN_TESTS_T_DMA_H
#define WARDEN_TESTS_T_DMA_H

#include <stdbool.h>
#include <warden/abi.h>

struct edu {
    wd_handle_t device, dmaspace, fault_ep;
    struct wd_device_info info;
    volatile uint8_t *bar;
};

/* The device root init passed to this test (WD_NULL if none). */
wd_handle_t dma_device_root(void);
bool dma_iommu_present(void);
/* 0 with *out filled for the first function with these IDs, or -WD_E_NOT_FOUND. */
long dma_find_device(uint16_t vendor, uint16_t device, struct wd_device_info *out);
bool edu_open(struct edu *e, bool attach);
bool edu_dma(struct edu *e, uint64_t ram_iova, uint64_t count, bool to_ram);
void edu_write64(struct edu *e, unsigned reg, uint64_t v);
uint64_t edu_read64(struct edu *e, unsigned reg);
volatile uint8_t *dma_buffer(wd_handle_t *frame, uint64_t va, uint64_t size, uint64_t flags);

#endif
