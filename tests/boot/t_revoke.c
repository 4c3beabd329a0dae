/*
 * t_revoke.c - the revocation contract of DESIGN.md §5, seen from a
 * supervisor: when a device's owner dies (any way) or loses its last
 * device capability while alive, the device is silenced (bus mastering
 * off, interrupts unhooked), its DMA mappings become unreachable (context
 * cleared, IOTLB flushed) before their frames are released, and the
 * supervisor's EXIT or REVOKED message says what was taken away.
 *
 * Owns the "revoke-owner" helper role. Every test needs edu behind an
 * IOMMU and skips without one. edu facts as in t_dma.c: a transfer takes
 * 100 ms of device time; with bus mastering off QEMU drops it silently.
 */
#include <string.h>
#include <warden/spawn.h>
#include <warden/thread.h>

#include "boot_tests.h"
#include "edu_protocol.h"
#include "t_dma.h"

#define OWNER_BADGE 0x5E7               /* the revoke-owner helper's faults and exit */
#define READY_LABEL 0x5E1               /* revoke-owner -> test: it owns edu; w0 its domain ID, w1 BAR0 VA */
#define OWNER_IOVA 0x2000000ull         /* where revoke-owner maps its frame (edu's mask: < 256 MiB) */
#define OWNER_PAGES 16
#define OWNER_MAPPINGS 4                /* the frame, mapped in four pieces */
#define OWNER_FLOOD_IOVA 0x3000000ull   /* never mapped */
#define KILL_STATUS 0x6B

/* ---- the revoke-owner helper role ---- */

/* Maps a 16-page frame at OWNER_IOVA in OWNER_MAPPINGS pieces. */
static bool owner_map_frame(struct edu *e)
{
    const uint64_t piece = OWNER_PAGES / OWNER_MAPPINGS * WD_PAGE_SIZE;
    long frame = wd_frame_create(wd_start_info->pool, OWNER_PAGES * WD_PAGE_SIZE, 0);
    for (unsigned i = 0; frame >= 0 && i < OWNER_MAPPINGS; i++)
        if (wd_dma_map(e->dmaspace, (wd_handle_t)frame, i * piece, OWNER_IOVA + i * piece, piece,
                       WD_RIGHT_READ | WD_RIGHT_WRITE) < 0)
            return false;
    return frame >= 0;
}

/* edu's interrupt: MSI where the IOMMU remaps interrupts, else INTx. */
static long owner_irq(struct edu *e)
{
    long irq = wd_irq_create(e->device, WD_IRQ_MSI(0));
    if (irq == -WD_E_NO_IOMMU || irq == -WD_E_NOT_SUPPORTED)
        irq = wd_irq_create(e->device, WD_IRQ_INTX);
    return irq;
}

/* Device writes to an unmapped IOVA until the kernel turns bus mastering off. */
static void owner_flood(struct edu *e)
{
    for (int i = 0; i < 3 * WD_DMA_FAULT_FLOOD && (wd_device_config_read(e->device, 4, 2) & 4); i++)
        edu_dma(e, OWNER_FLOOD_IOVA, 64, true);
}

/* Helper role "revoke-owner <death> [warm]": caps[0] = edu, caps[1] = an
 * endpoint of the test. Takes edu (attach, BAR, bus mastering), maps its
 * frame, with "warm" lets the device write through OWNER_IOVA once (the
 * IOTLB caches it), creates edu's interrupt, sends READY_LABEL and then:
 * "exit" exits with status 7, "sleep" waits to be killed, "flood" makes
 * the device fault until it is quiesced and waits, "bar-after-revoke"
 * reads BAR0 once its device capability is gone (status 8 if that works),
 * any other death is a
 * bt_fault_on_purpose kind (the thread faults and waits for its supervisor). */
