/*
 * edu_regs.h - the registers of QEMU's edu device (hw/misc/edu.c,
 * docs/specs/edu.txt) in BAR0. Registers below 0x80 take 32-bit accesses
 * only; the DMA registers take 32- or 64-bit accesses.
 *
 * DMA engine: one 4096-byte buffer at device address EDU_DMA_WINDOW. QEMU
 * 7.2 aborts (hw_error) on a transfer that ends at or past the window's
 * last byte, so every transfer must satisfy offset + length <= 4095. The
 * RAM-side address is masked to 28 bits, silently: keep IOVAs below
 * EDU_DMA_MASK + 1. A transfer runs 100 ms of virtual time after the start.
 *
 * Interrupts: one MSI vector, or INTx pin A. Every raise sets bits in
 * IRQ_STATUS; with MSI each raise is one message, with INTx the line stays
 * asserted (level) until IRQ_ACK has cleared every bit.
 */
#ifndef WARDEN_EDU_REGS_H
#define WARDEN_EDU_REGS_H

#define EDU_REG_ID          0x00    /* RO: 0x010000ED */
#define EDU_REG_LIVENESS    0x04    /* RW: reads back ~value */
#define EDU_REG_FACTORIAL   0x08    /* RW: write n, read n! once STATUS.COMPUTING clears */
#define EDU_REG_STATUS      0x20    /* RW */
#define EDU_STATUS_COMPUTING (1u << 0)  /* RO: factorial in progress */
#define EDU_STATUS_IRQ_FACT  (1u << 7)  /* raise IRQ 0x1 when the factorial is done */
#define EDU_REG_IRQ_STATUS  0x24    /* RO: the raised interrupt bits, until acked */
#define EDU_IRQ_FACTORIAL    0x001u     /* the factorial is done (with EDU_STATUS_IRQ_FACT) */
#define EDU_IRQ_DMA          0x100u     /* a transfer is done (with EDU_DMA_CMD_IRQ) */
#define EDU_REG_IRQ_RAISE   0x60    /* WO: sets these bits in IRQ_STATUS and interrupts */
#define EDU_REG_IRQ_ACK     0x64    /* WO: clears these bits; INTx drops when none is left */
#define EDU_REG_DMA_SRC     0x80    /* RW, 64-bit */
#define EDU_REG_DMA_DST     0x88    /* RW, 64-bit */
#define EDU_REG_DMA_COUNT   0x90    /* RW, 64-bit */
#define EDU_REG_DMA_CMD     0x98    /* RW */
#define EDU_DMA_CMD_START    (1u << 0)  /* RO while the transfer runs */
#define EDU_DMA_CMD_TO_RAM   (1u << 1)  /* direction: 0 = RAM -> device, 1 = device -> RAM */
#define EDU_DMA_CMD_IRQ      (1u << 2)  /* raise IRQ 0x100 when done */

#define EDU_DMA_WINDOW      0x40000ull  /* device address of the DMA buffer */
#define EDU_DMA_MASK        ((1ull << 28) - 1)

#endif
