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
    VTD_REG_FSTS = 0x34,
    VTD_REG_FECTL = 0x38,
};

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

#endif
