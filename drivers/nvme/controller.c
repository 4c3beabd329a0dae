/*
 * controller.c - NVMe controller bring-up as QEMU 7.2 and the spec want
 * it (facts sheet §0 and §1.3): BAR0 mapped up to the MSI-X table (the
 * kernel keeps those pages), memory decode and bus mastering on, the
 * interrupt (MSI-X entry 0) created before the controller is enabled (a
 * vector QEMU has not seen used at CQ creation is dropped), the controller
 * disabled first (the firmware leaves it enabled), the admin queues, CC.EN
 * with CSTS.RDY polled within CAP.TO, Identify controller and namespace 1,
 * and the I/O queue pairs: as many as Set Features (Number of Queues)
 * grants, up to NVME_MAX_IO_QUEUES, each CQ with an MSI-X entry of its own
 * while the table has one (entries 1..; they are shared round robin when
 * it has fewer, all on entry 0 when it has one, and on the pin with INTx).
 * A reset (recovery.c) runs disable, enable and the queue creation again.
 */
#include <stdio.h>
#include <string.h>
#include <warden/syscalls.h>

#include "nvme.h"

#define PCI_CAP_POINTER 0x34
#define PCI_CAP_ID_MSIX 0x11
#define BAR0_REGISTERS_MAX 0x4000ull    /* registers and doorbells for 1,024 queue pairs at stride 4 */

static long fail(const char *what, long error)
{
    printf("nvme: %s: %s (%s)\n", what, wd_error_name(error), wd_error_text(error));
    return error;
}

/* The MSI-X capability's offset in config space, or 0. */
static unsigned msix_capability(struct nvme *n)
{
    unsigned cap = wd_config_read8(&n->driver, PCI_CAP_POINTER) & 0xFC;
    for (unsigned hops = 0; cap && hops < 48; hops++) {
        if (wd_config_read8(&n->driver, cap) == PCI_CAP_ID_MSIX)
            return cap;
        cap = wd_config_read8(&n->driver, cap + 1) & 0xFC;
    }
    return 0;
}

/* Where BAR0's mappable part ends: at the MSI-X table when it is in BAR0. */
static uint64_t bar0_mappable(struct nvme *n)
{
    uint64_t size = n->driver.info.bars[0].size, end = size < BAR0_REGISTERS_MAX ? size : BAR0_REGISTERS_MAX;
    unsigned cap = msix_capability(n);
    if (cap) {
        uint32_t table = (uint32_t)wd_config_read32(&n->driver, cap + 4);
        if ((table & 7) == 0 && (table & ~7u) < end)
            end = table & ~7u;
    }
    return end & ~(uint64_t)(WD_PAGE_SIZE - 1);
}

/* MSI-X table entries (0 without MSI-X). */
static unsigned msix_entries(struct nvme *n)
{
    unsigned cap = msix_capability(n);
    return cap ? ((unsigned)wd_config_read16(&n->driver, cap + 2) & 0x7FF) + 1 : 0;
}

static uint64_t read64(struct nvme *n, uint64_t offset) { return wd_mmio_read64(n->regs, offset); }
static uint32_t read32(struct nvme *n, uint64_t offset) { return wd_mmio_read32(n->regs, offset); }

/* Waits until CSTS.RDY == ready, within CAP.TO; IO_ERROR on fatal status. */
static long wait_ready(struct nvme *n, bool ready)
{
    uint64_t timeout = nvme_cap_timeout_ms(n->cap);
    long r = wd_mmio_poll32(n->regs, NVME_REG_CSTS, NVME_CSTS_RDY, ready ? NVME_CSTS_RDY : 0,
                            (timeout ? timeout : 500) * 1000000ull, 10 * 1000000ull);
    if (r == 0 && ready && (read32(n, NVME_REG_CSTS) & NVME_CSTS_CFS))
        return -WD_E_IO_ERROR;
    return r;
}

static void copy_trimmed(char *out, const volatile uint8_t *in, unsigned n)
{
    unsigned len = 0;
    for (unsigned i = 0; i < n; i++)
        if ((out[i] = (char)in[i]) != ' ')
            len = i + 1;
    out[len] = 0;
}

static long identify(struct nvme *n, uint32_t cns, uint32_t nsid)
{
    struct nvme_sqe cmd = { .opcode = NVME_ADMIN_IDENTIFY, .nsid = nsid, .prp1 = n->identify.iova, .cdw10 = cns };
    memset(n->identify.cpu, 0, WD_PAGE_SIZE);
    return nvme_run(n, &cmd, NULL, NULL);
}

