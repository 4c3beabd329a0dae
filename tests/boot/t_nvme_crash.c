/*
 * t_nvme_crash.c - deaths, resets and restarts around the NVMe driver: a
 * client killed with requests in flight (helper role "nvme-client"), the
 * controller reset (FLR) at revocation, the driver killed mid-write with
 * the client library resubmitting, and the same through init's
 * supervisor. No write from a dead driver's time may land later, and each
 * request completes exactly once.
 */
#include <string.h>
#include <warden/registry.h>
#include <warden/service.h>
#include <warden/supervisor.h>

#include "boot_tests.h"
#include "t_nvme.h"

#define CLIENT_READY 0xB10D

/* Helper role "nvme-client" (caps[0] the block service, caps[1] an
 * endpoint to report to): opens a session, queues DEEP 4 KiB reads (and a
 * 1 MiB one) into its region in one kick, says so, and sleeps until it is
 * killed with them in flight. */
int bt_nvme_client_main(const wd_handle_t *caps)
{
    struct wd_client_session s;
    if (wd_client_open(&s, caps[0], wd_start_info->pool, REGION_BYTES, WD_RIGHT_WRITE, 256, NULL, 0, TIMEOUT) < 0)
        return 3;
    for (unsigned k = 0; k < DEEP; k++) {
        struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = NVME_BLK_READ, .id = k, .arg = k * 8 };
        if (wd_client_submit(&s, &d) < 0)
            return 4;
    }
    struct wd_ring_desc big = { .offset = MIB, .length = MIB, .op = NVME_BLK_READ, .id = DEEP, .arg = 0 };
    if (wd_client_submit(&s, &big) < 0 || wd_client_kick(&s) < 0)
        return 5;
    struct wd_msg m = { .info = wd_msg_info(CLIENT_READY, 0, 0) };
    wd_send(caps[1], &m, TIMEOUT);
    for (;;)
        wd_thread_sleep(1000 * BT_MS);
}

/* A client killed with requests in flight: the kernel ends its lease (the
 * DMA mapping cut and flushed before its frames are free), the driver
 * keeps the session's IOVAs reserved until the controller is done with
 * them, and goes on serving: the next client's region gets nothing of the
 * dead one's reads, and its own I/O works. */
void test_nvme_client_dies_in_flight(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    long report = BT_OK(wd_endpoint_create(bt_pool()));
    long fault = BT_OK(wd_endpoint_create(bt_pool()));
    if (report < 0 || fault < 0)
        return;
    for (unsigned round = 0; round < 3; round++) {
        wd_handle_t caps[2] = { drv.client, (wd_handle_t)report };
        wd_handle_t client = bt_spawn_helper("nvme-client", caps, 2, (wd_handle_t)fault, 0xC1);
        struct wd_msg m;
        BT_CHECK_EQ(wd_recv((wd_handle_t)report, &m, TIMEOUT), 0);
        BT_CHECK_EQ(wd_msg_label(m.info), CLIENT_READY);
        struct wd_system_info before, after;
        BT_OK(wd_system_info(&before));
        BT_OK(wd_process_kill(client, 0));
        BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)fault, WD_LABEL_EXIT, 0xC1, &m, TIMEOUT), 0);
        bt_release_helper(client);
        BT_OK(wd_system_info(&after));
        BT_CHECK(after.lease_ends > before.lease_ends);     /* its grant ended with it */
        /* The next client: a sentinel in its region survives the dead one's late reads. */
        struct wd_client_session s;
        if (BT_OK(wd_client_open(&s, drv.client, bt_pool(), REGION_BYTES, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY,
                                 NULL, 0, TIMEOUT)) < 0)
            break;
        memset(s.region.cpu, 0x3C, REGION_BYTES);
        wd_thread_sleep(200 * BT_MS);
        BT_CHECK(all_equal(s.region.cpu, (unsigned)REGION_BYTES, 0x3C));
        BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 0, 8192, 0), 0);
        BT_CHECK_EQ(block_request(&s, NVME_BLK_FLUSH, 0, 0, 0), 0);
        BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    }
    wd_cap_delete((wd_handle_t)report);
    wd_cap_delete((wd_handle_t)fault);
    nvme_down(&drv, device);
}

