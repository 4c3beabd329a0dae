/*
 * t_datapath.c - the data path end to end with the real edu driver
 * (drivers/edu/datapath.c, libdriver session.c, libc client_session.c):
 * a client's region granted as a lease, mapped by the driver once, the
 * device DMAing straight to and from it on ring requests; a revocation in
 * the middle of a transfer; a hostile client; sessions refused for bad
 * arguments; a restarted driver getting the dead one's requests again in
 * their order. The kernel-level lease tests are in t_lease.c.
 */
#include <string.h>
#include <warden/region.h>

#include "boot_tests.h"
#include "t_dma.h"
#include "edu_protocol.h"

#define REGION_BYTES (64ull << 10)
#define CAPACITY 8u
#define SESSION_TIMEOUT (5000 * BT_MS)
#define PATTERN_OFFSET 0x1000u
#define BACK_OFFSET 0x3000u

/* edu behind an IOMMU, its driver started with a device capability the
 * test holds (so it can be revoked); false (skipped or failed) if not. */
static bool driver_up(struct edu_driver *drv, wd_handle_t *device)
{
    struct wd_device_info info;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return false;
    }
    long d = BT_OK(wd_device_open(dma_device_root(), info.address));
    if (d < 0)
        return false;
    *device = (wd_handle_t)d;
    return edu_driver_start(drv, *device, "no-selftest");
}

static void driver_down(struct edu_driver *drv, wd_handle_t device)
{
    wd_process_kill(drv->process, 0);
    wd_cap_delete(device);
}

static uint64_t invalidations(void)
{
    struct wd_iommu_info info;
    return wd_iommu_info(0, &info) == 0 ? info.invalidations : 0;
}

static long request(struct wd_client_session *s, uint16_t op, uint64_t offset, uint32_t length, uint64_t device_offset,
                    uint64_t id)
{
    struct wd_ring_desc d = { .offset = offset, .length = length, .op = op, .id = id, .arg = device_offset };
    long r = wd_client_submit(s, &d);
    return r < 0 ? r : wd_client_kick(s);
}

/* Waits for one completion; its status as -WD_E_* (0 = success), or the wait's error. */
static long completion(struct wd_client_session *s, uint64_t id, uint64_t *result)
{
    struct wd_ring_desc c;
    long r = wd_client_wait(s, &c, SESSION_TIMEOUT);
    if (r < 0)
        return r;
    BT_CHECK_EQ(c.id, id);
    if (result)
        *result = c.arg;
    return -(long)c.status;
}

/* Client -> driver -> device -> client memory: a pattern goes from the
 * region to edu's buffer and back to another part of the region, through
 * the one IOMMU mapping the driver made when the session opened (no IOMMU
 * invalidation during the I/O); bad requests get their own errors. */
