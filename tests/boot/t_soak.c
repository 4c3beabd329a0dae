/*
 * t_soak.c - driver crash/restart cycles under load (`make soak`,
 * docs/reliability.md). edu, the NVMe driver and the e1000e driver each
 * serve a client of this test; every cycle all three clients do I/O and
 * one driver, in turn, is killed with its client's requests in flight
 * (edu mid-DMA, NVMe mid-write, e1000e mid-stream) at a seeded random
 * moment. The driver is started again and its client recovers: the
 * library reopens the session and resubmits what did not complete (edu,
 * NVMe), or the client opens a new session (e1000e). Every request
 * completes once, successfully, and the data is checked: edu's pattern
 * back from the device, the NVMe writes read back, the frames mirrored
 * intact by the host peer. After every cycle free memory, the kernel's
 * objects and processes, this test's pool charge and the interrupt
 * sources must be exactly where they were after the first round.
 *
 * The kernel names the dead driver's domain in its revocation line; the
 * harness checks QEMU's own IOTLB trace for any translation of that domain
 * after the line (tests/soak_trace.py). Boot with `soakcycles=N` (default
 * 30; `make soak`: 1,000) and `soakseed=S` to replay the kill moments.
 */
#include <string.h>

#include "boot_tests.h"
#include "edu_protocol.h"
#include "t_net.h"
#include "t_nvme.h"

#define DEFAULT_CYCLES 30u
#define MAX_CYCLES 100000u
#define EDU_REGION (64ull << 10)
#define EDU_CAPACITY 8u
#define EDU_OUT 0x1000u
#define EDU_BACK 0x3000u
#define BLK_WRITES 32u
#define BLK_BACK (1ull << 20)           /* where the writes are read back into */
#define FRAMES 64u
#define POOL_PATIENCE_MS 2000u
#define EDU_POOL (1ull << 20)
#define BLK_POOL (4ull << 20)
#define NIC_POOL (8ull << 20)          /* driver_start's, which nic_up uses */

enum target { EDU, BLK, NIC, TARGETS };
static const char *const target_names[TARGETS] = { "edu", "nvme", "e1000e" };

struct soak {
    wd_handle_t device[TARGETS];
    struct edu_driver edu, blk;
    struct wd_client_session edu_s, blk_s;
    struct nic nic;
    uint64_t block_size;
    uint64_t rng;
    unsigned kills[TARGETS];
    uint64_t resubmitted, frames, writes, transfers;
};

/* What must come back to the same value after every cycle. */
struct footprint {
    uint64_t free_frames, live_objects, live_processes, pool_used, live_irqs, ir_entries;
};

static uint64_t rnd(struct soak *s, uint64_t bound)
{
    return bt_random(&s->rng) % bound;
}

static void take_footprint(struct footprint *f)
{
    struct wd_system_info sys;
    struct wd_pool_info pool;
    struct wd_irq_stats irqs;
    BT_OK(wd_system_info(&sys));
    BT_OK(wd_pool_info(bt_pool(), &pool));
    BT_OK(wd_irq_stats(&irqs));
    *f = (struct footprint){ sys.free_frames, sys.live_objects, sys.live_processes, pool.used, irqs.live_irqs,
                             irqs.ir_entries_used };
}

/* False (and every difference printed) if now is not baseline. */
static bool same_footprint(const struct footprint *baseline, const struct footprint *now, unsigned cycle)
{
    static const char *const names[] = { "free frames", "live objects", "live processes", "pool bytes charged",
                                         "live interrupt sources", "IRTEs in use" };
    const uint64_t *a = &baseline->free_frames, *b = &now->free_frames;
    bool same = true;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (a[i] != b[i]) {
            printf("# cycle %u: %s %llu, after the first round %llu\n", cycle, names[i], (unsigned long long)b[i],
                   (unsigned long long)a[i]);
            same = false;
        }
    }
    return same;
}

/* Starts module on device under a fresh name, in a sub-pool of pool_bytes, and waits until it registered. */
static bool start(struct edu_driver *drv, const char *module, wd_handle_t device, const char *args,
                  uint64_t pool_bytes)
{
    static unsigned started;
    char name[32];
    snprintf(name, sizeof name, "soak-%s-%u", module, ++started);
    return driver_spawn_as(drv, module, device, name, args, pool_bytes) && driver_wait_registered(drv, name);
}

static uint64_t pool_used(void)
{
    struct wd_pool_info pool;
    return BT_OK(wd_pool_info(bt_pool(), &pool)) == 0 ? pool.used : 0;
}

