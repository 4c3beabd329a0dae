/*
 * authority_ops.c - what the hostile driver asks the kernel for that it
 * should not get: config writes to registers the kernel keeps (BARs, the
 * ROM BAR, MSI, MSI-X, bridges), devices and BARs it was not given (or was
 * given but does not own), more rights than it holds for itself or a
 * child, a thread above its own priority, bus mastering after a fault
 * flood; and giving its device up while keeping what it mapped.
 */
#include <warden/syscalls.h>
#include <warden/thread.h>

#include "hostile.h"

#define BAR_DMA_IOVA 0x0A000000ull      /* where it tries to dma_map a BAR frame */
#define SPIN_MAX_MS 1000
#define CHILD_BAR_VADDR 0x0000510000000000ull
/* enum hostile_escalation counts reply words from w0, the return value. */
#define ESC_WORD(out, word) (out)[(word) - 1]

static wd_handle_t target_device(const struct hostile *h, uint64_t target)
{
    return target <= h->adopted_count ? h->adopted[target] : WD_NULL;
}

long hostile_config_write(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    wd_handle_t device = target_device(h, req->w[0]);
    uint64_t offset = req->w[1], width = req->w[2];
    out[0] = (uint64_t)wd_device_config_read(device, offset, width);
    long r = wd_device_config_write(device, offset, width, req->w[3]);
    out[1] = (uint64_t)wd_device_config_read(device, offset, width);
    return r;
}

long hostile_adopt(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    if (wd_msg_ncaps(req->info) != 1 || h->adopted_count == HOSTILE_MAX_ADOPTED)
        return -WD_E_INVALID_ARG;
    wd_handle_t device = req->caps[0];
    h->adopted[++h->adopted_count] = device;
    if (req->w[0] == 1) {
        long space = wd_dmaspace_create(wd_start_info->pool);
        out[0] = (uint64_t)(space < 0 ? space : wd_dma_attach(device, (wd_handle_t)space));
        wd_device_config_write(device, WD_PCI_COMMAND, 2, WD_PCI_COMMAND_MEMORY | WD_PCI_COMMAND_BUS_MASTER);
    }
    if (req->w[1] != ~0ull) {
        long irq = wd_irq_create(device, req->w[1]);
        struct wd_irq_info info = { 0 };
        if (irq >= 0)
            wd_irq_info((wd_handle_t)irq, &info);
        out[1] = (uint64_t)irq;
        out[2] = info.msi_address;
        out[3] = info.irte_sid;
    }
    return h->adopted_count;
}

long hostile_bar_map(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    long frame = wd_device_bar_frame(target_device(h, req->w[0]), req->w[1]);
    if (frame < 0)
        return frame;
    out[0] = (uint64_t)wd_vm_map(WD_NULL, (wd_handle_t)frame, req->w[2], h->next_vaddr, req->w[3],
                                 WD_RIGHT_READ | WD_RIGHT_WRITE);
    h->next_vaddr += 16ull << 20;
    out[1] = (uint64_t)wd_dma_map(h->driver.dmaspace, (wd_handle_t)frame, 0, BAR_DMA_IOVA, WD_PAGE_SIZE,
                                  WD_RIGHT_READ | WD_RIGHT_WRITE);
    return frame;
}

long hostile_open_devices(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)h;
    uint64_t tried = 0, opened = 0;
    for (uint64_t slot = 1; slot < WD_CSPACE_SLOTS; slot++) {
        for (uint64_t generation = 1; generation <= 16; generation++) {
            wd_handle_t handle = (wd_handle_t)(slot | generation << 16);
            struct wd_cap_info info;
            if (wd_cap_info(handle, &info) < 0)
                continue;
            tried++;
            long device = wd_device_open(handle, req->w[0]);
            if (device >= 0)
                opened++;
        }
    }
    out[0] = opened;
    out[1] = (uint64_t)wd_frame_create(wd_start_info->pool, WD_PAGE_SIZE, WD_FRAME_MMIO);
    return (long)tried;
}

long hostile_escalate(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)req;
    wd_handle_t device = h->driver.device;
    struct wd_cap_info held;
    long r = wd_cap_info(device, &held);
    if (r < 0)
        return r;
    long more = wd_cap_copy(device, WD_NULL, held.rights | WD_RIGHT_GRANT, 0);
    long child = wd_process_create(wd_start_info->pool, WD_NULL, 0, 0);
    wd_handle_t c = child < 0 ? WD_NULL : (wd_handle_t)child;
    struct wd_pool_info pool;
    wd_pool_info(wd_start_info->pool, &pool);
    ESC_WORD(out, HOSTILE_ESC_CHILD) = (uint64_t)child;
    ESC_WORD(out, HOSTILE_ESC_GIVE_DEVICE) = (uint64_t)wd_cap_copy(device, c, WD_RIGHT_READ, 0);
    ESC_WORD(out, HOSTILE_ESC_MOVE_DEVICE) = (uint64_t)wd_cap_move(device, c);
    ESC_WORD(out, HOSTILE_ESC_BIG_POOL) = (uint64_t)wd_pool_create(wd_start_info->pool, pool.budget + WD_PAGE_SIZE);
    const uint64_t rw = WD_RIGHT_READ | WD_RIGHT_WRITE;
    ESC_WORD(out, HOSTILE_ESC_GIVE_BAR) = (uint64_t)wd_cap_copy(h->bar_frame, c, rw | WD_RIGHT_MAP, 0);
    ESC_WORD(out, HOSTILE_ESC_MAP_BAR_IN_CHILD) = (uint64_t)wd_vm_map(c, h->bar_frame, 0, CHILD_BAR_VADDR,
                                                                      WD_PAGE_SIZE, rw);
    if (child >= 0) {
        wd_process_kill(c, 0);
        wd_cap_delete(c);
    }
    if (more >= 0)
        wd_cap_delete((wd_handle_t)more);
    return more;
}

long hostile_bus_master(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)req;
    long command = wd_device_config_read(h->driver.device, WD_PCI_COMMAND, 2);
    long r = command < 0 ? command
                         : wd_device_config_write(h->driver.device, WD_PCI_COMMAND, 2,
                                                  (uint64_t)command | WD_PCI_COMMAND_BUS_MASTER);
    out[0] = (uint64_t)wd_device_config_read(h->driver.device, WD_PCI_COMMAND, 2);
    return r;
}

long hostile_give_up(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)req;
    out[0] = (uint64_t)wd_cap_delete(h->irq.irq);
    return wd_dma_detach(h->driver.device);
}

static volatile uint64_t spin_ms;

static void spin(void *arg)
{
    (void)arg;
    uint64_t end = (uint64_t)wd_time_now() + spin_ms * 1000000ull;
    while ((uint64_t)wd_time_now() < end)
        ;
    wd_thread_exit();
}

long hostile_spin_thread(struct hostile *h, const struct wd_msg *req, uint64_t *out)
{
    (void)h, (void)out;
    spin_ms = req->w[1] < SPIN_MAX_MS ? req->w[1] : SPIN_MAX_MS;
    return wd_thread_start(spin, NULL, (uint32_t)req->w[0]);
}
