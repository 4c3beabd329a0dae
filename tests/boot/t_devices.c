/*
 * t_devices.c - who may do what with a device: config-space mediation,
 * rights and ownership between processes, the user-space edu driver
 * serving requests over IPC, and DMA faults reaching the owner's
 * supervisor.
 */
#include <string.h>

#include "boot_tests.h"
#include "edu_protocol.h"
#include "t_dma.h"

void test_device_config_mediation(void)
{
    struct edu e;
    if (!edu_open(&e, false))
        return;
    BT_CHECK_EQ(wd_device_config_read(e.device, 0, 2), EDU_VENDOR);
    BT_CHECK_EQ(wd_device_config_read(e.device, 2, 2), EDU_DEVICE);
    BT_CHECK_EQ(wd_device_config_read(e.device, 0, 4), (EDU_DEVICE << 16) | EDU_VENDOR);
    uint64_t bar0 = (uint64_t)wd_device_config_read(e.device, 0x10, 4);
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x10, 4, 0xFFFFFFFF), -WD_E_PROTECTED);    /* BAR0 */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x24, 4, 0), -WD_E_PROTECTED);             /* BAR5 */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x30, 4, 0), -WD_E_PROTECTED);             /* ROM */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x12, 1, 0), -WD_E_PROTECTED);             /* a byte of BAR0 */
    BT_CHECK_EQ((uint64_t)wd_device_config_read(e.device, 0x10, 4), bar0);
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x40, 4, 0), -WD_E_PROTECTED);             /* MSI capability */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x44, 4, 0xFEE00000), -WD_E_PROTECTED);    /* MSI address */
    BT_CHECK_EQ(wd_device_config_write(e.device, 0x42, 2, 1), -WD_E_PROTECTED);             /* MSI enable */
    BT_CHECK_EQ(wd_device_config_read(e.device, 4, 3), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_device_config_read(e.device, 4096, 4), -WD_E_RANGE);
    BT_CHECK_EQ(wd_device_config_read(e.device, 2, 4), -WD_E_UNALIGNED);
    BT_CHECK_EQ(wd_device_config_write(e.device, 4, 2, 0x10000), -WD_E_INVALID_ARG);        /* wider than 2 bytes */
    /* The command register is the driver's: memory decode off and on again. */
    long command = BT_OK(wd_device_config_read(e.device, 4, 2));
    BT_OK(wd_device_config_write(e.device, 4, 2, (uint64_t)command & ~2ull));
    BT_CHECK_EQ(wd_device_config_read(e.device, 4, 2) & 2, 0);
    BT_OK(wd_device_config_write(e.device, 4, 2, (uint64_t)command));
    BT_CHECK_EQ(*(volatile uint32_t *)(e.bar + EDU_REG_ID), 0x010000ED);
    /* Without WRITE, READ or MAP on the capability. */
    long ro = BT_OK(wd_cap_copy(e.device, WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_device_config_write((wd_handle_t)ro, 4, 2, (uint64_t)command), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_device_bar_frame((wd_handle_t)ro, 0), -WD_E_NO_RIGHTS);
    long wo = BT_OK(wd_cap_copy(e.device, WD_NULL, WD_RIGHT_WRITE, 0));
    BT_CHECK_EQ(wd_device_config_read((wd_handle_t)wo, 0, 4), -WD_E_NO_RIGHTS);
    /* BARs: only existing memory BARs. */
    BT_CHECK_EQ(wd_device_bar_frame(e.device, 6), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_device_bar_frame(e.device, 1), -WD_E_NOT_FOUND);
    struct wd_frame_info fi;
    long bar = BT_OK(wd_device_bar_frame(e.device, 0));
    BT_OK(wd_frame_info((wd_handle_t)bar, &fi));
    BT_CHECK(fi.flags & WD_FRAME_MMIO);
    BT_CHECK_EQ(fi.size, e.info.bars[0].size);
    /* Bridges: everything past command/status belongs to the kernel. */
    wd_handle_t root = dma_device_root();
    struct wd_device_info d;
    for (uint64_t i = 0; wd_device_list(root, i, &d) == 0; i++) {
        if (!(d.flags & WD_DEVICE_BRIDGE))
            continue;
        long b = BT_OK(wd_device_open(root, d.address));
        BT_CHECK_EQ(wd_device_config_write((wd_handle_t)b, 0x18, 4, 0), -WD_E_PROTECTED);  /* bus numbers */
        BT_CHECK_EQ(wd_device_config_write((wd_handle_t)b, 0x20, 4, 0), -WD_E_PROTECTED);  /* memory window */
        break;
    }
    /* Device root: no CONTROL, no opening; bad addresses. */
    long listonly = BT_OK(wd_cap_copy(root, WD_NULL, WD_RIGHT_READ, 0));
    BT_CHECK_EQ(wd_device_open((wd_handle_t)listonly, e.info.address), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(wd_device_open(root, 1ull << 40), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(wd_device_open(root, WD_PCI_ADDRESS(0, 0xFE, 31, 7)), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_device_list(root, 100000, &d), -WD_E_NOT_FOUND);
    BT_CHECK_EQ(wd_device_open(e.device, e.info.address), -WD_E_WRONG_TYPE);
}

/* Helper role: caps[0] a device capability, caps[1] an endpoint. Tries every
 * device call and sends the results (w0..w6) in one message. */
int bt_device_user_main(const wd_handle_t *caps)
{
    wd_handle_t device = caps[0];
    struct wd_msg msg = { 0 };
    long ds = wd_dmaspace_create(wd_start_info->pool);
    msg.w[0] = (uint64_t)wd_dma_attach(device, ds < 0 ? WD_NULL : (wd_handle_t)ds);
    msg.w[1] = (uint64_t)wd_device_config_read(device, 0, 4);
    msg.w[2] = (uint64_t)wd_device_config_write(device, 4, 2, 0);
    msg.w[3] = (uint64_t)wd_device_bar_frame(device, 0);
    msg.w[4] = (uint64_t)wd_dma_detach(device);
    msg.w[5] = (uint64_t)wd_device_fault_bind(device, WD_NULL, 0);
    struct wd_device_info info;
    msg.w[6] = (uint64_t)wd_device_info(device, &info);
    msg.w[7] = info.flags;
    msg.info = wd_msg_info(1, 8, 0);
    wd_call(caps[1], &msg, WD_FOREVER);
    return 0;
}

static void run_device_user(wd_handle_t device, struct wd_msg *out)
{
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t caps[2] = { device, (wd_handle_t)ep };
    bt_spawn_helper("device-user", caps, 2, WD_NULL, 0);
    BT_CHECK_EQ(wd_recv((wd_handle_t)ep, out, 5000 * BT_MS), 0);
    struct wd_msg reply = { .info = wd_msg_info(0, 0, 0) };
    wd_reply(&reply);
}

void test_device_ownership(void)
{
    struct edu e;
    if (!edu_open(&e, true))
        return;
    /* Another process holding a full copy of the device capability. */
    struct wd_msg m;
    run_device_user(e.device, &m);
    BT_CHECK_EQ(m.w[0], -WD_E_NOT_OWNER);           /* attach */
    BT_CHECK_EQ(m.w[1], -WD_E_NOT_OWNER);           /* config read */
    BT_CHECK_EQ(m.w[2], -WD_E_NOT_OWNER);           /* config write */
    BT_CHECK_EQ(m.w[3], -WD_E_NOT_OWNER);           /* BAR */
    BT_CHECK_EQ(m.w[4], -WD_E_NOT_OWNER);           /* detach */
    BT_CHECK_EQ(m.w[5], -WD_E_NOT_OWNER);           /* fault binding */
    BT_CHECK_EQ(m.w[6], 0);                         /* it may still look */
    BT_CHECK((m.w[7] & WD_DEVICE_OWNED) && !(m.w[7] & WD_DEVICE_MINE));
    /* A copy without rights cannot do anything either, even once unowned. */
    BT_OK(wd_dma_detach(e.device));
    long none = BT_OK(wd_cap_copy(e.device, WD_NULL, WD_RIGHT_GRANT, 0));
    run_device_user((wd_handle_t)none, &m);
    for (int i = 0; i < 6; i++)
        BT_CHECK_EQ(m.w[i], -WD_E_NO_RIGHTS);
    /* Revoked: the copy another process holds goes stale. */
    long parent = BT_OK(wd_cap_copy(e.device, WD_NULL, WD_RIGHT_READ | WD_RIGHT_GRANT, 0));
    long check_ep = BT_OK(wd_endpoint_create(bt_pool()));
    wd_handle_t check_caps[2] = { (wd_handle_t)check_ep, (wd_handle_t)parent };
    bt_spawn_helper("capcheck", check_caps, 2, WD_NULL, 0);
    struct wd_msg q = { .info = wd_msg_info(1, 0, 0) };
    BT_CHECK_EQ(wd_call((wd_handle_t)check_ep, &q, 5000 * BT_MS), 0);
    BT_CHECK_EQ(q.w[0], 0);                         /* the helper's copy works */
    BT_CHECK_EQ(wd_cap_revoke((wd_handle_t)parent), 1);
    q.info = wd_msg_info(1, 0, 0);
    BT_CHECK_EQ(wd_call((wd_handle_t)check_ep, &q, 5000 * BT_MS), 0);
    BT_CHECK((long)q.w[0] == -WD_E_STALE_HANDLE || (long)q.w[0] == -WD_E_BAD_HANDLE);
    /* Unowned again: the first attach wins, the second is refused. */
    BT_OK(wd_dma_attach(e.device, e.dmaspace));
    long other = BT_OK(wd_dmaspace_create(bt_pool()));
    BT_CHECK_EQ(wd_dma_attach(e.device, (wd_handle_t)other), -WD_E_EXISTS);
}

/* One run of the user-space edu driver (drivers/edu), started the way
 * devmgr starts it: only its device capability and a sub-pool; with
 * "intx" on its command line it must use its INTx pin instead of MSI. It
 * must serve factorial and DMA requests over IPC (it learns that each is
 * done from an interrupt message, holding an interrupt source while it
 * runs), and lose the device and the source when it dies. */
static void edu_driver_run(wd_handle_t device, bool intx)
{
    struct wd_irq_stats irqs_before, irqs;
    BT_OK(wd_irq_stats(&irqs_before));
    struct edu_driver driver;
    if (!edu_driver_start(&driver, device, intx ? "intx" : ""))
        return;
    wd_handle_t edu = driver.client;
    BT_OK(wd_irq_stats(&irqs));
    BT_CHECK_EQ(irqs.live_irqs, irqs_before.live_irqs + 1);            /* the driver's interrupt */
    struct wd_msg reply;
    BT_CHECK_EQ(edu_request(edu, EDU_OP_ID, 0x12345678, &reply), EDU_ID_VALUE);
    BT_CHECK_EQ(reply.w[1], 0xEDCBA987);
    BT_CHECK_EQ(edu_request(edu, EDU_OP_FACTORIAL, 10, &reply), 3628800);
    BT_CHECK_EQ(edu_request(edu, EDU_OP_FACTORIAL, 13, &reply), -WD_E_INVALID_ARG);
    BT_CHECK_EQ(edu_request(edu, EDU_OP_FACTORIAL, 0, &reply), 1);
    BT_CHECK_EQ(edu_request(edu, EDU_OP_FACTORIAL, 12, &reply), 479001600);
    wd_handle_t src, dst;
    uint64_t va = BUF_VA + (intx ? 0x100000 : 0);
    volatile uint8_t *a = dma_buffer(&src, va, 8192, 0);
    volatile uint8_t *b = dma_buffer(&dst, va + 0x10000, 8192, 0);
    if (!a || !b)
        return;
    fill(a, 8192, intx ? 0x43 : 0x21);
    memset((void *)b, 0, 8192);
    /* 3000 bytes that cross a page boundary of a non-contiguous frame. */
    BT_CHECK_EQ(edu_dma_request(edu, EDU_OP_TO_DEVICE, src, 3000, 3000, 50), 0);
    BT_CHECK_EQ(edu_dma_request(edu, EDU_OP_FROM_DEVICE, dst, 2000, 3000, 50), 0);
    BT_CHECK(memcmp((const void *)(a + 3000), (const void *)(b + 2000), 3000) == 0);
    BT_CHECK(all_equal(b, 2000, 0) && all_equal(b + 5000, 8192 - 5000, 0));
    /* The driver can only use what the client's capability allows. */
    long read_only = BT_OK(wd_cap_copy(dst, WD_NULL, WD_RIGHT_READ | WD_RIGHT_MAP | WD_RIGHT_GRANT, 0));
    BT_CHECK_EQ(edu_dma_request(edu, EDU_OP_FROM_DEVICE, (wd_handle_t)read_only, 0, 100, 0), -WD_E_NO_RIGHTS);
    BT_CHECK_EQ(edu_dma_request(edu, EDU_OP_TO_DEVICE, src, 0, 4096, 0), -WD_E_INVALID_ARG);
    /* Every transfer so far ended with an interrupt: self-test (2) + 2. */
    BT_CHECK_EQ(edu_request(edu, EDU_OP_STATS, 0, &reply), 0);
    BT_CHECK_EQ(reply.w[EDU_STAT_TRANSFERS], 4);
    /* While it runs, the driver owns the device; when it dies, nobody does. */
    struct wd_device_info info;
    BT_OK(wd_device_info(device, &info));
    BT_CHECK((info.flags & WD_DEVICE_OWNED) && info.owner_pid != wd_start_info->process_id);
    BT_CHECK_EQ(wd_dma_attach(device, WD_NULL), -WD_E_NOT_OWNER);
    BT_OK(wd_process_kill(driver.process, 0));
    struct wd_msg exit_msg;
    BT_CHECK_EQ(bt_wait_kernel_message(driver.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &exit_msg, 2000 * BT_MS), 0);
    device_expect_released(device, irqs_before.live_irqs);
}

/* The edu driver serves with MSI (what it picks when it can), then again
 * with INTx, its fallback when MSI is unavailable. */
void test_edu_driver_serves(void)
{
    struct wd_device_info info;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return;
    }
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    if (device < 0)
        return;
    edu_driver_run((wd_handle_t)device, false);
    edu_driver_run((wd_handle_t)device, true);
}

/* Helper role "dma-owner": caps[0] = the edu device. Attaches it to an
 * empty dmaspace, starts a device write to IOVA 0x900000 and waits. */
int bt_dma_owner_main(const wd_handle_t *caps)
{
    struct edu e = { .device = caps[0] };
    if (!edu_take_as_helper(&e))
        return 3;
    edu_dma(&e, 0x900000, 64, true);
    for (;;)
        wd_thread_sleep(1000 * BT_MS);
}

/* The supervisor of a device's owner hears about its DMA faults, with the
 * owner's process id, even though it never touched the device itself. */
void test_dma_fault_reaches_supervisor(void)
{
    struct wd_device_info info;
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &info) != 0 || !dma_iommu_present()) {
        BT_SKIP("needs edu behind an IOMMU");
        return;
    }
    long device = BT_OK(wd_device_open(dma_device_root(), info.address));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    if (device < 0 || ep < 0)
        return;
    wd_handle_t caps[1] = { (wd_handle_t)device };
    wd_handle_t owner = bt_spawn_helper("dma-owner", caps, 1, (wd_handle_t)ep, 0x0DD);
    struct wd_msg msg;
    BT_CHECK_EQ(bt_wait_kernel_message((wd_handle_t)ep, WD_LABEL_DMA_FAULT, 0x0DD, &msg, 3000 * BT_MS), 0);
    struct wd_cap_info owner_info;
    BT_OK(wd_cap_info(owner, &owner_info));
    BT_CHECK_EQ(msg.w[1], info.requester_id);
    BT_CHECK_EQ(msg.w[2], 0x900000);
    BT_CHECK_EQ(msg.w[3], FR_WRITE_DENIED);
    BT_CHECK(msg.w[4] & WD_DMA_FAULT_WRITE);
    BT_CHECK_EQ(msg.w[5], owner_info.object_id);
    BT_CHECK_EQ(msg.w[6], info.address);
}