#define NVME_TEST_BAR_VA 0x720000000000ull
#define NVME_REG_VS 0x08
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1C

/* A revocation resets the controller (FLR) before anyone else gets it:
 * killed with its controller enabled, the driver leaves a device that is
 * BUSY for the reset's 100 ms, then has its BARs back (VS reads 1.4) and
 * its controller disabled (CC.EN = 0, CSTS.RDY = 0: the old queues are
 * gone). Then a new driver brings it up again. */
void test_nvme_revoke_resets_controller(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    if (!nvme_up(&drv, &device))
        return;
    struct wd_msg m;
    BT_OK(wd_process_kill(drv.process, 0));
    BT_CHECK_EQ(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, TIMEOUT), 0);
    long first = wd_device_config_read(device, 0, 4);
    if (first == -WD_E_BUSY)
        printf("# right after the revocation the device is BUSY (resetting)\n");
    else
        printf("# the device was no longer BUSY when first asked (%s): the test ran more than 100 ms later\n",
               first < 0 ? wd_error_name(first) : "its ID");
    long id = -WD_E_BUSY;
    for (int i = 0; i < 100 && id == -WD_E_BUSY; i++) {
        wd_thread_sleep(10 * BT_MS);
        id = wd_device_config_read(device, 0, 4);
    }
    BT_CHECK_EQ(id, (long)(NVME_VENDOR | NVME_DEVICE << 16));
    long frame = BT_OK(wd_device_bar_frame(device, 0));
    if (frame >= 0 && BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, NVME_TEST_BAR_VA, WD_PAGE_SIZE,
                                      WD_RIGHT_READ | WD_RIGHT_WRITE)) == 0) {
        volatile uint32_t *regs = (volatile uint32_t *)NVME_TEST_BAR_VA;
        BT_CHECK_EQ(regs[NVME_REG_VS / 4], 0x00010400);         /* BAR0 decodes again */
        BT_CHECK_EQ(regs[NVME_REG_CC / 4] & 1, 0);              /* the reset disabled the controller */
        BT_CHECK_EQ(regs[NVME_REG_CSTS / 4] & 1, 0);
        BT_OK(wd_vm_unmap(WD_NULL, NVME_TEST_BAR_VA, WD_PAGE_SIZE));
    }
    if (frame >= 0)
        wd_cap_delete((wd_handle_t)frame);
    wd_cap_delete(drv.process);
    wd_cap_delete(drv.fault_ep);
    /* A new driver brings the reset controller up and serves. */
    struct edu_driver again;
    if (driver_start(&again, "nvme", device, "")) {
        struct wd_client_session s;
        uint64_t block_size, blocks;
        if (nvme_open(again.client, &s, WD_RIGHT_READ | WD_RIGHT_WRITE, CAPACITY, &block_size, &blocks)) {
            BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 0, 4096, 0), 0);
            BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
        }
        nvme_down(&again, device);
    } else {
        wd_cap_delete(device);
    }
}

#define CRASH_WRITES 96u
#define CRASH_ROUNDS 3u

/* The driver is killed with writes in flight, CRASH_ROUNDS times; each
 * time a new driver comes up (as init's supervisor would start it) and
 * the client library reopens the session and submits again what did not
 * complete: every write completes exactly once, successfully, and the
 * disk holds the last round's data everywhere (a write of an earlier
 * round's dead driver landing later would show its older data). */