int bt_revoke_owner_main(const wd_handle_t *caps, const char *death, const char *option)
{
    struct edu e = { .device = caps[0] };
    if (!edu_take_as_helper(&e) || !owner_map_frame(&e))
        return 3;
    if (strcmp(option, "warm") == 0 && !edu_dma(&e, OWNER_IOVA, 64, true))
        return 4;
    struct wd_device_info info;
    if (owner_irq(&e) < 0 || wd_device_info(e.device, &info) < 0)
        return 5;
    struct wd_msg ready = { .info = wd_msg_info(READY_LABEL, 2, 0), .w = { info.domain_id, (uint64_t)e.bar } };
    if (wd_send(caps[1], &ready, WD_FOREVER) < 0)
        return 6;
    if (strcmp(death, "exit") == 0)
        wd_process_exit(7);
    if (strcmp(death, "bar-after-revoke") == 0) {
        while (wd_device_info(e.device, &info) == 0)    /* until the test revokes the device */
            wd_thread_sleep(5 * BT_MS);
        (void)*(volatile uint32_t *)e.bar;              /* must fault: the BAR went with it */
        return 8;
    }
    if (strcmp(death, "flood") == 0)
        owner_flood(&e);
    else if (strcmp(death, "sleep") != 0)
        return bt_fault_on_purpose(death);
    for (;;)
        wd_thread_sleep(1000 * BT_MS);
}

/* ---- the test side ---- */

/* edu, as a test finds it before giving it to an owner. */
struct target {
    struct wd_device_info info;
    wd_handle_t device;             /* this test's capability */
    uint64_t live_irqs;             /* irq objects alive before the owner took it */
};

/* Finds and opens edu behind an IOMMU; false (skipped) without one. */
static bool target_open(struct target *t)
{
    memset(t, 0, sizeof *t);
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &t->info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return false;
    }
    struct wd_irq_stats irqs;
    BT_OK(wd_irq_stats(&irqs));
    t->live_irqs = irqs.live_irqs;
    long d = BT_OK(wd_device_open(dma_device_root(), t->info.address));
    t->device = d < 0 ? WD_NULL : (wd_handle_t)d;
    return d >= 0;
}

struct owner {
    struct target edu;
    wd_handle_t ep;                 /* its faults and exit (OWNER_BADGE) and its READY message */
    wd_handle_t process;
    uint64_t pid;
    uint32_t domain_id;             /* of the dmaspace it attached edu to */
    uint64_t bar_va;                /* where it mapped edu's BAR0 */
};

/* Finds and opens edu and makes the endpoint for an owner; false (skipped
 * or failed) when the test cannot go on. */
static bool owner_prepare(struct owner *o)
{
    memset(o, 0, sizeof *o);
    if (!target_open(&o->edu))
        return false;
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    o->ep = ep < 0 ? WD_NULL : (wd_handle_t)ep;
    return ep >= 0;
}

/* Starts "revoke-owner <args>" paid by pool and waits until it owns edu. */
static bool owner_spawn(struct owner *o, wd_handle_t pool, const char *args)
{
    char role[64];
    snprintf(role, sizeof role, "revoke-owner %s", args);
    wd_handle_t caps[2] = { o->edu.device, o->ep };
    o->process = bt_spawn_helper_in(pool, role, caps, 2, o->ep, OWNER_BADGE);
    struct wd_cap_info info;
    struct wd_msg ready;
    if (!o->process || BT_OK(wd_cap_info(o->process, &info)) < 0 || BT_OK(wd_recv(o->ep, &ready, 3000 * BT_MS)) < 0)
        return false;
    BT_CHECK_EQ(wd_msg_label(ready.info), READY_LABEL);    /* an EXIT here: w2 is the helper's status */
    if (wd_msg_label(ready.info) != READY_LABEL) {
        printf("# revoke-owner %s: w2 = %lld\n", args, (long long)ready.w[2]);
        return false;
    }
    o->pid = info.object_id;
    o->domain_id = (uint32_t)ready.w[0];
    o->bar_va = ready.w[1];
    BT_CHECK(o->domain_id != 0);
    return true;
}

static bool owner_start(struct owner *o, const char *args)
{
    return owner_prepare(o) && owner_spawn(o, bt_pool(), args);
}

/* The revocation words of an EXIT or REVOKED message (w4..w7). */
static void expect_revoked(const struct wd_msg *m, uint64_t groups, uint64_t min_mappings, uint64_t irqs,
                           uint64_t address)
{
    BT_CHECK_EQ(m->w[4], groups);
    BT_CHECK(m->w[5] >= min_mappings);
    BT_CHECK_EQ(m->w[6], irqs);
    BT_CHECK_EQ(m->w[7], address);
}

