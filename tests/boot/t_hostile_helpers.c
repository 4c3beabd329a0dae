/*
 * t_hostile_helpers.c - the plumbing of hostile_driver_escapes (see
 * t_hostile.h): the victim ("another driver": this test owning AHCI), the
 * hostile driver started with least privilege and called, the test's own
 * pattern pages, and the outside checks every row uses: the DMA fault the
 * driver's supervisor (this test) is told of, and edu's fault count.
 */
#include <string.h>
#include <warden/registry.h>
#include <warden/spawn.h>

#include "boot_tests.h"
#include "t_hostile.h"

#define HOSTILE_POOL_BYTES (8ull << 20)
#define DRIVER_DEVICE_RIGHTS (WD_RIGHT_READ | WD_RIGHT_WRITE | WD_RIGHT_MAP | WD_RIGHT_CONTROL)  /* no GRANT */
#define VICTIM_BUF_VA 0x0000720000000000ull

bool victim_open(struct victim *v)
{
    memset(v, 0, sizeof *v);
    if (dma_find_device(AHCI_VENDOR, AHCI_DEVICE, &v->info) != 0) {
        printf("# no AHCI controller to play the other driver\n");
        bt_failures++;
        return false;
    }
    v->device = (wd_handle_t)BT_OK(wd_device_open(dma_device_root(), v->info.address));
    v->dmaspace = (wd_handle_t)BT_OK(wd_dmaspace_create(bt_pool()));
    v->endpoint = (wd_handle_t)BT_OK(wd_endpoint_create(bt_pool()));
    v->memory = dma_buffer(&v->frame, VICTIM_BUF_VA, WD_PAGE_SIZE, 0);
    if (!v->memory || BT_OK(wd_dma_attach(v->device, v->dmaspace)) < 0)
        return false;
    memset((void *)v->memory, VICTIM_BYTE, WD_PAGE_SIZE);
    BT_OK(wd_dma_map(v->dmaspace, v->frame, 0, VICTIM_IOVA, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE));
    /* Its MSI through a remapping entry; without remapping an ISA line it
     * holds (AHCI's INTx has no route the kernel knows on q35). */
    struct wd_iommu_info unit;
    bool remapping = wd_iommu_info(0, &unit) == 0 && (unit.status & GSTS_IRES);
    static const unsigned isa_lines[] = { 3, 5, 7, 10, 11 };
    long irq = remapping ? wd_irq_create(v->device, WD_IRQ_MSI(0)) : -WD_E_NOT_SUPPORTED;
    for (unsigned i = 0; !remapping && irq < 0 && i < sizeof isa_lines / sizeof isa_lines[0]; i++)
        irq = wd_irq_create(dma_device_root(), WD_IRQ_ISA(isa_lines[i]));
    if (BT_OK(irq) < 0)
        return false;
    v->irq = (wd_handle_t)irq;
    BT_OK(wd_irq_bind(v->irq, v->endpoint, VICTIM_BADGE));
    BT_OK(wd_irq_info(v->irq, &v->irq_info));
    return bt_failures == 0;
}

uint64_t victim_interrupts(const struct victim *v)
{
    struct wd_irq_info info;
    return wd_irq_info(v->irq, &info) == 0 ? info.interrupts : ~0ull;
}

bool hostile_start(struct hostile_run *run)
{
    struct edu_driver *d = &run->driver;
    static unsigned started;
    char name[32], args[48];
    snprintf(name, sizeof name, "hostile-%llu-%u", (unsigned long long)wd_start_info->process_id, ++started);
    snprintf(args, sizeof args, "hostile %s", name);
    struct wd_spawn s = {
        .args = args,
        .cap_count = 1,
        .caps = { run->edu },
        .cap_rights = { DRIVER_DEVICE_RIGHTS },
    };
    return driver_spawn_module(d, "hostile", &s, HOSTILE_POOL_BYTES) && driver_wait_registered(d, name);
}

void hostile_stop(struct hostile_run *run)
{
    if (!run->driver.process)
        return;
    BT_OK(wd_process_kill(run->driver.process, 0));
    struct wd_msg msg;
    BT_CHECK_EQ(bt_wait_kernel_message(run->driver.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &msg, 2000 * BT_MS), 0);
    wd_cap_delete(run->driver.process);
    wd_cap_delete(run->driver.client);
    run->driver.process = WD_NULL;
}

