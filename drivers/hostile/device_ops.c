/*
 * device_ops.c - what the hostile driver makes its edu device do: mapping
 * what it is given into its DMA space, filling the device's buffer, and
 * transfers to wherever it is told (unmapped IOVAs, read-only pages,
 * other domains' IOVAs, the interrupt window, beyond the address width,
 * revoked leases); raising its interrupt; programming the device through a
 * BAR mapping it kept after giving the device up, and mapping the BAR
 * frame capability it kept.
 *
 * No check here stops a transfer: the IOMMU has to. edu's limits that
 * would crash QEMU are the only ones kept (device offset 0, at most
 * HOSTILE_MAX_TRANSFER bytes).
 */
#include <warden/syscalls.h>

#include "edu_regs.h"
#include "hostile.h"

#define TRANSFER_TIMEOUT_NS (3000ull * 1000 * 1000)
#define RAISE_WAIT_NS (500ull * 1000 * 1000)
#define RAISE_BIT 0x1000u               /* an interrupt status bit nothing else uses */

long hostile_transfer(volatile void *regs, uint64_t iova, uint64_t bytes, bool to_ram)
{
    if (bytes == 0 || bytes > HOSTILE_MAX_TRANSFER)
        return -WD_E_INVALID_ARG;
    if (wd_mmio_read32(regs, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START)
        return -WD_E_BUSY;
    wd_mmio_write64(regs, EDU_REG_DMA_SRC, to_ram ? EDU_DMA_WINDOW : iova);
    wd_mmio_write64(regs, EDU_REG_DMA_DST, to_ram ? iova : EDU_DMA_WINDOW);
    wd_mmio_write64(regs, EDU_REG_DMA_COUNT, bytes);
    wd_mmio_write32(regs, EDU_REG_DMA_CMD, EDU_DMA_CMD_START | (to_ram ? EDU_DMA_CMD_TO_RAM : 0));
    return wd_mmio_poll32(regs, EDU_REG_DMA_CMD, EDU_DMA_CMD_START, 0, TRANSFER_TIMEOUT_NS, 2ull * 1000 * 1000);
}

long hostile_map(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)out;
    if (wd_msg_ncaps(req->info) != 1)
        return -WD_E_INVALID_ARG;
    return wd_dma_map(h->driver.dmaspace, req->caps[0], 0, req->w[0], req->w[1], req->w[2]);
}

long hostile_unmap(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)out;
    return wd_dma_unmap(h->driver.dmaspace, req->w[0], req->w[1]);
}

long hostile_load(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)out;
    uint32_t *words = h->page.cpu;
    for (unsigned i = 0; i < WD_PAGE_SIZE / 4; i++)
        words[i] = (uint32_t)req->w[0];
    return hostile_transfer(h->regs, h->page.iova, HOSTILE_MAX_TRANSFER, false);
}

long hostile_dma(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)out;
    return hostile_transfer(h->regs, req->w[0], req->w[1], req->w[2] != 0);
}

long hostile_raise(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)req;
    wd_mmio_write32(h->regs, EDU_REG_IRQ_RAISE, RAISE_BIT);
    long r = wd_driver_irq_wait(&h->irq, RAISE_WAIT_NS, NULL);
    out[0] = r > 0;
    wd_mmio_write32(h->regs, EDU_REG_IRQ_ACK, wd_mmio_read32(h->regs, EDU_REG_IRQ_STATUS));
    if (r > 0)
        wd_driver_irq_ack(&h->irq);
    return 0;
}

long hostile_stale_map(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)req;
    long again = wd_device_bar_frame(h->driver.device, 0);
    out[0] = (uint64_t)wd_vm_map(WD_NULL, h->bar_frame, 0, h->next_vaddr, h->regs_size, WD_RIGHT_READ | WD_RIGHT_WRITE);
    h->next_vaddr += 16ull << 20;
    return again;
}

long hostile_stale_dma(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)out;
    return hostile_transfer(h->regs, req->w[0], HOSTILE_MAX_TRANSFER, true);   /* faults if the mapping went */
}

long hostile_read_id(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)req;
    out[0] = (uint64_t)(uintptr_t)h->regs;
    return wd_mmio_read32(h->regs, EDU_REG_ID);
}
