/*
 * t_nvme_recovery.c - the NVMe driver's queue pairs and its recovery
 * (drivers/nvme/recovery.c, docs/nvme.md): sessions get queue pairs of
 * their own while the controller has enough and share otherwise, with
 * every request still completing once and right; a controller that hits a
 * fatal status (CSTS.CFS, made real by unmapping a completion queue from
 * the device) and a command that never completes (a lost doorbell) are
 * both recovered by a reset, with the requests in flight resubmitted and
 * completing once, flagged NVME_BLK_RETRIED, with the right data; a
 * driver whose device is revoked fails requests with DEAD at once instead
 * of letting them time out. Disk writes stay in [16, 32) MiB.
 */
#include <stdio.h>
#include <string.h>
#include <warden/registry.h>

#include "boot_tests.h"
#include "t_nvme.h"

#define QUEUE_SESSIONS 3u
#define IN_FLIGHT 48u                   /* 4 KiB requests per session at once */
#define RECOVERY_TIMEOUT_MS 400u

static bool call_service(wd_handle_t service, uint32_t op, uint64_t w0, struct wd_msg *m)
{
    *m = (struct wd_msg){ .info = wd_msg_info(op, 1, 0), .w = { w0 } };
    return BT_OK(wd_call(service, m, TIMEOUT)) == 0 && BT_OK((long)m->w[0]) == 0;
}

/* The qid serving session id (0: none), and the pairs and vectors. */
static uint64_t queue_of(wd_handle_t service, uint64_t session, uint64_t *pairs, uint64_t *vectors)
{
    struct wd_msg m;
    if (!call_service(service, NVME_OP_QUEUES, session, &m))
        return 0;
    *pairs = m.w[1];
    *vectors = m.w[2];
    return m.w[3];
}

/* count 4 KiB requests of op on s (region page k <-> block lba + k pages), one kick, all waited for:
 * each must complete exactly once with status 0; how many said NVME_BLK_RETRIED. */
static unsigned submit_and_wait(struct wd_client_session *s, uint16_t op, uint64_t lba, uint64_t block_size,
                                unsigned count)
{
    static bool seen[IN_FLIGHT];
    memset(seen, 0, sizeof seen);
    for (unsigned k = 0; k < count; k++) {
        struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = op, .id = 500 + k,
                                  .arg = lba + k * 4096ull / block_size };
        BT_CHECK_EQ(wd_client_submit(s, &d), 0);
    }
    BT_CHECK_EQ(wd_client_kick(s), 0);
    unsigned retried = 0;
    for (unsigned done = 0; done < count; done++) {
        struct wd_ring_desc c = { .status = 0xFFFF };
        long r = wd_client_wait(s, &c, TIMEOUT);
        if (r < 0) {
            printf("# after %u of %u completions: %s\n", done, count, wd_error_name(r));
            BT_CHECK_EQ(r, 0);
            return retried;
        }
        bool known = c.id >= 500 && c.id < 500 + count;
        BT_CHECK(known);
        if (!known)
            continue;
        BT_CHECK(!seen[c.id - 500]);            /* exactly once */
        seen[c.id - 500] = true;
        BT_CHECK_EQ(c.status, 0);
        retried += c.length == NVME_BLK_RETRIED;
    }
    return retried;
}

static void fill_pages(struct wd_client_session *s, unsigned pages, uint8_t seed)
{
    for (unsigned k = 0; k < pages; k++)
        fill((volatile uint8_t *)s->region.cpu + k * 4096ull, 4096, (uint8_t)(seed + k));
}

static bool pages_hold(struct wd_client_session *s, unsigned pages, uint8_t seed)
{
    static uint8_t expected[4096];
    for (unsigned k = 0; k < pages; k++) {
        fill(expected, 4096, (uint8_t)(seed + k));
        if (memcmp((const void *)((volatile uint8_t *)s->region.cpu + k * 4096ull), expected, 4096) != 0) {
            printf("# page %u differs\n", k);
            return false;
        }
    }
    return true;
}