static long read_identity(struct nvme *n)
{
    const volatile uint8_t *id = n->identify.cpu;
    long r = identify(n, NVME_IDENTIFY_CONTROLLER, 0);
    if (r < 0)
        return fail("Identify Controller failed", r);
    copy_trimmed(n->serial, id + NVME_ID_CTRL_SN, 20);
    copy_trimmed(n->model, id + NVME_ID_CTRL_MN, 40);
    unsigned mdts = id[NVME_ID_CTRL_MDTS];
    uint64_t page = 4096ull << nvme_cap_mpsmin(n->cap);
    n->max_transfer = mdts ? page << mdts : 2ull << 20;
    uint64_t prp_reach = (WD_PAGE_SIZE / 8) * 4096ull;   /* one PRP list page */
    if (n->max_transfer > prp_reach)
        n->max_transfer = prp_reach;
    r = identify(n, NVME_IDENTIFY_NAMESPACE, 1);
    if (r < 0)
        return fail("Identify Namespace 1 failed", r);
    n->block_count = *(const volatile uint64_t *)(id + NVME_ID_NS_NSZE);
    unsigned format = id[NVME_ID_NS_FLBAS] & 0xF;
    uint32_t lbaf = *(const volatile uint32_t *)(id + NVME_ID_NS_LBAF + 4 * format);
    unsigned lbads = (lbaf >> 16) & 0xFF;
    if (n->block_count == 0 || lbads < 9 || lbads > 12) {
        printf("nvme: namespace 1 is unusable: %llu blocks of 2^%u bytes\n", (unsigned long long)n->block_count, lbads);
        return -WD_E_NOT_SUPPORTED;
    }
    n->block_size = 1u << lbads;
    return 0;
}

/* The first time: how many I/O queue pairs (Set Features, Number of
 * Queues), their memory, and their MSI-X entries (created before the CQs
 * that use them, facts §0.1, and bound to the driver's endpoint). */
static long plan_io_queues(struct nvme *n)
{
    unsigned wanted = n->max_queues ? n->max_queues : NVME_MAX_IO_QUEUES;
    struct nvme_sqe features = {
        .opcode = NVME_ADMIN_SET_FEATURES,
        .cdw10 = NVME_FEATURE_NUMBER_OF_QUEUES,
        .cdw11 = (wanted - 1) << 16 | (wanted - 1),
    };
    uint32_t granted = 0;
    long r = nvme_run(n, &features, NULL, &granted);
    if (r == 0) {
        unsigned sqs = (granted & 0xFFFF) + 1, cqs = (granted >> 16) + 1;
        n->io_queues = wanted < sqs ? wanted : sqs;
        n->io_queues = n->io_queues < cqs ? n->io_queues : cqs;
    } else {
        n->io_queues = 1;               /* the feature is optional; one pair always works */
    }
    unsigned entries = n->irq.mode == WD_DRIVER_IRQ_MSIX ? msix_entries(n) : 1;
    n->vectors = 1;
    for (unsigned i = 0; i < n->io_queues; i++) {
        r = nvme_queue_alloc(n, &n->io[i], (uint16_t)(i + 1));
        if (r < 0)
            return fail("cannot allocate the I/O queues", r);
        n->io[i].vector = entries >= 2 ? (uint16_t)(1 + i % (entries - 1)) : 0;
        if (n->io[i].vector < n->vectors)
            continue;                   /* shared with an earlier queue */
        long irq = wd_irq_create(n->driver.device, WD_IRQ_MSIX(n->io[i].vector));
        r = irq < 0 ? irq : wd_irq_bind((wd_handle_t)irq, n->endpoint, NVME_IRQ_BADGE + n->io[i].vector);
        if (r < 0)
            return fail("cannot create an I/O queue's MSI-X interrupt", r);
        n->vector_irq[n->io[i].vector] = (wd_handle_t)irq;
        n->vectors = n->io[i].vector + 1u;
    }
    return 0;
}

