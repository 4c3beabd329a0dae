/*
 * t_ring.c - the data-path ring between two processes with real
 * notifications: a producer helper and the test as consumer move
 * RING_ITEMS descriptors through a 16-slot ring, each sleeping whenever
 * the ring is empty (consumer) or full (producer), so the "wants a signal"
 * re-check runs hundreds of thousands of times with the scheduler
 * preempting anywhere. No wake-up may be lost (a sleep that times out
 * fails), no item lost or duplicated, and signals stay at most one per
 * sleep. The library's own hostile-peer and two-thread race tests are host
 * unit tests (tests/unit/test_ring.c).
 *
 * Helper role ring-producer: caps = ring frame, SEND to the consumer's
 * notification, its own notification (waits for space there).
 */
#include <stdlib.h>
#include <string.h>
#include <warden/region.h>

#include "boot_tests.h"

#define RING_ITEMS 400000u
#define RING_SLOTS 16u
#define RING_BADGE 0x5177
#define SLEEP_LIMIT (3000 * BT_MS)      /* a wait this long means a lost wake-up */

int bt_ring_producer_main(const wd_handle_t *caps)
{
    long error = 0;
    void *mem = wd_region_map(caps[0], wd_ring_bytes(RING_SLOTS), true, &error);
    struct wd_ring p;
    if (!mem || wd_ring_init_producer(&p, mem, RING_SLOTS) < 0)
        return 3;
    uint64_t next = 0, rng = 0x243F6A8885A308D3ull, sleeps = 0;
    while (next < RING_ITEMS) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        unsigned burst = 1 + (unsigned)(rng % (2 * RING_SLOTS));
        for (unsigned i = 0; i < burst && next < RING_ITEMS;) {
            struct wd_ring_desc d = { .id = next, .arg = ~next, .length = 1 };
            long r = wd_ring_enqueue(&p, &d);
            if (r == 0) {
                next++, i++;
                continue;
            }
            if (r != -WD_E_WOULD_BLOCK)
                return 4;
            if (wd_ring_publish(&p) && wd_notify_signal(caps[1], 1) < 0)
                return 6;
            if (wd_ring_producer_may_sleep(&p)) {
                sleeps++;
                if (wd_notify_wait(caps[2], SLEEP_LIMIT) == -WD_E_TIMEOUT)
                    return 5;           /* a lost wake-up */
            }
        }
        if (wd_ring_publish(&p) && wd_notify_signal(caps[1], 1) < 0)
            return 6;
        if (rng % 64 == 0)
            wd_thread_yield();
    }
    printf("# producer: %u items, slept %llu times waiting for space\n", RING_ITEMS, (unsigned long long)sleeps);
    return 0;
}

void test_ring_signal_race_processes(void)
{
    struct wd_region shared;
    if (BT_OK(wd_region_create(&shared, bt_pool(), wd_ring_bytes(RING_SLOTS))) < 0)
        return;
    long to_consumer = BT_OK(wd_notify_create(bt_pool()));
    long to_producer = BT_OK(wd_notify_create(bt_pool()));
    long consumer_signal = BT_OK(wd_cap_copy((wd_handle_t)to_consumer, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    struct wd_ring c;
    BT_OK(wd_ring_init_consumer(&c, shared.cpu, RING_SLOTS, 0));
    wd_handle_t caps[3] = { shared.frame, (wd_handle_t)consumer_signal, (wd_handle_t)to_producer };
    wd_handle_t helper = bt_spawn_helper("ring-producer", caps, 3, (wd_handle_t)ep, RING_BADGE);
    struct wd_system_info before, after;
    BT_OK(wd_system_info(&before));
    uint64_t received = 0, out_of_order = 0, sleeps = 0, lost = 0, prepares = 0;
    while (received < RING_ITEMS) {
        struct wd_ring_desc d;
        long r;
        while ((r = wd_ring_dequeue(&c, &d)) == 0) {
            if (d.id != received || d.arg != ~d.id)
                out_of_order++;
            received++;
        }
        if (wd_ring_release(&c))
            BT_OK(wd_notify_signal((wd_handle_t)to_producer, 1));
        if (r != -WD_E_WOULD_BLOCK || received == RING_ITEMS)
            break;
        prepares++;
        if (wd_ring_consumer_may_sleep(&c)) {
            sleeps++;
            if (wd_notify_wait((wd_handle_t)to_consumer, SLEEP_LIMIT) == -WD_E_TIMEOUT) {
                struct wd_ring_shared *sh = shared.cpu;
                printf("# lost wake-up after %llu items: head %u tail %u producer token %u consumer token %u\n",
                       (unsigned long long)received, sh->head, sh->tail, sh->producer_waiting, sh->consumer_waiting);
                if (++lost == 2)
                    break;
            }
        }
        if (received % 4096 == 17)
            wd_thread_yield();
    }
    BT_OK(wd_system_info(&after));
    struct wd_msg m;
    if (BT_OK(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_EXIT, RING_BADGE, &m, 5000 * BT_MS)) == 0) {
        BT_CHECK_EQ(m.w[3], WD_EXIT_NORMAL);
        BT_CHECK_EQ(m.w[2], 0);         /* the producer lost no wake-up either */
    }
    printf("# %llu items: consumer slept %llu times; %llu signals in all\n", (unsigned long long)received,
           (unsigned long long)sleeps, (unsigned long long)(after.notify_signals - before.notify_signals));
    BT_CHECK_EQ(lost, 0);
    BT_CHECK_EQ(received, RING_ITEMS);
    BT_CHECK_EQ(out_of_order, 0);
    BT_CHECK(sleeps > 1000);            /* the race really ran */
    bt_release_helper(helper);
    wd_cap_delete((wd_handle_t)consumer_signal);
    wd_cap_delete((wd_handle_t)to_consumer);
    wd_cap_delete((wd_handle_t)to_producer);
    wd_cap_delete((wd_handle_t)ep);
    wd_region_destroy(&shared);
}
