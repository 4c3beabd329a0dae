/*
 * t_chains.c - long chains of processes, each holding the only capability
 * to the next, end when their head goes, and the kernel survives it: the
 * kernel ends and destroys them in a loop, not in a recursion as deep as
 * the chain (which ran off its 16 KiB stack and crashed it). A chain of
 * processes without threads is destroyed with its head's last capability;
 * a chain of processes whose threads are all stopped on faults is ended
 * (t_unreachable.c) one link after the other.
 */
#include "boot_tests.h"

#define CHAIN_POOL_BYTES (22ull << 20)
#define THREADLESS_LINKS 900                /* about 24 KiB each: the pool allows ~920 */
#define FAULTED_LINKS 150
#define HANDLES_KEPT 200                    /* our cspace has 256 slots */

static wd_handle_t links[THREADLESS_LINKS];

static uint64_t pool_used(wd_handle_t pool)
{
    struct wd_pool_info info;
    return BT_OK(wd_pool_info(pool, &info)) == 0 ? info.used : ~0ull;
}

/* links[0] <- links[1] <- ...: each process holds a copy of the next one's
 * capability. We keep ours to the head and (for a while) to the others;
 * returns how many links were made. */
static unsigned build_chain(wd_handle_t pool, unsigned count, wd_handle_t fault_ep)
{
    unsigned n = 0;
    for (; n < count; n++) {
        long next = wd_process_create(pool, fault_ep, 0, 0);
        if (next < 0) {
            printf("# link %u: %s\n", n, wd_error_name(next));
            break;
        }
        links[n] = (wd_handle_t)next;
        if (fault_ep) {                     /* a thread that faults at once: an unmapped entry */
            long t = BT_OK(wd_thread_create(pool, links[n], 0x1000, 0x2000, 0, WD_PRIORITY_MAX));
            wd_cap_delete((wd_handle_t)t);
        }
        if (n > 0 && BT_OK(wd_cap_copy(links[n], links[n - 1], WD_RIGHTS_ALL, 0)) < 0)
            break;
        if (n >= HANDLES_KEPT && n - HANDLES_KEPT > 0)
            wd_cap_delete(links[n - HANDLES_KEPT]);     /* held by its predecessor only */
    }
    for (unsigned k = n > HANDLES_KEPT ? n - HANDLES_KEPT : 1; k < n; k++)
        wd_cap_delete(links[k]);
    return n;
}

void test_process_chains_end_without_recursion(void)
{
    long pool = BT_OK(wd_pool_create(bt_pool(), CHAIN_POOL_BYTES));
    unsigned n = build_chain((wd_handle_t)pool, THREADLESS_LINKS, WD_NULL);
    printf("# a chain of %u processes without threads: %llu bytes\n", n,
           (unsigned long long)pool_used((wd_handle_t)pool));
    BT_CHECK(n >= THREADLESS_LINKS * 9 / 10);
    wd_cap_delete(links[0]);                /* the head goes, and the whole chain with it */
    BT_CHECK_EQ(pool_used((wd_handle_t)pool), 0);

    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    n = build_chain((wd_handle_t)pool, FAULTED_LINKS, (wd_handle_t)ep);
    BT_CHECK_EQ(n, FAULTED_LINKS);
    wd_thread_sleep(20 * BT_MS);            /* every thread has run (priority MAX) and faulted */
    wd_cap_delete(links[0]);                /* unreachable: the head ends, then each next link */
    BT_CHECK_EQ(pool_used((wd_handle_t)pool), 0);
    wd_cap_delete((wd_handle_t)ep);
    wd_cap_delete((wd_handle_t)pool);
}