/* Sessions get distinct queue pairs while there are enough, and share the
 * least loaded one otherwise (max_ioqpairs=1: all on qid 1); either way
 * concurrent sessions (more requests together than one queue holds) each
 * complete every request once with their own data. */
void test_nvme_queues_per_session(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    struct wd_client_session s[QUEUE_SESSIONS];
    uint64_t block_size = 0, pairs = 0, vectors = 0, qid[QUEUE_SESSIONS];
    for (unsigned i = 0; i < QUEUE_SESSIONS; i++) {
        if (!nvme_open(drv.client, &s[i], WD_RIGHT_READ | WD_RIGHT_WRITE, 64, &block_size, NULL))
            return;
        qid[i] = queue_of(drv.client, s[i].id, &pairs, &vectors);
        BT_CHECK(qid[i] >= 1 && qid[i] <= pairs);
    }
    unsigned distinct = 0;
    for (unsigned i = 0; i < QUEUE_SESSIONS; i++) {
        bool first = true;
        for (unsigned j = 0; j < i; j++)
            first &= qid[j] != qid[i];
        distinct += first;
    }
    printf("# %llu I/O queue pair(s), %llu interrupt vector(s); sessions on qids %llu %llu %llu\n",
           (unsigned long long)pairs, (unsigned long long)vectors, (unsigned long long)qid[0],
           (unsigned long long)qid[1], (unsigned long long)qid[2]);
    BT_CHECK_EQ(distinct, pairs < QUEUE_SESSIONS ? pairs : QUEUE_SESSIONS);
    BT_CHECK_EQ(queue_of(drv.client, 1000, &pairs, &vectors), 0);   /* no such session */
    /* All three at once: 3 x 48 requests, more than one queue's 63 slots. */
    uint64_t lba[QUEUE_SESSIONS];
    for (unsigned i = 0; i < QUEUE_SESSIONS; i++) {
        lba[i] = (SCRATCH_BYTE + i * MIB) / block_size;
        fill_pages(&s[i], IN_FLIGHT, (uint8_t)(0x40 * i + 7));
    }
    for (unsigned round = 0; round < 2; round++) {
        uint16_t op = round == 0 ? NVME_BLK_WRITE : NVME_BLK_READ;
        if (round == 1)
            for (unsigned i = 0; i < QUEUE_SESSIONS; i++)
                memset(s[i].region.cpu, 0, IN_FLIGHT * 4096ull);
        for (unsigned i = 0; i < QUEUE_SESSIONS; i++) {
            for (unsigned k = 0; k < IN_FLIGHT; k++) {
                struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = op, .id = k,
                                          .arg = lba[i] + k * 4096ull / block_size };
                BT_CHECK_EQ(wd_client_submit(&s[i], &d), 0);
            }
            BT_CHECK_EQ(wd_client_kick(&s[i]), 0);
        }
        for (unsigned i = 0; i < QUEUE_SESSIONS; i++) {
            unsigned ok = 0;
            for (unsigned k = 0; k < IN_FLIGHT; k++) {
                struct wd_ring_desc c = { .status = 0xFFFF };
                if (BT_OK(wd_client_wait(&s[i], &c, TIMEOUT)) < 0)
                    break;
                ok += c.status == 0 && c.id < IN_FLIGHT;
            }
            BT_CHECK_EQ(ok, IN_FLIGHT);
        }
    }
    for (unsigned i = 0; i < QUEUE_SESSIONS; i++) {
        BT_CHECK(pages_hold(&s[i], IN_FLIGHT, (uint8_t)(0x40 * i + 7)));
        BT_CHECK_EQ(wd_client_close(&s[i], TIMEOUT), 0);
    }
    nvme_down(&drv, device);
}

