/*
 * vtd.c - VT-d remapping units: bring-up, context entries, invalidation
 * and fault draining (see vtd.h). Register layout and bit names are in
 * vtd_regs.h; QEMU 7.2's behaviour in shared/reference/qemu-vtd-facts.md.
 *
 * Bring-up order per unit (VT-d spec 6.6, 10.4): deny-all root table ->
 * fault event interrupt -> queued invalidation -> root table pointer ->
 * global context-cache + IOTLB invalidation -> translation enable. GCMD is
 * always written as (GSTS & VTD_GSTS_PRESERVE) | one bit, and every status
 * poll is bounded.
 */
#include "iommu/vtd.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "core/panic.h"
#include "core/printk.h"
#include "iommu/vtd_internal.h"
#include "iommu/vtd_regs.h"
#include "mm/physmem.h"

#include <string.h>
#include <warden/errors.h>

#define POLL_TIMEOUT_NS 100000000ull    /* 100 ms: real units answer in microseconds */
#define QUEUE_ENTRIES 256               /* one 4 KiB page of 128-bit descriptors */
#define CONTEXT_ENTRY_BYTES 16

static struct vtd_unit units[DMAR_MAX_UNITS];
static unsigned active_units;
static void (*fault_callback)(struct vtd_unit *, const struct vtd_fault *);

static uint32_t read32(const struct vtd_unit *u, unsigned reg)
{
    return *(volatile uint32_t *)(u->hw->registers + reg);
}

static uint64_t read64(const struct vtd_unit *u, unsigned reg)
{
    return *(volatile uint64_t *)(u->hw->registers + reg);
}

static void write32(const struct vtd_unit *u, unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(u->hw->registers + reg) = v;
}

void vtd_write64(const struct vtd_unit *u, unsigned reg, uint64_t v)
{
    *(volatile uint64_t *)(u->hw->registers + reg) = v;
}

uint32_t vtd_read_status(const struct vtd_unit *u)
{
    return read32(u, VTD_REG_GSTS);
}

void vtd_cpu_flush(const struct vtd_unit *u, const void *p, size_t bytes)
{
    if (u->coherent || bytes == 0)
        return;
    uintptr_t line = (uintptr_t)p & ~(uintptr_t)63;
    for (; line < (uintptr_t)p + bytes; line += 64)
        __asm__ volatile("clflush (%0)" : : "r"(line) : "memory");
    __asm__ volatile("mfence" ::: "memory");
}

/* Waits until (read(reg) & mask) == want; panics with the register's value
 * after POLL_TIMEOUT_NS. 64-bit registers are CCMD and IOTLB. */
static void poll_register(const struct vtd_unit *u, unsigned reg, bool wide, uint64_t mask, uint64_t want,
                          const char *what)
{
    uint64_t deadline = time_now_ns() + POLL_TIMEOUT_NS;
    for (;;) {
        uint64_t v = wide ? read64(u, reg) : read32(u, reg);
        if ((v & mask) == want)
            return;
        if (time_now_ns() > deadline)
            panic("IOMMU vtd%u: %s timed out (register 0x%x = 0x%llx, GSTS 0x%x, FSTS 0x%x)", u->index, what,
                  reg, (unsigned long long)v, read32(u, VTD_REG_GSTS), read32(u, VTD_REG_FSTS));
        cpu_relax();
    }
}

/* Sets one GCMD bit the way the spec (and QEMU) requires, and waits for it. */
void vtd_global_command(const struct vtd_unit *u, uint32_t bit, uint32_t status_bit, bool status_sticks,
                        const char *what)
{
    write32(u, VTD_REG_GCMD, (read32(u, VTD_REG_GSTS) & VTD_GSTS_PRESERVE) | bit);
    poll_register(u, VTD_REG_GSTS, false, status_bit, status_sticks ? status_bit : 0, what);
}

/* ---- invalidation ---- */

void vtd_qi_append(struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
    uint64_t *desc = (uint64_t *)phys_to_virt(u->queue_phys) + 2 * u->queue_tail;
    desc[0] = lo;
    desc[1] = hi;
    u->queue_tail = (u->queue_tail + 1) % QUEUE_ENTRIES;
}

