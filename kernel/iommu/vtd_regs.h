/*
 * vtd_regs.h - Intel VT-d remapping unit registers (VT-d spec 11.4):
 * offsets, and typed accessors for the CAP, ECAP and GSTS fields the
 * kernel uses. Field positions are the spec's; QEMU 7.2 facts are in
 * shared/reference/qemu-vtd-facts.md.
 */
#ifndef WARDEN_IOMMU_VTD_REGS_H
#define WARDEN_IOMMU_VTD_REGS_H

#include <stdbool.h>
#include <stdint.h>

enum vtd_register {
    VTD_REG_VERSION = 0x00,     /* 32-bit */
    VTD_REG_CAP = 0x08,         /* 64-bit */
    VTD_REG_ECAP = 0x10,        /* 64-bit */
    VTD_REG_GCMD = 0x18,        /* 32-bit */
    VTD_REG_GSTS = 0x1C,        /* 32-bit */
    VTD_REG_RTADDR = 0x20,
    VTD_REG_CCMD = 0x28,
    VTD_REG_FSTS = 0x34,        /* 32-bit */
    VTD_REG_FECTL = 0x38,       /* 32-bit */
    VTD_REG_FEDATA = 0x3C,
    VTD_REG_FEADDR = 0x40,
    VTD_REG_FEUADDR = 0x44,
    VTD_REG_PMEN = 0x64,
    VTD_REG_IQH = 0x80,         /* 64-bit: queue head, descriptor index << 4 */
    VTD_REG_IQT = 0x88,         /* 64-bit: queue tail */
    VTD_REG_IQA = 0x90,         /* 64-bit: queue base | size (2^QS pages) */
    VTD_REG_ICS = 0x9C,         /* 32-bit: bit 0 wait descriptor complete */
    VTD_REG_IECTL = 0xA0,       /* 32-bit: invalidation event control */
    VTD_REG_IRTA = 0xB8,        /* 64-bit: interrupt remapping table address | EIME | S */
};

/* Register-based invalidation (CCMD at 0x28, IOTLB at ECAP.IRO + 8). */
#define VTD_CCMD_ICC            (1ull << 63)
#define VTD_CCMD_GLOBAL         (1ull << 61)
#define VTD_CCMD_DEVICE         (3ull << 61)
#define VTD_CCMD_SID(sid)       ((uint64_t)(sid) << 16)
#define VTD_CCMD_DID(did)       ((uint64_t)(did))
#define VTD_IOTLB_IVT           (1ull << 63)
#define VTD_IOTLB_GLOBAL        (1ull << 60)
#define VTD_IOTLB_DOMAIN        (2ull << 60)
#define VTD_IOTLB_PAGE          (3ull << 60)
#define VTD_IOTLB_DR            (1ull << 49)    /* drain reads */
#define VTD_IOTLB_DW            (1ull << 48)    /* drain writes */
#define VTD_IOTLB_DID(did)      ((uint64_t)(did) << 32)

/* Queued invalidation descriptors (128 bits; VT-d spec 6.5.2). */
#define VTD_QI_CONTEXT          0x1ull
#define VTD_QI_IOTLB            0x2ull
#define VTD_QI_IEC              0x4ull         /* interrupt entry cache */
#define VTD_QI_WAIT             0x5ull
#define VTD_QI_GRAN_GLOBAL      (1ull << 4)
#define VTD_QI_GRAN_DOMAIN      (2ull << 4)
#define VTD_QI_GRAN_DEVICE      (3ull << 4)     /* context cache: one source ID */
#define VTD_QI_GRAN_PAGE        (3ull << 4)     /* IOTLB: 2^AM pages at ADDR */
#define VTD_QI_IOTLB_DW         (1ull << 6)
#define VTD_QI_IOTLB_DR         (1ull << 7)
#define VTD_QI_DID(did)         ((uint64_t)(did) << 16)
#define VTD_QI_SID(sid)         ((uint64_t)(sid) << 32)
#define VTD_QI_WAIT_SW          (1ull << 5)     /* write status data to the address */
#define VTD_QI_WAIT_FN          (1ull << 6)     /* fence: later descriptors wait for this one */
#define VTD_QI_WAIT_DATA(v)     ((uint64_t)(v) << 32)
#define VTD_QI_IEC_INDEXED      (1ull << 4)     /* one entry (IIDX) instead of all */
#define VTD_QI_IEC_INDEX(i)     ((uint64_t)(i) << 32)

