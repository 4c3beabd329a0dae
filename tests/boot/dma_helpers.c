/*
 * dma_helpers.c - the DMA tests' shared helpers (see t_dma.h): the device
 * root, finding and opening edu, running its DMA engine, buffers, patterns,
 * the edu driver as a test starts it, a released device.
 */
#include <string.h>
#include <warden/registry.h>
#include <warden/spawn.h>

#include "boot_tests.h"
#include "t_dma.h"

wd_handle_t dma_device_root(void)
{
    return wd_start_info->cap_count ? wd_start_info->caps[0] : WD_NULL;
}

bool dma_iommu_present(void)
{
    struct wd_iommu_info info;
    return wd_iommu_info(0, &info) == 0;
}

long dma_find_device(uint16_t vendor, uint16_t device, struct wd_device_info *out)
{
    wd_handle_t root = dma_device_root();
    for (uint64_t i = 0;; i++) {
        long r = wd_device_list(root, i, out);
        if (r < 0)
            return r;
        if (out->vendor_id == vendor && out->device_id == device)
            return 0;
    }
}

bool dma_test_device(uint16_t vendor, uint16_t device, const char *name, struct wd_device_info *out)
{
    static char why[96];
    if (dma_find_device(vendor, device, out) != 0) {
        snprintf(why, sizeof why, "no %s on this machine", name);
        BT_SKIP(why);
        return false;
    }
    if (!dma_iommu_present()) {
        snprintf(why, sizeof why, "needs the %s behind an IOMMU", name);
        BT_SKIP(why);
        return false;
    }
    return true;
}

void edu_write64(struct edu *e, unsigned reg, uint64_t v)
{
    *(volatile uint64_t *)(e->bar + reg) = v;
}

uint64_t edu_read64(struct edu *e, unsigned reg)
{
    return *(volatile uint64_t *)(e->bar + reg);
}

/* Opens edu, maps BAR0, enables memory decode and bus mastering and, with
 * attach, gives it a fresh dmaspace and binds its faults to e->fault_ep.
 * Returns false (and marks the test skipped) when the machine has no edu. */
bool edu_open(struct edu *e, bool attach)
{
    memset(e, 0, sizeof *e);
    if (dma_device_root() == WD_NULL) {
        printf("# the test has no device root capability\n");
        bt_failures++;
        return false;
    }
    if (dma_find_device(EDU_VENDOR, EDU_DEVICE, &e->info) != 0) {
        BT_SKIP("no edu device on this machine");
        return false;
    }
    if (attach && !dma_iommu_present()) {
        BT_CHECK_EQ(wd_dmaspace_create(bt_pool()), -WD_E_NO_IOMMU);
        BT_SKIP("no IOMMU: DMA is refused (checked), nothing to isolate");
        return false;
    }
    e->device = (wd_handle_t)BT_OK(wd_device_open(dma_device_root(), e->info.address));
    long frame = BT_OK(wd_device_bar_frame(e->device, 0));
    if (frame < 0)
        return false;
    BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, BAR_VA, e->info.bars[0].size, WD_RIGHT_READ | WD_RIGHT_WRITE));
    e->bar = (volatile uint8_t *)BAR_VA;
    BT_CHECK_EQ(*(volatile uint32_t *)(e->bar + EDU_REG_ID), 0x010000ED);
    long command = BT_OK(wd_device_config_read(e->device, 4, 2));
    BT_OK(wd_device_config_write(e->device, 4, 2, (uint64_t)command | 0x6));    /* memory + bus master */
    if (!attach)
        return true;
    e->dmaspace = (wd_handle_t)BT_OK(wd_dmaspace_create(bt_pool()));
    BT_OK(wd_dma_attach(e->device, e->dmaspace));
    e->fault_ep = (wd_handle_t)BT_OK(wd_endpoint_create(bt_pool()));
    BT_OK(wd_device_fault_bind(e->device, e->fault_ep, FAULT_BADGE));
    return bt_failures == 0;
}

/* Runs one edu transfer between RAM at ram_iova and the device buffer;
 * false if it did not finish within 3 s. */