/* The recovery counters: resets, of them timeouts and fatal statuses, requests resubmitted. */
static bool recovery_counters(wd_handle_t service, uint64_t out[4])
{
    struct wd_msg m;
    if (!call_service(service, NVME_OP_RECOVERY, 0, &m))
        return false;
    for (unsigned i = 0; i < 4; i++)
        out[i] = m.w[1 + i];
    return true;
}

static bool inject(wd_handle_t service, uint64_t kind)
{
    struct wd_msg m;
    return call_service(service, NVME_OP_INJECT, kind, &m);
}

static bool recovery_driver(struct edu_driver *drv, wd_handle_t *device, struct wd_client_session *s,
                            uint64_t *block_size)
{
    char args[64];
    snprintf(args, sizeof args, "fault-injection timeout-ms=%u", RECOVERY_TIMEOUT_MS);
    return nvme_up_open(drv, device, args, s, 64, block_size, NULL);
}

/* The controller fails for real: its first I/O completion queue is
 * unmapped from its DMA space, so posting the next completion faults in
 * the IOMMU and QEMU sets CSTS.CFS and stops. The watchdog sees the fatal
 * status, the driver resets the controller and resubmits: every request
 * completes once, successfully, flagged as retried, and the data is right
 * (written before the failure, read back through it). */
void test_nvme_controller_fatal_recovered(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint64_t block_size, before[4], after[4];
    if (!recovery_driver(&drv, &device, &s, &block_size))
        return;
    uint64_t lba = (SCRATCH_BYTE + 4 * MIB) / block_size;
    fill_pages(&s, IN_FLIGHT, 0x3C);
    BT_CHECK_EQ(submit_and_wait(&s, NVME_BLK_WRITE, lba, block_size, IN_FLIGHT), 0);
    BT_CHECK(recovery_counters(drv.client, before));
    BT_CHECK_EQ(before[0], 0);
    /* Only a driver started with "fault-injection" takes this (the check is the driver's): */
    BT_CHECK(inject(drv.client, NVME_INJECT_FATAL));
    memset(s.region.cpu, 0, IN_FLIGHT * 4096ull);
    unsigned retried = submit_and_wait(&s, NVME_BLK_READ, lba, block_size, IN_FLIGHT);
    printf("# %u of %u reads were resubmitted after the reset\n", retried, IN_FLIGHT);
    BT_CHECK(retried >= 1);
    BT_CHECK(pages_hold(&s, IN_FLIGHT, 0x3C));
    BT_CHECK(recovery_counters(drv.client, after));
    BT_CHECK_EQ(after[0], 1);                   /* one reset */
    BT_CHECK_EQ(after[2], 1);                   /* for the fatal status */
    BT_CHECK_EQ(after[1], 0);
    BT_CHECK(after[3] >= retried);
    /* The controller works on: writes and reads, no further reset. */
    fill_pages(&s, 8, 0x77);
    BT_CHECK_EQ(submit_and_wait(&s, NVME_BLK_WRITE, lba, block_size, 8), 0);
    memset(s.region.cpu, 0, 8 * 4096ull);
    BT_CHECK_EQ(submit_and_wait(&s, NVME_BLK_READ, lba, block_size, 8), 0);
    BT_CHECK(pages_hold(&s, 8, 0x77));
    BT_CHECK(recovery_counters(drv.client, after));
    BT_CHECK_EQ(after[0], 1);
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    nvme_down(&drv, device);
}

/* A command that never completes (its doorbell write lost: the controller
 * never hears of it) times out after timeout-ms; the reset resubmits it and
 * it completes once, successfully, flagged; its data is on the disk. A
 * driver without "fault-injection" refuses to inject. */
