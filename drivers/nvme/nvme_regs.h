/*
 * nvme_regs.h - the NVMe controller as the driver sees it (NVMe Base 1.4
 * §3.1 registers, §4.2/4.6 queue entries, the admin and NVM opcodes it
 * uses), with typed accessors for the fields it reads. Facts about QEMU
 * 7.2's controller: ../shared/reference/qemu-nvme-e1000e-facts.md §1.
 */
#ifndef WARDEN_NVME_REGS_H
#define WARDEN_NVME_REGS_H

#include <stdint.h>

/* Controller registers (BAR0). */
#define NVME_REG_CAP   0x00         /* 64 bits */
#define NVME_REG_VS    0x08
#define NVME_REG_CC    0x14
#define NVME_REG_CSTS  0x1C
#define NVME_REG_AQA   0x24
#define NVME_REG_ASQ   0x28         /* 64 bits */
#define NVME_REG_ACQ   0x30         /* 64 bits */
#define NVME_DOORBELLS 0x1000

static inline uint32_t nvme_cap_mqes(uint64_t cap) { return (uint32_t)(cap & 0xFFFF) + 1; }  /* entries */
static inline uint64_t nvme_cap_timeout_ms(uint64_t cap) { return ((cap >> 24) & 0xFF) * 500; }
static inline uint32_t nvme_cap_dstrd(uint64_t cap) { return (uint32_t)(cap >> 32) & 0xF; }
static inline uint32_t nvme_cap_mpsmin(uint64_t cap) { return (uint32_t)(cap >> 48) & 0xF; }
static inline int nvme_cap_nvm_command_set(uint64_t cap) { return (int)((cap >> 37) & 1); }

/* CC: enable, NVM command set, 4 KiB pages, 64-byte SQ and 16-byte CQ entries. */
#define NVME_CC_ENABLE 0x00460001u
#define NVME_CSTS_RDY  (1u << 0)
#define NVME_CSTS_CFS  (1u << 1)

/* Submission queue entry (64 bytes). */
struct nvme_sqe {
    uint8_t opcode;
    uint8_t flags;                  /* FUSE, PSDT = 0: PRPs */
    uint16_t cid;
    uint32_t nsid;
    uint64_t reserved;
    uint64_t metadata;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "an NVMe SQ entry is 64 bytes");

/* Completion queue entry (16 bytes). */
struct nvme_cqe {
    uint32_t result;                /* DW0 */
    uint32_t reserved;
    uint16_t sq_head;
    uint16_t sq_id;
    uint16_t cid;
    uint16_t status;                /* bit 0 phase, bits 1-8 SC, 9-11 SCT, 15 DNR */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "an NVMe CQ entry is 16 bytes");

static inline unsigned nvme_cqe_phase(uint16_t status) { return status & 1; }
static inline unsigned nvme_status_code(uint16_t status) { return (status >> 1) & 0xFF; }
static inline unsigned nvme_status_type(uint16_t status) { return (status >> 9) & 0x7; }

/* Admin opcodes. */
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY  0x06
#define NVME_ADMIN_SET_FEATURES 0x09
#define NVME_FEATURE_NUMBER_OF_QUEUES 0x07   /* cdw11 and DW0: NSQ - 1 in bits 0-15, NCQ - 1 in bits 16-31 */
#define NVME_IDENTIFY_NAMESPACE  0
#define NVME_IDENTIFY_CONTROLLER 1

/* NVM opcodes. */
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ  0x02
#define NVME_CMD_WRITE_ZEROES 0x08
#define NVME_CMD_DSM   0x09         /* Dataset Management: cdw11 bit 2 = Deallocate */
#define NVME_DSM_DEALLOCATE (1u << 2)

/* A Dataset Management range (16 bytes). */
struct nvme_dsm_range {
    uint32_t attributes;
    uint32_t blocks;
    uint64_t first_lba;
};

/* Identify Controller fields (byte offsets). */
#define NVME_ID_CTRL_SN   4         /* 20 bytes, space padded */
#define NVME_ID_CTRL_MN   24        /* 40 bytes */
#define NVME_ID_CTRL_MDTS 77        /* log2 of the largest transfer in MPSMIN pages; 0 = no limit */
#define NVME_ID_CTRL_NN   516       /* 32 bits: namespaces */
/* Identify Namespace fields. */
#define NVME_ID_NS_NSZE   0         /* 64 bits: size in logical blocks */
#define NVME_ID_NS_FLBAS  26
#define NVME_ID_NS_LBAF   128       /* 16 x 32 bits: LBADS in bits 16-23 */

#endif