/* Appends a wait descriptor, starts the queue and waits for the status write. */
void vtd_qi_commit_and_wait(struct vtd_unit *u)
{
    volatile uint32_t *status = phys_to_virt(u->status_phys);
    uint32_t sequence = ++u->wait_sequence;
    vtd_qi_append(u, VTD_QI_WAIT | VTD_QI_WAIT_SW | VTD_QI_WAIT_FN | VTD_QI_WAIT_DATA(sequence), u->status_phys);
    __asm__ volatile("mfence" ::: "memory");
    vtd_write64(u, VTD_REG_IQT, (uint64_t)u->queue_tail << 4);
    uint64_t deadline = time_now_ns() + POLL_TIMEOUT_NS;
    while (*status != sequence) {
        uint32_t fsts = read32(u, VTD_REG_FSTS);
        if (fsts & VTD_FSTS_IQE)
            panic("IOMMU vtd%u: invalidation queue error (FSTS 0x%x, IQH 0x%llx)", u->index, fsts,
                  (unsigned long long)read64(u, VTD_REG_IQH));
        if (time_now_ns() > deadline)
            panic("IOMMU vtd%u: invalidation wait timed out (IQH 0x%llx IQT 0x%llx)", u->index,
                  (unsigned long long)read64(u, VTD_REG_IQH), (unsigned long long)read64(u, VTD_REG_IQT));
        cpu_relax();
    }
    u->waits++;
}

static unsigned iotlb_register(const struct vtd_unit *u)
{
    return vtd_ecap_iotlb_register_offset(u->hw->ecap) + 8;
}

static uint64_t drain_bits(const struct vtd_unit *u, bool queued)
{
    uint64_t bits = 0;
    if (vtd_cap_read_drain(u->hw->cap))
        bits |= queued ? VTD_QI_IOTLB_DR : VTD_IOTLB_DR;
    if (vtd_cap_write_drain(u->hw->cap))
        bits |= queued ? VTD_QI_IOTLB_DW : VTD_IOTLB_DW;
    return bits;
}

/* Context-cache invalidation: global, or one source ID when source >= 0. */
static void invalidate_context(struct vtd_unit *u, int source, uint16_t did)
{
    u->invalidations++;
    if (u->queued) {
        uint64_t gran = source < 0 ? VTD_QI_GRAN_GLOBAL : VTD_QI_GRAN_DEVICE | VTD_QI_SID((uint16_t)source);
        vtd_qi_append(u, VTD_QI_CONTEXT | gran | VTD_QI_DID(did), 0);
        return;
    }
    uint64_t cmd = source < 0 ? VTD_CCMD_GLOBAL : VTD_CCMD_DEVICE | VTD_CCMD_SID((uint16_t)source) | VTD_CCMD_DID(did);
    vtd_write64(u, VTD_REG_CCMD, VTD_CCMD_ICC | cmd);
    poll_register(u, VTD_REG_CCMD, true, VTD_CCMD_ICC, 0, "context-cache invalidation");
}

/* IOTLB invalidation: global (did < 0), domain, or 2^order pages at iova. */
static void invalidate_iotlb(struct vtd_unit *u, int did, uint64_t iova, int order)
{
    u->invalidations++;
    if (u->queued) {
        uint64_t lo = VTD_QI_IOTLB | drain_bits(u, true), hi = 0;
        if (did < 0)
            lo |= VTD_QI_GRAN_GLOBAL;
        else if (order < 0)
            lo |= VTD_QI_GRAN_DOMAIN | VTD_QI_DID((uint16_t)did);
        else {
            lo |= VTD_QI_GRAN_PAGE | VTD_QI_DID((uint16_t)did);
            hi = iova | (uint64_t)order;
        }
        vtd_qi_append(u, lo, hi);
        return;
    }
    uint64_t cmd = VTD_IOTLB_IVT | drain_bits(u, false);
    if (did < 0)
        cmd |= VTD_IOTLB_GLOBAL;
    else if (order < 0)
        cmd |= VTD_IOTLB_DOMAIN | VTD_IOTLB_DID((uint16_t)did);
    else {
        cmd |= VTD_IOTLB_PAGE | VTD_IOTLB_DID((uint16_t)did);
        vtd_write64(u, iotlb_register(u) - 8, iova | (uint64_t)order);     /* IVA */
    }
    vtd_write64(u, iotlb_register(u), cmd);
    poll_register(u, iotlb_register(u), true, VTD_IOTLB_IVT, 0, "IOTLB invalidation");
}