/* Interrupt remapping table entry, xAPIC format (128 bits; VT-d spec 9.10). */
#define VTD_IRTE_PRESENT        (1ull << 0)
#define VTD_IRTE_FPD            (1ull << 1)     /* fault processing disable */
#define VTD_IRTE_TRIGGER_LEVEL  (1ull << 4)
#define VTD_IRTE_VECTOR(v)      ((uint64_t)(v) << 16)
#define VTD_IRTE_DEST_XAPIC(id) ((uint64_t)(id) << 40)  /* DST bits 15:8 = APIC ID */
#define VTD_IRTE_SID(sid)       ((uint64_t)(sid))        /* hi */
#define VTD_IRTE_SQ(sq)         ((uint64_t)(sq) << 16)   /* hi */
#define VTD_IRTE_SVT(svt)       ((uint64_t)(svt) << 18)  /* hi */
static inline bool vtd_irte_present(uint64_t lo) { return lo & 1; }
static inline bool vtd_irte_level(uint64_t lo) { return (lo >> 4) & 1; }
static inline unsigned vtd_irte_vector(uint64_t lo) { return (lo >> 16) & 0xFF; }
static inline unsigned vtd_irte_dest_xapic(uint64_t lo) { return (lo >> 40) & 0xFF; }
static inline uint16_t vtd_irte_sid(uint64_t hi) { return hi & 0xFFFF; }
static inline unsigned vtd_irte_sq(uint64_t hi) { return (hi >> 16) & 3; }
static inline unsigned vtd_irte_svt(uint64_t hi) { return (hi >> 18) & 3; }

/* Remappable-format MSI address (VT-d spec 5.1.2.2): handle in bits 19:5 and 2,
 * bit 4 = remappable, bit 3 = SHV (the data holds a subhandle, 0 here). */
#define VTD_MSI_ADDRESS_BASE    0xFEE00000u
static inline uint32_t vtd_remappable_msi_address(unsigned handle)
{
    return VTD_MSI_ADDRESS_BASE | ((handle & 0x7FFF) << 5) | (1u << 4) | (1u << 3) | (((handle >> 15) & 1) << 2);
}
/* Remappable-format IOAPIC redirection entry bits: format bit 48, handle 14:0 in 63:49,
 * handle bit 15 in bit 11 (spec 5.1.5.1). */
static inline uint64_t vtd_remappable_ioapic_bits(unsigned handle)
{
    return (1ull << 48) | ((uint64_t)(handle & 0x7FFF) << 49) | ((uint64_t)((handle >> 15) & 1) << 11);
}

/* Fault recording register i (128 bits at FRO + 16 i); VT-d spec 11.4.14. */
static inline bool vtd_frcd_fault(uint64_t hi) { return hi >> 63; }                 /* F */
static inline bool vtd_frcd_is_read(uint64_t hi) { return (hi >> 62) & 1; }         /* T: 1 read, 0 write */
static inline unsigned vtd_frcd_reason(uint64_t hi) { return (hi >> 32) & 0xFF; }   /* FR */
static inline uint16_t vtd_frcd_source(uint64_t hi) { return hi & 0xFFFF; }         /* SID */
static inline uint64_t vtd_frcd_address(uint64_t lo) { return lo & ~0xFFFull; }     /* FI */

/* FSTS */
#define VTD_FSTS_PFO (1u << 0)      /* primary fault overflow */
#define VTD_FSTS_PPF (1u << 1)      /* primary pending fault */
#define VTD_FSTS_IQE (1u << 4)      /* invalidation queue error */
static inline unsigned vtd_fsts_fault_index(uint32_t fsts) { return (fsts >> 8) & 0xFF; }  /* FRI */
#define VTD_FECTL_IM (1u << 31)     /* fault interrupt masked */

/* Root and context entries (legacy mode, 128 bits each). */
#define VTD_ROOT_PRESENT        1ull
#define VTD_CONTEXT_PRESENT     1ull
#define VTD_CONTEXT_AW(levels)  ((uint64_t)((levels) - 2))     /* hi: 3 levels = 1, 4 = 2 */
#define VTD_CONTEXT_DID(did)    ((uint64_t)(did) << 8)        /* hi */