long hostile_call(struct hostile_run *run, enum hostile_op op, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
                  wd_handle_t cap, struct wd_msg *reply)
{
    *reply = (struct wd_msg){ .info = wd_msg_info(op, 4, cap ? 1 : 0), .w = { w0, w1, w2, w3 }, .caps = { cap } };
    long r = wd_call(run->driver.client, reply, HOSTILE_CALL_TIMEOUT_NS);
    return r < 0 ? r : (long)reply->w[0];
}

volatile uint8_t *test_page(struct hostile_run *run, uint64_t size, uint8_t byte, uint64_t flags, wd_handle_t *frame)
{
    volatile uint8_t *p = dma_buffer(frame, run->va, size, flags);
    run->va += size + (1ull << 20);
    if (p)
        memset((void *)p, byte, size);
    return p;
}

wd_handle_t lend(wd_handle_t frame, uint64_t rights)
{
    long copy = BT_OK(wd_cap_copy(frame, WD_NULL, rights | WD_RIGHT_MAP | WD_RIGHT_GRANT | WD_RIGHT_RETAIN, 0));
    return copy < 0 ? WD_NULL : (wd_handle_t)copy;
}

bool expect_dma_fault(struct hostile_run *run, uint64_t iova, unsigned reason, uint64_t flags)
{
    struct wd_msg msg;
    long r = bt_wait_kernel_message(run->driver.fault_ep, WD_LABEL_DMA_FAULT, EDU_DRIVER_BADGE, &msg, 2000 * BT_MS);
    BT_CHECK_EQ(r, 0);
    if (r != 0)
        return false;
    int before = bt_failures;
    BT_CHECK(msg.w[0] >= 1);
    BT_CHECK_EQ(msg.w[1], run->edu_info.requester_id);
    BT_CHECK_EQ(msg.w[2], iova & ~0xFFFull);
    if (reason)
        BT_CHECK_EQ(msg.w[3], reason);
    BT_CHECK((msg.w[4] & (WD_DMA_FAULT_WRITE | flags)) == (WD_DMA_FAULT_WRITE | flags));
    BT_CHECK_EQ(msg.w[5], run->driver.pid);
    BT_CHECK_EQ(msg.w[6], run->edu_info.address);
    printf("#   reported to its supervisor: %llu fault(s) from %04llx at IOVA 0x%llx, reason %llu, flags 0x%llx\n",
           (unsigned long long)msg.w[0], (unsigned long long)msg.w[1], (unsigned long long)msg.w[2],
           (unsigned long long)msg.w[3], (unsigned long long)msg.w[4]);
    return bt_failures == before;
}

void expect_no_dma_fault(struct hostile_run *run, unsigned ms)
{
    struct wd_msg msg;
    long r = bt_wait_kernel_message(run->driver.fault_ep, WD_LABEL_DMA_FAULT, EDU_DRIVER_BADGE, &msg, ms * BT_MS);
    if (r == 0)
        printf("#   unexpected DMA fault at IOVA 0x%llx, reason %llu\n", (unsigned long long)msg.w[2],
               (unsigned long long)msg.w[3]);
    BT_CHECK_EQ(r, -WD_E_TIMEOUT);
}

uint64_t edu_fault_count(const struct hostile_run *run)
{
    struct wd_device_info info;
    return wd_device_info(run->edu, &info) == 0 ? info.fault_count : ~0ull;
}

long device_write(struct hostile_run *run, uint64_t iova, uint64_t bytes)
{
    struct wd_msg reply;
    return hostile_call(run, HOSTILE_OP_DMA, iova, bytes, 1, 0, WD_NULL, &reply);
}

void config_snapshot(wd_handle_t device, struct config_snapshot *out)
{
    for (unsigned i = 0; i < 6; i++)
        out->bars[i] = (uint32_t)wd_device_config_read(device, 0x10 + 4 * i, 4);
    out->rom = (uint32_t)wd_device_config_read(device, 0x30, 4);
}

unsigned pci_capability(wd_handle_t device, unsigned id)
{
    if (!(wd_device_config_read(device, 0x06, 2) & 0x10))      /* status: no capability list */
        return 0;
    unsigned at = (unsigned)wd_device_config_read(device, 0x34, 1) & 0xFC;
    for (int hops = 0; at >= 0x40 && hops < 48; hops++) {
        long header = wd_device_config_read(device, at, 2);
        if (header < 0)
            return 0;
        if ((header & 0xFF) == (long)id)
            return at;
        at = (unsigned)(header >> 8) & 0xFC;
    }
    return 0;
}
