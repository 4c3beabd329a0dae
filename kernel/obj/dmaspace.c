/*
 * dmaspace.c - DMA spaces (see dmaspace.h): validation of dma_map
 * arguments, page-table updates through slpt.c, and the ordering rule of
 * unmap: clear entries -> invalidate the IOTLB and wait -> drop frames.
 */
#include "obj/dmaspace.h"

#include "core/panic.h"
#include "iommu/vtd.h"
#include "mm/kobj.h"
#include "mm/physmem.h"
#include "obj/device.h"
#include "obj/frame_object.h"
#include "obj/pool.h"
#include "obj/revoke.h"

#include <string.h>
#include <warden/errors.h>
#include <warden/objects.h>
#include <warden/rights.h>

#define INTERRUPT_WINDOW_START 0xFEE00000ull
#define INTERRUPT_WINDOW_END   0xFEF00000ull

static struct kobj_cache dmaspace_cache;
static bool cache_ready;

static uint64_t table_alloc(void *ctx)
{
    (void)ctx;
    return physmem_alloc_zeroed();
}

static void table_free(void *ctx, uint64_t phys)
{
    (void)ctx;
    physmem_free(phys);
}

static uint64_t *table_pointer(void *ctx, uint64_t phys)
{
    (void)ctx;
    return phys_to_virt(phys);
}

static void table_flush(void *ctx, const void *p, size_t bytes)
{
    vtd_cpu_flush(ctx, p, bytes);
}

const struct slpt_memory *dmaspace_table_memory(struct vtd_unit *unit)
{
    static struct slpt_memory memory[DMAR_MAX_UNITS];
    if (memory[unit->index].ctx != unit)
        memory[unit->index] = (struct slpt_memory){ table_alloc, table_free, table_pointer, table_flush, unit };
    return &memory[unit->index];
}

static uint64_t mapping_cost(void)
{
    return pool_object_cost(sizeof(struct dma_mapping));
}

static struct dmaspace *all_head, *all_tail;

struct dmaspace *dmaspace_at(unsigned index)
{
    struct dmaspace *s = all_head;
    while (s && index--)
        s = s->all_next;
    return s;
}

struct dmaspace *dmaspace_by_id(uint64_t id)
{
    for (struct dmaspace *s = all_head; s; s = s->all_next)
        if (s->obj.id == id)
            return s;
    return NULL;
}

struct dmaspace *dmaspace_create(struct pool *pool, int *error)
{
    struct vtd_unit *unit = vtd_unit(0);
    if (!unit) {
        *error = WD_E_NO_IOMMU;
        return NULL;
    }
    uint64_t cost = pool_object_cost(sizeof(struct dmaspace)) + FRAME_SIZE;   /* + the root table */
    if (!pool_charge(pool, cost)) {
        *error = WD_E_POOL_EXHAUSTED;
        return NULL;
    }
    if (!cache_ready) {
        kobj_cache_init(&dmaspace_cache, "dmaspace", sizeof(struct dmaspace));
        cache_ready = true;
    }
    int did = vtd_domain_alloc(unit);
    struct dmaspace *s = did > 0 ? kobj_alloc(&dmaspace_cache) : NULL;
    if (s) {
        memset(s, 0, sizeof *s);
        s->unit = unit;
        s->domain_id = (uint16_t)did;
        if (slpt_init(&s->table, unit->levels, dmaspace_table_memory(unit)) != 0) {
            kobj_free(&dmaspace_cache, s);
            s = NULL;
        }
    }
    if (!s) {
        if (did > 0)
            vtd_domain_free(unit, (uint16_t)did);
        pool_uncharge(pool, cost);
        *error = did > 0 ? WD_E_NO_MEMORY : -did;
        return NULL;
    }
    kobject_init(&s->obj, WD_TYPE_DMASPACE, pool, cost);
    s->all_prev = all_tail;
    if (all_tail)
        all_tail->all_next = s;
    else
        all_head = s;
    all_tail = s;
    return s;
}