/* CAP fields used for invalidation and superpages. */
static inline unsigned vtd_cap_max_invalidation_order(uint64_t cap) { return (cap >> 48) & 0x3F; }  /* MAMV */
static inline bool vtd_cap_page_selective(uint64_t cap) { return (cap >> 39) & 1; }                /* PSI */
static inline bool vtd_cap_write_buffer_flush(uint64_t cap) { return (cap >> 4) & 1; }             /* RWBF */
static inline bool vtd_cap_read_drain(uint64_t cap) { return (cap >> 55) & 1; }                    /* DRD */
static inline bool vtd_cap_write_drain(uint64_t cap) { return (cap >> 54) & 1; }                   /* DWD */

#define VTD_REGISTER_PAGE_BYTES 0x1000

static inline unsigned vtd_version_major(uint32_t v) { return (v >> 4) & 0xF; }
static inline unsigned vtd_version_minor(uint32_t v) { return v & 0xF; }

/* CAP */
static inline unsigned vtd_cap_domain_id_bits(uint64_t cap) { return 4 + 2 * (unsigned)(cap & 0x7); }   /* ND */
static inline bool vtd_cap_caching_mode(uint64_t cap) { return (cap >> 7) & 1; }                         /* CM */
static inline unsigned vtd_cap_sagaw(uint64_t cap) { return (cap >> 8) & 0x1F; }                         /* SAGAW */
static inline unsigned vtd_cap_mgaw(uint64_t cap) { return (unsigned)((cap >> 16) & 0x3F) + 1; }        /* MGAW */
static inline unsigned vtd_cap_fault_register_offset(uint64_t cap) { return (unsigned)((cap >> 24) & 0x3FF) * 16; } /* FRO */
static inline unsigned vtd_cap_superpages(uint64_t cap) { return (cap >> 34) & 0xF; }                   /* SLLPS */
static inline unsigned vtd_cap_fault_registers(uint64_t cap) { return (unsigned)((cap >> 40) & 0xFF) + 1; } /* NFR */

/* SAGAW bit n: (n+2)-level tables, 30 + 9n address bits. */
static inline bool vtd_sagaw_supports_levels(unsigned sagaw, unsigned levels)
{
    return levels >= 2 && levels <= 6 && ((sagaw >> (levels - 2)) & 1);
}

/* ECAP */
static inline bool vtd_ecap_coherent(uint64_t ecap) { return ecap & 1; }                        /* C */
static inline bool vtd_ecap_queued_invalidation(uint64_t ecap) { return (ecap >> 1) & 1; }      /* QI */
static inline bool vtd_ecap_device_tlb(uint64_t ecap) { return (ecap >> 2) & 1; }               /* DT */
static inline bool vtd_ecap_interrupt_remapping(uint64_t ecap) { return (ecap >> 3) & 1; }      /* IR */
static inline bool vtd_ecap_extended_interrupt_mode(uint64_t ecap) { return (ecap >> 4) & 1; }  /* EIM */
static inline bool vtd_ecap_pass_through(uint64_t ecap) { return (ecap >> 6) & 1; }             /* PT */
static inline unsigned vtd_ecap_iotlb_register_offset(uint64_t ecap) { return (unsigned)((ecap >> 8) & 0x3FF) * 16; } /* IRO */

/* GSTS */
#define VTD_GSTS_TES  (1u << 31)    /* translation enabled */
#define VTD_GSTS_RTPS (1u << 30)    /* root table pointer set */
#define VTD_GSTS_QIES (1u << 26)    /* queued invalidation enabled */
#define VTD_GSTS_IRES (1u << 25)    /* interrupt remapping enabled */
#define VTD_GSTS_IRTPS (1u << 24)   /* interrupt remapping table pointer set */
#define VTD_GSTS_CFIS (1u << 23)    /* compatibility-format interrupts pass (we keep it 0) */
#define VTD_IRTA_SIZE(entries_log2) ((uint64_t)((entries_log2) - 1))   /* S: 2^(S+1) entries */
/* GCMD takes the same bit positions; write (GSTS & VTD_GSTS_PRESERVE) | one new bit, since
 * the one-shot bits (SRTP, SFL, WBF, SIRTP) must not be written back as set. */
#define VTD_GCMD_TE   VTD_GSTS_TES
#define VTD_GCMD_SRTP VTD_GSTS_RTPS
#define VTD_GCMD_QIE  VTD_GSTS_QIES
#define VTD_GCMD_IRE  VTD_GSTS_IRES
#define VTD_GCMD_SIRTP VTD_GSTS_IRTPS
#define VTD_GCMD_WBF  (1u << 27)
#define VTD_GSTS_WBFS (1u << 27)
#define VTD_GSTS_PRESERVE 0x96FFFFFFu

#endif