void test_datapath_edu_roundtrip(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!driver_up(&drv, &device))
        return;
    struct wd_client_session s;
    if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, NULL,
                             0, SESSION_TIMEOUT)) < 0)
        return;
    volatile uint8_t *region = s.region.cpu;
    fill(region + PATTERN_OFFSET, TRANSFER, 0x31);
    memset((void *)(region + BACK_OFFSET), 0, TRANSFER);
    struct wd_cap_info grant;
    BT_OK(wd_cap_info(s.grant, &grant));
    BT_CHECK(grant.flags & WD_CAP_LEASE);
    uint64_t inv_before = invalidations(), moved = 0;
    BT_OK(request(&s, EDU_RING_TO_DEVICE, PATTERN_OFFSET, TRANSFER, 0, 1));
    BT_CHECK_EQ(completion(&s, 1, &moved), 0);
    BT_CHECK_EQ(moved, TRANSFER);
    BT_OK(request(&s, EDU_RING_FROM_DEVICE, BACK_OFFSET, TRANSFER, 0, 2));
    BT_CHECK_EQ(completion(&s, 2, &moved), 0);
    BT_CHECK(memcmp((const void *)(region + BACK_OFFSET), (const void *)(region + PATTERN_OFFSET), TRANSFER) == 0);
    BT_CHECK_EQ(invalidations() - inv_before, 0);       /* the data path does no IOMMU operation */
    /* A region page boundary in the middle of a transfer (the frame's pages are scattered). */
    fill(region + 0x7F00, 512, 0x77);
    BT_OK(request(&s, EDU_RING_TO_DEVICE, 0x7F00, 512, 100, 3));
    BT_CHECK_EQ(completion(&s, 3, NULL), 0);
    BT_OK(request(&s, EDU_RING_FROM_DEVICE, 0x9F00, 512, 100, 4));
    BT_CHECK_EQ(completion(&s, 4, NULL), 0);
    BT_CHECK(memcmp((const void *)(region + 0x9F00), (const void *)(region + 0x7F00), 512) == 0);
    /* Each bad request gets its error and moves nothing. */
    BT_OK(request(&s, EDU_RING_TO_DEVICE, REGION_BYTES - 100, 200, 0, 5));      /* past the region */
    BT_CHECK_EQ(completion(&s, 5, NULL), -WD_E_RANGE);
    BT_OK(request(&s, EDU_RING_TO_DEVICE, 0, 0, 0, 6));                         /* empty */
    BT_CHECK_EQ(completion(&s, 6, NULL), -WD_E_INVALID_ARG);
    BT_OK(request(&s, EDU_RING_TO_DEVICE, 0, 100, EDU_DMA_MAX_BYTES - 50, 7));  /* past the device buffer */
    BT_CHECK_EQ(completion(&s, 7, NULL), -WD_E_RANGE);
    BT_OK(request(&s, 9, 0, 100, 0, 8));                                        /* unknown op */
    BT_CHECK_EQ(completion(&s, 8, NULL), -WD_E_NOT_SUPPORTED);
    /* Requests batched: four in one kick, completed in order. */
    for (unsigned i = 0; i < 4; i++) {
        struct wd_ring_desc d = { .offset = i * 0x1000, .length = 64, .op = EDU_RING_TO_DEVICE, .id = 100 + i };
        BT_OK(wd_client_submit(&s, &d));
    }
    BT_OK(wd_client_kick(&s));
    for (unsigned i = 0; i < 4; i++)
        BT_CHECK_EQ(completion(&s, 100 + i, NULL), 0);
    BT_CHECK_EQ(wd_client_close(&s, SESSION_TIMEOUT), 0);
    driver_down(&drv, device);
}

/* A lease that lets the device only read the region: the driver cannot
 * make the device write it (NO_RIGHTS), and a lease that lets it only
 * write cannot be read by the device. */
void test_datapath_lease_rights(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!driver_up(&drv, &device))
        return;
    struct wd_client_session ro, wo;
    if (BT_OK(wd_client_open(&ro, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ, CAPACITY, NULL, 0,
                             SESSION_TIMEOUT)) == 0) {
        memset(ro.region.cpu, 0x42, 256);
        BT_OK(request(&ro, EDU_RING_FROM_DEVICE, 0, 256, 0, 1));
        BT_CHECK_EQ(completion(&ro, 1, NULL), -WD_E_NO_RIGHTS);
        BT_CHECK(all_equal(ro.region.cpu, 256, 0x42));
        BT_OK(request(&ro, EDU_RING_TO_DEVICE, 0, 256, 0, 2));
        BT_CHECK_EQ(completion(&ro, 2, NULL), 0);
        wd_client_close(&ro, SESSION_TIMEOUT);
    }
    if (BT_OK(wd_client_open(&wo, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_WRITE, CAPACITY, NULL, 0,
                             SESSION_TIMEOUT)) == 0) {
        BT_OK(request(&wo, EDU_RING_TO_DEVICE, 0, 256, 0, 3));
        BT_CHECK_EQ(completion(&wo, 3, NULL), -WD_E_NO_RIGHTS);
        BT_OK(request(&wo, EDU_RING_FROM_DEVICE, 0, 256, 0, 4));
        BT_CHECK_EQ(completion(&wo, 4, NULL), 0);
        BT_CHECK(all_equal(wo.region.cpu, 256, 0x42));  /* what the read-only session put in the device */
        wd_client_close(&wo, SESSION_TIMEOUT);
    }
    driver_down(&drv, device);
}

