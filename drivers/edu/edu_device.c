/*
 * edu_device.c - what the edu driver does to the device: ID and liveness,
 * factorial, DMA transfers, the start-up DMA self-test, and waiting for
 * the device's interrupts (factorial-done 0x1, DMA-done 0x100).
 *
 * Invariants: no transfer is started that leaves the device's DMA window
 * (device offset + length <= EDU_DMA_MAX_BYTES: QEMU 7.2 aborts otherwise)
 * or uses an IOVA the device's 28-bit mask would silently change. After
 * every IRQ message the raised bits are cleared in the device (IRQ_ACK)
 * before the source is unmasked (irq_ack): an INTx line is level-triggered
 * and would otherwise bring the next message at once.
 */
#include <stdio.h>
#include <string.h>
#include <warden/syscalls.h>

#include "edu.h"
#include "edu_regs.h"

#define SELF_TEST_BYTES 256u
#define SELF_TEST_BACK 2048u                            /* where the read-back lands in the buffer */
#define EDU_IDLE_POLL_NS (1000ull * 1000)                /* 1 ms */

/* Orders CPU accesses to DMA memory against the MMIO accesses around them. */
static inline void compiler_barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

/* Waits for IRQ messages until the device reports `done` in its interrupt
 * status, for at most EDU_IRQ_TIMEOUT_NS. Each message is handled the same
 * way: read the status, ack those bits in the device, then irq_ack. Bits
 * of an earlier request that timed out are cleared on the way. 0, or
 * -TIMEOUT (after printing why) or another wait error. */
static long wait_for_interrupt(struct edu *e, uint32_t done, const char *what)
{
    uint64_t deadline = (uint64_t)wd_time_now() + EDU_IRQ_TIMEOUT_NS;
    long r;
    for (;;) {
        uint64_t now = (uint64_t)wd_time_now();
        r = -WD_E_TIMEOUT;
        if (now >= deadline)
            break;
        r = wd_driver_irq_wait(&e->irq, deadline - now, NULL);
        if (r < 0)
            break;
        uint32_t status = wd_mmio_read32(e->regs, EDU_REG_IRQ_STATUS);
        if (status)
            wd_mmio_write32(e->regs, EDU_REG_IRQ_ACK, status);
        wd_driver_irq_ack(&e->irq);
        if (status & done)
            return 0;
    }
    struct wd_irq_info info;
    long have_info = wd_irq_info(e->irq.irq, &info);
    printf("edu: no %s interrupt (%s) within %llu ms: %s; interrupt status 0x%x, %llu interrupt(s) taken by "
           "the kernel on this source so far\n",
           what, wd_driver_irq_mode_name(e->irq.mode), (unsigned long long)(EDU_IRQ_TIMEOUT_NS / 1000000),
           wd_error_name(r), wd_mmio_read32(e->regs, EDU_REG_IRQ_STATUS),
           have_info == 0 ? (unsigned long long)info.interrupts : 0ull);
    return r;
}

uint32_t edu_read_id(struct edu *e)
{
    return wd_mmio_read32(e->regs, EDU_REG_ID);
}

uint32_t edu_liveness(struct edu *e, uint32_t value)
{
    wd_mmio_write32(e->regs, EDU_REG_LIVENESS, value);
    return wd_mmio_read32(e->regs, EDU_REG_LIVENESS);
}

