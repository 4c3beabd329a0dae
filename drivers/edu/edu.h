/*
 * edu.h - the parts of the edu driver: the device operations (edu_device.c),
 * the request loop (serve.c) and start-up (main.c) share struct edu.
 */
#ifndef WARDEN_EDU_H
#define WARDEN_EDU_H

#include <warden/driver.h>

#include "edu_protocol.h"

#define EDU_FAULT_BADGE  0xD0A         /* DMA fault messages from the kernel */
#define EDU_NOTIFY_BADGE 0xDA7A        /* data-path sessions: requests published, leases ended */
#define EDU_CLIENT_BADGE 0xC11         /* the endpoint capability clients get from the registry */
#define EDU_IRQ_TIMEOUT_NS (3000ull * 1000 * 1000) /* 3 s for an interrupt; a transfer takes 100 ms */
#define EDU_IDLE_TIMEOUT_NS (1000ull * 1000 * 1000) /* a predecessor's transfer ends within 100 ms */

struct edu {
    struct wd_driver driver;
    volatile void *regs;            /* BAR0 */
    uint64_t regs_size;
    struct wd_dma_buffer buffer;    /* 4 KiB the device may read and write: the self-test's */
    wd_handle_t endpoint;           /* requests (EDU_CLIENT_BADGE) and DMA faults (EDU_FAULT_BADGE) */
    struct wd_driver_irq irq;       /* factorial-done and DMA-done arrive here (MSI, or INTx) */
    struct wd_session_table sessions;   /* clients' data paths (datapath.c) */
    uint64_t stats[EDU_STAT_WORDS]; /* indexed by enum edu_stat */
};

/* Device operations; each checks its arguments before touching the device. */
uint32_t edu_read_id(struct edu *e);
uint32_t edu_liveness(struct edu *e, uint32_t value);
/* Waits until the device computes nothing and runs no transfer (a dead
 * predecessor's may still be running: edu has no reset): 0 with the time
 * it took in *waited_ns, or -WD_E_BUSY after timeout_ns. */
long edu_wait_idle(struct edu *e, uint64_t timeout_ns, uint64_t *waited_ns);
/* n! (>= 0), or -WD_E_INVALID_ARG (n > EDU_FACTORIAL_MAX), -BUSY, -TIMEOUT
 * (no factorial-done interrupt within EDU_IRQ_TIMEOUT_NS). */
long edu_factorial(struct edu *e, uint32_t n);
/* One DMA transfer between the device buffer at device_offset and RAM at
 * iova, waiting for its DMA-done interrupt. 0, or -INVALID_ARG / -RANGE
 * (bad length, offset or IOVA), -BUSY (a transfer is running), -TIMEOUT. */
long edu_dma(struct edu *e, bool to_device, uint64_t iova, uint64_t device_offset, uint64_t length);
/* edu_dma without the IOVA check against the device's DMA mask (attack.c: the
 * shell's demonstrations, which aim where a driver must not). */
long edu_dma_unchecked(struct edu *e, bool to_device, uint64_t iova, uint64_t device_offset, uint64_t length);
/* attack.c: EDU_OP_ATTACK; reply words from w1 into msg, *words counts them with w0. */
long edu_attack(struct edu *e, struct wd_msg *msg, unsigned *words);
/* A round trip RAM -> device -> RAM through e->buffer; false (after printing
 * what went wrong) when the data did not come back. */
bool edu_self_test(struct edu *e);

/* Serves requests and DMA fault messages on e->endpoint; returns the exit status. */
int edu_serve(struct edu *e);

/* datapath.c: the session table's WD_LABEL_NOTIFY bits: runs the requests
 * of every session that has some, fails those of sessions whose client
 * took its region back. */
void edu_datapath_notified(struct edu *e, uint64_t bits);

#endif