/* The client takes its region back while edu is writing into it: when
 * wd_client_revoke returns the mapping is gone and flushed, so the
 * device's write, due 100 ms after it started, faults: not one byte of the
 * region changes, the driver completes the request with DEAD (not
 * success), counts the fault, and forgets the session. */
void test_datapath_revoke_mid_transfer(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!driver_up(&drv, &device))
        return;
    struct wd_client_session s;
    if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, NULL,
                             0, SESSION_TIMEOUT)) < 0)
        return;
    volatile uint8_t *region = s.region.cpu;
    fill(region, TRANSFER, 0x10);                       /* what the device will try to write back */
    BT_OK(request(&s, EDU_RING_TO_DEVICE, 0, TRANSFER, 0, 1));
    BT_CHECK_EQ(completion(&s, 1, NULL), 0);
    memset((void *)region, 0x5A, REGION_BYTES);
    struct wd_system_info before;
    BT_OK(wd_system_info(&before));
    BT_OK(request(&s, EDU_RING_FROM_DEVICE, 0, TRANSFER, 0, 2));
    wd_thread_sleep(30 * BT_MS);                        /* the transfer runs (it lands at 100 ms) */
    BT_OK(wd_client_revoke(&s));
    struct wd_system_info after;
    BT_OK(wd_system_info(&after));
    BT_CHECK_EQ(after.lease_ends - before.lease_ends, 1);
    BT_CHECK_EQ(after.lease_mappings_removed - before.lease_mappings_removed, 1);   /* the one DMA mapping */
    BT_CHECK_EQ(after.revoke_pid, drv.pid);             /* the driver's mapping went */
    BT_CHECK(after.revoke_flush_stamp != 0);            /* the driver's dmaspace has edu: a flush waited for */
    BT_CHECK(after.revoke_release_stamp > after.revoke_flush_stamp);    /* the frame reference only after it */
    BT_CHECK_EQ(completion(&s, 2, NULL), -WD_E_DEAD);
    struct wd_msg fault;
    if (BT_OK(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_DMA_FAULT, EDU_DRIVER_BADGE, &fault, 1000 * BT_MS)) == 0) {
        BT_CHECK_EQ(fault.w[5], drv.pid);               /* the owner: the driver */
        BT_CHECK(fault.w[4] & WD_DMA_FAULT_WRITE);      /* the device's write into the region */
    }
    wd_thread_sleep(200 * BT_MS);
    BT_CHECK(all_equal(region, REGION_BYTES, 0x5A));
    struct wd_msg m;
    long stats = edu_request(drv.client, EDU_OP_STATS, 0, &m);
    BT_CHECK_EQ(stats, 0);
    if (stats == 0)
        BT_CHECK(m.w[EDU_STAT_DMA_FAULTS] >= 1);        /* the device's write was blocked and reported */
    /* The session is gone on the driver's side: a close finds nothing. */
    BT_CHECK_EQ(wd_client_close(&s, SESSION_TIMEOUT), -WD_E_NOT_FOUND);
    driver_down(&drv, device);
}

/* A hostile client: garbage in its ring's index breaks only its own
 * session (the driver ends it and stays up), garbage descriptors get RANGE
 * completions, and another client is served throughout. */
