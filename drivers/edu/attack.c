/*
 * attack.c - EDU_OP_ATTACK: on request (the shell's `attack edu`), the
 * driver points its own device at memory it was not given, so a user can
 * watch the IOMMU stop it: an unmapped IOVA, a page the device may only
 * read, an IOVA the caller names (another driver's, or an old one), and
 * the interrupt window (a forged MSI). The kernel's fault log and the
 * driver's fault messages show each fault; for the read-only page the
 * driver checks its pattern afterwards.
 */
#include <string.h>
#include <warden/syscalls.h>

#include "edu.h"
#include "edu_regs.h"

#define PATTERN 0x5A
#define IRQ_WINDOW_FIRST 0xFEE00000ull
#define IRQ_WINDOW_LAST 0xFEEFFFFFull

/* The device writes EDU_ATTACK_BYTES of its buffer to a page mapped READ only. */
static long attack_read_only(struct edu *e, struct wd_msg *msg)
{
    struct wd_dma_buffer page;
    long r = wd_dma_alloc(&e->driver, WD_PAGE_SIZE, WD_RIGHT_READ, &page);
    if (r < 0)
        return r;
    memset(page.cpu, PATTERN, WD_PAGE_SIZE);
    msg->w[1] = page.iova;
    msg->w[2] = (uint64_t)edu_dma_unchecked(e, false, page.iova, 0, EDU_ATTACK_BYTES);
    const uint8_t *bytes = page.cpu;
    bool unchanged = true;
    for (uint64_t i = 0; i < WD_PAGE_SIZE; i++)
        unchanged = unchanged && bytes[i] == PATTERN;
    msg->w[3] = unchanged;
    wd_dma_free(&e->driver, &page);
    return 0;
}

long edu_attack(struct edu *e, struct wd_msg *msg, unsigned *words)
{
    uint64_t kind = msg->w[0], iova = msg->w[1];
    *words = 4;
    msg->w[1] = msg->w[2] = msg->w[3] = 0;
    switch (kind) {
    case EDU_ATTACK_UNMAPPED:
        iova = EDU_ATTACK_UNMAPPED_IOVA;
        break;
    case EDU_ATTACK_READ_ONLY:
        return attack_read_only(e, msg);
    case EDU_ATTACK_IOVA:
        if (iova & (WD_PAGE_SIZE - 1) || iova > EDU_DMA_MASK)
            return -WD_E_RANGE;
        break;
    case EDU_ATTACK_IRQ_WINDOW:
        if (iova < IRQ_WINDOW_FIRST || iova > IRQ_WINDOW_LAST - 3 || (iova & 3))
            return -WD_E_RANGE;
        break;
    default:
        *words = 1;
        return -WD_E_INVALID_ARG;
    }
    msg->w[1] = iova;
    msg->w[2] = (uint64_t)edu_dma_unchecked(e, false, iova, 0, kind == EDU_ATTACK_IRQ_WINDOW ? 4 : EDU_ATTACK_BYTES);
    return 0;
}