void test_nvme_driver_crash_mid_io(void)
{
    struct edu_driver drv;
    wd_handle_t device;
    struct wd_client_session s;
    uint64_t block_size;
    if (!nvme_up_open(&drv, &device, "", &s, 128, &block_size, NULL))
        return;
    uint64_t base = SCRATCH_BYTE / block_size, per = 4096 / block_size;
    struct wd_msg m;
    volatile uint8_t *region = s.region.cpu;
    static bool seen[CRASH_WRITES];
    for (unsigned round = 0; round < CRASH_ROUNDS; round++) {
        memset(seen, 0, sizeof seen);
        for (unsigned k = 0; k < CRASH_WRITES; k++) {
            fill(region + k * 4096ull, 4096, (uint8_t)(round * 64 + k));
            struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = NVME_BLK_WRITE, .id = k,
                                      .arg = base + k * per };
            BT_CHECK_EQ(wd_client_submit(&s, &d), 0);
        }
        BT_CHECK_EQ(wd_client_kick(&s), 0);
        unsigned done = 0, before_crash = 0;
        struct wd_ring_desc c;
        while (done < 4 && wd_client_wait(&s, &c, TIMEOUT) == 0) {     /* a few complete, the rest in flight */
            BT_CHECK(c.id < CRASH_WRITES && !seen[c.id] && c.status == 0);
            if (c.id < CRASH_WRITES)
                seen[c.id] = true;
            done++;
        }
        BT_OK(wd_process_kill(drv.process, 0));
        BT_CHECK_EQ(bt_wait_kernel_message(drv.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, TIMEOUT), 0);
        wd_cap_delete(drv.process);
        wd_cap_delete(drv.fault_ep);
        wd_cap_delete(drv.client);      /* the dead one's endpoint (and with it its pool) can go */
        long r;
        while ((r = wd_client_wait(&s, &c, TIMEOUT)) == 0) {           /* what it published before dying */
            BT_CHECK(c.id < CRASH_WRITES && !seen[c.id] && c.status == 0);
            if (c.id < CRASH_WRITES)
                seen[c.id] = true;
            done++;
        }
        BT_CHECK_EQ(r, -WD_E_DEAD);
        before_crash = done;
        if (!driver_start(&drv, "nvme", device, ""))
            break;
        uint64_t resubmitted = s.resubmitted;
        BT_CHECK_EQ(wd_client_reopen(&s, drv.client, TIMEOUT), 0);
        BT_CHECK_EQ(s.resubmitted - resubmitted, CRASH_WRITES - before_crash);
        while (done < CRASH_WRITES && (r = wd_client_wait(&s, &c, TIMEOUT)) == 0) {
            BT_CHECK(c.id < CRASH_WRITES && !seen[c.id]);              /* exactly once */
            BT_CHECK_EQ(c.status, 0);
            if (c.id < CRASH_WRITES)
                seen[c.id] = true;
            done++;
        }
        BT_CHECK_EQ(done, CRASH_WRITES);
        printf("# round %u: %u write(s) completed before the driver died, %u sent again to its successor\n", round,
               before_crash, CRASH_WRITES - before_crash);
    }
    /* The disk holds the last round everywhere. */
    memset((void *)region, 0, CRASH_WRITES * 4096ull);
    for (unsigned k = 0; k < CRASH_WRITES; k += 16)
        BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, k * 4096ull, 16 * 4096, base + k * per), 0);
    static uint8_t expected[4096];
    unsigned wrong = 0;
    for (unsigned k = 0; k < CRASH_WRITES; k++) {
        fill(expected, 4096, (uint8_t)((CRASH_ROUNDS - 1) * 64 + k));
        wrong += memcmp((const void *)(region + k * 4096ull), expected, 4096) != 0;
    }
    BT_CHECK_EQ(wrong, 0);
    BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    nvme_down(&drv, device);
}

/* Looks name up until it is a newer incarnation than generation (init's
 * supervisor restarts the driver with backoff); false if none came. */
static bool connect_newer(struct wd_service *svc, const char *name, uint64_t generation)
{
    for (int i = 0; i < 300; i++) {
        if (wd_service_connect(svc, wd_start_info->registry, name, 100 * BT_MS) == 0) {
            if (svc->generation > generation)
                return true;
            wd_service_close(svc);
        }
        wd_thread_sleep(10 * BT_MS);
    }
    return false;
}