void test_datapath_hostile_client(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!driver_up(&drv, &device))
        return;
    struct wd_client_session bad, good;
    if (BT_OK(wd_client_open(&bad, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ, CAPACITY, NULL, 0,
                             SESSION_TIMEOUT)) < 0 ||
        BT_OK(wd_client_open(&good, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY,
                             NULL, 0, SESSION_TIMEOUT)) < 0)
        return;
    /* Descriptors with offsets and lengths outside the region. */
    struct wd_ring_desc garbage[] = {
        { .offset = REGION_BYTES, .length = 1, .op = EDU_RING_TO_DEVICE, .id = 1 },
        { .offset = ~0ull - 10, .length = 100, .op = EDU_RING_TO_DEVICE, .id = 2 },
        { .offset = 1ull << 44, .length = 64, .op = EDU_RING_FROM_DEVICE, .id = 3 },
    };
    for (unsigned i = 0; i < 3; i++)
        BT_OK(wd_client_submit(&bad, &garbage[i]));
    BT_OK(wd_client_kick(&bad));
    for (unsigned i = 0; i < 3; i++)
        BT_CHECK_EQ(completion(&bad, garbage[i].id, NULL), -WD_E_RANGE);
    /* An index jump: the driver must see more requests than the ring holds. */
    struct wd_ring_shared *requests = bad.rings.cpu;
    requests->head += 1000;
    BT_OK(wd_notify_signal(bad.service_signal, 0));
    struct wd_ring_desc c;
    BT_CHECK_EQ(wd_client_wait(&bad, &c, 500 * BT_MS), -WD_E_TIMEOUT);   /* nothing is done with it */
    fill((uint8_t *)good.region.cpu, 64, 0x66);
    BT_OK(request(&good, EDU_RING_TO_DEVICE, 0, 64, 0, 10));
    BT_CHECK_EQ(completion(&good, 10, NULL), 0);
    BT_CHECK_EQ(wd_client_close(&bad, SESSION_TIMEOUT), -WD_E_NOT_FOUND);   /* the driver ended it */
    /* A second hostile client cannot close someone else's session: the proof is the signal cap. */
    struct wd_msg m = { .info = wd_msg_info(WD_SESSION_CLOSE, 1, 0), .w = { good.id } };
    BT_OK(wd_call(drv.client, &m, SESSION_TIMEOUT));
    BT_CHECK_EQ((long)m.w[0], -WD_E_INVALID_ARG);
    long own = BT_OK(wd_notify_create(bt_pool()));
    m = (struct wd_msg){ .info = wd_msg_info(WD_SESSION_CLOSE, 1, 1), .w = { good.id }, .caps = { (wd_handle_t)own } };
    BT_OK(wd_call(drv.client, &m, SESSION_TIMEOUT));
    BT_CHECK_EQ((long)m.w[0], -WD_E_NO_RIGHTS);
    BT_OK(request(&good, EDU_RING_FROM_DEVICE, 128, 64, 0, 11));
    BT_CHECK_EQ(completion(&good, 11, NULL), 0);
    BT_CHECK(memcmp((uint8_t *)good.region.cpu + 128, good.region.cpu, 64) == 0);
    BT_CHECK_EQ(wd_client_close(&good, SESSION_TIMEOUT), 0);
    wd_cap_delete((wd_handle_t)own);
    driver_down(&drv, device);
}

/* Sends a hand-made WD_SESSION_OPEN; returns the reply's w0. */
static long open_with(wd_handle_t service, uint64_t capacity, wd_handle_t region, wd_handle_t rings, wd_handle_t notify,
                      unsigned ncaps)
{
    struct wd_msg m = {
        .info = wd_msg_info(WD_SESSION_OPEN, 1, ncaps),
        .w = { capacity },
        .caps = { region, rings, notify },
    };
    long r = wd_call(service, &m, SESSION_TIMEOUT);
    if (r < 0)
        return r;
    for (unsigned i = 0; i < wd_msg_ncaps(m.info); i++)
        wd_cap_delete(m.caps[i]);
    return (long)m.w[0];
}

/* Sessions the driver must refuse, each with its own error, keeping none
 * of the capabilities (the client can revoke them all to no effect). */
