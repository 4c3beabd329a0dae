/*
 * hostile.h - the parts of the hostile driver (hostile_protocol.h says
 * what it is for): start-up and the request loop (main.c), what it makes
 * its device do (device_ops.c) and what it asks the kernel for
 * (authority_ops.c) share struct hostile.
 */
#ifndef WARDEN_HOSTILE_H
#define WARDEN_HOSTILE_H

#include <warden/driver.h>

#include "hostile_protocol.h"

struct hostile {
    struct wd_driver driver;
    volatile void *regs;            /* BAR0, mapped at start-up and kept whatever happens */
    uint64_t regs_size;
    wd_handle_t bar_frame;          /* a BAR0 frame capability, kept for HOSTILE_OP_STALE_MAP */
    struct wd_dma_buffer page;      /* its own page (device may read it): what HOSTILE_OP_LOAD sends */
    struct wd_driver_irq irq;
    wd_handle_t endpoint;           /* requests, and the device's DMA faults */
    uint64_t faults_told;           /* DMA faults the kernel reported to this endpoint */
    wd_handle_t adopted[HOSTILE_MAX_ADOPTED + 1];   /* [0] its own device; then HOSTILE_OP_ADOPT's */
    unsigned adopted_count;
    uint64_t next_vaddr;            /* fresh CPU addresses for BAR mappings */
};

/* One operation each: the request's words and capabilities in req; the
 * reply's w0 is the return value, out[0..5] its w1..w6 (zeroed before). */

/* device_ops.c: HOSTILE_OP_MAP, UNMAP, LOAD, DMA, RAISE, STALE_MAP, STALE_DMA, READ_ID. */
long hostile_map(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_unmap(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_load(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_dma(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_raise(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_stale_map(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_stale_dma(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_read_id(struct hostile *h, const struct wd_msg *req, uint64_t *out);
/* A transfer between the device's buffer and iova, waited for by polling
 * (no interrupt: the driver's irq is kept for HOSTILE_OP_RAISE). */
long hostile_transfer(volatile void *regs, uint64_t iova, uint64_t bytes, bool to_ram);

/* authority_ops.c: HOSTILE_OP_CONFIG_WRITE, ADOPT, BAR_MAP, OPEN_DEVICES,
 * ESCALATE, BUS_MASTER, GIVE_UP, SPIN_THREAD. */
long hostile_config_write(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_adopt(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_bar_map(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_open_devices(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_escalate(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_bus_master(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_give_up(struct hostile *h, const struct wd_msg *req, uint64_t *out);
long hostile_spin_thread(struct hostile *h, const struct wd_msg *req, uint64_t *out);

#endif