/* The same crash through init's supervisor, as in the normal system: the
 * supervisor kills blk-style "nvme" mid-write and restarts it; the client
 * finds the new incarnation by name and its library resubmits; every write
 * completes once and lands; supervision stops with nothing left charged. */
void test_nvme_supervised_restart(void)
{
    struct wd_device_info info;
    if (!nvme_present(&info))
        return;
    wd_handle_t registry = wd_start_info->registry;
    char name[32], spec[WD_NAME_MAX + 1];
    snprintf(name, sizeof name, "blk-sup-%llu", (unsigned long long)wd_start_info->process_id);
    snprintf(spec, sizeof spec, "%s nvme", name);
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    long pool = BT_OK(wd_pool_create(bt_pool(), 8ull << 20));
    if (device < 0 || pool < 0 || BT_OK(wd_supervise_start(registry, spec, (wd_handle_t)device, (wd_handle_t)pool)) < 0)
        return;
    struct wd_service svc;
    if (!connect_newer(&svc, name, 0))
        BT_CHECK(false);
    struct wd_client_session s;
    uint64_t block_size;
    if (nvme_open(svc.endpoint, &s, WD_RIGHT_READ | WD_RIGHT_WRITE, 128, &block_size, NULL)) {
        uint64_t base = (SCRATCH_BYTE + 4 * MIB) / block_size;   /* in [16, 32) MiB */
        volatile uint8_t *region = s.region.cpu;
        for (unsigned k = 0; k < 64; k++) {
            fill(region + k * 4096ull, 4096, (uint8_t)(0x40 + k));
            struct wd_ring_desc d = { .offset = k * 4096ull, .length = 4096, .op = NVME_BLK_WRITE, .id = k,
                                      .arg = base + k * 4096 / block_size };
            BT_CHECK_EQ(wd_client_submit(&s, &d), 0);
        }
        BT_CHECK_EQ(wd_client_kick(&s), 0);
        BT_CHECK_EQ(wd_supervise_kill(registry, name), 0);
        static bool seen[64];
        unsigned done = 0;
        struct wd_ring_desc c;
        long r;
        while ((r = wd_client_wait(&s, &c, TIMEOUT)) == 0 && c.id < 64 && !seen[c.id]) {
            seen[c.id] = true;
            done++;
        }
        BT_CHECK_EQ(r, -WD_E_DEAD);
        uint64_t generation = svc.generation;
        wd_service_close(&svc);
        if (connect_newer(&svc, name, generation)) {
            BT_CHECK_EQ(wd_client_reopen(&s, svc.endpoint, TIMEOUT), 0);
            while (done < 64 && wd_client_wait(&s, &c, TIMEOUT) == 0) {
                BT_CHECK(c.id < 64 && !seen[c.id] && c.status == 0);
                if (c.id < 64)
                    seen[c.id] = true;
                done++;
            }
            BT_CHECK_EQ(done, 64);
            memset((void *)(region + (1u << 20)), 0, 64 * 4096);
            BT_CHECK_EQ(block_request(&s, NVME_BLK_READ, 1u << 20, 64 * 4096, base), 0);
            BT_CHECK(memcmp((const void *)(region + (1u << 20)), (const void *)region, 64 * 4096) == 0);
            struct wd_service_status st;
            BT_OK(wd_supervise_status(registry, name, &st));
            BT_CHECK_EQ(st.generation, 2);
            BT_CHECK_EQ(st.deaths, 1);
        } else {
            BT_CHECK(false);                    /* no new incarnation */
        }
        BT_CHECK_EQ(wd_client_close(&s, TIMEOUT), 0);
    }
    wd_service_close(&svc);
    BT_CHECK_EQ(wd_supervise_stop(registry, name), 0);
    struct wd_pool_info left;
    BT_OK(wd_pool_info((wd_handle_t)pool, &left));
    BT_CHECK_EQ(left.used, 0);
    wd_cap_delete((wd_handle_t)pool);
    wd_cap_delete((wd_handle_t)device);
}