void test_datapath_refuses_bad_sessions(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!driver_up(&drv, &device))
        return;
    struct wd_region region, rings;
    if (BT_OK(wd_region_create(&region, bt_pool(), REGION_BYTES)) < 0 ||
        BT_OK(wd_region_create(&rings, bt_pool(), wd_session_ring_bytes(CAPACITY))) < 0)
        return;
    wd_handle_t lease, ring_copy, small_rings_h;
    BT_OK(wd_region_grant(&region, WD_RIGHT_READ | WD_RIGHT_WRITE, &lease));
    long n = BT_OK(wd_notify_create(bt_pool()));
    long signal = BT_OK(wd_cap_copy((wd_handle_t)n, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0));
    long wait_only = BT_OK(wd_cap_copy((wd_handle_t)n, WD_NULL, WD_RIGHT_RECV | WD_RIGHT_GRANT, 0));
    ring_copy = (wd_handle_t)BT_OK(wd_cap_copy(rings.frame, WD_NULL, WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP |
                                                                        WD_RIGHT_GRANT, 0));   /* a lease */
    long small = BT_OK(wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0));
    small_rings_h = (wd_handle_t)small;
    wd_handle_t ep_as_region = drv.fault_ep;
    BT_CHECK_EQ(open_with(drv.client, CAPACITY, lease, rings.frame, (wd_handle_t)signal, 2), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(open_with(drv.client, 3, lease, rings.frame, (wd_handle_t)signal, 3), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(open_with(drv.client, 0, lease, rings.frame, (wd_handle_t)signal, 3), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(open_with(drv.client, 4096, lease, rings.frame, (wd_handle_t)signal, 3), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(open_with(drv.client, CAPACITY, region.frame, rings.frame, (wd_handle_t)signal, 3),
                -WD_E_INVALID_ARG);                                         /* not a lease */
    BT_CHECK_EQ(open_with(drv.client, CAPACITY, lease, ring_copy, (wd_handle_t)signal, 3),
                -WD_E_INVALID_ARG);                                         /* rings that could vanish */
    BT_CHECK_EQ(open_with(drv.client, CAPACITY, ep_as_region, rings.frame, (wd_handle_t)signal, 3),
                -WD_E_WRONG_TYPE);
    BT_CHECK_EQ(open_with(drv.client, CAPACITY, lease, rings.frame, (wd_handle_t)wait_only, 3), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(open_with(drv.client, 256, lease, small_rings_h, (wd_handle_t)signal, 3), -WD_E_RANGE);
    /* None of them left a copy with the driver. */
    BT_CHECK_EQ(wd_cap_revoke(region.frame), 1);        /* only the lease itself */
    BT_CHECK_EQ(wd_cap_revoke(rings.frame), 1);         /* only ring_copy */
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)n), 2);      /* signal and wait_only */
    BT_CHECK_EQ(wd_cap_revoke(small_rings_h), 0);
    wd_cap_delete((wd_handle_t)n);
    wd_cap_delete(small_rings_h);
    wd_region_destroy(&rings);
    wd_region_destroy(&region);
    driver_down(&drv, device);
}

/* A client that hands the driver an unbadged signal capability (not made
 * by wd_client_open) is still woken: the driver signals it with bit 0. */
void test_datapath_unbadged_signal(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!driver_up(&drv, &device))
        return;
    struct wd_region region, rings;
    if (BT_OK(wd_region_create(&region, bt_pool(), REGION_BYTES)) < 0 ||
        BT_OK(wd_region_create(&rings, bt_pool(), wd_session_ring_bytes(CAPACITY))) < 0)
        return;
    wd_handle_t lease;
    BT_OK(wd_region_grant(&region, WD_RIGHT_READ, &lease));
    struct wd_ring requests, completions;
    BT_OK(wd_ring_init_producer(&requests, rings.cpu, CAPACITY));
    BT_OK(wd_ring_init_consumer(&completions, (char *)rings.cpu + wd_session_completions_offset(CAPACITY), CAPACITY,
                                0));
    long n = BT_OK(wd_notify_create(bt_pool()));
    long signal = BT_OK(wd_cap_copy((wd_handle_t)n, WD_NULL, WD_RIGHT_SEND | WD_RIGHT_GRANT, 0));   /* no badge */
    struct wd_msg m = {
        .info = wd_msg_info(WD_SESSION_OPEN, 1, 3),
        .w = { CAPACITY },
        .caps = { lease, rings.frame, (wd_handle_t)signal },
    };
    BT_OK(wd_call(drv.client, &m, SESSION_TIMEOUT));
    BT_CHECK_EQ((long)m.w[0] >= 0, true);
    BT_CHECK_EQ(wd_msg_ncaps(m.info), 1);
    if ((long)m.w[0] >= 0 && wd_msg_ncaps(m.info) == 1) {
        fill((uint8_t *)region.cpu, 64, 0x5A);
        struct wd_ring_desc d = { .offset = 0, .length = 64, .op = EDU_RING_TO_DEVICE, .id = 77 };
        BT_OK(wd_ring_enqueue(&requests, &d));
        BT_CHECK(wd_ring_consumer_may_sleep(&completions));      /* we will sleep: signal us */
        if (wd_ring_publish(&requests))
            BT_OK(wd_notify_signal(m.caps[0], 0));
        BT_CHECK_EQ(wd_notify_wait((wd_handle_t)n, SESSION_TIMEOUT), 0x1);
        struct wd_ring_desc c = { .status = 0xFFFF };
        BT_CHECK_EQ(wd_ring_dequeue(&completions, &c), 0);
        BT_CHECK_EQ(c.id, 77);
        BT_CHECK_EQ(c.status, 0);
        wd_cap_delete(m.caps[0]);
    }
    driver_down(&drv, device);
    wd_cap_delete((wd_handle_t)signal);
    wd_cap_delete((wd_handle_t)n);
    wd_region_destroy(&rings);
    wd_region_destroy(&region);
}