/* Makes the queued invalidations complete; register-based ones already have. */
static void invalidation_wait(struct vtd_unit *u)
{
    if (u->queued)
        vtd_qi_commit_and_wait(u);
    else
        u->waits++;
}

/* The page-selective order covering [iova, iova+len), or -1 for domain-selective. */
static int psi_order(const struct vtd_unit *u, uint64_t iova, uint64_t len)
{
    if (!vtd_cap_page_selective(u->hw->cap))
        return -1;
    int order = 0;
    while ((FRAME_SIZE << order) < len)
        order++;
    if (order > (int)vtd_cap_max_invalidation_order(u->hw->cap) || iova % (FRAME_SIZE << order))
        return -1;
    return order;
}

void vtd_flush_iotlb(struct vtd_unit *u, uint16_t did, uint64_t iova, uint64_t len)
{
    invalidate_iotlb(u, did, iova, psi_order(u, iova, len));
    invalidation_wait(u);
}

void vtd_flush_after_map(struct vtd_unit *u, uint16_t did, uint64_t iova, uint64_t len)
{
    if (u->caching_mode)
        vtd_flush_iotlb(u, did, iova, len);
}

/* ---- domains and context entries ---- */

/* Next fit: a freed ID comes back only after every other one was handed
 * out, so a restarted driver never gets its dead incarnation's domain ID
 * (and no stale IOTLB entry tagged with it can match). ID 0 is never used. */
int vtd_domain_alloc(struct vtd_unit *u)
{
    for (unsigned n = 0; n < VTD_MAX_DOMAINS - 1; n++) {
        unsigned did = 1 + (u->domain_cursor + n) % (VTD_MAX_DOMAINS - 1);
        if (!(u->domain_used[did / 64] & (1ull << (did % 64)))) {
            u->domain_used[did / 64] |= 1ull << (did % 64);
            u->domains++;
            u->domain_cursor = did;     /* the next search starts after it */
            return (int)did;
        }
    }
    return -WD_E_BUSY;
}

void vtd_domain_free(struct vtd_unit *u, uint16_t did)
{
    KASSERT(did > 0 && did < VTD_MAX_DOMAINS && (u->domain_used[did / 64] & (1ull << (did % 64))));
    u->domain_used[did / 64] &= ~(1ull << (did % 64));
    u->domains--;
}

static uint64_t *context_entry(struct vtd_unit *u, uint16_t source_id)
{
    uint8_t bus = source_id >> 8;
    if (!u->context_phys[bus])
        return NULL;
    return (uint64_t *)((uint8_t *)phys_to_virt(u->context_phys[bus]) + (source_id & 0xFF) * CONTEXT_ENTRY_BYTES);
}

int vtd_context_prepare(struct vtd_unit *u, uint16_t source_id)
{
    uint8_t bus = source_id >> 8;
    if (u->context_phys[bus])
        return 0;
    uint64_t table = physmem_alloc_zeroed();       /* every context entry not present */
    if (!table)
        return -WD_E_NO_MEMORY;
    vtd_cpu_flush(u, phys_to_virt(table), FRAME_SIZE);
    u->context_phys[bus] = table;
    uint64_t *root = (uint64_t *)phys_to_virt(u->root_phys) + 2 * bus;
    root[1] = 0;
    root[0] = table | VTD_ROOT_PRESENT;
    vtd_cpu_flush(u, root, 16);
    return 0;
}