/* Waits until this test's pool has at most limit bytes charged: a dead
 * driver's sub-pool goes only once the last capability to its endpoint
 * has (the client session's own copy, replaced when it reopens, and the
 * registry's, which init drops when it sees the endpoint close, on its own
 * time). A pool that stays is a leak. */
static bool wait_pool_at_most(uint64_t limit)
{
    uint64_t deadline = (uint64_t)wd_time_now() + POOL_PATIENCE_MS * BT_MS;
    while (pool_used() > limit && (uint64_t)wd_time_now() < deadline)
        wd_thread_sleep(BT_MS);
    if (pool_used() <= limit)
        return true;
    printf("# %llu bytes charged to the test's pool %u ms after a driver's death, expected at most %llu\n",
           (unsigned long long)pool_used(), POOL_PATIENCE_MS, (unsigned long long)limit);
    BT_CHECK(false);
    return false;
}

/* Kills the driver, waits for the kernel's EXIT message and deletes the
 * capabilities this test held for it. */
static bool kill_and_bury(struct edu_driver *drv)
{
    if (BT_OK(wd_process_kill(drv->process, 0)) < 0)
        return false;
    struct wd_msg m;
    long r = BT_OK(bt_wait_kernel_message(drv->fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, TIMEOUT));
    wd_cap_delete(drv->process);
    wd_cap_delete(drv->fault_ep);
    wd_cap_delete(drv->client);
    *drv = (struct edu_driver){ 0 };
    return r == 0;
}

/* Takes one completion of s: false on an error, a duplicate or a failed request. */
static bool take(bool *seen, unsigned count, const struct wd_ring_desc *c)
{
    if (c->id >= count || seen[c->id] || c->status != 0) {
        printf("# completion id %llu status %u: unknown, repeated or failed\n", (unsigned long long)c->id,
               c->status);
        BT_CHECK(false);
        return false;
    }
    seen[c->id] = true;
    return true;
}

/* Kills drv (already under load), takes what it published before dying
 * until DEAD, starts module again and reopens s with it: the library sends
 * again what did not complete. */
static bool kill_and_reopen(struct soak *soak, struct edu_driver *drv, enum target t, const char *args,
                            uint64_t pool_bytes, struct wd_client_session *s, bool *seen, unsigned count,
                            unsigned *done)
{
    uint64_t charged = pool_used();
    if (!kill_and_bury(drv))
        return false;
    struct wd_ring_desc c;
    long r;
    while ((r = wd_client_wait(s, &c, TIMEOUT)) == 0) {
        if (!take(seen, count, &c))
            return false;
        (*done)++;
    }
    BT_CHECK_EQ(r, -WD_E_DEAD);
    if (r != -WD_E_DEAD || !start(drv, target_names[t], soak->device[t], args, pool_bytes))
        return false;
    uint64_t before = s->resubmitted;
    if (BT_OK(wd_client_reopen(s, drv->client, TIMEOUT)) < 0)
        return false;
    BT_CHECK_EQ(s->resubmitted - before, count - *done);
    soak->resubmitted += s->resubmitted - before;
    soak->kills[t]++;
    return s->resubmitted - before == count - *done && wait_pool_at_most(charged);   /* the old pool for the new */
}

static bool wait_rest(struct wd_client_session *s, bool *seen, unsigned count, unsigned *done)
{
    struct wd_ring_desc c;
    while (*done < count) {
        if (BT_OK(wd_client_wait(s, &c, TIMEOUT)) < 0 || !take(seen, count, &c))
            return false;
        (*done)++;
    }
    return true;
}

/* edu: a pattern to the device and back; killed (if kill) at a random
 * moment of the two 100 ms transfers. */
static bool edu_round(struct soak *soak, unsigned cycle, bool kill)
{
    struct wd_client_session *s = &soak->edu_s;
    volatile uint8_t *region = s->region.cpu;
    fill(region + EDU_OUT, TRANSFER, (uint8_t)cycle);
    memset((void *)(region + EDU_BACK), 0, TRANSFER);
    struct wd_ring_desc out = { .offset = EDU_OUT, .length = TRANSFER, .op = EDU_RING_TO_DEVICE, .id = 0 };
    struct wd_ring_desc back = { .offset = EDU_BACK, .length = TRANSFER, .op = EDU_RING_FROM_DEVICE, .id = 1 };
    if (BT_OK(wd_client_submit(s, &out)) < 0 || BT_OK(wd_client_submit(s, &back)) < 0 ||
        BT_OK(wd_client_kick(s)) < 0)
        return false;
    bool seen[2] = { false, false };
    unsigned done = 0;
    if (kill) {
        wd_thread_sleep(rnd(soak, 250) * BT_MS);
        if (!kill_and_reopen(soak, &soak->edu, EDU, "no-selftest", EDU_POOL, s, seen, 2, &done))
            return false;
    }
    if (!wait_rest(s, seen, 2, &done))
        return false;
    bool intact = memcmp((const void *)(region + EDU_BACK), (const void *)(region + EDU_OUT), TRANSFER) == 0;
    if (!intact) {
        unsigned i = 0;
        while (i < TRANSFER && region[EDU_BACK + i] == region[EDU_OUT + i])
            i++;
        printf("# cycle %u: edu's transfer came back wrong from byte %u (0x%02x, sent 0x%02x)%s\n", cycle, i,
               region[EDU_BACK + i], region[EDU_OUT + i], kill ? ", its driver killed during it" : "");
    }
    BT_CHECK(intact);
    soak->transfers += 2;
    return intact;
}