long edu_wait_idle(struct edu *e, uint64_t timeout_ns, uint64_t *waited_ns)
{
    uint64_t start = (uint64_t)wd_time_now(), now = start;
    while ((wd_mmio_read32(e->regs, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START) ||
           (wd_mmio_read32(e->regs, EDU_REG_STATUS) & EDU_STATUS_COMPUTING)) {
        if (now - start >= timeout_ns)
            return -WD_E_BUSY;
        wd_thread_sleep(EDU_IDLE_POLL_NS);
        now = (uint64_t)wd_time_now();
    }
    *waited_ns = now - start;
    return 0;
}

long edu_factorial(struct edu *e, uint32_t n)
{
    if (n > EDU_FACTORIAL_MAX)
        return -WD_E_INVALID_ARG;
    if (wd_mmio_read32(e->regs, EDU_REG_STATUS) & EDU_STATUS_COMPUTING)
        return -WD_E_BUSY;  /* the device ignores a new n while it computes */
    wd_mmio_write32(e->regs, EDU_REG_STATUS, EDU_STATUS_IRQ_FACT); /* interrupt when done */
    wd_mmio_write32(e->regs, EDU_REG_FACTORIAL, n);
    long r = wait_for_interrupt(e, EDU_IRQ_FACTORIAL, "factorial-done");
    if (r < 0)
        return r;
    return wd_mmio_read32(e->regs, EDU_REG_FACTORIAL);
}

long edu_dma(struct edu *e, bool to_device, uint64_t iova, uint64_t device_offset, uint64_t length)
{
    if (length == 0 || length > EDU_DMA_MAX_BYTES)
        return -WD_E_INVALID_ARG;
    if (device_offset > EDU_DMA_MAX_BYTES - length)
        return -WD_E_RANGE;
    if (iova > EDU_DMA_MASK || length - 1 > EDU_DMA_MASK - iova)
        return -WD_E_RANGE;
    return edu_dma_unchecked(e, to_device, iova, device_offset, length);
}

long edu_dma_unchecked(struct edu *e, bool to_device, uint64_t iova, uint64_t device_offset, uint64_t length)
{
    if (wd_mmio_read32(e->regs, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START)
        return -WD_E_BUSY;  /* the device ignores new parameters while a transfer runs */
    uint64_t device_address = EDU_DMA_WINDOW + device_offset;
    compiler_barrier();
    wd_mmio_write64(e->regs, EDU_REG_DMA_SRC, to_device ? iova : device_address);
    wd_mmio_write64(e->regs, EDU_REG_DMA_DST, to_device ? device_address : iova);
    wd_mmio_write64(e->regs, EDU_REG_DMA_COUNT, length);
    wd_mmio_write32(e->regs, EDU_REG_DMA_CMD,
                    EDU_DMA_CMD_START | EDU_DMA_CMD_IRQ | (to_device ? 0 : EDU_DMA_CMD_TO_RAM));
    long r = wait_for_interrupt(e, EDU_IRQ_DMA, "DMA-done");
    compiler_barrier();
    if (r < 0)
        return r;   /* if it still runs, the caller's unmap makes it fault, harmlessly */
    e->stats[EDU_STAT_TRANSFERS]++;
    e->stats[EDU_STAT_BYTES] += length;
    return 0;
}

bool edu_self_test(struct edu *e)
{
    uint8_t *bytes = e->buffer.cpu;
    for (unsigned i = 0; i < SELF_TEST_BYTES; i++) {
        bytes[i] = (uint8_t)(i * 7 + 3);
        bytes[SELF_TEST_BACK + i] = 0;
    }
    long r = edu_dma(e, true, e->buffer.iova, 0, SELF_TEST_BYTES);
    if (r == 0)
        r = edu_dma(e, false, e->buffer.iova + SELF_TEST_BACK, 0, SELF_TEST_BYTES);
    if (r < 0) {
        printf("edu: DMA self-test: transfer failed: %s (%s)\n", wd_error_name(r), wd_error_text(r));
        return false;
    }
    for (unsigned i = 0; i < SELF_TEST_BYTES; i++) {
        if (bytes[SELF_TEST_BACK + i] != bytes[i]) {
            printf("edu: DMA self-test: byte %u came back as 0x%02x, 0x%02x was sent (was the DMA blocked? "
                   "a DMA fault report follows if so)\n",
                   i, bytes[SELF_TEST_BACK + i], bytes[i]);
            return false;
        }
    }
    return true;
}
