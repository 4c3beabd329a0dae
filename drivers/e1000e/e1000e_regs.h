/*
 * e1000e_regs.h - the Intel 82574L (QEMU's e1000e, 8086:10d3) as the
 * driver sees it: register offsets (82574 datasheet §10.2), the bits it
 * uses, and the legacy RX and TX descriptors (§7.1.4, §7.2.2). Facts about
 * QEMU 7.2's model: ../shared/reference/qemu-nvme-e1000e-facts.md §2.
 */
#ifndef WARDEN_E1000E_REGS_H
#define WARDEN_E1000E_REGS_H

#include <stdint.h>

#define E1000E_VENDOR 0x8086
#define E1000E_DEVICE 0x10d3

/* BAR0 registers. */
#define E1000E_CTRL     0x0000
#define E1000E_STATUS   0x0008
#define E1000E_EERD     0x0014
#define E1000E_CTRL_EXT 0x0018
#define E1000E_ICR      0x00C0
#define E1000E_RXCSUM   0x5000          /* receive checksum offload: off */
#define E1000E_ITR      0x00C4
#define E1000E_IMS      0x00D0
#define E1000E_IMC      0x00D8
#define E1000E_EIAC     0x00DC
#define E1000E_IVAR     0x00E4
#define E1000E_EITR(n)  (0x00E8 + 4 * (n))
#define E1000E_RCTL     0x0100
#define E1000E_TCTL     0x0400
#define E1000E_RDBAL    0x2800
#define E1000E_RDBAH    0x2804
#define E1000E_RDLEN    0x2808
#define E1000E_RDH      0x2810
#define E1000E_RDT      0x2818
#define E1000E_TDBAL    0x3800
#define E1000E_TDBAH    0x3804
#define E1000E_TDLEN    0x3808
#define E1000E_TDH      0x3810
#define E1000E_TDT      0x3818
#define E1000E_TARC0    0x3840
#define E1000E_RFCTL    0x5008
#define E1000E_MTA      0x5200      /* 128 x 32 bits */
#define E1000E_RAL0     0x5400
#define E1000E_RAH0     0x5404
/* Statistics (clear on read). */
#define E1000E_CRCERRS  0x4000
#define E1000E_MPC      0x4010      /* missed: no RX descriptor */
#define E1000E_GPRC     0x4074      /* good packets received */
#define E1000E_GPTC     0x4080      /* good packets sent */
#define E1000E_ROC      0x40AC      /* oversize received */
#define E1000E_RUC      0x40A4      /* undersize received */

#define E1000E_STATUS_LU (1u << 1)  /* link up */
#define E1000E_RAH_AV    (1u << 31) /* address valid */

#define E1000E_RCTL_EN    (1u << 1)
#define E1000E_RCTL_BAM   (1u << 15)  /* accept broadcast */
#define E1000E_RCTL_SECRC (1u << 26)  /* strip the CRC: without it QEMU 7.2 uses two descriptors per frame (§0.7) */
                                      /* BSIZE 00 (bits 16-17): 2048-byte buffers */
#define E1000E_TCTL_VALUE 0x0003F0FAu /* EN | PSP | CT=0xF | COLD=0x3F */
#define E1000E_TARC0_ENABLE (1u << 10) /* QEMU sends nothing without it */

/* ICR / IMS causes. */
#define E1000E_ICR_TXDW  (1u << 0)
#define E1000E_ICR_LSC   (1u << 2)
#define E1000E_ICR_RXO   (1u << 6)
#define E1000E_ICR_RXT0  (1u << 7)
#define E1000E_ICR_RXQ0  (1u << 20)   /* MSI-X mode */
#define E1000E_ICR_TXQ0  (1u << 22)
#define E1000E_ICR_OTHER (1u << 24)

/* IVAR: a nibble per cause, valid (bit 3) | MSI-X vector (0-4). */
#define E1000E_IVAR_VALID 0x8u
static inline uint32_t e1000e_ivar(unsigned rx_vector, unsigned tx_vector, unsigned other_vector)
{
    return (E1000E_IVAR_VALID | rx_vector) << 0 | (E1000E_IVAR_VALID | tx_vector) << 8 |
           (E1000E_IVAR_VALID | other_vector) << 16;
}

/* Legacy RX descriptor (16 bytes). */
struct e1000e_rx_desc {
    uint64_t addr;
    uint16_t length;
    uint16_t checksum;
    uint8_t status;                 /* DD 0x01, EOP 0x02 */
    uint8_t errors;
    uint16_t special;
};
_Static_assert(sizeof(struct e1000e_rx_desc) == 16, "a legacy RX descriptor is 16 bytes");
#define E1000E_RX_DD  0x01
#define E1000E_RX_EOP 0x02
/* Errors of the frame itself (CRC, symbol, sequence, carrier extension, RX
 * data); the checksum-offload bits (TCPE 0x20, IPE 0x40) are not: the
 * network service checks every checksum itself (RXCSUM is off). */
#define E1000E_RX_FRAME_ERRORS 0x97

/* Legacy TX descriptor (16 bytes). */
struct e1000e_tx_desc {
    uint64_t addr;
    uint16_t length;
    uint8_t cso;
    uint8_t cmd;                    /* EOP 0x01, IFCS 0x02, RS 0x08 */
    uint8_t status;                 /* DD 0x01 */
    uint8_t css;
    uint16_t special;
};
_Static_assert(sizeof(struct e1000e_tx_desc) == 16, "a legacy TX descriptor is 16 bytes");
#define E1000E_TX_EOP  0x01
#define E1000E_TX_IFCS 0x02
#define E1000E_TX_RS   0x08
#define E1000E_TX_DD   0x01

#endif