/* NVMe: BLK_WRITES 4 KiB writes of this cycle's pattern; killed (if kill)
 * after a random number of them completed; then read back and compared. */
static bool blk_round(struct soak *soak, unsigned cycle, bool kill)
{
    struct wd_client_session *s = &soak->blk_s;
    volatile uint8_t *region = s->region.cpu;
    uint64_t per = 4096 / soak->block_size, base = SCRATCH_BYTE / soak->block_size;
    for (unsigned k = 0; k < BLK_WRITES; k++) {
        fill(region + k * 4096ull, 4096, (uint8_t)(cycle * 7 + k));
        struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = NVME_BLK_WRITE, .id = k,
                                  .arg = base + k * per };
        if (BT_OK(wd_client_submit(s, &d)) < 0)
            return false;
    }
    if (BT_OK(wd_client_kick(s)) < 0)
        return false;
    static bool seen[BLK_WRITES];
    memset(seen, 0, sizeof seen);
    unsigned done = 0;
    if (kill) {
        unsigned before = (unsigned)rnd(soak, BLK_WRITES / 2);
        struct wd_ring_desc c;
        while (done < before && BT_OK(wd_client_wait(s, &c, TIMEOUT)) == 0 && take(seen, BLK_WRITES, &c))
            done++;
        if (done < before || !kill_and_reopen(soak, &soak->blk, BLK, "", BLK_POOL, s, seen, BLK_WRITES, &done))
            return false;
    }
    if (!wait_rest(s, seen, BLK_WRITES, &done))
        return false;
    memset((void *)(region + BLK_BACK), 0, BLK_WRITES * 4096ull);
    if (BT_OK(block_request(s, NVME_BLK_READ, BLK_BACK, BLK_WRITES * 4096ull, base)) < 0)
        return false;
    bool intact = memcmp((const void *)(region + BLK_BACK), (const void *)region, BLK_WRITES * 4096ull) == 0;
    BT_CHECK(intact);
    soak->writes += BLK_WRITES;
    return intact;
}

/* nic_up: the driver (in an 8 MiB sub-pool, driver_start's), a receiving session, buffers posted. */
static bool nic_start(struct soak *soak)
{
    return nic_up(&soak->nic, soak->device[NIC], "");
}

/* e1000e: FRAMES frames to the host peer and back. When killed: frames in
 * flight both ways, the kill after a random number of receives; the client
 * then opens a new session with the new driver and streams again. */
static bool nic_round(struct soak *soak, unsigned cycle, bool kill)
{
    struct nic *n = &soak->nic;
    struct stream st;
    if (kill) {
        for (unsigned k = 0; k < TX_IN_FLIGHT; k++) {
            unsigned length = 60 + (unsigned)rnd(soak, NET_FRAME_MAX - 60 + 1);
            build_frame(n, k * TX_SLOT, 4000 + k, length);
            struct wd_ring_desc d = { .op = NET_TX, .offset = k * TX_SLOT, .length = length, .id = 4000 + k };
            if (BT_OK(wd_client_submit(&n->s, &d)) < 0)
                return false;
        }
        BT_OK(wd_client_kick(&n->s));
        unsigned receives = (unsigned)rnd(soak, 4);
        struct wd_ring_desc c;
        while (receives && wd_client_wait(&n->s, &c, TIMEOUT) == 0)
            receives -= c.op == NET_RX;
        uint64_t charged = pool_used();
        if (!kill_and_bury(&n->drv))
            return false;
        long r;
        while ((r = wd_client_wait(&n->s, &c, TIMEOUT)) == 0)
            ;                           /* what the dead driver published comes first */
        BT_CHECK_EQ(r, -WD_E_DEAD);
        nic_down(n, true);
        if (!wait_pool_at_most(charged - NIC_POOL) || !nic_start(soak))
            return false;
        soak->kills[NIC]++;
    }
    if (BT_OK(stream(n, FRAMES, 0x50AC + cycle, TIMEOUT, &st)) < 0)
        return false;
    BT_CHECK_EQ(st.received, FRAMES);
    BT_CHECK_EQ(st.bad, 0);
    soak->frames += st.received;
    return st.received == FRAMES && st.bad == 0;
}

