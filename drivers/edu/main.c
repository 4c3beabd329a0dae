/*
 * edu - the driver for QEMU's edu device (PCI 1234:11e8), started by init's
 * driver supervisor (on devmgr's request) as "edu [registry-name] [options]" with:
 *   start info caps[0]  its device capability (and nothing else of the machine)
 *   start info pool     its own sub-pool
 *   start info registry SEND to init's name registry
 * Options: "intx" uses the INTx pin even where MSI works (to exercise the
 * fallback); "no-selftest" skips the start-up DMA self-test (two 100 ms
 * transfers: for fast restarts); "crash-at-start" executes an invalid
 * instruction just before registering, with the device attached, a DMA
 * buffer mapped and the interrupt hooked (to test the supervisor's restart
 * limit and the kernel's revocation). Any other argument is the name to
 * register under.
 * Start-up: libdriver (dmaspace + attach), BAR0, the ID register, memory
 * decode + bus mastering, a 4 KiB DMA buffer, the device's interrupt (MSI,
 * or INTx when MSI is unavailable), an endpoint that also gets the
 * device's DMA faults, a DMA self-test, then registration as "edu" (or the
 * name given) and the request loop (serve.c). Any start-up failure is
 * printed with its error name and ends the driver with status 1.
 */
#include <stdio.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/syscalls.h>

#include "edu.h"
#include "edu_regs.h"

#define EDU_VENDOR_ID 0x1234
#define EDU_DEVICE_ID 0x11e8

static struct edu edu;

static int fail(const char *what, long error)
{
    printf("edu: %s: %s (%s)\n", what, wd_error_name(error), wd_error_text(error));
    return 1;
}

/* The endpoint clients and the kernel's DMA fault messages arrive on. */
static int create_endpoint(struct edu *e)
{
    long r = wd_driver_endpoint(&e->driver, EDU_FAULT_BADGE, &e->endpoint);
    return r < 0 ? fail("cannot create its endpoint (with the device's DMA faults bound to it)", r) : 0;
}

/* Factorial-done and DMA-done interrupts as messages: MSI, else INTx. */
static int open_interrupts(struct edu *e, bool force_intx)
{
    /* Bits an earlier owner left raised would be taken for this driver's
     * (and would hold an INTx line asserted). */
    uint32_t stale = wd_mmio_read32(e->regs, EDU_REG_IRQ_STATUS);
    if (stale)
        wd_mmio_write32(e->regs, EDU_REG_IRQ_ACK, stale);
    long r = wd_driver_irq_open(&e->driver, force_intx ? WD_DRIVER_IRQ_FORCE_INTX : 0, &e->irq);
    if (r < 0) {
        if (e->irq.msi_error)
            printf("edu: MSI is unavailable: %s (%s)\n", wd_error_name(e->irq.msi_error),
                   wd_error_text(e->irq.msi_error));
        return fail(force_intx ? "cannot use its INTx interrupt" : "cannot use its interrupt (MSI, then INTx)", r);
    }
    return 0;
}

/* "MSI", "INTx (forced)" or "INTx (MSI: NO_IOMMU)" for the ready line. */
static void describe_interrupts(const struct edu *e, bool force_intx, char *out, size_t size)
{
    const char *mode = wd_driver_irq_mode_name(e->irq.mode);
    if (e->irq.mode == WD_DRIVER_IRQ_INTX && force_intx)
        snprintf(out, size, "%s (forced)", mode);
    else if (e->irq.mode == WD_DRIVER_IRQ_INTX && e->irq.msi_error)
        snprintf(out, size, "%s (MSI: %s)", mode, wd_error_name(e->irq.msi_error));
    else
        snprintf(out, size, "%s", mode);
}