static void release_mapping(struct dmaspace *s, struct dma_mapping *m)
{
    if (m->lease) {
        lease_link_free(m->lease);
        pool_uncharge(s->obj.pool, lease_link_cost());
    }
    kobject_put(&m->frame->obj);
    revoke_note_frame_release();
    pool_uncharge(s->obj.pool, mapping_cost());
    kfree(m);
}

void dmaspace_destroy(struct dmaspace *s)
{
    KASSERT(s->attached_groups == 0);
    /* No context entry points here any more and detaching invalidated the
     * domain, so no device can reach these pages: drop them directly. */
    while (s->mappings) {
        struct dma_mapping *m = s->mappings;
        s->mappings = m->next;
        release_mapping(s, m);
    }
    slpt_destroy(&s->table);
    pool_uncharge(s->obj.pool, s->table_charge);
    vtd_domain_free(s->unit, s->domain_id);
    if (s->all_prev)
        s->all_prev->all_next = s->all_next;
    else
        all_head = s->all_next;
    if (s->all_next)
        s->all_next->all_prev = s->all_prev;
    else
        all_tail = s->all_prev;
    kobj_free(&dmaspace_cache, s);
}

int dmaspace_attach(struct dmaspace *s, struct iommu_group *g)
{
    if (g->unit != s->unit)
        return -WD_E_INVALID_ARG;
    int r = vtd_context_install(s->unit, g->requester_id, s->table.root, s->domain_id);
    if (r)
        return r;
    kobject_get(&s->obj);
    g->space = s;
    s->attached_groups++;
    return 0;
}

void dmaspace_detach(struct iommu_group *g)
{
    struct dmaspace *s = g->space;
    KASSERT(s);
    vtd_context_remove(s->unit, g->requester_id, s->domain_id);   /* returns after the wait */
    g->space = NULL;
    s->attached_groups--;
    kobject_put(&s->obj);
}

/* ---- map ---- */

struct page_plan {
    const struct frame_object *frame;
    uint64_t offset;                /* frame offset of the range's first byte */
    uint64_t iova;                  /* the range's first IOVA */
    uint64_t length;
};

/* A 2 MiB page fits at this IOVA when the memory behind it is one
 * physically contiguous, 2 MiB aligned run (a contiguous frame, or one of
 * a large frame's 2 MiB chunks). */
static bool plan_use_2m(void *ctx, uint64_t iova)
{
    const struct page_plan *p = ctx;
    uint64_t frame_offset = p->offset + (iova - p->iova);
    if (iova % SLPT_PAGE_2M || iova + SLPT_PAGE_2M > p->iova + p->length)
        return false;
    return frame_object_run_2m(p->frame, frame_offset);
}

static unsigned slpt_perm(uint32_t rights)
{
    return ((rights & WD_RIGHT_READ) ? SLPT_READ : 0) | ((rights & WD_RIGHT_WRITE) ? SLPT_WRITE : 0);
}

/* Clears the leaves of [iova, iova+length); the caller invalidates. */
static void clear_range(struct dmaspace *s, uint64_t iova, uint64_t length)
{
    if (length)
        slpt_unmap_range(&s->table, iova, length);
}

/* Physically contiguous 4 KiB pages of the frame from offset, up to max. */
static uint64_t contiguous_pages(const struct frame_object *f, uint64_t offset, uint64_t max)
{
    if (f->contiguous_base)
        return max;
    uint64_t first = frame_object_page(f, offset), n = 1;
    while (n < max && frame_object_page(f, offset + n * FRAME_SIZE) == first + n * FRAME_SIZE)
        n++;
    return n;
}

/* Maps [iova, iova+length) of the plan's frame: 2 MiB leaves where they fit,
 * runs of 4 KiB pages between. *done = bytes mapped, also on failure. */