/* Waits for the owner's EXIT: its pid, status and reason, and that its
 * death revoked edu with all the owner had: OWNER_MAPPINGS mappings, one
 * interrupt. Then edu must be released. */
static void owner_expect_exit(struct owner *o, struct wd_msg *m, int64_t status, uint64_t reason)
{
    if (BT_OK(bt_wait_kernel_message(o->ep, WD_LABEL_EXIT, OWNER_BADGE, m, 3000 * BT_MS)) == 0) {
        BT_CHECK_EQ(m->w[1], o->pid);
        BT_CHECK_EQ(m->w[2], status);
        BT_CHECK_EQ(m->w[3], reason);
        expect_revoked(m, 1, OWNER_MAPPINGS, 1, o->edu.info.address);
        BT_CHECK_EQ(m->w[5], OWNER_MAPPINGS);
    }
    device_expect_released(o->edu.device, o->edu.live_irqs);
}

static void owner_kill(struct owner *o, struct wd_msg *exit_msg)
{
    BT_OK(wd_process_kill(o->process, KILL_STATUS));
    owner_expect_exit(o, exit_msg, KILL_STATUS, WD_EXIT_KILLED);
}

/* ---- 1: killed in the middle of a DMA ---- */

struct dma_caller {
    wd_handle_t client, frame;
    volatile long result;           /* 1 while the call runs */
};

static void dma_caller_main(void *arg)
{
    struct dma_caller *c = arg;
    c->result = edu_dma_request(c->client, EDU_OP_FROM_DEVICE, c->frame, 0, TRANSFER, 0);
}

/* The edu driver is killed 30 ms into a 100 ms device-to-RAM transfer into
 * a client's frame: the client's call fails with DEAD, the EXIT names what
 * was revoked (the frame's mapping included), and the transfer never
 * lands: bus mastering went off and the mapping went before it was due. */
void test_revoke_kill_mid_dma(void)
{
    struct target t;
    if (!target_open(&t))
        return;
    struct edu_driver driver;
    wd_handle_t pattern_frame, target_frame;
    volatile uint8_t *pattern = dma_buffer(&pattern_frame, BUF_VA, 4096, 0);
    volatile uint8_t *target = dma_buffer(&target_frame, BUF_VA + 0x10000, 4096, 0);
    if (!pattern || !target || !edu_driver_start(&driver, t.device, ""))
        return;
    fill(pattern, 4096, 0x21);
    memset((void *)target, 0x5A, 4096);
    BT_CHECK_EQ(edu_dma_request(driver.client, EDU_OP_TO_DEVICE, pattern_frame, 0, TRANSFER, 0), 0);
    static struct dma_caller caller;
    caller = (struct dma_caller){ .client = driver.client, .frame = target_frame, .result = 1 };
    BT_OK(wd_thread_start(dma_caller_main, &caller, WD_PRIORITY_DEFAULT));
    wd_thread_sleep(30 * BT_MS);
    BT_OK(wd_process_kill(driver.process, KILL_STATUS));
    struct wd_msg m;
    BT_CHECK_EQ(bt_wait_kernel_message(driver.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, 2000 * BT_MS), 0);
    BT_CHECK_EQ(m.w[1], driver.pid);
    BT_CHECK_EQ(m.w[3], WD_EXIT_KILLED);
    /* Two mappings at least: its own buffer and the client frame of the
     * transfer in flight (mapped only during a transfer). */
    expect_revoked(&m, 1, 2, 1, t.info.address);
    for (int i = 0; i < 100 && caller.result == 1; i++)
        wd_thread_sleep(10 * BT_MS);
    BT_CHECK_EQ(caller.result, -WD_E_DEAD);
    wd_thread_sleep(300 * BT_MS);                      /* the transfer was due 70 ms after the kill */
    BT_CHECK(all_equal(target, 4096, 0x5A));
    device_expect_released(t.device, t.live_irqs);
}

/* ---- 2: the dead owner's IOVAs are gone from the IOTLB ---- */

/* The owner lets edu write through OWNER_IOVA (the IOTLB caches it) and is
 * killed; a new owner attaches edu to a space prepared beforehand (so a
 * different domain ID: stale IOTLB entries of the old one would still
 * match the device) and points a write at OWNER_IOVA: it must fault. */