bool edu_dma(struct edu *e, uint64_t ram_iova, uint64_t count, bool to_ram)
{
    edu_write64(e, EDU_REG_DMA_SRC, to_ram ? EDU_BUFFER : ram_iova);
    edu_write64(e, EDU_REG_DMA_DST, to_ram ? ram_iova : EDU_BUFFER);
    edu_write64(e, EDU_REG_DMA_COUNT, count);
    edu_write64(e, EDU_REG_DMA_CMD, EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
    for (int i = 0; i < 1500; i++) {
        if (!(edu_read64(e, EDU_REG_DMA_CMD) & EDU_DMA_START))
            return true;
        wd_thread_sleep(2 * BT_MS);
    }
    printf("# edu DMA did not finish\n");
    bt_failures++;
    return false;
}

/* A frame mapped read-write into this process at va. */
volatile uint8_t *dma_buffer(wd_handle_t *frame, uint64_t va, uint64_t size, uint64_t flags)
{
    long f = BT_OK(wd_frame_create(bt_pool(), size, flags));
    *frame = f < 0 ? WD_NULL : (wd_handle_t)f;
    if (f < 0 || BT_OK(wd_vm_map(WD_NULL, (wd_handle_t)f, 0, va, size, WD_RIGHT_READ | WD_RIGHT_WRITE)) < 0)
        return NULL;
    return (volatile uint8_t *)va;
}

void fill(volatile uint8_t *p, unsigned n, uint8_t seed)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

bool all_equal(volatile uint8_t *p, unsigned n, uint8_t value)
{
    for (unsigned i = 0; i < n; i++)
        if (p[i] != value)
            return false;
    return true;
}

/* For helper processes: takes the edu device capability e->device,
 * attaches it to a fresh dmaspace from the start-info pool, maps BAR0 at
 * BAR_VA and turns on memory decode and bus mastering. No test checks:
 * helpers report through their exit status. */
bool edu_take_as_helper(struct edu *e)
{
    if (wd_device_info(e->device, &e->info) < 0)
        return false;
    long frame = wd_device_bar_frame(e->device, 0);
    long space = wd_dmaspace_create(wd_start_info->pool);
    if (frame < 0 || space < 0 || wd_dma_attach(e->device, (wd_handle_t)space) < 0 ||
        wd_vm_map(WD_NULL, (wd_handle_t)frame, 0, BAR_VA, e->info.bars[0].size, WD_RIGHT_READ | WD_RIGHT_WRITE) < 0)
        return false;
    e->dmaspace = (wd_handle_t)space;
    e->bar = (volatile uint8_t *)BAR_VA;
    wd_device_config_write(e->device, 4, 2, 0x6);
    return true;
}

bool edu_driver_start(struct edu_driver *d, wd_handle_t device, const char *args_extra)
{
    return driver_start(d, "edu", device, args_extra);
}

bool driver_spawn_module(struct edu_driver *d, const char *module_name, struct wd_spawn *s, uint64_t pool_bytes)
{
    memset(d, 0, sizeof *d);
    const struct wd_module *module = wd_find_module(module_name);
    long pool = BT_OK(wd_pool_create(bt_pool(), pool_bytes));
    long ep = BT_OK(wd_endpoint_create(bt_pool()));
    BT_CHECK(module != NULL);
    if (!module || pool < 0 || ep < 0) {
        if (pool > 0)
            wd_cap_delete((wd_handle_t)pool);
        if (ep > 0)
            wd_cap_delete((wd_handle_t)ep);
        return false;
    }
    d->fault_ep = (wd_handle_t)ep;
    s->image = module->frame;
    s->image_size = module->size;
    s->pool = (wd_handle_t)pool;
    s->fault_endpoint = (wd_handle_t)ep;
    s->fault_badge = EDU_DRIVER_BADGE;
    s->registry = wd_start_info->registry;
    long driver = BT_OK(wd_spawn(s, NULL));
    wd_cap_delete((wd_handle_t)pool);                   /* the driver holds its own copy */
    if (driver < 0) {
        wd_cap_delete(d->fault_ep);
        d->fault_ep = WD_NULL;
        return false;
    }
    d->process = (wd_handle_t)driver;
    struct wd_cap_info info;
    BT_OK(wd_cap_info(d->process, &info));
    d->pid = info.object_id;
    return true;
}

bool driver_spawn_as(struct edu_driver *d, const char *module_name, wd_handle_t device, const char *name,
                     const char *args_extra, uint64_t pool_bytes)
{
    char args[160];
    snprintf(args, sizeof args, "%s %s%s%s", module_name, name, *args_extra ? " " : "", args_extra);
    struct wd_spawn s = { .args = args, .cap_count = 1, .caps = { device } };
    return driver_spawn_module(d, module_name, &s, pool_bytes);
}

bool driver_spawn(struct edu_driver *d, const char *module_name, wd_handle_t device, const char *args_extra,
                  char *name, unsigned name_size)
{
    /* The name: module, this process and a count (the arguments may hold
     * spaces and be long; a name must be neither). */
    static unsigned started;
    snprintf(name, name_size, "%s-test-%llu-%u", module_name, (unsigned long long)wd_start_info->process_id,
             ++started);
    return driver_spawn_as(d, module_name, device, name, args_extra, 8ull << 20);
}

bool driver_wait_registered(struct edu_driver *d, const char *name)
{
    for (int i = 0; i < 500 && wd_name_lookup(wd_start_info->registry, name, &d->client) != 0; i++)
        wd_thread_sleep(10 * BT_MS);
    BT_CHECK(d->client != WD_NULL);
    if (d->client == WD_NULL)
        wd_process_kill(d->process, 0);
    return d->client != WD_NULL;
}

bool driver_start(struct edu_driver *d, const char *module_name, wd_handle_t device, const char *args_extra)
{
    char name[32];
    return driver_spawn(d, module_name, device, args_extra, name, sizeof name) && driver_wait_registered(d, name);
}

void device_expect_released(wd_handle_t device, uint64_t live_irqs)
{
    struct wd_device_info info;
    BT_OK(wd_device_info(device, &info));
    BT_CHECK(!(info.flags & (WD_DEVICE_OWNED | WD_DEVICE_ATTACHED)));
    BT_CHECK_EQ(info.owner_pid, 0);
    BT_CHECK_EQ(info.domain_id, 0);
    BT_CHECK_EQ(wd_device_config_read(device, 4, 2) & 4, 0);         /* bus mastering off */
    struct wd_irq_stats irqs;
    BT_OK(wd_irq_stats(&irqs));
    BT_CHECK_EQ(irqs.live_irqs, live_irqs);                             /* its interrupts unhooked */
}