static int map_plan(struct dmaspace *s, const struct page_plan *plan, unsigned perm, uint64_t *done)
{
    *done = 0;
    while (*done < plan->length) {
        uint64_t iova = plan->iova + *done, offset = plan->offset + *done;
        if (plan_use_2m((void *)plan, iova)) {
            int r = slpt_map_page(&s->table, iova, frame_object_page(plan->frame, offset), SLPT_PAGE_2M, perm);
            if (r)
                return r;
            *done += SLPT_PAGE_2M;
            continue;
        }
        uint64_t to_boundary = ((iova | (SLPT_PAGE_2M - 1)) + 1) - iova;
        uint64_t left = plan->length - *done;
        uint64_t pages = contiguous_pages(plan->frame, offset, (left < to_boundary ? left : to_boundary) / FRAME_SIZE);
        uint64_t mapped;
        int r = slpt_map_run(&s->table, iova, frame_object_page(plan->frame, offset), pages, perm, &mapped);
        *done += mapped * FRAME_SIZE;
        if (r)
            return r;
    }
    return 0;
}

static int validate_map(const struct dmaspace *s, const struct frame_object *frame, uint64_t offset,
                        uint64_t iova, uint64_t length, uint32_t rights)
{
    if (rights & ~(uint32_t)(WD_RIGHT_READ | WD_RIGHT_WRITE))
        return -WD_E_BAD_FLAGS;
    if (rights == 0 || length == 0)
        return -WD_E_INVALID_ARG;
    if ((offset | iova | length) % FRAME_SIZE)
        return -WD_E_UNALIGNED;
    if (iova + length < iova || offset + length < offset)
        return -WD_E_OVERFLOW;
    if (offset + length > frame->size)
        return -WD_E_RANGE;
    if (s->unit->address_width < 64 && iova + length > (1ull << s->unit->address_width))
        return -WD_E_BEYOND_WIDTH;
    if (iova < INTERRUPT_WINDOW_END && iova + length > INTERRUPT_WINDOW_START)
        return -WD_E_RESERVED_RANGE;
    if (frame->flags & WD_FRAME_MMIO)
        return -WD_E_NOT_SUPPORTED;
    return 0;
}

bool dmaspace_iova_revoked(const struct dmaspace *s, uint64_t iova)
{
    if (!s->revoked_live)
        return false;
    for (unsigned i = 0; i < DMASPACE_REVOKED_RANGES; i++)
        if (s->revoked[i].length && iova - s->revoked[i].iova < s->revoked[i].length)
            return true;
    return false;
}

/* A new mapping over [iova, iova+length): faults there count again. */
static void forget_revoked(struct dmaspace *s, uint64_t iova, uint64_t length)
{
    for (unsigned i = 0; s->revoked_live && i < DMASPACE_REVOKED_RANGES; i++) {
        struct dmaspace_revoked_range *r = &s->revoked[i];
        if (r->length && r->iova < iova + length && iova < r->iova + r->length) {
            r->length = 0;
            s->revoked_live--;
        }
    }
}

