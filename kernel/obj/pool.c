/*
 * pool.c - the pool object: budget accounting.
 */
#include "obj/pool.h"

#include "core/panic.h"
#include "mm/kobj.h"

#include <warden/errors.h>

static struct kobj_cache pool_cache;
static bool cache_ready;

static struct pool *pool_alloc(void)
{
    if (!cache_ready) {
        kobj_cache_init(&pool_cache, "pool", sizeof(struct pool));
        cache_ready = true;
    }
    return kobj_alloc(&pool_cache);
}

uint64_t pool_object_cost(uint64_t object_bytes)
{
    return (object_bytes + 63) & ~63ull;
}

struct pool *pool_create_root(uint64_t budget)
{
    struct pool *p = pool_alloc();
    if (!p)
        panic("no memory for the root pool");
    kobject_init(&p->obj, WD_TYPE_POOL, NULL, 0);
    p->budget = budget;
    return p;
}

struct pool *pool_create_child(struct pool *parent, uint64_t budget, int *error)
{
    uint64_t cost = pool_object_cost(sizeof(struct pool));
    if (budget == 0 || budget > UINT64_MAX - cost) {
        *error = WD_E_INVALID_ARG;
        return NULL;
    }
    if (!pool_charge(parent, budget + cost)) {
        *error = WD_E_POOL_EXHAUSTED;
        return NULL;
    }
    struct pool *p = pool_alloc();
    if (!p) {
        pool_uncharge(parent, budget + cost);
        *error = WD_E_NO_MEMORY;
        return NULL;
    }
    kobject_init(&p->obj, WD_TYPE_POOL, parent, budget + cost);
    p->budget = budget;
    return p;
}

bool pool_charge(struct pool *pool, uint64_t bytes)
{
    if (bytes > pool->budget - pool->used)
        return false;
    pool->used += bytes;
    return true;
}

void pool_uncharge(struct pool *pool, uint64_t bytes)
{
    KASSERT(bytes <= pool->used);
    pool->used -= bytes;
}

void pool_destroy(struct pool *pool)
{
    if (pool->used != 0)
        panic("pool %llu destroyed with %llu bytes still charged",
              (unsigned long long)pool->obj.id, (unsigned long long)pool->used);
    kobj_free(&pool_cache, pool);
}