int vtd_context_install(struct vtd_unit *u, uint16_t source_id, uint64_t table_phys, uint16_t did)
{
    int r = vtd_context_prepare(u, source_id);
    if (r)
        return r;
    uint64_t *entry = context_entry(u, source_id);
    KASSERT(!(entry[0] & VTD_CONTEXT_PRESENT));
    entry[1] = VTD_CONTEXT_AW(u->levels) | VTD_CONTEXT_DID(did);
    __asm__ volatile("" ::: "memory");
    entry[0] = table_phys | VTD_CONTEXT_PRESENT;   /* translation type 00: untranslated requests only */
    vtd_cpu_flush(u, entry, CONTEXT_ENTRY_BYTES);
    /* A not-present entry may be cached under caching mode (with domain 0);
     * invalidating always costs one wait and keeps both modes identical. */
    invalidate_context(u, source_id, u->caching_mode ? 0 : did);
    invalidate_iotlb(u, did, 0, -1);
    invalidation_wait(u);
    return 0;
}

void vtd_context_remove(struct vtd_unit *u, uint16_t source_id, uint16_t did)
{
    uint64_t *entry = context_entry(u, source_id);
    KASSERT(entry && (entry[0] & VTD_CONTEXT_PRESENT));
    entry[0] = 0;
    __asm__ volatile("" ::: "memory");
    entry[1] = 0;
    vtd_cpu_flush(u, entry, CONTEXT_ENTRY_BYTES);
    invalidate_context(u, source_id, did);
    invalidate_iotlb(u, did, 0, -1);
    invalidation_wait(u);
}

/* ---- faults ---- */

static void drain_faults(struct vtd_unit *u)
{
    unsigned count = vtd_cap_fault_registers(u->hw->cap);
    unsigned base = vtd_cap_fault_register_offset(u->hw->cap);
    unsigned first = vtd_fsts_fault_index(read32(u, VTD_REG_FSTS)) % count;
    for (unsigned n = 0; n < count; n++) {
        unsigned reg = base + 16 * ((first + n) % count);
        uint64_t hi = read64(u, reg + 8);
        if (!vtd_frcd_fault(hi))
            continue;
        struct vtd_fault fault = {
            .source_id = vtd_frcd_source(hi),
            .write = !vtd_frcd_is_read(hi),
            .reason = vtd_frcd_reason(hi),
            .address = vtd_frcd_address(read64(u, reg)),
        };
        write32(u, reg + 12, 0x80000000u);         /* W1C the F bit: the register may record again */
        u->faults++;
        if (fault_callback)
            fault_callback(u, &fault);
    }
    uint32_t fsts = read32(u, VTD_REG_FSTS);
    if (fsts & VTD_FSTS_PFO) {
        printk("IOMMU vtd%u: fault records overflowed; some faults were lost\n", u->index);
        write32(u, VTD_REG_FSTS, VTD_FSTS_PFO);
    }
}

static void fault_interrupt(struct trap_frame *frame)
{
    (void)frame;
    for (unsigned i = 0; i < active_units; i++)
        drain_faults(&units[i]);
    lapic_eoi();
}

/* ---- bring-up ---- */

static unsigned choose_levels(uint64_t cap)
{
    unsigned sagaw = vtd_cap_sagaw(cap);
    if (vtd_sagaw_supports_levels(sagaw, 4))
        return 4;
    if (vtd_sagaw_supports_levels(sagaw, 3))
        return 3;
    return 0;
}

static void enable_fault_events(struct vtd_unit *u)
{
    unsigned count = vtd_cap_fault_registers(u->hw->cap);
    unsigned base = vtd_cap_fault_register_offset(u->hw->cap);
    for (unsigned i = 0; i < count; i++)
        write32(u, base + 16 * i + 12, 0x80000000u);   /* stale records from firmware */
    write32(u, VTD_REG_FSTS, read32(u, VTD_REG_FSTS));
    write32(u, VTD_REG_FEDATA, VECTOR_IOMMU_FAULT);
    write32(u, VTD_REG_FEADDR, 0xFEE00000u | (lapic_id() << 12));
    write32(u, VTD_REG_FEUADDR, 0);
    write32(u, VTD_REG_FECTL, 0);
}

static void enable_queued_invalidation(struct vtd_unit *u)
{
    u->queue_phys = physmem_alloc_zeroed();
    u->status_phys = physmem_alloc_zeroed();
    if (!u->queue_phys || !u->status_phys)
        panic("IOMMU vtd%u: no memory for the invalidation queue", u->index);
    u->queue_tail = 0;
    vtd_write64(u, VTD_REG_IQT, 0);
    vtd_write64(u, VTD_REG_IQA, u->queue_phys);        /* QS = 0: 256 entries, 128-bit descriptors */
    vtd_global_command(u, VTD_GCMD_QIE, VTD_GSTS_QIES, true, "enabling queued invalidation");
}