int main(int argc, char **argv)
{
    const struct wd_start_info *info = wd_start_info;
    const char *name = EDU_SERVICE_NAME;
    bool force_intx = false, self_test = true, crash_at_start = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "intx") == 0)
            force_intx = true;
        else if (strcmp(argv[i], "no-selftest") == 0)
            self_test = false;
        else if (strcmp(argv[i], "crash-at-start") == 0)
            crash_at_start = true;
        else
            name = argv[i];
    }
    struct edu *e = &edu;
    if (info->cap_count < 1 || !info->caps[0]) {
        printf("edu: started without a device capability in caps[0]\n");
        return 1;
    }
    long r = wd_driver_init(&e->driver, info->caps[0], info->pool);
    if (r < 0)
        return fail("cannot give the device a DMA space (dmaspace_create + dma_attach)", r);
    const struct wd_device_info *dev = &e->driver.info;
    unsigned bus = WD_PCI_BUS(dev->address), slot = WD_PCI_DEV(dev->address), fn = WD_PCI_FN(dev->address);
    if (dev->vendor_id != EDU_VENDOR_ID || dev->device_id != EDU_DEVICE_ID) {
        printf("edu: caps[0] is %02x:%02x.%x, a %04x:%04x device, not an edu device (%04x:%04x)\n", bus, slot, fn,
               dev->vendor_id, dev->device_id, EDU_VENDOR_ID, EDU_DEVICE_ID);
        return 1;
    }
    r = wd_driver_bar_map(&e->driver, 0, &e->regs, &e->regs_size);
    if (r < 0)
        return fail("cannot map BAR0", r);
    uint32_t id = edu_read_id(e);
    if (id != EDU_ID_VALUE) {
        printf("edu: %02x:%02x.%x: ID register reads 0x%08x, expected 0x%08x\n", bus, slot, fn, id, EDU_ID_VALUE);
        return 1;
    }
    /* A transfer the previous owner started may still be running. With bus
     * mastering off it cannot land; once on, it would land in this driver's
     * domain, at an IOVA the old driver chose. So wait for it first. */
    uint64_t waited = 0;
    r = edu_wait_idle(e, EDU_IDLE_TIMEOUT_NS, &waited);
    if (r < 0)
        return fail("the device is still busy with its previous owner's work", r);
    if (waited)
        printf("edu: %02x:%02x.%x: waited %llu ms for the previous owner's transfer to end before enabling bus "
               "mastering\n", bus, slot, fn, (unsigned long long)(waited / 1000000));
    r = wd_driver_enable(&e->driver);
    if (r < 0)
        return fail("cannot enable memory decode and bus mastering", r);
    r = wd_dma_alloc(&e->driver, WD_PAGE_SIZE, WD_RIGHT_READ | WD_RIGHT_WRITE, &e->buffer);
    if (r < 0)
        return fail("cannot allocate its DMA buffer", r);
    if (open_interrupts(e, force_intx) != 0 || create_endpoint(e) != 0)
        return 1;
    r = wd_sessions_init(&e->sessions, &e->driver, e->endpoint, EDU_NOTIFY_BADGE);
    if (r < 0)
        return fail("cannot set up the data path's notification", r);
    if (self_test && !edu_self_test(e)) {
        printf("edu: %02x:%02x.%x: DMA self-test failed; not serving\n", bus, slot, fn);
        return 1;
    }
    if (crash_at_start) {
        printf("edu: crash-at-start: executing an invalid instruction\n");
        __builtin_trap();
    }
    if (wd_driver_register("edu", e->endpoint, EDU_CLIENT_BADGE, name) < 0)
        return 1;
    char interrupts[48];
    describe_interrupts(e, force_intx, interrupts, sizeof interrupts);
    printf("edu: %02x:%02x.%x ready: ID 0x%08x, BAR0 %llu KiB at 0x%llx, DMA buffer at IOVA 0x%llx, "
           "interrupts: %s, self-test %s; registered as \"%s\"\n",
           bus, slot, fn, id, (unsigned long long)(e->regs_size >> 10), (unsigned long long)(uintptr_t)e->regs,
           (unsigned long long)e->buffer.iova, interrupts, self_test ? "passed" : "skipped", name);
    return edu_serve(e);
}