/* The driver dies with a write to the device and its read back in flight,
 * submitted under slots in the reverse of their order (slots are reused
 * last-freed first): the client library must send them again to the new
 * driver in the order they were submitted, or the read runs first and
 * brings back what the dead driver's blocked write left in the device. */
void test_datapath_reopen_keeps_order(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!driver_up(&drv, &device))
        return;
    struct wd_client_session s;
    if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, NULL,
                             0, SESSION_TIMEOUT)) < 0)
        return;
    volatile uint8_t *region = s.region.cpu;
    /* Two small requests complete, so the next two take their slots the other way round. */
    BT_OK(request(&s, EDU_RING_TO_DEVICE, 0, 64, 0, 1));
    BT_OK(request(&s, EDU_RING_TO_DEVICE, 0, 64, 0, 2));
    BT_CHECK_EQ(completion(&s, 1, NULL), 0);
    BT_CHECK_EQ(completion(&s, 2, NULL), 0);
    fill(region + PATTERN_OFFSET, TRANSFER, 0x47);
    memset((void *)(region + BACK_OFFSET), 0, TRANSFER);
    struct wd_ring_desc out = { .offset = PATTERN_OFFSET, .length = TRANSFER, .op = EDU_RING_TO_DEVICE, .id = 3 };
    struct wd_ring_desc back = { .offset = BACK_OFFSET, .length = TRANSFER, .op = EDU_RING_FROM_DEVICE, .id = 4 };
    BT_OK(wd_client_submit(&s, &out));
    BT_OK(wd_client_submit(&s, &back));
    BT_OK(wd_client_kick(&s));
    wd_thread_sleep(20 * BT_MS);                        /* the write runs (it lands at 100 ms) */
    BT_OK(wd_process_kill(drv.process, 0));
    struct wd_msg m;
    BT_CHECK_EQ(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, SESSION_TIMEOUT), 0);
    struct wd_ring_desc c;
    BT_CHECK_EQ(wd_client_wait(&s, &c, SESSION_TIMEOUT), -WD_E_DEAD);   /* nothing completed */
    wd_cap_delete(drv.client);
    wd_cap_delete(drv.process);
    wd_cap_delete(drv.fault_ep);
    if (!edu_driver_start(&drv, device, "no-selftest"))
        return;
    BT_CHECK_EQ(wd_client_reopen(&s, drv.client, SESSION_TIMEOUT), 0);
    BT_CHECK_EQ(s.resubmitted, 2);
    BT_CHECK_EQ(completion(&s, 3, NULL), 0);            /* the write first, */
    BT_CHECK_EQ(completion(&s, 4, NULL), 0);            /* then the read */
    BT_CHECK(memcmp((const void *)(region + BACK_OFFSET), (const void *)(region + PATTERN_OFFSET), TRANSFER) == 0);
    BT_CHECK_EQ(wd_client_close(&s, SESSION_TIMEOUT), 0);
    driver_down(&drv, device);
}