static void enable_unit(struct vtd_unit *u)
{
    uint64_t cap = u->hw->cap, ecap = u->hw->ecap;
    u->levels = choose_levels(cap);
    if (u->levels == 0)
        panic("IOMMU vtd%u: CAP.SAGAW 0x%x offers neither 3- nor 4-level tables", u->index, vtd_cap_sagaw(cap));
    u->address_width = 12 + 9 * u->levels;
    if (u->address_width > vtd_cap_mgaw(cap))
        u->address_width = vtd_cap_mgaw(cap);
    u->coherent = vtd_ecap_coherent(ecap);
    u->caching_mode = vtd_cap_caching_mode(cap);
    u->queued = vtd_ecap_queued_invalidation(ecap);

    u->root_phys = physmem_alloc_zeroed();         /* every root entry not present: all DMA blocked */
    if (!u->root_phys)
        panic("IOMMU vtd%u: no memory for the root table", u->index);
    vtd_cpu_flush(u, phys_to_virt(u->root_phys), FRAME_SIZE);

    enable_fault_events(u);
    if (u->queued)
        enable_queued_invalidation(u);
    vtd_write64(u, VTD_REG_RTADDR, u->root_phys);      /* legacy-mode root table (RTADDR.TTM = 0) */
    vtd_global_command(u, VTD_GCMD_SRTP, VTD_GSTS_RTPS, true, "setting the root table pointer");
    invalidate_context(u, -1, 0);
    invalidate_iotlb(u, -1, 0, -1);
    invalidation_wait(u);
    if (vtd_ecap_interrupt_remapping(ecap) && u->queued)
        vtd_intremap_enable(u);    /* IEC invalidation needs the queue (spec 6.5.2.7) */
    if (vtd_cap_write_buffer_flush(cap))
        vtd_global_command(u, VTD_GCMD_WBF, VTD_GSTS_WBFS, false, "flushing the write buffer");
    vtd_global_command(u, VTD_GCMD_TE, VTD_GSTS_TES, true, "enabling translation");
    u->active = true;
}

unsigned vtd_enable_all(void (*on_fault)(struct vtd_unit *, const struct vtd_fault *))
{
    fault_callback = on_fault;
    active_units = 0;
    for (unsigned i = 0; i < vtd_units.unit_count; i++) {
        struct vtd_unit_info *hw = &vtd_units.units[i];
        if (!hw->responding)
            continue;
        struct vtd_unit *u = &units[active_units];
        memset(u, 0, sizeof *u);
        u->index = active_units;
        u->hw = hw;
        enable_unit(u);
        active_units++;
    }
    if (active_units)
        interrupt_register(VECTOR_IOMMU_FAULT, fault_interrupt);
    for (unsigned i = 0; i < active_units; i++) {
        struct vtd_unit *u = &units[i];
        uint32_t status = read32(u, VTD_REG_GSTS);
        if (!(status & VTD_GSTS_TES))
            panic("IOMMU vtd%u: translation is not on after enabling (GSTS 0x%x)", i, status);
        printk("IOMMU: vtd%u at 0x%llx ACTIVE: translation on, GSTS 0x%08x, %u-level tables (%u-bit IOVA), "
               "%s invalidation, caching mode %s, %s walks, fault vector 0x%x, interrupt remapping %s\n",
               i, (unsigned long long)u->hw->register_base, status, u->levels, u->address_width,
               u->queued ? "queued" : "register-based", u->caching_mode ? "on" : "off",
               u->coherent ? "coherent" : "non-coherent (clflush)", VECTOR_IOMMU_FAULT,
               u->irt_phys ? "on (256 entries, requester-checked, compatibility format blocked)" : "off");
    }
    return active_units;
}

unsigned vtd_unit_count(void)
{
    return active_units;
}

struct vtd_unit *vtd_unit(unsigned index)
{
    return index < active_units ? &units[index] : NULL;
}
