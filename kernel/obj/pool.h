/*
 * pool.h - memory budgets. Every kernel object and user frame is charged
 * to a pool; a pool refuses charges beyond its budget. A sub-pool's whole
 * budget is charged to its parent while it lives, so a process can only
 * exhaust the pool it was given. The root pool (budget = free RAM at
 * boot) is handed to init.
 */
#ifndef WARDEN_OBJ_POOL_H
#define WARDEN_OBJ_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "obj/object.h"

struct pool {
    struct kobject obj;
    uint64_t budget;
    uint64_t used;
};

struct pool *pool_create_root(uint64_t budget);
/* A sub-pool of parent; on failure *error = WD_E_*. */
struct pool *pool_create_child(struct pool *parent, uint64_t budget, int *error);

/* Charges bytes; false (nothing charged) if the budget would be exceeded. */
bool pool_charge(struct pool *pool, uint64_t bytes);
void pool_uncharge(struct pool *pool, uint64_t bytes);

void pool_destroy(struct pool *pool);

/* Bytes charged for one kernel object of a given size (slab granularity). */
uint64_t pool_object_cost(uint64_t object_bytes);

#endif
