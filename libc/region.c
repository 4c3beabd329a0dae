/*
 * region.c - client regions and grants (see <warden/region.h>): frames
 * from the client's pool mapped into a reserved window, and leases of them.
 */
#include <string.h>
#include <warden/region.h>
#include <warden/syscalls.h>

#define LARGE_PAGE (2ull << 20)

#define FREE_SPANS 32u                  /* unmapped spans kept for reuse; more are forgotten */

static uint64_t next_vaddr = WD_REGION_VADDR_BASE;

/* Spans of the window unmapped again (each with its guard page), reused
 * first: a process that maps and unmaps regions for ever (a client that
 * reopens sessions, the network service remapping a restarted driver's
 * buffers) keeps using the same addresses, so the kernel's page tables
 * for the window, charged to its pool, stop growing. */
static struct {
    uint64_t start, size;
} free_spans[FREE_SPANS];
static unsigned free_span_count;

static uint64_t page_round_up(uint64_t v)
{
    return (v + WD_PAGE_SIZE - 1) & ~(WD_PAGE_SIZE - 1);
}

/* An address for span bytes (guard page included) aligned to align: from a
 * freed span that starts aligned and is large enough, else bumped. */
static uint64_t take_vaddr(uint64_t span, uint64_t align)
{
    for (unsigned i = 0; i < free_span_count; i++) {
        if ((free_spans[i].start & (align - 1)) || free_spans[i].size < span)
            continue;
        uint64_t at = free_spans[i].start;
        free_spans[i].start += span;
        free_spans[i].size -= span;
        if (!free_spans[i].size)
            free_spans[i] = free_spans[--free_span_count];
        return at;
    }
    uint64_t at = (next_vaddr + align - 1) & ~(align - 1);
    if (at > WD_REGION_VADDR_LIMIT || span > WD_REGION_VADDR_LIMIT - at)
        return 0;
    next_vaddr = at + span;
    return at;
}

/* Returns [at, at+span) to the free spans, joined with every span it touches. */
static void give_back_vaddr(uint64_t at, uint64_t span)
{
    for (unsigned i = 0; i < free_span_count;) {
        if (free_spans[i].start + free_spans[i].size == at || at + span == free_spans[i].start) {
            if (free_spans[i].start < at)
                at = free_spans[i].start;
            span += free_spans[i].size;
            free_spans[i] = free_spans[--free_span_count];     /* looked at again: it may touch too */
        } else {
            i++;
        }
    }
    if (free_span_count < FREE_SPANS)
        free_spans[free_span_count++] = (typeof(free_spans[0])){ at, span };
}

void *wd_region_map(wd_handle_t frame, uint64_t size, bool writable, long *error)
{
    uint64_t align = size >= LARGE_PAGE ? LARGE_PAGE : WD_PAGE_SIZE;
    uint64_t bytes = page_round_up(size);
    uint64_t at = size && bytes >= size ? take_vaddr(bytes + WD_PAGE_SIZE, align) : 0;   /* a guard page after */
    if (!at) {
        *error = -WD_E_RANGE;
        return NULL;
    }
    long r = wd_vm_map(WD_NULL, frame, 0, at, bytes, WD_RIGHT_READ | (writable ? WD_RIGHT_WRITE : 0));
    if (r < 0) {
        give_back_vaddr(at, bytes + WD_PAGE_SIZE);
        *error = r;
        return NULL;
    }
    return (void *)at;
}

long wd_region_unmap(const void *cpu, uint64_t size)
{
    uint64_t bytes = page_round_up(size);
    long r = wd_vm_unmap(WD_NULL, (uint64_t)cpu, bytes);      /* the number of mappings removed */
    if (r < 0)
        return r;
    give_back_vaddr((uint64_t)cpu, bytes + WD_PAGE_SIZE);
    return 0;
}

long wd_region_create(struct wd_region *r, wd_handle_t pool, uint64_t size)
{
    memset(r, 0, sizeof *r);
    if (size == 0 || size > WD_FRAME_MAX_BYTES)
        return -WD_E_INVALID_ARG;
    uint64_t bytes = page_round_up(size);
    long frame = wd_frame_create(pool, bytes, 0);
    if (frame < 0)
        return frame;
    long error = 0;
    void *cpu = wd_region_map((wd_handle_t)frame, bytes, true, &error);
    if (!cpu) {
        wd_cap_delete((wd_handle_t)frame);
        return error;
    }
    r->frame = (wd_handle_t)frame;
    r->cpu = cpu;
    r->size = bytes;
    return 0;
}

long wd_region_destroy(struct wd_region *r)
{
    if (!r->frame)
        return -WD_E_INVALID_ARG;
    long result = wd_region_unmap(r->cpu, r->size);
    long deleted = wd_cap_delete(r->frame);
    memset(r, 0, sizeof *r);
    return result < 0 ? result : deleted;
}

long wd_region_grant(const struct wd_region *r, uint64_t device_rights, wd_handle_t *grant)
{
    if (device_rights & ~(uint64_t)(WD_RIGHT_READ | WD_RIGHT_WRITE))
        return -WD_E_BAD_FLAGS;
    if (!device_rights)
        return -WD_E_INVALID_ARG;
    long g = wd_cap_copy(r->frame, WD_NULL, WD_RIGHT_MAP | WD_RIGHT_GRANT | device_rights, 0);
    if (g < 0)
        return g;
    *grant = (wd_handle_t)g;
    return 0;
}

long wd_region_revoke(wd_handle_t grant)
{
    return wd_cap_delete(grant);
}

long wd_copy_checked_init(void)
{
    extern char wd_copy_checked_range_start[], wd_copy_checked_range_end[], wd_copy_checked_fault[];
    return wd_thread_fault_fixup((uint64_t)wd_copy_checked_range_start, (uint64_t)wd_copy_checked_range_end,
                                 (uint64_t)wd_copy_checked_fault);
}
