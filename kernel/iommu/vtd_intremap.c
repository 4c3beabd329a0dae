/*
 * vtd_intremap.c - VT-d interrupt remapping: the per-unit remapping table,
 * its bring-up (IRTA, SIRTP, global IEC invalidation + wait, IRE) and its
 * entries. Compatibility-format interrupts stay blocked (GCMD.CFI is never
 * set), so every interrupt a device or the IOAPIC sends must name an entry
 * the kernel wrote, and that entry checks who sent it.
 *
 * Entry updates: the high half (source check) is written before the low
 * half (present bit) so hardware never sees a present entry with a stale
 * check; every change is followed by an index-selective interrupt entry
 * cache invalidation and a wait (VT-d spec 6.5.2.7).
 */
#include "iommu/vtd_internal.h"
#include "iommu/vtd_regs.h"

#include "core/panic.h"
#include "mm/physmem.h"

#include <warden/errors.h>

#define IRTE_BYTES 16

static uint64_t *entry_at(const struct vtd_unit *u, unsigned index)
{
    KASSERT(u->irt_phys && index < VTD_IRT_ENTRIES);
    return (uint64_t *)phys_to_virt(u->irt_phys) + 2 * index;
}

static void invalidate_entry_cache(struct vtd_unit *u, int index)
{
    u->iec_invalidations++;
    vtd_qi_append(u, VTD_QI_IEC | (index < 0 ? 0 : VTD_QI_IEC_INDEXED | VTD_QI_IEC_INDEX(index)), 0);
    vtd_qi_commit_and_wait(u);
}

void vtd_intremap_enable(struct vtd_unit *u)
{
    u->irt_phys = physmem_alloc_zeroed();           /* every entry not present */
    if (!u->irt_phys)
        panic("IOMMU vtd%u: no memory for the interrupt remapping table", u->index);
    vtd_cpu_flush(u, phys_to_virt(u->irt_phys), FRAME_SIZE);
    /* xAPIC format (IRTA.EIME = 0): QEMU's TCG has no x2APIC. */
    vtd_write64(u, VTD_REG_IRTA, u->irt_phys | VTD_IRTA_SIZE(VTD_IRT_ENTRIES_LOG2));
    vtd_global_command(u, VTD_GCMD_SIRTP, VTD_GSTS_IRTPS, true, "setting the interrupt remapping table");
    invalidate_entry_cache(u, -1);
    vtd_global_command(u, VTD_GCMD_IRE, VTD_GSTS_IRES, true, "enabling interrupt remapping");
    if (vtd_read_status(u) & VTD_GSTS_CFIS)
        panic("IOMMU vtd%u: compatibility-format interrupts pass after enabling IR (GSTS 0x%x)", u->index,
              vtd_read_status(u));
}

int vtd_irte_alloc(struct vtd_unit *u)
{
    if (!u->irt_phys)
        return -WD_E_NO_IOMMU;
    for (unsigned i = 0; i < VTD_IRT_ENTRIES; i++) {
        if (!(u->irte_used[i / 64] & (1ull << (i % 64)))) {
            u->irte_used[i / 64] |= 1ull << (i % 64);
            u->irte_count++;
            return (int)i;
        }
    }
    return -WD_E_BUSY;
}

void vtd_irte_write(struct vtd_unit *u, unsigned index, const struct vtd_irte *e)
{
    KASSERT(u->irte_used[index / 64] & (1ull << (index % 64)));
    uint64_t *entry = entry_at(u, index);
    entry[0] = 0;                                   /* not present while the check changes */
    __asm__ volatile("" ::: "memory");
    entry[1] = VTD_IRTE_SID(e->source_id) | VTD_IRTE_SQ(e->sq) | VTD_IRTE_SVT(e->svt);
    __asm__ volatile("" ::: "memory");
    entry[0] = (e->present ? VTD_IRTE_PRESENT : 0) | (e->level ? VTD_IRTE_TRIGGER_LEVEL : 0) |
               VTD_IRTE_VECTOR(e->vector) | VTD_IRTE_DEST_XAPIC(e->apic_id);   /* fixed delivery, physical */
    vtd_cpu_flush(u, entry, IRTE_BYTES);
    invalidate_entry_cache(u, (int)index);
}

void vtd_irte_free(struct vtd_unit *u, unsigned index)
{
    vtd_irte_write(u, index, &(struct vtd_irte){ .present = false });
    u->irte_used[index / 64] &= ~(1ull << (index % 64));
    u->irte_count--;
}

void vtd_irte_read(const struct vtd_unit *u, unsigned index, struct vtd_irte *out)
{
    const uint64_t *entry = entry_at(u, index);
    uint64_t lo = entry[0], hi = entry[1];
    *out = (struct vtd_irte){
        .present = vtd_irte_present(lo),
        .level = vtd_irte_level(lo),
        .vector = (uint8_t)vtd_irte_vector(lo),
        .apic_id = (uint8_t)vtd_irte_dest_xapic(lo),
        .source_id = vtd_irte_sid(hi),
        .sq = (uint8_t)vtd_irte_sq(hi),
        .svt = (uint8_t)vtd_irte_svt(hi),
    };
}