int dmaspace_map(struct dmaspace *s, struct frame_object *frame, uint64_t offset, uint64_t iova,
                 uint64_t length, uint32_t rights, struct cap_dependents *lease)
{
    int r = validate_map(s, frame, offset, iova, length, rights);
    if (r)
        return r;
    struct dma_mapping **link = &s->mappings;
    while (*link && (*link)->iova + (*link)->length <= iova)
        link = &(*link)->next;
    if (*link && (*link)->iova < iova + length)
        return -WD_E_EXISTS;

    struct page_plan plan = { frame, offset, iova, length };
    uint64_t tables = slpt_tables_needed(&s->table, iova, length, plan_use_2m, &plan);
    uint64_t link_cost = lease ? lease_link_cost() : 0;
    uint64_t charge = tables * FRAME_SIZE + mapping_cost() + link_cost;
    if (!pool_charge(s->obj.pool, charge))
        return -WD_E_POOL_EXHAUSTED;
    struct dma_mapping *m = kmalloc(sizeof *m);
    struct lease_link *lease_link = lease ? lease_link_new() : NULL;
    uint64_t tables_before = s->table.table_count;
    r = m && (lease_link || !lease) ? 0 : -WD_E_NO_MEMORY;
    uint64_t done = 0;
    if (r == 0)
        r = map_plan(s, &plan, slpt_perm(rights), &done);
    uint64_t new_tables = s->table.table_count - tables_before;
    s->table_charge += new_tables * FRAME_SIZE;
    pool_uncharge(s->obj.pool, charge - new_tables * FRAME_SIZE - (r == 0 ? mapping_cost() + link_cost : 0));
    if (r != 0) {
        /* A device may already have used the partial mapping: flush before
         * the caller can drop the frame. */
        clear_range(s, iova, done);
        if (done && s->attached_groups)
            vtd_flush_iotlb(s->unit, s->domain_id, iova, done);
        if (m)
            kfree(m);
        if (lease_link)
            kfree(lease_link);
        KASSERT(r != -WD_E_EXISTS);
        return r;
    }
    if (s->attached_groups)
        vtd_flush_after_map(s->unit, s->domain_id, iova, length);
    forget_revoked(s, iova, length);
    m->iova = iova;
    m->length = length;
    m->offset = offset;
    m->frame = frame;
    m->rights = rights;
    m->cleared = false;
    m->lease = lease_link;
    if (lease_link)
        lease_link_add(lease, lease_link, LEASE_DMA, s, m);
    m->next = *link;
    *link = m;
    kobject_get(&frame->obj);
    return 0;
}

bool dmaspace_lease_clear(struct dmaspace *s, struct dma_mapping *m)
{
    if (m->cleared)
        return false;
    clear_range(s, m->iova, m->length);
    m->cleared = true;
    if (!s->revoked[s->revoked_next].length)
        s->revoked_live++;
    s->revoked[s->revoked_next] = (struct dmaspace_revoked_range){ .iova = m->iova, .length = m->length };
    s->revoked_next = (s->revoked_next + 1) % DMASPACE_REVOKED_RANGES;
    if (!s->attached_groups)
        return false;
    vtd_flush_iotlb(s->unit, s->domain_id, m->iova, m->length);   /* waits for completion */
    return true;
}

void dmaspace_lease_remove(struct dmaspace *s, struct dma_mapping *m)
{
    dmaspace_lease_clear(s, m);
    for (struct dma_mapping **link = &s->mappings; *link; link = &(*link)->next) {
        if (*link == m) {
            *link = m->next;
            release_mapping(s, m);
            return;
        }
    }
    panic("dmaspace: a leased mapping at IOVA 0x%llx is not in its space", (unsigned long long)m->iova);
}

int64_t dmaspace_unmap(struct dmaspace *s, uint64_t iova, uint64_t length)
{
    if (length == 0)
        return -WD_E_INVALID_ARG;
    if ((iova | length) % FRAME_SIZE)
        return -WD_E_UNALIGNED;
    if (iova + length < iova)
        return -WD_E_OVERFLOW;
    uint64_t end = iova + length;
    struct dma_mapping **link = &s->mappings;
    while (*link && (*link)->iova + (*link)->length <= iova)
        link = &(*link)->next;
    int64_t count = 0;
    uint64_t first = 0, last = 0;
    for (struct dma_mapping *m = *link; m && m->iova < end; m = m->next) {
        if (m->iova < iova || m->iova + m->length > end)
            return -WD_E_NOT_MAPPED;
        if (count++ == 0)
            first = m->iova;
        last = m->iova + m->length;
    }
    if (count == 0)
        return -WD_E_NOT_MAPPED;
    for (struct dma_mapping *m = *link; m && m->iova < end; m = m->next)
        clear_range(s, m->iova, m->length);
    if (s->attached_groups)
        vtd_flush_iotlb(s->unit, s->domain_id, first, last - first);   /* waits for completion */
    while (*link && (*link)->iova < end) {
        struct dma_mapping *m = *link;
        *link = m->next;
        release_mapping(s, m);
    }
    return count;
}