void test_revoke_old_iova_faults(void)
{
    struct owner o;
    if (!owner_start(&o, "sleep warm"))
        return;
    struct wd_device_info now;
    BT_OK(wd_device_info(o.edu.device, &now));
    BT_CHECK_EQ(now.domain_id, o.domain_id);
    BT_CHECK_EQ(now.owner_pid, o.pid);
    long space = BT_OK(wd_dmaspace_create(bt_pool()));
    struct wd_msg m;
    owner_kill(&o, &m);
    struct edu e;
    if (space < 0 || !edu_open(&e, false))
        return;
    e.dmaspace = (wd_handle_t)space;
    BT_OK(wd_dma_attach(e.device, e.dmaspace));
    e.fault_ep = (wd_handle_t)BT_OK(wd_endpoint_create(bt_pool()));
    BT_OK(wd_device_fault_bind(e.device, e.fault_ep, FAULT_BADGE));
    BT_OK(wd_device_info(e.device, &now));
    BT_CHECK(now.domain_id != 0 && now.domain_id != o.domain_id);
    edu_dma(&e, OWNER_IOVA, 64, true);
    if (BT_OK(bt_wait_kernel_message(e.fault_ep, WD_LABEL_DMA_FAULT, FAULT_BADGE, &m, 2000 * BT_MS)) == 0) {
        BT_CHECK_EQ(m.w[2], OWNER_IOVA);
        BT_CHECK(m.w[4] & WD_DMA_FAULT_WRITE);
        BT_CHECK_EQ(m.w[5], wd_start_info->process_id);
        BT_CHECK_EQ(m.w[6], o.edu.info.address);
    }
    BT_OK(wd_dma_detach(e.device));
}

/* ---- 3: frames go back only after the flush ---- */

/* A process's first spawn grows its own page tables (the loader's scratch
 * mappings) for good; spawning once first keeps them out of a comparison
 * of free memory (the runner does the same). */
static void spawn_warm_up(wd_handle_t ep)
{
    wd_handle_t helper = bt_spawn_helper("exit", NULL, 0, ep, OWNER_BADGE + 1);
    struct wd_msg m;
    BT_CHECK_EQ(bt_wait_kernel_message(ep, WD_LABEL_EXIT, OWNER_BADGE + 1, &m, 3000 * BT_MS), 0);
    bt_release_helper(helper);
}

/* The owner's mapped frames are released after the last invalidation wait
 * of its revocation (the kernel's order stamps say so), exactly one frame
 * reference per revoked mapping, and every byte it had returns: its pool
 * and free memory are back where they were before it started. */
void test_revoke_frames_after_flush(void)
{
    struct owner o;
    long pool = BT_OK(wd_pool_create(bt_pool(), 4ull << 20));
    if (pool < 0 || !owner_prepare(&o))
        return;
    spawn_warm_up(o.ep);
    struct wd_system_info sys_before, sys;
    struct wd_pool_info pool_before, pool_now;
    BT_OK(wd_system_info(&sys_before));
    BT_OK(wd_pool_info((wd_handle_t)pool, &pool_before));
    if (!owner_spawn(&o, (wd_handle_t)pool, "sleep"))
        return;
    struct wd_msg m;
    owner_kill(&o, &m);
    bt_release_helper(o.process);                       /* the process object goes too */
    BT_OK(wd_system_info(&sys));
    BT_OK(wd_pool_info((wd_handle_t)pool, &pool_now));
    BT_CHECK_EQ(sys.revoke_pid, o.pid);
    BT_CHECK_EQ(sys.revocations, sys_before.revocations + 1);
    BT_CHECK(sys.revoke_flush_stamp != 0);
    BT_CHECK(sys.revoke_release_stamp > sys.revoke_flush_stamp);
    BT_CHECK_EQ(sys.dma_frames_released - sys_before.dma_frames_released, m.w[5]);
    BT_CHECK_EQ(sys.free_frames, sys_before.free_frames);
    BT_CHECK_EQ(pool_now.used, pool_before.used);
}

/* ---- 4: every way to die revokes the same ---- */

/* One owner per death: a write fault and an invalid instruction (its
 * supervisor, this test, kills it), exit(7), and a kill while it sleeps. */
