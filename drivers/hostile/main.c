/*
 * hostile - a driver for QEMU's edu device that tries, on request, every
 * escape a compromised driver has (hostile_protocol.h). Started by a test
 * as "hostile NAME" with:
 *   start info caps[0]  its device capability (an edu device)
 *   start info pool     its own sub-pool
 *   start info registry SEND to the name registry: it registers as NAME
 * Start-up is an ordinary driver's: libdriver (dmaspace + attach), BAR0,
 * memory decode and bus mastering, one page of its own the device may
 * read, its interrupt (MSI, or INTx where MSI is unavailable) and an
 * endpoint that also gets the device's DMA faults. Then it serves
 * requests on that endpoint until it is killed. It checks nothing on the
 * test's behalf: every reply is what the kernel or the device said.
 */
#include <stdio.h>
#include <string.h>
#include <warden/registry.h>
#include <warden/syscalls.h>

#include "edu_regs.h"
#include "hostile.h"

#define FAULT_BADGE 0xFA17
#define CLIENT_BADGE 0xBAD
#define BAR_VADDR_BASE 0x0000520000000000ull  /* above libc's thread stacks */

static struct hostile hostile;

static int fail(const char *what, long error)
{
    printf("hostile: %s: %s\n", what, wd_error_name(error));
    return 1;
}

static int start(struct hostile *h)
{
    long r = wd_driver_init(&h->driver, wd_start_info->caps[0], wd_start_info->pool);
    if (r < 0)
        return fail("dmaspace_create + dma_attach", r);
    h->adopted[0] = h->driver.device;
    h->next_vaddr = BAR_VADDR_BASE;
    r = wd_driver_bar_map(&h->driver, 0, &h->regs, &h->regs_size);
    if (r < 0)
        return fail("cannot map BAR0", r);
    long frame = wd_device_bar_frame(h->driver.device, 0);
    if (frame < 0)
        return fail("device_bar_frame", frame);
    h->bar_frame = (wd_handle_t)frame;
    if (wd_mmio_read32(h->regs, EDU_REG_ID) != 0x010000EDu)
        return fail("not an edu device", -WD_E_INVALID_ARG);
    r = wd_driver_enable(&h->driver);
    if (r == 0)
        r = wd_dma_alloc(&h->driver, WD_PAGE_SIZE, WD_RIGHT_READ, &h->page);
    if (r == 0)
        r = wd_driver_irq_open(&h->driver, 0, &h->irq);
    if (r == 0)
        r = wd_driver_endpoint(&h->driver, FAULT_BADGE, &h->endpoint);
    return r < 0 ? fail("start-up", r) : 0;
}

static long run(struct hostile *h, const struct wd_msg *msg, uint64_t *out)
{
    switch (wd_msg_label(msg->info)) {
    case HOSTILE_OP_MAP:
        return hostile_map(h, msg, out);
    case HOSTILE_OP_UNMAP:
        return hostile_unmap(h, msg, out);
    case HOSTILE_OP_LOAD:
        return hostile_load(h, msg, out);
    case HOSTILE_OP_DMA:
        return hostile_dma(h, msg, out);
    case HOSTILE_OP_CONFIG_WRITE:
        return hostile_config_write(h, msg, out);
    case HOSTILE_OP_RAISE:
        return hostile_raise(h, msg, out);
    case HOSTILE_OP_ADOPT:
        return hostile_adopt(h, msg, out);
    case HOSTILE_OP_BAR_MAP:
        return hostile_bar_map(h, msg, out);
    case HOSTILE_OP_OPEN_DEVICES:
        return hostile_open_devices(h, msg, out);
    case HOSTILE_OP_ESCALATE:
        return hostile_escalate(h, msg, out);
    case HOSTILE_OP_BUS_MASTER:
        return hostile_bus_master(h, msg, out);
    case HOSTILE_OP_GIVE_UP:
        return hostile_give_up(h, msg, out);
    case HOSTILE_OP_STALE_MAP:
        return hostile_stale_map(h, msg, out);
    case HOSTILE_OP_STALE_DMA:
        return hostile_stale_dma(h, msg, out);
    case HOSTILE_OP_READ_ID:
        return hostile_read_id(h, msg, out);
    case HOSTILE_OP_SPIN_THREAD:
        return hostile_spin_thread(h, msg, out);
    default:
        return -WD_E_NOT_SUPPORTED;
    }
}

int main(int argc, char **argv)
{
    struct hostile *h = &hostile;
    if (argc < 2 || wd_start_info->cap_count < 1)
        return fail("usage: hostile NAME, with an edu device in caps[0]", -WD_E_INVALID_ARG);
    if (start(h) != 0 || wd_driver_register("hostile", h->endpoint, CLIENT_BADGE, argv[1]) < 0)
        return 1;
    struct wd_msg msg;
    long r = wd_recv(h->endpoint, &msg, WD_FOREVER);
    while (r == 0) {
        if (msg.badge == FAULT_BADGE) {             /* a kernel message: no reply */
            if (wd_msg_label(msg.info) == WD_LABEL_DMA_FAULT)
                h->faults_told += msg.w[0] ? msg.w[0] : 1;
            r = wd_recv(h->endpoint, &msg, WD_FOREVER);
            continue;
        }
        uint32_t op = wd_msg_label(msg.info);
        uint64_t out[HOSTILE_REPLY_FAULTS - 1] = { 0 };
        long result = run(h, &msg, out);
        msg = (struct wd_msg){ .info = wd_msg_info(op, WD_MSG_WORDS, 0), .w = { (uint64_t)result } };
        memcpy(&msg.w[1], out, sizeof out);
        msg.w[HOSTILE_REPLY_FAULTS] = h->faults_told;
        r = wd_reply_recv(h->endpoint, &msg, WD_FOREVER);
    }
    return fail("receiving", r);
}