long nvme_create_io_queues(struct nvme *n)
{
    long r = n->io_queues ? 0 : plan_io_queues(n);
    for (unsigned i = 0; r == 0 && i < n->io_queues; i++) {
        struct nvme_queue *q = &n->io[i];
        nvme_queue_clear(q);
        struct nvme_sqe cq = {
            .opcode = NVME_ADMIN_CREATE_CQ,
            .prp1 = q->cq.iova,
            .cdw10 = (uint32_t)(NVME_QUEUE_ENTRIES - 1) << 16 | q->id,
            .cdw11 = (uint32_t)q->vector << 16 | 1u << 1 | 1u,   /* interrupts on, physically contiguous */
        };
        uint16_t status = 0;
        r = nvme_run(n, &cq, &status, NULL);
        if (r < 0) {
            printf("nvme: Create I/O Completion Queue %u: status 0x%x\n", q->id, status);
            return fail("cannot create an I/O completion queue", r);
        }
        struct nvme_sqe sq = {
            .opcode = NVME_ADMIN_CREATE_SQ,
            .prp1 = q->sq.iova,
            .cdw10 = (uint32_t)(NVME_QUEUE_ENTRIES - 1) << 16 | q->id,
            .cdw11 = (uint32_t)q->id << 16 | 1u,
        };
        r = nvme_run(n, &sq, &status, NULL);
        if (r < 0) {
            printf("nvme: Create I/O Submission Queue %u: status 0x%x\n", q->id, status);
            return fail("cannot create an I/O submission queue", r);
        }
    }
    return r;
}

long nvme_controller_disable(struct nvme *n)
{
    wd_mmio_write32(n->regs, NVME_REG_CC, 0);
    return wait_ready(n, false);
}

long nvme_controller_enable(struct nvme *n)
{
    nvme_queue_clear(&n->admin);
    wd_mmio_write32(n->regs, NVME_REG_AQA, (NVME_QUEUE_ENTRIES - 1) << 16 | (NVME_QUEUE_ENTRIES - 1));
    wd_mmio_write64(n->regs, NVME_REG_ASQ, n->admin.sq.iova);
    wd_mmio_write64(n->regs, NVME_REG_ACQ, n->admin.cq.iova);
    wd_mmio_write32(n->regs, NVME_REG_CC, NVME_CC_ENABLE);
    long r = wait_ready(n, true);
    if (r < 0)
        printf("nvme: CSTS 0x%x after enabling\n", read32(n, NVME_REG_CSTS));
    return r;
}

long nvme_bring_up(struct nvme *n)
{
    uint64_t mappable = bar0_mappable(n);
    if (mappable < 2 * WD_PAGE_SIZE)
        return fail("BAR0 has no room for registers and doorbells before its MSI-X table", -WD_E_NOT_SUPPORTED);
    long r = wd_driver_bar_map_range(&n->driver, 0, 0, mappable, &n->regs);
    if (r < 0)
        return fail("cannot map BAR0", r);
    n->cap = read64(n, NVME_REG_CAP);
    n->doorbell_stride = 4u << nvme_cap_dstrd(n->cap);
    if (!nvme_cap_nvm_command_set(n->cap) || nvme_cap_mpsmin(n->cap) != 0 ||
        nvme_cap_mqes(n->cap) < NVME_QUEUE_ENTRIES) {
        printf("nvme: CAP 0x%016llx: needs the NVM command set, 4 KiB pages and %u-entry queues\n",
               (unsigned long long)n->cap, NVME_QUEUE_ENTRIES);
        return -WD_E_NOT_SUPPORTED;
    }
    r = wd_driver_enable(&n->driver);
    if (r < 0)
        return fail("cannot enable memory decode and bus mastering", r);
    /* Before CC.EN (facts §0.1). INTx is level-triggered: it drops when the
     * CQ head doorbell catches up, which the driver writes before its ack. */
    r = wd_driver_irq_open(&n->driver, n->force_intx ? WD_DRIVER_IRQ_FORCE_INTX : 0, &n->irq);
    if (r < 0)
        return fail("cannot open its interrupt (MSI-X, then INTx)", r);
    if (read32(n, NVME_REG_CC) & 1) {
        r = nvme_controller_disable(n);       /* the firmware left it enabled */
        if (r < 0)
            return fail("the controller did not stop (CSTS.RDY stays 1)", r);
    }
    r = nvme_queue_alloc(n, &n->admin, 0);
    if (r == 0)
        r = wd_dma_alloc(&n->driver, WD_PAGE_SIZE, WD_RIGHT_WRITE, &n->identify);
    if (r == 0)
        r = wd_dma_alloc(&n->driver, NVME_IO_SLOTS * WD_PAGE_SIZE, WD_RIGHT_READ, &n->prp_lists);
    if (r < 0)
        return fail("cannot allocate the admin queues", r);
    r = nvme_controller_enable(n);
    if (r < 0)
        return fail("the controller did not become ready", r);
    r = read_identity(n);
    if (r == 0)
        r = nvme_create_io_queues(n);
    if (r == 0)
        nvme_io_init(n);
    return r;
}