void test_revoke_every_death_cause(void)
{
    static const struct {
        const char *death;
        uint64_t vector;            /* of the FAULT message; 0: none */
        int64_t status;
        uint64_t reason;
    } deaths[] = {
        { "nullwrite", 14, KILL_STATUS, WD_EXIT_KILLED },
        { "ud", 6, KILL_STATUS, WD_EXIT_KILLED },
        { "exit", 0, 7, WD_EXIT_NORMAL },
        { "sleep", 0, KILL_STATUS, WD_EXIT_KILLED },
    };
    for (unsigned i = 0; i < sizeof deaths / sizeof deaths[0]; i++) {
        struct owner o;
        if (!owner_start(&o, deaths[i].death))
            return;
        printf("# death: %s\n", deaths[i].death);
        struct wd_msg m;
        if (deaths[i].vector) {
            BT_CHECK_EQ(bt_wait_kernel_message(o.ep, WD_LABEL_FAULT, OWNER_BADGE, &m, 3000 * BT_MS), 0);
            BT_CHECK_EQ(m.w[2], deaths[i].vector);
            BT_CHECK_EQ(m.w[6], o.pid);
        }
        if (deaths[i].reason == WD_EXIT_KILLED)
            BT_OK(wd_process_kill(o.process, KILL_STATUS));
        owner_expect_exit(&o, &m, deaths[i].status, deaths[i].reason);
        bt_release_helper(o.process);
    }
}

/* ---- 5: a live owner loses its device capability ---- */

/* A factorial request to a driver that lost its device: its reply's w0 or
 * the IPC error. A driver may wait for an interrupt that will never come,
 * so the call gets far less than EDU_CALL_TIMEOUT_NS (a live factorial
 * takes well under a millisecond). */
static long revoked_driver_factorial(wd_handle_t client)
{
    struct wd_msg msg = { .info = wd_msg_info(EDU_OP_FACTORIAL, 1, 0), .w = { 5 } };
    long r = wd_call(client, &msg, 500 * BT_MS);
    return r < 0 ? r : (long)msg.w[0];
}

/* The edu driver holds a copy derived from this test's device capability;
 * revoking the test's capability takes the device from the running
 * driver: REVOKED (not EXIT) names what went, the device is quiet, the
 * driver lives on but its requests fail. Its later death revokes nothing. */
void test_revoke_live_device_cap(void)
{
    struct target t;
    if (!target_open(&t))
        return;
    struct wd_cap_info rights;
    BT_OK(wd_cap_info(t.device, &rights));
    long copy = BT_OK(wd_cap_copy(t.device, WD_NULL, rights.rights, 0));
    struct edu_driver driver;
    if (copy < 0 || !edu_driver_start(&driver, (wd_handle_t)copy, ""))
        return;
    struct wd_msg m;
    BT_CHECK_EQ(edu_request(driver.client, EDU_OP_FACTORIAL, 5, &m), 120);
    BT_CHECK_EQ(wd_cap_revoke(t.device), 2);              /* the copy and the driver's */
    if (BT_OK(bt_wait_kernel_message(driver.fault_ep, WD_LABEL_REVOKED, EDU_DRIVER_BADGE, &m, 1000 * BT_MS)) == 0) {
        BT_CHECK_EQ(m.w[1], driver.pid);
        BT_CHECK_EQ(m.w[2], 0);
        BT_CHECK_EQ(m.w[3], 0);
        expect_revoked(&m, 1, 1, 1, t.info.address);
    }
    device_expect_released(t.device, t.live_irqs);
    BT_CHECK_EQ(revoked_driver_factorial(driver.client), -WD_E_DEAD);     /* wd_driver_check, no wait */
    BT_CHECK_EQ(wd_recv(driver.fault_ep, &m, 200 * BT_MS), -WD_E_TIMEOUT);   /* no FAULT, no EXIT */
    BT_OK(wd_process_kill(driver.process, KILL_STATUS));
    BT_CHECK_EQ(bt_wait_kernel_message(driver.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, 2000 * BT_MS), 0);
    expect_revoked(&m, 0, 0, 0, 0);
    BT_CHECK_EQ(m.w[5], 0);
    BT_CHECK_EQ(edu_request(driver.client, EDU_OP_FACTORIAL, 5, &m), -WD_E_DEAD);   /* its endpoint closed */
}

