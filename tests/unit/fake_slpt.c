/*
 * fake_slpt.c - the fake physical memory the second-level page-table unit
 * tests run on (see fake_slpt.h).
 */
#include "fake_slpt.h"

#include <string.h>

struct fake_memory fm;

void fake_slpt_reset(void)
{
    memset(&fm, 0, sizeof fm);
    fm.allocs_left = -1;
}

unsigned fake_slpt_index(uint64_t phys)
{
    unsigned i = (unsigned)((phys - FAKE_BASE) / SLPT_TABLE_BYTES);
    if (!CHECK(phys >= FAKE_BASE && phys % SLPT_TABLE_BYTES == 0 && i < FAKE_PAGES && fm.in_use[i]))
        return 0;
    return i;
}

static uint64_t fake_alloc(void *ctx)
{
    struct fake_memory *m = ctx;
    if (m->allocs_left == 0)
        return 0;
    for (unsigned i = 0; i < FAKE_PAGES; i++) {
        if (m->in_use[i])
            continue;
        if (m->allocs_left > 0)
            m->allocs_left--;
        m->in_use[i] = true;
        memset(m->page[i], 0, sizeof m->page[i]);
        for (unsigned k = 0; k < SLPT_ENTRIES; k++)
            m->written_back[i][k] = STALE;
        m->allocs++;
        return FAKE_BASE + i * SLPT_TABLE_BYTES;
    }
    CHECK(!"fake memory exhausted");
    return 0;
}

static void fake_free(void *ctx, uint64_t phys)
{
    struct fake_memory *m = ctx;
    unsigned i = fake_slpt_index(phys);
    m->in_use[i] = false;
    for (unsigned k = 0; k < SLPT_ENTRIES; k++)
        m->page[i][k] = POISON;     /* a later read through a freed table shows */
    m->frees++;
}

static uint64_t *fake_table(void *ctx, uint64_t phys)
{
    struct fake_memory *m = ctx;
    return m->page[fake_slpt_index(phys)];
}

/* Copies whole entries of one in-use page to its written-back copy. */
static void fake_flush(void *ctx, const void *p, size_t bytes)
{
    struct fake_memory *m = ctx;
    uintptr_t offset = (uintptr_t)p - (uintptr_t)m->page;
    unsigned i = (unsigned)(offset / SLPT_TABLE_BYTES);
    unsigned first = (unsigned)(offset % SLPT_TABLE_BYTES / sizeof(uint64_t));
    if (!CHECK((uintptr_t)p >= (uintptr_t)m->page && i < FAKE_PAGES && m->in_use[i]) ||
        !CHECK(offset % sizeof(uint64_t) == 0 && bytes % sizeof(uint64_t) == 0 && bytes > 0) ||
        !CHECK(first + bytes / sizeof(uint64_t) <= SLPT_ENTRIES))
        return;
    memcpy(&m->written_back[i][first], &m->page[i][first], bytes);
    m->flushes++;
}

const struct slpt_memory fake_slpt_mem = { fake_alloc, fake_free, fake_table, fake_flush, &fm };
const struct slpt_memory fake_slpt_mem_coherent = { fake_alloc, fake_free, fake_table, NULL, &fm };

/* Every in-use page reads the same to the CPU and to a non-coherent IOMMU. */
bool fake_slpt_coherent(void)
{
    for (unsigned i = 0; i < FAKE_PAGES; i++)
        if (fm.in_use[i] && memcmp(fm.page[i], fm.written_back[i], sizeof fm.page[i]) != 0)
            return false;
    return true;
}

unsigned fake_slpt_in_use(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < FAKE_PAGES; i++)
        n += fm.in_use[i];
    return n;
}




void new_tree(struct slpt *t, unsigned levels)
{
    fake_slpt_reset();
    CHECK_EQ(slpt_init(t, levels, &fake_slpt_mem), 0);
}

/* Destroys t and checks that exactly every allocated table was freed. */
void end_tree(struct slpt *t)
{
    CHECK(fake_slpt_coherent());
    slpt_destroy(t);
    CHECK_EQ(fm.allocs, fm.frees);
    CHECK_EQ(fake_slpt_in_use(), 0);
    CHECK_EQ(t->table_count, 0);
}