void test_nvme_command_timeout_recovered(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint64_t block_size, counters[4];
    if (!recovery_driver(&drv, &device, &s, &block_size))
        return;
    uint64_t lba = (SCRATCH_BYTE + 5 * MIB) / block_size;
    fill_pages(&s, 4, 0xD1);
    BT_CHECK(inject(drv.client, NVME_INJECT_LOST_DOORBELL));
    uint64_t start = (uint64_t)wd_time_now();
    BT_CHECK_EQ(submit_and_wait(&s, NVME_BLK_WRITE, lba, block_size, 4), 4);
    uint64_t waited_ms = ((uint64_t)wd_time_now() - start) / BT_MS;
    printf("# the lost write completed after %llu ms (timeout %u ms)\n", (unsigned long long)waited_ms,
           RECOVERY_TIMEOUT_MS);
    BT_CHECK(waited_ms >= RECOVERY_TIMEOUT_MS);
    BT_CHECK(recovery_counters(drv.client, counters));
    BT_CHECK_EQ(counters[0], 1);
    BT_CHECK_EQ(counters[1], 1);                /* a timeout */
    BT_CHECK_EQ(counters[2], 0);                /* not a fatal status */
    BT_CHECK_EQ(counters[3], 4);
    memset(s.region.cpu, 0, 4 * 4096ull);
    BT_CHECK_EQ(submit_and_wait(&s, NVME_BLK_READ, lba, block_size, 4), 0);
    BT_CHECK(pages_hold(&s, 4, 0xD1));
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    nvme_down(&drv, device);

    /* Without the argument: NOT_SUPPORTED, and nothing happens. */
    if (!nvme_up(&drv, &device))
        return;
    struct wd_msg m = { .info = wd_msg_info(NVME_OP_INJECT, 1, 0), .w = { NVME_INJECT_FATAL } };
    BT_OK(wd_call(drv.client, &m, TIMEOUT));
    BT_CHECK_EQ((long)m.w[0], -WD_E_NOT_SUPPORTED);
    nvme_down(&drv, device);
}

/* The supervisor revokes the device from a live, idle driver (the
 * test's capability is the parent of the driver's): the driver learns it
 * from a watch at once, so a new request completes with DEAD well before
 * any command timeout (a minute here) or watchdog check, the driver stays
 * up and answers calls, and a new session is refused. (A driver revoked
 * while it writes a doorbell faults on the unmapped register page instead,
 * t_revoke.c: its supervisor restarts it, t_nvme_crash.c.) */
void test_nvme_device_revoked_fails_fast(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint64_t block_size;
    if (!nvme_up_open(&drv, &device, "timeout-ms=60000", &s, 64, &block_size, NULL))
        return;
    uint64_t lba = SCRATCH_BYTE / block_size;
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 0, 4096, lba), 0);
    uint64_t start = (uint64_t)wd_time_now();
    BT_CHECK(BT_OK(wd_cap_revoke(device)) >= 1);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 0, 4096, lba), -WD_E_DEAD);
    BT_CHECK_EQ(block_request(&s, NVME_BLK_WRITE, 0, 4096, lba), -WD_E_DEAD);
    uint64_t waited_ms = ((uint64_t)wd_time_now() - start) / BT_MS;
    printf("# requests after the revocation completed DEAD within %llu ms\n", (unsigned long long)waited_ms);
    BT_CHECK(waited_ms < 5000);
    uint64_t blocks;
    BT_CHECK(nvme_info(drv.client, &blocks) != 0);              /* the driver lives on */
    struct wd_msg m;
    BT_CHECK_EQ(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_REVOKED, EDU_DRIVER_BADGE, &m, 1000 * BT_MS), 0);
    BT_CHECK_EQ(wd_recv(drv.fault_ep, &m, 100 * BT_MS), -WD_E_TIMEOUT);    /* then no fault, no exit */
    struct wd_client_session again;
    BT_CHECK_EQ(wd_client_open(&again, drv.client, wd_start_info->pool, REGION_BYTES,
                               WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, NULL, 0, TIMEOUT),
                -WD_E_DEAD);
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    nvme_down(&drv, device);
}