/* A live owner whose device is revoked loses its mappings of the device's
 * registers too: through them it could start DMA into the next owner's
 * IOVAs. Its next register read page-faults at the BAR address. */
void test_revoke_live_unmaps_bars(void)
{
    struct owner o;
    if (!owner_start(&o, "bar-after-revoke"))
        return;
    BT_CHECK(o.bar_va != 0);
    BT_CHECK_EQ(wd_cap_revoke(o.edu.device), 2);        /* the owner's copy and the BAR frame it took */
    struct wd_msg m;
    if (BT_OK(bt_wait_kernel_message(o.ep, WD_LABEL_REVOKED, OWNER_BADGE, &m, 1000 * BT_MS)) == 0) {
        BT_CHECK_EQ(m.w[1], o.pid);
        expect_revoked(&m, 1, OWNER_MAPPINGS, 1, o.edu.info.address);
    }
    if (BT_OK(bt_wait_kernel_message(o.ep, WD_LABEL_FAULT, OWNER_BADGE, &m, 2000 * BT_MS)) == 0) {
        BT_CHECK_EQ(m.w[2], 14);                          /* #PF */
        BT_CHECK_EQ(m.w[4], o.bar_va);                    /* CR2: the register it read */
    }
    device_expect_released(o.edu.device, o.edu.live_irqs);
    BT_OK(wd_process_kill(o.process, KILL_STATUS));
    BT_CHECK_EQ(bt_wait_kernel_message(o.ep, WD_LABEL_EXIT, OWNER_BADGE, &m, 2000 * BT_MS), 0);
    expect_revoked(&m, 0, 0, 0, 0);
    /* Nor can it map them again: BAR frame capabilities derive from the
     * device capability they came from, and go with it. */
    long copy = BT_OK(wd_cap_copy(o.edu.device, WD_NULL, WD_RIGHT_MAP | WD_RIGHT_READ, 0));
    long bar = copy < 0 ? copy : BT_OK(wd_device_bar_frame((wd_handle_t)copy, 0));
    BT_CHECK_EQ(wd_cap_revoke(o.edu.device), 2);        /* the copy and its BAR frame */
    struct wd_cap_info info;
    BT_CHECK_EQ(wd_cap_info((wd_handle_t)bar, &info), -WD_E_STALE_HANDLE);
}

/* ---- 6: a flooding owner is quiesced, then revoked ---- */

/* A helper-owned edu that floods DMA faults: its supervisor hears each
 * fault (owner pid, edu's address), the last one marked QUIESCED; killing
 * the owner then releases the quiesced device like any other, and the
 * next owner's attach lifts the quiescing (bus mastering may go on). */
void test_revoke_flooding_owner(void)
{
    struct owner o;
    if (!owner_start(&o, "flood"))
        return;
    struct wd_msg m;
    uint64_t flags = 0;
    for (int i = 0; i <= 2 * WD_DMA_FAULT_FLOOD && !(flags & WD_DMA_FAULT_QUIESCED); i++) {
        if (BT_OK(bt_wait_kernel_message(o.ep, WD_LABEL_DMA_FAULT, OWNER_BADGE, &m, 2000 * BT_MS)) < 0)
            break;
        flags = m.w[4];
        BT_CHECK_EQ(m.w[2], OWNER_FLOOD_IOVA);
        BT_CHECK_EQ(m.w[5], o.pid);
        BT_CHECK_EQ(m.w[6], o.edu.info.address);
    }
    BT_CHECK(flags & WD_DMA_FAULT_QUIESCED);
    struct wd_device_info info;
    BT_OK(wd_device_info(o.edu.device, &info));
    BT_CHECK(info.flags & WD_DEVICE_QUIESCED);
    owner_kill(&o, &m);
    long space = BT_OK(wd_dmaspace_create(bt_pool()));
    if (space < 0 || BT_OK(wd_dma_attach(o.edu.device, (wd_handle_t)space)) < 0)
        return;
    BT_OK(wd_device_config_write(o.edu.device, 4, 2, 0x6));
    BT_OK(wd_device_info(o.edu.device, &info));
    BT_CHECK(!(info.flags & WD_DEVICE_QUIESCED));
    BT_OK(wd_dma_detach(o.edu.device));
}
