/*
 * dma.c - DMA buffers and IOMMU mappings for drivers: wd_dma_alloc/free
 * (frame + CPU mapping + IOMMU mapping, undone in reverse on failure) and
 * wd_dma_map_frame/unmap_frame (someone else's frame, e.g. a client's).
 *
 * Invariants: an IOVA range goes back to the allocator only after
 * dma_unmap succeeded (the kernel has waited for the IOTLB flush), so a
 * range that is still mapped is never handed out twice. Every range taken
 * is followed by a guard page that is never mapped.
 */
#include <warden/driver.h>
#include <warden/syscalls.h>

#include "span.h"

#define LARGE_PAGE (2ull << 20)

static uint64_t page_round_up(uint64_t v)
{
    return (v + WD_PAGE_SIZE - 1) & ~(WD_PAGE_SIZE - 1);
}

/* 2 MiB alignment lets the kernel use 2 MiB IOMMU pages for big buffers. */
static uint64_t alignment_for(uint64_t bytes)
{
    return bytes >= LARGE_PAGE ? LARGE_PAGE : WD_PAGE_SIZE;
}

static long check_dma_rights(uint64_t dma_rights)
{
    if (dma_rights & ~(uint64_t)(WD_RIGHT_READ | WD_RIGHT_WRITE))
        return -WD_E_BAD_FLAGS;
    return dma_rights ? 0 : -WD_E_INVALID_ARG;
}

long wd_dma_map_frame(struct wd_driver *d, wd_handle_t frame, uint64_t offset, uint64_t len,
                      uint64_t dma_rights, uint64_t *iova)
{
    long r = check_dma_rights(dma_rights);
    if (r < 0)
        return r;
    if (len == 0)
        return -WD_E_INVALID_ARG;
    if ((offset | len) & (WD_PAGE_SIZE - 1))
        return -WD_E_UNALIGNED;
    uint64_t at;
    r = wd_span_take(&d->iova, len + WD_DRIVER_GUARD_BYTES, alignment_for(len), &at);
    if (r < 0)
        return r;
    /* One mapping, or (no_large_iommu_pages) pieces just below 2 MiB, so
     * the kernel can use no 2 MiB leaf; the IOVA range is contiguous either way. */
    uint64_t piece = d->no_large_iommu_pages ? LARGE_PAGE - WD_PAGE_SIZE : len, done = 0;
    for (; r == 0 && done < len; done += piece) {
        uint64_t n = len - done < piece ? len - done : piece;
        r = wd_dma_map(d->dmaspace, frame, offset + done, at + done, n, dma_rights);
        if (r < 0)
            break;
    }
    if (r < 0) {
        if (done)
            wd_dma_unmap(d->dmaspace, at, done);
        wd_span_give_back(&d->iova, at, len + WD_DRIVER_GUARD_BYTES);
        return r;
    }
    *iova = at;
    return 0;
}

long wd_dma_unmap_frame(struct wd_driver *d, uint64_t iova, uint64_t len)
{
    if (iova < WD_DRIVER_IOVA_BASE || iova >= d->iova.next || len == 0)
        return -WD_E_INVALID_ARG; /* not a range libdriver handed out */
    long r = wd_dma_unmap(d->dmaspace, iova, len);
    if (r < 0)
        return r;
    wd_span_give_back(&d->iova, iova, len + WD_DRIVER_GUARD_BYTES);
    return 0;
}

long wd_dma_alloc(struct wd_driver *d, uint64_t size, uint64_t dma_rights, struct wd_dma_buffer *out)
{
    long r = check_dma_rights(dma_rights);
    if (r < 0)
        return r;
    if (size == 0 || size > WD_FRAME_MAX_BYTES)
        return -WD_E_INVALID_ARG;
    uint64_t bytes = page_round_up(size);
    long frame = wd_frame_create(d->pool, bytes, WD_FRAME_CONTIGUOUS);
    if (frame < 0)
        return frame;
    uint64_t vaddr = 0, iova = 0;
    r = wd_span_take(&d->vaddr, bytes + WD_DRIVER_GUARD_BYTES, alignment_for(bytes), &vaddr);
    if (r < 0)
        goto delete_frame;
    r = wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, vaddr, bytes, WD_RIGHT_READ | WD_RIGHT_WRITE);
    if (r < 0)
        goto give_back_vaddr;
    r = wd_dma_map_frame(d, (wd_handle_t)frame, 0, bytes, dma_rights, &iova);
    if (r < 0)
        goto unmap_cpu;
    out->frame = (wd_handle_t)frame;
    out->cpu = (void *)vaddr;
    out->iova = iova;
    out->size = bytes;
    return 0;

unmap_cpu:
    wd_vm_unmap(WD_NULL, vaddr, bytes);
give_back_vaddr:
    wd_span_give_back(&d->vaddr, vaddr, bytes + WD_DRIVER_GUARD_BYTES);
delete_frame:
    wd_cap_delete((wd_handle_t)frame);
    return r;
}

long wd_dma_free(struct wd_driver *d, struct wd_dma_buffer *buf)
{
    if (!buf->frame)
        return -WD_E_INVALID_ARG;
    long result = wd_dma_unmap_frame(d, buf->iova, buf->size); /* the IOVA stays taken on failure */
    uint64_t vaddr = (uint64_t)buf->cpu;
    long r = wd_vm_unmap(WD_NULL, vaddr, buf->size); /* >= 0: mappings removed */
    if (r >= 0)
        wd_span_give_back(&d->vaddr, vaddr, buf->size + WD_DRIVER_GUARD_BYTES);
    else if (result == 0)
        result = r;
    r = wd_cap_delete(buf->frame);
    if (r < 0 && result == 0)
        result = r;
    buf->frame = WD_NULL;
    buf->cpu = NULL;
    return result;
}