static bool soak_up(struct soak *soak)
{
    static const struct {
        uint16_t vendor, device;
    } ids[TARGETS] = { { EDU_VENDOR, EDU_DEVICE }, { NVME_VENDOR, NVME_DEVICE }, { NET_VENDOR, NET_DEVICE } };
    for (unsigned t = 0; t < TARGETS; t++) {
        struct wd_device_info info;
        if (!dma_test_device(ids[t].vendor, ids[t].device, target_names[t], &info))
            return false;
        long d = BT_OK(wd_device_open(dma_device_root(), info.address));
        if (d < 0)
            return false;
        soak->device[t] = (wd_handle_t)d;
    }
    if (!start(&soak->edu, "edu", soak->device[EDU], "no-selftest", EDU_POOL) ||
        BT_OK(wd_client_open(&soak->edu_s, soak->edu.client, bt_pool(), EDU_REGION, WD_RIGHT_READ | WD_RIGHT_WRITE,
                             EDU_CAPACITY, NULL, 0, TIMEOUT)) < 0)
        return false;
    if (!start(&soak->blk, "nvme", soak->device[BLK], "", BLK_POOL) ||
        !nvme_open(soak->blk.client, &soak->blk_s, WD_RIGHT_READ | WD_RIGHT_WRITE, 64, &soak->block_size, NULL))
        return false;
    return nic_start(soak);
}

static void soak_down(struct soak *soak)
{
    struct edu_driver *drivers[TARGETS] = { &soak->edu, &soak->blk, &soak->nic.drv };
    for (unsigned t = 0; t < TARGETS; t++)
        if (drivers[t]->process)
            kill_and_bury(drivers[t]);
    wd_client_close(&soak->edu_s, TIMEOUT);
    wd_client_close(&soak->blk_s, TIMEOUT);
    nic_down(&soak->nic, true);
    for (unsigned t = 0; t < TARGETS; t++)
        wd_cap_delete(soak->device[t]);
}

void test_soak_crash_cycles(void)
{
    struct wd_device_info info;
    if (!net_present(&info) || !nvme_present(&info))
        return;
    static struct soak soak;
    memset(&soak, 0, sizeof soak);
    unsigned cycles = (unsigned)bt_cmdline_number("soakcycles=", DEFAULT_CYCLES);
    if (cycles < TARGETS || cycles > MAX_CYCLES)
        cycles = DEFAULT_CYCLES;
    uint64_t seed = bt_cmdline_number("soakseed=", 0);
    if (!seed)
        seed = (uint64_t)wd_time_now() | 1;
    soak.rng = seed;
    printf("# soak: %u cycles, seed 0x%llx (replay: boot with soakcycles=%u soakseed=0x%llx)\n", cycles,
           (unsigned long long)seed, cycles, (unsigned long long)seed);
    if (!soak_up(&soak)) {
        soak_down(&soak);
        return;
    }
    bool (*const rounds[TARGETS])(struct soak *, unsigned, bool) = { edu_round, blk_round, nic_round };
    struct footprint baseline, now;
    unsigned cycle;
    for (cycle = 0; cycle < cycles; cycle++) {
        enum target victim = (enum target)(cycle % TARGETS);
        bool ok = true;
        for (unsigned t = 0; t < TARGETS && ok; t++)
            ok = rounds[t](&soak, cycle, t == victim);
        if (!ok) {
            printf("# cycle %u (%s killed): a client did not recover\n", cycle, target_names[victim]);
            break;
        }
        take_footprint(&now);
        if (cycle == TARGETS - 1)
            baseline = now;             /* each driver has been killed and restarted once */
        else if (cycle >= TARGETS && !same_footprint(&baseline, &now, cycle))
            break;
        if (cycle % 50 == 49)
            printf("# soak: %u cycles done\n", cycle + 1);
    }
    BT_CHECK_EQ(cycle, cycles);
    printf("# soak: %u cycles (%u edu, %u nvme, %u e1000e killed and restarted): %llu edu transfers, %llu NVMe "
           "writes (%llu sent again by the client library), %llu frames mirrored; footprint the same after every "
           "cycle from cycle %u on\n",
           cycle, soak.kills[EDU], soak.kills[BLK], soak.kills[NIC], (unsigned long long)soak.transfers,
           (unsigned long long)soak.writes, (unsigned long long)soak.resubmitted, (unsigned long long)soak.frames,
           TARGETS);
    soak_down(&soak);
}
