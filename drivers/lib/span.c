/*
 * span.c - the address-range allocator behind IOVAs and driver CPU
 * addresses (see span.h for the invariants). Allocation is first fit over
 * the free list, then a bump of next; freeing the range just below next
 * lowers next again, anything else goes on the sorted free list, merged
 * with its neighbours. A range that fits nowhere on a full list is lost:
 * that wastes address space, never memory.
 */
#include "span.h"

static uint64_t align_up(uint64_t v, uint64_t align)
{
    return (v + align - 1) & ~(align - 1);
}

void wd_span_init(struct wd_span_allocator *s, uint64_t base, uint64_t limit, uint64_t hole_start,
                  uint64_t hole_end)
{
    s->next = base;
    s->limit = limit;
    s->hole_start = hole_start;
    s->hole_end = hole_end;
    s->free_count = 0;
}

static void free_remove(struct wd_span_allocator *s, unsigned i)
{
    for (; i + 1 < s->free_count; i++)
        s->free[i] = s->free[i + 1];
    s->free_count--;
}

/* Inserts [start, end) at position i (keeps the order); false when full. */
static bool free_insert_at(struct wd_span_allocator *s, unsigned i, uint64_t start, uint64_t end)
{
    if (s->free_count == WD_SPAN_FREE_SLOTS)
        return false;
    for (unsigned j = s->free_count; j > i; j--)
        s->free[j] = s->free[j - 1];
    s->free[i].start = start;
    s->free[i].end = end;
    s->free_count++;
    return true;
}

/* Carves [at, at+size) out of free range i. */
static bool take_from_free(struct wd_span_allocator *s, unsigned i, uint64_t at, uint64_t size)
{
    uint64_t start = s->free[i].start, end = s->free[i].end;
    if (at == start && at + size == end)
        free_remove(s, i);
    else if (at == start)
        s->free[i].start = at + size;
    else if (at + size == end)
        s->free[i].end = at;
    else if (free_insert_at(s, i + 1, at + size, end))
        s->free[i].end = at;
    else
        return false;
    return true;
}

/* Gives back [start, end) except the part inside the hole. */
static void give_back_outside_hole(struct wd_span_allocator *s, uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    if (s->hole_start >= s->hole_end || end <= s->hole_start || start >= s->hole_end) {
        wd_span_give_back(s, start, end - start);
        return;
    }
    if (start < s->hole_start)
        wd_span_give_back(s, start, s->hole_start - start);
    if (end > s->hole_end)
        wd_span_give_back(s, s->hole_end, end - s->hole_end);
}

long wd_span_take(struct wd_span_allocator *s, uint64_t size, uint64_t align, uint64_t *out)
{
    if (size == 0 || align == 0 || (align & (align - 1)))
        return -WD_E_INVALID_ARG;
    for (unsigned i = 0; i < s->free_count; i++) {
        uint64_t at = align_up(s->free[i].start, align);
        if (at < s->free[i].start || at > s->free[i].end || s->free[i].end - at < size)
            continue;
        if (take_from_free(s, i, at, size)) {
            *out = at;
            return 0;
        }
    }
    uint64_t at = align_up(s->next, align);
    if (at < s->next)
        return -WD_E_RANGE;
    if (s->hole_start < s->hole_end && at < s->hole_end && (at + size > s->hole_start || at + size < at))
        at = align_up(s->hole_end, align);
    if (at + size < at || at + size > s->limit)
        return -WD_E_RANGE;
    /* The alignment gap below at (minus the hole) stays usable. */
    uint64_t gap_start = s->next;
    s->next = at + size;
    give_back_outside_hole(s, gap_start, at);
    *out = at;
    return 0;
}

void wd_span_give_back(struct wd_span_allocator *s, uint64_t start, uint64_t size)
{
    uint64_t end = start + size;
    if (size == 0 || end < start)
        return;
    if (end == s->next) {
        s->next = start;
        /* Only the last free range can end right below the new next. */
        if (s->free_count && s->free[s->free_count - 1].end == s->next) {
            s->next = s->free[s->free_count - 1].start;
            s->free_count--;
        }
        return;
    }
    unsigned i = 0;
    while (i < s->free_count && s->free[i].start < start)
        i++;
    bool joins_prev = i > 0 && s->free[i - 1].end == start;
    bool joins_next = i < s->free_count && s->free[i].start == end;
    if (joins_prev && joins_next) {
        s->free[i - 1].end = s->free[i].end;
        free_remove(s, i);
    } else if (joins_prev) {
        s->free[i - 1].end = end;
    } else if (joins_next) {
        s->free[i].start = start;
    } else {
        free_insert_at(s, i, start, end); /* full list: the range is lost */
    }
}
