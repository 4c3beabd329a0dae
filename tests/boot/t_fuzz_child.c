/*
 * t_fuzz_child.c - one fuzzing process (helper role fuzz-child, started by
 * t_fuzz.c): seeded random system calls with typed arguments
 * (t_fuzz_args.c) until the parent says stop on the board, or the parent is
 * gone (its endpoint closed: the runner killed it). It counts every call in
 * its board slot right after the call returns, so the calls of a child the
 * parent kills still count. It takes the handles the parent granted it
 * from the same slot whenever the parent bumps the slot's generation.
 *
 * Start info: caps[0] the board frame (mapped, then deleted: the fuzzer
 * cannot name it), caps[1] SEND to the parent's endpoint (never named);
 * argv: helper fuzz-child <slot> <seed>.
 */
#include <stdlib.h>
#include <warden/region.h>

#include "boot_tests.h"
#include "t_fuzz.h"

#define FUZZ_POOL_BYTES (2ull << 20)        /* what the fuzzed calls may spend */
#define PARENT_CHECK_EVERY 256              /* calls between looks at the parent's endpoint */

static void take_grants(volatile struct fuzz_slot *slot, uint64_t *seen)
{
    uint64_t generation = __atomic_load_n(&slot->grant_generation, __ATOMIC_ACQUIRE);
    if (generation == *seen)
        return;
    *seen = generation;
    for (unsigned i = 0; i < FUZZ_SHARED_OBJECTS; i++)
        fuzz_object_set_shared(i, slot->grants[i]);
}

static bool parent_gone(wd_handle_t parent)
{
    struct wd_cap_info info;
    return wd_cap_info(parent, &info) < 0 || (info.flags & WD_CAP_CLOSED);
}

/* A few objects of every kind to start from, paid by a pool of our own. */
static void create_first_objects(void)
{
    long pool = wd_pool_create(wd_start_info->pool, FUZZ_POOL_BYTES);
    if (pool < 0)
        return;
    fuzz_object_add((wd_handle_t)pool);
    fuzz_object_add((wd_handle_t)wd_endpoint_create((wd_handle_t)pool));
    fuzz_object_add((wd_handle_t)wd_notify_create((wd_handle_t)pool));
    fuzz_object_add((wd_handle_t)wd_frame_create((wd_handle_t)pool, WD_PAGE_SIZE, 0));
    fuzz_object_add((wd_handle_t)wd_process_create((wd_handle_t)pool, WD_NULL, 0, 0));
    fuzz_object_add((wd_handle_t)wd_dmaspace_create((wd_handle_t)pool));
}

static void count(volatile struct fuzz_slot *slot, unsigned index, uint64_t nr, long result)
{
    if (result < -(long)WD_E_COUNT) {
        if (slot->counts.not_error++ == 0) {
            slot->first_not_error_nr = nr;
            slot->first_not_error = result;
        }
        printf("# fuzz process %u: call %llu returned %ld, not an error code\n", index, (unsigned long long)nr,
               result);
    }
    if (result >= 0) {
        slot->counts.succeeded++;
        if (nr < 128)
            slot->succeeded_calls[nr / 64] |= 1ull << (nr % 64);
    } else {
        slot->counts.failed++;
    }
}

int bt_fuzz_child_main(int argc, char **argv)
{
    const struct wd_start_info *info = wd_start_info;
    unsigned index = argc >= 5 ? (unsigned)strtoul(argv[3], NULL, 0) : FUZZ_MAX_CHILDREN;
    uint64_t seed = argc >= 5 ? strtoull(argv[4], NULL, 0) : 0;
    if (index >= FUZZ_MAX_CHILDREN || info->cap_count < 2)
        return 3;
    long error = 0;
    struct fuzz_board *board = wd_region_map(info->caps[0], WD_PAGE_SIZE, true, &error);
    if (!board)
        return 4;
    wd_cap_delete(info->caps[0]);
    wd_handle_t parent = info->caps[1];
    const wd_handle_t own[] = { info->self_process, info->pool, parent, info->registry };
    fuzz_table_build(false);
    fuzz_objects_reset(seed, own, sizeof own / sizeof own[0]);
    create_first_objects();
    volatile struct fuzz_slot *slot = &board->slots[index];
    uint64_t seen = 0;
    for (uint64_t n = 0; !__atomic_load_n(&board->stop, __ATOMIC_ACQUIRE); n++) {
        take_grants(slot, &seen);
        if (n % PARENT_CHECK_EVERY == PARENT_CHECK_EVERY - 1 && parent_gone(parent))
            break;
        uint64_t r[13], back[13];
        bool skip;
        const struct fuzz_call *call = fuzz_make_call(r, &skip);
        if (skip) {
            slot->counts.skipped++;
            continue;
        }
        for (unsigned k = 0; k < 13; k++)
            slot->last_call[k] = r[k];
        long result = raw_syscall_both(r, back);
        fuzz_learn_result(call, r, back, result);
        count(slot, index, r[0], result);
    }
    return 0;
}
